/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dnode_sync.c — one object set's overlay becomes blocks, bottom-up.
 *
 * For each dirty object, in this order: its pending frees are applied to
 * the on-disk tree as it is (old geometry), then the tree grows levels if
 * the object grew past what its levels address, then dirty level-0 blocks
 * are written, then every indirect block on a changed path is rewritten,
 * level by level, and finally the dnode's pointers, levels and used bytes
 * are stored. Indirect blocks on changed paths live in a small per-object
 * table while this happens. Objects go first, the meta-dnode (object 0,
 * whose level-0 blocks are the dnodes just updated) last, then the objset
 * block itself.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "byteorder.h"
#include "dbuf.h"
#include "dmu_objset.h"
#include "dmu_tx.h"
#include "dmu_types.h"
#include "zap.h"
#include "zfeature.h"
#include "spa_misc.h"
#include "taskq.h"
#include "zio_compress.h"
#include "zio_crypt.h"
#include "zio_write.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define DN_OFF_NLEVELS 2
#define DN_OFF_NBLKPTR 3
#define DN_OFF_FLAGS 7
#define DN_OFF_MAXBLKID 16
#define DN_OFF_USED 24
#define DN_OFF_BLKPTR 64
#define SYNC_PASS_DONT_COMPRESS 8
#define OBJSET_PHYS_SIZE_V3 4096

struct ind {
	int level;
	uint64_t blkid;
	uint8_t *data;		/* 1 << indblkshift bytes of bps */
};

struct obj_sync {
	spa_t *spa;
	objset_t *os;
	uint64_t txg;
	int pass;
	const struct os_write_policy *pol;
	const struct os_sync_owner *owner;
	struct zio_write_queue *defer;	/* only for prepared level-0 blocks */
	/* the object being synced */
	uint64_t object;
	unsigned type, nblkptr, epbs, indblkshift, top_levels;
	uint64_t datablksz;
	blkptr_t top[DN_MAX_NBLKPTR];
	int64_t used_delta;
	struct ind *inds;
	size_t ninds, capinds;
};

static inline uint64_t bp_fill(const blkptr_t *bp)
{
	if (bp_is_hole(bp))
		return 0;
	if (bp_is_encrypted(bp))
		return bp->blk_fill & UINT32_MAX;	/* IV bits above */
	return bp_is_embedded(bp) ? 1 : bp->blk_fill;
}

/* ---- block birth and death -------------------------------------------- */

static int kill_bp(struct obj_sync *s, const blkptr_t *bp, bool rewritten)
{
	if (bp_is_hole(bp))
		return 0;
	s->used_delta -= (int64_t)spa_bp_dsize(s->spa, bp);
	return s->owner->kill(s->owner->arg, bp, rewritten);
}

static void born_bp(struct obj_sync *s, const blkptr_t *bp)
{
	if (bp_is_hole(bp))
		return;
	s->used_delta += (int64_t)spa_bp_dsize(s->spa, bp);
	s->owner->born(s->owner->arg, bp);
}

/* Kill a whole subtree: bp and, for indirect blocks, everything below. */
static int kill_tree(struct obj_sync *s, const blkptr_t *bp)
{
	if (bp_is_hole(bp) || bp_is_embedded(bp))
		return kill_bp(s, bp, false);
	if (bp_get_level(bp) > 0) {
		arc_buf_t *b;
		int rc = arc_read(s->spa, bp, &b);
		if (rc)
			return rc;
		uint64_t n = b->size / sizeof(blkptr_t);
		for (uint64_t i = 0; i < n && rc == 0; i++) {
			blkptr_t child;
			bp_load(&child, (uint8_t *)b->data + i * sizeof(blkptr_t));
			rc = kill_tree(s, &child);
		}
		arc_release(s->spa, b);
		if (rc)
			return rc;
	}
	return kill_bp(s, bp, false);
}

/* ---- the table of indirect blocks on changed paths ------------------------ */

static struct ind *ind_find(struct obj_sync *s, int level, uint64_t blkid)
{
	for (size_t i = s->ninds; i-- > 0;)
		if (s->inds[i].level == level && s->inds[i].blkid == blkid)
			return &s->inds[i];
	return NULL;
}

static int ind_add(struct obj_sync *s, int level, uint64_t blkid, struct ind **out)
{
	if (s->ninds == s->capinds) {
		size_t nc = s->capinds ? s->capinds * 2 : 16;
		struct ind *ni = realloc(s->inds, nc * sizeof(*ni));
		if (!ni)
			return -ZFUSE_E_NOMEM;
		s->inds = ni;
		s->capinds = nc;
	}
	struct ind *ind = &s->inds[s->ninds];
	ind->level = level;
	ind->blkid = blkid;
	if (!(ind->data = calloc(1, 1ULL << s->indblkshift)))
		return -ZFUSE_E_NOMEM;
	s->ninds++;
	*out = ind;
	return 0;
}

