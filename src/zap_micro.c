/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zap_micro.c — the micro ZAP (object-layer.md §4): one block of 64-byte
 * chunks, a header (mzap_phys) then entries (mzap_ent_phys) of one uint64
 * value, a cd and a name under 50 bytes. This file is the only place that
 * knows those bytes; it reads, iterates and edits them, and decides when a
 * micro ZAP must become fat.
 *
 * Micro blocks store no hash, so iteration hashes every name and sorts.
 * Edits follow OpenZFS 2.3 so the block matches: an entry goes to the first
 * free chunk with the lowest cd unused by entries of the same 28-bit hash;
 * a full block grows by 512 bytes; the ZAP becomes fat when full at
 * 128 KiB or handed a value that is not one uint64, a name of 50 bytes or
 * more, or (adding) too many entries of one hash for a fat leaf. The
 * upgrade rewrites block 0 as a fat header and re-adds every entry with its
 * cd, into 16 KiB leaves.
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

/* Header chunk (mzap_phys), u64 fields. */
enum { MZ_BLOCK_TYPE = 0, MZ_SALT = 8, MZ_NORMFLAGS = 16 };
/* Entry chunk (mzap_ent_phys); a chunk whose name starts with NUL is free. */
enum { MZE_VALUE = 0, MZE_CD = 8, MZE_NAME = 14 };
#define MZAP_ENT_LEN 64
/* Micro ZAPs hash to 28 bits (no ZAP_FLAG_HASH64 to store). */
#define MZAP_HASHBITS 28

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* Entry chunk i (the header takes the first chunk's place). */
static uint8_t *mze_at(const uint8_t *m, uint64_t i)
{
	return (uint8_t *)m + MZAP_ENT_LEN + i * MZAP_ENT_LEN;
}

static uint64_t mze_count(uint64_t msize)
{
	return msize / MZAP_ENT_LEN - 1;
}

static bool mze_used(const uint8_t *c)
{
	return c[MZE_NAME] != 0;
}

/* The name, terminated even when the chunk's 50 bytes are not. */
static void mze_name(const uint8_t *c, char name[MZAP_NAME_LEN])
{
	memcpy(name, c + MZE_NAME, MZAP_NAME_LEN);
	name[MZAP_NAME_LEN - 1] = 0;
}

static uint32_t mze_cd(const uint8_t *c)
{
	return le32(c + MZE_CD);
}

/* The first used entry chunk at or after *i (of n), its name in name;
 * NULL when none is left. */
static uint8_t *mze_next(const uint8_t *m, uint64_t n, uint64_t *i, char name[MZAP_NAME_LEN])
{
	for (; *i < n; ++*i) {
		uint8_t *c = mze_at(m, *i);
		if (mze_used(c)) {
			mze_name(c, name);
			return c;
		}
	}
	return NULL;
}

/* The entry chunk named exactly name (len bytes), or -1: compared in
 * place, a pass over the block instead of a copy and a strcmp per entry
 * (creating a file in a directory of 1000 names looks its name up three
 * times). Agrees with mze_name on a 50-byte name left unterminated. */
static long mze_find_exact(const uint8_t *m, uint64_t n, const char *name, size_t len)
{
	if (len == 0 || len >= MZAP_NAME_LEN)
		return -1;
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *s = mze_at(m, i) + MZE_NAME;
		if (s[0] == (uint8_t)name[0] && memcmp(s, name, len) == 0 &&
		    (len == MZAP_NAME_LEN - 1 || s[len] == 0))
			return (long)i;
	}
	return -1;
}

void mzap_get_info(const uint8_t *m, zap_info_t *info)
{
	info->micro = true;
	info->salt = le64(m + MZ_SALT);
	info->normflags = le64(m + MZ_NORMFLAGS);
	info->hashbits = MZAP_HASHBITS;
}

void mzap_format(uint8_t *m, uint64_t salt, uint64_t normflags)
{
	put_le64(m + MZ_BLOCK_TYPE, ZBT_MICRO);
	put_le64(m + MZ_SALT, salt);
	put_le64(m + MZ_NORMFLAGS, normflags);
}

