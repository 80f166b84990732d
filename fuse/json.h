/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * json.h — the one JSON writer of the zfuse binary's --json output: one
 * compact document per command, keys in the order written, strings
 * escaped per RFC 8259 (bytes that are not valid UTF-8 become U+FFFD).
 * A NULL key is for values inside arrays.
 */
#ifndef ZFUSE_FUSE_JSON_H
#define ZFUSE_FUSE_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define ZJ_MAX_DEPTH 32

typedef struct zf_json {
	FILE *f;
	int depth;
	bool need_comma[ZJ_MAX_DEPTH];
} zf_json_t;

void zj_init(zf_json_t *j, FILE *f);
/* zj_init, then the document's opening as zfs 2.3's -j outputs have it:
 * {"output_version":{"command":COMMAND,"vers_major":0,"vers_minor":1},
 * with the root object left open for the caller's fields. */
void zj_begin_output(zf_json_t *j, FILE *f, const char *command);
void zj_obj_begin(zf_json_t *j, const char *key);
void zj_obj_end(zf_json_t *j);
void zj_arr_begin(zf_json_t *j, const char *key);
void zj_arr_end(zf_json_t *j);
void zj_str(zf_json_t *j, const char *key, const char *val);	/* NULL val: null */
void zj_u64(zf_json_t *j, const char *key, uint64_t val);
void zj_i64(zf_json_t *j, const char *key, int64_t val);
void zj_bool(zf_json_t *j, const char *key, bool val);
/* Ends the document with a newline. */
void zj_finish(zf_json_t *j);

#endif
