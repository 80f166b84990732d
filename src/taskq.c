/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * taskq.c — a parallel for (see taskq.h). Jobs are handed out by an
 * atomic counter, so a slow job never holds up the others' threads.
 */
#include <pthread.h>
#include <unistd.h>
#include "taskq.h"

struct taskq_run {
	void (*job)(void *arg, uint64_t i);
	void *arg;
	uint64_t njobs, next;
};

static void *taskq_worker(void *p)
{
	struct taskq_run *r = p;
	for (;;) {
		uint64_t i = __atomic_fetch_add(&r->next, 1, __ATOMIC_RELAXED);
		if (i >= r->njobs)
			return NULL;
		r->job(r->arg, i);
	}
}

void taskq_run(uint64_t njobs, void (*job)(void *arg, uint64_t i), void *arg)
{
	struct taskq_run r = { job, arg, njobs, 0 };
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int nthreads = ncpu < 1 ? 1 : ncpu > TASKQ_MAX_THREADS ? TASKQ_MAX_THREADS : (int)ncpu;
	pthread_t tids[TASKQ_MAX_THREADS];
	int started = 0;
	for (int t = 1; t < nthreads && (uint64_t)t < njobs; t++)
		if (pthread_create(&tids[started], NULL, taskq_worker, &r) == 0)
			started++;
	taskq_worker(&r);	/* when no thread could be made, this one does it all */
	for (int t = 0; t < started; t++)
		pthread_join(tids[t], NULL);
}
