/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zpl.c — the ZFS POSIX layer, read side: a filesystem dataset or snapshot
 * seen as files. Attributes come from SA bonus buffers or legacy
 * znode_phys_t; stat() follows object-layer.md §8.17 to the letter
 * (st_blocks from dn_used plus dnode slots, rdev split 12/20). Directories
 * are ZAPs read with resumable (hash, cd) cursors; xattrs live in the SA
 * nvlist and in the hidden xattr directory.
 */
#include <dirent.h>
#include <stdio.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include "byteorder.h"
#include "dmu_types.h"
#include "dnode.h"
#include "dsl.h"
#include "nvpair.h"
#include "sa.h"
#include "spa.h"
#include "zap.h"
#include "zpl_impl.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define ZNODE_PHYS_SIZE 264
#define ZFS_XATTR 0x1
#define ZFS_BONUS_SCANSTAMP 0x80

/* Cookies 0..3 are positions before the ZAP (§8.4); ZAP cursors start at
 * 1 << 28 because the next-cookie of an entry always has cd >= 1. */
#define COOKIE_DOTDOT 1
#define COOKIE_ZAP_START 2
#define COOKIE_END ((1ULL << 62) - 1)


static void load_time(int64_t t[2], const uint8_t *p)
{
	t[0] = (int64_t)le64(p);
	t[1] = (int64_t)le64(p + 8);
}

static void sa_time(const sa_handle_t *h, enum zpl_attr a, int64_t t[2])
{
	if (h->attr[a] && h->len[a] >= 16)
		load_time(t, h->attr[a]);
	else
		t[0] = t[1] = 0;
}

/* Hold a ZPL object and decode its attributes. */
int zpl_znode_get(zfuse_fs_t *fs, uint64_t ino, dnode_t *dn, struct znode *zp)
{
	SPA_ASSERT_HELD(fs->spa);
	memset(zp, 0, sizeof(*zp));
	int rc = dnode_hold(fs->os, ino, dn);
	if (rc)
		return rc;
	uint64_t blen;
	const uint8_t *b = dnode_bonus(dn, &blen);
	if (dn->bonustype == DMU_OT_SA) {
		sa_handle_t h;
		if ((rc = sa_handle_get(fs->sa, dn, &h)) != 0)
			goto fail;
		zp->mode = sa_get_u64(&h, ZPL_MODE, 0);
		zp->size = sa_get_u64(&h, ZPL_SIZE, 0);
		zp->links = sa_get_u64(&h, ZPL_LINKS, 0);
		zp->uid = sa_get_u64(&h, ZPL_UID, 0);
		zp->gid = sa_get_u64(&h, ZPL_GID, 0);
		zp->parent = sa_get_u64(&h, ZPL_PARENT, 0);
		zp->flags = sa_get_u64(&h, ZPL_FLAGS, 0);
		zp->gen = sa_get_u64(&h, ZPL_GEN, 0);
		zp->rdev = sa_get_u64(&h, ZPL_RDEV, 0);
		zp->xattr = sa_get_u64(&h, ZPL_XATTR, 0);
		sa_time(&h, ZPL_ATIME, zp->atime);
		sa_time(&h, ZPL_MTIME, zp->mtime);
		sa_time(&h, ZPL_CTIME, zp->ctime);
		sa_time(&h, ZPL_CRTIME, zp->crtime);
		bool has_mode = h.attr[ZPL_MODE] != NULL;
		sa_handle_release(&h);
		if (!has_mode) {
			rc = SET_ERROR(-ZFUSE_E_CORRUPT);
			goto fail;
		}
		return 0;
	}
	if (dn->bonustype == DMU_OT_ZNODE && blen >= ZNODE_PHYS_SIZE) {
		load_time(zp->atime, b + 0);
		load_time(zp->mtime, b + 16);
		load_time(zp->ctime, b + 32);
		load_time(zp->crtime, b + 48);
		zp->gen = le64(b + 64);
		zp->mode = le64(b + 72);
		zp->size = le64(b + 80);
		zp->parent = le64(b + 88);
		zp->links = le64(b + 96);
		zp->xattr = le64(b + 104);
		zp->rdev = le64(b + 112);
		zp->flags = le64(b + 120);
		zp->uid = le64(b + 128);
		zp->gid = le64(b + 136);
		return 0;
	}
	rc = -ZFUSE_E_NOENT;	/* not a ZPL file object */
fail:
	dnode_rele(dn);
	return rc;
}

