/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zpl_write.c — the ZFS POSIX layer, write side: POSIX operations on a
 * filesystem dataset, changing the on-disk objects the way OpenZFS's
 * zfs_vnops / zfs_dir / zfs_znode do (object-layer.md §8).
 *
 * Every public call is one transaction: dmu_tx_begin makes it the pool's
 * only writer (and keeps readers out), all validation happens before the
 * first change, and dmu_tx_commit lets the sync thread write it out later.
 *
 * Objects are SA znodes only (ZPL 5). A znode is changed through a
 * `struct wnode`: its attribute list as sa.c keeps it, plus the
 * decoded fields the rules below need. The rules follow OpenZFS:
 *   - zfs_mknode: attribute order MODE SIZE GEN UID GID PARENT FLAGS ATIME
 *     MTIME CTIME CRTIME LINKS [PROJID] [RDEV] DACL_COUNT DACL_ACES, a
 *     trivial 3..6-entry ACL from the mode, gen = txg, flags ARCHIVE |
 *     AV_MODIFIED | ACL_TRIVIAL (+ AUTO_INHERIT for directories,
 *     NO_EXECS_DENIED when everyone may execute, PROJID, XATTR);
 *   - zfs_link_create / zfs_link_destroy: entry value obj | DT << 60,
 *     directory size = entries + 2, a directory's links = 2 + subdirs,
 *     parent := the directory of the newest link, an object whose last link
 *     goes has links 0 and joins the delete queue (freed on zfuse_forget or
 *     at the next read-write open, as zfs_unlinked_drain);
 *   - zfs_write / zfs_extend: a file with one block grows that block to
 *     min(end, recordsize) (rounded to 512; next power of two when it is
 *     above recordsize), then it has recordsize blocks;
 * Extended attributes are in zpl_xattr.c, file data and attributes
 * (write, setattr, fallocate, copy_file_range) in zpl_write_data.c; the
 * building blocks they share are declared in zpl_write.h.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistr.h>
#include "byteorder.h"
#include "dmu_tx.h"
#include "txg.h"
#include "dmu_types.h"
#include "dnode.h"
#include "dsl.h"
#include "nvpair.h"
#include "sa.h"
#include "spa.h"
#include "zap.h"
#include "zil.h"
#include "zil_log.h"
#include "zfs_acl.h"
#include "zpl_impl.h"
#include "dsl_quota.h"
#include "zpl_write.h"
#include "zfs_quota.h"
#include "zfuse/errors.h"
#include "zfuse/zfuse.h"
#include "zfs_debug.h"


static pthread_mutex_t wstates_mu = PTHREAD_MUTEX_INITIALIZER;
static struct zpl_wstate *wstates;

/* ---- small helpers ---------------------------------------------------- */

/* The coarse clock, OpenZFS's gethrestime(): with a writeback cache the
 * kernel stamps writes from it, so a file created and written within one
 * tick keeps the times created here and its close sends no SETATTR (one
 * round trip of six in a create-write-close loop). */
void zplw_now_ts(int64_t t[2])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	t[0] = ts.tv_sec;
	t[1] = ts.tv_nsec;
}

static int check_name(const zfuse_fs_t *fs, const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || strchr(name, '/'))
		return -ZFUSE_E_INVAL;
	if (n > ZPL_NAME_MAX)
		return -ZFUSE_E_NAMETOOLONG;
	if (fs->utf8only && u8_check((const uint8_t *)name, n) != NULL)
		return -ZFUSE_E_INVAL;	/* EILSEQ in OpenZFS */
	return 0;
}

