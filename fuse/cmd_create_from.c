/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * cmd_create_from.c — `zfuse create --from DIR`: a new pool's root
 * filesystem becomes a copy of DIR, through the public write API only.
 *
 * What a copy keeps: every file type, permission bits with setuid, setgid
 * and sticky, owners, atime and mtime to the nanosecond, extended
 * attributes of every namespace the host lets us read, hard links (one
 * object, several names, as many links as the source has inside DIR), and
 * holes: only the data extents the source reports (SEEK_DATA/SEEK_HOLE)
 * are written, so holes stay holes. ctime cannot be copied in any
 * meaningful sense; it is the time of the copy, as with cp -a.
 *
 * Order matters for times: creating a name changes its directory's mtime,
 * so the walk is depth-first and a directory gets its own attributes only
 * after all its entries exist. Each object gets its attributes (mode,
 * owners, times) in one setattr after its data and xattrs are written, so
 * nothing later disturbs them. Mode and owners are set explicitly even
 * though create took them, because the library applies setgid-directory
 * inheritance as the kernel would.
 *
 * Errors split in two kinds. An entry that cannot be read (open, read,
 * readlink, xattr) or that the filesystem refuses (a name it cannot hold)
 * is reported with its path and skipped — a file whose read fails midway
 * is removed again rather than left half copied — and the walk goes on,
 * so one run shows every problem. A failure of the pool itself (out of
 * space, I/O) stops the walk. Either way the pool is synced and closed, so
 * it stays consistent, and the command exits 1.
 *
 * Progress: a first pass counts entries and bytes (st_size); while
 * copying, a bar on stderr shows both when stderr is a terminal; otherwise
 * a single summary line is printed at the end.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include "cmd.h"
#include "cmd_create_from.h"
#include "zfuse/crypt.h"
#include "zfuse/zfuse.h"

/* Big writes let the library fill whole records per call. */
#define COPY_CHUNK (1u << 20)
/* Linux's XATTR_SIZE_MAX and XATTR_LIST_MAX. */
#define XATTR_VALUE_MAX 65536
#define XATTR_NAMES_MAX 65536
#define PROGRESS_INTERVAL_NS 100000000L

/* (dev, ino) of a multiply linked source object -> its object in the pool. */
struct link_slot {
	dev_t dev;
	ino_t ino;
	uint64_t zino;	/* 0: empty slot */
};

struct copier {
	zfuse_fs_t *fs;
	char *buf;		/* COPY_CHUNK bytes: file data, xattr values */
	char *names;		/* XATTR_NAMES_MAX bytes: xattr name lists */

	struct link_slot *links;
	size_t nlinks, links_cap;	/* cap: a power of two */

	/* The pool's own image files, in case they live inside DIR. */
	struct { dev_t dev; ino_t ino; } *images;
	size_t nimages;

	uint64_t total_files, total_bytes, done_files, done_bytes;
	uint64_t copied, copied_bytes;	/* entries that made it, their st_size */
	bool tty;
	bool bar_shown;
	bool warned_acl;	/* said once that ACLs need acltype=posix */
	struct timespec last_draw;

	unsigned nerrors;	/* entries that could not be copied */
	int pool_error;		/* ZFUSE_E_* that stopped the walk, or 0 */
};

/* ---- messages and progress ------------------------------------------- */

static void bar_clear(struct copier *c)
{
	if (c->bar_shown) {
		fputs("\r\033[K", stderr);
		c->bar_shown = false;
	}
}

