/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfeature.h — pool feature flags (object-layer.md §9): the table of
 * features OpenZFS 2.3 knows, which of them zfuse can read, and the
 * import-time check of features_for_read.
 */
#ifndef ZFUSE_ZFEATURE_H
#define ZFUSE_ZFEATURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct spa;

struct zfeature_info {
	const char *name;	/* short name: "lz4_compress" */
	const char *guid;	/* "org.illumos:lz4_compress" */
	bool readonly_compat;	/* lives in features_for_write */
	bool zfuse_reads;	/* zfuse can read pools where it is active */
	/* zfuse keeps its on-disk obligations while it is active; livelist
	 * counts because clones with a livelist stay read-only, zilsaxattr
	 * because zfuse replays TX_SETSAXATTR and drops the feature with the
	 * log (zil_replay.c) */
	bool zfuse_writes;
};

/* Feature by GUID, or NULL when unknown. */
const struct zfeature_info *zfeature_lookup(const char *guid);
const struct zfeature_info *zfeature_table(unsigned *count);

/*
 * Refuse a pool with an active read-incompatible feature that zfuse does
 * not read (or does not know). Logs every offender by name.
 * Errors: ZFUSE_E_UNSUPPORTED.
 */
int zfeature_check_read(struct spa *spa);

/* Refcount of a feature (GUID) in the MOS: ZFUSE_E_NOENT when the pool
 * does not have it enabled. */
int zfeature_refcount(struct spa *spa, const char *guid, uint64_t *refcount);
bool zfeature_is_enabled(struct spa *spa, const char *guid);
bool zfeature_is_active(struct spa *spa, const char *guid);

/*
 * Whether zfuse may write this pool: every active feature must be one it
 * maintains. Otherwise -ZFUSE_E_ROFS with why = "feature 'X' is active ...".
 */
int zfeature_check_write(struct spa *spa, char *why, size_t cap);

#endif
