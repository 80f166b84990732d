/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zap_leaf.c — the fat-ZAP leaf block (zap_leaf_phys), for lookups,
 * iteration and edits alike (object-layer.md §4). This file is the only
 * place that knows the leaf's bytes: the header, the bucket hash table, and
 * the 24-byte chunks (entry, array, free) behind it.
 *
 * Every chunk index, chain and array length read from a leaf is bounded by
 * the leaf's chunk count, so a corrupt leaf yields ZFUSE_E_CORRUPT (readers)
 * or a sticky *err (editors) rather than a wild access or a loop.
 *
 * Edits follow OpenZFS 2.3 so the bytes match: chunks come from the head of
 * the free list and freed ones go back there one by one (a freed array thus
 * lands reversed; the in-order rule of later OpenZFS is not in 2.3.2), and
 * bucket chains stay sorted by cd.
 */
#include <string.h>
#include "byteorder.h"
#include "dmu_byteswap.h"
#include "zap_leaf.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

/* Header: 48 bytes, then nhash 16-bit bucket heads, then the chunks. */
enum {
	ZLH_BLOCK_TYPE = 0,	/* u64 ZBT_LEAF */
	ZLH_PREFIX = 16,	/* u64: hash prefix of the entries here */
	ZLH_MAGIC = 24,		/* u32 ZAP_LEAF_MAGIC */
	ZLH_NFREE = 28,		/* u16 */
	ZLH_NENTRIES = 30,	/* u16 */
	ZLH_PREFIX_LEN = 32,	/* u16 */
	ZLH_FREELIST = 34,	/* u16: first free chunk */
	ZLH_FLAGS = 36,		/* u8 */
	ZLH_SIZE = 48
};
#define ZLF_ENTRIES_CDSORTED 1

/* Chunks: byte 0 says which kind. */
#define ZAP_LEAF_CHUNKSIZE 24
#define ZAP_CHUNK_ARRAY 251
#define ZAP_CHUNK_ENTRY 252
#define ZAP_CHUNK_FREE 253
/* Entry chunk. */
enum {
	ZLE_INTLEN = 1,		/* u8: value integer width */
	ZLE_NEXT = 2,		/* u16: next entry of the bucket */
	ZLE_NAME_CHUNK = 4,	/* u16 */
	ZLE_NAME_NUMINTS = 6,	/* u16: name bytes with the NUL */
	ZLE_VALUE_CHUNK = 8,	/* u16 */
	ZLE_VALUE_NUMINTS = 10,	/* u16 */
	ZLE_CD = 12,		/* u32 */
	ZLE_HASH = 16		/* u64 */
};
/* Array chunks carry 21 bytes from offset 1; array and free chunks keep
 * their link at the end. */
#define ZLA_ARRAY 1
#define ZAP_LEAF_ARRAY_BYTES 21
#define ZLA_NEXT 22

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* The bucket table takes 1/16 of the block (2 bytes per 32), and the
 * header the room of two chunks. */
uint32_t zap_leaf_numchunks(unsigned bs)
{
	return (uint32_t)(((1ULL << bs) - 2ULL * (1u << (bs - 5))) / ZAP_LEAF_CHUNKSIZE - 2);
}

uint64_t zap_leaf_array_nchunks(uint64_t nbytes)
{
	return (nbytes + ZAP_LEAF_ARRAY_BYTES - 1) / ZAP_LEAF_ARRAY_BYTES;
}

static uint8_t *chunk(const zap_leaf_t *l, uint32_t i)
{
	return l->p + ZLH_SIZE + 2ULL * l->nhash + (uint64_t)i * ZAP_LEAF_CHUNKSIZE;
}

static uint16_t hdr16(const zap_leaf_t *l, unsigned off)
{
	return le16(l->p + off);
}

static void set_hdr16(zap_leaf_t *l, unsigned off, uint16_t v)
{
	put16(l->p + off, v);
}

static void corrupt(zap_leaf_t *l)
{
	*l->err = -ZFUSE_E_CORRUPT;
}

void zap_leaf_bind(zap_leaf_t *l, uint8_t *p, unsigned bs, int *err)
{
	l->p = p;
	l->bs = bs;
	l->nhash = 1u << (bs - 5);
	l->nchunks = zap_leaf_numchunks(bs);
	l->err = err;
}

