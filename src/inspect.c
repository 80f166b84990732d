/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * inspect.c — pool-level reports of the inspector: labels, uberblock
 * rings, pool configuration with features and metaslab space, and the
 * dataset tree. Label and uberblock reports open the devices raw, so they
 * work on images that no longer import.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dmu_types.h"
#include "dnode.h"
#include "dsl.h"
#include "inspect_emit.h"
#include "space_map.h"
#include "spa.h"
#include "zap.h"
#include "zfeature.h"
#include "zfuse/inspect.h"
#include "zfs_debug.h"

static FILE *out_of(const struct zfuse_inspect_opts *o)
{
	return o && o->out ? o->out : stdout;
}

static int open_raw(const char *const *paths, size_t n, struct leaf_dev ***devs, size_t *ndevs)
{
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = vdev_probe_path_raw(paths[i], devs, ndevs);
	return rc;
}

static void close_raw(struct leaf_dev **devs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		leaf_dev_close(devs[i]);
	free(devs);
}

int zfuse_inspect_labels(const char *const *paths, size_t npaths, const struct zfuse_inspect_opts *o)
{
	struct leaf_dev **devs = NULL;
	size_t ndevs = 0;
	int rc = open_raw(paths, npaths, &devs, &ndevs);
	emitter_t em;
	em_init(&em, out_of(o), o && o->json);
	em_obj_begin(&em, NULL);
	em_arr_begin(&em, "devices");
	int damage = 0;
	for (size_t d = 0; d < ndevs; d++) {
		struct leaf_dev *dev = devs[d];
		em_obj_begin(&em, NULL);
		em_str(&em, "path", dev->path);
		em_u64(&em, "start", dev->start);
		em_u64(&em, "size", dev->psize);
		em_arr_begin(&em, "labels");
		for (int l = 0; l < VDEV_LABELS; l++) {
			nvlist_t *nv = NULL;
			int r = vdev_label_read_config(dev, l, &nv);
			em_obj_begin(&em, NULL);
			em_u64(&em, "label", (uint64_t)l);
			em_hex(&em, "offset", vdev_label_offset(dev->psize, l));
			em_bool(&em, "valid", r == 0);
			if (r) {
				em_str(&em, "error", zfuse_strerror(r));
				damage++;
			} else {
				em_nvlist(&em, "config", nv);
			}
			nvlist_free(nv);
			em_obj_end(&em);
		}
		em_arr_end(&em);
		em_obj_end(&em);
	}
	em_arr_end(&em);
	em_obj_end(&em);
	em_finish(&em);
	close_raw(devs, ndevs);
	if (rc)
		return rc;
	if (ndevs == 0)
		return -ZFUSE_E_NOENT;
	return damage ? SET_ERROR(-ZFUSE_E_CORRUPT) : 0;
}

/* The top-level ashift a device's uberblock slots are sized by. */
static uint64_t dev_top_ashift(const struct leaf_dev *dev)
{
	const nvlist_t *tree;
	uint64_t ashift = 12;
	if (dev->config && nvlist_lookup_nvlist(dev->config, "vdev_tree", &tree) == 0)
		nvlist_lookup_uint64(tree, "ashift", &ashift);
	return ashift;
}

struct intact_cache {
	uint64_t txg;
	int result;
};

/* Whether the tree under ub reads back: MOS, object directory, root dataset. */
static int tree_intact(spa_t *spa, const uberblock_t *ub)
{
	objset_t *mos;
	int rc = objset_open(spa, &ub->ub_rootbp, &mos);
	if (rc)
		return rc;
	/* The DSL walk reads through spa->mos; borrow it for this check. */
	objset_t *saved = spa->mos;
	spa->mos = mos;
	dnode_t dir;
	uint64_t rootdir = 0;
	rc = dnode_hold(mos, 1, &dir);
	if (rc == 0) {
		rc = zap_lookup_uint64(&dir, "root_dataset", &rootdir);
		dnode_rele(&dir);
	}
	dsl_dir_phys_t dd;
	dsl_dataset_phys_t ds;
	if (rc == 0 && (rc = dsl_dir_read(spa, rootdir, &dd)) == 0 &&
	    (rc = dsl_dataset_read(spa, dd.head_dataset_obj, &ds)) == 0) {
		objset_t *os;
		if ((rc = objset_open(spa, &ds.bp, &os)) == 0)
			objset_close(os);
	}
	spa->mos = saved;
	objset_close(mos);
	return rc;
}

