/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zio.c — the read pipeline for one block pointer. Every byte that leaves
 * this file has passed its checksum: a copy that fails is never returned,
 * the next DVA (and, below us, the next mirror side or RAID-Z
 * reconstruction) is tried instead. Sizes and vdev ids come from untrusted
 * disk and are bounded before anything is allocated.
 */
#include <stdlib.h>
#include <string.h>
#include "byteorder.h"
#include "dmu_byteswap.h"
#include "dmu_types.h"
#include "spa_misc.h"
#include "zio.h"
#include "zio_buf.h"
#include "zio_compress.h"
#include "zio_crypt.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define SPA_OLD_GANGBLOCKSIZE 512
#define SPA_GBH_NBLKPTRS 3
#define ZIO_GANG_MAX_DEPTH 8

#ifdef ZFUSE_FUZZING
void (*zio_fuzz_patch)(const blkptr_t *bp, int kind, void *data, uint64_t size);
#define FUZZ_PATCH(bp, kind, data, size) \
	do { \
		if (zio_fuzz_patch) \
			zio_fuzz_patch(bp, kind, data, size); \
	} while (0)
#else
#define FUZZ_PATCH(bp, kind, data, size) ((void)0)
#endif

bool zio_checksum_matches(const spa_t *spa, const blkptr_t *bp, const void *data, uint64_t size)
{
#ifdef ZFUSE_FUZZING
	if (zio_fuzz_ignore_checksums)
		return true;
#endif
	unsigned alg = bp_get_checksum(bp);
	if (alg == ZIO_CHECKSUM_OFF || alg == ZIO_CHECKSUM_NOPARITY)
		return true;
	zio_cksum_t c;
	const zio_cksum_salt_t *salt = spa->have_salt ? &spa->salt : NULL;
	if (zio_checksum_compute_bo(alg, data, size, salt, bp_should_byteswap(bp), &c) != 0)
		return false;
	const zio_cksum_t *want = &bp->blk_cksum;
	if (bp_uses_crypt(bp) && bp_get_type(bp) != DMU_OT_OBJSET) {
		/* Encrypted/authenticated bps keep only 128 bits of checksum;
		 * non-cryptographic ones fold the upper half in (§4.7). */
		if (!zio_checksum_dedup_capable(alg)) {
			c.zc_word[0] ^= c.zc_word[2];
			c.zc_word[1] ^= c.zc_word[3];
		}
		return c.zc_word[0] == want->zc_word[0] && c.zc_word[1] == want->zc_word[1];
	}
	return memcmp(&c, want, sizeof(c)) == 0;
}

struct verify_ctx {
	const spa_t *spa;
	const blkptr_t *bp;
};

static bool verify_block(void *arg, const void *data, uint64_t psize)
{
	struct verify_ctx *ctx = arg;
	return zio_checksum_matches(ctx->spa, ctx->bp, data, psize);
}

struct gang_verify_ctx {
	const blkptr_t *gang_bp;
};

static bool verify_gang_header(void *arg, const void *data, uint64_t size)
{
	struct gang_verify_ctx *ctx = arg;
	const dva_t *d = &ctx->gang_bp->blk_dva[0];
	zio_cksum_t verifier = { { dva_vdev(d), dva_offset(d), bp_physical_birth(ctx->gang_bp), 0 } };
	return zio_checksum_verify_embedded(ZIO_CHECKSUM_GANG_HEADER, data, size, &verifier) == 0;
}

static int zio_read_phys_depth(spa_t *spa, const blkptr_t *bp, void *out, int dva_index, int depth);

int zio_read_gang_header(spa_t *spa, const blkptr_t *bp, void *hdr)
{
	int rc = SET_ERROR(-ZFUSE_E_CORRUPT);
	for (int d = 0; d < SPA_DVAS_PER_BP && rc; d++) {
		const dva_t *dva = &bp->blk_dva[d];
		vdev_t *top = dva_is_valid(dva) && dva_is_gang(dva) ? spa_lookup_top(spa, dva_vdev(dva)) : NULL;
		if (!top)
			continue;
		struct gang_verify_ctx gctx = { bp };
		rc = vdev_read(top, dva_offset(dva), hdr, SPA_OLD_GANGBLOCKSIZE, verify_gang_header, &gctx);
		if (rc == 0)
			FUZZ_PATCH(bp, 1, hdr, SPA_OLD_GANGBLOCKSIZE);
	}
	if (rc == 0 && bp_should_byteswap(bp))
		byteswap_uint64_array(hdr, SPA_GBH_NBLKPTRS * sizeof(blkptr_t));
	return rc;
}

