/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * txg.c — when and how the open txg reaches the disk.
 *
 * There is one open txg. Writers join it under the pool lock (dmu_tx.h);
 * a sync takes the same lock exclusively, so "quiescing" is simply waiting
 * for the lock, and the synced state is visible to the next reader at
 * once. A background thread syncs every txg_timeout seconds when anything
 * is dirty; writers sync inline when dirty data passes the limit, which is
 * the throttle that keeps memory bounded.
 *
 * The sync order is OpenZFS's (pool-layer.md §3.7, §10): dataset objsets
 * bottom-up with their accounting, the MOS in passes together with the
 * space maps until a pass changes nothing, a flush, even labels (if the
 * config changed), uberblocks, odd labels, with flushes in between. Until
 * the uberblock lands the previous one is the pool; a failed sync leaves
 * the pool read-only in memory and valid on disk.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dbuf.h"
#include "dmu_tx.h"
#include "dmu_objset.h"
#include "dsl.h"
#include "dsl_sync.h"
#include "metaslab.h"
#include "spa_lock.h"
#include "spa_misc.h"
#include "spa_config.h"
#include "txg.h"
#include "vdev.h"
#include "vdev_label.h"
#include "vdev_write_log.h"
#include "zfeature.h"
#include "zfeature_write.h"
#include "zap.h"
#include "zil.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define SYNC_PASS_MAX 100

struct txg_state {
	pthread_t thread;
	bool running, stop, kick;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t dirty_max;
	int timeout_s;
	/* txg_dirty_bytes as last seen under the pool lock: the throttle
	 * reads it without the lock, when the overlays may be changing. */
	_Atomic uint64_t dirty_seen;
};

uint64_t txg_dirty_bytes(const spa_t *spa)
{
	SPA_ASSERT_HELD(spa);
	uint64_t n = spa->mos ? dbuf_dirty_bytes(spa->mos) : 0;
	for (const objset_t *os = spa->objsets; os; os = os->next)
		n += dbuf_dirty_bytes(os);
	return n;
}

static bool anything_dirty(const spa_t *spa)
{
	if (spa->config_dirty || (spa->mos && dmu_objset_is_dirty(spa->mos)))
		return true;
	for (const objset_t *os = spa->objsets; os; os = os->next)
		if (dmu_objset_is_dirty(os))
			return true;
	return false;
}

/* ---- labels and uberblocks ------------------------------------------------ */

struct leaf_ref {
	vdev_t *leaf, *top;
};

static void collect_leaves(vdev_t *vd, vdev_t *top, struct leaf_ref *v, size_t *n, size_t cap)
{
	if (vd->kind == VDEV_KIND_LEAF) {
		if (vd->dev && *n < cap)
			v[(*n)++] = (struct leaf_ref){ vd, top };
		return;
	}
	for (uint64_t i = 0; i < vd->nchild; i++)
		collect_leaves(vd->child[i], top ? top : vd->child[i], v, n, cap);
}

static int flush_all(spa_t *spa)
{
	return vdev_flush(spa->root);
}

static int write_labels(spa_t *spa, struct leaf_ref *v, size_t n, uint64_t txg, int first)
{
	for (size_t i = 0; i < n; i++) {
		nvlist_t *nv;
		int rc = spa_config_generate(spa, v[i].leaf, txg, &nv);
		if (rc)
			return rc;
		for (int l = first; l < VDEV_LABELS && rc == 0; l += 2)
			rc = vdev_label_write_config(v[i].leaf->dev, l, nv);
		nvlist_free(nv);
		if (rc)
			return rc;
	}
	return flush_all(spa);
}

static int write_uberblocks(spa_t *spa, struct leaf_ref *v, size_t n, const uberblock_t *ub)
{
	int landed = 0, rc = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t ss = vdev_uberblock_slot_size(v[i].top->ashift);
		uint64_t slot = ub->ub_txg % (VDEV_UBERBLOCK_RING_SIZE / ss);
		int ok = 0;
		for (int l = 0; l < VDEV_LABELS; l++) {
			int r = vdev_uberblock_write(v[i].leaf->dev, l, slot, v[i].top->ashift, ub);
			if (r == 0)
				ok++;
			else
				rc = r;
		}
		landed += ok > 0;
	}
	int f = flush_all(spa);
	if (!landed)
		return rc ? rc : SET_ERROR(-ZFUSE_E_IO);
	return f;
}

