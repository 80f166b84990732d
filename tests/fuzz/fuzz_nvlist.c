/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * fuzz_nvlist.c — the XDR nvlist decoder (labels, packed config objects,
 * SA xattrs, history records): unpack the bytes, and what unpacks must
 * walk, print, duplicate, pack and unpack again to the same packed bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nvpair.h"
#include "fuzz_seed.h"

static void walk(const nvlist_t *nvl, int depth)
{
	if (depth > 64)
		return;
	for (const nvpair_t *p = nvlist_next_nvpair(nvl, NULL); p; p = nvlist_next_nvpair(nvl, p)) {
		const char *name = nvpair_name(p);
		(void)nvlist_exists(nvl, name);
		const nvlist_t *child;
		const nvlist_t *const *kids;
		uint32_t n;
		uint64_t u;
		const char *s;
		if (nvpair_value_nvlist(p, &child) == 0)
			walk(child, depth + 1);
		else if (nvpair_value_nvlist_array(p, &kids, &n) == 0)
			for (uint32_t i = 0; i < n; i++)
				walk(kids[i], depth + 1);
		else if (nvpair_value_uint64(p, &u) == 0)
			(void)nvlist_lookup_uint64(nvl, name, &u);
		else if (nvpair_value_string(p, &s) == 0)
			(void)strlen(s);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nvlist_t *nvl;
	if (nvlist_unpack(data, size, &nvl) != 0)
		return 0;
	walk(nvl, 0);
	FILE *null = fopen("/dev/null", "w");
	if (null) {
		nvlist_print_text(null, nvl, 0);
		nvlist_print_json(null, nvl);
		fclose(null);
	}
	nvlist_t *dup;
	if (nvlist_dup(nvl, &dup) == 0) {
		size_t sz, used;
		if (nvlist_size_xdr(dup, &sz) == 0) {
			uint8_t *buf = malloc(sz);
			if (buf && nvlist_pack_xdr(dup, buf, sz, &used) == 0) {
				nvlist_t *again;
				/* what was packed must unpack, and pack the same */
				if (nvlist_unpack(buf, used, &again) != 0)
					abort();
				size_t sz2, used2;
				uint8_t *buf2 = NULL;
				if (nvlist_size_xdr(again, &sz2) != 0 || sz2 != sz || !(buf2 = malloc(sz2)) ||
				    nvlist_pack_xdr(again, buf2, sz2, &used2) != 0 || used2 != used ||
				    memcmp(buf, buf2, used) != 0)
					abort();
				free(buf2);
				nvlist_free(again);
			}
			free(buf);
		}
		nvlist_free(dup);
	}
	nvlist_free(nvl);
	return 0;
}

/* Seeds: a vdev-tree config as labels hold it (nested lists, arrays of
 * lists, strings, uint64s and arrays of every width), packed by the
 * library's own encoder. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!seed_dir())
		return 0;
	nvlist_t *cfg, *tree, *kids[2];
	nvlist_alloc(&cfg);
	nvlist_alloc(&tree);
	nvlist_add_uint64(cfg, "version", 5000);
	nvlist_add_string(cfg, "name", "fuzz");
	nvlist_add_uint64(cfg, "txg", 42);
	nvlist_add_boolean(cfg, "features_for_read");
	for (int i = 0; i < 2; i++) {
		nvlist_alloc(&kids[i]);
		nvlist_add_string(kids[i], "type", "file");
		nvlist_add_uint64(kids[i], "guid", 0x1234567890ull + (uint64_t)i);
		nvlist_add_string(kids[i], "path", i ? "/dev/b" : "/dev/a");
	}
	nvlist_add_string(tree, "type", "mirror");
	nvlist_add_uint64(tree, "ashift", 12);
	nvlist_add_nvlist_array(tree, "children", (const nvlist_t *const *)kids, 2);
	nvlist_add_nvlist(cfg, "vdev_tree", tree);
	uint8_t b8[3] = { 1, 2, 3 };
	int16_t i16[2] = { -1, 7 };
	uint32_t u32[2] = { 9, 10 };
	int64_t i64[2] = { -5, 5 };
	bool bv[2] = { true, false };
	const char *strs[2] = { "a", "bc" };
	nvlist_add_byte_array(cfg, "bytes", b8, 3);
	nvlist_add_int16_array(cfg, "i16", i16, 2);
	nvlist_add_uint32_array(cfg, "u32", u32, 2);
	nvlist_add_int64_array(cfg, "i64", i64, 2);
	nvlist_add_boolean_array(cfg, "bools", bv, 2);
	nvlist_add_string_array(cfg, "strs", strs, 2);
	nvlist_add_boolean_value(cfg, "bv", true);
	nvlist_add_hrtime(cfg, "hr", 123456789);
	nvlist_add_double(cfg, "d", 0.5);
	size_t sz, used;
	nvlist_size_xdr(cfg, &sz);
	uint8_t *buf = malloc(sz);
	nvlist_pack_xdr(cfg, buf, sz, &used);
	seed_write(buf, used);
	nvlist_pack_xdr(tree, buf, sz, &used);
	seed_write(buf, used);
	exit(0);
}
