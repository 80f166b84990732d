/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zio_crypt.h — native encryption of blocks (OpenZFS's zio_crypt): the
 * suites, master keys unwrapped from their wrapping key, per-block keys
 * derived from the master key and the bp's salt (HKDF-SHA512), AES-GCM/CCM
 * decryption of level-0 blocks (dnode blocks seal only the bonus buffers
 * of some dnodes and authenticate the rest; intent-log blocks seal the
 * bodies of their records), HMAC-SHA512 MACs of
 * authenticated blocks and objset blocks, and the SHA-512 checksum of the
 * children's MACs that indirect blocks carry. Every cipher is OpenSSL's.
 */
#ifndef ZFUSE_ZIO_CRYPT_H
#define ZFUSE_ZIO_CRYPT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "blkptr.h"

#define ZIO_DATA_SALT_LEN 8
#define ZIO_DATA_IV_LEN 12
#define ZIO_DATA_MAC_LEN 16
#define ZIO_OBJSET_MAC_LEN 32
#define WRAPPING_KEY_LEN 32
#define WRAPPING_IV_LEN 12
#define WRAPPING_MAC_LEN 16
#define MASTER_KEY_MAX_LEN 32
#define SHA512_HMAC_KEYLEN 64
#define ZIO_CRYPT_KEY_CURRENT_VERSION 1
/* OpenZFS's ZFS_KEY_MAX_SALT_USES_DEFAULT: blocks per salt. */
#define ZFS_KEY_MAX_SALT_USES 400000000ULL

enum zio_encrypt {
	ZIO_CRYPT_INHERIT = 0,
	ZIO_CRYPT_ON,
	ZIO_CRYPT_OFF,
	ZIO_CRYPT_AES_128_CCM,
	ZIO_CRYPT_AES_192_CCM,
	ZIO_CRYPT_AES_256_CCM,
	ZIO_CRYPT_AES_128_GCM,
	ZIO_CRYPT_AES_192_GCM,
	ZIO_CRYPT_AES_256_GCM,
	ZIO_CRYPT_FUNCTIONS
};

/* A dataset's master key (a DSL crypto key unwrapped). The derived
 * per-salt keys of recent reads are kept: one salt serves many blocks. */
#define ZIO_CRYPT_SALT_CACHE 4
typedef struct zio_crypt_key {
	uint64_t crypt, version, guid;
	uint8_t master[MASTER_KEY_MAX_LEN];
	uint8_t hmac[SHA512_HMAC_KEYLEN];
	pthread_mutex_t lock;
	struct {
		uint8_t salt[ZIO_DATA_SALT_LEN];
		uint8_t key[MASTER_KEY_MAX_LEN];
		bool valid;
	} derived[ZIO_CRYPT_SALT_CACHE];
	unsigned next_slot;
	/* The salt new blocks use (random at load) and how many used it. */
	uint8_t salt[ZIO_DATA_SALT_LEN];
	uint64_t salt_uses;
} zio_crypt_key_t;

/* Whether crypt is a real suite (aes-*-ccm/gcm); its key length. */
bool zio_crypt_suite_valid(uint64_t crypt);
unsigned zio_crypt_keylen(uint64_t crypt);

/*
 * Unwrap a DSL crypto key: keydata (keylen of the suite) and hmac (64)
 * are the wrapped halves, iv/mac the wrapping's. The wrapping key is
 * always AES-256, in the suite's mode. Errors: ZFUSE_E_KEY (the MAC does
 * not verify: a wrong wrapping key or a damaged crypto key object),
 * ZFUSE_E_UNSUPPORTED (suite or version unknown), ZFUSE_E_NOMEM.
 */
int zio_crypt_key_unwrap(const uint8_t wkey[WRAPPING_KEY_LEN], uint64_t crypt, uint64_t version,
			 uint64_t guid, const uint8_t *keydata, const uint8_t *hmac,
			 const uint8_t iv[WRAPPING_IV_LEN], const uint8_t mac[WRAPPING_MAC_LEN],
			 zio_crypt_key_t *out);
/* A new master key of suite crypt (random master and HMAC keys and guid,
 * current version), as zio_crypt_key_init. Errors: ZFUSE_E_UNSUPPORTED,
 * ZFUSE_E_NOMEM (no randomness). */
int zio_crypt_key_generate(uint64_t crypt, zio_crypt_key_t *out);
/* Wrap a master key with a wrapping key (AES-256 in the suite's mode,
 * fresh random IV), as a DSL crypto key stores it. */
int zio_crypt_key_wrap(const uint8_t wkey[WRAPPING_KEY_LEN], const zio_crypt_key_t *key,
		       uint8_t iv[WRAPPING_IV_LEN], uint8_t mac[WRAPPING_MAC_LEN],
		       uint8_t keydata[MASTER_KEY_MAX_LEN], uint8_t hmac[SHA512_HMAC_KEYLEN]);
/* Wipe a key (explicit_bzero) and its lock. */
void zio_crypt_key_destroy(zio_crypt_key_t *key);

/*
 * Decrypt the psize stored bytes of encrypted bp into plain (psize bytes)
 * with key, verifying the MAC in the bp. Dnode blocks come back with
 * cores and block pointers as stored and sealed bonus buffers opened.
 * Errors: ZFUSE_E_AUTH (MAC mismatch), ZFUSE_E_UNSUPPORTED (big-endian
 * block), ZFUSE_E_NOMEM.
 */
int zio_crypt_decrypt(zio_crypt_key_t *key, const blkptr_t *bp, const uint8_t *cipher,
		      uint8_t *plain, uint64_t psize);

/* An authenticated (not encrypted) level-0 block: the HMAC of its stored
 * bytes against the bp's MAC. Errors: ZFUSE_E_AUTH. */
int zio_crypt_verify_auth(const zio_crypt_key_t *key, const blkptr_t *bp, const void *data,
			  uint64_t psize);

/* The checksum of the children's MACs of an indirect block (decoded
 * contents, size bytes) against its bp: needs no key. Errors: ZFUSE_E_AUTH. */
int zio_crypt_verify_indirect(const blkptr_t *bp, const void *data, uint64_t size);

/* The portable and local MACs of an objset block (size bytes). Errors:
 * ZFUSE_E_AUTH. */
int zio_crypt_verify_objset(const zio_crypt_key_t *key, const uint8_t *osp, uint64_t size);

/*
 * Writing (zio_write.c): encrypt a level-0 block of an encrypted type
 * (psize bytes, compressed already) into cipher with a fresh random IV and
 * the key's current salt (rotated as OpenZFS does); dnode blocks seal only
 * the bonus buffers of encrypted bonus types and authenticate the rest.
 * Errors: ZFUSE_E_UNSUPPORTED (intent-log blocks), ZFUSE_E_NOMEM.
 */
int zio_crypt_encrypt(zio_crypt_key_t *key, unsigned type, const uint8_t *plain, uint8_t *cipher,
		      uint64_t psize, uint8_t salt[ZIO_DATA_SALT_LEN], uint8_t iv[ZIO_DATA_IV_LEN],
		      uint8_t mac[ZIO_DATA_MAC_LEN]);
/* The MAC of an authenticated block (HMAC-SHA512 of its stored bytes). */
int zio_crypt_auth_mac(const zio_crypt_key_t *key, const void *data, uint64_t psize,
		       uint8_t mac[ZIO_DATA_MAC_LEN]);
/* The MAC checksum an indirect block (size logical bytes) carries. */
int zio_crypt_indirect_mac(uint64_t version, const void *data, uint64_t size,
			   uint8_t mac[ZIO_DATA_MAC_LEN]);
/* Store the portable and local MACs into an objset block. */
int zio_crypt_objset_sign(const zio_crypt_key_t *key, uint8_t *osp, uint64_t size);

/*
 * Intent-log blocks of encrypted datasets (zio_crypt_init_uios_zil): the
 * chain header (but its checksum), every lr_t and the bp of each TX_WRITE
 * stay in the clear and are authenticated, so a claim needs no key; the
 * rest of each record up to zc_nused is sealed with the salt and IV of the
 * block's bp, chosen at allocation (zio_crypt_zil_params: crypt bit, the
 * key's current salt, a random IV), as zio_alloc_zil does. The MAC is
 * words 2-3 of the chain's embedded checksum (which the checksum then
 * keeps, zio.c's zio_checksum_handle_crypt). Seal before the checksum is
 * computed; open writes the plain block (zeros past zc_nused). Errors:
 * ZFUSE_E_AUTH (MAC mismatch or records that do not parse),
 * ZFUSE_E_UNSUPPORTED, ZFUSE_E_NOMEM.
 */
int zio_crypt_zil_params(zio_crypt_key_t *key, blkptr_t *bp);
int zio_crypt_zil_seal(zio_crypt_key_t *key, const blkptr_t *bp, const uint8_t *plain,
		       uint8_t *cipher, uint64_t size);
int zio_crypt_zil_open(zio_crypt_key_t *key, const blkptr_t *bp, const uint8_t *cipher,
		       uint8_t *plain, uint64_t size);

/* PBKDF2-HMAC-SHA1 of a passphrase as libzfs derives wrapping keys (the
 * salt taken as its 8 little-endian bytes). */
int zio_crypt_pbkdf2(const void *pass, size_t len, uint64_t salt, uint64_t iters,
		     uint8_t out[WRAPPING_KEY_LEN]);

#endif
