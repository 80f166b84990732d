/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zap.c — the ZAP API (zap.h) over both kinds (object-layer.md §4): name
 * hashing and normalization, lookups and iteration, and the edits, each
 * handed to the micro ZAP (zap_micro.c) or the fat one (zap_fat.c, whose
 * leaves are zap_leaf.c's) by block 0's type. A micro edit that the micro
 * format cannot hold upgrades the object to fat here, then goes on fat.
 *
 * Normalized names (formC/formD, case folding) are prepared with
 * libunistring; OpenZFS hashes the prepared form, so lookups hash it too,
 * and fall back to comparing every entry's prepared form when a differing
 * Unicode table version would make the hash miss.
 *
 * Edits go through a zap_store (zap_impl.h): the DMU one below in
 * production, an in-memory one in the unit test, which replays the basic
 * fixture's 3000-entry directory and gets OpenZFS 2.3.2's blocks byte for
 * byte (micro growth, upgrade, splits).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unicase.h>
#include <uninorm.h>
#include <unistr.h>
#include "byteorder.h"
#include "dbuf.h"
#include "dmu_tx.h"
#include "dmu_types.h"
#include "zap.h"
#include "zap_impl.h"
#include "zap_leaf.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define ZFS_CRC64_POLY 0xC96C5795D7870F42ULL

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

/* Both block-0 layouts (mzap_phys, zap_phys) open with their block type,
 * which says which of the two the rest is. */
static uint64_t block_type(const uint8_t *blk0)
{
	return le64(blk0);
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
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	}
	const uint8_t *p = b->data;
	info->block_shift = log2_exact(b->size);
	if (block_type(p) == ZBT_MICRO)
		mzap_get_info(p, info);
	else
		rc = fzap_get_info(p, b->size, info);
	dbuf_rele(dn, b);
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
	struct zap_found *f;
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

static int zap_find(dnode_t *dn, const char *name, bool normalized, struct zap_found *f)
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
	if (info.micro)
		return mzap_find_entry(dn, &info, m.norm ? NULL : name, name_matches, &m, f);
	/* Normalized fat lookups that missed their bucket get a full scan
	 * (Unicode table versions may differ). */
	struct scan_arg s = { &m, f, false };
	rc = zap_iterate(dn, 0, 0, scan_cb, &s);
	if (rc < 0)
		return rc;
	return s.hit ? 0 : -ZFUSE_E_NOENT;
}

static int copy_value(const struct zap_found *f, unsigned intlen, uint64_t numints, void *out)
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

/* The found entry (9 KiB) lives on the stack: a malloc of it made glibc
 * consolidate its fast bins on every lookup of every create. */
int zap_lookup(dnode_t *dn, const char *name, unsigned intlen, uint64_t numints, void *out)
{
	struct zap_found found, *f = &found;
	int rc = zap_find(dn, name, false, f);
	if (rc == 0)
		rc = copy_value(f, intlen, numints, out);
	return rc;
}

int zap_lookup_uint64(dnode_t *dn, const char *name, uint64_t *value)
{
	return zap_lookup(dn, name, 8, 1, value);
}

int zap_lookup_length(dnode_t *dn, const char *name, unsigned *intlen, uint64_t *numints)
{
	struct zap_found found, *f = &found;
	int rc = zap_find(dn, name, false, f);
	if (rc == 0) {
		*intlen = f->ze.value_intlen;
		*numints = f->ze.value_numints;
	}
	return rc;
}

int zap_lookup_norm(dnode_t *dn, const char *name, uint64_t *value, char *found_name, size_t cap)
{
	struct zap_found found, *f = &found;
	int rc = zap_find(dn, name, true, f);
	if (rc == 0) {
		rc = copy_value(f, 8, 1, value);
		if (rc == -ZFUSE_E_RANGE)
			rc = 0;
		if (found_name && cap)
			snprintf(found_name, cap, "%s", f->ze.name);
	}
	return rc;
}

/* ---- editing ------------------------------------------------------------ */

