/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * spa.c — importing a pool: probe the given devices, group their labels by
 * pool, assemble the vdev tree, pick the uberblock exactly as OpenZFS does
 * (highest txg, then timestamp; optionally capped by a txg or rewinding
 * past a damaged tree), open the MOS and check the pool's version and
 * features, then, when asked, make the pool writable (txg.c). Every
 * refusal says why in the log. The utilities every layer shares are in
 * spa_misc.c, so that nothing below the DMU depends on this file.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dnode.h"
#include "dbuf.h"
#include "dmu_tx.h"
#include "metaslab.h"
#include "spa.h"
#include "dsl_scan.h"
#include "spa_errlog.h"
#include "zfs_debug.h"
#include "txg.h"
#include "vdev_write_log.h"
#include "zap.h"
#include "zfeature.h"
#include "zfuse/errors.h"

static void log_to_opts(void *arg, int level, const char *msg)
{
	spa_t *spa = arg;
	spa_log(spa, level, "%s", msg);
}

/* Pick the devices of one pool; the caller gets the pool guid. */
static int choose_pool(spa_t *spa, const char *want, uint64_t *guid)
{
	uint64_t chosen = 0;
	const char *chosen_name = NULL;
	int npools = 0;
	for (size_t i = 0; i < spa->ndevs; i++) {
		struct leaf_dev *d = spa->devs[i];
		if (want && strcmp(d->pool_name, want) != 0)
			continue;
		if (chosen && d->pool_guid != chosen) {
			if (npools++ == 1)
				spa_log(spa, ZFUSE_LOG_ERROR, "the devices hold several pools: %s, %s ...; "
					"choose one by name (mount -o pool=NAME, inspect --pool NAME)", chosen_name, d->pool_name);
			continue;
		}
		if (!chosen) {
			chosen = d->pool_guid;
			chosen_name = d->pool_name;
			npools = 1;
		}
	}
	if (!chosen) {
		if (want)
			spa_log(spa, ZFUSE_LOG_ERROR, "no pool named '%s' on the given devices", want);
		else
			spa_log(spa, ZFUSE_LOG_ERROR, "no valid ZFS label found on the given devices");
		return -ZFUSE_E_NOTFOUND_POOL;
	}
	if (npools > 1)
		return -ZFUSE_E_INVAL;
	*guid = chosen;
	return 0;
}