static int bp_slot(struct obj_sync *s, int level, uint64_t blkid, blkptr_t **slot);

/* The indirect block (level, blkid), loaded from disk on first use. */
static int ind_get(struct obj_sync *s, int level, uint64_t blkid, struct ind **out)
{
	struct ind *ind = ind_find(s, level, blkid);
	if (ind) {
		*out = ind;
		return 0;
	}
	blkptr_t *slot;
	int rc = bp_slot(s, level, blkid, &slot);
	if (rc)
		return rc;
	blkptr_t bp = *slot;
	/* bp_slot may have grown the table: find our place after it. */
	if ((rc = ind_add(s, level, blkid, &ind)) != 0)
		return rc;
	if (!bp_is_hole(&bp)) {
		arc_buf_t *b;
		if ((rc = arc_read(s->spa, &bp, &b)) != 0)
			return rc;
		if (b->size != 1ULL << s->indblkshift) {
			arc_release(s->spa, b);
			return SET_ERROR(-ZFUSE_E_CORRUPT);
		}
		memcpy(ind->data, b->data, b->size);
		arc_release(s->spa, b);
	}
	*out = ind;
	return 0;
}

/*
 * Where the bp of block (level, blkid) is kept: the dnode's top array or
 * an entry of the parent indirect block (loaded, so it will be rewritten).
 * The pointer is valid until the next ind_add.
 */
static int bp_slot(struct obj_sync *s, int level, uint64_t blkid, blkptr_t **slot)
{
	if ((unsigned)level == s->top_levels - 1) {
		if (blkid >= s->nblkptr)
			return SET_ERROR(-ZFUSE_E_CORRUPT);
		*slot = &s->top[blkid];
		return 0;
	}
	struct ind *parent;
	int rc = ind_get(s, level + 1, blkid >> s->epbs, &parent);
	if (rc)
		return rc;
	uint64_t idx = blkid & ((1ULL << s->epbs) - 1);
	*slot = (blkptr_t *)(void *)(parent->data + idx * sizeof(blkptr_t));
	return 0;
}

/* ---- frees ------------------------------------------------------------------ */

static uint64_t span_shift(const struct obj_sync *s, int level)
{
	uint64_t sh = (uint64_t)s->epbs * (uint64_t)level;
	return sh > 63 ? 63 : sh;
}

static int free_in(struct obj_sync *s, int level, uint64_t blkid, uint64_t first, uint64_t last)
{
	uint64_t sh = span_shift(s, level);
	uint64_t lo = blkid << sh;
	uint64_t hi = ((blkid + 1) << sh) - 1;
	if (sh >= 63)
		hi = UINT64_MAX;
	if (hi < first || lo > last)
		return 0;
	blkptr_t *slot;
	int rc = bp_slot(s, level, blkid, &slot);
	if (rc)
		return rc;
	if (bp_is_hole(slot))
		return 0;
	if ((first <= lo && last >= hi) || level == 0) {
		blkptr_t old = *slot;
		if ((rc = kill_tree(s, &old)) != 0)
			return rc;
		/* bp_slot again: kill_tree does not touch the table, but be exact. */
		if ((rc = bp_slot(s, level, blkid, &slot)) != 0)
			return rc;
		uint64_t lsize = level == 0 ? bp_get_lsize(&old) : 1ULL << s->indblkshift;
		zio_hole_bp(slot, s->type, (unsigned)level, lsize, s->pol->hole_birth ? s->txg : 0);
		return 0;
	}
	uint64_t per = 1ULL << s->epbs;
	for (uint64_t c = 0; c < per && rc == 0; c++)
		rc = free_in(s, level - 1, (blkid << s->epbs) + c, first, last);
	return rc;
}

static int apply_frees(struct obj_sync *s, const dirty_object_t *d)
{
	int rc = 0;
	for (uint64_t r = 0; r < d->nfrees && rc == 0; r++)
		for (uint64_t i = 0; i < s->nblkptr && rc == 0; i++)
			rc = free_in(s, (int)s->top_levels - 1, i, d->frees[r].first, d->frees[r].last);
	return rc;
}

/* ---- writing ----------------------------------------------------------------- */

static unsigned dnode_block_fill(const uint8_t *data, uint64_t size)
{
	unsigned n = 0;
	for (uint64_t off = 0; off + DNODE_MIN_SIZE <= size;) {
		const uint8_t *d = data + off;
		if (d[0]) {
			n++;
			off += ((uint64_t)d[12] + 1) << DNODE_SHIFT;
		} else {
			off += DNODE_MIN_SIZE;
		}
	}
	return n;
}

