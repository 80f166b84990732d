/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dsl_dataset.c — the sync steps that give datasets new snapshots and
 * new children (object-layer.md §7.1, §7.5; OpenZFS
 * dsl_dataset_snapshot_sync_impl, dsl_dir_create_sync,
 * dsl_dataset_create_sync).
 *
 * Theory: these run inside a sync (dsl_synctask.h), after the datasets'
 * objsets of the txg are written, so a head's ds_bp and byte counts are
 * the txg's final ones and a snapshot simply copies them. Every link
 * OpenZFS keeps is kept: the chain prev/next, the branch point's
 * next-clones entry, the deadlist keys, per-dataset features, the dir's
 * snapshots_changed time and its snapshot/filesystem counts where they
 * are kept. Space moves only later, when blocks die (dsl_sync.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "byteorder.h"
#include "dmu_types.h"
#include "dnode.h"
#include "dsl.h"
#include "dsl_bookmark.h"
#include "dsl_deadlist.h"
#include "dsl_sync.h"
#include "dsl_dataset.h"
#include "dsl_crypt.h"
#include "dsl_sync.h"
#include "spa_impl.h"
#include "zap.h"
#include "zil.h"
#include "zfeature_write.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define TXG_INITIAL 4
#define DD_FIELD_SNAPSHOTS_CHANGED "com.ixsystems:snapshots_changed"
#define DD_FIELD_FILESYSTEM_COUNT "com.joyent:filesystem_count"
#define DD_FIELD_SNAPSHOT_COUNT "com.joyent:snapshot_count"

static int hex_key(char *buf, size_t cap, uint64_t v)
{
	return snprintf(buf, cap, "%llx", (unsigned long long)v);
}

/* A ZAP lookup in MOS object obj; ZFUSE_E_NOENT when the object is not
 * a ZAP (a dsl_dir that was never zapified). */
static int mos_zap_lookup(spa_t *spa, uint64_t obj, const char *name, uint64_t *value)
{
	dnode_t dn;
	int rc = dnode_hold(spa->mos, obj, &dn);
	if (rc)
		return rc;
	rc = dmu_ot_is_zap(dn.type) ? zap_lookup_uint64(&dn, name, value) : -ZFUSE_E_NOENT;
	dnode_rele(&dn);
	return rc;
}

/* dsl_fs_ss_count_adjust: counts are kept from a dir up to the first
 * ancestor that does not keep them. */
int dsl_dir_count_adjust(spa_t *spa, uint64_t dirobj, const char *field, int64_t delta,
			 dmu_tx_t *tx)
{
	while (dirobj) {
		uint64_t n;
		int rc = mos_zap_lookup(spa, dirobj, field, &n);
		if (rc == -ZFUSE_E_NOENT)
			return 0;
		if (rc == 0)
			rc = zap_update_uint64(spa->mos, dirobj, field, n + (uint64_t)delta, tx);
		if (rc == 0)
			rc = dsl_phys_get(spa, dirobj, 16, &dirobj);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- filesystem and snapshot limits (OpenZFS dsl_dir.c) ------------- */

struct named_values {
	struct { char name[ZAP_MAXNAMELEN_NEW]; uint64_t v; } *e;
	size_t n, cap;
};

static int named_cb(void *arg, const zap_entry_t *ze)
{
	struct named_values *l = arg;
	if (l->n == l->cap) {
		size_t nc = l->cap ? 2 * l->cap : 16;
		void *nv = realloc(l->e, nc * sizeof(*l->e));
		if (!nv)
			return -ZFUSE_E_NOMEM;
		l->e = nv;
		l->cap = nc;
	}
	snprintf(l->e[l->n].name, sizeof(l->e[l->n].name), "%s", ze->name);
	l->e[l->n++].v = ze->value_first;
	return 0;
}

static int mos_zap_list(spa_t *spa, uint64_t obj, struct named_values *l)
{
	dnode_t dn;
	int rc = dnode_hold(spa->mos, obj, &dn);
	if (rc)
		return rc;
	rc = zap_iterate(&dn, 0, 0, named_cb, l);
	dnode_rele(&dn);
	return rc < 0 ? rc : 0;
}

/* dsl_dir_init_fs_ss_count: a dir that keeps no counts yet gets them,
 * and so does every dir below it that has none (children first): the
 * filesystems below it (not $MOS, $FREE, $ORIGIN) and the snapshots of
 * it and below (not temporary '%' ones). */
static int init_fs_ss_count(spa_t *spa, uint64_t dirobj, dmu_tx_t *tx, int depth)
{
	uint64_t fs = 0, ss = 0, n;
	if (depth > DSL_DIR_MAX_DEPTH)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	int rc = dmu_object_zapify(spa, dirobj, tx);
	if (rc == 0 && mos_zap_lookup(spa, dirobj, DD_FIELD_FILESYSTEM_COUNT, &n) == 0)
		return 0;
	dsl_dir_phys_t dd;
	if (rc == 0)
		rc = dsl_dir_read(spa, dirobj, &dd);
	struct named_values kids = { 0 }, snaps = { 0 };
	if (rc == 0 && dd.child_dir_zapobj)
		rc = mos_zap_list(spa, dd.child_dir_zapobj, &kids);
	for (size_t i = 0; rc == 0 && i < kids.n; i++) {
		if (kids.e[i].name[0] == '$')
			continue;
		fs++;
		if ((rc = init_fs_ss_count(spa, kids.e[i].v, tx, depth + 1)) == 0 &&
		    (rc = mos_zap_lookup(spa, kids.e[i].v, DD_FIELD_FILESYSTEM_COUNT, &n)) == 0) {
			fs += n;
			if ((rc = mos_zap_lookup(spa, kids.e[i].v, DD_FIELD_SNAPSHOT_COUNT, &n)) == 0)
				ss += n;
		}
	}
	dsl_dataset_phys_t h;
	if (rc == 0 && dd.head_dataset_obj && (rc = dsl_dataset_read(spa, dd.head_dataset_obj,
								       &h)) == 0 &&
	    h.snapnames_zapobj)
		rc = mos_zap_list(spa, h.snapnames_zapobj, &snaps);
	for (size_t i = 0; rc == 0 && i < snaps.n; i++)
		ss += snaps.e[i].name[0] != '%';
	free(kids.e);
	free(snaps.e);
	if (rc == 0)
		rc = zap_update_uint64(spa->mos, dirobj, DD_FIELD_FILESYSTEM_COUNT, fs, tx);
	if (rc == 0)
		rc = zap_update_uint64(spa->mos, dirobj, DD_FIELD_SNAPSHOT_COUNT, ss, tx);
	return rc;
}

int dsl_dir_activate_fs_ss_limit(spa_t *spa, uint64_t dirobj, dmu_tx_t *tx)
{
	int rc = 0;
	if (!spa_feature_is_active(spa, "filesystem_limits"))
		rc = spa_feature_incr(spa, "filesystem_limits", tx);
	return rc ? rc : init_fs_ss_count(spa, dirobj, tx, 0);
}

int dsl_dir_init_new_counts(spa_t *spa, uint64_t dirobj, dmu_tx_t *tx)
{
	if (!spa_feature_is_active(spa, "filesystem_limits"))
		return 0;
	int rc = dmu_object_zapify(spa, dirobj, tx);
	if (rc == 0)
		rc = zap_update_uint64(spa->mos, dirobj, DD_FIELD_FILESYSTEM_COUNT, 0, tx);
	if (rc == 0)
		rc = zap_update_uint64(spa->mos, dirobj, DD_FIELD_SNAPSHOT_COUNT, 0, tx);
	return rc;
}

int dsl_fs_ss_limit_check(spa_t *spa, uint64_t dirobj, uint64_t delta, bool snapshots)
{
	/* dsl_enforce_ds_ss_limits: whoever may change a limit may exceed
	 * it; zfuse has no delegation, so that is root. */
	if (delta == 0 || geteuid() == 0)
		return 0;
	const char *field = snapshots ? DD_FIELD_SNAPSHOT_COUNT : DD_FIELD_FILESYSTEM_COUNT;
	const char *prop = snapshots ? "snapshot_limit" : "filesystem_limit";
	for (int depth = 0; dirobj && depth < DSL_DIR_MAX_DEPTH; depth++) {
		uint64_t count, limit = UINT64_MAX;
		int rc = mos_zap_lookup(spa, dirobj, field, &count);
		if (rc == -ZFUSE_E_NOENT)
			return 0;	/* counts are not kept from here up */
		if (rc)
			return rc;
		dsl_prop_get_uint64(spa, dirobj, prop, false, &limit, NULL);
		if (count + delta > limit)
			return SET_ERROR(-ZFUSE_E_DQUOT);
		if ((rc = dsl_phys_get(spa, dirobj, DD_OFF_PARENT, &dirobj)) != 0)
			return rc;
	}
	return 0;
}

int dsl_dir_snapshots_changed(spa_t *spa, uint64_t dirobj, dmu_tx_t *tx)
{
	/* The time lives in the dir's ZAP: without extensible_dataset (old
	 * pools, and $ORIGIN@$ORIGIN, made before features are enabled) it is
	 * kept in memory only, as OpenZFS does. */
	if (!spa_feature_is_enabled(spa, "extensible_dataset"))
		return 0;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	uint64_t t[2] = { (uint64_t)now.tv_sec, (uint64_t)now.tv_nsec };
	int rc = dmu_object_zapify(spa, dirobj, tx);
	return rc ? rc : zap_update(spa->mos, dirobj, DD_FIELD_SNAPSHOTS_CHANGED, 8, 2, t, tx);
}

int dsl_snapshot_lookup(spa_t *spa, uint64_t head, const char *snapname, uint64_t *snapobj)
{
	dsl_dataset_phys_t h;
	int rc = dsl_dataset_read(spa, head, &h);
	if (rc)
		return rc;
	if (!h.snapnames_zapobj)
		return -ZFUSE_E_NOENT;
	dnode_t dn;
	if ((rc = dnode_hold(spa->mos, h.snapnames_zapobj, &dn)) != 0)
		return rc;
	rc = zap_lookup_norm(&dn, snapname, snapobj, NULL, 0);
	dnode_rele(&dn);
	return rc;
}

/* The head of a branch point P moves on from `from` to `to` (P's next
 * snapshot, or its next-clones entry when `from` branched off P). */
int dsl_dataset_relink_prev(spa_t *spa, uint64_t prev, uint64_t from, uint64_t to, dmu_tx_t *tx)
{
	if (!prev)
		return 0;
	dsl_dataset_phys_t p;
	int rc = dsl_dataset_read(spa, prev, &p);
	if (rc)
		return rc;
	if (p.next_snap_obj == from)
		return dsl_phys_set(spa, prev, DS_OFF_NEXT_SNAP_OBJ, to, tx);
	if (!p.next_clones_obj)
		return 0;
	char key[24];
	hex_key(key, sizeof(key), from);
	rc = zap_remove(spa->mos, p.next_clones_obj, key, tx);
	if (rc == 0 || rc == -ZFUSE_E_NOENT)
		rc = zap_add_int_key(spa, p.next_clones_obj, to, to, tx);
	return rc;
}

int dsl_dataset_snapshot_sync_impl(spa_t *spa, uint64_t head, const char *snapname,
				   dmu_tx_t *tx, uint64_t *snapobj)
{
	dsl_dataset_phys_t h;
	uint64_t s;
	int rc = dsl_dataset_read(spa, head, &h);
	if (rc == 0)
		rc = dsl_dir_count_adjust(spa, h.dir_obj, DD_FIELD_SNAPSHOT_COUNT, 1, tx);
	if (rc == 0)
		rc = dmu_object_alloc(spa->mos, DMU_OT_DSL_DATASET, 0, DMU_OT_DSL_DATASET,
				      DSL_DATASET_PHYS_SIZE, 0, tx, &s);
	if (rc)
		return rc;
	/* The head's bonus as it is, so fields zfuse does not name survive
	 * where OpenZFS copies them; then the snapshot's own. */
	/* Snapshots made in the pool-creating txg ($ORIGIN@$ORIGIN) count
	 * as made in txg 1, as the datasets born there (dsl_create.c). */
	uint64_t txg = tx->txg == TXG_INITIAL ? 1 : tx->txg;
	uint8_t b[DSL_DATASET_PHYS_SIZE] = { 0 };
	put_le64(b + 0, h.dir_obj);
	put_le64(b + 8, h.prev_snap_obj);
	put_le64(b + 16, h.prev_snap_txg);
	put_le64(b + 24, head);
	put_le64(b + 40, 1);
	put_le64(b + 48, (uint64_t)time(NULL));
	put_le64(b + 56, txg);
	put_le64(b + 64, h.deadlist_obj);
	put_le64(b + 72, h.referenced_bytes);
	put_le64(b + 80, h.compressed_bytes);
	put_le64(b + 88, h.uncompressed_bytes);
	put_le64(b + 104, dsl_unique56());
	put_le64(b + 112, dsl_random64());
	put_le64(b + 120, h.flags);
	memcpy(b + 128, &h.bp, sizeof(h.bp));
	if ((rc = dmu_bonus_write(spa->mos, s, b, sizeof(b), tx)) != 0)
		return rc;
	if ((rc = dsl_dataset_copy_features(spa, head, s, tx)) != 0)
		return rc;
	if ((rc = dsl_crypto_snapshot_sync(spa, h.dir_obj, s, tx)) != 0)
		return rc;
	if ((rc = dsl_dataset_relink_prev(spa, h.prev_snap_obj, head, s, tx)) != 0)
		return rc;
	/* The head's blocks now belong to the snapshot too: a new deadlist
	 * with every old key, empty, and one for the interval just closed. */
	uint64_t newdl;
	rc = dsl_deadlist_clone(spa, h.deadlist_obj, UINT64_MAX, tx, &newdl);
	if (rc == 0)
		rc = dsl_deadlist_add_key(spa, newdl, h.prev_snap_txg, tx);
	if (rc == 0)
		rc = dsl_bookmark_snapshotted(spa, head, newdl, h.prev_snap_txg, tx);
	if (rc == 0)
		rc = dsl_phys_set(spa, head, DS_OFF_DEADLIST_OBJ, newdl, tx);
	if (rc == 0)
		rc = dsl_phys_set(spa, head, DS_OFF_PREV_SNAP_OBJ, s, tx);
	if (rc == 0)
		rc = dsl_phys_set(spa, head, DS_OFF_PREV_SNAP_TXG, txg, tx);
	if (rc == 0)
		rc = dsl_phys_set(spa, head, DS_OFF_UNIQUE_BYTES, 0, tx);
	/* With no unique bytes left, all of a refreservation is charged. */
	uint64_t refres = rc == 0 ? dsl_dir_refreservation(spa, h.dir_obj) : 0;
	if (refres)
		rc = dsl_refrsrv_adjust(spa, h.dir_obj, refres, refres, h.unique_bytes, 0, tx);
	if (rc == 0)
		rc = dsl_phys_set(spa, head, DS_OFF_FLAGS, h.flags | DS_FLAG_UNIQUE_ACCURATE, tx);
	if (rc == 0)
		rc = zap_add_uint64(spa->mos, h.snapnames_zapobj, snapname, s, tx);
	if (rc == 0)
		rc = dsl_dir_snapshots_changed(spa, h.dir_obj, tx);
	if (rc == 0)
		*snapobj = s;
	return rc;
}

int dsl_pool_origin_snapshot(spa_t *spa, uint64_t *origin)
{
	*origin = 0;
	if (spa->version < 11)
		return 0;
	return dsl_phys_get(spa, spa->root_dir_obj, DD_OFF_ORIGIN_OBJ, origin);
}

int dsl_dataset_create_child(spa_t *spa, uint64_t parent_dir, const char *name, uint64_t origin,
			     dmu_tx_t *tx, uint64_t *dsobj)
{
	uint64_t dd;
	int rc = 0;
	if (!origin)
		rc = dsl_pool_origin_snapshot(spa, &origin);
	if (rc == 0)
		rc = dsl_dir_create_sync(spa, parent_dir, name, tx, &dd);
	if (rc == 0)
		rc = dsl_dir_count_adjust(spa, parent_dir, DD_FIELD_FILESYSTEM_COUNT, 1, tx);
	if (rc == 0)
		rc = dsl_dataset_create_sync_dd(spa, dd, origin, 0, tx, dsobj);
	/* A new dir is a leaf: its counts, where they are kept, are 0. */
	if (rc == 0)
		rc = dsl_dir_init_new_counts(spa, dd, tx);
	return rc;
}

int dsl_snapshot_hold(spa_t *spa, uint64_t dsobj)
{
	if (spa->nopen_snaps == spa->capopen_snaps) {
		size_t nc = spa->capopen_snaps ? 2 * spa->capopen_snaps : 8;
		uint64_t *nv = realloc(spa->open_snaps, nc * sizeof(*nv));
		if (!nv)
			return SET_ERROR(-ZFUSE_E_NOMEM);
		spa->open_snaps = nv;
		spa->capopen_snaps = nc;
	}
	spa->open_snaps[spa->nopen_snaps++] = dsobj;
	return 0;
}

void dsl_snapshot_rele(spa_t *spa, uint64_t dsobj)
{
	for (size_t i = 0; i < spa->nopen_snaps; i++)
		if (spa->open_snaps[i] == dsobj) {
			spa->open_snaps[i] = spa->open_snaps[--spa->nopen_snaps];
			return;
		}
}

bool dsl_dataset_is_open(const spa_t *spa, uint64_t dsobj)
{
	for (size_t i = 0; i < spa->nopen_snaps; i++)
		if (spa->open_snaps[i] == dsobj)
			return true;
	for (const objset_t *os = spa->objsets; os; os = os->next)
		if (os->dsobj == dsobj && (os->refcount || os->overlay || os->syncing))
			return true;
	return false;
}

/* ---- renames ------------------------------------------------------------------ */

struct name_find {
	uint64_t value;
	char *name;
	size_t cap;
	bool found;
};

static int name_find_cb(void *arg, const zap_entry_t *ze)
{
	struct name_find *f = arg;
	if (ze->value_first != f->value)
		return 0;
	snprintf(f->name, f->cap, "%s", ze->name);
	f->found = true;
	return 1;
}

int mos_zap_name_of(spa_t *spa, uint64_t zapobj, uint64_t value, char *name, size_t cap)
{
	dnode_t dn;
	int rc = dnode_hold(spa->mos, zapobj, &dn);
	if (rc)
		return rc;
	struct name_find f = { value, name, cap, false };
	rc = zap_iterate(&dn, 0, 0, name_find_cb, &f);
	dnode_rele(&dn);
	if (rc < 0)
		return rc;
	return f.found ? 0 : SET_ERROR(-ZFUSE_E_CORRUPT);
}

int dsl_snapshot_rename_sync(spa_t *spa, uint64_t head, const char *oldsnap, const char *newsnap,
			     dmu_tx_t *tx)
{
	dsl_dataset_phys_t h;
	uint64_t snap;
	int rc = dsl_dataset_read(spa, head, &h);
	if (rc == 0)
		rc = dsl_snapshot_lookup(spa, head, oldsnap, &snap);
	if (rc == 0)
		rc = zap_remove_norm(spa->mos, h.snapnames_zapobj, oldsnap, tx, NULL, 0);
	if (rc == 0)
		rc = zap_add_uint64(spa->mos, h.snapnames_zapobj, newsnap, snap, tx);
	if (rc == 0)
		rc = dsl_dir_snapshots_changed(spa, h.dir_obj, tx);
	return rc;
}

int dsl_dir_rename_sync(spa_t *spa, uint64_t dirobj, uint64_t newparent, const char *newname,
			dmu_tx_t *tx)
{
	dsl_dir_phys_t dd, oldp, newp;
	int rc = dsl_dir_read(spa, dirobj, &dd);
	if (rc == 0)
		rc = dsl_dir_read(spa, dd.parent_obj, &oldp);
	if (rc == 0)
		rc = dsl_dir_read(spa, newparent, &newp);
	if (rc)
		return rc;
	/* The dir's own name is the key its parent knows it by. */
	char name[256];
	if ((rc = mos_zap_name_of(spa, oldp.child_dir_zapobj, dirobj, name, sizeof(name))) != 0 ||
	    (rc = zap_remove(spa->mos, oldp.child_dir_zapobj, name, tx)) != 0 ||
	    (rc = zap_add_uint64(spa->mos, newp.child_dir_zapobj, newname, dirobj, tx)) != 0)
		return rc;
	if (newparent == dd.parent_obj)
		return 0;
	/* dsl_dir_rename_check/sync: the counts the dir carries (itself and
	 * what is below it) move from one line of ancestors to the other. */
	if (spa_feature_is_active(spa, "filesystem_limits")) {
		uint64_t fs = 0, ss = 0;
		if ((rc = init_fs_ss_count(spa, dirobj, tx, 0)) != 0 ||
		    (rc = mos_zap_lookup(spa, dirobj, DD_FIELD_FILESYSTEM_COUNT, &fs)) != 0 ||
		    (rc = mos_zap_lookup(spa, dirobj, DD_FIELD_SNAPSHOT_COUNT, &ss)) != 0)
			return rc;
		fs++;
		if ((rc = dsl_dir_count_adjust(spa, dd.parent_obj, DD_FIELD_FILESYSTEM_COUNT,
					       -(int64_t)fs, tx)) != 0 ||
		    (rc = dsl_dir_count_adjust(spa, newparent, DD_FIELD_FILESYSTEM_COUNT,
					       (int64_t)fs, tx)) != 0 ||
		    (rc = dsl_dir_count_adjust(spa, dd.parent_obj, DD_FIELD_SNAPSHOT_COUNT,
					       -(int64_t)ss, tx)) != 0 ||
		    (rc = dsl_dir_count_adjust(spa, newparent, DD_FIELD_SNAPSHOT_COUNT,
					       (int64_t)ss, tx)) != 0)
			return rc;
	}
	/* The space moves from one line of ancestors to the other (the
	 * common ones see both and end where they were). */
	rc = dsl_dir_diduse_space(spa, dd.parent_obj, DD_USED_CHILD, -(int64_t)dd.used_bytes,
				  -(int64_t)dd.compressed_bytes, -(int64_t)dd.uncompressed_bytes, tx);
	if (rc == 0)
		rc = dsl_dir_diduse_space(spa, newparent, DD_USED_CHILD, (int64_t)dd.used_bytes,
					  (int64_t)dd.compressed_bytes,
					  (int64_t)dd.uncompressed_bytes, tx);
	/* What its reservation holds unused is charged to the new line. */
	if (rc == 0 && dd.reserved > dd.used_bytes) {
		int64_t unused = (int64_t)(dd.reserved - dd.used_bytes);
		rc = dsl_dir_diduse_space(spa, dd.parent_obj, DD_USED_CHILD_RSRV, -unused, 0, 0, tx);
		if (rc == 0)
			rc = dsl_dir_diduse_space(spa, newparent, DD_USED_CHILD_RSRV, unused, 0, 0, tx);
	}
	if (rc == 0)
		rc = dsl_phys_set(spa, dirobj, DD_OFF_PARENT, newparent, tx);
	return rc;
}

int dsl_objset_has_log(spa_t *spa, const blkptr_t *bp, bool *has_log)
{
	objset_t *os;
	int rc = objset_open(spa, bp, &os);
	if (rc)
		return rc;
	blkptr_t log;
	zil_header_log_bp(os, &log);
	*has_log = !bp_is_hole(&log);
	objset_close(os);
	return 0;
}