static bool is_dot(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

static uint64_t dirent_value(uint64_t obj, uint64_t mode)
{
	return obj | ((uint64_t)((mode & S_IFMT) >> 12) << 60);
}

static bool feature_enabled(spa_t *spa, uint64_t zapobj, const char *guid)
{
	if (!zapobj)
		return false;
	dnode_t dn;
	if (dnode_hold(spa->mos, zapobj, &dn) != 0)
		return false;
	uint64_t v;
	bool on = zap_lookup_uint64(&dn, guid, &v) == 0;
	dnode_rele(&dn);
	return on;
}

/* ---- znodes being changed --------------------------------------------- */


int zplw_wnode_load(zfuse_fs_t *fs, uint64_t obj, struct wnode *n)
{
	memset(n, 0, sizeof(*n));
	n->obj = obj;
	dnode_t dn;
	int rc = dnode_hold(fs->os, obj, &dn);
	if (rc)
		return rc;
	if (dn.bonustype == DMU_OT_ZNODE) {
		/* OpenZFS would convert it to SA (zfs_sa_upgrade); we do not. */
		spa_log(fs->spa, ZFUSE_LOG_WARN, "%s: object %" PRIu64 " is a legacy znode; "
			"zfuse does not change legacy znodes", fs->name, obj);
		rc = -ZFUSE_E_UNSUPPORTED;
	} else if (dn.bonustype != DMU_OT_SA) {
		rc = -ZFUSE_E_NOENT;
	} else {
		rc = sa_attrs_load(fs->w->sat, &dn, &n->sa);
	}
	n->blksz = dnode_datablksz(&dn);
	n->maxblkid = dn.maxblkid;
	dnode_rele(&dn);
	if (rc)
		return rc;
	const sa_table_t *t = fs->w->sat;
	if (!sa_attrs_get(t, &n->sa, ZPL_MODE, NULL)) {
		sa_attrs_free(&n->sa);
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	}
	n->mode = sa_attrs_get_u64(t, &n->sa, ZPL_MODE, 0);
	n->size = sa_attrs_get_u64(t, &n->sa, ZPL_SIZE, 0);
	n->links = sa_attrs_get_u64(t, &n->sa, ZPL_LINKS, 0);
	n->flags = sa_attrs_get_u64(t, &n->sa, ZPL_FLAGS, 0);
	n->parent = sa_attrs_get_u64(t, &n->sa, ZPL_PARENT, 0);
	n->uid = sa_attrs_get_u64(t, &n->sa, ZPL_UID, 0);
	n->gid = sa_attrs_get_u64(t, &n->sa, ZPL_GID, 0);
	n->xattr = sa_attrs_get_u64(t, &n->sa, ZPL_XATTR, 0);
	n->projid = sa_attrs_get_u64(t, &n->sa, ZPL_PROJID, 0);
	n->gen = sa_attrs_get_u64(t, &n->sa, ZPL_GEN, 0);
	return 0;
}

void zplw_wnode_free(struct wnode *n)
{
	sa_attrs_free(&n->sa);
}

int zplw_wset(zfuse_fs_t *fs, struct wnode *n, enum zpl_attr a, uint64_t v)
{
	return sa_attrs_set_u64(fs->w->sat, &n->sa, a, v);
}

int zplw_wstore(zfuse_fs_t *fs, struct wnode *n, dmu_tx_t *tx)
{
	return sa_attrs_store(fs->w->sat, fs->os, n->obj, &n->sa, tx);
}


/* zfs_tstamp_update_setup: content changes touch mtime (and the archive
 * bits), state changes ctime; FLAGS is written with them. */
int zplw_wtouch(zfuse_fs_t *fs, struct wnode *n, int what, const int64_t now[2])
{
	const sa_table_t *t = fs->w->sat;
	int rc = 0;
	if (what & TS_MTIME) {
		rc = sa_attrs_set_time(t, &n->sa, ZPL_MTIME, now);
		n->flags |= ZFS_ARCHIVE | ZFS_AV_MODIFIED;
	}
	if (!rc && (what & TS_CTIME)) {
		rc = sa_attrs_set_time(t, &n->sa, ZPL_CTIME, now);
		n->flags |= ZFS_ARCHIVE;
	}
	return rc ? rc : zplw_wset(fs, n, ZPL_FLAGS, n->flags);
}

/* ---- directories ------------------------------------------------------ */

/* Look name up in dir; the stored spelling goes to stored. */
int zplw_dir_find(zfuse_fs_t *fs, uint64_t dir, const char *name, uint64_t *obj, char *stored,
		    size_t cap)
{
	dnode_t dn;
	int rc = dnode_hold(fs->os, dir, &dn);
	if (rc)
		return rc;
	uint64_t v = 0;
	if (fs->normflags) {
		rc = zap_lookup_norm(&dn, name, &v, stored, cap);
	} else {
		rc = zap_lookup_uint64(&dn, name, &v);
		if (rc == 0)
			snprintf(stored, cap, "%s", name);
	}
	dnode_rele(&dn);
	if (rc == 0)
		*obj = ZFS_DIRENT_OBJ(v);
	return rc;
}

/* zfs_dropname: mixed-case filesystems remove the exact spelling. */
static int dir_remove(zfuse_fs_t *fs, uint64_t dir, const char *stored, dmu_tx_t *tx)
{
	if (fs->normflags && fs->casesensitivity != ZFS_CASE_MIXED)
		return zap_remove_norm(fs->os, dir, stored, tx, NULL, 0);
	return zap_remove(fs->os, dir, stored, tx);
}

/* Load a directory that may receive or lose entries. */
int zplw_load_dir(zfuse_fs_t *fs, uint64_t dir, struct wnode *d)
{
	int rc = zplw_wnode_load(fs, dir, d);
	if (rc)
		return rc;
	if (!S_ISDIR(d->mode)) {
		zplw_wnode_free(d);
		return -ZFUSE_E_NOTDIR;
	}
	return 0;
}

/* zfs_link_create: add name → n in d. A new object (isnew) already has its
 * link count; a renamed one (renaming) keeps it. */
int zplw_link_create(zfuse_fs_t *fs, struct wnode *d, const char *name, struct wnode *n,
		       bool isnew, bool renaming, dmu_tx_t *tx, const int64_t now[2])
{
	bool isdir = S_ISDIR(n->mode);
	int rc;
	if (!isnew && !renaming) {
		n->links++;
		if ((rc = zplw_wset(fs, n, ZPL_LINKS, n->links)) != 0)
			return rc;
	}
	uint64_t v = dirent_value(n->obj, n->mode);
	if ((rc = zap_add(fs->os, d->obj, name, 8, 1, &v, tx)) != 0)
		return rc;
	n->parent = d->obj;
	if ((rc = zplw_wset(fs, n, ZPL_PARENT, n->parent)) != 0 ||
	    (rc = zplw_wtouch(fs, n, isnew ? 0 : TS_CTIME, now)) != 0 || (rc = zplw_wstore(fs, n, tx)) != 0)
		return rc;
	d->size++;
	d->links += isdir;
	if ((rc = zplw_wset(fs, d, ZPL_SIZE, d->size)) != 0 || (rc = zplw_wset(fs, d, ZPL_LINKS, d->links)) != 0 ||
	    (rc = zplw_wtouch(fs, d, TS_MTIME | TS_CTIME, now)) != 0)
		return rc;
	return zplw_wstore(fs, d, tx);
}

static int unlinked_add(zfuse_fs_t *fs, uint64_t obj, dmu_tx_t *tx)
{
	char key[24];
	snprintf(key, sizeof(key), "%" PRIx64, obj);
	return zap_add_uint64(fs->os, fs->w->delete_queue, key, obj, tx);
}

/* zfs_link_destroy: drop stored → n from d. Unless renaming, n loses a
 * link; at zero it joins the delete queue (*unlinked). */
int zplw_link_destroy(zfuse_fs_t *fs, struct wnode *d, const char *stored, struct wnode *n,
			bool renaming, dmu_tx_t *tx, const int64_t now[2], bool *unlinked)
{
	bool isdir = S_ISDIR(n->mode);
	int rc = dir_remove(fs, d->obj, stored, tx);
	if (rc)
		return rc;
	if (unlinked)
		*unlinked = false;
	if (!renaming) {
		if (n->links <= (uint64_t)isdir)
			n->links = isdir + 1;
		if (--n->links == (uint64_t)isdir) {
			n->links = 0;
			if (unlinked)
				*unlinked = true;
		} else if ((rc = zplw_wtouch(fs, n, TS_CTIME, now)) != 0) {
			return rc;
		}
		if ((rc = zplw_wset(fs, n, ZPL_LINKS, n->links)) != 0 || (rc = zplw_wstore(fs, n, tx)) != 0)
			return rc;
		if (n->links == 0 && (rc = unlinked_add(fs, n->obj, tx)) != 0)
			return rc;
	}
	d->size--;
	d->links -= isdir;
	if ((rc = zplw_wset(fs, d, ZPL_SIZE, d->size)) != 0 || (rc = zplw_wset(fs, d, ZPL_LINKS, d->links)) != 0 ||
	    (rc = zplw_wtouch(fs, d, TS_MTIME | TS_CTIME, now)) != 0)
		return rc;
	return zplw_wstore(fs, d, tx);
}

/* ---- making objects (zfs_mknode) -------------------------------------- */


int zplw_mknode(zfuse_fs_t *fs, const struct wnode *parent, const struct mkargs *a,
		  dmu_tx_t *tx, const int64_t now[2], struct wnode *n)
{
	struct zpl_wstate *w = fs->w;
	unsigned dnsize = w->os->replay_object && w->os->replay_dnodesize ? w->os->replay_dnodesize
									  : w->os->dnodesize;
	if (fs->replay_mk)
		now = fs->replay_crtime;	/* every time of a replayed node is its crtime */
	unsigned bonuslen = dnsize - 64 - 128;
	bool isdir = S_ISDIR(a->mode), isreg = S_ISREG(a->mode);
	uint64_t obj;
	int rc;
	if (isdir)
		rc = zap_create_norm(fs->os, fs->normflags, DMU_OT_DIRECTORY_CONTENTS, DMU_OT_SA,
				     bonuslen, dnsize, tx, &obj);
	else
		rc = dmu_object_alloc(fs->os, DMU_OT_PLAIN_FILE_CONTENTS, 0, DMU_OT_SA, bonuslen,
				      dnsize, tx, &obj);
	if (rc)
		return rc;
	memset(n, 0, sizeof(*n));
	sa_attrs_init(&n->sa);
	n->obj = obj;
	n->mode = a->mode;
	n->uid = a->uid;
	n->gid = a->gid;
	n->size = isdir ? 2 : 0;
	n->links = isdir ? 2 : 1;
	n->parent = parent->obj;
	n->blksz = 512;
	n->flags = ZFS_ARCHIVE | ZFS_AV_MODIFIED | ZFS_ACL_TRIVIAL;
	if (a->xattr || (parent->flags & ZFS_XATTR))
		n->flags |= ZFS_XATTR;
	if (isreg || isdir) {
		if (w->projquota)
			n->flags |= ZFS_PROJID;
		if (parent->flags & ZFS_PROJINHERIT) {
			n->flags |= ZFS_PROJINHERIT;
			n->projid = parent->projid;
		}
	}
	if (isdir)
		n->flags |= ZFS_ACL_AUTO_INHERIT;
	if ((n->mode & 0111) == 0111)
		n->flags |= ZFS_NO_EXECS_DENIED;
	n->gen = fs->replay_mk ? fs->replay_gen : tx->txg ? tx->txg : 1;
	uint8_t aces[48];
	unsigned nace = zpl_trivial_acl(n->mode, isdir, aces);
	const sa_table_t *t = w->sat;
	sa_attrs_t *l = &n->sa;
	if ((rc = sa_attrs_set_u64(t, l, ZPL_MODE, n->mode)) ||
	    (rc = sa_attrs_set_u64(t, l, ZPL_SIZE, n->size)) ||
	    (rc = sa_attrs_set_u64(t, l, ZPL_GEN, n->gen)) ||
	    (rc = sa_attrs_set_u64(t, l, ZPL_UID, n->uid)) ||
	    (rc = sa_attrs_set_u64(t, l, ZPL_GID, n->gid)) ||
	    (rc = sa_attrs_set_u64(t, l, ZPL_PARENT, n->parent)) ||
	    (rc = sa_attrs_set_u64(t, l, ZPL_FLAGS, n->flags)) ||
	    (rc = sa_attrs_set_time(t, l, ZPL_ATIME, now)) ||
	    (rc = sa_attrs_set_time(t, l, ZPL_MTIME, now)) ||
	    (rc = sa_attrs_set_time(t, l, ZPL_CTIME, now)) ||
	    (rc = sa_attrs_set_time(t, l, ZPL_CRTIME, now)) ||
	    (rc = sa_attrs_set_u64(t, l, ZPL_LINKS, n->links)))
		goto fail;
	if ((n->flags & ZFS_PROJID) && (rc = sa_attrs_set_u64(t, l, ZPL_PROJID, n->projid)))
		goto fail;
	if ((S_ISCHR(a->mode) || S_ISBLK(a->mode)) && (rc = sa_attrs_set_u64(t, l, ZPL_RDEV, a->rdev)))
		goto fail;
	if ((rc = sa_attrs_set_u64(t, l, ZPL_DACL_COUNT, nace)) ||
	    (rc = sa_attrs_set(t, l, ZPL_DACL_ACES, aces, nace * 8)) || (rc = zplw_wstore(fs, n, tx)))
		goto fail;
	return 0;
fail:
	sa_attrs_free(l);
	return rc;
}

/* ---- freeing objects (zfs_rmnode) ------------------------------------- */

struct collect {
	uint64_t *objs;
	size_t n, cap;
	int rc;
};

static int collect_cb(void *arg, const zap_entry_t *ze)
{
	struct collect *c = arg;
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16;
		uint64_t *no = realloc(c->objs, nc * sizeof(*no));
		if (!no) {
			c->rc = -ZFUSE_E_NOMEM;
			return 1;
		}
		c->objs = no;
		c->cap = nc;
	}
	c->objs[c->n++] = ZFS_DIRENT_OBJ(ze->value_first);
	return 0;
}