void dnode_write_props(const struct os_write_policy *p, unsigned type, unsigned dn_checksum,
		       unsigned dn_compress, int level, int pass, struct zio_write_props *zp)
{
	bool meta = level > 0 || dmu_ot_is_metadata(type) || p->is_mos;
	memset(zp, 0, sizeof(*zp));
	zp->type = type;
	zp->level = (unsigned)level;
	if (meta) {
		zp->compress = p->meta_compress;
		zp->checksum = p->meta_checksum;
		zp->copies = p->is_mos ? SPA_DVAS_PER_BP : p->copies + 1;
	} else {
		zp->compress = dn_compress ? dn_compress : p->data_compress;
		zp->complevel = p->data_complevel;
		zp->checksum = dn_checksum ? dn_checksum : p->data_checksum;
		zp->copies = p->copies;
	}
	if (zp->copies > SPA_DVAS_PER_BP)
		zp->copies = SPA_DVAS_PER_BP;
	if (pass >= SYNC_PASS_DONT_COMPRESS)
		zp->compress = ZIO_COMPRESS_OFF;
	zp->embed = p->embed && level == 0 && type != DMU_OT_DNODE && type != DMU_OT_OBJSET;
	if (p->encrypted) {
		/* OpenZFS's dmu_write_policy for encrypted objsets: no embedding;
		 * encrypted types keep DVA[2] for salt and IV; level-0 dnode and
		 * objset blocks are only tested for zeros, never compressed
		 * (their MACs cover parts in place). */
		zp->key = p->key;
		zp->embed = false;
		if (dmu_ot_is_encrypted(type) && zp->copies > SPA_DVAS_PER_BP - 1)
			zp->copies = SPA_DVAS_PER_BP - 1;
		if (level == 0 && (type == DMU_OT_DNODE || type == DMU_OT_OBJSET))
			zp->compress = ZIO_COMPRESS_OFF;
	}
	zp->zero_is_hole = zp->compress != ZIO_COMPRESS_OFF || level > 0 || type == DMU_OT_DNODE;
}

static void props_for(const struct obj_sync *s, unsigned dn_checksum, unsigned dn_compress,
		      int level, struct zio_write_props *zp)
{
	dnode_write_props(s->pol, s->type, dn_checksum, dn_compress, level, s->pass, zp);
}

/* Write one prepared block into *slot, killing what it replaces. */
static int write_prepared_into(struct obj_sync *s, const struct zio_write_props *zp,
			       const struct zio_prepared *pr, uint64_t lsize, uint64_t fill, blkptr_t *slot)
{
	blkptr_t old = *slot, nbp;
	bool rewrote;
	int rc = zio_write_prepared(s->spa, s->txg, zp, pr, lsize, &old, &nbp, &rewrote, s->defer);
	if (rc)
		return rc;
	if (bp_is_encrypted(&nbp))
		nbp.blk_fill = (nbp.blk_fill & ~(uint64_t)UINT32_MAX) | fill;
	else if (!bp_is_hole(&nbp) && !bp_is_embedded(&nbp))
		nbp.blk_fill = fill;
	if ((rc = kill_bp(s, &old, rewrote)) != 0)
		return rc;
	born_bp(s, &nbp);
	*slot = nbp;
	return 0;
}

/* Write one block into *slot, killing what it replaces. */
static int write_into(struct obj_sync *s, const struct zio_write_props *zp, const void *data,
		      uint64_t lsize, uint64_t fill, blkptr_t *slot)
{
	struct zio_prepared pr;
	int rc = zio_write_prepare(s->spa, zp, data, lsize, &pr);
	if (rc == 0)
		rc = write_prepared_into(s, zp, &pr, lsize, fill, slot);
	zio_prepared_release(&pr);
	return rc;
}

/* ---- the CPU half of writing, on every core ---------------------------- */

static void prep_job(void *arg, uint64_t i)
{
	struct dmu_prep_batch *p = arg;
	dirty_block_t *db = p->jobs[i];
	db->prep->rc = zio_write_prepare(p->spa, &db->prep->zp, db->data, db->size, &db->prep->pr);
	if (db->partial) {
		db->prep->pr.cache = db->data;
		db->prep->pr.cache_hold = &db->cached;
	}
}

