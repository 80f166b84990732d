/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfs_quota.c — user, group and project quotas of a filesystem (OpenZFS
 * zfs_quota.c): the userquota@ID ... projectobjquota@ID properties and
 * the userused@ID ... projectobjused@ID figures, and the check a write or
 * a creation makes against them.
 *
 * Theory: these live in the filesystem's own objset, not in the MOS
 * (object-layer.md §8.16). Each kind of limit is one USERGROUP_QUOTA ZAP
 * named by a master-node key ("userquota@" ...), made the first time a
 * limit of that kind is set; its keys are the FUID in hex (domain index 0:
 * the plain id), its values the limit; a limit of 0 ("none") is no entry.
 * The used figures are the USERUSED/GROUPUSED/PROJECTUSED ZAPs that
 * dnode_sync.c keeps in syncing context (objects counted under "obj-ID").
 * Setting a limit is an ordinary change of the objset in the open txg, as
 * zfs_set_userquota's dmu_tx is, not a DSL sync task.
 *
 * Enforcement follows zfs_id_overblockquota / zfs_id_overobjquota: an id
 * is over when what the used ZAP says is at or past its limit. The used
 * ZAPs only move when a txg syncs, so what is in flight is not counted:
 * like OpenZFS, a writer may go past a limit by what it writes within one
 * txg, and is stopped at its first write after the sync that shows it
 * over. Ids without a limit, and project 0 (the default project), are
 * never checked.
 */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dmu_tx.h"
#include "dnode.h"
#include "dsl.h"
#include "spa.h"
#include "spa_impl.h"
#include "spa_lock.h"
#include "spa_misc.h"
#include "txg.h"
#include "zap.h"
#include "zfeature.h"
#include "zfs_debug.h"
#include "zfs_prop.h"
#include "zfs_quota.h"
#include "zfuse/errors.h"

#define DMU_OT_USERGROUP_QUOTA 40
#define MASTER_NODE_OBJ 1
#define ZPL_VERSION_USERSPACE 4
#define ZFS_MAX_PROJID 0xfffffffeULL	/* ZFS_INVALID_PROJID is (uint32_t)-1 */

/* The limit each used figure is compared with, in quota_keys order. */
static const int limit_types[] = {
	ZFS_PROP_USERQUOTA, ZFS_PROP_GROUPQUOTA, ZFS_PROP_PROJECTQUOTA,
	ZFS_PROP_USEROBJQUOTA, ZFS_PROP_GROUPOBJQUOTA, ZFS_PROP_PROJECTOBJQUOTA,
};

static bool is_user(int t) { return t == ZFS_PROP_USERUSED || t == ZFS_PROP_USERQUOTA ||
				    t == ZFS_PROP_USEROBJUSED || t == ZFS_PROP_USEROBJQUOTA; }
static bool is_group(int t) { return t == ZFS_PROP_GROUPUSED || t == ZFS_PROP_GROUPQUOTA ||
				     t == ZFS_PROP_GROUPOBJUSED || t == ZFS_PROP_GROUPOBJQUOTA; }
static bool is_project(int t) { return t >= ZFS_PROP_PROJECTUSED; }

static uint64_t used_obj(int t)
{
	return is_user(t) ? DMU_USERUSED_OBJECT
	       : is_group(t) ? DMU_GROUPUSED_OBJECT : DMU_PROJECTUSED_OBJECT;
}

/* libzfs's userquota_propname_decode: a user or group name first, then a
 * number (strtoul into a uid_t, so "" is 0 and "-1" is 4294967295). SIDs
 * ("name@domain") need idmap, which Linux zfs does not have. */
