/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zil_replay.c — replaying a claimed intent log at the first writable
 * open of a filesystem, as zil_replay and zfs_replay.c do (zil.md §7).
 *
 * The records are re-executed through the ZPL write calls, in log order,
 * one transaction each: a create takes the logged object number, dnode
 * size, generation and creation time; each transaction also stores the
 * record's sequence number in the ZIL header (zh_replay_seq), so an
 * interrupted replay resumes after it. Records of txgs that synced are
 * skipped, as are out-of-order records naming objects that are gone.
 * When the walk ends (complete, or stopped by a record that fails as
 * OpenZFS's replay would fail) the log is destroyed: its blocks and the
 * claimed indirect write blocks are freed, the header zeroed, zilsaxattr
 * deactivated. Records zfuse cannot execute at all (a type it does not
 * know, ACLs, block clones, foreign FUIDs) are found before anything is
 * replayed: the log is left as it is and the dataset stays read-only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "arc.h"
#include "byteorder.h"
#include "dmu_tx.h"
#include "dsl.h"
#include "dsl_synctask.h"
#include "metaslab.h"
#include "spa_impl.h"
#include "spa_misc.h"
#include "txg.h"
#include "zap.h"
#include "zfeature.h"
#include "zfeature_write.h"
#include "zil.h"
#include "zpl_impl.h"
#include "zpl_write.h"
#include "zfuse/errors.h"
#include "zfuse/zfuse.h"
#include "zfs_debug.h"

/* Linux ATTR_* bits of lr_mask (zil.md §5.7). */
#define LX_ATTR_MODE 0x1
#define LX_ATTR_UID 0x2
#define LX_ATTR_GID 0x4
#define LX_ATTR_SIZE 0x8
#define LX_ATTR_ATIME 0x10
#define LX_ATTR_MTIME 0x20
#define LX_ATTR_XVATTR 0x80000000ULL

#define LR_CREATE_SIZE 104
#define LR_ACL_CREATE_SIZE 144
#define XVAT_SIZE 72	/* ZIL_XVAT_SIZE(3) */
#define XAT0_CREATETIME 0x1
#define XAT0_PROJID 0x40000

static uint64_t rd(const uint8_t *lr, uint64_t off) { return le64(lr + off); }

/* ---- checking a record before anything is replayed ------------------------- */

static bool is_create(uint64_t t)
{
	return t == TX_CREATE || t == TX_MKDIR || t == TX_MKXATTR || t == TX_SYMLINK ||
	       (t >= TX_CREATE_ACL && t <= TX_MKDIR_ACL_ATTR);
}
static bool has_acl(uint64_t t)
{
	return t == TX_CREATE_ACL || t == TX_CREATE_ACL_ATTR || t == TX_MKDIR_ACL || t == TX_MKDIR_ACL_ATTR;
}
static bool has_attr(uint64_t t)
{
	return t == TX_CREATE_ATTR || t == TX_CREATE_ACL_ATTR || t == TX_MKDIR_ATTR || t == TX_MKDIR_ACL_ATTR;
}

/* A NUL-terminated string at *off within the record; advances *off. */
static const char *str_at(const uint8_t *lr, uint64_t *off)
{
	uint64_t len = rd(lr, 8);
	if (*off >= len)
		return NULL;
	const uint8_t *nul = memchr(lr + *off, 0, len - *off);
	if (!nul)
		return NULL;
	const char *s = (const char *)lr + *off;
	*off = (uint64_t)(nul - lr) + 1;
	return s;
}

/* The parts of a create-family record (zil.md §5.1). */
struct lr_create {
	uint64_t doid, obj, slots, mode, uid, gid, gen, rdev;
	int64_t crtime[2];
	const uint8_t *xvattr;
	const char *name, *target;
};

static const char *parse_create(const uint8_t *lr, uint64_t t, struct lr_create *c)
{
	uint64_t len = rd(lr, 8), off = has_acl(t) ? LR_ACL_CREATE_SIZE : LR_CREATE_SIZE;
	if (len < off)
		return "record shorter than its type";
	c->doid = rd(lr, 32) & LR_FOID_OBJ_MASK;
	uint64_t foid = rd(lr, 40);
	c->obj = foid & LR_FOID_OBJ_MASK;
	c->slots = (foid >> 56) + 1;
	c->mode = rd(lr, 48);
	c->uid = rd(lr, 56);
	c->gid = rd(lr, 64);
	c->gen = rd(lr, 72);
	c->crtime[0] = (int64_t)rd(lr, 80);
	c->crtime[1] = (int64_t)rd(lr, 88);
	c->rdev = rd(lr, 96);
	c->xvattr = NULL;
	if ((c->uid >> 32) || (c->gid >> 32))
		return "owner is a FUID with a domain (not written by Linux)";
	if (has_attr(t)) {
		if (len < off + XVAT_SIZE || le32(lr + off) != 3)
			return "xvattr block with a mask size other than 3";
		c->xvattr = lr + off;
		off += XVAT_SIZE;
	}
	if (has_acl(t)) {
		if (rd(lr, 128) != 0 || rd(lr, 120) != 0 || rd(lr, 112) != 0)
			return "an ACL (NFSv4 ACLs are not written by zfuse)";
	}
	if (!(c->name = str_at(lr, &off)))
		return "name not terminated";
	c->target = NULL;
	if (t == TX_SYMLINK && !(c->target = str_at(lr, &off)))
		return "symlink target not terminated";
	return NULL;
}

/* Why rec cannot be replayed by zfuse at all, or NULL. */
static const char *record_problem(const uint8_t *lr)
{
	uint64_t t = rd(lr, 0) & ~TX_CI, len = rd(lr, 8), off;
	struct lr_create c;
	switch (t) {
	case TX_CREATE: case TX_MKDIR: case TX_MKXATTR: case TX_SYMLINK:
	case TX_CREATE_ATTR: case TX_MKDIR_ATTR:
	case TX_CREATE_ACL: case TX_CREATE_ACL_ATTR: case TX_MKDIR_ACL: case TX_MKDIR_ACL_ATTR:
		return parse_create(lr, t, &c);
	case TX_REMOVE: case TX_RMDIR:
		off = 40;
		return len < 40 || !str_at(lr, &off) ? "bad remove record" : NULL;
	case TX_LINK:
		off = 48;
		return len < 48 || !str_at(lr, &off) ? "bad link record" : NULL;
	case TX_RENAME: case TX_RENAME_EXCHANGE: case TX_RENAME_WHITEOUT:
		off = t == TX_RENAME_WHITEOUT ? 112 : 48;
		if (len < off || !str_at(lr, &off) || !str_at(lr, &off))
			return "bad rename record";
		if (t == TX_RENAME_WHITEOUT && ((rd(lr, 64) >> 32) || (rd(lr, 72) >> 32)))
			return "owner is a FUID with a domain";
		return NULL;
	case TX_WRITE: case TX_WRITE2:
		if (len < LR_WRITE_SIZE)
			return "write record shorter than its type";
		if (t == TX_WRITE && len != LR_WRITE_SIZE && rd(lr, 48) > len - LR_WRITE_SIZE)
			return "write record with more data than it holds";
		return NULL;
	case TX_TRUNCATE:
		return len < 56 ? "truncate record shorter than its type" : NULL;
	case TX_SETATTR:
		if (len < 112)
			return "setattr record shorter than its type";
		if ((rd(lr, 40) & LX_ATTR_XVATTR) && (len < 112 + XVAT_SIZE || le32(lr + 112) != 3))
			return "xvattr block with a mask size other than 3";
		if ((rd(lr, 40) & (LX_ATTR_UID | LX_ATTR_GID)) && ((rd(lr, 56) >> 32) || (rd(lr, 64) >> 32)))
			return "owner is a FUID with a domain";
		return NULL;
	case TX_SETSAXATTR:
		off = 48;
		if (len < 48 || !str_at(lr, &off) || rd(lr, 40) > len - off)
			return "bad SA xattr record";
		return NULL;
	case TX_ACL_V0: case TX_ACL:
		return "an ACL record (NFSv4 ACLs are not written by zfuse)";
	case TX_CLONE_RANGE:
		return "a block clone record (zfuse keeps no block reference table)";
	default:
		return "a record type this version does not know (a newer OpenZFS wrote the log)";
	}
}

/* ---- executing records (zfs_replay.c) ----------------------------------------- */

static bool object_exists(zfuse_fs_t *fs, uint64_t obj)
{
	struct stat st;
	return zfuse_getattr(fs, obj, &st) == 0;
}

/* zfs_replay's xvattr: the requested z_pflags bits, crtime and project id. */
static int apply_xvattr(zfuse_fs_t *fs, uint64_t obj, const uint8_t *x)
{
	static const struct { uint32_t xat; uint64_t pflag; } map[] = {
		{ 0x2, 0x800000000ULL }, { 0x4, 0x400000000ULL }, { 0x8, 0x100000000ULL },
		{ 0x10, 0x200000000ULL }, { 0x20, 0x2000000000ULL }, { 0x40, 0x1000000000ULL },
		{ 0x80, 0x4000000000ULL }, { 0x100, 0x8000000000ULL }, { 0x200, 0x10000000000ULL },
		{ 0x400, 0x20000000000ULL }, { 0x800, 0x40000000000ULL }, { 0x2000, 0x80000000000ULL },
		{ 0x8000, 0x100000000000ULL }, { 0x10000, 0x200000000000ULL },
		{ 0x20000, 0x400000000000ULL },
	};
	uint32_t req = le32(x + 4);
	uint64_t attrs = le64(x + 16);
	dmu_tx_t tx;
	int64_t now[2];
	struct wnode n;
	int rc = zplw_op_begin(fs, obj, zplw_wnode_load, &tx, now, &n);
	if (rc)
		return rc;
	uint64_t flags = n.flags;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (req & map[i].xat)
			flags = (attrs & map[i].xat) ? flags | map[i].pflag : flags & ~map[i].pflag;
	if (req & XAT0_PROJID) {
		flags |= ZFS_PROJID;
		rc = zplw_wset(fs, &n, ZPL_PROJID, le64(x + 40));
	}
	if (rc == 0 && (req & XAT0_CREATETIME)) {
		int64_t t[2] = { (int64_t)le64(x + 24), (int64_t)le64(x + 32) };
		rc = sa_attrs_set_time(fs->w->sat, &n.sa, ZPL_CRTIME, t);
	}
	n.flags = flags;	/* zplw_wtouch writes FLAGS from it */
	if (rc == 0)
		rc = zplw_wtouch(fs, &n, TS_CTIME, now);
	if (rc == 0)
		rc = zplw_wstore(fs, &n, &tx);
	zplw_wnode_free(&n);
	return zplw_wend(fs, &tx, rc);
}

/* A name that loses its object: free it at once, as the inactive znode is
 * in OpenZFS (nothing holds it during replay). */
static void forget_removed(zfuse_fs_t *fs, uint64_t obj)
{
	if (obj)
		zfuse_forget(fs, obj);
}

static uint64_t lookup_or_0(zfuse_fs_t *fs, uint64_t dir, const char *name)
{
	uint64_t obj;
	return zfuse_lookup(fs, dir, name, &obj) == 0 ? obj : 0;
}

static int replay_create(zfuse_fs_t *fs, const uint8_t *lr, uint64_t t)
{
	struct lr_create c;
	if (parse_create(lr, t, &c))
		return -ZFUSE_E_CORRUPT;
	if (!object_exists(fs, c.doid))
		return -ZFUSE_E_NOENT;
	fs->os->replay_object = c.obj;
	fs->os->replay_dnodesize = (unsigned)(c.slots << 9);
	fs->replay_mk = true;
	fs->replay_gen = c.gen;
	fs->replay_crtime[0] = c.crtime[0];
	fs->replay_crtime[1] = c.crtime[1];
	uint64_t ino;
	int rc;
	mode_t perm = (mode_t)(c.mode & 07777);
	if (t == TX_MKXATTR)
		rc = zplw_replay_mkxattr(fs, c.doid);
	else if (t == TX_SYMLINK)
		rc = zfuse_symlink(fs, c.doid, c.name, c.target, (uint32_t)c.uid, (uint32_t)c.gid, &ino, NULL);
	else if (S_ISDIR(c.mode))
		rc = zfuse_mkdir(fs, c.doid, c.name, perm, (uint32_t)c.uid, (uint32_t)c.gid, &ino, NULL);
	else
		rc = zfuse_mknod(fs, c.doid, c.name, (mode_t)c.mode,
				 makedev((unsigned)(c.rdev >> 20), (unsigned)(c.rdev & 0xfffff)),
				 (uint32_t)c.uid, (uint32_t)c.gid, &ino, NULL);
	fs->os->replay_object = 0;
	fs->os->replay_dnodesize = 0;
	fs->replay_mk = false;
	if (rc == 0 && c.xvattr)
		rc = apply_xvattr(fs, c.obj, c.xvattr);
	return rc;
}

static int replay_write(zfuse_fs_t *fs, const uint8_t *lr, uint64_t t)
{
	uint64_t obj = rd(lr, 32) & LR_FOID_OBJ_MASK, off = rd(lr, 40), len = rd(lr, 48);
	struct stat st;
	int rc = zfuse_getattr(fs, obj, &st);
	if (rc)
		return rc;
	uint64_t size = (uint64_t)st.st_size, eod = off + len;
	struct zfuse_setattr sa = { .valid = ZFUSE_SET_SIZE, .size = eod };
	if (t == TX_WRITE2)
		return eod > size ? zfuse_setattr(fs, obj, &sa, NULL) : 0;
	if (rd(lr, 8) != LR_WRITE_SIZE) {
		ssize_t n = zfuse_write(fs, obj, lr + LR_WRITE_SIZE, len, off);
		return n < 0 ? (int)n : 0;
	}
	/* Indirect: the whole block the record's bp holds, then the size the
	 * write made (zfs_replay_write with z_replay_eof). */
	blkptr_t bp;
	bp_load(&bp, lr + 64);
	uint64_t bsize = bp_get_lsize(&bp);
	if (bp_is_hole(&bp) && bsize == 0)
		bsize = len;
	if (bsize == 0 || bsize > SPA_MAXBLOCKSIZE)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	uint8_t *data = calloc(1, bsize);
	if (!data)
		return -ZFUSE_E_NOMEM;
	if (!bp_is_hole(&bp)) {
		arc_buf_t *b;
		if ((rc = arc_read_key(fs->spa, &bp, fs->os->key, &b)) != 0) {
			free(data);
			return rc;
		}
		memcpy(data, b->data, b->size < bsize ? b->size : bsize);
		arc_release(fs->spa, b);
	}
	uint64_t woff = off, wlen = len;
	if (wlen < bsize) {
		woff -= woff % bsize;
		wlen = bsize;
	}
	ssize_t n = zfuse_write(fs, obj, data, wlen, woff);
	free(data);
	if (n < 0)
		return (int)n;
	return size < eod ? zfuse_setattr(fs, obj, &sa, NULL) : 0;
}

static int replay_truncate(zfuse_fs_t *fs, const uint8_t *lr)
{
	uint64_t obj = rd(lr, 32) & LR_FOID_OBJ_MASK, off = rd(lr, 40), len = rd(lr, 48);
	struct stat st;
	int rc = zfuse_getattr(fs, obj, &st);
	if (rc)
		return rc;
	if (len == 0) {
		struct zfuse_setattr sa = { .valid = ZFUSE_SET_SIZE, .size = off };
		return zfuse_setattr(fs, obj, &sa, NULL);
	}
	/* zfs_freesp: free the range, and extend the file to its end. */
	if (off + len > (uint64_t)st.st_size)
		return zfuse_fallocate(fs, obj, ZFUSE_FALLOC_ZERO_RANGE, off, len);
	return zfuse_fallocate(fs, obj, ZFUSE_FALLOC_PUNCH_HOLE | ZFUSE_FALLOC_KEEP_SIZE, off, len);
}

static int replay_setattr(zfuse_fs_t *fs, const uint8_t *lr)
{
	uint64_t obj = rd(lr, 32) & LR_FOID_OBJ_MASK, mask = rd(lr, 40);
	struct zfuse_setattr sa = { 0 };
	if (mask & LX_ATTR_MODE) {
		sa.valid |= ZFUSE_SET_MODE;
		sa.mode = (mode_t)(rd(lr, 48) & 07777);
	}
	if (mask & LX_ATTR_UID) {
		sa.valid |= ZFUSE_SET_UID;
		sa.uid = (uint32_t)rd(lr, 56);
	}
	if (mask & LX_ATTR_GID) {
		sa.valid |= ZFUSE_SET_GID;
		sa.gid = (uint32_t)rd(lr, 64);
	}
	if (mask & LX_ATTR_SIZE) {
		sa.valid |= ZFUSE_SET_SIZE;
		sa.size = rd(lr, 72);
	}
	if (mask & LX_ATTR_ATIME) {
		sa.valid |= ZFUSE_SET_ATIME;
		sa.atime.tv_sec = (time_t)rd(lr, 80);
		sa.atime.tv_nsec = (long)rd(lr, 88);
	}
	if (mask & LX_ATTR_MTIME) {
		sa.valid |= ZFUSE_SET_MTIME;
		sa.mtime.tv_sec = (time_t)rd(lr, 96);
		sa.mtime.tv_nsec = (long)rd(lr, 104);
	}
	int rc = 0;
	if (sa.valid)
		rc = zfuse_setattr(fs, obj, &sa, NULL);
	if (rc == 0 && (mask & LX_ATTR_XVATTR))
		rc = apply_xvattr(fs, obj, lr + 112);
	return rc;
}

static int replay_saxattr(zfuse_fs_t *fs, const uint8_t *lr)
{
	uint64_t obj = rd(lr, 32) & LR_FOID_OBJ_MASK, size = rd(lr, 40), off = 48;
	const char *name = str_at(lr, &off);
	return zplw_replay_saxattr(fs, obj, name, size ? lr + off : NULL, size);
}

static int replay_rename(zfuse_fs_t *fs, const uint8_t *lr, uint64_t t)
{
	uint64_t sdoid = rd(lr, 32) & LR_FOID_OBJ_MASK, tdoid = rd(lr, 40) & LR_FOID_OBJ_MASK;
	uint64_t off = t == TX_RENAME_WHITEOUT ? 112 : 48;
	const char *sname = str_at(lr, &off), *tname = str_at(lr, &off);
	uint64_t src = lookup_or_0(fs, sdoid, sname), victim = lookup_or_0(fs, tdoid, tname);
	int rc = zfuse_rename(fs, sdoid, sname, tdoid, tname,
			      t == TX_RENAME_EXCHANGE ? ZFUSE_RENAME_EXCHANGE : 0);
	if (rc)
		return rc;
	if (t == TX_RENAME && victim && victim != src)
		forget_removed(fs, victim);
	if (t != TX_RENAME_WHITEOUT)
		return 0;
	uint64_t wfoid = rd(lr, 48);
	fs->os->replay_object = wfoid & LR_FOID_OBJ_MASK;
	fs->os->replay_dnodesize = (unsigned)(((wfoid >> 56) + 1) << 9);
	fs->replay_mk = true;
	fs->replay_gen = rd(lr, 80);
	fs->replay_crtime[0] = (int64_t)rd(lr, 88);
	fs->replay_crtime[1] = (int64_t)rd(lr, 96);
	uint64_t ino;
	rc = zfuse_mknod(fs, sdoid, sname, (mode_t)(rd(lr, 56) | S_IFCHR),
			 makedev((unsigned)(rd(lr, 104) >> 20), (unsigned)(rd(lr, 104) & 0xfffff)),
			 (uint32_t)rd(lr, 64), (uint32_t)rd(lr, 72), &ino, NULL);
	fs->os->replay_object = 0;
	fs->os->replay_dnodesize = 0;
	fs->replay_mk = false;
	return rc;
}

static int replay_record(zfuse_fs_t *fs, const uint8_t *lr)
{
	uint64_t t = rd(lr, 0) & ~TX_CI, off;
	if (zil_txtype_ooo(t) && !object_exists(fs, rd(lr, 32) & LR_FOID_OBJ_MASK))
		return 0;	/* the object was removed later in the log */
	switch (t) {
	case TX_REMOVE: case TX_RMDIR: {
		uint64_t dir = rd(lr, 32) & LR_FOID_OBJ_MASK;
		off = 40;
		const char *name = str_at(lr, &off);
		uint64_t obj = lookup_or_0(fs, dir, name);
		int rc = t == TX_RMDIR ? zfuse_rmdir(fs, dir, name) : zfuse_unlink(fs, dir, name);
		if (rc == 0)
			forget_removed(fs, obj);
		return rc;
	}
	case TX_LINK:
		off = 48;
		return zfuse_link(fs, rd(lr, 40) & LR_FOID_OBJ_MASK, rd(lr, 32) & LR_FOID_OBJ_MASK,
				  str_at(lr, &off), NULL);
	case TX_RENAME: case TX_RENAME_EXCHANGE: case TX_RENAME_WHITEOUT:
		return replay_rename(fs, lr, t);
	case TX_WRITE: case TX_WRITE2:
		return replay_write(fs, lr, t);
	case TX_TRUNCATE:
		return replay_truncate(fs, lr);
	case TX_SETATTR:
		return replay_setattr(fs, lr);
	case TX_SETSAXATTR:
		return replay_saxattr(fs, lr);
	default:
		if (is_create(t))
			return replay_create(fs, lr, t);
		return SET_ERROR(-ZFUSE_E_UNSUPPORTED);
	}
}

/* ---- collecting the records ------------------------------------------------------ */

struct recs {
	uint8_t **v;
	size_t n, cap;
	const char *problem;
	uint64_t problem_seq, problem_type;
};

static int collect_rec(void *arg, const uint8_t *lr)
{
	struct recs *r = arg;
	const char *p = record_problem(lr);
	if (p && !r->problem) {
		r->problem = p;
		r->problem_seq = rd(lr, 24);
		r->problem_type = rd(lr, 0);
	}
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 256;
		uint8_t **nv = realloc(r->v, nc * sizeof(*nv));
		if (!nv)
			return -ZFUSE_E_NOMEM;
		r->v = nv;
		r->cap = nc;
	}
	uint8_t *copy = malloc(rd(lr, 8));
	if (!copy)
		return -ZFUSE_E_NOMEM;
	memcpy(copy, lr, rd(lr, 8));
	r->v[r->n++] = copy;
	return 0;
}