static void say(struct copier *c, const char *fmt, ...)
{
	bar_clear(c);
	va_list ap;
	va_start(ap, fmt);
	fputs("zfuse create: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void fmt_bytes(char *out, size_t cap, uint64_t b)
{
	static const char units[] = "KMGTPE";
	if (b < 1024) {
		snprintf(out, cap, "%llu B", (unsigned long long)b);
		return;
	}
	double v = (double)b / 1024;
	int u = 0;
	while (v >= 1024 && units[u + 1]) {
		v /= 1024;
		u++;
	}
	snprintf(out, cap, "%.1f %ciB", v, units[u]);
}

static void progress(struct copier *c, bool force)
{
	if (!c->tty)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long elapsed = (now.tv_sec - c->last_draw.tv_sec) * 1000000000L +
		       (now.tv_nsec - c->last_draw.tv_nsec);
	if (!force && c->bar_shown && elapsed < PROGRESS_INTERVAL_NS)
		return;
	c->last_draw = now;
	/* The tree may have grown since it was counted. */
	uint64_t tb = c->total_bytes > c->done_bytes ? c->total_bytes : c->done_bytes;
	uint64_t tf = c->total_files > c->done_files ? c->total_files : c->done_files;
	double frac = tb ? (double)c->done_bytes / (double)tb
			 : tf ? (double)c->done_files / (double)tf : 1.0;
	struct winsize ws;
	int cols = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col ? ws.ws_col : 80;
	char db[32], tbs[32], tail[128];
	fmt_bytes(db, sizeof(db), c->done_bytes);
	fmt_bytes(tbs, sizeof(tbs), tb);
	int tl = snprintf(tail, sizeof(tail), " %3d%%  %s / %s  %llu / %llu files",
			  (int)(frac * 100), db, tbs, (unsigned long long)c->done_files,
			  (unsigned long long)tf);
	int width = cols - 1 - tl - 2;
	if (width > 40)
		width = 40;
	fputc('\r', stderr);
	if (width >= 10) {
		int fill = (int)(frac * width);
		fputc('[', stderr);
		for (int i = 0; i < width; i++)
			fputc(i < fill ? '#' : ' ', stderr);
		fputc(']', stderr);
	}
	fputs(tail, stderr);
	fputs("\033[K", stderr);
	fflush(stderr);
	c->bar_shown = true;
}

/* ---- errors ---------------------------------------------------------- */

/* Failures of the pool as a whole, after which copying more is futile. */
static bool is_pool_failure(int rc)
{
	switch (-rc) {
	case ZFUSE_E_IO: case ZFUSE_E_CHECKSUM: case ZFUSE_E_CORRUPT:
	case ZFUSE_E_DECOMPRESS: case ZFUSE_E_NOMEM: case ZFUSE_E_NOSPC:
	case ZFUSE_E_ROFS:
		return true;
	default:
		return false;
	}
}

static void source_error(struct copier *c, const char *path, const char *what, int err)
{
	say(c, "%s: %s%s%s", path, what, what[0] ? ": " : "", strerror(err));
	c->nerrors++;
}

/* A library call failed for path: a per-entry error or the end of the walk. */
static int pool_error(struct copier *c, const char *path, const char *what, int rc)
{
	say(c, "%s: %s: %s", path, what, zfuse_strerror(rc));
	if (is_pool_failure(rc)) {
		c->pool_error = rc;
		return rc;
	}
	c->nerrors++;
	return 0;
}

/* ---- hard links ------------------------------------------------------ */

static size_t link_hash(dev_t dev, ino_t ino, size_t cap)
{
	uint64_t h = (uint64_t)ino * 0x9E3779B97F4A7C15ull ^ (uint64_t)dev * 0xC2B2AE3D27D4EB4Full;
	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static uint64_t link_find(const struct copier *c, const struct stat *st)
{
	if (!c->links_cap)
		return 0;
	for (size_t i = link_hash(st->st_dev, st->st_ino, c->links_cap);;
	     i = (i + 1) & (c->links_cap - 1)) {
		const struct link_slot *s = &c->links[i];
		if (!s->zino)
			return 0;
		if (s->dev == st->st_dev && s->ino == st->st_ino)
			return s->zino;
	}
}

static int link_add(struct copier *c, const struct stat *st, uint64_t zino)
{
	if ((c->nlinks + 1) * 2 > c->links_cap) {
		size_t ncap = c->links_cap ? c->links_cap * 2 : 256;
		struct link_slot *n = calloc(ncap, sizeof(*n));
		if (!n)
			return -ZFUSE_E_NOMEM;
		for (size_t i = 0; i < c->links_cap; i++) {
			struct link_slot *s = &c->links[i];
			if (!s->zino)
				continue;
			size_t j = link_hash(s->dev, s->ino, ncap);
			while (n[j].zino)
				j = (j + 1) & (ncap - 1);
			n[j] = *s;
		}
		free(c->links);
		c->links = n;
		c->links_cap = ncap;
	}
	size_t i = link_hash(st->st_dev, st->st_ino, c->links_cap);
	while (c->links[i].zino)
		i = (i + 1) & (c->links_cap - 1);
	c->links[i] = (struct link_slot){ st->st_dev, st->st_ino, zino };
	c->nlinks++;
	return 0;
}

static bool is_image(const struct copier *c, const struct stat *st)
{
	for (size_t i = 0; i < c->nimages; i++)
		if (c->images[i].dev == st->st_dev && c->images[i].ino == st->st_ino)
			return true;
	return false;
}

/* ---- reading the source ---------------------------------------------- */

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **v, size_t n)
{
	while (n)
		free(v[--n]);
	free(v);
}

/* Names in directory dfd (not "." or ".."), sorted so that object numbers
 * follow name order and a copy is reproducible. dfd stays open. Returns
 * NULL with *err set on failure. */
static char **read_names(int dfd, size_t *count, int *err)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		*err = errno;
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	size_t n = 0, cap = 16;
	char **v = malloc(cap * sizeof(*v));
	if (!v)
		goto nomem;
	struct dirent *de;
	for (errno = 0; (de = readdir(d)) != NULL; errno = 0) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			char **nv = realloc(v, cap * 2 * sizeof(*v));
			if (!nv)
				goto nomem;
			v = nv;
			cap *= 2;
		}
		if (!(v[n] = strdup(de->d_name)))
			goto nomem;
		n++;
	}
	*err = errno;
	closedir(d);
	if (*err) {
		free_names(v, n);
		return NULL;
	}
	qsort(v, n, sizeof(*v), name_cmp);
	*count = n;
	return v;
