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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "byteorder.h"
#include "dbuf.h"
#include "dmu_tx.h"
#include "dmu_types.h"
#include "dsl.h"
#include "dsl_sync.h"
#include "spa_misc.h"
#include "zap.h"
#include "zfeature_write.h"
#include "zil.h"
#include "zio_write.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define DS_OFF_REFERENCED 72
#define DS_OFF_COMPRESSED 80
#define DS_OFF_UNCOMPRESSED 88
#define DS_OFF_BP 128
#define DD_OFF_PARENT 16
#define DD_OFF_USED 40
#define DD_OFF_COMPRESSED 48
#define DD_OFF_UNCOMPRESSED 56
#define DD_OFF_FLAGS 96
#define DD_OFF_BREAKDOWN 104
#define DD_USED_HEAD 0
#define DD_USED_SNAP 1
#define DD_USED_CHILD 2
#define DSL_DIR_MAX_DEPTH 256

static uint64_t bp_ucsize(const blkptr_t *bp)
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
	return 0;
}

void dsl_acct_born(void *arg, const blkptr_t *bp)
{
	struct dsl_acct *a = arg;
	int64_t dsize = (int64_t)spa_bp_dsize(a->spa, bp);
	int64_t psize = (int64_t)bp_get_psize(bp), ucsize = (int64_t)bp_ucsize(bp);
	a->used += dsize;
	a->unique += dsize;
	a->comp += psize;
	a->uncomp += ucsize;
	a->dir_used += dsize;
	a->dir_comp += psize;
	a->dir_uncomp += ucsize;
}

#define BPOBJ_OFF_NUM 0
#define BPOBJ_OFF_BYTES 8
#define BPOBJ_OFF_COMP 16
#define BPOBJ_OFF_UNCOMP 24
#define DL_OFF_USED 0
#define DL_OFF_COMP 8
#define DL_OFF_UNCOMP 16
#define BPOBJ_DEADLIST_BLKSZ (128ULL << 10)

struct dl_pick {
	uint64_t birth, best_key, bpobj;
	bool found;
};

static int dl_pick_cb(void *arg, const zap_entry_t *ze)
{
	struct dl_pick *p = arg;
	uint64_t key = strtoull(ze->name, NULL, 16);
	if (key < p->birth && (!p->found || key >= p->best_key)) {
		p->best_key = key;
		p->bpobj = ze->value_first;
		p->found = true;
	}
	return 0;
}

static int bonus_add(spa_t *spa, uint64_t obj, const unsigned *offs, const int64_t *deltas, int n,
		     dmu_tx_t *tx)
{
	dnode_t dn;
	int rc = dnode_hold_dirty(spa->mos, obj, tx, &dn);
	if (rc)
		return rc;
	uint64_t len;
	uint8_t *b = (uint8_t *)dnode_bonus(&dn, &len);
	for (int i = 0; i < n; i++) {
		if (offs[i] + 8 > len) {
			dnode_rele(&dn);
			return SET_ERROR(-ZFUSE_E_CORRUPT);
		}
		put_le64(b + offs[i], (uint64_t)((int64_t)le64(b + offs[i]) + deltas[i]));
	}
	dnode_rele(&dn);
	return 0;
}

