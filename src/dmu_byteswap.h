/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dmu_byteswap.h — turning a block written by a machine of the other byte
 * order into this host's order, once, as it enters the cache. Every
 * object type names one of a few byteswap classes (dmu_types.h); each
 * class's function lives beside the structure it knows (ZAP, dnode,
 * objset, znode/ACL) and dmu_ot_byteswap_block() dispatches. The
 * plain-array swaps are inline here so that modules linked alone (the
 * ZAP code in unit tests) need nothing more.
 */
#ifndef ZFUSE_DMU_BYTESWAP_H
#define ZFUSE_DMU_BYTESWAP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "dmu_types.h"

struct blkptr;

/* byteswap_uint64_array, _uint32_, _uint16_: swap every whole integer of
 * buf in place (a trailing partial one is left). */
#define DEFINE_BYTESWAP_ARRAY(bits)						\
	static inline void byteswap_uint##bits##_array(void *buf, size_t size)	\
	{									\
		uint8_t *p = buf;						\
		for (size_t i = 0; i + (bits) / 8 <= size; i += (bits) / 8) {	\
			uint##bits##_t v;					\
			memcpy(&v, p + i, sizeof(v));				\
			v = __builtin_bswap##bits(v);				\
			memcpy(p + i, &v, sizeof(v));				\
		}								\
	}
DEFINE_BYTESWAP_ARRAY(64)
DEFINE_BYTESWAP_ARRAY(32)
DEFINE_BYTESWAP_ARRAY(16)

/* In-place swaps of single fields of a byte buffer. */
static inline void bswap64_at(uint8_t *p) { byteswap_uint64_array(p, 8); }
static inline void bswap32_at(uint8_t *p) { byteswap_uint32_array(p, 4); }
static inline void bswap16_at(uint8_t *p) { byteswap_uint16_array(p, 2); }

/* Swap size bytes of buf as byteswap class bs says. */
void dmu_ot_byteswap_block(enum dmu_byteswap bs, void *buf, size_t size);

/* The class of a block under bp: uint64 for indirect blocks, the object
 * type's otherwise (OpenZFS's arc_read_done choice). */
enum dmu_byteswap dmu_bp_byteswap_class(const struct blkptr *bp);

/* Whether the block's contents are in the other byte order than this host's. */
bool bp_should_byteswap(const struct blkptr *bp);

#endif
