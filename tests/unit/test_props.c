/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * test_props.c — the property calls of zfuse/dataset.h on a pool made by
 * zfuse_pool_create, through the public API: zfuse_prop_set while a
 * filesystem of the pool is open changes how that open filesystem writes
 * (recordsize: the block size of a new file; copies: the space it takes),
 * sources and values read back (local, default, user properties,
 * inherit), refusals change nothing, and everything survives a reimport.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check_main.h"
#include "zfuse/dataset.h"
#include "zfuse/zfuse.h"

static char dir[256], img[300];

static void quiet(void *arg, int level, const char *msg)
{
	(void)arg;
	(void)level;
	(void)msg;
}

static zfuse_pool_t *import_rw(void)
{
	const char *paths[] = { img };
	struct zfuse_import_opts io = { 0 };
	io.paths = paths;
	io.npaths = 1;
	io.readwrite = true;
	io.log = quiet;
	zfuse_pool_t *pool = NULL;
	ck_assert_int_eq(zfuse_pool_import(&io, &pool), 0);
	ck_assert(zfuse_pool_writable(pool));
	return pool;
}

static void make_pool(void)
{
	snprintf(dir, sizeof(dir), "%s/zfuse-test-props.XXXXXX", getenv("TMPDIR") ?
		 getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(img, sizeof(img), "%s/p.img", dir);
	const char *vdevs[] = { img };
	struct zfuse_create_opts co = { 0 };
	co.name = "ptest";
	co.vdev_args = vdevs;
	co.nvdev_args = 1;
	co.file_size = 128ULL << 20;
	co.log = quiet;
	ck_assert_int_eq(zfuse_pool_create(&co), 0);
}

static void drop_pool(void)
{
	unlink(img);
	rmdir(dir);
}

static void get(zfuse_pool_t *pool, const char *prop, bool p, const char *want,
		enum zfuse_prop_source src)
{
	struct zfuse_prop_value v;
	ck_assert_int_eq(zfuse_prop_get(pool, "ptest", prop, p, &v), 0);
	ck_assert_str_eq(v.value, want);
	ck_assert_int_eq(v.source, src);
}

/* Write 256 KiB into a new file and return its st_blksize and st_blocks. */
static void write_file(zfuse_fs_t *fs, const char *name, struct stat *st)
{
	uint64_t ino;
	char *buf = malloc(256 << 10);
	for (size_t i = 0; i < (256 << 10); i++)
		buf[i] = (char)(rand() & 0xff);	/* incompressible */
	ck_assert_int_eq(zfuse_create(fs, zfuse_fs_root(fs), name, 0644, 0, 0, &ino, NULL), 0);
	ck_assert_int_eq(zfuse_write(fs, ino, buf, 256 << 10, 0), 256 << 10);
	ck_assert_int_eq(zfuse_fs_sync(fs), 0);
	ck_assert_int_eq(zfuse_getattr(fs, ino, st), 0);
	free(buf);
}

START_TEST(set_follows_open_fs)
{
	make_pool();
	zfuse_pool_t *pool = import_rw();
	zfuse_fs_t *fs;
	ck_assert_int_eq(zfuse_fs_open(pool, "ptest", &fs), 0);
	struct stat a, b;
	write_file(fs, "before", &a);
	ck_assert_int_eq(a.st_blksize, 128 << 10);

	const struct zfuse_prop_setting s[] = {
		{ "recordsize", "32K" }, { "copies", "2" }, { "compression", "off" },
		{ "com.example:tag", "hello world" },
	};
	ck_assert_int_eq(zfuse_prop_set(pool, "ptest", s, 4), 0);
	write_file(fs, "after", &b);
	ck_assert_int_eq(b.st_blksize, 32 << 10);
	/* copies=2: about twice the sectors of the first file */
	ck_assert_int_ge(b.st_blocks, 2 * a.st_blocks - 16);

	get(pool, "recordsize", true, "32768", ZFUSE_SRC_LOCAL);
	get(pool, "recsize", false, "32K", ZFUSE_SRC_LOCAL);
	get(pool, "copies", false, "2", ZFUSE_SRC_LOCAL);
	get(pool, "com.example:tag", false, "hello world", ZFUSE_SRC_LOCAL);
	get(pool, "atime", false, "on", ZFUSE_SRC_DEFAULT);
	get(pool, "origin", false, "-", ZFUSE_SRC_NONE);

	/* Refusals: nothing changes. */
	const struct zfuse_prop_setting bad[][2] = {
		{ { "copies", "1" }, { "recordsize", "3K" } },
		{ { "copies", "1" }, { "used", "5" } },
		{ { "copies", "1" }, { "nosuch", "1" } },
		{ { "copies", "1" }, { "utf8only", "on" } },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(zfuse_prop_set(pool, "ptest", bad[i], 2), -ZFUSE_E_INVAL);
	get(pool, "copies", false, "2", ZFUSE_SRC_LOCAL);
	const struct zfuse_prop_setting resv[] = { { "reservation", "1M" } }, noresv[] = { { "reservation", "none" } };
	ck_assert_int_eq(zfuse_prop_set(pool, "ptest", resv, 1), 0);
	get(pool, "reservation", false, "1M", ZFUSE_SRC_LOCAL);
	ck_assert_int_eq(zfuse_prop_set(pool, "ptest", noresv, 1), 0);
	struct zfuse_prop_value v;
	ck_assert_int_eq(zfuse_prop_get(pool, "ptest", "nosuch:x", false, &v), -ZFUSE_E_NODATA);
	ck_assert_int_eq(zfuse_prop_get(pool, "ptest", "nosuch", false, &v), -ZFUSE_E_INVAL);
	ck_assert_int_eq(zfuse_prop_get(pool, "ptest/none", "used", false, &v), -ZFUSE_E_NOENT);

	ck_assert_int_eq(zfuse_prop_inherit(pool, "ptest", "recordsize"), 0);
	ck_assert_int_eq(zfuse_prop_inherit(pool, "ptest", "com.example:tag"), 0);
	ck_assert_int_eq(zfuse_prop_inherit(pool, "ptest", "quota"), -ZFUSE_E_INVAL);
	struct stat c;
	write_file(fs, "inherited", &c);
	ck_assert_int_eq(c.st_blksize, 128 << 10);
	zfuse_fs_close(fs);
	zfuse_pool_close(pool);

	pool = import_rw();
	get(pool, "recordsize", false, "128K", ZFUSE_SRC_DEFAULT);
	get(pool, "copies", false, "2", ZFUSE_SRC_LOCAL);
	ck_assert_int_eq(zfuse_prop_get(pool, "ptest", "com.example:tag", false, &v),
			 -ZFUSE_E_NODATA);
	zfuse_pool_close(pool);
	drop_pool();
}
END_TEST

int main(void)
{
	return RUN_TESTS("props", "set on an open filesystem", 300, set_follows_open_fs);
}
