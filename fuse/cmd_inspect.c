/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * cmd_inspect.c — `zfuse inspect`: the command line over libzfuse's
 * inspector (zfuse/inspect.h) plus `cat` and `extract`, which copy files
 * out through the filesystem API with their metadata. Works without FUSE
 * and on pools that cannot be mounted.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include "cmd.h"
#include "cmd_key.h"
#include "zfuse/crypt.h"
#include "log.h"
#include "zfuse/inspect.h"
#include "zfuse/zfuse.h"

static const char *const whats[] = {
	"labels", "uberblocks", "pool", "datasets", "objects", "object", "block", "cat", "extract",
	"verify", "zil", NULL,
};

void cmd_inspect_usage(FILE *out)
{
	fputs("usage: zfuse inspect [--json] [-v...] [--txg N] [--rewind] [--pool NAME]\n"
	      "                     [--key LOCATION] [--keys FILE] IMAGE|DIR... WHAT [ARGS]\n"
	      "WHAT:\n"
	      "  labels                       every label of every device, with its config\n"
	      "  uberblocks                   every uberblock slot; which trees are intact\n"
	      "  pool                         config, vdev tree, features, properties, space\n"
	      "  datasets                     datasets, snapshots, bookmarks, clones\n"
	      "  objects DATASET              one row per object (DATASET \"mos\": the MOS)\n"
	      "  object DATASET OBJ|/PATH     one object: dnode, bonus, ZAP, block tree (-v)\n"
	      "  block VDEV:OFFSET:SIZE[:FLAGS]  a raw block (hex; FLAGS r=raw, d=decompress)\n"
	      "  cat DATASET[@SNAP] PATH      write a file's contents to stdout\n"
"  cat VOLUME                   write a volume's (zvol's) contents to stdout\n"
	      "  extract DATASET[@SNAP] PATH DEST  copy a file or tree out, metadata kept\n"
	      "  verify                       read and check every block and the space maps\n"
	      "  zil DATASET                  its intent log: header, blocks, records decoded\n"
	      "--key LOCATION loads the key of DATASET's encryption root (prompt or\n"
	      "file:///PATH) so cat, extract and object show an encrypted dataset in clear;\n"
	      "with verify, every root's key, so every MAC is checked (--keys FILE: lines\n"
	      "'ENCRYPTION_ROOT LOCATION', as the mount option keys=).\n",
	      out);
}

static bool is_what(const char *s)
{
	struct stat st;
	for (int i = 0; whats[i]; i++)
		if (!strcmp(s, whats[i]))
			return stat(s, &st) != 0;	/* a file of that name is an image */
	return false;
}

/* ---- progress bar ---- */

struct progress {
	struct timespec start;
	bool tty;
};

static void progress_cb(void *arg, uint64_t done, uint64_t total)
{
	struct progress *p = arg;
	if (!p->tty)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double secs = (double)(now.tv_sec - p->start.tv_sec) + (now.tv_nsec - p->start.tv_nsec) / 1e9;
	double rate = secs > 0 ? done / secs : 0;
	double frac = total ? (double)done / (double)total : 0;
	if (frac > 1)
		frac = 1;
	int width = 30, fill = (int)(frac * width);
	double eta = rate > 0 && total > done ? (total - done) / rate : 0;
	fprintf(stderr, "\r[%.*s%*s] %5.1f%%  %7.1f MiB/s  ETA %4.0fs ", fill,
		"##############################", width - fill, "", frac * 100, rate / (1 << 20), eta);
	fflush(stderr);
}

/* ---- cat / extract ---- */

static int resolve(zfuse_fs_t *fs, const char *path, uint64_t *ino)
{
	*ino = zfuse_fs_root(fs);
	char *copy = strdup(path), *save = NULL;
	int rc = 0;
	for (char *c = strtok_r(copy, "/", &save); c && rc == 0; c = strtok_r(NULL, "/", &save))
		rc = zfuse_lookup(fs, *ino, c, ino);
	free(copy);
	return rc;
}

