/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfuse/crypt.h — keys of natively encrypted datasets.
 *
 * An encryption root holds the wrapping key (from a passphrase, 64 hex
 * digits or 32 raw bytes, its `keyformat`); every encrypted dataset under
 * it (children that inherit the key, snapshots, clones) has a master key
 * wrapped by it. Loading a root's key checks it against the root's
 * wrapped master key (a wrong key fails that MAC) and keeps it in memory
 * only, until unloaded or the pool is closed (then it is wiped). With the
 * key loaded, zfuse_fs_open and zfuse_volume_open open the root's datasets
 * (read-write when the pool is), encrypting what they write, intent log
 * included.
 */
#ifndef ZFUSE_CRYPT_H
#define ZFUSE_CRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "zfuse.h"

#ifdef __cplusplus
extern "C" {
#endif

enum zfuse_keyformat {
	ZFUSE_KEYFORMAT_NONE = 0,
	ZFUSE_KEYFORMAT_RAW = 1,
	ZFUSE_KEYFORMAT_HEX = 2,
	ZFUSE_KEYFORMAT_PASSPHRASE = 3,
};

/* Longest key material any key format takes (a passphrase). */
#define ZFUSE_KEY_MATERIAL_MAX 512

struct zfuse_crypt_info {
	char root[256];			/* encryption root's full name */
	enum zfuse_keyformat keyformat;	/* the root's */
	char keylocation[1024];		/* the root's: "prompt", "file:///..." */
	bool loaded;			/* the root's key is loaded */
};

/*
 * Encryption facts of dataset `name` (filesystem, volume or snapshot).
 * Errors: ZFUSE_E_NOENT (no such dataset), ZFUSE_E_INVAL (not encrypted),
 * read errors.
 */
int zfuse_crypt_info(zfuse_pool_t *pool, const char *name, struct zfuse_crypt_info *out);

/*
 * Load the key of encryption root `root` from key material: a passphrase
 * (8 to 512 bytes, no trailing newline), 64 hex digits or 32 raw bytes,
 * as the root's keyformat says. Loading an already loaded key checks it
 * again and succeeds.
 * Errors: ZFUSE_E_NOENT (no such dataset), ZFUSE_E_INVAL (not encrypted,
 * not an encryption root, or material malformed for the format: the
 * message says which), ZFUSE_E_KEY (incorrect key), ZFUSE_E_UNSUPPORTED
 * (unknown suite or key version), ZFUSE_E_NOMEM, read errors.
 */
int zfuse_key_load(zfuse_pool_t *pool, const char *root, const void *material, size_t len);

/*
 * Read key material from keylocation `location` ("file:///PATH"; "prompt"
 * is the caller's to handle) for keyformat `format` into buf (cap bytes,
 * at least ZFUSE_KEY_MATERIAL_MAX + 1): a passphrase or hex key is the
 * file's first line without its newline, a raw key the file's bytes.
 * Errors: ZFUSE_E_INVAL (not a file:// URI, or the material does not fit
 * the format), ZFUSE_E_NOENT (no such file), ZFUSE_E_IO.
 */
int zfuse_key_read_location(const char *location, enum zfuse_keyformat format, void *buf,
			    size_t cap, size_t *len);

/*
 * Forget the key of encryption root `root` (wiped from memory).
 * Errors: ZFUSE_E_NOENT, ZFUSE_E_INVAL (not an encryption root or key not
 * loaded), ZFUSE_E_BUSY (a dataset under it is open).
 */
int zfuse_key_unload(zfuse_pool_t *pool, const char *root);

/*
 * Create filesystem `name` as zfuse_dataset_create does, with key material
 * (a passphrase, 64 hex digits or 32 raw bytes) for a new encryption root:
 * props with encryption=on|SUITE and keyformat (keylocation, default
 * prompt, and pbkdf2iters, default 350000, optional) make `name` an
 * encryption root whose wrapping key is derived from material; without
 * keyformat, a dataset below an encrypted parent (or given only a suite)
 * wraps its new master key with the parent's root's key, which must be
 * loaded. Its key stays loaded. zfuse_volume_create_key makes a volume
 * so (as zfuse_volume_create; zfuse_volume_create makes one below an
 * encrypted parent or with a suite alone as well). Errors: as
 * zfuse_dataset_create, and
 * ZFUSE_E_INVAL (bad encryption properties or key material, encryption
 * off below an encrypted parent, feature not enabled), ZFUSE_E_ACCESS (the
 * parent's key is not loaded).
 */
struct zfuse_prop_setting;
int zfuse_volume_create_key(zfuse_pool_t *pool, const char *name, uint64_t volsize, bool sparse,
			    const struct zfuse_prop_setting *props, size_t nprops,
			    const void *material, size_t len);
int zfuse_dataset_create_key(zfuse_pool_t *pool, const char *name,
			     const struct zfuse_prop_setting *props, size_t nprops,
			     const void *material, size_t len);

/*
 * Change the wrapping key of dataset `name` (as zfs change-key): every
 * master key its current encryption root's key wraps in name's subtree
 * (its own, inheriting children's, clones' and their children's) is
 * rewrapped with the key derived from material; props may set a new
 * keyformat, keylocation and pbkdf2iters (a new PBKDF2 salt is drawn for
 * passphrases). A dataset that inherits its key becomes an encryption
 * root (keyformat required; keylocation defaults to prompt). The data is
 * not rewritten. The current root's key must be loaded; the new one is
 * loaded after. Errors: ZFUSE_E_NOENT, ZFUSE_E_INVAL (not encrypted, a
 * clone or snapshot, bad properties or key material), ZFUSE_E_ACCESS (key
 * not loaded), ZFUSE_E_ROFS, ZFUSE_E_NOMEM.
 */
int zfuse_key_change(zfuse_pool_t *pool, const char *name, const struct zfuse_prop_setting *props,
		     size_t nprops, const void *material, size_t len);

/*
 * Make encryption root `name` inherit its parent's encryption root (as
 * zfs change-key -i): its master key and those of the datasets that
 * inherited its key are rewrapped with the parent's root's wrapping key,
 * its keylocation property is removed and its own wrapping key forgotten.
 * Both keys must be loaded. Errors: ZFUSE_E_NOENT, ZFUSE_E_INVAL (not an
 * encryption root, a clone, the pool's root dataset, parent not
 * encrypted), ZFUSE_E_ACCESS (a key not loaded), ZFUSE_E_ROFS.
 */
int zfuse_key_inherit(zfuse_pool_t *pool, const char *name);

#ifdef __cplusplus
}
#endif
#endif
