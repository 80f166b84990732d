/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dsl_crypt.h — the pool's keystore (OpenZFS's dsl_crypt): wrapping keys
 * loaded per encryption root, and the master keys of encrypted dsl_dirs
 * unwrapped from their DSL crypto key objects on first use.
 */
#ifndef ZFUSE_DSL_CRYPT_H
#define ZFUSE_DSL_CRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "zio_crypt.h"

struct spa;

enum zfs_keyformat { ZFS_KEYFORMAT_NONE = 0, ZFS_KEYFORMAT_RAW, ZFS_KEYFORMAT_HEX,
		     ZFS_KEYFORMAT_PASSPHRASE };

/* Initialise and free a pool's keystore (spa_lock.c), wiping every key. */
void spa_keystore_init(struct spa *spa);
void spa_keystore_fini(struct spa *spa);

/* The DSL crypto key object of a dir and the dir of its encryption root.
 * Errors: ZFUSE_E_NOENT (not encrypted), read errors. Pool lock held. */
int dsl_crypt_keyobj(struct spa *spa, uint64_t dirobj, uint64_t *keyobj);
int dsl_crypt_root(struct spa *spa, uint64_t dirobj, uint64_t *rootdir);

/*
 * Hold the master key of encrypted dir dirobj (unwrapped on first use).
 * Errors: ZFUSE_E_ACCESS (its root's key is not loaded), ZFUSE_E_KEY
 * (its crypto key object does not unwrap), ZFUSE_E_NOENT (not encrypted).
 * Pool lock held. Release with dsl_crypt_key_rele.
 */
int dsl_crypt_key_hold(struct spa *spa, uint64_t dirobj, zio_crypt_key_t **out);
void dsl_crypt_key_rele(struct spa *spa, zio_crypt_key_t *key);

/* The wrapping key from key material in format fmt (passphrases through
 * PBKDF2 with salt and iters), in libzfs's words when it is malformed.
 * Errors: ZFUSE_E_INVAL, ZFUSE_E_UNSUPPORTED. */
int dsl_crypt_derive_wkey(struct spa *spa, uint64_t fmt, uint64_t salt, uint64_t iters,
			  const uint8_t *m, size_t len, uint8_t *wkey);
/* A copy of root dir rootdir's loaded wrapping key (ZFUSE_E_ACCESS: not
 * loaded); add or replace one (a new encryption root's). */
int spa_keystore_wkey_get(struct spa *spa, uint64_t rootdir, uint8_t out[WRAPPING_KEY_LEN]);
int spa_keystore_wkey_add(struct spa *spa, uint64_t rootdir, const uint8_t key[WRAPPING_KEY_LEN]);
/* A uint64 entry of a DSL crypto key object. */
int dsl_crypt_keyobj_get(struct spa *spa, uint64_t keyobj, const char *name, uint64_t *value);

/* What a new encrypted dataset needs (dsl_crypt_create.c). crypt 0: the
 * dataset is not encrypted. */
struct dsl_crypto_params {
	uint64_t crypt;		/* ZIO_CRYPT_AES_* */
	bool new_root;		/* its own wrapping key (else rootdir's) */
	uint64_t rootdir;	/* the inherited key's root */
	uint64_t keyformat, salt, iters;	/* the root's */
	char keylocation[1024];	/* a new root's */
	uint8_t wkey[WRAPPING_KEY_LEN];
};
struct zfuse_prop_setting;
struct dmu_tx;

/*
 * libzfs's zfs_crypto_create: take encryption, keyformat, keylocation and
 * pbkdf2iters out of props (*nprops shrinks) and decide, with the parent
 * dir's encryption (parent_dir 0: a pool's root dataset), whether `name`
 * is encrypted, with which suite and wrapping key (derived from material
 * for a new root; the parent's root's loaded one otherwise). Pool lock
 * held. Errors, logged in zfs's words: ZFUSE_E_INVAL (bad values or
 * combinations, bad key material, feature not enabled), ZFUSE_E_ACCESS
 * (the parent's key is not loaded). Wipe dcp with dsl_crypto_params_wipe.
 */
int dsl_crypto_params_create(struct spa *spa, const char *name, uint64_t parent_dir,
			     struct zfuse_prop_setting *props, size_t *nprops, const void *material,
			     size_t len, struct dsl_crypto_params *dcp);
void dsl_crypto_params_wipe(struct dsl_crypto_params *dcp);
/*
 * In the sync of a dataset's creation (dcp->crypt != 0): its DSL crypto
 * key object, the dir's pointer to it, the dataset's encryption feature,
 * a new root's keylocation and loaded wrapping key; *key is the master key
 * held for the new objset.
 */
int dsl_crypto_create_sync(struct spa *spa, uint64_t dirobj, uint64_t dsobj,
			   const struct dsl_crypto_params *dcp, struct dmu_tx *tx,
			   zio_crypt_key_t **key);

/* Clones share their origin's DSL crypto key (one more reference); the
 * origin's key must be loaded, and an unencrypted origin cannot be cloned
 * below an encrypted parent (ZFUSE_E_ACCESS, ZFUSE_E_INVAL, logged). */
int dsl_crypto_clone_check(struct spa *spa, const char *name, uint64_t parent_dir,
			   uint64_t origin_dir);
int dsl_crypto_clone_sync(struct spa *spa, uint64_t dirobj, uint64_t dsobj, uint64_t origin_dir,
			  struct dmu_tx *tx);
/* A dir being destroyed lets go of its DSL crypto key (freed with its last
 * reference); a snapshot of an encrypted dataset gets its IV set guid. */
int dsl_crypto_key_destroy_sync(struct spa *spa, uint64_t dirobj, struct dmu_tx *tx);
int dsl_crypto_snapshot_sync(struct spa *spa, uint64_t dirobj, uint64_t snapobj,
			     struct dmu_tx *tx);
/* change-key: rewrap DSL crypto key keyobj (wrapped by oldw) with neww,
 * the wrapping key of root dir rootdir, recording that root and its
 * format and PBKDF2 parameters. */
int dsl_crypt_rewrap_sync(struct spa *spa, uint64_t keyobj, const uint8_t *oldw,
			  const uint8_t *neww, uint64_t rootdir, uint64_t fmt, uint64_t salt,
			  uint64_t iters, struct dmu_tx *tx);
/* Whether wrapping key wkey unwraps DSL crypto key keyobj (ZFUSE_E_KEY:
 * it does not). */
int dsl_crypt_keyobj_check(struct spa *spa, uint64_t keyobj, const uint8_t *wkey);
/* Master keys of keyobj kept in memory now belong to root dir rootdir
 * (their root changed: unload-key of the new root must see them). */
void spa_keystore_key_reroot(struct spa *spa, uint64_t keyobj, uint64_t rootdir);
/* Forget a destroyed root's wrapping key. */
void spa_keystore_wkey_remove(struct spa *spa, uint64_t rootdir);

/* Give the objset os of encrypted dir dirobj its master key (a shared
 * objset may have been opened before the key was loaded; two openers may
 * race, one key is kept) and check its objset block's MACs before anything
 * of it is read. Errors (logged with name): as dsl_crypt_key_hold,
 * ZFUSE_E_AUTH. */
struct objset;
int dsl_crypt_objset_key(struct spa *spa, struct objset *os, uint64_t dirobj, const char *name);

/* Whether the wrapping key of root dir rootdir is loaded. */
bool spa_keystore_wkey_loaded(struct spa *spa, uint64_t rootdir);

#endif
