/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dsl_promote.c — promoting a clone (OpenZFS dsl_dataset_promote_check,
 * dsl_dataset_promote_sync): the clone takes over its origin's snapshots
 * up to and including the branch point, and the old origin filesystem
 * becomes a clone of that branch point.
 *
 * Theory: the snapshot chain itself does not change shape. Every
 * snapshot keeps its prev/next links, its deadlist and its blocks; what
 * changes is ownership: which dir the moved snapshots belong to (their
 * ds_dir_obj, the snapnames ZAPs, the dirs' snapshot counts), which
 * branch of the branch point is the "main" one (its ds_next_snap_obj
 * against its next-clones ZAP), the dirs' dd_origin_obj and dd_clones
 * ZAPs, and space. Deadlists are keyed by birth txg and describe what a
 * dataset lost relative to its predecessor; the predecessors do not
 * change, so neither do the deadlists (OpenZFS leaves them alone too).
 *
 * Space follows from the chain: the blocks born in the moved snapshots
 * are the branch point's referenced bytes plus what each moved snapshot
 * killed (its deadlist), less what the old origin's own origin
 * referenced; that much moves from the old origin's dir to the clone's.
 * Each dir's usedbysnapshots becomes what its snapshots' and head's
 * deadlists hold born after its (new) origin; the rest of the moved
 * amount is the head's. The branch point's unique bytes become what its
 * new successor killed of the blocks born in its interval.
 *
 * Bookmarks of the old origin's head made up to the branch point move to
 * the clone's head with the snapshots (their names must not clash with
 * the clone's), and those at the branch point itself are made anew
 * against its new next dataset (dsl_bookmark_next_changed), as OpenZFS
 * moves them; a redaction bookmark among them is refused (zfuse does not
 * keep redaction lists).
 *
 * Livelists describe a clone against its origin txg, so both dirs lose
 * theirs, as in OpenZFS. Encrypted clones share keys with their origin;
 * zfuse refuses to promote them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dmu_types.h"
#include "dnode.h"
#include "dsl.h"
#include "dsl_dataset.h"
#include "dsl_deadlist.h"
#include "dsl_bookmark.h"
#include "dsl_destroy.h"
#include "dsl_sync.h"
#include "spa_impl.h"
#include "zap.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define DMU_OT_DSL_CLONES 52
#define DS_FLAG_NOPROMOTE 0x2
#define DD_FIELD_SNAPSHOT_COUNT "com.joyent:snapshot_count"
#define ZFS_MAX_NAME 256
/* A chain longer than this is a loop in a damaged pool. */
#define SNAPLIST_MAX (1u << 20)

struct snaplist {
	uint64_t *v;
	size_t n, cap;
};

/* What a promote works on, as OpenZFS's promote_hold gathers it. */
struct promote {
	uint64_t hds, dd, origin_ds, odd, origin_head, origin_origin;
	/* origin_ds and the snapshots before it, newest first */
	struct snaplist shared;
	/* the clone's head and its snapshots, newest first */
	struct snaplist clone;
	/* the old origin's head and its snapshots after origin_ds */
	struct snaplist origin;
};

static int snaplist_push(struct snaplist *l, uint64_t obj)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? 2 * l->cap : 16;
		uint64_t *nv = realloc(l->v, nc * sizeof(*nv));
		if (!nv)
			return SET_ERROR(-ZFUSE_E_NOMEM);
		l->v = nv;
		l->cap = nc;
	}
	l->v[l->n++] = obj;
	return 0;
}

/* The datasets from last back along ds_prev_snap_obj to first
 * (exclusive); first 0: to last's dir's origin. */
static int snaplist_make(spa_t *spa, uint64_t first, uint64_t last, struct snaplist *l)
{
	uint64_t obj = last;
	int rc = 0;
	while (rc == 0 && obj != first) {
		dsl_dataset_phys_t ds;
		if (obj == 0 || l->n >= SNAPLIST_MAX)
			return SET_ERROR(-ZFUSE_E_CORRUPT);
		if ((rc = dsl_dataset_read(spa, obj, &ds)) != 0)
			break;
		if (first == 0) {
			dsl_dir_phys_t dd;
			if ((rc = dsl_dir_read(spa, ds.dir_obj, &dd)) != 0)
				break;
			first = dd.origin_obj;
		}
		rc = snaplist_push(l, obj);
		obj = ds.prev_snap_obj;
	}
	return rc;
}

