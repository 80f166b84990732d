/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dsl_sync.c — space accounting of a sync: every block born or killed in a
 * dataset's objset changes that dataset's referenced/compressed/
 * uncompressed/unique bytes and its dsl_dir's used bytes (HEAD), and each
 * ancestor dir's used bytes (CHILD); MOS blocks are charged to $MOS the
 * same way (object-layer.md §6.10, §6.11). A killed block born after the
 * dataset's newest snapshot is freed; an older one still belongs to that
 * snapshot and goes onto the dataset's deadlist, its space moving from
 * the dir's HEAD to SNAP.
 *
 * A head's refreservation R (its local "refreservation", OpenZFS's
 * ds_reserved) keeps max(R - unique, 0) charged to its dir's REFRSRV
 * (and, through the total, to its ancestors); every change of the head's
 * unique bytes or of R moves that charge (dsl_refrsrv_adjust), which is
 * what OpenZFS's parent_delta and the refreservation code of snapshot,
 * destroy and rollback add up to.
 *
 * A dir's reservation (dd_reserved) is charged to its parent whole: the
 * parent sees max(used, reserved), the unused part as CHILD_RSRV, so a
 * change of a reserved dir's used bytes reaches its ancestors only where
 * it passes the reservation (parent_delta).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "byteorder.h"
#include "dbuf.h"
#include "dmu_tx.h"
#include "dmu_types.h"
#include "dsl.h"
#include "dsl_bookmark.h"
#include "dsl_deadlist.h"
#include "dsl_sync.h"
#include "spa_misc.h"
#include "zap.h"
#include "zfeature.h"
#include "zfeature_write.h"
#include "zil.h"
#include "zil_log.h"
#include "zio_write.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"


uint64_t dsl_bp_ucsize(const blkptr_t *bp)
{
	bool meta = bp_get_level(bp) > 0 || dmu_ot_is_metadata(bp_get_type(bp));
	return meta ? bp_get_psize(bp) : bp_get_lsize(bp);
}

int dsl_acct_init(struct dsl_acct *a, spa_t *spa, uint64_t txg, uint64_t dsobj)
{
	memset(a, 0, sizeof(*a));
	a->spa = spa;
	a->txg = txg;
	a->dsobj = dsobj;
	if (!dsobj)
		return 0;
	dsl_dataset_phys_t ds;
	int rc = dsl_dataset_read(spa, dsobj, &ds);
	if (rc)
		return rc;
	a->prev_snap_obj = ds.prev_snap_obj;
	a->prev_snap_txg = ds.prev_snap_txg;
	a->deadlist_obj = ds.deadlist_obj;
	dsl_dir_phys_t dd;
	if ((rc = dsl_dir_read(spa, ds.dir_obj, &dd)) != 0)
		return rc;
	if (dd.origin_obj) {
		dsl_dataset_phys_t origin;
		if ((rc = dsl_dataset_read(spa, dd.origin_obj, &origin)) != 0)
			return rc;
		a->origin_txg = origin.creation_txg;
	}
	return dsl_bookmark_kill_init(spa, dsobj, ds.prev_snap_txg, &a->bookmarks);
}

void dsl_acct_fini(struct dsl_acct *a)
{
	if (a->bookmarks) {
		dsl_bookmarks_free(a->bookmarks);
		free(a->bookmarks);
		a->bookmarks = NULL;
	}
}

void dsl_acct_born(void *arg, const blkptr_t *bp)
{
	struct dsl_acct *a = arg;
	int64_t dsize = (int64_t)spa_bp_dsize(a->spa, bp);
	int64_t psize = (int64_t)bp_get_psize(bp), ucsize = (int64_t)dsl_bp_ucsize(bp);
	a->used += dsize;
	a->unique += dsize;
	a->comp += psize;
	a->uncomp += ucsize;
	a->dir_used += dsize;
	a->dir_comp += psize;
	a->dir_uncomp += ucsize;
}


