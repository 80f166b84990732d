/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * test_raidz.c — RAID-Z geometry and recovery: allocated sizes and maps of
 * the spec's worked examples (pool-layer.md §8.2-8.3), then for raidz1/2/3
 * of many widths, ashifts, sizes and offsets (including the raidz1 odd-MiB
 * column swap): data laid out with parity into in-memory children reads
 * back exactly with up to nparity children missing or silently corrupted,
 * and one more failure is reported, not guessed around.
 */
#include <check.h>
#include "check_main.h"
#include <stdlib.h>
#include <string.h>
#include "vdev_raidz.h"
#include "zfuse/errors.h"

START_TEST(test_asize_examples)
{
	struct raidz_geom g1 = { 3, 1, 9 }, g2 = { 5, 2, 12 }, g3 = { 6, 3, 9 };
	ck_assert_uint_eq(vdev_raidz_asize(&g1, 0x200), 0x400);
	ck_assert_uint_eq(vdev_raidz_asize(&g1, 0x7600), 0xB400);
	ck_assert_uint_eq(vdev_raidz_asize(&g2, 0x1000), 0x3000);
	ck_assert_uint_eq(vdev_raidz_asize(&g3, 0x200), 0x800);
	ck_assert_uint_eq(vdev_raidz_asize(&g3, 0x600), 0x1000);
}
END_TEST

START_TEST(test_map_examples)
{
	struct raidz_map rm;
	struct raidz_geom g2 = { 5, 2, 12 };
	ck_assert_int_eq(vdev_raidz_map(&g2, 0x3F000, 0x1000, &rm), 0);
	ck_assert_uint_eq(rm.acols, 3);
	ck_assert_uint_eq(rm.col[0].child, 3);
	ck_assert_uint_eq(rm.col[0].offset, 0xC000);
	ck_assert_uint_eq(rm.col[1].child, 4);
	ck_assert_uint_eq(rm.col[2].child, 0);
	ck_assert_uint_eq(rm.col[2].offset, 0xD000);
	struct raidz_geom g3 = { 6, 3, 9 };
	ck_assert_int_eq(vdev_raidz_map(&g3, 0x13800, 0x600, &rm), 0);
	ck_assert_uint_eq(rm.nskip, 2);
	for (int c = 0; c < 6; c++) {
		ck_assert_uint_eq(rm.col[c].child, (uint64_t)c);
		ck_assert_uint_eq(rm.col[c].offset, 0x3400);
		ck_assert_uint_eq(rm.col[c].size, 512);
	}
	/* raidz1 with bit 20 of the offset set: columns 0 and 1 swap places */
	struct raidz_geom g1 = { 3, 1, 9 };
	struct raidz_map plain;
	ck_assert_int_eq(vdev_raidz_map(&g1, 0x31F000, 0x7600, &rm), 0);
	ck_assert_uint_eq(rm.col[0].size, 30 * 512);
	ck_assert_uint_eq(rm.col[1].size, 30 * 512);
	ck_assert_uint_eq(rm.col[2].size, 29 * 512);
	ck_assert_int_eq(vdev_raidz_map(&g1, 0x21F000, 0x7600, &plain), 0);	/* bit 20 clear */
	ck_assert_uint_eq(plain.col[0].child, (0x21F000 >> 9) % 3);
	ck_assert_uint_eq(rm.col[1].child, (0x31F000 >> 9) % 3);	/* P moved to column 1's place */
}
END_TEST

#define MAXCH 12
#define DEVSZ (4 << 20)

struct disks {
	uint8_t *d[MAXCH];
	bool missing[MAXCH];
};

static int disk_write(void *arg, uint64_t child, uint64_t off, const void *buf, uint64_t size)
{
	struct disks *k = arg;
	ck_assert(off + size <= DEVSZ);
	memcpy(k->d[child] + off, buf, size);
	return 0;
}

static int disk_read(void *arg, uint64_t child, uint64_t off, void *buf, uint64_t size)
{
	struct disks *k = arg;
	if (k->missing[child])
		return -ZFUSE_E_IO;
	memcpy(buf, k->d[child] + off, size);
	return 0;
}

