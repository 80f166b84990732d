/*
 * nvpair.c — XDR nvlist decoding. The stream is untrusted: every length is
 * checked against the bytes left, nesting depth and element counts are
 * bounded, and every pair must consume exactly its encoded size. Integer
 * arrays are converted to host order at decode time so lookups can hand
 * out plain pointers.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "byteorder.h"
#include "nvpair.h"
#include "zfuse/errors.h"

#define NV_MAX_DEPTH 32
#define NV_MAX_ELEMS (1u << 24)

struct nvpair {
	char *name;
	data_type_t type;
	uint32_t nelem;
	uint64_t u64;		/* scalars */
	char *str;		/* STRING */
	void *array;		/* host-order integer arrays, byte arrays */
	char **strs;		/* STRING_ARRAY */
	nvlist_t **lists;	/* NVLIST (1) / NVLIST_ARRAY (nelem) */
};

struct nvlist {
	nvpair_t *pairs;
	uint32_t npairs;
};

struct xdr {
	const uint8_t *p, *end;
};

static int get32(struct xdr *x, uint32_t *v)
{
	if (x->end - x->p < 4)
		return -ZFUSE_E_CORRUPT;
	*v = be32(x->p);
	x->p += 4;
	return 0;
}

static int get64(struct xdr *x, uint64_t *v)
{
	if (x->end - x->p < 8)
		return -ZFUSE_E_CORRUPT;
	*v = be64(x->p);
	x->p += 8;
	return 0;
}

static int get_bytes(struct xdr *x, size_t n, const uint8_t **out)
{
	size_t padded = (n + 3) & ~(size_t)3;
	if (padded < n || (size_t)(x->end - x->p) < padded)
		return -ZFUSE_E_CORRUPT;
	*out = x->p;
	x->p += padded;
	return 0;
}

static int get_string(struct xdr *x, char **out)
{
	uint32_t len;
	const uint8_t *b;
	int rc = get32(x, &len);
	if (rc || (rc = get_bytes(x, len, &b)))
		return rc;
	if (memchr(b, 0, len))
		return -ZFUSE_E_CORRUPT;
	*out = malloc((size_t)len + 1);
	if (!*out)
		return -ZFUSE_E_NOMEM;
	memcpy(*out, b, len);
	(*out)[len] = 0;
	return 0;
}

