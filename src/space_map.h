/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * space_map.h — metaslab space maps and log space maps (pool-layer.md §9):
 * decoding them to learn what is allocated, and (writer half) encoding the
 * entries a txg appends to a metaslab's map.
 */
#ifndef ZFUSE_SPACE_MAP_H
#define ZFUSE_SPACE_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "range_tree.h"
#include "spa_misc.h"

#define SM_ALLOC 0
#define SM_FREE 1
#define SM_OFFSET_BITS 47
#define SM_RUN_MAX (1ULL << 15)		/* one-word entry: units per entry */
#define SM2_RUN_MAX (1ULL << 36)	/* two-word entry */
#define SM_NO_VDEVID (1ULL << 24)	/* metaslab maps: encoded as 0 */
#define SPACE_MAP_HISTOGRAM_SIZE 32
#define SPACE_MAP_SIZE_V0 24		/* bonus without spacemap_histogram */
#define SPACE_MAP_SIZE_HISTOGRAM 320	/* space_map_phys_t with histogram */

struct metaslab_space {
	uint64_t sm_object;	/* 0: never used */
	int64_t alloc;		/* net allocated bytes, log entries applied */
	int64_t smp_alloc;	/* as recorded in the space map header */
	uint64_t unflushed_txg;
};

/*
 * Allocated space of every metaslab of top-level vdev vd. *out receives an
 * array of (asize >> metaslab_shift) entries (free() it), *count its size.
 * Errors: ZFUSE_E_CORRUPT (malformed maps), read errors.
 */
int space_map_vdev(spa_t *spa, vdev_t *vd, struct metaslab_space **out, uint64_t *count);

/* ---- decoding ----------------------------------------------------------- */

/* One extent of a space map, already in bytes (start is absolute: sm_start
 * added). txg/pass come from the last debug entry before it (0 if none). */
struct space_map_entry {
	bool is_free;
	bool two_word;
	uint64_t vdev;		/* two-word entries only (0 otherwise) */
	uint64_t start, len;
	uint64_t txg;
	unsigned pass;
};

/* Non-zero return stops the walk and is returned. */
typedef int (*space_map_entry_fn)(void *arg, const struct space_map_entry *e);

/* Debug-entry state carried from one block to the next. */
struct space_map_cursor {
	uint64_t txg;
	unsigned pass;
};

/* Decode nwords little-endian words. Errors: ZFUSE_E_CORRUPT (a two-word
 * entry cut by the end of the words). */
int space_map_decode_words(const uint8_t *p, uint64_t nwords, uint64_t sm_start, unsigned sm_shift,
			   struct space_map_cursor *cur, space_map_entry_fn cb, void *arg);

/* Walk the first smp_length bytes of MOS space map object obj. */
int space_map_iterate(spa_t *spa, uint64_t obj, uint64_t sm_start, unsigned sm_shift,
		      space_map_entry_fn cb, void *arg);

/* space_map_phys_t, plus facts of the object it lives in. */
struct space_map_header {
	uint64_t object, length;
	int64_t alloc;
	uint64_t histogram[SPACE_MAP_HISTOGRAM_SIZE];	/* zero when the bonus has none */
	uint64_t bonuslen;	/* 24 or 320 */
	uint64_t blksz;		/* data block size of the object */
};

int space_map_read_header(spa_t *spa, uint64_t obj, struct space_map_header *h);

/* Per metaslab of vd, the first txg whose changes are only in the log
 * space maps (com.delphix:ms_unflushed_phys_txgs; 0 = not tracked). */
int space_map_unflushed_txgs(spa_t *spa, vdev_t *vd, uint64_t count, uint64_t *out);

/* The MOS object holding vd's unflushed txgs (one uint64 per metaslab),
 * named by its top-level ZAP; *obj = 0 when there is none. */
int space_map_unflushed_object(spa_t *spa, vdev_t *vd, uint64_t *obj);

/* One log space map: its txg (the key in the log ZAP) and object. */
struct space_map_log {
	uint64_t txg, obj;
	uint64_t bonuslen;	/* of its space_map_phys_t: 24, or 320 with a histogram */
};

/*
 * The pool's log space maps in ascending txg order (*logs: free() it) and
 * the MOS ZAP listing them (com.delphix:log_spacemap_zap; *zapobj = 0 and
 * no logs when the directory has none).
 */
int space_map_logs(spa_t *spa, uint64_t *zapobj, struct space_map_log **logs, size_t *n);

/* Replay, in txg order, the log space map entries that belong to vd's
 * metaslabs and are not yet in their own maps (§9.6): a log counts for a
 * metaslab when its txg is at or after the metaslab's unflushed txg (every
 * log when that is 0, as OpenZFS's import does). */
int space_map_replay_logs(spa_t *spa, vdev_t *vd, uint64_t count, const uint64_t *unflushed,
			  space_map_entry_fn cb, void *arg);

/* ---- encoding (writer) -------------------------------------------------- */

/*
 * Words to append to a space map whose valid length is `length` bytes and
 * whose data block size is blksz (the block size decides where padding
 * goes: a two-word entry never straddles a block). The words are
 * collected in host order; write space_map_appender_bytes() at the old
 * length and set smp_length to a->length.
 */
struct space_map_appender {
	uint64_t length;	/* byte offset of the next word */
	uint64_t blksz;
	uint64_t sm_start;
	unsigned sm_shift;
	bool two_word_ok;	/* feature com.delphix:spacemap_v2 active */
	uint64_t *words;
	size_t nwords, cap;
};

void space_map_appender_init(struct space_map_appender *a, uint64_t length, uint64_t blksz,
			     uint64_t sm_start, unsigned sm_shift, bool two_word_ok);
void space_map_appender_fini(struct space_map_appender *a);
int space_map_append_debug(struct space_map_appender *a, unsigned maptype, unsigned pass, uint64_t txg);
/* One extent (bytes; split into as many entries as the run needs).
 * vdev_id: SM_NO_VDEVID for metaslab maps. Errors: ZFUSE_E_INVAL. */
int space_map_append_extent(struct space_map_appender *a, unsigned maptype, uint64_t start,
			    uint64_t size, uint64_t vdev_id);
/* A debug word (maptype, pass, txg) and every segment of rt, as OpenZFS's
 * space_map_write does; nothing at all when rt is empty. */
int space_map_append_tree(struct space_map_appender *a, unsigned maptype, const range_tree_t *rt,
			  unsigned pass, uint64_t txg, uint64_t vdev_id);
/* The collected words, little-endian (8 * a->nwords bytes). */
void space_map_appender_bytes(const struct space_map_appender *a, uint8_t *out);

/* Add rt's segments to a space map histogram (OpenZFS
 * space_map_histogram_add: bucket i = [2^(i+shift), 2^(i+shift+1))). */
void space_map_histogram_add(uint64_t hist[SPACE_MAP_HISTOGRAM_SIZE], const range_tree_t *rt,
			     unsigned sm_shift);

/* space_map_phys_t bytes (bonuslen 24 or 320). */
void space_map_header_encode(const struct space_map_header *h, uint8_t *out, uint64_t bonuslen);

#endif
