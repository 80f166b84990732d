/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * fuzz_image.c — the image-level fuzz targets: a real fixture pool is
 * imported through the public API and walked whole (every dataset and
 * snapshot, every directory entry, attributes, the first bytes of every
 * file, symlinks, xattrs), with some of its bytes replaced by the fuzzer's.
 * The library is built with ZFUSE_FUZZING, so checksums do not stop the
 * damage before the parsers see it.
 *
 * One source, several targets (FUZZ_MODE, set by meson):
 *  - image, label, uberblock: raw patches of the device (a memfd holding the
 *    fixture), anywhere it holds data / in the labels' nvlist areas / in the
 *    uberblock rings; undone after each run.
 *  - imagerw: as image, but imported read-write: after the walk a file is
 *    created, written, given an xattr, a directory made and an entry
 *    removed in every filesystem, and the pool synced, so that metaslabs
 *    and space maps are loaded and the write path runs on the damage;
 *    the device is then rebuilt from the fixture.
 *  - blkptr, dnode, zap, sa, dsl: patches of decoded blocks as zio_read
 *    hands them out (zio_fuzz_patch), confined to one class of regions found
 *    by a first, clean walk: indirect blocks, objset blocks and gang headers
 *    (blkptr); dnode and objset blocks (dnode); ZAP blocks (zap); SA blocks,
 *    the SA registry/layout ZAPs and SA bonus buffers (sa); DSL bonus
 *    buffers and the DSL ZAPs (dsl).
 * The input is a list of patches: selector (2 bytes), offset (4), length
 * (1), bytes. A selector picks a region (or a data extent), the
 * offset a place in it.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "zfuse/zfuse.h"
#include "blkptr.h"
#include "dmu_types.h"
#include "zio.h"
#include "zio_checksum.h"
#include "fuzz_seed.h"

enum { M_IMAGE, M_LABEL, M_UBERBLOCK, M_BLKPTR, M_DNODE, M_ZAP, M_SA, M_DSL, M_IMAGE_RW };
#ifndef FUZZ_MODE
#error FUZZ_MODE must be set
#endif
#ifndef FUZZ_IMAGE
#error FUZZ_IMAGE must be set
#endif

#define RAW_MODE (FUZZ_MODE <= M_UBERBLOCK || FUZZ_MODE == M_IMAGE_RW)

/* A place that may be patched: a byte range of a device (raw modes) or of
 * a decoded block named by its first DVA and birth (block modes). */
struct region {
	uint64_t key[3];	/* vdev+kind, offset, birth; raw: unused */
	uint64_t start, len;
	uint8_t sample[2][64];	/* block modes: bytes at start and mid-way */
};
static struct region *regions;
static size_t nregions, capregions;
static uint64_t raw_total;	/* raw modes: sum of region lengths */
static int nregions_fixed;	/* the data extents are listed */

static int memfd = -1;
static char devpath[64];
static uint8_t *orig;		/* the fixture, for undoing raw patches */
static uint64_t devsize;

static struct region *add_region(const uint64_t key[3], uint64_t start, uint64_t len)
{
	if (len == 0)
		return NULL;
	for (size_t i = 0; i < nregions; i++)
		if (!memcmp(regions[i].key, key, sizeof(regions[i].key)) && regions[i].start == start)
			return NULL;
	if (nregions == capregions) {
		capregions = capregions ? capregions * 2 : 256;
		regions = realloc(regions, capregions * sizeof(*regions));
		if (!regions)
			abort();
	}
	struct region *r = &regions[nregions++];
	memcpy(r->key, key, sizeof(r->key));
	r->start = start;
	r->len = len;
	raw_total += len;
	return r;
}

static void sample(struct region *r, const uint8_t *block, uint64_t size)
{
	if (!r)
		return;
	for (int k = 0; k < 2; k++) {
		uint64_t at = r->start + (k ? r->len / 2 & ~7ull : 0);
		for (int i = 0; i < 64; i++)
			r->sample[k][i] = at + (uint64_t)i < size ? block[at + (uint64_t)i] : 0;
	}
}

static void block_key(const blkptr_t *bp, int kind, uint64_t key[3])
{
	const dva_t *d = &bp->blk_dva[0];
	key[0] = dva_vdev(d) | (uint64_t)kind << 32 | (uint64_t)bp_is_embedded(bp) << 33;
	key[1] = bp_is_embedded(bp) ? bp->blk_prop : dva_offset(d);
	key[2] = bp->blk_birth;
}