static void recs_free(struct recs *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i]);
	free(r->v);
}

/* ---- destroying the log (zil_destroy_sync) ------------------------------------------ */

struct destroy_ctx {
	spa_t *spa;
	uint64_t txg, claim_txg;
	dva_t *seen;
	size_t nseen, capseen;
};

static void free_bp(struct destroy_ctx *d, const blkptr_t *bp)
{
	for (size_t i = 0; i < d->nseen; i++)
		if (!memcmp(&d->seen[i], &bp->blk_dva[0], sizeof(dva_t)))
			return;
	if (d->nseen == d->capseen) {
		size_t nc = d->capseen ? d->capseen * 2 : 64;
		dva_t *n = realloc(d->seen, nc * sizeof(*n));
		if (n) {
			d->seen = n;
			d->capseen = nc;
		}
	}
	if (d->nseen < d->capseen)
		d->seen[d->nseen++] = bp->blk_dva[0];
	for (int i = 0; i < bp_count_dvas_max(bp); i++)
		if (dva_is_valid(&bp->blk_dva[i]))
			metaslab_free_dva(d->spa, &bp->blk_dva[i], d->txg);
}

static int destroy_blk(void *arg, const blkptr_t *bp)
{
	struct destroy_ctx *d = arg;
	/* An unclaimed chain is allocated only as far as its txgs synced. */
	if (!d->claim_txg && bp->blk_birth > d->spa->ub.ub_txg)
		return 1;
	if (!bp_is_hole(bp) && !bp_is_embedded(bp))
		free_bp(d, bp);
	return 0;
}

