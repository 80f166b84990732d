/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * test_checksum.c — every checksum against published or independently
 * verified vectors: SHA-256 / SHA-512/256 (FIPS 180 "abc"), BLAKE3's
 * official vectors, Edon-R and the three salted ZFS vectors of
 * pool-layer.md §6.6 (which reproduced real pools' on-disk checksums),
 * fletcher sums on a hand-checked buffer, and the embedded-trailer
 * verifier with a corrupted byte.
 */
#include <check.h>
#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zio_checksum.h"
#include "zio_checksum_keyed.h"
#include "zfuse/errors.h"

static void tohex(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void cksum_hex(const zio_cksum_t *c, char *out)
{
	tohex((const uint8_t *)c->zc_word, 32, out);
}

static zio_cksum_salt_t test_salt(void)
{
	zio_cksum_salt_t s;
	for (int i = 0; i < 32; i++)
		s.zcs_bytes[i] = (uint8_t)i;
	return s;
}

START_TEST(test_sha2)
{
	zio_cksum_t c;
	ck_assert_int_eq(zio_checksum_compute(ZIO_CHECKSUM_SHA256, "abc", 3, NULL, &c), 0);
	/* SHA-256("abc") = ba7816bf 8f01cfea ...; words are big-endian loads. */
	ck_assert_uint_eq(c.zc_word[0], 0xba7816bf8f01cfeaULL);
	ck_assert_uint_eq(c.zc_word[3], 0xb410ff61f20015adULL);
	ck_assert_int_eq(zio_checksum_compute(ZIO_CHECKSUM_SHA512, "abc", 3, NULL, &c), 0);
	char hex[65];
	cksum_hex(&c, hex);
	/* SHA-512/256("abc"), FIPS 180-4 example; digest bytes in order. */
	ck_assert_str_eq(hex, "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23");
}
END_TEST

START_TEST(test_fletcher)
{
	/* 16 bytes: little-endian 32-bit words 1, 2, 3, 4. */
	uint8_t b[16] = { 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0 };
	zio_cksum_t c;
	zio_checksum_compute(ZIO_CHECKSUM_FLETCHER_4, b, 16, NULL, &c);
	/* a = 1+2+3+4 = 10; b = 1+3+6+10 = 20; c = 1+4+10+20 = 35; d = 1+5+15+35 = 56 */
	ck_assert_uint_eq(c.zc_word[0], 10);
	ck_assert_uint_eq(c.zc_word[1], 20);
	ck_assert_uint_eq(c.zc_word[2], 35);
	ck_assert_uint_eq(c.zc_word[3], 56);
	zio_checksum_compute(ZIO_CHECKSUM_FLETCHER_2, b, 16, NULL, &c);
	/* one 16-byte step: a0 = w0, a1 = w1, b0 = a0, b1 = a1 (64-bit words) */
	ck_assert_uint_eq(c.zc_word[0], 0x0000000200000001ULL);
	ck_assert_uint_eq(c.zc_word[1], 0x0000000400000003ULL);
	ck_assert_uint_eq(c.zc_word[2], 0x0000000200000001ULL);
	ck_assert_uint_eq(c.zc_word[3], 0x0000000400000003ULL);
}
END_TEST

/* The definition, word by word, against the library's fletcher4 (four
 * lanes folded into one on AVX2 machines) for every length up to 4 KiB
 * plus a 128 KiB block: random words, then all-ones words, whose sums
 * wrap 64 bits soonest. */
static void fletcher4_reference(const uint8_t *p, size_t size, uint64_t s[4])
{
	uint64_t a = 0, b = 0, c = 0, d = 0;
	for (size_t i = 0; i + 4 <= size; i += 4) {
		uint32_t w = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8 | (uint32_t)p[i + 2] << 16 |
			     (uint32_t)p[i + 3] << 24;
		a += w;
		b += a;
		c += b;
		d += c;
	}
	s[0] = a, s[1] = b, s[2] = c, s[3] = d;
}

START_TEST(test_fletcher4_long)
{
	size_t big = 128 << 10;
	uint8_t *buf = malloc(big + 1);
	ck_assert_ptr_nonnull(buf);
	for (int pattern = 0; pattern < 2; pattern++) {
		uint32_t x = 12345;
		for (size_t i = 0; i < big + 1; i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = pattern ? 0xff : (uint8_t)(x >> 16);
		}
		for (size_t len = 0; len <= big; len = len < 4096 ? len + 1 : big) {
			/* odd start too: the lanes load unaligned */
			for (int off = 0; off < 2; off++) {
				uint64_t want[4];
				zio_cksum_t got;
				fletcher4_reference(buf + off, len, want);
				zio_checksum_compute(ZIO_CHECKSUM_FLETCHER_4, buf + off, len, NULL, &got);
				for (int w = 0; w < 4; w++)
					if (got.zc_word[w] != want[w])
						ck_abort_msg("%s fletcher4 of %zu bytes at +%d: word %d is "
							     "%016llx, the definition gives %016llx",
							     zio_fletcher4_impl(), len, off, w,
							     (unsigned long long)got.zc_word[w],
							     (unsigned long long)want[w]);
			}
			if (len == big)
				break;
		}
	}
	free(buf);
	fprintf(stderr, "test_fletcher4_long: checked the %s implementation\n", zio_fletcher4_impl());
}
END_TEST

START_TEST(test_blake3_vectors)
{
	/* Official BLAKE3 test vectors: input byte i is i % 251. */
	static const struct { size_t len; const char *hash; } v[] = {
		{ 0, "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262" },
		{ 1, "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213" },
		{ 1024, "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7" },
		{ 1025, "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444" },
	};
	uint8_t in[2048], out[32];
	char hex[65];
	for (int i = 0; i < 2048; i++)
		in[i] = (uint8_t)(i % 251);
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		blake3(NULL, in, v[k].len, out);
		tohex(out, 32, hex);
		ck_assert_str_eq(hex, v[k].hash);
	}
}
END_TEST

START_TEST(test_edonr_vectors)
{
	uint8_t out[64];
	char hex[129];
	edonr512("", 0, out);
	tohex(out, 64, hex);
	ck_assert_str_eq(hex, "c57f7e17fdc1ce5074cc748c9bd38f9f51ebe88fbe6eda3190c4314cafb1abb2"
			      "980fac582d6e4ba8c641947d944bc56b74fb15de5546ad4f77934fca00052719");
	edonr512("abc", 3, out);
	tohex(out, 64, hex);
	ck_assert_str_eq(hex, "1b14db155f1d406594b8cef70a4362ec6b5de6a5daf50ec999e987c19d3049e2"
			      "de5977bb05b1bb220050a1ea5b46a9f1740acafbf6b45032adc90c628372c22b");
}
END_TEST

START_TEST(test_zfs_salted_vectors)
{
	static uint8_t zeros[4096];
	zio_cksum_salt_t salt = test_salt();
	static const struct { unsigned alg; const char *hex; } v[] = {
		{ ZIO_CHECKSUM_SKEIN, "fb4431db7be912ebbb5683e4ae9efca148b1eec182cb099430ffbcb90e829ac3" },
		{ ZIO_CHECKSUM_EDONR, "155f8510f98d9bd18b51a427e8f906e2ae7a6edd541138bb5ed81c45292ad97d" },
		{ ZIO_CHECKSUM_BLAKE3, "68277efeb7544248fc8434b543846721e02fca36952d6f91a31022d06469b6aa" },
	};
	for (size_t k = 0; k < 3; k++) {
		zio_cksum_t c;
		char hex[65];
		ck_assert_int_eq(zio_checksum_compute(v[k].alg, zeros, sizeof(zeros), &salt, &c), 0);
		cksum_hex(&c, hex);
		ck_assert_str_eq(hex, v[k].hex);
		/* Salted algorithms refuse to run without a salt. */
		ck_assert_int_eq(zio_checksum_compute(v[k].alg, zeros, 16, NULL, &c), -ZFUSE_E_INVAL);
	}
}
END_TEST

START_TEST(test_embedded_roundtrip)
{
	uint8_t *buf = calloc(1, 4096);
	for (int i = 0; i < 4000; i++)
		buf[i] = (uint8_t)(i * 7);
	zio_cksum_t verifier = { { 0x23800, 0, 0, 0 } };
	ck_assert_int_eq(zio_checksum_fill_embedded(ZIO_CHECKSUM_LABEL, buf, 4096, &verifier), 0);
	ck_assert_int_eq(zio_checksum_verify_embedded(ZIO_CHECKSUM_LABEL, buf, 4096, &verifier), 0);
	zio_cksum_t other = { { 0x24800, 0, 0, 0 } };	/* same bytes at another offset */
	ck_assert_int_eq(zio_checksum_verify_embedded(ZIO_CHECKSUM_LABEL, buf, 4096, &other),
			 -ZFUSE_E_CHECKSUM);
	buf[100] ^= 1;
	ck_assert_int_eq(zio_checksum_verify_embedded(ZIO_CHECKSUM_LABEL, buf, 4096, &verifier),
			 -ZFUSE_E_CHECKSUM);
	memset(buf + 4096 - 40, 0, 8);	/* no magic */
	ck_assert_int_eq(zio_checksum_verify_embedded(ZIO_CHECKSUM_LABEL, buf, 4096, &verifier),
			 -ZFUSE_E_CORRUPT);
	free(buf);
}
END_TEST

START_TEST(test_names_and_support)
{
	ck_assert_str_eq(zio_checksum_name(ZIO_CHECKSUM_FLETCHER_4), "fletcher4");
	ck_assert_str_eq(zio_checksum_name(99), "unknown");
	ck_assert(zio_checksum_supported(ZIO_CHECKSUM_BLAKE3));
	ck_assert(!zio_checksum_supported(ZIO_CHECKSUM_FUNCTIONS));
	zio_cksum_t c;
	ck_assert_int_eq(zio_checksum_compute(200, "x", 1, NULL, &c), -ZFUSE_E_UNSUPPORTED);
}
END_TEST

int main(void)
{
	return RUN_TESTS("checksum", "vectors", 0, test_sha2, test_fletcher, test_fletcher4_long, test_blake3_vectors, test_edonr_vectors,
			 test_zfs_salted_vectors, test_embedded_roundtrip, test_names_and_support);
}
