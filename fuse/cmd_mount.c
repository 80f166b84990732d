/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * cmd_mount.c — `zfuse mount`: parses the command line, imports the pool,
 * decides what the mount shows (mounttree.c), then mounts and serves one
 * FUSE session per dataset (sessions.c, zfuse_ll.c) until unmounted.
 *
 * Everything that can fail for a reason the user should read — options,
 * devices, the pool, the dataset, the mounts themselves — happens before
 * the daemon detaches, so the error lands on the terminal and in the exit
 * status. Our own options are taken out of -o; libfuse's known options are
 * passed to it untouched; anything else is refused before the pool is
 * touched.
 *
 * Detaching: a child dataset can only be mounted while its parent's session
 * already serves (the kernel looks the mount path up through it), so the
 * serving threads must exist before the last mount, and threads do not
 * survive fork(). Hence no fuse_daemonize() after the mounts: the command
 * forks first; the child imports, mounts and serves, keeping the terminal
 * as stderr until its mounts are in place, and then reports the outcome
 * through a pipe to the parent, which exits with it, and detaches (setsid,
 * stdio to /dev/null, messages to syslog).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* asprintf, realpath(path, NULL) */
#endif
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cmd.h"
#include "cmd_key.h"
#include "log.h"
#include "sessions.h"
#include "zfuse_ll.h"
#include "zvol_ll.h"

#define ZF_TIMEOUT 3600.0	/* seconds; nothing in a read-only import changes */
/* Read-write: every change passes through the kernel, which updates its
 * caches itself; a short lifetime still bounds what it could miss. */
#define ZF_TIMEOUT_RW 1.0

struct mount_args {
	bool foreground;
	bool debug;
	bool ro;		/* -o ro: never write */
	bool rw;		/* -o rw: write or fail */
	int verbose;
	const char **paths;	/* devices (images) and directories */
	size_t npaths;
	const char *mountpoint;
	char *dataset;
	char *pool;
	uint64_t cache_size;
	uint64_t txg;
	bool rewind;
	bool nonested;		/* compose every child into the root's session */
	bool volumes;		/* show the pool's volumes as files (zvol_ll.c) */
	unsigned max_threads;
	unsigned max_idle_threads;
	bool clone_fd;
	unsigned spin_us;
	bool have_spin;
	bool noprefill;		/* the kernel asks for every page itself */
	bool have_fsname, have_subtype, have_default_permissions;
	bool have_allow;	/* allow_other or allow_root given */
	bool private_mount;	/* "private": FUSE's default, only the mounter */
	char *fuse_opts;	/* libfuse's options, comma-joined */
	char *keylocation;	/* keylocation=: every encryption root's key from here */
	char *keys_file;	/* keys=FILE: "ROOT LOCATION" lines */
};

