/*
 * zap_write.c — changing ZAP objects (object-layer.md §4); zap.c reads them.
 *
 * Theory. A ZAP is edited block by block, exactly as OpenZFS 2.3 edits it,
 * so that what we leave behind is what OpenZFS would have left (given the
 * same salt): micro ZAPs place entries in the first free 64-byte chunk with
 * the lowest collision differentiator (cd) unused by entries of the same
 * 28-bit hash, grow by 512 bytes when full, and become fat when full at
 * 128 KiB or handed a value that is not one uint64, a name of 50 bytes or
 * more, or (adding) too many entries of one hash for a fat leaf. The upgrade
 * rewrites block 0 as a fat header with an embedded pointer table and
 * re-adds every entry, keeping its cd, into 16 KiB leaves.
 *
 * Fat leaves hand out chunks from the head of their free list and take
 * freed chunks back there one by one (so a freed array lands reversed; the
 * in-order rule of later OpenZFS is not in 2.3.2); bucket chains stay
 * sorted by cd. A leaf without room splits on the next hash bit; when its
 * prefix is as long as the pointer table's index, the table doubles first
 * (embedded → one external block → 2, 4, ... blocks). We do the external
 * doubling in one step rather than one block per insert: the result is the
 * table OpenZFS ends with, and a half-done doubling found on disk is
 * finished first. After an insert, a leaf that is nearly full and already
 * at full prefix length grows the table early, as OpenZFS does. Removing the
 * last entry of a leaf whose sibling is empty too merges the two (2.2+
 * shrink) and may lower zap_freeblk. The unit test replays the basic
 * fixture's 3000-entry directory and gets OpenZFS 2.3.2's blocks byte for
 * byte (micro growth, upgrade, splits).
 *
 * Fat operations keep the blocks they touch in a small per-operation cache
 * and write the changed ones back at the end, then free released blocks.
 * All I/O goes through a zap_store (zap_impl.h): the DMU one below in
 * production, an in-memory one in the unit test.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include "byteorder.h"
#include "dmu_tx.h"
#include "dmu_types.h"
#include "zap.h"
#include "zap_impl.h"
#include "zfuse/errors.h"

#define CHAIN_END 0xffff
#define CHUNK_ARRAY 251
#define CHUNK_ENTRY 252
#define CHUNK_FREE 253
#define CHUNKSIZE 24
#define ARRAY_BYTES 21
#define ARRAY_NCHUNKS(bytes) (((bytes) + ARRAY_BYTES - 1) / ARRAY_BYTES)
#define LEAF_HDR_SIZE 48
#define LEAF_LOW_WATER 20
#define ZLF_ENTRIES_CDSORTED 1
#define NEED_CD UINT32_MAX
#define MZAP_ENT_LEN 64
/* A micro entry needs at most this many chunks as a fat entry. */
#define MZAP_ENT_CHUNKS (1 + ARRAY_NCHUNKS(MZAP_NAME_LEN) + ARRAY_NCHUNKS(8))
/* Chunks of a default (16 KiB) leaf. */
#define LEAF_NUMCHUNKS_DEF (((1u << ZAP_DEFAULT_LEAF_SHIFT) - 2 * (1u << (ZAP_DEFAULT_LEAF_SHIFT - 5))) / CHUNKSIZE - 2)

/* Internal: the leaf has no room; split it and retry. */
#define ZW_AGAIN 1

/* Fat header (zap_phys_t) field offsets. */
enum {
	ZH_TYPE = 0, ZH_MAGIC = 8, ZH_ZT_BLK = 16, ZH_ZT_NUMBLKS = 24, ZH_ZT_SHIFT = 32,
	ZH_ZT_NEXTBLK = 40, ZH_ZT_COPIED = 48, ZH_FREEBLK = 56, ZH_NUM_LEAFS = 64,
	ZH_NUM_ENTRIES = 72, ZH_SALT = 80, ZH_NORMFLAGS = 88, ZH_FLAGS = 96
};
/* Leaf header. */
enum {
	LH_TYPE = 0, LH_PREFIX = 16, LH_MAGIC = 24, LH_NFREE = 28, LH_NENTRIES = 30,
	LH_PREFIX_LEN = 32, LH_FREELIST = 34, LH_FLAGS = 36
};
/* Entry chunk. */
enum {
	LE_INTLEN = 1, LE_NEXT = 2, LE_NAME_CHUNK = 4, LE_NAME_NUMINTS = 6, LE_VALUE_CHUNK = 8,
	LE_VALUE_NUMINTS = 10, LE_CD = 12, LE_HASH = 16
};
/* Array and free chunks keep their link here. */
#define LA_NEXT 22

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static unsigned log2_floor(uint64_t v)
{
	unsigned s = 0;
	while (v > 1) {
		v >>= 1;
		s++;
	}
	return s;
}

/* Host-order integers → the big-endian byte stream fat leaves store. */
static void encode_be(unsigned intlen, uint64_t numints, const void *val, uint8_t *out)
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

static uint64_t draw_salt(uint64_t obj)
{
	uint64_t s = 0;
	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		s = ((uint64_t)ts.tv_sec * 1000000007ULL) ^ (uint64_t)ts.tv_nsec ^ (obj << 1);
	}
	return s | 1;
}

/* ---- per-operation block cache (fat ZAPs) ------------------------------- */

struct zblk {
	uint64_t id;
	uint8_t *data;
	bool dirty;
};

typedef struct zw {
	zap_store_t *st;
	uint64_t obj;
	unsigned type;
	unsigned bs;		/* block shift */
	zap_info_t info;	/* salt, normflags, flags, hashbits */
	struct zblk *blk;
	size_t nblk, capblk;
	uint64_t (*frees)[2];	/* (first block, count) */
	size_t nfrees, capfrees;
	uint8_t *hdr;		/* block 0, always blk[0] */
	int err;		/* sticky corruption found while editing */
} zw_t;

static void zw_fini(zw_t *z)
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

static int zw_flush(zw_t *z)
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
	return z->bs - 4;
}

static int ptr_get(zw_t *z, uint64_t idx, uint64_t *blk)
{
	if (hdr_get(z, ZH_ZT_NUMBLKS) == 0) {
		if (idx >= (1ULL << embedded_shift(z)))
			return -ZFUSE_E_CORRUPT;
		*blk = le64(z->hdr + (1ULL << (z->bs - 1)) + idx * 8);
		return 0;
	}
	unsigned epbs = z->bs - 3;
	if ((idx >> epbs) >= hdr_get(z, ZH_ZT_NUMBLKS))
		return -ZFUSE_E_CORRUPT;
	uint8_t *p;
	int rc = zw_get(z, hdr_get(z, ZH_ZT_BLK) + (idx >> epbs), false, &p);
	if (rc)
		return rc;
	*blk = le64(p + (idx & ((1ULL << epbs) - 1)) * 8);
	return 0;
}

