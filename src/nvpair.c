/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * nvpair.c — name/value lists and their XDR packed form (pool-layer.md §2).
 *
 * One tree serves reading and writing. A list is an array of pairs in
 * stored order; every value lives in its own allocation, so growing or
 * shrinking the array never moves a value a caller was handed.
 *
 * Decoding treats the stream as untrusted and accepts exactly what
 * libnvpair's decoder accepts (up to a more generous nesting limit): every
 * read is bounds checked, each pair's decoded size must be the one
 * libnvpair computes, and booleans must be 0 or 1. Like libnvpair it walks
 * the stream sequentially and never positions by a pair's encoded size,
 * which libnvpair itself gets wrong for empty integer arrays (see below).
 *
 * Encoding reproduces nvlist_size()/nvlist_pack(NV_ENCODE_XDR) byte for
 * byte, quirks included: an empty integer or boolean array is counted as
 * if its XDR count word were written, but no value bytes are emitted, so
 * the sizes (pair encoded size, list size, stream size) run 4 bytes ahead
 * of the data for each one; the stream is then zero filled up to the
 * stated size, as libnvpair's zeroed buffer is. 8- and 16-bit integers
 * are written zero-extended, as the kernel's XDR does (its decoder
 * rejects anything wider; userland libtirpc would sign-extend).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "byteorder.h"
#include "nvpair.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define NV_MAX_DEPTH 32		/* decoding: deeper streams are corrupt */
#define NV_PACK_MAX_DEPTH 20	/* encoding: the kernel's nvpair_max_recursion */
#define NV_MAX_ELEMS (1u << 24)
#define NV_UNIQUE_NAME 1u
#define NV_STREAM_MAX INT32_MAX	/* every size libnvpair keeps is an int32 */

struct nvpair {
	char *name;
	data_type_t type;
	uint32_t nelem;
	uint64_t u64;		/* scalars; signed types sign-extended, DOUBLE as bits */
	char *str;		/* STRING */
	void *array;		/* numeric arrays, host order, element width elem_width() */
	char **strs;		/* STRING_ARRAY */
	nvlist_t **lists;	/* NVLIST (1) / NVLIST_ARRAY (nelem) */
};

struct nvlist {
	nvpair_t *pairs;
	uint32_t npairs, cap;
	uint32_t flags;		/* nvl_nvflag, kept so a decoded list packs as it came */
};

static uint32_t nlists(const nvpair_t *p)
{
	return p->type == DATA_TYPE_NVLIST ? 1 : p->type == DATA_TYPE_NVLIST_ARRAY ? p->nelem : 0;
}

/* Bytes per element of the host-order array of a numeric array type; 0 for others. */
static size_t elem_width(data_type_t t)
{
	switch (t) {
	case DATA_TYPE_BYTE_ARRAY: case DATA_TYPE_INT8_ARRAY: case DATA_TYPE_UINT8_ARRAY: return 1;
	case DATA_TYPE_INT16_ARRAY: case DATA_TYPE_UINT16_ARRAY: return 2;
	case DATA_TYPE_INT32_ARRAY: case DATA_TYPE_UINT32_ARRAY: return 4;
	case DATA_TYPE_INT64_ARRAY: case DATA_TYPE_UINT64_ARRAY: return 8;
	case DATA_TYPE_BOOLEAN_ARRAY: return sizeof(bool);
	default: return 0;
	}
}

static bool is_signed(data_type_t t)
{
	switch (t) {
	case DATA_TYPE_INT8: case DATA_TYPE_INT16: case DATA_TYPE_INT32: case DATA_TYPE_INT64:
	case DATA_TYPE_HRTIME: case DATA_TYPE_INT8_ARRAY: case DATA_TYPE_INT16_ARRAY:
	case DATA_TYPE_INT32_ARRAY: case DATA_TYPE_INT64_ARRAY:
		return true;
	default:
		return false;
	}
}

/* Element i of a numeric array, sign-extended for signed types. */
static uint64_t elem_get(const nvpair_t *p, uint32_t i)
{
	bool s = is_signed(p->type);
	switch (elem_width(p->type)) {
	case 1:
		if (p->type == DATA_TYPE_BOOLEAN_ARRAY)
			return ((const bool *)p->array)[i];
		return s ? (uint64_t)((const int8_t *)p->array)[i] : ((const uint8_t *)p->array)[i];
	case 2: return s ? (uint64_t)((const int16_t *)p->array)[i] : ((const uint16_t *)p->array)[i];
	case 4: return s ? (uint64_t)((const int32_t *)p->array)[i] : ((const uint32_t *)p->array)[i];
	case 8: return ((const uint64_t *)p->array)[i];
	default: return 0;
	}
}

static void elem_set(nvpair_t *p, uint32_t i, uint64_t v)
{
	switch (elem_width(p->type)) {
	case 1:
		if (p->type == DATA_TYPE_BOOLEAN_ARRAY)
			((bool *)p->array)[i] = v != 0;
		else
			((uint8_t *)p->array)[i] = (uint8_t)v;
		break;
	case 2: ((uint16_t *)p->array)[i] = (uint16_t)v; break;
	case 4: ((uint32_t *)p->array)[i] = (uint32_t)v; break;
	case 8: ((uint64_t *)p->array)[i] = v; break;
	}
}

/* A scalar's 32-bit XDR word as stored in memory: truncated to the type's
 * width, then sign-extended for signed types. */
static uint64_t narrow(data_type_t t, uint64_t v)
{
	switch (t) {
	case DATA_TYPE_INT8: case DATA_TYPE_INT8_ARRAY: return (uint64_t)(int8_t)v;
	case DATA_TYPE_BYTE: case DATA_TYPE_UINT8: case DATA_TYPE_UINT8_ARRAY: return (uint8_t)v;
	case DATA_TYPE_INT16: case DATA_TYPE_INT16_ARRAY: return (uint64_t)(int16_t)v;
	case DATA_TYPE_UINT16: case DATA_TYPE_UINT16_ARRAY: return (uint16_t)v;
	case DATA_TYPE_INT32: case DATA_TYPE_INT32_ARRAY: return (uint64_t)(int32_t)v;
	default: return (uint32_t)v;
	}
}

/* ---- memory ------------------------------------------------------------- */