static int collect_entries(objset_t *os, uint64_t zapobj, struct collect *c)
{
	memset(c, 0, sizeof(*c));
	dnode_t dn;
	int rc = dnode_hold(os, zapobj, &dn);
	if (rc)
		return rc;
	rc = zap_iterate(&dn, 0, 0, collect_cb, c);
	dnode_rele(&dn);
	if (rc >= 0)
		rc = c->rc;
	if (rc) {
		free(c->objs);
		c->objs = NULL;
	}
	return rc;
}

/* Free obj (with its xattr directory and the files in it) and drop it
 * from the delete queue. */
int zplw_free_znode(zfuse_fs_t *fs, uint64_t obj, dmu_tx_t *tx)
{
	struct wnode n;
	int rc = zplw_wnode_load(fs, obj, &n);
	if (rc == 0) {
		if (n.xattr) {
			struct collect c;
			if (collect_entries(fs->os, n.xattr, &c) == 0) {
				for (size_t i = 0; i < c.n && rc == 0; i++) {
					zil_remove_async(fs->os, c.objs[i]);
					rc = dmu_object_free(fs->os, c.objs[i], tx);
				}
				free(c.objs);
			}
			if (rc == 0)
				rc = dmu_object_free(fs->os, n.xattr, tx);
		}
		zplw_wnode_free(&n);
		if (rc == 0) {
			zil_remove_async(fs->os, obj);
			rc = dmu_object_free(fs->os, obj, tx);
		}
	} else if (rc == -ZFUSE_E_NOENT) {
		rc = 0;		/* already gone: just forget the queue entry */
	}
	if (rc)
		return rc;
	char key[24];
	snprintf(key, sizeof(key), "%" PRIx64, obj);
	rc = zap_remove(fs->os, fs->w->delete_queue, key, tx);
	return rc == -ZFUSE_E_NOENT ? 0 : rc;
}

