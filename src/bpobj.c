/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * bpobj.c — block-pointer lists (object-layer.md §6.7): a packed array of
 * normalized blkptr_t with a header that sums their space, and a list of
 * subobjs whose space the header includes. Whole lists move between
 * owners by reference (enqueue as a subobj), never by copying blocks, so
 * merging deadlists costs a few MOS words.
 *
 * The shared empty bpobj (feature empty_bpobj) stands for any empty list
 * and is reference-counted through the feature's refcount: it is never
 * written, never freed, and enqueueing or freeing it drops a reference.
 */
#include <stdlib.h>
#include <string.h>
#include "bpobj.h"
#include "byteorder.h"
#include "dmu_types.h"
#include "dnode.h"
#include "dsl.h"
#include "spa_impl.h"
#include "zap.h"
#include "zfeature_write.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define DMU_OT_BPOBJ_SUBOBJ 53
#define BP_CHUNK 256

struct bpobj_hdr {
	uint64_t num, bytes, comp, uncomp, subobjs, num_subobjs;
	uint64_t len;
};

int bpobj_alloc(spa_t *spa, uint64_t blocksize, dmu_tx_t *tx, uint64_t *obj)
{
	return dmu_object_alloc(spa->mos, DMU_OT_BPOBJ, blocksize, DMU_OT_BPOBJ_HDR, BPOBJ_SIZE_V2,
				0, tx, obj);
}

int bpobj_alloc_empty(spa_t *spa, dmu_tx_t *tx, uint64_t *obj)
{
	if (!spa_feature_is_enabled(spa, "empty_bpobj"))
		return bpobj_alloc(spa, SPA_OLD_MAXBLOCKSIZE, tx, obj);
	uint64_t shared = 0;
	int rc;
	if (!spa_feature_is_active(spa, "empty_bpobj")) {
		rc = bpobj_alloc(spa, SPA_OLD_MAXBLOCKSIZE, tx, &shared);
		if (rc == 0)
			rc = zap_add_uint64(spa->mos, 1, "empty_bpobj", shared, tx);
	} else {
		dnode_t dir;
		rc = dnode_hold(spa->mos, 1, &dir);
		if (rc == 0) {
			rc = zap_lookup_uint64(&dir, "empty_bpobj", &shared);
			dnode_rele(&dir);
		}
	}
	if (rc == 0)
		rc = spa_feature_incr(spa, "empty_bpobj", tx);
	if (rc == 0)
		*obj = shared;
	return rc;
}

static int hdr_read(spa_t *spa, uint64_t obj, struct bpobj_hdr *h)
{
	dnode_t dn;
	int rc = dnode_hold(spa->mos, obj, &dn);
	if (rc)
		return rc;
	memset(h, 0, sizeof(*h));
	const uint8_t *b = dnode_bonus(&dn, &h->len);
	if (h->len < 16) {
		dnode_rele(&dn);
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	}
	h->num = le64(b + BPOBJ_OFF_NUM);
	h->bytes = le64(b + BPOBJ_OFF_BYTES);
	if (h->len >= 32) {
		h->comp = le64(b + BPOBJ_OFF_COMP);
		h->uncomp = le64(b + BPOBJ_OFF_UNCOMP);
	}
	if (h->len >= 48) {
		h->subobjs = le64(b + BPOBJ_OFF_SUBOBJS);
		h->num_subobjs = le64(b + BPOBJ_OFF_NUM_SUBOBJS);
	}
	dnode_rele(&dn);
	return 0;
}

bool bpobj_is_shared_empty(spa_t *spa, uint64_t obj)
{
	uint64_t empty = 0;
	dnode_t dir;
	if (dnode_hold(spa->mos, 1, &dir) == 0) {
		zap_lookup_uint64(&dir, "empty_bpobj", &empty);
		dnode_rele(&dir);
	}
	return empty && obj == empty;
}

int bpobj_space(spa_t *spa, uint64_t obj, struct bpobj_space *out)
{
	struct bpobj_hdr h;
	int rc = hdr_read(spa, obj, &h);
	if (rc == 0)
		*out = (struct bpobj_space){ h.bytes, h.comp, h.uncomp };
	return rc;
}

