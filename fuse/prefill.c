/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * prefill.c — storing read records into the kernel's page cache (see
 * prefill.h for why and for the rules that keep it coherent).
 *
 * Owns a session's store queue, its thread, and the per-object state the
 * rules need: how many handles write the object, whether a store of it is
 * in flight, and the opens parked behind that store. One mutex guards it
 * all; the thread holds it only between the steps of a store, never while
 * reading the record or writing it to the kernel.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mounttree.h"
#include "prefill.h"
#include "zfuse_ll.h"	/* the libfuse API version, then fuse_lowlevel.h */

#define QUEUE_CAP 64u		/* records waiting; more are dropped */
#define INLINE_MAX 8u	/* stores made by worker threads at once, at most */
#define INFLIGHT_MAX (INLINE_MAX + 1)
#define OBJ_BUCKETS 256u
#define MAX_RECORD (1u << 20)	/* larger records: the part around the read */
/* Reads from 32 KiB up are the kernel's readahead (or a reader's own
 * large ones): nothing to add, and a sequential stream is not to be
 * slowed by a look at each of its requests. */
#define MAX_TRIGGER (32u << 10)

struct parked {
	void (*resume)(void *arg);
	void *arg;
	struct parked *next;
};

/* An object with writers, a store in flight, or both. */
struct obj_state {
	struct zf_fs *fs;
	uint64_t obj;
	uint32_t writers;
	uint32_t storing;	/* stores in flight */
	struct parked *parked;
	struct obj_state *next;
};

struct job {
	uint64_t ino, obj, off, len;
	struct zf_fs *fs;
};

struct record_key {
	struct zf_fs *fs;
	uint64_t obj, start;	/* a record being stored */
};

struct zf_prefill {
	struct fuse_session *se;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work;	/* a job queued, or stop */
	pthread_cond_t stored;	/* a store ended (zf_prefill_writer_open_wait) */
	bool stop;
	unsigned inline_cap;	/* stores a worker thread may make itself, at once */
	unsigned inline_now;
	bool off;		/* out of memory for an object's state: no more stores */
	uint64_t gen;		/* zf_prefill_changed() calls so far */
	uint64_t max_file;	/* larger files are left to the kernel's readahead */
	struct job q[QUEUE_CAP];
	unsigned qhead, qlen;
	struct record_key inflight[INFLIGHT_MAX];
	struct obj_state *objs[OBJ_BUCKETS];
};

static unsigned bucket_of(const struct zf_fs *fs, uint64_t obj)
{
	uint64_t h = (obj ^ (uint64_t)(uintptr_t)fs) * 0x9e3779b97f4a7c15ULL;
	return (unsigned)(h >> 56) % OBJ_BUCKETS;
}

/* The state of (fs, obj), made when create (mu held); NULL when absent or
 * out of memory. */
static struct obj_state *obj_find(struct zf_prefill *pf, struct zf_fs *fs, uint64_t obj,
				  bool create)
{
	struct obj_state **b = &pf->objs[bucket_of(fs, obj)];
	for (struct obj_state *o = *b; o; o = o->next)
		if (o->fs == fs && o->obj == obj)
			return o;
	if (!create)
		return NULL;
	struct obj_state *o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->fs = fs;
	o->obj = obj;
	o->next = *b;
	*b = o;
	return o;
}

/* Forget o when nothing is left to know about it (mu held). */
static void obj_put(struct zf_prefill *pf, struct obj_state *o)
{
	if (o->writers || o->storing || o->parked)
		return;
	struct obj_state **p = &pf->objs[bucket_of(o->fs, o->obj)];
	while (*p != o)
		p = &(*p)->next;
	*p = o->next;
	free(o);
}

/* Take the record at start for storing, unless another thread is storing
 * it (readers of one record often miss together); mu held. */
static struct record_key *record_take(struct zf_prefill *pf, struct zf_fs *fs, uint64_t obj,
				      uint64_t start)
{
	struct record_key *free_slot = NULL;
	for (unsigned i = 0; i < INFLIGHT_MAX; i++) {
		struct record_key *r = &pf->inflight[i];
		if (r->fs == fs && r->obj == obj && r->start == start)
			return NULL;
		if (!r->fs && !free_slot)
			free_slot = r;
	}
	if (free_slot)
		*free_slot = (struct record_key){ fs, obj, start };
	return free_slot;
}

/* Is a read of the same page queued already (mu held)? */
static bool queued(const struct zf_prefill *pf, struct zf_fs *fs, uint64_t obj, uint64_t off)
{
	for (unsigned i = 0; i < pf->qlen; i++) {
		const struct job *j = &pf->q[(pf->qhead + i) % QUEUE_CAP];
		if (j->fs == fs && j->obj == obj && j->off >> 12 == off >> 12)
			return true;
	}
	return false;
}

/*
 * The record around [off, off + len) of the object, clipped to the file
 * and to MAX_RECORD around the read; false when there is nothing to add
 * (the read covered it, or the file is not one to prefill).
 */
