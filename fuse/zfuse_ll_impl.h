/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfuse_ll_impl.h — what the two halves of the FUSE low-level operations
 * share: zfuse_ll.c (lookup, attributes, files, changes) and zfuse_ll_dir.c
 * (directory listings). Private to them; the rest of the daemon sees
 * zfuse_ll.h only.
 */
#ifndef ZFUSE_FUSE_ZFUSE_LL_IMPL_H
#define ZFUSE_FUSE_ZFUSE_LL_IMPL_H

#include "zfuse_ll.h"

static inline struct zf_ll *ll_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* Negative errno of a negative ZFUSE_E* code. */
static inline int zerr(int zrc)
{
	return -zfuse_errno(zrc);
}

/* The node a request names, or NULL after replying ESTALE. */
struct zf_node *node_or_reply(fuse_req_t req, fuse_ino_t ino);

/* ---------------------------------------------------------------------- */
/* Junctions: lookup and readdir must agree on what a mount path shows. */

/* A child dataset shown inside this session, covering the entry. */
static inline bool jn_composed(const struct zf_junction *k)
{
	return k->mount && zf_mount_state(k->mount) == ZF_MOUNT_COMPOSED;
}

/* A child dataset whose own session is not mounted yet. */
static inline bool jn_pending(const struct zf_junction *k)
{
	return k->mount && zf_mount_state(k->mount) == ZF_MOUNT_PENDING;
}

/* The junctions below directory d, or NULL: a placeholder for a child
 * dataset's mount shows what its filesystem stores (an OBJ without j) or
 * nothing (a STUB of a mount junction), never the child's paths. */
static inline const struct zf_junction *dir_junction(const struct zf_target *d)
{
	if (!d->j || (d->kind == ZF_NODE_STUB && d->j->mount))
		return NULL;
	return d->j;
}

static inline const struct zf_junction *dir_kid(const struct zf_target *d, const char *name)
{
	const struct zf_junction *j = dir_junction(d);
	return j ? zf_junction_kid(j, name) : NULL;
}

struct zf_target kid_target(const struct zf_target *d, const struct zf_junction *k,
			    bool stored_dir, uint64_t ino);

static inline bool is_fs_root(const struct zf_target *d)
{
	return d->kind == ZF_NODE_OBJ && !d->fs->snapshot && d->obj == d->fs->root;
}

/* The reply to a lookup of t, counting the node (READDIRPLUS does too). */
int make_entry(struct zf_ll *ll, const struct zf_target *t, bool uncached,
	       struct fuse_entry_param *e);

/* zfuse_ll_dir.c */
void zf_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void zf_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void zf_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi);
void zf_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi);

#endif
