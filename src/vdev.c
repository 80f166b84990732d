/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * vdev.c — opening device images, assembling the vdev tree from label
 * configs, and reading DVAs through mirrors and RAID-Z with per-layer
 * retries. Leaves are plain files (or block devices) read with pread; a
 * whole-disk image with a GPT is searched for the partition that carries
 * ZFS labels.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>
#include "byteorder.h"
#include "vdev.h"
#include "vdev_label.h"
#include "vdev_raidz.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define GPT_SIGNATURE "EFI PART"

__thread uint64_t vdev_repairs;
#define GPT_MAX_ENTRIES 1024

int leaf_dev_pread(const struct leaf_dev *dev, void *buf, uint64_t size, uint64_t offset)
{
	if (offset > dev->psize || size > dev->psize - offset)
		return SET_ERROR(-ZFUSE_E_IO);
	uint8_t *p = buf;
	uint64_t done = 0;
	while (done < size) {
		ssize_t r = pread(dev->fd, p + done, size - done, (off_t)(dev->start + offset + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* A sparse image shorter than its label claims reads as zeros
			 * past EOF; real short reads are I/O errors. */
			if (r == 0) {
				memset(p + done, 0, size - done);
				return 0;
			}
			return SET_ERROR(-ZFUSE_E_IO);
		}
		done += (uint64_t)r;
	}
	return 0;
}

void leaf_dev_close(struct leaf_dev *dev)
{
	if (!dev)
		return;
	if (dev->fd >= 0)
		close(dev->fd);
	nvlist_free(dev->config);
	free(dev->path);
	free(dev);
}

static uint64_t fd_size(int fd)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return 0;
	if (S_ISBLK(st.st_mode)) {
		uint64_t sz = 0;
		if (ioctl(fd, BLKGETSIZE64, &sz) == 0)
			return sz;
		return 0;
	}
	return (uint64_t)st.st_size;
}

/* Try one candidate region [start, start+size) of an open file; with
 * raw, keep it even when no label is valid (for inspectors). */
static struct leaf_dev *probe_region(int fd, const char *path, uint64_t start, uint64_t size,
				     bool raw)
{
	struct leaf_dev *dev = calloc(1, sizeof(*dev));
	if (!dev)
		return NULL;
	dev->fd = fd;
	dev->start = start;
	dev->psize = size & ~(VDEV_LABEL_SIZE - 1);
	if (dev->psize < 4 * VDEV_LABEL_SIZE + VDEV_LABEL_START_SIZE) {
		free(dev);
		return NULL;
	}
	if (vdev_label_read_best(dev) != 0 && !raw) {
		dev->fd = -1;
		leaf_dev_close(dev);
		return NULL;
	}
	dev->path = strdup(path);
	if (!dev->pool_name)
		dev->pool_name = "";
	return dev;
}

static int append_dev(struct leaf_dev ***devs, size_t *ndevs, struct leaf_dev *dev)
{
	struct leaf_dev **n = realloc(*devs, (*ndevs + 1) * sizeof(*n));
	if (!n)
		return -ZFUSE_E_NOMEM;
	n[(*ndevs)++] = dev;
	*devs = n;
	return 0;
}

/* Look for a GPT at sector size ss; probe each used partition. */
static int probe_gpt(int fd, const char *path, uint64_t fsize, unsigned ss, bool raw,
		     struct leaf_dev ***devs, size_t *ndevs, int *found)
{
	uint8_t hdr[512];
	if (pread(fd, hdr, sizeof(hdr), ss) != (ssize_t)sizeof(hdr))
		return 0;
	if (memcmp(hdr, GPT_SIGNATURE, 8) != 0)
		return 0;
	uint64_t entries_lba = le64(hdr + 72);
	uint32_t nentries = le32(hdr + 80);
	uint32_t esize = le32(hdr + 84);
	if (esize < 128 || esize > 4096 || nentries > GPT_MAX_ENTRIES ||
	    entries_lba > fsize / ss)
		return 0;
	uint8_t *tab = malloc((size_t)nentries * esize);
	if (!tab)
		return -ZFUSE_E_NOMEM;
	ssize_t want = (ssize_t)nentries * esize;
	if (pread(fd, tab, (size_t)want, (off_t)(entries_lba * ss)) != want) {
		free(tab);
		return 0;
	}
	int rc = 0;
	for (uint32_t i = 0; i < nentries; i++) {
		const uint8_t *e = tab + (size_t)i * esize;
		static const uint8_t zero[16];
		if (memcmp(e, zero, 16) == 0)
			continue;
		uint64_t first = le64(e + 32), last = le64(e + 40);
		if (last < first || last >= fsize / ss)
			continue;
		struct leaf_dev *dev = probe_region(fd, path, first * ss, (last - first + 1) * ss, raw);
		if (!dev)
			continue;
		if ((rc = append_dev(devs, ndevs, dev)) != 0) {
			dev->fd = -1;
			leaf_dev_close(dev);
			break;
		}
		(*found)++;
	}
	free(tab);
	return rc;
}

