/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dsl_destroy.c — the sync steps that destroy snapshots and datasets and
 * roll heads back (object-layer.md §7.2, §7.4, §7.6; OpenZFS
 * dsl_destroy_snapshot_sync_impl, dsl_destroy_head_sync_impl,
 * dsl_dataset_rollback_sync).
 *
 * Theory: space is a function of deadlists. A snapshot's deadlist holds
 * what earlier snapshots have and it does not; merged into its
 * successor's, that is exactly what the successor lacks once it is gone.
 * The successor's entries born after the previous snapshot held blocks
 * only the destroyed one had: those are freed. Where OpenZFS hands freed
 * blocks to a background thread (free_bpobj, bptree), zfuse frees them in
 * the same txg; the pool that results is the one OpenZFS reaches when its
 * background free is done.
 */
#include <stdio.h>
#include <string.h>
#include "bpobj.h"
#include "byteorder.h"
#include "dmu_traverse.h"
#include "dmu_types.h"
#include "dnode.h"
#include "dsl.h"
#include "dsl_bookmark.h"
#include "dsl_dataset.h"
#include "dsl_deadlist.h"
#include "dsl_destroy.h"
#include "dsl_crypt.h"
#include "dsl_sync.h"
#include "dsl_synctask.h"
#include "spa_impl.h"
#include "zap.h"
#include "zfeature.h"
#include "zfeature_write.h"
#include "zil.h"
#include "zio_write.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define DD_FIELD_SNAPSHOT_COUNT "com.joyent:snapshot_count"
#define DD_FIELD_FILESYSTEM_COUNT "com.joyent:filesystem_count"
#define DD_FIELD_LIVELIST "com.delphix:livelist"

static void key_name(char *buf, size_t cap, uint64_t v)
{
	snprintf(buf, cap, "%llx", (unsigned long long)v);
}

/* ---- freeing MOS objects of a dataset ----------------------------------------- */

struct feature_keys {
	const char *names[64];
	unsigned n;
};

static int feature_key_cb(void *arg, const zap_entry_t *ze)
{
	struct feature_keys *fk = arg;
	const struct zfeature_info *fi = dsl_dataset_feature_key(ze->name);
	if (fi && fk->n < sizeof(fk->names) / sizeof(fk->names[0]))
		fk->names[fk->n++] = fi->name;
	return 0;
}

/* Free a MOS object of a dataset or dir; a zapified one gives back its
 * per-dataset features and its extensible_dataset reference. */
static int free_dsl_object(spa_t *spa, uint64_t obj, dmu_tx_t *tx)
{
	dnode_t dn;
	int rc = dnode_hold(spa->mos, obj, &dn);
	if (rc)
		return rc;
	bool zapified = dn.type == DMU_OTN_ZAP_METADATA;
	struct feature_keys fk = { .n = 0 };
	if (zapified)
		rc = zap_iterate(&dn, 0, 0, feature_key_cb, &fk);
	dnode_rele(&dn);
	for (unsigned i = 0; rc == 0 && i < fk.n; i++)
		rc = spa_feature_decr(spa, fk.names[i], tx);
	if (rc == 0 && zapified)
		rc = spa_feature_decr(spa, "extensible_dataset", tx);
	return rc ? rc : dmu_object_free(spa->mos, obj, tx);
}

static int free_if(spa_t *spa, uint64_t obj, dmu_tx_t *tx)
{
	return obj ? dmu_object_free(spa->mos, obj, tx) : 0;
}

/* Free the MOS objects a dataset or dir points to (0: none). */
static int free_objects(spa_t *spa, dmu_tx_t *tx, const uint64_t *objs, int n)
{
	int rc = 0;
	for (int i = 0; rc == 0 && i < n; i++)
		rc = free_if(spa, objs[i], tx);
	return rc;
}

/* Remove the entry whose value is `value` from MOS ZAP zapobj. */
static int zap_remove_value(spa_t *spa, uint64_t zapobj, uint64_t value, dmu_tx_t *tx)
{
	char name[256];
	int rc = mos_zap_name_of(spa, zapobj, value, name, sizeof(name));
	return rc ? rc : zap_remove_norm(spa->mos, zapobj, name, tx, NULL, 0);
}

