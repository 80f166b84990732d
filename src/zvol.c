/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zvol.c — volumes (zvols): what OpenZFS's zvol.c and libzfs's zvol
 * helpers do to a DMU_OST_ZVOL objset, and the zfuse_volume_* calls of
 * zfuse/zfuse.h.
 *
 * Theory: a volume is an objset of type 3 whose object 1 (DMU_OT_ZVOL,
 * data blocks of volblocksize, no bonus) holds the device's bytes and
 * whose object 2 (DMU_OT_ZVOL_PROP, a micro ZAP) holds "size" = volsize
 * (object-layer.md §3.3). volblocksize is object 1's data block size and
 * never changes; volsize is only that ZAP entry. Nothing about a volume is
 * in the DSL but its refreservation, which `zfs create -V` (libzfs, not
 * the kernel) sets to zvol_reservation() unless -s, and which `zfs set
 * volsize` moves along when it still equals the old size's value.
 *
 * The objects are made inside the dataset-creation sync task (the new
 * objset is written in that txg, like a new filesystem's ZPL objects).
 * Everything else here — writes, frees, volsize — changes the volume's own
 * objset only, in ordinary transactions of the open txg like file writes;
 * the refreservation that follows a volsize change is a DSL property
 * change, a sync task of dsl_prop.c.
 *
 * A handle of a head dataset shares the pool's one in-core objset of it
 * (spa_objset_hold), so writes are seen at once by every reader and
 * rollback rebases it; a snapshot's handle reads a private copy. The size
 * is looked up per call, so volsize changes and rollbacks show at once.
 * Writes and frees are logged (zvol_log_write, zvol_log_truncate) once a
 * writable handle has opened the volume's log writer, so an fsync commits
 * the intent log instead of syncing the pool; the last handle's close
 * destroys the chain, as a filesystem's last close does.
 * An encrypted volume opens only with its encryption root's key loaded:
 * its objset gets the master key (its blocks are then read and written
 * as an encrypted filesystem's) after the objset MACs checked out.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "dmu_tx.h"
#include "dmu_types.h"
#include "dmu_zfetch.h"
#include "dnode.h"
#include "dsl.h"
#include "dsl_crypt.h"
#include "dsl_dataset.h"
#include "dsl_prop.h"
#include "dsl_sync.h"
#include "spa.h"
#include "spa_impl.h"
#include "spa_lock.h"
#include "spa_misc.h"
#include "txg.h"
#include "vdev.h"
#include "zap.h"
#include "zfeature_write.h"
#include "zfs_prop.h"
#include "zil.h"
#include "zil_log.h"
#include "zvol.h"
#include "zfuse/dataset.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define ZVOL_OBJ 1
#define ZVOL_ZAP_OBJ 2
#define OLD_MAXBLOCKSIZE (128ULL << 10)
#define INDBLKSHIFT 17			/* DN_MAX_INDBLKSHIFT */
#define PTRS_PER_IND (1ULL << (INDBLKSHIFT - 7))

/* ---- creation (inside the create sync task) ---------------------------- */

int zvol_create_objects(objset_t *os, uint64_t volsize, uint64_t volblocksize, dmu_tx_t *tx)
{
	int rc = dmu_object_claim(os, ZVOL_OBJ, DMU_OT_ZVOL, volblocksize, DMU_OT_NONE, 0, 0, tx);
	if (rc == 0)
		rc = zap_create_claim(os, ZVOL_ZAP_OBJ, DMU_OT_ZVOL_PROP, DMU_OT_NONE, 0, tx);
	if (rc == 0)
		rc = zap_update_uint64(os, ZVOL_ZAP_OBJ, "size", volsize, tx);
	return rc;
}

int zvol_check_sizes(spa_t *spa, const char *name, uint64_t volsize, uint64_t volblocksize)
{
	if (volblocksize < 512 || volblocksize > (16ULL << 20) ||
	    (volblocksize & (volblocksize - 1))) {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot create '%s': volblocksize must be power of 2 "
			"from 512B to 16M", name);
		return SET_ERROR(-ZFUSE_E_INVAL);
	}
	if (volblocksize > OLD_MAXBLOCKSIZE && !spa_feature_is_enabled(spa, "large_blocks")) {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot create '%s': volblocksize over 128K needs "
			"the pool feature large_blocks", name);
		return SET_ERROR(-ZFUSE_E_UNSUPPORTED);
	}
	if (volsize == 0) {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot create '%s': volume size cannot be zero",
			name);
		return SET_ERROR(-ZFUSE_E_INVAL);
	}
	if (volsize % volblocksize) {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot create '%s': volume size must be a multiple "
			"of volume block size", name);
		return SET_ERROR(-ZFUSE_E_INVAL);
	}
	return 0;
}

