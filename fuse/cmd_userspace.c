/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * cmd_userspace.c — the verbs `zfuse userspace`, `groupspace` and
 * `projectspace`: the space and objects each user, group or project uses
 * in a filesystem or snapshot, and their limits, with zfs's options and
 * byte-for-byte its output (pool_verb.h runs them).
 *
 * Theory: zfs gathers one row per (type, name) from the twelve kinds of
 * figures (zfuse_userspace), in zfs_userquota_prop_t order, skipping the
 * kinds whose category (user, group, project) the verb does not show. A
 * kind that fills one column of a row fills its partner with 0 (used with
 * quota, objused with objquota), so a column no kind touched prints "-".
 * Widths grow with every value formatted, whether its row is shown or not.
 * Rows sort by the -s/-S columns (only type, name, used and quota sort)
 * and then type and name; a name that is a number (-n, projects, or an id
 * with no passwd/group entry) compares as a number against the other.
 * No rows: nothing is printed, not even the header.
 */
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"
#include "grow.h"
#include "pool_verb.h"
#include "zfs_prop.h"
#include "zfuse/dataset.h"
#include "zfuse/errors.h"

/* The row types, as zfs's USTYPE_* bits: their order is the sort order. */
#define US_POSIX_GROUP (1u << 0)
#define US_POSIX_USER (1u << 1)
#define US_SMB_GROUP (1u << 2)
#define US_SMB_USER (1u << 3)
#define US_PROJECT (1u << 4)
#define US_ALL (US_POSIX_GROUP | US_POSIX_USER | US_SMB_GROUP | US_SMB_USER | US_PROJECT)

enum us_field { F_TYPE, F_NAME, F_USED, F_QUOTA, F_OBJUSED, F_OBJQUOTA, F_LAST };
static const char *const field_names[F_LAST] = {
	"type", "name", "used", "quota", "objused", "objquota",
};
static const char *const field_hdr[F_LAST] = {
	"TYPE", "NAME", "USED", "QUOTA", "OBJUSED", "OBJQUOTA",
};

struct us_row {
	unsigned type;
	char *name;		/* NULL: the name is the number id */
	uint64_t id;
	uint64_t v[F_LAST];	/* F_USED .. F_OBJQUOTA */
	bool has[F_LAST];
};

struct sortcol {
	enum us_field field;
	bool reverse;
};

struct us_state {
	struct us_row *rows;
	size_t n, cap;
	bool numeric, parsable, populated;
	int kind;		/* the zfuse_userquota_prop being gathered */
	struct sortcol sort[16];
	int nsort;
	size_t width[F_LAST];
};

static bool kind_is_user(int k)
{
	return k == ZFUSE_USERUSED || k == ZFUSE_USERQUOTA || k == ZFUSE_USEROBJUSED ||
	       k == ZFUSE_USEROBJQUOTA;
}

static bool kind_is_group(int k)
{
	return k == ZFUSE_GROUPUSED || k == ZFUSE_GROUPQUOTA || k == ZFUSE_GROUPOBJUSED ||
	       k == ZFUSE_GROUPOBJQUOTA;
}

/* The column kind k fills, and the partner it fills with 0 when empty. */
static enum us_field kind_field(int k)
{
	static const enum us_field f[] = {
		F_USED, F_QUOTA, F_USED, F_QUOTA, F_OBJUSED, F_OBJQUOTA, F_OBJUSED, F_OBJQUOTA,
		F_USED, F_QUOTA, F_OBJUSED, F_OBJQUOTA,
	};
	return f[k];
}

static const char *type_text(unsigned type)
{
	switch (type) {
	case US_POSIX_USER: return "POSIX User";
	case US_POSIX_GROUP: return "POSIX Group";
	case US_SMB_USER: return "SMB User";
	case US_SMB_GROUP: return "SMB Group";
	case US_PROJECT: return "Project";
	default: return "Undefined";
	}
}

static int cmp_u64(uint64_t l, uint64_t r)
{
	return l == r ? 0 : l < r ? -1 : 1;
}

/* us_compare: the sort columns in turn; used and quota only once every
 * row is gathered. A name that is a string compares as 0 with a number. */
