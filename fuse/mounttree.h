/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * mounttree.h — which datasets a `zfuse mount` shows and where, decided
 * at mount time (and grown by zf_tree_grow() when filesystems are
 * created through the daemon).
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
 * opened on first use; they never contain junctions. The list of a
 * filesystem's snapshots is the one thing that changes after the mount:
 * zf_tree_refresh_snaps() re-reads it after a snapshot was taken or
 * destroyed, replacing it whole under the tree's snap_lock, which every
 * reader of it holds.
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
	uint64_t txg;		/* creation txg: the order, and .zfs/snapshot's cookie */
	struct zf_fs *fs;	/* opened on first lookup; guarded by the tree's snap_lock */
};

/* A filesystem's snapshots at one moment, in the library's (txg) order,
 * with an index of them sorted by name for lookups. */
struct zf_snaplist {
	struct zf_snap *v;
	size_t n;
	size_t *by_name;
};

/* One open dataset: a filesystem shown in the mount, or a snapshot. */
struct zf_fs {
	zfuse_fs_t *zfs;
	char *name;		/* full dataset name */
	uint64_t root;		/* object number of its root directory */
	bool snapshot;
	/* snapdir=visible: .zfs is listed in its root. Changed by the verb
	 * thread (follow.c) while sessions read it. */
	_Atomic bool snapdir_visible;
	struct stat root_st;	/* root's attributes, for the synthetic directories' times */
	/* Filesystems only, guarded by the tree's snap_lock: their snapshots,
	 * and the opened ones that were destroyed since (nodes may still
	 * name them; freed with the filesystem). */
	struct zf_snaplist snaps;
	struct zf_fs *retired;
	struct zf_fs *next_retired;	/* in its head's retired list */
	/* Closed to be destroyed (zf_snap_release, zf_tree_close_fs): its
	 * handle is gone, requests on its nodes get ESTALE. */
	atomic_bool dead;
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
	 * comes before the mounts it holds, a mount's descendants after it.
	 * Mounts that zf_tree_grow() added follow, unsorted (they hold
	 * none). Only the thread that grows it reads it while FUSE serves. */
	struct zf_mount **mounts;
	size_t nmounts;
	char *rootmp;		/* the root's mountpoint, normalized; NULL: shows no children */
	pthread_mutex_t snap_lock;	/* every zf_fs's snaps and zf_snap.fs */
	pthread_mutex_t refresh_lock;	/* one zf_tree_refresh_snaps() at a time */
};

/*
 * Open dataset `name` (a full name) of pool as the mount root and every
 * descendant filesystem that a kernel mount would show beneath it. Errors of
 * descendants are logged and leave them out; errors of the root are
 * returned (negative ZFUSE_E* code) after logging why. Every mount but the
 * top starts PENDING.
 */
int zf_tree_build(struct zf_tree *t, zfuse_pool_t *pool, const char *name);
/*
 * Take into the tree the filesystems that zf_tree_build() would show now
 * and the tree lacks (created since, or given a mountpoint), unless a
 * mount of the tree is at their path or below it: each is opened and
 * appended to t->mounts, PENDING, with its host, and a view of its root
 * only (it holds no other mount; its host's view does not list it, so it
 * can be shown in a session of its own only). *added (malloc'd) lists
 * them. Returns 0 or a negative ZFUSE_E* code.
 */
int zf_tree_grow(struct zf_tree *t, struct zf_mount ***added, size_t *nadded);
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

/*
 * Snapshot name of filesystem head, opened on first use, handed to fn
 * under the snap_lock (so that it cannot be released meanwhile: fn makes
 * its node). Returns fn's result, -ZFUSE_E_NOENT when head has no such
 * snapshot, or the error of opening it.
 */
int zf_snap_lookup(struct zf_tree *t, struct zf_fs *head, const char *name,
		   int (*fn)(void *arg, struct zf_fs *snap), void *arg);

/*
 * Close the daemon's handle of snapshot name of head, so that the library
 * may destroy it, unless busy(arg, snap) says something still uses it
 * (-ZFUSE_E_BUSY). The zf_fs stays (retired) and is marked dead: requests
 * on nodes still naming it get ESTALE. 0 also when it was not open.
 */
int zf_snap_release(struct zf_tree *t, struct zf_fs *head, const char *name,
		    bool (*busy)(void *arg, struct zf_fs *snap), void *arg);

/*
 * Close the daemon's handles of filesystem f, shown in a mount nothing
 * serves any more, and of its opened snapshots, so that the library may
 * destroy it. f is marked dead and stays in the tree (as a mount of
 * nothing) until the tree is freed; zf_tree_grow() may show a new dataset
 * of its name at its path.
 */
void zf_tree_close_fs(struct zf_tree *t, struct zf_fs *f);

/* Call fn for every opened snapshot of every filesystem of the tree
 * (under the snap_lock: fn must not call back into the tree). */
void zf_snap_each_open(struct zf_tree *t, void (*fn)(void *arg, struct zf_fs *head,
						       const struct zf_snap *s), void *arg);

/* Call fn, under the snap_lock (so it must not call back into the tree),
 * for every snapshot of head created after txg after, in txg order, until
 * it returns nonzero (which is returned). */
int zf_snap_each(struct zf_tree *t, const struct zf_fs *head, uint64_t after,
		 int (*fn)(void *arg, const struct zf_snap *s), void *arg);

/*
 * Re-read the snapshots of every filesystem of the tree (after a snapshot
 * was taken or destroyed). Snapshots that stay keep their opened dataset.
 * changed, when not NULL, is then called (no lock held) for every name
 * that appeared or went away. Returns 0 or a negative ZFUSE_E* code (the
 * old lists are kept then).
 */
int zf_tree_refresh_snaps(struct zf_tree *t,
			  void (*changed)(void *arg, struct zf_fs *head, const char *name,
					  bool added),
			  void *arg);

#endif