static int destroy_rec(void *arg, const uint8_t *lr)
{
	struct destroy_ctx *d = arg;
	if (!d->claim_txg || (rd(lr, 0) & ~TX_CI) != TX_WRITE || rd(lr, 8) != LR_WRITE_SIZE)
		return 0;
	blkptr_t bp;
	bp_load(&bp, lr + 64);
	if (!bp_is_hole(&bp) && !bp_is_embedded(&bp) && bp.blk_birth >= d->claim_txg)
		free_bp(d, &bp);
	return 0;
}

int zil_free_log(spa_t *spa, const blkptr_t *os_bp, uint64_t txg)
{
	if (bp_is_hole(os_bp))
		return 0;
	objset_t *os;
	int rc = objset_open(spa, os_bp, &os);
	if (rc)
		return rc;
	zil_header_t zh;
	zil_header_get(os, &zh);
	objset_close(os);
	if (bp_is_hole(&zh.log) || bp_is_embedded(&zh.log))
		return 0;
	struct destroy_ctx d = { spa, txg, zh.claim_txg, NULL, 0, 0 };
	struct zil_parse_end end;
	zil_parse(spa, &zh, destroy_blk, destroy_rec, &d, &end);
	free(d.seen);
	return 0;
}

struct saxattr_arg {
	uint64_t dsobj;
};