static int row_compare(const struct us_state *s, const struct us_row *l, const struct us_row *r)
{
	for (int i = 0; i < s->nsort; i++) {
		int rc = 0;
		switch (s->sort[i].field) {
		case F_TYPE:
			rc = cmp_u64(l->type, r->type);
			break;
		case F_NAME:
			if (l->name && r->name && !s->numeric)
				rc = strcmp(l->name, r->name);
			else
				rc = cmp_u64(l->name ? 0 : l->id, r->name ? 0 : r->id);
			break;
		case F_USED:
		case F_QUOTA:
			if (s->populated)
				rc = cmp_u64(l->v[s->sort[i].field], r->v[s->sort[i].field]);
			break;
		default:
			break;
		}
		if (rc)
			return (rc < 0) != s->sort[i].reverse ? -1 : 1;
	}
	return 0;
}

static void widen(struct us_state *s, enum us_field f, size_t len)
{
	if (len > s->width[f])
		s->width[f] = len;
}

static void format_value(enum us_field f, uint64_t v, bool parsable, bool none_for_zero,
			 char *buf, size_t cap)
{
	if (parsable)
		snprintf(buf, cap, "%" PRIu64, v);
	else if (none_for_zero && v == 0)
		snprintf(buf, cap, "none");
	else if (f == F_USED || f == F_QUOTA)
		zfs_nicebytes(v, buf, cap);
	else
		zfs_nicenum(v, buf, cap);
}

static int gather_cb(void *arg, const struct zfuse_userspace_entry *e)
{
	struct us_state *s = arg;
	/* SIDs need idmap, which Linux zfs does not have: zfs fails there. */
	if (e->domain != 0)
		return -ZFUSE_E_UNSUPPORTED;
	struct us_row row = { 0 };
	row.id = e->rid;
	char buf[4096];
	if (kind_is_group(s->kind)) {
		row.type = US_POSIX_GROUP;
		struct group gr, *g = NULL;
		if (!s->numeric && getgrgid_r((gid_t)e->rid, &gr, buf, sizeof(buf), &g) == 0 && g)
			row.name = gr.gr_name;
	} else if (kind_is_user(s->kind)) {
		row.type = US_POSIX_USER;
		struct passwd pw, *p = NULL;
		if (!s->numeric && getpwuid_r((uid_t)e->rid, &pw, buf, sizeof(buf), &p) == 0 && p)
			row.name = pw.pw_name;
	} else {
		row.type = US_PROJECT;
	}
	widen(s, F_TYPE, strlen(type_text(row.type)));
	char num[32];
	snprintf(num, sizeof(num), "%" PRIu32, e->rid);
	widen(s, F_NAME, strlen(row.name ? row.name : num));

	struct us_row *r = NULL;
	for (size_t i = 0; i < s->n && !r; i++)
		if (row_compare(s, &s->rows[i], &row) == 0)
			r = &s->rows[i];
	if (!r) {
		if (zf_grow(&s->rows, &s->cap, s->n, sizeof(*s->rows), 32))
			return -ZFUSE_E_NOMEM;
		if (row.name && !(row.name = strdup(row.name)))
			return -ZFUSE_E_NOMEM;
		r = &s->rows[s->n++];
		*r = row;
	}
	enum us_field f = kind_field(s->kind);
	enum us_field partner = (f == F_USED || f == F_OBJUSED) ? f + 1 : f - 1;
	char v[32];
	format_value(f, e->value, s->parsable, false, v, sizeof(v));
	widen(s, f, strlen(v));
	if (!r->has[partner]) {
		r->has[partner] = true;
		r->v[partner] = 0;
	}
	r->has[f] = true;
	r->v[f] = e->value;
	return 0;
}

static int qsort_cb(const void *a, const void *b, void *state)
{
	return row_compare(state, a, b);
}