static int ptr_set(zw_t *z, uint64_t idx, uint64_t blk)
{
	if (hdr_get(z, ZH_ZT_BLK) == 0) {
		put_le64(z->hdr + (1ULL << (z->bs - 1)) + idx * 8, blk);
		z->blk[0].dirty = true;
		return 0;
	}
	unsigned epbs = z->bs - 3;
	uint8_t *p;
	int rc = zw_get(z, hdr_get(z, ZH_ZT_BLK) + (idx >> epbs), true, &p);
	if (rc)
		return rc;
	put_le64(p + (idx & ((1ULL << epbs) - 1)) * 8, blk);
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
			return -ZFUSE_E_CORRUPT;
		uint64_t nb = alloc_blocks(z, 1);
		uint8_t *p;
		int rc = zw_new(z, nb, &p);
		if (rc)
			return rc;
		ptrtbl_transfer(z->hdr + (1ULL << (z->bs - 1)), p, 1ULL << embedded_shift(z));
		hdr_set(z, ZH_ZT_BLK, nb);
		hdr_set(z, ZH_ZT_NUMBLKS, 1);
		hdr_set(z, ZH_ZT_SHIFT, hdr_get(z, ZH_ZT_SHIFT) + 1);
		return 0;
	}
	hdr_set(z, ZH_ZT_NEXTBLK, alloc_blocks(z, hdr_get(z, ZH_ZT_NUMBLKS) * 2));
	hdr_set(z, ZH_ZT_COPIED, 0);
	return ptrtbl_finish_growth(z);
}

/* ---- leaves --------------------------------------------------------------- */

static unsigned leaf_nhash(const zw_t *z)
{
	return 1u << (z->bs - 5);
}

static unsigned leaf_nchunks(const zw_t *z)
{
	return (unsigned)(((1ULL << z->bs) - 2ULL * leaf_nhash(z)) / CHUNKSIZE - 2);
}

static uint8_t *chunk_at(const zw_t *z, uint8_t *l, unsigned i)
{
	return l + LEAF_HDR_SIZE + 2ULL * leaf_nhash(z) + (uint64_t)i * CHUNKSIZE;
}

static uint16_t lh16(const uint8_t *l, unsigned off)
{
	return le16(l + off);
}

static uint8_t *bucket_slot(const zw_t *z, uint8_t *l, uint64_t h)
{
	unsigned shift = 64 - (z->bs - 5) - lh16(l, LH_PREFIX_LEN);
	uint64_t b = (h >> shift) & (leaf_nhash(z) - 1);
	return l + LEAF_HDR_SIZE + 2 * b;
}

static void leaf_init(zw_t *z, uint8_t *l, bool sort)
{
	memset(l, 0, LEAF_HDR_SIZE);
	memset(l + LEAF_HDR_SIZE, 0xff, 2ULL * leaf_nhash(z));
	unsigned n = leaf_nchunks(z);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *c = chunk_at(z, l, i);
		memset(c, 0, CHUNKSIZE);
		c[0] = CHUNK_FREE;
		put16(c + LA_NEXT, i + 1 < n ? (uint16_t)(i + 1) : CHAIN_END);
	}
	put_le64(l + LH_TYPE, ZBT_LEAF);
	put32(l + LH_MAGIC, ZAP_LEAF_MAGIC);
	put16(l + LH_NFREE, (uint16_t)n);
	if (sort)
		l[LH_FLAGS] |= ZLF_ENTRIES_CDSORTED;
}

/* Take the head of the free list (the caller checked lh_nfree). */
static uint16_t chunk_alloc(zw_t *z, uint8_t *l)
{
	uint16_t c = lh16(l, LH_FREELIST);
	if (lh16(l, LH_NFREE) == 0 || c >= leaf_nchunks(z) || chunk_at(z, l, c)[0] != CHUNK_FREE) {
		z->err = -ZFUSE_E_CORRUPT;
		return CHAIN_END;
	}
	put16(l + LH_FREELIST, le16(chunk_at(z, l, c) + LA_NEXT));
	put16(l + LH_NFREE, lh16(l, LH_NFREE) - 1);
	return c;
}

static void chunk_free(zw_t *z, uint8_t *l, uint16_t c)
{
	if (c >= leaf_nchunks(z)) {
		z->err = -ZFUSE_E_CORRUPT;
		return;
	}
	uint8_t *p = chunk_at(z, l, c);
	p[0] = CHUNK_FREE;
	memset(p + 1, 0, ARRAY_BYTES);
	put16(p + LA_NEXT, lh16(l, LH_FREELIST));
	put16(l + LH_FREELIST, c);
	put16(l + LH_NFREE, lh16(l, LH_NFREE) + 1);
}

/* Store nbytes as a chain of array chunks; CHAIN_END for an empty array. */
static uint16_t array_create(zw_t *z, uint8_t *l, const uint8_t *bytes, uint64_t nbytes)
{
	uint16_t head = CHAIN_END;
	uint8_t *link = NULL;
	uint64_t done = 0;
	while (done < nbytes) {
		uint16_t c = chunk_alloc(z, l);
		if (c == CHAIN_END)
			return head;
		uint8_t *p = chunk_at(z, l, c);
		uint64_t take = nbytes - done < ARRAY_BYTES ? nbytes - done : ARRAY_BYTES;
		memset(p, 0, CHUNKSIZE);
		p[0] = CHUNK_ARRAY;
		memcpy(p + 1, bytes + done, take);
		put16(p + LA_NEXT, CHAIN_END);
		if (link)
			put16(link, c);
		else
			head = c;
		link = p + LA_NEXT;
		done += take;
	}
	return head;
}

/* Move the chain at c of leaf l into new chunks of nl, freeing each
 * source chunk as it is copied. */
static uint16_t array_transfer(zw_t *z, uint8_t *l, uint16_t c, uint8_t *nl)
{
	uint16_t head = CHAIN_END;
	uint8_t *link = NULL;
	unsigned hops = 0;
	while (c != CHAIN_END) {
		if (c >= leaf_nchunks(z) || ++hops > leaf_nchunks(z) ||
		    chunk_at(z, l, c)[0] != CHUNK_ARRAY) {
			z->err = -ZFUSE_E_CORRUPT;
			break;
		}
		uint16_t nc = chunk_alloc(z, nl);
		if (nc == CHAIN_END)
			break;
		uint8_t *src = chunk_at(z, l, c), *dst = chunk_at(z, nl, nc);
		memcpy(dst, src, CHUNKSIZE);
		put16(dst + LA_NEXT, CHAIN_END);
		if (link)
			put16(link, nc);
		else
			head = nc;
		link = dst + LA_NEXT;
		uint16_t next = le16(src + LA_NEXT);
		chunk_free(z, l, c);
		c = next;
	}
	return head;
}

/* Free a chain chunk by chunk onto the head of the free list. */
static void array_free(zw_t *z, uint8_t *l, uint16_t c)
{
	unsigned hops = 0;
	while (c != CHAIN_END) {
		if (c >= leaf_nchunks(z) || ++hops > leaf_nchunks(z) ||
		    chunk_at(z, l, c)[0] != CHUNK_ARRAY) {
			z->err = -ZFUSE_E_CORRUPT;
			break;
		}
		uint16_t next = le16(chunk_at(z, l, c) + LA_NEXT);
		chunk_free(z, l, c);
		c = next;
	}
}