static int copy_data(zfuse_fs_t *fs, uint64_t ino, uint64_t size, int fd, bool sparse)
{
	size_t bufsz = 1 << 20;
	char *buf = malloc(bufsz);
	if (!buf)
		return -ZFUSE_E_NOMEM;
	uint64_t off = 0;
	int rc = 0;
	while (off < size) {
		ssize_t n = zfuse_read(fs, ino, buf, bufsz, off);
		if (n <= 0) {
			rc = n < 0 ? (int)n : -ZFUSE_E_IO;
			break;
		}
		bool zero = sparse;
		for (ssize_t i = 0; zero && i < n; i++)
			zero = buf[i] == 0;
		if (zero) {
			off += (uint64_t)n;	/* leave a hole */
			continue;
		}
		if (sparse ? pwrite(fd, buf, (size_t)n, (off_t)off) != n : write(fd, buf, (size_t)n) != n) {
			rc = -ZFUSE_E_IO;
			break;
		}
		off += (uint64_t)n;
	}
	if (rc == 0 && sparse && ftruncate(fd, (off_t)size) != 0)
		rc = -ZFUSE_E_IO;
	free(buf);
	return rc;
}

struct link_seen {
	uint64_t ino;
	char *path;
};

struct extract_ctx {
	zfuse_fs_t *fs;
	struct link_seen *links;
	size_t nlinks, caplinks;
	int errors;
};

static void restore_meta(const char *dst, const struct stat *st, bool is_link)
{
	if (lchown(dst, st->st_uid, st->st_gid) != 0 && errno != EPERM)
		zf_log(ZFUSE_LOG_WARN, "%s: chown: %s", dst, strerror(errno));
	if (!is_link && chmod(dst, st->st_mode & 07777) != 0)
		zf_log(ZFUSE_LOG_WARN, "%s: chmod: %s", dst, strerror(errno));
	struct timespec ts[2] = { st->st_atim, st->st_mtim };
	if (utimensat(AT_FDCWD, dst, ts, AT_SYMLINK_NOFOLLOW) != 0)
		zf_log(ZFUSE_LOG_WARN, "%s: utimensat: %s", dst, strerror(errno));
}

static void copy_xattrs(struct extract_ctx *c, uint64_t ino, const char *dst)
{
	char names[65536];
	ssize_t n = zfuse_listxattr(c->fs, ino, names, sizeof(names));
	for (char *p = names; n > 0 && p < names + n; p += strlen(p) + 1) {
		static char val[1 << 16];
		ssize_t vl = zfuse_getxattr(c->fs, ino, p, val, sizeof(val));
		if (vl < 0 || lsetxattr(dst, p, val, (size_t)vl, 0) != 0) {
			zf_log(ZFUSE_LOG_WARN, "%s: xattr %s not copied", dst, p);
			c->errors++;
		}
	}
}

struct child {
	char *name;
	uint64_t ino;
};

struct child_list {
	struct child *v;
	size_t n, cap;
};

static int collect_child(void *arg, const char *name, uint64_t ino, unsigned dtype, uint64_t next)
{
	(void)dtype;
	(void)next;
	struct child_list *l = arg;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		struct child *nv = realloc(l->v, l->cap * sizeof(*nv));
		if (!nv)
			return -ZFUSE_E_NOMEM;
		l->v = nv;
	}
	l->v[l->n].name = strdup(name);
	l->v[l->n].ino = ino;
	l->n++;
	return 0;
}

