/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dsl_prop.c — dataset properties as `zfs get/set/inherit` see them:
 * zfuse_prop_get / zfuse_prop_iter / zfuse_prop_set / zfuse_prop_inherit
 * (zfuse/dataset.h).
 *
 * Theory: a property's value comes from one of three places.
 *   - Computed from the DSL objects (object-layer.md §6.1, §6.2, §6.11):
 *     used, available, referenced, ratios, usedby*, written, origin,
 *     clones, guid, createtxg..., as OpenZFS's dsl_dataset_stats and
 *     dsl_dir_stats compute them; available follows dsl_dir_space_available
 *     up to the pool, whose size is the normal class less slop space;
 *     ZPL creation properties come from the filesystem's master node,
 *     volsize from the zvol's ZAP.
 *   - Stored in the DSL props ZAP of a dsl_dir (§6.5): local when found in
 *     the dataset's own dir, inherited when found in an ancestor's
 *     (inheritable properties only), else the table's default. A
 *     snapshot's own props ZAP (ds_props_obj) holds its local ones; values
 *     from its head's dir and above show as inherited.
 *   - Nothing: a property of another dataset type, or one that is absent
 *     (origin of a non-clone): get answers "-", get all skips it.
 * Changes are one transaction in the MOS: the props ZAP, the dd_quota /
 * dd_reserved mirrors, per-dataset feature activation where the value
 * needs it (zstd, the checksum features, large blocks: on the dataset and
 * the descendants that inherit it), then the open objsets' cached copies
 * and recordsize are refreshed and the pool is synced.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dmu_objset.h"
#include "dmu_tx.h"
#include "byteorder.h"
#include "dmu_types.h"
#include "dnode.h"
#include "dsl.h"
#include "dsl_crypt.h"
#include "dsl_prop.h"
#include "dsl_bookmark.h"
#include "dsl_deadlist.h"
#include "dsl_dataset.h"
#include "dsl_sync.h"
#include "dsl_synctask.h"
#include "metaslab.h"
#include "spa.h"
#include "spa_impl.h"
#include "spa_lock.h"
#include "spa_misc.h"
#include "zap.h"
#include "zfeature_write.h"
#include "zfs_debug.h"
#include "zfs_prop.h"
#include "zfs_quota.h"
#include "zvol.h"
#include "zfuse/dataset.h"
#include "zfuse/errors.h"

#define NAMECAP 512

/* Everything about one dataset that its properties are computed from. */
struct dsctx {
	spa_t *spa;
	char name[NAMECAP];
	unsigned type;			/* ZPROP_T_* */
	uint64_t dsobj, dirobj;
	dsl_dataset_phys_t ds;		/* a bookmark's: its head's */
	dsl_dir_phys_t dd;
	uint64_t bm[ZBM_WORDS];		/* zfs_bookmark_phys_t */
	uint64_t ostype;
	bool zpl_ok;			/* version, utf8only, normalization, case */
	uint64_t zpl[4];
	bool vol_ok;
	uint64_t volsize, volblocksize;
	bool new_child;			/* the parent of a dataset being made */
};

static int obj_zap_lookup(objset_t *os, uint64_t obj, const char *key, unsigned intlen,
			  uint64_t n, void *out)
{
	dnode_t dn;
	int rc = dnode_hold(os, obj, &dn);
	if (rc)
		return rc;
	rc = zap_lookup(&dn, key, intlen, n, out);
	dnode_rele(&dn);
	return rc;
}

static void load_objset_facts(struct dsctx *c)
{
	if (bp_is_hole(&c->ds.bp)) {
		c->ostype = DMU_OST_ZFS;
		return;
	}
	objset_t *os;
	if (objset_open(c->spa, &c->ds.bp, &os) != 0)
		return;
	c->ostype = os->type;
	if (os->type == DMU_OST_ZFS) {
		static const char *const keys[4] = { "VERSION", "utf8only", "normalization",
						     "casesensitivity" };
		c->zpl_ok = obj_zap_lookup(os, 1, keys[0], 8, 1, &c->zpl[0]) == 0;
		for (int i = 1; i < 4; i++)
			if (obj_zap_lookup(os, 1, keys[i], 8, 1, &c->zpl[i]) != 0)
				c->zpl[i] = 0;
	} else if (os->type == DMU_OST_ZVOL) {
		dnode_t dn;
		c->vol_ok = obj_zap_lookup(os, 2, "size", 8, 1, &c->volsize) == 0;
		if (c->vol_ok && dnode_hold(os, 1, &dn) == 0) {
			c->volblocksize = dnode_datablksz(&dn);
			dnode_rele(&dn);
		}
	}
	objset_close(os);
}

static int ctx_open(spa_t *spa, const char *name, struct dsctx *c)
{
	memset(c, 0, sizeof(*c));
	c->spa = spa;
	if (snprintf(c->name, sizeof(c->name), "%s", name) >= (int)sizeof(c->name))
		return -ZFUSE_E_NAMETOOLONG;
	char head[NAMECAP];
	snprintf(head, sizeof(head), "%s", name);
	char *hash = strchr(head, '#');
	if (hash)
		*hash = 0;
	struct dsl_dataset_ref ref;
	int rc = dsl_dataset_find(spa, head, &ref);
	if (rc)
		return rc;
	c->dsobj = ref.dsobj;
	c->dirobj = ref.dirobj;
	c->ds = ref.phys;
	if ((rc = dsl_dir_read(spa, c->dirobj, &c->dd)) != 0)
		return rc;
	if (hash) {
		uint64_t bmobj;
		unsigned intlen;
		uint64_t n;
		dnode_t dn;
		if (ref.snapshot || dsl_zapified_lookup(spa, c->dsobj, "com.delphix:bookmarks",
							&bmobj) != 0)
			return -ZFUSE_E_NOENT;
		if ((rc = dnode_hold(spa->mos, bmobj, &dn)) != 0)
			return rc;
		rc = zap_lookup_length(&dn, hash + 1, &intlen, &n);
		if (rc == 0 && (intlen != 8 || n < ZBM_V1_WORDS || n > ZBM_WORDS))
			rc = SET_ERROR(-ZFUSE_E_CORRUPT);
		if (rc == 0)
			rc = zap_lookup(&dn, hash + 1, 8, n, c->bm);
		dnode_rele(&dn);
		c->type = ZPROP_T_BOOKMARK;
		return rc;
	}
	load_objset_facts(c);
	if (ref.snapshot)
		c->type = ZPROP_T_SNAP;
	else
		c->type = c->ostype == DMU_OST_ZVOL ? ZPROP_T_VOL : ZPROP_T_FS;
	return 0;
}

/* ---- computed values ------------------------------------------------- */

static uint64_t ratio(uint64_t comp, uint64_t uncomp)
{
	return comp == 0 ? 100 : uncomp * 100 / comp;
}

/* Bytes in the MOS "sync_bplist" bpobj: frees spa_sync deferred. */
static uint64_t deferred_frees(spa_t *spa)
{
	uint64_t obj, bytes = 0;
	dnode_t dn;
	if (obj_zap_lookup(spa->mos, 1, "sync_bplist", 8, 1, &obj) != 0 ||
	    dnode_hold(spa->mos, obj, &dn) != 0)
		return 0;
	uint64_t len;
	const uint8_t *b = dnode_bonus(&dn, &len);
	if (len >= 16)
		bytes = le64(b + 8);
	dnode_rele(&dn);
	return bytes;
}

