/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dsl_bookmark.c — bookmarks (object-layer.md §6.12; OpenZFS
 * dsl_bookmark.c): a head's "com.delphix:bookmarks" ZAP maps a name to a
 * zfs_bookmark_phys_t, and what a bookmark knows must stay true while
 * the head lives on.
 *
 * Theory: a bookmark with HAS_FBN ("bookmark_written") remembers how much
 * of what its snapshot referenced died before the next snapshot was
 * taken ("freed before next", FBN), so `written#bookmark` can be told
 * after the snapshot is gone. That figure changes exactly when OpenZFS
 * changes it: a head killing a block born at or before a bookmark newer
 * than the newest snapshot (dsl_sync.c calls block_killed); a snapshot
 * destroyed between a bookmark and its next snapshot (its next's
 * deadlist now holds what the bookmark's interval lost); a rollback to
 * the bookmark's snapshot. Deadlists keep a key at the txg of every
 * HAS_FBN bookmark older than the newest snapshot, so the space born
 * before it stays countable: added when a snapshot passes the bookmark,
 * kept when the snapshot at that txg goes, dropped with the last
 * bookmark that needs it. Feature counts follow OpenZFS to the
 * reference, its one leak included (a destroyed head's v2 bookmarks keep
 * bookmark_v2 counted).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dmu_types.h"
#include "dnode.h"
#include "dsl.h"
#include "dsl_bookmark.h"
#include "dsl_dataset.h"
#include "dsl_deadlist.h"
#include "dsl_destroy.h"
#include "spa_impl.h"
#include "zap.h"
#include "zfeature_write.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define DS_FIELD_IVSET_GUID "com.datto:ivset_guid"

static bool has_fbn(const struct dsl_bookmark *b)
{
	return (b->w[ZBM_FLAGS] & ZBM_FLAG_HAS_FBN) != 0;
}

/* dsl_bookmark_compare */
static int bm_cmp(const void *l, const void *r)
{
	const struct dsl_bookmark *a = l, *b = r;
	if (a->w[ZBM_TXG] != b->w[ZBM_TXG])
		return a->w[ZBM_TXG] < b->w[ZBM_TXG] ? -1 : 1;
	if (has_fbn(a) != has_fbn(b))
		return has_fbn(a) ? 1 : -1;
	return strcmp(a->name, b->name);
}

static int load_cb(void *arg, const zap_entry_t *ze)
{
	struct dsl_bookmarks *b = arg;
	if (ze->value_intlen != 8 || ze->value_numints < ZBM_V1_WORDS ||
	    ze->value_numints > ZBM_WORDS)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	if (b->n == b->cap) {
		size_t nc = b->cap ? 2 * b->cap : 8;
		struct dsl_bookmark *nv = realloc(b->v, nc * sizeof(*nv));
		if (!nv)
			return SET_ERROR(-ZFUSE_E_NOMEM);
		b->v = nv;
		b->cap = nc;
	}
	struct dsl_bookmark *m = &b->v[b->n++];
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", ze->name);
	memcpy(m->w, ze->value, ze->value_numints * 8);
	m->nwords = ze->value_numints;
	return 0;
}

int dsl_bookmarks_load(spa_t *spa, uint64_t head, struct dsl_bookmarks *out)
{
	memset(out, 0, sizeof(*out));
	out->head = head;
	int rc = dsl_zapified_lookup(spa, head, DS_FIELD_BOOKMARK_NAMES, &out->zapobj);
	if (rc == -ZFUSE_E_NOENT) {
		out->zapobj = 0;
		return 0;
	}
	if (rc || !out->zapobj)
		return rc;
	dnode_t dn;
	if ((rc = dnode_hold(spa->mos, out->zapobj, &dn)) != 0)
		return rc;
	rc = zap_iterate(&dn, 0, 0, load_cb, out);
	dnode_rele(&dn);
	if (rc) {
		dsl_bookmarks_free(out);
		return rc;
	}
	qsort(out->v, out->n, sizeof(*out->v), bm_cmp);
	return 0;
}

bool dsl_dataset_has_bookmarks(struct spa *spa, uint64_t head)
{
	struct dsl_bookmarks b;
	if (dsl_bookmarks_load(spa, head, &b) != 0)
		return true;
	bool any = b.n > 0;
	dsl_bookmarks_free(&b);
	return any;
}

void dsl_bookmarks_free(struct dsl_bookmarks *b)
{
	free(b->v);
	b->v = NULL;
	b->n = b->cap = 0;
}

static struct dsl_bookmark *bm_find(struct dsl_bookmarks *b, const char *name)
{
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->v[i].name, name) == 0)
			return &b->v[i];
	return NULL;
}

