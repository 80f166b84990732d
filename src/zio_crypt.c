/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zio_crypt.c — block encryption and authentication as OpenZFS lays them
 * out (its zio_crypt.c), with OpenSSL doing every cipher, MAC and KDF.
 * The exact byte strings fed to each primitive are the format: the
 * wrapping AAD (guid, suite, version), the dnode block AAD (masked cores,
 * the portable part of every bp with its MAC, clear bonus buffers), the
 * log block AAD (chain header, lr_t headers, write records' bps), the
 * objset HMAC inputs and the indirect-block MAC digest. Reading opens and
 * verifies; writing seals with the same byte strings (a fresh random IV per
 * block, the key's salt turned over after ZFS_KEY_MAX_SALT_USES blocks),
 * so one gatherer serves both. Only little-endian blocks are handled; key
 * material is wiped from every temporary.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include "byteorder.h"
#include "dmu_types.h"
#include "zio_buf.h"
#include "zio_crypt.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define DNODE_SHIFT 9
#define DNODE_CORE 64
#define DN_FLAG_SPILL 0x4
#define DNODE_CRYPT_PORTABLE_FLAGS_MASK DN_FLAG_SPILL
#define OBJSET_FLAG_USERACCOUNTING_COMPLETE 1ULL
#define OBJSET_PHYS_SIZE_V1 1024
#define OBJSET_PHYS_SIZE_V2 2048
#define OBJSET_PHYS_SIZE_V3 4096

struct suite {
	bool gcm;
	unsigned keylen;
};

static const struct suite suites[ZIO_CRYPT_FUNCTIONS] = {
	[ZIO_CRYPT_AES_128_CCM] = { false, 16 }, [ZIO_CRYPT_AES_192_CCM] = { false, 24 },
	[ZIO_CRYPT_AES_256_CCM] = { false, 32 }, [ZIO_CRYPT_AES_128_GCM] = { true, 16 },
	[ZIO_CRYPT_AES_192_GCM] = { true, 24 },	 [ZIO_CRYPT_AES_256_GCM] = { true, 32 },
};

bool zio_crypt_suite_valid(uint64_t crypt)
{
	return crypt < ZIO_CRYPT_FUNCTIONS && suites[crypt].keylen != 0;
}

unsigned zio_crypt_keylen(uint64_t crypt)
{
	return zio_crypt_suite_valid(crypt) ? suites[crypt].keylen : 0;
}

/* The ciphers, fetched from the provider once: OpenSSL 3 fetches a
 * legacy EVP_aes_*() cipher again at every init, a lookup under locks per
 * block. */
static EVP_CIPHER *fetched[2][3];
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_ciphers(void)
{
	static const char *const names[2][3] = {
		{ "AES-128-CCM", "AES-192-CCM", "AES-256-CCM" },
		{ "AES-128-GCM", "AES-192-GCM", "AES-256-GCM" },
	};
	for (int g = 0; g < 2; g++)
		for (int k = 0; k < 3; k++)
			fetched[g][k] = EVP_CIPHER_fetch(NULL, names[g][k], NULL);
}

static const EVP_CIPHER *cipher_of(bool gcm, unsigned keylen)
{
	pthread_once(&fetch_once, fetch_ciphers);
	int k = keylen == 16 ? 0 : keylen == 24 ? 1 : keylen == 32 ? 2 : -1;
	if (k >= 0 && fetched[gcm][k])
		return fetched[gcm][k];
	switch (keylen) {
	case 16: return gcm ? EVP_aes_128_gcm() : EVP_aes_128_ccm();
	case 24: return gcm ? EVP_aes_192_gcm() : EVP_aes_192_ccm();
	case 32: return gcm ? EVP_aes_256_gcm() : EVP_aes_256_ccm();
	}
	return NULL;
}

/* One AEAD open: 0, or -ZFUSE_E_AUTH when the tag does not verify. */
static int aead_open(bool gcm, const uint8_t *key, unsigned keylen, const uint8_t *iv,
		     const uint8_t *aad, size_t aadlen, const uint8_t *ct, size_t len,
		     const uint8_t *tag, uint8_t *pt)
{
	const EVP_CIPHER *c = cipher_of(gcm, keylen);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (!c || !ctx) {
		EVP_CIPHER_CTX_free(ctx);
		return -ZFUSE_E_NOMEM;
	}
	int ok, outl;
	/* OpenSSL wants a non-NULL buffer even for empty input. */
	uint8_t dummy[16];
	const uint8_t *in = len ? ct : dummy;
	uint8_t *out = len ? pt : dummy;
	if (gcm) {
		ok = EVP_DecryptInit_ex(ctx, c, NULL, NULL, NULL) &&
		     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, ZIO_DATA_IV_LEN, NULL) &&
		     EVP_DecryptInit_ex(ctx, NULL, NULL, key, iv) &&
		     (!aadlen || EVP_DecryptUpdate(ctx, NULL, &outl, aad, (int)aadlen)) &&
		     (!len || EVP_DecryptUpdate(ctx, out, &outl, in, (int)len)) &&
		     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, ZIO_DATA_MAC_LEN, (void *)tag) &&
		     EVP_DecryptFinal_ex(ctx, dummy, &outl) > 0;
	} else {
		/* CCM takes the lengths first and the message in one call,
		 * which also checks the tag. */
		ok = EVP_DecryptInit_ex(ctx, c, NULL, NULL, NULL) &&
		     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_SET_IVLEN, ZIO_DATA_IV_LEN, NULL) &&
		     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_SET_TAG, ZIO_DATA_MAC_LEN, (void *)tag) &&
		     EVP_DecryptInit_ex(ctx, NULL, NULL, key, iv) &&
		     EVP_DecryptUpdate(ctx, NULL, &outl, NULL, (int)len) &&
		     (!aadlen || EVP_DecryptUpdate(ctx, NULL, &outl, aad, (int)aadlen)) &&
		     EVP_DecryptUpdate(ctx, out, &outl, in, (int)len) > 0;
	}
	EVP_CIPHER_CTX_free(ctx);
	explicit_bzero(dummy, sizeof(dummy));
	return ok ? 0 : -ZFUSE_E_AUTH;
}

