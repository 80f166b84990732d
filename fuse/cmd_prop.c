/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * cmd_prop.c — the verbs `zfuse list`, `get`, `set` and `inherit`, with
 * zfs's options and byte-for-byte its output (pool_verb.h runs them).
 *
 * Theory: every verb first selects datasets as libzfs's zfs_for_each
 * does — the named ones (or every pool dataset), with -r/-d descendants,
 * filtered by type — and sorts them as zfs_compare (name, a dataset
 * before its snapshots, snapshots by creation txg) or by -s/-S columns.
 * Values come from zfuse_prop_get / zfuse_prop_iter. Column widths follow
 * libzfs: a property's fixed width (the longest index name, 5 for
 * numbers) unless it is flexible or -p is given, then the longest value;
 * numbers are right-aligned, the last left-aligned column is not padded.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include "cmd.h"
#include "json.h"
#include "pool_verb.h"
#include "zfs_prop.h"
#include "zfuse/dataset.h"

#define TYPE_BIT(t) (1u << (t))
#define TYPES_ALL (TYPE_BIT(ZFUSE_DS_FILESYSTEM) | TYPE_BIT(ZFUSE_DS_VOLUME) | \
		   TYPE_BIT(ZFUSE_DS_SNAPSHOT) | TYPE_BIT(ZFUSE_DS_BOOKMARK))

/* ---- dataset selection (zfs_for_each) ------------------------------------ */

struct ds {
	char *name;
	enum zfuse_dataset_type type;
	uint64_t createtxg;
	char **vals;		/* per column (list) */
	char **keyvals;		/* per sort key: the -p value (list -s/-S) */
};

struct dslist {
	struct ds *v;
	size_t n, cap;
};

static int collect_cb(const struct zfuse_dataset_info *info, void *arg)
{
	struct dslist *l = arg;
	if (l->n == l->cap) {
		size_t nc = l->cap ? 2 * l->cap : 32;
		struct ds *nv = realloc(l->v, nc * sizeof(*nv));
		if (!nv)
			return -ZFUSE_E_NOMEM;
		l->v = nv;
		l->cap = nc;
	}
	struct ds *d = &l->v[l->n];
	memset(d, 0, sizeof(*d));
	if (!(d->name = strdup(info->name)))
		return -ZFUSE_E_NOMEM;
	d->type = info->type;
	d->createtxg = info->creation_txg;
	l->n++;
	return 0;
}

static void dslist_free(struct dslist *l, size_t ncols)
{
	for (size_t i = 0; i < l->n; i++) {
		for (size_t c = 0; l->v[i].vals && c < ncols; c++)
			free(l->v[i].vals[c]);
		for (size_t c = 0; l->v[i].keyvals && c < ncols; c++)
			free(l->v[i].keyvals[c]);
		free(l->v[i].keyvals);
		free(l->v[i].vals);
		free(l->v[i].name);
	}
	free(l->v);
}

static int zfs_compare(const void *a, const void *b)
{
	const struct ds *l = a, *r = b;
	size_t ll = strcspn(l->name, "@"), rl = strcspn(r->name, "@");
	size_t m = ll < rl ? ll : rl;
	int ret = memcmp(l->name, r->name, m);
	if (ret == 0)
		ret = ll < rl ? -1 : ll > rl;	/* strcmp of the parts before '@' */
	if (ret || (!l->name[ll] && !r->name[rl]))
		return ret;
	if (!l->name[ll])
		return -1;
	if (!r->name[rl])
		return 1;
	if (l->createtxg != r->createtxg)
		return l->createtxg < r->createtxg ? -1 : 1;
	return strcmp(l->name + ll + 1, r->name + rl + 1);
}

/* Depth of name below base, or -1 if it is not base or below it. */
static int depth_below(const char *base, const char *name)
{
	size_t bl = strlen(base);
	if (strncmp(name, base, bl) != 0 || (name[bl] && !strchr("/@#", name[bl])))
		return -1;
	int d = 0;
	for (const char *p = name + bl; *p; p++)
		if (*p == '/' || *p == '@' || *p == '#')
			d++;
	return d;
}

struct select {
	unsigned types;
	bool recurse;
	int depth;		/* -1: unlimited */
	bool types_given;
};

