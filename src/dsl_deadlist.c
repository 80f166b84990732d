/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dsl_deadlist.c — deadlists (object-layer.md §6.8): per dataset, the
 * blocks it no longer references that an earlier snapshot still does,
 * kept in bpobjs keyed by the birth interval they came from (key k holds
 * births in (k, next key]). Keys are the prev_snap_txg of every snapshot
 * up to the owner's previous one, so the space a snapshot alone holds is
 * a sum over a key range, and destroying a snapshot is a merge of whole
 * entries (bpobj.c), never a walk over blocks, except for the entries
 * whose blocks die with it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bpobj.h"
#include "byteorder.h"
#include "dmu_types.h"
#include "dnode.h"
#include "dsl.h"
#include "dsl_deadlist.h"
#include "spa_impl.h"
#include "zap.h"
#include "zfeature_write.h"
#include "zio_write.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

int dsl_deadlist_alloc(spa_t *spa, dmu_tx_t *tx, uint64_t *obj)
{
	return zap_create(spa->mos, DMU_OT_DEADLIST, DMU_OT_DEADLIST_HDR, DSL_DEADLIST_PHYS_SIZE, tx,
			  obj);
}

/* zap_add_int_key: the key is the integer in lower-case hex. */
int zap_add_int_key(spa_t *spa, uint64_t zapobj, uint64_t key, uint64_t value, dmu_tx_t *tx)
{
	char name[24];
	snprintf(name, sizeof(name), "%llx", (unsigned long long)key);
	return zap_add_uint64(spa->mos, zapobj, name, value, tx);
}

int dsl_deadlist_add_key(spa_t *spa, uint64_t dl, uint64_t mintxg, dmu_tx_t *tx)
{
	uint64_t bpobj;
	int rc = bpobj_alloc_empty(spa, tx, &bpobj);
	return rc ? rc : zap_add_int_key(spa, dl, mintxg, bpobj, tx);
}

int dsl_deadlist_clone(spa_t *spa, uint64_t dl, uint64_t maxtxg, dmu_tx_t *tx, uint64_t *newdl)
{
	struct dl_entries e;
	int rc = dsl_deadlist_load(spa, dl, &e);
	if (rc == 0)
		rc = dsl_deadlist_alloc(spa, tx, newdl);
	/* OpenZFS walks its AVL tree of entries: ascending mintxg. */
	for (size_t i = 0; rc == 0 && i < e.n && e.v[i].key < maxtxg; i++)
		rc = dsl_deadlist_add_key(spa, *newdl, e.v[i].key, tx);
	dsl_deadlist_entries_free(&e);
	return rc;
}

struct dl_pick {
	uint64_t birth, best_key, bpobj;
	bool found;
};

static int dl_pick_cb(void *arg, const zap_entry_t *ze)
{
	struct dl_pick *p = arg;
	uint64_t key = strtoull(ze->name, NULL, 16);
	if (key < p->birth && (!p->found || key >= p->best_key)) {
		p->best_key = key;
		p->bpobj = ze->value_first;
		p->found = true;
	}
	return 0;
}

static int bonus_add(spa_t *spa, uint64_t obj, const unsigned *offs, const int64_t *deltas, int n,
		     dmu_tx_t *tx)
{
	dnode_t dn;
	int rc = dnode_hold_dirty(spa->mos, obj, tx, &dn);
	if (rc)
		return rc;
	uint64_t len;
	uint8_t *b = (uint8_t *)dnode_bonus(&dn, &len);
	for (int i = 0; i < n; i++) {
		if (offs[i] + 8 > len) {
			dnode_rele(&dn);
			return SET_ERROR(-ZFUSE_E_CORRUPT);
		}
		put_le64(b + offs[i], (uint64_t)((int64_t)le64(b + offs[i]) + deltas[i]));
	}
	dnode_rele(&dn);
	return 0;
}

