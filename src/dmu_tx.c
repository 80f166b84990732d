/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dmu_tx.c — changing objects in the open txg (contract in dmu_tx.h).
 *
 * Everything here edits the dirty overlay only. Two rules keep readers
 * right while the on-disk tree is still the old one: a dnode's block
 * pointers and dn_nlevels are never touched before sync (they must keep
 * describing the tree on disk), and dn_maxblkid is raised as soon as a
 * block beyond it is dirtied (so reads look for it). Sync recomputes the
 * levels, used bytes and pointers from the overlay.
 */
#include <stdlib.h>
#include <string.h>
#include "byteorder.h"
#include "dbuf.h"
#include "dmu_tx.h"
#include "dmu_types.h"
#include "metaslab_class.h"
#include "spa_lock.h"
#include "spa_misc.h"
#include "txg.h"
#include "zfuse/errors.h"

#define DNODES_PER_BLOCK_SHIFT 5	/* 16 KiB meta-dnode blocks hold 32 slots */
#define DN_OFF_TYPE 0
#define DN_OFF_INDBLKSHIFT 1
#define DN_OFF_NLEVELS 2
#define DN_OFF_NBLKPTR 3
#define DN_OFF_BONUSTYPE 4
#define DN_OFF_CHECKSUM 5
#define DN_OFF_COMPRESS 6
#define DN_OFF_FLAGS 7
#define DN_OFF_DATABLKSZSEC 8
#define DN_OFF_BONUSLEN 10
#define DN_OFF_EXTRA_SLOTS 12
#define DN_OFF_MAXBLKID 16
#define DN_OFF_USED 24
#define DEFAULT_INDBLKSHIFT 17
#ifndef SPA_OLD_MAXBLOCKSIZE
#define SPA_OLD_MAXBLOCKSIZE (128ULL << 10)
#endif

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

int dmu_tx_begin(spa_t *spa, dmu_tx_t *tx)
{
	SPA_ASSERT_NOT_HELD(spa);
	if (!spa->writable)
		return -ZFUSE_E_ROFS;
	txg_throttle(spa);
	spa_enter_write(spa);
	if (!spa->writable) {
		spa_exit(spa);
		return -ZFUSE_E_ROFS;
	}
	tx->spa = spa;
	tx->txg = spa->open_txg;
	return 0;
}

void dmu_tx_commit(dmu_tx_t *tx)
{
	txg_note_dirty(tx->spa);
	spa_exit(tx->spa);
	txg_kick(tx->spa);
}

/* ---- dnodes in the overlay ---------------------------------------------- */

/* Raise the meta-dnode's maxblkid so that object's slots exist. */
static void meta_dnode_cover(objset_t *os, uint64_t object, unsigned slots)
{
	dnode_t *mdn = &os->meta_dnode;
	uint64_t per = dnode_datablksz(mdn) >> DNODE_SHIFT;
	uint64_t need = (object + slots - 1) / per;
	if (need > mdn->maxblkid) {
		put_le64(os->phys + DN_OFF_MAXBLKID, need);
		dnode_redecode(mdn);
	}
}

/*
 * The raw bytes of an object's dnode slot in the overlay (the meta-dnode
 * block holding it is dirtied). slots: how many slots the caller will
 * touch (1 for existing dnodes: their size is read from the slot).
 */
static int dnode_slot_dirty(objset_t *os, uint64_t object, unsigned slots, uint8_t **raw,
			    dirty_block_t **dbp)
{
	if (dmu_object_is_special(object)) {
		if (slots != 1)
			return -ZFUSE_E_INVAL;
		*raw = os->phys + objset_special_offset(object);
		if (dbp)
			*dbp = NULL;
		return dbuf_dirty_object(os, object) ? 0 : -ZFUSE_E_NOMEM;
	}
	if (object == 0 || object >= DN_MAX_OBJECT)
		return -ZFUSE_E_INVAL;
	meta_dnode_cover(os, object, slots);
	dnode_t *mdn = &os->meta_dnode;
	uint64_t bs = dnode_datablksz(mdn);
	uint64_t off = object << DNODE_SHIFT;
	dirty_block_t *db;
	int rc = dbuf_dirty(mdn, off / bs, &db);
	if (rc)
		return rc;
	if (off % bs + ((uint64_t)slots << DNODE_SHIFT) > db->size)
		return -ZFUSE_E_INVAL;
	*raw = db->data + off % bs;
	if (dbp)
		*dbp = db;
	return 0;
}

