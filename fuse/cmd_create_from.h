/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * cmd_create_from.h — `zfuse create --from DIR`: fill the root dataset of a
 * freshly created pool with a copy of a directory tree (cmd_create_from.c).
 */
#ifndef ZFUSE_FUSE_CMD_CREATE_FROM_H
#define ZFUSE_FUSE_CMD_CREATE_FROM_H

#include "zfuse/zfuse.h"

/* Before the pool is made: whether DIR can be copied at all (a directory
 * we can open). Prints why not; returns ZF_EXIT_OK or ZF_EXIT_FAIL. */
int create_from_check(const char *dir);

/*
 * Import the pool just created with o (its name and vdev words), copy DIR
 * into its root filesystem, sync and close it. Returns ZF_EXIT_OK, or
 * ZF_EXIT_FAIL when some entry could not be copied (each is reported with
 * its path on stderr; the rest of the tree is still copied) or the pool
 * could not be written.
 */
int create_from_fill(const struct zfuse_create_opts *o, const char *dir);

#endif
