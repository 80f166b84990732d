/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * sa.c — system attributes (object-layer.md §8.3): one in-memory table per
 * filesystem (registry + layouts), one walker over SA buffers, and on top
 * of them both directions: looking attributes up for reads and rewriting
 * an object's attributes the way OpenZFS's sa.c lays them out, so that
 * the layouts, bonus lengths and spill splits we write are the ones
 * OpenZFS would have produced from the same attribute list.
 *
 * A bonus layout is data-driven (registry lengths + layout order + per-
 * object variable lengths), so the walker checks every offset against the
 * buffer it points into. The writer keeps each object's attributes as an
 * ordered list (the order is the layout). A change that keeps every
 * attribute and length is patched into the existing bonus/spill bytes, as
 * sa_update does; any other change lays the list out again: sa_find_sizes
 * decides the split (what overlaps the last 128 bytes of the bonus area
 * spills), layouts are looked up by their attribute sequence and, when
 * new, numbered with the count of known layouts (stored ones plus the
 * reserved 0 and 1) and stored in the LAYOUTS ZAP. A filesystem without a
 * registry yet gets all 22 ZPL attributes registered with OpenZFS's
 * numbers first.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "byteorder.h"
#include "dmu_byteswap.h"
#include "zfs_acl.h"
#include "dmu_tx.h"
#include "dmu_types.h"
#include "sa.h"
#include "spa.h"
#include "zap.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define SA_MAX_ATTR_NUM 4096
#define SA_MAX_LAYOUTS 1024
#define SA_HDR_MIN 8			/* magic, layout info, one length */
#define BLKPTR_SIZE 128
#define DN_OLD_BONUS 320		/* bonus area of a 512-byte dnode */
#define SA_BLKPTR_SPACE (DN_OLD_BONUS - BLKPTR_SIZE)
#define SA_MAX_TOTAL (128 * 1024)	/* SPA_OLD_MAXBLOCKSIZE */

struct sa_attr {
	char name[64];
	uint16_t length;	/* 0: variable */
	uint8_t bswap;		/* byteswap class (sa_bswap_type) from the registry */
	int zpl;		/* enum zpl_attr or -1 */
	bool registered;	/* in the registry ZAP */
	bool known;		/* registered, or a ZPL attribute at its default number */
};

struct sa_layout {
	uint16_t *attrs;
	uint32_t count;
	bool present;
};

struct sa_table {
	uint64_t master, registry, layouts_obj;
	struct sa_attr attrs[SA_MAX_ATTR_NUM];
	struct sa_layout layouts[SA_MAX_LAYOUTS];
	uint16_t num[ZPL_END];			/* ZPL attribute → number */
	bool zpl_registered[ZPL_END];
	unsigned nlayouts;			/* known, incl. reserved 0 and 1 */
	unsigned generation;
};

static inline uint64_t roundup8(uint64_t v)
{
	return (v + 7) & ~7ULL;
}

/* ---- loading the registry and layouts --------------------------------- */

struct load_ctx {
	sa_table_t *t;
	int rc;
};

static int registry_cb(void *arg, const zap_entry_t *ze)
{
	struct load_ctx *c = arg;
	uint64_t v = ze->value_first;
	unsigned num = v & 0xffff;
	if (num >= SA_MAX_ATTR_NUM) {
		c->rc = SET_ERROR(-ZFUSE_E_CORRUPT);
		return 1;
	}
	struct sa_attr *a = &c->t->attrs[num];
	snprintf(a->name, sizeof(a->name), "%s", ze->name);
	a->length = (uint16_t)((v >> 24) & 0xffff);
	a->bswap = (uint8_t)((v >> 16) & 0xff);
	a->registered = a->known = true;
	a->zpl = -1;
	for (int i = 0; i < ZPL_END; i++) {
		if (strcmp(ze->name, zfs_attr_table[i].name) == 0) {
			a->zpl = i;
			c->t->num[i] = (uint16_t)num;
			c->t->zpl_registered[i] = true;
		}
	}
	return 0;
}

