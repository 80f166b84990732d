/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * vdev_label.c — reading and validating the label regions of a leaf:
 * the 112 KiB config nvlist and the uberblock ring, both protected by a
 * SHA-256 trailer whose verifier is the region's device offset (§1.3).
 */
#include <stdlib.h>
#include <string.h>
#include "byteorder.h"
#include "dmu_byteswap.h"
#include "vdev_label.h"
#include "zio_checksum.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

uint64_t vdev_label_offset(uint64_t psize, int l)
{
	return (uint64_t)l * VDEV_LABEL_SIZE +
	       (l < 2 ? 0 : psize - VDEV_LABELS * VDEV_LABEL_SIZE);
}

uint64_t vdev_uberblock_slot_size(uint64_t top_ashift)
{
	uint64_t shift = top_ashift;
	if (shift < UBERBLOCK_SHIFT)
		shift = UBERBLOCK_SHIFT;
	if (shift > MAX_UBERBLOCK_SHIFT)
		shift = MAX_UBERBLOCK_SHIFT;
	return 1ULL << shift;
}

static int read_checked_region(const struct leaf_dev *dev, uint64_t off, uint64_t size, uint8_t *buf)
{
	int rc = leaf_dev_pread(dev, buf, size, off);
	if (rc)
		return rc;
	zio_cksum_t verifier = { { off, 0, 0, 0 } };
	return zio_checksum_verify_embedded(ZIO_CHECKSUM_LABEL, buf, size, &verifier);
}

int vdev_label_read_config(const struct leaf_dev *dev, int l, nvlist_t **out)
{
	*out = NULL;
	uint8_t *buf = malloc(VDEV_PHYS_SIZE);
	if (!buf)
		return -ZFUSE_E_NOMEM;
	uint64_t off = vdev_label_offset(dev->psize, l) + VDEV_PHYS_OFFSET;
	int rc = read_checked_region(dev, off, VDEV_PHYS_SIZE, buf);
	if (rc == 0)
		rc = nvlist_unpack(buf, VDEV_PHYS_SIZE - 40, out);
	free(buf);
	return rc;
}

int vdev_label_read_best(struct leaf_dev *dev)
{
	nvlist_t *best = NULL;
	uint64_t best_txg = 0;
	for (int l = 0; l < VDEV_LABELS; l++) {
		nvlist_t *nv;
		dev->label_valid[l] = false;
		if (vdev_label_read_config(dev, l, &nv) != 0)
			continue;
		uint64_t txg = 0, pool_guid = 0;
		const char *name;
		/* Aux devices (spares, cache) carry no pool name: not pool members. */
		if (nvlist_lookup_uint64(nv, "pool_guid", &pool_guid) != 0 ||
		    nvlist_lookup_string(nv, "name", &name) != 0) {
			nvlist_free(nv);
			continue;
		}
		dev->label_valid[l] = true;
		nvlist_lookup_uint64(nv, "txg", &txg);
		if (!best || txg > best_txg) {
			nvlist_free(best);
			best = nv;
			best_txg = txg;
		} else {
			nvlist_free(nv);
		}
	}
	if (!best)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	dev->config = best;
	dev->config_txg = best_txg;
	nvlist_lookup_uint64(best, "pool_guid", &dev->pool_guid);
	nvlist_lookup_uint64(best, "guid", &dev->guid);
	nvlist_lookup_uint64(best, "top_guid", &dev->top_guid);
	nvlist_lookup_string(best, "name", &dev->pool_name);
	return 0;
}

nvlist_t *vdev_label_config_for_txg(const struct leaf_dev *dev, uint64_t txg)
{
	nvlist_t *best = NULL;
	uint64_t best_txg = 0;
	for (int l = 0; l < VDEV_LABELS; l++) {
		nvlist_t *nv;
		if (vdev_label_read_config(dev, l, &nv) != 0)
			continue;
		uint64_t t = 0;
		nvlist_lookup_uint64(nv, "txg", &t);
		if (t <= txg && (!best || t > best_txg)) {
			nvlist_free(best);
			best = nv;
			best_txg = t;
		} else {
			nvlist_free(nv);
		}
	}
	return best;
}

