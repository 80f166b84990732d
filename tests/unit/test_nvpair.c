/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * test_nvpair.c — XDR nvlists both ways. Decoding: the spec's
 * libnvpair-produced stream (pool-layer.md §2.7) field by field, every
 * truncation of it, hostile lengths, types, sizes and nesting. Encoding:
 * the spec's worked examples byte for byte, the label config of every
 * fixture device re-packed to the very bytes OpenZFS wrote, every type
 * through add -> pack -> unpack -> lookup, libnvpair's size quirks, the
 * unique-name rule, buffer and nesting limits.
 */
#include <check.h>
#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
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
		uint8_t pair[] = { 0, 0, 0, 40, 0, 0, 0, 48, 0, 0, 0, 1, 'x', 0, 0, 0, 0, 0, 0, 19, 0, 0, 0, 1 };
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

/* An array count no stream of this size could hold is refused before
 * anything is allocated for it: with 64 MiB of address space to spare
 * (not under ASan, whose shadow needs terabytes), arrays that claim
 * 16 M elements in a 300-byte stream are corrupt, not out of memory.
 * Allocating by the claimed count first cost 128 MiB and ~0.7 s a try. */
static int unpack_with_little_memory(const uint8_t *b, size_t len)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
#if !defined(__SANITIZE_ADDRESS__)
		unsigned long pages = 0;
		FILE *f = fopen("/proc/self/statm", "r");
		if (!f || fscanf(f, "%lu", &pages) != 1)
			_exit(100);
		fclose(f);
		rlim_t spare = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (64u << 20);
		struct rlimit lim = { spare, spare };
		if (setrlimit(RLIMIT_AS, &lim) != 0)
			_exit(101);
#endif
		nvlist_t *nvl;
		int rc = nvlist_unpack(b, len, &nvl);
		_exit(rc == -ZFUSE_E_CORRUPT ? 0 : rc == -ZFUSE_E_NOMEM ? 1 : 2);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

START_TEST(test_claimed_counts)
{
	uint8_t b[sizeof(example2)];
	/* vdev_tree as an nvlist array of 0xffff00 lists */
	memcpy(b, example2, sizeof(b));
	b[0xaf] = 0x14;
	memcpy(b + 0xb0, (uint8_t[]){ 0x00, 0xff, 0xff, 0x00 }, 4);
	ck_assert_int_eq(unpack_with_little_memory(b, sizeof(b)), 0);
	/* raidz_expand_txgs as a uint64 array of 0xffff00 words, count agreeing */
	memcpy(b, example2, sizeof(b));
	memcpy(b + 0x50, (uint8_t[]){ 0x00, 0xff, 0xff, 0x00 }, 4);
	memcpy(b + 0x54, (uint8_t[]){ 0x00, 0xff, 0xff, 0x00 }, 4);
	ck_assert_int_eq(unpack_with_little_memory(b, sizeof(b)), 0);
	/* as a string array */
	b[0x4f] = 0x11;
	ck_assert_int_eq(unpack_with_little_memory(b, sizeof(b)), 0);
}
END_TEST

/* ---- encoding ---------------------------------------------------------- */

/* Pack into a fresh buffer; checks that size_xdr() is what pack writes. */
static uint8_t *pack(const nvlist_t *nvl, size_t *len)
{
	size_t size = 0, used = 0;
	ck_assert_int_eq(nvlist_size_xdr(nvl, &size), 0);
	uint8_t *buf = malloc(size + 16);
	ck_assert_ptr_nonnull(buf);
	memset(buf, 0xa5, size + 16);
	ck_assert_int_eq(nvlist_pack_xdr(nvl, buf, size, &used), 0);
	ck_assert_uint_eq(used, size);
	size_t past = size;
	while (past < size + 16 && buf[past] == 0xa5)
		past++;
	ck_assert_msg(past == size + 16, "byte %zu written past size %zu", past, size);
	*len = used;
	return buf;
}

static nvlist_t *example2_list(void)
{
	nvlist_t *nvl, *tree;
	const uint64_t txgs[] = { 100, 200 };
	ck_assert_int_eq(nvlist_alloc(&nvl), 0);
	ck_assert_int_eq(nvlist_alloc(&tree), 0);
	ck_assert_int_eq(nvlist_add_uint64(nvl, "txg", 14), 0);
	ck_assert_int_eq(nvlist_add_uint64_array(nvl, "raidz_expand_txgs", txgs, 2), 0);
	ck_assert_int_eq(nvlist_add_boolean(nvl, "com.delphix:hole_birth"), 0);
	ck_assert_int_eq(nvlist_add_string(tree, "type", "file"), 0);
	ck_assert_int_eq(nvlist_add_nvlist(nvl, "vdev_tree", tree), 0);
	nvlist_free(tree);
	return nvl;
}

START_TEST(test_pack_example2)
{
	nvlist_t *nvl = example2_list();
	size_t len;
	uint8_t *b = pack(nvl, &len);
	ck_assert_uint_eq(len, sizeof(example2));
	ck_assert_mem_eq(b, example2, sizeof(example2));
	free(b);
	nvlist_free(nvl);
	/* and what was decoded from it packs back to it */
	ck_assert_int_eq(nvlist_unpack(example2, sizeof(example2), &nvl), 0);
	b = pack(nvl, &len);
	ck_assert_uint_eq(len, sizeof(example2));
	ck_assert_mem_eq(b, example2, sizeof(example2));
	free(b);
	nvlist_free(nvl);
}
END_TEST

/* pool-layer.md §2.6: the first 0x50 bytes of a real label. */
START_TEST(test_pack_example1)
{
	static const uint8_t prefix[] = {
		0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x24,
		0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x07, 0x76, 0x65, 0x72, 0x73, 0x69, 0x6f, 0x6e, 0x00,
		0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x13, 0x88,
		0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x04, 0x6e, 0x61, 0x6d, 0x65,
		0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03, 0x74, 0x70, 0x61, 0x00,
	};
	nvlist_t *nvl;
	ck_assert_int_eq(nvlist_alloc(&nvl), 0);
	ck_assert_int_eq(nvlist_add_uint64(nvl, "version", 5000), 0);
	ck_assert_int_eq(nvlist_add_string(nvl, "name", "tpa"), 0);
	size_t len;
	uint8_t *b = pack(nvl, &len);
	ck_assert_uint_eq(len, sizeof(prefix) + 8);
	ck_assert_mem_eq(b, prefix, sizeof(prefix));
	static const uint8_t end[8] = { 0 };
	ck_assert_mem_eq(b + sizeof(prefix), end, 8);
	free(b);
	nvlist_free(nvl);
}
END_TEST