/* The datasets the operands name, as zfs_for_each visits them. */
static int select_datasets(const struct dslist *all, char **ops, int nops, struct select s,
			   FILE *err, struct dslist *out)
{
	int status = ZF_EXIT_OK;
	memset(out, 0, sizeof(*out));
	bool *take = calloc(all->n + 1, sizeof(*take));
	if (!take)
		return ZF_EXIT_FAIL;
	if (nops == 0) {
		for (size_t i = 0; i < all->n; i++) {
			int d = 0;
			for (const char *c = all->v[i].name; *c; c++)
				d += *c == '/' || *c == '@' || *c == '#';
			take[i] = s.depth < 0 || d <= s.depth;
		}
	}
	for (int o = 0; o < nops; o++) {
		size_t k = 0;
		while (k < all->n && strcmp(all->v[k].name, ops[o]) != 0)
			k++;
		if (strchr(ops[o], '#') && !(s.types & TYPE_BIT(ZFUSE_DS_BOOKMARK))) {
			fprintf(err, "cannot open '%s': bookmark delimiter '#' is not expected here\n",
				ops[o]);
			status = ZF_EXIT_FAIL;
			continue;
		}
		if (k == all->n) {
			fprintf(err, "cannot open '%s': dataset does not exist\n", ops[o]);
			status = ZF_EXIT_FAIL;
			continue;
		}
		bool rec = s.recurse;
		int depth = s.depth;
		unsigned only = s.types & ~(TYPE_BIT(ZFUSE_DS_FILESYSTEM) | TYPE_BIT(ZFUSE_DS_VOLUME));
		/* `zfs list -t snapshot fs`: the snapshots of fs. */
		if (!rec && only && only == s.types && all->v[k].type != ZFUSE_DS_SNAPSHOT &&
		    all->v[k].type != ZFUSE_DS_BOOKMARK) {
			rec = true;
			depth = 1;
		}
		if (!rec) {
			take[k] = true;
			continue;
		}
		for (size_t i = 0; i < all->n; i++) {
			int d = depth_below(ops[o], all->v[i].name);
			if (d >= 0 && (depth < 0 || d <= depth))
				take[i] = true;
		}
	}
	for (size_t i = 0; i < all->n; i++) {
		if (!take[i] || !(s.types & TYPE_BIT(all->v[i].type)))
			continue;
		if (out->n == out->cap) {
			size_t nc = out->cap ? 2 * out->cap : 32;
			struct ds *nv = realloc(out->v, nc * sizeof(*nv));
			if (!nv) {
				free(take);
				return ZF_EXIT_FAIL;
			}
			out->v = nv;
			out->cap = nc;
		}
		out->v[out->n] = all->v[i];
		out->v[out->n].name = strdup(all->v[i].name);
		out->v[out->n].vals = NULL;
		out->v[out->n].keyvals = NULL;
		out->n++;
	}
	free(take);
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), zfs_compare);
	return status;
}

static int parse_types(const char *arg, unsigned *types, FILE *err)
{
	char *copy = strdup(arg), *save = NULL;
	if (!copy)
		return -1;
	*types = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, "all") == 0)
			*types |= TYPES_ALL;
		else if (strcmp(t, "filesystem") == 0)
			*types |= TYPE_BIT(ZFUSE_DS_FILESYSTEM);
		else if (strcmp(t, "volume") == 0)
			*types |= TYPE_BIT(ZFUSE_DS_VOLUME);
		else if (strcmp(t, "snapshot") == 0 || strcmp(t, "snap") == 0)
			*types |= TYPE_BIT(ZFUSE_DS_SNAPSHOT);
		else if (strcmp(t, "bookmark") == 0)
			*types |= TYPE_BIT(ZFUSE_DS_BOOKMARK);
		else {
			fprintf(err, "invalid type '%s'\n", t);
			free(copy);
			return -1;
		}
	}
	free(copy);
	return 0;
}

static int parse_depth(const char *arg, int *depth, FILE *err)
{
	char *end;
	long d = strtol(arg, &end, 10);
	if (*end || end == arg || d < 0) {
		fprintf(err, "invalid depth '%s'\n", arg);
		return -1;
	}
	*depth = (int)d;
	return 0;
}

/* The options list and get share: -H, -p, -r, -d DEPTH, -t TYPES.
 * 1: opt was one (handled), 0: it was not, -1: a bad value. */
/* -j (--json) and -J (--json-int, as zfs: numbers as JSON numbers). */
struct json_opt {
	bool on, ints;
};

static int common_opt(int opt, bool *scripted, bool *parsable, struct select *s, struct json_opt *j,
		      FILE *err)
{
	switch (opt) {
	case 'j': j->on = true; return 1;
	case 'J': j->ints = *parsable = true; return 1;
	case 'H': *scripted = true; return 1;
	case 'p': *parsable = true; return 1;
	case 'r': s->recurse = true; return 1;
	case 'd': s->recurse = true; return parse_depth(optarg, &s->depth, err) ? -1 : 1;
	case 't': s->types_given = true; return parse_types(optarg, &s->types, err) ? -1 : 1;
	default: return 0;
	}
}

static int load_all(zfuse_pool_t *pool, struct dslist *all, FILE *err)
{
	memset(all, 0, sizeof(*all));
	int rc = zfuse_dataset_iter(pool, collect_cb, all);
	if (rc) {
		fprintf(err, "cannot list datasets of '%s': %s\n", zfuse_pool_name(pool),
			zfuse_strerror(rc));
		return -1;
	}
	return 0;
}

/* ---- columns --------------------------------------------------------- */

struct col {
	int prop;		/* zfs_prop_t; -1: a user property */
	char *name;		/* as given (user properties) */
	char header[300];
	size_t width;
	bool right;
};

static void set_header(struct col *c)
{
	if (c->prop >= 0) {
		snprintf(c->header, sizeof(c->header), "%s", zfs_prop_desc(c->prop)->colname);
	} else {
		size_t i = 0;
		for (; c->name[i] && i + 1 < sizeof(c->header); i++)
			c->header[i] = (char)(c->name[i] >= 'a' && c->name[i] <= 'z' ?
					      c->name[i] - 32 : c->name[i]);
		c->header[i] = 0;
	}
	c->right = (c->prop >= 0 && zfs_prop_align_right(c->prop)) ||
		   (c->prop < 0 && zfs_prop_userquota(c->name) >= 0);
}

