/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dmu_tx.h — changing object sets: the write half of the DMU.
 *
 * Every change happens inside a transaction (dmu_tx_t) that belongs to the
 * pool's open txg. A change never touches the disk: it edits level-0
 * blocks in the objset's dirty overlay (dbuf.c). Dnodes are bytes of the
 * meta-dnode's level-0 blocks, so changing a dnode dirties the block that
 * holds it, and every reader (dnode_hold, dbuf_hold, dmu_read, the ZAP and
 * SA readers) sees the overlay first and the disk below it, without
 * knowing which. Freed ranges are recorded per object and read as zeros.
 *
 * txg.c turns the overlay into blocks at sync: data, indirect blocks,
 * dnode blocks, the objset block, then the DSL/MOS changes that follow
 * (dataset bp and accounting, space maps), in passes until nothing
 * changes, then labels and the uberblock.
 *
 * Concurrency (spa_lock.h): the pool has one rwlock (spa->lock). Read entry
 * points of the ZPL take it shared; dmu_tx_begin takes it exclusively and
 * dmu_tx_commit drops it. So a reader holding a dnode or dbuf never sees it
 * change under it, and every function below may assume it is the only
 * writer. A txg being synced meanwhile is below the open one in every
 * read (dbuf.h) and is changed by nobody but its sync. Functions here never take the lock themselves; dmu_tx_begin must
 * not be called with it held (debug builds abort if it is).
 *
 * All calls return 0 or a negative ZFUSE_E_* code (zfuse/errors.h):
 * ZFUSE_E_NOMEM, ZFUSE_E_NOSPC (allocation would eat into slop space),
 * ZFUSE_E_ROFS (pool or dataset is read-only), ZFUSE_E_NOENT (no such
 * object), ZFUSE_E_INVAL (bad argument), read errors from below.
 */
#ifndef ZFUSE_DMU_TX_H
#define ZFUSE_DMU_TX_H

#include <stdbool.h>
#include <stdint.h>
#include "dnode.h"

struct spa;

typedef struct dmu_tx {
	struct spa *spa;
	uint64_t txg;		/* the open txg this change lands in */
} dmu_tx_t;

/*
 * Join the open txg as the pool's only writer (blocks while a sync is
 * writing or dirty data is over the limit). Errors: ZFUSE_E_ROFS.
 */
int dmu_tx_begin(struct spa *spa, dmu_tx_t *tx);
/* Leave the txg; may wake the sync thread when dirty data is high. */
void dmu_tx_commit(dmu_tx_t *tx);

/* ---- object sets -------------------------------------------------------- */

/*
 * The one in-core objset of a dataset: every opener of the same dataset
 * shares it (and its dirty overlay). Refcounted; the pool keeps dirty
 * objsets alive until they are synced. The MOS is spa->mos.
 */
int spa_objset_hold(struct spa *spa, uint64_t dsobj, objset_t **os);
void spa_objset_rele(struct spa *spa, objset_t *os);

/*
 * A brand-new empty object set of type DMU_OST_* (pool creation, new
 * datasets): meta-dnode of 16K dnode blocks, no objects. For the MOS of a
 * new pool the caller stores it in spa->mos; for a dataset, the first sync
 * writes its block and stores the bp in the dataset (dsobj, 0 for the MOS).
 */
int objset_create_mem(struct spa *spa, uint64_t type, uint64_t dsobj, dmu_tx_t *tx, objset_t **os);

/* objset_phys_t os_flags: which id accounting an objset has complete. A
 * new filesystem has user/group accounting; one made once the pool has
 * userobj_accounting / project_quota enabled has those too
 * (dmu_objset_new_id_accounting; the caller activates the dataset's
 * features), as dmu_objset_create_impl gives them. */
#define OBJSET_FLAG_USERACCOUNTING_COMPLETE 1ULL
#define OBJSET_FLAG_USEROBJACCOUNTING_COMPLETE 2ULL
#define OBJSET_FLAG_PROJECTQUOTA_COMPLETE 4ULL
void dmu_objset_new_id_accounting(objset_t *os);