/* ---- discovery: which decoded blocks (and parts) a mode may patch -------- */

/* The MOS's DSL ZAPs: object directory, child and snapshot maps, props,
 * permissions, next clones, user refs, deadlists, clones, and the generic
 * metadata ZAPs (bookmarks, zapified objects). */
static bool dsl_zap_type(unsigned t)
{
	static const unsigned types[] = { DMU_OT_OBJECT_DIRECTORY, DMU_OT_DSL_DIR_CHILD_MAP,
					  DMU_OT_DSL_DS_SNAP_MAP, DMU_OT_DSL_PROPS, 32, 37, 41,
					  DMU_OT_DEADLIST, 52, DMU_OTN_ZAP_METADATA };
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (t == types[i])
			return true;
	return false;
}

/* Bonus buffers of the dnodes in a dnode block whose bonus type matches. */
static void add_bonus_regions(const uint64_t key[3], const uint8_t *p, uint64_t size, bool dsl)
{
	for (uint64_t off = 0; off + 512 <= size;) {
		const uint8_t *dn = p + off;
		uint64_t slots = 1 + dn[12];
		if (off + slots * 512 > size)
			slots = 1;
		unsigned bonustype = dn[4], nblkptr = dn[3];
		uint64_t bonuslen = dn[10] | (uint64_t)dn[11] << 8;
		uint64_t bstart = 64 + (uint64_t)nblkptr * 128;
		bool want = dsl ? (bonustype == DMU_OT_DSL_DIR || bonustype == DMU_OT_DSL_DATASET)
				: bonustype == DMU_OT_SA;
		if (dn[0] && want && nblkptr >= 1 && nblkptr <= 3 && bstart + bonuslen <= slots * 512)
			sample(add_region(key, off + bstart, bonuslen), p, size);
		off += slots * 512;
	}
}

static void discover(const blkptr_t *bp, int kind, void *data, uint64_t size)
{
	uint64_t key[3];
	block_key(bp, kind, key);
	unsigned type = bp_get_type(bp), level = bp_get_level(bp);
	if (bp_is_embedded(bp))
		return;	/* lives in its parent's bytes */
	bool whole = false;
	bool l0 = kind == 0 && level == 0;
	if (FUZZ_MODE == M_BLKPTR)
		whole = kind == 1 || level > 0 || type == DMU_OT_OBJSET;
	else if (FUZZ_MODE == M_DNODE)
		whole = l0 && (type == DMU_OT_DNODE || type == DMU_OT_OBJSET);
	else if (FUZZ_MODE == M_ZAP)
		whole = l0 && dmu_ot_is_zap(type);
	else if (FUZZ_MODE == M_SA)
		whole = l0 && (type == DMU_OT_SA || type == DMU_OT_SA_MASTER_NODE ||
			       type == DMU_OT_SA_ATTR_REGISTRATION || type == DMU_OT_SA_ATTR_LAYOUTS);
	else if (FUZZ_MODE == M_DSL)
		whole = l0 && dsl_zap_type(type);
	if (l0 && type == DMU_OT_DNODE && (FUZZ_MODE == M_SA || FUZZ_MODE == M_DSL))
		add_bonus_regions(key, data, size, FUZZ_MODE == M_DSL);
	if (whole)
		sample(add_region(key, 0, size), data, size);
}

/* ---- patching ------------------------------------------------------------ */

struct patch {
	size_t region;
	uint64_t off;
	size_t len;
	const uint8_t *bytes;
};
#define MAX_PATCHES 64
static struct patch patches[MAX_PATCHES];
static size_t npatches;

static size_t parse_patches(const uint8_t *data, size_t size)
{
	size_t n = 0, i = 0;
	const size_t offbytes = 4;
	while (n < MAX_PATCHES && i + 2 + offbytes + 1 <= size && nregions) {
		uint64_t sel = data[i] | (uint64_t)data[i + 1] << 8;
		uint64_t off = 0;
		for (size_t b = 0; b < offbytes; b++)
			off |= (uint64_t)data[i + 2 + b] << (8 * b);
		size_t len = data[i + 2 + offbytes];
		i += 3 + offbytes;
		if (len > size - i)
			len = size - i;
		struct patch *p = &patches[n++];
		if (RAW_MODE) {
			/* raw: the selector adds 4 GiB steps to a position
			 * over all regions laid end to end */
			uint64_t pos = (off | sel << 32) % raw_total;
			size_t r = 0;
			while (pos >= regions[r].len)
				pos -= regions[r++].len;
			p->region = r;
			p->off = pos;
		} else {
			p->region = sel % nregions;
			p->off = regions[p->region].len ? off % regions[p->region].len : 0;
		}
		p->len = len;
		p->bytes = data + i;
		i += len;
	}
	return n;
}