static dev_t decode_rdev(const zfuse_fs_t *fs, uint64_t rdev)
{
	/* Linux OpenZFS stores the kernel dev_t (major << 20 | minor); pools
	 * written elsewhere (zfs-fuse, illumos) use major << 32 | minor. */
	if (rdev >> 32)
		return makedev((unsigned)(rdev >> 32), (unsigned)(rdev & 0xffffffff));
	(void)fs;
	return makedev((unsigned)(rdev >> 20), (unsigned)(rdev & 0xfffff));
}

static void fill_stat(const zfuse_fs_t *fs, uint64_t ino, const dnode_t *dn, const struct znode *zp,
		      struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = (mode_t)zp->mode;
	st->st_nlink = (nlink_t)zp->links;
	st->st_uid = (uid_t)zp->uid;
	st->st_gid = (gid_t)zp->gid;
	st->st_size = (off_t)zp->size;
	if (S_ISCHR(zp->mode) || S_ISBLK(zp->mode))
		st->st_rdev = decode_rdev(fs, zp->rdev);
	uint64_t used = dn->used;
	if (!(dn->flags & DNODE_FLAG_USED_BYTES))
		used <<= 9;
	st->st_blocks = (blkcnt_t)(((used + 256) >> 9) + dn->extra_slots + 1);
	st->st_blksize = (blksize_t)(dnode_datablksz(dn) ? dnode_datablksz(dn) : zpl_recordsize(fs));
	st->st_atim.tv_sec = zp->atime[0];
	st->st_atim.tv_nsec = zp->atime[1];
	st->st_mtim.tv_sec = zp->mtime[0];
	st->st_mtim.tv_nsec = zp->mtime[1];
	st->st_ctim.tv_sec = zp->ctime[0];
	st->st_ctim.tv_nsec = zp->ctime[1];
}

int zpl_getattr_locked(zfuse_fs_t *fs, uint64_t ino, struct stat *st)
{
	dnode_t dn;
	struct znode zp;
	int rc = zpl_znode_get(fs, ino, &dn, &zp);
	if (rc)
		return rc;
	fill_stat(fs, ino, &dn, &zp, st);
	dnode_rele(&dn);
	return 0;
}

static int parent_locked(zfuse_fs_t *fs, uint64_t dir, uint64_t *parent)
{
	dnode_t dn;
	struct znode zp;
	int rc = zpl_znode_get(fs, dir, &dn, &zp);
	if (rc)
		return rc;
	dnode_rele(&dn);
	*parent = dir == fs->root ? fs->root : zp.parent;
	return 0;
}

/* Hold a directory's dnode, checking it is one. */
static int dir_hold(zfuse_fs_t *fs, uint64_t dir, dnode_t *dn, struct znode *zp)
{
	int rc = zpl_znode_get(fs, dir, dn, zp);
	if (rc)
		return rc;
	if (!S_ISDIR(zp->mode) || !dmu_ot_is_zap(dn->type)) {
		dnode_rele(dn);
		return -ZFUSE_E_NOTDIR;
	}
	return 0;
}

static int dir_lookup(zfuse_fs_t *fs, dnode_t *dn, const char *name, uint64_t *value)
{
	if (fs->normflags)
		return zap_lookup_norm(dn, name, value, NULL, 0);
	return zap_lookup_uint64(dn, name, value);
}

