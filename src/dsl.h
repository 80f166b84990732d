/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dsl.h — the dataset and snapshot layer, read side: dsl_dir and
 * dsl_dataset objects in the MOS, name resolution ("pool/a/b@snap"),
 * properties with inheritance, and the walk over every dataset
 * (object-layer.md §6).
 */
#ifndef ZFUSE_DSL_H
#define ZFUSE_DSL_H

#include <stdbool.h>
#include <stdint.h>
#include "blkptr.h"

struct spa;
struct zfuse_dataset_info;

typedef struct dsl_dir_phys {
	uint64_t creation_time, head_dataset_obj, parent_obj, origin_obj;
	uint64_t child_dir_zapobj, used_bytes, compressed_bytes, uncompressed_bytes;
	uint64_t quota, reserved, props_zapobj, deleg_zapobj, flags;
	uint64_t used_breakdown[5];
	uint64_t clones;
} dsl_dir_phys_t;

typedef struct dsl_dataset_phys {
	uint64_t dir_obj, prev_snap_obj, prev_snap_txg, next_snap_obj;
	uint64_t snapnames_zapobj, num_children, creation_time, creation_txg;
	uint64_t deadlist_obj, referenced_bytes, compressed_bytes, uncompressed_bytes;
	uint64_t unique_bytes, fsid_guid, guid, flags;
	blkptr_t bp;
	uint64_t next_clones_obj, props_obj, userrefs_obj;
} dsl_dataset_phys_t;

#define DS_FLAG_INCONSISTENT 0x1
#define DS_FLAG_CI_DATASET 0x10000

int dsl_dir_read(struct spa *spa, uint64_t obj, dsl_dir_phys_t *dd);
int dsl_dataset_read(struct spa *spa, uint64_t obj, dsl_dataset_phys_t *ds);

/* The child dirs of dd (its child_dir_zapobj), without the pool's own
 * $MOS, $FREE and $ORIGIN: *kids (the caller frees it) and *n. */
int dsl_dir_children(struct spa *spa, const dsl_dir_phys_t *dd, uint64_t **kids, size_t *n);

/* Whether a dsl_dir (a clone's) keeps a livelist (object-layer.md §6.9). */
bool dsl_dir_has_livelist(struct spa *spa, uint64_t dirobj);

/* Whether a dsl_dir holds an encrypted dataset (it has a crypto key obj). */
bool dsl_dir_is_encrypted(struct spa *spa, uint64_t dirobj);

/*
 * Resolve a full dataset name to its dsl_dataset object. "pool@snap"
 * and "pool/a@snap" name snapshots; *dirobj receives the dsl_dir.
 * Errors: ZFUSE_E_NOENT, ZFUSE_E_INVAL (malformed name).
 */
int dsl_dataset_lookup(struct spa *spa, const char *name, uint64_t *dsobj, uint64_t *dirobj,
		       bool *is_snapshot);

/*
 * Property of a dsl_dir, inherited from ancestors when not set locally.
 * String form: value copied to buf; numeric form: *value. *source_dir gets
 * the dir where it was found (NULL-able). Errors: ZFUSE_E_NOENT (unset
 * everywhere: use the default).
 */
int dsl_prop_get_string(struct spa *spa, uint64_t dirobj, const char *prop, bool inherit,
			char *buf, size_t cap, uint64_t *source_dir);
int dsl_prop_get_uint64(struct spa *spa, uint64_t dirobj, const char *prop, bool inherit,
			uint64_t *value, uint64_t *source_dir);

/* Effective mountpoint of dir dirobj named name, as OpenZFS computes it:
 * "/name" by default (*srcdir 0), an inherited one with the relative path
 * appended (*srcdir: the dir it was set on), "legacy"/"none" as such. */
void dsl_mountpoint(struct spa *spa, uint64_t dirobj, const char *name, char *out, size_t cap,
		    uint64_t *srcdir);

/* Bytes a head dataset may still write, as OpenZFS's dsl_dataset_space
 * reports them (`available`, statfs): its dir's space up to the pool's
 * size less slop and deferred frees, through quotas and reservations,
 * then refreservation and refquota (dsl_prop.c). */
uint64_t dsl_dataset_available(struct spa *spa, uint64_t dsobj);

