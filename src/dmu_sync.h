/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dmu_sync.h — writing one dirty block of the open txg ahead of its sync,
 * for an indirect intent-log write (OpenZFS's dmu_sync; zil.md §8.6).
 *
 * Four steps, so the pool lock is never held across compression or device
 * I/O: take (any pool lock: copy the block if the open txg has it dirty),
 * prepare (no lock: compress and checksum the copy), assign (exclusive:
 * if the block is unchanged, allocate it in the open txg, queue its
 * device write and leave the bp as the dirty block's override) and, once
 * the caller has written the queue and flushed the devices, ready
 * (exclusive: the txg sync may now put the bp in the tree instead of
 * writing the block). A block changed after assign, or whose txg closes
 * before ready, is written by its sync as usual and the bp is freed in
 * its txg: until that txg syncs, the log record naming the bp reads the
 * contents it was written with.
 */
#ifndef ZFUSE_DMU_SYNC_H
#define ZFUSE_DMU_SYNC_H

#include <stdint.h>
#include "blkptr.h"
#include "zio_write.h"

struct objset;

struct dmu_sync_block {
	uint64_t object, blkid, txg, mod_gen, size;
	uint8_t *data;			/* the copy (zio data buffer) */
	struct zio_write_props zp;
	struct zio_prepared pr;
	int prep_rc;
	blkptr_t bp;			/* after assign */
};

/*
 * Copy level-0 block blkid of object if the open txg, which must be txg,
 * has it dirty and it carries no override yet (one per block and txg, so
 * early copies never take more space than the txg's dirty data). Pool
 * lock held (shared suffices). -ZFUSE_E_NOENT: not so (the caller logs a
 * copy of the data instead); -ZFUSE_E_NOMEM.
 */
int dmu_sync_take(struct objset *os, uint64_t object, uint64_t blkid, uint64_t txg,
		  struct dmu_sync_block *b);

/* Compress and checksum the copy (no lock needed; thread-safe). */
void dmu_sync_prepare(struct spa *spa, struct dmu_sync_block *b);

/*
 * Exclusive pool lock: if the block is still the copy's (same txg open,
 * unchanged) and the copy is a real block (not a hole, not embedded),
 * allocate it in the open txg, queue its device write on q and make b->bp
 * the block's override (not ready). -ZFUSE_E_NOENT: not so (log a copy);
 * ZFUSE_E_NOSPC, ZFUSE_E_IO.
 */
int dmu_sync_assign(struct objset *os, struct dmu_sync_block *b, struct zio_write_queue *q);

/* Exclusive pool lock, after q was written and flushed: the sync may use
 * the override of (object, blkid) if it is still bp. */
void dmu_sync_ready(struct objset *os, uint64_t object, uint64_t blkid, const blkptr_t *bp);

/* Free the copy and its preparation. */
void dmu_sync_block_release(struct dmu_sync_block *b);

#endif