/* Assemble root -> top-level vdevs from the newest label of each top. */
static int assemble_tree(spa_t *spa)
{
	const nvlist_t *base = NULL;
	uint64_t base_txg = 0;
	for (size_t i = 0; i < spa->ndevs; i++) {
		struct leaf_dev *d = spa->devs[i];
		if (d->pool_guid == spa->guid && (!base || d->config_txg > base_txg)) {
			base = d->config;
			base_txg = d->config_txg;
		}
	}
	const char *name;
	nvlist_lookup_string(base, "name", &name);
	spa->name = strdup(name);
	/* Labels before vdev_children (pool version 1 to about 10) name only
	 * their own top-level vdev: the pool has as many as the highest id
	 * any member's label gives, as zpool import assembles it. */
	uint64_t nchildren = 0;
	bool counted = nvlist_lookup_uint64(base, "vdev_children", &nchildren) == 0;
	for (size_t i = 0; !counted && i < spa->ndevs; i++) {
		const nvlist_t *tree;
		uint64_t tid;
		if (spa->devs[i]->pool_guid == spa->guid &&
		    nvlist_lookup_nvlist(spa->devs[i]->config, "vdev_tree", &tree) == 0 &&
		    nvlist_lookup_uint64(tree, "id", &tid) == 0 && tid < 4096 && tid >= nchildren)
			nchildren = tid + 1;
	}
	if (nchildren == 0 || nchildren > 4096) {
		spa_log(spa, ZFUSE_LOG_ERROR, "label says the pool has %" PRIu64 " top-level vdevs", nchildren);
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	}
	vdev_t *root = calloc(1, sizeof(*root));
	if (!root || !(root->child = calloc(nchildren, sizeof(vdev_t *)))) {
		free(root);
		return -ZFUSE_E_NOMEM;
	}
	root->kind = VDEV_KIND_ROOT;
	snprintf(root->type, sizeof(root->type), "root");
	root->guid = spa->guid;
	root->nchild = nchildren;
	spa->root = root;

	const uint64_t *holes = NULL;
	uint32_t nholes = 0;
	nvlist_lookup_uint64_array(base, "hole_array", &holes, &nholes);
	for (uint64_t id = 0; id < nchildren; id++) {
		const nvlist_t *best = NULL;
		uint64_t best_txg = 0;
		for (size_t i = 0; i < spa->ndevs; i++) {
			struct leaf_dev *d = spa->devs[i];
			const nvlist_t *tree;
			uint64_t tid;
			if (d->pool_guid != spa->guid ||
			    nvlist_lookup_nvlist(d->config, "vdev_tree", &tree) != 0 ||
			    nvlist_lookup_uint64(tree, "id", &tid) != 0 || tid != id)
				continue;
			if (!best || d->config_txg > best_txg) {
				best = tree;
				best_txg = d->config_txg;
			}
		}
		bool is_hole = false;
		for (uint32_t h = 0; h < nholes; h++)
			is_hole |= holes[h] == id;
		if (!best) {
			vdev_t *m = calloc(1, sizeof(*m));
			if (!m)
				return -ZFUSE_E_NOMEM;
			m->kind = is_hole ? VDEV_KIND_HOLE : VDEV_KIND_MISSING;
			snprintf(m->type, sizeof(m->type), is_hole ? "hole" : "missing");
			m->id = id;
			m->parent = root;
			root->child[id] = m;
			if (!is_hole)
				spa_log(spa, ZFUSE_LOG_ERROR,
					"top-level vdev %" PRIu64 " of pool '%s': no device found", id, spa->name);
			continue;
		}
		int rc = vdev_from_nvlist(best, root, &root->child[id]);
		if (rc) {
			spa_log(spa, ZFUSE_LOG_ERROR, "top-level vdev %" PRIu64 ": malformed vdev tree in label", id);
			return rc;
		}
		vdev_t *top = root->child[id];
		if (top->kind == VDEV_KIND_UNSUPPORTED) {
			spa_log(spa, ZFUSE_LOG_ERROR, "top-level vdev %" PRIu64 " is of type '%s', "
				"which zfuse cannot read", id, top->type);
			return -ZFUSE_E_UNSUPPORTED;
		}
	}
	uint64_t missing = vdev_attach_devices(root, spa->devs, spa->ndevs);
	if (missing)
		spa_log(spa, ZFUSE_LOG_WARN, "pool '%s': %" PRIu64 " device(s) missing; reading degraded",
			spa->name, missing);
	if (!vdev_readable(root)) {
		spa_log(spa, ZFUSE_LOG_ERROR, "pool '%s' cannot be read: too many devices missing",
			spa->name);
		return -ZFUSE_E_MISSING_DEV;
	}
	return 0;
}

/* Collect every uberblock candidate of every present leaf, newest first. */
struct ub_cand {
	uberblock_t ub;
	struct leaf_dev *dev;
};

static int ub_cand_cmp(const void *a, const void *b)
{
	return -vdev_uberblock_compare(&((const struct ub_cand *)a)->ub,
				       &((const struct ub_cand *)b)->ub);
}