static void pair_free(nvpair_t *p)
{
	free(p->name);
	free(p->str);
	free(p->array);
	if (p->strs)
		for (uint32_t i = 0; i < p->nelem; i++)
			free(p->strs[i]);
	free(p->strs);
	if (p->lists)
		for (uint32_t i = 0; i < nlists(p); i++)
			nvlist_free(p->lists[i]);
	free(p->lists);
	memset(p, 0, sizeof(*p));
}

void nvlist_free(nvlist_t *nvl)
{
	if (!nvl)
		return;
	for (uint32_t i = 0; i < nvl->npairs; i++)
		pair_free(&nvl->pairs[i]);
	free(nvl->pairs);
	free(nvl);
}

static nvlist_t *list_new(uint32_t flags)
{
	nvlist_t *nvl = calloc(1, sizeof(*nvl));
	if (nvl)
		nvl->flags = flags;
	return nvl;
}

/* Room for one more pair; nothing changes on failure. */
static int reserve_pair(nvlist_t *nvl)
{
	if (nvl->npairs < nvl->cap)
		return 0;
	uint32_t cap = nvl->cap ? nvl->cap * 2 : 8;
	if (cap <= nvl->cap)
		return -ZFUSE_E_NOMEM;
	nvpair_t *np = realloc(nvl->pairs, (size_t)cap * sizeof(*np));
	if (!np)
		return -ZFUSE_E_NOMEM;
	nvl->pairs = np;
	nvl->cap = cap;
	return 0;
}

/* ---- decoding ----------------------------------------------------------- */

struct xdr_in {
	const uint8_t *p, *end;
};

static int get32(struct xdr_in *x, uint32_t *v)
{
	if (x->end - x->p < 4)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	*v = be32(x->p);
	x->p += 4;
	return 0;
}

static int get64(struct xdr_in *x, uint64_t *v)
{
	if (x->end - x->p < 8)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	*v = be64(x->p);
	x->p += 8;
	return 0;
}

static int get_bytes(struct xdr_in *x, size_t n, const uint8_t **out)
{
	size_t padded = (n + 3) & ~(size_t)3;
	if (padded < n || (size_t)(x->end - x->p) < padded)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	*out = x->p;
	x->p += padded;
	return 0;
}

/* Whether n elements of at least min_size encoded bytes each can still
 * follow: arrays are allocated by their claimed count, and a count no
 * stream could hold would cost the allocation of one that could. */
static int room_for(const struct xdr_in *x, uint32_t n, size_t min_size)
{
	if ((uint64_t)n * min_size > (uint64_t)(x->end - x->p))
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	return 0;
}

static int get_string(struct xdr_in *x, char **out)
{
	uint32_t len;
	const uint8_t *b;
	int rc = get32(x, &len);
	if (rc || (rc = get_bytes(x, len, &b)))
		return rc;
	if (memchr(b, 0, len))
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	*out = malloc((size_t)len + 1);
	if (!*out)
		return -ZFUSE_E_NOMEM;
	memcpy(*out, b, len);
	(*out)[len] = 0;
	return 0;
}

static int decode_list(struct xdr_in *x, nvlist_t **out, int depth);

/* An XDR array of 4- or 8-byte words: a count equal to nelem, then the words. */
static int decode_int_array(struct xdr_in *x, nvpair_t *p, bool wide)
{
	uint32_t count;
	int rc = get32(x, &count);
	if (rc)
		return rc;
	if (count != p->nelem)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	if ((rc = room_for(x, count, wide ? 8 : 4)))
		return rc;
	if (!(p->array = calloc(count ? count : 1, elem_width(p->type))))
		return -ZFUSE_E_NOMEM;
	for (uint32_t i = 0; i < count; i++) {
		uint64_t v;
		uint32_t v32;
		if (wide) {
			rc = get64(x, &v);
		} else {
			rc = get32(x, &v32);
			v = narrow(p->type, v32);
			if (p->type == DATA_TYPE_BOOLEAN_ARRAY && v32 > 1)
				rc = SET_ERROR(-ZFUSE_E_CORRUPT);
		}
		if (rc)
			return rc;
		elem_set(p, i, v);
	}
	return 0;
}

static int decode_value(struct xdr_in *x, nvpair_t *p, int depth)
{
	uint32_t v32;
	const uint8_t *b;
	int rc = 0;
	bool array = elem_width(p->type) || p->type == DATA_TYPE_STRING_ARRAY ||
		     p->type == DATA_TYPE_NVLIST_ARRAY;
	if (p->type == DATA_TYPE_BOOLEAN ? p->nelem != 0 : !array && p->nelem != 1)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	/* libnvpair stores nothing after nelem when it is 0, whatever the type. */
	if (p->nelem == 0) {
		if (p->type == DATA_TYPE_UNKNOWN || p->type > DATA_TYPE_DOUBLE)
			return SET_ERROR(-ZFUSE_E_CORRUPT);
		if (elem_width(p->type) && !(p->array = malloc(1)))
			return -ZFUSE_E_NOMEM;
		if (p->type == DATA_TYPE_STRING_ARRAY && !(p->strs = calloc(1, sizeof(char *))))
			return -ZFUSE_E_NOMEM;
		if (p->type == DATA_TYPE_NVLIST_ARRAY && !(p->lists = calloc(1, sizeof(nvlist_t *))))
			return -ZFUSE_E_NOMEM;
		return 0;
	}
	switch (p->type) {
	case DATA_TYPE_BYTE: case DATA_TYPE_INT16: case DATA_TYPE_UINT16:
	case DATA_TYPE_INT32: case DATA_TYPE_UINT32: case DATA_TYPE_BOOLEAN_VALUE:
	case DATA_TYPE_INT8: case DATA_TYPE_UINT8:
		if ((rc = get32(x, &v32)))
			return rc;
		if (p->type == DATA_TYPE_BOOLEAN_VALUE && v32 > 1)
			return SET_ERROR(-ZFUSE_E_CORRUPT);
		p->u64 = narrow(p->type, v32);
		return 0;
	case DATA_TYPE_INT64: case DATA_TYPE_UINT64: case DATA_TYPE_HRTIME: case DATA_TYPE_DOUBLE:
		return get64(x, &p->u64);
	case DATA_TYPE_STRING:
		return get_string(x, &p->str);
	case DATA_TYPE_BYTE_ARRAY:
		if ((rc = get_bytes(x, p->nelem, &b)))
			return rc;
		if (!(p->array = malloc(p->nelem)))
			return -ZFUSE_E_NOMEM;
		memcpy(p->array, b, p->nelem);
		return 0;
	case DATA_TYPE_INT8_ARRAY: case DATA_TYPE_UINT8_ARRAY:
	case DATA_TYPE_INT16_ARRAY: case DATA_TYPE_UINT16_ARRAY:
	case DATA_TYPE_INT32_ARRAY: case DATA_TYPE_UINT32_ARRAY: case DATA_TYPE_BOOLEAN_ARRAY:
		return decode_int_array(x, p, false);
	case DATA_TYPE_INT64_ARRAY: case DATA_TYPE_UINT64_ARRAY:
		return decode_int_array(x, p, true);
	case DATA_TYPE_STRING_ARRAY:
		/* a length word each, at least */
		if ((rc = room_for(x, p->nelem, 4)))
			return rc;
		if (!(p->strs = calloc(p->nelem, sizeof(char *))))
			return -ZFUSE_E_NOMEM;
		for (uint32_t i = 0; i < p->nelem && rc == 0; i++)
			rc = get_string(x, &p->strs[i]);
		return rc;
	case DATA_TYPE_NVLIST:
	case DATA_TYPE_NVLIST_ARRAY:
		/* version, flags and the two words that end a list, at least */
		if ((rc = room_for(x, p->nelem, 16)))
			return rc;
		if (!(p->lists = calloc(p->nelem, sizeof(nvlist_t *))))
			return -ZFUSE_E_NOMEM;
		for (uint32_t i = 0; i < p->nelem && rc == 0; i++)
			rc = decode_list(x, &p->lists[i], depth + 1);
		return rc;
	default:
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	}
}