/* Append bp to the deadlist entry that covers its birth (object-layer.md §6.8). */
int dsl_deadlist_insert(spa_t *spa, uint64_t dlobj, const blkptr_t *bp, int64_t dsize,
			int64_t psize, int64_t ucsize, dmu_tx_t *tx)
{
	dnode_t dl;
	int rc = dnode_hold(spa->mos, dlobj, &dl);
	if (rc)
		return rc;
	struct dl_pick pick = { .birth = bp->blk_birth };
	rc = zap_iterate(&dl, 0, 0, dl_pick_cb, &pick);
	dnode_rele(&dl);
	if (rc < 0)
		return rc;
	if (!pick.found)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	/* The shared empty bpobj is never written: give the entry its own. */
	if (bpobj_is_shared_empty(spa, pick.bpobj)) {
		char key[24];
		snprintf(key, sizeof(key), "%llx", (unsigned long long)pick.best_key);
		if ((rc = bpobj_alloc(spa, BPOBJ_DEADLIST_BLKSZ, tx, &pick.bpobj)) != 0 ||
		    (rc = zap_update_uint64(spa->mos, dlobj, key, pick.bpobj, tx)) != 0 ||
		    (rc = spa_feature_decr(spa, "empty_bpobj", tx)) != 0)
			return rc;
	}
	/* Stored normalized: no checksum, no fill; embedded ones keep only
	 * their properties and birth. */
	blkptr_t stored = *bp;
	memset(&stored.blk_cksum, 0, sizeof(stored.blk_cksum));
	stored.blk_fill = 0;
	if (bp_is_embedded(bp)) {
		memset(&stored, 0, sizeof(stored));
		stored.blk_prop = bp->blk_prop;
		stored.blk_birth = bp->blk_birth;
	}
	dnode_t bo;
	if ((rc = dnode_hold(spa->mos, pick.bpobj, &bo)) != 0)
		return rc;
	uint64_t blen;
	const uint8_t *hdr = dnode_bonus(&bo, &blen);
	uint64_t num = blen >= 8 ? le64(hdr + BPOBJ_OFF_NUM) : 0;
	dnode_rele(&bo);
	uint8_t raw[sizeof(blkptr_t)];
	bp_store(raw, &stored);
	if ((rc = dmu_write(spa->mos, pick.bpobj, num * sizeof(blkptr_t), sizeof(raw), raw, tx)) != 0)
		return rc;
	static const unsigned bo_offs[4] = { BPOBJ_OFF_NUM, BPOBJ_OFF_BYTES, BPOBJ_OFF_COMP, BPOBJ_OFF_UNCOMP };
	int64_t bo_deltas[4] = { 1, dsize, psize, ucsize };
	if ((rc = bonus_add(spa, pick.bpobj, bo_offs, bo_deltas, blen >= 32 ? 4 : 2, tx)) != 0)
		return rc;
	static const unsigned dl_offs[3] = { DL_OFF_USED, DL_OFF_COMP, DL_OFF_UNCOMP };
	int64_t dl_deltas[3] = { dsize, psize, ucsize };
	return bonus_add(spa, dlobj, dl_offs, dl_deltas, 3, tx);
}


/* ---- entries ---------------------------------------------------------------- */

static int entry_cb(void *arg, const zap_entry_t *ze)
{
	struct dl_entries *e = arg;
	if (e->n == e->cap) {
		size_t nc = e->cap ? 2 * e->cap : 16;
		struct dl_entry *nv = realloc(e->v, nc * sizeof(*nv));
		if (!nv)
			return -ZFUSE_E_NOMEM;
		e->v = nv;
		e->cap = nc;
	}
	e->v[e->n].key = strtoull(ze->name, NULL, 16);
	e->v[e->n].bpobj = ze->value_first;
	e->n++;
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct dl_entry *)a)->key, y = ((const struct dl_entry *)b)->key;
	return x < y ? -1 : x > y;
}

