/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * cmd_dataset.c — the verbs that make and unmake datasets and snapshots,
 * with zfs's flags and messages: snapshot, destroy, rollback, and create
 * of a dataset (`zfuse create POOL/NAME`; `zfuse create POOL VDEV...`
 * stays the pool's). Each verb expands its operands (-r, snapshot ranges)
 * from the pool's dataset list and calls dataset.h; where the pool is is
 * pool_verb.c's business.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cmd.h"
#include "cmd_key.h"
#include "json.h"
#include "log.h"
#include "pool_verb.h"
#include "zfuse/dataset.h"
#include "zfuse/errors.h"
#include "zfs_prop.h"

/* ---- the pool's dataset list ------------------------------------------------ */

struct ds_entry {
	char *name;
	char *origin;		/* a clone's origin snapshot, or NULL */
	enum zfuse_dataset_type type;
	uint64_t txg;
};

struct ds_list {
	struct ds_entry *v;
	size_t n, cap;
};

static int collect_cb(const struct zfuse_dataset_info *info, void *arg)
{
	struct ds_list *l = arg;
	if (l->n == l->cap) {
		size_t nc = l->cap ? 2 * l->cap : 64;
		struct ds_entry *nv = realloc(l->v, nc * sizeof(*nv));
		if (!nv)
			return -ZFUSE_E_NOMEM;
		l->v = nv;
		l->cap = nc;
	}
	if (!(l->v[l->n].name = strdup(info->name)))
		return -ZFUSE_E_NOMEM;
	l->v[l->n].origin = info->origin ? strdup(info->origin) : NULL;
	if (info->origin && !l->v[l->n].origin) {
		free(l->v[l->n].name);
		return -ZFUSE_E_NOMEM;
	}
	l->v[l->n].type = info->type;
	l->v[l->n].txg = info->creation_txg;
	l->n++;
	return 0;
}

static void ds_list_free(struct ds_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].origin);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int ds_list_load(zfuse_pool_t *pool, struct ds_list *l, FILE *err)
{
	memset(l, 0, sizeof(*l));
	int rc = zfuse_dataset_iter(pool, collect_cb, l);
	if (rc) {
		fprintf(err, "cannot list datasets: %s\n", zfuse_strerror(rc));
		ds_list_free(l);
	}
	return rc;
}

static const struct ds_entry *ds_find(const struct ds_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return &l->v[i];
	return NULL;
}

/* Whether name is ds itself or below it ("ds/..."). */
static bool at_or_below(const char *name, const char *ds)
{
	size_t n = strlen(ds);
	return strncmp(name, ds, n) == 0 && (name[n] == '\0' || name[n] == '/');
}

static bool is_head(const struct ds_entry *e)
{
	return e->type == ZFUSE_DS_FILESYSTEM || e->type == ZFUSE_DS_VOLUME;
}

/* Snapshots of head ds (exactly), in txg order as the walk gives them. */
static bool snapshot_of(const struct ds_entry *e, const char *ds)
{
	size_t n = strlen(ds);
	return e->type == ZFUSE_DS_SNAPSHOT && strncmp(e->name, ds, n) == 0 && e->name[n] == '@';
}

/* Bookmarks of head ds (exactly). */
static bool bookmark_of(const struct ds_entry *e, const char *ds)
{
	size_t n = strlen(ds);
	return e->type == ZFUSE_DS_BOOKMARK && strncmp(e->name, ds, n) == 0 && e->name[n] == '#';
}

static const char *error_text(int rc)
{
	switch (rc) {
	case -ZFUSE_E_EXIST: return "dataset already exists";
	case -ZFUSE_E_NOENT: return "dataset does not exist";
	case -ZFUSE_E_BUSY: return "dataset is busy";
	case -ZFUSE_E_ROFS: return "pool is read-only";
	case -ZFUSE_E_NAMETOOLONG: return "name is too long";
	case -ZFUSE_E_NOSPC: return "out of space";
	default: return zfuse_strerror(rc);
	}
}

/* ---- snapshot ---------------------------------------------------------------- */

static void snapshot_usage(FILE *out)
{
	fputs("usage: zfuse snapshot [-d DIR|IMAGE]... [-r] DATASET@SNAPSHOT...\n"
	      "Takes the snapshots, all in one transaction group.\n"
	      "  -r   also snapshot every descendant filesystem and volume\n", out);
}

static int snapshot_run(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err)
{
	(void)out;
	bool recursive = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt(argc, argv, "+r")) != -1) {
		if (c != 'r') {
			fprintf(err, "invalid option '%c'\n", optopt);
			snapshot_usage(err);
			return ZF_EXIT_USAGE;
		}
		recursive = true;
	}
	if (optind >= argc) {
		fprintf(err, "missing snapshot argument\n");
		snapshot_usage(err);
		return ZF_EXIT_USAGE;
	}
	struct ds_list l;
	if (ds_list_load(pool, &l, err))
		return ZF_EXIT_FAIL;
	size_t cap = (size_t)(argc - optind) * (l.n + 1), n = 0;
	char **names = calloc(cap ? cap : 1, sizeof(char *));
	int rc = names ? 0 : -ZFUSE_E_NOMEM;
	for (int i = optind; rc == 0 && i < argc; i++) {
		const char *at = strchr(argv[i], '@');
		if (!at) {
			fprintf(err, "cannot create snapshot '%s': not a snapshot name "
				"(DATASET@SNAPSHOT)\n", argv[i]);
			rc = -ZFUSE_E_INVAL;
			break;
		}
		char *ds = strndup(argv[i], (size_t)(at - argv[i]));
		if (!ds) {
			rc = -ZFUSE_E_NOMEM;
			break;
		}
		if (!recursive && !(names[n++] = strdup(argv[i])))
			rc = -ZFUSE_E_NOMEM;
		for (size_t j = 0; recursive && rc == 0 && j < l.n; j++) {
			if (!is_head(&l.v[j]) || !at_or_below(l.v[j].name, ds))
				continue;
			if (asprintf(&names[n++], "%s%s", l.v[j].name, at) < 0)
				rc = -ZFUSE_E_NOMEM;
		}
		if (recursive && rc == 0 && !ds_find(&l, ds)) {
			fprintf(err, "cannot open '%s': dataset does not exist\n", ds);
			rc = -ZFUSE_E_NOENT;
		}
		free(ds);
	}
	if (rc == 0) {
		unsigned said = zf_log_errors();
		rc = zfuse_snapshot(pool, (const char *const *)names, n);
		if (rc && zf_log_errors() == said)
			fprintf(err, "cannot create snapshot%s '%s': %s\n", n > 1 ? "s" : "",
				n == 1 ? names[0] : argv[optind], error_text(rc));
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	ds_list_free(&l);
	return rc ? ZF_EXIT_FAIL : ZF_EXIT_OK;
}

