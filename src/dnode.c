/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dnode.c — objects and their block trees. A dnode's fields come from
 * untrusted disk, so dnode_decode checks every one that later code uses
 * to index memory (levels, block pointer count, bonus length, slot count)
 * before the dnode is handed out. Reads walk the tree top-down through
 * the block cache; a hole at any level reads as zeros.
 */
#include <stdlib.h>
#include <string.h>
#include "byteorder.h"
#include "dmu_byteswap.h"
#include "dmu_types.h"
#include "dbuf.h"
#include "dnode.h"
#include "dsl_crypt.h"
#include "spa_impl.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

int dnode_decode(dnode_t *dn, const uint8_t *raw, uint64_t avail)
{
	if (avail < DNODE_MIN_SIZE)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	dn->phys = raw;
	dn->type = raw[0];
	dn->indblkshift = raw[1];
	dn->nlevels = raw[2];
	dn->nblkptr = raw[3];
	dn->bonustype = raw[4];
	dn->checksum = raw[5];
	dn->compress = raw[6];
	dn->flags = raw[7];
	dn->datablkszsec = le16(raw + 8);
	dn->bonuslen = le16(raw + 10);
	dn->extra_slots = raw[12];
	dn->maxblkid = le64(raw + 16);
	dn->used = le64(raw + 24);
	dn->size = (uint64_t)(dn->extra_slots + 1) << DNODE_SHIFT;
	if (dn->type == DMU_OT_NONE)
		return -ZFUSE_E_NOENT;
	if (!dmu_ot_is_valid(dn->type) || dn->size > avail ||
	    dn->extra_slots >= DNODE_MAX_SLOTS)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	if (dn->nlevels < 1 || dn->nlevels > DN_MAX_LEVELS || dn->nblkptr < 1 ||
	    dn->nblkptr > DN_MAX_NBLKPTR)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	if (dn->nlevels > 1 && (dn->indblkshift < 9 || dn->indblkshift > 17))
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	if (dn->indblkshift > 17)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	if (dn->datablkszsec == 0 || ((uint64_t)dn->datablkszsec << 9) > SPA_MAXBLOCKSIZE)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	if (dn->bonuslen > dnode_bonus_capacity(dn))
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	return 0;
}

uint64_t dnode_bonus_capacity(const dnode_t *dn)
{
	uint64_t start = DNODE_CORE_SIZE + (uint64_t)dn->nblkptr * sizeof(blkptr_t);
	uint64_t end = dn->size - ((dn->flags & DNODE_FLAG_SPILL_BLKPTR) ? sizeof(blkptr_t) : 0);
	return end > start ? end - start : 0;
}

const uint8_t *dnode_bonus(const dnode_t *dn, uint64_t *len)
{
	*len = dn->bonuslen;
	return dn->phys + DNODE_CORE_SIZE + (uint64_t)dn->nblkptr * sizeof(blkptr_t);
}

int dnode_spill_bp(const dnode_t *dn, blkptr_t *bp)
{
	if (!(dn->flags & DNODE_FLAG_SPILL_BLKPTR))
		return -ZFUSE_E_NOENT;
	bp_load(bp, dn->phys + dn->size - sizeof(blkptr_t));
	return 0;
}

int dnode_spill_hold(dnode_t *dn, arc_buf_t **out)
{
	if (!(dn->flags & DNODE_FLAG_SPILL_BLKPTR))
		return -ZFUSE_E_NOENT;
	dirty_block_t *db = dbuf_view_block(dn->os, dn->object, DMU_SPILL_BLKID);
	if (db)
		return db->size ? dbuf_borrow(db, out) : -ZFUSE_E_NOENT;
	blkptr_t bp;
	if (dnode_spill_bp(dn, &bp) != 0 || bp_is_hole(&bp))
		return -ZFUSE_E_NOENT;
	return arc_read_key(dn->os->spa, &bp, dn->os->key, out);
}

void dnode_blkptr(const dnode_t *dn, int i, blkptr_t *bp)
{
	bp_load(bp, dn->phys + DNODE_CORE_SIZE + (uint64_t)i * sizeof(blkptr_t));
}