nomem:
	closedir(d);
	if (v)
		free_names(v, n);
	*err = ENOMEM;
	return NULL;
}

static char *join(const char *dir, const char *name)
{
	char *p;
	return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

/* The first pass: how many entries and bytes the bar counts up to. Errors
 * are left for the copy pass to report. Hard links count once per name,
 * as the copy pass advances per name too. */
static void count_tree(struct copier *c, int dfd)
{
	size_t n;
	int err;
	char **names = read_names(dfd, &n, &err);
	if (!names)
		return;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0 || is_image(c, &st))
			continue;
		c->total_files++;
		if (S_ISREG(st.st_mode))
			c->total_bytes += (uint64_t)st.st_size;
		if (S_ISDIR(st.st_mode)) {
			int fd = openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0) {
				count_tree(c, fd);
				close(fd);
			}
		}
	}
	free_names(names, n);
}

/* ---- copying one object ---------------------------------------------- */

/*
 * Extended attributes of the source (fd when we have one open, else path
 * without following a symlink) onto zino. Returns a pool failure (< 0) or
 * 0; unreadable attributes are reported and counted.
 */
static int copy_xattrs(struct copier *c, int fd, const char *path, uint64_t zino)
{
	ssize_t len = fd >= 0 ? flistxattr(fd, c->names, XATTR_NAMES_MAX)
			      : llistxattr(path, c->names, XATTR_NAMES_MAX);
	if (len < 0) {
		if (errno != ENOTSUP)
			source_error(c, path, "cannot list extended attributes", errno);
		return 0;
	}
	for (ssize_t off = 0; off < len; off += (ssize_t)strlen(c->names + off) + 1) {
		const char *name = c->names + off;
		ssize_t vl = fd >= 0 ? fgetxattr(fd, name, c->buf, XATTR_VALUE_MAX)
				     : lgetxattr(path, name, c->buf, XATTR_VALUE_MAX);
		if (vl < 0) {
			if (errno != ENODATA) {	/* ENODATA: removed since listed */
				char what[300];
				snprintf(what, sizeof(what), "cannot read extended attribute %s", name);
				source_error(c, path, what, errno);
			}
			continue;
		}
		if (!c->warned_acl && !strncmp(name, "system.posix_acl_", 17)) {
			/* zfuse keeps them, but the pool cannot be made with
			 * acltype=posix, and OpenZFS hides them without it. */
			say(c, "warning: %s: POSIX ACLs are copied as plain extended attributes; "
			    "OpenZFS applies them only after zfs set acltype=posix", path);
			c->warned_acl = true;
		}
		int rc = zfuse_setxattr(c->fs, zino, name, c->buf, (size_t)vl, 0);
		if (rc < 0) {
			char what[300];
			snprintf(what, sizeof(what), "extended attribute %s", name);
			if ((rc = pool_error(c, path, what, rc)) < 0)
				return rc;
		}
	}
	return 0;
}

