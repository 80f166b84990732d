/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zvol_ll.c — volumes (zvols) through FUSE: `zfuse mount -o dataset=
 * POOL/VOL` shows the volume as one regular file MOUNTPOINT/VOL (the last
 * component of its name; a snapshot POOL/VOL@S read-only as VOL@S), `-o
 * volumes` every volume of the pool at its
 * path below the pool (MOUNTPOINT/a/vol for POOL/a/vol, as OpenZFS's
 * /dev/zvol/POOL/a/vol), with directories for the filesystems on the way.
 * The files can be read and written like the devices (losetup, mkfs, dd);
 * their size is volsize, fsync commits the volume's intent log, punching a
 * hole discards.
 *
 * Theory: the tree is fixed at mount time (a node per directory and
 * volume, inode = index + 1, the root 1) and each volume is opened once
 * (zfuse_volume_open); every request maps to one zfuse_volume_* call.
 * It is one FUSE session served by libfuse's multi-threaded loop in the
 * calling thread until unmounted or SIGINT/SIGTERM/SIGHUP (then the mount
 * is undone). Filesystem datasets are not shown: that is sessions.c's.
 */
#include "zvol_ll.h"
#include "zfuse/crypt.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include "cmd.h"
#include "log.h"
#include "mtab.h"
#include "zfuse/errors.h"

struct znode {
	char *name;		/* the entry's name ("" for the root) */
	size_t parent;		/* index */
	zfuse_volume_t *vol;	/* NULL: a directory */
	char *dsname;
};

struct zvol_fs {
	zfuse_pool_t *pool;
	struct znode *n;
	size_t count, cap;
	bool writable;
	double timeout;
	uid_t uid;
	gid_t gid;
	struct timespec mtime;	/* mount time: the directories' times */
};

static int errno_of(int rc)
{
	return rc < 0 ? zfuse_errno(rc) : 0;
}

static size_t add_node(struct zvol_fs *f, size_t parent, const char *name, size_t len)
{
	for (size_t i = 1; i < f->count; i++)
		if (f->n[i].parent == parent && strlen(f->n[i].name) == len &&
		    memcmp(f->n[i].name, name, len) == 0)
			return i;
	if (f->count == f->cap) {
		size_t nc = f->cap ? 2 * f->cap : 16;
		struct znode *nn = realloc(f->n, nc * sizeof(*nn));
		if (!nn)
			return 0;
		f->n = nn;
		f->cap = nc;
	}
	struct znode *z = &f->n[f->count];
	memset(z, 0, sizeof(*z));
	z->parent = parent;
	if (!(z->name = strndup(name, len)))
		return 0;
	return f->count++;
}

/* Add the volume dsname at rel (its path below the mount's root). */
static int add_volume(struct zvol_fs *f, const char *dsname, const char *rel)
{
	size_t at = 0;
	for (const char *p = rel;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		size_t idx = add_node(f, at, p, len);
		if (!idx)
			return -ENOMEM;
		at = idx;
		if (!slash)
			break;
		p = slash + 1;
	}
	struct znode *z = &f->n[at];
	if (!(z->dsname = strdup(dsname)))
		return -ENOMEM;
	int rc = zfuse_volume_open(f->pool, dsname, &z->vol);
	if (rc) {
		zf_log(ZFUSE_LOG_ERROR, "cannot open volume %s: %s", dsname, zfuse_strerror(rc));
		return rc;
	}
	return 0;
}

struct collect {
	struct zvol_fs *f;
	size_t poollen;
	int rc;
};

static int collect_cb(const struct zfuse_dataset_info *info, void *arg)
{
	struct collect *c = arg;
	if (info->type != ZFUSE_DS_VOLUME)
		return 0;
	struct zfuse_crypt_info ci;
	if (info->encrypted && (zfuse_crypt_info(c->f->pool, info->name, &ci) != 0 || !ci.loaded)) {
		zf_log(ZFUSE_LOG_WARN, "volume %s is encrypted and its key is not loaded: not shown",
		       info->name);
		return 0;
	}
	c->rc = add_volume(c->f, info->name, info->name + c->poollen + 1);
	return c->rc ? 1 : 0;
}

/* ---- attributes --------------------------------------------------------- */

