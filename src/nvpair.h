/*
 * nvpair.h — name/value lists in the XDR packed form ZFS stores in labels,
 * the MOS config and SA xattrs (pool-layer.md §2). Decoding builds an
 * immutable tree owned by its root; lookups return pointers into it.
 */
#ifndef ZFUSE_NVPAIR_H
#define ZFUSE_NVPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
	DATA_TYPE_UNKNOWN = 0, DATA_TYPE_BOOLEAN, DATA_TYPE_BYTE, DATA_TYPE_INT16,
	DATA_TYPE_UINT16, DATA_TYPE_INT32, DATA_TYPE_UINT32, DATA_TYPE_INT64,
	DATA_TYPE_UINT64, DATA_TYPE_STRING, DATA_TYPE_BYTE_ARRAY, DATA_TYPE_INT16_ARRAY,
	DATA_TYPE_UINT16_ARRAY, DATA_TYPE_INT32_ARRAY, DATA_TYPE_UINT32_ARRAY,
	DATA_TYPE_INT64_ARRAY, DATA_TYPE_UINT64_ARRAY, DATA_TYPE_STRING_ARRAY,
	DATA_TYPE_HRTIME, DATA_TYPE_NVLIST, DATA_TYPE_NVLIST_ARRAY,
	DATA_TYPE_BOOLEAN_VALUE, DATA_TYPE_INT8, DATA_TYPE_UINT8, DATA_TYPE_BOOLEAN_ARRAY,
	DATA_TYPE_INT8_ARRAY, DATA_TYPE_UINT8_ARRAY, DATA_TYPE_DOUBLE
} data_type_t;

typedef struct nvlist nvlist_t;
typedef struct nvpair nvpair_t;

/* Decode an XDR stream (header included). Errors: ZFUSE_E_CORRUPT,
 * ZFUSE_E_UNSUPPORTED (native encoding), ZFUSE_E_NOMEM. */
int nvlist_unpack(const void *buf, size_t len, nvlist_t **out);
void nvlist_free(nvlist_t *nvl);

/* Lookups: 0, -ZFUSE_E_NOENT (absent) or -ZFUSE_E_INVAL (other type). */
int nvlist_lookup_uint64(const nvlist_t *nvl, const char *name, uint64_t *v);
int nvlist_lookup_int64(const nvlist_t *nvl, const char *name, int64_t *v);
int nvlist_lookup_uint32(const nvlist_t *nvl, const char *name, uint32_t *v);
int nvlist_lookup_string(const nvlist_t *nvl, const char *name, const char **v);
int nvlist_lookup_nvlist(const nvlist_t *nvl, const char *name, const nvlist_t **v);
int nvlist_lookup_nvlist_array(const nvlist_t *nvl, const char *name,
			       const nvlist_t *const **v, uint32_t *n);
int nvlist_lookup_uint64_array(const nvlist_t *nvl, const char *name,
			       const uint64_t **v, uint32_t *n);
int nvlist_lookup_uint8_array(const nvlist_t *nvl, const char *name, const uint8_t **v, uint32_t *n);
int nvlist_lookup_byte_array(const nvlist_t *nvl, const char *name, const uint8_t **v, uint32_t *n);
int nvlist_lookup_boolean(const nvlist_t *nvl, const char *name);
int nvlist_lookup_boolean_value(const nvlist_t *nvl, const char *name, bool *v);
bool nvlist_exists(const nvlist_t *nvl, const char *name);

/* Iteration in stored order; NULL prev starts, NULL result ends. */
const nvpair_t *nvlist_next_nvpair(const nvlist_t *nvl, const nvpair_t *prev);
const char *nvpair_name(const nvpair_t *p);
data_type_t nvpair_type(const nvpair_t *p);
uint32_t nvpair_nelem(const nvpair_t *p);
/* Integer value of any scalar integer/boolean pair, widened. */
int nvpair_value_uint64(const nvpair_t *p, uint64_t *v);
int nvpair_value_string(const nvpair_t *p, const char **v);
int nvpair_value_nvlist(const nvpair_t *p, const nvlist_t **v);

/* zdb-like text and JSON renderings, for the inspector. */
void nv_json_string(FILE *f, const char *s);	/* a JSON string literal, escaped */
void nvlist_print_text(FILE *f, const nvlist_t *nvl, int indent);
void nvlist_print_json(FILE *f, const nvlist_t *nvl);

#endif