static void collect_leaves(vdev_t *vd, vdev_t *top, struct ub_cand **v, size_t *n, size_t *cap,
			   uint64_t max_txg)
{
	if (vd->kind == VDEV_KIND_LEAF && vd->dev) {
		uint64_t slots = VDEV_UBERBLOCK_RING_SIZE / vdev_uberblock_slot_size(top->ashift);
		for (int l = 0; l < VDEV_LABELS; l++) {
			for (uint64_t s = 0; s < slots; s++) {
				uberblock_t ub;
				int rc = vdev_uberblock_read_slot(vd->dev, l, s, top->ashift, &ub);
				if (rc || ub.ub_txg == 0 || (max_txg && ub.ub_txg > max_txg))
					continue;
				if (*n == *cap) {
					size_t nc = *cap ? *cap * 2 : 64;
					struct ub_cand *nv = realloc(*v, nc * sizeof(*nv));
					if (!nv)
						return;
					*v = nv;
					*cap = nc;
				}
				(*v)[*n].ub = ub;
				(*v)[*n].dev = vd->dev;
				(*n)++;
			}
		}
	}
	for (uint64_t i = 0; i < vd->nchild; i++)
		collect_leaves(vd->child[i], top, v, n, cap, max_txg);
}

/* Open the MOS under ub and read what import needs from the object directory. */
static int spa_load_mos(spa_t *spa)
{
	int rc = objset_open(spa, &spa->ub.ub_rootbp, &spa->mos);
	if (rc)
		return rc;
	if (spa->mos->type != DMU_OST_META) {
		rc = SET_ERROR(-ZFUSE_E_CORRUPT);
		goto fail;
	}
	dnode_t dir;
	rc = dnode_hold(spa->mos, 1, &dir);
	if (rc)
		goto fail;
	rc = zap_lookup_uint64(&dir, "root_dataset", &spa->root_dir_obj);
	if (rc == 0) {
		uint64_t deflate = 0;
		zap_lookup_uint64(&dir, "deflate", &deflate);
		spa->deflate = deflate != 0;
		spa->have_salt = zap_lookup(&dir, "org.illumos:checksum_salt", 1,
					    sizeof(spa->salt.zcs_bytes), spa->salt.zcs_bytes) == 0;
		zap_lookup_uint64(&dir, "features_for_read", &spa->features_for_read_obj);
		zap_lookup_uint64(&dir, "features_for_write", &spa->features_for_write_obj);
		zap_lookup_uint64(&dir, "feature_descriptions", &spa->feature_desc_obj);
	}
	dnode_rele(&dir);
	if (rc)
		goto fail;
	/* The root dataset's dir must be readable for the pool to be usable. */
	dnode_t rootdir;
	rc = dnode_hold(spa->mos, spa->root_dir_obj, &rootdir);
	if (rc)
		goto fail;
	dnode_rele(&rootdir);
	return 0;
fail:
	objset_close(spa->mos);
	spa->mos = NULL;
	return rc < 0 ? rc : SET_ERROR(-ZFUSE_E_CORRUPT);
}

static int check_label_features(spa_t *spa)
{
	const nvlist_t *ffr;
	if (!spa->label_config || nvlist_lookup_nvlist(spa->label_config, "features_for_read", &ffr) != 0)
		return 0;
	int bad = 0;
	for (const nvpair_t *p = nvlist_next_nvpair(ffr, NULL); p; p = nvlist_next_nvpair(ffr, p)) {
		const struct zfeature_info *fi = zfeature_lookup(nvpair_name(p));
		if (!fi || !fi->zfuse_reads) {
			spa_log(spa, ZFUSE_LOG_ERROR, "pool needs feature '%s' to be read, which zfuse %s",
				nvpair_name(p), fi ? "cannot read yet" : "does not know");
			bad++;
		}
	}
	return bad ? -ZFUSE_E_UNSUPPORTED : 0;
}

