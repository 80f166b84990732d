/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zil_log.h — writing the intent log (zil.md §8): the records of the ZPL
 * operations (zfs_log.c), queued per txg; the commit that writes them into
 * log blocks and flushes (zil_commit); the txg sync's part (zil_sync) that
 * frees the blocks whose records have synced and stores the header.
 */
#ifndef ZFUSE_ZIL_LOG_H
#define ZFUSE_ZIL_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "dnode.h"

struct spa;
struct dmu_tx;
typedef struct zilog zilog_t;

/* The sync and logbias properties (zfs_prop.c's index values). */
#define ZFS_SYNC_STANDARD 0
#define ZFS_SYNC_ALWAYS 1
#define ZFS_SYNC_DISABLED 2
#define ZFS_LOGBIAS_LATENCY 0
#define ZFS_LOGBIAS_THROUGHPUT 1

/*
 * A logged write's data, read when a commit places it (zfs_get_data for
 * WR_NEED_COPY; pool lock held shared): len bytes of object obj at off
 * into buf. -ZFUSE_E_NOENT when the file is gone (obj has another
 * generation than gen, or off is past its end): the record is dropped.
 * Other errors: the commit falls back to a txg sync. len 0 (buf NULL):
 * only whether the record is still the file's (0) or not.
 */
typedef int (*zil_get_data_fn)(void *arg, uint64_t obj, uint64_t gen, uint64_t off,
			       uint64_t len, void *buf);

/*
 * Set up os's log writer (os->zilog) at the first writable open, after
 * replay; get_data(arg, ...) reads the writes' data. Datasets whose log
 * cannot be written by zfuse (encrypted ones without their key, pools
 * older than version 23, the ZFUSE_ZIL=0 tunable) get none: their commits
 * wait for a txg sync. Pool lock not held.
 */
void zil_open(struct spa *spa, objset_t *os, zil_get_data_fn get_data, void *arg);
/* The last close: every logged change synced, the chain destroyed (its
 * blocks freed, the header zeroed), os->zilog dropped. Pool lock not held. */
void zil_close(struct spa *spa, objset_t *os);

/*
 * Make every change of os made so far durable (fsync, O_SYNC, sync=always):
 * the queued records are written into log blocks and the devices flushed,
 * or, when something unlogged is pending, a txg sync is waited for.
 * sync=disabled returns at once. Pool lock not held. Errors: I/O errors.
 */
int zil_commit(struct spa *spa, objset_t *os);
/*
 * The same for fsync of object obj (OpenZFS's zil_commit(zilog, foid)):
 * every change made so far but other files' data writes, truncates and
 * setattrs, which wait for their own fsync or their txg (their records
 * stay queued, in order).
 * obj 0: every change, as zil_commit.
 */
int zil_commit_object(struct spa *spa, objset_t *os, uint64_t obj);
/* obj is being freed: its queued records that commits may defer (data
 * writes, truncates, setattrs) are dropped, so none of them is ever
 * applied to a file that reuses the number (OpenZFS's zil_remove_async). */
void zil_remove_async(objset_t *os, uint64_t obj);

/* Transaction bracket: zil_tx_begin after dmu_tx_begin; zil_tx_commit
 * instead of dmu_tx_commit notes a txg with changes no record describes
 * (unless a record was queued or the operation said it needs none), ends
 * the transaction and, with sync=always (not while replaying), commits
 * the log before returning. Returns rc, or the commit's error. */
void zil_tx_begin(objset_t *os);
void zil_tx_nolog(objset_t *os);
/* The running transaction changed something its records do not describe
 * (SA xattrs without zilsaxattr): a commit waits for its txg. */
void zil_tx_unlogged(objset_t *os);
int zil_tx_commit(struct spa *spa, objset_t *os, struct dmu_tx *tx, int rc, bool replaying);

/* Phase 4 of txg's sync, before its uberblock (pool lock not held): wait
 * until every log block that points at a block allocated in txg is
 * written, so no synced allocation is out of its chain's reach. */
void zil_wait_holds(struct spa *spa, uint64_t txg);