int zfuse_inspect_uberblocks(const char *const *paths, size_t npaths, zfuse_pool_t *pool,
			     const struct zfuse_inspect_opts *o)
{
	spa_t *spa = (spa_t *)pool;
	struct leaf_dev **devs = NULL;
	size_t ndevs = 0;
	int rc = open_raw(paths, npaths, &devs, &ndevs);
	emitter_t em;
	em_init(&em, out_of(o), o && o->json);
	em_obj_begin(&em, NULL);
	if (spa) {
		em_u64(&em, "active_txg", spa->ub.ub_txg);
		em_str(&em, "pool", spa->name);
	}
	em_arr_begin(&em, "devices");
	struct intact_cache cache[512];
	size_t ncache = 0;
	bool verbose = o && o->verbosity > 0;
	for (size_t d = 0; d < ndevs; d++) {
		struct leaf_dev *dev = devs[d];
		uint64_t ashift = dev_top_ashift(dev);
		uint64_t ss = vdev_uberblock_slot_size(ashift);
		em_obj_begin(&em, NULL);
		em_str(&em, "path", dev->path);
		em_u64(&em, "slot_size", ss);
		em_arr_begin(&em, "uberblocks");
		for (int l = 0; l < VDEV_LABELS; l++) {
			for (uint64_t s = 0; s < VDEV_UBERBLOCK_RING_SIZE / ss; s++) {
				uberblock_t ub;
				int r = vdev_uberblock_read_slot(dev, l, s, ashift, &ub);
				if (r == -ZFUSE_E_NOENT && !verbose)
					continue;	/* empty slot */
				em_obj_begin(&em, NULL);
				em_u64(&em, "label", (uint64_t)l);
				em_u64(&em, "slot", s);
				em_bool(&em, "checksum_valid", r == 0);
				if (r) {
					em_str(&em, "error", r == -ZFUSE_E_NOENT ? "empty" : zfuse_strerror(r));
					em_obj_end(&em);
					continue;
				}
				char when[64], bpdesc[512];
				time_t t = (time_t)ub.ub_timestamp;
				struct tm tm;
				strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&t, &tm));
				bp_describe(&ub.ub_rootbp, bpdesc, sizeof(bpdesc));
				em_u64(&em, "txg", ub.ub_txg);
				em_u64(&em, "version", ub.ub_version);
				em_u64(&em, "guid_sum", ub.ub_guid_sum);
				em_u64(&em, "timestamp", ub.ub_timestamp);
				em_str(&em, "time", when);
				em_str(&em, "rootbp", bpdesc);
				if (ub.ub_mmp_magic == MMP_MAGIC)
					em_u64(&em, "mmp_delay", ub.ub_mmp_delay);
				em_u64(&em, "checkpoint_txg", ub.ub_checkpoint_txg);
				if (spa) {
					int res = 1;
					for (size_t c = 0; c < ncache; c++)
						if (cache[c].txg == ub.ub_txg)
							res = cache[c].result;
					if (res == 1) {
						res = tree_intact(spa, &ub);
						if (ncache < sizeof(cache) / sizeof(cache[0]))
							cache[ncache++] = (struct intact_cache){ ub.ub_txg, res };
					}
					em_bool(&em, "intact", res == 0);
					if (res)
						em_str(&em, "damage", zfuse_strerror(res));
				}
				em_obj_end(&em);
			}
		}
		em_arr_end(&em);
		em_obj_end(&em);
	}
	em_arr_end(&em);
	em_obj_end(&em);
	em_finish(&em);
	close_raw(devs, ndevs);
	if (rc)
		return rc;
	return ndevs ? 0 : -ZFUSE_E_NOENT;
}

