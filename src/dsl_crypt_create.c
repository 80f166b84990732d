/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dsl_crypt_create.c — new encrypted datasets (OpenZFS's
 * dsl_dataset_create_crypt_sync and dsl_crypto_key_create_sync, with the
 * checks libzfs's zfs_crypto_create makes first).
 *
 * Theory: every encrypted dsl_dir has its own DSL crypto key object (a
 * MOS ZAP): a random master key and HMAC key, wrapped with the wrapping
 * key of its encryption root, the suite, a guid, the root's dir and the
 * root's key format and PBKDF2 parameters. A dataset given keyformat (and
 * key material) becomes a new encryption root, its keylocation a local
 * property; one given only a suite, or nothing under an encrypted parent,
 * wraps its key with the parent's root's wrapping key, which must be
 * loaded. Below an encrypted parent encryption cannot be turned off.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>
#include "dmu_types.h"
#include "dsl.h"
#include "dsl_prop.h"
#include "dsl_synctask.h"
#include "spa_lock.h"
#include "dsl_crypt.h"
#include "spa_misc.h"
#include "dmu_tx.h"
#include "zap.h"
#include "zfeature_write.h"
#include "zfs_prop.h"
#include "zfuse/crypt.h"
#include "zfuse/dataset.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define DEFAULT_PBKDF2_ITERATIONS 350000
#define MIN_PBKDF2_ITERATIONS 100000

static bool is_crypt_prop(const char *name)
{
	return strcmp(name, "encryption") == 0 || strcmp(name, "keyformat") == 0 ||
	       strcmp(name, "keylocation") == 0 || strcmp(name, "pbkdf2iters") == 0;
}

static int bad(spa_t *spa, const char *name, const char *why)
{
	spa_log(spa, ZFUSE_LOG_ERROR, "cannot create '%s': %s", name, why);
	return SET_ERROR(-ZFUSE_E_INVAL);
}