uint64_t mzap_count(const uint8_t *m, uint64_t msize)
{
	uint64_t n = mze_count(msize), used = 0;
	for (uint64_t i = 0; i < n; i++)
		used += mze_used(mze_at(m, i));
	return used;
}

/* ---- reading ------------------------------------------------------------- */

struct mze {
	const uint8_t *chunk;
	uint64_t hash;
	uint32_t cd;
};

static int mze_cmp(const void *a, const void *b)
{
	const struct mze *x = a, *y = b;
	return zap_cursor_cmp(x->hash, x->cd, y->hash, y->cd);
}

static void mze_fill(zap_entry_t *ze, const uint8_t *chunk, uint64_t hash, uint32_t cd, uint8_t *valbuf)
{
	mze_name(chunk, ze->name);
	ze->hash = hash;
	ze->cd = cd;
	ze->value_intlen = 8;
	ze->value_numints = 1;
	ze->value_first = le64(chunk + MZE_VALUE);
	memcpy(valbuf, chunk + MZE_VALUE, 8);
	ze->value = valbuf;
}

int mzap_iterate(dnode_t *dn, const zap_info_t *info, uint64_t start_hash, uint32_t start_cd,
		 zap_iter_fn cb, void *arg)
{
	arc_buf_t *b;
	int rc = dbuf_hold(dn, 0, 0, &b);
	if (rc)
		return rc;
	size_t n = mze_count(b->size), m = 0;
	struct mze *v = calloc(n ? n : 1, sizeof(*v));
	zap_entry_t *ze = malloc(sizeof(*ze));
	if (!v || !ze) {
		free(v);
		free(ze);
		dbuf_rele(dn, b);
		return -ZFUSE_E_NOMEM;
	}
	char name[MZAP_NAME_LEN];
	const uint8_t *c;
	for (uint64_t i = 0; (c = mze_next(b->data, n, &i, name)) != NULL; i++) {
		v[m].chunk = c;
		v[m].hash = zap_hash_name(info, name);
		v[m].cd = mze_cd(c);
		m++;
	}
	qsort(v, m, sizeof(*v), mze_cmp);
	rc = 0;
	for (size_t i = 0; i < m && rc == 0; i++) {
		if (zap_cursor_cmp(v[i].hash, v[i].cd, start_hash, start_cd) < 0)
			continue;
		uint8_t val[8];
		mze_fill(ze, v[i].chunk, v[i].hash, v[i].cd, val);
		rc = cb(arg, ze);
	}
	free(v);
	free(ze);
	dbuf_rele(dn, b);
	return rc;
}

/* The entry match accepts, without mzap_iterate's hashing and sorting of
 * every entry (a lookup in a directory of 1000 names spent 45 us there).
 * An exact name is compared in place (mze_find_exact); otherwise the
 * entry is the match the sorted walk meets first, the least (hash, cd). */
int mzap_find_entry(dnode_t *dn, const zap_info_t *info, const char *exact,
		    bool (*match)(void *arg, const zap_entry_t *ze), void *arg, struct zap_found *f)
{
	arc_buf_t *b;
	int rc = dbuf_hold(dn, 0, 0, &b);
	if (rc)
		return rc;
	uint64_t n = mze_count(b->size);
	if (exact) {
		long i = mze_find_exact(b->data, n, exact, strlen(exact));
		if (i >= 0) {
			const uint8_t *c = mze_at(b->data, (uint64_t)i);
			char name[MZAP_NAME_LEN];
			mze_name(c, name);
			mze_fill(&f->ze, c, zap_hash_name(info, name), mze_cd(c), f->val);
		}
		dbuf_rele(dn, b);
		return i >= 0 ? 0 : -ZFUSE_E_NOENT;
	}
	bool hit = false;
	zap_entry_t cand;	/* the entry match looks at; f keeps the best */
	char name[MZAP_NAME_LEN];
	const uint8_t *c;
	for (uint64_t i = 0; (c = mze_next(b->data, n, &i, name)) != NULL; i++) {
		memcpy(cand.name, name, MZAP_NAME_LEN);
		if (!match(arg, &cand))
			continue;
		uint64_t h = zap_hash_name(info, name);
		if (hit && zap_cursor_cmp(h, mze_cd(c), f->ze.hash, f->ze.cd) >= 0)
			continue;
		mze_fill(&f->ze, c, h, mze_cd(c), f->val);
		hit = true;
	}
	dbuf_rele(dn, b);
	return hit ? 0 : -ZFUSE_E_NOENT;
}