int dsl_deadlist_load(spa_t *spa, uint64_t dl, struct dl_entries *out)
{
	memset(out, 0, sizeof(*out));
	dnode_t dn;
	int rc = dnode_hold(spa->mos, dl, &dn);
	if (rc)
		return rc;
	rc = zap_iterate(&dn, 0, 0, entry_cb, out);
	dnode_rele(&dn);
	if (rc < 0) {
		dsl_deadlist_entries_free(out);
		return rc;
	}
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), entry_cmp);
	return 0;
}

void dsl_deadlist_entries_free(struct dl_entries *e)
{
	free(e->v);
	memset(e, 0, sizeof(*e));
}

static int key_name(char *buf, size_t cap, uint64_t key)
{
	return snprintf(buf, cap, "%llx", (unsigned long long)key);
}

int dsl_deadlist_space_range(spa_t *spa, uint64_t dl, uint64_t mintxg, uint64_t maxtxg,
			     struct bpobj_space *out)
{
	memset(out, 0, sizeof(*out));
	struct dl_entries e;
	int rc = dsl_deadlist_load(spa, dl, &e);
	for (size_t i = 0; rc == 0 && i < e.n; i++) {
		if (e.v[i].key < mintxg || e.v[i].key >= maxtxg)
			continue;
		struct bpobj_space s;
		if ((rc = bpobj_space(spa, e.v[i].bpobj, &s)) == 0) {
			out->used += s.used;
			out->comp += s.comp;
			out->uncomp += s.uncomp;
		}
	}
	dsl_deadlist_entries_free(&e);
	return rc;
}

int dsl_deadlist_space(spa_t *spa, uint64_t dl, struct bpobj_space *out)
{
	dnode_t dn;
	int rc = dnode_hold(spa->mos, dl, &dn);
	if (rc)
		return rc;
	uint64_t len;
	const uint8_t *b = dnode_bonus(&dn, &len);
	if (len >= 24)
		*out = (struct bpobj_space){ le64(b + DL_OFF_USED), le64(b + DL_OFF_COMP),
					     le64(b + DL_OFF_UNCOMP) };
	else
		rc = SET_ERROR(-ZFUSE_E_CORRUPT);
	dnode_rele(&dn);
	return rc;
}

static int hdr_add(spa_t *spa, uint64_t dl, const struct bpobj_space *s, int sign, dmu_tx_t *tx)
{
	static const unsigned offs[3] = { DL_OFF_USED, DL_OFF_COMP, DL_OFF_UNCOMP };
	const int64_t deltas[3] = { sign * (int64_t)s->used, sign * (int64_t)s->comp,
				    sign * (int64_t)s->uncomp };
	return bonus_add(spa, dl, offs, deltas, 3, tx);
}

/* dle_enqueue_subobj: an entry that holds the shared empty bpobj simply
 * takes sub over. */
static int entry_enqueue(spa_t *spa, uint64_t dl, struct dl_entry *ent, uint64_t sub, dmu_tx_t *tx)
{
	if (!bpobj_is_shared_empty(spa, ent->bpobj))
		return bpobj_enqueue_subobj(spa, ent->bpobj, sub, tx);
	char key[24];
	key_name(key, sizeof(key), ent->key);
	int rc = zap_update_uint64(spa->mos, dl, key, sub, tx);
	if (rc == 0)
		rc = spa_feature_decr(spa, "empty_bpobj", tx);
	if (rc == 0)
		ent->bpobj = sub;
	return rc;
}

/* The entry with the largest key <= txg, or NULL. */
static struct dl_entry *entry_at_or_before(struct dl_entries *e, uint64_t txg)
{
	struct dl_entry *best = NULL;
	for (size_t i = 0; i < e->n && e->v[i].key <= txg; i++)
		best = &e->v[i];
	return best;
}

