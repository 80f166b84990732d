/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dsl.c — reading the DSL from the MOS: dir and dataset bonus buffers,
 * the child-map tree, snapshot name maps (hashed upper-case, compared
 * exactly), bookmarks, and property inheritance. Backs the public
 * zfuse_dataset_iter().
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "byteorder.h"
#include "dmu_types.h"
#include "dnode.h"
#include "dsl.h"
#include "spa_lock.h"
#include "spa_misc.h"
#include "zap.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define DSL_MAX_DEPTH 64
#define MAXNAMELEN 256

static int hold_bonus(spa_t *spa, uint64_t obj, unsigned bonustype, uint64_t minlen,
		      dnode_t *dn, const uint8_t **bonus)
{
	int rc = dnode_hold(spa->mos, obj, dn);
	if (rc)
		return rc;
	uint64_t len;
	*bonus = dnode_bonus(dn, &len);
	if (dn->bonustype != bonustype || len < minlen) {
		dnode_rele(dn);
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	}
	return 0;
}

int dsl_dir_read(spa_t *spa, uint64_t obj, dsl_dir_phys_t *dd)
{
	dnode_t dn;
	const uint8_t *b;
	int rc = hold_bonus(spa, obj, DMU_OT_DSL_DIR, 152, &dn, &b);
	if (rc)
		return rc;
	uint64_t *w = (uint64_t *)dd;
	for (int i = 0; i < 19; i++)
		w[i] = le64(b + 8 * i);
	dnode_rele(&dn);
	return 0;
}

struct dir_kids {
	uint64_t *v;
	size_t n, cap;
};

static int kids_cb(void *arg, const zap_entry_t *ze)
{
	struct dir_kids *l = arg;
	if (ze->name[0] == '$')
		return 0;	/* $MOS, $FREE, $ORIGIN: not datasets of the user */
	if (l->n == l->cap) {
		size_t nc = l->cap ? 2 * l->cap : 16;
		uint64_t *nv = realloc(l->v, nc * sizeof(*nv));
		if (!nv)
			return -ZFUSE_E_NOMEM;
		l->v = nv;
		l->cap = nc;
	}
	l->v[l->n++] = ze->value_first;
	return 0;
}

int dsl_dir_children(spa_t *spa, const dsl_dir_phys_t *dd, uint64_t **kids, size_t *n)
{
	struct dir_kids l = { 0 };
	*kids = NULL;
	*n = 0;
	if (!dd->child_dir_zapobj)
		return 0;
	dnode_t dn;
	int rc = dnode_hold(spa->mos, dd->child_dir_zapobj, &dn);
	if (rc)
		return rc;
	rc = zap_iterate(&dn, 0, 0, kids_cb, &l);
	dnode_rele(&dn);
	if (rc < 0) {
		free(l.v);
		return rc;
	}
	*kids = l.v;
	*n = l.n;
	return 0;
}

int dsl_dataset_read(spa_t *spa, uint64_t obj, dsl_dataset_phys_t *ds)
{
	dnode_t dn;
	const uint8_t *b;
	int rc = hold_bonus(spa, obj, DMU_OT_DSL_DATASET, 280, &dn, &b);
	if (rc)
		return rc;
	uint64_t *w = (uint64_t *)ds;
	for (int i = 0; i < 16; i++)
		w[i] = le64(b + 8 * i);
	bp_load(&ds->bp, b + 128);
	ds->next_clones_obj = le64(b + 256);
	ds->props_obj = le64(b + 264);
	ds->userrefs_obj = le64(b + 272);
	dnode_rele(&dn);
	return 0;
}

/* A zapified dir/dataset carries extra fields in its data ZAP (§6.6). */
int dsl_zapified_lookup(spa_t *spa, uint64_t obj, const char *field, uint64_t *value)
{
	dnode_t dn;
	int rc = dnode_hold(spa->mos, obj, &dn);
	if (rc)
		return rc;
	if (dn.type != DMU_OTN_ZAP_METADATA)
		rc = -ZFUSE_E_NOENT;
	else
		rc = zap_lookup_uint64(&dn, field, value);
	dnode_rele(&dn);
	return rc;
}

