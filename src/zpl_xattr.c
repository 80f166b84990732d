/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zpl_xattr.c — extended attributes, written as Linux OpenZFS's
 * zpl_xattr.c stores them: with xattr=sa in the ZPL_DXATTR nvlist (XDR
 * packed, full Linux names, byte-array values) while a value is at most
 * 32 KiB and the packed list at most 64 KiB, otherwise — and always with
 * xattr=dir — as files in the object's hidden xattr directory
 * (S_IFDIR|S_ISVTX|0777, ZFS_XATTR, parent = the object). Setting a value
 * drops any same-named copy from the other place; an existing xattr file
 * is truncated and rewritten, not replaced.
 *
 * The intent log gets what OpenZFS logs for the same change: TX_MKXATTR
 * for a new xattr directory, TX_CREATE / TX_REMOVE of the xattr file in
 * it, TX_TRUNCATE and TX_WRITE of its value, and TX_SETSAXATTR for the SA
 * list while zilsaxattr is active on the dataset; without it an SA change
 * makes the next commit wait for its txg.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "nvpair.h"
#include "zap.h"
#include "zpl_write.h"
#include "zil.h"
#include "zil_log.h"
#include "zfuse/errors.h"
#include "zfuse/zfuse.h"

static int check_xattr_name(const char *name)
{
	size_t n = strlen(name);
	if (n == 0)
		return -ZFUSE_E_RANGE;
	if (n > ZPL_NAME_MAX)
		return -ZFUSE_E_NAMETOOLONG;
	if (strncmp(name, "user.", 5) && strncmp(name, "trusted.", 8) &&
	    strncmp(name, "security.", 9) && strncmp(name, "system.", 7))
		return -ZFUSE_E_UNSUPPORTED;
	if (strchr(name, '/'))
		return -ZFUSE_E_INVAL;
	return 0;
}

/* The SA nvlist of n (an empty list when there is none). */
static int sa_xattrs(zfuse_fs_t *fs, struct wnode *n, nvlist_t **nvl)
{
	uint32_t len;
	const uint8_t *v = sa_attrs_get(fs->w->sat, &n->sa, ZPL_DXATTR, &len);
	if (v && len)
		return nvlist_unpack(v, len, nvl);
	return nvlist_alloc(nvl);
}

static int store_sa_xattrs(zfuse_fs_t *fs, struct wnode *n, const nvlist_t *nvl)
{
	size_t size;
	int rc = nvlist_size_xdr(nvl, &size);
	if (rc)
		return rc;
	uint8_t *buf = malloc(size);
	if (!buf)
		return -ZFUSE_E_NOMEM;
	size_t used;
	if ((rc = nvlist_pack_xdr(nvl, buf, size, &used)) == 0)
		rc = sa_attrs_set(fs->w->sat, &n->sa, ZPL_DXATTR, buf, (uint32_t)used);
	free(buf);
	return rc;
}

/* zfs_make_xattrdir: the hidden directory, owned like the file. */
static int make_xattr_dir(zfuse_fs_t *fs, struct wnode *n, dmu_tx_t *tx, const int64_t now[2])
{
	struct mkargs a = { S_IFDIR | S_ISVTX | 0777, n->uid, n->gid, 0, true };
	struct wnode x;
	int rc = zplw_mknode(fs, n, &a, tx, now, &x);
	if (rc)
		return rc;
	n->xattr = x.obj;
	zfs_log_create(fs->os, tx->txg, TX_MKXATTR, n->obj, x.obj, fs->os->dnodesize >> 9, x.mode,
		       x.uid, x.gid, x.gen, now, 0, "", NULL);
	zplw_wnode_free(&x);
	return zplw_wset(fs, n, ZPL_XATTR, n->xattr);
}