static int parse_cols(const char *arg, struct col **cols, size_t *ncols, FILE *err)
{
	static const char space[] = "name,available,used,usedbysnapshots,usedbydataset,"
				    "usedbyrefreservation,usedbychildren";
	char *copy = strdup(arg), *save = NULL;
	if (!copy)
		return -1;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, "space") == 0) {
			int rc = parse_cols(space, cols, ncols, err);
			if (rc) {
				free(copy);
				return rc;
			}
			continue;
		}
		int p = zfs_prop_lookup(t);
		if ((p < 0 || (zfs_prop_desc(p)->hidden && p != ZFS_PROP_NAME)) &&
		    !zfs_prop_user(t) && !zfs_prop_written(t) && zfs_prop_userquota(t) < 0) {
			fprintf(err, "invalid property '%s'\n", t);
			free(copy);
			return -1;
		}
		struct col *nv = realloc(*cols, (*ncols + 1) * sizeof(**cols));
		if (!nv) {
			free(copy);
			return -1;
		}
		*cols = nv;
		struct col *c = &nv[(*ncols)++];
		memset(c, 0, sizeof(*c));
		c->prop = p;
		c->name = strdup(t);
		set_header(c);
	}
	free(copy);
	return 0;
}

static void cols_free(struct col *cols, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(cols[i].name);
	free(cols);
}

static void print_cell(FILE *out, const char *s, size_t width, bool right, bool last,
		       bool scripted, bool first)
{
	if (!first)
		fputs(scripted ? "\t" : "  ", out);
	if (scripted || (last && !right))
		fputs(s, out);
	else
		fprintf(out, right ? "%*s" : "%-*s", (int)width, s);
}

/* zfs get all keeps one list of user properties for all datasets, in the
 * order it first met them, and prints each dataset's in that order. */
struct names {
	char **v;
	size_t n;
};

static size_t name_index(struct names *un, const char *name)
{
	size_t i = 0;
	while (i < un->n && strcmp(un->v[i], name) != 0)
		i++;
	if (i == un->n) {
		char **nv = realloc(un->v, (un->n + 1) * sizeof(*nv));
		if (!nv || !(nv[un->n] = strdup(name)))
			return i;
		un->v = nv;
		un->n++;
	}
	return i;
}

/* zfuse_prop_iter callback: the user properties met, in order. */
static int note_user_prop(void *arg, const char *prop, const struct zfuse_prop_value *v)
{
	(void)v;
	if (strchr(prop, ':'))
		name_index(arg, prop);
	return 0;
}

/* ---- list ---------------------------------------------------------------- */

struct sortkey {
	size_t col;
	bool reverse;
};

static const struct sortkey *g_keys;
static size_t g_nkeys;
static const struct col *g_cols;

static int value_cmp(const struct col *c, const char *a, const char *b)
{
	bool ad = strcmp(a, "-") == 0, bd = strcmp(b, "-") == 0;
	if (ad || bd)
		return ad == bd ? 0 : ad ? 1 : -1;
	if ((c->prop >= 0 && zfs_prop_desc(c->prop)->type == ZPROP_NUMBER) ||
	    (c->prop < 0 && zfs_prop_userquota(c->name) >= 0)) {
		uint64_t x = strtoull(a, NULL, 10), y = strtoull(b, NULL, 10);
		return x < y ? -1 : x > y;
	}
	return strcmp(a, b);	/* index values too, by name (off < on < zstd) */
}

static int sort_cmp(const void *a, const void *b)
{
	const struct ds *l = a, *r = b;
	for (size_t k = 0; k < g_nkeys; k++) {
		size_t c = g_keys[k].col;
		int ret = value_cmp(&g_cols[c], l->keyvals[c], r->keyvals[c]);
		if (ret)
			return g_keys[k].reverse ? -ret : ret;
	}
	return zfs_compare(a, b);
}

static char *get_value(zfuse_pool_t *pool, const char *ds, const struct col *c, bool parsable)
{
	struct zfuse_prop_value v;
	if (c->prop == ZFS_PROP_NAME)
		return strdup(ds);
	int rc = zfuse_prop_get(pool, ds, c->prop >= 0 ? zfs_prop_desc(c->prop)->name : c->name,
				parsable, &v);
	return strdup(rc == 0 ? v.value : "-");
}

/* ---- JSON (-j), in zfs 2.3's layout ------------------------------------- */

static const char *const json_src[] = {
	[ZFUSE_SRC_NONE] = "NONE",	     [ZFUSE_SRC_DEFAULT] = "DEFAULT",
	[ZFUSE_SRC_LOCAL] = "LOCAL",	     [ZFUSE_SRC_INHERITED] = "INHERITED",
	[ZFUSE_SRC_TEMPORARY] = "TEMPORARY", [ZFUSE_SRC_RECEIVED] = "RECEIVED",
};

static void json_begin(zf_json_t *j, FILE *out, const char *command)
{
	zj_begin_output(j, out, command);
	zj_obj_begin(j, "datasets");
}

