/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfeature.c — knowledge of OpenZFS feature flags. Reading needs only the
 * features_for_read ZAP: a feature there with a non-zero refcount changed
 * the on-disk format in a way a reader must understand.
 */
#include <stdio.h>
#include <string.h>
#include "dnode.h"
#include "spa_misc.h"
#include "zap.h"
#include "zfeature.h"
#include "zfuse/errors.h"
#include "zfuse/zfuse.h"

static const struct zfeature_info features[] = {
	{ "async_destroy", "com.delphix:async_destroy", true, true, false },
	{ "empty_bpobj", "com.delphix:empty_bpobj", true, true, true },
	{ "lz4_compress", "org.illumos:lz4_compress", false, true, true },
	{ "multi_vdev_crash_dump", "com.joyent:multi_vdev_crash_dump", false, true, true },
	{ "spacemap_histogram", "com.delphix:spacemap_histogram", true, true, true },
	{ "enabled_txg", "com.delphix:enabled_txg", true, true, true },
	{ "hole_birth", "com.delphix:hole_birth", false, true, true },
	{ "extensible_dataset", "com.delphix:extensible_dataset", false, true, true },
	{ "embedded_data", "com.delphix:embedded_data", false, true, true },
	{ "bookmarks", "com.delphix:bookmarks", true, true, true },
	{ "filesystem_limits", "com.joyent:filesystem_limits", true, true, true },
	{ "large_blocks", "org.open-zfs:large_blocks", false, true, true },
	{ "large_dnode", "org.zfsonlinux:large_dnode", false, true, true },
	{ "sha512", "org.illumos:sha512", false, true, true },
	{ "skein", "org.illumos:skein", false, true, true },
	{ "edonr", "org.illumos:edonr", false, true, true },
	{ "userobj_accounting", "org.zfsonlinux:userobj_accounting", true, true, true },
	/* Encrypted datasets are read and written with their keys
	 * (dsl_crypt.c, zio_crypt.c); without one nothing of them is written. */
	{ "encryption", "com.datto:encryption", false, true, true },
	{ "project_quota", "org.zfsonlinux:project_quota", true, true, true },
	{ "device_removal", "com.delphix:device_removal", false, false, false },
	{ "obsolete_counts", "com.delphix:obsolete_counts", true, true, false },
	{ "zpool_checkpoint", "com.delphix:zpool_checkpoint", true, true, false },
	{ "spacemap_v2", "com.delphix:spacemap_v2", true, true, true },
	{ "allocation_classes", "org.zfsonlinux:allocation_classes", true, true, false },
	{ "resilver_defer", "com.datto:resilver_defer", true, true, true },
	{ "bookmark_v2", "com.datto:bookmark_v2", false, true, true },
	{ "redaction_bookmarks", "com.delphix:redaction_bookmarks", false, true, true },
	{ "redacted_datasets", "com.delphix:redacted_datasets", false, true, false },
	{ "bookmark_written", "com.delphix:bookmark_written", false, true, true },
	{ "log_spacemap", "com.delphix:log_spacemap", true, true, true },
	{ "livelist", "com.delphix:livelist", true, true, true },
	{ "device_rebuild", "org.openzfs:device_rebuild", true, true, true },
	{ "zstd_compress", "org.freebsd:zstd_compress", false, true, true },
	{ "draid", "org.openzfs:draid", false, false, false },
	{ "zilsaxattr", "org.openzfs:zilsaxattr", true, true, true },
	{ "head_errlog", "com.delphix:head_errlog", false, true, true },
	{ "blake3", "org.openzfs:blake3", false, true, true },
	{ "block_cloning", "com.fudosecurity:block_cloning", true, true, false },
	{ "vdev_zaps_v2", "com.klarasystems:vdev_zaps_v2", false, true, true },
	{ "redaction_list_spill", "com.delphix:redaction_list_spill", false, true, false },
	{ "raidz_expansion", "org.openzfs:raidz_expansion", false, false, false },
	{ "fast_dedup", "com.klarasystems:fast_dedup", true, true, false },
	{ "longname", "org.zfsonlinux:longname", false, true, true },
	{ "large_microzap", "com.klarasystems:large_microzap", true, true, false },
};

const struct zfeature_info *zfeature_table(unsigned *count)
{
	*count = sizeof(features) / sizeof(features[0]);
	return features;
}