static int commit_uberblock(spa_t *spa, uint64_t txg)
{
	size_t cap = 1024, n = 0;
	struct leaf_ref *v = calloc(cap, sizeof(*v));
	if (!v)
		return -ZFUSE_E_NOMEM;
	collect_leaves(spa->root, NULL, v, &n, cap);
	uberblock_t ub;
	memset(&ub, 0, sizeof(ub));
	ub.ub_magic = UBERBLOCK_MAGIC;
	ub.ub_version = spa->version;
	ub.ub_txg = txg;
	ub.ub_guid_sum = vdev_guid_sum(spa->root);
	ub.ub_timestamp = (uint64_t)time(NULL);
	ub.ub_rootbp = spa->mos->bp;
	ub.ub_software_version = SPA_VERSION_FEATURES;
	ub.ub_mmp_magic = MMP_MAGIC;
	int rc = flush_all(spa);
	if (rc == 0 && spa->config_dirty)
		rc = write_labels(spa, v, n, txg, 0);
	if (rc == 0)
		rc = write_uberblocks(spa, v, n, &ub);
	if (rc == 0 && spa->config_dirty)
		rc = write_labels(spa, v, n, txg, 1);
	free(v);
	if (rc == 0) {
		spa->ub = ub;
		spa->config_dirty = false;
	}
	return rc;
}

/* ---- the sync ---------------------------------------------------------------- */

static int sync_datasets(spa_t *spa, uint64_t txg, dmu_tx_t *tx)
{
	for (objset_t *os = spa->objsets; os; os = os->next) {
		if (!dmu_objset_is_dirty(os) && !bp_is_hole(&os->bp))
			continue;
		struct dsl_acct acct;
		int rc = dsl_acct_init(&acct, spa, txg, os->dsobj);
		if (rc)
			return rc;
		if ((rc = dsl_dataset_activate_used_features(spa, os, tx)) != 0)
			return rc;
		struct os_write_policy pol;
		dmu_objset_policy(spa, os, &pol);
		struct os_sync_owner owner = { dsl_acct_born, dsl_acct_kill, &acct };
		if ((rc = dmu_objset_sync(os, txg, 1, &pol, &owner)) != 0)
			return rc;
		if ((rc = dsl_dataset_sync_done(spa, &acct, &os->bp, tx)) != 0)
			return rc;
	}
	return 0;
}

/* Space maps created by the allocator raise the spacemap_histogram count. */
static int count_new_space_maps(spa_t *spa, dmu_tx_t *tx)
{
	if (!spa->ms || !spa->ms->feat_spacemap_histogram)
		return 0;
	while (spa->sm_histogram_counted < spa->ms->sm_created) {
		int rc = spa_feature_incr(spa, "spacemap_histogram", tx);
		if (rc)
			return rc;
		spa->sm_histogram_counted++;
	}
	return 0;
}

static int sync_mos(spa_t *spa, uint64_t txg, dmu_tx_t *tx)
{
	struct os_write_policy pol;
	dmu_objset_policy(spa, spa->mos, &pol);
	for (int pass = 1;; pass++) {
		if (pass > SYNC_PASS_MAX) {
			spa_log(spa, ZFUSE_LOG_ERROR, "txg %" PRIu64 " did not converge", txg);
			return SET_ERROR(-ZFUSE_E_IO);
		}
		int changed = metaslab_sync(spa, txg, tx);
		if (changed < 0)
			return changed;
		int rc = count_new_space_maps(spa, tx);
		if (rc)
			return rc;
		/* A new metaslab array belongs in the vdev config (MOS and labels). */
		if (spa->ms && spa->ms->config_dirty) {
			spa->ms->config_dirty = false;
			spa->config_dirty = true;
			if ((rc = spa_config_write_mos(spa, tx)) != 0)
				return rc;
			changed = 1;
		}
		if (pass > 1 && !changed && !dmu_objset_is_dirty(spa->mos))
			return 0;
		struct dsl_acct acct;
		dsl_acct_init(&acct, spa, txg, 0);
		struct os_sync_owner owner = { dsl_acct_born, dsl_acct_kill, &acct };
		if ((rc = dmu_objset_sync(spa->mos, txg, pass, &pol, &owner)) != 0)
			return rc;
		if ((rc = dsl_mos_diduse(spa, &acct, tx)) != 0)
			return rc;
	}
}

/* Phase 1 (readers welcome): compress and checksum the datasets' data. */
static void sync_prepare(spa_t *spa)
{
	for (objset_t *os = spa->objsets; os; os = os->next) {
		if (!dmu_objset_is_dirty(os))
			continue;
		struct os_write_policy pol;
		dmu_objset_policy(spa, os, &pol);
		dmu_objset_prepare(os, spa->open_txg, &pol);
	}
}

