/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * cmd_status.c — the verbs `zfuse status`, `scrub` and `clear`, as
 * `zpool status`, `zpool scrub` and `zpool clear` (pool_verb.h runs them
 * on the daemon that has the pool mounted, or on images given with -d).
 *
 * Theory: the figures are the library's (zfuse/status.h); this file only
 * words and lays them out: zpool's text, or one JSON document (--json,
 * schema in zfuse-status.8). The daemon runs these verbs beside the
 * others (unserialized: scrub -w waits long), so options are parsed here
 * by hand: getopt(3) keeps global state another verb may be using.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cmd.h"
#include "json.h"
#include "pool_verb.h"
#include "zfuse/status.h"

struct flags {
	bool verbose, json, ints, stop, wait;
	const char *operand;
};

/* Options are single letters from allowed, alone or bundled, and
 * --json where json_ok; one operand. 0, or ZF_EXIT_USAGE after a message. */
static int parse(int argc, char **argv, const char *allowed, bool json_ok, struct flags *f, FILE *err)
{
	memset(f, 0, sizeof(*f));
	bool opts_done = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!opts_done && strcmp(a, "--") == 0) {
			opts_done = true;
		} else if (!opts_done && json_ok && strcmp(a, "--json") == 0) {
			f->json = true;
		} else if (!opts_done && json_ok && strcmp(a, "--json-int") == 0) {
			f->json = f->ints = true;
		} else if (!opts_done && a[0] == '-' && a[1]) {
			for (const char *p = a + 1; *p; p++) {
				if (!strchr(allowed, *p)) {
					fprintf(err, "invalid option '%c'\n", *p);
					return ZF_EXIT_USAGE;
				}
				f->verbose |= *p == 'v';
				f->json |= *p == 'j' || *p == 'J';
				f->ints |= *p == 'J';
				f->stop |= *p == 's';
				f->wait |= *p == 'w';
			}
		} else if (!f->operand) {
			f->operand = a;
		} else {
			fprintf(err, "too many arguments\n");
			return ZF_EXIT_USAGE;
		}
	}
	if (!f->operand) {
		fprintf(err, "missing pool name or mount point\n");
		return ZF_EXIT_USAGE;
	}
	return 0;
}

/* zfs_nicenum: 1024-based, three significant digits. */
static void nicenum(uint64_t n, char *buf, size_t cap)
{
	static const char units[] = "BKMGTPE";
	if (n < 1024) {
		snprintf(buf, cap, "%" PRIu64 "B", n);
		return;
	}
	double v = (double)n;
	int u = 0;
	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	snprintf(buf, cap, v < 10 ? "%.2f%c" : v < 100 ? "%.1f%c" : "%.0f%c", v, units[u]);
}

static void when(int64_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!localtime_r(&tt, &tm) || !strftime(buf, cap, "%a %b %e %H:%M:%S %Y", &tm))
		snprintf(buf, cap, "%" PRId64, t);
}

/* ---- status ------------------------------------------------------------ */

struct vrow {
	char *name;
	unsigned depth;
	struct zfuse_vdev_info info;
};

struct vrows {
	struct vrow *v;
	size_t n, cap;
};

static int collect_vdev(void *arg, const struct zfuse_vdev_info *vd)
{
	struct vrows *r = arg;
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 8;
		struct vrow *nv = realloc(r->v, nc * sizeof(*nv));
		if (!nv)
			return -1;
		r->v = nv;
		r->cap = nc;
	}
	struct vrow *row = &r->v[r->n];
	if (!(row->name = strdup(vd->name)))
		return -1;
	row->depth = vd->depth;
	row->info = *vd;
	row->info.name = row->name;
	r->n++;
	return 0;
}

struct erows {
	struct zfuse_error_info *v;
	char **strs;		/* dataset and path copies, two per row */
	size_t n, cap;
};

static int collect_error(void *arg, const struct zfuse_error_info *e)
{
	struct erows *r = arg;
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 8;
		struct zfuse_error_info *nv = realloc(r->v, nc * sizeof(*nv));
		char **ns = nv ? realloc(r->strs, nc * 2 * sizeof(*ns)) : NULL;
		if (nv)
			r->v = nv;
		if (!ns)
			return -1;
		r->strs = ns;
		r->cap = nc;
	}
	char *ds = strdup(e->dataset), *path = e->path ? strdup(e->path) : NULL;
	if (!ds || (e->path && !path)) {
		free(ds);
		free(path);
		return -1;
	}
	r->v[r->n] = *e;
	r->v[r->n].dataset = r->strs[2 * r->n] = ds;
	r->v[r->n].path = r->strs[2 * r->n + 1] = path;
	r->n++;
	return 0;
}

