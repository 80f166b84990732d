/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * range_tree.c — sorted, non-overlapping byte-range sets (see range_tree.h).
 *
 * Segments are kept in one sorted array. Because segments never overlap
 * and are never adjacent, both their starts and their ends are strictly
 * increasing, so "the first segment that ends after x" is a binary search
 * and every query starts there.
 */
#include <stdlib.h>
#include <string.h>
#include "range_tree.h"
#include "zfuse/errors.h"

range_tree_t *range_tree_create(void)
{
	return calloc(1, sizeof(range_tree_t));
}

void range_tree_destroy(range_tree_t *rt)
{
	if (!rt)
		return;
	free(rt->segs);
	free(rt);
}

static void hist_add(range_tree_t *rt, uint64_t size)
{
	rt->histogram[range_tree_bucket(size)]++;
}

static void hist_sub(range_tree_t *rt, uint64_t size)
{
	rt->histogram[range_tree_bucket(size)]--;
}

/* Index of the first segment whose end is > x (nsegs when none). */
static size_t first_ending_after(const range_tree_t *rt, uint64_t x)
{
	size_t lo = 0, hi = rt->nsegs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (rt->segs[mid].end > x)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static int reserve(range_tree_t *rt, size_t want)
{
	if (want <= rt->cap)
		return 0;
	size_t nc = rt->cap ? rt->cap * 2 : 16;
	while (nc < want)
		nc *= 2;
	range_seg_t *ns = realloc(rt->segs, nc * sizeof(*ns));
	if (!ns)
		return -ZFUSE_E_NOMEM;
	rt->segs = ns;
	rt->cap = nc;
	return 0;
}

static void insert_at(range_tree_t *rt, size_t i, uint64_t start, uint64_t end)
{
	memmove(&rt->segs[i + 1], &rt->segs[i], (rt->nsegs - i) * sizeof(range_seg_t));
	rt->segs[i].start = start;
	rt->segs[i].end = end;
	rt->nsegs++;
	hist_add(rt, end - start);
}

static void delete_at(range_tree_t *rt, size_t i)
{
	hist_sub(rt, rt->segs[i].end - rt->segs[i].start);
	memmove(&rt->segs[i], &rt->segs[i + 1], (rt->nsegs - i - 1) * sizeof(range_seg_t));
	rt->nsegs--;
}

int range_tree_add(range_tree_t *rt, uint64_t start, uint64_t size)
{
	uint64_t end = start + size;
	if (size == 0 || end < start)
		return -ZFUSE_E_INVAL;
	/* The first segment ending at or after start is the only one that can
	 * touch from the left; the one after it the only one from the right. */
	size_t i = start ? first_ending_after(rt, start - 1) : 0;
	bool merge_left = false, merge_right = false;
	size_t left = i;
	if (i < rt->nsegs) {
		range_seg_t *s = &rt->segs[i];
		if (s->start < end && s->end > start)
			return -ZFUSE_E_INVAL;
		if (s->end == start) {
			merge_left = true;
			if (i + 1 < rt->nsegs) {
				range_seg_t *r = &rt->segs[i + 1];
				if (r->start < end)
					return -ZFUSE_E_INVAL;
				merge_right = r->start == end;
			}
		} else {
			/* s lies entirely after start: check the right side. */
			merge_right = s->start == end;
		}
	}
	if (merge_left && merge_right) {
		range_seg_t *l = &rt->segs[left], *r = &rt->segs[left + 1];
		hist_sub(rt, l->end - l->start);
		l->end = r->end;
		hist_add(rt, l->end - l->start);
		delete_at(rt, left + 1);
	} else if (merge_left) {
		range_seg_t *l = &rt->segs[left];
		hist_sub(rt, l->end - l->start);
		l->end = end;
		hist_add(rt, l->end - l->start);
	} else if (merge_right) {
		range_seg_t *r = &rt->segs[i];
		hist_sub(rt, r->end - r->start);
		r->start = start;
		hist_add(rt, r->end - r->start);
	} else {
		if (reserve(rt, rt->nsegs + 1))
			return -ZFUSE_E_NOMEM;
		insert_at(rt, i, start, end);
	}
	rt->space += size;
	return 0;
}

int64_t range_tree_remove(range_tree_t *rt, uint64_t start, uint64_t size)
{
	uint64_t end = start + size;
	if (end < start)
		end = UINT64_MAX;
	/* Counted unsigned: a set read from a damaged space map may hold
	 * more than INT64_MAX bytes, and so may what one call removes. */
	uint64_t removed = 0;
	size_t i = first_ending_after(rt, start);
	while (i < rt->nsegs && rt->segs[i].start < end) {
		range_seg_t *s = &rt->segs[i];
		uint64_t cut_lo = s->start > start ? s->start : start;
		uint64_t cut_hi = s->end < end ? s->end : end;
		if (cut_lo > s->start && cut_hi < s->end) {
			/* Hole in the middle: the segment splits in two. */
			if (reserve(rt, rt->nsegs + 1))
				return -ZFUSE_E_NOMEM;
			s = &rt->segs[i];
			uint64_t old_end = s->end;
			hist_sub(rt, s->end - s->start);
			s->end = cut_lo;
			hist_add(rt, s->end - s->start);
			insert_at(rt, i + 1, cut_hi, old_end);
			removed += cut_hi - cut_lo;
			break;
		}
		removed += cut_hi - cut_lo;
		if (cut_lo == s->start && cut_hi == s->end) {
			delete_at(rt, i);
			continue;
		}
		hist_sub(rt, s->end - s->start);
		if (cut_lo == s->start)
			s->start = cut_hi;
		else
			s->end = cut_lo;
		hist_add(rt, s->end - s->start);
		i++;
	}
	rt->space -= removed;
	return removed > INT64_MAX ? INT64_MAX : (int64_t)removed;
}

bool range_tree_contains(const range_tree_t *rt, uint64_t start, uint64_t size)
{
	size_t i = first_ending_after(rt, start);
	return i < rt->nsegs && rt->segs[i].start <= start && rt->segs[i].end >= start + size;
}

bool range_tree_intersects(const range_tree_t *rt, uint64_t start, uint64_t size)
{
	if (size == 0)
		return false;
	size_t i = first_ending_after(rt, start);
	return i < rt->nsegs && rt->segs[i].start < start + size;
}

uint64_t range_tree_overlap(const range_tree_t *rt, uint64_t start, uint64_t size)
{
	uint64_t end = start + size, total = 0;
	for (size_t i = first_ending_after(rt, start); i < rt->nsegs && rt->segs[i].start < end; i++) {
		uint64_t lo = rt->segs[i].start > start ? rt->segs[i].start : start;
		uint64_t hi = rt->segs[i].end < end ? rt->segs[i].end : end;
		total += hi - lo;
	}
	return total;
}

int range_tree_walk(const range_tree_t *rt, range_tree_fn fn, void *arg)
{
	for (size_t i = 0; i < rt->nsegs; i++) {
		int rc = fn(arg, rt->segs[i].start, rt->segs[i].end - rt->segs[i].start);
		if (rc)
			return rc;
	}
	return 0;
}

int range_tree_vacate(range_tree_t *rt, range_tree_fn fn, void *arg)
{
	int rc = 0;
	for (size_t i = 0; fn && i < rt->nsegs && rc == 0; i++)
		rc = fn(arg, rt->segs[i].start, rt->segs[i].end - rt->segs[i].start);
	rt->nsegs = 0;
	rt->space = 0;
	memset(rt->histogram, 0, sizeof(rt->histogram));
	return rc;
}

static int add_cb(void *arg, uint64_t start, uint64_t size)
{
	return range_tree_add(arg, start, size);
}

int range_tree_add_tree(range_tree_t *dst, const range_tree_t *src)
{
	return range_tree_walk(src, add_cb, dst);
}

int range_tree_add_difference(range_tree_t *dst, const range_tree_t *a, const range_tree_t *b)
{
	size_t j = 0;
	for (size_t i = 0; i < a->nsegs; i++) {
		uint64_t from = a->segs[i].start, end = a->segs[i].end;
		/* b's segments are sorted: those ending at or before this one's
		 * start can never cut a later segment of a either. */
		while (j < b->nsegs && b->segs[j].end <= from)
			j++;
		for (size_t k = j; k < b->nsegs && b->segs[k].start < end; k++) {
			if (b->segs[k].start > from) {
				int rc = range_tree_add(dst, from, b->segs[k].start - from);
				if (rc)
					return rc;
			}
			if (b->segs[k].end > from)
				from = b->segs[k].end;
		}
		if (from < end) {
			int rc = range_tree_add(dst, from, end - from);
			if (rc)
				return rc;
		}
	}
	return 0;
}

void range_tree_swap(range_tree_t *a, range_tree_t *b)
{
	range_tree_t t = *a;
	*a = *b;
	*b = t;
}

static uint64_t align_up(uint64_t x, uint64_t align)
{
	return align > 1 ? (x + align - 1) & ~(align - 1) : x;
}

/* Aligned offset in segment s at or after from where size fits, or
 * UINT64_MAX. */
static uint64_t fit_in(const range_seg_t *s, uint64_t from, uint64_t size, uint64_t align)
{
	uint64_t o = align_up(s->start > from ? s->start : from, align);
	if (o < s->start || o > s->end || s->end - o < size)
		return UINT64_MAX;
	return o;
}

int range_tree_find_first_fit(const range_tree_t *rt, uint64_t size, uint64_t align,
			      uint64_t cursor, uint64_t *offset)
{
	if (size == 0)
		return -ZFUSE_E_INVAL;
	size_t first = first_ending_after(rt, cursor);
	for (size_t i = first; i < rt->nsegs; i++) {
		uint64_t o = fit_in(&rt->segs[i], cursor, size, align);
		if (o != UINT64_MAX) {
			*offset = o;
			return 0;
		}
	}
	/* Wrap: segments before the cursor, and the cursor's own segment from
	 * its start (the part before the cursor was not tried). */
	for (size_t i = 0; i < rt->nsegs && i <= first; i++) {
		uint64_t o = fit_in(&rt->segs[i], 0, size, align);
		if (o != UINT64_MAX) {
			*offset = o;
			return 0;
		}
	}
	return -ZFUSE_E_NOSPC;
}

int range_tree_find_best_fit(const range_tree_t *rt, uint64_t size, uint64_t align,
			     uint64_t *offset)
{
	uint64_t best = UINT64_MAX, best_len = UINT64_MAX;
	for (size_t i = 0; i < rt->nsegs; i++) {
		uint64_t len = rt->segs[i].end - rt->segs[i].start;
		if (len < size || len >= best_len)
			continue;
		uint64_t o = fit_in(&rt->segs[i], 0, size, align);
		if (o != UINT64_MAX) {
			best = o;
			best_len = len;
		}
	}
	if (best == UINT64_MAX)
		return -ZFUSE_E_NOSPC;
	*offset = best;
	return 0;
}

uint64_t range_tree_largest(const range_tree_t *rt)
{
	uint64_t best = 0;
	int b = RANGE_TREE_HISTOGRAM_SIZE - 1;
	while (b >= 0 && rt->histogram[b] == 0)
		b--;
	if (b < 0)
		return 0;
	/* Only segments in the top bucket can be the largest. */
	for (size_t i = 0; i < rt->nsegs; i++) {
		uint64_t len = rt->segs[i].end - rt->segs[i].start;
		if (range_tree_bucket(len) == b && len > best)
			best = len;
	}
	return best;
}
