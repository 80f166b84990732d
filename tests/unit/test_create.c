/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * test_create.c — the config nvlists a writer generates (spa_config.c):
 * label configs carry the leaf's guid, its top-level subtree and no
 * MOS-only keys; the MOS config carries the whole tree with per-vdev ZAPs;
 * values vdev_t owns (metaslab array/shift, asize) replace the trusted
 * copy's; keys zfuse does not know are kept in place. Also the CLI-facing
 * refusals of zfuse_pool_create that need no write engine.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check_main.h"
#include "spa.h"
#include "spa_config.h"

static vdev_t *mkvd(enum vdev_kind kind, const char *type, uint64_t id, uint64_t guid,
		    vdev_t *parent)
{
	vdev_t *vd = calloc(1, sizeof(*vd));
	vd->kind = kind;
	snprintf(vd->type, sizeof(vd->type), "%s", type);
	vd->id = id;
	vd->guid = guid;
	vd->parent = parent;
	if (parent) {
		parent->child = realloc(parent->child, (parent->nchild + 1) * sizeof(vdev_t *));
		parent->child[parent->nchild++] = vd;
	}
	return vd;
}

static nvlist_t *leaf_nv(uint64_t id, uint64_t guid, const char *path, uint64_t zap)
{
	nvlist_t *nv;
	nvlist_alloc(&nv);
	nvlist_add_string(nv, "type", "file");
	nvlist_add_uint64(nv, "id", id);
	nvlist_add_uint64(nv, "guid", guid);
	nvlist_add_string(nv, "path", path);
	nvlist_add_uint64(nv, "create_txg", 4);
	nvlist_add_uint64(nv, "com.delphix:vdev_zap_leaf", zap);
	return nv;
}

/* A pool: root (guid 100) > mirror (guid 200, id 0) > files 201, 202. */
static spa_t *mirror_pool(void)
{
	spa_t *spa = calloc(1, sizeof(*spa));
	spa->name = strdup("tank");
	spa->guid = 100;
	spa->version = 5000;
	spa->pool_state = POOL_STATE_EXPORTED;
	vdev_t *root = mkvd(VDEV_KIND_ROOT, "root", 0, 100, NULL);
	vdev_t *m = mkvd(VDEV_KIND_MIRROR, "mirror", 0, 200, root);
	m->ashift = 12;
	m->asize = 1000000;
	m->metaslab_array = 77;	/* newer than the trusted copy */
	m->metaslab_shift = 24;
	mkvd(VDEV_KIND_LEAF, "file", 0, 201, m);
	mkvd(VDEV_KIND_LEAF, "file", 1, 202, m);
	spa->root = root;

	nvlist_t *top, *tree, *c, *kids[2];
	nvlist_alloc(&top);
	nvlist_add_string(top, "type", "mirror");
	nvlist_add_uint64(top, "id", 0);
	nvlist_add_uint64(top, "guid", 200);
	nvlist_add_uint64(top, "metaslab_array", 0);
	nvlist_add_uint64(top, "metaslab_shift", 0);
	nvlist_add_uint64(top, "ashift", 12);
	nvlist_add_uint64(top, "asize", 1000000);
	nvlist_add_uint64(top, "is_log", 0);
	nvlist_add_uint64(top, "create_txg", 4);
	nvlist_add_uint64(top, "com.delphix:vdev_zap_top", 50);
	nvlist_add_uint64(top, "org.example:unknown", 9);
	kids[0] = leaf_nv(0, 201, "/a.img", 51);
	kids[1] = leaf_nv(1, 202, "/b.img", 52);
	nvlist_add_nvlist_array(top, "children", (const nvlist_t *const *)kids, 2);
	nvlist_alloc(&tree);
	nvlist_add_string(tree, "type", "root");
	nvlist_add_uint64(tree, "id", 0);
	nvlist_add_uint64(tree, "guid", 100);
	nvlist_add_uint64(tree, "create_txg", 4);
	nvlist_add_nvlist_array(tree, "children", (const nvlist_t *const *)&top, 1);
	nvlist_alloc(&c);
	nvlist_add_uint64(c, "errata", 0);
	nvlist_add_string(c, "compatibility", "zfuse");
	nvlist_add_nvlist(c, "vdev_tree", tree);
	spa->mos_config = c;
	nvlist_alloc(&spa->label_features);
	nvlist_add_boolean(spa->label_features, "com.delphix:hole_birth");
	nvlist_free(kids[0]);
	nvlist_free(kids[1]);
	nvlist_free(top);
	nvlist_free(tree);
	return spa;
}