static uint64_t pair_decoded_size(const nvpair_t *p);

static int decode_list(struct xdr_in *x, nvlist_t **out, int depth)
{
	if (depth > NV_MAX_DEPTH)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	uint32_t version, flags;
	int rc = get32(x, &version);
	if (rc || (rc = get32(x, &flags)))
		return rc;
	if (version != 0)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	nvlist_t *nvl = list_new(flags);
	if (!nvl)
		return -ZFUSE_E_NOMEM;
	for (;;) {
		uint32_t encsize, decsize, type;
		if ((rc = get32(x, &encsize)) || (rc = get32(x, &decsize)))
			break;
		/* libnvpair ends the list on a zero decoded size alone. */
		if (decsize == 0)
			break;
		if ((rc = reserve_pair(nvl)))
			break;
		nvpair_t *p = &nvl->pairs[nvl->npairs++];
		memset(p, 0, sizeof(*p));
		if ((rc = get_string(x, &p->name)) || (rc = get32(x, &type)) ||
		    (rc = get32(x, &p->nelem)))
			break;
		p->type = (data_type_t)type;
		if (p->nelem > NV_MAX_ELEMS) {
			rc = SET_ERROR(-ZFUSE_E_CORRUPT);
			break;
		}
		if ((rc = decode_value(x, p, depth)))
			break;
		if (pair_decoded_size(p) != decsize) {
			rc = SET_ERROR(-ZFUSE_E_CORRUPT);
			break;
		}
	}
	if (rc) {
		nvlist_free(nvl);
		return rc;
	}
	*out = nvl;
	return 0;
}

int nvlist_unpack(const void *buf, size_t len, nvlist_t **out)
{
	*out = NULL;
	const uint8_t *b = buf;
	if (len < 4)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	if (b[0] != 1)
		return b[0] == 0 ? -ZFUSE_E_UNSUPPORTED : SET_ERROR(-ZFUSE_E_CORRUPT);
	struct xdr_in x = { b + 4, b + len };
	return decode_list(&x, out, 0);
}

/* ---- lookups and getters ------------------------------------------------ */

/* The last pair of that name and type (in a list built here names are
 * unique; a decoded stream may repeat one, and the last then wins). */
static int find_typed(const nvlist_t *nvl, const char *name, data_type_t type,
		      const nvpair_t **out)
{
	if (!nvl || !name)
		return -ZFUSE_E_INVAL;
	bool named = false;
	for (uint32_t i = nvl->npairs; i-- > 0;) {
		if (strcmp(nvl->pairs[i].name, name) != 0)
			continue;
		if (nvl->pairs[i].type == type) {
			*out = &nvl->pairs[i];
			return 0;
		}
		named = true;
	}
	return named ? -ZFUSE_E_INVAL : -ZFUSE_E_NOENT;
}

bool nvlist_exists(const nvlist_t *nvl, const char *name)
{
	for (uint32_t i = 0; nvl && name && i < nvl->npairs; i++)
		if (strcmp(nvl->pairs[i].name, name) == 0)
			return true;
	return false;
}

bool nvlist_empty(const nvlist_t *nvl)
{
	return !nvl || nvl->npairs == 0;
}

int nvlist_lookup_boolean(const nvlist_t *nvl, const char *name)
{
	const nvpair_t *p;
	return find_typed(nvl, name, DATA_TYPE_BOOLEAN, &p);
}

#define SCALAR_GET(suffix, ctype, dtype)						\
	int nvpair_value_##suffix(const nvpair_t *p, ctype *v)				\
	{										\
		if (!p || p->type != (dtype))						\
			return -ZFUSE_E_INVAL;						\
		*v = (ctype)p->u64;							\
		return 0;								\
	}										\
	int nvlist_lookup_##suffix(const nvlist_t *nvl, const char *name, ctype *v)	\
	{										\
		const nvpair_t *p;							\
		int rc = find_typed(nvl, name, (dtype), &p);				\
		return rc ? rc : nvpair_value_##suffix(p, v);				\
	}

SCALAR_GET(byte, uint8_t, DATA_TYPE_BYTE)
SCALAR_GET(int8, int8_t, DATA_TYPE_INT8)
SCALAR_GET(uint8, uint8_t, DATA_TYPE_UINT8)
SCALAR_GET(int16, int16_t, DATA_TYPE_INT16)
SCALAR_GET(uint16, uint16_t, DATA_TYPE_UINT16)
SCALAR_GET(int32, int32_t, DATA_TYPE_INT32)
SCALAR_GET(uint32, uint32_t, DATA_TYPE_UINT32)
SCALAR_GET(int64, int64_t, DATA_TYPE_INT64)
SCALAR_GET(uint64, uint64_t, DATA_TYPE_UINT64)
SCALAR_GET(hrtime, int64_t, DATA_TYPE_HRTIME)