uint64_t dsl_pool_unreserved_space(spa_t *spa)
{
	/* dsl_pool_adjustedsize, less the frees deferred to the next txg */
	uint64_t space = metaslab_class_dspace(spa), slop = spa_slop_space(spa);
	uint64_t deferred = deferred_frees(spa);
	space = space > deferred ? space - deferred : 0;
	return space > slop ? space - slop : 0;
}

/* dsl_dir_space_available with no pending changes. */
static uint64_t dir_space_available(spa_t *spa, uint64_t dirobj, int depth)
{
	dsl_dir_phys_t dd;
	if (depth > 64 || dsl_dir_read(spa, dirobj, &dd) != 0)
		return 0;
	uint64_t parentspace = UINT64_MAX, quota = dd.quota ? dd.quota : UINT64_MAX;
	if (dd.parent_obj) {
		parentspace = dir_space_available(spa, dd.parent_obj, depth + 1);
	} else {
		uint64_t poolsize = dsl_pool_unreserved_space(spa);
		if (poolsize < quota)
			quota = poolsize;
	}
	uint64_t used = dd.used_bytes;
	if (dd.reserved > used && parentspace != UINT64_MAX)
		parentspace += dd.reserved - used;
	if (used > quota)
		return 0;
	return parentspace < quota - used ? parentspace : quota - used;
}

static uint64_t local_uint64(struct dsctx *c, const char *prop, uint64_t dflt)
{
	uint64_t v;
	return dsl_prop_get_uint64(c->spa, c->dirobj, prop, false, &v, NULL) == 0 ? v : dflt;
}

uint64_t dsl_dataset_available(spa_t *spa, uint64_t dsobj)
{
	dsl_dataset_phys_t ds;
	uint64_t refres = 0, refquota = 0;
	if (dsl_dataset_read(spa, dsobj, &ds) != 0)
		return 0;
	uint64_t avail = dir_space_available(spa, ds.dir_obj, 0);
	dsl_prop_get_uint64(spa, ds.dir_obj, "refreservation", false, &refres, NULL);
	dsl_prop_get_uint64(spa, ds.dir_obj, "refquota", false, &refquota, NULL);
	if (refres > ds.unique_bytes)
		avail += refres - ds.unique_bytes;
	if (refquota) {
		uint64_t refd = ds.referenced_bytes;
		avail = refd < refquota ? (avail < refquota - refd ? avail : refquota - refd) : 0;
	}
	return avail;
}

/* Bytes of a deadlist (the header's dl_used; an old-format one is a bpobj). */
static int deadlist_used(spa_t *spa, uint64_t obj, uint64_t *used)
{
	dnode_t dn;
	int rc = dnode_hold(spa->mos, obj, &dn);
	if (rc)
		return rc;
	uint64_t len;
	const uint8_t *b = dnode_bonus(&dn, &len);
	unsigned off = dn.type == DMU_OT_BPOBJ ? 8 : 0;
	if (len < off + 8)
		rc = SET_ERROR(-ZFUSE_E_CORRUPT);
	else
		*used = le64(b + off);
	dnode_rele(&dn);
	return rc;
}

/* dsl_get_written: space written since the previous snapshot. */
static int written(struct dsctx *c, uint64_t *out)
{
	if (!c->ds.prev_snap_obj)
		return -ZFUSE_E_NODATA;
	dsl_dataset_phys_t prev;
	uint64_t dl = 0;
	int rc = dsl_dataset_read(c->spa, c->ds.prev_snap_obj, &prev);
	if (rc == 0 && c->ds.deadlist_obj)
		rc = deadlist_used(c->spa, c->ds.deadlist_obj, &dl);
	if (rc)
		return rc;
	*out = c->ds.referenced_bytes - prev.referenced_bytes + dl;
	return 0;
}

static bool is_clone(struct dsctx *c, char *buf, size_t cap)
{
	return c->dd.origin_obj && dsl_dataset_name(c->spa, c->dd.origin_obj, buf, cap) == 0 &&
	       !strstr(buf, "/$ORIGIN@");
}

struct clones {
	spa_t *spa;
	char *buf;
	size_t cap, n;
};

static int clones_cb(void *arg, const zap_entry_t *ze)
{
	struct clones *cl = arg;
	dsl_dataset_phys_t ds;
	char name[NAMECAP];
	if (dsl_dataset_read(cl->spa, ze->value_first, &ds) != 0 ||
	    dsl_dir_name(cl->spa, ds.dir_obj, name, sizeof(name)) != 0)
		return 0;
	cl->n += (size_t)snprintf(cl->buf + cl->n, cl->n < cl->cap ? cl->cap - cl->n : 0, "%s%s",
				  cl->n ? "," : "", name);
	return 0;
}

static int clones(struct dsctx *c, char *buf, size_t cap)
{
	if (c->ds.num_children <= 1 || !c->ds.next_clones_obj)
		return -ZFUSE_E_NODATA;
	struct clones cl = { c->spa, buf, cap, 0 };
	dnode_t dn;
	int rc = dnode_hold(c->spa->mos, c->ds.next_clones_obj, &dn);
	if (rc)
		return rc;
	buf[0] = 0;
	rc = zap_iterate(&dn, 0, 0, clones_cb, &cl);
	dnode_rele(&dn);
	return rc < 0 ? rc : cl.n ? 0 : -ZFUSE_E_NODATA;
}

/* ---- stored values ------------------------------------------------------- */

struct stored {
	bool found;
	uint64_t num;
	char str[1024];
	enum zfuse_prop_source src;
	uint64_t srcdir;
};

/* The value of a props-ZAP property for this dataset, with its source. */
static int stored_value(struct dsctx *c, zfs_prop_t p, struct stored *s)
{
	const zprop_desc_t *d = zfs_prop_desc(p);
	bool inherit = d->attr == ZPROP_INHERIT;
	bool isstr = d->type == ZPROP_STRING;
	memset(s, 0, sizeof(*s));
	int rc;
	if (c->type == ZPROP_T_SNAP && c->ds.props_obj) {
		rc = isstr ? obj_zap_lookup(c->spa->mos, c->ds.props_obj, d->name, 1,
					    sizeof(s->str), s->str)
			   : obj_zap_lookup(c->spa->mos, c->ds.props_obj, d->name, 8, 1, &s->num);
		if (rc == 0) {
			s->found = true;
			s->src = ZFUSE_SRC_LOCAL;
			return 0;
		}
		if (rc != -ZFUSE_E_NOENT)
			return rc;
	}
	if (c->type == ZPROP_T_SNAP && !inherit)
		rc = -ZFUSE_E_NOENT;
	else if (isstr)
		rc = dsl_prop_get_string(c->spa, c->dirobj, d->name, inherit, s->str, sizeof(s->str),
					 &s->srcdir);
	else
		rc = dsl_prop_get_uint64(c->spa, c->dirobj, d->name, inherit, &s->num, &s->srcdir);
	if (rc == -ZFUSE_E_NOENT) {
		s->src = ZFUSE_SRC_DEFAULT;
		s->num = d->numdefault;
		snprintf(s->str, sizeof(s->str), "%s", d->strdefault ? d->strdefault : "");
		return 0;
	}
	if (rc)
		return rc;
	s->found = true;
	s->src = s->srcdir == c->dirobj && c->type != ZPROP_T_SNAP ? ZFUSE_SRC_LOCAL
								   : ZFUSE_SRC_INHERITED;
	return 0;
}

