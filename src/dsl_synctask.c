/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dsl_synctask.c — the queue of DSL tasks of the open txg and their run
 * inside its sync (theory in dsl_synctask.h).
 *
 * The queue lives in the spa and is guarded by the pool lock: a task is
 * queued under the exclusive lock and the quiesce takes the whole queue
 * under it, so a task belongs to exactly the txg that was open when it
 * was queued. The caller waits with txg_sync_now, which returns once
 * that txg (or a later one) is on disk.
 */
#include <pthread.h>
#include "dsl_synctask.h"
#include "spa_impl.h"
#include "spa_lock.h"
#include "txg.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

int dsl_sync_task(spa_t *spa, dsl_checkfunc_t check, dsl_syncfunc_t sync, void *arg)
{
	SPA_ASSERT_NOT_HELD(spa);
	struct dsl_sync_task t = { check, sync, arg, 0, false, NULL };
	spa_enter_write(spa);
	if (!spa->writable) {
		spa_exit(spa);
		return SET_ERROR(-ZFUSE_E_ROFS);
	}
	int rc = check(spa, arg, NULL);
	if (rc) {
		spa_exit(spa);
		return rc;
	}
	struct dsl_sync_task **pp = &spa->sync_tasks;
	while (*pp)
		pp = &(*pp)->next;
	*pp = &t;
	spa_exit(spa);
	rc = txg_sync_now(spa);
	/* The sync that took the task has ended (this one or one that ran
	 * while we waited): it marks its tasks before it releases sync_mu. */
	spa_enter_write(spa);
	bool ran = t.ran;
	if (!ran) {
		/* No sync took it (the pool turned read-only first). */
		for (pp = &spa->sync_tasks; *pp; pp = &(*pp)->next)
			if (*pp == &t) {
				*pp = t.next;
				break;
			}
	}
	int trc = t.rc;
	spa_exit(spa);
	if (!ran)
		return rc ? rc : SET_ERROR(-ZFUSE_E_ROFS);
	return trc ? trc : rc;
}

struct dsl_sync_task *dsl_sync_task_take(spa_t *spa)
{
	SPA_ASSERT_WRITER(spa);
	struct dsl_sync_task *t = spa->sync_tasks;
	spa->sync_tasks = NULL;
	return t;
}

int dsl_sync_task_run(spa_t *spa, struct dsl_sync_task *tasks, dmu_tx_t *tx)
{
	SPA_ASSERT_WRITER(spa);
	for (struct dsl_sync_task *t = tasks; t; t = t->next) {
		t->ran = true;
		t->rc = t->check(spa, t->arg, tx);
		if (t->rc)
			continue;
		if ((t->rc = t->sync(spa, t->arg, tx)) != 0)
			return t->rc;
	}
	return 0;
}

void dsl_sync_task_done(struct dsl_sync_task *tasks, int txg_rc)
{
	for (struct dsl_sync_task *t = tasks; t; t = t->next) {
		t->ran = true;
		if (txg_rc && t->rc == 0)
			t->rc = txg_rc;
	}
}
