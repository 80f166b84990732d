/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfuse_ll.c — the FUSE low-level operations (see zfuse_ll.h).
 *
 * Every request names a node; a node shows either an object of one dataset
 * or one of the synthetic directories a kernel OpenZFS mount adds: .zfs,
 * .zfs/snapshot, .zfs/shares, and directories that exist only because a
 * child dataset's mount path runs through them. Junctions are looked at in
 * exactly two places, lookup and readdir of a directory on one; everything
 * else is a direct call into the library.
 *
 * A child dataset with a session of its own is mounted by the kernel on top
 * of a directory of this session: the one its parent stores at that path,
 * or a placeholder when there is none. Until the session is mounted that
 * directory may still turn into the child's root (when the mount fails and
 * the child is composed into this session instead), so the kernel is told
 * not to cache it (timeouts 0). A composed child's root covers the entry.
 *
 * A read-only session shows a pool that never changes under us, so the
 * kernel may cache everything else for long: entries, attributes, negative
 * lookups, file pages, directory listings and symlink targets.
 *
 * A read-write session changes its dataset only through the kernel's
 * requests, so the kernel's caches stay right as well; the kernel caches
 * writes (writeback) and keeps sizes and times of files it is writing
 * itself, and only the lifetimes of entries and attributes are short.
 * Permissions are the kernel's (default_permissions); what is left here is
 * handing the caller's uid/gid to new objects, refusing changes to what no
 * dataset stores (.zfs, placeholders, a child dataset's mount path), and
 * telling the library when the kernel forgets an object: an unlinked file
 * that was still open is freed then (zfuse_forget).
 *
 * What that costs, counted with -d: a 4 KiB create is six requests,
 * GETATTR of the directory (a change drops its attributes in the kernel,
 * and default_permissions needs them for the next lookup), LOOKUP, CREATE,
 * GETXATTR security.capability (the kernel asks before the first write
 * after every attribute reply: each clears S_NOSEC), WRITE, RELEASE; an
 * untarred file is ten (a second GETXATTR before its chown, three
 * SETATTRs). libfuse's passthrough_ll checks no permissions and answers
 * GETXATTR with ENOSYS, which stops the kernel asking: checking
 * permissions here would save the GETATTR.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* DTTOIF, st_atim, asprintf */
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include "log.h"
#include "zfuse/dataset.h"
#include "prefill.h"
#include "zfuse_ll_impl.h"

/* The kernel asks for at most max_pages (256 by libfuse's buffer) pages per
 * read; these only bound a misbehaving peer. */
#define ZF_MAX_READ (4u << 20)
#define ZF_MAX_XATTR (1u << 20)

struct zf_target zf_ll_root_target(const struct zf_mount *m)
{
	struct zf_target t = {
		.kind = ZF_NODE_OBJ, .fs = m->fs, .obj = m->fs->root, .j = m->top,
	};
	return t;
}

struct zf_node *node_or_reply(fuse_req_t req, fuse_ino_t ino)
{
	struct zf_node *n = zf_nodes_get(ll_of(req)->nodes, ino);

	/* A dataset closed to be destroyed (zf_snap_release, zf_tree_close_fs)
	 * is gone. */
	if (n && atomic_load(&n->t.fs->dead))
		n = NULL;
	if (!n)
		fuse_reply_err(req, ESTALE);
	return n;
}

/* ---------------------------------------------------------------------- */
/* Junctions */

/*
 * What junction k, a kid of directory d, shows: the root of a composed
 * child; else d's own directory of that name when it has one (stored_dir:
 * object ino), on the way to deeper junctions unless a child is mounted
 * there; else a placeholder directory. A junction is always a directory:
 * a file or symlink the parent stores there is covered, so a mount path
 * never leads anywhere else (a symlink in an image could otherwise send a
 * child's mount out of the tree).
 */
struct zf_target kid_target(const struct zf_target *d, const struct zf_junction *k,
			    bool stored_dir, uint64_t ino)
{
	struct zf_target t = { .j = k };

	if (jn_composed(k)) {
		t.kind = ZF_NODE_OBJ;
		t.fs = k->mount->fs;
		t.obj = k->mount->fs->root;
	} else if (stored_dir) {
		t.kind = ZF_NODE_OBJ;
		t.fs = d->fs;
		t.obj = ino;
		if (k->mount)
			t.j = NULL;	/* plain directory of d's filesystem */
	} else {
		t.kind = ZF_NODE_STUB;
		t.fs = d->fs;
		t.obj = k->stub_ino;
	}
	return t;
}

/* ---------------------------------------------------------------------- */
/* Attributes */

static void synth_dir_attr(struct stat *st, const struct zf_fs *times_of, uint64_t ino,
			   mode_t mode, nlink_t nlink, off_t size)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = S_IFDIR | mode;
	st->st_nlink = nlink;
	st->st_size = size;
	st->st_blksize = 512;
	st->st_atim = times_of->root_st.st_atim;
	st->st_mtim = times_of->root_st.st_mtim;
	st->st_ctim = times_of->root_st.st_ctim;
}

static int target_attr(const struct zf_target *t, struct stat *st)
{
	const struct zf_junction *j;
	int rc;

	switch (t->kind) {
	case ZF_NODE_OBJ:
		rc = zfuse_getattr(t->fs->zfs, t->obj, st);
		if (rc < 0)
			return zerr(rc);
		/* OpenZFS counts a visible .zfs as a subdirectory of the root. */
		if (is_fs_root(t) && t->fs->snapdir_visible)
			st->st_nlink++;
		return 0;
	/* The .zfs directories as OpenZFS's zfsctl_inode_alloc() and its
	 * getattr functions show them: mode 0777 owned by root; .zfs has
	 * the inode's defaults (one link, size 0), snapshot and shares
	 * report two of each. */
	case ZF_NODE_CTL_ROOT:
		synth_dir_attr(st, t->fs, ZFSCTL_INO_ROOT, 0777, 1, 0);
		return 0;
	case ZF_NODE_CTL_SNAPDIR:
		synth_dir_attr(st, t->fs, ZFSCTL_INO_SNAPDIR, 0777, 2, 2);
		return 0;
	case ZF_NODE_CTL_SHARES:
		synth_dir_attr(st, t->fs, ZFSCTL_INO_SHARES, 0777, 2, 2);
		return 0;
	case ZF_NODE_STUB:
		j = dir_junction(t);
		synth_dir_attr(st, t->fs, t->obj, 0555, 2 + (j ? j->nkids : 0),
			       (off_t)(2 + (j ? j->nkids : 0)));
		return 0;
	}
	return -EIO;
}

/* Attributes first, node second: a failed stat must not leave a lookup
 * counted that the kernel never saw. An uncached entry gets timeouts 0. */