/* A number as zpool status -j gives it: a string, or with --json-int a
 * JSON number. */
static void jnum(zf_json_t *j, const char *key, uint64_t v, bool ints)
{
	char b[32];
	if (ints) {
		zj_u64(j, key, v);
		return;
	}
	snprintf(b, sizeof(b), "%" PRIu64, v);
	zj_str(j, key, b);
}

/* The vdev at vr->v[*i] and, nested in "vdevs", the ones below it. */
static void vdev_json(zf_json_t *j, const struct vrows *vr, size_t *i, bool ints)
{
	const struct zfuse_vdev_info *v = &vr->v[*i].info;
	zj_obj_begin(j, v->name);
	zj_str(j, "name", v->name);
	zj_str(j, "vdev_type", v->type);
	jnum(j, "guid", v->guid, ints);
	if (strcmp(v->type, "file") == 0 || strcmp(v->type, "disk") == 0)
		zj_str(j, "path", v->name);
	zj_str(j, "class", v->is_log ? "log" : "normal");
	zj_str(j, "state", zfuse_vdev_state_name(v->state));
	jnum(j, "read_errors", v->read_errors, ints);
	jnum(j, "write_errors", v->write_errors, ints);
	jnum(j, "checksum_errors", v->checksum_errors, ints);
	unsigned depth = vr->v[*i].depth;
	bool open = false;
	while (*i + 1 < vr->n && vr->v[*i + 1].depth > depth) {
		if (!open) {
			zj_obj_begin(j, "vdevs");
			open = true;
		}
		++*i;
		vdev_json(j, vr, i, ints);
	}
	if (open)
		zj_obj_end(j);
	zj_obj_end(j);
}

static void status_json(FILE *out, const char *pool, const struct zfuse_pool_status *st,
			const struct vrows *vr, const struct erows *er, bool ints)
{
	static const char *const scan_words[] = { "NONE", "SCANNING", "FINISHED", "CANCELED" };
	zf_json_t j;
	zj_begin_output(&j, out, "zpool status");
	zj_obj_begin(&j, "pools");
	zj_obj_begin(&j, pool);
	zj_str(&j, "name", pool);
	zj_str(&j, "state", zfuse_vdev_state_name(st->state));
	if (vr->n)
		jnum(&j, "pool_guid", vr->v[0].info.guid, ints);
	jnum(&j, "txg", st->txg, ints);
	/* zfuse's own: how the daemon holds the pool */
	zj_bool(&j, "writable", st->writable);
	zj_str(&j, "readonly_reason", st->readonly_reason);
	jnum(&j, "last_sync_time", (uint64_t)st->last_sync_time, ints);
	jnum(&j, "open_txg", st->open_txg, ints);
	jnum(&j, "dirty_bytes", st->dirty_bytes, ints);
	zj_obj_begin(&j, "scan_stats");
	zj_str(&j, "function", "SCRUB");
	zj_str(&j, "state", scan_words[st->scan.state]);
	jnum(&j, "start_time", (uint64_t)st->scan.start_time, ints);
	jnum(&j, "end_time", (uint64_t)st->scan.end_time, ints);
	jnum(&j, "to_examine", st->scan.to_examine, ints);
	jnum(&j, "examined", st->scan.examined, ints);
	jnum(&j, "blocks", st->scan.blocks, ints);
	jnum(&j, "errors", st->scan.errors, ints);
	jnum(&j, "unrecoverable", st->scan.unrecoverable, ints);
	jnum(&j, "repaired", st->scan.repaired, ints);
	zj_obj_end(&j);
	if (vr->n) {
		zj_obj_begin(&j, "vdevs");
		size_t i = 0;
		vdev_json(&j, vr, &i, ints);
		zj_obj_end(&j);
	}
	jnum(&j, "error_count", st->data_errors, ints);
	zj_arr_begin(&j, "errors");
	for (size_t i = 0; i < er->n; i++) {
		const struct zfuse_error_info *e = &er->v[i];
		zj_obj_begin(&j, NULL);
		zj_str(&j, "dataset", e->dataset);
		jnum(&j, "object", e->object, ints);
		zj_i64(&j, "level", e->level);
		jnum(&j, "blkid", e->blkid, ints);
		zj_str(&j, "path", e->path);
		zj_str(&j, "error", zfuse_strerror(e->error));
		jnum(&j, "count", e->count, ints);
		jnum(&j, "first_time", (uint64_t)e->first_time, ints);
		jnum(&j, "last_time", (uint64_t)e->last_time, ints);
		zj_bool(&j, "by_scrub", e->by_scrub);
		zj_obj_end(&j);
	}
	zj_arr_end(&j);
	zj_obj_end(&j);
	zj_obj_end(&j);
	zj_obj_end(&j);
	zj_finish(&j);
}

