/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * test_metaslab.c — the block allocator and the space-map writer.
 *
 * Range trees are checked against a byte-bitmap model under random
 * operations. The allocator runs on hand-built vdevs with an in-memory MOS
 * (metaslab_mos_ops): every space map it writes is decoded again by the
 * reader's space_map_decode_words and must describe exactly the free space
 * the allocator keeps in core; frees must stay out of circulation for
 * TXG_DEFER_SIZE txgs. Entry encodings (one- and two-word, run splitting,
 * block padding) are checked word by word. Finally every fixture pool's
 * metaslabs are loaded from disk and the totals compared with what OpenZFS
 * reported (zpool-props.tsv: size, allocated). ZFUSE_SHARED and
 * ZFUSE_TEST_CACHE name the fixtures and where to unpack them.
 */
#include <check.h>
#include "check_main.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "byteorder.h"
#include "dmu_types.h"
#include "metaslab.h"
#include "range_tree.h"
#include "space_map.h"
#include "spa.h"
#include "zap.h"
#include "zfuse/errors.h"
#include "zfuse/zfuse.h"

/* ---- range trees ---------------------------------------------------------- */

START_TEST(range_tree_basics)
{
	range_tree_t *rt = range_tree_create();
	ck_assert_int_eq(range_tree_add(rt, 100, 50), 0);
	ck_assert_int_eq(range_tree_add(rt, 200, 50), 0);
	ck_assert_int_eq(range_tree_add(rt, 150, 50), 0);	/* bridges both */
	ck_assert_uint_eq(range_tree_numsegs(rt), 1);
	ck_assert_uint_eq(range_tree_space(rt), 150);
	ck_assert_int_eq(range_tree_add(rt, 120, 10), -ZFUSE_E_INVAL);	/* overlap */
	ck_assert_int_eq(range_tree_add(rt, 90, 20), -ZFUSE_E_INVAL);
	ck_assert_uint_eq(range_tree_space(rt), 150);
	ck_assert(range_tree_contains(rt, 100, 150));
	ck_assert(!range_tree_contains(rt, 99, 2));
	ck_assert(range_tree_intersects(rt, 99, 2));
	ck_assert(!range_tree_intersects(rt, 250, 10));
	ck_assert_int_eq(range_tree_remove(rt, 120, 10), 10);	/* split */
	ck_assert_uint_eq(range_tree_numsegs(rt), 2);
	ck_assert_int_eq(range_tree_remove(rt, 0, 110), 10);	/* partial overlap */
	ck_assert_int_eq(range_tree_remove(rt, 240, 1000), 10);
	ck_assert_uint_eq(range_tree_space(rt), 120);
	ck_assert_uint_eq(range_tree_overlap(rt, 0, 1000), 120);
	/* histogram: [110,120) size 10 -> bucket 3; [130,240) size 110 -> 6 */
	ck_assert_uint_eq(rt->histogram[3], 1);
	ck_assert_uint_eq(rt->histogram[6], 1);
	ck_assert_uint_eq(range_tree_largest(rt), 110);
	uint64_t o;
	ck_assert_int_eq(range_tree_find_first_fit(rt, 8, 8, 0, &o), 0);
	ck_assert_uint_eq(o, 112);
	ck_assert_int_eq(range_tree_find_first_fit(rt, 8, 8, 115, &o), 0);
	ck_assert_uint_eq(o, 136);
	ck_assert_int_eq(range_tree_find_first_fit(rt, 8, 8, 235, &o), 0);	/* wraps */
	ck_assert_uint_eq(o, 112);
	ck_assert_int_eq(range_tree_find_first_fit(rt, 200, 1, 0, &o), -ZFUSE_E_NOSPC);
	ck_assert_int_eq(range_tree_find_best_fit(rt, 10, 1, &o), 0);
	ck_assert_uint_eq(o, 110);
	range_tree_vacate(rt, NULL, NULL);
	ck_assert(range_tree_is_empty(rt));
	ck_assert_uint_eq(rt->histogram[6], 0);
	range_tree_destroy(rt);
}
END_TEST

static int check_seg(void *arg, uint64_t start, uint64_t size)
{
	const uint8_t *map = arg;
	for (uint64_t i = start; i < start + size; i++)
		if (!map[i])
			return 1;
	/* Segments are maximal: the neighbours are outside the set. */
	if ((start > 0 && map[start - 1]) || (start + size < 4096 && map[start + size]))
		return 2;
	return 0;
}

START_TEST(range_tree_random_vs_bitmap)
{
	enum { N = 4096 };
	static uint8_t map[N];
	memset(map, 0, sizeof(map));
	range_tree_t *rt = range_tree_create();
	srandom(1234);
	for (int step = 0; step < 20000; step++) {
		uint64_t s = (uint64_t)random() % N, len = 1 + (uint64_t)random() % 64;
		if (s + len > N)
			len = N - s;
		uint64_t inset = 0;
		for (uint64_t i = s; i < s + len; i++)
			inset += map[i];
		if (random() % 2) {
			int rc = range_tree_add(rt, s, len);
			if (inset) {
				ck_assert_int_eq(rc, -ZFUSE_E_INVAL);
			} else {
				ck_assert_int_eq(rc, 0);
				memset(map + s, 1, len);
			}
		} else {
			ck_assert_int_eq(range_tree_overlap(rt, s, len), inset);
			ck_assert_int_eq(range_tree_intersects(rt, s, len), inset > 0);
			ck_assert_int_eq(range_tree_contains(rt, s, len), inset == len);
			ck_assert_int_eq(range_tree_remove(rt, s, len), (int64_t)inset);
			memset(map + s, 0, len);
		}
		if (step % 500 == 0) {
			uint64_t total = 0, hist[64] = { 0 };
			for (int i = 0; i < N; i++)
				total += map[i];
			ck_assert_uint_eq(range_tree_space(rt), total);
			ck_assert_int_eq(range_tree_walk(rt, check_seg, map), 0);
			for (size_t i = 0; i < rt->nsegs; i++)
				hist[range_tree_bucket(rt->segs[i].end - rt->segs[i].start)]++;
			ck_assert_mem_eq(hist, rt->histogram, sizeof(hist));
			/* first fit agrees with a linear scan */
			uint64_t want = UINT64_MAX, cur = (uint64_t)random() % N, got;
			for (uint64_t o = (cur + 15) & ~15ULL; o + 16 <= N && want == UINT64_MAX; o += 16) {
				bool all = true;
				for (int i = 0; i < 16 && all; i++)
					all = map[o + i];
				if (all)
					want = o;
			}
			if (want == UINT64_MAX)
				for (uint64_t o = 0; o + 16 <= N && want == UINT64_MAX; o += 16) {
					bool all = true;
					for (int i = 0; i < 16 && all; i++)
						all = map[o + i];
					if (all)
						want = o;
				}
			int rc = range_tree_find_first_fit(rt, 16, 16, cur, &got);
			if (want == UINT64_MAX) {
				ck_assert_int_eq(rc, -ZFUSE_E_NOSPC);
			} else {
				ck_assert_int_eq(rc, 0);
				ck_assert_uint_eq(got, want);
			}
		}
	}
	range_tree_destroy(rt);
}
END_TEST

/* ---- metaslab_shift ------------------------------------------------------- */

START_TEST(metaslab_shift_rule)
{
	/* 128 MiB file vdev (asize 123.5 MiB): shift 24, 7 metaslabs (§9.1) */
	ck_assert_uint_eq(metaslab_choose_shift(129499136), 24);
	ck_assert_uint_eq(129499136 >> 24, 7);
	/* 4 GiB: fewer than 16 x 512M -> asize/16 = 256M -> highbit 29 */
	ck_assert_uint_eq(metaslab_choose_shift(4ULL << 30), 29);
	ck_assert_uint_eq(metaslab_choose_shift((4ULL << 30) - (4ULL << 20)), 28);
	/* 50 GiB: 100 metaslabs of 512M */
	ck_assert_uint_eq(metaslab_choose_shift(50ULL << 30), 29);
	/* 1 TiB: > 200 -> asize/200 = 5.1G -> highbit 33 */
	ck_assert_uint_eq(metaslab_choose_shift(1ULL << 40), 33);
	/* 10 TiB: capped at 16G metaslabs */
	ck_assert_uint_eq(metaslab_choose_shift(10ULL << 40), 34);
	/* 8 PiB: 16G would make > 131072 metaslabs: 2^53 / 2^17 -> highbit 37 */
	ck_assert_uint_eq(metaslab_choose_shift(8ULL << 50), 37);
	/* tiny: never below SPA_MAXBLOCKSHIFT */
	ck_assert_uint_eq(metaslab_choose_shift(64ULL << 20), 24);
}
END_TEST

