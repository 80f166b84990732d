/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * test_compress.c — the ZFS framings of every codec: hand-built LZJB and
 * ZLE streams with known output, LZ4 / zstd / gzip frames checked byte by
 * byte in their headers, round trips through zio_compress where zfuse
 * writes, and hostile inputs (truncation, wrong lsize, random bytes) that
 * must fail cleanly.
 */
#include <check.h>
#include "check_main.h"
#include <stdlib.h>
#include <string.h>
#include "byteorder.h"
#include "zio_compress.h"
#include "zfuse/errors.h"

START_TEST(test_lzjb_known)
{
	/* control byte 0x02: item 0 literal 'a', item 1 a match of length 3+3
	 * at distance 1 -> "a" + "aaaaaa"; then literals 'b','c'. */
	const uint8_t src[] = { 0x02, 'a', (3 << 2) | 0, 1, 'b', 'c' };
	uint8_t out[9];
	ck_assert_int_eq(zio_decompress(ZIO_COMPRESS_LZJB, src, sizeof(src), out, 9), 0);
	ck_assert(memcmp(out, "aaaaaaabc", 9) == 0);
	/* a match reaching before the start of the output is corrupt */
	const uint8_t bad[] = { 0x01, (3 << 2) | 0, 5 };
	ck_assert_int_eq(zio_decompress(ZIO_COMPRESS_LZJB, bad, sizeof(bad), out, 6), -ZFUSE_E_DECOMPRESS);
}
END_TEST

START_TEST(test_zle_known)
{
	/* 2 literals "hi", then 64+9 => 10 zeros, then 1 literal "!" */
	const uint8_t src[] = { 1, 'h', 'i', 64 + 9, 0, '!' };
	uint8_t out[13];
	ck_assert_int_eq(zio_decompress(ZIO_COMPRESS_ZLE, src, sizeof(src), out, 13), 0);
	ck_assert(memcmp(out, "hi\0\0\0\0\0\0\0\0\0\0!", 13) == 0);
	/* asking for more than the stream holds */
	uint8_t big[20];
	ck_assert_int_eq(zio_decompress(ZIO_COMPRESS_ZLE, src, sizeof(src), big, 20), -ZFUSE_E_DECOMPRESS);
}
END_TEST

static uint8_t *pattern(size_t n, int kind)
{
	uint8_t *b = malloc(n);
	for (size_t i = 0; i < n; i++)
		b[i] = kind == 0 ? (uint8_t)("zfuse compresses text "[i % 22]) :
		       kind == 1 ? (uint8_t)(rand() & 0xff) : 0;
	return b;
}

START_TEST(test_roundtrips)
{
	static const unsigned algs[] = { ZIO_COMPRESS_LZ4, ZIO_COMPRESS_ZSTD, ZIO_COMPRESS_GZIP_1,
					 ZIO_COMPRESS_GZIP_9 };
	static const size_t sizes[] = { 512, 4096, 131072, 1 << 20 };
	for (size_t a = 0; a < 4; a++)
		for (size_t s = 0; s < 4; s++)
			for (int kind = 0; kind < 3; kind++) {
				size_t n = sizes[s];
				uint8_t *in = pattern(n, kind), *c = malloc(n), *out = malloc(n);
				long clen = zio_compress(algs[a], 3, in, n, c, n);
				if (kind == 1) {
					/* random data does not fit: stored raw instead */
					ck_assert_int_eq(clen, 0);
				} else {
					ck_assert_int_gt(clen, 0);
					/* the stored block is padded with zeros up to a sector */
					size_t psize = ((size_t)clen + 511) & ~(size_t)511;
					if (psize > n)
						psize = n;
					memset(c + clen, 0, psize - (size_t)clen);
					ck_assert_int_eq(zio_decompress(algs[a], c, psize, out, n), 0);
					ck_assert(memcmp(in, out, n) == 0);
					/* the wrong logical size is corruption, not a short read */
					if (n > 512)
						ck_assert_int_eq(zio_decompress(algs[a], c, psize, out, n - 512),
								 -ZFUSE_E_DECOMPRESS);
				}
				free(in);
				free(c);
				free(out);
			}
}
END_TEST

START_TEST(test_frames)
{
	uint8_t in[4096], c[4096];
	memset(in, 'x', sizeof(in));
	long n = zio_compress(ZIO_COMPRESS_LZ4, 0, in, sizeof(in), c, sizeof(c));
	ck_assert_int_gt(n, 4);
	ck_assert_uint_eq(be32(c), (uint32_t)(n - 4));	/* BE32 length of the LZ4 block */
	n = zio_compress(ZIO_COMPRESS_ZSTD, 19, in, sizeof(in), c, sizeof(c));
	ck_assert_int_gt(n, 8);
	ck_assert_uint_eq(be32(c), (uint32_t)(n - 8));	/* BE32 frame length */
	ck_assert_uint_eq(c[4], 19);			/* level */
	ck_assert_uint_eq((c[5] << 16) | (c[6] << 8) | c[7], 10405);	/* zstd version */
	ck_assert(!(c[8] == 0x28 && c[9] == 0xb5));	/* no frame magic */
	n = zio_compress(ZIO_COMPRESS_GZIP_6, 0, in, sizeof(in), c, sizeof(c));
	ck_assert_uint_eq(c[0], 0x78);			/* zlib header */
	/* a zstd header naming an invalid level is refused */
	uint8_t z[4096];
	n = zio_compress(ZIO_COMPRESS_ZSTD, 3, in, sizeof(in), z, sizeof(z));
	z[4] = 200;
	ck_assert_int_eq(zio_decompress(ZIO_COMPRESS_ZSTD, z, (size_t)n, c, sizeof(c)), -ZFUSE_E_DECOMPRESS);
}
END_TEST

START_TEST(test_hostile)
{
	static const unsigned algs[] = { ZIO_COMPRESS_LZJB, ZIO_COMPRESS_ZLE, ZIO_COMPRESS_LZ4,
					 ZIO_COMPRESS_ZSTD, ZIO_COMPRESS_GZIP_6 };
	uint8_t src[512], out[4096];
	srand(42);
	for (int round = 0; round < 3000; round++) {
		for (size_t i = 0; i < sizeof(src); i++)
			src[i] = (uint8_t)rand();
		size_t psize = 1 + (size_t)rand() % sizeof(src);
		int rc = zio_decompress(algs[round % 5], src, psize, out, sizeof(out));
		ck_assert(rc == 0 || rc == -ZFUSE_E_DECOMPRESS);
	}
	/* a truncated lz4 length header */
	ck_assert_int_eq(zio_decompress(ZIO_COMPRESS_LZ4, src, 3, out, 512), -ZFUSE_E_DECOMPRESS);
	ck_assert_int_eq(zio_decompress(99, src, 8, out, 512), -ZFUSE_E_UNSUPPORTED);
	ck_assert_str_eq(zio_compress_name(ZIO_COMPRESS_GZIP_9), "gzip-9");
}
END_TEST

int main(void)
{
	return RUN_TESTS("compress", "codecs", 120, test_lzjb_known, test_zle_known, test_roundtrips, test_frames,
			 test_hostile);
}