/* ---- editing --------------------------------------------------------------- */

/* Rebuild the micro ZAP in m (msize bytes) as a fat ZAP in z and re-add its
 * entries with their cds. The object's block size must already be final. */
int mzap_upgrade(zw_t *z, zap_store_t *st, uint64_t obj, unsigned type, const uint8_t *m,
		 uint64_t msize, uint64_t flags, unsigned bs)
{
	zw_setup(z, st, obj, type, bs, le64(m + MZ_SALT), le64(m + MZ_NORMFLAGS), flags);
	int rc = fzap_format(z);
	uint64_t n = mze_count(msize);
	char name[MZAP_NAME_LEN];
	const uint8_t *c;
	for (uint64_t i = 0; rc == 0 && (c = mze_next(m, n, &i, name)) != NULL; i++) {
		uint8_t be[8];
		put_be64(be, le64(c + MZE_VALUE));
		struct zkey k = { name, strlen(name), zap_hash_name(&z->info, name), NULL, 0 };
		struct zval v = { 8, 1, be };
		rc = fzap_add_cd(z, &k, &v, mze_cd(c));
	}
	return rc;
}

/* Micro entry lookup: exact name, or (norm) the lowest-cd entry whose
 * normalized name matches with the same hash. Returns the chunk or -1. */
static long mzap_find(const uint8_t *m, uint64_t n, const zap_info_t *info, const struct zkey *k)
{
	long best = -1;
	uint32_t bestcd = 0;
	char name[MZAP_NAME_LEN];
	const uint8_t *c;
	if (!k->norm)
		return mze_find_exact(m, n, k->name, k->len);
	for (uint64_t i = 0; (c = mze_next(m, n, &i, name)) != NULL; i++) {
		char buf[MZAP_NAME_LEN * 4 * 4];
		if (zap_normalize(name, info->normflags, buf, sizeof(buf)) != 0 || strcmp(buf, k->norm))
			continue;
		if (zap_hash_name(info, name) != k->hash)
			continue;
		if (best < 0 || mze_cd(c) < bestcd) {
			best = (long)i;
			bestcd = mze_cd(c);
		}
	}
	return best;
}

/* Write back the one entry an edit changed (not the whole block: a
 * directory of 1000 names is a 64 KiB block). */
static int write_entry(zap_store_t *st, uint64_t obj, const uint8_t *m, const uint8_t *c)
{
	return st->ops->write(st->ctx, obj, (uint64_t)(c - m), MZAP_ENT_LEN, c);
}

int mzap_remove(zap_store_t *st, uint64_t obj, uint8_t *m, uint64_t msize,
		const zap_info_t *info, const struct zkey *k, char *removed, size_t cap)
{
	long i = mzap_find(m, mze_count(msize), info, k);
	if (i < 0)
		return -ZFUSE_E_NOENT;
	uint8_t *c = mze_at(m, (uint64_t)i);
	if (removed && cap) {
		char stored[MZAP_NAME_LEN];
		mze_name(c, stored);
		if (strlen(stored) + 1 > cap)
			return -ZFUSE_E_RANGE;
		memcpy(removed, stored, strlen(stored) + 1);
	}
	memset(c, 0, MZAP_ENT_LEN);
	return write_entry(st, obj, m, c);
}

