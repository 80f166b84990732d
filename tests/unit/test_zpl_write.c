/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * test_zpl_write.c — the ZPL writer's layout rules checked against what
 * OpenZFS 2.3.2 wrote in the `basic` fixture: every SA object of the
 * filesystem is decoded into an attribute list and laid out again by
 * sa.c; the layout numbers, bonus length, bonus bytes, spill size and
 * spill bytes must come out exactly as on disk (this covers the spill
 * split of long symlinks and large SA xattrs). The trivial ACL built from
 * each object's mode must equal its stored DACL_ACES.
 * ZFUSE_TEST_IMAGE names the unpacked image (the test fails without it).
 */
#include <check.h>
#include "check_main.h"
#include "fixture.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "arc.h"
#include "byteorder.h"
#include "dmu_types.h"
#include "dnode.h"
#include "dsl.h"
#include "sa.h"
#include "spa.h"
#include "txg.h"
#include "zap.h"
#include "zpl_impl.h"
#include "zfuse/zfuse.h"

static int existing_layout(void *arg, const uint16_t *attrs, unsigned n, unsigned *num)
{
	(void)arg;
	return sa_table_find_layout(basic_fs.sa, attrs, n, num);
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
	uint64_t max = objset_max_object(basic_fs.os);
	unsigned checked = 0, spilled = 0, symlinks = 0;
	for (uint64_t obj = 1; obj < max; obj++) {
		dnode_t dn;
		if (dnode_hold(basic_fs.os, obj, &dn) != 0)
			continue;
		if (dn.bonustype != DMU_OT_SA) {
			dnode_rele(&dn);
			continue;
		}
		sa_attrs_t l;
		ck_assert_msg(sa_attrs_load(basic_fs.sa, &dn, &l) == 0, "object %lu: cannot load", (unsigned long)obj);
		struct sa_layout_out *out = malloc(sizeof(*out));
		ck_assert_ptr_nonnull(out);
		/* Laid out as for a fresh object: no old spill to reuse. */
		int rc = sa_layout_compute(basic_fs.sa, &l, dn.size, 0, NULL, existing_layout, NULL, out);
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
		const uint8_t *mode = sa_attrs_get(basic_fs.sa, &l, ZPL_MODE, &alen);
		ck_assert_ptr_nonnull(mode);
		if (S_ISLNK(le64(mode)))
			symlinks++;
		const uint8_t *aces = sa_attrs_get(basic_fs.sa, &l, ZPL_DACL_ACES, &alen);
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
			ck_assert_int_eq(sa_attrs_set_time(basic_fs.sa, &l, order[i], ts), 0);
		} else {
			ck_assert_int_eq(sa_attrs_set_u64(basic_fs.sa, &l, order[i], i + 1), 0);
		}
	}
	ck_assert_int_eq(sa_attrs_set_u64(basic_fs.sa, &l, ZPL_DACL_COUNT, 3), 0);
	uint8_t aces[48];
	unsigned n = zpl_trivial_acl(0100644, false, aces);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(sa_attrs_set(basic_fs.sa, &l, ZPL_DACL_ACES, aces, 24), 0);
	/* A fixed-length attribute refuses another length. */
	ck_assert_int_eq(sa_attrs_set(basic_fs.sa, &l, ZPL_SIZE, aces, 4), -ZFUSE_E_INVAL);
	struct sa_layout_out *out = malloc(sizeof(*out));
	ck_assert_int_eq(sa_layout_compute(basic_fs.sa, &l, 512, 0, NULL, existing_layout, NULL, out), 0);
	ck_assert_uint_eq(out->bonuslen, 168);	/* 8 + 136 + 24, the FIFO layout */
	ck_assert_ptr_null(out->spill);
	/* A 1000-byte symlink target does not fit a 512-byte dnode. */
	char target[1000];
	memset(target, 'x', sizeof(target));
	ck_assert_int_eq(sa_attrs_set(basic_fs.sa, &l, ZPL_SYMLINK, target, sizeof(target)), 0);
	ck_assert_int_eq(sa_layout_compute(basic_fs.sa, &l, 512, 0, NULL, existing_layout, NULL, out), 0);
	ck_assert_ptr_nonnull(out->spill);
	ck_assert_uint_eq(out->spill_size, 1024);
	ck_assert_uint_eq(out->bonuslen, 192);	/* capacity - 128 when spilling */
	ck_assert_uint_eq(out->spill_count, 1);
	free(out->spill);
	/* With 1 KiB dnodes a 600-byte target stays in the bonus. */
	ck_assert_int_eq(sa_attrs_set(basic_fs.sa, &l, ZPL_SYMLINK, target, 600), 0);
	ck_assert_int_eq(sa_layout_compute(basic_fs.sa, &l, 1024, 0, NULL, existing_layout, NULL, out), 0);
	ck_assert_ptr_null(out->spill);
	ck_assert_uint_eq(out->bonuslen, 16 + 136 + 24 + 600);
	sa_attrs_remove(basic_fs.sa, &l, ZPL_SYMLINK);
	ck_assert_ptr_null(sa_attrs_get(basic_fs.sa, &l, ZPL_SYMLINK, NULL));
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


