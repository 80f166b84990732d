/*
 * cmd_mount.c — `zfuse mount`: parses the command line, imports the pool,
 * decides what the mount shows (mounttree.c), then runs the FUSE session
 * (zfuse_ll.c) until unmounted.
 *
 * Everything that can fail for a reason the user should read — options,
 * devices, the pool, the dataset, the mount itself — happens before the
 * daemon detaches, so the error lands on the terminal and in the exit
 * status. Our own options are taken out of -o; libfuse's known options are
 * passed to it untouched; anything else is refused before the pool is
 * touched.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* asprintf, realpath(path, NULL) */
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cmd.h"
#include "log.h"
#include "submounts.h"
#include "zfuse_ll.h"

#define ZF_TIMEOUT 3600.0	/* seconds; nothing in a read-only import changes */

struct mount_args {
	bool foreground;
	bool debug;
	int verbose;
	const char **paths;	/* devices (images) and directories */
	size_t npaths;
	const char *mountpoint;
	char *dataset;
	char *pool;
	uint64_t cache_size;
	uint64_t txg;
	bool rewind;
	int nested;		/* -1 off, 0 default (on for root), 1 on */
	unsigned max_threads;
	unsigned max_idle_threads;
	bool clone_fd;
	bool have_fsname, have_subtype, have_default_permissions;
	char *fuse_opts;	/* libfuse's options, comma-joined */
};

void cmd_mount_usage(FILE *out)
{
	fprintf(out,
"usage: zfuse mount [-f] [-d] [-v] [-o OPTION[,OPTION...]] IMAGE|DIR... MOUNTPOINT\n"
"\n"
"Import the pool on the given device images (each regular file of a DIR is\n"
"probed) read-only and show it at MOUNTPOINT as OpenZFS would mount it: the\n"
"root dataset with its mountable child filesystems beneath it, and every\n"
"filesystem's snapshots under .zfs/snapshot.\n"
"\n"
"  -f        stay in the foreground\n"
"  -d        debug: log every FUSE request and library detail (implies -f)\n"
"  -v        log what the import decides (-vv: as much as -d, without FUSE)\n"
"  -o OPTS   comma-separated options:\n"
"     ro                read-only (the default and only mode)\n"
"     dataset=NAME      show this filesystem or snapshot as the root; relative\n"
"                       to the pool (a/b, @snap, a@snap) or full (pool/a@snap)\n"
"     pool=NAME         the pool to import when the devices hold several\n"
"     cache_size=N[KMGT] bytes of decompressed blocks to cache (default 256M)\n"
"     txg=N             import as of transaction group N (an older uberblock)\n"
"     rewind            fall back to an older uberblock if the newest is damaged\n"
"     nested, nonested  child datasets in mounts of their own (default for root)\n"
"                       or inside this mount\n"
"     max_threads=N, max_idle_threads=N, clone_fd\n"
"                       FUSE worker threads\n"
"     allow_other, allow_root, auto_unmount, fsname=, subtype=, max_read=,\n"
"     default_permissions, [no]suid, [no]dev, [no]exec, [no]atime, ...\n"
"                       passed to FUSE (see mount.fuse3(8))\n"
"\n"
"Unmount with: zfuse unmount MOUNTPOINT\n");
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "zfuse: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	cmd_mount_usage(stderr);
	return ZF_EXIT_USAGE;
}

/* libfuse options that make sense here; see mount.fuse3(8). */
static const char *const fuse_flags[] = {
	"allow_other", "allow_root", "auto_unmount", "default_permissions",
	"suid", "nosuid", "dev", "nodev", "exec", "noexec", "async", "sync", "dirsync",
	"atime", "noatime", "diratime", "nodiratime", "lazytime", "nolazytime",
	"relatime", "norelatime", "strictatime", "nostrictatime", "debug", NULL,
};
static const char *const fuse_valued[] = {
	"fsname=", "subtype=", "max_read=", "blksize=", "context=", "fscontext=",
	"defcontext=", "rootcontext=", NULL,
};

static bool in_list(const char *const *list, const char *opt, bool prefix)
{
	for (; *list; list++)
		if (prefix ? strncmp(opt, *list, strlen(*list)) == 0 : strcmp(opt, *list) == 0)
			return true;
	return false;
}