static int decode_id(int t, const char *text, uint64_t *id)
{
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	char buf[4096];
	if (is_user(t) && getpwnam_r(text, &pw, buf, sizeof(buf), &pwp) == 0 && pwp) {
		*id = pwp->pw_uid;
		return 0;
	}
	if (is_group(t) && getgrnam_r(text, &gr, buf, sizeof(buf), &grp) == 0 && grp) {
		*id = grp->gr_gid;
		return 0;
	}
	if (!is_project(t) && strchr(text, '@'))
		return -ZFUSE_E_INVAL;
	char *end;
	errno = 0;
	unsigned long v = strtoul(text, &end, 10);
	if (*end != '\0')
		return -ZFUSE_E_INVAL;
	*id = (uint32_t)v;
	return 0;
}

static int obj_get(objset_t *os, uint64_t obj, const char *key, uint64_t *v)
{
	dnode_t dn;
	int rc = dnode_hold(os, obj, &dn);
	if (rc)
		return rc;
	rc = zap_lookup_uint64(&dn, key, v);
	dnode_rele(&dn);
	return rc;
}

static int master_get(objset_t *os, const char *key, uint64_t *v)
{
	return obj_get(os, MASTER_NODE_OBJ, key, v);
}

bool zfs_objset_has_idquota(objset_t *os)
{
	if (os->type != DMU_OST_ZFS || os->spa->version < 15)
		return false;
	for (size_t i = 0; i < sizeof(limit_types) / sizeof(limit_types[0]); i++) {
		uint64_t obj;
		if (master_get(os, zfs_userquota_prop_prefixes[limit_types[i]], &obj) == 0 && obj)
			return true;
	}
	return false;
}

/* The figure of type t for id; 0 when there is none. */
static int id_value(objset_t *os, int t, uint64_t id, uint64_t *v)
{
	char key[40];
	uint64_t obj;
	*v = 0;
	if (zfs_userquota_is_limit(t)) {
		int rc = master_get(os, zfs_userquota_prop_prefixes[t], &obj);
		if (rc)
			return rc == -ZFUSE_E_NOENT ? 0 : rc;
		snprintf(key, sizeof(key), "%" PRIx64, id);
	} else {
		obj = used_obj(t);
		snprintf(key, sizeof(key), "%s%" PRIx64, zfs_userquota_is_obj(t) ? "obj-" : "", id);
	}
	int rc = obj_get(os, obj, key, v);
	return rc == -ZFUSE_E_NOENT ? 0 : rc;
}

/* zfs_id_overblockquota (objs: zfs_id_overobjquota) of one id. */
static bool over(objset_t *os, int limit, uint64_t id)
{
	uint64_t q, u;
	if (id_value(os, limit, id, &q) != 0 || q == 0)
		return false;
	return id_value(os, limit - 1, id, &u) == 0 && u >= q;
}

int zfs_id_overquota(objset_t *os, uint64_t uid, uint64_t gid, uint64_t projid, bool objs)
{
	if (!os->has_idquota)
		return 0;
	spa_t *spa = os->spa;
	bool userobj = zfeature_is_enabled(spa, "org.zfsonlinux:userobj_accounting");
	bool project = zfeature_is_enabled(spa, "org.zfsonlinux:project_quota");
	for (int pass = 0; pass < (objs && userobj ? 2 : 1); pass++) {
		int base = pass ? ZFS_PROP_USEROBJQUOTA : ZFS_PROP_USERQUOTA;
		int gbase = pass ? ZFS_PROP_GROUPOBJQUOTA : ZFS_PROP_GROUPQUOTA;
		int pbase = pass ? ZFS_PROP_PROJECTOBJQUOTA : ZFS_PROP_PROJECTQUOTA;
		if (over(os, base, uid) || over(os, gbase, gid) ||
		    (project && projid != 0 && over(os, pbase, projid)))
			return SET_ERROR(-ZFUSE_E_DQUOT);
	}
	return 0;
}

int zfs_id_overquota_one(objset_t *os, bool group, uint64_t id)
{
	if (!os->has_idquota)
		return 0;
	bool userobj = zfeature_is_enabled(os->spa, "org.zfsonlinux:userobj_accounting");
	if (over(os, group ? ZFS_PROP_GROUPQUOTA : ZFS_PROP_USERQUOTA, id) ||
	    (userobj && over(os, group ? ZFS_PROP_GROUPOBJQUOTA : ZFS_PROP_USEROBJQUOTA, id)))
		return SET_ERROR(-ZFUSE_E_DQUOT);
	return 0;
}

