/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dsl_create.c — creating DSL objects in the MOS: dsl_dirs, head
 * datasets, deadlists and bpobjs, and the skeleton every new pool starts
 * with (object-layer.md §6.3, §7.5; OpenZFS dsl_dir_create_sync,
 * dsl_dataset_create_sync_dd, dsl_pool_create, dsl_pool_create_origin,
 * and the deadlist and bpobj calls of dsl_deadlist.c and bpobj.c).
 *
 * Theory: the steps and their order are OpenZFS's, so that a pool made
 * here numbers and links its objects as `zpool create` does. Phys
 * structures are written whole when an object is born and edited a word
 * at a time afterwards (dsl_phys_set), so bytes zfuse does not know about
 * survive. Space accounting (used/referenced bytes, the dataset's bp) is
 * not touched here: it follows from blocks born at sync (txg.c).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include "bpobj.h"
#include "byteorder.h"
#include "dmu_tx.h"
#include "dmu_types.h"
#include "dnode.h"
#include "dsl.h"
#include "dsl_dataset.h"
#include "dsl_deadlist.h"
#include "spa_impl.h"
#include "zap.h"
#include "zap_impl.h"
#include "zfeature.h"
#include "zfeature_write.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

/* dmu_object_type_t values dmu_types.h does not name */
#define DMU_OT_NEXT_CLONES 37
#define DMU_OT_DSL_CLONES 52

uint64_t dsl_random64(void)
{
	uint64_t v = 0;
	while (getrandom(&v, sizeof(v), 0) != sizeof(v))
		;
	return v;
}

/* OpenZFS's unique_create(): a non-zero 56-bit id. */
uint64_t dsl_unique56(void)
{
	uint64_t v;
	do
		v = dsl_random64() & ((1ULL << 56) - 1);
	while (v == 0);
	return v;
}

int dsl_phys_set(spa_t *spa, uint64_t obj, unsigned off, uint64_t value, dmu_tx_t *tx)
{
	dnode_t dn;
	int rc = dnode_hold(spa->mos, obj, &dn);
	if (rc)
		return rc;
	uint64_t len;
	const uint8_t *b = dnode_bonus(&dn, &len);
	uint8_t buf[DSL_DATASET_PHYS_SIZE];
	if (len < off + 8 || len > sizeof(buf)) {
		dnode_rele(&dn);
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	}
	memcpy(buf, b, len);
	dnode_rele(&dn);
	put_le64(buf + off, value);
	return dmu_bonus_write(spa->mos, obj, buf, len, tx);
}

int dsl_phys_get(spa_t *spa, uint64_t obj, unsigned off, uint64_t *value)
{
	dnode_t dn;
	int rc = dnode_hold(spa->mos, obj, &dn);
	if (rc)
		return rc;
	uint64_t len;
	const uint8_t *b = dnode_bonus(&dn, &len);
	rc = len >= off + 8 ? 0 : SET_ERROR(-ZFUSE_E_CORRUPT);
	if (rc == 0)
		*value = le64(b + off);
	dnode_rele(&dn);
	return rc;
}

int dsl_dir_create_sync(spa_t *spa, uint64_t parent_dir, const char *name, dmu_tx_t *tx,
			uint64_t *ddobj)
{
	uint64_t dd, props, children;
	int rc = dmu_object_alloc(spa->mos, DMU_OT_DSL_DIR, 0, DMU_OT_DSL_DIR, DSL_DIR_PHYS_SIZE, 0,
				  tx, &dd);
	if (rc)
		return rc;
	if (parent_dir) {
		uint64_t parent_children;
		rc = dsl_phys_get(spa, parent_dir, 32, &parent_children);
		if (rc == 0)
			rc = zap_add_uint64(spa->mos, parent_children, name, dd, tx);
	} else {
		rc = zap_add_uint64(spa->mos, 1, "root_dataset", dd, tx);
	}
	if (rc == 0)
		rc = zap_create(spa->mos, DMU_OT_DSL_PROPS, DMU_OT_NONE, 0, tx, &props);
	if (rc == 0)
		rc = zap_create(spa->mos, DMU_OT_DSL_DIR_CHILD_MAP, DMU_OT_NONE, 0, tx, &children);
	if (rc)
		return rc;
	uint8_t b[DSL_DIR_PHYS_SIZE] = { 0 };
	put_le64(b + 0, (uint64_t)time(NULL));
	put_le64(b + 16, parent_dir);
	put_le64(b + 32, children);
	put_le64(b + 80, props);
	put_le64(b + 96, spa->version >= 13 ? DD_FLAG_USED_BREAKDOWN : 0);
	rc = dmu_bonus_write(spa->mos, dd, b, sizeof(b), tx);
	if (rc == 0)
		*ddobj = dd;
	return rc;
}

int dsl_dataset_create_sync_dd(spa_t *spa, uint64_t ddobj, uint64_t origin, uint64_t flags,
			       dmu_tx_t *tx, uint64_t *dsobj)
{
	uint64_t ds, snapnames, deadlist;
	int rc = dmu_object_alloc(spa->mos, DMU_OT_DSL_DATASET, 0, DMU_OT_DSL_DATASET,
				  DSL_DATASET_PHYS_SIZE, 0, tx, &ds);
	if (rc == 0)
		rc = zap_create_norm(spa->mos, U8_TEXTPREP_TOUPPER, DMU_OT_DSL_DS_SNAP_MAP, DMU_OT_NONE,
				     0, 0, tx, &snapnames);
	if (rc)
		return rc;
	uint8_t b[DSL_DATASET_PHYS_SIZE] = { 0 };
	put_le64(b + 0, ddobj);
	put_le64(b + 32, snapnames);
	put_le64(b + 48, (uint64_t)time(NULL));
	/* Datasets born in the pool-creating txg count as born in txg 1,
	 * before $ORIGIN@$ORIGIN's successors (TXG_INITIAL is 4). */
	put_le64(b + 56, tx->txg == 4 ? 1 : tx->txg);
	put_le64(b + 104, dsl_unique56());
	put_le64(b + 112, dsl_random64());

	if (origin == 0) {
		rc = dsl_deadlist_alloc(spa, tx, &deadlist);
	} else {
		dsl_dataset_phys_t o;
		dsl_dir_phys_t odd;
		rc = dsl_dataset_read(spa, origin, &o);
		if (rc == 0)
			rc = dsl_dir_read(spa, o.dir_obj, &odd);
		if (rc)
			return rc;
		put_le64(b + 8, origin);
		put_le64(b + 16, o.creation_txg);
		put_le64(b + 72, o.referenced_bytes);
		put_le64(b + 80, o.compressed_bytes);
		put_le64(b + 88, o.uncompressed_bytes);
		flags |= o.flags & (DS_FLAG_INCONSISTENT | DS_FLAG_CI_DATASET);
		/* The origin's bp: a hole for $ORIGIN@$ORIGIN. Its active
		 * per-dataset features would be inherited here; $ORIGIN never
		 * has any, and clones of real snapshots are not created yet. */
		dnode_t on;
		rc = dnode_hold(spa->mos, origin, &on);
		if (rc)
			return rc;
		uint64_t olen;
		const uint8_t *ob = dnode_bonus(&on, &olen);
		if (olen >= 256)
			memcpy(b + 128, ob + 128, 128);
		dnode_rele(&on);
		rc = dsl_phys_set(spa, origin, DS_OFF_NUM_CHILDREN, o.num_children + 1, tx);
		uint64_t ohead_dl = 0;
		if (rc == 0)
			rc = dsl_phys_get(spa, odd.head_dataset_obj, DS_OFF_DEADLIST_OBJ, &ohead_dl);
		if (rc == 0)
			rc = dsl_deadlist_clone(spa, ohead_dl, o.creation_txg, tx, &deadlist);
		uint64_t next_clones = o.next_clones_obj;
		if (rc == 0 && next_clones == 0) {
			rc = zap_create(spa->mos, DMU_OT_NEXT_CLONES, DMU_OT_NONE, 0, tx, &next_clones);
			if (rc == 0)
				rc = dsl_phys_set(spa, origin, DS_OFF_NEXT_CLONES_OBJ, next_clones, tx);
		}
		if (rc == 0)
			rc = zap_add_int_key(spa, next_clones, ds, ds, tx);
		if (rc == 0)
			rc = dsl_phys_set(spa, ddobj, DD_OFF_ORIGIN_OBJ, origin, tx);
		uint64_t clones = odd.clones;
		if (rc == 0 && clones == 0) {
			rc = zap_create(spa->mos, DMU_OT_DSL_CLONES, DMU_OT_NONE, 0, tx, &clones);
			if (rc == 0)
				rc = dsl_phys_set(spa, o.dir_obj, DD_OFF_CLONES, clones, tx);
		}
		if (rc == 0)
			rc = zap_add_int_key(spa, clones, ds, ds, tx);
	}
	if (rc)
		return rc;
	put_le64(b + 64, deadlist);
	put_le64(b + 120, flags | DS_FLAG_UNIQUE_ACCURATE);
	rc = dmu_bonus_write(spa->mos, ds, b, sizeof(b), tx);
	if (rc == 0 && origin)
		rc = dsl_dataset_copy_features(spa, origin, ds, tx);
	if (rc == 0)
		rc = dsl_phys_set(spa, ddobj, DD_OFF_HEAD_DATASET_OBJ, ds, tx);
	if (rc == 0)
		*dsobj = ds;
	return rc;
}

int dsl_pool_create_skeleton(spa_t *spa, dmu_tx_t *tx, uint64_t *root_dir, uint64_t *origin_snap)
{
	uint64_t root, dd, obj;
	int rc = dsl_dir_create_sync(spa, 0, NULL, tx, &root);
	if (rc == 0)
		rc = dsl_dir_create_sync(spa, root, "$MOS", tx, &dd);
	/* SPA_VERSION_DEADLISTS (26) */
	if (rc == 0 && spa->version >= 26) {
		rc = dsl_dir_create_sync(spa, root, "$FREE", tx, &dd);
		if (rc == 0)
			rc = bpobj_alloc(spa, SPA_OLD_MAXBLOCKSIZE, tx, &obj);
		if (rc == 0)
			rc = zap_add_uint64(spa->mos, 1, "free_bpobj", obj, tx);
	}
	*origin_snap = 0;
	/* SPA_VERSION_DSL_SCRUB (11): $ORIGIN */
	if (rc == 0 && spa->version >= 11) {
		uint64_t head;
		rc = dsl_dir_create_sync(spa, root, "$ORIGIN", tx, &dd);
		if (rc == 0)
			rc = dsl_dataset_create_sync_dd(spa, dd, 0, 0, tx, &head);
		if (rc == 0)
			rc = dsl_dataset_snapshot_sync_impl(spa, head, "$ORIGIN", tx, origin_snap);
	}
	if (rc == 0)
		*root_dir = root;
	return rc;
}

int dmu_object_zapify(spa_t *spa, uint64_t obj, dmu_tx_t *tx)
{
	dnode_t dn;
	int rc = dnode_hold_dirty(spa->mos, obj, tx, &dn);
	if (rc)
		return rc;
	if (dn.type == DMU_OTN_ZAP_METADATA) {
		dnode_rele(&dn);
		return 0;
	}
	((uint8_t *)dn.phys)[0] = DMU_OTN_ZAP_METADATA;
	dnode_redecode(&dn);
	dnode_rele(&dn);
	struct zap_dmu_ctx c;
	zap_store_t st;
	zap_store_dmu(&st, &c, spa->mos, tx);
	rc = zapw_init(&st, obj, 0, 0, 0);
	return rc ? rc : spa_feature_incr(spa, "extensible_dataset", tx);
}

int dsl_dataset_activate_feature(spa_t *spa, uint64_t dsobj, const char *name, dmu_tx_t *tx)
{
	unsigned n;
	const struct zfeature_info *t = zfeature_table(&n), *fi = NULL;
	for (unsigned i = 0; i < n && !fi; i++)
		if (strcmp(t[i].name, name) == 0)
			fi = &t[i];
	if (!fi || !spa_feature_is_enabled(spa, name))
		return -ZFUSE_E_NOENT;
	int rc = dmu_object_zapify(spa, dsobj, tx);
	if (rc)
		return rc;
	dnode_t dn;
	uint64_t v;
	rc = dnode_hold(spa->mos, dsobj, &dn);
	if (rc)
		return rc;
	rc = zap_lookup_uint64(&dn, fi->guid, &v);
	dnode_rele(&dn);
	if (rc == 0)
		return 0;	/* already active on this dataset */
	if (rc != -ZFUSE_E_NOENT)
		return rc;
	rc = zap_add_uint64(spa->mos, dsobj, fi->guid, 0, tx);
	return rc ? rc : spa_feature_incr(spa, name, tx);
}

struct feature_copy {
	spa_t *spa;
	uint64_t to;
	dmu_tx_t *tx;
	const char *names[64];
	unsigned n;
};

const struct zfeature_info *dsl_dataset_feature_key(const char *key)
{
	/* The bookmarks ZAP's field is named as the bookmarks feature's GUID,
	 * which is counted per ZAP, not per dataset (dsl_bookmark.c). */
	if (strcmp(key, "com.delphix:bookmarks") == 0)
		return NULL;
	return zfeature_lookup(key);
}

static int feature_key_cb(void *arg, const zap_entry_t *ze)
{
	struct feature_copy *fc = arg;
	const struct zfeature_info *fi = dsl_dataset_feature_key(ze->name);
	if (fi && fc->n < sizeof(fc->names) / sizeof(fc->names[0]))
		fc->names[fc->n++] = fi->name;
	return 0;
}

int dsl_dataset_copy_features(spa_t *spa, uint64_t from, uint64_t to, dmu_tx_t *tx)
{
	dnode_t dn;
	int rc = dnode_hold(spa->mos, from, &dn);
	if (rc)
		return rc;
	struct feature_copy fc = { .spa = spa, .to = to, .tx = tx };
	if (dn.type == DMU_OTN_ZAP_METADATA)
		rc = zap_iterate(&dn, 0, 0, feature_key_cb, &fc);
	dnode_rele(&dn);
	/* Activation changes the ZAP being walked: collect first. */
	for (unsigned i = 0; rc == 0 && i < fc.n; i++)
		rc = dsl_dataset_activate_feature(spa, to, fc.names[i], tx);
	return rc;
}
