/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfs_ioctl.c — what `zfs` asks of a pool, as library calls
 * (include/zfuse/dataset.h): names checked as zfs checks them, then the
 * change handed to the sync as a DSL task (dsl_synctask.h) whose check
 * step is repeated there and whose sync step lives in the DSL
 * (dsl_dataset.c, dsl_destroy.c). The ZPL content of a new filesystem is
 * made here, as OpenZFS's zfs_ioc_create hands zfs_create_fs to the DMU.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "dmu_objset.h"
#include "dmu_tx.h"
#include "dmu_types.h"
#include "dnode.h"
#include "dsl.h"
#include "dsl_bookmark.h"
#include "dsl_dataset.h"
#include "dsl_deadlist.h"
#include "zfeature_write.h"
#include "dsl_destroy.h"
#include "dsl_synctask.h"
#include "spa_impl.h"
#include "spa_misc.h"
#include "spa_lock.h"
#include "txg.h"
#include "zap.h"
#include "zfeature_write.h"
#include "zil.h"
#include "zfuse/dataset.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"
#include "zil_log.h"
#include "zpl_create.h"
#include "dsl_crypt.h"
#include "zfs_prop.h"
#include "dsl_prop.h"
#include "zvol.h"

#define ZFS_MAX_DATASET_NAME_LEN 256

/* ---- names (zfs_namecheck) ----------------------------------------------- */

static bool component_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.' || c == ':' || c == ' ';
}

static int component_check(spa_t *spa, const char *full, const char *s, size_t n)
{
	if (n == 0) {
		spa_log(spa, ZFUSE_LOG_ERROR, "invalid dataset name '%s': empty component", full);
		return SET_ERROR(-ZFUSE_E_INVAL);
	}
	for (size_t i = 0; i < n; i++)
		if (!component_char_ok(s[i])) {
			spa_log(spa, ZFUSE_LOG_ERROR, "invalid dataset name '%s': invalid character "
				"'%c' in name", full, s[i]);
			return SET_ERROR(-ZFUSE_E_INVAL);
		}
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) {
		spa_log(spa, ZFUSE_LOG_ERROR, "invalid dataset name '%s': '.' and '..' are reserved",
			full);
		return SET_ERROR(-ZFUSE_E_INVAL);
	}
	return 0;
}

/* A parsed name: the dataset path ("pool/a/b"), and the part after '@'
 * (or '#') when there is one. */
struct ds_name {
	char ds[ZFS_MAX_DATASET_NAME_LEN];
	char snap[ZFS_MAX_DATASET_NAME_LEN];
	char sep;			/* '@', '#' or 0 */
};

static int name_parse(spa_t *spa, const char *name, struct ds_name *out)
{
	memset(out, 0, sizeof(*out));
	size_t len = strlen(name);
	if (len >= ZFS_MAX_DATASET_NAME_LEN) {
		spa_log(spa, ZFUSE_LOG_ERROR, "invalid dataset name '%.40s...': name is too long",
			name);
		return SET_ERROR(-ZFUSE_E_NAMETOOLONG);
	}
	const char *at = strpbrk(name, "@#");
	size_t dslen = at ? (size_t)(at - name) : len;
	if (at && strpbrk(at + 1, "@#/")) {
		spa_log(spa, ZFUSE_LOG_ERROR, "invalid dataset name '%s': multiple '@' and/or '#' "
			"delimiters, or '/' after one", name);
		return SET_ERROR(-ZFUSE_E_INVAL);
	}
	for (const char *p = name, *end = name + dslen; p <= end;) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		size_t n = slash ? (size_t)(slash - p) : (size_t)(end - p);
		int rc = component_check(spa, name, p, n);
		if (rc)
			return rc;
		p += n + 1;
	}
	size_t plen = strcspn(name, "/@#");
	if (plen != strlen(spa->name) || strncmp(name, spa->name, plen) != 0) {
		spa_log(spa, ZFUSE_LOG_ERROR, "'%s' is not a dataset of pool '%s'", name, spa->name);
		return SET_ERROR(-ZFUSE_E_NOENT);
	}
	memcpy(out->ds, name, dslen);
	if (at) {
		int rc = component_check(spa, name, at + 1, strlen(at + 1));
		if (rc)
			return rc;
		out->sep = *at;
		strcpy(out->snap, at + 1);
	}
	return 0;
}

/* The head dataset and dir of a filesystem or volume name. */
static int head_find(spa_t *spa, const char *ds, uint64_t *dsobj, uint64_t *dirobj)
{
	bool snap;
	int rc = dsl_dataset_lookup(spa, ds, dsobj, dirobj, &snap);
	if (rc == -ZFUSE_E_NOENT)
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot open '%s': dataset does not exist", ds);
	return rc;
}

static bool writable_or_log(spa_t *spa)
{
	if (spa->writable)
		return true;
	spa_log(spa, ZFUSE_LOG_ERROR, "pool '%s' is read-only%s%s", spa->name,
		spa->readonly_reason ? ": " : "", spa->readonly_reason ? spa->readonly_reason : "");
	return false;
}

/* ---- snapshot ------------------------------------------------------------ */

struct snapshot_arg {
	size_t n;
	struct ds_name *names;
	uint64_t *heads;
};

static int snapshot_check(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	(void)tx;
	struct snapshot_arg *a = varg;
	for (size_t i = 0; i < a->n; i++) {
		uint64_t dir, snap;
		int rc = head_find(spa, a->names[i].ds, &a->heads[i], &dir);
		if (rc)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (a->heads[j] == a->heads[i]) {
				spa_log(spa, ZFUSE_LOG_ERROR, "cannot create snapshots: '%s' is named "
					"more than once", a->names[i].ds);
				return SET_ERROR(-ZFUSE_E_INVAL);
			}
		rc = dsl_snapshot_lookup(spa, a->heads[i], a->names[i].snap, &snap);
		if (rc == 0) {
			spa_log(spa, ZFUSE_LOG_ERROR, "cannot create snapshot '%s@%s': dataset already "
				"exists", a->names[i].ds, a->names[i].snap);
			return SET_ERROR(-ZFUSE_E_EXIST);
		}
		if (rc != -ZFUSE_E_NOENT)
			return rc;
		if ((rc = dsl_fs_ss_limit_check(spa, dir, 1, true)) != 0) {
			spa_log(spa, ZFUSE_LOG_ERROR, "cannot create snapshot '%s@%s': out of space",
				a->names[i].ds, a->names[i].snap);
			return rc;
		}
	}
	return 0;
}

static int snapshot_sync(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	struct snapshot_arg *a = varg;
	for (size_t i = 0; i < a->n; i++) {
		uint64_t s;
		int rc = dsl_dataset_snapshot_sync_impl(spa, a->heads[i], a->names[i].snap, tx, &s);
		if (rc)
			return rc;
	}
	return 0;
}