int zap_leaf_open(zap_leaf_t *l, uint8_t *p, uint64_t size, unsigned bs, int *err)
{
	if (size != (1ULL << bs))
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	zap_leaf_bind(l, p, bs, err);
	if (le64(p + ZLH_BLOCK_TYPE) != ZBT_LEAF || le32(p + ZLH_MAGIC) != ZAP_LEAF_MAGIC)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	/* The bucket index takes bs - 5 hash bits below the prefix. */
	if (zap_leaf_prefix_len(l) > 64 - (bs - 5))
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	return 0;
}

uint64_t zap_leaf_prefix(const zap_leaf_t *l)
{
	return le64(l->p + ZLH_PREFIX);
}

unsigned zap_leaf_prefix_len(const zap_leaf_t *l)
{
	return hdr16(l, ZLH_PREFIX_LEN);
}

void zap_leaf_set_prefix(zap_leaf_t *l, uint64_t prefix, unsigned prefix_len)
{
	put_le64(l->p + ZLH_PREFIX, prefix);
	set_hdr16(l, ZLH_PREFIX_LEN, (uint16_t)prefix_len);
}

unsigned zap_leaf_nentries(const zap_leaf_t *l)
{
	return hdr16(l, ZLH_NENTRIES);
}

unsigned zap_leaf_nfree(const zap_leaf_t *l)
{
	return hdr16(l, ZLH_NFREE);
}

/* The bucket head for h: the hash bits right below the leaf's prefix. */
static uint8_t *bucket_slot(const zap_leaf_t *l, uint64_t h)
{
	unsigned shift = 64 - (l->bs - 5) - zap_leaf_prefix_len(l);
	uint64_t b = (h >> shift) & (l->nhash - 1);
	return l->p + ZLH_SIZE + 2 * b;
}

void zap_leaf_init(zap_leaf_t *l, bool sort)
{
	memset(l->p, 0, ZLH_SIZE);
	memset(l->p + ZLH_SIZE, 0xff, 2ULL * l->nhash);
	uint32_t n = l->nchunks;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *c = chunk(l, i);
		memset(c, 0, ZAP_LEAF_CHUNKSIZE);
		c[0] = ZAP_CHUNK_FREE;
		put16(c + ZLA_NEXT, i + 1 < n ? (uint16_t)(i + 1) : ZAP_LEAF_CHAIN_END);
	}
	put_le64(l->p + ZLH_BLOCK_TYPE, ZBT_LEAF);
	put32(l->p + ZLH_MAGIC, ZAP_LEAF_MAGIC);
	set_hdr16(l, ZLH_NFREE, (uint16_t)n);
	if (sort)
		l->p[ZLH_FLAGS] |= ZLF_ENTRIES_CDSORTED;
}

/* ---- chunks and arrays ----------------------------------------------------- */

/* Take the head of the free list (the caller checked nfree). */
static uint16_t chunk_alloc(zap_leaf_t *l)
{
	uint16_t c = hdr16(l, ZLH_FREELIST);
	if (hdr16(l, ZLH_NFREE) == 0 || c >= l->nchunks || chunk(l, c)[0] != ZAP_CHUNK_FREE) {
		corrupt(l);
		return ZAP_LEAF_CHAIN_END;
	}
	set_hdr16(l, ZLH_FREELIST, le16(chunk(l, c) + ZLA_NEXT));
	set_hdr16(l, ZLH_NFREE, hdr16(l, ZLH_NFREE) - 1);
	return c;
}

static void chunk_free(zap_leaf_t *l, uint16_t c)
{
	if (c >= l->nchunks) {
		corrupt(l);
		return;
	}
	uint8_t *p = chunk(l, c);
	p[0] = ZAP_CHUNK_FREE;
	memset(p + ZLA_ARRAY, 0, ZAP_LEAF_ARRAY_BYTES);
	put16(p + ZLA_NEXT, hdr16(l, ZLH_FREELIST));
	set_hdr16(l, ZLH_FREELIST, c);
	set_hdr16(l, ZLH_NFREE, hdr16(l, ZLH_NFREE) + 1);
}

/* Array chunk c of a chain, or NULL when c leaves the leaf, the chain has
 * run longer than the leaf has chunks, or c is no array chunk. */