/* ---- an in-memory MOS ----------------------------------------------------- */

struct fake_obj {
	unsigned type, bonustype, ibs;
	uint64_t blksz, bonuslen;
	uint8_t *data;
	uint64_t size;
	uint8_t bonus[320];
};

static struct fake_obj objs[256];
static uint64_t nobjs;
static uint64_t writes;

static int fake_alloc(spa_t *spa, unsigned type, uint64_t blksz, unsigned bonustype, unsigned bonuslen,
		      unsigned ibs, dmu_tx_t *tx, uint64_t *object)
{
	(void)spa;
	(void)tx;
	ck_assert_uint_lt(nobjs + 1, 256);
	uint64_t o = ++nobjs;	/* object 0 is the meta-dnode's */
	memset(&objs[o], 0, sizeof(objs[o]));
	objs[o].type = type;
	objs[o].blksz = blksz ? blksz : 512;
	objs[o].bonustype = bonustype;
	objs[o].bonuslen = bonuslen;
	objs[o].ibs = ibs ? ibs : 17;
	*object = o;
	return 0;
}

static int fake_write(spa_t *spa, uint64_t object, uint64_t off, uint64_t len, const void *buf, dmu_tx_t *tx)
{
	(void)spa;
	(void)tx;
	ck_assert(object >= 1 && object <= nobjs);
	struct fake_obj *o = &objs[object];
	if (off + len > o->size) {
		o->data = realloc(o->data, off + len);
		memset(o->data + o->size, 0, off + len - o->size);
		o->size = off + len;
	}
	memcpy(o->data + off, buf, len);
	writes++;
	return 0;
}

static int fake_bonus_write(spa_t *spa, uint64_t object, const void *buf, uint64_t len, dmu_tx_t *tx)
{
	(void)spa;
	(void)tx;
	ck_assert(object >= 1 && object <= nobjs);
	ck_assert_uint_eq(len, objs[object].bonuslen);
	memcpy(objs[object].bonus, buf, len);
	return 0;
}

/* Folding log space maps: what was freed, removed and decremented. */
static uint64_t freed_objs[64], nfreed;
static char removed_names[64][24];
static uint64_t removed_zap[64], nremoved;
static uint64_t histogram_decrs;

static int fake_object_free(spa_t *spa, uint64_t object, dmu_tx_t *tx)
{
	(void)spa;
	(void)tx;
	ck_assert_uint_lt(nfreed, 64);
	freed_objs[nfreed++] = object;
	return 0;
}

static int fake_zap_remove(spa_t *spa, uint64_t zapobj, const char *name, dmu_tx_t *tx)
{
	(void)spa;
	(void)tx;
	ck_assert_uint_lt(nremoved, 64);
	removed_zap[nremoved] = zapobj;
	snprintf(removed_names[nremoved++], sizeof(removed_names[0]), "%s", name);
	return 0;
}

static int fake_feature_decr(spa_t *spa, const char *name, dmu_tx_t *tx)
{
	(void)spa;
	(void)tx;
	ck_assert_str_eq(name, "spacemap_histogram");
	histogram_decrs++;
	return 0;
}

static const struct metaslab_mos_ops fake_ops = { fake_alloc, fake_write, fake_bonus_write,
						  fake_object_free, fake_zap_remove, fake_feature_decr };

static void fake_reset(void)
{
	for (uint64_t i = 1; i <= nobjs; i++)
		free(objs[i].data);
	nobjs = 0;
	writes = 0;
}

/* A pool of nvd single-disk top-level vdevs of asize bytes each. */
struct test_pool {
	spa_t spa;
	vdev_t root;
	vdev_t tops[4];
	vdev_t *kids[4];
};

static void pool_make(struct test_pool *p, int nvd, uint64_t asize, unsigned ashift, bool v2, bool hist)
{
	memset(p, 0, sizeof(*p));
	p->spa.log_level = ZFUSE_LOG_ERROR;
	p->spa.root = &p->root;
	p->root.kind = VDEV_KIND_ROOT;
	p->root.child = p->kids;
	p->root.nchild = (uint64_t)nvd;
	fake_reset();
	for (int i = 0; i < nvd; i++) {
		vdev_t *v = &p->tops[i];
		p->kids[i] = v;
		v->kind = VDEV_KIND_LEAF;
		strcpy(v->type, "file");
		v->id = (uint64_t)i;
		v->asize = asize;
		v->ashift = ashift;
		v->parent = &p->root;
		ck_assert_int_eq(metaslab_init_vdev(&p->spa, v, true), 0);
	}
	metaslab_state_t *st = p->spa.ms;
	st->feat_spacemap_v2 = v2;
	st->feat_spacemap_histogram = hist;
	st->mos_ops = &fake_ops;
}

static void pool_free(struct test_pool *p)
{
	metaslab_fini(&p->spa);
	fake_reset();
}

struct rebuild {
	range_tree_t *allocated;
	uint64_t last_txg;
	unsigned last_pass;
	uint64_t nentries, ntwo;
	int64_t net;
	bool bad;
};

static int rebuild_entry(void *arg, const struct space_map_entry *e)
{
	struct rebuild *r = arg;
	r->nentries++;
	r->ntwo += e->two_word;
	r->last_txg = e->txg;
	r->last_pass = e->pass;
	if (e->is_free) {
		if (range_tree_remove(r->allocated, e->start, e->len) != (int64_t)e->len)
			r->bad = true;
		r->net -= (int64_t)e->len;
	} else {
		if (range_tree_add(r->allocated, e->start, e->len) != 0)
			r->bad = true;
		r->net += (int64_t)e->len;
	}
	return 0;
}

/* Decode the space map of ms as a reader would, block by block. */
static void decode_map(const metaslab_t *ms, struct rebuild *r)
{
	memset(r, 0, sizeof(*r));
	r->allocated = range_tree_create();
	if (!ms->sm_object)
		return;
	struct fake_obj *o = &objs[ms->sm_object];
	ck_assert_uint_eq(o->type, DMU_OT_SPACE_MAP);
	ck_assert_uint_eq(o->bonustype, DMU_OT_SPACE_MAP_HEADER);
	ck_assert_uint_eq(o->ibs, 14);
	uint64_t length = le64(o->bonus + 8);
	ck_assert_uint_eq(le64(o->bonus), ms->sm_object);
	ck_assert_uint_le(length, o->size);
	struct space_map_cursor cur = { 0, 0 };
	for (uint64_t off = 0; off < length; off += o->blksz) {
		uint64_t n = (length - off < o->blksz ? length - off : o->blksz) / 8;
		ck_assert_int_eq(space_map_decode_words(o->data + off, n, ms->start, (unsigned)ms->vd->ashift,
							&cur, rebuild_entry, r),
				 0);
	}
	ck_assert(!r->bad);
	ck_assert_int_eq((int64_t)le64(o->bonus + 16), r->net);
}

