/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * test_zap_write.c — the ZAP writer (zapw_*, zap_impl.h) checked by the
 * reader (zap.h): micro ZAPs filled until they grow and become fat, fat ZAPs
 * of thousands of entries with values of every integer width (leaf splits,
 * pointer-table growth into external blocks), updates that change value
 * sizes, removals down to nothing (leaf shrink, zap_freeblk truncation) and
 * normalized names. After each phase every entry is looked up and iterated
 * with zap_lookup / zap_iterate, iteration order and stored hashes are
 * checked, and a structural walk of every fat block checks the invariants
 * OpenZFS relies on (free-chunk counts and lists, bucket chains sorted by
 * cd, leaf prefixes against pointer-table ranges, header counters).
 *
 * Without ZAPW_REAL the objects live in an in-memory store and the reader's
 * dbuf_hold is served from it (this program then links the ZAP files
 * directly, not the library).
 */
#include <check.h>
#include "check_main.h"
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arc.h"
#include "byteorder.h"
#include "dmu_types.h"
#include "dnode.h"
#include "zap.h"
#include "zap_impl.h"
#include "zfuse/errors.h"
#ifdef ZAPW_FIXTURE
#include <unistd.h>
#include "dsl.h"
#include "spa.h"
#include "zfuse/zfuse.h"
#include "fixture.h"
#endif

/* ---- in-memory objects ---------------------------------------------------- */

#define MAXOBJ 64

struct fobj {
	bool used;
	unsigned type;
	uint64_t blksz;
	uint8_t *data;
	uint64_t size;		/* bytes of data (whole blocks) */
	uint64_t frees;		/* free_range calls, for the shrink check */
};
static struct fobj objs[MAXOBJ];

static int f_stat(void *ctx, uint64_t obj, unsigned *type, uint64_t *blksz)
{
	(void)ctx;
	if (obj >= MAXOBJ || !objs[obj].used)
		return -ZFUSE_E_NOENT;
	*type = objs[obj].type;
	*blksz = objs[obj].blksz;
	return 0;
}

static int f_read(void *ctx, uint64_t obj, uint64_t off, uint64_t len, void *buf)
{
	(void)ctx;
	struct fobj *o = &objs[obj];
	memset(buf, 0, len);
	if (off < o->size)
		memcpy(buf, o->data + off, (o->size - off < len) ? o->size - off : len);
	return 0;
}

static void f_extend(struct fobj *o, uint64_t end)
{
	uint64_t want = (end + o->blksz - 1) / o->blksz * o->blksz;
	if (want <= o->size)
		return;
	o->data = realloc(o->data, want);
	ck_assert_ptr_nonnull(o->data);
	memset(o->data + o->size, 0, want - o->size);
	o->size = want;
}

static int f_write(void *ctx, uint64_t obj, uint64_t off, uint64_t len, const void *buf)
{
	(void)ctx;
	struct fobj *o = &objs[obj];
	f_extend(o, off + len);
	memcpy(o->data + off, buf, len);
	return 0;
}

static int f_setbs(void *ctx, uint64_t obj, uint64_t blksz)
{
	(void)ctx;
	struct fobj *o = &objs[obj];
	if (o->size > o->blksz)
		return -ZFUSE_E_INVAL;	/* more than one block */
	o->data = realloc(o->data, blksz);
	if (blksz > o->size)
		memset(o->data + o->size, 0, blksz - o->size);
	o->size = o->size ? blksz : 0;
	o->blksz = blksz;
	return 0;
}

static int f_free(void *ctx, uint64_t obj, uint64_t off, uint64_t len)
{
	(void)ctx;
	struct fobj *o = &objs[obj];
	ck_assert_uint_eq(off % o->blksz, 0);
	ck_assert_uint_eq(len % o->blksz, 0);
	if (off < o->size)
		memset(o->data + off, 0, (o->size - off < len) ? o->size - off : len);
	o->frees++;
	return 0;
}

static const struct zap_store_ops fake_ops = { f_stat, f_read, f_write, f_setbs, f_free };
static zap_store_t store = { &fake_ops, NULL };

static uint64_t new_zap(unsigned type, uint64_t blksz, uint64_t normflags, uint64_t flags, uint64_t salt)
{
	for (uint64_t i = 1; i < MAXOBJ; i++) {
		if (objs[i].used)
			continue;
		objs[i] = (struct fobj){ .used = true, .type = type, .blksz = blksz };
		ck_assert_int_eq(zapw_init(&store, i, normflags, flags, salt), 0);
		return i;
	}
	ck_abort_msg("out of objects");
	return 0;
}

static void free_zap(uint64_t obj)
{
	free(objs[obj].data);
	objs[obj] = (struct fobj){ 0 };
}

#ifndef ZAPW_FIXTURE
/* The reader's view of an object: its dbuf_hold reads the store. */
static void hold(uint64_t obj, dnode_t *dn)
{
	struct fobj *o = &objs[obj];
	memset(dn, 0, sizeof(*dn));
	dn->object = obj;
	dn->type = (uint8_t)o->type;
	dn->datablkszsec = (uint16_t)(o->blksz >> 9);
	dn->maxblkid = o->size ? o->size / o->blksz - 1 : 0;
	dn->nlevels = 1;
}

static void rele(dnode_t *dn)
{
	(void)dn;
}

int dbuf_hold(dnode_t *dn, int level, uint64_t blkid, arc_buf_t **out)
{
	ck_assert_int_eq(level, 0);
	struct fobj *o = &objs[dn->object];
	arc_buf_t *b = calloc(1, sizeof(*b));
	b->size = o->blksz;
	b->data = malloc(o->blksz);
	f_read(NULL, dn->object, blkid * o->blksz, o->blksz, b->data);
	*out = b;
	return 0;
}

void dbuf_rele(dnode_t *dn, arc_buf_t *b)
{
	(void)dn;
	free(b->data);
	free(b);
}

/* zap.c's DMU store is not used here. */
int dnode_hold(objset_t *os, uint64_t object, dnode_t *dn)
{
	(void)os, (void)object, (void)dn;
	return -ZFUSE_E_UNSUPPORTED;
}
void dnode_rele(dnode_t *dn)
{
	(void)dn;
}
#endif	/* !ZAPW_FIXTURE */

/* Until the write engine links, zap.c's DMU store needs these; the
 * engine's definitions replace them. Never called by these tests. */
