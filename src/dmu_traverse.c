/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dmu_traverse.c — walking an objset's block tree from its root block
 * pointer, pruned by birth: a block pointer's birth is at least that of
 * everything below it (copy-on-write rewrites every ancestor of a changed
 * block), so the part of a tree that an older snapshot shares is never
 * read. Used to free what a destroyed or rolled-back dataset alone held.
 */
#include <stdlib.h>
#include "arc.h"
#include "dmu_traverse.h"
#include "dmu_types.h"
#include "dnode.h"
#include "spa_impl.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

struct trav {
	spa_t *spa;
	uint64_t min_txg;
	int (*cb)(void *, const blkptr_t *);
	void *arg;
};

static bool wanted(const struct trav *t, const blkptr_t *bp)
{
	return !bp_is_hole(bp) && !bp_is_embedded(bp) && bp->blk_birth > t->min_txg;
}

static int walk_tree(struct trav *t, objset_t *os, const dnode_t *dn, const blkptr_t *bp,
		     int level, uint64_t blkid);

static int walk_dnode(struct trav *t, objset_t *os, const dnode_t *dn)
{
	int rc = 0;
	for (int i = 0; rc == 0 && i < dn->nblkptr; i++) {
		blkptr_t bp;
		dnode_blkptr(dn, i, &bp);
		rc = walk_tree(t, os, dn, &bp, dn->nlevels - 1, (uint64_t)i);
	}
	blkptr_t spill;
	if (rc == 0 && dnode_spill_bp(dn, &spill) == 0 && wanted(t, &spill))
		rc = t->cb(t->arg, &spill);
	return rc;
}

static int walk_dnode_block(struct trav *t, objset_t *os, const arc_buf_t *b, uint64_t first)
{
	uint64_t per = b->size >> DNODE_SHIFT;
	int rc = 0;
	for (uint64_t i = 0; rc == 0 && i < per;) {
		dnode_t dn;
		if (dnode_decode(&dn, (const uint8_t *)b->data + i * DNODE_MIN_SIZE,
				 b->size - i * DNODE_MIN_SIZE) != 0) {
			i++;
			continue;
		}
		dn.os = os;
		dn.object = first + i;
		dn.buf = NULL;
		if (dn.type)
			rc = walk_dnode(t, os, &dn);
		i += dn.extra_slots + 1;
	}
	return rc;
}

static int walk_tree(struct trav *t, objset_t *os, const dnode_t *dn, const blkptr_t *bp,
		     int level, uint64_t blkid)
{
	if (!wanted(t, bp))
		return 0;
	bool dnode_block = level == 0 && dn->object == 0 && bp_get_type(bp) == DMU_OT_DNODE;
	if (level > 0 || dnode_block) {
		arc_buf_t *b;
		int rc = arc_read(t->spa, bp, &b);
		if (rc)
			return rc;
		if (dnode_block) {
			rc = walk_dnode_block(t, os, b, blkid * (b->size >> DNODE_SHIFT));
		} else {
			unsigned epbs = dn->indblkshift - 7;
			for (uint64_t i = 0; rc == 0 && i < (1ULL << epbs) && (i + 1) * 128 <= b->size; i++) {
				blkptr_t child;
				bp_load(&child, (uint8_t *)b->data + i * 128);
				rc = walk_tree(t, os, dn, &child, level - 1, (blkid << epbs) + i);
			}
		}
		arc_release(t->spa, b);
		if (rc)
			return rc;
	}
	return t->cb(t->arg, bp);
}

int traverse_objset(spa_t *spa, const blkptr_t *bp, uint64_t min_txg,
		    int (*cb)(void *, const blkptr_t *), void *arg)
{
	struct trav t = { spa, min_txg, cb, arg };
	if (!wanted(&t, bp))
		return 0;
	objset_t *os;
	int rc = objset_open(spa, bp, &os);
	if (rc)
		return rc;
	dnode_t *mdn = &os->meta_dnode;
	mdn->object = 0;
	rc = walk_dnode(&t, os, mdn);
	/* user/group/project-used special dnodes live in the objset block */
	for (int off = 1024; rc == 0 && off <= 2048 && off + DNODE_MIN_SIZE <= (int)os->phys_size;
	     off += 512) {
		dnode_t sdn;
		if (dnode_decode(&sdn, os->phys + off, DNODE_MIN_SIZE) == 0 && sdn.type) {
			sdn.os = os;
			sdn.object = (uint64_t)-(int64_t)((off - 512) / 512);
			sdn.buf = NULL;
			rc = walk_dnode(&t, os, &sdn);
		}
	}
	objset_close(os);
	return rc ? rc : cb(arg, bp);
}