int mzap_put(zap_store_t *st, uint64_t obj, uint8_t **mp, uint64_t *msize, const struct zkey *k,
	     unsigned intlen, uint64_t numints, const void *val, bool update)
{
	uint8_t *m = *mp;
	uint64_t n = mze_count(*msize);
	bool grew = false;
	if (mzap_count(m, *msize) == n) {
		/* Full: grow by 512 bytes, or become fat past the largest micro block. */
		uint64_t newsz = *msize + 512;
		if (newsz > MZAP_MAX_BLKSZ)
			return ZAP_AGAIN;
		int rc = st->ops->set_blocksize(st->ctx, obj, newsz);
		if (rc)
			return rc;
		uint8_t *nm = realloc(m, newsz);
		if (!nm)
			return -ZFUSE_E_NOMEM;
		memset(nm + *msize, 0, newsz - *msize);
		*mp = m = nm;
		*msize = newsz;
		n = mze_count(newsz);
		grew = true;
	}
	if (intlen != 8 || numints != 1 || k->len >= MZAP_NAME_LEN)
		return ZAP_AGAIN;
	zap_info_t info;
	memset(&info, 0, sizeof(info));
	mzap_get_info(m, &info);
	uint64_t h = zap_hash_name(&info, k->name);
	/* cds in use by this hash, and how many share it: on the stack, which
	 * holds more than the 127 entries of one hash an add allows (the
	 * fat-leaf check below). */
	uint32_t cds_local[128], *cds = cds_local;
	uint64_t same = 0;
	long found = mze_find_exact(m, n, k->name, k->len);
	char name[MZAP_NAME_LEN];
	const uint8_t *c;
	for (uint64_t i = 0; (c = mze_next(m, n, &i, name)) != NULL; i++) {
		if (zap_hash_name(&info, name) != h)
			continue;
		if (same == 128 && cds == cds_local) {
			if (!(cds = malloc((n + 1) * sizeof(*cds))))
				return -ZFUSE_E_NOMEM;
			memcpy(cds, cds_local, sizeof(cds_local));
		}
		cds[same++] = mze_cd(c);
	}
	/* A fat leaf must be able to take every entry of one hash: each takes
	 * an entry chunk and the arrays of a longest micro name and a uint64. */
	uint64_t ent_chunks = 1 + zap_leaf_array_nchunks(MZAP_NAME_LEN) + zap_leaf_array_nchunks(8);
	if (!update && (same + 1) * ent_chunks >= zap_leaf_numchunks(ZAP_DEFAULT_LEAF_SHIFT)) {
		if (cds != cds_local)
			free(cds);
		return ZAP_AGAIN;
	}
	uint64_t v;
	memcpy(&v, val, 8);
	int rc = 0;
	if (found >= 0) {
		if (!update) {
			rc = -ZFUSE_E_EXIST;
		} else {
			uint8_t *fc = mze_at(m, (uint64_t)found);
			put_le64(fc + MZE_VALUE, v);
			rc = grew ? st->ops->write(st->ctx, obj, 0, *msize, m) : write_entry(st, obj, m, fc);
		}
		if (cds != cds_local)
			free(cds);
		return rc;
	}
	uint32_t cd = 0;
	for (bool again = true; again;) {
		again = false;
		for (uint64_t i = 0; i < same; i++) {
			if (cds[i] == cd) {
				cd++;
				again = true;
			}
		}
	}
	if (cds != cds_local)
		free(cds);
	for (uint64_t i = 0; i < n; i++) {
		uint8_t *c = mze_at(m, i);
		if (mze_used(c))
			continue;
		memset(c, 0, MZAP_ENT_LEN);
		put_le64(c + MZE_VALUE, v);
		put32(c + MZE_CD, cd);
		memcpy(c + MZE_NAME, k->name, k->len + 1);
		/* A grown block is written whole: its new size is dirty. */
		return grew ? st->ops->write(st->ctx, obj, 0, *msize, m) : write_entry(st, obj, m, c);
	}
	return SET_ERROR(-ZFUSE_E_CORRUPT);
}

/* ---- byte order -------------------------------------------------------- */

static void mzap_byteswap(uint8_t *m, size_t size)
{
	bswap64_at(m + MZ_BLOCK_TYPE);
	bswap64_at(m + MZ_SALT);
	bswap64_at(m + MZ_NORMFLAGS);
	for (size_t off = MZAP_ENT_LEN; off + MZAP_ENT_LEN <= size; off += MZAP_ENT_LEN) {
		bswap64_at(m + off + MZE_VALUE);
		bswap32_at(m + off + MZE_CD);
	}
}

void zap_byteswap(void *buf, size_t size)
{
	if (size < 8)
		return;
	uint64_t bt = le64(buf);
	if (bt == ZBT_MICRO || bt == __builtin_bswap64(ZBT_MICRO))
		mzap_byteswap(buf, size);
	else
		fzap_byteswap(buf, size);
}