static void free_pool(spa_t *spa)
{
	vdev_free(spa->root);
	nvlist_free(spa->mos_config);
	nvlist_free(spa->label_features);
	free(spa->name);
	free(spa);
}

/* Names of the pairs of nv, space-separated, in stored order. */
static void key_order(const nvlist_t *nv, char *buf, size_t cap)
{
	buf[0] = '\0';
	for (const nvpair_t *p = nvlist_next_nvpair(nv, NULL); p; p = nvlist_next_nvpair(nv, p)) {
		strncat(buf, nvpair_name(p), cap - strlen(buf) - 2);
		strcat(buf, " ");
	}
}

START_TEST(test_label_config)
{
	spa_t *spa = mirror_pool();
	nvlist_t *nv;
	ck_assert_int_eq(spa_config_generate(spa, spa->root->child[0]->child[1], 9, &nv), 0);
	char keys[1024];
	key_order(nv, keys, sizeof(keys));
	/* hostid only when /etc/hostid exists */
	const char *want_hostid =
		"version name state txg pool_guid errata compatibility hostid hostname top_guid guid "
		"vdev_children vdev_tree features_for_read ";
	const char *want = "version name state txg pool_guid errata compatibility hostname top_guid "
			   "guid vdev_children vdev_tree features_for_read ";
	ck_assert_str_eq(keys, spa_config_hostid() ? want_hostid : want);
	uint64_t v;
	ck_assert_int_eq(nvlist_lookup_uint64(nv, "txg", &v), 0);
	ck_assert_uint_eq(v, 9);
	ck_assert_int_eq(nvlist_lookup_uint64(nv, "state", &v), 0);
	ck_assert_uint_eq(v, 1);
	ck_assert_int_eq(nvlist_lookup_uint64(nv, "guid", &v), 0);
	ck_assert_uint_eq(v, 202);
	ck_assert_int_eq(nvlist_lookup_uint64(nv, "top_guid", &v), 0);
	ck_assert_uint_eq(v, 200);
	const nvlist_t *vt;
	ck_assert_int_eq(nvlist_lookup_nvlist(nv, "vdev_tree", &vt), 0);
	key_order(vt, keys, sizeof(keys));
	ck_assert_str_eq(keys, "type id guid metaslab_array metaslab_shift ashift asize is_log "
			       "create_txg org.example:unknown children ");
	ck_assert_int_eq(nvlist_lookup_uint64(vt, "metaslab_array", &v), 0);
	ck_assert_uint_eq(v, 77);
	ck_assert_int_eq(nvlist_lookup_uint64(vt, "metaslab_shift", &v), 0);
	ck_assert_uint_eq(v, 24);
	const nvlist_t *const *kids;
	uint32_t nk;
	ck_assert_int_eq(nvlist_lookup_nvlist_array(vt, "children", &kids, &nk), 0);
	ck_assert_uint_eq(nk, 2);
	ck_assert(!nvlist_exists(kids[1], "com.delphix:vdev_zap_leaf"));
	const nvlist_t *ffr;
	ck_assert_int_eq(nvlist_lookup_nvlist(nv, "features_for_read", &ffr), 0);
	ck_assert(nvlist_exists(ffr, "com.delphix:hole_birth"));
	nvlist_free(nv);
	free_pool(spa);
}
END_TEST

START_TEST(test_mos_config)
{
	spa_t *spa = mirror_pool();
	nvlist_t *nv;
	ck_assert_int_eq(spa_config_generate(spa, NULL, 5, &nv), 0);
	ck_assert(nvlist_exists(nv, "com.delphix:has_per_vdev_zaps"));
	ck_assert(!nvlist_exists(nv, "guid"));
	ck_assert(!nvlist_exists(nv, "top_guid"));
	const nvlist_t *vt, *const *tops, *const *leaves;
	uint32_t n;
	ck_assert_int_eq(nvlist_lookup_nvlist(nv, "vdev_tree", &vt), 0);
	const char *type;
	ck_assert_int_eq(nvlist_lookup_string(vt, "type", &type), 0);
	ck_assert_str_eq(type, "root");
	ck_assert_int_eq(nvlist_lookup_nvlist_array(vt, "children", &tops, &n), 0);
	ck_assert_uint_eq(n, 1);
	uint64_t v;
	ck_assert_int_eq(nvlist_lookup_uint64(tops[0], "com.delphix:vdev_zap_top", &v), 0);
	ck_assert_uint_eq(v, 50);
	ck_assert_int_eq(nvlist_lookup_nvlist_array(tops[0], "children", &leaves, &n), 0);
	ck_assert_int_eq(nvlist_lookup_uint64(leaves[0], "com.delphix:vdev_zap_leaf", &v), 0);
	ck_assert_uint_eq(v, 51);
	/* It packs (the MOS object holds the XDR form). */
	size_t size;
	ck_assert_int_eq(nvlist_size_xdr(nv, &size), 0);
	ck_assert_uint_gt(size, 200);
	nvlist_free(nv);
	free_pool(spa);
}
END_TEST

