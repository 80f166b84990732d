/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * blkptr.c — block pointer helpers that are more than one field access:
 * embedded payload unpacking, the encrypted-type test and a zdb-style
 * description used by the inspector and by log messages about damage.
 */
#include <inttypes.h>
#include <string.h>
#include "blkptr.h"
#include "byteorder.h"
#include "dmu_types.h"
#include "zio_compress.h"

bool bp_is_encrypted(const blkptr_t *bp)
{
	return bp_uses_crypt(bp) && bp_get_level(bp) == 0 &&
	       dmu_ot_is_encrypted(bp_get_type(bp));
}

int bp_count_dvas_max(const blkptr_t *bp)
{
	return bp_is_encrypted(bp) ? 2 : SPA_DVAS_PER_BP;
}

int bp_count_dvas(const blkptr_t *bp)
{
	if (bp_is_embedded(bp))
		return 0;
	int n = 0;
	int max = bp_count_dvas_max(bp);
	for (int i = 0; i < max; i++)
		if (dva_is_valid(&bp->blk_dva[i]))
			n++;
	return n;
}

void bp_load(blkptr_t *bp, const void *src)
{
	memcpy(bp, src, sizeof(*bp));
}

void bp_embedded_payload(const blkptr_t *bp, uint8_t *out)
{
	/* Payload words: every word of the bp except 6 (prop) and 10 (birth);
	 * bytes least-significant first, which on a LE host is memory order. */
	const uint64_t *w = (const uint64_t *)bp;
	size_t n = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 6 || i == 10)
			continue;
		uint64_t v = w[i];
		memcpy(out + n, &v, 8);
		n += 8;
	}
}

uint64_t bp_get_asize(const blkptr_t *bp)
{
	uint64_t sum = 0;
	if (bp_is_embedded(bp))
		return 0;
	for (int i = 0; i < bp_count_dvas_max(bp); i++)
		sum += dva_asize(&bp->blk_dva[i]);
	return sum;
}

void bp_describe(const blkptr_t *bp, char *buf, size_t cap)
{
	size_t n = 0;
#define OUT(...) do { if (n < cap) n += (size_t)snprintf(buf + n, cap - n, __VA_ARGS__); } while (0)
	if (cap == 0)
		return;
	buf[0] = 0;
	if (bp_is_embedded(bp)) {
		OUT("EMBEDDED [L%u %s] et=%u %s size=%" PRIx64 "L/%" PRIx64 "P birth=%" PRIu64 "L",
		    bp_get_level(bp), dmu_ot_name(bp_get_type(bp)), bp_get_etype(bp),
		    zio_compress_name(bp_get_compress(bp)), bp_get_lsize(bp), bp_get_psize(bp),
		    bp->blk_birth);
		return;
	}
	if (bp_is_hole(bp)) {
		OUT("HOLE [L%u %s] size=%" PRIx64 "L birth=%" PRIu64 "L", bp_get_level(bp),
		    dmu_ot_name(bp_get_type(bp)), bp_get_lsize(bp), bp->blk_birth);
		return;
	}
	for (int i = 0; i < bp_count_dvas_max(bp); i++) {
		const dva_t *d = &bp->blk_dva[i];
		if (!dva_is_valid(d))
			continue;
		OUT("DVA[%d]=<%" PRIu64 ":%" PRIx64 ":%" PRIx64 "%s> ", i, dva_vdev(d),
		    dva_offset(d), dva_asize(d), dva_is_gang(d) ? ":G" : "");
	}
	/* Encrypted bps keep salt and IV where DVA[2] would be and the rest
	 * of the IV in the upper half of the fill count, as zdb prints them. */
	bool enc = bp_is_encrypted(bp);
	if (enc)
		OUT("salt=%" PRIx64 " iv=%" PRIx64 ":%" PRIx64 " ", bp->blk_dva[2].dva_word[0],
		    bp->blk_dva[2].dva_word[1], bp->blk_fill >> 32);
	OUT("[L%u %s] %s %s %s %s size=%" PRIx64 "L/%" PRIx64 "P birth=%" PRIu64 "L/%" PRIu64
	    "P fill=%" PRIu64 " cksum=%016" PRIx64 ":%016" PRIx64 ":%016" PRIx64 ":%016" PRIx64,
	    bp_get_level(bp), dmu_ot_name(bp_get_type(bp)),
	    zio_checksum_name(bp_get_checksum(bp)), zio_compress_name(bp_get_compress(bp)),
	    bp_is_little_endian(bp) ? "LE" : "BE", bp_is_dedup(bp) ? "dedup" : "unique",
	    bp_get_lsize(bp), bp_get_psize(bp), bp->blk_birth, bp_physical_birth(bp),
	    enc ? bp->blk_fill & UINT32_MAX : bp->blk_fill, bp->blk_cksum.zc_word[0], bp->blk_cksum.zc_word[1],
	    bp->blk_cksum.zc_word[2], bp->blk_cksum.zc_word[3]);
#undef OUT
}
