/*
 * zfeature.c — knowledge of OpenZFS feature flags. Reading needs only the
 * features_for_read ZAP: a feature there with a non-zero refcount changed
 * the on-disk format in a way a reader must understand.
 */
#include <string.h>
#include "dnode.h"
#include "spa.h"
#include "zap.h"
#include "zfeature.h"
#include "zfuse/errors.h"

static const struct zfeature_info features[] = {
	{ "async_destroy", "com.delphix:async_destroy", true, true },
	{ "empty_bpobj", "com.delphix:empty_bpobj", true, true },
	{ "lz4_compress", "org.illumos:lz4_compress", false, true },
	{ "multi_vdev_crash_dump", "com.joyent:multi_vdev_crash_dump", false, true },
	{ "spacemap_histogram", "com.delphix:spacemap_histogram", true, true },
	{ "enabled_txg", "com.delphix:enabled_txg", true, true },
	{ "hole_birth", "com.delphix:hole_birth", false, true },
	{ "extensible_dataset", "com.delphix:extensible_dataset", false, true },
	{ "embedded_data", "com.delphix:embedded_data", false, true },
	{ "bookmarks", "com.delphix:bookmarks", true, true },
	{ "filesystem_limits", "com.joyent:filesystem_limits", true, true },
	{ "large_blocks", "org.open-zfs:large_blocks", false, true },
	{ "large_dnode", "org.zfsonlinux:large_dnode", false, true },
	{ "sha512", "org.illumos:sha512", false, true },
	{ "skein", "org.illumos:skein", false, true },
	{ "edonr", "org.illumos:edonr", false, true },
	{ "userobj_accounting", "org.zfsonlinux:userobj_accounting", true, true },
	/* Encrypted datasets are listed and refused one by one at open. */
	{ "encryption", "com.datto:encryption", false, true },
	{ "project_quota", "org.zfsonlinux:project_quota", true, true },
	{ "device_removal", "com.delphix:device_removal", false, false },
	{ "obsolete_counts", "com.delphix:obsolete_counts", true, true },
	{ "zpool_checkpoint", "com.delphix:zpool_checkpoint", true, true },
	{ "spacemap_v2", "com.delphix:spacemap_v2", true, true },
	{ "allocation_classes", "org.zfsonlinux:allocation_classes", true, true },
	{ "resilver_defer", "com.datto:resilver_defer", true, true },
	{ "bookmark_v2", "com.datto:bookmark_v2", false, true },
	{ "redaction_bookmarks", "com.delphix:redaction_bookmarks", false, true },
	{ "redacted_datasets", "com.delphix:redacted_datasets", false, true },
	{ "bookmark_written", "com.delphix:bookmark_written", false, true },
	{ "log_spacemap", "com.delphix:log_spacemap", true, true },
	{ "livelist", "com.delphix:livelist", true, true },
	{ "device_rebuild", "org.openzfs:device_rebuild", true, true },
	{ "zstd_compress", "org.freebsd:zstd_compress", false, true },
	{ "draid", "org.openzfs:draid", false, false },
	{ "zilsaxattr", "org.openzfs:zilsaxattr", true, true },
	{ "head_errlog", "com.delphix:head_errlog", false, true },
	{ "blake3", "org.openzfs:blake3", false, true },
	{ "block_cloning", "com.fudosecurity:block_cloning", true, true },
	{ "vdev_zaps_v2", "com.klarasystems:vdev_zaps_v2", false, true },
	{ "redaction_list_spill", "com.delphix:redaction_list_spill", false, true },
	{ "raidz_expansion", "org.openzfs:raidz_expansion", false, false },
	{ "fast_dedup", "com.klarasystems:fast_dedup", true, true },
	{ "longname", "org.zfsonlinux:longname", false, true },
	{ "large_microzap", "com.klarasystems:large_microzap", true, true },
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