/* The source's owners, mode and times onto zino, last of all its changes;
 * a regular file also gets its size (a hole at its end is no extent). */
static int set_attrs(struct copier *c, const char *path, uint64_t zino, const struct stat *st)
{
	struct zfuse_setattr a = {
		.valid = ZFUSE_SET_UID | ZFUSE_SET_GID | ZFUSE_SET_ATIME | ZFUSE_SET_MTIME,
		.uid = st->st_uid, .gid = st->st_gid,
		.atime = st->st_atim, .mtime = st->st_mtim,
	};
	/* A symlink's mode is always 0777; the rest keep theirs. */
	if (!S_ISLNK(st->st_mode)) {
		a.valid |= ZFUSE_SET_MODE;
		a.mode = st->st_mode & 07777;
	}
	if (S_ISREG(st->st_mode)) {
		a.valid |= ZFUSE_SET_SIZE;
		a.size = (uint64_t)st->st_size;
	}
	int rc = zfuse_setattr(c->fs, zino, &a, NULL);
	return rc < 0 ? pool_error(c, path, "cannot set attributes", rc) : 0;
}

/*
 * The data extents of open file fd into zino, 1 MiB per write; holes are
 * skipped. Returns 0, 1 (the file could not be copied; reported) or a
 * pool failure (< 0).
 */
static int copy_data(struct copier *c, int fd, const char *path, uint64_t zino,
		     const struct stat *st)
{
	uint64_t start = c->done_bytes;
	off_t size = st->st_size, off = 0;
	bool seek_data = true;
	while (off < size) {
		off_t data = off, hole = size;
		if (seek_data) {
			data = lseek(fd, off, SEEK_DATA);
			if (data < 0 && errno == ENXIO)
				break;		/* the rest is a hole */
			if (data < 0 && (errno == EINVAL || errno == ENOTSUP || errno == ESPIPE)) {
				seek_data = false;	/* no hole reporting here: all data */
				data = off;
			} else if (data < 0) {
				source_error(c, path, "cannot find data", errno);
				return 1;
			} else {
				hole = lseek(fd, data, SEEK_HOLE);
				if (hole < 0 || hole > size)
					hole = size;
			}
		}
		if (data >= size)
			break;
		c->done_bytes += (uint64_t)(data - off);
		for (off_t p = data; p < hole;) {
			size_t want = hole - p < (off_t)COPY_CHUNK ? (size_t)(hole - p) : COPY_CHUNK;
			ssize_t r = pread(fd, c->buf, want, p);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				source_error(c, path, "read error", errno);
				return 1;
			}
			if (r == 0) {	/* shrunk since stat: the rest stays a hole */
				hole = size;
				break;
			}
			ssize_t w = zfuse_write(c->fs, zino, c->buf, (size_t)r, (uint64_t)p);
			if (w < 0) {
				int rc = pool_error(c, path, "write", (int)w);
				return rc < 0 ? rc : 1;
			}
			p += r;
			c->done_bytes += (uint64_t)r;
			progress(c, false);
		}
		off = hole;
	}
	c->done_bytes = start + (uint64_t)size;
	return 0;
}

