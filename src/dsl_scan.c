/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dsl_scan.c — scrubs of a pool in use, as `zpool scrub`: a thread walks
 * every block of the newest txg (verify_live) while readers, writers and
 * syncs go on, and keeps the figures `zfuse status` shows.
 *
 * Theory: OpenZFS scrubs inside its syncs and follows the pool's changes
 * with a bookmark. zfuse walks the synced tree (taking the lock only
 * between syncs, txg_enter_synced) and keeps what it has yet to read
 * readable instead: a scan hold stops freed space from being
 * reused until the scrub ends, so every block of that tree stays as it
 * was (later txgs write only into space that was free at the start). On a
 * nearly full pool that can make writes fail with ENOSPC sooner for the
 * scrub's duration; cancelling ends it. Blocks with no good copy go to
 * the error log; bad copies beside a good one are written again when the
 * pool is writable.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dsl_scan.h"
#include "metaslab.h"
#include "spa_errlog.h"
#include "spa_lock.h"
#include "verify.h"
#include "zfuse/errors.h"

struct dsl_scan {
	pthread_mutex_t mu;
	pthread_cond_t ended;
	pthread_t thread;
	bool running;		/* the thread works */
	bool joinable;		/* the thread is to be joined */
	int cancel;		/* read by the walk atomically */
	int result;		/* verify_live's, of the last scrub that ended */
	struct zfuse_scan_status st;
};

static pthread_mutex_t create_mu = PTHREAD_MUTEX_INITIALIZER;

static struct dsl_scan *scan_get(spa_t *spa)
{
	struct dsl_scan *s = __atomic_load_n(&spa->scan, __ATOMIC_ACQUIRE);
	if (s)
		return s;
	pthread_mutex_lock(&create_mu);
	if (!(s = spa->scan) && (s = calloc(1, sizeof(*s)))) {
		pthread_mutex_init(&s->mu, NULL);
		pthread_cond_init(&s->ended, NULL);
		__atomic_store_n(&spa->scan, s, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&create_mu);
	return s;
}

static void scan_progress(void *arg, uint64_t done, uint64_t total)
{
	spa_t *spa = arg;
	struct dsl_scan *s = spa->scan;
	pthread_mutex_lock(&s->mu);
	s->st.examined = done;
	s->st.to_examine = total > done ? total : done;
	pthread_mutex_unlock(&s->mu);
}

static void scan_damage(void *arg, const char *dataset, uint64_t object, int level, uint64_t blkid,
			int err)
{
	spa_t *spa = arg;
	spa_errlog_add_named(spa, strcmp(dataset, "mos") == 0 ? "<metadata>" : dataset, object, level,
			     blkid, err);
}

static void *scan_thread(void *arg)
{
	spa_t *spa = arg;
	struct dsl_scan *s = spa->scan;
	spa_enter_write(spa);
	bool held = spa->writable;
	if (held)
		metaslab_scan_hold(spa);
	spa_exit(spa);
	struct verify_live_opts o = {
		.repair = true, .cancel = &s->cancel, .progress = scan_progress,
		.on_damage = scan_damage, .arg = spa,
	};
	struct zfuse_verify_stats vs;
	memset(&vs, 0, sizeof(vs));
	int rc = verify_live(spa, &o, &vs);
	if (held) {
		spa_enter_write(spa);
		metaslab_scan_release(spa);
		spa_exit(spa);
	}
	pthread_mutex_lock(&s->mu);
	s->st.state = __atomic_load_n(&s->cancel, __ATOMIC_RELAXED) ? ZFUSE_SCAN_CANCELED : ZFUSE_SCAN_FINISHED;
	s->st.end_time = (int64_t)time(NULL);
	s->st.examined = vs.psize;
	if (s->st.to_examine < vs.psize || s->st.state == ZFUSE_SCAN_FINISHED)
		s->st.to_examine = vs.psize;
	s->st.blocks = vs.blocks;
	s->st.errors = vs.checksum_errors + vs.repaired;
	s->st.unrecoverable = vs.unrecoverable;
	s->st.repaired = vs.rewritten;
	s->result = rc;
	s->running = false;
	pthread_cond_broadcast(&s->ended);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static void join_ended(struct dsl_scan *s)
{
	/* under s->mu, with the thread no longer running */
	if (s->joinable && !s->running) {
		pthread_join(s->thread, NULL);
		s->joinable = false;
	}
}

int zfuse_scrub_start(zfuse_pool_t *pool)
{
	spa_t *spa = (spa_t *)pool;
	struct dsl_scan *s = scan_get(spa);
	if (!s)
		return -ZFUSE_E_NOMEM;
	pthread_mutex_lock(&s->mu);
	if (s->running) {
		pthread_mutex_unlock(&s->mu);
		return -ZFUSE_E_BUSY;
	}
	join_ended(s);
	memset(&s->st, 0, sizeof(s->st));
	s->st.state = ZFUSE_SCAN_SCANNING;
	s->st.start_time = (int64_t)time(NULL);
	s->cancel = 0;
	s->result = 0;
	s->running = true;
	if (pthread_create(&s->thread, NULL, scan_thread, spa) != 0) {
		s->running = false;
		s->st.state = ZFUSE_SCAN_NONE;
		pthread_mutex_unlock(&s->mu);
		return -ZFUSE_E_NOMEM;
	}
	s->joinable = true;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

int zfuse_scrub_cancel(zfuse_pool_t *pool)
{
	spa_t *spa = (spa_t *)pool;
	struct dsl_scan *s = __atomic_load_n(&spa->scan, __ATOMIC_ACQUIRE);
	if (!s)
		return -ZFUSE_E_NOENT;
	pthread_mutex_lock(&s->mu);
	bool running = s->running;
	if (running)
		__atomic_store_n(&s->cancel, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&s->mu);
	return running ? 0 : -ZFUSE_E_NOENT;
}

int zfuse_scrub_wait(zfuse_pool_t *pool)
{
	spa_t *spa = (spa_t *)pool;
	struct dsl_scan *s = __atomic_load_n(&spa->scan, __ATOMIC_ACQUIRE);
	if (!s)
		return 0;
	pthread_mutex_lock(&s->mu);
	while (s->running)
		pthread_cond_wait(&s->ended, &s->mu);
	join_ended(s);
	int rc = s->result;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void dsl_scan_status(spa_t *spa, struct zfuse_scan_status *out)
{
	struct dsl_scan *s = __atomic_load_n(&spa->scan, __ATOMIC_ACQUIRE);
	memset(out, 0, sizeof(*out));
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	*out = s->st;
	pthread_mutex_unlock(&s->mu);
}

void dsl_scan_fini(spa_t *spa)
{
	struct dsl_scan *s = spa->scan;
	if (!s)
		return;
	zfuse_scrub_cancel((zfuse_pool_t *)spa);
	zfuse_scrub_wait((zfuse_pool_t *)spa);
	pthread_cond_destroy(&s->ended);
	pthread_mutex_destroy(&s->mu);
	free(s);
	spa->scan = NULL;
}