static void pair_free(nvpair_t *p)
{
	free(p->name);
	free(p->str);
	free(p->array);
	if (p->strs)
		for (uint32_t i = 0; i < p->nelem; i++)
			free(p->strs[i]);
	free(p->strs);
	if (p->lists) {
		uint32_t n = p->type == DATA_TYPE_NVLIST ? 1 : p->nelem;
		for (uint32_t i = 0; i < n; i++)
			nvlist_free(p->lists[i]);
	}
	free(p->lists);
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

static int decode_list(struct xdr *x, nvlist_t **out, int depth);

/* Integer array whose XDR elements are 4 bytes (or 8 for 64-bit types). */
static int decode_int_array(struct xdr *x, nvpair_t *p, unsigned width, bool wide)
{
	uint32_t count;
	int rc = get32(x, &count);
	if (rc)
		return rc;
	if (count != p->nelem)
		return -ZFUSE_E_CORRUPT;
	p->array = calloc(count ? count : 1, width);
	if (!p->array)
		return -ZFUSE_E_NOMEM;
	for (uint32_t i = 0; i < count; i++) {
		uint64_t v;
		uint32_t v32;
		if (wide)
			rc = get64(x, &v);
		else {
			rc = get32(x, &v32);
			v = v32;
		}
		if (rc)
			return rc;
		memcpy((uint8_t *)p->array + (size_t)i * width, &v, width);
	}
	return 0;
}

static int decode_value(struct xdr *x, nvpair_t *p, int depth)
{
	uint32_t v32;
	const uint8_t *b;
	int rc = 0;
	switch (p->type) {
	case DATA_TYPE_BOOLEAN:
		return p->nelem == 0 ? 0 : -ZFUSE_E_CORRUPT;
	case DATA_TYPE_BYTE: case DATA_TYPE_INT16: case DATA_TYPE_UINT16:
	case DATA_TYPE_INT32: case DATA_TYPE_UINT32: case DATA_TYPE_BOOLEAN_VALUE:
	case DATA_TYPE_INT8: case DATA_TYPE_UINT8:
		if (p->nelem != 1 || (rc = get32(x, &v32)))
			return rc ? rc : -ZFUSE_E_CORRUPT;
		p->u64 = (p->type == DATA_TYPE_INT32 || p->type == DATA_TYPE_INT16 ||
			  p->type == DATA_TYPE_INT8) ? (uint64_t)(int64_t)(int32_t)v32 : v32;
		return 0;
	case DATA_TYPE_INT64: case DATA_TYPE_UINT64: case DATA_TYPE_HRTIME: case DATA_TYPE_DOUBLE:
		if (p->nelem != 1)
			return -ZFUSE_E_CORRUPT;
		return get64(x, &p->u64);
	case DATA_TYPE_STRING:
		if (p->nelem != 1)
			return -ZFUSE_E_CORRUPT;
		return get_string(x, &p->str);
	case DATA_TYPE_BYTE_ARRAY:
		if ((rc = get_bytes(x, p->nelem, &b)))
			return rc;
		if (!(p->array = malloc(p->nelem ? p->nelem : 1)))
			return -ZFUSE_E_NOMEM;
		memcpy(p->array, b, p->nelem);
		return 0;
	case DATA_TYPE_INT8_ARRAY: case DATA_TYPE_UINT8_ARRAY:
		return decode_int_array(x, p, 1, false);
	case DATA_TYPE_INT16_ARRAY: case DATA_TYPE_UINT16_ARRAY:
		return decode_int_array(x, p, 2, false);
	case DATA_TYPE_INT32_ARRAY: case DATA_TYPE_UINT32_ARRAY: case DATA_TYPE_BOOLEAN_ARRAY:
		return decode_int_array(x, p, 4, false);
	case DATA_TYPE_INT64_ARRAY: case DATA_TYPE_UINT64_ARRAY:
		return decode_int_array(x, p, 8, true);
	case DATA_TYPE_STRING_ARRAY:
		if (!(p->strs = calloc(p->nelem ? p->nelem : 1, sizeof(char *))))
			return -ZFUSE_E_NOMEM;
		for (uint32_t i = 0; i < p->nelem && rc == 0; i++)
			rc = get_string(x, &p->strs[i]);
		return rc;
	case DATA_TYPE_NVLIST:
	case DATA_TYPE_NVLIST_ARRAY: {
		uint32_t n = p->type == DATA_TYPE_NVLIST ? 1 : p->nelem;
		if (p->type == DATA_TYPE_NVLIST && p->nelem != 1)
			return -ZFUSE_E_CORRUPT;
		if (!(p->lists = calloc(n ? n : 1, sizeof(nvlist_t *))))
			return -ZFUSE_E_NOMEM;
		for (uint32_t i = 0; i < n && rc == 0; i++)
			rc = decode_list(x, &p->lists[i], depth + 1);
		return rc;
	}
	default:
		return -ZFUSE_E_CORRUPT;
	}
}

static int decode_list(struct xdr *x, nvlist_t **out, int depth)
{
	if (depth > NV_MAX_DEPTH)
		return -ZFUSE_E_CORRUPT;
	uint32_t version, flags;
	int rc = get32(x, &version);
	if (rc || (rc = get32(x, &flags)))
		return rc;
	if (version != 0)
		return -ZFUSE_E_CORRUPT;
	nvlist_t *nvl = calloc(1, sizeof(*nvl));
	if (!nvl)
		return -ZFUSE_E_NOMEM;
	uint32_t cap = 0;
	for (;;) {
		const uint8_t *start = x->p;
		uint32_t encsize, decsize;
		if ((rc = get32(x, &encsize)) || (rc = get32(x, &decsize)))
			break;
		if (encsize == 0 && decsize == 0)
			break;
		if (encsize < 20 || encsize > (size_t)(x->end - start)) {
			rc = -ZFUSE_E_CORRUPT;
			break;
		}
		if (nvl->npairs == cap) {
			cap = cap ? cap * 2 : 8;
			nvpair_t *np = realloc(nvl->pairs, cap * sizeof(*np));
			if (!np) {
				rc = -ZFUSE_E_NOMEM;
				break;
			}
			nvl->pairs = np;
		}
		nvpair_t *p = &nvl->pairs[nvl->npairs];
		memset(p, 0, sizeof(*p));
		nvl->npairs++;
		uint32_t type;
		struct xdr sub = { x->p, start + encsize };
		if ((rc = get_string(&sub, &p->name)) || (rc = get32(&sub, &type)) ||
		    (rc = get32(&sub, &p->nelem)))
			break;
		p->type = (data_type_t)type;
		if (p->nelem > NV_MAX_ELEMS) {
			rc = -ZFUSE_E_CORRUPT;
			break;
		}
		/* Embedded lists are not counted in the encoded size of every
		 * writer in the same way; decode them against the whole rest. */
		if (p->type == DATA_TYPE_NVLIST || p->type == DATA_TYPE_NVLIST_ARRAY)
			sub.end = x->end;
		if ((rc = decode_value(&sub, p, depth)))
			break;
		x->p = sub.p > start + encsize ? sub.p : start + encsize;
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
		return -ZFUSE_E_CORRUPT;
	if (b[0] != 1)
		return b[0] == 0 ? -ZFUSE_E_UNSUPPORTED : -ZFUSE_E_CORRUPT;
	struct xdr x = { b + 4, b + len };
	return decode_list(&x, out, 0);
}

static const nvpair_t *find(const nvlist_t *nvl, const char *name)
{
	if (!nvl)
		return NULL;
	/* With NV_UNIQUE_NAME the last one wins; search backwards. */
	for (uint32_t i = nvl->npairs; i-- > 0;)
		if (strcmp(nvl->pairs[i].name, name) == 0)
			return &nvl->pairs[i];
	return NULL;
}

#define LOOKUP(name_, types_ok) \
	const nvpair_t *p = find(nvl, name_); \
	if (!p) \
		return -ZFUSE_E_NOENT; \
	if (!(types_ok)) \
		return -ZFUSE_E_INVAL;

int nvlist_lookup_uint64(const nvlist_t *nvl, const char *name, uint64_t *v)
{
	LOOKUP(name, p->type == DATA_TYPE_UINT64);
	*v = p->u64;
	return 0;
}

int nvlist_lookup_int64(const nvlist_t *nvl, const char *name, int64_t *v)
{
	LOOKUP(name, p->type == DATA_TYPE_INT64);
	*v = (int64_t)p->u64;
	return 0;
}

int nvlist_lookup_uint32(const nvlist_t *nvl, const char *name, uint32_t *v)
{
	LOOKUP(name, p->type == DATA_TYPE_UINT32);
	*v = (uint32_t)p->u64;
	return 0;
}

int nvlist_lookup_string(const nvlist_t *nvl, const char *name, const char **v)
{
	LOOKUP(name, p->type == DATA_TYPE_STRING);
	*v = p->str;
	return 0;
}

int nvlist_lookup_nvlist(const nvlist_t *nvl, const char *name, const nvlist_t **v)
{
	LOOKUP(name, p->type == DATA_TYPE_NVLIST);
	*v = p->lists[0];
	return 0;
}

int nvlist_lookup_nvlist_array(const nvlist_t *nvl, const char *name,
			       const nvlist_t *const **v, uint32_t *n)
{
	LOOKUP(name, p->type == DATA_TYPE_NVLIST_ARRAY);
	*v = (const nvlist_t *const *)p->lists;
	*n = p->nelem;
	return 0;
}

int nvlist_lookup_uint64_array(const nvlist_t *nvl, const char *name, const uint64_t **v, uint32_t *n)
{
	LOOKUP(name, p->type == DATA_TYPE_UINT64_ARRAY);
	*v = p->array;
	*n = p->nelem;
	return 0;
}

int nvlist_lookup_uint8_array(const nvlist_t *nvl, const char *name, const uint8_t **v, uint32_t *n)
{
	LOOKUP(name, p->type == DATA_TYPE_UINT8_ARRAY);
	*v = p->array;
	*n = p->nelem;
	return 0;
}

int nvlist_lookup_byte_array(const nvlist_t *nvl, const char *name, const uint8_t **v, uint32_t *n)
{
	LOOKUP(name, p->type == DATA_TYPE_BYTE_ARRAY);
	*v = p->array;
	*n = p->nelem;
	return 0;
}

int nvlist_lookup_boolean(const nvlist_t *nvl, const char *name)
{
	LOOKUP(name, p->type == DATA_TYPE_BOOLEAN);
	return 0;
}

int nvlist_lookup_boolean_value(const nvlist_t *nvl, const char *name, bool *v)
{
	LOOKUP(name, p->type == DATA_TYPE_BOOLEAN_VALUE);
	*v = p->u64 != 0;
	return 0;
}

bool nvlist_exists(const nvlist_t *nvl, const char *name)
{
	return find(nvl, name) != NULL;
}

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

int nvpair_value_uint64(const nvpair_t *p, uint64_t *v)
{
	switch (p->type) {
	case DATA_TYPE_BYTE: case DATA_TYPE_INT16: case DATA_TYPE_UINT16: case DATA_TYPE_INT32:
	case DATA_TYPE_UINT32: case DATA_TYPE_INT64: case DATA_TYPE_UINT64: case DATA_TYPE_HRTIME:
	case DATA_TYPE_BOOLEAN_VALUE: case DATA_TYPE_INT8: case DATA_TYPE_UINT8:
		*v = p->u64;
		return 0;
	default:
		return -ZFUSE_E_INVAL;
	}
}

int nvpair_value_string(const nvpair_t *p, const char **v)
{
	if (p->type != DATA_TYPE_STRING)
		return -ZFUSE_E_INVAL;
	*v = p->str;
	return 0;
}

int nvpair_value_nvlist(const nvpair_t *p, const nvlist_t **v)
{
	if (p->type != DATA_TYPE_NVLIST)
		return -ZFUSE_E_INVAL;
	*v = p->lists[0];
	return 0;
}

void nv_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static unsigned int_array_width(data_type_t t)
{
	switch (t) {
	case DATA_TYPE_INT8_ARRAY: case DATA_TYPE_UINT8_ARRAY: case DATA_TYPE_BYTE_ARRAY: return 1;
	case DATA_TYPE_INT16_ARRAY: case DATA_TYPE_UINT16_ARRAY: return 2;
	case DATA_TYPE_INT32_ARRAY: case DATA_TYPE_UINT32_ARRAY: case DATA_TYPE_BOOLEAN_ARRAY: return 4;
	case DATA_TYPE_INT64_ARRAY: case DATA_TYPE_UINT64_ARRAY: return 8;
	default: return 0;
	}
}

static uint64_t array_elem(const nvpair_t *p, uint32_t i)
{
	unsigned w = int_array_width(p->type);
	uint64_t v = 0;
	memcpy(&v, (const uint8_t *)p->array + (size_t)i * w, w);
	return v;
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
			if (int_array_width(p->type)) {
				fputc('[', f);
				for (uint32_t j = 0; j < p->nelem; j++)
					fprintf(f, "%s%" PRIu64, j ? "," : "", array_elem(p, j));
				fputc(']', f);
			} else {
				fprintf(f, "%" PRIu64, p->u64);
			}
		}
	}
	fputc('}', f);
}