void cmd_mount_usage(FILE *out)
{
	fprintf(out,
"usage: zfuse mount [-f] [-d] [-v] [-o OPTION[,OPTION...]] IMAGE|DIR... MOUNTPOINT\n"
"\n"
"Import the pool on the given device images (each regular file of a DIR is\n"
"probed) and show it at MOUNTPOINT as OpenZFS would mount it: the root dataset\n"
"with its mountable child filesystems beneath it, each a mount of its own, and\n"
"every filesystem's snapshots under .zfs/snapshot. The pool is mounted\n"
"read-write when zfuse can write every feature it uses, else read-only (and\n"
"the feature that prevents writing is named).\n"
"\n"
"  -f        stay in the foreground\n"
"  -d        debug: log every FUSE request and library detail (implies -f)\n"
"  -v        log what the import decides (-vv: as much as -d, without FUSE)\n"
"  -o OPTS   comma-separated options:\n"
"     ro                read-only: nothing is written to the devices\n"
"     rw                read-write, or fail when the pool cannot be written\n"
"     dataset=NAME      show this filesystem or snapshot as the root; relative\n"
"                       to the pool (a/b, @snap, a@snap) or full (pool/a@snap);\n"
"                       a volume is shown as the file MOUNTPOINT/NAME's last part\n"
"     volumes           show every volume of the pool as a file at its path\n"
"                       below the pool (as /dev/zvol/POOL/...) instead\n"
"     pool=NAME         the pool to import when the devices hold several\n"
"     keylocation=LOC   load the key of every encryption root shown from LOC\n"
"                       (prompt or file:///PATH) instead of its keylocation\n"
"     keys=FILE         lines 'ENCRYPTION_ROOT LOCATION': per-root locations\n"
"                       (roots not listed: keylocation= or their own)\n"
"     cache_size=N[KMGT] bytes of decompressed blocks to cache (default: 1/16\n"
"                       of the memory, 256M..4G)\n"
"     txg=N             import as of transaction group N (an older uberblock);\n"
"                       read-only\n"
"     rewind            fall back to an older uberblock if the newest is\n"
"                       damaged; read-only\n"
"     nonested          show child datasets inside the root dataset's mount\n"
"                       instead of mounting each on its own (the default)\n"
"     max_threads=N, max_idle_threads=N, clone_fd\n"
"                       FUSE worker threads\n"
"     spin=USEC         a worker back from a reply polls this long for the\n"
"                       next request before it sleeps, while one caller's\n"
"                       requests keep coming (default 50 with 2 CPUs or\n"
"                       more, else 0; at most 10000)\n"
"     noprefill         a small read brings only its own pages into the page\n"
"                       cache (by default the rest of its record comes too)\n"
"     private           only the mounting user may enter the mount (FUSE's\n"
"                       default); without it a mount made by root is open to\n"
"                       every user (allow_other), the kernel checking modes\n"
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

		if (strcmp(o, "ro") == 0 || strcmp(o, "rw") == 0) {
			/* The last one given counts, as with mount(8). */
			a->ro = o[1] == 'o';
			a->rw = !a->ro;
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
		} else if (strncmp(o, "keylocation=", 12) == 0 || strncmp(o, "keys=", 5) == 0) {
			char **dst = o[3] == 'l' ? &a->keylocation : &a->keys_file;
			if (!*val) {
				rc = usage_error("option %s needs a value", o);
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
		} else if (strcmp(o, "volumes") == 0) {
			a->volumes = true;
		} else if (strcmp(o, "nested") == 0 || strcmp(o, "nonested") == 0) {
			a->nonested = o[2] == 'n';
		} else if (strncmp(o, "max_threads=", 12) == 0) {
			if (!parse_uint(val, &a->max_threads) || a->max_threads == 0)
				rc = usage_error("invalid max_threads '%s'", val);
		} else if (strncmp(o, "max_idle_threads=", 17) == 0) {
			if (!parse_uint(val, &a->max_idle_threads))
				rc = usage_error("invalid max_idle_threads '%s'", val);
		} else if (strcmp(o, "clone_fd") == 0) {
			a->clone_fd = true;
		} else if (strncmp(o, "spin=", 5) == 0) {
			if (!parse_uint(val, &a->spin_us) || a->spin_us > 10000)
				rc = usage_error("invalid spin '%s' (microseconds, 0 to 10000)", val);
			a->have_spin = true;
		} else if (strcmp(o, "prefill") == 0 || strcmp(o, "noprefill") == 0) {
			a->noprefill = o[0] == 'n';
		} else if (strcmp(o, "private") == 0) {
			a->private_mount = true;
		} else if (in_list(fuse_flags, o, false) || in_list(fuse_valued, o, true)) {
			if (strncmp(o, "fsname=", 7) == 0)
				a->have_fsname = true;
			else if (strncmp(o, "subtype=", 8) == 0)
				a->have_subtype = true;
			else if (strcmp(o, "default_permissions") == 0)
				a->have_default_permissions = true;
			else if (strcmp(o, "allow_other") == 0 || strcmp(o, "allow_root") == 0)
				a->have_allow = true;
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
	if (a->rw && (a->txg || a->rewind))
		return usage_error("options txg= and rewind import read-only; they exclude rw");
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

static int build_fuse_args(struct mount_args *a, const char *dsname, bool writable,
			   struct fuse_args *fa)
{
	char *opts = NULL;
	char *fsname = NULL;
	int rc = 0;

	rc |= fuse_opt_add_arg(fa, "zfuse");
	/* Mount flags the daemon relies on: read-only at the VFS unless we
	 * write, and the kernel checks permissions against the attributes
	 * we report. */
	if (!writable)
		rc |= fuse_opt_add_opt(&opts, "ro");
	if (!a->have_default_permissions)
		rc |= fuse_opt_add_opt(&opts, "default_permissions");
	/* A filesystem root mounts is everyone's, as with kernel filesystems
	 * (and ntfs-3g): FUSE would refuse every other user, whatever the
	 * modes say. default_permissions keeps the modes in force. */
	if (geteuid() == 0 && !a->have_allow && !a->private_mount)
		rc |= fuse_opt_add_opt(&opts, "allow_other");
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

static int session_args(void *arg, const char *dsname, bool writable, struct fuse_args *fa)
{
	return build_fuse_args(arg, dsname, writable, fa);
}

/* ---------------------------------------------------------------------- */
/* Why read-only */

/*
 * The library's warnings while it imports, kept to tell whether it already
 * said why the pool is read-only: the reason is printed once. The pool
 * keeps the log function for its lifetime (its sync thread logs too), so
 * this lives as long as the process and only listens during the import.
 */
static struct {
	pthread_mutex_t lock;
	bool listening;
	char said[4096];
	size_t len;
} import_warnings = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void import_log(void *arg, int level, const char *msg)
{
	zf_log_backend(arg, level, msg);
	if (level > ZFUSE_LOG_WARN || level > zf_log_level() || !msg)
		return;
	pthread_mutex_lock(&import_warnings.lock);
	if (import_warnings.listening) {
		size_t room = sizeof(import_warnings.said) - import_warnings.len;
		int n = snprintf(import_warnings.said + import_warnings.len, room, "%s\n", msg);
		if (n > 0)
			import_warnings.len += (size_t)n < room ? (size_t)n : room - 1;
	}
	pthread_mutex_unlock(&import_warnings.lock);
}

static void import_listen(bool on)
{
	pthread_mutex_lock(&import_warnings.lock);
	import_warnings.listening = on;
	pthread_mutex_unlock(&import_warnings.lock);
}

static bool import_said(const char *text)
{
	pthread_mutex_lock(&import_warnings.lock);
	bool said = strstr(import_warnings.said, text) != NULL;
	pthread_mutex_unlock(&import_warnings.lock);
	return said;
}

/* ---------------------------------------------------------------------- */
/* Detaching */

struct detach {
	bool foreground;
	int fd;			/* write end of the status pipe; -1: none */
};

/*
 * Fork unless in the foreground. The parent waits for the child's status
 * and returns it (*parent set); the child returns 0 and goes on. Call
 * before any thread exists.
 */
static int detach_start(struct detach *d, bool *parent)
{
	int p[2];

	*parent = false;
	d->fd = -1;
	if (d->foreground)
		return 0;
	if (pipe2(p, O_CLOEXEC) != 0) {
		fprintf(stderr, "zfuse: cannot run in the background: %s\n", strerror(errno));
		return ZF_EXIT_FAIL;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "zfuse: cannot run in the background: %s\n", strerror(errno));
		close(p[0]);
		close(p[1]);
		return ZF_EXIT_FAIL;
	}
	if (pid > 0) {
		unsigned char st;
		ssize_t n;
		*parent = true;
		close(p[1]);
		while ((n = read(p[0], &st, 1)) < 0 && errno == EINTR)
			;
		close(p[0]);
		if (n == 1) {
			if (st != ZF_EXIT_OK)
				waitpid(pid, NULL, 0);	/* it exits right after */
			return st;
		}
		/* The child died without a word. */
		int ws;
		waitpid(pid, &ws, 0);
		fprintf(stderr, "zfuse: the daemon died while mounting%s\n",
			WIFSIGNALED(ws) ? " (killed by a signal)" : "");
		return ZF_EXIT_FAIL;
	}
	close(p[0]);
	d->fd = p[1];
	/* The parent may be gone (interrupted) when the status is written. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* zf_serve()'s ready callback: report to the waiting parent and detach. */
static void detach_ready(void *arg, int status)
{
	struct detach *d = arg;

	if (chdir("/") != 0) {
		/* Paths are absolute; nothing needs the old directory. */
	}
	if (d->fd < 0)
		return;
	unsigned char st = (unsigned char)status;
	fflush(NULL);
	while (write(d->fd, &st, 1) < 0 && errno == EINTR)
		;
	close(d->fd);
	d->fd = -1;
	if (status != ZF_EXIT_OK)
		return;
	setsid();
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	zf_log_use_syslog();
}

int cmd_mount(int argc, char **argv)
{
	struct mount_args a = { 0 };
	struct zf_tree tree;
	zfuse_pool_t *pool = NULL;
	char *dsname = NULL, *mountpoint = NULL, **abspaths = NULL;
	bool help = false, have_tree = false, writable = false;
	struct stat st;
	int status = parse_args(&a, argc, argv, &help);

	if (status || help) {
		if (help)
			cmd_mount_usage(stdout);
		goto out;
	}
	status = ZF_EXIT_FAIL;
	struct detach det = { .foreground = a.foreground };
	zf_log_set_level(a.debug || a.verbose > 1 ? ZFUSE_LOG_DEBUG :
			 a.verbose ? ZFUSE_LOG_INFO : ZFUSE_LOG_WARN);
	/* Cheap checks first: an import may read a lot. The daemon leaves
	 * its working directory when it detaches, so keep absolute paths:
	 * the unmounts at exit need the mount points'. */
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
	bool parent;
	status = detach_start(&det, &parent);
	if (parent || status)
		goto out;
	status = ZF_EXIT_FAIL;
	/* From here on this is the daemon (or the foreground process); the
	 * signals that stop it wait for it, in every thread. */
	zf_serve_block_signals();

	struct zfuse_import_opts io = {
		.paths = a.paths, .npaths = a.npaths, .pool_name = a.pool,
		.cache_size = a.cache_size, .txg = a.txg, .rewind = a.rewind,
		.readwrite = !a.ro && !a.txg && !a.rewind,
		.log = import_log, .log_arg = NULL, .log_level = zf_log_level(),
	};
	import_listen(true);
	int rc = zfuse_pool_import(&io, &pool);
	import_listen(false);
	if (rc < 0) {
		fprintf(stderr, "zfuse: cannot import pool%s%s: %s\n", a.pool ? " " : "",
			a.pool ? a.pool : "", zfuse_strerror(rc));
		pool = NULL;
		goto report;
	}
	zf_log(ZFUSE_LOG_INFO, "imported pool %s at txg %llu%s", zfuse_pool_name(pool),
	       (unsigned long long)zfuse_pool_txg(pool),
	       zfuse_pool_writable(pool) ? " for writing" : "");
	writable = zfuse_pool_writable(pool);
	if (io.readwrite && !writable) {
		const char *why = zfuse_pool_readonly_reason(pool);
		if (a.rw) {
			fprintf(stderr, "zfuse: cannot mount pool %s read-write: %s\n",
				zfuse_pool_name(pool), why ? why : "the pool cannot be written");
			goto report;
		}
		if (!why || !import_said(why))
			fprintf(stderr, "zfuse: pool %s is mounted read-only: %s\n",
				zfuse_pool_name(pool), why ? why : "the pool cannot be written");
	}
	dsname = full_dataset_name(zfuse_pool_name(pool), a.dataset);
	if (!dsname) {
		fprintf(stderr, "zfuse: out of memory\n");
		goto report;
	}
	struct zf_serve_opts so = {
		.mountpoint = a.mountpoint,
		.fuse_args = session_args, .fuse_args_arg = &a,
		.nested = !a.nonested,
		.writable = writable,
		.max_threads = a.max_threads, .max_idle_threads = a.max_idle_threads,
		.clone_fd = a.clone_fd, .prefill = !a.noprefill,
		.spin_us = a.have_spin ? a.spin_us : zf_devio_default_spin_us(),
		.timeout = ZF_TIMEOUT, .timeout_rw = ZF_TIMEOUT_RW,
		.ready = detach_ready, .ready_arg = &det,
	};
	if (zf_mount_load_keys(pool, dsname, a.keylocation, a.keys_file) < 0)
		goto report;
	if (a.volumes || zf_zvol_is_volume(pool, dsname)) {
		status = zf_zvol_serve(pool, a.volumes ? NULL : dsname, &so);
		goto out;
	}
	if (zf_tree_build(&tree, pool, dsname) < 0)
		goto report;	/* logged why */
	have_tree = true;
	status = zf_serve(&tree, &so);	/* calls detach_ready() */
	goto out;
report:
	detach_ready(&det, status);
out:
	if (have_tree)
		zf_tree_free(&tree);
	/* Closing writes the last changes too, but cannot say it failed. */
	if (pool && writable && zfuse_pool_sync(pool) < 0) {
		zf_log(ZFUSE_LOG_ERROR, "cannot write the last changes to pool %s",
		       zfuse_pool_name(pool));
		status = ZF_EXIT_FAIL;
	}
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
	free(a.keylocation);
	free(a.keys_file);
	free(a.paths);
	return status;
}
