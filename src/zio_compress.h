/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zio_compress.h — block compression codecs with OpenZFS's framing
 * (pool-layer.md §7).
 */
#ifndef ZFUSE_ZIO_COMPRESS_H
#define ZFUSE_ZIO_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum zio_compress {
	ZIO_COMPRESS_INHERIT = 0,
	ZIO_COMPRESS_ON,
	ZIO_COMPRESS_OFF,
	ZIO_COMPRESS_LZJB,
	ZIO_COMPRESS_EMPTY,
	ZIO_COMPRESS_GZIP_1,
	ZIO_COMPRESS_GZIP_2,
	ZIO_COMPRESS_GZIP_3,
	ZIO_COMPRESS_GZIP_4,
	ZIO_COMPRESS_GZIP_5,
	ZIO_COMPRESS_GZIP_6,
	ZIO_COMPRESS_GZIP_7,
	ZIO_COMPRESS_GZIP_8,
	ZIO_COMPRESS_GZIP_9,
	ZIO_COMPRESS_ZLE,
	ZIO_COMPRESS_LZ4,
	ZIO_COMPRESS_ZSTD,
	ZIO_COMPRESS_FUNCTIONS
};

/* Name as zfs shows it ("lz4", "gzip-9", "zstd", ...) or "unknown". */
const char *zio_compress_name(unsigned alg);

/* Whether a bp with this compression id can be decoded. */
bool zio_compress_supported(unsigned alg);

/*
 * Decode src[0..psize) (zero padded after the framed stream) into exactly
 * lsize bytes at dst. OFF copies. Returns 0; -ZFUSE_E_DECOMPRESS when the
 * stream is malformed or does not produce exactly lsize bytes (never reads
 * past src+psize nor writes past dst+lsize); -ZFUSE_E_UNSUPPORTED for an
 * unknown id.
 */
int zio_decompress(unsigned alg, const void *src, size_t psize, void *dst,
		   size_t lsize);

/*
 * Encode src[0..lsize) into dst (capacity dst_cap). level: gzip level is
 * implied by alg; for ZSTD, level is the zstd level as OpenZFS stores it in
 * its header (1..19, or 1000+N... see spec; 0 = default 3). Returns the
 * framed length (> 0), or 0 when the result would not fit in dst_cap (the
 * caller then stores the block uncompressed), or a negative ZFUSE_E* code.
 */
long zio_compress(unsigned alg, int level, const void *src, size_t lsize,
		  void *dst, size_t dst_cap);

#endif