static int lookup_locked(zfuse_fs_t *fs, uint64_t dir, const char *name, uint64_t *ino)
{
	if (strlen(name) > 255)
		return -ZFUSE_E_NAMETOOLONG;
	if (strcmp(name, ".") == 0) {
		*ino = dir;
		return 0;
	}
	if (strcmp(name, "..") == 0)
		return parent_locked(fs, dir, ino);
	dnode_t dn;
	struct znode zp;
	int rc = dir_hold(fs, dir, &dn, &zp);
	if (rc)
		return rc;
	uint64_t v;
	rc = dir_lookup(fs, &dn, name, &v);
	dnode_rele(&dn);
	if (rc)
		return rc;
	*ino = ZFS_DIRENT_OBJ(v);
	return 0;
}

static unsigned dtype_of_mode(uint64_t mode)
{
	return (unsigned)((mode & S_IFMT) >> 12);
}

struct readdir_ctx {
	zfuse_fs_t *fs;
	zfuse_dirent_fn cb;
	void *arg;
	unsigned hashbits;
};

static int readdir_cb(void *arg, const zap_entry_t *ze)
{
	struct readdir_ctx *c = arg;
	uint64_t obj = ZFS_DIRENT_OBJ(ze->value_first);
	unsigned dtype = c->fs->version >= 2 ? (unsigned)ZFS_DIRENT_TYPE(ze->value_first) : DT_UNKNOWN;
	if (dtype == DT_UNKNOWN) {
		struct stat st;
		if (zpl_getattr_locked(c->fs, obj, &st) == 0)
			dtype = dtype_of_mode(st.st_mode);
	}
	uint64_t h = ze->hash >> (64 - c->hashbits);
	uint64_t next = h | ((uint64_t)(ze->cd + 1) << c->hashbits);
	return c->cb(c->arg, ze->name, obj, dtype, next);
}

static int readdir_locked(zfuse_fs_t *fs, uint64_t dir, uint64_t cookie, zfuse_dirent_fn cb, void *arg)
{
	dnode_t dn;
	struct znode zp;
	int rc = dir_hold(fs, dir, &dn, &zp);
	if (rc)
		return rc;
	if (cookie >= COOKIE_END) {
		dnode_rele(&dn);
		return 0;
	}
	if (cookie == 0 && (rc = cb(arg, ".", dir, DT_DIR, COOKIE_DOTDOT)) != 0)
		goto out;
	if (cookie <= COOKIE_DOTDOT) {
		uint64_t parent = dir == fs->root ? fs->root : zp.parent;
		if ((rc = cb(arg, "..", parent, DT_DIR, COOKIE_ZAP_START)) != 0)
			goto out;
	}
	zap_info_t info;
	if ((rc = zap_get_info(&dn, &info)) != 0)
		goto out;
	uint64_t start_hash = 0;
	uint32_t start_cd = 0;
	if (cookie > 3) {
		uint64_t hmask = (1ULL << info.hashbits) - 1;
		start_hash = (cookie & hmask) << (64 - info.hashbits);
		start_cd = (uint32_t)(cookie >> info.hashbits);
	}
	struct readdir_ctx c = { fs, cb, arg, info.hashbits };
	rc = zap_iterate(&dn, start_hash, start_cd, readdir_cb, &c);
out:
	dnode_rele(&dn);
	return rc;
}

static ssize_t read_locked(zfuse_fs_t *fs, uint64_t ino, void *buf, size_t len, uint64_t off,
			   unsigned flags)
{
	dnode_t dn;
	struct znode zp;
	int rc = zpl_znode_get(fs, ino, &dn, &zp);
	if (rc)
		return rc;
	if (S_ISDIR(zp.mode)) {
		dnode_rele(&dn);
		return -ZFUSE_E_ISDIR;
	}
	if (off >= zp.size) {
		dnode_rele(&dn);
		return 0;
	}
	if (len > zp.size - off)
		len = (size_t)(zp.size - off);
	bool stream = zfetch_note_read(fs->spa->zfetch, fs->os, ino, off, len,
				       dnode_datablksz(&dn), dn.maxblkid);
	/* A stream's blocks, once in the caller's cache, would only push
	 * everything else out of ours (scan resistance); blocks read at
	 * random stay, as the caller's cache may drop them first. */
	rc = stream && (flags & ZFUSE_READ_CACHED) ? dmu_read_uncached(&dn, off, len, buf)
						     : dmu_read(&dn, off, len, buf);
	dnode_rele(&dn);
	return rc ? rc : (ssize_t)len;
}

