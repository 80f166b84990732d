/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfuse/inspect.h — looking inside pool images without mounting them: a
 * zdb for images, as library calls. Every report is written to opts->out
 * as indented text or, with opts->json, as one JSON document whose field
 * names are stable.
 *
 * Damaged pools are the point: each call reports what it can read, says
 * where damage is, and goes on. Calls return 0 when everything they looked
 * at was readable, ZFUSE_E_CORRUPT / ZFUSE_E_CHECKSUM / ZFUSE_E_IO when
 * something was damaged (after reporting it), or another negative
 * ZFUSE_E_* code when they could not run (ZFUSE_E_INVAL, ZFUSE_E_NOENT).
 */
#ifndef ZFUSE_INSPECT_H
#define ZFUSE_INSPECT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "zfuse/zfuse.h"

#ifdef __cplusplus
extern "C" {
#endif

struct zfuse_inspect_opts {
	FILE *out;		/* where the report goes (stdout if NULL) */
	bool json;		/* JSON instead of text */
	int verbosity;		/* 0..4: how much detail (like zdb's repeated -d/-b) */
};

/*
 * Every label (0..3) of every device found under paths (files, GPT disk
 * images, directories), valid or not: offsets, checksum state and the
 * decoded config nvlist. Needs no importable pool.
 */
int zfuse_inspect_labels(const char *const *paths, size_t npaths,
			 const struct zfuse_inspect_opts *opts);

/*
 * Every uberblock slot of every label of every device: txg, timestamp,
 * guid sum, root block pointer, checksum validity; and, when pool is not
 * NULL, whether the tree under it is intact (its MOS and root dataset
 * read back with valid checksums) — the candidates for mounting with
 * -o txg=N.
 */
int zfuse_inspect_uberblocks(const char *const *paths, size_t npaths, zfuse_pool_t *pool,
			     const struct zfuse_inspect_opts *opts);

/* Pool configuration, vdev tree, features (state and refcount), pool
 * properties, and allocated space per top-level vdev and metaslab from
 * the space maps (log space maps applied). */
int zfuse_inspect_pool(zfuse_pool_t *pool, const struct zfuse_inspect_opts *opts);

/* The dataset tree: filesystems, volumes, snapshots, bookmarks, clones'
 * origins, space figures and locally set properties. */
int zfuse_inspect_datasets(zfuse_pool_t *pool, const struct zfuse_inspect_opts *opts);

/* One row per allocated object of a dataset ("pool/fs", "pool/fs@snap",
 * or "mos" for the meta object set). */
int zfuse_inspect_objects(zfuse_pool_t *pool, const char *dataset,
			  const struct zfuse_inspect_opts *opts);

/*
 * One object in full: what is an object number or a path in the
 * filesystem ("/dir/file"). Dnode fields, decoded bonus (SA attributes by
 * name, legacy znode, DSL dir/dataset), ZAP contents for ZAP objects, and
 * with verbosity >= 1 the block pointer tree (level, blkid, DVAs, sizes,
 * compression, checksum, births, fill).
 */
int zfuse_inspect_object(zfuse_pool_t *pool, const char *dataset, const char *what,
			 const struct zfuse_inspect_opts *opts);

/*
 * A dataset's intent log, like `zdb -ivv`: the ZIL header (claim state,
 * replay progress), every block of the chain with whether it verifies,
 * and every record decoded by type (object numbers, names, offsets,
 * attributes, the block pointer of indirect writes). A claimed header's
 * limits are followed; a snapshot shows its (stale) header only. Returns
 * ZFUSE_E_CORRUPT when a record of impossible length ends the walk.
 */
int zfuse_inspect_zil(zfuse_pool_t *pool, const char *dataset,
		      const struct zfuse_inspect_opts *opts);

/*
 * A raw block, like `zdb -R`: spec "VDEV:OFFSET:SIZE[:FLAGS]" with OFFSET
 * and SIZE in hex (SIZE may be "PSIZE/LSIZE"). FLAGS: 'r' writes the bytes
 * to opts->out unformatted; 'd' decompresses (trying each algorithm unless
 * 'd=ALG' ... 'd' alone tries all and reports which one produced LSIZE
 * bytes). Default output is a hex dump.
 */
int zfuse_inspect_block(zfuse_pool_t *pool, const char *spec,
			const struct zfuse_inspect_opts *opts);

struct zfuse_verify_stats {
	uint64_t blocks;		/* block pointers visited (each once) */
	uint64_t copies_checked;	/* DVAs read and verified */
	uint64_t lsize, psize, asize;	/* totals over visited blocks */
	uint64_t embedded, holes, gang;
	uint64_t checksum_errors;	/* DVAs that failed (block may still be readable) */
	uint64_t unrecoverable;		/* blocks with no good copy */
	uint64_t repaired;		/* copies read intact only through a mirror side or parity */
	uint64_t space_allocated;	/* from the space maps */
	uint64_t space_referenced;	/* asize of every block found */
	int64_t space_leaked;		/* allocated - referenced (0 when consistent) */
	bool space_checked;
	uint64_t rewritten;		/* bad copies written again from a good one (scrub of a
					 * writable pool) */
	/* Encrypted datasets: blocks whose MAC (block MAC, indirect checksum
	 * of MACs, objset MACs) did not verify, and level-0 blocks whose MAC
	 * could not be checked because their key was not loaded (their
	 * ciphertext checksums were). */
	uint64_t mac_errors, mac_unchecked;
};

/* Progress callback: bytes verified so far (psize) and the estimate of
 * the total (allocated space). */
typedef void (*zfuse_progress_fn)(void *arg, uint64_t done, uint64_t total);

/*
 * Scrub: read every block reachable from the imported uberblock (MOS and
 * every dataset, snapshots included), verify every copy, and report each
 * damaged block by dataset, object, level/blkid and, for files, path; then
 * compare the space the blocks use with the space maps, as `zdb -b` does.
 * Blocks of encrypted datasets have their MACs checked too, those of
 * level-0 blocks only where the dataset's key is loaded (zfuse_key_load).
 * Returns 0 when clean, ZFUSE_E_CHECKSUM when any damage was found.
 */
int zfuse_verify(zfuse_pool_t *pool, const struct zfuse_inspect_opts *opts,
		 zfuse_progress_fn progress, void *progress_arg, struct zfuse_verify_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
