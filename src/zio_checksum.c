/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zio_checksum.c — block checksum algorithms and the embedded-trailer
 * (zio_eck_t) verification of labels and gang headers (pool-layer.md §6,
 * §1.3). SHA-2 comes from OpenSSL; fletcher sums are tight loops over the
 * little-endian words of the block.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include "byteorder.h"
#include "zio_checksum.h"
#include "zfuse/errors.h"

#include "zio_checksum_keyed.h"
#include "zfs_debug.h"

#define ZEC_MAGIC 0x0210da7ab10c7a11ULL
#define ZEC_SIZE 40

static const char *const names[ZIO_CHECKSUM_FUNCTIONS] = {
	"inherit", "on", "off", "label", "gang_header", "zilog", "fletcher2",
	"fletcher4", "sha256", "zilog2", "noparity", "sha512", "skein", "edonr", "blake3",
};

const char *zio_checksum_name(unsigned alg)
{
	return alg < ZIO_CHECKSUM_FUNCTIONS ? names[alg] : "unknown";
}

bool zio_checksum_supported(unsigned alg)
{
	switch (alg) {
	case ZIO_CHECKSUM_OFF: case ZIO_CHECKSUM_NOPARITY: case ZIO_CHECKSUM_LABEL:
	case ZIO_CHECKSUM_GANG_HEADER: case ZIO_CHECKSUM_ZILOG: case ZIO_CHECKSUM_FLETCHER_2:
	case ZIO_CHECKSUM_FLETCHER_4: case ZIO_CHECKSUM_SHA256: case ZIO_CHECKSUM_ZILOG2:
	case ZIO_CHECKSUM_SHA512:
		return true;
	case ZIO_CHECKSUM_SKEIN: case ZIO_CHECKSUM_EDONR: case ZIO_CHECKSUM_BLAKE3:
		return true;
	default:
		return false;
	}
}

/* The byteswap variants sum the words of a block written in the other
 * byte order as its writer saw them (zfs_fletcher.c's *_byteswap). */
static void fletcher2(const uint8_t *p, size_t size, bool bswap, zio_cksum_t *out)
{
	uint64_t a0 = 0, a1 = 0, b0 = 0, b1 = 0;
	for (size_t i = 0; i + 16 <= size; i += 16) {
		a0 += bswap ? be64(p + i) : le64(p + i);
		a1 += bswap ? be64(p + i + 8) : le64(p + i + 8);
		b0 += a0;
		b1 += a1;
	}
	out->zc_word[0] = a0;
	out->zc_word[1] = a1;
	out->zc_word[2] = b0;
	out->zc_word[3] = b1;
}

static void fletcher4_words(const uint8_t *p, size_t size, bool bswap, uint64_t s[4])
{
	uint64_t a = s[0], b = s[1], c = s[2], d = s[3];
	for (size_t i = 0; i + 4 <= size; i += 4) {
		a += bswap ? be32(p + i) : le32(p + i);
		b += a;
		c += b;
		d += c;
	}
	s[0] = a;
	s[1] = b;
	s[2] = c;
	s[3] = d;
}

#if defined(__x86_64__) && defined(__GNUC__)
/*
 * Fletcher-4 is one chain of dependent sums, so it runs at one word per
 * cycle however wide the machine. Four lanes, lane l summing the words
 * 4k + l on its own, run four words per step; the lanes' sums are then
 * folded into the chain's. With t = m - k steps left after word 4k + l
 * (m steps in all), that word's weight in the chain's b, c, d is
 * 4t - l, C(4t - l + 1, 2) and C(4t - l + 2, 3), while in its lane's
 * they are t, C(t + 1, 2) and C(t + 2, 3); expanding the first in the
 * second gives the integer coefficients below (checked against the plain
 * loop by test_checksum's test_fletcher4_long, lengths 0 to 4 KiB).
 */
typedef uint64_t lanes_u64 __attribute__((vector_size(32)));
typedef uint32_t lanes_u32 __attribute__((vector_size(16)));