static void scan_text(FILE *out, const struct zfuse_scan_status *s)
{
	char a[64], b[64], d[64];
	switch (s->state) {
	case ZFUSE_SCAN_NONE:
		fprintf(out, "  scan: none requested\n");
		break;
	case ZFUSE_SCAN_SCANNING: {
		when(s->start_time, d, sizeof(d));
		nicenum(s->examined, a, sizeof(a));
		nicenum(s->to_examine, b, sizeof(b));
		double pct = s->to_examine ? 100.0 * (double)s->examined / (double)s->to_examine : 0;
		fprintf(out, "  scan: scrub in progress since %s\n"
			     "\t%s / %s verified, %.2f%% done, %" PRIu64 " bad copies so far\n",
			d, a, b, pct > 100 ? 100.0 : pct, s->errors);
		break;
	}
	default: {
		int64_t secs = s->end_time - s->start_time;
		when(s->end_time, d, sizeof(d));
		if (s->state == ZFUSE_SCAN_CANCELED) {
			fprintf(out, "  scan: scrub canceled on %s\n", d);
			break;
		}
		fprintf(out, "  scan: scrub repaired %" PRIu64 " copies in %02" PRId64 ":%02" PRId64
			":%02" PRId64 " with %" PRIu64 " errors on %s\n", s->repaired, secs / 3600,
			secs / 60 % 60, secs % 60, s->unrecoverable, d);
		if (s->errors)
			fprintf(out, "\t%" PRIu64 " bad copies found, %" PRIu64 " blocks without a good "
				     "copy\n", s->errors, s->unrecoverable);
		break;
	}
	}
}

static void status_text(FILE *out, const char *pool, const struct zfuse_pool_status *st,
			const struct vrows *vr, const struct erows *er, bool verbose)
{
	char d[64], n[64];
	fprintf(out, "  pool: %s\n state: %s\n", pool, zfuse_vdev_state_name(st->state));
	if (st->state != ZFUSE_VDEV_ONLINE)
		fprintf(out, "status: One or more devices could not be opened. Sufficient replicas "
			     "exist for\n\tthe pool to continue functioning in a degraded state.\n"
			     "action: Give zfuse the missing image files and mount again.\n");
	scan_text(out, &st->scan);
	when(st->last_sync_time, d, sizeof(d));
	fprintf(out, "   txg: %" PRIu64 ", written %s\n", st->txg, d);
	if (st->writable) {
		nicenum(st->dirty_bytes, n, sizeof(n));
		fprintf(out, " write: read-write; open txg %" PRIu64 ", %s not yet on disk\n",
			st->open_txg, n);
	} else {
		fprintf(out, " write: read-only%s%s\n", st->readonly_reason ? ": " : "",
			st->readonly_reason ? st->readonly_reason : "");
	}
	size_t w = 10;
	for (size_t i = 0; i < vr->n; i++) {
		size_t l = strlen(vr->v[i].name) + 2 * vr->v[i].depth;
		if (l > w)
			w = l;
	}
	fprintf(out, "config:\n\n\t%-*s  %-8s %5s %5s %5s\n", (int)w, "NAME", "STATE", "READ", "WRITE",
		"CKSUM");
	bool logs = false;
	for (size_t i = 0; i < vr->n; i++) {
		const struct zfuse_vdev_info *v = &vr->v[i].info;
		if (v->is_log && v->depth == 1 && !logs) {
			fprintf(out, "\tlogs\n");
			logs = true;
		}
		fprintf(out, "\t%*s%-*s  %-8s %5" PRIu64 " %5" PRIu64 " %5" PRIu64 "\n", 2 * (int)v->depth,
			"", (int)(w - 2 * v->depth), v->name, zfuse_vdev_state_name(v->state),
			v->read_errors, v->write_errors, v->checksum_errors);
	}
	fprintf(out, "\n");
	if (!er->n) {
		fprintf(out, "errors: No known data errors\n");
	} else if (!verbose) {
		fprintf(out, "errors: %zu data errors, use '-v' for a list\n", er->n);
	} else {
		fprintf(out, "errors: Permanent errors have been detected in the following files:\n\n");
		for (size_t i = 0; i < er->n; i++) {
			const struct zfuse_error_info *e = &er->v[i];
			if (e->path)
				fprintf(out, "        %s:%s\n", e->dataset, e->path);
			else
				fprintf(out, "        %s:<0x%" PRIx64 ">\n", e->dataset, e->object);
		}
	}
}

