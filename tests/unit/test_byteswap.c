/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * test_byteswap.c — issue 16: every byteswap class on real blocks of the
 * bigendian fixture (a version-1 pool written on SPARC). Each block of the
 * MOS and of the filesystem is read twice: raw (zio_read, as on disk) and
 * through the cache (arc_read, swapped once). For every block the test
 * checks that the cache holds exactly one swap of the raw bytes, that a
 * second swap gives the disk bytes back (free dnode slots aside, which a
 * swap zeroes), that the raw bytes pass their checksum only when summed
 * in the writer's byte order, and that the swapped structure makes sense
 * on its own (ZAP magics, dnodes that decode, an objset of the right type,
 * znodes that agree with OpenZFS's manifest). Labels and uberblocks are
 * checked through their byte-swapped trailers. ACLs of the FUID layout do
 * not occur in a version-1 pool: the ones there are made from the old
 * ACEs the fixture's znodes hold.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arc.h"
#include "byteorder.h"
#include "check_main.h"
#include "dmu_byteswap.h"
#include "dmu_traverse.h"
#include "dnode.h"
#include "dsl.h"
#include "fixture.h"
#include "nvpair.h"
#include "sa.h"
#include "zfs_sa.h"
#include "spa_impl.h"
#include "vdev_label.h"
#include "zap.h"
#include "zfs_acl.h"
#include "zio.h"
#include "zio_checksum.h"
#include "zfuse/zfuse.h"

#define ZNODE_PHYS_SIZE 264

static const char *image(void)
{
	static char path[4096];
	const char *cache = getenv("ZFUSE_TEST_CACHE");
	ck_assert_msg(cache != NULL, "ZFUSE_TEST_CACHE is not set");
	snprintf(path, sizeof(path), "%s/bigendian/v1-pool.img", cache);
	return path;
}

static zfuse_pool_t *import_be(void)
{
	return import_image(image(), false);
}

/* Per byteswap class: blocks seen, and znodes / ACEs checked. */
struct walk {
	spa_t *spa;
	unsigned blocks[DMU_BSWAP_NUMFUNCS];
	unsigned indirect, dnodes, znodes, zap_micro, zap_fat_hdr, zap_leaf, old_aces;
	bool saw_file0;
};

/* A dnode's bonus as znode_phys_t: the mode's file type is one POSIX knows. */
static void check_znode(struct walk *w, uint64_t object, const uint8_t *zp)
{
	uint64_t mode = le64(zp + 72), links = le64(zp + 96);
	unsigned fmt = (unsigned)(mode & 0170000);
	ck_assert_msg(fmt == 0100000 || fmt == 0040000 || fmt == 0120000 || fmt == 0010000 ||
		      fmt == 0020000 || fmt == 0060000 || fmt == 0140000,
		      "object %llu: mode %llo", (unsigned long long)object, (unsigned long long)mode);
	ck_assert_uint_ge(links, 1);
	/* file.0 is object 4 in OpenZFS's manifest: 0644, 4 bytes, this mtime. */
	if (object == 4 && fmt == 0100000) {
		ck_assert_uint_eq(mode & 07777, 0644);
		ck_assert_uint_eq(le64(zp + 80), 4);
		ck_assert_uint_eq(le64(zp + 16), 1149769734);
		ck_assert_uint_eq(le64(zp + 24), 146400925);
		w->saw_file0 = true;
	}
	/* The embedded ACL is of the old layout: up to 6 ace_t, allow/deny.
	 * ZPL version 1's header (zfs_znode_acl_v0) keeps a 32-bit count
	 * where later ones keep the size. */
	unsigned version = le16(zp + 188);
	ck_assert_uint_eq(version, 0);
	unsigned count = le32(zp + 184);
	ck_assert_uint_le(count, 6);
	for (unsigned i = 0; i < count; i++) {
		const uint8_t *ace = zp + 192 + 12 * i;
		ck_assert_uint_le(le16(ace + 10), 1);		/* a_type */
		ck_assert_uint_eq(le16(ace + 8) & ~0x70cfu, 0);	/* a_flags */
		w->old_aces++;
	}
	w->znodes++;
}

static void check_swapped(struct walk *w, const blkptr_t *bp, const uint8_t *raw, const uint8_t *native,
			  uint64_t size)
{
	enum dmu_byteswap bs = dmu_bp_byteswap_class(bp);
	switch (bs) {
	case DMU_BSWAP_ZAP: {
		uint64_t bt = le64(native);
		if (bt == ZBT_MICRO) {
			w->zap_micro++;
		} else if (bt == ZBT_HEADER) {
			ck_assert_uint_eq(le64(native + 8), ZAP_MAGIC);
			w->zap_fat_hdr++;
		} else if (bt == ZBT_LEAF) {
			ck_assert_uint_eq(le32(native + 24), ZAP_LEAF_MAGIC);
			w->zap_leaf++;
		}
		break;
	}
	case DMU_BSWAP_DNODE:
		for (uint64_t off = 0; off + DNODE_MIN_SIZE <= size; off += DNODE_MIN_SIZE) {
			dnode_t dn;
			int rc = dnode_decode(&dn, native + off, size - off);
			if (raw[off] == 0) {
				ck_assert_int_eq(rc, -ZFUSE_E_NOENT);
				continue;
			}
			ck_assert_int_eq(rc, 0);
			w->dnodes++;
			uint64_t blen;
			const uint8_t *bonus = dnode_bonus(&dn, &blen);
			if (dn.bonustype == DMU_OT_ZNODE) {
				ck_assert_uint_ge(blen, ZNODE_PHYS_SIZE);
				check_znode(w, UINT64_MAX, bonus);
			}
			for (int i = 0; i < dn.nblkptr; i++) {
				blkptr_t b;
				dnode_blkptr(&dn, i, &b);
				if (!bp_is_hole(&b))
					ck_assert(dmu_ot_is_valid(bp_get_type(&b)));
			}
		}
		break;
	case DMU_BSWAP_OBJSET: {
		uint64_t type = le64(native + 704);
		ck_assert(type == DMU_OST_META || type == DMU_OST_ZFS);
		ck_assert_uint_eq(native[0], DMU_OT_DNODE);
		dnode_t dn;
		ck_assert_int_eq(dnode_decode(&dn, native, DNODE_MIN_SIZE), 0);
		break;
	}
	case DMU_BSWAP_UINT64:
		if (bp_get_level(bp) > 0) {
			for (uint64_t off = 0; off + sizeof(blkptr_t) <= size; off += sizeof(blkptr_t)) {
				blkptr_t b;
				bp_load(&b, native + off);
				if (bp_is_hole(&b))
					continue;
				ck_assert(dmu_ot_is_valid(bp_get_type(&b)));
				ck_assert_uint_le(bp_get_lsize(&b), SPA_MAXBLOCKSIZE);
			}
			w->indirect++;
		}
		break;
	default:
		break;
	}
}

static int visit(void *arg, const blkptr_t *bp)
{
	struct walk *w = arg;
	uint64_t size = bp_get_lsize(bp);
	ck_assert_msg(bp_should_byteswap(bp), "a block of this host's order in a SPARC pool");
	uint8_t *raw = malloc(size), *twice = malloc(size);
	ck_assert_ptr_nonnull(raw);
	ck_assert_ptr_nonnull(twice);
	/* Summed in the writer's order the raw block passes, in ours not. */
	ck_assert_int_eq(zio_read(w->spa, bp, raw), 0);
	unsigned alg = bp_get_checksum(bp);
	if (bp_get_compress(bp) == 2 && (alg == ZIO_CHECKSUM_FLETCHER_2 || alg == ZIO_CHECKSUM_FLETCHER_4)) {
		zio_cksum_t c;
		ck_assert_int_eq(zio_checksum_compute_bo(alg, raw, size, NULL, true, &c), 0);
		ck_assert_mem_eq(&c, &bp->blk_cksum, sizeof(c));
		ck_assert_int_eq(zio_checksum_compute_bo(alg, raw, size, NULL, false, &c), 0);
		ck_assert(memcmp(&c, &bp->blk_cksum, sizeof(c)) != 0);
	}
	arc_buf_t *b;
	ck_assert_int_eq(arc_read(w->spa, bp, &b), 0);
	ck_assert_uint_eq(b->size, size);
	/* The cache holds one swap of the disk bytes, not zero, not two. */
	enum dmu_byteswap bs = dmu_bp_byteswap_class(bp);
	memcpy(twice, raw, size);
	dmu_ot_byteswap_block(bs, twice, size);
	ck_assert_mem_eq(twice, b->data, size);
	if (bs != DMU_BSWAP_UINT8)
		ck_assert(memcmp(raw, b->data, size) != 0);
	/* A second swap gives the disk bytes back (free dnode slots zeroed). */
	dmu_ot_byteswap_block(bs, twice, size);
	if (bs == DMU_BSWAP_DNODE) {
		for (uint64_t off = 0; off < size; off += DNODE_MIN_SIZE)
			if (raw[off] != 0)
				ck_assert_mem_eq(twice + off, raw + off, DNODE_MIN_SIZE);
	} else {
		ck_assert_mem_eq(twice, raw, size);
	}
	check_swapped(w, bp, raw, b->data, size);
	w->blocks[bs]++;
	arc_release(w->spa, b);
	free(raw);
	free(twice);
	return 0;
}

START_TEST(test_every_block)
{
	zfuse_pool_t *pool = import_be();
	spa_t *spa = (spa_t *)pool;
	struct walk w = { .spa = spa };
	ck_assert_int_eq(traverse_objset(spa, &spa->ub.ub_rootbp, 0, visit, &w), 0);
	struct dsl_dataset_ref ref;
	ck_assert_int_eq(dsl_dataset_find(spa, "v1-pool", &ref), 0);
	ck_assert_int_eq(traverse_objset(spa, &ref.phys.bp, 0, visit, &w), 0);
	printf("byteswap: uint8 %u, uint64 %u (indirect %u), zap %u (micro %u, fat %u, leaf %u), "
	       "dnode %u (%u dnodes, %u znodes, %u old ACEs), objset %u\n",
	       w.blocks[DMU_BSWAP_UINT8], w.blocks[DMU_BSWAP_UINT64], w.indirect, w.blocks[DMU_BSWAP_ZAP],
	       w.zap_micro, w.zap_fat_hdr, w.zap_leaf, w.blocks[DMU_BSWAP_DNODE], w.dnodes, w.znodes,
	       w.old_aces, w.blocks[DMU_BSWAP_OBJSET]);
	ck_assert_uint_gt(w.blocks[DMU_BSWAP_UINT64], 0);
	ck_assert_uint_gt(w.indirect, 0);
	ck_assert_uint_gt(w.zap_micro, 0);
	ck_assert_uint_gt(w.znodes, 300);
	ck_assert_uint_gt(w.old_aces, 0);
	ck_assert_uint_eq(w.blocks[DMU_BSWAP_OBJSET], 2);
	zfuse_pool_close(pool);
}
END_TEST

/* Every znode of the filesystem through dnode_hold (swapped dnode block,
 * swapped bonus): file.0 as OpenZFS's manifest has it. */
START_TEST(test_znodes)
{
	zfuse_pool_t *pool = import_be();
	spa_t *spa = (spa_t *)pool;
	objset_t *os = open_dataset(pool, "v1-pool");
	struct walk w = { .spa = spa };
	for (uint64_t obj = 1; obj < 400; obj++) {
		dnode_t dn;
		if (dnode_hold(os, obj, &dn) != 0)
			continue;
		if (dn.bonustype == DMU_OT_ZNODE) {
			uint64_t blen;
			const uint8_t *bonus = dnode_bonus(&dn, &blen);
			check_znode(&w, obj, bonus);
		}
		dnode_rele(&dn);
	}
	ck_assert(w.saw_file0);
	ck_assert_uint_gt(w.znodes, 300);
	objset_close(os);
	zfuse_pool_close(pool);
}
END_TEST

/* ACL objects: the old layout (ace_t) from the fixture's ACEs, and the
 * FUID layout (zfs_ace_t, headers only for owner@/group@/everyone@, a
 * fuid for a named user) built from them. */
START_TEST(test_acls)
{
	zfuse_pool_t *pool = import_be();
	objset_t *os = open_dataset(pool, "v1-pool");
	/* The first object whose znode embeds ACEs. */
	dnode_t dn;
	const uint8_t *zp = NULL;
	unsigned count = 0;
	for (uint64_t obj = 1; obj < 400 && !count; obj++) {
		if (dnode_hold(os, obj, &dn) != 0)
			continue;
		uint64_t blen;
		zp = dnode_bonus(&dn, &blen);
		if (dn.bonustype == DMU_OT_ZNODE && le32(zp + 184) > 0)
			count = le32(zp + 184);	/* zfs_znode_acl_v0's count */
		else
			dnode_rele(&dn);
	}
	ck_assert_uint_gt(count, 0);
	/* Old layout: back to disk order and again gives the same ACEs. */
	uint8_t old[72], copy[72];
	memcpy(old, zp + 192, sizeof(old));
	memcpy(copy, old, sizeof(copy));
	zfs_oldacl_byteswap(copy, count * 12);
	ck_assert_uint_eq(be16(copy + 10), le16(old + 10));
	ck_assert_uint_eq(be32(copy + 4), le32(old + 4));
	zfs_oldacl_byteswap(copy, count * 12);
	ck_assert_mem_eq(copy, old, sizeof(old));
	/* FUID layout: an owner@ entry (8 bytes) then a named user (16). */
	uint8_t fuid[24] = { 0 }, disk[24];
	uint16_t type = le16(old + 10);
	uint32_t mask = le32(old + 4);
	memcpy(fuid, &type, 2);
	uint16_t fl = 0x1000;
	memcpy(fuid + 2, &fl, 2);
	memcpy(fuid + 4, &mask, 4);
	memcpy(fuid + 8, &type, 2);
	fl = 0;
	memcpy(fuid + 10, &fl, 2);
	memcpy(fuid + 12, &mask, 4);
	uint64_t id = 0x123456789ULL;
	memcpy(fuid + 16, &id, 8);
	/* As a big-endian writer stores it: every field swapped. */
	memcpy(disk, fuid, sizeof(disk));
	byteswap_uint16_array(disk, 4);
	byteswap_uint32_array(disk + 4, 4);
	byteswap_uint16_array(disk + 8, 4);
	byteswap_uint32_array(disk + 12, 4);
	byteswap_uint64_array(disk + 16, 8);
	zfs_acl_byteswap(disk, sizeof(disk));
	ck_assert_mem_eq(disk, fuid, sizeof(fuid));
	dnode_rele(&dn);
	objset_close(os);
	zfuse_pool_close(pool);
}
END_TEST

/* Fat ZAPs: a version-1 pool this small has none, so the basic fixture's
 * 3000-entry directory (little-endian, real) is turned into what a
 * big-endian writer stores — the swap is its own inverse — and checked
 * field by field, then swapped back to the very bytes OpenZFS wrote. */
struct fat_walk {
	spa_t *spa;
	unsigned headers, leaves;
};

static int fat_visit(void *arg, const blkptr_t *bp)
{
	struct fat_walk *w = arg;
	if (bp_get_level(bp) != 0 || bp_get_type(bp) != DMU_OT_DIRECTORY_CONTENTS)
		return 0;
	arc_buf_t *b;
	ck_assert_int_eq(arc_read(w->spa, bp, &b), 0);
	uint64_t size = b->size, bt = le64(b->data);
	if (bt != ZBT_HEADER && bt != ZBT_LEAF) {
		arc_release(w->spa, b);
		return 0;
	}
	uint8_t *be = malloc(size);
	ck_assert_ptr_nonnull(be);
	memcpy(be, b->data, size);
	zap_byteswap(be, size);
	const uint8_t *n = b->data;
	ck_assert_uint_eq(be64(be), bt);
	if (bt == ZBT_HEADER) {
		ck_assert_uint_eq(be64(be + 8), ZAP_MAGIC);
		for (uint64_t off = 0; off < size; off += 8)
			ck_assert_uint_eq(be64(be + off), le64(n + off));
		w->headers++;
	} else {
		ck_assert_uint_eq(be64(be + 16), le64(n + 16));	/* prefix */
		ck_assert_uint_eq(be32(be + 24), ZAP_LEAF_MAGIC);
		ck_assert_uint_eq(be16(be + 28), le16(n + 28));	/* nfree */
		ck_assert_uint_eq(be16(be + 30), le16(n + 30));	/* nentries */
		unsigned nhash = (unsigned)(size / 32);
		for (unsigned i = 0; i < nhash; i++)
			ck_assert_uint_eq(be16(be + 48 + 2 * i), le16(n + 48 + 2 * i));
		/* Entry chunks: hash and cd; array bytes untouched. */
		for (uint64_t c = 48 + 2ULL * nhash; c + 24 <= size; c += 24) {
			if (n[c] == 252) {
				ck_assert_uint_eq(be64(be + c + 16), le64(n + c + 16));
				ck_assert_uint_eq(be32(be + c + 12), le32(n + c + 12));
			} else if (n[c] == 251) {
				ck_assert_mem_eq(be + c + 1, n + c + 1, 21);
			}
		}
		w->leaves++;
	}
	zap_byteswap(be, size);
	ck_assert_mem_eq(be, n, size);
	free(be);
	arc_release(w->spa, b);
	return 0;
}

START_TEST(test_fat_zap)
{
	zfuse_pool_t *pool = import_basic();
	spa_t *spa = (spa_t *)pool;
	struct dsl_dataset_ref ref;
	ck_assert_int_eq(dsl_dataset_find(spa, "basic", &ref), 0);
	struct fat_walk w = { .spa = spa };
	ck_assert_int_eq(traverse_objset(spa, &ref.phys.bp, 0, fat_visit, &w), 0);
	ck_assert_uint_gt(w.headers, 0);
	ck_assert_uint_gt(w.leaves, 1);
	zfuse_pool_close(pool);
}
END_TEST

/* System attributes: the cache leaves SA buffers as bytes; the SA layer
 * swaps one in place the first time it walks it. Real bonus buffers of the
 * basic fixture (times, mode, size, links, symlink targets, FUID ACLs) are
 * turned into what a big-endian writer stores, walked, and must give the
 * very attributes and bytes OpenZFS wrote. */
struct sa_seen {
	const uint8_t *base;
	unsigned n;
	struct { char name[32]; uint32_t off, len; uint8_t val[512]; } a[32];
};

static void sa_collect(void *arg, const char *name, unsigned num, const uint8_t *val, uint32_t len)
{
	(void)num;
	struct sa_seen *s = arg;
	ck_assert_uint_lt(s->n, 32);
	snprintf(s->a[s->n].name, sizeof(s->a[s->n].name), "%s", name);
	s->a[s->n].off = (uint32_t)(val - s->base);
	s->a[s->n].len = len;
	memcpy(s->a[s->n].val, val, len < 512 ? len : 512);
	s->n++;
}

/* Native FUID-layout ACEs to the other byte order (sizes read first). */
static void acl_to_foreign(uint8_t *p, uint32_t len)
{
	uint8_t *end = p + len;
	while (p + 8 <= end) {
		unsigned type = le16(p), flags = le16(p + 2) & 0x7040;
		size_t entry = (flags == 0x1000 || flags == 0x4000 || flags == 0x2040) ? 8 :
			       (type >= 5 && type <= 8) ? 48 : 16;
		bswap16_at(p);
		bswap16_at(p + 2);
		bswap32_at(p + 4);
		if (entry > 8 && p + 16 <= end)
			bswap64_at(p + 8);
		p += entry;
	}
}

START_TEST(test_sa)
{
	zfuse_pool_t *pool = import_basic();
	objset_t *os = open_dataset(pool, "basic");
	sa_table_t *t = load_sa_table(os);
	unsigned objects = 0, acls = 0, symlinks = 0;
	for (uint64_t obj = 2; obj < 3400; obj++) {
		dnode_t dn;
		if (dnode_hold(os, obj, &dn) != 0)
			continue;
		if (dn.bonustype != DMU_OT_SA || (dn.flags & DNODE_FLAG_SPILL_BLKPTR)) {
			dnode_rele(&dn);
			continue;
		}
		uint64_t blen;
		const uint8_t *bonus = dnode_bonus(&dn, &blen);
		uint64_t cap = dnode_bonus_capacity(&dn);
		struct sa_seen native = { .base = bonus };
		ck_assert_int_eq(sa_foreach(t, &dn, sa_collect, &native), 0);
		ck_assert_uint_gt(native.n, 5);
		/* The dnode as a big-endian writer would have stored its bonus. */
		uint8_t *copy = malloc(dn.size);
		ck_assert_ptr_nonnull(copy);
		memcpy(copy, dn.phys, dn.size);
		uint8_t *b = copy + (bonus - dn.phys);
		for (unsigned i = 0; i < native.n; i++) {
			uint8_t *v = b + native.a[i].off;
			uint32_t len = native.a[i].len;
			if (!strcmp(native.a[i].name, "ZPL_DACL_ACES")) {
				acl_to_foreign(v, len);
				acls++;
				continue;
			}
			if (!strcmp(native.a[i].name, "ZPL_SYMLINK"))
				symlinks++;
			for (int z = 0; z < ZPL_END; z++)
				if (!strcmp(zfs_attr_table[z].name, native.a[i].name) && zfs_attr_table[z].bswap == 0)
					byteswap_uint64_array(v, len);
		}
		uint64_t hdrsize = (uint64_t)(le16(b + 4) >> 10) * 8;
		byteswap_uint16_array(b + 6, hdrsize - 6);
		bswap16_at(b + 4);
		bswap32_at(b);
		ck_assert_uint_eq(be32(b), SA_MAGIC);
		dnode_t fake = dn;
		fake.phys = copy;
		struct sa_seen swapped = { .base = b };
		ck_assert_int_eq(sa_foreach(t, &fake, sa_collect, &swapped), 0);
		ck_assert_uint_eq(swapped.n, native.n);
		for (unsigned i = 0; i < native.n; i++) {
			ck_assert_str_eq(swapped.a[i].name, native.a[i].name);
			ck_assert_uint_eq(swapped.a[i].len, native.a[i].len);
			ck_assert_mem_eq(swapped.a[i].val, native.a[i].val,
					 native.a[i].len < 512 ? native.a[i].len : 512);
		}
		/* Swapped in place once: the buffer is OpenZFS's bytes again. */
		ck_assert_mem_eq(b, bonus, cap);
		ck_assert_int_eq(sa_foreach(t, &fake, sa_collect, &(struct sa_seen){ .base = b }), 0);
		ck_assert_mem_eq(b, bonus, cap);
		free(copy);
		dnode_rele(&dn);
		objects++;
	}
	ck_assert_uint_gt(objects, 50);
	ck_assert_uint_gt(acls, 50);
	ck_assert_uint_gt(symlinks, 0);
	sa_table_free(t);
	objset_close(os);
	zfuse_pool_close(pool);
}
END_TEST

/* Labels and uberblocks: byte-swapped trailers verify; the uberblock is
 * native after reading; the config nvlist (XDR) says what zdb says. */
START_TEST(test_labels)
{
	zfuse_pool_t *pool = import_be();
	spa_t *spa = (spa_t *)pool;
	struct leaf_dev *dev = spa->devs[0];
	for (int l = 0; l < VDEV_LABELS; l++) {
		nvlist_t *nv;
		ck_assert_int_eq(vdev_label_read_config(dev, l, &nv), 0);
		uint64_t v;
		ck_assert_int_eq(nvlist_lookup_uint64(nv, "version", &v), 0);
		ck_assert_uint_eq(v, 1);
		ck_assert_int_eq(nvlist_lookup_uint64(nv, "pool_guid", &v), 0);
		ck_assert_uint_eq(v, 453684623696461653ULL);
		nvlist_free(nv);
		uberblock_t ub;
		unsigned found = 0;
		for (uint64_t s = 0; s < VDEV_UBERBLOCK_RING_SIZE / 1024; s++) {
			if (vdev_uberblock_read_slot(dev, l, s, 9, &ub) != 0)
				continue;
			ck_assert_uint_eq(ub.ub_magic, UBERBLOCK_MAGIC);
			ck_assert_uint_eq(ub.ub_version, 1);
			ck_assert(bp_should_byteswap(&ub.ub_rootbp));
			ck_assert_uint_eq(bp_get_type(&ub.ub_rootbp), DMU_OT_OBJSET);
			found++;
		}
		ck_assert_uint_gt(found, 0);
	}
	ck_assert_uint_eq(spa->ub.ub_txg, 14);
	/* A swapped trailer with one flipped bit fails. */
	uint8_t buf[1024];
	uint64_t off = vdev_label_offset(dev->psize, 0) + VDEV_UBERBLOCK_RING_OFFSET;
	for (uint64_t s = 0; s < 128; s++, off += 1024) {
		ck_assert_int_eq(leaf_dev_pread(dev, buf, sizeof(buf), off), 0);
		if (be64(buf) != UBERBLOCK_MAGIC)
			continue;
		zio_cksum_t verifier = { { off, 0, 0, 0 } };
		ck_assert_int_eq(zio_checksum_verify_embedded(ZIO_CHECKSUM_LABEL, buf, sizeof(buf), &verifier), 0);
		buf[100] ^= 1;
		ck_assert_int_eq(zio_checksum_verify_embedded(ZIO_CHECKSUM_LABEL, buf, sizeof(buf), &verifier),
				 -ZFUSE_E_CHECKSUM);
		break;
	}
	zfuse_pool_close(pool);
}
END_TEST

/* Digests stored as raw bytes (sha512, skein, edonr, blake3) read as
 * swapped words; sha256 words are big-endian loads either way. */
START_TEST(test_digest_words)
{
	uint8_t data[4096];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	zio_cksum_salt_t salt;
	memset(&salt, 0x5a, sizeof(salt));
	unsigned algs[] = { ZIO_CHECKSUM_SHA512, ZIO_CHECKSUM_SKEIN, ZIO_CHECKSUM_EDONR, ZIO_CHECKSUM_BLAKE3 };
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		zio_cksum_t n, s;
		ck_assert_int_eq(zio_checksum_compute_bo(algs[i], data, sizeof(data), &salt, false, &n), 0);
		ck_assert_int_eq(zio_checksum_compute_bo(algs[i], data, sizeof(data), &salt, true, &s), 0);
		for (int w = 0; w < 4; w++)
			ck_assert_uint_eq(s.zc_word[w], __builtin_bswap64(n.zc_word[w]));
	}
	zio_cksum_t n, s;
	ck_assert_int_eq(zio_checksum_compute_bo(ZIO_CHECKSUM_SHA256, data, sizeof(data), NULL, false, &n), 0);
	ck_assert_int_eq(zio_checksum_compute_bo(ZIO_CHECKSUM_SHA256, data, sizeof(data), NULL, true, &s), 0);
	ck_assert_mem_eq(&n, &s, sizeof(n));
}
END_TEST

int main(void)
{
	return run_suite(suite_of("byteswap", TCASE_OF("bigendian fixture", 120, test_every_block, test_znodes,
							  test_acls, test_fat_zap, test_sa, test_labels,
							  test_digest_words)));
}