static uint8_t *array_chunk(const zap_leaf_t *l, uint16_t c, unsigned *hops)
{
	if (c >= l->nchunks || ++*hops > l->nchunks || chunk(l, c)[0] != ZAP_CHUNK_ARRAY)
		return NULL;
	return chunk(l, c);
}

static int array_read(const zap_leaf_t *l, uint16_t c, uint64_t nbytes, uint8_t *out)
{
	uint64_t done = 0;
	unsigned hops = 0;
	while (done < nbytes) {
		const uint8_t *p = array_chunk(l, c, &hops);
		if (!p)
			return SET_ERROR(-ZFUSE_E_CORRUPT);
		uint64_t take = nbytes - done < ZAP_LEAF_ARRAY_BYTES ? nbytes - done : ZAP_LEAF_ARRAY_BYTES;
		memcpy(out + done, p + ZLA_ARRAY, take);
		done += take;
		c = le16(p + ZLA_NEXT);
	}
	return 0;
}

/* Append chunk c (at p) to a chain being built from *head through *link. */
static void chain_append(uint16_t *head, uint8_t **link, uint16_t c, uint8_t *p)
{
	put16(p + ZLA_NEXT, ZAP_LEAF_CHAIN_END);
	if (*link)
		put16(*link, c);
	else
		*head = c;
	*link = p + ZLA_NEXT;
}

/* Store nbytes as a chain of array chunks; CHAIN_END for an empty array. */
static uint16_t array_create(zap_leaf_t *l, const uint8_t *bytes, uint64_t nbytes)
{
	uint16_t head = ZAP_LEAF_CHAIN_END;
	uint8_t *link = NULL;
	uint64_t done = 0;
	while (done < nbytes) {
		uint16_t c = chunk_alloc(l);
		if (c == ZAP_LEAF_CHAIN_END)
			return head;
		uint8_t *p = chunk(l, c);
		uint64_t take = nbytes - done < ZAP_LEAF_ARRAY_BYTES ? nbytes - done : ZAP_LEAF_ARRAY_BYTES;
		memset(p, 0, ZAP_LEAF_CHUNKSIZE);
		p[0] = ZAP_CHUNK_ARRAY;
		memcpy(p + ZLA_ARRAY, bytes + done, take);
		chain_append(&head, &link, c, p);
		done += take;
	}
	return head;
}

/* Free the first chunk of the chain at *c (its bytes copied to out first
 * when out is not NULL) and step *c to the next. Chunks go back one by one
 * to the head of the free list, the order OpenZFS frees them in. */
static bool array_pop(zap_leaf_t *l, uint16_t *c, unsigned *hops, uint8_t *out)
{
	uint8_t *p = array_chunk(l, *c, hops);
	if (!p) {
		corrupt(l);
		return false;
	}
	if (out)
		memcpy(out, p, ZAP_LEAF_CHUNKSIZE);
	uint16_t next = le16(p + ZLA_NEXT);
	chunk_free(l, *c);
	*c = next;
	return true;
}

/* Move the chain at c into new chunks of nl, freeing each source chunk as
 * it is copied. */
static uint16_t array_transfer(zap_leaf_t *l, uint16_t c, zap_leaf_t *nl)
{
	uint16_t head = ZAP_LEAF_CHAIN_END;
	uint8_t *link = NULL;
	unsigned hops = 0;
	while (c != ZAP_LEAF_CHAIN_END) {
		uint8_t src[ZAP_LEAF_CHUNKSIZE];
		if (!array_pop(l, &c, &hops, src))
			break;
		uint16_t nc = chunk_alloc(nl);
		if (nc == ZAP_LEAF_CHAIN_END)
			break;
		uint8_t *dst = chunk(nl, nc);
		memcpy(dst, src, ZAP_LEAF_CHUNKSIZE);
		chain_append(&head, &link, nc, dst);
	}
	return head;
}

static void array_free(zap_leaf_t *l, uint16_t c)
{
	unsigned hops = 0;
	while (c != ZAP_LEAF_CHAIN_END && array_pop(l, &c, &hops, NULL))
		;
}

void zap_leaf_encode_value(unsigned intlen, uint64_t numints, const void *val, uint8_t *out)
{
	const uint8_t *s = val;
	for (uint64_t i = 0; i < numints; i++, s += intlen, out += intlen) {
		switch (intlen) {
		case 1: out[0] = s[0]; break;
		case 2: { uint16_t v; memcpy(&v, s, 2); v = __builtin_bswap16(v); memcpy(out, &v, 2); break; }
		case 4: { uint32_t v; memcpy(&v, s, 4); put_be32(out, v); break; }
		default: { uint64_t v; memcpy(&v, s, 8); put_be64(out, v); break; }
		}
	}
}