int dsl_deadlist_remove_key(spa_t *spa, uint64_t dl, uint64_t key, dmu_tx_t *tx)
{
	struct dl_entries e;
	int rc = dsl_deadlist_load(spa, dl, &e);
	if (rc)
		return rc;
	size_t i = 0;
	while (i < e.n && e.v[i].key != key)
		i++;
	if (i == e.n || i == 0) {
		dsl_deadlist_entries_free(&e);
		return i == e.n ? 0 : SET_ERROR(-ZFUSE_E_CORRUPT);	/* the lowest key stays */
	}
	char name[24];
	key_name(name, sizeof(name), key);
	rc = entry_enqueue(spa, dl, &e.v[i - 1], e.v[i].bpobj, tx);
	if (rc == 0)
		rc = zap_remove(spa->mos, dl, name, tx);
	dsl_deadlist_entries_free(&e);
	return rc;
}

int dsl_deadlist_merge(spa_t *spa, uint64_t dl, uint64_t from, dmu_tx_t *tx)
{
	struct dl_entries into, src;
	int rc = dsl_deadlist_load(spa, dl, &into);
	if (rc)
		return rc;
	if ((rc = dsl_deadlist_load(spa, from, &src)) != 0) {
		dsl_deadlist_entries_free(&into);
		return rc;
	}
	for (size_t i = 0; rc == 0 && i < src.n; i++) {
		struct dl_entry *ent = entry_at_or_before(&into, src.v[i].key);
		struct bpobj_space s;
		char name[24];
		key_name(name, sizeof(name), src.v[i].key);
		if (!ent)
			rc = SET_ERROR(-ZFUSE_E_CORRUPT);
		if (rc == 0)
			rc = bpobj_space(spa, src.v[i].bpobj, &s);
		if (rc == 0)
			rc = hdr_add(spa, dl, &s, 1, tx);
		if (rc == 0)
			rc = entry_enqueue(spa, dl, ent, src.v[i].bpobj, tx);
		if (rc == 0)
			rc = zap_remove(spa->mos, from, name, tx);
	}
	if (rc == 0) {
		struct bpobj_space cur;
		rc = dsl_deadlist_space(spa, from, &cur);
		if (rc == 0)
			rc = hdr_add(spa, from, &cur, -1, tx);
	}
	dsl_deadlist_entries_free(&into);
	dsl_deadlist_entries_free(&src);
	return rc;
}

struct free_walk {
	spa_t *spa;
	uint64_t txg;
};

static int free_bp_cb(void *arg, const blkptr_t *bp)
{
	struct free_walk *w = arg;
	zio_free_bp(w->spa, bp, w->txg);
	return 0;
}

int dsl_deadlist_free_from(spa_t *spa, uint64_t dl, uint64_t mintxg, dmu_tx_t *tx,
			   struct bpobj_space *freed)
{
	memset(freed, 0, sizeof(*freed));
	struct dl_entries e;
	int rc = dsl_deadlist_load(spa, dl, &e);
	struct free_walk w = { spa, tx->txg };
	for (size_t i = 0; rc == 0 && i < e.n; i++) {
		if (e.v[i].key < mintxg)
			continue;
		struct bpobj_space s;
		char name[24];
		key_name(name, sizeof(name), e.v[i].key);
		rc = bpobj_space(spa, e.v[i].bpobj, &s);
		if (rc == 0)
			rc = bpobj_iterate(spa, e.v[i].bpobj, free_bp_cb, &w);
		if (rc == 0)
			rc = bpobj_free(spa, e.v[i].bpobj, tx);
		if (rc == 0)
			rc = zap_remove(spa->mos, dl, name, tx);
		if (rc == 0)
			rc = hdr_add(spa, dl, &s, -1, tx);
		if (rc == 0) {
			freed->used += s.used;
			freed->comp += s.comp;
			freed->uncomp += s.uncomp;
		}
	}
	dsl_deadlist_entries_free(&e);
	return rc;
}

int dsl_deadlist_free(spa_t *spa, uint64_t dl, dmu_tx_t *tx)
{
	struct dl_entries e;
	int rc = dsl_deadlist_load(spa, dl, &e);
	for (size_t i = 0; rc == 0 && i < e.n; i++)
		rc = bpobj_free(spa, e.v[i].bpobj, tx);
	dsl_deadlist_entries_free(&e);
	return rc ? rc : dmu_object_free(spa->mos, dl, tx);
}