static int array_read(zw_t *z, uint8_t *l, uint16_t c, uint64_t nbytes, uint8_t *out)
{
	uint64_t done = 0;
	unsigned hops = 0;
	while (done < nbytes) {
		if (c >= leaf_nchunks(z) || ++hops > leaf_nchunks(z) ||
		    chunk_at(z, l, c)[0] != CHUNK_ARRAY)
			return -ZFUSE_E_CORRUPT;
		const uint8_t *p = chunk_at(z, l, c);
		uint64_t take = nbytes - done < ARRAY_BYTES ? nbytes - done : ARRAY_BYTES;
		memcpy(out + done, p + 1, take);
		done += take;
		c = le16(p + LA_NEXT);
	}
	return 0;
}

/* Link entry chunk c into its bucket, after every entry of lower or equal cd. */
static uint8_t *leaf_rehash_entry(zw_t *z, uint8_t *l, uint16_t c)
{
	uint8_t *e = chunk_at(z, l, c);
	uint32_t cd = le32(e + LE_CD);
	uint8_t *slot = bucket_slot(z, l, le64(e + LE_HASH));
	unsigned hops = 0;
	for (uint16_t x; (x = le16(slot)) != CHAIN_END; slot = chunk_at(z, l, x) + LE_NEXT) {
		if (x >= leaf_nchunks(z) || ++hops > leaf_nchunks(z)) {
			z->err = -ZFUSE_E_CORRUPT;
			return slot;
		}
		if (le32(chunk_at(z, l, x) + LE_CD) > cd)
			break;
	}
	put16(e + LE_NEXT, le16(slot));
	put16(slot, c);
	return slot;
}

/* What a lookup compares: the exact name, or its normalized form. */
struct zkey {
	const char *name;
	size_t len;		/* strlen(name) */
	uint64_t hash;
	const char *norm;	/* normalized key for normalized matching, else NULL */
};

static bool entry_matches(zw_t *z, uint8_t *l, const uint8_t *e, const struct zkey *k)
{
	uint16_t n = le16(e + LE_NAME_NUMINTS);
	if (!k->norm && n != k->len + 1)
		return false;
	if (n == 0 || n > ZAP_MAXNAMELEN_NEW)
		return false;
	char stored[ZAP_MAXNAMELEN_NEW + 1];
	if (array_read(z, l, le16(e + LE_NAME_CHUNK), n, (uint8_t *)stored) != 0) {
		z->err = -ZFUSE_E_CORRUPT;
		return false;
	}
	stored[n] = 0;
	if (!k->norm)
		return memcmp(stored, k->name, k->len + 1) == 0;
	char buf[ZAP_MAXNAMELEN_NEW * 4];
	if (zap_normalize(stored, z->info.normflags, buf, sizeof(buf)) != 0)
		return false;
	return strcmp(buf, k->norm) == 0;
}

/* Entry chunk for k, or CHAIN_END; *slotp is the link that points at it. */
static uint16_t leaf_lookup(zw_t *z, uint8_t *l, const struct zkey *k, uint8_t **slotp)
{
	uint8_t *slot = bucket_slot(z, l, k->hash);
	unsigned hops = 0;
	for (uint16_t c; (c = le16(slot)) != CHAIN_END; slot = chunk_at(z, l, c) + LE_NEXT) {
		if (c >= leaf_nchunks(z) || ++hops > leaf_nchunks(z) ||
		    chunk_at(z, l, c)[0] != CHUNK_ENTRY) {
			z->err = -ZFUSE_E_CORRUPT;
			return CHAIN_END;
		}
		const uint8_t *e = chunk_at(z, l, c);
		if (le64(e + LE_HASH) != k->hash)
			continue;
		if (entry_matches(z, l, e, k)) {
			if (slotp)
				*slotp = slot;
			return c;
		}
	}
	return CHAIN_END;
}

/* Lowest cd no entry of hash h uses in this leaf. */
static uint32_t leaf_unused_cd(zw_t *z, uint8_t *l, uint64_t h)
{
	unsigned n = leaf_nchunks(z);
	if (l[LH_FLAGS] & ZLF_ENTRIES_CDSORTED) {
		uint32_t cd = 0;
		unsigned hops = 0;
		for (uint16_t c = le16(bucket_slot(z, l, h)); c != CHAIN_END && c < n && ++hops <= n;
		     c = le16(chunk_at(z, l, c) + LE_NEXT)) {
			const uint8_t *e = chunk_at(z, l, c);
			if (le32(e + LE_CD) > cd)
				break;
			if (le64(e + LE_HASH) == h)
				cd++;
		}
		return cd;
	}
	for (uint32_t cd = 0;; cd++) {
		bool used = false;
		unsigned hops = 0;
		for (uint16_t c = le16(bucket_slot(z, l, h)); c != CHAIN_END && c < n && ++hops <= n;
		     c = le16(chunk_at(z, l, c) + LE_NEXT)) {
			const uint8_t *e = chunk_at(z, l, c);
			if (le64(e + LE_HASH) == h && le32(e + LE_CD) == cd) {
				used = true;
				break;
			}
		}
		if (!used)
			return cd;
	}
}

struct zval {
	unsigned intlen;
	uint64_t numints;
	const uint8_t *be;	/* intlen * numints bytes, big-endian */
};

static int entry_create(zw_t *z, uint8_t *l, const struct zkey *k, uint32_t cd, const struct zval *v)
{
	uint64_t vlen = (uint64_t)v->intlen * v->numints;
	uint64_t need = 1 + ARRAY_NCHUNKS(k->len + 1) + ARRAY_NCHUNKS(vlen);
	if (need > leaf_nchunks(z))
		return -ZFUSE_E_INVAL;	/* E2BIG: can never fit a leaf */
	if (cd == NEED_CD)
		cd = leaf_unused_cd(z, l, k->hash);
	if (lh16(l, LH_NFREE) < need)
		return ZW_AGAIN;
	uint16_t c = chunk_alloc(z, l);
	if (c == CHAIN_END)
		return z->err;
	uint8_t *e = chunk_at(z, l, c);
	e[0] = CHUNK_ENTRY;
	uint16_t name_chunk = array_create(z, l, (const uint8_t *)k->name, k->len + 1);
	uint16_t value_chunk = array_create(z, l, v->be, vlen);
	e[LE_INTLEN] = (uint8_t)v->intlen;
	put16(e + LE_NAME_CHUNK, name_chunk);
	put16(e + LE_NAME_NUMINTS, (uint16_t)(k->len + 1));
	put16(e + LE_VALUE_CHUNK, value_chunk);
	put16(e + LE_VALUE_NUMINTS, (uint16_t)v->numints);
	put32(e + LE_CD, cd);
	put_le64(e + LE_HASH, k->hash);
	leaf_rehash_entry(z, l, c);
	put16(l + LH_NENTRIES, lh16(l, LH_NENTRIES) + 1);
	return z->err;
}

