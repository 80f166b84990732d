/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * byteorder.h — loads and stores of fixed-endian integers from byte
 * buffers. On-disk structures are little-endian on every pool zfuse
 * accepts; XDR nvlists, ZAP leaf arrays and codec headers are big-endian.
 * memcpy keeps the loads alignment-safe (UBSan-clean) and compiles to one
 * instruction.
 */
#ifndef ZFUSE_BYTEORDER_H
#define ZFUSE_BYTEORDER_H

#include <stdint.h>
#include <string.h>

static inline uint64_t le64(const void *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static inline uint32_t le32(const void *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static inline uint16_t le16(const void *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static inline uint64_t be64(const void *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

static inline uint32_t be32(const void *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return __builtin_bswap32(v);
}

static inline uint16_t be16(const void *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return __builtin_bswap16(v);
}

static inline void put_le64(void *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static inline void put_be64(void *p, uint64_t v)
{
	v = __builtin_bswap64(v);
	memcpy(p, &v, 8);
}

static inline void put_be32(void *p, uint32_t v)
{
	v = __builtin_bswap32(v);
	memcpy(p, &v, 4);
}

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "zfuse currently builds only on little-endian hosts"
#endif

#endif