/* Add the dirty data blocks of the objects in v that are not prepared yet. */
static int prep_collect(struct obj_sync *s, dirty_object_t **v, uint64_t n, struct dmu_prep_batch *b)
{
	uint64_t total = b->njobs;
	for (uint64_t i = 0; i < n; i++)
		total += v[i]->nblocks;
	if (total > b->cap) {
		dirty_block_t **nj = realloc(b->jobs, total * sizeof(*nj));
		if (!nj)
			return -ZFUSE_E_NOMEM;	/* the serial path does the same work */
		b->jobs = nj;
		b->cap = total;
	}
	b->spa = s->spa;
	for (uint64_t i = 0; i < n; i++) {
		dnode_t dn;
		if (!v[i]->nblocks || dnode_hold(s->os, v[i]->object, &dn) != 0)
			continue;
		s->type = dn.type;
		struct zio_write_props zp;
		props_for(s, dn.checksum, dn.compress, 0, &zp);
		for (dirty_block_t *db = v[i]->blocks; db; db = db->obj_next) {
			if (db->blkid > dn.maxblkid || db->prep || dbuf_override_usable(db) ||
			    !(db->prep = calloc(1, sizeof(*db->prep))))
				continue;
			db->prep->zp = zp;
			b->jobs[b->njobs++] = db;
		}
		dnode_rele(&dn);
	}
	return 0;
}

void dmu_prep_run(struct dmu_prep_batch *b)
{
	taskq_run(b->njobs, prep_job, b);
	b->njobs = 0;
}

void dmu_prep_batch_free(struct dmu_prep_batch *b)
{
	free(b->jobs);
	memset(b, 0, sizeof(*b));
}

/*
 * Compress and checksum every dirty data block of the objects in v at once
 * on all cores; sync_object then only allocates and writes them.
 */
static void prepare_blocks(struct obj_sync *s, dirty_object_t **v, uint64_t n)
{
	struct dmu_prep_batch b = { 0 };
	if (prep_collect(s, v, n, &b) == 0)
		dmu_prep_run(&b);
	dmu_prep_batch_free(&b);
}

static int ind_cmp(const void *a, const void *b)
{
	const struct ind *x = a, *y = b;
	if (x->level != y->level)
		return x->level < y->level ? -1 : 1;
	return x->blkid < y->blkid ? -1 : x->blkid > y->blkid;
}

static int db_cmp(const void *a, const void *b)
{
	const dirty_block_t *x = *(dirty_block_t *const *)a, *y = *(dirty_block_t *const *)b;
	return x->blkid < y->blkid ? -1 : x->blkid > y->blkid;
}

static unsigned levels_needed(uint64_t maxblkid, unsigned nblkptr, unsigned epbs, unsigned cur)
{
	unsigned l = cur ? cur : 1;
	while (l < DN_MAX_LEVELS) {
		uint64_t sh = (uint64_t)epbs * (l - 1);
		if (sh < 64 && ((uint64_t)nblkptr << sh) >> sh == nblkptr &&
		    maxblkid < ((uint64_t)nblkptr << sh))
			break;
		if (sh >= 64)
			break;
		l++;
	}
	return l;
}

/*
 * Sync one object whose dnode bytes are raw (in a dirty meta-dnode block,
 * or the objset's own copy for the meta-dnode).
 */
