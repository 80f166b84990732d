/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * spa_create.c — making a new pool (zfuse_pool_create), the equivalent of
 * `zpool create`: parse the vdev grammar and properties, prepare the
 * devices, build the in-core pool, fill the first txg with what OpenZFS's
 * spa_create / dsl_pool_create / zfs_create_fs write, and sync it.
 *
 * Theory: everything a new pool contains is born in one txg, TXG_INITIAL
 * (4), in OpenZFS's order: the MOS object directory, the DSL skeleton
 * (root dir, $MOS, $FREE + free_bpobj, $ORIGIN and $ORIGIN@$ORIGIN), the
 * feature ZAPs, the root dataset and its ZPL content, the config object,
 * creation_version, deflate, the deferred-free bpobj, the checksum salt,
 * pool properties, the enabled features, the root dataset's properties,
 * and the per-vdev ZAPs. The write engine (txg.c) then writes the objsets,
 * the metaslab arrays and space maps, labels and the uberblock. The pool
 * is written as cleanly exported (state 1), so it imports anywhere
 * without -f; zfuse then closes it.
 *
 * Devices are labelled from scratch: their four label areas are zeroed
 * first, so uberblocks of an earlier pool on a reused file cannot win.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "dmu_tx.h"
#include "txg.h"
#include "dmu_types.h"
#include "bpobj.h"
#include "byteorder.h"
#include "dsl.h"
#include "dsl_crypt.h"
#include "metaslab.h"
#include "spa.h"
#include "spa_config.h"
#include "zap.h"
#include "zfeature_write.h"
#include "zfuse/dataset.h"
#include "zfuse/errors.h"
#include "zio_checksum.h"
#include "zio_compress.h"
#include "zpl_create.h"
#include "zfs_debug.h"
#include "zfs_prop.h"

#define TXG_INITIAL 4
#define SPA_MINDEVSIZE (64ULL << 20)
#define ASHIFT_MIN 9
#define ASHIFT_MAX 16
#define DMU_OT_POOL_PROPS 31

/* ---- messages ------------------------------------------------------------ */

struct create_ctx {
	const struct zfuse_create_opts *opts;
	spa_t *spa;
	char **created;		/* files this call created (removed on failure) */
	size_t ncreated;
};

static void cmsg(const struct create_ctx *c, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void cmsg(const struct create_ctx *c, int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	const struct zfuse_create_opts *o = c->opts;
	if (o->log) {
		if (level <= o->log_level)
			o->log(o->log_arg, level, buf);
	} else if (level <= ZFUSE_LOG_WARN) {
		fprintf(stderr, "zfuse: %s\n", buf);
	}
}

/* ---- names and the vdev grammar ------------------------------------------ */

/* zpool's pool name rules (zfs_namecheck.c pool_namecheck). */
static bool pool_name_ok(const char *n)
{
	if (!n || !*n || strlen(n) >= 256)
		return false;
	if (!((n[0] >= 'a' && n[0] <= 'z') || (n[0] >= 'A' && n[0] <= 'Z')))
		return false;
	for (const char *p = n; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("_-.: ", *p)))
			return false;
	if (strcmp(n, "mirror") == 0 || strcmp(n, "spare") == 0 || strcmp(n, "log") == 0 ||
	    strncmp(n, "raidz", 5) == 0 || strncmp(n, "draid", 5) == 0)
		return false;
	/* c[0-9] names look like disk device names on illumos */
	if (n[0] == 'c' && n[1] >= '0' && n[1] <= '9')
		return false;
	return true;
}

struct vgroup {
	enum vdev_kind kind;	/* LEAF (one file), MIRROR, RAIDZ */
	uint64_t nparity;
	const char **files;
	size_t nfiles;
};

static bool is_keyword(const char *w, enum vdev_kind *kind, uint64_t *nparity)
{
	if (strcmp(w, "mirror") == 0) {
		*kind = VDEV_KIND_MIRROR;
		return true;
	}
	if (strcmp(w, "raidz") == 0 || strcmp(w, "raidz1") == 0) {
		*kind = VDEV_KIND_RAIDZ;
		*nparity = 1;
		return true;
	}
	if (strcmp(w, "raidz2") == 0 || strcmp(w, "raidz3") == 0) {
		*kind = VDEV_KIND_RAIDZ;
		*nparity = (uint64_t)(w[5] - '0');
		return true;
	}
	return false;
}

static bool is_unsupported_keyword(const char *w)
{
	static const char *const kw[] = { "log", "cache", "spare", "special", "dedup", NULL };
	for (int i = 0; kw[i]; i++)
		if (strcmp(w, kw[i]) == 0)
			return true;
	return strncmp(w, "draid", 5) == 0 || strncmp(w, "raidz", 5) == 0;
}