int make_entry(struct zf_ll *ll, const struct zf_target *t, bool uncached,
	       struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	int rc = target_attr(t, &e->attr);
	if (rc)
		return rc;
	struct zf_node *n = zf_nodes_ref(ll->nodes, t);
	if (!n)
		return -ENOMEM;
	e->ino = n->id;
	e->generation = 1;	/* ids are never reused */
	e->attr_timeout = uncached ? 0 : ll->timeout;
	e->entry_timeout = uncached ? 0 : ll->timeout;
	return 0;
}

/* What the library must hear when a node of a read-write session goes:
 * the object has no user left (freed now if it has no links either). */
static void release_object(const struct zf_target *t, void *arg)
{
	(void)arg;
	if (t->kind != ZF_NODE_OBJ || t->fs->snapshot || atomic_load(&t->fs->dead))
		return;
	int rc = zfuse_forget(t->fs->zfs, t->obj);
	if (rc < 0)
		zf_log(ZFUSE_LOG_WARN, "%s: cannot free unlinked object %llu: %s", t->fs->name,
		       (unsigned long long)t->obj, zfuse_strerror(rc));
}

/* Callers of a read-write session hold forget_lock exclusively. */
static void forget_node_locked(struct zf_ll *ll, fuse_ino_t id, uint64_t nlookup)
{
	struct zf_target gone;

	if (zf_nodes_forget(ll->nodes, id, nlookup, &gone) && ll->writable)
		release_object(&gone, NULL);
}

static void forget_node(struct zf_ll *ll, fuse_ino_t id, uint64_t nlookup)
{
	if (ll->writable)
		pthread_rwlock_wrlock(&ll->forget_lock);
	forget_node_locked(ll, id, nlookup);
	if (ll->writable)
		pthread_rwlock_unlock(&ll->forget_lock);
}

/* ---------------------------------------------------------------------- */
/* Names */

static int resolve(const struct zf_target *d, const char *name,
		   struct zf_target *out, bool *uncached)
{
	const struct zf_junction *kid;
	uint64_t ino;
	int rc;

	memset(out, 0, sizeof(*out));
	*uncached = false;
	switch (d->kind) {
	case ZF_NODE_OBJ:
		/* As in OpenZFS, .zfs wins over anything stored under that name. */
		if (is_fs_root(d) && strcmp(name, ".zfs") == 0) {
			out->kind = ZF_NODE_CTL_ROOT;
			out->fs = d->fs;
			return 0;
		}
		kid = dir_kid(d, name);
		if (kid && jn_composed(kid)) {
			*out = kid_target(d, kid, false, 0);
			return 0;
		}
		rc = zfuse_lookup(d->fs->zfs, d->obj, name, &ino);
		if (rc < 0 && !(rc == -ZFUSE_E_NOENT && kid))
			return zerr(rc);
		if (kid) {
			struct stat st;
			bool dir = rc == 0;
			if (dir) {
				rc = zfuse_getattr(d->fs->zfs, ino, &st);
				if (rc < 0)
					return zerr(rc);
				dir = S_ISDIR(st.st_mode);
			}
			*out = kid_target(d, kid, dir, ino);
			*uncached = jn_pending(kid);
			return 0;
		}
		out->kind = ZF_NODE_OBJ;
		out->fs = d->fs;
		out->obj = ino;
		return 0;
	case ZF_NODE_CTL_ROOT:
		out->fs = d->fs;
		if (strcmp(name, "snapshot") == 0)
			out->kind = ZF_NODE_CTL_SNAPDIR;
		else if (strcmp(name, "shares") == 0)
			out->kind = ZF_NODE_CTL_SHARES;
		else
			return -ENOENT;
		return 0;
	case ZF_NODE_CTL_SNAPDIR:	/* snap_entry() */
	case ZF_NODE_CTL_SHARES:
		return -ENOENT;
	case ZF_NODE_STUB:
		kid = dir_kid(d, name);
		if (!kid)
			return -ENOENT;
		*out = kid_target(d, kid, false, 0);
		*uncached = jn_pending(kid);
		return 0;
	}
	return -EIO;
}

struct snap_entry {
	struct zf_ll *ll;
	struct fuse_entry_param *e;
	int err;
};

static int snap_entry_cb(void *arg, struct zf_fs *snap)
{
	struct snap_entry *a = arg;
	struct zf_target t = { .kind = ZF_NODE_OBJ, .fs = snap, .obj = snap->root };

	a->err = make_entry(a->ll, &t, false, a->e);
	return a->err ? 1 : 0;
}

/* The entry of snapshot name of head: its node is made while the snapshot
 * cannot be released (mounttree.h). 0 or a negative errno. */
static int snap_entry(struct zf_ll *ll, struct zf_fs *head, const char *name,
		      struct fuse_entry_param *e)
{
	struct snap_entry a = { .ll = ll, .e = e };
	int rc = zf_snap_lookup(ll->tree, head, name, snap_entry_cb, &a);

	return rc > 0 ? a.err : rc < 0 ? zerr(rc) : 0;
}

static void zf_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct zf_ll *ll = ll_of(req);
	struct zf_node *p = node_or_reply(req, parent);
	struct fuse_entry_param e;
	struct zf_target t;
	bool uncached;
	int rc;

	if (!p)
		return;
	if (p->t.kind == ZF_NODE_CTL_SNAPDIR) {
		rc = snap_entry(ll, p->t.fs, name, &e);
	} else {
		rc = resolve(&p->t, name, &t, &uncached);
		if (rc == 0)
			rc = make_entry(ll, &t, uncached, &e);
	}
	if (rc == -ENOENT) {
		/* Node id 0 with a timeout: the kernel caches the miss. */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = ll->timeout;
		fuse_reply_entry(req, &e);
		return;
	}
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (fuse_reply_entry(req, &e) != 0)
		forget_node(ll, e.ino, 1);
}

static void zf_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct zf_ll *ll = ll_of(req);

	if (ll->writable)
		pthread_rwlock_wrlock(&ll->forget_lock);
	forget_node_locked(ll, ino, nlookup);
	if (ll->writable)
		pthread_rwlock_unlock(&ll->forget_lock);
	fuse_reply_none(req);
}

static void zf_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct zf_ll *ll = ll_of(req);

	if (ll->writable)
		pthread_rwlock_wrlock(&ll->forget_lock);
	for (size_t i = 0; i < count; i++)
		forget_node_locked(ll, forgets[i].ino, forgets[i].nlookup);
	if (ll->writable)
		pthread_rwlock_unlock(&ll->forget_lock);
	fuse_reply_none(req);
}

static void zf_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct zf_node *n = node_or_reply(req, ino);
	struct stat st;

	(void)fi;
	if (!n)
		return;
	int rc = target_attr(&n->t, &st);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, ll_of(req)->timeout);
}