/* ---- transactions and reader refresh --------------------------------- */

int zplw_wbegin(zfuse_fs_t *fs, dmu_tx_t *tx)
{
	if (!fs->writable || !fs->w)
		return -ZFUSE_E_ROFS;
	int rc = dmu_tx_begin(fs->spa, tx);
	if (rc == 0)
		zil_tx_begin(fs->os);
	return rc;
}

/* New SA layouts make every handle's reader table stale: reload them while
 * we still hold the pool exclusively. */
static void refresh_readers(zfuse_fs_t *fs)
{
	struct zpl_wstate *w = fs->w;
	unsigned g = sa_table_generation(w->sat);
	if (g == w->sat_gen_seen)
		return;
	pthread_mutex_lock(&wstates_mu);
	for (unsigned i = 0; i < w->nfs; i++) {
		sa_table_t *nt;
		if (sa_table_load(w->os, w->sa_master, &nt) == 0) {
			sa_table_free(w->fss[i]->sa);
			w->fss[i]->sa = nt;
		}
	}
	pthread_mutex_unlock(&wstates_mu);
	w->sat_gen_seen = g;
}

int zplw_wend(zfuse_fs_t *fs, dmu_tx_t *tx, int rc)
{
	if (fs->replay_seq && rc == 0) {
		zil_header_t zh;
		zil_header_get(fs->os, &zh);
		zh.replay_seq = fs->replay_seq;
		zil_header_put(fs->os, &zh);
	}
	refresh_readers(fs);
	/* sync=always: every change is durable before the call returns. */
	return zil_tx_commit(fs->spa, fs->os, tx, rc, fs->replay_seq != 0);
}

int zplw_stat_out(zfuse_fs_t *fs, uint64_t obj, struct stat *st)
{
	if (!st)
		return 0;
	refresh_readers(fs);
	return zpl_getattr_locked(fs, obj, st);
}

/* ---- open / close ----------------------------------------------------- */

static int master_get(objset_t *os, const char *key, uint64_t *v)
{
	dnode_t mn;
	int rc = dnode_hold(os, 1, &mn);
	if (rc)
		return rc;
	rc = zap_lookup_uint64(&mn, key, v);
	dnode_rele(&mn);
	return rc;
}

/* zfs_get_data for a write record the log places (WR_NEED_COPY, pool lock
 * shared): the file's data now, if it is still the file that was written. */
static int log_get_data(void *arg, uint64_t obj, uint64_t gen, uint64_t off, uint64_t len,
			void *buf)
{
	struct zpl_wstate *w = arg;
	dnode_t dn;
	int rc = dnode_hold(w->os, obj, &dn);
	if (rc)
		return rc == -ZFUSE_E_NOENT ? rc : SET_ERROR(rc);
	sa_handle_t h;
	if (dn.bonustype != DMU_OT_SA || sa_handle_get(w->sat, &dn, &h) != 0) {
		dnode_rele(&dn);
		return -ZFUSE_E_NOENT;
	}
	uint64_t file_gen = sa_get_u64(&h, ZPL_GEN, 0), size = sa_get_u64(&h, ZPL_SIZE, 0);
	sa_handle_release(&h);
	rc = file_gen != gen || off >= size ? -ZFUSE_E_NOENT : len ? dmu_read(&dn, off, len, buf) : 0;
	dnode_rele(&dn);
	return rc;
}

static int wstate_create(zfuse_fs_t *fs, struct zpl_wstate **out)
{
	spa_t *spa = fs->spa;
	struct zpl_wstate *w = calloc(1, sizeof(*w));
	if (!w)
		return -ZFUSE_E_NOMEM;
	w->os = fs->os;
	int rc;
	if ((rc = master_get(fs->os, "SA_ATTRS", &w->sa_master)) != 0 ||
	    (rc = master_get(fs->os, "DELETE_QUEUE", &w->delete_queue)) != 0 ||
	    (rc = sa_table_load(fs->os, w->sa_master, &w->sat)) != 0) {
		free(w);
		return rc;
	}
	w->sat_gen_seen = sa_table_generation(w->sat);
	w->projquota = fs->os->phys_size >= OBJSET_PHYS_SIZE &&
		       feature_enabled(spa, spa->features_for_write_obj, "org.zfsonlinux:project_quota");
	*out = w;
	return 0;
}

