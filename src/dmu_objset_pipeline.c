/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dmu_objset_pipeline.c — one object set in two txgs at once: the one
 * being synced and the open one that writers keep changing meanwhile.
 *
 * At quiesce the open overlay becomes the syncing overlay (read below the
 * new open one, changed by nobody) and a copy of the objset block is kept
 * as the txg closed it. The sync runs in the exclusive phase with that
 * state swapped in, so the sync code sees exactly one txg, as before.
 *
 * Afterwards the open txg is rebased onto what the sync wrote. The open
 * txg never touches the fields a sync owns (block pointers, levels, used
 * bytes, the accounting flags: dmu_tx.c's rule), and the sync touches
 * nothing else, so for every bit of a dnode the sync's value wins where
 * the sync changed it and the open txg's value everywhere else. Two cases
 * are not field-wise: an object freed in the open txg (its slots belong to
 * the open txg; the tree its free must release is the synced one) and a
 * spill block dropped in the open txg (the bp to release is the synced
 * one; the slot's bytes are bonus now).
 */
#include <stdlib.h>
#include <string.h>
#include "byteorder.h"
#include "dbuf.h"
#include "dmu_objset.h"
#include "dmu_tx.h"
#include "dsl.h"
#include "spa_impl.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"
#include "zil_log.h"

#define DN_OFF_FLAGS 7
#define DN_OFF_EXTRA_SLOTS 12

void dmu_objset_quiesce(objset_t *os, struct os_in_sync *e)
{
	e->os = os;
	memcpy(e->closed_phys, os->phys, OBJSET_PHYS_SIZE);
	os->header_dirty = false;
	os->syncing = os->overlay;
	os->overlay = NULL;
	e->open_ov = NULL;
}

void dmu_objset_sync_begin(struct os_in_sync *e)
{
	objset_t *os = e->os;
	memcpy(e->open_phys, os->phys, OBJSET_PHYS_SIZE);
	memcpy(os->phys, e->closed_phys, OBJSET_PHYS_SIZE);
	e->open_ov = os->overlay;
	os->overlay = os->syncing;
	os->syncing = NULL;
	dnode_redecode(&os->meta_dnode);
}

/* open := the sync's bits where it changed closed, open's bits elsewhere. */
static void merge_bits(uint8_t *open, const uint8_t *closed, const uint8_t *synced, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		uint8_t changed = (uint8_t)(synced[i] ^ closed[i]);
		open[i] = (uint8_t)((open[i] & ~changed) | (synced[i] & changed));
	}
}

static uint64_t dnode_bytes(const uint8_t *raw, uint64_t room)
{
	uint64_t n = raw[0] ? ((uint64_t)raw[DN_OFF_EXTRA_SLOTS] + 1) << DNODE_SHIFT : DNODE_MIN_SIZE;
	return n > room ? room : n;
}

/* Rebase one dnode of the open txg (closed/synced: the same slots). */
static int rebase_dnode(struct dbuf_overlay *open_ov, uint64_t object, uint8_t *open,
			const uint8_t *closed, const uint8_t *synced, uint64_t n)
{
	dirty_object_t *d = dbuf_overlay_find_object(open_ov, object);
	if (closed[0] && d && d->freed_dnode) {
		uint64_t sn = synced[0] ? dnode_bytes(synced, n) : n;
		uint8_t *fd = malloc(sn);
		if (!fd)
			return -ZFUSE_E_NOMEM;
		memcpy(fd, synced, sn);
		free(d->freed_dnode);
		d->freed_dnode = fd;
		d->freed_dnode_size = sn;
		/* The synced dnode is the whole on-disk tree, its spill included:
		 * a spill the open txg gave up before the free is in it (or was
		 * freed by the sync), not to be freed again. */
		d->has_dropped_spill = false;
		return 0;
	}
	bool spill_dropped = closed[0] && (closed[DN_OFF_FLAGS] & DNODE_FLAG_SPILL_BLKPTR) &&
			     !(open[DN_OFF_FLAGS] & DNODE_FLAG_SPILL_BLKPTR) && n >= sizeof(blkptr_t);
	merge_bits(open, closed, synced, spill_dropped ? n - sizeof(blkptr_t) : n);
	if (spill_dropped && d) {
		blkptr_t bp;
		memset(&bp, 0, sizeof(bp));
		if (synced[DN_OFF_FLAGS] & DNODE_FLAG_SPILL_BLKPTR)
			bp_load(&bp, synced + n - sizeof(blkptr_t));
		d->dropped_spill = bp;
		d->has_dropped_spill = !bp_is_hole(&bp);
	}
	return 0;
}

/* Rebase a dirty dnode block of the open txg; os is in its synced state. */
static int rebase_dnode_block(objset_t *os, struct dbuf_overlay *open_ov, dirty_block_t *db)
{
	uint8_t *synced = calloc(1, db->size);
	if (!synced)
		return -ZFUSE_E_NOMEM;
	arc_buf_t *b;
	int rc = dbuf_hold(&os->meta_dnode, 0, db->blkid, &b);
	if (rc) {
		free(synced);
		return rc;
	}
	memcpy(synced, b->data, b->size < db->size ? b->size : db->size);
	dbuf_rele(&os->meta_dnode, b);
	uint64_t per = db->size >> DNODE_SHIFT;
	for (uint64_t off = 0; off < db->size && rc == 0;) {
		uint64_t n = dnode_bytes(db->orig + off, db->size - off);
		rc = rebase_dnode(open_ov, db->blkid * per + (off >> DNODE_SHIFT), db->data + off,
				  db->orig + off, synced + off, n);
		off += n;
	}
	if (rc == 0)
		memcpy(db->orig, synced, db->size);	/* accounting's "before" */
	free(synced);
	return rc;
}

int dmu_objset_sync_end(struct os_in_sync *e, bool synced)
{
	objset_t *os = e->os;
	int rc = 0;
	if (!synced || (os->overlay && os->overlay->nobjects == 0))
		dbuf_overlay_clear(os);
	if (synced && os->overlay && !e->pol.defer)
		rc = SET_ERROR(-ZFUSE_E_IO);	/* the sync left changes behind */
	/* A kept overlay (deferred writes) is the synced txg's state now: the
	 * sync wrote the new pointers into its dnode blocks. Below the open
	 * txg it is what readers see until its writes are done. */
	os->syncing = os->overlay;
	os->overlay = NULL;
	if (synced && rc == 0 && e->open_ov) {
		/* The synced dnode blocks, through the syncing overlay and the new tree. */
		dirty_object_t *meta = dbuf_overlay_find_object(e->open_ov, 0);
		for (dirty_block_t *db = meta ? meta->blocks : NULL; db && rc == 0; db = db->obj_next)
			if (db->orig)
				rc = rebase_dnode_block(os, e->open_ov, db);
	}
	if (synced && rc == 0)
		merge_bits(e->open_phys, e->closed_phys, os->phys, OBJSET_PHYS_SIZE);
	if (!synced || rc == 0)
		memcpy(os->phys, e->open_phys, OBJSET_PHYS_SIZE);
	os->overlay = e->open_ov;
	e->open_ov = NULL;
	/* Half rebased, the open txg is no state at all: readers get the
	 * synced one (the caller makes the pool read-only). */
	if (rc)
		dbuf_overlay_clear(os);
	dnode_redecode(&os->meta_dnode);
	return rc;
}

void dmu_objset_sync_finish(struct os_in_sync *e)
{
	dbuf_syncing_clear(e->os);
	dbuf_overlay_free(e->retired);
	e->retired = NULL;
}

int dmu_objset_rollback_finish(spa_t *spa, struct os_in_sync *set, size_t n)
{
	int rc = 0;
	for (objset_t *os = spa->objsets; os; os = os->next) {
		if (!os->rolled_back)
			continue;
		os->rolled_back = false;
		for (size_t i = 0; i < n; i++)
			if (set[i].os == os) {
				set[i].retired = os->syncing;
				os->syncing = NULL;
			}
		dbuf_overlay_clear(os);
		dsl_dataset_phys_t ds;
		int r = dsl_dataset_read(spa, os->dsobj, &ds);
		if (r == 0)
			r = objset_reload(os, &ds.bp);
		if (r == 0)
			zil_rollback(os);
		if (r && rc == 0)
			rc = r;
	}
	return rc;
}