void nvlist_print_text(FILE *f, const nvlist_t *nvl, int indent)
{
	for (uint32_t i = 0; nvl && i < nvl->npairs; i++) {
		const nvpair_t *p = &nvl->pairs[i];
		fprintf(f, "%*s%s:", indent, "", p->name);
		switch (p->type) {
		case DATA_TYPE_BOOLEAN:
			fputc('\n', f);
			break;
		case DATA_TYPE_STRING:
			fprintf(f, " '%s'\n", p->str);
			break;
		case DATA_TYPE_NVLIST:
			fputc('\n', f);
			nvlist_print_text(f, p->lists[0], indent + 4);
			break;
		case DATA_TYPE_NVLIST_ARRAY:
			fputc('\n', f);
			for (uint32_t j = 0; j < p->nelem; j++) {
				fprintf(f, "%*s%s[%u]:\n", indent + 4, "", p->name, j);
				nvlist_print_text(f, p->lists[j], indent + 8);
			}
			break;
		case DATA_TYPE_STRING_ARRAY:
			for (uint32_t j = 0; j < p->nelem; j++)
				fprintf(f, " '%s'", p->strs[j]);
			fputc('\n', f);
			break;
		default:
			if (int_array_width(p->type)) {
				for (uint32_t j = 0; j < p->nelem && j < 64; j++)
					fprintf(f, " %" PRIu64, array_elem(p, j));
				fputs(p->nelem > 64 ? " ...\n" : "\n", f);
			} else {
				fprintf(f, " %" PRIu64 "\n", p->u64);
			}
		}
	}
}