const struct zf_pool_verb zf_verb_snapshot = {
	"snapshot", "take snapshots of datasets (as zfs snapshot)", true, "+r", 0, snapshot_run,
	snapshot_usage,
};

/* A verb without options: any option is a usage error (optind is left
 * at the first operand). */
static int no_options(int argc, char **argv, void (*usage)(FILE *), FILE *err)
{
	optind = 1;
	opterr = 0;
	if (getopt(argc, argv, "+") == -1)
		return 0;
	fprintf(err, "invalid option '%c'\n", optopt);
	usage(err);
	return ZF_EXIT_USAGE;
}

/* ---- bookmark ---------------------------------------------------------------- */

static void bookmark_usage(FILE *out)
{
	fputs("usage: zfuse bookmark [-d DIR|IMAGE]... SNAPSHOT|BOOKMARK NEWBOOKMARK\n"
	      "Makes bookmark DATASET#NAME of a snapshot (DATASET@SNAP) or a copy of a\n"
	      "bookmark (DATASET#OTHER), as zfs bookmark. Either name may be given short\n"
	      "(@SNAP, #NAME) when the other is full: it is then of the same dataset.\n", out);
}

static int bookmark_run(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err)
{
	(void)out;
	if (no_options(argc, argv, bookmark_usage, err))
		return ZF_EXIT_USAGE;
	if (argc - optind != 2) {
		fprintf(err, argc - optind < 2 ? "missing %s argument\n" : "too many arguments\n",
			argc - optind ? "bookmark" : "dataset");
		bookmark_usage(err);
		return ZF_EXIT_USAGE;
	}
	const char *source = argv[optind], *bookmark = argv[optind + 1];
	if (!strpbrk(source, "@#")) {
		fprintf(err, "invalid source name '%s': must contain a '@' or '#'\n", source);
		bookmark_usage(err);
		return ZF_EXIT_USAGE;
	}
	if (!strchr(bookmark, '#')) {
		fprintf(err, "invalid bookmark name '%s': must contain a '#'\n", bookmark);
		bookmark_usage(err);
		return ZF_EXIT_USAGE;
	}
	/* zfs_do_bookmark: a short name takes the other's dataset. */
	bool src_short = strpbrk(source, "@#") == source, bm_short = *bookmark == '#';
	if (src_short && bm_short) {
		fprintf(err, "either source or bookmark must be specified as full dataset paths\n");
		bookmark_usage(err);
		return ZF_EXIT_USAGE;
	}
	char *full = NULL;
	if (src_short || bm_short) {
		const char *whole = src_short ? bookmark : source;
		int n = (int)strcspn(whole, "@#");
		if (asprintf(&full, "%.*s%s", n, whole, src_short ? source : bookmark) < 0)
			return ZF_EXIT_FAIL;
		if (src_short)
			source = full;
		else
			bookmark = full;
	}
	unsigned said = zf_log_errors();
	int rc = zfuse_bookmark_create(pool, source, bookmark);
	if (rc && zf_log_errors() == said)
		fprintf(err, "cannot create bookmark '%s': %s\n", bookmark, error_text(rc));
	free(full);
	return rc ? ZF_EXIT_FAIL : ZF_EXIT_OK;
}

const struct zf_pool_verb zf_verb_bookmark = {
	"bookmark", "make a bookmark of a snapshot, or copy one (as zfs bookmark)", true, "+",
	ZF_POOL_OPERAND_LAST, bookmark_run, bookmark_usage,
};

/* ---- destroy ----------------------------------------------------------------- */

static void destroy_usage(FILE *out)
{
	fputs("usage: zfuse destroy [-d DIR|IMAGE]... [-rRnv] FILESYSTEM|VOLUME\n"
	      "       zfuse destroy [-d DIR|IMAGE]... [-rRnv] DATASET@SNAP[%SNAP][,SNAP...]\n"
	      "       zfuse destroy [-d DIR|IMAGE]... [-nv] DATASET#BOOKMARK\n"
	      "Destroys a dataset (with its bookmarks), snapshots (a%b: a, b and every\n"
	      "snapshot between), or a bookmark.\n"
	      "  -r   also destroy descendants (with a dataset: its children and all their\n"
	      "       snapshots; with snapshots: the same snapshots of every descendant)\n"
	      "  -R   also destroy every dependent: descendants, and clones of the\n"
	      "       snapshots destroyed wherever they are, with their own dependents\n"
	      "  -n   do nothing, only say what would be destroyed (with -v)\n"
	      "  -v   print what is destroyed\n", out);
}

struct destroy_opts {
	bool recursive, clones, dry_run, verbose;
	FILE *out, *err;
};

static int destroy_one(zfuse_pool_t *pool, const struct destroy_opts *o, const char *name,
		       bool snapshot, bool say)
{
	if (o->verbose && say)
		fprintf(o->out, "%s %s\n", o->dry_run ? "would destroy" : "will destroy", name);
	if (o->dry_run)
		return 0;
	unsigned said = zf_log_errors();
	int rc = snapshot ? zfuse_snapshot_destroy(pool, name) : zfuse_dataset_destroy(pool, name);
	if (rc && zf_log_errors() == said)
		fprintf(o->err, "cannot destroy '%s': %s\n", name, error_text(rc));
	return rc;
}

/*
 * The dependents of a dataset as libzfs's zfs_iter_dependents finds them,
 * each after its own dependents: of a snapshot, its clones; of a
 * filesystem or volume, its children, then its snapshots. A filesystem
 * already on the way down is not entered again (a clone inside the
 * hierarchy it depends on), and nothing is listed twice.
 */
struct deps {
	const struct ds_list *l;
	const struct ds_entry **v;
	size_t n, cap;
	const struct ds_entry *stack[256];
	size_t depth;
};

static bool deps_has(const struct deps *d, const struct ds_entry *e)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i] == e)
			return true;
	return false;
}

static int deps_visit(struct deps *d, const struct ds_entry *e, bool emit)
{
	const struct ds_list *l = d->l;
	int rc = 0;
	if (e->type == ZFUSE_DS_SNAPSHOT) {
		for (size_t i = 0; rc == 0 && i < l->n; i++)
			if (is_head(&l->v[i]) && l->v[i].origin && strcmp(l->v[i].origin, e->name) == 0)
				rc = deps_visit(d, &l->v[i], true);
	} else if (e->type != ZFUSE_DS_BOOKMARK) {
		for (size_t k = 0; k < d->depth; k++)
			if (d->stack[k] == e)
				return 0;
		if (d->depth == sizeof(d->stack) / sizeof(d->stack[0]))
			return -ZFUSE_E_CORRUPT;
		d->stack[d->depth++] = e;
		size_t n = strlen(e->name);
		for (size_t i = 0; rc == 0 && i < l->n; i++)
			if (is_head(&l->v[i]) && strncmp(l->v[i].name, e->name, n) == 0 &&
			    l->v[i].name[n] == '/' && !strchr(l->v[i].name + n + 1, '/'))
				rc = deps_visit(d, &l->v[i], true);
		for (size_t i = 0; rc == 0 && i < l->n; i++)
			if (snapshot_of(&l->v[i], e->name))
				rc = deps_visit(d, &l->v[i], true);
		d->depth--;
	}
	if (rc || !emit || deps_has(d, e))
		return rc;
	if (d->n == d->cap) {
		size_t nc = d->cap ? 2 * d->cap : 16;
		const struct ds_entry **nv = realloc(d->v, nc * sizeof(*nv));
		if (!nv)
			return -ZFUSE_E_NOMEM;
		d->v = nv;
		d->cap = nc;
	}
	d->v[d->n++] = e;
	return 0;
}