/* One AEAD seal: ciphertext into ct, the 16-byte tag into tag. */
static int aead_seal(bool gcm, const uint8_t *key, unsigned keylen, const uint8_t *iv,
		     const uint8_t *aad, size_t aadlen, const uint8_t *pt, size_t len, uint8_t *ct,
		     uint8_t *tag)
{
	const EVP_CIPHER *c = cipher_of(gcm, keylen);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (!c || !ctx) {
		EVP_CIPHER_CTX_free(ctx);
		return -ZFUSE_E_NOMEM;
	}
	int ok, outl;
	uint8_t dummy[16];
	const uint8_t *in = len ? pt : dummy;
	uint8_t *out = len ? ct : dummy;
	if (gcm) {
		ok = EVP_EncryptInit_ex(ctx, c, NULL, NULL, NULL) &&
		     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, ZIO_DATA_IV_LEN, NULL) &&
		     EVP_EncryptInit_ex(ctx, NULL, NULL, key, iv) &&
		     (!aadlen || EVP_EncryptUpdate(ctx, NULL, &outl, aad, (int)aadlen)) &&
		     (!len || EVP_EncryptUpdate(ctx, out, &outl, in, (int)len)) &&
		     EVP_EncryptFinal_ex(ctx, dummy, &outl) &&
		     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, ZIO_DATA_MAC_LEN, tag);
	} else {
		ok = EVP_EncryptInit_ex(ctx, c, NULL, NULL, NULL) &&
		     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_SET_IVLEN, ZIO_DATA_IV_LEN, NULL) &&
		     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_SET_TAG, ZIO_DATA_MAC_LEN, NULL) &&
		     EVP_EncryptInit_ex(ctx, NULL, NULL, key, iv) &&
		     EVP_EncryptUpdate(ctx, NULL, &outl, NULL, (int)len) &&
		     (!aadlen || EVP_EncryptUpdate(ctx, NULL, &outl, aad, (int)aadlen)) &&
		     EVP_EncryptUpdate(ctx, out, &outl, in, (int)len) &&
		     EVP_EncryptFinal_ex(ctx, dummy, &outl) &&
		     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_GET_TAG, ZIO_DATA_MAC_LEN, tag);
	}
	EVP_CIPHER_CTX_free(ctx);
	explicit_bzero(dummy, sizeof(dummy));
	return ok ? 0 : -ZFUSE_E_NOMEM;
}

static int hkdf_sha512(const uint8_t *ikm, unsigned ikmlen, const uint8_t *info, unsigned infolen,
		       uint8_t *out, unsigned outlen)
{
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	size_t olen = outlen;
	int ok = pctx && EVP_PKEY_derive_init(pctx) > 0 &&
		 EVP_PKEY_CTX_set_hkdf_md(pctx, EVP_sha512()) > 0 &&
		 EVP_PKEY_CTX_set1_hkdf_key(pctx, ikm, (int)ikmlen) > 0 &&
		 EVP_PKEY_CTX_add1_hkdf_info(pctx, info, (int)infolen) > 0 &&
		 EVP_PKEY_derive(pctx, out, &olen) > 0 && olen == outlen;
	EVP_PKEY_CTX_free(pctx);
	return ok ? 0 : -ZFUSE_E_NOMEM;
}