static int entry_update(zw_t *z, uint8_t *l, uint16_t c, const struct zval *v)
{
	uint8_t *e = chunk_at(z, l, c);
	long delta = (long)ARRAY_NCHUNKS((uint64_t)v->intlen * v->numints) -
		     (long)ARRAY_NCHUNKS((uint64_t)e[LE_INTLEN] * le16(e + LE_VALUE_NUMINTS));
	if ((long)lh16(l, LH_NFREE) < delta)
		return ZW_AGAIN;
	array_free(z, l, le16(e + LE_VALUE_CHUNK));
	put16(e + LE_VALUE_CHUNK, array_create(z, l, v->be, (uint64_t)v->intlen * v->numints));
	put16(e + LE_VALUE_NUMINTS, (uint16_t)v->numints);
	e[LE_INTLEN] = (uint8_t)v->intlen;
	return z->err;
}

static void entry_remove(zw_t *z, uint8_t *l, uint8_t *slot, uint16_t c)
{
	uint8_t *e = chunk_at(z, l, c);
	array_free(z, l, le16(e + LE_NAME_CHUNK));
	array_free(z, l, le16(e + LE_VALUE_CHUNK));
	put16(slot, le16(e + LE_NEXT));
	chunk_free(z, l, c);
	put16(l + LH_NENTRIES, lh16(l, LH_NENTRIES) - 1);
}

static void leaf_transfer_entry(zw_t *z, uint8_t *l, uint16_t c, uint8_t *nl)
{
	uint8_t *e = chunk_at(z, l, c);
	uint16_t nc = chunk_alloc(z, nl);
	if (nc == CHAIN_END)
		return;
	uint8_t *ne = chunk_at(z, nl, nc);
	memcpy(ne, e, CHUNKSIZE);
	leaf_rehash_entry(z, nl, nc);
	put16(ne + LE_NAME_CHUNK, array_transfer(z, l, le16(e + LE_NAME_CHUNK), nl));
	put16(ne + LE_VALUE_CHUNK, array_transfer(z, l, le16(e + LE_VALUE_CHUNK), nl));
	chunk_free(z, l, c);
	put16(l + LH_NENTRIES, lh16(l, LH_NENTRIES) - 1);
	put16(nl + LH_NENTRIES, lh16(nl, LH_NENTRIES) + 1);
}

/* Entries whose next hash bit is 1 move to nl; the rest are rehashed. */
static void leaf_split(zw_t *z, uint8_t *l, uint8_t *nl, bool sort)
{
	unsigned bit = 63 - lh16(l, LH_PREFIX_LEN);
	put_le64(l + LH_PREFIX, le64(l + LH_PREFIX) << 1);
	put16(l + LH_PREFIX_LEN, lh16(l, LH_PREFIX_LEN) + 1);
	put_le64(nl + LH_PREFIX, le64(l + LH_PREFIX) | 1);
	put16(nl + LH_PREFIX_LEN, lh16(l, LH_PREFIX_LEN));
	memset(l + LEAF_HDR_SIZE, 0xff, 2ULL * leaf_nhash(z));
	if (sort)
		l[LH_FLAGS] |= ZLF_ENTRIES_CDSORTED;
	unsigned n = leaf_nchunks(z);
	for (unsigned i = 0; i < n && z->err == 0; i++) {
		const uint8_t *e = chunk_at(z, l, i);
		if (e[0] != CHUNK_ENTRY)
			continue;
		if (le64(e + LE_HASH) & (1ULL << bit))
			leaf_transfer_entry(z, l, (uint16_t)i, nl);
		else
			leaf_rehash_entry(z, l, (uint16_t)i);
	}
}

static uint64_t hash_idx(uint64_t h, unsigned n)
{
	return n == 0 ? 0 : h >> (64 - n);
}

static int deref_leaf(zw_t *z, uint64_t h, bool dirty, uint64_t *blkp, uint8_t **lp)
{
	uint64_t blk;
	int rc = ptr_get(z, hash_idx(h, (unsigned)hdr_get(z, ZH_ZT_SHIFT)), &blk);
	if (rc)
		return rc;
	if (blk == 0 || blk >= hdr_get(z, ZH_FREEBLK))
		return -ZFUSE_E_CORRUPT;
	uint8_t *l;
	rc = zw_get(z, blk, dirty, &l);
	if (rc)
		return rc;
	unsigned plen = lh16(l, LH_PREFIX_LEN);
	if (le64(l + LH_TYPE) != ZBT_LEAF || le32(l + LH_MAGIC) != ZAP_LEAF_MAGIC ||
	    plen > hdr_get(z, ZH_ZT_SHIFT) || hash_idx(h, plen) != le64(l + LH_PREFIX))
		return -ZFUSE_E_CORRUPT;
	*blkp = blk;
	*lp = l;
	return 0;
}

static int create_leaf(zw_t *z, uint64_t *blkp, uint8_t **lp)
{
	uint64_t blk = alloc_blocks(z, 1);
	int rc = zw_new(z, blk, lp);
	if (rc)
		return rc;
	leaf_init(z, *lp, z->info.normflags != 0);
	hdr_set(z, ZH_NUM_LEAFS, hdr_get(z, ZH_NUM_LEAFS) + 1);
	*blkp = blk;
	return 0;
}

/* Split the leaf holding h (growing the table first if needed); returns
 * the half that now holds h. */
static int expand_leaf(zw_t *z, uint64_t h, uint64_t *blkp, uint8_t **lp)
{
	unsigned old_plen = lh16(*lp, LH_PREFIX_LEN);
	int rc;
	while (old_plen == hdr_get(z, ZH_ZT_SHIFT)) {
		if ((rc = grow_ptrtbl(z)) != 0)
			return rc;
	}
	unsigned prefix_diff = (unsigned)hdr_get(z, ZH_ZT_SHIFT) - (old_plen + 1);
	uint64_t sibling = (hash_idx(h, old_plen + 1) | 1) << prefix_diff;
	uint64_t nblk;
	uint8_t *nl;
	if ((rc = create_leaf(z, &nblk, &nl)) != 0)
		return rc;
	zw_mark(z, *blkp);
	leaf_split(z, *lp, nl, z->info.normflags != 0);
	if (z->err)
		return z->err;
	for (uint64_t i = 0; i < (1ULL << prefix_diff); i++) {
		if ((rc = ptr_set(z, sibling + i, nblk)) != 0)
			return rc;
	}
	if (h & (1ULL << (64 - lh16(*lp, LH_PREFIX_LEN)))) {
		*blkp = nblk;
		*lp = nl;
	}
	return 0;
}

/* After an insert: a nearly full leaf at full prefix length grows the table now. */
static void maybe_grow_ptrtbl(zw_t *z, const uint8_t *l)
{
	if (lh16(l, LH_PREFIX_LEN) == hdr_get(z, ZH_ZT_SHIFT) && lh16(l, LH_NFREE) < LEAF_LOW_WATER)
		(void)grow_ptrtbl(z);
}

