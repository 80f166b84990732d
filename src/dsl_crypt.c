/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dsl_crypt.c — the keystore of a pool (OpenZFS's dsl_crypt.c, read side).
 *
 * A wrapping key is derived from key material as libzfs does (PBKDF2 of a
 * passphrase with the root's pbkdf2salt and pbkdf2iters, hex decoded, or
 * raw) and accepted only once it unwraps the root's own DSL crypto key:
 * that AEAD MAC is the one test of a key. Master keys of the datasets
 * under a root are unwrapped on first use and kept, reference-counted by
 * the objsets that read with them. Keys live in locked memory when the
 * system allows it and are wiped before it is freed.
 */
#include <ctype.h>
#include <inttypes.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "dmu_tx.h"
#include "dnode.h"
#include "dsl.h"
#include "dsl_crypt.h"
#include "spa_lock.h"
#include "spa_misc.h"
#include "zap.h"
#include "zfuse/crypt.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define MIN_PASSPHRASE_LEN 8
#define MAX_PASSPHRASE_LEN 512

struct dsl_wkey {
	uint64_t rootdir;
	uint8_t key[WRAPPING_KEY_LEN];
	struct dsl_wkey *next;
};

struct dsl_key {
	zio_crypt_key_t zk;	/* first: a zio_crypt_key_t * is a dsl_key * */
	uint64_t keyobj, rootdir;
	unsigned refs;
	struct dsl_key *next;
};

struct spa_keystore {
	pthread_mutex_t mu;
	struct dsl_wkey *wkeys;
	struct dsl_key *keys;
};

static void *secret_alloc(size_t size)
{
	void *p = calloc(1, size);
	if (p)
		(void)mlock(p, size);	/* best effort: keep keys out of swap */
	return p;
}

static void secret_free(void *p, size_t size)
{
	if (!p)
		return;
	explicit_bzero(p, size);
	(void)munlock(p, size);
	free(p);
}

void spa_keystore_init(spa_t *spa)
{
	spa->keystore = calloc(1, sizeof(*spa->keystore));
	if (spa->keystore)
		pthread_mutex_init(&spa->keystore->mu, NULL);
}

void spa_keystore_fini(spa_t *spa)
{
	struct spa_keystore *ks = spa->keystore;
	if (!ks)
		return;
	while (ks->wkeys) {
		struct dsl_wkey *w = ks->wkeys;
		ks->wkeys = w->next;
		secret_free(w, sizeof(*w));
	}
	while (ks->keys) {
		struct dsl_key *k = ks->keys;
		ks->keys = k->next;
		zio_crypt_key_destroy(&k->zk);
		secret_free(k, sizeof(*k));
	}
	pthread_mutex_destroy(&ks->mu);
	free(ks);
	spa->keystore = NULL;
}

int dsl_crypt_keyobj(spa_t *spa, uint64_t dirobj, uint64_t *keyobj)
{
	int rc = dsl_zapified_lookup(spa, dirobj, "com.datto:crypto_key_obj", keyobj);
	if (rc == 0 && *keyobj == 0)
		rc = -ZFUSE_E_NOENT;
	return rc;
}

static int crypto_zap(spa_t *spa, uint64_t keyobj, const char *name, unsigned intlen, uint64_t n,
		      void *out)
{
	dnode_t dn;
	int rc = dnode_hold(spa->mos, keyobj, &dn);
	if (rc)
		return rc;
	rc = zap_lookup(&dn, name, intlen, n, out);
	dnode_rele(&dn);
	return rc;
}

int dsl_crypt_root(spa_t *spa, uint64_t dirobj, uint64_t *rootdir)
{
	uint64_t keyobj;
	int rc = dsl_crypt_keyobj(spa, dirobj, &keyobj);
	if (rc == 0)
		rc = crypto_zap(spa, keyobj, "DSL_CRYPTO_ROOT_DDOBJ", 8, 1, rootdir);
	return rc;
}

/* Unwrap the DSL crypto key object keyobj with wrapping key wkey. */
static int unwrap_keyobj(spa_t *spa, uint64_t keyobj, const uint8_t *wkey, zio_crypt_key_t *out)
{
	uint64_t crypt, guid, version = 0;
	uint8_t keydata[MASTER_KEY_MAX_LEN], hmac[SHA512_HMAC_KEYLEN];
	uint8_t iv[WRAPPING_IV_LEN], mac[WRAPPING_MAC_LEN];
	int rc;
	if ((rc = crypto_zap(spa, keyobj, "DSL_CRYPTO_SUITE", 8, 1, &crypt)) != 0 ||
	    (rc = crypto_zap(spa, keyobj, "DSL_CRYPTO_GUID", 8, 1, &guid)) != 0)
		return rc;
	/* Keys made before the version field are version 0. */
	rc = crypto_zap(spa, keyobj, "DSL_CRYPTO_VERSION", 8, 1, &version);
	if (rc && rc != -ZFUSE_E_NOENT)
		return rc;
	unsigned kl = zio_crypt_keylen(crypt);
	if (!kl) {
		spa_log(spa, ZFUSE_LOG_ERROR, "crypto key object %" PRIu64 " has unknown suite %" PRIu64,
			keyobj, crypt);
		return -ZFUSE_E_UNSUPPORTED;
	}
	/* The wrapped master key is stored at its largest size whatever the
	 * suite; only its first kl bytes are the key. */
	if ((rc = crypto_zap(spa, keyobj, "DSL_CRYPTO_MASTER_KEY_1", 1, sizeof(keydata), keydata)) != 0 ||
	    (rc = crypto_zap(spa, keyobj, "DSL_CRYPTO_HMAC_KEY_1", 1, sizeof(hmac), hmac)) != 0 ||
	    (rc = crypto_zap(spa, keyobj, "DSL_CRYPTO_IV", 1, sizeof(iv), iv)) != 0 ||
	    (rc = crypto_zap(spa, keyobj, "DSL_CRYPTO_MAC", 1, sizeof(mac), mac)) != 0)
		return rc == -ZFUSE_E_NOENT || rc == -ZFUSE_E_RANGE ? SET_ERROR(-ZFUSE_E_CORRUPT) : rc;
	return zio_crypt_key_unwrap(wkey, crypt, version, guid, keydata, hmac, iv, mac, out);
}

static struct dsl_wkey *find_wkey(struct spa_keystore *ks, uint64_t rootdir)
{
	for (struct dsl_wkey *w = ks->wkeys; w; w = w->next)
		if (w->rootdir == rootdir)
			return w;
	return NULL;
}

bool spa_keystore_wkey_loaded(spa_t *spa, uint64_t rootdir)
{
	struct spa_keystore *ks = spa->keystore;
	pthread_mutex_lock(&ks->mu);
	bool r = find_wkey(ks, rootdir) != NULL;
	pthread_mutex_unlock(&ks->mu);
	return r;
}

int dsl_crypt_key_hold(spa_t *spa, uint64_t dirobj, zio_crypt_key_t **out)
{
	struct spa_keystore *ks = spa->keystore;
	uint64_t keyobj, rootdir;
	int rc = dsl_crypt_keyobj(spa, dirobj, &keyobj);
	if (rc)
		return rc;
	if ((rc = crypto_zap(spa, keyobj, "DSL_CRYPTO_ROOT_DDOBJ", 8, 1, &rootdir)) != 0)
		return rc;
	pthread_mutex_lock(&ks->mu);
	for (struct dsl_key *k = ks->keys; k; k = k->next) {
		if (k->keyobj == keyobj) {
			k->refs++;
			*out = &k->zk;
			pthread_mutex_unlock(&ks->mu);
			return 0;
		}
	}
	struct dsl_wkey *w = find_wkey(ks, rootdir);
	struct dsl_key *k = w ? secret_alloc(sizeof(*k)) : NULL;
	if (!w)
		rc = -ZFUSE_E_ACCESS;
	else if (!k)
		rc = -ZFUSE_E_NOMEM;
	else if ((rc = unwrap_keyobj(spa, keyobj, w->key, &k->zk)) == 0) {
		k->keyobj = keyobj;
		k->rootdir = rootdir;
		k->refs = 1;
		k->next = ks->keys;
		ks->keys = k;
		*out = &k->zk;
		k = NULL;
	}
	secret_free(k, sizeof(*k));
	pthread_mutex_unlock(&ks->mu);
	return rc;
}

void dsl_crypt_key_rele(spa_t *spa, zio_crypt_key_t *key)
{
	if (!key)
		return;
	struct spa_keystore *ks = spa->keystore;
	pthread_mutex_lock(&ks->mu);
	((struct dsl_key *)key)->refs--;
	pthread_mutex_unlock(&ks->mu);
}

int dsl_crypt_objset_key(spa_t *spa, objset_t *os, uint64_t dirobj, const char *name)
{
	if (!os->key) {
		zio_crypt_key_t *key;
		int rc = dsl_crypt_key_hold(spa, dirobj, &key);
		if (rc) {
			spa_log(spa, ZFUSE_LOG_ERROR, "cannot open the key of %s: %s", name,
				zfuse_strerror(rc));
			return rc;
		}
		zio_crypt_key_t *none = NULL;
		if (!__atomic_compare_exchange_n(&os->key, &none, key, false, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE))
			dsl_crypt_key_rele(spa, key);
	}
	int rc = zio_crypt_verify_objset(os->key, os->phys, os->phys_size);
	if (rc)
		spa_log(spa, ZFUSE_LOG_ERROR, "dataset %s: the objset block fails its MAC "
			"(tampered or damaged)", name);
	return rc;
}

/* ---- public calls ------------------------------------------------------ */

/* The dir of a dataset name (a snapshot's is its head's). */
static int name_dir(spa_t *spa, const char *name, uint64_t *dirobj)
{
	struct dsl_dataset_ref ref;
	int rc = dsl_dataset_find(spa, name, &ref);
	if (rc == 0)
		*dirobj = ref.dirobj;
	return rc;
}

int zfuse_crypt_info(zfuse_pool_t *pool, const char *name, struct zfuse_crypt_info *out)
{
	spa_t *spa = (spa_t *)pool;
	memset(out, 0, sizeof(*out));
	uint64_t dirobj, rootdir, keyobj, fmt = 0;
	spa_enter_read(spa);
	int rc = name_dir(spa, name, &dirobj);
	if (rc == 0 && (rc = dsl_crypt_root(spa, dirobj, &rootdir)) == -ZFUSE_E_NOENT)
		rc = -ZFUSE_E_INVAL;
	if (rc == 0)
		rc = dsl_dir_name(spa, rootdir, out->root, sizeof(out->root));
	if (rc == 0 && (rc = dsl_crypt_keyobj(spa, rootdir, &keyobj)) == 0)
		rc = crypto_zap(spa, keyobj, "keyformat", 8, 1, &fmt);
	if (rc == 0) {
		out->keyformat = (enum zfuse_keyformat)fmt;
		if (dsl_prop_get_string(spa, rootdir, "keylocation", false, out->keylocation,
					sizeof(out->keylocation), NULL) != 0)
			snprintf(out->keylocation, sizeof(out->keylocation), "none");
		out->loaded = spa_keystore_wkey_loaded(spa, rootdir);
	}
	spa_exit(spa);
	return rc;
}

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

int dsl_crypt_derive_wkey(spa_t *spa, uint64_t fmt, uint64_t salt, uint64_t iters, const uint8_t *m,
			  size_t len, uint8_t *wkey)
{
	switch (fmt) {
	case ZFS_KEYFORMAT_RAW:
		if (len != WRAPPING_KEY_LEN) {
			spa_log(spa, ZFUSE_LOG_ERROR, "Raw key too %s (expected %u).",
				len < WRAPPING_KEY_LEN ? "short" : "long", WRAPPING_KEY_LEN);
			return -ZFUSE_E_INVAL;
		}
		memcpy(wkey, m, WRAPPING_KEY_LEN);
		return 0;
	case ZFS_KEYFORMAT_HEX:
		if (len != 2 * WRAPPING_KEY_LEN) {
			spa_log(spa, ZFUSE_LOG_ERROR, "Hex key too %s (expected %u).",
				len < 2 * WRAPPING_KEY_LEN ? "short" : "long", 2 * WRAPPING_KEY_LEN);
			return -ZFUSE_E_INVAL;
		}
		for (size_t i = 0; i < len; i++) {
			if (!isxdigit(m[i])) {
				spa_log(spa, ZFUSE_LOG_ERROR, "Invalid hex character detected.");
				return -ZFUSE_E_INVAL;
			}
		}
		for (unsigned i = 0; i < WRAPPING_KEY_LEN; i++)
			wkey[i] = (uint8_t)(hexval(m[2 * i]) << 4 | hexval(m[2 * i + 1]));
		return 0;
	case ZFS_KEYFORMAT_PASSPHRASE:
		if (len < MIN_PASSPHRASE_LEN || len > MAX_PASSPHRASE_LEN) {
			spa_log(spa, ZFUSE_LOG_ERROR, len < MIN_PASSPHRASE_LEN ?
				"Passphrase too short (min %d)." : "Passphrase too long (max %d).",
				len < MIN_PASSPHRASE_LEN ? MIN_PASSPHRASE_LEN : MAX_PASSPHRASE_LEN);
			return -ZFUSE_E_INVAL;
		}
		return zio_crypt_pbkdf2(m, len, salt, iters, wkey);
	}
	spa_log(spa, ZFUSE_LOG_ERROR, "unknown keyformat %" PRIu64, fmt);
	return -ZFUSE_E_UNSUPPORTED;
}

/* Check material against a root's format and derive its wrapping key. */
static int derive_wkey(spa_t *spa, uint64_t keyobj, uint64_t fmt, const uint8_t *m, size_t len,
		       uint8_t *wkey)
{
	uint64_t salt = 0, iters = 0;
	int rc;
	if (fmt == ZFS_KEYFORMAT_PASSPHRASE &&
	    ((rc = crypto_zap(spa, keyobj, "pbkdf2salt", 8, 1, &salt)) != 0 ||
	     (rc = crypto_zap(spa, keyobj, "pbkdf2iters", 8, 1, &iters)) != 0))
		return rc;
	return dsl_crypt_derive_wkey(spa, fmt, salt, iters, m, len, wkey);
}

int spa_keystore_wkey_get(spa_t *spa, uint64_t rootdir, uint8_t out[WRAPPING_KEY_LEN])
{
	struct spa_keystore *ks = spa->keystore;
	if (!ks)
		return -ZFUSE_E_ACCESS;
	pthread_mutex_lock(&ks->mu);
	struct dsl_wkey *w = find_wkey(ks, rootdir);
	if (w)
		memcpy(out, w->key, WRAPPING_KEY_LEN);
	pthread_mutex_unlock(&ks->mu);
	return w ? 0 : -ZFUSE_E_ACCESS;
}

int spa_keystore_wkey_add(spa_t *spa, uint64_t rootdir, const uint8_t key[WRAPPING_KEY_LEN])
{
	struct spa_keystore *ks = spa->keystore;
	if (!ks)
		return -ZFUSE_E_NOMEM;
	pthread_mutex_lock(&ks->mu);
	struct dsl_wkey *w = find_wkey(ks, rootdir);
	if (!w && (w = secret_alloc(sizeof(*w))) != NULL) {
		w->rootdir = rootdir;
		w->next = ks->wkeys;
		ks->wkeys = w;
	}
	if (w)
		memcpy(w->key, key, WRAPPING_KEY_LEN);
	pthread_mutex_unlock(&ks->mu);
	return w ? 0 : -ZFUSE_E_NOMEM;
}

int dsl_crypt_keyobj_check(spa_t *spa, uint64_t keyobj, const uint8_t *wkey)
{
	zio_crypt_key_t *zk = secret_alloc(sizeof(*zk));
	if (!zk)
		return -ZFUSE_E_NOMEM;
	int rc = unwrap_keyobj(spa, keyobj, wkey, zk);
	if (rc == 0)
		zio_crypt_key_destroy(zk);
	secret_free(zk, sizeof(*zk));
	return rc;
}

void spa_keystore_key_reroot(spa_t *spa, uint64_t keyobj, uint64_t rootdir)
{
	struct spa_keystore *ks = spa->keystore;
	if (!ks)
		return;
	pthread_mutex_lock(&ks->mu);
	for (struct dsl_key *k = ks->keys; k; k = k->next)
		if (k->keyobj == keyobj)
			k->rootdir = rootdir;
	pthread_mutex_unlock(&ks->mu);
}

int dsl_crypt_rewrap_sync(spa_t *spa, uint64_t keyobj, const uint8_t *oldw, const uint8_t *neww,
			  uint64_t rootdir, uint64_t fmt, uint64_t salt, uint64_t iters, dmu_tx_t *tx)
{
	zio_crypt_key_t *zk = secret_alloc(sizeof(*zk));
	if (!zk)
		return -ZFUSE_E_NOMEM;
	uint8_t iv[WRAPPING_IV_LEN], mac[WRAPPING_MAC_LEN], keydata[MASTER_KEY_MAX_LEN];
	uint8_t hmac[SHA512_HMAC_KEYLEN];
	int rc = unwrap_keyobj(spa, keyobj, oldw, zk);
	if (rc == 0) {
		rc = zio_crypt_key_wrap(neww, zk, iv, mac, keydata, hmac);
		zio_crypt_key_destroy(zk);
	}
	secret_free(zk, sizeof(*zk));
	objset_t *mos = spa->mos;
	if (rc == 0)
		rc = zap_update(mos, keyobj, "DSL_CRYPTO_ROOT_DDOBJ", 8, 1, &rootdir, tx);
	if (rc == 0)
		rc = zap_update(mos, keyobj, "DSL_CRYPTO_IV", 1, sizeof(iv), iv, tx);
	if (rc == 0)
		rc = zap_update(mos, keyobj, "DSL_CRYPTO_MAC", 1, sizeof(mac), mac, tx);
	if (rc == 0)
		rc = zap_update(mos, keyobj, "DSL_CRYPTO_MASTER_KEY_1", 1, sizeof(keydata), keydata, tx);
	if (rc == 0)
		rc = zap_update(mos, keyobj, "DSL_CRYPTO_HMAC_KEY_1", 1, sizeof(hmac), hmac, tx);
	if (rc == 0)
		rc = zap_update(mos, keyobj, "keyformat", 8, 1, &fmt, tx);
	if (rc == 0)
		rc = zap_update(mos, keyobj, "pbkdf2salt", 8, 1, &salt, tx);
	if (rc == 0)
		rc = zap_update(mos, keyobj, "pbkdf2iters", 8, 1, &iters, tx);
	explicit_bzero(keydata, sizeof(keydata));
	explicit_bzero(hmac, sizeof(hmac));
	return rc;
}

void spa_keystore_wkey_remove(spa_t *spa, uint64_t rootdir)
{
	struct spa_keystore *ks = spa->keystore;
	if (!ks)
		return;
	pthread_mutex_lock(&ks->mu);
	for (struct dsl_wkey **wp = &ks->wkeys; *wp; wp = &(*wp)->next) {
		if ((*wp)->rootdir == rootdir) {
			struct dsl_wkey *w = *wp;
			*wp = w->next;
			secret_free(w, sizeof(*w));
			break;
		}
	}
	pthread_mutex_unlock(&ks->mu);
}

int dsl_crypt_keyobj_get(spa_t *spa, uint64_t keyobj, const char *name, uint64_t *value)
{
	return crypto_zap(spa, keyobj, name, 8, 1, value);
}

int zfuse_key_load(zfuse_pool_t *pool, const char *root, const void *material, size_t len)
{
	spa_t *spa = (spa_t *)pool;
	uint64_t dirobj, rootdir = 0, keyobj = 0, fmt = 0;
	spa_enter_read(spa);
	int rc = name_dir(spa, root, &dirobj);
	if (rc == 0 && (rc = dsl_crypt_root(spa, dirobj, &rootdir)) == -ZFUSE_E_NOENT) {
		spa_log(spa, ZFUSE_LOG_ERROR, "Key load error: '%s' is not encrypted.", root);
		rc = -ZFUSE_E_INVAL;
	}
	if (rc == 0 && rootdir != dirobj) {
		char rn[256] = "";
		dsl_dir_name(spa, rootdir, rn, sizeof(rn));
		spa_log(spa, ZFUSE_LOG_ERROR, "Key load error: '%s' is not an encryption root (its "
			"key is '%s''s).", root, rn);
		rc = -ZFUSE_E_INVAL;
	}
	if (rc == 0 && (rc = dsl_crypt_keyobj(spa, rootdir, &keyobj)) == 0)
		rc = crypto_zap(spa, keyobj, "keyformat", 8, 1, &fmt);
	struct dsl_wkey *w = rc ? NULL : secret_alloc(sizeof(*w));
	if (rc == 0 && !w)
		rc = -ZFUSE_E_NOMEM;
	if (rc == 0)
		rc = derive_wkey(spa, keyobj, fmt, material, len, w->key);
	if (rc == 0) {
		zio_crypt_key_t *zk = secret_alloc(sizeof(*zk));
		rc = zk ? unwrap_keyobj(spa, keyobj, w->key, zk) : -ZFUSE_E_NOMEM;
		if (rc == -ZFUSE_E_KEY)
			spa_log(spa, ZFUSE_LOG_ERROR, "Key load error: Incorrect key provided for '%s'.",
				root);
		if (zk && rc == 0)
			zio_crypt_key_destroy(zk);
		secret_free(zk, sizeof(*zk));
	}
	if (rc == 0) {
		struct spa_keystore *ks = spa->keystore;
		pthread_mutex_lock(&ks->mu);
		struct dsl_wkey *old = find_wkey(ks, rootdir);
		if (old) {
			memcpy(old->key, w->key, WRAPPING_KEY_LEN);
		} else {
			w->rootdir = rootdir;
			w->next = ks->wkeys;
			ks->wkeys = w;
			w = NULL;
		}
		pthread_mutex_unlock(&ks->mu);
	}
	secret_free(w, sizeof(*w));
	spa_exit(spa);
	return rc;
}

int zfuse_key_unload(zfuse_pool_t *pool, const char *root)
{
	spa_t *spa = (spa_t *)pool;
	uint64_t dirobj, rootdir = 0;
	spa_enter_read(spa);
	int rc = name_dir(spa, root, &dirobj);
	if (rc == 0 && ((rc = dsl_crypt_root(spa, dirobj, &rootdir)) == -ZFUSE_E_NOENT ||
			(rc == 0 && rootdir != dirobj)))
		rc = -ZFUSE_E_INVAL;
	spa_exit(spa);
	if (rc)
		return rc;
	struct spa_keystore *ks = spa->keystore;
	pthread_mutex_lock(&ks->mu);
	struct dsl_wkey **wp = &ks->wkeys;
	while (*wp && (*wp)->rootdir != rootdir)
		wp = &(*wp)->next;
	if (!*wp)
		rc = -ZFUSE_E_INVAL;
	for (struct dsl_key *k = ks->keys; k && rc == 0; k = k->next)
		if (k->rootdir == rootdir && k->refs)
			rc = -ZFUSE_E_BUSY;
	if (rc == 0) {
		struct dsl_wkey *w = *wp;
		*wp = w->next;
		secret_free(w, sizeof(*w));
		for (struct dsl_key **kp = &ks->keys; *kp;) {
			struct dsl_key *k = *kp;
			if (k->rootdir != rootdir) {
				kp = &k->next;
				continue;
			}
			*kp = k->next;
			zio_crypt_key_destroy(&k->zk);
			secret_free(k, sizeof(*k));
		}
	}
	pthread_mutex_unlock(&ks->mu);
	return rc;
}

int zfuse_key_read_location(const char *location, enum zfuse_keyformat format, void *buf,
			    size_t cap, size_t *len)
{
	*len = 0;
	if (strncmp(location, "file://", 7) != 0 || location[7] != '/' || cap < 2)
		return -ZFUSE_E_INVAL;
	int fd = open(location + 7, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ZFUSE_E_NOENT : -ZFUSE_E_IO;
	size_t n = 0;
	uint8_t *b = buf;
	while (n < cap) {
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			close(fd);
			explicit_bzero(buf, cap);
			return -ZFUSE_E_IO;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (format != ZFUSE_KEYFORMAT_RAW) {
		/* A passphrase or hex key is the first line. */
		uint8_t *nl = memchr(b, '\n', n);
		if (nl)
			n = (size_t)(nl - b);
		else if (n == cap)
			return -ZFUSE_E_INVAL;
	} else if (n == cap) {
		return -ZFUSE_E_INVAL;
	}
	explicit_bzero(b + n, cap - n);
	*len = n;
	return 0;
}
