/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * spa_config.c — generating and storing the pool configuration
 * (pool-layer.md §2.8, §2.9; OpenZFS spa_config_generate and
 * vdev_config_generate).
 *
 * Theory: a config is the pool-wide keys followed by one vdev subtree.
 * The subtree is produced by walking the trusted tree (spa->mos_config)
 * in step with the in-core vdev_t tree: each node is rebuilt key by key in
 * the trusted node's order; the keys vdev_t is authoritative for are
 * replaced by its values, keys that only the MOS copy may carry are
 * dropped for labels, and anything else is copied unchanged. A node that
 * lacks a top-level key OpenZFS always writes (a brand-new vdev) gets it
 * in OpenZFS's position because spa_create.c builds new nodes with every
 * key already present, in order.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "byteorder.h"
#include "dmu_types.h"
#include "spa_config.h"
#include "zap.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

/* Keys of a vdev node that only the MOS copy carries (VDEV_CONFIG_MOS). */
static bool mos_only_vdev_key(const char *name)
{
	return strcmp(name, "com.delphix:vdev_zap_leaf") == 0 ||
	       strcmp(name, "com.delphix:vdev_zap_top") == 0 ||
	       strcmp(name, "com.klarasystems:vdev_zap_root") == 0 ||
	       strcmp(name, "com.datto:resilver_defer") == 0;
}

/* Copy one pair of any type onto the end of dst. */
static int nv_copy_pair(nvlist_t *dst, const nvpair_t *p)
{
	const char *n = nvpair_name(p);
	uint32_t cnt;
	switch (nvpair_type(p)) {
	case DATA_TYPE_BOOLEAN:
		return nvlist_add_boolean(dst, n);
#define SCALAR(T, ctype, getter, adder)                                  \
	case T: {                                                       \
		ctype v;                                                \
		int rc = getter(p, &v);                                 \
		return rc ? rc : adder(dst, n, v);                      \
	}
		SCALAR(DATA_TYPE_BOOLEAN_VALUE, bool, nvpair_value_boolean_value, nvlist_add_boolean_value)
		SCALAR(DATA_TYPE_BYTE, uint8_t, nvpair_value_byte, nvlist_add_byte)
		SCALAR(DATA_TYPE_INT8, int8_t, nvpair_value_int8, nvlist_add_int8)
		SCALAR(DATA_TYPE_UINT8, uint8_t, nvpair_value_uint8, nvlist_add_uint8)
		SCALAR(DATA_TYPE_INT16, int16_t, nvpair_value_int16, nvlist_add_int16)
		SCALAR(DATA_TYPE_UINT16, uint16_t, nvpair_value_uint16, nvlist_add_uint16)
		SCALAR(DATA_TYPE_INT32, int32_t, nvpair_value_int32, nvlist_add_int32)
		SCALAR(DATA_TYPE_UINT32, uint32_t, nvpair_value_uint32, nvlist_add_uint32)
		SCALAR(DATA_TYPE_INT64, int64_t, nvpair_value_int64, nvlist_add_int64)
		SCALAR(DATA_TYPE_UINT64, uint64_t, nvpair_value_uint64, nvlist_add_uint64)
		SCALAR(DATA_TYPE_HRTIME, int64_t, nvpair_value_hrtime, nvlist_add_hrtime)
		SCALAR(DATA_TYPE_DOUBLE, double, nvpair_value_double, nvlist_add_double)
		SCALAR(DATA_TYPE_STRING, const char *, nvpair_value_string, nvlist_add_string)
		SCALAR(DATA_TYPE_NVLIST, const nvlist_t *, nvpair_value_nvlist, nvlist_add_nvlist)
#undef SCALAR
#define ARRAY(T, ctype, getter, adder)                                   \
	case T: {                                                       \
		ctype v;                                                \
		int rc = getter(p, &v, &cnt);                           \
		return rc ? rc : adder(dst, n, v, cnt);                 \
	}
		ARRAY(DATA_TYPE_NVLIST_ARRAY, const nvlist_t *const *, nvpair_value_nvlist_array,
		      nvlist_add_nvlist_array)
		ARRAY(DATA_TYPE_STRING_ARRAY, const char *const *, nvpair_value_string_array,
		      nvlist_add_string_array)
		ARRAY(DATA_TYPE_BOOLEAN_ARRAY, const bool *, nvpair_value_boolean_array,
		      nvlist_add_boolean_array)
		ARRAY(DATA_TYPE_BYTE_ARRAY, const uint8_t *, nvpair_value_byte_array, nvlist_add_byte_array)
		ARRAY(DATA_TYPE_INT8_ARRAY, const int8_t *, nvpair_value_int8_array, nvlist_add_int8_array)
		ARRAY(DATA_TYPE_UINT8_ARRAY, const uint8_t *, nvpair_value_uint8_array,
		      nvlist_add_uint8_array)
		ARRAY(DATA_TYPE_INT16_ARRAY, const int16_t *, nvpair_value_int16_array,
		      nvlist_add_int16_array)
		ARRAY(DATA_TYPE_UINT16_ARRAY, const uint16_t *, nvpair_value_uint16_array,
		      nvlist_add_uint16_array)
		ARRAY(DATA_TYPE_INT32_ARRAY, const int32_t *, nvpair_value_int32_array,
		      nvlist_add_int32_array)
		ARRAY(DATA_TYPE_UINT32_ARRAY, const uint32_t *, nvpair_value_uint32_array,
		      nvlist_add_uint32_array)
		ARRAY(DATA_TYPE_INT64_ARRAY, const int64_t *, nvpair_value_int64_array,
		      nvlist_add_int64_array)
		ARRAY(DATA_TYPE_UINT64_ARRAY, const uint64_t *, nvpair_value_uint64_array,
		      nvlist_add_uint64_array)
#undef ARRAY
	default:
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	}
}