int dsl_crypto_params_create(spa_t *spa, const char *name, uint64_t parent_dir,
			     struct zfuse_prop_setting *props, size_t *nprops, const void *material,
			     size_t len, struct dsl_crypto_params *dcp)
{
	memset(dcp, 0, sizeof(*dcp));
	const char *enc = NULL, *fmt = NULL, *loc = NULL, *iters = NULL;
	size_t n = 0;
	for (size_t i = 0; i < *nprops; i++) {
		const char *p = props[i].name;
		if (!is_crypt_prop(p)) {
			props[n++] = props[i];
			continue;
		}
		const char *v = props[i].value;
		*(p[0] == 'e' ? &enc : p[0] == 'k' && p[3] == 'f' ? &fmt : p[0] == 'k' ? &loc : &iters) = v;
	}
	*nprops = n;

	/* The parent's suite and encryption root, when it is encrypted. */
	uint64_t pcrypt = 0, prootdir = 0, pkeyobj = 0;
	int rc;
	if (parent_dir && dsl_dir_is_encrypted(spa, parent_dir)) {
		if ((rc = dsl_crypt_keyobj(spa, parent_dir, &pkeyobj)) != 0 ||
		    (rc = dsl_crypt_keyobj_get(spa, pkeyobj, "DSL_CRYPTO_SUITE", &pcrypt)) != 0 ||
		    (rc = dsl_crypt_root(spa, parent_dir, &prootdir)) != 0)
			return rc;
	}
	uint64_t crypt = pcrypt;
	if (enc) {
		uint64_t v;
		if (!zfs_prop_index_value(ZFS_PROP_ENCRYPTION, enc, &v))
			return bad(spa, name, "bad encryption value (on, off, aes-128-ccm, "
				   "aes-192-ccm, aes-256-ccm, aes-128-gcm, aes-192-gcm, aes-256-gcm)");
		if (v == ZIO_CRYPT_OFF && pcrypt)
			return bad(spa, name, "Invalid encryption value. Dataset must be encrypted.");
		crypt = v == ZIO_CRYPT_ON ? ZIO_CRYPT_AES_256_GCM : v == ZIO_CRYPT_OFF ? 0 : v;
	}
	if (!crypt) {
		if (fmt || loc || iters)
			return bad(spa, name, "Encryption required to set keyformat, keylocation or "
				   "pbkdf2iters.");
		return 0;
	}
	if (!spa_feature_is_enabled(spa, "encryption"))
		return bad(spa, name, "Encryption feature not enabled.");
	dcp->crypt = crypt;
	if (!fmt && !loc && !iters) {
		if (!pcrypt)
			return bad(spa, name, "Keyformat required for new encryption root.");
		/* the parent's root's wrapping key wraps this one too */
		dcp->rootdir = prootdir;
		if ((rc = dsl_crypt_keyobj_get(spa, pkeyobj, "keyformat", &dcp->keyformat)) != 0)
			return rc;
		if (dcp->keyformat == ZFS_KEYFORMAT_PASSPHRASE &&
		    ((rc = dsl_crypt_keyobj_get(spa, pkeyobj, "pbkdf2salt", &dcp->salt)) != 0 ||
		     (rc = dsl_crypt_keyobj_get(spa, pkeyobj, "pbkdf2iters", &dcp->iters)) != 0))
			return rc;
		if (spa_keystore_wkey_get(spa, prootdir, dcp->wkey) != 0) {
			spa_log(spa, ZFUSE_LOG_ERROR, "cannot create '%s': encryption root's key is "
				"not loaded or provided", name);
			return SET_ERROR(-ZFUSE_E_ACCESS);
		}
		return 0;
	}
	if (!fmt)
		return bad(spa, name, "Keyformat required for new encryption root.");
	if (!zfs_prop_index_value(ZFS_PROP_KEYFORMAT, fmt, &dcp->keyformat) ||
	    dcp->keyformat == ZFS_KEYFORMAT_NONE)
		return bad(spa, name, "bad keyformat value (raw, hex, passphrase)");
	dcp->new_root = true;
	snprintf(dcp->keylocation, sizeof(dcp->keylocation), "%s", loc ? loc : "prompt");
	if (strcmp(dcp->keylocation, "prompt") != 0 &&
	    (strncmp(dcp->keylocation, "file:///", 8) != 0 || strlen(loc) >= sizeof(dcp->keylocation)))
		return bad(spa, name, "Invalid keylocation (prompt or file:///PATH).");
	if (dcp->keyformat == ZFS_KEYFORMAT_PASSPHRASE) {
		dcp->iters = DEFAULT_PBKDF2_ITERATIONS;
		if (iters) {
			char *end;
			dcp->iters = strtoull(iters, &end, 10);
			if (*end || !*iters)
				return bad(spa, name, "bad pbkdf2iters value");
			if (dcp->iters < MIN_PBKDF2_ITERATIONS)
				return bad(spa, name, "Minimum pbkdf2 iterations is 100000.");
		}
		if (RAND_bytes((uint8_t *)&dcp->salt, sizeof(dcp->salt)) != 1)
			return -ZFUSE_E_NOMEM;
	} else if (iters) {
		return bad(spa, name, "Cannot specify pbkdf2iters with a non-passphrase keyformat.");
	}
	if (!material) {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot create '%s': no key material given for the new "
			"encryption root", name);
		return SET_ERROR(-ZFUSE_E_INVAL);
	}
	rc = dsl_crypt_derive_wkey(spa, dcp->keyformat, dcp->salt, dcp->iters, material, len,
				   dcp->wkey);
	if (rc)
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot create '%s': invalid key material", name);
	return rc;
}

void dsl_crypto_params_wipe(struct dsl_crypto_params *dcp)
{
	explicit_bzero(dcp, sizeof(*dcp));
}