static bool record_of(const struct zf_prefill *pf, zfuse_fs_t *zfs, uint64_t obj, uint64_t off,
		      uint64_t len, uint64_t *start, uint64_t *size)
{
	struct stat st;
	if (zfuse_getattr(zfs, obj, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > pf->max_file)
		return false;
	uint64_t bs = (uint64_t)st.st_blksize;
	if (bs > MAX_RECORD)
		bs = MAX_RECORD;
	if (bs <= len || bs < 8192 || (bs & (bs - 1)))
		return false;
	uint64_t s = off & ~(bs - 1), e = s + bs;
	if (e > (uint64_t)st.st_size)
		e = (uint64_t)st.st_size;
	if (s >= e || (off <= s && off + len >= e))
		return false;
	*start = s;
	*size = e - s;
	return true;
}

static void store(struct zf_prefill *pf, const struct job *j)
{
	pthread_mutex_lock(&pf->mu);
	struct obj_state *o = obj_find(pf, j->fs, j->obj, true);
	/* A parked open or size change counts as a writer already: new
	 * stores would keep it waiting for as long as reads go on. */
	if (!o || pf->off || o->writers || o->parked || atomic_load(&j->fs->dead)) {
		if (o)
			obj_put(pf, o);
		pthread_mutex_unlock(&pf->mu);
		return;
	}
	o->storing++;
	uint64_t gen = pf->gen;
	pthread_mutex_unlock(&pf->mu);

	uint64_t start = 0, size = 0;
	bool stored = false;
	struct record_key *taken = NULL;
	char *buf = NULL;
	if (record_of(pf, j->fs->zfs, j->obj, j->off, j->len, &start, &size)) {
		pthread_mutex_lock(&pf->mu);
		taken = record_take(pf, j->fs, j->obj, start);
		pthread_mutex_unlock(&pf->mu);
	}
	if (taken && (buf = malloc(size)) != NULL) {
		uint64_t got = 0;
		while (got < size) {
			/* (the record goes to the page cache) */
			ssize_t r = zfuse_read_flags(j->fs->zfs, j->obj, buf + got, size - got,
						     start + got, ZFUSE_READ_CACHED);
			if (r <= 0)
				break;
			got += (uint64_t)r;
		}
		if (got) {
			struct fuse_bufvec bv = FUSE_BUFVEC_INIT(got);
			bv.buf[0].mem = buf;
			stored = fuse_lowlevel_notify_store(pf->se, j->ino, (off_t)start, &bv, 0) == 0;
			size = got;
		}
	}
	free(buf);

	pthread_mutex_lock(&pf->mu);
	if (taken)
		taken->fs = NULL;
	bool overlapped = pf->gen != gen;
	struct parked *resume = NULL;
	if (--o->storing == 0) {
		resume = o->parked;
		o->parked = NULL;
	}
	for (struct parked *p = resume; p; p = p->next)
		o->writers++;
	obj_put(pf, o);
	pthread_cond_broadcast(&pf->stored);
	pthread_mutex_unlock(&pf->mu);

	/* A rollback may have come between the read and the store (size
	 * changes wait for stores, rollbacks do not): drop what was stored
	 * and the size the store may have raised, so the kernel asks again. */
	if (stored && overlapped)
		fuse_lowlevel_notify_inval_inode(pf->se, j->ino, (off_t)start, (off_t)size);
	while (resume) {
		struct parked *p = resume;
		resume = p->next;
		p->resume(p->arg);
		free(p);
	}
}

static void *prefill_thread(void *arg)
{
	struct zf_prefill *pf = arg;
	pthread_mutex_lock(&pf->mu);
	for (;;) {
		while (!pf->stop && pf->qlen == 0)
			pthread_cond_wait(&pf->work, &pf->mu);
		if (pf->stop)
			break;
		struct job j = pf->q[pf->qhead];
		pf->qhead = (pf->qhead + 1) % QUEUE_CAP;
		pf->qlen--;
		pthread_mutex_unlock(&pf->mu);
		store(pf, &j);
		pthread_mutex_lock(&pf->mu);
	}
	pthread_mutex_unlock(&pf->mu);
	return NULL;
}

struct zf_prefill *zf_prefill_new(struct fuse_session *se, unsigned max_threads)
{
	struct zf_prefill *pf = calloc(1, sizeof(*pf));
	if (!pf)
		return NULL;
	pf->se = se;
	/* A store can wait for pages locked for reads that other workers
	 * must answer: at most half of them may be storing (the queue takes
	 * the rest). Storing in the worker that answered the read keeps
	 * pace with the readers, which one thread of its own cannot. */
	pf->inline_cap = (max_threads ? max_threads : 10) / 2;
	if (pf->inline_cap)
		pf->inline_cap--;
	if (pf->inline_cap > INLINE_MAX)
		pf->inline_cap = INLINE_MAX;
	/* Files that fit an eighth of the memory: the page cache keeps what
	 * is stored for them, where for a larger file read at random most
	 * of a record would be copied in only to be evicted. */
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	pf->max_file = pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize / 8 : 1ULL << 30;
	pthread_mutex_init(&pf->mu, NULL);
	pthread_cond_init(&pf->work, NULL);
	pthread_cond_init(&pf->stored, NULL);
	if (pthread_create(&pf->thread, NULL, prefill_thread, pf) != 0) {
		pthread_cond_destroy(&pf->stored);
		pthread_cond_destroy(&pf->work);
		pthread_mutex_destroy(&pf->mu);
		free(pf);
		return NULL;
	}
	return pf;
}

void zf_prefill_free(struct zf_prefill *pf)
{
	if (!pf)
		return;
	pthread_mutex_lock(&pf->mu);
	pf->stop = true;
	pthread_cond_signal(&pf->work);
	pthread_mutex_unlock(&pf->mu);
	pthread_join(pf->thread, NULL);
	for (unsigned b = 0; b < OBJ_BUCKETS; b++) {
		while (pf->objs[b]) {
			struct obj_state *o = pf->objs[b];
			pf->objs[b] = o->next;
			while (o->parked) {
				struct parked *p = o->parked;
				o->parked = p->next;
				free(p->arg);
				free(p);
			}
			free(o);
		}
	}
	pthread_cond_destroy(&pf->stored);
	pthread_cond_destroy(&pf->work);
	pthread_mutex_destroy(&pf->mu);
	free(pf);
}

void zf_prefill_after_read(struct zf_prefill *pf, uint64_t ino, struct zf_fs *fs, uint64_t obj,
			   uint64_t off, uint64_t len)
{
	if (!pf || fs->snapshot || len >= MAX_TRIGGER)
		return;
	struct job j = { .ino = ino, .obj = obj, .off = off, .len = len, .fs = fs };
	pthread_mutex_lock(&pf->mu);
	const struct obj_state *o = obj_find(pf, fs, obj, false);
	if (pf->off || (o && (o->writers || o->parked))) {
		pthread_mutex_unlock(&pf->mu);
		return;
	}
	if (pf->inline_now < pf->inline_cap) {
		pf->inline_now++;
		pthread_mutex_unlock(&pf->mu);
		store(pf, &j);
		pthread_mutex_lock(&pf->mu);
		pf->inline_now--;
	} else if (pf->qlen < QUEUE_CAP && !queued(pf, fs, obj, off)) {
		pf->q[(pf->qhead + pf->qlen) % QUEUE_CAP] = j;
		pf->qlen++;
		pthread_cond_signal(&pf->work);
	}
	pthread_mutex_unlock(&pf->mu);
}

/* A writer could not be counted: store nothing more, and wait for the
 * stores in flight to end (mu held). */
static void stop_storing(struct zf_prefill *pf)
{
	pf->off = true;
	for (;;) {
		bool busy = false;
		for (unsigned b = 0; b < OBJ_BUCKETS && !busy; b++)
			for (const struct obj_state *o = pf->objs[b]; o && !busy; o = o->next)
				busy = o->storing;
		if (!busy)
			return;
		pthread_cond_wait(&pf->stored, &pf->mu);
	}
}

bool zf_prefill_writer_open(struct zf_prefill *pf, struct zf_fs *fs, uint64_t obj,
			    void (*resume)(void *arg), void *arg)
{
	if (!pf)
		return true;
	struct parked *p = malloc(sizeof(*p));
	pthread_mutex_lock(&pf->mu);
	struct obj_state *o = obj_find(pf, fs, obj, true);
	bool now = true;
	if (o && o->storing && p) {
		*p = (struct parked){ resume, arg, o->parked };
		o->parked = p;
		p = NULL;
		now = false;
	} else if (o) {
		/* Out of memory for the parking: wait here, as the lesser ill
		 * (counted first, so that no new store starts meanwhile). */
		o->writers++;
		while (o->storing)
			pthread_cond_wait(&pf->stored, &pf->mu);
	} else {
		stop_storing(pf);
	}
	pthread_mutex_unlock(&pf->mu);
	free(p);
	return now;
}

void zf_prefill_writer_open_wait(struct zf_prefill *pf, struct zf_fs *fs, uint64_t obj)
{
	if (!pf)
		return;
	pthread_mutex_lock(&pf->mu);
	struct obj_state *o = obj_find(pf, fs, obj, true);
	if (o) {
		o->writers++;	/* first: no new store starts meanwhile */
		while (o->storing)
			pthread_cond_wait(&pf->stored, &pf->mu);
	} else {
		stop_storing(pf);
	}
	pthread_mutex_unlock(&pf->mu);
}

void zf_prefill_writer_close(struct zf_prefill *pf, struct zf_fs *fs, uint64_t obj)
{
	if (!pf)
		return;
	pthread_mutex_lock(&pf->mu);
	struct obj_state *o = obj_find(pf, fs, obj, false);
	if (o && o->writers) {
		o->writers--;
		obj_put(pf, o);
	}
	pthread_mutex_unlock(&pf->mu);
}

void zf_prefill_changed(struct zf_prefill *pf)
{
	if (!pf)
		return;
	pthread_mutex_lock(&pf->mu);
	pf->gen++;
	pthread_mutex_unlock(&pf->mu);
}
