/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * sessions.c — one FUSE session per dataset (see sessions.h).
 *
 * Threads: the thread that calls zf_serve() ("main") mounts the sessions,
 * waits for signals (a signalfd) and for sessions that end (a pipe each
 * loop thread writes its index to when its loop returns), and tears down.
 * Each session has a loop thread running libfuse's multithreaded loop,
 * which starts worker threads of its own. A loop returns by itself when
 * its mount goes away (the kernel ends the connection); to stop one whose
 * mount is lazily detached but still busy, main sets the session's exit
 * flag and interrupts the loop thread's wait with SIGUSR1.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include "cmd.h"
#include "grow.h"
#include "log.h"
#include "mtab.h"
#include "prefill.h"
#include "sessions_impl.h"

/* How long a stop waits for the loops to return before leaving them to
 * the process's exit. */
#define ZF_STOP_WAIT_MS 5000
#define ZF_WAKE_EVERY_MS 100

static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };

/* ---------------------------------------------------------------------- */
/* Signals */

static void stop_sigset(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		sigaddset(set, stop_signals[i]);
	sigaddset(set, SIGUSR1);	/* unblocked in the loop threads only */
}

void zf_serve_block_signals(void)
{
	sigset_t set;
	stop_sigset(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static void on_wake(int sig)
{
	(void)sig;	/* only here to interrupt a loop thread's sem_wait() */
}

/* ---------------------------------------------------------------------- */
/* libfuse's messages */

/* While a child is being mounted its failure is expected (and followed by
 * our own warning), so libfuse's errors are demoted and kept for it. */
static _Atomic bool quiet_fuse;
static pthread_t quiet_thread;	/* the one mounting; other threads' messages pass */
static char last_fuse_msg[256];

static void fuse_log_fn(enum fuse_log_level level, const char *fmt, va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	int lv = level <= FUSE_LOG_ERR ? ZFUSE_LOG_ERROR : level == FUSE_LOG_WARNING ?
		 ZFUSE_LOG_WARN : level <= FUSE_LOG_INFO ? ZFUSE_LOG_INFO : ZFUSE_LOG_DEBUG;
	if (atomic_load(&quiet_fuse) && pthread_equal(quiet_thread, pthread_self()) &&
	    lv <= ZFUSE_LOG_WARN) {
		snprintf(last_fuse_msg, sizeof(last_fuse_msg), "%s", msg);
		lv = ZFUSE_LOG_DEBUG;
	}
	zf_log(lv, "%s", msg);
}

/* ---------------------------------------------------------------------- */
/* One session */

static int sess_mount(struct zf_serve *srv, struct sess *s)
{
	const struct zf_serve_opts *o = srv->o;
	struct fuse_args fa = FUSE_ARGS_INIT(0, NULL);
	struct zf_target root = zf_ll_root_target(s->m);

	s->ll.tree = srv->tree;
	s->ll.mount = s->m;
	s->ll.writable = o->writable && zfuse_fs_writable(s->m->fs->zfs);
	s->ll.timeout = s->ll.writable ? o->timeout_rw : o->timeout;
	/* The library has said why (a snapshot needs no word). */
	if (o->writable && !s->ll.writable)
		zf_log(ZFUSE_LOG_INFO, "dataset %s is mounted read-only", s->m->fs->name);
	if (!s->have_lock) {
		pthread_rwlock_init(&s->ll.forget_lock, NULL);
		s->have_lock = true;
	}
	s->ll.nodes = zf_nodes_new(&root);
	if (!s->ll.nodes ||
	    o->fuse_args(o->fuse_args_arg, s->m->fs->name, s->ll.writable, &fa) != 0) {
		zf_log(ZFUSE_LOG_ERROR, "out of memory");
		fuse_opt_free_args(&fa);
		return -1;
	}
	s->se = fuse_session_new(&fa, &zf_ll_ops, sizeof(zf_ll_ops), &s->ll);
	fuse_opt_free_args(&fa);
	if (!s->se)
		return -1;	/* libfuse said why */
	if (fuse_session_mount(s->se, s->path) != 0)
		return -1;
	s->mounted = true;
	if (zf_devio_attach(s->se, &s->ll.io, o->spin_us) != 0)
		return -1;
	if (o->prefill && !(s->ll.prefill = zf_prefill_new(s->se, o->max_threads)))
		zf_log(ZFUSE_LOG_WARN, "%s: reads go without prefill (out of memory)", s->path);
	s->have_dev = zf_mount_dev(s->path, &s->dev) == 0;
	return 0;
}

/* Free what a session holds; its loop must not be running. */
static void sess_free(struct sess *s)
{
	if (s->se) {
		/* libfuse's unmount closes the device and frees the mount
		 * point's name; unless the connection is gone it also
		 * unmounts whatever is at the path, which is harmless when
		 * that is nothing or still ours, but not when another mount
		 * took the place (then the name is left to the exit). Mounts
		 * still ours were unmounted before (stop_all). */
		struct pollfd p = { .fd = fuse_session_fd(s->se) };
		dev_t dev;
		bool safe = false;
		if (s->mounted) {
			int rc = zf_mount_dev(s->path, &dev);
			safe = (p.fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & POLLERR)) ||
			       rc == -ENOENT || (rc == 0 && s->have_dev && dev == s->dev);
		}
		zf_prefill_free(s->ll.prefill);
		s->ll.prefill = NULL;
		if (safe)
			fuse_session_unmount(s->se);
		fuse_session_destroy(s->se);
		s->se = NULL;
	}
	zf_nodes_free(s->ll.nodes);
	s->ll.nodes = NULL;
	if (s->have_lock) {
		pthread_rwlock_destroy(&s->ll.forget_lock);
		s->have_lock = false;
	}
}

static void *sess_loop(void *arg)
{
	struct sess *s = arg;
	sigset_t wake;
	int rc = -ENOMEM;

	sigemptyset(&wake);
	sigaddset(&wake, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &wake, NULL);
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	if (cfg) {
		fuse_loop_cfg_set_clone_fd(cfg, s->srv->o->clone_fd);
		if (s->srv->o->max_threads)
			fuse_loop_cfg_set_max_threads(cfg, s->srv->o->max_threads);
		if (s->srv->o->max_idle_threads)
			fuse_loop_cfg_set_idle_threads(cfg, s->srv->o->max_idle_threads);
		rc = fuse_session_loop_mt(s->se, cfg);
		fuse_loop_cfg_destroy(cfg);
	}
	s->loop_rc = rc;
	atomic_store(&s->finished, true);
	uint32_t idx = s->idx;
	/* A pipe write this small is atomic; the pipe is never full (one
	 * message per session). */
	while (write(s->srv->ev[1], &idx, sizeof(idx)) < 0 && errno == EINTR)
		;
	return NULL;
}

static int sess_start(struct sess *s)
{
	int rc = pthread_create(&s->thread, NULL, sess_loop, s);
	if (rc) {
		zf_log(ZFUSE_LOG_ERROR, "cannot start a thread: %s", strerror(rc));
		return -1;
	}
	s->started = true;
	return 0;
}

/* Unmount the session's mount if it is still there (lazily: the kernel
 * refuses a busy one otherwise). A mount point that shows another device
 * now is not ours any more: left alone. */
static void sess_unmount(struct sess *s)
{
	dev_t dev;

	if (!s->mounted || !s->have_dev || zf_mount_dev(s->path, &dev) != 0 || dev != s->dev)
		return;
	int rc = zf_unmount(s->path, true, true);
	if (rc)
		zf_log(ZFUSE_LOG_WARN, "cannot unmount %s: %s", s->path, strerror(-rc));
}

/* ---------------------------------------------------------------------- */
/* The set */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Join the loop threads that said they ended; returns how many. */
static size_t reap(struct zf_serve *srv, bool log_ends)
{
	uint32_t idx;
	size_t n = 0;

	pthread_mutex_lock(&srv->lock);
	for (;;) {
		struct pollfd p = { .fd = srv->ev[0], .events = POLLIN };
		if (poll(&p, 1, 0) != 1)
			break;
		if (read(srv->ev[0], &idx, sizeof(idx)) != (ssize_t)sizeof(idx))
			break;
		if (idx >= srv->n || !srv->sess[idx]->started || srv->sess[idx]->joined)
			continue;
		struct sess *s = srv->sess[idx];
		pthread_join(s->thread, NULL);
		s->joined = true;
		n++;
		if (s->loop_rc < 0)
			zf_log(ZFUSE_LOG_ERROR, "FUSE session of %s failed: %s", s->m->fs->name,
			       strerror(-s->loop_rc));
		else if (log_ends)
			zf_log(ZFUSE_LOG_INFO, "%s (dataset %s) was unmounted", s->path,
			       s->m->fs->name);
	}
	pthread_mutex_unlock(&srv->lock);
	return n;
}

/*
 * Stop every session: unmount the mounts still ours, deepest first (sorted
 * by path, a mount's descendants come after it), then make the loops
 * return and join them.
 */
static void stop_all(struct zf_serve *srv)
{
	for (size_t i = srv->n; i-- > 0;)
		sess_unmount(srv->sess[i]);
	for (size_t i = 0; i < srv->n; i++)
		if (srv->sess[i]->started && !atomic_load(&srv->sess[i]->finished))
			fuse_session_exit(srv->sess[i]->se);
	uint64_t deadline = now_ms() + ZF_STOP_WAIT_MS;
	for (;;) {
		size_t left = 0;
		reap(srv, false);
		for (size_t i = 0; i < srv->n; i++) {
			struct sess *s = srv->sess[i];
			if (!s->started || s->joined)
				continue;
			left++;
			/* Its loop waits in sem_wait() for a worker to say it
			 * stopped; a still busy (detached) mount keeps the
			 * workers reading, so interrupt the wait: the loop
			 * sees the exit flag and cancels them. Repeated, as
			 * a signal that comes before the wait is lost. */
			if (!atomic_load(&s->finished))
				pthread_kill(s->thread, SIGUSR1);
		}
		if (!left)
			break;
		if (now_ms() > deadline) {
			zf_log(ZFUSE_LOG_WARN, "%zu FUSE sessions did not stop; exiting anyway", left);
			break;
		}
		struct pollfd p = { .fd = srv->ev[0], .events = POLLIN };
		poll(&p, 1, ZF_WAKE_EVERY_MS);
	}
}

static char *mount_path(const char *mountpoint, const char *rel)
{
	char *p;
	size_t n = strlen(mountpoint);

	if (!*rel)
		return strdup(mountpoint);
	if (asprintf(&p, "%s%s%s", mountpoint, n && mountpoint[n - 1] == '/' ? "" : "/", rel) < 0)
		return NULL;
	return p;
}

/* A session for mount m, appended to srv's (room for it is there). */
static struct sess *sess_new(struct zf_serve *srv, struct zf_mount *m)
{
	struct sess *s = calloc(1, sizeof(*s));

	if (!s || !(s->path = mount_path(srv->o->mountpoint, m->rel))) {
		free(s);
		return NULL;
	}
	s->srv = srv;
	s->m = m;
	s->idx = (uint32_t)srv->n;
	atomic_init(&s->finished, false);
	srv->sess[srv->n++] = s;
	return s;
}

/* Mount the children, each once its host serves. */
static struct sess *host_of(struct zf_serve *srv, const struct zf_mount *m)
{
	for (size_t k = 0; k < srv->n; k++)
		if (srv->sess[k]->m == m->host)
			return srv->sess[k];
	return srv->sess[0];
}

/* Mount child session s and start serving it: 0, or -1 after undoing
 * what was done (libfuse's complaint kept in last_fuse_msg). */
static int child_mount(struct zf_serve *srv, struct sess *s)
{
	last_fuse_msg[0] = '\0';
	quiet_thread = pthread_self();
	atomic_store(&quiet_fuse, true);
	int rc = sess_mount(srv, s);
	atomic_store(&quiet_fuse, false);
	if (rc == 0 && sess_start(s) == 0) {
		zf_mount_set_state(s->m, ZF_MOUNT_OWN);
		zf_log(ZFUSE_LOG_INFO, "dataset %s mounted at %s", s->m->fs->name, s->path);
		return 0;
	}
	if (s->mounted)
		sess_unmount(s);
	sess_free(s);
	s->mounted = false;
	return -1;
}

/* Mount the children, each once its host serves. */
static void mount_children(struct zf_serve *srv)
{
	bool warned = false;

	for (size_t i = 1; i < srv->n; i++) {
		struct sess *s = srv->sess[i];
		struct zf_mount *m = s->m;
		struct sess *host = host_of(srv, m);
		if (zf_mount_state(m->host) == ZF_MOUNT_COMPOSED) {
			/* Its host is shown inside another session: so is it. */
			zf_mount_set_state(m, ZF_MOUNT_COMPOSED);
			continue;
		}
		if (!srv->o->nested || !host->started || atomic_load(&host->finished)) {
			zf_mount_set_state(m, ZF_MOUNT_COMPOSED);
			continue;
		}
		if (child_mount(srv, s) == 0)
			continue;
		zf_mount_set_state(m, ZF_MOUNT_COMPOSED);
		zf_log(warned ? ZFUSE_LOG_INFO : ZFUSE_LOG_WARN,
		       "cannot mount dataset %s at %s%s%s%s; it is shown inside the mount of %s, "
		       "with the same device number%s", m->fs->name, s->path,
		       last_fuse_msg[0] ? " (" : "", last_fuse_msg, last_fuse_msg[0] ? ")" : "",
		       m->host->fs->name, warned ? "" : " (see BUGS in zfuse(8))");
		warned = true;
	}
}

int zf_serve_remove(struct zf_serve *srv, struct sess *s)
{
	(void)srv;
	if (!sess_live(s))
		return atomic_load(&s->finished) ? 0 : -ENOENT;
	sess_unmount(s);
	/* The kernel ends the connection once the mount is gone; a mount
	 * still in use stays until it is not. */
	for (int i = 0; i < ZF_STOP_WAIT_MS / ZF_WAKE_EVERY_MS; i++) {
		if (atomic_load(&s->finished))
			return 0;
		struct timespec ts = { 0, ZF_WAKE_EVERY_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
	return -EBUSY;
}

int zf_serve_add(struct zf_serve *srv, struct zf_mount *m)
{
	struct sess *s = NULL;

	pthread_mutex_lock(&srv->lock);
	if (zf_grow(&srv->sess, &srv->cap, srv->n, sizeof(*srv->sess), 4) == 0)
		s = sess_new(srv, m);
	pthread_mutex_unlock(&srv->lock);
	if (!s)
		return -ENOMEM;
	struct sess *host = host_of(srv, m);
	if (!srv->o->nested || zf_mount_state(m->host) != ZF_MOUNT_OWN || !sess_live(host))
		return -ENOTSUP;	/* it has no place in a composed view */
	return child_mount(srv, s) == 0 ? 0 : -EIO;
}

int zf_serve(struct zf_tree *tree, const struct zf_serve_opts *o)
{
	struct zf_serve srv = { .o = o, .tree = tree, .ev = { -1, -1 }, .sigfd = -1 };
	int status = ZF_EXIT_FAIL;

	pthread_mutex_init(&srv.lock, NULL);
	bool ready = false;
	sigset_t set;

	fuse_set_log_func(fuse_log_fn);
	zf_serve_block_signals();
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = { .sa_handler = on_wake };	/* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	stop_sigset(&set);
	sigdelset(&set, SIGUSR1);
	srv.sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	srv.cap = tree->nmounts;
	srv.sess = calloc(srv.cap, sizeof(*srv.sess));
	if (srv.sigfd < 0 || pipe2(srv.ev, O_CLOEXEC) != 0 || !srv.sess) {
		zf_log(ZFUSE_LOG_ERROR, "cannot set up the daemon: %s", strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < tree->nmounts; i++) {
		if (!sess_new(&srv, tree->mounts[i])) {
			zf_log(ZFUSE_LOG_ERROR, "out of memory");
			goto out;
		}
	}

	/* The top first: its failure is the command's. */
	/* (The array may grow under the lock once verbs run; its sessions
	 * stay where they are.) */
	struct sess *top = srv.sess[0];
	if (sess_mount(&srv, top) != 0 || sess_start(top) != 0)
		goto out;
	zf_log(ZFUSE_LOG_INFO, "dataset %s mounted at %s", tree->mounts[0]->fs->name,
	       top->path);
	/* Left open until the process exits (after the caller closed the
	 * pool): `zfuse unmount` waits for it to go. */
	if (top->have_dev) {
		int lfd = zf_daemon_listen_mount(top->dev, top->path);
		if (lfd < 0)
			zf_log(ZFUSE_LOG_WARN, "no unmount socket (zfuse unmount will not wait "
			       "for the last changes): %s", strerror(-lfd));
	}
	mount_children(&srv);
	/* Verbs on the pool from the command line; before the command
	 * returns, so that they find the daemon as soon as it is mounted. */
	struct zf_control_hooks hooks = zf_follow_hooks(&srv);
	srv.ctl = zf_control_start(tree->pool, &hooks);
	ready = true;
	o->ready(o->ready_arg, ZF_EXIT_OK);

	status = ZF_EXIT_OK;
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = srv.sigfd, .events = POLLIN },
			{ .fd = srv.ev[0], .events = POLLIN },
		};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			zf_log(ZFUSE_LOG_ERROR, "poll: %s", strerror(errno));
			break;
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(srv.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				zf_log(ZFUSE_LOG_INFO, "%s: unmounting", strsignal((int)si.ssi_signo));
				break;
			}
		}
		if (p[1].revents & POLLIN) {
			reap(&srv, true);
			if (top->joined)
				break;
		}
	}
	if (top->joined && top->loop_rc < 0)
		status = ZF_EXIT_FAIL;
