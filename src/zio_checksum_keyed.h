/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zio_checksum_keyed.h — the salted checksums (pool-layer.md §6.6):
 * Skein-512-256 in MAC mode, the tweaked Edon-R-512, and keyed BLAKE3,
 * each keyed by the pool's 32-byte salt. Written from the algorithms'
 * specifications; no library in Debian provides them.
 */
#ifndef ZFUSE_ZIO_CHECKSUM_KEYED_H
#define ZFUSE_ZIO_CHECKSUM_KEYED_H

#include <stddef.h>
#include <stdint.h>

/* Skein-512 with an output of outbits, keyed (MAC) when key != NULL. */
void skein512(const uint8_t *key, size_t keylen, const void *msg, size_t len, uint8_t *out,
	      size_t outbits);
/* Edon-R-512 (SUPERCOP, tweaked): 64-byte digest. */
void edonr512(const void *msg, size_t len, uint8_t out[64]);
/* The ZFS salted Edon-R: EdonR512(s1 || s2 || msg) with s1 = EdonR512(salt),
 * s2 = EdonR512(s1). */
void edonr512_salted(const uint8_t salt[32], const void *msg, size_t len, uint8_t out[64]);
/* BLAKE3, 32-byte output; keyed mode when key != NULL. */
void blake3(const uint8_t *key32, const void *msg, size_t len, uint8_t out[32]);

#endif
