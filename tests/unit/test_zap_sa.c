/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * test_zap_sa.c — ZAP and SA decoding on the real objects of the `basic`
 * fixture (made by OpenZFS 2.3.2), checked against its manifest: the
 * master node microzap, the 3000-entry fat-ZAP directory (entry count,
 * (hash, cd) iteration order, every stored hash recomputed, lookups by
 * name), and the SA attributes of files with unusual owners and times.
 * ZFUSE_TEST_IMAGE names the unpacked image (the test fails without it).
 */
#include <check.h>
#include "check_main.h"
#include "fixture.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "byteorder.h"
#include "dmu_types.h"
#include "dnode.h"
#include "dsl.h"
#include "sa.h"
#include "spa.h"
#include "zap.h"
#include "zfuse/zfuse.h"

START_TEST(test_master_node)
{
	dnode_t mn;
	ck_assert_int_eq(dnode_hold(basic_fs.os, 1, &mn), 0);
	ck_assert_uint_eq(mn.type, DMU_OT_MASTER_NODE);
	zap_info_t zi;
	ck_assert_int_eq(zap_get_info(&mn, &zi), 0);
	ck_assert(zi.micro);
	uint64_t v;
	ck_assert_int_eq(zap_lookup_uint64(&mn, "VERSION", &v), 0);
	ck_assert_uint_eq(v, 5);
	ck_assert_int_eq(zap_lookup_uint64(&mn, "ROOT", &v), 0);
	ck_assert_uint_eq(v, 34);	/* object-layer.md §8.1 */
	ck_assert_int_eq(zap_lookup_uint64(&mn, "NOPE", &v), -ZFUSE_E_NOENT);
	dnode_rele(&mn);
}
END_TEST

struct order {
	uint64_t prev_hash, n, bad_hash;
	uint32_t prev_cd;
	bool sorted;
	zap_info_t zi;
};

static int order_cb(void *arg, const zap_entry_t *ze)
{
	struct order *o = arg;
	if (o->n && (ze->hash < o->prev_hash || (ze->hash == o->prev_hash && ze->cd <= o->prev_cd)))
		o->sorted = false;
	/* every stored hash is the salted CRC-64 of the name, truncated */
	if (zap_hash_name(&o->zi, ze->name) != ze->hash)
		o->bad_hash++;
	o->prev_hash = ze->hash;
	o->prev_cd = ze->cd;
	o->n++;
	return 0;
}

START_TEST(test_fat_zap_directory)
{
	uint64_t many = strtoull(manifest_field("many", 8), NULL, 10);
	dnode_t dn;
	ck_assert_int_eq(dnode_hold(basic_fs.os, many, &dn), 0);
	struct order o = { .sorted = true };
	ck_assert_int_eq(zap_get_info(&dn, &o.zi), 0);
	ck_assert(!o.zi.micro);
	ck_assert_uint_eq(o.zi.num_entries, 3000);
	ck_assert_int_eq(zap_iterate(&dn, 0, 0, order_cb, &o), 0);
	ck_assert_uint_eq(o.n, 3000);
	ck_assert(o.sorted);
	ck_assert_uint_eq(o.bad_hash, 0);
	/* lookups land on the manifest's inode numbers */
	static const char *const names[] = { "entry-1101", "entry-1", "entry-2999" };
	for (int i = 0; i < 3; i++) {
		char path[64];
		uint64_t v;
		snprintf(path, sizeof(path), "many/%s", names[i]);
		ck_assert_int_eq(zap_lookup_uint64(&dn, names[i], &v), 0);
		ck_assert_uint_eq(v & 0xFFFFFFFFFFFFULL, strtoull(manifest_field(path, 8), NULL, 10));
		ck_assert_uint_eq(v >> 60, 8);	/* DT_REG in the top bits */
	}
	uint64_t v;
	ck_assert_int_eq(zap_lookup_uint64(&dn, "entry-3000x", &v), -ZFUSE_E_NOENT);
	dnode_rele(&dn);
}
END_TEST

START_TEST(test_sa_attributes)
{
	uint64_t obj = strtoull(manifest_field("biguid", 8), NULL, 10);
	dnode_t dn;
	ck_assert_int_eq(dnode_hold(basic_fs.os, obj, &dn), 0);
	ck_assert_uint_eq(dn.bonustype, DMU_OT_SA);
	sa_handle_t h;
	ck_assert_int_eq(sa_handle_get(basic_fs.sa, &dn, &h), 0);
	ck_assert_uint_eq(sa_get_u64(&h, ZPL_UID, 0), strtoull(manifest_field("biguid", 3), NULL, 10));
	ck_assert_uint_eq(sa_get_u64(&h, ZPL_GID, 0), strtoull(manifest_field("biguid", 4), NULL, 10));
	ck_assert_uint_eq(sa_get_u64(&h, ZPL_SIZE, 0), strtoull(manifest_field("biguid", 5), NULL, 10));
	ck_assert_uint_eq(sa_get_u64(&h, ZPL_MODE, 0) & 07777, strtoull(manifest_field("biguid", 2), NULL, 8));
	ck_assert_uint_eq(sa_get_u64(&h, ZPL_LINKS, 0), 1);
	ck_assert_ptr_nonnull(h.attr[ZPL_MTIME]);
	ck_assert_uint_eq(h.len[ZPL_MTIME], 16);
	char mtime[64];
	snprintf(mtime, sizeof(mtime), "%lld.%09llu", (long long)(int64_t)le64(h.attr[ZPL_MTIME]),
		 (unsigned long long)le64(h.attr[ZPL_MTIME] + 8));
	ck_assert_str_eq(mtime, manifest_field("biguid", 6));
	sa_handle_release(&h);
	dnode_rele(&dn);
}
END_TEST

START_TEST(test_sa_spill_symlink)
{
	/* The longest symlink target (1003 bytes) lives in an SA spill block. */
	static char path[256];
	char line[8192];
	FILE *f = basic_manifest_open();
	path[0] = 0;
	while (fgets(line, sizeof(line), f)) {
		char *type = strchr(line, '\t');
		if (type && type[1] == 'l' && type[2] == '\t' && strlen(line) > 1000) {
			*type = 0;
			snprintf(path, sizeof(path), "%s", line);
		}
	}
	fclose(f);
	ck_assert_msg(path[0], "no long symlink in the manifest");
	uint64_t obj = strtoull(manifest_field(path, 8), NULL, 10);
	const char *target = manifest_field(path, 10);
	dnode_t dn;
	ck_assert_int_eq(dnode_hold(basic_fs.os, obj, &dn), 0);
	blkptr_t spill;
	ck_assert_int_eq(dnode_spill_bp(&dn, &spill), 0);
	sa_handle_t h;
	ck_assert_int_eq(sa_handle_get(basic_fs.sa, &dn, &h), 0);
	ck_assert_uint_eq(h.len[ZPL_SYMLINK], strlen(target));
	ck_assert(memcmp(h.attr[ZPL_SYMLINK], target, strlen(target)) == 0);
	sa_handle_release(&h);
	dnode_rele(&dn);
}
END_TEST

int main(void)
{
	TCase *tc = TCASE_OF("basic fixture", 0, test_master_node, test_fat_zap_directory, test_sa_attributes,
			     test_sa_spill_symlink);
	tcase_add_checked_fixture(tc, basic_fs_setup, basic_fs_teardown);
	return run_suite(suite_of("zap_sa", tc));
}