/* ---- operations in the open txg (no sync needed) ---------------------- */

/*
 * The pool is imported read-only and then marked writable in memory: every
 * change stays in the dirty overlay (nothing is synced, the image is not
 * touched) and is checked through the read API, which sees the overlay.
 */
static zfuse_pool_t *wpool;
static zfuse_fs_t *wfs;

static void wsetup(void)
{
	wpool = import_basic();
	spa_t *spa = (spa_t *)wpool;
	spa->writable = true;
	spa->open_txg = spa->ub.ub_txg + 1;
	ck_assert_int_eq(zfuse_fs_open(wpool, "basic", &wfs), 0);
	ck_assert(zfuse_fs_writable(wfs));
}

static void wteardown(void)
{
	spa_t *spa = (spa_t *)wpool;
	spa->writable = false;	/* drop the overlay instead of syncing it */
	zfuse_fs_close(wfs);
	zfuse_pool_close(wpool);
}

static uint64_t pflags(uint64_t ino)
{
	dnode_t dn;
	struct znode zp;
	ck_assert_int_eq(zpl_znode_get(wfs, ino, &dn, &zp), 0);
	dnode_rele(&dn);
	return zp.flags;
}

START_TEST(test_create_and_write)
{
	uint64_t root = zfuse_fs_root(wfs), d, f, g;
	struct stat st, rst;
	ck_assert_int_eq(zfuse_getattr(wfs, root, &rst), 0);
	ck_assert_int_eq(zfuse_mkdir(wfs, root, "zw", 0755, 1000, 100, &d, &st), 0);
	ck_assert_uint_eq(st.st_mode, S_IFDIR | 0755);
	ck_assert_uint_eq(st.st_nlink, 2);
	ck_assert_int_eq(st.st_size, 2);
	ck_assert_uint_eq(st.st_uid, 1000);
	ck_assert_uint_eq(pflags(d), 0x840800000144ULL);
	struct stat rst2;
	ck_assert_int_eq(zfuse_getattr(wfs, root, &rst2), 0);
	ck_assert_uint_eq(rst2.st_nlink, rst.st_nlink + 1);
	ck_assert_int_eq(rst2.st_size, rst.st_size + 1);
	ck_assert_int_eq(zfuse_mkdir(wfs, root, "zw", 0755, 0, 0, NULL, NULL), -ZFUSE_E_EXIST);

	ck_assert_int_eq(zfuse_create(wfs, d, "small", 0644, 1000, 100, &f, NULL), 0);
	ck_assert_uint_eq(pflags(f), 0x840800000004ULL);
	ck_assert_int_eq(zfuse_write(wfs, f, "hello, world\n", 13, 0), 13);
	ck_assert_int_eq(zfuse_getattr(wfs, f, &st), 0);
	ck_assert_int_eq(st.st_size, 13);
	ck_assert_int_eq(st.st_blksize, 512);
	char buf[64];
	ck_assert_int_eq(zfuse_read(wfs, f, buf, sizeof(buf), 0), 13);
	ck_assert_mem_eq(buf, "hello, world\n", 13);
	uint64_t look;
	ck_assert_int_eq(zfuse_lookup(wfs, d, "small", &look), 0);
	ck_assert_uint_eq(look, f);

	/* One block of roundup(size, 512) until recordsize, then records. */
	ck_assert_int_eq(zfuse_create(wfs, d, "big", 0600, 0, 0, &g, NULL), 0);
	uint8_t *data = malloc(300000), *back = malloc(300000);
	for (int i = 0; i < 300000; i++)
		data[i] = (uint8_t)(i * 7 + i / 251);
	ck_assert_int_eq(zfuse_write(wfs, g, data, 100000, 0), 100000);
	ck_assert_int_eq(zfuse_getattr(wfs, g, &st), 0);
	ck_assert_int_eq(st.st_blksize, 100352);
	ck_assert_int_eq(zfuse_write(wfs, g, data + 100000, 200000, 100000), 200000);
	ck_assert_int_eq(zfuse_getattr(wfs, g, &st), 0);
	ck_assert_int_eq(st.st_blksize, 131072);
	ck_assert_int_eq(st.st_size, 300000);
	ck_assert_int_eq(zfuse_read(wfs, g, back, 300000, 0), 300000);
	ck_assert(memcmp(back, data, 300000) == 0);

	/* Truncate, extend, punch. */
	struct zfuse_setattr sa = { .valid = ZFUSE_SET_SIZE, .size = 1000 };
	ck_assert_int_eq(zfuse_setattr(wfs, g, &sa, &st), 0);
	ck_assert_int_eq(st.st_size, 1000);
	sa.size = 5000;
	ck_assert_int_eq(zfuse_setattr(wfs, g, &sa, &st), 0);
	ck_assert_int_eq(zfuse_read(wfs, g, back, 5000, 0), 5000);
	ck_assert(memcmp(back, data, 1000) == 0);
	for (int i = 1000; i < 5000; i++)
		ck_assert_uint_eq(back[i], 0);
	ck_assert_int_eq(zfuse_fallocate(wfs, g, ZFUSE_FALLOC_PUNCH_HOLE | ZFUSE_FALLOC_KEEP_SIZE, 10, 20), 0);
	ck_assert_int_eq(zfuse_read(wfs, g, back, 40, 0), 40);
	ck_assert_uint_eq(back[9], data[9]);
	ck_assert_uint_eq(back[10], 0);
	ck_assert_uint_eq(back[29], 0);
	ck_assert_uint_eq(back[30], data[30]);
	ck_assert_int_eq(zfuse_write(wfs, d, "x", 1, 0), -ZFUSE_E_ISDIR);

	/* chmod rebuilds the ACL flags; utimens. */
	struct zfuse_setattr ch = { .valid = ZFUSE_SET_MODE | ZFUSE_SET_MTIME, .mode = 0755,
				    .mtime = { -315619200, 123456789 } };
	ck_assert_int_eq(zfuse_setattr(wfs, f, &ch, &st), 0);
	ck_assert_uint_eq(st.st_mode, S_IFREG | 0755);
	ck_assert_int_eq(st.st_mtim.tv_sec, -315619200);
	ck_assert_int_eq(st.st_mtim.tv_nsec, 123456789);
	ck_assert_uint_eq(pflags(f), 0x840800000104ULL);
	free(data);
	free(back);
}
END_TEST