int zio_crypt_key_unwrap(const uint8_t wkey[WRAPPING_KEY_LEN], uint64_t crypt, uint64_t version,
			 uint64_t guid, const uint8_t *keydata, const uint8_t *hmac,
			 const uint8_t iv[WRAPPING_IV_LEN], const uint8_t mac[WRAPPING_MAC_LEN],
			 zio_crypt_key_t *out)
{
	if (!zio_crypt_suite_valid(crypt) || version > ZIO_CRYPT_KEY_CURRENT_VERSION)
		return -ZFUSE_E_UNSUPPORTED;
	unsigned kl = suites[crypt].keylen;
	uint8_t ct[MASTER_KEY_MAX_LEN + SHA512_HMAC_KEYLEN], pt[sizeof(ct)];
	memcpy(ct, keydata, kl);
	memcpy(ct + kl, hmac, SHA512_HMAC_KEYLEN);
	uint8_t aad[24];
	put_le64(aad, guid);
	put_le64(aad + 8, crypt);
	put_le64(aad + 16, version);
	int rc = aead_open(suites[crypt].gcm, wkey, WRAPPING_KEY_LEN, iv, aad, version ? 24 : 8, ct,
			   kl + SHA512_HMAC_KEYLEN, mac, pt);
	if (rc == -ZFUSE_E_AUTH)
		rc = -ZFUSE_E_KEY;
	if (rc == 0) {
		memset(out, 0, sizeof(*out));
		out->crypt = crypt;
		out->version = version;
		out->guid = guid;
		memcpy(out->master, pt, kl);
		memcpy(out->hmac, pt + kl, SHA512_HMAC_KEYLEN);
		pthread_mutex_init(&out->lock, NULL);
		/* Every load starts a fresh salt for the blocks it writes. */
		if (RAND_bytes(out->salt, ZIO_DATA_SALT_LEN) != 1)
			rc = -ZFUSE_E_NOMEM;
	}
	explicit_bzero(pt, sizeof(pt));
	return rc;
}

int zio_crypt_key_generate(uint64_t crypt, zio_crypt_key_t *out)
{
	if (!zio_crypt_suite_valid(crypt))
		return -ZFUSE_E_UNSUPPORTED;
	memset(out, 0, sizeof(*out));
	out->crypt = crypt;
	out->version = ZIO_CRYPT_KEY_CURRENT_VERSION;
	if (RAND_bytes(out->master, (int)suites[crypt].keylen) != 1 ||
	    RAND_bytes(out->hmac, SHA512_HMAC_KEYLEN) != 1 ||
	    RAND_bytes((uint8_t *)&out->guid, sizeof(out->guid)) != 1 ||
	    RAND_bytes(out->salt, ZIO_DATA_SALT_LEN) != 1) {
		explicit_bzero(out, sizeof(*out));
		return -ZFUSE_E_NOMEM;
	}
	pthread_mutex_init(&out->lock, NULL);
	return 0;
}

int zio_crypt_key_wrap(const uint8_t wkey[WRAPPING_KEY_LEN], const zio_crypt_key_t *key,
		       uint8_t iv[WRAPPING_IV_LEN], uint8_t mac[WRAPPING_MAC_LEN],
		       uint8_t keydata[MASTER_KEY_MAX_LEN], uint8_t hmac[SHA512_HMAC_KEYLEN])
{
	if (!zio_crypt_suite_valid(key->crypt))
		return -ZFUSE_E_UNSUPPORTED;
	unsigned kl = suites[key->crypt].keylen;
	uint8_t pt[MASTER_KEY_MAX_LEN + SHA512_HMAC_KEYLEN], ct[sizeof(pt)];
	memcpy(pt, key->master, kl);
	memcpy(pt + kl, key->hmac, SHA512_HMAC_KEYLEN);
	uint8_t aad[24];
	put_le64(aad, key->guid);
	put_le64(aad + 8, key->crypt);
	put_le64(aad + 16, key->version);
	int rc = RAND_bytes(iv, WRAPPING_IV_LEN) == 1 ? 0 : -ZFUSE_E_NOMEM;
	if (rc == 0)
		rc = aead_seal(suites[key->crypt].gcm, wkey, WRAPPING_KEY_LEN, iv, aad,
			       key->version ? 24 : 8, pt, kl + SHA512_HMAC_KEYLEN, ct, mac);
	if (rc == 0) {
		/* the stored master key field is always 32 bytes */
		memset(keydata, 0, MASTER_KEY_MAX_LEN);
		memcpy(keydata, ct, kl);
		memcpy(hmac, ct + kl, SHA512_HMAC_KEYLEN);
	}
	explicit_bzero(pt, sizeof(pt));
	return rc;
}

void zio_crypt_key_destroy(zio_crypt_key_t *key)
{
	pthread_mutex_destroy(&key->lock);
	explicit_bzero(key, sizeof(*key));
}

/* The encryption key of a salt: cached, else derived (HKDF-SHA512 of the
 * master key, no HKDF salt, the block salt as info). */
static int derived_key(zio_crypt_key_t *key, const uint8_t *salt, uint8_t *out)
{
	unsigned kl = suites[key->crypt].keylen;
	pthread_mutex_lock(&key->lock);
	for (int i = 0; i < ZIO_CRYPT_SALT_CACHE; i++) {
		if (key->derived[i].valid && memcmp(key->derived[i].salt, salt, ZIO_DATA_SALT_LEN) == 0) {
			memcpy(out, key->derived[i].key, kl);
			pthread_mutex_unlock(&key->lock);
			return 0;
		}
	}
	pthread_mutex_unlock(&key->lock);
	int rc = hkdf_sha512(key->master, kl, salt, ZIO_DATA_SALT_LEN, out, kl);
	if (rc)
		return rc;
	pthread_mutex_lock(&key->lock);
	unsigned s = key->next_slot++ % ZIO_CRYPT_SALT_CACHE;
	memcpy(key->derived[s].salt, salt, ZIO_DATA_SALT_LEN);
	memcpy(key->derived[s].key, out, kl);
	key->derived[s].valid = true;
	pthread_mutex_unlock(&key->lock);
	return 0;
}

