/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * sessions_impl.h — the serving daemon's state, shared by sessions.c
 * (mounting and serving the sessions) and follow.c (making the mounts
 * follow changes to the pool that came through the control socket).
 * Private to them.
 */
#ifndef ZFUSE_FUSE_SESSIONS_IMPL_H
#define ZFUSE_FUSE_SESSIONS_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include "control.h"
#include "sessions.h"

struct zf_serve;

struct sess {
	struct zf_serve *srv;
	uint32_t idx;		/* in srv->sess */
	struct zf_mount *m;
	char *path;
	struct fuse_session *se;
	struct zf_ll ll;
	bool have_lock;		/* ll.forget_lock is initialized */
	bool mounted;		/* fuse_session_mount() succeeded */
	bool have_dev;
	dev_t dev;		/* the mount's device, to recognize it later */
	pthread_t thread;
	bool started;		/* the loop thread was created */
	atomic_bool finished;	/* its loop returned */
	bool joined;
	int loop_rc;
};

struct zf_serve {
	const struct zf_serve_opts *o;
	struct zf_tree *tree;
	/* One per tree->mounts[], same index. Sessions are added (follow.c)
	 * by the thread running a verb, under lock, which the main thread
	 * takes to look at them while the control socket runs. */
	struct sess **sess;
	size_t n, cap;
	pthread_mutex_t lock;
	int ev[2];		/* loop threads -> main: a session index */
	int sigfd;
	struct zf_control *ctl;	/* the pool's control socket, or NULL */
};

/* Whether session s serves requests now (notifications may go to it). */
static inline bool sess_live(const struct sess *s)
{
	return s->started && !atomic_load(&s->finished);
}

/*
 * Mount m, a mount the tree took after the start (zf_tree_grow), in a
 * session of its own, as a child is mounted at the start. 0, or -errno:
 * -ENOTSUP when it would have to be composed into its host's session
 * (whose view is fixed: it is not shown then), -EIO when the mount failed.
 */
int zf_serve_add(struct zf_serve *srv, struct zf_mount *m);

/*
 * Unmount child session s (lazily) and wait for its loop to end: 0 once
 * no request can reach its datasets any more, -EBUSY when its mount is
 * still in use after a while (it goes when no longer busy).
 */
int zf_serve_remove(struct zf_serve *srv, struct sess *s);

/* follow.c: the hooks of the control socket for the daemon srv. */
struct zf_control_hooks zf_follow_hooks(struct zf_serve *srv);

#endif