/* zfs_unlinked_drain: free everything a previous session left queued. */
static int drain_delete_queue(zfuse_fs_t *fs)
{
	dmu_tx_t tx;
	int rc = dmu_tx_begin(fs->spa, &tx);
	if (rc)
		return rc;
	struct collect c;
	rc = collect_entries(fs->os, fs->w->delete_queue, &c);
	if (rc == 0) {
		for (size_t i = 0; i < c.n && rc == 0; i++)
			rc = zplw_free_znode(fs, c.objs[i], &tx);
		if (c.n)
			spa_log(fs->spa, ZFUSE_LOG_INFO, "%s: freed %zu unlinked objects", fs->name, c.n);
		free(c.objs);
	}
	return zplw_wend(fs, &tx, rc);
}

int zpl_write_open(zfuse_fs_t *fs)
{
	spa_enter_read(fs->spa);
	pthread_mutex_lock(&wstates_mu);
	struct zpl_wstate *w;
	for (w = wstates; w && w->os != fs->os; w = w->next)
		;
	bool first = w == NULL;
	int rc = 0;
	if (first) {
		rc = wstate_create(fs, &w);
		if (rc == 0) {
			w->next = wstates;
			wstates = w;
		}
	}
	if (rc == 0 && w->nfs == w->capfs) {
		unsigned nc = w->capfs ? w->capfs * 2 : 4;
		zfuse_fs_t **nf = realloc(w->fss, nc * sizeof(*nf));
		if (!nf) {
			rc = -ZFUSE_E_NOMEM;
		} else {
			w->fss = nf;
			w->capfs = nc;
		}
	}
	if (rc == 0) {
		w->fss[w->nfs++] = fs;
		fs->w = w;
	}
	pthread_mutex_unlock(&wstates_mu);
	spa_exit(fs->spa);
	if (rc)
		return rc;
	/* Only the first opener drains: later ones may share open files. */
	if (first && fs->os->refcount <= 1) {
		rc = drain_delete_queue(fs);
		if (rc)
			spa_log(fs->spa, ZFUSE_LOG_WARN, "%s: cannot drain the delete queue: %s",
				fs->name, zfuse_strerror(rc));
		/* Then the intent log, as zfsvfs_setup (zil.md §7.1). */
		char why[256] = "its intent log cannot be replayed";
		if (zil_replay(fs, why, sizeof(why)) != 0) {
			fs->writable = false;
			spa_log(fs->spa, ZFUSE_LOG_WARN, "dataset %s is read-only: %s", fs->name, why);
		} else if (fs->writable) {
			zil_open(fs->spa, fs->os, log_get_data, fs->w);
		}
	} else {
		/* A log the first opener could not replay keeps every handle
		 * read-only. */
		spa_enter_read(fs->spa);
		if (zil_has_records(fs->spa, fs->os))
			fs->writable = false;
		spa_exit(fs->spa);
	}
	return 0;
}

void zpl_write_close(zfuse_fs_t *fs)
{
	struct zpl_wstate *w = fs->w;
	if (!w)
		return;
	/* The last writer's close leaves the log as a clean close does (the
	 * syncs it waits for must not run under wstates_mu). */
	pthread_mutex_lock(&wstates_mu);
	bool last = w->nfs == 1;
	pthread_mutex_unlock(&wstates_mu);
	if (last)
		zil_close(fs->spa, w->os);
	pthread_mutex_lock(&wstates_mu);
	for (unsigned i = 0; i < w->nfs; i++) {
		if (w->fss[i] == fs) {
			w->fss[i] = w->fss[--w->nfs];
			break;
		}
	}
	if (w->nfs == 0) {
		struct zpl_wstate **pp = &wstates;
		while (*pp && *pp != w)
			pp = &(*pp)->next;
		if (*pp)
			*pp = w->next;
		sa_table_free(w->sat);
		free(w->fss);
		free(w);
	}
	pthread_mutex_unlock(&wstates_mu);
	fs->w = NULL;
}

bool zfuse_fs_writable(const zfuse_fs_t *fs)
{
	return fs->writable && fs->w != NULL;
}

int zfuse_fs_sync(zfuse_fs_t *fs)
{
	if (!zfuse_fs_writable(fs))
		return 0;
	return txg_sync_now(fs->spa);
}

int zfuse_fs_commit(zfuse_fs_t *fs)
{
	if (!zfuse_fs_writable(fs))
		return 0;
	return zil_commit(fs->spa, fs->os);
}

int zfuse_fs_commit_object(zfuse_fs_t *fs, uint64_t ino)
{
	if (!zfuse_fs_writable(fs))
		return 0;
	return zil_commit_object(fs->spa, fs->os, ino);
}

int zplw_op_begin(zfuse_fs_t *fs, uint64_t obj,
		  int (*load)(zfuse_fs_t *fs, uint64_t obj, struct wnode *n), dmu_tx_t *tx,
		  int64_t now[2], struct wnode *n)
{
	int rc = zplw_wbegin(fs, tx);
	if (rc)
		return rc;
	zplw_now_ts(now);
	if ((rc = load(fs, obj, n)) != 0)
		return zplw_wend(fs, tx, rc);
	return 0;
}

/* ---- creating --------------------------------------------------------- */

