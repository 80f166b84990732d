/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * txg.c — when and how transaction groups reach the disk.
 *
 * OpenZFS's pipeline in three states: writers join the open txg under
 * the pool lock (dmu_tx.h); a sync closes it (quiesce: a short exclusive
 * hold that turns its overlays into the syncing ones and opens txg + 1),
 * and then syncs it while writers fill the next one. Only the phases that
 * change trees hold the lock exclusively: closing, writing the blocks
 * and rebasing the open txg onto them (dmu_objset_pipeline.c), and
 * finishing. Compression and checksums run before, the device flushes
 * and the uberblock after, with readers and writers going on. One sync
 * runs at a time; a background thread starts one every txg_timeout
 * seconds when anything is dirty, or early when the open txg holds 20% of
 * the dirty limit; writers are delayed on OpenZFS's curve as dirty data
 * nears the limit and wait for the running sync only at the limit.
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
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "arc.h"
#include "dbuf.h"
#include "dmu_byteswap.h"
#include "dmu_tx.h"
#include "dmu_objset.h"
#include "dsl.h"
#include "dsl_sync.h"
#include "dsl_synctask.h"
#include "metaslab.h"
#include "spa_lock.h"
#include "spa_misc.h"
#include "spa_config.h"
#include "txg.h"
#include "zio_buf.h"
#include "vdev.h"
#include "vdev_label.h"
#include "vdev_write_log.h"
#include "zfeature.h"
#include "zfeature_write.h"
#include "zap.h"
#include "zil.h"
#include "zil_log.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define SYNC_PASS_MAX 100

/* OpenZFS's defaults: a sync starts when the open txg holds 20% of the
 * dirty limit (or ZFUSE_TXG_SYNC_BYTES, if less: see tunables.c); writers
 * are delayed from 60% on (zfs_dirty_data_sync_percent,
 * zfs_delay_min_dirty_percent, zfs_delay_scale, zfs_delay_max_ns). */
#define TXG_SYNC_PERCENT 20
#define TXG_DELAY_MIN_PERCENT 60
#define TXG_DELAY_SCALE_NS 500000ULL
#define TXG_DELAY_MAX_NS 100000000ULL
#define TXG_REWRITE_PAUSE_MAX_NS 1000000000ULL	/* within the txg timeout */
#define TXG_REWRITE_PAUSE_STEP_NS 1000000ULL

struct txg_state {
	pthread_t thread;
	bool running, stop, kick;
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* wakes the sync thread */
	pthread_cond_t synced_cv;	/* a sync ended (throttled writers) */
	uint64_t dirty_max;
	uint64_t sync_bytes;	/* the open txg's dirty data that starts a sync */
	int timeout_s;
	/* Dirty bytes of the open and the syncing txg as last seen under the
	 * pool lock: the throttle reads them without it. */
	uint64_t dirty_open, dirty_syncing;
	uint64_t syncing_rewrite;	/* of dirty_syncing: read-modify-write blocks */
	uint64_t synced_bytes, synced_rewrite;	/* the same of the last txg synced */
};

static void txg_note_quiesced(spa_t *spa);
static void txg_note_synced(spa_t *spa);

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
	if (spa->config_dirty || spa->sync_tasks || (spa->mos && dmu_objset_is_dirty(spa->mos)))
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

/*
 * What the end of a sync writes, decided under the pool lock (the
 * uberblock, the devices, the label configs when the config changed) and
 * written without it, so that writers go on while devices flush.
 */
struct ub_commit {
	uberblock_t ub;
	struct leaf_ref *leaves;
	size_t nleaves;
	nvlist_t **configs;	/* per leaf; NULL when the labels stay */
};

static void commit_free(struct ub_commit *c)
{
	for (size_t i = 0; c->configs && i < c->nleaves; i++)
		nvlist_free(c->configs[i]);
	free(c->configs);
	free(c->leaves);
	memset(c, 0, sizeof(*c));
}