int zfuse_snapshot(zfuse_pool_t *pool, const char *const *names, size_t n)
{
	spa_t *spa = (spa_t *)pool;
	if (!names || n == 0)
		return SET_ERROR(-ZFUSE_E_INVAL);
	if (!writable_or_log(spa))
		return SET_ERROR(-ZFUSE_E_ROFS);
	struct snapshot_arg a = { n, calloc(n, sizeof(struct ds_name)), calloc(n, sizeof(uint64_t)) };
	int rc = a.names && a.heads ? 0 : SET_ERROR(-ZFUSE_E_NOMEM);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = name_parse(spa, names[i], &a.names[i]);
		if (rc == 0 && a.names[i].sep != '@') {
			spa_log(spa, ZFUSE_LOG_ERROR, "cannot create snapshot '%s': not a snapshot name "
				"(DATASET@SNAPSHOT)", names[i]);
			rc = SET_ERROR(-ZFUSE_E_INVAL);
		}
	}
	if (rc == 0) {
		/* No live intent log in a snapshot (zil_suspend). */
		struct zil_suspended *zs = zil_suspend_all(spa);
		rc = dsl_sync_task(spa, snapshot_check, snapshot_sync, &a);
		zil_resume_all(zs);
	}
	free(a.names);
	free(a.heads);
	return rc;
}

/* ---- create -------------------------------------------------------------- */

struct create_arg {
	struct ds_name name;
	const char *child;		/* last component */
	char parent[ZFS_MAX_DATASET_NAME_LEN];
	uint64_t parent_ds, parent_dir;
	struct zpl_create_props zpl;
	bool inherit_zpl;
	bool zpl_given[3];	/* normalization, utf8only, casesensitivity set by the caller */
	uint64_t volsize, volblocksize;	/* a volume when volsize > 0 */
	struct dsl_crypto_params dcp;	/* encryption (dcp.crypt 0: none) */
};

static int create_check(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	(void)tx;
	struct create_arg *a = varg;
	uint64_t ds, dir;
	bool snap;
	int rc = dsl_dataset_lookup(spa, a->name.ds, &ds, &dir, &snap);
	if (rc == 0) {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot create '%s': dataset already exists",
			a->name.ds);
		return SET_ERROR(-ZFUSE_E_EXIST);
	}
	if (rc != -ZFUSE_E_NOENT)
		return rc;
	rc = dsl_dataset_lookup(spa, a->parent, &a->parent_ds, &a->parent_dir, &snap);
	if (rc == -ZFUSE_E_NOENT)
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot create '%s': parent does not exist",
			a->name.ds);
	if (rc)
		return rc;
	/* Volumes have no children. */
	dsl_dataset_phys_t p;
	objset_t *pos;
	if ((rc = dsl_dataset_read(spa, a->parent_ds, &p)) != 0 || bp_is_hole(&p.bp))
		return rc;
	if ((rc = objset_open(spa, &p.bp, &pos)) != 0)
		return rc;
	bool vol = pos->type == DMU_OST_ZVOL;
	objset_close(pos);
	if (vol) {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot create '%s': parent is not a filesystem",
			a->name.ds);
		return SET_ERROR(-ZFUSE_E_INVAL);
	}
	if ((rc = dsl_fs_ss_limit_check(spa, a->parent_dir, 1, false)) != 0)
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot create '%s': out of space", a->name.ds);
	return rc;
}

/* zfs_fill_zplprops: a new filesystem inherits its parent's
 * normalization, utf8only and casesensitivity (kept in the parent's
 * master node, not in the DSL). */
static int inherit_zplprops(spa_t *spa, uint64_t parent_ds, struct zpl_create_props *zpl,
			    const bool given[3])
{
	objset_t *pos;
	int rc = spa_objset_hold(spa, parent_ds, &pos);
	if (rc)
		return rc;
	if (pos->type != DMU_OST_ZFS) {
		spa_objset_rele(spa, pos);
		return 0;
	}
	dnode_t master;
	rc = dnode_hold(pos, 1, &master);
	if (rc == 0) {
		uint64_t v;
		if (!given[0] && zap_lookup_uint64(&master, "normalization", &v) == 0)
			zpl->normalization = v;
		if (!given[1] && zap_lookup_uint64(&master, "utf8only", &v) == 0)
			zpl->utf8only = v;
		if (!given[2] && zap_lookup_uint64(&master, "casesensitivity", &v) == 0)
			zpl->casesensitivity = v;
		/* zfs_fill_zplprops: normalization implies utf8only */
		if (zpl->normalization && !given[1])
			zpl->utf8only = 1;
		dnode_rele(&master);
	}
	spa_objset_rele(spa, pos);
	return rc;
}

static int create_sync(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	struct create_arg *a = varg;
	uint64_t dsobj;
	int rc = a->volsize ? 0 : inherit_zplprops(spa, a->parent_ds, &a->zpl, a->zpl_given);
	if (rc == 0)
		rc = dsl_dataset_create_child(spa, a->parent_dir, a->child, 0, tx, &dsobj);
	/* dsl_dataset_create_crypt_sync, before the objset exists */
	zio_crypt_key_t *key = NULL;
	if (rc == 0 && a->dcp.crypt) {
		dsl_dataset_phys_t ds;
		if ((rc = dsl_dataset_read(spa, dsobj, &ds)) == 0)
			rc = dsl_crypto_create_sync(spa, ds.dir_obj, dsobj, &a->dcp, tx, &key);
	}
	objset_t *os = NULL;
	if (rc == 0)
		rc = objset_create_mem(spa, a->volsize ? DMU_OST_ZVOL : DMU_OST_ZFS, dsobj, tx, &os);
	if (os && key) {
		os->key = key;	/* the objset's reference from here */
		key = NULL;
	}
	if (key)
		dsl_crypt_key_rele(spa, key);
	if (rc == 0 && a->volsize) {
		/* zvol_create_cb; blocks over 128K need large_blocks on it */
		rc = zvol_create_objects(os, a->volsize, a->volblocksize, tx);
		if (rc == 0 && a->volblocksize > (128u << 10))
			rc = dsl_dataset_activate_feature(spa, dsobj, "large_blocks", tx);
	} else if (rc == 0) {
		rc = zpl_create_fs(os, &a->zpl, tx);
		dmu_objset_new_id_accounting(os);
		if (rc == 0 && spa_feature_is_enabled(spa, "userobj_accounting"))
			rc = dsl_dataset_activate_feature(spa, dsobj, "userobj_accounting", tx);
		if (rc == 0 && spa_feature_is_enabled(spa, "project_quota"))
			rc = dsl_dataset_activate_feature(spa, dsobj, "project_quota", tx);
	}
	if (rc == 0)
		rc = txg_sync_new_objset(spa, os, tx);
	if (os)
		spa_objset_rele(spa, os);
	return rc;
}

