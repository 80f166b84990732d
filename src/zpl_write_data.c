/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zpl_write_data.c — the ZPL write side's file data and attributes:
 * zfuse_write (zfs_write), zfuse_setattr (zfs_setattr, zfs_freesp with
 * len 0), zfuse_fallocate (zfs_space) and zfuse_copy_file_range, with
 * zfs_grow_blocksize's rule for a file's single block.
 *
 * Everything here changes one regular file's contents or a znode's
 * attributes; directory entries and object life are zpl_write.c's. Each call
 * is one transaction made of the building blocks in zpl_write.h.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "dmu_tx.h"
#include "sa.h"
#include "zfs_acl.h"
#include "zpl_impl.h"
#include "dsl_quota.h"
#include "zpl_write.h"
#include "zil.h"
#include "zil_log.h"
#include "zfs_quota.h"
#include "zfuse/errors.h"
#include "zfuse/zfuse.h"

static unsigned highbit64(uint64_t v)
{
	unsigned h = 0;
	while (v) {
		h++;
		v >>= 1;
	}
	return h;
}

/* Set DACL_COUNT/DACL_ACES from the mode and the flags that follow. */
static int set_mode_acl(zfuse_fs_t *fs, struct wnode *n)
{
	uint8_t aces[48];
	unsigned cnt = zpl_trivial_acl(n->mode, S_ISDIR(n->mode), aces);
	int rc = zplw_wset(fs, n, ZPL_DACL_COUNT, cnt);
	if (!rc)
		rc = sa_attrs_set(fs->w->sat, &n->sa, ZPL_DACL_ACES, aces, cnt * 8);
	n->flags |= ZFS_ACL_TRIVIAL;
	if ((n->mode & 0111) == 0111)
		n->flags |= ZFS_NO_EXECS_DENIED;
	else
		n->flags &= ~ZFS_NO_EXECS_DENIED;
	return rc;
}

/* Whether a change to n goes to the intent log. Not for a file without a
 * name (unlinked, still open; OpenZFS logs nothing of an unlinked znode
 * either): no name can reach it again (no O_TMPFILE, so no linkat), a
 * replay frees it, and its records would only make its free walk the log
 * queue to drop them (zil_remove_async). The transaction is then marked
 * as needing no record, so that a commit does not wait for its txg. */
static bool logs_changes(zfuse_fs_t *fs, const struct wnode *n)
{
	if (n->links > 0)
		return true;
	zil_tx_nolog(fs->os);
	return false;
}

/* zfs_grow_blocksize for a file about to reach end bytes. */
static int grow_blocksize(zfuse_fs_t *fs, struct wnode *n, uint64_t end, dmu_tx_t *tx)
{
	uint64_t rs = zpl_recordsize(fs);
	if (end <= n->blksz || (is_p2(n->blksz) && n->blksz >= rs) || n->maxblkid != 0)
		return 0;
	uint64_t nb;
	if (n->blksz > rs)
		nb = end < (1ULL << highbit64(n->blksz)) ? end : (1ULL << highbit64(n->blksz));
	else
		nb = end < rs ? end : rs;
	nb = (nb + 511) & ~511ULL;
	if (nb <= n->blksz)
		return 0;
	int rc = dmu_object_set_blocksize(fs->os, n->obj, nb, tx);
	if (rc == -ZFUSE_E_INVAL)
		return 0;	/* more than one block already: the size stays */
	if (rc == 0)
		n->blksz = nb;
	return rc;
}

int zplw_load_regular(zfuse_fs_t *fs, uint64_t ino, struct wnode *n)
{
	int rc = zplw_wnode_load(fs, ino, n);
	if (rc)
		return rc;
	if (S_ISDIR(n->mode))
		rc = -ZFUSE_E_ISDIR;
	else if (!S_ISREG(n->mode))
		rc = -ZFUSE_E_INVAL;
	if (rc)
		zplw_wnode_free(n);
	return rc;
}

/* The body of zfs_write on a loaded file, inside a transaction. */
int zplw_write_locked(zfuse_fs_t *fs, struct wnode *n, const void *buf, size_t len, uint64_t off,
			dmu_tx_t *tx, const int64_t now[2])
{
	uint64_t end = off + len;
	uint64_t end_size = end > n->size ? end : n->size;
	int rc = grow_blocksize(fs, n, end_size, tx);
	if (rc)
		return rc;
	if (len && (rc = dmu_write(fs->os, n->obj, off, len, buf, tx)) != 0)
		return rc;
	if (len && logs_changes(fs, n))
		zfs_log_write(fs->os, tx->txg, n->obj, n->gen, off, len, end_size,
				      (n->flags & ZFS_XATTR) != 0);
	if (end > n->size) {
		n->size = end;
		if ((rc = zplw_wset(fs, n, ZPL_SIZE, n->size)) != 0)
			return rc;
	}
	if (now && (rc = zplw_wtouch(fs, n, TS_MTIME | TS_CTIME, now)) != 0)
		return rc;
	return zplw_wstore(fs, n, tx);
}