static void set_inherited_from(struct dsctx *c, uint64_t srcdir, struct zfuse_prop_value *out)
{
	if (dsl_dir_name(c->spa, srcdir, out->inherited_from, sizeof(out->inherited_from)) != 0)
		snprintf(out->inherited_from, sizeof(out->inherited_from), "?");
}

static void put_index(zfs_prop_t p, uint64_t v, struct zfuse_prop_value *out)
{
	const char *n = zfs_prop_index_name(p, v);
	if (n)
		snprintf(out->value, sizeof(out->value), "%s", n);
	else
		snprintf(out->value, sizeof(out->value), "%" PRIu64, v);
}

static int settable_value(struct dsctx *c, zfs_prop_t p, bool parsable,
			  struct zfuse_prop_value *out)
{
	const zprop_desc_t *d = zfs_prop_desc(p);
	struct stored s;
	int rc = stored_value(c, p, &s);
	if (rc)
		return rc;
	out->source = s.src;
	if (s.src == ZFUSE_SRC_INHERITED)
		set_inherited_from(c, s.srcdir, out);
	/* Values the DSL keeps itself (dsl_dir_stats). */
	if (p == ZFS_PROP_QUOTA)
		s.num = c->dd.quota;
	else if (p == ZFS_PROP_RESERVATION)
		s.num = c->dd.reserved;
	if (p == ZFS_PROP_MOUNTPOINT) {
		uint64_t src;
		dsl_mountpoint(c->spa, c->dirobj, c->name, out->value, sizeof(out->value), &src);
		return 0;
	}
	switch (d->type) {
	case ZPROP_STRING:
		snprintf(out->value, sizeof(out->value), "%s", s.str);
		break;
	case ZPROP_INDEX:
		put_index(p, s.num, out);
		break;
	case ZPROP_NUMBER:
		zfs_prop_format_number(p, s.num, parsable, out->value, sizeof(out->value));
		break;
	}
	return 0;
}

/* ---- one property ------------------------------------------------------- */

static int num(zfs_prop_t p, uint64_t v, bool parsable, struct zfuse_prop_value *out)
{
	out->source = ZFUSE_SRC_NONE;
	zfs_prop_format_number(p, v, parsable, out->value, sizeof(out->value));
	return 0;
}

static int str(const char *s, struct zfuse_prop_value *out)
{
	out->source = ZFUSE_SRC_NONE;
	snprintf(out->value, sizeof(out->value), "%s", s);
	return 0;
}

static bool encrypted(struct dsctx *c, uint64_t *keyobj)
{
	return dsl_zapified_lookup(c->spa, c->dirobj, "com.datto:crypto_key_obj", keyobj) == 0 &&
	       *keyobj;
}

static bool crypto_zap_root(struct dsctx *c, uint64_t keyobj, uint64_t *root)
{
	return obj_zap_lookup(c->spa->mos, keyobj, "DSL_CRYPTO_ROOT_DDOBJ", 8, 1, root) == 0;
}

static int crypt_value(struct dsctx *c, zfs_prop_t p, bool parsable, struct zfuse_prop_value *out)
{
	uint64_t keyobj, v;
	if (!encrypted(c, &keyobj)) {
		if (p == ZFS_PROP_ENCRYPTION_ROOT || p == ZFS_PROP_KEYSTATUS)
			return -ZFUSE_E_NODATA;
		return settable_value(c, p, parsable, out);
	}
	static const char *const keys[] = { [ZFS_PROP_ENCRYPTION] = "DSL_CRYPTO_SUITE",
					     [ZFS_PROP_KEYFORMAT] = "keyformat",
					     [ZFS_PROP_PBKDF2_ITERS] = "pbkdf2iters",
					     [ZFS_PROP_ENCRYPTION_ROOT] = "DSL_CRYPTO_ROOT_DDOBJ" };
	if (p == ZFS_PROP_KEYLOCATION)
		return settable_value(c, p, parsable, out);
	if (p == ZFS_PROP_KEYSTATUS) {
		uint64_t root;
		bool loaded = crypto_zap_root(c, keyobj, &root) && spa_keystore_wkey_loaded(c->spa, root);
		put_index(p, loaded ? 2 : 1, out);	/* available / unavailable */
		out->source = ZFUSE_SRC_NONE;
		return 0;
	}
	int rc = obj_zap_lookup(c->spa->mos, keyobj, keys[p], 8, 1, &v);
	if (rc)
		return rc == -ZFUSE_E_NOENT ? -ZFUSE_E_NODATA : rc;
	out->source = ZFUSE_SRC_NONE;
	if (p == ZFS_PROP_ENCRYPTION_ROOT)
		return dsl_dir_name(c->spa, v, out->value, sizeof(out->value));
	if (p == ZFS_PROP_PBKDF2_ITERS)
		return num(p, v, parsable, out);
	put_index(p, v, out);
	return 0;
}

