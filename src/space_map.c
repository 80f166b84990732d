/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * space_map.c — space map decoding. A well-formed map never allocates an
 * allocated range or frees a free one, so a metaslab's allocated space is
 * the net sum of its entries; with log space maps, the entries of every
 * log at or after the metaslab's unflushed txg that fall inside it are
 * added on top (§9.6).
 */
#include <stdlib.h>
#include <string.h>
#include "byteorder.h"
#include "dbuf.h"
#include "dmu_types.h"
#include "dnode.h"
#include "space_map.h"
#include "zap.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define SM_PREFIX_DEBUG 2
#define SM_PREFIX_TWO_WORD 3

int space_map_decode_words(const uint8_t *p, uint64_t nwords, uint64_t sm_start, unsigned sm_shift,
			   struct space_map_cursor *cur, space_map_entry_fn cb, void *arg)
{
	for (uint64_t i = 0; i < nwords; i++) {
		uint64_t w = le64(p + 8 * i);
		unsigned prefix = (unsigned)(w >> 62);
		struct space_map_entry e = { .txg = cur->txg, .pass = cur->pass };
		if (prefix == SM_PREFIX_DEBUG) {
			/* txg 0 is the padding before a two-word entry that
			 * would straddle a block; it changes nothing. */
			if (w & ((1ULL << 50) - 1)) {
				cur->txg = w & ((1ULL << 50) - 1);
				cur->pass = (unsigned)((w >> 50) & 0x3ff);
			}
			continue;
		}
		if (prefix == SM_PREFIX_TWO_WORD) {
			if (i + 1 >= nwords)
				return SET_ERROR(-ZFUSE_E_CORRUPT);
			uint64_t w2 = le64(p + 8 * ++i);
			uint64_t run = ((w >> 24) & ((1ULL << 36) - 1)) + 1;
			e.vdev = w & ((1ULL << 24) - 1);
			e.is_free = w2 >> 63;
			e.start = sm_start + ((w2 & ((1ULL << 63) - 1)) << sm_shift);
			e.len = run << sm_shift;
			e.two_word = true;
		} else {
			e.is_free = (w >> 15) & 1;
			e.start = sm_start + (((w >> 16) & ((1ULL << 47) - 1)) << sm_shift);
			e.len = ((w & 0x7fff) + 1) << sm_shift;
		}
		int rc = cb(arg, &e);
		if (rc)
			return rc;
	}
	return 0;
}

int space_map_read_header(spa_t *spa, uint64_t obj, struct space_map_header *h)
{
	memset(h, 0, sizeof(*h));
	dnode_t dn;
	int rc = dnode_hold(spa->mos, obj, &dn);
	if (rc)
		return rc;
	uint64_t blen;
	const uint8_t *bonus = dnode_bonus(&dn, &blen);
	if (dn.type != DMU_OT_SPACE_MAP || blen < SPACE_MAP_SIZE_V0) {
		dnode_rele(&dn);
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	}
	h->object = le64(bonus);
	h->length = le64(bonus + 8);
	h->alloc = (int64_t)le64(bonus + 16);
	h->bonuslen = blen;
	h->blksz = dnode_datablksz(&dn);
	if (blen >= SPACE_MAP_SIZE_HISTOGRAM)
		for (int i = 0; i < SPACE_MAP_HISTOGRAM_SIZE; i++)
			h->histogram[i] = le64(bonus + 64 + 8 * i);
	dnode_rele(&dn);
	return 0;
}