static int create_common(zfuse_fs_t *fs, uint64_t dir, const char *name, uint64_t mode,
			 uint64_t rdev, uint32_t uid, uint32_t gid, const char *target,
			 uint64_t *ino, struct stat *st)
{
	int rc = check_name(fs, name);
	if (rc)
		return rc;
	if (is_dot(name))
		return -ZFUSE_E_EXIST;
	size_t tlen = target ? strlen(target) : 0;
	if (target && (tlen == 0 || tlen > SYMLINK_MAX))
		return tlen ? -ZFUSE_E_NAMETOOLONG : -ZFUSE_E_INVAL;
	dmu_tx_t tx;
	int64_t now[2];
	struct wnode d, n;
	if (fs->writable && (rc = dsl_quota_check(fs->spa, fs->os)) != 0)
		return rc;
	if ((rc = zplw_op_begin(fs, dir, zplw_load_dir, &tx, now, &d)) != 0)
		return rc;
	char stored[ZAP_MAXNAMELEN_NEW];
	uint64_t existing;
	if (d.links == 0) {
		rc = -ZFUSE_E_NOENT;
		goto out_d;
	}
	if ((rc = zplw_dir_find(fs, dir, name, &existing, stored, sizeof(stored))) == 0) {
		rc = -ZFUSE_E_EXIST;
		goto out_d;
	}
	if (rc != -ZFUSE_E_NOENT)
		goto out_d;
	struct mkargs a = { mode, uid, gid, rdev, false };
	/* Setgid directories hand down their group (and, to directories,
	 * the bit). Whether a caller outside that group keeps S_ISGID is the
	 * caller's to decide (the kernel's mode_strip_sgid knows every group
	 * of the process; uid and gid alone cannot tell membership). */
	if (d.mode & S_ISGID) {
		a.gid = d.gid;
		if (S_ISDIR(mode))
			a.mode |= S_ISGID;
	}
	/* zfs_acl_ids_overquota: the new node's ids, bytes and objects. */
	if ((rc = zfs_id_overquota(fs->os, a.uid, a.gid,
				   (d.flags & ZFS_PROJINHERIT) ? d.projid : 0, true)) != 0)
		goto out_d;
	if ((rc = zplw_mknode(fs, &d, &a, &tx, now, &n)) != 0)
		goto out_d;
	if (target) {
		/* zfs_symlink: the target is added after the node is made. */
		n.size = tlen;
		if ((rc = sa_attrs_set(fs->w->sat, &n.sa, ZPL_SYMLINK, target, (uint32_t)tlen)) != 0 ||
		    (rc = zplw_wset(fs, &n, ZPL_SIZE, n.size)) != 0 || (rc = zplw_wstore(fs, &n, &tx)) != 0)
			goto out_n;
	}
	if ((rc = zplw_link_create(fs, &d, name, &n, true, false, &tx, now)) != 0)
		goto out_n;
	zfs_log_create(fs->os, tx.txg, S_ISDIR(n.mode) ? TX_MKDIR : target ? TX_SYMLINK : TX_CREATE,
		       dir, n.obj, fs->os->dnodesize >> 9, n.mode, n.uid, n.gid, n.gen, now,
		       a.rdev, name, target);
	if (ino)
		*ino = n.obj;
	rc = zplw_stat_out(fs, n.obj, st);
out_n:
	zplw_wnode_free(&n);
out_d:
	zplw_wnode_free(&d);
	return zplw_wend(fs, &tx, rc);
}

int zfuse_create(zfuse_fs_t *fs, uint64_t dir, const char *name, mode_t mode, uint32_t uid,
		 uint32_t gid, uint64_t *ino, struct stat *st)
{
	return create_common(fs, dir, name, S_IFREG | (mode & 07777), 0, uid, gid, NULL, ino, st);
}

int zfuse_mknod(zfuse_fs_t *fs, uint64_t dir, const char *name, mode_t mode, dev_t rdev,
		uint32_t uid, uint32_t gid, uint64_t *ino, struct stat *st)
{
	mode_t type = mode & S_IFMT;
	if (type == 0)
		type = S_IFREG;
	if (type != S_IFREG && type != S_IFIFO && type != S_IFSOCK && type != S_IFCHR &&
	    type != S_IFBLK)
		return -ZFUSE_E_INVAL;
	/* Linux OpenZFS stores the kernel's dev_t: major << 20 | minor. */
	uint64_t zdev = 0;
	if (type == S_IFCHR || type == S_IFBLK) {
		unsigned maj = major(rdev), min = minor(rdev);
		if (maj >= (1u << 12) || min >= (1u << 20))
			return -ZFUSE_E_INVAL;
		zdev = ((uint64_t)maj << 20) | min;
	}
	return create_common(fs, dir, name, type | (mode & 07777), zdev, uid, gid, NULL, ino, st);
}

int zfuse_mkdir(zfuse_fs_t *fs, uint64_t dir, const char *name, mode_t mode, uint32_t uid,
		uint32_t gid, uint64_t *ino, struct stat *st)
{
	return create_common(fs, dir, name, S_IFDIR | (mode & 07777), 0, uid, gid, NULL, ino, st);
}

int zfuse_symlink(zfuse_fs_t *fs, uint64_t dir, const char *name, const char *target,
		  uint32_t uid, uint32_t gid, uint64_t *ino, struct stat *st)
{
	if (!target)
		return -ZFUSE_E_INVAL;
	return create_common(fs, dir, name, S_IFLNK | 0777, 0, uid, gid, target, ino, st);
}

int zfuse_link(zfuse_fs_t *fs, uint64_t ino, uint64_t newdir, const char *newname,
	       struct stat *st)
{
	int rc = check_name(fs, newname);
	if (rc)
		return rc;
	if (is_dot(newname))
		return -ZFUSE_E_EXIST;
	dmu_tx_t tx;
	if ((rc = zplw_wbegin(fs, &tx)) != 0)
		return rc;
	int64_t now[2];
	zplw_now_ts(now);
	struct wnode n, d;
	if ((rc = zplw_wnode_load(fs, ino, &n)) != 0)
		return zplw_wend(fs, &tx, rc);
	if ((rc = zplw_load_dir(fs, newdir, &d)) != 0)
		goto out_n;
	char stored[ZAP_MAXNAMELEN_NEW];
	uint64_t existing;
	if (S_ISDIR(n.mode))
		rc = -ZFUSE_E_PERM;
	else if (n.links == 0 || d.links == 0)
		rc = -ZFUSE_E_NOENT;
	else if (n.links >= ZFS_LINK_MAX - 1)
		rc = -ZFUSE_E_MLINK;
	else if ((n.flags & ZFS_XATTR) != (d.flags & ZFS_XATTR))
		rc = -ZFUSE_E_INVAL;
	else if ((rc = zplw_dir_find(fs, newdir, newname, &existing, stored, sizeof(stored))) == 0)
		rc = -ZFUSE_E_EXIST;
	else if (rc == -ZFUSE_E_NOENT &&
		 (rc = zplw_link_create(fs, &d, newname, &n, false, false, &tx, now)) == 0)
		zfs_log_link(fs->os, tx.txg, newdir, ino, newname);
	if (rc == 0)
		rc = zplw_stat_out(fs, ino, st);
	zplw_wnode_free(&d);
out_n:
	zplw_wnode_free(&n);
	return zplw_wend(fs, &tx, rc);
}