static int parse_vdevs(struct create_ctx *c, struct vgroup **out, size_t *nout)
{
	const struct zfuse_create_opts *o = c->opts;
	struct vgroup *g = calloc(o->nvdev_args + 1, sizeof(*g));
	if (!g)
		return -ZFUSE_E_NOMEM;
	size_t n = 0;
	for (size_t i = 0; i < o->nvdev_args;) {
		const char *w = o->vdev_args[i];
		enum vdev_kind kind;
		uint64_t np = 0;
		if (is_keyword(w, &kind, &np)) {
			size_t j = i + 1;
			while (j < o->nvdev_args && !is_keyword(o->vdev_args[j], &(enum vdev_kind){ 0 },
								   &(uint64_t){ 0 }) &&
			       !is_unsupported_keyword(o->vdev_args[j]))
				j++;
			size_t nf = j - i - 1;
			size_t need = kind == VDEV_KIND_MIRROR ? 2 : np + 1;
			if (nf < need) {
				cmsg(c, ZFUSE_LOG_ERROR, "%s needs at least %zu devices, got %zu", w,
				     need, nf);
				free(g);
				return -ZFUSE_E_INVAL;
			}
			g[n++] = (struct vgroup){ kind, np, (const char **)&o->vdev_args[i + 1], nf };
			i = j;
		} else if (is_unsupported_keyword(w)) {
			cmsg(c, ZFUSE_LOG_ERROR, "'%s' vdevs are not supported by zfuse", w);
			free(g);
			return -ZFUSE_E_UNSUPPORTED;
		} else {
			g[n++] = (struct vgroup){ VDEV_KIND_LEAF, 0, (const char **)&o->vdev_args[i], 1 };
			i++;
		}
	}
	if (n == 0) {
		cmsg(c, ZFUSE_LOG_ERROR, "no devices given");
		free(g);
		return -ZFUSE_E_INVAL;
	}
	*out = g;
	*nout = n;
	return 0;
}

/* ---- properties ------------------------------------------------------------ */

/* One root filesystem property, as stored in the DSL props ZAP. */
struct fs_prop {
	const char *name;
	const char *str;	/* string properties */
	uint64_t num;
};

struct create_props {
	unsigned ashift;
	bool ashift_set;
	bool feature_on[64];	/* by index in zfeature_zfuse_default, plus extras below */
	struct fs_prop *fs;
	size_t nfs;
	struct zpl_create_props zpl;
	bool utf8_set;
	/* encryption, keyformat, keylocation, pbkdf2iters: the root's crypto
	 * key, made once the features are enabled */
	struct zfuse_prop_setting crypt[4];
	char crypt_names[4][16];
	size_t ncrypt;
};

static int split_prop(struct create_ctx *c, const char *p, char *name, size_t cap, const char **val)
{
	const char *eq = strchr(p, '=');
	if (!eq || eq == p || (size_t)(eq - p) >= cap) {
		cmsg(c, ZFUSE_LOG_ERROR, "property '%s' is not name=value", p);
		return -ZFUSE_E_INVAL;
	}
	memcpy(name, p, (size_t)(eq - p));
	name[eq - p] = '\0';
	*val = eq + 1;
	return 0;
}

static int default_feature_index(const char *name)
{
	for (int i = 0; zfeature_zfuse_default[i]; i++)
		if (strcmp(zfeature_zfuse_default[i], name) == 0)
			return i;
	return -1;
}

static int parse_pool_props(struct create_ctx *c, struct create_props *pr)
{
	for (int i = 0; zfeature_zfuse_default[i]; i++)
		pr->feature_on[i] = true;
	pr->ashift = ASHIFT_MIN;
	for (size_t i = 0; i < c->opts->npool_props; i++) {
		char name[128];
		const char *v;
		int rc = split_prop(c, c->opts->pool_props[i], name, sizeof(name), &v);
		if (rc)
			return rc;
		if (strcmp(name, "ashift") == 0) {
			char *end;
			long a = strtol(v, &end, 10);
			if (*end || end == v || (a != 0 && (a < ASHIFT_MIN || a > ASHIFT_MAX))) {
				cmsg(c, ZFUSE_LOG_ERROR, "ashift must be 0 or 9..16, not '%s'", v);
				return -ZFUSE_E_INVAL;
			}
			pr->ashift = a ? (unsigned)a : ASHIFT_MIN;
			pr->ashift_set = a != 0;
		} else if (strncmp(name, "feature@", 8) == 0) {
			const char *f = name + 8;
			bool on = strcmp(v, "enabled") == 0;
			if (!on && strcmp(v, "disabled") != 0) {
				cmsg(c, ZFUSE_LOG_ERROR, "%s must be 'enabled' or 'disabled'", name);
				return -ZFUSE_E_INVAL;
			}
			int idx = default_feature_index(f);
			if (idx < 0) {
				if (!on)
					continue;	/* disabled already */
				cmsg(c, ZFUSE_LOG_ERROR, "feature '%s' cannot be enabled: zfuse does not "
				     "keep its on-disk obligations", f);
				return -ZFUSE_E_UNSUPPORTED;
			}
			pr->feature_on[idx] = on;
		} else {
			cmsg(c, ZFUSE_LOG_ERROR, "pool property '%s' is not supported at creation",
			     name);
			return -ZFUSE_E_INVAL;
		}
	}
	return 0;
}

static bool feature_wanted(const struct create_props *pr, const char *name)
{
	int idx = default_feature_index(name);
	return idx >= 0 && pr->feature_on[idx];
}

static int needs_feature(struct create_ctx *c, const struct create_props *pr, const char *prop,
			 const char *v, const char *feature)
{
	if (feature_wanted(pr, feature))
		return 0;
	cmsg(c, ZFUSE_LOG_ERROR, "%s=%s needs feature@%s enabled", prop, v, feature);
	return -ZFUSE_E_INVAL;
}

/* The root filesystem properties `create -O` takes (besides the ZPL
 * creation ones, which go to the master node). */
static const int create_fs_props[] = {
	ZFS_PROP_COMPRESSION, ZFS_PROP_CHECKSUM, ZFS_PROP_RECORDSIZE, ZFS_PROP_COPIES,
	ZFS_PROP_ATIME, ZFS_PROP_DNODESIZE, ZFS_PROP_XATTR, ZFS_PROP_CANMOUNT, ZFS_PROP_MOUNTPOINT,
};