/* The map says free exactly what is allocatable or deferred in core. */
static void check_maps(struct test_pool *p)
{
	metaslab_state_t *st = p->spa.ms;
	for (uint64_t v = 0; v < st->nvdevs; v++) {
		metaslab_vdev_t *mv = st->vdevs[v];
		if (mv->vd->metaslab_array) {
			struct fake_obj *arr = &objs[mv->vd->metaslab_array];
			ck_assert_uint_eq(arr->type, DMU_OT_OBJECT_ARRAY);
			for (uint64_t i = 0; i < mv->count; i++) {
				uint64_t want = mv->ms[i].sm_object;
				uint64_t got = (i + 1) * 8 <= arr->size ? le64(arr->data + 8 * i) : 0;
				ck_assert_uint_eq(got, want);
			}
		}
		for (uint64_t i = 0; i < mv->count; i++) {
			metaslab_t *ms = &mv->ms[i];
			struct rebuild r;
			decode_map(ms, &r);
			range_tree_t *freeset = range_tree_create();
			ck_assert_int_eq(range_tree_add(freeset, ms->start, ms->size), 0);
			for (size_t k = 0; k < r.allocated->nsegs; k++)
				range_tree_remove(freeset, r.allocated->segs[k].start,
						  r.allocated->segs[k].end - r.allocated->segs[k].start);
			range_tree_t *incore = range_tree_create();
			ck_assert_int_eq(range_tree_add_tree(incore, ms->allocatable), 0);
			for (int d = 0; d < TXG_DEFER_SIZE; d++)
				ck_assert_int_eq(range_tree_add_tree(incore, ms->defer[d]), 0);
			ck_assert_uint_eq(freeset->nsegs, incore->nsegs);
			ck_assert_mem_eq(freeset->segs, incore->segs, freeset->nsegs * sizeof(range_seg_t));
			ck_assert_int_eq(ms->allocated, (int64_t)range_tree_space(r.allocated));
			range_tree_destroy(freeset);
			range_tree_destroy(incore);
			range_tree_destroy(r.allocated);
		}
	}
}

static void sync_txg(struct test_pool *p, uint64_t txg)
{
	dmu_tx_t tx = { &p->spa, txg };
	while (metaslab_sync(&p->spa, txg, &tx) > 0)
		;
	metaslab_sync_done(&p->spa, txg);
}

/* ---- allocation ----------------------------------------------------------- */

START_TEST(alloc_alignment_no_overlap)
{
	struct test_pool p;
	pool_make(&p, 2, 64ULL << 20, 12, true, true);
	range_tree_t *seen[2] = { range_tree_create(), range_tree_create() };
	srandom(42);
	uint64_t txg = 4, total = 0;
	int n = 0;
	for (;;) {
		uint64_t psize = 512 * (1 + (uint64_t)random() % 256);
		blkptr_t bp;
		memset(&bp, 0, sizeof(bp));
		int rc = metaslab_alloc(&p.spa, psize, 1, txg, &bp);
		if (rc == -ZFUSE_E_NOSPC)
			break;
		ck_assert_int_eq(rc, 0);
		const dva_t *d = &bp.blk_dva[0];
		ck_assert_uint_lt(dva_vdev(d), 2);
		ck_assert_uint_eq(dva_offset(d) % 4096, 0);
		ck_assert_uint_eq(dva_asize(d), (psize + 4095) & ~4095ULL);
		ck_assert(!dva_is_gang(d));
		uint64_t shift = p.tops[0].metaslab_shift;
		ck_assert_uint_eq(dva_offset(d) >> shift, (dva_offset(d) + dva_asize(d) - 1) >> shift);
		ck_assert_uint_le(dva_offset(d) + dva_asize(d), (p.tops[0].asize >> shift) << shift);
		ck_assert_int_eq(range_tree_add(seen[dva_vdev(d)], dva_offset(d), dva_asize(d)), 0);
		total += dva_asize(d);
		if (++n % 100 == 0)
			sync_txg(&p, txg++);
	}
	sync_txg(&p, txg);
	/* Both vdevs were used (the rotor moves) and filled almost up. */
	ck_assert_uint_gt(range_tree_space(seen[0]), 32ULL << 20);
	ck_assert_uint_gt(range_tree_space(seen[1]), 32ULL << 20);
	ck_assert_uint_eq(metaslab_class_alloc(&p.spa), total);
	ck_assert_uint_eq(metaslab_class_space(&p.spa), 2 * (64ULL << 20));
	ck_assert_uint_gt(total, 2 * (64ULL << 20) - (2ULL << 20));
	check_maps(&p);
	range_tree_destroy(seen[0]);
	range_tree_destroy(seen[1]);
	pool_free(&p);
}
END_TEST

START_TEST(alloc_copies_spread)
{
	struct test_pool p;
	pool_make(&p, 2, 64ULL << 20, 9, true, true);
	blkptr_t bp;
	for (int i = 0; i < 50; i++) {
		memset(&bp, 0, sizeof(bp));
		ck_assert_int_eq(metaslab_alloc(&p.spa, 4096, 2, 4, &bp), 0);
		ck_assert_uint_ne(dva_vdev(&bp.blk_dva[0]), dva_vdev(&bp.blk_dva[1]));
		ck_assert(!dva_is_valid(&bp.blk_dva[2]));
	}
	/* Three copies on two vdevs: the third goes to another metaslab. */
	ck_assert_int_eq(metaslab_alloc(&p.spa, 4096, 3, 4, &bp), 0);
	for (int a = 0; a < 3; a++)
		for (int b = a + 1; b < 3; b++)
			ck_assert(dva_vdev(&bp.blk_dva[a]) != dva_vdev(&bp.blk_dva[b]) ||
				  dva_offset(&bp.blk_dva[a]) >> 24 != dva_offset(&bp.blk_dva[b]) >> 24);
	sync_txg(&p, 4);
	check_maps(&p);
	pool_free(&p);

	/* One vdev: ditto copies land in different metaslabs. */
	pool_make(&p, 1, 64ULL << 20, 9, true, true);
	for (int i = 0; i < 20; i++) {
		memset(&bp, 0, sizeof(bp));
		ck_assert_int_eq(metaslab_alloc(&p.spa, 8192, 3, 4, &bp), 0);
		uint64_t m0 = dva_offset(&bp.blk_dva[0]) >> 24, m1 = dva_offset(&bp.blk_dva[1]) >> 24,
			 m2 = dva_offset(&bp.blk_dva[2]) >> 24;
		ck_assert(m0 != m1 && m1 != m2 && m0 != m2);
	}
	sync_txg(&p, 4);
	check_maps(&p);
	pool_free(&p);
}
END_TEST

START_TEST(alloc_all_or_nothing)
{
	struct test_pool p;
	pool_make(&p, 1, 64ULL << 20, 9, true, true);
	/* 3 metaslabs of 16M (64M >> 24 = 4, minus nothing): fill all but one
	 * so a 2-copy allocation cannot find two metaslabs. */
	uint64_t count = p.spa.ms->vdevs[0]->count;
	blkptr_t bp;
	for (uint64_t m = 0; m + 1 < count; m++) {
		for (int k = 0; k < 16; k++) {
			memset(&bp, 0, sizeof(bp));
			ck_assert_int_eq(metaslab_alloc(&p.spa, 1ULL << 20, 1, 4, &bp), 0);
		}
	}
	uint64_t before = range_tree_space(p.spa.ms->vdevs[0]->ms[count - 1].allocatable);
	ck_assert_uint_eq(before, 16ULL << 20);
	ck_assert_int_eq(metaslab_alloc(&p.spa, 4096, 2, 4, &bp), -ZFUSE_E_NOSPC);
	/* the first copy was given back */
	ck_assert_uint_eq(range_tree_space(p.spa.ms->vdevs[0]->ms[count - 1].allocatable), before);
	ck_assert_int_eq(metaslab_alloc(&p.spa, 32ULL << 20, 1, 4, &bp), -ZFUSE_E_NOSPC);
	pool_free(&p);
}
END_TEST

/* ---- frees, deferral, unallocation ---------------------------------------- */