static int node_stat(struct zvol_fs *f, fuse_ino_t ino, struct stat *st)
{
	if (ino < 1 || ino > f->count)
		return ENOENT;
	const struct znode *z = &f->n[ino - 1];
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = f->uid;
	st->st_gid = f->gid;
	st->st_atim = st->st_mtim = st->st_ctim = f->mtime;
	if (!z->vol) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	st->st_mode = S_IFREG | (f->writable && zfuse_volume_writable(z->vol) ? 0600 : 0400);
	st->st_nlink = 1;
	st->st_size = (off_t)zfuse_volume_size(z->vol);
	st->st_blksize = (blksize_t)zfuse_volume_blocksize(z->vol);
	st->st_blocks = st->st_size / 512;
	return 0;
}

static void reply_entry(fuse_req_t req, struct zvol_fs *f, fuse_ino_t ino)
{
	struct fuse_entry_param e = { .ino = ino, .attr_timeout = f->timeout,
				      .entry_timeout = f->timeout };
	int err = node_stat(f, ino, &e.attr);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

static struct zvol_fs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static struct znode *vol_of(struct zvol_fs *f, fuse_ino_t ino)
{
	return ino >= 1 && ino <= f->count && f->n[ino - 1].vol ? &f->n[ino - 1] : NULL;
}

/* The volume of ino, or NULL after answering EISDIR (a directory). */
static struct znode *vol_or_reply(fuse_req_t req, fuse_ino_t ino)
{
	struct znode *z = vol_of(fs_of(req), ino);
	if (!z)
		fuse_reply_err(req, EISDIR);
	return z;
}

/* ---- operations ------------------------------------------------------------ */

static void zv_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct zvol_fs *f = fs_of(req);
	for (size_t i = 1; i < f->count; i++)
		if (f->n[i].parent == parent - 1 && strcmp(f->n[i].name, name) == 0) {
			reply_entry(req, f, i + 1);
			return;
		}
	fuse_reply_err(req, ENOENT);
}

static void zv_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	struct zvol_fs *f = fs_of(req);
	struct stat st;
	int err = node_stat(f, ino, &st);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_attr(req, &st, f->timeout);
}

/* A device's size is volsize: truncate to it is a no-op, others fail
 * (zfuse set volsize=... changes it); times and modes are not kept. */
static void zv_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct zvol_fs *f = fs_of(req);
	struct znode *z = vol_of(f, ino);
	if ((to_set & FUSE_SET_ATTR_SIZE) &&
	    (!z || (uint64_t)attr->st_size != zfuse_volume_size(z->vol))) {
		fuse_reply_err(req, z ? EPERM : EISDIR);
		return;
	}
	zv_getattr(req, ino, fi);
}

static void zv_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)fi;
	struct zvol_fs *f = fs_of(req);
	if (ino < 1 || ino > f->count || f->n[ino - 1].vol) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	char *buf = calloc(1, size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	size_t used = 0;
	/* offsets: 1 ".", 2 "..", i + 3 the node i */
	for (size_t k = (size_t)off; k < f->count + 2; k++) {
		struct stat st = { 0 };
		const char *name;
		if (k == 0) {
			name = ".";
			st.st_ino = ino;
			st.st_mode = S_IFDIR;
		} else if (k == 1) {
			name = "..";
			st.st_ino = ino == 1 ? 1 : f->n[ino - 1].parent + 1;
			st.st_mode = S_IFDIR;
		} else if (k - 2 >= 1 && f->n[k - 2].parent == ino - 1) {
			name = f->n[k - 2].name;
			st.st_ino = k - 1;
			st.st_mode = f->n[k - 2].vol ? S_IFREG : S_IFDIR;
		} else {
			continue;
		}
		size_t need = fuse_add_direntry(req, buf + used, size - used, name, &st,
						(off_t)k + 1);
		if (need > size - used)
			break;
		used += need;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void zv_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct zvol_fs *f = fs_of(req);
	struct znode *z = vol_of(f, ino);
	if (!z) {
		fuse_reply_err(req, ino >= 1 && ino <= f->count ? EISDIR : ENOENT);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY &&
	    (!f->writable || !zfuse_volume_writable(z->vol))) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if ((fi->flags & O_TRUNC) && (fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EPERM);	/* a device is not truncated */
		return;
	}
	fi->keep_cache = 0;
	fuse_reply_open(req, fi);
}

static void zv_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)fi;
	struct znode *z = vol_of(fs_of(req), ino);
	char *buf = size ? malloc(size) : NULL;
	if (!z || (size && !buf)) {
		free(buf);
		fuse_reply_err(req, z ? ENOMEM : EISDIR);
		return;
	}
	ssize_t n = zfuse_volume_read(z->vol, buf, size, (uint64_t)off);
	if (n < 0)
		fuse_reply_err(req, errno_of((int)n));
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

