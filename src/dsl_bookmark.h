/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dsl_bookmark.h — bookmarks of head datasets (object-layer.md §6.12;
 * OpenZFS dsl_bookmark.c): made, copied and destroyed as sync steps, and
 * kept right as the head and its snapshots change. All sync steps run in
 * the txg of tx with the pool lock held exclusively; errors are DMU/ZAP
 * errors unless listed.
 */
#ifndef ZFUSE_DSL_BOOKMARK_H
#define ZFUSE_DSL_BOOKMARK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "blkptr.h"
#include "dmu_tx.h"

struct spa;

#define DS_FIELD_BOOKMARK_NAMES "com.delphix:bookmarks"
#define ZBM_FLAG_HAS_FBN 0x1
#define ZBM_FLAG_SNAPSHOT_EXISTS 0x2

/* zfs_bookmark_phys_t, word by word: v1 is the first 3, v2 all 12. */
enum {
	ZBM_GUID, ZBM_TXG, ZBM_TIME, ZBM_REDACTION_OBJ, ZBM_FLAGS,
	ZBM_REFERENCED_REFD, ZBM_COMPRESSED_REFD, ZBM_UNCOMPRESSED_REFD,
	ZBM_REFERENCED_FBN, ZBM_COMPRESSED_FBN, ZBM_UNCOMPRESSED_FBN,
	ZBM_IVSET_GUID, ZBM_WORDS
};
#define ZBM_V1_WORDS 3

struct dsl_bookmark {
	char name[256];
	uint64_t w[ZBM_WORDS];	/* words past the stored length are 0 */
	uint64_t nwords;	/* stored length */
	bool dirty;
};

/* A head's bookmarks in OpenZFS's order: creation txg, then those without
 * HAS_FBN before those with it, then name. */
struct dsl_bookmarks {
	uint64_t head, zapobj;	/* zapobj 0: none */
	struct dsl_bookmark *v;
	size_t n, cap;
};

int dsl_bookmarks_load(struct spa *spa, uint64_t head, struct dsl_bookmarks *out);
void dsl_bookmarks_free(struct dsl_bookmarks *b);
/* Whether head has any bookmark (true when they cannot be read: callers
 * refuse then). */
bool dsl_dataset_has_bookmarks(struct spa *spa, uint64_t head);

/* Bookmark `name` of head (exact name). Errors: ZFUSE_E_NOENT. */
int dsl_bookmark_lookup(struct spa *spa, uint64_t head, const char *name,
			uint64_t w[ZBM_WORDS]);

/* The bookmark OpenZFS makes of snapshot snapobj (dsl_bookmark_set_phys). */
int dsl_bookmark_of_snapshot(struct spa *spa, uint64_t snapobj, uint64_t w[ZBM_WORDS]);

/* Whether snapshot or bookmark (earlier, of txg earlier_txg; 0: earlier is
 * a snapshot and its own) is in the past of dataset `later`: the same dir,
 * or an origin up its clone chain (dsl_dataset_is_before). */
bool dsl_dataset_is_before(struct spa *spa, uint64_t later, uint64_t earlier,
			   uint64_t earlier_txg);

/* Add bookmark `name` with words w (a copy's redaction object is 0) to
 * head: the bookmarks ZAP made on first use, feature counts raised. */
int dsl_bookmark_add_sync(struct spa *spa, uint64_t head, const char *name,
			  const uint64_t w[ZBM_WORDS], dmu_tx_t *tx);
/* Destroy bookmark `name` of head; the ZAP goes with the last one. */
int dsl_bookmark_destroy_sync(struct spa *spa, uint64_t head, const char *name, dmu_tx_t *tx);

/* The newest bookmark's creation txg (0: none). */
uint64_t dsl_bookmark_latest_txg(struct spa *spa, uint64_t head);

/* Snapshot hooks. snapshotted: head's new deadlist newdl gets a key for
 * each HAS_FBN bookmark newer than prev_snap_txg (the old newest
 * snapshot). ds_destroyed: before snapobj's deadlist is merged away, the
 * bookmarks between it and its previous snapshot count what its next one
 * freed; *keep_key says a bookmark still needs its txg's deadlist key.
 * next_changed: after snapobj got a new next dataset (head rolled back
 * to it; a promote), its bookmarks in head are recomputed. head_destroyed: head's bookmarks go (before
 * its object is freed). */
int dsl_bookmark_snapshotted(struct spa *spa, uint64_t head, uint64_t newdl,
			     uint64_t prev_snap_txg, dmu_tx_t *tx);
int dsl_bookmark_ds_destroyed(struct spa *spa, uint64_t snapobj, dmu_tx_t *tx, bool *keep_key);
int dsl_bookmark_next_changed(struct spa *spa, uint64_t head, uint64_t snapobj, dmu_tx_t *tx);
int dsl_bookmark_head_destroyed(struct spa *spa, uint64_t head, dmu_tx_t *tx);

/* Block kills of a head (dsl_sync.c). kill_init: the bookmarks whose
 * "freed before next snapshot" a kill can change (HAS_FBN, at or after
 * the newest snapshot), or *out NULL when there are none: only such heads
 * pay. block_killed counts a killed block; sync_done writes the counts (the
 * list is the caller's to free: dsl_bookmarks_free, then free). */
int dsl_bookmark_kill_init(struct spa *spa, uint64_t head, uint64_t prev_snap_txg,
			   struct dsl_bookmarks **out);
void dsl_bookmark_block_killed(struct dsl_bookmarks *b, const blkptr_t *bp, uint64_t dsize,
			       uint64_t psize, uint64_t ucsize);
int dsl_bookmark_sync_done(struct spa *spa, struct dsl_bookmarks *b, dmu_tx_t *tx);

#endif
