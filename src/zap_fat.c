/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zap_fat.c — the fat ZAP (object-layer.md §4): block 0's header
 * (zap_phys), the pointer table that maps a hash prefix to a leaf block
 * (embedded in the upper half of block 0, or in external blocks), and what
 * is done across leaves: finding the leaf of a hash, iterating in (hash, cd)
 * order leaf after leaf, splitting a full leaf, growing and shrinking the
 * table. What is inside one leaf is zap_leaf.c's.
 *
 * Edits follow OpenZFS 2.3 block for block. A leaf without room splits on
 * the next hash bit; when its prefix is as long as the pointer table's
 * index, the table doubles first (embedded → one external block → 2, 4, ...
 * blocks). We do the external doubling in one step rather than one block
 * per insert: the result is the table OpenZFS ends with, and a half-done
 * doubling found on disk is finished first. After an insert, a leaf that is
 * nearly full and already at full prefix length grows the table early, as
 * OpenZFS does. Removing the last entry of a leaf whose sibling is empty too
 * merges the two (2.2+ shrink) and may lower zap_freeblk.
 *
 * An edit keeps the blocks it touches in a small cache (zw_t) and writes
 * the changed ones back at the end, then frees released blocks; all of it
 * goes through a zap_store (zap_impl.h).
 */
#include <stdlib.h>
#include <string.h>
#include "byteorder.h"
#include "dmu_byteswap.h"
#include "dbuf.h"
#include "zap_impl.h"
#include "zap_leaf.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

/* Header (zap_phys) field offsets, all u64. */
enum {
	ZH_TYPE = 0, ZH_MAGIC = 8, ZH_ZT_BLK = 16, ZH_ZT_NUMBLKS = 24, ZH_ZT_SHIFT = 32,
	ZH_ZT_NEXTBLK = 40, ZH_ZT_COPIED = 48, ZH_FREEBLK = 56, ZH_NUM_LEAFS = 64,
	ZH_NUM_ENTRIES = 72, ZH_SALT = 80, ZH_NORMFLAGS = 88, ZH_FLAGS = 96
};

/* The embedded pointer table fills the upper half of block 0: 1 << (bs - 4)
 * pointers of 8 bytes. */
static uint64_t embedded_off(unsigned bs)
{
	return 1ULL << (bs - 1);
}

static unsigned embedded_shift_bs(unsigned bs)
{
	return bs - 4;
}

static unsigned hashbits_of(uint64_t flags)
{
	return (flags & ZAP_FLAG_HASH64) ? 48 : 28;
}

static uint64_t hash_idx(uint64_t h, unsigned n)
{
	return n == 0 ? 0 : h >> (64 - n);
}

/* Where pointer idx lives: block *blkid, byte *off in it. External table
 * blocks hold 1 << (bs - 3) pointers each, from zt_blk on. */
static void ptrtbl_where(unsigned bs, bool embedded, uint64_t zt_blk, uint64_t idx, uint64_t *blkid,
			 uint64_t *off)
{
	if (embedded) {
		*blkid = 0;
		*off = embedded_off(bs) + idx * 8;
		return;
	}
	unsigned epbs = bs - 3;
	*blkid = zt_blk + (idx >> epbs);
	*off = (idx & ((1ULL << epbs) - 1)) * 8;
}

/* ---- reading ------------------------------------------------------------- */

int fzap_get_info(const uint8_t *p, uint64_t size, zap_info_t *info)
{
	if (le64(p + ZH_TYPE) != ZBT_HEADER || le64(p + ZH_MAGIC) != ZAP_MAGIC)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	info->zt_blk = le64(p + ZH_ZT_BLK);
	info->zt_numblks = le64(p + ZH_ZT_NUMBLKS);
	info->zt_shift = le64(p + ZH_ZT_SHIFT);
	info->freeblk = le64(p + ZH_FREEBLK);
	info->num_leafs = le64(p + ZH_NUM_LEAFS);
	info->num_entries = le64(p + ZH_NUM_ENTRIES);
	info->salt = le64(p + ZH_SALT);
	info->normflags = le64(p + ZH_NORMFLAGS);
	info->flags = le64(p + ZH_FLAGS);
	info->hashbits = hashbits_of(info->flags);
	/* Blocks must be a power of two of at least 512 bytes; the pointer
	 * table geometry must fit what the block can hold. */
	unsigned bs = info->block_shift;
	if ((1ULL << bs) != size || bs < 9 || info->zt_shift > 48 ||
	    (info->zt_numblks == 0 && info->zt_shift > embedded_shift_bs(bs)) ||
	    (info->zt_numblks != 0 && info->zt_numblks << (bs - 3) < (1ULL << info->zt_shift)))
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	return 0;
}

