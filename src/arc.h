/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * arc.h — the block cache: decoded (verified, decompressed) blocks keyed by
 * their first DVA and birth txg, so a block's identity never aliases after
 * copy-on-write. Bounded in bytes; unreferenced buffers are evicted in LRU
 * order. Buffers are reference-counted and immutable while held.
 */
#ifndef ZFUSE_ARC_H
#define ZFUSE_ARC_H

#include <stddef.h>
#include <stdint.h>
#include "blkptr.h"

typedef struct arc arc_t;
typedef struct arc_buf {
	void *data;
	uint64_t size;		/* logical size */
	/* private */
	uint64_t key_vdev, key_offset, key_birth;
	uint32_t refcount;
	int cached;		/* 0 private copy, 1 in the cache, ARC_BUF_BORROWED */
	struct arc_buf *hnext;
	struct arc_buf *lru_prev, *lru_next;
} arc_buf_t;

struct spa;

/* A held view of a dirty block (dbuf.c): release frees only the wrapper. */
#define ARC_BUF_BORROWED 2

/* The cache's bound when the opener names none: a sixteenth of the
 * machine's memory, at least 256 MiB and at most 4 GiB (OpenZFS sizes its
 * ARC by the memory too, at half of it; a FUSE daemon shares the machine
 * with its users). The cache grows to it only with use. */
uint64_t arc_default_size(void);
arc_t *arc_create(uint64_t max_bytes);
void arc_destroy(arc_t *arc);
/* The cache's bound in bytes. */
uint64_t arc_max_bytes(const arc_t *arc);
/* Bytes of blocks the cache holds now. */
uint64_t arc_size(arc_t *arc);

/*
 * Return the decoded contents of bp (lsize bytes); holes come back zeroed.
 * The buffer is held until arc_release(). Errors as zio_read().
 */
int arc_read(struct spa *spa, const blkptr_t *bp, arc_buf_t **out);
void arc_release(struct spa *spa, arc_buf_t *buf);
/* arc_release by a reader that took the whole block into a cache of its
 * own: unless someone else holds it, the block leaves the cache now and
 * its memory goes to the next block read (OpenZFS's uncached reads). */
void arc_release_uncached(struct spa *spa, arc_buf_t *buf);
/* arc_read for a block of an objset with master key key (zio_read_key).
 * Encrypted blocks read without a key are never cached. */
struct zio_crypt_key;
int arc_read_key(struct spa *spa, const blkptr_t *bp, struct zio_crypt_key *key, arc_buf_t **out);

/* Cache the lsize decoded bytes of a block just written as bp (a sync's
 * partially rewritten data blocks, which the next partial write would
 * otherwise read back from disk) without copying them: data, a
 * zio_data_buf_alloc(lsize) buffer, becomes the cache's, held once for
 * the caller, who reads it on and then releases the hold (arc_release)
 * instead of freeing it. NULL when the cache does not take it (too big
 * for it, the block is cached already, no memory): data stays the
 * caller's. */
arc_buf_t *arc_adopt(struct spa *spa, const blkptr_t *bp, void *data, uint64_t lsize);

/* Forget the cached copy of bp's block: it was rewritten in place (same
 * DVA and birth) during a sync. */
void arc_invalidate(struct spa *spa, const blkptr_t *bp);

#endif
