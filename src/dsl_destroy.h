/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dsl_destroy.h — destroying snapshots and datasets, rolling back
 * (object-layer.md §7.2, §7.4, §7.6). Checks run before queueing and
 * again in the sync; sync steps run in the txg of tx (dsl_synctask.h).
 */
#ifndef ZFUSE_DSL_DESTROY_H
#define ZFUSE_DSL_DESTROY_H

#include <stdint.h>
#include "dmu_tx.h"

struct spa;

/* Errors: ZFUSE_E_INVAL (not a snapshot), ZFUSE_E_EXIST (it has clones),
 * ZFUSE_E_BUSY (user holds, or it is open). */
int dsl_destroy_snapshot_check(struct spa *spa, uint64_t snapobj);
int dsl_destroy_snapshot_sync_impl(struct spa *spa, uint64_t snapobj, dmu_tx_t *tx);

/* Errors: ZFUSE_E_BUSY (the root dataset, or open), ZFUSE_E_EXIST (it has
 * snapshots), ZFUSE_E_NOTEMPTY (it has children). */
int dsl_destroy_head_check(struct spa *spa, uint64_t dsobj);
int dsl_destroy_head_sync_impl(struct spa *spa, uint64_t dsobj, dmu_tx_t *tx);

/* Roll head back to snapshot snapobj. Errors: ZFUSE_E_EXIST (not its
 * newest snapshot, or bookmarks newer than it), ZFUSE_E_UNSUPPORTED (the snapshot has an intent log). */
int dsl_dataset_rollback_check(struct spa *spa, uint64_t head, uint64_t snapobj);
int dsl_dataset_rollback_sync_impl(struct spa *spa, uint64_t head, uint64_t snapobj,
				   dmu_tx_t *tx);

/* dsl_dir_remove_clones_key: clones of dirobj made from snapshots newer
 * than txg key lose that deadlist key, and their clones too. */
int dsl_dir_remove_clones_key(struct spa *spa, uint64_t dirobj, uint64_t key, dmu_tx_t *tx);
/* Drop the livelist of a clone's dir, if it has one, in the txg of tx
 * (OpenZFS's dsl_dir_remove_livelist with total). */
int dsl_dir_remove_livelist(struct spa *spa, uint64_t dirobj, dmu_tx_t *tx);

/* Drop the livelist of a clone's dir (its own txg; no pool lock held). */
int dsl_dir_livelist_delete(struct spa *spa, uint64_t dirobj);

#endif
