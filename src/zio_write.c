/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zio_write.c — the write pipeline for one block (contract in zio_write.h).
 *
 * Compression follows OpenZFS 2.3's rule exactly (the output limit is
 * rounded down to the allocation granule, so a result that cannot save a
 * whole sector is never kept), because psize decides space accounting
 * and OpenZFS must agree with our numbers.
 */
#include <stdlib.h>
#include <string.h>
#include "arc.h"
#include "metaslab.h"
#include "spa_misc.h"
#include "vdev.h"
#include "zio.h"
#include "zio_buf.h"
#include "zio_compress.h"
#include "zio_crypt.h"
#include "dmu_types.h"
#include "byteorder.h"
#include "taskq.h"
#include "zio_write.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define BPE_MAX_PSIZE BPE_PAYLOAD_SIZE
#define GANG_HEADER_SIZE 512

static inline void set_bits(uint64_t *w, unsigned lo, unsigned len, uint64_t v)
{
	uint64_t mask = ((len == 64) ? ~0ULL : ((1ULL << len) - 1)) << lo;
	*w = (*w & ~mask) | ((v << lo) & mask);
}

void bp_store(void *dst, const blkptr_t *bp)
{
	memcpy(dst, bp, sizeof(*bp));	/* host order is the pools' LE order here */
}

void zio_hole_bp(blkptr_t *bp, unsigned type, unsigned level, uint64_t lsize, uint64_t birth)
{
	memset(bp, 0, sizeof(*bp));
	if (!birth)
		return;
	set_bits(&bp->blk_prop, 0, 16, (lsize >> SPA_MINBLOCKSHIFT) - 1);
	set_bits(&bp->blk_prop, 48, 8, type);
	set_bits(&bp->blk_prop, 56, 5, level);
	bp->blk_birth = birth;
}

static bool all_zero(const void *data, uint64_t n)
{
	const uint64_t *w = data;
	uint64_t i = 0;
	for (; i + 8 <= n; i += 8)
		if (w[i / 8])
			return false;
	for (const uint8_t *b = data; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Smallest allocation and its granule over the normal top-level vdevs. */
static void alloc_granule(const spa_t *spa, uint64_t *min_alloc, uint64_t *gcd_alloc)
{
	uint64_t mn = 0, g = 0;
	for (uint64_t i = 0; i < spa->root->nchild; i++) {
		const vdev_t *top = spa->root->child[i];
		if (top->kind == VDEV_KIND_HOLE || top->is_log)
			continue;
		uint64_t a = 1ULL << (top->ashift ? top->ashift : 9);
		if (!mn || a < mn)
			mn = a;
		uint64_t x = g, y = a;
		while (y) {
			uint64_t t = x % y;
			x = y;
			y = t;
		}
		g = g ? x : a;
	}
	*min_alloc = mn ? mn : 512;
	*gcd_alloc = g ? g : 512;
}

static void fill_embedded(blkptr_t *bp, const struct zio_write_props *zp, const uint8_t *payload,
			  uint64_t psize, uint64_t lsize, unsigned compress, uint64_t txg)
{
	memset(bp, 0, sizeof(*bp));
	uint64_t *w = (uint64_t *)bp;
	uint8_t padded[BPE_PAYLOAD_SIZE] = { 0 };
	VERIFY3U(psize, <=, BPE_PAYLOAD_SIZE);
	memcpy(padded, payload, psize);
	size_t n = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 6 || i == 10)
			continue;
		memcpy(&w[i], padded + n, 8);
		n += 8;
	}
	set_bits(&bp->blk_prop, 0, 25, lsize - 1);
	set_bits(&bp->blk_prop, 25, 7, psize - 1);
	set_bits(&bp->blk_prop, 32, 7, compress);
	set_bits(&bp->blk_prop, 39, 1, 1);
	set_bits(&bp->blk_prop, 40, 8, 0);	/* BP_EMBEDDED_TYPE_DATA */
	set_bits(&bp->blk_prop, 48, 8, zp->type);
	set_bits(&bp->blk_prop, 56, 5, zp->level);
	set_bits(&bp->blk_prop, 63, 1, 1);	/* little-endian contents */
	bp->blk_birth = txg;
}

/* ---- gang blocks (pool-layer.md §5.4) ------------------------------------ */

#define GANG_PIECES 3
#define GANG_MAX_DEPTH 8