static int prop_value(struct dsctx *c, zfs_prop_t p, bool parsable, struct zfuse_prop_value *out)
{
	const zprop_desc_t *d = zfs_prop_desc(p);
	memset(out, 0, sizeof(*out));
	if (!(d->types & c->type))
		return -ZFUSE_E_INVAL;
	bool bm = c->type == ZPROP_T_BOOKMARK, snap = c->type == ZPROP_T_SNAP;
	bool head = !bm && !snap;
	uint64_t v;
	int rc;
	switch (p) {
	case ZFS_PROP_TYPE:
		return str(bm ? "bookmark" : snap ? "snapshot" : head && c->type == ZPROP_T_VOL ?
			   "volume" : "filesystem", out);
	case ZFS_PROP_NAME:
		return str(c->name, out);
	case ZFS_PROP_CREATION:
		return num(p, bm ? c->bm[ZBM_TIME] : c->ds.creation_time, parsable, out);
	case ZFS_PROP_CREATETXG:
		return num(p, bm ? c->bm[ZBM_TXG] : c->ds.creation_txg, parsable, out);
	case ZFS_PROP_GUID:
		return num(p, bm ? c->bm[ZBM_GUID] : c->ds.guid, parsable, out);
	case ZFS_PROP_REFERENCED:
		if (bm && !(c->bm[ZBM_FLAGS] & ZBM_FLAG_HAS_FBN))
			return -ZFUSE_E_NODATA;
		return num(p, bm ? c->bm[ZBM_REFERENCED_REFD] : c->ds.referenced_bytes, parsable, out);
	case ZFS_PROP_LOGICALREFERENCED:
		if (bm && !(c->bm[ZBM_FLAGS] & ZBM_FLAG_HAS_FBN))
			return -ZFUSE_E_NODATA;
		return num(p, bm ? c->bm[ZBM_UNCOMPRESSED_REFD] : c->ds.uncompressed_bytes, parsable, out);
	case ZFS_PROP_COMPRESSRATIO:
		if (bm)
			return -ZFUSE_E_NODATA;
		return num(p, snap ? ratio(c->ds.compressed_bytes, c->ds.uncompressed_bytes)
				   : ratio(c->dd.compressed_bytes, c->dd.uncompressed_bytes),
			   parsable, out);
	case ZFS_PROP_REFRATIO:
		return num(p, ratio(c->ds.compressed_bytes, c->ds.uncompressed_bytes), parsable, out);
	case ZFS_PROP_USED:
		return num(p, snap ? c->ds.unique_bytes : c->dd.used_bytes, parsable, out);
	case ZFS_PROP_AVAILABLE:
		return num(p, dsl_dataset_available(c->spa, c->dsobj), parsable, out);
	case ZFS_PROP_LOGICALUSED:
		return num(p, c->dd.uncompressed_bytes, parsable, out);
	case ZFS_PROP_USEDSNAP:
	case ZFS_PROP_USEDDS:
	case ZFS_PROP_USEDCHILD:
	case ZFS_PROP_USEDREFRESERV: {
		if (!(c->dd.flags & DD_FLAG_USED_BREAKDOWN))
			return -ZFUSE_E_NODATA;
		const uint64_t *b = c->dd.used_breakdown;
		v = p == ZFS_PROP_USEDSNAP ? b[1] : p == ZFS_PROP_USEDDS ? b[0] :
		    p == ZFS_PROP_USEDCHILD ? b[2] + b[3] : b[4];
		return num(p, v, parsable, out);
	}
	case ZFS_PROP_WRITTEN:
		if ((rc = written(c, &v)) != 0)
			return rc;
		return num(p, v, parsable, out);
	case ZFS_PROP_OBJSETID:
		return num(p, c->dsobj, parsable, out);
	case ZFS_PROP_USERREFS:
		v = 0;
		if (c->ds.userrefs_obj && (rc = zap_count(c->spa->mos, c->ds.userrefs_obj, &v)) != 0)
			return rc;
		return num(p, v, parsable, out);
	case ZFS_PROP_DEFER_DESTROY:
		put_index(p, (c->ds.flags & 0x8) ? 1 : 0, out);
		return 0;
	case ZFS_PROP_MOUNTED:
		put_index(p, 0, out);	/* the library mounts nothing itself */
		return 0;
	case ZFS_PROP_ORIGIN:
		if (!is_clone(c, out->value, sizeof(out->value)))
			return -ZFUSE_E_NODATA;
		out->source = ZFUSE_SRC_NONE;
		return 0;
	case ZFS_PROP_CLONES:
		return clones(c, out->value, sizeof(out->value));
	case ZFS_PROP_FILESYSTEM_COUNT:
	case ZFS_PROP_SNAPSHOT_COUNT:
		if (dsl_zapified_lookup(c->spa, c->dirobj, p == ZFS_PROP_FILESYSTEM_COUNT ?
					"com.joyent:filesystem_count" : "com.joyent:snapshot_count",
					&v) == 0) {
			/* zfs get shows kept counts as local */
			num(p, v, parsable, out);
			out->source = ZFUSE_SRC_LOCAL;
			return 0;
		}
		num(p, UINT64_MAX, parsable, out);
		out->source = ZFUSE_SRC_DEFAULT;
		return 0;
	case ZFS_PROP_SNAPSHOTS_CHANGED: {
		uint64_t t[2];
		if (obj_zap_lookup(c->spa->mos, c->dirobj, "com.ixsystems:snapshots_changed", 8, 2,
				   t) != 0)
			return -ZFUSE_E_NODATA;
		return num(p, t[0], parsable, out);
	}
	case ZFS_PROP_VERSION:
	case ZFS_PROP_UTF8ONLY:
	case ZFS_PROP_NORMALIZE:
	case ZFS_PROP_CASE:
		if (!c->zpl_ok)
			return -ZFUSE_E_NODATA;
		put_index(p, c->zpl[p == ZFS_PROP_VERSION ? 0 : p == ZFS_PROP_UTF8ONLY ? 1 :
				   p == ZFS_PROP_NORMALIZE ? 2 : 3], out);
		return 0;
	case ZFS_PROP_VOLSIZE:
		if (!c->vol_ok)
			return -ZFUSE_E_NODATA;
		num(p, c->volsize, parsable, out);
		out->source = snap ? ZFUSE_SRC_NONE : ZFUSE_SRC_LOCAL;
		return 0;
	case ZFS_PROP_VOLBLOCKSIZE:
		if (!c->vol_ok)
			return -ZFUSE_E_NODATA;
		num(p, c->volblocksize, parsable, out);
		/* zfs get: "default" for 16K, "-" for another size */
		out->source = c->volblocksize == 16384 ? ZFUSE_SRC_DEFAULT : ZFUSE_SRC_NONE;
		return 0;
	case ZFS_PROP_ENCRYPTION:
	case ZFS_PROP_KEYLOCATION:
	case ZFS_PROP_KEYFORMAT:
	case ZFS_PROP_PBKDF2_ITERS:
	case ZFS_PROP_ENCRYPTION_ROOT:
	case ZFS_PROP_KEYSTATUS:
		return crypt_value(c, p, parsable, out);
	default:
		break;
	}
	if (d->attr == ZPROP_READONLY || d->hidden)
		return -ZFUSE_E_NODATA;
	return settable_value(c, p, parsable, out);
}

/* ---- user properties ---------------------------------------------------- */

struct uprop {
	char name[ZAP_MAXNAMELEN];
	struct zfuse_prop_value v;
};

struct ulist {
	struct uprop *v;
	size_t n, cap;
	enum zfuse_prop_source src;
	const char *from;
	int err;
};

static int ulist_cb(void *arg, const zap_entry_t *ze)
{
	struct ulist *l = arg;
	if (!strchr(ze->name, ':') || strchr(ze->name, '$') || ze->value_intlen != 1)
		return 0;
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, ze->name) == 0)
			return 0;	/* a nearer dir set it */
	if (l->n == l->cap) {
		size_t nc = l->cap ? 2 * l->cap : 8;
		struct uprop *nv = realloc(l->v, nc * sizeof(*nv));
		if (!nv)
			return -ZFUSE_E_NOMEM;
		l->v = nv;
		l->cap = nc;
	}
	struct uprop *u = &l->v[l->n++];
	memset(u, 0, sizeof(*u));
	snprintf(u->name, sizeof(u->name), "%s", ze->name);
	size_t len = ze->value_numints < sizeof(u->v.value) ? ze->value_numints
							    : sizeof(u->v.value) - 1;
	memcpy(u->v.value, ze->value, len);
	u->v.value[len] = 0;
	u->v.source = l->src;
	if (l->from)
		snprintf(u->v.inherited_from, sizeof(u->v.inherited_from), "%s", l->from);
	return 0;
}

static int ulist_zap(spa_t *spa, uint64_t obj, struct ulist *l)
{
	dnode_t dn;
	int rc = dnode_hold(spa->mos, obj, &dn);
	if (rc)
		return rc;
	rc = zap_iterate(&dn, 0, 0, ulist_cb, l);
	dnode_rele(&dn);
	return rc < 0 ? rc : 0;
}