int nvpair_value_boolean_value(const nvpair_t *p, bool *v)
{
	if (!p || p->type != DATA_TYPE_BOOLEAN_VALUE)
		return -ZFUSE_E_INVAL;
	*v = p->u64 != 0;
	return 0;
}

int nvlist_lookup_boolean_value(const nvlist_t *nvl, const char *name, bool *v)
{
	const nvpair_t *p;
	int rc = find_typed(nvl, name, DATA_TYPE_BOOLEAN_VALUE, &p);
	return rc ? rc : nvpair_value_boolean_value(p, v);
}

int nvpair_value_double(const nvpair_t *p, double *v)
{
	if (!p || p->type != DATA_TYPE_DOUBLE)
		return -ZFUSE_E_INVAL;
	memcpy(v, &p->u64, sizeof(*v));
	return 0;
}

int nvlist_lookup_double(const nvlist_t *nvl, const char *name, double *v)
{
	const nvpair_t *p;
	int rc = find_typed(nvl, name, DATA_TYPE_DOUBLE, &p);
	return rc ? rc : nvpair_value_double(p, v);
}

int nvpair_value_string(const nvpair_t *p, const char **v)
{
	if (!p || p->type != DATA_TYPE_STRING)
		return -ZFUSE_E_INVAL;
	*v = p->str;
	return 0;
}

int nvlist_lookup_string(const nvlist_t *nvl, const char *name, const char **v)
{
	const nvpair_t *p;
	int rc = find_typed(nvl, name, DATA_TYPE_STRING, &p);
	return rc ? rc : nvpair_value_string(p, v);
}

int nvpair_value_nvlist(const nvpair_t *p, const nvlist_t **v)
{
	if (!p || p->type != DATA_TYPE_NVLIST)
		return -ZFUSE_E_INVAL;
	*v = p->lists[0];
	return 0;
}

int nvlist_lookup_nvlist(const nvlist_t *nvl, const char *name, const nvlist_t **v)
{
	const nvpair_t *p;
	int rc = find_typed(nvl, name, DATA_TYPE_NVLIST, &p);
	return rc ? rc : nvpair_value_nvlist(p, v);
}

/* Arrays: a pointer into the pair, NULL when empty. */
#define ARRAY_GET(suffix, ctype, field, dtype)						\
	int nvpair_value_##suffix(const nvpair_t *p, ctype **v, uint32_t *n)		\
	{										\
		if (!p || p->type != (dtype))						\
			return -ZFUSE_E_INVAL;						\
		*v = p->nelem ? (ctype *)p->field : NULL;				\
		*n = p->nelem;								\
		return 0;								\
	}										\
	int nvlist_lookup_##suffix(const nvlist_t *nvl, const char *name, ctype **v,	\
				   uint32_t *n)						\
	{										\
		const nvpair_t *p;							\
		int rc = find_typed(nvl, name, (dtype), &p);				\
		return rc ? rc : nvpair_value_##suffix(p, v, n);			\
	}

ARRAY_GET(nvlist_array, const nvlist_t *const, lists, DATA_TYPE_NVLIST_ARRAY)
ARRAY_GET(string_array, const char *const, strs, DATA_TYPE_STRING_ARRAY)
ARRAY_GET(boolean_array, const bool, array, DATA_TYPE_BOOLEAN_ARRAY)
ARRAY_GET(byte_array, const uint8_t, array, DATA_TYPE_BYTE_ARRAY)
ARRAY_GET(int8_array, const int8_t, array, DATA_TYPE_INT8_ARRAY)
ARRAY_GET(uint8_array, const uint8_t, array, DATA_TYPE_UINT8_ARRAY)
ARRAY_GET(int16_array, const int16_t, array, DATA_TYPE_INT16_ARRAY)
ARRAY_GET(uint16_array, const uint16_t, array, DATA_TYPE_UINT16_ARRAY)
ARRAY_GET(int32_array, const int32_t, array, DATA_TYPE_INT32_ARRAY)
ARRAY_GET(uint32_array, const uint32_t, array, DATA_TYPE_UINT32_ARRAY)
ARRAY_GET(int64_array, const int64_t, array, DATA_TYPE_INT64_ARRAY)
ARRAY_GET(uint64_array, const uint64_t, array, DATA_TYPE_UINT64_ARRAY)

/* ---- iteration ---------------------------------------------------------- */

const nvpair_t *nvlist_next_nvpair(const nvlist_t *nvl, const nvpair_t *prev)
{
	if (!nvl || nvl->npairs == 0)
		return NULL;
	if (!prev)
		return &nvl->pairs[0];
	size_t i = (size_t)(prev - nvl->pairs) + 1;
	return i < nvl->npairs ? &nvl->pairs[i] : NULL;
}

const char *nvpair_name(const nvpair_t *p) { return p->name; }
data_type_t nvpair_type(const nvpair_t *p) { return p->type; }
uint32_t nvpair_nelem(const nvpair_t *p) { return p->nelem; }

/* ---- building ----------------------------------------------------------- */

static int list_copy(const nvlist_t *src, nvlist_t **out);

/* Deep copy of src's value into dst (name excluded); dst is left empty on failure. */
static int value_copy(const nvpair_t *src, nvpair_t *dst)
{
	dst->type = src->type;
	dst->nelem = src->nelem;
	dst->u64 = src->u64;
	int rc = -ZFUSE_E_NOMEM;
	size_t w = elem_width(src->type);
	if (src->type == DATA_TYPE_STRING) {
		if (!(dst->str = strdup(src->str)))
			goto fail;
	} else if (w) {
		if (!(dst->array = malloc(src->nelem ? (size_t)src->nelem * w : 1)))
			goto fail;
		if (src->nelem)
			memcpy(dst->array, src->array, (size_t)src->nelem * w);
	} else if (src->type == DATA_TYPE_STRING_ARRAY) {
		if (!(dst->strs = calloc(src->nelem ? src->nelem : 1, sizeof(char *))))
			goto fail;
		for (uint32_t i = 0; i < src->nelem; i++)
			if (!(dst->strs[i] = strdup(src->strs[i])))
				goto fail;
	} else if (nlists(src) || src->type == DATA_TYPE_NVLIST_ARRAY) {
		uint32_t n = nlists(src);
		if (!(dst->lists = calloc(n ? n : 1, sizeof(nvlist_t *))))
			goto fail;
		for (uint32_t i = 0; i < n; i++)
			if ((rc = list_copy(src->lists[i], &dst->lists[i])))
				goto fail;
	}
	return 0;
fail:
	pair_free(dst);
	return rc;
}

