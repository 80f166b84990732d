/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dsl_crypt.h — the pool's keystore (OpenZFS's dsl_crypt): wrapping keys
 * loaded per encryption root, and the master keys of encrypted dsl_dirs
 * unwrapped from their DSL crypto key objects on first use.
 */
#ifndef ZFUSE_DSL_CRYPT_H
#define ZFUSE_DSL_CRYPT_H

#include <stdbool.h>
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

/* Whether the wrapping key of root dir rootdir is loaded. */
bool spa_keystore_wkey_loaded(struct spa *spa, uint64_t rootdir);

#endif