static void json_dataset_begin(zf_json_t *j, const struct ds *d, bool ints)
{
	static const char *const types[] = {
		[ZFUSE_DS_FILESYSTEM] = "FILESYSTEM", [ZFUSE_DS_VOLUME] = "VOLUME",
		[ZFUSE_DS_SNAPSHOT] = "SNAPSHOT", [ZFUSE_DS_BOOKMARK] = "BOOKMARK",
	};
	char buf[512], txg[32];
	zj_obj_begin(j, d->name);
	zj_str(j, "name", d->name);
	zj_str(j, "type", types[d->type]);
	snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(d->name, "/@#"), d->name);
	zj_str(j, "pool", buf);
	snprintf(txg, sizeof(txg), "%" PRIu64, d->createtxg);
	if (ints)
		zj_u64(j, "createtxg", d->createtxg);
	else
		zj_str(j, "createtxg", txg);
	const char *at = strchr(d->name, '@');
	if (at) {	/* bookmarks get no such fields from zfs */
		snprintf(buf, sizeof(buf), "%.*s", (int)(at - d->name), d->name);
		zj_str(j, "dataset", buf);
		zj_str(j, "snapshot_name", at + 1);
	}
	zj_obj_begin(j, "properties");
}

static void json_prop(zf_json_t *j, const char *prop, const struct zfuse_prop_value *v, bool ints)
{
	zj_obj_begin(j, prop);
	const char *p = v->value;
	bool number = ints && *p;
	for (; number && *p; p++)
		number = *p >= '0' && *p <= '9';
	if (number)
		zj_u64(j, "value", strtoull(v->value, NULL, 10));
	else
		zj_str(j, "value", v->value);
	zj_obj_begin(j, "source");
	zj_str(j, "type", json_src[v->source]);
	zj_str(j, "data", v->source == ZFUSE_SRC_INHERITED ? v->inherited_from : "-");
	zj_obj_end(j);
	zj_obj_end(j);
}

static void json_dataset_end(zf_json_t *j)
{
	zj_obj_end(j);	/* properties */
	zj_obj_end(j);
}

static void json_end(zf_json_t *j)
{
	zj_obj_end(j);	/* datasets */
	zj_obj_end(j);
	zj_finish(j);
}

static void list_usage(FILE *out)
{
	fprintf(out, "usage: zfuse list [-H] [-p] [-j|--json [--json-int]] [-r|-d DEPTH] "
		     "[-o PROP[,PROP]...]\n"
		     "                  [-s PROP]... [-S PROP]... [-t TYPE[,TYPE]...] [-d DIR|IMAGE]... "
		     "[DATASET]...\n"
		     "  TYPE: all, filesystem, volume, snapshot, bookmark. -d DIR|IMAGE (not a "
		     "number) names the pool's images.\n");
}

