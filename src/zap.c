/*
 * zap.c — reading micro and fat ZAPs. Every chunk index, chain and array
 * length read from a leaf is bounded by the leaf's chunk count, so a
 * corrupt leaf yields ZFUSE_E_CORRUPT rather than a wild read or a loop.
 * Normalized names (formC/formD, case folding) are prepared with
 * libunistring; OpenZFS hashes the prepared form, so lookups hash it too,
 * and fall back to comparing every entry's prepared form when a differing
 * Unicode table version would make the hash miss.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <uninorm.h>
#include <unistr.h>
#include "byteorder.h"
#include "dmu_types.h"
#include "zap.h"
#include "zfuse/errors.h"

#define ZFS_CRC64_POLY 0xC96C5795D7870F42ULL
#define ZAP_CHUNK_ENTRY 252
#define ZAP_CHUNK_ARRAY 251
#define ZAP_CHUNK_FREE 253
#define ZAP_LEAF_ARRAY_BYTES 21
#define CHAIN_END 0xffff
#define ZAP_LEAF_CHUNKSIZE 24

static uint64_t crc64_table[256];
static pthread_once_t crc64_once = PTHREAD_ONCE_INIT;

static void crc64_init(void)
{
	for (int i = 0; i < 256; i++) {
		uint64_t c = (uint64_t)i;
		for (int j = 0; j < 8; j++)
			c = (c >> 1) ^ ((c & 1) ? ZFS_CRC64_POLY : 0);
		crc64_table[i] = c;
	}
}

int zap_normalize(const char *name, uint64_t normflags, char *out, size_t cap)
{
	size_t len = strlen(name);
	if (normflags == 0 || u8_check((const uint8_t *)name, len) != NULL) {
		if (len + 1 > cap)
			return -ZFUSE_E_INVAL;
		memcpy(out, name, len + 1);
		return 0;
	}
	uint8_t *cur = (uint8_t *)strdup(name);
	size_t curlen = len;
	if (!cur)
		return -ZFUSE_E_NOMEM;
	if (normflags & U8_TEXTPREP_TOUPPER) {
		/* Simple (1:1) upper-casing per code point, as u8_textprep does. */
		uint8_t *up = malloc(len * 4 + 4);
		size_t n = 0;
		if (!up) {
			free(cur);
			return -ZFUSE_E_NOMEM;
		}
		const uint8_t *s = cur;
		while (s < cur + curlen) {
			ucs4_t uc;
			int l = u8_mbtouc(&uc, s, (size_t)(cur + curlen - s));
			int w = u8_uctomb(up + n, uc_toupper(uc), 6);
			n += w > 0 ? (size_t)w : 0;
			s += l > 0 ? l : 1;
		}
		free(cur);
		cur = up;
		curlen = n;
	}
	uint64_t form = normflags & (U8_TEXTPREP_NFD | U8_TEXTPREP_NFKD | 0x40);
	if (form) {
		uninorm_t nf = form == U8_TEXTPREP_NFD ? UNINORM_NFD :
			       form == U8_TEXTPREP_NFKD ? UNINORM_NFKD :
			       form == U8_TEXTPREP_NFC ? UNINORM_NFC : UNINORM_NFKC;
		size_t nlen = 0;
		uint8_t *normed = u8_normalize(nf, cur, curlen, NULL, &nlen);
		if (normed) {
			free(cur);
			cur = normed;
			curlen = nlen;
		}
	}
	int rc = 0;
	if (curlen + 1 > cap) {
		rc = -ZFUSE_E_INVAL;
	} else {
		memcpy(out, cur, curlen);
		out[curlen] = 0;
	}
	free(cur);
	return rc;
}

static uint64_t zap_hash_bytes(uint64_t salt, const uint8_t *p, size_t n, unsigned hashbits)
{
	pthread_once(&crc64_once, crc64_init);
	uint64_t h = salt;
	for (size_t i = 0; i < n; i++)
		h = (h >> 8) ^ crc64_table[(h ^ p[i]) & 0xff];
	return h & ~((1ULL << (64 - hashbits)) - 1);
}

