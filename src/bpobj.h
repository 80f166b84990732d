/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * bpobj.h — block-pointer list objects in the MOS (object-layer.md §6.7):
 * the lists of a deadlist's entries and the pool's free list.
 */
#ifndef ZFUSE_BPOBJ_H
#define ZFUSE_BPOBJ_H

#include <stdbool.h>
#include <stdint.h>
#include "blkptr.h"
#include "dmu_tx.h"

struct spa;

/* A new empty bpobj (48-byte header: livelist is never active here). */
int bpobj_alloc(struct spa *spa, uint64_t blocksize, dmu_tx_t *tx, uint64_t *obj);
/* An empty bpobj for a deadlist entry: the shared MOS "empty_bpobj"
 * (created on first use, feature refcount +1) when empty_bpobj is
 * enabled, else a new one. */
int bpobj_alloc_empty(struct spa *spa, dmu_tx_t *tx, uint64_t *obj);
/* What a bpobj holds, its subobjs included (bpo_bytes/comp/uncomp). */
struct bpobj_space {
	uint64_t used, comp, uncomp;
};

/* Whether obj is the pool's shared "empty_bpobj" (never written). */
bool bpobj_is_shared_empty(struct spa *spa, uint64_t obj);

int bpobj_space(struct spa *spa, uint64_t obj, struct bpobj_space *out);

/* Call cb for every block pointer of obj and of its subobjs, depth
 * first. A non-zero return of cb stops the walk and is returned. */
int bpobj_iterate(struct spa *spa, uint64_t obj, int (*cb)(void *arg, const blkptr_t *bp),
		  void *arg);

/* Append bpobj sub (with its space) to obj's subobj list, as OpenZFS's
 * bpobj_enqueue_subobj: the shared empty bpobj only loses a reference,
 * an empty one is freed instead. */
int bpobj_enqueue_subobj(struct spa *spa, uint64_t obj, uint64_t sub, dmu_tx_t *tx);

/* Free obj, its subobjs and their list object (not the blocks they
 * list); the shared empty bpobj only loses a reference. */
int bpobj_free(struct spa *spa, uint64_t obj, dmu_tx_t *tx);

#endif