static void emit_vdev(emitter_t *em, spa_t *spa, vdev_t *vd, int *damage, bool space)
{
	em_obj_begin(em, NULL);
	em_str(em, "type", vd->type);
	em_u64(em, "id", vd->id);
	em_u64(em, "guid", vd->guid);
	if (vd->kind == VDEV_KIND_LEAF) {
		em_str(em, "path", vd->dev ? vd->dev->path : NULL);
		em_str(em, "state", vd->dev ? "ONLINE" : "MISSING");
	}
	if (vd->parent && vd->parent->kind == VDEV_KIND_ROOT) {
		em_u64(em, "ashift", vd->ashift);
		em_u64(em, "asize", vd->asize);
		if (vd->nparity)
			em_u64(em, "nparity", vd->nparity);
		em_u64(em, "metaslab_shift", vd->metaslab_shift);
		em_u64(em, "metaslab_array", vd->metaslab_array);
		if (space && vd->metaslab_array) {
			struct metaslab_space *ms;
			uint64_t n;
			int r = space_map_vdev(spa, vd, &ms, &n);
			if (r) {
				em_str(em, "space_error", zfuse_strerror(r));
				(*damage)++;
			} else {
				int64_t total = 0;
				for (uint64_t i = 0; i < n; i++)
					total += ms[i].alloc;
				em_i64(em, "allocated", total);
				em_u64(em, "metaslab_count", n);
				em_arr_begin(em, "metaslabs");
				for (uint64_t i = 0; i < n; i++) {
					em_obj_begin(em, NULL);
					em_u64(em, "id", i);
					em_hex(em, "offset", i << vd->metaslab_shift);
					em_u64(em, "spacemap", ms[i].sm_object);
					em_i64(em, "allocated", ms[i].alloc);
					em_u64(em, "free", (1ULL << vd->metaslab_shift) - (uint64_t)ms[i].alloc);
					em_u64(em, "unflushed_txg", ms[i].unflushed_txg);
					em_obj_end(em);
				}
				em_arr_end(em);
				free(ms);
			}
		}
	}
	if (vd->nchild) {
		em_arr_begin(em, "children");
		for (uint64_t i = 0; i < vd->nchild; i++)
			emit_vdev(em, spa, vd->child[i], damage, space);
		em_arr_end(em);
	}
	em_obj_end(em);
}

struct feat_ctx {
	emitter_t *em;
	spa_t *spa;
};

static int emit_feature(void *arg, const zap_entry_t *ze)
{
	struct feat_ctx *c = arg;
	const struct zfeature_info *fi = zfeature_lookup(ze->name);
	em_obj_begin(c->em, NULL);
	em_str(c->em, "guid", ze->name);
	em_str(c->em, "name", fi ? fi->name : NULL);
	em_str(c->em, "state", ze->value_first ? "active" : "enabled");
	em_u64(c->em, "refcount", ze->value_first);
	em_bool(c->em, "readonly_compatible", fi ? fi->readonly_compat : false);
	em_bool(c->em, "zfuse_reads", fi ? fi->zfuse_reads : false);
	em_obj_end(c->em);
	return 0;
}

static int emit_prop(void *arg, const zap_entry_t *ze)
{
	emitter_t *em = arg;
	if (ze->value_intlen == 1) {
		char buf[1024];
		size_t n = ze->value_numints < sizeof(buf) ? ze->value_numints : sizeof(buf) - 1;
		memcpy(buf, ze->value, n);
		buf[n] = 0;
		em_str(em, ze->name, buf);
	} else {
		em_u64(em, ze->name, ze->value_first);
	}
	return 0;
}

static int iterate_mos_zap(spa_t *spa, uint64_t obj, zap_iter_fn cb, void *arg)
{
	dnode_t dn;
	int rc = dnode_hold(spa->mos, obj, &dn);
	if (rc)
		return rc;
	rc = zap_iterate(&dn, 0, 0, cb, arg);
	dnode_rele(&dn);
	return rc;
}