int fzap_count(const uint8_t *p, uint64_t *count)
{
	if (le64(p + ZH_TYPE) != ZBT_HEADER || le64(p + ZH_MAGIC) != ZAP_MAGIC)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	*count = le64(p + ZH_NUM_ENTRIES);
	return 0;
}

static int fzap_ptrtbl_lookup(dnode_t *dn, const zap_info_t *info, uint64_t idx, uint64_t *blk)
{
	uint64_t blkid, off;
	ptrtbl_where(info->block_shift, info->zt_numblks == 0, info->zt_blk, idx, &blkid, &off);
	arc_buf_t *b;
	int rc = dbuf_hold(dn, 0, blkid, &b);
	if (rc)
		return rc;
	if (off + 8 > b->size)
		rc = SET_ERROR(-ZFUSE_E_CORRUPT);
	else
		*blk = le64((uint8_t *)b->data + off);
	dbuf_rele(dn, b);
	return rc;
}

static int fzap_leaf_for_hash(dnode_t *dn, const zap_info_t *info, uint64_t h, arc_buf_t **out,
			      zap_leaf_t *l, int *err)
{
	uint64_t blk;
	int rc = fzap_ptrtbl_lookup(dn, info, hash_idx(h, (unsigned)info->zt_shift), &blk);
	if (rc)
		return rc;
	if (blk == 0 || blk > dn->maxblkid)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	rc = dbuf_hold(dn, 0, blk, out);
	if (rc)
		return rc;
	rc = zap_leaf_open(l, (*out)->data, (*out)->size, info->block_shift, err);
	unsigned plen = rc ? 0 : zap_leaf_prefix_len(l);
	if (rc == 0 && plen && hash_idx(h, plen) != zap_leaf_prefix(l))
		rc = SET_ERROR(-ZFUSE_E_CORRUPT);
	if (rc)
		dbuf_rele(dn, *out);
	return rc;
}

int fzap_lookup_hash(dnode_t *dn, const zap_info_t *info, uint64_t h,
		     bool (*match)(void *, const zap_entry_t *), void *marg, struct zap_found *f)
{
	arc_buf_t *b;
	zap_leaf_t l;
	int err = 0;
	int rc = fzap_leaf_for_hash(dn, info, h, &b, &l, &err);
	if (rc)
		return rc;
	rc = zap_leaf_lookup_match(&l, h, info->flags & ZAP_FLAG_UINT64_KEY, match, marg, &f->ze,
				   f->val);
	dbuf_rele(dn, b);
	return rc;
}

struct fzap_iter_ent {
	uint64_t hash;
	uint32_t cd;
	uint32_t chunk;
};

static int fie_cmp(const void *a, const void *b)
{
	const struct fzap_iter_ent *x = a, *y = b;
	return zap_cursor_cmp(x->hash, x->cd, y->hash, y->cd);
}

/* Leaf by leaf from h's: each leaf's entries at or past (h, cd) sorted,
 * then the leaf after its prefix range. */