static int deps_of(const struct ds_list *l, const struct ds_entry *e, struct deps *d)
{
	memset(d, 0, sizeof(*d));
	d->l = l;
	int rc = deps_visit(d, e, false);
	if (rc) {
		free(d->v);
		d->v = NULL;
		d->n = 0;
	}
	return rc;
}

/* Whether name lies in target's own hierarchy (a descendant or one of
 * their snapshots), not in a clone elsewhere. */
static bool own_descendant(const char *name, const char *target)
{
	size_t n = strlen(target);
	return strncmp(name, target, n) == 0 && (name[n] == '/' || name[n] == '@');
}

/* Destroy d's datasets in order (-R), saying each with -v. */
static int destroy_deps(zfuse_pool_t *pool, const struct destroy_opts *o, const struct deps *d)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < d->n; i++)
		rc = destroy_one(pool, o, d->v[i]->name, d->v[i]->type == ZFUSE_DS_SNAPSHOT, true);
	return rc;
}

/* The matches of spec ("a", "a%b", "a,b%c", "%b", "a%") among the
 * snapshots of ds, appended to m. Returns how many. */
static int match_snapshots(const struct ds_list *l, const char *ds, const char *spec,
			   const struct ds_entry ***m, size_t *nm)
{
	char *copy = strdup(spec);
	if (!copy)
		return -ZFUSE_E_NOMEM;
	int matched = 0;
	char *save = NULL;
	for (char *part = strtok_r(copy, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
		char *pct = strchr(part, '%');
		const char *first = part, *last = part;
		if (pct) {
			*pct = '\0';
			last = pct + 1;
		}
		bool in = pct && *first == '\0';
		size_t n = strlen(ds);
		for (size_t i = 0; i < l->n; i++) {
			if (!snapshot_of(&l->v[i], ds))
				continue;
			const char *snap = l->v[i].name + n + 1;
			if (pct && *first && strcmp(snap, first) == 0)
				in = true;
			bool hit = pct ? in : strcmp(snap, first) == 0;
			for (size_t k = 0; hit && k < *nm; k++)
				hit = (*m)[k] != &l->v[i];	/* named twice: once */
			if (hit) {
				const struct ds_entry **nv = realloc(*m, (*nm + 1) * sizeof(*nv));
				if (!nv) {
					free(copy);
					return -ZFUSE_E_NOMEM;
				}
				*m = nv;
				(*m)[(*nm)++] = &l->v[i];
				matched++;
			}
			if (pct && *last && strcmp(snap, last) == 0)
				in = false;
		}
	}
	free(copy);
	return matched;
}

/* zfs's refusal: dependents outside the hierarchy without -R. */
static void say_dependent_clones(FILE *err, const char *target, const char *type,
				 const struct deps *d)
{
	fprintf(err, "cannot destroy '%s': %s has dependent clones\n"
		"use '-R' to destroy the following datasets:\n", target, type);
	for (size_t i = 0; i < d->n; i++)
		if (!own_descendant(d->v[i]->name, target))
			fprintf(err, "%s\n", d->v[i]->name);
}

static bool matched(const struct ds_entry *const *m, size_t nm, const struct ds_entry *e)
{
	for (size_t i = 0; i < nm; i++)
		if (m[i] == e)
			return true;
	return false;
}

/* zfs destroy -v of snapshots: each filesystem's in txg order, then the
 * space they free, summed over runs of consecutive snapshots. */
static int say_snapshots(zfuse_pool_t *pool, const struct destroy_opts *o,
			 const struct ds_list *l, const struct ds_entry *const *m, size_t nm)
{
	uint64_t total = 0;
	int rc = 0;
	for (size_t h = 0; rc == 0 && h < l->n; h++) {
		if (!is_head(&l->v[h]))
			continue;
		const struct ds_entry *first = NULL, *prev = NULL;
		for (size_t i = h + 1; rc == 0 && i <= l->n; i++) {
			bool mine = i < l->n && snapshot_of(&l->v[i], l->v[h].name);
			if (mine && matched(m, nm, &l->v[i])) {
				fprintf(o->out, "%s %s\n", o->dry_run ? "would destroy" : "will destroy",
					l->v[i].name);
				first = first ? first : &l->v[i];
				prev = &l->v[i];
				continue;
			}
			if (first) {
				uint64_t used;
				rc = zfuse_snapshot_range_space(pool, first->name, prev->name, &used);
				total += rc == 0 ? used : 0;
				first = NULL;
			}
			if (i < l->n && is_head(&l->v[i]))
				break;
		}
	}
	char buf[32];
	zfs_nicebytes(total, buf, sizeof(buf));
	if (rc == 0)
		fprintf(o->out, "%s %s\n", o->dry_run ? "would reclaim" : "will reclaim", buf);
	return rc;
}

/*
 * Snapshots, as zfs does: all matches are found and checked first (a
 * match with clones and no -R refuses the whole command), -v lists the
 * snapshots, then (not with -n) -R destroys their dependents and the
 * snapshots go.
 */
static int destroy_snapshots_run(zfuse_pool_t *pool, const struct destroy_opts *o,
				 const struct ds_list *l, const char *target)
{
	const char *at = strchr(target, '@');
	char *ds = strndup(target, (size_t)(at - target));
	const struct ds_entry **m = NULL;
	size_t nm = 0;
	int rc = ds ? 0 : -ZFUSE_E_NOMEM;
	if (rc == 0 && !ds_find(l, ds)) {
		fprintf(o->err, "cannot open '%s': dataset does not exist\n", ds);
		rc = -ZFUSE_E_NOENT;
	}
	for (size_t i = 0; rc >= 0 && i < l->n; i++) {
		if (!is_head(&l->v[i]) ||
		    !(o->recursive ? at_or_below(l->v[i].name, ds) : strcmp(l->v[i].name, ds) == 0))
			continue;
		rc = match_snapshots(l, l->v[i].name, at + 1, &m, &nm);
	}
	if (rc >= 0 && nm == 0) {
		fprintf(o->err, "could not find any snapshots to destroy; check snapshot names.\n");
		rc = -ZFUSE_E_NOENT;
	}
	bool refused = false;
	for (size_t i = 0; rc >= 0 && !o->clones && i < nm; i++) {
		struct deps d;
		if ((rc = deps_of(l, m[i], &d)) < 0)
			break;
		if (d.n) {
			say_dependent_clones(o->err, m[i]->name, "snapshot", &d);
			refused = true;
		}
		free(d.v);
	}
	if (refused)
		rc = -ZFUSE_E_EXIST;
	if (rc >= 0 && o->verbose)
		rc = say_snapshots(pool, o, l, m, nm);
	for (size_t i = 0; rc >= 0 && o->clones && !o->dry_run && i < nm; i++) {
		struct deps d;
		if ((rc = deps_of(l, m[i], &d)) < 0)
			break;
		rc = destroy_deps(pool, o, &d);
		free(d.v);
	}
	for (size_t i = 0; rc >= 0 && i < nm; i++)
		rc = destroy_one(pool, o, m[i]->name, true, false);
	free(m);
	free(ds);
	return rc;
}

static int destroy_dataset_run(zfuse_pool_t *pool, const struct destroy_opts *o,
			       const struct ds_list *l, const char *target)
{
	FILE *err = o->err;
	const struct ds_entry *e = ds_find(l, target);
	if (!e) {
		fprintf(err, "cannot open '%s': dataset does not exist\n", target);
		return -ZFUSE_E_NOENT;
	}
	struct deps d;
	int rc = deps_of(l, e, &d);
	if (rc)
		return rc;
	const char *type = e->type == ZFUSE_DS_VOLUME ? "volume" : "filesystem";
	size_t own = 0, clones = 0;
	for (size_t i = 0; i < d.n; i++)
		own_descendant(d.v[i]->name, target) ? own++ : clones++;
	if (!o->recursive && own) {
		bool children = false;
		for (size_t i = 0; i < l->n; i++)
			if (is_head(&l->v[i]) && l->v[i].name != e->name &&
			    at_or_below(l->v[i].name, target))
				children = true;
		fprintf(err, "cannot destroy '%s': %s has %s\nuse '-r' to destroy the "
			"following datasets:\n", target, type, children ? "children" : "snapshots");
		for (size_t i = l->n; i-- > 0;)
			if (l->v[i].name != e->name && (at_or_below(l->v[i].name, target) ||
							snapshot_of(&l->v[i], target)))
				fprintf(err, "%s\n", l->v[i].name);
		rc = -ZFUSE_E_EXIST;
	} else if (!o->clones && clones) {
		say_dependent_clones(err, target, type, &d);
		rc = -ZFUSE_E_EXIST;
	} else if (o->clones) {
		/* Every dependent, each after its own, then the target. */
		rc = destroy_deps(pool, o, &d);
		if (rc == 0)
			rc = destroy_one(pool, o, target, false, true);
	} else {
		/* The walk lists parents before children and a head before
		 * its snapshots: backwards, everything goes before what holds
		 * it. */
		for (size_t i = l->n; rc == 0 && i-- > 0;) {
			const struct ds_entry *x = &l->v[i];
			if (x->type == ZFUSE_DS_BOOKMARK)
				continue;
			bool below = at_or_below(x->name, target);
			if (x->type == ZFUSE_DS_SNAPSHOT) {
				char *ds = strndup(x->name, strcspn(x->name, "@"));
				below = ds && at_or_below(ds, target);
				free(ds);
			}
			if (below)
				rc = destroy_one(pool, o, x->name, x->type == ZFUSE_DS_SNAPSHOT, true);
		}
	}
	free(d.v);
	return rc;
}

static int destroy_run(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err)
{
	struct destroy_opts o = { .out = out, .err = err };
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt(argc, argv, "+rnvfR")) != -1) {
		switch (c) {
		case 'r': o.recursive = true; break;
		case 'R': o.recursive = o.clones = true; break;
		case 'n': o.dry_run = true; break;
		case 'v': o.verbose = true; break;
		case 'f': break;	/* nothing is mounted here to force */
		default:
			fprintf(err, "invalid option '%c'\n", optopt);
			destroy_usage(err);
			return ZF_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(err, argc - optind ? "too many arguments\n" : "missing dataset argument\n");
		destroy_usage(err);
		return ZF_EXIT_USAGE;
	}
	const char *target = argv[optind];
	if (strchr(target, '#') && !strchr(target, '@')) {
		if (o.recursive) {
			fprintf(err, "recursive is not supported with bookmark\n");
			return ZF_EXIT_FAIL;
		}
		if (o.verbose)
			fprintf(out, "%s %s\n", o.dry_run ? "would destroy" : "will destroy", target);
		unsigned said = zf_log_errors();
		int rc = o.dry_run ? 0 : zfuse_bookmark_destroy(pool, target);
		if (rc && zf_log_errors() == said)
			fprintf(err, "cannot destroy bookmark '%s': %s\n", target, error_text(rc));
		return rc ? ZF_EXIT_FAIL : ZF_EXIT_OK;
	}
	struct ds_list l;
	if (ds_list_load(pool, &l, err))
		return ZF_EXIT_FAIL;
	int rc = strchr(target, '@') ? destroy_snapshots_run(pool, &o, &l, target)
				     : destroy_dataset_run(pool, &o, &l, target);
	ds_list_free(&l);
	return rc < 0 ? ZF_EXIT_FAIL : ZF_EXIT_OK;
}

