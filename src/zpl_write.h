/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zpl_write.h — private to the ZPL write side (zpl_write.c,
 * zpl_write_data.c, zpl_xattr.c): the per-dataset write state, znodes being
 * changed (struct wnode) and the building blocks every operation is made of.
 * All of them run inside a transaction (zplw_wbegin .. zplw_wend), i.e. as
 * the pool's only writer.
 */
#ifndef ZFUSE_ZPL_WRITE_H
#define ZFUSE_ZPL_WRITE_H

#include <stdbool.h>
#include <stdint.h>
#include "dmu_tx.h"
#include "sa.h"
#include "zpl_impl.h"

/* z_pflags bits (object-layer.md §8.6). */
#define ZFS_XATTR 0x1ULL
#define ZFS_ACL_TRIVIAL 0x4ULL
#define ZFS_ACL_AUTO_INHERIT 0x40ULL
#define ZFS_NO_EXECS_DENIED 0x100ULL
#define ZFS_ARCHIVE 0x800000000ULL
#define ZFS_AV_MODIFIED 0x40000000000ULL
#define ZFS_SPARSE 0x200000000000ULL
#define ZFS_PROJINHERIT 0x400000000000ULL
#define ZFS_PROJID 0x800000000000ULL

#define ZFS_XATTR_OFF 0
#define ZFS_XATTR_DIR 1
#define ZFS_XATTR_SA 2
#define DXATTR_MAX_ENTRY_SIZE (32 * 1024)
#define DXATTR_MAX_SA_SIZE (64 * 1024)
#define XATTR_VALUE_MAX (64 * 1024)
#define ZFS_CASE_MIXED 2
#define ZPL_NAME_MAX 255
#define SYMLINK_MAX 4095
#define ZFS_LINK_MAX UINT64_MAX
#define FILE_SIZE_MAX ((uint64_t)INT64_MAX)
#define COPY_CHUNK (1024 * 1024)

/*
 * Write state of one dataset, shared by every zfuse_fs_t open on its
 * objset (they share the objset, so they must share its SA layouts too).
 */
struct zpl_wstate {
	objset_t *os;
	sa_table_t *sat;
	unsigned sat_gen_seen;		/* readers' sa_table_t reloaded at */
	uint64_t sa_master, delete_queue;
	bool projquota;
	zfuse_fs_t **fss;		/* every open handle of the objset */
	unsigned nfs, capfs;
	struct zpl_wstate *next;
};

struct wnode {
	uint64_t obj;
	sa_attrs_t sa;
	uint64_t mode, size, links, flags, parent, uid, gid, xattr, projid, gen;
	uint64_t blksz, maxblkid;
};

#define TS_MTIME 1
#define TS_CTIME 2

struct mkargs {
	uint64_t mode;		/* type and permission bits */
	uint64_t uid, gid, rdev;
	bool xattr;		/* an xattr directory or xattr file */
};

/* Current time as {seconds, nanoseconds}. */
void zplw_now_ts(int64_t t[2]);

static inline bool is_p2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* Load / release an SA znode for changing. Errors: ZFUSE_E_UNSUPPORTED
 * (legacy znode), ZFUSE_E_NOENT, ZFUSE_E_CORRUPT. */
int zplw_wnode_load(zfuse_fs_t *fs, uint64_t obj, struct wnode *n);
void zplw_wnode_free(struct wnode *n);
/* A directory (ZFUSE_E_NOTDIR otherwise) / a regular file
 * (ZFUSE_E_ISDIR, ZFUSE_E_INVAL otherwise). */
int zplw_load_dir(zfuse_fs_t *fs, uint64_t dir, struct wnode *d);
int zplw_load_regular(zfuse_fs_t *fs, uint64_t ino, struct wnode *n);
int zplw_wset(zfuse_fs_t *fs, struct wnode *n, enum zpl_attr a, uint64_t v);
int zplw_wstore(zfuse_fs_t *fs, struct wnode *n, dmu_tx_t *tx);
/* TS_MTIME / TS_CTIME to now, with the archive flags (and FLAGS). */
int zplw_wtouch(zfuse_fs_t *fs, struct wnode *n, int what, const int64_t now[2]);

/* Name lookup with the filesystem's normalization; stored gets the
 * spelling on disk. */
int zplw_dir_find(zfuse_fs_t *fs, uint64_t dir, const char *name, uint64_t *obj, char *stored,
		  size_t cap);
int zplw_link_create(zfuse_fs_t *fs, struct wnode *d, const char *name, struct wnode *n,
		     bool isnew, bool renaming, dmu_tx_t *tx, const int64_t now[2]);
int zplw_link_destroy(zfuse_fs_t *fs, struct wnode *d, const char *stored, struct wnode *n,
		      bool renaming, dmu_tx_t *tx, const int64_t now[2], bool *unlinked);
/* zfs_mknode: allocate and initialise a znode under parent. */
int zplw_mknode(zfuse_fs_t *fs, const struct wnode *parent, const struct mkargs *a, dmu_tx_t *tx,
		const int64_t now[2], struct wnode *n);
/* Free an unlinked znode with its xattr directory; drop its queue entry. */
int zplw_free_znode(zfuse_fs_t *fs, uint64_t obj, dmu_tx_t *tx);

/* zfs_write body and zfs_freesp(len 0) on a loaded file; now NULL keeps
 * mtime and ctime (a writeback cache's write, ZFUSE_WRITE_CACHED). */
int zplw_write_locked(zfuse_fs_t *fs, struct wnode *n, const void *buf, size_t len, uint64_t off,
		      dmu_tx_t *tx, const int64_t now[2]);
int zplw_set_size(zfuse_fs_t *fs, struct wnode *n, uint64_t size, dmu_tx_t *tx);

/* TX_MKXATTR replay: the hidden xattr directory of obj (its own
 * transaction). Errors: ZFUSE_E_EXIST (it has one). */
int zplw_replay_mkxattr(zfuse_fs_t *fs, uint64_t obj);
/* TX_SETSAXATTR (zfs_replay_setsaxattr): name set to value (size bytes) or
 * removed (value NULL) in the SA list of obj only, whatever the xattr
 * property says now; a copy in the xattr directory is left alone. */
int zplw_replay_saxattr(zfuse_fs_t *fs, uint64_t obj, const char *name, const void *value,
			size_t size);

/* One operation: begin (ZFUSE_E_ROFS when not writable) and end (reloads
 * readers' SA tables when layouts were added; returns rc). */
int zplw_wbegin(zfuse_fs_t *fs, dmu_tx_t *tx);
int zplw_wend(zfuse_fs_t *fs, dmu_tx_t *tx, int rc);
/* The attributes after a change, when st is not NULL (readers refreshed
 * first, so they see new SA layouts). */
int zplw_stat_out(zfuse_fs_t *fs, uint64_t obj, struct stat *st);
/* The start most operations share: the transaction, one timestamp for
 * everything it changes, and the object loaded by load (zplw_wnode_load,
 * zplw_load_dir, zplw_load_regular). On error nothing is left open. */
int zplw_op_begin(zfuse_fs_t *fs, uint64_t obj,
		  int (*load)(zfuse_fs_t *fs, uint64_t obj, struct wnode *n), dmu_tx_t *tx,
		  int64_t now[2], struct wnode *n);

#endif