/* The big-endian stream of a value array → host-order integers; returns
 * the first one, widened. */
static uint64_t decode_value(unsigned intlen, uint64_t numints, const uint8_t *raw, uint8_t *out)
{
	for (uint64_t i = 0; i < numints; i++) {
		const uint8_t *s = raw + i * intlen;
		uint8_t *d = out + i * intlen;
		switch (intlen) {
		case 1: d[0] = s[0]; break;
		case 2: { uint16_t v = be16(s); memcpy(d, &v, 2); break; }
		case 4: { uint32_t v = be32(s); memcpy(d, &v, 4); break; }
		default: { uint64_t v = be64(s); memcpy(d, &v, 8); break; }
		}
	}
	switch (intlen) {
	case 1: return out[0];
	case 2: { uint16_t v; memcpy(&v, out, 2); return v; }
	case 4: { uint32_t v; memcpy(&v, out, 4); return v; }
	default: return le64(out);
	}
}

/* ---- entries: reading ------------------------------------------------------ */

bool zap_leaf_entry_key(const zap_leaf_t *l, uint32_t i, uint64_t *hash, uint32_t *cd)
{
	const uint8_t *e = chunk(l, i);
	if (e[0] != ZAP_CHUNK_ENTRY)
		return false;
	*hash = le64(e + ZLE_HASH);
	*cd = le32(e + ZLE_CD);
	return true;
}

int zap_leaf_entry_decode(const zap_leaf_t *l, uint32_t i, bool uint64_key, zap_entry_t *ze,
			  uint8_t *valbuf)
{
	const uint8_t *e = chunk(l, i);
	unsigned intlen = e[ZLE_INTLEN];
	uint32_t name_chunk = le16(e + ZLE_NAME_CHUNK), name_n = le16(e + ZLE_NAME_NUMINTS);
	uint32_t val_chunk = le16(e + ZLE_VALUE_CHUNK), val_n = le16(e + ZLE_VALUE_NUMINTS);
	if (intlen != 1 && intlen != 2 && intlen != 4 && intlen != 8)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	if ((uint64_t)intlen * val_n > ZAP_MAXVALUELEN)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	ze->cd = le32(e + ZLE_CD);
	ze->hash = le64(e + ZLE_HASH);
	ze->value_intlen = (uint8_t)intlen;
	ze->value_numints = val_n;
	ze->name[0] = 0;
	if (!uint64_key) {
		if (name_n == 0 || name_n > ZAP_MAXNAMELEN_NEW)
			return SET_ERROR(-ZFUSE_E_CORRUPT);
		int rc = array_read(l, (uint16_t)name_chunk, name_n, (uint8_t *)ze->name);
		if (rc)
			return rc;
		ze->name[name_n - 1] = 0;
	}
	ze->value_first = 0;
	if (val_n) {
		uint8_t raw[ZAP_MAXVALUELEN];
		int rc = array_read(l, (uint16_t)val_chunk, (uint64_t)intlen * val_n, raw);
		if (rc)
			return rc;
		ze->value_first = decode_value(intlen, val_n, raw, valbuf);
	}
	ze->value = valbuf;
	return 0;
}

/*
 * Walk h's bucket chain, calling visit() on each entry of hash h with the
 * link that points at it, until visit() returns non-zero (returned here).
 * A chain that leaves the leaf, loops or meets a non-entry chunk gives
 * ZFUSE_E_CORRUPT; its end gives 0.
 */
static int bucket_walk(zap_leaf_t *l, uint64_t h,
		       int (*visit)(zap_leaf_t *, uint16_t, uint8_t *, void *), void *arg)
{
	uint8_t *slot = bucket_slot(l, h);
	unsigned hops = 0;
	for (uint16_t c; (c = le16(slot)) != ZAP_LEAF_CHAIN_END; slot = chunk(l, c) + ZLE_NEXT) {
		if (c >= l->nchunks || ++hops > l->nchunks || chunk(l, c)[0] != ZAP_CHUNK_ENTRY)
			return SET_ERROR(-ZFUSE_E_CORRUPT);
		if (le64(chunk(l, c) + ZLE_HASH) != h)
			continue;
		int rc = visit(l, c, slot, arg);
		if (rc)
			return rc;
	}
	return 0;
}