int space_map_iterate(spa_t *spa, uint64_t obj, uint64_t sm_start, unsigned sm_shift,
		      space_map_entry_fn cb, void *arg)
{
	dnode_t dn;
	int rc = dnode_hold(spa->mos, obj, &dn);
	if (rc)
		return rc;
	uint64_t blen;
	const uint8_t *bonus = dnode_bonus(&dn, &blen);
	if (dn.type != DMU_OT_SPACE_MAP || blen < SPACE_MAP_SIZE_V0) {
		dnode_rele(&dn);
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	}
	uint64_t length = le64(bonus + 8);
	uint64_t bs = dnode_datablksz(&dn);
	struct space_map_cursor cur = { 0, 0 };
	for (uint64_t off = 0; off < length && rc == 0; off += bs) {
		arc_buf_t *b;
		if ((rc = dbuf_hold(&dn, 0, off / bs, &b)) != 0)
			break;
		uint64_t n = (length - off < bs ? length - off : bs) / 8;
		rc = space_map_decode_words(b->data, n, sm_start, sm_shift, &cur, cb, arg);
		dbuf_rele(&dn, b);
	}
	dnode_rele(&dn);
	return rc;
}

static int sum_entry(void *arg, const struct space_map_entry *e)
{
	int64_t *sum = arg;
	*sum += e->is_free ? -(int64_t)e->len : (int64_t)e->len;
	return 0;
}

static int log_cmp(const void *a, const void *b)
{
	const struct space_map_log *x = a, *y = b;
	return x->txg < y->txg ? -1 : x->txg > y->txg;
}

struct log_collect {
	struct space_map_log *v;
	size_t n, cap;
};

static int log_collect_cb(void *arg, const zap_entry_t *ze)
{
	struct log_collect *c = arg;
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16;
		struct space_map_log *nv = realloc(c->v, nc * sizeof(*nv));
		if (!nv)
			return -ZFUSE_E_NOMEM;
		c->v = nv;
		c->cap = nc;
	}
	c->v[c->n].txg = strtoull(ze->name, NULL, 16);
	c->v[c->n].obj = ze->value_first;
	c->v[c->n].bonuslen = 0;
	c->n++;
	return 0;
}

/* The vdev's top ZAP from the MOS config (labels do not carry it). */
static uint64_t vdev_top_zap(spa_t *spa, vdev_t *vd)
{
	dnode_t dir, cfg;
	uint64_t cfgobj = 0, zapobj = 0;
	if (dnode_hold(spa->mos, 1, &dir) != 0)
		return 0;
	int rc = zap_lookup_uint64(&dir, "config", &cfgobj);
	dnode_rele(&dir);
	if (rc || dnode_hold(spa->mos, cfgobj, &cfg) != 0)
		return 0;
	uint64_t blen;
	const uint8_t *bonus = dnode_bonus(&cfg, &blen);
	uint64_t size = blen >= 8 ? le64(bonus) : 0;
	uint8_t *buf = size && size < (64ULL << 20) ? malloc(size) : NULL;
	nvlist_t *nvl = NULL;
	if (buf && dmu_read(&cfg, 0, size, buf) == 0 && nvlist_unpack(buf, size, &nvl) == 0) {
		const nvlist_t *tree;
		const nvlist_t *const *kids;
		uint32_t nk;
		if (nvlist_lookup_nvlist(nvl, "vdev_tree", &tree) == 0 &&
		    nvlist_lookup_nvlist_array(tree, "children", &kids, &nk) == 0 && vd->id < nk)
			nvlist_lookup_uint64(kids[vd->id], "com.delphix:vdev_zap_top", &zapobj);
	}
	nvlist_free(nvl);
	free(buf);
	dnode_rele(&cfg);
	return zapobj;
}

int space_map_unflushed_object(spa_t *spa, vdev_t *vd, uint64_t *obj)
{
	*obj = 0;
	uint64_t topzap = vdev_top_zap(spa, vd);
	if (!topzap)
		return 0;
	dnode_t z;
	int rc = dnode_hold(spa->mos, topzap, &z);
	if (rc)
		return rc;
	rc = zap_lookup_uint64(&z, "com.delphix:ms_unflushed_phys_txgs", obj);
	dnode_rele(&z);
	if (rc == -ZFUSE_E_NOENT) {
		*obj = 0;
		rc = 0;
	}
	return rc;
}

