/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * range_tree.h — sets of byte ranges kept as sorted, non-overlapping,
 * non-adjacent [start, end) segments (adjacent segments are merged, as in
 * OpenZFS's range trees). The allocator uses them for free space, for the
 * allocations and frees of a txg waiting to be written to a space map, and
 * for deferred frees. A sorted array with binary search: lookups are
 * O(log n), inserts and removals move the tail of the array.
 *
 * A histogram of segment sizes is kept up to date: bucket i counts the
 * segments whose size s has floor(log2(s)) == i (OpenZFS rt_histogram).
 */
#ifndef ZFUSE_RANGE_TREE_H
#define ZFUSE_RANGE_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RANGE_TREE_HISTOGRAM_SIZE 64

typedef struct range_seg {
	uint64_t start, end;
} range_seg_t;

typedef struct range_tree {
	range_seg_t *segs;
	size_t nsegs, cap;
	uint64_t space;
	uint64_t histogram[RANGE_TREE_HISTOGRAM_SIZE];
} range_tree_t;

range_tree_t *range_tree_create(void);
void range_tree_destroy(range_tree_t *rt);

/*
 * Add [start, start + size). The range must not overlap the set (touching
 * is fine: segments merge). Errors: ZFUSE_E_INVAL (overlap, empty or
 * wrapping range; the set is unchanged), ZFUSE_E_NOMEM.
 */
int range_tree_add(range_tree_t *rt, uint64_t start, uint64_t size);

/* Remove whatever part of [start, start + size) is in the set (any
 * overlap); returns the number of bytes removed (INT64_MAX when more),
 * or a negative ZFUSE_E_NOMEM when a segment had to be split and memory
 * ran out. */
int64_t range_tree_remove(range_tree_t *rt, uint64_t start, uint64_t size);

/* Whether [start, start + size) lies entirely inside one segment. */
bool range_tree_contains(const range_tree_t *rt, uint64_t start, uint64_t size);
/* Whether any byte of [start, start + size) is in the set. */
bool range_tree_intersects(const range_tree_t *rt, uint64_t start, uint64_t size);
/* Bytes of [start, start + size) that are in the set. */
uint64_t range_tree_overlap(const range_tree_t *rt, uint64_t start, uint64_t size);

static inline uint64_t range_tree_space(const range_tree_t *rt) { return rt->space; }
static inline size_t range_tree_numsegs(const range_tree_t *rt) { return rt->nsegs; }
static inline bool range_tree_is_empty(const range_tree_t *rt) { return rt->nsegs == 0; }

/* Call fn on every segment in ascending order (fn must not change rt). A
 * non-zero return stops the walk and is returned. */
typedef int (*range_tree_fn)(void *arg, uint64_t start, uint64_t size);
int range_tree_walk(const range_tree_t *rt, range_tree_fn fn, void *arg);

/* Empty the set (calling fn on each segment first when fn is not NULL). */
int range_tree_vacate(range_tree_t *rt, range_tree_fn fn, void *arg);

/* Add every segment of src to dst (they must not overlap). */
int range_tree_add_tree(range_tree_t *dst, const range_tree_t *src);

/*
 * Add to dst every part of a that is not in b (set difference a - b); dst
 * must not overlap the result. Segments come out in ascending order.
 */
int range_tree_add_difference(range_tree_t *dst, const range_tree_t *a, const range_tree_t *b);

/* Exchange the contents of two trees. */
void range_tree_swap(range_tree_t *a, range_tree_t *b);

/*
 * First fit: the lowest offset o >= cursor, o a multiple of align (a power
 * of two, 0 or 1 meaning none), with [o, o + size) inside one segment; when
 * nothing fits at or after the cursor the search wraps to the start of the
 * set. Errors: ZFUSE_E_NOSPC. The set is not changed.
 */
int range_tree_find_first_fit(const range_tree_t *rt, uint64_t size, uint64_t align,
			      uint64_t cursor, uint64_t *offset);

/* Best fit: the aligned start of the smallest segment that can hold size
 * (lowest such segment on ties). Errors: ZFUSE_E_NOSPC. */
int range_tree_find_best_fit(const range_tree_t *rt, uint64_t size, uint64_t align,
			     uint64_t *offset);

/* Size of the largest segment (0 when empty). */
uint64_t range_tree_largest(const range_tree_t *rt);

/* floor(log2(x)) for x > 0 (the histogram bucket of a segment of size x). */
static inline int range_tree_bucket(uint64_t x)
{
	return 63 - __builtin_clzll(x);
}

#endif