int zfuse_inspect_pool(zfuse_pool_t *pool, const struct zfuse_inspect_opts *o)
{
	spa_t *spa = (spa_t *)pool;
	emitter_t em;
	int damage = 0;
	em_init(&em, out_of(o), o && o->json);
	em_obj_begin(&em, NULL);
	em_str(&em, "name", spa->name);
	em_u64(&em, "guid", spa->guid);
	em_u64(&em, "version", spa->version);
	em_u64(&em, "txg", spa->ub.ub_txg);
	em_bool(&em, "have_checksum_salt", spa->have_salt);
	em_nvlist(&em, "config", spa->label_config);
	em_arr_begin(&em, "vdev_tree");
	for (uint64_t i = 0; i < spa->root->nchild; i++)
		emit_vdev(&em, spa, spa->root->child[i], &damage, true);
	em_arr_end(&em);
	struct feat_ctx fc = { &em, spa };
	em_arr_begin(&em, "features");
	if (spa->features_for_read_obj && iterate_mos_zap(spa, spa->features_for_read_obj, emit_feature, &fc))
		damage++;
	if (spa->features_for_write_obj && iterate_mos_zap(spa, spa->features_for_write_obj, emit_feature, &fc))
		damage++;
	em_arr_end(&em);
	dnode_t dir;
	uint64_t props = 0;
	if (dnode_hold(spa->mos, 1, &dir) == 0) {
		zap_lookup_uint64(&dir, "pool_props", &props);
		dnode_rele(&dir);
	}
	em_obj_begin(&em, "properties");
	if (props && iterate_mos_zap(spa, props, emit_prop, &em))
		damage++;
	em_obj_end(&em);
	em_obj_end(&em);
	em_finish(&em);
	return damage ? SET_ERROR(-ZFUSE_E_CORRUPT) : 0;
}

static const char *const ds_type_names[] = { "?", "filesystem", "volume", "snapshot", "bookmark" };

struct ds_ctx {
	emitter_t *em;
	spa_t *spa;
};

static int emit_dataset(const struct zfuse_dataset_info *info, void *arg)
{
	struct ds_ctx *c = arg;
	emitter_t *em = c->em;
	em_obj_begin(em, NULL);
	em_str(em, "name", info->name);
	em_str(em, "type", ds_type_names[info->type <= 4 ? info->type : 0]);
	em_u64(em, "object", info->dsobj);
	em_u64(em, "guid", info->guid);
	em_u64(em, "creation_txg", info->creation_txg);
	em_u64(em, "creation_time", info->creation_time);
	if (info->type != ZFUSE_DS_BOOKMARK) {
		em_u64(em, "used", info->used);
		em_u64(em, "referenced", info->referenced);
		em_u64(em, "compressed", info->compressed);
		em_u64(em, "uncompressed", info->uncompressed);
	}
	if (info->mountpoint)
		em_str(em, "mountpoint", info->mountpoint);
	if (info->origin)
		em_str(em, "origin", info->origin);
	em_bool(em, "encrypted", info->encrypted);
	if (info->type == ZFUSE_DS_FILESYSTEM || info->type == ZFUSE_DS_VOLUME) {
		uint64_t dsobj, dirobj;
		bool snap;
		if (dsl_dataset_lookup(c->spa, info->name, &dsobj, &dirobj, &snap) == 0) {
			dsl_dir_phys_t dd;
			em_obj_begin(em, "local_properties");
			if (dsl_dir_read(c->spa, dirobj, &dd) == 0 && dd.props_zapobj)
				iterate_mos_zap(c->spa, dd.props_zapobj, emit_prop, em);
			em_obj_end(em);
		}
	}
	em_obj_end(em);
	return 0;
}

int zfuse_inspect_datasets(zfuse_pool_t *pool, const struct zfuse_inspect_opts *o)
{
	spa_t *spa = (spa_t *)pool;
	emitter_t em;
	em_init(&em, out_of(o), o && o->json);
	em_obj_begin(&em, NULL);
	em_arr_begin(&em, "datasets");
	struct ds_ctx c = { &em, spa };
	int rc = dsl_dataset_walk(spa, emit_dataset, &c);
	em_arr_end(&em);
	em_obj_end(&em);
	em_finish(&em);
	return rc;
}