static int saxattr_check(spa_t *spa, void *arg, dmu_tx_t *tx)
{
	(void)spa, (void)arg, (void)tx;
	return 0;
}

/* dsl_dataset_deactivate_feature(zilsaxattr), when it is active here. */
static int saxattr_sync(spa_t *spa, void *arg, dmu_tx_t *tx)
{
	struct saxattr_arg *a = arg;
	const struct zfeature_info *fi = zfeature_lookup("org.openzfs:zilsaxattr");
	if (!fi)
		return 0;
	int rc = zap_remove(spa->mos, a->dsobj, fi->guid, tx);
	if (rc == -ZFUSE_E_NOENT || rc == -ZFUSE_E_INVAL)
		return 0;	/* not active (or the dataset has no ZAP) */
	return rc ? rc : spa_feature_decr(spa, fi->name, tx);
}

static int destroy_log(spa_t *spa, objset_t *os, uint64_t dsobj, const char *name,
		       const zil_header_t *zh)
{
	dmu_tx_t tx;
	int rc = dmu_tx_begin(spa, &tx);
	if (rc)
		return rc;
	struct destroy_ctx d = { spa, tx.txg, zh->claim_txg, NULL, 0, 0 };
	struct zil_parse_end end;
	zil_parse(spa, zh, destroy_blk, destroy_rec, &d, &end);
	free(d.seen);
	zil_header_t zero;
	memset(&zero, 0, sizeof(zero));
	zil_header_put(os, &zero);
	dmu_tx_commit(&tx);
	spa_log(spa, ZFUSE_LOG_INFO, "%s: intent log destroyed (%llu blocks freed)", name,
		(unsigned long long)end.blk_count);
	struct saxattr_arg a = { dsobj };
	return dsl_sync_task(spa, saxattr_check, saxattr_sync, &a);
}

