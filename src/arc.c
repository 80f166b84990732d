/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * arc.c — a bounded, thread-safe cache of decoded blocks. Not OpenZFS's
 * adaptive replacement cache: one hash table and one LRU list of
 * unreferenced buffers are enough for a userspace reader, and keep the
 * memory bound exact. Blocks are identified by (DVA[0] vdev, offset,
 * birth): copy-on-write never reuses that triple for different contents
 * while the block is referenced. Holes and embedded blocks are decoded
 * from the bp itself and never enter the table. A block written in the
 * other byte order is swapped here, once, before it is shared.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "arc.h"
#include "dmu_byteswap.h"
#include "spa_impl.h"
#include "spa_misc.h"
#include "zio.h"
#include "zio_buf.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define ARC_HASH_BITS 16

struct arc {
	pthread_mutex_t lock;
	arc_buf_t *hash[1 << ARC_HASH_BITS];
	arc_buf_t lru;		/* sentinel: lru.lru_next is the oldest */
	uint64_t bytes, max_bytes, nbufs;
	uint64_t hits, misses;
};

uint64_t arc_default_size(void)
{
	return spa_memory_share(16, 256ULL << 20, 4ULL << 30);
}

arc_t *arc_create(uint64_t max_bytes)
{
	arc_t *arc = calloc(1, sizeof(*arc));
	if (!arc)
		return NULL;
	pthread_mutex_init(&arc->lock, NULL);
	arc->lru.lru_next = arc->lru.lru_prev = &arc->lru;
	arc->max_bytes = max_bytes;
	return arc;
}

uint64_t arc_max_bytes(const arc_t *arc)
{
	return arc->max_bytes;
}

uint64_t arc_size(arc_t *arc)
{
	pthread_mutex_lock(&arc->lock);
	uint64_t n = arc->bytes;
	pthread_mutex_unlock(&arc->lock);
	return n;
}

/* Block buffers come from zio_buf's free lists: a cache that turns over
 * would otherwise map and fault in fresh pages for every block. */
static void buf_free(arc_buf_t *b)
{
	zio_data_buf_free(b->data, b->size);
	free(b);
}

void arc_destroy(arc_t *arc)
{
	if (!arc)
		return;
	for (size_t i = 0; i < (1u << ARC_HASH_BITS); i++) {
		arc_buf_t *b = arc->hash[i];
		while (b) {
			arc_buf_t *n = b->hnext;
			buf_free(b);
			b = n;
		}
	}
	pthread_mutex_destroy(&arc->lock);
	free(arc);
}

static size_t hash_of(uint64_t vdev, uint64_t offset, uint64_t birth)
{
	uint64_t h = vdev * 0x9E3779B97F4A7C15ULL ^ (offset >> 9) * 0xC2B2AE3D27D4EB4FULL ^ birth;
	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ULL;
	h ^= h >> 32;
	return (size_t)(h & ((1u << ARC_HASH_BITS) - 1));
}

static void lru_unlink(arc_buf_t *b)
{
	if (b->lru_next) {
		b->lru_prev->lru_next = b->lru_next;
		b->lru_next->lru_prev = b->lru_prev;
		b->lru_next = b->lru_prev = NULL;
	}
}

static void lru_append(arc_t *arc, arc_buf_t *b)
{
	b->lru_prev = arc->lru.lru_prev;
	b->lru_next = &arc->lru;
	arc->lru.lru_prev->lru_next = b;
	arc->lru.lru_prev = b;
}

static void hash_remove(arc_t *arc, arc_buf_t *b)
{
	arc_buf_t **pp = &arc->hash[hash_of(b->key_vdev, b->key_offset, b->key_birth)];
	while (*pp && *pp != b)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = b->hnext;
}

/* The cached buffer of a block (lock held); size 0 matches any size. */
static arc_buf_t *find_locked(arc_t *arc, uint64_t vdev, uint64_t offset, uint64_t birth, uint64_t size)
{
	for (arc_buf_t *b = arc->hash[hash_of(vdev, offset, birth)]; b; b = b->hnext)
		if (b->key_vdev == vdev && b->key_offset == offset && b->key_birth == birth &&
		    (size == 0 || b->size == size))
			return b;
	return NULL;
}

/* A new reference to a cached buffer (lock held): unreferenced buffers
 * wait on the LRU list, referenced ones are never evicted. */
static void hold_locked(arc_buf_t *b)
{
	if (b->refcount++ == 0)
		lru_unlink(b);
}

/* Enter a referenced buffer in the table and count its bytes (lock held). */
static void insert_locked(arc_t *arc, arc_buf_t *nb)
{
	size_t h = hash_of(nb->key_vdev, nb->key_offset, nb->key_birth);
	nb->cached = 1;
	nb->hnext = arc->hash[h];
	arc->hash[h] = nb;
	arc->bytes += nb->size;
	arc->nbufs++;
}

/* Take b out of the table and its bytes out of the count (lock held). */
static void forget(arc_t *arc, arc_buf_t *b)
{
	hash_remove(arc, b);
	arc->bytes -= b->size;
	arc->nbufs--;
}

/* Called with the lock held: drop unreferenced buffers until under the cap. */
static void evict(arc_t *arc)
{
	while (arc->bytes > arc->max_bytes && arc->lru.lru_next != &arc->lru) {
		arc_buf_t *b = arc->lru.lru_next;
		lru_unlink(b);
		forget(arc, b);
		buf_free(b);
	}
}

int arc_read(spa_t *spa, const blkptr_t *bp, arc_buf_t **out)
{
	return arc_read_key(spa, bp, NULL, out);
}

