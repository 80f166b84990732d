/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * vdev_write.c — putting bytes on the leaves: a DVA's block on a leaf,
 * every side of a mirror, RAID-Z columns with parity; flushing leaves
 * between the phases of a txg commit; reopening images for writing.
 * Every byte the library puts on a device passes leaf_dev_pwrite, which
 * is why the write recorder (vdev_write_log.c) hooks in there.
 * Writes go to the whole padded allocation (asize) so parity and mirror
 * sides never keep stale tails.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include "vdev.h"
#include "vdev_raidz.h"
#include "vdev_write_log.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

static int pwrite_all(const struct leaf_dev *dev, const void *buf, uint64_t size, uint64_t offset)
{
	const uint8_t *p = buf;
	uint64_t done = 0;
	while (done < size) {
		ssize_t w = pwrite(dev->fd, p + done, size - done, (off_t)(dev->start + offset + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return errno == ENOSPC ? -ZFUSE_E_NOSPC : SET_ERROR(-ZFUSE_E_IO);
		done += (uint64_t)w;
	}
	return 0;
}

int leaf_dev_pwrite(const struct leaf_dev *dev, const void *buf, uint64_t size, uint64_t offset)
{
	if (offset > dev->psize || size > dev->psize - offset)
		return SET_ERROR(-ZFUSE_E_IO);
	if (dev->write_log)
		return vdev_write_log_pwrite(dev, buf, size, offset, pwrite_all);
	return pwrite_all(dev, buf, size, offset);
}

int leaf_dev_reopen_rw(struct leaf_dev *dev)
{
	int fd = open(dev->path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == EACCES || errno == EROFS || errno == EPERM ? -ZFUSE_E_ROFS : SET_ERROR(-ZFUSE_E_IO);
	/* Two writers of one pool destroy it (each overwrites the other's
	 * uberblocks and reuses its free space). OpenZFS guards with the
	 * hostid and MMP; a lock on the device file does it between processes
	 * of one machine, and the kernel drops it when a writer dies. */
	if (flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
		close(fd);
		return -ZFUSE_E_BUSY;
	}
	close(dev->fd);
	dev->fd = fd;
	return 0;
}

/*
 * Compare instead of write (vdev_compare): the same layout code decides
 * what each leaf must hold, and a leaf whose bytes differ is counted.
 */
struct write_op {
	bool compare;
	uint64_t mismatched;	/* leaves whose bytes differ */
};

static int vdev_write_child(vdev_t *vd, uint64_t offset, const void *buf, uint64_t size,
			    struct write_op *op);

struct raidz_write_arg {
	vdev_t *vd;
	struct write_op *op;
};

static int raidz_child_write(void *arg, uint64_t child, uint64_t offset, const void *buf,
			     uint64_t size)
{
	struct raidz_write_arg *a = arg;
	if (child >= a->vd->nchild)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	return vdev_write_child(a->vd->child[child], offset, buf, size, a->op);
}

static int leaf_compare(vdev_t *vd, uint64_t devoff, const void *buf, uint64_t size,
			struct write_op *op)
{
	uint8_t *tmp = malloc(size ? size : 1);
	if (!tmp)
		return -ZFUSE_E_NOMEM;
	int rc = leaf_dev_pread(vd->dev, tmp, size, devoff);
	if (rc != 0 || memcmp(tmp, buf, size) != 0) {
		op->mismatched++;
		__atomic_add_fetch(rc ? &vd->dev->read_errors : &vd->dev->checksum_errors, 1,
				   __ATOMIC_RELAXED);
	}
	free(tmp);
	return 0;
}

static int vdev_write_child(vdev_t *vd, uint64_t offset, const void *buf, uint64_t size,
			    struct write_op *op)
{
	switch (vd->kind) {
	case VDEV_KIND_LEAF: {
		if (!vd->dev)
			return -ZFUSE_E_MISSING_DEV;
		uint64_t devoff = offset + VDEV_LABEL_START_SIZE;
		if (offset > UINT64_MAX - VDEV_LABEL_START_SIZE ||
		    devoff + size > vd->dev->psize - VDEV_LABEL_END_SIZE)
			return SET_ERROR(-ZFUSE_E_CORRUPT);
		if (op->compare)
			return leaf_compare(vd, devoff, buf, size, op);
		int rc = leaf_dev_pwrite(vd->dev, buf, size, devoff);
		if (rc)
			__atomic_add_fetch(&vd->dev->write_errors, 1, __ATOMIC_RELAXED);
		return rc;
	}
	case VDEV_KIND_MIRROR: {
		/* Every present side gets the block; one good side is enough. */
		int ok = 0, rc = -ZFUSE_E_MISSING_DEV;
		for (uint64_t i = 0; i < vd->nchild; i++) {
			int r = vdev_write_child(vd->child[i], offset, buf, size, op);
			if (r == 0)
				ok++;
			else if (r != -ZFUSE_E_MISSING_DEV)
				rc = r;
		}
		return ok ? 0 : rc;
	}
	case VDEV_KIND_RAIDZ: {
		struct raidz_geom g = { .children = vd->nchild, .nparity = vd->nparity, .ashift = vd->ashift };
		struct raidz_write_arg a = { vd, op };
		return vdev_raidz_build_columns(&g, offset, buf, size, raidz_child_write, &a);
	}
	case VDEV_KIND_MISSING:
		return -ZFUSE_E_MISSING_DEV;
	default:
		return -ZFUSE_E_UNSUPPORTED;
	}
}

static int write_or_compare(vdev_t *vd, uint64_t offset, const void *buf, uint64_t psize,
			    struct write_op *op)
{
	if (vd->kind == VDEV_KIND_RAIDZ)
		return vdev_write_child(vd, offset, buf, psize, op);
	uint64_t asize = vdev_psize_to_asize(vd, psize);
	if (asize == psize)
		return vdev_write_child(vd, offset, buf, psize, op);
	uint8_t *tmp = calloc(1, asize);
	if (!tmp)
		return -ZFUSE_E_NOMEM;
	memcpy(tmp, buf, psize);
	int rc = vdev_write_child(vd, offset, tmp, asize, op);
	free(tmp);
	return rc;
}

int vdev_write(vdev_t *vd, uint64_t offset, const void *buf, uint64_t psize)
{
	struct write_op op = { false, 0 };
	return write_or_compare(vd, offset, buf, psize, &op);
}

int vdev_compare(vdev_t *vd, uint64_t offset, const void *buf, uint64_t psize, uint64_t *mismatched)
{
	struct write_op op = { true, 0 };
	int rc = write_or_compare(vd, offset, buf, psize, &op);
	*mismatched = op.mismatched;
	return rc;
}

int vdev_flush(vdev_t *vd)
{
	if (vd->kind == VDEV_KIND_LEAF) {
		if (!vd->dev)
			return 0;
		int r = vd->dev->write_log ? vdev_write_log_fdatasync(vd->dev) : fdatasync(vd->dev->fd);
		if (r != 0 && errno != EINVAL)
			return SET_ERROR(-ZFUSE_E_IO);
		return 0;
	}
	int rc = 0;
	for (uint64_t i = 0; i < vd->nchild; i++) {
		int r = vdev_flush(vd->child[i]);
		if (r)
			rc = r;
	}
	return rc;
}
