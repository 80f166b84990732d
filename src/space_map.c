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
#include "dmu_types.h"
#include "dnode.h"
#include "space_map.h"
#include "zap.h"
#include "zfuse/errors.h"

#define SM_PREFIX_DEBUG 2
#define SM_PREFIX_TWO_WORD 3

typedef void (*sm_entry_fn)(void *arg, bool is_free, uint64_t vdev, uint64_t start, uint64_t len,
			    uint64_t txg);

/* Walk the entries of space map object obj. */
static int sm_iterate(spa_t *spa, uint64_t obj, uint64_t sm_start, unsigned sm_shift,
		      sm_entry_fn cb, void *arg, int64_t *smp_alloc)
{
	dnode_t dn;
	int rc = dnode_hold(spa->mos, obj, &dn);
	if (rc)
		return rc;
	uint64_t blen;
	const uint8_t *bonus = dnode_bonus(&dn, &blen);
	if (dn.type != DMU_OT_SPACE_MAP || blen < 24) {
		dnode_rele(&dn);
		return -ZFUSE_E_CORRUPT;
	}
	uint64_t length = le64(bonus + 8);
	if (smp_alloc)
		*smp_alloc = (int64_t)le64(bonus + 16);
	uint64_t bs = dnode_datablksz(&dn);
	uint64_t txg = 0;
	for (uint64_t off = 0; off < length && rc == 0; off += bs) {
		arc_buf_t *b;
		if ((rc = dbuf_hold(&dn, 0, off / bs, &b)) != 0)
			break;
		uint64_t n = (length - off < bs ? length - off : bs) / 8;
		const uint8_t *p = b->data;
		for (uint64_t i = 0; i < n; i++) {
			uint64_t w = le64(p + 8 * i);
			unsigned prefix = (unsigned)(w >> 62);
			if (prefix == SM_PREFIX_DEBUG) {
				txg = w & ((1ULL << 50) - 1);
				continue;
			}
			if (prefix == SM_PREFIX_TWO_WORD) {
				if (i + 1 >= n) {
					rc = -ZFUSE_E_CORRUPT;
					break;
				}
				uint64_t w2 = le64(p + 8 * ++i);
				uint64_t run = ((w >> 24) & ((1ULL << 36) - 1)) + 1;
				uint64_t vdev = w & ((1ULL << 24) - 1);
				uint64_t start = w2 & ((1ULL << 63) - 1);
				cb(arg, w2 >> 63, vdev, sm_start + (start << sm_shift), run << sm_shift, txg);
				continue;
			}
			uint64_t run = (w & 0x7fff) + 1;
			bool is_free = (w >> 15) & 1;
			uint64_t start = (w >> 16) & ((1ULL << 47) - 1);
			cb(arg, is_free, 0, sm_start + (start << sm_shift), run << sm_shift, txg);
		}
		dbuf_rele(&dn, b);
	}
	dnode_rele(&dn);
	return rc;
}

static void sum_entry(void *arg, bool is_free, uint64_t vdev, uint64_t start, uint64_t len, uint64_t txg)
{
	(void)vdev;
	(void)start;
	(void)txg;
	int64_t *sum = arg;
	*sum += is_free ? -(int64_t)len : (int64_t)len;
}

struct log_ctx {
	vdev_t *vd;
	struct metaslab_space *ms;
	uint64_t count;
	uint64_t log_txg;
};

static void log_entry(void *arg, bool is_free, uint64_t vdev, uint64_t start, uint64_t len, uint64_t txg)
{
	(void)txg;
	struct log_ctx *c = arg;
	if (vdev != c->vd->id)
		return;
	uint64_t i = start >> c->vd->metaslab_shift;
	if (i >= c->count || c->log_txg < c->ms[i].unflushed_txg || c->ms[i].unflushed_txg == 0)
		return;
	c->ms[i].alloc += is_free ? -(int64_t)len : (int64_t)len;
}

struct log_list {
	uint64_t txg, obj;
};

static int log_cmp(const void *a, const void *b)
{
	const struct log_list *x = a, *y = b;
	return x->txg < y->txg ? -1 : x->txg > y->txg;
}