int dsl_acct_kill(void *arg, const blkptr_t *bp, bool rewritten)
{
	struct dsl_acct *a = arg;
	int64_t dsize = (int64_t)spa_bp_dsize(a->spa, bp);
	int64_t psize = (int64_t)bp_get_psize(bp), ucsize = (int64_t)dsl_bp_ucsize(bp);
	a->used -= dsize;
	a->comp -= psize;
	a->uncomp -= ucsize;
	/* dsl_bookmark_block_killed */
	if (a->bookmarks)
		dsl_bookmark_block_killed(a->bookmarks, bp, (uint64_t)dsize, (uint64_t)psize,
					  (uint64_t)ucsize);
	if (rewritten || bp->blk_birth > a->prev_snap_txg || a->dsobj == 0) {
		/* Only this dataset had it. */
		a->unique -= dsize;
		a->dir_used -= dsize;
		a->dir_comp -= psize;
		a->dir_uncomp -= ucsize;
		if (!rewritten)
			zio_free_bp(a->spa, bp, a->txg);
		return 0;
	}
	/* The newest snapshot still has it: onto the deadlist, and the space
	 * moves from the head to the snapshots. */
	dmu_tx_t tx = { a->spa, a->txg };
	int rc = dsl_deadlist_insert(a->spa, a->deadlist_obj, bp, dsize, psize, ucsize, &tx);
	if (rc) {
		if (!a->err)
			a->err = rc;
		return rc;
	}
	dsl_dataset_phys_t prev;
	if (a->prev_snap_obj && dsl_dataset_read(a->spa, a->prev_snap_obj, &prev) == 0 &&
	    prev.next_snap_obj == a->dsobj && bp->blk_birth > prev.prev_snap_txg)
		a->prev_unique += dsize;
	if (bp->blk_birth > a->origin_txg)
		a->head_to_snap += dsize;
	return 0;
}

static void add64(uint8_t *p, int64_t delta)
{
	put_le64(p, (uint64_t)((int64_t)le64(p) + delta));
}

/* parent_delta: what a change of a dir's used bytes changes in its
 * parent's, a reservation being charged there whole until it is used. */
static int64_t parent_delta(uint64_t reserved, uint64_t used, int64_t delta)
{
	if (reserved == 0)
		return delta;
	uint64_t before = used > reserved ? used : reserved;
	uint64_t after = (uint64_t)((int64_t)used + delta);
	after = after > reserved ? after : reserved;
	return (int64_t)(after - before);
}

int dsl_dir_diduse_space(spa_t *spa, uint64_t dirobj, int which, int64_t used, int64_t comp,
			 int64_t uncomp, dmu_tx_t *tx)
{
	/* Above the first dir, what a child charges its parent splits into
	 * CHILD (the child's own change, tonew) and CHILD_RSRV (the part
	 * of it its reservation already held), as
	 * dsl_dir_diduse_transfer_space does. */
	int64_t tonew = used;
	for (int depth = 0; dirobj && depth < DSL_DIR_MAX_DEPTH; depth++) {
		dnode_t dn;
		int rc = dnode_hold_dirty(spa->mos, dirobj, tx, &dn);
		if (rc)
			return rc;
		uint64_t len;
		uint8_t *dd = (uint8_t *)dnode_bonus(&dn, &len);
		if (len < DD_OFF_BREAKDOWN + 5 * 8) {
			dnode_rele(&dn);
			return SET_ERROR(-ZFUSE_E_CORRUPT);
		}
		int64_t accounted = parent_delta(le64(dd + DD_OFF_RESERVED), le64(dd + DD_OFF_USED),
						 used);
		add64(dd + DD_OFF_USED, used);
		add64(dd + DD_OFF_COMPRESSED, comp);
		add64(dd + DD_OFF_UNCOMPRESSED, uncomp);
		if ((le64(dd + DD_OFF_FLAGS) & DD_FLAG_USED_BREAKDOWN) && depth == 0) {
			add64(dd + DD_OFF_BREAKDOWN + 8 * (uint64_t)which, used);
		} else if (le64(dd + DD_OFF_FLAGS) & DD_FLAG_USED_BREAKDOWN) {
			add64(dd + DD_OFF_BREAKDOWN + 8 * DD_USED_CHILD_RSRV, used - tonew);
			add64(dd + DD_OFF_BREAKDOWN + 8 * DD_USED_CHILD, tonew);
		}
		dirobj = le64(dd + DD_OFF_PARENT);
		tonew = used;
		used = accounted;
		dnode_rele(&dn);
		if (used == 0 && comp == 0 && uncomp == 0 && tonew == 0)
			break;
	}
	return 0;
}