static int list_copy(const nvlist_t *src, nvlist_t **out)
{
	nvlist_t *nvl = list_new(src->flags);
	if (!nvl)
		return -ZFUSE_E_NOMEM;
	for (uint32_t i = 0; i < src->npairs; i++) {
		int rc = reserve_pair(nvl);
		nvpair_t *d = &nvl->pairs[nvl->npairs];
		if (rc == 0) {
			memset(d, 0, sizeof(*d));
			rc = value_copy(&src->pairs[i], d);
		}
		if (rc == 0 && !(d->name = strdup(src->pairs[i].name))) {
			pair_free(d);
			rc = -ZFUSE_E_NOMEM;
		}
		if (rc) {
			nvlist_free(nvl);
			return rc;
		}
		nvl->npairs++;
	}
	*out = nvl;
	return 0;
}

int nvlist_alloc(nvlist_t **out)
{
	if (!out)
		return -ZFUSE_E_INVAL;
	*out = list_new(NV_UNIQUE_NAME);
	return *out ? 0 : -ZFUSE_E_NOMEM;
}

int nvlist_dup(const nvlist_t *src, nvlist_t **out)
{
	if (!src || !out)
		return -ZFUSE_E_INVAL;
	*out = NULL;
	return list_copy(src, out);
}

static void remove_all(nvlist_t *nvl, const char *name)
{
	uint32_t kept = 0;
	for (uint32_t i = 0; i < nvl->npairs; i++) {
		if (strcmp(nvl->pairs[i].name, name) == 0)
			pair_free(&nvl->pairs[i]);
		else
			nvl->pairs[kept++] = nvl->pairs[i];
	}
	nvl->npairs = kept;
}

int nvlist_remove(nvlist_t *nvl, const char *name)
{
	if (!nvl || !name)
		return -ZFUSE_E_INVAL;
	if (!nvlist_exists(nvl, name))
		return -ZFUSE_E_NOENT;
	remove_all(nvl, name);
	return 0;
}

/*
 * The one way a pair gets added: the value described by tmp (which may
 * borrow the caller's memory, even memory inside nvl) is copied before
 * anything of nvl is touched, so an add fails cleanly and may replace a
 * pair with a value taken from that very pair.
 */
static int add_copy(nvlist_t *nvl, const char *name, const nvpair_t *tmp)
{
	if (!nvl || !name || strlen(name) > NV_NAME_MAX)
		return -ZFUSE_E_INVAL;
	nvpair_t np = { 0 };
	int rc = value_copy(tmp, &np);
	if (rc)
		return rc;
	if (!(np.name = strdup(name)) || (rc = reserve_pair(nvl))) {
		pair_free(&np);
		return rc ? rc : -ZFUSE_E_NOMEM;
	}
	remove_all(nvl, name);
	nvl->pairs[nvl->npairs++] = np;
	return 0;
}

static int add_scalar(nvlist_t *nvl, const char *name, data_type_t type, uint64_t v)
{
	nvpair_t tmp = { .type = type, .nelem = type == DATA_TYPE_BOOLEAN ? 0 : 1, .u64 = v };
	return add_copy(nvl, name, &tmp);
}

int nvlist_add_boolean(nvlist_t *nvl, const char *name)
{
	return add_scalar(nvl, name, DATA_TYPE_BOOLEAN, 0);
}

int nvlist_add_boolean_value(nvlist_t *nvl, const char *name, bool v)
{
	return add_scalar(nvl, name, DATA_TYPE_BOOLEAN_VALUE, v ? 1 : 0);
}

/* (uint64_t) of a signed value sign-extends, which is how scalars are kept. */
#define SCALAR_ADD(suffix, ctype, dtype)						\
	int nvlist_add_##suffix(nvlist_t *nvl, const char *name, ctype v)		\
	{										\
		return add_scalar(nvl, name, (dtype), (uint64_t)v);			\
	}

SCALAR_ADD(byte, uint8_t, DATA_TYPE_BYTE)
SCALAR_ADD(int8, int8_t, DATA_TYPE_INT8)
SCALAR_ADD(uint8, uint8_t, DATA_TYPE_UINT8)
SCALAR_ADD(int16, int16_t, DATA_TYPE_INT16)
SCALAR_ADD(uint16, uint16_t, DATA_TYPE_UINT16)
SCALAR_ADD(int32, int32_t, DATA_TYPE_INT32)
SCALAR_ADD(uint32, uint32_t, DATA_TYPE_UINT32)
SCALAR_ADD(int64, int64_t, DATA_TYPE_INT64)
SCALAR_ADD(uint64, uint64_t, DATA_TYPE_UINT64)
SCALAR_ADD(hrtime, int64_t, DATA_TYPE_HRTIME)

int nvlist_add_double(nvlist_t *nvl, const char *name, double v)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof(bits));
	return add_scalar(nvl, name, DATA_TYPE_DOUBLE, bits);
}

int nvlist_add_string(nvlist_t *nvl, const char *name, const char *v)
{
	if (!v)
		return -ZFUSE_E_INVAL;
	nvpair_t tmp = { .type = DATA_TYPE_STRING, .nelem = 1, .str = (char *)v };
	return add_copy(nvl, name, &tmp);
}

int nvlist_add_nvlist(nvlist_t *nvl, const char *name, const nvlist_t *v)
{
	if (!v || v == nvl)
		return -ZFUSE_E_INVAL;
	nvlist_t *one[1] = { (nvlist_t *)v };
	nvpair_t tmp = { .type = DATA_TYPE_NVLIST, .nelem = 1, .lists = one };
	return add_copy(nvl, name, &tmp);
}