static int64_t coarse_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Times come from the coarse clock, as OpenZFS's (gethrestime): the kernel
 * stamps a write with that clock too, and when a new file's times already
 * equal it, closing the file sends no SETATTR. A fine clock's value would
 * be ahead of a coarse reading taken right after, nearly every time. */
START_TEST(test_coarse_times)
{
	uint64_t root = zfuse_fs_root(wfs), d, f;
	struct stat st;
	ck_assert_int_eq(zfuse_mkdir(wfs, root, "clock", 0755, 0, 0, &d, NULL), 0);
	for (int i = 0; i < 20; i++) {
		char name[16];
		snprintf(name, sizeof(name), "f%d", i);
		int64_t before = coarse_ns();
		ck_assert_int_eq(zfuse_create(wfs, d, name, 0644, 0, 0, &f, NULL), 0);
		ck_assert_int_eq(zfuse_write(wfs, f, "x", 1, 0), 1);
		ck_assert_int_eq(zfuse_getattr(wfs, f, &st), 0);
		int64_t after = coarse_ns();
		int64_t m = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
		int64_t c = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
		ck_assert_msg(before <= m && m <= after, "mtime %lld not in [%lld, %lld]",
			      (long long)m, (long long)before, (long long)after);
		ck_assert_msg(before <= c && c <= after, "ctime %lld not in [%lld, %lld]",
			      (long long)c, (long long)before, (long long)after);
	}
}
END_TEST