int dsl_crypto_create_sync(spa_t *spa, uint64_t dirobj, uint64_t dsobj,
			   const struct dsl_crypto_params *dcp, dmu_tx_t *tx, zio_crypt_key_t **key)
{
	*key = NULL;
	zio_crypt_key_t mk;
	uint8_t iv[WRAPPING_IV_LEN], mac[WRAPPING_MAC_LEN], keydata[MASTER_KEY_MAX_LEN];
	uint8_t hmac[SHA512_HMAC_KEYLEN];
	int rc = zio_crypt_key_generate(dcp->crypt, &mk);
	if (rc)
		return rc;
	rc = zio_crypt_key_wrap(dcp->wkey, &mk, iv, mac, keydata, hmac);
	uint64_t guid = mk.guid, version = mk.version, one = 1;
	zio_crypt_key_destroy(&mk);
	uint64_t rootdir = dcp->new_root ? dirobj : dcp->rootdir, keyobj = 0;
	objset_t *mos = spa->mos;
	if (rc == 0)
		rc = zap_create(mos, DMU_OTN_ZAP_METADATA, DMU_OT_NONE, 0, tx, &keyobj);
	/* dsl_crypto_key_sync_impl's entries, then the refcount */
	if (rc == 0)
		rc = zap_update(mos, keyobj, "DSL_CRYPTO_SUITE", 8, 1, &dcp->crypt, tx);
	if (rc == 0)
		rc = zap_update(mos, keyobj, "DSL_CRYPTO_ROOT_DDOBJ", 8, 1, &rootdir, tx);
	if (rc == 0)
		rc = zap_update(mos, keyobj, "DSL_CRYPTO_GUID", 8, 1, &guid, tx);
	if (rc == 0)
		rc = zap_update(mos, keyobj, "DSL_CRYPTO_IV", 1, sizeof(iv), iv, tx);
	if (rc == 0)
		rc = zap_update(mos, keyobj, "DSL_CRYPTO_MAC", 1, sizeof(mac), mac, tx);
	if (rc == 0)
		rc = zap_update(mos, keyobj, "DSL_CRYPTO_MASTER_KEY_1", 1, sizeof(keydata), keydata, tx);
	if (rc == 0)
		rc = zap_update(mos, keyobj, "DSL_CRYPTO_HMAC_KEY_1", 1, sizeof(hmac), hmac, tx);
	if (rc == 0)
		rc = zap_update(mos, keyobj, "keyformat", 8, 1, &dcp->keyformat, tx);
	if (rc == 0)
		rc = zap_update(mos, keyobj, "pbkdf2salt", 8, 1, &dcp->salt, tx);
	if (rc == 0)
		rc = zap_update(mos, keyobj, "pbkdf2iters", 8, 1, &dcp->iters, tx);
	if (rc == 0)
		rc = zap_update(mos, keyobj, "DSL_CRYPTO_VERSION", 8, 1, &version, tx);
	if (rc == 0)
		rc = zap_update(mos, keyobj, "DSL_CRYPTO_REFCOUNT", 8, 1, &one, tx);
	/* the dir points at its key; the dataset activates the feature */
	if (rc == 0)
		rc = dmu_object_zapify(spa, dirobj, tx);
	if (rc == 0)
		rc = zap_add(mos, dirobj, "com.datto:crypto_key_obj", 8, 1, &keyobj, tx);
	if (rc == 0)
		rc = dsl_dataset_activate_feature(spa, dsobj, "encryption", tx);
	if (rc == 0 && dcp->new_root) {
		dsl_dir_phys_t dd;
		if ((rc = dsl_dir_read(spa, dirobj, &dd)) == 0)
			rc = zap_update(mos, dd.props_zapobj, "keylocation", 1,
					strlen(dcp->keylocation) + 1, dcp->keylocation, tx);
		if (rc == 0)
			rc = spa_keystore_wkey_add(spa, dirobj, dcp->wkey);
	}
	if (rc == 0)
		rc = dsl_crypt_key_hold(spa, dirobj, key);
	explicit_bzero(keydata, sizeof(keydata));
	explicit_bzero(hmac, sizeof(hmac));
	return rc;
}