static int sync_object(struct obj_sync *s, dirty_object_t *d, uint8_t *raw)
{
	dnode_t dn;
	int rc = dnode_decode(&dn, raw, ((uint64_t)raw[12] + 1) << DNODE_SHIFT);
	if (rc == -ZFUSE_E_NOENT)
		return 0;	/* freed in this txg: its old tree was handled */
	if (rc)
		return rc;
	s->type = dn.type;
	s->nblkptr = dn.nblkptr;
	s->indblkshift = dn.indblkshift ? dn.indblkshift : 17;
	s->epbs = s->indblkshift - 7;
	s->datablksz = dnode_datablksz(&dn);
	s->top_levels = dn.nlevels;
	s->used_delta = 0;
	s->ninds = 0;
	for (unsigned i = 0; i < dn.nblkptr; i++)
		dnode_blkptr(&dn, (int)i, &s->top[i]);

	/* 1. frees, on the tree as it is on disk */
	if ((rc = apply_frees(s, d)) != 0)
		goto out;

	/* 2. more levels: the old top pointers move into a new indirect block */
	unsigned want = levels_needed(dn.maxblkid, dn.nblkptr, s->epbs, dn.nlevels);
	if (want > s->top_levels) {
		struct ind *ind;
		if ((rc = ind_add(s, (int)s->top_levels, 0, &ind)) != 0)
			goto out;
		for (unsigned i = 0; i < s->nblkptr; i++)
			bp_store(ind->data + i * sizeof(blkptr_t), &s->top[i]);
		for (unsigned l = s->top_levels + 1; l < want; l++)
			if ((rc = ind_add(s, (int)l, 0, &ind)) != 0)
				goto out;
		memset(s->top, 0, sizeof(s->top));
		s->top_levels = want;
	}

	/* 3. level-0 blocks, in block order */
	if (d->nblocks) {
		dirty_block_t **v = malloc(d->nblocks * sizeof(*v));
		if (!v) {
			rc = -ZFUSE_E_NOMEM;
			goto out;
		}
		uint64_t n = 0;
		for (dirty_block_t *db = d->blocks; db; db = db->obj_next)
			v[n++] = db;
		qsort(v, n, sizeof(*v), db_cmp);
		struct zio_write_props zp;
		props_for(s, dn.checksum, dn.compress, 0, &zp);
		for (uint64_t i = 0; i < n && rc == 0; i++) {
			bool adopt = dbuf_override_usable(v[i]);
			if (!adopt)
				dbuf_override_drop(v[i]);	/* changed since, or not flushed */
			if (v[i]->blkid > dn.maxblkid) {
				dbuf_override_drop(v[i]);
				continue;	/* beyond a later truncation; also the spill */
			}
			blkptr_t *slot;
			if ((rc = bp_slot(s, 0, v[i]->blkid, &slot)) != 0)
				break;
			if (adopt) {
				/* An indirect log write put these very contents on
				 * disk already (dmu_sync.c): its bp goes in. */
				blkptr_t old = *slot;
				if ((rc = kill_bp(s, &old, false)) != 0)
					break;
				born_bp(s, &v[i]->override->bp);
				*slot = v[i]->override->bp;
				free(v[i]->override);
				v[i]->override = NULL;
				continue;
			}
			uint64_t fill = s->type == DMU_OT_DNODE ? dnode_block_fill(v[i]->data, v[i]->size) : 1;
			if (v[i]->prep && v[i]->prep->rc == 0) {
				s->defer = s->pol->defer;
				rc = write_prepared_into(s, &v[i]->prep->zp, &v[i]->prep->pr, v[i]->size, fill, slot);
				s->defer = NULL;
			} else {
				rc = write_into(s, &zp, v[i]->data, v[i]->size, fill, slot);
			}
			/* A queued write still needs the prepared payload. */
			if (!s->pol->defer)
				dbuf_prep_free(v[i]);
		}
		free(v);
		if (rc)
			goto out;
	}

	/* 3b. the spill block: given up, or written in its slot */
	if (d->has_dropped_spill) {
		if ((rc = kill_tree(s, &d->dropped_spill)) != 0)
			goto out;
		d->has_dropped_spill = false;
	}
	dirty_block_t *spill = dbuf_find_block(s->os, d->object, DMU_SPILL_BLKID);
	if (spill && spill->size && (dn.flags & DNODE_FLAG_SPILL_BLKPTR)) {
		blkptr_t slot;
		uint8_t *where = raw + dn.size - sizeof(blkptr_t);
		bp_load(&slot, where);
		unsigned type = s->type;
		s->type = dn.bonustype;
		struct zio_write_props zp;
		props_for(s, dn.checksum, dn.compress, 0, &zp);
		zp.zero_is_hole = false;
		rc = write_into(s, &zp, spill->data, spill->size, 1, &slot);
		s->type = type;
		if (rc)
			goto out;
		bp_store(where, &slot);
	}

	/* 4. indirect blocks, lowest level first; parents are already in the
	 * table because loading a child loaded its parent. */
	if (s->ninds)
		qsort(s->inds, s->ninds, sizeof(*s->inds), ind_cmp);
	for (size_t i = 0; i < s->ninds && rc == 0; i++) {
		struct ind *ind = &s->inds[i];
		uint64_t fill = 0, per = 1ULL << s->epbs;
		for (uint64_t c = 0; c < per; c++) {
			blkptr_t child;
			bp_load(&child, ind->data + c * sizeof(blkptr_t));
			fill += bp_fill(&child);
		}
		struct zio_write_props zp;
		props_for(s, dn.checksum, dn.compress, ind->level, &zp);
		/* The parent is already loaded (or is the top array), so bp_slot
		 * does not grow the table while ind points into it. */
		blkptr_t *slot;
		if ((rc = bp_slot(s, ind->level, ind->blkid, &slot)) != 0)
			break;
		rc = write_into(s, &zp, ind->data, 1ULL << s->indblkshift, fill, slot);
	}
	if (rc)
		goto out;

	/* 5. the dnode */
	raw[DN_OFF_NLEVELS] = (uint8_t)s->top_levels;
	raw[DN_OFF_FLAGS] |= DNODE_FLAG_USED_BYTES;
	for (unsigned i = 0; i < s->nblkptr; i++)
		bp_store(raw + DN_OFF_BLKPTR + i * sizeof(blkptr_t), &s->top[i]);
	int64_t used = (int64_t)le64(raw + DN_OFF_USED) + s->used_delta;
	put_le64(raw + DN_OFF_USED, used > 0 ? (uint64_t)used : 0);
out:
	for (size_t i = 0; i < s->ninds; i++)
		free(s->inds[i].data);
	s->ninds = 0;
	return rc;
}