/* The refreservation `zfs create -V` adds unless -s. libzfs looks the
 * copies property up as a string in a list its own validation has turned
 * into numbers, so copies never counts (OpenZFS 2.3.2 gives a copies=2
 * volume the reservation of copies=1; checked by volume-roundtrip.sh). */
static void volume_reservation(spa_t *spa, const struct create_arg *a, char *buf, size_t cap)
{
	snprintf(buf, cap, "%" PRIu64, zvol_reservation(spa, a->volsize, a->volblocksize, 1));
}

static int create_common(zfuse_pool_t *pool, const char *name, uint64_t volsize, bool sparse,
			 const struct zfuse_prop_setting *props, size_t nprops, const void *material,
			 size_t len);

int zfuse_dataset_create(zfuse_pool_t *pool, const char *name, uint64_t volsize,
			 const struct zfuse_prop_setting *props, size_t nprops)
{
	return create_common(pool, name, volsize, false, props, nprops, NULL, 0);
}

int zfuse_dataset_create_key(zfuse_pool_t *pool, const char *name,
			     const struct zfuse_prop_setting *props, size_t nprops,
			     const void *material, size_t len)
{
	return create_common(pool, name, 0, false, props, nprops, material, len);
}

int zfuse_volume_create(zfuse_pool_t *pool, const char *name, uint64_t volsize, bool sparse,
			const struct zfuse_prop_setting *props, size_t nprops)
{
	if (volsize == 0) {
		spa_log((spa_t *)pool, ZFUSE_LOG_ERROR, "cannot create '%s': volume size cannot "
			"be zero", name ? name : "");
		return SET_ERROR(-ZFUSE_E_INVAL);
	}
	return create_common(pool, name, volsize, sparse, props, nprops, NULL, 0);
}

int zfuse_volume_create_key(zfuse_pool_t *pool, const char *name, uint64_t volsize, bool sparse,
			    const struct zfuse_prop_setting *props, size_t nprops,
			    const void *material, size_t len)
{
	if (volsize == 0) {
		spa_log((spa_t *)pool, ZFUSE_LOG_ERROR, "cannot create '%s': volume size cannot "
			"be zero", name ? name : "");
		return SET_ERROR(-ZFUSE_E_INVAL);
	}
	return create_common(pool, name, volsize, sparse, props, nprops, material, len);
}

static int create_common(zfuse_pool_t *pool, const char *name, uint64_t volsize, bool sparse,
			 const struct zfuse_prop_setting *props, size_t nprops, const void *material,
			 size_t len)
{
	spa_t *spa = (spa_t *)pool;
	if (!name)
		return SET_ERROR(-ZFUSE_E_INVAL);
	if (!writable_or_log(spa))
		return SET_ERROR(-ZFUSE_E_ROFS);
	struct create_arg a = { 0 };
	int rc = name_parse(spa, name, &a.name);
	if (rc)
		return rc;
	if (a.name.sep) {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot create '%s': a snapshot or bookmark name; "
			"use snapshot or bookmark", name);
		return SET_ERROR(-ZFUSE_E_INVAL);
	}
	char *slash = strrchr(a.name.ds, '/');
	if (!slash) {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot create '%s': the pool's root dataset exists "
			"with the pool", name);
		return SET_ERROR(-ZFUSE_E_EXIST);
	}
	a.volsize = volsize;
	a.volblocksize = ZVOL_DEFAULT_BLOCKSIZE;
	memcpy(a.parent, a.name.ds, (size_t)(slash - a.name.ds));
	a.child = slash + 1;
	a.zpl.root_uid = (uint32_t)geteuid();
	a.zpl.root_gid = (uint32_t)getegid();
	a.zpl.root_mode = 0755;
	/* The creation-time ZPL properties go to the master node; the rest
	 * are set in the DSL once the dataset exists. */
	struct zfuse_prop_setting *rest = calloc(nprops + 1, sizeof(*rest));
	size_t nrest = 0;
	if (!rest)
		return SET_ERROR(-ZFUSE_E_NOMEM);
	a.inherit_zpl = true;
	bool resv_given = false;
	for (size_t i = 0; rc == 0 && i < nprops; i++) {
		int p = zfs_prop_lookup(props[i].name);
		uint64_t v;
		if (p == ZFS_PROP_VOLSIZE || (p == ZFS_PROP_VOLBLOCKSIZE && !volsize)) {
			spa_log(spa, ZFUSE_LOG_ERROR, "cannot create '%s': '%s' applies to volumes "
				"only, given by their size (-V)", name, props[i].name);
			rc = SET_ERROR(-ZFUSE_E_INVAL);
			break;
		}
		if (p == ZFS_PROP_VOLBLOCKSIZE) {
			const char *str = NULL;
			char err[256];
			if (!zfs_prop_parse(ZFS_PROP_VOLBLOCKSIZE, props[i].value, &a.volblocksize,
					    &str, err, sizeof(err))) {
				spa_log(spa, ZFUSE_LOG_ERROR, "cannot create '%s': %s", name, err);
				rc = SET_ERROR(-ZFUSE_E_INVAL);
			}
			continue;
		}
		resv_given |= p == ZFS_PROP_REFRESERVATION;
		if (volsize && (p == ZFS_PROP_NORMALIZE || p == ZFS_PROP_UTF8ONLY ||
				p == ZFS_PROP_CASE)) {
			spa_log(spa, ZFUSE_LOG_ERROR, "cannot create '%s': '%s' does not apply to "
				"datasets of this type", name, props[i].name);
			rc = SET_ERROR(-ZFUSE_E_INVAL);
			break;
		}
		uint64_t *dst = p == ZFS_PROP_NORMALIZE ? &a.zpl.normalization :
				p == ZFS_PROP_UTF8ONLY ? &a.zpl.utf8only :
				p == ZFS_PROP_CASE ? &a.zpl.casesensitivity : NULL;
		if (!dst) {
			rest[nrest++] = props[i];
			continue;
		}
		if (!zfs_prop_index_value((zfs_prop_t)p, props[i].value, &v)) {
			spa_log(spa, ZFUSE_LOG_ERROR, "cannot create '%s': bad %s value '%s'", name,
				props[i].name, props[i].value);
			rc = SET_ERROR(-ZFUSE_E_INVAL);
		}
		*dst = v;
		a.zpl_given[dst == &a.zpl.normalization ? 0 : dst == &a.zpl.utf8only ? 1 : 2] = true;
	}
	char resv[32];
	if (rc == 0 && volsize)
		rc = zvol_check_sizes(spa, name, volsize, a.volblocksize);
	if (rc == 0 && volsize && !sparse && !resv_given) {
		volume_reservation(spa, &a, resv, sizeof(resv));
		rest[nrest++] = (struct zfuse_prop_setting){ "refreservation", resv };
		struct zfuse_prop_value avail;
		if (zfuse_prop_get(pool, a.parent, "available", true, &avail) == 0 &&
		    strtoull(resv, NULL, 10) > strtoull(avail.value, NULL, 10)) {
			spa_log(spa, ZFUSE_LOG_ERROR, "cannot create '%s': out of space", name);
			rc = SET_ERROR(-ZFUSE_E_NOSPC);
		}
	}
	/* Encryption: its properties live in the crypto key, not the DSL. */
	if (rc == 0) {
		uint64_t pds, pdir;
		bool snap;
		spa_enter_read(spa);
		rc = dsl_dataset_lookup(spa, a.parent, &pds, &pdir, &snap);
		if (rc == -ZFUSE_E_NOENT) {
			spa_log(spa, ZFUSE_LOG_ERROR, "cannot create '%s': parent does not exist", name);
		} else if (rc == 0) {
			rc = dsl_crypto_params_create(spa, name, pdir, rest, &nrest, material, len, &a.dcp);
		}
		spa_exit(spa);
	}
	/* Checked before anything is made: all or nothing. */
	if (rc == 0 && nrest)
		rc = dsl_prop_check(spa, a.parent, rest, nrest);
	if (rc == 0)
		rc = dsl_sync_task(spa, create_check, create_sync, &a);
	dsl_crypto_params_wipe(&a.dcp);
	if (rc == 0 && nrest && (rc = zfuse_prop_set(pool, name, rest, nrest)) != 0)
		zfuse_dataset_destroy(pool, name);
	free(rest);
	return rc;
}