__attribute__((weak)) int dmu_read_object(objset_t *os, uint64_t object, uint64_t off, uint64_t len, void *buf)
{
	(void)os, (void)object, (void)off, (void)len, (void)buf;
	return -ZFUSE_E_UNSUPPORTED;
}
__attribute__((weak)) int dmu_write(objset_t *os, uint64_t object, uint64_t off, uint64_t len, const void *buf, dmu_tx_t *tx)
{
	(void)os, (void)object, (void)off, (void)len, (void)buf, (void)tx;
	return -ZFUSE_E_UNSUPPORTED;
}
__attribute__((weak)) int dmu_object_set_blocksize(objset_t *os, uint64_t object, uint64_t blksz, dmu_tx_t *tx)
{
	(void)os, (void)object, (void)blksz, (void)tx;
	return -ZFUSE_E_UNSUPPORTED;
}
__attribute__((weak)) int dmu_free_range(objset_t *os, uint64_t object, uint64_t off, uint64_t len, dmu_tx_t *tx)
{
	(void)os, (void)object, (void)off, (void)len, (void)tx;
	return -ZFUSE_E_UNSUPPORTED;
}
__attribute__((weak)) int dmu_object_alloc(objset_t *os, unsigned type, uint64_t blksz, unsigned bonustype,
		     unsigned bonuslen, unsigned dnodesize, dmu_tx_t *tx, uint64_t *object)
{
	(void)os, (void)type, (void)blksz, (void)bonustype, (void)bonuslen, (void)dnodesize, (void)tx,
		(void)object;
	return -ZFUSE_E_UNSUPPORTED;
}
__attribute__((weak)) int dmu_object_claim(objset_t *os, uint64_t object, unsigned type, uint64_t blksz,
		     unsigned bonustype, unsigned bonuslen, unsigned dnodesize, dmu_tx_t *tx)
{
	(void)os, (void)object, (void)type, (void)blksz, (void)bonustype, (void)bonuslen,
		(void)dnodesize, (void)tx;
	return -ZFUSE_E_UNSUPPORTED;
}

#ifndef ZAPW_FIXTURE
/* ---- the expected contents ------------------------------------------------- */

#define MAXVAL 96

struct ref {
	char name[300];
	unsigned intlen;
	uint64_t numints;
	uint8_t val[MAXVAL * 8];	/* host order */
	bool present;
};

static struct ref *refs;
static size_t nrefs;

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

/* Entry i's name starts with its number so iteration can find its record. */
static void make_name(size_t i, unsigned len, char *out)
{
	int n = snprintf(out, 300, "e%07zu-", i);
	for (unsigned j = (unsigned)n; j < len; j++)
		out[j] = (char)('a' + mix(i * 131 + j) % 26);
	out[len > (unsigned)n ? len : (unsigned)n] = 0;
}

static void make_value(struct ref *r, size_t i, unsigned intlen, uint64_t numints, uint64_t seed)
{
	r->intlen = intlen;
	r->numints = numints;
	for (uint64_t k = 0; k < intlen * numints; k++)
		r->val[k] = (uint8_t)mix(seed * 7919 + i * 31 + k);
}

static void put(uint64_t obj, size_t i, bool update, int want)
{
	struct ref *r = &refs[i];
	int rc = zapw_put(&store, obj, r->name, r->intlen, r->numints, r->val, update);
	ck_assert_msg(rc == want, "put %s: %d, want %d", r->name, rc, want);
	if (rc == 0)
		r->present = true;
}

static void del(uint64_t obj, size_t i)
{
	ck_assert_int_eq(zapw_remove(&store, obj, refs[i].name, false, NULL, 0), 0);
	refs[i].present = false;
	ck_assert_int_eq(zapw_remove(&store, obj, refs[i].name, false, NULL, 0), -ZFUSE_E_NOENT);
}

#endif	/* !ZAPW_FIXTURE */

/* Check writes a message per passed ck_assert; the walks below make
 * millions of checks, so they report only failures. */