bool dsl_dir_is_encrypted(spa_t *spa, uint64_t dirobj)
{
	uint64_t keyobj;
	return dsl_zapified_lookup(spa, dirobj, "com.datto:crypto_key_obj", &keyobj) == 0 && keyobj;
}

bool dsl_dir_has_livelist(spa_t *spa, uint64_t dirobj)
{
	uint64_t obj;
	return dsl_zapified_lookup(spa, dirobj, "com.delphix:livelist", &obj) == 0 && obj;
}

static int zap_lookup_in(spa_t *spa, uint64_t zapobj, const char *name, uint64_t *value)
{
	dnode_t dn;
	int rc = dnode_hold(spa->mos, zapobj, &dn);
	if (rc)
		return rc;
	rc = zap_lookup_uint64(&dn, name, value);
	dnode_rele(&dn);
	return rc;
}

int dsl_dataset_lookup(spa_t *spa, const char *name, uint64_t *dsobj, uint64_t *dirobj,
		       bool *is_snapshot)
{
	size_t plen = strlen(spa->name);
	if (strncmp(name, spa->name, plen) != 0 || (name[plen] && name[plen] != '/' && name[plen] != '@'))
		return -ZFUSE_E_NOENT;
	if (strlen(name) >= 1024)
		return -ZFUSE_E_NAMETOOLONG;
	uint64_t dir = spa->root_dir_obj;
	const char *p = name + plen;
	char comp[MAXNAMELEN];
	while (*p == '/') {
		p++;
		size_t n = strcspn(p, "/@");
		if (n == 0 || n >= sizeof(comp))
			return -ZFUSE_E_INVAL;
		memcpy(comp, p, n);
		comp[n] = 0;
		dsl_dir_phys_t dd;
		int rc = dsl_dir_read(spa, dir, &dd);
		if (rc)
			return rc;
		rc = zap_lookup_in(spa, dd.child_dir_zapobj, comp, &dir);
		if (rc)
			return rc;
		p += n;
	}
	dsl_dir_phys_t dd;
	int rc = dsl_dir_read(spa, dir, &dd);
	if (rc)
		return rc;
	*dirobj = dir;
	if (*p == 0) {
		if (!dd.head_dataset_obj)
			return -ZFUSE_E_NOENT;
		*dsobj = dd.head_dataset_obj;
		*is_snapshot = false;
		return 0;
	}
	if (*p != '@' || !p[1] || strchr(p + 1, '/') || strchr(p + 1, '@'))
		return -ZFUSE_E_INVAL;
	dsl_dataset_phys_t head;
	if ((rc = dsl_dataset_read(spa, dd.head_dataset_obj, &head)) != 0)
		return rc;
	if (!head.snapnames_zapobj)
		return -ZFUSE_E_NOENT;
	rc = zap_lookup_in(spa, head.snapnames_zapobj, p + 1, dsobj);
	*is_snapshot = true;
	return rc;
}

int dsl_dataset_find(spa_t *spa, const char *name, struct dsl_dataset_ref *ref)
{
	int rc = dsl_dataset_lookup(spa, name, &ref->dsobj, &ref->dirobj, &ref->snapshot);
	return rc ? rc : dsl_dataset_read(spa, ref->dsobj, &ref->phys);
}

struct find_value {
	uint64_t want;
	char *out;
};

static int find_value_cb(void *arg, const zap_entry_t *ze)
{
	struct find_value *fa = arg;
	if (ze->value_first != fa->want)
		return 0;
	snprintf(fa->out, MAXNAMELEN, "%s", ze->name);
	return 1;
}

/* The name under which MOS ZAP zapobj maps to value (a child dir, a
 * snapshot): out holds MAXNAMELEN. Errors: ZFUSE_E_CORRUPT (no such entry). */
static int zap_name_of(spa_t *spa, uint64_t zapobj, uint64_t value, char *out)
{
	struct find_value f = { value, out };
	dnode_t zdn;
	out[0] = 0;
	int rc = dnode_hold(spa->mos, zapobj, &zdn);
	if (rc)
		return rc;
	rc = zap_iterate(&zdn, 0, 0, find_value_cb, &f);
	dnode_rele(&zdn);
	if (rc < 0)
		return rc;
	return out[0] ? 0 : SET_ERROR(-ZFUSE_E_CORRUPT);
}

