/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dmu_zfetch.c — a small prefetcher. Streams are detected per (objset,
 * object) from the end offset of the previous read; a continuing stream
 * queues the blocks of the window ahead that have not been queued yet.
 * Work items are tiny (objset, object, blkid) and the queue is bounded, so
 * memory stays flat; the block cache bound applies to prefetched blocks
 * like any other.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "dbuf.h"
#include "dmu_zfetch.h"
#include "spa_lock.h"

#define ZFETCH_STREAMS 64
#define ZFETCH_QUEUE 1024
#define ZFETCH_MAX_WORKERS 8

struct stream {
	objset_t *os;
	uint64_t object;
	uint64_t next_off;	/* where a continuing read starts */
	uint64_t queued_to;	/* first block id not yet queued */
	uint64_t last_use;
};

struct work {
	objset_t *os;
	uint64_t object, blkid;
	uint64_t end;		/* offset just past the block */
};

struct zfetch {
	pthread_mutex_t lock;
	pthread_cond_t cv, idle_cv;
	struct stream streams[ZFETCH_STREAMS];
	struct work queue[ZFETCH_QUEUE];
	size_t head, count;
	uint64_t clock;
	uint64_t window;
	unsigned nworkers, started, busy;
	objset_t *busy_os[ZFETCH_MAX_WORKERS];
	pthread_t threads[ZFETCH_MAX_WORKERS];
	bool stopping;
};

struct worker_arg {
	zfetch_t *zf;
	unsigned self;
};

/* Has the stream reading w's object already read past w's block (lock
 * held)? Then the reader read it itself, and a prefetch would only read
 * it again, to keep in the cache a block the stream is done with. */
static bool passed(const zfetch_t *zf, const struct work *w)
{
	for (int i = 0; i < ZFETCH_STREAMS; i++) {
		const struct stream *s = &zf->streams[i];
		if (s->os == w->os && s->object == w->object)
			return s->next_off >= w->end;
	}
	return false;
}

static void *worker(void *arg)
{
	struct worker_arg *wa = arg;
	zfetch_t *zf = wa->zf;
	unsigned self = wa->self;
	free(wa);
	pthread_mutex_lock(&zf->lock);
	for (;;) {
		while (!zf->stopping && zf->count == 0)
			pthread_cond_wait(&zf->cv, &zf->lock);
		if (zf->stopping)
			break;
		struct work w = zf->queue[zf->head];
		zf->head = (zf->head + 1) % ZFETCH_QUEUE;
		zf->count--;
		if (passed(zf, &w))
			continue;
		zf->busy_os[self] = w.os;
		pthread_mutex_unlock(&zf->lock);

		/* A reader like any other: the overlays it looks through change
		 * (and a sync frees them) only under the exclusive lock. */
		dnode_t dn;
		spa_enter_read(w.os->spa);
		if (dnode_hold(w.os, w.object, &dn) == 0) {
			arc_buf_t *b;
			if (w.blkid <= dn.maxblkid && dbuf_hold(&dn, 0, w.blkid, &b) == 0)
				dbuf_rele(&dn, b);
			dnode_rele(&dn);
		}
		spa_exit(w.os->spa);

		pthread_mutex_lock(&zf->lock);
		zf->busy_os[self] = NULL;
		pthread_cond_broadcast(&zf->idle_cv);
	}
	pthread_mutex_unlock(&zf->lock);
	return NULL;
}

zfetch_t *zfetch_create(unsigned workers, uint64_t window_bytes)
{
	zfetch_t *zf = calloc(1, sizeof(*zf));
	if (!zf)
		return NULL;
	pthread_mutex_init(&zf->lock, NULL);
	pthread_cond_init(&zf->cv, NULL);
	pthread_cond_init(&zf->idle_cv, NULL);
	zf->nworkers = workers > ZFETCH_MAX_WORKERS ? ZFETCH_MAX_WORKERS : workers;
	zf->window = window_bytes;
	return zf;
}