static void print_rows(struct us_state *s, const int *fields, unsigned types, bool scripted,
		       FILE *out)
{
	if (!scripted) {
		for (int i = 0; fields[i] != F_LAST; i++) {
			int f = fields[i];
			bool left = f == F_TYPE || f == F_NAME;
			fprintf(out, left ? "%s%-*s" : "%s%*s", i ? "  " : "", (int)s->width[f],
				field_hdr[f]);
		}
		fputc('\n', out);
	}
	for (size_t r = 0; r < s->n; r++) {
		const struct us_row *row = &s->rows[r];
		if (!(row->type & types))
			continue;
		for (int i = 0; fields[i] != F_LAST; i++) {
			int f = fields[i];
			char buf[64];
			const char *text = buf;
			if (f == F_TYPE)
				text = type_text(row->type);
			else if (f == F_NAME && row->name)
				text = row->name;
			else if (f == F_NAME)
				snprintf(buf, sizeof(buf), "%" PRIu64, row->id);
			else if (row->has[f])
				format_value(f, row->v[f], s->parsable, f == F_QUOTA || f == F_OBJQUOTA,
					     buf, sizeof(buf));
			else
				text = "-";
			if (i)
				fputs(scripted ? "\t" : "  ", out);
			if (scripted)
				fputs(text, out);
			else
				fprintf(out, f == F_TYPE || f == F_NAME ? "%-*s" : "%*s",
					(int)s->width[f], text);
		}
		fputc('\n', out);
	}
}

static int field_index(const char *name)
{
	for (int i = 0; i < F_LAST; i++)
		if (strcmp(name, field_names[i]) == 0)
			return i;
	return -1;
}

static void userspace_usage_of(const char *verb, FILE *out)
{
	bool project = strcmp(verb, "projectspace") == 0;
	fprintf(out, "usage: zfuse %s [-d DIR|IMAGE]... [%s] [-o FIELD[,...]] [-s FIELD]... "
		"[-S FIELD]...%s FILESYSTEM|SNAPSHOT\n", verb, project ? "-Hp" : "-Hinp",
		project ? "" : " [-t TYPE[,...]]");
	fprintf(out, "Shows the space and objects each %s uses in a filesystem or snapshot, and its\n"
		"limits (as zfs %s); the figures are those of the last synced txg.\n"
		"  -H   no header, fields separated by a tab\n"
		"  -p   exact numbers\n"
		"%s"
		"  -o   fields among type,name,used,quota,objused,objquota\n"
		"  -s/-S  sort by type, name, used or quota, ascending/descending\n"
		"%s", project ? "project" : strcmp(verb, "groupspace") == 0 ? "group" : "user",
		verb, project ? "" : "  -n   ids as numbers, not names\n  -i   accepted (SIDs "
		"are POSIX ids here)\n",
		project ? "" : "  -t   types among posixuser,posixgroup,smbuser,smbgroup,all\n");
}

static void userspace_usage(FILE *out) { userspace_usage_of("userspace", out); }
static void groupspace_usage(FILE *out) { userspace_usage_of("groupspace", out); }
static void projectspace_usage(FILE *out) { userspace_usage_of("projectspace", out); }

static int usage_error(const char *verb, FILE *err)
{
	userspace_usage_of(verb, err);
	return ZF_EXIT_USAGE;
}

/* -o and -t lists; a bad element is reported in zfs's words. */
static int parse_fields(char *list, int *fields, FILE *err)
{
	int n = 0;
	char *save;
	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int f = field_index(tok);
		if (f < 0 || n == 63) {
			fprintf(err, "invalid type '%s' for -o option\n", tok);
			return -1;
		}
		fields[n++] = f;
	}
	fields[n] = F_LAST;
	return 0;
}

static int parse_types(char *list, unsigned *types, FILE *err)
{
	static const char *const names[] = { "posixgroup", "posixuser", "smbgroup", "smbuser", "all" };
	static const unsigned bits[] = { US_POSIX_GROUP, US_POSIX_USER, US_SMB_GROUP, US_SMB_USER,
					 US_ALL };
	*types = 0;
	char *save;
	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i = 0;
		while (i < 5 && strcmp(tok, names[i]) != 0)
			i++;
		if (i == 5) {
			fprintf(err, "invalid type '%s' for -t option\n", tok);
			return -1;
		}
		*types |= bits[i];
	}
	return 0;
}