int dsl_dir_set_reservation_sync_impl(spa_t *spa, uint64_t dirobj, uint64_t value, dmu_tx_t *tx)
{
	dsl_dir_phys_t dd;
	int rc = dsl_dir_read(spa, dirobj, &dd);
	if (rc)
		return rc;
	uint64_t used = dd.used_bytes;
	int64_t delta = (int64_t)(used > value ? used : value) -
			(int64_t)(used > dd.reserved ? used : dd.reserved);
	if ((rc = dsl_phys_set(spa, dirobj, DD_OFF_RESERVED, value, tx)) != 0)
		return rc;
	return dd.parent_obj && delta ? dsl_dir_diduse_space(spa, dd.parent_obj, DD_USED_CHILD_RSRV,
							     delta, 0, 0, tx) : 0;
}

int dsl_dir_transfer_space(spa_t *spa, uint64_t dirobj, int64_t delta, int from, int to,
			   dmu_tx_t *tx)
{
	if (!delta)
		return 0;
	dnode_t dn;
	int rc = dnode_hold_dirty(spa->mos, dirobj, tx, &dn);
	if (rc)
		return rc;
	uint64_t len;
	uint8_t *dd = (uint8_t *)dnode_bonus(&dn, &len);
	if (len < DD_OFF_BREAKDOWN + 5 * 8)
		rc = SET_ERROR(-ZFUSE_E_CORRUPT);
	else if (le64(dd + DD_OFF_FLAGS) & DD_FLAG_USED_BREAKDOWN) {
		add64(dd + DD_OFF_BREAKDOWN + 8 * (uint64_t)from, -delta);
		add64(dd + DD_OFF_BREAKDOWN + 8 * (uint64_t)to, delta);
	}
	dnode_rele(&dn);
	return rc;
}

/* Charge a dsl_dir (which) and its ancestors (CHILD) with the deltas; the
 * dir itself also moves head_to_snap from HEAD to SNAP. */
static int dir_diduse(spa_t *spa, uint64_t dirobj, int which, const struct dsl_acct *a, dmu_tx_t *tx)
{
	int rc = dsl_dir_diduse_space(spa, dirobj, which, a->dir_used, a->dir_comp, a->dir_uncomp, tx);
	return rc ? rc : dsl_dir_transfer_space(spa, dirobj, a->head_to_snap, DD_USED_HEAD,
						DD_USED_SNAP, tx);
}

static uint64_t refrsrv_charge(uint64_t refres, uint64_t unique)
{
	return refres > unique ? refres - unique : 0;
}

uint64_t dsl_dir_refreservation(spa_t *spa, uint64_t dirobj)
{
	uint64_t v;
	return dsl_prop_get_uint64(spa, dirobj, "refreservation", false, &v, NULL) == 0 ? v : 0;
}

int dsl_refrsrv_adjust(spa_t *spa, uint64_t dirobj, uint64_t old_refres, uint64_t new_refres,
		       uint64_t old_unique, uint64_t new_unique, dmu_tx_t *tx)
{
	int64_t delta = (int64_t)refrsrv_charge(new_refres, new_unique) -
			(int64_t)refrsrv_charge(old_refres, old_unique);
	return delta ? dsl_dir_diduse_space(spa, dirobj, DD_USED_REFRSRV, delta, 0, 0, tx) : 0;
}

int dsl_dataset_sync_done(spa_t *spa, const struct dsl_acct *a, const blkptr_t *newbp, dmu_tx_t *tx)
{
	dnode_t dn;
	int rc = dnode_hold_dirty(spa->mos, a->dsobj, tx, &dn);
	if (rc)
		return rc;
	uint64_t len;
	uint8_t *ds = (uint8_t *)dnode_bonus(&dn, &len);
	if (len < DS_OFF_BP + sizeof(blkptr_t)) {
		dnode_rele(&dn);
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	}
	bp_store(ds + DS_OFF_BP, newbp);
	uint64_t old_unique = le64(ds + DS_OFF_UNIQUE_BYTES);
	add64(ds + DS_OFF_REFERENCED, a->used);
	add64(ds + DS_OFF_COMPRESSED, a->comp);
	add64(ds + DS_OFF_UNCOMPRESSED, a->uncomp);
	add64(ds + DS_OFF_UNIQUE_BYTES, a->unique);
	uint64_t dirobj = le64(ds);
	dnode_rele(&dn);
	if (a->prev_unique && (rc = dnode_hold_dirty(spa->mos, a->prev_snap_obj, tx, &dn)) == 0) {
		ds = (uint8_t *)dnode_bonus(&dn, &len);
		if (len >= DS_OFF_UNIQUE_BYTES + 8)
			add64(ds + DS_OFF_UNIQUE_BYTES, a->prev_unique);
		dnode_rele(&dn);
	}
	if (rc)
		return rc;
	if ((rc = dir_diduse(spa, dirobj, DD_USED_HEAD, a, tx)) != 0)
		return rc;
	if (a->bookmarks && (rc = dsl_bookmark_sync_done(spa, a->bookmarks, tx)) != 0)
		return rc;
	uint64_t refres = a->unique ? dsl_dir_refreservation(spa, dirobj) : 0;
	return refres ? dsl_refrsrv_adjust(spa, dirobj, refres, refres, old_unique,
					   old_unique + (uint64_t)a->unique, tx) : 0;
}