int dsl_bookmark_lookup(spa_t *spa, uint64_t head, const char *name, uint64_t w[ZBM_WORDS])
{
	struct dsl_bookmarks b;
	int rc = dsl_bookmarks_load(spa, head, &b);
	if (rc)
		return rc;
	struct dsl_bookmark *m = bm_find(&b, name);
	if (m)
		memcpy(w, m->w, sizeof(m->w));
	dsl_bookmarks_free(&b);
	return m ? 0 : -ZFUSE_E_NOENT;
}

uint64_t dsl_bookmark_latest_txg(spa_t *spa, uint64_t head)
{
	struct dsl_bookmarks b;
	if (dsl_bookmarks_load(spa, head, &b) != 0)
		return 0;
	uint64_t txg = b.n ? b.v[b.n - 1].w[ZBM_TXG] : 0;
	dsl_bookmarks_free(&b);
	return txg;
}

/* Whole-bookmark rewrite, always the full v2 length (only HAS_FBN
 * bookmarks are rewritten, and they are v2). */
static int bm_write(spa_t *spa, uint64_t zapobj, const struct dsl_bookmark *m, dmu_tx_t *tx)
{
	return zap_update(spa->mos, zapobj, m->name, 8, ZBM_WORDS, m->w, tx);
}

static void fbn_add(uint64_t w[ZBM_WORDS], uint64_t used, uint64_t comp, uint64_t uncomp)
{
	w[ZBM_REFERENCED_FBN] += used;
	w[ZBM_COMPRESSED_FBN] += comp;
	w[ZBM_UNCOMPRESSED_FBN] += uncomp;
}

/* dsl_bookmark_set_phys */
int dsl_bookmark_of_snapshot(spa_t *spa, uint64_t snapobj, uint64_t w[ZBM_WORDS])
{
	dsl_dataset_phys_t s;
	int rc = dsl_dataset_read(spa, snapobj, &s);
	if (rc)
		return rc;
	memset(w, 0, ZBM_WORDS * sizeof(uint64_t));
	w[ZBM_GUID] = s.guid;
	w[ZBM_TXG] = s.creation_txg;
	w[ZBM_TIME] = s.creation_time;
	if (dsl_dir_is_encrypted(spa, s.dir_obj) && spa_feature_is_enabled(spa, "bookmark_v2"))
		(void)dsl_zapified_lookup(spa, snapobj, DS_FIELD_IVSET_GUID, &w[ZBM_IVSET_GUID]);
	if (!spa_feature_is_enabled(spa, "bookmark_written"))
		return 0;
	w[ZBM_FLAGS] = ZBM_FLAG_SNAPSHOT_EXISTS | ZBM_FLAG_HAS_FBN;
	w[ZBM_REFERENCED_REFD] = s.referenced_bytes;
	w[ZBM_COMPRESSED_REFD] = s.compressed_bytes;
	w[ZBM_UNCOMPRESSED_REFD] = s.uncompressed_bytes;
	dsl_dataset_phys_t next;
	struct bpobj_space sp = { 0, 0, 0 };
	if ((rc = dsl_dataset_read(spa, s.next_snap_obj, &next)) == 0)
		rc = dsl_deadlist_space(spa, next.deadlist_obj, &sp);
	fbn_add(w, sp.used, sp.comp, sp.uncomp);
	return rc;
}

