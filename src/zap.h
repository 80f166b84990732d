/* SPDX-License-Identifier: CDDL-1.0 */
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
#include "dmu_tx.h"	/* write side */
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

/* ======================================================================
 * Write side (zap.c over zap_micro.c and zap_fat.c). Callers hold the
 * pool's single-writer lock (dmu_tx.h); every change lands in tx's txg
 * through the DMU overlay.
 * Values are host-order integer arrays of intlen 1, 2, 4 or 8 bytes.
 * New ZAPs are micro (512-byte block) and become fat as OpenZFS makes them:
 * a value that is not one uint64, a name of 50 bytes or more, or a full
 * 128 KiB micro block. Errors: ZFUSE_E_INVAL (not a ZAP type, bad intlen,
 * value over ZAP_MAXVALUELEN, empty name), ZFUSE_E_NAMETOOLONG (over 255
 * bytes, 1023 in directories), ZFUSE_E_NOSPC (hash table at its limit),
 * ZFUSE_E_UNSUPPORTED (uint64-key ZAPs), ZFUSE_E_CORRUPT, errors of the DMU.
 * ====================================================================== */

int zap_create(objset_t *os, unsigned ot, unsigned bonustype, unsigned bonuslen, dmu_tx_t *tx,
	       uint64_t *obj);
int zap_create_claim(objset_t *os, uint64_t obj, unsigned ot, unsigned bonustype, unsigned bonuslen,
		     dmu_tx_t *tx);
/* Micro ZAP with normalization flags (ZPL directories). */
int zap_create_norm(objset_t *os, uint64_t normflags, unsigned ot, unsigned bonustype,
		    unsigned bonuslen, unsigned dnodesize, dmu_tx_t *tx, uint64_t *obj);
/* Fat from the start (blocks of 1 << leaf_blockshift) when zapflags is not
 * 0; micro with a 1 << leaf_blockshift block otherwise, as OpenZFS does.
 * indirect_blockshift is ignored (dmu_object_alloc uses 17). */
int zap_create_flags(objset_t *os, uint64_t normflags, uint64_t zapflags, unsigned ot,
		     int leaf_blockshift, int indirect_blockshift, unsigned bonustype,
		     unsigned bonuslen, unsigned dnodesize, dmu_tx_t *tx, uint64_t *obj);

/* Add name; ZFUSE_E_EXIST if it is present. */
int zap_add(objset_t *os, uint64_t obj, const char *name, unsigned intlen, uint64_t numints,
	    const void *val, dmu_tx_t *tx);
/* Add name or replace its value. */
int zap_update(objset_t *os, uint64_t obj, const char *name, unsigned intlen, uint64_t numints,
	       const void *val, dmu_tx_t *tx);
int zap_add_uint64(objset_t *os, uint64_t obj, const char *name, uint64_t v, dmu_tx_t *tx);
int zap_update_uint64(objset_t *os, uint64_t obj, const char *name, uint64_t v, dmu_tx_t *tx);
/* Remove name (exact match). ZFUSE_E_NOENT if absent. */
int zap_remove(objset_t *os, uint64_t obj, const char *name, dmu_tx_t *tx);
/* Remove the entry whose name equals name after the ZAP's normalization
 * (lowest cd if several); the stored name goes to removed (may be NULL).
 * Exact when the ZAP has no normflags. ZFUSE_E_RANGE: cap too small. */
int zap_remove_norm(objset_t *os, uint64_t obj, const char *name, dmu_tx_t *tx, char *removed,
		    size_t cap);
/* Number of entries (micro: used chunks; fat: zap_num_entries). */
int zap_count(objset_t *os, uint64_t obj, uint64_t *count);

/* A ZAP block (micro, fat header, pointer table or leaf) of the other
 * byte order, turned into host order in place (the ZAP byteswap class). */
void zap_byteswap(void *buf, size_t size);

#endif
