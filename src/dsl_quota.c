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
 * Reservations take part as in dsl_dir_tempreserve_impl: what a dataset
 * has in flight is charged to each parent only past the reservations
 * below it (parent_delta), and at the root, whose used bytes count every
 * unused reservation, the charge and the other datasets' in-flight bytes
 * must stay under the pool's unreserved space, else ENOSPC. So writes
 * into one dataset stop where they would eat into another's reservation.
 *
 * Whether a dataset has any limit at all (a quota or refquota of its own
 * or above, or a reservation anywhere in the pool) is decided when its
 * properties are (re)read (dmu_objset_refresh_props), so a dataset
 * without one pays nothing per write.
 */
#include <stdlib.h>
#include "dbuf.h"
#include "dsl.h"
#include "dsl_quota.h"
#include "spa_impl.h"
#include "spa_lock.h"
#include "txg.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define QUOTA_SYNC_TRIES 8

/* Whether dir or a dir below it has a reservation (pool lock held). */
static bool reservation_below(spa_t *spa, uint64_t dir, int depth)
{
	dsl_dir_phys_t dd;
	if (depth > DSL_DIR_MAX_DEPTH || dsl_dir_read(spa, dir, &dd) != 0)
		return false;
	if (dd.reserved)
		return true;
	uint64_t *kids = NULL;
	size_t n = 0;
	bool found = false;
	if (dsl_dir_children(spa, &dd, &kids, &n) == 0)
		for (size_t i = 0; i < n && !found; i++)
			found = reservation_below(spa, kids[i], depth + 1);
	free(kids);
	return found;
}

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
	return reservation_below(spa, spa->root_dir_obj, 0);
}

/* What os and every other dataset have in flight (pool lock held). */
static uint64_t pool_inflight(spa_t *spa)
{
	uint64_t sum = 0;
	for (objset_t *o = spa->objsets; o; o = o->next)
		sum += dbuf_dirty_bytes(o) + dbuf_syncing_bytes(o);
	return sum;
}

/* parent_delta: what a change of delta bytes in a dir with this used and
 * reserved costs its parent (the reservation absorbs growth up to it). */
static uint64_t parent_delta(uint64_t used, uint64_t reserved, uint64_t delta)
{
	uint64_t before = used > reserved ? used : reserved;
	uint64_t after = used + delta > reserved ? used + delta : reserved;
	return after - before;
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
	/*
	 * charge: what os has in flight as each dir up the line sees it, plus
	 * one byte for the change itself, so that it reaches every dir it
	 * costs something (the change is not counted against the limits: one
	 * free hit). A dir whose reservation absorbs the charge ends the walk,
	 * as parent_rsrv == 0 ends dsl_dir_tempreserve_impl's.
	 */
	uint64_t charge = inflight + 1, others = pool_inflight(spa) - inflight;
	uint64_t dir = ds.dir_obj;
	for (int depth = 0; dir && charge && depth < DSL_DIR_MAX_DEPTH; depth++) {
		dsl_dir_phys_t dd;
		if ((rc = dsl_dir_read(spa, dir, &dd)) != 0)
			return rc;
		uint64_t flight = charge - 1;
		if (dd.quota && dd.used_bytes + flight >= dd.quota) {
			if (flight == 0 && dd.used_bytes >= dd.quota)
				return SET_ERROR(-ZFUSE_E_DQUOT);
			state = QUOTA_WAIT;
		}
		if (!dd.parent_obj) {
			uint64_t limit = dsl_pool_unreserved_space(spa);
			if (dd.used_bytes + flight + others >= limit) {
				if (flight + others == 0 && dd.used_bytes >= limit)
					return SET_ERROR(-ZFUSE_E_NOSPC);
				state = QUOTA_WAIT;
			}
		}
		charge = parent_delta(dd.used_bytes, dd.reserved, charge);
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