static void zf_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct zf_node *n = node_or_reply(req, ino);

	if (!n)
		return;
	if (n->t.kind != ZF_NODE_OBJ) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	/* The kernel takes at most PATH_MAX - 1 bytes of target (one page),
	 * so a longer one could not be shown whatever the buffer. */
	char *buf = malloc(PATH_MAX);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	ssize_t len = zfuse_readlink(n->t.fs->zfs, n->t.obj, buf, PATH_MAX);
	if (len == -ZFUSE_E_RANGE)
		fuse_reply_err(req, ENAMETOOLONG);
	else if (len < 0)
		fuse_reply_err(req, zfuse_errno((int)len));
	else
		fuse_reply_readlink(req, buf);
	free(buf);
}

/* ---------------------------------------------------------------------- */
/* Files */

/* fi->fh of an open file: how it was opened, as far as reads and writes
 * care. */
#define ZF_FH_APPEND 1u
#define ZF_FH_WRITER 2u	/* counted as a writer of the object (prefill.h) */
#define ZF_FH_DIRECT 4u	/* O_DIRECT: what it reads bypasses the page cache */

static int truncate_to_zero(const struct zf_target *t)
{
	struct zfuse_setattr za = { .valid = ZFUSE_SET_SIZE, .size = 0 };
	int rc = zfuse_setattr(t->fs->zfs, t->obj, &za, NULL);
	return rc < 0 ? zerr(rc) : 0;
}

/* Open file t as fi->flags ask; 0 or a negative errno. */
static int open_file(struct zf_ll *ll, const struct zf_target *t, struct fuse_file_info *fi)
{
	bool writing = (fi->flags & O_ACCMODE) != O_RDONLY;

	if (writing && !ll->writable)
		return -EROFS;
	/* The kernel sends O_TRUNC only in FUSE_CREATE (no atomic_o_trunc,
	 * see zf_init): an existing name found there is cut here. */
	if (writing && (fi->flags & O_TRUNC)) {
		int rc = truncate_to_zero(t);
		if (rc)
			return rc;
	}
	fi->fh = ((fi->flags & O_APPEND) ? ZF_FH_APPEND : 0) | (writing ? ZF_FH_WRITER : 0) |
		 ((fi->flags & O_DIRECT) ? ZF_FH_DIRECT : 0);
	/* Contents change only through this kernel (or never: read-only
	 * import), so pages cached by an earlier open stay valid. With
	 * writeback caching the kernel writes dirty pages back at close
	 * whether or not it sends FLUSH; there is nothing else to flush.
	 * (noflush is ignored with a writeback cache, so there is no flush
	 * handler either: libfuse's ENOSYS makes the kernel stop sending
	 * FLUSH, a round trip saved at every close.) */
	fi->keep_cache = 1;
	fi->noflush = 1;
	return 0;
}

/* open_file for a caller counted as a writer when it writes: the count
 * is taken back when the open fails. */
static int open_counted(struct zf_ll *ll, const struct zf_target *t, struct fuse_file_info *fi)
{
	int rc = open_file(ll, t, fi);
	if (rc && (fi->flags & O_ACCMODE) != O_RDONLY && ll->writable)
		zf_prefill_writer_close(ll->prefill, t->fs, t->obj);
	return rc;
}

static void open_reply(fuse_req_t req, struct zf_ll *ll, const struct zf_target *t,
		       struct fuse_file_info *fi)
{
	int rc = open_counted(ll, t, fi);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_open(req, fi);
}

/* An open for writing parked behind a store of its file (prefill.h). */
struct parked_open {
	fuse_req_t req;
	struct zf_ll *ll;
	struct zf_target t;
	struct fuse_file_info fi;
};

static void open_resume(void *arg)
{
	struct parked_open *p = arg;
	open_reply(p->req, p->ll, &p->t, &p->fi);
	free(p);
}

static void zf_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct zf_node *n = node_or_reply(req, ino);
	struct zf_ll *ll = ll_of(req);

	if (!n)
		return;
	if (n->t.kind != ZF_NODE_OBJ) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY && ll->writable && ll->prefill) {
		/* No store may land in the page cache once this handle can
		 * dirty it: one in flight is waited for without holding this
		 * worker (the store may wait for reads it must serve). */
		struct parked_open *p = malloc(sizeof(*p));
		if (!p) {
			zf_prefill_writer_open_wait(ll->prefill, n->t.fs, n->t.obj);
		} else {
			*p = (struct parked_open){ req, ll, n->t, *fi };
			if (!zf_prefill_writer_open(ll->prefill, n->t.fs, n->t.obj, open_resume, p))
				return;
			free(p);
		}
	}
	open_reply(req, ll, &n->t, fi);
}

static void zf_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct zf_node *n = zf_nodes_get(ll_of(req)->nodes, ino);

	if (n && (fi->fh & ZF_FH_WRITER))
		zf_prefill_writer_close(ll_of(req)->prefill, n->t.fs, n->t.obj);
	fuse_reply_err(req, 0);
}

/* open_file for FUSE_CREATE. Its object is new, or its name was there
 * after all; a store of it in flight (a reused object number, or that
 * name) is waited for here: CREATE makes objects one at a time. */
static int open_new_writer(struct zf_ll *ll, const struct zf_target *t, struct fuse_file_info *fi)
{
	if ((fi->flags & O_ACCMODE) != O_RDONLY && ll->writable)
		zf_prefill_writer_open_wait(ll->prefill, t->fs, t->obj);
	return open_counted(ll, t, fi);
}

static void zf_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct zf_node *n = node_or_reply(req, ino);

	(void)fi;
	if (!n)
		return;
	if (n->t.kind != ZF_NODE_OBJ) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (size > ZF_MAX_READ)
		size = ZF_MAX_READ;
	char *buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* A short reply means end of file to the kernel, so keep reading
	 * until the library says so itself. */
	size_t got = 0;
	int err = 0;
	/* Reads through the page cache, which keeps the records a stream
	 * reads whole: the library's cache need not (ZFUSE_READ_CACHED). */
	unsigned rflags = (fi->fh & ZF_FH_DIRECT) ? 0 : ZFUSE_READ_CACHED;
	while (got < size) {
		ssize_t r = zfuse_read_flags(n->t.fs->zfs, n->t.obj, buf + got, size - got,
					     (uint64_t)off + got, rflags);
		if (r < 0) {
			err = zfuse_errno((int)r);
			break;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	/* Not even part of the data on error: the kernel takes a short reply
	 * for end of file and would shrink the file. It retries the pages it
	 * still needs one by one, so the good ones before the bad block are
	 * still readable. */
	/* Once answered, the request and the node may be gone (a forget). */
	struct zf_prefill *pf = ll_of(req)->prefill;
	struct zf_target t = n->t;
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_buf(req, buf, got);
	free(buf);
	if (!err && got)
		zf_prefill_after_read(pf, ino, t.fs, t.obj, (uint64_t)off, got);
}

static void zf_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct zf_node *n = node_or_reply(req, ino);
	struct zfuse_statfs zs;
	struct statvfs sv;

	if (!n)
		return;
	int rc = zfuse_fs_statfs(n->t.fs->zfs, &zs);
	if (rc < 0) {
		fuse_reply_err(req, zfuse_errno(rc));
		return;
	}
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = zs.block_size;
	sv.f_frsize = zs.frag_size;
	sv.f_blocks = zs.blocks;
	sv.f_bfree = zs.bfree;
	sv.f_bavail = zs.bavail;
	sv.f_files = zs.files;
	sv.f_ffree = zs.ffree;
	sv.f_favail = zs.ffree;
	sv.f_fsid = zs.fsid;
	sv.f_namemax = zs.namemax;
	sv.f_flag = ll_of(req)->writable ? 0 : ST_RDONLY;
	fuse_reply_statfs(req, &sv);
}