static int layouts_cb(void *arg, const zap_entry_t *ze)
{
	struct load_ctx *c = arg;
	char *end;
	unsigned long num = strtoul(ze->name, &end, 10);
	if (*end || num >= SA_MAX_LAYOUTS || ze->value_intlen != 2 || ze->value_numints > 1024) {
		c->rc = SET_ERROR(-ZFUSE_E_CORRUPT);
		return 1;
	}
	struct sa_layout *l = &c->t->layouts[num];
	free(l->attrs);
	l->attrs = malloc(ze->value_numints * sizeof(uint16_t) + 2);
	if (!l->attrs) {
		c->rc = -ZFUSE_E_NOMEM;
		return 1;
	}
	memcpy(l->attrs, ze->value, ze->value_numints * sizeof(uint16_t));
	l->count = (uint32_t)ze->value_numints;
	if (!l->present)
		c->t->nlayouts++;
	l->present = true;
	return 0;
}

static int load_zap(objset_t *os, uint64_t obj, zap_iter_fn cb, struct load_ctx *c)
{
	dnode_t dn;
	int rc = dnode_hold(os, obj, &dn);
	if (rc)
		return rc;
	rc = zap_iterate(&dn, 0, 0, cb, c);
	dnode_rele(&dn);
	return rc < 0 ? rc : c->rc;
}

int sa_table_load(objset_t *os, uint64_t sa_master_obj, sa_table_t **out)
{
	sa_table_t *t = calloc(1, sizeof(*t));
	if (!t)
		return -ZFUSE_E_NOMEM;
	t->master = sa_master_obj;
	/* Unregistered ZPL attributes get OpenZFS's numbers: the legacy 16
	 * fixed, the others in table order (what a fresh registry holds). */
	for (int i = 0; i < ZPL_END; i++)
		t->num[i] = (uint16_t)i;
	dnode_t master;
	int rc = dnode_hold(os, sa_master_obj, &master);
	if (rc) {
		free(t);
		return rc;
	}
	zap_lookup_uint64(&master, "REGISTRY", &t->registry);
	zap_lookup_uint64(&master, "LAYOUTS", &t->layouts_obj);
	dnode_rele(&master);
	struct load_ctx c = { t, 0 };
	if (t->registry && (rc = load_zap(os, t->registry, registry_cb, &c)) != 0)
		goto fail;
	for (int i = 0; i < ZPL_END; i++) {
		struct sa_attr *a = &t->attrs[t->num[i]];
		/* A number some other attribute registered keeps its meaning. */
		if (t->zpl_registered[i] || a->registered)
			continue;
		snprintf(a->name, sizeof(a->name), "%s", zfs_attr_table[i].name);
		a->length = zfs_attr_table[i].length;
		a->zpl = i;
		a->known = true;
	}
	if (t->layouts_obj && (rc = load_zap(os, t->layouts_obj, layouts_cb, &c)) != 0)
		goto fail;
	t->nlayouts += 2;	/* the reserved legacy (0) and empty (1) layouts */
	*out = t;
	return 0;
fail:
	sa_table_free(t);
	return rc;
}

void sa_table_free(sa_table_t *t)
{
	if (!t)
		return;
	for (int i = 0; i < SA_MAX_LAYOUTS; i++)
		free(t->layouts[i].attrs);
	free(t);
}

unsigned sa_table_generation(const sa_table_t *t)
{
	return t->generation;
}

/* ---- the layout walker ------------------------------------------------ */

/* Called for each attribute with its offset in the buffer; nonzero stops
 * the walk and is returned. */
typedef int (*sa_visit_fn)(void *arg, unsigned num, const struct sa_attr *a,
			   const uint8_t *val, uint32_t len, uint32_t off);

/* ---- byte order --------------------------------------------------------- */

/* SA buffers are byte arrays to the cache (their byteswap class is uint8):
 * only the registry knows each attribute's width, so a buffer written in
 * the other byte order is swapped here, in place in the cached block, the
 * first time it is walked (as OpenZFS's sa_byteswap does). The magic is
 * turned last, under the lock, so a concurrent walker sees either the
 * swapped magic (and waits for the lock) or a finished buffer. */
enum { SA_UINT64_ARRAY, SA_UINT32_ARRAY, SA_UINT16_ARRAY, SA_UINT8_ARRAY, SA_ACL };

static pthread_mutex_t sa_bswap_lock = PTHREAD_MUTEX_INITIALIZER;

static void sa_attr_byteswap(unsigned cls, uint8_t *val, uint64_t len)
{
	switch (cls) {
	case SA_UINT64_ARRAY: byteswap_uint64_array(val, len); break;
	case SA_UINT32_ARRAY: byteswap_uint32_array(val, len); break;
	case SA_UINT16_ARRAY: byteswap_uint16_array(val, len); break;
	case SA_ACL: zfs_acl_byteswap(val, len); break;
	default: break;
	}
}