/* ---- destroy ------------------------------------------------------------- */

struct destroy_arg {
	const char *name;
	uint64_t dsobj;
	bool snapshot;
};

static int destroy_check(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	(void)tx;
	struct destroy_arg *a = varg;
	uint64_t dir;
	bool snap;
	int rc = dsl_dataset_lookup(spa, a->name, &a->dsobj, &dir, &snap);
	if (rc == -ZFUSE_E_NOENT)
		spa_log(spa, ZFUSE_LOG_ERROR, "could not find any snapshots to destroy; check "
			"snapshot names.");
	if (rc)
		return rc;
	if (snap != a->snapshot)
		return SET_ERROR(-ZFUSE_E_INVAL);
	rc = snap ? dsl_destroy_snapshot_check(spa, a->dsobj) : dsl_destroy_head_check(spa, a->dsobj);
	switch (rc) {
	case -ZFUSE_E_EXIST:
		spa_log(spa, ZFUSE_LOG_ERROR, snap ? "cannot destroy '%s': snapshot has dependent "
			"clones" : "cannot destroy '%s': filesystem has snapshots", a->name);
		break;
	case -ZFUSE_E_NOTEMPTY:
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot destroy '%s': filesystem has children",
			a->name);
		break;
	case -ZFUSE_E_BUSY:
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot destroy '%s': dataset is busy", a->name);
		break;
	default:
		break;
	}
	return rc;
}

static int destroy_sync(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	struct destroy_arg *a = varg;
	return a->snapshot ? dsl_destroy_snapshot_sync_impl(spa, a->dsobj, tx)
			   : dsl_destroy_head_sync_impl(spa, a->dsobj, tx);
}

static int destroy(spa_t *spa, const char *name, bool snapshot)
{
	if (!name)
		return SET_ERROR(-ZFUSE_E_INVAL);
	if (!writable_or_log(spa))
		return SET_ERROR(-ZFUSE_E_ROFS);
	struct ds_name n;
	int rc = name_parse(spa, name, &n);
	if (rc)
		return rc;
	if ((n.sep == '@') != snapshot || n.sep == '#') {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot destroy '%s': %s", name,
			snapshot ? "not a snapshot name" : "a snapshot or bookmark name");
		return SET_ERROR(-ZFUSE_E_INVAL);
	}
	struct destroy_arg a = { name, 0, snapshot };
	return dsl_sync_task(spa, destroy_check, destroy_sync, &a);
}

int zfuse_snapshot_destroy(zfuse_pool_t *pool, const char *name)
{
	return destroy((spa_t *)pool, name, true);
}

int zfuse_dataset_destroy(zfuse_pool_t *pool, const char *name)
{
	return destroy((spa_t *)pool, name, false);
}

/* ---- rollback ------------------------------------------------------------ */

struct rollback_arg {
	struct ds_name name;
	const char *full;
	uint64_t head, snap;
};

static int rollback_check(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	(void)tx;
	struct rollback_arg *a = varg;
	uint64_t dir;
	int rc = head_find(spa, a->name.ds, &a->head, &dir);
	if (rc == 0) {
		rc = dsl_snapshot_lookup(spa, a->head, a->name.snap, &a->snap);
		if (rc == -ZFUSE_E_NOENT)
			spa_log(spa, ZFUSE_LOG_ERROR, "cannot open '%s': dataset does not exist",
				a->full);
	}
	if (rc == 0)
		rc = dsl_dataset_rollback_check(spa, a->head, a->snap);
	if (rc == -ZFUSE_E_EXIST)
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot rollback to '%s': more recent snapshots or "
			"bookmarks exist\nuse '-r' to force deletion of the following snapshots and "
			"bookmarks:", a->full);
	else if (rc == -ZFUSE_E_UNSUPPORTED)
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot rollback to '%s': the snapshot has an intent "
			"log, which zfuse does not rewrite", a->full);
	return rc;
}

static int rollback_sync(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	struct rollback_arg *a = varg;
	return dsl_dataset_rollback_sync_impl(spa, a->head, a->snap, tx);
}

int zfuse_rollback(zfuse_pool_t *pool, const char *snapname)
{
	spa_t *spa = (spa_t *)pool;
	if (!snapname)
		return SET_ERROR(-ZFUSE_E_INVAL);
	if (!writable_or_log(spa))
		return SET_ERROR(-ZFUSE_E_ROFS);
	struct rollback_arg a = { .full = snapname };
	int rc = name_parse(spa, snapname, &a.name);
	if (rc)
		return rc;
	if (a.name.sep != '@') {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot rollback '%s': not a snapshot name "
			"(DATASET@SNAPSHOT)", snapname);
		return SET_ERROR(-ZFUSE_E_INVAL);
	}
	return dsl_sync_task(spa, rollback_check, rollback_sync, &a);
}

/* ---- clone --------------------------------------------------------------- */

struct clone_arg {
	struct ds_name origin, name;
	const char *child;
	char parent[ZFS_MAX_DATASET_NAME_LEN];
	uint64_t origin_ds, parent_ds, parent_dir, origin_dir;
};