int nvlist_add_nvlist_array(nvlist_t *nvl, const char *name, const nvlist_t *const *v, uint32_t n)
{
	if (n && !v)
		return -ZFUSE_E_INVAL;
	for (uint32_t i = 0; i < n; i++)
		if (!v[i] || v[i] == nvl)
			return -ZFUSE_E_INVAL;
	nvpair_t tmp = { .type = DATA_TYPE_NVLIST_ARRAY, .nelem = n, .lists = (nvlist_t **)v };
	return add_copy(nvl, name, &tmp);
}

int nvlist_add_string_array(nvlist_t *nvl, const char *name, const char *const *v, uint32_t n)
{
	if (n && !v)
		return -ZFUSE_E_INVAL;
	for (uint32_t i = 0; i < n; i++)
		if (!v[i])
			return -ZFUSE_E_INVAL;
	nvpair_t tmp = { .type = DATA_TYPE_STRING_ARRAY, .nelem = n, .strs = (char **)v };
	return add_copy(nvl, name, &tmp);
}

/* The caller's array has exactly the layout the pair keeps (elem_width). */
#define ARRAY_ADD(suffix, ctype, dtype)							\
	int nvlist_add_##suffix(nvlist_t *nvl, const char *name, const ctype *v,	\
				uint32_t n)						\
	{										\
		_Static_assert(sizeof(ctype) == 1 || sizeof(ctype) == 2 ||		\
			       sizeof(ctype) == 4 || sizeof(ctype) == 8, "width");	\
		if (n && !v)								\
			return -ZFUSE_E_INVAL;						\
		nvpair_t tmp = { .type = (dtype), .nelem = n, .array = (void *)v };	\
		return add_copy(nvl, name, &tmp);					\
	}

ARRAY_ADD(boolean_array, bool, DATA_TYPE_BOOLEAN_ARRAY)
ARRAY_ADD(byte_array, uint8_t, DATA_TYPE_BYTE_ARRAY)
ARRAY_ADD(int8_array, int8_t, DATA_TYPE_INT8_ARRAY)
ARRAY_ADD(uint8_array, uint8_t, DATA_TYPE_UINT8_ARRAY)
ARRAY_ADD(int16_array, int16_t, DATA_TYPE_INT16_ARRAY)
ARRAY_ADD(uint16_array, uint16_t, DATA_TYPE_UINT16_ARRAY)
ARRAY_ADD(int32_array, int32_t, DATA_TYPE_INT32_ARRAY)
ARRAY_ADD(uint32_array, uint32_t, DATA_TYPE_UINT32_ARRAY)
ARRAY_ADD(int64_array, int64_t, DATA_TYPE_INT64_ARRAY)
ARRAY_ADD(uint64_array, uint64_t, DATA_TYPE_UINT64_ARRAY)

/* ---- encoding ----------------------------------------------------------- */

#define ALIGN4(x) (((uint64_t)(x) + 3) & ~(uint64_t)3)
#define ALIGN8(x) (((uint64_t)(x) + 7) & ~(uint64_t)7)

/* libnvpair's in-memory value size (i_get_value_size), pool-layer.md §2.4. */
static uint64_t value_size(const nvpair_t *p)
{
	uint64_t n = p->nelem, sz = 0;
	switch (p->type) {
	case DATA_TYPE_BOOLEAN: return 0;
	case DATA_TYPE_BYTE: case DATA_TYPE_INT8: case DATA_TYPE_UINT8: return 1;
	case DATA_TYPE_INT16: case DATA_TYPE_UINT16: return 2;
	case DATA_TYPE_BOOLEAN_VALUE: case DATA_TYPE_INT32: case DATA_TYPE_UINT32: return 4;
	case DATA_TYPE_INT64: case DATA_TYPE_UINT64: case DATA_TYPE_HRTIME:
	case DATA_TYPE_DOUBLE: return 8;
	case DATA_TYPE_STRING: return strlen(p->str) + 1;
	case DATA_TYPE_BYTE_ARRAY: case DATA_TYPE_INT8_ARRAY: case DATA_TYPE_UINT8_ARRAY: return n;
	case DATA_TYPE_INT16_ARRAY: case DATA_TYPE_UINT16_ARRAY: return 2 * n;
	case DATA_TYPE_INT32_ARRAY: case DATA_TYPE_UINT32_ARRAY:
	case DATA_TYPE_BOOLEAN_ARRAY: return 4 * n;	/* boolean_t is an int */
	case DATA_TYPE_INT64_ARRAY: case DATA_TYPE_UINT64_ARRAY: return 8 * n;
	case DATA_TYPE_STRING_ARRAY:
		for (uint32_t i = 0; i < p->nelem; i++)
			sz += strlen(p->strs[i]) + 1;
		return 8 * n + sz;		/* a pointer per string, then the strings */
	case DATA_TYPE_NVLIST: return 24;	/* sizeof(nvlist_t) */
	case DATA_TYPE_NVLIST_ARRAY: return 8 * n + 24 * n;
	default: return 0;
	}
}

/* The decoded-size word: sizeof(nvpair_t) 16 + name + NUL, then the value,
 * each rounded up to 8 (pool-layer.md §2.5). */
static uint64_t pair_decoded_size(const nvpair_t *p)
{
	return ALIGN8(16 + strlen(p->name) + 1) + ALIGN8(value_size(p));
}

static int list_xdr_size(const nvlist_t *nvl, int depth, uint64_t *size);