static void num_entries_add(zw_t *z, int delta)
{
	hdr_set(z, ZH_NUM_ENTRIES, hdr_get(z, ZH_NUM_ENTRIES) + (uint64_t)(int64_t)delta);
}

/* Add k with value v; cd NEED_CD picks the lowest free one. */
static int fzap_add_cd(zw_t *z, const struct zkey *k, const struct zval *v, uint32_t cd)
{
	uint64_t blk;
	uint8_t *l;
	int rc = deref_leaf(z, k->hash, false, &blk, &l);
	if (rc)
		return rc;
	for (;;) {
		if (leaf_lookup(z, l, k, NULL) != CHAIN_END) {
			rc = -ZFUSE_E_EXIST;
			break;
		}
		if (z->err)
			return z->err;
		rc = entry_create(z, l, k, cd, v);
		if (rc == 0) {
			zw_mark(z, blk);
			num_entries_add(z, 1);
		}
		if (rc != ZW_AGAIN)
			break;
		if ((rc = expand_leaf(z, k->hash, &blk, &l)) != 0)
			return rc;
	}
	if (rc != -ZFUSE_E_NOSPC && z->err == 0)
		maybe_grow_ptrtbl(z, l);
	return rc ? rc : z->err;
}

static int fzap_update(zw_t *z, const struct zkey *k, const struct zval *v)
{
	uint64_t blk;
	uint8_t *l;
	int rc = deref_leaf(z, k->hash, false, &blk, &l);
	if (rc)
		return rc;
	for (;;) {
		uint16_t c = leaf_lookup(z, l, k, NULL);
		if (z->err)
			return z->err;
		if (c == CHAIN_END) {
			rc = entry_create(z, l, k, NEED_CD, v);
			if (rc == 0)
				num_entries_add(z, 1);
		} else {
			rc = entry_update(z, l, c, v);
		}
		if (rc == 0)
			zw_mark(z, blk);
		if (rc != ZW_AGAIN)
			break;
		if ((rc = expand_leaf(z, k->hash, &blk, &l)) != 0)
			return rc;
	}
	if (rc != -ZFUSE_E_NOSPC && z->err == 0)
		maybe_grow_ptrtbl(z, l);
	return rc ? rc : z->err;
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
static int zap_shrink(zw_t *z, uint64_t blk, uint8_t *l)
{
	unsigned zt_shift = (unsigned)hdr_get(z, ZH_ZT_SHIFT);
	uint64_t prefix = le64(l + LH_PREFIX);
	unsigned plen = lh16(l, LH_PREFIX_LEN);
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
		uint8_t *sl;
		if ((rc = deref_leaf(z, sl_hash, false, &sblk, &sl)) != 0)
			break;
		if (lh16(sl, LH_PREFIX_LEN) != plen || lh16(sl, LH_NENTRIES) != 0)
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
		if ((rc = zw_get(z, blk, true, &l)) != 0)
			break;
		put_le64(l + LH_PREFIX, le64(l + LH_PREFIX) >> 1);
		put16(l + LH_PREFIX_LEN, lh16(l, LH_PREFIX_LEN) - 1);
		prefix = le64(l + LH_PREFIX);
		plen = lh16(l, LH_PREFIX_LEN);
	}
	if (trunc && rc == 0)
		rc = zap_trunc(z);
	return rc;
}

static int fzap_remove(zw_t *z, const struct zkey *k, char *removed, size_t cap)
{
	uint64_t blk;
	uint8_t *l, *slot = NULL;
	int rc = deref_leaf(z, k->hash, false, &blk, &l);
	if (rc)
		return rc;
	uint16_t c = leaf_lookup(z, l, k, &slot);
	if (z->err)
		return z->err;
	if (c == CHAIN_END)
		return -ZFUSE_E_NOENT;
	if (removed && cap) {
		const uint8_t *e = chunk_at(z, l, c);
		uint16_t n = le16(e + LE_NAME_NUMINTS);
		char stored[ZAP_MAXNAMELEN_NEW + 1];
		if (n > ZAP_MAXNAMELEN_NEW || array_read(z, l, le16(e + LE_NAME_CHUNK), n, (uint8_t *)stored))
			return -ZFUSE_E_CORRUPT;
		stored[n ? n - 1 : 0] = 0;
		if (strlen(stored) + 1 > cap)
			return -ZFUSE_E_RANGE;
		memcpy(removed, stored, strlen(stored) + 1);
	}
	zw_mark(z, blk);
	entry_remove(z, l, slot, c);
	num_entries_add(z, -1);
	if (z->err)
		return z->err;
	if (lh16(l, LH_NENTRIES) == 0)
		return zap_shrink(z, blk, l);
	return 0;
}

/* ---- opening and creating ------------------------------------------------ */

static void zw_setup(zw_t *z, zap_store_t *st, uint64_t obj, unsigned type, unsigned bs,
		     uint64_t salt, uint64_t normflags, uint64_t flags)
{
	memset(z, 0, sizeof(*z));
	z->st = st;
	z->obj = obj;
	z->type = type;
	z->bs = bs;
	z->info.salt = salt;
	z->info.normflags = normflags;
	z->info.flags = flags;
	z->info.hashbits = (flags & ZAP_FLAG_HASH64) ? 48 : 28;
	z->info.block_shift = bs;
}

/* Block 0 and leaf 1 of an empty fat ZAP (fzap_upgrade). */
static int fat_format(zw_t *z)
{
	uint8_t *l;
	int rc = zw_new(z, 0, &z->hdr);
	if (rc == 0)
		rc = zw_new(z, 1, &l);
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
		put_le64(z->hdr + (1ULL << (z->bs - 1)) + i * 8, 1);
	leaf_init(z, l, z->info.normflags != 0);
	return 0;
}

/* Open an existing fat ZAP whose block size is blksz. */
static int fat_open(zw_t *z, zap_store_t *st, uint64_t obj, unsigned type, uint64_t blksz)
{
	unsigned bs = log2_floor(blksz);
	if ((1ULL << bs) != blksz || bs < 9 || bs > 17)
		return -ZFUSE_E_CORRUPT;
	zw_setup(z, st, obj, type, bs, 0, 0, 0);
	int rc = zw_get(z, 0, false, &z->hdr);
	if (rc)
		return rc;
	if (hdr_get(z, ZH_TYPE) != ZBT_HEADER || hdr_get(z, ZH_MAGIC) != ZAP_MAGIC)
		return -ZFUSE_E_CORRUPT;
	z->info.salt = hdr_get(z, ZH_SALT);
	z->info.normflags = hdr_get(z, ZH_NORMFLAGS);
	z->info.flags = hdr_get(z, ZH_FLAGS);
	z->info.hashbits = (z->info.flags & ZAP_FLAG_HASH64) ? 48 : 28;
	if (z->info.flags & ZAP_FLAG_UINT64_KEY)
		return -ZFUSE_E_UNSUPPORTED;
	uint64_t shift = hdr_get(z, ZH_ZT_SHIFT), nblks = hdr_get(z, ZH_ZT_NUMBLKS);
	if (shift > z->info.hashbits ||
	    (nblks == 0 && shift != embedded_shift(z)) ||
	    (nblks != 0 && (nblks << (bs - 3)) != (1ULL << shift)))
		return -ZFUSE_E_CORRUPT;
	if (hdr_get(z, ZH_ZT_NEXTBLK) != 0 && nblks != 0)
		rc = ptrtbl_finish_growth(z);
	return rc;
}