int dnode_dirty_raw(objset_t *os, uint64_t object, uint8_t **raw)
{
	return dnode_slot_dirty(os, object, 1, raw, NULL);
}

void dnode_redecode(dnode_t *dn)
{
	objset_t *os = dn->os;
	uint64_t object = dn->object;
	arc_buf_t *buf = dn->buf;
	if (dn == &os->meta_dnode)
		dnode_decode(dn, os->phys, DNODE_MIN_SIZE);
	else
		dnode_decode(dn, dn->phys, (uint64_t)(dn->phys[DN_OFF_EXTRA_SLOTS] + 1) << DNODE_SHIFT);
	dn->os = os;
	dn->object = object;
	dn->buf = buf;
}

int dnode_hold_dirty(objset_t *os, uint64_t object, dmu_tx_t *tx, dnode_t *dn)
{
	(void)tx;
	memset(dn, 0, sizeof(*dn));
	int rc = dnode_hold(os, object, dn);	/* validates; reads the overlay */
	if (rc)
		return rc;
	dnode_rele(dn);
	uint8_t *raw;
	if ((rc = dnode_slot_dirty(os, object, 1, &raw, NULL)) != 0)
		return rc;
	/* Re-hold: the dnode now lives in the dirty block. */
	return dnode_hold(os, object, dn);
}

/* ---- object allocation ---------------------------------------------------- */

static unsigned slots_for(unsigned dnodesize)
{
	if (dnodesize == 0)
		dnodesize = DNODE_MIN_SIZE;
	return (dnodesize + DNODE_MIN_SIZE - 1) / DNODE_MIN_SIZE;
}

static unsigned nblkptr_for(unsigned slots, unsigned bonuslen)
{
	uint64_t room = ((uint64_t)slots << DNODE_SHIFT) - DNODE_CORE_SIZE;
	uint64_t n = (room - bonuslen) / sizeof(blkptr_t);
	if (n > DN_MAX_NBLKPTR)
		n = DN_MAX_NBLKPTR;
	return n ? (unsigned)n : 1;
}

static void dnode_init_raw(uint8_t *raw, unsigned slots, unsigned type, uint64_t blksz,
			   unsigned bonustype, unsigned bonuslen)
{
	memset(raw, 0, (size_t)slots << DNODE_SHIFT);
	if (blksz == 0)
		blksz = SPA_MINBLOCKSIZE;
	blksz = (blksz + SPA_MINBLOCKSIZE - 1) & ~(SPA_MINBLOCKSIZE - 1);
	raw[DN_OFF_TYPE] = (uint8_t)type;
	raw[DN_OFF_INDBLKSHIFT] = DEFAULT_INDBLKSHIFT;
	raw[DN_OFF_NLEVELS] = 1;
	raw[DN_OFF_NBLKPTR] = (uint8_t)nblkptr_for(slots, bonuslen);
	raw[DN_OFF_BONUSTYPE] = (uint8_t)bonustype;
	raw[DN_OFF_FLAGS] = DNODE_FLAG_USED_BYTES;
	put_le16(raw + DN_OFF_DATABLKSZSEC, (uint16_t)(blksz >> SPA_MINBLOCKSHIFT));
	put_le16(raw + DN_OFF_BONUSLEN, (uint16_t)bonuslen);
	raw[DN_OFF_EXTRA_SLOTS] = (uint8_t)(slots - 1);
}