/* dsl_pool_unreserved_space: the pool's size less slop space and the frees
 * deferred to the next txg — what the root dsl_dir's used (children's
 * reservations included) may reach (dsl_prop.c). */
uint64_t dsl_pool_unreserved_space(struct spa *spa);

/* A dataset found by name: its objects and its dsl_dataset_phys_t. */
struct dsl_dataset_ref {
	uint64_t dsobj, dirobj;
	bool snapshot;
	dsl_dataset_phys_t phys;
};

/* dsl_dataset_lookup + dsl_dataset_read. Errors as both. */
int dsl_dataset_find(struct spa *spa, const char *name, struct dsl_dataset_ref *ref);

/* zfuse_dataset_iter's walk without the lock and without copies: cb runs
 * while the walk reads the MOS, so the caller holds the pool lock or owns
 * the pool (import, inspect), and cb must not take the lock. */
int dsl_dataset_walk(struct spa *spa, int (*cb)(const struct zfuse_dataset_info *, void *),
		     void *arg);

/* Full name of a dsl_dir ("pool/a/b"). */
int dsl_dir_name(struct spa *spa, uint64_t dirobj, char *buf, size_t cap);
/* Full name of a dsl_dataset: its dir's, with "@snap" for a snapshot. */
int dsl_dataset_name(struct spa *spa, uint64_t dsobj, char *buf, size_t cap);

/* A field of a zapified dir or dataset (object-layer.md §6.6).
 * Errors: ZFUSE_E_NOENT (not zapified, or no such field). */
int dsl_zapified_lookup(struct spa *spa, uint64_t obj, const char *field, uint64_t *value);

/* ==== write side: creating DSL objects (dsl_create.c) ==================
 * All in the open txg of tx, in the MOS, following OpenZFS's
 * dsl_dir_create_sync / dsl_dataset_create_sync_dd /
 * dsl_pool_create_origin (object-layer.md §6, §7.5). Errors: DMU/ZAP
 * errors (dmu_tx.h). */

struct dmu_tx;

#define DD_FLAG_USED_BREAKDOWN 0x1
#define DS_FLAG_UNIQUE_ACCURATE 0x4
#define DSL_DIR_PHYS_SIZE 256
#define DSL_DATASET_PHYS_SIZE 320
#define DSL_DEADLIST_PHYS_SIZE 320
#define BPOBJ_SIZE_V2 48
#define SPA_OLD_MAXBLOCKSIZE (128ULL << 10)

/* Byte offsets of dsl_dir_phys_t / dsl_dataset_phys_t fields, for
 * read-modify-write of single fields with dsl_phys_set. */
#define DD_OFF_HEAD_DATASET_OBJ 8
#define DD_OFF_PARENT 16
#define DD_OFF_ORIGIN_OBJ 24
#define DD_OFF_CHILD_DIR_ZAPOBJ 32
#define DD_OFF_USED 40
#define DD_OFF_COMPRESSED 48
#define DD_OFF_UNCOMPRESSED 56
#define DD_OFF_QUOTA 64
#define DD_OFF_RESERVED 72
#define DD_OFF_PROPS_ZAPOBJ 80
#define DD_OFF_FLAGS 96
#define DD_OFF_BREAKDOWN 104
#define DD_OFF_CLONES 144
#define DS_OFF_REFERENCED 72
#define DS_OFF_COMPRESSED 80
#define DS_OFF_UNCOMPRESSED 88
#define DS_OFF_BP 128
/* dd_used_breakdown[] indexes (dd_used_t) */
#define DD_USED_HEAD 0
#define DD_USED_SNAP 1
#define DD_USED_CHILD 2
#define DD_USED_CHILD_RSRV 3
#define DD_USED_REFRSRV 4
#define DSL_DIR_MAX_DEPTH 256
/* bpobj_phys_t and dsl_deadlist_phys_t fields */
#define BPOBJ_OFF_NUM 0
#define BPOBJ_OFF_BYTES 8
#define BPOBJ_OFF_COMP 16
#define BPOBJ_OFF_UNCOMP 24
#define BPOBJ_OFF_SUBOBJS 32
#define BPOBJ_OFF_NUM_SUBOBJS 40
#define DL_OFF_USED 0
#define DL_OFF_COMP 8
#define DL_OFF_UNCOMP 16
#define BPOBJ_DEADLIST_BLKSZ (128ULL << 10)
#define DS_OFF_PREV_SNAP_OBJ 8
#define DS_OFF_PREV_SNAP_TXG 16
#define DS_OFF_NEXT_SNAP_OBJ 24
#define DS_OFF_NUM_CHILDREN 40
#define DS_OFF_DEADLIST_OBJ 64
#define DS_OFF_UNIQUE_BYTES 96
#define DS_OFF_FLAGS 120
#define DS_OFF_NEXT_CLONES_OBJ 256
#define DS_OFF_PROPS_OBJ 264