START_TEST(test_names)
{
	uint64_t root = zfuse_fs_root(wfs), d, f, l, c, sub;
	struct stat st;
	char buf[256];
	ck_assert_int_eq(zfuse_mkdir(wfs, root, "nm", 02775, 0, 50, &d, NULL), 0);
	/* A setgid directory hands down its group and the bit to subdirs. */
	ck_assert_int_eq(zfuse_mkdir(wfs, d, "sub", 0755, 1000, 1000, &sub, &st), 0);
	ck_assert_uint_eq(st.st_gid, 50);
	ck_assert_uint_eq(st.st_mode, S_IFDIR | 02755);
	ck_assert_int_eq(zfuse_create(wfs, d, "f", 0644, 1000, 1000, &f, &st), 0);
	ck_assert_uint_eq(st.st_gid, 50);
	ck_assert_int_eq(zfuse_symlink(wfs, d, "ln", "target-9", 0, 0, &l, &st), 0);
	ck_assert_uint_eq(st.st_mode, S_IFLNK | 0777);
	ck_assert_int_eq(st.st_size, 8);
	ck_assert_uint_eq(pflags(l), 0x40800000104ULL);
	ck_assert_int_eq(zfuse_readlink(wfs, l, buf, sizeof(buf)), 8);
	ck_assert_str_eq(buf, "target-9");
	ck_assert_int_eq(zfuse_mknod(wfs, d, "null", S_IFCHR | 0666, makedev(1, 3), 0, 0, &c, &st), 0);
	ck_assert_uint_eq(major(st.st_rdev), 1);
	ck_assert_uint_eq(minor(st.st_rdev), 3);

	/* Hard link, rename, unlink; the parent's size follows. */
	ck_assert_int_eq(zfuse_link(wfs, f, root, "f-link", &st), 0);
	ck_assert_uint_eq(st.st_nlink, 2);
	ck_assert_int_eq(zfuse_link(wfs, sub, root, "dirlink", NULL), -ZFUSE_E_PERM);
	ck_assert_int_eq(zfuse_rename(wfs, root, "f-link", d, "g", 0), 0);
	uint64_t x;
	ck_assert_int_eq(zfuse_lookup(wfs, root, "f-link", &x), -ZFUSE_E_NOENT);
	ck_assert_int_eq(zfuse_lookup(wfs, d, "g", &x), 0);
	ck_assert_uint_eq(x, f);
	ck_assert_int_eq(zfuse_rename(wfs, d, "g", d, "f", ZFUSE_RENAME_NOREPLACE), -ZFUSE_E_EXIST);
	/* Renaming onto another name of the same file does nothing. */
	ck_assert_int_eq(zfuse_rename(wfs, d, "g", d, "f", 0), 0);
	ck_assert_int_eq(zfuse_lookup(wfs, d, "g", &x), 0);
	ck_assert_int_eq(zfuse_unlink(wfs, d, "g"), 0);
	ck_assert_int_eq(zfuse_getattr(wfs, f, &st), 0);
	ck_assert_uint_eq(st.st_nlink, 1);
	ck_assert_int_eq(zfuse_getattr(wfs, d, &st), 0);
	ck_assert_int_eq(st.st_size, 2 + 4);	/* sub f ln null */
	ck_assert_uint_eq(st.st_nlink, 3);

	/* Exchange swaps a directory and a file. */
	ck_assert_int_eq(zfuse_rename(wfs, d, "sub", d, "f", ZFUSE_RENAME_EXCHANGE), 0);
	ck_assert_int_eq(zfuse_lookup(wfs, d, "f", &x), 0);
	ck_assert_uint_eq(x, sub);
	ck_assert_int_eq(zfuse_lookup(wfs, d, "sub", &x), 0);
	ck_assert_uint_eq(x, f);
	/* A directory cannot move below itself; a file not onto a dir. */
	ck_assert_int_eq(zfuse_rename(wfs, d, "f", sub, "loop", 0), -ZFUSE_E_INVAL);
	ck_assert_int_eq(zfuse_rename(wfs, d, "sub", d, "f", 0), -ZFUSE_E_ISDIR);

	/* rmdir: not empty, then empty. */
	ck_assert_int_eq(zfuse_rmdir(wfs, root, "nm"), -ZFUSE_E_NOTEMPTY);
	ck_assert_int_eq(zfuse_unlink(wfs, d, "f"), -ZFUSE_E_ISDIR);
	ck_assert_int_eq(zfuse_rmdir(wfs, d, "f"), 0);
	ck_assert_int_eq(zfuse_getattr(wfs, d, &st), 0);
	ck_assert_uint_eq(st.st_nlink, 2);

	/* A file replaced by rename loses its last link: queued, then freed
	 * when forgotten. */
	uint64_t victim;
	ck_assert_int_eq(zfuse_create(wfs, d, "victim", 0644, 0, 0, &victim, NULL), 0);
	ck_assert_int_eq(zfuse_rename(wfs, d, "sub", d, "victim", 0), 0);
	ck_assert_int_eq(zfuse_getattr(wfs, victim, &st), 0);
	ck_assert_uint_eq(st.st_nlink, 0);
	ck_assert_int_eq(zfuse_forget(wfs, victim), 0);
	ck_assert_int_eq(zfuse_getattr(wfs, victim, &st), -ZFUSE_E_NOENT);
	ck_assert_int_eq(zfuse_forget(wfs, f), 0);	/* live: nothing happens */
	ck_assert_int_eq(zfuse_getattr(wfs, f, &st), 0);
}
END_TEST

