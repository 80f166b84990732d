/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dbuf.h — the dirty overlay of one object set (private to the DMU).
 *
 * The open txg's changes live here until sync: level-0 blocks that were
 * written (whole copies at the object's block size), ranges of blocks that
 * were freed, and the on-disk dnodes of objects freed in this txg (sync
 * needs their block trees to release them). Indirect blocks are never
 * dirty here: sync derives them from the level-0 changes.
 */
#ifndef ZFUSE_DBUF_H
#define ZFUSE_DBUF_H

#include <stdbool.h>
#include <stdint.h>
#include "arc.h"
#include "dnode.h"
#include "zio_write.h"

/* The block id under which an object's dirty spill block is kept; size 0
 * means "the spill block is removed". */
#define DMU_SPILL_BLKID (UINT64_MAX - 1)

/*
 * An indirect log write's copy of a dirty block, written ahead of the
 * sync (dmu_sync.c): the sync puts bp into the tree instead of writing
 * the block when the block has not changed since (mod_gen) and the copy is
 * on stable storage (ready); otherwise bp is freed in txg, the txg it was
 * allocated in (so its extent is not reused before that txg syncs and the
 * log record that names it is obsolete).
 */
struct dbuf_override {
	blkptr_t bp;
	struct spa *spa;
	uint64_t txg, mod_gen;
	bool ready;
};

typedef struct dirty_block {
	uint64_t object, blkid;
	uint64_t mod_gen;	/* counts the times it was handed out for change */
	struct dbuf_override *override;
	uint8_t *data;
	uint64_t size;
	arc_buf_t *cached;	/* the cache adopted data once it was written:
				 * released, not freed (dbuf_data_free) */
	uint8_t *orig;		/* dnode blocks: the contents before this txg */
	bool partial;		/* filled from the old block: a read-modify-write,
				 * worth caching once written (the next one reads it) */
	struct block_prep *prep;	/* sync: compressed and checksummed ahead (dnode_sync.c) */
	struct dirty_block *hash_next;	/* overlay hash chain */
	struct dirty_block *obj_next;	/* the object's list */
} dirty_block_t;

struct free_range {
	uint64_t first, last;	/* level-0 block ids, inclusive */
};

typedef struct dirty_object {
	uint64_t object;
	dirty_block_t *blocks;		/* unordered */
	uint64_t nblocks;
	struct free_range *frees;
	uint64_t nfrees, capfrees;
	uint8_t *freed_dnode;		/* on-disk dnode bytes when freed this txg */
	blkptr_t dropped_spill;		/* on-disk spill bp given up this txg */
	bool has_dropped_spill;
	uint64_t freed_dnode_size;
	struct dirty_object *hash_next;
	struct dirty_object *list_next;	/* overlay's list, newest first */
} dirty_object_t;

struct dbuf_overlay {
	dirty_block_t **block_hash;
	uint64_t block_buckets, nblocks;
	dirty_object_t **object_hash;
	uint64_t object_buckets, nobjects;
	dirty_object_t *objects;
	uint64_t dirty_bytes;
	uint64_t rewrite_bytes;	/* of dirty_bytes: blocks filled from the old block */
	struct spa *spa;	/* whose cache may hold its blocks' data */
};

/*
 * Hold block (level, blkid) decoded: level 0 is dnode_datablksz bytes,
 * indirect levels 1 << indblkshift. Holes give a zero-filled buffer.
 * Released with dbuf_rele (dnode.h).
 */
int dbuf_hold(dnode_t *dn, int level, uint64_t blkid, arc_buf_t **out);

/*
 * Read side, called by dbuf_hold for level 0: 0 with *out when the block
 * is dirty (a borrowed view) or freed (zeros); 1 when the overlay has
 * nothing to say; negative on error.
 */
int dbuf_overlay_hold(dnode_t *dn, uint64_t blkid, arc_buf_t **out);

/* A held view of a dirty block (released with arc_release/dbuf_rele). */
int dbuf_borrow(const dirty_block_t *db, arc_buf_t **out);

/* The dirty record of an object, created on demand (NULL: no memory). */
dirty_object_t *dbuf_dirty_object(objset_t *os, uint64_t object);
dirty_object_t *dbuf_find_object(const objset_t *os, uint64_t object);
dirty_object_t *dbuf_overlay_find_object(const struct dbuf_overlay *ov, uint64_t object);

/* The dirty block (object, blkid) of the open txg, or NULL. */
dirty_block_t *dbuf_find_block(const objset_t *os, uint64_t object, uint64_t blkid);
/* The same in the readers' view: the open txg's, else the syncing txg's;
 * NULL when neither has it dirty (a freed block is not dirty). */
dirty_block_t *dbuf_view_block(const objset_t *os, uint64_t object, uint64_t blkid);

/*
 * Make block blkid of dn dirty and return it: its current contents
 * (overlay, else disk, else zeros) at the dnode's current block size.
 */
int dbuf_dirty(dnode_t *dn, uint64_t blkid, dirty_block_t **out);
/* The same, for a caller about to overwrite [skip_off, skip_off + skip_len)
 * of the block: those bytes are left undefined (a whole-block overwrite
 * reads nothing). */
int dbuf_dirty_range(dnode_t *dn, uint64_t blkid, uint64_t skip_off, uint64_t skip_len,
		     dirty_block_t **out);

/* Drop a dirty block (freed range, freed object). */
void dbuf_undirty(objset_t *os, dirty_block_t *db);

/* Record a freed level-0 range of an object (merging neighbours). */
int dbuf_add_free_range(objset_t *os, uint64_t object, uint64_t first, uint64_t last);

/* Whether level-0 block blkid of dn reads as zeros in the readers' view
 * (a hole, or freed in the open or the syncing txg). */
bool dbuf_reads_as_zeros(dnode_t *dn, uint64_t blkid);

/* Whether blkid of object lies in a range freed this txg. */
bool dbuf_block_freed(const objset_t *os, uint64_t object, uint64_t blkid);

/* Resize a dirty block (object block size change). */
int dbuf_resize(objset_t *os, dirty_block_t *db, uint64_t size);

/* A dirty block compressed and checksummed ahead of its sync write, so the
 * CPU work of a txg runs in parallel (dnode_sync.c fills it). */
struct block_prep {
	struct zio_write_props zp;
	struct zio_prepared pr;
	int rc;
};

/* Drop a block's sync preparation. */
void dbuf_prep_free(dirty_block_t *db);

/* Whether db's override may stand for its contents (see dbuf_override). */
bool dbuf_override_usable(const dirty_block_t *db);
/* Forget db's override, freeing its bp in its txg if that txg has not
 * synced (exclusive pool lock). */
void dbuf_override_drop(dirty_block_t *db);

/* Forget every change of the open txg (after sync wrote them, or on
 * close); of the syncing txg (its writes are done, or on close). */
void dbuf_overlay_clear(objset_t *os);
void dbuf_syncing_clear(objset_t *os);
/* Free an overlay detached from its objset (NULL: nothing). */
void dbuf_overlay_free(struct dbuf_overlay *ov);

/* Bytes of dirty data in os: the open txg's, the syncing txg's. */
uint64_t dbuf_dirty_bytes(const objset_t *os);
/* Of the syncing txg's dirty bytes, those of read-modify-write blocks. */
uint64_t dbuf_syncing_rewrite_bytes(const objset_t *os);
uint64_t dbuf_syncing_bytes(const objset_t *os);

#endif
