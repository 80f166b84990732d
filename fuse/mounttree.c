/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * mounttree.c — decides, once at mount time, which datasets the mount shows
 * and where (see mounttree.h). It reproduces `zfs mount -a` under the root
 * dataset's mountpoint: a descendant filesystem is shown when canmount=on
 * (noauto and off are skipped, as `zfs mount -a` does), its mountpoint is a
 * path (not legacy/none) beneath the root's, and its data can be read (not
 * encrypted). Everything else stays what the parent stores at that path.
 * Each filesystem's list of snapshots is re-read on demand
 * (zf_tree_refresh_snaps) and swapped in whole under the snap_lock.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* strdup, strndup, qsort_r */
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "grow.h"
#include "log.h"
#include "mounttree.h"

/* st_ino of a directory that exists only because a mount path passes
 * through it; high like OpenZFS's .zfs inodes, below them. */
#define ZF_INO_STUB_BASE 0x0000FFFFFFF00000ULL

struct ds_rec {
	char *name;
	enum zfuse_dataset_type type;
	char *mountpoint;	/* NULL: none reported */
	int canmount;		/* 0 off, 1 on, 2 noauto */
	bool snapdir_visible;
	bool encrypted;
	uint64_t dsobj;
	uint64_t txg;		/* creation txg */
};

struct ds_list {
	struct ds_rec *v;
	size_t n, cap;
};

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int collect_cb(const struct zfuse_dataset_info *info, void *arg)
{
	struct ds_list *l = arg;

	if (info->type == ZFUSE_DS_BOOKMARK)
		return 0;
	if (zf_grow(&l->v, &l->cap, l->n, sizeof(*l->v), 64) != 0)
		return -ZFUSE_E_NOMEM;
	struct ds_rec *r = &l->v[l->n];
	memset(r, 0, sizeof(*r));
	r->name = xstrdup(info->name);
	r->mountpoint = xstrdup(info->mountpoint);
	if (!r->name || (info->mountpoint && !r->mountpoint)) {
		free(r->name);
		free(r->mountpoint);
		return -ZFUSE_E_NOMEM;
	}
	r->type = info->type;
	r->canmount = info->canmount;
	r->snapdir_visible = info->snapdir_visible;
	r->encrypted = info->encrypted;
	r->dsobj = info->dsobj;
	r->txg = info->creation_txg;
	l->n++;
	return 0;
}

static void ds_list_free(struct ds_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].mountpoint);
	}
	free(l->v);
}

static const struct ds_rec *ds_find(const struct ds_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return &l->v[i];
	return NULL;
}

static void snaplist_free(struct zf_snaplist *sl)
{
	for (size_t i = 0; i < sl->n; i++)
		free(sl->v[i].name);
	free(sl->v);
	free(sl->by_name);
	memset(sl, 0, sizeof(*sl));
}

static void fs_close(struct zf_fs *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->snaps.n; i++)
		fs_close(f->snaps.v[i].fs);
	snaplist_free(&f->snaps);
	while (f->retired) {
		struct zf_fs *r = f->retired;
		f->retired = r->next_retired;
		fs_close(r);
	}
	if (f->zfs)
		zfuse_fs_close(f->zfs);
	free(f->name);
	free(f);
}

static int fs_open(zfuse_pool_t *pool, const char *name, bool snapdir_visible,
		   struct zf_fs **out)
{
	struct zf_fs *f = calloc(1, sizeof(*f));

	if (!f || !(f->name = strdup(name))) {
		free(f);
		return -ZFUSE_E_NOMEM;
	}
	int rc = zfuse_fs_open(pool, name, &f->zfs);
	if (rc == 0) {
		f->root = zfuse_fs_root(f->zfs);
		f->snapshot = zfuse_fs_is_snapshot(f->zfs);
		f->snapdir_visible = snapdir_visible && !f->snapshot;
		/* A root we cannot stat is a filesystem we cannot show. */
		rc = zfuse_getattr(f->zfs, f->root, &f->root_st);
	}
	if (rc < 0) {
		fs_close(f);
		return rc;
	}
	*out = f;
	return 0;
}

static int snap_name_cmp(const void *a, const void *b, void *arg)
{
	const struct zf_snaplist *sl = arg;
	return strcmp(sl->v[*(const size_t *)a].name, sl->v[*(const size_t *)b].name);
}

