/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfeature_write.c — feature state changes in the MOS (object-layer.md
 * §9.1; OpenZFS zfeature.c: spa_feature_create_zap_objects,
 * feature_enable_sync, feature_sync, spa_feature_incr/decr).
 *
 * Theory: a feature's state is one integer in features_for_read or
 * features_for_write (absent: disabled, 0: enabled, > 0: active), plus a
 * description and, once enabled_txg is enabled, the txg it was enabled
 * in. MOS features (needed to read the MOS itself) are mirrored in the
 * labels' features_for_read while active; spa->label_features is that
 * list and spa_config.c writes it.
 *
 * zfuse only enables features whose write obligations it keeps — the
 * table below — and the refcount calls serve the write engine for
 * activations it causes (space map histograms, large blocks, ...).
 */
#include <stddef.h>
#include <string.h>
#include "dmu_types.h"
#include "dnode.h"
#include "zap.h"
#include "zfeature.h"
#include "zfeature_write.h"
#include "zfuse/errors.h"

#define F_MOS 0x1
#define F_AOE 0x2	/* activate on enable */
#define F_DS 0x4	/* per-dataset */

struct zfeature_write_info {
	const char *name;
	const char *desc;	/* exactly OpenZFS 2.3's fi_desc */
	unsigned flags;
	const char *deps[4];
};

/*
 * Features zfuse may enable, in OpenZFS's spa_feature_t order. Each is
 * either harmless for a writer that never uses it, or one whose invariant
 * zfuse maintains. Left out on purpose: async_destroy (bptree), the
 * accounting features userobj_accounting / project_quota (per-object
 * counts zfuse does not keep), device_removal /
 * obsolete_counts, zpool_checkpoint, allocation_classes, log_spacemap,
 * vdev_zaps_v2, livelist, block_cloning, fast_dedup, raidz_expansion,
 * draid, redaction bookmarks, longname,
 * large_microzap, resilver_defer, device_rebuild.
 */
static const struct zfeature_write_info writable[] = {
	{ "empty_bpobj", "Snapshots use less space.", 0, { NULL } },
	{ "lz4_compress", "LZ4 compression algorithm support.", F_AOE, { NULL } },
	{ "multi_vdev_crash_dump", "Crash dumps to multiple vdev pools.", 0, { NULL } },
	{ "spacemap_histogram", "Spacemaps maintain space histograms.", 0, { NULL } },
	{ "enabled_txg", "Record txg at which a feature is enabled", 0, { NULL } },
	{ "hole_birth", "Retain hole birth txg for more precise zfs send", F_MOS | F_AOE,
	  { "enabled_txg", NULL } },
	{ "extensible_dataset", "Enhanced dataset functionality, used by other features.", 0,
	  { NULL } },
	{ "embedded_data", "Blocks which compress very well use even less space.", F_MOS | F_AOE,
	  { NULL } },
	{ "bookmarks", "\"zfs bookmark\" command", 0, { "extensible_dataset", NULL } },
	{ "filesystem_limits", "Filesystem and snapshot limits.", 0, { "extensible_dataset", NULL } },
	{ "large_blocks", "Support for blocks larger than 128KB.", F_DS,
	  { "extensible_dataset", NULL } },
	{ "large_dnode", "Variable on-disk size of dnodes.", F_DS, { "extensible_dataset", NULL } },
	{ "sha512", "SHA-512/256 hash algorithm.", F_DS, { "extensible_dataset", NULL } },
	{ "skein", "Skein hash algorithm.", F_DS, { "extensible_dataset", NULL } },
	{ "edonr", "Edon-R hash algorithm.", F_DS, { "extensible_dataset", NULL } },
	{ "encryption", "Support for dataset level encryption", F_DS,
	  { "extensible_dataset", "bookmark_v2", NULL } },
	{ "spacemap_v2", "Space maps representing large segments are more efficient.", F_AOE,
	  { NULL } },
	{ "bookmark_v2", "Support for larger bookmarks", 0,
	  { "extensible_dataset", "bookmarks", NULL } },
	{ "bookmark_written", "Additional accounting, enabling the written#<bookmark> property "
	  "(space written since a bookmark), and estimates of send stream sizes for "
	  "incrementals from bookmarks.", 0,
	  { "bookmark_v2", "extensible_dataset", "bookmarks", NULL } },
	{ "zstd_compress", "zstd compression algorithm support.", F_DS,
	  { "extensible_dataset", NULL } },
	/* Activated with a log chain's header, dropped with the chain (zil_log.c). */
	{ "zilsaxattr", "Support for xattr=sa extended attribute logging in ZIL.", F_DS,
	  { "extensible_dataset", NULL } },
	{ "head_errlog", "Support for per-dataset on-disk error logs.", F_AOE, { NULL } },
	{ "blake3", "BLAKE3 hash algorithm.", F_DS, { "extensible_dataset", NULL } },
};

#define NWRITABLE (sizeof(writable) / sizeof(writable[0]))

const char *const zfeature_zfuse_default[] = {
	"empty_bpobj", "lz4_compress", "multi_vdev_crash_dump", "spacemap_histogram",
	"enabled_txg", "hole_birth", "extensible_dataset", "embedded_data", "bookmarks",
	"filesystem_limits", "large_blocks", "large_dnode", "sha512", "skein", "edonr",
	"encryption", "spacemap_v2", "bookmark_v2", "bookmark_written", "zstd_compress", "zilsaxattr",
	"head_errlog", "blake3", NULL,
};

static const struct zfeature_write_info *writable_lookup(const char *name)
{
	for (size_t i = 0; i < NWRITABLE; i++)
		if (strcmp(writable[i].name, name) == 0)
			return &writable[i];
	return NULL;
}