START_TEST(free_defer_timing)
{
	struct test_pool p;
	pool_make(&p, 1, 64ULL << 20, 12, false, true);
	blkptr_t bp;
	memset(&bp, 0, sizeof(bp));
	ck_assert_int_eq(metaslab_alloc(&p.spa, 128 << 10, 1, 10, &bp), 0);
	sync_txg(&p, 10);
	check_maps(&p);
	uint64_t off = dva_offset(&bp.blk_dva[0]);
	metaslab_t *ms = metaslab_lookup(&p.spa, 0, off);
	ck_assert_ptr_nonnull(ms);
	ck_assert_int_eq(ms->allocated, 128 << 10);

	metaslab_free_dva(&p.spa, &bp.blk_dva[0], 11);
	/* a second free of the same space is refused (logged), not recorded */
	metaslab_free_dva(&p.spa, &bp.blk_dva[0], 11);
	ck_assert_uint_eq(range_tree_space(ms->freeing[11 & TXG_MASK]), 128 << 10);
	sync_txg(&p, 11);
	check_maps(&p);
	ck_assert_int_eq(ms->allocated, 0);
	ck_assert(!range_tree_intersects(ms->allocatable, off, 128 << 10));
	ck_assert_uint_eq(metaslab_class_deferred(&p.spa), 128 << 10);
	sync_txg(&p, 12);
	ck_assert(!range_tree_intersects(ms->allocatable, off, 128 << 10));
	sync_txg(&p, 13);
	ck_assert(range_tree_contains(ms->allocatable, off, 128 << 10));
	ck_assert_uint_eq(metaslab_class_deferred(&p.spa), 0);
	check_maps(&p);

	/* While deferred, allocations avoid the freed range. */
	memset(&bp, 0, sizeof(bp));
	ck_assert_int_eq(metaslab_alloc(&p.spa, 64 << 10, 1, 14, &bp), 0);
	sync_txg(&p, 14);
	metaslab_free_dva(&p.spa, &bp.blk_dva[0], 15);
	sync_txg(&p, 15);
	uint64_t freed_off = dva_offset(&bp.blk_dva[0]);
	for (int i = 0; i < 200; i++) {
		blkptr_t b2;
		memset(&b2, 0, sizeof(b2));
		ck_assert_int_eq(metaslab_alloc(&p.spa, 64 << 10, 1, 16, &b2), 0);
		uint64_t o = dva_offset(&b2.blk_dva[0]);
		ck_assert(o + (64 << 10) <= freed_off || o >= freed_off + (64 << 10));
	}
	sync_txg(&p, 16);
	check_maps(&p);
	pool_free(&p);
}
END_TEST

START_TEST(unalloc_same_txg)
{
	struct test_pool p;
	pool_make(&p, 1, 64ULL << 20, 12, true, true);
	blkptr_t bp;
	memset(&bp, 0, sizeof(bp));
	ck_assert_int_eq(metaslab_alloc(&p.spa, 8192, 1, 20, &bp), 0);
	uint64_t off = dva_offset(&bp.blk_dva[0]);
	metaslab_unalloc_dva(&p.spa, &bp.blk_dva[0], 20);
	metaslab_t *ms = metaslab_lookup(&p.spa, 0, off);
	ck_assert(range_tree_contains(ms->allocatable, off, 8192));
	dmu_tx_t tx = { &p.spa, 20 };
	/* nothing to record: no space map is even created */
	ck_assert_int_eq(metaslab_sync(&p.spa, 20, &tx), 1);	/* the metaslab array */
	ck_assert_int_eq(metaslab_sync(&p.spa, 20, &tx), 0);
	ck_assert_uint_eq(ms->sm_object, 0);

	/* Rewritten after its ALLOC reached the map (pass 1): pass 2 frees it. */
	memset(&bp, 0, sizeof(bp));
	ck_assert_int_eq(metaslab_alloc(&p.spa, 8192, 1, 21, &bp), 0);
	tx.txg = 21;
	ck_assert_int_eq(metaslab_sync(&p.spa, 21, &tx), 1);
	metaslab_unalloc_dva(&p.spa, &bp.blk_dva[0], 21);
	ck_assert_int_eq(metaslab_sync(&p.spa, 21, &tx), 1);
	ck_assert_int_eq(metaslab_sync(&p.spa, 21, &tx), 0);
	metaslab_sync_done(&p.spa, 21);
	ms = metaslab_lookup(&p.spa, 0, dva_offset(&bp.blk_dva[0]));
	struct rebuild r;
	decode_map(ms, &r);
	ck_assert_uint_eq(range_tree_space(r.allocated), 0);
	ck_assert_uint_eq(r.last_txg, 21);
	ck_assert_uint_eq(r.last_pass, 2);
	range_tree_destroy(r.allocated);
	check_maps(&p);
	pool_free(&p);
}
END_TEST

/* ---- space map words ------------------------------------------------------ */

START_TEST(sync_passes_append_only_new)
{
	struct test_pool p;
	pool_make(&p, 1, 64ULL << 20, 9, false, false);
	dmu_tx_t tx = { &p.spa, 7 };
	blkptr_t bp;
	memset(&bp, 0, sizeof(bp));
	ck_assert_int_eq(metaslab_alloc(&p.spa, 4096, 1, 7, &bp), 0);
	ck_assert_int_eq(metaslab_sync(&p.spa, 7, &tx), 1);
	metaslab_t *ms = metaslab_lookup(&p.spa, 0, dva_offset(&bp.blk_dva[0]));
	struct fake_obj *o = &objs[ms->sm_object];
	ck_assert_uint_eq(o->blksz, 16384);	/* no log_spacemap */
	ck_assert_uint_eq(o->bonuslen, 24);	/* no spacemap_histogram */
	ck_assert_uint_eq(le64(o->bonus + 8), 16);	/* debug + one entry */
	uint64_t w0 = le64(o->data), w1 = le64(o->data + 8);
	ck_assert_uint_eq(w0, (2ULL << 62) | (0ULL << 60) | (1ULL << 50) | 7);
	uint64_t unit = (dva_offset(&bp.blk_dva[0]) - ms->start) >> 9;
	ck_assert_uint_eq(w1, (unit << 16) | (0 << 15) | (8 - 1));
	ck_assert_int_eq(metaslab_sync(&p.spa, 7, &tx), 0);	/* nothing new */

	/* pass 2: one more alloc and a free, appended after the old words */
	blkptr_t b2;
	memset(&b2, 0, sizeof(b2));
	ck_assert_int_eq(metaslab_alloc(&p.spa, 512, 1, 7, &b2), 0);
	metaslab_free_dva(&p.spa, &bp.blk_dva[0], 7);
	ck_assert_int_eq(metaslab_sync(&p.spa, 7, &tx), 1);
	ck_assert_uint_eq(le64(o->bonus + 8), 48);
	ck_assert_uint_eq(le64(o->data), w0);
	ck_assert_uint_eq(le64(o->data + 16), (2ULL << 62) | (0ULL << 60) | (3ULL << 50) | 7);
	ck_assert_uint_eq(le64(o->data + 32), (2ULL << 62) | (1ULL << 60) | (3ULL << 50) | 7);
	ck_assert_uint_eq(le64(o->data + 40), (unit << 16) | (1 << 15) | (8 - 1));
	ck_assert_int_eq((int64_t)le64(o->bonus + 16), 512);
	metaslab_sync_done(&p.spa, 7);
	check_maps(&p);
	pool_free(&p);
}
END_TEST

struct collect {
	struct space_map_entry e[64];
	int n;
};

static int collect_entry(void *arg, const struct space_map_entry *e)
{
	struct collect *c = arg;
	ck_assert_int_lt(c->n, 64);
	c->e[c->n++] = *e;
	return 0;
}

static void decode_appender(const struct space_map_appender *a, uint64_t first_len, uint64_t sm_start,
			    unsigned shift, struct collect *c)
{
	/* lay the words out at their file offsets and decode per block */
	uint64_t end = first_len + a->nwords * 8;
	uint8_t *file = calloc(1, end);
	space_map_appender_bytes(a, file + first_len);
	struct space_map_cursor cur = { 0, 0 };
	c->n = 0;
	for (uint64_t off = first_len - first_len % a->blksz; off < end; off += a->blksz) {
		uint64_t from = off < first_len ? first_len : off;
		uint64_t to = off + a->blksz < end ? off + a->blksz : end;
		ck_assert_int_eq(space_map_decode_words(file + from, (to - from) / 8, sm_start, shift, &cur,
							collect_entry, c),
				 0);
	}
	free(file);
}