/* The snapshots of filesystem fsname in the dataset list l. */
static int snaplist_build(const char *fsname, const struct ds_list *l, struct zf_snaplist *out)
{
	size_t len = strlen(fsname), n = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].type == ZFUSE_DS_SNAPSHOT &&
		    strncmp(l->v[i].name, fsname, len) == 0 && l->v[i].name[len] == '@')
			n++;
	if (n == 0)
		return 0;
	out->v = calloc(n, sizeof(*out->v));
	out->by_name = calloc(n, sizeof(*out->by_name));
	if (!out->v || !out->by_name) {
		snaplist_free(out);
		return -ZFUSE_E_NOMEM;
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct ds_rec *r = &l->v[i];
		if (r->type != ZFUSE_DS_SNAPSHOT || strncmp(r->name, fsname, len) != 0 ||
		    r->name[len] != '@')
			continue;
		struct zf_snap *s = &out->v[out->n];
		if (!(s->name = strdup(r->name + len + 1))) {
			snaplist_free(out);
			return -ZFUSE_E_NOMEM;
		}
		s->dsobj = r->dsobj;
		s->txg = r->txg;
		out->by_name[out->n] = out->n;
		out->n++;
	}
	if (out->n > 1)
		qsort_r(out->by_name, out->n, sizeof(size_t), snap_name_cmp, out);
	return 0;
}

static long snaplist_find(const struct zf_snaplist *sl, const char *name)
{
	size_t lo = 0, hi = sl->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		size_t idx = sl->by_name[mid];
		int c = strcmp(name, sl->v[idx].name);
		if (c == 0)
			return (long)idx;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/*
 * Normalize an absolute mountpoint into its components joined by '/',
 * without the leading slash ("/a//b/" -> "a/b", "/" -> ""). NULL when it
 * is not a plain absolute path (legacy, none, "." or ".." components).
 */
static char *mp_normalize(const char *mp)
{
	if (!mp || mp[0] != '/')
		return NULL;
	char *out = malloc(strlen(mp) + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	const char *p = mp;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
			free(out);
			return NULL;
		}
		if (o)
			out[o++] = '/';
		memcpy(out + o, p, n);
		o += n;
		p += n;
	}
	out[o] = '\0';
	return out;
}

/* Path of child mountpoint `mp` relative to root mountpoint `rootmp` (both
 * normalized), or NULL when it lies outside. */
static const char *mp_relative(const char *rootmp, const char *mp)
{
	size_t n = strlen(rootmp);

	if (n == 0)
		return mp;
	if (strncmp(mp, rootmp, n) != 0)
		return NULL;
	if (mp[n] == '\0')
		return mp + n;
	return mp[n] == '/' ? mp + n + 1 : NULL;
}

struct mount_rec {
	char *rel;
	struct zf_fs *fs;
};

static int junction_path_cmp(const void *a, const void *b)
{
	return strcmp((*(struct zf_junction *const *)a)->path,
		      (*(struct zf_junction *const *)b)->path);
}

static int junction_name_cmp(const void *a, const void *b)
{
	return strcmp((*(struct zf_junction *const *)a)->name,
		      (*(struct zf_junction *const *)b)->name);
}

static struct zf_junction *junction_find(struct zf_mount *v, const char *path)
{
	struct zf_junction key = { .path = (char *)path }, *kp = &key;
	struct zf_junction **hit = bsearch(&kp, v->junctions, v->njunctions,
					   sizeof(*v->junctions), junction_path_cmp);
	return hit ? *hit : NULL;
}

static int junction_add(struct zf_mount *v, size_t *cap, const char *path, size_t len)
{
	if (zf_grow(&v->junctions, cap, v->njunctions, sizeof(*v->junctions), 16) != 0)
		return -ZFUSE_E_NOMEM;
	struct zf_junction *j = calloc(1, sizeof(*j));
	if (!j || !(j->path = strndup(path, len))) {
		free(j);
		return -ZFUSE_E_NOMEM;
	}
	const char *slash = strrchr(j->path, '/');
	j->name = slash ? slash + 1 : j->path;
	v->junctions[v->njunctions++] = j;
	return 0;
}

/* The path of mount m relative to the root of mount v (an ancestor of it). */
static const char *rel_below(const struct zf_mount *v, const struct zf_mount *m)
{
	size_t n = strlen(v->rel);
	return n ? m->rel + n + 1 : m->rel;
}