static void extract(struct extract_ctx *c, uint64_t ino, const char *dst)
{
	struct stat st;
	int rc = zfuse_getattr(c->fs, ino, &st);
	if (rc) {
		zf_log(ZFUSE_LOG_ERROR, "%s: %s", dst, zfuse_strerror(rc));
		c->errors++;
		return;
	}
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
		for (size_t i = 0; i < c->nlinks; i++) {
			if (c->links[i].ino == ino) {
				if (link(c->links[i].path, dst) != 0) {
					zf_log(ZFUSE_LOG_ERROR, "%s: link: %s", dst, strerror(errno));
					c->errors++;
				}
				return;
			}
		}
		if (c->nlinks == c->caplinks) {
			c->caplinks = c->caplinks ? c->caplinks * 2 : 64;
			c->links = realloc(c->links, c->caplinks * sizeof(*c->links));
		}
		c->links[c->nlinks].ino = ino;
		c->links[c->nlinks].path = strdup(dst);
		c->nlinks++;
	}
	if (S_ISREG(st.st_mode)) {
		int fd = open(dst, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd < 0 || (rc = copy_data(c->fs, ino, (uint64_t)st.st_size, fd, true)) != 0) {
			zf_log(ZFUSE_LOG_ERROR, "%s: %s", dst, fd < 0 ? strerror(errno) : zfuse_strerror(rc));
			c->errors++;
		}
		if (fd >= 0)
			close(fd);
	} else if (S_ISDIR(st.st_mode)) {
		if (mkdir(dst, 0700) != 0 && errno != EEXIST) {
			zf_log(ZFUSE_LOG_ERROR, "%s: mkdir: %s", dst, strerror(errno));
			c->errors++;
			return;
		}
		struct child_list l = { 0 };
		if ((rc = zfuse_readdir(c->fs, ino, 0, collect_child, &l)) != 0) {
			zf_log(ZFUSE_LOG_ERROR, "%s: readdir: %s", dst, zfuse_strerror(rc));
			c->errors++;
		}
		for (size_t i = 0; i < l.n; i++) {
			char *p;
			if (asprintf(&p, "%s/%s", dst, l.v[i].name) > 0) {
				extract(c, l.v[i].ino, p);
				free(p);
			}
			free(l.v[i].name);
		}
		free(l.v);
	} else if (S_ISLNK(st.st_mode)) {
		char target[65536];
		ssize_t n = zfuse_readlink(c->fs, ino, target, sizeof(target));
		if (n < 0 || symlink(target, dst) != 0) {
			zf_log(ZFUSE_LOG_ERROR, "%s: symlink not restored", dst);
			c->errors++;
			return;
		}
	} else {
		if (mknod(dst, st.st_mode, st.st_rdev) != 0) {
			zf_log(ZFUSE_LOG_ERROR, "%s: mknod: %s", dst, strerror(errno));
			c->errors++;
			return;
		}
	}
	copy_xattrs(c, ino, dst);
	restore_meta(dst, &st, S_ISLNK(st.st_mode));
}

/* `cat VOLUME`: a zvol's contents. */
static int cat_volume(zfuse_pool_t *pool, const char *name)
{
	zfuse_volume_t *v;
	int rc = zfuse_volume_open(pool, name, &v);
	if (rc) {
		fprintf(stderr, "zfuse: %s: %s\n", name, zfuse_strerror(rc));
		return ZF_EXIT_FAIL;
	}
	size_t bufsz = 1 << 20;
	char *buf = malloc(bufsz);
	uint64_t off = 0;
	ssize_t n = 0;
	while (buf && (n = zfuse_volume_read(v, buf, bufsz, off)) > 0) {
		if (write(STDOUT_FILENO, buf, (size_t)n) != n) {
			n = -ZFUSE_E_IO;
			break;
		}
		off += (uint64_t)n;
	}
	free(buf);
	zfuse_volume_close(v);
	if (n < 0 || !buf) {
		fprintf(stderr, "zfuse: %s: %s\n", name, zfuse_strerror(buf ? (int)n : -ZFUSE_E_NOMEM));
		return ZF_EXIT_FAIL;
	}
	return ZF_EXIT_OK;
}