START_TEST(encode_v1_v2_roundtrip)
{
	const uint64_t base = 3ULL << 29;
	struct space_map_appender a;
	struct collect c;
	/* v1: a 40 MiB run at ashift 9 = 81920 units -> 3 one-word entries */
	space_map_appender_init(&a, 0, 16384, base, 9, false);
	ck_assert_int_eq(space_map_append_debug(&a, SM_FREE, 5, 77), 0);
	ck_assert_int_eq(space_map_append_extent(&a, SM_FREE, base + 4096, 40ULL << 20, SM_NO_VDEVID), 0);
	ck_assert_uint_eq(a.nwords, 4);
	ck_assert_uint_eq(a.words[1] & 0x7fff, 0x7fff);
	ck_assert_uint_eq(a.words[3] & 0x7fff, 81920 - 2 * 32768 - 1);
	decode_appender(&a, 0, base, 9, &c);
	ck_assert_int_eq(c.n, 3);
	uint64_t sum = 0;
	for (int i = 0; i < 3; i++) {
		ck_assert(c.e[i].is_free && !c.e[i].two_word);
		ck_assert_uint_eq(c.e[i].txg, 77);
		ck_assert_uint_eq(c.e[i].pass, 5);
		ck_assert_uint_eq(c.e[i].start, base + 4096 + sum);
		sum += c.e[i].len;
	}
	ck_assert_uint_eq(sum, 40ULL << 20);
	space_map_appender_fini(&a);

	/* v2: the same run is one two-word entry; short runs stay one word */
	space_map_appender_init(&a, 0, 16384, base, 9, true);
	ck_assert_int_eq(space_map_append_extent(&a, SM_ALLOC, base + 4096, 40ULL << 20, SM_NO_VDEVID), 0);
	ck_assert_int_eq(space_map_append_extent(&a, SM_ALLOC, base + (50ULL << 20), 8192, SM_NO_VDEVID), 0);
	ck_assert_uint_eq(a.nwords, 3);
	ck_assert_uint_eq(a.words[0] >> 62, 3);
	ck_assert_uint_eq((a.words[0] >> 24) & ((1ULL << 36) - 1), 81920 - 1);
	ck_assert_uint_eq(a.words[0] & 0xffffff, 0);	/* SM_NO_VDEVID truncated */
	ck_assert_uint_eq(a.words[1], 8);		/* ALLOC, offset 4096 >> 9 */
	decode_appender(&a, 0, base, 9, &c);
	ck_assert_int_eq(c.n, 2);
	ck_assert(c.e[0].two_word && !c.e[0].is_free);
	ck_assert_uint_eq(c.e[0].len, 40ULL << 20);
	ck_assert(!c.e[1].two_word);
	ck_assert_uint_eq(c.e[1].start, base + (50ULL << 20));
	space_map_appender_fini(&a);

	/* padding: a two-word entry never straddles a block */
	space_map_appender_init(&a, 16384 - 16, 16384, base, 9, true);
	ck_assert_int_eq(space_map_append_debug(&a, SM_ALLOC, 1, 9), 0);
	ck_assert_int_eq(space_map_append_extent(&a, SM_ALLOC, base, 20ULL << 20, SM_NO_VDEVID), 0);
	ck_assert_uint_eq(a.nwords, 4);
	ck_assert_uint_eq(a.words[1], 2ULL << 62);	/* the padding debug word */
	ck_assert_uint_eq(a.length, 16384 + 16);
	decode_appender(&a, 16384 - 16, base, 9, &c);
	ck_assert_int_eq(c.n, 1);
	ck_assert_uint_eq(c.e[0].txg, 9);	/* padding does not reset txg */
	ck_assert_uint_eq(c.e[0].len, 20ULL << 20);
	space_map_appender_fini(&a);

	/* v1 cannot record a vdev id; units must be whole */
	space_map_appender_init(&a, 0, 16384, base, 9, false);
	ck_assert_int_eq(space_map_append_extent(&a, SM_ALLOC, base, 512, 3), -ZFUSE_E_INVAL);
	ck_assert_int_eq(space_map_append_extent(&a, SM_ALLOC, base + 100, 512, SM_NO_VDEVID), -ZFUSE_E_INVAL);
	space_map_appender_fini(&a);
}
END_TEST

START_TEST(histogram_rule)
{
	range_tree_t *rt = range_tree_create();
	/* at shift 12: 4K -> bucket 0, 12K -> 1, 1M -> 8, 64T -> 31 x 2^(46-43) */
	range_tree_add(rt, 0, 4096);
	range_tree_add(rt, 1 << 20, 12288);
	range_tree_add(rt, 8 << 20, 1 << 20);
	range_tree_add(rt, 1ULL << 50, 1ULL << 46);
	uint64_t h[SPACE_MAP_HISTOGRAM_SIZE] = { 0 };
	space_map_histogram_add(h, rt, 12);
	ck_assert_uint_eq(h[0], 1);
	ck_assert_uint_eq(h[1], 1);
	ck_assert_uint_eq(h[8], 1);
	ck_assert_uint_eq(h[31], 1ULL << (46 - 12 - 31));
	range_tree_destroy(rt);
}
END_TEST

START_TEST(sync_histogram_and_many_txgs)
{
	struct test_pool p;
	pool_make(&p, 1, 256ULL << 20, 12, true, true);
	srandom(7);
	blkptr_t live[400];
	int nlive = 0;
	for (uint64_t txg = 4; txg < 40; txg++) {
		for (int k = 0; k < 30; k++) {
			if (nlive < 400 && (random() % 3 || nlive == 0)) {
				memset(&live[nlive], 0, sizeof(blkptr_t));
				ck_assert_int_eq(metaslab_alloc(&p.spa, 4096 * (1 + (uint64_t)random() % 32), 1, txg,
								&live[nlive]), 0);
				nlive++;
			} else {
				int i = (int)((uint64_t)random() % (uint64_t)nlive);
				metaslab_free_dva(&p.spa, &live[i].blk_dva[0], txg);
				live[i] = live[--nlive];
			}
		}
		dmu_tx_t tx = { &p.spa, txg };
		/* more passes with stragglers, as MOS rewrites would cause */
		ck_assert_int_eq(metaslab_sync(&p.spa, txg, &tx), 1);
		blkptr_t extra;
		memset(&extra, 0, sizeof(extra));
		ck_assert_int_eq(metaslab_alloc(&p.spa, 4096, 1, txg, &extra), 0);
		ck_assert_int_eq(metaslab_sync(&p.spa, txg, &tx), 1);
		ck_assert_int_eq(metaslab_sync(&p.spa, txg, &tx), 0);
		metaslab_sync_done(&p.spa, txg);
		check_maps(&p);
		/* the histogram on disk matches free space (+ deferred) */
		metaslab_vdev_t *mv = p.spa.ms->vdevs[0];
		for (uint64_t i = 0; i < mv->count; i++) {
			metaslab_t *ms = &mv->ms[i];
			if (!ms->sm_object)
				continue;
			struct fake_obj *o = &objs[ms->sm_object];
			ck_assert_uint_eq(o->bonuslen, 320);
			uint64_t n = 0;
			for (int b = 0; b < 32; b++)
				n += le64(o->bonus + 64 + 8 * b);
			ck_assert_uint_gt(n, 0);
		}
	}
	pool_free(&p);
}
END_TEST

START_TEST(slop_rule)
{
	struct test_pool p;
	/* small pool: slop = max(space/32, min(space/2, 128M)) = space/2 */
	pool_make(&p, 1, 64ULL << 20, 12, true, true);
	ck_assert_uint_eq(spa_slop_space(&p.spa), 32ULL << 20);
	pool_free(&p);
	/* 8 GiB: 128M floor wins over 8G/32 = 256M? no: 256M */
	pool_make(&p, 1, 8ULL << 30, 12, true, true);
	ck_assert_uint_eq(p.spa.ms->vdevs[0]->count, 16);
	ck_assert_uint_eq(spa_slop_space(&p.spa), 256ULL << 20);
	pool_free(&p);
	/* 100 GiB, 200 metaslabs: one is the embedded log (512M); slop =
	 * (99.5G)/32 minus min(512M, half of that) */
	pool_make(&p, 1, 100ULL << 30, 12, true, true);
	ck_assert_uint_eq(p.spa.ms->vdevs[0]->count, 200);
	ck_assert(p.spa.ms->vdevs[0]->ms[0].embedded_log);
	uint64_t space = 199ULL << 29;
	ck_assert_uint_eq(metaslab_class_space(&p.spa), space);
	uint64_t slop = space >> 5;
	slop -= 512ULL << 20 < slop / 2 ? 512ULL << 20 : slop / 2;
	ck_assert_uint_eq(spa_slop_space(&p.spa), slop);
	pool_free(&p);
}
END_TEST

