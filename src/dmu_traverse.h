/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dmu_traverse.h — every block pointer of an objset's tree born after a
 * given txg (OpenZFS's traverse_dataset with its min_txg pruning).
 */
#ifndef ZFUSE_DMU_TRAVERSE_H
#define ZFUSE_DMU_TRAVERSE_H

#include <stdint.h>
#include "blkptr.h"

struct spa;

/*
 * Call cb for every block of the objset rooted at bp (the objset block,
 * indirect and dnode blocks, data and spill blocks, the user/group/
 * project-used objects) whose birth is after min_txg. A subtree whose
 * parent pointer was born at or before min_txg is skipped whole: nothing
 * below it can be younger. Children are reported before their parent, so
 * cb may free them. Holes and embedded pointers are not reported. The
 * intent log is not followed. A non-zero return of cb stops the walk.
 */
int traverse_objset(struct spa *spa, const blkptr_t *bp, uint64_t min_txg,
		    int (*cb)(void *arg, const blkptr_t *bp), void *arg);

#endif