static int probe_file(const char *path, bool raw, struct leaf_dev ***devs, size_t *ndevs)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ZFUSE_E_NOENT : SET_ERROR(-ZFUSE_E_IO);
	uint64_t size = fd_size(fd);
	int found = 0, rc = 0;
	/* Labels at offset 0 make a plain vdev file; otherwise look for a
	 * GPT whose partitions carry them. Raw probing (inspectors) keeps
	 * label-less regions, so it must decide on the GPT first. */
	uint8_t sig[8];
	bool has_gpt = pread(fd, sig, 8, 512) == 8 && memcmp(sig, GPT_SIGNATURE, 8) == 0;
	struct leaf_dev *dev = probe_region(fd, path, 0, size, raw && !has_gpt);
	if (dev) {
		rc = append_dev(devs, ndevs, dev);
		if (rc == 0)
			found++;
		else {
			dev->fd = -1;
			leaf_dev_close(dev);
		}
	} else {
		rc = probe_gpt(fd, path, size, 512, raw, devs, ndevs, &found);
		if (rc == 0 && found == 0)
			rc = probe_gpt(fd, path, size, 4096, raw, devs, ndevs, &found);
	}
	if (found == 0) {
		close(fd);
		return rc;
	}
	/* Several partitions may share the fd; give each its own so that
	 * closing is independent. */
	int shared = 0;
	for (size_t i = 0; i < *ndevs; i++) {
		if ((*devs)[i]->fd == fd) {
			if (shared++ > 0) {
				int nfd = dup(fd);
				if (nfd < 0)
					return SET_ERROR(-ZFUSE_E_IO);
				(*devs)[i]->fd = nfd;
			}
		}
	}
	return rc;
}

static int probe_path(const char *path, bool raw, struct leaf_dev ***devs, size_t *ndevs,
		      void (*log)(void *, int, const char *), void *log_arg);

int vdev_probe_path_raw(const char *path, struct leaf_dev ***devs, size_t *ndevs)
{
	return probe_path(path, true, devs, ndevs, NULL, NULL);
}

int vdev_probe_path(const char *path, struct leaf_dev ***devs, size_t *ndevs,
		    void (*log)(void *, int, const char *), void *log_arg)
{
	return probe_path(path, false, devs, ndevs, log, log_arg);
}

