/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * mounttree.h — which datasets a `zfuse mount` shows and where, decided
 * once at mount time.
 *
 * A kernel OpenZFS pool appears as a tree of mounts: the root dataset at its
 * mountpoint and every mountable descendant filesystem at its own, covering
 * whatever directory the parent has at that path. zfuse reproduces that
 * tree: each dataset shown is a "mount" (struct zf_mount) with its path
 * relative to the top one. Each mount normally gets a FUSE session of its
 * own (its own st_dev, as under OpenZFS); a mount that cannot get one is
 * "composed" instead: its host's session shows it (and everything beneath
 * it) in place, the way a single mount shows several datasets.
 *
 * Every mount has a "view": the paths, relative to its own root, of the
 * mounts below it and of every directory on the way to one ("junctions").
 * A session only looks past the directories a filesystem stores at a
 * junction: to show a placeholder directory where a child is to be mounted
 * and the parent has none, or to show a composed child's root in place. A
 * directory node that is not on a junction never needs a path at all.
 *
 * Snapshots are reached through .zfs/snapshot of their filesystem and are
 * opened on first use; they never contain junctions.
 */
#ifndef ZFUSE_FUSE_MOUNTTREE_H
#define ZFUSE_FUSE_MOUNTTREE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include "zfuse/zfuse.h"

struct zf_fs;

struct zf_snap {
	char *name;		/* after the '@' */
	uint64_t dsobj;
	struct zf_fs *fs;	/* opened on first lookup; guarded by the tree's snap_lock */
};

/* One open dataset: a filesystem shown in the mount, or a snapshot. */
struct zf_fs {
	zfuse_fs_t *zfs;
	char *name;		/* full dataset name */
	uint64_t root;		/* object number of its root directory */
	bool snapshot;
	bool snapdir_visible;	/* snapdir=visible: .zfs is listed in its root */
	struct stat root_st;	/* root's attributes, for the synthetic directories' times */
	/* Filesystems only: their snapshots, in the library's (txg) order,
	 * and an index of them sorted by name for lookups. */
	struct zf_snap *snaps;
	size_t nsnaps;
	size_t *snap_by_name;
};

/* How a mount below the top is shown. */
enum zf_mount_state {
	ZF_MOUNT_PENDING = 0,	/* not mounted yet: its host shows a placeholder */
	ZF_MOUNT_OWN,		/* a session of its own is (or was) mounted there */
	ZF_MOUNT_COMPOSED,	/* shown inside its host's session */
};

struct zf_junction;

/* One dataset shown, and the view of everything mounted below it. */
struct zf_mount {
	struct zf_fs *fs;
	char *rel;			/* path from the top mount's root; "" for the top */
	struct zf_mount *host;		/* the mount whose directory it covers; NULL: top */
	/* enum zf_mount_state. Set by the thread that mounts the sessions,
	 * read by the sessions serving its host; it only ever moves from
	 * PENDING to OWN or COMPOSED. */
	_Atomic int state;
	/* The view: top is the mount's own root (its mount is NULL, its
	 * owner this mount's fs); junctions sorted by path, top first. */
	struct zf_junction *top;
	struct zf_junction **junctions;
	size_t njunctions;
};

struct zf_junction {
	char *path;		/* from the view's root; "" is the root */
	const char *name;	/* last component of path */
	struct zf_mount *mount;	/* mounted here, or NULL: a directory on the way */
	struct zf_junction *parent;
	struct zf_junction **kids;	/* sorted by name */
	size_t nkids;
	uint64_t stub_ino;	/* st_ino when no filesystem has this directory */
};

struct zf_tree {
	zfuse_pool_t *pool;
	struct zf_fs *root;
	/* Every mount, the top first, then sorted by rel: a host always
	 * comes before the mounts it holds, a mount's descendants after it. */
	struct zf_mount **mounts;
	size_t nmounts;
	pthread_mutex_t snap_lock;
};

/*
 * Open dataset `name` (a full name) of pool as the mount root and every
 * descendant filesystem that a kernel mount would show beneath it. Errors of
 * descendants are logged and leave them out; errors of the root are
 * returned (negative ZFUSE_E* code) after logging why. Every mount but the
 * top starts PENDING.
 */
int zf_tree_build(struct zf_tree *t, zfuse_pool_t *pool, const char *name);
/* Closes every dataset the tree opened; the pool stays open. */
void zf_tree_free(struct zf_tree *t);

static inline int zf_mount_state(const struct zf_mount *m)
{
	return atomic_load_explicit(&((struct zf_mount *)m)->state, memory_order_acquire);
}

static inline void zf_mount_set_state(struct zf_mount *m, int state)
{
	atomic_store_explicit(&m->state, state, memory_order_release);
}

const struct zf_junction *zf_junction_kid(const struct zf_junction *j, const char *name);

/* Index into head->snaps of the snapshot called name, or -1. */
long zf_snap_find(const struct zf_fs *head, const char *name);
/* The snapshot's dataset, opened on first use (thread-safe). */
int zf_snap_open(struct zf_tree *t, struct zf_fs *head, size_t idx, struct zf_fs **out);

#endif