struct match_walk {
	bool uint64_key;
	bool (*match)(void *, const zap_entry_t *);
	void *marg;
	zap_entry_t *ze;
	uint8_t *valbuf;
};

static int match_visit(zap_leaf_t *l, uint16_t c, uint8_t *slot, void *arg)
{
	(void)slot;
	struct match_walk *w = arg;
	int rc = zap_leaf_entry_decode(l, c, w->uint64_key, w->ze, w->valbuf);
	if (rc)
		return rc;
	return w->match(w->marg, w->ze) ? 1 : 0;
}

int zap_leaf_lookup_match(zap_leaf_t *l, uint64_t h, bool uint64_key,
			  bool (*match)(void *, const zap_entry_t *), void *marg, zap_entry_t *ze,
			  uint8_t *valbuf)
{
	struct match_walk w = { uint64_key, match, marg, ze, valbuf };
	int rc = bucket_walk(l, h, match_visit, &w);
	return rc == 1 ? 0 : rc == 0 ? -ZFUSE_E_NOENT : rc;
}

/* ---- entries: editing ------------------------------------------------------ */

int zap_leaf_entry_name(const zap_leaf_t *l, uint16_t c, char *stored)
{
	const uint8_t *e = chunk(l, c);
	uint16_t n = le16(e + ZLE_NAME_NUMINTS);
	if (n > ZAP_MAXNAMELEN_NEW || array_read(l, le16(e + ZLE_NAME_CHUNK), n, (uint8_t *)stored))
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	stored[n ? n - 1 : 0] = 0;
	return 0;
}

static bool entry_matches(zap_leaf_t *l, const uint8_t *e, const struct zkey *k)
{
	uint16_t n = le16(e + ZLE_NAME_NUMINTS);
	if (!k->norm && n != k->len + 1)
		return false;
	if (n == 0 || n > ZAP_MAXNAMELEN_NEW)
		return false;
	char stored[ZAP_MAXNAMELEN_NEW + 1];
	if (array_read(l, le16(e + ZLE_NAME_CHUNK), n, (uint8_t *)stored) != 0) {
		corrupt(l);
		return false;
	}
	stored[n] = 0;
	if (!k->norm)
		return memcmp(stored, k->name, k->len + 1) == 0;
	char buf[ZAP_MAXNAMELEN_NEW * 4];
	if (zap_normalize(stored, k->normflags, buf, sizeof(buf)) != 0)
		return false;
	return strcmp(buf, k->norm) == 0;
}

struct key_walk {
	const struct zkey *k;
	uint16_t c;
	uint8_t *slot;
};

static int key_visit(zap_leaf_t *l, uint16_t c, uint8_t *slot, void *arg)
{
	struct key_walk *w = arg;
	if (!entry_matches(l, chunk(l, c), w->k))
		return 0;
	w->c = c;
	w->slot = slot;
	return 1;
}

uint16_t zap_leaf_lookup(zap_leaf_t *l, const struct zkey *k, uint8_t **slotp)
{
	struct key_walk w = { k, ZAP_LEAF_CHAIN_END, NULL };
	int rc = bucket_walk(l, k->hash, key_visit, &w);
	if (rc < 0) {
		corrupt(l);
		return ZAP_LEAF_CHAIN_END;
	}
	if (rc == 1 && slotp)
		*slotp = w.slot;
	return w.c;
}

/* Link entry chunk c into its bucket, after every entry of lower or equal
 * cd (any hash: the chain holds every hash of the bucket). */
static void rehash_entry(zap_leaf_t *l, uint16_t c)
{
	uint8_t *e = chunk(l, c);
	uint32_t cd = le32(e + ZLE_CD);
	uint8_t *slot = bucket_slot(l, le64(e + ZLE_HASH));
	unsigned hops = 0;
	for (uint16_t x; (x = le16(slot)) != ZAP_LEAF_CHAIN_END; slot = chunk(l, x) + ZLE_NEXT) {
		if (x >= l->nchunks || ++hops > l->nchunks) {
			corrupt(l);
			return;
		}
		if (le32(chunk(l, x) + ZLE_CD) > cd)
			break;
	}
	put16(e + ZLE_NEXT, le16(slot));
	put16(slot, c);
}