static int sa_byteswap(const sa_table_t *t, uint8_t *buf, uint64_t len)
{
	int rc = 0;
	pthread_mutex_lock(&sa_bswap_lock);
	if (le32(buf) != __builtin_bswap32(SA_MAGIC))
		goto out;	/* another walker did it */
	uint16_t info = __builtin_bswap16(le16(buf + 4));
	uint64_t hdrsize = (uint64_t)(info >> 10) * 8;
	unsigned layout_num = info & 0x3ff;
	if (hdrsize < SA_HDR_MIN || hdrsize > len) {
		rc = SET_ERROR(-ZFUSE_E_CORRUPT);
		goto out;
	}
	/* Variable lengths: one in the 8-byte header, 4 per further 8 bytes. */
	byteswap_uint16_array(buf + 6, hdrsize - 6);
	const struct sa_layout *l = &t->layouts[layout_num];
	if (layout_num >= 2 && !l->present) {
		rc = SET_ERROR(-ZFUSE_E_CORRUPT);
		goto out;
	}
	uint64_t p = hdrsize;
	unsigned var = 0;
	for (uint32_t i = 0; layout_num >= 2 && i < l->count; i++) {
		unsigned num = l->attrs[i];
		if (num >= SA_MAX_ATTR_NUM || !t->attrs[num].known) {
			rc = SET_ERROR(-ZFUSE_E_CORRUPT);
			goto out;
		}
		uint64_t alen = t->attrs[num].length;
		if (alen == 0) {
			uint64_t off = 6 + 2ULL * var++;
			if (off + 2 > hdrsize) {
				rc = SET_ERROR(-ZFUSE_E_CORRUPT);
				goto out;
			}
			alen = le16(buf + off);
		}
		if (p + alen > len) {
			rc = SET_ERROR(-ZFUSE_E_CORRUPT);
			goto out;
		}
		sa_attr_byteswap(t->attrs[num].bswap, buf + p, alen);
		p = roundup8(p + alen);
	}
	bswap16_at(buf + 4);
	__atomic_store_n((uint32_t *)(void *)buf, (uint32_t)SA_MAGIC, __ATOMIC_RELEASE);
out:
	pthread_mutex_unlock(&sa_bswap_lock);
	return rc;
}

static int sa_walk(const sa_table_t *t, const uint8_t *buf, uint64_t len, sa_visit_fn visit,
		   void *arg)
{
	if (len < SA_HDR_MIN)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	uint32_t magic = __atomic_load_n((const uint32_t *)(const void *)buf, __ATOMIC_ACQUIRE);
	if (magic == 0)
		return 0;	/* freshly allocated: no attributes */
	if (magic == __builtin_bswap32(SA_MAGIC)) {
		int rc = sa_byteswap(t, (uint8_t *)(uintptr_t)buf, len);
		if (rc)
			return rc;
		magic = SA_MAGIC;
	}
	if (magic != SA_MAGIC)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	uint16_t info = le16(buf + 4);
	unsigned layout_num = info & 0x3ff;
	uint64_t hdrsize = (uint64_t)(info >> 10) * 8;
	if (hdrsize < SA_HDR_MIN || hdrsize > len)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	if (layout_num < 2)
		return 0;
	const struct sa_layout *l = &t->layouts[layout_num];
	if (!l->present)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	uint64_t p = hdrsize;
	unsigned var = 0;
	for (uint32_t i = 0; i < l->count; i++) {
		unsigned num = l->attrs[i];
		if (num >= SA_MAX_ATTR_NUM || !t->attrs[num].known)
			return SET_ERROR(-ZFUSE_E_CORRUPT);
		const struct sa_attr *a = &t->attrs[num];
		uint64_t alen = a->length;
		if (alen == 0) {
			uint64_t off = 6 + 2ULL * var++;
			if (off + 2 > hdrsize)
				return SET_ERROR(-ZFUSE_E_CORRUPT);
			alen = le16(buf + off);
		}
		if (p + alen > len)
			return SET_ERROR(-ZFUSE_E_CORRUPT);
		int rc = visit(arg, num, a, buf + p, (uint32_t)alen, (uint32_t)p);
		if (rc)
			return rc;
		p = roundup8(p + alen);
	}
	return 0;
}

/* Walk the bonus and, when there is one, the spill block (held into
 * *spill for the caller to release). */
