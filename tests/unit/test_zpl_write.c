/*
 * test_zpl_write.c — the ZPL writer's layout rules checked against what
 * OpenZFS 2.3.2 wrote in the `basic` fixture: every SA object of the
 * filesystem is decoded into an attribute list and laid out again by
 * sa_write.c; the layout numbers, bonus length, bonus bytes, spill size and
 * spill bytes must come out exactly as on disk (this covers the spill
 * split of long symlinks and large SA xattrs). The trivial ACL built from
 * each object's mode must equal its stored DACL_ACES.
 * ZFUSE_TEST_IMAGE names the unpacked image (the test fails without it).
 */
#include <check.h>
#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "byteorder.h"
#include "dmu_types.h"
#include "dnode.h"
#include "dsl.h"
#include "sa.h"
#include "spa.h"
#include "zap.h"
#include "zpl_impl.h"
#include "zfuse/zfuse.h"

static zfuse_pool_t *pool;
static objset_t *os;
static sa_wtable_t *sat;

static void setup(void)
{
	const char *img = getenv("ZFUSE_TEST_IMAGE");
	ck_assert_msg(img != NULL, "ZFUSE_TEST_IMAGE is not set");
	struct zfuse_import_opts o = { .paths = &img, .npaths = 1 };
	ck_assert_int_eq(zfuse_pool_import(&o, &pool), 0);
	spa_t *spa = (spa_t *)pool;
	uint64_t dsobj, dirobj;
	bool snap;
	ck_assert_int_eq(dsl_dataset_lookup(spa, "basic", &dsobj, &dirobj, &snap), 0);
	dsl_dataset_phys_t ds;
	ck_assert_int_eq(dsl_dataset_read(spa, dsobj, &ds), 0);
	ck_assert_int_eq(objset_open(spa, &ds.bp, &os), 0);
	dnode_t mn;
	uint64_t sa_obj;
	ck_assert_int_eq(dnode_hold(os, 1, &mn), 0);
	ck_assert_int_eq(zap_lookup_uint64(&mn, "SA_ATTRS", &sa_obj), 0);
	dnode_rele(&mn);
	ck_assert_int_eq(sa_wtable_load(os, sa_obj, &sat), 0);
}

static void teardown(void)
{
	sa_wtable_free(sat);
	objset_close(os);
	zfuse_pool_close(pool);
}

static int existing_layout(void *arg, const uint16_t *attrs, unsigned n, unsigned *num)
{
	(void)arg;
	return sa_wtable_find_layout(sat, attrs, n, num);
}

/* End of the attribute data in one buffer (bonus or spill) of a list. */
static uint64_t data_end(const sa_attrs_t *l, bool spill)
{
	uint64_t end = 0;
	for (unsigned i = 0; i < l->count; i++)
		if (l->a[i].in_spill == spill && l->a[i].off + l->a[i].len > end)
			end = l->a[i].off + l->a[i].len;
	return end;
}

START_TEST(test_relayout_matches_openzfs)
{
	uint64_t max = objset_max_object(os);
	unsigned checked = 0, spilled = 0, symlinks = 0;
	for (uint64_t obj = 1; obj < max; obj++) {
		dnode_t dn;
		if (dnode_hold(os, obj, &dn) != 0)
			continue;
		if (dn.bonustype != DMU_OT_SA) {
			dnode_rele(&dn);
			continue;
		}
		sa_attrs_t l;
		ck_assert_msg(sa_attrs_load(sat, &dn, &l) == 0, "object %lu: cannot load", (unsigned long)obj);
		struct sa_layout_out *out = malloc(sizeof(*out));
		ck_assert_ptr_nonnull(out);
		/* Laid out as for a fresh object: no old spill to reuse. */
		int rc = sa_layout_compute(sat, &l, dn.size, 0, NULL, existing_layout, NULL, out);
		ck_assert_msg(rc == 0, "object %lu: layout %d (a layout OpenZFS never stored?)",
			      (unsigned long)obj, rc);
		uint64_t blen;
		const uint8_t *bonus = dnode_bonus(&dn, &blen);
		ck_assert_msg(out->bonuslen == blen, "object %lu: bonuslen %lu, OpenZFS %lu",
			      (unsigned long)obj, (unsigned long)out->bonuslen, (unsigned long)blen);
		uint64_t bend = data_end(&l, false);
		ck_assert_msg(memcmp(out->bonus, bonus, bend) == 0, "object %lu: bonus bytes differ",
			      (unsigned long)obj);
		ck_assert_msg((out->spill != NULL) == (l.spill != NULL), "object %lu: spill %d, OpenZFS %d",
			      (unsigned long)obj, out->spill != NULL, l.spill != NULL);
		if (l.spill) {
			ck_assert_uint_eq(out->spill_size, l.spill_size);
			ck_assert_msg(memcmp(out->spill, l.spill, data_end(&l, true)) == 0,
				      "object %lu: spill bytes differ", (unsigned long)obj);
			spilled++;
		}
		uint32_t alen;
		const uint8_t *mode = sa_attrs_get(sat, &l, ZPL_MODE, &alen);
		ck_assert_ptr_nonnull(mode);
		if (S_ISLNK(le64(mode)))
			symlinks++;
		const uint8_t *aces = sa_attrs_get(sat, &l, ZPL_DACL_ACES, &alen);
		if (aces) {
			uint8_t want[48];
			unsigned n = zpl_trivial_acl(le64(mode), S_ISDIR(le64(mode)), want);
			ck_assert_msg(alen == n * 8 && memcmp(want, aces, alen) == 0,
				      "object %lu: ACL of mode %lo differs", (unsigned long)obj,
				      (unsigned long)le64(mode));
		}
		free(out->spill);
		free(out);
		sa_attrs_free(&l);
		dnode_rele(&dn);
		checked++;
	}
	ck_assert_uint_gt(checked, 3000);
	ck_assert_uint_gt(spilled, 2);	/* long symlinks and the big xattr sets */
	ck_assert_uint_gt(symlinks, 2);
}
END_TEST

