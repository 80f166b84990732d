/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * spa_stats.c — what `zfuse status` reports of an imported pool: the
 * state of each vdev from the devices present, the error counts the read
 * and write paths keep per device, the txg figures, and the scrub's.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "dsl_scan.h"
#include "spa_errlog.h"
#include "spa_lock.h"
#include "txg.h"
#include "zfuse/status.h"

const char *zfuse_vdev_state_name(enum zfuse_vdev_state state)
{
	switch (state) {
	case ZFUSE_VDEV_ONLINE:
		return "ONLINE";
	case ZFUSE_VDEV_DEGRADED:
		return "DEGRADED";
	default:
		return "UNAVAIL";
	}
}

static enum zfuse_vdev_state vdev_state(const vdev_t *vd)
{
	if (vd->kind == VDEV_KIND_LEAF)
		return vd->dev ? ZFUSE_VDEV_ONLINE : ZFUSE_VDEV_UNAVAIL;
	if (vd->kind == VDEV_KIND_HOLE)
		return ZFUSE_VDEV_ONLINE;
	if (!vdev_readable(vd))
		return ZFUSE_VDEV_UNAVAIL;
	for (uint64_t i = 0; i < vd->nchild; i++)
		if (vdev_state(vd->child[i]) != ZFUSE_VDEV_ONLINE)
			return ZFUSE_VDEV_DEGRADED;
	return ZFUSE_VDEV_ONLINE;
}

struct counts {
	uint64_t r, w, c;
};

static struct counts vdev_counts(const vdev_t *vd)
{
	struct counts n = { 0, 0, 0 };
	if (vd->kind == VDEV_KIND_LEAF && vd->dev) {
		n.r = __atomic_load_n(&vd->dev->read_errors, __ATOMIC_RELAXED);
		n.w = __atomic_load_n(&vd->dev->write_errors, __ATOMIC_RELAXED);
		n.c = __atomic_load_n(&vd->dev->checksum_errors, __ATOMIC_RELAXED);
	}
	for (uint64_t i = 0; i < vd->nchild; i++) {
		struct counts k = vdev_counts(vd->child[i]);
		n.r += k.r;
		n.w += k.w;
		n.c += k.c;
	}
	return n;
}

static int vdev_walk(spa_t *spa, const vdev_t *vd, unsigned depth, zfuse_vdev_fn fn, void *arg)
{
	if (vd->kind == VDEV_KIND_HOLE)
		return 0;
	char name[4096];
	if (vd->kind == VDEV_KIND_ROOT)
		snprintf(name, sizeof(name), "%s", spa->name);
	else if (vd->kind == VDEV_KIND_LEAF && vd->dev)
		snprintf(name, sizeof(name), "%s", vd->dev->path);
	else if (vd->kind == VDEV_KIND_RAIDZ)
		snprintf(name, sizeof(name), "raidz%" PRIu64 "-%" PRIu64, vd->nparity, vd->id);
	else if (vd->kind == VDEV_KIND_LEAF || vd->kind == VDEV_KIND_MISSING)
		snprintf(name, sizeof(name), "%" PRIu64, vd->guid);	/* zpool's name for a missing device */
	else
		snprintf(name, sizeof(name), "%s-%" PRIu64, vd->type, vd->id);
	struct counts n = vdev_counts(vd);
	struct zfuse_vdev_info info = {
		.depth = depth, .name = name, .type = vd->kind == VDEV_KIND_ROOT ? "root" : vd->type,
		.guid = vd->guid, .state = vdev_state(vd), .read_errors = n.r, .write_errors = n.w,
		.checksum_errors = n.c, .is_log = vd->is_log,
	};
	int rc = fn(arg, &info);
	for (uint64_t i = 0; rc == 0 && i < vd->nchild; i++)
		rc = vdev_walk(spa, vd->child[i], depth + 1, fn, arg);
	return rc;
}

int zfuse_pool_vdev_iter(zfuse_pool_t *pool, zfuse_vdev_fn fn, void *arg)
{
	spa_t *spa = (spa_t *)pool;
	/* The vdev tree does not change while the pool is imported: no lock,
	 * so that fn may call into the library. */
	return vdev_walk(spa, spa->root, 0, fn, arg);
}

int zfuse_pool_status(zfuse_pool_t *pool, struct zfuse_pool_status *out)
{
	spa_t *spa = (spa_t *)pool;
	memset(out, 0, sizeof(*out));
	out->state = vdev_state(spa->root);
	spa_enter_read(spa);
	out->writable = spa->writable;
	out->readonly_reason = spa->writable ? NULL : spa->readonly_reason;
	out->txg = spa->ub.ub_txg;
	out->last_sync_time = (int64_t)spa->ub.ub_timestamp;
	if (spa->writable) {
		out->open_txg = spa->open_txg;
		out->dirty_bytes = txg_dirty_bytes(spa);
	}
	spa_exit(spa);
	out->data_errors = spa_errlog_count(spa);
	dsl_scan_status(spa, &out->scan);
	return 0;
}
