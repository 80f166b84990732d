/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dnode.h — objects of an object set: dnode_phys_t decoding and
 * validation, the block tree under a dnode (dbuf addressing), bonus and
 * spill buffers, and byte-range reads (object-layer.md §1, §3).
 */
#ifndef ZFUSE_DNODE_H
#define ZFUSE_DNODE_H

#include <stdbool.h>
#include <stdint.h>
#include "arc.h"
#include "blkptr.h"

#define DNODE_SHIFT 9
#define DNODE_MIN_SIZE 512
#define DNODE_CORE_SIZE 64
#define DNODE_MAX_SLOTS 32
#define DN_MAX_LEVELS 12
#define DN_MAX_NBLKPTR 3
#define DNODE_FLAG_USED_BYTES 0x1
#define DNODE_FLAG_SPILL_BLKPTR 0x4
#define DN_MAX_OBJECT (1ULL << 48)

#define OBJSET_PHYS_SIZE 4096
#define DMU_OST_META 1
#define DMU_OST_ZFS 2
#define DMU_OST_ZVOL 3

struct spa;
struct objset;

typedef struct dnode {
	struct objset *os;
	uint64_t object;
	const uint8_t *phys;	/* the dnode's bytes (size bytes) */
	uint64_t size;
	arc_buf_t *buf;		/* block holding phys; NULL for the meta-dnode */
	uint8_t type, indblkshift, nlevels, nblkptr, bonustype, checksum, compress, flags;
	uint8_t extra_slots;
	uint16_t datablkszsec, bonuslen;
	uint64_t maxblkid, used;
} dnode_t;

struct dbuf_overlay;

typedef struct objset {
	struct spa *spa;
	blkptr_t bp;
	uint8_t phys[OBJSET_PHYS_SIZE];	/* zero padded when the block is smaller */
	uint64_t phys_size;	/* lsize of the objset block */
	uint64_t type, flags;
	dnode_t meta_dnode;
	/* write side (dmu_tx.h) */
	uint64_t dsobj;		/* dataset holding this objset; 0 for the MOS */
	unsigned refcount;	/* holders through spa_objset_hold */
	struct objset *next;	/* spa's list of shared objsets */
	struct dbuf_overlay *overlay;	/* changes of the open txg; NULL when clean */
	struct dbuf_overlay *syncing;	/* changes of the txg being synced (txg.c):
					 * read below overlay, changed by no one */
	uint64_t alloc_cursor;	/* where dmu_object_alloc looks next */
	unsigned copies;	/* the dataset's copies property, for space estimates */
	bool rolled_back;	/* its dataset was rolled back in the txg being synced */
	bool header_dirty;	/* the objset block changed (ZIL header) in the open txg */
	/* Replay (zil_replay.c): the next dmu_object_alloc takes this number
	 * and dnode size (0: the allocator chooses), as dnode_try_claim. */
	uint64_t replay_object;
	unsigned replay_dnodesize;
	bool has_quota;		/* a quota or refquota limits it (dsl_quota.c) */
	bool has_idquota;	/* a user/group/project quota ZAP (zfs_quota.c) */
	/* The dataset's properties that ZPL writes follow (dmu_objset_refresh_props). */
	uint64_t recordsize;
	unsigned dnodesize;	/* bytes of new dnodes: 512 (legacy) .. 16K; auto is 1K */
	int xattr;		/* ZFS_XATTR_*: 0 off, 1 dir, 2 sa */
	int sync_prop, logbias;	/* ZFS_SYNC_*, ZFS_LOGBIAS_* (zil_log.h) */
	struct zilog *zilog;	/* the intent log writer (zil_log.c); NULL: none */
	/* The dataset's master key (held from the keystore) when it is
	 * encrypted and the key is loaded: reads decrypt and verify MACs. */
	struct zio_crypt_key *key;
} objset_t;

/*
 * Open the object set whose root block is bp.
 * Errors: ZFUSE_E_CORRUPT (bad type/size, bad meta-dnode), read errors.
 */
