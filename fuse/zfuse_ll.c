/*
 * zfuse_ll.c — the FUSE low-level operations (see zfuse_ll.h).
 *
 * Every request names a node; a node shows either an object of one dataset
 * or one of the synthetic directories a kernel OpenZFS mount adds: .zfs,
 * .zfs/snapshot, .zfs/shares, and directories that exist only because a
 * child dataset's mount path runs through them. Mount composition happens
 * at exactly two places, lookup and readdir of a directory on a junction;
 * everything else is a direct call into the library.
 *
 * The pool is read-only and never changes under us, so the kernel may
 * cache everything for long: entries, attributes, negative lookups, file
 * pages, directory listings and symlink targets.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE	/* DTTOIF, st_atim */
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include "log.h"
#include "zfuse_ll.h"

/*
 * Readdir offsets from here up belong to entries the daemon adds after the
 * library's (mount paths the parent directory lacks). The library's cookies
 * stay far below (OpenZFS ZAP cursors are < 2^44); 2^62 keeps every offset
 * a positive off_t, which the kernel and seekdir() expect.
 */
#define ZF_SYNTH_OFF (1ULL << 62)
/* The kernel asks for at most max_pages (256 by libfuse's buffer) pages per
 * read and a page or so per readdir; these only bound a misbehaving peer. */
#define ZF_MAX_READ (4u << 20)
#define ZF_MAX_DIRBUF (1u << 20)
#define ZF_MAX_XATTR (1u << 20)

static struct zf_ll *ll_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* Negative errno of a negative ZFUSE_E* code. */
static int zerr(int zrc)
{
	return -zfuse_errno(zrc);
}

struct zf_target zf_ll_root_target(const struct zf_tree *tree)
{
	struct zf_target t = {
		.kind = ZF_NODE_OBJ, .fs = tree->root, .obj = tree->root->root, .j = tree->top,
	};
	return t;
}

static struct zf_node *node_or_reply(fuse_req_t req, fuse_ino_t ino)
{
	struct zf_node *n = zf_nodes_get(ll_of(req)->nodes, ino);

	if (!n)
		fuse_reply_err(req, ESTALE);
	return n;
}

/* ---------------------------------------------------------------------- */
/* Attributes */

static void synth_dir_attr(struct stat *st, const struct zf_fs *times_of, uint64_t ino,
			   uint64_t nsubdirs)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = S_IFDIR | 0555;
	st->st_nlink = 2 + nsubdirs;
	st->st_size = 2 + nsubdirs;
	st->st_blksize = 512;
	st->st_atim = times_of->root_st.st_atim;
	st->st_mtim = times_of->root_st.st_mtim;
	st->st_ctim = times_of->root_st.st_ctim;
}

static int target_attr(const struct zf_target *t, struct stat *st)
{
	int rc;

	switch (t->kind) {
	case ZF_NODE_OBJ:
		rc = zfuse_getattr(t->fs->zfs, t->obj, st);
		return rc < 0 ? zerr(rc) : 0;
	case ZF_NODE_CTL_ROOT:
		synth_dir_attr(st, t->fs, ZFSCTL_INO_ROOT, 2);
		return 0;
	case ZF_NODE_CTL_SNAPDIR:
		synth_dir_attr(st, t->fs, ZFSCTL_INO_SNAPDIR, t->fs->nsnaps);
		return 0;
	case ZF_NODE_CTL_SHARES:
		synth_dir_attr(st, t->fs, ZFSCTL_INO_SHARES, 0);
		return 0;
	case ZF_NODE_STUB:
		synth_dir_attr(st, t->fs, t->obj, t->j->nkids);
		return 0;
	}
	return -EIO;
}

/* Attributes first, node second: a failed stat must not leave a lookup
 * counted that the kernel never saw. */
static int make_entry(struct zf_ll *ll, const struct zf_target *t, struct fuse_entry_param *e)
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
	e->attr_timeout = ll->timeout;
	e->entry_timeout = ll->timeout;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Names */

/* What a junction shows when the parent directory has no entry for it. */
static struct zf_target junction_target(const struct zf_junction *kid)
{
	struct zf_target t = { .j = kid };

	if (kid->fs) {
		t.kind = ZF_NODE_OBJ;
		t.fs = kid->fs;
		t.obj = kid->fs->root;
	} else {
		t.kind = ZF_NODE_STUB;
		t.fs = kid->owner;
		t.obj = kid->stub_ino;
	}
	return t;
}

/* What entry `name` (object ino) of object directory d shows: a mounted
 * dataset's root covers the stored entry. */