/* ---- get --------------------------------------------------------------- */

/* Whether the objset keeps figures of type t (dmu_objset_userspace_present
 * and friends, by pool feature). */
static bool kept(spa_t *spa, int t)
{
	if (spa->version < 15)
		return false;
	if (zfs_userquota_is_obj(t) && !zfeature_is_enabled(spa, "org.zfsonlinux:userobj_accounting"))
		return false;
	return !is_project(t) || zfeature_is_enabled(spa, "org.zfsonlinux:project_quota");
}

static void format(int t, uint64_t v, bool parsable, char *buf, size_t cap)
{
	if (parsable)
		snprintf(buf, cap, "%" PRIu64, v);
	else if (v == 0 && zfs_userquota_is_limit(t))
		snprintf(buf, cap, "none");
	else if (zfs_userquota_is_obj(t))
		zfs_nicenum(v, buf, cap);
	else
		zfs_nicebytes(v, buf, cap);
}

/* The objset of filesystem or snapshot name, for reading: the open one of
 * a head that is held (its dirty state is the newest), else its block
 * opened privately (*priv, for the caller to close). Pool lock held. */
static int objset_for_read(spa_t *spa, const char *name, objset_t **os, objset_t **priv)
{
	struct dsl_dataset_ref ref;
	int rc = dsl_dataset_find(spa, name, &ref);
	*os = *priv = NULL;
	for (objset_t *o = spa->objsets; rc == 0 && o; o = o->next)
		if (!ref.snapshot && o->dsobj == ref.dsobj)
			*os = o;
	/* Not held: nothing of it is dirty, its block is current. */
	if (rc == 0 && !*os && (rc = objset_open(spa, &ref.phys.bp, priv)) == 0)
		*os = *priv;
	return rc;
}

int zfs_userquota_get(spa_t *spa, const char *name, const char *prop, bool parsable,
		      struct zfuse_prop_value *out)
{
	int t = zfs_prop_userquota(prop);
	memset(out, 0, sizeof(*out));
	uint64_t id;
	/* zfs get prints "-" for what it cannot decode or read. */
	snprintf(out->value, sizeof(out->value), "-");
	out->source = ZFUSE_SRC_NONE;
	if (t < 0 || decode_id(t, strchr(prop, '@') + 1, &id) != 0 ||
	    (is_project(t) && id > ZFS_MAX_PROJID))
		return 0;
	spa_enter_read(spa);
	objset_t *os, *priv;
	int rc = objset_for_read(spa, name, &os, &priv);
	uint64_t v;
	if (rc == 0 && os->type == DMU_OST_ZFS && kept(spa, t) && id_value(os, t, id, &v) == 0) {
		format(t, v, parsable, out->value, sizeof(out->value));
		out->source = ZFUSE_SRC_LOCAL;
	}
	if (priv)
		objset_close(priv);
	spa_exit(spa);
	return rc;
}

/* ---- userspace --------------------------------------------------------- */

_Static_assert((int)ZFUSE_PROJECTOBJQUOTA == (int)ZFS_PROP_PROJECTOBJQUOTA &&
	       (int)ZFUSE_GROUPOBJUSED == (int)ZFS_PROP_GROUPOBJUSED,
	       "zfuse_userquota_prop follows zfs_userquota_prop_t");

struct us_walk {
	bool objused;	/* a used ZAP's "obj-" keys, not its byte keys */
	struct zfuse_userspace_entry *e;
	size_t n, cap;
};

/* zfs_userspace_many's filter: byte figures skip the "obj-" keys that
 * share their ZAP, object figures take only those; a key is a FUID in
 * hex (domain index above bit 32). */