START_TEST(test_xattrs)
{
	uint64_t root = zfuse_fs_root(wfs), f;
	char buf[65536];
	ck_assert_int_eq(zfuse_create(wfs, root, "xa", 0644, 0, 0, &f, NULL), 0);
	ck_assert_int_eq(zfuse_setxattr(wfs, f, "user.small", "abc", 3, 0), 0);
	ck_assert_int_eq(zfuse_getxattr(wfs, f, "user.small", buf, sizeof(buf)), 3);
	ck_assert_mem_eq(buf, "abc", 3);
	ck_assert_int_eq(zfuse_setxattr(wfs, f, "user.small", "x", 1, ZFUSE_XATTR_CREATE), -ZFUSE_E_EXIST);
	ck_assert_int_eq(zfuse_setxattr(wfs, f, "user.none", "x", 1, ZFUSE_XATTR_REPLACE), -ZFUSE_E_NODATA);
	ck_assert_int_eq(zfuse_setxattr(wfs, f, "bogus.ns", "x", 1, 0), -ZFUSE_E_UNSUPPORTED);
	/* Over 32 KiB a value lives in the xattr directory. */
	static uint8_t big[40000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 13);
	ck_assert_int_eq(zfuse_setxattr(wfs, f, "user.big", big, sizeof(big), 0), 0);
	ck_assert_int_eq(zfuse_getxattr(wfs, f, "user.big", buf, sizeof(buf)), (ssize_t)sizeof(big));
	ck_assert(memcmp(buf, big, sizeof(big)) == 0);
	ssize_t n = zfuse_listxattr(wfs, f, buf, sizeof(buf));
	ck_assert_int_eq(n, (ssize_t)(sizeof("user.small") + sizeof("user.big")));
	/* Rewriting it small moves it back to the SA. */
	ck_assert_int_eq(zfuse_setxattr(wfs, f, "user.big", "tiny", 4, 0), 0);
	ck_assert_int_eq(zfuse_getxattr(wfs, f, "user.big", buf, sizeof(buf)), 4);
	ck_assert_int_eq(zfuse_listxattr(wfs, f, buf, sizeof(buf)), n);
	ck_assert_int_eq(zfuse_removexattr(wfs, f, "user.small"), 0);
	ck_assert_int_eq(zfuse_getxattr(wfs, f, "user.small", buf, sizeof(buf)), -ZFUSE_E_NODATA);
	ck_assert_int_eq(zfuse_removexattr(wfs, f, "user.small"), -ZFUSE_E_NODATA);
}
END_TEST

/* ---- on a real pool: sync, reimport, drain, zdb ----------------------- */

static char pooldir[64];

static zfuse_pool_t *import_dir(bool rw)
{
	char img[128];
	snprintf(img, sizeof(img), "%s/zw.img", pooldir);
	zfuse_pool_t *p = import_image(img, rw);
	ck_assert(zfuse_pool_writable(p) == rw);
	return p;
}

/* zdb's view of the filesystem (NULL when zdb is not installed). */
static char *zdb_dump(void)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "zdb -e -p %s -dddd zw 2>/dev/null", pooldir);
	FILE *f = popen(cmd, "r");
	if (!f)
		return NULL;
	size_t cap = 1 << 20, n = 0;
	char *out = malloc(cap);
	size_t r;
	while ((r = fread(out + n, 1, cap - n - 1, f)) > 0) {
		n += r;
		if (n + 1 == cap)
			out = realloc(out, cap *= 2);
	}
	out[n] = 0;
	pclose(f);
	if (n == 0) {
		free(out);
		return NULL;
	}
	return out;
}