static int open_for_reading(int dfd, const char *name)
{
	/* O_NOATIME keeps the source's atimes as they were; only the owner
	 * (or CAP_FOWNER) may ask for it. */
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	return fd;
}

static int copy_dir_contents(struct copier *c, int dfd, const char *path, uint64_t zdir);

/* A regular file: created only once its source is open, removed again if
 * its data cannot be read, so the pool never holds a half copy. */
static int copy_file(struct copier *c, int dfd, const char *name, const char *path,
		     uint64_t zdir, const struct stat *st, uint64_t *zino)
{
	int fd = open_for_reading(dfd, name);
	if (fd < 0) {
		source_error(c, path, "cannot open", errno);
		return 1;
	}
	int rc = zfuse_create(c->fs, zdir, name, st->st_mode & 07777, st->st_uid, st->st_gid,
			      zino, NULL);
	if (rc < 0) {
		rc = pool_error(c, path, "cannot create", rc);
		close(fd);
		return rc < 0 ? rc : 1;
	}
	rc = copy_data(c, fd, path, *zino, st);
	if (rc == 0)
		rc = copy_xattrs(c, fd, path, *zino);
	close(fd);
	if (rc != 0) {
		/* Also after a pool failure: removing is allowed when full. */
		int urc = zfuse_unlink(c->fs, zdir, name);
		if (urc == 0)
			urc = zfuse_forget(c->fs, *zino);
		if (urc < 0 && rc > 0 && pool_error(c, path, "cannot remove the partial copy", urc) < 0)
			return urc;
	}
	return rc;
}

/* A directory: its entries first, its own times after them. */
static int copy_dir(struct copier *c, int dfd, const char *name, const char *path,
		    uint64_t zdir, const struct stat *st, uint64_t *zino)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		source_error(c, path, "cannot open directory", errno);
		return 1;
	}
	int rc = zfuse_mkdir(c->fs, zdir, name, st->st_mode & 07777, st->st_uid, st->st_gid,
			     zino, NULL);
	if (rc < 0) {
		rc = pool_error(c, path, "cannot create", rc);
		close(fd);
		return rc < 0 ? rc : 1;
	}
	rc = copy_xattrs(c, fd, path, *zino);
	if (rc == 0)
		rc = copy_dir_contents(c, fd, path, *zino);
	close(fd);
	return rc;
}

static void count_copied(struct copier *c, const struct stat *st)
{
	c->copied++;
	if (S_ISREG(st->st_mode))
		c->copied_bytes += (uint64_t)st->st_size;
}

/* One directory entry of the source, whatever its type. Returns a pool
 * failure (< 0) or 0. */