static int us_collect(void *varg, const zap_entry_t *ze)
{
	struct us_walk *w = varg;
	const char *key = ze->name;
	bool objkey = strncmp(key, "obj-", 4) == 0;
	if (ze->value_intlen != 8 || ze->value_numints != 1 || objkey != w->objused)
		return 0;
	char *end;
	uint64_t fuid = strtoull(key + (objkey ? 4 : 0), &end, 16);
	if (*end != '\0')
		return 0;
	if (w->n == w->cap) {
		size_t nc = w->cap ? 2 * w->cap : 16;
		void *ne = realloc(w->e, nc * sizeof(*w->e));
		if (!ne)
			return -ZFUSE_E_NOMEM;
		w->e = ne;
		w->cap = nc;
	}
	w->e[w->n++] = (struct zfuse_userspace_entry){
		.domain = (uint32_t)(fuid >> 32), .rid = (uint32_t)fuid, .value = ze->value_first,
	};
	return 0;
}

int zfuse_userspace(zfuse_pool_t *pool, const char *name, enum zfuse_userquota_prop type,
		    int (*cb)(void *arg, const struct zfuse_userspace_entry *e), void *arg)
{
	spa_t *spa = (spa_t *)pool;
	int t = (int)type;
	if (t < 0 || t >= ZFS_NUM_USERQUOTA_PROPS)
		return SET_ERROR(-ZFUSE_E_INVAL);
	struct us_walk w = { zfs_userquota_is_obj(t) && !zfs_userquota_is_limit(t), NULL, 0, 0 };
	spa_enter_read(spa);
	objset_t *os, *priv;
	int rc = objset_for_read(spa, name, &os, &priv);
	if (rc == 0 && os->type != DMU_OST_ZFS) {
		spa_log(spa, ZFUSE_LOG_ERROR, "operation is only applicable to filesystems and "
			"their snapshots");
		rc = SET_ERROR(-ZFUSE_E_INVAL);
	}
	if (rc == 0 && !kept(spa, t)) {
		/* libzfs passes over the object and project kinds quietly */
		if (!zfs_userquota_is_obj(t) && !is_project(t))
			spa_log(spa, ZFUSE_LOG_ERROR, "cannot get used/quota for %s: unsupported "
				"version or feature", name);
		rc = SET_ERROR(-ZFUSE_E_UNSUPPORTED);
	}
	uint64_t obj = 0;
	if (rc == 0 && zfs_userquota_is_limit(t)) {
		rc = master_get(os, zfs_userquota_prop_prefixes[t], &obj);
		if (rc == -ZFUSE_E_NOENT)
			rc = 0;	/* no limit of this kind was ever set */
	} else if (rc == 0) {
		obj = used_obj(t);
	}
	if (rc == 0 && obj) {
		dnode_t dn;
		rc = dnode_hold(os, obj, &dn);
		if (rc == 0) {
			rc = zap_iterate(&dn, 0, 0, us_collect, &w);
			dnode_rele(&dn);
		} else if (rc == -ZFUSE_E_NOENT && !zfs_userquota_is_limit(t)) {
			rc = 0;	/* nothing has been accounted yet */
		}
	}
	if (priv)
		objset_close(priv);
	spa_exit(spa);
	/* cb runs without the lock, as zfuse_holds_iter's */
	for (size_t i = 0; rc == 0 && i < w.n; i++)
		rc = cb(arg, &w.e[i]);
	free(w.e);
	return rc;
}

/* ---- set --------------------------------------------------------------- */

struct uq_change {
	int type;
	uint64_t id, limit;
};