/* Every user property of the dataset, in the order OpenZFS's
 * dsl_prop_get_all_ds lists them: a snapshot's own, then its dir's, then
 * each ancestor's new ones (each ZAP in its iteration order). */
static int user_props(struct dsctx *c, struct ulist *l)
{
	memset(l, 0, sizeof(*l));
	int rc = 0;
	if (c->type == ZPROP_T_BOOKMARK)
		return 0;
	if (c->type == ZPROP_T_SNAP && c->ds.props_obj) {
		l->src = ZFUSE_SRC_LOCAL;
		rc = ulist_zap(c->spa, c->ds.props_obj, l);
	}
	uint64_t dir = c->dirobj;
	for (int depth = 0; rc == 0 && dir && depth < 64; depth++) {
		dsl_dir_phys_t dd;
		char from[NAMECAP];
		if ((rc = dsl_dir_read(c->spa, dir, &dd)) != 0)
			break;
		bool local = dir == c->dirobj && c->type != ZPROP_T_SNAP;
		l->src = local ? ZFUSE_SRC_LOCAL : ZFUSE_SRC_INHERITED;
		l->from = NULL;
		if (!local && dsl_dir_name(c->spa, dir, from, sizeof(from)) == 0)
			l->from = from;
		if (dd.props_zapobj)
			rc = ulist_zap(c->spa, dd.props_zapobj, l);
		l->from = NULL;
		dir = dd.parent_obj;
	}
	return rc;
}

/* ---- written@SNAP, written#BOOKMARK ------------------------------------- */

/* dsl_dataset_space_written_impl: what dataset dsobj references that the
 * bookmark w did not, plus what the bookmark referenced and has since lost
 * on the way to dsobj. Without HAS_FBN (a snapshot as the source) the
 * snapshot next to it towards dsobj tells what it lost. */
static int space_written(spa_t *spa, uint64_t dsobj, const uint64_t w[ZBM_WORDS], uint64_t *used)
{
	dsl_dataset_phys_t d;
	int rc = dsl_dataset_read(spa, dsobj, &d);
	if (rc)
		return rc;
	*used = d.referenced_bytes - w[ZBM_REFERENCED_REFD];
	for (int depth = 0; d.prev_snap_txg > w[ZBM_TXG]; depth++) {
		struct bpobj_space sp;
		if (depth > 1 << 20 || !d.prev_snap_obj)
			return SET_ERROR(-ZFUSE_E_CORRUPT);
		if ((rc = dsl_deadlist_space_range(spa, d.deadlist_obj, 0, w[ZBM_TXG], &sp)) != 0 ||
		    (rc = dsl_dataset_read(spa, d.prev_snap_obj, &d)) != 0)
			return rc;
		*used += sp.used;
	}
	if (w[ZBM_FLAGS] & ZBM_FLAG_HAS_FBN) {
		*used += w[ZBM_REFERENCED_FBN];
	} else {
		struct bpobj_space sp;
		if ((rc = dsl_deadlist_space(spa, d.deadlist_obj, &sp)) != 0)
			return rc;
		*used += sp.used;
	}
	return 0;
}

/* zfs_prop_get_written: the source named short ("written@s") is of the
 * dataset's own filesystem. Errors: ZFUSE_E_NODATA (no such source, not
 * in the dataset's past, a bookmark without the written figures). */
static int written_since(struct dsctx *c, const char *prop, bool parsable,
			 struct zfuse_prop_value *out)
{
	if (c->type == ZPROP_T_BOOKMARK)
		return -ZFUSE_E_NODATA;
	char fs[NAMECAP], full[2 * NAMECAP];
	snprintf(fs, sizeof(fs), "%s", c->name);
	fs[strcspn(fs, "@#")] = 0;
	const char *src = prop + strlen("written@");
	if (strpbrk(src, "@#"))
		snprintf(full, sizeof(full), "%s", src);
	else
		snprintf(full, sizeof(full), "%s%c%s", fs, prop[7], src);
	uint64_t w[ZBM_WORDS] = { 0 };
	uint64_t srcobj, used;
	struct dsl_dataset_ref ref;
	char *hash = strchr(full, '#');
	int rc;
	if (hash) {
		*hash = 0;
		rc = dsl_dataset_find(c->spa, full, &ref);
		if (rc == 0 && ref.snapshot)
			rc = -ZFUSE_E_NOENT;
		if (rc == 0)
			rc = dsl_bookmark_lookup(c->spa, ref.dsobj, hash + 1, w);
		if (rc == 0 && !(w[ZBM_FLAGS] & ZBM_FLAG_HAS_FBN))
			rc = -ZFUSE_E_UNSUPPORTED;
		srcobj = ref.dsobj;
	} else {
		rc = dsl_dataset_find(c->spa, full, &ref);
		if (rc == 0 && !ref.snapshot)
			rc = -ZFUSE_E_INVAL;
		srcobj = ref.dsobj;
		w[ZBM_TXG] = ref.phys.creation_txg;
		w[ZBM_REFERENCED_REFD] = ref.phys.referenced_bytes;
	}
	if (rc == 0 && !dsl_dataset_is_before(c->spa, c->dsobj, srcobj, w[ZBM_TXG]))
		rc = -ZFUSE_E_XDEV;
	if (rc == 0)
		rc = space_written(c->spa, c->dsobj, w, &used);
	if (rc == -ZFUSE_E_NOENT || rc == -ZFUSE_E_INVAL || rc == -ZFUSE_E_XDEV ||
	    rc == -ZFUSE_E_UNSUPPORTED)
		return -ZFUSE_E_NODATA;
	if (rc == 0) {
		num(ZFS_PROP_WRITTEN, used, parsable, out);
		out->source = ZFUSE_SRC_LOCAL;
	}
	return rc;
}

/* ---- public: get, iter ------------------------------------------------- */

int zfuse_prop_get(zfuse_pool_t *pool, const char *name, const char *prop, bool parsable,
		   struct zfuse_prop_value *out)
{
	spa_t *spa = (spa_t *)pool;
	if (zfs_prop_userquota(prop) >= 0)
		return zfs_userquota_get(spa, name, prop, parsable, out);
	struct dsctx *c = malloc(sizeof(*c));
	if (!c)
		return -ZFUSE_E_NOMEM;
	int p = zfs_prop_lookup(prop);
	bool written = zfs_prop_written(prop);
	if (p < 0 && !zfs_prop_user(prop) && !written) {
		free(c);
		spa_log(spa, ZFUSE_LOG_ERROR, "bad property name '%s': no such property", prop);
		return -ZFUSE_E_INVAL;
	}
	spa_enter_read(spa);
	int rc = ctx_open(spa, name, c);
	if (rc == 0 && written) {
		rc = written_since(c, prop, parsable, out);
		if (rc == -ZFUSE_E_NODATA) {
			memset(out, 0, sizeof(*out));
			snprintf(out->value, sizeof(out->value), "-");
			rc = 0;
		}
	} else if (rc == 0 && p >= 0) {
		rc = prop_value(c, (zfs_prop_t)p, parsable, out);
		if (rc == -ZFUSE_E_NODATA) {
			memset(out, 0, sizeof(*out));
			snprintf(out->value, sizeof(out->value), "-");
			rc = 0;
		}
	} else if (rc == 0) {
		struct ulist l;
		rc = user_props(c, &l);
		if (rc == 0)
			rc = -ZFUSE_E_NODATA;
		for (size_t i = 0; i < l.n && rc == -ZFUSE_E_NODATA; i++)
			if (strcmp(l.v[i].name, prop) == 0) {
				*out = l.v[i].v;
				rc = 0;
			}
		free(l.v);
	}
	spa_exit(spa);
	free(c);
	return rc;
}