static void zv_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	(void)fi;
	struct znode *z = vol_or_reply(req, ino);
	if (!z)
		return;
	/* Past the end: ENOSPC, as a block device answers. */
	uint64_t size_now = zfuse_volume_size(z->vol);
	if ((uint64_t)off >= size_now && size) {
		fuse_reply_err(req, ENOSPC);
		return;
	}
	if (size > size_now - (uint64_t)off)
		size = (size_t)(size_now - (uint64_t)off);
	ssize_t n = zfuse_volume_write(z->vol, buf, size, (uint64_t)off);
	if (n < 0)
		fuse_reply_err(req, errno_of((int)n));
	else
		fuse_reply_write(req, (size_t)n);
}

static void zv_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)datasync;
	(void)fi;
	struct znode *z = vol_of(fs_of(req), ino);
	fuse_reply_err(req, z ? errno_of(zfuse_volume_sync(z->vol)) : 0);
}

static void zv_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);	/* close does not sync, as with the devices */
}

static void zv_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
			 struct fuse_file_info *fi)
{
	(void)fi;
	struct znode *z = vol_or_reply(req, ino);
	if (!z)
		return;
	uint64_t size = zfuse_volume_size(z->vol);
	if ((uint64_t)off > size || (uint64_t)len > size - (uint64_t)off) {
		fuse_reply_err(req, mode ? EINVAL : EFBIG);
		return;
	}
	if (mode == 0 || mode == FALLOC_FL_KEEP_SIZE) {
		fuse_reply_err(req, 0);	/* copy-on-write: nothing to reserve */
		return;
	}
	if (mode == (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) ||
	    mode == FALLOC_FL_ZERO_RANGE || mode == (FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE)) {
		fuse_reply_err(req, errno_of(zfuse_volume_free(z->vol, (uint64_t)off,
							       (uint64_t)len)));
		return;
	}
	fuse_reply_err(req, EOPNOTSUPP);
}

static void zv_statfs(fuse_req_t req, fuse_ino_t ino)
{
	(void)ino;
	struct zvol_fs *f = fs_of(req);
	struct statvfs sv = { .f_bsize = 4096, .f_frsize = 4096, .f_namemax = 255 };
	uint64_t total = 0;
	for (size_t i = 0; i < f->count; i++)
		if (f->n[i].vol)
			total += zfuse_volume_size(f->n[i].vol);
	sv.f_blocks = total / 4096;
	sv.f_files = f->count;
	fuse_reply_statfs(req, &sv);
}

static void zv_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/* Large writes are one transaction each, as for files. */
	if (conn->capable & FUSE_CAP_SPLICE_READ)
		conn->want &= ~FUSE_CAP_SPLICE_READ;
	conn->max_write = 1 << 20;
}

static const struct fuse_lowlevel_ops zvol_ops = {
	.init = zv_init,
	.lookup = zv_lookup,
	.getattr = zv_getattr,
	.setattr = zv_setattr,
	.readdir = zv_readdir,
	.open = zv_open,
	.read = zv_read,
	.write = zv_write,
	.flush = zv_flush,
	.fsync = zv_fsync,
	.fallocate = zv_fallocate,
	.statfs = zv_statfs,
};

/* ---- serving ---------------------------------------------------------------- */

struct find_arg {
	const char *name;
	bool found;
};

static int find_cb(const struct zfuse_dataset_info *info, void *arg)
{
	struct find_arg *a = arg;
	if (strcmp(info->name, a->name) != 0)
		return 0;
	a->found = info->type == ZFUSE_DS_VOLUME;
	return 1;
}

bool zf_zvol_is_volume(zfuse_pool_t *pool, const char *dsname)
{
	/* a snapshot of a volume is one too (read-only) */
	char *head = strndup(dsname, strcspn(dsname, "@"));
	struct find_arg a = { head ? head : dsname, false };
	zfuse_dataset_iter(pool, find_cb, &a);
	free(head);
	return a.found;
}