static struct zf_target obj_child(const struct zf_target *d, const char *name, uint64_t ino)
{
	const struct zf_junction *kid = d->j ? zf_junction_kid(d->j, name) : NULL;

	if (kid && kid->fs)
		return junction_target(kid);
	struct zf_target t = { .kind = ZF_NODE_OBJ, .fs = d->fs, .obj = ino, .j = kid };
	return t;
}

static bool is_fs_root(const struct zf_target *d)
{
	return d->kind == ZF_NODE_OBJ && !d->fs->snapshot && d->obj == d->fs->root;
}

static int resolve(struct zf_ll *ll, const struct zf_target *d, const char *name,
		   struct zf_target *out)
{
	const struct zf_junction *kid;
	uint64_t ino;
	int rc;

	memset(out, 0, sizeof(*out));
	switch (d->kind) {
	case ZF_NODE_OBJ:
		/* As in OpenZFS, .zfs wins over anything stored under that name. */
		if (is_fs_root(d) && strcmp(name, ".zfs") == 0) {
			out->kind = ZF_NODE_CTL_ROOT;
			out->fs = d->fs;
			return 0;
		}
		kid = d->j ? zf_junction_kid(d->j, name) : NULL;
		if (kid && kid->fs) {
			*out = junction_target(kid);
			return 0;
		}
		rc = zfuse_lookup(d->fs->zfs, d->obj, name, &ino);
		if (rc == -ZFUSE_E_NOENT && kid) {
			*out = junction_target(kid);
			return 0;
		}
		if (rc < 0)
			return zerr(rc);
		*out = obj_child(d, name, ino);
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
	case ZF_NODE_CTL_SNAPDIR: {
		long idx = zf_snap_find(d->fs, name);
		struct zf_fs *snap;
		if (idx < 0)
			return -ENOENT;
		rc = zf_snap_open(ll->tree, d->fs, (size_t)idx, &snap);
		if (rc < 0)
			return zerr(rc);
		out->kind = ZF_NODE_OBJ;
		out->fs = snap;
		out->obj = snap->root;
		return 0;
	}
	case ZF_NODE_CTL_SHARES:
		return -ENOENT;
	case ZF_NODE_STUB:
		kid = zf_junction_kid(d->j, name);
		if (!kid)
			return -ENOENT;
		*out = junction_target(kid);
		return 0;
	}
	return -EIO;
}

static void zf_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct zf_ll *ll = ll_of(req);
	struct zf_node *p = node_or_reply(req, parent);
	struct fuse_entry_param e;
	struct zf_target t;

	if (!p)
		return;
	int rc = resolve(ll, &p->t, name, &t);
	if (rc == -ENOENT) {
		/* Node id 0 with a timeout: the kernel caches the miss. */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = ll->timeout;
		fuse_reply_entry(req, &e);
		return;
	}
	if (rc == 0)
		rc = make_entry(ll, &t, &e);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (fuse_reply_entry(req, &e) != 0)
		zf_nodes_forget(ll->nodes, e.ino, 1);
}

static void zf_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	zf_nodes_forget(ll_of(req)->nodes, ino, nlookup);
	fuse_reply_none(req);
}

static void zf_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct zf_nodes *nodes = ll_of(req)->nodes;

	for (size_t i = 0; i < count; i++)
		zf_nodes_forget(nodes, forgets[i].ino, forgets[i].nlookup);
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

static void zf_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct zf_node *n = node_or_reply(req, ino);

	if (!n)
		return;
	if (n->t.kind != ZF_NODE_OBJ) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EROFS);
		return;
	}
	/* Contents never change while mounted (read-only import), so pages
	 * cached by an earlier open stay valid. */
	fi->keep_cache = 1;
	fi->noflush = 1;
	fuse_reply_open(req, fi);
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
	while (got < size) {
		ssize_t r = zfuse_read(n->t.fs->zfs, n->t.obj, buf + got, size - got,
				       (uint64_t)off + got);
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
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_buf(req, buf, got);
	free(buf);
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
	sv.f_flag = ST_RDONLY;
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
/* Directories */

static void zf_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (!node_or_reply(req, ino))
		return;
	/* No per-handle state: offsets are the library's stable cookies.
	 * Listings never change, so the kernel may keep them cached. */
	fi->fh = 0;
	fi->cache_readdir = 1;
	fi->keep_cache = 1;
	fuse_reply_open(req, fi);
}

static void zf_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

