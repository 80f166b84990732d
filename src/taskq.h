/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * taskq.h — run independent jobs on every core and wait for them.
 *
 * The sync's CPU and device work (compression and checksums of a txg's
 * blocks, their device writes) is a list of independent jobs; this runs
 * job(arg, i) for every i below njobs on up to TASKQ_MAX_THREADS threads
 * (the calling one included), each taking the next index, and returns
 * when all are done. Threads are made per call: a txg is large enough
 * that their cost does not show, and no pool-wide state is needed.
 */
#ifndef ZFUSE_TASKQ_H
#define ZFUSE_TASKQ_H

#include <stdint.h>

#define TASKQ_MAX_THREADS 8

void taskq_run(uint64_t njobs, void (*job)(void *arg, uint64_t i), void *arg);

#endif
