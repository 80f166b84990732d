/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zil_log.c — the intent log writer (zil.md §8): records queued per txg,
 * commits that write them into a chain of log blocks and flush, and the
 * txg sync's part that frees blocks whose records are in the tree.
 *
 * Records are built inside the transaction that makes the change (pool
 * lock exclusive), so their order is the changes' order; a commit writes
 * every queued record of a txg that has not synced (zil.md §8.2) but the
 * data writes of files other than the one fsync'ed, as OpenZFS keeps
 * those on its async lists: fsync of a directory or of a small file does
 * not copy or write what other files wrote (take_records). A write's record holds no data until a commit places it
 * (WR_NEED_COPY, zil.md §8.6): the commit reads the file's data then, under
 * the pool lock shared (zl->get_data, the ZPL's zfs_get_data), so a write
 * that no fsync asks for costs a record header and no copy. Big writes
 * (and logbias=throughput) are indirect: the commit writes the file's
 * blocks as blocks of their txg (dmu_sync.h) and the records name them,
 * so the data is written once; the txg's sync adopts them.
 *
 * The chain is OpenZFS's: each block carries the bp of the next one,
 * allocated in the open txg before the block is written, so the chain
 * always ends in one allocated, never-written block; a crash leaves blocks
 * of unsynced txgs free in the space maps for the claim to take. The
 * header in the objset block is written only by the sync (zil_sync): it
 * points at the oldest block still needed. A new chain costs one txg sync
 * (the header must be on disk first); later commits do not wait for txgs.
 * A txg's uberblock waits until every log block pointing at a block
 * allocated in it is written (the holds), so no synced allocation is out
 * of its chain's reach. Snapshots, the last close and a rollback destroy
 * the chain after syncing what it holds (zil_suspend): no snapshot carries
 * a live log. Writes are split to fill blocks; the chain holds at
 * most half the slop space, so a claimed log always leaves room for its
 * replay (past it, and on a nearly full pool, commits wait for a txg).
 * An encrypted dataset's blocks get salt and IV when allocated and are
 * sealed (zio_crypt_zil_seal) before their checksum, as OpenZFS's are;
 * without its key a dataset is not written, so it logs nothing.
 *
 * Commits group (zil_commit_impl): the first fsync that finds no commit
 * writing writes every queued record, the others' too, and the others
 * wait on zl->cv until theirs are durable. A commit writes its blocks
 * (allocating each successor under the pool lock, never holding it for
 * device I/O), releases the chain to the next commit and only then
 * flushes, so one commit's flush and the next one's writes overlap;
 * commits are done (blocks marked written, records durable) in the order
 * they wrote, since a block counts only when every block before it does.
 *
 * Locks: pool lock > zl->mu (a leaf: the record queue, the block list and
 * the commit tickets); commit_mu serialises the commits' write phases and
 * is never taken with the pool lock held, so a commit may take the pool
 * lock (to allocate) and wait for a txg sync. Suspending the log (commit_mu
 * held) waits for the flushes in flight.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "byteorder.h"
#include "dsl.h"
#include "dsl_crypt.h"
#include "dmu_sync.h"
#include "dmu_tx.h"
#include "dmu_types.h"
#include "metaslab.h"
#include "metaslab_class.h"
#include "spa_impl.h"
#include "spa_lock.h"
#include "spa_misc.h"
#include "taskq.h"
#include "txg.h"
#include "vdev.h"
#include "zfeature.h"
#include "zfeature_write.h"
#include "zil.h"
#include "zil_log.h"
#include "zio_checksum.h"
#include "zio_compress.h"
#include "zio_buf.h"
#include "zio_crypt.h"
#include "zio_write.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define ZIL_CHAIN_SIZE 184
#define ZEC_MAGIC 0x0210da7ab10c7a11ULL
#define ZIL_MIN_BLKSZ 4096ULL
#define ZIL_MAX_BLKSZ (128ULL << 10)
#define ZIL_MIN_SPLIT 4096ULL	/* smallest part of a split write */
#define ZIL_TXG_INSTEAD (32ULL << 20)	/* a commit of more records: a txg sync */
#define ZIL_IMMEDIATE_WRITE_SZ 32768ULL	/* smaller writes are copied into the log */
#define SPA_VERSION_ZILOG2 23

struct itx {
	struct itx *next;
	uint64_t txg;
	size_t len;	/* of rec: a TX_WRITE's is its header, the data comes at commit */
	uint64_t gen;	/* TX_WRITE: the file's generation (a reused number is not it) */
	uint64_t wdone;	/* TX_WRITE: data bytes already placed in earlier blocks */
	bool indirect;	/* TX_WRITE: its blocks are written and named (WR_INDIRECT) */
	bool complete;	/* TX_WRITE: rec is the whole record (an indirect one) */
	uint64_t size;	/* TX_WRITE: the file's size right after the write */
	uint64_t moves[2];	/* a rename: the objects it moves (their writes go first) */
	bool sync;	/* a write or truncate every commit takes (an xattr file's) */
	uint8_t rec[];
};

/* A write record whose data the commit still has to place. */
static bool itx_is_write(const struct itx *it)
{
	return (le64(it->rec) & ~TX_CI) == TX_WRITE && !it->complete;
}

/* Bytes the rest of it takes in a block. */
static uint64_t itx_rest(const struct itx *it)
{
	if (!itx_is_write(it))
		return it->len;
	uint64_t left = le64(it->rec + 48) - it->wdone;
	return LR_WRITE_SIZE + ((left + 7) & ~7ULL);
}

struct lwb {
	blkptr_t bp;
	uint64_t alloc_txg;	/* open txg when it was allocated */
	uint64_t max_txg;	/* newest record txg in it */
	bool written;		/* written and flushed */
};

struct zilog {
	spa_t *spa;
	objset_t *os;
	zil_get_data_fn get_data;
	void *get_data_arg;
	pthread_mutex_t mu, commit_mu;
	pthread_cond_t cv;		/* with mu: a commit wrote or finished */
	struct itx *head, *tail;	/* queued, not yet committed */
	/* How many queued records are deferrable (itx_deferrable): while
	 * none are, a freed object has none to drop, and freeing a file
	 * does not walk the queue, which holds every record of the open
	 * txgs (removing 40000 files spent 30% of all CPU samples walking
	 * it). */
	size_t ndeferrable;
	struct lwb *lwb;		/* the chain from the header's block to the tail */
	size_t nlwb, caplwb;
	uint64_t lr_seq;
	/* Commits' tickets: written, finished (in order). A record no longer
	 * queued was taken by a commit of ticket <= issued: when completed
	 * reaches that, it is on disk (group commit). */
	uint64_t issued, completed;
	uint64_t gen;			/* a new chain (destroy, rollback) */
	bool issuing;			/* a commit is writing blocks */
	uint64_t unlogged_txg;	/* newest txg with changes no record describes */
	uint64_t predict;	/* size of the next block */
	uint64_t lwb_bytes;	/* allocated by the chain (at most half the slop) */
	bool active;		/* the chain is ours and its header is on disk */
	bool failed;		/* a log write failed: commits wait for txgs */
	bool saxattr_want;	/* activate zilsaxattr in the next sync (zil_create) */
	bool saxattr;		/* zilsaxattr is active: SA xattrs are logged */
	bool saxattr_drop;	/* the chain was destroyed: deactivate it */
	bool destroy;		/* the next sync destroys the chain (zil_destroy) */
	bool tx_logged, tx_nolog, tx_lost;	/* the running transaction (pool lock) */
};

/* The holds of spa->zil_holds (few pools, rare waits: one lock for all). */
static pthread_mutex_t holds_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t holds_cv = PTHREAD_COND_INITIALIZER;

static void hold_txg(spa_t *spa, uint64_t txg)
{
	pthread_mutex_lock(&holds_mu);
	spa->zil_holds[txg & 3]++;
	pthread_mutex_unlock(&holds_mu);
}

static void rele_txg(spa_t *spa, uint64_t txg)
{
	pthread_mutex_lock(&holds_mu);
	spa->zil_holds[txg & 3]--;
	pthread_cond_broadcast(&holds_cv);
	pthread_mutex_unlock(&holds_mu);
}

void zil_wait_holds(spa_t *spa, uint64_t txg)
{
	SPA_ASSERT_NOT_HELD(spa);
	pthread_mutex_lock(&holds_mu);
	while (spa->zil_holds[txg & 3])
		pthread_cond_wait(&holds_cv, &holds_mu);
	pthread_mutex_unlock(&holds_mu);
}

static inline void setbits(uint64_t *w, unsigned lo, unsigned len, uint64_t v)
{
	uint64_t mask = (len == 64 ? ~0ULL : ((1ULL << len) - 1)) << lo;
	*w = (*w & ~mask) | ((v << lo) & mask);
}

/* ---- open / close ----------------------------------------------------------- */

void zil_open(spa_t *spa, objset_t *os, zil_get_data_fn get_data, void *arg)
{
	if (!spa->tunables.zil)
		return;
	spa_enter_write(spa);
	bool ok = spa->writable && spa->version >= SPA_VERSION_ZILOG2 && os->zilog == NULL;
	if (ok && !os->key) {
		dsl_dataset_phys_t ds;
		uint64_t keyobj;
		if (dsl_dataset_read(spa, os->dsobj, &ds) != 0 ||
		    dsl_crypt_keyobj(spa, ds.dir_obj, &keyobj) != -ZFUSE_E_NOENT)
			ok = false;	/* encrypted without its key (or unknown): txg-sync fsync */
	}
	if (ok) {
		zilog_t *zl = calloc(1, sizeof(*zl));
		if (zl) {
			zl->spa = spa;
			zl->os = os;
			zl->get_data = get_data;
			zl->get_data_arg = arg;
			pthread_mutex_init(&zl->mu, NULL);
			pthread_mutex_init(&zl->commit_mu, NULL);
			pthread_cond_init(&zl->cv, NULL);
			zl->predict = ZIL_MIN_BLKSZ;
			os->zilog = zl;
		}
	}
	spa_exit(spa);
}

static void itx_free_list(struct itx *it)
{
	while (it) {
		struct itx *n = it->next;
		free(it);
		it = n;
	}
}

static void wait_flights(zilog_t *zl);
static bool zl_failed(zilog_t *zl);

/* With commit_mu held: sync every logged change's txg, then have the
 * next sync destroy the chain. */
static int suspend_locked(zilog_t *zl)
{
	spa_t *spa = zl->spa;
	wait_flights(zl);
	if (!zl->active)
		return 0;
	int rc = txg_sync_now(spa);
	if (rc)
		return rc;
	spa_enter_write(spa);
	if (spa->writable) {
		zl->destroy = true;
		zl->os->header_dirty = true;
	}
	spa_exit(spa);
	return 0;
}

struct zil_suspended {
	size_t n;
	zilog_t *v[];
};

struct zil_suspended *zil_suspend_all(spa_t *spa)
{
	spa_enter_read(spa);
	size_t n = 0;
	for (objset_t *os = spa->objsets; os; os = os->next)
		n += os->zilog != NULL;
	struct zil_suspended *s = calloc(1, sizeof(*s) + n * sizeof(zilog_t *));
	if (s)
		for (objset_t *os = spa->objsets; os && s->n < n; os = os->next)
			if (os->zilog)
				s->v[s->n++] = os->zilog;
	spa_exit(spa);
	for (size_t i = 0; s && i < s->n; i++) {
		pthread_mutex_lock(&s->v[i]->commit_mu);
		suspend_locked(s->v[i]);
	}
	return s;
}

void zil_resume_all(struct zil_suspended *s)
{
	for (size_t i = 0; s && i < s->n; i++)
		pthread_mutex_unlock(&s->v[i]->commit_mu);
	free(s);
}

void zil_close(spa_t *spa, objset_t *os)
{
	zilog_t *zl = os->zilog;
	if (!zl)
		return;
	pthread_mutex_lock(&zl->commit_mu);
	/* A closed dataset keeps no log (zil_close commits and OpenZFS then
	 * keeps the never-written tail; zfuse destroys the chain instead, so
	 * that snapshots taken offline carry no log header). */
	wait_flights(zl);
	if (zl->active && !zl_failed(zl) && suspend_locked(zl) == 0)
		txg_sync_now(spa);
	spa_enter_write(spa);
	os->zilog = NULL;
	spa_exit(spa);
	pthread_mutex_unlock(&zl->commit_mu);
	itx_free_list(zl->head);
	free(zl->lwb);
	pthread_mutex_destroy(&zl->mu);
	pthread_mutex_destroy(&zl->commit_mu);
	pthread_cond_destroy(&zl->cv);
	free(zl);
}

/* ---- transactions and records ------------------------------------------------------ */

void zil_tx_begin(objset_t *os)
{
	zilog_t *zl = os->zilog;
	if (zl)
		zl->tx_logged = zl->tx_nolog = zl->tx_lost = false;
}

void zil_tx_nolog(objset_t *os)
{
	if (os->zilog)
		os->zilog->tx_nolog = true;
}

void zil_tx_unlogged(objset_t *os)
{
	if (os->zilog)
		os->zilog->tx_lost = true;
}

static void tx_end(objset_t *os, uint64_t txg, bool changed)
{
	zilog_t *zl = os->zilog;
	if (!zl)
		return;
	if (changed && ((!zl->tx_logged && !zl->tx_nolog) || zl->tx_lost) &&
	    os->sync_prop != ZFS_SYNC_DISABLED) {
		pthread_mutex_lock(&zl->mu);
		if (txg > zl->unlogged_txg)
			zl->unlogged_txg = txg;
		pthread_mutex_unlock(&zl->mu);
	}
}

int zil_tx_commit(spa_t *spa, objset_t *os, dmu_tx_t *tx, int rc, bool replaying)
{
	tx_end(os, tx->txg, rc == 0);
	bool commit = rc == 0 && !replaying && os->sync_prop == ZFS_SYNC_ALWAYS;
	dmu_tx_commit(tx);
	if (commit) {
		int c = zil_commit(spa, os);
		if (c)
			rc = c;
	}
	return rc;
}

/* A new record of len bytes (a multiple of 8, zeroed) with its lr_t filled
 * in but for the sequence number, which the commit gives. NULL when the
 * dataset logs nothing (sync=disabled, no writer, no memory: then the
 * change counts as unlogged). */
static struct itx *itx_new(objset_t *os, uint64_t txg, uint64_t txtype, size_t len)
{
	zilog_t *zl = os->zilog;
	if (!zl || os->sync_prop == ZFS_SYNC_DISABLED)
		return NULL;
	len = (len + 7) & ~(size_t)7;
	struct itx *it = calloc(1, sizeof(*it) + len);
	if (!it)
		return NULL;
	it->txg = txg;
	it->len = len;
	put_le64(it->rec, txtype);
	put_le64(it->rec + 8, len);
	put_le64(it->rec + 16, txg);
	return it;
}

static bool itx_deferrable(const struct itx *it);

/* Unlink *pp, a queued record, from the queue (zl->mu held). */
static struct itx *itx_unlink(zilog_t *zl, struct itx **pp)
{
	struct itx *it = *pp;
	*pp = it->next;
	if (itx_deferrable(it))
		zl->ndeferrable--;
	return it;
}

static void itx_add(objset_t *os, struct itx *it)
{
	zilog_t *zl = os->zilog;
	zl->tx_logged = true;
	pthread_mutex_lock(&zl->mu);
	if (itx_deferrable(it))
		zl->ndeferrable++;
	if (zl->tail)
		zl->tail->next = it;
	else
		zl->head = it;
	zl->tail = it;
	pthread_mutex_unlock(&zl->mu);
}

/* A record the writer could not queue: the change waits for a txg sync. */
static void itx_lost(objset_t *os)
{
	zilog_t *zl = os->zilog;
	if (zl && os->sync_prop != ZFS_SYNC_DISABLED)
		zl->tx_lost = true;	/* zil_tx_end marks the txg unlogged */
}

void zfs_log_create(objset_t *os, uint64_t txg, uint64_t txtype, uint64_t dir, uint64_t obj,
		    unsigned slots, uint64_t mode, uint64_t uid, uint64_t gid, uint64_t gen,
		    const int64_t crtime[2], uint64_t rdev, const char *name, const char *target)
{
	size_t nl = strlen(name) + 1, tl = target ? strlen(target) + 1 : 0;
	struct itx *it = itx_new(os, txg, txtype, 104 + nl + tl);
	if (!it)
		return itx_lost(os);
	uint8_t *r = it->rec;
	put_le64(r + 32, dir);
	/* Symlinks carry no slot count (zfs_log_symlink). */
	uint64_t foid = obj;
	if (txtype != TX_SYMLINK && slots > 1)
		foid |= (uint64_t)(slots - 1) << 56;
	put_le64(r + 40, foid);
	put_le64(r + 48, mode);
	put_le64(r + 56, uid);
	put_le64(r + 64, gid);
	put_le64(r + 72, gen);
	put_le64(r + 80, (uint64_t)crtime[0]);
	put_le64(r + 88, (uint64_t)crtime[1]);
	put_le64(r + 96, rdev);
	memcpy(r + 104, name, nl);
	if (target)
		memcpy(r + 104 + nl, target, tl);
	itx_add(os, it);
}

void zfs_log_remove(objset_t *os, uint64_t txg, uint64_t txtype, uint64_t dir, const char *name)
{
	size_t nl = strlen(name) + 1;
	struct itx *it = itx_new(os, txg, txtype, 40 + nl);
	if (!it)
		return itx_lost(os);
	put_le64(it->rec + 32, dir);
	memcpy(it->rec + 40, name, nl);
	itx_add(os, it);
}

void zfs_log_link(objset_t *os, uint64_t txg, uint64_t dir, uint64_t obj, const char *name)
{
	size_t nl = strlen(name) + 1;
	struct itx *it = itx_new(os, txg, TX_LINK, 48 + nl);
	if (!it)
		return itx_lost(os);
	put_le64(it->rec + 32, dir);
	put_le64(it->rec + 40, obj);
	memcpy(it->rec + 48, name, nl);
	itx_add(os, it);
}

void zfs_log_rename(objset_t *os, uint64_t txg, uint64_t txtype, uint64_t sdir, const char *sname,
		    uint64_t tdir, const char *tname, uint64_t sobj, uint64_t tobj)
{
	size_t sl = strlen(sname) + 1, tl = strlen(tname) + 1;
	struct itx *it = itx_new(os, txg, txtype, 48 + sl + tl);
	if (!it)
		return itx_lost(os);
	it->moves[0] = sobj;
	it->moves[1] = tobj;
	put_le64(it->rec + 32, sdir);
	put_le64(it->rec + 40, tdir);
	memcpy(it->rec + 48, sname, sl);
	memcpy(it->rec + 48 + sl, tname, tl);
	itx_add(os, it);
}

void zfs_log_write(objset_t *os, uint64_t txg, uint64_t obj, uint64_t gen, uint64_t off,
		   uint64_t len, uint64_t size, bool sync)
{
	struct itx *it = itx_new(os, txg, TX_WRITE, LR_WRITE_SIZE);
	if (!it)
		return itx_lost(os);
	it->sync = sync;
	it->gen = gen;
	it->size = size;
	/* zfs_log_write's choice (no separate log devices here): big writes
	 * and logbias=throughput name blocks written at commit time. */
	it->indirect = os->logbias == ZFS_LOGBIAS_THROUGHPUT || len >= ZIL_IMMEDIATE_WRITE_SZ;
	put_le64(it->rec + 32, obj);
	put_le64(it->rec + 40, off);
	put_le64(it->rec + 48, len);
	itx_add(os, it);
}

void zfs_log_setsaxattr(objset_t *os, uint64_t txg, uint64_t obj, const char *name,
			const void *value, size_t size)
{
	size_t nl = strlen(name) + 1;
	struct itx *it = itx_new(os, txg, TX_SETSAXATTR, 48 + nl + (value ? size : 0));
	if (!it)
		return itx_lost(os);
	put_le64(it->rec + 32, obj);
	put_le64(it->rec + 40, value ? size : 0);
	memcpy(it->rec + 48, name, nl);
	if (value && size)
		memcpy(it->rec + 48 + nl, value, size);
	itx_add(os, it);
}

bool zil_log_saxattr(const objset_t *os)
{
	return os->zilog && os->zilog->saxattr;
}

bool zil_saxattr_wanted(const objset_t *os)
{
	return os->zilog && os->zilog->saxattr_want;
}

void zil_saxattr_activated(const objset_t *os)
{
	os->zilog->saxattr_want = false;
	os->zilog->saxattr = true;
}

bool zil_saxattr_dropped(const objset_t *os)
{
	if (!os->zilog || !os->zilog->saxattr_drop)
		return false;
	os->zilog->saxattr_drop = false;
	return true;
}

void zfs_log_truncate(objset_t *os, uint64_t txg, uint64_t obj, uint64_t off, uint64_t len,
		      bool sync)
{
	struct itx *it = itx_new(os, txg, TX_TRUNCATE, 56);
	if (!it)
		return itx_lost(os);
	it->sync = sync;
	put_le64(it->rec + 32, obj);
	put_le64(it->rec + 40, off);
	put_le64(it->rec + 48, len);
	itx_add(os, it);
}

void zfs_log_setattr(objset_t *os, uint64_t txg, uint64_t obj, uint64_t mask, uint64_t mode,
		     uint64_t uid, uint64_t gid, uint64_t size, const int64_t atime[2],
		     const int64_t mtime[2])
{
	struct itx *it = itx_new(os, txg, TX_SETATTR, 112);
	if (!it)
		return itx_lost(os);
	uint8_t *r = it->rec;
	put_le64(r + 32, obj);
	put_le64(r + 40, mask);
	put_le64(r + 48, mode);
	put_le64(r + 56, uid);
	put_le64(r + 64, gid);
	put_le64(r + 72, size);
	if (atime) {
		put_le64(r + 80, (uint64_t)atime[0]);
		put_le64(r + 88, (uint64_t)atime[1]);
	}
	if (mtime) {
		put_le64(r + 96, (uint64_t)mtime[0]);
		put_le64(r + 104, (uint64_t)mtime[1]);
	}
	itx_add(os, it);
}

/* ---- the chain ------------------------------------------------------------------- */

static int lwb_append(zilog_t *zl, const blkptr_t *bp, uint64_t txg)
{
	int rc = 0;
	pthread_mutex_lock(&zl->mu);
	if (zl->nlwb == zl->caplwb) {
		size_t nc = zl->caplwb ? zl->caplwb * 2 : 16;
		struct lwb *n = realloc(zl->lwb, nc * sizeof(*n));
		if (n) {
			zl->lwb = n;
			zl->caplwb = nc;
		} else {
			rc = -ZFUSE_E_NOMEM;
		}
	}
	if (rc == 0) {
		zl->lwb[zl->nlwb++] = (struct lwb){ .bp = *bp, .alloc_txg = txg };
		zl->lwb_bytes += bp_get_lsize(bp);
	}
	pthread_mutex_unlock(&zl->mu);
	return rc;
}

/* A log block of size bytes in the open txg, with verifier words w and
 * sequence seq (exclusive pool lock). */
static int lwb_alloc(zilog_t *zl, uint64_t size, const uint64_t w[3], uint64_t seq, blkptr_t *bp,
		     uint64_t *txg)
{
	spa_t *spa = zl->spa;
	if (!spa->writable)
		return SET_ERROR(-ZFUSE_E_IO);
	/* Log blocks are not charged to any dataset: keep them far from the
	 * slop space the txg's own allocations may need (the commit then
	 * waits for a txg sync instead, as OpenZFS does when the log cannot
	 * allocate). */
	uint64_t used = metaslab_class_alloc(spa) + metaslab_class_deferred(spa) +
			txg_dirty_bytes(spa) + size;
	if (used + 2 * spa_slop_space(spa) > metaslab_class_space(spa))
		return -ZFUSE_E_NOSPC;
	/* A claimed log must leave room for its replay: the chain holds at
	 * most half the slop; past it, commits wait for the txg that frees it. */
	if (zl->lwb_bytes + size > spa_slop_space(spa) / 2)
		return -ZFUSE_E_NOSPC;
	memset(bp, 0, sizeof(*bp));
	*txg = spa->open_txg;
	int rc = metaslab_alloc(spa, size, 1, *txg, bp);
	if (rc)
		return rc;
	setbits(&bp->blk_prop, 0, 16, (size >> 9) - 1);
	setbits(&bp->blk_prop, 16, 16, (size >> 9) - 1);
	setbits(&bp->blk_prop, 32, 7, ZIO_COMPRESS_OFF);
	setbits(&bp->blk_prop, 40, 8, ZIO_CHECKSUM_ZILOG2);
	setbits(&bp->blk_prop, 48, 8, DMU_OT_INTENT_LOG);
	setbits(&bp->blk_prop, 63, 1, 1);
	bp->blk_birth = *txg;
	bp->blk_cksum.zc_word[ZIL_ZC_GUID_0] = w[0];
	bp->blk_cksum.zc_word[ZIL_ZC_GUID_1] = w[1];
	bp->blk_cksum.zc_word[ZIL_ZC_OBJSET] = w[2];
	bp->blk_cksum.zc_word[ZIL_ZC_SEQ] = seq;
	/* zio_alloc_zil: an encrypted dataset's block gets its salt and IV
	 * now (the bp is stored before the block is written) */
	if (zl->os->key && (rc = zio_crypt_zil_params(zl->os->key, bp)) != 0)
		return rc;	/* the DVA is freed with the txg's failure */
	/* The log dirties its dataset: the next sync runs zil_sync. */
	zl->os->header_dirty = true;
	return 0;
}

/* zil_create: the chain's first block, and one txg sync to put the header
 * that names it on disk. */
static int chain_create(zilog_t *zl)
{
	spa_t *spa = zl->spa;
	objset_t *os = zl->os;
	spa_enter_write(spa);
	zil_header_t zh;
	zil_header_get(os, &zh);
	int rc = 0;
	if (zh.claim_txg || zh.replay_seq) {
		rc = SET_ERROR(-ZFUSE_E_BUSY);	/* a log still waiting for replay */
	} else if (!bp_is_hole(&zh.log) && bp_get_checksum(&zh.log) == ZIO_CHECKSUM_ZILOG2 &&
		   bp_is_little_endian(&zh.log)) {
		/* The never-written block a clean close (or a replay's reset)
		 * left: the chain goes on from it. */
		rc = lwb_append(zl, &zh.log, spa->open_txg);
		os->header_dirty = true;
	} else if (!bp_is_hole(&zh.log)) {
		rc = SET_ERROR(-ZFUSE_E_UNSUPPORTED);
	} else {
		uint64_t w[3] = { 0, 0, os->dsobj }, txg;
		while (getrandom(w, 2 * sizeof(uint64_t), 0) != 2 * sizeof(uint64_t))
			;
		blkptr_t bp;
		if ((rc = lwb_alloc(zl, ZIL_MIN_BLKSZ, w, 1, &bp, &txg)) == 0)
			rc = lwb_append(zl, &bp, txg);
	}
	if (rc == 0) {
		zl->active = true;
		/* zil_create: zilsaxattr goes active with the chain's header
		 * (in the sync waited for below), so SA xattrs may be logged. */
		zl->saxattr_want = os->type == DMU_OST_ZFS && spa_feature_is_enabled(spa, "zilsaxattr");
	}
	spa_exit(spa);
	if (rc == 0)
		rc = txg_sync_now(spa);
	return rc;
}

/* Per block written by a commit: its sequence, its newest record txg and
 * the txg its successor was allocated in (held until the block is flushed). */
struct done {
	uint64_t seq, max_txg, hold;
	bool ok;
};

/* One commit between the write of its blocks and their flush. */
struct flight {
	uint64_t ticket;	/* place among the commits' write phases (0: none) */
	uint64_t gen;		/* the chain it wrote on (zl->gen) */
	struct done *done;
	size_t ndone, capdone;
	vdev_t *tops[8];
	size_t ntops;
	int rc;			/* of the write phase */
	bool needs_txg;		/* no next block, unreadable data or too much of it: a txg sync */
	struct ind_done *ind;	/* blocks its indirect records name */
	size_t nind;
};

/* A block written for an indirect record: made ready for its txg's sync
 * once the commit's flush is done. */
struct ind_done {
	uint64_t object, blkid;
	blkptr_t bp;
};

static void flight_add_top(struct flight *f, vdev_t *top)
{
	size_t t;
	for (t = 0; t < f->ntops && f->tops[t] != top; t++)
		;
	if (t == f->ntops && f->ntops < 8)
		f->tops[f->ntops++] = top;
}

/* Place n bytes of a write's data (from wdone on) at dst as one record,
 * read from the file now (pool lock shared): a write is split to fill the
 * block, each part its own offset and length. -ZFUSE_E_NOENT: the file is
 * gone (another generation, or the offset past its end). */
static int place_write(zilog_t *zl, uint8_t *dst, struct itx *it, uint64_t n)
{
	uint64_t off = le64(it->rec + 40) + it->wdone;
	int rc = zl->get_data ? zl->get_data(zl->get_data_arg, le64(it->rec + 32), it->gen, off, n,
					     dst + LR_WRITE_SIZE)
			      : -ZFUSE_E_NOENT;
	if (rc) {
		memset(dst, 0, LR_WRITE_SIZE + ((n + 7) & ~7ULL));
		return rc;
	}
	memcpy(dst, it->rec, LR_WRITE_SIZE);
	put_le64(dst + 8, LR_WRITE_SIZE + ((n + 7) & ~7ULL));
	put_le64(dst + 40, off);
	put_le64(dst + 48, n);
	it->wdone += n;
	return 0;
}

/* Write the queued records (oldest first) into the chain: the write phase
 * of a commit (commit_mu held). The blocks are flushed by commit_finish,
 * after commit_mu is released, so the next commit writes meanwhile. */
static void chain_write(zilog_t *zl, struct itx *it, struct flight *f)
{
	spa_t *spa = zl->spa;
	uint64_t total = 0;
	int rc = 0;
	while (it && rc == 0) {
		pthread_mutex_lock(&zl->mu);
		bool gone = zl->nlwb == 0;	/* a rollback dropped the chain */
		struct lwb cur;
		if (!gone)
			cur = zl->lwb[zl->nlwb - 1];
		pthread_mutex_unlock(&zl->mu);
		if (gone) {
			rc = SET_ERROR(-ZFUSE_E_IO);
			break;
		}
		if (f->ndone == f->capdone) {
			size_t nc = f->capdone ? f->capdone * 2 : 8;
			struct done *nd = realloc(f->done, nc * sizeof(*nd));
			if (!nd) {
				rc = -ZFUSE_E_NOMEM;
				break;
			}
			f->done = nd;
			f->capdone = nc;
		}
		uint64_t size = bp_get_lsize(&cur.bp);
		uint8_t *buf = calloc(1, size);
		if (!buf) {
			rc = -ZFUSE_E_NOMEM;
			break;
		}
		uint64_t off = ZIL_CHAIN_SIZE, max_txg = 0;
		int grc = 0;
		spa_enter_read(spa);	/* the writes' data is read as it is placed */
		while (it) {
			uint64_t rest = itx_rest(it);
			bool whole = off + rest <= size;
			bool write = itx_is_write(it);
			if (!whole && !(write && size - off >= LR_WRITE_SIZE + ZIL_MIN_SPLIT))
				break;
			if (write) {
				uint64_t left = le64(it->rec + 48) - it->wdone;
				uint64_t n = whole ? left : (size - off - LR_WRITE_SIZE) & ~7ULL;
				grc = place_write(zl, buf + off, it, n);
				if (grc == -ZFUSE_E_NOENT) {
					/* The file is gone: its record is dropped,
					 * as zil_lwb_commit drops it. */
					grc = 0;
					it = it->next;
					continue;
				}
				if (grc)
					break;
				put_le64(buf + off + 24, ++zl->lr_seq);
				off += LR_WRITE_SIZE + ((n + 7) & ~7ULL);
			} else {
				memcpy(buf + off, it->rec, it->len);
				put_le64(buf + off + 24, ++zl->lr_seq);
				off += it->len;
			}
			if (it->txg > max_txg)
				max_txg = it->txg;
			if (!whole)
				break;
			it = it->next;
		}
		spa_exit(spa);
		if (grc || (off == ZIL_CHAIN_SIZE && !it)) {
			/* Nothing to write (every record dropped), or a write's
			 * data could not be read: the chain still ends in cur,
			 * unwritten, and the rest waits for a txg sync. */
			free(buf);
			f->needs_txg = grc != 0;
			break;
		}
		/* The next block: big enough for what is left (up to the
		 * maximum), else as big as this commit was. */
		total = 0;
		for (struct itx *p = it; p && total < ZIL_MAX_BLKSZ; p = p->next)
			total += itx_rest(p);
		uint64_t want = it ? total + ZIL_CHAIN_SIZE : zl->predict;
		want = (want + ZIL_MIN_BLKSZ - 1) & ~(ZIL_MIN_BLKSZ - 1);
		if (want > ZIL_MAX_BLKSZ)
			want = ZIL_MAX_BLKSZ;
		const uint64_t *cw = cur.bp.blk_cksum.zc_word;
		blkptr_t next;
		uint64_t txg;
		spa_enter_write(spa);
		int arc = lwb_alloc(zl, want, cw, cw[ZIL_ZC_SEQ] + 1, &next, &txg);
		if (arc == 0)
			hold_txg(spa, txg);
		spa_exit(spa);
		if (arc) {
			/* No next block: the chain ends in cur, unwritten, and
			 * stays whole; what is left waits for a txg sync. */
			free(buf);
			f->needs_txg = true;
			break;
		}
		f->done[f->ndone++] = (struct done){ cw[ZIL_ZC_SEQ], max_txg, txg, false };
		if ((rc = lwb_append(zl, &next, txg)) != 0) {
			free(buf);
			break;
		}
		bp_store(buf + 8, &next);
		put_le64(buf + 136, off);
		put_le64(buf + 144, ZEC_MAGIC);
		if (zl->os->key) {
			uint8_t *sealed = zio_data_buf_alloc(size);
			rc = sealed ? zio_crypt_zil_seal(zl->os->key, &cur.bp, buf, sealed, size)
				    : -ZFUSE_E_NOMEM;
			explicit_bzero(buf, size);
			free(buf);
			buf = sealed;
			if (rc) {
				zio_data_buf_free(buf, size);
				break;
			}
		}
		zio_cksum_t ck, mac;
		memcpy(&mac, buf + 152, sizeof(mac));
		memcpy(buf + 152, &cur.bp.blk_cksum, sizeof(zio_cksum_t));
		uint64_t clen = (off + ZIL_MIN_BLKSZ - 1) & ~(ZIL_MIN_BLKSZ - 1);
		zio_checksum_compute(ZIO_CHECKSUM_FLETCHER_4, buf, clen, NULL, &ck);
		if (zl->os->key) {
			/* zio_checksum_handle_crypt: the MAC keeps words 2-3 */
			ck.zc_word[0] ^= ck.zc_word[2];
			ck.zc_word[1] ^= ck.zc_word[3];
			ck.zc_word[2] = mac.zc_word[2];
			ck.zc_word[3] = mac.zc_word[3];
		}
		memcpy(buf + 152, &ck, sizeof(ck));
		vdev_t *top = spa_lookup_top(spa, dva_vdev(&cur.bp.blk_dva[0]));
		rc = top ? vdev_write(top, dva_offset(&cur.bp.blk_dva[0]), buf, size)
			 : SET_ERROR(-ZFUSE_E_IO);
		if (zl->os->key)
			zio_data_buf_free(buf, size);
		else
			free(buf);
		if (rc)
			break;
		f->done[f->ndone - 1].ok = true;
		flight_add_top(f, top);
	}
	f->rc = rc;
}

/* ---- indirect writes ----------------------------------------------------------------- */

/* One block of an indirect write: the record that names it (a header
 * until its block is assigned) and the block's copy being written. */
struct ind_part {
	struct itx *it;
	uint64_t blkid;
	struct dmu_sync_block b;
};

struct ind_batch {
	spa_t *spa;
	struct ind_part *v;
	size_t n, cap;
};

static void ind_prepare_job(void *arg, uint64_t i)
{
	struct ind_batch *ib = arg;
	dmu_sync_prepare(ib->spa, &ib->v[i].b);
}

/* Replace write record it (still in the list at *pp) by one record per
 * file block it touches, each a candidate for an indirect record; returns
 * where the list goes on. On failure it stays, as a copied write. */
static struct itx **ind_split(zilog_t *zl, struct itx **pp, struct ind_batch *ib)
{
	struct itx *it = *pp;
	uint64_t obj = le64(it->rec + 32), off = le64(it->rec + 40), len = le64(it->rec + 48);
	it->indirect = false;
	/* Gone (another generation, past the end): placing it as a copy
	 * drops it. */
	if (!zl->get_data || zl->get_data(zl->get_data_arg, obj, it->gen, off, 0, NULL) != 0)
		return &it->next;
	dnode_t dn;
	if (dnode_hold(zl->os, obj, &dn) != 0)
		return &it->next;
	uint64_t bs = dnode_datablksz(&dn);
	dnode_rele(&dn);
	struct itx *head = NULL, **tp = &head;
	size_t first = ib->n;
	for (uint64_t o = off, end = off + len; o < end;) {
		uint64_t bend = (o / bs + 1) * bs, plen = (bend < end ? bend : end) - o;
		struct itx *p = calloc(1, sizeof(*p) + LR_WRITE_SIZE);
		if (p && ib->n == ib->cap) {
			size_t nc = ib->cap ? ib->cap * 2 : 16;
			struct ind_part *nv = realloc(ib->v, nc * sizeof(*nv));
			if (nv) {
				ib->v = nv;
				ib->cap = nc;
			}
		}
		if (!p || ib->n == ib->cap) {
			free(p);
			itx_free_list(head);
			ib->n = first;
			return &it->next;
		}
		memcpy(p, it, sizeof(*p));
		memcpy(p->rec, it->rec, LR_WRITE_SIZE);
		p->next = NULL;
		/* A replayed indirect record writes its whole block and grows
		 * the file to the block's end unless the write itself grew it
		 * (zfs_replay_write's z_replay_eof): only blocks inside the
		 * file as the write left it are named; the rest is copied. */
		p->indirect = (o / bs + 1) * bs <= it->size;
		put_le64(p->rec + 40, o);
		put_le64(p->rec + 48, plen);
		if (p->indirect)
			ib->v[ib->n++] = (struct ind_part){ .it = p, .blkid = o / bs };
		*tp = p;
		tp = &p->next;
		o += plen;
	}
	*tp = it->next;
	*pp = head;
	free(it);
	return tp;
}

/*
 * WR_INDIRECT (zil.md §8.6): write the blocks of the list's indirect
 * writes now, as the blocks of their txg (dmu_sync.h), and make their
 * records name them; the txg sync then writes them no more. A block that
 * cannot be written so (its txg closing, changed meanwhile, an error) is
 * logged as a copy. Runs before the records are placed; the commit's
 * flush covers these writes too.
 */
static void indirect_writes(zilog_t *zl, struct itx **list, struct flight *f)
{
	spa_t *spa = zl->spa;
	objset_t *os = zl->os;
	struct ind_batch ib = { .spa = spa };
	spa_enter_read(spa);
	for (struct itx **pp = list; *pp;)
		pp = (*pp)->indirect && itx_is_write(*pp) ? ind_split(zl, pp, &ib) : &(*pp)->next;
	size_t taken = 0;
	for (size_t i = 0; i < ib.n; i++) {
		struct itx *p = ib.v[i].it;
		if (dmu_sync_take(os, le64(p->rec + 32), ib.v[i].blkid, p->txg, &ib.v[i].b) == 0)
			ib.v[taken++] = ib.v[i];
		else
			p->indirect = false;
	}
	ib.n = taken;
	spa_exit(spa);
	if (!ib.n) {
		free(ib.v);
		return;
	}
	taskq_run(ib.n, ind_prepare_job, &ib);
	struct zio_write_queue q = { .spa = spa };
	f->ind = calloc(ib.n, sizeof(*f->ind));
	spa_enter_write(spa);
	for (size_t i = 0; i < ib.n && f->ind; i++) {
		struct ind_part *part = &ib.v[i];
		if (dmu_sync_assign(os, &part->b, &q) != 0) {
			part->it->indirect = false;
			continue;
		}
		bp_store(part->it->rec + 64, &part->b.bp);
		part->it->complete = true;
		f->ind[f->nind++] = (struct ind_done){ part->b.object, part->b.blkid, part->b.bp };
	}
	spa_exit(spa);
	int rc = zio_write_queue_issue(spa, &q);
	zio_write_queue_free(&q);
	for (size_t i = 0; i < ib.n; i++) {
		struct itx *p = ib.v[i].it;
		if (p->complete && rc) {
			/* Not on disk: copied after all; the sync frees the block. */
			p->complete = p->indirect = false;
			memset(p->rec + 64, 0, sizeof(blkptr_t));
		}
		dmu_sync_block_release(&ib.v[i].b);
	}
	if (rc)
		f->nind = 0;
	for (size_t i = 0; i < f->nind; i++)
		for (int d = 0; d < bp_count_dvas(&f->ind[i].bp); d++) {
			vdev_t *top = spa_lookup_top(spa, dva_vdev(&f->ind[i].bp.blk_dva[d]));
			if (top)
				flight_add_top(f, top);
		}
	free(ib.v);
}

static uint64_t synced_txg(spa_t *spa)
{
	return __atomic_load_n(&spa->ub.ub_txg, __ATOMIC_ACQUIRE);
}

static bool zl_failed(zilog_t *zl)
{
	pthread_mutex_lock(&zl->mu);
	bool failed = zl->failed;
	pthread_mutex_unlock(&zl->mu);
	return failed;
}

/* ---- which records a commit takes ---------------------------------------------------- */

/* Data writes, truncates and setattrs: the records a commit may leave
 * queued, as OpenZFS leaves them on their file's async list until that
 * file is fsync'ed (zil_async_to_sync). Every other record (the name
 * space's, SA xattrs) is taken by every commit, as OpenZFS's sync itxs
 * are. A freed object's are dropped (zil_remove_async): the number may be
 * reused. */
static bool itx_deferrable(const struct itx *it)
{
	uint64_t t = le64(it->rec) & ~TX_CI;
	return !it->sync && (t == TX_WRITE || t == TX_TRUNCATE || t == TX_SETATTR);
}

static uint64_t itx_object(const struct itx *it)
{
	return le64(it->rec + 32) & LR_FOID_OBJ_MASK;
}

/* Objects named by the records every commit takes (lr_foid or lr_doid,
 * at the same place in every record) and the objects renames move: a
 * write of one of them is taken too, so its records keep their order (a
 * write before a truncate must not replay after it) and a renamed file's
 * data is durable with its new name, as OpenZFS moves a renamed object's
 * async records to the sync list. Taking more than needed is always safe. */
struct objset_refs {
	uint64_t *v;
	size_t n, cap;
	bool nomem;	/* then every write is taken */
};

static void refs_add(struct objset_refs *r, uint64_t obj)
{
	if (r->nomem)
		return;
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 64;
		uint64_t *nv = realloc(r->v, nc * sizeof(*nv));
		if (!nv) {
			r->nomem = true;
			return;
		}
		r->v = nv;
		r->cap = nc;
	}
	r->v[r->n++] = obj;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static bool refs_has(const struct objset_refs *r, uint64_t obj)
{
	return r->nomem || bsearch(&obj, r->v, r->n, sizeof(obj), cmp_u64) != NULL;
}

void zil_remove_async(objset_t *os, uint64_t obj)
{
	zilog_t *zl = os->zilog;
	if (!zl)
		return;
	struct itx *gone = NULL;
	pthread_mutex_lock(&zl->mu);
	if (zl->ndeferrable == 0) {
		pthread_mutex_unlock(&zl->mu);
		return;
	}
	struct itx **pp = &zl->head, *last = NULL;
	while (*pp) {
		struct itx *it = *pp;
		if (itx_deferrable(it) && itx_object(it) == obj) {
			itx_unlink(zl, pp);
			it->next = gone;
			gone = it;
		} else {
			last = it;
			pp = &it->next;
		}
	}
	zl->tail = last;
	pthread_mutex_unlock(&zl->mu);
	itx_free_list(gone);
}

/* Whether a commit for obj (0: every record) must take it. */
static bool itx_wanted(const struct itx *it, uint64_t obj, const struct objset_refs *refs)
{
	if (obj == 0 || !itx_deferrable(it))
		return true;
	uint64_t o = itx_object(it);
	return o == obj || refs_has(refs, o);
}

/* Whether a record a commit for obj needs is still queued (zl->mu held):
 * one that is not a deferrable write, or obj's own write. */
static bool queued_for(const zilog_t *zl, uint64_t obj, uint64_t synced)
{
	for (const struct itx *it = zl->head; it; it = it->next)
		if (it->txg > synced && (obj == 0 || !itx_deferrable(it) || itx_object(it) == obj))
			return true;
	return false;
}

/* Unlink from the queue (zl->mu held) what a commit for obj takes, in
 * queue order; the writes it leaves keep theirs, ahead of later records.
 * Records whose txg is on disk are dropped (zil_get_commit_list): their
 * list is returned in *dropped, to be freed without the lock. */
static struct itx *take_records(zilog_t *zl, uint64_t obj, uint64_t synced, struct itx **dropped)
{
	struct objset_refs refs = { 0 };
	if (obj != 0) {
		for (struct itx *it = zl->head; it; it = it->next) {
			if (it->txg <= synced || itx_deferrable(it))
				continue;
			refs_add(&refs, itx_object(it));
			for (int k = 0; k < 2; k++)
				if (it->moves[k])
					refs_add(&refs, it->moves[k]);
		}
		if (refs.n)
			qsort(refs.v, refs.n, sizeof(*refs.v), cmp_u64);
	}
	struct itx *taken = NULL, **tp = &taken, *gone = NULL, **gp = &gone;
	struct itx **pp = &zl->head, *last = NULL;
	while (*pp) {
		struct itx *it = *pp;
		if (it->txg <= synced) {
			itx_unlink(zl, pp);
			*gp = it;
			gp = &it->next;
		} else if (itx_wanted(it, obj, &refs)) {
			itx_unlink(zl, pp);
			*tp = it;
			tp = &it->next;
		} else {
			last = it;
			pp = &it->next;
		}
	}
	*tp = NULL;
	*gp = NULL;
	zl->tail = last;
	free(refs.v);
	*dropped = gone;
	return taken;
}

/* The write phase of a commit for obj (commit_mu held): returns the
 * commit's result when it is over (a txg sync stood in for the log), else
 * 0 with f->ticket set and commit_finish to run. */
static int commit_locked(zilog_t *zl, struct flight *f, uint64_t obj)
{
	spa_t *spa = zl->spa;
	if (zl_failed(zl))
		return txg_sync_now(spa);
	if (!zl->active) {
		int rc = chain_create(zl);
		if (rc == -ZFUSE_E_NOSPC)
			return txg_sync_now(spa);	/* the pool is nearly full: maybe later */
		if (rc) {
			if (rc != -ZFUSE_E_BUSY)
				spa_log(spa, ZFUSE_LOG_WARN, "intent log: cannot start a log chain (%s); "
					"fsync waits for txg syncs", zfuse_strerror(rc));
			pthread_mutex_lock(&zl->mu);
			zl->failed = true;
			pthread_mutex_unlock(&zl->mu);
			return txg_sync_now(spa);
		}
	}
	uint64_t synced = synced_txg(spa);
	pthread_mutex_lock(&zl->mu);
	if (zl->unlogged_txg > synced) {
		pthread_mutex_unlock(&zl->mu);
		return txg_sync_now(spa);
	}
	struct itx *dropped;
	struct itx *list = take_records(zl, obj, synced, &dropped);
	f->ticket = ++zl->issued;
	f->gen = zl->gen;
	pthread_mutex_unlock(&zl->mu);
	itx_free_list(dropped);
	uint64_t total = 0;
	for (struct itx *it = list; it; it = it->next)
		total += itx_rest(it);
	if (list && total >= ZIL_TXG_INSTEAD) {
		/* The log would hold this much data in memory (copies or
		 * indirect blocks' copies) and write it now; the txg sync
		 * writes it once, in about the time the log would take. */
		itx_free_list(list);
		f->needs_txg = true;
		return 0;
	}
	if (list) {
		indirect_writes(zl, &list, f);
		total = 0;
		for (struct itx *p = list; p; p = p->next)
			total += itx_rest(p);
		zl->predict = total + ZIL_CHAIN_SIZE;
		chain_write(zl, list, f);
		itx_free_list(list);
	}
	return 0;
}

/* The end of a commit: flush what it wrote, then, in the order the
 * commits wrote (a block is only reachable through every block before
 * it), mark its blocks written and its records durable. */
static int commit_finish(zilog_t *zl, struct flight *f)
{
	spa_t *spa = zl->spa;
	int rc = f->rc;
	for (size_t t = 0; t < f->ntops && rc == 0; t++)
		rc = vdev_flush(f->tops[t]);
	if (rc == 0 && f->nind) {
		/* The indirect records' blocks are stable: their txg's sync
		 * may take them as they are. */
		spa_enter_write(spa);
		for (size_t i = 0; i < f->nind; i++)
			dmu_sync_ready(zl->os, f->ind[i].object, f->ind[i].blkid, &f->ind[i].bp);
		spa_exit(spa);
	}
	free(f->ind);
	/* Its blocks are on disk (or never will be): the txgs their
	 * successors were allocated in may commit. */
	for (size_t d = 0; d < f->ndone; d++)
		rele_txg(spa, f->done[d].hold);
	pthread_mutex_lock(&zl->mu);
	while (zl->completed + 1 != f->ticket)
		pthread_cond_wait(&zl->cv, &zl->mu);
	/* An earlier commit's failure left a hole before these blocks. */
	bool behind_hole = zl->failed;
	if (rc == 0 && f->gen == zl->gen) {
		/* Sequence numbers are consecutive from lwb[0]'s: index directly. */
		uint64_t first = zl->nlwb ? zl->lwb[0].bp.blk_cksum.zc_word[ZIL_ZC_SEQ] : 0;
		for (size_t d = 0; d < f->ndone && zl->nlwb; d++) {
			if (f->done[d].seq < first || f->done[d].seq - first >= zl->nlwb)
				continue;
			struct lwb *l = &zl->lwb[f->done[d].seq - first];
			l->written = f->done[d].ok;
			l->max_txg = f->done[d].max_txg;
		}
	}
	free(f->done);
	bool fallback = rc < 0 || f->needs_txg || behind_hole;
	if (rc < 0 && !zl->failed) {
		/* A chain with a hole in it must not be written on: from now
		 * on the records reach the disk with their txgs. */
		spa_log(spa, ZFUSE_LOG_WARN, "intent log: writing a log block failed (%s); fsync "
			"waits for txg syncs from now on", zfuse_strerror(rc));
		zl->failed = true;
	}
	if (fallback) {
		/* Records it took but could not make durable reach the disk
		 * with their txg, before any later commit counts as done. */
		pthread_mutex_unlock(&zl->mu);
		rc = txg_sync_now(spa);
		pthread_mutex_lock(&zl->mu);
	}
	zl->completed = f->ticket;
	pthread_cond_broadcast(&zl->cv);
	pthread_mutex_unlock(&zl->mu);
	return rc;
}

/* Wait until every commit's blocks are flushed (commit_mu held, so no
 * commit starts meanwhile). */
static void wait_flights(zilog_t *zl)
{
	pthread_mutex_lock(&zl->mu);
	while (zl->completed != zl->issued)
		pthread_cond_wait(&zl->cv, &zl->mu);
	pthread_mutex_unlock(&zl->mu);
}

/* Group commit (zil_commit_impl): the first fsync that finds no commit
 * writing becomes the writer and writes every queued record, its own and
 * the others'; the rest wait for it and return when their records are
 * durable. A writer releases the chain when its blocks are written, so
 * the next commit writes while the last one flushes. */
int zil_commit(spa_t *spa, objset_t *os)
{
	return zil_commit_object(spa, os, 0);
}

int zil_commit_object(spa_t *spa, objset_t *os, uint64_t obj)
{
	SPA_ASSERT_NOT_HELD(spa);
	if (os->sync_prop == ZFS_SYNC_DISABLED)
		return 0;
	zilog_t *zl = os->zilog;
	if (!zl)
		return txg_sync_now(spa);
	pthread_mutex_lock(&zl->mu);
	for (;;) {
		if (!queued_for(zl, obj, synced_txg(spa))) {
			/* What this caller needs was taken by the commits
			 * issued so far: done when they are. */
			uint64_t bound = zl->issued;
			while (zl->completed < bound)
				pthread_cond_wait(&zl->cv, &zl->mu);
			if (zl->unlogged_txg <= synced_txg(spa) && !zl->failed) {
				pthread_mutex_unlock(&zl->mu);
				return 0;
			}
		}
		/* Records to take (or a txg sync to stand in for the log):
		 * after the commit writing now, if any. */
		if (!zl->issuing)
			break;
		pthread_cond_wait(&zl->cv, &zl->mu);
	}
	zl->issuing = true;
	pthread_mutex_unlock(&zl->mu);
	pthread_mutex_lock(&zl->commit_mu);
	struct flight f = { 0 };
	int rc = commit_locked(zl, &f, obj);
	pthread_mutex_unlock(&zl->commit_mu);
	pthread_mutex_lock(&zl->mu);
	zl->issuing = false;
	pthread_cond_broadcast(&zl->cv);
	pthread_mutex_unlock(&zl->mu);
	return f.ticket ? commit_finish(zl, &f) : rc;
}

/* ---- the txg sync's part ------------------------------------------------------------ */

void zil_rollback(objset_t *os)
{
	zilog_t *zl = os->zilog;
	if (!zl)
		return;
	pthread_mutex_lock(&zl->mu);
	zl->nlwb = 0;
	zl->lwb_bytes = 0;
	zl->gen++;
	zl->active = false;
	zl->failed = true;
	itx_free_list(zl->head);
	zl->head = zl->tail = NULL;
	zl->ndeferrable = 0;
	pthread_mutex_unlock(&zl->mu);
	memset(os->phys + ZIL_HEADER_OFFSET, 0, ZIL_HEADER_SIZE);
	os->header_dirty = true;
}

void zil_sync(spa_t *spa, objset_t *os, uint64_t txg)
{
	SPA_ASSERT_WRITER(spa);
	zilog_t *zl = os->zilog;
	if (!zl)
		return;
	pthread_mutex_lock(&zl->mu);
	/* Records of earlier txgs are in the tree on disk now. */
	struct itx **pp = &zl->head, *last = NULL;
	while (*pp) {
		struct itx *it = *pp;
		if (it->txg < txg) {
			free(itx_unlink(zl, pp));
		} else {
			last = it;
			pp = &it->next;
		}
	}
	zl->tail = last;
	/* Free, oldest first, the written blocks whose records are all in
	 * this txg or older and whose allocation is on disk; the tail (never
	 * written) always stays. */
	if (zl->destroy) {
		/* zil_destroy: every change the chain holds is in the tree
		 * (suspend_locked synced them); its blocks, the never-written
		 * tail too, are freed and the header zeroed. */
		for (size_t i = 0; i < zl->nlwb; i++)
			metaslab_free_dva(spa, &zl->lwb[i].bp.blk_dva[0], txg);
		zl->nlwb = 0;
		zl->lwb_bytes = 0;
		zl->gen++;
		zl->destroy = false;
		zl->active = false;
		if (zl->saxattr) {
			zl->saxattr = false;
			zl->saxattr_drop = true;
		}
		memset(os->phys + ZIL_HEADER_OFFSET, 0, ZIL_HEADER_SIZE);
		pthread_mutex_unlock(&zl->mu);
		return;
	}
	size_t i = 0;
	while (i + 1 < zl->nlwb && zl->lwb[i].written && zl->lwb[i].max_txg <= txg &&
	       zl->lwb[i].alloc_txg < txg) {
		metaslab_free_dva(spa, &zl->lwb[i].bp.blk_dva[0], txg);
		zl->lwb_bytes -= bp_get_lsize(&zl->lwb[i].bp);
		i++;
	}
	if (i) {
		memmove(zl->lwb, zl->lwb + i, (zl->nlwb - i) * sizeof(*zl->lwb));
		zl->nlwb -= i;
	}
	if (zl->active && zl->nlwb) {
		/* Into the objset block this sync writes (the sync's own copy:
		 * the open txg never writes the header of an active log). */
		uint8_t *p = os->phys + ZIL_HEADER_OFFSET;
		memset(p, 0, ZIL_HEADER_SIZE);
		bp_store(p + 16, &zl->lwb[0].bp);
	}
	pthread_mutex_unlock(&zl->mu);
}