struct log_collect {
	struct log_list *v;
	size_t n, cap;
};

static int log_collect_cb(void *arg, const zap_entry_t *ze)
{
	struct log_collect *c = arg;
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16;
		struct log_list *nv = realloc(c->v, nc * sizeof(*nv));
		if (!nv)
			return -ZFUSE_E_NOMEM;
		c->v = nv;
		c->cap = nc;
	}
	c->v[c->n].txg = strtoull(ze->name, NULL, 16);
	c->v[c->n].obj = ze->value_first;
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

int space_map_vdev(spa_t *spa, vdev_t *vd, struct metaslab_space **out, uint64_t *count)
{
	*out = NULL;
	*count = 0;
	if (!vd->metaslab_array || !vd->metaslab_shift || vd->metaslab_shift > 40)
		return -ZFUSE_E_NOENT;
	uint64_t n = vd->asize >> vd->metaslab_shift;
	if (n == 0 || n > (1 << 20))
		return -ZFUSE_E_CORRUPT;
	struct metaslab_space *ms = calloc(n, sizeof(*ms));
	if (!ms)
		return -ZFUSE_E_NOMEM;
	dnode_t arr;
	int rc = dnode_hold(spa->mos, vd->metaslab_array, &arr);
	if (rc == 0) {
		uint64_t *objs = malloc(n * 8);
		rc = objs ? dmu_read(&arr, 0, n * 8, objs) : -ZFUSE_E_NOMEM;
		for (uint64_t i = 0; rc == 0 && i < n; i++)
			ms[i].sm_object = objs[i];
		free(objs);
		dnode_rele(&arr);
	}
	for (uint64_t i = 0; rc == 0 && i < n; i++) {
		if (!ms[i].sm_object)
			continue;
		rc = sm_iterate(spa, ms[i].sm_object, i << vd->metaslab_shift, (unsigned)vd->ashift,
				sum_entry, &ms[i].alloc, &ms[i].smp_alloc);
	}
	/* Log space maps: unflushed txgs per metaslab, then the logs. */
	uint64_t topzap = rc == 0 ? vdev_top_zap(spa, vd) : 0;
	uint64_t unflushed_obj = 0, logzap = 0;
	if (topzap) {
		dnode_t z;
		if (dnode_hold(spa->mos, topzap, &z) == 0) {
			zap_lookup_uint64(&z, "com.delphix:ms_unflushed_phys_txgs", &unflushed_obj);
			dnode_rele(&z);
		}
	}
	dnode_t dir;
	if (rc == 0 && dnode_hold(spa->mos, 1, &dir) == 0) {
		zap_lookup_uint64(&dir, "com.delphix:log_spacemap_zap", &logzap);
		dnode_rele(&dir);
	}
	if (rc == 0 && unflushed_obj && logzap) {
		dnode_t u;
		if ((rc = dnode_hold(spa->mos, unflushed_obj, &u)) == 0) {
			uint64_t *v = malloc(n * 8);
			rc = v ? dmu_read(&u, 0, n * 8, v) : -ZFUSE_E_NOMEM;
			for (uint64_t i = 0; rc == 0 && i < n; i++)
				ms[i].unflushed_txg = v[i];
			free(v);
			dnode_rele(&u);
		}
		struct log_collect lc = { 0 };
		dnode_t lz;
		if (rc == 0 && (rc = dnode_hold(spa->mos, logzap, &lz)) == 0) {
			rc = zap_iterate(&lz, 0, 0, log_collect_cb, &lc);
			dnode_rele(&lz);
		}
		if (lc.n)
			qsort(lc.v, lc.n, sizeof(*lc.v), log_cmp);
		for (size_t i = 0; rc == 0 && i < lc.n; i++) {
			struct log_ctx c = { vd, ms, n, lc.v[i].txg };
			rc = sm_iterate(spa, lc.v[i].obj, 0, 9, log_entry, &c, NULL);
		}
		free(lc.v);
	}
	if (rc) {
		free(ms);
		return rc;
	}
	*out = ms;
	*count = n;
	return 0;
}