static int spa_select_and_load(spa_t *spa, const struct zfuse_import_opts *opts)
{
	struct ub_cand *v = NULL;
	size_t n = 0, cap = 0;
	for (uint64_t i = 0; i < spa->root->nchild; i++)
		collect_leaves(spa->root->child[i], spa->root->child[i], &v, &n, &cap, opts->txg);
	if (n == 0) {
		free(v);
		spa_log(spa, ZFUSE_LOG_ERROR, opts->txg ? "pool '%s': no valid uberblock at or before txg %" PRIu64
			: "pool '%s': no valid uberblock", spa->name, opts->txg);
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	}
	qsort(v, n, sizeof(*v), ub_cand_cmp);
	/* As `zpool import -T N`: the newest uberblock at or before N. */
	if (opts->txg && v[0].ub.ub_txg != opts->txg)
		spa_log(spa, ZFUSE_LOG_INFO, "pool '%s': no uberblock for txg %" PRIu64
			"; using txg %" PRIu64 ", the newest before it", spa->name, opts->txg,
			v[0].ub.ub_txg);
	int rc = SET_ERROR(-ZFUSE_E_CORRUPT);
	uint64_t newest = v[0].ub.ub_txg, tried_txg = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i].ub.ub_txg == tried_txg)
			continue;	/* same txg from another label/leaf */
		tried_txg = v[i].ub.ub_txg;
		spa->ub = v[i].ub;
		nvlist_free(spa->label_config);
		spa->label_config = vdev_label_config_for_txg(v[i].dev, spa->ub.ub_txg);
		uint64_t ver = spa->ub.ub_version;
		if (!(ver >= 1 && ver <= SPA_VERSION_MAX_LEGACY) && ver != SPA_VERSION_FEATURES) {
			spa_log(spa, ZFUSE_LOG_ERROR, "pool '%s' is formatted using an unsupported ZFS "
				"version (%" PRIu64 "; OpenZFS and zfuse read versions 1 to %d and %d)",
				spa->name, ver, SPA_VERSION_MAX_LEGACY, SPA_VERSION_FEATURES);
			rc = -ZFUSE_E_UNSUPPORTED;
			break;
		}
		spa->version = ver;
		if (vdev_guid_sum(spa->root) != spa->ub.ub_guid_sum) {
			spa_log(spa, ZFUSE_LOG_ERROR, "pool '%s': vdev guid sum does not match the "
				"uberblock (txg %" PRIu64 "): a device is missing or does not belong",
				spa->name, spa->ub.ub_txg);
			rc = -ZFUSE_E_MISSING_DEV;
			break;
		}
		if ((rc = check_label_features(spa)) != 0)
			break;
		rc = spa_load_mos(spa);
		if (rc == 0)
			rc = zfeature_check_read(spa);
		if (rc == 0 || rc == -ZFUSE_E_UNSUPPORTED || !opts->rewind)
			break;
		spa_log(spa, ZFUSE_LOG_WARN, "txg %" PRIu64 " is damaged (%s); rewinding",
			spa->ub.ub_txg, zfuse_strerror(rc));
		if (spa->mos) {
			objset_close(spa->mos);
			spa->mos = NULL;
		}
	}
	if (rc == 0 && spa->ub.ub_txg != newest)
		spa_log(spa, ZFUSE_LOG_WARN, "pool '%s' imported at txg %" PRIu64 "; newer txgs up to %"
			PRIu64 " are not used", spa->name, spa->ub.ub_txg, newest);
	if (rc && !opts->rewind && rc != -ZFUSE_E_UNSUPPORTED && rc != -ZFUSE_E_MISSING_DEV)
		spa_log(spa, ZFUSE_LOG_ERROR, "pool '%s': cannot open the newest txg %" PRIu64
			" (%s); -o rewind tries older ones", spa->name, spa->ub.ub_txg, zfuse_strerror(rc));
	free(v);
	return rc;
}

void zfuse_pool_close(zfuse_pool_t *pool)
{
	spa_t *spa = (spa_t *)pool;
	if (!spa)
		return;
	dsl_scan_fini(spa);	/* the scrub holds space and reads through the pool */
	txg_shutdown(spa);
	if (spa->log && spa->log_level >= ZFUSE_LOG_DEBUG)
		zfs_debug_trace(NULL, NULL);	/* its log_arg may not outlive the pool */
	metaslab_fini(spa);
	while (spa->objsets) {
		objset_t *os = spa->objsets;
		spa->objsets = os->next;
		dbuf_overlay_clear(os);
		dbuf_syncing_clear(os);
		objset_close(os);
	}
	if (spa->mos) {
		dbuf_overlay_clear(spa->mos);
		dbuf_syncing_clear(spa->mos);
	}
	free(spa->readonly_reason);
	spa_errlog_fini(spa);
	free(spa->open_snaps);
	nvlist_free(spa->mos_config);
	nvlist_free(spa->label_features);
	spa_locks_destroy(spa);
	zfetch_destroy(spa->zfetch);
	objset_close(spa->mos);
	vdev_free(spa->root);
	for (size_t i = 0; i < spa->ndevs; i++)
		leaf_dev_close(spa->devs[i]);
	free(spa->devs);
	vdev_write_log_close(spa->write_log);
	tunables_free(&spa->tunables);
	nvlist_free(spa->label_config);
	arc_destroy(spa->arc);
	free(spa->name);
	free(spa);
}