static int do_files(zfuse_pool_t *pool, const char *what, int argc, char **argv)
{
	if (!strcmp(what, "cat") && argc == 1)
		return cat_volume(pool, argv[0]);
	if (argc < (strcmp(what, "cat") ? 3 : 2)) {
		cmd_inspect_usage(stderr);
		return ZF_EXIT_USAGE;
	}
	zfuse_fs_t *fs;
	int rc = zfuse_fs_open(pool, argv[0], &fs);
	if (rc) {
		fprintf(stderr, "zfuse: %s: %s\n", argv[0], zfuse_strerror(rc));
		return ZF_EXIT_FAIL;
	}
	uint64_t ino;
	if ((rc = resolve(fs, argv[1], &ino)) != 0) {
		fprintf(stderr, "zfuse: %s: %s\n", argv[1], zfuse_strerror(rc));
		zfuse_fs_close(fs);
		return ZF_EXIT_FAIL;
	}
	int status = ZF_EXIT_OK;
	if (!strcmp(what, "cat")) {
		struct stat st;
		if ((rc = zfuse_getattr(fs, ino, &st)) == 0)
			rc = S_ISREG(st.st_mode) ? copy_data(fs, ino, (uint64_t)st.st_size, STDOUT_FILENO, false)
						 : -ZFUSE_E_INVAL;
		if (rc) {
			fprintf(stderr, "zfuse: %s: %s\n", argv[1], zfuse_strerror(rc));
			status = ZF_EXIT_FAIL;
		}
	} else {
		struct extract_ctx c = { fs, NULL, 0, 0, 0 };
		extract(&c, ino, argv[2]);
		for (size_t i = 0; i < c.nlinks; i++)
			free(c.links[i].path);
		free(c.links);
		if (c.errors) {
			fprintf(stderr, "zfuse: %d item(s) could not be extracted fully\n", c.errors);
			status = ZF_EXIT_FAIL;
		}
	}
	zfuse_fs_close(fs);
	return status;
}

