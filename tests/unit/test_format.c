/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * test_format.c — unit tests of the structure decoders written for zfuse's
 * own modules: block pointers (the real uberblock of pool-layer.md §3.1),
 * embedded payloads, dnode validation of hostile fields, ZAP hashing and
 * name normalization, micro and fat ZAP parsing of hand-built blocks, and
 * SA header checks.
 */
#include <check.h>
#include "check_main.h"
#include <stdlib.h>
#include <string.h>
#include "blkptr.h"
#include "byteorder.h"
#include "dmu_types.h"
#include "dnode.h"
#include "vdev_label.h"
#include "zap.h"
#include "zio_compress.h"
#include "zfuse/errors.h"

/* Bytes of the uberblock at 0x23800 of the spec's worked example. */
static const uint8_t spec_ub[] = {
	0x0c, 0xb1, 0xba, 0x00, 0, 0, 0, 0, 0x88, 0x13, 0, 0, 0, 0, 0, 0,
	0x0e, 0, 0, 0, 0, 0, 0, 0, 0xa2, 0x52, 0x57, 0x50, 0x8f, 0xdd, 0x64, 0x01,
	0x4b, 0xd5, 0x02, 0x6b, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0,
	0x4d, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0,
	0x4d, 0x80, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0,
	0x4c, 0, 0x01, 0, 0, 0, 0, 0, 0x07, 0, 0, 0, 0x03, 0x07, 0x0b, 0x80,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0x0e, 0, 0, 0, 0, 0, 0, 0,
	0x27, 0, 0, 0, 0, 0, 0, 0, 0x3f, 0xc6, 0xf9, 0x2d, 0x23, 0, 0, 0,
};

START_TEST(test_uberblock_rootbp)
{
	uberblock_t ub;
	memset(&ub, 0, sizeof(ub));
	memcpy(&ub, spec_ub, sizeof(spec_ub));
	ck_assert_uint_eq(ub.ub_magic, UBERBLOCK_MAGIC);
	ck_assert_uint_eq(ub.ub_version, 5000);
	ck_assert_uint_eq(ub.ub_txg, 14);
	const blkptr_t *bp = &ub.ub_rootbp;
	ck_assert(!bp_is_embedded(bp));
	ck_assert(!bp_is_hole(bp));
	ck_assert_int_eq(bp_count_dvas(bp), 3);
	ck_assert_uint_eq(dva_vdev(&bp->blk_dva[0]), 0);
	ck_assert_uint_eq(dva_offset(&bp->blk_dva[0]), 0x9a00);
	ck_assert_uint_eq(dva_asize(&bp->blk_dva[0]), 512);
	ck_assert_uint_eq(dva_offset(&bp->blk_dva[1]), 0x804dULL << 9);
	ck_assert_uint_eq(dva_offset(&bp->blk_dva[2]), 0x1004cULL << 9);
	ck_assert_uint_eq(bp_get_lsize(bp), 4096);
	ck_assert_uint_eq(bp_get_psize(bp), 512);
	ck_assert_uint_eq(bp_get_compress(bp), ZIO_COMPRESS_LZJB);
	ck_assert_uint_eq(bp_get_checksum(bp), ZIO_CHECKSUM_FLETCHER_4);
	ck_assert_uint_eq(bp_get_type(bp), DMU_OT_OBJSET);
	ck_assert_uint_eq(bp_get_level(bp), 0);
	ck_assert(bp_is_little_endian(bp));
	ck_assert_uint_eq(bp->blk_birth, 14);
	ck_assert_uint_eq(bp_physical_birth(bp), 14);
	ck_assert_uint_eq(bp->blk_fill, 39);
	ck_assert_uint_eq(bp_get_asize(bp), 3 * 512);
	char desc[512];
	bp_describe(bp, desc, sizeof(desc));
	ck_assert_ptr_nonnull(strstr(desc, "DVA[0]=<0:9a00:200>"));
	ck_assert_ptr_nonnull(strstr(desc, "size=1000L/200P"));
}
END_TEST