/*
 * Labels 0 and 1 of every fixture device (both lie in the first 512 KiB):
 * the vdev_phys nvlist at 0x4000 of each 256 KiB label, 112 KiB less the
 * 40-byte checksum trailer. Re-packing the decoded config must give the
 * bytes OpenZFS (or zfs-fuse) wrote, and the rest of the region is zero.
 */
#define LABEL_SIZE (256 * 1024)
#define PHYS_OFF 0x4000
#define PHYS_NVLIST (112 * 1024 - 40)

static int check_label(const uint8_t *phys, const char *what)
{
	nvlist_t *nvl;
	int rc = nvlist_unpack(phys, PHYS_NVLIST, &nvl);
	ck_assert_msg(rc == 0, "%s: unpack %d", what, rc);
	size_t size;
	ck_assert_int_eq(nvlist_size_xdr(nvl, &size), 0);
	ck_assert_msg(size <= PHYS_NVLIST, "%s: size %zu", what, size);
	uint8_t *b = calloc(1, PHYS_NVLIST);
	size_t used;
	ck_assert_int_eq(nvlist_pack_xdr(nvl, b, PHYS_NVLIST, &used), 0);
	ck_assert_uint_eq(used, size);
	/* Byte 1 of the header records the writer's host byte order (a
	 * big-endian host wrote 0); the XDR stream after it must be identical. */
	ck_assert_msg(used >= 4 && (phys[1] == 0 || phys[1] == 1), "%s: header %u", what, phys[1]);
	b[1] = phys[1];
	size_t diff = 0;
	while (diff < used && b[diff] == phys[diff])
		diff++;
	ck_assert_msg(diff == used, "%s: re-packed config differs at byte %zu of %zu", what, diff, used);
	size_t tail = used;
	while (tail < PHYS_NVLIST && phys[tail] == 0)
		tail++;
	ck_assert_msg(tail == PHYS_NVLIST, "%s: byte %zu after the stream is not zero", what, tail);
	/* a sanity look at the content: every pool label names its pool */
	const char *name;
	ck_assert_int_eq(nvlist_lookup_string(nvl, "name", &name), 0);
	free(b);
	nvlist_free(nvl);
	return 1;
}

START_TEST(test_real_labels)
{
	const char *shared = getenv("ZFUSE_SHARED");
	ck_assert_msg(shared != NULL, "ZFUSE_SHARED is not set");
	char cmd[4096];
	snprintf(cmd, sizeof(cmd), "ls %s/fixtures/*/*.img.zst", shared);
	FILE *ls = popen(cmd, "r");
	ck_assert_ptr_nonnull(ls);
	char path[2048];
	int labels = 0;
	size_t want = 2 * LABEL_SIZE;
	uint8_t *img = malloc(want);
	while (fgets(path, sizeof(path), ls)) {
		path[strcspn(path, "\n")] = 0;
		snprintf(cmd, sizeof(cmd), "zstd -q -dc '%s' 2>/dev/null | head -c %zu", path, want);
		FILE *z = popen(cmd, "r");
		ck_assert_ptr_nonnull(z);
		size_t got = fread(img, 1, want, z);
		pclose(z);
		ck_assert_msg(got == want, "%s: only %zu bytes", path, got);
		for (int l = 0; l < 2; l++) {
			char what[2100];
			snprintf(what, sizeof(what), "%s label %d", path, l);
			labels += check_label(img + (size_t)l * LABEL_SIZE + PHYS_OFF, what);
		}
	}
	pclose(ls);
	free(img);
	ck_assert_int_ge(labels, 2 * 26);
}
END_TEST

/*
 * The MOS config object of the basic fixture (its 1348 packed bytes; the
 * 16 KiB block is zero after them), as OpenZFS 2.3.2 wrote it: the full
 * vdev tree with per-vdev ZAPs and the has_per_vdev_zaps boolean.
 */