static ssize_t readlink_locked(zfuse_fs_t *fs, uint64_t ino, char *buf, size_t cap)
{
	dnode_t dn;
	struct znode zp;
	int rc = zpl_znode_get(fs, ino, &dn, &zp);
	if (rc)
		return rc;
	if (!S_ISLNK(zp.mode)) {
		dnode_rele(&dn);
		return -ZFUSE_E_INVAL;
	}
	uint64_t len = zp.size;
	if (len + 1 > cap || len > 65536) {
		dnode_rele(&dn);
		return -ZFUSE_E_RANGE;
	}
	if (dn.bonustype == DMU_OT_SA) {
		sa_handle_t h;
		if ((rc = sa_handle_get(fs->sa, &dn, &h)) == 0) {
			if (h.attr[ZPL_SYMLINK] && h.len[ZPL_SYMLINK] >= len)
				memcpy(buf, h.attr[ZPL_SYMLINK], len);
			else if (!h.attr[ZPL_SYMLINK])
				rc = dmu_read(&dn, 0, len, buf);	/* pre-SA link kept as data */
			else
				rc = SET_ERROR(-ZFUSE_E_CORRUPT);
			sa_handle_release(&h);
		}
	} else {
		uint64_t blen;
		const uint8_t *b = dnode_bonus(&dn, &blen);
		if (blen >= ZNODE_PHYS_SIZE + len && !(zp.flags & ZFS_BONUS_SCANSTAMP) &&
		    blen > ZNODE_PHYS_SIZE)
			memcpy(buf, b + ZNODE_PHYS_SIZE, len);
		else
			rc = dmu_read(&dn, 0, len, buf);
	}
	dnode_rele(&dn);
	if (rc)
		return rc;
	buf[len] = 0;
	return (ssize_t)len;
}

static int fs_statfs_locked(zfuse_fs_t *fs, struct zfuse_statfs *out)
{
	spa_t *spa = fs->spa;
	uint64_t avail = fs->snapshot ? 0 : dsl_dataset_available(spa, fs->dsobj);
	/* The dataset changes under a writable mount: read it now. */
	dsl_dataset_phys_t ds = fs->ds;
	if (!fs->snapshot)
		dsl_dataset_read(spa, fs->dsobj, &ds);
	uint64_t refd = ds.referenced_bytes;
	uint64_t bs = zpl_recordsize(fs);
	unsigned shift = 0;
	while ((1ULL << (shift + 1)) <= bs)
		shift++;
	uint64_t usedobjs = ds.bp.blk_fill;
	uint64_t availobjs = DN_MAX_OBJECT - usedobjs;
	memset(out, 0, sizeof(*out));
	out->block_size = 1ULL << shift;
	out->frag_size = 1ULL << shift;
	out->blocks = (refd + avail) >> shift;
	out->bfree = avail >> shift;
	out->bavail = out->bfree;
	out->ffree = availobjs < (avail >> DNODE_SHIFT) ? availobjs : (avail >> DNODE_SHIFT);
	out->files = out->ffree + usedobjs;
	out->fsid = fs->ds.fsid_guid;
	out->namemax = 255;
	return 0;
}

/* ---- extended attributes ---- */

static bool has_namespace(const char *name)
{
	return !strncmp(name, "user.", 5) || !strncmp(name, "trusted.", 8) ||
	       !strncmp(name, "security.", 9) || !strncmp(name, "system.", 7);
}

/*
 * Both places an object's xattrs live: the SA nvlist (*nvl, NULL when
 * none) and the xattr directory (*xattr_dir, 0 when none).
 */