/* ---- fixtures ------------------------------------------------------------- */

static const char *const fixtures[] = { "basic", "checksum", "compress", "copies", "crypt", "history",
					"layout", "legacy", "mirror", "names", "raidz1", "raidz2",
					"raidz3", "snapshots", "zfsfuse", "zil" };

static char *unpack(const char *fx)
{
	const char *shared = getenv("ZFUSE_SHARED"), *cache = getenv("ZFUSE_TEST_CACHE");
	ck_assert_msg(shared && cache, "ZFUSE_SHARED / ZFUSE_TEST_CACHE not set");
	char *dir;
	ck_assert_int_ge(asprintf(&dir, "%s/%s", cache, fx), 0);
	char *cmd;
	/* same lock and layout as tests/integration/lib.sh */
	ck_assert_int_ge(asprintf(&cmd,
				  "mkdir -p '%s' && ( flock 9; for z in '%s/fixtures/%s'/*.img.zst; do "
				  "i='%s'/$(basename \"${z%%.zst}\"); [ -s \"$i\" ] || "
				  "zstd -q -d --sparse -f \"$z\" -o \"$i\" || exit 1; done ) 9>'%s/.lock'",
				  dir, shared, fx, dir, dir),
			 0);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	return dir;
}

/* A number from the fixture's zpool-props.tsv; false when absent. */
static bool pool_prop(const char *fx, const char *prop, uint64_t *out)
{
	char *fn;
	ck_assert_int_ge(asprintf(&fn, "%s/fixtures/%s/zpool-props.tsv", getenv("ZFUSE_SHARED"), fx), 0);
	FILE *f = fopen(fn, "r");
	free(fn);
	if (!f)
		return false;
	char line[512], name[128], val[128];
	bool found = false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %127s %127s", name, val) == 2 && strcmp(name, prop) == 0) {
			*out = strtoull(val, NULL, 10);
			found = true;
		}
	fclose(f);
	return found;
}

/* What zdb -b says of the pool: "bp allocated" (every block pointer's
 * asize summed over a full traversal) and whether it found no leaks, i.e.
 * that the space maps hold exactly those blocks. */
static bool zdb_bp_allocated(const char *dir, const char *pool, uint64_t *alloc, bool *no_leaks)
{
	char *cmd;
	ck_assert_int_ge(asprintf(&cmd, "zdb -e -p '%s' -b '%s' 2>/dev/null", dir, pool), 0);
	FILE *f = popen(cmd, "r");
	free(cmd);
	if (!f)
		return false;
	char line[512];
	bool found = false;
	*no_leaks = false;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "No leaks"))
			*no_leaks = true;
		const char *p = strstr(line, "bp allocated:");
		if (p) {
			*alloc = strtoull(p + strlen("bp allocated:"), NULL, 10);
			found = true;
		}
	}
	pclose(f);
	return found;
}

/*
 * Re-encode a space map OpenZFS wrote: every group (a debug word and the
 * entries after it, written by one space_map_write of one range tree) is
 * fed to our appender as merged extents at the same file offset, and must
 * come out as the very same words, splits and padding included.
 */
static void reencode_check(spa_t *spa, const char *fx, uint64_t obj, uint64_t sm_start, unsigned shift,
			   bool two_word_ok, bool log_map, uint64_t *groups)
{
	struct space_map_header h;
	ck_assert_int_eq(space_map_read_header(spa, obj, &h), 0);
	dnode_t dn;
	ck_assert_int_eq(dnode_hold(spa->mos, obj, &dn), 0);
	uint8_t *raw = malloc(h.length + 8);
	ck_assert_int_eq(dmu_read(&dn, 0, h.length, raw), 0);
	dnode_rele(&dn);
	uint64_t n = h.length / 8, i = 0;
	while (i < n) {
		uint64_t w = le64(raw + 8 * i);
		ck_assert_msg(w >> 62 == 2 && (w & ((1ULL << 50) - 1)) != 0,
			      "%s: map %" PRIu64 " word %" PRIu64 " does not open a group", fx, obj, i);
		struct space_map_appender a;
		space_map_appender_init(&a, i * 8, h.blksz, sm_start, shift, two_word_ok);
		ck_assert_int_eq(space_map_append_debug(&a, (unsigned)(w >> 60) & 3, (unsigned)(w >> 50) & 0x3ff,
							w & ((1ULL << 50) - 1)),
				 0);
		uint64_t j = i + 1, ext_start = 0, ext_len = 0, ext_vdev = 0;
		unsigned ext_type = 0;
		for (; j < n; j++) {
			uint64_t x = le64(raw + 8 * j), start, len, vdev = SM_NO_VDEVID;
			unsigned type;
			if (x >> 62 == 2) {
				if (x & ((1ULL << 50) - 1))
					break;	/* next group */
				continue;	/* padding: ours must put it in the same place */
			}
			if (x >> 62 == 3) {
				uint64_t x2 = le64(raw + 8 * ++j);
				len = (((x >> 24) & ((1ULL << 36) - 1)) + 1) << shift;
				start = sm_start + ((x2 & ((1ULL << 63) - 1)) << shift);
				type = (unsigned)(x2 >> 63);
				if (log_map)
					vdev = x & 0xffffff;
			} else {
				len = ((x & 0x7fff) + 1) << shift;
				start = sm_start + (((x >> 16) & ((1ULL << 47) - 1)) << shift);
				type = (unsigned)(x >> 15) & 1;
			}
			if (ext_len && start == ext_start + ext_len && vdev == ext_vdev && type == ext_type) {
				ext_len += len;	/* a split of one segment */
				continue;
			}
			if (ext_len)
				ck_assert_int_eq(space_map_append_extent(&a, ext_type, ext_start, ext_len, ext_vdev), 0);
			ext_start = start;
			ext_len = len;
			ext_vdev = vdev;
			ext_type = type;
		}
		if (ext_len)
			ck_assert_int_eq(space_map_append_extent(&a, ext_type, ext_start, ext_len, ext_vdev), 0);
		ck_assert_msg(a.nwords == j - i, "%s: map %" PRIu64 " group at word %" PRIu64 ": %zu words, OpenZFS %" PRIu64,
			      fx, obj, i, a.nwords, j - i);
		for (uint64_t k = 0; k < a.nwords; k++)
			ck_assert_msg(a.words[k] == le64(raw + 8 * (i + k)),
				      "%s: map %" PRIu64 " word %" PRIu64 ": %016" PRIx64 " vs OpenZFS %016" PRIx64, fx,
				      obj, i + k, a.words[k], le64(raw + 8 * (i + k)));
		space_map_appender_fini(&a);
		(*groups)++;
		i = j;
	}
	free(raw);
}

static int collect_log(void *arg, const zap_entry_t *ze)
{
	uint64_t *v = arg;
	if (v[0] < 63)
		v[++v[0]] = ze->value_first;
	return 0;
}