static const uint8_t basic_mos_config[] = {
	0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x24,
	0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x07, 0x76, 0x65, 0x72, 0x73, 0x69, 0x6f, 0x6e, 0x00,
	0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x13, 0x88,
	0x00, 0x00, 0x00, 0x24, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x04, 0x6e, 0x61, 0x6d, 0x65,
	0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x62, 0x61, 0x73, 0x69,
	0x63, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x24, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x05,
	0x73, 0x74, 0x61, 0x74, 0x65, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x20,
	0x00, 0x00, 0x00, 0x03, 0x74, 0x78, 0x67, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x35, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x28,
	0x00, 0x00, 0x00, 0x09, 0x70, 0x6f, 0x6f, 0x6c, 0x5f, 0x67, 0x75, 0x69, 0x64, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x4f, 0xcb, 0x0e, 0xe4, 0x23, 0x15, 0x64, 0x10,
	0x00, 0x00, 0x00, 0x24, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x06, 0x65, 0x72, 0x72, 0x61,
	0x74, 0x61, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x08,
	0x68, 0x6f, 0x73, 0x74, 0x6e, 0x61, 0x6d, 0x65, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x06, 0x28, 0x6e, 0x6f, 0x6e, 0x65, 0x29, 0x00, 0x00, 0x00, 0x00, 0x00, 0x34,
	0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x1d, 0x63, 0x6f, 0x6d, 0x2e, 0x64, 0x65, 0x6c, 0x70,
	0x68, 0x69, 0x78, 0x3a, 0x68, 0x61, 0x73, 0x5f, 0x70, 0x65, 0x72, 0x5f, 0x76, 0x64, 0x65, 0x76,
	0x5f, 0x7a, 0x61, 0x70, 0x73, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x0d, 0x76, 0x64, 0x65, 0x76,
	0x5f, 0x63, 0x68, 0x69, 0x6c, 0x64, 0x72, 0x65, 0x6e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x03, 0x08,
	0x00, 0x00, 0x00, 0x38, 0x00, 0x00, 0x00, 0x09, 0x76, 0x64, 0x65, 0x76, 0x5f, 0x74, 0x72, 0x65,
	0x65, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x13, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x04,
	0x74, 0x79, 0x70, 0x65, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04,
	0x72, 0x6f, 0x6f, 0x74, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x02,
	0x69, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x04,
	0x67, 0x75, 0x69, 0x64, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x4f, 0xcb, 0x0e, 0xe4,
	0x23, 0x15, 0x64, 0x10, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x0a,
	0x63, 0x72, 0x65, 0x61, 0x74, 0x65, 0x5f, 0x74, 0x78, 0x67, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x3c,
	0x00, 0x00, 0x00, 0x38, 0x00, 0x00, 0x00, 0x1e, 0x63, 0x6f, 0x6d, 0x2e, 0x6b, 0x6c, 0x61, 0x72,
	0x61, 0x73, 0x79, 0x73, 0x74, 0x65, 0x6d, 0x73, 0x3a, 0x76, 0x64, 0x65, 0x76, 0x5f, 0x7a, 0x61,
	0x70, 0x5f, 0x72, 0x6f, 0x6f, 0x74, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x81, 0x00, 0x00, 0x02, 0x14, 0x00, 0x00, 0x00, 0x40,
	0x00, 0x00, 0x00, 0x08, 0x63, 0x68, 0x69, 0x6c, 0x64, 0x72, 0x65, 0x6e, 0x00, 0x00, 0x00, 0x14,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x20,
	0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x04, 0x74, 0x79, 0x70, 0x65, 0x00, 0x00, 0x00, 0x09,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, 0x66, 0x69, 0x6c, 0x65, 0x00, 0x00, 0x00, 0x20,
	0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x02, 0x69, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20,
	0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x04, 0x67, 0x75, 0x69, 0x64, 0x00, 0x00, 0x00, 0x08,
	0x00, 0x00, 0x00, 0x01, 0xe7, 0x46, 0xfd, 0x0b, 0x71, 0x99, 0xb5, 0x14, 0x00, 0x00, 0x00, 0x30,
	0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x04, 0x70, 0x61, 0x74, 0x68, 0x00, 0x00, 0x00, 0x09,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x14, 0x2f, 0x74, 0x6d, 0x70, 0x2f, 0x64, 0x69, 0x73,
	0x6b, 0x73, 0x2f, 0x62, 0x61, 0x73, 0x69, 0x63, 0x2e, 0x69, 0x6d, 0x67, 0x00, 0x00, 0x00, 0x2c,
	0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x0e, 0x6d, 0x65, 0x74, 0x61, 0x73, 0x6c, 0x61, 0x62,
	0x5f, 0x61, 0x72, 0x72, 0x61, 0x79, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x84, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x28,
	0x00, 0x00, 0x00, 0x0e, 0x6d, 0x65, 0x74, 0x61, 0x73, 0x6c, 0x61, 0x62, 0x5f, 0x73, 0x68, 0x69,
	0x66, 0x74, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x24, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x06,
	0x61, 0x73, 0x68, 0x69, 0x66, 0x74, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x24, 0x00, 0x00, 0x00, 0x20,
	0x00, 0x00, 0x00, 0x05, 0x61, 0x73, 0x69, 0x7a, 0x65, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x07, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x24,
	0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x06, 0x69, 0x73, 0x5f, 0x6c, 0x6f, 0x67, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x0a, 0x63, 0x72, 0x65, 0x61,
	0x74, 0x65, 0x5f, 0x74, 0x78, 0x67, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x38, 0x00, 0x00, 0x00, 0x38,
	0x00, 0x00, 0x00, 0x19, 0x63, 0x6f, 0x6d, 0x2e, 0x64, 0x65, 0x6c, 0x70, 0x68, 0x69, 0x78, 0x3a,
	0x76, 0x64, 0x65, 0x76, 0x5f, 0x7a, 0x61, 0x70, 0x5f, 0x6c, 0x65, 0x61, 0x66, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x82,
	0x00, 0x00, 0x00, 0x34, 0x00, 0x00, 0x00, 0x38, 0x00, 0x00, 0x00, 0x18, 0x63, 0x6f, 0x6d, 0x2e,
	0x64, 0x65, 0x6c, 0x70, 0x68, 0x69, 0x78, 0x3a, 0x76, 0x64, 0x65, 0x76, 0x5f, 0x7a, 0x61, 0x70,
	0x5f, 0x74, 0x6f, 0x70, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x83, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc8, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x11,
	0x66, 0x65, 0x61, 0x74, 0x75, 0x72, 0x65, 0x73, 0x5f, 0x66, 0x6f, 0x72, 0x5f, 0x72, 0x65, 0x61,
	0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x13, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x16,
	0x63, 0x6f, 0x6d, 0x2e, 0x64, 0x65, 0x6c, 0x70, 0x68, 0x69, 0x78, 0x3a, 0x68, 0x6f, 0x6c, 0x65,
	0x5f, 0x62, 0x69, 0x72, 0x74, 0x68, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x19, 0x63, 0x6f, 0x6d, 0x2e,
	0x64, 0x65, 0x6c, 0x70, 0x68, 0x69, 0x78, 0x3a, 0x65, 0x6d, 0x62, 0x65, 0x64, 0x64, 0x65, 0x64,
	0x5f, 0x64, 0x61, 0x74, 0x61, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x34, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x1d, 0x63, 0x6f, 0x6d, 0x2e,
	0x6b, 0x6c, 0x61, 0x72, 0x61, 0x73, 0x79, 0x73, 0x74, 0x65, 0x6d, 0x73, 0x3a, 0x76, 0x64, 0x65,
	0x76, 0x5f, 0x7a, 0x61, 0x70, 0x73, 0x5f, 0x76, 0x32, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
};

