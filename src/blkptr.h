/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * blkptr.h — the 128-byte block pointer (pool-layer.md §4): field access,
 * holes, embedded payloads. A blkptr_t is always held in host order; the
 * byte-order bit only says how the block's *contents* are stored.
 */
#ifndef ZFUSE_BLKPTR_H
#define ZFUSE_BLKPTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "zio_checksum.h"

#define SPA_MINBLOCKSHIFT 9
#define SPA_MINBLOCKSIZE (1ULL << SPA_MINBLOCKSHIFT)
#define SPA_MAXBLOCKSHIFT 24
#define SPA_MAXBLOCKSIZE (1ULL << SPA_MAXBLOCKSHIFT)
#define SPA_DVAS_PER_BP 3
#define BPE_PAYLOAD_SIZE 112

typedef struct dva {
	uint64_t dva_word[2];
} dva_t;

typedef struct blkptr {
	dva_t blk_dva[SPA_DVAS_PER_BP];
	uint64_t blk_prop;
	uint64_t blk_prop2;
	uint64_t blk_pad;
	uint64_t blk_phys_birth;
	uint64_t blk_birth;
	uint64_t blk_fill;
	zio_cksum_t blk_cksum;
} blkptr_t;

_Static_assert(sizeof(blkptr_t) == 128, "blkptr_t is 128 bytes");

static inline uint64_t bf64(uint64_t w, unsigned lo, unsigned len)
{
	return (w >> lo) & ((1ULL << len) - 1);
}

static inline uint64_t dva_asize(const dva_t *d) { return bf64(d->dva_word[0], 0, 24) << SPA_MINBLOCKSHIFT; }
static inline uint64_t dva_vdev(const dva_t *d) { return bf64(d->dva_word[0], 32, 24); }
static inline uint64_t dva_offset(const dva_t *d) { return bf64(d->dva_word[1], 0, 63) << SPA_MINBLOCKSHIFT; }
static inline bool dva_is_gang(const dva_t *d) { return d->dva_word[1] >> 63; }
static inline bool dva_is_valid(const dva_t *d) { return dva_asize(d) != 0; }

static inline bool bp_is_embedded(const blkptr_t *bp) { return bf64(bp->blk_prop, 39, 1); }
static inline unsigned bp_get_compress(const blkptr_t *bp) { return bf64(bp->blk_prop, 32, 7); }
static inline unsigned bp_get_checksum(const blkptr_t *bp) { return bp_is_embedded(bp) ? 0 : bf64(bp->blk_prop, 40, 8); }
static inline unsigned bp_get_etype(const blkptr_t *bp) { return bf64(bp->blk_prop, 40, 8); }
static inline unsigned bp_get_type(const blkptr_t *bp) { return bf64(bp->blk_prop, 48, 8); }
static inline unsigned bp_get_level(const blkptr_t *bp) { return bf64(bp->blk_prop, 56, 5); }
static inline bool bp_uses_crypt(const blkptr_t *bp) { return bf64(bp->blk_prop, 61, 1); }
static inline bool bp_is_dedup(const blkptr_t *bp) { return bf64(bp->blk_prop, 62, 1); }
static inline bool bp_is_little_endian(const blkptr_t *bp) { return bf64(bp->blk_prop, 63, 1); }

static inline uint64_t bp_get_lsize(const blkptr_t *bp)
{
	if (bp_is_embedded(bp))
		return bf64(bp->blk_prop, 0, 25) + 1;
	return (bf64(bp->blk_prop, 0, 16) + 1) << SPA_MINBLOCKSHIFT;
}

static inline uint64_t bp_get_psize(const blkptr_t *bp)
{
	if (bp_is_embedded(bp))
		return bf64(bp->blk_prop, 25, 7) + 1;
	return (bf64(bp->blk_prop, 16, 16) + 1) << SPA_MINBLOCKSHIFT;
}

static inline uint64_t bp_physical_birth(const blkptr_t *bp)
{
	if (bp_is_embedded(bp))
		return 0;
	return bp->blk_phys_birth ? bp->blk_phys_birth : bp->blk_birth;
}

/* A hole: not embedded and DVA[0] entirely zero (§4.5). */
static inline bool bp_is_hole(const blkptr_t *bp)
{
	return !bp_is_embedded(bp) && bp->blk_dva[0].dva_word[0] == 0 &&
	       bp->blk_dva[0].dva_word[1] == 0;
}

/* Encrypted data (level 0 of an encrypted object type): unreadable here. */
bool bp_is_encrypted(const blkptr_t *bp);

/* How many DVA slots a bp has (2 for encrypted ones: salt and IV use the third). */
int bp_count_dvas_max(const blkptr_t *bp);

/* Number of valid DVAs (0 for holes and embedded bps). */
int bp_count_dvas(const blkptr_t *bp);

/* Load a blkptr from 128 bytes of a little-endian block. */
void bp_load(blkptr_t *bp, const void *src);

/* Copy an embedded bp's payload (bp_get_psize bytes) into out (>= 112). */
void bp_embedded_payload(const blkptr_t *bp, uint8_t *out);

/* Sum of the DVAs' asizes. */
uint64_t bp_get_asize(const blkptr_t *bp);

/* One-line description like zdb's ("DVA[0]=<0:1000:200> ... L0 ..."). */
void bp_describe(const blkptr_t *bp, char *buf, size_t cap);

#endif