#define REQ(c) do { if (!(c)) ck_abort_msg("line %d: %s", __LINE__, #c); } while (0)
#define REQ_MSG(c, ...) do { if (!(c)) ck_abort_msg(__VA_ARGS__); } while (0)
#define REQ_CMP(a, op, b, T, fmt) do { T a_ = (T)(a), b_ = (T)(b); \
	if (!(a_ op b_)) ck_abort_msg("line %d: %s %s %s (" fmt " vs " fmt ")", __LINE__, #a, #op, #b, a_, b_); } while (0)
#define REQ_EQ(a, b) REQ_CMP(a, ==, b, unsigned long long, "%llu")
#define REQ_LT(a, b) REQ_CMP(a, <, b, unsigned long long, "%llu")
#define REQ_LE(a, b) REQ_CMP(a, <=, b, unsigned long long, "%llu")
#define REQ_GT(a, b) REQ_CMP(a, >, b, unsigned long long, "%llu")
#define REQ_EQ_S(a, b) REQ_CMP(a, ==, b, long long, "%lld")
#define REQ_GE_S(a, b) REQ_CMP(a, >=, b, long long, "%lld")

/* ---- structural walk of a fat ZAP ------------------------------------------ */

struct fatstat {
	uint64_t leaves, entries, zt_shift, zt_numblks, freeblk, bs;
};

static uint64_t blk_le64(const uint8_t *b, uint64_t off)
{
	return le64(b + off);
}

static void check_leaf(const uint8_t *l, unsigned bs, uint64_t *nentries)
{
	unsigned nhash = 1u << (bs - 5);
	unsigned nchunks = ((1u << bs) - 2 * nhash) / 24 - 2;
	const uint8_t *ch = l + 48 + 2 * nhash;
	REQ_EQ(le64(l), ZBT_LEAF);
	REQ_EQ(le32(l + 24), ZAP_LEAF_MAGIC);
	REQ_EQ(le64(l + 8), 0);
	unsigned nfree = le16(l + 28), nent = le16(l + 30), plen = le16(l + 32);
	uint64_t prefix = le64(l + 16);
	unsigned char *seen = calloc(nchunks, 1);
	unsigned types[3] = { 0 };
	for (unsigned i = 0; i < nchunks; i++) {
		unsigned t = ch[i * 24];
		REQ_MSG(t >= 251 && t <= 253, "chunk %u type %u", i, t);
		types[t - 251]++;
	}
	REQ_EQ(types[2], nfree);
	REQ_EQ(types[1], nent);
	/* The free list holds exactly the free chunks, each with zero padding. */
	unsigned n = 0;
	for (unsigned c = le16(l + 34); c != 0xffff; c = le16(ch + c * 24 + 22)) {
		REQ_LT(c, nchunks);
		REQ_EQ(ch[c * 24], 253);
		REQ(!seen[c]);
		seen[c] = 1;
		for (int k = 1; k < 22; k++)
			REQ_EQ(ch[c * 24 + k], 0);
		n++;
	}
	REQ_EQ(n, nfree);
	/* Every entry sits in its bucket's chain, chains sorted by cd; its
	 * arrays are array chunks of the right length. */
	unsigned found = 0;
	for (unsigned b = 0; b < nhash; b++) {
		int64_t prevcd = -1;
		for (unsigned c = le16(l + 48 + 2 * b); c != 0xffff; c = le16(ch + c * 24 + 2)) {
			const uint8_t *e = ch + c * 24;
			REQ_EQ(e[0], 252);
			REQ(!seen[c]);
			seen[c] = 1;
			uint64_t h = le64(e + 16);
			if (plen)
				REQ_EQ(h >> (64 - plen), prefix);
			REQ_EQ((h >> (64 - (bs - 5) - plen)) & (nhash - 1), b);
			REQ_GE_S((int64_t)le32(e + 12), prevcd);
			prevcd = le32(e + 12);
			uint64_t nb[2] = { le16(e + 6), (uint64_t)le16(e + 10) * e[1] };
			unsigned heads[2] = { le16(e + 4), le16(e + 8) };
			for (int a = 0; a < 2; a++) {
				unsigned cnt = 0;
				for (unsigned x = heads[a]; x != 0xffff; x = le16(ch + x * 24 + 22)) {
					REQ_LT(x, nchunks);
					REQ_EQ(ch[x * 24], 251);
					REQ(!seen[x]);
					seen[x] = 1;
					cnt++;
				}
				REQ_EQ(cnt, (nb[a] + 20) / 21);
			}
			found++;
		}
	}
	REQ_EQ(found, nent);
	for (unsigned i = 0; i < nchunks; i++)
		REQ_MSG(seen[i], "chunk %u unreachable", i);
	free(seen);
	*nentries = nent;
}

static void check_fat(uint64_t obj, struct fatstat *fs)
{
	struct fobj *o = &objs[obj];
	unsigned bs = 0;
	while ((1ULL << bs) < o->blksz)
		bs++;
	const uint8_t *h = o->data;
	REQ_EQ(le64(h), ZBT_HEADER);
	REQ_EQ(le64(h + 8), ZAP_MAGIC);
	uint64_t zt_blk = le64(h + 16), zt_numblks = le64(h + 24), zt_shift = le64(h + 32);
	REQ_EQ(le64(h + 40), 0);
	REQ_EQ(le64(h + 48), 0);
	uint64_t freeblk = le64(h + 56), num_leafs = le64(h + 64), num_entries = le64(h + 72);
	if (zt_numblks == 0)
		REQ_EQ(zt_shift, bs - 4);
	else
		REQ_EQ(zt_numblks << (bs - 3), 1ULL << zt_shift);
	REQ_LE(freeblk, o->size / o->blksz);
	/* Walk the pointer table: each leaf owns one aligned run of 2^(shift-plen). */
	uint64_t nptr = 1ULL << zt_shift, leaves = 0, entries = 0;
	for (uint64_t i = 0; i < nptr;) {
		uint64_t blk = zt_numblks == 0 ? blk_le64(h, (1ULL << (bs - 1)) + i * 8)
					       : blk_le64(o->data, ((zt_blk + (i >> (bs - 3))) << bs) +
								       (i & ((1ULL << (bs - 3)) - 1)) * 8);
		REQ_GT(blk, 0);
		REQ_LT(blk, freeblk);
		if (zt_numblks)
			REQ(blk < zt_blk || blk >= zt_blk + zt_numblks);
		const uint8_t *l = o->data + (blk << bs);
		unsigned plen = le16(l + 32);
		REQ_LE(plen, zt_shift);
		uint64_t run = 1ULL << (zt_shift - plen);
		REQ_EQ(i % run, 0);
		REQ_EQ(le64(l + 16), i >> (zt_shift - plen));
		for (uint64_t j = i; j < i + run; j++) {
			uint64_t b2 = zt_numblks == 0 ? blk_le64(h, (1ULL << (bs - 1)) + j * 8)
						      : blk_le64(o->data, ((zt_blk + (j >> (bs - 3))) << bs) +
									      (j & ((1ULL << (bs - 3)) - 1)) * 8);
			REQ_EQ(b2, blk);
		}
		uint64_t ne;
		check_leaf(l, bs, &ne);
		entries += ne;
		leaves++;
		i += run;
	}
	REQ_EQ(leaves, num_leafs);
	REQ_EQ(entries, num_entries);
	if (fs)
		*fs = (struct fatstat){ leaves, entries, zt_shift, zt_numblks, freeblk, bs };
}

#ifndef ZAPW_FIXTURE
/* ---- read back through the reader ---------------------------------------- */

struct walk {
	zap_info_t info;
	uint64_t n, prev_hash;
	uint32_t prev_cd;
	unsigned char *seen;
};

static int walk_cb(void *arg, const zap_entry_t *ze)
{
	struct walk *w = arg;
	if (w->n)
		REQ_MSG(ze->hash > w->prev_hash || (ze->hash == w->prev_hash && ze->cd > w->prev_cd),
			      "iteration out of order at %s", ze->name);
	REQ_EQ(zap_hash_name(&w->info, ze->name), ze->hash);
	w->prev_hash = ze->hash;
	w->prev_cd = ze->cd;
	w->n++;
	size_t i = strtoull(ze->name + 1, NULL, 10);
	REQ_LT(i, nrefs);
	struct ref *r = &refs[i];
	REQ_MSG(r->present && strcmp(r->name, ze->name) == 0, "unexpected %s", ze->name);
	REQ(!w->seen[i]);
	w->seen[i] = 1;
	REQ_EQ(ze->value_intlen, r->intlen);
	REQ_EQ(ze->value_numints, r->numints);
	REQ(memcmp(ze->value, r->val, r->intlen * r->numints) == 0);
	return 0;
}

/* Everything the reader sees equals refs; returns the ZAP's info. */
static void check_all(uint64_t obj, zap_info_t *out)
{
	dnode_t dn;
	hold(obj, &dn);
	struct walk w = { 0 };
	REQ_EQ_S(zap_get_info(&dn, &w.info), 0);
	w.seen = calloc(nrefs ? nrefs : 1, 1);
	REQ_EQ_S(zap_iterate(&dn, 0, 0, walk_cb, &w), 0);
	uint64_t present = 0;
	uint8_t *buf = malloc(MAXVAL * 8);
	for (size_t i = 0; i < nrefs; i++) {
		struct ref *r = &refs[i];
		if (!r->present) {
			if (r->name[0] && (i % 7) == 0)
				REQ_EQ_S(zap_lookup(&dn, r->name, 8, MAXVAL, buf), -ZFUSE_E_NOENT);
			continue;
		}
		present++;
		REQ_MSG(w.seen[i], "%s not iterated", r->name);
		unsigned il;
		uint64_t ni;
		REQ_EQ_S(zap_lookup_length(&dn, r->name, &il, &ni), 0);
		REQ_EQ(il, r->intlen);
		REQ_EQ(ni, r->numints);
		REQ_EQ_S(zap_lookup(&dn, r->name, r->intlen, r->numints, buf), 0);
		REQ(memcmp(buf, r->val, r->intlen * r->numints) == 0);
	}
	free(buf);
	REQ_EQ(w.n, present);
	uint64_t cnt;
	REQ_EQ_S(zapw_count(&store, obj, &cnt), 0);
	REQ_EQ(cnt, present);
	if (!w.info.micro)
		check_fat(obj, NULL);
	free(w.seen);
	rele(&dn);
	if (out)
		*out = w.info;
}

static void refs_reset(size_t n)
{
	free(refs);
	refs = calloc(n, sizeof(*refs));
	ck_assert_ptr_nonnull(refs);
	nrefs = n;
}

/* ---- tests --------------------------------------------------------------- */

START_TEST(test_micro_basics)
{
	refs_reset(40);
	uint64_t obj = new_zap(DMU_OT_DIRECTORY_CONTENTS, 512, 0, 0, 0x7318abf);
	ck_assert_uint_eq(le64(objs[obj].data), ZBT_MICRO);
	ck_assert_uint_eq(le64(objs[obj].data + 8), 0x7318abf);
	for (size_t i = 0; i < 7; i++) {
		make_name(i, 12, refs[i].name);
		uint64_t v = 0x8000000000000000ULL | (i + 100);
		make_value(&refs[i], i, 8, 1, 0);
		memcpy(refs[i].val, &v, 8);
		put(obj, i, false, 0);
	}
	/* Entries fill chunks in order; the value is stored little-endian. */
	ck_assert_str_eq((char *)objs[obj].data + 64 + 14, refs[0].name);
	ck_assert_uint_eq(le64(objs[obj].data + 64 * 3), 0x8000000000000000ULL | 102);
	ck_assert_uint_eq(objs[obj].blksz, 512);
	/* Adding to a full micro ZAP grows it first, even when the name
	 * exists (OpenZFS grows in zap_lockdir before looking). */
	put(obj, 3, false, -ZFUSE_E_EXIST);
	ck_assert_uint_eq(objs[obj].blksz, 1024);
	check_all(obj, NULL);
	/* A removed entry's chunk is zeroed and reused first. */
	del(obj, 2);
	for (int k = 0; k < 64; k++)
		ck_assert_uint_eq(objs[obj].data[64 * 3 + k], 0);
	make_name(9, 20, refs[9].name);
	make_value(&refs[9], 9, 8, 1, 0);
	put(obj, 9, false, 0);
	ck_assert_str_eq((char *)objs[obj].data + 64 * 3 + 14, refs[9].name);
	/* Update in place. */
	make_value(&refs[9], 9, 8, 1, 5);
	put(obj, 9, true, 0);
	check_all(obj, NULL);
	/* Up to 15 entries fit 1024 bytes; the 16th grows it again. */
	for (size_t i = 10; i < 20; i++) {
		make_name(i, 8 + (unsigned)i, refs[i].name);
		make_value(&refs[i], i, 8, 1, 0);
		put(obj, i, false, 0);
		ck_assert_uint_eq(objs[obj].blksz, i < 18 ? 1024 : 1536);
	}
	ck_assert_uint_eq(le64(objs[obj].data), ZBT_MICRO);
	check_all(obj, NULL);
	ck_assert_int_eq(zapw_put(&store, obj, "", 8, 1, refs[0].val, false), -ZFUSE_E_INVAL);
	ck_assert_int_eq(zapw_put(&store, obj, "x", 3, 1, refs[0].val, false), -ZFUSE_E_INVAL);
	free_zap(obj);
}
END_TEST

/* CRC-64 never maps short same-length differences to equal truncated
 * hashes, so colliders differ in many bytes. */
static void collider_name(size_t i, char *out)
{
	snprintf(out, 40, "c%zu-%llx", i, (unsigned long long)(i * 0x9E3779B97F4A7C15ULL));
}

/* Sort by hash (top bits); the low 20 bits carry the index. */
static int cmp_top(const void *x, const void *y)
{
	uint64_t p = *(const uint64_t *)x >> 20, q = *(const uint64_t *)y >> 20;
	return p < q ? -1 : p > q;
}

/* Two names whose 28-bit hashes collide under salt, found by brute force. */
static void find_collision(uint64_t salt, unsigned hashbits, char *a, char *b)
{
	zap_info_t info = { .salt = salt, .hashbits = hashbits };
	size_t n = 1u << 17;
	uint64_t *hs = malloc(n * sizeof(*hs));
	for (size_t i = 0; i < n; i++) {
		char nm[40];
		collider_name(i, nm);
		hs[i] = (zap_hash_name(&info, nm) & ~0xfffffULL) | i;
	}
	qsort(hs, n, sizeof(*hs), cmp_top);
	for (size_t i = 1; i < n; i++) {
		if ((hs[i] >> 20) == (hs[i - 1] >> 20)) {
			size_t x = hs[i - 1] & 0xfffff, y = hs[i] & 0xfffff;
			collider_name(x, a);
			collider_name(y, b);
			if (zap_hash_name(&info, a) == zap_hash_name(&info, b)) {
				free(hs);
				return;
			}
		}
	}
	free(hs);
	ck_abort_msg("no collision");
}

struct cds {
	char names[4][64];
	uint32_t cd[4];
	uint64_t hash[4];
};

static int cd_cb(void *arg, const zap_entry_t *ze)
{
	struct cds *c = arg;
	for (int i = 0; i < 4; i++) {
		if (strcmp(ze->name, c->names[i]) == 0) {
			c->cd[i] = ze->cd;
			c->hash[i] = ze->hash;
		}
	}
	return 0;
}

START_TEST(test_collision_cd)
{
	uint64_t salt = 0x14b3cbb5;
	struct cds c = { 0 };
	find_collision(salt, 28, c.names[0], c.names[1]);
	snprintf(c.names[2], 32, "plain");
	uint64_t obj = new_zap(DMU_OT_DIRECTORY_CONTENTS, 512, 0, 0, salt);
	uint64_t v = 1;
	ck_assert_int_eq(zapw_put(&store, obj, c.names[0], 8, 1, &v, false), 0);
	ck_assert_int_eq(zapw_put(&store, obj, c.names[1], 8, 1, &v, false), 0);
	ck_assert_int_eq(zapw_put(&store, obj, c.names[2], 8, 1, &v, false), 0);
	dnode_t dn;
	hold(obj, &dn);
	ck_assert_int_eq(zap_iterate(&dn, 0, 0, cd_cb, &c), 0);
	ck_assert_uint_eq(c.cd[0], 0);
	ck_assert_uint_eq(c.cd[1], 1);
	ck_assert_uint_eq(le32(objs[obj].data + 128 + 8), 1);
	/* Removing the cd-0 name frees cd 0 for the next collider. */
	ck_assert_int_eq(zapw_remove(&store, obj, c.names[0], false, NULL, 0), 0);
	ck_assert_int_eq(zapw_put(&store, obj, c.names[0], 8, 1, &v, false), 0);
	memset(c.cd, 0xff, sizeof(c.cd));
	ck_assert_int_eq(zap_iterate(&dn, 0, 0, cd_cb, &c), 0);
	ck_assert_uint_eq(c.cd[0], 0);
	ck_assert_uint_eq(c.cd[1], 1);
	/* A long name makes it fat: cds survive the upgrade. */
	snprintf(c.names[3], 64, "%s", "a-name-of-fifty-or-more-bytes-forces-a-fat-zap-now");
	ck_assert_uint_ge(strlen(c.names[3]), MZAP_NAME_LEN);
	ck_assert_int_eq(zapw_put(&store, obj, c.names[3], 8, 1, &v, false), 0);
	hold(obj, &dn);
	zap_info_t zi;
	ck_assert_int_eq(zap_get_info(&dn, &zi), 0);
	ck_assert(!zi.micro);
	ck_assert_uint_eq(objs[obj].blksz, 16384);
	memset(c.cd, 0xff, sizeof(c.cd));
	ck_assert_int_eq(zap_iterate(&dn, 0, 0, cd_cb, &c), 0);
	ck_assert_uint_eq(c.cd[0], 0);
	ck_assert_uint_eq(c.cd[1], 1);
	ck_assert_uint_eq(c.hash[0], c.hash[1]);
	ck_assert_uint_eq(c.cd[3], 0);
	/* In a fat leaf too a re-added collider takes the lowest unused cd. */
	ck_assert_int_eq(zapw_remove(&store, obj, c.names[0], false, NULL, 0), 0);
	ck_assert_int_eq(zapw_put(&store, obj, c.names[0], 8, 1, &v, false), 0);
	memset(c.cd, 0xff, sizeof(c.cd));
	ck_assert_int_eq(zap_iterate(&dn, 0, 0, cd_cb, &c), 0);
	ck_assert_uint_eq(c.cd[0], 0);
	check_fat(obj, NULL);
	free_zap(obj);
}
END_TEST

/* Micro growth in 512-byte steps to 128 KiB, then the upgrade. */
START_TEST(test_micro_growth_and_upgrade)
{
	refs_reset(2100);
	uint64_t obj = new_zap(DMU_OT_DIRECTORY_CONTENTS, 512, 0, 0, 0x5ae3f11);
	for (size_t i = 0; i < 2047; i++) {
		make_name(i, 10 + (unsigned)(i % 39), refs[i].name);
		make_value(&refs[i], i, 8, 1, 1);
		put(obj, i, false, 0);
		/* grown only when full: the smallest multiple of 512 that holds them */
		ck_assert_uint_eq(objs[obj].blksz % 512, 0);
		ck_assert_uint_ge(objs[obj].blksz / 64 - 1, i + 1);
		ck_assert_uint_lt(objs[obj].blksz / 64 - 1, i + 1 + 8);
	}
	ck_assert_uint_eq(objs[obj].blksz, 128 * 1024);
	ck_assert_uint_eq(le64(objs[obj].data), ZBT_MICRO);
	check_all(obj, NULL);
	/* Full at the largest micro size: the next add makes it fat. */
	make_name(2047, 14, refs[2047].name);
	make_value(&refs[2047], 2047, 8, 1, 1);
	put(obj, 2047, false, 0);
	ck_assert_uint_eq(le64(objs[obj].data), ZBT_HEADER);
	ck_assert_uint_eq(objs[obj].blksz, 16384);
	ck_assert_uint_eq(le64(objs[obj].data + 80), 0x5ae3f11);
	zap_info_t zi;
	check_all(obj, &zi);
	ck_assert_uint_eq(zi.num_entries, 2048);
	ck_assert_uint_gt(zi.num_leafs, 8);
	free_zap(obj);
}
END_TEST

/* Values of every width and length, names up to 255 bytes. */
static void fill(uint64_t obj, size_t from, size_t to, uint64_t seed)
{
	static const unsigned widths[] = { 8, 1, 2, 4, 8, 8 };
	for (size_t i = from; i < to; i++) {
		unsigned len = 10 + (unsigned)(mix(i) % 40);
		if (i % 97 == 0)
			len = 200 + (unsigned)(i % 55);
		make_name(i, len, refs[i].name);
		unsigned w = widths[i % 6];
		uint64_t n = (i % 5 == 0) ? 1 + mix(i + seed) % (MAXVAL / (w == 8 ? 2 : 1)) : 1;
		if (i % 211 == 0)
			n = 0;
		make_value(&refs[i], i, w, n, seed);
		put(obj, i, false, 0);
	}
}

START_TEST(test_fat_default_many)
{
	size_t n = 12000;
	refs_reset(n);
	uint64_t obj = new_zap(DMU_OT_DIRECTORY_CONTENTS, 512, 0, 0, 0x6ef9bc5);
	fill(obj, 0, n, 3);
	zap_info_t zi;
	check_all(obj, &zi);
	ck_assert(!zi.micro);
	ck_assert_uint_eq(zi.num_entries, n);
	struct fatstat fs;
	check_fat(obj, &fs);
	ck_assert_uint_gt(fs.leaves, 64);
	/* Update: every third entry changes value shape (splits on update). */
	for (size_t i = 0; i < n; i += 3) {
		make_value(&refs[i], i, (i % 2) ? 4 : 8, 1 + mix(i) % 40, 9);
		put(obj, i, true, 0);
	}
	check_all(obj, NULL);
	/* Remove two thirds, check, then everything. */
	for (size_t i = 0; i < n; i++)
		if (i % 3)
			del(obj, i);
	check_all(obj, NULL);
	for (size_t i = 0; i < n; i += 3)
		del(obj, i);
	check_all(obj, &zi);
	check_fat(obj, &fs);
	ck_assert_uint_eq(fs.entries, 0);
	ck_assert_uint_eq(fs.leaves, 1);	/* empty siblings merged all the way up */
	ck_assert_uint_gt(objs[obj].frees, 0);
	/* And it fills again. */
	fill(obj, 0, 3000, 4);
	check_all(obj, NULL);
	free_zap(obj);
}
END_TEST

/* Small leaves make the pointer table outgrow the header and double
 * several times as external blocks. */
START_TEST(test_ptrtbl_growth)
{
	size_t n = 6000;
	refs_reset(n);
	uint64_t obj = new_zap(DMU_OT_DIRECTORY_CONTENTS, 2048, 0, ZAP_FLAG_HASH64, 0x1234567);
	ck_assert_uint_eq(le64(objs[obj].data), ZBT_HEADER);
	ck_assert_uint_eq(le64(objs[obj].data + 96), ZAP_FLAG_HASH64);
	struct fatstat fs;
	check_fat(obj, &fs);
	ck_assert_uint_eq(fs.zt_shift, 7);
	fill(obj, 0, n, 5);
	zap_info_t zi;
	check_all(obj, &zi);
	ck_assert_uint_eq(zi.hashbits, 48);
	check_fat(obj, &fs);
	ck_assert_uint_ge(fs.zt_numblks, 2);	/* external and doubled at least once */
	for (size_t i = 0; i < n; i++)
		if (i % 4)
			del(obj, i);
	check_all(obj, NULL);
	for (size_t i = 0; i < n; i += 4)
		del(obj, i);
	check_all(obj, NULL);
	check_fat(obj, &fs);
	ck_assert_uint_eq(fs.leaves, 1);
	free_zap(obj);
}
END_TEST

START_TEST(test_tiny_blocks)
{
	/* 512-byte fat blocks: 18 chunks a leaf, table growth every few inserts. */
	size_t n = 1500;
	refs_reset(n);
	uint64_t obj = new_zap(DMU_OT_DIRECTORY_CONTENTS, 512, 0, ZAP_FLAG_HASH64, 0x99);
	for (size_t i = 0; i < n; i++) {
		make_name(i, 12 + (unsigned)(i % 9), refs[i].name);
		make_value(&refs[i], i, 8, 1, 6);
		put(obj, i, false, 0);
	}
	check_all(obj, NULL);
	struct fatstat fs;
	check_fat(obj, &fs);
	ck_assert_uint_ge(fs.zt_numblks, 8);
	/* an entry that can never fit a 512-byte leaf */
	char big[300];
	make_name(n + 1, 250, big);
	uint64_t vals[64] = { 0 };
	ck_assert_int_eq(zapw_put(&store, obj, big, 8, 64, vals, false), -ZFUSE_E_INVAL);
	free_zap(obj);
}
END_TEST

START_TEST(test_normalized)
{
	refs_reset(1);
	/* Case-folding directory, micro then fat. */
	uint64_t obj = new_zap(DMU_OT_DIRECTORY_CONTENTS, 512, U8_TEXTPREP_TOUPPER, 0, 0x777);
	uint64_t v = 42;
	ck_assert_int_eq(zapw_put(&store, obj, "Hello.txt", 8, 1, &v, false), 0);
	char found[64];
	dnode_t dn;
	hold(obj, &dn);
	uint64_t got;
	ck_assert_int_eq(zap_lookup_norm(&dn, "HELLO.TXT", &got, found, sizeof(found)), 0);
	ck_assert_str_eq(found, "Hello.txt");
	ck_assert_int_eq(zapw_remove(&store, obj, "hello.TXT", false, NULL, 0), -ZFUSE_E_NOENT);
	ck_assert_int_eq(zapw_remove(&store, obj, "hello.TXT", true, found, sizeof(found)), 0);
	ck_assert_str_eq(found, "Hello.txt");
	uint64_t cnt;
	ck_assert_int_eq(zapw_count(&store, obj, &cnt), 0);
	ck_assert_uint_eq(cnt, 0);
	/* Fat: hashes are of the upper-cased name; leaves are cd-sorted. */
	ck_assert_int_eq(zapw_put(&store, obj, "Hello.txt", 8, 1, &v, false), 0);
	ck_assert_int_eq(zapw_put(&store, obj, "HELLO.txt", 8, 1, &v, false), 0);
	char longname[80];
	memset(longname, 'q', 70);
	longname[70] = 0;
	ck_assert_int_eq(zapw_put(&store, obj, longname, 8, 1, &v, false), 0);
	hold(obj, &dn);
	zap_info_t zi;
	ck_assert_int_eq(zap_get_info(&dn, &zi), 0);
	ck_assert(!zi.micro);
	ck_assert_uint_eq(zi.normflags, U8_TEXTPREP_TOUPPER);
	ck_assert_uint_eq(objs[obj].data[16384 + 36], 1);	/* ZLF_ENTRIES_CDSORTED */
	ck_assert_int_eq(zap_lookup_norm(&dn, "hello.TXT", &got, found, sizeof(found)), 0);
	ck_assert_int_eq(zapw_remove(&store, obj, "hello.txt", true, found, sizeof(found)), 0);
	ck_assert_str_eq(found, "Hello.txt");	/* lowest cd first */
	ck_assert_int_eq(zapw_remove(&store, obj, "hello.txt", true, found, sizeof(found)), 0);
	ck_assert_str_eq(found, "HELLO.txt");
	ck_assert_int_eq(zapw_remove(&store, obj, "hello.txt", true, found, sizeof(found)), -ZFUSE_E_NOENT);
	check_fat(obj, NULL);
	free_zap(obj);
}
END_TEST

START_TEST(test_non_uint64_upgrades)
{
	refs_reset(3);
	uint64_t obj = new_zap(DMU_OT_SA_ATTR_LAYOUTS, 512, 0, 0, 0x31);
	uint16_t layout[] = { 5, 6, 4, 12, 13, 7, 11, 0, 1, 2, 3, 8, 16, 19 };
	ck_assert_int_eq(zapw_put(&store, obj, "2", 2, 14, layout, false), 0);
	ck_assert_uint_eq(le64(objs[obj].data), ZBT_HEADER);
	dnode_t dn;
	hold(obj, &dn);
	uint16_t back[14];
	ck_assert_int_eq(zap_lookup(&dn, "2", 2, 14, back), 0);
	ck_assert(memcmp(back, layout, sizeof(back)) == 0);
	/* stored big-endian in the leaf */
	uint8_t *leaf = objs[obj].data + 16384;
	bool seen = false;
	for (unsigned i = 0; i < 638; i++) {
		uint8_t *c = leaf + 48 + 1024 + i * 24;
		if (c[0] == 251 && c[1] == 0 && c[2] == 5 && c[3] == 0 && c[4] == 6)
			seen = true;
	}
	ck_assert(seen);
	ck_assert_int_eq(zapw_put(&store, obj, "2", 2, 14, layout, false), -ZFUSE_E_EXIST);
	free_zap(obj);
}
END_TEST

/* Micro lookups compare names in place: a name is not found by its
 * prefixes nor its extensions, a 49-byte name (the longest a micro chunk
 * holds) is found, a 50-byte one is not, an add of an existing name is
 * refused and a removal takes exactly the name given; an unterminated
 * 50-byte name field (a corrupt chunk) reads as its first 49 bytes, as an
 * iteration shows it. */
START_TEST(test_micro_exact_names)
{
	uint64_t obj = new_zap(DMU_OT_DIRECTORY_CONTENTS, 4096, 0, 0, 0x5a5a1);
	const char *names[] = { "ab", "abc", "a", "abcd", "b" };
	for (uint64_t i = 0; i < 5; i++) {
		uint64_t v = 100 + i;
		ck_assert_int_eq(zapw_put(&store, obj, names[i], 8, 1, &v, false), 0);
	}
	char n49[50], n50[51];
	memset(n49, 'q', 49);
	n49[49] = 0;
	memset(n50, 'q', 50);
	n50[50] = 0;
	uint64_t v = 149;
	ck_assert_int_eq(zapw_put(&store, obj, n49, 8, 1, &v, false), 0);
	ck_assert_uint_eq(le64(objs[obj].data), ZBT_MICRO);
	dnode_t dn;
	hold(obj, &dn);
	uint64_t got;
	for (uint64_t i = 0; i < 5; i++) {
		ck_assert_int_eq(zap_lookup_uint64(&dn, names[i], &got), 0);
		ck_assert_uint_eq(got, 100 + i);
	}
	ck_assert_int_eq(zap_lookup_uint64(&dn, "abcde", &got), -ZFUSE_E_NOENT);
	ck_assert_int_eq(zap_lookup_uint64(&dn, "ba", &got), -ZFUSE_E_NOENT);
	ck_assert_int_eq(zap_lookup_uint64(&dn, n49, &got), 0);
	ck_assert_uint_eq(got, 149);
	ck_assert_int_eq(zap_lookup_uint64(&dn, n50, &got), -ZFUSE_E_NOENT);
	n49[48] = 0;
	ck_assert_int_eq(zap_lookup_uint64(&dn, n49, &got), -ZFUSE_E_NOENT);
	n49[48] = 'q';
	v = 7;
	ck_assert_int_eq(zapw_put(&store, obj, "abc", 8, 1, &v, false), -ZFUSE_E_EXIST);
	ck_assert_int_eq(zapw_remove(&store, obj, "abc", false, NULL, 0), 0);
	ck_assert_int_eq(zap_lookup_uint64(&dn, "abc", &got), -ZFUSE_E_NOENT);
	ck_assert_int_eq(zap_lookup_uint64(&dn, "abcd", &got), 0);
	ck_assert_uint_eq(got, 103);
	ck_assert_int_eq(zap_lookup_uint64(&dn, "ab", &got), 0);
	ck_assert_uint_eq(got, 100);
	/* Chunk 5 holds n49: fill its name field's last byte. */
	uint8_t *c = objs[obj].data + 64 * 6;
	ck_assert_int_eq(memcmp(c + 14, n49, 49), 0);
	c[14 + 49] = 'z';
	ck_assert_int_eq(zap_lookup_uint64(&dn, n49, &got), 0);
	ck_assert_uint_eq(got, 149);
	rele(&dn);
	free_zap(obj);
}
END_TEST

#endif	/* !ZAPW_FIXTURE */

#ifdef ZAPW_FIXTURE
/*
 * Bit-for-bit against OpenZFS: the basic fixture's 3000-entry directory
 * "many" was filled by OpenZFS 2.3.2 with entry-0 .. entry-2999 in that
 * order (object numbers 132 + i). Replaying those adds with the same salt
 * must give the same blocks: micro growth to 128 KiB, the upgrade at the
 * 2048th add, and every later split.
 */
static zfuse_pool_t *pool;
static objset_t *fos;

static void fx_setup(void)
{
	pool = import_basic();
	fos = open_dataset(pool, "basic");
}

static void fx_teardown(void)
{
	objset_close(fos);
	zfuse_pool_close(pool);
}

struct fx_ent {
	char name[32];
	uint64_t value;
};

static int fx_cb(void *arg, const zap_entry_t *ze)
{
	struct fx_ent *v = arg;
	size_t i = strtoull(ze->name + 6, NULL, 10);
	ck_assert_uint_lt(i, 3000);
	snprintf(v[i].name, sizeof(v[i].name), "%s", ze->name);
	v[i].value = ze->value_first;
	return 0;
}

START_TEST(test_same_blocks_as_openzfs)
{
	uint64_t many = strtoull(manifest_field("many", 8), NULL, 10);
	dnode_t dn;
	ck_assert_int_eq(dnode_hold(fos, many, &dn), 0);
	zap_info_t zi;
	ck_assert_int_eq(zap_get_info(&dn, &zi), 0);
	struct fx_ent *ents = calloc(3000, sizeof(*ents));
	ck_assert_int_eq(zap_iterate(&dn, 0, 0, fx_cb, ents), 0);
	uint64_t obj = new_zap(DMU_OT_DIRECTORY_CONTENTS, 512, 0, 0, zi.salt);
	for (size_t i = 0; i < 3000; i++) {
		char want[32];
		snprintf(want, sizeof(want), "entry-%zu", i);
		ck_assert_str_eq(ents[i].name, want);
		ck_assert_int_eq(zapw_put(&store, obj, ents[i].name, 8, 1, &ents[i].value, false), 0);
	}
	struct fobj *o = &objs[obj];
	uint64_t bs = dnode_datablksz(&dn);
	ck_assert_uint_eq(o->blksz, bs);
	ck_assert_uint_eq(o->size / bs, dn.maxblkid + 1);
	uint8_t *theirs = malloc(bs);
	for (uint64_t b = 0; b <= dn.maxblkid; b++) {
		ck_assert_int_eq(dmu_read(&dn, b * bs, bs, theirs), 0);
		const uint8_t *ours = o->data + b * bs;
		if (memcmp(ours, theirs, bs) == 0)
			continue;
		size_t k = 0;
		while (ours[k] == theirs[k])
			k++;
		ck_abort_msg("block %llu differs from byte %zu (ours %02x, OpenZFS %02x)",
			     (unsigned long long)b, k, ours[k], theirs[k]);
	}
	free(theirs);
	free(ents);
	dnode_rele(&dn);
	check_fat(obj, NULL);
	free_zap(obj);
}
END_TEST


/*
 * Through the write engine: ZAPs made in a fresh pool's MOS with the
 * public API (zap_create*, zap_add/update/remove*, zap_count), read back
 * in the same txg through the overlay, then after sync and re-import from
 * disk, and finally dumped by zdb.
 */
#define REAL_N 5000

static void real_name(unsigned i, char *out)
{
	snprintf(out, 64, "key-%u-%s", i, (i % 50 == 0) ? "with-a-name-long-enough-to-need-more-array-chunks" : "x");
}

struct real_walk {
	zap_info_t info;
	uint64_t n, prev_hash;
	uint32_t prev_cd;
};

static int real_cb(void *arg, const zap_entry_t *ze)
{
	struct real_walk *w = arg;
	if (w->n)
		ck_assert(ze->hash > w->prev_hash || (ze->hash == w->prev_hash && ze->cd > w->prev_cd));
	ck_assert_uint_eq(zap_hash_name(&w->info, ze->name), ze->hash);
	unsigned i = (unsigned)strtoul(ze->name + 4, NULL, 10);
	ck_assert_uint_ne(i % 3, 0);
	ck_assert_uint_eq(ze->value_first, i * 7ULL + 1);
	w->prev_hash = ze->hash;
	w->prev_cd = ze->cd;
	w->n++;
	return 0;
}

static void real_verify(objset_t *os, uint64_t big, uint64_t arr, uint64_t norm)
{
	uint64_t cnt;
	ck_assert_int_eq(zap_count(os, big, &cnt), 0);
	uint64_t want = REAL_N - (REAL_N + 2) / 3;
	ck_assert_uint_eq(cnt, want);
	dnode_t dn;
	ck_assert_int_eq(dnode_hold(os, big, &dn), 0);
	struct real_walk w = { 0 };
	ck_assert_int_eq(zap_get_info(&dn, &w.info), 0);
	ck_assert(!w.info.micro);
	ck_assert_int_eq(zap_iterate(&dn, 0, 0, real_cb, &w), 0);
	ck_assert_uint_eq(w.n, want);
	for (unsigned i = 0; i < REAL_N; i++) {
		char nm[64];
		uint64_t v;
		real_name(i, nm);
		int rc = zap_lookup_uint64(&dn, nm, &v);
		if (i % 3 == 0) {
			ck_assert_int_eq(rc, -ZFUSE_E_NOENT);
		} else {
			ck_assert_int_eq(rc, 0);
			ck_assert_uint_eq(v, i * 7ULL + 1);
		}
	}
	dnode_rele(&dn);
	ck_assert_int_eq(dnode_hold(os, arr, &dn), 0);
	for (unsigned i = 0; i < 300; i++) {
		char nm[64];
		uint16_t vals[40], back[40];
		real_name(i, nm);
		for (unsigned k = 0; k < 40; k++)
			vals[k] = (uint16_t)(i * 40 + k);
		ck_assert_int_eq(zap_lookup(&dn, nm, 2, 1 + i % 40, back), 0);
		ck_assert(memcmp(back, vals, 2 * (1 + i % 40)) == 0);
	}
	dnode_rele(&dn);
	ck_assert_int_eq(dnode_hold(os, norm, &dn), 0);
	uint64_t v;
	char found[64];
	ck_assert_int_eq(zap_lookup_norm(&dn, "README", &v, found, sizeof(found)), 0);
	ck_assert_str_eq(found, "ReadMe");
	ck_assert_int_eq(zap_lookup_norm(&dn, "LICENSE", &v, found, sizeof(found)), -ZFUSE_E_NOENT);
	dnode_rele(&dn);
}

START_TEST(test_real_pool_roundtrip)
{
	char dir[] = "/tmp/zapw-XXXXXX";
	char img[256];
	create_temp_pool(dir, "zapw.img", img, sizeof(img), "zapwtest", 128ULL << 20);
	zfuse_pool_t *p = import_image(img, true);
	ck_assert(zfuse_pool_writable(p));
	spa_t *spa = (spa_t *)p;
	dmu_tx_t tx;
	/* In the root dataset's objset: zdb calls MOS objects that nothing
	 * references leaked, but walks every object of a dataset. */
	struct dsl_dataset_ref ref;
	ck_assert_int_eq(dsl_dataset_find(spa, "zapwtest", &ref), 0);
	objset_t *os;
	ck_assert_int_eq(spa_objset_hold(spa, ref.dsobj, &os), 0);
	ck_assert_int_eq(dmu_tx_begin(spa, &tx), 0);
	uint64_t big, arr, norm;
	ck_assert_int_eq(zap_create(os, DMU_OTN_ZAP_METADATA, 0, 0, &tx, &big), 0);
	for (unsigned i = 0; i < REAL_N; i++) {
		char nm[64];
		real_name(i, nm);
		ck_assert_int_eq(zap_add_uint64(os, big, nm, i * 7ULL + 1 + (i % 3 ? 0 : 5), &tx), 0);
	}
	ck_assert_int_eq(zap_add_uint64(os, big, "key-1-x", 1, &tx), -ZFUSE_E_EXIST);
	for (unsigned i = 0; i < REAL_N; i += 3) {
		char nm[64];
		real_name(i, nm);
		ck_assert_int_eq(zap_update_uint64(os, big, nm, 0, &tx), 0);
		ck_assert_int_eq(zap_remove(os, big, nm, &tx), 0);
		ck_assert_int_eq(zap_remove(os, big, nm, &tx), -ZFUSE_E_NOENT);
	}
	ck_assert_int_eq(zap_create_flags(os, 0, ZAP_FLAG_HASH64, DMU_OTN_ZAP_METADATA, 12, 12, 0, 0, 0,
					  &tx, &arr), 0);
	for (unsigned i = 0; i < 300; i++) {
		char nm[64];
		uint16_t vals[40];
		real_name(i, nm);
		for (unsigned k = 0; k < 40; k++)
			vals[k] = (uint16_t)(i * 40 + k);
		ck_assert_int_eq(zap_update(os, arr, nm, 2, 1 + i % 40, vals, &tx), 0);
	}
	ck_assert_int_eq(zap_create_norm(os, U8_TEXTPREP_TOUPPER, DMU_OTN_ZAP_METADATA, 0, 0, 0, &tx, &norm),
			 0);
	ck_assert_int_eq(zap_add_uint64(os, norm, "ReadMe", 1, &tx), 0);
	ck_assert_int_eq(zap_add_uint64(os, norm, "License", 2, &tx), 0);
	char removed[64];
	ck_assert_int_eq(zap_remove_norm(os, norm, "LICENSE", &tx, removed, sizeof(removed)), 0);
	ck_assert_str_eq(removed, "License");
	real_verify(os, big, arr, norm);
	dmu_tx_commit(&tx);
	ck_assert_int_eq(zfuse_pool_sync(p), 0);
	spa_objset_rele(spa, os);
	zfuse_pool_close(p);

	p = import_image(img, false);
	ck_assert_int_eq(spa_objset_hold((spa_t *)p, ref.dsobj, &os), 0);
	real_verify(os, big, arr, norm);
	spa_objset_rele((spa_t *)p, os);
	zfuse_pool_close(p);

	/* zdb walks every ZAP of the MOS (its own ZAP code) without complaint. */
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "zdb -e -p %s -dddd zapwtest > %s/zdb.out 2>&1 && grep -q 'Fat ZAP stats' %s/zdb.out", dir,
		 dir, dir);
	if (access("/usr/sbin/zdb", X_OK) == 0)
		ck_assert_msg(system(cmd) == 0, "zdb failed: see %s/zdb.out", dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

int main(void)
{
	TCase *tc = TCASE_OF("basic fixture", 300, test_same_blocks_as_openzfs);
	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	Suite *s = suite_of("zap_write_fixture", tc);
	suite_add_tcase(s, TCASE_OF("write engine", 300, test_real_pool_roundtrip));
	return run_suite(s);
}
#else
int main(void)
{
	/* 128 KiB micro blocks are copied on every call: keep them off mmap. */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	return RUN_TESTS("zap_write", "in-memory store", 300, test_micro_basics, test_collision_cd,
			 test_micro_growth_and_upgrade, test_fat_default_many, test_ptrtbl_growth, test_tiny_blocks,
			 test_normalized, test_non_uint64_upgrades, test_micro_exact_names);
}
#endif