static int xattr_sources(zfuse_fs_t *fs, uint64_t ino, nvlist_t **nvl, uint64_t *xattr_dir)
{
	dnode_t dn;
	struct znode zp;
	*nvl = NULL;
	int rc = zpl_znode_get(fs, ino, &dn, &zp);
	if (rc)
		return rc;
	*xattr_dir = zp.xattr;
	if (dn.bonustype == DMU_OT_SA) {
		sa_handle_t h;
		if ((rc = sa_handle_get(fs->sa, &dn, &h)) == 0) {
			if (h.attr[ZPL_DXATTR] && h.len[ZPL_DXATTR] > 0)
				rc = nvlist_unpack(h.attr[ZPL_DXATTR], h.len[ZPL_DXATTR], nvl);
			sa_handle_release(&h);
		}
	}
	dnode_rele(&dn);
	return rc;
}

struct xdir_ctx {
	zfuse_fs_t *fs;
	const char *want;	/* NULL: list */
	char *buf;
	size_t cap, used;
	uint64_t found_obj;
	int rc;
};

static void linux_name(const char *stored, char *out, size_t cap)
{
	if (has_namespace(stored))
		snprintf(out, cap, "%s", stored);
	else
		snprintf(out, cap, "user.%s", stored);
}

static int list_append(struct xdir_ctx *c, const char *name)
{
	size_t n = strlen(name) + 1;
	if (c->cap) {
		if (c->used + n > c->cap)
			return -ZFUSE_E_RANGE;
		memcpy(c->buf + c->used, name, n);
	}
	c->used += n;
	return 0;
}

static int xdir_cb(void *arg, const zap_entry_t *ze)
{
	struct xdir_ctx *c = arg;
	char lname[ZAP_MAXNAMELEN + 8];
	linux_name(ze->name, lname, sizeof(lname));
	if (c->want) {
		if (strcmp(lname, c->want) == 0) {
			c->found_obj = ZFS_DIRENT_OBJ(ze->value_first);
			return 1;
		}
		return 0;
	}
	c->rc = list_append(c, lname);
	return c->rc ? 1 : 0;
}

static int xattr_dir_walk(zfuse_fs_t *fs, uint64_t xdir, struct xdir_ctx *c)
{
	dnode_t dn;
	struct znode zp;
	int rc = dir_hold(fs, xdir, &dn, &zp);
	if (rc)
		return rc;
	rc = zap_iterate(&dn, 0, 0, xdir_cb, c);
	dnode_rele(&dn);
	return rc < 0 ? rc : c->rc;
}

static ssize_t getxattr_locked(zfuse_fs_t *fs, uint64_t ino, const char *name, void *buf, size_t cap)
{
	nvlist_t *nvl;
	uint64_t xattr_dir;
	int rc = xattr_sources(fs, ino, &nvl, &xattr_dir);
	if (rc)
		return rc;
	if (nvl) {
		const uint8_t *val;
		uint32_t n;
		int r = nvlist_lookup_byte_array(nvl, name, &val, &n);
		if (r != 0)
			r = nvlist_lookup_uint8_array(nvl, name, &val, &n);
		if (r != 0 && !strncmp(name, "user.", 5)) {
			r = nvlist_lookup_byte_array(nvl, name + 5, &val, &n);
			if (r != 0)
				r = nvlist_lookup_uint8_array(nvl, name + 5, &val, &n);
		}
		if (r == 0) {
			ssize_t res = n;
			if (cap) {
				if (n > cap)
					res = -ZFUSE_E_RANGE;
				else if (n)	/* an empty value's array is NULL */
					memcpy(buf, val, n);
			}
			nvlist_free(nvl);
			return res;
		}
		nvlist_free(nvl);
	}
	if (!xattr_dir)
		return -ZFUSE_E_NODATA;
	struct xdir_ctx c = { fs, name, NULL, 0, 0, 0, 0 };
	rc = xattr_dir_walk(fs, xattr_dir, &c);
	if (rc < 0)
		return rc;
	if (!c.found_obj)
		return -ZFUSE_E_NODATA;
	struct stat st;
	if ((rc = zpl_getattr_locked(fs, c.found_obj, &st)) != 0)
		return rc;
	if (st.st_size > (1 << 26))
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	if (!cap)
		return st.st_size;
	if ((uint64_t)st.st_size > cap)
		return -ZFUSE_E_RANGE;
	return read_locked(fs, c.found_obj, buf, (size_t)st.st_size, 0, 0);
}