START_TEST(test_embedded_payload)
{
	/* An embedded bp: lsize 512, psize 75, lz4, type 13 (§4.6 example). */
	blkptr_t bp;
	memset(&bp, 0, sizeof(bp));
	bp.blk_prop = (511ULL) | (74ULL << 25) | ((uint64_t)ZIO_COMPRESS_LZ4 << 32) | (1ULL << 39) |
		      (13ULL << 48) | (1ULL << 63);
	uint64_t *w = (uint64_t *)&bp;
	for (int i = 0; i < 16; i++)
		if (i != 6 && i != 10)
			w[i] = 0x0101010101010101ULL * (uint64_t)i;
	bp.blk_birth = 77;
	ck_assert(bp_is_embedded(&bp));
	ck_assert(!bp_is_hole(&bp));
	ck_assert_uint_eq(bp_get_lsize(&bp), 512);
	ck_assert_uint_eq(bp_get_psize(&bp), 75);
	ck_assert_int_eq(bp_count_dvas(&bp), 0);
	uint8_t payload[BPE_PAYLOAD_SIZE];
	bp_embedded_payload(&bp, payload);
	ck_assert_uint_eq(payload[0], 0);	/* word 0 */
	ck_assert_uint_eq(payload[6 * 8], 7);	/* word 7 follows word 5 */
	ck_assert_uint_eq(payload[9 * 8], 11);	/* word 11 follows word 9 */
	ck_assert_uint_eq(payload[111], 15);
}
END_TEST

START_TEST(test_hole_birth)
{
	blkptr_t bp;
	memset(&bp, 0, sizeof(bp));
	bp.blk_prop = 0x00130000000000ffULL;
	bp.blk_birth = 40;
	ck_assert(bp_is_hole(&bp));
	ck_assert_uint_eq(bp_get_lsize(&bp), 128 * 1024);
	ck_assert_uint_eq(bp_get_type(&bp), DMU_OT_PLAIN_FILE_CONTENTS);
}
END_TEST

START_TEST(test_dmu_types)
{
	ck_assert_str_eq(dmu_ot_name(DMU_OT_DNODE), "DMU dnode");
	ck_assert(dmu_ot_is_zap(DMU_OT_DIRECTORY_CONTENTS));
	ck_assert(dmu_ot_is_zap(DMU_OTN_ZAP_METADATA));
	ck_assert(!dmu_ot_is_zap(DMU_OT_PLAIN_FILE_CONTENTS));
	ck_assert(dmu_ot_is_encrypted(DMU_OT_PLAIN_FILE_CONTENTS));
	ck_assert(!dmu_ot_is_encrypted(DMU_OT_MASTER_NODE));
	ck_assert(!dmu_ot_is_metadata(DMU_OT_PLAIN_FILE_CONTENTS));
	ck_assert(!dmu_ot_is_valid(54));
	ck_assert(!dmu_ot_is_valid(0x80 | 0x1f));
	ck_assert(dmu_ot_is_valid(0xC4));
}
END_TEST

static void make_dnode(uint8_t *d)
{
	memset(d, 0, 1024);
	d[0] = DMU_OT_PLAIN_FILE_CONTENTS;
	d[1] = 17;
	d[2] = 1;
	d[3] = 1;
	d[4] = DMU_OT_SA;
	d[8] = 1;	/* 512-byte blocks */
	d[10] = 168;	/* bonuslen */
}