START_TEST(fixture_metaslabs_load)
{
	const char *fx = fixtures[_i];
	char *dir = unpack(fx);
	struct zfuse_import_opts o = { .paths = (const char *const *)&dir, .npaths = 1 };
	zfuse_pool_t *pool;
	ck_assert_int_eq(zfuse_pool_import(&o, &pool), 0);
	spa_t *spa = (spa_t *)pool;
	metaslab_fini(spa);	/* whatever import set up: load afresh */
	uint64_t sm_total = 0, vdev_total = 0, groups = 0;
	for (uint64_t c = 0; c < spa->root->nchild; c++) {
		vdev_t *top = spa->root->child[c];
		if (top->kind == VDEV_KIND_HOLE)
			continue;
		ck_assert_int_eq(metaslab_init_vdev(spa, top, false), 0);
		/* every OpenZFS 2.3.2 pool follows today's shift rule */
		if (strcmp(fx, "zfsfuse") != 0)
			ck_assert_uint_eq(metaslab_choose_shift(top->asize), top->metaslab_shift);
		/* the reader's net sums agree with the loaded free-space trees */
		struct metaslab_space *ms;
		uint64_t n;
		ck_assert_int_eq(space_map_vdev(spa, top, &ms, &n), 0);
		for (uint64_t i = 0; i < n; i++) {
			metaslab_t *m = metaslab_lookup(spa, top->id, i << top->metaslab_shift);
			ck_assert_int_eq(m->allocated, ms[i].alloc);
			sm_total += (uint64_t)ms[i].alloc;
		}
		/* our encoder writes what OpenZFS wrote (zfs-fuse predates
		 * debug groups) */
		for (uint64_t i = 0; i < n && strcmp(fx, "zfsfuse") != 0; i++)
			if (ms[i].sm_object)
				reencode_check(spa, fx, ms[i].sm_object, i << top->metaslab_shift,
					       (unsigned)top->ashift, spa->ms->feat_spacemap_v2, false, &groups);
		free(ms);
		vdev_total += metaslab_vdev_alloc(spa, top->id);
		ck_assert_uint_eq(metaslab_vdev_space(spa, top->id), n << top->metaslab_shift);
	}
	ck_assert_uint_eq(metaslab_class_alloc(spa), sm_total);
	ck_assert_uint_eq(vdev_total, sm_total);
	/* log space maps: two-word entries with vdev ids, 512-byte units */
	uint64_t logzap = 0, logs[64] = { 0 };
	dnode_t objdir, lz;
	ck_assert_int_eq(dnode_hold(spa->mos, 1, &objdir), 0);
	zap_lookup_uint64(&objdir, "com.delphix:log_spacemap_zap", &logzap);
	dnode_rele(&objdir);
	if (logzap) {
		ck_assert_int_eq(dnode_hold(spa->mos, logzap, &lz), 0);
		ck_assert_int_eq(zap_iterate(&lz, 0, 0, collect_log, logs), 0);
		dnode_rele(&lz);
	}
	for (uint64_t i = 1; i <= logs[0]; i++)
		reencode_check(spa, fx, logs[i], 0, 9, true, true, &groups);
	if (strcmp(fx, "zfsfuse") != 0)
		ck_assert_uint_gt(groups, 0);
	uint64_t want;
	bool no_leaks;
	if (access("/usr/sbin/zdb", X_OK) == 0) {
		/* OpenZFS made these pools and zdb finds no leak in any of
		 * them: a leak report means zdb or the image changed */
		ck_assert_msg(zdb_bp_allocated(dir, zfuse_pool_name(pool), &want, &no_leaks), "%s: no zdb -b", fx);
		ck_assert_msg(no_leaks, "%s: zdb -b reports leaks", fx);
		ck_assert_msg(metaslab_class_alloc(spa) == want,
			      "%s: allocated %" PRIu64 ", zdb -b says %" PRIu64, fx,
			      metaslab_class_alloc(spa), want);
	} else {
		/* a skipped check is a failure in CI (tests/integration/lib.sh) */
		ck_assert_msg(!getenv("CI") && !getenv("ZFUSE_NO_SKIPS"),
			      "%s: zdb is not installed: allocation totals not compared", fx);
		fprintf(stderr, "%s: zdb is not installed: allocation totals not compared\n", fx);
	}
	/* the pool's size never changes: what zpool get size showed (the
	 * embedded log metaslab, which the normal class lacks, included) */
	uint64_t size = 0;
	for (uint64_t c = 0; c < spa->root->nchild; c++)
		size += metaslab_vdev_space(spa, spa->root->child[c]->id);
	if (pool_prop(fx, "size", &want))
		ck_assert_msg(size == want, "%s: size %" PRIu64 ", zpool says %" PRIu64, fx, size, want);
	ck_assert_uint_le(metaslab_class_space(spa), size);
	fprintf(stderr, "%s: %" PRIu64 " bytes allocated, %" PRIu64 " space map groups re-encoded exactly\n",
		fx, metaslab_class_alloc(spa), groups);
	metaslab_fini(spa);
	zfuse_pool_close(pool);
	free(dir);
}
END_TEST

/* ---- folding log space maps into metaslab maps ---------------------------- */

/* A MOS that records writes to any object (real ones included). */
struct journal_write {
	uint64_t object, off, len;
	uint8_t *data;
};
static struct journal_write *journal;
static size_t njournal;
static uint64_t journal_next_obj;

static int journal_alloc(spa_t *spa, unsigned type, uint64_t blksz, unsigned bonustype, unsigned bonuslen,
			 unsigned ibs, dmu_tx_t *tx, uint64_t *object)
{
	(void)spa, (void)type, (void)blksz, (void)bonustype, (void)bonuslen, (void)ibs, (void)tx;
	*object = journal_next_obj++;
	return 0;
}

static int journal_write(spa_t *spa, uint64_t object, uint64_t off, uint64_t len, const void *buf,
			 dmu_tx_t *tx)
{
	(void)spa, (void)tx;
	journal = realloc(journal, (njournal + 1) * sizeof(*journal));
	struct journal_write *j = &journal[njournal++];
	j->object = object;
	j->off = off;
	j->len = len;
	j->data = malloc(len + 1);
	memcpy(j->data, buf, len);
	return 0;
}

static uint8_t journal_bonus[320];
static uint64_t journal_bonus_obj;

static int journal_bonus_write(spa_t *spa, uint64_t object, const void *buf, uint64_t len, dmu_tx_t *tx)
{
	(void)spa, (void)tx;
	ck_assert_uint_le(len, sizeof(journal_bonus));
	memcpy(journal_bonus, buf, len);
	journal_bonus_obj = object;
	return 0;
}

static void journal_reset(void)
{
	for (size_t i = 0; i < njournal; i++)
		free(journal[i].data);
	free(journal);
	journal = NULL;
	njournal = 0;
	nfreed = nremoved = histogram_decrs = 0;
}

static const struct journal_write *journal_find(uint64_t object)
{
	const struct journal_write *last = NULL;
	for (size_t i = 0; i < njournal; i++)
		if (journal[i].object == object)
			last = &journal[i];
	return last;
}

static const struct metaslab_mos_ops journal_ops = { journal_alloc, journal_write, journal_bonus_write,
						     fake_object_free, fake_zap_remove, fake_feature_decr };

/* Free space of a map: ALLOC takes from it, FREE gives back. */
static int free_space_entry(void *arg, const struct space_map_entry *e)
{
	range_tree_t *freeset = arg;
	if (e->is_free)
		return range_tree_add(freeset, e->start, e->len) == 0 ? 0 : 1;
	return range_tree_remove(freeset, e->start, e->len) == (int64_t)e->len ? 0 : 2;
}

/*
 * Every fixture pool made by OpenZFS 2.3 keeps a log space map. Loading
 * it and syncing one txg with no other change must append to each
 * metaslab map exactly the difference between what the logs say and
 * what the map says (so map alone == loaded state), zero the unflushed
 * txgs, free each log, remove it from the log ZAP by its hex txg and drop
 * one spacemap_histogram reference per log. A second pass does nothing.
 */
