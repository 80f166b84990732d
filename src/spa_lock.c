/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * spa_lock.c — the pool lock (rules in spa_lock.h) and, in debug builds,
 * the per-thread record that turns a recursive acquisition — a silent
 * deadlock with a writer-preferring rwlock — into an immediate abort that
 * names both places.
 */
#include <stdio.h>
#include <stdlib.h>
#include "spa_impl.h"
#include "dsl_crypt.h"
#include "spa_lock.h"

#ifndef NDEBUG
/* What this thread holds: one pool lock at a time is all zfuse needs. */
static __thread const struct spa *held_spa;
static __thread enum spa_lock_mode held_mode;
static __thread const char *held_where;
#endif

void spa_locks_init(spa_t *spa)
{
	pthread_rwlockattr_t attr;
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&spa->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	pthread_mutex_init(&spa->sync_mu, NULL);
	spa_keystore_init(spa);
}

void spa_locks_destroy(spa_t *spa)
{
	pthread_rwlock_destroy(&spa->lock);
	pthread_mutex_destroy(&spa->sync_mu);
	spa_keystore_fini(spa);
}

#ifndef NDEBUG
static const char *mode_name(enum spa_lock_mode m)
{
	return m == SPA_LOCK_WRITER ? "exclusively" : m == SPA_LOCK_READER ? "shared" : "not";
}

static void __attribute__((noreturn)) violation(const char *what, const char *where)
{
	fprintf(stderr, "zfuse: pool lock discipline violated: %s in %s (this thread holds the "
		"lock %s, taken in %s)\n", what, where, mode_name(held_mode),
		held_where ? held_where : "-");
	abort();
}
#endif

void spa_lock_enter(spa_t *spa, enum spa_lock_mode mode, const char *where)
{
#ifndef NDEBUG
	if (held_spa)
		violation(held_spa == spa ? "recursive acquisition of the pool lock"
					  : "a second pool's lock taken while holding one", where);
#endif
	if (mode == SPA_LOCK_WRITER)
		pthread_rwlock_wrlock(&spa->lock);
	else
		pthread_rwlock_rdlock(&spa->lock);
#ifndef NDEBUG
	held_spa = spa;
	held_mode = mode;
	held_where = where;
#else
	(void)where;
#endif
}

void spa_exit(spa_t *spa)
{
#ifndef NDEBUG
	if (held_spa != spa)
		violation("release of a pool lock this thread does not hold", "spa_exit");
	held_spa = NULL;
	held_mode = SPA_LOCK_NONE;
	held_where = NULL;
#endif
	pthread_rwlock_unlock(&spa->lock);
}

enum spa_lock_mode spa_lock_held(const spa_t *spa)
{
#ifndef NDEBUG
	return held_spa == spa ? held_mode : SPA_LOCK_NONE;
#else
	(void)spa;
	return SPA_LOCK_NONE;
#endif
}

void spa_lock_assert(const spa_t *spa, int need, const char *where)
{
#ifndef NDEBUG
	/* A pool without a sync thread (being created, or opened read-only)
	 * has no writer to deadlock with and may be private to one thread. */
	if (need != 0 && !spa->txg)
		return;
	enum spa_lock_mode m = spa_lock_held(spa);
	if (need == 0 && m != SPA_LOCK_NONE)
		violation("a function that takes the pool lock called with it held", where);
	if (need == 1 && m == SPA_LOCK_NONE)
		violation("a function that expects the pool lock called without it", where);
	if (need == 2 && m != SPA_LOCK_WRITER)
		violation("a change made without the pool lock held exclusively", where);
#else
	(void)spa;
	(void)need;
	(void)where;
#endif
}