/* ---- syncing (txg.c) ---------------------------------------------------- */

/* ---- objects ------------------------------------------------------------ */

/*
 * Allocate a free object number in os (dnodesize bytes: 512 .. 16K, a
 * multiple of 512; 0 means 512) and initialise its dnode: type, data
 * block size blksz (rounded up to 512; 0 means 512), one level, indirect
 * block shift 17, checksum/compress "inherit", bonus type and length
 * (bonus zeroed). OpenZFS's allocator rules are followed closely enough
 * that object numbers are reused after frees.
 */
int dmu_object_alloc(objset_t *os, unsigned type, uint64_t blksz, unsigned bonustype,
		     unsigned bonuslen, unsigned dnodesize, dmu_tx_t *tx, uint64_t *object);

/* The same for a chosen object number (fixed MOS/ZPL objects such as the
 * object directory or master node, object 1). Errors: ZFUSE_E_EXIST. */
int dmu_object_claim(objset_t *os, uint64_t object, unsigned type, uint64_t blksz,
		     unsigned bonustype, unsigned bonuslen, unsigned dnodesize, dmu_tx_t *tx);

/* Free the object: all its blocks (to the deadlist or free space at sync)
 * and its dnode slots. */
int dmu_object_free(objset_t *os, uint64_t object, dmu_tx_t *tx);

/* Change the data block size; allowed while the object has at most one
 * block (maxblkid 0), as OpenZFS allows. The existing block's contents are
 * kept (cut or zero-extended). Errors: ZFUSE_E_INVAL (more than one block). */
int dmu_object_set_blocksize(objset_t *os, uint64_t object, uint64_t blksz, dmu_tx_t *tx);

/* Per-object compression (ZIO_COMPRESS_INHERIT = 0 takes the dataset's
 * property). */
int dmu_object_set_compress(objset_t *os, uint64_t object, unsigned compress, dmu_tx_t *tx);

/* ---- data --------------------------------------------------------------- */

/* Write len bytes at off; the object grows (maxblkid, levels) as needed. */
int dmu_write(objset_t *os, uint64_t object, uint64_t off, uint64_t len, const void *buf,
	      dmu_tx_t *tx);

/*
 * Free [off, off + len) (len UINT64_MAX: to the end): whole blocks become
 * holes, partial blocks are zeroed in place. Freeing to the end also lowers
 * maxblkid to the last block that keeps data.
 */
int dmu_free_range(objset_t *os, uint64_t object, uint64_t off, uint64_t len, dmu_tx_t *tx);

/* Convenience read through the overlay (dmu_read on a held dnode). */
int dmu_read_object(objset_t *os, uint64_t object, uint64_t off, uint64_t len, void *buf);

/* ---- bonus -------------------------------------------------------------- */

/*
 * Replace the bonus buffer with len bytes of buf (bonuslen becomes len;
 * len must fit dnode_bonus_capacity). Errors: ZFUSE_E_RANGE (too long).
 */
int dmu_bonus_write(objset_t *os, uint64_t object, const void *buf, uint64_t len, dmu_tx_t *tx);

/*
 * Hold a dnode for changing in place: *dn is decoded from the overlay
 * copy, and dn->phys is writable (cast away const) until dnode_rele. After
 * editing raw fields call dnode_redecode(dn). Used by SA and ZPL code that
 * edits bonus bytes partially.
 */
int dnode_hold_dirty(objset_t *os, uint64_t object, dmu_tx_t *tx, dnode_t *dn);
void dnode_redecode(dnode_t *dn);

/* The raw bytes of an existing object's dnode in the overlay (the block
 * holding it dirtied), for sync, which writes block pointers into it. */
int dnode_dirty_raw(objset_t *os, uint64_t object, uint8_t **raw);

/* ---- spill blocks ------------------------------------------------------- */

/* Replace the object's spill block with len bytes (len 0 removes it). */
int dmu_spill_write(objset_t *os, uint64_t object, const void *buf, uint64_t len, dmu_tx_t *tx);

#endif