ssize_t zfuse_write(zfuse_fs_t *fs, uint64_t ino, const void *buf, size_t len, uint64_t off)
{
	return zfuse_write_flags(fs, ino, buf, len, off, 0);
}

ssize_t zfuse_write_flags(zfuse_fs_t *fs, uint64_t ino, const void *buf, size_t len,
			  uint64_t off, unsigned flags)
{
	if (flags & ~ZFUSE_WRITE_CACHED)
		return -ZFUSE_E_INVAL;
	if (off > FILE_SIZE_MAX || len > FILE_SIZE_MAX - off)
		return -ZFUSE_E_FBIG;
	dmu_tx_t tx;
	int64_t now[2];
	struct wnode n;
	int rc = fs->writable ? dsl_quota_check(fs->spa, fs->os) : 0;
	if (rc == 0)
		rc = zplw_op_begin(fs, ino, zplw_load_regular, &tx, now, &n);
	if (rc)
		return rc;
	/* zfs_write: the file's owner, group and project, not the writer. */
	rc = zfs_id_overquota(fs->os, n.uid, n.gid, n.projid, false);
	if (rc == 0)
		rc = zplw_write_locked(fs, &n, buf, len, off, &tx,
				       (flags & ZFUSE_WRITE_CACHED) ? NULL : now);
	zplw_wnode_free(&n);
	rc = zplw_wend(fs, &tx, rc);
	return rc ? rc : (ssize_t)len;
}

/* zfs_freesp with len 0: truncate (zfs_trunc) or extend (zfs_extend). */
int zplw_set_size(zfuse_fs_t *fs, struct wnode *n, uint64_t size, dmu_tx_t *tx)
{
	int rc;
	if (size > n->size) {
		if ((rc = grow_blocksize(fs, n, size, tx)) != 0)
			return rc;
	} else if ((rc = dmu_free_range(fs->os, n->obj, size, UINT64_MAX, tx)) != 0) {
		return rc;
	}
	n->size = size;
	if (size == 0 && (n->flags & ZFS_SPARSE)) {
		n->flags &= ~ZFS_SPARSE;
		if ((rc = zplw_wset(fs, n, ZPL_FLAGS, n->flags)) != 0)
			return rc;
	}
	return zplw_wset(fs, n, ZPL_SIZE, size);
}

