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

#endif