static void zvol_fs_free(struct zvol_fs *f)
{
	for (size_t i = 0; i < f->count; i++) {
		zfuse_volume_close(f->n[i].vol);
		free(f->n[i].name);
		free(f->n[i].dsname);
	}
	free(f->n);
}

int zf_zvol_serve(zfuse_pool_t *pool, const char *dsname, const struct zf_serve_opts *o)
{
	struct zvol_fs f = { .pool = pool, .uid = getuid(), .gid = getgid() };
	clock_gettime(CLOCK_REALTIME, &f.mtime);
	int status = ZF_EXIT_FAIL, rc = 0;
	struct fuse_args fa = FUSE_ARGS_INIT(0, NULL);
	struct fuse_session *se = NULL;
	bool mounted = false, ready = false;

	if (add_node(&f, 0, "", 0) != 0 || f.count != 1) {	/* the root, index 0 */
		zf_log(ZFUSE_LOG_ERROR, "out of memory");
		goto out;
	}
	if (dsname) {
		const char *last = strrchr(dsname, '/');
		rc = add_volume(&f, dsname, last ? last + 1 : dsname);
	} else {
		struct collect c = { &f, strlen(zfuse_pool_name(pool)), 0 };
		zfuse_dataset_iter(pool, collect_cb, &c);
		rc = c.rc;
		if (rc == 0 && f.count == 1)
			zf_log(ZFUSE_LOG_WARN, "pool %s has no volumes", zfuse_pool_name(pool));
	}
	if (rc)
		goto out;
	f.writable = o->writable;
	f.timeout = f.writable ? o->timeout_rw : o->timeout;
	if (o->fuse_args(o->fuse_args_arg, dsname ? dsname : zfuse_pool_name(pool), f.writable,
			 &fa) != 0) {
		zf_log(ZFUSE_LOG_ERROR, "out of memory");
		goto out;
	}
	se = fuse_session_new(&fa, &zvol_ops, sizeof(zvol_ops), &f);
	if (!se || fuse_session_mount(se, o->mountpoint) != 0)
		goto out;	/* libfuse said why */
	mounted = true;
	zf_log(ZFUSE_LOG_INFO, "%s mounted at %s", dsname ? dsname : "volumes", o->mountpoint);
	dev_t dev;
	if (zf_mount_dev(o->mountpoint, &dev) == 0)
		zf_daemon_listen_mount(dev, o->mountpoint);	/* `zfuse unmount` waits for the exit */
	o->ready(o->ready_arg, ZF_EXIT_OK);
	ready = true;
	status = ZF_EXIT_OK;
	/* The stop signals were blocked for every thread (cmd_mount.c):
	 * libfuse's handlers take them from here on, in the loop's threads. */
	if (fuse_set_signal_handlers(se) == 0) {
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGHUP);
		pthread_sigmask(SIG_UNBLOCK, &set, NULL);
		struct fuse_loop_config *cfg = fuse_loop_cfg_create();
		if (cfg) {
			fuse_loop_cfg_set_clone_fd(cfg, o->clone_fd);
			if (o->max_threads)
				fuse_loop_cfg_set_max_threads(cfg, o->max_threads);
			if (o->max_idle_threads)
				fuse_loop_cfg_set_idle_threads(cfg, o->max_idle_threads);
			if (fuse_session_loop_mt(se, cfg) < 0)
				status = ZF_EXIT_FAIL;
			fuse_loop_cfg_destroy(cfg);
		}
		pthread_sigmask(SIG_BLOCK, &set, NULL);
		fuse_remove_signal_handlers(se);
	}
	fuse_session_unmount(se);
	mounted = false;
	zf_log(ZFUSE_LOG_INFO, "%s unmounted", o->mountpoint);
	/* Closing the volumes ends their logs (a txg sync), and the caller's
	 * pool sync writes the last changes and says when that fails. */
out:
	if (!ready)
		o->ready(o->ready_arg, status);
	if (se) {
		if (mounted)
			fuse_session_unmount(se);
		fuse_session_destroy(se);
	}
	fuse_opt_free_args(&fa);
	zvol_fs_free(&f);
	return status;
}