out:
	/* No verb may run on what is torn down (nor on the closed pool). */
	zf_control_stop(srv.ctl);
	srv.ctl = NULL;
	if (srv.sess) {
		stop_all(&srv);
		for (size_t i = 0; i < srv.n; i++) {
			if (srv.sess[i]->started && !srv.sess[i]->joined) {
				/* A loop still runs on the tree the caller is
				 * about to free: leave now, the mounts are gone;
				 * but not without the changes made so far. */
				if (zfuse_pool_writable(tree->pool) &&
				    zfuse_pool_sync(tree->pool) < 0) {
					zf_log(ZFUSE_LOG_ERROR, "cannot write the last changes to "
					       "pool %s", zfuse_pool_name(tree->pool));
					status = ZF_EXIT_FAIL;
				}
				if (!ready)
					o->ready(o->ready_arg, status);
				_exit(status);
			}
		}
		for (size_t i = 0; i < srv.n; i++) {
			sess_free(srv.sess[i]);
			free(srv.sess[i]->path);
			free(srv.sess[i]);
		}
		free(srv.sess);
	}
	pthread_mutex_destroy(&srv.lock);
	if (!ready)
		o->ready(o->ready_arg, status);
	if (srv.sigfd >= 0)
		close(srv.sigfd);
	if (srv.ev[0] >= 0) {
		close(srv.ev[0]);
		close(srv.ev[1]);
	}
	return status;
}