/* Reassemble a gang block through header copy dva (§5.3). */
static int zio_read_gang(spa_t *spa, const blkptr_t *bp, const dva_t *dva, void *out, int depth)
{
	if (depth >= ZIO_GANG_MAX_DEPTH)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	vdev_t *top = spa_lookup_top(spa, dva_vdev(dva));
	if (!top)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	uint8_t hdr[SPA_OLD_GANGBLOCKSIZE];
	struct gang_verify_ctx gctx = { bp };
	int rc = vdev_read(top, dva_offset(dva), hdr, sizeof(hdr), verify_gang_header, &gctx);
	if (rc)
		return rc;
	FUZZ_PATCH(bp, 1, hdr, sizeof(hdr));
	/* The header's block pointers are in the gang bp's byte order. */
	if (bp_should_byteswap(bp))
		byteswap_uint64_array(hdr, SPA_GBH_NBLKPTRS * sizeof(blkptr_t));
	uint64_t psize = bp_get_psize(bp), done = 0;
	for (int i = 0; i < SPA_GBH_NBLKPTRS && done < psize; i++) {
		blkptr_t child;
		bp_load(&child, hdr + i * sizeof(blkptr_t));
		if (bp_is_hole(&child) || bp_is_embedded(&child))
			break;
		uint64_t csize = bp_get_psize(&child);
		if (csize > psize - done || bp_get_lsize(&child) != csize)
			return SET_ERROR(-ZFUSE_E_CORRUPT);
		rc = zio_read_phys_depth(spa, &child, (uint8_t *)out + done, -1, depth + 1);
		if (rc)
			return rc;
		done += csize;
	}
	if (done != psize)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	return 0;
}

static int zio_read_phys_depth(spa_t *spa, const blkptr_t *bp, void *out, int dva_index, int depth)
{
	uint64_t psize = bp_get_psize(bp);
	if (psize > SPA_MAXBLOCKSIZE)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	if (!zio_checksum_supported(bp_get_checksum(bp))) {
		spa_log(spa, ZFUSE_LOG_ERROR, "block uses unknown checksum %u", bp_get_checksum(bp));
		return -ZFUSE_E_UNSUPPORTED;
	}
	struct verify_ctx vctx = { spa, bp };
	/* No readable copy is corruption unless a copy failed otherwise
	 * (raised only then: debug logs would show every read). */
	int rc = -ZFUSE_E_CORRUPT;
	int ndva = bp_is_encrypted(bp) ? 2 : SPA_DVAS_PER_BP;
	for (int i = 0; i < ndva; i++) {
		if (dva_index >= 0 && i != dva_index)
			continue;
		const dva_t *d = &bp->blk_dva[i];
		if (!dva_is_valid(d))
			continue;
		int r;
		if (dva_is_gang(d)) {
			r = zio_read_gang(spa, bp, d, out, depth);
			if (r == 0 && !verify_block(&vctx, out, psize))
				r = SET_ERROR(-ZFUSE_E_CHECKSUM);
		} else {
			vdev_t *top = spa_lookup_top(spa, dva_vdev(d));
			if (!top)
				r = SET_ERROR(-ZFUSE_E_CORRUPT);
			else
				r = vdev_read(top, dva_offset(d), out, psize, verify_block, &vctx);
		}
		if (r == 0)
			return 0;
		if (rc == -ZFUSE_E_CORRUPT || r == -ZFUSE_E_CHECKSUM)
			rc = r;
	}
	return rc == -ZFUSE_E_CORRUPT ? SET_ERROR(rc) : rc;
}

int zio_read_phys(spa_t *spa, const blkptr_t *bp, void *out, int dva_index)
{
	if (bp_is_embedded(bp) || bp_is_hole(bp))
		return -ZFUSE_E_INVAL;
	return zio_read_phys_depth(spa, bp, out, dva_index, 0);
}

static int decode(spa_t *spa, const blkptr_t *bp, const void *src, uint64_t psize, void *out)
{
	uint64_t lsize = bp_get_lsize(bp);
	unsigned comp = bp_get_compress(bp);
	if (comp == ZIO_COMPRESS_OFF || comp == ZIO_COMPRESS_INHERIT || comp == ZIO_COMPRESS_ON ||
	    comp == ZIO_COMPRESS_EMPTY) {
		/* Uncompressed: psize equals lsize, except that OFF embedded
		 * payloads and legacy bps are taken at face value. */
		if (psize < lsize) {
			if (!bp_is_embedded(bp))
				return SET_ERROR(-ZFUSE_E_CORRUPT);
			memcpy(out, src, psize);
			memset((uint8_t *)out + psize, 0, lsize - psize);
			return 0;
		}
		memcpy(out, src, lsize);
		return 0;
	}
	if (!zio_compress_supported(comp)) {
		spa_log(spa, ZFUSE_LOG_ERROR, "block uses unknown compression %u", comp);
		return -ZFUSE_E_UNSUPPORTED;
	}
	return zio_decompress(comp, src, psize, out, lsize);
}

/* An encrypted level-0 block with its key: ciphertext checksummed,
 * opened (MAC verified), then decompressed. */