/* Free the whole on-disk tree of an object freed in this txg, with a spill
 * block given up before the free (the freed dnode no longer points at it;
 * a new object in the same slot has nothing to do with it). */
static int sync_freed_object(struct obj_sync *s, dirty_object_t *d)
{
	dnode_t dn;
	int rc = dnode_decode(&dn, d->freed_dnode, d->freed_dnode_size);
	if (rc == -ZFUSE_E_NOENT)
		return 0;
	if (rc)
		return rc;
	s->type = dn.type;
	for (unsigned i = 0; i < dn.nblkptr && rc == 0; i++) {
		blkptr_t bp;
		dnode_blkptr(&dn, (int)i, &bp);
		rc = kill_tree(s, &bp);
	}
	blkptr_t spill;
	if (rc == 0 && dnode_spill_bp(&dn, &spill) == 0)
		rc = kill_tree(s, &spill);
	if (rc == 0 && d->has_dropped_spill) {
		rc = kill_tree(s, &d->dropped_spill);
		d->has_dropped_spill = false;
	}
	return rc;
}

/* ---- user and group space accounting (object-layer.md §10) ------------------ */

#define DNODE_FLAG_USERUSED_ACCOUNTED 0x2
#define DNODE_FLAG_USEROBJUSED_ACCOUNTED 0x8
#define BONUS_ZNODE 17
#define BONUS_SA 44
#define SA_MAGIC_LE 0x2F505A
#define SA_UID_OFFSET 24
#define SA_GID_OFFSET 32
#define SA_FLAGS_OFFSET 48
#define SA_PROJID_OFFSET 128
#define ZFS_PROJID 0x800000000000ULL
#define ZNODE_UID_OFFSET 128
#define ZNODE_GID_OFFSET 136
#define DMU_OT_USERGROUP_USED 39
#define USERQUOTA_MAX_IDS 4096

struct id_delta {
	uint64_t obj, id;	/* obj: DMU_{USER,GROUP,PROJECT}USED_OBJECT */
	bool objcount;		/* the "obj-<id>" object count, not bytes */
	int64_t delta;
};

struct id_deltas {
	struct id_delta *v;
	size_t n, cap;
	bool userobj;		/* userobj_accounting enabled: object counts too */
	bool project;		/* project_quota enabled: projectused too */
};

static int id_charge(struct id_deltas *d, uint64_t obj, uint64_t id, bool objcount, int64_t delta)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].obj == obj && d->v[i].id == id && d->v[i].objcount == objcount) {
			d->v[i].delta += delta;
			return 0;
		}
	if (d->n == d->cap) {
		size_t nc = d->cap ? d->cap * 2 : 16;
		struct id_delta *nv = realloc(d->v, nc * sizeof(*nv));
		if (!nv)
			return -ZFUSE_E_NOMEM;
		d->v = nv;
		d->cap = nc;
	}
	d->v[d->n++] = (struct id_delta){ obj, id, objcount, delta };
	return 0;
}

struct zpl_owner {
	uint64_t uid, gid, projid;
};

/* Owner of a ZPL object from its bonus, as OpenZFS reads it: the ZPL SA
 * layouts always begin MODE SIZE GEN UID GID PARENT FLAGS ... and PROJID
 * sits at a fixed place when the ZFS_PROJID flag says it is there. */
static bool zpl_owner(const dnode_t *dn, struct zpl_owner *o)
{
	uint64_t len;
	const uint8_t *b = dnode_bonus(dn, &len);
	o->projid = 0;
	if (dn->bonustype == BONUS_SA) {
		if (len < 8 || (le64(b) & 0xffffffffULL) != SA_MAGIC_LE)
			return false;
		uint64_t hdr = ((le64(b) >> 32 >> 10) & 0x3f) << 3;
		if (hdr + SA_FLAGS_OFFSET + 8 > len)
			return false;
		o->uid = le64(b + hdr + SA_UID_OFFSET);
		o->gid = le64(b + hdr + SA_GID_OFFSET);
		if ((le64(b + hdr + SA_FLAGS_OFFSET) & ZFS_PROJID) && hdr + SA_PROJID_OFFSET + 8 <= len)
			o->projid = le64(b + hdr + SA_PROJID_OFFSET);
		return true;
	}
	if (dn->bonustype == BONUS_ZNODE && len >= ZNODE_GID_OFFSET + 8) {
		o->uid = le64(b + ZNODE_UID_OFFSET);
		o->gid = le64(b + ZNODE_GID_OFFSET);
		return true;
	}
	return false;
}