static void promote_rele(struct promote *p)
{
	free(p->shared.v);
	free(p->clone.v);
	free(p->origin.v);
	memset(p, 0, sizeof(*p));
}

static int promote_hold(spa_t *spa, uint64_t hds, struct promote *p)
{
	memset(p, 0, sizeof(*p));
	p->hds = hds;
	dsl_dataset_phys_t h, o;
	dsl_dir_phys_t dd, odd;
	uint64_t origin_snap;
	int rc = dsl_dataset_read(spa, hds, &h);
	if (rc == 0)
		rc = dsl_dir_read(spa, h.dir_obj, &dd);
	if (rc == 0)
		rc = dsl_pool_origin_snapshot(spa, &origin_snap);
	if (rc)
		return rc;
	p->dd = h.dir_obj;
	if (dd.head_dataset_obj != hds || dd.origin_obj == 0 || dd.origin_obj == origin_snap)
		return SET_ERROR(-ZFUSE_E_INVAL);	/* a snapshot, or not a clone */
	p->origin_ds = dd.origin_obj;
	if ((rc = dsl_dataset_read(spa, p->origin_ds, &o)) != 0 ||
	    (rc = dsl_dir_read(spa, o.dir_obj, &odd)) != 0)
		return rc;
	p->odd = o.dir_obj;
	p->origin_head = odd.head_dataset_obj;
	p->origin_origin = odd.origin_obj;
	rc = snaplist_make(spa, 0, p->origin_ds, &p->shared);
	if (rc == 0)
		rc = snaplist_make(spa, 0, hds, &p->clone);
	if (rc == 0)
		rc = snaplist_make(spa, p->origin_ds, p->origin_head, &p->origin);
	if (rc)
		promote_rele(p);
	return rc;
}

/* Name of snapshot obj in its head's snapnames ZAP. */
static int snap_name(spa_t *spa, uint64_t head, uint64_t obj, char *buf, size_t cap)
{
	dsl_dataset_phys_t h;
	int rc = dsl_dataset_read(spa, head, &h);
	return rc ? rc : mos_zap_name_of(spa, h.snapnames_zapobj, obj, buf, cap);
}

struct promote_space {
	uint64_t used, comp, uncomp, unique, cloneusedsnap, originusedsnap;
};

static int promote_space(spa_t *spa, const struct promote *p, struct promote_space *s);

/* dsl_dir_transfer_possible, for quotas: the clone's dir and its
 * ancestors below the one it shares with the origin's must have room for
 * what moves. (Filesystem and snapshot limits zfuse does not keep.) */
static int transfer_possible(spa_t *spa, const struct promote *p)
{
	struct promote_space s;
	int rc = promote_space(spa, p, &s);
	if (rc || s.used == 0)
		return rc;
	uint64_t above[DSL_DIR_MAX_DEPTH];
	size_t n = 0;
	for (uint64_t d = p->odd; d && n < DSL_DIR_MAX_DEPTH;) {
		above[n++] = d;
		if ((rc = dsl_phys_get(spa, d, DD_OFF_PARENT, &d)) != 0)
			return rc;
	}
	for (uint64_t d = p->dd; d;) {
		for (size_t i = 0; i < n; i++)
			if (above[i] == d)
				return 0;	/* the common ancestor */
		dsl_dir_phys_t dd;
		if ((rc = dsl_dir_read(spa, d, &dd)) != 0)
			return rc;
		uint64_t charged = dd.used_bytes > dd.reserved ? dd.used_bytes : dd.reserved;
		if (dd.quota && charged + s.used > dd.quota)
			return SET_ERROR(-ZFUSE_E_NOSPC);
		d = dd.parent_obj;
	}
	return 0;
}

/* The bookmarks of the old origin's head that move: made up to the
 * branch point (they are sorted by creation txg). *o: the branch point. */
static int moving_bookmarks(spa_t *spa, const struct promote *p, struct dsl_bookmarks *b,
			    size_t *n, dsl_dataset_phys_t *o)
{
	int rc = dsl_dataset_read(spa, p->origin_ds, o);
	if (rc == 0)
		rc = dsl_bookmarks_load(spa, p->origin_head, b);
	*n = 0;
	while (rc == 0 && *n < b->n && b->v[*n].w[ZBM_TXG] <= o->creation_txg)
		(*n)++;
	return rc;
}

