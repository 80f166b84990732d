/* SPDX-License-Identifier: CDDL-1.0 */
/* zfs_quota.h — user/group/project quotas of a filesystem (zfs_quota.c). */
#ifndef ZFUSE_ZFS_QUOTA_H
#define ZFUSE_ZFS_QUOTA_H
#include <stdbool.h>
#include <stdint.h>
#include "dnode.h"
#include "zfuse/dataset.h"

struct spa;

/* Whether the filesystem objset has a limit of any kind (a quota ZAP named
 * in its master node). Reads the objset: pool lock held. */
bool zfs_objset_has_idquota(objset_t *os);

/* zfs_id_overquota: ZFUSE_E_DQUOT when uid, gid or (not 0) projid is at
 * or over its byte limit, or with objs its object limit too, as the
 * synced used figures say. Pool lock held. */
int zfs_id_overquota(objset_t *os, uint64_t uid, uint64_t gid, uint64_t projid, bool objs);

/* The same for one user (group) id, as zfs_setattr checks the new owner
 * (group) of a file. */
int zfs_id_overquota_one(objset_t *os, bool group, uint64_t id);

/* `zfs get` of a userquota@/userused@... property (prop is the full name):
 * "-" with ZFUSE_SRC_NONE when the id does not decode or the figures are
 * not kept. Errors: those of finding the dataset and reading it. */
int zfs_userquota_get(struct spa *spa, const char *name, const char *prop, bool parsable,
		      struct zfuse_prop_value *out);

/* `zfs set` of n userquota@... settings on filesystem name: all are
 * checked (zfs's words logged), then written in one transaction of the
 * open txg and synced; with check_only, only checked. Errors:
 * ZFUSE_E_INVAL (snapshot, bad name, read-only figure, bad value),
 * ZFUSE_E_UNSUPPORTED (pool or ZPL too old, not a filesystem). */
int zfs_userquota_set(struct spa *spa, const char *name, const struct zfuse_prop_setting *s,
		      size_t n, bool check_only);

#endif