int dnode_find_bp(dnode_t *dn, int level, uint64_t blkid, blkptr_t *bp)
{
	memset(bp, 0, sizeof(*bp));
	if (level < 0 || level >= dn->nlevels)
		return -ZFUSE_E_INVAL;
	unsigned epbs = dn->indblkshift - 7;
	unsigned top_shift = epbs * (unsigned)(dn->nlevels - 1 - level);
	if (dn->nlevels - 1 == level) {
		if (blkid < dn->nblkptr)
			dnode_blkptr(dn, (int)blkid, bp);
		return 0;
	}
	if (top_shift < 64 && (blkid >> top_shift) >= dn->nblkptr)
		return 0;	/* beyond the tree: a hole */
	arc_buf_t *parent;
	int rc = dbuf_hold(dn, level + 1, blkid >> epbs, &parent);
	if (rc)
		return rc;
	uint64_t idx = blkid & ((1ULL << epbs) - 1);
	if ((idx + 1) * sizeof(blkptr_t) <= parent->size)
		bp_load(bp, (uint8_t *)parent->data + idx * sizeof(blkptr_t));
	dbuf_rele(dn, parent);
	return 0;
}

void dbuf_rele(dnode_t *dn, arc_buf_t *buf)
{
	arc_release(dn->os->spa, buf);
}

static int read_range(dnode_t *dn, uint64_t off, uint64_t len, void *out, bool uncached);

int dmu_read(dnode_t *dn, uint64_t off, uint64_t len, void *out)
{
	return read_range(dn, off, len, out, false);
}

int dmu_read_uncached(dnode_t *dn, uint64_t off, uint64_t len, void *out)
{
	return read_range(dn, off, len, out, true);
}

static int read_range(dnode_t *dn, uint64_t off, uint64_t len, void *out, bool uncached)
{
	uint64_t bs = dnode_datablksz(dn);
	uint8_t *dst = out;
	while (len > 0) {
		uint64_t blkid = off / bs, boff = off % bs;
		uint64_t n = bs - boff < len ? bs - boff : len;
		if (blkid > dn->maxblkid) {
			memset(dst, 0, len);
			return 0;
		}
		arc_buf_t *b;
		int rc = dbuf_hold(dn, 0, blkid, &b);
		if (rc)
			return rc;
		if (boff >= b->size) {
			memset(dst, 0, n);
		} else {
			uint64_t have = b->size - boff < n ? b->size - boff : n;
			memcpy(dst, (uint8_t *)b->data + boff, have);
			memset(dst + have, 0, n - have);
		}
		if (uncached && boff == 0 && n >= b->size)
			arc_release_uncached(dn->os->spa, b);
		else
			dbuf_rele(dn, b);
		dst += n;
		off += n;
		len -= n;
	}
	return 0;
}

uint64_t objset_max_object(const objset_t *os)
{
	const dnode_t *mdn = &os->meta_dnode;
	uint64_t per = dnode_datablksz(mdn) >> DNODE_SHIFT;
	uint64_t n = (mdn->maxblkid + 1) * per;
	return n > DN_MAX_OBJECT ? DN_MAX_OBJECT : n;
}

int dnode_hold(objset_t *os, uint64_t object, dnode_t *dn)
{
	memset(dn, 0, sizeof(*dn));
	dn->os = os;
	dn->object = object;
	if (dmu_object_is_special(object)) {
		int rc = dnode_decode(dn, os->phys + objset_special_offset(object), DNODE_MIN_SIZE);
		dn->os = os;
		dn->object = object;
		return rc;
	}
	if (object == 0 || object >= objset_max_object(os))
		return -ZFUSE_E_NOENT;
	dnode_t *mdn = &os->meta_dnode;
	uint64_t bs = dnode_datablksz(mdn);
	uint64_t byteoff = object << DNODE_SHIFT;
	arc_buf_t *b;
	int rc = dbuf_hold(mdn, 0, byteoff / bs, &b);
	if (rc)
		return rc;
	uint64_t inblk = byteoff % bs;
	if (inblk + DNODE_MIN_SIZE > b->size) {
		dbuf_rele(mdn, b);
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	}
	rc = dnode_decode(dn, (uint8_t *)b->data + inblk, b->size - inblk);
	dn->os = os;
	dn->object = object;
	if (rc) {
		dbuf_rele(mdn, b);
		return rc;
	}
	dn->buf = b;
	return 0;
}

void dnode_rele(dnode_t *dn)
{
	if (dn->buf) {
		arc_release(dn->os->spa, dn->buf);
		dn->buf = NULL;
	}
}

