/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * tunables.h — the library's tunables: every knob an environment variable
 * can turn, in one table (tunables.c) with its name, default and meaning.
 * They are read once when a pool is opened (imported or created) and kept
 * in the pool, so no layer reads the environment on its own and a value
 * cannot change under a running pool. man/zfuse.8 (ENVIRONMENT) lists them.
 */
#ifndef ZFUSE_TUNABLES_H
#define ZFUSE_TUNABLES_H

#include <stdint.h>

typedef struct zfuse_tunables {
	uint64_t txg_timeout;	/* seconds between timed syncs of the open txg */
	uint64_t force_ganging;	/* write blocks >= this as gang blocks; 0: off */
	uint64_t zil;		/* 1: fsync commits the intent log; 0: txg syncs */
	uint64_t dirty_data_max;	/* dirty-data limit in bytes; 0: txg_dirty_max_default */
	uint64_t txg_sync_bytes;	/* a sync starts when the open txg holds this much
					 * dirty data (or 20% of the limit, if less) */
	char *write_log;	/* record device writes to this file; NULL: off (malloc'd) */
} zfuse_tunables_t;

/* Defaults, overridden by the environment where a variable is set and
 * valid (an invalid value leaves the default). */
void tunables_load(zfuse_tunables_t *t);
/* Free what tunables_load allocated. */
void tunables_free(zfuse_tunables_t *t);

#endif
