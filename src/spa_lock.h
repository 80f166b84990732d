/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * spa_lock.h — the pool lock and its discipline.
 *
 * One rwlock per pool (spa->lock) orders everything that reads or changes
 * in-core pool state: readers (every public read call) hold it shared, a
 * writer (dmu_tx_begin .. dmu_tx_commit) and the phases of a sync that
 * change trees hold it exclusively. The lock prefers writers, so a thread
 * that takes it shared twice deadlocks as soon as a writer queues between
 * the two: it is never taken recursively, in either mode.
 *
 * The rules:
 *  - Public entry points (zfuse_* in zpl.c, zpl_write.c, zpl_xattr.c,
 *    dsl.c) take the lock and drop it before they return. They never run
 *    a caller's callback while holding it: results are collected under the
 *    lock and handed out after it is dropped (zfuse_readdir,
 *    zfuse_dataset_iter), so a callback may call any zfuse_* function.
 *    The log callback is the one exception: it may run under the lock
 *    and must not call into the library.
 *  - Functions named *_locked, and everything in dmu_tx.h, dbuf.h and
 *    dmu_objset.h, expect the caller to hold it (exclusively for changes)
 *    and never take it.
 *  - A sync (txg.c, one at a time under sync_mu) takes the lock
 *    exclusively to close the open txg, to write the closed one's blocks
 *    and to finish; between those phases readers and writers of the next
 *    txg run.
 *  - Pool-private walks (import, inspect, verify on a pool opened
 *    read-only by its own process) may run without it.
 *
 * Debug builds (NDEBUG unset, which includes the default build) keep a
 * per-thread record of the pool lock held and abort with a message that
 * names both call sites when a thread takes a lock it holds, or when a
 * *_locked function runs without it. Release builds compile the checks out.
 */
#ifndef ZFUSE_SPA_LOCK_H
#define ZFUSE_SPA_LOCK_H

#include <stdbool.h>

struct spa;

enum spa_lock_mode { SPA_LOCK_NONE = 0, SPA_LOCK_READER, SPA_LOCK_WRITER };

/* Initialise / destroy the pool's locks (the lock prefers writers, so a
 * sync is not starved by a stream of readers). */
void spa_locks_init(struct spa *spa);
void spa_locks_destroy(struct spa *spa);

/* Take the pool lock shared or exclusively; the caller must not hold it. */
#define spa_enter_read(spa) spa_lock_enter((spa), SPA_LOCK_READER, __func__)
#define spa_enter_write(spa) spa_lock_enter((spa), SPA_LOCK_WRITER, __func__)
void spa_lock_enter(struct spa *spa, enum spa_lock_mode mode, const char *where);
/* Drop the pool lock this thread holds. */
void spa_exit(struct spa *spa);

/* How this thread holds spa's lock (SPA_LOCK_NONE when it does not, and
 * always in release builds). */
enum spa_lock_mode spa_lock_held(const struct spa *spa);

/* Assertions for functions that expect the lock (debug builds only). */
#ifdef NDEBUG
#define SPA_ASSERT_HELD(spa) ((void)(spa))
#define SPA_ASSERT_WRITER(spa) ((void)(spa))
#define SPA_ASSERT_NOT_HELD(spa) ((void)(spa))
#else
#define SPA_ASSERT_HELD(spa) spa_lock_assert((spa), 1, __func__)
#define SPA_ASSERT_WRITER(spa) spa_lock_assert((spa), 2, __func__)
#define SPA_ASSERT_NOT_HELD(spa) spa_lock_assert((spa), 0, __func__)
#endif
void spa_lock_assert(const struct spa *spa, int need, const char *where);

#endif
