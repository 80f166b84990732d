/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * grow.h — the daemon's growing arrays: room for one more element, the
 * capacity doubling, the array unchanged when memory runs out.
 */
#ifndef ZFUSE_FUSE_GROW_H
#define ZFUSE_FUSE_GROW_H

#include <stdlib.h>
#include <string.h>

/* Make room in *arr (a T **, *cap elements of size bytes, n used) for one
 * more. 0, or -1 (ENOMEM; *arr and *cap unchanged). */
static inline int zf_grow(void *arr, size_t *cap, size_t n, size_t size, size_t first)
{
	void *v;

	if (n < *cap)
		return 0;
	size_t c = *cap ? 2 * *cap : first;
	/* Through memcpy: *arr is a T *, not a void *. */
	memcpy(&v, arr, sizeof(v));
	if (!(v = realloc(v, c * size)))
		return -1;
	memcpy(arr, &v, sizeof(v));
	*cap = c;
	return 0;
}

#endif
