/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * verify.c — scrub from userspace. Every block reachable from the chosen
 * uberblock is visited once (a hash set of DVAs: snapshots and clones share
 * blocks), every copy is read and checked on its own, and damage is
 * reported where it is: dataset, object, level and block id, and the file's
 * path when the object is a file. Then, as `zdb -b` does, the space those
 * blocks occupy (plus intent-log blocks and pending frees) is compared with
 * what the space maps say is allocated.
 *
 * The same walk scrubs a pool in use (verify_live, for dsl_scan.c): it
 * holds the pool lock shared and lets writers in every few blocks; the
 * blocks it reads stay intact because a scan hold keeps freed space from
 * being reused (metaslab_scan_hold). A bad copy with a good one beside it
 * (another DVA, a mirror side, RAID-Z parity) is written again in place
 * when the pool is writable, as OpenZFS's scrub repairs.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "byteorder.h"
#include "dbuf.h"
#include "dmu_types.h"
#include "dnode.h"
#include "dsl.h"
#include "dsl_crypt.h"
#include "spa_lock.h"
#include "spa_misc.h"
#include "verify.h"
#include "vdev.h"
#include "inspect_emit.h"
#include "space_map.h"
#include "spa.h"
#include "txg.h"
#include "zil.h"
#include "zap.h"
#include "zio.h"
#include "zio_crypt.h"
#include "zfuse/inspect.h"
#include "zfs_debug.h"


struct damage {
	char dataset[256];
	uint64_t object;
	int level;
	uint64_t blkid;
	int err;
	bool unrecoverable;
	bool repaired;
	char bp[512];
};

struct extent {
	uint64_t vdev, offset, size;
};

struct vctx {
	spa_t *spa;
	uint64_t *set;		/* open addressing of DVA keys; 0 = empty */
	uint64_t setcap, setn;
	struct zfuse_verify_stats st;
	struct damage *dmg;
	size_t ndmg, capdmg;
	const char *dataset;
	struct { uint64_t count, lsize, psize, asize; } by_type[256];
	struct extent *ext;	/* every allocation found, to find overlaps */
	size_t next, capext;
	uint64_t min_txg;	/* blocks born at or before belong to an older snapshot */
	zfuse_progress_fn progress;
	void *progress_arg;
	uint64_t total_estimate;
	uint64_t last_progress;
	/* verify_live */
	bool live;		/* the pool is in use: share the lock, skip the space check */
	bool repair;		/* write bad copies again from a good one */
	unsigned since_yield;
	const struct verify_live_opts *lo;
	zio_crypt_key_t *key;	/* the current dataset's, when it is encrypted and loaded */
	/* Encrypted dnode blocks that only the key opens (not stored raw, as
	 * some releases wrote them) met without it: what lies below them is
	 * not walked, so its space cannot be accounted for. */
	uint64_t sealed_dnode_blocks;
};

static uint64_t dva_key(const dva_t *d)
{
	/* vdev in the top bits, sector offset below: unique per allocation. */
	return (dva_vdev(d) << 48) ^ (dva_offset(d) >> 9) ^ 0x8000000000000000ULL;
}

static bool set_insert(struct vctx *c, uint64_t key)
{
	if ((c->setn + 1) * 2 > c->setcap) {
		uint64_t ncap = c->setcap ? c->setcap * 2 : 1 << 16;
		uint64_t *ns = calloc(ncap, sizeof(*ns));
		if (!ns)
			return true;	/* out of memory: treat as new, counting twice at worst */
		for (uint64_t i = 0; i < c->setcap; i++) {
			if (!c->set[i])
				continue;
			uint64_t h = (c->set[i] * 0x9E3779B97F4A7C15ULL) & (ncap - 1);
			while (ns[h])
				h = (h + 1) & (ncap - 1);
			ns[h] = c->set[i];
		}
		free(c->set);
		c->set = ns;
		c->setcap = ncap;
	}
	uint64_t h = (key * 0x9E3779B97F4A7C15ULL) & (c->setcap - 1);
	while (c->set[h]) {
		if (c->set[h] == key)
			return false;
		h = (h + 1) & (c->setcap - 1);
	}
	c->set[h] = key;
	c->setn++;
	return true;
}

/* Count a DVA's allocation and remember where it lies. A gang DVA's asize
 * covers pieces elsewhere; only its header sits at its offset. */