static int write_dvas(spa_t *spa, const blkptr_t *bp, const void *data, uint64_t psize)
{
	for (int d = 0; d < bp_count_dvas_max(bp); d++) {
		const dva_t *dva = &bp->blk_dva[d];
		if (!dva_is_valid(dva))
			continue;
		vdev_t *top = spa_lookup_top(spa, dva_vdev(dva));
		int rc = top ? vdev_write(top, dva_offset(dva), data, psize) : SET_ERROR(-ZFUSE_E_CORRUPT);
		if (rc)
			return rc;
	}
	return 0;
}

static int write_raw_piece(spa_t *spa, uint64_t txg, unsigned checksum, int copies, const uint8_t *data,
			   uint64_t size, blkptr_t *bp, int depth);

/*
 * No extent of psize is free: store the block as up to three pieces under
 * a 512-byte header (at most max_dvas copies). bp gets gang DVAs (header copy, asize = header plus
 * the pieces' copies); the caller fills the rest of bp as for any block.
 */
static int write_gang(spa_t *spa, uint64_t txg, unsigned checksum, int copies, int max_dvas,
		      const uint8_t *data, uint64_t psize, blkptr_t *bp, int depth)
{
	if (depth >= GANG_MAX_DEPTH || psize <= SPA_MINBLOCKSIZE)
		return -ZFUSE_E_NOSPC;
	int hcopies = copies + 1 > max_dvas ? max_dvas : copies + 1;
	blkptr_t hdr_bp;
	memset(&hdr_bp, 0, sizeof(hdr_bp));
	int rc = metaslab_alloc(spa, GANG_HEADER_SIZE, hcopies, txg, &hdr_bp);
	if (rc)
		return rc;
	blkptr_t child[GANG_PIECES];
	memset(child, 0, sizeof(child));
	uint64_t piece = ((psize / GANG_PIECES + SPA_MINBLOCKSIZE - 1) / SPA_MINBLOCKSIZE) * SPA_MINBLOCKSIZE;
	uint64_t done = 0;
	int n = 0;
	for (; n < GANG_PIECES && done < psize && rc == 0; n++) {
		uint64_t len = n == GANG_PIECES - 1 || psize - done < piece ? psize - done : piece;
		rc = write_raw_piece(spa, txg, checksum, copies, data + done, len, &child[n], depth + 1);
		done += len;
	}
	if (rc == 0 && done != psize)
		rc = -ZFUSE_E_NOSPC;
	if (rc) {
		for (int i = 0; i < n; i++)
			zio_free_bp(spa, &child[i], txg);
		for (int d = 0; d < hcopies; d++)
			metaslab_free_dva(spa, &hdr_bp.blk_dva[d], txg);
		return rc;
	}
	/* The header, with its trailer checksummed against copy 0's place. */
	uint8_t hdr[GANG_HEADER_SIZE];
	memset(hdr, 0, sizeof(hdr));
	for (int i = 0; i < n; i++)
		bp_store(hdr + i * sizeof(blkptr_t), &child[i]);
	const dva_t *d0 = &hdr_bp.blk_dva[0];
	zio_cksum_t verifier = { { dva_vdev(d0), dva_offset(d0), txg, 0 } };
	if ((rc = zio_checksum_fill_embedded(ZIO_CHECKSUM_GANG_HEADER, hdr, sizeof(hdr), &verifier)) == 0)
		rc = write_dvas(spa, &hdr_bp, hdr, sizeof(hdr));
	if (rc)
		return rc;
	for (int d = 0; d < hcopies; d++) {
		dva_t g = hdr_bp.blk_dva[d];
		uint64_t asize = dva_asize(&g);
		for (int i = 0; i < n; i++)
			if (dva_is_valid(&child[i].blk_dva[d]))
				asize += dva_asize(&child[i].blk_dva[d]);
		set_bits(&g.dva_word[0], 0, 24, asize >> SPA_MINBLOCKSHIFT);
		set_bits(&g.dva_word[1], 63, 1, 1);
		bp->blk_dva[d] = g;
	}
	return 0;
}