const struct zf_pool_verb zf_verb_destroy = {
	"destroy", "destroy datasets and snapshots (as zfs destroy)", true, "+rnvfR", 0,
	destroy_run, destroy_usage,
};

int zf_destroy_heads(zfuse_pool_t *pool, const char *target, char ***names, size_t *n)
{
	struct ds_list l = { 0 };
	struct deps d = { 0 };
	*names = NULL;
	*n = 0;
	int rc = zfuse_dataset_iter(pool, collect_cb, &l);
	const struct ds_entry *e = rc == 0 ? ds_find(&l, target) : NULL;
	if (e)
		rc = deps_of(&l, e, &d);
	if (e && rc == 0 && !(*names = calloc(d.n + 1, sizeof(char *))))
		rc = -ZFUSE_E_NOMEM;
	for (size_t i = 0; rc == 0 && e && i < d.n; i++) {
		if (!is_head(d.v[i]))
			continue;
		if (!((*names)[*n] = strdup(d.v[i]->name)))
			rc = -ZFUSE_E_NOMEM;
		else
			(*n)++;
	}
	free(d.v);
	ds_list_free(&l);
	return rc;
}

/* ---- promote ----------------------------------------------------------------- */

static void promote_usage(FILE *out)
{
	fputs("usage: zfuse promote [-d DIR|IMAGE]... CLONE\n"
	      "Makes a clone independent of its origin (as zfs promote): the origin's\n"
	      "snapshots up to the clone's origin snapshot move to the clone, and the\n"
	      "origin filesystem becomes a clone of that snapshot.\n", out);
}