static int iterate(spa_t *spa, uint64_t obj, int (*cb)(void *, const blkptr_t *), void *arg,
		   int depth)
{
	if (depth > 64)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	struct bpobj_hdr h;
	int rc = hdr_read(spa, obj, &h);
	if (rc)
		return rc;
	uint8_t *buf = malloc(BP_CHUNK * sizeof(blkptr_t));
	if (!buf)
		return SET_ERROR(-ZFUSE_E_NOMEM);
	for (uint64_t i = 0; rc == 0 && i < h.num; i += BP_CHUNK) {
		uint64_t n = h.num - i < BP_CHUNK ? h.num - i : BP_CHUNK;
		rc = dmu_read_object(spa->mos, obj, i * sizeof(blkptr_t), n * sizeof(blkptr_t), buf);
		for (uint64_t j = 0; rc == 0 && j < n; j++) {
			blkptr_t bp;
			bp_load(&bp, buf + j * sizeof(blkptr_t));
			rc = cb(arg, &bp);
		}
	}
	free(buf);
	for (uint64_t i = 0; rc == 0 && i < h.num_subobjs; i++) {
		uint8_t raw[8];
		rc = dmu_read_object(spa->mos, h.subobjs, i * 8, 8, raw);
		if (rc == 0)
			rc = iterate(spa, le64(raw), cb, arg, depth + 1);
	}
	return rc;
}

int bpobj_iterate(spa_t *spa, uint64_t obj, int (*cb)(void *, const blkptr_t *), void *arg)
{
	return iterate(spa, obj, cb, arg, 0);
}

static int hdr_add(spa_t *spa, uint64_t obj, unsigned off, int64_t delta, dmu_tx_t *tx)
{
	uint64_t v;
	int rc = dsl_phys_get(spa, obj, off, &v);
	return rc ? rc : dsl_phys_set(spa, obj, off, v + (uint64_t)delta, tx);
}

int bpobj_enqueue_subobj(spa_t *spa, uint64_t obj, uint64_t sub, dmu_tx_t *tx)
{
	if (bpobj_is_shared_empty(spa, sub))
		return spa_feature_decr(spa, "empty_bpobj", tx);
	struct bpobj_hdr h, sh;
	int rc = hdr_read(spa, obj, &h);
	if (rc == 0)
		rc = hdr_read(spa, sub, &sh);
	if (rc)
		return rc;
	if (sh.num == 0 && sh.num_subobjs == 0)
		return bpobj_free(spa, sub, tx);	/* no point in an empty subobj */
	if (h.len < 48)
		return SET_ERROR(-ZFUSE_E_UNSUPPORTED);	/* a v0/v1 bpobj has no subobjs */
	if (h.subobjs == 0) {
		rc = dmu_object_alloc(spa->mos, DMU_OT_BPOBJ_SUBOBJ, SPA_OLD_MAXBLOCKSIZE, DMU_OT_NONE,
				      0, 0, tx, &h.subobjs);
		if (rc == 0)
			rc = dsl_phys_set(spa, obj, BPOBJ_OFF_SUBOBJS, h.subobjs, tx);
		if (rc)
			return rc;
	}
	uint8_t raw[8];
	put_le64(raw, sub);
	rc = dmu_write(spa->mos, h.subobjs, h.num_subobjs * 8, 8, raw, tx);
	if (rc == 0)
		rc = dsl_phys_set(spa, obj, BPOBJ_OFF_NUM_SUBOBJS, h.num_subobjs + 1, tx);
	if (rc == 0)
		rc = hdr_add(spa, obj, BPOBJ_OFF_BYTES, (int64_t)sh.bytes, tx);
	if (rc == 0)
		rc = hdr_add(spa, obj, BPOBJ_OFF_COMP, (int64_t)sh.comp, tx);
	if (rc == 0)
		rc = hdr_add(spa, obj, BPOBJ_OFF_UNCOMP, (int64_t)sh.uncomp, tx);
	return rc;
}

static int free_obj(spa_t *spa, uint64_t obj, dmu_tx_t *tx, int depth)
{
	if (bpobj_is_shared_empty(spa, obj))
		return spa_feature_decr(spa, "empty_bpobj", tx);
	if (depth > 64)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	struct bpobj_hdr h;
	int rc = hdr_read(spa, obj, &h);
	for (uint64_t i = 0; rc == 0 && i < h.num_subobjs; i++) {
		uint8_t raw[8];
		rc = dmu_read_object(spa->mos, h.subobjs, i * 8, 8, raw);
		if (rc == 0)
			rc = free_obj(spa, le64(raw), tx, depth + 1);
	}
	if (rc == 0 && h.subobjs)
		rc = dmu_object_free(spa->mos, h.subobjs, tx);
	return rc ? rc : dmu_object_free(spa->mos, obj, tx);
}

int bpobj_free(spa_t *spa, uint64_t obj, dmu_tx_t *tx)
{
	return free_obj(spa, obj, tx, 0);
}