START_TEST(test_pool_roundtrip)
{
	snprintf(pooldir, sizeof(pooldir), "/tmp/zplw-test-XXXXXX");
	char img[128];
	create_temp_pool(pooldir, "zw.img", img, sizeof(img), "zw", 256ULL << 20);

	zfuse_pool_t *p = import_dir(true);
	zfuse_fs_t *fs;
	ck_assert_int_eq(zfuse_fs_open(p, "zw", &fs), 0);
	uint64_t root = zfuse_fs_root(fs), d, f, gone;
	ck_assert_int_eq(zfuse_mkdir(fs, root, "dir", 0750, 1000, 1000, &d, NULL), 0);
	ck_assert_int_eq(zfuse_create(fs, d, "file", 0644, 1000, 1000, &f, NULL), 0);
	static uint8_t data[200000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i % 251);
	ck_assert_int_eq(zfuse_write(fs, f, data, sizeof(data), 0), (ssize_t)sizeof(data));
	ck_assert_int_eq(zfuse_setxattr(fs, f, "user.test", "abc", 3, 0), 0);
	ck_assert_int_eq(zfuse_symlink(fs, d, "ln", "file", 0, 0, NULL, NULL), 0);
	ck_assert_int_eq(zfuse_mknod(fs, d, "null", S_IFCHR | 0666, makedev(1, 3), 0, 0, NULL, NULL), 0);
	/* Unlinked while "open": stays queued across the export. */
	ck_assert_int_eq(zfuse_create(fs, d, "gone", 0644, 0, 0, &gone, NULL), 0);
	ck_assert_int_eq(zfuse_unlink(fs, d, "gone"), 0);
	ck_assert_int_eq(zfuse_fs_sync(fs), 0);
	zfuse_fs_close(fs);
	zfuse_pool_close(p);

	/* Read back through a read-only import. */
	p = import_dir(false);
	ck_assert_int_eq(zfuse_fs_open(p, "zw", &fs), 0);
	struct stat st;
	uint64_t x;
	ck_assert_int_eq(zfuse_lookup(fs, root, "dir", &x), 0);
	ck_assert_uint_eq(x, d);
	ck_assert_int_eq(zfuse_getattr(fs, d, &st), 0);
	ck_assert_uint_eq(st.st_mode, S_IFDIR | 0750);
	ck_assert_int_eq(st.st_size, 2 + 3);
	ck_assert_int_eq(zfuse_getattr(fs, f, &st), 0);
	ck_assert_int_eq(st.st_size, (off_t)sizeof(data));
	ck_assert_int_eq(st.st_blksize, 131072);
	static uint8_t back[sizeof(data)];
	ck_assert_int_eq(zfuse_read(fs, f, back, sizeof(back), 0), (ssize_t)sizeof(back));
	ck_assert(memcmp(back, data, sizeof(data)) == 0);
	char buf[64];
	ck_assert_int_eq(zfuse_getxattr(fs, f, "user.test", buf, sizeof(buf)), 3);
	ck_assert_int_eq(zfuse_getattr(fs, gone, &st), 0);
	ck_assert_uint_eq(st.st_nlink, 0);
	zfuse_fs_close(fs);
	zfuse_pool_close(p);

	char *z = zdb_dump();
	if (access("/usr/sbin/zdb", X_OK) == 0)
		ck_assert_msg(z != NULL, "zdb printed nothing for the new pool");
	if (z) {
		ck_assert_ptr_nonnull(strstr(z, "user.test = abc"));
		ck_assert_ptr_nonnull(strstr(z, "target\tfile"));
		ck_assert_ptr_nonnull(strstr(z, "rdev\t0x0000000000100003"));
		ck_assert_ptr_nonnull(strstr(z, "file = "));
		ck_assert_ptr_nonnull(strstr(z, "ZFS delete queue"));
		free(z);
	}

	/* A read-write open drains the queue. */
	p = import_dir(true);
	ck_assert_int_eq(zfuse_fs_open(p, "zw", &fs), 0);
	ck_assert_int_eq(zfuse_getattr(fs, gone, &st), -ZFUSE_E_NOENT);
	ck_assert_int_eq(zfuse_fs_sync(fs), 0);
	zfuse_fs_close(fs);
	zfuse_pool_close(p);
	p = import_dir(false);
	ck_assert_int_eq(zfuse_fs_open(p, "zw", &fs), 0);
	ck_assert_int_eq(zfuse_getattr(fs, gone, &st), -ZFUSE_E_NOENT);
	ck_assert_int_eq(zfuse_getattr(fs, f, &st), 0);
	zfuse_fs_close(fs);
	zfuse_pool_close(p);
	unlink(img);
	rmdir(pooldir);
}
END_TEST