static bool holds(const struct zf_mount *v, const struct zf_mount *m)
{
	for (const struct zf_mount *h = m->host; h; h = h->host)
		if (h == v)
			return true;
	return false;
}

/* Build mount v's view: every mount it holds, directly or through others,
 * at its path relative to v, and every prefix of one, each linked to its
 * parent and its children. */
static int view_build(struct zf_tree *t, struct zf_mount *v)
{
	size_t cap = 0;
	int rc = junction_add(v, &cap, "", 0);

	for (size_t i = 0; rc == 0 && i < t->nmounts; i++) {
		if (!holds(v, t->mounts[i]))
			continue;
		const char *rel = rel_below(v, t->mounts[i]);
		for (const char *p = rel;; p++) {
			if (*p == '/' || *p == '\0')
				rc = junction_add(v, &cap, rel, (size_t)(p - rel));
			if (rc || *p == '\0')
				break;
		}
	}
	if (rc)
		return rc;
	if (v->njunctions > 1)
		qsort(v->junctions, v->njunctions, sizeof(*v->junctions), junction_path_cmp);
	/* Drop duplicates (shared prefixes). */
	size_t w = 0;
	for (size_t i = 0; i < v->njunctions; i++) {
		if (w && strcmp(v->junctions[w - 1]->path, v->junctions[i]->path) == 0) {
			free(v->junctions[i]->path);
			free(v->junctions[i]);
			continue;
		}
		v->junctions[w++] = v->junctions[i];
	}
	v->njunctions = w;
	v->top = v->junctions[0];	/* "" sorts first */
	for (size_t i = 0; i < t->nmounts; i++)
		if (holds(v, t->mounts[i]))
			junction_find(v, rel_below(v, t->mounts[i]))->mount = t->mounts[i];

	/* Parents: the junction of the path without its last component. */
	for (size_t i = 1; i < v->njunctions; i++) {
		struct zf_junction *j = v->junctions[i];
		if (j->name == j->path) {
			j->parent = v->top;
		} else {
			char *dir = strndup(j->path, (size_t)(j->name - 1 - j->path));
			if (!dir)
				return -ZFUSE_E_NOMEM;
			j->parent = junction_find(v, dir);
			free(dir);
		}
		j->parent->nkids++;
		j->stub_ino = ZF_INO_STUB_BASE + i;
	}
	for (size_t i = 0; i < v->njunctions; i++) {
		struct zf_junction *j = v->junctions[i];
		if (j->nkids && !(j->kids = calloc(j->nkids, sizeof(*j->kids))))
			return -ZFUSE_E_NOMEM;
		j->nkids = 0;
	}
	for (size_t i = 1; i < v->njunctions; i++) {
		struct zf_junction *j = v->junctions[i];
		j->parent->kids[j->parent->nkids++] = j;
	}
	for (size_t i = 0; i < v->njunctions; i++) {
		struct zf_junction *j = v->junctions[i];
		if (j->nkids > 1)
			qsort(j->kids, j->nkids, sizeof(*j->kids), junction_name_cmp);
	}
	return 0;
}

static void view_free(struct zf_mount *v)
{
	for (size_t i = 0; i < v->njunctions; i++) {
		free(v->junctions[i]->kids);
		free(v->junctions[i]->path);
		free(v->junctions[i]);
	}
	free(v->junctions);
	v->junctions = NULL;
	v->njunctions = 0;
	v->top = NULL;
}

static int mount_rel_cmp(const void *a, const void *b)
{
	return strcmp((*(struct zf_mount *const *)a)->rel, (*(struct zf_mount *const *)b)->rel);
}

/* Whether mount path p (relative to the top) lies strictly below path d. */
static bool path_below(const char *d, const char *p)
{
	size_t n = strlen(d);
	if (n == 0)
		return *p != '\0';
	return strncmp(p, d, n) == 0 && p[n] == '/';
}

/* Make the mounts of the tree from the root and the children found: sort
 * them by path, find each one's host (the deepest mount whose path holds
 * it) and build every view. The tree takes over each m[i].fs and .rel it
 * uses (and clears them); on error zf_tree_free() frees what it took. */
