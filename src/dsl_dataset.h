/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dsl_dataset.h — sync steps of DSL tasks (dsl_synctask.h): snapshots,
 * child datasets, and their destruction and rollback (dsl_destroy.c).
 * All run in the txg of tx with the pool lock held exclusively; errors
 * are DMU/ZAP errors unless listed.
 */
#ifndef ZFUSE_DSL_DATASET_H
#define ZFUSE_DSL_DATASET_H

#include <stdbool.h>
#include <stdint.h>
#include "blkptr.h"
#include "dmu_tx.h"

struct spa;

/* Snapshot `snapname` of head dataset `head` (object-layer.md §7.1). */
int dsl_dataset_snapshot_sync_impl(struct spa *spa, uint64_t head, const char *snapname,
				   dmu_tx_t *tx, uint64_t *snapobj);

/* Snapshot object of head's snapshot `snapname`. Errors: ZFUSE_E_NOENT. */
int dsl_snapshot_lookup(struct spa *spa, uint64_t head, const char *snapname, uint64_t *snapobj);

/* $ORIGIN@$ORIGIN (0 on pools older than version 11). */
int dsl_pool_origin_snapshot(struct spa *spa, uint64_t *origin);

/*
 * A new dsl_dir `name` under parent_dir with its head dataset, a clone of
 * snapshot origin (0: $ORIGIN@$ORIGIN, an ordinary dataset). The dataset's
 * objset is the caller's (ds_bp stays the origin's until it is written).
 */
int dsl_dataset_create_child(struct spa *spa, uint64_t parent_dir, const char *name,
			     uint64_t origin, dmu_tx_t *tx, uint64_t *dsobj);

/* The previous snapshot `prev` of dataset `from` now precedes `to`
 * instead: its next_snap_obj, or its next-clones entry. */
int dsl_dataset_relink_prev(struct spa *spa, uint64_t prev, uint64_t from, uint64_t to,
			    dmu_tx_t *tx);

/* Add delta to a dir's filesystem/snapshot count field and its
 * ancestors', where they keep one. */
int dsl_dir_count_adjust(struct spa *spa, uint64_t dirobj, const char *field, int64_t delta,
			 dmu_tx_t *tx);

/* filesystem_limit / snapshot_limit (OpenZFS dsl_dir.c):
 * dsl_dir_activate_fs_ss_limit activates filesystem_limits and gives the
 * dir, and the dirs below that have none, their counts
 * (dsl_dir_init_fs_ss_count); dsl_dir_init_new_counts gives a new dir
 * counts of 0 when the feature is active; dsl_fs_ss_limit_check answers
 * ZFUSE_E_DQUOT when delta more filesystems (snapshots) would pass a
 * limit of the dir or an ancestor that keeps counts (never for root,
 * who may change the limits, as zfs exempts it). */
int dsl_dir_activate_fs_ss_limit(struct spa *spa, uint64_t dirobj, dmu_tx_t *tx);
int dsl_dir_init_new_counts(struct spa *spa, uint64_t dirobj, dmu_tx_t *tx);
int dsl_fs_ss_limit_check(struct spa *spa, uint64_t dirobj, uint64_t delta, bool snapshots);

/* Record in the dir when its snapshots last changed. */
int dsl_dir_snapshots_changed(struct spa *spa, uint64_t dirobj, dmu_tx_t *tx);

/* The key under which MOS ZAP zapobj holds value (a child dir, a
 * snapshot). Errors: ZFUSE_E_CORRUPT (none). */
#include <stddef.h>
int mos_zap_name_of(struct spa *spa, uint64_t zapobj, uint64_t value, char *name, size_t cap);

/* Rename snapshot oldsnap of head to newsnap (its dir's snapshots
 * change time too). */
int dsl_snapshot_rename_sync(struct spa *spa, uint64_t head, const char *oldsnap,
			     const char *newsnap, dmu_tx_t *tx);
/* Move dir under newparent (or keep its parent) with the name newname;
 * its space moves from the old ancestors to the new. */
int dsl_dir_rename_sync(struct spa *spa, uint64_t dirobj, uint64_t newparent, const char *newname,
			dmu_tx_t *tx);

/* Whether the objset at bp has an intent log header (clone and rollback
 * would have to write a copy with it zeroed, which zfuse does not). */
int dsl_objset_has_log(struct spa *spa, const blkptr_t *bp, bool *has_log);

/* Count a snapshot opened through zfuse_fs_open, or stop counting one
 * (exclusive pool lock). Errors: ZFUSE_E_NOMEM. */
int dsl_snapshot_hold(struct spa *spa, uint64_t dsobj);
void dsl_snapshot_rele(struct spa *spa, uint64_t dsobj);
/* Whether a dataset or snapshot is open, or has changes not yet synced. */
#include <stdbool.h>
bool dsl_dataset_is_open(const struct spa *spa, uint64_t dsobj);

/*
 * Promote clone head hds (dsl_promote.c). The check's errors:
 * ZFUSE_E_INVAL (hds is not a clone), ZFUSE_E_EXIST (a snapshot that
 * would move has the name of one of the clone's: the first such name,
 * newest first, goes to conflict), ZFUSE_E_BUSY (a snapshot that would
 * move is open), ZFUSE_E_NAMETOOLONG (a moved snapshot's full name would
 * be; namelen is the clone's name length), ZFUSE_E_XDEV (the clone is
 * marked not to be promoted), ZFUSE_E_NOSPC (a quota of the clone or of
 * an ancestor the origin does not share has no room for what moves), ZFUSE_E_UNSUPPORTED (bookmarks on either
 * head, encryption, a pool without $ORIGIN).
 */
int dsl_dataset_promote_check(struct spa *spa, uint64_t hds, size_t namelen, char *conflict,
			      size_t cap);
int dsl_dataset_promote_sync_impl(struct spa *spa, uint64_t hds, dmu_tx_t *tx);

#endif
