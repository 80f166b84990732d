/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * fuzz_decompress.c — every decompressor a block pointer can name: lzjb,
 * zle, lz4 (OpenZFS's 4-byte length framing), gzip, zstd (OpenZFS's
 * 8-byte header of length and version/level). Byte 0 picks the algorithm,
 * bytes 1-2 the logical size (in 64-byte steps, up to 4 MiB); the rest is
 * the stored stream. A decoder must never read past psize nor write past
 * lsize (ASan watches exact-size buffers), and what it claims to have
 * decoded must compress and decode back.
 */
#include <stdlib.h>
#include <string.h>
#include "zio_compress.h"
#include "fuzz_seed.h"

static const unsigned algs[] = { ZIO_COMPRESS_LZJB, ZIO_COMPRESS_ZLE, ZIO_COMPRESS_LZ4,
				 ZIO_COMPRESS_GZIP_1, ZIO_COMPRESS_GZIP_9, ZIO_COMPRESS_ZSTD,
				 ZIO_COMPRESS_EMPTY, ZIO_COMPRESS_OFF };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	unsigned alg = algs[data[0] % (sizeof(algs) / sizeof(algs[0]))];
	size_t lsize = ((size_t)data[1] | (size_t)data[2] << 8) % (1u << 16) * 64 + 64;
	size_t psize = size - 3;
	/* exact-size copies: an over-read or over-write is an ASan report */
	uint8_t *src = malloc(psize ? psize : 1), *dst = malloc(lsize);
	if (!src || !dst)
		abort();
	memcpy(src, data + 3, psize);
	int rc = zio_decompress(alg, src, psize, dst, lsize);
	if (rc == 0 && lsize <= (128u << 10)) {
		size_t cap = lsize + lsize / 2 + 1024;
		uint8_t *c = malloc(cap), *back = malloc(lsize);
		long n = zio_compress(alg, 0, dst, lsize, c, cap);
		if (!c || !back)
			abort();
		if (n > 0 && (zio_decompress(alg, c, (size_t)n, back, lsize) != 0 ||
			      memcmp(back, dst, lsize) != 0))
			abort();
		free(c);
		free(back);
	}
	free(src);
	free(dst);
	return 0;
}

/* Seeds: each algorithm's stream of a few kinds of data (text, runs of
 * zeros, a ramp), as the library's own compressors frame them. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!seed_dir())
		return 0;
	static uint8_t plain[3][4096], framed[3 + 8192];
	for (int i = 0; i < 4096; i++) {
		plain[0][i] = (uint8_t)"the quick brown fox jumps over the lazy dog "[i % 44];
		plain[1][i] = i % 512 < 400 ? 0 : (uint8_t)i;
		plain[2][i] = (uint8_t)(i * i >> 3);
	}
	for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++)
		for (int k = 0; k < 3; k++) {
			long n = zio_compress(algs[a], 0, plain[k], 4096, framed + 3, sizeof(framed) - 3);
			if (n <= 0) {
				memcpy(framed + 3, plain[k], 4096);
				n = 4096;
			}
			framed[0] = (uint8_t)a;
			framed[1] = 4096 / 64 - 1;	/* lsize 4096 */
			framed[2] = 0;
			seed_write(framed, 3 + (size_t)n);
		}
	exit(0);
}
