/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * spa_config.h — the pool configuration as a writer keeps it: the nvlist
 * each leaf's label carries and the full tree the MOS "config" object
 * holds (pool-layer.md §2.8, §2.9).
 *
 * The trusted tree is spa->mos_config: built by spa_create.c for a new
 * pool, loaded from the MOS for an imported one (spa_config_load_mos).
 * Everything the vdev_t tree knows for certain (ids, guids, ashift,
 * asize, metaslab array and shift) is taken from vdev_t when generating;
 * everything else a vdev node carries (path, devid, create_txg, per-vdev
 * ZAPs, DTL, state flags...) is kept from the trusted tree as it is, in
 * its order. That way a config rewritten by zfuse says what OpenZFS last
 * wrote plus the changes zfuse made, and nothing zfuse does not know
 * gets lost.
 */
#ifndef ZFUSE_SPA_CONFIG_H
#define ZFUSE_SPA_CONFIG_H

#include <stdint.h>
#include "dmu_tx.h"
#include "nvpair.h"
#include "spa_misc.h"

/* pool states stored in labels (pool_state_t) */
#define POOL_STATE_ACTIVE 0
#define POOL_STATE_EXPORTED 1
#define POOL_STATE_DESTROYED 2

/* Size of the blocks of a packed-nvlist object (SPA_CONFIG_BLOCKSIZE). */
#define SPA_CONFIG_BLOCKSIZE (1ULL << 14)

/*
 * The config nvlist for vd written in txg, as OpenZFS's spa_config_generate
 * builds it:
 *   vd a leaf:      its label config (top_guid, guid, the top-level vdev's
 *                   subtree without MOS-only keys);
 *   vd a top vdev:  the same with guid = top_guid (labels of a top that is
 *                   itself a leaf);
 *   vd NULL/root:   the full tree for the MOS config object
 *                   (com.delphix:has_per_vdev_zaps, per-vdev ZAP keys).
 * Needs spa->mos_config. Errors: ZFUSE_E_INVAL (vd not in the tree, no
 * trusted config), ZFUSE_E_NOMEM.
 */
int spa_config_generate(spa_t *spa, vdev_t *vd, uint64_t txg, nvlist_t **out);

/*
 * Rewrite the MOS "config" object (packed XDR, 16 KiB blocks, bonus =
 * packed size) with the full config for tx's txg, and make it the trusted
 * tree. Errors: those of spa_config_generate and of the DMU.
 */
int spa_config_write_mos(spa_t *spa, dmu_tx_t *tx);

/*
 * Read the MOS config object of an imported pool into spa->mos_config and
 * its object number into spa->config_obj; the label features come from
 * the label config. Needed before the first write of an imported pool.
 * Errors: ZFUSE_E_CORRUPT, read errors.
 */
int spa_config_load_mos(spa_t *spa);

/* This host's id as OpenZFS userland reads it (/etc/hostid, 0 if none). */
uint64_t spa_config_hostid(void);

#endif