static int list_run(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err)
{
	bool scripted = false, parsable = false;
	struct select s = { TYPE_BIT(ZFUSE_DS_FILESYSTEM) | TYPE_BIT(ZFUSE_DS_VOLUME), false, -1,
			    false };
	const char *fields = "name,used,available,referenced,mountpoint";
	struct json_opt json = { false, false };
	struct col *cols = NULL;
	size_t ncols = 0;
	struct sortkey keys[32];
	const char *keynames[32];
	size_t nkeys = 0;
	int opt;
	optind = 0;
	while ((opt = getopt(argc, argv, zf_verb_list.optstring)) != -1) {
		int common = common_opt(opt, &scripted, &parsable, &s, &json, err);
		if (common < 0)
			return ZF_EXIT_USAGE;
		switch (common ? 0 : opt) {
		case 0: break;
		case 'o': fields = optarg; break;
		case 's':
		case 'S':
			if (nkeys == 32)
				return ZF_EXIT_USAGE;
			keys[nkeys].reverse = opt == 'S';
			keynames[nkeys++] = optarg;
			break;
		default:
			list_usage(err);
			return ZF_EXIT_USAGE;
		}
	}
	if (json.ints && !json.on) {
		fprintf(err, "'--json-int' only works with '-j' option\n");
		list_usage(err);
		return ZF_EXIT_USAGE;
	}
	char allcols[4096];
	if (strcmp(fields, "all") == 0) {	/* every property zfs shows, in its order */
		size_t n = (size_t)snprintf(allcols, sizeof(allcols), "name");
		for (int p = 0; p < ZFS_NUM_PROPS && n < sizeof(allcols); p++)
			if (!zfs_prop_desc(p)->hidden)
				n += (size_t)snprintf(allcols + n, sizeof(allcols) - n, ",%s",
						      zfs_prop_desc(p)->name);
		fields = allcols;
	}
	if (parse_cols(fields, &cols, &ncols, err)) {
		cols_free(cols, ncols);
		return ZF_EXIT_USAGE;
	}
	/* Sort columns not shown are fetched after the shown ones. */
	size_t nshown = ncols;
	for (size_t k = 0; k < nkeys; k++) {
		size_t c = 0;
		int p = zfs_prop_lookup(keynames[k]);
		while (c < ncols && !(p >= 0 ? cols[c].prop == p :
				      cols[c].prop < 0 && strcmp(cols[c].name, keynames[k]) == 0))
			c++;
		if (c == ncols && parse_cols(keynames[k], &cols, &ncols, err)) {
			cols_free(cols, ncols);
			return ZF_EXIT_USAGE;
		}
		keys[k].col = c;
	}
	/* A snapshot operand is listed even without -t. */
	for (int i = optind; i < argc && !s.types_given; i++)
		if (strchr(argv[i], '@'))
			s.types |= TYPE_BIT(ZFUSE_DS_SNAPSHOT);
	struct dslist all, sel;
	if (load_all(pool, &all, err)) {
		cols_free(cols, ncols);
		return ZF_EXIT_FAIL;
	}
	int status = select_datasets(&all, argv + optind, argc - optind, s, err, &sel);
	dslist_free(&all, 0);
	if (fields == allcols) {	/* -o all: then every user property met */
		struct names un = { 0 };
		for (size_t i = 0; i < sel.n; i++)
			zfuse_prop_iter(pool, sel.v[i].name, false, note_user_prop, &un);
		for (size_t i = 0; i < un.n; i++) {
			if (nkeys == 0 && parse_cols(un.v[i], &cols, &ncols, err) == 0)
				nshown = ncols;
			free(un.v[i]);
		}
		free(un.v);
	}
	for (size_t i = 0; i < sel.n; i++) {
		sel.v[i].vals = calloc(ncols, sizeof(char *));
		sel.v[i].keyvals = calloc(ncols, sizeof(char *));
		for (size_t c = 0; sel.v[i].vals && c < ncols; c++)
			sel.v[i].vals[c] = get_value(pool, sel.v[i].name, &cols[c], parsable);
		/* Sorting compares exact numbers, not their human form. */
		for (size_t k = 0; sel.v[i].keyvals && k < nkeys; k++)
			if (!sel.v[i].keyvals[keys[k].col])
				sel.v[i].keyvals[keys[k].col] =
					get_value(pool, sel.v[i].name, &cols[keys[k].col], true);
	}
	for (size_t i = 0; i < sel.n && nkeys; i++)
		if (!sel.v[i].vals || !sel.v[i].keyvals) {
			dslist_free(&sel, ncols);
			cols_free(cols, ncols);
			return ZF_EXIT_FAIL;
		}
	if (nkeys && sel.n) {
		g_keys = keys;
		g_nkeys = nkeys;
		g_cols = cols;
		qsort(sel.v, sel.n, sizeof(*sel.v), sort_cmp);
	}
	for (size_t c = 0; c < nshown; c++) {
		bool fixed = false;
		size_t w = strlen(cols[c].header);
		if (cols[c].prop >= 0 && cols[c].prop != ZFS_PROP_NAME) {
			size_t pw = zfs_prop_width(cols[c].prop, &fixed);
			w = pw > w ? pw : w;
		} else if (cols[c].prop < 0) {
			w = strlen(cols[c].name);
		}
		if (!fixed || parsable)
			for (size_t i = 0; i < sel.n; i++)
				if (sel.v[i].vals && strcmp(sel.v[i].vals[c], "-") != 0 &&
				    strlen(sel.v[i].vals[c]) > w)
					w = strlen(sel.v[i].vals[c]);
		cols[c].width = w;
	}
	if (json.on) {
		zf_json_t j;
		json_begin(&j, out, "zfs list");
		for (size_t i = 0; i < sel.n; i++) {
			json_dataset_begin(&j, &sel.v[i], json.ints);
			for (size_t c = 0; c < nshown; c++) {
				const char *pn = cols[c].prop >= 0 ? zfs_prop_desc(cols[c].prop)->name
								   : cols[c].name;
				struct zfuse_prop_value v;
				if (cols[c].prop == ZFS_PROP_NAME)
					continue;
				if (zfuse_prop_get(pool, sel.v[i].name, pn, parsable, &v) != 0) {
					memset(&v, 0, sizeof(v));
					snprintf(v.value, sizeof(v.value), "-");
				}
				json_prop(&j, pn, &v, json.ints);
			}
			json_dataset_end(&j);
		}
		json_end(&j);
		dslist_free(&sel, ncols);
		cols_free(cols, ncols);
		return status;
	}
	if (!scripted && sel.n) {
		for (size_t c = 0; c < nshown; c++)
			print_cell(out, cols[c].header, cols[c].width, cols[c].right, c + 1 == nshown,
				   false, c == 0);
		fputc('\n', out);
	}
	for (size_t i = 0; i < sel.n; i++) {
		if (!sel.v[i].vals)
			continue;
		for (size_t c = 0; c < nshown; c++)
			print_cell(out, sel.v[i].vals[c], cols[c].width, cols[c].right,
				   c + 1 == nshown, scripted, c == 0);
		fputc('\n', out);
	}
	if (sel.n == 0 && argc == optind && status == ZF_EXIT_OK)
		fprintf(err, "no datasets available\n");
	dslist_free(&sel, ncols);
	cols_free(cols, ncols);
	return status;
}

/* ---- get ------------------------------------------------------------------ */

enum { GF_NAME, GF_PROPERTY, GF_VALUE, GF_RECEIVED, GF_SOURCE, GF_N };

struct getrow {
	char *name, *prop, *value, *source;
	enum zfuse_prop_source src;
};

struct getctx {
	struct getrow *v;
	size_t n, cap;
	const char *ds;
	unsigned srcmask;
	int err;
};