static int charge_owner(struct id_deltas *d, const struct zpl_owner *o, int64_t bytes, int64_t objs)
{
	int rc = id_charge(d, DMU_USERUSED_OBJECT, o->uid, false, bytes);
	if (rc == 0)
		rc = id_charge(d, DMU_GROUPUSED_OBJECT, o->gid, false, bytes);
	if (rc == 0 && d->project)
		rc = id_charge(d, DMU_PROJECTUSED_OBJECT, o->projid, false, bytes);
	if (rc == 0 && objs) {
		rc = id_charge(d, DMU_USERUSED_OBJECT, o->uid, true, objs);
		if (rc == 0)
			rc = id_charge(d, DMU_GROUPUSED_OBJECT, o->gid, true, objs);
		if (rc == 0 && d->project)
			rc = id_charge(d, DMU_PROJECTUSED_OBJECT, o->projid, true, objs);
	}
	return rc;
}

/* Charge (sign) every accounted dnode of a dnode block; with mark, set the
 * ACCOUNTED flags on every allocated dnode first (the new contents). */
static int charge_block(struct id_deltas *d, uint8_t *blk, uint64_t size, int sign, bool mark)
{
	for (uint64_t off = 0; off + DNODE_MIN_SIZE <= size;) {
		uint8_t *raw = blk + off;
		if (raw[0] == DMU_OT_NONE) {
			off += DNODE_MIN_SIZE;
			continue;
		}
		uint64_t dsize = ((uint64_t)raw[12] + 1) << DNODE_SHIFT;
		if (mark) {
			raw[7] |= DNODE_FLAG_USERUSED_ACCOUNTED;
			if (d->userobj)
				raw[7] |= DNODE_FLAG_USEROBJUSED_ACCOUNTED;
		}
		dnode_t dn;
		struct zpl_owner o;
		if ((raw[7] & DNODE_FLAG_USERUSED_ACCOUNTED) &&
		    dnode_decode(&dn, raw, size - off) == 0 && zpl_owner(&dn, &o)) {
			int64_t bytes = sign * (int64_t)(DNODE_MIN_SIZE + le64(raw + DN_OFF_USED));
			int64_t objs = (raw[7] & DNODE_FLAG_USEROBJUSED_ACCOUNTED) ? sign : 0;
			int rc = charge_owner(d, &o, bytes, objs);
			if (rc)
				return rc;
		}
		off += dsize;
	}
	return 0;
}

static int apply_id_delta(objset_t *os, const struct id_delta *e, dmu_tx_t *tx)
{
	if (e->delta == 0)
		return 0;
	dnode_t dn;
	int rc = dnode_hold(os, e->obj, &dn);
	if (rc == -ZFUSE_E_NOENT) {
		if ((rc = zap_create_claim(os, e->obj, DMU_OT_USERGROUP_USED, DMU_OT_NONE, 0, tx)) != 0)
			return rc;
		rc = dnode_hold(os, e->obj, &dn);
	}
	if (rc)
		return rc;
	char key[32];
	snprintf(key, sizeof(key), "%s%llx", e->objcount ? "obj-" : "", (unsigned long long)e->id);
	uint64_t cur = 0;
	rc = zap_lookup_uint64(&dn, key, &cur);
	dnode_rele(&dn);
	if (rc && rc != -ZFUSE_E_NOENT)
		return rc;
	int64_t now = (int64_t)cur + e->delta;
	if (now == 0)
		return rc == 0 ? zap_remove(os, e->obj, key, tx) : 0;
	return zap_update_uint64(os, e->obj, key, (uint64_t)now, tx);
}

/*
 * After the objects of a filesystem objset are written (their dnodes
 * final but for the flags), charge the change of every dnode in the dirty
 * dnode blocks to the userused/groupused(/projectused) ZAPs.
 */
static int userquota_sync(objset_t *os, uint64_t txg)
{
	dirty_object_t *meta = dbuf_find_object(os, 0);
	if (!meta || os->type != DMU_OST_ZFS || os->spa->version < 15)
		return 0;
	struct id_deltas d = { 0 };
	d.userobj = zfeature_is_enabled(os->spa, "org.zfsonlinux:userobj_accounting");
	d.project = zfeature_is_enabled(os->spa, "org.zfsonlinux:project_quota");
	int rc = 0;
	for (dirty_block_t *db = meta->blocks; db && rc == 0; db = db->obj_next) {
		if (db->orig)
			rc = charge_block(&d, db->orig, db->size, -1, false);
		if (rc == 0)
			rc = charge_block(&d, db->data, db->size, 1, true);
	}
	dmu_tx_t tx = { os->spa, txg };
	for (size_t i = 0; i < d.n && rc == 0; i++)
		rc = apply_id_delta(os, &d.v[i], &tx);
	free(d.v);
	return rc;
}

