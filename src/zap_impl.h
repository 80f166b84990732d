/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zap_impl.h — private to the ZAP code (zap.c on top of zap_micro.c,
 * zap_fat.c and zap_leaf.c) and its tests: what those files hand each other.
 *
 * The writer edits a ZAP object's blocks through a zap_store: five calls
 * that read, write and free byte ranges of one object and change its block
 * size. The public write API (zap.h) runs on a store built on dmu_tx.h; the
 * unit test runs the same code on an in-memory store, so the block-level
 * logic (micro growth, upgrade, leaf splits, pointer-table growth, shrink)
 * is testable without the write engine.
 */
#ifndef ZFUSE_ZAP_IMPL_H
#define ZFUSE_ZAP_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "zap.h"

struct zap_store_ops {
	/* Object type and data block size. */
	int (*stat)(void *ctx, uint64_t obj, unsigned *type, uint64_t *blksz);
	/* Reads beyond the object's data or in holes give zeros. */
	int (*read)(void *ctx, uint64_t obj, uint64_t off, uint64_t len, void *buf);
	int (*write)(void *ctx, uint64_t obj, uint64_t off, uint64_t len, const void *buf);
	/* Allowed while the object has only block 0; its contents are kept. */
	int (*set_blocksize)(void *ctx, uint64_t obj, uint64_t blksz);
	/* Whole blocks in the range become holes. */
	int (*free_range)(void *ctx, uint64_t obj, uint64_t off, uint64_t len);
};

typedef struct zap_store {
	const struct zap_store_ops *ops;
	void *ctx;
} zap_store_t;

#define ZAP_DEFAULT_LEAF_SHIFT 14	/* fzap_default_block_shift */
#define MZAP_MAX_BLKSZ (128 * 1024)	/* micro ZAPs upgrade beyond this */

/*
 * Turn object obj (of a ZAP type, data block size set by the caller) into
 * an empty ZAP: micro when zapflags is 0, fat (block size = the object's)
 * otherwise. salt 0 draws a random odd salt.
 */
int zapw_init(zap_store_t *st, uint64_t obj, uint64_t normflags, uint64_t zapflags, uint64_t salt);

/* Add (update false: ZFUSE_E_EXIST if present) or add-or-replace. */
int zapw_put(zap_store_t *st, uint64_t obj, const char *name, unsigned intlen, uint64_t numints,
	     const void *val, bool update);

/* Remove name; normalized: match after the ZAP's normalization and return
 * the stored name in removed (may be NULL). */
int zapw_remove(zap_store_t *st, uint64_t obj, const char *name, bool normalized, char *removed,
		size_t cap);

int zapw_count(zap_store_t *st, uint64_t obj, uint64_t *count);

/* ---- shared by the micro and fat halves --------------------------------- */

/* What an edit looks up: the exact name, or its normalized form. */
struct zkey {
	const char *name;
	size_t len;		/* strlen(name) */
	uint64_t hash;
	const char *norm;	/* normalized key for normalized matching, else NULL */
	uint64_t normflags;	/* the ZAP's, when norm is set */
};

/* A value as leaves store it. */
struct zval {
	unsigned intlen;
	uint64_t numints;
	const uint8_t *be;	/* intlen * numints bytes, big-endian */
};

#define ZAP_NEED_CD UINT32_MAX	/* add: pick the lowest unused cd */
/* Not done yet: the leaf must split (fat), or the ZAP become fat (micro),
 * before the change is tried again. */
#define ZAP_AGAIN 1

/* A reader's hit: the entry with its value in host order. */
struct zap_found {
	zap_entry_t ze;
	uint8_t val[ZAP_MAXVALUELEN];
};

/* One fat edit: the blocks it touched, written back by zw_flush. */
struct zblk {
	uint64_t id;
	uint8_t *data;
	bool dirty;
};

typedef struct zw {
	zap_store_t *st;
	uint64_t obj;
	unsigned type;
	unsigned bs;		/* block shift */
	zap_info_t info;	/* salt, normflags, flags, hashbits */
	struct zblk *blk;
	size_t nblk, capblk;
	uint64_t (*frees)[2];	/* (first block, count) */
	size_t nfrees, capfrees;
	uint8_t *hdr;		/* block 0, always blk[0] */
	int err;		/* sticky corruption found while editing */
} zw_t;