int fzap_iterate(dnode_t *dn, const zap_info_t *info, uint64_t h, uint32_t cd, zap_iter_fn cb,
		 void *arg)
{
	struct zap_found *f = malloc(sizeof(*f));
	struct fzap_iter_ent *v = NULL;
	if (!f)
		return -ZFUSE_E_NOMEM;
	int rc = 0, err = 0;
	uint64_t leaves_seen = 0;
	for (;;) {
		arc_buf_t *b;
		zap_leaf_t l;
		rc = fzap_leaf_for_hash(dn, info, h, &b, &l, &err);
		if (rc)
			break;
		if (++leaves_seen > info->num_leafs + 1 && leaves_seen > (1ULL << info->zt_shift) + 1) {
			dbuf_rele(dn, b);
			rc = SET_ERROR(-ZFUSE_E_CORRUPT);
			break;
		}
		free(v);
		v = malloc(sizeof(*v) * l.nchunks);
		if (!v) {
			dbuf_rele(dn, b);
			rc = -ZFUSE_E_NOMEM;
			break;
		}
		size_t m = 0;
		for (uint32_t i = 0; i < l.nchunks; i++) {
			uint64_t eh;
			uint32_t ecd;
			if (!zap_leaf_entry_key(&l, i, &eh, &ecd))
				continue;
			if (zap_cursor_cmp(eh, ecd, h, cd) < 0)
				continue;
			v[m].hash = eh;
			v[m].cd = ecd;
			v[m].chunk = i;
			m++;
		}
		qsort(v, m, sizeof(*v), fie_cmp);
		for (size_t i = 0; i < m && rc == 0; i++) {
			rc = zap_leaf_entry_decode(&l, v[i].chunk, info->flags & ZAP_FLAG_UINT64_KEY,
						   &f->ze, f->val);
			if (rc == 0)
				rc = cb(arg, &f->ze);
		}
		unsigned plen = zap_leaf_prefix_len(&l);
		dbuf_rele(dn, b);
		if (rc || plen == 0)
			break;
		uint64_t next = (h | ((1ULL << (64 - plen)) - 1)) + 1;
		if (next == 0)
			break;
		h = next;
		cd = 0;
	}
	free(v);
	free(f);
	return rc;
}

/* ---- the per-edit block cache --------------------------------------------- */

void zw_fini(zw_t *z)
{
	for (size_t i = 0; i < z->nblk; i++)
		free(z->blk[i].data);
	free(z->blk);
	free(z->frees);
	memset(z, 0, sizeof(*z));
}

/* Block id of the cache, loaded from the store (load) or zero-filled. */
static int zw_slot(zw_t *z, uint64_t id, bool load, bool dirty, uint8_t **out)
{
	for (size_t i = 0; i < z->nblk; i++) {
		if (z->blk[i].id == id) {
			if (!load)
				memset(z->blk[i].data, 0, 1ULL << z->bs);
			z->blk[i].dirty |= dirty;
			*out = z->blk[i].data;
			return 0;
		}
	}
	if (z->nblk == z->capblk) {
		size_t ncap = z->capblk ? z->capblk * 2 : 8;
		struct zblk *nb = realloc(z->blk, ncap * sizeof(*nb));
		if (!nb)
			return -ZFUSE_E_NOMEM;
		z->blk = nb;
		z->capblk = ncap;
	}
	uint8_t *d = calloc(1, 1ULL << z->bs);
	if (!d)
		return -ZFUSE_E_NOMEM;
	if (load) {
		int rc = z->st->ops->read(z->st->ctx, z->obj, id << z->bs, 1ULL << z->bs, d);
		if (rc) {
			free(d);
			return rc;
		}
	}
	z->blk[z->nblk++] = (struct zblk){ id, d, dirty };
	*out = d;
	return 0;
}

static int zw_get(zw_t *z, uint64_t id, bool dirty, uint8_t **out)
{
	return zw_slot(z, id, true, dirty, out);
}

static int zw_new(zw_t *z, uint64_t id, uint8_t **out)
{
	return zw_slot(z, id, false, true, out);
}

/* The cached block id was changed: write it back at flush. */
static void zw_mark(zw_t *z, uint64_t id)
{
	for (size_t i = 0; i < z->nblk; i++)
		if (z->blk[i].id == id)
			z->blk[i].dirty = true;
}

