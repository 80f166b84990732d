/*
 * zap.h — ZAP objects, micro and fat: name → integer-array maps used for
 * directories and nearly all metadata (object-layer.md §4). Read side:
 * lookups (exact or normalized, as OpenZFS hashes them), and ordered
 * iteration with resumable (hash, cd) cursors.
 */
#ifndef ZFUSE_ZAP_H
#define ZFUSE_ZAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "dnode.h"

#define ZAP_MAXNAMELEN 256
#define ZAP_MAXNAMELEN_NEW 1024
#define ZAP_MAXVALUELEN (1024 * 8)
#define MZAP_NAME_LEN 50

#define ZBT_LEAF ((1ULL << 63) + 0)
#define ZBT_HEADER ((1ULL << 63) + 1)
#define ZBT_MICRO ((1ULL << 63) + 3)
#define ZAP_MAGIC 0x2F52AB2ABULL
#define ZAP_LEAF_MAGIC 0x2AB1EAF

#define ZAP_FLAG_HASH64 1
#define ZAP_FLAG_UINT64_KEY 2
#define ZAP_FLAG_PRE_HASHED_KEY 4

#define U8_TEXTPREP_TOUPPER 0x02
#define U8_TEXTPREP_NFD 0x10
#define U8_TEXTPREP_NFKD 0x20
#define U8_TEXTPREP_NFC (U8_TEXTPREP_NFD | 0x40)
#define U8_TEXTPREP_NFKC (U8_TEXTPREP_NFKD | 0x40)

/* One entry as iteration reports it. Values are host-order integers. */
typedef struct zap_entry {
	char name[ZAP_MAXNAMELEN_NEW];	/* string keys; empty for uint64 keys */
	uint64_t hash;		/* truncated 64-bit hash (top hashbits bits) */
	uint32_t cd;
	uint8_t value_intlen;
	uint64_t value_numints;
	uint64_t value_first;	/* first integer, widened */
	const uint8_t *value;	/* value_intlen * numints bytes, host order;
				 * valid during the callback only */
} zap_entry_t;

/* Per-ZAP facts: micro or fat, salt, normalization flags, hash bits. */
typedef struct zap_info {
	bool micro;
	uint64_t salt, normflags, flags, num_entries;
	unsigned hashbits;
	unsigned block_shift;
	uint64_t num_leafs, zt_shift, zt_blk, zt_numblks, freeblk;
} zap_info_t;

int zap_get_info(dnode_t *dn, zap_info_t *info);

/*
 * Look name up. Copies at most numints integers of intlen bytes into out
 * (converted from the stored width when it differs and fits).
 * Errors: ZFUSE_E_NOENT, ZFUSE_E_INVAL (not a ZAP, or intlen mismatch that
 * would lose data), ZFUSE_E_RANGE (value has more integers than numints;
 * out gets the first numints), ZFUSE_E_CORRUPT.
 */
int zap_lookup(dnode_t *dn, const char *name, unsigned intlen, uint64_t numints, void *out);
int zap_lookup_uint64(dnode_t *dn, const char *name, uint64_t *value);
/* Shape of name's value. */
int zap_lookup_length(dnode_t *dn, const char *name, unsigned *intlen, uint64_t *numints);

/*
 * Normalized lookup (ZPL directories): matches names equal to `name` after
 * the ZAP's normalization flags are applied to both; *found_name (may be
 * NULL) receives the stored name. Falls back to exact lookup when the ZAP
 * has no normflags.
 */
int zap_lookup_norm(dnode_t *dn, const char *name, uint64_t *value, char *found_name, size_t cap);

/* Iteration callback: return non-zero to stop (returned by zap_iterate). */
typedef int (*zap_iter_fn)(void *arg, const zap_entry_t *ze);

/*
 * Visit entries in ascending (hash, cd) order starting at the first entry
 * with (hash, cd) >= (start_hash, start_cd).
 */
int zap_iterate(dnode_t *dn, uint64_t start_hash, uint32_t start_cd, zap_iter_fn cb, void *arg);

/* Hash of a string key as this ZAP computes it (normalized if flagged). */
uint64_t zap_hash_name(const zap_info_t *info, const char *name);

/* Apply U8_TEXTPREP flags to a UTF-8 name (for hashing and matching).
 * Returns 0 or -ZFUSE_E_INVAL when the result does not fit. Invalid UTF-8
 * is copied unchanged. */
int zap_normalize(const char *name, uint64_t normflags, char *out, size_t cap);

#endif