/* Changing a value in place keeps the shape; growing a variable attribute
 * past the bonus moves the tail to a spill block. */
START_TEST(test_list_edits)
{
	sa_attrs_t l;
	sa_attrs_init(&l);
	static const enum zpl_attr order[] = { ZPL_MODE, ZPL_SIZE, ZPL_GEN, ZPL_UID, ZPL_GID,
		ZPL_PARENT, ZPL_FLAGS, ZPL_ATIME, ZPL_MTIME, ZPL_CTIME, ZPL_CRTIME, ZPL_LINKS };
	for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (order[i] == ZPL_ATIME || order[i] == ZPL_MTIME || order[i] == ZPL_CTIME ||
		    order[i] == ZPL_CRTIME) {
			int64_t ts[2] = { 1, 2 };
			ck_assert_int_eq(sa_attrs_set_time(sat, &l, order[i], ts), 0);
		} else {
			ck_assert_int_eq(sa_attrs_set_u64(sat, &l, order[i], i + 1), 0);
		}
	}
	ck_assert_int_eq(sa_attrs_set_u64(sat, &l, ZPL_DACL_COUNT, 3), 0);
	uint8_t aces[48];
	unsigned n = zpl_trivial_acl(0100644, false, aces);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(sa_attrs_set(sat, &l, ZPL_DACL_ACES, aces, 24), 0);
	/* A fixed-length attribute refuses another length. */
	ck_assert_int_eq(sa_attrs_set(sat, &l, ZPL_SIZE, aces, 4), -ZFUSE_E_INVAL);
	struct sa_layout_out *out = malloc(sizeof(*out));
	ck_assert_int_eq(sa_layout_compute(sat, &l, 512, 0, NULL, existing_layout, NULL, out), 0);
	ck_assert_uint_eq(out->bonuslen, 168);	/* 8 + 136 + 24, the FIFO layout */
	ck_assert_ptr_null(out->spill);
	/* A 1000-byte symlink target does not fit a 512-byte dnode. */
	char target[1000];
	memset(target, 'x', sizeof(target));
	ck_assert_int_eq(sa_attrs_set(sat, &l, ZPL_SYMLINK, target, sizeof(target)), 0);
	ck_assert_int_eq(sa_layout_compute(sat, &l, 512, 0, NULL, existing_layout, NULL, out), 0);
	ck_assert_ptr_nonnull(out->spill);
	ck_assert_uint_eq(out->spill_size, 1024);
	ck_assert_uint_eq(out->bonuslen, 192);	/* capacity - 128 when spilling */
	ck_assert_uint_eq(out->spill_count, 1);
	free(out->spill);
	/* With 1 KiB dnodes a 600-byte target stays in the bonus. */
	ck_assert_int_eq(sa_attrs_set(sat, &l, ZPL_SYMLINK, target, 600), 0);
	ck_assert_int_eq(sa_layout_compute(sat, &l, 1024, 0, NULL, existing_layout, NULL, out), 0);
	ck_assert_ptr_null(out->spill);
	ck_assert_uint_eq(out->bonuslen, 16 + 136 + 24 + 600);
	sa_attrs_remove(sat, &l, ZPL_SYMLINK);
	ck_assert_ptr_null(sa_attrs_get(sat, &l, ZPL_SYMLINK, NULL));
	free(out);
	sa_attrs_free(&l);
}
END_TEST

START_TEST(test_trivial_acl)
{
	uint8_t a[48];
	/* Worked values of object-layer.md §8.13. */
	ck_assert_uint_eq(zpl_trivial_acl(040755, true, a), 3);
	ck_assert_uint_eq(le32(a + 4), 0x1E01FF);
	ck_assert_uint_eq(le16(a + 2), 0x1000);
	ck_assert_uint_eq(le32(a + 12), 0x1200A9);
	ck_assert_uint_eq(le16(a + 10), 0x2040);
	ck_assert_uint_eq(le32(a + 20), 0x1200A9);
	ck_assert_uint_eq(le16(a + 18), 0x4000);
	ck_assert_uint_eq(zpl_trivial_acl(0100600, false, a), 3);
	ck_assert_uint_eq(le32(a + 4), 0x1E019F);
	ck_assert_uint_eq(le32(a + 12), 0x120088);
	ck_assert_uint_eq(zpl_trivial_acl(041777, true, a), 3);
	ck_assert_uint_eq(le32(a + 12), 0x1200EF);
	/* Other may read what the owner may not: a deny for owner@ first,
	 * a deny for group@ when the group lacks it too. */
	ck_assert_uint_eq(zpl_trivial_acl(0100004, false, a), 5);
	ck_assert_uint_eq(le16(a + 0), 1);
	ck_assert_uint_eq(le16(a + 2), 0x1000);
	ck_assert_uint_eq(le32(a + 4), 0x1);
	ck_assert_uint_eq(le16(a + 8), 1);
	ck_assert_uint_eq(le16(a + 10), 0x2040);
	/* Owner and other but not group: allow0 for the owner. */
	ck_assert_uint_eq(zpl_trivial_acl(0100404, false, a), 5);
	ck_assert_uint_eq(le16(a + 0), 0);
	ck_assert_uint_eq(le32(a + 4), 0x1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("zpl_write");
	TCase *tc = tcase_create("fixture");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_relayout_matches_openzfs);
	tcase_add_test(tc, test_list_edits);
	tcase_add_test(tc, test_trivial_acl);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(suite());
}