static int promote_run(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err)
{
	(void)out;
	if (no_options(argc, argv, promote_usage, err))
		return ZF_EXIT_USAGE;
	if (argc - optind != 1) {
		fprintf(err, argc - optind ? "too many arguments\n" : "missing clone filesystem "
			"argument\n");
		promote_usage(err);
		return ZF_EXIT_USAGE;
	}
	const char *name = argv[optind];
	unsigned said = zf_log_errors();
	int rc = zfuse_promote(pool, name);
	if (rc && zf_log_errors() == said)
		fprintf(err, "cannot promote '%s': %s\n", name, error_text(rc));
	return rc ? ZF_EXIT_FAIL : ZF_EXIT_OK;
}

const struct zf_pool_verb zf_verb_promote = {
	"promote", "make a clone independent of its origin (as zfs promote)", true, "+", 0,
	promote_run, promote_usage,
};

/* ---- rollback ---------------------------------------------------------------- */

static void rollback_usage(FILE *out)
{
	fputs("usage: zfuse rollback [-d DIR|IMAGE]... [-r] DATASET@SNAPSHOT\n"
	      "Rolls a filesystem or volume back to a snapshot: everything written\n"
	      "after it is discarded.\n"
	      "  -r   destroy the later snapshots and the bookmarks of later snapshots\n"
	      "       first (without it, only the newest snapshot may be named, and no\n"
	      "       bookmark may be newer)\n", out);
}

static int rollback_run(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err)
{
	(void)out;
	bool recursive = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt(argc, argv, "+rRf")) != -1) {
		if (c == 'r' || c == 'R') {
			recursive = true;
		} else if (c != 'f') {
			fprintf(err, "invalid option '%c'\n", optopt);
			rollback_usage(err);
			return ZF_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(err, argc - optind ? "too many arguments\n" : "missing dataset argument\n");
		rollback_usage(err);
		return ZF_EXIT_USAGE;
	}
	const char *target = argv[optind];
	const char *at = strchr(target, '@');
	if (!at) {
		fprintf(err, "cannot rollback '%s': not a snapshot name (DATASET@SNAPSHOT)\n", target);
		return ZF_EXIT_USAGE;
	}
	struct ds_list l;
	if (ds_list_load(pool, &l, err))
		return ZF_EXIT_FAIL;
	char *ds = strndup(target, (size_t)(at - target));
	const struct ds_entry *snap = ds_find(&l, target);
	int rc = ds ? 0 : -ZFUSE_E_NOMEM;
	if (rc == 0 && !snap) {
		fprintf(err, "cannot open '%s': dataset does not exist\n", target);
		rc = -ZFUSE_E_NOENT;
	}
	/* Later snapshots (the walk's txg order), then later bookmarks by
	 * txg, as zfs lists and destroys them. */
	size_t later = 0;
	for (size_t i = 0; rc == 0 && i < l.n; i++)
		if ((snapshot_of(&l.v[i], ds) || bookmark_of(&l.v[i], ds)) && l.v[i].txg > snap->txg)
			later++;
	struct ds_entry **order = rc == 0 && later ? calloc(later, sizeof(*order)) : NULL;
	if (rc == 0 && later && !order)
		rc = -ZFUSE_E_NOMEM;
	size_t k = 0;
	for (size_t i = 0; order && i < l.n; i++)
		if (snapshot_of(&l.v[i], ds) && l.v[i].txg > snap->txg)
			order[k++] = &l.v[i];
	size_t nsnaps = k;
	for (size_t i = 0; order && i < l.n; i++)
		if (bookmark_of(&l.v[i], ds) && l.v[i].txg > snap->txg) {
			size_t j = k++;
			for (; j > nsnaps && order[j - 1]->txg > l.v[i].txg; j--)
				order[j] = order[j - 1];
			order[j] = &l.v[i];
		}
	if (rc == 0 && later && !recursive) {
		fprintf(err, "cannot rollback to '%s': more recent snapshots or bookmarks exist\n"
			"use '-r' to force deletion of the following snapshots and bookmarks:\n",
			target);
		for (size_t i = 0; i < later; i++)
			fprintf(err, "%s\n", order[i]->name);
		rc = -ZFUSE_E_EXIST;
	}
	/* Snapshots newest first (each then has no later one to merge
	 * into but the head), then the bookmarks. */
	for (size_t i = nsnaps; rc == 0 && i-- > 0;) {
		unsigned said = zf_log_errors();
		rc = zfuse_snapshot_destroy(pool, order[i]->name);
		if (rc && zf_log_errors() == said)
			fprintf(err, "cannot destroy '%s': %s\n", order[i]->name, error_text(rc));
	}
	for (size_t i = nsnaps; rc == 0 && i < later; i++) {
		unsigned said = zf_log_errors();
		rc = zfuse_bookmark_destroy(pool, order[i]->name);
		if (rc && zf_log_errors() == said)
			fprintf(err, "cannot destroy '%s': %s\n", order[i]->name, error_text(rc));
	}
	free(order);
	if (rc == 0) {
		unsigned said = zf_log_errors();
		rc = zfuse_rollback(pool, target);
		if (rc && zf_log_errors() == said)
			fprintf(err, "cannot rollback '%s': %s\n", ds, error_text(rc));
	}
	free(ds);
	ds_list_free(&l);
	return rc ? ZF_EXIT_FAIL : ZF_EXIT_OK;
}

const struct zf_pool_verb zf_verb_rollback = {
	"rollback", "roll a dataset back to a snapshot (as zfs rollback)", true, "+rRf", 0,
	rollback_run, rollback_usage,
};

/* ---- create (a dataset) ------------------------------------------------------ */

static void create_dataset_usage(FILE *out)
{
	fputs("usage: zfuse create [-d DIR|IMAGE]... [-p] [-o PROP=VALUE]... POOL/FILESYSTEM\n"
	      "       zfuse create [-d DIR|IMAGE]... [-ps] [-b BLOCKSIZE] [-o PROP=VALUE]...\n"
	      "                    -V SIZE POOL/VOLUME\n"
	      "Creates a filesystem, or with -V a volume of SIZE bytes (as zfs create).\n"
	      "With one operand that names a dataset below a pool, `zfuse create` makes\n"
	      "a dataset; with a pool name and devices, a pool (see zfuse create --help).\n"
	      "  -p   create missing parent filesystems too\n"
	      "  -o   set a property on the new dataset\n"
	      "  -V   make a volume of SIZE bytes (K, M, G, T suffixes)\n"
	      "  -b   the volume's volblocksize (default 16K)\n"
	      "  -s   a sparse volume: no refreservation\n", out);
}