static void apply(uint8_t *dst, uint64_t dstlen, const struct patch *p, uint64_t base)
{
	uint64_t at = base + p->off;
	if (at >= dstlen)
		return;
	uint64_t n = p->len;
	const struct region *r = &regions[p->region];
	if (p->off + n > r->len)
		n = r->len - p->off;
	if (n > dstlen - at)
		n = dstlen - at;
	memcpy(dst + at, p->bytes, n);
}

static void patch_block(const blkptr_t *bp, int kind, void *data, uint64_t size)
{
	uint64_t key[3];
	block_key(bp, kind, key);
	for (size_t i = 0; i < npatches; i++) {
		const struct region *r = &regions[patches[i].region];
		if (!memcmp(r->key, key, sizeof(key)))
			apply(data, size, &patches[i], r->start);
	}
}

static void raw_patch(bool undo)
{
	for (size_t i = 0; i < npatches; i++) {
		const struct region *r = &regions[patches[i].region];
		uint64_t at = r->start + patches[i].off;
		uint64_t n = patches[i].len;
		if (patches[i].off + n > r->len)
			n = r->len - patches[i].off;
		const void *src = undo ? orig + at : patches[i].bytes;
		if (n && pwrite(memfd, src, n, (off_t)at) != (ssize_t)n)
			abort();
	}
}

/* ---- the walk ------------------------------------------------------------ */

#define MAX_ENTRIES 400
#define MAX_DEPTH 12
#define MAX_DATASETS 16

struct walk {
	zfuse_fs_t *fs;
	uint64_t dir;
	int depth;
	unsigned entries;
	uint64_t children[64];
	unsigned nchildren;
};
static unsigned walk_entries;
static uint8_t filebuf[65536];

static void visit(zfuse_fs_t *fs, uint64_t ino)
{
	struct stat st;
	if (zfuse_getattr(fs, ino, &st) != 0)
		return;
	if (S_ISREG(st.st_mode)) {
		zfuse_read(fs, ino, filebuf, sizeof(filebuf), 0);
		if (st.st_size > (off_t)sizeof(filebuf))
			zfuse_read(fs, ino, filebuf, 4096, (uint64_t)st.st_size - 100);
	} else if (S_ISLNK(st.st_mode)) {
		char t[4200];
		zfuse_readlink(fs, ino, t, sizeof(t));
	}
	char names[8192];
	ssize_t n = zfuse_listxattr(fs, ino, names, sizeof(names));
	for (char *p = names; n > 0 && p < names + n && p < names + sizeof(names); p += strnlen(p, names + n - p) + 1)
		zfuse_getxattr(fs, ino, p, filebuf, sizeof(filebuf));
}

static int dirent_cb(void *arg, const char *name, uint64_t ino, unsigned dtype, uint64_t next)
{
	(void)next;
	struct walk *w = arg;
	if (++walk_entries > MAX_ENTRIES)
		return 1;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	visit(w->fs, ino);
	/* the name hashed and looked up again (normalization, case folding) */
	uint64_t found;
	zfuse_lookup(w->fs, w->dir, name, &found);
	if (dtype == DT_DIR && w->nchildren < 64)
		w->children[w->nchildren++] = ino;
	return 0;
}

static void walk_dir(zfuse_fs_t *fs, uint64_t dir, int depth)
{
	if (depth > MAX_DEPTH || walk_entries > MAX_ENTRIES)
		return;
	struct walk w = { .fs = fs, .dir = dir, .depth = depth };
	zfuse_readdir(fs, dir, 0, dirent_cb, &w);
	for (unsigned i = 0; i < w.nchildren; i++) {
		uint64_t parent;
		zfuse_parent(fs, w.children[i], &parent);
		walk_dir(fs, w.children[i], depth + 1);
	}
}

struct victim {
	char name[256];
	unsigned dtype;
};

static int victim_cb(void *arg, const char *name, uint64_t ino, unsigned dtype, uint64_t next)
{
	(void)ino;
	(void)next;
	struct victim *v = arg;
	if (!strcmp(name, ".") || !strcmp(name, "..") || !strncmp(name, "fuzz-", 5))
		return 0;
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->dtype = dtype;
	return 1;
}