const struct zfeature_info *zfeature_lookup(const char *guid)
{
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++)
		if (strcmp(features[i].guid, guid) == 0)
			return &features[i];
	return NULL;
}

struct check_arg {
	spa_t *spa;
	int bad;
};

static int check_one(void *arg, const zap_entry_t *ze)
{
	struct check_arg *c = arg;
	if (ze->value_first == 0)
		return 0;	/* enabled but never used: no on-disk change */
	const struct zfeature_info *fi = zfeature_lookup(ze->name);
	if (!fi) {
		spa_log(c->spa, ZFUSE_LOG_ERROR,
			"pool uses feature '%s', which zfuse does not know", ze->name);
		c->bad++;
	} else if (!fi->zfuse_reads) {
		spa_log(c->spa, ZFUSE_LOG_ERROR,
			"pool uses feature '%s' (%s), which zfuse cannot read yet", fi->name, ze->name);
		c->bad++;
	}
	return 0;
}

static int feature_zap_lookup(spa_t *spa, uint64_t obj, const char *guid, uint64_t *v)
{
	if (!obj)
		return -ZFUSE_E_NOENT;
	dnode_t dn;
	int rc = dnode_hold(spa->mos, obj, &dn);
	if (rc)
		return rc;
	rc = zap_lookup_uint64(&dn, guid, v);
	dnode_rele(&dn);
	return rc;
}

int zfeature_refcount(spa_t *spa, const char *guid, uint64_t *refcount)
{
	const struct zfeature_info *fi = zfeature_lookup(guid);
	uint64_t obj = fi && fi->readonly_compat ? spa->features_for_write_obj : spa->features_for_read_obj;
	int rc = feature_zap_lookup(spa, obj, guid, refcount);
	if (rc == -ZFUSE_E_NOENT && !fi)
		rc = feature_zap_lookup(spa, spa->features_for_write_obj, guid, refcount);
	return rc;
}

bool zfeature_is_enabled(spa_t *spa, const char *guid)
{
	uint64_t r;
	return zfeature_refcount(spa, guid, &r) == 0;
}

bool zfeature_is_active(spa_t *spa, const char *guid)
{
	uint64_t r;
	return zfeature_refcount(spa, guid, &r) == 0 && r > 0;
}

struct write_check {
	const char *blocker;
	char name[128];
};

static int write_check_one(void *arg, const zap_entry_t *ze)
{
	struct write_check *c = arg;
	if (ze->value_first == 0)
		return 0;
	const struct zfeature_info *fi = zfeature_lookup(ze->name);
	if (!fi || !fi->zfuse_writes) {
		snprintf(c->name, sizeof(c->name), "%s", fi ? fi->name : ze->name);
		c->blocker = c->name;
		return 1;
	}
	return 0;
}

int zfeature_check_write(spa_t *spa, char *why, size_t cap)
{
	uint64_t objs[2] = { spa->features_for_read_obj, spa->features_for_write_obj };
	for (int i = 0; i < 2; i++) {
		if (!objs[i])
			continue;
		dnode_t dn;
		int rc = dnode_hold(spa->mos, objs[i], &dn);
		if (rc)
			return rc;
		struct write_check c = { NULL, "" };
		rc = zap_iterate(&dn, 0, 0, write_check_one, &c);
		dnode_rele(&dn);
		if (rc < 0)
			return rc;
		if (c.blocker) {
			snprintf(why, cap, "feature '%s' is active and zfuse does not maintain it", c.blocker);
			return -ZFUSE_E_ROFS;
		}
	}
	return 0;
}

int zfeature_check_read(spa_t *spa)
{
	if (!spa->features_for_read_obj)
		return 0;
	dnode_t dn;
	int rc = dnode_hold(spa->mos, spa->features_for_read_obj, &dn);
	if (rc)
		return rc;
	struct check_arg c = { spa, 0 };
	rc = zap_iterate(&dn, 0, 0, check_one, &c);
	dnode_rele(&dn);
	if (rc)
		return rc;
	return c.bad ? -ZFUSE_E_UNSUPPORTED : 0;
}

int zfuse_feature_support_iter(int (*fn)(void *arg, const struct zfuse_feature_support *f), void *arg)
{
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		struct zfuse_feature_support f = {
			features[i].name, features[i].guid, features[i].readonly_compat,
			features[i].zfuse_reads, features[i].zfuse_writes,
		};
		int rc = fn(arg, &f);
		if (rc)
			return rc;
	}
	return 0;
}
