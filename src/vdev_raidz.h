/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * vdev_raidz.h — RAID-Z geometry and I/O (pool-layer.md §8): the map from
 * a block at a RAID-Z offset to columns on the children, P/Q/R parity over
 * GF(2^8), and reads that reconstruct missing or silently corrupt columns
 * until the block checksum passes. Child offsets are relative to the
 * child's allocatable space: callers add the 4 MiB label/boot reserve.
 */
#ifndef ZFUSE_VDEV_RAIDZ_H
#define ZFUSE_VDEV_RAIDZ_H

#include <stdbool.h>
#include <stdint.h>

struct raidz_geom {
	uint64_t children;
	uint64_t nparity;
	uint64_t ashift;
};

#define RAIDZ_MAX_COLS 256

struct raidz_col {
	uint64_t child;
	uint64_t offset;	/* on the child, without the 4 MiB reserve */
	uint64_t size;		/* bytes; 0 for padding columns */
};

struct raidz_map {
	uint64_t ncols;		/* scols */
	uint64_t acols;		/* columns with data or parity */
	uint64_t nparity;
	uint64_t nskip;
	struct raidz_col col[RAIDZ_MAX_COLS];
};

/* Allocated size of psize bytes (§8.2). */
uint64_t vdev_raidz_asize(const struct raidz_geom *g, uint64_t psize);

/* Map of a block; returns 0 or -ZFUSE_E_CORRUPT for impossible geometry. */
int vdev_raidz_map(const struct raidz_geom *g, uint64_t offset, uint64_t psize,
		   struct raidz_map *rm);

typedef int (*raidz_child_read_fn)(void *arg, uint64_t child, uint64_t offset, void *buf,
				   uint64_t size);
typedef bool (*raidz_verify_fn)(void *arg, const void *data, uint64_t psize);

/*
 * Read psize bytes of the block at offset into out. Unreadable columns are
 * erasures; if the data then fails verify, combinations of further columns
 * (up to nparity erasures in all) are reconstructed until it passes.
 * bad_children (may be NULL) receives a bit per child found bad (children
 * >= 64 are not reported). Errors: ZFUSE_E_CHECKSUM, ZFUSE_E_MISSING_DEV
 * (more unreadable columns than parity), ZFUSE_E_CORRUPT, ZFUSE_E_NOMEM.
 */
int vdev_raidz_read(const struct raidz_geom *g, uint64_t offset, uint64_t psize, void *out,
		    raidz_child_read_fn read, void *read_arg, raidz_verify_fn verify,
		    void *verify_arg, uint64_t *bad_children);

/*
 * Lay out psize bytes of data as RAID-Z columns with parity and hand each
 * non-empty column to write() (for the write path and for tests).
 */
int vdev_raidz_build_columns(const struct raidz_geom *g, uint64_t offset, const void *data,
			     uint64_t psize,
			     int (*write)(void *arg, uint64_t child, uint64_t offset,
					  const void *buf, uint64_t size),
			     void *arg);

#endif
