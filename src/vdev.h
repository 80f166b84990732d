/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * vdev.h — the virtual device tree of an imported pool: leaf devices (image
 * files or GPT partitions inside them), mirrors, RAID-Z, and the mapping of
 * a DVA (top-level vdev, offset) to bytes on the leaves (pool-layer.md §1.5,
 * §8). Reads take a verify callback so that every layer with redundancy can
 * try its alternatives (other mirror sides, parity reconstruction) until
 * the block checksum passes.
 */
#ifndef ZFUSE_VDEV_H
#define ZFUSE_VDEV_H

#include <stdbool.h>
#include <stdint.h>
#include "nvpair.h"

#define VDEV_LABEL_SIZE (256ULL << 10)
#define VDEV_LABELS 4
#define VDEV_LABEL_START_SIZE (4ULL << 20)
#define VDEV_LABEL_END_SIZE (512ULL << 10)
#define VDEV_PHYS_OFFSET 0x4000
#define VDEV_PHYS_SIZE (112ULL << 10)
#define VDEV_UBERBLOCK_RING_OFFSET 0x20000
#define VDEV_UBERBLOCK_RING_SIZE (128ULL << 10)

enum vdev_kind {
	VDEV_KIND_ROOT,
	VDEV_KIND_MIRROR,	/* also "replacing" and "spare": every child holds the data */
	VDEV_KIND_RAIDZ,
	VDEV_KIND_LEAF,		/* "disk" or "file" */
	VDEV_KIND_MISSING,
	VDEV_KIND_HOLE,
	VDEV_KIND_UNSUPPORTED,	/* draid, indirect: refused at import */
};

/* One opened device image (or a partition of one) that carries ZFS labels. */
struct leaf_dev {
	int fd;
	char *path;
	uint64_t start;		/* byte offset of the ZFS partition in the file */
	uint64_t psize;		/* usable size, rounded down to 256 KiB */
	nvlist_t *config;	/* best valid label config */
	uint64_t config_txg;
	uint64_t pool_guid, guid, top_guid;
	const char *pool_name;	/* points into config */
	bool claimed;		/* taken into the vdev tree */
	uint64_t checksum_errors;	/* copies from this device that failed (atomic) */
	uint64_t read_errors, write_errors;	/* failed reads and writes of blocks (atomic) */
	bool label_valid[VDEV_LABELS];
	struct vdev_write_log *write_log;	/* ZFUSE_WRITE_LOG recorder; NULL: off */
	uint32_t write_log_dev;	/* this device's number in it */
};

typedef struct vdev vdev_t;
struct vdev {
	enum vdev_kind kind;
	char type[16];
	uint64_t id, guid;
	uint64_t ashift, nparity, asize;
	uint64_t metaslab_array, metaslab_shift;
	bool is_log;
	vdev_t *parent;
	vdev_t **child;
	uint64_t nchild;
	struct leaf_dev *dev;	/* leaves: NULL when the device is missing */
};

/* true when data (psize bytes) matches the checksum the caller expects. */
typedef bool (*vdev_verify_fn)(void *arg, const void *data, uint64_t psize);

/*
 * Probe a path: a regular file or block device is examined for labels at
 * offset 0 and, if it carries a GPT, in each partition; a directory has all
 * its regular files probed. Every device with at least one valid label is
 * appended to *devs (realloc'd, *ndevs updated).
 * Errors: ZFUSE_E_NOENT (path missing), ZFUSE_E_IO.
 */
int vdev_probe_path(const char *path, struct leaf_dev ***devs, size_t *ndevs,
		    void (*log)(void *, int, const char *), void *log_arg);
void leaf_dev_close(struct leaf_dev *dev);

/* The same, but devices without any valid label are kept too (config
 * NULL), for inspecting damaged images. */
int vdev_probe_path_raw(const char *path, struct leaf_dev ***devs, size_t *ndevs);

/* Read raw bytes of a leaf at a device offset (label area included). */
int leaf_dev_pread(const struct leaf_dev *dev, void *buf, uint64_t size, uint64_t offset);

/* Build a vdev subtree from a vdev_tree nvlist. */
int vdev_from_nvlist(const nvlist_t *nv, vdev_t *parent, vdev_t **out);
void vdev_free(vdev_t *vd);

/* Attach devices to leaves by guid; returns the number of leaves missing. */
uint64_t vdev_attach_devices(vdev_t *vd, struct leaf_dev **devs, size_t ndevs);

/* Sum of the guids of every vdev in the tree (§2.10 step 6). */
uint64_t vdev_guid_sum(const vdev_t *vd);

/* Whether the subtree can still deliver its data with the devices present. */
bool vdev_readable(const vdev_t *vd);

/*
 * Read size bytes at offset (DVA offset, in bytes) of top-level vdev vd.
 * The read is padded to the vdev's sector size internally. verify may be
 * NULL. Returns 0, -ZFUSE_E_CHECKSUM when no alternative verified,
 * -ZFUSE_E_IO / -ZFUSE_E_MISSING_DEV when the data cannot be read.
 */
int vdev_read(vdev_t *vd, uint64_t offset, void *buf, uint64_t size,
	      vdev_verify_fn verify, void *verify_arg);

/*
 * Damage repaired by redundancy on this thread so far: a mirror side or
 * RAID-Z column that failed its checksum while the block was still
 * delivered intact. Inspectors compare it before and after a read.
 */
extern __thread uint64_t vdev_repairs;

/* Allocated size of psize bytes on top-level vdev vd (RAID-Z parity and
 * padding included). */
uint64_t vdev_psize_to_asize(const vdev_t *vd, uint64_t psize);

/* ---- writing (vdev_write.c) ---- */

/* Raw write at a device offset (labels included). Errors: ZFUSE_E_IO,
 * ZFUSE_E_NOSPC (the image file's filesystem is full). */
int leaf_dev_pwrite(const struct leaf_dev *dev, const void *buf, uint64_t size, uint64_t offset);
/* Reopen the image read-write and lock it against other writers (flock).
 * Errors: ZFUSE_E_ROFS (no permission), ZFUSE_E_BUSY (another process
 * writes it), ZFUSE_E_IO. */
int leaf_dev_reopen_rw(struct leaf_dev *dev);
/* Write psize bytes at a DVA offset of top-level vdev vd: padded to the
 * allocated size, to every mirror side, as RAID-Z columns with parity. */
int vdev_write(vdev_t *vd, uint64_t offset, const void *buf, uint64_t psize);
/* What a scrub checks beyond the block checksum: whether every leaf
 * holds what vdev_write would write there for these bytes (each mirror
 * side, each RAID-Z column, parity included). *mismatched: leaves that
 * differ (each also counted as a checksum error of its device, or a read
 * error when it cannot be read). Errors: as vdev_write's layout. */
int vdev_compare(vdev_t *vd, uint64_t offset, const void *buf, uint64_t psize, uint64_t *mismatched);
/* fdatasync every leaf below vd. */
int vdev_flush(vdev_t *vd);

/* Deflate ratio of a top-level vdev, for dsize (object-layer.md §0). */
uint64_t vdev_deflate_ratio(const vdev_t *vd);

#endif
