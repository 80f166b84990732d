/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zpl_impl.h — what the ZPL read side (zpl.c), write side (zpl_write.c)
 * and dataset open/close (zpl_vfsops.c) share: the open filesystem handle
 * and decoded znode attributes. Private to libzfuse.
 *
 * Locking (spa_lock.h): public entry points take spa->lock (readers shared,
 * writers through dmu_tx_begin exclusively) and never call each other. The
 * *_locked helpers below assume the caller already holds it in either
 * mode, so the write side can reuse the read side's decoding while it is
 * the only writer.
 */
#ifndef ZFUSE_ZPL_IMPL_H
#define ZFUSE_ZPL_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include "dnode.h"
#include "dsl.h"
#include "sa.h"
#include "spa.h"
#include "zfs_acl.h"

#define ZPL_VERSION_SA 5
#define ZFS_DIRENT_OBJ(de) ((de) & 0x0000FFFFFFFFFFFFULL)
#define ZFS_DIRENT_TYPE(de) ((de) >> 60)

struct zpl_wstate;

struct zfuse_fs {
	spa_t *spa;
	objset_t *os;
	char *name;
	bool snapshot;
	bool writable;		/* pool writable, not a snapshot, ZPL 5 */
	bool encrypted;		/* read and written with its key (fs_crypt_key) */
	bool held;		/* counted in the pool's open objsets or snapshots */
	uint64_t dsobj, dirobj;
	uint64_t version, root, normflags, casesensitivity, utf8only;
	uint64_t recordsize;
	uint64_t hashbits;
	sa_table_t *sa;
	dsl_dataset_phys_t ds;
	struct zpl_wstate *w;	/* write side state (zpl_write.c); NULL when read-only */
	/* Intent log replay (zil_replay.c): a node made while replay_mk is
	 * set takes the logged generation and creation time; every
	 * transaction ending while replay_seq is set records it in the ZIL
	 * header, in the same txg as the replayed change. */
	bool replay_mk;
	uint64_t replay_gen, replay_seq;
	int64_t replay_crtime[2];
};

/* The recordsize writes and st_blksize use: a dataset's follows `zfs set`
 * through its shared objset; a snapshot's is read at open. */
static inline uint64_t zpl_recordsize(const zfuse_fs_t *fs)
{
	return fs->snapshot || !fs->os->recordsize ? fs->recordsize : fs->os->recordsize;
}

/* Decoded attributes of one ZPL object. */
struct znode {
	uint64_t mode, size, links, uid, gid, parent, flags, gen, rdev, xattr;
	int64_t atime[2], mtime[2], ctime[2], crtime[2];
};

/* Hold object ino and decode its attributes; release dn with dnode_rele.
 * Errors: ZFUSE_E_NOENT (not a ZPL object), ZFUSE_E_CORRUPT. */
int zpl_znode_get(zfuse_fs_t *fs, uint64_t ino, dnode_t *dn, struct znode *zp);
/* zfuse_getattr without taking the pool lock. */
int zpl_getattr_locked(zfuse_fs_t *fs, uint64_t ino, struct stat *st);

/* Write side hooks (zpl_write.c) called by zfuse_fs_open/close
 * (zpl_vfsops.c): load the writer's SA table and dataset properties,
 * drain the delete queue. */
int zpl_write_open(zfuse_fs_t *fs);
void zpl_write_close(zfuse_fs_t *fs);

#endif
