/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * metaslab.h — block allocation for the write path (pool-layer.md §9, §10).
 *
 * Each concrete top-level vdev is cut into metaslabs; each metaslab keeps
 * its free space in core (loaded from its space map at import) and the
 * changes of the syncing txg until metaslab_sync appends them to its space
 * map. Freed space is held back for TXG_DEFER_SIZE txgs so that the two
 * previous uberblocks stay rewindable.
 *
 * Pools with com.delphix:log_spacemap active keep the newest changes of
 * some metaslabs only in pool-wide log space maps (§9.6). zfuse writes no
 * logs: the first txg it syncs appends to each such metaslab's own map
 * what the logs add to it, sets every unflushed txg to 0 ("not tracked")
 * and destroys the logs, so that from then on every metaslab's own map
 * describes it fully, as on a pool where the feature was just enabled.
 *
 * Every function assumes the caller holds the pool's single-writer lock
 * (dmu_tx.h); nothing here locks.
 */
#ifndef ZFUSE_METASLAB_H
#define ZFUSE_METASLAB_H

#include <stdbool.h>
#include <stdint.h>
#include "blkptr.h"
#include "dmu_tx.h"
#include "range_tree.h"
#include "metaslab_class.h"
#include "space_map.h"
#include "spa_misc.h"

#ifndef TXG_SIZE
#define TXG_SIZE 4
#define TXG_MASK (TXG_SIZE - 1)
#endif
#ifndef TXG_DEFER_SIZE
#define TXG_DEFER_SIZE 2
#endif

/* OpenZFS 2.3.2 tunables that shape on-disk results. */
#define METASLAB_SM_BLKSZ_NO_LOG (1ULL << 14)
#define METASLAB_SM_BLKSZ_WITH_LOG (1ULL << 17)
#define SPACE_MAP_IBS 14
#define EMBEDDED_SLOG_MIN_MS 64

typedef struct metaslab {
	uint64_t id, start, size;
	vdev_t *vd;
	/* the space map as it stands after the last metaslab_sync */
	uint64_t sm_object;	/* 0: none yet */
	struct space_map_header sm;
	int64_t allocated;	/* bytes allocated per the space maps (smp_alloc) */
	bool embedded_log;	/* reserved for the ZIL as OpenZFS does: not used */
	range_tree_t *allocatable;		/* free and usable now */
	range_tree_t *allocating[TXG_SIZE];	/* allocated, not yet in the map */
	range_tree_t *alloc_synced[TXG_SIZE];	/* allocated and already in the map */
	range_tree_t *freeing[TXG_SIZE];	/* freed, not yet in the map */
	range_tree_t *freed;			/* freed in the syncing txg, in the map */
	range_tree_t *defer[TXG_DEFER_SIZE];	/* freed in the two txgs before */
	range_tree_t *scan_held;		/* past the deferral while a scrub reads old trees */
	uint64_t cursor[64];	/* first-fit cursors by alignment of the size */
	/* What the log space maps say beyond the metaslab's own map: written
	 * to it ahead of anything else in the first txg synced (NULL: none). */
	range_tree_t *log_allocs, *log_frees;
	uint64_t unflushed_txg;	/* as on disk; 0 once the logs are folded in */
} metaslab_t;

typedef struct metaslab_vdev {
	vdev_t *vd;
	uint64_t count;		/* asize >> metaslab_shift */
	metaslab_t *ms;
	int64_t active;		/* metaslab allocations go to first; -1 none */
	uint64_t aliquot;	/* bytes to allocate here before the rotor moves */
	uint64_t unflushed_obj;	/* com.delphix:ms_unflushed_phys_txgs, 0: none */
} metaslab_vdev_t;

/* The MOS changes metaslab_sync makes; NULL in metaslab_state means the
 * DMU of dmu_tx.h. Unit tests substitute an in-memory MOS. */
struct metaslab_mos_ops {
	int (*object_alloc)(spa_t *spa, unsigned type, uint64_t blksz, unsigned bonustype,
			    unsigned bonuslen, unsigned indblkshift, dmu_tx_t *tx, uint64_t *object);
	int (*write)(spa_t *spa, uint64_t object, uint64_t off, uint64_t len, const void *buf,
		     dmu_tx_t *tx);
	int (*bonus_write)(spa_t *spa, uint64_t object, const void *buf, uint64_t len, dmu_tx_t *tx);
	/* Folding log space maps in: free a log, drop its ZAP entry, and
	 * lower a feature's refcount (spacemap_histogram per log freed). */
	int (*object_free)(spa_t *spa, uint64_t object, dmu_tx_t *tx);
	int (*zap_remove)(spa_t *spa, uint64_t zapobj, const char *name, dmu_tx_t *tx);
	int (*feature_decr)(spa_t *spa, const char *name, dmu_tx_t *tx);
};