static int probe_path(const char *path, bool raw, struct leaf_dev ***devs, size_t *ndevs,
		      void (*log)(void *, int, const char *), void *log_arg)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return -ZFUSE_E_NOENT;
	if (!S_ISDIR(st.st_mode))
		return probe_file(path, raw, devs, ndevs);

	DIR *d = opendir(path);
	if (!d)
		return SET_ERROR(-ZFUSE_E_IO);
	struct dirent *de;
	char **names = NULL;
	size_t nnames = 0;
	int rc = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char full[PATH_MAX];
		if (snprintf(full, sizeof(full), "%s/%s", path, de->d_name) >= (int)sizeof(full))
			continue;
		struct stat fst;
		if (stat(full, &fst) != 0 || !(S_ISREG(fst.st_mode) || S_ISBLK(fst.st_mode)))
			continue;
		char **nn = realloc(names, (nnames + 1) * sizeof(*nn));
		if (!nn || !(nn[nnames] = strdup(full))) {
			free(nn ? nn : names);
			names = NULL;
			nnames = 0;
			rc = -ZFUSE_E_NOMEM;
			break;
		}
		names = nn;
		nnames++;
	}
	closedir(d);
	/* Probe in name order so that device order is reproducible. */
	for (size_t i = 0; i < nnames; i++)
		for (size_t j = i + 1; j < nnames; j++)
			if (strcmp(names[i], names[j]) > 0) {
				char *t = names[i];
				names[i] = names[j];
				names[j] = t;
			}
	for (size_t i = 0; i < nnames; i++) {
		if (rc == 0) {
			int r = probe_file(names[i], raw, devs, ndevs);
			if (r != 0 && r != -ZFUSE_E_NOENT && log) {
				char msg[PATH_MAX + 64];
				snprintf(msg, sizeof(msg), "cannot probe %s: %s", names[i], zfuse_strerror(r));
				log(log_arg, 1, msg);
			}
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

static enum vdev_kind kind_of(const char *type)
{
	if (!strcmp(type, "root"))
		return VDEV_KIND_ROOT;
	if (!strcmp(type, "mirror") || !strcmp(type, "replacing") || !strcmp(type, "spare"))
		return VDEV_KIND_MIRROR;
	if (!strcmp(type, "raidz"))
		return VDEV_KIND_RAIDZ;
	if (!strcmp(type, "disk") || !strcmp(type, "file"))
		return VDEV_KIND_LEAF;
	if (!strcmp(type, "missing"))
		return VDEV_KIND_MISSING;
	if (!strcmp(type, "hole"))
		return VDEV_KIND_HOLE;
	return VDEV_KIND_UNSUPPORTED;
}

/* Vdev trees are at most root -> top -> (replacing/spare) -> leaf deep. */
#define VDEV_MAX_DEPTH 5

static int vdev_from_nvlist_depth(const nvlist_t *nv, vdev_t *parent, vdev_t **out, int depth)
{
	const char *type;
	if (depth > VDEV_MAX_DEPTH)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	if (nvlist_lookup_string(nv, "type", &type) != 0)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	vdev_t *vd = calloc(1, sizeof(*vd));
	if (!vd)
		return -ZFUSE_E_NOMEM;
	snprintf(vd->type, sizeof(vd->type), "%s", type);
	vd->kind = kind_of(type);
	vd->parent = parent;
	nvlist_lookup_uint64(nv, "id", &vd->id);
	nvlist_lookup_uint64(nv, "guid", &vd->guid);
	nvlist_lookup_uint64(nv, "ashift", &vd->ashift);
	nvlist_lookup_uint64(nv, "nparity", &vd->nparity);
	nvlist_lookup_uint64(nv, "asize", &vd->asize);
	nvlist_lookup_uint64(nv, "metaslab_array", &vd->metaslab_array);
	nvlist_lookup_uint64(nv, "metaslab_shift", &vd->metaslab_shift);
	uint64_t is_log = 0;
	nvlist_lookup_uint64(nv, "is_log", &is_log);
	vd->is_log = is_log != 0;
	if (vd->ashift && (vd->ashift < 9 || vd->ashift > 16)) {
		vdev_free(vd);
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	}
	if (vd->kind == VDEV_KIND_RAIDZ && (vd->nparity < 1 || vd->nparity > 3)) {
		vdev_free(vd);
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	}
	const nvlist_t *const *children;
	uint32_t nchildren = 0;
	if (nvlist_lookup_nvlist_array(nv, "children", &children, &nchildren) == 0 && nchildren) {
		if (nchildren > 255) {
			vdev_free(vd);
			return SET_ERROR(-ZFUSE_E_CORRUPT);
		}
		vd->child = calloc(nchildren, sizeof(*vd->child));
		if (!vd->child) {
			vdev_free(vd);
			return -ZFUSE_E_NOMEM;
		}
		vd->nchild = nchildren;
		for (uint32_t i = 0; i < nchildren; i++) {
			int rc = vdev_from_nvlist_depth(children[i], vd, &vd->child[i], depth + 1);
			if (rc) {
				vdev_free(vd);
				return rc;
			}
			/* Children inherit the top-level's ashift for padding. */
			if (!vd->child[i]->ashift)
				vd->child[i]->ashift = vd->ashift;
		}
	}
	if ((vd->kind == VDEV_KIND_MIRROR || vd->kind == VDEV_KIND_RAIDZ) && vd->nchild == 0) {
		vdev_free(vd);
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	}
	if (vd->kind == VDEV_KIND_RAIDZ && vd->nchild <= vd->nparity) {
		vdev_free(vd);
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	}
	*out = vd;
	return 0;
}

int vdev_from_nvlist(const nvlist_t *nv, vdev_t *parent, vdev_t **out)
{
	return vdev_from_nvlist_depth(nv, parent, out, 0);
}

void vdev_free(vdev_t *vd)
{
	if (!vd)
		return;
	for (uint64_t i = 0; i < vd->nchild; i++)
		vdev_free(vd->child[i]);
	free(vd->child);
	free(vd);
}

uint64_t vdev_attach_devices(vdev_t *vd, struct leaf_dev **devs, size_t ndevs)
{
	if (!vd)
		return 0;
	if (vd->kind == VDEV_KIND_LEAF) {
		for (size_t i = 0; i < ndevs; i++) {
			if (!devs[i]->claimed && devs[i]->guid == vd->guid) {
				vd->dev = devs[i];
				devs[i]->claimed = true;
				break;
			}
		}
		return vd->dev ? 0 : 1;
	}
	uint64_t missing = vd->kind == VDEV_KIND_MISSING ? 1 : 0;
	for (uint64_t i = 0; i < vd->nchild; i++)
		missing += vdev_attach_devices(vd->child[i], devs, ndevs);
	return missing;
}

uint64_t vdev_guid_sum(const vdev_t *vd)
{
	if (!vd)
		return 0;
	uint64_t sum = vd->kind == VDEV_KIND_HOLE ? 0 : vd->guid;
	for (uint64_t i = 0; i < vd->nchild; i++)
		sum += vdev_guid_sum(vd->child[i]);
	return sum;
}

bool vdev_readable(const vdev_t *vd)
{
	if (!vd)
		return false;
	switch (vd->kind) {
	case VDEV_KIND_LEAF:
		return vd->dev != NULL;
	case VDEV_KIND_MIRROR:
		for (uint64_t i = 0; i < vd->nchild; i++)
			if (vdev_readable(vd->child[i]))
				return true;
		return false;
	case VDEV_KIND_RAIDZ: {
		uint64_t bad = 0;
		for (uint64_t i = 0; i < vd->nchild; i++)
			bad += !vdev_readable(vd->child[i]);
		return bad <= vd->nparity;
	}
	case VDEV_KIND_ROOT:
		for (uint64_t i = 0; i < vd->nchild; i++)
			if (vd->child[i]->kind != VDEV_KIND_HOLE && !vdev_readable(vd->child[i]))
				return false;
		return true;
	case VDEV_KIND_HOLE:
		return true;
	default:
		return false;
	}
}

/* Read from a leaf or mirror-like subtree at a DVA-relative offset. */
static int vdev_read_child(vdev_t *vd, uint64_t offset, void *buf, uint64_t size,
			   vdev_verify_fn verify, void *verify_arg, uint64_t psize);

struct raidz_read_ctx {
	vdev_t *vd;
};

static int raidz_child_read(void *arg, uint64_t child, uint64_t offset, void *buf, uint64_t size)
{
	struct raidz_read_ctx *ctx = arg;
	if (child >= ctx->vd->nchild)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	return vdev_read_child(ctx->vd->child[child], offset, buf, size, NULL, NULL, size);
}

static int vdev_read_child(vdev_t *vd, uint64_t offset, void *buf, uint64_t size,
			   vdev_verify_fn verify, void *verify_arg, uint64_t psize)
{
	switch (vd->kind) {
	case VDEV_KIND_LEAF: {
		if (!vd->dev)
			return -ZFUSE_E_MISSING_DEV;
		if (offset > UINT64_MAX - VDEV_LABEL_START_SIZE)
			return SET_ERROR(-ZFUSE_E_CORRUPT);
		uint64_t devoff = offset + VDEV_LABEL_START_SIZE;
		if (devoff + size > vd->dev->psize - VDEV_LABEL_END_SIZE)
			return SET_ERROR(-ZFUSE_E_CORRUPT);
		int rc = leaf_dev_pread(vd->dev, buf, size, devoff);
		if (rc) {
			__atomic_add_fetch(&vd->dev->read_errors, 1, __ATOMIC_RELAXED);
			return rc;
		}
		if (verify && !verify(verify_arg, buf, psize)) {
			__atomic_add_fetch(&vd->dev->checksum_errors, 1, __ATOMIC_RELAXED);
			return SET_ERROR(-ZFUSE_E_CHECKSUM);
		}
		return 0;
	}
	case VDEV_KIND_MIRROR: {
		int rc = -ZFUSE_E_MISSING_DEV;
		bool bad_side = false;
		for (uint64_t i = 0; i < vd->nchild; i++) {
			int r = vdev_read_child(vd->child[i], offset, buf, size, verify, verify_arg, psize);
			if (r == 0) {
				vdev_repairs += bad_side;
				return 0;
			}
			bad_side |= r == -ZFUSE_E_CHECKSUM;
			/* Report the most telling failure: a checksum error beats a
			 * missing side. */
			if (rc == -ZFUSE_E_MISSING_DEV || r == -ZFUSE_E_CHECKSUM)
				rc = r;
		}
		return rc;
	}
	case VDEV_KIND_RAIDZ: {
		struct raidz_geom g = { .children = vd->nchild, .nparity = vd->nparity, .ashift = vd->ashift };
		struct raidz_read_ctx ctx = { .vd = vd };
		uint64_t bad = 0;
		int rc = vdev_raidz_read(&g, offset, psize, buf, raidz_child_read, &ctx,
					 verify, verify_arg, &bad);
		for (uint64_t c = 0; rc == 0 && c < vd->nchild && c < 64; c++) {
			if (!(bad & (1ULL << c)))
				continue;
			vdev_repairs++;
			vdev_t *leaf = vd->child[c];
			if (leaf->kind == VDEV_KIND_LEAF && leaf->dev)
				__atomic_add_fetch(&leaf->dev->checksum_errors, 1, __ATOMIC_RELAXED);
		}
		return rc;
	}
	case VDEV_KIND_MISSING:
		return -ZFUSE_E_MISSING_DEV;
	default:
		return -ZFUSE_E_UNSUPPORTED;
	}
}

int vdev_read(vdev_t *vd, uint64_t offset, void *buf, uint64_t size,
	      vdev_verify_fn verify, void *verify_arg)
{
	if (vd->kind == VDEV_KIND_RAIDZ)
		return vdev_read_child(vd, offset, buf, size, verify, verify_arg, size);
	uint64_t sector = 1ULL << (vd->ashift ? vd->ashift : 9);
	uint64_t padded = (size + sector - 1) & ~(sector - 1);
	if (padded == size)
		return vdev_read_child(vd, offset, buf, size, verify, verify_arg, size);
	uint8_t *tmp = malloc(padded);
	if (!tmp)
		return -ZFUSE_E_NOMEM;
	int rc = vdev_read_child(vd, offset, tmp, padded, verify, verify_arg, size);
	if (rc == 0)
		memcpy(buf, tmp, size);
	free(tmp);
	return rc;
}

uint64_t vdev_psize_to_asize(const vdev_t *vd, uint64_t psize)
{
	if (vd->kind == VDEV_KIND_RAIDZ) {
		struct raidz_geom g = { .children = vd->nchild, .nparity = vd->nparity, .ashift = vd->ashift };
		return vdev_raidz_asize(&g, psize);
	}
	uint64_t sector = 1ULL << (vd->ashift ? vd->ashift : 9);
	return (psize + sector - 1) & ~(sector - 1);
}

uint64_t vdev_deflate_ratio(const vdev_t *vd)
{
	uint64_t a = vdev_psize_to_asize(vd, 1ULL << 17) >> 9;
	return a ? (1ULL << 17) / a : 512;
}