/* A gang piece: raw (no compression), its own checksum, or a gang again. */
static int write_raw_piece(spa_t *spa, uint64_t txg, unsigned checksum, int copies, const uint8_t *data,
			   uint64_t size, blkptr_t *bp, int depth)
{
	memset(bp, 0, sizeof(*bp));
	int rc = metaslab_alloc(spa, size, copies, txg, bp);
	if (rc == -ZFUSE_E_NOSPC)
		rc = write_gang(spa, txg, checksum, copies, SPA_DVAS_PER_BP, data, size, bp, depth);
	else if (rc == 0)
		rc = write_dvas(spa, bp, data, size);
	if (rc)
		return rc;
	set_bits(&bp->blk_prop, 0, 16, (size >> SPA_MINBLOCKSHIFT) - 1);
	set_bits(&bp->blk_prop, 16, 16, (size >> SPA_MINBLOCKSHIFT) - 1);
	set_bits(&bp->blk_prop, 32, 7, ZIO_COMPRESS_OFF);
	set_bits(&bp->blk_prop, 40, 8, checksum);
	set_bits(&bp->blk_prop, 63, 1, 1);
	bp->blk_birth = txg;
	bp->blk_fill = 1;
	return zio_checksum_compute(checksum, data, size, spa->have_salt ? &spa->salt : NULL, &bp->blk_cksum);
}

/*
 * Native encryption, after compression and before the checksum (which is
 * of what is stored): OpenZFS's zio_encrypt. Indirect blocks carry the
 * checksum of their children's MACs (of the logical block); objset blocks
 * hold their own MACs; other unencrypted types are authenticated with an
 * HMAC of the stored bytes; the rest is encrypted.
 */
static int crypt_step(const struct zio_write_props *zp, const void *data, uint64_t lsize,
		      struct zio_prepared *pr)
{
	pr->crypt = true;
	if (!zp->key)
		return zp->type == DMU_OT_OBJSET ? 0 : SET_ERROR(-ZFUSE_E_ACCESS);
	if (zp->level > 0)
		return zio_crypt_indirect_mac(zp->key->version, data, lsize, pr->mac);
	if (zp->type == DMU_OT_OBJSET)
		return 0;
	if (!dmu_ot_is_encrypted(zp->type))
		return zio_crypt_auth_mac(zp->key, pr->payload, pr->psize, pr->mac);
	/* from the buffer cache: a fresh 128K malloc is a fresh mapping */
	if (!(pr->ebuf = zio_data_buf_alloc(pr->psize)))
		return -ZFUSE_E_NOMEM;
	int rc = zio_crypt_encrypt(zp->key, zp->type, pr->payload, pr->ebuf, pr->psize, pr->salt,
				   pr->iv, pr->mac);
	if (rc)
		return rc;
	pr->encrypted = true;
	pr->payload = pr->ebuf;
	return 0;
}

int zio_write_prepare(spa_t *spa, const struct zio_write_props *zp, const void *data, uint64_t lsize,
		      struct zio_prepared *pr)
{
	memset(pr, 0, sizeof(*pr));
	pr->compress = ZIO_COMPRESS_OFF;
	pr->psize = lsize;
	pr->payload = data;
	if (zp->zero_is_hole && all_zero(data, lsize)) {
		pr->hole = true;
		return 0;
	}
	unsigned compress = zp->compress;
	if (compress == ZIO_COMPRESS_OFF || compress == ZIO_COMPRESS_INHERIT)
		goto checksum;
	uint64_t min_alloc, gcd_alloc;
	alloc_granule(spa, &min_alloc, &gcd_alloc);
	uint64_t limit = lsize - lsize / 8;
	if (compress != ZIO_COMPRESS_ZLE) {
		limit -= limit % gcd_alloc;
		if (limit < min_alloc)
			limit = BPE_MAX_PSIZE;
	}
	/* recycled, as the dirty blocks: a fresh 128K malloc in a worker
	 * thread is fresh pages the kernel zeroes (28% of the daemon's time
	 * in an lz4 write stream went there) */
	if (!(pr->cbuf = zio_data_buf_alloc(lsize)))
		return -ZFUSE_E_NOMEM;
	pr->cbuf_size = lsize;
	long c = zio_compress(compress, zp->complevel, data, lsize, pr->cbuf, limit);
	if (c <= 0 || (uint64_t)c >= lsize)
		goto checksum;
	if ((uint64_t)c <= BPE_MAX_PSIZE && zp->embed && zp->level == 0) {
		pr->embedded = true;
		pr->compress = compress;
		pr->psize = (uint64_t)c;
		pr->payload = pr->cbuf;
		return 0;
	}
	uint64_t p = (uint64_t)c <= min_alloc ? min_alloc
		   : ((uint64_t)c + gcd_alloc - 1) / gcd_alloc * gcd_alloc;
	if (p < lsize) {
		memset(pr->cbuf + c, 0, p - (uint64_t)c);
		pr->psize = p;
		pr->payload = pr->cbuf;
		pr->compress = compress;
	}
checksum:
	if (zp->key || zp->crypt_raw) {
		int rc = crypt_step(zp, data, lsize, pr);
		if (rc)
			return rc;
	}
	int rc = zio_checksum_compute(zp->checksum, pr->payload, pr->psize,
				      spa->have_salt ? &spa->salt : NULL, &pr->cksum);
	if (rc == 0 && pr->crypt && zp->type != DMU_OT_OBJSET) {
		/* 128 bits of checksum (non-cryptographic ones folded), the MAC
		 * in the other half, as OpenZFS's zio_checksum_compute. */
		if (!zio_checksum_dedup_capable(zp->checksum)) {
			pr->cksum.zc_word[0] ^= pr->cksum.zc_word[2];
			pr->cksum.zc_word[1] ^= pr->cksum.zc_word[3];
		}
		pr->cksum.zc_word[2] = le64(pr->mac);
		pr->cksum.zc_word[3] = le64(pr->mac + 8);
	}
	return rc;
}