static int sa_walk_object(const sa_table_t *t, dnode_t *dn, arc_buf_t **spill, sa_visit_fn visit,
			  void *arg)
{
	uint64_t blen;
	const uint8_t *bonus = dnode_bonus(dn, &blen);
	/* dn_bonuslen may undercount when a spill exists; the layout is
	 * bounded by the bonus capacity instead. */
	uint64_t cap = dnode_bonus_capacity(dn);
	int rc = sa_walk(t, bonus, cap > blen ? cap : blen, visit, arg);
	if (rc)
		return rc;
	rc = dnode_spill_hold(dn, spill);
	if (rc == -ZFUSE_E_NOENT)
		return 0;
	if (rc)
		return rc;
	return sa_walk(t, (*spill)->data, (*spill)->size, visit, arg);
}

/* ---- reading ---------------------------------------------------------- */

/* Readers trust only what the registry names: a layout that refers to an
 * unregistered number is damage, not a default. */
static int handle_visit(void *arg, unsigned num, const struct sa_attr *a, const uint8_t *val,
			uint32_t len, uint32_t off)
{
	(void)num;
	(void)off;
	sa_handle_t *h = arg;
	if (!a->registered)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	if (a->zpl >= 0 && !h->attr[a->zpl]) {
		h->attr[a->zpl] = val;
		h->len[a->zpl] = len;
	}
	return 0;
}

int sa_handle_get(const sa_table_t *t, dnode_t *dn, sa_handle_t *h)
{
	memset(h, 0, sizeof(*h));
	h->dn = dn;
	if (!t)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	int rc = sa_walk_object(t, dn, &h->spill, handle_visit, h);
	if (rc)
		sa_handle_release(h);
	return rc;
}

void sa_handle_release(sa_handle_t *h)
{
	if (h->spill) {
		arc_release(h->dn->os->spa, h->spill);
		h->spill = NULL;
	}
}

uint64_t sa_get_u64(const sa_handle_t *h, enum zpl_attr a, uint64_t dflt)
{
	if (!h->attr[a] || h->len[a] < 8)
		return dflt;
	return le64(h->attr[a]);
}

struct foreach_ctx {
	void (*cb)(void *, const char *, unsigned, const uint8_t *, uint32_t);
	void *arg;
};

static int foreach_visit(void *arg, unsigned num, const struct sa_attr *a, const uint8_t *val,
			 uint32_t len, uint32_t off)
{
	(void)off;
	struct foreach_ctx *c = arg;
	if (!a->registered)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	c->cb(c->arg, a->name, num, val, len);
	return 0;
}

int sa_foreach(const sa_table_t *t, dnode_t *dn,
	       void (*cb)(void *arg, const char *name, unsigned num, const uint8_t *val, uint32_t len),
	       void *arg)
{
	struct foreach_ctx c = { cb, arg };
	arc_buf_t *spill = NULL;
	int rc = sa_walk_object(t, dn, &spill, foreach_visit, &c);
	if (spill)
		arc_release(dn->os->spa, spill);
	return rc;
}

/* ---- attribute lists -------------------------------------------------- */

void sa_attrs_init(sa_attrs_t *l)
{
	memset(l, 0, sizeof(*l));
}

void sa_attrs_free(sa_attrs_t *l)
{
	for (unsigned i = 0; i < l->count; i++)
		free(l->a[i].val);
	free(l->spill);
	memset(l, 0, sizeof(*l));
}

static int attrs_append(sa_attrs_t *l, uint16_t num, const uint8_t *val, uint32_t len,
			bool in_spill, uint32_t off)
{
	if (l->count >= SA_MAX_OBJ_ATTRS)
		return -ZFUSE_E_RANGE;
	struct sa_obj_attr *a = &l->a[l->count];
	a->val = malloc(len ? len : 1);
	if (!a->val)
		return -ZFUSE_E_NOMEM;
	memcpy(a->val, val, len);
	a->num = num;
	a->len = len;
	a->in_spill = in_spill;
	a->off = off;
	a->dirty = false;
	l->count++;
	return 0;
}

struct load_attrs_ctx {
	sa_attrs_t *l;
	bool spill;
};

static int attrs_visit(void *arg, unsigned num, const struct sa_attr *a, const uint8_t *val,
		       uint32_t len, uint32_t off)
{
	(void)a;
	struct load_attrs_ctx *c = arg;
	return attrs_append(c->l, (uint16_t)num, val, len, c->spill, off);
}