/* zil_destroy(keep_first): the same first block, a new chain identity. */
static int reset_keep_first(spa_t *spa, objset_t *os, uint64_t dsobj, const zil_header_t *zh)
{
	dmu_tx_t tx;
	int rc = dmu_tx_begin(spa, &tx);
	if (rc)
		return rc;
	zil_header_t n;
	memset(&n, 0, sizeof(n));
	n.log = zh->log;
	n.log.blk_cksum.zc_word[ZIL_ZC_GUID_0] = dsl_random64();
	n.log.blk_cksum.zc_word[ZIL_ZC_GUID_1] = dsl_random64();
	n.log.blk_cksum.zc_word[ZIL_ZC_OBJSET] = dsobj;
	n.log.blk_cksum.zc_word[ZIL_ZC_SEQ] = 1;
	zil_header_put(os, &n);
	dmu_tx_commit(&tx);
	return txg_sync_now(spa);
}

/* The claimed header of os (the claim on disk first) and the records to
 * replay; 1: nothing to replay. A damaged record ends the walk (in end). */
static int replay_start(spa_t *spa, objset_t *os, uint64_t dsobj, zil_header_t *zh,
			struct recs *r, struct zil_parse_end *end)
{
	spa_enter_read(spa);
	zil_header_get(os, zh);
	spa_exit(spa);
	if (bp_is_hole(&zh->log) || zh->claim_txg == 0)
		return 1;
	int rc;
	if (zh->claim_txg > spa->ub.ub_txg && (rc = txg_sync_now(spa)) != 0)
		return rc;
	if (!(zh->flags & ZIL_REPLAY_NEEDED)) {
		rc = reset_keep_first(spa, os, dsobj, zh);
		return rc ? rc : 1;
	}
	/* an encrypted log's records are read with the dataset's key */
	if (bp_uses_crypt(&zh->log) && !os->key)
		return SET_ERROR(-ZFUSE_E_ACCESS);
	spa_enter_read(spa);
	rc = zil_parse_key(spa, zh, os->key, NULL, collect_rec, r, end);
	spa_exit(spa);
	if (rc == -ZFUSE_E_NOMEM) {
		recs_free(r);
		return rc;
	}
	if (end->error)
		spa_log(spa, ZFUSE_LOG_WARN, "intent log of dataset object %" PRIu64 ": a damaged record "
			"ends it after record %" PRIu64, dsobj, end->lr_seq);
	return 0;
}