int dsl_dir_name(spa_t *spa, uint64_t dirobj, char *buf, size_t cap)
{
	/* Walk up collecting each dir's name from its parent's child map. */
	char parts[DSL_MAX_DEPTH][MAXNAMELEN];
	int depth = 0;
	uint64_t cur = dirobj;
	while (cur != spa->root_dir_obj) {
		dsl_dir_phys_t dd;
		int rc = dsl_dir_read(spa, cur, &dd);
		if (rc)
			return rc;
		if (!dd.parent_obj || depth >= DSL_MAX_DEPTH)
			return SET_ERROR(-ZFUSE_E_CORRUPT);
		dsl_dir_phys_t pd;
		if ((rc = dsl_dir_read(spa, dd.parent_obj, &pd)) != 0)
			return rc;
		if ((rc = zap_name_of(spa, pd.child_dir_zapobj, cur, parts[depth])) != 0)
			return rc;
		depth++;
		cur = dd.parent_obj;
	}
	size_t n = (size_t)snprintf(buf, cap, "%s", spa->name);
	for (int i = depth - 1; i >= 0 && n < cap; i--)
		n += (size_t)snprintf(buf + n, cap - n, "/%s", parts[i]);
	return n < cap ? 0 : -ZFUSE_E_RANGE;
}

int dsl_dataset_name(spa_t *spa, uint64_t dsobj, char *buf, size_t cap)
{
	dsl_dataset_phys_t ds;
	dsl_dir_phys_t dd;
	int rc = dsl_dataset_read(spa, dsobj, &ds);
	if (rc == 0)
		rc = dsl_dir_read(spa, ds.dir_obj, &dd);
	if (rc == 0)
		rc = dsl_dir_name(spa, ds.dir_obj, buf, cap);
	if (rc || dd.head_dataset_obj == dsobj)
		return rc;
	/* A snapshot: its name is the key of dsobj in the head's snapshot map. */
	dsl_dataset_phys_t head;
	if ((rc = dsl_dataset_read(spa, dd.head_dataset_obj, &head)) != 0)
		return rc;
	if (!head.snapnames_zapobj)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	char snap[MAXNAMELEN];
	if ((rc = zap_name_of(spa, head.snapnames_zapobj, dsobj, snap)) != 0)
		return rc;
	size_t n = strlen(buf);
	return (size_t)snprintf(buf + n, cap - n, "@%s", snap) < cap - n ? 0 : -ZFUSE_E_RANGE;
}

static int prop_lookup_dir(spa_t *spa, uint64_t dirobj, const char *prop, unsigned *intlen,
			   uint64_t *numints, dnode_t *zdn)
{
	dsl_dir_phys_t dd;
	int rc = dsl_dir_read(spa, dirobj, &dd);
	if (rc)
		return rc;
	if (!dd.props_zapobj)
		return -ZFUSE_E_NOENT;
	if ((rc = dnode_hold(spa->mos, dd.props_zapobj, zdn)) != 0)
		return rc;
	rc = zap_lookup_length(zdn, prop, intlen, numints);
	if (rc)
		dnode_rele(zdn);
	return rc;
}

static int prop_walk(spa_t *spa, uint64_t dirobj, const char *prop, bool inherit,
		     unsigned want_intlen, void *out, size_t cap, uint64_t *source)
{
	uint64_t cur = dirobj;
	for (int depth = 0; cur && depth < DSL_MAX_DEPTH; depth++) {
		dnode_t zdn;
		unsigned intlen;
		uint64_t numints;
		int rc = prop_lookup_dir(spa, cur, prop, &intlen, &numints, &zdn);
		if (rc == 0) {
			if (intlen != want_intlen || (want_intlen == 1 && numints > cap) ||
			    (want_intlen == 8 && numints != 1)) {
				dnode_rele(&zdn);
				return SET_ERROR(-ZFUSE_E_CORRUPT);
			}
			rc = zap_lookup(&zdn, prop, intlen, numints, out);
			dnode_rele(&zdn);
			if (rc == 0 && want_intlen == 1)
				((char *)out)[numints ? numints - 1 : 0] = 0;
			if (rc == 0 && source)
				*source = cur;
			return rc;
		}
		if (rc != -ZFUSE_E_NOENT || !inherit)
			return rc;
		dsl_dir_phys_t dd;
		if ((rc = dsl_dir_read(spa, cur, &dd)) != 0)
			return rc;
		cur = dd.parent_obj;
	}
	return -ZFUSE_E_NOENT;
}

