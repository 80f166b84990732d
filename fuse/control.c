/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * control.c — the control socket of a mounted pool (see control.h): where
 * it lives, the wire format, the client call, and the daemon's listener
 * that runs verbs on its pool.
 *
 * Wire format (all integers little-endian u32):
 *   request:  "ZFC1", argc, then argc times (length, bytes)
 *   reply:    frames (kind, length, bytes): kind 'o' stdout, 'e' stderr,
 *             'x' the exit status (4 bytes), the last frame.
 * The verb's output is collected in memory streams and sent when it ends.
 *
 * Threads: the listener accepts; each connection gets a detached thread
 * that reads the request, checks the peer, runs the verb and replies.
 * Verbs run one at a time, with the hooks that make the mounts follow
 * them: verbs parse their options with getopt(3), whose state is the
 * process's, and the hooks change the daemon's set of mounts. Nothing else
 * waits for them: FUSE requests go on, the library locking what it must. zf_control_stop() waits for the
 * connection threads, since the pool is closed after it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* struct ucred, asprintf, open_memstream */
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "cmd.h"
#include "control.h"
#include "log.h"
#include "pool_verb.h"

#define ZF_CTL_MAGIC "ZFC1"
#define ZF_CTL_MAX_ARGS 4096
#define ZF_CTL_MAX_ARG (64u << 10)
#define ZF_CTL_MAX_REQ (1u << 20)
/* How long a connection may take to send its request, and how many may be
 * served at once (any local user may connect to root's socket). */
#define ZF_CTL_RECV_TIMEOUT_S 10
#define ZF_CTL_SEND_TIMEOUT_S 60
#define ZF_CTL_MAX_CONN 64
#define ZF_CTL_ROOT_DIR "/run/zfuse"

/*
 * The verbs a daemon runs: every verb of pool_verb.h that is linked in.
 * Adding one is a line here.
 */
static const struct zf_pool_verb *const control_verbs[] = {
	&zf_verb_snapshot, &zf_verb_bookmark, &zf_verb_destroy, &zf_verb_rollback, &zf_verb_clone,
	&zf_verb_rename, &zf_verb_promote, &zf_verb_hold, &zf_verb_release, &zf_verb_holds,
	&zf_verb_load_key, &zf_verb_unload_key, &zf_verb_change_key,
	&zf_verb_create_dataset, &zf_verb_list, &zf_verb_get, &zf_verb_set, &zf_verb_inherit,
	&zf_verb_userspace, &zf_verb_groupspace, &zf_verb_projectspace,
	&zf_verb_status, &zf_verb_scrub, &zf_verb_clear,
};

/*
 * Verbs the daemon runs beside the others, outside its verb lock and
 * without the hooks that make mounts follow: they change no dataset, and
 * scrub -w waits long, which must not hold up the other verbs. As they
 * run concurrently, they parse options without getopt(3)'s global state.
 */
static const struct zf_pool_verb *const unserialized_verbs[] = {
	&zf_verb_status, &zf_verb_scrub, &zf_verb_clear,
};

static bool unserialized(const struct zf_pool_verb *v)
{
	for (size_t i = 0; i < sizeof(unserialized_verbs) / sizeof(unserialized_verbs[0]); i++)
		if (unserialized_verbs[i] == v)
			return true;
	return false;
}

static const struct zf_pool_verb *find_verb(const char *name)
{
	for (size_t i = 0; i < sizeof(control_verbs) / sizeof(control_verbs[0]); i++)
		if (control_verbs[i] && strcmp(control_verbs[i]->name, name) == 0)
			return control_verbs[i];
	return NULL;
}

int zf_verb_operands(const struct zf_pool_verb *verb, int argc, char **argv, char **out,
		     int max)
{
	const char *opts = verb->optstring ? verb->optstring : "";
	int n = 0;
	bool done = false;

	if (*opts == '+' || *opts == '-')
		opts++;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (done || a[0] != '-' || a[1] == '\0') {
			if (n < max)
				out[n] = argv[i];
			n++;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			done = true;
			continue;
		}
		if (a[1] == '-')
			continue;	/* a long option: none of ours takes a value apart */
		for (const char *p = a + 1; *p; p++) {
			const char *o = strchr(opts, *p);
			if (o && *o != ':' && o[1] == ':') {
				/* Its value is the rest of this word or the next. */
				if (!p[1])
					i++;
				break;
			}
		}
	}
	return n < max ? n : max;
}

/* ---------------------------------------------------------------------- */
/* Where */