struct dirbuf {
	fuse_req_t req;
	struct zf_ll *ll;
	const struct zf_target *dir;
	bool plus;
	char *buf;
	size_t size, used;
	int err;		/* negative errno met inside the library's walk */
};

/*
 * Add one entry, or return false when it does not fit (the walk stops and
 * the kernel resumes from the last offset it got). t is what lookup of the
 * name returns; NULL for "." and ".." and for entries whose lookup would be
 * costly (snapshots): READDIRPLUS then passes no node and the kernel looks
 * the name up when it needs it.
 */
static bool dir_add(struct dirbuf *b, const char *name, const struct zf_target *t,
		    uint64_t ino, unsigned dtype, uint64_t next)
{
	char *dst = b->buf + b->used;
	size_t room = b->size - b->used;
	size_t need;

	if (!b->plus) {
		struct stat st = { .st_ino = ino, .st_mode = DTTOIF(dtype) };
		need = fuse_add_direntry(b->req, dst, room, name, &st, (off_t)next);
		if (need > room)
			return false;
		b->used += need;
		return true;
	}
	need = fuse_add_direntry_plus(b->req, NULL, 0, name, NULL, 0);
	if (need > room)
		return false;
	struct fuse_entry_param e;
	if (!t || make_entry(b->ll, t, &e) != 0) {
		memset(&e, 0, sizeof(e));
		e.attr.st_ino = ino;
		e.attr.st_mode = DTTOIF(dtype);
	}
	fuse_add_direntry_plus(b->req, dst, room, name, &e, (off_t)next);
	b->used += need;
	return true;
}