int zfuse_setattr(zfuse_fs_t *fs, uint64_t ino, const struct zfuse_setattr *attr,
		  struct stat *st)
{
	unsigned v = attr->valid;
	if ((v & ZFUSE_SET_SIZE) && attr->size > FILE_SIZE_MAX)
		return -ZFUSE_E_FBIG;
	dmu_tx_t tx;
	int64_t now[2];
	struct wnode n;
	int rc = zplw_op_begin(fs, ino, zplw_wnode_load, &tx, now, &n);
	if (rc)
		return rc;
	const sa_table_t *t = fs->w->sat;
	if (v & ZFUSE_SET_SIZE) {
		if (S_ISDIR(n.mode))
			rc = -ZFUSE_E_ISDIR;
		else if (!S_ISREG(n.mode))
			rc = -ZFUSE_E_INVAL;
		if (rc)
			goto out;
	}
	if (v & ZFUSE_SET_SIZE) {
		if ((rc = zplw_set_size(fs, &n, attr->size, &tx)) != 0 ||
		    (rc = zplw_wtouch(fs, &n, TS_MTIME, now)) != 0)
			goto out;
	}
	if (v & ZFUSE_SET_MODE) {
		n.mode = (n.mode & S_IFMT) | (attr->mode & 07777);
		if ((rc = zplw_wset(fs, &n, ZPL_MODE, n.mode)) != 0 || (rc = set_mode_acl(fs, &n)) != 0)
			goto out;
	}
	/* zfs_setattr: a new owner or group over its quota gets nothing more. */
	if ((v & ZFUSE_SET_UID) && attr->uid != n.uid &&
	    (rc = zfs_id_overquota_one(fs->os, false, attr->uid)) != 0)
		goto out;
	if ((v & ZFUSE_SET_GID) && attr->gid != n.gid &&
	    (rc = zfs_id_overquota_one(fs->os, true, attr->gid)) != 0)
		goto out;
	if ((v & ZFUSE_SET_UID) && (rc = zplw_wset(fs, &n, ZPL_UID, attr->uid)) != 0)
		goto out;
	if ((v & ZFUSE_SET_GID) && (rc = zplw_wset(fs, &n, ZPL_GID, attr->gid)) != 0)
		goto out;
	if (v & (ZFUSE_SET_ATIME | ZFUSE_SET_ATIME_NOW)) {
		int64_t ts[2] = { attr->atime.tv_sec, attr->atime.tv_nsec };
		if ((rc = sa_attrs_set_time(t, &n.sa, ZPL_ATIME, (v & ZFUSE_SET_ATIME_NOW) ? now : ts)) != 0)
			goto out;
	}
	if (v & (ZFUSE_SET_MTIME | ZFUSE_SET_MTIME_NOW)) {
		int64_t ts[2] = { attr->mtime.tv_sec, attr->mtime.tv_nsec };
		if ((rc = sa_attrs_set_time(t, &n.sa, ZPL_MTIME, (v & ZFUSE_SET_MTIME_NOW) ? now : ts)) != 0)
			goto out;
	}
	if (v & ZFUSE_SET_CTIME) {
		int64_t ts[2] = { attr->ctime.tv_sec, attr->ctime.tv_nsec };
		if ((rc = sa_attrs_set_time(t, &n.sa, ZPL_CTIME, ts)) != 0)
			goto out;
		n.flags |= ZFS_ARCHIVE;
		rc = zplw_wset(fs, &n, ZPL_FLAGS, n.flags);
	} else {
		rc = zplw_wtouch(fs, &n, TS_CTIME, now);
	}
	if (rc == 0)
		rc = zplw_wstore(fs, &n, &tx);
	if (rc == 0) {
		/* zfs_log_setattr with Linux's ATTR_* bits (zil.md §5.7). */
		uint64_t mask = 0;
		int64_t at[2] = { attr->atime.tv_sec, attr->atime.tv_nsec };
		int64_t mt[2] = { attr->mtime.tv_sec, attr->mtime.tv_nsec };
		if (v & ZFUSE_SET_ATIME_NOW)
			at[0] = now[0], at[1] = now[1];
		if (v & (ZFUSE_SET_MTIME_NOW | ZFUSE_SET_SIZE)) {
			if (!(v & ZFUSE_SET_MTIME))
				mt[0] = now[0], mt[1] = now[1];
		}
		if (v & ZFUSE_SET_MODE)
			mask |= ZIL_ATTR_MODE;
		if (v & ZFUSE_SET_UID)
			mask |= ZIL_ATTR_UID;
		if (v & ZFUSE_SET_GID)
			mask |= ZIL_ATTR_GID;
		if (v & ZFUSE_SET_SIZE)
			mask |= ZIL_ATTR_SIZE | ZIL_ATTR_MTIME | ZIL_ATTR_CTIME;
		if (v & (ZFUSE_SET_ATIME | ZFUSE_SET_ATIME_NOW))
			mask |= ZIL_ATTR_ATIME;
		if (v & (ZFUSE_SET_MTIME | ZFUSE_SET_MTIME_NOW))
			mask |= ZIL_ATTR_MTIME;
		if (v & ZFUSE_SET_CTIME)
			mask |= ZIL_ATTR_CTIME;
		/* (With a writeback cache the kernel sends a nameless file's
		 * ctime as it lets the inode go after every unlink.) */
		if (logs_changes(fs, &n))
			zfs_log_setattr(fs->os, tx.txg, ino, mask, n.mode, attr->uid, attr->gid,
					(v & ZFUSE_SET_SIZE) ? attr->size : 0, at, mt);
		rc = zplw_stat_out(fs, ino, st);
	}
out:
	zplw_wnode_free(&n);
	return zplw_wend(fs, &tx, rc);
}