/* Lowest cd no entry of hash h uses in this leaf. A cd-sorted chain
 * answers in one pass; otherwise every candidate is tried. */
static uint32_t unused_cd(const zap_leaf_t *l, uint64_t h)
{
	uint32_t n = l->nchunks;
	if (l->p[ZLH_FLAGS] & ZLF_ENTRIES_CDSORTED) {
		uint32_t cd = 0;
		unsigned hops = 0;
		for (uint16_t c = le16(bucket_slot(l, h)); c != ZAP_LEAF_CHAIN_END && c < n && ++hops <= n;
		     c = le16(chunk(l, c) + ZLE_NEXT)) {
			const uint8_t *e = chunk(l, c);
			if (le32(e + ZLE_CD) > cd)
				break;
			if (le64(e + ZLE_HASH) == h)
				cd++;
		}
		return cd;
	}
	for (uint32_t cd = 0;; cd++) {
		bool used = false;
		unsigned hops = 0;
		for (uint16_t c = le16(bucket_slot(l, h)); c != ZAP_LEAF_CHAIN_END && c < n && ++hops <= n;
		     c = le16(chunk(l, c) + ZLE_NEXT)) {
			const uint8_t *e = chunk(l, c);
			if (le64(e + ZLE_HASH) == h && le32(e + ZLE_CD) == cd) {
				used = true;
				break;
			}
		}
		if (!used)
			return cd;
	}
}

int zap_leaf_entry_create(zap_leaf_t *l, const struct zkey *k, uint32_t cd, const struct zval *v)
{
	uint64_t vlen = (uint64_t)v->intlen * v->numints;
	uint64_t need = 1 + zap_leaf_array_nchunks(k->len + 1) + zap_leaf_array_nchunks(vlen);
	if (need > l->nchunks)
		return -ZFUSE_E_INVAL;	/* E2BIG: can never fit a leaf */
	if (cd == ZAP_NEED_CD)
		cd = unused_cd(l, k->hash);
	if (zap_leaf_nfree(l) < need)
		return ZAP_AGAIN;
	uint16_t c = chunk_alloc(l);
	if (c == ZAP_LEAF_CHAIN_END)
		return *l->err;
	uint8_t *e = chunk(l, c);
	e[0] = ZAP_CHUNK_ENTRY;
	uint16_t name_chunk = array_create(l, (const uint8_t *)k->name, k->len + 1);
	uint16_t value_chunk = array_create(l, v->be, vlen);
	e[ZLE_INTLEN] = (uint8_t)v->intlen;
	put16(e + ZLE_NAME_CHUNK, name_chunk);
	put16(e + ZLE_NAME_NUMINTS, (uint16_t)(k->len + 1));
	put16(e + ZLE_VALUE_CHUNK, value_chunk);
	put16(e + ZLE_VALUE_NUMINTS, (uint16_t)v->numints);
	put32(e + ZLE_CD, cd);
	put_le64(e + ZLE_HASH, k->hash);
	rehash_entry(l, c);
	set_hdr16(l, ZLH_NENTRIES, hdr16(l, ZLH_NENTRIES) + 1);
	return *l->err;
}

int zap_leaf_entry_update(zap_leaf_t *l, uint16_t c, const struct zval *v)
{
	uint8_t *e = chunk(l, c);
	long delta = (long)zap_leaf_array_nchunks((uint64_t)v->intlen * v->numints) -
		     (long)zap_leaf_array_nchunks((uint64_t)e[ZLE_INTLEN] * le16(e + ZLE_VALUE_NUMINTS));
	if ((long)zap_leaf_nfree(l) < delta)
		return ZAP_AGAIN;
	array_free(l, le16(e + ZLE_VALUE_CHUNK));
	put16(e + ZLE_VALUE_CHUNK, array_create(l, v->be, (uint64_t)v->intlen * v->numints));
	put16(e + ZLE_VALUE_NUMINTS, (uint16_t)v->numints);
	e[ZLE_INTLEN] = (uint8_t)v->intlen;
	return *l->err;
}