static bool is_top(const vdev_t *vd)
{
	return vd->parent && vd->parent->kind == VDEV_KIND_ROOT;
}

/*
 * Rebuild vdev node src (which describes vd) into *out. mos: keep the
 * MOS-only keys.
 */
static int vdev_node_generate(const nvlist_t *src, const vdev_t *vd, bool mos, nvlist_t **out)
{
	nvlist_t *nv;
	int rc = nvlist_alloc(&nv);
	if (rc)
		return rc;
	bool top = is_top(vd);
	for (const nvpair_t *p = nvlist_next_nvpair(src, NULL); p && rc == 0;
	     p = nvlist_next_nvpair(src, p)) {
		const char *n = nvpair_name(p);
		if (!mos && mos_only_vdev_key(n))
			continue;
		if (strcmp(n, "id") == 0)
			rc = nvlist_add_uint64(nv, n, vd->id);
		else if (strcmp(n, "guid") == 0)
			rc = nvlist_add_uint64(nv, n, vd->guid);
		else if (top && strcmp(n, "metaslab_array") == 0)
			rc = nvlist_add_uint64(nv, n, vd->metaslab_array);
		else if (top && strcmp(n, "metaslab_shift") == 0)
			rc = nvlist_add_uint64(nv, n, vd->metaslab_shift);
		else if (top && strcmp(n, "ashift") == 0)
			rc = nvlist_add_uint64(nv, n, vd->ashift);
		else if (top && strcmp(n, "asize") == 0)
			rc = nvlist_add_uint64(nv, n, vd->asize);
		else if (strcmp(n, "children") == 0) {
			const nvlist_t *const *kids;
			uint32_t nk;
			rc = nvpair_value_nvlist_array(p, &kids, &nk);
			if (rc == 0 && nk != vd->nchild)
				rc = SET_ERROR(-ZFUSE_E_CORRUPT);
			nvlist_t **nk_out = rc ? NULL : calloc(nk ? nk : 1, sizeof(*nk_out));
			if (rc == 0 && !nk_out)
				rc = -ZFUSE_E_NOMEM;
			for (uint32_t i = 0; rc == 0 && i < nk; i++)
				rc = vdev_node_generate(kids[i], vd->child[i], mos, &nk_out[i]);
			if (rc == 0)
				rc = nvlist_add_nvlist_array(nv, n, (const nvlist_t *const *)nk_out, nk);
			for (uint32_t i = 0; nk_out && i < nk; i++)
				nvlist_free(nk_out[i]);
			free(nk_out);
		} else
			rc = nv_copy_pair(nv, p);
	}
	if (rc) {
		nvlist_free(nv);
		return rc;
	}
	*out = nv;
	return 0;
}