int dsl_prop_get_string(spa_t *spa, uint64_t dirobj, const char *prop, bool inherit,
			char *buf, size_t cap, uint64_t *source_dir)
{
	if (cap == 0)
		return -ZFUSE_E_RANGE;
	return prop_walk(spa, dirobj, prop, inherit, 1, buf, cap, source_dir);
}

int dsl_prop_get_uint64(spa_t *spa, uint64_t dirobj, const char *prop, bool inherit,
			uint64_t *value, uint64_t *source_dir)
{
	return prop_walk(spa, dirobj, prop, inherit, 8, value, 1, source_dir);
}

/* ---- the public dataset walk ---- */

struct walk {
	spa_t *spa;
	int (*cb)(const struct zfuse_dataset_info *, void *);
	void *arg;
};

void dsl_mountpoint(spa_t *spa, uint64_t dirobj, const char *name, char *out, size_t cap,
		    uint64_t *srcdir)
{
	char mp[1024];
	uint64_t src = 0;
	if (dsl_prop_get_string(spa, dirobj, "mountpoint", true, mp, sizeof(mp), &src) != 0) {
		*srcdir = 0;
		snprintf(out, cap, "/%s", name);
		return;
	}
	*srcdir = src;
	if (strcmp(mp, "legacy") == 0 || strcmp(mp, "none") == 0 || src == dirobj) {
		snprintf(out, cap, "%s", mp);
		return;
	}
	/* Inherited: append this dataset's path below the source dir. */
	char srcname[1024];
	if (dsl_dir_name(spa, src, srcname, sizeof(srcname)) != 0) {
		snprintf(out, cap, "%s", mp);
		return;
	}
	const char *rel = name + strlen(srcname);
	size_t l = strlen(mp);
	snprintf(out, cap, "%s%s", (l == 1 && mp[0] == '/') ? "" : mp, rel);
	if (!out[0])
		snprintf(out, cap, "/");
}

static int objset_type_of(spa_t *spa, const blkptr_t *bp, enum zfuse_dataset_type *type)
{
	*type = ZFUSE_DS_FILESYSTEM;
	if (bp_is_hole(bp))
		return 0;
	objset_t *os;
	int rc = objset_open(spa, bp, &os);
	if (rc)
		return rc;
	if (os->type == DMU_OST_ZVOL)
		*type = ZFUSE_DS_VOLUME;
	objset_close(os);
	return 0;
}

struct snap_ent {
	char name[MAXNAMELEN];
	uint64_t obj, txg;
};

static int snap_cmp(const void *a, const void *b)
{
	const struct snap_ent *x = a, *y = b;
	return x->txg < y->txg ? -1 : x->txg > y->txg;
}

struct collect {
	struct snap_ent *v;
	size_t n, cap;
};

static int collect_cb(void *arg, const zap_entry_t *ze)
{
	struct collect *c = arg;
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16;
		struct snap_ent *nv = realloc(c->v, nc * sizeof(*nv));
		if (!nv)
			return -ZFUSE_E_NOMEM;
		c->v = nv;
		c->cap = nc;
	}
	snprintf(c->v[c->n].name, MAXNAMELEN, "%s", ze->name);
	c->v[c->n].obj = ze->value_first;
	c->v[c->n].txg = 0;
	if (ze->value_intlen == 8 && ze->value_numints >= 2) {
		uint64_t w[2];
		memcpy(w, ze->value, 16);
		c->v[c->n].txg = w[1];	/* bookmark: creation_txg */
	}
	c->n++;
	return 0;
}