/* Phase 2 (exclusive): every block of the txg written, bottom-up. */
static int sync_write(spa_t *spa, uint64_t txg)
{
	dmu_tx_t tx = { spa, txg };
	int rc = sync_datasets(spa, txg, &tx);
	if (rc == 0 && spa->config_dirty)
		rc = spa_config_write_mos(spa, &tx);
	if (rc == 0)
		rc = sync_mos(spa, txg, &tx);
	return rc;
}

/* Phase 4 (exclusive): the txg is the pool now. */
static void sync_done(spa_t *spa, uint64_t txg, int rc)
{
	if (rc) {
		spa_log(spa, ZFUSE_LOG_ERROR, "pool '%s': txg %" PRIu64 " could not be written (%s); "
			"the pool is read-only now and stays as of txg %" PRIu64, spa->name, txg,
			zfuse_strerror(rc), spa->ub.ub_txg);
		spa->writable = false;
		return;
	}
	metaslab_sync_done(spa, txg);
	spa->open_txg = txg + 1;
	/* Objsets nobody holds any more were kept only to be synced. */
	objset_t **pp = &spa->objsets;
	while (*pp) {
		objset_t *os = *pp;
		if (os->refcount == 0) {
			*pp = os->next;
			objset_close(os);
		} else {
			pp = &os->next;
		}
	}
}

/* ---- the sync thread and the throttle -------------------------------------- */

/*
 * Writers are kept out for the whole sync by the gate; readers only while
 * blocks and trees change (phases 2 and 4): they go on while the data is
 * compressed and checksummed and while the devices flush and the
 * uberblock is written.
 */
int txg_sync_now(spa_t *spa)
{
	SPA_ASSERT_NOT_HELD(spa);
	if (!spa->writable)
		return spa->txg ? SET_ERROR(-ZFUSE_E_IO) : 0;
	pthread_mutex_lock(&spa->tx_gate);
	spa_enter_read(spa);
	bool dirty = spa->writable && anything_dirty(spa);
	uint64_t txg = spa->open_txg;
	if (dirty)
		sync_prepare(spa);
	spa_exit(spa);
	int rc = 0;
	if (dirty) {
		spa_enter_write(spa);
		rc = sync_write(spa, txg);
		spa_exit(spa);
		if (rc == 0) {
			spa_enter_read(spa);
			rc = commit_uberblock(spa, txg);
			spa_exit(spa);
		}
		spa_enter_write(spa);
		sync_done(spa, txg, rc);
		txg_note_dirty(spa);
		spa_exit(spa);
	}
	pthread_mutex_unlock(&spa->tx_gate);
	return rc;
}

