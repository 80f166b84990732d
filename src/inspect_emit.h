/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * inspect_emit.h — one report, two renderings: every inspector report is
 * written through these calls, which produce either indented "key: value"
 * text or JSON with the same (stable) field names.
 */
#ifndef ZFUSE_INSPECT_EMIT_H
#define ZFUSE_INSPECT_EMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "nvpair.h"

#define EMIT_MAX_DEPTH 32

typedef struct emitter {
	FILE *f;
	bool json;
	int depth;
	bool first[EMIT_MAX_DEPTH];
	bool array[EMIT_MAX_DEPTH];
} emitter_t;

void em_init(emitter_t *em, FILE *f, bool json);
/* key is NULL for array elements and the root. */
void em_obj_begin(emitter_t *em, const char *key);
void em_obj_end(emitter_t *em);
void em_arr_begin(emitter_t *em, const char *key);
void em_arr_end(emitter_t *em);
void em_u64(emitter_t *em, const char *key, uint64_t v);
void em_i64(emitter_t *em, const char *key, int64_t v);
void em_hex(emitter_t *em, const char *key, uint64_t v);	/* text 0x..; JSON number */
void em_str(emitter_t *em, const char *key, const char *s);
void em_bool(emitter_t *em, const char *key, bool v);
void em_nvlist(emitter_t *em, const char *key, const nvlist_t *nvl);
/* Finish the document (newline after JSON). */
void em_finish(emitter_t *em);

#endif
