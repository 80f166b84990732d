/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * nvpair.h — name/value lists in the XDR packed form ZFS stores in vdev
 * labels, the MOS config object and SA xattrs (pool-layer.md §2).
 *
 * One in-memory form serves both directions. nvlist_unpack() turns an
 * untrusted stream into a tree owned by its root: every pointer a lookup
 * or getter hands out points into that tree and lives until nvlist_free()
 * of the root, or until the pair holding it is replaced or removed.
 * Embedded lists are reachable only as const pointers, so the tree can be
 * changed only through its root. Building works on any root, decoded or
 * from nvlist_alloc(); an add copies its value (deep for lists) and, as
 * with libnvpair's NV_UNIQUE_NAME, first drops every pair of that name, so
 * the new pair lands at the end of the list. That order is what gets
 * packed, which is why a config edited here packs exactly as OpenZFS
 * would pack the same sequence of edits.
 *
 * Every call returns 0 or a negative ZFUSE_E* code (zfuse/errors.h).
 */
#ifndef ZFUSE_NVPAIR_H
#define ZFUSE_NVPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* OpenZFS's data_type_t codes; they are stored in the stream. */
typedef enum {
	DATA_TYPE_UNKNOWN = 0,
	DATA_TYPE_BOOLEAN = 1,
	DATA_TYPE_BYTE = 2,
	DATA_TYPE_INT16 = 3,
	DATA_TYPE_UINT16 = 4,
	DATA_TYPE_INT32 = 5,
	DATA_TYPE_UINT32 = 6,
	DATA_TYPE_INT64 = 7,
	DATA_TYPE_UINT64 = 8,
	DATA_TYPE_STRING = 9,
	DATA_TYPE_BYTE_ARRAY = 10,
	DATA_TYPE_INT16_ARRAY = 11,
	DATA_TYPE_UINT16_ARRAY = 12,
	DATA_TYPE_INT32_ARRAY = 13,
	DATA_TYPE_UINT32_ARRAY = 14,
	DATA_TYPE_INT64_ARRAY = 15,
	DATA_TYPE_UINT64_ARRAY = 16,
	DATA_TYPE_STRING_ARRAY = 17,
	DATA_TYPE_HRTIME = 18,
	DATA_TYPE_NVLIST = 19,
	DATA_TYPE_NVLIST_ARRAY = 20,
	DATA_TYPE_BOOLEAN_VALUE = 21,
	DATA_TYPE_INT8 = 22,
	DATA_TYPE_UINT8 = 23,
	DATA_TYPE_BOOLEAN_ARRAY = 24,
	DATA_TYPE_INT8_ARRAY = 25,
	DATA_TYPE_UINT8_ARRAY = 26,
	DATA_TYPE_DOUBLE = 27
} data_type_t;

typedef struct nvlist nvlist_t;
typedef struct nvpair nvpair_t;

/* Names longer than this cannot be stored (libnvpair keeps the name size,
 * NUL included, in an int16). */
#define NV_NAME_MAX 32766

/* ---- decoding ---------------------------------------------------------- */

/*
 * Decode a packed stream (4-byte header included). Bytes after the
 * top-level end marker are ignored: labels and the MOS config are padded.
 * What libnvpair refuses is refused (a decoded-size word that is not
 * exact, a boolean other than 0/1, a scalar whose nelem is not 1), and
 * the encoded-size words are not trusted, as libnvpair does not; what the
 * kernel wrote (labels, MOS config) re-packs to the very same bytes.
 * Errors: ZFUSE_E_CORRUPT (malformed in any way, nesting deeper than 32),
 * ZFUSE_E_UNSUPPORTED (native encoding, never used on disk),
 * ZFUSE_E_NOMEM. *out is NULL on failure.
 */
int nvlist_unpack(const void *buf, size_t len, nvlist_t **out);
void nvlist_free(nvlist_t *nvl);

/* ---- lookups ------------------------------------------------------------
 * 0; -ZFUSE_E_NOENT if no pair has that name; -ZFUSE_E_INVAL if pairs of
 * that name exist but none of the asked type. Arrays come back as
 * pointers into the list (NULL when n is 0). */
int nvlist_lookup_boolean(const nvlist_t *nvl, const char *name);
int nvlist_lookup_boolean_value(const nvlist_t *nvl, const char *name, bool *v);
int nvlist_lookup_byte(const nvlist_t *nvl, const char *name, uint8_t *v);
int nvlist_lookup_int8(const nvlist_t *nvl, const char *name, int8_t *v);
int nvlist_lookup_uint8(const nvlist_t *nvl, const char *name, uint8_t *v);
int nvlist_lookup_int16(const nvlist_t *nvl, const char *name, int16_t *v);
int nvlist_lookup_uint16(const nvlist_t *nvl, const char *name, uint16_t *v);
int nvlist_lookup_int32(const nvlist_t *nvl, const char *name, int32_t *v);
int nvlist_lookup_uint32(const nvlist_t *nvl, const char *name, uint32_t *v);
int nvlist_lookup_int64(const nvlist_t *nvl, const char *name, int64_t *v);
int nvlist_lookup_uint64(const nvlist_t *nvl, const char *name, uint64_t *v);
int nvlist_lookup_hrtime(const nvlist_t *nvl, const char *name, int64_t *v);
int nvlist_lookup_double(const nvlist_t *nvl, const char *name, double *v);
int nvlist_lookup_string(const nvlist_t *nvl, const char *name, const char **v);
int nvlist_lookup_nvlist(const nvlist_t *nvl, const char *name, const nvlist_t **v);
int nvlist_lookup_nvlist_array(const nvlist_t *nvl, const char *name,
			       const nvlist_t *const **v, uint32_t *n);
