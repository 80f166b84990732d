/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zil.c — reading intent log chains. Log blocks carry their own checksum
 * (zilog2: a zil_chain_t at the start, fletcher4 over the used part;
 * zilog on old pools: the same trailer at the end, fletcher2 over the
 * whole block), computed with the bp's sequence verifier in the checksum
 * slot; the chain's last bp is the pre-allocated, usually unwritten, next
 * block, which therefore does not verify.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "byteorder.h"
#include "dsl.h"
#include "metaslab.h"
#include "spa_misc.h"
#include "vdev.h"
#include "zil.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define ZIL_HEADER_OFFSET 512
#define ZIL_HEADER_LOG_BP 16
#define ZIL_CHAIN_SIZE 184
#define ZIL_CHAIN_NEXT 8
#define ZIL_CHAIN_NUSED 136
#define ZIL_CHAIN_CKSUM 152

void zil_header_log_bp(const objset_t *os, blkptr_t *bp)
{
	bp_load(bp, os->phys + ZIL_HEADER_OFFSET + ZIL_HEADER_LOG_BP);
}

int zil_read_block(spa_t *spa, const blkptr_t *bp, uint8_t **bufp, bool *valid, blkptr_t *next)
{
	*valid = false;
	*bufp = NULL;
	memset(next, 0, sizeof(*next));
	uint64_t psize = bp_get_psize(bp);
	vdev_t *top = spa_lookup_top(spa, dva_vdev(&bp->blk_dva[0]));
	if (!top || psize > SPA_MAXBLOCKSIZE)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	uint8_t *buf = malloc(psize);
	if (!buf)
		return -ZFUSE_E_NOMEM;
	int rc = vdev_read(top, dva_offset(&bp->blk_dva[0]), buf, psize, NULL, NULL);
	if (rc) {
		free(buf);
		return rc;
	}
	uint64_t chain = 0, len = 0;
	unsigned fn = ZIO_CHECKSUM_FLETCHER_2;
	if (psize >= ZIL_CHAIN_SIZE) {
		unsigned alg = bp_get_checksum(bp);
		if (alg == ZIO_CHECKSUM_ZILOG2) {
			uint64_t nused = le64(buf + ZIL_CHAIN_NUSED);
			len = (nused + 4095) & ~4095ULL;
			if (nused < ZIL_CHAIN_SIZE || len > psize)
				len = 0;
			fn = ZIO_CHECKSUM_FLETCHER_4;
		} else if (alg == ZIO_CHECKSUM_ZILOG) {
			chain = psize - ZIL_CHAIN_SIZE;
			len = psize;
		}
	}
	if (len) {
		zio_cksum_t stored, calc;
		uint8_t *slot = buf + chain + ZIL_CHAIN_CKSUM;
		memcpy(&stored, slot, sizeof(stored));
		memcpy(slot, &bp->blk_cksum, sizeof(stored));
		zio_checksum_compute(fn, buf, len, NULL, &calc);
		memcpy(slot, &stored, sizeof(stored));
		*valid = memcmp(&stored, &calc, sizeof(stored)) == 0;
		if (*valid)
			bp_load(next, buf + chain + ZIL_CHAIN_NEXT);
	}
	*bufp = buf;
	return 0;
}

bool zil_has_records(spa_t *spa, const objset_t *os)
{
	blkptr_t bp, next;
	zil_header_log_bp(os, &bp);
	if (bp_is_hole(&bp) || bp_is_embedded(&bp))
		return false;
	uint8_t *buf;
	bool valid;
	if (zil_read_block(spa, &bp, &buf, &valid, &next) != 0)
		return true;	/* unreadable: assume records rather than lose them */
	free(buf);
	return valid;
}

/* ---- keeping unclaimed log blocks safe from the allocator ---------------- */

#define ZIL_MAX_HOPS (1 << 20)

struct reserve_ctx {
	spa_t *spa;
	uint64_t blocks;
	char unclaimed[256];	/* a dataset whose log OpenZFS has not claimed */
};

static int reserve_chain(const struct zfuse_dataset_info *info, void *arg)
{
	struct reserve_ctx *c = arg;
	if (info->dsobj == 0 || strchr(info->name, '@') || strchr(info->name, '#'))
		return 0;	/* only heads have live intent logs */
	dsl_dataset_phys_t ds;
	objset_t *os;
	if (dsl_dataset_read(c->spa, info->dsobj, &ds) != 0 || bp_is_hole(&ds.bp) ||
	    objset_open(c->spa, &ds.bp, &os) != 0)
		return 0;
	blkptr_t bp;
	zil_header_log_bp(os, &bp);
	uint64_t claim_txg = le64(os->phys + ZIL_HEADER_OFFSET);
	bool records = zil_has_records(c->spa, os);
	objset_close(os);
	if (records && claim_txg == 0 && !c->unclaimed[0])
		snprintf(c->unclaimed, sizeof(c->unclaimed), "%s", info->name);
	for (int hops = 0; hops < ZIL_MAX_HOPS && !bp_is_hole(&bp) && !bp_is_embedded(&bp); hops++) {
		for (int d = 0; d < SPA_DVAS_PER_BP; d++)
			if (dva_is_valid(&bp.blk_dva[d]))
				metaslab_reserve_dva(c->spa, &bp.blk_dva[d]);
		c->blocks++;
		uint8_t *buf;
		bool valid;
		blkptr_t next;
		if (zil_read_block(c->spa, &bp, &buf, &valid, &next) != 0)
			break;
		free(buf);
		if (!valid)
			break;	/* the pre-allocated next block ends the chain */
		bp = next;
	}
	return 0;
}

int zil_reserve_chains(spa_t *spa, char *why, size_t cap)
{
	struct reserve_ctx c = { spa, 0, "" };
	int rc = dsl_dataset_walk(spa, reserve_chain, &c);
	if (rc)
		return rc;
	if (c.unclaimed[0]) {
		/* Its blocks are in no space map and carry births of txgs that
		 * never synced; OpenZFS claims them at import, and numbering new
		 * txgs around them is its business. */
		snprintf(why, cap, "the intent log of %s was never claimed (the pool was not exported "
			 "cleanly); let OpenZFS import it once", c.unclaimed);
		return -ZFUSE_E_ROFS;
	}
	if (c.blocks)
		spa_log(spa, ZFUSE_LOG_INFO, "kept %llu intent log blocks out of allocation",
			(unsigned long long)c.blocks);
	return 0;
}