/* Hash of a name as this ZAP computes it. */
static uint64_t zw_hash(const zap_info_t *info, const char *name)
{
	return zap_hash_name(info, name);
}

/* Micro chunk i's fields. */
static uint8_t *mze_at(uint8_t *m, uint64_t i)
{
	return m + MZAP_ENT_LEN + i * MZAP_ENT_LEN;
}

/* Rebuild the micro ZAP in m (msize bytes) as a fat ZAP in z and re-add its
 * entries with their cds. The object's block size must already be final. */
static int mzap_upgrade(zw_t *z, zap_store_t *st, uint64_t obj, unsigned type, uint8_t *m,
			uint64_t msize, uint64_t flags, unsigned bs)
{
	zw_setup(z, st, obj, type, bs, le64(m + 8), le64(m + 16), flags);
	int rc = fat_format(z);
	uint64_t n = msize / MZAP_ENT_LEN - 1;
	for (uint64_t i = 0; i < n && rc == 0; i++) {
		uint8_t *c = mze_at(m, i);
		if (c[14] == 0)
			continue;
		char name[MZAP_NAME_LEN];
		memcpy(name, c + 14, MZAP_NAME_LEN);
		name[MZAP_NAME_LEN - 1] = 0;
		uint8_t be[8];
		put_be64(be, le64(c));
		struct zkey k = { name, strlen(name), zw_hash(&z->info, name), NULL };
		struct zval v = { 8, 1, be };
		rc = fzap_add_cd(z, &k, &v, le32(c + 8));
	}
	return rc;
}

static int read_block0(zap_store_t *st, uint64_t obj, unsigned *type, uint64_t *blksz, uint8_t **buf)
{
	int rc = st->ops->stat(st->ctx, obj, type, blksz);
	if (rc)
		return rc;
	if (!dmu_ot_is_zap(*type))
		return -ZFUSE_E_INVAL;
	if (*blksz < 512 || *blksz > (1u << 24))
		return -ZFUSE_E_CORRUPT;
	*buf = malloc(*blksz);
	if (!*buf)
		return -ZFUSE_E_NOMEM;
	rc = st->ops->read(st->ctx, obj, 0, *blksz, *buf);
	if (rc) {
		free(*buf);
		*buf = NULL;
	}
	return rc;
}

int zapw_init(zap_store_t *st, uint64_t obj, uint64_t normflags, uint64_t zapflags, uint64_t salt)
{
	unsigned type;
	uint64_t blksz;
	int rc = st->ops->stat(st->ctx, obj, &type, &blksz);
	if (rc)
		return rc;
	if (!dmu_ot_is_zap(type))
		return -ZFUSE_E_INVAL;
	if (zapflags & ZAP_FLAG_UINT64_KEY)
		return -ZFUSE_E_UNSUPPORTED;
	if (salt == 0)
		salt = draw_salt(obj);
	if (zapflags == 0) {
		uint8_t *m = calloc(1, blksz);
		if (!m)
			return -ZFUSE_E_NOMEM;
		put_le64(m, ZBT_MICRO);
		put_le64(m + 8, salt);
		put_le64(m + 16, normflags);
		rc = st->ops->write(st->ctx, obj, 0, blksz, m);
		free(m);
		return rc;
	}
	/* Flags need a fat ZAP at once, in blocks of the size the object has. */
	unsigned bs = log2_floor(blksz);
	if ((1ULL << bs) != blksz || bs > 17)
		return -ZFUSE_E_INVAL;
	zw_t z;
	zw_setup(&z, st, obj, type, bs, salt, normflags, zapflags);
	rc = fat_format(&z);
	if (rc == 0)
		rc = zw_flush(&z);
	zw_fini(&z);
	return rc;
}

/* Micro entry lookup: exact name, or (norm) the lowest-cd entry whose
 * normalized name matches with the same hash. Returns the chunk or -1. */
static long mzap_find(uint8_t *m, uint64_t n, const zap_info_t *info, const struct zkey *k)
{
	long best = -1;
	uint32_t bestcd = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint8_t *c = mze_at(m, i);
		if (c[14] == 0)
			continue;
		char name[MZAP_NAME_LEN];
		memcpy(name, c + 14, MZAP_NAME_LEN);
		name[MZAP_NAME_LEN - 1] = 0;
		if (!k->norm) {
			if (strcmp(name, k->name) == 0)
				return (long)i;
			continue;
		}
		char buf[MZAP_NAME_LEN * 4 * 4];
		if (zap_normalize(name, info->normflags, buf, sizeof(buf)) != 0 || strcmp(buf, k->norm))
			continue;
		if (zw_hash(info, name) != k->hash)
			continue;
		if (best < 0 || le32(c + 8) < bestcd) {
			best = (long)i;
			bestcd = le32(c + 8);
		}
	}
	return best;
}

static int zap_info_micro(const uint8_t *m, zap_info_t *info)
{
	memset(info, 0, sizeof(*info));
	info->micro = true;
	info->salt = le64(m + 8);
	info->normflags = le64(m + 16);
	info->hashbits = 28;
	return 0;
}

/*
 * Micro add/update. Returns 0 or an error when done; 1 when the ZAP must
 * become fat first (m and msize then describe the final micro block).
 */