uint64_t zap_hash_name(const zap_info_t *info, const char *name)
{
	char norm[ZAP_MAXNAMELEN_NEW * 4];
	const char *use = name;
	if (info->normflags && zap_normalize(name, info->normflags, norm, sizeof(norm)) == 0)
		use = norm;
	return zap_hash_bytes(info->salt, (const uint8_t *)use, strlen(use), info->hashbits);
}

static unsigned log2_exact(uint64_t v)
{
	unsigned s = 0;
	while ((1ULL << s) < v && s < 63)
		s++;
	return s;
}

int zap_get_info(dnode_t *dn, zap_info_t *info)
{
	memset(info, 0, sizeof(*info));
	if (!dmu_ot_is_zap(dn->type))
		return -ZFUSE_E_INVAL;
	arc_buf_t *b;
	int rc = dbuf_hold(dn, 0, 0, &b);
	if (rc)
		return rc;
	if (b->size < 128) {
		dbuf_rele(dn, b);
		return -ZFUSE_E_CORRUPT;
	}
	const uint8_t *p = b->data;
	uint64_t type = le64(p);
	info->block_shift = log2_exact(b->size);
	if (type == ZBT_MICRO) {
		info->micro = true;
		info->salt = le64(p + 8);
		info->normflags = le64(p + 16);
		info->hashbits = 28;
	} else if (type == ZBT_HEADER && le64(p + 8) == ZAP_MAGIC) {
		info->zt_blk = le64(p + 16);
		info->zt_numblks = le64(p + 24);
		info->zt_shift = le64(p + 32);
		info->freeblk = le64(p + 56);
		info->num_leafs = le64(p + 64);
		info->num_entries = le64(p + 72);
		info->salt = le64(p + 80);
		info->normflags = le64(p + 88);
		info->flags = le64(p + 96);
		info->hashbits = (info->flags & ZAP_FLAG_HASH64) ? 48 : 28;
		/* Blocks must be a power of two of at least 512 bytes; the
		 * pointer table geometry must fit what the block can hold. */
		if ((1ULL << info->block_shift) != b->size || info->block_shift < 9 ||
		    info->zt_shift > 48 ||
		    (info->zt_numblks == 0 && info->zt_shift > info->block_shift - 4) ||
		    (info->zt_numblks != 0 &&
		     info->zt_numblks << (info->block_shift - 3) < (1ULL << info->zt_shift)))
			rc = -ZFUSE_E_CORRUPT;
	} else {
		rc = -ZFUSE_E_CORRUPT;
	}
	dbuf_rele(dn, b);
	return rc;
}

/* ---- micro ZAP ---- */

struct mze {
	const uint8_t *chunk;
	uint64_t hash;
	uint32_t cd;
};

static int mze_cmp(const void *a, const void *b)
{
	const struct mze *x = a, *y = b;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->cd < y->cd ? -1 : x->cd > y->cd;
}

static void mze_fill(zap_entry_t *ze, const uint8_t *chunk, uint64_t hash, uint32_t cd, uint8_t *valbuf)
{
	memcpy(ze->name, chunk + 14, MZAP_NAME_LEN);
	ze->name[MZAP_NAME_LEN - 1] = 0;
	ze->hash = hash;
	ze->cd = cd;
	ze->value_intlen = 8;
	ze->value_numints = 1;
	ze->value_first = le64(chunk);
	memcpy(valbuf, chunk, 8);
	ze->value = valbuf;
}