/* Whether slots [object, object+slots) are free in the overlay view. */
static int slots_free(objset_t *os, uint64_t object, unsigned slots, bool *free_out)
{
	*free_out = false;
	if (dmu_object_is_special(object)) {
		*free_out = os->phys[objset_special_offset(object)] == DMU_OT_NONE;
		return 0;
	}
	uint64_t per = dnode_datablksz(&os->meta_dnode) >> DNODE_SHIFT;
	if ((object % per) + slots > per)
		return 0;	/* a dnode never crosses a meta-dnode block */
	if (object >= objset_max_object(os)) {
		*free_out = true;
		return 0;
	}
	/* Walk the block's dnodes so interior slots of big dnodes count as used. */
	uint64_t first = object - object % per;
	arc_buf_t *b;
	int rc = dbuf_hold(&os->meta_dnode, 0, first / per, &b);
	if (rc)
		return rc;
	const uint8_t *base = b->data;
	uint64_t i = 0;
	bool ok = true;
	while (i < per && i < object % per + slots) {
		const uint8_t *d = base + (i << DNODE_SHIFT);
		uint64_t n = d[DN_OFF_TYPE] ? (uint64_t)d[DN_OFF_EXTRA_SLOTS] + 1 : 1;
		if (d[DN_OFF_TYPE] && i + n > object % per && i < object % per + slots)
			ok = false;
		i += n;
	}
	dbuf_rele(&os->meta_dnode, b);
	/* A slot freed in this txg is not reused before the free is synced. */
	for (uint64_t o = object; ok && o < object + slots; o++) {
		dirty_object_t *d = dbuf_find_object(os, o);
		if (d && d->freed_dnode)
			ok = false;
	}
	*free_out = ok;
	return 0;
}

int dmu_object_claim(objset_t *os, uint64_t object, unsigned type, uint64_t blksz,
		     unsigned bonustype, unsigned bonuslen, unsigned dnodesize, dmu_tx_t *tx)
{
	(void)tx;
	unsigned slots = slots_for(dnodesize);
	if (slots > DNODE_MAX_SLOTS || !dmu_ot_is_valid(type) || object == 0 ||
	    (dmu_object_is_special(object) && os->type != DMU_OST_ZFS))
		return -ZFUSE_E_INVAL;
	if (bonuslen > ((uint64_t)slots << DNODE_SHIFT) - DNODE_CORE_SIZE - sizeof(blkptr_t))
		return -ZFUSE_E_INVAL;
	bool ok;
	int rc = slots_free(os, object, slots, &ok);
	if (rc)
		return rc;
	if (!ok)
		return -ZFUSE_E_EXIST;
	uint8_t *raw;
	if ((rc = dnode_slot_dirty(os, object, slots, &raw, NULL)) != 0)
		return rc;
	dnode_init_raw(raw, slots, type, blksz, bonustype, bonuslen);
	/* A reused number must not inherit the old object's pending frees. */
	dirty_object_t *d = dbuf_find_object(os, object);
	if (d)
		d->nfrees = 0;
	return 0;
}

int dmu_object_alloc(objset_t *os, unsigned type, uint64_t blksz, unsigned bonustype,
		     unsigned bonuslen, unsigned dnodesize, dmu_tx_t *tx, uint64_t *object)
{
	if (os->replay_object) {
		/* A replayed create takes the logged number and slots. */
		uint64_t obj = os->replay_object;
		unsigned dnsize = os->replay_dnodesize ? os->replay_dnodesize : dnodesize;
		os->replay_object = 0;
		int rc = dmu_object_claim(os, obj, type, blksz, bonustype, bonuslen, dnsize, tx);
		if (rc == 0)
			*object = obj;
		return rc;
	}
	unsigned slots = slots_for(dnodesize);
	if (slots > DNODE_MAX_SLOTS)
		return -ZFUSE_E_INVAL;
	uint64_t per = dnode_datablksz(&os->meta_dnode) >> DNODE_SHIFT;
	/* Scan up from the cursor; past the allocated range every slot is
	 * free, so the scan always ends. */
	for (uint64_t obj = os->alloc_cursor ? os->alloc_cursor : 1;;) {
		if (slots > 1 && obj % slots)
			obj += slots - obj % slots;
		if ((obj % per) + slots > per) {
			obj += per - obj % per;
			continue;
		}
		if (obj + slots > DN_MAX_OBJECT)
			return -ZFUSE_E_NOSPC;
		bool ok;
		int rc = slots_free(os, obj, slots, &ok);
		if (rc)
			return rc;
		/* A number freed in a txg that has not synced is not reused
		 * (OpenZFS's dn_free_txg): an intent log may hold its removal
		 * and a create of the same number, which replay could not
		 * follow. (Datasets only: MOS numbering stays as it was.) */
		for (unsigned i = 0; ok && os->dsobj && i < slots; i++) {
			const dirty_object_t *d = dbuf_overlay_find_object(os->overlay, obj + i);
			const dirty_object_t *e = dbuf_overlay_find_object(os->syncing, obj + i);
			ok = !(d && d->freed_dnode) && !(e && e->freed_dnode);
		}
		if (ok) {
			rc = dmu_object_claim(os, obj, type, blksz, bonustype, bonuslen, dnodesize, tx);
			if (rc == 0) {
				*object = obj;
				os->alloc_cursor = obj + slots;
			}
			return rc;
		}
		obj++;
	}
}

