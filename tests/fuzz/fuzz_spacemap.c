/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * fuzz_spacemap.c — space map words as a metaslab load reads them
 * (one-word, two-word and debug entries), replayed into a range tree the
 * way a load does: allocations added, frees removed. Byte 0 is the shift,
 * bytes 1-8 the map's start; the rest are the words. The decoder must stop
 * cleanly at a cut two-word entry, and the tree must stay consistent with
 * what was added and removed.
 */
#include <stdlib.h>
#include <string.h>
#include "range_tree.h"
#include "space_map.h"
#include "fuzz_seed.h"

struct ctx {
	range_tree_t *rt;
	uint64_t n;
};

static int entry(void *arg, const struct space_map_entry *e)
{
	struct ctx *c = arg;
	if (++c->n > 100000)
		return 1;
	if (e->len == 0 || e->start + e->len < e->start)
		return 0;
	if (e->is_free) {
		(void)range_tree_remove(c->rt, e->start, e->len);
		if (range_tree_intersects(c->rt, e->start, e->len))
			abort();	/* removed, yet still there */
	} else if (range_tree_add(c->rt, e->start, e->len) == 0) {
		if (!range_tree_contains(c->rt, e->start, e->len))
			abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 9)
		return 0;
	unsigned shift = data[0] % 64;
	uint64_t start;
	memcpy(&start, data + 1, 8);
	size_t nwords = (size - 9) / 8;
	uint8_t *words = malloc(nwords * 8 + 1);
	if (!words)
		abort();
	memcpy(words, data + 9, nwords * 8);
	struct ctx c = { range_tree_create(), 0 };
	/* decoded in two halves, as two blocks of one map with the cursor
	 * carried between them */
	struct space_map_cursor cur = { 0, 0 };
	size_t half = nwords / 2;
	if (space_map_decode_words(words, half, start, shift, &cur, entry, &c) == 0)
		(void)space_map_decode_words(words + half * 8, nwords - half, start, shift, &cur, entry, &c);
	uint64_t space = range_tree_space(c.rt);
	(void)space;
	range_tree_destroy(c.rt);
	free(words);
	return 0;
}

/* Seeds: maps written by the library's own appender (one- and two-word
 * entries, debug words), as metaslab syncs write them. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!seed_dir())
		return 0;
	for (int v = 0; v < 4; v++) {
		unsigned shift = 9 + (unsigned)v;
		uint64_t start = (uint64_t)v << 30;
		struct space_map_appender a;
		space_map_appender_init(&a, 0, 4096, start, shift, v & 1);
		for (unsigned t = 1; t <= 3; t++) {
			space_map_append_debug(&a, SM_ALLOC, 1, 100 + t);
			for (uint64_t i = 0; i < 8; i++)
				space_map_append_extent(&a, i & 1 ? SM_FREE : SM_ALLOC,
							start + ((i * 977 * t) << shift),
							((i + 1) * (v == 3 ? 40000 : 3)) << shift,
							v & 1 ? (uint64_t)v : SM_NO_VDEVID);
		}
		uint8_t buf[9 + 8 * 256];
		size_t nw = a.nwords < 256 ? a.nwords : 256;
		buf[0] = (uint8_t)shift;
		memcpy(buf + 1, &start, 8);
		uint8_t *words = malloc(8 * a.nwords);
		space_map_appender_bytes(&a, words);
		memcpy(buf + 9, words, 8 * nw);
		free(words);
		seed_write(buf, 9 + 8 * nw);
		space_map_appender_fini(&a);
	}
	exit(0);
}