static int read_encrypted(spa_t *spa, const blkptr_t *bp, zio_crypt_key_t *key, void *out)
{
	uint64_t psize = bp_get_psize(bp);
	unsigned comp = bp_get_compress(bp);
	/* An uncompressed block opens straight into out (no plaintext copy);
	 * the buffers come from the block-buffer lists: per-block mallocs of
	 * 128K are mmaps, and their page faults were much of the cost. */
	bool direct = (comp == ZIO_COMPRESS_OFF || comp == ZIO_COMPRESS_INHERIT) &&
		      psize == bp_get_lsize(bp);
	uint8_t *phys = zio_data_buf_alloc(psize), *plain = direct ? out : zio_data_buf_alloc(psize);
	int rc = phys && plain ? zio_read_phys_depth(spa, bp, phys, -1, 0) : -ZFUSE_E_NOMEM;
	if (rc == 0)
		rc = zio_crypt_decrypt(key, bp, phys, plain, psize);
	if (rc && plain)
		explicit_bzero(plain, psize);	/* nothing unauthenticated leaves */
	if (rc == 0 && !direct)
		rc = decode(spa, bp, plain, psize, out);
	if (!direct && plain) {
		explicit_bzero(plain, psize);
		zio_data_buf_free(plain, psize);
	}
	zio_data_buf_free(phys, psize);
	return rc;
}

int zio_read(spa_t *spa, const blkptr_t *bp, void *out)
{
	return zio_read_key(spa, bp, NULL, out);
}

static int zio_read_key_impl(spa_t *spa, const blkptr_t *bp, zio_crypt_key_t *key, void *out);

int zio_read_key(spa_t *spa, const blkptr_t *bp, zio_crypt_key_t *key, void *out)
{
	int rc = zio_read_key_impl(spa, bp, key, out);
	if (rc == 0)
		FUZZ_PATCH(bp, 0, out, bp_get_lsize(bp));
	return rc;
}

static int zio_read_key_impl(spa_t *spa, const blkptr_t *bp, zio_crypt_key_t *key, void *out)
{
	uint64_t lsize = bp_get_lsize(bp);
	if (lsize > SPA_MAXBLOCKSIZE)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	if (bp_is_embedded(bp)) {
		if (bp_get_etype(bp) != 0)
			return SET_ERROR(-ZFUSE_E_IO);	/* redacted or unknown payload */
		uint8_t payload[BPE_PAYLOAD_SIZE];
		uint64_t psize = bp_get_psize(bp);
		if (psize > BPE_PAYLOAD_SIZE)
			return SET_ERROR(-ZFUSE_E_CORRUPT);
		bp_embedded_payload(bp, payload);
		return decode(spa, bp, payload, psize, out);
	}
	if (bp_is_hole(bp)) {
		memset(out, 0, lsize);
		return 0;
	}
	uint64_t psize = bp_get_psize(bp);
	if (psize > SPA_MAXBLOCKSIZE)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	if (bp_is_encrypted(bp)) {
		if (key)
			return read_encrypted(spa, bp, key, out);
		/* Encrypted dnode blocks are stored raw with dnode cores and
		 * block pointers in clear (only bonus buffers are sealed): the
		 * object structure stays inspectable without keys. */
		if (bp_get_type(bp) == DMU_OT_DNODE && bp_get_compress(bp) == ZIO_COMPRESS_OFF &&
		    psize == lsize)
			return zio_read_phys_depth(spa, bp, out, -1, 0);
		return -ZFUSE_E_ACCESS;
	}
	unsigned comp = bp_get_compress(bp);
	bool raw = comp == ZIO_COMPRESS_OFF || comp == ZIO_COMPRESS_INHERIT;
	bool auth = bp_uses_crypt(bp) && bp_get_level(bp) == 0 && key &&
		    bp_get_type(bp) != DMU_OT_OBJSET;
	int rc;
	if (raw && psize == lsize) {
		rc = zio_read_phys_depth(spa, bp, out, -1, 0);
		if (rc == 0 && auth)
			rc = zio_crypt_verify_auth(key, bp, out, psize);
	} else {
		uint8_t *phys = malloc(psize);
		if (!phys)
			return -ZFUSE_E_NOMEM;
		rc = zio_read_phys_depth(spa, bp, phys, -1, 0);
		if (rc == 0 && auth)
			rc = zio_crypt_verify_auth(key, bp, phys, psize);
		if (rc == 0)
			rc = decode(spa, bp, phys, psize, out);
		free(phys);
	}
	/* Indirect blocks of encrypted objsets carry a checksum of their
	 * children's MACs: verifiable without keys. */
	if (rc == 0 && bp_uses_crypt(bp) && bp_get_level(bp) > 0)
		rc = zio_crypt_verify_indirect(bp, out, lsize);
	return rc;
}