static void bp_mac(const blkptr_t *bp, uint8_t mac[ZIO_DATA_MAC_LEN])
{
	if (bp_get_type(bp) == DMU_OT_OBJSET) {
		memset(mac, 0, ZIO_DATA_MAC_LEN);
		return;
	}
	put_le64(mac, bp->blk_cksum.zc_word[2]);
	put_le64(mac + 8, bp->blk_cksum.zc_word[3]);
}

/* The portable description of a bp that MACs cover (32 bytes, or 24 for
 * version-0 keys): blk_prop with the non-portable fields cleared, the
 * MAC, a zero pad. */
static unsigned bp_auth_buf(const blkptr_t *bp, uint64_t version, uint8_t out[32])
{
	uint64_t prop = bp->blk_prop;
	bp_mac(bp, out + 8);
	const uint64_t dedup = 1ULL << 62, cksum = 0xffULL << 40, psize = 0xffffULL << 16;
	if (version == 0) {
		prop &= ~(dedup | cksum | psize);	/* psize 512: field 0 */
	} else if (bp_is_hole(bp)) {
		prop = 0;
	} else {
		if (bp_get_level(bp) != 0)
			prop &= ~((1ULL << 63) | (0x7fULL << 32) | psize);
		prop &= ~(dedup | cksum);
	}
	put_le64(out, prop);
	put_le64(out + 24, 0);
	return version == 0 ? 24 : 32;
}

static inline unsigned dn_nblkptr(const uint8_t *dnp) { return dnp[3]; }
static inline unsigned dn_bonustype(const uint8_t *dnp) { return dnp[4]; }
static inline unsigned dn_flags(const uint8_t *dnp) { return dnp[7]; }
static inline unsigned dn_bonuslen(const uint8_t *dnp) { return le16(dnp + 10); }
static inline unsigned dn_extra_slots(const uint8_t *dnp) { return dnp[12]; }

/* Where a dnode's bonus area starts and how long it may be, as
 * DN_BONUS/DN_MAX_BONUS_LEN compute them (nblkptr 0 counts as -1 bp). */
static void dn_bonus_area(const uint8_t *dnp, uint64_t *off, uint64_t *len)
{
	int64_t start = DNODE_CORE + 128 + ((int64_t)dn_nblkptr(dnp) - 1) * 128;
	int64_t end = (int64_t)(dn_extra_slots(dnp) + 1) << DNODE_SHIFT;
	if (dn_flags(dnp) & DN_FLAG_SPILL)
		end -= 128;
	*off = (uint64_t)start;
	*len = end > start ? (uint64_t)(end - start) : 0;
}

static bool dn_bonus_sealed(const uint8_t *dnp)
{
	return dnp[0] != 0 && dmu_ot_is_encrypted(dn_bonustype(dnp)) && dn_bonuslen(dnp) != 0;
}

/* The masked core of a dnode as MACs see it. */
static void dn_auth_core(const uint8_t *dnp, uint8_t core[DNODE_CORE])
{
	memcpy(core, dnp, DNODE_CORE);
	core[7] &= DNODE_CRYPT_PORTABLE_FLAGS_MASK;
	memset(core + 24, 0, 8);	/* dn_used */
}

/* The AAD of a dnode block (masked cores, the portable part of every bp,
 * the clear bonus buffers) and its sealed bonus buffers, in block order;
 * plaintext and ciphertext share the layout. */
static int dnode_gather(uint64_t version, const uint8_t *src, uint64_t size, uint8_t *aad,
			uint64_t *aadlenp, uint8_t *sealed, uint64_t *sealedlenp)
{
	uint64_t aadlen = 0, slen = 0, max = size >> DNODE_SHIFT;
	for (uint64_t i = 0; i < max; i += dn_extra_slots(src + (i << DNODE_SHIFT)) + 1) {
		const uint8_t *dnp = src + (i << DNODE_SHIFT);
		uint64_t span = (uint64_t)(dn_extra_slots(dnp) + 1) << DNODE_SHIFT;
		if ((i << DNODE_SHIFT) + span > size)
			return SET_ERROR(-ZFUSE_E_AUTH);
		dn_auth_core(dnp, aad + aadlen);
		aadlen += DNODE_CORE;
		blkptr_t bp;
		for (unsigned j = 0; j < dn_nblkptr(dnp) && DNODE_CORE + (j + 1) * 128 <= span; j++) {
			bp_load(&bp, dnp + DNODE_CORE + j * 128);
			aadlen += bp_auth_buf(&bp, version, aad + aadlen);
		}
		if (dn_flags(dnp) & DN_FLAG_SPILL) {
			bp_load(&bp, dnp + span - 128);
			aadlen += bp_auth_buf(&bp, version, aad + aadlen);
		}
		uint64_t boff, blen;
		dn_bonus_area(dnp, &boff, &blen);
		if (dn_bonus_sealed(dnp)) {
			memcpy(sealed + slen, dnp + boff, blen);
			slen += blen;
		} else {
			memcpy(aad + aadlen, dnp + boff, blen);
			aadlen += blen;
		}
	}
	*aadlenp = aadlen;
	*sealedlenp = slen;
	return 0;
}