/* A uint64 field of a zapified dir or dataset; ZFUSE_E_NOENT if none. */
static int dsl_dir_field(spa_t *spa, uint64_t obj, const char *name, uint64_t *value)
{
	dnode_t dn;
	int rc = dnode_hold(spa->mos, obj, &dn);
	if (rc)
		return rc;
	rc = dn.type == DMU_OTN_ZAP_METADATA ? zap_lookup_uint64(&dn, name, value) : -ZFUSE_E_NOENT;
	dnode_rele(&dn);
	return rc;
}

/* ---- destroying a snapshot (§7.2) ---------------------------------------------- */

/* dsl_dir_remove_clones_key: clones made from snapshots newer than the
 * destroyed one lose its boundary in their deadlists, recursively. */
static int remove_clones_key(spa_t *spa, uint64_t dirobj, uint64_t key, dmu_tx_t *tx, int depth)
{
	dsl_dir_phys_t dd;
	int rc = dsl_dir_read(spa, dirobj, &dd);
	if (rc || !dd.clones)
		return rc;
	if (depth > DSL_DIR_MAX_DEPTH)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	struct dl_entries clones;	/* hex key = clone head */
	if ((rc = dsl_deadlist_load(spa, dd.clones, &clones)) != 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < clones.n; i++) {
		dsl_dataset_phys_t c, origin;
		dsl_dir_phys_t cdd;
		rc = dsl_dataset_read(spa, clones.v[i].bpobj, &c);
		if (rc == 0)
			rc = dsl_dir_read(spa, c.dir_obj, &cdd);
		if (rc == 0)
			rc = dsl_dataset_read(spa, cdd.origin_obj, &origin);
		if (rc == 0 && origin.creation_txg > key) {
			rc = dsl_deadlist_remove_key(spa, c.deadlist_obj, key, tx);
			if (rc == 0)
				rc = remove_clones_key(spa, c.dir_obj, key, tx, depth + 1);
		}
	}
	dsl_deadlist_entries_free(&clones);
	return rc;
}

int dsl_dir_remove_clones_key(spa_t *spa, uint64_t dirobj, uint64_t key, dmu_tx_t *tx)
{
	return remove_clones_key(spa, dirobj, key, tx, 0);
}

int dsl_destroy_snapshot_check(spa_t *spa, uint64_t snapobj)
{
	dsl_dataset_phys_t s;
	int rc = dsl_dataset_read(spa, snapobj, &s);
	if (rc)
		return rc;
	if (s.next_snap_obj == 0)
		return SET_ERROR(-ZFUSE_E_INVAL);	/* a head */
	if (s.num_children > 1)
		return SET_ERROR(-ZFUSE_E_EXIST);	/* it has clones */
	if (s.userrefs_obj) {
		uint64_t holds = 0;
		if ((rc = zap_count(spa->mos, s.userrefs_obj, &holds)) != 0)
			return rc;
		if (holds)
			return SET_ERROR(-ZFUSE_E_BUSY);
	}
	return dsl_dataset_is_open(spa, snapobj) ? SET_ERROR(-ZFUSE_E_BUSY) : 0;
}