/* libnvpair's nvs_xdr_nvp_size(): the pair's encoded-size word. */
static int pair_xdr_size(const nvpair_t *p, int depth, uint64_t *size)
{
	uint64_t n = p->nelem, sz = 4 + 4 + 4 + ALIGN4(strlen(p->name)) + 4 + 4;
	switch (p->type) {
	case DATA_TYPE_BOOLEAN:
		break;
	case DATA_TYPE_BOOLEAN_VALUE: case DATA_TYPE_BYTE: case DATA_TYPE_INT8:
	case DATA_TYPE_UINT8: case DATA_TYPE_INT16: case DATA_TYPE_UINT16:
	case DATA_TYPE_INT32: case DATA_TYPE_UINT32:
		sz += 4;
		break;
	case DATA_TYPE_INT64: case DATA_TYPE_UINT64: case DATA_TYPE_HRTIME: case DATA_TYPE_DOUBLE:
		sz += 8;
		break;
	case DATA_TYPE_STRING:
		sz += 4 + ALIGN4(strlen(p->str));
		break;
	case DATA_TYPE_BYTE_ARRAY:
		sz += ALIGN4(n);
		break;
	case DATA_TYPE_BOOLEAN_ARRAY: case DATA_TYPE_INT8_ARRAY: case DATA_TYPE_UINT8_ARRAY:
	case DATA_TYPE_INT16_ARRAY: case DATA_TYPE_UINT16_ARRAY:
	case DATA_TYPE_INT32_ARRAY: case DATA_TYPE_UINT32_ARRAY:
		sz += 4 + 4 * n;	/* the count word is counted even when n is 0 */
		break;
	case DATA_TYPE_INT64_ARRAY: case DATA_TYPE_UINT64_ARRAY:
		sz += 4 + 8 * n;
		break;
	case DATA_TYPE_STRING_ARRAY:
		for (uint32_t i = 0; i < p->nelem; i++)
			sz += 4 + ALIGN4(strlen(p->strs[i]));
		break;
	case DATA_TYPE_NVLIST: case DATA_TYPE_NVLIST_ARRAY:
		for (uint32_t i = 0; i < nlists(p); i++) {
			uint64_t lsz;
			int rc = list_xdr_size(p->lists[i], depth + 1, &lsz);
			if (rc)
				return rc;
			sz += lsz;
		}
		break;
	default:
		return -ZFUSE_E_INVAL;
	}
	if (sz > NV_STREAM_MAX || pair_decoded_size(p) > NV_STREAM_MAX)
		return -ZFUSE_E_INVAL;
	*size = sz;
	return 0;
}

/* A list body: version, flags, the pairs, the 8-byte end marker. */
static int list_xdr_size(const nvlist_t *nvl, int depth, uint64_t *size)
{
	if (depth > NV_PACK_MAX_DEPTH)
		return -ZFUSE_E_INVAL;
	uint64_t sz = 4 + 4 + 8;
	for (uint32_t i = 0; i < nvl->npairs; i++) {
		uint64_t psz;
		int rc = pair_xdr_size(&nvl->pairs[i], depth, &psz);
		if (rc)
			return rc;
		if ((sz += psz) > NV_STREAM_MAX)
			return -ZFUSE_E_INVAL;
	}
	*size = sz;
	return 0;
}

int nvlist_size_xdr(const nvlist_t *nvl, size_t *size)
{
	uint64_t sz;
	if (!nvl || !size)
		return -ZFUSE_E_INVAL;
	int rc = list_xdr_size(nvl, 0, &sz);
	if (rc)
		return rc;
	if ((sz += 4) > NV_STREAM_MAX)
		return -ZFUSE_E_INVAL;
	*size = (size_t)sz;
	return 0;
}

/* The writer runs only after the size pass succeeded into a buffer that
 * large, and each pair writes no more than its counted size. */
struct xdr_out {
	uint8_t *p;
};

static void put32(struct xdr_out *o, uint32_t v)
{
	put_be32(o->p, v);
	o->p += 4;
}

static void put64(struct xdr_out *o, uint64_t v)
{
	put_be64(o->p, v);
	o->p += 8;
}

static void put_opaque(struct xdr_out *o, const void *b, size_t n)
{
	memcpy(o->p, b, n);
	memset(o->p + n, 0, (size_t)(ALIGN4(n) - n));
	o->p += ALIGN4(n);
}

static void put_string(struct xdr_out *o, const char *s)
{
	size_t n = strlen(s);
	put32(o, (uint32_t)n);
	put_opaque(o, s, n);
}

static void encode_list(struct xdr_out *o, const nvlist_t *nvl, int depth);

static void encode_pair(struct xdr_out *o, const nvpair_t *p, int depth)
{
	uint64_t encsize = 0;
	pair_xdr_size(p, depth, &encsize);	/* cannot fail: the size pass passed */
	put32(o, (uint32_t)encsize);
	put32(o, (uint32_t)pair_decoded_size(p));
	put_string(o, p->name);
	put32(o, (uint32_t)p->type);
	put32(o, p->nelem);
	if (p->nelem == 0)
		return;		/* libnvpair writes no value, not even an array count */
	switch (p->type) {
	case DATA_TYPE_BYTE: case DATA_TYPE_INT8: case DATA_TYPE_UINT8:
		put32(o, (uint8_t)p->u64);
		break;
	case DATA_TYPE_INT16: case DATA_TYPE_UINT16:
		put32(o, (uint16_t)p->u64);
		break;
	case DATA_TYPE_BOOLEAN_VALUE: case DATA_TYPE_INT32: case DATA_TYPE_UINT32:
		put32(o, (uint32_t)p->u64);
		break;
	case DATA_TYPE_INT64: case DATA_TYPE_UINT64: case DATA_TYPE_HRTIME: case DATA_TYPE_DOUBLE:
		put64(o, p->u64);
		break;
	case DATA_TYPE_STRING:
		put_string(o, p->str);
		break;
	case DATA_TYPE_BYTE_ARRAY:
		put_opaque(o, p->array, p->nelem);
		break;
	case DATA_TYPE_BOOLEAN_ARRAY: case DATA_TYPE_INT8_ARRAY: case DATA_TYPE_UINT8_ARRAY:
	case DATA_TYPE_INT16_ARRAY: case DATA_TYPE_UINT16_ARRAY:
	case DATA_TYPE_INT32_ARRAY: case DATA_TYPE_UINT32_ARRAY: {
		/* Elements narrower than 32 bits go out zero-extended. */
		uint64_t mask = elem_width(p->type) == 2 ? 0xffff :
				elem_width(p->type) == 1 ? 0xff : 0xffffffff;
		put32(o, p->nelem);
		for (uint32_t i = 0; i < p->nelem; i++)
			put32(o, (uint32_t)(elem_get(p, i) & mask));
		break;
	}
	case DATA_TYPE_INT64_ARRAY: case DATA_TYPE_UINT64_ARRAY:
		put32(o, p->nelem);
		for (uint32_t i = 0; i < p->nelem; i++)
			put64(o, elem_get(p, i));
		break;
	case DATA_TYPE_STRING_ARRAY:
		for (uint32_t i = 0; i < p->nelem; i++)
			put_string(o, p->strs[i]);
		break;
	case DATA_TYPE_NVLIST: case DATA_TYPE_NVLIST_ARRAY:
		for (uint32_t i = 0; i < nlists(p); i++)
			encode_list(o, p->lists[i], depth + 1);
		break;
	default:
		break;
	}
}