int sa_attrs_load(const sa_table_t *t, dnode_t *dn, sa_attrs_t *l)
{
	sa_attrs_init(l);
	if (dn->bonustype != DMU_OT_SA)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	uint64_t blen;
	const uint8_t *bonus = dnode_bonus(dn, &blen);
	uint64_t cap = dnode_bonus_capacity(dn);
	struct load_attrs_ctx c = { l, false };
	int rc = sa_walk(t, bonus, cap > blen ? cap : blen, attrs_visit, &c);
	arc_buf_t *sb;
	int src = rc == 0 ? dnode_spill_hold(dn, &sb) : -ZFUSE_E_NOENT;
	if (src != -ZFUSE_E_NOENT && src != 0)
		rc = src;
	if (rc == 0 && src == 0) {
		/* Kept: an unchanged shape is patched into this copy. */
		l->spill = malloc(sb->size);
		if (!l->spill) {
			rc = -ZFUSE_E_NOMEM;
		} else {
			memcpy(l->spill, sb->data, sb->size);
			l->spill_size = sb->size;
			c.spill = true;
			rc = sa_walk(t, l->spill, l->spill_size, attrs_visit, &c);
		}
		arc_release(dn->os->spa, sb);
	}
	if (rc)
		sa_attrs_free(l);
	else
		l->loaded = true;
	return rc;
}

static int find_attr(const sa_table_t *t, const sa_attrs_t *l, enum zpl_attr a)
{
	for (unsigned i = 0; i < l->count; i++)
		if (l->a[i].num == t->num[a])
			return (int)i;
	return -1;
}

const uint8_t *sa_attrs_get(const sa_table_t *t, const sa_attrs_t *l, enum zpl_attr a,
			    uint32_t *len)
{
	int i = find_attr(t, l, a);
	if (i < 0)
		return NULL;
	if (len)
		*len = l->a[i].len;
	return l->a[i].val;
}

uint64_t sa_attrs_get_u64(const sa_table_t *t, const sa_attrs_t *l, enum zpl_attr a,
			  uint64_t dflt)
{
	uint32_t len;
	const uint8_t *v = sa_attrs_get(t, l, a, &len);
	return v && len >= 8 ? le64(v) : dflt;
}

int sa_attrs_set(const sa_table_t *t, sa_attrs_t *l, enum zpl_attr a, const void *val,
		 uint32_t len)
{
	uint16_t fixed = t->attrs[t->num[a]].length;
	if (fixed && fixed != len)
		return -ZFUSE_E_INVAL;
	/* A variable length is 16 bits in the header (SA_ATTR_MAX_LEN). */
	if (len > SA_ATTR_MAX_LEN)
		return -ZFUSE_E_FBIG;
	int i = find_attr(t, l, a);
	if (i < 0) {
		int rc = attrs_append(l, t->num[a], val, len, false, 0);
		if (rc)
			return rc;
		l->a[l->count - 1].dirty = true;
		l->reshaped = true;
		return 0;
	}
	struct sa_obj_attr *e = &l->a[i];
	if (e->len != len) {
		uint8_t *nv = malloc(len ? len : 1);
		if (!nv)
			return -ZFUSE_E_NOMEM;
		free(e->val);
		e->val = nv;
		e->len = len;
		l->reshaped = true;
	}
	memcpy(e->val, val, len);
	e->dirty = true;
	return 0;
}

int sa_attrs_set_u64(const sa_table_t *t, sa_attrs_t *l, enum zpl_attr a, uint64_t v)
{
	uint8_t b[8];
	put_le64(b, v);
	return sa_attrs_set(t, l, a, b, 8);
}

int sa_attrs_set_time(const sa_table_t *t, sa_attrs_t *l, enum zpl_attr a, const int64_t ts[2])
{
	uint8_t b[16];
	put_le64(b, (uint64_t)ts[0]);
	put_le64(b + 8, (uint64_t)ts[1]);
	return sa_attrs_set(t, l, a, b, 16);
}

void sa_attrs_remove(const sa_table_t *t, sa_attrs_t *l, enum zpl_attr a)
{
	int i = find_attr(t, l, a);
	if (i < 0)
		return;
	free(l->a[i].val);
	memmove(&l->a[i], &l->a[i + 1], (l->count - (unsigned)i - 1) * sizeof(l->a[0]));
	l->count--;
	l->reshaped = true;
}

/* ---- layout: sa_find_sizes and sa_build_layouts ------------------------ */

