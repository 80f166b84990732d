/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * json.c — see json.h. Strings from pools (names, paths) are arbitrary
 * bytes; JSON needs UTF-8, so invalid sequences are replaced rather than
 * passed on to break a parser.
 */
#include <inttypes.h>
#include <string.h>
#include "json.h"

void zj_init(zf_json_t *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

void zj_begin_output(zf_json_t *j, FILE *f, const char *command)
{
	zj_init(j, f);
	zj_obj_begin(j, NULL);
	zj_obj_begin(j, "output_version");
	zj_str(j, "command", command);
	zj_u64(j, "vers_major", 0);
	zj_u64(j, "vers_minor", 1);
	zj_obj_end(j);
}

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	size_t n = (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
	if (n == 0 || (n == 2 && s[0] < 0xC2) || (n == 4 && s[0] > 0xF4))
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	uint32_t cp = n == 2 ? s[0] & 0x1F : n == 3 ? s[0] & 0x0F : s[0] & 0x07;
	for (size_t i = 1; i < n; i++)
		cp = cp << 6 | (s[i] & 0x3F);
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

static void put_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	fputc('"', f);
	while (*p) {
		size_t n = utf8_len(p);
		if (n == 0) {
			fputs("\xEF\xBF\xBD", f);
			p++;
		} else if (n > 1) {
			fwrite(p, 1, n, f);
			p += n;
		} else {
			unsigned char c = *p++;
			if (c == '"' || c == '\\')
				fprintf(f, "\\%c", c);
			else if (c == '\n')
				fputs("\\n", f);
			else if (c == '\t')
				fputs("\\t", f);
			else if (c < 0x20 || c == 0x7F)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

static void put_key(zf_json_t *j, const char *key)
{
	if (j->depth > 0 && j->depth < ZJ_MAX_DEPTH) {
		if (j->need_comma[j->depth])
			fputc(',', j->f);
		j->need_comma[j->depth] = true;
	}
	if (key) {
		put_string(j->f, key);
		fputc(':', j->f);
	}
}

static void open_level(zf_json_t *j, const char *key, char c)
{
	put_key(j, key);
	fputc(c, j->f);
	if (++j->depth < ZJ_MAX_DEPTH)
		j->need_comma[j->depth] = false;
}

void zj_obj_begin(zf_json_t *j, const char *key)
{
	open_level(j, key, '{');
}

void zj_obj_end(zf_json_t *j)
{
	j->depth--;
	fputc('}', j->f);
}

void zj_arr_begin(zf_json_t *j, const char *key)
{
	open_level(j, key, '[');
}

void zj_arr_end(zf_json_t *j)
{
	j->depth--;
	fputc(']', j->f);
}

void zj_str(zf_json_t *j, const char *key, const char *val)
{
	put_key(j, key);
	if (val)
		put_string(j->f, val);
	else
		fputs("null", j->f);
}

void zj_u64(zf_json_t *j, const char *key, uint64_t val)
{
	put_key(j, key);
	fprintf(j->f, "%" PRIu64, val);
}

void zj_i64(zf_json_t *j, const char *key, int64_t val)
{
	put_key(j, key);
	fprintf(j->f, "%" PRId64, val);
}

void zj_bool(zf_json_t *j, const char *key, bool val)
{
	put_key(j, key);
	fputs(val ? "true" : "false", j->f);
}

void zj_finish(zf_json_t *j)
{
	fputc('\n', j->f);
	fflush(j->f);
}