/* ---- removing --------------------------------------------------------- */

static int remove_common(zfuse_fs_t *fs, uint64_t dir, const char *name, bool rmdir)
{
	int rc = check_name(fs, name);
	if (rc)
		return rc;
	if (strcmp(name, ".") == 0)
		return rmdir ? -ZFUSE_E_INVAL : -ZFUSE_E_ISDIR;
	if (strcmp(name, "..") == 0)
		return rmdir ? -ZFUSE_E_NOTEMPTY : -ZFUSE_E_ISDIR;
	dmu_tx_t tx;
	int64_t now[2];
	struct wnode d, n;
	if ((rc = zplw_op_begin(fs, dir, zplw_load_dir, &tx, now, &d)) != 0)
		return rc;
	char stored[ZAP_MAXNAMELEN_NEW];
	uint64_t obj;
	if ((rc = zplw_dir_find(fs, dir, name, &obj, stored, sizeof(stored))) != 0)
		goto out_d;
	if ((rc = zplw_wnode_load(fs, obj, &n)) != 0)
		goto out_d;
	if (rmdir && !S_ISDIR(n.mode))
		rc = -ZFUSE_E_NOTDIR;
	else if (!rmdir && S_ISDIR(n.mode))
		rc = -ZFUSE_E_ISDIR;
	else if (rmdir && obj == fs->root)
		rc = -ZFUSE_E_BUSY;
	else if (rmdir && n.size != 2)
		rc = -ZFUSE_E_NOTEMPTY;
	else if ((rc = zplw_link_destroy(fs, &d, stored, &n, false, &tx, now, NULL)) == 0)
		zfs_log_remove(fs->os, tx.txg, rmdir ? TX_RMDIR : TX_REMOVE, dir, stored);
	zplw_wnode_free(&n);
out_d:
	zplw_wnode_free(&d);
	return zplw_wend(fs, &tx, rc);
}

int zfuse_unlink(zfuse_fs_t *fs, uint64_t dir, const char *name)
{
	return remove_common(fs, dir, name, false);
}

int zfuse_rmdir(zfuse_fs_t *fs, uint64_t dir, const char *name)
{
	return remove_common(fs, dir, name, true);
}

int zfuse_forget(zfuse_fs_t *fs, uint64_t ino)
{
	if (!zfuse_fs_writable(fs))
		return 0;
	/* Cheap check first: live objects need no transaction. */
	spa_enter_read(fs->spa);
	dnode_t dn;
	struct znode zp;
	int rc = zpl_znode_get(fs, ino, &dn, &zp);
	if (rc == 0)
		dnode_rele(&dn);
	spa_exit(fs->spa);
	if (rc == -ZFUSE_E_NOENT)
		return 0;
	if (rc || zp.links != 0)
		return rc;
	dmu_tx_t tx;
	if ((rc = zplw_wbegin(fs, &tx)) != 0)
		return rc;
	char key[24];
	snprintf(key, sizeof(key), "%" PRIx64, ino);
	dnode_t q;
	uint64_t v;
	if ((rc = dnode_hold(fs->os, fs->w->delete_queue, &q)) == 0) {
		rc = zap_lookup_uint64(&q, key, &v);
		dnode_rele(&q);
	}
	if (rc == 0)
		rc = zplw_free_znode(fs, ino, &tx);
	else if (rc == -ZFUSE_E_NOENT)
		rc = 0;
	zil_tx_nolog(fs->os);	/* freeing an unlinked node is not logged */
	return zplw_wend(fs, &tx, rc);
}

/* ---- rename ----------------------------------------------------------- */

/* Whether dir is obj or lies below it (a directory moved into itself). */
static int is_descendant(zfuse_fs_t *fs, uint64_t dir, uint64_t obj, bool *below)
{
	*below = false;
	uint64_t cur = dir;
	for (int depth = 0; depth < 4096; depth++) {
		if (cur == obj) {
			*below = true;
			return 0;
		}
		if (cur == fs->root)
			return 0;
		dnode_t dn;
		struct znode zp;
		int rc = zpl_znode_get(fs, cur, &dn, &zp);
		if (rc)
			return rc;
		dnode_rele(&dn);
		if (zp.parent == cur)
			return 0;
		cur = zp.parent;
	}
	return SET_ERROR(-ZFUSE_E_CORRUPT);
}

