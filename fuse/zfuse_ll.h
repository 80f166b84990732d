/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfuse_ll.h — the FUSE low-level operations of a mount, read-only or
 * read-write.
 *
 * The operations translate kernel requests into libzfuse calls on the
 * datasets of one mount of a zf_tree (and of the mounts composed into it);
 * they hold no on-disk knowledge. Each FUSE session gets its own struct
 * zf_ll as userdata (sessions.c), with a node table of its own.
 */
#ifndef ZFUSE_FUSE_ZFUSE_LL_H
#define ZFUSE_FUSE_ZFUSE_LL_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>

#include "devio.h"
#include "mounttree.h"
#include "nodes.h"

/* OpenZFS's inode numbers of the .zfs control directories (zfs_ctldir.h). */
#define ZFSCTL_INO_ROOT		0x0000FFFFFFFFFFFFULL
#define ZFSCTL_INO_SHARES	0x0000FFFFFFFFFFFEULL
#define ZFSCTL_INO_SNAPDIR	0x0000FFFFFFFFFFFDULL

struct zf_ll {
	struct zf_tree *tree;		/* the pool and the snapshot lock */
	const struct zf_mount *mount;	/* the dataset this session shows at its root */
	struct zf_nodes *nodes;
	double timeout;		/* entry and attribute cache lifetime, seconds */
	bool writable;		/* mounted read-write (its dataset takes writes) */
	bool writeback;		/* the kernel caches writes (set at FUSE init) */
	struct zf_devio io;	/* what the device hooks saw and negotiated */
	struct zf_prefill *prefill;	/* NULL: the kernel asks for every page itself */
	/*
	 * Held shared by the calls that can take an object's last link away
	 * (unlink, rmdir, rename) and exclusively while a forgotten node is
	 * dropped and the library told: so a lookup of the same object cannot
	 * slip in between and see it freed under a fresh node.
	 */
	pthread_rwlock_t forget_lock;
};

/* The root node's target for zf_nodes_new(). */
struct zf_target zf_ll_root_target(const struct zf_mount *m);

extern const struct fuse_lowlevel_ops zf_ll_ops;

#endif