unsigned zap_log2_floor(uint64_t v)
{
	unsigned s = 0;
	while (v > 1) {
		v >>= 1;
		s++;
	}
	return s;
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

static int read_block0(zap_store_t *st, uint64_t obj, unsigned *type, uint64_t *blksz, uint8_t **buf)
{
	int rc = st->ops->stat(st->ctx, obj, type, blksz);
	if (rc)
		return rc;
	if (!dmu_ot_is_zap(*type))
		return -ZFUSE_E_INVAL;
	if (*blksz < 512 || *blksz > (1u << 24))
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	/* Room for a micro block's growth by 512 bytes: mzap_put's realloc
	 * then stays in place instead of copying up to 128 KiB. */
	*buf = malloc(*blksz + 512);
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
		mzap_format(m, salt, normflags);
		rc = st->ops->write(st->ctx, obj, 0, blksz, m);
		free(m);
		return rc;
	}
	/* Flags need a fat ZAP at once, in blocks of the size the object has. */
	unsigned bs = zap_log2_floor(blksz);
	if ((1ULL << bs) != blksz || bs > 17)
		return -ZFUSE_E_INVAL;
	zw_t z;
	zw_setup(&z, st, obj, type, bs, salt, normflags, zapflags);
	rc = fzap_format(&z);
	if (rc == 0)
		rc = zw_flush(&z);
	zw_fini(&z);
	return rc;
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
	zap_leaf_encode_value(intlen, numints, val, be);
	struct zval v = { intlen, numints, be };
	zw_t z;
	memset(&z, 0, sizeof(z));
	if (block_type(m) == ZBT_MICRO) {
		struct zkey k = { name, len, 0, NULL, 0 };
		rc = mzap_put(st, obj, &m, &blksz, &k, intlen, numints, val, update);
		if (rc != ZAP_AGAIN)
			goto out;
		/* Become fat: 16 KiB blocks, then the pending change. */
		rc = st->ops->set_blocksize(st->ctx, obj, 1ULL << ZAP_DEFAULT_LEAF_SHIFT);
		if (rc == 0)
			rc = mzap_upgrade(&z, st, obj, type, m, blksz, 0, ZAP_DEFAULT_LEAF_SHIFT);
		if (rc)
			goto out;
	} else {
		if ((rc = fzap_open(&z, st, obj, type, blksz)) != 0)
			goto out;
	}
	struct zkey k = { name, len, zap_hash_name(&z.info, name), NULL, 0 };
	rc = update ? fzap_update(&z, &k, &v) : fzap_add_cd(&z, &k, &v, ZAP_NEED_CD);
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
	memset(&info, 0, sizeof(info));
	bool micro = block_type(m) == ZBT_MICRO;
	if (micro) {
		mzap_get_info(m, &info);
	} else {
		if ((rc = fzap_open(&z, st, obj, type, blksz)) != 0)
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
	struct zkey k = { name, len, zap_hash_name(&info, name), norm, info.normflags };
	if (micro)
		rc = mzap_remove(st, obj, m, blksz, &info, &k, removed, cap);
	else if ((rc = fzap_remove(&z, &k, removed, cap)) == 0 && z.err == 0)
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
	if (block_type(m) == ZBT_MICRO)
		*count = mzap_count(m, blksz);
	else
		rc = fzap_count(m, count);
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

static int dmu_put(objset_t *os, uint64_t obj, const char *name, unsigned intlen,
		   uint64_t numints, const void *val, dmu_tx_t *tx, bool update)
{
	struct zap_dmu_ctx c;
	zap_store_t st;
	zap_store_dmu(&st, &c, os, tx);
	return zapw_put(&st, obj, name, intlen, numints, val, update);
}

static int dmu_remove(objset_t *os, uint64_t obj, const char *name, dmu_tx_t *tx, bool normalized,
		      char *removed, size_t cap)
{
	struct zap_dmu_ctx c;
	zap_store_t st;
	zap_store_dmu(&st, &c, os, tx);
	return zapw_remove(&st, obj, name, normalized, removed, cap);
}

int zap_add(objset_t *os, uint64_t obj, const char *name, unsigned intlen, uint64_t numints,
	    const void *val, dmu_tx_t *tx)
{
	return dmu_put(os, obj, name, intlen, numints, val, tx, false);
}

int zap_update(objset_t *os, uint64_t obj, const char *name, unsigned intlen, uint64_t numints,
	       const void *val, dmu_tx_t *tx)
{
	return dmu_put(os, obj, name, intlen, numints, val, tx, true);
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
	return dmu_remove(os, obj, name, tx, false, NULL, 0);
}

int zap_remove_norm(objset_t *os, uint64_t obj, const char *name, dmu_tx_t *tx, char *removed,
		    size_t cap)
{
	return dmu_remove(os, obj, name, tx, true, removed, cap);
}

int zap_count(objset_t *os, uint64_t obj, uint64_t *count)
{
	struct zap_dmu_ctx c;
	zap_store_t st;
	zap_store_dmu(&st, &c, os, NULL);
	return zapw_count(&st, obj, count);
}