static int parse_fs_props(struct create_ctx *c, struct create_props *pr)
{
	const struct zfuse_create_opts *o = c->opts;
	pr->fs = calloc(o->nfs_props + 1, sizeof(*pr->fs));
	if (!pr->fs)
		return -ZFUSE_E_NOMEM;
	pr->zpl.root_mode = 0755;
	for (size_t i = 0; i < o->nfs_props; i++) {
		char name[128], err[256];
		const char *v;
		int rc = split_prop(c, o->fs_props[i], name, sizeof(name), &v);
		if (rc)
			return rc;
		int p = zfs_prop_lookup(name);
		if (p == ZFS_PROP_ENCRYPTION || p == ZFS_PROP_KEYFORMAT || p == ZFS_PROP_KEYLOCATION ||
		    p == ZFS_PROP_PBKDF2_ITERS) {
			size_t k = 0;
			while (k < pr->ncrypt && strcmp(pr->crypt_names[k], name) != 0)
				k++;
			snprintf(pr->crypt_names[k], sizeof(pr->crypt_names[k]), "%s", name);
			pr->crypt[k] = (struct zfuse_prop_setting){ pr->crypt_names[k], v };
			if (k == pr->ncrypt)
				pr->ncrypt++;
			continue;
		}
		uint64_t *zpl = p == ZFS_PROP_NORMALIZE ? &pr->zpl.normalization :
				p == ZFS_PROP_UTF8ONLY	? &pr->zpl.utf8only :
				p == ZFS_PROP_CASE	? &pr->zpl.casesensitivity : NULL;
		size_t k = 0;
		while (!zpl && k < sizeof(create_fs_props) / sizeof(create_fs_props[0]) &&
		       create_fs_props[k] != p)
			k++;
		if (!zpl && k == sizeof(create_fs_props) / sizeof(create_fs_props[0])) {
			cmsg(c, ZFUSE_LOG_ERROR, "filesystem property '%s' is not supported at creation",
			     name);
			return -ZFUSE_E_INVAL;
		}
		struct fs_prop fp = { zfs_prop_desc(p)->name, NULL, 0 };
		if (!zfs_prop_parse(p, v, &fp.num, &fp.str, err, sizeof(err))) {
			cmsg(c, ZFUSE_LOG_ERROR, "%s", err);
			return -ZFUSE_E_INVAL;
		}
		if (zpl) {
			*zpl = fp.num;
			pr->utf8_set |= p == ZFS_PROP_UTF8ONLY;
			continue;
		}
		const char *feature = zfs_prop_feature(p, fp.num);
		if (feature && (rc = needs_feature(c, pr, name, v, feature)) != 0)
			return rc;
		/* a later setting of the same property wins */
		k = 0;
		while (k < pr->nfs && strcmp(pr->fs[k].name, fp.name) != 0)
			k++;
		pr->fs[k] = fp;
		if (k == pr->nfs)
			pr->nfs++;
	}
	if (pr->zpl.normalization) {
		if (pr->utf8_set && pr->zpl.utf8only == 0) {
			cmsg(c, ZFUSE_LOG_ERROR, "normalization needs utf8only=on");
			return -ZFUSE_E_INVAL;
		}
		pr->zpl.utf8only = 1;
	}
	return 0;
}

/* ---- devices --------------------------------------------------------------- */

static uint64_t random_guid(void)
{
	uint64_t v = 0;
	while (v == 0)
		while (getrandom(&v, sizeof(v), 0) != sizeof(v))
			;
	return v;
}

static uint64_t dev_size(int fd)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return 0;
	if (S_ISBLK(st.st_mode)) {
		uint64_t sz = 0;
		return ioctl(fd, BLKGETSIZE64, &sz) == 0 ? sz : 0;
	}
	return (uint64_t)st.st_size;
}

