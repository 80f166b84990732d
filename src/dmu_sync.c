/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dmu_sync.c — a dirty block of the open txg written ahead of its sync,
 * for the intent log's indirect writes (dmu_sync.h).
 *
 * The block is copied under the pool lock and written from the copy, so
 * writers may change the dirty block meanwhile: its mod_gen, counted by
 * every hand-out for change (dbuf.c), tells the sync whether the copy on
 * disk is still its contents. The bp is allocated in the block's own txg
 * (birth = the record's txg, as OpenZFS requires of an indirect record),
 * and whatever becomes of it is decided by that txg's sync: adopted as
 * the block (dnode_sync.c) or freed, so an extent a record names is never
 * reused before the record is obsolete.
 */
#include <stdlib.h>
#include <string.h>
#include "dbuf.h"
#include "dmu_objset.h"
#include "dmu_sync.h"
#include "dnode.h"
#include "spa_impl.h"
#include "spa_lock.h"
#include "zio_buf.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

int dmu_sync_take(objset_t *os, uint64_t object, uint64_t blkid, uint64_t txg,
		  struct dmu_sync_block *b)
{
	spa_t *spa = os->spa;
	memset(b, 0, sizeof(*b));
	if (txg != spa->open_txg || os->key)
		return -ZFUSE_E_NOENT;	/* its txg is closing: the sync writes it */
	/* One early copy per dirty block and txg: a block rewritten and
	 * fsynced over and over would otherwise allocate a copy each time,
	 * and their frees wait for the txg (a record names each), so a small
	 * pool could run out of space within one txg. Later commits copy. */
	dirty_block_t *db = dbuf_find_block(os, object, blkid);
	if (!db || blkid == DMU_SPILL_BLKID || db->override)
		return -ZFUSE_E_NOENT;
	dnode_t dn;
	if (dnode_hold(os, object, &dn) != 0)
		return -ZFUSE_E_NOENT;
	if (blkid > dn.maxblkid || db->size != dnode_datablksz(&dn)) {
		dnode_rele(&dn);
		return -ZFUSE_E_NOENT;
	}
	struct os_write_policy pol;
	dmu_objset_policy(spa, os, &pol);
	dnode_write_props(&pol, dn.type, dn.checksum, dn.compress, 0, 1, &b->zp);
	dnode_rele(&dn);
	if (pol.encrypted)
		return -ZFUSE_E_NOENT;
	if (!(b->data = zio_data_buf_alloc(db->size)))
		return -ZFUSE_E_NOMEM;
	memcpy(b->data, db->data, db->size);
	b->object = object;
	b->blkid = blkid;
	b->txg = txg;
	b->mod_gen = db->mod_gen;
	b->size = db->size;
	b->prep_rc = -ZFUSE_E_NOENT;	/* until prepared */
	return 0;
}

void dmu_sync_prepare(spa_t *spa, struct dmu_sync_block *b)
{
	b->prep_rc = zio_write_prepare(spa, &b->zp, b->data, b->size, &b->pr);
}

int dmu_sync_assign(objset_t *os, struct dmu_sync_block *b, struct zio_write_queue *q)
{
	spa_t *spa = os->spa;
	SPA_ASSERT_WRITER(spa);
	if (b->prep_rc)
		return b->prep_rc == -ZFUSE_E_NOMEM ? b->prep_rc : -ZFUSE_E_NOENT;
	if (!spa->writable)
		return SET_ERROR(-ZFUSE_E_IO);
	/* A hole or an embedded bp would be a valid record too; a copy of
	 * the few bytes is simpler and as cheap. */
	if (b->pr.hole || b->pr.embedded || b->txg != spa->open_txg)
		return -ZFUSE_E_NOENT;
	dirty_block_t *db = dbuf_find_block(os, b->object, b->blkid);
	if (!db || db->mod_gen != b->mod_gen || db->size != b->size || db->override)
		return -ZFUSE_E_NOENT;
	struct dbuf_override *ov = calloc(1, sizeof(*ov));
	if (!ov)
		return -ZFUSE_E_NOMEM;
	bool rewrote;
	int rc = zio_write_prepared(spa, b->txg, &b->zp, &b->pr, b->size, NULL, &b->bp, &rewrote, q);
	if (rc) {
		free(ov);
		return rc;
	}
	ov->bp = b->bp;
	ov->spa = spa;
	ov->txg = b->txg;
	ov->mod_gen = b->mod_gen;
	db->override = ov;
	return 0;
}

void dmu_sync_ready(objset_t *os, uint64_t object, uint64_t blkid, const blkptr_t *bp)
{
	SPA_ASSERT_WRITER(os->spa);
	dirty_block_t *db = dbuf_find_block(os, object, blkid);
	if (db && db->override && !memcmp(&db->override->bp, bp, sizeof(*bp)))
		db->override->ready = true;
}

void dmu_sync_block_release(struct dmu_sync_block *b)
{
	if (b->prep_rc == 0)
		zio_prepared_release(&b->pr);
	zio_data_buf_free(b->data, b->size);
	b->data = NULL;
	b->prep_rc = -ZFUSE_E_NOENT;
}