static int bad(spa_t *spa, int err, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int bad(spa_t *spa, int err, const char *name, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	spa_log(spa, ZFUSE_LOG_ERROR, "cannot set property for '%s': %s", name, msg);
	return SET_ERROR(err);
}

/* zfs_valid_proplist's part for these properties. */
static int check(spa_t *spa, const char *name, const struct zfuse_prop_setting *s,
		 struct uq_change *c)
{
	c->type = zfs_prop_userquota(s->name);
	if (decode_id(c->type, strchr(s->name, '@') + 1, &c->id) != 0)
		return bad(spa, -ZFUSE_E_INVAL, name, "'%s' has an invalid user/group name",
			   s->name);
	if (!zfs_userquota_is_limit(c->type))
		return bad(spa, -ZFUSE_E_INVAL, name, "'%s' is readonly", s->name);
	if (strcmp(s->value, "none") == 0)
		c->limit = 0;
	else if (!zfs_parse_size(s->value, &c->limit))
		return bad(spa, -ZFUSE_E_INVAL, name, "bad numeric value '%s'", s->value);
	/* zfs_set_userquota (kernel side): only project limits need their
	 * feature; an object limit without userobj_accounting is kept, and
	 * not enforced. */
	if (spa->version < 15 || (is_project(c->type) &&
				  !zfeature_is_enabled(spa, "org.zfsonlinux:project_quota")))
		return bad(spa, -ZFUSE_E_UNSUPPORTED, name, "pool and or dataset must be upgraded "
			   "to set this property or value");
	if (is_project(c->type) && c->id > ZFS_MAX_PROJID)
		return bad(spa, -ZFUSE_E_INVAL, name, "invalid property value");
	return 0;
}

/* zfs_set_userquota for one change, in tx. */
static int apply(objset_t *os, const struct uq_change *c, dmu_tx_t *tx)
{
	const char *mkey = zfs_userquota_prop_prefixes[c->type];
	uint64_t obj = 0;
	int rc = master_get(os, mkey, &obj);
	if (rc == -ZFUSE_E_NOENT) {
		if ((rc = zap_create(os, DMU_OT_USERGROUP_QUOTA, 0, 0, tx, &obj)) != 0 ||
		    (rc = zap_update_uint64(os, MASTER_NODE_OBJ, mkey, obj, tx)) != 0)
			return rc;
	} else if (rc) {
		return rc;
	}
	char key[40];
	snprintf(key, sizeof(key), "%" PRIx64, c->id);
	if (c->limit)
		return zap_update_uint64(os, obj, key, c->limit, tx);
	rc = zap_remove(os, obj, key, tx);
	return rc == -ZFUSE_E_NOENT ? 0 : rc;
}

int zfs_userquota_set(spa_t *spa, const char *name, const struct zfuse_prop_setting *s, size_t n,
		      bool check_only)
{
	struct uq_change *c = calloc(n ? n : 1, sizeof(*c));
	if (!c)
		return SET_ERROR(-ZFUSE_E_NOMEM);
	spa_enter_read(spa);
	struct dsl_dataset_ref ref;
	int rc = dsl_dataset_find(spa, name, &ref);
	spa_exit(spa);
	if (rc == 0 && ref.snapshot)
		rc = bad(spa, -ZFUSE_E_INVAL, name, "this property can not be modified for "
			 "snapshots");
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = check(spa, name, &s[i], &c[i]);
	objset_t *os = NULL;
	if (rc == 0 && !check_only) {
		spa_enter_write(spa);
		rc = spa_objset_hold(spa, ref.dsobj, &os);
		spa_exit(spa);
		uint64_t version = 0;
		if (rc == 0 && (os->type != DMU_OST_ZFS ||
				master_get(os, "VERSION", &version) != 0 ||
				version < ZPL_VERSION_USERSPACE))
			rc = bad(spa, -ZFUSE_E_UNSUPPORTED, name, "pool and or dataset must be "
				 "upgraded to set this property or value");
	}
	if (rc == 0 && !check_only) {
		dmu_tx_t tx;
		if ((rc = dmu_tx_begin(spa, &tx)) == 0) {
			for (size_t i = 0; i < n && rc == 0; i++)
				rc = apply(os, &c[i], &tx);
			os->has_idquota = zfs_objset_has_idquota(os);
			dmu_tx_commit(&tx);
		}
		if (rc == 0)
			rc = txg_sync_now(spa);
	}
	if (os) {
		spa_enter_write(spa);
		spa_objset_rele(spa, os);
		spa_exit(spa);
	}
	free(c);
	return rc;
}