/* imagerw: a few changes of every kind the write path has */
static void change(zfuse_fs_t *fs)
{
	uint64_t root = zfuse_fs_root(fs), ino, dir;
	static uint8_t data[20000];
	memset(data, 0x5a, sizeof(data));
	if (zfuse_create(fs, root, "fuzz-file", 0644, 0, 0, &ino, NULL) == 0) {
		zfuse_write(fs, ino, data, sizeof(data), 0);
		zfuse_write(fs, ino, data, 100, 1 << 20);
		zfuse_setxattr(fs, ino, "user.fuzz", data, 300, 0);
	}
	if (zfuse_mkdir(fs, root, "fuzz-dir", 0755, 0, 0, &dir, NULL) == 0)
		zfuse_symlink(fs, dir, "l", "../fuzz-file", 0, 0, &ino, NULL);
	/* the root's first entry that is not ours goes */
	struct victim v = { "", 0 };
	zfuse_readdir(fs, root, 0, victim_cb, &v);
	if (v.name[0])
		(v.dtype == DT_DIR ? zfuse_rmdir : zfuse_unlink)(fs, root, v.name);
	zfuse_fs_sync(fs);
}

struct dsnames {
	char *name[MAX_DATASETS];
	int type[MAX_DATASETS];
	unsigned n;
};

static int ds_cb(const struct zfuse_dataset_info *info, void *arg)
{
	struct dsnames *d = arg;
	if (d->n < MAX_DATASETS) {
		d->name[d->n] = strdup(info->name);
		d->type[d->n++] = info->type;
	}
	return 0;
}

static void quiet(void *arg, int level, const char *msg)
{
	(void)arg;
	(void)level;
	(void)msg;
}

static void walk_pool(void)
{
	const char *paths[] = { devpath };
	struct zfuse_import_opts o = { .paths = paths, .npaths = 1, .log = quiet,
				       .cache_size = 64 << 20, .readwrite = FUZZ_MODE == M_IMAGE_RW };
	zfuse_pool_t *pool;
	int rc = zfuse_pool_import(&o, &pool);
	if (getenv("ZFUSE_FUZZ_VERBOSE"))
		fprintf(stderr, "fuzz: import: %d\n", rc);
	if (rc != 0)
		return;
	struct dsnames d = { .n = 0 };
	zfuse_dataset_iter(pool, ds_cb, &d);
	for (unsigned i = 0; i < d.n; i++) {
		walk_entries = 0;
		zfuse_fs_t *fs;
		if (d.type[i] == ZFUSE_DS_FILESYSTEM || d.type[i] == ZFUSE_DS_SNAPSHOT) {
			if (zfuse_fs_open(pool, d.name[i], &fs) == 0) {
				struct zfuse_statfs sf;
				zfuse_fs_statfs(fs, &sf);
				walk_dir(fs, zfuse_fs_root(fs), 0);
				if (FUZZ_MODE == M_IMAGE_RW && zfuse_fs_writable(fs))
					change(fs);
				zfuse_fs_close(fs);
			}
		} else if (d.type[i] == ZFUSE_DS_VOLUME) {
			zfuse_volume_t *v;
			if (zfuse_volume_open(pool, d.name[i], &v) == 0) {
				zfuse_volume_read(v, filebuf, sizeof(filebuf), 0);
				zfuse_volume_close(v);
			}
		}
		if (getenv("ZFUSE_FUZZ_VERBOSE"))
			fprintf(stderr, "fuzz: %s: %u entries\n", d.name[i], walk_entries);
		free(d.name[i]);
	}
	if (FUZZ_MODE == M_IMAGE_RW)
		zfuse_pool_sync(pool);
	zfuse_pool_close(pool);
}

/* ---- setup ------------------------------------------------------------- */

static int fixture_fd = -1;

/* The device: a sparse copy of the fixture's data extents (what a pool
 * wrote into its holes goes with them). */
static void copy_fixture(void)
{
	uint64_t key[3] = { 0, 0, 0 };
	if (ftruncate(memfd, 0) != 0 || ftruncate(memfd, (off_t)devsize) != 0)
		abort();
	off_t pos = 0;
	for (;;) {
		off_t d = lseek(fixture_fd, pos, SEEK_DATA);
		if (d < 0)
			break;
		off_t h = lseek(fixture_fd, d, SEEK_HOLE);
		if (pwrite(memfd, orig + d, (size_t)(h - d), d) != h - d)
			abort();
		if ((FUZZ_MODE == M_IMAGE || FUZZ_MODE == M_IMAGE_RW) && nregions_fixed == 0)
			add_region(key, (uint64_t)d, (uint64_t)(h - d));
		pos = h;
	}
	nregions_fixed = 1;
}

