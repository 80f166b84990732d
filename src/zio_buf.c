/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zio_buf.c — block buffers, recycled (see zio_buf.h for why).
 *
 * Buffers of 64 KiB to 2 MiB (the data blocks a write stream dirties) are
 * carved from 2 MiB chunks of one reserved address range: a chunk is
 * committed with a transparent huge page and populated in one call
 * (MADV_POPULATE_WRITE), which costs a tenth of faulting its 512 pages in
 * one by one. An emptied chunk is kept for the next allocation while the
 * committed chunks stay within the high mark; above the low mark, one left
 * empty for a second is given back (MADV_DONTNEED): a steady stream of
 * txgs reuses its memory without zeroing it again, and a burst's peak
 * returns to the system once it has passed. A chunk holds buffers of one size;
 * its state lives beside the range, indexed by the chunk's number, so a
 * buffer's chunk is found from its address.
 *
 * Other sizes use one free list per power of two from 4 KiB to 16 MiB over
 * malloc, capped at ZIO_BUF_CACHE_MAX bytes so that a burst does not pin
 * its peak for ever. Sanitizer builds use only the malloc path, so that
 * every buffer keeps its redzones (and no shadow maps the range).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include "zio_buf.h"

#define ZIO_BUF_MIN_SHIFT 12
#define ZIO_BUF_MAX_SHIFT 24
/* A txg's data blocks of an encrypted dataset need a ciphertext buffer
 * each besides the dirty one: 128 MiB holds both for a txg synced at the
 * dirty-data threshold (20% of 256 MiB). */
#define ZIO_BUF_CACHE_MAX (128ULL << 20)

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define CHUNK_SHIFT 21	/* 2 MiB: one transparent huge page */
#define CHUNK_SIZE (1ULL << CHUNK_SHIFT)
#define CHUNK_MIN_SHIFT 16	/* 64 KiB: 32 buffers per chunk */
#define CHUNK_MAX_BUFS (CHUNK_SIZE >> CHUNK_MIN_SHIFT)
#define REGION_SIZE (64ULL << 30)	/* address space only: chunks are committed on use */
#define NCHUNKS (REGION_SIZE >> CHUNK_SHIFT)
#define NO_CHUNK UINT32_MAX
#define EMPTY_DECAY_MS 1000	/* above the low mark, an empty chunk lives this long */

struct free_buf {
	struct free_buf *next;
};

struct chunk {
	uint32_t next, prev;	/* in its size's list of chunks with free buffers, or the empty list */
	uint8_t shift;		/* buffer size; 0: not carved (empty, maybe committed) */
	uint8_t nfree;
	bool committed;
	uint32_t emptied_ms;	/* on the empty list: when it got there (wraps; differences only) */
	uint8_t free_idx[CHUNK_MAX_BUFS];
};

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct free_buf *cache[ZIO_BUF_MAX_SHIFT + 1];
static uint64_t cached_bytes;

static uint8_t *region;		/* NULL: not reserved (yet, or it failed) */
static bool region_tried;
static struct chunk *chunks;
static uint32_t partial[CHUNK_SHIFT + 1];	/* per buffer size: chunks with free buffers */
static uint32_t empty_head = NO_CHUNK;	/* committed chunks holding no buffer, newest first */
static uint32_t empty_tail = NO_CHUNK;
static uint32_t released_head = NO_CHUNK;	/* empty chunks whose memory was given back */
static uint32_t next_fresh;		/* chunks from here on were never used */
static uint64_t committed_bytes;
static uint64_t retain_low = 256ULL << 20, retain_high = 256ULL << 20;

void zio_buf_retain(uint64_t low, uint64_t high)
{
	pthread_mutex_lock(&cache_mu);
	if (low > retain_low)
		retain_low = low;
	if (high > retain_high)
		retain_high = high;
	if (retain_high < retain_low)
		retain_high = retain_low;
	pthread_mutex_unlock(&cache_mu);
}

