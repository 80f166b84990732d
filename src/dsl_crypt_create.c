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

/* ---- change-key ------------------------------------------------------------ */

struct change_key_arg {
	spa_t *spa;
	const char *root;
	uint64_t rootdir;
	uint64_t *keyobjs;
	size_t n, cap;
	struct dsl_crypto_params dcp;	/* the new key and its parameters */
	uint8_t oldw[WRAPPING_KEY_LEN];
};

/* Every DSL crypto key wrapped by the root's key, each once (clones share). */
static int collect_keyobj(const struct zfuse_dataset_info *info, void *varg)
{
	struct change_key_arg *a = varg;
	if (info->type == ZFUSE_DS_SNAPSHOT || info->type == ZFUSE_DS_BOOKMARK)
		return 0;
	struct dsl_dataset_ref ref;
	uint64_t keyobj, root;
	spa_enter_read(a->spa);
	int rc = dsl_dataset_find(a->spa, info->name, &ref);
	bool mine = rc == 0 && dsl_crypt_keyobj(a->spa, ref.dirobj, &keyobj) == 0 &&
		    dsl_crypt_keyobj_get(a->spa, keyobj, "DSL_CRYPTO_ROOT_DDOBJ", &root) == 0 &&
		    root == a->rootdir;
	spa_exit(a->spa);
	if (!mine)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (a->keyobjs[i] == keyobj)
			return 0;
	if (a->n == a->cap) {
		size_t nc = a->cap ? 2 * a->cap : 8;
		uint64_t *nv = realloc(a->keyobjs, nc * sizeof(*nv));
		if (!nv)
			return -ZFUSE_E_NOMEM;
		a->keyobjs = nv;
		a->cap = nc;
	}
	a->keyobjs[a->n++] = keyobj;
	return 0;
}

static int change_key_check(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	(void)tx;
	struct change_key_arg *a = varg;
	if (spa_keystore_wkey_get(spa, a->rootdir, a->oldw) != 0) {
		spa_log(spa, ZFUSE_LOG_ERROR, "Key change error: Key must be loaded.");
		return SET_ERROR(-ZFUSE_E_ACCESS);
	}
	return 0;
}

static int change_key_sync(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	struct change_key_arg *a = varg;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < a->n; i++)
		rc = dsl_crypt_rewrap_sync(spa, a->keyobjs[i], a->oldw, a->dcp.wkey, a->dcp.keyformat,
					   a->dcp.salt, a->dcp.iters, tx);
	dsl_dir_phys_t dd;
	if (rc == 0 && (rc = dsl_dir_read(spa, a->rootdir, &dd)) == 0)
		rc = zap_update(spa->mos, dd.props_zapobj, "keylocation", 1,
				strlen(a->dcp.keylocation) + 1, a->dcp.keylocation, tx);
	if (rc == 0)
		rc = spa_keystore_wkey_add(spa, a->rootdir, a->dcp.wkey);
	return rc;
}

int zfuse_key_change(zfuse_pool_t *pool, const char *root, const struct zfuse_prop_setting *props,
		     size_t nprops, const void *material, size_t len)
{
	spa_t *spa = (spa_t *)pool;
	struct change_key_arg a = { .spa = spa, .root = root };
	struct zfuse_prop_setting p[4];
	const char *fmt = NULL, *loc = NULL, *iters = NULL;
	for (size_t i = 0; i < nprops; i++) {
		if (strcmp(props[i].name, "keyformat") == 0)
			fmt = props[i].value;
		else if (strcmp(props[i].name, "keylocation") == 0)
			loc = props[i].value;
		else if (strcmp(props[i].name, "pbkdf2iters") == 0)
			iters = props[i].value;
		else {
			spa_log(spa, ZFUSE_LOG_ERROR, "Key change error: '%s' cannot be changed with "
				"the key (keyformat, keylocation, pbkdf2iters).", props[i].name);
			return SET_ERROR(-ZFUSE_E_INVAL);
		}
	}
	struct dsl_dataset_ref ref;
	uint64_t keyobj, oldfmt = 0, olditers = 0;
	char oldloc[1024] = "prompt";
	spa_enter_read(spa);
	int rc = dsl_dataset_find(spa, root, &ref);
	if (rc == 0 && (rc = dsl_crypt_root(spa, ref.dirobj, &a.rootdir)) == -ZFUSE_E_NOENT) {
		spa_log(spa, ZFUSE_LOG_ERROR, "Key change error: '%s' is not encrypted.", root);
		rc = SET_ERROR(-ZFUSE_E_INVAL);
	}
	if (rc == 0 && a.rootdir != ref.dirobj) {
		spa_log(spa, ZFUSE_LOG_ERROR, "Key change error: '%s' is not an encryption root.", root);
		rc = SET_ERROR(-ZFUSE_E_INVAL);
	}
	if (rc == 0 && (rc = dsl_crypt_keyobj(spa, a.rootdir, &keyobj)) == 0) {
		dsl_crypt_keyobj_get(spa, keyobj, "keyformat", &oldfmt);
		dsl_crypt_keyobj_get(spa, keyobj, "pbkdf2iters", &olditers);
		dsl_prop_get_string(spa, a.rootdir, "keylocation", false, oldloc, sizeof(oldloc), NULL);
	}
	if (rc == 0 && !spa_keystore_wkey_loaded(spa, a.rootdir)) {
		spa_log(spa, ZFUSE_LOG_ERROR, "Key change error: Key must be loaded.");
		rc = SET_ERROR(-ZFUSE_E_ACCESS);
	}
	/* The new key's parameters as a new root's, defaulting to the old. */
	uint64_t suite = 0;
	if (rc == 0)
		rc = dsl_crypt_keyobj_get(spa, keyobj, "DSL_CRYPTO_SUITE", &suite);
	spa_exit(spa);
	if (rc)
		return rc;
	static const char *const fmts[] = { "none", "raw", "hex", "passphrase" };
	char itbuf[24];
	size_t n = 0;
	p[n++] = (struct zfuse_prop_setting){ "encryption", "on" };
	p[n++] = (struct zfuse_prop_setting){ "keyformat", fmt ? fmt : fmts[oldfmt < 4 ? oldfmt : 0] };
	p[n++] = (struct zfuse_prop_setting){ "keylocation", loc ? loc : oldloc };
	bool pass = strcmp(p[1].value, "passphrase") == 0;
	if (!iters && pass && olditers) {
		snprintf(itbuf, sizeof(itbuf), "%" PRIu64, olditers);
		iters = itbuf;
	}
	if (iters && (pass || !fmt))
		p[n++] = (struct zfuse_prop_setting){ "pbkdf2iters", iters };
	spa_enter_read(spa);
	rc = dsl_crypto_params_create(spa, root, 0, p, &n, material, len, &a.dcp);
	spa_exit(spa);
	if (rc == 0)
		rc = zfuse_dataset_iter(pool, collect_keyobj, &a);
	if (rc == 0)
		rc = dsl_sync_task(spa, change_key_check, change_key_sync, &a);
	dsl_crypto_params_wipe(&a.dcp);
	explicit_bzero(a.oldw, sizeof(a.oldw));
	free(a.keyobjs);
	return rc;
}