int dmu_object_free(objset_t *os, uint64_t object, dmu_tx_t *tx)
{
	(void)tx;
	dnode_t dn;
	int rc = dnode_hold(os, object, &dn);
	if (rc)
		return rc;
	uint64_t size = dn.size;
	dnode_rele(&dn);
	uint8_t *raw;
	if ((rc = dnode_slot_dirty(os, object, 1, &raw, NULL)) != 0)
		return rc;
	dirty_object_t *d = dbuf_dirty_object(os, object);
	if (!d)
		return -ZFUSE_E_NOMEM;
	/* Drop the open txg's blocks; keep the on-disk tree for sync to free. */
	while (d->blocks)
		dbuf_undirty(os, d->blocks);
	d->nfrees = 0;
	if (!d->freed_dnode) {
		if (!(d->freed_dnode = malloc(size)))
			return -ZFUSE_E_NOMEM;
		memcpy(d->freed_dnode, raw, size);
		d->freed_dnode_size = size;
	}
	memset(raw, 0, size);
	if (object < os->alloc_cursor)
		os->alloc_cursor = object;
	return 0;
}

/* ---- dnode properties ------------------------------------------------------ */

int dmu_object_set_blocksize(objset_t *os, uint64_t object, uint64_t blksz, dmu_tx_t *tx)
{
	dnode_t dn;
	int rc = dnode_hold_dirty(os, object, tx, &dn);
	if (rc)
		return rc;
	blksz = (blksz + SPA_MINBLOCKSIZE - 1) & ~(SPA_MINBLOCKSIZE - 1);
	if (blksz == 0 || blksz > SPA_MAXBLOCKSIZE || dn.maxblkid > 0) {
		dnode_rele(&dn);
		return -ZFUSE_E_INVAL;
	}
	if (blksz == dnode_datablksz(&dn)) {
		dnode_rele(&dn);
		return 0;
	}
	/* Keep the single block's contents: dirty it at the old size first. */
	dirty_block_t *db = NULL;
	bool has_data = !dbuf_reads_as_zeros(&dn, 0);
	if (has_data && (rc = dbuf_dirty(&dn, 0, &db)) != 0) {
		dnode_rele(&dn);
		return rc;
	}
	put_le16((uint8_t *)dn.phys + DN_OFF_DATABLKSZSEC, (uint16_t)(blksz >> SPA_MINBLOCKSHIFT));
	dnode_rele(&dn);
	if (db)
		rc = dbuf_resize(os, db, blksz);
	/* The old on-disk block (any size) is replaced at sync. */
	if (rc == 0 && has_data && !dbuf_find_object(os, object))
		rc = -ZFUSE_E_NOMEM;
	return rc;
}

static int set_dnode_byte(objset_t *os, uint64_t object, unsigned off, unsigned v, dmu_tx_t *tx)
{
	dnode_t dn;
	int rc = dnode_hold_dirty(os, object, tx, &dn);
	if (rc)
		return rc;
	((uint8_t *)dn.phys)[off] = (uint8_t)v;
	dnode_rele(&dn);
	return 0;
}

int dmu_object_set_compress(objset_t *os, uint64_t object, unsigned compress, dmu_tx_t *tx)
{
	return set_dnode_byte(os, object, DN_OFF_COMPRESS, compress, tx);
}

int dmu_bonus_write(objset_t *os, uint64_t object, const void *buf, uint64_t len, dmu_tx_t *tx)
{
	dnode_t dn;
	int rc = dnode_hold_dirty(os, object, tx, &dn);
	if (rc)
		return rc;
	if (len > dnode_bonus_capacity(&dn)) {
		dnode_rele(&dn);
		return -ZFUSE_E_RANGE;
	}
	uint64_t old;
	uint8_t *bonus = (uint8_t *)dnode_bonus(&dn, &old);
	memcpy(bonus, buf, len);
	if (old > len)
		memset(bonus + len, 0, old - len);
	put_le16((uint8_t *)dn.phys + DN_OFF_BONUSLEN, (uint16_t)len);
	dnode_rele(&dn);
	return 0;
}