void zfetch_destroy(zfetch_t *zf)
{
	if (!zf)
		return;
	pthread_mutex_lock(&zf->lock);
	zf->stopping = true;
	pthread_cond_broadcast(&zf->cv);
	unsigned n = zf->started;
	pthread_mutex_unlock(&zf->lock);
	for (unsigned i = 0; i < n; i++)
		pthread_join(zf->threads[i], NULL);
	pthread_cond_destroy(&zf->cv);
	pthread_cond_destroy(&zf->idle_cv);
	pthread_mutex_destroy(&zf->lock);
	free(zf);
}

/* Called with the lock held. */
static void start_workers(zfetch_t *zf)
{
	while (zf->started < zf->nworkers) {
		struct worker_arg *wa = malloc(sizeof(*wa));
		if (!wa)
			break;
		wa->zf = zf;
		wa->self = zf->started;
		if (pthread_create(&zf->threads[zf->started], NULL, worker, wa) != 0) {
			free(wa);
			break;
		}
		zf->started++;
	}
}

bool zfetch_note_read(zfetch_t *zf, objset_t *os, uint64_t object, uint64_t off, uint64_t len,
		      uint64_t bs, uint64_t maxblkid)
{
	if (!zf || zf->nworkers == 0 || bs == 0 || maxblkid == 0)
		return false;
	pthread_mutex_lock(&zf->lock);
	struct stream *s = NULL, *oldest = &zf->streams[0];
	for (int i = 0; i < ZFETCH_STREAMS; i++) {
		struct stream *c = &zf->streams[i];
		if (c->os == os && c->object == object) {
			s = c;
			break;
		}
		if (c->last_use < oldest->last_use)
			oldest = c;
	}
	uint64_t end = off + len;
	if (!s || s->next_off != off) {
		/* New or non-sequential: remember it, prefetch nothing yet. */
		if (!s) {
			s = oldest;
			s->os = os;
			s->object = object;
		}
		s->next_off = end;
		s->queued_to = end / bs + 1;
		s->last_use = ++zf->clock;
		pthread_mutex_unlock(&zf->lock);
		return false;
	}
	s->next_off = end;
	s->last_use = ++zf->clock;
	uint64_t first = end / bs + (end % bs ? 1 : 0);
	uint64_t nblocks = zf->window / bs ? zf->window / bs : 1;
	uint64_t last = first + nblocks;
	if (last > maxblkid + 1)
		last = maxblkid + 1;
	if (s->queued_to < first)
		s->queued_to = first;
	bool queued = false;
	while (s->queued_to < last && zf->count < ZFETCH_QUEUE) {
		struct work *w = &zf->queue[(zf->head + zf->count) % ZFETCH_QUEUE];
		w->os = os;
		w->object = object;
		w->blkid = s->queued_to++;
		w->end = (w->blkid + 1) * bs;
		zf->count++;
		queued = true;
	}
	if (queued) {
		start_workers(zf);
		pthread_cond_broadcast(&zf->cv);
	}
	pthread_mutex_unlock(&zf->lock);
	return true;
}

void zfetch_forget_objset(zfetch_t *zf, objset_t *os)
{
	if (!zf)
		return;
	pthread_mutex_lock(&zf->lock);
	size_t kept = 0;
	for (size_t i = 0; i < zf->count; i++) {
		struct work w = zf->queue[(zf->head + i) % ZFETCH_QUEUE];
		if (w.os != os)
			zf->queue[(zf->head + kept++) % ZFETCH_QUEUE] = w;
	}
	zf->count = kept;
	for (int i = 0; i < ZFETCH_STREAMS; i++)
		if (zf->streams[i].os == os)
			memset(&zf->streams[i], 0, sizeof(zf->streams[i]));
	for (;;) {
		bool busy = false;
		for (unsigned i = 0; i < zf->started; i++)
			busy |= zf->busy_os[i] == os;
		if (!busy)
			break;
		pthread_cond_wait(&zf->idle_cv, &zf->lock);
	}
	pthread_mutex_unlock(&zf->lock);
}
