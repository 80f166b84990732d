/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfuse_ll_dir.c — directory listings of the FUSE low-level operations
 * (readdir, readdirplus), of stored directories and of the synthetic ones
 * (.zfs, .zfs/snapshot, .zfs/shares, placeholders on a child dataset's
 * mount path).
 *
 * A listing must show exactly what lookup of each name returns
 * (zfuse_ll.c), so both go through the junction helpers of
 * zfuse_ll_impl.h; offsets are stable cookies, so a handle keeps no state.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE	/* DTTOIF */
#endif
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "zfuse_ll_impl.h"

/*
 * Readdir offsets from here up belong to entries the daemon adds after the
 * library's (mount paths the parent directory lacks). The library's cookies
 * stay far below (OpenZFS ZAP cursors are < 2^44); 2^62 keeps every offset
 * a positive off_t, which the kernel and seekdir() expect.
 */
#define ZF_SYNTH_OFF (1ULL << 62)
/*
 * Offsets of a filesystem root's listing with snapdir=visible, as OpenZFS's
 * zfs_readdir() numbers them: 0 ".", 1 "..", 2 ".zfs", then the ZAP cursor.
 * The library's cookies agree: "." is followed by 1, ".." by 2, and 2 or 3
 * both start the ZAP walk.
 */
#define ZF_OFF_CTLDIR 2
#define ZF_OFF_ZAP 3
/* The kernel asks for a page or so per readdir; this only bounds a
 * misbehaving peer. */
#define ZF_MAX_DIRBUF (1u << 20)

void zf_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (!node_or_reply(req, ino))
		return;
	/* No per-handle state: offsets are the library's stable cookies.
	 * Read-only listings never change, so the kernel may keep them. */
	fi->fh = 0;
	fi->cache_readdir = !ll_of(req)->writable;
	fi->keep_cache = !ll_of(req)->writable;
	fuse_reply_open(req, fi);
}

void zf_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
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
	bool ctl_after_dotdot;	/* list .zfs right after ".." */
};

/*
 * Add one entry, or return false when it does not fit (the walk stops and
 * the kernel resumes from the last offset it got). t is what lookup of the
 * name returns; NULL for "." and ".." and for entries whose lookup would be
 * costly (snapshots): READDIRPLUS then passes no node and the kernel looks
 * the name up when it needs it.
 */
