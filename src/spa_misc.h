/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * spa_misc.h — the pool's small shared utilities: logging, top-level vdev
 * lookup and space accounting (dsize, slop). Every layer from zio up uses
 * them, so they sit below all of those layers and call only down (vdev,
 * blkptr) or into the allocator's narrow space interface.
 */
#ifndef ZFUSE_SPA_MISC_H
#define ZFUSE_SPA_MISC_H

#include <stdint.h>
#include "blkptr.h"
#include "spa_impl.h"
#include "vdev.h"

/*
 * Slop space held back from user writes so syncing (and freeing) never
 * runs out: 1/2^SPA_SLOP_SHIFT of the pool, clamped (OpenZFS's values).
 */
#define SPA_SLOP_SHIFT 5
#define SPA_MIN_SLOP (128ULL << 20)
#define SPA_MAX_SLOP (128ULL << 30)

/* The machine's memory divided by divisor, clamped to [min, max] (the
 * memory-sized defaults: cache and dirty-data limit); min when unknown. */
uint64_t spa_memory_share(unsigned divisor, uint64_t min, uint64_t max);

/* Log a message through the pool's log callback (printf-style). */
void spa_log(const spa_t *spa, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Top-level vdev for a DVA's vdev id, or NULL when out of range/hole. */
vdev_t *spa_lookup_top(const spa_t *spa, uint64_t id);

/* dsize of a bp (object-layer.md §0): deflated asize over all DVAs. */
uint64_t spa_bp_dsize(const spa_t *spa, const blkptr_t *bp);

/* Space held back from user writes, as OpenZFS's spa_get_slop_space. */
uint64_t spa_slop_space(spa_t *spa);

#endif