static int copy_entry(struct copier *c, int dfd, const char *dpath, uint64_t zdir,
		      const char *name)
{
	char *path = join(dpath, name);
	if (!path) {
		c->pool_error = -ZFUSE_E_NOMEM;
		return c->pool_error;
	}
	struct stat st;
	int rc = 0;
	uint64_t zino = 0;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		source_error(c, path, "", errno);
		goto out;
	}
	if (is_image(c, &st)) {
		say(c, "%s: not copied: it is an image file of the new pool", path);
		goto out;
	}
	bool linked = !S_ISDIR(st.st_mode) && st.st_nlink > 1;
	if (linked && (zino = link_find(c, &st)) != 0) {
		if ((rc = zfuse_link(c->fs, zino, zdir, name, NULL)) < 0)
			rc = pool_error(c, path, "cannot link", rc);
		else
			count_copied(c, &st);
		if (S_ISREG(st.st_mode))
			c->done_bytes += (uint64_t)st.st_size;
		goto out;
	}
	switch (st.st_mode & S_IFMT) {
	case S_IFREG:
		rc = copy_file(c, dfd, name, path, zdir, &st, &zino);
		break;
	case S_IFDIR:
		rc = copy_dir(c, dfd, name, path, zdir, &st, &zino);
		break;
	case S_IFLNK: {
		/* st_size is the target's length, except on filesystems (procfs)
		 * that report 0: read into the big buffer and check it fit. */
		ssize_t len = readlinkat(dfd, name, c->buf, COPY_CHUNK);
		if (len < 0 || len == COPY_CHUNK) {
			source_error(c, path, "cannot read link", len < 0 ? errno : ENAMETOOLONG);
			rc = 1;
			break;
		}
		c->buf[len] = '\0';
		if ((rc = zfuse_symlink(c->fs, zdir, name, c->buf, st.st_uid, st.st_gid, &zino,
					NULL)) < 0) {
			rc = pool_error(c, path, "cannot create", rc);
			rc = rc < 0 ? rc : 1;
			break;
		}
		rc = copy_xattrs(c, -1, path, zino);
		break;
	}
	case S_IFIFO: case S_IFSOCK: case S_IFCHR: case S_IFBLK:
		if ((rc = zfuse_mknod(c->fs, zdir, name, st.st_mode & (S_IFMT | 07777), st.st_rdev,
				      st.st_uid, st.st_gid, &zino, NULL)) < 0) {
			rc = pool_error(c, path, "cannot create", rc);
			rc = rc < 0 ? rc : 1;
			break;
		}
		/* Opening a device or FIFO could block or act: xattrs by path. */
		rc = copy_xattrs(c, -1, path, zino);
		break;
	default:
		say(c, "%s: not copied: unknown file type %#o", path, st.st_mode & S_IFMT);
		c->nerrors++;
		rc = 1;
	}
	if (rc == 0)
		rc = set_attrs(c, path, zino, &st);
	if (rc == 0 && linked && link_add(c, &st, zino) < 0)
		rc = c->pool_error = -ZFUSE_E_NOMEM;
	if (rc == 0)
		count_copied(c, &st);
out:
	c->done_files++;
	progress(c, false);
	free(path);
	return rc < 0 ? rc : 0;
}

static int copy_dir_contents(struct copier *c, int dfd, const char *path, uint64_t zdir)
{
	size_t n;
	int err;
	char **names = read_names(dfd, &n, &err);
	if (!names) {
		source_error(c, path, "cannot read directory", err);
		return 0;
	}
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = copy_entry(c, dfd, path, zdir, names[i]);
	free_names(names, n);
	return rc;
}

/* ---- the command ----------------------------------------------------- */

int create_from_check(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "zfuse create: --from %s: %s\n", dir, strerror(errno));
		return ZF_EXIT_FAIL;
	}
	close(fd);
	return ZF_EXIT_OK;
}

static void log_stderr(void *arg, int level, const char *msg)
{
	struct copier *c = arg;
	bar_clear(c);
	fprintf(stderr, "zfuse create: %s%s\n", level == ZFUSE_LOG_ERROR ? "" : "warning: ", msg);
}

/* The vdev words minus the grammar's keywords: the files to import from. */
static bool is_vdev_keyword(const char *w)
{
	static const char *const kw[] = { "mirror", "raidz", "raidz1", "raidz2", "raidz3" };
	for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
		if (!strcmp(w, kw[i]))
			return true;
	return false;
}