static int clone_check(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	(void)tx;
	struct clone_arg *a = varg;
	char full[2 * ZFS_MAX_DATASET_NAME_LEN];
	snprintf(full, sizeof(full), "%s@%s", a->origin.ds, a->origin.snap);
	uint64_t dir;
	bool snap;
	int rc = dsl_dataset_lookup(spa, full, &a->origin_ds, &dir, &snap);
	if (rc == -ZFUSE_E_NOENT)
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot open '%s': dataset does not exist", full);
	if (rc)
		return rc;
	struct create_arg c = { .name = a->name };
	memcpy(c.parent, a->parent, sizeof(c.parent));
	if ((rc = create_check(spa, &c, NULL)) != 0)
		return rc;
	a->parent_ds = c.parent_ds;
	a->parent_dir = c.parent_dir;
	/* A clone's objset would need a copy with the origin's intent log
	 * header zeroed (object-layer.md §7.3 step 10). */
	dsl_dataset_phys_t o;
	if ((rc = dsl_dataset_read(spa, a->origin_ds, &o)) != 0)
		return rc;
	bool has_log;
	if ((rc = dsl_objset_has_log(spa, &o.bp, &has_log)) != 0)
		return rc;
	if (has_log) {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot create '%s': the origin snapshot has an intent "
			"log, which zfuse does not rewrite", a->name.ds);
		return SET_ERROR(-ZFUSE_E_UNSUPPORTED);
	}
	a->origin_dir = o.dir_obj;
	return dsl_crypto_clone_check(spa, a->name.ds, a->parent_dir, o.dir_obj);
}

static int clone_sync(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	struct clone_arg *a = varg;
	uint64_t dsobj;
	int rc = dsl_dataset_create_child(spa, a->parent_dir, a->child, a->origin_ds, tx, &dsobj);
	dsl_dataset_phys_t ds;
	if (rc == 0 && (rc = dsl_dataset_read(spa, dsobj, &ds)) == 0)
		rc = dsl_crypto_clone_sync(spa, ds.dir_obj, dsobj, a->origin_dir, tx);
	return rc;
}

int zfuse_clone(zfuse_pool_t *pool, const char *snapname, const char *newname,
		const struct zfuse_prop_setting *props, size_t nprops)
{
	spa_t *spa = (spa_t *)pool;
	if (!snapname || !newname)
		return SET_ERROR(-ZFUSE_E_INVAL);
	if (!writable_or_log(spa))
		return SET_ERROR(-ZFUSE_E_ROFS);
	struct clone_arg a = { 0 };
	int rc = name_parse(spa, snapname, &a.origin);
	if (rc == 0 && a.origin.sep != '@') {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot clone '%s': not a snapshot name", snapname);
		rc = SET_ERROR(-ZFUSE_E_INVAL);
	}
	if (rc == 0)
		rc = name_parse(spa, newname, &a.name);
	if (rc == 0 && a.name.sep) {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot create '%s': a clone is a filesystem, not a "
			"snapshot or bookmark", newname);
		rc = SET_ERROR(-ZFUSE_E_INVAL);
	}
	char *slash = rc == 0 ? strrchr(a.name.ds, '/') : NULL;
	if (rc == 0 && !slash) {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot create '%s': the pool's root dataset exists "
			"with the pool", newname);
		rc = SET_ERROR(-ZFUSE_E_EXIST);
	}
	if (rc)
		return rc;
	memcpy(a.parent, a.name.ds, (size_t)(slash - a.name.ds));
	a.child = slash + 1;
	if (nprops && (rc = dsl_prop_check(spa, a.parent, props, nprops)) != 0)
		return rc;
	rc = dsl_sync_task(spa, clone_check, clone_sync, &a);
	if (rc == 0 && nprops && (rc = zfuse_prop_set(pool, newname, props, nprops)) != 0)
		zfuse_dataset_destroy(pool, newname);
	return rc;
}

/* ---- promote ------------------------------------------------------------- */

struct promote_arg {
	const char *name;
	uint64_t head;
};

static int promote_check(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	(void)tx;
	struct promote_arg *a = varg;
	uint64_t dir;
	int rc = head_find(spa, a->name, &a->head, &dir);
	if (rc)
		return rc;
	char conflict[ZFS_MAX_DATASET_NAME_LEN] = "", origin[ZFS_MAX_DATASET_NAME_LEN] = "";
	dsl_dir_phys_t dd;
	if (dsl_dir_read(spa, dir, &dd) == 0 && dd.origin_obj)
		dsl_dataset_name(spa, dd.origin_obj, origin, sizeof(origin));
	rc = dsl_dataset_promote_check(spa, a->head, strlen(a->name), conflict, sizeof(conflict));
	switch (rc) {
	case 0:
		break;
	case -ZFUSE_E_INVAL:
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot promote '%s': not a cloned filesystem", a->name);
		break;
	case -ZFUSE_E_EXIST:
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot promote '%s': conflicting snapshot '%s' from "
			"parent '%s'", a->name, conflict, origin);
		break;
	case -ZFUSE_E_BUSY:
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot promote '%s': dataset is busy", a->name);
		break;
	case -ZFUSE_E_NAMETOOLONG:
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot promote '%s': dataset name is too long",
			a->name);
		break;
	case -ZFUSE_E_NOSPC:
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot promote '%s': out of space", a->name);
		break;
	case -ZFUSE_E_XDEV:
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot promote '%s': the clone is marked as not "
			"promotable", a->name);
		break;
	case -ZFUSE_E_UNSUPPORTED:
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot promote '%s': it or its origin filesystem has "
			"bookmarks or is encrypted, which zfuse does not promote", a->name);
		break;
	default:
		break;
	}
	return rc;
}

static int promote_sync(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	struct promote_arg *a = varg;
	return dsl_dataset_promote_sync_impl(spa, a->head, tx);
}

int zfuse_promote(zfuse_pool_t *pool, const char *clone)
{
	spa_t *spa = (spa_t *)pool;
	if (!clone)
		return SET_ERROR(-ZFUSE_E_INVAL);
	if (!writable_or_log(spa))
		return SET_ERROR(-ZFUSE_E_ROFS);
	struct ds_name n;
	int rc = name_parse(spa, clone, &n);
	if (rc)
		return rc;
	if (n.sep) {
		/* zfs opens it as a filesystem first, and says so */
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot open '%s': %s delimiter '%c' is not expected "
			"here", clone, n.sep == '@' ? "snapshot" : "bookmark", n.sep);
		return SET_ERROR(-ZFUSE_E_INVAL);
	}
	struct promote_arg a = { clone, 0 };
	return dsl_sync_task(spa, promote_check, promote_sync, &a);
}

/* ---- the space a run of snapshots holds -------------------------------------- */

