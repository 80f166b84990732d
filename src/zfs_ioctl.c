/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfs_ioctl.c — what `zfs` asks of a pool, as library calls
 * (include/zfuse/dataset.h): names checked as zfs checks them, then the
 * change handed to the sync as a DSL task (dsl_synctask.h) whose check
 * step is repeated there and whose sync step lives in the DSL
 * (dsl_dataset.c, dsl_destroy.c). The ZPL content of a new filesystem is
 * made here, as OpenZFS's zfs_ioc_create hands zfs_create_fs to the DMU.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dmu_objset.h"
#include "dmu_tx.h"
#include "dnode.h"
#include "dsl.h"
#include "dsl_dataset.h"
#include "dsl_destroy.h"
#include "dsl_synctask.h"
#include "spa_impl.h"
#include "spa_misc.h"
#include "txg.h"
#include "zap.h"
#include "zfuse/dataset.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"
#include "zpl_create.h"

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
	if (rc == 0)
		rc = dsl_sync_task(spa, snapshot_check, snapshot_sync, &a);
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
	return rc;
}

/* zfs_fill_zplprops: a new filesystem inherits its parent's
 * normalization, utf8only and casesensitivity (kept in the parent's
 * master node, not in the DSL). */
static int inherit_zplprops(spa_t *spa, uint64_t parent_ds, struct zpl_create_props *zpl)
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
		if (zap_lookup_uint64(&master, "normalization", &v) == 0)
			zpl->normalization = v;
		if (zap_lookup_uint64(&master, "utf8only", &v) == 0)
			zpl->utf8only = v;
		if (zap_lookup_uint64(&master, "casesensitivity", &v) == 0)
			zpl->casesensitivity = v;
		dnode_rele(&master);
	}
	spa_objset_rele(spa, pos);
	return rc;
}

static int create_sync(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	struct create_arg *a = varg;
	uint64_t dsobj;
	int rc = inherit_zplprops(spa, a->parent_ds, &a->zpl);
	if (rc == 0)
		rc = dsl_dataset_create_child(spa, a->parent_dir, a->child, 0, tx, &dsobj);
	objset_t *os = NULL;
	if (rc == 0)
		rc = objset_create_mem(spa, DMU_OST_ZFS, dsobj, tx, &os);
	if (rc == 0)
		rc = zpl_create_fs(os, &a->zpl, tx);
	if (rc == 0)
		rc = txg_sync_new_objset(spa, os, tx);
	if (os)
		spa_objset_rele(spa, os);
	return rc;
}

int zfuse_dataset_create(zfuse_pool_t *pool, const char *name, uint64_t volsize,
			 const struct zfuse_prop_setting *props, size_t nprops)
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
	if (volsize || nprops) {
		(void)props;
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot create '%s': %s are not supported yet", name,
			volsize ? "volumes" : "properties at creation");
		return SET_ERROR(-ZFUSE_E_UNSUPPORTED);
	}
	memcpy(a.parent, a.name.ds, (size_t)(slash - a.name.ds));
	a.child = slash + 1;
	a.zpl.root_uid = (uint32_t)geteuid();
	a.zpl.root_gid = (uint32_t)getegid();
	a.zpl.root_mode = 0755;
	return dsl_sync_task(spa, create_check, create_sync, &a);
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