static int create_one(zfuse_pool_t *pool, const char *name, const struct zfuse_prop_setting *props,
		      size_t nprops, FILE *err)
{
	unsigned said = zf_log_errors();
	int rc = zfuse_dataset_create(pool, name, 0, props, nprops);
	if (rc && zf_log_errors() == said)
		fprintf(err, "cannot create '%s': %s\n", name, error_text(rc));
	return rc;
}

/* -p: make the missing filesystems above name (not name itself);
 * *exists (may be NULL) tells whether name is there already. */
static int create_parents(zfuse_pool_t *pool, const char *name, bool *exists, FILE *err)
{
	struct ds_list l;
	if (ds_list_load(pool, &l, err) != 0)
		return -ZFUSE_E_IO;
	char *path = strdup(name);
	int rc = path ? 0 : -ZFUSE_E_NOMEM;
	for (char *s = path ? strchr(path, '/') : NULL; s && rc == 0; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (!ds_find(&l, path))
			rc = create_one(pool, path, NULL, 0, err);
		*s = '/';
	}
	if (exists)
		*exists = ds_find(&l, name) != NULL;
	free(path);
	ds_list_free(&l);
	return rc;
}

static bool nprops_has(const struct zfuse_prop_setting *props, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(props[i].name, name) == 0)
			return true;
	return false;
}

static const char *prop_value(const struct zfuse_prop_setting *props, size_t n, const char *name)
{
	const char *v = NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(props[i].name, name) == 0)
			v = props[i].value;	/* the last one counts */
	return v;
}

/* The key of encrypted dataset ds's root, loaded from its keylocation
 * unless it is (an offline command starts with none loaded). */
static int need_key(zfuse_pool_t *pool, const char *ds, FILE *err)
{
	struct zfuse_crypt_info ci;
	if (zfuse_crypt_info(pool, ds, &ci) != 0 || ci.loaded)
		return 0;
	return zf_key_load_root(pool, ci.root, NULL, err) ? -ZFUSE_E_ACCESS : 0;
}

/* A new encryption root: its key material from its keylocation first. */
static int create_encrypted(zfuse_pool_t *pool, const char *name, uint64_t volsize, bool sparse,
			    const struct zfuse_prop_setting *props, size_t nprops, FILE *err)
{
	const char *f = prop_value(props, nprops, "keyformat");
	const char *loc = prop_value(props, nprops, "keylocation");
	enum zfuse_keyformat fmt = strcmp(f, "raw") == 0 ? ZFUSE_KEYFORMAT_RAW :
				   strcmp(f, "hex") == 0 ? ZFUSE_KEYFORMAT_HEX :
				   ZFUSE_KEYFORMAT_PASSPHRASE;
	char mat[ZFUSE_KEY_MATERIAL_MAX + 2];
	size_t len = 0;
	int rc = zf_key_read_new(name, loc ? loc : "prompt", fmt, mat, sizeof(mat), &len, err);
	if (rc == 0) {
		unsigned said = zf_log_errors();
		rc = volsize ? zfuse_volume_create_key(pool, name, volsize, sparse, props, nprops, mat,
						       len) :
			       zfuse_dataset_create_key(pool, name, props, nprops, mat, len);
		if (rc && zf_log_errors() == said)
			fprintf(err, "cannot create '%s': %s\n", name, error_text(rc));
	}
	explicit_bzero(mat, sizeof(mat));
	return rc;
}

static int create_dataset_run(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err)
{
	(void)out;
	bool parents = false, sparse = false;
	uint64_t volsize = 0;
	struct zfuse_prop_setting *props = calloc((size_t)argc + 1, sizeof(*props));
	size_t nprops = 0;
	int c, rc = props ? 0 : -ZFUSE_E_NOMEM;
	optind = 1;
	opterr = 0;
	while (rc == 0 && (c = getopt(argc, argv, "+po:uV:b:s")) != -1) {
		switch (c) {
		case 'p': parents = true; break;
		case 'u': break;	/* mounting is the daemon's */
		case 's': sparse = true; break;
		case 'b': props[nprops++] = (struct zfuse_prop_setting){ "volblocksize", optarg }; break;
		case 'V':
			if (zf_parse_size(optarg, &volsize) != 0 || volsize == 0) {
				fprintf(err, "bad volume size '%s'\n", optarg);
				rc = -ZFUSE_E_INVAL;
			}
			break;
		case 'o': {
			char *eq = strchr(optarg, '=');
			if (!eq) {
				fprintf(err, "missing '=' for property=value argument\n");
				rc = -ZFUSE_E_INVAL;
				break;
			}
			*eq = '\0';
			props[nprops++] = (struct zfuse_prop_setting){ optarg, eq + 1 };
			break;
		}
		default:
			fprintf(err, "invalid option '%c'\n", optopt);
			rc = -ZFUSE_E_INVAL;
		}
	}
	if (rc == 0 && argc - optind != 1) {
		fprintf(err, argc - optind ? "too many arguments\n" : "missing dataset argument\n");
		rc = -ZFUSE_E_INVAL;
	}
	if (rc == 0 && !volsize && (sparse || nprops_has(props, nprops, "volblocksize"))) {
		fprintf(err, "-s and -b apply to volumes only (-V SIZE)\n");
		rc = -ZFUSE_E_INVAL;
	}
	if (rc == -ZFUSE_E_INVAL) {
		create_dataset_usage(err);
		free(props);
		return ZF_EXIT_USAGE;
	}
	const char *name = rc == 0 ? argv[optind] : NULL;
	if (rc == 0 && parents) {
		bool exists;
		rc = create_parents(pool, name, &exists, err);
		if (rc == 0 && exists) {
			free(props);
			return ZF_EXIT_OK;	/* -p: an existing dataset is fine */
		}
	}
	if (rc == 0 && !nprops_has(props, nprops, "keyformat")) {
		/* Below an encrypted parent the new key is wrapped with the
		 * parent's root's: load it (from its keylocation) if need be. */
		char parent[256];
		snprintf(parent, sizeof(parent), "%s", name);
		char *slash = strrchr(parent, '/');
		if (slash) {
			*slash = 0;
			rc = need_key(pool, parent, err);
		}
		unsigned said = zf_log_errors();
		if (rc == 0 && volsize &&
		    (rc = zfuse_volume_create(pool, name, volsize, sparse, props, nprops)) != 0 &&
		    zf_log_errors() == said)
			fprintf(err, "cannot create '%s': %s\n", name, error_text(rc));
		else if (rc == 0 && !volsize)
			rc = create_one(pool, name, props, nprops, err);
	} else if (rc == 0) {
		rc = create_encrypted(pool, name, volsize, sparse, props, nprops, err);
	}
	free(props);
	return rc ? ZF_EXIT_FAIL : ZF_EXIT_OK;
}