void zap_leaf_entry_remove(zap_leaf_t *l, uint8_t *slot, uint16_t c)
{
	uint8_t *e = chunk(l, c);
	array_free(l, le16(e + ZLE_NAME_CHUNK));
	array_free(l, le16(e + ZLE_VALUE_CHUNK));
	put16(slot, le16(e + ZLE_NEXT));
	chunk_free(l, c);
	set_hdr16(l, ZLH_NENTRIES, hdr16(l, ZLH_NENTRIES) - 1);
}

static void transfer_entry(zap_leaf_t *l, uint16_t c, zap_leaf_t *nl)
{
	uint8_t *e = chunk(l, c);
	uint16_t nc = chunk_alloc(nl);
	if (nc == ZAP_LEAF_CHAIN_END)
		return;
	uint8_t *ne = chunk(nl, nc);
	memcpy(ne, e, ZAP_LEAF_CHUNKSIZE);
	rehash_entry(nl, nc);
	put16(ne + ZLE_NAME_CHUNK, array_transfer(l, le16(e + ZLE_NAME_CHUNK), nl));
	put16(ne + ZLE_VALUE_CHUNK, array_transfer(l, le16(e + ZLE_VALUE_CHUNK), nl));
	chunk_free(l, c);
	set_hdr16(l, ZLH_NENTRIES, hdr16(l, ZLH_NENTRIES) - 1);
	set_hdr16(nl, ZLH_NENTRIES, hdr16(nl, ZLH_NENTRIES) + 1);
}

/* Both halves take one more prefix bit; entries staying in l are rehashed
 * on the longer prefix in chunk order, as OpenZFS walks them. */
void zap_leaf_split(zap_leaf_t *l, zap_leaf_t *nl, bool sort)
{
	unsigned bit = 63 - zap_leaf_prefix_len(l);
	zap_leaf_set_prefix(l, zap_leaf_prefix(l) << 1, zap_leaf_prefix_len(l) + 1);
	zap_leaf_set_prefix(nl, zap_leaf_prefix(l) | 1, zap_leaf_prefix_len(l));
	memset(l->p + ZLH_SIZE, 0xff, 2ULL * l->nhash);
	if (sort)
		l->p[ZLH_FLAGS] |= ZLF_ENTRIES_CDSORTED;
	for (uint32_t i = 0; i < l->nchunks && *l->err == 0; i++) {
		const uint8_t *e = chunk(l, i);
		if (e[0] != ZAP_CHUNK_ENTRY)
			continue;
		if (le64(e + ZLE_HASH) & (1ULL << bit))
			transfer_entry(l, (uint16_t)i, nl);
		else
			rehash_entry(l, (uint16_t)i);
	}
}

/* ---- byte order -------------------------------------------------------- */

void zap_leaf_byteswap(void *buf, size_t size)
{
	if (size < 512 || (size & (size - 1)))
		return;		/* no leaf geometry fits: left for the reader to reject */
	unsigned bs = (unsigned)(63 - __builtin_clzll(size));
	uint8_t *p = buf;
	bswap64_at(p + ZLH_BLOCK_TYPE);
	bswap64_at(p + ZLH_PREFIX);
	bswap32_at(p + ZLH_MAGIC);
	bswap16_at(p + ZLH_NFREE);
	bswap16_at(p + ZLH_NENTRIES);
	bswap16_at(p + ZLH_PREFIX_LEN);
	bswap16_at(p + ZLH_FREELIST);
	zap_leaf_t l;
	zap_leaf_bind(&l, p, bs, NULL);
	byteswap_uint16_array(p + ZLH_SIZE, 2ULL * l.nhash);
	for (uint32_t i = 0; i < l.nchunks; i++) {
		uint8_t *c = chunk(&l, i);
		switch (c[0]) {
		case ZAP_CHUNK_ENTRY:
			bswap16_at(c + ZLE_NEXT);
			bswap16_at(c + ZLE_NAME_CHUNK);
			bswap16_at(c + ZLE_NAME_NUMINTS);
			bswap16_at(c + ZLE_VALUE_CHUNK);
			bswap16_at(c + ZLE_VALUE_NUMINTS);
			bswap32_at(c + ZLE_CD);
			bswap64_at(c + ZLE_HASH);
			break;
		case ZAP_CHUNK_FREE:
		case ZAP_CHUNK_ARRAY:
			bswap16_at(c + ZLA_NEXT);
			break;
		default:
			break;	/* corrupt: the reader's checks will say so */
		}
	}
}
