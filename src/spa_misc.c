/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * spa_misc.c — the pool utilities every layer shares (OpenZFS's spa_misc.c
 * role): logging, top-level vdev lookup, block dsize and slop space. They
 * read the in-core pool and call only down (vdev) or into the allocator's
 * space totals, so any layer may call them without an include cycle.
 */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include "metaslab_class.h"
#include "spa_misc.h"
#include "vdev.h"

void spa_log(const spa_t *spa, int level, const char *fmt, ...)
{
	if (level > spa->log_level)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (spa->log)
		spa->log(spa->log_arg, level, msg);
	else
		fprintf(stderr, "zfuse: %s\n", msg);
}

vdev_t *spa_lookup_top(const spa_t *spa, uint64_t id)
{
	if (!spa->root || id >= spa->root->nchild)
		return NULL;
	vdev_t *vd = spa->root->child[id];
	return vd->kind == VDEV_KIND_HOLE ? NULL : vd;
}

uint64_t spa_bp_dsize(const spa_t *spa, const blkptr_t *bp)
{
	uint64_t sum = 0;
	if (bp_is_embedded(bp))
		return 0;
	for (int i = 0; i < bp_count_dvas_max(bp); i++) {
		const dva_t *d = &bp->blk_dva[i];
		if (!dva_is_valid(d))
			continue;
		vdev_t *top = spa_lookup_top(spa, dva_vdev(d));
		if (spa->deflate && top)
			sum += (dva_asize(d) >> 9) * vdev_deflate_ratio(top);
		else
			sum += dva_asize(d);
	}
	return sum;
}

uint64_t spa_slop_space(spa_t *spa)
{
	uint64_t space = metaslab_class_dspace(spa);
	uint64_t slop = space >> SPA_SLOP_SHIFT;
	if (slop > SPA_MAX_SLOP)
		slop = SPA_MAX_SLOP;
	/* The embedded log's metaslabs already hold space back: count up to
	 * half the slop as covered by them. */
	uint64_t elog = metaslab_class_embedded_log_dspace(spa);
	slop -= elog < slop / 2 ? elog : slop / 2;
	uint64_t floor = space / 2 < SPA_MIN_SLOP ? space / 2 : SPA_MIN_SLOP;
	return slop > floor ? slop : floor;
}

uint64_t spa_memory_share(unsigned divisor, uint64_t min, uint64_t max)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	uint64_t v = pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize / divisor : 0;
	if (v > max)
		v = max;
	return v < min ? min : v;
}