/* ---- the replay --------------------------------------------------------------------- */

int zil_replay(zfuse_fs_t *fs, char *why, size_t cap)
{
	spa_t *spa = fs->spa;
	zil_header_t zh;
	struct recs r = { 0 };
	struct zil_parse_end end;
	int rc = replay_start(spa, fs->os, fs->dsobj, &zh, &r, &end);
	if (rc == -ZFUSE_E_ACCESS)
		snprintf(why, cap, "its intent log is encrypted and its key is not loaded");
	if (rc)
		return rc == 1 ? 0 : rc;
	if (r.problem) {
		snprintf(why, cap, "its intent log cannot be replayed by zfuse: record %" PRIu64 " (%s) "
			 "is %s; the log is kept for OpenZFS", r.problem_seq,
			 zil_txtype_name(r.problem_type), r.problem);
		recs_free(&r);
		return -ZFUSE_E_ROFS;
	}
	uint64_t replayed = 0;
	for (size_t i = 0; i < r.n; i++) {
		const uint8_t *lr = r.v[i];
		uint64_t seq = rd(lr, 24);
		if (seq <= zh.replay_seq || rd(lr, 16) < zh.claim_txg)
			continue;
		fs->replay_seq = seq;
		rc = replay_record(fs, lr);
		if (rc && rc != -ZFUSE_E_ROFS && rc != -ZFUSE_E_IO) {
			txg_sync_now(spa);	/* pending frees may hold an object number */
			rc = replay_record(fs, lr);
		}
		fs->replay_seq = 0;
		if (rc) {
			/* zil_replay_error: the rest of the log is lost, as in OpenZFS. */
			spa_log(spa, ZFUSE_LOG_WARN, "%s: replay of intent log record %" PRIu64 " (%s) "
				"failed: %s; the records after it are dropped, as OpenZFS does",
				fs->name, seq, zil_txtype_name(rd(lr, 0)), zfuse_strerror(rc));
			if (rc == -ZFUSE_E_IO || rc == -ZFUSE_E_ROFS) {
				recs_free(&r);
				snprintf(why, cap, "the replay of its intent log failed (%s)", zfuse_strerror(rc));
				return -ZFUSE_E_ROFS;
			}
			break;
		}
		replayed++;
	}
	recs_free(&r);
	spa_log(spa, ZFUSE_LOG_INFO, "%s: replayed %" PRIu64 " intent log records", fs->name, replayed);
	if ((rc = destroy_log(spa, fs->os, fs->dsobj, fs->name, &zh)) != 0) {
		snprintf(why, cap, "its replayed intent log could not be destroyed (%s)", zfuse_strerror(rc));
		return -ZFUSE_E_ROFS;
	}
	return 0;
}