static void status_usage(FILE *out)
{
	fprintf(out, "usage: zfuse status [-v] [-j|--json [--json-int]] [-d DIR|IMAGE]... "
		     "POOL|MOUNTPOINT\n"
		     "  -v: list the files with data errors; -j, --json: one JSON document in\n"
		     "  zpool status -j's layout (zfuse-status(8) gives its fields).\n");
}

static int status_run(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err)
{
	struct flags f;
	if (parse(argc, argv, "vjJ", true, &f, err)) {
		status_usage(err);
		return ZF_EXIT_USAGE;
	}
	struct zfuse_pool_status st;
	struct vrows vr = { 0 };
	struct erows er = { 0 };
	zfuse_pool_status(pool, &st);
	int rc = zfuse_pool_vdev_iter(pool, collect_vdev, &vr);
	if (rc == 0)
		rc = zfuse_pool_errors_iter(pool, collect_error, &er);
	if (rc != 0) {
		fprintf(err, "zfuse status: out of memory\n");
	} else if (f.json) {
		status_json(out, zfuse_pool_name(pool), &st, &vr, &er, f.ints);
	} else {
		status_text(out, zfuse_pool_name(pool), &st, &vr, &er, f.verbose);
	}
	for (size_t i = 0; i < vr.n; i++)
		free(vr.v[i].name);
	free(vr.v);
	for (size_t i = 0; i < 2 * er.n; i++)
		free(er.strs[i]);
	free(er.strs);
	free(er.v);
	return rc ? ZF_EXIT_FAIL : ZF_EXIT_OK;
}

/* ---- scrub, clear ------------------------------------------------------- */

static void scrub_usage(FILE *out)
{
	fprintf(out, "usage: zfuse scrub [-s | -w] [-d DIR|IMAGE]... POOL|MOUNTPOINT\n"
		     "  -s: stop the running scrub; -w: wait until it ends and show its result.\n"
		     "  A scrub of images given with -d always runs to its end.\n");
}

static int scrub_run(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err)
{
	struct flags f;
	if (parse(argc, argv, "sw", false, &f, err) || (f.stop && f.wait)) {
		if (f.stop && f.wait)
			fprintf(err, "-s and -w cannot be used together\n");
		scrub_usage(err);
		return ZF_EXIT_USAGE;
	}
	const char *name = zfuse_pool_name(pool);
	if (f.stop) {
		if (zfuse_scrub_cancel(pool) != 0) {
			fprintf(err, "cannot cancel scrubbing %s: there is no active scrub\n", name);
			return ZF_EXIT_FAIL;
		}
		zfuse_scrub_wait(pool);
		return ZF_EXIT_OK;
	}
	int rc = zfuse_scrub_start(pool);
	if (rc == -ZFUSE_E_BUSY) {
		fprintf(err, "cannot scrub %s: currently scrubbing; use 'zfuse scrub -s' to cancel the "
			     "current scrub\n", name);
		return ZF_EXIT_FAIL;
	}
	if (rc) {
		fprintf(err, "cannot scrub %s: %s\n", name, zfuse_strerror(rc));
		return ZF_EXIT_FAIL;
	}
	if (f.wait) {
		zfuse_scrub_wait(pool);
		struct zfuse_pool_status st;
		zfuse_pool_status(pool, &st);
		scan_text(out, &st.scan);
	}
	return ZF_EXIT_OK;
}

static void clear_usage(FILE *out)
{
	fprintf(out, "usage: zfuse clear POOL|MOUNTPOINT\n"
		     "  Forget the data errors and device error counts `zfuse status` shows.\n");
}

static int clear_run(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err)
{
	(void)out;
	struct flags f;
	if (parse(argc, argv, "", false, &f, err)) {
		clear_usage(err);
		return ZF_EXIT_USAGE;
	}
	zfuse_pool_clear(pool);
	return ZF_EXIT_OK;
}

const struct zf_pool_verb zf_verb_status = {
	"status", "show a pool's devices, errors and scrub (as zpool status)", false, "vj", 0,
	status_run, status_usage,
};
const struct zf_pool_verb zf_verb_scrub = {
	"scrub", "verify every block of a pool, mending bad copies (as zpool scrub)", true, "sw", 0,
	scrub_run, scrub_usage,
};
const struct zf_pool_verb zf_verb_clear = {
	"clear", "forget a pool's error counts and data errors (as zpool clear)", true, "", 0,
	clear_run, clear_usage,
};