__attribute__((target("avx2"))) static size_t fletcher4_lanes(const uint8_t *p, size_t size,
							       uint64_t s[4])
{
	lanes_u64 a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	size_t steps = size / 16;
	for (size_t i = 0; i < steps; i++) {
		lanes_u32 w;
		memcpy(&w, p + 16 * i, sizeof(w));
		a += __builtin_convertvector(w, lanes_u64);
		b += a;
		c += b;
		d += c;
	}
	s[0] = a[0] + a[1] + a[2] + a[3];
	s[1] = 4 * (b[0] + b[1] + b[2] + b[3]) - (a[1] + 2 * a[2] + 3 * a[3]);
	s[2] = 16 * (c[0] + c[1] + c[2] + c[3]) - (6 * b[0] + 10 * b[1] + 14 * b[2] + 18 * b[3]) +
	       (a[2] + 3 * a[3]);
	s[3] = 64 * (d[0] + d[1] + d[2] + d[3]) -
	       (48 * c[0] + 64 * c[1] + 80 * c[2] + 96 * c[3]) +
	       (4 * b[0] + 10 * b[1] + 20 * b[2] + 34 * b[3]) - a[3];
	return steps * 16;
}

static bool fletcher4_use_lanes(void)
{
	static int have = -1;
	int h = __atomic_load_n(&have, __ATOMIC_RELAXED);
	if (h < 0) {
		h = __builtin_cpu_supports("avx2") ? 1 : 0;
		__atomic_store_n(&have, h, __ATOMIC_RELAXED);
	}
	return h == 1;
}
#endif

const char *zio_fletcher4_impl(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
	if (fletcher4_use_lanes())
		return "avx2-4-lanes";
#endif
	return "plain";
}

/* Native-order blocks (all a writer of this machine's order makes) take
 * the four-lane loop where the CPU has it; the sums continue over any
 * tail of fewer than 16 bytes in the plain loop, which resumes a chain. */
static void fletcher4(const uint8_t *p, size_t size, bool bswap, zio_cksum_t *out)
{
	uint64_t s[4] = { 0, 0, 0, 0 };
	size_t done = 0;
#if defined(__x86_64__) && defined(__GNUC__)
	if (!bswap && fletcher4_use_lanes())
		done = fletcher4_lanes(p, size, s);
#endif
	fletcher4_words(p + done, size - done, bswap, s);
	for (int i = 0; i < 4; i++)
		out->zc_word[i] = s[i];
}