static const char *const src_names[] = {
	[ZFUSE_SRC_NONE] = "none",	   [ZFUSE_SRC_DEFAULT] = "default",
	[ZFUSE_SRC_LOCAL] = "local",	   [ZFUSE_SRC_INHERITED] = "inherited",
	[ZFUSE_SRC_TEMPORARY] = "temporary", [ZFUSE_SRC_RECEIVED] = "received",
};

static int add_row(void *arg, const char *prop, const struct zfuse_prop_value *v)
{
	struct getctx *g = arg;
	if (g->n == g->cap) {
		size_t nc = g->cap ? 2 * g->cap : 128;
		struct getrow *nv = realloc(g->v, nc * sizeof(*nv));
		if (!nv)
			return -ZFUSE_E_NOMEM;
		g->v = nv;
		g->cap = nc;
	}
	struct getrow *r = &g->v[g->n++];
	char src[300];
	switch (v->source) {
	case ZFUSE_SRC_NONE: snprintf(src, sizeof(src), "-"); break;
	case ZFUSE_SRC_INHERITED:
		snprintf(src, sizeof(src), "inherited from %s", v->inherited_from);
		break;
	default: snprintf(src, sizeof(src), "%s", src_names[v->source]); break;
	}
	r->name = strdup(g->ds);
	r->prop = strdup(prop);
	r->value = strdup(v->value);
	r->source = strdup(src);
	r->src = v->source;
	return r->name && r->prop && r->value && r->source ? 0 : -ZFUSE_E_NOMEM;
}

static void order_user_rows(struct getctx *g, size_t first, struct names *un)
{
	size_t u = first;
	while (u < g->n && !strchr(g->v[u].prop, ':'))
		u++;
	for (size_t i = u; i < g->n; i++)	/* register in order met */
		name_index(un, g->v[i].prop);
	for (size_t i = u + 1; i < g->n; i++) {	/* insertion sort by index */
		struct getrow r = g->v[i];
		size_t ri = name_index(un, r.prop), j = i;
		while (j > u && name_index(un, g->v[j - 1].prop) > ri) {
			g->v[j] = g->v[j - 1];
			j--;
		}
		g->v[j] = r;
	}
}

static void get_usage(FILE *out)
{
	fprintf(out, "usage: zfuse get [-H] [-p] [-j|--json [--json-int]] [-r|-d DEPTH] "
		     "[-o FIELD[,FIELD]...] [-s SOURCE[,SOURCE]...]\n"
		     "                 [-t TYPE[,TYPE]...] [-d DIR|IMAGE]... all|PROP[,PROP]... "
		     "[DATASET]...\n"
		     "  FIELD: name, property, value, source. SOURCE: local, default, inherited, "
		     "temporary, received, none.\n");
}

static int parse_list(const char *arg, const char *const *names, int n, unsigned *mask,
		      int *order, int *norder, FILE *err, const char *what)
{
	char *copy = strdup(arg), *save = NULL;
	if (!copy)
		return -1;
	*mask = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int i = 0;
		while (i < n && strcmp(names[i], t) != 0)
			i++;
		if (i == n) {
			fprintf(err, "invalid %s '%s'\n", what, t);
			free(copy);
			return -1;
		}
		*mask |= 1u << i;
		if (order)
			order[(*norder)++] = i;
	}
	free(copy);
	return 0;
}