int space_map_unflushed_txgs(spa_t *spa, vdev_t *vd, uint64_t count, uint64_t *out)
{
	memset(out, 0, count * sizeof(*out));
	uint64_t unflushed_obj = 0;
	int rc = space_map_unflushed_object(spa, vd, &unflushed_obj);
	if (rc || !unflushed_obj)
		return rc;
	dnode_t u;
	rc = dnode_hold(spa->mos, unflushed_obj, &u);
	if (rc)
		return rc;
	uint8_t *v = malloc(count * 8);
	rc = v ? dmu_read(&u, 0, count * 8, v) : -ZFUSE_E_NOMEM;
	for (uint64_t i = 0; rc == 0 && i < count; i++)
		out[i] = le64(v + 8 * i);
	free(v);
	dnode_rele(&u);
	return rc;
}

int space_map_logs(spa_t *spa, uint64_t *zapobj, struct space_map_log **logs, size_t *n)
{
	*zapobj = 0;
	*logs = NULL;
	*n = 0;
	dnode_t dir;
	int rc = dnode_hold(spa->mos, 1, &dir);
	if (rc)
		return rc;
	rc = zap_lookup_uint64(&dir, "com.delphix:log_spacemap_zap", zapobj);
	dnode_rele(&dir);
	if (rc == -ZFUSE_E_NOENT) {
		*zapobj = 0;
		return 0;
	}
	if (rc)
		return rc;
	struct log_collect lc = { 0 };
	dnode_t lz;
	if ((rc = dnode_hold(spa->mos, *zapobj, &lz)) == 0) {
		rc = zap_iterate(&lz, 0, 0, log_collect_cb, &lc);
		dnode_rele(&lz);
	}
	if (rc < 0) {
		free(lc.v);
		return rc;
	}
	for (size_t i = 0; i < lc.n; i++) {
		struct space_map_header h;
		if ((rc = space_map_read_header(spa, lc.v[i].obj, &h)) != 0) {
			free(lc.v);
			return rc;
		}
		lc.v[i].bonuslen = h.bonuslen;
	}
	if (lc.n)
		qsort(lc.v, lc.n, sizeof(*lc.v), log_cmp);
	*logs = (struct space_map_log *)lc.v;
	*n = lc.n;
	return 0;
}

struct log_filter {
	vdev_t *vd;
	const uint64_t *unflushed;
	uint64_t count;
	uint64_t log_txg;
	space_map_entry_fn cb;
	void *arg;
};

static int log_filter_entry(void *arg, const struct space_map_entry *e)
{
	struct log_filter *f = arg;
	if (e->vdev != f->vd->id)
		return 0;
	uint64_t i = e->start >> f->vd->metaslab_shift;
	if (i >= f->count || f->log_txg < f->unflushed[i])
		return 0;
	return f->cb(f->arg, e);
}

int space_map_replay_logs(spa_t *spa, vdev_t *vd, uint64_t count, const uint64_t *unflushed,
			  space_map_entry_fn cb, void *arg)
{
	uint64_t logzap;
	struct space_map_log *logs;
	size_t n;
	int rc = space_map_logs(spa, &logzap, &logs, &n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct log_filter f = { vd, unflushed, count, logs[i].txg, cb, arg };
		rc = space_map_iterate(spa, logs[i].obj, 0, SPA_MINBLOCKSHIFT, log_filter_entry, &f);
	}
	free(logs);
	return rc;
}

struct log_sum {
	vdev_t *vd;
	struct metaslab_space *ms;
};

static int log_sum_entry(void *arg, const struct space_map_entry *e)
{
	struct log_sum *c = arg;
	struct metaslab_space *m = &c->ms[e->start >> c->vd->metaslab_shift];
	m->alloc += e->is_free ? -(int64_t)e->len : (int64_t)e->len;
	return 0;
}