bool dsl_dataset_is_before(spa_t *spa, uint64_t later, uint64_t earlier, uint64_t earlier_txg)
{
	dsl_dataset_phys_t e;
	if (dsl_dataset_read(spa, earlier, &e) != 0)
		return false;
	if (e.next_snap_obj)
		earlier_txg = e.creation_txg;
	for (int depth = 0; depth < DSL_DIR_MAX_DEPTH; depth++) {
		dsl_dataset_phys_t l, o;
		dsl_dir_phys_t dd;
		uint64_t pool_origin;
		if (dsl_dataset_read(spa, later, &l) != 0)
			return false;
		if (l.next_snap_obj && earlier_txg >= l.creation_txg)
			return false;
		if (l.dir_obj == e.dir_obj)
			return true;
		/* A clone's past goes on at its origin ($ORIGIN is no one's). */
		if (dsl_dir_read(spa, l.dir_obj, &dd) != 0 || !dd.origin_obj ||
		    dsl_pool_origin_snapshot(spa, &pool_origin) != 0 || dd.origin_obj == pool_origin ||
		    dsl_dataset_read(spa, dd.origin_obj, &o) != 0)
			return false;
		if (dd.origin_obj == earlier ||
		    (o.creation_txg == earlier_txg && o.dir_obj == e.dir_obj))
			return true;
		later = dd.origin_obj;
	}
	return false;
}

/* ---- create and destroy --------------------------------------------------------- */

/* dsl_bookmark_node_add */
int dsl_bookmark_add_sync(spa_t *spa, uint64_t head, const char *name, const uint64_t w[ZBM_WORDS],
			  dmu_tx_t *tx)
{
	uint64_t zapobj = 0;
	int rc = dsl_zapified_lookup(spa, head, DS_FIELD_BOOKMARK_NAMES, &zapobj);
	if (rc && rc != -ZFUSE_E_NOENT)
		return rc;
	rc = 0;
	if (!zapobj) {
		rc = zap_create_norm(spa->mos, U8_TEXTPREP_TOUPPER, DMU_OTN_ZAP_METADATA, DMU_OT_NONE,
				     0, 0, tx, &zapobj);
		if (rc == 0)
			rc = spa_feature_incr(spa, "bookmarks", tx);
		if (rc == 0)
			rc = dmu_object_zapify(spa, head, tx);
		if (rc == 0)
			rc = zap_add_uint64(spa->mos, head, DS_FIELD_BOOKMARK_NAMES, zapobj, tx);
		if (rc)
			return rc;
	}
	if (w[ZBM_FLAGS] & ZBM_FLAG_HAS_FBN)
		rc = spa_feature_incr(spa, "bookmark_written", tx);
	/* The smallest length that holds it, for readers without v2. */
	uint64_t nwords = ZBM_V1_WORDS;
	if (rc == 0 && spa_feature_is_enabled(spa, "bookmark_v2") &&
	    (w[ZBM_IVSET_GUID] || (w[ZBM_FLAGS] & ZBM_FLAG_HAS_FBN) || w[ZBM_REDACTION_OBJ])) {
		nwords = ZBM_WORDS;
		rc = spa_feature_incr(spa, "bookmark_v2", tx);
	}
	return rc ? rc : zap_add(spa->mos, zapobj, name, 8, nwords, w, tx);
}

/* The txg's deadlist key (the head's, its clones') is no longer needed. */
static int drop_key(spa_t *spa, uint64_t head, uint64_t txg, dmu_tx_t *tx)
{
	dsl_dataset_phys_t h;
	int rc = dsl_dataset_read(spa, head, &h);
	if (rc == 0)
		rc = dsl_dir_remove_clones_key(spa, h.dir_obj, txg, tx);
	return rc ? rc : dsl_deadlist_remove_key(spa, h.deadlist_obj, txg, tx);
}