/* Read the file in 128 KiB pieces, in order or backwards; the bytes must
 * be data's. */
static void read_file(zfuse_fs_t *fs, uint64_t f, const uint8_t *data, size_t size,
		      bool backwards, unsigned flags)
{
	static uint8_t piece[131072];
	for (size_t i = 0; i < size / sizeof(piece); i++) {
		size_t k = backwards ? size / sizeof(piece) - 1 - i : i;
		ck_assert_int_eq(zfuse_read_flags(fs, f, piece, sizeof(piece), k * sizeof(piece), flags),
				 (ssize_t)sizeof(piece));
		ck_assert(memcmp(piece, data + k * sizeof(piece), sizeof(piece)) == 0);
	}
}

/* ZFUSE_READ_CACHED: a stream's whole blocks leave the block cache (the
 * caller has them); blocks read at random, and reads without the flag,
 * stay. */
START_TEST(test_stream_reads_leave_cache)
{
	snprintf(pooldir, sizeof(pooldir), "/tmp/zplw-test-XXXXXX");
	char img[128];
	create_temp_pool(pooldir, "zw.img", img, sizeof(img), "zr", 256ULL << 20);
	enum { SIZE = 8 << 20 };
	static uint8_t data[SIZE];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + i / 4093);
	zfuse_pool_t *p = import_dir(true);
	zfuse_fs_t *fs;
	uint64_t f;
	ck_assert_int_eq(zfuse_fs_open(p, "zr", &fs), 0);
	ck_assert_int_eq(zfuse_create(fs, zfuse_fs_root(fs), "f", 0644, 0, 0, &f, NULL), 0);
	ck_assert_int_eq(zfuse_write(fs, f, data, SIZE, 0), SIZE);
	ck_assert_int_eq(zfuse_fs_sync(fs), 0);
	zfuse_fs_close(fs);
	zfuse_pool_close(p);

	struct { bool backwards; unsigned flags; bool stays; } runs[] = {
		{ false, ZFUSE_READ_CACHED, false },
		{ true, ZFUSE_READ_CACHED, true },
		{ false, 0, true },
	};
	for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
		p = import_dir(false);
		ck_assert_int_eq(zfuse_fs_open(p, "zr", &fs), 0);
		arc_t *arc = fs->spa->arc;	/* the pool's block cache */
		uint64_t before = arc_size(arc);
		read_file(fs, f, data, SIZE, runs[r].backwards, runs[r].flags);
		zfuse_fs_close(fs);	/* waits for the prefetches */
		uint64_t grew = arc_size(arc) - before;
		if (runs[r].stays)
			ck_assert_msg(grew >= SIZE, "run %zu: the cache grew by %llu bytes only", r,
				      (unsigned long long)grew);
		else
			ck_assert_msg(grew < SIZE / 4, "run %zu: the cache grew by %llu bytes", r,
				      (unsigned long long)grew);
		zfuse_pool_close(p);
	}
	p = import_dir(false);
	ck_assert_int_eq(zfuse_fs_open(p, "zr", &fs), 0);
	uint8_t b;
	ck_assert_int_eq(zfuse_read_flags(fs, f, &b, 1, 0, 2), -ZFUSE_E_INVAL);
	zfuse_fs_close(fs);
	zfuse_pool_close(p);
	unlink(img);
	rmdir(pooldir);
}
END_TEST

/* A sync starts by itself once the open txg holds ZFUSE_TXG_SYNC_BYTES of
 * dirty data (when that is below 20% of the dirty limit), and not before:
 * 16 MiB written start no sync under the 128 MiB default, and do under a
 * 4 MiB setting. The timed sync is put out of reach. */