/* Append bp to the deadlist entry that covers its birth (object-layer.md §6.8). */
static int deadlist_insert(struct dsl_acct *a, const blkptr_t *bp, int64_t dsize, int64_t psize,
			   int64_t ucsize)
{
	spa_t *spa = a->spa;
	dmu_tx_t tx = { spa, a->txg };
	dnode_t dl;
	int rc = dnode_hold(spa->mos, a->deadlist_obj, &dl);
	if (rc)
		return rc;
	struct dl_pick pick = { .birth = bp->blk_birth };
	rc = zap_iterate(&dl, 0, 0, dl_pick_cb, &pick);
	dnode_rele(&dl);
	if (rc < 0)
		return rc;
	if (!pick.found)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	/* The shared empty bpobj is never written: give the entry its own. */
	uint64_t empty = 0;
	dnode_t dir;
	if (dnode_hold(spa->mos, 1, &dir) == 0) {
		zap_lookup_uint64(&dir, "empty_bpobj", &empty);
		dnode_rele(&dir);
	}
	if (empty && pick.bpobj == empty) {
		char key[24];
		snprintf(key, sizeof(key), "%llx", (unsigned long long)pick.best_key);
		if ((rc = bpobj_alloc(spa, BPOBJ_DEADLIST_BLKSZ, &tx, &pick.bpobj)) != 0 ||
		    (rc = zap_update_uint64(spa->mos, a->deadlist_obj, key, pick.bpobj, &tx)) != 0 ||
		    (rc = spa_feature_decr(spa, "empty_bpobj", &tx)) != 0)
			return rc;
	}
	/* Stored normalized: no checksum, no fill; embedded ones keep only
	 * their properties and birth. */
	blkptr_t stored = *bp;
	memset(&stored.blk_cksum, 0, sizeof(stored.blk_cksum));
	stored.blk_fill = 0;
	if (bp_is_embedded(bp)) {
		memset(&stored, 0, sizeof(stored));
		stored.blk_prop = bp->blk_prop;
		stored.blk_birth = bp->blk_birth;
	}
	dnode_t bo;
	if ((rc = dnode_hold(spa->mos, pick.bpobj, &bo)) != 0)
		return rc;
	uint64_t blen;
	const uint8_t *hdr = dnode_bonus(&bo, &blen);
	uint64_t num = blen >= 8 ? le64(hdr + BPOBJ_OFF_NUM) : 0;
	dnode_rele(&bo);
	uint8_t raw[sizeof(blkptr_t)];
	bp_store(raw, &stored);
	if ((rc = dmu_write(spa->mos, pick.bpobj, num * sizeof(blkptr_t), sizeof(raw), raw, &tx)) != 0)
		return rc;
	static const unsigned bo_offs[4] = { BPOBJ_OFF_NUM, BPOBJ_OFF_BYTES, BPOBJ_OFF_COMP, BPOBJ_OFF_UNCOMP };
	int64_t bo_deltas[4] = { 1, dsize, psize, ucsize };
	if ((rc = bonus_add(spa, pick.bpobj, bo_offs, bo_deltas, blen >= 32 ? 4 : 2, &tx)) != 0)
		return rc;
	static const unsigned dl_offs[3] = { DL_OFF_USED, DL_OFF_COMP, DL_OFF_UNCOMP };
	int64_t dl_deltas[3] = { dsize, psize, ucsize };
	return bonus_add(spa, a->deadlist_obj, dl_offs, dl_deltas, 3, &tx);
}

int dsl_acct_kill(void *arg, const blkptr_t *bp, bool rewritten)
{
	struct dsl_acct *a = arg;
	int64_t dsize = (int64_t)spa_bp_dsize(a->spa, bp);
	int64_t psize = (int64_t)bp_get_psize(bp), ucsize = (int64_t)bp_ucsize(bp);
	a->used -= dsize;
	a->comp -= psize;
	a->uncomp -= ucsize;
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
	int rc = deadlist_insert(a, bp, dsize, psize, ucsize);
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

/* Charge a dsl_dir (which) and its ancestors (CHILD) with the deltas; the
 * dir itself also moves head_to_snap from HEAD to SNAP. */
static int dir_diduse(spa_t *spa, uint64_t dirobj, int which, const struct dsl_acct *a, dmu_tx_t *tx)
{
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
		add64(dd + DD_OFF_USED, a->dir_used);
		add64(dd + DD_OFF_COMPRESSED, a->dir_comp);
		add64(dd + DD_OFF_UNCOMPRESSED, a->dir_uncomp);
		if (le64(dd + DD_OFF_FLAGS) & DD_FLAG_USED_BREAKDOWN) {
			add64(dd + DD_OFF_BREAKDOWN + 8 * (uint64_t)which, a->dir_used);
			if (depth == 0 && a->head_to_snap) {
				add64(dd + DD_OFF_BREAKDOWN + 8 * DD_USED_HEAD, -a->head_to_snap);
				add64(dd + DD_OFF_BREAKDOWN + 8 * DD_USED_SNAP, a->head_to_snap);
			}
		}
		dirobj = le64(dd + DD_OFF_PARENT);
		which = DD_USED_CHILD;
		dnode_rele(&dn);
	}
	return 0;
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
	return dir_diduse(spa, dirobj, DD_USED_HEAD, a, tx);
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
		bool records = zil_has_records(spa, os);
		objset_close(os);
		if (records) {
			snprintf(why, cap, "its intent log holds records that zfuse does not replay yet "
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
	if (has_large_dnodes(os) && spa_feature_is_enabled(spa, "large_dnode"))
		return dsl_dataset_activate_feature(spa, os->dsobj, "large_dnode", tx);
	return 0;
}