/* ---- space ----------------------------------------------------------------- */

/*
 * Whether len more dirty bytes of os fit. The open txg's dirty data is
 * charged at its allocated size (RAID-Z parity, copies) plus an eighth for
 * the indirect and dnode blocks above it, on top of what the space maps
 * hold. File data may not eat into the slop space; metadata changes (which
 * is what deletes are) may use half of it; the other half is left for the
 * sync's own blocks, so a sync never runs out of space.
 */
static int space_check(objset_t *os, unsigned type, uint64_t len)
{
	spa_t *spa = os->spa;
	if (os == spa->mos || !spa->ms)
		return 0;
	uint64_t ratio = 1;	/* worst asize/psize over the top-level vdevs, rounded up */
	for (uint64_t i = 0; i < spa->root->nchild; i++) {
		vdev_t *top = spa->root->child[i];
		if (top->kind == VDEV_KIND_HOLE)
			continue;
		uint64_t a = vdev_psize_to_asize(top, 1ULL << 17);
		uint64_t r = (a + (1ULL << 17) - 1) >> 17;
		if (r > ratio)
			ratio = r;
	}
	/* copies of the data, plus an eighth for the blocks above it */
	uint64_t dirty = txg_dirty_bytes(spa);
	uint64_t inflate = ratio * (os->copies ? os->copies : 1);
	uint64_t space = metaslab_class_space(spa);
	uint64_t used = metaslab_class_alloc(spa) + metaslab_class_deferred(spa) +
			dirty * inflate + dirty / 8;
	uint64_t slop = spa_slop_space(spa);
	bool data = type == DMU_OT_PLAIN_FILE_CONTENTS || type == DMU_OT_ZVOL;
	uint64_t limit = space > slop ? space - (data ? slop : slop / 2) : 0;
	if (used + len * inflate + len / 8 > limit)
		return -ZFUSE_E_NOSPC;
	return 0;
}

/* ---- data ------------------------------------------------------------------ */

int dmu_write(objset_t *os, uint64_t object, uint64_t off, uint64_t len, const void *buf,
	      dmu_tx_t *tx)
{
	if (len == 0)
		return 0;
	if (off + len < off)
		return -ZFUSE_E_FBIG;
	dnode_t dn;
	int rc = dnode_hold_dirty(os, object, tx, &dn);
	if (rc)
		return rc;
	if ((rc = space_check(os, dn.type, len)) != 0) {
		dnode_rele(&dn);
		return rc;
	}
	uint64_t bs = dnode_datablksz(&dn);
	uint64_t last = (off + len - 1) / bs;
	if (last > dn.maxblkid) {
		put_le64((uint8_t *)dn.phys + DN_OFF_MAXBLKID, last);
		dnode_redecode(&dn);
	}
	const uint8_t *src = buf;
	while (len > 0 && rc == 0) {
		uint64_t blkid = off / bs, boff = off % bs;
		uint64_t n = bs - boff < len ? bs - boff : len;
		dirty_block_t *db;
		rc = dbuf_dirty_range(&dn, blkid, boff, n, &db);
		if (rc == 0) {
			memcpy(db->data + boff, src, n);
			src += n;
			off += n;
			len -= n;
		}
	}
	dnode_rele(&dn);
	return rc;
}

