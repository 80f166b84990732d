/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zap_leaf.h — private to the ZAP code: one fat-ZAP leaf block
 * (zap_leaf.c). The block's layout stays inside zap_leaf.c; callers see a
 * leaf through these calls only, so a lookup, an iteration and an edit all
 * walk the same chunks the same way.
 */
#ifndef ZFUSE_ZAP_LEAF_H
#define ZFUSE_ZAP_LEAF_H

#include <stdbool.h>
#include <stdint.h>
#include "zap.h"
#include "zap_impl.h"

#define ZAP_LEAF_CHAIN_END 0xffff
/* Below this many free chunks a leaf at full prefix length grows the
 * pointer table right after an insert (as OpenZFS does). */
#define ZAP_LEAF_LOW_WATER 20

/* A leaf block being read or edited; its geometry follows from bs. */
typedef struct zap_leaf {
	uint8_t *p;
	unsigned bs;		/* block shift */
	uint32_t nhash, nchunks;
	int *err;		/* sticky corruption found while editing */
} zap_leaf_t;

/* Chunks of a leaf of 1 << bs bytes; chunks an array of nbytes takes. */
uint32_t zap_leaf_numchunks(unsigned bs);
uint64_t zap_leaf_array_nchunks(uint64_t nbytes);

/* View p (1 << bs bytes) as a leaf, unchecked (it may be a new block). */
void zap_leaf_bind(zap_leaf_t *l, uint8_t *p, unsigned bs, int *err);
/* Bind and check the block type, magic and prefix length. */
int zap_leaf_open(zap_leaf_t *l, uint8_t *p, uint64_t size, unsigned bs, int *err);
/* An empty leaf; sort: bucket chains are kept in cd order (normalized ZAPs). */
void zap_leaf_init(zap_leaf_t *l, bool sort);

uint64_t zap_leaf_prefix(const zap_leaf_t *l);
unsigned zap_leaf_prefix_len(const zap_leaf_t *l);
void zap_leaf_set_prefix(zap_leaf_t *l, uint64_t prefix, unsigned prefix_len);
unsigned zap_leaf_nentries(const zap_leaf_t *l);
unsigned zap_leaf_nfree(const zap_leaf_t *l);

/* ---- reading ---- */

/* Whether chunk i holds an entry, and that entry's hash and cd. */
bool zap_leaf_entry_key(const zap_leaf_t *l, uint32_t i, uint64_t *hash, uint32_t *cd);
/* Entry chunk i as iteration reports it; values converted to host order
 * into valbuf (ZAP_MAXVALUELEN bytes). */
int zap_leaf_entry_decode(const zap_leaf_t *l, uint32_t i, bool uint64_key, zap_entry_t *ze,
			  uint8_t *valbuf);
/* Decode the entries of hash h in bucket order until match() accepts one
 * (0, ze filled) or the chain ends (ZFUSE_E_NOENT). */
int zap_leaf_lookup_match(zap_leaf_t *l, uint64_t h, bool uint64_key,
			  bool (*match)(void *, const zap_entry_t *), void *marg, zap_entry_t *ze,
			  uint8_t *valbuf);

/* ---- editing (corruption met on the way lands in *l->err) ---- */

/* Entry chunk for k, or ZAP_LEAF_CHAIN_END; *slotp is the link to it. */
uint16_t zap_leaf_lookup(zap_leaf_t *l, const struct zkey *k, uint8_t **slotp);
/* Stored name of entry chunk c (ZAP_MAXNAMELEN_NEW + 1 bytes). */
int zap_leaf_entry_name(const zap_leaf_t *l, uint16_t c, char *stored);
/* Add k (cd ZAP_NEED_CD: the lowest unused); ZAP_AGAIN when the leaf lacks room. */
int zap_leaf_entry_create(zap_leaf_t *l, const struct zkey *k, uint32_t cd, const struct zval *v);
int zap_leaf_entry_update(zap_leaf_t *l, uint16_t c, const struct zval *v);
void zap_leaf_entry_remove(zap_leaf_t *l, uint8_t *slot, uint16_t c);
/* Move the entries whose next hash bit is 1 into the empty leaf nl. */
void zap_leaf_split(zap_leaf_t *l, zap_leaf_t *nl, bool sort);

/* Host-order integers → the big-endian byte stream leaf arrays hold. */
void zap_leaf_encode_value(unsigned intlen, uint64_t numints, const void *val, uint8_t *out);

/* A leaf block of size bytes (its geometry follows from size) turned into
 * host order: header, bucket heads, and each chunk's integers by its kind;
 * array bytes are order-free. */
void zap_leaf_byteswap(void *buf, size_t size);

#endif