static int collect_zap(spa_t *spa, uint64_t zapobj, struct collect *c)
{
	dnode_t dn;
	int rc = dnode_hold(spa->mos, zapobj, &dn);
	if (rc)
		return rc;
	rc = zap_iterate(&dn, 0, 0, collect_cb, c);
	dnode_rele(&dn);
	return rc;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct snap_ent *)a)->name, ((const struct snap_ent *)b)->name);
}

static int walk_dir(struct walk *w, uint64_t dirobj, const char *name, int depth)
{
	spa_t *spa = w->spa;
	if (depth > DSL_MAX_DEPTH)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	dsl_dir_phys_t dd;
	int rc = dsl_dir_read(spa, dirobj, &dd);
	if (rc)
		return rc;
	if (dd.head_dataset_obj) {
		dsl_dataset_phys_t ds;
		if ((rc = dsl_dataset_read(spa, dd.head_dataset_obj, &ds)) != 0)
			return rc;
		struct zfuse_dataset_info info = { 0 };
		char mp[1024], origin[1024];
		info.name = name;
		info.dsobj = dd.head_dataset_obj;
		info.creation_txg = ds.creation_txg;
		info.creation_time = ds.creation_time;
		info.guid = ds.guid;
		info.used = dd.used_bytes;
		info.referenced = ds.referenced_bytes;
		info.compressed = ds.compressed_bytes;
		info.uncompressed = ds.uncompressed_bytes;
		info.encrypted = dsl_dir_is_encrypted(spa, dirobj);
		if ((rc = objset_type_of(spa, &ds.bp, &info.type)) != 0)
			spa_log(spa, ZFUSE_LOG_WARN, "dataset %s: cannot read its objset: %s", name,
				zfuse_strerror(rc));
		uint64_t canmount = 1;
		dsl_prop_get_uint64(spa, dirobj, "canmount", false, &canmount, NULL);
		info.canmount = (int)canmount;
		uint64_t snapdir = 0;
		dsl_prop_get_uint64(spa, dirobj, "snapdir", true, &snapdir, NULL);
		info.snapdir_visible = snapdir == 1;
		if (info.type == ZFUSE_DS_FILESYSTEM) {
			uint64_t mpsrc;
			dsl_mountpoint(spa, dirobj, name, mp, sizeof(mp), &mpsrc);
			info.mountpoint = mp;
		}
		/* A clone's origin is a real snapshot, not $ORIGIN@$ORIGIN. */
		if (dd.origin_obj && dsl_dataset_name(spa, dd.origin_obj, origin, sizeof(origin)) == 0 &&
		    !strstr(origin, "/$ORIGIN@"))
			info.origin = origin;
		if ((rc = w->cb(&info, w->arg)) != 0)
			return rc;

		/* Snapshots in creation order, then bookmarks by name. */
		struct collect snaps = { 0 };
		if (ds.snapnames_zapobj && (rc = collect_zap(spa, ds.snapnames_zapobj, &snaps)) != 0) {
			free(snaps.v);
			return rc;
		}
		for (size_t i = 0; i < snaps.n; i++) {
			dsl_dataset_phys_t ss;
			if (dsl_dataset_read(spa, snaps.v[i].obj, &ss) == 0)
				snaps.v[i].txg = ss.creation_txg;
		}
		if (snaps.n)
			qsort(snaps.v, snaps.n, sizeof(*snaps.v), snap_cmp);
		for (size_t i = 0; i < snaps.n && rc == 0; i++) {
			dsl_dataset_phys_t ss;
			char sname[1024 + MAXNAMELEN];
			if (dsl_dataset_read(spa, snaps.v[i].obj, &ss) != 0)
				continue;
			snprintf(sname, sizeof(sname), "%s@%s", name, snaps.v[i].name);
			struct zfuse_dataset_info si = { 0 };
			si.name = sname;
			si.type = ZFUSE_DS_SNAPSHOT;
			si.dsobj = snaps.v[i].obj;
			si.creation_txg = ss.creation_txg;
			si.creation_time = ss.creation_time;
			si.guid = ss.guid;
			si.used = ss.unique_bytes;
			si.referenced = ss.referenced_bytes;
			si.compressed = ss.compressed_bytes;
			si.uncompressed = ss.uncompressed_bytes;
			si.encrypted = info.encrypted;
			rc = w->cb(&si, w->arg);
		}
		free(snaps.v);
		if (rc)
			return rc;
		uint64_t bmobj;
		if (dsl_zapified_lookup(spa, dd.head_dataset_obj, "com.delphix:bookmarks", &bmobj) == 0 && bmobj) {
			struct collect bms = { 0 };
			if ((rc = collect_zap(spa, bmobj, &bms)) == 0) {
				if (bms.n)
					qsort(bms.v, bms.n, sizeof(*bms.v), name_cmp);
				for (size_t i = 0; i < bms.n && rc == 0; i++) {
					char bname[1024 + MAXNAMELEN];
					snprintf(bname, sizeof(bname), "%s#%s", name, bms.v[i].name);
					struct zfuse_dataset_info bi = { 0 };
					bi.name = bname;
					bi.type = ZFUSE_DS_BOOKMARK;
					bi.creation_txg = bms.v[i].txg;
					bi.guid = bms.v[i].obj;
					rc = w->cb(&bi, w->arg);
				}
			}
			free(bms.v);
			if (rc)
				return rc;
		}
	}
	/* Children in name order, hidden $-dirs skipped. */
	if (!dd.child_dir_zapobj)
		return 0;
	struct collect kids = { 0 };
	if ((rc = collect_zap(spa, dd.child_dir_zapobj, &kids)) != 0) {
		free(kids.v);
		return rc;
	}
	if (kids.n)
		qsort(kids.v, kids.n, sizeof(*kids.v), name_cmp);
	for (size_t i = 0; i < kids.n && rc == 0; i++) {
		if (kids.v[i].name[0] == '$')
			continue;
		char cname[1024];
		if (snprintf(cname, sizeof(cname), "%s/%s", name, kids.v[i].name) >= (int)sizeof(cname))
			continue;
		rc = walk_dir(w, kids.v[i].obj, cname, depth + 1);
	}
	free(kids.v);
	return rc;
}