/* ---------------------------------------------------------------------- */
/* Extended attributes */

static void reply_xattr(fuse_req_t req, size_t size, ssize_t (*probe)(const struct zf_node *,
			void *, size_t, const void *), const struct zf_node *n, const void *arg)
{
	if (size == 0) {
		ssize_t len = probe(n, NULL, 0, arg);
		if (len < 0)
			fuse_reply_err(req, zfuse_errno((int)len));
		else
			fuse_reply_xattr(req, (size_t)len);
		return;
	}
	if (size > ZF_MAX_XATTR)
		size = ZF_MAX_XATTR;
	char *buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	ssize_t len = probe(n, buf, size, arg);
	if (len < 0)
		fuse_reply_err(req, zfuse_errno((int)len));
	else
		fuse_reply_buf(req, buf, (size_t)len);
	free(buf);
}

static ssize_t get_one(const struct zf_node *n, void *buf, size_t cap, const void *name)
{
	if (n->t.kind != ZF_NODE_OBJ)
		return -ZFUSE_E_NODATA;
	return zfuse_getxattr(n->t.fs->zfs, n->t.obj, name, buf, cap);
}

static ssize_t list_all(const struct zf_node *n, void *buf, size_t cap, const void *unused)
{
	(void)unused;
	if (n->t.kind != ZF_NODE_OBJ)
		return 0;
	return zfuse_listxattr(n->t.fs->zfs, n->t.obj, buf, cap);
}

static void zf_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct zf_node *n = node_or_reply(req, ino);

	if (n)
		reply_xattr(req, size, get_one, n, name);
}

static void zf_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct zf_node *n = node_or_reply(req, ino);

	if (n)
		reply_xattr(req, size, list_all, n, NULL);
}

/* ---------------------------------------------------------------------- */
/* Changes (read-write sessions; the kernel refuses them on read-only ones,
 * and the library on datasets it cannot write, such as snapshots) */

/* Directory or file node that a change may name: an object some dataset
 * stores. The synthetic directories are not stored anywhere. */
static struct zf_node *obj_or_reply(fuse_req_t req, fuse_ino_t ino)
{
	struct zf_node *n = node_or_reply(req, ino);

	if (n && n->t.kind != ZF_NODE_OBJ) {
		fuse_reply_err(req, EROFS);
		return NULL;
	}
	return n;
}

/* Whether name in d shows something d does not store there (.zfs in a
 * root, a child dataset's mount path or a directory on the way to one):
 * such names are neither removed, nor renamed, nor replaced. */
static bool name_covered(const struct zf_target *d, const char *name)
{
	return (is_fs_root(d) && strcmp(name, ".zfs") == 0) || dir_kid(d, name) != NULL;
}

static void reply_status(fuse_req_t req, int zrc)
{
	fuse_reply_err(req, zrc < 0 ? zfuse_errno(zrc) : 0);
}

/* The library's attributes as target_attr() would show them. */
static void fix_attr(const struct zf_target *t, struct stat *st)
{
	if (is_fs_root(t) && t->fs->snapdir_visible)
		st->st_nlink++;
}

/*
 * Reply with the entry of object ino of d's dataset, whose attributes the
 * library just returned (st); with fi, as the reply to CREATE. A reply the
 * kernel never got takes its lookup back.
 */
static void reply_new_entry(fuse_req_t req, const struct zf_target *d, uint64_t ino,
			    struct stat *st, struct fuse_file_info *fi)
{
	struct zf_ll *ll = ll_of(req);
	struct zf_target t = { .kind = ZF_NODE_OBJ, .fs = d->fs, .obj = ino };
	struct fuse_entry_param e;

	memset(&e, 0, sizeof(e));
	fix_attr(&t, st);
	struct zf_node *n = zf_nodes_ref(ll->nodes, &t);
	if (!n) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	e.ino = n->id;
	e.generation = 1;
	e.attr = *st;
	e.attr_timeout = ll->timeout;
	e.entry_timeout = ll->timeout;
	if ((fi ? fuse_reply_create(req, &e, fi) : fuse_reply_entry(req, &e)) != 0)
		forget_node(ll, e.ino, 1);
}

enum new_kind { NEW_FILE, NEW_NODE, NEW_DIR, NEW_SYMLINK };

/* create, mknod, mkdir and symlink: the new object gets the caller's ids
 * (the library applies a setgid directory's group). */
static void make_object(fuse_req_t req, fuse_ino_t parent, const char *name,
			enum new_kind kind, mode_t mode, dev_t rdev, const char *target,
			struct fuse_file_info *fi)
{
	struct zf_node *p = obj_or_reply(req, parent);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	uint64_t ino = 0;
	struct stat st;
	int rc;