static int get_run(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err)
{
	static const char *const fieldnames[GF_N] = { "name", "property", "value", "received",
						      "source" };
	bool scripted = false, parsable = false;
	struct select s = { TYPES_ALL, false, -1, false };
	int fields[8] = { GF_NAME, GF_PROPERTY, GF_VALUE, GF_SOURCE };
	int nfields = 4;
	unsigned srcmask = ~0u, fmask;
	struct json_opt json = { false, false };
	int opt;
	optind = 0;
	while ((opt = getopt(argc, argv, zf_verb_get.optstring)) != -1) {
		int common = common_opt(opt, &scripted, &parsable, &s, &json, err);
		if (common < 0)
			return ZF_EXIT_USAGE;
		switch (common ? 0 : opt) {
		case 0: break;
		case 's':
			if (parse_list(optarg, src_names, 6, &srcmask, NULL, NULL, err, "source"))
				return ZF_EXIT_USAGE;
			break;
		case 'o':
			nfields = 0;
			if (parse_list(optarg, fieldnames, GF_N, &fmask, fields, &nfields, err,
				       "field") || nfields > 8)
				return ZF_EXIT_USAGE;
			break;
		default:
			get_usage(err);
			return ZF_EXIT_USAGE;
		}
	}
	if (json.ints && !json.on) {
		fprintf(err, "'--json-int' only works with '-j' option\n");
		get_usage(err);
		return ZF_EXIT_USAGE;
	}
	if (optind >= argc) {
		fprintf(err, "missing property argument\n");
		get_usage(err);
		return ZF_EXIT_USAGE;
	}
	const char *props = argv[optind++];
	bool all = strcmp(props, "all") == 0;
	struct col *cols = NULL;
	size_t ncols = 0;
	if (!all && parse_cols(props, &cols, &ncols, err)) {
		cols_free(cols, ncols);
		return ZF_EXIT_USAGE;
	}
	struct dslist alld, sel;
	if (load_all(pool, &alld, err)) {
		cols_free(cols, ncols);
		return ZF_EXIT_FAIL;
	}
	int status = select_datasets(&alld, argv + optind, argc - optind, s, err, &sel);
	dslist_free(&alld, 0);
	struct getctx g = { 0 };
	struct names un = { 0 };
	/* Widths: libzfs's zprop_print_headers over the whole list. */
	size_t wname = 4, wprop = 8, wval = 5, wsrc = 6, maxname = 0;
	if (all) {
		for (int p = 0; p < ZFS_NUM_PROPS; p++) {
			const zprop_desc_t *d = zfs_prop_desc(p);
			bool fixed;
			if (d->hidden)
				continue;
			size_t w = zfs_prop_width(p, &fixed);
			wval = w > wval ? w : wval;
			wprop = strlen(d->name) > wprop ? strlen(d->name) : wprop;
		}
	}
	for (size_t c = 0; c < ncols; c++) {
		bool fixed;
		size_t w = cols[c].prop >= 0 ? zfs_prop_width(cols[c].prop, &fixed)
					    : strlen(cols[c].name);
		const char *pn = cols[c].prop >= 0 ? zfs_prop_desc(cols[c].prop)->name : cols[c].name;
		wval = w > wval ? w : wval;
		wprop = strlen(pn) > wprop ? strlen(pn) : wprop;
	}
	for (size_t i = 0; i < sel.n; i++) {
		size_t first = g.n;
		g.ds = sel.v[i].name;
		maxname = strlen(sel.v[i].name) > maxname ? strlen(sel.v[i].name) : maxname;
		int rc = 0;
		if (all) {
			rc = zfuse_prop_iter(pool, sel.v[i].name, parsable, add_row, &g);
		} else {
			for (size_t c = 0; c < ncols && rc == 0; c++) {
				struct zfuse_prop_value v;
				const char *pn = cols[c].prop >= 0 ? zfs_prop_desc(cols[c].prop)->name
								   : cols[c].name;
				if (cols[c].prop == ZFS_PROP_NAME) {
					memset(&v, 0, sizeof(v));
					snprintf(v.value, sizeof(v.value), "%s", sel.v[i].name);
				} else if (zfuse_prop_get(pool, sel.v[i].name, pn, parsable, &v) != 0) {
					memset(&v, 0, sizeof(v));
					snprintf(v.value, sizeof(v.value), "-");
				}
				rc = add_row(&g, pn, &v);
			}
		}
		if (rc) {
			fprintf(err, "cannot get properties of '%s': %s\n", sel.v[i].name,
				zfuse_strerror(rc));
			status = ZF_EXIT_FAIL;
		}
		if (all)
			order_user_rows(&g, first, &un);
		for (size_t r = first; r < g.n; r++) {
			int p = zfs_prop_lookup(g.v[r].prop);
			bool fixed = false;
			size_t vl = strlen(g.v[r].value);
			if (p >= 0)
				zfs_prop_width(p, &fixed);
			else if (strlen(g.v[r].prop) > wprop)
				wprop = strlen(g.v[r].prop);
			if (p < 0 && strlen(g.v[r].prop) > wval)
				wval = strlen(g.v[r].prop);
			if ((!fixed || parsable) && strcmp(g.v[r].value, "-") != 0 && vl > wval)
				wval = vl;
		}
	}
	if (maxname > wname) {
		wname = maxname;
		wsrc = maxname + strlen("inherited from");
	}
	size_t widths[GF_N] = { wname, wprop, wval, 8, wsrc };
	bool header = !scripted && !json.on;
	if (json.on) {
		zf_json_t j;
		json_begin(&j, out, "zfs get");
		const char *open = NULL;
		for (size_t r = 0; r < g.n; r++) {
			if (!(srcmask & (1u << g.v[r].src)))
				continue;
			if (!open || strcmp(open, g.v[r].name) != 0) {
				if (open)
					json_dataset_end(&j);
				for (size_t i = 0; i < sel.n; i++)
					if (strcmp(sel.v[i].name, g.v[r].name) == 0)
						json_dataset_begin(&j, &sel.v[i], json.ints);
				open = g.v[r].name;
			}
			struct zfuse_prop_value v;
			memset(&v, 0, sizeof(v));
			snprintf(v.value, sizeof(v.value), "%s", g.v[r].value);
			v.source = g.v[r].src;
			if (g.v[r].src == ZFUSE_SRC_INHERITED)
				snprintf(v.inherited_from, sizeof(v.inherited_from), "%s",
					 g.v[r].source + strlen("inherited from "));
			json_prop(&j, g.v[r].prop, &v, json.ints);
		}
		if (open)
			json_dataset_end(&j);
		json_end(&j);
	}
	for (size_t r = 0; r < g.n && !json.on; r++) {
		if (!(srcmask & (1u << g.v[r].src)))
			continue;
		if (header) {
			static const char *const heads[GF_N] = { "NAME", "PROPERTY", "VALUE",
								 "RECEIVED", "SOURCE" };
			for (int f = 0; f < nfields; f++)
				print_cell(out, heads[fields[f]], widths[fields[f]], false,
					   f + 1 == nfields, false, f == 0);
			fputc('\n', out);
			header = false;
		}
		for (int f = 0; f < nfields; f++) {
			const char *v = fields[f] == GF_NAME ? g.v[r].name :
					fields[f] == GF_PROPERTY ? g.v[r].prop :
					fields[f] == GF_VALUE ? g.v[r].value :
					fields[f] == GF_SOURCE ? g.v[r].source : "-";
			print_cell(out, v, widths[fields[f]], false, f + 1 == nfields, scripted, f == 0);
		}
		fputc('\n', out);
	}
	for (size_t r = 0; r < g.n; r++) {
		free(g.v[r].name);
		free(g.v[r].prop);
		free(g.v[r].value);
		free(g.v[r].source);
	}
	free(g.v);
	for (size_t i = 0; i < un.n; i++)
		free(un.v[i]);
	free(un.v);
	dslist_free(&sel, 0);
	cols_free(cols, ncols);
	return status;
}