const struct zf_pool_verb zf_verb_create_dataset = {
	"create", "create a filesystem or volume (as zfs create)", true, "+po:uV:b:s", 0,
	create_dataset_run,
	create_dataset_usage,
};

/* ---- clone ------------------------------------------------------------------- */

static void clone_usage(FILE *out)
{
	fputs("usage: zfuse clone [-d DIR|IMAGE]... [-p] [-o PROP=VALUE]... SNAPSHOT FILESYSTEM\n"
	      "Creates a filesystem that starts as a copy of the snapshot and shares its\n"
	      "blocks (as zfs clone).\n"
	      "  -p   create missing parent filesystems too\n"
	      "  -o   set a property on the clone\n", out);
}

static int clone_run(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err)
{
	(void)out;
	bool parents = false;
	struct zfuse_prop_setting *props = calloc((size_t)argc, sizeof(*props));
	size_t nprops = 0;
	int c, rc = props ? 0 : -ZFUSE_E_NOMEM;
	optind = 1;
	opterr = 0;
	while (rc == 0 && (c = getopt(argc, argv, "+po:")) != -1) {
		if (c == 'p') {
			parents = true;
		} else if (c == 'o' && strchr(optarg, '=')) {
			char *eq = strchr(optarg, '=');
			*eq = '\0';
			props[nprops++] = (struct zfuse_prop_setting){ optarg, eq + 1 };
		} else {
			fprintf(err, c == 'o' ? "missing '=' for property=value argument\n" :
				"invalid option '%c'\n", optopt);
			rc = -ZFUSE_E_INVAL;
		}
	}
	if (rc == 0 && argc - optind != 2) {
		fprintf(err, argc - optind < 2 ? "missing source or target dataset argument\n" :
			"too many arguments\n");
		rc = -ZFUSE_E_INVAL;
	}
	if (rc) {
		clone_usage(err);
		free(props);
		return ZF_EXIT_USAGE;
	}
	const char *snap = argv[optind], *name = argv[optind + 1];
	if (parents)
		rc = create_parents(pool, name, NULL, err);
	if (rc == 0)
		rc = need_key(pool, snap, err);
	if (rc == 0) {
		unsigned said = zf_log_errors();
		rc = zfuse_clone(pool, snap, name, props, nprops);
		if (rc && zf_log_errors() == said)
			fprintf(err, "cannot create '%s': %s\n", name, error_text(rc));
	}
	free(props);
	return rc ? ZF_EXIT_FAIL : ZF_EXIT_OK;
}

const struct zf_pool_verb zf_verb_clone = {
	"clone", "make a filesystem from a snapshot (as zfs clone)", true, "+po:", 0, clone_run,
	clone_usage,
};

/* ---- rename ------------------------------------------------------------------ */

static void rename_usage(FILE *out)
{
	fputs("usage: zfuse rename [-d DIR|IMAGE]... [-p] FILESYSTEM|VOLUME NEWNAME\n"
	      "       zfuse rename [-d DIR|IMAGE]... [-r] SNAPSHOT NEWSNAPSHOT\n"
	      "Renames a dataset (also under another parent) or a snapshot (as zfs rename).\n"
	      "  -p   create missing parents of the new name\n"
	      "  -r   rename the snapshot of every descendant too\n", out);
}

static int rename_run(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err)
{
	(void)out;
	bool parents = false, recursive = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt(argc, argv, "+prfu")) != -1) {
		switch (c) {
		case 'p': parents = true; break;
		case 'r': recursive = true; break;
		case 'f': case 'u': break;	/* mounts follow in the daemon */
		default:
			fprintf(err, "invalid option '%c'\n", optopt);
			rename_usage(err);
			return ZF_EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		fprintf(err, argc - optind < 2 ? "missing source or target dataset argument\n" :
			"too many arguments\n");
		rename_usage(err);
		return ZF_EXIT_USAGE;
	}
	const char *from = argv[optind], *to = argv[optind + 1];
	int rc = 0;
	if (parents && !strchr(to, '@'))
		rc = create_parents(pool, to, NULL, err);
	if (rc == 0) {
		unsigned said = zf_log_errors();
		rc = zfuse_dataset_rename(pool, from, to, recursive);
		if (rc && zf_log_errors() == said)
			fprintf(err, "cannot rename '%s': %s\n", from, error_text(rc));
	}
	return rc ? ZF_EXIT_FAIL : ZF_EXIT_OK;
}

const struct zf_pool_verb zf_verb_rename = {
	"rename", "rename a dataset or snapshot (as zfs rename)", true, "+prfu", 0, rename_run,
	rename_usage,
};

/* ---- hold, release, holds ------------------------------------------------------ */

static void hold_usage(FILE *out)
{
	fputs("usage: zfuse hold [-d DIR|IMAGE]... [-r] TAG SNAPSHOT...\n"
	      "       zfuse release [-d DIR|IMAGE]... [-r] TAG SNAPSHOT...\n"
	      "       zfuse holds [-d DIR|IMAGE]... [-H|-j] [-r] SNAPSHOT...\n"
	      "Places, removes or lists user holds on snapshots (as zfs hold/release/holds);\n"
	      "a held snapshot cannot be destroyed.\n"
	      "  -r   also the snapshot of that name of every descendant\n"
	      "  -H   no header, fields separated by a tab\n"
	      "  -j   (holds) one JSON document: {\"holds\": [{\"name\", \"tag\", \"timestamp\"}]}\n",
	      out);
}

/* The snapshots an operand names: itself, or with -r the same snapshot
 * of every descendant that has one. */
static int for_snapshots(zfuse_pool_t *pool, const char *name, bool recursive, FILE *err,
			 int (*fn)(zfuse_pool_t *, const char *, void *), void *arg)
{
	const char *at = strchr(name, '@');
	if (!at || !recursive)
		return fn(pool, name, arg);
	struct ds_list l;
	if (ds_list_load(pool, &l, err))
		return -ZFUSE_E_IO;
	char *ds = strndup(name, (size_t)(at - name));
	int rc = ds ? 0 : -ZFUSE_E_NOMEM, n = 0;
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		const char *sat = strchr(l.v[i].name, '@');
		if (l.v[i].type != ZFUSE_DS_SNAPSHOT || strcmp(sat, at) != 0)
			continue;
		char *head = strndup(l.v[i].name, (size_t)(sat - l.v[i].name));
		if (head && at_or_below(head, ds)) {
			rc = fn(pool, l.v[i].name, arg);
			n++;
		}
		free(head);
	}
	if (rc == 0 && n == 0)
		rc = fn(pool, name, arg);	/* says it does not exist */
	free(ds);
	ds_list_free(&l);
	return rc;
}

struct hold_op {
	const char *tag;
	bool release;
	FILE *err;
};