/* Release n blocks from first: dropped from the cache, freed at flush. */
static int zw_free_blocks(zw_t *z, uint64_t first, uint64_t n)
{
	for (size_t i = 1; i < z->nblk;) {
		if (z->blk[i].id >= first && z->blk[i].id < first + n) {
			free(z->blk[i].data);
			z->blk[i] = z->blk[--z->nblk];
		} else {
			i++;
		}
	}
	if (z->nfrees == z->capfrees) {
		size_t ncap = z->capfrees ? z->capfrees * 2 : 4;
		uint64_t (*nf)[2] = realloc(z->frees, ncap * sizeof(*nf));
		if (!nf)
			return -ZFUSE_E_NOMEM;
		z->frees = nf;
		z->capfrees = ncap;
	}
	z->frees[z->nfrees][0] = first;
	z->frees[z->nfrees][1] = n;
	z->nfrees++;
	return 0;
}

int zw_flush(zw_t *z)
{
	for (size_t i = 0; i < z->nblk; i++) {
		if (!z->blk[i].dirty)
			continue;
		int rc = z->st->ops->write(z->st->ctx, z->obj, z->blk[i].id << z->bs, 1ULL << z->bs,
					   z->blk[i].data);
		if (rc)
			return rc;
		z->blk[i].dirty = false;
	}
	for (size_t i = 0; i < z->nfrees; i++) {
		int rc = z->st->ops->free_range(z->st->ctx, z->obj, z->frees[i][0] << z->bs,
						z->frees[i][1] << z->bs);
		if (rc)
			return rc;
	}
	z->nfrees = 0;
	return 0;
}

/* ---- fat header and pointer table ---------------------------------------- */

static uint64_t hdr_get(const zw_t *z, unsigned off)
{
	return le64(z->hdr + off);
}

static void hdr_set(zw_t *z, unsigned off, uint64_t v)
{
	put_le64(z->hdr + off, v);
	z->blk[0].dirty = true;
}

static unsigned embedded_shift(const zw_t *z)
{
	return embedded_shift_bs(z->bs);
}

static int ptr_get(zw_t *z, uint64_t idx, uint64_t *blk)
{
	bool embedded = hdr_get(z, ZH_ZT_NUMBLKS) == 0;
	if (embedded ? idx >= (1ULL << embedded_shift(z))
		     : (idx >> (z->bs - 3)) >= hdr_get(z, ZH_ZT_NUMBLKS))
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	uint64_t blkid, off;
	ptrtbl_where(z->bs, embedded, hdr_get(z, ZH_ZT_BLK), idx, &blkid, &off);
	uint8_t *p;
	int rc = zw_get(z, blkid, false, &p);
	if (rc)
		return rc;
	*blk = le64(p + off);
	return 0;
}

static int ptr_set(zw_t *z, uint64_t idx, uint64_t blk)
{
	uint64_t blkid, off;
	ptrtbl_where(z->bs, hdr_get(z, ZH_ZT_BLK) == 0, hdr_get(z, ZH_ZT_BLK), idx, &blkid, &off);
	uint8_t *p;
	int rc = zw_get(z, blkid, true, &p);
	if (rc)
		return rc;
	put_le64(p + off, blk);
	return 0;
}

/* Each entry of src becomes two adjacent entries of dst (the table doubles). */
static void ptrtbl_transfer(const uint8_t *src, uint8_t *dst, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		uint64_t v = le64(src + i * 8);
		put_le64(dst + (2 * i) * 8, v);
		put_le64(dst + (2 * i + 1) * 8, v);
	}
}

/* Copy old table block b into new blocks 2b and 2b+1. */
static int ptrtbl_copy_block(zw_t *z, uint64_t oldblk, uint64_t newblk, uint64_t b)
{
	uint64_t hepb = 1ULL << (z->bs - 4);
	uint8_t *old, *n0, *n1;
	int rc = zw_get(z, oldblk + b, false, &old);
	if (rc == 0)
		rc = zw_new(z, newblk + 2 * b, &n0);
	if (rc == 0)
		rc = zw_new(z, newblk + 2 * b + 1, &n1);
	if (rc)
		return rc;
	ptrtbl_transfer(old, n0, hepb);
	ptrtbl_transfer(old + hepb * 8, n1, hepb);
	return 0;
}