int objset_open(spa_t *spa, const blkptr_t *bp, objset_t **out)
{
	if (bp_is_hole(bp) || bp_get_type(bp) != DMU_OT_OBJSET)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	objset_t *os = calloc(1, sizeof(*os));
	if (!os)
		return -ZFUSE_E_NOMEM;
	os->spa = spa;
	os->bp = *bp;
	arc_buf_t *b;
	int rc = arc_read(spa, bp, &b);
	if (rc) {
		free(os);
		return rc;
	}
	if (b->size < 1024) {
		arc_release(spa, b);
		free(os);
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	}
	memcpy(os->phys, b->data, b->size < OBJSET_PHYS_SIZE ? b->size : OBJSET_PHYS_SIZE);
	os->phys_size = b->size;
	arc_release(spa, b);
	os->type = le64(os->phys + 704);
	os->flags = le64(os->phys + 712);
	rc = dnode_decode(&os->meta_dnode, os->phys, DNODE_MIN_SIZE);
	os->meta_dnode.os = os;
	if (rc || os->meta_dnode.type != DMU_OT_DNODE) {
		free(os);
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	}
	*out = os;
	return 0;
}

int objset_reload(objset_t *os, const blkptr_t *bp)
{
	objset_t *fresh;
	int rc = objset_open(os->spa, bp, &fresh);
	if (rc)
		return rc;
	os->bp = fresh->bp;
	memcpy(os->phys, fresh->phys, OBJSET_PHYS_SIZE);
	os->phys_size = fresh->phys_size;
	os->type = fresh->type;
	os->flags = fresh->flags;
	objset_close(fresh);
	/* The meta-dnode points into phys: decoded from our own copy. */
	int rc2 = dnode_decode(&os->meta_dnode, os->phys, DNODE_MIN_SIZE);
	os->meta_dnode.os = os;
	os->alloc_cursor = 0;
	return rc2;
}

void objset_close(objset_t *os)
{
	if (!os)
		return;
	dsl_crypt_key_rele(os->spa, os->key);
	free(os);
}

/* ---- byte order -------------------------------------------------------- */

/* One dnode of the other byte order: its core, block pointers, bonus
 * buffer (by the bonus type's class, over all the room it may use) and
 * spill pointer. A free slot is zeroed, as OpenZFS does. Single-byte
 * fields read the same either way, which is what makes the layout
 * decidable before the swap. */
void dnode_byteswap(uint8_t *dnp, size_t avail)
{
	if (avail < DNODE_MIN_SIZE)
		return;
	if (dnp[0] == DMU_OT_NONE) {
		memset(dnp, 0, DNODE_MIN_SIZE);
		return;
	}
	unsigned nblkptr = dnp[3], bonustype = dnp[4], flags = dnp[7];
	uint64_t size = (uint64_t)(dnp[12] + 1) << DNODE_SHIFT;
	if (size > avail)
		size = avail;
	bswap16_at(dnp + 8);	/* datablkszsec */
	bswap16_at(dnp + 10);	/* bonuslen */
	bswap64_at(dnp + 16);	/* maxblkid */
	bswap64_at(dnp + 24);	/* used */
	if (nblkptr > DN_MAX_NBLKPTR)
		nblkptr = DN_MAX_NBLKPTR;
	uint64_t bonus = DNODE_CORE_SIZE + (uint64_t)nblkptr * sizeof(blkptr_t);
	byteswap_uint64_array(dnp + DNODE_CORE_SIZE, bonus - DNODE_CORE_SIZE);
	uint64_t end = size - ((flags & DNODE_FLAG_SPILL_BLKPTR) ? sizeof(blkptr_t) : 0);
	if (le16(dnp + 10) != 0 && end > bonus)
		dmu_ot_byteswap_block(dmu_ot_byteswap(bonustype), dnp + bonus, end - bonus);
	if (flags & DNODE_FLAG_SPILL_BLKPTR)
		byteswap_uint64_array(dnp + size - sizeof(blkptr_t), sizeof(blkptr_t));
}

void dnode_buf_byteswap(void *buf, size_t size)
{
	uint8_t *p = buf;
	for (size_t i = 0; i + DNODE_MIN_SIZE <= size;) {
		uint8_t *dnp = p + i;
		bool used = dnp[0] != DMU_OT_NONE;
		unsigned slots = used ? dnp[12] + 1u : 1u;
		dnode_byteswap(dnp, size - i);
		i += (size_t)slots << DNODE_SHIFT;
	}
}
