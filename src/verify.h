/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * verify.h — the block walk of zfuse_verify, for a pool in use: the
 * scrub of dsl_scan.c runs it beside readers, writers and syncs.
 */
#ifndef ZFUSE_VERIFY_H
#define ZFUSE_VERIFY_H

#include <stdbool.h>
#include <stdint.h>
#include "spa_impl.h"
#include "zfuse/inspect.h"

struct verify_live_opts {
	bool repair;			/* write bad copies again from good ones */
	const int *cancel;		/* nonzero (read atomically): stop soon */
	zfuse_progress_fn progress;	/* bytes verified and the estimate, now and then */
	/* A block no copy of which is intact: where it is (dataset name as
	 * the walk knows it, object, level, block id) and the error. */
	void (*on_damage)(void *arg, const char *dataset, uint64_t object, int level,
			  uint64_t blkid, int err);
	void *arg;			/* for progress and on_damage */
};

/*
 * Verify every copy of every block reachable from the pool's newest synced
 * uberblock, with the pool lock shared (the caller must not hold it) and
 * given up every few blocks. The caller holds a scan hold
 * (metaslab_scan_hold) on writable pools for the whole call, so freed
 * blocks of the walked trees are not reused under it. Returns 0 when
 * every block was intact, ZFUSE_E_CHECKSUM when some copy was not.
 */
int verify_live(spa_t *spa, const struct verify_live_opts *o, struct zfuse_verify_stats *stats);

#endif