/* ---- volumes (zvol_replay_vector) ------------------------------------------------------ */

#define ZVOL_OBJ 1

static int volume_record(spa_t *spa, objset_t *os, const uint8_t *lr)
{
	uint64_t t = rd(lr, 0) & ~TX_CI, off = rd(lr, 40), len = rd(lr, 48);
	dmu_tx_t tx;
	int rc;
	if (t == TX_TRUNCATE) {
		if ((rc = dmu_tx_begin(spa, &tx)) != 0)
			return rc;
		rc = dmu_free_range(os, ZVOL_OBJ, off, len, &tx);
	} else {
		const uint8_t *data = lr + LR_WRITE_SIZE;
		uint8_t *block = NULL;
		if (rd(lr, 8) == LR_WRITE_SIZE) {
			/* Indirect: the whole block of the record's bp. */
			blkptr_t bp;
			bp_load(&bp, lr + 64);
			uint64_t bsize = bp_get_lsize(&bp);
			if (bsize == 0 || bsize > SPA_MAXBLOCKSIZE || !(block = calloc(1, bsize)))
				return bsize ? -ZFUSE_E_NOMEM : SET_ERROR(-ZFUSE_E_CORRUPT);
			if (!bp_is_hole(&bp)) {
				arc_buf_t *b;
				if ((rc = arc_read_key(spa, &bp, os->key, &b)) != 0) {
					free(block);
					return rc;
				}
				memcpy(block, b->data, b->size < bsize ? b->size : bsize);
				arc_release(spa, b);
			}
			off -= off % bsize;
			len = bsize;
			data = block;
		}
		if ((rc = dmu_tx_begin(spa, &tx)) != 0) {
			free(block);
			return rc;
		}
		rc = dmu_write(os, ZVOL_OBJ, off, len, data, &tx);
		free(block);
	}
	if (rc == 0) {
		zil_header_t zh;
		zil_header_get(os, &zh);
		zh.replay_seq = rd(lr, 24);
		zil_header_put(os, &zh);
	}
	dmu_tx_commit(&tx);
	return rc;
}