int nvlist_lookup_string_array(const nvlist_t *nvl, const char *name,
			       const char *const **v, uint32_t *n);
int nvlist_lookup_boolean_array(const nvlist_t *nvl, const char *name,
				const bool **v, uint32_t *n);
int nvlist_lookup_byte_array(const nvlist_t *nvl, const char *name,
			     const uint8_t **v, uint32_t *n);
int nvlist_lookup_int8_array(const nvlist_t *nvl, const char *name,
			     const int8_t **v, uint32_t *n);
int nvlist_lookup_uint8_array(const nvlist_t *nvl, const char *name,
			      const uint8_t **v, uint32_t *n);
int nvlist_lookup_int16_array(const nvlist_t *nvl, const char *name,
			      const int16_t **v, uint32_t *n);
int nvlist_lookup_uint16_array(const nvlist_t *nvl, const char *name,
			       const uint16_t **v, uint32_t *n);
int nvlist_lookup_int32_array(const nvlist_t *nvl, const char *name,
			      const int32_t **v, uint32_t *n);
int nvlist_lookup_uint32_array(const nvlist_t *nvl, const char *name,
			       const uint32_t **v, uint32_t *n);
int nvlist_lookup_int64_array(const nvlist_t *nvl, const char *name,
			      const int64_t **v, uint32_t *n);
int nvlist_lookup_uint64_array(const nvlist_t *nvl, const char *name,
			       const uint64_t **v, uint32_t *n);
bool nvlist_exists(const nvlist_t *nvl, const char *name);
bool nvlist_empty(const nvlist_t *nvl);

/* ---- iteration ----------------------------------------------------------
 * Stored order; NULL prev starts, NULL ends. prev must be a pair of nvl,
 * and adding to or removing from nvl invalidates it. */
const nvpair_t *nvlist_next_nvpair(const nvlist_t *nvl, const nvpair_t *prev);
const char *nvpair_name(const nvpair_t *p);
data_type_t nvpair_type(const nvpair_t *p);
uint32_t nvpair_nelem(const nvpair_t *p);	/* 0 BOOLEAN, 1 scalar, n array */

/* Typed getters: 0 or -ZFUSE_E_INVAL if the pair is of another type. */
int nvpair_value_boolean_value(const nvpair_t *p, bool *v);
int nvpair_value_byte(const nvpair_t *p, uint8_t *v);
int nvpair_value_int8(const nvpair_t *p, int8_t *v);
int nvpair_value_uint8(const nvpair_t *p, uint8_t *v);
int nvpair_value_int16(const nvpair_t *p, int16_t *v);
int nvpair_value_uint16(const nvpair_t *p, uint16_t *v);
int nvpair_value_int32(const nvpair_t *p, int32_t *v);
int nvpair_value_uint32(const nvpair_t *p, uint32_t *v);
int nvpair_value_int64(const nvpair_t *p, int64_t *v);
int nvpair_value_uint64(const nvpair_t *p, uint64_t *v);
int nvpair_value_hrtime(const nvpair_t *p, int64_t *v);
int nvpair_value_double(const nvpair_t *p, double *v);
int nvpair_value_string(const nvpair_t *p, const char **v);
int nvpair_value_nvlist(const nvpair_t *p, const nvlist_t **v);
int nvpair_value_nvlist_array(const nvpair_t *p, const nvlist_t *const **v, uint32_t *n);
int nvpair_value_string_array(const nvpair_t *p, const char *const **v, uint32_t *n);
int nvpair_value_boolean_array(const nvpair_t *p, const bool **v, uint32_t *n);
int nvpair_value_byte_array(const nvpair_t *p, const uint8_t **v, uint32_t *n);
int nvpair_value_int8_array(const nvpair_t *p, const int8_t **v, uint32_t *n);
int nvpair_value_uint8_array(const nvpair_t *p, const uint8_t **v, uint32_t *n);
int nvpair_value_int16_array(const nvpair_t *p, const int16_t **v, uint32_t *n);
int nvpair_value_uint16_array(const nvpair_t *p, const uint16_t **v, uint32_t *n);
int nvpair_value_int32_array(const nvpair_t *p, const int32_t **v, uint32_t *n);
int nvpair_value_uint32_array(const nvpair_t *p, const uint32_t **v, uint32_t *n);
int nvpair_value_int64_array(const nvpair_t *p, const int64_t **v, uint32_t *n);
int nvpair_value_uint64_array(const nvpair_t *p, const uint64_t **v, uint32_t *n);

