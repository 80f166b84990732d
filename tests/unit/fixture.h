/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * fixture.h — the pool setup unit tests share: the basic fixture's
 * manifest, importing an image (the unpacked basic fixture named by
 * ZFUSE_TEST_IMAGE, or a file), opening a dataset and its SA table, and
 * creating a one-vdev pool in a temporary directory. Header-only (static
 * inline) because each test is its own executable and some link only a
 * few source files.
 */
#ifndef ZFUSE_TEST_FIXTURE_H
#define ZFUSE_TEST_FIXTURE_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dmu_types.h"
#include "dnode.h"
#include "dsl.h"
#include "sa.h"
#include "spa.h"
#include "zap.h"
#include "zfuse/zfuse.h"

/* The basic fixture's manifest (one line per path, tab-separated fields). */
static inline FILE *basic_manifest_open(void)
{
	char fn[4096];
	snprintf(fn, sizeof(fn), "%s/fixtures/basic/manifest.basic.tsv", getenv("ZFUSE_SHARED"));
	FILE *f = fopen(fn, "r");
	ck_assert_ptr_nonnull(f);
	return f;
}

/* Field `col` (0-based) of the manifest line for `path` (a static buffer). */
static inline const char *manifest_field(const char *path, int col)
{
	static char line[8192];
	FILE *f = basic_manifest_open();
	size_t plen = strlen(path);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, path, plen) || line[plen] != '\t')
			continue;
		fclose(f);
		char *p = line;
		for (int i = 0; i < col; i++)
			p = strchr(p, '\t') + 1;
		p[strcspn(p, "\t\n")] = 0;
		return p;
	}
	fclose(f);
	ck_abort_msg("no manifest line for %s", path);
	return NULL;
}

/* The pool in the one image `path` (read-write when rw). */
static inline zfuse_pool_t *import_image(const char *path, bool rw)
{
	struct zfuse_import_opts o = { .paths = &path, .npaths = 1, .readwrite = rw };
	zfuse_pool_t *p;
	ck_assert_int_eq(zfuse_pool_import(&o, &p), 0);
	return p;
}

/* The unpacked basic fixture (ZFUSE_TEST_IMAGE), imported read-only. */
static inline zfuse_pool_t *import_basic(void)
{
	const char *img = getenv("ZFUSE_TEST_IMAGE");
	ck_assert_msg(img != NULL, "ZFUSE_TEST_IMAGE is not set");
	return import_image(img, false);
}

/* The objset of the head dataset `name`. */
static inline objset_t *open_dataset(zfuse_pool_t *pool, const char *name)
{
	spa_t *spa = (spa_t *)pool;
	uint64_t dsobj, dirobj;
	bool snap;
	ck_assert_int_eq(dsl_dataset_lookup(spa, name, &dsobj, &dirobj, &snap), 0);
	dsl_dataset_phys_t ds;
	ck_assert_int_eq(dsl_dataset_read(spa, dsobj, &ds), 0);
	objset_t *os;
	ck_assert_int_eq(objset_open(spa, &ds.bp, &os), 0);
	return os;
}

/* The SA attribute table of a filesystem (the master node's SA_ATTRS). */
static inline sa_table_t *load_sa_table(objset_t *os)
{
	dnode_t mn;
	uint64_t sa_obj;
	ck_assert_int_eq(dnode_hold(os, 1, &mn), 0);
	ck_assert_int_eq(zap_lookup_uint64(&mn, "SA_ATTRS", &sa_obj), 0);
	dnode_rele(&mn);
	sa_table_t *sa;
	ck_assert_int_eq(sa_table_load(os, sa_obj, &sa), 0);
	return sa;
}

/* The basic fixture's filesystem "basic", opened and closed around each
 * test by the Check fixture basic_fs_setup / basic_fs_teardown. */
static struct basic_fs {
	zfuse_pool_t *pool;
	objset_t *os;
	sa_table_t *sa;
} basic_fs __attribute__((unused));

static inline void basic_fs_setup(void)
{
	basic_fs.pool = import_basic();
	basic_fs.os = open_dataset(basic_fs.pool, "basic");
	basic_fs.sa = load_sa_table(basic_fs.os);
}

static inline void basic_fs_teardown(void)
{
	sa_table_free(basic_fs.sa);
	objset_close(basic_fs.os);
	zfuse_pool_close(basic_fs.pool);
}

/* A new pool `name` of one `size`-byte file vdev, `img` (cap bytes) =
 * DIR/FILE, in a new directory made from the mkdtemp template `dir`. */
static inline void create_temp_pool(char *dir, const char *file, char *img, size_t cap, const char *name,
				    uint64_t size)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(img, cap, "%s/%s", dir, file);
	const char *vdevs[] = { img };
	struct zfuse_create_opts co = { .name = name, .vdev_args = vdevs, .nvdev_args = 1, .file_size = size };
	ck_assert_int_eq(zfuse_pool_create(&co), 0);
}

#endif