/*
 * Header size for the attributes a[0..n) stored in a buffer of full_space
 * bytes, and the sum of their lengths (each but the last 8-aligned). For
 * the bonus also: *index, the first attribute that would overlap the spill
 * pointer's 128 bytes, and whether spilling is needed at all. A variable-
 * length attribute after the first needs 2 more header bytes; in the bonus
 * they are given back when they belong to the spilled part.
 */
static uint64_t find_sizes(const sa_table_t *t, const struct sa_obj_attr *a, unsigned n,
			   bool bonus, uint64_t full_space, int *index, uint64_t *total,
			   bool *will_spill)
{
	unsigned nvar = 0;
	uint64_t hdr = SA_HDR_MIN, extra = 0;
	*index = -1;
	*total = 0;
	*will_spill = false;
	for (unsigned i = 0; i < n; i++) {
		*total = roundup8(*total) + a[i].len;
		if (*will_spill)
			continue;
		bool var = t->attrs[a[i].num].length == 0;
		if (var)
			nvar++;
		bool extra_len = var && nvar > 1;
		uint64_t tmp_hdr = hdr + (extra_len ? 2 : 0);
		bool might_spill_here = bonus && *index == -1 &&
					*total + roundup8(tmp_hdr) > full_space - BLKPTR_SIZE;
		if (extra_len) {
			if (!bonus || tmp_hdr + *total < full_space) {
				hdr = tmp_hdr;
				if (*index != -1 || might_spill_here)
					extra += 2;
			} else {
				if (*index == -1)
					*index = (int)i;
				*will_spill = true;
				continue;
			}
		}
		if (might_spill_here)
			*index = (int)i;
		if (bonus && *total + roundup8(hdr) > full_space)
			*will_spill = true;
	}
	if (*will_spill)
		hdr -= extra;
	return roundup8(hdr);
}

static void put_hdr(uint8_t *buf, unsigned layout, uint64_t hdrsize)
{
	buf[0] = SA_MAGIC & 0xff;
	buf[1] = (SA_MAGIC >> 8) & 0xff;
	buf[2] = (SA_MAGIC >> 16) & 0xff;
	buf[3] = 0;
	uint16_t info = (uint16_t)(((hdrsize / 8) << 10) | layout);
	buf[4] = info & 0xff;
	buf[5] = (uint8_t)(info >> 8);
}

int sa_layout_compute(const sa_table_t *t, const sa_attrs_t *l, uint64_t dnodesize,
		      uint64_t old_spill_size, const uint8_t *old_spill,
		      int (*lookup_layout)(void *arg, const uint16_t *attrs, unsigned n, unsigned *num),
		      void *arg, struct sa_layout_out *out)
{
	out->bonuslen = out->spill_size = 0;
	out->spill = NULL;
	out->bonus_count = out->spill_count = 0;
	if (dnodesize < 64 + BLKPTR_SIZE || dnodesize - 64 - BLKPTR_SIZE > sizeof(out->bonus))
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	uint64_t bonus_cap = dnodesize - 64 - BLKPTR_SIZE;	/* DN_BONUS_SIZE */
	/* Only what a dnode of this size holds is cleared: the whole 16 KiB
	 * was a memset per created file. */
	memset(out->bonus, 0, bonus_cap);
	int split;
	uint64_t used;
	bool spilling;
	uint64_t hdrsize = find_sizes(t, l->a, l->count, true, bonus_cap, &split, &used, &spilling);
	if (used > SA_MAX_TOTAL)
		return -ZFUSE_E_FBIG;
	out->bonuslen = spilling ? (bonus_cap - BLKPTR_SIZE < used + hdrsize ?
				    bonus_cap - BLKPTR_SIZE : used + hdrsize) : used + hdrsize;
	uint64_t spillhdr = 0, spill_size = 0;
	if (spilling) {
		int dummy_idx;
		bool dummy;
		uint64_t spill_used;
		spill_size = old_spill_size ? old_spill_size : 512;
		spillhdr = find_sizes(t, &l->a[split], l->count - (unsigned)split, false, spill_size,
				      &dummy_idx, &spill_used, &dummy);
		if (spill_used > SA_MAX_TOTAL)
			return -ZFUSE_E_FBIG;
		if (spill_used + spillhdr > spill_size)
			spill_size = (spill_used + spillhdr + 511) & ~511ULL;
		out->spill = calloc(1, spill_size);
		if (!out->spill)
			return -ZFUSE_E_NOMEM;
		if (old_spill)
			memcpy(out->spill, old_spill, old_spill_size < spill_size ? old_spill_size : spill_size);
		out->spill_size = spill_size;
	}

	uint16_t attrs[SA_MAX_OBJ_ATTRS];
	uint8_t *buf = out->bonus;
	bool in_spill = false;
	int64_t space = spilling ? (int64_t)SA_BLKPTR_SPACE - (int64_t)hdrsize
				 : (int64_t)(out->bonuslen - hdrsize);
	uint64_t pos = hdrsize;
	unsigned start = 0, nlen = 0;
	int rc;
	for (unsigned i = 0; i < l->count; i++) {
		const struct sa_obj_attr *a = &l->a[i];
		attrs[i] = a->num;
		if (space < (int64_t)a->len) {
			if (!spilling || in_spill)
				return -ZFUSE_E_FBIG;
			unsigned num;
			if ((rc = lookup_layout(arg, &attrs[start], i - start, &num)) != 0)
				return rc;
			put_hdr(buf, num, hdrsize);
			out->bonus_count = i - start;
			in_spill = true;
			buf = out->spill;
			memset(buf, 0, spillhdr);
			pos = spillhdr;
			space = (int64_t)(spill_size - spillhdr);
			start = i;
			nlen = 0;
		}
		memcpy(buf + pos, a->val, a->len);
		if (t->attrs[a->num].length == 0) {
			buf[6 + 2 * nlen] = a->len & 0xff;
			buf[7 + 2 * nlen] = (uint8_t)(a->len >> 8);
			nlen++;
		}
		pos = roundup8(pos + a->len);
		space -= (int64_t)roundup8(a->len);
	}
	unsigned num;
	if ((rc = lookup_layout(arg, &attrs[start], l->count - start, &num)) != 0)
		return rc;
	put_hdr(buf, num, in_spill ? spillhdr : hdrsize);
	if (in_spill) {
		out->spill_count = l->count - start;
	} else {
		out->bonus_count = l->count;
		if (out->spill) {
			/* Spilling was predicted but everything fitted. */
			free(out->spill);
			out->spill = NULL;
			out->spill_size = 0;
		}
	}
	return 0;
}

