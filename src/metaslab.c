/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * metaslab.c — where new blocks go, and how that is recorded on disk
 * (pool-layer.md §9, §10.4).
 *
 * Every metaslab of every concrete top-level vdev is kept loaded: its free
 * space is a range tree built from its space map at import. An allocation
 * moves space from `allocatable` to the txg's `allocating` tree; a free
 * puts it in the txg's `freeing` tree. metaslab_sync, once per sync pass,
 * appends exactly those two trees to the metaslab's space map (ALLOC debug
 * word and entries, then FREE debug word and entries, as OpenZFS's
 * space_map_write) and empties them, so a later pass appends only what is
 * new. After the txg commits, its frees wait TXG_DEFER_SIZE more txgs in
 * `defer` before they become allocatable again: until then the two older
 * uberblocks in the label rings still describe intact trees.
 *
 * Placement follows OpenZFS in its shape, not its every heuristic: a rotor
 * over top-level vdevs that moves after an aliquot of bytes, one active
 * metaslab per vdev (switching to the one with the largest free segment
 * when it cannot serve), first fit from a cursor per size alignment, best
 * fit when the metaslab runs low. Copies of one block go to different
 * vdevs, or at least different metaslabs.
 *
 * Pools where com.delphix:log_spacemap is active keep part of their
 * allocation state in per-txg log maps, and each metaslab's unflushed txg
 * says from which log on its own map is incomplete. We write no logs. The
 * load keeps, per metaslab, what the logs change relative to its own map;
 * the first metaslab_sync appends exactly that to the map (as OpenZFS's
 * metaslab_flush would), zeroes every unflushed txg and destroys the logs
 * (space_map_free_obj's refcount rule included). Zero rather than the flush
 * txg: OpenZFS's import insists that a log exists for every non-zero
 * unflushed txg, while 0 means "not tracked by the log", the state of every
 * metaslab of a pool that has just enabled the feature; OpenZFS adds such
 * metaslabs to its log when it next changes them. From then on direct
 * appends to the metaslab maps say everything.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "byteorder.h"
#include "dmu_types.h"
#include "dnode.h"
#include "metaslab.h"
#include "spa_lock.h"
#include "zap.h"
#include "zfeature_write.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define METASLAB_ALIQUOT (1ULL << 20)
#define METASLAB_DF_ALLOC_THRESHOLD (1ULL << 17)	/* SPA_OLD_MAXBLOCKSIZE */
#define METASLAB_DF_FREE_PCT 4

static unsigned highbit64(uint64_t x)
{
	return x ? 64 - (unsigned)__builtin_clzll(x) : 0;
}

uint64_t metaslab_choose_shift(uint64_t asize)
{
	/* zfs_vdev_default_ms_shift 29, min count 16, default count 200,
	 * max shift 34, count limit 131072 (2.3.2 defaults). */
	uint64_t count = asize >> 29;
	uint64_t shift;
	if (count < 16)
		shift = highbit64(asize / 16);
	else if (count > 200)
		shift = highbit64(asize / 200);
	else
		shift = 29;
	if (shift < SPA_MAXBLOCKSHIFT) {
		shift = SPA_MAXBLOCKSHIFT;
	} else if (shift > 34) {
		shift = 34;
		if ((asize >> shift) > 131072)
			shift = highbit64(asize / 131072);
	}
	return shift;
}

/* ---- state -------------------------------------------------------------- */

/* Feature refcount from a features_for_* ZAP: 0 found, NOENT absent. */
static int feature_refcount(spa_t *spa, uint64_t zapobj, const char *guid, uint64_t *count)
{
	*count = 0;
	if (!spa->mos || !zapobj)
		return -ZFUSE_E_NOENT;
	dnode_t dn;
	int rc = dnode_hold(spa->mos, zapobj, &dn);
	if (rc)
		return rc;
	rc = zap_lookup_uint64(&dn, guid, count);
	dnode_rele(&dn);
	return rc;
}

static void read_features(spa_t *spa, metaslab_state_t *st)
{
	uint64_t n;
	st->feat_spacemap_histogram =
		feature_refcount(spa, spa->features_for_write_obj, "com.delphix:spacemap_histogram", &n) == 0;
	st->feat_spacemap_v2 =
		feature_refcount(spa, spa->features_for_read_obj, "com.delphix:spacemap_v2", &n) == 0 && n > 0;
	if (feature_refcount(spa, spa->features_for_write_obj, "com.delphix:log_spacemap", &n) == 0) {
		st->feat_log_spacemap_enabled = true;
		st->feat_log_spacemap_active = n > 0;
	}
}

static metaslab_state_t *state_get(spa_t *spa)
{
	if (spa->ms)
		return spa->ms;
	metaslab_state_t *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	read_features(spa, st);
	spa->ms = st;
	return st;
}

static void metaslab_destroy_trees(metaslab_t *ms)
{
	range_tree_destroy(ms->log_allocs);
	range_tree_destroy(ms->log_frees);
	ms->log_allocs = ms->log_frees = NULL;
	range_tree_destroy(ms->allocatable);
	range_tree_destroy(ms->freed);
	for (int t = 0; t < TXG_SIZE; t++) {
		range_tree_destroy(ms->allocating[t]);
		range_tree_destroy(ms->alloc_synced[t]);
		range_tree_destroy(ms->freeing[t]);
	}
	for (int t = 0; t < TXG_DEFER_SIZE; t++)
		range_tree_destroy(ms->defer[t]);
	range_tree_destroy(ms->scan_held);
}

static int metaslab_create_trees(metaslab_t *ms)
{
	bool ok = (ms->allocatable = range_tree_create()) && (ms->freed = range_tree_create());
	for (int t = 0; ok && t < TXG_SIZE; t++)
		ok = (ms->allocating[t] = range_tree_create()) && (ms->alloc_synced[t] = range_tree_create()) &&
		     (ms->freeing[t] = range_tree_create());
	for (int t = 0; ok && t < TXG_DEFER_SIZE; t++)
		ok = (ms->defer[t] = range_tree_create()) != NULL;
	ok = ok && (ms->scan_held = range_tree_create()) != NULL;
	return ok ? 0 : -ZFUSE_E_NOMEM;
}

static void metaslab_vdev_free(metaslab_vdev_t *mv)
{
	if (!mv)
		return;
	for (uint64_t i = 0; mv->ms && i < mv->count; i++)
		metaslab_destroy_trees(&mv->ms[i]);
	free(mv->ms);
	free(mv);
}

void metaslab_fini(spa_t *spa)
{
	metaslab_state_t *st = spa->ms;
	if (!st)
		return;
	for (uint64_t i = 0; i < st->nvdevs; i++)
		metaslab_vdev_free(st->vdevs[i]);
	free(st->vdevs);
	free(st->logs);
	free(st);
	spa->ms = NULL;
}

static metaslab_vdev_t *vdev_state(const metaslab_state_t *st, uint64_t id)
{
	return st && id < st->nvdevs ? st->vdevs[id] : NULL;
}

metaslab_t *metaslab_lookup(spa_t *spa, uint64_t vdev_id, uint64_t offset)
{
	metaslab_vdev_t *mv = vdev_state(spa->ms, vdev_id);
	if (!mv)
		return NULL;
	uint64_t i = offset >> mv->vd->metaslab_shift;
	return i < mv->count ? &mv->ms[i] : NULL;
}

/* ---- loading ------------------------------------------------------------ */

struct load_ctx {
	metaslab_vdev_t *mv;
	metaslab_t *only;	/* own map: entries must fall inside it */
};

static int load_entry(void *arg, const struct space_map_entry *e)
{
	struct load_ctx *c = arg;
	metaslab_vdev_t *mv = c->mv;
	uint64_t i = e->start >> mv->vd->metaslab_shift;
	if (i >= mv->count || e->len == 0)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	metaslab_t *ms = &mv->ms[i];
	/* A length from a damaged map may be near 2^64: compare without a sum
	 * that could wrap (the last metaslab may end before its index's). */
	uint64_t end = ms->start + ms->size;
	if ((c->only && ms != c->only) || e->start >= end || e->len > end - e->start)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	if (e->is_free)
		return range_tree_add(ms->allocatable, e->start, e->len) == 0 ? 0 : SET_ERROR(-ZFUSE_E_CORRUPT);
	/* A well-formed map never allocates space that is not free. */
	if (!range_tree_contains(ms->allocatable, e->start, e->len))
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	return range_tree_remove(ms->allocatable, e->start, e->len) < 0 ? -ZFUSE_E_NOMEM : 0;
}

/* Keep what the logs changed in ms relative to its own map (own_free: the
 * free space its own map alone describes). */
static int keep_log_changes(metaslab_t *ms, const range_tree_t *own_free)
{
	range_tree_t *allocs = range_tree_create(), *frees = range_tree_create();
	int rc = allocs && frees ? 0 : -ZFUSE_E_NOMEM;
	if (rc == 0)
		rc = range_tree_add_difference(allocs, own_free, ms->allocatable);
	if (rc == 0)
		rc = range_tree_add_difference(frees, ms->allocatable, own_free);
	if (rc == 0 && !range_tree_is_empty(allocs)) {
		ms->log_allocs = allocs;
		allocs = NULL;
	}
	if (rc == 0 && !range_tree_is_empty(frees)) {
		ms->log_frees = frees;
		frees = NULL;
	}
	range_tree_destroy(allocs);
	range_tree_destroy(frees);
	return rc;
}

static int load_maps(spa_t *spa, metaslab_state_t *st, metaslab_vdev_t *mv)
{
	vdev_t *vd = mv->vd;
	uint64_t n = mv->count;
	if (!vd->metaslab_array)
		return 0;
	int rc = 0;
	if (!st->logs_loaded) {
		if ((rc = space_map_logs(spa, &st->log_zap, &st->logs, &st->nlogs)) != 0)
			return rc;
		st->logs_loaded = true;
	}
	uint8_t *objs = calloc(n, 8);
	uint64_t *unflushed = calloc(n, sizeof(uint64_t));
	/* Free space per each metaslab's own map, kept only while logs exist. */
	range_tree_t **own_free = st->nlogs ? calloc(n, sizeof(*own_free)) : NULL;
	if (!objs || !unflushed || (st->nlogs && !own_free))
		rc = -ZFUSE_E_NOMEM;
	if (rc == 0) {
		dnode_t arr;
		if ((rc = dnode_hold(spa->mos, vd->metaslab_array, &arr)) == 0) {
			rc = dmu_read(&arr, 0, n * 8, objs);
			dnode_rele(&arr);
		}
	}
	if (rc == 0)
		rc = space_map_unflushed_txgs(spa, vd, n, unflushed);
	if (rc == 0)
		rc = space_map_unflushed_object(spa, vd, &mv->unflushed_obj);
	for (uint64_t i = 0; rc == 0 && i < n; i++) {
		metaslab_t *ms = &mv->ms[i];
		ms->unflushed_txg = unflushed[i];
		if (unflushed[i])
			st->log_fold_pending = true;
		ms->sm_object = le64(objs + 8 * i);
		if (ms->sm_object) {
			if ((rc = space_map_read_header(spa, ms->sm_object, &ms->sm)) != 0)
				break;
			struct load_ctx c = { mv, ms };
			rc = space_map_iterate(spa, ms->sm_object, ms->start, (unsigned)vd->ashift, load_entry,
					       &c);
		}
		if (rc == 0 && own_free) {
			own_free[i] = range_tree_create();
			rc = own_free[i] ? range_tree_add_tree(own_free[i], ms->allocatable) : -ZFUSE_E_NOMEM;
		}
	}
	if (rc == 0 && st->nlogs) {
		st->log_fold_pending = true;
		struct load_ctx c = { mv, NULL };
		rc = space_map_replay_logs(spa, vd, n, unflushed, load_entry, &c);
	}
	for (uint64_t i = 0; rc == 0 && own_free && i < n; i++)
		rc = keep_log_changes(&mv->ms[i], own_free[i]);
	for (uint64_t i = 0; own_free && i < n; i++)
		range_tree_destroy(own_free[i]);
	free(own_free);
	free(objs);
	free(unflushed);
	return rc;
}

int metaslab_init_vdev(spa_t *spa, vdev_t *top, bool new_vdev)
{
	if (!top || top->kind == VDEV_KIND_ROOT || top->kind == VDEV_KIND_HOLE ||
	    top->kind == VDEV_KIND_MISSING || top->kind == VDEV_KIND_UNSUPPORTED)
		return -ZFUSE_E_INVAL;
	metaslab_state_t *st = state_get(spa);
	if (!st)
		return -ZFUSE_E_NOMEM;
	if (new_vdev) {
		top->metaslab_shift = metaslab_choose_shift(top->asize);
		top->metaslab_array = 0;
	}
	/* Older writers used smaller metaslabs (zfs-fuse: 1 MiB). */
	if (top->metaslab_shift < SPA_MINBLOCKSHIFT || top->metaslab_shift < top->ashift ||
	    top->metaslab_shift > 40)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	uint64_t count = top->asize >> top->metaslab_shift;
	if (count == 0 || count > (1ULL << 20))
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	if (top->id >= st->nvdevs) {
		metaslab_vdev_t **nv = realloc(st->vdevs, (top->id + 1) * sizeof(*nv));
		if (!nv)
			return -ZFUSE_E_NOMEM;
		memset(nv + st->nvdevs, 0, (top->id + 1 - st->nvdevs) * sizeof(*nv));
		st->vdevs = nv;
		st->nvdevs = top->id + 1;
	}
	metaslab_vdev_t *mv = calloc(1, sizeof(*mv));
	if (!mv)
		return -ZFUSE_E_NOMEM;
	mv->vd = top;
	mv->count = count;
	mv->active = -1;
	uint64_t data_disks = top->kind == VDEV_KIND_RAIDZ && top->nchild > top->nparity
				      ? top->nchild - top->nparity : 1;
	mv->aliquot = METASLAB_ALIQUOT * data_disks;
	mv->ms = calloc(count, sizeof(metaslab_t));
	int rc = mv->ms ? 0 : -ZFUSE_E_NOMEM;
	for (uint64_t i = 0; rc == 0 && i < count; i++) {
		metaslab_t *ms = &mv->ms[i];
		ms->id = i;
		ms->vd = top;
		ms->start = i << top->metaslab_shift;
		ms->size = 1ULL << top->metaslab_shift;
		if ((rc = metaslab_create_trees(ms)) == 0)
			rc = range_tree_add(ms->allocatable, ms->start, ms->size);
	}
	if (rc == 0 && !new_vdev)
		rc = load_maps(spa, st, mv);
	if (rc) {
		metaslab_vdev_free(mv);
		return rc;
	}
	uint64_t smallest = UINT64_MAX, slog = 0;
	for (uint64_t i = 0; i < count; i++) {
		metaslab_t *ms = &mv->ms[i];
		ms->allocated = (int64_t)(ms->size - range_tree_space(ms->allocatable));
		if ((uint64_t)ms->allocated < smallest) {
			smallest = (uint64_t)ms->allocated;
			slog = i;
		}
	}
	/* OpenZFS 2.3 sets the emptiest metaslab of a big normal vdev aside
	 * for the ZIL; keeping out of it keeps space accounting alike. */
	if (!top->is_log && count > EMBEDDED_SLOG_MIN_MS)
		mv->ms[slog].embedded_log = true;
	metaslab_vdev_free(st->vdevs[top->id]);
	st->vdevs[top->id] = mv;
	return 0;
}

/* ---- allocation --------------------------------------------------------- */

static bool vdev_allocatable(const metaslab_vdev_t *mv)
{
	return mv && !mv->vd->is_log;
}

/* Can ms serve asize at all (some free segment large enough)? */
static bool ms_can_fit(const metaslab_t *ms, uint64_t asize)
{
	if (ms->embedded_log || range_tree_space(ms->allocatable) < asize)
		return false;
	for (int b = RANGE_TREE_HISTOGRAM_SIZE - 1; b >= 0; b--) {
		if (!ms->allocatable->histogram[b])
			continue;
		if ((uint64_t)b > (uint64_t)range_tree_bucket(asize))
			return true;
		return range_tree_largest(ms->allocatable) >= asize;
	}
	return false;
}

/* Whether ms avoids every metaslab already holding a copy of this block. */
static bool ms_unique(const metaslab_t *ms, const dva_t *dvas, int ndone)
{
	for (int i = 0; i < ndone; i++)
		if (dva_vdev(&dvas[i]) == ms->vd->id &&
		    dva_offset(&dvas[i]) >> ms->vd->metaslab_shift == ms->id)
			return false;
	return true;
}

/* OpenZFS's "dynamic fit": first fit from the cursor kept for the size's
 * alignment while the metaslab has room, best fit when it runs low. */
static int ms_block_alloc(metaslab_t *ms, uint64_t asize, uint64_t txg, uint64_t *offset)
{
	uint64_t align = 1ULL << ms->vd->ashift;
	uint64_t *cursor = &ms->cursor[range_tree_bucket(asize & -asize)];
	range_tree_t *rt = ms->allocatable;
	uint64_t free_pct = range_tree_space(rt) * 100 / ms->size;
	bool big_segment = false;
	for (int b = range_tree_bucket(METASLAB_DF_ALLOC_THRESHOLD); b < RANGE_TREE_HISTOGRAM_SIZE; b++)
		big_segment |= rt->histogram[b] != 0;
	int rc;
	if (big_segment && free_pct >= METASLAB_DF_FREE_PCT)
		rc = range_tree_find_first_fit(rt, asize, align, *cursor, offset);
	else
		rc = range_tree_find_best_fit(rt, asize, align, offset);
	if (rc)
		return rc;
	*cursor = *offset + asize;
	int64_t removed = range_tree_remove(rt, *offset, asize);
	if (removed < 0)
		return (int)removed;
	rc = range_tree_add(ms->allocating[txg & TXG_MASK], *offset, asize);
	if (rc) {
		range_tree_add(rt, *offset, asize);
		return rc;
	}
	return 0;
}

static uint64_t ms_weight(const metaslab_t *ms)
{
	/* Largest free segment's bucket first, then free space. */
	uint64_t largest = range_tree_largest(ms->allocatable);
	return ((uint64_t)highbit64(largest) << 56) | (range_tree_space(ms->allocatable) >> 8);
}

static int vdev_alloc(metaslab_vdev_t *mv, uint64_t psize, uint64_t txg, const dva_t *dvas, int ndone,
		      dva_t *out)
{
	vdev_t *vd = mv->vd;
	uint64_t asize = vdev_psize_to_asize(vd, psize);
	if (asize == 0 || asize > (1ULL << vd->metaslab_shift) || (asize >> SPA_MINBLOCKSHIFT) >= (1ULL << 24))
		return -ZFUSE_E_NOSPC;
	metaslab_t *ms = NULL;
	if (mv->active >= 0) {
		metaslab_t *a = &mv->ms[mv->active];
		if (ms_unique(a, dvas, ndone) && ms_can_fit(a, asize))
			ms = a;
	}
	if (!ms) {
		uint64_t best_w = 0;
		for (uint64_t i = 0; i < mv->count; i++) {
			metaslab_t *c = &mv->ms[i];
			if (!ms_unique(c, dvas, ndone) || !ms_can_fit(c, asize))
				continue;
			uint64_t w = ms_weight(c);
			if (!ms || w > best_w) {
				ms = c;
				best_w = w;
			}
		}
		if (!ms)
			return -ZFUSE_E_NOSPC;
		if (ndone == 0)
			mv->active = (int64_t)ms->id;
	}
	uint64_t offset;
	int rc = ms_block_alloc(ms, asize, txg, &offset);
	if (rc)
		return rc;
	out->dva_word[0] = (vd->id << 32) | (asize >> SPA_MINBLOCKSHIFT);
	out->dva_word[1] = offset >> SPA_MINBLOCKSHIFT;
	return 0;
}

static bool dvas_use_vdev(const dva_t *dvas, int ndone, uint64_t id)
{
	for (int i = 0; i < ndone; i++)
		if (dva_vdev(&dvas[i]) == id)
			return true;
	return false;
}

static int alloc_one(metaslab_state_t *st, uint64_t psize, uint64_t txg, dva_t *dvas, int d)
{
	uint64_t n = st->nvdevs;
	if (n == 0)
		return -ZFUSE_E_NOSPC;
	/* Copy 0 starts at the rotor; further copies after the vdev of the
	 * copy before, as OpenZFS's hint DVA does. */
	uint64_t first = d == 0 ? st->rotor % n : (dva_vdev(&dvas[d - 1]) + 1) % n;
	int rc = -ZFUSE_E_NOSPC;
	/* Pass 0: a vdev without a copy; pass 1: any vdev, other metaslab. */
	for (int pass = 0; pass < 2; pass++) {
		for (uint64_t k = 0; k < n; k++) {
			uint64_t id = (first + k) % n;
			metaslab_vdev_t *mv = st->vdevs[id];
			if (!vdev_allocatable(mv) || (pass == 0 && dvas_use_vdev(dvas, d, id)))
				continue;
			rc = vdev_alloc(mv, psize, txg, dvas, d, &dvas[d]);
			if (rc == 0) {
				if (d == 0) {
					st->rotor = id;
					st->rotor_bytes += dva_asize(&dvas[d]);
					if (st->rotor_bytes >= mv->aliquot) {
						st->rotor = (id + 1) % n;
						st->rotor_bytes = 0;
					}
				}
				return 0;
			}
			if (rc != -ZFUSE_E_NOSPC)
				return rc;
		}
		if (d == 0)
			break;
	}
	return rc;
}

int metaslab_alloc(spa_t *spa, uint64_t psize, int ndvas, uint64_t txg, blkptr_t *bp)
{
	metaslab_state_t *st = spa->ms;
	if (!st || ndvas < 1 || ndvas > SPA_DVAS_PER_BP || psize == 0)
		return -ZFUSE_E_INVAL;
	dva_t dvas[SPA_DVAS_PER_BP];
	memset(dvas, 0, sizeof(dvas));
	for (int d = 0; d < ndvas; d++) {
		int rc = alloc_one(st, psize, txg, dvas, d);
		if (rc) {
			while (--d >= 0)
				metaslab_unalloc_dva(spa, &dvas[d], txg);
			return rc;
		}
	}
	/* a block is allocated for a txg that has not reached the disk */
	ASSERT3U(txg, >, spa->ub.ub_txg);
	for (int d = 0; d < ndvas; d++) {
		ASSERT3U(dva_asize(&dvas[d]), >=, psize);
		bp->blk_dva[d] = dvas[d];
	}
	return 0;
}

/* ---- frees -------------------------------------------------------------- */

static metaslab_t *dva_metaslab(spa_t *spa, const dva_t *dva, const char *what)
{
	uint64_t off = dva_offset(dva), size = dva_asize(dva);
	metaslab_t *ms = metaslab_lookup(spa, dva_vdev(dva), off);
	if (!ms || size == 0 || off + size > ms->start + ms->size) {
		spa_log(spa, ZFUSE_LOG_ERROR, "%s of a DVA outside any metaslab: <%" PRIu64 ":%" PRIx64 ":%" PRIx64 ">",
			what, dva_vdev(dva), off, size);
		return NULL;
	}
	return ms;
}

/* Whether [off, off+size) is allocated (and not already on its way out). */
static bool ms_range_allocated(const metaslab_t *ms, uint64_t off, uint64_t size)
{
	if (range_tree_intersects(ms->allocatable, off, size) || range_tree_intersects(ms->freed, off, size) ||
	    range_tree_intersects(ms->scan_held, off, size))
		return false;
	for (int t = 0; t < TXG_SIZE; t++)
		if (range_tree_intersects(ms->freeing[t], off, size))
			return false;
	for (int t = 0; t < TXG_DEFER_SIZE; t++)
		if (range_tree_intersects(ms->defer[t], off, size))
			return false;
	return true;
}

void metaslab_free_dva(spa_t *spa, const dva_t *dva, uint64_t txg)
{
	metaslab_t *ms = dva_metaslab(spa, dva, "free");
	if (!ms)
		return;
	uint64_t off = dva_offset(dva), size = dva_asize(dva);
	if (!ms_range_allocated(ms, off, size)) {
		/* Freeing free space would corrupt the space map: refuse. */
		spa_log(spa, ZFUSE_LOG_ERROR, "free of unallocated space <%" PRIu64 ":%" PRIx64 ":%" PRIx64 ">",
			dva_vdev(dva), off, size);
		return;
	}
	if (range_tree_add(ms->freeing[txg & TXG_MASK], off, size))
		spa_log(spa, ZFUSE_LOG_ERROR, "free of <%" PRIu64 ":%" PRIx64 ":%" PRIx64 "> lost (no memory)",
			dva_vdev(dva), off, size);
}

/* Move the parts of [off, off+size) found in src to dst; bytes moved. */
static uint64_t move_overlap(range_tree_t *src, range_tree_t *dst, uint64_t off, uint64_t size)
{
	uint64_t moved = 0, end = off + size;
	while (range_tree_intersects(src, off, end - off)) {
		const range_seg_t *s = NULL;
		for (size_t i = 0; i < src->nsegs; i++)
			if (src->segs[i].end > off) {
				s = &src->segs[i];
				break;
			}
		uint64_t lo = s->start > off ? s->start : off;
		uint64_t hi = s->end < end ? s->end : end;
		if (range_tree_remove(src, lo, hi - lo) < 0 || range_tree_add(dst, lo, hi - lo))
			break;
		moved += hi - lo;
		off = hi;
	}
	return moved;
}

void metaslab_reserve_dva(spa_t *spa, const dva_t *dva)
{
	metaslab_t *ms = dva_metaslab(spa, dva, "reservation");
	if (ms)
		range_tree_remove(ms->allocatable, dva_offset(dva), dva_asize(dva));
}

int metaslab_claim_dva(spa_t *spa, const dva_t *dva, uint64_t txg)
{
	metaslab_t *ms = dva_metaslab(spa, dva, "claim");
	if (!ms)
		return SET_ERROR(-ZFUSE_E_INVAL);
	uint64_t off = dva_offset(dva), size = dva_asize(dva);
	if (!range_tree_contains(ms->allocatable, off, size))
		return SET_ERROR(-ZFUSE_E_EXIST);
	if (range_tree_remove(ms->allocatable, off, size) < 0)
		return -ZFUSE_E_NOMEM;
	if (range_tree_add(ms->allocating[txg & TXG_MASK], off, size)) {
		range_tree_add(ms->allocatable, off, size);
		return -ZFUSE_E_NOMEM;
	}
	return 0;
}

void metaslab_unalloc_dva(spa_t *spa, const dva_t *dva, uint64_t txg)
{
	metaslab_t *ms = dva_metaslab(spa, dva, "unallocation");
	if (!ms)
		return;
	uint64_t off = dva_offset(dva), size = dva_asize(dva);
	int t = txg & TXG_MASK;
	/* Not in any space map yet: simply free again. */
	uint64_t done = move_overlap(ms->allocating[t], ms->allocatable, off, size);
	/* Already recorded as allocated in an earlier pass: it needs a FREE
	 * record, and goes through the deferral like any free. */
	done += move_overlap(ms->alloc_synced[t], ms->freeing[t], off, size);
	if (done != size)
		spa_log(spa, ZFUSE_LOG_ERROR,
			"unallocation of <%" PRIu64 ":%" PRIx64 ":%" PRIx64 "> not allocated in txg %" PRIu64,
			dva_vdev(dva), off, size, txg);
}

/* ---- sync --------------------------------------------------------------- */

static int dmu_mos_object_alloc(spa_t *spa, unsigned type, uint64_t blksz, unsigned bonustype,
				unsigned bonuslen, unsigned indblkshift, dmu_tx_t *tx, uint64_t *object)
{
	int rc = dmu_object_alloc(spa->mos, type, blksz, bonustype, bonuslen, 0, tx, object);
	if (rc || !indblkshift)
		return rc;
	/* dmu_object_alloc gives indirect block shift 17; the object has no
	 * blocks yet, so only the dnode field changes (as OpenZFS's
	 * dmu_object_alloc_ibs). */
	dnode_t dn;
	if (dnode_hold_dirty(spa->mos, *object, tx, &dn) == 0) {
		((uint8_t *)dn.phys)[1] = (uint8_t)indblkshift;
		dnode_redecode(&dn);
		dnode_rele(&dn);
	}
	return 0;
}

static int dmu_mos_write(spa_t *spa, uint64_t object, uint64_t off, uint64_t len, const void *buf,
			 dmu_tx_t *tx)
{
	return dmu_write(spa->mos, object, off, len, buf, tx);
}

static int dmu_mos_bonus_write(spa_t *spa, uint64_t object, const void *buf, uint64_t len, dmu_tx_t *tx)
{
	return dmu_bonus_write(spa->mos, object, buf, len, tx);
}

static int dmu_mos_object_free(spa_t *spa, uint64_t object, dmu_tx_t *tx)
{
	return dmu_object_free(spa->mos, object, tx);
}

static int dmu_mos_zap_remove(spa_t *spa, uint64_t zapobj, const char *name, dmu_tx_t *tx)
{
	return zap_remove(spa->mos, zapobj, name, tx);
}

static const struct metaslab_mos_ops dmu_mos_ops = {
	dmu_mos_object_alloc, dmu_mos_write, dmu_mos_bonus_write,
	dmu_mos_object_free, dmu_mos_zap_remove, spa_feature_decr,
};

static const struct metaslab_mos_ops *mos(const metaslab_state_t *st)
{
	return st->mos_ops ? st->mos_ops : &dmu_mos_ops;
}

static int create_metaslab_array(spa_t *spa, metaslab_state_t *st, vdev_t *vd, dmu_tx_t *tx)
{
	uint64_t obj;
	int rc = mos(st)->object_alloc(spa, DMU_OT_OBJECT_ARRAY, 0, DMU_OT_NONE, 0, 0, tx, &obj);
	if (rc)
		return rc;
	vd->metaslab_array = obj;
	st->config_dirty = true;
	return 0;
}

static int create_space_map(spa_t *spa, metaslab_state_t *st, metaslab_t *ms, dmu_tx_t *tx)
{
	uint64_t blksz = st->feat_log_spacemap_enabled ? METASLAB_SM_BLKSZ_WITH_LOG : METASLAB_SM_BLKSZ_NO_LOG;
	uint64_t bonuslen = st->feat_spacemap_histogram ? SPACE_MAP_SIZE_HISTOGRAM : SPACE_MAP_SIZE_V0;
	uint64_t obj;
	/* 16K indirect blocks: OpenZFS's space_map_ibs. */
	int rc = mos(st)->object_alloc(spa, DMU_OT_SPACE_MAP, blksz, DMU_OT_SPACE_MAP_HEADER,
				       (unsigned)bonuslen, SPACE_MAP_IBS, tx, &obj);
	if (rc)
		return rc;
	uint8_t le[8];
	put_le64(le, obj);
	if ((rc = mos(st)->write(spa, ms->vd->metaslab_array, ms->id * 8, 8, le, tx)) != 0)
		return rc;
	ms->sm_object = obj;
	memset(&ms->sm, 0, sizeof(ms->sm));
	ms->sm.object = obj;
	ms->sm.bonuslen = bonuslen;
	ms->sm.blksz = blksz;
	st->sm_created++;
	return 0;
}

static int sync_metaslab(spa_t *spa, metaslab_state_t *st, metaslab_t *ms, uint64_t txg, dmu_tx_t *tx)
{
	int t = txg & TXG_MASK;
	int rc;
	if (!ms->sm_object && (rc = create_space_map(spa, st, ms, tx)) != 0)
		return rc;
	/* Take this pass's changes out first: whatever the writes below
	 * cause to be allocated lands in fresh trees for the next pass. */
	range_tree_t *allocs = range_tree_create(), *frees = range_tree_create();
	if (!allocs || !frees) {
		range_tree_destroy(allocs);
		range_tree_destroy(frees);
		return -ZFUSE_E_NOMEM;
	}
	range_tree_swap(allocs, ms->allocating[t]);
	range_tree_swap(frees, ms->freeing[t]);

	struct space_map_appender a;
	space_map_appender_init(&a, ms->sm.length, ms->sm.blksz, ms->start, (unsigned)ms->vd->ashift,
				st->feat_spacemap_v2);
	uint64_t old_length = ms->sm.length;
	/* The logs' changes first: this txg's own may reuse space they freed
	 * or free space they allocated. */
	int64_t log_delta = 0;
	rc = 0;
	if (ms->log_allocs) {
		rc = space_map_append_tree(&a, SM_ALLOC, ms->log_allocs, st->sync_pass, txg, SM_NO_VDEVID);
		log_delta += (int64_t)range_tree_space(ms->log_allocs);
	}
	if (rc == 0 && ms->log_frees) {
		rc = space_map_append_tree(&a, SM_FREE, ms->log_frees, st->sync_pass, txg, SM_NO_VDEVID);
		log_delta -= (int64_t)range_tree_space(ms->log_frees);
	}
	if (rc == 0)
		rc = space_map_append_tree(&a, SM_ALLOC, allocs, st->sync_pass, txg, SM_NO_VDEVID);
	if (rc == 0)
		rc = space_map_append_tree(&a, SM_FREE, frees, st->sync_pass, txg, SM_NO_VDEVID);
	uint8_t *bytes = rc == 0 ? malloc(a.nwords * 8 + 1) : NULL;
	if (rc == 0 && !bytes)
		rc = -ZFUSE_E_NOMEM;
	if (rc == 0) {
		space_map_appender_bytes(&a, bytes);
		rc = mos(st)->write(spa, ms->sm_object, old_length, a.nwords * 8, bytes, tx);
	}
	free(bytes);
	if (rc == 0) {
		struct space_map_header *h = &ms->sm;
		h->object = ms->sm_object;
		h->length = a.length;
		h->alloc += log_delta + (int64_t)range_tree_space(allocs) - (int64_t)range_tree_space(frees);
		if (h->bonuslen >= SPACE_MAP_SIZE_HISTOGRAM) {
			/* All free space, deferred and just-freed included, each
			 * tree counted on its own as OpenZFS does. */
			unsigned shift = (unsigned)ms->vd->ashift;
			memset(h->histogram, 0, sizeof(h->histogram));
			space_map_histogram_add(h->histogram, ms->allocatable, shift);
			space_map_histogram_add(h->histogram, ms->freed, shift);
			for (int d = 0; d < TXG_DEFER_SIZE; d++)
				space_map_histogram_add(h->histogram, ms->defer[d], shift);
			space_map_histogram_add(h->histogram, frees, shift);
		}
		uint8_t hdr[SPACE_MAP_SIZE_HISTOGRAM];
		space_map_header_encode(h, hdr, h->bonuslen);
		rc = mos(st)->bonus_write(spa, ms->sm_object, hdr, h->bonuslen, tx);
		ms->allocated = h->alloc;
	}
	space_map_appender_fini(&a);
	if (rc == 0) {
		range_tree_destroy(ms->log_allocs);
		range_tree_destroy(ms->log_frees);
		ms->log_allocs = ms->log_frees = NULL;
		rc = range_tree_add_tree(ms->alloc_synced[t], allocs);
	}
	if (rc == 0)
		rc = range_tree_add_tree(ms->freed, frees);
	range_tree_destroy(allocs);
	range_tree_destroy(frees);
	return rc;
}

/* Every metaslab map is complete (or is made so in this same pass by
 * sync_metaslab): no unflushed txgs, no logs. */
static int fold_logs(spa_t *spa, metaslab_state_t *st, dmu_tx_t *tx)
{
	const struct metaslab_mos_ops *ops = mos(st);
	if (!ops->object_free || !ops->zap_remove || !ops->feature_decr)
		return -ZFUSE_E_INVAL;
	int rc = 0;
	for (uint64_t v = 0; v < st->nvdevs && rc == 0; v++) {
		metaslab_vdev_t *mv = st->vdevs[v];
		bool any = false;
		for (uint64_t i = 0; mv && i < mv->count; i++)
			any |= mv->ms[i].unflushed_txg != 0;
		if (!any || !mv->unflushed_obj)
			continue;
		uint8_t *zeros = calloc(mv->count, 8);
		rc = zeros ? ops->write(spa, mv->unflushed_obj, 0, mv->count * 8, zeros, tx) : -ZFUSE_E_NOMEM;
		free(zeros);
		for (uint64_t i = 0; rc == 0 && i < mv->count; i++)
			mv->ms[i].unflushed_txg = 0;
	}
	for (size_t i = 0; i < st->nlogs && rc == 0; i++) {
		const struct space_map_log *l = &st->logs[i];
		char name[24];
		snprintf(name, sizeof(name), "%" PRIx64, l->txg);
		/* Each log with a histogram-sized header counted once towards
		 * spacemap_histogram when it was made. */
		if (st->feat_spacemap_histogram && l->bonuslen != SPACE_MAP_SIZE_V0)
			rc = ops->feature_decr(spa, "spacemap_histogram", tx);
		if (rc == 0)
			rc = ops->object_free(spa, l->obj, tx);
		if (rc == 0)
			rc = ops->zap_remove(spa, st->log_zap, name, tx);
	}
	if (rc)
		return rc;
	free(st->logs);
	st->logs = NULL;
	st->nlogs = 0;
	st->log_fold_pending = false;
	return 1;
}

int metaslab_sync(spa_t *spa, uint64_t txg, dmu_tx_t *tx)
{
	metaslab_state_t *st = spa->ms;
	if (!st)
		return 0;
	if (st->sync_txg != txg) {
		st->sync_txg = txg;
		st->sync_pass = 0;
	}
	st->sync_pass++;
	int dirtied = 0, rc = 0;
	if (st->log_fold_pending) {
		if ((rc = fold_logs(spa, st, tx)) < 0)
			return rc;
		dirtied = rc;
		rc = 0;
	}
	int t = txg & TXG_MASK;
	for (uint64_t v = 0; v < st->nvdevs && rc == 0; v++) {
		metaslab_vdev_t *mv = st->vdevs[v];
		if (!mv)
			continue;
		/* A new vdev gets its array in its first txg, used or not. */
		if (!mv->vd->metaslab_array) {
			if ((rc = create_metaslab_array(spa, st, mv->vd, tx)) != 0)
				break;
			dirtied = 1;
		}
		for (uint64_t i = 0; i < mv->count && rc == 0; i++) {
			metaslab_t *ms = &mv->ms[i];
			if (range_tree_is_empty(ms->allocating[t]) && range_tree_is_empty(ms->freeing[t]) &&
			    !ms->log_allocs && !ms->log_frees)
				continue;
			rc = sync_metaslab(spa, st, ms, txg, tx);
			dirtied = 1;
		}
	}
	return rc ? rc : dirtied;
}

void metaslab_sync_done(spa_t *spa, uint64_t txg)
{
	metaslab_state_t *st = spa->ms;
	if (!st)
		return;
	/* OpenZFS stops deferring when the pool is nearly full. */
	uint64_t space = metaslab_class_space(spa), alloc = metaslab_class_alloc(spa);
	bool defer_allowed = space > alloc && space - alloc > spa_slop_space(spa);
	int t = txg & TXG_MASK;
	for (uint64_t v = 0; v < st->nvdevs; v++) {
		metaslab_vdev_t *mv = st->vdevs[v];
		for (uint64_t i = 0; mv && i < mv->count; i++) {
			metaslab_t *ms = &mv->ms[i];
			range_tree_t *d = ms->defer[txg % TXG_DEFER_SIZE];
			range_tree_t *usable = st->scan_holds ? ms->scan_held : ms->allocatable;
			if (range_tree_add_tree(usable, d))
				spa_log(spa, ZFUSE_LOG_ERROR, "metaslab %" PRIu64 "/%" PRIu64 ": deferred frees lost",
					v, i);
			range_tree_vacate(d, NULL, NULL);
			if (defer_allowed) {
				range_tree_swap(ms->freed, d);
			} else {
				range_tree_add_tree(usable, ms->freed);
				range_tree_vacate(ms->freed, NULL, NULL);
			}
			range_tree_vacate(ms->alloc_synced[t], NULL, NULL);
			if (!range_tree_is_empty(ms->allocating[t]) || !range_tree_is_empty(ms->freeing[t]))
				spa_log(spa, ZFUSE_LOG_ERROR,
					"metaslab %" PRIu64 "/%" PRIu64 ": txg %" PRIu64
					" ended with changes never synced to its space map",
					v, i, txg);
		}
	}
}

void metaslab_scan_hold(spa_t *spa)
{
	SPA_ASSERT_WRITER(spa);
	if (spa->ms)
		spa->ms->scan_holds++;
}

void metaslab_scan_release(spa_t *spa)
{
	SPA_ASSERT_WRITER(spa);
	metaslab_state_t *st = spa->ms;
	if (!st || !st->scan_holds || --st->scan_holds)
		return;
	for (uint64_t v = 0; v < st->nvdevs; v++) {
		metaslab_vdev_t *mv = st->vdevs[v];
		for (uint64_t i = 0; mv && i < mv->count; i++) {
			metaslab_t *ms = &mv->ms[i];
			if (range_tree_add_tree(ms->allocatable, ms->scan_held))
				spa_log(spa, ZFUSE_LOG_ERROR, "metaslab %" PRIu64 "/%" PRIu64
					": space held for a scrub lost", v, i);
			range_tree_vacate(ms->scan_held, NULL, NULL);
		}
	}
}

/* ---- accounting --------------------------------------------------------- */

static bool ms_in_normal_class(const metaslab_t *ms)
{
	return !ms->vd->is_log && !ms->embedded_log;
}

static uint64_t deflate(spa_t *spa, const vdev_t *vd, uint64_t space)
{
	return spa->deflate ? (space >> SPA_MINBLOCKSHIFT) * vdev_deflate_ratio(vd) : space;
}

uint64_t metaslab_class_space(spa_t *spa)
{
	metaslab_state_t *st = spa->ms;
	uint64_t sum = 0;
	for (uint64_t v = 0; st && v < st->nvdevs; v++)
		for (uint64_t i = 0; st->vdevs[v] && i < st->vdevs[v]->count; i++)
			if (ms_in_normal_class(&st->vdevs[v]->ms[i]))
				sum += st->vdevs[v]->ms[i].size;
	return sum;
}

uint64_t metaslab_class_alloc(spa_t *spa)
{
	metaslab_state_t *st = spa->ms;
	uint64_t sum = 0;
	for (uint64_t v = 0; st && v < st->nvdevs; v++)
		for (uint64_t i = 0; st->vdevs[v] && i < st->vdevs[v]->count; i++)
			if (ms_in_normal_class(&st->vdevs[v]->ms[i]) && st->vdevs[v]->ms[i].allocated > 0)
				sum += (uint64_t)st->vdevs[v]->ms[i].allocated;
	return sum;
}

uint64_t metaslab_class_deferred(spa_t *spa)
{
	metaslab_state_t *st = spa->ms;
	uint64_t sum = 0;
	for (uint64_t v = 0; st && v < st->nvdevs; v++)
		for (uint64_t i = 0; st->vdevs[v] && i < st->vdevs[v]->count; i++) {
			const metaslab_t *ms = &st->vdevs[v]->ms[i];
			if (!ms_in_normal_class(ms))
				continue;
			sum += range_tree_space(ms->freed) + range_tree_space(ms->scan_held);
			for (int d = 0; d < TXG_DEFER_SIZE; d++)
				sum += range_tree_space(ms->defer[d]);
		}
	return sum;
}

/* Without loaded metaslabs (a read-only import): the split OpenZFS's
 * vdev_metaslab_init makes, from the vdev tree — whole metaslabs, one of
 * a big normal vdev set aside for the embedded log. */
static void dspace_from_tree(spa_t *spa, uint64_t *normal, uint64_t *elog)
{
	*normal = *elog = 0;
	for (uint64_t i = 0; spa->root && i < spa->root->nchild; i++) {
		vdev_t *top = spa->root->child[i];
		if (top->kind == VDEV_KIND_HOLE || top->kind == VDEV_KIND_MISSING || top->is_log ||
		    !top->metaslab_shift || top->metaslab_shift >= 64)
			continue;
		uint64_t count = top->asize >> top->metaslab_shift, ms = 1ULL << top->metaslab_shift;
		uint64_t log = count > EMBEDDED_SLOG_MIN_MS ? 1 : 0;
		*normal += deflate(spa, top, (count - log) * ms);
		*elog += deflate(spa, top, log * ms);
	}
}

uint64_t metaslab_class_dspace(spa_t *spa)
{
	metaslab_state_t *st = spa->ms;
	uint64_t sum = 0, elog;
	if (!st) {
		dspace_from_tree(spa, &sum, &elog);
		return sum;
	}
	for (uint64_t v = 0; v < st->nvdevs; v++) {
		metaslab_vdev_t *mv = st->vdevs[v];
		uint64_t raw = 0;
		for (uint64_t i = 0; mv && i < mv->count; i++)
			if (ms_in_normal_class(&mv->ms[i]))
				raw += mv->ms[i].size;
		if (mv)
			sum += deflate(spa, mv->vd, raw);
	}
	return sum;
}

uint64_t metaslab_class_embedded_log_dspace(spa_t *spa)
{
	metaslab_state_t *st = spa->ms;
	uint64_t sum = 0, normal;
	if (!st) {
		dspace_from_tree(spa, &normal, &sum);
		return sum;
	}
	for (uint64_t v = 0; v < st->nvdevs; v++) {
		metaslab_vdev_t *mv = st->vdevs[v];
		for (uint64_t i = 0; mv && i < mv->count; i++)
			if (mv->ms[i].embedded_log)
				sum += deflate(spa, mv->vd, mv->ms[i].size);
	}
	return sum;
}

uint64_t metaslab_vdev_space(spa_t *spa, uint64_t vdev_id)
{
	metaslab_vdev_t *mv = vdev_state(spa->ms, vdev_id);
	return mv ? mv->count << mv->vd->metaslab_shift : 0;
}

uint64_t metaslab_vdev_alloc(spa_t *spa, uint64_t vdev_id)
{
	metaslab_vdev_t *mv = vdev_state(spa->ms, vdev_id);
	uint64_t sum = 0;
	for (uint64_t i = 0; mv && i < mv->count; i++)
		if (mv->ms[i].allocated > 0)
			sum += (uint64_t)mv->ms[i].allocated;
	return sum;
}