int arc_read_key(spa_t *spa, const blkptr_t *bp, struct zio_crypt_key *key, arc_buf_t **out)
{
	arc_t *arc = spa->arc;
	uint64_t lsize = bp_get_lsize(bp);
	if (lsize > SPA_MAXBLOCKSIZE)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	/* A keyless read of a level-0 block of an encrypted objset neither
	 * fills nor hits the cache: a dnode block would come back with sealed
	 * bonus buffers, an authenticated block with its MAC unchecked, and a
	 * keyed reader must get neither. (Indirect blocks are verified without
	 * keys.) */
	bool cacheable = !bp_is_embedded(bp) && !bp_is_hole(bp) &&
			 (key || !bp_uses_crypt(bp) || bp_get_level(bp) > 0);
	uint64_t kv = 0, ko = 0, kb = 0;
	if (cacheable) {
		kv = dva_vdev(&bp->blk_dva[0]);
		ko = bp->blk_dva[0].dva_word[1];
		kb = bp->blk_birth;
		pthread_mutex_lock(&arc->lock);
		arc_buf_t *b = find_locked(arc, kv, ko, kb, lsize);
		if (b) {
			hold_locked(b);
			arc->hits++;
			pthread_mutex_unlock(&arc->lock);
			*out = b;
			return 0;
		}
		arc->misses++;
		pthread_mutex_unlock(&arc->lock);
	}

	arc_buf_t *nb = calloc(1, sizeof(*nb));
	if (!nb)
		return -ZFUSE_E_NOMEM;
	nb->data = zio_data_buf_alloc(lsize);
	if (!nb->data) {
		free(nb);
		return -ZFUSE_E_NOMEM;
	}
	nb->size = lsize;
	int rc = zio_read_key(spa, bp, key, nb->data);
	if (rc) {
		buf_free(nb);
		return rc;
	}
	/* The one place a block of the other byte order becomes native:
	 * everything above the cache sees host-order structures. */
	if (bp_should_byteswap(bp))
		dmu_ot_byteswap_block(dmu_bp_byteswap_class(bp), nb->data, lsize);
	nb->refcount = 1;
	if (!cacheable) {
		*out = nb;
		return 0;
	}
	nb->key_vdev = kv;
	nb->key_offset = ko;
	nb->key_birth = kb;
	pthread_mutex_lock(&arc->lock);
	/* Another thread may have read the same block meanwhile: use its copy. */
	arc_buf_t *other = find_locked(arc, kv, ko, kb, lsize);
	if (other) {
		hold_locked(other);
		pthread_mutex_unlock(&arc->lock);
		buf_free(nb);
		*out = other;
		return 0;
	}
	insert_locked(arc, nb);
	evict(arc);
	pthread_mutex_unlock(&arc->lock);
	*out = nb;
	return 0;
}

arc_buf_t *arc_adopt(spa_t *spa, const blkptr_t *bp, void *data, uint64_t lsize)
{
	arc_t *arc = spa->arc;
	if (bp_is_embedded(bp) || bp_is_hole(bp) || lsize > arc->max_bytes / 4)
		return NULL;
	arc_buf_t *nb = calloc(1, sizeof(*nb));
	if (!nb)
		return NULL;	/* only a cache */
	nb->data = data;
	nb->size = lsize;
	nb->key_vdev = dva_vdev(&bp->blk_dva[0]);
	nb->key_offset = bp->blk_dva[0].dva_word[1];
	nb->key_birth = bp->blk_birth;
	nb->refcount = 1;
	pthread_mutex_lock(&arc->lock);
	if (find_locked(arc, nb->key_vdev, nb->key_offset, nb->key_birth, 0)) {
		pthread_mutex_unlock(&arc->lock);
		free(nb);
		return NULL;
	}
	insert_locked(arc, nb);
	evict(arc);
	pthread_mutex_unlock(&arc->lock);
	return nb;
}

void arc_release(spa_t *spa, arc_buf_t *b)
{
	if (!b)
		return;
	if (b->cached == ARC_BUF_BORROWED) {
		free(b);	/* a view of a dirty block: the data is not ours */
		return;
	}
	if (!b->cached) {
		buf_free(b);
		return;
	}
	arc_t *arc = spa->arc;
	pthread_mutex_lock(&arc->lock);
	if (--b->refcount == 0) {
		lru_append(arc, b);
		evict(arc);
	}
	pthread_mutex_unlock(&arc->lock);
}

void arc_release_uncached(spa_t *spa, arc_buf_t *b)
{
	if (!b || !b->cached || b->cached == ARC_BUF_BORROWED) {
		arc_release(spa, b);
		return;
	}
	arc_t *arc = spa->arc;
	pthread_mutex_lock(&arc->lock);
	bool last = --b->refcount == 0;
	if (last)
		forget(arc, b);
	pthread_mutex_unlock(&arc->lock);
	if (last)
		buf_free(b);
}

void arc_invalidate(spa_t *spa, const blkptr_t *bp)
{
	if (bp_is_embedded(bp) || bp_is_hole(bp))
		return;
	arc_t *arc = spa->arc;
	uint64_t kv = dva_vdev(&bp->blk_dva[0]);
	uint64_t ko = bp->blk_dva[0].dva_word[1];
	uint64_t kb = bp->blk_birth;
	pthread_mutex_lock(&arc->lock);
	arc_buf_t **pp = &arc->hash[hash_of(kv, ko, kb)];
	while (*pp) {
		arc_buf_t *b = *pp;
		if (b->key_vdev != kv || b->key_offset != ko || b->key_birth != kb) {
			pp = &b->hnext;
			continue;
		}
		*pp = b->hnext;
		arc->bytes -= b->size;
		arc->nbufs--;
		if (b->refcount == 0) {
			lru_unlink(b);
			buf_free(b);
		} else {
			b->cached = 0;	/* the holder's release frees it */
		}
	}
	pthread_mutex_unlock(&arc->lock);
}
