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

/* A dataset found by name: its objects and its dsl_dataset_phys_t. */
struct dsl_dataset_ref {
	uint64_t dsobj, dirobj;
	bool snapshot;
	dsl_dataset_phys_t phys;
};

/* dsl_dataset_lookup + dsl_dataset_read. Errors as both. */
int dsl_dataset_find(struct spa *spa, const char *name, struct dsl_dataset_ref *ref);

/* Full name of a dsl_dir ("pool/a/b"). */
int dsl_dir_name(struct spa *spa, uint64_t dirobj, char *buf, size_t cap);

#endif