/* vdev_raidz_asize: sectors of a block with parity, rounded to nparity+1. */
static uint64_t raidz_asize(uint64_t ndisks, uint64_t nparity, uint64_t ashift, uint64_t size)
{
	uint64_t s = ((size - 1) >> ashift) + 1;
	s += nparity * ((s + ndisks - nparity - 1) / (ndisks - nparity));
	s = (s + nparity) / (nparity + 1) * (nparity + 1);
	return s << ashift;
}

/* libzfs's volsize_from_vdevs: the data's size scaled by the worst RAID-Z
 * top-level vdev's allocation overhead relative to a 128K block. */
static uint64_t volsize_from_vdevs(spa_t *spa, uint64_t nblocks, uint64_t blksize)
{
	uint64_t ret = 0;
	const vdev_t *root = spa->root;
	for (uint64_t i = 0; root && i < root->nchild; i++) {
		const vdev_t *t = root->child[i];
		if (!t || t->kind != VDEV_KIND_RAIDZ || t->nchild <= t->nparity)
			continue;
		uint64_t tsize = raidz_asize(t->nchild, t->nparity, t->ashift, OLD_MAXBLOCKSIZE);
		uint64_t asize = raidz_asize(t->nchild, t->nparity, t->ashift, blksize);
		uint64_t v = nblocks * asize * OLD_MAXBLOCKSIZE / tsize;
		if (v > ret)
			ret = v;
	}
	return ret ? ret : nblocks * blksize;
}

uint64_t zvol_reservation(spa_t *spa, uint64_t volsize, uint64_t volblocksize, unsigned copies)
{
	uint64_t nblocks = volsize / volblocksize;
	uint64_t size = volsize_from_vdevs(spa, nblocks, volblocksize);
	/* the meta-dnode's seven levels, then object 1's indirect blocks */
	uint64_t numdb = 7;
	while (nblocks > 1) {
		nblocks = (nblocks + PTRS_PER_IND - 1) / PTRS_PER_IND;
		numdb += nblocks;
	}
	numdb *= copies + 1 < 3 ? copies + 1 : 3;
	return size * copies + (numdb << INDBLKSHIFT);
}

/* ---- handles ------------------------------------------------------------ */

struct zfuse_volume {
	spa_t *spa;
	objset_t *os;
	uint64_t dsobj;
	uint64_t blksz;
	bool snapshot, writable;
};

static int size_locked(const zfuse_volume_t *v, uint64_t *size)
{
	dnode_t prop;
	int rc = dnode_hold(v->os, ZVOL_ZAP_OBJ, &prop);
	if (rc == 0) {
		rc = zap_lookup_uint64(&prop, "size", size);
		dnode_rele(&prop);
	}
	return rc;
}

void zfuse_volume_close(zfuse_volume_t *v)
{
	if (!v)
		return;
	if (v->os) {
		zfetch_forget_objset(v->spa->zfetch, v->os);
		if (v->snapshot) {
			objset_close(v->os);
		} else {
			/* The last handle of the volume ends its log. */
			spa_enter_read(v->spa);
			bool last = v->os->refcount <= 1 && v->os->zilog;
			spa_exit(v->spa);
			if (last)
				zil_close(v->spa, v->os);
			spa_enter_write(v->spa);
			spa_objset_rele(v->spa, v->os);
			spa_exit(v->spa);
		}
	}
	if (v->snapshot) {
		spa_enter_write(v->spa);
		dsl_snapshot_rele(v->spa, v->dsobj);
		spa_exit(v->spa);
	}
	free(v);
}

/* zvol_get_data for a write record the log places (pool lock shared):
 * the volume's bytes now (a volume has no generations). */
static int volume_get_data(void *arg, uint64_t obj, uint64_t gen, uint64_t off, uint64_t len,
			   void *buf)
{
	(void)gen;
	dnode_t dn;
	int rc = dnode_hold(arg, obj, &dn);
	if (rc)
		return rc;
	rc = len ? dmu_read(&dn, off, len, buf) : 0;
	dnode_rele(&dn);
	return rc;
}