int space_map_vdev(spa_t *spa, vdev_t *vd, struct metaslab_space **out, uint64_t *count)
{
	*out = NULL;
	*count = 0;
	if (!vd->metaslab_array || !vd->metaslab_shift || vd->metaslab_shift > 40)
		return -ZFUSE_E_NOENT;
	uint64_t n = vd->asize >> vd->metaslab_shift;
	if (n == 0 || n > (1 << 20))
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	struct metaslab_space *ms = calloc(n, sizeof(*ms));
	uint64_t *words = malloc(n * 8);
	if (!ms || !words) {
		free(ms);
		free(words);
		return -ZFUSE_E_NOMEM;
	}
	dnode_t arr;
	int rc = dnode_hold(spa->mos, vd->metaslab_array, &arr);
	if (rc == 0) {
		uint8_t *objs = malloc(n * 8);
		rc = objs ? dmu_read(&arr, 0, n * 8, objs) : -ZFUSE_E_NOMEM;
		for (uint64_t i = 0; rc == 0 && i < n; i++)
			ms[i].sm_object = le64(objs + 8 * i);
		free(objs);
		dnode_rele(&arr);
	}
	for (uint64_t i = 0; rc == 0 && i < n; i++) {
		if (!ms[i].sm_object)
			continue;
		struct space_map_header h;
		rc = space_map_read_header(spa, ms[i].sm_object, &h);
		if (rc == 0)
			rc = space_map_iterate(spa, ms[i].sm_object, i << vd->metaslab_shift,
					       (unsigned)vd->ashift, sum_entry, &ms[i].alloc);
		ms[i].smp_alloc = h.alloc;
	}
	/* Log space maps: unflushed txgs per metaslab, then the logs. */
	if (rc == 0)
		rc = space_map_unflushed_txgs(spa, vd, n, words);
	for (uint64_t i = 0; rc == 0 && i < n; i++)
		ms[i].unflushed_txg = words[i];
	if (rc == 0) {
		struct log_sum c = { vd, ms };
		rc = space_map_replay_logs(spa, vd, n, words, log_sum_entry, &c);
	}
	free(words);
	if (rc) {
		free(ms);
		return rc;
	}
	*out = ms;
	*count = n;
	return 0;
}

/* ---- writer: encoding appended entries ---------------------------------- */

void space_map_appender_init(struct space_map_appender *a, uint64_t length, uint64_t blksz,
			     uint64_t sm_start, unsigned sm_shift, bool two_word_ok)
{
	memset(a, 0, sizeof(*a));
	a->length = length;
	a->blksz = blksz;
	a->sm_start = sm_start;
	a->sm_shift = sm_shift;
	a->two_word_ok = two_word_ok;
}

void space_map_appender_fini(struct space_map_appender *a)
{
	free(a->words);
	a->words = NULL;
	a->nwords = a->cap = 0;
}

static int push_word(struct space_map_appender *a, uint64_t w)
{
	if (a->nwords == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 64;
		uint64_t *nw = realloc(a->words, nc * sizeof(*nw));
		if (!nw)
			return -ZFUSE_E_NOMEM;
		a->words = nw;
		a->cap = nc;
	}
	a->words[a->nwords++] = w;
	a->length += 8;
	return 0;
}

static uint64_t debug_word(unsigned maptype, unsigned pass, uint64_t txg)
{
	return ((uint64_t)SM_PREFIX_DEBUG << 62) | ((uint64_t)(maptype & 3) << 60) |
	       ((uint64_t)(pass & 0x3ff) << 50) | (txg & ((1ULL << 50) - 1));
}

int space_map_append_debug(struct space_map_appender *a, unsigned maptype, unsigned pass, uint64_t txg)
{
	return push_word(a, debug_word(maptype, pass, txg));
}

