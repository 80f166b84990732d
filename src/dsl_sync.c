/*
 * dsl_sync.c — space accounting of a sync: every block born or killed in a
 * dataset's objset changes that dataset's referenced/compressed/
 * uncompressed/unique bytes and its dsl_dir's used bytes (HEAD), and each
 * ancestor dir's used bytes (CHILD); MOS blocks are charged to $MOS the
 * same way (object-layer.md §6.10, §6.11). A killed block born after the
 * dataset's newest snapshot is freed; an older one belongs to that
 * snapshot and would go to the deadlist, which zfuse does not write yet,
 * so datasets with snapshots are not writable (dsl_dataset_writable).
 */
#include <stdio.h>
#include <string.h>
#include "byteorder.h"
#include "dbuf.h"
#include "dmu_tx.h"
#include "dmu_types.h"
#include "dsl.h"
#include "dsl_sync.h"
#include "spa.h"
#include "zap.h"
#include "zfeature_write.h"
#include "zil.h"
#include "zio_write.h"
#include "zfuse/errors.h"

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
#define DD_USED_CHILD 2
#define DSL_DIR_MAX_DEPTH 256

static uint64_t bp_ucsize(const blkptr_t *bp)
{
	bool meta = bp_get_level(bp) > 0 || dmu_ot_is_metadata(bp_get_type(bp));
	return meta ? bp_get_psize(bp) : bp_get_lsize(bp);
}

void dsl_acct_born(void *arg, const blkptr_t *bp)
{
	struct dsl_acct *a = arg;
	int64_t dsize = (int64_t)spa_bp_dsize(a->spa, bp);
	a->used += dsize;
	a->unique += dsize;
	a->comp += (int64_t)bp_get_psize(bp);
	a->uncomp += (int64_t)bp_ucsize(bp);
}

int dsl_acct_kill(void *arg, const blkptr_t *bp, bool rewritten)
{
	struct dsl_acct *a = arg;
	int64_t dsize = (int64_t)spa_bp_dsize(a->spa, bp);
	a->used -= dsize;
	a->comp -= (int64_t)bp_get_psize(bp);
	a->uncomp -= (int64_t)bp_ucsize(bp);
	if (rewritten) {
		a->unique -= dsize;
		return 0;
	}
	if (bp->blk_birth > a->prev_snap_txg || bp_is_embedded(bp)) {
		a->unique -= dsize;
		zio_free_bp(a->spa, bp, a->txg);
		return 0;
	}
	spa_log(a->spa, ZFUSE_LOG_ERROR, "a block born in txg %llu belongs to a snapshot; "
		"zfuse cannot write deadlists yet", (unsigned long long)bp->blk_birth);
	return -ZFUSE_E_UNSUPPORTED;
}

static void add64(uint8_t *p, int64_t delta)
{
	put_le64(p, (uint64_t)((int64_t)le64(p) + delta));
}

/* Charge a dsl_dir (which) and its ancestors (CHILD) with the deltas. */
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
			return -ZFUSE_E_CORRUPT;
		}
		add64(dd + DD_OFF_USED, a->used);
		add64(dd + DD_OFF_COMPRESSED, a->comp);
		add64(dd + DD_OFF_UNCOMPRESSED, a->uncomp);
		if (le64(dd + DD_OFF_FLAGS) & DD_FLAG_USED_BREAKDOWN)
			add64(dd + DD_OFF_BREAKDOWN + 8 * (uint64_t)which, a->used);
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
		return -ZFUSE_E_CORRUPT;
	}
	bp_store(ds + DS_OFF_BP, newbp);
	add64(ds + DS_OFF_REFERENCED, a->used);
	add64(ds + DS_OFF_COMPRESSED, a->comp);
	add64(ds + DS_OFF_UNCOMPRESSED, a->uncomp);
	add64(ds + DS_OFF_UNIQUE_BYTES, a->unique);
	uint64_t dirobj = le64(ds);
	dnode_rele(&dn);
	return dir_diduse(spa, dirobj, DD_USED_HEAD, a, tx);
}

int dsl_mos_diduse(spa_t *spa, const struct dsl_acct *a, dmu_tx_t *tx)
{
	if (!a->used && !a->comp && !a->uncomp)
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
	if (ds.prev_snap_obj) {
		dsl_dataset_phys_t prev;
		/* A clone of $ORIGIN has it as its previous snapshot; nothing of
		 * the dataset's own was born by then. */
		if (dsl_dataset_read(spa, ds.prev_snap_obj, &prev) != 0 || prev.creation_txg > 1 ||
		    ds.prev_snap_txg > 1) {
			snprintf(why, cap, "it has snapshots, and zfuse cannot write deadlists yet");
			return false;
		}
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