START_TEST(test_dnode_decode_hostile)
{
	uint8_t d[1024];
	dnode_t dn;
	make_dnode(d);
	ck_assert_int_eq(dnode_decode(&dn, d, 512), 0);
	ck_assert_uint_eq(dnode_bonus_capacity(&dn), 320);
	make_dnode(d);
	d[2] = 13;	/* too many levels */
	ck_assert_int_eq(dnode_decode(&dn, d, 512), -ZFUSE_E_CORRUPT);
	make_dnode(d);
	d[3] = 4;	/* too many block pointers */
	ck_assert_int_eq(dnode_decode(&dn, d, 512), -ZFUSE_E_CORRUPT);
	make_dnode(d);
	d[10] = 0x41;	/* bonus longer than the dnode (321) */
	d[11] = 0x01;
	ck_assert_int_eq(dnode_decode(&dn, d, 512), -ZFUSE_E_CORRUPT);
	make_dnode(d);
	d[12] = 1;	/* two slots but only 512 bytes available */
	ck_assert_int_eq(dnode_decode(&dn, d, 512), -ZFUSE_E_CORRUPT);
	ck_assert_int_eq(dnode_decode(&dn, d, 1024), 0);
	ck_assert_uint_eq(dnode_bonus_capacity(&dn), 832);
	make_dnode(d);
	d[8] = 0;	/* zero block size */
	ck_assert_int_eq(dnode_decode(&dn, d, 512), -ZFUSE_E_CORRUPT);
	make_dnode(d);
	d[0] = 0;
	ck_assert_int_eq(dnode_decode(&dn, d, 512), -ZFUSE_E_NOENT);
	make_dnode(d);
	d[7] = DNODE_FLAG_SPILL_BLKPTR;
	d[10] = 193;	/* 193 > 320 - 128 */
	ck_assert_int_eq(dnode_decode(&dn, d, 512), -ZFUSE_E_CORRUPT);
}
END_TEST

START_TEST(test_zap_hash)
{
	/* §4.1: table[128] == POLY, so hashing the single byte 0x80 from
	 * salt 0 gives POLY, truncated to the top 28 bits. */
	zap_info_t info = { .salt = 0, .hashbits = 28 };
	uint64_t h = zap_hash_name(&info, "\x80");
	ck_assert_uint_eq(h, 0xC96C5795D7870F42ULL & ~((1ULL << 36) - 1));
	info.hashbits = 48;
	ck_assert_uint_eq(zap_hash_name(&info, "\x80"), 0xC96C5795D7870F42ULL & ~((1ULL << 16) - 1));
	/* Case-folding ZAPs hash the upper-cased name. */
	zap_info_t ci = { .salt = 0x7318abf, .hashbits = 28, .normflags = U8_TEXTPREP_TOUPPER };
	zap_info_t cs = { .salt = 0x7318abf, .hashbits = 28 };
	ck_assert_uint_eq(zap_hash_name(&ci, "snap1"), zap_hash_name(&cs, "SNAP1"));
	ck_assert_uint_ne(zap_hash_name(&cs, "snap1"), zap_hash_name(&cs, "SNAP1"));
}
END_TEST

START_TEST(test_zap_normalize)
{
	char out[64];
	ck_assert_int_eq(zap_normalize("caf\xc3\xa9", U8_TEXTPREP_NFD, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "cafe\xcc\x81");
	ck_assert_int_eq(zap_normalize("cafe\xcc\x81", U8_TEXTPREP_NFC, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "caf\xc3\xa9");
	ck_assert_int_eq(zap_normalize("MiXed.Txt", U8_TEXTPREP_TOUPPER, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "MIXED.TXT");
	ck_assert_int_eq(zap_normalize("\xff\xfe bad", U8_TEXTPREP_TOUPPER, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "\xff\xfe bad");	/* invalid UTF-8 kept as is */
	ck_assert_int_eq(zap_normalize("toolong", 0, out, 4), -ZFUSE_E_INVAL);
}
END_TEST

int main(void)
{
	return RUN_TESTS("format", "decoders", 0, test_uberblock_rootbp, test_embedded_payload, test_hole_birth,
			 test_dmu_types, test_dnode_decode_hostile, test_zap_hash, test_zap_normalize);
}
