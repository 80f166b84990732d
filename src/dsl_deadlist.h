/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dsl_deadlist.h — deadlists: a dataset's dead blocks that earlier
 * snapshots still reference, by birth interval (object-layer.md §6.8).
 * All in the MOS; changes in the txg of tx. Errors: DMU/ZAP errors,
 * ZFUSE_E_CORRUPT (a deadlist without the entry a block needs).
 */
#ifndef ZFUSE_DSL_DEADLIST_H
#define ZFUSE_DSL_DEADLIST_H

#include <stddef.h>
#include <stdint.h>
#include "blkptr.h"
#include "bpobj.h"
#include "dmu_tx.h"

struct spa;

/* A new empty deadlist (a ZAP mintxg -> bpobj with a 320-byte header). */
int dsl_deadlist_alloc(struct spa *spa, dmu_tx_t *tx, uint64_t *obj);
/* Add key mintxg (hex) -> bpobj_alloc_empty to deadlist dl. */
int dsl_deadlist_add_key(struct spa *spa, uint64_t dl, uint64_t mintxg, dmu_tx_t *tx);
/* A new deadlist holding dl's keys below maxtxg, each with an empty bpobj. */
int dsl_deadlist_clone(struct spa *spa, uint64_t dl, uint64_t maxtxg, dmu_tx_t *tx,
		       uint64_t *newdl);

/* Append bp (with its sizes) to the entry that covers its birth. */
int dsl_deadlist_insert(struct spa *spa, uint64_t dl, const blkptr_t *bp, int64_t dsize,
			int64_t psize, int64_t ucsize, dmu_tx_t *tx);

/* The entries, by ascending key. */
struct dl_entry {
	uint64_t key, bpobj;
};
struct dl_entries {
	struct dl_entry *v;
	size_t n, cap;
};
int dsl_deadlist_load(struct spa *spa, uint64_t dl, struct dl_entries *out);
void dsl_deadlist_entries_free(struct dl_entries *e);

/* Space of the whole deadlist (its header). */
int dsl_deadlist_space(struct spa *spa, uint64_t dl, struct bpobj_space *out);
/* Space of the entries with mintxg <= key < maxtxg: blocks born in
 * (mintxg, maxtxg] as OpenZFS's dsl_deadlist_space_range counts them. */
int dsl_deadlist_space_range(struct spa *spa, uint64_t dl, uint64_t mintxg, uint64_t maxtxg,
			     struct bpobj_space *out);

/* Fold entry `key` into the entry below it and drop the key. */
int dsl_deadlist_remove_key(struct spa *spa, uint64_t dl, uint64_t key, dmu_tx_t *tx);

/* Move every entry of deadlist `from` into dl (each into dl's entry with
 * the largest key <= its own), leaving `from` without entries. */
int dsl_deadlist_merge(struct spa *spa, uint64_t dl, uint64_t from, dmu_tx_t *tx);

/* Free the blocks of the entries with key >= mintxg, their bpobjs and
 * keys; *freed receives their space. (OpenZFS queues them on the pool's
 * free_bpobj and frees them later; the end state is the same.) */
int dsl_deadlist_free_from(struct spa *spa, uint64_t dl, uint64_t mintxg, dmu_tx_t *tx,
			   struct bpobj_space *freed);

/* Free the deadlist object and its bpobjs (not their blocks). */
int dsl_deadlist_free(struct spa *spa, uint64_t dl, dmu_tx_t *tx);

#endif
