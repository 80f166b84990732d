/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * sessions.h — serving a zf_tree: one FUSE session per dataset, as the
 * kernel shows OpenZFS, each mounted at its path inside its parent's mount
 * with its own st_dev, all in one process sharing the one pool.
 *
 * The top dataset is mounted first and served by its own loop thread; then
 * every child in path order (a host always before what it holds), each
 * with a loop thread of its own once mounted: the kernel resolves a child's
 * mount path through its parent's session, so the parent must already be
 * serving. A child that cannot be mounted (an unprivileged user on a
 * directory they may not write, say) is composed into its host's session
 * with everything beneath it, after one warning.
 *
 * While it serves, the pool's control socket (control.h) takes `zfuse VERB`
 * commands; after one that changed the pool the mounts follow the change
 * (follow.c).
 *
 * The daemon stops when the top session ends (its mount went away) or on
 * SIGINT, SIGTERM or SIGHUP: it unmounts whatever of its mounts remain,
 * children first, and returns (the caller closes the pool, which writes
 * the last changes). A child unmounted on its own just ends its session.
 */
#ifndef ZFUSE_FUSE_SESSIONS_H
#define ZFUSE_FUSE_SESSIONS_H

#include <stdbool.h>
#include "zfuse_ll.h"

struct zf_serve_opts {
	const char *mountpoint;		/* absolute, without symlinks */
	/* The libfuse arguments of the session of dataset dsname (its
	 * fsname differs), mounted read-write or read-only; 0 or -1. */
	int (*fuse_args)(void *arg, const char *dsname, bool writable, struct fuse_args *out);
	void *fuse_args_arg;
	/* Mount read-write the datasets the library can write (the pool was
	 * imported read-write); the others stay read-only. */
	bool writable;
	bool nested;			/* false: compose every child */
	unsigned max_threads;		/* 0: libfuse's default */
	unsigned max_idle_threads;	/* 0: libfuse's default */
	bool clone_fd;
	unsigned spin_us;	/* a worker polls for a request before sleeping (devio.h) */
	bool prefill;	/* small reads hand the kernel their whole record (prefill.h) */
	double timeout;			/* kernel cache lifetime, seconds */
	double timeout_rw;		/* the same for read-write sessions */
	/* Called once: status 0 when the mounts are in place (the caller
	 * may detach from the terminal now), else the exit status. */
	void (*ready)(void *arg, int status);
	void *ready_arg;
};

/*
 * Block the signals the daemon waits for. Call before any thread exists
 * (before the pool is imported), so that every thread inherits the mask.
 */
void zf_serve_block_signals(void);

/* Mount tree's datasets at o->mountpoint and serve them until stopped.
 * Returns the exit status (ZF_EXIT_OK after a normal stop). */
int zf_serve(struct zf_tree *tree, const struct zf_serve_opts *o);

#endif