static ssize_t listxattr_locked(zfuse_fs_t *fs, uint64_t ino, char *buf, size_t cap)
{
	nvlist_t *nvl;
	uint64_t xattr_dir;
	int rc = xattr_sources(fs, ino, &nvl, &xattr_dir);
	if (rc)
		return rc;
	struct xdir_ctx c = { fs, NULL, buf, cap, 0, 0, 0 };
	if (nvl) {
		for (const nvpair_t *p = nvlist_next_nvpair(nvl, NULL); p && !rc;
		     p = nvlist_next_nvpair(nvl, p)) {
			char lname[ZAP_MAXNAMELEN + 8];
			linux_name(nvpair_name(p), lname, sizeof(lname));
			rc = list_append(&c, lname);
		}
		nvlist_free(nvl);
		if (rc)
			return rc;
	}
	if (xattr_dir && (rc = xattr_dir_walk(fs, xattr_dir, &c)) != 0)
		return rc;
	return (ssize_t)c.used;
}

struct find_name {
	uint64_t want;
	char name[ZAP_MAXNAMELEN_NEW];
};

static int find_name_cb(void *arg, const zap_entry_t *ze)
{
	struct find_name *f = arg;
	if (ZFS_DIRENT_OBJ(ze->value_first) != f->want)
		return 0;
	snprintf(f->name, sizeof(f->name), "%s", ze->name);
	return 1;
}

static ssize_t object_path_locked(zfuse_fs_t *fs, uint64_t ino, char *buf, size_t cap)
{
	char *tmp = malloc(cap ? cap : 1);
	if (!tmp)
		return -ZFUSE_E_NOMEM;
	size_t len = 0;	/* built right to left at the end of tmp */
	uint64_t cur = ino;
	int rc = 0;
	for (int depth = 0; cur != fs->root && rc == 0; depth++) {
		uint64_t parent;
		if (depth > 4096 || (rc = parent_locked(fs, cur, &parent)) != 0)
			break;
		dnode_t dn;
		struct znode zp;
		if ((rc = dir_hold(fs, parent, &dn, &zp)) != 0)
			break;
		struct find_name f = { cur, "" };
		rc = zap_iterate(&dn, 0, 0, find_name_cb, &f);
		dnode_rele(&dn);
		if (rc < 0)
			break;
		rc = 0;
		if (!f.name[0]) {
			rc = -ZFUSE_E_NOENT;
			break;
		}
		size_t n = strlen(f.name);
		if (len + n + 2 > cap) {
			rc = -ZFUSE_E_RANGE;
			break;
		}
		memcpy(tmp + cap - len - n, f.name, n);
		tmp[cap - len - n - 1] = '/';
		len += n + 1;
		cur = parent;
	}
	if (rc == 0) {
		if (len == 0) {
			if (cap < 2)
				rc = -ZFUSE_E_RANGE;
			else {
				buf[0] = '/';
				len = 1;
			}
		} else {
			memmove(buf, tmp + cap - len, len);
		}
		if (rc == 0)
			buf[len] = 0;
	}
	free(tmp);
	return rc ? rc : (ssize_t)len;
}

/* ---- locked entry points ---- */

int zfuse_getattr(zfuse_fs_t *fs, uint64_t ino, struct stat *st)
{
	spa_enter_read(fs->spa);
	int rc = zpl_getattr_locked(fs, ino, st);
	spa_exit(fs->spa);
	return rc;
}

int zfuse_parent(zfuse_fs_t *fs, uint64_t dir, uint64_t *parent)
{
	spa_enter_read(fs->spa);
	int rc = parent_locked(fs, dir, parent);
	spa_exit(fs->spa);
	return rc;
}

int zfuse_lookup(zfuse_fs_t *fs, uint64_t dir, const char *name, uint64_t *ino)
{
	spa_enter_read(fs->spa);
	int rc = lookup_locked(fs, dir, name, ino);
	spa_exit(fs->spa);
	return rc;
}

/*
 * Entries are gathered under the lock in batches and handed to the caller's
 * callback after it is dropped, so the callback may call back into the
 * library (readdirplus stats every entry) without taking the lock twice.
 */