/* Finish an external doubling: copy blocks from zt_blks_copied on. */
static int ptrtbl_finish_growth(zw_t *z)
{
	uint64_t oldblk = hdr_get(z, ZH_ZT_BLK), n = hdr_get(z, ZH_ZT_NUMBLKS);
	uint64_t newblk = hdr_get(z, ZH_ZT_NEXTBLK);
	for (uint64_t b = hdr_get(z, ZH_ZT_COPIED); b < n; b++) {
		int rc = ptrtbl_copy_block(z, oldblk, newblk, b);
		if (rc)
			return rc;
	}
	int rc = zw_free_blocks(z, oldblk, n);
	if (rc)
		return rc;
	hdr_set(z, ZH_ZT_BLK, newblk);
	hdr_set(z, ZH_ZT_NUMBLKS, n * 2);
	hdr_set(z, ZH_ZT_SHIFT, hdr_get(z, ZH_ZT_SHIFT) + 1);
	hdr_set(z, ZH_ZT_NEXTBLK, 0);
	hdr_set(z, ZH_ZT_COPIED, 0);
	return 0;
}

static uint64_t alloc_blocks(zw_t *z, uint64_t n)
{
	uint64_t b = hdr_get(z, ZH_FREEBLK);
	hdr_set(z, ZH_FREEBLK, b + n);
	return b;
}

static int grow_ptrtbl(zw_t *z)
{
	/* Never index the table with (nearly) all the hash bits. */
	if (hdr_get(z, ZH_ZT_SHIFT) >= z->info.hashbits - 2)
		return -ZFUSE_E_NOSPC;
	if (hdr_get(z, ZH_ZT_NUMBLKS) == 0) {
		if (hdr_get(z, ZH_ZT_SHIFT) != embedded_shift(z))
			return SET_ERROR(-ZFUSE_E_CORRUPT);
		uint64_t nb = alloc_blocks(z, 1);
		uint8_t *p;
		int rc = zw_new(z, nb, &p);
		if (rc)
			return rc;
		ptrtbl_transfer(z->hdr + embedded_off(z->bs), p, 1ULL << embedded_shift(z));
		hdr_set(z, ZH_ZT_BLK, nb);
		hdr_set(z, ZH_ZT_NUMBLKS, 1);
		hdr_set(z, ZH_ZT_SHIFT, hdr_get(z, ZH_ZT_SHIFT) + 1);
		return 0;
	}
	hdr_set(z, ZH_ZT_NEXTBLK, alloc_blocks(z, hdr_get(z, ZH_ZT_NUMBLKS) * 2));
	hdr_set(z, ZH_ZT_COPIED, 0);
	return ptrtbl_finish_growth(z);
}

static int deref_leaf(zw_t *z, uint64_t h, bool dirty, uint64_t *blkp, zap_leaf_t *l)
{
	uint64_t blk;
	int rc = ptr_get(z, hash_idx(h, (unsigned)hdr_get(z, ZH_ZT_SHIFT)), &blk);
	if (rc)
		return rc;
	if (blk == 0 || blk >= hdr_get(z, ZH_FREEBLK))
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	uint8_t *p;
	rc = zw_get(z, blk, dirty, &p);
	if (rc)
		return rc;
	if ((rc = zap_leaf_open(l, p, 1ULL << z->bs, z->bs, &z->err)) != 0)
		return rc;
	unsigned plen = zap_leaf_prefix_len(l);
	if (plen > hdr_get(z, ZH_ZT_SHIFT) || hash_idx(h, plen) != zap_leaf_prefix(l))
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	*blkp = blk;
	return 0;
}

static int create_leaf(zw_t *z, uint64_t *blkp, zap_leaf_t *l)
{
	uint64_t blk = alloc_blocks(z, 1);
	uint8_t *p;
	int rc = zw_new(z, blk, &p);
	if (rc)
		return rc;
	zap_leaf_bind(l, p, z->bs, &z->err);
	zap_leaf_init(l, z->info.normflags != 0);
	hdr_set(z, ZH_NUM_LEAFS, hdr_get(z, ZH_NUM_LEAFS) + 1);
	*blkp = blk;
	return 0;
}