int dsl_destroy_snapshot_sync_impl(spa_t *spa, uint64_t sobj, dmu_tx_t *tx)
{
	dsl_dataset_phys_t s, n, p;
	int rc = dsl_dataset_read(spa, sobj, &s);
	if (rc == 0)
		rc = dsl_dataset_read(spa, s.next_snap_obj, &n);
	if (rc == 0 && s.prev_snap_obj)
		rc = dsl_dataset_read(spa, s.prev_snap_obj, &p);
	if (rc)
		return rc;
	uint64_t nobj = s.next_snap_obj, a = s.prev_snap_txg, c = s.creation_txg;
	bool after_branch = s.prev_snap_obj && p.next_snap_obj != sobj;
	/* Bookmarks first, while N's deadlist is still what died between S
	 * and N; a bookmark at c keeps c's deadlist keys. */
	bool keep_key;
	rc = dsl_bookmark_ds_destroyed(spa, sobj, tx, &keep_key);
	if (rc == 0)
		rc = dsl_dataset_relink_prev(spa, s.prev_snap_obj, sobj, nobj, tx);
	if (rc == 0)
		rc = dsl_phys_set(spa, nobj, DS_OFF_PREV_SNAP_OBJ, s.prev_snap_obj, tx);
	if (rc == 0)
		rc = dsl_phys_set(spa, nobj, DS_OFF_PREV_SNAP_TXG, a, tx);
	struct bpobj_space sp;
	/* Blocks born in P's interval that died between S and N were P's
	 * and S's only: P's alone now. */
	if (rc == 0 && s.prev_snap_obj && !after_branch) {
		rc = dsl_deadlist_space_range(spa, n.deadlist_obj, p.prev_snap_txg, a, &sp);
		if (rc == 0)
			rc = dsl_phys_set(spa, s.prev_snap_obj, DS_OFF_UNIQUE_BYTES,
					  p.unique_bytes + sp.used, tx);
	}
	/* Born after P and dead before N: only S had them. */
	if (rc == 0)
		rc = dsl_deadlist_free_from(spa, n.deadlist_obj, a, tx, &sp);
	if (rc == 0)
		rc = dsl_dir_diduse_space(spa, s.dir_obj, DD_USED_SNAP, -(int64_t)sp.used,
					  -(int64_t)sp.comp, -(int64_t)sp.uncomp, tx);
	if (rc == 0)
		rc = dsl_deadlist_merge(spa, n.deadlist_obj, s.deadlist_obj, tx);
	if (rc == 0)
		rc = dsl_deadlist_free(spa, s.deadlist_obj, tx);
	if (rc == 0 && !keep_key)
		rc = remove_clones_key(spa, s.dir_obj, c, tx, 0);

	dsl_dir_phys_t dd;
	dsl_dataset_phys_t head;
	if (rc == 0)
		rc = dsl_dir_read(spa, s.dir_obj, &dd);
	if (rc == 0 && n.next_snap_obj) {
		/* N is a snapshot: what S and N alone shared is N's alone now,
		 * and the head's deadlist loses S's boundary. */
		dsl_dataset_phys_t nn;
		rc = dsl_dataset_read(spa, n.next_snap_obj, &nn);
		if (rc == 0)
			rc = dsl_deadlist_space_range(spa, nn.deadlist_obj, a, c, &sp);
		if (rc == 0)
			rc = dsl_phys_set(spa, nobj, DS_OFF_UNIQUE_BYTES, n.unique_bytes + sp.used, tx);
		if (rc == 0)
			rc = dsl_dataset_read(spa, dd.head_dataset_obj, &head);
		if (rc == 0 && !keep_key)
			rc = dsl_deadlist_remove_key(spa, head.deadlist_obj, c, tx);
	} else if (rc == 0) {
		/* N is the head: dsl_dataset_recalc_head_uniq */
		uint64_t mrs_used = 0;
		if (s.prev_snap_obj)
			mrs_used = p.referenced_bytes;
		if (rc == 0)
			rc = dsl_deadlist_space(spa, n.deadlist_obj, &sp);
		uint64_t uniq = n.referenced_bytes - (mrs_used - sp.used);
		if (rc == 0)
			rc = dsl_phys_set(spa, nobj, DS_OFF_UNIQUE_BYTES, uniq, tx);
		/* The head's new unique bytes take over part of its
		 * refreservation's charge. */
		uint64_t refres = rc == 0 ? dsl_dir_refreservation(spa, s.dir_obj) : 0;
		if (refres)
			rc = dsl_refrsrv_adjust(spa, s.dir_obj, refres, refres, n.unique_bytes, uniq,
						tx);
	}
	if (rc == 0)
		rc = dsl_dataset_read(spa, dd.head_dataset_obj, &head);
	if (rc == 0)
		rc = zap_remove_value(spa, head.snapnames_zapobj, sobj, tx);
	if (rc == 0)
		rc = free_objects(spa, tx, (uint64_t[]){ s.next_clones_obj, s.props_obj,
							 s.userrefs_obj }, 3);
	if (rc == 0)
		rc = free_dsl_object(spa, sobj, tx);
	if (rc == 0)
		rc = dsl_dir_count_adjust(spa, s.dir_obj, DD_FIELD_SNAPSHOT_COUNT, -1, tx);
	if (rc == 0)
		rc = dsl_dir_snapshots_changed(spa, s.dir_obj, tx);
	return rc;
}