START_TEST(fixture_log_fold)
{
	const char *fx = fixtures[_i];
	char *dir = unpack(fx);
	struct zfuse_import_opts o = { .paths = (const char *const *)&dir, .npaths = 1 };
	zfuse_pool_t *pool;
	ck_assert_int_eq(zfuse_pool_import(&o, &pool), 0);
	spa_t *spa = (spa_t *)pool;
	metaslab_fini(spa);
	for (uint64_t c = 0; c < spa->root->nchild; c++)
		if (spa->root->child[c]->kind != VDEV_KIND_HOLE)
			ck_assert_int_eq(metaslab_init_vdev(spa, spa->root->child[c], false), 0);
	metaslab_state_t *st = spa->ms;
	journal_reset();
	journal_next_obj = 1ULL << 40;
	st->mos_ops = &journal_ops;
	size_t nlogs = st->nlogs;
	struct space_map_log logs[64];
	ck_assert_uint_le(nlogs, 64);
	if (nlogs)
		memcpy(logs, st->logs, nlogs * sizeof(*logs));
	uint64_t log_zap = st->log_zap;
	if (!st->feat_log_spacemap_active) {
		ck_assert_uint_eq(nlogs, 0);
		ck_assert(!st->log_fold_pending);
	} else {
		ck_assert_uint_gt(nlogs, 0);	/* every exported 2.3 pool keeps one */
		ck_assert(st->log_fold_pending);
	}
	/* what each metaslab holds in core before the sync */
	uint64_t total = 0;
	for (uint64_t v = 0; v < st->nvdevs; v++)
		total += st->vdevs[v] ? st->vdevs[v]->count : 0;
	range_tree_t **before = calloc(total, sizeof(*before));
	uint64_t *old_len = calloc(total, sizeof(*old_len));
	bool *had_unflushed = calloc(st->nvdevs, sizeof(bool));
	uint64_t k = 0, with_changes = 0;
	for (uint64_t v = 0; v < st->nvdevs; v++)
		for (uint64_t i = 0; st->vdevs[v] && i < st->vdevs[v]->count; i++, k++) {
			metaslab_t *ms = &st->vdevs[v]->ms[i];
			before[k] = range_tree_create();
			ck_assert_int_eq(range_tree_add_tree(before[k], ms->allocatable), 0);
			old_len[k] = ms->sm.length;
			with_changes += ms->log_allocs || ms->log_frees;
			had_unflushed[v] |= ms->unflushed_txg != 0;
		}
	dmu_tx_t tx = { spa, spa->ub.ub_txg + 1 };
	int rc = metaslab_sync(spa, tx.txg, &tx);
	ck_assert_int_eq(rc, nlogs ? 1 : 0);
	/* the logs are gone, one by one */
	ck_assert_uint_eq(nfreed, nlogs);
	ck_assert_uint_eq(nremoved, nlogs);
	ck_assert_uint_eq(histogram_decrs, nlogs);
	for (size_t i = 0; i < nlogs; i++) {
		char name[24];
		snprintf(name, sizeof(name), "%" PRIx64, logs[i].txg);
		ck_assert_uint_eq(freed_objs[i], logs[i].obj);
		ck_assert_str_eq(removed_names[i], name);
		ck_assert_uint_eq(removed_zap[i], log_zap);
		ck_assert_uint_eq(logs[i].bonuslen, 320);
	}
	ck_assert_uint_eq(st->nlogs, 0);
	ck_assert(!st->log_fold_pending);
	/* every unflushed txg is 0 in core and on disk */
	for (uint64_t v = 0; v < st->nvdevs; v++) {
		metaslab_vdev_t *mv = st->vdevs[v];
		if (!mv)
			continue;
		for (uint64_t i = 0; i < mv->count; i++)
			ck_assert_uint_eq(mv->ms[i].unflushed_txg, 0);
		const struct journal_write *w = mv->unflushed_obj ? journal_find(mv->unflushed_obj) : NULL;
		if (had_unflushed[v]) {
			ck_assert_ptr_nonnull(w);
			ck_assert_uint_eq(w->off, 0);
			ck_assert_uint_eq(w->len, mv->count * 8);
			for (uint64_t b = 0; b < w->len; b++)
				ck_assert_uint_eq(w->data[b], 0);
		} else {
			ck_assert_ptr_null(w);
		}
	}
	/* each map, with what was appended, says what was loaded */
	k = 0;
	uint64_t appended = 0;
	for (uint64_t v = 0; v < st->nvdevs; v++)
		for (uint64_t i = 0; st->vdevs[v] && i < st->vdevs[v]->count; i++, k++) {
			metaslab_t *ms = &st->vdevs[v]->ms[i];
			ck_assert_ptr_null(ms->log_allocs);
			ck_assert_ptr_null(ms->log_frees);
			range_tree_t *freeset = range_tree_create();
			ck_assert_int_eq(range_tree_add(freeset, ms->start, ms->size), 0);
			if (ms->sm_object && ms->sm_object < (1ULL << 40))
				ck_assert_int_eq(space_map_iterate(spa, ms->sm_object, ms->start, (unsigned)ms->vd->ashift,
								   free_space_entry, freeset),
						 0);
			const struct journal_write *w = ms->sm_object ? journal_find(ms->sm_object) : NULL;
			if (w) {
				ck_assert_uint_eq(w->off, old_len[k]);
				ck_assert_uint_eq(ms->sm.length, old_len[k] + w->len);
				struct space_map_cursor cur = { 0, 0 };
				ck_assert_int_eq(space_map_decode_words(w->data, w->len / 8, ms->start,
									(unsigned)ms->vd->ashift, &cur, free_space_entry,
									freeset),
						 0);
				ck_assert_uint_eq(cur.txg, tx.txg);
				appended++;
			} else {
				ck_assert_uint_eq(ms->sm.length, old_len[k]);
			}
			ck_assert_msg(freeset->nsegs == before[k]->nsegs &&
					      (freeset->nsegs == 0 ||
					       memcmp(freeset->segs, before[k]->segs, freeset->nsegs * sizeof(range_seg_t)) == 0),
				      "%s: metaslab %" PRIu64 "/%" PRIu64 ": map and core differ after the fold", fx, v, i);
			ck_assert_int_eq(ms->allocated, (int64_t)(ms->size - range_tree_space(freeset)));
			ck_assert_int_eq(ms->sm.alloc, ms->allocated);
			range_tree_destroy(freeset);
			range_tree_destroy(before[k]);
		}
	ck_assert_uint_eq(appended, with_changes);
	if (nlogs)
		fprintf(stderr, "%s: %zu log(s) folded into %" PRIu64 " metaslab map(s)\n", fx, nlogs, appended);
	/* nothing more to do in the next pass */
	size_t n = njournal;
	ck_assert_int_eq(metaslab_sync(spa, tx.txg, &tx), 0);
	ck_assert_uint_eq(njournal, n);
	free(before);
	free(old_len);
	free(had_unflushed);
	journal_reset();
	metaslab_fini(spa);
	zfuse_pool_close(pool);
	free(dir);
}
END_TEST

/* Difference of range sets against a bitmap model. */
START_TEST(range_tree_difference_vs_bitmap)
{
	enum { N = 2048 };
	static uint8_t a[N], b[N];
	srandom(99);
	for (int round = 0; round < 200; round++) {
		memset(a, 0, sizeof(a));
		memset(b, 0, sizeof(b));
		range_tree_t *ta = range_tree_create(), *tb = range_tree_create(), *d = range_tree_create();
		for (int i = 0; i < 40; i++) {
			uint64_t s = (uint64_t)random() % N, len = 1 + (uint64_t)random() % 100;
			if (s + len > N)
				len = N - s;
			range_tree_t *t = i % 2 ? ta : tb;
			uint8_t *m = i % 2 ? a : b;
			range_tree_remove(t, s, len);
			ck_assert_int_eq(range_tree_add(t, s, len), 0);
			memset(m + s, 1, len);
		}
		ck_assert_int_eq(range_tree_add_difference(d, ta, tb), 0);
		uint64_t want = 0;
		for (int i = 0; i < N; i++) {
			bool in = a[i] && !b[i];
			want += in;
			ck_assert_int_eq(range_tree_contains(d, (uint64_t)i, 1), in);
		}
		ck_assert_uint_eq(range_tree_space(d), want);
		range_tree_destroy(ta);
		range_tree_destroy(tb);
		range_tree_destroy(d);
	}
}
END_TEST

static Suite *metaslab_suite(void)
{
	Suite *s = suite_of("metaslab",
			    TCASE_OF("core", 120, range_tree_basics, range_tree_random_vs_bitmap,
				     range_tree_difference_vs_bitmap, metaslab_shift_rule, alloc_alignment_no_overlap,
				     alloc_copies_spread, alloc_all_or_nothing, free_defer_timing, unalloc_same_txg,
				     sync_passes_append_only_new, encode_v1_v2_roundtrip, histogram_rule,
				     sync_histogram_and_many_txgs, slop_rule));
	TCase *fx = tcase_create("fixtures");
	tcase_set_timeout(fx, 300);
	tcase_add_loop_test(fx, fixture_metaslabs_load, 0, (int)(sizeof(fixtures) / sizeof(fixtures[0])));
	tcase_add_loop_test(fx, fixture_log_fold, 0, (int)(sizeof(fixtures) / sizeof(fixtures[0])));
	suite_add_tcase(s, fx);
	return s;
}

int main(void)
{
	return run_suite(metaslab_suite());
}