static bool dir_add(struct dirbuf *b, const char *name, const struct zf_target *t,
		    bool uncached, uint64_t ino, unsigned dtype, uint64_t next)
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
	if (!t || make_entry(b->ll, t, uncached, &e) != 0) {
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

/* The .zfs entry of a root with snapdir=visible, at offset 2. */
static bool add_ctldir(struct dirbuf *b)
{
	struct zf_target t = { .kind = ZF_NODE_CTL_ROOT, .fs = b->dir->fs };
	return dir_add(b, ".zfs", &t, false, ZFSCTL_INO_ROOT, DT_DIR, ZF_OFF_ZAP);
}

static int obj_dirent(void *arg, const char *name, uint64_t ino, unsigned dtype, uint64_t next)
{
	struct dirbuf *b = arg;
	const struct zf_junction *kid;

	if (next >= ZF_SYNTH_OFF) {
		zf_log(ZFUSE_LOG_ERROR, "library readdir cookie %llu is out of range",
		       (unsigned long long)next);
		b->err = -EIO;
		return 1;
	}
	if (is_dot_or_dotdot(name)) {
		if (!dir_add(b, name, NULL, false, ino, dtype, next))
			return 1;
		if (name[1] == '.' && b->ctl_after_dotdot && !add_ctldir(b))
			return 1;
		return 0;
	}
	kid = dir_kid(b->dir, name);
	if (!kid) {
		struct zf_target t = { .kind = ZF_NODE_OBJ, .fs = b->dir->fs, .obj = ino };
		return dir_add(b, name, &t, false, ino, dtype, next) ? 0 : 1;
	}
	struct zf_target t = kid_target(b->dir, kid, dtype == DT_DIR, ino);
	if (t.kind != ZF_NODE_OBJ || t.fs != b->dir->fs) {
		/* Covered by a composed child or a placeholder: list what
		 * lookup returns. */
		ino = t.obj;
		dtype = DT_DIR;
	}
	return dir_add(b, name, &t, jn_pending(kid), ino, dtype, next) ? 0 : 1;
}

static void readdir_obj(struct dirbuf *b, uint64_t off)
{
	const struct zf_target *d = b->dir;
	const struct zf_junction *j = dir_junction(d);

	if (off < ZF_SYNTH_OFF) {
		if (is_fs_root(d) && d->fs->snapdir_visible) {
			if (off == ZF_OFF_CTLDIR) {
				if (!add_ctldir(b))
					return;
				off = ZF_OFF_ZAP;
			}
			b->ctl_after_dotdot = off < ZF_OFF_CTLDIR;
		}
		int rc = zfuse_readdir(d->fs->zfs, d->obj, off, obj_dirent, b);
		if (rc < 0)
			b->err = zerr(rc);
		if (rc != 0)
			return;
		off = ZF_SYNTH_OFF;
	}
	if (!j)
		return;
	/* Mount paths the directory itself lacks come after its entries, each
	 * at a fixed offset of its own so that a resumed walk skips exactly
	 * the ones already returned. */
	for (uint64_t k = off - ZF_SYNTH_OFF; k < j->nkids; k++) {
		const struct zf_junction *kid = j->kids[k];
		uint64_t ino;
		if (zfuse_lookup(d->fs->zfs, d->obj, kid->name, &ino) != -ZFUSE_E_NOENT)
			continue;	/* listed above (or unreadable, as above) */
		struct zf_target t = kid_target(d, kid, false, 0);
		if (!dir_add(b, kid->name, &t, jn_pending(kid), t.obj, DT_DIR,
			     ZF_SYNTH_OFF + k + 1))
			return;
	}
}

struct synth_ent {
	const char *name;
	uint64_t ino;
	bool has_target;
	bool uncached;
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
			e->ino = d->fs->root;
		else
			e->ino = ZFSCTL_INO_ROOT;
		return true;
	}
	i -= 2;
	switch (d->kind) {
	case ZF_NODE_CTL_ROOT:
		/* In zpl_root_iterate()'s order. */
		if (i > 1)
			return false;
		e->has_target = true;
		e->t.fs = d->fs;
		e->name = i == 0 ? "snapshot" : "shares";
		e->ino = i == 0 ? ZFSCTL_INO_SNAPDIR : ZFSCTL_INO_SHARES;
		e->t.kind = i == 0 ? ZF_NODE_CTL_SNAPDIR : ZF_NODE_CTL_SHARES;
		return true;
	case ZF_NODE_STUB: {
		const struct zf_junction *j = dir_junction(d);
		if (!j || i >= j->nkids)
			return false;
		e->name = j->kids[i]->name;
		e->has_target = true;
		e->uncached = jn_pending(j->kids[i]);
		e->t = kid_target(d, j->kids[i], false, 0);
		e->ino = e->t.obj;
		return true;
	}
	default:
		return false;
	}
}

/*
 * .zfs/snapshot after "." and "..": the snapshots, in txg order, each at
 * the offset of its creation txg (past those two), so that a listing
 * resumed after snapshots were taken or destroyed goes on where it was.
 * What OpenZFS lists before a snapshot is mounted (zpl_snapdir_iterate);
 * no target, so READDIRPLUS does not open every snapshot.
 */
#define ZF_OFF_SNAPS 2

static int snap_dirent(void *arg, const struct zf_snap *s)
{
	struct dirbuf *b = arg;
	return dir_add(b, s->name, NULL, false, ZFSCTL_INO_SHARES - s->dsobj, DT_DIR,
		       ZF_OFF_SNAPS + s->txg) ? 0 : 1;
}

static void readdir_synth(struct dirbuf *b, uint64_t off)
{
	struct synth_ent e;
	uint64_t i;

	for (i = off; synth_entry(b->dir, i, &e); i++)
		if (!dir_add(b, e.name, e.has_target ? &e.t : NULL, e.uncached, e.ino, DT_DIR,
			     i + 1))
			return;
	if (b->dir->kind == ZF_NODE_CTL_SNAPDIR && i >= ZF_OFF_SNAPS)
		zf_snap_each(b->ll->tree, b->dir->fs, off > ZF_OFF_SNAPS ? off - ZF_OFF_SNAPS : 0,
			     snap_dirent, b);
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

void zf_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, false);
}

void zf_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, true);
}