static int mzap_iterate(dnode_t *dn, const zap_info_t *info, uint64_t start_hash,
			uint32_t start_cd, zap_iter_fn cb, void *arg)
{
	arc_buf_t *b;
	int rc = dbuf_hold(dn, 0, 0, &b);
	if (rc)
		return rc;
	size_t n = b->size / 64 - 1, m = 0;
	struct mze *v = calloc(n ? n : 1, sizeof(*v));
	zap_entry_t *ze = malloc(sizeof(*ze));
	if (!v || !ze) {
		free(v);
		free(ze);
		dbuf_rele(dn, b);
		return -ZFUSE_E_NOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const uint8_t *c = (const uint8_t *)b->data + 64 + i * 64;
		if (c[14] == 0)
			continue;
		char name[MZAP_NAME_LEN];
		memcpy(name, c + 14, MZAP_NAME_LEN);
		name[MZAP_NAME_LEN - 1] = 0;
		v[m].chunk = c;
		v[m].hash = zap_hash_name(info, name);
		v[m].cd = le32(c + 8);
		m++;
	}
	qsort(v, m, sizeof(*v), mze_cmp);
	rc = 0;
	for (size_t i = 0; i < m && rc == 0; i++) {
		if (v[i].hash < start_hash || (v[i].hash == start_hash && v[i].cd < start_cd))
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

/* ---- fat ZAP ---- */

struct leaf {
	const uint8_t *p;
	uint64_t size;
	unsigned bs;
	uint32_t nhash, nchunks;
	uint64_t prefix;
	unsigned prefix_len;
};

static const uint8_t *leaf_chunk(const struct leaf *l, uint32_t i)
{
	return l->p + 48 + 2ULL * l->nhash + (uint64_t)i * ZAP_LEAF_CHUNKSIZE;
}

static int leaf_open(struct leaf *l, const arc_buf_t *b, unsigned bs)
{
	l->p = b->data;
	l->size = b->size;
	l->bs = bs;
	if (b->size != (1ULL << bs) || le64(l->p) != ZBT_LEAF || le32(l->p + 24) != ZAP_LEAF_MAGIC)
		return -ZFUSE_E_CORRUPT;
	l->nhash = 1u << (bs - 5);
	l->nchunks = (uint32_t)(((1ULL << bs) - 2ULL * l->nhash) / ZAP_LEAF_CHUNKSIZE - 2);
	l->prefix = le64(l->p + 16);
	l->prefix_len = le16(l->p + 32);
	if (l->prefix_len > 64 - (bs - 5))
		return -ZFUSE_E_CORRUPT;
	return 0;
}

/* Read an array of n bytes (at most cap) from a chunk chain. */
static int leaf_read_array(const struct leaf *l, uint32_t chunk, uint64_t nbytes, uint8_t *out)
{
	uint64_t done = 0;
	uint32_t hops = 0;
	while (done < nbytes) {
		if (chunk >= l->nchunks || ++hops > l->nchunks)
			return -ZFUSE_E_CORRUPT;
		const uint8_t *c = leaf_chunk(l, chunk);
		if (c[0] != ZAP_CHUNK_ARRAY)
			return -ZFUSE_E_CORRUPT;
		uint64_t take = nbytes - done < ZAP_LEAF_ARRAY_BYTES ? nbytes - done : ZAP_LEAF_ARRAY_BYTES;
		memcpy(out + done, c + 1, take);
		done += take;
		chunk = le16(c + 22);
	}
	return 0;
}

/* Decode entry chunk i into ze; value bytes converted to host order. */
static int leaf_entry(const struct leaf *l, const uint8_t *e, zap_entry_t *ze, uint8_t *valbuf,
		      bool uint64_key)
{
	unsigned intlen = e[1];
	uint32_t name_chunk = le16(e + 4), name_n = le16(e + 6);
	uint32_t val_chunk = le16(e + 8), val_n = le16(e + 10);
	if (intlen != 1 && intlen != 2 && intlen != 4 && intlen != 8)
		return -ZFUSE_E_CORRUPT;
	if ((uint64_t)intlen * val_n > ZAP_MAXVALUELEN)
		return -ZFUSE_E_CORRUPT;
	ze->cd = le32(e + 12);
	ze->hash = le64(e + 16);
	ze->value_intlen = (uint8_t)intlen;
	ze->value_numints = val_n;
	ze->name[0] = 0;
	if (!uint64_key) {
		if (name_n == 0 || name_n > ZAP_MAXNAMELEN_NEW)
			return -ZFUSE_E_CORRUPT;
		int rc = leaf_read_array(l, name_chunk, name_n, (uint8_t *)ze->name);
		if (rc)
			return rc;
		ze->name[name_n - 1] = 0;
	}
	if (val_n) {
		uint8_t raw[ZAP_MAXVALUELEN];
		int rc = leaf_read_array(l, val_chunk, (uint64_t)intlen * val_n, raw);
		if (rc)
			return rc;
		for (uint32_t i = 0; i < val_n; i++) {
			const uint8_t *s = raw + (uint64_t)i * intlen;
			uint8_t *d = valbuf + (uint64_t)i * intlen;
			switch (intlen) {
			case 1: d[0] = s[0]; break;
			case 2: { uint16_t v = be16(s); memcpy(d, &v, 2); break; }
			case 4: { uint32_t v = be32(s); memcpy(d, &v, 4); break; }
			default: { uint64_t v = be64(s); memcpy(d, &v, 8); break; }
			}
		}
		switch (intlen) {
		case 1: ze->value_first = valbuf[0]; break;
		case 2: { uint16_t v; memcpy(&v, valbuf, 2); ze->value_first = v; break; }
		case 4: { uint32_t v; memcpy(&v, valbuf, 4); ze->value_first = v; break; }
		default: ze->value_first = le64(valbuf); break;
		}
	} else {
		ze->value_first = 0;
	}
	ze->value = valbuf;
	return 0;
}

static int fzap_ptrtbl_lookup(dnode_t *dn, const zap_info_t *info, uint64_t idx, uint64_t *blk)
{
	unsigned bs = info->block_shift;
	if (info->zt_numblks == 0) {
		arc_buf_t *b;
		int rc = dbuf_hold(dn, 0, 0, &b);
		if (rc)
			return rc;
		uint64_t off = (1ULL << (bs - 1)) + idx * 8;
		if (off + 8 > b->size)
			rc = -ZFUSE_E_CORRUPT;
		else
			*blk = le64((uint8_t *)b->data + off);
		dbuf_rele(dn, b);
		return rc;
	}
	uint64_t per = 1ULL << (bs - 3);
	arc_buf_t *b;
	int rc = dbuf_hold(dn, 0, info->zt_blk + idx / per, &b);
	if (rc)
		return rc;
	*blk = le64((uint8_t *)b->data + (idx % per) * 8);
	dbuf_rele(dn, b);
	return 0;
}

static int fzap_leaf_for_hash(dnode_t *dn, const zap_info_t *info, uint64_t h, arc_buf_t **out,
			      struct leaf *l)
{
	uint64_t idx = info->zt_shift ? h >> (64 - info->zt_shift) : 0;
	uint64_t blk;
	int rc = fzap_ptrtbl_lookup(dn, info, idx, &blk);
	if (rc)
		return rc;
	if (blk == 0 || blk > dn->maxblkid)
		return -ZFUSE_E_CORRUPT;
	rc = dbuf_hold(dn, 0, blk, out);
	if (rc)
		return rc;
	rc = leaf_open(l, *out, info->block_shift);
	if (rc == 0 && l->prefix_len && (h >> (64 - l->prefix_len)) != l->prefix)
		rc = -ZFUSE_E_CORRUPT;
	if (rc)
		dbuf_rele(dn, *out);
	return rc;
}

struct found {
	zap_entry_t ze;
	uint8_t val[ZAP_MAXVALUELEN];
};

/* Walk the bucket chain for h; call match() on entries with that hash. */
static int fzap_lookup_hash(dnode_t *dn, const zap_info_t *info, uint64_t h,
			    bool (*match)(void *, const zap_entry_t *), void *marg, struct found *f)
{
	arc_buf_t *b;
	struct leaf l;
	int rc = fzap_leaf_for_hash(dn, info, h, &b, &l);
	if (rc)
		return rc;
	uint32_t bucket = (uint32_t)((h >> (64 - (l.bs - 5) - l.prefix_len)) & (l.nhash - 1));
	uint32_t chunk = le16(l.p + 48 + 2ULL * bucket);
	uint32_t hops = 0;
	rc = -ZFUSE_E_NOENT;
	while (chunk != CHAIN_END) {
		if (chunk >= l.nchunks || ++hops > l.nchunks) {
			rc = -ZFUSE_E_CORRUPT;
			break;
		}
		const uint8_t *e = leaf_chunk(&l, chunk);
		if (e[0] != ZAP_CHUNK_ENTRY) {
			rc = -ZFUSE_E_CORRUPT;
			break;
		}
		if (le64(e + 16) == h) {
			int r = leaf_entry(&l, e, &f->ze, f->val, info->flags & ZAP_FLAG_UINT64_KEY);
			if (r) {
				rc = r;
				break;
			}
			if (match(marg, &f->ze)) {
				rc = 0;
				break;
			}
		}
		chunk = le16(e + 2);
	}
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
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->cd < y->cd ? -1 : x->cd > y->cd;
}

static int fzap_iterate(dnode_t *dn, const zap_info_t *info, uint64_t h, uint32_t cd,
			zap_iter_fn cb, void *arg)
{
	struct found *f = malloc(sizeof(*f));
	struct fzap_iter_ent *v = NULL;
	if (!f)
		return -ZFUSE_E_NOMEM;
	int rc = 0;
	uint64_t leaves_seen = 0;
	for (;;) {
		arc_buf_t *b;
		struct leaf l;
		rc = fzap_leaf_for_hash(dn, info, h, &b, &l);
		if (rc)
			break;
		if (++leaves_seen > info->num_leafs + 1 && leaves_seen > (1ULL << info->zt_shift) + 1) {
			dbuf_rele(dn, b);
			rc = -ZFUSE_E_CORRUPT;
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
			const uint8_t *e = leaf_chunk(&l, i);
			if (e[0] != ZAP_CHUNK_ENTRY)
				continue;
			uint64_t eh = le64(e + 16);
			uint32_t ecd = le32(e + 12);
			if (eh < h || (eh == h && ecd < cd))
				continue;
			v[m].hash = eh;
			v[m].cd = ecd;
			v[m].chunk = i;
			m++;
		}
		qsort(v, m, sizeof(*v), fie_cmp);
		for (size_t i = 0; i < m && rc == 0; i++) {
			rc = leaf_entry(&l, leaf_chunk(&l, v[i].chunk), &f->ze, f->val,
					info->flags & ZAP_FLAG_UINT64_KEY);
			if (rc == 0)
				rc = cb(arg, &f->ze);
		}
		unsigned plen = l.prefix_len;
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

int zap_iterate(dnode_t *dn, uint64_t start_hash, uint32_t start_cd, zap_iter_fn cb, void *arg)
{
	zap_info_t info;
	int rc = zap_get_info(dn, &info);
	if (rc)
		return rc;
	if (info.micro)
		return mzap_iterate(dn, &info, start_hash, start_cd, cb, arg);
	return fzap_iterate(dn, &info, start_hash, start_cd, cb, arg);
}

/* ---- lookups ---- */

struct match_arg {
	const char *name;	/* exact name */
	const char *norm;	/* normalized name, or NULL for exact matching */
	uint64_t normflags;
};

static bool name_matches(void *arg, const zap_entry_t *ze)
{
	struct match_arg *m = arg;
	if (!m->norm)
		return strcmp(ze->name, m->name) == 0;
	char buf[ZAP_MAXNAMELEN_NEW * 4];
	if (zap_normalize(ze->name, m->normflags, buf, sizeof(buf)) != 0)
		return false;
	return strcmp(buf, m->norm) == 0;
}

struct scan_arg {
	struct match_arg *m;
	struct found *f;
	bool hit;
};

static int scan_cb(void *arg, const zap_entry_t *ze)
{
	struct scan_arg *s = arg;
	if (!name_matches(s->m, ze))
		return 0;
	s->f->ze = *ze;
	memcpy(s->f->val, ze->value, (size_t)ze->value_intlen * ze->value_numints);
	s->f->ze.value = s->f->val;
	s->hit = true;
	return 1;
}

static int zap_find(dnode_t *dn, const char *name, bool normalized, struct found *f)
{
	zap_info_t info;
	int rc = zap_get_info(dn, &info);
	if (rc)
		return rc;
	if (strlen(name) >= ZAP_MAXNAMELEN_NEW)
		return -ZFUSE_E_NAMETOOLONG;
	if (info.flags & ZAP_FLAG_UINT64_KEY)
		return -ZFUSE_E_INVAL;
	char norm[ZAP_MAXNAMELEN_NEW * 4];
	struct match_arg m = { name, NULL, info.normflags };
	if (normalized && info.normflags) {
		if (zap_normalize(name, info.normflags, norm, sizeof(norm)) != 0)
			return -ZFUSE_E_NAMETOOLONG;
		m.norm = norm;
	}
	if (!info.micro) {
		uint64_t h = zap_hash_name(&info, name);
		rc = fzap_lookup_hash(dn, &info, h, name_matches, &m, f);
		if (rc != -ZFUSE_E_NOENT || !m.norm)
			return rc;
	}
	/* Micro ZAPs store no hash; normalized fat lookups that missed their
	 * bucket get a full scan (Unicode table versions may differ). */
	struct scan_arg s = { &m, f, false };
	rc = zap_iterate(dn, 0, 0, scan_cb, &s);
	if (rc < 0)
		return rc;
	return s.hit ? 0 : -ZFUSE_E_NOENT;
}

static int copy_value(const struct found *f, unsigned intlen, uint64_t numints, void *out)
{
	const zap_entry_t *ze = &f->ze;
	uint64_t n = ze->value_numints < numints ? ze->value_numints : numints;
	if (intlen == ze->value_intlen) {
		memcpy(out, f->val, n * intlen);
	} else if (intlen == 8) {
		/* Widen (callers ask for uint64 of narrower stored ints). */
		for (uint64_t i = 0; i < n; i++) {
			uint64_t v = 0;
			memcpy(&v, f->val + i * ze->value_intlen, ze->value_intlen);
			memcpy((uint8_t *)out + i * 8, &v, 8);
		}
	} else {
		return -ZFUSE_E_INVAL;
	}
	return ze->value_numints > numints ? -ZFUSE_E_RANGE : 0;
}

int zap_lookup(dnode_t *dn, const char *name, unsigned intlen, uint64_t numints, void *out)
{
	struct found *f = malloc(sizeof(*f));
	if (!f)
		return -ZFUSE_E_NOMEM;
	int rc = zap_find(dn, name, false, f);
	if (rc == 0)
		rc = copy_value(f, intlen, numints, out);
	free(f);
	return rc;
}

int zap_lookup_uint64(dnode_t *dn, const char *name, uint64_t *value)
{
	return zap_lookup(dn, name, 8, 1, value);
}

int zap_lookup_length(dnode_t *dn, const char *name, unsigned *intlen, uint64_t *numints)
{
	struct found *f = malloc(sizeof(*f));
	if (!f)
		return -ZFUSE_E_NOMEM;
	int rc = zap_find(dn, name, false, f);
	if (rc == 0) {
		*intlen = f->ze.value_intlen;
		*numints = f->ze.value_numints;
	}
	free(f);
	return rc;
}

int zap_lookup_norm(dnode_t *dn, const char *name, uint64_t *value, char *found_name, size_t cap)
{
	struct found *f = malloc(sizeof(*f));
	if (!f)
		return -ZFUSE_E_NOMEM;
	int rc = zap_find(dn, name, true, f);
	if (rc == 0) {
		rc = copy_value(f, 8, 1, value);
		if (rc == -ZFUSE_E_RANGE)
			rc = 0;
		if (found_name && cap)
			snprintf(found_name, cap, "%s", f->ze.name);
	}
	free(f);
	return rc;
}
