/* SPDX-License-Identifier: CDDL-1.0 */
/* check_main.h — the one way every unit test program runs its suite. */
#ifndef ZFUSE_CHECK_MAIN_H
#define ZFUSE_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

static inline int run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* A test case of the NULL-terminated `tests`; timeout in seconds, 0 for
 * Check's default (CK_DEFAULT_TIMEOUT). */
static inline TCase *tcase_of(const char *name, double timeout, const TTest *const *tests)
{
	TCase *tc = tcase_create(name);
	if (timeout > 0)
		tcase_set_timeout(tc, timeout);
	for (; *tests; tests++)
		tcase_add_test(tc, *tests);
	return tc;
}

/* A suite holding one test case. */
static inline Suite *suite_of(const char *name, TCase *tc)
{
	Suite *s = suite_create(name);
	suite_add_tcase(s, tc);
	return s;
}

/* TCASE_OF("name", timeout, test_a, test_b, ...) */
#define TCASE_OF(name, timeout, ...) tcase_of((name), (timeout), (const TTest *const[]){ __VA_ARGS__, NULL })
/* RUN_TESTS("suite", "case", timeout, test_a, ...): run a one-case suite. */
#define RUN_TESTS(suite, tcase, timeout, ...) run_suite(suite_of((suite), TCASE_OF((tcase), (timeout), __VA_ARGS__)))

#endif