typedef struct metaslab_state {
	/* Features (read from the MOS at first use; a pool creator sets them). */
	bool feat_spacemap_histogram;	/* enabled: new maps get a 320-byte bonus */
	bool feat_spacemap_v2;		/* active: two-word entries allowed */
	bool feat_log_spacemap_enabled;	/* new maps use 128K blocks */
	bool feat_log_spacemap_active;	/* logs may exist: loaded, folded in at the first sync */
	metaslab_vdev_t **vdevs;	/* by top-level vdev id; NULL: not loaded */
	uint64_t nvdevs;
	uint64_t rotor, rotor_bytes;
	uint64_t sync_txg;
	unsigned scan_holds;		/* scrubs running: freed space stays unused */
	unsigned sync_pass;		/* metaslab_sync calls so far in sync_txg */
	/* Space maps created so far (each raises the spacemap_histogram
	 * refcount when that feature is enabled: the caller owns the ZAP). */
	uint64_t sm_created;
	/* A metaslab array object was created: the vdev config (label and MOS
	 * "config") must be rewritten with metaslab_array/metaslab_shift. */
	bool config_dirty;
	const struct metaslab_mos_ops *mos_ops;
	/* Log space maps found at load, destroyed by the first metaslab_sync
	 * together with the unflushed txgs (log_fold_pending). */
	bool logs_loaded, log_fold_pending;
	uint64_t log_zap;
	struct space_map_log *logs;
	size_t nlogs;
} metaslab_state_t;

/*
 * Set up allocation on top-level vdev `top`. For a new vdev (new_vdev),
 * choose metaslab_shift as OpenZFS's vdev_metaslab_set_size does and make
 * every metaslab free; the metaslab array is created at the first
 * metaslab_sync. For an imported vdev, read the metaslab array and load
 * every space map (log space maps replayed) into free-space trees; what
 * the logs add to a metaslab is kept to be folded into its own map by the
 * first metaslab_sync. Creates spa->ms on first use (features read from
 * the MOS when present).
 * Errors: ZFUSE_E_CORRUPT (malformed maps), ZFUSE_E_NOMEM, read errors.
 */
int metaslab_init_vdev(spa_t *spa, vdev_t *top, bool new_vdev);
/* Release spa->ms (safe when NULL). */
void metaslab_fini(spa_t *spa);

/* metaslab_shift for a new top-level vdev of asize bytes (2.3.2 rule). */
uint64_t metaslab_choose_shift(uint64_t asize);

/*
 * Allocate ndvas copies of a psize block born in txg: bp->blk_dva[0 ..
 * ndvas-1] are filled (vdev, offset, asize = vdev_psize_to_asize; grid and
 * gang bit 0); other words of bp are untouched. Copies go to distinct
 * top-level vdevs when there are enough, else to distinct metaslabs.
 * All or nothing. Errors: ZFUSE_E_NOSPC (the caller may gang),
 * ZFUSE_E_INVAL, ZFUSE_E_NOMEM.
 */
int metaslab_alloc(spa_t *spa, uint64_t psize, int ndvas, uint64_t txg, blkptr_t *bp);

/* Free a DVA in txg: a FREE record in txg's space map update; the space is
 * allocatable again once txg + TXG_DEFER_SIZE has synced. */
void metaslab_free_dva(spa_t *spa, const dva_t *dva, uint64_t txg);

/* Keep a DVA's space out of allocation for this session without
 * recording anything (unclaimed intent log blocks). */
void metaslab_reserve_dva(spa_t *spa, const dva_t *dva);

/* Allocate exactly this DVA in txg (zio_claim of an intent log block).
 * Errors: ZFUSE_E_EXIST (not all of it is free), ZFUSE_E_INVAL. */
int metaslab_claim_dva(spa_t *spa, const dva_t *dva, uint64_t txg);

/* Undo an allocation of this same txg: space not yet recorded in a space
 * map is allocatable at once; any already recorded is freed as above. */
void metaslab_unalloc_dva(spa_t *spa, const dva_t *dva, uint64_t txg);

/*
 * Append txg's new allocations and frees (those since the previous call)
 * to the space maps: creates space map objects and metaslab arrays as
 * needed, writes entries and headers through the MOS (dmu_tx.h). Call once
 * per sync pass. The first call after a load with log space maps also
 * folds them in (see above). Returns 1 if it dirtied the MOS, 0 if there
 * was nothing to write, or a negative error.
 */
int metaslab_sync(spa_t *spa, uint64_t txg, dmu_tx_t *tx);

/* txg is on disk: this txg's frees enter the deferral window and those of
 * txg - TXG_DEFER_SIZE become allocatable. */
void metaslab_sync_done(spa_t *spa, uint64_t txg);

/*
 * A scrub of a pool in use reads the trees of the txg it started in while
 * later txgs free their blocks: while a hold is in place, freed space
 * leaves the deferral window into a held set instead of the allocatable
 * one, so no block of an older tree is overwritten under the scrub. The
 * last release makes it allocatable. Exclusive pool lock.
 */
void metaslab_scan_hold(spa_t *spa);
void metaslab_scan_release(spa_t *spa);

/* One top-level vdev (vdev_stat vs_space / vs_alloc); 0 when unknown. */
uint64_t metaslab_vdev_space(spa_t *spa, uint64_t vdev_id);
uint64_t metaslab_vdev_alloc(spa_t *spa, uint64_t vdev_id);

/* The metaslab holding a vdev offset, or NULL. */
metaslab_t *metaslab_lookup(spa_t *spa, uint64_t vdev_id, uint64_t offset);

#endif