	if (!p)
		return;
	if (name_covered(&p->t, name)) {
		fuse_reply_err(req, EEXIST);
		return;
	}
	zfuse_fs_t *zfs = p->t.fs->zfs;
	uint64_t dir = p->t.obj;
	switch (kind) {
	case NEW_FILE:
		rc = zfuse_create(zfs, dir, name, mode, ctx->uid, ctx->gid, &ino, &st);
		break;
	case NEW_NODE:
		rc = zfuse_mknod(zfs, dir, name, mode, rdev, ctx->uid, ctx->gid, &ino, &st);
		break;
	case NEW_DIR:
		rc = zfuse_mkdir(zfs, dir, name, mode, ctx->uid, ctx->gid, &ino, &st);
		break;
	default:
		rc = zfuse_symlink(zfs, dir, name, target, ctx->uid, ctx->gid, &ino, &st);
		break;
	}
	if (kind == NEW_FILE && rc == -ZFUSE_E_EXIST && !(fi->flags & O_EXCL)) {
		/* open(O_CREAT) of a name that exists after all (another
		 * spelling in a case-insensitive directory): open that. */
		rc = zfuse_lookup(zfs, dir, name, &ino);
		if (rc == 0)
			rc = zfuse_getattr(zfs, ino, &st);
		if (rc == 0 && S_ISDIR(st.st_mode)) {
			fuse_reply_err(req, EISDIR);
			return;
		}
		if (rc == 0) {
			struct zf_target t = { .kind = ZF_NODE_OBJ, .fs = p->t.fs, .obj = ino };
			int err = open_new_writer(ll_of(req), &t, fi);
			if (err) {
				fuse_reply_err(req, -err);
				return;
			}
			rc = zfuse_getattr(zfs, ino, &st);
		}
	} else if (kind == NEW_FILE && rc == 0) {
		struct zf_target t = { .kind = ZF_NODE_OBJ, .fs = p->t.fs, .obj = ino };
		fi->flags &= ~O_TRUNC;	/* new: nothing to cut */
		int err = open_new_writer(ll_of(req), &t, fi);
		if (err) {
			fuse_reply_err(req, -err);
			return;
		}
	}
	if (rc < 0) {
		reply_status(req, rc);
		return;
	}
	reply_new_entry(req, &p->t, ino, &st, fi);
}

static void zf_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	make_object(req, parent, name, NEW_FILE, mode, 0, NULL, fi);
}

static void zf_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		     dev_t rdev)
{
	make_object(req, parent, name, NEW_NODE, mode, rdev, NULL, NULL);
}

/* ---------------------------------------------------------------------- */
/* Snapshots by mkdir and rmdir in .zfs/snapshot, as OpenZFS allows */

/* The .zfs/snapshot node a request names, NULL (nothing replied) when it
 * names another node, or after replying an error. */
static struct zf_node *snapdir_of(fuse_req_t req, fuse_ino_t ino, bool *replied)
{
	struct zf_node *n = zf_nodes_get(ll_of(req)->nodes, ino);

	*replied = false;
	if (!n || n->t.kind != ZF_NODE_CTL_SNAPDIR)
		return NULL;
	/* Root and the user who mounted, as for `zfuse snapshot` through
	 * the control socket (OpenZFS: the snapshot/destroy permissions). */
	uid_t uid = fuse_req_ctx(req)->uid;
	if (uid != 0 && uid != getuid()) {
		fuse_reply_err(req, EPERM);
		*replied = true;
		return NULL;
	}
	return n;
}

static char *snap_fullname(const struct zf_fs *head, const char *name)
{
	char *full;
	return asprintf(&full, "%s@%s", head->name, name) < 0 ? NULL : full;
}

/*
 * Re-read the snapshot list after our own change. The kernel updates its
 * entries of this directory from the reply itself; no notification may be
 * sent while it holds the directory for this request.
 */
static void snapdir_refresh(struct zf_ll *ll)
{
	int rc = zf_tree_refresh_snaps(ll->tree, NULL, NULL);
	if (rc < 0)
		zf_log(ZFUSE_LOG_WARN, "cannot re-read the snapshots: %s", zfuse_strerror(rc));
}

static void snapdir_mkdir(fuse_req_t req, struct zf_node *d, const char *name)
{
	struct zf_ll *ll = ll_of(req);
	char *full = snap_fullname(d->t.fs, name);
	struct fuse_entry_param e;

	if (!full) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	const char *names[] = { full };
	int rc = zfuse_snapshot(ll->tree->pool, names, 1);
	free(full);
	if (rc < 0) {
		reply_status(req, rc);
		return;
	}
	snapdir_refresh(ll);
	rc = snap_entry(ll, d->t.fs, name, &e);
	if (rc)
		fuse_reply_err(req, -rc);
	else if (fuse_reply_entry(req, &e) != 0)
		forget_node(ll, e.ino, 1);
}

/* Whether the session holds a node of snap besides its root's. */
static bool busy_here(void *arg, struct zf_fs *snap)
{
	struct zf_ll *ll = arg;
	struct zf_target root = { .kind = ZF_NODE_OBJ, .fs = snap, .obj = snap->root };
	uint64_t *ids, root_id = zf_nodes_find(ll->nodes, &root);
	size_t n = zf_nodes_ids_of(ll->nodes, snap, &ids);

	free(ids);
	return n > (root_id ? 1 : 0);
}

static void snapdir_rmdir(fuse_req_t req, struct zf_node *d, const char *name)
{
	struct zf_ll *ll = ll_of(req);
	char *full = snap_fullname(d->t.fs, name);

	if (!full) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* The daemon's handle of the snapshot must go first (the library does
	 * not destroy an open one). The rmdir itself holds the root's node;
	 * any other node of the snapshot is the kernel's cache or a user of
	 * it, which the kernel prunes only after a successful rmdir and
	 * cannot be told to drop while it holds the directory for it: busy.
	 * (`zfuse destroy` drops the cache first.) */
	int rc = zf_snap_release(ll->tree, d->t.fs, name, busy_here, ll);
	if (rc == 0)
		rc = zfuse_snapshot_destroy(ll->tree->pool, full);
	free(full);
	if (rc == 0)
		snapdir_refresh(ll);
	reply_status(req, rc);
}

/* mv .zfs/snapshot/A .zfs/snapshot/B renames snapshot DS@A to DS@B. */
static void snapdir_rename(fuse_req_t req, struct zf_node *d, const char *name,
			   fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct zf_ll *ll = ll_of(req);

	if (newparent != d->id) {
		fuse_reply_err(req, EXDEV);	/* snapshots stay with their dataset */
		return;
	}
	if (flags & ~(unsigned)ZFUSE_RENAME_NOREPLACE) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	char *from = snap_fullname(d->t.fs, name), *to = snap_fullname(d->t.fs, newname);
	int rc = from && to ? zfuse_dataset_rename(ll->tree->pool, from, to, false) :
		 -ZFUSE_E_NOMEM;
	free(from);
	free(to);
	if (rc == 0)
		snapdir_refresh(ll);
	reply_status(req, rc);
}

static void zf_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	bool replied;
	struct zf_node *d = snapdir_of(req, parent, &replied);

	if (d)
		snapdir_mkdir(req, d, name);
	else if (!replied)
		make_object(req, parent, name, NEW_DIR, mode, 0, NULL, NULL);
}

static void zf_symlink(fuse_req_t req, const char *target, fuse_ino_t parent, const char *name)
{
	make_object(req, parent, name, NEW_SYMLINK, 0777, 0, target, NULL);
}

