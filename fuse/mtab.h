/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * mtab.h — the kernel's mount table as zfuse needs it: which zfuse mounts
 * lie at or below a path, which device a mount point currently shows, and
 * how to unmount one (umount2() as root, fusermount3 otherwise).
 */
#ifndef ZFUSE_FUSE_MTAB_H
#define ZFUSE_FUSE_MTAB_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
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
 * unix socket named after its top mount and never accepts:
 * the socket goes with the process, after the pool was written and closed.
 * So a connection made before the unmount ends when the daemon is done,
 * and `zfuse unmount` returns only then (the pool's last changes are on
 * disk). The socket alone is not enough: a daemon whose sessions did not
 * stop leaves by _exit() with the pool (and its lock on the image) still
 * open, and the kernel may close the socket before the image; so the
 * watch also holds a pidfd of the listening process (SO_PEERCRED) and
 * waits for the whole process to be gone, files and locks released.
 * The name is the mount's unique id where the kernel has them (Linux 6.8,
 * zf_mount_unique_id; 0 where not), else its device number: device
 * numbers are reused as soon as a mount is gone, while its daemon may
 * still be writing (a lazy unmount), and a new mount's daemon could not
 * take the name, nor an unmount find it.
 *   zf_daemon_listen: the daemon's side; the descriptor is kept open until
 *     the process exits. Returns it or -errno.
 *   zf_daemon_connect: 0, or -ECONNREFUSED when no daemon listens for dev.
 *     The pidfd is -1 when the listener is the calling process itself (it
 *     cannot wait for its own exit) or the kernel has no pidfd_open.
 *   zf_daemon_watch_poll: what to poll for the daemon's end (its pidfd,
 *     else its socket).
 *   zf_daemon_wait: 0 once the daemon is gone, -ETIMEDOUT; closes the
 *     watch's descriptors.
 */
struct zf_daemon_watch {
	int sock;
	int pidfd;
};
uint64_t zf_mount_unique_id(const char *path);
int zf_daemon_listen(dev_t dev, uint64_t mnt_id);
/* The daemon of the mount of dev at path: listens by the mount's unique id
 * and, where that name is free, by dev too, for the unmounts that cannot
 * learn the id (statx is refused to users a mount without allow_other
 * keeps out, root included). Returns a listening descriptor or -errno. */
int zf_daemon_listen_mount(dev_t dev, const char *path);
int zf_daemon_connect(dev_t dev, uint64_t mnt_id, struct zf_daemon_watch *w);
struct pollfd zf_daemon_watch_poll(const struct zf_daemon_watch *w);
int zf_daemon_wait(struct zf_daemon_watch *w, int timeout_ms);

#endif
