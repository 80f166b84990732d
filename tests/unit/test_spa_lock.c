/* SPDX-License-Identifier: CDDL-1.0 */
/* test_spa_lock.c — the pool lock's discipline checker (spa_lock.h): a
 * recursive acquisition, which deadlocks a writer-preferring rwlock as soon
 * as a writer queues, must abort at once in debug builds. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "check_main.h"
#include "spa.h"
#include "zfs_debug.h"
#include "zfuse/errors.h"

static spa_t pool;

static void setup(void)
{
	memset(&pool, 0, sizeof(pool));
	spa_locks_init(&pool);
}

static void teardown(void)
{
	spa_locks_destroy(&pool);
}

START_TEST(test_modes_recorded)
{
	ck_assert_int_eq(spa_lock_held(&pool), SPA_LOCK_NONE);
	spa_enter_read(&pool);
	ck_assert_int_eq(spa_lock_held(&pool), SPA_LOCK_READER);
	spa_exit(&pool);
	ck_assert_int_eq(spa_lock_held(&pool), SPA_LOCK_NONE);
	spa_enter_write(&pool);
	ck_assert_int_eq(spa_lock_held(&pool), SPA_LOCK_WRITER);
	SPA_ASSERT_HELD(&pool);
	spa_exit(&pool);
	SPA_ASSERT_NOT_HELD(&pool);
}
END_TEST

START_TEST(test_recursive_read_aborts)
{
	spa_enter_read(&pool);
	spa_enter_read(&pool);	/* must not return */
	spa_exit(&pool);
	spa_exit(&pool);
}
END_TEST

START_TEST(test_read_then_write_aborts)
{
	spa_enter_read(&pool);
	spa_enter_write(&pool);
}
END_TEST

START_TEST(test_exit_unheld_aborts)
{
	spa_exit(&pool);
}
END_TEST

START_TEST(test_assert_not_held_aborts)
{
	spa_enter_read(&pool);
	SPA_ASSERT_NOT_HELD(&pool);
}
END_TEST

/* Another thread's hold is not this thread's. */
static void *reader(void *arg)
{
	(void)arg;
	spa_enter_read(&pool);
	spa_exit(&pool);
	return (void *)(long)spa_lock_held(&pool);
}

START_TEST(test_per_thread)
{
	spa_enter_read(&pool);
	pthread_t t;
	void *held = (void *)1;
	ck_assert_int_eq(pthread_create(&t, NULL, reader, NULL), 0);
	pthread_join(t, &held);
	ck_assert_ptr_eq(held, (void *)(long)SPA_LOCK_NONE);
	ck_assert_int_eq(spa_lock_held(&pool), SPA_LOCK_READER);
	spa_exit(&pool);
}
END_TEST

/* SET_ERROR: the value passes through; with tracing on, the origin is
 * reported at debug level; off, nothing is. */
static char traced[256];
static int traced_level = -1;

static void capture(void *arg, int level, const char *msg)
{
	(void)arg;
	traced_level = level;
	snprintf(traced, sizeof(traced), "%s", msg);
}

START_TEST(test_set_error_trace)
{
	ck_assert_int_eq(SET_ERROR(-ZFUSE_E_CORRUPT), -ZFUSE_E_CORRUPT);
	ck_assert_str_eq(traced, "");
	zfs_debug_trace(capture, NULL);
	int line = __LINE__ + 1;
	int rc = SET_ERROR(-ZFUSE_E_CHECKSUM);
	ck_assert_int_eq(rc, -ZFUSE_E_CHECKSUM);
	ck_assert_int_eq(traced_level, ZFUSE_LOG_DEBUG);
	char want[64];
	snprintf(want, sizeof(want), "test_spa_lock.c:%d (", line);
	ck_assert_msg(strstr(traced, want) != NULL, "trace '%s' lacks '%s'", traced, want);
	zfs_debug_trace(NULL, NULL);
	traced[0] = '\0';
	SET_ERROR(-ZFUSE_E_IO);
	ck_assert_str_eq(traced, "");
}
END_TEST

int main(void)
{
	TCase *tc = TCASE_OF("discipline", 0, test_modes_recorded, test_per_thread, test_set_error_trace);
	tcase_add_checked_fixture(tc, setup, teardown);
#ifndef NDEBUG
	tcase_add_test_raise_signal(tc, test_recursive_read_aborts, SIGABRT);
	tcase_add_test_raise_signal(tc, test_read_then_write_aborts, SIGABRT);
	tcase_add_test_raise_signal(tc, test_exit_unheld_aborts, SIGABRT);
	tcase_add_test_raise_signal(tc, test_assert_not_held_aborts, SIGABRT);
#endif
	return run_suite(suite_of("spa_lock", tc));
}