/* The list a size belongs to, or -1 when it is not cached. */
static int list_of(uint64_t size)
{
	if (size < (1ULL << ZIO_BUF_MIN_SHIFT) || size > (1ULL << ZIO_BUF_MAX_SHIFT) ||
	    (size & (size - 1)))
		return -1;
	return __builtin_ctzll(size);
}

static void list_unlink(uint32_t *head, uint32_t c)
{
	struct chunk *ch = &chunks[c];
	if (ch->prev != NO_CHUNK)
		chunks[ch->prev].next = ch->next;
	else
		*head = ch->next;
	if (ch->next != NO_CHUNK)
		chunks[ch->next].prev = ch->prev;
	ch->next = ch->prev = NO_CHUNK;
}

static void list_push(uint32_t *head, uint32_t c)
{
	chunks[c].prev = NO_CHUNK;
	chunks[c].next = *head;
	if (*head != NO_CHUNK)
		chunks[*head].prev = c;
	*head = c;
}

static uint32_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

static void empty_push(uint32_t c)
{
	chunks[c].emptied_ms = now_ms();
	list_push(&empty_head, c);
	if (empty_tail == NO_CHUNK)
		empty_tail = c;
}

static void empty_remove(uint32_t c)
{
	if (empty_tail == c)
		empty_tail = chunks[c].prev;
	list_unlink(&empty_head, c);
}

/* An empty chunk's memory goes back to the system (cache_mu held). */
static void chunk_release(uint32_t c)
{
	madvise(region + ((uint64_t)c << CHUNK_SHIFT), CHUNK_SIZE, MADV_DONTNEED);
	chunks[c].committed = false;
	committed_bytes -= CHUNK_SIZE;
	list_push(&released_head, c);
}

/* Above the low mark, give back the chunks that have stayed empty past
 * the decay, oldest first (cache_mu held). */
static void reap_locked(void)
{
	if (empty_tail == NO_CHUNK || committed_bytes <= retain_low)
		return;
	uint32_t now = now_ms();
	while (empty_tail != NO_CHUNK && committed_bytes > retain_low &&
	       (uint32_t)(now - chunks[empty_tail].emptied_ms) >= EMPTY_DECAY_MS) {
		uint32_t c = empty_tail;
		empty_remove(c);
		chunk_release(c);
	}
}

void zio_buf_reap(void)
{
	pthread_mutex_lock(&cache_mu);
	if (region)
		reap_locked();
	pthread_mutex_unlock(&cache_mu);
}

uint64_t zio_buf_committed(void)
{
	pthread_mutex_lock(&cache_mu);
	uint64_t n = committed_bytes;
	pthread_mutex_unlock(&cache_mu);
	return n;
}

/* Reserve the range at the first chunked allocation (cache_mu held). */
static bool region_ready(void)
{
	if (region || region_tried)
		return region != NULL;
	region_tried = true;
	chunks = calloc(NCHUNKS, sizeof(*chunks));
	if (!chunks)
		return false;
	/* One extra chunk's room so the chunks can start 2 MiB-aligned. */
	void *p = mmap(NULL, REGION_SIZE + CHUNK_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		free(chunks);
		chunks = NULL;
		return false;
	}
	for (unsigned s = 0; s <= CHUNK_SHIFT; s++)
		partial[s] = NO_CHUNK;
	__atomic_store_n(&region,
			 (uint8_t *)(((uintptr_t)p + CHUNK_SIZE - 1) & ~(uintptr_t)(CHUNK_SIZE - 1)),
			 __ATOMIC_RELEASE);
	return true;
}

