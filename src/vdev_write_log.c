/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * vdev_write_log.c — the device write recorder (format and guarantees in
 * vdev_write_log.h). One mutex orders the records of every device of a
 * pool, so the log reads as one history. Once a record cannot be
 * appended every later write fails, because a log with a hole would
 * describe disk states that never existed.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include "vdev.h"
#include "vdev_label.h"
#include "vdev_write_log.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define WLOG_MAGIC "ZFUSEWL1"
#define WLOG_VERSION 1
#define WLOG_HEADER_SIZE 48

struct vdev_write_log {
	pthread_mutex_t lock;
	int fd;
	bool broken;		/* a record failed: nothing more is recorded */
	uint64_t seq, epoch;
	uint32_t ndevs;
};

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int write_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* Append one record; the caller holds log->lock. */
static void record(struct vdev_write_log *log, uint32_t type, uint32_t flags, uint32_t dev,
		   uint64_t offset, const void *payload, uint64_t length)
{
	if (log->broken)
		return;
	uint8_t h[WLOG_HEADER_SIZE] = { 0 };
	put32(h, type);
	put32(h + 4, flags);
	put64(h + 8, log->seq++);
	put64(h + 16, log->epoch);
	put32(h + 24, dev);
	put64(h + 32, offset);
	put64(h + 40, length);
	struct iovec iov[2] = { { h, sizeof(h) }, { (void *)payload, length } };
	if (write_all(log->fd, iov, length ? 2 : 1) != 0)
		log->broken = true;
}

int vdev_write_log_open(const char *path, const char *pool_name, struct vdev_write_log **out)
{
	struct vdev_write_log *log = calloc(1, sizeof(*log));
	if (!log)
		return -ZFUSE_E_NOMEM;
	log->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log->fd < 0) {
		free(log);
		return SET_ERROR(-ZFUSE_E_IO);
	}
	pthread_mutex_init(&log->lock, NULL);
	struct stat st;
	if (fstat(log->fd, &st) == 0 && st.st_size == 0) {
		uint8_t h[16];
		memcpy(h, WLOG_MAGIC, 8);
		put32(h + 8, WLOG_VERSION);
		put32(h + 12, WLOG_HEADER_SIZE);
		struct iovec iov = { h, sizeof(h) };
		log->broken = write_all(log->fd, &iov, 1) != 0;
	}
	record(log, WLOG_OPEN, 0, 0, 0, pool_name, strlen(pool_name));
	if (log->broken) {
		vdev_write_log_close(log);
		return SET_ERROR(-ZFUSE_E_IO);
	}
	*out = log;
	return 0;
}

int vdev_write_log_attach(struct vdev_write_log *log, struct leaf_dev *dev)
{
	pthread_mutex_lock(&log->lock);
	dev->write_log_dev = log->ndevs++;
	record(log, WLOG_DEVICE, 0, dev->write_log_dev, dev->start, dev->path, strlen(dev->path));
	bool broken = log->broken;
	pthread_mutex_unlock(&log->lock);
	if (broken)
		return SET_ERROR(-ZFUSE_E_IO);
	dev->write_log = log;
	return 0;
}

void vdev_write_log_close(struct vdev_write_log *log)
{
	if (!log)
		return;
	close(log->fd);
	pthread_mutex_destroy(&log->lock);
	free(log);
}

/* Which part of the label area a write at device offset off touches
 * (the uberblock ring is the second 128 KiB of each 256 KiB label). */
static uint32_t label_flags(const struct leaf_dev *dev, uint64_t off, uint64_t size)
{
	for (int l = 0; l < VDEV_LABELS; l++) {
		uint64_t lo = vdev_label_offset(dev->psize, l);
		if (off + size <= lo || off >= lo + VDEV_LABEL_SIZE)
			continue;
		if (off < lo)
			return WLOG_F_LABEL;
		uint64_t in = off - lo;
		if (in >= VDEV_UBERBLOCK_RING_OFFSET)
			return WLOG_F_LABEL | WLOG_F_UBERBLOCK;
		if (in >= VDEV_PHYS_OFFSET && in < VDEV_PHYS_OFFSET + VDEV_PHYS_SIZE)
			return WLOG_F_LABEL | WLOG_F_CONFIG;
		return WLOG_F_LABEL;
	}
	return 0;
}

int vdev_write_log_pwrite(const struct leaf_dev *dev, const void *buf, uint64_t size, uint64_t offset,
			  int (*do_write)(const struct leaf_dev *, const void *, uint64_t, uint64_t))
{
	struct vdev_write_log *log = dev->write_log;
	uint32_t flags = label_flags(dev, offset, size);
	pthread_mutex_lock(&log->lock);
	record(log, WLOG_WRITE, flags, dev->write_log_dev, dev->start + offset, buf, size);
	int rc = log->broken ? SET_ERROR(-ZFUSE_E_IO) : do_write(dev, buf, size, offset);
	pthread_mutex_unlock(&log->lock);
	return rc;
}

int vdev_write_log_fdatasync(const struct leaf_dev *dev)
{
	struct vdev_write_log *log = dev->write_log;
	pthread_mutex_lock(&log->lock);
	int rc = fdatasync(dev->fd);
	int err = errno;
	if (log->broken) {
		rc = -1;	/* a flush the log does not show would mislead it */
		err = EIO;
	}
	/* EINVAL: a file that cannot be synced (vdev_flush ignores it too). */
	if (rc == 0 || err == EINVAL) {
		record(log, WLOG_FLUSH, 0, dev->write_log_dev, 0, NULL, 0);
		log->epoch++;
	}
	pthread_mutex_unlock(&log->lock);
	errno = err;
	return rc;
}
