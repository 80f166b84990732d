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

#endif