int zfuse_snapshot_range_space(zfuse_pool_t *pool, const char *first, const char *last,
			       uint64_t *used)
{
	spa_t *spa = (spa_t *)pool;
	struct dsl_dataset_ref f, l;
	if (!first || !last || !used)
		return SET_ERROR(-ZFUSE_E_INVAL);
	*used = 0;
	spa_enter_read(spa);
	int rc = dsl_dataset_find(spa, first, &f);
	if (rc == 0)
		rc = dsl_dataset_find(spa, last, &l);
	if (rc == 0 && (!f.snapshot || !l.snapshot || f.dirobj != l.dirobj ||
			f.phys.creation_txg > l.phys.creation_txg))
		rc = SET_ERROR(-ZFUSE_E_INVAL);
	/* dsl_dataset_space_wouldfree: what the snapshots after each one of
	 * the run killed of the blocks born since the one before the run */
	uint64_t obj = rc == 0 ? l.phys.next_snap_obj : f.dsobj;
	for (unsigned k = 0; rc == 0 && obj != f.dsobj; k++) {
		dsl_dataset_phys_t ds;
		struct bpobj_space sp;
		if (obj == 0 || k > (1u << 20)) {
			rc = SET_ERROR(-ZFUSE_E_CORRUPT);
			break;
		}
		rc = dsl_dataset_read(spa, obj, &ds);
		if (rc == 0)
			rc = dsl_deadlist_space_range(spa, ds.deadlist_obj, f.phys.prev_snap_txg,
						      UINT64_MAX, &sp);
		if (rc == 0)
			*used += sp.used;
		obj = ds.prev_snap_obj;
	}
	spa_exit(spa);
	return rc;
}

/* ---- rename -------------------------------------------------------------- */

struct rename_arg {
	struct ds_name from, to;
	bool recursive;		/* snapshots: the same snapshot of every descendant */
	/* filled by the check */
	uint64_t dirobj, newparent;
	char newchild[ZFS_MAX_DATASET_NAME_LEN];
	uint64_t *heads;	/* snapshots: the heads whose snapshot is renamed */
	size_t nheads, capheads;
};

static int rename_collect(const struct zfuse_dataset_info *info, void *varg)
{
	struct rename_arg *a = varg;
	if (info->type != ZFUSE_DS_FILESYSTEM && info->type != ZFUSE_DS_VOLUME)
		return 0;
	size_t n = strlen(a->from.ds);
	if (strncmp(info->name, a->from.ds, n) != 0 || (info->name[n] && info->name[n] != '/'))
		return 0;
	if (info->name[n] && !a->recursive)
		return 0;
	if (a->nheads == a->capheads) {
		size_t nc = a->capheads ? 2 * a->capheads : 8;
		uint64_t *nv = realloc(a->heads, nc * sizeof(*nv));
		if (!nv)
			return -ZFUSE_E_NOMEM;
		a->heads = nv;
		a->capheads = nc;
	}
	a->heads[a->nheads++] = info->dsobj;
	return 0;
}

static int rename_snapshot_check(spa_t *spa, struct rename_arg *a)
{
	a->nheads = 0;
	int rc = dsl_dataset_walk(spa, rename_collect, a);
	if (rc)
		return rc;
	size_t found = 0;
	for (size_t i = 0; i < a->nheads; i++) {
		uint64_t snap;
		if (dsl_snapshot_lookup(spa, a->heads[i], a->to.snap, &snap) == 0) {
			spa_log(spa, ZFUSE_LOG_ERROR, "cannot rename to '%s@%s': dataset already exists",
				a->to.ds, a->to.snap);
			return SET_ERROR(-ZFUSE_E_EXIST);
		}
		rc = dsl_snapshot_lookup(spa, a->heads[i], a->from.snap, &snap);
		if (rc == 0)
			a->heads[found++] = a->heads[i];	/* descendants may lack it */
		else if (rc != -ZFUSE_E_NOENT)
			return rc;
	}
	a->nheads = found;
	if (found == 0) {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot open '%s@%s': dataset does not exist",
			a->from.ds, a->from.snap);
		return SET_ERROR(-ZFUSE_E_NOENT);
	}
	return 0;
}

static int rename_check(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	(void)tx;
	struct rename_arg *a = varg;
	if (a->from.sep == '@')
		return rename_snapshot_check(spa, a);
	uint64_t ds, parent_ds;
	bool snap;
	int rc = head_find(spa, a->from.ds, &ds, &a->dirobj);
	if (rc)
		return rc;
	if (a->dirobj == spa->root_dir_obj) {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot rename '%s': the pool's root dataset has the "
			"pool's name", a->from.ds);
		return SET_ERROR(-ZFUSE_E_INVAL);
	}
	uint64_t d2, dir2;
	rc = dsl_dataset_lookup(spa, a->to.ds, &d2, &dir2, &snap);
	if (rc == 0) {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot rename to '%s': dataset already exists",
			a->to.ds);
		return SET_ERROR(-ZFUSE_E_EXIST);
	}
	if (rc != -ZFUSE_E_NOENT)
		return rc;
	size_t n = strlen(a->from.ds);
	if (strncmp(a->to.ds, a->from.ds, n) == 0 && a->to.ds[n] == '/') {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot rename '%s': new dataset name cannot be a "
			"descendant of current dataset name", a->from.ds);
		return SET_ERROR(-ZFUSE_E_INVAL);
	}
	char parent[ZFS_MAX_DATASET_NAME_LEN];
	const char *slash = strrchr(a->to.ds, '/');
	memcpy(parent, a->to.ds, (size_t)(slash - a->to.ds));
	parent[slash - a->to.ds] = '\0';
	snprintf(a->newchild, sizeof(a->newchild), "%s", slash + 1);
	rc = dsl_dataset_lookup(spa, parent, &parent_ds, &a->newparent, &snap);
	if (rc == -ZFUSE_E_NOENT)
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot rename to '%s': parent does not exist",
			a->to.ds);
	return rc;
}

static int rename_sync(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	struct rename_arg *a = varg;
	if (a->from.sep != '@')
		return dsl_dir_rename_sync(spa, a->dirobj, a->newparent, a->newchild, tx);
	for (size_t i = 0; i < a->nheads; i++) {
		int rc = dsl_snapshot_rename_sync(spa, a->heads[i], a->from.snap, a->to.snap, tx);
		if (rc)
			return rc;
	}
	return 0;
}