START_TEST(test_mos_config)
{
	nvlist_t *nvl;
	ck_assert_uint_eq(sizeof(basic_mos_config), 1348);
	ck_assert_int_eq(nvlist_unpack(basic_mos_config, sizeof(basic_mos_config), &nvl), 0);
	ck_assert_int_eq(nvlist_lookup_boolean(nvl, "com.delphix:has_per_vdev_zaps"), 0);
	const nvlist_t *tree;
	const nvlist_t *const *kids;
	uint32_t n;
	uint64_t zap;
	ck_assert_int_eq(nvlist_lookup_nvlist(nvl, "vdev_tree", &tree), 0);
	ck_assert_int_eq(nvlist_lookup_nvlist_array(tree, "children", &kids, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(nvlist_lookup_uint64(kids[0], "com.delphix:vdev_zap_top", &zap), 0);
	size_t len;
	uint8_t *b = pack(nvl, &len);
	ck_assert_uint_eq(len, sizeof(basic_mos_config));
	ck_assert_mem_eq(b, basic_mos_config, len);
	free(b);
	/* a copy of the tree, put back as the last pair, packs to the same bytes
	 * but for the moved pair: same total size */
	ck_assert_int_eq(nvlist_add_nvlist(nvl, "vdev_tree", tree), 0);
	b = pack(nvl, &len);
	ck_assert_uint_eq(len, sizeof(basic_mos_config));
	free(b);
	nvlist_free(nvl);
}
END_TEST

START_TEST(test_every_type)
{
	nvlist_t *nvl, *inner, *e0, *e1;
	ck_assert_int_eq(nvlist_alloc(&nvl), 0);
	ck_assert_int_eq(nvlist_alloc(&inner), 0);
	ck_assert_int_eq(nvlist_alloc(&e0), 0);
	ck_assert_int_eq(nvlist_alloc(&e1), 0);
	ck_assert_int_eq(nvlist_add_string(inner, "s", "inner"), 0);
	ck_assert_int_eq(nvlist_add_uint64(e0, "id", 0), 0);
	ck_assert_int_eq(nvlist_add_uint64(e1, "id", 1), 0);
	ck_assert_int_eq(nvlist_add_nvlist(e1, "deeper", inner), 0);

	const bool bools[] = { true, false, true };
	const uint8_t bytes[] = { 0, 1, 0xff, 0x80, 7 };
	const int8_t i8s[] = { -128, -1, 0, 127 };
	const uint8_t u8s[] = { 0, 255 };
	const int16_t i16s[] = { -32768, -2, 32767 };
	const uint16_t u16s[] = { 0, 65535 };
	const int32_t i32s[] = { INT32_MIN, -3, INT32_MAX };
	const uint32_t u32s[] = { 0, UINT32_MAX };
	const int64_t i64s[] = { INT64_MIN, -4, INT64_MAX };
	const uint64_t u64s[] = { 0, UINT64_MAX, 5 };
	const char *const strs[] = { "a", "", "three", "four" };
	const nvlist_t *const lists[] = { e0, e1 };

	ck_assert_int_eq(nvlist_add_boolean(nvl, "boolean"), 0);
	ck_assert_int_eq(nvlist_add_boolean_value(nvl, "bv_true", true), 0);
	ck_assert_int_eq(nvlist_add_boolean_value(nvl, "bv_false", false), 0);
	ck_assert_int_eq(nvlist_add_byte(nvl, "byte", 0xfe), 0);
	ck_assert_int_eq(nvlist_add_int8(nvl, "int8", -5), 0);
	ck_assert_int_eq(nvlist_add_uint8(nvl, "uint8", 250), 0);
	ck_assert_int_eq(nvlist_add_int16(nvl, "int16", -300), 0);
	ck_assert_int_eq(nvlist_add_uint16(nvl, "uint16", 65000), 0);
	ck_assert_int_eq(nvlist_add_int32(nvl, "int32", -70000), 0);
	ck_assert_int_eq(nvlist_add_uint32(nvl, "uint32", 4000000000u), 0);
	ck_assert_int_eq(nvlist_add_int64(nvl, "int64", -5000000000LL), 0);
	ck_assert_int_eq(nvlist_add_uint64(nvl, "uint64", 0xfedcba9876543210ULL), 0);
	ck_assert_int_eq(nvlist_add_hrtime(nvl, "hrtime", -42), 0);
	ck_assert_int_eq(nvlist_add_double(nvl, "double", -1.5e300), 0);
	ck_assert_int_eq(nvlist_add_string(nvl, "string", "hello, world"), 0);
	ck_assert_int_eq(nvlist_add_string(nvl, "empty_string", ""), 0);
	ck_assert_int_eq(nvlist_add_nvlist(nvl, "nvlist", inner), 0);
	ck_assert_int_eq(nvlist_add_nvlist_array(nvl, "nvlist_array", lists, 2), 0);
	ck_assert_int_eq(nvlist_add_nvlist_array(nvl, "nvlist_array0", NULL, 0), 0);
	ck_assert_int_eq(nvlist_add_string_array(nvl, "string_array", strs, 4), 0);
	ck_assert_int_eq(nvlist_add_string_array(nvl, "string_array0", NULL, 0), 0);
	ck_assert_int_eq(nvlist_add_boolean_array(nvl, "boolean_array", bools, 3), 0);
	ck_assert_int_eq(nvlist_add_byte_array(nvl, "byte_array", bytes, 5), 0);
	ck_assert_int_eq(nvlist_add_byte_array(nvl, "byte_array0", NULL, 0), 0);
	ck_assert_int_eq(nvlist_add_int8_array(nvl, "int8_array", i8s, 4), 0);
	ck_assert_int_eq(nvlist_add_uint8_array(nvl, "uint8_array", u8s, 2), 0);
	ck_assert_int_eq(nvlist_add_int16_array(nvl, "int16_array", i16s, 3), 0);
	ck_assert_int_eq(nvlist_add_uint16_array(nvl, "uint16_array", u16s, 2), 0);
	ck_assert_int_eq(nvlist_add_int32_array(nvl, "int32_array", i32s, 3), 0);
	ck_assert_int_eq(nvlist_add_uint32_array(nvl, "uint32_array", u32s, 2), 0);
	ck_assert_int_eq(nvlist_add_int64_array(nvl, "int64_array", i64s, 3), 0);
	ck_assert_int_eq(nvlist_add_uint64_array(nvl, "uint64_array", u64s, 3), 0);
	ck_assert_int_eq(nvlist_add_uint64_array(nvl, "uint64_array0", NULL, 0), 0);
	ck_assert_int_eq(nvlist_add_int32_array(nvl, "int32_array0", NULL, 0), 0);
	nvlist_free(inner);
	nvlist_free(e0);
	nvlist_free(e1);

	size_t len, len2;
	uint8_t *b = pack(nvl, &len);
	nvlist_t *u;
	ck_assert_int_eq(nvlist_unpack(b, len, &u), 0);
	/* the decoded list packs to the same bytes */
	uint8_t *b2 = pack(u, &len2);
	ck_assert_uint_eq(len2, len);
	ck_assert_mem_eq(b2, b, len);
	free(b2);
	free(b);
	nvlist_free(nvl);

	bool bv;
	uint8_t u8;
	int8_t s8;
	int16_t s16;
	uint16_t u16;
	int32_t s32;
	uint32_t u32;
	int64_t s64;
	uint64_t u64;
	double d;
	const char *s;
	const nvlist_t *l;
	uint32_t n;
	ck_assert_int_eq(nvlist_lookup_boolean(u, "boolean"), 0);
	ck_assert_int_eq(nvlist_lookup_boolean_value(u, "bv_true", &bv), 0);
	ck_assert(bv);
	ck_assert_int_eq(nvlist_lookup_boolean_value(u, "bv_false", &bv), 0);
	ck_assert(!bv);
	ck_assert_int_eq(nvlist_lookup_byte(u, "byte", &u8), 0);
	ck_assert_uint_eq(u8, 0xfe);
	ck_assert_int_eq(nvlist_lookup_int8(u, "int8", &s8), 0);
	ck_assert_int_eq(s8, -5);
	ck_assert_int_eq(nvlist_lookup_uint8(u, "uint8", &u8), 0);
	ck_assert_uint_eq(u8, 250);
	ck_assert_int_eq(nvlist_lookup_int16(u, "int16", &s16), 0);
	ck_assert_int_eq(s16, -300);
	ck_assert_int_eq(nvlist_lookup_uint16(u, "uint16", &u16), 0);
	ck_assert_uint_eq(u16, 65000);
	ck_assert_int_eq(nvlist_lookup_int32(u, "int32", &s32), 0);
	ck_assert_int_eq(s32, -70000);
	ck_assert_int_eq(nvlist_lookup_uint32(u, "uint32", &u32), 0);
	ck_assert_uint_eq(u32, 4000000000u);
	ck_assert_int_eq(nvlist_lookup_int64(u, "int64", &s64), 0);
	ck_assert_int_eq(s64, -5000000000LL);
	ck_assert_int_eq(nvlist_lookup_uint64(u, "uint64", &u64), 0);
	ck_assert_uint_eq(u64, 0xfedcba9876543210ULL);
	ck_assert_int_eq(nvlist_lookup_hrtime(u, "hrtime", &s64), 0);
	ck_assert_int_eq(s64, -42);
	ck_assert_int_eq(nvlist_lookup_double(u, "double", &d), 0);
	ck_assert(d == -1.5e300);
	ck_assert_int_eq(nvlist_lookup_string(u, "string", &s), 0);
	ck_assert_str_eq(s, "hello, world");
	ck_assert_int_eq(nvlist_lookup_string(u, "empty_string", &s), 0);
	ck_assert_str_eq(s, "");
	ck_assert_int_eq(nvlist_lookup_nvlist(u, "nvlist", &l), 0);
	ck_assert_int_eq(nvlist_lookup_string(l, "s", &s), 0);
	ck_assert_str_eq(s, "inner");

	const nvlist_t *const *la;
	ck_assert_int_eq(nvlist_lookup_nvlist_array(u, "nvlist_array", &la, &n), 0);
	ck_assert_uint_eq(n, 2);
	for (uint32_t i = 0; i < n; i++) {
		ck_assert_int_eq(nvlist_lookup_uint64(la[i], "id", &u64), 0);
		ck_assert_uint_eq(u64, i);
	}
	ck_assert_int_eq(nvlist_lookup_nvlist(la[1], "deeper", &l), 0);
	ck_assert_int_eq(nvlist_lookup_string(l, "s", &s), 0);
	ck_assert_str_eq(s, "inner");
	ck_assert_int_eq(nvlist_lookup_nvlist_array(u, "nvlist_array0", &la, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(la);

	const char *const *sa;
	ck_assert_int_eq(nvlist_lookup_string_array(u, "string_array", &sa, &n), 0);
	ck_assert_uint_eq(n, 4);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_str_eq(sa[i], strs[i]);
	ck_assert_int_eq(nvlist_lookup_string_array(u, "string_array0", &sa, &n), 0);
	ck_assert_uint_eq(n, 0);

#define CHECK_ARRAY(fn, name, ctype, want, count)				\
	do {									\
		const ctype *a_;						\
		ck_assert_int_eq(fn(u, name, &a_, &n), 0);			\
		ck_assert_uint_eq(n, count);					\
		for (uint32_t i_ = 0; i_ < n; i_++)				\
			ck_assert_msg(a_[i_] == (want)[i_], "%s[%u]", name, i_);\
	} while (0)
	CHECK_ARRAY(nvlist_lookup_boolean_array, "boolean_array", bool, bools, 3);
	CHECK_ARRAY(nvlist_lookup_byte_array, "byte_array", uint8_t, bytes, 5);
	CHECK_ARRAY(nvlist_lookup_int8_array, "int8_array", int8_t, i8s, 4);
	CHECK_ARRAY(nvlist_lookup_uint8_array, "uint8_array", uint8_t, u8s, 2);
	CHECK_ARRAY(nvlist_lookup_int16_array, "int16_array", int16_t, i16s, 3);
	CHECK_ARRAY(nvlist_lookup_uint16_array, "uint16_array", uint16_t, u16s, 2);
	CHECK_ARRAY(nvlist_lookup_int32_array, "int32_array", int32_t, i32s, 3);
	CHECK_ARRAY(nvlist_lookup_uint32_array, "uint32_array", uint32_t, u32s, 2);
	CHECK_ARRAY(nvlist_lookup_int64_array, "int64_array", int64_t, i64s, 3);
	CHECK_ARRAY(nvlist_lookup_uint64_array, "uint64_array", uint64_t, u64s, 3);
	const uint64_t *ua;
	ck_assert_int_eq(nvlist_lookup_uint64_array(u, "uint64_array0", &ua, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(ua);
	const uint8_t *ba;
	ck_assert_int_eq(nvlist_lookup_byte_array(u, "byte_array0", &ba, &n), 0);
	ck_assert_uint_eq(n, 0);

	/* typed getters agree with the lookups and refuse other types */
	int pairs = 0;
	for (const nvpair_t *p = nvlist_next_nvpair(u, NULL); p; p = nvlist_next_nvpair(u, p)) {
		pairs++;
		if (strcmp(nvpair_name(p), "int16") == 0) {
			ck_assert_int_eq(nvpair_type(p), DATA_TYPE_INT16);
			ck_assert_uint_eq(nvpair_nelem(p), 1);
			ck_assert_int_eq(nvpair_value_int16(p, &s16), 0);
			ck_assert_int_eq(s16, -300);
			ck_assert_int_eq(nvpair_value_uint16(p, &u16), -ZFUSE_E_INVAL);
			ck_assert_int_eq(nvpair_value_uint64(p, &u64), -ZFUSE_E_INVAL);
		}
		if (strcmp(nvpair_name(p), "boolean") == 0)
			ck_assert_uint_eq(nvpair_nelem(p), 0);
		if (strcmp(nvpair_name(p), "int8_array") == 0)
			ck_assert_uint_eq(nvpair_nelem(p), 4);
	}
	ck_assert_int_eq(pairs, 34);
	nvlist_free(u);
}
END_TEST

static uint32_t word(const uint8_t *b, size_t off)
{
	return (uint32_t)b[off] << 24 | (uint32_t)b[off + 1] << 16 | (uint32_t)b[off + 2] << 8 | b[off + 3];
}

/* Narrow integers go out zero-extended (as the kernel's XDR writes and
 * demands), decoded sizes follow §2.5, and an empty integer array is
 * counted with a count word libnvpair never writes. */
START_TEST(test_pair_bytes)
{
	nvlist_t *nvl;
	size_t len;
	ck_assert_int_eq(nvlist_alloc(&nvl), 0);
	ck_assert_int_eq(nvlist_add_int8(nvl, "a", -1), 0);
	ck_assert_int_eq(nvlist_add_int16(nvl, "b", -2), 0);
	ck_assert_int_eq(nvlist_add_int32(nvl, "c", -3), 0);
	uint8_t *b = pack(nvl, &len);
	/* header 4, list 8, then three 28-byte pairs: enc, dec, name(8), type, nelem, value */
	ck_assert_uint_eq(len, 4 + 8 + 3 * 28 + 8);
	ck_assert_uint_eq(word(b, 12), 28);
	ck_assert_uint_eq(word(b, 16), 32);	/* align8(16+2) + align8(1) */
	ck_assert_uint_eq(word(b, 12 + 24), 0xff);
	ck_assert_uint_eq(word(b, 12 + 28 + 24), 0xfffe);
	ck_assert_uint_eq(word(b, 12 + 56 + 24), 0xfffffffd);
	free(b);
	nvlist_free(nvl);

	/* both XDR spellings of a negative int16 decode to it */
	static const uint8_t sext[] = {
		1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		0, 0, 0, 28, 0, 0, 0, 32, 0, 0, 0, 1, 'b', 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 1,
		0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0, 0, 0, 0, 0 };
	int16_t s16;
	ck_assert_int_eq(nvlist_unpack(sext, sizeof(sext), &nvl), 0);
	ck_assert_int_eq(nvlist_lookup_int16(nvl, "b", &s16), 0);
	ck_assert_int_eq(s16, -2);
	nvlist_free(nvl);

	/* empty uint64 array then a uint64: the array's sizes claim 4 more bytes */
	ck_assert_int_eq(nvlist_alloc(&nvl), 0);
	ck_assert_int_eq(nvlist_add_uint64_array(nvl, "e", NULL, 0), 0);
	ck_assert_int_eq(nvlist_add_uint64(nvl, "v", 9), 0);
	b = pack(nvl, &len);
	ck_assert_uint_eq(len, 4 + 8 + 28 + 32 + 8);
	ck_assert_uint_eq(word(b, 12), 28);	/* 24 written */
	ck_assert_uint_eq(word(b, 16), 24);	/* align8(16+2) + 0 */
	ck_assert_uint_eq(word(b, 12 + 20), 0);	/* nelem, then at once the next pair */
	ck_assert_uint_eq(word(b, 12 + 24), 32);
	ck_assert_uint_eq(word(b, 12 + 24 + 28), 9);
	ck_assert_uint_eq(word(b, len - 4), 0);	/* zero fill after the end marker */
	nvlist_t *u;
	ck_assert_int_eq(nvlist_unpack(b, len, &u), 0);
	uint64_t v;
	ck_assert_int_eq(nvlist_lookup_uint64(u, "v", &v), 0);
	ck_assert_uint_eq(v, 9);
	nvlist_free(u);
	free(b);
	nvlist_free(nvl);

	/* string array decoded size: align8(16+2) + align8(8n + sum(len+1)) */
	const char *const two[] = { "ab", "" };
	ck_assert_int_eq(nvlist_alloc(&nvl), 0);
	ck_assert_int_eq(nvlist_add_string_array(nvl, "s", two, 2), 0);
	b = pack(nvl, &len);
	ck_assert_uint_eq(word(b, 16), 24 + 24);
	ck_assert_uint_eq(word(b, 12), 24 + 8 + 4);
	free(b);
	nvlist_free(nvl);
}
END_TEST

START_TEST(test_unique_names)
{
	nvlist_t *nvl;
	ck_assert_int_eq(nvlist_alloc(&nvl), 0);
	ck_assert(nvlist_empty(nvl));
	ck_assert_int_eq(nvlist_add_uint64(nvl, "a", 1), 0);
	ck_assert_int_eq(nvlist_add_uint64(nvl, "b", 2), 0);
	ck_assert_int_eq(nvlist_add_uint64(nvl, "c", 3), 0);
	ck_assert_int_eq(nvlist_add_string(nvl, "a", "again"), 0);	/* other type, same name */
	const char *order[] = { "b", "c", "a" };
	int i = 0;
	for (const nvpair_t *p = nvlist_next_nvpair(nvl, NULL); p; p = nvlist_next_nvpair(nvl, p))
		ck_assert_str_eq(nvpair_name(p), order[i++]);
	ck_assert_int_eq(i, 3);
	uint64_t v;
	const char *s;
	ck_assert_int_eq(nvlist_lookup_uint64(nvl, "a", &v), -ZFUSE_E_INVAL);
	ck_assert_int_eq(nvlist_lookup_string(nvl, "a", &s), 0);
	ck_assert_str_eq(s, "again");
	ck_assert_int_eq(nvlist_lookup_uint64(nvl, "zz", &v), -ZFUSE_E_NOENT);

	/* the same list built in the final order packs identically */
	nvlist_t *same;
	ck_assert_int_eq(nvlist_alloc(&same), 0);
	ck_assert_int_eq(nvlist_add_uint64(same, "b", 2), 0);
	ck_assert_int_eq(nvlist_add_uint64(same, "c", 3), 0);
	ck_assert_int_eq(nvlist_add_string(same, "a", "again"), 0);
	size_t l1, l2;
	uint8_t *b1 = pack(nvl, &l1), *b2 = pack(same, &l2);
	ck_assert_uint_eq(l1, l2);
	ck_assert_mem_eq(b1, b2, l1);
	free(b1);
	free(b2);
	nvlist_free(same);

	ck_assert_int_eq(nvlist_remove(nvl, "c"), 0);
	ck_assert(!nvlist_exists(nvl, "c"));
	ck_assert_int_eq(nvlist_remove(nvl, "c"), -ZFUSE_E_NOENT);
	ck_assert(nvlist_exists(nvl, "a") && nvlist_exists(nvl, "b"));
	ck_assert_int_eq(nvlist_remove(nvl, "a"), 0);
	ck_assert_int_eq(nvlist_remove(nvl, "b"), 0);
	ck_assert(nvlist_empty(nvl));
	size_t len;
	uint8_t *b = pack(nvl, &len);
	ck_assert_uint_eq(len, 20);	/* header, version, flags, end marker */
	free(b);
	nvlist_free(nvl);
}
END_TEST

/* Values taken from the list being changed: the add copies before it drops. */
START_TEST(test_self_reference)
{
	nvlist_t *nvl;
	ck_assert_int_eq(nvlist_unpack(example2, sizeof(example2), &nvl), 0);
	const nvlist_t *tree;
	ck_assert_int_eq(nvlist_lookup_nvlist(nvl, "vdev_tree", &tree), 0);
	ck_assert_int_eq(nvlist_add_nvlist(nvl, "vdev_tree", tree), 0);
	const char *type;
	ck_assert_int_eq(nvlist_lookup_nvlist(nvl, "vdev_tree", &tree), 0);
	ck_assert_int_eq(nvlist_lookup_string(tree, "type", &type), 0);
	ck_assert_str_eq(type, "file");
	ck_assert_int_eq(nvlist_add_string(nvl, "t", type), 0);
	ck_assert_int_eq(nvlist_lookup_string(nvl, "t", &type), 0);
	ck_assert_int_eq(nvlist_add_string(nvl, "t", type), 0);
	ck_assert_int_eq(nvlist_lookup_string(nvl, "t", &type), 0);
	ck_assert_str_eq(type, "file");
	const uint64_t *txgs;
	uint32_t n;
	ck_assert_int_eq(nvlist_lookup_uint64_array(nvl, "raidz_expand_txgs", &txgs, &n), 0);
	ck_assert_int_eq(nvlist_add_uint64_array(nvl, "raidz_expand_txgs", txgs, n), 0);
	ck_assert_int_eq(nvlist_lookup_uint64_array(nvl, "raidz_expand_txgs", &txgs, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(txgs[1], 200);
	ck_assert_int_eq(nvlist_add_nvlist(nvl, "me", nvl), -ZFUSE_E_INVAL);
	const nvlist_t *const selfarr[] = { nvl };
	ck_assert_int_eq(nvlist_add_nvlist_array(nvl, "me", selfarr, 1), -ZFUSE_E_INVAL);
	nvlist_free(nvl);
}
END_TEST

START_TEST(test_bad_adds)
{
	nvlist_t *nvl;
	ck_assert_int_eq(nvlist_alloc(&nvl), 0);
	ck_assert_int_eq(nvlist_add_uint64(nvl, "keep", 1), 0);
	ck_assert_int_eq(nvlist_add_uint64(NULL, "x", 1), -ZFUSE_E_INVAL);
	ck_assert_int_eq(nvlist_add_uint64(nvl, NULL, 1), -ZFUSE_E_INVAL);
	ck_assert_int_eq(nvlist_add_string(nvl, "keep", NULL), -ZFUSE_E_INVAL);
	ck_assert_int_eq(nvlist_add_uint64_array(nvl, "keep", NULL, 2), -ZFUSE_E_INVAL);
	ck_assert_int_eq(nvlist_add_nvlist(nvl, "keep", NULL), -ZFUSE_E_INVAL);
	const char *const holey[] = { "a", NULL };
	ck_assert_int_eq(nvlist_add_string_array(nvl, "keep", holey, 2), -ZFUSE_E_INVAL);
	char *name = malloc(NV_NAME_MAX + 2);
	memset(name, 'n', NV_NAME_MAX + 1);
	name[NV_NAME_MAX + 1] = 0;
	ck_assert_int_eq(nvlist_add_uint64(nvl, name, 1), -ZFUSE_E_INVAL);
	name[NV_NAME_MAX] = 0;
	ck_assert_int_eq(nvlist_add_uint64(nvl, name, 1), 0);
	/* a failed add left "keep" alone */
	uint64_t v;
	ck_assert_int_eq(nvlist_lookup_uint64(nvl, "keep", &v), 0);
	ck_assert_uint_eq(v, 1);
	/* the longest name round-trips */
	size_t len;
	uint8_t *b = pack(nvl, &len);
	nvlist_t *u;
	ck_assert_int_eq(nvlist_unpack(b, len, &u), 0);
	ck_assert_int_eq(nvlist_lookup_uint64(u, name, &v), 0);
	nvlist_free(u);
	free(b);
	free(name);
	nvlist_free(nvl);
}
END_TEST

START_TEST(test_dup)
{
	nvlist_t *orig, *copy;
	ck_assert_int_eq(nvlist_unpack(example2, sizeof(example2), &orig), 0);
	ck_assert_int_eq(nvlist_dup(orig, &copy), 0);
	nvlist_free(orig);
	size_t len;
	uint8_t *b = pack(copy, &len);
	ck_assert_uint_eq(len, sizeof(example2));
	ck_assert_mem_eq(b, example2, len);
	free(b);
	/* the copy is a root of its own: it can be edited */
	ck_assert_int_eq(nvlist_add_uint64(copy, "txg", 15), 0);
	uint64_t v;
	ck_assert_int_eq(nvlist_lookup_uint64(copy, "txg", &v), 0);
	ck_assert_uint_eq(v, 15);
	nvlist_free(copy);
}
END_TEST

START_TEST(test_range)
{
	nvlist_t *nvl = example2_list();
	size_t size, used = 77;
	ck_assert_int_eq(nvlist_size_xdr(nvl, &size), 0);
	ck_assert_uint_eq(size, sizeof(example2));
	uint8_t buf[sizeof(example2)];
	memset(buf, 0x5a, sizeof(buf));
	ck_assert_int_eq(nvlist_pack_xdr(nvl, buf, size - 1, &used), -ZFUSE_E_RANGE);
	ck_assert_int_eq(nvlist_pack_xdr(nvl, buf, 0, &used), -ZFUSE_E_RANGE);
	ck_assert_uint_eq(used, 77);
	size_t same = 0;
	while (same < sizeof(buf) && buf[same] == 0x5a)
		same++;
	ck_assert_uint_eq(same, sizeof(buf));
	ck_assert_int_eq(nvlist_pack_xdr(nvl, buf, size, NULL), 0);
	ck_assert_mem_eq(buf, example2, size);
	nvlist_free(nvl);
}
END_TEST

/* A list holding a chain of `levels` embedded lists, the innermost with a pair. */
static nvlist_t *chain(int levels)
{
	nvlist_t *cur;
	ck_assert_int_eq(nvlist_alloc(&cur), 0);
	ck_assert_int_eq(nvlist_add_uint64(cur, "leaf", 1), 0);
	for (int i = 0; i < levels; i++) {
		nvlist_t *up;
		ck_assert_int_eq(nvlist_alloc(&up), 0);
		ck_assert_int_eq(nvlist_add_nvlist(up, "x", cur), 0);
		nvlist_free(cur);
		cur = up;
	}
	return cur;
}

START_TEST(test_nesting)
{
	/* the kernel decodes 20 embedded levels and no more */
	nvlist_t *ok = chain(20), *deep = chain(21);
	size_t size, len;
	uint8_t buf[4096];
	ck_assert_int_eq(nvlist_size_xdr(deep, &size), -ZFUSE_E_INVAL);
	ck_assert_int_eq(nvlist_pack_xdr(deep, buf, sizeof(buf), &len), -ZFUSE_E_INVAL);
	uint8_t *b = pack(ok, &len);
	nvlist_t *u;
	ck_assert_int_eq(nvlist_unpack(b, len, &u), 0);
	free(b);
	nvlist_free(u);
	/* in an nvlist array too */
	nvlist_t *arr;
	const nvlist_t *const one[] = { deep };
	ck_assert_int_eq(nvlist_alloc(&arr), 0);
	ck_assert_int_eq(nvlist_add_nvlist_array(arr, "a", one, 1), 0);
	ck_assert_int_eq(nvlist_size_xdr(arr, &size), -ZFUSE_E_INVAL);
	nvlist_free(arr);
	nvlist_free(ok);
	nvlist_free(deep);

	/* decoding accepts up to 32 levels; the packed 32-deep chain is built by hand */
	for (int levels = 32; levels <= 33; levels++) {
		size_t cap = 4 + (size_t)levels * 32 + 64 + (size_t)levels * 8;
		uint8_t *d = calloc(1, cap), *p = d;
		*p++ = 1; *p++ = 1; p += 2;
		for (int i = 0; i < levels; i++) {
			p += 7; *p++ = 1;	/* version 0, flags 1 */
			static const uint8_t pair[] = { 0, 0, 0, 40, 0, 0, 0, 48, 0, 0, 0, 1, 'x', 0, 0, 0,
							0, 0, 0, 19, 0, 0, 0, 1 };
			memcpy(p, pair, sizeof(pair));
			p += sizeof(pair);
		}
		p += 7; *p++ = 1;		/* innermost list: empty */
		p += 8 * ((size_t)levels + 1);	/* end markers */
		nvlist_t *nv = NULL;
		int rc = nvlist_unpack(d, (size_t)(p - d), &nv);
		if (levels == 32)
			ck_assert_int_eq(rc, 0);
		else
			ck_assert_int_eq(rc, -ZFUSE_E_CORRUPT);
		nvlist_free(nv);
		free(d);
	}
}
END_TEST

/* What libnvpair's decoder refuses, ours refuses. */
START_TEST(test_strict_decode)
{
	uint8_t b[sizeof(example2)];
	nvlist_t *nvl;
	/* decoded size of "txg" one too large */
	memcpy(b, example2, sizeof(b));
	b[0x13] = 0x21;
	ck_assert_int_eq(nvlist_unpack(b, sizeof(b), &nvl), -ZFUSE_E_CORRUPT);
	/* the encoded size is not used for positioning, as in libnvpair */
	memcpy(b, example2, sizeof(b));
	b[0x0f] = 0x24;
	ck_assert_int_eq(nvlist_unpack(b, sizeof(b), &nvl), 0);
	nvlist_free(nvl);
	/* a boolean_value of 2 */
	static const uint8_t bv[] = {
		1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		0, 0, 0, 28, 0, 0, 0, 32, 0, 0, 0, 1, 'b', 0, 0, 0, 0, 0, 0, 21, 0, 0, 0, 1,
		0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0 };
	ck_assert_int_eq(nvlist_unpack(bv, sizeof(bv), &nvl), -ZFUSE_E_CORRUPT);
	uint8_t ok[sizeof(bv)];
	memcpy(ok, bv, sizeof(ok));
	ok[39] = 1;
	ck_assert_int_eq(nvlist_unpack(ok, sizeof(ok), &nvl), 0);
	bool v;
	ck_assert_int_eq(nvlist_lookup_boolean_value(nvl, "b", &v), 0);
	ck_assert(v);
	nvlist_free(nvl);
	/* a scalar with nelem 2 */
	memcpy(b, example2, sizeof(b));
	b[0x23] = 2;
	ck_assert_int_eq(nvlist_unpack(b, sizeof(b), &nvl), -ZFUSE_E_CORRUPT);
}
END_TEST

START_TEST(test_print)
{
	nvlist_t *nvl = example2_list();
	ck_assert_int_eq(nvlist_add_int8(nvl, "neg", -3), 0);
	char *text = NULL;
	size_t tlen = 0;
	FILE *f = open_memstream(&text, &tlen);
	nvlist_print_text(f, nvl, 2);
	fclose(f);
	ck_assert_str_eq(text,
		"  txg: 14\n"
		"  raidz_expand_txgs[0]: 100\n"
		"  raidz_expand_txgs[1]: 200\n"
		"  com.delphix:hole_birth\n"
		"  vdev_tree:\n"
		"      type: 'file'\n"
		"  neg: -3\n");
	free(text);
	nvlist_free(nvl);
	/* JSON strings stay valid UTF-8 */
	f = open_memstream(&text, &tlen);
	nv_json_string(f, "a\xc3\xa9\xff\"\n");
	fclose(f);
	ck_assert_str_eq(text, "\"a\xc3\xa9\xc3\xbf\\\"\\u000a\"");
	free(text);
}
END_TEST

int main(void)
{
	/* 120 s: unpacks every fixture image, slow under load and ASan */
	return RUN_TESTS("nvpair", "xdr", 120, test_example2, test_truncations, test_hostile, test_claimed_counts, test_pack_example2,
			 test_pack_example1, test_real_labels, test_mos_config, test_every_type, test_pair_bytes,
			 test_unique_names, test_self_reference, test_bad_adds, test_dup, test_range, test_nesting,
			 test_strict_decode, test_print);
}