/* Set one uint64 of a MOS object's bonus buffer (the rest is kept). */
int dsl_phys_set(struct spa *spa, uint64_t obj, unsigned off, uint64_t value, struct dmu_tx *tx);

/* OpenZFS's random ids: 64-bit guids and non-zero 56-bit fsid guids. */
uint64_t dsl_random64(void);
uint64_t dsl_unique56(void);

/* One uint64 of a MOS object's bonus buffer. */
int dsl_phys_get(struct spa *spa, uint64_t obj, unsigned off, uint64_t *value);
/* Add integer key (in lower-case hex, as OpenZFS's zap_add_int_key) -> value. */
int zap_add_int_key(struct spa *spa, uint64_t zapobj, uint64_t key, uint64_t value,
		    struct dmu_tx *tx);
/* dmu_object_zapify: give MOS object obj a microzap in its data and type
 * DMU_OTN_ZAP_METADATA (extensible_dataset +1); already one: nothing. */
int dmu_object_zapify(struct spa *spa, uint64_t obj, struct dmu_tx *tx);

/*
 * A new dsl_dir with its props and child-map ZAPs: the child `name` of
 * parent_dir, or (parent_dir 0, name NULL) the pool's root dir, linked as
 * the MOS "root_dataset".
 */
int dsl_dir_create_sync(struct spa *spa, uint64_t parent_dir, const char *name,
			struct dmu_tx *tx, uint64_t *ddobj);

/*
 * The head dataset of dir ddobj (which has none yet): a clone of snapshot
 * origin (0: no origin — only $ORIGIN's own head), with OpenZFS's links
 * (origin's num_children, next-clones and dir clones ZAPs, the dir's
 * dd_origin_obj, deadlist cloned from the origin's head). flags: DS_FLAG_*
 * besides UNIQUE_ACCURATE, which is always set. ds_bp stays a hole until
 * the dataset's objset is first synced.
 */
int dsl_dataset_create_sync_dd(struct spa *spa, uint64_t ddobj, uint64_t origin, uint64_t flags,
			       struct dmu_tx *tx, uint64_t *dsobj);

/*
 * The DSL skeleton of a new pool (dsl_pool_create up to the root
 * dataset): the root dir, $MOS, $FREE and the MOS "free_bpobj", $ORIGIN
 * with its head and the snapshot $ORIGIN@$ORIGIN (*origin_snap).
 */
int dsl_pool_create_skeleton(struct spa *spa, struct dmu_tx *tx, uint64_t *root_dir,
			     uint64_t *origin_snap);

/*
 * Activate per-dataset feature `name` ("zstd_compress") on dataset dsobj,
 * as dsl_dataset_activate_feature: zapify the dataset object first (type
 * becomes DMU_OTN_ZAP_METADATA, extensible_dataset +1), add the feature's
 * GUID key (value 0) and raise the feature's refcount. Already active:
 * nothing. Errors: ZFUSE_E_NOENT (feature unknown or not enabled).
 */
int dsl_dataset_activate_feature(struct spa *spa, uint64_t dsobj, const char *name,
				 struct dmu_tx *tx);

/* The per-dataset feature a key of a zapified dataset stands for, or NULL
 * (another field). */
struct zfeature_info;
const struct zfeature_info *dsl_dataset_feature_key(const char *key);

/* Activate on dataset `to` every per-dataset feature active on `from`
 * (snapshots and clones inherit them). */
int dsl_dataset_copy_features(struct spa *spa, uint64_t from, uint64_t to, struct dmu_tx *tx);

#endif
