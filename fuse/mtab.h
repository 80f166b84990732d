/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * mtab.h — the kernel's mount table as zfuse needs it: which zfuse mounts
 * lie at or below a path, which device a mount point currently shows, and
 * how to unmount one (umount2() as root, fusermount3 otherwise).
 */
#ifndef ZFUSE_FUSE_MTAB_H
#define ZFUSE_FUSE_MTAB_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * All zfuse mounts (fstype fuse.zfuse, or a FUSE mount whose source is
 * "zfuse:...") at or below mountpoint (an absolute path without symlinks),
 * deepest first, from /proc/self/mountinfo. *out is a NULL-terminated
 * array of strings; free each and the array. Returns 0 or -errno.
 */
int zf_mounts_below(const char *mountpoint, char ***out);

/*
 * The device (st_dev) of the topmost mount at exactly path, from the mount
 * table: no request reaches a filesystem. Returns 0, -ENOENT when nothing
 * is mounted there, or another -errno.
 */
int zf_mount_dev(const char *path, dev_t *dev);

/*
 * The dataset a zfuse mount at exactly path shows ("pool/fs", from its
 * "zfuse:pool/fs" source), topmost mount first. *dataset is malloc'd.
 * Returns 0, -ENOENT when no zfuse mount with such a source is there, or
 * another -errno.
 */
int zf_mount_dataset(const char *path, char **dataset);

/* Unmount the mount at path (lazily: MNT_DETACH / fusermount3 -z).
 * quiet: fusermount3 prints nothing. Returns 0 or -errno. */
int zf_unmount(const char *path, bool lazy, bool quiet);

/*
 * Waiting for a daemon to finish. A serving daemon listens on an abstract
 * unix socket named after the device of its top mount and never accepts:
 * the socket goes with the process, after the pool was written and closed.
 * So a connection made before the unmount ends when the daemon is done,
 * and `zfuse unmount` returns only then (the pool's last changes are on
 * disk).
 *   zf_daemon_listen: the daemon's side; the descriptor is kept open until
 *     the process exits. Returns it or -errno.
 *   zf_daemon_connect: -ECONNREFUSED when no daemon listens for dev.
 *   zf_daemon_wait: 0 once the daemon is gone, -ETIMEDOUT; closes fd.
 */
int zf_daemon_listen(dev_t dev);
int zf_daemon_connect(dev_t dev);
int zf_daemon_wait(int fd, int timeout_ms);

#endif