struct dirent_batch {
	struct batched_dirent {
		char name[ZAP_MAXNAMELEN_NEW];
		uint64_t ino, next;
		unsigned dtype;
	} *v;
	size_t n, cap;
};

#define BATCH_FULL 1

static int batch_add(void *arg, const char *name, uint64_t ino, unsigned dtype, uint64_t next)
{
	struct dirent_batch *b = arg;
	struct batched_dirent *e = &b->v[b->n++];
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->ino = ino;
	e->dtype = dtype;
	e->next = next;
	return b->n == b->cap ? BATCH_FULL : 0;
}

int zfuse_readdir(zfuse_fs_t *fs, uint64_t dir, uint64_t cookie, zfuse_dirent_fn cb, void *arg)
{
	/* Small first batch: a FUSE reply holds a few dozen entries. */
	struct dirent_batch b = { malloc(32 * sizeof(*b.v)), 0, 32 };
	if (!b.v)
		return -ZFUSE_E_NOMEM;
	int rc;
	for (;;) {
		b.n = 0;
		spa_enter_read(fs->spa);
		rc = readdir_locked(fs, dir, cookie, batch_add, &b);
		spa_exit(fs->spa);
		bool more = rc == BATCH_FULL;
		if (rc < 0 || (rc != 0 && !more))
			break;
		rc = 0;
		for (size_t i = 0; i < b.n && rc == 0; i++)
			rc = cb(arg, b.v[i].name, b.v[i].ino, b.v[i].dtype, b.v[i].next);
		if (rc || !more)
			break;
		cookie = b.v[b.n - 1].next;
		struct batched_dirent *bigger;
		if (b.cap < 512 && (bigger = realloc(b.v, 2 * b.cap * sizeof(*b.v))) != NULL) {
			b.v = bigger;
			b.cap *= 2;
		}
	}
	free(b.v);
	return rc;
}

ssize_t zfuse_read(zfuse_fs_t *fs, uint64_t ino, void *buf, size_t len, uint64_t off)
{
	return zfuse_read_flags(fs, ino, buf, len, off, 0);
}

ssize_t zfuse_read_flags(zfuse_fs_t *fs, uint64_t ino, void *buf, size_t len, uint64_t off,
			 unsigned flags)
{
	if (flags & ~ZFUSE_READ_CACHED)
		return -ZFUSE_E_INVAL;
	spa_enter_read(fs->spa);
	ssize_t rc = read_locked(fs, ino, buf, len, off, flags);
	spa_exit(fs->spa);
	return rc;
}

ssize_t zfuse_readlink(zfuse_fs_t *fs, uint64_t ino, char *buf, size_t cap)
{
	spa_enter_read(fs->spa);
	ssize_t rc = readlink_locked(fs, ino, buf, cap);
	spa_exit(fs->spa);
	return rc;
}

int zfuse_fs_statfs(zfuse_fs_t *fs, struct zfuse_statfs *out)
{
	spa_enter_read(fs->spa);
	int rc = fs_statfs_locked(fs, out);
	spa_exit(fs->spa);
	return rc;
}

ssize_t zfuse_getxattr(zfuse_fs_t *fs, uint64_t ino, const char *name, void *buf, size_t cap)
{
	spa_enter_read(fs->spa);
	ssize_t rc = getxattr_locked(fs, ino, name, buf, cap);
	spa_exit(fs->spa);
	return rc;
}

ssize_t zfuse_listxattr(zfuse_fs_t *fs, uint64_t ino, char *buf, size_t cap)
{
	spa_enter_read(fs->spa);
	ssize_t rc = listxattr_locked(fs, ino, buf, cap);
	spa_exit(fs->spa);
	return rc;
}

ssize_t zfuse_object_path(zfuse_fs_t *fs, uint64_t ino, char *buf, size_t cap)
{
	spa_enter_read(fs->spa);
	ssize_t rc = object_path_locked(fs, ino, buf, cap);
	spa_exit(fs->spa);
	return rc;
}