static bool parse_u64(const char *s, uint64_t *out, bool allow_suffix)
{
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	unsigned shift = 0;
	if (allow_suffix && *end) {
		const char *units = "KMGT", *u = strchr(units, *end & ~0x20);
		if (!u || !(*end & ~0x20))
			return false;
		shift = 10 * (unsigned)(u - units + 1);
		end++;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

static bool parse_uint(const char *s, unsigned *out)
{
	uint64_t v;

	if (!parse_u64(s, &v, false) || v > 1000000)
		return false;
	*out = (unsigned)v;
	return true;
}

static int add_fuse_opt(struct mount_args *a, const char *opt)
{
	if (fuse_opt_add_opt(&a->fuse_opts, opt) != 0) {
		fprintf(stderr, "zfuse: out of memory\n");
		return ZF_EXIT_FAIL;
	}
	return 0;
}

/* One -o argument. Returns 0 or an exit status. */
static int parse_opts(struct mount_args *a, const char *arg)
{
	char *copy = strdup(arg), *save = NULL;
	int rc = 0;

	if (!copy) {
		fprintf(stderr, "zfuse: out of memory\n");
		return ZF_EXIT_FAIL;
	}
	for (char *o = strtok_r(copy, ",", &save); o && !rc; o = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(o, '=');
		const char *val = eq ? eq + 1 : "";

		if (strcmp(o, "ro") == 0) {
			continue;
		} else if (strcmp(o, "rw") == 0) {
			fprintf(stderr, "zfuse: writing is not supported yet; mount read-only (-o ro)\n");
			rc = ZF_EXIT_FAIL;
		} else if (strncmp(o, "dataset=", 8) == 0 || strncmp(o, "pool=", 5) == 0) {
			char **dst = o[0] == 'd' ? &a->dataset : &a->pool;
			if (!*val) {
				rc = usage_error("option %s needs a name", o);
			} else {
				free(*dst);
				if (!(*dst = strdup(val))) {
					fprintf(stderr, "zfuse: out of memory\n");
					rc = ZF_EXIT_FAIL;
				}
			}
		} else if (strncmp(o, "cache_size=", 11) == 0) {
			if (!parse_u64(val, &a->cache_size, true))
				rc = usage_error("invalid cache size '%s'", val);
		} else if (strncmp(o, "txg=", 4) == 0) {
			if (!parse_u64(val, &a->txg, false) || a->txg == 0)
				rc = usage_error("invalid txg '%s'", val);
		} else if (strcmp(o, "rewind") == 0) {
			a->rewind = true;
		} else if (strcmp(o, "nested") == 0 || strcmp(o, "nonested") == 0) {
			a->nested = o[0] == 'n' && o[1] == 'e' ? 1 : -1;
		} else if (strncmp(o, "max_threads=", 12) == 0) {
			if (!parse_uint(val, &a->max_threads) || a->max_threads == 0)
				rc = usage_error("invalid max_threads '%s'", val);
		} else if (strncmp(o, "max_idle_threads=", 17) == 0) {
			if (!parse_uint(val, &a->max_idle_threads))
				rc = usage_error("invalid max_idle_threads '%s'", val);
		} else if (strcmp(o, "clone_fd") == 0) {
			a->clone_fd = true;
		} else if (in_list(fuse_flags, o, false) || in_list(fuse_valued, o, true)) {
			if (strncmp(o, "fsname=", 7) == 0)
				a->have_fsname = true;
			else if (strncmp(o, "subtype=", 8) == 0)
				a->have_subtype = true;
			else if (strcmp(o, "default_permissions") == 0)
				a->have_default_permissions = true;
			rc = add_fuse_opt(a, o);
		} else {
			rc = usage_error("unknown mount option '%s'", o);
		}
	}
	free(copy);
	return rc;
}

/* Returns 0, or an exit status (ZF_EXIT_OK for --help). */
static int parse_args(struct mount_args *a, int argc, char **argv, bool *help)
{
	bool opts_done = false;

	a->paths = calloc((size_t)argc, sizeof(*a->paths));
	if (!a->paths) {
		fprintf(stderr, "zfuse: out of memory\n");
		return ZF_EXIT_FAIL;
	}
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (opts_done || arg[0] != '-' || arg[1] == '\0') {
			a->paths[a->npaths++] = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			opts_done = true;
			continue;
		}
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			*help = true;
			return 0;
		}
		if (arg[1] == '-')
			return usage_error("unknown option '%s'", arg);
		for (const char *p = arg + 1; *p; p++) {
			if (*p == 'f') {
				a->foreground = true;
			} else if (*p == 'd') {
				a->debug = true;
				a->foreground = true;
			} else if (*p == 'v') {
				a->verbose++;
			} else if (*p == 'o') {
				const char *val = p[1] ? p + 1 : (i + 1 < argc ? argv[++i] : NULL);
				if (!val)
					return usage_error("option %s needs an argument", "-o");
				int rc = parse_opts(a, val);
				if (rc)
					return rc;
				break;
			} else {
				char opt[3] = { '-', *p, '\0' };
				return usage_error("unknown option '%s'", opt);
			}
		}
	}
	if (a->npaths < 2)
		return usage_error("%s", a->npaths ? "no mount point given" :
				   "no device image and no mount point given");
	a->mountpoint = a->paths[--a->npaths];
	return 0;
}