static void *sync_thread(void *arg)
{
	spa_t *spa = arg;
	struct txg_state *t = spa->txg;
	pthread_mutex_lock(&t->mu);
	while (!t->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += t->timeout_s;
		while (!t->stop && !t->kick)
			if (pthread_cond_timedwait(&t->cv, &t->mu, &ts) != 0)
				break;
		t->kick = false;
		if (t->stop)
			break;
		pthread_mutex_unlock(&t->mu);
		txg_sync_now(spa);
		pthread_mutex_lock(&t->mu);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

void txg_note_dirty(spa_t *spa)
{
	if (spa->txg)
		spa->txg->dirty_seen = txg_dirty_bytes(spa);
}

void txg_throttle(spa_t *spa)
{
	SPA_ASSERT_NOT_HELD(spa);
	if (spa->txg && spa->txg->dirty_seen > spa->txg->dirty_max)
		txg_sync_now(spa);
}

void txg_kick(spa_t *spa)
{
	struct txg_state *t = spa->txg;
	if (!t || t->dirty_seen < t->dirty_max / 2)
		return;
	pthread_mutex_lock(&t->mu);
	t->kick = true;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
}

static int txg_start_thread(spa_t *spa)
{
	struct txg_state *t = calloc(1, sizeof(*t));
	if (!t)
		return -ZFUSE_E_NOMEM;
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	t->dirty_max = TXG_DIRTY_MAX_DEFAULT;
	t->timeout_s = spa->tunables.txg_timeout > INT_MAX ? INT_MAX : (int)spa->tunables.txg_timeout;
	spa->txg = t;
	if (pthread_create(&t->thread, NULL, sync_thread, spa) != 0) {
		spa->txg = NULL;
		free(t);
		return -ZFUSE_E_NOMEM;
	}
	t->running = true;
	return 0;
}

static int ddt_entry_cb(void *arg, const zap_entry_t *ze)
{
	(void)arg;
	return strncmp(ze->name, "DDT-", 4) == 0;
}

/* Deduplicated blocks may only be freed through the dedup tables, which
 * zfuse does not keep: a pool that has any (DDT objects in the object
 * directory) is not written. */
static bool pool_has_dedup_tables(spa_t *spa)
{
	dnode_t dir;
	if (dnode_hold(spa->mos, 1, &dir) != 0)
		return true;
	int rc = zap_iterate(&dir, 0, 0, ddt_entry_cb, NULL);
	dnode_rele(&dir);
	return rc != 0;
}

static void refuse(spa_t *spa, const char *why)
{
	free(spa->readonly_reason);
	spa->readonly_reason = strdup(why);
	spa_log(spa, ZFUSE_LOG_WARN, "pool '%s' is read-only: %s", spa->name, why);
}

/* ZFUSE_WRITE_LOG: record the writes of every device the pool uses. A
 * pool that asked for a log and cannot keep one stays read-only, since
 * the harness reading the log would otherwise miss writes. */
static int start_write_log(spa_t *spa)
{
	if (!spa->tunables.write_log || spa->write_log)
		return 0;
	int rc = vdev_write_log_open(spa->tunables.write_log, spa->name, &spa->write_log);
	for (size_t i = 0; i < spa->ndevs && rc == 0; i++)
		if (spa->devs[i]->claimed)
			rc = vdev_write_log_attach(spa->write_log, spa->devs[i]);
	return rc;
}

int txg_enable_writes(spa_t *spa)
{
	char why[256];
	int rc;
	if (spa->version < SPA_VERSION_FEATURES) {
		refuse(spa, "pools older than version 5000 are not written by zfuse");
		return -ZFUSE_E_ROFS;
	}
	if (pool_has_dedup_tables(spa)) {
		refuse(spa, "it has deduplicated blocks, and zfuse does not keep dedup tables");
		return -ZFUSE_E_ROFS;
	}
	if ((rc = zfeature_check_write(spa, why, sizeof(why))) != 0) {
		refuse(spa, rc == -ZFUSE_E_ROFS ? why : zfuse_strerror(rc));
		return -ZFUSE_E_ROFS;
	}
	for (size_t i = 0; i < spa->ndevs; i++) {
		if (!spa->devs[i]->claimed)
			continue;
		if ((rc = leaf_dev_reopen_rw(spa->devs[i])) != 0) {
			snprintf(why, sizeof(why), "%s cannot be opened for writing", spa->devs[i]->path);
			refuse(spa, why);
			return -ZFUSE_E_ROFS;
		}
	}
	if ((rc = start_write_log(spa)) != 0) {
		snprintf(why, sizeof(why), "the write log %s cannot be written", spa->tunables.write_log);
		refuse(spa, why);
		return -ZFUSE_E_ROFS;
	}
	for (uint64_t i = 0; i < spa->root->nchild; i++) {
		vdev_t *top = spa->root->child[i];
		if (top->kind == VDEV_KIND_HOLE)
			continue;
		if (!vdev_readable(top) || top->kind == VDEV_KIND_MISSING) {
			refuse(spa, "a device is missing");
			return -ZFUSE_E_ROFS;
		}
		if ((rc = metaslab_init_vdev(spa, top, false)) != 0) {
			snprintf(why, sizeof(why), "its space maps cannot be loaded (%s)", zfuse_strerror(rc));
			refuse(spa, why);
			return -ZFUSE_E_ROFS;
		}
	}
	if ((rc = zil_reserve_chains(spa, why, sizeof(why))) != 0) {
		refuse(spa, rc == -ZFUSE_E_ROFS ? why : "its intent logs cannot be read");
		return -ZFUSE_E_ROFS;
	}
	if ((rc = spa_config_load_mos(spa)) != 0) {
		refuse(spa, "its MOS config cannot be read");
		return -ZFUSE_E_ROFS;
	}
	spa->open_txg = spa->ub.ub_txg + 1;
	/* Labels keep the config OpenZFS wrote; only uberblocks are added
	 * until the config itself changes. */
	spa->writable = true;
	if ((rc = txg_start_thread(spa)) != 0) {
		spa->writable = false;
		return rc;
	}
	return 0;
}

int txg_shutdown(spa_t *spa)
{
	struct txg_state *t = spa->txg;
	if (!t)
		return 0;
	pthread_mutex_lock(&t->mu);
	t->stop = true;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
	if (t->running)
		pthread_join(t->thread, NULL);
	int rc = txg_sync_now(spa);
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->cv);
	free(t);
	spa->txg = NULL;
	return rc;
}