static void zf_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct zf_node *n = obj_or_reply(req, ino);
	struct zf_node *p = n ? obj_or_reply(req, newparent) : NULL;
	struct stat st;

	if (!p)
		return;
	if (n->t.fs != p->t.fs) {
		fuse_reply_err(req, EXDEV);
		return;
	}
	if (name_covered(&p->t, newname)) {
		fuse_reply_err(req, EEXIST);
		return;
	}
	int rc = zfuse_link(p->t.fs->zfs, n->t.obj, p->t.obj, newname, &st);
	if (rc < 0)
		reply_status(req, rc);
	else
		reply_new_entry(req, &p->t, n->t.obj, &st, NULL);
}

static void remove_name(fuse_req_t req, fuse_ino_t parent, const char *name, bool dir)
{
	struct zf_ll *ll = ll_of(req);
	struct zf_node *p = obj_or_reply(req, parent);

	if (!p)
		return;
	if (name_covered(&p->t, name)) {
		fuse_reply_err(req, EBUSY);
		return;
	}
	pthread_rwlock_rdlock(&ll->forget_lock);
	int rc = dir ? zfuse_rmdir(p->t.fs->zfs, p->t.obj, name) :
		       zfuse_unlink(p->t.fs->zfs, p->t.obj, name);
	pthread_rwlock_unlock(&ll->forget_lock);
	reply_status(req, rc);
}

static void zf_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_name(req, parent, name, false);
}

static void zf_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	bool replied;
	struct zf_node *d = snapdir_of(req, parent, &replied);

	if (d)
		snapdir_rmdir(req, d, name);
	else if (!replied)
		remove_name(req, parent, name, true);
}

static void zf_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct zf_ll *ll = ll_of(req);
	bool replied;
	struct zf_node *d = snapdir_of(req, parent, &replied);

	if (d || replied) {
		if (d)
			snapdir_rename(req, d, name, newparent, newname, flags);
		return;
	}
	struct zf_node *p = obj_or_reply(req, parent);
	struct zf_node *np = p ? obj_or_reply(req, newparent) : NULL;

	if (!np)
		return;
	/* RENAME_WHITEOUT (overlayfs) is not kept. */
	if (flags & ~(unsigned)(ZFUSE_RENAME_NOREPLACE | ZFUSE_RENAME_EXCHANGE)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (p->t.fs != np->t.fs) {
		fuse_reply_err(req, EXDEV);
		return;
	}
	if (name_covered(&p->t, name) || name_covered(&np->t, newname)) {
		fuse_reply_err(req, EBUSY);
		return;
	}
	pthread_rwlock_rdlock(&ll->forget_lock);
	int rc = zfuse_rename(p->t.fs->zfs, p->t.obj, name, np->t.obj, newname, flags);
	pthread_rwlock_unlock(&ll->forget_lock);
	reply_status(req, rc);
}

/*
 * Under FUSE_HANDLE_KILLPRIV_V2 (negotiated by devio.c) the kernel leaves
 * dropping setuid/setgid to the server: at a write whose writer lacks
 * CAP_FSETID and a truncate by such a caller (the request says so), at
 * every chown of a non-directory (FATTR_KILL_SUIDGID too, but not for
 * chown(-1, -1)), and with no word from the kernel at fallocate and
 * copy_file_range (its setattr for them arrives emptied). The rule is the
 * kernel's setattr_should_drop_suidgid: setuid always, setgid when
 * group-executable or when the caller is neither in the file's group nor
 * privileged; root stands in for CAP_FSETID where
 * the request does not say. File capabilities stay the kernel's to drop:
 * it still looks security.capability up before writing to any inode it has
 * not marked S_NOSEC, and marks only inodes without it, unmarking them at
 * each security xattr set and each attribute refresh.
 */
static bool caller_in_group(fuse_req_t req, gid_t gid)
{
	gid_t list[64];
	if (fuse_req_ctx(req)->gid == gid)
		return true;
	int n = fuse_req_getgroups(req, 64, list);
	for (int i = 0; i < n && i < 64; i++)
		if (list[i] == gid)
			return true;
	return false;
}

/* The bits of mode the rule drops (0: none). */
static mode_t setid_to_drop(fuse_req_t req, const struct stat *st, bool privileged)
{
	mode_t drop = 0;
	if (!S_ISREG(st->st_mode))
		return 0;
	if (st->st_mode & S_ISUID)
		drop |= S_ISUID;
	if ((st->st_mode & S_ISGID) &&
	    ((st->st_mode & S_IXGRP) || (!privileged && !caller_in_group(req, st->st_gid))))
		drop |= S_ISGID;
	return drop;
}

/* Drop what the rule says before a write, fallocate or copy into n. */
static int drop_setid(fuse_req_t req, const struct zf_node *n, bool privileged)
{
	struct stat st;
	int rc = zfuse_getattr(n->t.fs->zfs, n->t.obj, &st);
	if (rc < 0)
		return rc;
	mode_t drop = setid_to_drop(req, &st, privileged);
	if (!drop)
		return 0;
	struct zfuse_setattr za = { .valid = ZFUSE_SET_MODE, .mode = st.st_mode & ~drop };
	return zfuse_setattr(n->t.fs->zfs, n->t.obj, &za, &st);
}

/* The drop a request without the kernel's word needs (fallocate, copy). */
static int drop_setid_unasked(fuse_req_t req, const struct zf_node *n)
{
	if (!ll_of(req)->io.killpriv_v2 || fuse_req_ctx(req)->uid == 0)
		return 0;
	return drop_setid(req, n, false);
}

static void zf_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct zf_node *n = obj_or_reply(req, ino);

	if (!n)
		return;
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	uint64_t at = (uint64_t)off;
	/* A writeback cache places appends itself; otherwise the end of the
	 * file is where the library says it is now. */
	if (fi && (fi->fh & ZF_FH_APPEND) && !ll_of(req)->writeback) {
		struct stat st;
		int rc = zfuse_getattr(n->t.fs->zfs, n->t.obj, &st);
		if (rc < 0) {
			reply_status(req, rc);
			return;
		}
		at = (uint64_t)st.st_size;
	}
	if (ll_of(req)->io.killpriv_v2 && zf_devio_kills_suidgid()) {
		int rc = drop_setid(req, n, false);
		if (rc < 0) {
			reply_status(req, rc);
			return;
		}
	}
	/* A page written back keeps the kernel's mtime and ctime, which it
	 * sends itself (writeback cache: its times are the file's). */
	unsigned flags = (fi && fi->writepage && ll_of(req)->writeback) ? ZFUSE_WRITE_CACHED : 0;
	ssize_t w = zfuse_write_flags(n->t.fs->zfs, n->t.obj, buf, size, at, flags);
	if (w < 0) {
		/* With a writeback cache the writer sees only EIO at close:
		 * the real reason is said here. */
		if (ll_of(req)->writeback)
			zf_log(ZFUSE_LOG_WARN, "%s: cached write to object %llu failed: %s",
			       n->t.fs->name, (unsigned long long)n->t.obj, zfuse_strerror((int)w));
		reply_status(req, (int)w);
	}
	else
		fuse_reply_write(req, (size_t)w);
}