int cmd_inspect(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "txg", required_argument, NULL, 't' },
		{ "rewind", no_argument, NULL, 'r' },
		{ "pool", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "key", required_argument, NULL, 'k' },
		{ "keys", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct zfuse_inspect_opts o = { .out = stdout };
	struct zfuse_import_opts io = { 0 };
	const char *keyloc = NULL, *keysfile = NULL;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "jt:rp:vk:K:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j': o.json = true; break;
		case 't': {
			char *end;
			io.txg = strtoull(optarg, &end, 0);
			if (*end || io.txg == 0) {
				fprintf(stderr, "zfuse inspect: bad --txg '%s'\n", optarg);
				return ZF_EXIT_USAGE;
			}
			break;
		}
		case 'r': io.rewind = true; break;
		case 'p': io.pool_name = optarg; break;
		case 'v': o.verbosity++; break;
		case 'k': keyloc = optarg; break;
		case 'K': keysfile = optarg; break;
		case 'h': cmd_inspect_usage(stdout); return ZF_EXIT_OK;
		default: cmd_inspect_usage(stderr); return ZF_EXIT_USAGE;
		}
	}
	int first = optind, w = first;
	while (w < argc && !is_what(argv[w]))
		w++;
	if (w >= argc || w == first) {
		fprintf(stderr, "zfuse inspect: %s\n", w == first ? "no image given" : "no WHAT given");
		cmd_inspect_usage(stderr);
		return ZF_EXIT_USAGE;
	}
	const char *what = argv[w];
	const char *const *paths = (const char *const *)argv + first;
	size_t npaths = (size_t)(w - first);
	int rest = argc - w - 1;
	char **args = argv + w + 1;
	zf_log_set_level(o.verbosity > 2 ? ZFUSE_LOG_DEBUG : o.verbosity > 1 ? ZFUSE_LOG_INFO : ZFUSE_LOG_WARN);
	io.paths = paths;
	io.npaths = npaths;
	io.log = zf_log_backend;
	io.log_level = zf_log_level();

	int rc;
	if (!strcmp(what, "labels")) {
		rc = zfuse_inspect_labels(paths, npaths, &o);
		return rc == 0 ? ZF_EXIT_OK : ZF_EXIT_FAIL;
	}
	zfuse_pool_t *pool = NULL;
	rc = zfuse_pool_import(&io, &pool);
	if (!strcmp(what, "uberblocks")) {
		if (rc)
			fprintf(stderr, "zfuse: pool does not import (%s); intact trees not checked\n",
				zfuse_strerror(rc));
		rc = zfuse_inspect_uberblocks(paths, npaths, pool, &o);
		zfuse_pool_close(pool);
		return rc == 0 ? ZF_EXIT_OK : ZF_EXIT_FAIL;
	}
	if (rc) {
		fprintf(stderr, "zfuse: cannot import: %s%s\n", zfuse_strerror(rc),
			io.rewind ? "" : " (try --rewind or --txg N; `inspect uberblocks` lists txgs)");
		return ZF_EXIT_FAIL;
	}
	int status = ZF_EXIT_OK;
	/* --key: the key of the named dataset's encryption root, so its
	 * contents show decrypted (cat, extract, object). */
	if ((keyloc || keysfile) && !strcmp(what, "verify")) {
		/* verify: every encryption root's key, from its line of the
		 * keys file, else from that location */
		if (zf_mount_load_keys(pool, zfuse_pool_name(pool), keyloc, keysfile) != 0) {
			zfuse_pool_close(pool);
			return ZF_EXIT_FAIL;
		}
	} else if (keyloc && rest > 0) {
		struct zfuse_crypt_info ci;
		char ds[512];
		snprintf(ds, sizeof(ds), "%s", args[0]);
		ds[strcspn(ds, "@")] = 0;
		if (zfuse_crypt_info(pool, ds, &ci) != 0) {
			fprintf(stderr, "zfuse inspect: --key: %s is not an encrypted dataset\n", ds);
			zfuse_pool_close(pool);
			return ZF_EXIT_FAIL;
		}
		if (zf_key_load_root(pool, ci.root, keyloc, stderr) != 0) {
			zfuse_pool_close(pool);
			return ZF_EXIT_FAIL;
		}
	}
	if (!strcmp(what, "pool")) {
		rc = zfuse_inspect_pool(pool, &o);
	} else if (!strcmp(what, "datasets")) {
		rc = zfuse_inspect_datasets(pool, &o);
	} else if (!strcmp(what, "objects") && rest == 1) {
		rc = zfuse_inspect_objects(pool, args[0], &o);
	} else if (!strcmp(what, "object") && rest == 2) {
		rc = zfuse_inspect_object(pool, args[0], args[1], &o);
	} else if (!strcmp(what, "zil") && rest == 1) {
		rc = zfuse_inspect_zil(pool, args[0], &o);
	} else if (!strcmp(what, "block") && rest == 1) {
		rc = zfuse_inspect_block(pool, args[0], &o);
	} else if (!strcmp(what, "cat") || !strcmp(what, "extract")) {
		status = do_files(pool, what, rest, args);
		rc = 0;
	} else if (!strcmp(what, "verify")) {
		struct progress p = { .tty = isatty(STDERR_FILENO) };
		clock_gettime(CLOCK_MONOTONIC, &p.start);
		struct zfuse_verify_stats st;
		rc = zfuse_verify(pool, &o, progress_cb, &p, &st);
		if (p.tty)
			fputc('\n', stderr);
	} else {
		fprintf(stderr, "zfuse inspect %s: wrong number of arguments\n", what);
		cmd_inspect_usage(stderr);
		status = ZF_EXIT_USAGE;
		rc = 0;
	}
	if (rc) {
		fprintf(stderr, "zfuse inspect %s: %s\n", what, zfuse_strerror(rc));
		status = ZF_EXIT_FAIL;
	}
	zfuse_pool_close(pool);
	return status;
}
