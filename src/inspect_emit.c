/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * inspect_emit.c — the text/JSON report writer behind inspect_emit.h.
 * Text nests by indentation; JSON is streamed with a per-level "first
 * member" flag so nothing is buffered.
 */
#include <inttypes.h>
#include <string.h>
#include "inspect_emit.h"

void em_init(emitter_t *em, FILE *f, bool json)
{
	memset(em, 0, sizeof(*em));
	em->f = f;
	em->json = json;
	em->first[0] = true;
}

/* Start a member: separator, key (JSON) or indentation + key (text). */
static void member(emitter_t *em, const char *key)
{
	if (em->json) {
		if (!em->first[em->depth])
			fputc(',', em->f);
		em->first[em->depth] = false;
		if (key && !em->array[em->depth]) {
			nv_json_string(em->f, key);
			fputc(':', em->f);
		}
	} else {
		fprintf(em->f, "%*s", 2 * (em->depth > 0 ? em->depth - 1 : 0), "");
		if (key)
			fprintf(em->f, "%s:", key);
		else if (em->array[em->depth])
			fputc('-', em->f);
	}
}

static void push(emitter_t *em, const char *key, bool array)
{
	member(em, key);
	if (em->json)
		fputc(array ? '[' : '{', em->f);
	else if (key || em->depth > 0)
		fputc('\n', em->f);
	if (em->depth + 1 < EMIT_MAX_DEPTH)
		em->depth++;
	em->first[em->depth] = true;
	em->array[em->depth] = array;
}

static void pop(emitter_t *em, bool array)
{
	if (em->depth > 0)
		em->depth--;
	if (em->json)
		fputc(array ? ']' : '}', em->f);
}

void em_obj_begin(emitter_t *em, const char *key) { push(em, key, false); }
void em_obj_end(emitter_t *em) { pop(em, false); }
void em_arr_begin(emitter_t *em, const char *key) { push(em, key, true); }
void em_arr_end(emitter_t *em) { pop(em, true); }

void em_u64(emitter_t *em, const char *key, uint64_t v)
{
	member(em, key);
	fprintf(em->f, em->json ? "%" PRIu64 : " %" PRIu64 "\n", v);
}

void em_i64(emitter_t *em, const char *key, int64_t v)
{
	member(em, key);
	fprintf(em->f, em->json ? "%" PRId64 : " %" PRId64 "\n", v);
}

void em_hex(emitter_t *em, const char *key, uint64_t v)
{
	member(em, key);
	fprintf(em->f, em->json ? "%" PRIu64 : " 0x%" PRIx64 "\n", v);
}

void em_str(emitter_t *em, const char *key, const char *s)
{
	member(em, key);
	if (em->json)
		nv_json_string(em->f, s ? s : "");
	else
		fprintf(em->f, " %s\n", s ? s : "-");
}

void em_bool(emitter_t *em, const char *key, bool v)
{
	member(em, key);
	fprintf(em->f, em->json ? "%s" : " %s\n", v ? "true" : "false");
}

void em_nvlist(emitter_t *em, const char *key, const nvlist_t *nvl)
{
	member(em, key);
	if (em->json) {
		if (nvl)
			nvlist_print_json(em->f, nvl);
		else
			fputs("null", em->f);
	} else {
		fputc('\n', em->f);
		if (nvl)
			nvlist_print_text(em->f, nvl, 2 * em->depth);
	}
}

void em_finish(emitter_t *em)
{
	if (em->json)
		fputc('\n', em->f);
	fflush(em->f);
}