static void setattr_apply(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
			  struct fuse_file_info *fi)
{
	static const struct { int fuse; unsigned zfuse; } bits[] = {
		{ FUSE_SET_ATTR_MODE, ZFUSE_SET_MODE },
		{ FUSE_SET_ATTR_UID, ZFUSE_SET_UID },
		{ FUSE_SET_ATTR_GID, ZFUSE_SET_GID },
		{ FUSE_SET_ATTR_SIZE, ZFUSE_SET_SIZE },
		{ FUSE_SET_ATTR_ATIME, ZFUSE_SET_ATIME },
		{ FUSE_SET_ATTR_MTIME, ZFUSE_SET_MTIME },
		{ FUSE_SET_ATTR_ATIME_NOW, ZFUSE_SET_ATIME_NOW },
		{ FUSE_SET_ATTR_MTIME_NOW, ZFUSE_SET_MTIME_NOW },
		{ FUSE_SET_ATTR_CTIME, ZFUSE_SET_CTIME },
	};
	struct zf_node *n = obj_or_reply(req, ino);
	struct zfuse_setattr za;
	struct stat st;
	int rc;

	(void)fi;
	if (!n)
		return;
	memset(&za, 0, sizeof(za));
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (to_set & bits[i].fuse)
			za.valid |= bits[i].zfuse;
	if (za.valid & ZFUSE_SET_SIZE && attr->st_size < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	za.mode = attr->st_mode;
	za.uid = attr->st_uid;
	za.gid = attr->st_gid;
	za.size = (uint64_t)attr->st_size;
	za.atime = attr->st_atim;
	za.mtime = attr->st_mtim;
	za.ctime = attr->st_ctim;
	/* chown(-1, -1), which drops the bits as any chown with no flag from
	 * the kernel: nothing but the kernel's ctime in a writeback session;
	 * without one, nothing at all, as the kernel's emptied drop before a
	 * write, fallocate or copy (which drop by their own rule anyway). */
	bool bare = !(za.valid & ~ZFUSE_SET_CTIME) &&
		    (!ll_of(req)->writeback || (za.valid & ZFUSE_SET_CTIME));
	if (ll_of(req)->io.killpriv_v2 && (zf_devio_kills_suidgid() || bare)) {
		/* The kernel took out the mode change it would have sent. A
		 * truncate is flagged only for callers without CAP_FSETID. */
		bool privileged = !(za.valid & ZFUSE_SET_SIZE) && fuse_req_ctx(req)->uid == 0;
		rc = zfuse_getattr(n->t.fs->zfs, n->t.obj, &st);
		if (rc < 0) {
			reply_status(req, rc);
			return;
		}
		mode_t drop = setid_to_drop(req, &st, privileged);
		/* The drop is a mode change, which only the owner may make by
		 * chown (setattr_prepare; the kernel left the check out with
		 * the change). */
		if (drop && bare && (za.valid & ZFUSE_SET_CTIME) && fuse_req_ctx(req)->uid != 0 &&
		    fuse_req_ctx(req)->uid != st.st_uid) {
			fuse_reply_err(req, EPERM);
			return;
		}
		if (drop) {
			if (!(za.valid & ZFUSE_SET_MODE))
				za.mode = st.st_mode;
			za.valid |= ZFUSE_SET_MODE;
			za.mode &= ~drop;
		}
	}
	/* No bit at all is chown(-1, -1) of anything but a regular file (for
	 * those the kernel sends its own ctime): the change is the ctime, now,
	 * as zfs_setattr sets it for ATTR_CTIME alone. zfuse_setattr with
	 * nothing valid does that. */
	rc = zfuse_setattr(n->t.fs->zfs, n->t.obj, &za, &st);
	if (rc < 0) {
		reply_status(req, rc);
		return;
	}
	fix_attr(&n->t, &st);
	fuse_reply_attr(req, &st, ll_of(req)->timeout);
}

/* A size change parked behind a store of its file (prefill.h). */
struct parked_setattr {
	fuse_req_t req;
	fuse_ino_t ino;
	struct zf_ll *ll;
	struct zf_target t;
	struct stat attr;
	int to_set;
	bool kills_suidgid;	/* the request's flag (devio.c), kept for the resuming thread */
	bool have_fi;
	struct fuse_file_info fi;
};

static void setattr_resume(void *arg)
{
	struct parked_setattr *p = arg;
	bool was = zf_devio_set_kills_suidgid(p->kills_suidgid);
	setattr_apply(p->req, p->ino, &p->attr, p->to_set, p->have_fi ? &p->fi : NULL);
	zf_devio_set_kills_suidgid(was);
	zf_prefill_writer_close(p->ll->prefill, p->t.fs, p->t.obj);
	free(p);
}

static void zf_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct zf_ll *ll = ll_of(req);
	struct zf_node *n = zf_nodes_get(ll->nodes, ino);

	/* A size change is a write that may come without a writing handle
	 * (truncate by path): like an open for writing, it waits for a store
	 * in flight, which could raise the size again or bring back cut data,
	 * and keeps new ones away until it is answered. */
	if (!(to_set & FUSE_SET_ATTR_SIZE) || !ll->writable || !ll->prefill || !n ||
	    n->t.kind != ZF_NODE_OBJ) {
		setattr_apply(req, ino, attr, to_set, fi);
		return;
	}
	struct parked_setattr *p = malloc(sizeof(*p));
	if (!p) {
		zf_prefill_writer_open_wait(ll->prefill, n->t.fs, n->t.obj);
		setattr_apply(req, ino, attr, to_set, fi);
		zf_prefill_writer_close(ll->prefill, n->t.fs, n->t.obj);
		return;
	}
	*p = (struct parked_setattr){ req, ino, ll, n->t, *attr, to_set, zf_devio_kills_suidgid(),
				      fi != NULL, { 0 } };
	if (fi)
		p->fi = *fi;
	if (!zf_prefill_writer_open(ll->prefill, n->t.fs, n->t.obj, setattr_resume, p))
		return;
	setattr_resume(p);
}

static void zf_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
			 struct fuse_file_info *fi)
{
	struct zf_node *n = obj_or_reply(req, ino);

	(void)fi;
	if (!n)
		return;
	if (off < 0 || len <= 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	int rc = drop_setid_unasked(req, n);
	if (rc < 0) {
		reply_status(req, rc);
		return;
	}
	reply_status(req, zfuse_fallocate(n->t.fs->zfs, n->t.obj, mode, (uint64_t)off,
					  (uint64_t)len));
}

static void zf_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			       struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out,
			       struct fuse_file_info *fi_out, size_t len, int flags)
{
	struct zf_node *in = obj_or_reply(req, ino_in);
	struct zf_node *out = in ? obj_or_reply(req, ino_out) : NULL;

