/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zio_buf.h — buffers for whole blocks, recycled.
 *
 * Dirty blocks come and go at the rate data is written: a 128 KiB block
 * per 128 KiB written, freed one sync later. From malloc each one is a
 * fresh mapping (or heap the allocator just trimmed) that the kernel must
 * zero page by page, which cost more than copying the data in. Blocks of
 * power-of-two sizes are therefore recycled, up to a bounded total, the
 * large ones from huge-page chunks populated in one call; other sizes go
 * to malloc. Contents of a recycled buffer are
 * undefined. Thread-safe.
 */
#ifndef ZFUSE_ZIO_BUF_H
#define ZFUSE_ZIO_BUF_H

#include <stdint.h>

/* 1 when large buffers come from chunks; 0 in sanitizer builds, where
 * every buffer is malloc's (redzones and poisoning kept) and no chunk
 * memory is ever committed. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ZIO_BUF_CHUNKS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ZIO_BUF_CHUNKS 0
#endif
#endif
#ifndef ZIO_BUF_CHUNKS
#define ZIO_BUF_CHUNKS 1
#endif

/* How much memory of emptied buffer chunks is kept, counting all chunks
 * committed (in use or empty): up to low bytes for ever; up to high bytes
 * for a second after a chunk empties (then zio_buf_reap, or any later
 * free, gives it back); never beyond high. Each mark is the largest any
 * caller asked for, 256 MiB before any asks. A pool asks for its block
 * cache's bound plus a quarter, and plus all, of its dirty-data limit. */
void zio_buf_retain(uint64_t low, uint64_t high);
/* Give back the chunks left empty past the second above the low mark
 * (the txg thread calls it at each wakeup, so an idle daemon shrinks). */
void zio_buf_reap(void);
/* Bytes of chunk memory committed (in use or kept empty). */
uint64_t zio_buf_committed(void);
/* size bytes (uninitialised), or NULL when memory is short. */
void *zio_data_buf_alloc(uint64_t size);
/* Give back a buffer of zio_data_buf_alloc(size) (NULL is ignored). */
void zio_data_buf_free(void *buf, uint64_t size);

#endif