/* The full name of the dataset= option: names that start with the pool's
 * are full, others are relative to it ("a/b", "@snap", "a@snap"). */
static char *full_dataset_name(const char *pool, const char *ds)
{
	size_t n = strlen(pool);
	const char *sep = "/";
	char *out;

	if (!ds || !*ds)
		return strdup(pool);
	if (strncmp(ds, pool, n) == 0 && (ds[n] == '\0' || ds[n] == '/' || ds[n] == '@'))
		return strdup(ds);
	if (ds[0] == '@' || ds[0] == '/')
		sep = "";
	if (asprintf(&out, "%s%s%s", pool, sep, ds) < 0)
		return NULL;
	return out;
}

static int build_fuse_args(struct mount_args *a, const char *dsname, struct fuse_args *fa)
{
	char *opts = NULL;
	char *fsname = NULL;
	int rc = 0;

	rc |= fuse_opt_add_arg(fa, "zfuse");
	/* Mount flags the daemon relies on: read-only at the VFS, and the
	 * kernel checks permissions against the attributes we report. */
	rc |= fuse_opt_add_opt(&opts, "ro");
	if (!a->have_default_permissions)
		rc |= fuse_opt_add_opt(&opts, "default_permissions");
	if (!a->have_fsname) {
		if (asprintf(&fsname, "fsname=zfuse:%s", dsname) < 0)
			fsname = NULL;
		rc |= fsname ? fuse_opt_add_opt_escaped(&opts, fsname) : -1;
		free(fsname);
	}
	if (!a->have_subtype)
		rc |= fuse_opt_add_opt(&opts, "subtype=zfuse");
	if (a->fuse_opts)
		rc |= fuse_opt_add_opt(&opts, a->fuse_opts);
	rc |= fuse_opt_add_arg(fa, "-o");
	rc |= opts ? fuse_opt_add_arg(fa, opts) : -1;
	if (a->debug)
		rc |= fuse_opt_add_arg(fa, "-d");
	free(opts);
	return rc ? -1 : 0;
}

/* The -o options a child dataset's own mount process gets: the same pool
 * at the same txg, the same cache bound and libfuse options. */
static char *child_opts(const struct mount_args *a, zfuse_pool_t *pool)
{
	char *o = NULL;
	if (asprintf(&o, "pool=%s,txg=%llu%s%s", zfuse_pool_name(pool),
		     (unsigned long long)zfuse_pool_txg(pool), a->fuse_opts ? "," : "",
		     a->fuse_opts ? a->fuse_opts : "") < 0)
		return NULL;
	if (a->cache_size) {
		char *o2 = NULL;
		if (asprintf(&o2, "%s,cache_size=%llu", o, (unsigned long long)a->cache_size) < 0)
			o2 = NULL;
		free(o);
		o = o2;
	}
	return o;
}

/* Runs the session until unmounted or signalled. */
static int serve(struct mount_args *a, struct zf_tree *tree, zfuse_pool_t *pool)
{
	struct fuse_args fa = FUSE_ARGS_INIT(0, NULL);
	struct zf_target root = zf_ll_root_target(tree);
	struct zf_ll ll = { .tree = tree, .timeout = ZF_TIMEOUT };
	struct fuse_session *se = NULL;
	struct fuse_loop_config *cfg = NULL;
	struct zf_submounts *subs = NULL;
	bool mounted = false, handlers = false;
	int status = ZF_EXIT_FAIL;

	ll.nodes = zf_nodes_new(&root);
	if (!ll.nodes || build_fuse_args(a, tree->root->name, &fa) != 0) {
		fprintf(stderr, "zfuse: out of memory\n");
		goto out;
	}
	se = fuse_session_new(&fa, &zf_ll_ops, sizeof(zf_ll_ops), &ll);
	if (!se)
		goto out;	/* libfuse said why */
	if (fuse_set_signal_handlers(se) != 0) {
		fprintf(stderr, "zfuse: cannot install signal handlers\n");
		goto out;
	}
	handlers = true;
	if (fuse_session_mount(se, a->mountpoint) != 0)
		goto out;
	mounted = true;
	if (fuse_daemonize(a->foreground) != 0) {
		fprintf(stderr, "zfuse: cannot run in the background\n");
		goto out;
	}
	if (!a->foreground)
		zf_log_use_syslog();
	cfg = fuse_loop_cfg_create();
	if (!cfg) {
		zf_log(ZFUSE_LOG_ERROR, "out of memory");
		goto out;
	}
	fuse_loop_cfg_set_clone_fd(cfg, a->clone_fd);
	if (a->max_threads)
		fuse_loop_cfg_set_max_threads(cfg, a->max_threads);
	if (a->max_idle_threads)
		fuse_loop_cfg_set_idle_threads(cfg, a->max_idle_threads);
	/* Child datasets get mounts of their own (their own st_dev) once this
	 * session serves the directories they are mounted on. */
	if (a->nested > 0 || (a->nested == 0 && geteuid() == 0)) {
		char *opts = child_opts(a, pool);
		if (opts)
			subs = zf_submounts_start(tree, a->mountpoint, opts, a->paths, a->npaths,
						  a->verbose);
		free(opts);
	}
	int rc = fuse_session_loop_mt(se, cfg);
	zf_submounts_stop(subs);
	/* A positive value is the signal that ended the loop: a normal stop. */
	if (rc < 0)
		zf_log(ZFUSE_LOG_ERROR, "FUSE session failed: %s", strerror(-rc));
	status = rc < 0 ? ZF_EXIT_FAIL : ZF_EXIT_OK;
	zf_log(ZFUSE_LOG_DEBUG, "session ended; %llu nodes were still known to the kernel",
	       (unsigned long long)zf_nodes_count(ll.nodes));
out:
	if (cfg)
		fuse_loop_cfg_destroy(cfg);
	if (mounted)
		fuse_session_unmount(se);
	if (handlers)
		fuse_remove_signal_handlers(se);
	if (se)
		fuse_session_destroy(se);
	fuse_opt_free_args(&fa);
	zf_nodes_free(ll.nodes);
	return status;
}

