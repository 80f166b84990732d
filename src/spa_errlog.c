/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * spa_errlog.c — which blocks reads and scrubs could not deliver, so that
 * `zfuse status` names the damaged files as `zpool status -v` does.
 *
 * Theory: an entry is a block's address in the object layer (dataset,
 * object, level, block id), not its DVA: that is what leads to a path. A
 * read records the dataset by object number, since it runs under the
 * pool lock where names cannot be looked up cheaply; the names and paths
 * are resolved when the log is listed, outside any lock the read held.
 * The log has its own mutex so any thread may add to it in any lock
 * state. It is bounded: past ERRLOG_MAX distinct blocks only counts grow.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dsl.h"
#include "spa_errlog.h"
#include "spa_lock.h"
#include "zfuse/status.h"

#define ERRLOG_MAX 4096

struct errlog_entry {
	uint64_t dsobj;
	char dataset[256];	/* a scrub's name; empty: resolve dsobj */
	uint64_t object, blkid;
	int level, err;
	uint64_t count;
	int64_t first, last;
	bool by_scrub;
};

struct spa_errlog {
	pthread_mutex_t mu;
	struct errlog_entry *v;
	size_t n, cap;
	uint64_t dropped;
};

static pthread_mutex_t create_mu = PTHREAD_MUTEX_INITIALIZER;

static struct spa_errlog *errlog_get(spa_t *spa)
{
	struct spa_errlog *l = __atomic_load_n(&spa->errlog, __ATOMIC_ACQUIRE);
	if (l)
		return l;
	pthread_mutex_lock(&create_mu);
	if (!(l = spa->errlog) && (l = calloc(1, sizeof(*l)))) {
		pthread_mutex_init(&l->mu, NULL);
		__atomic_store_n(&spa->errlog, l, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&create_mu);
	return l;
}

static void add(spa_t *spa, uint64_t dsobj, const char *dataset, uint64_t object, int level,
		uint64_t blkid, int err, bool by_scrub)
{
	struct spa_errlog *l = errlog_get(spa);
	if (!l)
		return;
	int64_t now = (int64_t)time(NULL);
	pthread_mutex_lock(&l->mu);
	for (size_t i = 0; i < l->n; i++) {
		struct errlog_entry *e = &l->v[i];
		if (e->object == object && e->level == level && e->blkid == blkid &&
		    (dataset ? strcmp(e->dataset, dataset) == 0 : !e->dataset[0] && e->dsobj == dsobj)) {
			e->count++;
			e->last = now;
			e->err = err;
			pthread_mutex_unlock(&l->mu);
			return;
		}
	}
	if (l->n == l->cap && l->n < ERRLOG_MAX) {
		size_t nc = l->cap ? l->cap * 2 : 16;
		struct errlog_entry *nv = realloc(l->v, nc * sizeof(*nv));
		if (nv) {
			l->v = nv;
			l->cap = nc;
		}
	}
	if (l->n < l->cap) {
		struct errlog_entry *e = &l->v[l->n++];
		memset(e, 0, sizeof(*e));
		e->dsobj = dsobj;
		if (dataset)
			snprintf(e->dataset, sizeof(e->dataset), "%s", dataset);
		e->object = object;
		e->level = level;
		e->blkid = blkid;
		e->err = err;
		e->count = 1;
		e->first = e->last = now;
		e->by_scrub = by_scrub;
	} else {
		l->dropped++;
	}
	pthread_mutex_unlock(&l->mu);
}

void spa_errlog_add(spa_t *spa, uint64_t dsobj, uint64_t object, int level, uint64_t blkid, int err)
{
	add(spa, dsobj, NULL, object, level, blkid, err, false);
}

void spa_errlog_add_named(spa_t *spa, const char *dataset, uint64_t object, int level,
			  uint64_t blkid, int err)
{
	add(spa, 0, dataset, object, level, blkid, err, true);
}

uint64_t spa_errlog_count(spa_t *spa)
{
	struct spa_errlog *l = __atomic_load_n(&spa->errlog, __ATOMIC_ACQUIRE);
	if (!l)
		return 0;
	pthread_mutex_lock(&l->mu);
	uint64_t n = l->n;
	pthread_mutex_unlock(&l->mu);
	return n;
}

void spa_errlog_fini(spa_t *spa)
{
	struct spa_errlog *l = spa->errlog;
	if (!l)
		return;
	pthread_mutex_destroy(&l->mu);
	free(l->v);
	free(l);
	spa->errlog = NULL;
}

int zfuse_pool_errors_iter(zfuse_pool_t *pool, zfuse_error_fn fn, void *arg)
{
	spa_t *spa = (spa_t *)pool;
	struct spa_errlog *l = __atomic_load_n(&spa->errlog, __ATOMIC_ACQUIRE);
	if (!l)
		return 0;
	pthread_mutex_lock(&l->mu);
	size_t n = l->n;
	struct errlog_entry *v = n ? malloc(n * sizeof(*v)) : NULL;
	if (v)
		memcpy(v, l->v, n * sizeof(*v));
	pthread_mutex_unlock(&l->mu);
	if (n && !v)
		return -ZFUSE_E_NOMEM;
	/* Names under the pool lock, paths through the public calls (which
	 * take it themselves). */
	spa_enter_read(spa);
	for (size_t i = 0; i < n; i++) {
		struct errlog_entry *e = &v[i];
		if (e->dataset[0])
			continue;
		if (e->dsobj == 0)
			snprintf(e->dataset, sizeof(e->dataset), "<metadata>");
		else if (dsl_dataset_name(spa, e->dsobj, e->dataset, sizeof(e->dataset)) != 0)
			snprintf(e->dataset, sizeof(e->dataset), "<dataset %llu>", (unsigned long long)e->dsobj);
	}
	spa_exit(spa);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct errlog_entry *e = &v[i];
		char path[4096];
		path[0] = 0;
		zfuse_fs_t *fs;
		if (e->dataset[0] != '<' && e->level >= 0 && zfuse_fs_open(pool, e->dataset, &fs) == 0) {
			if (zfuse_object_path(fs, e->object, path, sizeof(path)) < 0)
				path[0] = 0;
			zfuse_fs_close(fs);
		}
		struct zfuse_error_info info = {
			.dataset = e->dataset, .object = e->object, .level = e->level, .blkid = e->blkid,
			.path = path[0] ? path : NULL, .error = e->err, .count = e->count,
			.first_time = e->first, .last_time = e->last, .by_scrub = e->by_scrub,
		};
		rc = fn(arg, &info);
	}
	free(v);
	return rc;
}

void zfuse_pool_clear(zfuse_pool_t *pool)
{
	spa_t *spa = (spa_t *)pool;
	struct spa_errlog *l = __atomic_load_n(&spa->errlog, __ATOMIC_ACQUIRE);
	if (l) {
		pthread_mutex_lock(&l->mu);
		l->n = 0;
		l->dropped = 0;
		pthread_mutex_unlock(&l->mu);
	}
	for (size_t i = 0; i < spa->ndevs; i++) {
		__atomic_store_n(&spa->devs[i]->read_errors, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&spa->devs[i]->write_errors, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&spa->devs[i]->checksum_errors, 0, __ATOMIC_RELAXED);
	}
}