int zil_replay_volume(spa_t *spa, objset_t *os, uint64_t dsobj, const char *name, char *why,
		      size_t cap)
{
	zil_header_t zh;
	struct recs r = { 0 };
	struct zil_parse_end end;
	int rc = replay_start(spa, os, dsobj, &zh, &r, &end);
	if (rc == -ZFUSE_E_ACCESS)
		snprintf(why, cap, "its intent log is encrypted and its key is not loaded");
	if (rc)
		return rc == 1 ? 0 : rc;
	for (size_t i = 0; rc == 0 && i < r.n; i++) {
		uint64_t t = rd(r.v[i], 0) & ~TX_CI;
		if ((t != TX_WRITE && t != TX_TRUNCATE) || record_problem(r.v[i])) {
			snprintf(why, cap, "its intent log cannot be replayed by zfuse: record %" PRIu64
				 " (%s) is not a volume's; the log is kept for OpenZFS", rd(r.v[i], 24),
				 zil_txtype_name(t));
			rc = -ZFUSE_E_ROFS;
		}
	}
	uint64_t replayed = 0;
	for (size_t i = 0; rc == 0 && i < r.n; i++) {
		const uint8_t *lr = r.v[i];
		if (rd(lr, 24) <= zh.replay_seq || rd(lr, 16) < zh.claim_txg)
			continue;
		int e = volume_record(spa, os, lr);
		if (e) {
			spa_log(spa, ZFUSE_LOG_WARN, "%s: replay of intent log record %" PRIu64 " failed: %s; "
				"the records after it are dropped, as OpenZFS does", name, rd(lr, 24),
				zfuse_strerror(e));
			break;
		}
		replayed++;
	}
	recs_free(&r);
	if (rc)
		return rc;
	spa_log(spa, ZFUSE_LOG_INFO, "%s: replayed %" PRIu64 " intent log records", name, replayed);
	if ((rc = destroy_log(spa, os, dsobj, name, &zh)) != 0) {
		snprintf(why, cap, "its replayed intent log could not be destroyed (%s)", zfuse_strerror(rc));
		return -ZFUSE_E_ROFS;
	}
	return 0;
}