static void load_image(void)
{
	const char *path = getenv("ZFUSE_FUZZ_IMAGE");
	if (!path || !*path)
		path = FUZZ_IMAGE;
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "fuzz: cannot open %s (build the fuzz targets: it is unpacked then)\n", path);
		exit(2);
	}
	devsize = (uint64_t)lseek(fd, 0, SEEK_END);
	/* the fixture stays mapped to undo patches; the device is a sparse
	 * memfd copy of its data extents */
	orig = mmap(NULL, devsize, PROT_READ, MAP_PRIVATE, fd, 0);
	memfd = memfd_create("zfuse-fuzz", 0);
	if (orig == MAP_FAILED || memfd < 0 || ftruncate(memfd, (off_t)devsize) != 0)
		abort();
	uint64_t key[3] = { 0, 0, 0 };
	fixture_fd = fd;
	copy_fixture();
	snprintf(devpath, sizeof(devpath), "/proc/self/fd/%d", memfd);
	/* labels: L0, L1 at the front, L2, L3 at the end (256 KiB each;
	 * nvlist at 16 KiB..128 KiB, uberblock ring at 128 KiB..256 KiB) */
	uint64_t lsize = 256 << 10, psize = devsize & ~(lsize - 1);
	uint64_t loff[4] = { 0, lsize, psize - 2 * lsize, psize - lsize };
	for (int l = 0; l < 4; l++) {
		if (FUZZ_MODE == M_LABEL)
			add_region(key, loff[l] + (16 << 10), 112 << 10);
		if (FUZZ_MODE == M_UBERBLOCK)
			add_region(key, loff[l] + (128 << 10), 128 << 10);
	}
}

/* Seeds: patches that write back what is there (so every mutation of
 * them is a mutation of a real structure): for block modes the first
 * bytes and bytes mid-way of each region, for raw modes bytes at evenly
 * spread places (every label's nvlist and uberblock slots among them). */
static void write_seeds(void)
{
	uint8_t rec[7 + 64];
	unsigned nseeds = 0;
	if (RAW_MODE) {
		uint64_t step = raw_total / 256 ? raw_total / 256 : 1;
		if (FUZZ_MODE == M_UBERBLOCK)
			step = 1024;	/* uberblock slots of ashift <= 10 */
		if (FUZZ_MODE == M_LABEL)
			step = 112 << 10;	/* each label's nvlist header */
		for (uint64_t pos = 0; pos < raw_total && nseeds < 256; pos += step, nseeds++) {
			uint64_t p = pos;
			size_t r = 0;
			while (p >= regions[r].len)
				p -= regions[r++].len;
			uint64_t at = regions[r].start + p;
			rec[0] = (uint8_t)(pos >> 32);
			rec[1] = (uint8_t)(pos >> 40);
			for (int b = 0; b < 4; b++)
				rec[2 + b] = (uint8_t)(pos >> (8 * b));
			rec[6] = 64;
			memcpy(rec + 7, orig + at, 64);
			seed_write(rec, sizeof(rec));
		}
		return;
	}
	for (size_t i = 0; i < nregions && nseeds < 256; i++)
		for (int k = 0; k < 2; k++, nseeds++) {
			rec[0] = (uint8_t)i;
			rec[1] = (uint8_t)(i >> 8);
			uint64_t off = k ? regions[i].len / 2 & ~7ull : 0;
			for (int b = 0; b < 4; b++)
				rec[2 + b] = (uint8_t)(off >> (8 * b));
			rec[6] = 64;
			memcpy(rec + 7, regions[i].sample[k], 64);
			seed_write(rec, sizeof(rec));
		}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	zio_fuzz_ignore_checksums = true;
	load_image();
	if (!RAW_MODE) {
		zio_fuzz_patch = discover;
		walk_pool();
		if (getenv("ZFUSE_FUZZ_VERBOSE"))
			fprintf(stderr, "fuzz: %zu regions\n", nregions);
	}
	if (seed_dir()) {
		write_seeds();
		exit(0);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	npatches = parse_patches(data, size);
	if (FUZZ_MODE == M_IMAGE_RW) {
		raw_patch(false);
		walk_pool();
		copy_fixture();
	} else if (RAW_MODE) {
		raw_patch(false);
		walk_pool();
		raw_patch(true);
	} else {
		zio_fuzz_patch = patch_block;
		walk_pool();
	}
	return 0;
}