struct iter_item {
	char prop[ZAP_MAXNAMELEN];
	struct zfuse_prop_value v;
};

int zfuse_prop_iter(zfuse_pool_t *pool, const char *name, bool parsable,
		    int (*cb)(void *arg, const char *prop, const struct zfuse_prop_value *v),
		    void *arg)
{
	spa_t *spa = (spa_t *)pool;
	struct dsctx *c = malloc(sizeof(*c));
	struct iter_item *items = calloc(ZFS_NUM_PROPS, sizeof(*items));
	struct ulist l = { 0 };
	size_t n = 0;
	int rc = c && items ? 0 : -ZFUSE_E_NOMEM;
	/* Collected under the lock; cb runs without it. */
	spa_enter_read(spa);
	if (rc == 0)
		rc = ctx_open(spa, name, c);
	for (int p = 0; rc == 0 && p < ZFS_NUM_PROPS; p++) {
		const zprop_desc_t *d = zfs_prop_desc((zfs_prop_t)p);
		if (d->hidden || !(d->types & c->type))
			continue;
		int r = prop_value(c, (zfs_prop_t)p, parsable, &items[n].v);
		if (r == -ZFUSE_E_NODATA || r == -ZFUSE_E_INVAL)
			continue;
		if (r) {
			rc = r;
			break;
		}
		snprintf(items[n].prop, sizeof(items[n].prop), "%s", d->name);
		n++;
	}
	if (rc == 0)
		rc = user_props(c, &l);
	spa_exit(spa);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = cb(arg, items[i].prop, &items[i].v);
	for (size_t i = 0; i < l.n && rc == 0; i++)
		rc = cb(arg, l.v[i].name, &l.v[i].v);
	free(l.v);
	free(items);
	free(c);
	return rc;
}

/* ---- public: set, inherit --------------------------------------------- */

/* A checked change: what to write for one property. */
struct change {
	int prop;		/* zfs_prop_t, or -1 for a user property */
	const char *name;
	uint64_t num;
	const char *str;	/* string value; NULL for numbers */
	const char *feature;	/* per-dataset feature the value needs */
};