void zio_prepared_release(struct zio_prepared *pr)
{
	zio_data_buf_free(pr->cbuf, pr->cbuf_size);
	pr->cbuf = NULL;
	zio_data_buf_free(pr->ebuf, pr->psize);
	pr->ebuf = NULL;
}

static int queue_push(struct zio_write_queue *q, const blkptr_t *bp, const uint8_t *payload,
		      uint64_t psize, const struct zio_prepared *pr, uint64_t lsize)
{
	if (q->n == q->cap) {
		size_t nc = q->cap ? q->cap * 2 : 256;
		struct zio_deferred_write *nv = realloc(q->v, nc * sizeof(*nv));
		if (!nv)
			return -ZFUSE_E_NOMEM;
		q->v = nv;
		q->cap = nc;
	}
	q->v[q->n++] = (struct zio_deferred_write){ *bp, payload, psize, pr->cache, pr->cache_hold,
						    lsize };
	return 0;
}

static void queue_job(void *arg, uint64_t i)
{
	struct zio_write_queue *q = arg;
	const struct zio_deferred_write *w = &q->v[i];
	int rc = write_dvas(q->spa, &w->bp, w->payload, w->psize);
	int none = 0;
	if (rc)
		__atomic_compare_exchange_n(&q->rc, &none, rc, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	else if (w->cache && w->cache_hold)
		*w->cache_hold = arc_adopt(q->spa, &w->bp, w->cache, w->lsize);
}

int zio_write_queue_issue(spa_t *spa, struct zio_write_queue *q)
{
	q->spa = spa;
	q->rc = 0;
	taskq_run(q->n, queue_job, q);
	q->n = 0;
	return q->rc;
}

void zio_write_queue_free(struct zio_write_queue *q)
{
	free(q->v);
	memset(q, 0, sizeof(*q));
}

int zio_write_prepared(spa_t *spa, uint64_t txg, const struct zio_write_props *zp,
		       const struct zio_prepared *pr, uint64_t lsize, const blkptr_t *old, blkptr_t *bp,
		       bool *rewrote, struct zio_write_queue *defer)
{
	*rewrote = false;
	if (pr->hole) {
		/* hole_birth: a hole that replaced a block remembers when. */
		bool had_block = old && (!bp_is_hole(old) || old->blk_birth);
		zio_hole_bp(bp, zp->type, zp->level, lsize, had_block ? txg : 0);
		return 0;
	}
	if (pr->embedded) {
		fill_embedded(bp, zp, pr->payload, pr->psize, lsize, pr->compress, txg);
		return 0;
	}
	uint64_t psize = pr->psize;
	memset(bp, 0, sizeof(*bp));
	int rc = 0;
	bool in_place = old && !bp_is_hole(old) && !bp_is_embedded(old) && old->blk_birth == txg &&
			bp_get_psize(old) == psize && bp_count_dvas(old) == zp->copies &&
			!dva_is_gang(&old->blk_dva[0]);
	if (in_place) {
		memcpy(bp->blk_dva, old->blk_dva, sizeof(bp->blk_dva));
		*rewrote = true;
	} else if (spa->tunables.force_ganging && psize >= spa->tunables.force_ganging &&
		   psize > SPA_MINBLOCKSIZE) {
		/* testing aid (tunables.c): as if no contiguous extent were left */
		rc = -ZFUSE_E_NOSPC;
	} else {
		rc = metaslab_alloc(spa, psize, zp->copies, txg, bp);
	}
	bool ganged = false;
	if (rc == -ZFUSE_E_NOSPC && !in_place) {
		/* No contiguous extent: pieces under a gang header. */
		memset(bp, 0, sizeof(*bp));
		/* an encrypted bp's header copies leave DVA[2] to salt and IV */
		rc = write_gang(spa, txg, zp->checksum, zp->copies,
				pr->encrypted ? SPA_DVAS_PER_BP - 1 : SPA_DVAS_PER_BP, pr->payload,
				psize, bp, 0);
		ganged = rc == 0;
	}
	if (rc == 0) {
		set_bits(&bp->blk_prop, 0, 16, (lsize >> SPA_MINBLOCKSHIFT) - 1);
		set_bits(&bp->blk_prop, 16, 16, (psize >> SPA_MINBLOCKSHIFT) - 1);
		set_bits(&bp->blk_prop, 32, 7, pr->compress);
		set_bits(&bp->blk_prop, 40, 8, zp->checksum);
		set_bits(&bp->blk_prop, 48, 8, zp->type);
		set_bits(&bp->blk_prop, 56, 5, zp->level);
		set_bits(&bp->blk_prop, 63, 1, 1);
		bp->blk_birth = txg;
		bp->blk_fill = 1;
		bp->blk_cksum = pr->cksum;
		if (pr->crypt)
			set_bits(&bp->blk_prop, 61, 1, 1);
		if (pr->encrypted) {
			/* salt and IV[0..8) in DVA[2], IV[8..12) atop the fill */
			bp->blk_dva[2].dva_word[0] = le64(pr->salt);
			bp->blk_dva[2].dva_word[1] = le64(pr->iv);
			bp->blk_fill |= (uint64_t)le32(pr->iv + 8) << 32;
		}
	}
	if (rc == 0 && !ganged)
		rc = defer && !in_place ? queue_push(defer, bp, pr->payload, psize, pr, lsize)
					: write_dvas(spa, bp, pr->payload, psize);
	if (rc == 0)
		arc_invalidate(spa, bp);	/* same DVA and birth as a stale copy */
	if (rc && !in_place && bp_count_dvas(bp))
		zio_free_bp(spa, bp, txg);
	return rc;
}

void zio_free_bp(spa_t *spa, const blkptr_t *bp, uint64_t txg)
{
	if (bp_is_hole(bp) || bp_is_embedded(bp))
		return;
	/* No one reads a freed block again: its cached copy would only push
	 * live blocks out (OpenZFS's arc_freed), and its memory is reused
	 * while still warm. */
	arc_invalidate(spa, bp);
	/* An encrypted bp keeps salt and IV where DVA[2] would be. */
	for (int d = 0; d < bp_count_dvas_max(bp); d++) {
		dva_t hdr_only = bp->blk_dva[d];
		const dva_t *dva = &hdr_only;
		if (!dva_is_valid(dva))
			continue;
		if (dva_is_gang(dva)) {
			/* A gang DVA's asize counts the pieces too; at its offset
			 * lies only the header. */
			vdev_t *top = spa_lookup_top(spa, dva_vdev(dva));
			uint64_t hsize = top ? vdev_psize_to_asize(top, GANG_HEADER_SIZE) : GANG_HEADER_SIZE;
			set_bits(&hdr_only.dva_word[0], 0, 24, hsize >> SPA_MINBLOCKSHIFT);
		}
		if (dva_is_gang(dva) && d == 0) {
			/* The header lists the pieces; free them, then the header. */
			uint8_t hdr[GANG_HEADER_SIZE];
			if (zio_read_gang_header(spa, bp, hdr) == 0) {
				for (int i = 0; i < 3; i++) {
					blkptr_t child;
					memcpy(&child, hdr + i * sizeof(blkptr_t), sizeof(child));
					zio_free_bp(spa, &child, txg);
				}
			}
		}
		metaslab_free_dva(spa, dva, txg);
	}
}