int zfuse_volume_open(zfuse_pool_t *pool, const char *name, zfuse_volume_t **out)
{
	spa_t *spa = (spa_t *)pool;
	*out = NULL;
	struct dsl_dataset_ref ref;
	spa_enter_read(spa);
	int rc = dsl_dataset_find(spa, name, &ref);
	bool encrypted = rc == 0 && dsl_dir_is_encrypted(spa, ref.dirobj);
	uint64_t rootdir = 0;
	if (encrypted && (rc = dsl_crypt_root(spa, ref.dirobj, &rootdir)) == 0 &&
	    !spa_keystore_wkey_loaded(spa, rootdir)) {
		char root[256] = "?";
		dsl_dir_name(spa, rootdir, root, sizeof(root));
		spa_log(spa, ZFUSE_LOG_ERROR, "volume %s is encrypted and the key of its encryption "
			"root %s is not loaded", name, root);
		rc = -ZFUSE_E_ACCESS;
	}
	spa_exit(spa);
	if (rc)
		return rc;
	zfuse_volume_t *v = calloc(1, sizeof(*v));
	if (!v)
		return -ZFUSE_E_NOMEM;
	v->spa = spa;
	v->dsobj = ref.dsobj;
	v->snapshot = ref.snapshot;
	spa_enter_write(spa);
	if (v->snapshot) {
		rc = dsl_snapshot_hold(spa, v->dsobj);
		if (rc == 0 && (rc = objset_open(spa, &ref.phys.bp, &v->os)) != 0) {
			dsl_snapshot_rele(spa, v->dsobj);
			v->snapshot = false;
		}
	} else {
		rc = spa_objset_hold(spa, v->dsobj, &v->os);
	}
	spa_exit(spa);
	if (rc) {
		free(v);
		return rc;
	}
	if (encrypted && (rc = dsl_crypt_objset_key(spa, v->os, ref.dirobj, name)) != 0) {
		zfuse_volume_close(v);
		return rc;
	}
	char why[256] = "";
	/* A crash left fsync'ed writes in the volume's log: replay them
	 * first, as zvol_create_minor does. */
	if (spa->writable && !v->snapshot && v->os->type == DMU_OST_ZVOL &&
	    zil_replay_volume(spa, v->os, v->dsobj, name, why, sizeof(why)) != 0)
		spa_log(spa, ZFUSE_LOG_WARN, "volume %s: %s", name, why);
	spa_enter_read(spa);
	dnode_t dn;
	if (v->os->type != DMU_OST_ZVOL) {
		rc = -ZFUSE_E_UNSUPPORTED;
	} else if ((rc = dnode_hold(v->os, ZVOL_OBJ, &dn)) == 0) {
		v->blksz = dnode_datablksz(&dn);
		dnode_rele(&dn);
	}
	uint64_t size;
	if (rc == 0)
		rc = size_locked(v, &size);
	v->writable = rc == 0 && spa->writable && !v->snapshot &&
		      dsl_dataset_writable(spa, v->dsobj, why, sizeof(why));
	spa_exit(spa);
	if (rc == 0 && spa->writable && !v->snapshot && !v->writable)
		spa_log(spa, ZFUSE_LOG_WARN, "volume %s is read-only: %s", name, why);
	if (rc) {
		zfuse_volume_close(v);
		return rc;
	}
	if (v->writable)
		zil_open(spa, v->os, volume_get_data, v->os);
	*out = v;
	return 0;
}

uint64_t zfuse_volume_size(const zfuse_volume_t *v)
{
	uint64_t size = 0;
	spa_enter_read(v->spa);
	if (size_locked(v, &size) != 0)
		size = 0;
	spa_exit(v->spa);
	return size;
}

uint64_t zfuse_volume_blocksize(const zfuse_volume_t *v)
{
	return v->blksz;
}

bool zfuse_volume_writable(const zfuse_volume_t *v)
{
	return v->writable && v->spa->writable;
}

ssize_t zfuse_volume_read(zfuse_volume_t *v, void *buf, size_t len, uint64_t off)
{
	spa_enter_read(v->spa);
	uint64_t size;
	ssize_t rc = size_locked(v, &size);
	if (rc == 0 && off < size) {
		if (len > size - off)
			len = (size_t)(size - off);
		dnode_t dn;
		if ((rc = dnode_hold(v->os, ZVOL_OBJ, &dn)) == 0) {
			zfetch_note_read(v->spa->zfetch, v->os, ZVOL_OBJ, off, len,
					 dnode_datablksz(&dn), dn.maxblkid);
			rc = dmu_read(&dn, off, len, buf);
			dnode_rele(&dn);
		}
		if (rc == 0)
			rc = (ssize_t)len;
	}
	spa_exit(v->spa);
	return rc;
}

/* Begin a transaction on v and check [off, off + len) against its size. */
static int range_begin(zfuse_volume_t *v, uint64_t off, uint64_t len, dmu_tx_t *tx)
{
	if (!zfuse_volume_writable(v))
		return -ZFUSE_E_ROFS;
	int rc = dmu_tx_begin(v->spa, tx);
	if (rc)
		return rc;
	uint64_t size;
	if ((rc = size_locked(v, &size)) == 0 && (off > size || len > size - off))
		rc = -ZFUSE_E_FBIG;
	if (rc)
		dmu_tx_commit(tx);
	return rc;
}

