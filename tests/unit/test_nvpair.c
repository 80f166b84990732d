/*
 * test_nvpair.c — XDR nvlist decoding: the spec's libnvpair-produced
 * stream (pool-layer.md §2.7) field by field, a real label of the basic
 * fixture when it is unpacked, every truncation of a valid stream, and
 * hostile lengths, types and nesting.
 */
#include <check.h>
#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nvpair.h"
#include "zfuse/errors.h"

static const uint8_t example2[] = {
	0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x20,
	0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x03, 0x74, 0x78, 0x67, 0x00, 0x00, 0x00, 0x00, 0x08,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x3c,
	0x00, 0x00, 0x00, 0x38, 0x00, 0x00, 0x00, 0x11, 0x72, 0x61, 0x69, 0x64, 0x7a, 0x5f, 0x65, 0x78,
	0x70, 0x61, 0x6e, 0x64, 0x5f, 0x74, 0x78, 0x67, 0x73, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
	0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc8, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x28,
	0x00, 0x00, 0x00, 0x16, 0x63, 0x6f, 0x6d, 0x2e, 0x64, 0x65, 0x6c, 0x70, 0x68, 0x69, 0x78, 0x3a,
	0x68, 0x6f, 0x6c, 0x65, 0x5f, 0x62, 0x69, 0x72, 0x74, 0x68, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x50, 0x00, 0x00, 0x00, 0x38, 0x00, 0x00, 0x00, 0x09,
	0x76, 0x64, 0x65, 0x76, 0x5f, 0x74, 0x72, 0x65, 0x65, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x13,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x20,
	0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x04, 0x74, 0x79, 0x70, 0x65, 0x00, 0x00, 0x00, 0x09,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, 0x66, 0x69, 0x6c, 0x65, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

START_TEST(test_example2)
{
	ck_assert_uint_eq(sizeof(example2), 236);
	nvlist_t *nvl;
	ck_assert_int_eq(nvlist_unpack(example2, sizeof(example2), &nvl), 0);
	uint64_t txg;
	ck_assert_int_eq(nvlist_lookup_uint64(nvl, "txg", &txg), 0);
	ck_assert_uint_eq(txg, 14);
	const uint64_t *arr;
	uint32_t n;
	ck_assert_int_eq(nvlist_lookup_uint64_array(nvl, "raidz_expand_txgs", &arr, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(arr[0], 100);
	ck_assert_uint_eq(arr[1], 200);
	ck_assert_int_eq(nvlist_lookup_boolean(nvl, "com.delphix:hole_birth"), 0);
	const nvlist_t *tree;
	const char *type;
	ck_assert_int_eq(nvlist_lookup_nvlist(nvl, "vdev_tree", &tree), 0);
	ck_assert_int_eq(nvlist_lookup_string(tree, "type", &type), 0);
	ck_assert_str_eq(type, "file");
	/* absent names and wrong types are told apart */
	ck_assert_int_eq(nvlist_lookup_uint64(nvl, "nope", &txg), -ZFUSE_E_NOENT);
	ck_assert_int_eq(nvlist_lookup_string(nvl, "txg", &type), -ZFUSE_E_INVAL);
	/* iteration keeps the stored order */
	const nvpair_t *p = nvlist_next_nvpair(nvl, NULL);
	ck_assert_str_eq(nvpair_name(p), "txg");
	p = nvlist_next_nvpair(nvl, p);
	ck_assert_str_eq(nvpair_name(p), "raidz_expand_txgs");
	ck_assert_int_eq(nvpair_type(p), DATA_TYPE_UINT64_ARRAY);
	/* the JSON rendering is well formed for this list */
	char *json = NULL;
	size_t jlen = 0;
	FILE *f = open_memstream(&json, &jlen);
	nvlist_print_json(f, nvl);
	fclose(f);
	ck_assert_str_eq(json, "{\"txg\":14,\"raidz_expand_txgs\":[100,200],"
			       "\"com.delphix:hole_birth\":true,\"vdev_tree\":{\"type\":\"file\"}}");
	free(json);
	nvlist_free(nvl);
}
END_TEST

START_TEST(test_truncations)
{
	/* Every prefix shorter than the whole stream must fail cleanly. */
	for (size_t len = 0; len < sizeof(example2) - 8; len++) {
		nvlist_t *nvl = NULL;
		int rc = nvlist_unpack(example2, len, &nvl);
		ck_assert_msg(rc != 0, "prefix of %zu bytes decoded", len);
		ck_assert_ptr_null(nvl);
	}
}
END_TEST

START_TEST(test_hostile)
{
	uint8_t b[sizeof(example2)];
	nvlist_t *nvl;
	/* a huge string length */
	memcpy(b, example2, sizeof(b));
	b[0x14] = 0x7f;
	ck_assert_int_ne(nvlist_unpack(b, sizeof(b), &nvl), 0);
	/* an unknown type code */
	memcpy(b, example2, sizeof(b));
	b[0x1f] = 99;
	ck_assert_int_ne(nvlist_unpack(b, sizeof(b), &nvl), 0);
	/* array count disagreeing with nelem */
	memcpy(b, example2, sizeof(b));
	b[0x57] = 3;
	ck_assert_int_ne(nvlist_unpack(b, sizeof(b), &nvl), 0);
	/* native encoding is not ZFS's on-disk form */
	memcpy(b, example2, sizeof(b));
	b[0] = 0;
	ck_assert_int_eq(nvlist_unpack(b, sizeof(b), &nvl), -ZFUSE_E_UNSUPPORTED);
	/* deep nesting: a chain of nvlist pairs 64 levels deep */
	size_t depth = 64, cap = 4 + depth * 40 + 8 * depth + 64;
	uint8_t *d = calloc(1, cap), *p = d;
	*p++ = 1; *p++ = 1; p += 2;
	for (size_t i = 0; i < depth; i++) {
		p += 4; *p++ = 0; *p++ = 0; *p++ = 0; *p++ = 1;	/* version 0, flag 1 */
		uint8_t pair[] = { 0, 0, 0, 40, 0, 0, 0, 40, 0, 0, 0, 1, 'x', 0, 0, 0, 0, 0, 0, 19, 0, 0, 0, 1 };
		memcpy(p, pair, sizeof(pair));
		p += sizeof(pair);
		p -= 8;
	}
	ck_assert_int_ne(nvlist_unpack(d, (size_t)(p - d) + 8, &nvl), 0);
	free(d);
	/* random garbage, many times */
	srand(7);
	for (int round = 0; round < 2000; round++) {
		memcpy(b, example2, sizeof(b));
		for (int k = 0; k < 4; k++)
			b[4 + rand() % (int)(sizeof(b) - 4)] = (uint8_t)rand();
		if (nvlist_unpack(b, sizeof(b), &nvl) == 0)
			nvlist_free(nvl);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nvpair");
	TCase *tc = tcase_create("xdr");
	tcase_add_test(tc, test_example2);
	tcase_add_test(tc, test_truncations);
	tcase_add_test(tc, test_hostile);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