static const struct zfeature_info *by_name(const char *name)
{
	unsigned n;
	const struct zfeature_info *t = zfeature_table(&n);
	for (unsigned i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return &t[i];
	return NULL;
}

/* MOS features of OpenZFS 2.3 (ZFEATURE_FLAG_MOS), also for pools whose
 * features were enabled by OpenZFS. */
static bool is_mos_feature(const char *name)
{
	static const char *const mos[] = { "hole_birth", "embedded_data", "device_removal",
					   "draid", "vdev_zaps_v2", "raidz_expansion", NULL };
	for (int i = 0; mos[i]; i++)
		if (strcmp(mos[i], name) == 0)
			return true;
	return false;
}

static uint64_t refcount_zap(spa_t *spa, const struct zfeature_info *fi)
{
	return fi->readonly_compat ? spa->features_for_write_obj : spa->features_for_read_obj;
}

int spa_feature_refcount(spa_t *spa, const char *name, uint64_t *refcount)
{
	const struct zfeature_info *fi = by_name(name);
	return fi ? zfeature_refcount(spa, fi->guid, refcount) : -ZFUSE_E_NOENT;
}

bool spa_feature_is_enabled(spa_t *spa, const char *name)
{
	const struct zfeature_info *fi = by_name(name);
	return fi && zfeature_is_enabled(spa, fi->guid);
}

bool spa_feature_is_active(spa_t *spa, const char *name)
{
	const struct zfeature_info *fi = by_name(name);
	return fi && zfeature_is_active(spa, fi->guid);
}

int spa_feature_create_zap_objects(spa_t *spa, dmu_tx_t *tx)
{
	static const struct {
		const char *key;
		size_t off;
	} zaps[] = {
		{ "features_for_read", offsetof(spa_t, features_for_read_obj) },
		{ "features_for_write", offsetof(spa_t, features_for_write_obj) },
		{ "feature_descriptions", offsetof(spa_t, feature_desc_obj) },
	};
	for (size_t i = 0; i < 3; i++) {
		uint64_t obj;
		int rc = zap_create(spa->mos, DMU_OTN_ZAP_METADATA, DMU_OT_NONE, 0, tx, &obj);
		if (rc == 0)
			rc = zap_add_uint64(spa->mos, 1, zaps[i].key, obj, tx);
		if (rc)
			return rc;
		*(uint64_t *)((char *)spa + zaps[i].off) = obj;
	}
	return 0;
}

/* The labels list a MOS feature exactly while it is active. */
static int label_features_update(spa_t *spa, const struct zfeature_info *fi, uint64_t refcount)
{
	if (!is_mos_feature(fi->name))
		return 0;
	if (!spa->label_features) {
		int rc = nvlist_alloc(&spa->label_features);
		if (rc)
			return rc;
	}
	bool listed = nvlist_exists(spa->label_features, fi->guid);
	if (refcount > 0 && !listed)
		return nvlist_add_boolean(spa->label_features, fi->guid);
	if (refcount == 0 && listed)
		return nvlist_remove(spa->label_features, fi->guid);
	return 0;
}

static int feature_sync(spa_t *spa, const struct zfeature_info *fi, uint64_t refcount, dmu_tx_t *tx)
{
	int rc = zap_update_uint64(spa->mos, refcount_zap(spa, fi), fi->guid, refcount, tx);
	return rc ? rc : label_features_update(spa, fi, refcount);
}

int spa_feature_enable(spa_t *spa, const char *name, dmu_tx_t *tx)
{
	const struct zfeature_info *fi = by_name(name);
	if (!fi)
		return -ZFUSE_E_NOENT;
	const struct zfeature_write_info *wi = writable_lookup(name);
	if (!wi)
		return -ZFUSE_E_UNSUPPORTED;
	if (spa_feature_is_enabled(spa, name))
		return 0;
	int rc = 0;
	for (int i = 0; rc == 0 && wi->deps[i]; i++)
		rc = spa_feature_enable(spa, wi->deps[i], tx);
	if (rc == 0)
		rc = zap_update(spa->mos, spa->feature_desc_obj, fi->guid, 1, strlen(wi->desc) + 1,
				wi->desc, tx);
	if (rc == 0)
		rc = feature_sync(spa, fi, (wi->flags & F_AOE) ? 1 : 0, tx);
	if (rc == 0 && spa_feature_is_enabled(spa, "enabled_txg")) {
		if (!spa->feature_enabled_txg_obj) {
			rc = zap_create(spa->mos, DMU_OTN_ZAP_METADATA, DMU_OT_NONE, 0, tx,
					&spa->feature_enabled_txg_obj);
			if (rc == 0)
				rc = zap_add_uint64(spa->mos, 1, "feature_enabled_txg",
						    spa->feature_enabled_txg_obj, tx);
		}
		if (rc == 0)
			rc = spa_feature_incr(spa, "enabled_txg", tx);
		if (rc == 0)
			rc = zap_add_uint64(spa->mos, spa->feature_enabled_txg_obj, fi->guid, tx->txg, tx);
	}
	return rc;
}

static int feature_adjust(spa_t *spa, const char *name, int delta, dmu_tx_t *tx)
{
	const struct zfeature_info *fi = by_name(name);
	uint64_t r;
	int rc = spa_feature_refcount(spa, name, &r);
	if (rc)
		return rc;
	if (delta < 0 && r == 0)
		return -ZFUSE_E_INVAL;
	return feature_sync(spa, fi, delta < 0 ? r - 1 : r + 1, tx);
}

int spa_feature_incr(spa_t *spa, const char *name, dmu_tx_t *tx)
{
	return feature_adjust(spa, name, 1, tx);
}

int spa_feature_decr(spa_t *spa, const char *name, dmu_tx_t *tx)
{
	return feature_adjust(spa, name, -1, tx);
}
