/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dmu_zfetch.h — sequential-read prefetch. A stream that reads an object
 * front to back gets its next blocks read into the block cache by
 * background workers, so large files stream at device speed instead of
 * one synchronous block read per request.
 */
#ifndef ZFUSE_DMU_ZFETCH_H
#define ZFUSE_DMU_ZFETCH_H

#include <stdbool.h>
#include <stdint.h>
#include "dnode.h"

typedef struct zfetch zfetch_t;

/* Workers start lazily at the first prefetch (never during import, so a
 * daemon may fork after importing). */
zfetch_t *zfetch_create(unsigned workers, uint64_t window_bytes);
/* Stops the workers; queued prefetches are dropped. */
void zfetch_destroy(zfetch_t *zf);

/*
 * Note a read of [off, off+len) of object `object` in os. When it
 * continues the previous read of that object, queue the following window
 * of blocks for prefetch and return true (the read is part of a stream);
 * false otherwise, and always when prefetch is off.
 */
bool zfetch_note_read(zfetch_t *zf, objset_t *os, uint64_t object, uint64_t off, uint64_t len,
		      uint64_t datablksz, uint64_t maxblkid);

/* Drop queued work for os and wait for in-flight work on it to finish
 * (before os is closed). */
void zfetch_forget_objset(zfetch_t *zf, objset_t *os);

#endif
