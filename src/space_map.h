/*
 * space_map.h — reading metaslab space maps and log space maps
 * (pool-layer.md §9) to learn how much of each metaslab is allocated.
 */
#ifndef ZFUSE_SPACE_MAP_H
#define ZFUSE_SPACE_MAP_H

#include <stdint.h>
#include "spa.h"

struct metaslab_space {
	uint64_t sm_object;	/* 0: never used */
	int64_t alloc;		/* net allocated bytes, log entries applied */
	int64_t smp_alloc;	/* as recorded in the space map header */
	uint64_t unflushed_txg;
};

/*
 * Allocated space of every metaslab of top-level vdev vd. *out receives an
 * array of (asize >> metaslab_shift) entries (free() it), *count its size.
 * Errors: ZFUSE_E_CORRUPT (malformed maps), read errors.
 */
int space_map_vdev(spa_t *spa, vdev_t *vd, struct metaslab_space **out, uint64_t *count);

#endif