/* The trusted node of vd: follow ids down from the root of the tree. */
static const nvlist_t *trusted_node(const nvlist_t *root, const vdev_t *vd)
{
	if (!vd->parent)
		return root;
	const nvlist_t *pn = trusted_node(root, vd->parent);
	const nvlist_t *const *kids;
	uint32_t nk;
	if (!pn || nvlist_lookup_nvlist_array(pn, "children", &kids, &nk) != 0)
		return NULL;
	for (uint64_t i = 0; i < vd->parent->nchild; i++)
		if (vd->parent->child[i] == vd)
			return i < nk ? kids[i] : NULL;
	return NULL;
}

static vdev_t *top_of(vdev_t *vd)
{
	while (vd->parent && !is_top(vd))
		vd = vd->parent;
	return vd;
}

uint64_t spa_config_hostid(void)
{
	/* OpenZFS userland (and the SPL) read a 4-byte host-order value. */
	FILE *f = fopen("/etc/hostid", "rb");
	if (!f)
		return 0;
	uint32_t id = 0;
	size_t n = fread(&id, 1, sizeof(id), f);
	fclose(f);
	return n == sizeof(id) ? id : 0;
}

static void nodename(char *buf, size_t cap)
{
	if (gethostname(buf, cap) != 0)
		snprintf(buf, cap, "(none)");
	buf[cap - 1] = '\0';
}