static int write_labels(spa_t *spa, const struct ub_commit *c, int first)
{
	for (size_t i = 0; i < c->nleaves; i++) {
		int rc = 0;
		for (int l = first; l < VDEV_LABELS && rc == 0; l += 2)
			rc = vdev_label_write_config(c->leaves[i].leaf->dev, l, c->configs[i]);
		if (rc)
			return rc;
	}
	return flush_all(spa);
}

static int write_uberblocks(spa_t *spa, const struct ub_commit *c)
{
	int landed = 0, rc = 0;
	for (size_t i = 0; i < c->nleaves; i++) {
		const struct leaf_ref *v = &c->leaves[i];
		uint64_t ss = vdev_uberblock_slot_size(v->top->ashift);
		uint64_t slot = c->ub.ub_txg % (VDEV_UBERBLOCK_RING_SIZE / ss);
		int ok = 0;
		for (int l = 0; l < VDEV_LABELS; l++) {
			int r = vdev_uberblock_write(v->leaf->dev, l, slot, v->top->ashift, &c->ub);
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

static int commit_prepare(spa_t *spa, uint64_t txg, struct ub_commit *c)
{
	memset(c, 0, sizeof(*c));
	size_t cap = 1024;
	if (!(c->leaves = calloc(cap, sizeof(*c->leaves))))
		return -ZFUSE_E_NOMEM;
	collect_leaves(spa->root, NULL, c->leaves, &c->nleaves, cap);
	uberblock_t *ub = &c->ub;
	/* txg numbers only grow: an uberblock that is not newer than the
	 * last one written would be ignored or, worse, shadow it */
	VERIFY3U(txg, >, spa->ub.ub_txg);
	ub->ub_magic = UBERBLOCK_MAGIC;
	ub->ub_version = spa->version;
	ub->ub_txg = txg;
	ub->ub_guid_sum = vdev_guid_sum(spa->root);
	ub->ub_timestamp = (uint64_t)time(NULL);
	ub->ub_rootbp = spa->mos->bp;
	ub->ub_software_version = SPA_VERSION_FEATURES;
	ub->ub_mmp_magic = MMP_MAGIC;
	if (!spa->config_dirty)
		return 0;
	if (!(c->configs = calloc(c->nleaves ? c->nleaves : 1, sizeof(*c->configs)))) {
		commit_free(c);
		return -ZFUSE_E_NOMEM;
	}
	for (size_t i = 0; i < c->nleaves; i++) {
		int rc = spa_config_generate(spa, c->leaves[i].leaf, txg, &c->configs[i]);
		if (rc) {
			commit_free(c);
			return rc;
		}
	}
	return 0;
}

/* Phase 4 (no lock): flush, even labels, uberblocks, odd labels. */
static int commit_write(spa_t *spa, struct ub_commit *c)
{
	int rc = flush_all(spa);
	if (rc == 0 && c->configs)
		rc = write_labels(spa, c, 0);
	if (rc == 0)
		rc = write_uberblocks(spa, c);
	if (rc == 0 && c->configs)
		rc = write_labels(spa, c, 1);
	if (rc)
		commit_free(c);
	return rc;
}

/* ---- the sync ---------------------------------------------------------------- */

/* The txg being synced: its object sets (the MOS first) and its data
 * blocks to prepare. */
struct txg_sync_set {
	uint64_t txg;
	struct os_in_sync *v;
	size_t n;
	struct dmu_prep_batch prep;
	struct zio_write_queue writes;	/* data blocks written after phase 3 */
	struct dsl_sync_task *tasks;	/* DSL changes of this txg */
};

/* One dataset's objset written, with its born/kill accounting. */
static int sync_dataset(spa_t *spa, objset_t *os, const struct os_write_policy *pol, dmu_tx_t *tx)
{
	struct dsl_acct acct;
	int rc = dsl_acct_init(&acct, spa, tx->txg, os->dsobj);
	if (rc)
		return rc;
	struct os_sync_owner owner = { dsl_acct_born, dsl_acct_kill, &acct };
	zil_sync(spa, os, tx->txg);
	if ((rc = dsl_dataset_activate_used_features(spa, os, tx)) == 0 &&
	    (rc = dmu_objset_sync(os, tx->txg, 1, pol, &owner)) == 0)
		rc = dsl_dataset_sync_done(spa, &acct, &os->bp, tx);
	dsl_acct_fini(&acct);
	return rc;
}

static int sync_datasets(spa_t *spa, struct txg_sync_set *set, dmu_tx_t *tx)
{
	for (size_t i = 1; i < set->n; i++) {
		int rc = sync_dataset(spa, set->v[i].os, &set->v[i].pol, tx);
		if (rc)
			return rc;
	}
	return 0;
}

int txg_sync_new_objset(spa_t *spa, objset_t *os, dmu_tx_t *tx)
{
	SPA_ASSERT_WRITER(spa);
	struct os_write_policy pol;
	dmu_objset_policy(spa, os, &pol);
	int rc = sync_dataset(spa, os, &pol, tx);
	if (rc == 0 && dmu_objset_is_dirty(os))
		rc = SET_ERROR(-ZFUSE_E_IO);	/* the sync left changes behind */
	dbuf_overlay_clear(os);
	return rc;
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

static int sync_mos(spa_t *spa, uint64_t txg, const struct os_write_policy *pol, dmu_tx_t *tx)
{
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
		if ((rc = dmu_objset_sync(spa->mos, txg, pass, pol, &owner)) != 0)
			return rc;
		if ((rc = dsl_mos_diduse(spa, &acct, tx)) != 0)
			return rc;
	}
}

static void set_release(spa_t *spa, struct txg_sync_set *set)
{
	for (size_t i = 1; i < set->n; i++) {
		set->v[i].os->refcount--;
		dbuf_overlay_free(set->v[i].retired);	/* a failed sync's */
	}
	free(set->v);
	dmu_prep_batch_free(&set->prep);
	zio_write_queue_free(&set->writes);
	/* Objsets nobody holds any more were kept only to be synced. */
	objset_t **pp = &spa->objsets;
	while (*pp) {
		objset_t *os = *pp;
		if (os->refcount == 0 && !dmu_objset_is_dirty(os)) {
			*pp = os->next;
			dbuf_overlay_clear(os);
			objset_close(os);
		} else {
			pp = &os->next;
		}
	}
	memset(set, 0, sizeof(*set));
}

/*
 * Phase 1 (exclusive, short): close the open txg. Its overlays become the
 * syncing ones, its data blocks are listed for preparation, and writers
 * join txg + 1 from here on. Returns 1 when the txg had nothing to write.
 */
static int txg_quiesce(spa_t *spa, struct txg_sync_set *set)
{
	memset(set, 0, sizeof(*set));
	if (!spa->writable || !anything_dirty(spa))
		return 1;
	size_t cap = 1;
	for (objset_t *os = spa->objsets; os; os = os->next)
		cap++;
	if (!(set->v = calloc(cap, sizeof(*set->v))))
		return -ZFUSE_E_NOMEM;
	set->txg = spa->open_txg;
	SPA_ASSERT_WRITER(spa);
	VERIFY3U(set->txg, >, spa->ub.ub_txg);
	dmu_objset_policy(spa, spa->mos, &set->v[0].pol);
	dmu_objset_quiesce(spa->mos, &set->v[0]);
	set->n = 1;
	for (objset_t *os = spa->objsets; os; os = os->next) {
		/* A dataset created in this txg is written even when empty. */
		if (!dmu_objset_is_dirty(os) && !bp_is_hole(&os->bp))
			continue;
		struct os_in_sync *e = &set->v[set->n++];
		dmu_objset_policy(spa, os, &e->pol);
		e->pol.defer = &set->writes;
		/* Best effort: blocks not collected are prepared in the sync. */
		(void)dmu_objset_prepare_collect(os, set->txg, &e->pol, &set->prep);
		os->refcount++;
		dmu_objset_quiesce(os, e);
	}
	set->tasks = dsl_sync_task_take(spa);
	/* No txg after the claim's may be older than a block it claimed.
	 * (An atomic store: txg_sync_now reads it without the lock.) */
	uint64_t next = set->txg + 1;
	if (next <= spa->claim_max_txg)
		next = spa->claim_max_txg + 1;
	__atomic_store_n(&spa->open_txg, next, __ATOMIC_RELEASE);
	txg_note_quiesced(spa);
	return 0;
}

/* Phase 3 (exclusive): every block of the txg written, bottom-up, with
 * the closed state swapped in; then the open txg rebased onto it. */
static int txg_sync_write(spa_t *spa, struct txg_sync_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		dmu_objset_sync_begin(&set->v[i]);
	dmu_tx_t tx = { spa, set->txg };
	int rc = sync_datasets(spa, set, &tx);
	if (rc == 0)
		rc = dsl_sync_task_run(spa, set->tasks, &tx);
	if (rc == 0 && spa->config_dirty)
		rc = spa_config_write_mos(spa, &tx);
	if (rc == 0)
		rc = sync_mos(spa, set->txg, &set->v[0].pol, &tx);
	for (size_t i = 0; i < set->n; i++) {
		int r = dmu_objset_sync_end(&set->v[i], rc == 0);
		if (r && rc == 0) {
			spa_log(spa, ZFUSE_LOG_ERROR, "pool '%s': the changes after txg %" PRIu64
				" could not be carried over its sync (%s); they are lost", spa->name,
				set->txg, zfuse_strerror(r));
			rc = r;
		}
	}
	if (rc == 0)
		rc = dmu_objset_rollback_finish(spa, set->v, set->n);
	return rc;
}

/* Phase 5 (exclusive): the txg is the pool now. */
static void sync_done(spa_t *spa, uint64_t txg, const uberblock_t *ub, int rc)
{
	if (rc) {
		spa_log(spa, ZFUSE_LOG_ERROR, "pool '%s': txg %" PRIu64 " could not be written (%s); "
			"the pool is read-only now and stays as of txg %" PRIu64, spa->name, txg,
			zfuse_strerror(rc), spa->ub.ub_txg);
		spa->writable = false;
		return;
	}
	/* The txg number is stored atomically and last: the intent log
	 * reads it without the lock (synced_txg in zil_log.c). */
	const size_t at = offsetof(uberblock_t, ub_txg), after = at + sizeof(ub->ub_txg);
	memcpy(&spa->ub, ub, at);
	memcpy((char *)&spa->ub + after, (const char *)ub + after, sizeof(*ub) - after);
	__atomic_store_n(&spa->ub.ub_txg, ub->ub_txg, __ATOMIC_RELEASE);
	spa->config_dirty = false;
	metaslab_sync_done(spa, txg);
}

/* ---- the sync thread and the throttle -------------------------------------- */

/*
 * One sync at a time (sync_mu). Writers are kept out only while the txg
 * closes and while its blocks are allocated, its metadata written and
 * the open txg rebased (phases 1, 3, 5); they go on while the data is
 * compressed and checksummed (2) and while the data blocks are written,
 * the devices flush and the uberblock is written (4). Readers wait only
 * for phases 1, 3 and 5.
 */
int txg_sync_now(spa_t *spa)
{
	SPA_ASSERT_NOT_HELD(spa);
	if (!spa->writable)
		return spa->txg ? SET_ERROR(-ZFUSE_E_IO) : 0;
	/* Whatever the caller changed is in this txg or an earlier one. */
	uint64_t want = __atomic_load_n(&spa->open_txg, __ATOMIC_ACQUIRE);
	pthread_mutex_lock(&spa->sync_mu);
	if (spa->ub.ub_txg >= want) {
		pthread_mutex_unlock(&spa->sync_mu);
		return 0;	/* synced while we waited */
	}
	struct txg_sync_set set;
	spa_enter_write(spa);
	int rc = txg_quiesce(spa, &set);
	spa_exit(spa);
	if (rc) {
		pthread_mutex_unlock(&spa->sync_mu);
		return rc == 1 ? 0 : rc;
	}
	dmu_prep_run(&set.prep);
	spa_enter_write(spa);
	rc = txg_sync_write(spa, &set);
	struct ub_commit commit;
	if (rc == 0)
		rc = commit_prepare(spa, set.txg, &commit);
	spa_exit(spa);
	if (rc == 0 && (rc = zio_write_queue_issue(spa, &set.writes)) != 0)
		commit_free(&commit);
	if (rc == 0)
		zil_wait_holds(spa, set.txg);
	if (rc == 0)
		rc = commit_write(spa, &commit);
	spa_enter_write(spa);
	sync_done(spa, set.txg, &commit.ub, rc);
	dsl_sync_task_done(set.tasks, rc);
	/* On failure the data stays readable from memory (the pool is read-only). */
	for (size_t i = 1; rc == 0 && i < set.n; i++)
		dmu_objset_sync_finish(&set.v[i]);
	set_release(spa, &set);
	txg_note_dirty(spa);
	spa_exit(spa);
	if (rc == 0)
		commit_free(&commit);
	txg_note_synced(spa);
	pthread_mutex_unlock(&spa->sync_mu);
	return rc;
}

void txg_enter_synced(spa_t *spa)
{
	SPA_ASSERT_NOT_HELD(spa);
	/* A sync holds sync_mu from quiesce to done and needs the lock
	 * exclusively to get past phase 1, so with sync_mu taken first no
	 * sync is in flight, and the read lock keeps the next one at phase 1
	 * until spa_exit. Same order as txg_sync_now: sync_mu, then the lock. */
	pthread_mutex_lock(&spa->sync_mu);
	spa_enter_read(spa);
	pthread_mutex_unlock(&spa->sync_mu);
}

uint64_t txg_rewrite_pause_ns(uint64_t sync_ns, uint64_t synced_bytes, uint64_t rewrite_bytes)
{
	if (synced_bytes == 0 || rewrite_bytes * 2 < synced_bytes)
		return 0;
	return sync_ns < TXG_REWRITE_PAUSE_MAX_NS ? sync_ns : TXG_REWRITE_PAUSE_MAX_NS;
}

static uint64_t dirty_total(const struct txg_state *t);

/* After a sync of mostly rewritten blocks, let the open txg gather writes
 * (see txg.h) until the pause ends, the txg thread stops, or dirty data reaches
 * the throttle's zone. */
static void rewrite_pause(spa_t *spa, uint64_t ns, uint64_t synced, uint64_t rewrite)
{
	struct txg_state *t = spa->txg;
	uint64_t pause = txg_rewrite_pause_ns(ns, synced, rewrite);
	uint64_t zone = t->dirty_max / 100 * TXG_DELAY_MIN_PERCENT;
	for (uint64_t waited = 0; waited < pause; waited += TXG_REWRITE_PAUSE_STEP_NS) {
		if (__atomic_load_n(&t->stop, __ATOMIC_RELAXED) || dirty_total(t) >= zone)
			return;
		struct timespec d = { 0, (long)TXG_REWRITE_PAUSE_STEP_NS };
		nanosleep(&d, NULL);
	}
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
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
		uint64_t start = mono_ns();
		txg_sync_now(spa);
		uint64_t took = mono_ns() - start;
		zio_buf_reap();
		rewrite_pause(spa, took, __atomic_load_n(&t->synced_bytes, __ATOMIC_RELAXED),
			      __atomic_load_n(&t->synced_rewrite, __ATOMIC_RELAXED));
		pthread_mutex_lock(&t->mu);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

void txg_note_dirty(spa_t *spa)
{
	if (spa->txg)
		__atomic_store_n(&spa->txg->dirty_open, txg_dirty_bytes(spa), __ATOMIC_RELAXED);
}

/* The open txg's dirty bytes move to the syncing txg (pool lock held). */
static void txg_note_quiesced(spa_t *spa)
{
	struct txg_state *t = spa->txg;
	if (!t)
		return;
	uint64_t n = spa->mos ? dbuf_syncing_bytes(spa->mos) : 0;
	uint64_t rw = spa->mos ? dbuf_syncing_rewrite_bytes(spa->mos) : 0;
	for (const objset_t *os = spa->objsets; os; os = os->next) {
		n += dbuf_syncing_bytes(os);
		rw += dbuf_syncing_rewrite_bytes(os);
	}
	__atomic_store_n(&t->dirty_syncing, n, __ATOMIC_RELAXED);
	__atomic_store_n(&t->syncing_rewrite, rw, __ATOMIC_RELAXED);
	__atomic_store_n(&t->dirty_open, 0, __ATOMIC_RELAXED);
}

/* A sync ended: the syncing bytes are gone; wake throttled writers. */
static void txg_note_synced(spa_t *spa)
{
	struct txg_state *t = spa->txg;
	if (!t)
		return;
	pthread_mutex_lock(&t->mu);
	__atomic_store_n(&t->synced_bytes, __atomic_load_n(&t->dirty_syncing, __ATOMIC_RELAXED),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&t->synced_rewrite, __atomic_load_n(&t->syncing_rewrite, __ATOMIC_RELAXED),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&t->dirty_syncing, 0, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&t->synced_cv);
	pthread_mutex_unlock(&t->mu);
}

static uint64_t dirty_total(const struct txg_state *t)
{
	return __atomic_load_n(&t->dirty_open, __ATOMIC_RELAXED) +
	       __atomic_load_n(&t->dirty_syncing, __ATOMIC_RELAXED);
}

static void wake_sync_thread(struct txg_state *t)
{
	pthread_mutex_lock(&t->mu);
	t->kick = true;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
}

/*
 * OpenZFS's write throttle: no delay below TXG_DELAY_MIN_PERCENT of the
 * dirty limit; above it each transaction waits
 * scale * (dirty - min) / (max - dirty), a curve that is flat at first
 * and steep near the limit, capped at TXG_DELAY_MAX_NS; at the limit,
 * writers wait for the running sync to finish.
 */
void txg_throttle(spa_t *spa)
{
	SPA_ASSERT_NOT_HELD(spa);
	struct txg_state *t = spa->txg;
	if (!t)
		return;
	uint64_t max = t->dirty_max, dirty = dirty_total(t);
	if (dirty >= max) {
		wake_sync_thread(t);
		pthread_mutex_lock(&t->mu);
		while (spa->writable && !t->stop && dirty_total(t) >= max) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 100 * 1000 * 1000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&t->synced_cv, &t->mu, &ts);
		}
		pthread_mutex_unlock(&t->mu);
		return;
	}
	uint64_t min = max / 100 * TXG_DELAY_MIN_PERCENT;
	if (dirty <= min)
		return;
	uint64_t ns = (uint64_t)((double)TXG_DELAY_SCALE_NS * (double)(dirty - min) / (double)(max - dirty));
	if (ns > TXG_DELAY_MAX_NS)
		ns = TXG_DELAY_MAX_NS;
	struct timespec d = { (time_t)(ns / 1000000000), (long)(ns % 1000000000) };
	nanosleep(&d, NULL);
}

void txg_kick(spa_t *spa)
{
	struct txg_state *t = spa->txg;
	if (!t || __atomic_load_n(&t->dirty_open, __ATOMIC_RELAXED) < t->sync_bytes)
		return;
	wake_sync_thread(t);
}

uint64_t txg_dirty_max_default(void)
{
	return spa_memory_share(10, 256ULL << 20, 4ULL << 30);
}

static int txg_start_thread(spa_t *spa)
{
	struct txg_state *t = calloc(1, sizeof(*t));
	if (!t)
		return -ZFUSE_E_NOMEM;
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	pthread_cond_init(&t->synced_cv, NULL);
	t->dirty_max = spa->tunables.dirty_data_max ? spa->tunables.dirty_data_max
						     : txg_dirty_max_default();
	t->sync_bytes = t->dirty_max / 100 * TXG_SYNC_PERCENT;
	if (t->sync_bytes > spa->tunables.txg_sync_bytes)
		t->sync_bytes = spa->tunables.txg_sync_bytes;
	t->timeout_s = spa->tunables.txg_timeout > INT_MAX ? INT_MAX : (int)spa->tunables.txg_timeout;
	/* A txg closes at TXG_SYNC_PERCENT of the limit at most: keep the
	 * buffers of one such txg for the next, beside a full block cache
	 * (within the memory bound, see zio_buf.h): below that, a write stream's blocks,
	 * cached once written, would give back and re-zero a chunk of memory
	 * at every sync (half of the daemon's time in a 2 GiB write). While
	 * writes go on, an open and a syncing txg can hold the whole dirty
	 * limit between them: random 4 KiB writes dirty a 128 KiB block each,
	 * and re-zeroed chunks took a tenth of the daemon's time there. */
	uint64_t cache = spa->arc ? arc_max_bytes(spa->arc) : 0;
	zio_buf_retain(t->dirty_max / 4 + cache, t->dirty_max + cache);
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
	/* Blocks read from a pool of the other byte order are swapped in the
	 * cache; writing them back native is what OpenZFS does, but zfuse's
	 * writer has not been proven on such pools: they stay read-only. */
	if (bp_should_byteswap(&spa->ub.ub_rootbp)) {
		refuse(spa, "it was last written by a machine of the other byte order (big-endian), "
		       "and zfuse writes only pools in this machine's byte order");
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
			snprintf(why, sizeof(why), rc == -ZFUSE_E_BUSY ?
				 "%s is being written by another process (is the pool mounted already?)" :
				 "%s cannot be opened for writing", spa->devs[i]->path);
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
	if ((rc = spa_config_load_mos(spa)) != 0) {
		refuse(spa, "its MOS config cannot be read");
		return -ZFUSE_E_ROFS;
	}
	spa->open_txg = spa->ub.ub_txg + 1;
	/* Labels keep the config OpenZFS wrote; only uberblocks are added
	 * until the config itself changes. */
	spa->writable = true;
	/* Intent logs are claimed in the first txg, before anything else
	 * allocates (zil.md §6). */
	spa_enter_write(spa);
	rc = zil_claim_all(spa, why, sizeof(why));
	spa_exit(spa);
	if (rc) {
		spa->writable = false;
		refuse(spa, rc == -ZFUSE_E_ROFS ? why : "its intent logs cannot be claimed");
		return -ZFUSE_E_ROFS;
	}
	if ((rc = txg_start_thread(spa)) != 0) {
		spa->writable = false;
		return rc;
	}
	/* The claim is on disk before any dataset replays (spa_load waits
	 * for spa_claim_max_txg likewise). */
	if (spa->claim_max_txg && (rc = txg_sync_now(spa)) != 0)
		return rc;
	return 0;
}

int txg_shutdown(spa_t *spa)
{
	struct txg_state *t = spa->txg;
	if (!t)
		return 0;
	pthread_mutex_lock(&t->mu);
	__atomic_store_n(&t->stop, true, __ATOMIC_RELAXED);	/* the pause reads it unlocked */
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
	if (t->running)
		pthread_join(t->thread, NULL);
	int rc = txg_sync_now(spa);
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->cv);
	pthread_cond_destroy(&t->synced_cv);
	free(t);
	spa->txg = NULL;
	return rc;
}