/* The data objects of os's overlay (not the meta-dnode or special objects). */
static dirty_object_t **data_objects(objset_t *os, uint64_t *n)
{
	uint64_t cap = 0;
	for (dirty_object_t *d = os->overlay->objects; d; d = d->list_next)
		cap++;
	dirty_object_t **v = malloc((cap ? cap : 1) * sizeof(*v));
	*n = 0;
	if (!v)
		return NULL;
	for (dirty_object_t *d = os->overlay->objects; d; d = d->list_next)
		if (d->object != 0 && !dmu_object_is_special(d->object))
			v[(*n)++] = d;
	return v;
}

int dmu_objset_prepare_collect(objset_t *os, uint64_t txg, const struct os_write_policy *pol,
			       struct dmu_prep_batch *batch)
{
	if (!os->overlay)
		return 0;
	struct obj_sync s = { .spa = os->spa, .os = os, .txg = txg, .pass = 1, .pol = pol };
	uint64_t n;
	dirty_object_t **v = data_objects(os, &n);
	if (!v)
		return -ZFUSE_E_NOMEM;
	int rc = prep_collect(&s, v, n, batch);
	free(v);
	return rc;
}

int dmu_objset_sync(objset_t *os, uint64_t txg, int pass, const struct os_write_policy *pol,
		    const struct os_sync_owner *owner)
{
	struct obj_sync s = { .spa = os->spa, .os = os, .txg = txg, .pass = pass, .pol = pol,
			      .owner = owner };
	int rc = 0;
	/* Without its key nothing of an encrypted objset is written but its
	 * block with a new intent log header (a claim), which the objset MACs
	 * leave out: that block is written raw, MACs as they were. */
	if (pol->encrypted && !pol->key && os->overlay && os->overlay->nobjects > 0)
		return SET_ERROR(-ZFUSE_E_ACCESS);
	if (!os->overlay)
		goto write_root;
	/* Objects other than the meta-dnode: collect first, since syncing
	 * them dirties meta-dnode blocks (new records at the list head). */
	uint64_t n;
	dirty_object_t **v = data_objects(os, &n);
	if (!v)
		return -ZFUSE_E_NOMEM;
	prepare_blocks(&s, v, n);
	for (uint64_t i = 0; i < n && rc == 0; i++) {
		dirty_object_t *d = v[i];
		s.object = d->object;
		if (d->freed_dnode && (rc = sync_freed_object(&s, d)) != 0)
			break;
		if (d->nblocks == 0 && d->nfrees == 0 && !d->has_dropped_spill)
			continue;	/* only its dnode changed: the block is dirty already */
		uint8_t *raw;
		if ((rc = dnode_dirty_raw(os, d->object, &raw)) != 0)
			break;
		rc = sync_object(&s, d, raw);
	}
	free(v);
	if (rc == 0)
		rc = userquota_sync(os, txg);
	if (rc) {
		free(s.inds);
		return rc;
	}
	/* The accounting objects, whose dnodes live in the objset block. */
	for (uint64_t sp = DMU_PROJECTUSED_OBJECT; rc == 0 && sp != 0; sp++) {
		dirty_object_t *d = dbuf_find_object(os, sp);
		if (d && (d->nblocks || d->nfrees)) {
			s.object = sp;
			rc = sync_object(&s, d, os->phys + objset_special_offset(sp));
		}
	}
	/* The meta-dnode: its level-0 blocks are the dnode blocks. */
	dirty_object_t *meta = rc ? NULL : dbuf_find_object(os, 0);
	if (meta) {
		s.object = 0;
		rc = sync_object(&s, meta, os->phys);
		dnode_redecode(&os->meta_dnode);
	}
	free(s.inds);
	s.inds = NULL;
	s.capinds = 0;
	if (rc)
		return rc;
write_root:;
	/* The objset block: OpenZFS 2.x always writes the 4 KiB form. */
	os->phys_size = OBJSET_PHYS_SIZE_V3;
	struct zio_write_props zp;
	s.type = DMU_OT_OBJSET;
	props_for(&s, 0, 0, 0, &zp);
	zp.embed = false;
	zp.zero_is_hole = false;
	zp.crypt_raw = pol->encrypted && !pol->key;
	uint64_t fill = 0;
	for (unsigned i = 0; i < os->meta_dnode.nblkptr; i++) {
		blkptr_t bp;
		dnode_blkptr(&os->meta_dnode, (int)i, &bp);
		fill += bp_fill(&bp);
	}
	blkptr_t root = os->bp;
	if (pol->key && (rc = zio_crypt_objset_sign(pol->key, os->phys, os->phys_size)) != 0)
		return rc;
	rc = write_into(&s, &zp, os->phys, os->phys_size, fill, &root);
	if (rc)
		return rc;
	os->bp = root;
	if (!pol->defer)
		dbuf_overlay_clear(os);	/* else kept until its writes are done */
	return 0;
}