static int sha2(const EVP_MD *md, const void *buf, size_t size, uint8_t digest[32])
{
	uint8_t full[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (!EVP_Digest(buf, size, full, &len, md, NULL) || len < 32)
		return SET_ERROR(-ZFUSE_E_IO);
	memcpy(digest, full, 32);
	return 0;
}

int zio_checksum_compute(unsigned alg, const void *buf, size_t size,
			 const zio_cksum_salt_t *salt, zio_cksum_t *out)
{
	return zio_checksum_compute_bo(alg, buf, size, salt, false, out);
}

/* Digests kept as raw bytes in the checksum words read, on a machine of
 * the other order, as the writer's words byte-swapped. */
static void swap_words(zio_cksum_t *c)
{
	for (int i = 0; i < 4; i++)
		c->zc_word[i] = __builtin_bswap64(c->zc_word[i]);
}

int zio_checksum_compute_bo(unsigned alg, const void *buf, size_t size,
			    const zio_cksum_salt_t *salt, bool bswap, zio_cksum_t *out)
{
	uint8_t digest[32];
	int rc;
	switch (alg) {
	case ZIO_CHECKSUM_OFF:
	case ZIO_CHECKSUM_NOPARITY:
		memset(out, 0, sizeof(*out));
		return 0;
	case ZIO_CHECKSUM_FLETCHER_2:
	case ZIO_CHECKSUM_ZILOG:
		fletcher2(buf, size, bswap, out);
		return 0;
	case ZIO_CHECKSUM_FLETCHER_4:
	case ZIO_CHECKSUM_ZILOG2:
		fletcher4(buf, size, bswap, out);
		return 0;
	case ZIO_CHECKSUM_SHA256:
	case ZIO_CHECKSUM_LABEL:
	case ZIO_CHECKSUM_GANG_HEADER:
		if ((rc = sha2(EVP_sha256(), buf, size, digest)))
			return rc;
		for (int i = 0; i < 4; i++)
			out->zc_word[i] = be64(digest + 8 * i);
		return 0;
	case ZIO_CHECKSUM_SHA512:
		if ((rc = sha2(EVP_sha512_256(), buf, size, digest)))
			return rc;
		memcpy(out->zc_word, digest, 32);
		if (bswap)
			swap_words(out);
		return 0;
	case ZIO_CHECKSUM_SKEIN:
	case ZIO_CHECKSUM_EDONR:
	case ZIO_CHECKSUM_BLAKE3: {
		/* The digest bytes are the checksum words as stored (LE load). */
		uint8_t d[64];
		if (!salt)
			return -ZFUSE_E_INVAL;
		if (alg == ZIO_CHECKSUM_SKEIN)
			skein512(salt->zcs_bytes, 32, buf, size, d, 256);
		else if (alg == ZIO_CHECKSUM_EDONR)
			edonr512_salted(salt->zcs_bytes, buf, size, d);
		else
			blake3(salt->zcs_bytes, buf, size, d);
		memcpy(out->zc_word, d, 32);
		if (bswap)
			swap_words(out);
		return 0;
	}
	default:
		return -ZFUSE_E_UNSUPPORTED;
	}
}

static unsigned embedded_alg(unsigned alg)
{
	return alg == ZIO_CHECKSUM_ZILOG ? ZIO_CHECKSUM_FLETCHER_2 :
	       alg == ZIO_CHECKSUM_ZILOG2 ? ZIO_CHECKSUM_FLETCHER_4 : ZIO_CHECKSUM_SHA256;
}

#ifdef ZFUSE_FUZZING
bool zio_fuzz_ignore_checksums;
#endif

int zio_checksum_verify_embedded(unsigned alg, const void *buf, size_t size,
				 const zio_cksum_t *verifier)
{
	if (size < ZEC_SIZE)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	const uint8_t *eck = (const uint8_t *)buf + size - ZEC_SIZE;
	/* A trailer written by a machine of the other byte order has its
	 * magic, verifier and checksum words swapped. */
	bool bswap = le64(eck) == __builtin_bswap64(ZEC_MAGIC);
	if (le64(eck) != ZEC_MAGIC && !bswap)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	uint8_t *copy = malloc(size);
	if (!copy)
		return -ZFUSE_E_NOMEM;
	memcpy(copy, buf, size);
	zio_cksum_t stored, actual, v = *verifier;
	memcpy(&stored, eck + 8, sizeof(stored));
	if (bswap) {
		swap_words(&v);
		swap_words(&stored);
	}
	memcpy(copy + size - 32, &v, sizeof(v));
	int rc = zio_checksum_compute_bo(embedded_alg(alg), copy, size, NULL, bswap, &actual);
	free(copy);
	if (rc)
		return rc;
#ifdef ZFUSE_FUZZING
	if (zio_fuzz_ignore_checksums)
		return 0;
#endif
	return memcmp(&stored, &actual, sizeof(actual)) == 0 ? 0 : SET_ERROR(-ZFUSE_E_CHECKSUM);
}

int zio_checksum_fill_embedded(unsigned alg, void *buf, size_t size, const zio_cksum_t *verifier)
{
	if (size < ZEC_SIZE)
		return -ZFUSE_E_INVAL;
	uint8_t *eck = (uint8_t *)buf + size - ZEC_SIZE;
	put_le64(eck, ZEC_MAGIC);
	memcpy(eck + 8, verifier, sizeof(*verifier));
	zio_cksum_t c;
	int rc = zio_checksum_compute(embedded_alg(alg), buf, size, NULL, &c);
	if (rc == 0)
		memcpy(eck + 8, &c, sizeof(c));
	return rc;
}

bool zio_checksum_dedup_capable(unsigned alg)
{
	return alg == ZIO_CHECKSUM_SHA256 || alg == ZIO_CHECKSUM_SHA512 || alg == ZIO_CHECKSUM_SKEIN ||
	       alg == ZIO_CHECKSUM_BLAKE3;
}