static int mounts_build(struct zf_tree *t, struct mount_rec *m, size_t nm)
{
	t->mounts = calloc(nm + 1, sizeof(*t->mounts));
	if (!t->mounts)
		return -ZFUSE_E_NOMEM;
	for (size_t i = 0; i <= nm; i++) {
		struct zf_mount *mt = calloc(1, sizeof(*mt));
		if (!mt)
			return -ZFUSE_E_NOMEM;
		if (i == 0) {
			mt->fs = t->root;
			mt->rel = strdup("");
			if (!mt->rel) {
				free(mt);
				return -ZFUSE_E_NOMEM;
			}
		} else {
			mt->fs = m[i - 1].fs;
			mt->rel = m[i - 1].rel;
			m[i - 1].fs = NULL;
			m[i - 1].rel = NULL;
		}
		atomic_init(&mt->state, i == 0 ? ZF_MOUNT_OWN : ZF_MOUNT_PENDING);
		t->mounts[t->nmounts++] = mt;
	}
	if (t->nmounts > 2)
		qsort(t->mounts + 1, t->nmounts - 1, sizeof(*t->mounts), mount_rel_cmp);
	/* Sorted by path, a host comes before what it holds; the deepest
	 * holder is the last one found. */
	for (size_t i = 1; i < t->nmounts; i++) {
		struct zf_mount *mt = t->mounts[i];
		for (size_t k = 0; k < i; k++)
			if (path_below(t->mounts[k]->rel, mt->rel))
				mt->host = t->mounts[k];
	}
	for (size_t i = 0; i < t->nmounts; i++) {
		int rc = view_build(t, t->mounts[i]);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * Where dataset r is shown below the tree's root, as `zfs mount -a` would
 * mount it: its path relative to the root's mountpoint (malloc'd), or NULL
 * (with the reason logged) when it is not shown.
 */
static char *shown_rel(const struct zf_tree *t, const struct ds_rec *r, bool quiet)
{
	size_t rlen = strlen(t->root->name);
	int info = quiet ? ZFUSE_LOG_DEBUG : ZFUSE_LOG_INFO;

	if (r->type != ZFUSE_DS_FILESYSTEM || strncmp(r->name, t->root->name, rlen) != 0 ||
	    r->name[rlen] != '/')
		return NULL;
	if (r->canmount != 1) {
		zf_log(ZFUSE_LOG_DEBUG, "dataset %s has canmount=%s; not mounted", r->name,
		       r->canmount == 2 ? "noauto" : "off");
		return NULL;
	}
	char *mp = mp_normalize(r->mountpoint);
	if (!mp) {
		zf_log(ZFUSE_LOG_DEBUG, "dataset %s has mountpoint %s; not mounted", r->name,
		       r->mountpoint ? r->mountpoint : "(none)");
		return NULL;
	}
	const char *rel = mp_relative(t->rootmp, mp);
	char *out = NULL;
	if (!rel || !*rel)
		zf_log(info, "dataset %s: mountpoint %s is %s; not shown", r->name,
		       r->mountpoint, rel ? "the root's own" : "outside the root's");
	else if (!(out = strdup(rel)))
		zf_log(ZFUSE_LOG_ERROR, "out of memory");
	free(mp);
	return out;
}

static int open_children(struct zf_tree *t, const struct ds_list *l, struct mount_rec **out,
			 size_t *nout)
{
	size_t n = 0;
	struct mount_rec *m = calloc(l->n ? l->n : 1, sizeof(*m));

	if (!m)
		return -ZFUSE_E_NOMEM;
	for (size_t i = 0; i < l->n; i++) {
		const struct ds_rec *r = &l->v[i];
		char *relcopy = shown_rel(t, r, false);
		if (!relcopy)
			continue;
		struct zf_fs *f;
		int rc = fs_open(t->pool, r->name, r->snapdir_visible, &f);
		if (rc == -ZFUSE_E_ACCESS || rc == -ZFUSE_E_AUTH || rc == -ZFUSE_E_KEY) {
			zf_log(ZFUSE_LOG_WARN, "dataset %s is encrypted and cannot be read (%s); not "
			       "mounted", r->name, rc == -ZFUSE_E_ACCESS ? "key not loaded" :
			       zfuse_strerror(rc));
		} else if (rc == -ZFUSE_E_NOMEM) {
			free(relcopy);
			for (size_t x = 0; x < n; x++) {
				fs_close(m[x].fs);
				free(m[x].rel);
			}
			free(m);
			return rc;
		} else if (rc < 0) {
			zf_log(ZFUSE_LOG_WARN, "dataset %s cannot be opened (%s); not mounted",
			       r->name, zfuse_strerror(rc));
		}
		if (rc < 0) {
			free(relcopy);
			continue;
		}
		/* Same path twice: the later (deeper in name order) mount
		 * covers the earlier one, as a later mount(2) would. */
		size_t k;
		for (k = 0; k < n; k++)
			if (strcmp(m[k].rel, relcopy) == 0)
				break;
		if (k < n) {
			zf_log(ZFUSE_LOG_WARN, "datasets %s and %s share a mountpoint; showing %s",
			       m[k].fs->name, r->name, r->name);
			fs_close(m[k].fs);
			free(m[k].rel);
		} else {
			n++;
		}
		m[k].rel = relcopy;
		m[k].fs = f;
		zf_log(ZFUSE_LOG_INFO, "dataset %s shown at %s", r->name, relcopy);
	}
	*out = m;
	*nout = n;
	return 0;
}

int zf_tree_build(struct zf_tree *t, zfuse_pool_t *pool, const char *name)
{
	struct ds_list l = { 0 };
	struct mount_rec *m = NULL;
	size_t nm = 0;
	int rc;

	memset(t, 0, sizeof(*t));
	t->pool = pool;
	pthread_mutex_init(&t->snap_lock, NULL);
	pthread_mutex_init(&t->refresh_lock, NULL);
	rc = zfuse_dataset_iter(pool, collect_cb, &l);
	if (rc < 0) {
		zf_log(ZFUSE_LOG_ERROR, "cannot list the datasets of pool %s: %s",
		       zfuse_pool_name(pool), zfuse_strerror(rc));
		goto out;
	}
	const struct ds_rec *r = ds_find(&l, name);
	if (!r) {
		zf_log(ZFUSE_LOG_ERROR, "no dataset %s in pool %s", name, zfuse_pool_name(pool));
		rc = -ZFUSE_E_NOENT;
		goto out;
	}
	if (r->type != ZFUSE_DS_FILESYSTEM && r->type != ZFUSE_DS_SNAPSHOT) {
		zf_log(ZFUSE_LOG_ERROR, "dataset %s is not a filesystem or snapshot", name);
		rc = -ZFUSE_E_UNSUPPORTED;
		goto out;
	}
	rc = fs_open(pool, name, r->snapdir_visible, &t->root);
	if (rc < 0) {
		zf_log(ZFUSE_LOG_ERROR, "cannot open dataset %s: %s", name, zfuse_strerror(rc));
		goto out;
	}
	if (!t->root->snapshot) {
		t->rootmp = mp_normalize(r->mountpoint);
		if (t->rootmp) {
			rc = open_children(t, &l, &m, &nm);
			if (rc < 0)
				goto out;
		} else {
			zf_log(ZFUSE_LOG_INFO, "dataset %s has mountpoint %s; child datasets are "
			       "not shown", name, r->mountpoint ? r->mountpoint : "(none)");
		}
	}
	/* From here on the tree owns every opened filesystem. */
	rc = mounts_build(t, m, nm);
	for (size_t i = 0; rc == 0 && i < t->nmounts; i++)
		if (!t->mounts[i]->fs->snapshot)
			rc = snaplist_build(t->mounts[i]->fs->name, &l, &t->mounts[i]->fs->snaps);
out:
	for (size_t i = 0; i < nm; i++) {
		fs_close(m[i].fs);	/* NULL once the tree took it */
		free(m[i].rel);
	}
	free(m);
	ds_list_free(&l);
	if (rc < 0)
		zf_tree_free(t);
	return rc < 0 ? rc : 0;
}

void zf_tree_free(struct zf_tree *t)
{
	bool root_listed = false;

	for (size_t i = 0; i < t->nmounts; i++) {
		struct zf_mount *mt = t->mounts[i];
		if (mt->fs == t->root)
			root_listed = true;
		fs_close(mt->fs);
		view_free(mt);
		free(mt->rel);
		free(mt);
	}
	if (!root_listed)
		fs_close(t->root);
	free(t->mounts);
	free(t->rootmp);
	pthread_mutex_destroy(&t->snap_lock);
	pthread_mutex_destroy(&t->refresh_lock);
	memset(t, 0, sizeof(*t));
}

const struct zf_junction *zf_junction_kid(const struct zf_junction *j, const char *name)
{
	size_t lo = 0, hi = j->nkids;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, j->kids[mid]->name);
		if (c == 0)
			return j->kids[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int zf_snap_lookup(struct zf_tree *t, struct zf_fs *head, const char *name,
		   int (*fn)(void *arg, struct zf_fs *snap), void *arg)
{
	int rc = 0;

	pthread_mutex_lock(&t->snap_lock);
	long idx = snaplist_find(&head->snaps, name);
	struct zf_snap *s = idx >= 0 ? &head->snaps.v[idx] : NULL;
	if (!s) {
		rc = -ZFUSE_E_NOENT;
	} else if (!s->fs) {
		char *full;
		if (asprintf(&full, "%s@%s", head->name, s->name) < 0) {
			rc = -ZFUSE_E_NOMEM;
		} else {
			/* A failure is not remembered: the next lookup retries. */
			rc = fs_open(t->pool, full, false, &s->fs);
			if (rc < 0)
				zf_log(ZFUSE_LOG_WARN, "cannot open snapshot %s: %s", full,
				       zfuse_strerror(rc));
			free(full);
		}
	}
	if (rc == 0)
		rc = fn(arg, s->fs);
	pthread_mutex_unlock(&t->snap_lock);
	return rc;
}

/* Close snapshot s of head (the snap_lock held); its zf_fs is retired. */
static void snap_close(struct zf_fs *head, struct zf_snap *s)
{
	struct zf_fs *f = s->fs;

	atomic_store(&f->dead, true);
	zfuse_fs_close(f->zfs);
	f->zfs = NULL;
	s->fs = NULL;
	f->next_retired = head->retired;
	head->retired = f;
}

int zf_snap_release(struct zf_tree *t, struct zf_fs *head, const char *name,
		    bool (*busy)(void *arg, struct zf_fs *snap), void *arg)
{
	int rc = 0;

	pthread_mutex_lock(&t->snap_lock);
	long idx = snaplist_find(&head->snaps, name);
	struct zf_fs *f = idx >= 0 ? head->snaps.v[idx].fs : NULL;
	if (f && busy(arg, f))
		rc = -ZFUSE_E_BUSY;
	else if (f)
		snap_close(head, &head->snaps.v[idx]);
	pthread_mutex_unlock(&t->snap_lock);
	return rc;
}

void zf_tree_close_fs(struct zf_tree *t, struct zf_fs *f)
{
	pthread_mutex_lock(&t->snap_lock);
	for (size_t k = 0; k < f->snaps.n; k++)
		if (f->snaps.v[k].fs)
			snap_close(f, &f->snaps.v[k]);
	for (struct zf_fs *r = f->retired; r; r = r->next_retired) {
		atomic_store(&r->dead, true);
		zfuse_fs_close(r->zfs);
		r->zfs = NULL;
	}
	atomic_store(&f->dead, true);
	zfuse_fs_close(f->zfs);
	f->zfs = NULL;
	pthread_mutex_unlock(&t->snap_lock);
}

void zf_snap_each_open(struct zf_tree *t, void (*fn)(void *arg, struct zf_fs *head,
						       const struct zf_snap *s), void *arg)
{
	pthread_mutex_lock(&t->snap_lock);
	for (size_t i = 0; i < t->nmounts; i++) {
		struct zf_fs *f = t->mounts[i]->fs;
		for (size_t k = 0; !f->snapshot && k < f->snaps.n; k++)
			if (f->snaps.v[k].fs)
				fn(arg, f, &f->snaps.v[k]);
	}
	pthread_mutex_unlock(&t->snap_lock);
}

int zf_snap_each(struct zf_tree *t, const struct zf_fs *head, uint64_t after,
		 int (*fn)(void *arg, const struct zf_snap *s), void *arg)
{
	int rc = 0;

	pthread_mutex_lock(&t->snap_lock);
	for (size_t i = 0; rc == 0 && i < head->snaps.n; i++)
		if (head->snaps.v[i].txg > after)
			rc = fn(arg, &head->snaps.v[i]);
	pthread_mutex_unlock(&t->snap_lock);
	return rc;
}

struct snap_change {
	struct zf_fs *head;
	char *name;
	bool added;
};

struct snap_changes {
	struct snap_change *v;
	size_t n, cap;
};

static long snaplist_find_obj(const struct zf_snaplist *sl, uint64_t dsobj)
{
	for (size_t i = 0; i < sl->n; i++)
		if (sl->v[i].dsobj == dsobj)
			return (long)i;
	return -1;
}

/* Note the names of a that b lacks (added: b's that a lacks). */
static int snaplist_diff(struct zf_fs *head, const struct zf_snaplist *a,
			 const struct zf_snaplist *b, bool added, struct snap_changes *out)
{
	for (size_t i = 0; i < a->n; i++) {
		long k = snaplist_find(b, a->v[i].name);
		if (k >= 0 && b->v[k].dsobj == a->v[i].dsobj)
			continue;
		if (zf_grow(&out->v, &out->cap, out->n, sizeof(*out->v), 16) != 0)
			return -ZFUSE_E_NOMEM;
		struct snap_change *c = &out->v[out->n];
		if (!(c->name = strdup(a->v[i].name)))
			return -ZFUSE_E_NOMEM;
		c->head = head;
		c->added = added;
		out->n++;
	}
	return 0;
}

int zf_tree_refresh_snaps(struct zf_tree *t,
			  void (*changed)(void *arg, struct zf_fs *head, const char *name,
					  bool added),
			  void *arg)
{
	struct ds_list l = { 0 };
	struct zf_snaplist *fresh = calloc(t->nmounts ? t->nmounts : 1, sizeof(*fresh));
	int rc = fresh ? 0 : -ZFUSE_E_NOMEM;

	pthread_mutex_lock(&t->refresh_lock);
	if (rc == 0)
		rc = zfuse_dataset_iter(t->pool, collect_cb, &l);
	for (size_t i = 0; rc == 0 && i < t->nmounts; i++)
		if (!t->mounts[i]->fs->snapshot)
			rc = snaplist_build(t->mounts[i]->fs->name, &l, &fresh[i]);
	ds_list_free(&l);
	if (rc < 0) {
		for (size_t i = 0; fresh && i < t->nmounts; i++)
			snaplist_free(&fresh[i]);
		free(fresh);
		pthread_mutex_unlock(&t->refresh_lock);
		return rc;
	}
	/* Swap: each snapshot that stays (under its name or another: the
	 * same dataset object) keeps its dataset, the others' datasets are
	 * retired (nodes may name them until forgotten). */
	pthread_mutex_lock(&t->snap_lock);
	for (size_t i = 0; i < t->nmounts; i++) {
		struct zf_fs *f = t->mounts[i]->fs;
		if (f->snapshot)
			continue;
		for (size_t k = 0; k < f->snaps.n; k++) {
			struct zf_snap *old = &f->snaps.v[k];
			long x = snaplist_find(&fresh[i], old->name);
			if (!old->fs)
				continue;
			if (x < 0 || fresh[i].v[x].dsobj != old->dsobj)
				x = snaplist_find_obj(&fresh[i], old->dsobj);
			if (x >= 0) {
				fresh[i].v[x].fs = old->fs;
			} else {
				old->fs->next_retired = f->retired;
				f->retired = old->fs;
			}
			old->fs = NULL;
		}
		struct zf_snaplist tmp = f->snaps;
		f->snaps = fresh[i];
		fresh[i] = tmp;		/* the old list, its datasets moved out */
	}
	pthread_mutex_unlock(&t->snap_lock);
	/* The changes are told with no lock held: the caller may have to
	 * wait for FUSE requests that take them. */
	struct snap_changes ch = { 0 };
	for (size_t i = 0; i < t->nmounts; i++) {
		struct zf_fs *f = t->mounts[i]->fs;
		/* f->snaps changes only here, under refresh_lock. A change
		 * that cannot be noted (ENOMEM) is only not told. */
		if (changed && !f->snapshot &&
		    snaplist_diff(f, &fresh[i], &f->snaps, false, &ch) == 0)
			snaplist_diff(f, &f->snaps, &fresh[i], true, &ch);
		snaplist_free(&fresh[i]);
	}
	free(fresh);
	pthread_mutex_unlock(&t->refresh_lock);
	for (size_t i = 0; i < ch.n; i++) {
		changed(arg, ch.v[i].head, ch.v[i].name, ch.v[i].added);
		free(ch.v[i].name);
	}
	free(ch.v);
	return 0;
}

/* The deepest mount of t whose path holds path rel (the top at least). */
static struct zf_mount *host_for(const struct zf_tree *t, const char *rel)
{
	struct zf_mount *h = t->mounts[0];

	for (size_t i = 1; i < t->nmounts; i++)
		if (!atomic_load(&t->mounts[i]->fs->dead) && path_below(t->mounts[i]->rel, rel) &&
		    strlen(t->mounts[i]->rel) > strlen(h->rel))
			h = t->mounts[i];
	return h;
}

/* Whether a mount of t is at path rel or below it. */
static bool mounted_at_or_below(const struct zf_tree *t, const char *rel)
{
	for (size_t i = 0; i < t->nmounts; i++)
		if (!atomic_load(&t->mounts[i]->fs->dead) &&
		    (strcmp(t->mounts[i]->rel, rel) == 0 || path_below(rel, t->mounts[i]->rel)))
			return true;
	return false;
}

static bool in_tree(const struct zf_tree *t, const char *name)
{
	for (size_t i = 0; i < t->nmounts; i++)
		if (!atomic_load(&t->mounts[i]->fs->dead) && strcmp(t->mounts[i]->fs->name, name) == 0)
			return true;
	return false;
}

/* Open r, shown at rel, as a new mount of t (appended; rel is taken). */
static int tree_append(struct zf_tree *t, const struct ds_rec *r, char *rel,
		       const struct ds_list *l, struct zf_mount **out)
{
	struct zf_mount **v = realloc(t->mounts, (t->nmounts + 1) * sizeof(*v));
	struct zf_mount *mt = calloc(1, sizeof(*mt));
	int rc = v && mt ? 0 : -ZFUSE_E_NOMEM;

	if (v)
		t->mounts = v;
	if (rc == 0)
		rc = fs_open(t->pool, r->name, r->snapdir_visible, &mt->fs);
	if (rc == 0)
		rc = snaplist_build(r->name, l, &mt->fs->snaps);
	if (rc < 0) {
		if (mt)
			fs_close(mt->fs);
		free(mt);
		free(rel);
		return rc;
	}
	mt->rel = rel;
	mt->host = host_for(t, rel);
	atomic_init(&mt->state, ZF_MOUNT_PENDING);
	t->mounts[t->nmounts++] = mt;
	/* It holds no mount (none lies below it), so its view is its root;
	 * an error leaves it without one, and it is not mounted. */
	rc = view_build(t, mt);
	if (rc < 0) {
		zf_mount_set_state(mt, ZF_MOUNT_COMPOSED);
		return rc;
	}
	*out = mt;
	return 0;
}

int zf_tree_grow(struct zf_tree *t, struct zf_mount ***added, size_t *nadded)
{
	struct ds_list l = { 0 };
	int rc = 0;

	*added = NULL;
	*nadded = 0;
	if (!t->rootmp || t->root->snapshot)
		return 0;
	pthread_mutex_lock(&t->refresh_lock);
	rc = zfuse_dataset_iter(t->pool, collect_cb, &l);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		const struct ds_rec *r = &l.v[i];
		char *rel;
		if (in_tree(t, r->name) || !(rel = shown_rel(t, r, true)))
			continue;
		if (mounted_at_or_below(t, rel)) {
			zf_log(ZFUSE_LOG_WARN, "dataset %s is not mounted at %s until the next mount: "
			       "a mount is there or below", r->name, rel);
			free(rel);
			continue;
		}
		struct zf_mount *mt, **nv = realloc(*added, (*nadded + 1) * sizeof(*nv));
		if (!nv) {
			free(rel);
			rc = -ZFUSE_E_NOMEM;
			break;
		}
		*added = nv;
		int err = tree_append(t, r, rel, &l, &mt);
		if (err == 0)
			(*added)[(*nadded)++] = mt;
		else	/* an encrypted one stays out until its key is loaded */
			zf_log(err == -ZFUSE_E_ACCESS ? ZFUSE_LOG_DEBUG : ZFUSE_LOG_WARN,
			       "cannot open new dataset %s: %s", r->name, zfuse_strerror(err));
	}
	pthread_mutex_unlock(&t->refresh_lock);
	ds_list_free(&l);
	return rc;
}