/* ---- set, inherit -------------------------------------------------------- */

static void set_usage(FILE *out)
{
	fprintf(out, "usage: zfuse set [-d DIR|IMAGE]... PROP=VALUE... DATASET...\n");
}

static int set_run(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err)
{
	(void)out;
	int opt;
	optind = 0;
	while ((opt = getopt(argc, argv, zf_verb_set.optstring)) != -1) {
		set_usage(err);
		return ZF_EXIT_USAGE;
	}
	int nset = 0;
	while (optind + nset < argc && strchr(argv[optind + nset], '='))
		nset++;
	if (nset == 0 || optind + nset == argc) {
		fprintf(err, nset ? "missing dataset name\n" : "missing property=value argument\n");
		set_usage(err);
		return ZF_EXIT_USAGE;
	}
	struct zfuse_prop_setting *ps = calloc((size_t)nset, sizeof(*ps));
	char **copies = calloc((size_t)nset, sizeof(*copies));
	if (!ps || !copies) {
		free(ps);
		free(copies);
		return ZF_EXIT_FAIL;
	}
	int status = ZF_EXIT_OK;
	for (int i = 0; i < nset; i++) {
		copies[i] = strdup(argv[optind + i]);
		char *eq = copies[i] ? strchr(copies[i], '=') : NULL;
		if (!eq || eq == copies[i]) {
			fprintf(err, "invalid property=value format '%s'\n", argv[optind + i]);
			status = ZF_EXIT_USAGE;
			break;
		}
		*eq = 0;
		ps[i].name = copies[i];
		ps[i].value = eq + 1;
	}
	for (int d = optind + nset; d < argc && status == ZF_EXIT_OK; d++) {
		int rc = zfuse_prop_set(pool, argv[d], ps, (size_t)nset);
		if (rc) {
			fprintf(err, "cannot set property for '%s': %s\n", argv[d], zfuse_strerror(rc));
			status = ZF_EXIT_FAIL;
		}
	}
	for (int i = 0; i < nset; i++)
		free(copies[i]);
	free(copies);
	free(ps);
	return status;
}

static void inherit_usage(FILE *out)
{
	fprintf(out, "usage: zfuse inherit [-r] [-d DIR|IMAGE]... PROP DATASET...\n");
}

static int inherit_run(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err)
{
	(void)out;
	bool recurse = false;
	int opt;
	optind = 0;
	while ((opt = getopt(argc, argv, zf_verb_inherit.optstring)) != -1) {
		if (opt == 'r') {
			recurse = true;
			continue;
		}
		inherit_usage(err);
		return ZF_EXIT_USAGE;
	}
	if (argc - optind < 2) {
		fprintf(err, argc == optind ? "missing property argument\n" :
					      "missing dataset argument\n");
		inherit_usage(err);
		return ZF_EXIT_USAGE;
	}
	const char *prop = argv[optind];
	struct dslist all, sel;
	if (load_all(pool, &all, err))
		return ZF_EXIT_FAIL;
	struct select s = { TYPES_ALL & ~TYPE_BIT(ZFUSE_DS_BOOKMARK), recurse, -1, true };
	if (recurse)
		s.types = TYPE_BIT(ZFUSE_DS_FILESYSTEM) | TYPE_BIT(ZFUSE_DS_VOLUME);
	int status = select_datasets(&all, argv + optind + 1, argc - optind - 1, s, err, &sel);
	dslist_free(&all, 0);
	for (size_t i = 0; i < sel.n; i++) {
		int rc = zfuse_prop_inherit(pool, sel.v[i].name, prop);
		if (rc) {
			fprintf(err, "cannot inherit %s for '%s': %s\n", prop, sel.v[i].name,
				zfuse_strerror(rc));
			status = ZF_EXIT_FAIL;
			break;
		}
	}
	dslist_free(&sel, 0);
	return status;
}

const struct zf_pool_verb zf_verb_list = {
	"list", "list datasets with their space figures and properties (as zfs list)", false,
	"HpjJrd:t:o:s:S:", 0, list_run, list_usage,
};
const struct zf_pool_verb zf_verb_get = {
	"get", "show dataset properties and their sources (as zfs get)", false, "HpjJrd:t:s:o:", 1,
	get_run, get_usage,
};
const struct zf_pool_verb zf_verb_set = {
	"set", "set dataset properties (as zfs set)", true, "", ZF_POOL_OPERAND_LAST, set_run,
	set_usage,
};
const struct zf_pool_verb zf_verb_inherit = {
	"inherit", "clear a local property so it is inherited again (as zfs inherit)", true, "r",
	ZF_POOL_OPERAND_LAST, inherit_run, inherit_usage,
};