/* Put the sealed bonus buffers (opened or sealed) back into dst, a copy
 * of the block whose layout src is. */
static void dnode_scatter(const uint8_t *src, uint8_t *dst, uint64_t size, const uint8_t *sealed)
{
	uint64_t at = 0, max = size >> DNODE_SHIFT;
	for (uint64_t i = 0; i < max; i += dn_extra_slots(src + (i << DNODE_SHIFT)) + 1) {
		const uint8_t *dnp = src + (i << DNODE_SHIFT);
		uint64_t boff, blen;
		dn_bonus_area(dnp, &boff, &blen);
		if (dn_bonus_sealed(dnp)) {
			memcpy(dst + (i << DNODE_SHIFT) + boff, sealed + at, blen);
			at += blen;
		}
	}
}

/* A dnode block through the AEAD: only sealed bonus buffers change. */
static int crypt_dnode_block(bool encrypt, zio_crypt_key_t *key, const uint8_t *k,
			     const uint8_t *iv, uint8_t *mac, const uint8_t *src, uint8_t *dst,
			     uint64_t size)
{
	uint8_t *aad = malloc(size), *in = malloc(size), *out = malloc(size);
	int rc = -ZFUSE_E_NOMEM;
	uint64_t aadlen, len;
	if (!aad || !in || !out)
		goto out;
	if ((rc = dnode_gather(key->version, src, size, aad, &aadlen, in, &len)) != 0)
		goto out;
	bool gcm = suites[key->crypt].gcm;
	unsigned kl = suites[key->crypt].keylen;
	rc = encrypt ? aead_seal(gcm, k, kl, iv, aad, aadlen, in, len, out, mac)
		     : aead_open(gcm, k, kl, iv, aad, aadlen, in, len, mac, out);
	if (rc)
		goto out;
	memcpy(dst, src, size);
	dnode_scatter(src, dst, size, out);
out:
	if (in)
		explicit_bzero(in, size);
	if (out)
		explicit_bzero(out, size);
	free(aad);
	free(in);
	free(out);
	return rc;
}

int zio_crypt_decrypt(zio_crypt_key_t *key, const blkptr_t *bp, const uint8_t *cipher,
		      uint8_t *plain, uint64_t psize)
{
	if (!bp_is_little_endian(bp) || !zio_crypt_suite_valid(key->crypt))
		return -ZFUSE_E_UNSUPPORTED;
	uint8_t salt[ZIO_DATA_SALT_LEN], iv[ZIO_DATA_IV_LEN], mac[ZIO_DATA_MAC_LEN];
	put_le64(salt, bp->blk_dva[2].dva_word[0]);
	put_le64(iv, bp->blk_dva[2].dva_word[1]);
	uint8_t iv2[4] = { (uint8_t)(bp->blk_fill >> 32), (uint8_t)(bp->blk_fill >> 40),
			   (uint8_t)(bp->blk_fill >> 48), (uint8_t)(bp->blk_fill >> 56) };
	memcpy(iv + 8, iv2, 4);
	bp_mac(bp, mac);
	uint8_t k[MASTER_KEY_MAX_LEN];
	int rc = derived_key(key, salt, k);
	if (rc == 0) {
		if (bp_get_type(bp) == DMU_OT_DNODE)
			rc = crypt_dnode_block(false, key, k, iv, mac, cipher, plain, psize);
		else if (bp_get_type(bp) == DMU_OT_INTENT_LOG)
			rc = -ZFUSE_E_UNSUPPORTED;	/* never read: zfuse replays no encrypted logs */
		else
			rc = aead_open(suites[key->crypt].gcm, k, suites[key->crypt].keylen, iv, NULL, 0,
				       cipher, psize, mac, plain);
	}
	explicit_bzero(k, sizeof(k));
	return rc;
}

int zio_crypt_verify_auth(const zio_crypt_key_t *key, const blkptr_t *bp, const void *data,
			  uint64_t psize)
{
	uint8_t digest[SHA512_DIGEST_LENGTH], mac[ZIO_DATA_MAC_LEN];
	unsigned dlen = 0;
	if (!HMAC(EVP_sha512(), key->hmac, SHA512_HMAC_KEYLEN, data, psize, digest, &dlen))
		return -ZFUSE_E_NOMEM;
	bp_mac(bp, mac);
	return memcmp(digest, mac, ZIO_DATA_MAC_LEN) == 0 ? 0 : SET_ERROR(-ZFUSE_E_AUTH);
}

static int indirect_digest(const uint8_t *data, uint64_t size, uint64_t version, uint8_t *digest)
{
	uint64_t n = size / 128, len = 0;
	uint8_t *buf = malloc(n * 32 + 1);
	if (!buf)
		return -ZFUSE_E_NOMEM;
	for (uint64_t i = 0; i < n; i++) {
		blkptr_t bp;
		bp_load(&bp, data + i * 128);
		len += bp_auth_buf(&bp, version, buf + len);
	}
	int ok = EVP_Digest(buf, len, digest, NULL, EVP_sha512(), NULL);
	free(buf);
	return ok ? 0 : -ZFUSE_E_NOMEM;
}