int zfuse_dataset_rename(zfuse_pool_t *pool, const char *oldname, const char *newname, bool recursive)
{
	spa_t *spa = (spa_t *)pool;
	if (!oldname || !newname)
		return SET_ERROR(-ZFUSE_E_INVAL);
	if (!writable_or_log(spa))
		return SET_ERROR(-ZFUSE_E_ROFS);
	struct rename_arg a = { .recursive = recursive };
	int rc = name_parse(spa, oldname, &a.from);
	if (rc == 0)
		rc = name_parse(spa, newname, &a.to);
	if (rc)
		return rc;
	if (a.from.sep == '#' || a.to.sep == '#') {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot rename '%s': bookmarks cannot be renamed",
			oldname);
		return SET_ERROR(-ZFUSE_E_INVAL);
	}
	if (a.from.sep != a.to.sep || (a.from.sep && strcmp(a.from.ds, a.to.ds) != 0)) {
		spa_log(spa, ZFUSE_LOG_ERROR, a.from.sep || a.to.sep ?
			"cannot rename to '%s': snapshots must be part of same dataset" :
			"cannot rename to '%s': not the same kind of dataset", newname);
		return SET_ERROR(-ZFUSE_E_INVAL);
	}
	if (!a.from.sep && recursive) {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot rename '%s': -r applies to snapshots only "
			"(a filesystem's children move with it)", oldname);
		return SET_ERROR(-ZFUSE_E_INVAL);
	}
	if (!a.from.sep && !strchr(a.to.ds, '/')) {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot rename to '%s': the pool's root dataset has "
			"the pool's name", newname);
		return SET_ERROR(-ZFUSE_E_INVAL);
	}
	rc = dsl_sync_task(spa, rename_check, rename_sync, &a);
	free(a.heads);
	return rc;
}

/* ---- bookmarks ---------------------------------------------------------- */

/* name_parse without its messages: zfs words some refusals its own way. */
static int name_parse_quiet(spa_t *spa, const char *name, struct ds_name *out)
{
	int level = spa->log_level;
	spa->log_level = -1;
	int rc = name_parse(spa, name, out);
	spa->log_level = level;
	return rc;
}

struct bookmark_arg {
	const char *source, *bookmark;
	struct ds_name src, bm;
	uint64_t head;			/* the new bookmark's */
	uint64_t snap;			/* a snapshot source */
	uint64_t w[ZBM_WORDS];		/* a bookmark source */
};

/* dsl_bookmark_create_check_impl */
static int bookmark_check(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	(void)tx;
	struct bookmark_arg *a = varg;
	if (!spa_feature_is_enabled(spa, "bookmarks")) {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot create bookmark '%s': bookmark feature not "
			"enabled", a->bookmark);
		return SET_ERROR(-ZFUSE_E_UNSUPPORTED);
	}
	uint64_t dir, srchead, w[ZBM_WORDS];
	bool snap;
	int rc = dsl_dataset_lookup(spa, a->bm.ds, &a->head, &dir, &snap);
	if (rc == -ZFUSE_E_NOENT)
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot create bookmark '%s': dataset does not exist",
			a->bookmark);
	if (rc)
		return rc;
	rc = dsl_bookmark_lookup(spa, a->head, a->bm.snap, w);
	if (rc == 0) {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot create bookmark '%s': bookmark exists",
			a->bookmark);
		return SET_ERROR(-ZFUSE_E_EXIST);
	}
	if (rc != -ZFUSE_E_NOENT)
		return rc;
	bool before;
	if (a->src.sep == '@') {
		rc = dsl_dataset_lookup(spa, a->source, &a->snap, &dir, &snap);
		if (rc == -ZFUSE_E_NOENT)
			spa_log(spa, ZFUSE_LOG_ERROR, "cannot open '%s': dataset does not exist",
				a->source);
		if (rc)
			return rc;
		before = dsl_dataset_is_before(spa, a->head, a->snap, 0);
	} else {
		rc = dsl_dataset_lookup(spa, a->src.ds, &srchead, &dir, &snap);
		if (rc == 0)
			rc = dsl_bookmark_lookup(spa, srchead, a->src.snap, a->w);
		if (rc == -ZFUSE_E_NOENT)
			spa_log(spa, ZFUSE_LOG_ERROR, "cannot open '%s': no such pool or dataset",
				a->source);
		if (rc)
			return rc;
		before = dsl_dataset_is_before(spa, a->head, srchead, a->w[ZBM_TXG]);
	}
	if (!before) {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot create bookmark '%s': source is not an "
			"ancestor of the new bookmark's dataset", a->bookmark);
		return SET_ERROR(-ZFUSE_E_XDEV);
	}
	return 0;
}

static int bookmark_sync(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	struct bookmark_arg *a = varg;
	uint64_t w[ZBM_WORDS];
	int rc = 0;
	if (a->src.sep == '@')
		rc = dsl_bookmark_of_snapshot(spa, a->snap, w);
	else
		memcpy(w, a->w, sizeof(w));
	/* A copy of a redaction bookmark is an ordinary one. */
	w[ZBM_REDACTION_OBJ] = 0;
	return rc ? rc : dsl_bookmark_add_sync(spa, a->head, a->bm.snap, w, tx);
}

int zfuse_bookmark_create(zfuse_pool_t *pool, const char *source, const char *bookmark)
{
	spa_t *spa = (spa_t *)pool;
	if (!source || !bookmark)
		return SET_ERROR(-ZFUSE_E_INVAL);
	if (!strchr(source, '@') && !strchr(source, '#')) {
		spa_log(spa, ZFUSE_LOG_ERROR, "invalid source name '%s': must contain a '@' or '#'",
			source);
		return SET_ERROR(-ZFUSE_E_INVAL);
	}
	if (!strchr(bookmark, '#')) {
		spa_log(spa, ZFUSE_LOG_ERROR, "invalid bookmark name '%s': must contain a '#'",
			bookmark);
		return SET_ERROR(-ZFUSE_E_INVAL);
	}
	if (!writable_or_log(spa))
		return SET_ERROR(-ZFUSE_E_ROFS);
	struct bookmark_arg a = { .source = source, .bookmark = bookmark };
	int rc = name_parse(spa, source, &a.src);
	if (rc)
		return rc;
	/* OpenZFS checks the new name in the kernel, answering EINVAL. */
	if ((rc = name_parse_quiet(spa, bookmark, &a.bm)) != 0) {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot create bookmark '%s': %s", bookmark,
			rc == -ZFUSE_E_NOENT ? "bookmark is in a different pool" :
			rc == -ZFUSE_E_NAMETOOLONG ? "name too long" : "invalid argument");
		return rc;
	}
	return dsl_sync_task(spa, bookmark_check, bookmark_sync, &a);
}

struct bookmark_destroy_arg {
	const char *name;
	struct ds_name n;
	uint64_t head;
};

static int bookmark_destroy_check(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	(void)tx;
	struct bookmark_destroy_arg *a = varg;
	uint64_t dir, w[ZBM_WORDS];
	bool snap;
	int rc = dsl_dataset_lookup(spa, a->n.ds, &a->head, &dir, &snap);
	if (rc == 0)
		rc = dsl_bookmark_lookup(spa, a->head, a->n.snap, w);
	if (rc == -ZFUSE_E_NOENT)
		spa_log(spa, ZFUSE_LOG_ERROR, "bookmark '%s' does not exist.", a->name);
	return rc;
}