int zfuse_pool_import(const struct zfuse_import_opts *opts, zfuse_pool_t **out)
{
	*out = NULL;
	if (!opts || (opts->npaths && !opts->paths) || opts->npaths == 0)
		return -ZFUSE_E_INVAL;
	spa_t *spa = calloc(1, sizeof(*spa));
	if (!spa)
		return -ZFUSE_E_NOMEM;
	spa_locks_init(spa);
	tunables_load(&spa->tunables);
	spa->log = opts->log;
	spa->log_arg = opts->log_arg;
	spa->log_level = opts->log ? opts->log_level : ZFUSE_LOG_WARN;
	if (opts->log && opts->log_level >= ZFUSE_LOG_DEBUG)
		zfs_debug_trace(opts->log, opts->log_arg);
	spa->arc = arc_create(opts->cache_size ? opts->cache_size : arc_default_size());
	/* Prefetch a window of 8 MiB ahead of sequential readers. */
	spa->zfetch = zfetch_create(2, 8ULL << 20);
	if (!spa->arc || !spa->zfetch) {
		arc_destroy(spa->arc);
		zfetch_destroy(spa->zfetch);
		free(spa);
		return -ZFUSE_E_NOMEM;
	}
	int rc = 0;
	for (size_t i = 0; i < opts->npaths && rc == 0; i++) {
		rc = vdev_probe_path(opts->paths[i], &spa->devs, &spa->ndevs, log_to_opts, spa);
		if (rc == -ZFUSE_E_NOENT)
			spa_log(spa, ZFUSE_LOG_ERROR, "%s: no such file or directory", opts->paths[i]);
		else if (rc)
			spa_log(spa, ZFUSE_LOG_ERROR, "%s: %s", opts->paths[i], zfuse_strerror(rc));
	}
	if (rc == 0)
		rc = choose_pool(spa, opts->pool_name, &spa->guid);
	if (rc == 0)
		rc = assemble_tree(spa);
	if (rc == 0)
		rc = spa_select_and_load(spa, opts);
	if (rc) {
		zfuse_pool_close((zfuse_pool_t *)spa);
		return rc;
	}
	if (opts->readwrite && !opts->txg && !opts->rewind)
		txg_enable_writes(spa);	/* on refusal: read-only, reason logged */
	spa_log(spa, ZFUSE_LOG_INFO, "imported pool '%s' at txg %" PRIu64 "%s", spa->name,
		spa->ub.ub_txg, spa->writable ? " read-write" : "");
	*out = (zfuse_pool_t *)spa;
	return 0;
}

bool zfuse_pool_writable(const zfuse_pool_t *pool)
{
	return ((const spa_t *)pool)->writable;
}

const char *zfuse_pool_readonly_reason(const zfuse_pool_t *pool)
{
	return ((const spa_t *)pool)->readonly_reason;
}

int zfuse_pool_sync(zfuse_pool_t *pool)
{
	return txg_sync_now((spa_t *)pool);
}

const char *zfuse_pool_name(const zfuse_pool_t *pool)
{
	return ((const spa_t *)pool)->name;
}

uint64_t zfuse_pool_guid(const zfuse_pool_t *pool)
{
	return ((const spa_t *)pool)->guid;
}

uint64_t zfuse_pool_txg(const zfuse_pool_t *pool)
{
	return ((const spa_t *)pool)->ub.ub_txg;
}