	(void)fi_in;
	(void)fi_out;
	if (!out)
		return;
	if (off_in < 0 || off_out < 0 || flags != 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	/* The kernel copies by itself when told the files are apart. */
	if (in->t.fs != out->t.fs) {
		fuse_reply_err(req, EXDEV);
		return;
	}
	/* The kernel has shortened len to the source's size as it shows it
	 * (generic_copy_file_checks) and flushed the source range; with the
	 * writeback cache that size may be ahead of ours. */
	int rc = drop_setid_unasked(req, out);
	if (rc < 0) {
		reply_status(req, rc);
		return;
	}
	ssize_t r = zfuse_copy_file_range(in->t.fs->zfs, in->t.obj, (uint64_t)off_in,
					  out->t.obj, (uint64_t)off_out, len,
					  ZFUSE_COPY_LEN_CHECKED);
	if (r < 0)
		reply_status(req, (int)r);
	else
		fuse_reply_write(req, (size_t)r);
}

static void zf_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			size_t size, int flags)
{
	struct zf_node *n = obj_or_reply(req, ino);

	if (n)
		reply_status(req, zfuse_setxattr(n->t.fs->zfs, n->t.obj, name, value, size,
						 flags));
}

static void zf_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct zf_node *n = obj_or_reply(req, ino);

	if (n)
		reply_status(req, zfuse_removexattr(n->t.fs->zfs, n->t.obj, name));
}

/* fsync(2), fdatasync(2), fsync of a directory (and the kernel's fsync
 * after an O_SYNC/O_DSYNC write): every change of the dataset so far but
 * other files' writes, truncates and setattrs is committed to its intent
 * log before the reply, as OpenZFS's zfs_fsync (a txg sync where the
 * dataset has no log writer). A node without an object (a mount-path
 * stub, .zfs) commits every change. */
static void sync_node(fuse_req_t req, fuse_ino_t ino)
{
	struct zf_node *n = node_or_reply(req, ino);

	if (n)
		reply_status(req, !ll_of(req)->writable ? 0
				  : n->t.kind == ZF_NODE_OBJ ? zfuse_fs_commit_object(n->t.fs->zfs, n->t.obj)
				  : zfuse_fs_commit(n->t.fs->zfs));
}

static void zf_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)datasync;
	(void)fi;
	sync_node(req, ino);
}

static void zf_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
			struct fuse_file_info *fi)
{
	(void)datasync;
	(void)fi;
	sync_node(req, ino);
}

/*
 * close(2). The data is already the library's (the kernel wrote its dirty
 * pages back before asking); like OpenZFS, closing does not wait for a
 * txg: that is what fsync is for.
 */
/* ---------------------------------------------------------------------- */

/* The largest write request of a read-write session (libfuse's buffer
 * holds 256 pages). */
#define ZF_MAX_WRITE (1u << 20)

static void zf_init(void *userdata, struct fuse_conn_info *conn)
{
	struct zf_ll *ll = userdata;
	unsigned want = FUSE_CAP_ASYNC_READ | FUSE_CAP_PARALLEL_DIROPS |
			FUSE_CAP_CACHE_SYMLINKS | FUSE_CAP_READDIRPLUS |
			FUSE_CAP_READDIRPLUS_AUTO;

	/* Nothing changes behind the kernel's back, so there is nothing to
	 * invalidate. conn->max_readahead is left at the kernel's offer: it
	 * can only be lowered. */
	unsigned unwanted = FUSE_CAP_AUTO_INVAL_DATA;
	if (ll->writable) {
		/* Cached writes sent in big requests. Setuid/setgid bits are
		 * dropped by zfuse itself under FUSE_HANDLE_KILLPRIV_V2, which
		 * devio.c negotiates (drop_setid); not under the first version,
		 * whose rules are libfuse's. Not atomic_o_trunc: with it the
		 * kernel sends O_TRUNC in the open and skips its own truncating
		 * setattr, and with that the setuid/setgid bits open(O_TRUNC)
		 * must drop (posix-model.sh found them kept); the setattr costs
		 * a request per O_TRUNC open. */
		want |= FUSE_CAP_WRITEBACK_CACHE;
		unwanted |= FUSE_CAP_HANDLE_KILLPRIV | FUSE_CAP_ATOMIC_O_TRUNC;
		/* Under a quota a write may fail with EDQUOT, which only a
		 * write-through session can hand to the writer (a cached
		 * write fails at writeback, seen as EIO at close). */
		/* sync=always too: write(2) returns only once the change is
		 * in the intent log, which a cached write cannot promise. */
		if (zfuse_fs_limited(ll->mount->fs->zfs) || zfuse_fs_sync_always(ll->mount->fs->zfs)) {
			want &= ~FUSE_CAP_WRITEBACK_CACHE;
			unwanted |= FUSE_CAP_WRITEBACK_CACHE;
		}
		conn->max_write = ZF_MAX_WRITE;
	} else {
		unwanted |= FUSE_CAP_WRITEBACK_CACHE;
	}
	conn->want |= want & conn->capable;
	conn->want &= ~unwanted;
	ll->writeback = (conn->want & FUSE_CAP_WRITEBACK_CACHE) != 0;
	ll->io.want_killpriv_v2 = ll->writable;
}

/* The session ends: the kernel's references are gone with it, and
 * unlinked files it still held open are freed now. */
static void zf_destroy(void *userdata)
{
	struct zf_ll *ll = userdata;

	if (ll->writable)
		zf_nodes_each(ll->nodes, release_object, NULL);
}

const struct fuse_lowlevel_ops zf_ll_ops = {
	.init = zf_init,
	.destroy = zf_destroy,
	.lookup = zf_lookup,
	.forget = zf_forget,
	.forget_multi = zf_forget_multi,
	.getattr = zf_getattr,
	.readlink = zf_readlink,
	.open = zf_open,
	.release = zf_release,
	.read = zf_read,
	.statfs = zf_statfs,
	.getxattr = zf_getxattr,
	.listxattr = zf_listxattr,
	.opendir = zf_opendir,
	.readdir = zf_readdir,
	.readdirplus = zf_readdirplus,
	.releasedir = zf_releasedir,
	.create = zf_create,
	.mknod = zf_mknod,
	.mkdir = zf_mkdir,
	.symlink = zf_symlink,
	.link = zf_link,
	.unlink = zf_unlink,
	.rmdir = zf_rmdir,
	.rename = zf_rename,
	.write = zf_write,
	.setattr = zf_setattr,
	.fallocate = zf_fallocate,
	.copy_file_range = zf_copy_file_range,
	.setxattr = zf_setxattr,
	.removexattr = zf_removexattr,
	.fsync = zf_fsync,
	.fsyncdir = zf_fsyncdir,
};
