/*
 * zap_impl.h — private to the ZAP writer (zap_write.c) and its tests.
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

/* A store on the DMU write API (dmu_tx.h) for one transaction. */
struct objset;
struct dmu_tx;
struct zap_dmu_ctx {
	struct objset *os;
	struct dmu_tx *tx;
};
void zap_store_dmu(zap_store_t *st, struct zap_dmu_ctx *ctx, struct objset *os, struct dmu_tx *tx);

#endif