static const uint8_t *want_data;

static bool verify_eq(void *arg, const void *data, uint64_t psize)
{
	(void)arg;
	return memcmp(data, want_data, psize) == 0;
}

START_TEST(test_recovery)
{
	struct disks k;
	for (int i = 0; i < MAXCH; i++)
		k.d[i] = malloc(DEVSZ);
	uint8_t *data = malloc(1 << 20), *out = malloc(1 << 20);
	srand(1234);
	for (int i = 0; i < (1 << 20); i++)
		data[i] = (uint8_t)rand();
	want_data = data;
	static const uint64_t sizes[] = { 512, 4096, 12288, 131072, 1 << 20 };
	int cases = 0;
	for (uint64_t np = 1; np <= 3; np++)
		for (uint64_t ch = np + 1; ch <= 8; ch += 2)
			for (uint64_t ashift = 9; ashift <= 12; ashift += 3)
				for (int si = 0; si < 5; si++) {
					struct raidz_geom g = { ch, np, ashift };
					uint64_t psize = sizes[si];
					/* an offset in an odd MiB exercises the raidz1 swap */
					uint64_t off = ((1ULL << 20) + ((uint64_t)rand() % 64) * (1ULL << ashift)) &
						       ~((1ULL << ashift) - 1);
					if (vdev_raidz_asize(&g, psize) / ch + off / ch + (1 << 20) > DEVSZ)
						continue;
					for (int i = 0; i < MAXCH; i++) {
						memset(k.d[i], 0xee, DEVSZ);
						k.missing[i] = false;
					}
					ck_assert_int_eq(vdev_raidz_build_columns(&g, off, data, psize, disk_write, &k), 0);
					/* intact */
					ck_assert_int_eq(vdev_raidz_read(&g, off, psize, out, disk_read, &k,
									 verify_eq, NULL, NULL), 0);
					ck_assert(memcmp(out, data, psize) == 0);
					/* nparity children missing */
					for (uint64_t m = 0; m < np; m++)
						k.missing[(m * 2 + (uint64_t)si) % ch] = true;
					memset(out, 0, psize);
					ck_assert_int_eq(vdev_raidz_read(&g, off, psize, out, disk_read, &k,
									 verify_eq, NULL, NULL), 0);
					ck_assert(memcmp(out, data, psize) == 0);
					/* one more missing than parity: a clean failure */
					uint64_t extra = 0;
					while (k.missing[extra])
						extra++;
					k.missing[extra] = true;
					int rc = vdev_raidz_read(&g, off, psize, out, disk_read, &k, verify_eq, NULL, NULL);
					ck_assert(rc == -ZFUSE_E_MISSING_DEV || rc == -ZFUSE_E_CHECKSUM || rc == 0);
					for (int i = 0; i < MAXCH; i++)
						k.missing[i] = false;
					/* silent corruption of nparity whole children */
					struct raidz_map rm;
					vdev_raidz_map(&g, off, psize, &rm);
					for (uint64_t m = 0; m < np && m < rm.acols; m++) {
						struct raidz_col *c = &rm.col[rm.acols - 1 - m];
						for (uint64_t b = 0; b < c->size; b++)
							k.d[c->child][c->offset + b] ^= 0x5a;
					}
					uint64_t bad = 0;
					memset(out, 0, psize);
					ck_assert_int_eq(vdev_raidz_read(&g, off, psize, out, disk_read, &k,
									 verify_eq, NULL, &bad), 0);
					ck_assert(memcmp(out, data, psize) == 0);
					ck_assert(bad != 0);
					cases++;
				}
	ck_assert_int_gt(cases, 50);
	for (int i = 0; i < MAXCH; i++)
		free(k.d[i]);
	free(data);
	free(out);
}
END_TEST

int main(void)
{
	return RUN_TESTS("raidz", "raidz", 240, test_asize_examples, test_map_examples, test_recovery);
}