/* ---- building -----------------------------------------------------------
 * Errors: ZFUSE_E_INVAL (NULL list or name, name over NV_NAME_MAX, NULL
 * array with n > 0, adding a list to itself), ZFUSE_E_NOMEM. A failed
 * add leaves the list as it was. */
int nvlist_alloc(nvlist_t **out);
int nvlist_dup(const nvlist_t *src, nvlist_t **out);
int nvlist_add_boolean(nvlist_t *nvl, const char *name);
int nvlist_add_boolean_value(nvlist_t *nvl, const char *name, bool v);
int nvlist_add_byte(nvlist_t *nvl, const char *name, uint8_t v);
int nvlist_add_int8(nvlist_t *nvl, const char *name, int8_t v);
int nvlist_add_uint8(nvlist_t *nvl, const char *name, uint8_t v);
int nvlist_add_int16(nvlist_t *nvl, const char *name, int16_t v);
int nvlist_add_uint16(nvlist_t *nvl, const char *name, uint16_t v);
int nvlist_add_int32(nvlist_t *nvl, const char *name, int32_t v);
int nvlist_add_uint32(nvlist_t *nvl, const char *name, uint32_t v);
int nvlist_add_int64(nvlist_t *nvl, const char *name, int64_t v);
int nvlist_add_uint64(nvlist_t *nvl, const char *name, uint64_t v);
int nvlist_add_hrtime(nvlist_t *nvl, const char *name, int64_t v);
int nvlist_add_double(nvlist_t *nvl, const char *name, double v);
int nvlist_add_string(nvlist_t *nvl, const char *name, const char *v);
int nvlist_add_nvlist(nvlist_t *nvl, const char *name, const nvlist_t *v);
int nvlist_add_nvlist_array(nvlist_t *nvl, const char *name,
			    const nvlist_t *const *v, uint32_t n);
int nvlist_add_string_array(nvlist_t *nvl, const char *name,
			    const char *const *v, uint32_t n);
int nvlist_add_boolean_array(nvlist_t *nvl, const char *name, const bool *v, uint32_t n);
int nvlist_add_byte_array(nvlist_t *nvl, const char *name, const uint8_t *v, uint32_t n);
int nvlist_add_int8_array(nvlist_t *nvl, const char *name, const int8_t *v, uint32_t n);
int nvlist_add_uint8_array(nvlist_t *nvl, const char *name, const uint8_t *v, uint32_t n);
int nvlist_add_int16_array(nvlist_t *nvl, const char *name, const int16_t *v, uint32_t n);
int nvlist_add_uint16_array(nvlist_t *nvl, const char *name, const uint16_t *v, uint32_t n);
int nvlist_add_int32_array(nvlist_t *nvl, const char *name, const int32_t *v, uint32_t n);
int nvlist_add_uint32_array(nvlist_t *nvl, const char *name, const uint32_t *v, uint32_t n);
int nvlist_add_int64_array(nvlist_t *nvl, const char *name, const int64_t *v, uint32_t n);
int nvlist_add_uint64_array(nvlist_t *nvl, const char *name, const uint64_t *v, uint32_t n);
/* Drop every pair of that name: 0 or -ZFUSE_E_NOENT. */
int nvlist_remove(nvlist_t *nvl, const char *name);

/* ---- encoding -----------------------------------------------------------
 * The bytes libnvpair's nvlist_size()/nvlist_pack(NV_ENCODE_XDR) give for
 * the same list, header and size fields included. libnvpair counts a
 * count word for an empty integer or boolean array but writes none; the
 * size here counts it too and the pack zero fills the stream up to that
 * size, so *used is always the size. Errors: ZFUSE_E_INVAL
 * (nesting deeper than OpenZFS's kernel decodes, 20 embedded levels, or a
 * stream over 2 GiB), ZFUSE_E_RANGE (cap < size; nothing written). */
int nvlist_size_xdr(const nvlist_t *nvl, size_t *size);
int nvlist_pack_xdr(const nvlist_t *nvl, void *buf, size_t cap, size_t *used);

/* ---- printing ----------------------------------------------------------- */

/* A JSON string literal: escaped, and always valid UTF-8 (bytes that are
 * not are written as the code point of the same value). */
void nv_json_string(FILE *f, const char *s);
/* libnvpair's dump_nvlist() layout, as zdb -l prints a label: "name: value"
 * lines, strings quoted, arrays one "name[i]: value" line per element,
 * nested lists 4 columns deeper. */
void nvlist_print_text(FILE *f, const nvlist_t *nvl, int indent);
/* One JSON object: integers as numbers, BOOLEAN as true, arrays as arrays,
 * nested lists as objects. Duplicate names (possible only in a decoded
 * stream) are written as they are. */
void nvlist_print_json(FILE *f, const nvlist_t *nvl);

#endif
