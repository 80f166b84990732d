/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * skein.c — Skein-512 (Skein 1.3 specification): Threefish-512 as a
 * tweakable block cipher, chained with UBI; keyed mode processes the key
 * as the first UBI block (type Key), then the configuration block, the
 * message and the output transform.
 *
 * Provenance: written for zfuse from the Skein 1.3 specification (Ferguson,
 * Lucks, Schneier et al., 2010) and pool-layer.md §6.6 for how ZFS keys it;
 * no code was taken from the reference implementation or from OpenZFS.
 * Checked against ZFS's salted vectors and fixture blocks checksummed by
 * OpenZFS (tests/unit/test_checksum.c, the checksum fixture).
 */
#include <stdbool.h>
#include <string.h>
#include "byteorder.h"
#include "zio_checksum_keyed.h"

#define SKEIN_C240 0x1BD11BDAA9FC1A22ULL
#define T_KEY 0ULL
#define T_CFG 4ULL
#define T_MSG 48ULL
#define T_OUT 63ULL
#define FLAG_FIRST (1ULL << 62)
#define FLAG_FINAL (1ULL << 63)

static const unsigned rot512[8][4] = {
	{ 46, 36, 19, 37 }, { 33, 27, 14, 42 }, { 17, 49, 36, 39 }, { 44, 9, 54, 56 },
	{ 39, 30, 34, 24 }, { 13, 50, 10, 17 }, { 25, 29, 39, 43 }, { 8, 35, 56, 22 },
};
static const unsigned perm512[8] = { 2, 1, 4, 7, 6, 5, 0, 3 };

static inline uint64_t rotl(uint64_t x, unsigned n)
{
	return (x << n) | (x >> (64 - n));
}

static void threefish512(const uint64_t key[8], const uint64_t tweak[2], const uint64_t in[8],
			 uint64_t out[8])
{
	uint64_t k[9], t[3] = { tweak[0], tweak[1], tweak[0] ^ tweak[1] }, v[8];
	k[8] = SKEIN_C240;
	for (int i = 0; i < 8; i++) {
		k[i] = key[i];
		k[8] ^= key[i];
		v[i] = in[i];
	}
	for (unsigned d = 0; d < 72; d++) {
		if (d % 4 == 0) {
			unsigned s = d / 4;
			for (int i = 0; i < 8; i++)
				v[i] += k[(s + (unsigned)i) % 9];
			v[5] += t[s % 3];
			v[6] += t[(s + 1) % 3];
			v[7] += s;
		}
		uint64_t f[8];
		for (int j = 0; j < 4; j++) {
			uint64_t a = v[2 * j], b = v[2 * j + 1];
			a += b;
			b = rotl(b, rot512[d % 8][j]) ^ a;
			f[2 * j] = a;
			f[2 * j + 1] = b;
		}
		for (int i = 0; i < 8; i++)
			v[i] = f[perm512[i]];
	}
	for (int i = 0; i < 8; i++)
		v[i] += k[(18 + (unsigned)i) % 9];
	v[5] += t[18 % 3];
	v[6] += t[19 % 3];
	v[7] += 18;
	memcpy(out, v, sizeof(v));
}

/* UBI(G, M, type): G is updated in place. */
static void ubi(uint64_t g[8], const uint8_t *msg, size_t len, uint64_t type)
{
	uint64_t pos = 0;
	bool first = true;
	do {
		uint8_t block[64] = { 0 };
		size_t n = len - pos > 64 ? 64 : len - pos;
		memcpy(block, msg + pos, n);
		pos += n;
		uint64_t tweak[2] = { pos, (type << 56) | (first ? FLAG_FIRST : 0) |
					   (pos == len ? FLAG_FINAL : 0) };
		uint64_t m[8], e[8];
		for (int i = 0; i < 8; i++)
			m[i] = le64(block + 8 * i);
		threefish512(g, tweak, m, e);
		for (int i = 0; i < 8; i++)
			g[i] = e[i] ^ m[i];
		first = false;
	} while (pos < len);
}

void skein512(const uint8_t *key, size_t keylen, const void *msg, size_t len, uint8_t *out,
	      size_t outbits)
{
	uint64_t g[8] = { 0 };
	if (key && keylen)
		ubi(g, key, keylen, T_KEY);
	uint8_t cfg[32] = { 'S', 'H', 'A', '3', 1, 0, 0, 0 };
	put_le64(cfg + 8, outbits);
	ubi(g, cfg, sizeof(cfg), T_CFG);
	ubi(g, msg, len, T_MSG);
	size_t outbytes = (outbits + 7) / 8;
	for (uint64_t ctr = 0; ctr * 64 < outbytes; ctr++) {
		uint64_t o[8];
		memcpy(o, g, sizeof(o));
		uint8_t c[8];
		put_le64(c, ctr);
		ubi(o, c, 8, T_OUT);
		uint8_t bytes[64];
		for (int i = 0; i < 8; i++)
			put_le64(bytes + 8 * i, o[i]);
		size_t n = outbytes - ctr * 64 > 64 ? 64 : outbytes - ctr * 64;
		memcpy(out + ctr * 64, bytes, n);
	}
}
