/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dmu_objset.h — writing one object set's dirty overlay as blocks, and how
 * (private to the DMU sync path; txg.c drives it). dmu_objset_policy and
 * dmu_objset_is_dirty live in dmu_objset.c; dmu_objset_prepare and
 * dmu_objset_sync in dnode_sync.c, whose per-object machinery they drive.
 *
 * Every block that dies or is born on the way is reported to the object
 * set's owner through the callbacks, which is how the DSL keeps dataset
 * accounting and decides between freeing a block and handing it to a
 * snapshot's deadlist.
 */
#ifndef ZFUSE_DMU_OBJSET_H
#define ZFUSE_DMU_OBJSET_H

#include <stdbool.h>
#include <stdint.h>
#include "blkptr.h"
#include "dnode.h"

/* How the blocks of an object set are written. */
struct os_write_policy {
	unsigned data_compress;	/* resolved ZIO_COMPRESS_* for file data */
	int data_complevel;
	unsigned data_checksum;	/* resolved ZIO_CHECKSUM_* for file data */
	unsigned meta_compress;	/* lz4 (or lzjb on legacy pools) */
	unsigned meta_checksum;
	int copies;		/* data copies; metadata gets one more, MOS three */
	bool embed;		/* embedded_data enabled */
	bool hole_birth;	/* hole_birth enabled */
	bool is_mos;
	/* Native encryption: the dataset is encrypted; its master key (NULL
	 * while not loaded: nothing of it may be written then). */
	bool encrypted;
	struct zio_crypt_key *key;
	/* Non-NULL: level-0 data blocks are only allocated; their device
	 * writes go to this queue and the overlay is kept for readers until
	 * they are done (txg.c). */
	struct zio_write_queue *defer;
};

struct os_sync_owner {
	/* A block of this objset was born (written) in txg. */
	void (*born)(void *arg, const blkptr_t *bp);
	/* A block of this objset died in txg: free it or keep it for a
	 * snapshot. rewritten: it was rewritten in place (its space stays
	 * allocated to the new block): only accounting changes. */
	int (*kill)(void *arg, const blkptr_t *bp, bool rewritten);
	void *arg;
};

/*
 * Write every dirty object of os (objects first, then the meta-dnode),
 * then the objset block; os->bp becomes the new root bp and the overlay
 * is cleared. pass counts the sync passes of this txg (1-based): late
 * passes store metadata uncompressed so the MOS converges.
 * Errors: ZFUSE_E_NOSPC, ZFUSE_E_IO, ZFUSE_E_NOMEM, read errors.
 */
int dmu_objset_sync(objset_t *os, uint64_t txg, int pass, const struct os_write_policy *pol,
		    const struct os_sync_owner *owner);

/* The write policy of os: the dataset's compression, checksum and copies
 * properties resolved, the pool's metadata algorithms, embedding and
 * hole_birth by feature state. */
struct spa;
void dmu_objset_policy(struct spa *spa, const objset_t *os, struct os_write_policy *pol);
/* Re-read the properties a held objset caches (copies, recordsize,
 * dnodesize, xattr): at
 * hold, and after a property change (dsl_prop.c). */
void dmu_objset_refresh_props(struct spa *spa, objset_t *os);

/*
 * Compressing and checksumming a txg's data blocks ahead of
 * dmu_objset_sync, on every core and without the pool lock: the blocks
 * are collected under the lock (from the overlay about to be synced,
 * which nobody changes any more), then prepared while writers go on.
 */
struct dmu_prep_batch {
	struct spa *spa;
	struct dirty_block **jobs;
	uint64_t njobs, cap;
};
int dmu_objset_prepare_collect(objset_t *os, uint64_t txg, const struct os_write_policy *pol,
			       struct dmu_prep_batch *batch);
void dmu_prep_run(struct dmu_prep_batch *batch);
void dmu_prep_batch_free(struct dmu_prep_batch *batch);

/* The write properties of a block of an object of type (with the
 * dnode's own checksum and compress, 0 = the dataset's) at level in sync
 * pass pass, under the dataset's policy (dnode_sync.c). */
struct zio_write_props;
void dnode_write_props(const struct os_write_policy *pol, unsigned type, unsigned dn_checksum,
		       unsigned dn_compress, int level, int pass, struct zio_write_props *zp);

/*
 * The pipeline (dmu_objset_pipeline.c): an objset in the txg being synced
 * while the next txg is open. quiesce (pool lock exclusive) closes the
 * txg: its overlay becomes os->syncing. sync_begin (exclusive) swaps the
 * closed state in for dmu_objset_sync and sets the open txg's aside;
 * sync_end (exclusive) puts the open txg back, rebased onto what the sync
 * wrote (synced false: the sync failed; the open txg comes back as it
 * was). Errors of sync_end: ZFUSE_E_NOMEM, read errors (the open txg's
 * changes are dropped then).
 */
struct os_in_sync {
	objset_t *os;
	struct os_write_policy pol;
	uint8_t closed_phys[OBJSET_PHYS_SIZE];
	uint8_t open_phys[OBJSET_PHYS_SIZE];
	struct dbuf_overlay *open_ov;
	/* A rolled-back objset's syncing overlay: out of every reader's view,
	 * kept until its deferred writes are done (phase 5). */
	struct dbuf_overlay *retired;
};
void dmu_objset_quiesce(objset_t *os, struct os_in_sync *e);
void dmu_objset_sync_begin(struct os_in_sync *e);
int dmu_objset_sync_end(struct os_in_sync *e, bool synced);
/* The txg's deferred writes are done: its overlay goes (exclusive). */
void dmu_objset_sync_finish(struct os_in_sync *e);
/* After phase 3: objsets whose dataset a DSL task rolled back drop their
 * open txg and show the dataset's new tree (exclusive). */
int dmu_objset_rollback_finish(struct spa *spa, struct os_in_sync *set, size_t n);

/* Whether os has anything to write. */
bool dmu_objset_is_dirty(const objset_t *os);

#endif