static void encode_list(struct xdr_out *o, const nvlist_t *nvl, int depth)
{
	put32(o, 0);			/* NV_VERSION */
	put32(o, nvl->flags);
	for (uint32_t i = 0; i < nvl->npairs; i++)
		encode_pair(o, &nvl->pairs[i], depth);
	put32(o, 0);
	put32(o, 0);
}

int nvlist_pack_xdr(const nvlist_t *nvl, void *buf, size_t cap, size_t *used)
{
	size_t size;
	int rc = nvlist_size_xdr(nvl, &size);
	if (rc)
		return rc;
	if (!buf || cap < size)
		return buf ? -ZFUSE_E_RANGE : -ZFUSE_E_INVAL;
	uint8_t *b = buf;
	b[0] = 1;			/* NV_ENCODE_XDR */
	b[1] = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;	/* writer's host order */
	b[2] = b[3] = 0;
	struct xdr_out o = { b + 4 };
	encode_list(&o, nvl, 0);
	/* Whatever the size pass counted beyond the data (empty arrays) is zero. */
	memset(o.p, 0, size - (size_t)(o.p - b));
	if (used)
		*used = size;
	return 0;
}

/* ---- printing ----------------------------------------------------------- */

/* Decode one UTF-8 sequence at s; its length, or 0 if it is not valid. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

void nv_json_string(FILE *f, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	fputc('"', f);
	while (*u) {
		unsigned char c = *u;
		size_t n = utf8_len(u);
		if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
		} else if (c < 0x20) {
			fprintf(f, "\\u%04x", c);
		} else if (n == 0) {
			/* Not UTF-8: the byte stands for the code point of its value. */
			fputc(0xc0 | (c >> 6), f);
			fputc(0x80 | (c & 0x3f), f);
			n = 1;
		} else {
			fwrite(u, 1, n, f);
		}
		u += n ? n : 1;
	}
	fputc('"', f);
}

static void print_number(FILE *f, const nvpair_t *p, uint64_t v)
{
	if (p->type == DATA_TYPE_DOUBLE) {
		double d;
		memcpy(&d, &v, sizeof(d));
		fprintf(f, "%.17g", d);
	} else if (is_signed(p->type)) {
		fprintf(f, "%" PRId64, (int64_t)v);
	} else {
		fprintf(f, "%" PRIu64, v);
	}
}

void nvlist_print_json(FILE *f, const nvlist_t *nvl)
{
	fputc('{', f);
	for (uint32_t i = 0; nvl && i < nvl->npairs; i++) {
		const nvpair_t *p = &nvl->pairs[i];
		if (i)
			fputc(',', f);
		nv_json_string(f, p->name);
		fputc(':', f);
		switch (p->type) {
		case DATA_TYPE_BOOLEAN:
			fputs("true", f);
			break;
		case DATA_TYPE_BOOLEAN_VALUE:
			fputs(p->u64 ? "true" : "false", f);
			break;
		case DATA_TYPE_STRING:
			nv_json_string(f, p->str);
			break;
		case DATA_TYPE_NVLIST:
			nvlist_print_json(f, p->lists[0]);
			break;
		case DATA_TYPE_NVLIST_ARRAY:
		case DATA_TYPE_STRING_ARRAY:
			fputc('[', f);
			for (uint32_t j = 0; j < p->nelem; j++) {
				if (j)
					fputc(',', f);
				if (p->type == DATA_TYPE_NVLIST_ARRAY)
					nvlist_print_json(f, p->lists[j]);
				else
					nv_json_string(f, p->strs[j]);
			}
			fputc(']', f);
			break;
		default:
			if (elem_width(p->type)) {
				fputc('[', f);
				for (uint32_t j = 0; j < p->nelem; j++) {
					if (j)
						fputc(',', f);
					if (p->type == DATA_TYPE_BOOLEAN_ARRAY)
						fputs(elem_get(p, j) ? "true" : "false", f);
					else
						print_number(f, p, elem_get(p, j));
				}
				fputc(']', f);
			} else {
				print_number(f, p, p->u64);
			}
		}
	}
	fputc('}', f);
}

void nvlist_print_text(FILE *f, const nvlist_t *nvl, int indent)
{
	for (uint32_t i = 0; nvl && i < nvl->npairs; i++) {
		const nvpair_t *p = &nvl->pairs[i];
		switch (p->type) {
		case DATA_TYPE_BOOLEAN:
			fprintf(f, "%*s%s\n", indent, "", p->name);
			break;
		case DATA_TYPE_BOOLEAN_VALUE:
			fprintf(f, "%*s%s: %s\n", indent, "", p->name, p->u64 ? "true" : "false");
			break;
		case DATA_TYPE_STRING:
			fprintf(f, "%*s%s: '%s'\n", indent, "", p->name, p->str);
			break;
		case DATA_TYPE_NVLIST:
			fprintf(f, "%*s%s:\n", indent, "", p->name);
			nvlist_print_text(f, p->lists[0], indent + 4);
			break;
		case DATA_TYPE_NVLIST_ARRAY:
			for (uint32_t j = 0; j < p->nelem; j++) {
				fprintf(f, "%*s%s[%u]:\n", indent, "", p->name, j);
				nvlist_print_text(f, p->lists[j], indent + 4);
			}
			break;
		case DATA_TYPE_STRING_ARRAY:
			for (uint32_t j = 0; j < p->nelem; j++)
				fprintf(f, "%*s%s[%u]: '%s'\n", indent, "", p->name, j, p->strs[j]);
			break;
		default:
			if (!elem_width(p->type)) {
				fprintf(f, "%*s%s: ", indent, "", p->name);
				print_number(f, p, p->u64);
				fputc('\n', f);
				break;
			}
			for (uint32_t j = 0; j < p->nelem; j++) {
				fprintf(f, "%*s%s[%u]: ", indent, "", p->name, j);
				if (p->type == DATA_TYPE_BOOLEAN_ARRAY)
					fputs(elem_get(p, j) ? "true" : "false", f);
				else
					print_number(f, p, elem_get(p, j));
				fputc('\n', f);
			}
		}
	}
}
