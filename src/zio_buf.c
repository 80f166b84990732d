/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zio_buf.c — free lists of block buffers (see zio_buf.h for why).
 *
 * One list per power of two from 4 KiB to 16 MiB, process-wide (buffers
 * are plain memory and pools come and go), capped at ZIO_BUF_CACHE_MAX
 * bytes in total so that a burst of writes does not pin its peak for ever.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include "zio_buf.h"

#define ZIO_BUF_MIN_SHIFT 12
#define ZIO_BUF_MAX_SHIFT 24
/* A txg's data blocks of an encrypted dataset need a ciphertext buffer
 * each besides the dirty one: 128 MiB holds both for a txg synced at the
 * dirty-data threshold (20% of 256 MiB). */
#define ZIO_BUF_CACHE_MAX (128ULL << 20)

struct free_buf {
	struct free_buf *next;
};

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct free_buf *cache[ZIO_BUF_MAX_SHIFT + 1];
static uint64_t cached_bytes;

/* The list a size belongs to, or -1 when it is not cached. */
static int list_of(uint64_t size)
{
	if (size < (1ULL << ZIO_BUF_MIN_SHIFT) || size > (1ULL << ZIO_BUF_MAX_SHIFT) ||
	    (size & (size - 1)))
		return -1;
	return __builtin_ctzll(size);
}

void *zio_data_buf_alloc(uint64_t size)
{
	int l = list_of(size);
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