/* A rollback replaced os's tree in the sync (exclusive): the rollback
 * freed the chain its synced header named; the writer forgets it, zeroes
 * the header (dsl_dataset_zero_zil) and commits by txg syncs from now on. */
void zil_rollback(objset_t *os);

/* The sync of txg (exclusive, phase 3, before os's block is written). */
void zil_sync(struct spa *spa, objset_t *os, uint64_t txg);

/* ---- records (zfs_log_*, pool lock exclusive, inside the change's tx) ---- */
void zfs_log_create(objset_t *os, uint64_t txg, uint64_t txtype, uint64_t dir, uint64_t obj,
		    unsigned slots, uint64_t mode, uint64_t uid, uint64_t gid, uint64_t gen,
		    const int64_t crtime[2], uint64_t rdev, const char *name, const char *target);
void zfs_log_remove(objset_t *os, uint64_t txg, uint64_t txtype, uint64_t dir, const char *name);
void zfs_log_link(objset_t *os, uint64_t txg, uint64_t dir, uint64_t obj, const char *name);
/* sobj is the object renamed, tobj the one an exchange moves the other
 * way (else 0): their queued records go with the rename (zil.md §8.2). */
void zfs_log_rename(objset_t *os, uint64_t txg, uint64_t txtype, uint64_t sdir, const char *sname,
		    uint64_t tdir, const char *tname, uint64_t sobj, uint64_t tobj);
/* A write of len bytes at off to obj (generation gen), after which the
 * file is size bytes long (volumes: UINT64_MAX): the record is queued
 * without data, which the commit reads (WR_NEED_COPY), or, for big writes
 * and logbias=throughput, names the file's blocks, which the commit
 * writes (WR_INDIRECT, blocks inside size only). A commit may leave a
 * write or truncate queued for a later fsync of obj (zil_commit_object)
 * unless sync: an xattr file's, which its owner's fsync must cover. */
void zfs_log_write(objset_t *os, uint64_t txg, uint64_t obj, uint64_t gen, uint64_t off,
		   uint64_t len, uint64_t size, bool sync);
void zfs_log_truncate(objset_t *os, uint64_t txg, uint64_t obj, uint64_t off, uint64_t len,
		      bool sync);
/* An SA xattr set (size bytes of value) or removed (value NULL); only
 * while zil_log_saxattr (zilsaxattr active on the dataset). */
void zfs_log_setsaxattr(objset_t *os, uint64_t txg, uint64_t obj, const char *name,
			const void *value, size_t size);
bool zil_log_saxattr(const objset_t *os);
/* The dataset sync (dsl_dataset_activate_used_features): whether a new
 * chain asks for zilsaxattr, and that it is active now. */
bool zil_saxattr_wanted(const objset_t *os);
void zil_saxattr_activated(const objset_t *os);
/* ... and whether the chain was destroyed with zilsaxattr active (the
 * dataset's activation is dropped then, as zil_sync does). */
bool zil_saxattr_dropped(const objset_t *os);

/*
 * zil_suspend for every log writer of the pool (before a snapshot, so that
 * the snapshot's objset block carries no live log header, which zfuse's
 * rollback and clone cannot rewrite): commits wait, the txgs of every
 * logged change are synced, and the next sync destroys each chain (frees
 * its blocks, zeroes the header). zil_resume_all lets commits go on (a new
 * chain at the next one). Pool lock not held.
 */
struct zil_suspended;
struct zil_suspended *zil_suspend_all(struct spa *spa);
void zil_resume_all(struct zil_suspended *s);
/* mask: Linux ATTR_* bits (zil.md §5.7). */
void zfs_log_setattr(objset_t *os, uint64_t txg, uint64_t obj, uint64_t mask, uint64_t mode,
		     uint64_t uid, uint64_t gid, uint64_t size, const int64_t atime[2],
		     const int64_t mtime[2]);

#define ZIL_ATTR_MODE 0x1ULL
#define ZIL_ATTR_UID 0x2ULL
#define ZIL_ATTR_GID 0x4ULL
#define ZIL_ATTR_SIZE 0x8ULL
#define ZIL_ATTR_ATIME 0x10ULL
#define ZIL_ATTR_MTIME 0x20ULL
#define ZIL_ATTR_CTIME 0x40ULL

#endif