/* dsl_dataset_promote_check's bookmark part: each moving one must fit the
 * clone's name and not clash with a bookmark of the clone. */
static int bookmarks_check(spa_t *spa, const struct promote *p, size_t max_snap_len,
			   char *conflict, size_t cap, bool *conflicting)
{
	struct dsl_bookmarks b;
	dsl_dataset_phys_t o;
	size_t n;
	int rc = moving_bookmarks(spa, p, &b, &n, &o);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		uint64_t w[ZBM_WORDS];
		if (b.v[i].w[ZBM_REDACTION_OBJ]) {
			rc = SET_ERROR(-ZFUSE_E_UNSUPPORTED);
		} else if (strlen(b.v[i].name) >= max_snap_len) {
			rc = SET_ERROR(-ZFUSE_E_NAMETOOLONG);
		} else if ((rc = dsl_bookmark_lookup(spa, p->hds, b.v[i].name, w)) == 0) {
			if (!*conflicting && conflict)
				snprintf(conflict, cap, "%s", b.v[i].name);
			*conflicting = true;
		} else if (rc == -ZFUSE_E_NOENT) {
			rc = 0;
		}
	}
	dsl_bookmarks_free(&b);
	return rc;
}

/* The moving bookmarks go to the clone's head (dsl_bookmark_node_add:
 * feature counts raised again, the old origin's ZAP left even if empty,
 * as OpenZFS leaves it), then the branch point's are recomputed. */
static int move_bookmarks(spa_t *spa, const struct promote *p, dmu_tx_t *tx)
{
	struct dsl_bookmarks b;
	dsl_dataset_phys_t o;
	size_t n;
	int rc = moving_bookmarks(spa, p, &b, &n, &o);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = zap_remove(spa->mos, b.zapobj, b.v[i].name, tx);
		if (rc == 0)
			rc = dsl_bookmark_add_sync(spa, p->hds, b.v[i].name, b.v[i].w, tx);
	}
	dsl_bookmarks_free(&b);
	return rc ? rc : dsl_bookmark_next_changed(spa, p->hds, p->origin_ds, tx);
}

int dsl_dataset_promote_check(spa_t *spa, uint64_t hds, size_t namelen, char *conflict, size_t cap)
{
	struct promote p;
	int rc = promote_hold(spa, hds, &p);
	if (rc)
		return rc;
	dsl_dataset_phys_t h;
	if ((rc = dsl_dataset_read(spa, hds, &h)) != 0)
		goto out;
	if (h.flags & DS_FLAG_NOPROMOTE) {
		rc = SET_ERROR(-ZFUSE_E_XDEV);
		goto out;
	}
	if (p.origin_origin == 0 || dsl_dir_is_encrypted(spa, p.dd) ||
	    dsl_dir_is_encrypted(spa, p.odd)) {
		rc = SET_ERROR(-ZFUSE_E_UNSUPPORTED);
		goto out;
	}
	size_t max_snap_len = ZFS_MAX_NAME - namelen - 1;
	bool conflicting = false;
	for (size_t i = 0; i < p.shared.n; i++) {
		char name[ZFS_MAX_NAME];
		uint64_t other;
		if (dsl_dataset_is_open(spa, p.shared.v[i])) {
			rc = SET_ERROR(-ZFUSE_E_BUSY);
			goto out;
		}
		if ((rc = snap_name(spa, p.origin_head, p.shared.v[i], name, sizeof(name))) != 0)
			goto out;
		if (strlen(name) >= max_snap_len) {
			rc = SET_ERROR(-ZFUSE_E_NAMETOOLONG);
			goto out;
		}
		rc = dsl_snapshot_lookup(spa, hds, name, &other);
		if (rc == 0) {
			/* OpenZFS reports the first it finds, newest first */
			if (!conflicting && conflict)
				snprintf(conflict, cap, "%s", name);
			conflicting = true;
		} else if (rc != -ZFUSE_E_NOENT) {
			goto out;
		}
		rc = 0;
	}
	if (rc == 0)
		rc = bookmarks_check(spa, &p, max_snap_len, conflict, cap, &conflicting);
	if (rc == 0 && conflicting)
		rc = SET_ERROR(-ZFUSE_E_EXIST);
	if (rc == 0)
		rc = transfer_possible(spa, &p);
out:
	promote_rele(&p);
	return rc;
}

