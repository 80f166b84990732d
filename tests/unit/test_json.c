/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * test_json.c — the --json writer (fuse/json.c): nesting and commas,
 * numbers at the ends of their ranges, and strings from pools (file names
 * are any bytes but '/' and NUL) always made valid JSON and UTF-8.
 */
#include <check.h>
#include "check_main.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"

/* The document the callback writes, as a NUL-terminated string. */
static char *render(void (*fn)(zf_json_t *j))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	zf_json_t j;
	zj_init(&j, f);
	fn(&j);
	zj_finish(&j);
	fclose(f);
	return buf;
}

static void nested(zf_json_t *j)
{
	zj_obj_begin(j, NULL);
	zj_str(j, "a", "x");
	zj_arr_begin(j, "l");
	zj_u64(j, NULL, UINT64_MAX);
	zj_i64(j, NULL, INT64_MIN);
	zj_obj_begin(j, NULL);
	zj_obj_end(j);
	zj_bool(j, NULL, false);
	zj_str(j, NULL, NULL);
	zj_arr_end(j);
	zj_obj_begin(j, "o");
	zj_bool(j, "t", true);
	zj_obj_end(j);
	zj_obj_end(j);
}

START_TEST(test_nesting)
{
	char *s = render(nested);
	ck_assert_str_eq(s, "{\"a\":\"x\",\"l\":[18446744073709551615,-9223372036854775808,{},false,"
			    "null],\"o\":{\"t\":true}}\n");
	free(s);
}
END_TEST

static const char *g_str;
static void one_string(zf_json_t *j)
{
	zj_str(j, NULL, g_str);
}

static void expect_string(const char *in, const char *out)
{
	g_str = in;
	char *s = render(one_string);
	char want[256];
	snprintf(want, sizeof(want), "\"%s\"\n", out);
	ck_assert_str_eq(s, want);
	free(s);
}

START_TEST(test_escapes)
{
	expect_string("plain", "plain");
	expect_string("q\"b\\", "q\\\"b\\\\");
	expect_string("tab\tnl\ncr\r\x01\x7f", "tab\\tnl\\ncr\\u000d\\u0001\\u007f");
	expect_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}
END_TEST

START_TEST(test_invalid_utf8_replaced)
{
	const char *fffd = "\xef\xbf\xbd";
	char want[64];
	/* a lone continuation byte, a truncated sequence, an overlong '/', a
	 * surrogate, a code point past U+10FFFF, and 0xff */
	snprintf(want, sizeof(want), "a%sb", fffd);
	expect_string("a\x80" "b", want);
	snprintf(want, sizeof(want), "%s", fffd);
	expect_string("\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd");
	expect_string("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");
	expect_string("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	expect_string("\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	expect_string("\xff", want);
}
END_TEST

int main(void)
{
	return RUN_TESTS("json", "json", 0, test_nesting, test_escapes, test_invalid_utf8_replaced);
}
