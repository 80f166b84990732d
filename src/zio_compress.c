/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zio_compress.c — OpenZFS's compression framings over the well-kept
 * libraries (zlib, liblz4, libzstd) plus LZJB and ZLE, which exist only in
 * ZFS (pool-layer.md §7). Decoders never read past psize nor write past
 * lsize, and a stream that does not yield exactly lsize bytes is corrupt.
 */
#define ZSTD_STATIC_LINKING_ONLY
#include <lz4.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include "byteorder.h"
#include "zio_compress.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define ZFS_ZSTD_VERSION 10405

static const char *const names[ZIO_COMPRESS_FUNCTIONS] = {
	"inherit", "on", "off", "lzjb", "empty", "gzip-1", "gzip-2", "gzip-3", "gzip-4",
	"gzip-5", "gzip-6", "gzip-7", "gzip-8", "gzip-9", "zle", "lz4", "zstd",
};

const char *zio_compress_name(unsigned alg)
{
	return alg < ZIO_COMPRESS_FUNCTIONS ? names[alg] : "unknown";
}

bool zio_compress_supported(unsigned alg)
{
	return alg == ZIO_COMPRESS_OFF || alg == ZIO_COMPRESS_LZJB ||
	       (alg >= ZIO_COMPRESS_GZIP_1 && alg <= ZIO_COMPRESS_ZSTD);
}

static int lzjb_decompress(const uint8_t *src, size_t psize, uint8_t *dst, size_t lsize)
{
	size_t i = 0, o = 0;
	unsigned mask = 0x80, map = 0;
	while (o < lsize) {
		mask <<= 1;
		if (mask == 0x100) {
			if (i >= psize)
				return SET_ERROR(-ZFUSE_E_DECOMPRESS);
			mask = 1;
			map = src[i++];
		}
		if (map & mask) {
			if (i + 2 > psize)
				return SET_ERROR(-ZFUSE_E_DECOMPRESS);
			size_t mlen = (src[i] >> 2) + 3;
			size_t off = (((size_t)src[i] << 8) | src[i + 1]) & 0x3ff;
			i += 2;
			if (off == 0 || off > o)
				return SET_ERROR(-ZFUSE_E_DECOMPRESS);
			for (size_t k = 0; k < mlen && o < lsize; k++, o++)
				dst[o] = dst[o - off];
		} else {
			if (i >= psize)
				return SET_ERROR(-ZFUSE_E_DECOMPRESS);
			dst[o++] = src[i++];
		}
	}
	return 0;
}

static int zle_decompress(const uint8_t *src, size_t psize, uint8_t *dst, size_t lsize)
{
	size_t i = 0, o = 0;
	while (o < lsize) {
		if (i >= psize)
			return SET_ERROR(-ZFUSE_E_DECOMPRESS);
		unsigned l = src[i++];
		if (l < 64) {
			size_t n = l + 1;
			if (i + n > psize || o + n > lsize)
				return SET_ERROR(-ZFUSE_E_DECOMPRESS);
			memcpy(dst + o, src + i, n);
			i += n;
			o += n;
		} else {
			size_t n = l + 1 - 64;
			if (o + n > lsize)
				return SET_ERROR(-ZFUSE_E_DECOMPRESS);
			memset(dst + o, 0, n);
			o += n;
		}
	}
	return 0;
}

static int lz4_decompress(const uint8_t *src, size_t psize, uint8_t *dst, size_t lsize)
{
	if (psize < 4)
		return SET_ERROR(-ZFUSE_E_DECOMPRESS);
	uint32_t n = be32(src);
	if (n > psize - 4 || n > INT32_MAX || lsize > INT32_MAX)
		return SET_ERROR(-ZFUSE_E_DECOMPRESS);
	int r = LZ4_decompress_safe((const char *)src + 4, (char *)dst, (int)n, (int)lsize);
	return r == (int)lsize ? 0 : SET_ERROR(-ZFUSE_E_DECOMPRESS);
}

static int gzip_decompress(const uint8_t *src, size_t psize, uint8_t *dst, size_t lsize)
{
	uLongf out = lsize;
	uLong in = psize;
	int r = uncompress2(dst, &out, src, &in);
	return r == Z_OK && out == lsize ? 0 : SET_ERROR(-ZFUSE_E_DECOMPRESS);
}

static pthread_key_t dctx_key;
static pthread_once_t dctx_once = PTHREAD_ONCE_INIT;

static void dctx_free(void *p)
{
	ZSTD_freeDCtx(p);
}

static void dctx_key_init(void)
{
	pthread_key_create(&dctx_key, dctx_free);
}

/* One compression context per thread too: ZSTD_compress would allocate
 * (and the kernel zero) a context of about a megabyte at each call. It
 * writes magic-less frames, as OpenZFS stores them. */
static pthread_key_t cctx_key;
static pthread_once_t cctx_once = PTHREAD_ONCE_INIT;

static void cctx_free(void *p)
{
	ZSTD_freeCCtx(p);
}

static void cctx_key_init(void)
{
	pthread_key_create(&cctx_key, cctx_free);
}