int create_from_fill(const struct zfuse_create_opts *o, const char *dir)
{
	struct copier c = { .tty = isatty(STDERR_FILENO) };
	zfuse_pool_t *pool = NULL;
	int status = ZF_EXIT_FAIL, rc;
	const char **paths = calloc(o->nvdev_args ? o->nvdev_args : 1, sizeof(*paths));
	c.images = calloc(o->nvdev_args ? o->nvdev_args : 1, sizeof(*c.images));
	c.buf = malloc(COPY_CHUNK + 1);
	c.names = malloc(XATTR_NAMES_MAX);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat root_st;
	if (dfd < 0 || fstat(dfd, &root_st) != 0) {
		fprintf(stderr, "zfuse create: --from %s: %s\n", dir, strerror(errno));
		goto out;
	}
	if (!paths || !c.images || !c.buf || !c.names) {
		fprintf(stderr, "zfuse create: out of memory\n");
		goto out;
	}
	size_t npaths = 0;
	for (size_t i = 0; i < o->nvdev_args; i++) {
		if (is_vdev_keyword(o->vdev_args[i]))
			continue;
		paths[npaths++] = o->vdev_args[i];
		struct stat st;
		if (stat(o->vdev_args[i], &st) == 0 && S_ISREG(st.st_mode)) {
			c.images[c.nimages].dev = st.st_dev;
			c.images[c.nimages++].ino = st.st_ino;
		}
	}
	struct zfuse_import_opts io = {
		.paths = paths, .npaths = npaths, .pool_name = o->name, .readwrite = true,
		.log = log_stderr, .log_arg = &c, .log_level = ZFUSE_LOG_WARN,
	};
	if ((rc = zfuse_pool_import(&io, &pool)) < 0) {
		fprintf(stderr, "zfuse create: cannot import the new pool %s: %s\n", o->name,
			zfuse_strerror(rc));
		pool = NULL;
		goto out;
	}
	if (!zfuse_pool_writable(pool)) {
		const char *why = zfuse_pool_readonly_reason(pool);
		fprintf(stderr, "zfuse create: the new pool %s cannot be written: %s\n", o->name,
			why ? why : "(no reason given)");
		goto out;
	}
	/* An encrypted root: the key it was made with. */
	if (o->key_material && (rc = zfuse_key_load(pool, o->name, o->key_material, o->key_len)) < 0) {
		fprintf(stderr, "zfuse create: cannot load the key of %s: %s\n", o->name,
			zfuse_strerror(rc));
		goto out;
	}
		if ((rc = zfuse_fs_open(pool, o->name, &c.fs)) < 0) {
		fprintf(stderr, "zfuse create: cannot open %s: %s\n", o->name, zfuse_strerror(rc));
		c.fs = NULL;
		goto out;
	}
	count_tree(&c, dfd);
	progress(&c, true);
	uint64_t root = zfuse_fs_root(c.fs);
	rc = copy_xattrs(&c, dfd, dir, root);
	if (rc == 0)
		rc = copy_dir_contents(&c, dfd, dir, root);
	if (rc == 0)
		set_attrs(&c, dir, root, &root_st);
	progress(&c, true);
	bar_clear(&c);
	/* Whatever happened, what was written reaches the disk consistently. */
	if ((rc = zfuse_fs_sync(c.fs)) < 0) {
		fprintf(stderr, "zfuse create: cannot write pool %s: %s\n", o->name, zfuse_strerror(rc));
		c.pool_error = rc;
	}
	char bytes[32];
	fmt_bytes(bytes, sizeof(bytes), c.copied_bytes);
	fprintf(stderr, "zfuse create: copied %llu file%s, %s from %s", (unsigned long long)c.copied,
		c.copied == 1 ? "" : "s", bytes, dir);
	if (c.nerrors)
		fprintf(stderr, "; %u error%s", c.nerrors, c.nerrors == 1 ? "" : "s");
	if (c.pool_error)
		fprintf(stderr, "; stopped early: %s", zfuse_strerror(c.pool_error));
	fputc('\n', stderr);
	status = c.nerrors || c.pool_error ? ZF_EXIT_FAIL : ZF_EXIT_OK;
out:
	if (c.fs)
		zfuse_fs_close(c.fs);
	if (pool) {
		if (zfuse_pool_writable(pool) && (rc = zfuse_pool_sync(pool)) < 0) {
			fprintf(stderr, "zfuse create: cannot write pool %s: %s\n", o->name,
				zfuse_strerror(rc));
			status = ZF_EXIT_FAIL;
		}
		zfuse_pool_close(pool);
	}
	if (dfd >= 0)
		close(dfd);
	free(paths);
	free(c.images);
	free(c.buf);
	free(c.names);
	free(c.links);
	return status;
}