int zfuse_rename(zfuse_fs_t *fs, uint64_t olddir, const char *oldname, uint64_t newdir,
		 const char *newname, unsigned flags)
{
	if (flags & ~(ZFUSE_RENAME_NOREPLACE | ZFUSE_RENAME_EXCHANGE))
		return -ZFUSE_E_INVAL;
	if ((flags & ZFUSE_RENAME_NOREPLACE) && (flags & ZFUSE_RENAME_EXCHANGE))
		return -ZFUSE_E_INVAL;
	int rc = check_name(fs, oldname);
	if (!rc)
		rc = check_name(fs, newname);
	if (rc)
		return rc;
	if (is_dot(oldname) || is_dot(newname))
		return -ZFUSE_E_INVAL;
	bool exchange = flags & ZFUSE_RENAME_EXCHANGE;
	dmu_tx_t tx;
	if ((rc = zplw_wbegin(fs, &tx)) != 0)
		return rc;
	int64_t now[2];
	zplw_now_ts(now);
	struct wnode sdbuf, tdbuf, s, t;
	struct wnode *sd = &sdbuf, *td = &tdbuf;
	bool have_sd = false, have_td = false, have_s = false, have_t = false;
	char sstored[ZAP_MAXNAMELEN_NEW], tstored[ZAP_MAXNAMELEN_NEW];
	uint64_t sobj, tobj = 0;
	if ((rc = zplw_load_dir(fs, olddir, sd)) != 0)
		goto out;
	have_sd = true;
	if (newdir == olddir) {
		td = sd;
	} else {
		if ((rc = zplw_load_dir(fs, newdir, td)) != 0)
			goto out;
		have_td = true;
	}
	if ((rc = zplw_dir_find(fs, olddir, oldname, &sobj, sstored, sizeof(sstored))) != 0)
		goto out;
	rc = zplw_dir_find(fs, newdir, newname, &tobj, tstored, sizeof(tstored));
	if (rc == -ZFUSE_E_NOENT) {
		tobj = 0;
		rc = 0;
	}
	if (rc)
		goto out;
	if (exchange && !tobj) {
		rc = -ZFUSE_E_NOENT;
		goto out;
	}
	if ((flags & ZFUSE_RENAME_NOREPLACE) && tobj) {
		rc = -ZFUSE_E_EXIST;
		goto out;
	}
	if (td->links == 0) {
		rc = -ZFUSE_E_NOENT;
		goto out;
	}
	if ((rc = zplw_wnode_load(fs, sobj, &s)) != 0)
		goto out;
	have_s = true;
	if (tobj == sobj) {
		/* Two names of one object: nothing to do, unless a case-only
		 * rename in a case-insensitive directory. */
		if (olddir == newdir && strcmp(sstored, newname) != 0 && strcmp(sstored, tstored) == 0 &&
		    !exchange) {
			uint64_t v = dirent_value(sobj, s.mode);
			if ((rc = dir_remove(fs, olddir, sstored, &tx)) == 0)
				rc = zap_add(fs->os, olddir, newname, 8, 1, &v, &tx);
			if (rc == 0 && (rc = zplw_wtouch(fs, &s, TS_CTIME, now)) == 0)
				rc = zplw_wstore(fs, &s, &tx);
			if (rc == 0 && (rc = zplw_wtouch(fs, sd, TS_MTIME | TS_CTIME, now)) == 0)
				rc = zplw_wstore(fs, sd, &tx);
			if (rc == 0)
				zfs_log_rename(fs->os, tx.txg, TX_RENAME, olddir, sstored, newdir, newname,
					       sobj, 0);
		}
		zil_tx_nolog(fs->os);
		goto out;
	}
	bool below;
	if (S_ISDIR(s.mode)) {
		if ((rc = is_descendant(fs, newdir, sobj, &below)) != 0)
			goto out;
		if (below) {
			rc = -ZFUSE_E_INVAL;
			goto out;
		}
	}
	if (tobj) {
		if ((rc = zplw_wnode_load(fs, tobj, &t)) != 0)
			goto out;
		have_t = true;
		if (exchange && S_ISDIR(t.mode)) {
			if ((rc = is_descendant(fs, olddir, tobj, &below)) != 0)
				goto out;
			if (below) {
				rc = -ZFUSE_E_INVAL;
				goto out;
			}
		}
		if (!exchange) {
			if (S_ISDIR(s.mode) && !S_ISDIR(t.mode))
				rc = -ZFUSE_E_NOTDIR;
			else if (!S_ISDIR(s.mode) && S_ISDIR(t.mode))
				rc = -ZFUSE_E_ISDIR;
			else if (S_ISDIR(t.mode) && t.size != 2)
				rc = -ZFUSE_E_NOTEMPTY;
			else if (tobj == fs->root)
				rc = -ZFUSE_E_BUSY;
			if (rc)
				goto out;
		}
	}
	if (exchange) {
		if ((rc = zplw_link_destroy(fs, sd, sstored, &s, true, &tx, now, NULL)) != 0 ||
		    (rc = zplw_link_destroy(fs, td, tstored, &t, true, &tx, now, NULL)) != 0 ||
		    (rc = zplw_link_create(fs, sd, oldname, &t, false, true, &tx, now)) != 0 ||
		    (rc = zplw_link_create(fs, td, newname, &s, false, true, &tx, now)) != 0)
			goto out;
	} else {
		if (tobj && (rc = zplw_link_destroy(fs, td, tstored, &t, false, &tx, now, NULL)) != 0)
			goto out;
		if ((rc = zplw_link_destroy(fs, sd, sstored, &s, true, &tx, now, NULL)) != 0 ||
		    (rc = zplw_link_create(fs, td, newname, &s, false, true, &tx, now)) != 0)
			goto out;
	}
	/* zfs_rename marks the moved objects modified and passes on project
	 * inheritance. */
	s.flags |= ZFS_AV_MODIFIED;
	if (td->flags & ZFS_PROJINHERIT)
		s.flags |= ZFS_PROJINHERIT;
	if ((rc = zplw_wset(fs, &s, ZPL_FLAGS, s.flags)) != 0 || (rc = zplw_wstore(fs, &s, &tx)) != 0)
		goto out;
	if (exchange) {
		t.flags |= ZFS_AV_MODIFIED;
		if (sd->flags & ZFS_PROJINHERIT)
			t.flags |= ZFS_PROJINHERIT;
		if ((rc = zplw_wset(fs, &t, ZPL_FLAGS, t.flags)) != 0 || (rc = zplw_wstore(fs, &t, &tx)) != 0)
			goto out;
	}
	if (exchange)
		zfs_log_rename(fs->os, tx.txg, TX_RENAME_EXCHANGE, olddir, sstored, newdir, tstored,
			       s.obj, t.obj);
	else
		zfs_log_rename(fs->os, tx.txg, TX_RENAME, olddir, sstored, newdir, newname, s.obj, 0);
out:
	if (have_t)
		zplw_wnode_free(&t);
	if (have_s)
		zplw_wnode_free(&s);
	if (have_td)
		zplw_wnode_free(&tdbuf);
	if (have_sd)
		zplw_wnode_free(&sdbuf);
	return zplw_wend(fs, &tx, rc);
}