static bool is_dot_or_dotdot(const char *name)
{
	return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

static int obj_dirent(void *arg, const char *name, uint64_t ino, unsigned dtype, uint64_t next)
{
	struct dirbuf *b = arg;

	if (next >= ZF_SYNTH_OFF) {
		zf_log(ZFUSE_LOG_ERROR, "library readdir cookie %llu is out of range",
		       (unsigned long long)next);
		b->err = -EIO;
		return 1;
	}
	if (is_dot_or_dotdot(name))
		return dir_add(b, name, NULL, ino, dtype, next) ? 0 : 1;
	struct zf_target t = obj_child(b->dir, name, ino);
	if (t.fs != b->dir->fs) {
		/* Covered by a mount: list what lookup will return. */
		ino = t.obj;
		dtype = DT_DIR;
	}
	return dir_add(b, name, &t, ino, dtype, next) ? 0 : 1;
}

static void readdir_obj(struct dirbuf *b, uint64_t off)
{
	const struct zf_target *d = b->dir;

	if (off < ZF_SYNTH_OFF) {
		int rc = zfuse_readdir(d->fs->zfs, d->obj, off, obj_dirent, b);
		if (rc < 0)
			b->err = zerr(rc);
		if (rc != 0)
			return;
		off = ZF_SYNTH_OFF;
	}
	if (!d->j)
		return;
	/* Mount paths the directory itself lacks come after its entries, each
	 * at a fixed offset of its own so that a resumed walk skips exactly
	 * the ones already returned. */
	for (uint64_t k = off - ZF_SYNTH_OFF; k < d->j->nkids; k++) {
		const struct zf_junction *kid = d->j->kids[k];
		uint64_t ino;
		if (zfuse_lookup(d->fs->zfs, d->obj, kid->name, &ino) != -ZFUSE_E_NOENT)
			continue;	/* listed above (or unreadable, as above) */
		struct zf_target t = junction_target(kid);
		if (!dir_add(b, kid->name, &t, t.kind == ZF_NODE_STUB ? t.obj : kid->fs->root,
			     DT_DIR, ZF_SYNTH_OFF + k + 1))
			return;
	}
}

struct synth_ent {
	const char *name;
	uint64_t ino;
	bool has_target;
	struct zf_target t;
};

/* Entry i of a synthetic directory; false past the end. */
static bool synth_entry(const struct zf_target *d, uint64_t i, struct synth_ent *e)
{
	static const uint64_t self_ino[] = {
		[ZF_NODE_CTL_ROOT] = ZFSCTL_INO_ROOT,
		[ZF_NODE_CTL_SNAPDIR] = ZFSCTL_INO_SNAPDIR,
		[ZF_NODE_CTL_SHARES] = ZFSCTL_INO_SHARES,
	};

	memset(e, 0, sizeof(*e));
	if (i == 0) {
		e->name = ".";
		e->ino = d->kind == ZF_NODE_STUB ? d->obj : self_ino[d->kind];
		return true;
	}
	if (i == 1) {
		e->name = "..";
		if (d->kind == ZF_NODE_CTL_ROOT)
			e->ino = d->fs->root;
		else if (d->kind == ZF_NODE_STUB)
			/* The parent may be a stored directory whose number
			 * only a path walk would tell; the kernel ignores
			 * d_ino of "..", so the filesystem root stands in. */
			e->ino = d->j->parent->fs ? d->j->parent->fs->root :
				 d->j->parent->owner->root;
		else
			e->ino = ZFSCTL_INO_ROOT;
		return true;
	}
	i -= 2;
	switch (d->kind) {
	case ZF_NODE_CTL_ROOT:
		if (i > 1)
			return false;
		e->has_target = true;
		e->t.fs = d->fs;
		e->name = i == 0 ? "shares" : "snapshot";
		e->ino = i == 0 ? ZFSCTL_INO_SHARES : ZFSCTL_INO_SNAPDIR;
		e->t.kind = i == 0 ? ZF_NODE_CTL_SHARES : ZF_NODE_CTL_SNAPDIR;
		return true;
	case ZF_NODE_CTL_SNAPDIR:
		if (i >= d->fs->nsnaps)
			return false;
		e->name = d->fs->snaps[i].name;
		/* What OpenZFS lists before the snapshot is mounted
		 * (zpl_snapdir_iterate); no target, so READDIRPLUS does not
		 * open every snapshot. */
		e->ino = ZFSCTL_INO_SHARES - d->fs->snaps[i].dsobj;
		return true;
	case ZF_NODE_STUB:
		if (i >= d->j->nkids)
			return false;
		e->name = d->j->kids[i]->name;
		e->has_target = true;
		e->t = junction_target(d->j->kids[i]);
		e->ino = e->t.kind == ZF_NODE_STUB ? e->t.obj : e->t.fs->root;
		return true;
	default:
		return false;
	}
}

static void readdir_synth(struct dirbuf *b, uint64_t off)
{
	struct synth_ent e;

	for (uint64_t i = off; synth_entry(b->dir, i, &e); i++)
		if (!dir_add(b, e.name, e.has_target ? &e.t : NULL, e.ino, DT_DIR, i + 1))
			return;
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus)
{
	struct zf_node *n = node_or_reply(req, ino);

	if (!n)
		return;
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (size > ZF_MAX_DIRBUF)
		size = ZF_MAX_DIRBUF;
	struct dirbuf b = {
		.req = req, .ll = ll_of(req), .dir = &n->t, .plus = plus,
		.buf = malloc(size ? size : 1), .size = size,
	};
	if (!b.buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (n->t.kind == ZF_NODE_OBJ)
		readdir_obj(&b, (uint64_t)off);
	else
		readdir_synth(&b, (uint64_t)off);
	/* Entries before an error are delivered; the error comes back when
	 * the kernel resumes at the entry that failed. */
	if (b.used == 0 && b.err)
		fuse_reply_err(req, -b.err);
	else
		fuse_reply_buf(req, b.buf, b.used);
	free(b.buf);
}

static void zf_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, false);
}

static void zf_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, true);
}

/* ---------------------------------------------------------------------- */

static void zf_init(void *userdata, struct fuse_conn_info *conn)
{
	const unsigned want = FUSE_CAP_ASYNC_READ | FUSE_CAP_PARALLEL_DIROPS |
			      FUSE_CAP_CACHE_SYMLINKS | FUSE_CAP_READDIRPLUS |
			      FUSE_CAP_READDIRPLUS_AUTO;

	(void)userdata;
	conn->want |= want & conn->capable;
	/* Nothing changes behind the kernel's back, so there is nothing to
	 * invalidate and nothing to write back. conn->max_readahead is left
	 * at the kernel's offer: it can only be lowered. */
	conn->want &= ~(unsigned)(FUSE_CAP_AUTO_INVAL_DATA | FUSE_CAP_WRITEBACK_CACHE);
}

const struct fuse_lowlevel_ops zf_ll_ops = {
	.init = zf_init,
	.lookup = zf_lookup,
	.forget = zf_forget,
	.forget_multi = zf_forget_multi,
	.getattr = zf_getattr,
	.readlink = zf_readlink,
	.open = zf_open,
	.read = zf_read,
	.statfs = zf_statfs,
	.getxattr = zf_getxattr,
	.listxattr = zf_listxattr,
	.opendir = zf_opendir,
	.readdir = zf_readdir,
	.readdirplus = zf_readdirplus,
	.releasedir = zf_releasedir,
};