/* Space of the deadlists of l's datasets from mintxg on. */
static int snaplist_space(spa_t *spa, const struct snaplist *l, uint64_t mintxg, uint64_t *space)
{
	*space = 0;
	for (size_t i = 0; i < l->n; i++) {
		dsl_dataset_phys_t ds;
		struct bpobj_space s;
		int rc = dsl_dataset_read(spa, l->v[i], &ds);
		if (rc == 0)
			rc = dsl_deadlist_space_range(spa, ds.deadlist_obj, mintxg, UINT64_MAX, &s);
		if (rc)
			return rc;
		*space += s.used;
	}
	return 0;
}

/* The txg a dir's blocks count as its own from: its origin's creation,
 * or 0 when it is not a clone (OpenZFS's dd_origin_txg). */
static int dir_origin_txg(spa_t *spa, uint64_t dirobj, uint64_t *txg)
{
	dsl_dir_phys_t dd;
	uint64_t origin_snap;
	int rc = dsl_dir_read(spa, dirobj, &dd);
	if (rc == 0)
		rc = dsl_pool_origin_snapshot(spa, &origin_snap);
	*txg = 0;
	if (rc || dd.origin_obj == 0 || dd.origin_obj == origin_snap)
		return rc;
	dsl_dataset_phys_t o;
	if ((rc = dsl_dataset_read(spa, dd.origin_obj, &o)) == 0)
		*txg = o.creation_txg;
	return rc;
}

/* The amounts of OpenZFS's promote check, before anything changes. */
static int promote_space(spa_t *spa, const struct promote *p, struct promote_space *s)
{
	memset(s, 0, sizeof(*s));
	dsl_dataset_phys_t o, first, oo;
	struct bpobj_space sp;
	int rc = dsl_dataset_read(spa, p->origin_ds, &o);
	if (rc == 0)
		rc = dsl_dataset_read(spa, p->clone.v[p->clone.n - 1], &first);
	/* the branch point's successor on the clone's side decides its
	 * unique bytes from now on */
	if (rc == 0)
		rc = dsl_deadlist_space_range(spa, first.deadlist_obj, o.prev_snap_txg, UINT64_MAX,
					      &sp);
	if (rc)
		return rc;
	s->unique = sp.used;
	s->used = o.referenced_bytes;
	s->comp = o.compressed_bytes;
	s->uncomp = o.uncompressed_bytes;
	for (size_t i = 0; i < p->shared.n; i++) {
		dsl_dataset_phys_t ds;
		if ((rc = dsl_dataset_read(spa, p->shared.v[i], &ds)) != 0)
			return rc;
		if (ds.prev_snap_obj == 0)
			continue;
		if ((rc = dsl_deadlist_space(spa, ds.deadlist_obj, &sp)) != 0)
			return rc;
		s->used += sp.used;
		s->comp += sp.comp;
		s->uncomp += sp.uncomp;
	}
	if ((rc = dsl_dataset_read(spa, p->origin_origin, &oo)) != 0)
		return rc;
	s->used -= oo.referenced_bytes;
	s->comp -= oo.compressed_bytes;
	s->uncomp -= oo.uncompressed_bytes;

	dsl_dir_phys_t dd, odd;
	uint64_t txg, space;
	if ((rc = dsl_dir_read(spa, p->dd, &dd)) != 0 || (rc = dsl_dir_read(spa, p->odd, &odd)) != 0)
		return rc;
	if (dd.flags & DD_FLAG_USED_BREAKDOWN) {
		if ((rc = dir_origin_txg(spa, p->odd, &txg)) != 0 ||
		    (rc = snaplist_space(spa, &p->shared, txg, &s->cloneusedsnap)) != 0 ||
		    (rc = snaplist_space(spa, &p->clone, txg, &space)) != 0)
			return rc;
		s->cloneusedsnap += space;
	}
	if (odd.flags & DD_FLAG_USED_BREAKDOWN)
		rc = snaplist_space(spa, &p->origin, o.creation_txg, &s->originusedsnap);
	return rc;
}

static int zap_remove_int_key(spa_t *spa, uint64_t zapobj, uint64_t key, dmu_tx_t *tx)
{
	char name[24];
	snprintf(name, sizeof(name), "%llx", (unsigned long long)key);
	return zap_remove(spa->mos, zapobj, name, tx);
}