ssize_t zfuse_volume_write(zfuse_volume_t *v, const void *buf, size_t len, uint64_t off)
{
	dmu_tx_t tx;
	int rc = range_begin(v, off, len, &tx);
	if (rc)
		return rc;
	zil_tx_begin(v->os);
	if (len && (rc = dmu_write(v->os, ZVOL_OBJ, off, len, buf, &tx)) == 0)
		zfs_log_write(v->os, tx.txg, ZVOL_OBJ, 0, off, len, UINT64_MAX, false);
	/* sync=always: in the log before the call returns */
	rc = zil_tx_commit(v->spa, v->os, &tx, rc, false);
	return rc ? rc : (ssize_t)len;
}

int zfuse_volume_free(zfuse_volume_t *v, uint64_t off, uint64_t len)
{
	dmu_tx_t tx;
	int rc = range_begin(v, off, len, &tx);
	if (rc)
		return rc;
	zil_tx_begin(v->os);
	if (len && (rc = dmu_free_range(v->os, ZVOL_OBJ, off, len, &tx)) == 0)
		zfs_log_truncate(v->os, tx.txg, ZVOL_OBJ, off, len, false);
	return zil_tx_commit(v->spa, v->os, &tx, rc, false);
}

int zfuse_volume_sync(zfuse_volume_t *v)
{
	if (!zfuse_volume_writable(v))
		return 0;
	return zil_commit(v->spa, v->os);
}

/* ---- volsize ------------------------------------------------------------ */

int zvol_set_volsize(spa_t *spa, const char *name, const char *value,
		     const struct zfuse_prop_setting *rest, size_t nrest)
{
	uint64_t newsize;
	const char *str = NULL;
	char err[256];
	if (!zfs_prop_parse(ZFS_PROP_VOLSIZE, value, &newsize, &str, err, sizeof(err))) {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot set property for '%s': %s", name, err);
		return SET_ERROR(-ZFUSE_E_INVAL);
	}
	zfuse_volume_t *v;
	int rc = zfuse_volume_open((zfuse_pool_t *)spa, name, &v);
	if (rc == -ZFUSE_E_UNSUPPORTED)
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot set property for '%s': 'volsize' does not "
			"apply to datasets of this type", name);
	if (rc)
		return rc;
	if (v->snapshot || !zfuse_volume_writable(v)) {
		bool snap = v->snapshot;
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot set property for '%s': %s", name,
			snap ? "'volsize' does not apply to snapshots" : "dataset is read-only");
		zfuse_volume_close(v);
		return snap ? SET_ERROR(-ZFUSE_E_INVAL) : SET_ERROR(-ZFUSE_E_ROFS);
	}
	uint64_t oldsize = zfuse_volume_size(v);
	if (newsize == 0 || newsize % v->blksz) {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot set property for '%s': %s", name,
			newsize ? "volume size must be a multiple of volume block size"
				: "volume size cannot be zero");
		zfuse_volume_close(v);
		return SET_ERROR(-ZFUSE_E_INVAL);
	}
	/* libzfs's zfs_add_synthetic_resv: a refreservation that is still
	 * the old size's follows the new size, unless one is set too. */
	struct zfuse_prop_setting *all = calloc(nrest + 1, sizeof(*all));
	char resv[32];
	size_t n = 0;
	bool resv_given = false;
	for (size_t i = 0; all && i < nrest; i++) {
		all[n++] = rest[i];
		resv_given |= strcmp(rest[i].name, "refreservation") == 0;
	}
	if (!all) {
		zfuse_volume_close(v);
		return SET_ERROR(-ZFUSE_E_NOMEM);
	}
	spa_enter_read(spa);
	struct dsl_dataset_ref ref;
	uint64_t cur_resv = 0;
	if (dsl_dataset_find(spa, name, &ref) == 0)
		cur_resv = dsl_dir_refreservation(spa, ref.dirobj);
	spa_exit(spa);
	if (!resv_given && cur_resv && cur_resv == zvol_reservation(spa, oldsize, v->blksz, 1)) {
		snprintf(resv, sizeof(resv), "%" PRIu64, zvol_reservation(spa, newsize, v->blksz, 1));
		all[n++] = (struct zfuse_prop_setting){ "refreservation", resv };
	}
	/* The DSL part first (it may fail for space); then the volume. */
	if (n)
		rc = dsl_prop_set_dsl(spa, name, all, n);
	free(all);
	if (rc == 0 && newsize != oldsize) {
		dmu_tx_t tx;
		if ((rc = dmu_tx_begin(spa, &tx)) == 0) {
			rc = zap_update_uint64(v->os, ZVOL_ZAP_OBJ, "size", newsize, &tx);
			/* zvol_update_volsize: what lies past the new end is freed */
			if (rc == 0 && newsize < oldsize)
				rc = dmu_free_range(v->os, ZVOL_OBJ, newsize, UINT64_MAX, &tx);
			dmu_tx_commit(&tx);
		}
		if (rc == 0)
			rc = txg_sync_now(spa);
	}
	zfuse_volume_close(v);
	return rc;
}