/* ---- destroying a head (§7.6) ---------------------------------------------------- */

struct free_walk {
	spa_t *spa;
	uint64_t txg;
	struct bpobj_space freed;
};

static int free_born_cb(void *arg, const blkptr_t *bp)
{
	struct free_walk *w = arg;
	w->freed.used += spa_bp_dsize(w->spa, bp);
	w->freed.comp += bp_get_psize(bp);
	w->freed.uncomp += dsl_bp_ucsize(bp);
	zio_free_bp(w->spa, bp, w->txg);
	return 0;
}

int dsl_destroy_head_check(spa_t *spa, uint64_t dsobj)
{
	dsl_dataset_phys_t h;
	dsl_dir_phys_t dd;
	int rc = dsl_dataset_read(spa, dsobj, &h);
	if (rc == 0)
		rc = dsl_dir_read(spa, h.dir_obj, &dd);
	if (rc)
		return rc;
	if (dd.parent_obj == 0)
		return SET_ERROR(-ZFUSE_E_BUSY);	/* the pool's root dataset */
	uint64_t n = 0;
	if (h.snapnames_zapobj && (rc = zap_count(spa->mos, h.snapnames_zapobj, &n)) != 0)
		return rc;
	if (n)
		return SET_ERROR(-ZFUSE_E_EXIST);	/* snapshots */
	if ((rc = zap_count(spa->mos, dd.child_dir_zapobj, &n)) != 0)
		return rc;
	if (n)
		return SET_ERROR(-ZFUSE_E_NOTEMPTY);	/* children */
	return dsl_dataset_is_open(spa, dsobj) ? SET_ERROR(-ZFUSE_E_BUSY) : 0;
}

int dsl_destroy_head_sync_impl(spa_t *spa, uint64_t dsobj, dmu_tx_t *tx)
{
	dsl_dataset_phys_t h;
	dsl_dir_phys_t dd;
	int rc = dsl_dataset_read(spa, dsobj, &h);
	if (rc == 0)
		rc = dsl_dir_read(spa, h.dir_obj, &dd);
	if (rc)
		return rc;
	uint64_t dirobj = h.dir_obj;
	/* Everything born after the origin is this dataset's alone. */
	struct free_walk w = { spa, tx->txg, { 0, 0, 0 } };
	rc = traverse_objset(spa, &h.bp, h.prev_snap_txg, free_born_cb, &w);
	/* Its intent log too (zil_destroy_sync): no tree points at it. */
	if (rc == 0)
		rc = zil_free_log(spa, &h.bp, tx->txg);
	/* The dir goes with all it was charged with. */
	if (rc == 0)
		rc = dsl_dir_diduse_space(spa, dirobj, DD_USED_HEAD, -(int64_t)dd.used_bytes,
					  -(int64_t)dd.compressed_bytes,
					  -(int64_t)dd.uncompressed_bytes, tx);
	/* dsl_dir_destroy_sync: the reservation goes with the dir. */
	if (rc == 0 && dd.reserved)
		rc = dsl_dir_set_reservation_sync_impl(spa, dirobj, 0, tx);
	if (rc == 0)
		rc = dsl_deadlist_free(spa, h.deadlist_obj, tx);
	/* Origin links: the origin snapshot loses a child. */
	if (rc == 0 && h.prev_snap_obj) {
		dsl_dataset_phys_t o;
		dsl_dir_phys_t odd;
		char key[24];
		key_name(key, sizeof(key), dsobj);
		rc = dsl_dataset_read(spa, h.prev_snap_obj, &o);
		if (rc == 0)
			rc = dsl_phys_set(spa, h.prev_snap_obj, DS_OFF_NUM_CHILDREN, o.num_children - 1, tx);
		if (rc == 0 && o.next_clones_obj) {
			rc = zap_remove(spa->mos, o.next_clones_obj, key, tx);
			if (rc == -ZFUSE_E_NOENT)
				rc = 0;
		}
		if (rc == 0)
			rc = dsl_dir_read(spa, o.dir_obj, &odd);
		if (rc == 0 && odd.clones) {
			rc = zap_remove(spa->mos, odd.clones, key, tx);
			if (rc == -ZFUSE_E_NOENT)
				rc = 0;
		}
	}
	if (rc == 0)
		rc = free_if(spa, h.snapnames_zapobj, tx);
	if (rc == 0)
		rc = dsl_bookmark_head_destroyed(spa, dsobj, tx);
	if (rc == 0)
		rc = free_dsl_object(spa, dsobj, tx);
	/* the dir */
	if (rc == 0)
		rc = dsl_dir_count_adjust(spa, dd.parent_obj, DD_FIELD_FILESYSTEM_COUNT, -1, tx);
	uint64_t livelist;
	if (rc == 0 && dsl_dir_field(spa, dirobj, DD_FIELD_LIVELIST, &livelist) == 0) {
		rc = dsl_deadlist_free(spa, livelist, tx);
		if (rc == 0)
			rc = spa_feature_decr(spa, "livelist", tx);
	}
	dsl_dir_phys_t parent;
	if (rc == 0)
		rc = dsl_dir_read(spa, dd.parent_obj, &parent);
	if (rc == 0)
		rc = zap_remove_value(spa, parent.child_dir_zapobj, dirobj, tx);
	if (rc == 0)
		rc = dsl_crypto_key_destroy_sync(spa, dirobj, tx);
	if (rc == 0)
		rc = free_objects(spa, tx, (uint64_t[]){ dd.props_zapobj, dd.child_dir_zapobj,
							 dd.deleg_zapobj, dd.clones }, 4);
	if (rc == 0)
		rc = free_dsl_object(spa, dirobj, tx);
	return rc;
}