/* A valid label of a pool that is not destroyed makes the device busy. */
static bool device_in_use(const char *path, char *pool, size_t cap)
{
	struct leaf_dev **devs = NULL;
	size_t n = 0;
	bool busy = false;
	if (vdev_probe_path(path, &devs, &n, NULL, NULL) == 0) {
		for (size_t i = 0; i < n; i++) {
			uint64_t state = 0;
			if (!busy && devs[i]->config &&
			    (nvlist_lookup_uint64(devs[i]->config, "state", &state) != 0 ||
			     state != POOL_STATE_DESTROYED)) {
				busy = true;
				snprintf(pool, cap, "%s", devs[i]->pool_name ? devs[i]->pool_name : "?");
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		leaf_dev_close(devs[i]);
	free(devs);
	return busy;
}

static int open_device(struct create_ctx *c, const char *path, vdev_t *leaf)
{
	const struct zfuse_create_opts *o = c->opts;
	int fd = open(path, O_RDWR | O_CLOEXEC);
	bool made = false;
	if (fd < 0 && errno == ENOENT && o->file_size) {
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0) {
			made = true;
			char **nc = realloc(c->created, (c->ncreated + 1) * sizeof(*nc));
			if (!nc || !(nc[c->ncreated] = strdup(path))) {
				if (nc)
					c->created = nc;
				close(fd);
				unlink(path);
				return -ZFUSE_E_NOMEM;
			}
			c->created = nc;
			c->ncreated++;
			if (ftruncate(fd, (off_t)o->file_size) != 0) {
				cmsg(c, ZFUSE_LOG_ERROR, "%s: cannot size it: %s", path, strerror(errno));
				close(fd);
				return SET_ERROR(-ZFUSE_E_IO);
			}
		}
	}
	if (fd < 0) {
		int e = errno;
		cmsg(c, ZFUSE_LOG_ERROR, "cannot open '%s': %s", path, strerror(e));
		return e == ENOENT ? -ZFUSE_E_NOENT : e == EACCES || e == EROFS ? -ZFUSE_E_ROFS
										 : SET_ERROR(-ZFUSE_E_IO);
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		cmsg(c, ZFUSE_LOG_ERROR, "'%s' is neither a regular file nor a block device", path);
		close(fd);
		return -ZFUSE_E_INVAL;
	}
	char pool[256];
	if (!made && device_in_use(path, pool, sizeof(pool)) && !o->force) {
		cmsg(c, ZFUSE_LOG_ERROR, "%s is part of pool '%s' (use force to overwrite it)", path,
		     pool);
		close(fd);
		return -ZFUSE_E_BUSY;
	}
	uint64_t osize = dev_size(fd);
	if (osize < SPA_MINDEVSIZE) {
		cmsg(c, ZFUSE_LOG_ERROR, "%s is too small: %llu bytes, at least 64 MiB are needed",
		     path, (unsigned long long)osize);
		close(fd);
		return -ZFUSE_E_INVAL;
	}
	struct leaf_dev *dev = calloc(1, sizeof(*dev));
	char *abs = realpath(path, NULL);
	if (!dev || !abs) {
		free(dev);
		free(abs);
		close(fd);
		return -ZFUSE_E_NOMEM;
	}
	dev->fd = fd;
	dev->path = abs;
	dev->psize = osize & ~(VDEV_LABEL_SIZE - 1);
	dev->claimed = true;
	/* The pool owns the device from here on (closed with it). */
	spa_t *spa = c->spa;
	for (size_t k = 0; k < spa->ndevs; k++)
		if (strcmp(spa->devs[k]->path, abs) == 0) {
			cmsg(c, ZFUSE_LOG_ERROR, "%s is named twice", abs);
			leaf_dev_close(dev);
			return -ZFUSE_E_BUSY;
		}
	struct leaf_dev **nd = realloc(spa->devs, (spa->ndevs + 1) * sizeof(*nd));
	if (!nd) {
		leaf_dev_close(dev);
		return -ZFUSE_E_NOMEM;
	}
	spa->devs = nd;
	spa->devs[spa->ndevs++] = dev;
	leaf->kind = VDEV_KIND_LEAF;
	snprintf(leaf->type, sizeof(leaf->type), "%s", S_ISBLK(st.st_mode) ? "disk" : "file");
	leaf->dev = dev;
	leaf->asize = dev->psize - VDEV_LABEL_START_SIZE - VDEV_LABEL_END_SIZE;
	/* Zero all four labels: no uberblock of an earlier pool may survive. */
	static const uint8_t zero[VDEV_LABEL_SIZE];
	for (int l = 0; l < VDEV_LABELS; l++) {
		uint64_t off = l < 2 ? l * VDEV_LABEL_SIZE
				     : dev->psize - (uint64_t)(VDEV_LABELS - l) * VDEV_LABEL_SIZE;
		if (pwrite(fd, zero, sizeof(zero), (off_t)off) != (ssize_t)sizeof(zero)) {
			cmsg(c, ZFUSE_LOG_ERROR, "%s: cannot write its labels: %s", path,
			     strerror(errno));
			return errno == ENOSPC ? -ZFUSE_E_NOSPC : SET_ERROR(-ZFUSE_E_IO);
		}
	}
	return 0;
}

static vdev_t *new_vdev(vdev_t *parent, uint64_t id)
{
	vdev_t *vd = calloc(1, sizeof(*vd));
	if (vd) {
		vd->parent = parent;
		vd->id = id;
		vd->guid = random_guid();
	}
	return vd;
}

/* The vdev tree of the new pool, devices opened and labels cleared. */
static int build_tree(struct create_ctx *c, const struct vgroup *g, size_t ng, unsigned ashift)
{
	spa_t *spa = c->spa;
	vdev_t *root = new_vdev(NULL, 0);
	if (!root || !(root->child = calloc(ng, sizeof(vdev_t *)))) {
		free(root);
		return -ZFUSE_E_NOMEM;
	}
	spa->root = root;
	root->kind = VDEV_KIND_ROOT;
	snprintf(root->type, sizeof(root->type), "root");
	root->guid = spa->guid;
	int rc = 0;
	for (size_t t = 0; t < ng && rc == 0; t++) {
		vdev_t *top = new_vdev(root, t);
		if (!top)
			return -ZFUSE_E_NOMEM;
		root->child[root->nchild++] = top;
		top->ashift = ashift;
		if (g[t].kind == VDEV_KIND_LEAF) {
			rc = open_device(c, g[t].files[0], top);
			continue;
		}
		top->kind = g[t].kind;
		top->nparity = g[t].nparity;
		snprintf(top->type, sizeof(top->type), "%s",
			 g[t].kind == VDEV_KIND_MIRROR ? "mirror" : "raidz");
		if (!(top->child = calloc(g[t].nfiles, sizeof(vdev_t *))))
			return -ZFUSE_E_NOMEM;
		uint64_t min_asize = UINT64_MAX;
		for (size_t i = 0; i < g[t].nfiles && rc == 0; i++) {
			vdev_t *leaf = new_vdev(top, i);
			if (!leaf)
				return -ZFUSE_E_NOMEM;
			top->child[top->nchild++] = leaf;
			leaf->ashift = ashift;
			rc = open_device(c, g[t].files[i], leaf);
			if (rc == 0 && leaf->asize < min_asize)
				min_asize = leaf->asize;
		}
		/* vdev_mirror_open / vdev_raidz_open: the smallest child decides */
		top->asize = g[t].kind == VDEV_KIND_MIRROR ? min_asize : min_asize * top->nchild;
	}
	if (rc)
		return rc;
	/* the devices learn their place in the pool */
	for (uint64_t t = 0; t < root->nchild; t++) {
		vdev_t *top = root->child[t];
		uint64_t nl = top->nchild ? top->nchild : 1;
		for (uint64_t i = 0; i < nl; i++) {
			vdev_t *leaf = top->nchild ? top->child[i] : top;
			leaf->dev->pool_guid = spa->guid;
			leaf->dev->guid = leaf->guid;
			leaf->dev->top_guid = top->guid;
		}
	}
	return 0;
}

/* ---- the trusted config tree ---------------------------------------------- */

/* Per-vdev ZAP objects in creation (pre-)order, by vdev. */
struct vdev_zaps {
	const vdev_t *vd;
	uint64_t leaf, top;
};

static struct vdev_zaps *zaps_of(struct vdev_zaps *z, size_t n, const vdev_t *vd)
{
	for (size_t i = 0; i < n; i++)
		if (z[i].vd == vd)
			return &z[i];
	return NULL;
}

/* vdev_config_generate's key order for a vdev that was just created. */
static int vdev_nv(const vdev_t *vd, struct vdev_zaps *z, size_t nz, nvlist_t **out)
{
	nvlist_t *nv;
	int rc = nvlist_alloc(&nv);
	if (rc)
		return rc;
	bool top = vd->parent && vd->parent->kind == VDEV_KIND_ROOT;
	bool leaf = vd->kind == VDEV_KIND_LEAF;
	struct vdev_zaps *zz = zaps_of(z, nz, vd);
	rc = nvlist_add_string(nv, "type", vd->type);
	if (!rc) rc = nvlist_add_uint64(nv, "id", vd->id);
	if (!rc) rc = nvlist_add_uint64(nv, "guid", vd->guid);
	if (!rc && leaf) rc = nvlist_add_string(nv, "path", vd->dev->path);
	if (!rc && vd->kind == VDEV_KIND_RAIDZ) rc = nvlist_add_uint64(nv, "nparity", vd->nparity);
	if (!rc && leaf && strcmp(vd->type, "disk") == 0)
		rc = nvlist_add_uint64(nv, "whole_disk", 0);
	if (!rc && top) {
		rc = nvlist_add_uint64(nv, "metaslab_array", vd->metaslab_array);
		if (!rc) rc = nvlist_add_uint64(nv, "metaslab_shift", vd->metaslab_shift);
		if (!rc) rc = nvlist_add_uint64(nv, "ashift", vd->ashift);
		if (!rc) rc = nvlist_add_uint64(nv, "asize", vd->asize);
		if (!rc) rc = nvlist_add_uint64(nv, "is_log", 0);
	}
	if (!rc) rc = nvlist_add_uint64(nv, "create_txg", TXG_INITIAL);
	if (!rc && zz && zz->leaf) rc = nvlist_add_uint64(nv, "com.delphix:vdev_zap_leaf", zz->leaf);
	if (!rc && zz && zz->top) rc = nvlist_add_uint64(nv, "com.delphix:vdev_zap_top", zz->top);
	if (!rc && vd->nchild) {
		nvlist_t **kids = calloc(vd->nchild, sizeof(*kids));
		if (!kids)
			rc = -ZFUSE_E_NOMEM;
		for (uint64_t i = 0; !rc && i < vd->nchild; i++)
			rc = vdev_nv(vd->child[i], z, nz, &kids[i]);
		if (!rc)
			rc = nvlist_add_nvlist_array(nv, "children", (const nvlist_t *const *)kids,
						     (uint32_t)vd->nchild);
		for (uint64_t i = 0; kids && i < vd->nchild; i++)
			nvlist_free(kids[i]);
		free(kids);
	}
	if (rc) {
		nvlist_free(nv);
		return rc;
	}
	*out = nv;
	return 0;
}

/* vdev_construct_zaps: pre-order, a leaf's ZAP before its top ZAP. */
static int construct_zaps(spa_t *spa, uint64_t avz, const vdev_t *vd, struct vdev_zaps *z,
			  size_t *nz, dmu_tx_t *tx)
{
	int rc = 0;
	if (vd->kind != VDEV_KIND_ROOT) {
		struct vdev_zaps *e = &z[(*nz)++];
		e->vd = vd;
		bool top = vd->parent && vd->parent->kind == VDEV_KIND_ROOT;
		uint64_t *slots[2] = { vd->kind == VDEV_KIND_LEAF ? &e->leaf : NULL,
				       top ? &e->top : NULL };
		for (int s = 0; s < 2 && rc == 0; s++) {
			if (!slots[s])
				continue;
			rc = zap_create(spa->mos, DMU_OTN_ZAP_METADATA, DMU_OT_NONE, 0, tx, slots[s]);
			char key[24];
			snprintf(key, sizeof(key), "%llx", (unsigned long long)*slots[s]);
			if (rc == 0)
				rc = zap_add_uint64(spa->mos, avz, key, *slots[s], tx);
		}
	}
	for (uint64_t i = 0; rc == 0 && i < vd->nchild; i++)
		rc = construct_zaps(spa, avz, vd->child[i], z, nz, tx);
	return rc;
}

static size_t count_vdevs(const vdev_t *vd)
{
	size_t n = 1;
	for (uint64_t i = 0; i < vd->nchild; i++)
		n += count_vdevs(vd->child[i]);
	return n;
}

static int build_mos_config(spa_t *spa, struct vdev_zaps *z, size_t nz)
{
	nvlist_t *c, *tree = NULL;
	int rc = nvlist_alloc(&c);
	if (rc)
		return rc;
	/* only the keys spa_config_generate takes from the trusted copy */
	rc = nvlist_add_uint64(c, "errata", 0);
	if (!rc) rc = vdev_nv(spa->root, z, nz, &tree);
	if (!rc) rc = nvlist_add_nvlist(c, "vdev_tree", tree);
	nvlist_free(tree);
	if (rc) {
		nvlist_free(c);
		return rc;
	}
	nvlist_free(spa->mos_config);
	spa->mos_config = c;
	return 0;
}

/* ---- pool history (spa_history.c) ------------------------------------------ */

#define DMU_OT_SPA_HISTORY 29
#define DMU_OT_SPA_HISTORY_OFFSETS 30
#define SPA_HISTORY_PHYS_SIZE 40

/*
 * The records `zpool history` shows for a creation: the internal "create"
 * event, a "set" event per pool property and enabled feature, then the
 * command. Each record is a little-endian uint64 length and a packed
 * nvlist; OpenZFS packs natively, zfuse packs XDR (every reader unpacks
 * either: the encoding is in the stream header).
 */
struct history {
	uint8_t *buf;
	size_t len, cap;
	int rc;
	uint64_t time;
	char host[256];
};

static void hist_append(struct history *h, nvlist_t *nv)
{
	size_t size = 0;
	if (h->rc == 0)
		h->rc = nvlist_size_xdr(nv, &size);
	if (h->rc == 0 && h->len + 8 + size > h->cap) {
		size_t nc = (h->len + 8 + size) * 2;
		uint8_t *nb = realloc(h->buf, nc);
		if (!nb)
			h->rc = -ZFUSE_E_NOMEM;
		else {
			h->buf = nb;
			h->cap = nc;
		}
	}
	size_t used = 0;
	if (h->rc == 0)
		h->rc = nvlist_pack_xdr(nv, h->buf + h->len + 8, size, &used);
	if (h->rc == 0) {
		put_le64(h->buf + h->len, used);
		h->len += 8 + used;
	}
	nvlist_free(nv);
}

static void hist_internal(struct history *h, const char *op, const char *str)
{
	nvlist_t *nv;
	if (h->rc || (h->rc = nvlist_alloc(&nv)) != 0)
		return;
	int rc = nvlist_add_string(nv, "history internal str", str);
	if (!rc) rc = nvlist_add_string(nv, "internal_name", op);
	if (!rc) rc = nvlist_add_uint64(nv, "history txg", TXG_INITIAL);
	if (!rc) rc = nvlist_add_uint64(nv, "history time", h->time);
	if (!rc) rc = nvlist_add_string(nv, "history hostname", h->host);
	h->rc = rc;
	hist_append(h, nv);
}

static void hist_command(struct history *h, const char *cmd)
{
	nvlist_t *nv;
	if (h->rc || (h->rc = nvlist_alloc(&nv)) != 0)
		return;
	int rc = nvlist_add_string(nv, "history command", cmd);
	if (!rc) rc = nvlist_add_string(nv, "history zone", "linux");
	if (!rc) rc = nvlist_add_uint64(nv, "history who", (uint64_t)getuid());
	if (!rc) rc = nvlist_add_uint64(nv, "history time", h->time);
	if (!rc) rc = nvlist_add_string(nv, "history hostname", h->host);
	h->rc = rc;
	hist_append(h, nv);
}

/* spa_history_create_obj: the ring object, 0.1% of the pool, 128K..1G. */
static int history_create(spa_t *spa, dmu_tx_t *tx, uint64_t *obj)
{
	int rc = dmu_object_alloc(spa->mos, DMU_OT_SPA_HISTORY, SPA_OLD_MAXBLOCKSIZE,
				  DMU_OT_SPA_HISTORY_OFFSETS, SPA_HISTORY_PHYS_SIZE, 0, tx, obj);
	return rc ? rc : zap_add_uint64(spa->mos, 1, "history", *obj, tx);
}

static int history_write(struct create_ctx *c, const struct create_props *pr, uint64_t obj,
			 dmu_tx_t *tx)
{
	spa_t *spa = c->spa;
	struct history h = { .time = (uint64_t)time(NULL) };
	struct utsname u;
	if (gethostname(h.host, sizeof(h.host)) != 0)
		snprintf(h.host, sizeof(h.host), "(none)");
	h.host[sizeof(h.host) - 1] = '\0';
	if (uname(&u) != 0)
		memset(&u, 0, sizeof(u));
	char str[1024];
	snprintf(str, sizeof(str), "pool version %llu; software version zfuse-%s; uts %s %s %s %s",
		 (unsigned long long)spa->version, ZFUSE_VERSION_STRING, u.nodename, u.release,
		 u.version, u.machine);
	hist_internal(&h, "create", str);
	if (pr->ashift_set) {
		snprintf(str, sizeof(str), "ashift=%u", pr->ashift);
		hist_internal(&h, "set", str);
	}
	for (int i = 0; zfeature_zfuse_default[i]; i++)
		if (pr->feature_on[i]) {
			snprintf(str, sizeof(str), "feature@%s=enabled", zfeature_zfuse_default[i]);
			hist_internal(&h, "set", str);
		}
	if (c->opts->history_command)
		hist_command(&h, c->opts->history_command);
	uint64_t max_off = metaslab_class_dspace(spa) / 1000;
	if (max_off > (1ULL << 30))
		max_off = 1ULL << 30;
	if (max_off < SPA_OLD_MAXBLOCKSIZE)
		max_off = SPA_OLD_MAXBLOCKSIZE;
	int rc = h.rc;
	if (rc == 0 && h.len > max_off)
		rc = -ZFUSE_E_RANGE;
	if (rc == 0)
		rc = dmu_write(spa->mos, obj, 0, h.len, h.buf, tx);
	if (rc == 0) {
		/* The creation's records are kept forever: bof = eof = their end. */
		uint8_t b[SPA_HISTORY_PHYS_SIZE] = { 0 };
		put_le64(b + 0, c->opts->history_command ? h.len : 0);
		put_le64(b + 8, max_off);
		put_le64(b + 16, c->opts->history_command ? h.len : 0);
		put_le64(b + 24, h.len);
		rc = dmu_bonus_write(spa->mos, obj, b, sizeof(b), tx);
	}
	free(h.buf);
	return rc;
}

/* ---- the first txg ---------------------------------------------------------- */

static int set_fs_props(spa_t *spa, uint64_t root_dir, const struct create_props *pr,
			dmu_tx_t *tx)
{
	dsl_dir_phys_t dd;
	int rc = dsl_dir_read(spa, root_dir, &dd);
	/* zfs_prop_set_special: compression=zstd activates zstd_compress on
	 * the dataset at once, before any zstd block exists. */
	for (size_t i = 0; rc == 0 && i < pr->nfs; i++)
		if (strcmp(pr->fs[i].name, "compression") == 0 &&
		    zfs_prop_feature(ZFS_PROP_COMPRESSION, pr->fs[i].num))
			rc = dsl_dataset_activate_feature(spa, dd.head_dataset_obj, "zstd_compress", tx);
	for (size_t i = 0; rc == 0 && i < pr->nfs; i++) {
		const struct fs_prop *p = &pr->fs[i];
		if (p->str)
			rc = zap_update(spa->mos, dd.props_zapobj, p->name, 1, strlen(p->str) + 1,
					p->str, tx);
		else
			rc = zap_update_uint64(spa->mos, dd.props_zapobj, p->name, p->num, tx);
	}
	return rc;
}

static int root_crypt(struct create_ctx *c, const struct create_props *pr, uint64_t root_dir,
		      uint64_t rootds, objset_t *os, dmu_tx_t *tx)
{
	struct zfuse_prop_setting props[4];
	size_t n = pr->ncrypt;
	memcpy(props, pr->crypt, n * sizeof(props[0]));
	struct dsl_crypto_params dcp;
	int rc = dsl_crypto_params_create(c->spa, c->opts->name, 0, props, &n, c->opts->key_material,
					  c->opts->key_len, &dcp);
	if (rc == 0 && dcp.crypt) {
		zio_crypt_key_t *key;
		rc = dsl_crypto_create_sync(c->spa, root_dir, rootds, &dcp, tx, &key);
		if (rc == 0)
			os->key = key;
	}
	dsl_crypto_params_wipe(&dcp);
	return rc;
}

static int populate(struct create_ctx *c, const struct create_props *pr, dmu_tx_t *tx)
{
	spa_t *spa = c->spa;
	int rc = objset_create_mem(spa, DMU_OST_META, 0, tx, &spa->mos);
	if (rc == 0)
		rc = zap_create_claim(spa->mos, 1, DMU_OT_OBJECT_DIRECTORY, DMU_OT_NONE, 0, tx);
	/* dsl_pool_create */
	uint64_t root_dir = 0, origin = 0, rootds = 0;
	if (rc == 0)
		rc = dsl_pool_create_skeleton(spa, tx, &root_dir, &origin);
	spa->root_dir_obj = root_dir;
	if (rc == 0)
		rc = spa_feature_create_zap_objects(spa, tx);
	if (rc == 0)
		rc = dsl_dataset_create_sync_dd(spa, root_dir, origin, 0, tx, &rootds);
	objset_t *os = NULL;
	if (rc == 0)
		rc = objset_create_mem(spa, DMU_OST_ZFS, rootds, tx, &os);
	if (rc == 0)
		rc = zpl_create_fs(os, &pr->zpl, tx);
	/* spa_create, after dsl_pool_create */
	uint64_t history = 0;
	if (rc == 0)
		rc = history_create(spa, tx, &history);
	if (rc == 0)
		rc = dmu_object_alloc(spa->mos, DMU_OT_PACKED_NVLIST, SPA_CONFIG_BLOCKSIZE,
				      DMU_OT_PACKED_NVLIST_SIZE, 8, 0, tx, &spa->config_obj);
	if (rc == 0)
		rc = zap_add_uint64(spa->mos, 1, "config", spa->config_obj, tx);
	if (rc == 0)
		rc = zap_add_uint64(spa->mos, 1, "creation_version", spa->version, tx);
	if (rc == 0)
		rc = zap_add_uint64(spa->mos, 1, "deflate", 1, tx);
	uint64_t sync_bplist = 0;
	if (rc == 0)
		rc = bpobj_alloc(spa, 1ULL << 14, tx, &sync_bplist);
	if (rc == 0)
		rc = dmu_object_set_compress(spa->mos, sync_bplist, ZIO_COMPRESS_OFF, tx);
	if (rc == 0)
		rc = zap_add_uint64(spa->mos, 1, "sync_bplist", sync_bplist, tx);
	if (rc == 0) {
		while (getrandom(spa->salt.zcs_bytes, sizeof(spa->salt.zcs_bytes), 0) !=
		       (ssize_t)sizeof(spa->salt.zcs_bytes))
			;
		spa->have_salt = true;
		rc = zap_add(spa->mos, 1, "org.illumos:checksum_salt", 1,
			     sizeof(spa->salt.zcs_bytes), spa->salt.zcs_bytes, tx);
	}
	/* spa_sync_props: the ashift property, then every feature@ */
	if (rc == 0 && pr->ashift_set) {
		uint64_t props;
		rc = zap_create(spa->mos, DMU_OT_POOL_PROPS, DMU_OT_NONE, 0, tx, &props);
		if (rc == 0)
			rc = zap_add_uint64(spa->mos, 1, "pool_props", props, tx);
		if (rc == 0)
			rc = zap_update_uint64(spa->mos, props, "ashift", pr->ashift, tx);
	}
	for (int i = 0; rc == 0 && zfeature_zfuse_default[i]; i++)
		if (pr->feature_on[i])
			rc = spa_feature_enable(spa, zfeature_zfuse_default[i], tx);
	/* An encrypted root dataset: its crypto key, and the key its objset
	 * is written with (the features are enabled by now). */
	if (rc == 0 && pr->ncrypt)
		rc = root_crypt(c, pr, root_dir, rootds, os, tx);
	if (os)
		spa_objset_rele(spa, os);
	/* zfs_set_prop_nvlist of the root filesystem's -O properties */
	if (rc == 0)
		rc = set_fs_props(spa, root_dir, pr, tx);
	/* spa_sync_config_object with AVZ_ACTION_INITIALIZE */
	size_t nz = count_vdevs(spa->root);
	struct vdev_zaps *z = calloc(nz, sizeof(*z));
	size_t used = 0;
	uint64_t avz = 0;
	if (rc == 0 && !z)
		rc = -ZFUSE_E_NOMEM;
	if (rc == 0)
		rc = zap_create(spa->mos, DMU_OTN_ZAP_METADATA, DMU_OT_NONE, 0, tx, &avz);
	if (rc == 0)
		rc = zap_add_uint64(spa->mos, 1, "com.delphix:vdev_zap_map", avz, tx);
	if (rc == 0)
		rc = construct_zaps(spa, avz, spa->root, z, &used, tx);
	for (uint64_t t = 0; rc == 0 && t < spa->root->nchild; t++)
		rc = metaslab_init_vdev(spa, spa->root->child[t], true);
	if (rc == 0)
		rc = history_write(c, pr, history, tx);
	if (rc == 0)
		rc = build_mos_config(spa, z, used);
	free(z);
	if (rc == 0)
		rc = spa_config_write_mos(spa, tx);
	return rc;
}

static void free_props(struct create_props *pr)
{
	free(pr->fs);
}

static spa_t *spa_new(const struct zfuse_create_opts *o)
{
	spa_t *spa = calloc(1, sizeof(*spa));
	if (!spa)
		return NULL;
	spa->name = strdup(o->name);
	spa->log = o->log;
	spa->log_arg = o->log_arg;
	spa->log_level = o->log ? o->log_level : ZFUSE_LOG_WARN;
	spa->arc = arc_create(64ULL << 20);
	spa->zfetch = zfetch_create(2, 8ULL << 20);
	if (!spa->name || !spa->arc || !spa->zfetch) {
		zfuse_pool_close((zfuse_pool_t *)spa);
		return NULL;
	}
	spa->guid = random_guid();
	spa->version = SPA_VERSION_FEATURES;
	spa->deflate = true;
	/* Written once and closed: the labels say "exported". */
	spa->pool_state = POOL_STATE_EXPORTED;
	spa_locks_init(spa);
	tunables_load(&spa->tunables);
	return spa;
}

int zfuse_pool_create(const struct zfuse_create_opts *opts)
{
	if (!opts || !opts->name || (opts->nvdev_args && !opts->vdev_args) ||
	    (opts->npool_props && !opts->pool_props) || (opts->nfs_props && !opts->fs_props))
		return -ZFUSE_E_INVAL;
	struct create_ctx c = { .opts = opts };
	if (!pool_name_ok(opts->name)) {
		cmsg(&c, ZFUSE_LOG_ERROR, "invalid pool name '%s'", opts->name);
		return -ZFUSE_E_INVAL;
	}
	struct create_props pr = { 0 };
	struct vgroup *groups = NULL;
	size_t ng = 0;
	int rc = parse_pool_props(&c, &pr);
	if (rc == 0)
		rc = parse_fs_props(&c, &pr);
	if (rc == 0)
		rc = parse_vdevs(&c, &groups, &ng);
	if (rc == 0 && !(c.spa = spa_new(opts)))
		rc = -ZFUSE_E_NOMEM;
	if (rc == 0)
		rc = build_tree(&c, groups, ng, pr.ashift);
	spa_t *spa = c.spa;
	if (rc == 0) {
		spa->ub.ub_magic = 0x00bab10c;
		spa->ub.ub_version = spa->version;
		spa->ub.ub_txg = TXG_INITIAL - 1;
		spa->ub.ub_guid_sum = vdev_guid_sum(spa->root);
		spa->open_txg = TXG_INITIAL;
		spa->writable = true;
		/* labels and the MOS config are written at the first sync */
		spa->config_dirty = true;
		dmu_tx_t tx;
		rc = dmu_tx_begin(spa, &tx);
		if (rc == 0) {
			rc = populate(&c, &pr, &tx);
			dmu_tx_commit(&tx);
		}
		if (rc == 0)
			rc = txg_sync_now(spa);
		if (rc)
			cmsg(&c, ZFUSE_LOG_ERROR, "cannot create pool '%s': %s", opts->name,
			     zfuse_strerror(rc));
	}
	if (spa)
		zfuse_pool_close((zfuse_pool_t *)spa);
	if (rc)
		for (size_t i = 0; i < c.ncreated; i++)
			unlink(c.created[i]);
	for (size_t i = 0; i < c.ncreated; i++)
		free(c.created[i]);
	free(c.created);
	free(groups);
	free_props(&pr);
	return rc;
}