int cmd_mount(int argc, char **argv)
{
	struct mount_args a = { 0 };
	struct zf_tree tree;
	zfuse_pool_t *pool = NULL;
	char *dsname = NULL, *mountpoint = NULL, **abspaths = NULL;
	bool help = false, have_tree = false;
	struct stat st;
	int status = parse_args(&a, argc, argv, &help);

	if (status || help) {
		if (help)
			cmd_mount_usage(stdout);
		goto out;
	}
	status = ZF_EXIT_FAIL;
	zf_log_set_level(a.debug || a.verbose > 1 ? ZFUSE_LOG_DEBUG :
			 a.verbose ? ZFUSE_LOG_INFO : ZFUSE_LOG_WARN);
	/* Cheap checks first: an import may read a lot. The daemon leaves
	 * its working directory (fuse_daemonize), so keep absolute paths:
	 * the unmount at exit needs the mount point's. */
	if (!(mountpoint = realpath(a.mountpoint, NULL)) || stat(mountpoint, &st) != 0) {
		fprintf(stderr, "zfuse: mount point %s: %s\n", a.mountpoint, strerror(errno));
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "zfuse: mount point %s: %s\n", a.mountpoint, strerror(ENOTDIR));
		goto out;
	}
	a.mountpoint = mountpoint;
	if (!(abspaths = calloc(a.npaths, sizeof(*abspaths)))) {
		fprintf(stderr, "zfuse: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < a.npaths; i++) {
		/* A path realpath() rejects is left for the import to report. */
		if ((abspaths[i] = realpath(a.paths[i], NULL)))
			a.paths[i] = abspaths[i];
	}

	struct zfuse_import_opts io = {
		.paths = a.paths, .npaths = a.npaths, .pool_name = a.pool,
		.cache_size = a.cache_size, .txg = a.txg, .rewind = a.rewind,
		.log = zf_log_backend, .log_arg = NULL, .log_level = zf_log_level(),
	};
	int rc = zfuse_pool_import(&io, &pool);
	if (rc < 0) {
		fprintf(stderr, "zfuse: cannot import pool%s%s: %s\n", a.pool ? " " : "",
			a.pool ? a.pool : "", zfuse_strerror(rc));
		pool = NULL;
		goto out;
	}
	zf_log(ZFUSE_LOG_INFO, "imported pool %s at txg %llu", zfuse_pool_name(pool),
	       (unsigned long long)zfuse_pool_txg(pool));
	dsname = full_dataset_name(zfuse_pool_name(pool), a.dataset);
	if (!dsname) {
		fprintf(stderr, "zfuse: out of memory\n");
		goto out;
	}
	if (zf_tree_build(&tree, pool, dsname) < 0)
		goto out;	/* logged why */
	have_tree = true;
	status = serve(&a, &tree, pool);
out:
	if (have_tree)
		zf_tree_free(&tree);
	if (pool)
		zfuse_pool_close(pool);
	for (size_t i = 0; abspaths && i < a.npaths; i++)
		free(abspaths[i]);
	free(abspaths);
	free(mountpoint);
	free(dsname);
	free(a.dataset);
	free(a.pool);
	free(a.fuse_opts);
	free(a.paths);
	return status;
}