/* Split the leaf holding h (growing the table first if needed); *l and
 * *blkp become the half that now holds h. */
static int expand_leaf(zw_t *z, uint64_t h, uint64_t *blkp, zap_leaf_t *l)
{
	unsigned old_plen = zap_leaf_prefix_len(l);
	int rc;
	while (old_plen == hdr_get(z, ZH_ZT_SHIFT)) {
		if ((rc = grow_ptrtbl(z)) != 0)
			return rc;
	}
	unsigned prefix_diff = (unsigned)hdr_get(z, ZH_ZT_SHIFT) - (old_plen + 1);
	uint64_t sibling = (hash_idx(h, old_plen + 1) | 1) << prefix_diff;
	uint64_t nblk;
	zap_leaf_t nl;
	if ((rc = create_leaf(z, &nblk, &nl)) != 0)
		return rc;
	zw_mark(z, *blkp);
	zap_leaf_split(l, &nl, z->info.normflags != 0);
	if (z->err)
		return z->err;
	for (uint64_t i = 0; i < (1ULL << prefix_diff); i++) {
		if ((rc = ptr_set(z, sibling + i, nblk)) != 0)
			return rc;
	}
	if (h & (1ULL << (64 - zap_leaf_prefix_len(l)))) {
		*blkp = nblk;
		*l = nl;
	}
	return 0;
}

/* After an insert: a nearly full leaf at full prefix length grows the table now. */
static void maybe_grow_ptrtbl(zw_t *z, const zap_leaf_t *l)
{
	if (zap_leaf_prefix_len(l) == hdr_get(z, ZH_ZT_SHIFT) && zap_leaf_nfree(l) < ZAP_LEAF_LOW_WATER)
		(void)grow_ptrtbl(z);
}

static void num_entries_add(zw_t *z, int delta)
{
	hdr_set(z, ZH_NUM_ENTRIES, hdr_get(z, ZH_NUM_ENTRIES) + (uint64_t)(int64_t)delta);
}

/* Add k with value v (cd ZAP_NEED_CD: the lowest free one), or with update
 * replace the value of an existing k; the leaf splits until the entry fits. */
static int fzap_put(zw_t *z, const struct zkey *k, const struct zval *v, uint32_t cd, bool update)
{
	uint64_t blk;
	zap_leaf_t l;
	int rc = deref_leaf(z, k->hash, false, &blk, &l);
	if (rc)
		return rc;
	for (;;) {
		uint16_t c = zap_leaf_lookup(&l, k, NULL);
		if (c != ZAP_LEAF_CHAIN_END && !update) {
			rc = -ZFUSE_E_EXIST;
			break;
		}
		if (z->err)
			return z->err;
		if (c == ZAP_LEAF_CHAIN_END) {
			rc = zap_leaf_entry_create(&l, k, cd, v);
			if (rc == 0)
				num_entries_add(z, 1);
		} else {
			rc = zap_leaf_entry_update(&l, c, v);
		}
		if (rc == 0)
			zw_mark(z, blk);
		if (rc != ZAP_AGAIN)
			break;
		if ((rc = expand_leaf(z, k->hash, &blk, &l)) != 0)
			return rc;
	}
	if (rc != -ZFUSE_E_NOSPC && z->err == 0)
		maybe_grow_ptrtbl(z, &l);
	return rc ? rc : z->err;
}

int fzap_add_cd(zw_t *z, const struct zkey *k, const struct zval *v, uint32_t cd)
{
	return fzap_put(z, k, v, cd, false);
}

int fzap_update(zw_t *z, const struct zkey *k, const struct zval *v)
{
	return fzap_put(z, k, v, ZAP_NEED_CD, true);
}

