/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zio_checksum.h — block checksums (pool-layer.md §6).
 *
 * Every block read is verified against the 256-bit checksum in its block
 * pointer (or embedded trailer). This module computes each algorithm over a
 * buffer as stored on disk (psize bytes); callers compare.
 */
#ifndef ZFUSE_ZIO_CHECKSUM_H
#define ZFUSE_ZIO_CHECKSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum zio_checksum {
	ZIO_CHECKSUM_INHERIT = 0,
	ZIO_CHECKSUM_ON,
	ZIO_CHECKSUM_OFF,
	ZIO_CHECKSUM_LABEL,
	ZIO_CHECKSUM_GANG_HEADER,
	ZIO_CHECKSUM_ZILOG,
	ZIO_CHECKSUM_FLETCHER_2,
	ZIO_CHECKSUM_FLETCHER_4,
	ZIO_CHECKSUM_SHA256,
	ZIO_CHECKSUM_ZILOG2,
	ZIO_CHECKSUM_NOPARITY,
	ZIO_CHECKSUM_SHA512,
	ZIO_CHECKSUM_SKEIN,
	ZIO_CHECKSUM_EDONR,
	ZIO_CHECKSUM_BLAKE3,
	ZIO_CHECKSUM_FUNCTIONS
};

typedef struct zio_cksum {
	uint64_t zc_word[4];
} zio_cksum_t;

/* The pool's 32-byte salt for the keyed algorithms (skein, edonr, blake3). */
typedef struct zio_cksum_salt {
	uint8_t zcs_bytes[32];
} zio_cksum_salt_t;

/* Name of an algorithm ("fletcher4", "sha256", ...) or "unknown". */
const char *zio_checksum_name(unsigned alg);

/* Whether alg is an id this module can compute (including OFF/NOPARITY). */
bool zio_checksum_supported(unsigned alg);

/* Whether alg is one OpenZFS trusts for dedup (ZCHECKSUM_FLAG_DEDUP:
 * sha256, sha512, skein, blake3; not edonr): bps of encrypted blocks keep
 * 128 bits of such a checksum as is and fold the others' upper half in. */
bool zio_checksum_dedup_capable(unsigned alg);

/*
 * Compute checksum alg over buf[0..size) as a little-endian pool stores it.
 * salt may be NULL for unsalted algorithms; required for skein/edonr/blake3.
 * ZIO_CHECKSUM_LABEL / GANG_HEADER compute plain SHA-256 (the embedded
 * trailer verifier is handled by zio_checksum_verify_embedded).
 * Returns 0, or -ZFUSE_E_UNSUPPORTED for an unknown id, -ZFUSE_E_INVAL when a
 * salted algorithm gets no salt.
 */
int zio_checksum_compute(unsigned alg, const void *buf, size_t size,
			 const zio_cksum_salt_t *salt, zio_cksum_t *out);

/* The same for a block of the other byte order than this host's (the bp's
 * byte-order bit): fletcher sums over swapped words, digests' words swapped. */
int zio_checksum_compute_bo(unsigned alg, const void *buf, size_t size,
			    const zio_cksum_salt_t *salt, bool bswap, zio_cksum_t *out);

/*
 * Verify a block whose checksum is embedded in its last 40 bytes
 * (zio_eck_t: 8-byte magic 0x0210da7ab10c7a11, then the 32-byte checksum), as
 * labels (vdev_phys, uberblocks) and gang headers are. The verifier — the
 * expected value with which the stored checksum is replaced during
 * computation — is given by the caller (the block's device offset in word 0
 * for labels; the gang bp's DVA/birth for gang headers, see §1.3 and §5.2).
 * Algorithm is SHA-256 for LABEL/GANG_HEADER, fletcher2 for ZILOG,
 * fletcher4 for ZILOG2. A trailer whose magic is byte-swapped was written
 * by a machine of the other order and is verified as such. buf is not
 * modified.
 * Returns 0 when valid, -ZFUSE_E_CHECKSUM when not, -ZFUSE_E_CORRUPT when the
 * magic is wrong or size < 40.
 */
int zio_checksum_verify_embedded(unsigned alg, const void *buf, size_t size,
				 const zio_cksum_t *verifier);

/* The same, writing: fill the trailer of buf (size bytes) with magic and the
 * checksum computed with the given verifier. */
int zio_checksum_fill_embedded(unsigned alg, void *buf, size_t size,
			       const zio_cksum_t *verifier);

/* How fletcher4 sums native-order words on this CPU: "avx2-4-lanes" (four
 * interleaved sums folded into one, twice the plain loop's speed) or
 * "plain". Both give the same checksum; tests name the one they checked. */
const char *zio_fletcher4_impl(void);

#ifdef ZFUSE_FUZZING
/* Fuzzing builds only (meson -Dfuzz=true, tests/fuzz/): when set, a
 * mismatching checksum passes (block pointers, gang headers, labels,
 * uberblocks; a trailer's magic is still required), so that mutated bytes
 * reach the parsers behind the checksums instead of stopping at them. */
extern bool zio_fuzz_ignore_checksums;
#endif

#endif
