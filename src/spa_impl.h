/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * spa_impl.h — the in-core pool (struct spa): the one record every layer
 * from zio up reads through. Only the type lives here, with no calls, so
 * any layer can hold a spa_t without depending on the importer (spa.c) or
 * on the modules whose state it points at (those are opaque here).
 */
#ifndef ZFUSE_SPA_IMPL_H
#define ZFUSE_SPA_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "zfuse/zfuse.h"
#include "nvpair.h"
#include "tunables.h"
#include "vdev.h"
#include "vdev_label.h"
#include "zio_checksum.h"

/* Opaque: the block cache and prefetcher use the pool, so the pool's type
 * must not need their headers. */
typedef struct arc arc_t;
typedef struct zfetch zfetch_t;

#define SPA_VERSION_FEATURES 5000
#define SPA_VERSION_MAX_LEGACY 28

struct objset;

struct dsl_sync_task;
struct spa_errlog;
struct dsl_scan;

typedef struct spa {
	char *name;
	uint64_t guid;
	uint64_t version;
	vdev_t *root;
	struct leaf_dev **devs;
	size_t ndevs;
	uberblock_t ub;
	nvlist_t *label_config;	/* config of the leaf the uberblock came from */
	zio_cksum_salt_t salt;
	bool have_salt;
	bool deflate;
	arc_t *arc;
	zfetch_t *zfetch;
	struct objset *mos;
	uint64_t root_dir_obj;	/* MOS: dsl_dir of the pool's root dataset */
	uint64_t features_for_read_obj, features_for_write_obj, feature_desc_obj;
	zfuse_log_fn log;
	void *log_arg;
	int log_level;
	zfuse_tunables_t tunables;	/* read at open (tunables.c) */
	struct vdev_write_log *write_log;	/* ZFUSE_WRITE_LOG recorder; NULL: off */
	/* write side (dmu_tx.h, txg.c) */
	pthread_rwlock_t lock;	/* spa_lock.h: readers shared; a tx or a sync exclusive */
	pthread_mutex_t sync_mu;	/* one sync at a time (txg.c) */
	bool writable;
	char *readonly_reason;	/* why not, for messages (NULL: asked read-only) */
	uint64_t open_txg;	/* txg that new changes join */
	/* Largest birth of a block the intent log claim took (zil.md §6.5):
	 * the txgs after the claim's skip up to it. */
	uint64_t claim_max_txg;
	/* Intent log blocks allocated in txg t (index t & 3) whose referring
	 * block is not yet written: t's uberblock waits for them (zil_log.c). */
	uint64_t zil_holds[4];
	struct objset *objsets;	/* shared dataset objsets (spa_objset_hold) */
	struct txg_state *txg;	/* sync thread and dirty-data throttle */
	struct dsl_sync_task *sync_tasks;	/* DSL tasks of the open txg (dsl_synctask.h) */
	/* Snapshots open through zfuse_fs_open (private objsets): destroy
	 * refuses them. Pool lock, exclusive to change. */
	uint64_t *open_snaps;
	size_t nopen_snaps, capopen_snaps;
	struct metaslab_state *ms;	/* allocator (metaslab.c) */
	bool config_dirty;	/* labels and the MOS config must be rewritten */
	uint64_t sm_histogram_counted;	/* space maps counted in spacemap_histogram */
	/* pool config and features, write side (spa_config.c, zfeature_write.c) */
	nvlist_t *mos_config;	/* trusted config: the MOS "config" object's tree */
	nvlist_t *label_features;	/* active MOS features, "features_for_read" of labels */
	uint64_t config_obj;	/* MOS object holding mos_config */
	uint64_t pool_state;	/* POOL_STATE_* written into labels */
	uint64_t feature_enabled_txg_obj;	/* MOS "feature_enabled_txg" ZAP; 0: none */
	/* health (spa_errlog.c, dsl_scan.c): blocks reads could not deliver,
	 * the scrub; created on first use, own locks */
	struct spa_errlog *errlog;
	struct dsl_scan *scan;
	struct spa_keystore *keystore;	/* loaded encryption keys (dsl_crypt.c) */
} spa_t;

#endif
