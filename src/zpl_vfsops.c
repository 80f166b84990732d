/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zpl_vfsops.c — opening and closing a filesystem dataset (OpenZFS's
 * zfs_vfsops role): checking that the dataset can be mounted at all, the
 * master node's version and properties, the SA table, and whether it may
 * be written. It sits above both zpl.c (reads) and zpl_write.c (writes),
 * so neither of those depends on the other's setup.
 *
 * Locking (spa_lock.h): each step takes the pool lock for itself and
 * drops it before the next, since zpl_write_open takes it again.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "dmu_types.h"
#include "dnode.h"
#include "dsl.h"
#include "dsl_dataset.h"
#include "dsl_destroy.h"
#include "dsl_sync.h"
#include "sa.h"
#include "spa.h"
#include "zap.h"
#include "dsl_crypt.h"
#include "zpl_impl.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

static int master_lookup(objset_t *os, const char *key, uint64_t *v)
{
	dnode_t mn;
	int rc = dnode_hold(os, 1, &mn);
	if (rc)
		return rc;
	if (mn.type != DMU_OT_MASTER_NODE)
		rc = SET_ERROR(-ZFUSE_E_CORRUPT);
	else
		rc = zap_lookup_uint64(&mn, key, v);
	dnode_rele(&mn);
	return rc;
}

static int fs_open_locked(zfuse_fs_t *fs);

int zfuse_fs_open(zfuse_pool_t *pool, const char *name, zfuse_fs_t **out)
{
	spa_t *spa = (spa_t *)pool;
	*out = NULL;
	struct dsl_dataset_ref ref;
	spa_enter_read(spa);
	int rc = dsl_dataset_find(spa, name, &ref);
	spa_exit(spa);
	if (rc)
		return rc;
	zfuse_fs_t *fs = calloc(1, sizeof(*fs));
	if (!fs || !(fs->name = strdup(name))) {
		free(fs);
		return -ZFUSE_E_NOMEM;
	}
	fs->spa = spa;
	fs->snapshot = ref.snapshot;
	fs->dsobj = ref.dsobj;
	fs->dirobj = ref.dirobj;
	fs->ds = ref.phys;
	if (fs->ds.flags & DS_FLAG_INCONSISTENT) {
		spa_log(spa, ZFUSE_LOG_ERROR, "dataset %s is inconsistent (partially received or "
			"being destroyed)", name);
		rc = -ZFUSE_E_UNSUPPORTED;
		goto fail;
	}
	spa_enter_read(spa);
	bool encrypted = dsl_dir_is_encrypted(spa, fs->dirobj);
	uint64_t rootdir = 0;
	if (encrypted && dsl_crypt_root(spa, fs->dirobj, &rootdir) == 0 &&
	    !spa_keystore_wkey_loaded(spa, rootdir)) {
		char root[256] = "?";
		dsl_dir_name(spa, rootdir, root, sizeof(root));
		spa_log(spa, ZFUSE_LOG_ERROR, "dataset %s is encrypted and the key of its encryption "
			"root %s is not loaded", name, root);
		rc = -ZFUSE_E_ACCESS;
	}
	spa_exit(spa);
	if (rc)
		goto fail;
	fs->encrypted = encrypted;
	if (!fs->snapshot && spa->writable) {
		/* A clone's livelist is dropped before zfuse writes to it, as
		 * OpenZFS may do any time (object-layer.md §6.9). */
		spa_enter_read(spa);
		bool livelist = dsl_dir_has_livelist(spa, fs->dirobj);
		spa_exit(spa);
		if (livelist && (rc = dsl_dir_livelist_delete(spa, fs->dirobj)) != 0)
			spa_log(spa, ZFUSE_LOG_WARN, "the livelist of clone %s could not be dropped (%s)",
				name, zfuse_strerror(rc));
	}
	/* The pool's lists of open objsets change: exclusively. */
	spa_enter_write(spa);
	rc = fs->snapshot ? dsl_snapshot_hold(spa, fs->dsobj) : spa_objset_hold(spa, fs->dsobj, &fs->os);
	spa_exit(spa);
	if (rc)
		goto fail;
	fs->held = true;
	spa_enter_read(spa);
	rc = fs_open_locked(fs);
	spa_exit(spa);
	if (rc)
		goto fail;
	if (fs->writable && (rc = zpl_write_open(fs)) != 0)
		goto fail;
	*out = fs;
	return 0;
fail:
	if (rc != -ZFUSE_E_ACCESS && rc != -ZFUSE_E_UNSUPPORTED)
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot open dataset %s: %s", name, zfuse_strerror(rc));
	zfuse_fs_close(fs);
	return rc;
}