/* The socket directory of a daemon run by this process's user. */
static char *own_dir(void)
{
	char *d = NULL;
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (geteuid() == 0)
		return strdup(ZF_CTL_ROOT_DIR);
	if (xdg && xdg[0] == '/') {
		if (asprintf(&d, "%s/zfuse", xdg) < 0)
			return NULL;
		return d;
	}
	if (asprintf(&d, "/tmp/zfuse-%u", (unsigned)geteuid()) < 0)
		return NULL;
	return d;
}

static int sock_addr(const char *dir, const char *pool, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	int n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s.sock", dir, pool);
	return n > 0 && (size_t)n < sizeof(sa->sun_path) ? 0 : -ENAMETOOLONG;
}

/* ---------------------------------------------------------------------- */
/* Wire */

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t r = recv(fd, p, len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

static void put_u32(unsigned char *b, uint32_t v)
{
	b[0] = (unsigned char)v;
	b[1] = (unsigned char)(v >> 8);
	b[2] = (unsigned char)(v >> 16);
	b[3] = (unsigned char)(v >> 24);
}

static uint32_t get_u32(const unsigned char *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static int write_u32(int fd, uint32_t v)
{
	unsigned char b[4];
	put_u32(b, v);
	return write_all(fd, b, 4);
}

static int read_u32(int fd, uint32_t *v)
{
	unsigned char b[4];
	if (read_all(fd, b, 4) != 0)
		return -1;
	*v = get_u32(b);
	return 0;
}

static int write_frame(int fd, char kind, const void *data, size_t len)
{
	unsigned char h[5] = { (unsigned char)kind };
	put_u32(h + 1, (uint32_t)len);
	return write_all(fd, h, 5) == 0 && write_all(fd, data, len) == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------------- */
/* Client */

/* Connect to pool's socket in dir: the descriptor, or -1. */
static int try_connect(const char *dir, const char *pool)
{
	struct sockaddr_un sa;

	if (!dir || sock_addr(dir, pool, &sa) != 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* ENOENT: no daemon; ECONNREFUSED: one that died left it. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_request(int fd, int argc, char **argv)
{
	if (write_all(fd, ZF_CTL_MAGIC, 4) != 0 || write_u32(fd, (uint32_t)argc) != 0)
		return -1;
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (write_u32(fd, (uint32_t)n) != 0 || write_all(fd, argv[i], n) != 0)
			return -1;
	}
	return 0;
}

/* Copy the reply's frames to stdout and stderr; the exit status or -1. */
static int copy_reply(int fd)
{
	char buf[8192];

	for (;;) {
		unsigned char kind;
		uint32_t len;
		if (read_all(fd, &kind, 1) != 0 || read_u32(fd, &len) != 0)
			return -1;
		if (kind == 'x') {
			uint32_t st;
			if (len != 4 || read_u32(fd, &st) != 0)
				return -1;
			return (int)(st & 0xff);
		}
		FILE *to = kind == 'e' ? stderr : stdout;
		while (len) {
			size_t n = len < sizeof(buf) ? len : sizeof(buf);
			if (read_all(fd, buf, n) != 0)
				return -1;
			fwrite(buf, 1, n, to);
			len -= (uint32_t)n;
		}
		fflush(to);
	}
}

int zf_control_call(const char *pool, int argc, char **argv)
{
	char *dirs[3] = { NULL };
	int fd = -1;

	if (!pool || strchr(pool, '/') || argc < 1 || argc > ZF_CTL_MAX_ARGS)
		return -1;
	/* The caller's own daemons first, then root's. */
	if (geteuid() != 0) {
		const char *xdg = getenv("XDG_RUNTIME_DIR");
		if (xdg && xdg[0] == '/' && asprintf(&dirs[0], "%s/zfuse", xdg) < 0)
			dirs[0] = NULL;
		if (asprintf(&dirs[1], "/tmp/zfuse-%u", (unsigned)geteuid()) < 0)
			dirs[1] = NULL;
	}
	dirs[2] = strdup(ZF_CTL_ROOT_DIR);
	for (size_t i = 0; i < 3 && fd < 0; i++)
		fd = try_connect(dirs[i], pool);
	for (size_t i = 0; i < 3; i++)
		free(dirs[i]);
	if (fd < 0)
		return -1;
	int st = send_request(fd, argc, argv) == 0 ? copy_reply(fd) : -1;
	close(fd);
	if (st < 0) {
		fprintf(stderr, "zfuse: lost the connection to the daemon of pool %s\n", pool);
		return ZF_EXIT_FAIL;
	}
	return st;
}

/* ---------------------------------------------------------------------- */
/* Daemon */

struct zf_control {
	zfuse_pool_t *pool;
	struct zf_control_hooks hooks;
	uid_t owner;		/* the user who mounted */
	int lfd;		/* listening socket */
	int lockfd;		/* POOL.lock, flocked */
	int wake[2];		/* stop -> listener */
	char *path;		/* the socket's path */
	char *lockpath;		/* POOL.lock's */
	bool locked;		/* the name is ours */
	pthread_t listener;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned active;	/* connection threads running */
	pthread_mutex_t verb_lock;	/* one verb at a time (getopt) */
};

struct conn {
	struct zf_control *c;
	int fd;
};

/* The request's argv (NULL-terminated) or NULL. */
static char **read_request(int fd, int *argcp)
{
	char magic[4];
	uint32_t argc, total = 0;

	if (read_all(fd, magic, 4) != 0 || memcmp(magic, ZF_CTL_MAGIC, 4) != 0 ||
	    read_u32(fd, &argc) != 0 || argc < 1 || argc > ZF_CTL_MAX_ARGS)
		return NULL;
	char **argv = calloc(argc + 1, sizeof(*argv));
	for (uint32_t i = 0; argv && i < argc; i++) {
		uint32_t n;
		if (read_u32(fd, &n) != 0 || n > ZF_CTL_MAX_ARG || (total += n) > ZF_CTL_MAX_REQ ||
		    !(argv[i] = malloc(n + 1)) || read_all(fd, argv[i], n) != 0) {
			for (uint32_t k = 0; k <= i; k++)
				free(argv[k]);
			free(argv);
			return NULL;
		}
		argv[i][n] = '\0';
		/* A NUL inside an argument would cut it short unseen. */
		if (strlen(argv[i]) != n) {
			for (uint32_t k = 0; k <= i; k++)
				free(argv[k]);
			free(argv);
			return NULL;
		}
	}
	*argcp = (int)argc;
	return argv;
}

/*
 * Forget the last parse: verbs start theirs with optind = 1, which leaves
 * glibc's getopt where the last one stopped, inside a freed argv. An empty
 * parse from optind = 0 starts it over.
 */
static void getopt_reset(void)
{
	char *none[] = { "zfuse", NULL };

	optind = 0;
	opterr = 0;
	getopt(1, none, "");
	opterr = 1;
	optind = 1;
}

/* Verbs only root and the mounting user may run, the mounts following
 * them: those that change the pool, and those that change the daemon's
 * keys (which also read key files on the caller's say). */
static bool owner_only(const struct zf_pool_verb *v)
{
	return v->changes || v == &zf_verb_load_key || v == &zf_verb_unload_key;
}

/* Run the verb of the request; its output in out and err. */
static int serve_verb(struct zf_control *c, const struct ucred *cr, int argc, char **argv,
		      FILE *out, FILE *err)
{
	const char *pool = zfuse_pool_name(c->pool);
	const struct zf_pool_verb *v = find_verb(argv[0]);

	if (!v) {
		fprintf(err, "zfuse: the daemon of pool %s does not run '%s'\n", pool, argv[0]);
		return ZF_EXIT_USAGE;
	}
	if (owner_only(v) && cr->uid != 0 && cr->uid != c->owner) {
		fprintf(err, "zfuse: %s: permission denied: only root and the user who mounted "
			"pool %s (uid %u) may change it\n", argv[0], pool, (unsigned)c->owner);
		return ZF_EXIT_FAIL;
	}
	zf_log(owner_only(v) ? ZFUSE_LOG_INFO : ZFUSE_LOG_DEBUG, "uid %u (pid %d) runs '%s' on "
	       "pool %s", (unsigned)cr->uid, (int)cr->pid, argv[0], pool);
	if (unserialized(v))
		return v->run(c->pool, argc, argv, out, err);
	void *ctx = NULL;
	pthread_mutex_lock(&c->verb_lock);
	if (owner_only(v) && c->hooks.before)
		ctx = c->hooks.before(c->hooks.arg, v, argc, argv);
	getopt_reset();
	zf_log_capture(err);	/* the library's messages go to the caller, as offline */
	int st = v->run(c->pool, argc, argv, out, err);
	zf_log_capture(NULL);
	if (owner_only(v) && c->hooks.after)
		c->hooks.after(c->hooks.arg, ctx, v, argc, argv, st);
	pthread_mutex_unlock(&c->verb_lock);
	return st;
}

static void *conn_thread(void *arg)
{
	struct conn *cn = arg;
	struct zf_control *c = cn->c;
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	struct timeval tv = { .tv_sec = ZF_CTL_RECV_TIMEOUT_S };
	char *obuf = NULL, *ebuf = NULL;
	size_t olen = 0, elen = 0;
	int argc = 0;
	char **argv = NULL;

	struct timeval stv = { .tv_sec = ZF_CTL_SEND_TIMEOUT_S };
	setsockopt(cn->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* A client that does not read its answer must not hold the daemon
	 * (its stop waits for the connections). */
	setsockopt(cn->fd, SOL_SOCKET, SO_SNDTIMEO, &stv, sizeof(stv));
	if (getsockopt(cn->fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) == 0 &&
	    (argv = read_request(cn->fd, &argc))) {
		FILE *out = open_memstream(&obuf, &olen);
		FILE *err = open_memstream(&ebuf, &elen);
		int st = ZF_EXIT_FAIL;
		if (out && err)
			st = serve_verb(c, &cr, argc, argv, out, err);
		else
			zf_log(ZFUSE_LOG_ERROR, "control socket: out of memory");
		if (out)
			fclose(out);
		if (err)
			fclose(err);
		unsigned char sb[4];
		put_u32(sb, (uint32_t)st);
		/* A client gone meanwhile just misses its answer. */
		if ((!olen || write_frame(cn->fd, 'o', obuf, olen) == 0) &&
		    (!elen || write_frame(cn->fd, 'e', ebuf, elen) == 0))
			write_frame(cn->fd, 'x', sb, 4);
	}
	for (int i = 0; argv && i < argc; i++)
		free(argv[i]);
	free(argv);
	free(obuf);
	free(ebuf);
	close(cn->fd);
	free(cn);
	pthread_mutex_lock(&c->lock);
	if (--c->active == 0)
		pthread_cond_broadcast(&c->idle);
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

static void *listen_thread(void *arg)
{
	struct zf_control *c = arg;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = c->lfd, .events = POLLIN },
			{ .fd = c->wake[0], .events = POLLIN },
		};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			zf_log(ZFUSE_LOG_ERROR, "control socket: poll: %s", strerror(errno));
			return NULL;
		}
		if (p[1].revents)
			return NULL;
		if (!(p[0].revents & POLLIN))
			continue;
		int fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;	/* the peer gave up, or no descriptors left */
		pthread_mutex_lock(&c->lock);
		bool full = c->active >= ZF_CTL_MAX_CONN;
		pthread_mutex_unlock(&c->lock);
		if (full) {
			close(fd);
			continue;
		}
		struct conn *cn = malloc(sizeof(*cn));
		pthread_t th;
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (cn) {
			cn->c = c;
			cn->fd = fd;
			pthread_mutex_lock(&c->lock);
			c->active++;
			pthread_mutex_unlock(&c->lock);
		}
		if (!cn || pthread_create(&th, &attr, conn_thread, cn) != 0) {
			zf_log(ZFUSE_LOG_WARN, "control socket: cannot serve a connection");
			if (cn) {
				pthread_mutex_lock(&c->lock);
				c->active--;
				pthread_mutex_unlock(&c->lock);
			}
			free(cn);
			close(fd);
		}
		pthread_attr_destroy(&attr);
	}
}

/* Make dir if needed, and check that it is ours and closed to others'
 * writes: a socket there cannot be replaced by someone else. */
static int own_dir_ready(const char *dir, mode_t mode)
{
	struct stat st;

	if (mkdir(dir, mode) != 0 && errno != EEXIST)
		return -errno;
	if (lstat(dir, &st) != 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
		return -EPERM;
	/* mkdir's mode went through the umask. */
	if ((st.st_mode & 07777) != mode && chmod(dir, mode) != 0)
		return -errno;
	return 0;
}

static void control_free(struct zf_control *c)
{
	if (c->lfd >= 0)
		close(c->lfd);
	if (c->lockfd >= 0)
		close(c->lockfd);	/* drops the flock */
	if (c->wake[0] >= 0) {
		close(c->wake[0]);
		close(c->wake[1]);
	}
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->idle);
	pthread_mutex_destroy(&c->verb_lock);
	free(c->path);
	free(c->lockpath);
	free(c);
}

/* Take the name: lock POOL.lock, replace a stale socket, bind, listen. */
static int control_bind(struct zf_control *c, const char *dir, const char *pool)
{
	bool root = geteuid() == 0;
	struct sockaddr_un sa;
	char *lockpath = NULL;
	int rc = own_dir_ready(dir, root ? 0755 : 0700);

	if (rc < 0) {
		zf_log(ZFUSE_LOG_WARN, "no control socket: directory %s: %s", dir,
		       rc == -EPERM ? "not a directory of ours closed to others" : strerror(-rc));
		return rc;
	}
	if ((rc = sock_addr(dir, pool, &sa)) < 0 || !(c->path = strdup(sa.sun_path)) ||
	    asprintf(&lockpath, "%s/%s.lock", dir, pool) < 0) {
		lockpath = NULL;
		zf_log(ZFUSE_LOG_WARN, "no control socket: its path in %s is too long", dir);
		return rc < 0 ? rc : -ENOMEM;
	}
	c->lockpath = lockpath;
	/* The lock file is removed by its owner when it stops: a lock taken
	 * on a file no longer at the path is not the name's. */
	for (int tries = 0;; tries++) {
		struct stat fst, pst;
		c->lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (c->lockfd < 0) {
			rc = -errno;
			zf_log(ZFUSE_LOG_WARN, "no control socket: %s: %s", lockpath,
			       strerror(errno));
			return rc;
		}
		if (flock(c->lockfd, LOCK_EX | LOCK_NB) != 0) {
			zf_log(ZFUSE_LOG_WARN, "another zfuse daemon has a pool named %s; `zfuse` "
			       "verbs on %s reach that one", pool, pool);
			return -EBUSY;
		}
		if (fstat(c->lockfd, &fst) == 0 && stat(lockpath, &pst) == 0 &&
		    fst.st_ino == pst.st_ino && fst.st_dev == pst.st_dev) {
			c->locked = true;
			break;
		}
		close(c->lockfd);
		c->lockfd = -1;
		if (tries == 3)
			return -EBUSY;
	}
	/* The lock is ours: a socket still there is a dead daemon's. */
	if (unlink(c->path) == 0)
		zf_log(ZFUSE_LOG_INFO, "removed the stale control socket %s", c->path);
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	mode_t old = umask(root ? 0111 : 0177);
	rc = c->lfd >= 0 && bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	     listen(c->lfd, 16) == 0 ? 0 : -errno;
	umask(old);
	if (rc < 0)
		zf_log(ZFUSE_LOG_WARN, "no control socket %s: %s", c->path, strerror(-rc));
	return rc;
}

struct zf_control *zf_control_start(zfuse_pool_t *pool, const struct zf_control_hooks *hooks)
{
	struct zf_control *c = calloc(1, sizeof(*c));
	char *dir = own_dir();

	if (!c || !dir) {
		zf_log(ZFUSE_LOG_WARN, "no control socket: out of memory");
		free(c);
		free(dir);
		return NULL;
	}
	c->pool = pool;
	c->hooks = *hooks;
	c->owner = getuid();
	c->lfd = c->lockfd = c->wake[0] = c->wake[1] = -1;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->idle, NULL);
	pthread_mutex_init(&c->verb_lock, NULL);
	int rc = control_bind(c, dir, zfuse_pool_name(pool));
	free(dir);
	if (rc == 0 && pipe2(c->wake, O_CLOEXEC) != 0) {
		c->wake[0] = c->wake[1] = -1;
		rc = -errno;
	}
	if (rc == 0 && (rc = -pthread_create(&c->listener, NULL, listen_thread, c)) != 0)
		zf_log(ZFUSE_LOG_WARN, "no control socket: %s", strerror(-rc));
	if (rc < 0) {
		if (c->lfd >= 0)
			unlink(c->path);
		if (c->locked)
			unlink(c->lockpath);
		control_free(c);
		return NULL;
	}
	zf_log(ZFUSE_LOG_INFO, "control socket of pool %s: %s", zfuse_pool_name(pool), c->path);
	return c;
}

void zf_control_stop(struct zf_control *c)
{
	if (!c)
		return;
	/* The socket and the lock file go first, while the lock is still
	 * held: no daemon can have taken the name meanwhile. */
	unlink(c->path);
	unlink(c->lockpath);
	while (write(c->wake[1], "x", 1) < 0 && errno == EINTR)
		;
	pthread_join(c->listener, NULL);
	pthread_mutex_lock(&c->lock);
	while (c->active)
		pthread_cond_wait(&c->idle, &c->lock);
	pthread_mutex_unlock(&c->lock);
	control_free(c);
}