int dsl_mos_diduse(spa_t *spa, const struct dsl_acct *a, dmu_tx_t *tx)
{
	if (!a->dir_used && !a->dir_comp && !a->dir_uncomp)
		return 0;
	dsl_dir_phys_t root;
	int rc = dsl_dir_read(spa, spa->root_dir_obj, &root);
	if (rc)
		return rc;
	dnode_t cm;
	if ((rc = dnode_hold(spa->mos, root.child_dir_zapobj, &cm)) != 0)
		return rc;
	uint64_t mosdir = 0;
	rc = zap_lookup_uint64(&cm, "$MOS", &mosdir);
	dnode_rele(&cm);
	if (rc == -ZFUSE_E_NOENT)
		return 0;	/* pools older than version 11 have no $MOS */
	if (rc)
		return rc;
	return dir_diduse(spa, mosdir, DD_USED_HEAD, a, tx);
}

bool dsl_dataset_writable(spa_t *spa, uint64_t dsobj, char *why, size_t cap)
{
	dsl_dataset_phys_t ds;
	if (dsl_dataset_read(spa, dsobj, &ds) != 0) {
		snprintf(why, cap, "its dataset object cannot be read");
		return false;
	}
	if (dsl_dir_has_livelist(spa, ds.dir_obj)) {
		snprintf(why, cap, "it is a clone with a livelist, which zfuse does not maintain yet");
		return false;
	}
	objset_t *os;
	if (!bp_is_hole(&ds.bp) && objset_open(spa, &ds.bp, &os) == 0) {
		/* A filesystem's log is replayed when it is opened (zil_replay). */
		bool records = os->type != DMU_OST_ZFS && zil_has_records(spa, os);
		objset_close(os);
		if (records) {
			snprintf(why, cap, "its intent log holds records zfuse could not replay "
				 "(let OpenZFS import the pool once)");
			return false;
		}
	}
	return true;
}

/* Dnodes bigger than 512 bytes in the dirty dnode blocks of os. */
static bool has_large_dnodes(const objset_t *os)
{
	const dirty_object_t *meta = dbuf_find_object(os, 0);
	if (!meta)
		return false;
	for (const dirty_block_t *db = meta->blocks; db; db = db->obj_next)
		for (uint64_t off = 0; off + DNODE_MIN_SIZE <= db->size; off += DNODE_MIN_SIZE)
			if (db->data[off] != 0 && db->data[off + 12] != 0)
				return true;
	return false;
}

int dsl_dataset_activate_used_features(spa_t *spa, const objset_t *os, dmu_tx_t *tx)
{
	int rc = 0;
	if (has_large_dnodes(os) && spa_feature_is_enabled(spa, "large_dnode"))
		rc = dsl_dataset_activate_feature(spa, os->dsobj, "large_dnode", tx);
	if (rc == 0 && zil_saxattr_wanted(os) &&
	    (rc = dsl_dataset_activate_feature(spa, os->dsobj, "zilsaxattr", tx)) == 0)
		zil_saxattr_activated(os);
	if (rc == 0 && zil_saxattr_dropped(os)) {
		/* dsl_dataset_deactivate_feature after the chain's destroy */
		const struct zfeature_info *fi = zfeature_lookup("org.openzfs:zilsaxattr");
		int r = fi ? zap_remove(spa->mos, os->dsobj, fi->guid, tx) : -ZFUSE_E_NOENT;
		if (r == 0)
			rc = spa_feature_decr(spa, fi->name, tx);
		else if (r != -ZFUSE_E_NOENT && r != -ZFUSE_E_INVAL)
			rc = r;
	}
	return rc;
}