/* dsl_bookmark_destroy_sync_impl + the ZAP's end in dsl_bookmark_destroy_sync */
int dsl_bookmark_destroy_sync(spa_t *spa, uint64_t head, const char *name, dmu_tx_t *tx)
{
	struct dsl_bookmarks b;
	int rc = dsl_bookmarks_load(spa, head, &b);
	if (rc)
		return rc;
	dsl_dataset_phys_t h;
	struct dsl_bookmark *m = bm_find(&b, name);
	if (!m)
		rc = SET_ERROR(-ZFUSE_E_NOENT);
	if (rc == 0)
		rc = dsl_dataset_read(spa, head, &h);
	if (rc == 0 && m->nwords > ZBM_V1_WORDS)
		rc = spa_feature_decr(spa, "bookmark_v2", tx);
	if (rc == 0 && has_fbn(m)) {
		/* Neighbours in the sort order share the txg key. */
		size_t i = (size_t)(m - b.v);
		uint64_t txg = m->w[ZBM_TXG];
		bool more = (i > 0 && b.v[i - 1].w[ZBM_TXG] == txg && has_fbn(&b.v[i - 1])) ||
			    (i + 1 < b.n && b.v[i + 1].w[ZBM_TXG] == txg && has_fbn(&b.v[i + 1]));
		if (!(m->w[ZBM_FLAGS] & ZBM_FLAG_SNAPSHOT_EXISTS) && !more && txg < h.prev_snap_txg)
			rc = drop_key(spa, head, txg, tx);
		if (rc == 0)
			rc = spa_feature_decr(spa, "bookmark_written", tx);
	}
	if (rc == 0 && m->w[ZBM_REDACTION_OBJ]) {
		rc = dmu_object_free(spa->mos, m->w[ZBM_REDACTION_OBJ], tx);
		if (rc == 0)
			rc = spa_feature_decr(spa, "redaction_bookmarks", tx);
	}
	if (rc == 0)
		rc = zap_remove(spa->mos, b.zapobj, name, tx);
	if (rc == 0 && b.n == 1) {
		rc = dmu_object_free(spa->mos, b.zapobj, tx);
		if (rc == 0)
			rc = spa_feature_decr(spa, "bookmarks", tx);
		if (rc == 0)
			rc = zap_remove(spa->mos, head, DS_FIELD_BOOKMARK_NAMES, tx);
	}
	dsl_bookmarks_free(&b);
	return rc;
}

/* ---- snapshots, rollback, destroy ------------------------------------------------ */

int dsl_bookmark_snapshotted(spa_t *spa, uint64_t head, uint64_t newdl, uint64_t prev_snap_txg,
			     dmu_tx_t *tx)
{
	struct dsl_bookmarks b;
	int rc = dsl_bookmarks_load(spa, head, &b);
	uint64_t last = UINT64_MAX;
	for (size_t i = b.n; rc == 0 && i-- > 0 && b.v[i].w[ZBM_TXG] > prev_snap_txg;) {
		if (!has_fbn(&b.v[i]) || b.v[i].w[ZBM_TXG] == last)
			continue;
		last = b.v[i].w[ZBM_TXG];
		rc = dsl_deadlist_add_key(spa, newdl, last, tx);
	}
	dsl_bookmarks_free(&b);
	return rc;
}

int dsl_bookmark_ds_destroyed(spa_t *spa, uint64_t snapobj, dmu_tx_t *tx, bool *keep_key)
{
	*keep_key = false;
	dsl_dataset_phys_t s, next;
	dsl_dir_phys_t dd;
	int rc = dsl_dataset_read(spa, snapobj, &s);
	if (rc == 0)
		rc = dsl_dataset_read(spa, s.next_snap_obj, &next);
	if (rc == 0)
		rc = dsl_dir_read(spa, s.dir_obj, &dd);
	struct dsl_bookmarks b = { 0 };
	if (rc == 0)
		rc = dsl_bookmarks_load(spa, dd.head_dataset_obj, &b);
	for (size_t i = 0; rc == 0 && i < b.n; i++) {
		struct dsl_bookmark *m = &b.v[i];
		uint64_t txg = m->w[ZBM_TXG];
		if (!has_fbn(m) || txg < s.prev_snap_txg || txg > s.creation_txg)
			continue;
		if (txg < s.creation_txg) {
			/* What was live at the bookmark and died between this
			 * snapshot and the next one. */
			struct bpobj_space sp;
			rc = dsl_deadlist_space_range(spa, next.deadlist_obj, 0, txg, &sp);
			if (rc == 0)
				fbn_add(m->w, sp.used, sp.comp, sp.uncomp);
		} else {
			m->w[ZBM_FLAGS] &= ~(uint64_t)ZBM_FLAG_SNAPSHOT_EXISTS;
			*keep_key = true;
		}
		if (rc == 0)
			rc = bm_write(spa, b.zapobj, m, tx);
	}
	dsl_bookmarks_free(&b);
	return rc;
}