static int userspace_run(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err)
{
	const char *verb = argv[0];
	bool project = strcmp(verb, "projectspace") == 0;
	unsigned types = strcmp(verb, "groupspace") == 0 ? US_POSIX_GROUP | US_SMB_GROUP
			 : project ? US_PROJECT : US_POSIX_USER | US_SMB_USER;
	struct us_state s = { .numeric = project };
	bool scripted = false;
	char deffields[] = "type,name,used,quota,objused,objquota";
	char *ofield = deffields, *tfield = NULL;
	int fields[64];
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt(argc, argv, "+nHpo:s:S:t:i")) != -1) {
		switch (c) {
		case 'n':
		case 't':
		case 'i':
			if (project) {
				fprintf(err, "invalid option '%c'\n", c);
				return usage_error(verb, err);
			}
			if (c == 'n')
				s.numeric = true;
			else if (c == 't')
				tfield = optarg;
			break;
		case 'H': scripted = true; break;
		case 'p': s.parsable = true; break;
		case 'o': ofield = optarg; break;
		case 's':
		case 'S': {
			int f = field_index(optarg);
			if (f < 0 || f > F_QUOTA || s.nsort >= 14) {
				fprintf(err, "invalid field '%s'\n", optarg);
				return usage_error(verb, err);
			}
			s.sort[s.nsort++] = (struct sortcol){ (enum us_field)f, c == 'S' };
			break;
		}
		case ':':
			fprintf(err, "missing argument for '%c' option\n", optopt);
			return usage_error(verb, err);
		default:
			fprintf(err, "invalid option '%c'\n", optopt);
			return usage_error(verb, err);
		}
	}
	if (optind >= argc) {
		fprintf(err, "missing dataset name\n");
		return usage_error(verb, err);
	}
	if (argc - optind > 1) {
		fprintf(err, "too many arguments\n");
		return usage_error(verb, err);
	}
	const char *name = argv[optind];
	if (parse_fields(ofield, fields, err) || (tfield && parse_types(tfield, &types, err)))
		return ZF_EXIT_FAIL;
	/* zfs always sorts by type and name after the columns asked for */
	s.sort[s.nsort++] = (struct sortcol){ F_TYPE, false };
	s.sort[s.nsort++] = (struct sortcol){ F_NAME, false };
	for (int f = 0; f < F_LAST; f++)
		s.width[f] = strlen(field_hdr[f]);

	int rc = 0;
	for (int k = ZFUSE_USERUSED; k <= ZFUSE_PROJECTOBJQUOTA && rc == 0; k++) {
		if ((kind_is_user(k) && !(types & (US_POSIX_USER | US_SMB_USER))) ||
		    (kind_is_group(k) && !(types & (US_POSIX_GROUP | US_SMB_GROUP))) ||
		    (!kind_is_user(k) && !kind_is_group(k) && types != US_PROJECT))
			continue;
		s.kind = k;
		rc = zfuse_userspace(pool, name, (enum zfuse_userquota_prop)k, gather_cb, &s);
		/* zfs_userspace: a pool without userobj_accounting or
		 * project_quota shows the other columns */
		if (rc == -ZFUSE_E_UNSUPPORTED && (k >= ZFUSE_USEROBJUSED))
			rc = 0;
	}
	int status = ZF_EXIT_OK;
	if (rc == -ZFUSE_E_NOENT) {
		fprintf(err, "cannot open '%s': dataset does not exist\n", name);
		status = ZF_EXIT_FAIL;
	} else if (rc) {
		/* the library has said why (the volume or feature case) */
		if (rc != -ZFUSE_E_INVAL && rc != -ZFUSE_E_UNSUPPORTED)
			fprintf(err, "cannot get used/quota for %s: %s\n", name, zfuse_strerror(rc));
		status = ZF_EXIT_FAIL;
	} else if (s.n) {
		s.populated = true;
		qsort_r(s.rows, s.n, sizeof(*s.rows), qsort_cb, &s);
		print_rows(&s, fields, types, scripted, out);
	}
	for (size_t i = 0; i < s.n; i++)
		free(s.rows[i].name);
	free(s.rows);
	return status;
}

const struct zf_pool_verb zf_verb_userspace = {
	"userspace", "show the space each user uses in a filesystem, and its quotas (as zfs "
	"userspace)", false, "+nHpo:s:S:t:i", 0, userspace_run, userspace_usage,
};
const struct zf_pool_verb zf_verb_groupspace = {
	"groupspace", "show the space each group uses in a filesystem, and its quotas (as zfs "
	"groupspace)", false, "+nHpo:s:S:t:i", 0, userspace_run, groupspace_usage,
};
const struct zf_pool_verb zf_verb_projectspace = {
	"projectspace", "show the space each project uses in a filesystem, and its quotas (as "
	"zfs projectspace)", false, "+Hpo:s:S:", 0, userspace_run, projectspace_usage,
};