/* Lower zap_freeblk to one past the highest block still referenced. */
static int zap_trunc(zw_t *z)
{
	uint64_t nent, last;
	if (hdr_get(z, ZH_ZT_BLK) > 0) {
		nent = 1ULL << hdr_get(z, ZH_ZT_SHIFT);
		last = hdr_get(z, ZH_ZT_BLK) + hdr_get(z, ZH_ZT_NUMBLKS) - 1;
	} else {
		nent = 1ULL << embedded_shift(z);
		last = 0;
	}
	for (uint64_t i = 0; i < nent; i++) {
		uint64_t b;
		int rc = ptr_get(z, i, &b);
		if (rc)
			return rc;
		if (b > last)
			last = b;
	}
	hdr_set(z, ZH_FREEBLK, last + 1);
	return 0;
}

/*
 * The leaf (blk, l) just became empty: while its sibling (same prefix
 * length, last prefix bit flipped) is empty too, the "…1" leaf is freed and
 * its pointer range handed to the "…0" leaf, whose prefix loses a bit.
 */
static int zap_shrink(zw_t *z, uint64_t blk, zap_leaf_t *l)
{
	unsigned zt_shift = (unsigned)hdr_get(z, ZH_ZT_SHIFT);
	uint64_t prefix = zap_leaf_prefix(l);
	unsigned plen = zap_leaf_prefix_len(l);
	bool trunc = false;
	int rc = 0;
	while (plen) {
		unsigned prefix_diff = zt_shift - plen;
		uint64_t sl_prefix = prefix ^ 1;
		uint64_t sl_hash = sl_prefix << (64 - plen);
		bool slbit = prefix & 1;
		uint64_t nptrs = 1ULL << prefix_diff;
		uint64_t idx = hash_idx(sl_hash, zt_shift), first, last;
		if (ptr_get(z, idx, &first) || ptr_get(z, idx + nptrs - 1, &last) || first != last)
			break;
		uint64_t sblk;
		zap_leaf_t sl;
		if ((rc = deref_leaf(z, sl_hash, false, &sblk, &sl)) != 0)
			break;
		if (zap_leaf_prefix_len(&sl) != plen || zap_leaf_nentries(&sl) != 0)
			break;
		uint64_t keep = slbit ? sblk : blk, drop = slbit ? blk : sblk;
		uint64_t drop_idx = (slbit ? prefix : sl_prefix) << prefix_diff;
		for (uint64_t i = 0; i < nptrs && rc == 0; i++)
			rc = ptr_set(z, drop_idx + i, keep);
		if (rc)
			break;
		if (drop == hdr_get(z, ZH_FREEBLK) - 1)
			trunc = true;
		if ((rc = zw_free_blocks(z, drop, 1)) != 0)
			break;
		hdr_set(z, ZH_NUM_LEAFS, hdr_get(z, ZH_NUM_LEAFS) - 1);
		blk = keep;
		uint8_t *p;
		if ((rc = zw_get(z, blk, true, &p)) != 0)
			break;
		zap_leaf_bind(l, p, z->bs, &z->err);
		zap_leaf_set_prefix(l, zap_leaf_prefix(l) >> 1, zap_leaf_prefix_len(l) - 1);
		prefix = zap_leaf_prefix(l);
		plen = zap_leaf_prefix_len(l);
	}
	if (trunc && rc == 0)
		rc = zap_trunc(z);
	return rc;
}

int fzap_remove(zw_t *z, const struct zkey *k, char *removed, size_t cap)
{
	uint64_t blk;
	zap_leaf_t l;
	uint8_t *slot = NULL;
	int rc = deref_leaf(z, k->hash, false, &blk, &l);
	if (rc)
		return rc;
	uint16_t c = zap_leaf_lookup(&l, k, &slot);
	if (z->err)
		return z->err;
	if (c == ZAP_LEAF_CHAIN_END)
		return -ZFUSE_E_NOENT;
	if (removed && cap) {
		char stored[ZAP_MAXNAMELEN_NEW + 1];
		if ((rc = zap_leaf_entry_name(&l, c, stored)) != 0)
			return rc;
		if (strlen(stored) + 1 > cap)
			return -ZFUSE_E_RANGE;
		memcpy(removed, stored, strlen(stored) + 1);
	}
	zw_mark(z, blk);
	zap_leaf_entry_remove(&l, slot, c);
	num_entries_add(z, -1);
	if (z->err)
		return z->err;
	if (zap_leaf_nentries(&l) == 0)
		return zap_shrink(z, blk, &l);
	return 0;
}