int dmu_free_range(objset_t *os, uint64_t object, uint64_t off, uint64_t len, dmu_tx_t *tx)
{
	dnode_t dn;
	int rc = dnode_hold_dirty(os, object, tx, &dn);
	if (rc)
		return rc;
	uint64_t bs = dnode_datablksz(&dn);
	bool to_end = len == UINT64_MAX || off + len < off || off + len >= (dn.maxblkid + 1) * bs;
	uint64_t end = to_end ? (dn.maxblkid + 1) * bs : off + len;
	if (off >= end) {
		dnode_rele(&dn);
		return 0;
	}
	/* Partial first and last blocks are zeroed in place. */
	uint64_t first_whole = (off + bs - 1) / bs;
	uint64_t end_whole = end / bs;	/* exclusive */
	if (off % bs) {
		uint64_t blkid = off / bs;
		uint64_t stop = (blkid + 1) * bs < end ? (blkid + 1) * bs : end;
		dirty_block_t *db;
		if ((rc = dbuf_dirty(&dn, blkid, &db)) == 0)
			memset(db->data + off % bs, 0, stop - off);
	}
	if (rc == 0 && end % bs && end / bs >= first_whole && !to_end) {
		uint64_t blkid = end / bs;
		dirty_block_t *db;
		if ((rc = dbuf_dirty(&dn, blkid, &db)) == 0)
			memset(db->data, 0, end % bs);
	}
	if (rc == 0 && to_end)
		end_whole = dn.maxblkid + 1;
	if (rc == 0 && first_whole < end_whole) {
		dirty_object_t *d = dbuf_dirty_object(os, object);
		if (!d) {
			rc = -ZFUSE_E_NOMEM;
		} else {
			for (dirty_block_t *db = d->blocks, *next; db; db = next) {
				next = db->obj_next;
				if (db->blkid >= first_whole && db->blkid < end_whole)
					dbuf_undirty(os, db);
			}
			rc = dbuf_add_free_range(os, object, first_whole,
						 to_end ? UINT64_MAX : end_whole - 1);
		}
	}
	if (rc == 0 && to_end) {
		uint64_t newmax = first_whole ? first_whole - 1 : 0;
		if (newmax < dn.maxblkid)
			put_le64((uint8_t *)dn.phys + DN_OFF_MAXBLKID, newmax);
	}
	dnode_rele(&dn);
	return rc;
}

int dmu_read_object(objset_t *os, uint64_t object, uint64_t off, uint64_t len, void *buf)
{
	dnode_t dn;
	int rc = dnode_hold(os, object, &dn);
	if (rc)
		return rc;
	rc = dmu_read(&dn, off, len, buf);
	dnode_rele(&dn);
	return rc;
}

int dmu_spill_write(objset_t *os, uint64_t object, const void *buf, uint64_t len, dmu_tx_t *tx)
{
	if (len > SPA_OLD_MAXBLOCKSIZE)
		return -ZFUSE_E_RANGE;
	dnode_t dn;
	int rc = dnode_hold_dirty(os, object, tx, &dn);
	if (rc)
		return rc;
	uint8_t *raw = (uint8_t *)dn.phys;
	uint8_t *slot = raw + dn.size - sizeof(blkptr_t);
	dirty_object_t *d = dbuf_dirty_object(os, object);
	if (!d) {
		dnode_rele(&dn);
		return -ZFUSE_E_NOMEM;
	}
	bool had = dn.flags & DNODE_FLAG_SPILL_BLKPTR;
	dirty_block_t *db = dbuf_find_block(os, object, DMU_SPILL_BLKID);
	if (len == 0) {
		/* The on-disk spill bp is killed at sync; its bytes become bonus. */
		if (had && !d->has_dropped_spill) {
			bp_load(&d->dropped_spill, slot);
			d->has_dropped_spill = !bp_is_hole(&d->dropped_spill);
		}
		raw[DN_OFF_FLAGS] &= (uint8_t)~DNODE_FLAG_SPILL_BLKPTR;
		memset(slot, 0, sizeof(blkptr_t));
		if (db)
			dbuf_undirty(os, db);
		dnode_rele(&dn);
		return 0;
	}
	if (!had) {
		memset(slot, 0, sizeof(blkptr_t));
		raw[DN_OFF_FLAGS] |= DNODE_FLAG_SPILL_BLKPTR;
	}
	uint64_t size = (len + SPA_MINBLOCKSIZE - 1) & ~(SPA_MINBLOCKSIZE - 1);
	dnode_redecode(&dn);
	if (!db) {
		/* A block of its own, keyed as the spill: dbuf_dirty would size it
		 * by the data block size, so build it here. */
		uint64_t save_max = dn.maxblkid;
		dn.maxblkid = 0;	/* nothing to read from disk for this id */
		rc = dbuf_dirty(&dn, DMU_SPILL_BLKID, &db);
		dn.maxblkid = save_max;
	}
	if (rc == 0)
		rc = dbuf_resize(os, db, size);
	if (rc == 0) {
		memcpy(db->data, buf, len);
		memset(db->data + len, 0, size - len);
	}
	dnode_rele(&dn);
	return rc;
}