static ZSTD_CCtx *thread_cctx(void)
{
	pthread_once(&cctx_once, cctx_key_init);
	ZSTD_CCtx *cctx = pthread_getspecific(cctx_key);
	if (!cctx) {
		cctx = ZSTD_createCCtx();
		if (!cctx || pthread_setspecific(cctx_key, cctx) != 0) {
			ZSTD_freeCCtx(cctx);
			return NULL;
		}
	}
	ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_format, ZSTD_f_zstd1_magicless);
	return cctx;
}

static bool zstd_level_valid(unsigned level)
{
	return (level >= 1 && level <= 19) || (level >= 103 && level <= 123);
}

static int zstd_decompress(const uint8_t *src, size_t psize, uint8_t *dst, size_t lsize)
{
	if (psize < 8)
		return SET_ERROR(-ZFUSE_E_DECOMPRESS);
	uint32_t clen = be32(src);
	/* The level byte is at 4 in the canonical layout and at 7 in the
	 * layout early big-endian writers produced (version bytes first). */
	unsigned level = src[4] != 0 ? src[4] : src[7];
	if (clen > psize - 8 || !zstd_level_valid(level))
		return SET_ERROR(-ZFUSE_E_DECOMPRESS);
	/* One decompression context per thread, freed when the thread ends. */
	pthread_once(&dctx_once, dctx_key_init);
	ZSTD_DCtx *dctx = pthread_getspecific(dctx_key);
	if (!dctx) {
		dctx = ZSTD_createDCtx();
		if (!dctx || pthread_setspecific(dctx_key, dctx) != 0) {
			ZSTD_freeDCtx(dctx);
			return -ZFUSE_E_NOMEM;
		}
		ZSTD_DCtx_setParameter(dctx, ZSTD_d_format, ZSTD_f_zstd1_magicless);
	}
	size_t r = ZSTD_decompressDCtx(dctx, dst, lsize, src + 8, clen);
	return !ZSTD_isError(r) && r == lsize ? 0 : SET_ERROR(-ZFUSE_E_DECOMPRESS);
}

int zio_decompress(unsigned alg, const void *src, size_t psize, void *dst, size_t lsize)
{
	switch (alg) {
	case ZIO_COMPRESS_OFF:
		if (psize < lsize)
			return SET_ERROR(-ZFUSE_E_DECOMPRESS);
		memcpy(dst, src, lsize);
		return 0;
	case ZIO_COMPRESS_LZJB:
		return lzjb_decompress(src, psize, dst, lsize);
	case ZIO_COMPRESS_ZLE:
		return zle_decompress(src, psize, dst, lsize);
	case ZIO_COMPRESS_LZ4:
		return lz4_decompress(src, psize, dst, lsize);
	case ZIO_COMPRESS_ZSTD:
		return zstd_decompress(src, psize, dst, lsize);
	default:
		if (alg >= ZIO_COMPRESS_GZIP_1 && alg <= ZIO_COMPRESS_GZIP_9)
			return gzip_decompress(src, psize, dst, lsize);
		return -ZFUSE_E_UNSUPPORTED;
	}
}

long zio_compress(unsigned alg, int level, const void *src, size_t lsize, void *dst, size_t dst_cap)
{
	uint8_t *d = dst;
	switch (alg) {
	case ZIO_COMPRESS_LZ4: {
		if (dst_cap < 4 || lsize > INT32_MAX)
			return 0;
		int n = LZ4_compress_default(src, (char *)d + 4, (int)lsize,
					     (int)(dst_cap - 4 > INT32_MAX ? INT32_MAX : dst_cap - 4));
		if (n <= 0)
			return 0;
		put_be32(d, (uint32_t)n);
		return n + 4;
	}
	case ZIO_COMPRESS_ZSTD: {
		if (dst_cap < 12)
			return 0;
		int zl = level > 0 && level <= 19 ? level : 3;
		ZSTD_CCtx *cctx = thread_cctx();
		if (!cctx)
			return -ZFUSE_E_NOMEM;
		ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, zl);
		/* A frame that does not fit is an error: then the block is not
		 * worth compressing. */
		size_t n = ZSTD_compress2(cctx, d + 8, dst_cap - 8, src, lsize);
		if (ZSTD_isError(n) || n > UINT32_MAX)
			return 0;
		put_be32(d, (uint32_t)n);
		d[4] = (uint8_t)zl;
		d[5] = (ZFS_ZSTD_VERSION >> 16) & 0xff;
		d[6] = (ZFS_ZSTD_VERSION >> 8) & 0xff;
		d[7] = ZFS_ZSTD_VERSION & 0xff;
		return (long)(n + 8);
	}
	default:
		if (alg >= ZIO_COMPRESS_GZIP_1 && alg <= ZIO_COMPRESS_GZIP_9) {
			uLongf out = dst_cap;
			if (compress2(d, &out, src, lsize, (int)(alg - ZIO_COMPRESS_GZIP_1 + 1)) != Z_OK)
				return 0;
			return (long)out;
		}
		return -ZFUSE_E_UNSUPPORTED;
	}
}