/* ---- opening and creating ------------------------------------------------ */

void zw_setup(zw_t *z, zap_store_t *st, uint64_t obj, unsigned type, unsigned bs, uint64_t salt,
	      uint64_t normflags, uint64_t flags)
{
	memset(z, 0, sizeof(*z));
	z->st = st;
	z->obj = obj;
	z->type = type;
	z->bs = bs;
	z->info.salt = salt;
	z->info.normflags = normflags;
	z->info.flags = flags;
	z->info.hashbits = hashbits_of(flags);
	z->info.block_shift = bs;
}

/* Block 0 and leaf 1 of an empty fat ZAP (fzap_upgrade). */
int fzap_format(zw_t *z)
{
	uint8_t *p;
	int rc = zw_new(z, 0, &z->hdr);
	if (rc == 0)
		rc = zw_new(z, 1, &p);
	if (rc)
		return rc;
	hdr_set(z, ZH_TYPE, ZBT_HEADER);
	hdr_set(z, ZH_MAGIC, ZAP_MAGIC);
	hdr_set(z, ZH_ZT_SHIFT, embedded_shift(z));
	hdr_set(z, ZH_FREEBLK, 2);
	hdr_set(z, ZH_NUM_LEAFS, 1);
	hdr_set(z, ZH_NUM_ENTRIES, 0);
	hdr_set(z, ZH_SALT, z->info.salt);
	hdr_set(z, ZH_NORMFLAGS, z->info.normflags);
	hdr_set(z, ZH_FLAGS, z->info.flags);
	for (uint64_t i = 0; i < (1ULL << embedded_shift(z)); i++)
		put_le64(z->hdr + embedded_off(z->bs) + i * 8, 1);
	zap_leaf_t l;
	zap_leaf_bind(&l, p, z->bs, &z->err);
	zap_leaf_init(&l, z->info.normflags != 0);
	return 0;
}

/* Open an existing fat ZAP whose block size is blksz. */
int fzap_open(zw_t *z, zap_store_t *st, uint64_t obj, unsigned type, uint64_t blksz)
{
	unsigned bs = zap_log2_floor(blksz);
	if ((1ULL << bs) != blksz || bs < 9 || bs > 17)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	zw_setup(z, st, obj, type, bs, 0, 0, 0);
	int rc = zw_get(z, 0, false, &z->hdr);
	if (rc)
		return rc;
	if (hdr_get(z, ZH_TYPE) != ZBT_HEADER || hdr_get(z, ZH_MAGIC) != ZAP_MAGIC)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	z->info.salt = hdr_get(z, ZH_SALT);
	z->info.normflags = hdr_get(z, ZH_NORMFLAGS);
	z->info.flags = hdr_get(z, ZH_FLAGS);
	z->info.hashbits = hashbits_of(z->info.flags);
	if (z->info.flags & ZAP_FLAG_UINT64_KEY)
		return -ZFUSE_E_UNSUPPORTED;
	uint64_t shift = hdr_get(z, ZH_ZT_SHIFT), nblks = hdr_get(z, ZH_ZT_NUMBLKS);
	if (shift > z->info.hashbits ||
	    (nblks == 0 && shift != embedded_shift(z)) ||
	    (nblks != 0 && (nblks << (bs - 3)) != (1ULL << shift)))
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	if (hdr_get(z, ZH_ZT_NEXTBLK) != 0 && nblks != 0)
		rc = ptrtbl_finish_growth(z);
	return rc;
}


/* ---- byte order -------------------------------------------------------- */

void fzap_byteswap(void *buf, size_t size)
{
	uint64_t bt = size >= 8 ? le64(buf) : 0;
	if (bt == ZBT_LEAF || bt == __builtin_bswap64(ZBT_LEAF))
		zap_leaf_byteswap(buf, size);
	else
		byteswap_uint64_array(buf, size);
}