int zio_crypt_verify_indirect(const blkptr_t *bp, const void *data, uint64_t size)
{
	uint8_t digest[SHA512_DIGEST_LENGTH], mac[ZIO_DATA_MAC_LEN];
	bp_mac(bp, mac);
	/* The key version is unknown here: either format is accepted. */
	for (int version = ZIO_CRYPT_KEY_CURRENT_VERSION; version >= 0; version--) {
		int rc = indirect_digest(data, size, (uint64_t)version, digest);
		if (rc)
			return rc;
		if (memcmp(digest, mac, ZIO_DATA_MAC_LEN) == 0)
			return 0;
	}
	return SET_ERROR(-ZFUSE_E_AUTH);
}

/* What objset MACs take of a dnode: its masked core and the portable
 * part of its bps (the spill bp too). Appends to buf; returns the length. */
static uint64_t mac_dnode(uint64_t version, const uint8_t *dnp, uint8_t *buf)
{
	uint64_t len = DNODE_CORE;
	dn_auth_core(dnp, buf);
	blkptr_t bp;
	for (unsigned j = 0; j < dn_nblkptr(dnp) && j < 3; j++) {
		bp_load(&bp, dnp + DNODE_CORE + j * 128);
		len += bp_auth_buf(&bp, version, buf + len);
	}
	if (dn_flags(dnp) & DN_FLAG_SPILL) {
		bp_load(&bp, dnp + 512 - 128);
		len += bp_auth_buf(&bp, version, buf + len);
	}
	return len;
}

/* The portable and local MACs of an objset block as OpenZFS computes them. */
static int objset_macs(const zio_crypt_key_t *key, const uint8_t *osp, uint64_t size,
		       uint8_t portable[ZIO_OBJSET_MAC_LEN], uint8_t local[ZIO_OBJSET_MAC_LEN])
{
	uint8_t digest[SHA512_DIGEST_LENGTH], buf[8 + 3 * (DNODE_CORE + 4 * 32)];
	unsigned dlen;
	uint64_t flags = le64(osp + 712), len = 0;
	/* OpenZFS feeds os_type byte-swapped from the little-endian block
	 * (its le_bswap test inverted), then the portable flags (mask 0). */
	put_be64(buf, le64(osp + 704));
	put_le64(buf + 8, 0);
	len = 16 + mac_dnode(key->version, osp, buf + 16);
	if (!HMAC(EVP_sha512(), key->hmac, SHA512_HMAC_KEYLEN, buf, len, digest, &dlen))
		return -ZFUSE_E_NOMEM;
	memcpy(portable, digest, ZIO_OBJSET_MAC_LEN);
	memset(local, 0, ZIO_OBJSET_MAC_LEN);
	bool none3 = size >= OBJSET_PHYS_SIZE_V3 && !osp[1024] && !osp[1536] && !osp[2048];
	bool none2 = size >= OBJSET_PHYS_SIZE_V2 && !osp[1024] && !osp[1536];
	if ((flags & OBJSET_FLAG_USERACCOUNTING_COMPLETE) && !none3 && !none2 &&
	    size > OBJSET_PHYS_SIZE_V1) {
		put_le64(buf, flags);
		len = 8;
		if (osp[1024])
			len += mac_dnode(key->version, osp + 1024, buf + len);
		if (osp[1536])
			len += mac_dnode(key->version, osp + 1536, buf + len);
		if (size >= OBJSET_PHYS_SIZE_V3 && osp[2048])
			len += mac_dnode(key->version, osp + 2048, buf + len);
		if (!HMAC(EVP_sha512(), key->hmac, SHA512_HMAC_KEYLEN, buf, len, digest, &dlen))
			return -ZFUSE_E_NOMEM;
		memcpy(local, digest, ZIO_OBJSET_MAC_LEN);
	}
	return 0;
}

int zio_crypt_verify_objset(const zio_crypt_key_t *key, const uint8_t *osp, uint64_t size)
{
	uint8_t portable[ZIO_OBJSET_MAC_LEN], local[ZIO_OBJSET_MAC_LEN];
	int rc = objset_macs(key, osp, size, portable, local);
	if (rc)
		return rc;
	return memcmp(portable, osp + 720, ZIO_OBJSET_MAC_LEN) == 0 &&
	       memcmp(local, osp + 752, ZIO_OBJSET_MAC_LEN) == 0 ? 0 : SET_ERROR(-ZFUSE_E_AUTH);
}

int zio_crypt_objset_sign(const zio_crypt_key_t *key, uint8_t *osp, uint64_t size)
{
	return objset_macs(key, osp, size, osp + 720, osp + 752);
}

int zio_crypt_indirect_mac(uint64_t version, const void *data, uint64_t size,
			   uint8_t mac[ZIO_DATA_MAC_LEN])
{
	uint8_t digest[SHA512_DIGEST_LENGTH];
	int rc = indirect_digest(data, size, version, digest);
	if (rc == 0)
		memcpy(mac, digest, ZIO_DATA_MAC_LEN);
	return rc;
}

int zio_crypt_auth_mac(const zio_crypt_key_t *key, const void *data, uint64_t psize,
		       uint8_t mac[ZIO_DATA_MAC_LEN])
{
	uint8_t digest[SHA512_DIGEST_LENGTH];
	unsigned dlen = 0;
	if (!HMAC(EVP_sha512(), key->hmac, SHA512_HMAC_KEYLEN, data, psize, digest, &dlen))
		return -ZFUSE_E_NOMEM;
	memcpy(mac, digest, ZIO_DATA_MAC_LEN);
	return 0;
}