int vdev_uberblock_read_slot(const struct leaf_dev *dev, int label, uint64_t slot,
			     uint64_t top_ashift, uberblock_t *ub)
{
	uint64_t ss = vdev_uberblock_slot_size(top_ashift);
	if (slot >= VDEV_UBERBLOCK_RING_SIZE / ss)
		return -ZFUSE_E_INVAL;
	uint64_t off = vdev_label_offset(dev->psize, label) + VDEV_UBERBLOCK_RING_OFFSET + slot * ss;
	uint8_t buf[1 << MAX_UBERBLOCK_SHIFT];
	int rc = leaf_dev_pread(dev, buf, ss, off);
	if (rc)
		return rc;
	uint64_t magic = le64(buf);
	bool bswap = magic == __builtin_bswap64(UBERBLOCK_MAGIC);
	if (magic != UBERBLOCK_MAGIC && !bswap)
		return -ZFUSE_E_NOENT;
	zio_cksum_t verifier = { { off, 0, 0, 0 } };
	rc = zio_checksum_verify_embedded(ZIO_CHECKSUM_LABEL, buf, ss, &verifier);
	if (rc)
		return rc;
	/* Written by a machine of the other byte order: every field is a
	 * uint64 (the root bp included), so one swap makes it native. */
	if (bswap)
		byteswap_uint64_array(buf, sizeof(*ub));
	memcpy(ub, buf, sizeof(*ub));
	return 0;
}

static uint64_t mmp_seq(const uberblock_t *ub)
{
	if (ub->ub_mmp_magic == MMP_MAGIC && (ub->ub_mmp_config & 2))
		return (ub->ub_mmp_config >> 32) & 0xffff;
	return 0;
}

int vdev_uberblock_compare(const uberblock_t *a, const uberblock_t *b)
{
	if (a->ub_txg != b->ub_txg)
		return a->ub_txg < b->ub_txg ? -1 : 1;
	if (a->ub_timestamp != b->ub_timestamp)
		return a->ub_timestamp < b->ub_timestamp ? -1 : 1;
	uint64_t sa = mmp_seq(a), sb = mmp_seq(b);
	if (sa != sb)
		return sa < sb ? -1 : 1;
	return 0;
}

/* ---- writing ---------------------------------------------------------------- */

/* Write a region whose last 40 bytes carry the label checksum trailer. */
static int write_checked_region(const struct leaf_dev *dev, uint64_t off, uint8_t *buf, uint64_t size)
{
	zio_cksum_t verifier = { { off, 0, 0, 0 } };
	int rc = zio_checksum_fill_embedded(ZIO_CHECKSUM_LABEL, buf, size, &verifier);
	if (rc)
		return rc;
	return leaf_dev_pwrite(dev, buf, size, off);
}

int vdev_label_write_config(const struct leaf_dev *dev, int l, const nvlist_t *config)
{
	uint8_t *buf = calloc(1, VDEV_PHYS_SIZE);
	if (!buf)
		return -ZFUSE_E_NOMEM;
	size_t used;
	int rc = nvlist_pack_xdr(config, buf, VDEV_PHYS_SIZE - 40, &used);
	if (rc == 0)
		rc = write_checked_region(dev, vdev_label_offset(dev->psize, l) + VDEV_PHYS_OFFSET, buf,
					  VDEV_PHYS_SIZE);
	free(buf);
	return rc;
}

int vdev_uberblock_write(const struct leaf_dev *dev, int l, uint64_t slot, uint64_t top_ashift,
			 const uberblock_t *ub)
{
	uint64_t ss = vdev_uberblock_slot_size(top_ashift);
	if (slot >= VDEV_UBERBLOCK_RING_SIZE / ss)
		return -ZFUSE_E_INVAL;
	uint8_t buf[1 << MAX_UBERBLOCK_SHIFT];
	memset(buf, 0, ss);
	memcpy(buf, ub, sizeof(*ub));
	return write_checked_region(dev, vdev_label_offset(dev->psize, l) + VDEV_UBERBLOCK_RING_OFFSET +
					 slot * ss, buf, ss);
}
