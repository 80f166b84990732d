/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dsl_crypt_change.c — `zfs change-key` (OpenZFS's spa_keystore_change_key
 * with the checks libzfs's zfs_crypto_rewrap makes first).
 *
 * Theory: the data never changes; only the DSL crypto key objects do.
 * A key change picks a dataset's dir D and the encryption root R it has
 * now, and walks D's subtree as spa_keystore_change_key_sync_impl does:
 * every dir whose crypto key still names R as its root (children that
 * inherited it; clones share their origin's key object, so a clone's own
 * dir is passed over but its children are walked) gets its master key
 * rewrapped with the new wrapping key and the new root recorded in the
 * key object, with that root's key format and PBKDF2 salt and iterations.
 *
 * Two changes: a new key (D becomes, or stays, a root: the wrapping key
 * derived from new key material, D's keylocation a local property) and
 * inheritance (-i: D, a root, takes its parent's root's wrapping key, and
 * its keylocation property is removed). Clones never change keys. The set
 * of key objects is collected in the check (which runs again in the
 * sync), and each must unwrap with R's loaded key there, so the sync
 * step has nothing left to refuse.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "dmu_tx.h"
#include "dsl.h"
#include "dsl_crypt.h"
#include "dsl_dataset.h"
#include "dsl_prop.h"
#include "dsl_synctask.h"
#include "spa_lock.h"
#include "spa_misc.h"
#include "zap.h"
#include "zfuse/crypt.h"
#include "zfuse/dataset.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

struct change_key_arg {
	const char *name;
	bool inherit;
	uint64_t dirobj;	/* D */
	uint64_t oldroot;	/* R */
	uint64_t newroot;	/* D, or D's parent's root */
	uint64_t *keyobjs;
	size_t n, cap;
	struct dsl_crypto_params dcp;	/* the new wrapping key and its parameters */
	uint8_t oldw[WRAPPING_KEY_LEN];
};

static int change_error(spa_t *spa, int rc, const char *fmt, const char *name)
{
	spa_log(spa, ZFUSE_LOG_ERROR, fmt, name);
	return SET_ERROR(rc);
}

static int dir_is_clone(spa_t *spa, const dsl_dir_phys_t *dd, bool *clone)
{
	uint64_t origin_snap = 0;
	int rc = dd->origin_obj ? dsl_pool_origin_snapshot(spa, &origin_snap) : 0;
	*clone = rc == 0 && dd->origin_obj != 0 && dd->origin_obj != origin_snap;
	return rc == -ZFUSE_E_NOENT ? 0 : rc;
}

static int add_keyobj(struct change_key_arg *a, uint64_t keyobj)
{
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

static int collect(spa_t *spa, struct change_key_arg *a, uint64_t dirobj, bool skip);

struct clone_walk {
	spa_t *spa;
	struct change_key_arg *a;
	int rc;
};

static int clone_cb(void *arg, const zap_entry_t *ze)
{
	struct clone_walk *w = arg;
	dsl_dataset_phys_t ds;
	if ((w->rc = dsl_dataset_read(w->spa, ze->value_first, &ds)) == 0)
		w->rc = collect(w->spa, w->a, ds.dir_obj, true);
	return w->rc ? 1 : 0;
}

/* spa_keystore_change_key_check_impl's walk: the key objects of dirobj's
 * subtree that name the old root (skip: dirobj is a clone reached from its
 * origin's dir, whose key object that one already is). */
static int collect(spa_t *spa, struct change_key_arg *a, uint64_t dirobj, bool skip)
{
	uint64_t keyobj, root;
	int rc = dsl_crypt_keyobj(spa, dirobj, &keyobj);
	if (rc == -ZFUSE_E_NOENT)
		return 0;
	if (rc || (rc = dsl_crypt_keyobj_get(spa, keyobj, "DSL_CRYPTO_ROOT_DDOBJ", &root)) != 0)
		return rc;
	dsl_dir_phys_t dd;
	bool clone;
	if ((rc = dsl_dir_read(spa, dirobj, &dd)) != 0 || (rc = dir_is_clone(spa, &dd, &clone)) != 0)
		return rc;
	if (!skip && (root != a->oldroot || clone))
		return 0;
	if (!skip) {
		if ((rc = dsl_crypt_keyobj_check(spa, keyobj, a->oldw)) != 0)
			return rc;
		if ((rc = add_keyobj(a, keyobj)) != 0)
			return rc;
	}
	uint64_t *kids;
	size_t n;
	if ((rc = dsl_dir_children(spa, &dd, &kids, &n)) != 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = collect(spa, a, kids[i], false);
	free(kids);
	if (rc == 0 && dd.clones) {
		dnode_t dn;
		struct clone_walk w = { spa, a, 0 };
		if ((rc = dnode_hold(spa->mos, dd.clones, &dn)) == 0) {
			rc = zap_iterate(&dn, 0, 0, clone_cb, &w);
			dnode_rele(&dn);
			if (rc >= 0)
				rc = w.rc;
		}
	}
	return rc;
}

static int change_key_check(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	(void)tx;
	struct change_key_arg *a = varg;
	uint64_t root;
	int rc = dsl_crypt_root(spa, a->dirobj, &root);
	if (rc)
		return rc;
	if (root != a->oldroot)
		return change_error(spa, -ZFUSE_E_INVAL, "Key change error: the encryption root of "
				    "'%s' changed meanwhile.", a->name);
	if (spa_keystore_wkey_get(spa, a->oldroot, a->oldw) != 0)
		return change_error(spa, -ZFUSE_E_ACCESS, "Key change error: Key must be loaded "
				    "('%s').", a->name);
	if (a->inherit) {
		dsl_dir_phys_t dd;
		if ((rc = dsl_dir_read(spa, a->dirobj, &dd)) != 0 ||
		    (rc = dsl_crypt_root(spa, dd.parent_obj, &a->newroot)) != 0)
			return rc;
		if (spa_keystore_wkey_get(spa, a->newroot, a->dcp.wkey) != 0)
			return change_error(spa, -ZFUSE_E_ACCESS, "Key change error: Parent key must "
					    "be loaded ('%s').", a->name);
		uint64_t pkeyobj;
		a->dcp.salt = a->dcp.iters = 0;
		if ((rc = dsl_crypt_keyobj(spa, a->newroot, &pkeyobj)) != 0 ||
		    (rc = dsl_crypt_keyobj_get(spa, pkeyobj, "keyformat", &a->dcp.keyformat)) != 0)
			return rc;
		if (a->dcp.keyformat == ZFS_KEYFORMAT_PASSPHRASE &&
		    ((rc = dsl_crypt_keyobj_get(spa, pkeyobj, "pbkdf2salt", &a->dcp.salt)) != 0 ||
		     (rc = dsl_crypt_keyobj_get(spa, pkeyobj, "pbkdf2iters", &a->dcp.iters)) != 0))
			return rc;
	}
	a->n = 0;
	rc = collect(spa, a, a->dirobj, false);
	if (rc == -ZFUSE_E_KEY)
		spa_log(spa, ZFUSE_LOG_ERROR, "Key change error: a key below '%s' does not unwrap "
			"with its encryption root's key", a->name);
	return rc;
}

static int change_key_sync(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	struct change_key_arg *a = varg;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < a->n; i++)
		rc = dsl_crypt_rewrap_sync(spa, a->keyobjs[i], a->oldw, a->dcp.wkey, a->newroot,
					   a->dcp.keyformat, a->dcp.salt, a->dcp.iters, tx);
	dsl_dir_phys_t dd;
	if (rc == 0)
		rc = dsl_dir_read(spa, a->dirobj, &dd);
	if (rc == 0 && a->inherit) {
		/* the keylocation is the new root's now: none of its own */
		rc = zap_remove(spa->mos, dd.props_zapobj, "keylocation", tx);
		if (rc == -ZFUSE_E_NOENT)
			rc = 0;
	} else if (rc == 0) {
		rc = zap_update(spa->mos, dd.props_zapobj, "keylocation", 1,
				strlen(a->dcp.keylocation) + 1, a->dcp.keylocation, tx);
	}
	if (rc)
		return rc;
	for (size_t i = 0; i < a->n; i++)
		spa_keystore_key_reroot(spa, a->keyobjs[i], a->newroot);
	/* D's own wrapping key, if it had one, is replaced or gone */
	if (a->inherit)
		spa_keystore_wkey_remove(spa, a->dirobj);
	else
		rc = spa_keystore_wkey_add(spa, a->dirobj, a->dcp.wkey);
	return rc;
}

/* What both changes check first, in libzfs's words: D exists, is
 * encrypted, is no clone; *rootp its root, *keyobjp D's key object. */
static int change_key_start(spa_t *spa, const char *name, struct change_key_arg *a,
			    uint64_t *keyobj)
{
	struct dsl_dataset_ref ref;
	int rc = dsl_dataset_find(spa, name, &ref);
	if (rc == -ZFUSE_E_NOENT)
		return change_error(spa, rc, "Key change error: '%s' does not exist.", name);
	if (rc)
		return rc;
	if (ref.snapshot)
		return change_error(spa, -ZFUSE_E_INVAL, "Key change error: '%s' is a snapshot.",
				    name);
	a->dirobj = ref.dirobj;
	if ((rc = dsl_crypt_root(spa, ref.dirobj, &a->oldroot)) == -ZFUSE_E_NOENT)
		return change_error(spa, -ZFUSE_E_INVAL, "Key change error: '%s': Dataset not "
				    "encrypted.", name);
	if (rc || (rc = dsl_crypt_keyobj(spa, ref.dirobj, keyobj)) != 0)
		return rc;
	dsl_dir_phys_t dd;
	bool clone;
	if ((rc = dsl_dir_read(spa, ref.dirobj, &dd)) != 0 || (rc = dir_is_clone(spa, &dd, &clone)))
		return rc;
	if (clone)
		return change_error(spa, -ZFUSE_E_INVAL, "Key change error: '%s': Keys cannot be "
				    "changed on clones.", name);
	return 0;
}

static int change_key_run(spa_t *spa, struct change_key_arg *a)
{
	int rc = dsl_sync_task(spa, change_key_check, change_key_sync, a);
	dsl_crypto_params_wipe(&a->dcp);
	explicit_bzero(a->oldw, sizeof(a->oldw));
	free(a->keyobjs);
	return rc;
}

int zfuse_key_change(zfuse_pool_t *pool, const char *name, const struct zfuse_prop_setting *props,
		     size_t nprops, const void *material, size_t len)
{
	spa_t *spa = (spa_t *)pool;
	struct change_key_arg a = { .name = name };
	const char *fmt = NULL, *loc = NULL, *iters = NULL;
	for (size_t i = 0; i < nprops; i++) {
		if (strcmp(props[i].name, "keyformat") == 0)
			fmt = props[i].value;
		else if (strcmp(props[i].name, "keylocation") == 0)
			loc = props[i].value;
		else if (strcmp(props[i].name, "pbkdf2iters") == 0)
			iters = props[i].value;
		else
			return change_error(spa, -ZFUSE_E_INVAL, "Key change error: Only keyformat, "
					    "keylocation and pbkdf2iters may be set with this "
					    "command ('%s').", props[i].name);
	}
	uint64_t keyobj, oldfmt = 0, olditers = 0;
	char oldloc[1024] = "prompt";
	spa_enter_read(spa);
	int rc = change_key_start(spa, name, &a, &keyobj);
	bool root = rc == 0 && a.oldroot == a.dirobj;
	if (rc == 0 && root) {
		/* a root keeps its format, location and iterations unless told */
		dsl_crypt_keyobj_get(spa, keyobj, "keyformat", &oldfmt);
		dsl_crypt_keyobj_get(spa, keyobj, "pbkdf2iters", &olditers);
		dsl_prop_get_string(spa, a.dirobj, "keylocation", false, oldloc, sizeof(oldloc),
				    NULL);
	} else if (rc == 0 && !fmt) {
		rc = change_error(spa, -ZFUSE_E_INVAL, "Key change error: '%s': Keyformat required "
				  "for new encryption root.", name);
	}
	if (rc == 0 && !spa_keystore_wkey_loaded(spa, a.oldroot))
		rc = change_error(spa, -ZFUSE_E_ACCESS, "Key change error: Key must be loaded "
				  "('%s').", name);
	spa_exit(spa);
	if (rc)
		return rc;
	/* The new key's parameters as a new root's, defaulting to the old. */
	static const char *const fmts[] = { "none", "raw", "hex", "passphrase" };
	struct zfuse_prop_setting p[4];
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
	rc = dsl_crypto_params_create(spa, name, 0, p, &n, material, len, &a.dcp);
	spa_exit(spa);
	a.newroot = a.dirobj;
	if (rc) {
		dsl_crypto_params_wipe(&a.dcp);
		return rc;
	}
	return change_key_run(spa, &a);
}

int zfuse_key_inherit(zfuse_pool_t *pool, const char *name)
{
	spa_t *spa = (spa_t *)pool;
	struct change_key_arg a = { .name = name, .inherit = true };
	uint64_t keyobj;
	spa_enter_read(spa);
	int rc = change_key_start(spa, name, &a, &keyobj);
	dsl_dir_phys_t dd;
	if (rc == 0 && a.oldroot != a.dirobj)
		rc = change_error(spa, -ZFUSE_E_INVAL, "Key change error: '%s': Key inheritting can "
				  "only be performed on encryption roots.", name);
	if (rc == 0 && (rc = dsl_dir_read(spa, a.dirobj, &dd)) == 0) {
		uint64_t proot;
		if (!strchr(name, '/'))
			rc = change_error(spa, -ZFUSE_E_INVAL, "Key change error: '%s': Root dataset "
					  "cannot inherit key.", name);
		else if (dsl_crypt_root(spa, dd.parent_obj, &proot) != 0)
			rc = change_error(spa, -ZFUSE_E_INVAL, "Key change error: '%s': Parent must "
					  "be encrypted.", name);
		else if (!spa_keystore_wkey_loaded(spa, proot))
			rc = change_error(spa, -ZFUSE_E_ACCESS, "Key change error: '%s': Parent key "
					  "must be loaded.", name);
		else if (!spa_keystore_wkey_loaded(spa, a.oldroot))
			rc = change_error(spa, -ZFUSE_E_ACCESS, "Key change error: '%s': Key must be "
					  "loaded.", name);
	}
	spa_exit(spa);
	if (rc)
		return rc;
	return change_key_run(spa, &a);
}