int dsl_dataset_walk(spa_t *spa, int (*cb)(const struct zfuse_dataset_info *, void *), void *arg)
{
	struct walk w = { spa, cb, arg };
	return walk_dir(&w, spa->root_dir_obj, spa->name, 0);
}

/* zfuse_dataset_iter's copy of the walk, made under the lock. */
struct info_list {
	struct zfuse_dataset_info *v;
	size_t n, cap;
};

static void info_free(struct zfuse_dataset_info *i)
{
	free((char *)i->name);
	free((char *)i->mountpoint);
	free((char *)i->origin);
}

static char *strdup_or_null(const char *s, bool *failed)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*failed = true;
	return d;
}

static int info_collect(const struct zfuse_dataset_info *info, void *arg)
{
	struct info_list *l = arg;
	if (l->n == l->cap) {
		size_t nc = l->cap ? 2 * l->cap : 16;
		struct zfuse_dataset_info *nv = realloc(l->v, nc * sizeof(*nv));
		if (!nv)
			return -ZFUSE_E_NOMEM;
		l->v = nv;
		l->cap = nc;
	}
	struct zfuse_dataset_info *c = &l->v[l->n++];
	bool failed = false;
	*c = *info;
	c->name = strdup_or_null(info->name, &failed);
	c->mountpoint = strdup_or_null(info->mountpoint, &failed);
	c->origin = strdup_or_null(info->origin, &failed);
	return failed ? -ZFUSE_E_NOMEM : 0;
}

int zfuse_dataset_iter(zfuse_pool_t *pool, int (*cb)(const struct zfuse_dataset_info *, void *),
		       void *arg)
{
	spa_t *spa = (spa_t *)pool;
	struct info_list l = { 0 };
	spa_enter_read(spa);
	int rc = dsl_dataset_walk(spa, info_collect, &l);
	spa_exit(spa);
	for (size_t i = 0; i < l.n && rc == 0; i++)
		rc = cb(&l.v[i], arg);
	for (size_t i = 0; i < l.n; i++)
		info_free(&l.v[i]);
	free(l.v);
	return rc;
}
