/*
 * zil.c — reading intent log chains. Log blocks carry their own checksum
 * (zilog2: a zil_chain_t at the start, fletcher4 over the used part;
 * zilog on old pools: the same trailer at the end, fletcher2 over the
 * whole block), computed with the bp's sequence verifier in the checksum
 * slot; the chain's last bp is the pre-allocated, usually unwritten, next
 * block, which therefore does not verify.
 */
#include <stdlib.h>
#include <string.h>
#include "byteorder.h"
#include "spa.h"
#include "vdev.h"
#include "zil.h"
#include "zfuse/errors.h"

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
		return -ZFUSE_E_CORRUPT;
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
