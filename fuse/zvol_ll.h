/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zvol_ll.h — volumes served through FUSE as regular files (zvol_ll.c).
 */
#ifndef ZFUSE_FUSE_ZVOL_LL_H
#define ZFUSE_FUSE_ZVOL_LL_H

#include <stdbool.h>
#include "sessions.h"
#include "zfuse/zfuse.h"

/* Whether dsname is a volume of pool. */
bool zf_zvol_is_volume(zfuse_pool_t *pool, const char *dsname);

/*
 * Mount at o->mountpoint the volume dsname as the file MOUNTPOINT/<last
 * component>, or (dsname NULL) every volume of the pool at its path below
 * the pool, and serve until unmounted or signalled. Uses o's mountpoint,
 * fuse_args, writable, timeouts, thread settings and ready (called once).
 * Returns the exit status.
 */
int zf_zvol_serve(zfuse_pool_t *pool, const char *dsname, const struct zf_serve_opts *o);

#endif
