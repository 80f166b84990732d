/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zio_write.h — turning one logical block into a block pointer: hole
 * detection, compression with OpenZFS's keep-or-not rule, embedding,
 * checksumming, allocation and the device writes (pool-layer.md §4.10,
 * §7.3). The object layer decides the properties; this layer decides the
 * physical form.
 */
#ifndef ZFUSE_ZIO_WRITE_H
#define ZFUSE_ZIO_WRITE_H

#include <stdbool.h>
#include <stdint.h>
#include "blkptr.h"

struct spa;

struct zio_write_props {
	unsigned type, level;
	unsigned checksum;	/* resolved id, never inherit/on */
	unsigned compress;	/* resolved id (OFF allowed), never inherit/on */
	int complevel;		/* zstd/gzip level; 0 default */
	int copies;		/* 1..3 DVAs */
	bool embed;		/* embedded_data enabled and the type allows it */
	bool zero_is_hole;	/* all-zero data becomes a hole */
	/* The master key of an encrypted objset: level-0 blocks of encrypted
	 * types are encrypted, other level-0 blocks carry a MAC, indirect
	 * blocks the checksum of their children's MACs; objset blocks come
	 * with their MACs inside (zio_crypt_objset_sign). */
	struct zio_crypt_key *key;
	bool crypt_raw;		/* an encrypted objset's block written without its
				 * key: crypt bit set, MACs inside as they were */
};

/*
 * Writing a block is two steps, so the CPU work of a txg's blocks can run
 * on every core: zio_write_prepare (hole test, compression, embedding
 * decision, checksum: pure, thread-safe) and then, one block at a time,
 * zio_write_prepared (allocation and the device writes). pr keeps a
 * pointer to data: keep it alive in between.
 *
 * zio_write_prepared fills *bp with fill 1; callers set the fill of
 * dnode, objset and indirect blocks themselves. old is the bp being
 * replaced (NULL or hole if none): a block written earlier in this same
 * txg with the same physical size is rewritten in place, so late sync
 * passes converge; *rewrote tells the caller not to free old. Errors:
 * ZFUSE_E_NOSPC, ZFUSE_E_IO, ZFUSE_E_NOMEM.
 */
struct zio_prepared {
	bool hole, embedded;
	unsigned compress;
	uint64_t psize;
	const uint8_t *payload;	/* data or cbuf */
	/* Set by the caller for deferred writes: once the block is written,
	 * the cache adopts these logical bytes (a zio_data_buf of lsize) and
	 * *cache_hold gets the hold (arc_adopt), else stays NULL. */
	void *cache;
	struct arc_buf **cache_hold;
	uint8_t *cbuf;		/* compressed: a buffer of cbuf_size (zio_buf) */
	uint64_t cbuf_size;
	zio_cksum_t cksum;
	/* native encryption: crypt sets the bp's crypt bit; encrypted ones
	 * keep salt and IV in the bp too (payload is then ebuf) */
	bool crypt, encrypted;
	uint8_t *ebuf;
	uint8_t salt[8], iv[12], mac[16];
};
int zio_write_prepare(struct spa *spa, const struct zio_write_props *zp, const void *data,
		      uint64_t lsize, struct zio_prepared *pr);
/*
 * Device writes held back (txg.c): the sync allocates a block and puts
 * its bp in the tree under the pool lock, and writes the bytes after
 * dropping it, before the flush that precedes the uberblock. The payload
 * must stay valid until zio_write_queue_issue (readers find the data in
 * the syncing overlay meanwhile).
 */
struct zio_deferred_write {
	blkptr_t bp;
	const uint8_t *payload;
	uint64_t psize;
	void *cache;		/* logical bytes the cache adopts once written, or NULL */
	struct arc_buf **cache_hold;
	uint64_t lsize;
};
struct zio_write_queue {
	struct zio_deferred_write *v;
	size_t n, cap;
	struct spa *spa;
	int rc;
};
/* Write every queued block, on every core; the first error or 0. */
int zio_write_queue_issue(struct spa *spa, struct zio_write_queue *q);
void zio_write_queue_free(struct zio_write_queue *q);

/* Allocate and write (or, with defer, queue) a prepared block. */
int zio_write_prepared(struct spa *spa, uint64_t txg, const struct zio_write_props *zp,
		       const struct zio_prepared *pr, uint64_t lsize, const blkptr_t *old,
		       blkptr_t *bp, bool *rewrote, struct zio_write_queue *defer);
void zio_prepared_release(struct zio_prepared *pr);

/* Free every DVA of bp in txg (gang headers and their children too). */
void zio_free_bp(struct spa *spa, const blkptr_t *bp, uint64_t txg);

/* A hole that remembers what it replaced (hole_birth). */
void zio_hole_bp(blkptr_t *bp, unsigned type, unsigned level, uint64_t lsize, uint64_t birth);

/* Store a host-order bp into 128 bytes of a little-endian block. */
void bp_store(void *dst, const blkptr_t *bp);

#endif
