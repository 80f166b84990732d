/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * control.h — the control socket of a mounted pool: how `zfuse VERB` on
 * the command line reaches the daemon that has the pool open.
 *
 * The daemon listens on one Unix socket per pool it mounts; a client
 * finds it by pool name, sends its argv, and gets back what the verb
 * printed (stdout and stderr apart) and its exit status. The daemon
 * checks the peer's credentials (SO_PEERCRED): only root and the user
 * who mounted may run verbs that change the pool.
 *
 * Where: POOL.sock in /run/zfuse for a daemon run by root (the directory
 * 0755, the socket 0666: any user may connect, the daemon decides by
 * SO_PEERCRED), in $XDG_RUNTIME_DIR/zfuse or else /tmp/zfuse-UID for
 * another user's (the directory 0700, the socket 0600). POOL.lock beside
 * it is held (flock) by the daemon that owns the name for as long as it
 * runs, and removed with the socket when it stops: a second daemon of a
 * pool of the same name goes without a socket, and a socket left by a
 * daemon that died (no lock held) is replaced.
 */
#ifndef ZFUSE_FUSE_CONTROL_H
#define ZFUSE_FUSE_CONTROL_H

#include "pool_verb.h"

/*
 * Run verb (argv[0]) on pool's daemon, copying its output to stdout and
 * stderr. Returns the verb's exit status (ZF_EXIT_*), or -1 when no
 * daemon has the pool mounted (the caller then opens the images itself).
 */
int zf_control_call(const char *pool, int argc, char **argv);

/* ---- the daemon's side ------------------------------------------------ */

/*
 * What the daemon does around a verb that changes the pool (verb->changes),
 * on the thread serving the request, one verb with its hooks at a time.
 * before() returns a context handed to after(), which runs whatever the
 * verb's status was.
 */
struct zf_control_hooks {
	void *(*before)(void *arg, const struct zf_pool_verb *verb, int argc, char **argv);
	void (*after)(void *arg, void *ctx, const struct zf_pool_verb *verb, int argc,
		      char **argv, int status);
	void *arg;
};

struct zf_control;

/*
 * Listen for pool's verbs on a thread of its own. NULL when there is no
 * socket (why is logged): the mount works without it.
 */
struct zf_control *zf_control_start(zfuse_pool_t *pool, const struct zf_control_hooks *hooks);
/* Stop listening, remove the socket and wait for the verbs running. */
void zf_control_stop(struct zf_control *c);

/*
 * The operands of a verb's argv (argv[0] the verb) as getopt(3) with
 * verb->optstring leaves them, at most max into out. Returns how many.
 */
int zf_verb_operands(const struct zf_pool_verb *verb, int argc, char **argv, char **out,
		     int max);

#endif