static int bookmark_destroy_sync(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	struct bookmark_destroy_arg *a = varg;
	return dsl_bookmark_destroy_sync(spa, a->head, a->n.snap, tx);
}

int zfuse_bookmark_destroy(zfuse_pool_t *pool, const char *bookmark)
{
	spa_t *spa = (spa_t *)pool;
	if (!bookmark)
		return SET_ERROR(-ZFUSE_E_INVAL);
	if (!writable_or_log(spa))
		return SET_ERROR(-ZFUSE_E_ROFS);
	struct bookmark_destroy_arg a = { .name = bookmark };
	int rc = name_parse_quiet(spa, bookmark, &a.n);
	if (rc || a.n.sep != '#') {
		spa_log(spa, ZFUSE_LOG_ERROR, "bookmark '%s' does not exist.", bookmark);
		return rc ? rc : SET_ERROR(-ZFUSE_E_INVAL);
	}
	return dsl_sync_task(spa, bookmark_destroy_check, bookmark_destroy_sync, &a);
}

/* ---- holds --------------------------------------------------------------- */

#define DMU_OT_USERREFS 41
#define DS_OFF_USERREFS_OBJ 272

struct hold_arg {
	struct ds_name name;
	const char *full, *tag;
	bool release;
	uint64_t snap;
};

static int hold_check(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	(void)tx;
	struct hold_arg *a = varg;
	uint64_t dir;
	bool snap;
	int rc = dsl_dataset_lookup(spa, a->full, &a->snap, &dir, &snap);
	if (rc == -ZFUSE_E_NOENT)
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot %s '%s': dataset does not exist",
			a->release ? "release hold from snapshot" : "hold snapshot", a->full);
	if (rc)
		return rc;
	dsl_dataset_phys_t ds;
	if ((rc = dsl_dataset_read(spa, a->snap, &ds)) != 0)
		return rc;
	uint64_t when;
	rc = -ZFUSE_E_NOENT;
	if (ds.userrefs_obj) {
		dnode_t dn;
		if ((rc = dnode_hold(spa->mos, ds.userrefs_obj, &dn)) != 0)
			return rc;
		rc = zap_lookup_uint64(&dn, a->tag, &when);
		dnode_rele(&dn);
	}
	if (!a->release && rc == 0) {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot hold snapshot '%s': tag already exists on this "
			"dataset", a->full);
		return SET_ERROR(-ZFUSE_E_EXIST);
	}
	if (a->release && rc == -ZFUSE_E_NOENT)
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot release hold from snapshot '%s': no such tag on "
			"this dataset", a->full);
	return a->release ? rc : rc == -ZFUSE_E_NOENT ? 0 : rc;
}

static int hold_sync(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	struct hold_arg *a = varg;
	dsl_dataset_phys_t ds;
	int rc = dsl_dataset_read(spa, a->snap, &ds);
	if (rc)
		return rc;
	if (a->release)
		return zap_remove(spa->mos, ds.userrefs_obj, a->tag, tx);
	if (!ds.userrefs_obj) {
		rc = zap_create(spa->mos, DMU_OT_USERREFS, DMU_OT_NONE, 0, tx, &ds.userrefs_obj);
		if (rc == 0)
			rc = dsl_phys_set(spa, a->snap, DS_OFF_USERREFS_OBJ, ds.userrefs_obj, tx);
		if (rc)
			return rc;
	}
	return zap_add_uint64(spa->mos, ds.userrefs_obj, a->tag, (uint64_t)time(NULL), tx);
}

static int hold_or_release(spa_t *spa, const char *snapname, const char *tag, bool release)
{
	if (!snapname || !tag)
		return SET_ERROR(-ZFUSE_E_INVAL);
	if (!writable_or_log(spa))
		return SET_ERROR(-ZFUSE_E_ROFS);
	struct hold_arg a = { .full = snapname, .tag = tag, .release = release };
	int rc = name_parse(spa, snapname, &a.name);
	if (rc)
		return rc;
	if (a.name.sep != '@' || !*tag || strlen(tag) >= ZFS_MAX_DATASET_NAME_LEN) {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot %s '%s': %s", release ? "release" : "hold",
			snapname, a.name.sep != '@' ? "not a snapshot name" :
			*tag ? "tag is too long" : "empty tag");
		return SET_ERROR(-ZFUSE_E_INVAL);
	}
	return dsl_sync_task(spa, hold_check, hold_sync, &a);
}

int zfuse_hold(zfuse_pool_t *pool, const char *snapname, const char *tag)
{
	return hold_or_release((spa_t *)pool, snapname, tag, false);
}

int zfuse_release(zfuse_pool_t *pool, const char *snapname, const char *tag)
{
	return hold_or_release((spa_t *)pool, snapname, tag, true);
}

struct holds_walk {
	int (*cb)(void *, const char *, uint64_t);
	void *arg;
	char (*tags)[ZFS_MAX_DATASET_NAME_LEN];
	uint64_t *when;
	size_t n, cap;
};

static int holds_collect(void *varg, const zap_entry_t *ze)
{
	struct holds_walk *w = varg;
	if (w->n == w->cap) {
		size_t nc = w->cap ? 2 * w->cap : 8;
		void *nt = realloc(w->tags, nc * sizeof(*w->tags));
		if (!nt)
			return -ZFUSE_E_NOMEM;
		w->tags = nt;
		uint64_t *nw = realloc(w->when, nc * sizeof(*nw));
		if (!nw)
			return -ZFUSE_E_NOMEM;
		w->when = nw;
		w->cap = nc;
	}
	snprintf(w->tags[w->n], sizeof(w->tags[0]), "%s", ze->name);
	w->when[w->n++] = ze->value_first;
	return 0;
}

int zfuse_holds_iter(zfuse_pool_t *pool, const char *snapname,
		     int (*cb)(void *arg, const char *tag, uint64_t when), void *arg)
{
	spa_t *spa = (spa_t *)pool;
	struct dsl_dataset_ref ref;
	struct holds_walk w = { cb, arg, NULL, NULL, 0, 0 };
	spa_enter_read(spa);
	int rc = dsl_dataset_find(spa, snapname, &ref);
	if (rc == 0 && !ref.snapshot)
		rc = SET_ERROR(-ZFUSE_E_INVAL);
	if (rc == 0 && ref.phys.userrefs_obj) {
		dnode_t dn;
		if ((rc = dnode_hold(spa->mos, ref.phys.userrefs_obj, &dn)) == 0) {
			rc = zap_iterate(&dn, 0, 0, holds_collect, &w);
			dnode_rele(&dn);
		}
	}
	spa_exit(spa);
	/* cb runs without the lock, as zfuse_dataset_iter's */
	for (size_t i = 0; rc == 0 && i < w.n; i++)
		rc = cb(arg, w.tags[i], w.when[i]);
	free(w.tags);
	free(w.when);
	return rc;
}