int space_map_append_extent(struct space_map_appender *a, unsigned maptype, uint64_t start,
			    uint64_t size, uint64_t vdev_id)
{
	uint64_t unit_mask = (1ULL << a->sm_shift) - 1;
	if (start < a->sm_start || size == 0 || ((start - a->sm_start) & unit_mask) || (size & unit_mask))
		return -ZFUSE_E_INVAL;
	uint64_t off = (start - a->sm_start) >> a->sm_shift;
	uint64_t run = size >> a->sm_shift;
	/* Two words when the feature is active and one word cannot say it
	 * (offset, run or vdev id); OpenZFS makes the same choice per
	 * segment, before splitting it. */
	bool two = a->two_word_ok &&
		   (off >= (1ULL << SM_OFFSET_BITS) || run > SM_RUN_MAX || vdev_id != SM_NO_VDEVID);
	if (!two && (vdev_id != SM_NO_VDEVID || off + run > (1ULL << SM_OFFSET_BITS)))
		return -ZFUSE_E_INVAL;
	uint64_t run_max = two ? SM2_RUN_MAX : SM_RUN_MAX;
	while (run) {
		int rc;
		if (two && a->length % a->blksz == a->blksz - 8) {
			/* A two-word entry never straddles a block. */
			if ((rc = push_word(a, debug_word(0, 0, 0))) != 0)
				return rc;
			continue;
		}
		uint64_t n = run < run_max ? run : run_max;
		if (two) {
			rc = push_word(a, (3ULL << 62) | ((n - 1) << 24) | (vdev_id & ((1ULL << 24) - 1)));
			if (rc == 0)
				rc = push_word(a, ((uint64_t)(maptype & 1) << 63) | off);
		} else {
			rc = push_word(a, (off << 16) | ((uint64_t)(maptype & 1) << 15) | (n - 1));
		}
		if (rc)
			return rc;
		off += n;
		run -= n;
	}
	return 0;
}

struct append_ctx {
	struct space_map_appender *a;
	unsigned maptype;
	uint64_t vdev_id;
};

static int append_seg(void *arg, uint64_t start, uint64_t size)
{
	struct append_ctx *c = arg;
	return space_map_append_extent(c->a, c->maptype, start, size, c->vdev_id);
}

int space_map_append_tree(struct space_map_appender *a, unsigned maptype, const range_tree_t *rt,
			  unsigned pass, uint64_t txg, uint64_t vdev_id)
{
	if (range_tree_is_empty(rt))
		return 0;
	int rc = space_map_append_debug(a, maptype, pass, txg);
	if (rc)
		return rc;
	struct append_ctx c = { a, maptype, vdev_id };
	return range_tree_walk(rt, append_seg, &c);
}

void space_map_appender_bytes(const struct space_map_appender *a, uint8_t *out)
{
	for (size_t i = 0; i < a->nwords; i++)
		put_le64(out + 8 * i, a->words[i]);
}

void space_map_histogram_add(uint64_t hist[SPACE_MAP_HISTOGRAM_SIZE], const range_tree_t *rt,
			     unsigned sm_shift)
{
	/* Segments smaller than one unit cannot be allocated and are not
	 * counted; everything from bucket 31 up lands in the last bucket,
	 * weighted by how many last-bucket-sized pieces it holds. */
	int idx = 0;
	for (int i = (int)sm_shift; i < RANGE_TREE_HISTOGRAM_SIZE; i++) {
		hist[idx] += rt->histogram[i] << (i - idx - (int)sm_shift);
		if (idx < SPACE_MAP_HISTOGRAM_SIZE - 1)
			idx++;
	}
}

void space_map_header_encode(const struct space_map_header *h, uint8_t *out, uint64_t bonuslen)
{
	memset(out, 0, bonuslen);
	put_le64(out, h->object);
	put_le64(out + 8, h->length);
	put_le64(out + 16, (uint64_t)h->alloc);
	if (bonuslen >= SPACE_MAP_SIZE_HISTOGRAM)
		for (int i = 0; i < SPACE_MAP_HISTOGRAM_SIZE; i++)
			put_le64(out + 64 + 8 * i, h->histogram[i]);
}
