/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dsl_synctask.h — changes to the DSL that run inside a sync, as
 * OpenZFS's dsl_sync_task does: snapshots, dataset creation and
 * destruction, rollback, property changes.
 *
 * Why inside the sync: a snapshot must see its head's objset as this txg
 * writes it (object-layer.md §7.1), and the MOS is changed by the sync
 * itself (space maps, deadlists, feature counts, new objects), so a MOS
 * change made in the open txg could collide with the sync's. The rule is
 * therefore that the open txg never changes the MOS; every DSL change is
 * a task.
 *
 * A task has a check and a sync step. dsl_sync_task runs the check at
 * once (exclusive pool lock, the open view) to fail early, queues the
 * task in the open txg, and syncs that txg. In the sync, after the
 * datasets' objsets are written and before the MOS is, each task's check
 * runs again against the state being written (tasks of one txg run in
 * the order they were queued, so one sees the ones before it), and its
 * sync step only if the check passed. The check decides; a sync step
 * that fails anyway fails the txg (the pool turns read-only, the disk
 * keeps the previous txg).
 */
#ifndef ZFUSE_DSL_SYNCTASK_H
#define ZFUSE_DSL_SYNCTASK_H

#include "dmu_tx.h"

struct spa;

/* Both steps get the pool lock held exclusively. check gets tx NULL when
 * it runs before queueing. */
typedef int (*dsl_checkfunc_t)(struct spa *spa, void *arg, dmu_tx_t *tx);
typedef int (*dsl_syncfunc_t)(struct spa *spa, void *arg, dmu_tx_t *tx);

struct dsl_sync_task {
	dsl_checkfunc_t check;
	dsl_syncfunc_t sync;
	void *arg;
	int rc;			/* the check's result in the sync, or the sync step's */
	bool ran;
	struct dsl_sync_task *next;
};

/*
 * Run a task in the next txg and wait until that txg is on disk. Returns
 * the check's error, the sync's error (ZFUSE_E_IO: the txg was not
 * written), or 0. Must be called without the pool lock.
 */
int dsl_sync_task(struct spa *spa, dsl_checkfunc_t check, dsl_syncfunc_t sync, void *arg);

/* txg.c: the tasks queued for the open txg, taken at quiesce. */
struct dsl_sync_task *dsl_sync_task_take(struct spa *spa);
/* txg.c, phase 3: run the txg's tasks with tx. Returns the first sync
 * step's error (a check's error only stops its own task). */
int dsl_sync_task_run(struct spa *spa, struct dsl_sync_task *tasks, dmu_tx_t *tx);
/* txg.c, after the sync: a failed txg fails its tasks that passed. */
void dsl_sync_task_done(struct dsl_sync_task *tasks, int txg_rc);

#endif