static void account_dva(struct vctx *c, const dva_t *d)
{
	if (!dva_is_valid(d))
		return;
	c->st.asize += dva_asize(d);
	if (c->next == c->capext) {
		size_t nc = c->capext ? c->capext * 2 : 4096;
		struct extent *ne = realloc(c->ext, nc * sizeof(*ne));
		if (!ne)
			return;
		c->ext = ne;
		c->capext = nc;
	}
	uint64_t size = dva_asize(d);
	if (dva_is_gang(d)) {
		vdev_t *top = spa_lookup_top(c->spa, dva_vdev(d));
		size = top ? vdev_psize_to_asize(top, 512) : 512;
	}
	c->ext[c->next++] = (struct extent){ dva_vdev(d), dva_offset(d), size };
}

static int extent_cmp(const void *a, const void *b)
{
	const struct extent *x = a, *y = b;
	if (x->vdev != y->vdev)
		return x->vdev < y->vdev ? -1 : 1;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Space claimed by two different blocks: sort and compare neighbours. */
static uint64_t find_overlaps(struct vctx *c, emitter_t *em)
{
	uint64_t overlaps = 0;
	if (c->next > 1)
		qsort(c->ext, c->next, sizeof(*c->ext), extent_cmp);
	em_arr_begin(em, "double_allocated");
	for (size_t i = 1; i < c->next; i++) {
		const struct extent *p = &c->ext[i - 1], *e = &c->ext[i];
		if (p->vdev != e->vdev || p->offset + p->size <= e->offset)
			continue;
		if (overlaps++ < 32) {
			em_obj_begin(em, NULL);
			em_u64(em, "vdev", e->vdev);
			em_hex(em, "offset", e->offset);
			em_hex(em, "overlaps_block_at", p->offset);
			em_obj_end(em);
		}
	}
	em_arr_end(em);
	return overlaps;
}

static void note_damage(struct vctx *c, uint64_t object, int level, uint64_t blkid, int err,
			bool unrecoverable, const blkptr_t *bp)
{
	if (c->ndmg == c->capdmg) {
		size_t nc = c->capdmg ? c->capdmg * 2 : 16;
		struct damage *nd = realloc(c->dmg, nc * sizeof(*nd));
		if (!nd)
			return;
		c->dmg = nd;
		c->capdmg = nc;
	}
	struct damage *d = &c->dmg[c->ndmg++];
	snprintf(d->dataset, sizeof(d->dataset), "%s", c->dataset);
	d->object = object;
	d->level = level;
	d->blkid = blkid;
	d->err = err;
	d->unrecoverable = unrecoverable;
	d->repaired = false;
	bp_describe(bp, d->bp, sizeof(d->bp));
}

static void check_macs(struct vctx *c, const blkptr_t *bp, uint64_t object, int level, uint64_t blkid);

/* Check every copy of a (new) bp; true when at least one is good. */
static bool check_copies(struct vctx *c, const blkptr_t *bp, uint64_t object, int level, uint64_t blkid)
{
	uint64_t psize = bp_get_psize(bp);
	uint8_t *buf = malloc(psize ? psize : 1);
	if (!buf)
		return false;
	uint8_t *goodbuf = NULL;
	int good = 0, last = 0;
	bool rewrite[SPA_DVAS_PER_BP] = { false };
	int ndva = bp_is_encrypted(bp) ? 2 : SPA_DVAS_PER_BP;
	for (int i = 0; i < ndva; i++) {
		if (!dva_is_valid(&bp->blk_dva[i]))
			continue;
		c->st.copies_checked++;
		uint64_t repairs = vdev_repairs;
		int r = zio_read_phys(c->spa, bp, buf, i);
		uint64_t differ = 0;
		if (r == 0 && vdev_repairs == repairs && c->live && !dva_is_gang(&bp->blk_dva[i])) {
			/* The read stopped at the first side or the data columns
			 * that verified; a scrub checks the other sides and the
			 * parity too. */
			vdev_t *top = spa_lookup_top(c->spa, dva_vdev(&bp->blk_dva[i]));
			if (top)
				vdev_compare(top, dva_offset(&bp->blk_dva[i]), buf, psize, &differ);
		}
		if (r == 0 && (vdev_repairs != repairs || differ)) {
			/* intact only thanks to a mirror side or RAID-Z parity,
			 * or with a side or parity column that is not */
			c->st.repaired++;
			note_damage(c, object, level, blkid, SET_ERROR(-ZFUSE_E_CHECKSUM), false, bp);
			c->dmg[c->ndmg - 1].repaired = true;
			rewrite[i] = true;
		}
		if (r == 0) {
			if (!good++ && c->repair) {
				goodbuf = buf;
				buf = malloc(psize ? psize : 1);
				if (!buf) {
					buf = goodbuf;
					goodbuf = NULL;
				}
			}
		} else {
			c->st.checksum_errors++;
			last = r;
			note_damage(c, object, level, blkid, r, false, bp);
			rewrite[i] = true;
		}
	}
	/* Every copy holds the same bytes: a good one mends the others. A
	 * gang DVA's bytes are elsewhere, behind its header: left alone. */
	for (int i = 0; goodbuf && i < ndva; i++) {
		const dva_t *d = &bp->blk_dva[i];
		vdev_t *top;
		if (!rewrite[i] || dva_is_gang(d) || !(top = spa_lookup_top(c->spa, dva_vdev(d))))
			continue;
		if (vdev_write(top, dva_offset(d), goodbuf, psize) == 0)
			c->st.rewritten++;
		else
			spa_log(c->spa, ZFUSE_LOG_WARN, "scrub: cannot write a good copy over the bad one at %"
				PRIu64 ":%" PRIx64, dva_vdev(d), dva_offset(d));
	}
	free(goodbuf);
	free(buf);
	if (!good) {
		c->st.unrecoverable++;
		if (c->ndmg)
			c->dmg[c->ndmg - 1].unrecoverable = true;
		(void)last;
	}
	if (good)
		check_macs(c, bp, object, level, blkid);
	if (c->lo && c->lo->on_damage && !good)
		c->lo->on_damage(c->lo->arg, c->dataset, object, level, blkid, last);
	c->st.psize += psize;
	if (c->progress && c->st.psize - c->last_progress > (c->live ? (1ULL << 20) : (8ULL << 20))) {
		c->last_progress = c->st.psize;
		c->progress(c->progress_arg, c->st.psize, c->total_estimate);
	}
	return good > 0;
}

/* The MACs of a block of an encrypted objset (one good copy read): an
 * indirect block's checksum of its children's MACs needs no key; a
 * level-0 block's MAC is checked only with the dataset's key. */
static void check_macs(struct vctx *c, const blkptr_t *bp, uint64_t object, int level, uint64_t blkid)
{
	if (!bp_uses_crypt(bp) || bp_get_type(bp) == DMU_OT_OBJSET)
		return;
	if (bp_get_level(bp) == 0 && !c->key) {
		c->st.mac_unchecked++;
		return;
	}
	uint64_t lsize = bp_get_lsize(bp);
	uint8_t *out = malloc(lsize);
	if (!out)
		return;
	int rc = zio_read_key(c->spa, bp, bp_get_level(bp) ? NULL : c->key, out);
	explicit_bzero(out, lsize);
	free(out);
	if (rc == -ZFUSE_E_UNSUPPORTED) {
		c->st.mac_unchecked++;	/* an encrypted intent-log block */
	} else if (rc == -ZFUSE_E_AUTH) {
		c->st.mac_errors++;
		note_damage(c, object, level, blkid, rc, true, bp);
	}
}

/* Account a bp; returns true when it is new and its contents are wanted. */
static bool canceled(const struct vctx *c)
{
	return c->lo && c->lo->cancel && __atomic_load_n(c->lo->cancel, __ATOMIC_RELAXED);
}

/* Let the sync and writers of a pool in use take the lock now and then:
 * everything the walk holds across this point is its own copy. The lock
 * comes back only between syncs: the dataset bps read from the MOS in
 * memory must point at blocks already written. */
static void yield_lock(struct vctx *c)
{
	if (!c->live || ++c->since_yield < 64)
		return;
	c->since_yield = 0;
	spa_exit(c->spa);
	txg_enter_synced(c->spa);
}

static bool visit(struct vctx *c, const blkptr_t *bp, uint64_t object, int level, uint64_t blkid)
{
	if (canceled(c))
		return false;
	yield_lock(c);
	/* Every block belongs to the dataset of its birth: the snapshot (or
	 * origin) before this dataset owns older ones, as zdb counts them. */
	if (bp->blk_birth <= c->min_txg && c->min_txg)
		return false;
	if (bp_is_embedded(bp)) {
		/* Counted like zdb's "bp count" / "bp logical" do. */
		c->st.embedded++;
		c->st.blocks++;
		c->st.lsize += bp_get_lsize(bp);
		c->by_type[bp_get_type(bp)].count++;
		c->by_type[bp_get_type(bp)].lsize += bp_get_lsize(bp);
		return false;
	}
	if (bp_is_hole(bp)) {
		c->st.holes++;
		return false;
	}
	if (!set_insert(c, dva_key(&bp->blk_dva[0])))
		return false;
	c->st.blocks++;
	c->st.lsize += bp_get_lsize(bp);
	unsigned t = bp_get_type(bp);
	c->by_type[t].count++;
	c->by_type[t].lsize += bp_get_lsize(bp);
	c->by_type[t].psize += bp_get_psize(bp);
	/* Encrypted bps carry salt and IV where DVA[2] would be. */
	int ndva = bp_is_encrypted(bp) ? 2 : SPA_DVAS_PER_BP;
	for (int i = 0; i < ndva; i++) {
		if (dva_is_gang(&bp->blk_dva[i]))
			c->st.gang++;
		account_dva(c, &bp->blk_dva[i]);
		c->by_type[t].asize += dva_asize(&bp->blk_dva[i]);
	}
	return check_copies(c, bp, object, level, blkid);
}

static void walk_tree(struct vctx *c, dnode_t *dn, const blkptr_t *bp, int level, uint64_t blkid);

static void walk_dnode(struct vctx *c, dnode_t *dn)
{
	for (int i = 0; i < dn->nblkptr; i++) {
		blkptr_t bp;
		dnode_blkptr(dn, i, &bp);
		walk_tree(c, dn, &bp, dn->nlevels - 1, (uint64_t)i);
	}
	blkptr_t spill;
	if (dnode_spill_bp(dn, &spill) == 0)
		visit(c, &spill, dn->object, 0, UINT64_MAX);
}

static void walk_dnode_block(struct vctx *c, objset_t *os, const arc_buf_t *b, uint64_t first_obj)
{
	uint64_t per = b->size >> DNODE_SHIFT;
	for (uint64_t i = 0; i < per;) {
		dnode_t dn;
		int r = dnode_decode(&dn, (const uint8_t *)b->data + i * DNODE_MIN_SIZE,
				     b->size - i * DNODE_MIN_SIZE);
		if (r) {
			i++;
			continue;
		}
		dn.os = os;
		dn.object = first_obj + i;
		dn.buf = NULL;
		walk_dnode(c, &dn);
		i += dn.extra_slots + 1;
	}
}

static void walk_tree(struct vctx *c, dnode_t *dn, const blkptr_t *bp, int level, uint64_t blkid)
{
	if (!visit(c, bp, dn->object, level, blkid))
		return;
	bool is_dnode_block = level == 0 && dn->object == 0 && bp_get_type(bp) == DMU_OT_DNODE;
	if (level == 0 && !is_dnode_block)
		return;
	arc_buf_t *b;
	bool raw = is_dnode_block && bp_get_compress(bp) == 2 && bp_get_lsize(bp) == bp_get_psize(bp);
	if (bp_is_encrypted(bp) && !raw) {
		if (!is_dnode_block)
			return;
		if (!c->key) {
			c->sealed_dnode_blocks++;
			return;
		}
		if (arc_read_key(c->spa, bp, c->key, &b) != 0)
			return;
	} else if (bp_is_encrypted(bp)) {
		/* Encrypted dnode blocks keep dnode cores and block pointers in
		 * clear (only bonus buffers are sealed) and are stored raw, so
		 * the tree below them can still be walked. */
		b = calloc(1, sizeof(*b));
		if (!b || !(b->data = malloc(bp_get_psize(bp)))) {
			free(b);
			return;
		}
		b->size = bp_get_psize(bp);
		b->refcount = 1;
		if (zio_read_phys(c->spa, bp, b->data, -1) != 0) {
			arc_release(c->spa, b);
			return;
		}
	} else if (arc_read(c->spa, bp, &b) != 0) {
		return;
	}
	if (is_dnode_block) {
		walk_dnode_block(c, dn->os, b, blkid * (b->size >> DNODE_SHIFT));
	} else {
		unsigned epbs = dn->indblkshift - 7;
		for (uint64_t i = 0; i < (1ULL << epbs) && (i + 1) * 128 <= b->size; i++) {
			blkptr_t child;
			bp_load(&child, (uint8_t *)b->data + i * 128);
			walk_tree(c, dn, &child, level - 1, (blkid << epbs) + i);
		}
	}
	arc_release(c->spa, b);
}

/* A log block, or an indirect write's data block, counted as allocated. */
static void zil_count(struct vctx *c, const blkptr_t *bp)
{
	if (bp_is_hole(bp) || bp_is_embedded(bp) || !set_insert(c, dva_key(&bp->blk_dva[0])))
		return;
	c->st.blocks++;
	c->st.lsize += bp_get_lsize(bp);
	c->st.psize += bp_get_psize(bp);
	for (int i = 0; i < bp_count_dvas_max(bp); i++)
		account_dva(c, &bp->blk_dva[i]);
}

struct zil_vctx {
	struct vctx *c;
	uint64_t claim_txg;
};

/* Unclaimed: allocated up to the first block born after the synced txg.
 * Claimed: every visited block, whether or not it was ever written (the
 * chain's last bp is the pre-allocated, usually unwritten, next block). */
static int zil_verify_blk(void *arg, const blkptr_t *bp)
{
	struct zil_vctx *z = arg;
	if (!z->claim_txg && bp->blk_birth > z->c->spa->ub.ub_txg) {
		spa_log(z->c->spa, ZFUSE_LOG_DEBUG, "intent log of %s: block born after txg %llu",
			z->c->dataset, (unsigned long long)z->c->spa->ub.ub_txg);
		return 1;	/* never recorded as allocated */
	}
	zil_count(z->c, bp);
	return 0;
}

/* Claimed indirect writes hold their data blocks too. */
static int zil_verify_rec(void *arg, const uint8_t *lr)
{
	struct zil_vctx *z = arg;
	if (!z->claim_txg || (le64(lr) & ~TX_CI) != TX_WRITE || le64(lr + 8) != LR_WRITE_SIZE)
		return 0;
	blkptr_t bp;
	bp_load(&bp, lr + 64);
	if (bp.blk_birth >= z->claim_txg)
		zil_count(z->c, &bp);
	return 0;
}

static void walk_zil(struct vctx *c, objset_t *os)
{
	zil_header_t zh;
	zil_header_get(os, &zh);
	if (bp_is_embedded(&zh.log))
		return;
	struct zil_vctx z = { c, zh.claim_txg };
	struct zil_parse_end end;
	zil_parse(c->spa, &zh, zil_verify_blk, zil_verify_rec, &z, &end);
}

static void walk_objset(struct vctx *c, const blkptr_t *bp)
{
	if (!visit(c, bp, 0, -1, 0))
		return;
	objset_t *os;
	if (objset_open(c->spa, bp, &os) != 0)
		return;
	if (c->key && zio_crypt_verify_objset(c->key, os->phys, os->phys_size) != 0) {
		c->st.mac_errors++;
		note_damage(c, 0, -1, 0, SET_ERROR(-ZFUSE_E_AUTH), false, bp);
	}
	dnode_t *mdn = &os->meta_dnode;
	mdn->object = 0;
	walk_dnode(c, mdn);
	/* user/group/project-used special dnodes live in the objset block */
	for (int off = 1024; off <= 2048; off += 512) {
		dnode_t sdn;
		if (dnode_decode(&sdn, os->phys + off, DNODE_MIN_SIZE) == 0) {
			sdn.os = os;
			sdn.object = (uint64_t)-(int64_t)((off - 512) / 512);
			sdn.buf = NULL;
			walk_dnode(c, &sdn);
		}
	}
	walk_zil(c, os);
	objset_close(os);
}

/* Blocks listed in a bpobj that nothing else references: pending frees. */
static void walk_bpobj(struct vctx *c, uint64_t obj, int depth)
{
	dnode_t dn;
	if (depth > 8 || dnode_hold(c->spa->mos, obj, &dn) != 0)
		return;
	uint64_t blen;
	const uint8_t *b = dnode_bonus(&dn, &blen);
	uint64_t n = blen >= 8 ? le64(b) : 0;
	uint64_t subobjs = blen >= 48 ? le64(b + 32) : 0, nsub = blen >= 48 ? le64(b + 40) : 0;
	for (uint64_t i = 0; i < n && i < (1ULL << 30); i++) {
		uint8_t raw[128];
		blkptr_t bp;
		if (dmu_read(&dn, i * 128, 128, raw) != 0)
			break;
		bp_load(&bp, raw);
		if (bp_is_embedded(&bp) || bp_is_hole(&bp))
			continue;
		/* Pending frees are still allocated; zdb counts them as blocks. */
		if (set_insert(c, dva_key(&bp.blk_dva[0]))) {
			c->st.blocks++;
			c->st.lsize += bp_get_lsize(&bp);
			c->st.psize += bp_get_psize(&bp);
			for (int k = 0; k < bp_count_dvas_max(&bp); k++)
				account_dva(c, &bp.blk_dva[k]);
		}
	}
	dnode_rele(&dn);
	if (subobjs && nsub < (1 << 20)) {
		dnode_t sd;
		if (dnode_hold(c->spa->mos, subobjs, &sd) == 0) {
			for (uint64_t i = 0; i < nsub; i++) {
				uint64_t child;
				if (dmu_read(&sd, i * 8, 8, &child) != 0)
					break;
				walk_bpobj(c, child, depth + 1);
			}
			dnode_rele(&sd);
		}
	}
}

/* A dataset of the MOS, copied out of its dnode so that the walk holds no
 * MOS buffer while it yields the lock (verify_live). */
struct ds_entry {
	uint64_t obj, dirobj, next_snap, prev_snap_txg;
	blkptr_t bp;
};

static void walk_dataset(struct vctx *c, const struct ds_entry *e)
{
	char name[256];
	if (dsl_dataset_name(c->spa, e->obj, name, sizeof(name)) == 0) {
		/* named as the user knows it: "pool/fs" or "pool/fs@snap" */
	} else if (dsl_dir_name(c->spa, e->dirobj, name, sizeof(name)) != 0) {
		snprintf(name, sizeof(name), "dataset %" PRIu64, e->obj);
	} else if (e->next_snap) {
		size_t l = strlen(name);
		snprintf(name + l, sizeof(name) - l, "@(object %" PRIu64 ")", e->obj);
	}
	const char *saved = c->dataset;
	c->dataset = name;
	c->min_txg = e->prev_snap_txg;
	c->key = NULL;
	if (dsl_dir_is_encrypted(c->spa, e->dirobj) &&
	    dsl_crypt_key_hold(c->spa, e->dirobj, &c->key) != 0)
		c->key = NULL;
	walk_objset(c, &e->bp);
	dsl_crypt_key_rele(c->spa, c->key);
	c->key = NULL;
	c->min_txg = 0;
	c->dataset = saved;
}

/* Visit every dsl_dataset of the MOS (heads, snapshots, clones). */
static void walk_datasets(struct vctx *c)
{
	for (uint64_t blk = 0; !canceled(c); blk++) {
		dnode_t *mdn = &c->spa->mos->meta_dnode;
		if (blk > mdn->maxblkid)
			break;
		uint64_t per = dnode_datablksz(mdn) >> DNODE_SHIFT;
		arc_buf_t *b;
		if (dbuf_hold(mdn, 0, blk, &b) != 0)
			continue;
		struct ds_entry *v = calloc(per ? per : 1, sizeof(*v));
		size_t n = 0;
		for (uint64_t i = 0; v && i < per;) {
			dnode_t dn;
			if (dnode_decode(&dn, (uint8_t *)b->data + i * 512, b->size - i * 512) != 0) {
				i++;
				continue;
			}
			uint64_t blen;
			const uint8_t *bonus = dnode_bonus(&dn, &blen);
			if (dn.bonustype == DMU_OT_DSL_DATASET && blen >= 256) {
				struct ds_entry *e = &v[n];
				bp_load(&e->bp, bonus + 128);
				e->obj = blk * per + i;
				e->dirobj = le64(bonus);
				e->prev_snap_txg = le64(bonus + 16);
				e->next_snap = le64(bonus + 24);
				if (!bp_is_hole(&e->bp))
					n++;
			}
			i += dn.extra_slots + 1;
		}
		dbuf_rele(mdn, b);
		for (size_t i = 0; i < n && !canceled(c); i++)
			walk_dataset(c, &v[i]);
		free(v);
	}
}

static void object_path(spa_t *spa, const char *dataset, uint64_t obj, char *out, size_t cap)
{
	out[0] = 0;
	zfuse_fs_t *fs;
	if (strchr(dataset, '(') || zfuse_fs_open((zfuse_pool_t *)spa, dataset, &fs) != 0)
		return;
	zfuse_object_path(fs, obj, out, cap);
	zfuse_fs_close(fs);
}

/* Allocated bytes per the space maps; *ok false when one cannot be read. */
static int64_t space_maps_allocated(spa_t *spa, bool *ok)
{
	int64_t allocated = 0;
	*ok = true;
	for (uint64_t i = 0; i < spa->root->nchild; i++) {
		vdev_t *top = spa->root->child[i];
		struct metaslab_space *ms;
		uint64_t n;
		if (!top->metaslab_array)
			continue;
		if (space_map_vdev(spa, top, &ms, &n) != 0) {
			*ok = false;
			continue;
		}
		for (uint64_t k = 0; k < n; k++)
			allocated += ms[k].alloc;
		free(ms);
	}
	return allocated;
}

int zfuse_verify(zfuse_pool_t *pool, const struct zfuse_inspect_opts *o, zfuse_progress_fn progress,
		 void *progress_arg, struct zfuse_verify_stats *stats)
{
	spa_t *spa = (spa_t *)pool;
	static struct vctx zero;
	struct vctx c = zero;
	c.spa = spa;
	c.progress = progress;
	c.progress_arg = progress_arg;
	/* Space maps first: their total is both the progress estimate and
	 * the figure the traversal must account for. */
	bool space_ok;
	int64_t allocated = space_maps_allocated(spa, &space_ok);
	c.total_estimate = allocated > 0 ? (uint64_t)allocated : 0;
	c.dataset = "mos";
	walk_objset(&c, &spa->ub.ub_rootbp);
	walk_datasets(&c);
	dnode_t dir;
	if (dnode_hold(spa->mos, 1, &dir) == 0) {
		uint64_t obj = 0;
		if (zap_lookup_uint64(&dir, "sync_bplist", &obj) == 0 && obj)
			walk_bpobj(&c, obj, 0);
		obj = 0;
		if (zap_lookup_uint64(&dir, "free_bpobj", &obj) == 0 && obj)
			walk_bpobj(&c, obj, 0);
		dnode_rele(&dir);
	}
	c.st.space_allocated = allocated > 0 ? (uint64_t)allocated : 0;
	c.st.space_referenced = c.st.asize;
	c.st.space_leaked = allocated - (int64_t)c.st.asize;
	/* Space below sealed dnode blocks is allocated but was not walked:
	 * the comparison says nothing then, and is reported as not made. */
	bool sealed = c.sealed_dnode_blocks > 0;
	c.st.space_checked = space_ok && !sealed;
	if (progress)
		progress(progress_arg, c.st.psize, c.total_estimate);

	emitter_t em;
	em_init(&em, o && o->out ? o->out : stdout, o && o->json);
	em_obj_begin(&em, NULL);
	em_str(&em, "pool", spa->name);
	em_u64(&em, "txg", spa->ub.ub_txg);
	em_u64(&em, "blocks", c.st.blocks);
	em_u64(&em, "copies_checked", c.st.copies_checked);
	em_u64(&em, "lsize", c.st.lsize);
	em_u64(&em, "psize", c.st.psize);
	em_u64(&em, "asize", c.st.asize);
	em_u64(&em, "embedded", c.st.embedded);
	em_u64(&em, "gang", c.st.gang);
	em_u64(&em, "checksum_errors", c.st.checksum_errors);
	em_u64(&em, "unrecoverable", c.st.unrecoverable);
	em_u64(&em, "repaired", c.st.repaired);
	em_u64(&em, "mac_errors", c.st.mac_errors);
	em_u64(&em, "mac_unchecked", c.st.mac_unchecked);
	if (c.st.mac_unchecked)
		em_str(&em, "mac_note", "encrypted blocks without a loaded key: only the checksums "
		       "of their ciphertext were checked (load keys with --key)");
	em_arr_begin(&em, "devices");
	for (size_t i = 0; i < spa->ndevs; i++) {
		em_obj_begin(&em, NULL);
		em_str(&em, "path", spa->devs[i]->path);
		em_u64(&em, "checksum_errors", spa->devs[i]->checksum_errors);
		em_obj_end(&em);
	}
	em_arr_end(&em);
	if (sealed) {
		em_u64(&em, "unchecked_without_key", c.sealed_dnode_blocks);
		em_str(&em, "unchecked_note", "encrypted dnode blocks that only the key opens: the "
		       "objects below them and the pool's space accounting were not checked "
		       "(load keys with --key)");
	}
	em_bool(&em, "space_checked", c.st.space_checked);
	em_u64(&em, "space_allocated", c.st.space_allocated);
	em_u64(&em, "space_referenced", c.st.space_referenced);
	em_i64(&em, "space_leaked", c.st.space_leaked);
	if (o && o->verbosity > 0) {
		em_arr_begin(&em, "types");
		for (int t = 0; t < 256; t++) {
			if (!c.by_type[t].count)
				continue;
			em_obj_begin(&em, NULL);
			em_str(&em, "type", dmu_ot_name((unsigned)t));
			em_u64(&em, "count", c.by_type[t].count);
			em_u64(&em, "lsize", c.by_type[t].lsize);
			em_u64(&em, "psize", c.by_type[t].psize);
			em_u64(&em, "asize", c.by_type[t].asize);
			em_obj_end(&em);
		}
		em_arr_end(&em);
	}
	uint64_t overlaps = find_overlaps(&c, &em);
	em_u64(&em, "double_allocated_count", overlaps);
	em_arr_begin(&em, "damage");
	for (size_t i = 0; i < c.ndmg; i++) {
		struct damage *d = &c.dmg[i];
		char path[4096];
		object_path(spa, d->dataset, d->object, path, sizeof(path));
		em_obj_begin(&em, NULL);
		em_str(&em, "dataset", d->dataset);
		em_u64(&em, "object", d->object);
		em_i64(&em, "level", d->level);
		em_i64(&em, "blkid", (int64_t)d->blkid);
		if (path[0])
			em_str(&em, "path", path);
		em_str(&em, "error", zfuse_strerror(d->err));
		em_bool(&em, "unrecoverable", d->unrecoverable);
		em_bool(&em, "repaired", d->repaired);
		em_str(&em, "bp", d->bp);
		em_obj_end(&em);
	}
	em_arr_end(&em);
	em_obj_end(&em);
	em_finish(&em);
	if (stats)
		*stats = c.st;
	free(c.set);
	free(c.dmg);
	free(c.ext);
	/* Leaks are only meaningful where every tree was walked; space found
	 * twice, or more referenced than allocated, is damage either way. */
	bool bad = c.st.checksum_errors || c.st.unrecoverable || c.st.repaired || !space_ok ||
		   c.st.mac_errors || (sealed ? c.st.space_leaked < 0 : c.st.space_leaked != 0) ||
		   overlaps != 0;
	return bad ? SET_ERROR(-ZFUSE_E_CHECKSUM) : 0;
}

int verify_live(spa_t *spa, const struct verify_live_opts *o, struct zfuse_verify_stats *stats)
{
	static struct vctx zero;
	struct vctx c = zero;
	c.spa = spa;
	c.live = true;
	c.repair = o->repair && spa->writable;
	c.lo = o;
	c.progress = o->progress;
	c.progress_arg = o->arg;
	txg_enter_synced(spa);
	bool ok;
	int64_t allocated = space_maps_allocated(spa, &ok);
	c.total_estimate = allocated > 0 ? (uint64_t)allocated : 0;
	blkptr_t root = spa->ub.ub_rootbp;
	c.dataset = "mos";
	walk_objset(&c, &root);
	walk_datasets(&c);
	spa_exit(spa);
	if (c.st.rewritten)
		vdev_flush(spa->root);
	if (c.progress)
		c.progress(c.progress_arg, c.st.psize, c.total_estimate);
	*stats = c.st;
	free(c.set);
	free(c.dmg);
	free(c.ext);
	return c.st.checksum_errors || c.st.unrecoverable || c.st.repaired ? SET_ERROR(-ZFUSE_E_CHECKSUM) : 0;
}