/* An empty chunk carved into buffers of 1 << shift (cache_mu held). */
static uint32_t chunk_carve(unsigned shift)
{
	uint32_t c;
	if (empty_head != NO_CHUNK) {
		c = empty_head;
		empty_remove(c);
	} else if (released_head != NO_CHUNK) {
		c = released_head;
		list_unlink(&released_head, c);
	} else if (next_fresh < NCHUNKS) {
		c = next_fresh++;
	} else {
		return NO_CHUNK;
	}
	struct chunk *ch = &chunks[c];
	if (!ch->committed) {
		uint8_t *base = region + ((uint64_t)c << CHUNK_SHIFT);
		madvise(base, CHUNK_SIZE, MADV_HUGEPAGE);
		madvise(base, CHUNK_SIZE, MADV_POPULATE_WRITE);	/* old kernels: faults later */
		ch->committed = true;
		committed_bytes += CHUNK_SIZE;
	}
	ch->shift = (uint8_t)shift;
	ch->nfree = (uint8_t)(CHUNK_SIZE >> shift);
	for (unsigned i = 0; i < ch->nfree; i++)
		ch->free_idx[i] = (uint8_t)i;
	list_push(&partial[shift], c);
	return c;
}

static void *chunk_alloc(unsigned shift)
{
	void *buf = NULL;
	pthread_mutex_lock(&cache_mu);
	if (region_ready()) {
		uint32_t c = partial[shift];
		if (c == NO_CHUNK)
			c = chunk_carve(shift);
		if (c != NO_CHUNK) {
			struct chunk *ch = &chunks[c];
			unsigned i = ch->free_idx[--ch->nfree];
			if (ch->nfree == 0)
				list_unlink(&partial[shift], c);
			buf = region + ((uint64_t)c << CHUNK_SHIFT) + ((uint64_t)i << shift);
		}
	}
	pthread_mutex_unlock(&cache_mu);
	return buf;
}

static void chunk_free(void *buf)
{
	pthread_mutex_lock(&cache_mu);
	uint64_t off = (uint64_t)((uint8_t *)buf - region);
	uint32_t c = (uint32_t)(off >> CHUNK_SHIFT);
	struct chunk *ch = &chunks[c];
	unsigned shift = ch->shift;
	if (ch->nfree == 0)
		list_push(&partial[shift], c);
	ch->free_idx[ch->nfree++] = (uint8_t)((off & (CHUNK_SIZE - 1)) >> shift);
	if (ch->nfree == CHUNK_SIZE >> shift) {
		/* Empty: any size may have it now; past the retained amount
		 * its memory goes back to the system. */
		list_unlink(&partial[shift], c);
		ch->shift = 0;
		if (committed_bytes > retain_high)
			chunk_release(c);
		else
			empty_push(c);	/* taken before a released one */
		reap_locked();
	}
	pthread_mutex_unlock(&cache_mu);
}

static bool in_region(const void *buf)
{
	const uint8_t *r = __atomic_load_n(&region, __ATOMIC_ACQUIRE);
	return r && (const uint8_t *)buf >= r && (const uint8_t *)buf < r + REGION_SIZE;
}

void *zio_data_buf_alloc(uint64_t size)
{
	int l = list_of(size);
	if (ZIO_BUF_CHUNKS && l >= CHUNK_MIN_SHIFT && l <= CHUNK_SHIFT) {
		void *b = chunk_alloc((unsigned)l);
		if (b)
			return b;
	}
	if (l >= 0) {
		pthread_mutex_lock(&cache_mu);
		struct free_buf *b = cache[l];
		if (b) {
			cache[l] = b->next;
			cached_bytes -= size;
		}
		pthread_mutex_unlock(&cache_mu);
		if (b)
			return b;
	}
	return malloc(size ? size : 1);
}

void zio_data_buf_free(void *buf, uint64_t size)
{
	if (!buf)
		return;
	if (ZIO_BUF_CHUNKS && in_region(buf)) {
		chunk_free(buf);
		return;
	}
	int l = list_of(size);
	if (l >= 0) {
		pthread_mutex_lock(&cache_mu);
		bool keep = cached_bytes + size <= ZIO_BUF_CACHE_MAX;
		if (keep) {
			struct free_buf *b = buf;
			b->next = cache[l];
			cache[l] = b;
			cached_bytes += size;
		}
		pthread_mutex_unlock(&cache_mu);
		if (keep)
			return;
	}
	free(buf);
}