/* ---- storing ---------------------------------------------------------- */

struct store_ctx {
	sa_table_t *t;
	objset_t *os;
	dmu_tx_t *tx;
	int rc;
};

/* Create the registry with every ZPL attribute, as sa_attr_register_sync. */
static int register_attrs(struct store_ctx *c)
{
	sa_table_t *t = c->t;
	int rc;
	if (!t->registry) {
		uint64_t obj;
		if ((rc = zap_create(c->os, DMU_OT_SA_ATTR_REGISTRATION, DMU_OT_NONE, 0, c->tx,
				     &obj)) != 0)
			return rc;
		if ((rc = zap_add_uint64(c->os, t->master, "REGISTRY", obj, c->tx)) != 0)
			return rc;
		t->registry = obj;
	}
	for (int i = 0; i < ZPL_END; i++) {
		if (t->zpl_registered[i])
			continue;
		uint64_t v = ((uint64_t)zfs_attr_table[i].length << 24) | ((uint64_t)zfs_attr_table[i].bswap << 16) |
			     t->num[i];
		if ((rc = zap_update(c->os, t->registry, zfs_attr_table[i].name, 8, 1, &v, c->tx)) != 0)
			return rc;
		t->zpl_registered[i] = true;
		t->attrs[t->num[i]].registered = true;
	}
	return 0;
}

static bool all_registered(const sa_table_t *t)
{
	for (int i = 0; i < ZPL_END; i++)
		if (!t->zpl_registered[i])
			return false;
	return true;
}

int sa_table_find_layout(const sa_table_t *t, const uint16_t *attrs, unsigned n, unsigned *num)
{
	for (unsigned i = 2; i < SA_MAX_LAYOUTS; i++) {
		const struct sa_layout *w = &t->layouts[i];
		if (w->present && w->count == n && memcmp(w->attrs, attrs, n * sizeof(uint16_t)) == 0) {
			*num = i;
			return 0;
		}
	}
	return -ZFUSE_E_NOENT;
}

