/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfuse/status.h — a pool's health while it is in use, as `zpool status`
 * and `zpool scrub` show and keep it: the device tree with the read,
 * write and checksum errors each device has had since import; the blocks
 * reads could not deliver (the error log), by dataset, object and path;
 * and scrubs that verify every copy of every block in the background,
 * writing bad copies again from good ones when the pool is writable.
 *
 * The figures live in memory: they start at zero with each import (zfuse
 * keeps no on-disk error log). Every call takes the pool lock itself and
 * may be called from any thread while the pool is mounted.
 */
#ifndef ZFUSE_STATUS_H
#define ZFUSE_STATUS_H

#include <stdbool.h>
#include <stdint.h>
#include "zfuse/zfuse.h"
#include "zfuse/inspect.h"

#ifdef __cplusplus
extern "C" {
#endif

enum zfuse_vdev_state {
	ZFUSE_VDEV_ONLINE,	/* every device below is present */
	ZFUSE_VDEV_DEGRADED,	/* some device below is missing; the data is still all there */
	ZFUSE_VDEV_UNAVAIL,	/* missing, or too many below it are missing to read */
};

/* "ONLINE", "DEGRADED", "UNAVAIL" — zpool status's words. */
const char *zfuse_vdev_state_name(enum zfuse_vdev_state state);

struct zfuse_vdev_info {
	unsigned depth;		/* 0: the pool (root vdev), 1: top-level vdevs, ... */
	const char *name;	/* the pool's name, "mirror-0", "raidz2-1", or a leaf's image path */
	const char *type;	/* "root", "mirror", "raidz", "disk", "file", "missing", ... */
	uint64_t guid;
	enum zfuse_vdev_state state;
	/* Leaves: failed block reads and writes, copies that failed their
	 * checksum. Other vdevs: the sums over their leaves. */
	uint64_t read_errors, write_errors, checksum_errors;
	bool is_log;		/* a separate intent-log device */
};

typedef int (*zfuse_vdev_fn)(void *arg, const struct zfuse_vdev_info *vd);

/* Each vdev of the pool, depth first from the root; stops early when fn
 * returns nonzero (that value is returned). */
int zfuse_pool_vdev_iter(zfuse_pool_t *pool, zfuse_vdev_fn fn, void *arg);

enum zfuse_scan_state {
	ZFUSE_SCAN_NONE,	/* no scrub since import */
	ZFUSE_SCAN_SCANNING,
	ZFUSE_SCAN_FINISHED,
	ZFUSE_SCAN_CANCELED,
};

struct zfuse_scan_status {
	enum zfuse_scan_state state;
	int64_t start_time, end_time;	/* seconds since the epoch; end 0 while scanning */
	uint64_t examined;		/* bytes (physical) verified so far */
	uint64_t to_examine;		/* estimate: allocated bytes when the scrub began */
	uint64_t blocks;		/* blocks verified */
	uint64_t errors;		/* copies that failed (checksum or read) */
	uint64_t unrecoverable;		/* blocks with no intact copy */
	uint64_t repaired;		/* copies written again from a good copy */
};

struct zfuse_pool_status {
	enum zfuse_vdev_state state;	/* the root vdev's */
	bool writable;
	const char *readonly_reason;	/* NULL when writable; valid until pool close */
	uint64_t txg;			/* the newest txg on disk */
	int64_t last_sync_time;		/* its uberblock's timestamp (seconds) */
	uint64_t open_txg;		/* the txg new changes join (0 when read-only) */
	uint64_t dirty_bytes;		/* changes not yet on disk */
	uint64_t data_errors;		/* entries in the error log */
	struct zfuse_scan_status scan;
};

/* The pool's state now. Errors: none (0). */
int zfuse_pool_status(zfuse_pool_t *pool, struct zfuse_pool_status *out);

struct zfuse_error_info {
	const char *dataset;	/* "pool/fs", "pool/fs@snap", or "<metadata>" for the MOS */
	uint64_t object;	/* object number (a file's inode number) */
	int level;		/* 0: data; >0: indirect block; -1: the objset block */
	uint64_t blkid;
	const char *path;	/* the file's path in the dataset when it could be found, or NULL */
	int error;		/* negative ZFUSE_E_* of the last failure */
	uint64_t count;		/* failures seen */
	int64_t first_time, last_time;
	bool by_scrub;		/* found by a scrub (else by a read) */
};

typedef int (*zfuse_error_fn)(void *arg, const struct zfuse_error_info *e);

/* The blocks that could not be read since import (or the last clear),
 * oldest first; stops early when fn returns nonzero (that value is
 * returned). Errors: ZFUSE_E_NOMEM. */
int zfuse_pool_errors_iter(zfuse_pool_t *pool, zfuse_error_fn fn, void *arg);

/* Forget the error log and zero every device's error counts, as `zpool
 * clear`. */
void zfuse_pool_clear(zfuse_pool_t *pool);

/*
 * Start a scrub in the background: every copy of every block reachable
 * from the newest txg is read and verified while the pool stays in use.
 * On a writable pool, freed space is not reused until the scrub ends (so
 * the blocks it reads stay intact) and copies that fail are written
 * again from a good copy. Progress and results: zfuse_pool_status.
 * Errors: ZFUSE_E_BUSY (a scrub is running), ZFUSE_E_NOMEM.
 */
int zfuse_scrub_start(zfuse_pool_t *pool);

/* Stop a running scrub (it ends as ZFUSE_SCAN_CANCELED). Returns at once;
 * zfuse_scrub_wait waits. Errors: ZFUSE_E_NOENT (none is running). */
int zfuse_scrub_cancel(zfuse_pool_t *pool);

/* Wait for the running scrub, if any, to end. Returns 0 when the last
 * scrub found everything intact (or there was none), ZFUSE_E_CHECKSUM
 * when it found a bad copy (repaired or not). */
int zfuse_scrub_wait(zfuse_pool_t *pool);

#ifdef __cplusplus
}
#endif
#endif
