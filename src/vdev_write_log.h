/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * vdev_write_log.h — the device write recorder (ZFUSE_WRITE_LOG): a
 * testing aid that appends every write the pool makes to its device files,
 * and every flush, to a log file, so that a harness can rebuild any disk
 * state a power cut could leave (tests/crash/powercut.py). Recording sits
 * at the bottom of the vdev layer, where all device writes pass, and costs
 * one pointer test per write when the log is off.
 *
 * File format (all integers little-endian): a 16-byte file header
 * "ZFUSEWL1", u32 version (1), u32 record header size (48); then records,
 * each a 48-byte header followed by `length` payload bytes:
 *   u32 type     WLOG_OPEN, WLOG_DEVICE, WLOG_WRITE or WLOG_FLUSH
 *   u32 flags    writes: WLOG_F_LABEL (label region), WLOG_F_UBERBLOCK
 *                (uberblock ring), WLOG_F_CONFIG (label's vdev_phys config)
 *   u64 seq      record number since the OPEN record
 *   u64 epoch    flushes recorded since the OPEN record, before this one
 *   u32 device   number given by the device's DEVICE record
 *   u32 reserved 0
 *   u64 offset   writes: byte offset in the device file (partition start
 *                included, so the bytes replay onto the file as they are)
 *   u64 length   payload bytes: OPEN the pool name, DEVICE the path,
 *                WRITE the bytes written, FLUSH none
 * While recording, each write is recorded and then made, and each flush
 * made and then recorded, under one lock: the log's order is the order of
 * the writes and flushes, and every write recorded before a FLUSH of its
 * device was on stable storage when the FLUSH was recorded. A write whose
 * record cannot be appended is not made (the pool fails it as an I/O
 * error) so that the log never misses a write. Every pool open appends an OPEN record (device
 * numbers and epochs restart there); the file is never truncated.
 */
#ifndef ZFUSE_VDEV_WRITE_LOG_H
#define ZFUSE_VDEV_WRITE_LOG_H

#include <stdint.h>

struct leaf_dev;
struct vdev_write_log;

enum {
	WLOG_OPEN = 1,
	WLOG_DEVICE = 2,
	WLOG_WRITE = 3,
	WLOG_FLUSH = 4,
};
enum {
	WLOG_F_LABEL = 1,
	WLOG_F_UBERBLOCK = 2,
	WLOG_F_CONFIG = 4,
};

/* Open (create or append to) the log at path and record the pool's open.
 * Errors: ZFUSE_E_IO, ZFUSE_E_NOMEM. */
int vdev_write_log_open(const char *path, const char *pool_name, struct vdev_write_log **out);
/* Record dev's path under the next device number; its later writes and
 * flushes are recorded. */
int vdev_write_log_attach(struct vdev_write_log *log, struct leaf_dev *dev);
void vdev_write_log_close(struct vdev_write_log *log);

/* leaf_dev_pwrite of a recorded device: records the write, then makes it
 * with do_write (the plain pwrite loop). Returns do_write's result, or
 * -ZFUSE_E_IO when the record could not be appended. */
int vdev_write_log_pwrite(const struct leaf_dev *dev, const void *buf, uint64_t size, uint64_t offset,
			  int (*do_write)(const struct leaf_dev *, const void *, uint64_t, uint64_t));
/* fdatasync dev's file and record the flush, the log locked throughout
 * (so that the log's order is the order of durability). Returns what
 * fdatasync returned. */
int vdev_write_log_fdatasync(const struct leaf_dev *dev);

#endif