START_TEST(test_sync_threshold)
{
	snprintf(pooldir, sizeof(pooldir), "/tmp/zplw-test-XXXXXX");
	char img[128];
	create_temp_pool(pooldir, "zw.img", img, sizeof(img), "zt", 256ULL << 20);
	ck_assert_int_eq(setenv("ZFUSE_TXG_TIMEOUT", "3600", 1), 0);
	static uint8_t data[1 << 20];
	memset(data, 0x5a, sizeof(data));
	struct { const char *sync_bytes; bool syncs; } runs[] = { { NULL, false }, { "4194304", true } };
	for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
		if (runs[r].sync_bytes)
			ck_assert_int_eq(setenv("ZFUSE_TXG_SYNC_BYTES", runs[r].sync_bytes, 1), 0);
		else
			unsetenv("ZFUSE_TXG_SYNC_BYTES");
		zfuse_pool_t *p = import_dir(true);
		zfuse_fs_t *fs;
		uint64_t f;
		char name[16];
		snprintf(name, sizeof(name), "f%zu", r);
		ck_assert_int_eq(zfuse_fs_open(p, "zt", &fs), 0);
		ck_assert_int_eq(zfuse_create(fs, zfuse_fs_root(fs), name, 0644, 0, 0, &f, NULL), 0);
		const uint64_t *synced = &fs->spa->ub.ub_txg;
		uint64_t txg0 = __atomic_load_n(synced, __ATOMIC_ACQUIRE);
		for (int i = 0; i < 16; i++)
			ck_assert_int_eq(zfuse_write(fs, f, data, sizeof(data), (uint64_t)i << 20),
					 (ssize_t)sizeof(data));
		/* up to 30 s for the sync that should start, 1 s for one that should not */
		for (int waited = 0; waited < (runs[r].syncs ? 3000 : 100); waited++) {
			if (__atomic_load_n(synced, __ATOMIC_ACQUIRE) != txg0)
				break;
			usleep(10000);
		}
		uint64_t txg1 = __atomic_load_n(synced, __ATOMIC_ACQUIRE);
		ck_assert_msg((txg1 != txg0) == runs[r].syncs, "run %zu: synced txg %llu -> %llu", r,
			      (unsigned long long)txg0, (unsigned long long)txg1);
		zfuse_fs_close(fs);
		zfuse_pool_close(p);
	}
	unsetenv("ZFUSE_TXG_SYNC_BYTES");
	unsetenv("ZFUSE_TXG_TIMEOUT");
	unlink(img);
	rmdir(pooldir);
}
END_TEST

/* The early-sync pause (txg.h): a txg of mostly read-modify-write blocks
 * is followed by a pause as long as its sync (at most a second); a stream
 * of whole blocks, or a txg of only some rewrites, by none. */
START_TEST(test_rewrite_pause)
{
	const uint64_t ms = 1000000;
	ck_assert_uint_eq(txg_rewrite_pause_ns(250 * ms, 512ULL << 20, 500ULL << 20), 250 * ms);
	ck_assert_uint_eq(txg_rewrite_pause_ns(250 * ms, 512ULL << 20, 256ULL << 20), 250 * ms);
	ck_assert_uint_eq(txg_rewrite_pause_ns(250 * ms, 512ULL << 20, 255ULL << 20), 0);
	ck_assert_uint_eq(txg_rewrite_pause_ns(100 * ms, 128ULL << 20, 0), 0);
	ck_assert_uint_eq(txg_rewrite_pause_ns(5000 * ms, 512ULL << 20, 512ULL << 20), 1000 * ms);
	ck_assert_uint_eq(txg_rewrite_pause_ns(100 * ms, 0, 0), 0);
}
END_TEST

static Suite *suite(void)
{
	TCase *tc = TCASE_OF("fixture", 300, test_relayout_matches_openzfs, test_list_edits, test_trivial_acl);
	tcase_add_unchecked_fixture(tc, basic_fs_setup, basic_fs_teardown);
	Suite *s = suite_of("zpl_write", tc);
	TCase *tw = TCASE_OF("overlay", 300, test_create_and_write, test_coarse_times, test_names, test_xattrs);
	tcase_add_checked_fixture(tw, wsetup, wteardown);
	suite_add_tcase(s, tw);
	suite_add_tcase(s, TCASE_OF("pool", 300, test_pool_roundtrip, test_stream_reads_leave_cache,
				     test_sync_threshold, test_rewrite_pause));
	return s;
}

int main(void)
{
	return run_suite(suite());
}