/* dsl_bookmark_next_changed: snapshot snapobj has a new next dataset (a
 * rollback's clone swap gives head a new, empty deadlist; a promote makes
 * the clone's first snapshot its next), so its HAS_FBN bookmarks in head
 * are made anew against it. */
int dsl_bookmark_next_changed(spa_t *spa, uint64_t head, uint64_t snapobj, dmu_tx_t *tx)
{
	dsl_dataset_phys_t s;
	struct dsl_bookmarks b;
	int rc = dsl_dataset_read(spa, snapobj, &s);
	if (rc)
		return rc;
	if ((rc = dsl_bookmarks_load(spa, head, &b)) != 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < b.n; i++) {
		struct dsl_bookmark *m = &b.v[i];
		if (m->w[ZBM_TXG] != s.creation_txg || !has_fbn(m))
			continue;
		uint64_t redaction = m->w[ZBM_REDACTION_OBJ];
		rc = dsl_bookmark_of_snapshot(spa, snapobj, m->w);
		m->w[ZBM_REDACTION_OBJ] = redaction;
		if (rc == 0)
			rc = bm_write(spa, b.zapobj, m, tx);
	}
	dsl_bookmarks_free(&b);
	return rc;
}

/* dsl_destroy_head_sync_impl's part: bookmark_written and bookmarks go
 * down, bookmark_v2 does not (OpenZFS 2.3.2 leaves it counted). */
int dsl_bookmark_head_destroyed(spa_t *spa, uint64_t head, dmu_tx_t *tx)
{
	struct dsl_bookmarks b;
	int rc = dsl_bookmarks_load(spa, head, &b);
	if (rc || !b.zapobj)
		return rc;
	for (size_t i = 0; rc == 0 && i < b.n; i++) {
		if (b.v[i].w[ZBM_REDACTION_OBJ]) {
			rc = dmu_object_free(spa->mos, b.v[i].w[ZBM_REDACTION_OBJ], tx);
			if (rc == 0)
				rc = spa_feature_decr(spa, "redaction_bookmarks", tx);
		}
		if (rc == 0 && has_fbn(&b.v[i]))
			rc = spa_feature_decr(spa, "bookmark_written", tx);
	}
	if (rc == 0)
		rc = dmu_object_free(spa->mos, b.zapobj, tx);
	if (rc == 0)
		rc = spa_feature_decr(spa, "bookmarks", tx);
	dsl_bookmarks_free(&b);
	return rc;
}

/* ---- block kills ------------------------------------------------------------------ */

int dsl_bookmark_kill_init(spa_t *spa, uint64_t head, uint64_t prev_snap_txg,
			   struct dsl_bookmarks **out)
{
	*out = NULL;
	uint64_t zapobj;
	if (dsl_zapified_lookup(spa, head, DS_FIELD_BOOKMARK_NAMES, &zapobj) != 0 || !zapobj)
		return 0;
	struct dsl_bookmarks *b = malloc(sizeof(*b));
	if (!b)
		return SET_ERROR(-ZFUSE_E_NOMEM);
	int rc = dsl_bookmarks_load(spa, head, b);
	size_t n = 0;
	for (size_t i = 0; rc == 0 && i < b->n; i++)
		if (has_fbn(&b->v[i]) && b->v[i].w[ZBM_TXG] >= prev_snap_txg)
			b->v[n++] = b->v[i];
	b->n = n;
	if (rc || n == 0) {
		dsl_bookmarks_free(b);
		free(b);
		return rc;
	}
	*out = b;
	return 0;
}

void dsl_bookmark_block_killed(struct dsl_bookmarks *b, const blkptr_t *bp, uint64_t dsize,
			       uint64_t psize, uint64_t ucsize)
{
	for (size_t i = 0; b && i < b->n; i++)
		if (bp->blk_birth <= b->v[i].w[ZBM_TXG]) {
			fbn_add(b->v[i].w, dsize, psize, ucsize);
			b->v[i].dirty = true;
		}
}

int dsl_bookmark_sync_done(spa_t *spa, struct dsl_bookmarks *b, dmu_tx_t *tx)
{
	int rc = 0;
	for (size_t i = 0; b && rc == 0 && i < b->n; i++)
		if (b->v[i].dirty)
			rc = bm_write(spa, b->zapobj, &b->v[i], tx);
	return rc;
}