/* Move moved snapshot snap's clones (their heads) from the old origin
 * dir's clones ZAP to the clone dir's; oldnext is already in place. */
struct clone_move {
	spa_t *spa;
	uint64_t oldnext;
	struct snaplist heads;
};

static int clone_move_cb(void *arg, const zap_entry_t *ze)
{
	struct clone_move *m = arg;
	if (ze->value_first == m->oldnext)
		return 0;
	dsl_dataset_phys_t c;
	dsl_dir_phys_t cdd;
	int rc = dsl_dataset_read(m->spa, ze->value_first, &c);
	if (rc == 0)
		rc = dsl_dir_read(m->spa, c.dir_obj, &cdd);
	return rc ? rc : snaplist_push(&m->heads, cdd.head_dataset_obj);
}

static int move_clone_refs(spa_t *spa, const struct promote *p, uint64_t snap, uint64_t oldnext,
			   dmu_tx_t *tx)
{
	dsl_dataset_phys_t ds;
	int rc = dsl_dataset_read(spa, snap, &ds);
	if (rc || !ds.next_clones_obj)
		return rc;
	struct clone_move m = { spa, oldnext, { 0 } };
	dnode_t dn;
	if ((rc = dnode_hold(spa->mos, ds.next_clones_obj, &dn)) != 0)
		return rc;
	rc = zap_iterate(&dn, 0, 0, clone_move_cb, &m);
	dnode_rele(&dn);
	dsl_dir_phys_t dd, odd;
	for (size_t i = 0; rc == 0 && i < m.heads.n; i++) {
		rc = dsl_dir_read(spa, p->odd, &odd);
		if (rc == 0)
			rc = dsl_dir_read(spa, p->dd, &dd);
		if (rc == 0)
			rc = zap_remove_int_key(spa, odd.clones, m.heads.v[i], tx);
		if (rc == 0)
			rc = zap_add_int_key(spa, dd.clones, m.heads.v[i], m.heads.v[i], tx);
	}
	free(m.heads.v);
	return rc;
}

/* The snapshots move to the clone's dir: names, counts, ds_dir_obj, and
 * the dir clones ZAP entries of their own clones. */
static int move_snapshots(spa_t *spa, const struct promote *p, uint64_t oldnext, dmu_tx_t *tx)
{
	dsl_dataset_phys_t oh, h;
	int rc = dsl_dataset_read(spa, p->origin_head, &oh);
	if (rc == 0)
		rc = dsl_dataset_read(spa, p->hds, &h);
	for (size_t i = 0; rc == 0 && i < p->shared.n; i++) {
		uint64_t snap = p->shared.v[i];
		char name[ZFS_MAX_NAME];
		rc = mos_zap_name_of(spa, oh.snapnames_zapobj, snap, name, sizeof(name));
		if (rc == 0)
			rc = zap_remove_norm(spa->mos, oh.snapnames_zapobj, name, tx, NULL, 0);
		if (rc == 0)
			rc = dsl_dir_snapshots_changed(spa, p->odd, tx);
		if (rc == 0)
			rc = dsl_dir_count_adjust(spa, p->odd, DD_FIELD_SNAPSHOT_COUNT, -1, tx);
		if (rc == 0)
			rc = zap_add_uint64(spa->mos, h.snapnames_zapobj, name, snap, tx);
		if (rc == 0)
			rc = dsl_dir_count_adjust(spa, p->dd, DD_FIELD_SNAPSHOT_COUNT, 1, tx);
		if (rc == 0)
			rc = dsl_phys_set(spa, snap, 0, p->dd, tx);	/* ds_dir_obj */
		if (rc == 0)
			rc = move_clone_refs(spa, p, snap, oldnext, tx);
	}
	return rc;
}

/* The dirs' origins and clones ZAPs: the clone now descends from the old
 * origin's origin, and the old origin from the branch point. */
