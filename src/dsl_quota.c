/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dsl_quota.c — quota and refquota as OpenZFS enforces them
 * (dsl_dir_tempreserve_space, dsl_dataset_check_quota): a change may go
 * on while the space on disk plus what is still in flight stays under
 * the limit; when it does not, the writer waits for the sync to settle
 * what is in flight, and only when the space on disk alone has reached
 * the limit is the change refused with EDQUOT. The change itself is not
 * counted ("one free hit"), so a file stops growing within one write of
 * the limit, at the byte OpenZFS stops it within a record.
 *
 * Whether a dataset has any limit at all is decided when its properties
 * are (re)read (dmu_objset_refresh_props), so a dataset without one pays
 * nothing per write.
 */
#include "dbuf.h"
#include "dsl.h"
#include "dsl_quota.h"
#include "spa_impl.h"
#include "spa_lock.h"
#include "txg.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define QUOTA_SYNC_TRIES 8

bool dsl_dataset_has_quota(spa_t *spa, uint64_t dsobj)
{
	dsl_dataset_phys_t ds;
	if (dsl_dataset_read(spa, dsobj, &ds) != 0)
		return false;
	uint64_t v;
	if (dsl_prop_get_uint64(spa, ds.dir_obj, "refquota", false, &v, NULL) == 0 && v)
		return true;
	uint64_t dir = ds.dir_obj;
	for (int depth = 0; dir && depth < DSL_DIR_MAX_DEPTH; depth++) {
		dsl_dir_phys_t dd;
		if (dsl_dir_read(spa, dir, &dd) != 0)
			return false;
		if (dd.quota)
			return true;
		dir = dd.parent_obj;
	}
	return false;
}

enum { QUOTA_OK = 0, QUOTA_WAIT = 1 };

/* Pool lock held. */
static int quota_state(spa_t *spa, const objset_t *os)
{
	uint64_t inflight = dbuf_dirty_bytes(os) + dbuf_syncing_bytes(os);
	dsl_dataset_phys_t ds;
	int rc = dsl_dataset_read(spa, os->dsobj, &ds);
	if (rc)
		return rc;
	int state = QUOTA_OK;
	uint64_t refquota = 0;
	dsl_prop_get_uint64(spa, ds.dir_obj, "refquota", false, &refquota, NULL);
	if (refquota && ds.referenced_bytes + inflight >= refquota) {
		if (inflight == 0 && ds.referenced_bytes >= refquota)
			return SET_ERROR(-ZFUSE_E_DQUOT);
		state = QUOTA_WAIT;
	}
	uint64_t dir = ds.dir_obj;
	for (int depth = 0; dir && depth < DSL_DIR_MAX_DEPTH; depth++) {
		dsl_dir_phys_t dd;
		if ((rc = dsl_dir_read(spa, dir, &dd)) != 0)
			return rc;
		if (dd.quota && dd.used_bytes + inflight >= dd.quota) {
			if (inflight == 0 && dd.used_bytes >= dd.quota)
				return SET_ERROR(-ZFUSE_E_DQUOT);
			state = QUOTA_WAIT;
		}
		dir = dd.parent_obj;
	}
	return state;
}

int dsl_quota_check(spa_t *spa, objset_t *os)
{
	SPA_ASSERT_NOT_HELD(spa);
	if (!os->has_quota)
		return 0;
	for (int tries = 0;; tries++) {
		spa_enter_read(spa);
		int state = quota_state(spa, os);
		spa_exit(spa);
		if (state <= 0)
			return state;
		/* Other writers keep adding to what is in flight: after a few
		 * syncs, let the change go (OpenZFS would keep waiting). */
		if (tries == QUOTA_SYNC_TRIES)
			return 0;
		int rc = txg_sync_now(spa);
		if (rc)
			return rc;
	}
}