/* The salt of the next block: the key's current one, replaced by a fresh
 * random salt once it has served ZFS_KEY_MAX_SALT_USES blocks (OpenZFS's
 * default bound, so no derived key encrypts too many blocks). */
static int next_salt(zio_crypt_key_t *key, uint8_t salt[ZIO_DATA_SALT_LEN])
{
	int rc = 0;
	pthread_mutex_lock(&key->lock);
	memcpy(salt, key->salt, ZIO_DATA_SALT_LEN);
	if (++key->salt_uses >= ZFS_KEY_MAX_SALT_USES) {
		if (RAND_bytes(key->salt, ZIO_DATA_SALT_LEN) == 1)
			key->salt_uses = 0;
		else
			rc = -ZFUSE_E_NOMEM;
	}
	pthread_mutex_unlock(&key->lock);
	return rc;
}

int zio_crypt_encrypt(zio_crypt_key_t *key, unsigned type, const uint8_t *plain, uint8_t *cipher,
		      uint64_t psize, uint8_t salt[ZIO_DATA_SALT_LEN], uint8_t iv[ZIO_DATA_IV_LEN],
		      uint8_t mac[ZIO_DATA_MAC_LEN])
{
	if (!zio_crypt_suite_valid(key->crypt) || type == DMU_OT_INTENT_LOG)
		return -ZFUSE_E_UNSUPPORTED;
	int rc = next_salt(key, salt);
	if (rc)
		return rc;
	if (RAND_bytes(iv, ZIO_DATA_IV_LEN) != 1)
		return -ZFUSE_E_NOMEM;
	uint8_t k[MASTER_KEY_MAX_LEN];
	if ((rc = derived_key(key, salt, k)) == 0) {
		if (type == DMU_OT_DNODE)
			rc = crypt_dnode_block(true, key, k, iv, mac, plain, cipher, psize);
		else
			rc = aead_seal(suites[key->crypt].gcm, k, suites[key->crypt].keylen, iv, NULL,
				       0, plain, psize, cipher, mac);
	}
	explicit_bzero(k, sizeof(k));
	return rc;
}

/* ---- intent-log blocks ------------------------------------------------------ */

#define ZIL_CHAIN_SIZE 184
#define ZIL_CHAIN_AUTH 144	/* zil_chain_t without its zio_eck_t */
#define ZIL_CHAIN_NUSED 136
#define ZIL_CHAIN_CKSUM 152
#define ZIL_LR_SIZE 32
#define ZIL_LR_WRITE_SIZE 192
#define ZIL_LR_WRITE_BP 64
#define ZIL_TX_WRITE 9

/* The AAD of a log block (the chain header less its checksum, each lr_t,
 * the bp of each TX_WRITE) and its sealed bytes (the rest of every record,
 * a TX_WRITE's fields before its bp and data after it), in block order.
 * With dst, the sealed bytes of `sealed` are put in their places there
 * instead (the AAD parts copied from src). Records run from the chain
 * header to zc_nused. */
static int zil_walk(const uint8_t *src, uint64_t size, uint8_t *aad, uint64_t *aadlen,
		    uint8_t *sealed, uint64_t *slen, uint8_t *dst)
{
	uint64_t nused = le64(src + ZIL_CHAIN_NUSED), alen = 0, n = 0;
	if (size < ZIL_CHAIN_SIZE || nused < ZIL_CHAIN_SIZE || nused > size)
		return SET_ERROR(-ZFUSE_E_AUTH);
	if (dst) {
		memset(dst, 0, size);
		memcpy(dst, src, ZIL_CHAIN_SIZE);
	}
	memcpy(aad, src, ZIL_CHAIN_AUTH);
	alen = ZIL_CHAIN_AUTH;
	for (uint64_t off = ZIL_CHAIN_SIZE, len; off < nused; off += len) {
		const uint8_t *lr = src + off;
		if (nused - off < ZIL_LR_SIZE)
			return SET_ERROR(-ZFUSE_E_AUTH);
		uint64_t type = le64(lr);
		len = le64(lr + 8);
		if (len < ZIL_LR_SIZE || len > nused - off ||
		    (type == ZIL_TX_WRITE && len < ZIL_LR_WRITE_SIZE))
			return SET_ERROR(-ZFUSE_E_AUTH);
		memcpy(aad + alen, lr, ZIL_LR_SIZE);
		alen += ZIL_LR_SIZE;
		/* the sealed ranges of this record: [a0, a1) and [b0, b1) */
		uint64_t a0 = ZIL_LR_SIZE, a1 = len, b0 = len, b1 = len;
		if (type == ZIL_TX_WRITE) {
			a1 = ZIL_LR_WRITE_BP;
			b0 = ZIL_LR_WRITE_SIZE;
			memcpy(aad + alen, lr + ZIL_LR_WRITE_BP, 128);
			alen += 128;
		}
		if (dst) {
			memcpy(dst + off, lr, a0);
			if (type == ZIL_TX_WRITE)
				memcpy(dst + off + ZIL_LR_WRITE_BP, lr + ZIL_LR_WRITE_BP, 128);
			memcpy(dst + off + a0, sealed + n, a1 - a0);
			n += a1 - a0;
			memcpy(dst + off + b0, sealed + n, b1 - b0);
			n += b1 - b0;
		} else {
			memcpy(sealed + n, lr + a0, a1 - a0);
			n += a1 - a0;
			memcpy(sealed + n, lr + b0, b1 - b0);
			n += b1 - b0;
		}
	}
	*aadlen = alen;
	*slen = n;
	return 0;
}

