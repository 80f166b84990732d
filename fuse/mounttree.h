/*
 * mounttree.h — what one zfuse mount shows, decided once at mount time.
 *
 * A kernel OpenZFS pool appears as a tree of mounts: the root dataset at its
 * mountpoint and every mountable descendant filesystem at its own, covering
 * whatever directory the parent has at that path. zfuse shows that whole
 * tree inside one FUSE mount. The paths where something is mounted, and
 * every directory on the way to one, are "junctions": the only places where
 * the daemon must look past the directory a filesystem stores. A directory
 * node that is not on a junction never needs a path at all.
 *
 * Snapshots are reached through .zfs/snapshot of their filesystem and are
 * opened on first use; they never contain junctions.
 */
#ifndef ZFUSE_FUSE_MOUNTTREE_H
#define ZFUSE_FUSE_MOUNTTREE_H

#include <pthread.h>
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
	struct stat root_st;	/* root's attributes, for the synthetic directories' times */
	/* Filesystems only: their snapshots, in the library's (txg) order,
	 * and an index of them sorted by name for lookups. */
	struct zf_snap *snaps;
	size_t nsnaps;
	size_t *snap_by_name;
};

struct zf_junction {
	char *path;		/* from the mount root; "" is the root */
	const char *name;	/* last component of path */
	struct zf_fs *fs;	/* mounted here, or NULL: a directory on the way */
	struct zf_fs *owner;	/* filesystem whose tree holds this path */
	struct zf_junction *parent;
	struct zf_junction **kids;	/* sorted by name */
	size_t nkids;
	uint64_t stub_ino;	/* st_ino when no filesystem has this directory */
};

struct zf_tree {
	zfuse_pool_t *pool;
	struct zf_fs *root;
	/* The filesystems shown (root first when it is one); NULL-free. */
	struct zf_fs **mounted;
	size_t nmounted;
	/* NULL when the root is a snapshot: nothing is mounted beneath it. */
	struct zf_junction *top;
	struct zf_junction **junctions;
	size_t njunctions;
	pthread_mutex_t snap_lock;
};

/*
 * Open dataset `name` (a full name) of pool as the mount root and every
 * descendant filesystem that a kernel mount would show beneath it. Errors of
 * descendants are logged and leave them out; errors of the root are
 * returned (negative ZFUSE_E* code) after logging why.
 */
int zf_tree_build(struct zf_tree *t, zfuse_pool_t *pool, const char *name);
/* Closes every dataset the tree opened; the pool stays open. */
void zf_tree_free(struct zf_tree *t);

const struct zf_junction *zf_junction_kid(const struct zf_junction *j, const char *name);

/* Index into head->snaps of the snapshot called name, or -1. */
long zf_snap_find(const struct zf_fs *head, const char *name);
/* The snapshot's dataset, opened on first use (thread-safe). */
int zf_snap_open(struct zf_tree *t, struct zf_fs *head, size_t idx, struct zf_fs **out);

#endif