int objset_open(struct spa *spa, const blkptr_t *bp, objset_t **out);
void objset_close(objset_t *os);
/* Point an open objset at a new root block (after a rollback): its phys
 * and meta-dnode are re-read; overlays are the caller's. */
int objset_reload(objset_t *os, const blkptr_t *bp);

/* Number of dnode slots the meta-dnode can address ((maxblkid+1) * per block). */
uint64_t objset_max_object(const objset_t *os);

/* The special accounting objects of a filesystem objset (object-layer.md
 * §3.3, §10): their dnodes live in the objset block itself. */
#define DMU_USERUSED_OBJECT UINT64_MAX
#define DMU_GROUPUSED_OBJECT (UINT64_MAX - 1)
#define DMU_PROJECTUSED_OBJECT (UINT64_MAX - 2)
static inline bool dmu_object_is_special(uint64_t object)
{
	return object >= DMU_PROJECTUSED_OBJECT;
}
/* Offset of a special object's dnode inside objset_phys_t. */
static inline uint64_t objset_special_offset(uint64_t object)
{
	return 1024 + 512 * (UINT64_MAX - object);
}

/*
 * Hold object `object` of os: the dnode is validated (type, levels, sizes
 * within the slot). Release with dnode_rele.
 * Errors: ZFUSE_E_NOENT (free slot or beyond the meta-dnode), ZFUSE_E_CORRUPT.
 */
int dnode_hold(objset_t *os, uint64_t object, dnode_t *dn);
void dnode_rele(dnode_t *dn);

/* Decode and validate a dnode from raw bytes (len >= 512); for holds and
 * for inspectors walking dnode blocks. */
int dnode_decode(dnode_t *dn, const uint8_t *raw, uint64_t avail);

static inline uint64_t dnode_datablksz(const dnode_t *dn)
{
	return (uint64_t)dn->datablkszsec << 9;
}

/* Bonus buffer (pointer into phys) and its length. */
const uint8_t *dnode_bonus(const dnode_t *dn, uint64_t *len);
/* Largest bonus the dnode could hold (for SA parsing bounds). */
uint64_t dnode_bonus_capacity(const dnode_t *dn);

/* The spill bp, if DNODE_FLAG_SPILL_BLKPTR. Errors: ZFUSE_E_NOENT. */
int dnode_spill_bp(const dnode_t *dn, blkptr_t *bp);

/* Hold the spill block as the open txg sees it (dirty overlay first).
 * Errors: ZFUSE_E_NOENT (no spill block), read errors. */
int dnode_spill_hold(dnode_t *dn, arc_buf_t **out);

/* i-th top-level block pointer. */
void dnode_blkptr(const dnode_t *dn, int i, blkptr_t *bp);

/*
 * Block pointer of block (level, blkid); a hole bp (all zero) when the
 * range was never written or lies beyond the tree.
 */
int dnode_find_bp(dnode_t *dn, int level, uint64_t blkid, blkptr_t *bp);

/* Release a block dbuf_hold (dbuf.h) gave out. */
void dbuf_rele(dnode_t *dn, arc_buf_t *buf);

/* Read len bytes of the object's data at off; beyond the last block and
 * in holes reads give zeros. */
int dmu_read(dnode_t *dn, uint64_t off, uint64_t len, void *buf);
/* dmu_read for a caller that caches what it reads: the blocks it covers
 * whole leave the block cache (arc_release_uncached). */
int dmu_read_uncached(dnode_t *dn, uint64_t off, uint64_t len, void *buf);

/* Logical size of the object's data: (maxblkid + 1) * datablksz. */
static inline uint64_t dnode_data_size(const dnode_t *dn)
{
	return (dn->maxblkid + 1) * dnode_datablksz(dn);
}

/* Byte order (dmu_byteswap.h): one dnode of avail bytes at most, a block
 * of dnodes, an objset_phys_t of 1K, 2K or 4K. */
void dnode_byteswap(uint8_t *dnp, size_t avail);
void dnode_buf_byteswap(void *buf, size_t size);
void dmu_objset_byteswap(void *buf, size_t size);

#endif