/* zpl_xattr_set_dir: value NULL removes. */
static int xattr_dir_set(zfuse_fs_t *fs, struct wnode *n, const char *name, const void *value,
			 size_t size, dmu_tx_t *tx, const int64_t now[2])
{
	int rc;
	if (!n->xattr) {
		if (!value)
			return 0;
		if ((rc = make_xattr_dir(fs, n, tx, now)) != 0 || (rc = zplw_wstore(fs, n, tx)) != 0)
			return rc;
	}
	struct wnode xd, xf;
	if ((rc = zplw_load_dir(fs, n->xattr, &xd)) != 0)
		return rc;
	char stored[ZAP_MAXNAMELEN_NEW];
	uint64_t obj = 0;
	rc = zplw_dir_find(fs, n->xattr, name, &obj, stored, sizeof(stored));
	if (rc && rc != -ZFUSE_E_NOENT)
		goto out;
	bool exists = rc == 0;
	rc = 0;
	if (!value) {
		if (exists && (rc = zplw_wnode_load(fs, obj, &xf)) == 0) {
			bool unlinked;
			rc = zplw_link_destroy(fs, &xd, stored, &xf, false, tx, now, &unlinked);
			zplw_wnode_free(&xf);
			if (rc == 0)
				zfs_log_remove(fs->os, tx->txg, TX_REMOVE, xd.obj, stored);
			/* Nobody holds an xattr file open: free it now. */
			if (rc == 0 && unlinked)
				rc = zplw_free_znode(fs, obj, tx);
		}
		goto out;
	}
	if (exists) {
		if ((rc = zplw_load_regular(fs, obj, &xf)) != 0)
			goto out;
		/* zfs_freesp(xzp, 0, 0): logged as a truncation to 0 */
		if ((rc = zplw_set_size(fs, &xf, 0, tx)) == 0)
			zfs_log_truncate(fs->os, tx->txg, xf.obj, 0, 0, true);
	} else {
		struct mkargs a = { S_IFREG | 0644, n->uid, n->gid, 0, true };
		if ((rc = zplw_mknode(fs, &xd, &a, tx, now, &xf)) != 0)
			goto out;
		rc = zplw_link_create(fs, &xd, name, &xf, true, false, tx, now);
		if (rc == 0)
			zfs_log_create(fs->os, tx->txg, TX_CREATE, xd.obj, xf.obj, fs->os->dnodesize >> 9,
				       xf.mode, xf.uid, xf.gid, xf.gen, now, 0, name, NULL);
	}
	if (rc == 0)
		rc = zplw_write_locked(fs, &xf, value, size, 0, tx, now);
	zplw_wnode_free(&xf);
out:
	zplw_wnode_free(&xd);
	return rc;
}

static int xattr_dir_has(zfuse_fs_t *fs, const struct wnode *n, const char *name, bool *has)
{
	*has = false;
	if (!n->xattr)
		return 0;
	char stored[ZAP_MAXNAMELEN_NEW];
	uint64_t obj;
	int rc = zplw_dir_find(fs, n->xattr, name, &obj, stored, sizeof(stored));
	if (rc == 0)
		*has = true;
	return rc == -ZFUSE_E_NOENT ? 0 : rc;
}