static int relink_origins(spa_t *spa, const struct promote *p, dmu_tx_t *tx)
{
	dsl_dir_phys_t dd, odd, ood;
	dsl_dataset_phys_t oo;
	int rc = dsl_phys_set(spa, p->dd, DD_OFF_ORIGIN_OBJ, p->origin_origin, tx);
	if (rc == 0)
		rc = dsl_phys_set(spa, p->odd, DD_OFF_ORIGIN_OBJ, p->origin_ds, tx);
	if (rc == 0)
		rc = dsl_dir_read(spa, p->odd, &odd);
	if (rc == 0)
		rc = dsl_dataset_read(spa, p->origin_origin, &oo);
	if (rc == 0)
		rc = dsl_dir_read(spa, oo.dir_obj, &ood);
	if (rc == 0)
		rc = zap_remove_int_key(spa, odd.clones, p->hds, tx);
	if (rc == 0)
		rc = zap_add_int_key(spa, ood.clones, p->hds, p->hds, tx);
	if (rc == 0)
		rc = zap_remove_int_key(spa, ood.clones, p->origin_head, tx);
	if (rc == 0)
		rc = dsl_dir_read(spa, p->dd, &dd);
	if (rc == 0 && dd.clones == 0) {
		rc = zap_create(spa->mos, DMU_OT_DSL_CLONES, DMU_OT_NONE, 0, tx, &dd.clones);
		if (rc == 0)
			rc = dsl_phys_set(spa, p->dd, DD_OFF_CLONES, dd.clones, tx);
	}
	if (rc == 0)
		rc = zap_add_int_key(spa, dd.clones, p->origin_head, p->origin_head, tx);
	return rc;
}

int dsl_dataset_promote_sync_impl(spa_t *spa, uint64_t hds, dmu_tx_t *tx)
{
	struct promote p;
	struct promote_space s;
	int rc = promote_hold(spa, hds, &p);
	if (rc)
		return rc;
	if ((rc = promote_space(spa, &p, &s)) != 0)
		goto out;

	/* The branch point's main line is now the clone's. */
	dsl_dataset_phys_t o;
	uint64_t first = p.clone.v[p.clone.n - 1];
	if ((rc = dsl_dataset_read(spa, p.origin_ds, &o)) != 0)
		goto out;
	uint64_t oldnext = o.next_snap_obj;
	rc = dsl_phys_set(spa, p.origin_ds, DS_OFF_NEXT_SNAP_OBJ, first, tx);
	if (rc == 0 && o.next_clones_obj) {
		rc = zap_remove_int_key(spa, o.next_clones_obj, first, tx);
		if (rc == -ZFUSE_E_NOENT)
			rc = 0;
		if (rc == 0)
			rc = zap_add_int_key(spa, o.next_clones_obj, oldnext, oldnext, tx);
	}
	if (rc == 0)
		rc = relink_origins(spa, &p, tx);
	if (rc == 0)
		rc = move_bookmarks(spa, &p, tx);
	if (rc == 0)
		rc = move_snapshots(spa, &p, oldnext, tx);
	if (rc)
		goto out;

	/* Space: see the theory above. */
	dsl_dir_phys_t dd, odd;
	if ((rc = dsl_dir_read(spa, p.dd, &dd)) != 0 || (rc = dsl_dir_read(spa, p.odd, &odd)) != 0)
		goto out;
	int64_t delta = (int64_t)s.cloneusedsnap - (int64_t)dd.used_breakdown[DD_USED_SNAP];
	if (!(dd.flags & DD_FLAG_USED_BREAKDOWN))
		delta = 0;
	rc = dsl_dir_diduse_space(spa, p.dd, DD_USED_SNAP, delta, 0, 0, tx);
	if (rc == 0)
		rc = dsl_dir_diduse_space(spa, p.dd, DD_USED_HEAD, (int64_t)s.used - delta,
					  (int64_t)s.comp, (int64_t)s.uncomp, tx);
	delta = (int64_t)s.originusedsnap - (int64_t)odd.used_breakdown[DD_USED_SNAP];
	if (!(odd.flags & DD_FLAG_USED_BREAKDOWN))
		delta = 0;
	if (rc == 0)
		rc = dsl_dir_diduse_space(spa, p.odd, DD_USED_SNAP, delta, 0, 0, tx);
	if (rc == 0)
		rc = dsl_dir_diduse_space(spa, p.odd, DD_USED_HEAD, -(int64_t)s.used - delta,
					  -(int64_t)s.comp, -(int64_t)s.uncomp, tx);
	if (rc == 0)
		rc = dsl_phys_set(spa, p.origin_ds, DS_OFF_UNIQUE_BYTES, s.unique, tx);
	if (rc == 0)
		rc = dsl_dir_remove_livelist(spa, p.dd, tx);
	if (rc == 0)
		rc = dsl_dir_remove_livelist(spa, p.odd, tx);
out:
	promote_rele(&p);
	return rc;
}