static int mzap_put(zap_store_t *st, uint64_t obj, uint8_t **mp, uint64_t *msize,
		    const struct zkey *k, unsigned intlen, uint64_t numints, const void *val, bool update)
{
	uint8_t *m = *mp;
	uint64_t n = *msize / MZAP_ENT_LEN - 1, used = 0;
	for (uint64_t i = 0; i < n; i++)
		used += mze_at(m, i)[14] != 0;
	if (used == n) {
		/* Full: grow by 512 bytes, or become fat past the largest micro block. */
		uint64_t newsz = *msize + 512;
		if (newsz > MZAP_MAX_BLKSZ)
			return 1;
		int rc = st->ops->set_blocksize(st->ctx, obj, newsz);
		if (rc)
			return rc;
		uint8_t *nm = realloc(m, newsz);
		if (!nm)
			return -ZFUSE_E_NOMEM;
		memset(nm + *msize, 0, newsz - *msize);
		*mp = m = nm;
		*msize = newsz;
		n = newsz / MZAP_ENT_LEN - 1;
	}
	if (intlen != 8 || numints != 1 || k->len >= MZAP_NAME_LEN)
		return 1;
	zap_info_t info;
	zap_info_micro(m, &info);
	uint64_t h = zw_hash(&info, k->name);
	/* cds in use by this hash, and how many share it. */
	uint32_t *cds = malloc((n + 1) * sizeof(*cds));
	if (!cds)
		return -ZFUSE_E_NOMEM;
	uint64_t same = 0;
	long found = -1;
	for (uint64_t i = 0; i < n; i++) {
		uint8_t *c = mze_at(m, i);
		if (c[14] == 0)
			continue;
		char name[MZAP_NAME_LEN];
		memcpy(name, c + 14, MZAP_NAME_LEN);
		name[MZAP_NAME_LEN - 1] = 0;
		if (strcmp(name, k->name) == 0)
			found = (long)i;
		if (zw_hash(&info, name) == h)
			cds[same++] = le32(c + 8);
	}
	/* A fat leaf must be able to take every entry of one hash. */
	if (!update && (same + 1) * MZAP_ENT_CHUNKS >= LEAF_NUMCHUNKS_DEF) {
		free(cds);
		return 1;
	}
	uint64_t v;
	memcpy(&v, val, 8);
	int rc = 0;
	if (found >= 0) {
		if (!update) {
			rc = -ZFUSE_E_EXIST;
		} else {
			put_le64(mze_at(m, (uint64_t)found), v);
			rc = st->ops->write(st->ctx, obj, 0, *msize, m);
		}
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
	free(cds);
	for (uint64_t i = 0; i < n; i++) {
		uint8_t *c = mze_at(m, i);
		if (c[14] != 0)
			continue;
		memset(c, 0, MZAP_ENT_LEN);
		put_le64(c, v);
		put32(c + 8, cd);
		memcpy(c + 14, k->name, k->len + 1);
		return st->ops->write(st->ctx, obj, 0, *msize, m);
	}
	return -ZFUSE_E_CORRUPT;
}

static int check_value(unsigned intlen, uint64_t numints)
{
	if (intlen != 1 && intlen != 2 && intlen != 4 && intlen != 8)
		return -ZFUSE_E_INVAL;
	if ((uint64_t)intlen * numints > ZAP_MAXVALUELEN)
		return -ZFUSE_E_INVAL;	/* E2BIG */
	return 0;
}

static int check_name(unsigned type, const char *name, size_t *len)
{
	*len = strlen(name);
	if (*len == 0)
		return -ZFUSE_E_INVAL;	/* a micro chunk with an empty name is free */
	size_t max = type == DMU_OT_DIRECTORY_CONTENTS ? ZAP_MAXNAMELEN_NEW : ZAP_MAXNAMELEN;
	if (*len + 1 > max)
		return -ZFUSE_E_NAMETOOLONG;
	return 0;
}

int zapw_put(zap_store_t *st, uint64_t obj, const char *name, unsigned intlen, uint64_t numints,
	     const void *val, bool update)
{
	int rc = check_value(intlen, numints);
	if (rc)
		return rc;
	unsigned type;
	uint64_t blksz;
	uint8_t *m;
	if ((rc = read_block0(st, obj, &type, &blksz, &m)) != 0)
		return rc;
	size_t len;
	if ((rc = check_name(type, name, &len)) != 0) {
		free(m);
		return rc;
	}
	uint8_t *be = malloc((size_t)intlen * numints + 1);
	if (!be) {
		free(m);
		return -ZFUSE_E_NOMEM;
	}
	encode_be(intlen, numints, val, be);
	struct zval v = { intlen, numints, be };
	zw_t z;
	memset(&z, 0, sizeof(z));
	uint64_t kind = le64(m);
	if (kind == ZBT_MICRO) {
		struct zkey k = { name, len, 0, NULL };
		rc = mzap_put(st, obj, &m, &blksz, &k, intlen, numints, val, update);
		if (rc != 1)
			goto out;
		/* Become fat: 16 KiB blocks, then the pending change. */
		rc = st->ops->set_blocksize(st->ctx, obj, 1ULL << ZAP_DEFAULT_LEAF_SHIFT);
		if (rc == 0)
			rc = mzap_upgrade(&z, st, obj, type, m, blksz, 0, ZAP_DEFAULT_LEAF_SHIFT);
		if (rc)
			goto out;
	} else {
		if ((rc = fat_open(&z, st, obj, type, blksz)) != 0)
			goto out;
	}
	struct zkey k = { name, len, zw_hash(&z.info, name), NULL };
	rc = update ? fzap_update(&z, &k, &v) : fzap_add_cd(&z, &k, &v, NEED_CD);
	/* Like OpenZFS, a failed add keeps the table growth and upgrade it did. */
	if (z.err == 0) {
		int frc = zw_flush(&z);
		if (rc == 0)
			rc = frc;
	}
out:
	zw_fini(&z);
	free(be);
	free(m);
	return rc;
}

int zapw_remove(zap_store_t *st, uint64_t obj, const char *name, bool normalized, char *removed,
		size_t cap)
{
	unsigned type;
	uint64_t blksz;
	uint8_t *m;
	int rc = read_block0(st, obj, &type, &blksz, &m);
	if (rc)
		return rc;
	size_t len = strlen(name);
	if (len == 0 || len + 1 > ZAP_MAXNAMELEN_NEW) {
		free(m);
		return -ZFUSE_E_NOENT;
	}
	char *norm = NULL;
	zap_info_t info;
	zw_t z;
	memset(&z, 0, sizeof(z));
	bool micro = le64(m) == ZBT_MICRO;
	if (micro) {
		zap_info_micro(m, &info);
	} else {
		if ((rc = fat_open(&z, st, obj, type, blksz)) != 0)
			goto out;
		info = z.info;
	}
	if (normalized && info.normflags) {
		norm = malloc(ZAP_MAXNAMELEN_NEW * 4);
		if (!norm) {
			rc = -ZFUSE_E_NOMEM;
			goto out;
		}
		if (zap_normalize(name, info.normflags, norm, ZAP_MAXNAMELEN_NEW * 4) != 0) {
			rc = -ZFUSE_E_NAMETOOLONG;
			goto out;
		}
	}
	struct zkey k = { name, len, zw_hash(&info, name), norm };
	if (micro) {
		uint64_t n = blksz / MZAP_ENT_LEN - 1;
		long i = mzap_find(m, n, &info, &k);
		if (i < 0) {
			rc = -ZFUSE_E_NOENT;
			goto out;
		}
		uint8_t *c = mze_at(m, (uint64_t)i);
		if (removed && cap) {
			char stored[MZAP_NAME_LEN];
			memcpy(stored, c + 14, MZAP_NAME_LEN);
			stored[MZAP_NAME_LEN - 1] = 0;
			if (strlen(stored) + 1 > cap) {
				rc = -ZFUSE_E_RANGE;
				goto out;
			}
			memcpy(removed, stored, strlen(stored) + 1);
		}
		memset(c, 0, MZAP_ENT_LEN);
		rc = st->ops->write(st->ctx, obj, 0, blksz, m);
		goto out;
	}
	rc = fzap_remove(&z, &k, removed, cap);
	if (rc == 0 && z.err == 0)
		rc = zw_flush(&z);
out:
	zw_fini(&z);
	free(norm);
	free(m);
	return rc;
}

int zapw_count(zap_store_t *st, uint64_t obj, uint64_t *count)
{
	unsigned type;
	uint64_t blksz;
	uint8_t *m;
	int rc = read_block0(st, obj, &type, &blksz, &m);
	if (rc)
		return rc;
	if (le64(m) == ZBT_MICRO) {
		uint64_t n = blksz / MZAP_ENT_LEN - 1, used = 0;
		for (uint64_t i = 0; i < n; i++)
			used += mze_at(m, i)[14] != 0;
		*count = used;
	} else if (le64(m) == ZBT_HEADER && le64(m + ZH_MAGIC) == ZAP_MAGIC) {
		*count = le64(m + ZH_NUM_ENTRIES);
	} else {
		rc = -ZFUSE_E_CORRUPT;
	}
	free(m);
	return rc;
}

/* ---- the DMU store and the public API ------------------------------------ */

static int dmu_stat(void *ctx, uint64_t obj, unsigned *type, uint64_t *blksz)
{
	struct zap_dmu_ctx *c = ctx;
	dnode_t dn;
	int rc = dnode_hold(c->os, obj, &dn);
	if (rc)
		return rc;
	*type = dn.type;
	*blksz = dnode_datablksz(&dn);
	dnode_rele(&dn);
	return 0;
}

static int dmu_rd(void *ctx, uint64_t obj, uint64_t off, uint64_t len, void *buf)
{
	struct zap_dmu_ctx *c = ctx;
	return dmu_read_object(c->os, obj, off, len, buf);
}

static int dmu_wr(void *ctx, uint64_t obj, uint64_t off, uint64_t len, const void *buf)
{
	struct zap_dmu_ctx *c = ctx;
	if (!c->tx)
		return -ZFUSE_E_ROFS;
	return dmu_write(c->os, obj, off, len, buf, c->tx);
}

static int dmu_setbs(void *ctx, uint64_t obj, uint64_t blksz)
{
	struct zap_dmu_ctx *c = ctx;
	if (!c->tx)
		return -ZFUSE_E_ROFS;
	return dmu_object_set_blocksize(c->os, obj, blksz, c->tx);
}

static int dmu_free(void *ctx, uint64_t obj, uint64_t off, uint64_t len)
{
	struct zap_dmu_ctx *c = ctx;
	if (!c->tx)
		return -ZFUSE_E_ROFS;
	return dmu_free_range(c->os, obj, off, len, c->tx);
}

static const struct zap_store_ops dmu_store_ops = {
	dmu_stat, dmu_rd, dmu_wr, dmu_setbs, dmu_free,
};

void zap_store_dmu(zap_store_t *st, struct zap_dmu_ctx *ctx, objset_t *os, dmu_tx_t *tx)
{
	ctx->os = os;
	ctx->tx = tx;
	st->ops = &dmu_store_ops;
	st->ctx = ctx;
}

int zap_create_flags(objset_t *os, uint64_t normflags, uint64_t zapflags, unsigned ot,
		     int leaf_blockshift, int indirect_blockshift, unsigned bonustype,
		     unsigned bonuslen, unsigned dnodesize, dmu_tx_t *tx, uint64_t *obj)
{
	/* dmu_object_alloc fixes indirect blocks at 128 KiB. */
	(void)indirect_blockshift;
	if (!dmu_ot_is_zap(ot) || leaf_blockshift < 0 || leaf_blockshift > 17)
		return -ZFUSE_E_INVAL;
	uint64_t blksz = 1ULL << leaf_blockshift;
	if (blksz < 512)
		blksz = 512;
	uint64_t o;
	int rc = dmu_object_alloc(os, ot, blksz, bonustype, bonuslen, dnodesize, tx, &o);
	if (rc)
		return rc;
	struct zap_dmu_ctx c;
	zap_store_t st;
	zap_store_dmu(&st, &c, os, tx);
	rc = zapw_init(&st, o, normflags, zapflags, 0);
	if (rc == 0)
		*obj = o;
	return rc;
}

int zap_create_norm(objset_t *os, uint64_t normflags, unsigned ot, unsigned bonustype,
		    unsigned bonuslen, unsigned dnodesize, dmu_tx_t *tx, uint64_t *obj)
{
	return zap_create_flags(os, normflags, 0, ot, 0, 0, bonustype, bonuslen, dnodesize, tx, obj);
}

int zap_create(objset_t *os, unsigned ot, unsigned bonustype, unsigned bonuslen, dmu_tx_t *tx,
	       uint64_t *obj)
{
	return zap_create_norm(os, 0, ot, bonustype, bonuslen, 0, tx, obj);
}

int zap_create_claim(objset_t *os, uint64_t obj, unsigned ot, unsigned bonustype, unsigned bonuslen,
		     dmu_tx_t *tx)
{
	if (!dmu_ot_is_zap(ot))
		return -ZFUSE_E_INVAL;
	int rc = dmu_object_claim(os, obj, ot, 512, bonustype, bonuslen, 0, tx);
	if (rc)
		return rc;
	struct zap_dmu_ctx c;
	zap_store_t st;
	zap_store_dmu(&st, &c, os, tx);
	return zapw_init(&st, obj, 0, 0, 0);
}

int zap_add(objset_t *os, uint64_t obj, const char *name, unsigned intlen, uint64_t numints,
	    const void *val, dmu_tx_t *tx)
{
	struct zap_dmu_ctx c;
	zap_store_t st;
	zap_store_dmu(&st, &c, os, tx);
	return zapw_put(&st, obj, name, intlen, numints, val, false);
}

int zap_update(objset_t *os, uint64_t obj, const char *name, unsigned intlen, uint64_t numints,
	       const void *val, dmu_tx_t *tx)
{
	struct zap_dmu_ctx c;
	zap_store_t st;
	zap_store_dmu(&st, &c, os, tx);
	return zapw_put(&st, obj, name, intlen, numints, val, true);
}

int zap_add_uint64(objset_t *os, uint64_t obj, const char *name, uint64_t v, dmu_tx_t *tx)
{
	return zap_add(os, obj, name, 8, 1, &v, tx);
}

int zap_update_uint64(objset_t *os, uint64_t obj, const char *name, uint64_t v, dmu_tx_t *tx)
{
	return zap_update(os, obj, name, 8, 1, &v, tx);
}

int zap_remove(objset_t *os, uint64_t obj, const char *name, dmu_tx_t *tx)
{
	struct zap_dmu_ctx c;
	zap_store_t st;
	zap_store_dmu(&st, &c, os, tx);
	return zapw_remove(&st, obj, name, false, NULL, 0);
}

int zap_remove_norm(objset_t *os, uint64_t obj, const char *name, dmu_tx_t *tx, char *removed,
		    size_t cap)
{
	struct zap_dmu_ctx c;
	zap_store_t st;
	zap_store_dmu(&st, &c, os, tx);
	return zapw_remove(&st, obj, name, true, removed, cap);
}

int zap_count(objset_t *os, uint64_t obj, uint64_t *count)
{
	struct zap_dmu_ctx c;
	zap_store_t st;
	zap_store_dmu(&st, &c, os, NULL);
	return zapw_count(&st, obj, count);
}