static int bad(spa_t *spa, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(spa_t *spa, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	spa_log(spa, ZFUSE_LOG_ERROR, "%s", msg);
	return err;
}

/* zfs_valid_proplist / zfs_check_settable for one setting. */
static int check_setting(struct dsctx *c, const struct zfuse_prop_setting *s, struct change *ch)
{
	spa_t *spa = c->spa;
	memset(ch, 0, sizeof(*ch));
	ch->prop = zfs_prop_lookup(s->name);
	if (ch->prop < 0) {
		if (!zfs_prop_user(s->name))
			return bad(spa, -ZFUSE_E_INVAL, "cannot set property for '%s': invalid "
				   "property '%s'", c->name, s->name);
		if (strlen(s->value) >= 8192)
			return bad(spa, -ZFUSE_E_INVAL, "cannot set property for '%s': property "
				   "value of '%s' is too long", c->name, s->name);
		ch->name = s->name;
		ch->str = s->value;
		return 0;
	}
	zfs_prop_t p = (zfs_prop_t)ch->prop;
	const zprop_desc_t *d = zfs_prop_desc(p);
	ch->name = d->name;
	if (d->attr == ZPROP_READONLY || d->hidden)
		return bad(spa, -ZFUSE_E_INVAL, "cannot set property for '%s': '%s' is readonly",
			   c->name, d->name);
	if (!(d->types & c->type) || c->type == ZPROP_T_SNAP)
		return bad(spa, -ZFUSE_E_INVAL, "cannot set property for '%s': '%s' does not apply "
			   "to datasets of this type", c->name, d->name);
	if (d->attr == ZPROP_ONETIME || d->attr == ZPROP_ONETIME_DEFAULT)
		return bad(spa, -ZFUSE_E_INVAL, "cannot set property for '%s': '%s' can only be "
			   "set at creation time", c->name, d->name);
	char err[256];
	if (!zfs_prop_parse(p, s->value, &ch->num, &ch->str, err, sizeof(err)))
		return bad(spa, -ZFUSE_E_INVAL, "cannot set property for '%s': %s", c->name, err);
	/* What zfuse cannot keep on disk. */
	switch (p) {
	case ZFS_PROP_REFRESERVATION: {
		/* dsl_dataset_set_refreservation_check: the growth of the
		 * charge must fit in the space available. */
		uint64_t old = c->new_child ? 0 : local_uint64(c, d->name, 0);
		uint64_t u = c->new_child ? 0 : c->ds.unique_bytes;
		uint64_t grow = (ch->num > u ? ch->num - u : 0), had = (old > u ? old - u : 0);
		if (grow > had && grow - had > dsl_dataset_available(c->spa, c->dsobj))
			return bad(spa, -ZFUSE_E_NOSPC, "cannot set property for '%s': size is "
				   "greater than available space", c->name);
		break;
	}
	case ZFS_PROP_RESERVATION: {
		/* dsl_dir_set_reservation_check: the growth of max(used,
		 * reserved) must fit in what the parent has available, and
		 * the reservation within the dir's quota. For a dataset yet
		 * to be made, c is its parent. */
		uint64_t used = c->new_child ? 0 : c->dd.used_bytes;
		uint64_t old = c->new_child ? 0 : c->dd.reserved;
		uint64_t parent = c->new_child ? c->dirobj : c->dd.parent_obj;
		uint64_t avail = dir_space_available(spa, parent ? parent : c->dirobj, 0);
		uint64_t grow_to = ch->num > used ? ch->num : used, had = old > used ? old : used;
		if ((grow_to > had && grow_to - had > avail) ||
		    (!c->new_child && c->dd.quota && ch->num > c->dd.quota))
			return bad(spa, -ZFUSE_E_NOSPC, "cannot set property for '%s': size is "
				   "greater than available space", c->name);
		break;
	}
	case ZFS_PROP_FILESYSTEM_LIMIT:
	case ZFS_PROP_SNAPSHOT_LIMIT:
		/* dsl_dir_actv_fs_ss_limit_check */
		if (ch->num != UINT64_MAX && !spa_feature_is_enabled(spa, "filesystem_limits"))
			return bad(spa, -ZFUSE_E_UNSUPPORTED, "cannot set property for '%s': pool "
				   "and or dataset must be upgraded to set this property or value",
				   c->name);
		break;
	case ZFS_PROP_VOLSIZE:
	case ZFS_PROP_VERSION:
	case ZFS_PROP_KEYLOCATION:
		return bad(spa, -ZFUSE_E_UNSUPPORTED, "cannot set property for '%s': zfuse does "
			   "not change '%s'", c->name, d->name);
	case ZFS_PROP_DEDUP:
		if (ch->num != 2)
			return bad(spa, -ZFUSE_E_UNSUPPORTED, "cannot set property for '%s': zfuse "
				   "does not write deduplicated blocks (dedup=%s)", c->name, s->value);
		break;
	case ZFS_PROP_CHECKSUM:
		if (ch->num == 10)
			return bad(spa, -ZFUSE_E_INVAL, "cannot set property for '%s': bad value "
				   "'%s' for property 'checksum'", c->name, s->value);
		break;
	case ZFS_PROP_QUOTA:
		/* dsl_dir_set_quota_check (ENOSPC in zfs's words) */
		if (ch->num && (ch->num < c->dd.used_bytes || (!c->new_child && ch->num < c->dd.reserved)))
			return bad(spa, -ZFUSE_E_NOSPC, "cannot set property for '%s': size is less "
				   "than current used or reserved space", c->name);
		break;
	default:
		break;
	}
	ch->feature = zfs_prop_feature(p, ch->num);
	if (ch->feature && !spa_feature_is_enabled(spa, ch->feature))
		return bad(spa, -ZFUSE_E_UNSUPPORTED, "cannot set property for '%s': pool feature "
			   "'%s' is not enabled", c->name, ch->feature);
	return 0;
}

/* Activate feature on the head of dir and of every descendant dir that
 * does not set prop itself (it inherits the value). */
static int activate_below(spa_t *spa, uint64_t dirobj, const char *prop, const char *feature,
			  bool top, dmu_tx_t *tx, int depth)
{
	uint64_t v;
	if (depth > 64)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	if (!top && dsl_prop_get_uint64(spa, dirobj, prop, false, &v, NULL) == 0)
		return 0;
	dsl_dir_phys_t dd;
	int rc = dsl_dir_read(spa, dirobj, &dd);
	if (rc)
		return rc;
	if (dd.head_dataset_obj &&
	    (rc = dsl_dataset_activate_feature(spa, dd.head_dataset_obj, feature, tx)) != 0)
		return rc;
	uint64_t *kids;
	size_t n;
	if ((rc = dsl_dir_children(spa, &dd, &kids, &n)) != 0)
		return rc;
	for (size_t i = 0; i < n && rc >= 0; i++)
		rc = activate_below(spa, kids[i], prop, feature, false, tx, depth + 1);
	free(kids);
	return rc < 0 ? rc : 0;
}

/* The cached write settings of open objsets follow the new values. */
static void refresh_objsets(spa_t *spa)
{
	for (objset_t *os = spa->objsets; os; os = os->next)
		if (os->dsobj)
			dmu_objset_refresh_props(spa, os);
}

static int apply(struct dsctx *c, const struct change *ch, dmu_tx_t *tx)
{
	spa_t *spa = c->spa;
	int rc;
	if (ch->prop == ZFS_PROP_QUOTA && (rc = dsl_phys_set(spa, c->dirobj, DD_OFF_QUOTA, ch->num,
							     tx)) != 0)
		return rc;
	if (ch->prop == ZFS_PROP_RESERVATION &&
	    (rc = dsl_dir_set_reservation_sync_impl(spa, c->dirobj, ch->num, tx)) != 0)
		return rc;
	if (ch->prop == ZFS_PROP_REFRESERVATION &&
	    (rc = dsl_refrsrv_adjust(spa, c->dirobj, local_uint64(c, ch->name, 0), ch->num,
				     c->ds.unique_bytes, c->ds.unique_bytes, tx)) != 0)
		return rc;
	/* zfs_prop_set_special: a limit needs the feature active and the
	 * counts kept from this dir down. */
	if ((ch->prop == ZFS_PROP_FILESYSTEM_LIMIT || ch->prop == ZFS_PROP_SNAPSHOT_LIMIT) &&
	    ch->num != UINT64_MAX && (rc = dsl_dir_activate_fs_ss_limit(spa, c->dirobj, tx)) != 0)
		return rc;
	if (ch->feature && (rc = activate_below(spa, c->dirobj, ch->name, ch->feature, true, tx,
						 0)) != 0)
		return rc;
	if (ch->str)
		return zap_update(spa->mos, c->dd.props_zapobj, ch->name, 1, strlen(ch->str) + 1,
				  ch->str, tx);
	return zap_update_uint64(spa->mos, c->dd.props_zapobj, ch->name, ch->num, tx);
}

/* Look a dataset up for a change of its properties. */
static int ctx_for_change(spa_t *spa, const char *name, struct dsctx *c)
{
	int rc = ctx_open(spa, name, c);
	if (rc == 0 && c->type == ZPROP_T_BOOKMARK)
		rc = bad(spa, -ZFUSE_E_INVAL, "cannot change properties of '%s': a bookmark", name);
	if (rc == 0 && !c->dd.props_zapobj)
		rc = SET_ERROR(-ZFUSE_E_CORRUPT);
	return rc;
}

/*
 * Property changes are DSL sync tasks (dsl_synctask.h): the MOS is the
 * sync's, and a change checked before it is queued is checked again
 * against the state it is applied to.
 */
struct set_arg {
	const char *name;
	const struct zfuse_prop_setting *props;
	size_t nprops;
	struct dsctx c;
	struct change *ch;
	bool new_child;		/* checked on the parent of a dataset to be made */
};

static int set_check(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	(void)tx;
	struct set_arg *a = varg;
	int rc = ctx_for_change(spa, a->name, &a->c);
	if (a->new_child) {
		a->c.dd.used_bytes = 0;
		a->c.new_child = true;
	}
	if (rc == 0 && a->c.type == ZPROP_T_SNAP) {
		for (size_t i = 0; i < a->nprops && rc == 0; i++)
			if (!zfs_prop_user(a->props[i].name))
				rc = bad(spa, -ZFUSE_E_INVAL, "cannot set property for '%s': this "
					 "property can not be modified for snapshots", a->name);
		return rc;
	}
	for (size_t i = 0; i < a->nprops && rc == 0; i++)
		rc = check_setting(&a->c, &a->props[i], &a->ch[i]);
	return rc;
}

static int set_sync(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	struct set_arg *a = varg;
	struct dsctx *c = &a->c;
	int rc = 0;
	if (c->type == ZPROP_T_SNAP) {
		if (!c->ds.props_obj) {
			uint64_t obj;
			rc = zap_create(spa->mos, DMU_OT_DSL_PROPS, 0, 0, tx, &obj);
			if (rc == 0)
				rc = dsl_phys_set(spa, c->dsobj, DS_OFF_PROPS_OBJ, obj, tx);
			c->ds.props_obj = obj;
		}
		for (size_t i = 0; i < a->nprops && rc == 0; i++)
			rc = zap_update(spa->mos, c->ds.props_obj, a->props[i].name, 1,
					strlen(a->props[i].value) + 1, a->props[i].value, tx);
		return rc;
	}
	for (size_t i = 0; i < a->nprops && rc == 0; i++)
		rc = apply(c, &a->ch[i], tx);
	if (rc == 0)
		refresh_objsets(spa);
	return rc;
}

int dsl_prop_check(spa_t *spa, const char *parent, const struct zfuse_prop_setting *props,
		   size_t nprops)
{
	struct set_arg *a = calloc(1, sizeof(*a));
	struct change *ch = calloc(nprops ? nprops : 1, sizeof(*ch));
	int rc = a && ch ? 0 : -ZFUSE_E_NOMEM;
	if (rc == 0) {
		*a = (struct set_arg){ .name = parent, .props = props, .nprops = nprops, .ch = ch,
				       .new_child = true };
		spa_enter_read(spa);
		rc = set_check(spa, a, NULL);
		spa_exit(spa);
	}
	free(a);
	free(ch);
	return rc;
}

/* userquota@... settings live in the filesystem's objset (zfs_quota.c):
 * all are checked first, the others set, then the limits written. */
static int set_with_userquota(spa_t *spa, const char *name, const struct zfuse_prop_setting *props,
			      size_t nprops, size_t nuq)
{
	if (!spa->writable)
		return bad(spa, -ZFUSE_E_ROFS, "pool '%s' is read-only", spa->name);
	struct zfuse_prop_setting *uq = calloc(nprops, sizeof(*uq));
	struct zfuse_prop_setting *rest = calloc(nprops, sizeof(*rest));
	int rc = uq && rest ? 0 : SET_ERROR(-ZFUSE_E_NOMEM);
	size_t nrest = 0;
	for (size_t i = 0, j = 0; rc == 0 && i < nprops; i++) {
		if (zfs_prop_userquota(props[i].name) >= 0)
			uq[j++] = props[i];
		else
			rest[nrest++] = props[i];
	}
	if (rc == 0)
		rc = zfs_userquota_set(spa, name, uq, nuq, true);
	if (rc == 0 && nrest)
		rc = zfuse_prop_set((zfuse_pool_t *)spa, name, rest, nrest);
	if (rc == 0)
		rc = zfs_userquota_set(spa, name, uq, nuq, false);
	free(uq);
	free(rest);
	return rc;
}

int zfuse_prop_set(zfuse_pool_t *pool, const char *name, const struct zfuse_prop_setting *props,
		   size_t nprops)
{
	spa_t *spa = (spa_t *)pool;
	size_t nuq = 0;
	for (size_t i = 0; i < nprops; i++)
		nuq += zfs_prop_userquota(props[i].name) >= 0;
	if (nuq)
		return set_with_userquota(spa, name, props, nprops, nuq);
	/* volsize lives in the volume's objset, not in the DSL (zvol.c). */
	for (size_t i = 0; i < nprops; i++) {
		if (strcmp(props[i].name, "volsize") != 0)
			continue;
		if (!spa->writable)
			return bad(spa, -ZFUSE_E_ROFS, "pool '%s' is read-only", spa->name);
		struct zfuse_prop_setting *rest = calloc(nprops, sizeof(*rest));
		if (!rest)
			return -ZFUSE_E_NOMEM;
		size_t n = 0;
		for (size_t j = 0; j < nprops; j++)
			if (j != i)
				rest[n++] = props[j];
		int rc = zvol_set_volsize(spa, name, props[i].value, rest, n);
		free(rest);
		return rc;
	}
	return dsl_prop_set_dsl(spa, name, props, nprops);
}

int dsl_prop_set_dsl(spa_t *spa, const char *name, const struct zfuse_prop_setting *props,
		     size_t nprops)
{
	if (!spa->writable)
		return bad(spa, -ZFUSE_E_ROFS, "pool '%s' is read-only", spa->name);
	struct set_arg *a = calloc(1, sizeof(*a));
	struct change *ch = calloc(nprops ? nprops : 1, sizeof(*ch));
	int rc = a && ch ? 0 : -ZFUSE_E_NOMEM;
	if (rc == 0) {
		*a = (struct set_arg){ .name = name, .props = props, .nprops = nprops, .ch = ch };
		rc = dsl_sync_task(spa, set_check, set_sync, a);
	}
	free(a);
	free(ch);
	return rc;
}

struct inherit_arg {
	const char *name, *prop, *key;
	int p;
	const zprop_desc_t *d;
	struct dsctx c;
};

static int inherit_check(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	(void)tx;
	struct inherit_arg *a = varg;
	int rc = ctx_for_change(spa, a->name, &a->c);
	if (rc == 0 && a->c.type == ZPROP_T_SNAP && a->d)
		rc = bad(spa, -ZFUSE_E_INVAL, "'%s' does not apply to snapshots ('%s')", a->key,
			 a->name);
	return rc;
}

static int inherit_sync(spa_t *spa, void *varg, dmu_tx_t *tx)
{
	struct inherit_arg *a = varg;
	struct dsctx *c = &a->c;
	int rc = 0;
	uint64_t obj = c->type == ZPROP_T_SNAP ? c->ds.props_obj : c->dd.props_zapobj;
	if (obj) {
		rc = zap_remove(spa->mos, obj, a->key, tx);
		if (rc == -ZFUSE_E_NOENT)
			rc = 0;
	}
	/* The value now inherited may need a feature on this subtree. */
	if (rc == 0 && a->d && c->type != ZPROP_T_SNAP) {
		uint64_t v;
		const char *f = NULL;
		if (a->d->type != ZPROP_STRING &&
		    dsl_prop_get_uint64(spa, c->dirobj, a->key, true, &v, NULL) == 0)
			f = zfs_prop_feature((zfs_prop_t)a->p, v);
		if (f && spa_feature_is_enabled(spa, f))
			rc = activate_below(spa, c->dirobj, a->key, f, true, tx, 0);
		if (rc == 0)
			refresh_objsets(spa);
	}
	return rc;
}

int zfuse_prop_inherit(zfuse_pool_t *pool, const char *name, const char *prop)
{
	spa_t *spa = (spa_t *)pool;
	int p = zfs_prop_lookup(prop);
	if (p < 0 && !zfs_prop_user(prop))
		return bad(spa, -ZFUSE_E_INVAL, "invalid property '%s'", prop);
	const zprop_desc_t *d = p >= 0 ? zfs_prop_desc((zfs_prop_t)p) : NULL;
	if (d && d->attr != ZPROP_INHERIT) {
		if (p == ZFS_PROP_QUOTA || p == ZFS_PROP_RESERVATION || p == ZFS_PROP_REFQUOTA ||
		    p == ZFS_PROP_REFRESERVATION)
			return bad(spa, -ZFUSE_E_INVAL, "'%s' property cannot be inherited, use "
				   "'zfs set %s=none' to clear", d->name, d->name);
		return bad(spa, -ZFUSE_E_INVAL, "'%s' property cannot be inherited", d->name);
	}
	if (!spa->writable)
		return bad(spa, -ZFUSE_E_ROFS, "pool '%s' is read-only", spa->name);
	struct inherit_arg *a = calloc(1, sizeof(*a));
	if (!a)
		return -ZFUSE_E_NOMEM;
	*a = (struct inherit_arg){ .name = name, .prop = prop, .key = d ? d->name : prop, .p = p,
				   .d = d };
	int rc = dsl_sync_task(spa, inherit_check, inherit_sync, a);
	free(a);
	return rc;
}