unsigned zap_log2_floor(uint64_t v);

/* Iteration order: by hash, then cd. */
static inline int zap_cursor_cmp(uint64_t h1, uint32_t cd1, uint64_t h2, uint32_t cd2)
{
	if (h1 != h2)
		return h1 < h2 ? -1 : 1;
	return cd1 < cd2 ? -1 : cd1 > cd2;
}

/* zap_micro.c */
void mzap_get_info(const uint8_t *m, zap_info_t *info);
int mzap_iterate(dnode_t *dn, const zap_info_t *info, uint64_t start_hash, uint32_t start_cd,
		 zap_iter_fn cb, void *arg);
/* The entry named exact, or (exact NULL) the least (hash, cd) of those
 * match accepts, in f; -ZFUSE_E_NOENT when none. */
int mzap_find_entry(dnode_t *dn, const zap_info_t *info, const char *exact,
		    bool (*match)(void *arg, const zap_entry_t *ze), void *arg, struct zap_found *f);
void mzap_format(uint8_t *m, uint64_t salt, uint64_t normflags);
/* 0 or an error when done; ZAP_AGAIN when the ZAP must become fat first
 * (*mp and *msize then describe the final micro block). */
int mzap_put(zap_store_t *st, uint64_t obj, uint8_t **mp, uint64_t *msize, const struct zkey *k,
	     unsigned intlen, uint64_t numints, const void *val, bool update);
int mzap_upgrade(zw_t *z, zap_store_t *st, uint64_t obj, unsigned type, const uint8_t *m,
		 uint64_t msize, uint64_t flags, unsigned bs);
/* Remove k (the lowest-cd match when k->norm) and write the block back. */
int mzap_remove(zap_store_t *st, uint64_t obj, uint8_t *m, uint64_t msize,
		const zap_info_t *info, const struct zkey *k, char *removed, size_t cap);
uint64_t mzap_count(const uint8_t *m, uint64_t msize);

/* zap_fat.c: reading. fzap_get_info checks the header against the block
 * size (size bytes, info->block_shift set by the caller). */
int fzap_get_info(const uint8_t *hdr, uint64_t size, zap_info_t *info);
int fzap_lookup_hash(dnode_t *dn, const zap_info_t *info, uint64_t h,
		     bool (*match)(void *, const zap_entry_t *), void *marg, struct zap_found *f);
int fzap_iterate(dnode_t *dn, const zap_info_t *info, uint64_t h, uint32_t cd, zap_iter_fn cb,
		 void *arg);
/* zap_fat.c: editing. An edit sets up z (zw_setup for a new ZAP, fzap_open
 * for one on disk), changes cached blocks, then zw_flush writes them. */
void zw_setup(zw_t *z, zap_store_t *st, uint64_t obj, unsigned type, unsigned bs, uint64_t salt,
	      uint64_t normflags, uint64_t flags);
void zw_fini(zw_t *z);
int zw_flush(zw_t *z);
/* Block 0 and leaf 1 of an empty fat ZAP in z's blocks. */
int fzap_format(zw_t *z);
int fzap_open(zw_t *z, zap_store_t *st, uint64_t obj, unsigned type, uint64_t blksz);
int fzap_count(const uint8_t *hdr, uint64_t *count);
int fzap_add_cd(zw_t *z, const struct zkey *k, const struct zval *v, uint32_t cd);
int fzap_update(zw_t *z, const struct zkey *k, const struct zval *v);
int fzap_remove(zw_t *z, const struct zkey *k, char *removed, size_t cap);

/* A store on the DMU write API (dmu_tx.h) for one transaction. */
struct objset;
struct dmu_tx;
struct zap_dmu_ctx {
	struct objset *os;
	struct dmu_tx *tx;
};
void zap_store_dmu(zap_store_t *st, struct zap_dmu_ctx *ctx, struct objset *os, struct dmu_tx *tx);

/* Byteswap of a fat-ZAP block: a leaf (zap_leaf_byteswap) or a block of
 * uint64s (the header with its embedded pointer table, or a table block). */
void fzap_byteswap(void *buf, size_t size);

#endif