static void zil_bp_params(const blkptr_t *bp, uint8_t salt[ZIO_DATA_SALT_LEN],
			  uint8_t iv[ZIO_DATA_IV_LEN])
{
	put_le64(salt, bp->blk_dva[2].dva_word[0]);
	put_le64(iv, bp->blk_dva[2].dva_word[1]);
	for (int i = 0; i < 4; i++)
		iv[8 + i] = (uint8_t)(bp->blk_fill >> (32 + 8 * i));
}

int zio_crypt_zil_params(zio_crypt_key_t *key, blkptr_t *bp)
{
	uint8_t salt[ZIO_DATA_SALT_LEN], iv[ZIO_DATA_IV_LEN];
	int rc = next_salt(key, salt);
	if (rc)
		return rc;
	if (RAND_bytes(iv, ZIO_DATA_IV_LEN) != 1)
		return -ZFUSE_E_NOMEM;
	bp->blk_prop |= 1ULL << 61;
	bp->blk_dva[2].dva_word[0] = le64(salt);
	bp->blk_dva[2].dva_word[1] = le64(iv);
	bp->blk_fill = (bp->blk_fill & 0xffffffffULL) | (uint64_t)le32(iv + 8) << 32;
	return 0;
}

static int crypt_zil_block(bool encrypt, zio_crypt_key_t *key, const blkptr_t *bp,
			   const uint8_t *src, uint8_t *dst, uint64_t size)
{
	if (!zio_crypt_suite_valid(key->crypt) || !bp_is_little_endian(bp))
		return -ZFUSE_E_UNSUPPORTED;
	uint8_t salt[ZIO_DATA_SALT_LEN], iv[ZIO_DATA_IV_LEN], mac[ZIO_DATA_MAC_LEN];
	uint8_t k[MASTER_KEY_MAX_LEN];
	zil_bp_params(bp, salt, iv);
	/* the MAC lives in words 2 and 3 of the embedded checksum */
	if (!encrypt)
		memcpy(mac, src + ZIL_CHAIN_CKSUM + 16, ZIO_DATA_MAC_LEN);
	/* block-sized scratch from the buffer lists (a 128K malloc is an mmap) */
	uint8_t *aad = zio_data_buf_alloc(size), *in = zio_data_buf_alloc(size);
	uint8_t *out = zio_data_buf_alloc(size);
	uint64_t aadlen, len;
	int rc = !aad || !in || !out ? -ZFUSE_E_NOMEM : derived_key(key, salt, k);
	if (rc == 0)
		rc = zil_walk(src, size, aad, &aadlen, in, &len, NULL);
	if (rc == 0) {
		bool gcm = suites[key->crypt].gcm;
		unsigned kl = suites[key->crypt].keylen;
		rc = encrypt ? aead_seal(gcm, k, kl, iv, aad, aadlen, in, len, out, mac)
			     : aead_open(gcm, k, kl, iv, aad, aadlen, in, len, mac, out);
	}
	if (rc == 0)
		rc = zil_walk(src, size, aad, &aadlen, out, &len, dst);
	if (rc == 0 && encrypt)
		memcpy(dst + ZIL_CHAIN_CKSUM + 16, mac, ZIO_DATA_MAC_LEN);
	explicit_bzero(k, sizeof(k));
	if (in)
		explicit_bzero(in, size);
	if (out)
		explicit_bzero(out, size);
	zio_data_buf_free(aad, size);
	zio_data_buf_free(in, size);
	zio_data_buf_free(out, size);
	return rc;
}

int zio_crypt_zil_seal(zio_crypt_key_t *key, const blkptr_t *bp, const uint8_t *plain,
		       uint8_t *cipher, uint64_t size)
{
	return crypt_zil_block(true, key, bp, plain, cipher, size);
}

int zio_crypt_zil_open(zio_crypt_key_t *key, const blkptr_t *bp, const uint8_t *cipher,
		       uint8_t *plain, uint64_t size)
{
	return crypt_zil_block(false, key, bp, cipher, plain, size);
}

int zio_crypt_pbkdf2(const void *pass, size_t len, uint64_t salt, uint64_t iters,
		     uint8_t out[WRAPPING_KEY_LEN])
{
	uint8_t s[8];
	put_le64(s, salt);
	if (iters == 0 || iters > INT32_MAX)
		return -ZFUSE_E_INVAL;
	return PKCS5_PBKDF2_HMAC_SHA1(pass, (int)len, s, sizeof(s), (int)iters, WRAPPING_KEY_LEN,
				      out) == 1 ? 0 : -ZFUSE_E_NOMEM;
}