/* The part of zfuse_fs_open that reads the objset, under the pool lock. */
static int fs_open_locked(zfuse_fs_t *fs)
{
	spa_t *spa = fs->spa;
	const char *name = fs->name;
	int rc;
	/* Snapshots are immutable: a private read-only objset. */
	if (fs->snapshot && (rc = objset_open(spa, &fs->ds.bp, &fs->os)) != 0)
		return rc;
	if (fs->encrypted && (rc = dsl_crypt_objset_key(fs->spa, fs->os, fs->dirobj, fs->name)) != 0)
		return rc;
	if (fs->os->type != DMU_OST_ZFS) {
		spa_log(spa, ZFUSE_LOG_ERROR, "dataset %s is not a filesystem (objset type %" PRIu64 ")",
			name, fs->os->type);
		return -ZFUSE_E_UNSUPPORTED;
	}
	if ((rc = master_lookup(fs->os, "VERSION", &fs->version)) != 0 ||
	    (rc = master_lookup(fs->os, "ROOT", &fs->root)) != 0)
		return rc;
	if (fs->version < 1 || fs->version > ZPL_VERSION_SA) {
		spa_log(spa, ZFUSE_LOG_ERROR, "dataset %s has ZPL version %" PRIu64 ", zfuse reads 1-5",
			name, fs->version);
		return -ZFUSE_E_UNSUPPORTED;
	}
	uint64_t norm = 0;
	master_lookup(fs->os, "normalization", &norm);
	master_lookup(fs->os, "casesensitivity", &fs->casesensitivity);
	master_lookup(fs->os, "utf8only", &fs->utf8only);
	fs->normflags = norm | (fs->casesensitivity ? U8_TEXTPREP_TOUPPER : 0);
	uint64_t sa_obj = 0;
	if (fs->version >= ZPL_VERSION_SA && master_lookup(fs->os, "SA_ATTRS", &sa_obj) == 0) {
		if ((rc = sa_table_load(fs->os, sa_obj, &fs->sa)) != 0)
			return rc;
	}
	fs->recordsize = 128 << 10;
	dsl_prop_get_uint64(spa, fs->dirobj, "recordsize", true, &fs->recordsize, NULL);
	if (fs->recordsize < 512 || fs->recordsize > SPA_MAXBLOCKSIZE)
		fs->recordsize = 128 << 10;
	/* Writing needs SA znodes: legacy znode_phys_t filesystems
	 * (ZPL < 5) stay read-only. */
	fs->writable = spa->writable && !fs->snapshot && fs->version >= ZPL_VERSION_SA &&
		       fs->sa != NULL;
	if (spa->writable && !fs->snapshot && !fs->writable)
		spa_log(spa, ZFUSE_LOG_WARN, "dataset %s has ZPL version %" PRIu64 " (legacy znodes); "
			"zfuse writes only ZPL 5 (SA) filesystems: mounted read-only", name, fs->version);
	char why[160];
	if (fs->writable && !dsl_dataset_writable(spa, fs->dsobj, why, sizeof(why))) {
		fs->writable = false;
		spa_log(spa, ZFUSE_LOG_WARN, "dataset %s is read-only: %s", name, why);
	}
	return 0;
}

void zfuse_fs_close(zfuse_fs_t *fs)
{
	if (!fs)
		return;
	if (fs->w)
		zpl_write_close(fs);
	sa_table_free(fs->sa);
	if (fs->os) {
		zfetch_forget_objset(fs->spa->zfetch, fs->os);
		if (fs->snapshot) {
			objset_close(fs->os);
		} else {
			spa_enter_write(fs->spa);
			spa_objset_rele(fs->spa, fs->os);
			spa_exit(fs->spa);
		}
	}
	if (fs->snapshot && fs->held) {
		spa_enter_write(fs->spa);
		dsl_snapshot_rele(fs->spa, fs->dsobj);
		spa_exit(fs->spa);
	}
	free(fs->name);
	free(fs);
}

uint64_t zfuse_fs_root(const zfuse_fs_t *fs) { return fs->root; }
const char *zfuse_fs_name(const zfuse_fs_t *fs) { return fs->name; }
bool zfuse_fs_is_snapshot(const zfuse_fs_t *fs) { return fs->snapshot; }
bool zfuse_fs_limited(const zfuse_fs_t *fs) { return fs->writable && (fs->os->has_quota || fs->os->has_idquota); }

bool zfuse_fs_sync_always(const zfuse_fs_t *fs) { return fs->writable && fs->os->sync_prop == 1; }