int dsl_crypto_clone_check(spa_t *spa, const char *name, uint64_t parent_dir, uint64_t origin_dir)
{
	bool oenc = dsl_dir_is_encrypted(spa, origin_dir);
	if (!oenc && parent_dir && dsl_dir_is_encrypted(spa, parent_dir))
		return bad(spa, name, "an unencrypted clone cannot live below an encrypted parent");
	uint64_t root;
	if (oenc && (dsl_crypt_root(spa, origin_dir, &root) != 0 ||
		     !spa_keystore_wkey_loaded(spa, root))) {
		spa_log(spa, ZFUSE_LOG_ERROR, "cannot create '%s': the origin's encryption key is not "
			"loaded", name);
		return SET_ERROR(-ZFUSE_E_ACCESS);
	}
	return 0;
}

int dsl_crypto_clone_sync(spa_t *spa, uint64_t dirobj, uint64_t dsobj, uint64_t origin_dir,
			  dmu_tx_t *tx)
{
	uint64_t keyobj, refs;
	int rc = dsl_crypt_keyobj(spa, origin_dir, &keyobj);
	if (rc == -ZFUSE_E_NOENT)
		return 0;
	/* dsl_crypto_key_clone_sync: the origin's key object, one more user */
	if (rc == 0)
		rc = dsl_crypt_keyobj_get(spa, keyobj, "DSL_CRYPTO_REFCOUNT", &refs);
	if (rc == 0)
		rc = zap_update_uint64(spa->mos, keyobj, "DSL_CRYPTO_REFCOUNT", refs + 1, tx);
	if (rc == 0)
		rc = dmu_object_zapify(spa, dirobj, tx);
	if (rc == 0)
		rc = zap_add(spa->mos, dirobj, "com.datto:crypto_key_obj", 8, 1, &keyobj, tx);
	if (rc == 0)
		rc = dsl_dataset_activate_feature(spa, dsobj, "encryption", tx);
	return rc;
}

int dsl_crypto_key_destroy_sync(spa_t *spa, uint64_t dirobj, dmu_tx_t *tx)
{
	uint64_t keyobj, refs, root = 0;
	int rc = dsl_crypt_keyobj(spa, dirobj, &keyobj);
	if (rc == -ZFUSE_E_NOENT)
		return 0;
	if (rc == 0)
		rc = dsl_crypt_keyobj_get(spa, keyobj, "DSL_CRYPTO_REFCOUNT", &refs);
	if (rc == 0)
		rc = dsl_crypt_keyobj_get(spa, keyobj, "DSL_CRYPTO_ROOT_DDOBJ", &root);
	if (rc)
		return rc;
	/* a root's wrapping key goes with it (its dir number may come back) */
	if (root == dirobj)
		spa_keystore_wkey_remove(spa, dirobj);
	if (refs > 1)
		return zap_update_uint64(spa->mos, keyobj, "DSL_CRYPTO_REFCOUNT", refs - 1, tx);
	return dmu_object_free(spa->mos, keyobj, tx);
}

int dsl_crypto_snapshot_sync(spa_t *spa, uint64_t dirobj, uint64_t snapobj, dmu_tx_t *tx)
{
	/* errata #4's remedy: encrypted snapshots get an IV set guid once
	 * bookmark_v2 is enabled */
	if (!dsl_dir_is_encrypted(spa, dirobj) || !spa_feature_is_enabled(spa, "bookmark_v2"))
		return 0;
	uint64_t guid;
	if (RAND_bytes((uint8_t *)&guid, sizeof(guid)) != 1)
		return -ZFUSE_E_NOMEM;
	int rc = dmu_object_zapify(spa, snapobj, tx);
	if (rc == 0)
		rc = zap_add(spa->mos, snapobj, "com.datto:ivset_guid", 8, 1, &guid, tx);
	return rc;
}
