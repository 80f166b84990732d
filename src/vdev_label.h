/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * vdev_label.h — the four labels of a leaf device: config nvlists and the
 * uberblock rings (pool-layer.md §1, §3), with their embedded checksums.
 */
#ifndef ZFUSE_VDEV_LABEL_H
#define ZFUSE_VDEV_LABEL_H

#include <stdbool.h>
#include <stdint.h>
#include "blkptr.h"
#include "vdev.h"

#define UBERBLOCK_MAGIC 0x00bab10cULL
#define MMP_MAGIC 0xa11cea11ULL
#define UBERBLOCK_SHIFT 10
#define MAX_UBERBLOCK_SHIFT 13

typedef struct uberblock {
	uint64_t ub_magic;
	uint64_t ub_version;
	uint64_t ub_txg;
	uint64_t ub_guid_sum;
	uint64_t ub_timestamp;
	blkptr_t ub_rootbp;
	uint64_t ub_software_version;
	uint64_t ub_mmp_magic;
	uint64_t ub_mmp_delay;
	uint64_t ub_mmp_config;
	uint64_t ub_checkpoint_txg;
	uint64_t ub_raidz_reflow_info;
} uberblock_t;

_Static_assert(sizeof(uberblock_t) == 216, "uberblock_t is 216 bytes");

/* Absolute leaf offset of label l (0..3) of a device of usable size psize. */
uint64_t vdev_label_offset(uint64_t psize, int l);

/* Size of an uberblock slot for a top-level vdev of the given ashift. */
uint64_t vdev_uberblock_slot_size(uint64_t top_ashift);

/*
 * Read all four label configs of dev; keep the valid one with the highest
 * txg in dev->config and fill the identity fields. Records which labels
 * were valid. Returns 0, or -ZFUSE_E_CORRUPT when no label is valid.
 */
int vdev_label_read_best(struct leaf_dev *dev);

/*
 * Read label l's config. *out is NULL-able; *valid tells whether the
 * checksum held. Returns 0 when an nvlist was decoded.
 */
int vdev_label_read_config(const struct leaf_dev *dev, int l, nvlist_t **out);

/* Config of the label with the largest txg <= txg (§1.6), or NULL. */
nvlist_t *vdev_label_config_for_txg(const struct leaf_dev *dev, uint64_t txg);

/* Load one uberblock slot: 0 when the slot holds a checksummed uberblock
 * (byte-swapped ones are reported as -ZFUSE_E_UNSUPPORTED), else an error. */
int vdev_uberblock_read_slot(const struct leaf_dev *dev, int label, uint64_t slot,
			     uint64_t top_ashift, uberblock_t *ub);

/* OpenZFS's ordering: txg, then timestamp, then MMP sequence. */
int vdev_uberblock_compare(const uberblock_t *a, const uberblock_t *b);

/* ---- writing ---- */

/* Pack config into label l's 112 KiB config area with its trailer.
 * Errors: ZFUSE_E_RANGE (config too big), ZFUSE_E_IO. */
int vdev_label_write_config(const struct leaf_dev *dev, int l, const nvlist_t *config);

/* Write ub into slot of label l's uberblock ring (slot size from the
 * top-level vdev's ashift), with its own trailer checksum. */
int vdev_uberblock_write(const struct leaf_dev *dev, int l, uint64_t slot, uint64_t top_ashift,
			 const uberblock_t *ub);

#endif
