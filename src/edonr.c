/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * edonr.c — Edon-R-512 as OpenZFS uses it: the SUPERCOP reference with the
 * tweaked feed-forward (pool-layer.md §6.6). A 1024-bit double pipe; each
 * 128-byte block (sixteen little-endian words) passes four rows of the
 * quasigroup operation Q(x, y) = combine(linear1(x), linear2(y)).
 *
 * Provenance: written for zfuse from the Edon-R description (Gligoroski et
 * al., SHA-3 round 2 submission) and pool-layer.md §6.6 for OpenZFS's tweak;
 * no code was taken from SUPERCOP or OpenZFS. Checked against the "" and
 * "abc" digests, ZFS's salted vector and fixture blocks checksummed by
 * OpenZFS (tests/unit/test_checksum.c, the checksum fixture).
 */
#include <stdbool.h>
#include <string.h>
#include "byteorder.h"
#include "zio_checksum_keyed.h"

static inline uint64_t rotl(uint64_t x, unsigned n)
{
	return (x << n) | (x >> (64 - n));
}

/* The first linear mixing, of the left operand. */
static void linear1(const uint64_t x[8], uint64_t s[8])
{
	uint64_t a = x[0] + x[4], b = x[1] + x[7], ab = a + b;
	uint64_t c = x[2] + x[3], d = x[5] + x[6], cd = c + d;
	s[0] = 0xaaaaaaaaaaaaaaaaULL + ab + x[2];
	s[1] = rotl(ab + x[3], 5);
	s[2] = rotl(ab + x[6], 15);
	s[5] = rotl(a + c + x[5], 40);
	s[6] = rotl(b + d + x[0], 50);
	s[3] = rotl(cd + x[7], 22);
	s[4] = rotl(cd + x[1], 31);
	s[7] = rotl(cd + x[4], 59);
}

/* The second linear mixing, of the right operand. */
static void linear2(const uint64_t y[8], uint64_t t[8])
{
	uint64_t a = y[0] + y[1], b = y[2] + y[5], ab = a + b;
	uint64_t c = y[3] + y[4], ac = a + c;
	uint64_t d = y[6] + y[7], cd = c + d, bd = b + d;
	t[0] = ~0xaaaaaaaaaaaaaaaaULL + ab + y[7];
	t[2] = rotl(ab + y[3], 19);
	t[1] = rotl(ac + y[6], 10);
	t[4] = rotl(ac + y[5], 36);
	t[3] = rotl(cd + y[2], 29);
	t[7] = rotl(cd + y[0], 55);
	t[5] = rotl(bd + y[4], 44);
	t[6] = rotl(bd + y[1], 48);
}

static void quasigroup(const uint64_t x[8], const uint64_t y[8], uint64_t r[8])
{
	uint64_t s[8], t[8];
	linear1(x, s);
	linear2(y, t);
	r[0] = (s[0] ^ s[4] ^ s[1]) + (t[0] ^ t[1] ^ t[5]);
	r[1] = (s[0] ^ s[4] ^ s[7]) + (t[2] ^ t[6] ^ t[7]);
	r[7] = (s[2] ^ s[3] ^ s[5]) + (t[4] ^ t[6] ^ t[7]);
	r[3] = (s[2] ^ s[3] ^ s[4]) + (t[0] ^ t[3] ^ t[4]);
	r[5] = (s[3] ^ s[5] ^ s[6]) + (t[3] ^ t[4] ^ t[6]);
	r[6] = (s[2] ^ s[5] ^ s[6]) + (t[2] ^ t[5] ^ t[7]);
	r[4] = (s[0] ^ s[1] ^ s[7]) + (t[1] ^ t[2] ^ t[5]);
	r[2] = (s[1] ^ s[7] ^ s[6]) + (t[0] ^ t[1] ^ t[3]);
}

static void reverse8(const uint64_t *in, uint64_t out[8])
{
	for (int i = 0; i < 8; i++)
		out[i] = in[7 - i];
}

static void edonr_block(uint64_t p[16], const uint8_t *blk)
{
	uint64_t d[16], lo_rev[8], hi_rev[8], a[8], b[8];
	for (int i = 0; i < 16; i++)
		d[i] = le64(blk + 8 * i);
	reverse8(d + 8, hi_rev);	/* d15 .. d8 */
	reverse8(d, lo_rev);		/* d7 .. d0 */
	quasigroup(hi_rev, d, a);	/* row 1 */
	quasigroup(a, d + 8, b);
	quasigroup(p + 8, a, a);	/* row 2 */
	quasigroup(a, b, b);
	quasigroup(a, p, a);		/* row 3 */
	quasigroup(b, a, b);
	quasigroup(lo_rev, a, a);	/* row 4 */
	quasigroup(a, b, b);
	for (int i = 0; i < 8; i++) {
		p[i] ^= d[8 + i] ^ a[i];
		p[8 + i] ^= d[i] ^ b[i];
	}
}

struct edonr_state {
	uint64_t p[16];
	uint8_t buf[128];
	size_t buffered;
	uint64_t total;
};

static void edonr_init(struct edonr_state *st)
{
	for (int i = 0; i < 16; i++) {
		uint64_t w = 0;
		for (int j = 0; j < 8; j++)
			w = (w << 8) | (uint64_t)(0x80 + 8 * i + j);
		st->p[i] = w;
	}
	st->buffered = 0;
	st->total = 0;
}

static void edonr_update(struct edonr_state *st, const uint8_t *m, size_t len)
{
	st->total += len;
	if (st->buffered) {
		size_t n = 128 - st->buffered < len ? 128 - st->buffered : len;
		memcpy(st->buf + st->buffered, m, n);
		st->buffered += n;
		m += n;
		len -= n;
		if (st->buffered < 128)
			return;
		edonr_block(st->p, st->buf);
		st->buffered = 0;
	}
	while (len >= 128) {
		edonr_block(st->p, m);
		m += 128;
		len -= 128;
	}
	memcpy(st->buf, m, len);
	st->buffered = len;
}

static void edonr_final(struct edonr_state *st, uint8_t out[64])
{
	uint8_t last[256] = { 0 };
	memcpy(last, st->buf, st->buffered);
	last[st->buffered] = 0x80;
	size_t blocks = st->buffered < 120 ? 1 : 2;
	put_le64(last + blocks * 128 - 8, st->total * 8);
	for (size_t i = 0; i < blocks; i++)
		edonr_block(st->p, last + 128 * i);
	for (int i = 0; i < 8; i++)
		put_le64(out + 8 * i, st->p[8 + i]);
}

void edonr512(const void *msg, size_t len, uint8_t out[64])
{
	struct edonr_state st;
	edonr_init(&st);
	edonr_update(&st, msg, len);
	edonr_final(&st, out);
}

void edonr512_salted(const uint8_t salt[32], const void *msg, size_t len, uint8_t out[64])
{
	uint8_t s[128];
	edonr512(salt, 32, s);
	edonr512(s, 64, s + 64);
	struct edonr_state st;
	edonr_init(&st);
	edonr_update(&st, s, sizeof(s));
	edonr_update(&st, msg, len);
	edonr_final(&st, out);
}