static int store_lookup_layout(void *arg, const uint16_t *attrs, unsigned n, unsigned *num)
{
	struct store_ctx *c = arg;
	sa_table_t *t = c->t;
	if (sa_table_find_layout(t, attrs, n, num) == 0)
		return 0;
	unsigned nn = t->nlayouts;
	if (nn >= SA_MAX_LAYOUTS || t->layouts[nn].present)
		return -ZFUSE_E_RANGE;
	int rc;
	if (!all_registered(t) && (rc = register_attrs(c)) != 0)
		return rc;
	if (!t->layouts_obj) {
		uint64_t obj;
		if ((rc = zap_create(c->os, DMU_OT_SA_ATTR_LAYOUTS, DMU_OT_NONE, 0, c->tx, &obj)) != 0)
			return rc;
		if ((rc = zap_add_uint64(c->os, t->master, "LAYOUTS", obj, c->tx)) != 0)
			return rc;
		t->layouts_obj = obj;
	}
	char key[16];
	snprintf(key, sizeof(key), "%u", nn);
	if ((rc = zap_update(c->os, t->layouts_obj, key, 2, n, attrs, c->tx)) != 0)
		return rc;
	struct sa_layout *w = &t->layouts[nn];
	w->attrs = malloc(n * sizeof(uint16_t) + 2);
	if (!w->attrs)
		return -ZFUSE_E_NOMEM;
	memcpy(w->attrs, attrs, n * sizeof(uint16_t));
	w->count = n;
	w->present = true;
	t->nlayouts++;
	t->generation++;
	*num = nn;
	return 0;
}

/* Same attributes and lengths as on disk: write the new values over the
 * old ones where they are. */
static int store_in_place(objset_t *os, uint64_t obj, sa_attrs_t *l, dmu_tx_t *tx)
{
	dnode_t dn;
	int rc = dnode_hold(os, obj, &dn);
	if (rc)
		return rc;
	uint64_t blen;
	const uint8_t *b = dnode_bonus(&dn, &blen);
	uint8_t bonus[16384];
	if (blen > sizeof(bonus)) {
		dnode_rele(&dn);
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	}
	memcpy(bonus, b, blen);
	dnode_rele(&dn);
	bool bonus_dirty = false, spill_dirty = false;
	for (unsigned i = 0; i < l->count; i++) {
		struct sa_obj_attr *a = &l->a[i];
		if (!a->dirty)
			continue;
		if (a->in_spill) {
			if (!l->spill || a->off + a->len > l->spill_size)
				return SET_ERROR(-ZFUSE_E_CORRUPT);
			memcpy(l->spill + a->off, a->val, a->len);
			spill_dirty = true;
		} else {
			if (a->off + a->len > blen)
				return SET_ERROR(-ZFUSE_E_CORRUPT);
			memcpy(bonus + a->off, a->val, a->len);
			bonus_dirty = true;
		}
		a->dirty = false;
	}
	if (bonus_dirty && (rc = dmu_bonus_write(os, obj, bonus, blen, tx)) != 0)
		return rc;
	if (spill_dirty && (rc = dmu_spill_write(os, obj, l->spill, l->spill_size, tx)) != 0)
		return rc;
	return 0;
}

int sa_attrs_store(sa_table_t *t, objset_t *os, uint64_t obj, sa_attrs_t *l, dmu_tx_t *tx)
{
	if (l->loaded && !l->reshaped)
		return store_in_place(os, obj, l, tx);
	dnode_t dn;
	int rc = dnode_hold(os, obj, &dn);
	if (rc)
		return rc;
	uint64_t dnodesize = dn.size;
	bool had_spill = (dn.flags & DNODE_FLAG_SPILL_BLKPTR) != 0;
	dnode_rele(&dn);
	struct store_ctx c = { t, os, tx, 0 };
	struct sa_layout_out lo, *out = &lo;	/* no 16 KiB malloc per store */
	rc = sa_layout_compute(t, l, dnodesize, l->spill ? l->spill_size : 0, l->spill,
			       store_lookup_layout, &c, out);
	if (rc)
		goto done;
	/* A spill pointer takes bonus space: drop it before a longer bonus. */
	if (!out->spill && had_spill && (rc = dmu_spill_write(os, obj, NULL, 0, tx)) != 0)
		goto done;
	if ((rc = dmu_bonus_write(os, obj, out->bonus, out->bonuslen, tx)) != 0)
		goto done;
	if (out->spill && (rc = dmu_spill_write(os, obj, out->spill, out->spill_size, tx)) != 0)
		goto done;
	/* The object now matches the list: later changes can patch it. */
	free(l->spill);
	l->spill = out->spill;
	l->spill_size = out->spill_size;
	out->spill = NULL;
	l->loaded = false;	/* offsets are not tracked: a later store lays out again */
done:
	free(out->spill);
	return rc;
}
