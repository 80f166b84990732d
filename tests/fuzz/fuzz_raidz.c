/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * fuzz_raidz.c — RAID-Z mapping and reconstruction. First the map of an
 * arbitrary geometry, offset and size (from disk: impossible ones must be
 * refused, not followed). Then a block laid out with parity on in-memory
 * children, some of them missing or silently corrupted as the input says:
 * with at most nparity children damaged the read must return the data
 * exactly; with more it may fail, but never return wrong data (the verify
 * callback compares with the truth) nor touch memory out of bounds.
 */
#include <stdlib.h>
#include <string.h>
#include "vdev_raidz.h"
#include "zfuse/errors.h"
#include "fuzz_seed.h"

#define MAXCH 16
#define DEVSZ (2u << 20)

static uint8_t *disk[MAXCH];
static uint8_t state[MAXCH];	/* 0 intact, 1 missing, 2 corrupt */
static const uint8_t *truth;

static uint64_t take(const uint8_t **p, size_t *n, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes && *n; i++, (*p)++, (*n)--)
		v |= (uint64_t)**p << (8 * i);
	return v;
}

static int child_write(void *arg, uint64_t child, uint64_t off, const void *buf, uint64_t size)
{
	(void)arg;
	if (child >= MAXCH || off + size > DEVSZ)
		abort();	/* the layout left the geometry it was given */
	memcpy(disk[child] + off, buf, size);
	return 0;
}

static int child_read(void *arg, uint64_t child, uint64_t off, void *buf, uint64_t size)
{
	(void)arg;
	if (child >= MAXCH || off + size > DEVSZ)
		abort();
	if (state[child] == 1)
		return -ZFUSE_E_IO;
	memcpy(buf, disk[child] + off, size);
	return 0;
}

static bool verify(void *arg, const void *data, uint64_t psize)
{
	(void)arg;
	return memcmp(data, truth, psize) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	size_t n = size;
	/* 1: any map */
	struct raidz_geom g = { take(&p, &n, 2), take(&p, &n, 1), take(&p, &n, 1) };
	uint64_t off = take(&p, &n, 8), psize = take(&p, &n, 4);
	static struct raidz_map rm;
	if (vdev_raidz_map(&g, off, psize, &rm) == 0) {
		if (rm.acols > RAIDZ_MAX_COLS)
			abort();
		(void)vdev_raidz_asize(&g, psize);
	}
	/* 2: reconstruction in a sane geometry */
	if (!disk[0])
		for (int i = 0; i < MAXCH; i++)
			if (!(disk[i] = malloc(DEVSZ)))
				abort();
	uint64_t np = 1 + take(&p, &n, 1) % 3;
	g.nparity = np;
	g.children = np + 1 + take(&p, &n, 1) % (MAXCH - np);
	g.ashift = 9 + take(&p, &n, 1) % 4;
	/* up to 32 KiB: the GF arithmetic under comparison tracing is slow,
	 * and more sectors add executions, not paths */
	psize = (1 + take(&p, &n, 2) % 64) << 9;
	off = (take(&p, &n, 2) % 1024) << g.ashift;
	if (vdev_raidz_asize(&g, psize) + off > (uint64_t)DEVSZ * g.children / 2)
		return 0;
	static uint8_t block[128 << 10], out[128 << 10];
	for (uint64_t i = 0; i < psize; i++)
		block[i] = n ? p[i % n] : (uint8_t)i;
	truth = block;
	if (vdev_raidz_map(&g, off, psize, &rm) != 0)
		abort();	/* a sane geometry must map */
	for (uint64_t c = 0; c < g.children; c++)
		state[c] = 0;
	/* only the block's columns are ever read: fill just those */
	for (uint64_t i = 0; i < rm.acols; i++) {
		struct raidz_col *col = &rm.col[i];
		if (col->child >= MAXCH || col->offset + col->size > DEVSZ)
			abort();
		memset(disk[col->child] + col->offset, 0xee, col->size);
	}
	if (vdev_raidz_build_columns(&g, off, block, psize, child_write, NULL) != 0)
		abort();	/* a sane geometry must lay out */
	unsigned damaged = 0;
	uint64_t mask = take(&p, &n, 2), kind = take(&p, &n, 2);
	uint8_t x = (uint8_t)(take(&p, &n, 1) | 1);
	for (uint64_t c = 0; c < g.children; c++) {
		if (!(mask >> c & 1))
			continue;
		state[c] = 1 + (kind >> c & 1);
		bool hit = false;
		for (uint64_t i = 0; i < rm.acols; i++) {
			struct raidz_col *col = &rm.col[i];
			if (col->child != c || !col->size)
				continue;
			hit = true;
			if (state[c] == 2)
				for (uint64_t b = 0; b < col->size; b += 1 + (x & 7))
					disk[c][col->offset + b] ^= x;
		}
		damaged += hit;
	}
	memset(out, 0, psize);
	uint64_t bad = 0;
	int rc = vdev_raidz_read(&g, off, psize, out, child_read, NULL, verify, NULL, &bad);
	if (rc == 0 && memcmp(out, block, psize) != 0)
		abort();	/* returned what verify refused */
	if (damaged <= np && rc != 0)
		abort();	/* recoverable damage not recovered */
	return 0;
}

/* Seeds: raidz1/2/3 of the fixtures' widths (3, 4, 5 children), ashift 9
 * and 12, each with nothing, one child and nparity children damaged. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!seed_dir())
		return 0;
	for (unsigned np = 1; np <= 3; np++)
		for (unsigned sh = 0; sh < 4; sh += 3)
			for (unsigned dmg = 0; dmg < 3; dmg++) {
				uint8_t s[80] = { 0 };
				s[0] = (uint8_t)(np + 2);	/* map: children, nparity, ashift */
				s[2] = (uint8_t)np;
				s[3] = (uint8_t)(9 + sh);
				s[4 + 1] = 0x10;	/* offset 1 MiB */
				s[12 + 1] = 0x20;	/* psize 8 KiB */
				s[16] = (uint8_t)(np - 1);
				s[17] = 1;	/* np + 2 children */
				s[18] = (uint8_t)sh;
				s[19] = 15;	/* 8 KiB */
				s[21] = (uint8_t)(7 * np);
				s[23] = (uint8_t)(dmg == 0 ? 0 : dmg == 1 ? 2 : (1u << np) - 1);
				s[25] = dmg == 2 ? 0x55 : 0;
				s[27] = 0x5a;
				for (int i = 28; i < 80; i++)
					s[i] = (uint8_t)(i * 37 + np);
				seed_write(s, sizeof(s));
			}
	exit(0);
}