int spa_config_generate(spa_t *spa, vdev_t *vd, uint64_t txg, nvlist_t **out)
{
	*out = NULL;
	const nvlist_t *tree;
	if (!spa->mos_config || nvlist_lookup_nvlist(spa->mos_config, "vdev_tree", &tree) != 0)
		return -ZFUSE_E_INVAL;
	bool mos = vd == NULL || vd == spa->root;
	vdev_t *subtree = mos ? spa->root : top_of(vd);
	const nvlist_t *src = trusted_node(tree, subtree);
	if (!src)
		return -ZFUSE_E_INVAL;

	nvlist_t *c;
	int rc = nvlist_alloc(&c);
	if (rc)
		return rc;
	uint64_t errata = 0, hostid = spa_config_hostid();
	const char *comment = NULL, *compat = NULL;
	nvlist_lookup_uint64(spa->mos_config, "errata", &errata);
	nvlist_lookup_string(spa->mos_config, "comment", &comment);
	nvlist_lookup_string(spa->mos_config, "compatibility", &compat);
	char host[256];
	nodename(host, sizeof(host));

	rc = nvlist_add_uint64(c, "version", spa->version);
	if (!rc) rc = nvlist_add_string(c, "name", spa->name);
	if (!rc) rc = nvlist_add_uint64(c, "state", spa->pool_state);
	if (!rc) rc = nvlist_add_uint64(c, "txg", txg);
	if (!rc) rc = nvlist_add_uint64(c, "pool_guid", spa->guid);
	if (!rc) rc = nvlist_add_uint64(c, "errata", errata);
	if (!rc && comment) rc = nvlist_add_string(c, "comment", comment);
	if (!rc && compat) rc = nvlist_add_string(c, "compatibility", compat);
	if (!rc && hostid) rc = nvlist_add_uint64(c, "hostid", hostid);
	if (!rc) rc = nvlist_add_string(c, "hostname", host);
	if (!rc && !mos) {
		rc = nvlist_add_uint64(c, "top_guid", subtree->guid);
		if (!rc) rc = nvlist_add_uint64(c, "guid", vd->guid);
		if (!rc && subtree->is_log) rc = nvlist_add_uint64(c, "is_log", 1);
	} else if (!rc) {
		const nvlist_t *split;
		if (nvlist_lookup_nvlist(spa->mos_config, "split", &split) == 0)
			rc = nvlist_add_nvlist(c, "split", split);
		if (!rc) rc = nvlist_add_boolean(c, "com.delphix:has_per_vdev_zaps");
	}
	/* vdev_top_config_generate: holes, then the number of top vdevs. */
	uint64_t *holes = NULL, nholes = 0;
	if (!rc && spa->root->nchild) {
		holes = calloc(spa->root->nchild, sizeof(*holes));
		if (!holes)
			rc = -ZFUSE_E_NOMEM;
		for (uint64_t i = 0; !rc && i < spa->root->nchild; i++)
			if (spa->root->child[i]->kind == VDEV_KIND_HOLE)
				holes[nholes++] = i;
	}
	if (!rc && nholes) rc = nvlist_add_uint64_array(c, "hole_array", holes, (uint32_t)nholes);
	free(holes);
	if (!rc) rc = nvlist_add_uint64(c, "vdev_children", spa->root->nchild);
	nvlist_t *vt = NULL;
	if (!rc) rc = vdev_node_generate(src, subtree, mos, &vt);
	if (!rc) rc = nvlist_add_nvlist(c, "vdev_tree", vt);
	nvlist_free(vt);
	if (!rc) {
		nvlist_t *empty = NULL;
		const nvlist_t *lf = spa->label_features;
		if (!lf && (rc = nvlist_alloc(&empty)) == 0)
			lf = empty;
		if (!rc) rc = nvlist_add_nvlist(c, "features_for_read", lf);
		nvlist_free(empty);
	}
	if (rc) {
		nvlist_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int spa_config_write_mos(spa_t *spa, dmu_tx_t *tx)
{
	if (!spa->config_obj)
		return -ZFUSE_E_INVAL;
	nvlist_t *c;
	int rc = spa_config_generate(spa, NULL, tx->txg, &c);
	if (rc)
		return rc;
	size_t size;
	rc = nvlist_size_xdr(c, &size);
	uint64_t bufsize = (size + SPA_CONFIG_BLOCKSIZE - 1) & ~(SPA_CONFIG_BLOCKSIZE - 1);
	uint8_t *buf = rc ? NULL : calloc(1, bufsize);
	if (!rc && !buf)
		rc = -ZFUSE_E_NOMEM;
	size_t used = 0;
	if (!rc) rc = nvlist_pack_xdr(c, buf, bufsize, &used);
	/* OpenZFS writes the whole zero-padded blocks and records the packed
	 * length in the bonus (spa_sync_nvlist). */
	if (!rc) rc = dmu_write(spa->mos, spa->config_obj, 0, bufsize, buf, tx);
	if (!rc) {
		uint8_t bonus[8];
		put_le64(bonus, used);
		rc = dmu_bonus_write(spa->mos, spa->config_obj, bonus, sizeof(bonus), tx);
	}
	free(buf);
	if (rc) {
		nvlist_free(c);
		return rc;
	}
	nvlist_free(spa->mos_config);
	spa->mos_config = c;
	return 0;
}

int spa_config_load_mos(spa_t *spa)
{
	dnode_t dir, cfg;
	uint64_t obj = 0;
	int rc = dnode_hold(spa->mos, 1, &dir);
	if (rc)
		return rc;
	rc = zap_lookup_uint64(&dir, "config", &obj);
	dnode_rele(&dir);
	if (rc)
		return rc == -ZFUSE_E_NOENT ? SET_ERROR(-ZFUSE_E_CORRUPT) : rc;
	rc = dnode_hold(spa->mos, obj, &cfg);
	if (rc)
		return rc;
	uint64_t blen;
	const uint8_t *bonus = dnode_bonus(&cfg, &blen);
	uint64_t size = blen >= 8 ? le64(bonus) : 0;
	if (cfg.type != DMU_OT_PACKED_NVLIST || size == 0 || size > dnode_data_size(&cfg)) {
		dnode_rele(&cfg);
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	}
	uint8_t *buf = malloc(size);
	nvlist_t *nvl = NULL;
	rc = buf ? dmu_read(&cfg, 0, size, buf) : -ZFUSE_E_NOMEM;
	dnode_rele(&cfg);
	if (rc == 0)
		rc = nvlist_unpack(buf, size, &nvl);
	free(buf);
	if (rc)
		return rc;
	const nvlist_t *lf = NULL;
	nvlist_t *lfcopy = NULL;
	if (spa->label_config &&
	    nvlist_lookup_nvlist(spa->label_config, "features_for_read", &lf) == 0 &&
	    (rc = nvlist_dup(lf, &lfcopy)) != 0) {
		nvlist_free(nvl);
		return rc;
	}
	nvlist_free(spa->mos_config);
	spa->mos_config = nvl;
	nvlist_free(spa->label_features);
	spa->label_features = lfcopy;
	spa->config_obj = obj;
	return 0;
}