static int hold_one(zfuse_pool_t *pool, const char *snap, void *varg)
{
	struct hold_op *o = varg;
	unsigned said = zf_log_errors();
	int rc = o->release ? zfuse_release(pool, snap, o->tag) : zfuse_hold(pool, snap, o->tag);
	if (rc && zf_log_errors() == said)
		fprintf(o->err, "cannot %s '%s': %s\n", o->release ? "release hold from snapshot" :
			"hold snapshot", snap, error_text(rc));
	return rc;
}

static int hold_common(zfuse_pool_t *pool, int argc, char **argv, FILE *err, bool release)
{
	bool recursive = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt(argc, argv, "+r")) != -1) {
		if (c != 'r') {
			fprintf(err, "invalid option '%c'\n", optopt);
			hold_usage(err);
			return ZF_EXIT_USAGE;
		}
		recursive = true;
	}
	if (argc - optind < 2) {
		fprintf(err, "missing %s argument\n", argc - optind ? "snapshot" : "tag name");
		hold_usage(err);
		return ZF_EXIT_USAGE;
	}
	struct hold_op o = { argv[optind], release, err };
	int rc = 0;
	for (int i = optind + 1; i < argc && rc == 0; i++)
		rc = for_snapshots(pool, argv[i], recursive, err, hold_one, &o);
	return rc ? ZF_EXIT_FAIL : ZF_EXIT_OK;
}

static int hold_run(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err)
{
	(void)out;
	return hold_common(pool, argc, argv, err, false);
}

static int release_run(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err)
{
	(void)out;
	return hold_common(pool, argc, argv, err, true);
}

struct holds_row {
	char *name, *tag, when[64];
};

struct holds_out {
	struct holds_row *v;
	size_t n, cap;
	const char *snap;
};

static int holds_cb(void *arg, const char *tag, uint64_t when)
{
	struct holds_out *h = arg;
	if (h->n == h->cap) {
		size_t nc = h->cap ? 2 * h->cap : 8;
		struct holds_row *nv = realloc(h->v, nc * sizeof(*nv));
		if (!nv)
			return -ZFUSE_E_NOMEM;
		h->v = nv;
		h->cap = nc;
	}
	struct holds_row *r = &h->v[h->n++];
	r->name = strdup(h->snap);
	r->tag = strdup(tag);
	time_t t = (time_t)when;
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(r->when, sizeof(r->when), "%a %b %e %k:%M %Y", &tm);
	return r->name && r->tag ? 0 : -ZFUSE_E_NOMEM;
}

static int holds_one(zfuse_pool_t *pool, const char *snap, void *varg)
{
	struct holds_out *h = varg;
	h->snap = snap;
	return zfuse_holds_iter(pool, snap, holds_cb, h);
}

static int holds_run(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err)
{
	bool recursive = false, scripted = false, json = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt(argc, argv, "+rHpj")) != -1) {
		if (c == 'r')
			recursive = true;
		else if (c == 'H')
			scripted = true;
		else if (c == 'j')
			json = true;
		else if (c != 'p') {
			fprintf(err, "invalid option '%c'\n", optopt);
			hold_usage(err);
			return ZF_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(err, "missing dataset argument\n");
		hold_usage(err);
		return ZF_EXIT_USAGE;
	}
	struct holds_out h = { 0 };
	int rc = 0;
	for (int i = optind; i < argc && rc == 0; i++) {
		rc = for_snapshots(pool, argv[i], recursive, err, holds_one, &h);
		if (rc)
			fprintf(err, "cannot open '%s': %s\n", argv[i], error_text(rc));
	}
	/* zfs holds: columns as wide as their widest value */
	size_t wn = strlen("NAME"), wt = strlen("TAG");
	for (size_t i = 0; i < h.n; i++) {
		if (strlen(h.v[i].name) > wn)
			wn = strlen(h.v[i].name);
		if (strlen(h.v[i].tag) > wt)
			wt = strlen(h.v[i].tag);
	}
	zf_json_t j;
	if (json) {	/* the envelope of zfs's -j outputs; a row per hold */
		zj_begin_output(&j, out, "zfs holds");
		zj_arr_begin(&j, "holds");
	} else if (!scripted && h.n) {
		fprintf(out, "%-*s  %-*s  %s\n", (int)wn, "NAME", (int)wt, "TAG", "TIMESTAMP");
	}
	for (size_t i = 0; i < h.n; i++) {
		if (json) {
			zj_obj_begin(&j, NULL);
			zj_str(&j, "name", h.v[i].name);
			zj_str(&j, "tag", h.v[i].tag);
			zj_str(&j, "timestamp", h.v[i].when);
			zj_obj_end(&j);
		} else if (scripted)
			fprintf(out, "%s\t%s\t%s\n", h.v[i].name, h.v[i].tag, h.v[i].when);
		else
			fprintf(out, "%-*s  %-*s  %s\n", (int)wn, h.v[i].name, (int)wt, h.v[i].tag,
				h.v[i].when);
		free(h.v[i].name);
		free(h.v[i].tag);
	}
	free(h.v);
	if (json) {
		zj_arr_end(&j);
		zj_obj_end(&j);
		zj_finish(&j);
	}
	return rc ? ZF_EXIT_FAIL : ZF_EXIT_OK;
}

const struct zf_pool_verb zf_verb_hold = {
	"hold", "place a user hold on snapshots (as zfs hold)", true, "+r", 1, hold_run, hold_usage,
};
const struct zf_pool_verb zf_verb_release = {
	"release", "remove a user hold from snapshots (as zfs release)", true, "+r", 1, release_run,
	hold_usage,
};
const struct zf_pool_verb zf_verb_holds = {
	"holds", "list the user holds of snapshots (as zfs holds)", false, "+rHpj", 0, holds_run,
	hold_usage,
};

/* `zfuse create` with one operand below a pool makes a dataset. */
bool cmd_create_is_dataset(int argc, char **argv)
{
	int operands = 0;
	const char *first = NULL;
	/* -V makes a volume, and then -s means sparse (no value) */
	bool vol = false;
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		vol |= strncmp(argv[i], "-V", 2) == 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			operands += argc - i - 1;
			if (!first && i + 1 < argc)
				first = argv[i + 1];
			break;
		}
		if (a[0] == '-' && a[1]) {
			/* options that take a value: -s -o -O -d --from, joined or not */
			if (vol && a[1] == 's')
				continue;
			if (strchr("soOdVb", a[1]) && a[2] == '\0')
				i++;
			else if (strcmp(a, "--from") == 0)
				i++;
			continue;
		}
		operands++;
		if (!first)
			first = a;
	}
	return operands == 1 && first && strchr(first, '/');
}

int cmd_create_dataset(int argc, char **argv)
{
	return zf_pool_verb_main(&zf_verb_create_dataset, argc, argv);
}
