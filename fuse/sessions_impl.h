/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * sessions_impl.h — the serving daemon's state, shared by sessions.c
 * (mounting and serving the sessions) and follow.c (making the mounts
 * follow changes to the pool that came through the control socket).
 * Private to them.
 */
#ifndef ZFUSE_FUSE_SESSIONS_IMPL_H
#define ZFUSE_FUSE_SESSIONS_IMPL_H

#include <stdatomic.h>
#include "control.h"
#include "sessions.h"

struct zf_serve;

struct sess {
	struct zf_serve *srv;
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
	struct sess *sess;	/* one per tree->mounts[], same index */
	size_t n;
	int ev[2];		/* loop threads -> main: a session index */
	int sigfd;
	struct zf_control *ctl;	/* the pool's control socket, or NULL */
};

/* Whether session s serves requests now (notifications may go to it). */
static inline bool sess_live(const struct sess *s)
{
	return s->started && !atomic_load(&s->finished);
}

/* follow.c: the hooks of the control socket for the daemon srv. */
struct zf_control_hooks zf_follow_hooks(struct zf_serve *srv);

#endif