/* ---- rollback (§7.4) --------------------------------------------------------------- */

int dsl_dataset_rollback_check(spa_t *spa, uint64_t head, uint64_t snapobj)
{
	dsl_dataset_phys_t h;
	int rc = dsl_dataset_read(spa, head, &h);
	if (rc)
		return rc;
	if (h.prev_snap_obj != snapobj || dsl_bookmark_latest_txg(spa, head) > h.prev_snap_txg)
		return SET_ERROR(-ZFUSE_E_EXIST);	/* newer snapshots or bookmarks */
	dsl_dataset_phys_t s;
	if ((rc = dsl_dataset_read(spa, snapobj, &s)) != 0)
		return rc;
	/* A snapshot with an intent log header would need it zeroed in a
	 * copy of its objset block (§7.4 step 4); zfuse never makes one. */
	bool has_log;
	if ((rc = dsl_objset_has_log(spa, &s.bp, &has_log)) != 0)
		return rc;
	return has_log ? SET_ERROR(-ZFUSE_E_UNSUPPORTED) : 0;
}

int dsl_dataset_rollback_sync_impl(spa_t *spa, uint64_t head, uint64_t snapobj, dmu_tx_t *tx)
{
	dsl_dataset_phys_t h, s;
	dsl_dir_phys_t dd;
	int rc = dsl_dataset_read(spa, head, &h);
	if (rc == 0)
		rc = dsl_dataset_read(spa, snapobj, &s);
	if (rc == 0)
		rc = dsl_dir_read(spa, h.dir_obj, &dd);
	uint64_t origin_txg = 0;
	if (rc == 0 && dd.origin_obj) {
		dsl_dataset_phys_t o;
		rc = dsl_dataset_read(spa, dd.origin_obj, &o);
		origin_txg = o.creation_txg;
	}
	if (rc)
		return rc;
	/* What the head wrote since the snapshot is its alone: free it. */
	struct free_walk w = { spa, tx->txg, { 0, 0, 0 } };
	rc = traverse_objset(spa, &h.bp, s.creation_txg, free_born_cb, &w);
	if (rc == 0)
		rc = zil_free_log(spa, &h.bp, tx->txg);	/* the head's log goes with its tree */
	if (rc == 0)
		rc = dsl_dir_diduse_space(spa, h.dir_obj, DD_USED_HEAD, -(int64_t)w.freed.used,
					  -(int64_t)w.freed.comp, -(int64_t)w.freed.uncomp, tx);
	/* What it killed since is the snapshot's and the head's again. */
	struct bpobj_space back;
	uint64_t newdl;
	if (rc == 0)
		rc = dsl_deadlist_space_range(spa, h.deadlist_obj, origin_txg, UINT64_MAX, &back);
	if (rc == 0)
		rc = dsl_dir_transfer_space(spa, h.dir_obj, (int64_t)back.used, DD_USED_SNAP,
					    DD_USED_HEAD, tx);
	if (rc == 0)
		rc = dsl_deadlist_clone(spa, h.deadlist_obj, UINT64_MAX, tx, &newdl);
	if (rc == 0)
		rc = dsl_deadlist_free(spa, h.deadlist_obj, tx);
	if (rc == 0)
		rc = dsl_phys_set(spa, head, DS_OFF_DEADLIST_OBJ, newdl, tx);
	if (rc)
		return rc;
	/* The head is the snapshot's tree. */
	dnode_t dn;
	if ((rc = dnode_hold_dirty(spa->mos, head, tx, &dn)) != 0)
		return rc;
	uint64_t len;
	uint8_t *b = (uint8_t *)dnode_bonus(&dn, &len);
	if (len >= DSL_DATASET_PHYS_SIZE) {
		bp_store(b + DS_OFF_BP, &s.bp);
		put_le64(b + DS_OFF_REFERENCED, s.referenced_bytes);
		put_le64(b + DS_OFF_COMPRESSED, s.compressed_bytes);
		put_le64(b + DS_OFF_UNCOMPRESSED, s.uncompressed_bytes);
		put_le64(b + DS_OFF_UNIQUE_BYTES, 0);
	} else {
		rc = SET_ERROR(-ZFUSE_E_CORRUPT);
	}
	dnode_rele(&dn);
	if (rc == 0)
		rc = dsl_phys_set(spa, snapobj, DS_OFF_UNIQUE_BYTES, 0, tx);
	/* No unique bytes: all of a refreservation is charged again. */
	uint64_t refres = rc == 0 ? dsl_dir_refreservation(spa, h.dir_obj) : 0;
	if (refres)
		rc = dsl_refrsrv_adjust(spa, h.dir_obj, refres, refres, h.unique_bytes, 0, tx);
	if (rc == 0)
		rc = dsl_dataset_copy_features(spa, snapobj, head, tx);
	if (rc == 0)
		rc = dsl_bookmark_next_changed(spa, head, snapobj, tx);
	for (objset_t *os = spa->objsets; rc == 0 && os; os = os->next)
		if (os->dsobj == head)
			os->rolled_back = true;
	return rc;
}

/* ---- dropping a clone's livelist (§6.9) ----------------------------------------- */

static int livelist_check(spa_t *spa, void *arg, dmu_tx_t *tx)
{
	(void)tx;
	uint64_t ll;
	return dsl_dir_field(spa, *(uint64_t *)arg, DD_FIELD_LIVELIST, &ll);
}

int dsl_dir_remove_livelist(spa_t *spa, uint64_t dirobj, dmu_tx_t *tx)
{
	uint64_t ll;
	if (dsl_dir_field(spa, dirobj, DD_FIELD_LIVELIST, &ll) != 0)
		return 0;
	int rc = dsl_deadlist_free(spa, ll, tx);
	if (rc == 0)
		rc = zap_remove(spa->mos, dirobj, DD_FIELD_LIVELIST, tx);
	if (rc == 0)
		rc = spa_feature_decr(spa, "livelist", tx);
	return rc;
}

static int livelist_sync(spa_t *spa, void *arg, dmu_tx_t *tx)
{
	return dsl_dir_remove_livelist(spa, *(uint64_t *)arg, tx);
}

int dsl_dir_livelist_delete(spa_t *spa, uint64_t dirobj)
{
	return dsl_sync_task(spa, livelist_check, livelist_sync, &dirobj);
}