int zfuse_fallocate(zfuse_fs_t *fs, uint64_t ino, int mode, uint64_t off, uint64_t len)
{
	const int known = ZFUSE_FALLOC_KEEP_SIZE | ZFUSE_FALLOC_PUNCH_HOLE | ZFUSE_FALLOC_ZERO_RANGE;
	if (mode & ~known)
		return -ZFUSE_E_UNSUPPORTED;
	if ((mode & ZFUSE_FALLOC_PUNCH_HOLE) && !(mode & ZFUSE_FALLOC_KEEP_SIZE))
		return -ZFUSE_E_UNSUPPORTED;
	if (len == 0)
		return -ZFUSE_E_INVAL;
	if (off > FILE_SIZE_MAX || len > FILE_SIZE_MAX - off)
		return -ZFUSE_E_FBIG;
	dmu_tx_t tx;
	int64_t now[2];
	struct wnode n;
	int rc = zplw_op_begin(fs, ino, zplw_load_regular, &tx, now, &n);
	if (rc)
		return rc;
	if (mode & (ZFUSE_FALLOC_PUNCH_HOLE | ZFUSE_FALLOC_ZERO_RANGE)) {
		/* F_FREESP over the part of the range inside the file. */
		bool changed = false;
		if (off < n.size) {
			uint64_t end = off + len < n.size ? off + len : n.size;
			rc = dmu_free_range(fs->os, ino, off, end - off, &tx);
			changed = true;
			if (rc == 0 && logs_changes(fs, &n))
				zfs_log_truncate(fs->os, tx.txg, ino, off, end - off,
						 (n.flags & ZFS_XATTR) != 0);
		}
		/* ZERO_RANGE without KEEP_SIZE also extends the file, as Linux
		 * filesystems do (the kernel has already raised its size). */
		if (rc == 0 && !(mode & ZFUSE_FALLOC_KEEP_SIZE) && off + len > n.size) {
			rc = zplw_set_size(fs, &n, off + len, &tx);
			changed = true;
			if (rc == 0 && logs_changes(fs, &n))
				zfs_log_setattr(fs->os, tx.txg, ino, ZIL_ATTR_SIZE, 0, 0, 0, off + len, NULL,
						NULL);
		}
		if (rc == 0 && changed && (rc = zplw_wtouch(fs, &n, TS_MTIME | TS_CTIME, now)) == 0)
			rc = zplw_wstore(fs, &n, &tx);
	} else if (!(mode & ZFUSE_FALLOC_KEEP_SIZE) && off + len > n.size) {
		/* Copy-on-write preallocates nothing; only the size grows. */
		if ((rc = zplw_set_size(fs, &n, off + len, &tx)) == 0)
			rc = zplw_wstore(fs, &n, &tx);
		if (rc == 0 && logs_changes(fs, &n))
			zfs_log_setattr(fs->os, tx.txg, ino, ZIL_ATTR_SIZE, 0, 0, 0, off + len, NULL, NULL);
	}
	zplw_wnode_free(&n);
	return zplw_wend(fs, &tx, rc);
}

ssize_t zfuse_copy_file_range(zfuse_fs_t *fs, uint64_t ino_in, uint64_t off_in,
			      uint64_t ino_out, uint64_t off_out, size_t len, unsigned flags)
{
	if (flags & ~ZFUSE_COPY_LEN_CHECKED)
		return -ZFUSE_E_INVAL;
	if (ino_in == ino_out && off_in < off_out + len && off_out < off_in + len)
		return -ZFUSE_E_INVAL;
	if (off_out > FILE_SIZE_MAX || len > FILE_SIZE_MAX - off_out)
		return -ZFUSE_E_FBIG;
	if (!zfuse_fs_writable(fs))
		return -ZFUSE_E_ROFS;
	uint8_t *buf = malloc(COPY_CHUNK);
	if (!buf)
		return -ZFUSE_E_NOMEM;
	size_t done = 0;
	int rc = 0;
	/* One transaction per chunk: a long copy must not hold the pool. */
	while (done < len) {
		dmu_tx_t tx;
		if ((rc = zplw_wbegin(fs, &tx)) != 0)
			break;
		int64_t now[2];
		zplw_now_ts(now);
		struct wnode in, out;
		if ((rc = zplw_load_regular(fs, ino_in, &in)) != 0) {
			zplw_wend(fs, &tx, rc);
			break;
		}
		uint64_t src = off_in + done;
		size_t n = len - done < COPY_CHUNK ? len - done : COPY_CHUNK;
		/* stored: the part of the chunk inside the file as stored */
		size_t stored = src >= in.size ? 0 : n < in.size - src ? n : (size_t)(in.size - src);
		if (!(flags & ZFUSE_COPY_LEN_CHECKED))
			n = stored;
		zplw_wnode_free(&in);
		if (n == 0) {
			zplw_wend(fs, &tx, 0);
			break;
		}
		memset(buf + stored, 0, n - stored);
		if ((stored == 0 || (rc = dmu_read_object(fs->os, ino_in, src, stored, buf)) == 0) &&
		    (rc = zplw_load_regular(fs, ino_out, &out)) == 0) {
			rc = zplw_write_locked(fs, &out, buf, n, off_out + done, &tx, now);
			zplw_wnode_free(&out);
		}
		zplw_wend(fs, &tx, rc);
		if (rc)
			break;
		done += n;
	}
	free(buf);
	if (rc && done == 0)
		return rc;
	return (ssize_t)done;
}