START_TEST(test_tree_mismatch)
{
	spa_t *spa = mirror_pool();
	/* A leaf that the trusted tree does not have: refused, not invented. */
	mkvd(VDEV_KIND_LEAF, "file", 2, 203, spa->root->child[0]);
	nvlist_t *nv = NULL;
	ck_assert_int_eq(spa_config_generate(spa, spa->root->child[0]->child[0], 5, &nv),
			 -ZFUSE_E_CORRUPT);
	ck_assert_ptr_null(nv);
	nvlist_free(spa->mos_config);
	spa->mos_config = NULL;
	ck_assert_int_eq(spa_config_generate(spa, NULL, 5, &nv), -ZFUSE_E_INVAL);
	free_pool(spa);
}
END_TEST

static int create_with(const char *name, const char *const *vdevs, size_t nv, uint64_t size,
		       const char *const *pprops, size_t npp, const char *const *fprops, size_t nfp)
{
	struct zfuse_create_opts o = { .name = name, .vdev_args = vdevs, .nvdev_args = nv,
				       .file_size = size, .pool_props = pprops, .npool_props = npp,
				       .fs_props = fprops, .nfs_props = nfp,
				       .log = NULL };
	return zfuse_pool_create(&o);
}

START_TEST(test_refusals)
{
	char dir[] = "/tmp/test_create.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char a[256], b[256];
	snprintf(a, sizeof(a), "%s/a.img", dir);
	snprintf(b, sizeof(b), "%s/b.img", dir);
	const char *one[] = { a };
	const char *rz2[] = { "raidz2", a, b };
	const char *logv[] = { a, "log", b };
	const char *feat[] = { "feature@log_spacemap=enabled" };
	const char *ash[] = { "ashift=17" };
	const char *badprop[] = { "compression=zstd-20" };
	const char *norm[] = { "normalization=formD", "utf8only=off" };
	ck_assert_int_eq(create_with("1pool", one, 1, 1 << 27, NULL, 0, NULL, 0), -ZFUSE_E_INVAL);
	ck_assert_int_eq(create_with("mirror", one, 1, 1 << 27, NULL, 0, NULL, 0), -ZFUSE_E_INVAL);
	ck_assert_int_eq(create_with("p", rz2, 3, 1 << 27, NULL, 0, NULL, 0), -ZFUSE_E_INVAL);
	ck_assert_int_eq(create_with("p", logv, 3, 1 << 27, NULL, 0, NULL, 0), -ZFUSE_E_UNSUPPORTED);
	ck_assert_int_eq(create_with("p", one, 1, 1 << 27, feat, 1, NULL, 0), -ZFUSE_E_UNSUPPORTED);
	ck_assert_int_eq(create_with("p", one, 1, 1 << 27, ash, 1, NULL, 0), -ZFUSE_E_INVAL);
	ck_assert_int_eq(create_with("p", one, 1, 1 << 27, NULL, 0, badprop, 1), -ZFUSE_E_INVAL);
	ck_assert_int_eq(create_with("p", one, 1, 1 << 27, NULL, 0, norm, 2), -ZFUSE_E_INVAL);
	ck_assert_int_eq(create_with("p", one, 1, 0, NULL, 0, NULL, 0), -ZFUSE_E_NOENT);
	ck_assert_int_eq(create_with("p", one, 1, 32 << 20, NULL, 0, NULL, 0), -ZFUSE_E_INVAL);
	/* nothing was left behind by the refused calls */
	ck_assert_int_ne(access(a, F_OK), 0);
	ck_assert_int_ne(access(b, F_OK), 0);
	rmdir(dir);
}
END_TEST

int main(void)
{
	return RUN_TESTS("create", "config", 0, test_label_config, test_mos_config, test_tree_mismatch, test_refusals);
}
