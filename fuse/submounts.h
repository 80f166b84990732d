/*
 * submounts.h — one FUSE mount per dataset, as the kernel shows OpenZFS:
 * each descendant filesystem gets its own `zfuse mount` process mounted at
 * its path inside the parent's mount, so it has its own st_dev (tools like
 * find, tar and cp -a tell datasets apart by it). Each such process does
 * the same for its own children.
 */
#ifndef ZFUSE_FUSE_SUBMOUNTS_H
#define ZFUSE_FUSE_SUBMOUNTS_H

#include "mounttree.h"

struct zf_submounts;

/*
 * Start, in a background thread, one `zfuse mount -f` per direct child
 * dataset of tree. base_opts are the -o options every child gets (pool,
 * txg, cache size, libfuse options); paths are the images. A child that
 * cannot mount (e.g. an unprivileged user may not mount inside a FUSE
 * mount) leaves that dataset shown inside its parent's mount, with a
 * warning.
 */
struct zf_submounts *zf_submounts_start(const struct zf_tree *tree, const char *mountpoint,
					const char *base_opts, const char *const *paths,
					size_t npaths, int verbose);

/* Unmount every child (deepest first, each child does its own) and wait. */
void zf_submounts_stop(struct zf_submounts *s);

/*
 * All zfuse mounts at or below mountpoint, deepest first, from
 * /proc/self/mountinfo. *out is a NULL-terminated array of strings.
 */
int zf_mounts_below(const char *mountpoint, char ***out);

#endif