/* zpl_xattr_set: value NULL removes. */
static int xattr_set(zfuse_fs_t *fs, uint64_t ino, const char *name, const void *value,
		     size_t size, int flags)
{
	int rc = check_xattr_name(name);
	if (rc)
		return rc;
	if (value && size > XATTR_VALUE_MAX)
		return -ZFUSE_E_RANGE;
	if (!zfuse_fs_writable(fs))
		return -ZFUSE_E_ROFS;
	if (fs->os->xattr == ZFS_XATTR_OFF)
		return -ZFUSE_E_UNSUPPORTED;
	dmu_tx_t tx;
	int64_t now[2];
	struct wnode n;
	if ((rc = zplw_op_begin(fs, ino, zplw_wnode_load, &tx, now, &n)) != 0)
		return rc;
	/* The xattr directory's part logs itself (xattr_dir_set); the SA
	 * list's changes are logged as TX_SETSAXATTR where OpenZFS logs one
	 * (zilsaxattr active), else the next commit waits for the txg. */
	bool sa_changed = false;
	const void *sa_value = NULL;
	size_t sa_size = 0;
	nvlist_t *nvl = NULL;
	bool in_dir;
	if ((rc = sa_xattrs(fs, &n, &nvl)) != 0 || (rc = xattr_dir_has(fs, &n, name, &in_dir)) != 0)
		goto out;
	const uint8_t *old;
	uint32_t oldn;
	bool in_sa = nvlist_lookup_byte_array(nvl, name, &old, &oldn) == 0;
	if ((flags & ZFUSE_XATTR_CREATE) && (in_sa || in_dir)) {
		rc = -ZFUSE_E_EXIST;
		goto out;
	}
	if ((!value || (flags & ZFUSE_XATTR_REPLACE)) && !in_sa && !in_dir) {
		rc = -ZFUSE_E_NODATA;
		goto out;
	}
	if (!value) {
		if (in_sa) {
			nvlist_remove(nvl, name);
			if ((rc = store_sa_xattrs(fs, &n, nvl)) != 0)
				goto out;
			sa_changed = true;
		}
		if (in_dir && (rc = xattr_dir_set(fs, &n, name, NULL, 0, &tx, now)) != 0)
			goto out;
		if ((rc = zplw_wtouch(fs, &n, TS_CTIME, now)) == 0)
			rc = zplw_wstore(fs, &n, &tx);
		goto out;
	}
	if (fs->os->xattr == ZFS_XATTR_SA) {
		size_t cur;
		if ((rc = nvlist_size_xdr(nvl, &cur)) != 0)
			goto out;
		if (size <= DXATTR_MAX_ENTRY_SIZE && cur <= DXATTR_MAX_SA_SIZE) {
			if ((rc = nvlist_add_byte_array(nvl, name, value, (uint32_t)size)) != 0)
				goto out;
			/* FBIG: the packed list outgrew an SA attribute's 64 KiB */
			if ((rc = store_sa_xattrs(fs, &n, nvl)) == 0 &&
			    (rc = zplw_wtouch(fs, &n, TS_CTIME, now)) == 0)
				rc = zplw_wstore(fs, &n, &tx);
			if (rc == 0) {
				sa_changed = true;
				sa_value = value;
				sa_size = size;
				if (in_dir)
					rc = xattr_dir_set(fs, &n, name, NULL, 0, &tx, now);
				goto out;
			}
			if (rc != -ZFUSE_E_FBIG && rc != -ZFUSE_E_UNSUPPORTED)
				goto out;
			/* The SA list or area is full (or would need a spill
			 * block the engine cannot write yet): the value goes to
			 * the directory, as zpl_xattr_set does on EFBIG. */
			zplw_wnode_free(&n);
			if ((rc = zplw_wnode_load(fs, ino, &n)) != 0)
				goto out;
			nvlist_remove(nvl, name);
		}
	}
	if ((rc = xattr_dir_set(fs, &n, name, value, size, &tx, now)) != 0)
		goto out;
	if (in_sa) {
		nvlist_remove(nvl, name);
		if ((rc = store_sa_xattrs(fs, &n, nvl)) != 0)
			goto out;
		sa_changed = true;
	}
	if ((rc = zplw_wtouch(fs, &n, TS_CTIME, now)) == 0)
		rc = zplw_wstore(fs, &n, &tx);
out:
	if (rc == 0 && sa_changed) {
		if (zil_log_saxattr(fs->os))
			zfs_log_setsaxattr(fs->os, tx.txg, ino, name, sa_value, sa_size);
		else
			zil_tx_unlogged(fs->os);
	}
	nvlist_free(nvl);
	zplw_wnode_free(&n);
	return zplw_wend(fs, &tx, rc);
}

int zfuse_setxattr(zfuse_fs_t *fs, uint64_t ino, const char *name, const void *value,
		   size_t size, int flags)
{
	if (flags & ~(ZFUSE_XATTR_CREATE | ZFUSE_XATTR_REPLACE))
		return -ZFUSE_E_INVAL;
	static const uint8_t empty;
	return xattr_set(fs, ino, name, value ? value : &empty, value ? size : 0, flags);
}

int zfuse_removexattr(zfuse_fs_t *fs, uint64_t ino, const char *name)
{
	return xattr_set(fs, ino, name, NULL, 0, 0);
}

int zplw_replay_mkxattr(zfuse_fs_t *fs, uint64_t obj)
{
	dmu_tx_t tx;
	int64_t now[2];
	struct wnode n;
	int rc = zplw_op_begin(fs, obj, zplw_wnode_load, &tx, now, &n);
	if (rc)
		return rc;
	if (n.xattr)
		rc = -ZFUSE_E_EXIST;
	else if ((rc = make_xattr_dir(fs, &n, &tx, now)) == 0)
		rc = zplw_wstore(fs, &n, &tx);
	zplw_wnode_free(&n);
	return zplw_wend(fs, &tx, rc);
}

int zplw_replay_saxattr(zfuse_fs_t *fs, uint64_t obj, const char *name, const void *value,
			size_t size)
{
	dmu_tx_t tx;
	int64_t now[2];
	struct wnode n;
	int rc = zplw_op_begin(fs, obj, zplw_wnode_load, &tx, now, &n);
	if (rc)
		return rc;
	nvlist_t *nvl = NULL;
	if ((rc = sa_xattrs(fs, &n, &nvl)) == 0) {
		if (value)
			rc = nvlist_add_byte_array(nvl, name, value, (uint32_t)size);
		else if (nvlist_remove(nvl, name) != 0)
			rc = 0;	/* gone already: nothing to change */
		if (rc == 0 && (rc = store_sa_xattrs(fs, &n, nvl)) == 0)
			rc = zplw_wstore(fs, &n, &tx);
	}
	nvlist_free(nvl);
	zplw_wnode_free(&n);
	return zplw_wend(fs, &tx, rc);
}
