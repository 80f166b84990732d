/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dsl_sync.h — dataset and pool space accounting during a sync (see
 * dsl_sync.c). One dsl_acct collects the births and deaths of one objset's
 * blocks in one txg; dnode_sync reports them through os_sync_owner.
 */
#ifndef ZFUSE_DSL_SYNC_H
#define ZFUSE_DSL_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "blkptr.h"
#include "dmu_tx.h"

struct spa;

struct dsl_acct {
	struct spa *spa;
	uint64_t txg;
	uint64_t dsobj;		/* 0: the MOS */
	uint64_t prev_snap_obj, prev_snap_txg;	/* the newest snapshot */
	uint64_t deadlist_obj, origin_txg;
	/* the dataset: referenced bytes and the share no snapshot has */
	int64_t used, comp, uncomp, unique;
	/* its dsl_dir: used bytes, and HEAD space that snapshots now hold */
	int64_t dir_used, dir_comp, dir_uncomp, head_to_snap;
	int64_t prev_unique;	/* the newest snapshot's unique bytes */
	int err;		/* the first deadlist failure */
	struct dsl_bookmarks *bookmarks;	/* whose FBN kills change, or NULL */
};

/* Fill the dataset facts of a (snapshot, deadlist, origin) from the MOS. */
/* Uncompressed size as dsl accounting counts it: psize for metadata. */
uint64_t dsl_bp_ucsize(const blkptr_t *bp);

int dsl_acct_init(struct dsl_acct *a, struct spa *spa, uint64_t txg, uint64_t dsobj);

/* Release what dsl_acct_init took when dsl_dataset_sync_done is not reached. */
void dsl_acct_fini(struct dsl_acct *a);

/* os_sync_owner callbacks (arg is a struct dsl_acct). */
void dsl_acct_born(void *arg, const blkptr_t *bp);
int dsl_acct_kill(void *arg, const blkptr_t *bp, bool rewritten);

/* Store the dataset's new root bp and apply the deltas to it and its dirs. */
int dsl_dataset_sync_done(struct spa *spa, const struct dsl_acct *a, const blkptr_t *newbp,
			  dmu_tx_t *tx);
/* Charge MOS block deltas to $MOS (and the root dir as CHILD). */
/* dsl_dir_diduse_space: charge dir's `which` (DD_USED_*) and total, and
 * each ancestor's CHILD and total, with the deltas; an ancestor's
 * reservation absorbs what it still holds unused (parent_delta: its
 * parent sees max(used, reserved) change, the difference moving between
 * CHILD and CHILD_RSRV). */
int dsl_dir_diduse_space(struct spa *spa, uint64_t dirobj, int which, int64_t used, int64_t comp,
			 int64_t uncomp, dmu_tx_t *tx);
/* dsl_dir_set_reservation_sync_impl: dd_reserved becomes value and the
 * parent's CHILD_RSRV (and total, and above) follows the change of
 * max(used, reserved). */
int dsl_dir_set_reservation_sync_impl(struct spa *spa, uint64_t dirobj, uint64_t value,
				      dmu_tx_t *tx);
/* Move delta bytes of dir's breakdown from `from` to `to` (total unchanged). */
int dsl_dir_transfer_space(struct spa *spa, uint64_t dirobj, int64_t delta, int from, int to,
			   dmu_tx_t *tx);
int dsl_mos_diduse(struct spa *spa, const struct dsl_acct *a, dmu_tx_t *tx);

/* A head's refreservation: its dir's local "refreservation", 0 if unset. */
uint64_t dsl_dir_refreservation(struct spa *spa, uint64_t dirobj);
/* The head of dirobj went from refreservation old_refres and unique bytes
 * old_unique to new_refres and new_unique: move the dir's REFRSRV charge,
 * max(refreservation - unique, 0), along (and its ancestors' totals). */
int dsl_refrsrv_adjust(struct spa *spa, uint64_t dirobj, uint64_t old_refres, uint64_t new_refres,
		       uint64_t old_unique, uint64_t new_unique, dmu_tx_t *tx);

/* Activate per-dataset features that this txg's changes start to use
 * (large_dnode when a dnode over 512 bytes appears), as OpenZFS does. */
int dsl_dataset_activate_used_features(struct spa *spa, const objset_t *os, dmu_tx_t *tx);

/* Whether zfuse can write the dataset; why gets the reason when not. */
bool dsl_dataset_writable(struct spa *spa, uint64_t dsobj, char *why, size_t cap);

#endif
