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
	bool tty;
	bool bar_shown;
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

/* ---- counting pass --------------------------------------------------- */

/* Names of directory dfd (not "." or ".."), sorted so that object numbers
 * follow name order: the copy is reproducible. dfd stays open. */
static char **read_names(int dfd, size_t *count, int *err)
{
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		*err = errno;
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	rewinddir(d);
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				goto nomem;
			v = nv;
		}
		if (!(v[n] = strdup(de->d_name)))
			goto nomem;
		n++;
		errno = 0;
	}
	*err = errno;
	closedir(d);
	if (*err) {
		while (n)
			free(v[--n]);
		free(v);
		return NULL;
	}
	if (n)
		qsort(v, n, sizeof(*v), (int (*)(const void *, const void *))strcmp_ptr);
	*count = n;
	if (!v)
		v = malloc(sizeof(*v));	/* an empty directory is not an error */
	return v;
nomem:
	closedir(d);
	while (n)
		free(v[--n]);
	free(v);
	*err = ENOMEM;
	return NULL;
}
