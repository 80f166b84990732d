/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dbuf.c — the dirty overlay of an object set: what the open txg changed,
 * kept above the on-disk tree so that reads see it and sync can write it.
 *
 * Two hash tables: blocks by (object, blkid) for the read path, objects by
 * number for sync (which walks each object's blocks and free ranges once).
 * A borrowed view of a dirty block is safe to hand to readers because the
 * pool lock keeps writers out while any reader holds it (dmu_tx.h).
 */
#include <stdlib.h>
#include <string.h>
#include "dbuf.h"
#include "spa_errlog.h"
#include "spa_impl.h"
#include "spa_lock.h"
#include "spa_misc.h"
#include "zio_buf.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define OVERLAY_INITIAL_BUCKETS 1024

static uint64_t mix(uint64_t object, uint64_t blkid)
{
	uint64_t h = object * 0x9E3779B97F4A7C15ULL ^ (blkid + 0x632BE59BD9B4E019ULL) * 0xC2B2AE3D27D4EB4FULL;
	return h ^ (h >> 29);
}

static struct dbuf_overlay *overlay_get(objset_t *os)
{
	if (os->overlay)
		return os->overlay;
	struct dbuf_overlay *ov = calloc(1, sizeof(*ov));
	if (!ov)
		return NULL;
	ov->block_buckets = ov->object_buckets = OVERLAY_INITIAL_BUCKETS;
	ov->spa = os->spa;
	ov->block_hash = calloc(ov->block_buckets, sizeof(*ov->block_hash));
	ov->object_hash = calloc(ov->object_buckets, sizeof(*ov->object_hash));
	if (!ov->block_hash || !ov->object_hash) {
		free(ov->block_hash);
		free(ov->object_hash);
		free(ov);
		return NULL;
	}
	os->overlay = ov;
	return ov;
}

/* Double a chained hash table when it gets crowded (load factor 2). */
static void grow_blocks(struct dbuf_overlay *ov)
{
	uint64_t nb = ov->block_buckets * 2;
	dirty_block_t **nh = calloc(nb, sizeof(*nh));
	if (!nh)
		return;		/* keep the old table: slower, still right */
	for (uint64_t i = 0; i < ov->block_buckets; i++) {
		dirty_block_t *db = ov->block_hash[i];
		while (db) {
			dirty_block_t *next = db->hash_next;
			uint64_t b = mix(db->object, db->blkid) & (nb - 1);
			db->hash_next = nh[b];
			nh[b] = db;
			db = next;
		}
	}
	free(ov->block_hash);
	ov->block_hash = nh;
	ov->block_buckets = nb;
}

static void grow_objects(struct dbuf_overlay *ov)
{
	uint64_t nb = ov->object_buckets * 2;
	dirty_object_t **nh = calloc(nb, sizeof(*nh));
	if (!nh)
		return;
	for (dirty_object_t *dobj = ov->objects; dobj; dobj = dobj->list_next) {
		uint64_t b = mix(dobj->object, 0) & (nb - 1);
		dobj->hash_next = nh[b];
		nh[b] = dobj;
	}
	free(ov->object_hash);
	ov->object_hash = nh;
	ov->object_buckets = nb;
}

dirty_object_t *dbuf_overlay_find_object(const struct dbuf_overlay *ov, uint64_t object)
{
	if (!ov)
		return NULL;
	dirty_object_t *d = ov->object_hash[mix(object, 0) & (ov->object_buckets - 1)];
	while (d && d->object != object)
		d = d->hash_next;
	return d;
}

dirty_object_t *dbuf_find_object(const objset_t *os, uint64_t object)
{
	return dbuf_overlay_find_object(os->overlay, object);
}

dirty_object_t *dbuf_dirty_object(objset_t *os, uint64_t object)
{
	dirty_object_t *d = dbuf_find_object(os, object);
	if (d)
		return d;
	struct dbuf_overlay *ov = overlay_get(os);
	if (!ov || !(d = calloc(1, sizeof(*d))))
		return NULL;
	d->object = object;
	if (ov->nobjects >= ov->object_buckets * 2)
		grow_objects(ov);
	uint64_t b = mix(object, 0) & (ov->object_buckets - 1);
	d->hash_next = ov->object_hash[b];
	ov->object_hash[b] = d;
	d->list_next = ov->objects;
	ov->objects = d;
	ov->nobjects++;
	return d;
}

static dirty_block_t *ov_find_block(const struct dbuf_overlay *ov, uint64_t object, uint64_t blkid)
{
	if (!ov)
		return NULL;
	dirty_block_t *db = ov->block_hash[mix(object, blkid) & (ov->block_buckets - 1)];
	while (db && (db->object != object || db->blkid != blkid))
		db = db->hash_next;
	return db;
}

dirty_block_t *dbuf_find_block(const objset_t *os, uint64_t object, uint64_t blkid)
{
	return ov_find_block(os->overlay, object, blkid);
}

static bool ov_block_freed(const struct dbuf_overlay *ov, uint64_t object, uint64_t blkid)
{
	const dirty_object_t *d = dbuf_overlay_find_object(ov, object);
	if (!d)
		return false;
	for (uint64_t i = 0; i < d->nfrees; i++)
		if (blkid >= d->frees[i].first && blkid <= d->frees[i].last)
			return true;
	return false;
}

bool dbuf_block_freed(const objset_t *os, uint64_t object, uint64_t blkid)
{
	return ov_block_freed(os->overlay, object, blkid);
}

enum view_answer { VIEW_DIRTY, VIEW_ZEROS, VIEW_DISK };

/*
 * What block (object, blkid) is in the view readers and writers share:
 * the open txg's overlay above the syncing txg's above the disk.
 */
static enum view_answer view_lookup(const objset_t *os, uint64_t object, uint64_t blkid,
				    dirty_block_t **db)
{
	const struct dbuf_overlay *layers[2] = { os->overlay, os->syncing };
	for (int i = 0; i < 2; i++) {
		if (!layers[i])
			continue;
		if ((*db = ov_find_block(layers[i], object, blkid)) != NULL)
			return VIEW_DIRTY;
		if (ov_block_freed(layers[i], object, blkid))
			return VIEW_ZEROS;
	}
	return VIEW_DISK;
}

dirty_block_t *dbuf_view_block(const objset_t *os, uint64_t object, uint64_t blkid)
{
	dirty_block_t *db = NULL;
	return view_lookup(os, object, blkid, &db) == VIEW_DIRTY ? db : NULL;
}

static int zero_buf(uint64_t size, arc_buf_t **out)
{
	arc_buf_t *b = calloc(1, sizeof(*b));
	if (!b || !(b->data = calloc(1, size ? size : 1))) {
		free(b);
		return -ZFUSE_E_NOMEM;
	}
	b->size = size;
	b->refcount = 1;
	*out = b;
	return 0;
}

int dbuf_borrow(const dirty_block_t *db, arc_buf_t **out)
{
	arc_buf_t *b = calloc(1, sizeof(*b));
	if (!b)
		return -ZFUSE_E_NOMEM;
	b->data = db->data;
	b->size = db->size;
	b->refcount = 1;
	b->cached = ARC_BUF_BORROWED;
	*out = b;
	return 0;
}

int dbuf_overlay_hold(dnode_t *dn, uint64_t blkid, arc_buf_t **out)
{
	dirty_block_t *db = NULL;
	switch (view_lookup(dn->os, dn->object, blkid, &db)) {
	case VIEW_DIRTY:
		return dbuf_borrow(db, out);
	case VIEW_ZEROS:
		return zero_buf(dnode_datablksz(dn), out);
	default:
		return 1;
	}
}

int dbuf_dirty(dnode_t *dn, uint64_t blkid, dirty_block_t **out)
{
	return dbuf_dirty_range(dn, blkid, 0, 0, out);
}

/* Whether block blkid is a hole or freed: no need to read it. */
bool dbuf_reads_as_zeros(dnode_t *dn, uint64_t blkid)
{
	dirty_block_t *db;
	switch (view_lookup(dn->os, dn->object, blkid, &db)) {
	case VIEW_DIRTY:
		return false;
	case VIEW_ZEROS:
		return true;
	default:;
	}
	blkptr_t bp;
	return dnode_find_bp(dn, 0, blkid, &bp) == 0 && bp_is_hole(&bp) && !bp_is_embedded(&bp);
}

/* Fill a new dirty block with the block's current contents, except
 * [skip_off, skip_off + skip_len), which the caller overwrites. */
static int dbuf_fill(dnode_t *dn, uint64_t blkid, uint8_t *data, uint64_t size,
		     uint64_t skip_off, uint64_t skip_len, bool *was_read)
{
	if (skip_off == 0 && skip_len >= size)
		return 0;
	if (blkid <= dn->maxblkid && !dbuf_reads_as_zeros(dn, blkid)) {
		arc_buf_t *b;
		int rc = dbuf_hold(dn, 0, blkid, &b);
		if (rc)
			return rc;
		uint64_t have = b->size < size ? b->size : size;
		memcpy(data, b->data, have);
		if (have < size)
			memset(data + have, 0, size - have);
		dbuf_rele(dn, b);
		*was_read = true;
		return 0;
	}
	uint64_t skip_end = skip_off + skip_len > size ? size : skip_off + skip_len;
	memset(data, 0, skip_off);
	memset(data + skip_end, 0, size - skip_end);
	return 0;
}

int dbuf_dirty_range(dnode_t *dn, uint64_t blkid, uint64_t skip_off, uint64_t skip_len,
		     dirty_block_t **out)
{
	objset_t *os = dn->os;
	SPA_ASSERT_WRITER(os->spa);
	dirty_block_t *db = dbuf_find_block(os, dn->object, blkid);
	if (db) {
		db->mod_gen++;	/* an indirect log write's copy is stale now */
		*out = db;
		return 0;
	}
	uint64_t size = dnode_datablksz(dn);
	ASSERT(size % SPA_MINBLOCKSIZE == 0 && size <= SPA_MAXBLOCKSIZE);
	/* only the first block of a single-block object may be any multiple
	 * of 512; the blocks of a bigger object are one power-of-two size */
	ASSERT(blkid == 0 || dn->maxblkid == 0 || IS_P2(size));
	db = calloc(1, sizeof(*db));
	if (!db || !(db->data = zio_data_buf_alloc(size))) {
		free(db);
		return -ZFUSE_E_NOMEM;
	}
	db->object = dn->object;
	db->blkid = blkid;
	db->size = size;
	int rc = dbuf_fill(dn, blkid, db->data, size, skip_off, skip_len, &db->partial);
	if (rc) {
		zio_data_buf_free(db->data, size);
		free(db);
		return rc;
	}
	/* User accounting compares each dnode with what it was (dnode_sync.c). */
	if (dn->object == 0 && !(db->orig = malloc(size))) {
		zio_data_buf_free(db->data, size);
		free(db);
		return -ZFUSE_E_NOMEM;
	}
	if (db->orig)
		memcpy(db->orig, db->data, size);
	struct dbuf_overlay *ov = overlay_get(os);
	dirty_object_t *dobj = ov ? dbuf_dirty_object(os, dn->object) : NULL;
	if (!dobj) {
		free(db->orig);
		zio_data_buf_free(db->data, db->size);
		free(db);
		return -ZFUSE_E_NOMEM;
	}
	if (ov->nblocks >= ov->block_buckets * 2)
		grow_blocks(ov);
	uint64_t b = mix(db->object, blkid) & (ov->block_buckets - 1);
	db->hash_next = ov->block_hash[b];
	ov->block_hash[b] = db;
	db->obj_next = dobj->blocks;
	dobj->blocks = db;
	dobj->nblocks++;
	ov->nblocks++;
	ov->dirty_bytes += size;
	if (db->partial)
		ov->rewrite_bytes += size;
	*out = db;
	return 0;
}

/* A dirty block's data: the cache's once it adopted it after the write. */
static void dbuf_data_free(const struct dbuf_overlay *ov, dirty_block_t *db)
{
	if (db->cached)
		arc_release(ov->spa, db->cached);
	else
		zio_data_buf_free(db->data, db->size);
	db->cached = NULL;
	db->data = NULL;
}

void dbuf_undirty(objset_t *os, dirty_block_t *db)
{
	struct dbuf_overlay *ov = os->overlay;
	dirty_block_t **pp = &ov->block_hash[mix(db->object, db->blkid) & (ov->block_buckets - 1)];
	while (*pp && *pp != db)
		pp = &(*pp)->hash_next;
	if (*pp)
		*pp = db->hash_next;
	dirty_object_t *dobj = dbuf_find_object(os, db->object);
	if (dobj) {
		dirty_block_t **op = &dobj->blocks;
		while (*op && *op != db)
			op = &(*op)->obj_next;
		if (*op) {
			*op = db->obj_next;
			dobj->nblocks--;
		}
	}
	ov->nblocks--;
	ov->dirty_bytes -= db->size;
	if (db->partial)
		ov->rewrite_bytes -= db->size;
	dbuf_override_drop(db);
	dbuf_prep_free(db);
	free(db->orig);
	dbuf_data_free(ov, db);
	free(db);
}

int dbuf_resize(objset_t *os, dirty_block_t *db, uint64_t size)
{
	uint8_t *nd = zio_data_buf_alloc(size);
	if (!nd)
		return -ZFUSE_E_NOMEM;
	memcpy(nd, db->data, size < db->size ? size : db->size);
	dbuf_override_drop(db);
	db->mod_gen++;
	if (size > db->size)
		memset(nd + db->size, 0, size - db->size);
	dbuf_data_free(os->overlay, db);
	os->overlay->dirty_bytes += size - db->size;
	if (db->partial)
		os->overlay->rewrite_bytes += size - db->size;
	db->data = nd;
	db->size = size;
	return 0;
}

int dbuf_add_free_range(objset_t *os, uint64_t object, uint64_t first, uint64_t last)
{
	dirty_object_t *d = dbuf_dirty_object(os, object);
	if (!d)
		return -ZFUSE_E_NOMEM;
	/* Merge with every overlapping or adjacent range, then append. */
	for (uint64_t i = 0; i < d->nfrees;) {
		struct free_range *r = &d->frees[i];
		bool touches = !(r->last != UINT64_MAX && r->last + 1 < first) &&
			       !(last != UINT64_MAX && last + 1 < r->first);
		if (touches) {
			if (r->first < first)
				first = r->first;
			if (r->last > last)
				last = r->last;
			d->frees[i] = d->frees[--d->nfrees];
		} else {
			i++;
		}
	}
	if (d->nfrees == d->capfrees) {
		uint64_t nc = d->capfrees ? d->capfrees * 2 : 4;
		struct free_range *nf = realloc(d->frees, nc * sizeof(*nf));
		if (!nf)
			return -ZFUSE_E_NOMEM;
		d->frees = nf;
		d->capfrees = nc;
	}
	d->frees[d->nfrees++] = (struct free_range){ first, last };
	return 0;
}

static void overlay_free(struct dbuf_overlay *ov)
{
	if (!ov)
		return;
	dirty_object_t *d = ov->objects;
	while (d) {
		dirty_object_t *next = d->list_next;
		dirty_block_t *db = d->blocks;
		while (db) {
			dirty_block_t *bn = db->obj_next;
			dbuf_override_drop(db);
			dbuf_prep_free(db);
			free(db->orig);
			dbuf_data_free(ov, db);
			free(db);
			db = bn;
		}
		free(d->frees);
		free(d->freed_dnode);
		free(d);
		d = next;
	}
	free(ov->block_hash);
	free(ov->object_hash);
	free(ov);
}

void dbuf_overlay_free(struct dbuf_overlay *ov)
{
	overlay_free(ov);
}

void dbuf_overlay_clear(objset_t *os)
{
	overlay_free(os->overlay);
	os->overlay = NULL;
}

void dbuf_syncing_clear(objset_t *os)
{
	overlay_free(os->syncing);
	os->syncing = NULL;
}

uint64_t dbuf_dirty_bytes(const objset_t *os)
{
	return os->overlay ? os->overlay->dirty_bytes : 0;
}

uint64_t dbuf_syncing_rewrite_bytes(const objset_t *os)
{
	return os->syncing ? os->syncing->rewrite_bytes : 0;
}

uint64_t dbuf_syncing_bytes(const objset_t *os)
{
	return os->syncing ? os->syncing->dirty_bytes : 0;
}

int dbuf_hold(dnode_t *dn, int level, uint64_t blkid, arc_buf_t **out)
{
	if (level == 0 && (dn->os->overlay || dn->os->syncing)) {
		int dirty = dbuf_overlay_hold(dn, blkid, out);
		if (dirty <= 0)
			return dirty;	/* a dirty or freed block, or an error */
	}
	blkptr_t bp;
	int rc = dnode_find_bp(dn, level, blkid, &bp);
	if (rc)
		return rc;
	uint64_t want = level == 0 ? dnode_datablksz(dn) : 1ULL << dn->indblkshift;
	if (bp_is_hole(&bp) && !bp_is_embedded(&bp)) {
		arc_buf_t *b = calloc(1, sizeof(*b));
		if (!b || !(b->data = calloc(1, want))) {
			free(b);
			return -ZFUSE_E_NOMEM;
		}
		b->size = want;
		b->refcount = 1;
		*out = b;
		return 0;
	}
	rc = arc_read_key(dn->os->spa, &bp, dn->os->key, out);
	if (rc) {
		if (rc != -ZFUSE_E_NOMEM)
			spa_errlog_add(dn->os->spa, dn->os->dsobj, dn->object, level, blkid, rc);
		spa_log(dn->os->spa, ZFUSE_LOG_WARN,
			"cannot read object %llu level %d block %llu: %s",
			(unsigned long long)dn->object, level, (unsigned long long)blkid,
			zfuse_strerror(rc));
		return rc;
	}
	/* A block smaller than the dnode says (possible for the last block
	 * of a single-block object, never for indirects) is padded by callers
	 * through its size field; a larger one is corrupt. */
	if ((*out)->size > SPA_MAXBLOCKSIZE || (level > 0 && (*out)->size != want)) {
		arc_release(dn->os->spa, *out);
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	}
	return 0;
}

void dbuf_prep_free(dirty_block_t *db)
{
	if (db->prep) {
		zio_prepared_release(&db->prep->pr);
		free(db->prep);
		db->prep = NULL;
	}
}

bool dbuf_override_usable(const dirty_block_t *db)
{
	return db->override && db->override->ready && db->override->mod_gen == db->mod_gen;
}

void dbuf_override_drop(dirty_block_t *db)
{
	struct dbuf_override *ov = db->override;
	if (!ov)
		return;
	db->override = NULL;
	/* A synced txg has it in its tree or freed already; a failed sync
	 * left the pool read-only (nothing to free then). */
	spa_t *spa = ov->spa;
	if (spa->writable && ov->txg > spa->ub.ub_txg)
		zio_free_bp(spa, &ov->bp, ov->txg);
	free(ov);
}
