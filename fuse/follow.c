/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * follow.c — the mounts follow a change that a verb made to the pool
 * through the control socket (control.c), at once, without a remount.
 * These hooks run on the verb's thread, one verb at a time.
 *
 * Before a verb that changes the pool:
 *   - the kernel's cached writes of every read-write mount are flushed to
 *     the library (syncfs of the mount), so that, as with OpenZFS, a
 *     snapshot holds every write made before the command was given, and a
 *     rollback does not meet cached pages of the tree it replaces;
 *   - destroy, rollback (-r): the daemon closes its handles of the
 *     snapshots nothing uses any more, after telling the kernel to drop
 *     its cached entries of them (release_snapshots): the library, like
 *     OpenZFS, does not destroy a busy one;
 *   - destroy or rename of filesystems, set/inherit of their mountpoint or
 *     canmount: those with a mount of their own are unmounted and their
 *     handles closed (unmount_datasets), as zfs unmounts what it changes;
 *   - rollback: the names in the root of the dataset are noted, and the
 *     pool synced.
 *
 * After it ran:
 *   - every filesystem's snapshot list is re-read (mounttree.c); the
 *     kernel forgets the entries of .zfs/snapshot that appeared or went
 *     away, and the directory's cached attributes and listing;
 *   - a filesystem whose snapdir changed lists .zfs in its root or not
 *     from now on (its root's cached attributes and listing dropped);
 *   - a filesystem that the mount would show now and does not (created,
 *     cloned, renamed, given a mountpoint, or left by a verb that failed)
 *     is mounted at its mountpoint in a session of its own, its directory
 *     made in its parent first as `zfs create` does. One that cannot be (a
 *     mount is below its path; an unprivileged daemon; -o nonested) is
 *     shown from the next mount on;
 *   - a rolled-back dataset (the `rollback` verb's operand) has every node
 *     the kernel holds of it invalidated (attributes, pages), and the
 *     entries of its root directory, those of before and after the
 *     rollback, dropped with everything cached below them: the next
 *     lookups walk the rolled-back tree, which the library shows through
 *     the same open dataset. Mount paths of child datasets are left alone
 *     (dropping their entries would detach the child mounts).
 * Notifications are sent with no lock of ours held: the kernel may wait
 * for requests in flight, which need those locks. The top mount stays
 * whatever is done to its dataset (see zfuse(8)).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* syncfs */
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>
#include "grow.h"
#include "log.h"
#include "prefill.h"
#include "sessions_impl.h"
#include "zfuse/dataset.h"

/* What a rollback's before() saw of one dataset it rolls back. */
struct rolled {
	struct zf_fs *fs;
	char **names;		/* its root directory's entries before */
	size_t n, cap;
};

struct follow_ctx {
	struct rolled *v;
	size_t n;
};

static void flush_mounts(struct zf_serve *srv)
{
	for (size_t i = 0; i < srv->n; i++) {
		struct sess *s = srv->sess[i];
		if (!sess_live(s) || !s->ll.writable)
			continue;
		int fd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (syncfs(fd) != 0)
			zf_log(ZFUSE_LOG_WARN, "cannot flush the cached writes of %s", s->path);
		close(fd);
	}
}

static int add_name(void *arg, const char *name, uint64_t ino, unsigned dtype, uint64_t next)
{
	struct rolled *r = arg;

	(void)ino;
	(void)dtype;
	(void)next;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	if (zf_grow(&r->names, &r->cap, r->n, sizeof(*r->names), 64) != 0)
		return -ZFUSE_E_NOMEM;
	if (!(r->names[r->n] = strdup(name)))
		return -ZFUSE_E_NOMEM;
	r->n++;
	return 0;
}

static void root_names(struct rolled *r)
{
	int rc = zfuse_readdir(r->fs->zfs, r->fs->root, 0, add_name, r);
	if (rc < 0)
		zf_log(ZFUSE_LOG_WARN, "%s: cannot list the root directory: %s", r->fs->name,
		       zfuse_strerror(rc));
}

/* The snapshots the daemon has open. */
struct opened {
	struct zf_fs *head;
	char *name;
};

struct opened_list {
	struct opened *v;
	size_t n, cap;
};

static void note_open(void *arg, struct zf_fs *head, const struct zf_snap *s)
{
	struct opened_list *l = arg;

	if (zf_grow(&l->v, &l->cap, l->n, sizeof(*l->v), 16) != 0)
		return;	/* that one stays open: only a destroy of it fails */
	if ((l->v[l->n].name = strdup(s->name)))
		l->v[l->n++].head = head;
}

/* Whether a session holds a node of snap. */
static bool busy_anywhere(void *arg, struct zf_fs *snap)
{
	struct zf_serve *srv = arg;

	for (size_t i = 0; i < srv->n; i++) {
		uint64_t *ids;
		size_t n = zf_nodes_ids_of(srv->sess[i]->ll.nodes, snap, &ids);
		free(ids);
		if (n)
			return true;
	}
	return false;
}

/* How long a destroy waits for the kernel's forgets of snapshots. */
#define ZF_RELEASE_WAIT_MS 1000

/*
 * Before a verb that may destroy snapshots: the daemon's handles of the
 * snapshots nothing uses are closed (the library refuses to destroy an
 * open one, as OpenZFS a mounted one that is busy). The kernel is told to
 * drop its cached entries of each first; it forgets their nodes soon
 * after. A snapshot still in use (a working directory, an open file) stays
 * open, and destroying it fails as busy.
 */
static void release_snapshots(struct zf_serve *srv)
{
	struct opened_list l = { 0 };

	zf_snap_each_open(srv->tree, note_open, &l);
	for (size_t k = 0; k < l.n; k++) {
		struct zf_target t = { .kind = ZF_NODE_CTL_SNAPDIR, .fs = l.v[k].head };
		for (size_t i = 0; i < srv->n; i++) {
			struct sess *s = srv->sess[i];
			uint64_t id = sess_live(s) ? zf_nodes_find(s->ll.nodes, &t) : 0;
			if (id)
				fuse_lowlevel_notify_inval_entry(s->se, id, l.v[k].name,
								 strlen(l.v[k].name));
		}
	}
	for (int w = 0; l.n && w <= ZF_RELEASE_WAIT_MS / 10; w++) {
		size_t left = 0;
		for (size_t k = 0; k < l.n; k++)
			if (zf_snap_release(srv->tree, l.v[k].head, l.v[k].name, busy_anywhere,
					    srv) == -ZFUSE_E_BUSY)
				l.v[left++] = l.v[k];
			else
				free(l.v[k].name);
		l.n = left;
		if (l.n)
			usleep(10000);
	}
	for (size_t k = 0; k < l.n; k++) {
		zf_log(ZFUSE_LOG_INFO, "snapshot %s@%s is in use; it stays open",
		       l.v[k].head->name, l.v[k].name);
		free(l.v[k].name);
	}
	free(l.v);
}

/* Whether a short option cluster of argv (before "--") holds one of opts. */
static bool has_flag(int argc, char **argv, const char *opts)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (argv[i][0] == '-' && argv[i][1] != '-' && strpbrk(argv[i] + 1, opts))
			return true;
	return false;
}

/*
 * Before `destroy` or `rename` of filesystems (names, and with rec their
 * descendants): unmount those that have a mount of their own, deepest
 * first, and close the daemon's handles, as `zfs destroy` and `zfs rename`
 * unmount what they change (the library does not destroy an open
 * dataset). One whose mount is in use, or that is shown inside its
 * parent's mount, stays: a destroy of it then fails as busy. Afterwards
 * mount_new() mounts what is there: a renamed filesystem at its new
 * mountpoint, and what a failed verb left where it was.
 */
static void unmount_datasets(struct zf_serve *srv, char **ops, int nops, bool rec,
			     const char *why)
{
	for (size_t i = srv->n; i-- > 1;) {
		struct sess *s = srv->sess[i];
		struct zf_fs *fs = s->m->fs;
		bool hit = false;
		for (int k = 0; k < nops && !hit; k++) {
			size_t len = strlen(ops[k]);
			hit = !strchr(ops[k], '@') && strncmp(fs->name, ops[k], len) == 0 &&
			      (fs->name[len] == '\0' || (rec && fs->name[len] == '/'));
		}
		if (!hit || atomic_load(&fs->dead) || !sess_live(s) ||
		    zf_mount_state(s->m) != ZF_MOUNT_OWN)
			continue;
		if (zf_serve_remove(srv, s) != 0) {
			zf_log(ZFUSE_LOG_WARN, "%s is busy; dataset %s stays mounted", s->path,
			       fs->name);
			continue;
		}
		zf_tree_close_fs(srv->tree, fs);
		zf_log(ZFUSE_LOG_INFO, "dataset %s unmounted from %s to be %s", fs->name, s->path,
		       why);
	}
}

/* destroy -R: the clones it destroys may be mounted anywhere. */
static void unmount_dependents(struct zf_serve *srv, char *target)
{
	char **heads;
	size_t n;
	if (zf_destroy_heads(srv->tree->pool, target, &heads, &n) != 0)
		return;
	unmount_datasets(srv, heads, (int)n, false, "destroyed");
	for (size_t i = 0; i < n; i++)
		free(heads[i]);
	free(heads);
}

/* Whether verb sets or inherits mountpoint or canmount (the operands:
 * `set P=V... DS`, `inherit [-r] P DS`): the mounts of DS change. */
static bool moves_mounts(const struct zf_pool_verb *verb, char **ops, int n)
{
	bool set = strcmp(verb->name, "set") == 0, inherit = strcmp(verb->name, "inherit") == 0;

	for (int i = 0; (set || inherit) && i < n - 1; i++)
		if (strncmp(ops[i], "mountpoint", 10) == 0 || strncmp(ops[i], "canmount", 8) == 0)
			return true;
	return false;
}

static void *follow_before(void *arg, const struct zf_pool_verb *verb, int argc, char **argv)
{
	struct zf_serve *srv = arg;
	struct follow_ctx *ctx = calloc(1, sizeof(*ctx));
	char *ops[8];

	flush_mounts(srv);
	/* promote moves snapshots to another dir: none may stay open */
	if (strcmp(verb->name, "destroy") == 0 || strcmp(verb->name, "rollback") == 0 ||
	    strcmp(verb->name, "promote") == 0)
		release_snapshots(srv);
	char *names[16];
	int n = zf_verb_operands(verb, argc, argv, names, 16);
	bool destroy = strcmp(verb->name, "destroy") == 0 && !has_flag(argc, argv, "n");
	if (destroy)
		unmount_datasets(srv, names, n, has_flag(argc, argv, "rR"), "destroyed");
	if (destroy && n > 0 && has_flag(argc, argv, "R"))
		unmount_dependents(srv, names[0]);
	if (strcmp(verb->name, "unload-key") == 0 && n > 0)
		unmount_datasets(srv, &names[n - 1], 1, true, "locked (key unloaded)");
	else if (strcmp(verb->name, "rename") == 0 && n > 0)
		unmount_datasets(srv, names, 1, true, "renamed");	/* what moves */
	else if (moves_mounts(verb, names, n) && n > 0)
		unmount_datasets(srv, &names[n - 1], 1, true, "mounted again");
	if (!ctx || strcmp(verb->name, "rollback") != 0)
		return ctx;
	int nops = zf_verb_operands(verb, argc, argv, ops, 8);
	ctx->v = calloc((size_t)nops * srv->tree->nmounts + 1, sizeof(*ctx->v));
	for (int k = 0; ctx->v && k < nops; k++) {
		const char *at = strchr(ops[k], '@');
		size_t len = at ? (size_t)(at - ops[k]) : strlen(ops[k]);
		for (size_t i = 0; i < srv->tree->nmounts; i++) {
			struct zf_fs *fs = srv->tree->mounts[i]->fs;
			if (fs->snapshot || strlen(fs->name) != len || strncmp(fs->name, ops[k], len))
				continue;
			ctx->v[ctx->n].fs = fs;
			root_names(&ctx->v[ctx->n++]);
		}
	}
	/* What the mounts wrote (and the listing's atime) goes to disk first,
	 * as OpenZFS's rollback of a mounted filesystem waits for it. */
	if (zfuse_pool_sync(srv->tree->pool) < 0)
		zf_log(ZFUSE_LOG_WARN, "cannot write pool %s before the rollback",
		       zfuse_pool_name(srv->tree->pool));
	return ctx;
}

/* The session showing fs, the node id of fs's root in it and the junction
 * of that root (child mount paths below it); false when none shows it. */
static bool shown_in(struct sess *s, const struct zf_fs *fs, uint64_t *root_id,
		     const struct zf_junction **j)
{
	if (!sess_live(s))
		return false;
	if (s->m->fs == fs) {
		*root_id = FUSE_ROOT_ID;
		*j = s->m->top;
		return true;
	}
	struct zf_target t = { .kind = ZF_NODE_OBJ, .fs = (struct zf_fs *)fs, .obj = fs->root };
	*root_id = zf_nodes_find(s->ll.nodes, &t);
	*j = NULL;
	for (size_t i = 0; i < s->m->njunctions; i++)
		if (s->m->junctions[i]->mount && s->m->junctions[i]->mount->fs == fs)
			*j = s->m->junctions[i];
	return *root_id != 0;
}

/* Whether name in the root of fs leads to a mount of the tree (those that
 * zf_tree_grow() added are in no view). */
static bool leads_to_mount(const struct zf_tree *t, const struct zf_fs *fs, const char *name)
{
	const char *base = NULL;
	size_t len = strlen(name);

	for (size_t i = 0; i < t->nmounts && !base; i++)
		if (t->mounts[i]->fs == fs)
			base = t->mounts[i]->rel;
	if (!base)
		return false;
	size_t bl = strlen(base);
	for (size_t i = 0; i < t->nmounts; i++) {
		const char *rel = t->mounts[i]->rel;
		if (bl && (strncmp(rel, base, bl) != 0 || rel[bl] != '/'))
			continue;
		const char *below = bl ? rel + bl + 1 : rel;
		if (*below && strncmp(below, name, len) == 0 && (below[len] == '/' || !below[len]))
			return true;
	}
	return false;
}

static void inval_names(struct sess *s, const struct zf_fs *fs, uint64_t root_id,
			const struct zf_junction *j, char **names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		/* Dropping a mount path's entry would detach the mounts on it. */
		if (strcmp(names[i], ".zfs") == 0 || (j && zf_junction_kid(j, names[i])) ||
		    leads_to_mount(s->srv->tree, fs, names[i]))
			continue;
		fuse_lowlevel_notify_inval_entry(s->se, root_id, names[i], strlen(names[i]));
	}
}

static void inval_rolled(struct zf_serve *srv, struct rolled *r)
{
	struct rolled after = { .fs = r->fs };

	root_names(&after);
	for (size_t i = 0; i < srv->n; i++) {
		struct sess *s = srv->sess[i];
		const struct zf_junction *j;
		uint64_t root_id, *ids;
		if (!shown_in(s, r->fs, &root_id, &j))
			continue;
		zf_prefill_changed(s->ll.prefill);	/* a store in flight may hold old data */
		inval_names(s, r->fs, root_id, j, r->names, r->n);
		inval_names(s, r->fs, root_id, j, after.names, after.n);
		size_t n = zf_nodes_ids_of(s->ll.nodes, r->fs, &ids);
		for (size_t k = 0; k < n; k++)
			fuse_lowlevel_notify_inval_inode(s->se, ids[k], 0, 0);
		free(ids);
		zf_log(ZFUSE_LOG_INFO, "%s rolled back: %zu cached nodes of %s invalidated",
		       r->fs->name, n, s->path);
	}
	for (size_t i = 0; i < after.n; i++)
		free(after.names[i]);
	free(after.names);
}

/* snapdir=visible|hidden takes effect at once, as in OpenZFS: the root of
 * each filesystem whose value changed lists .zfs (and counts it as a
 * link) or not. .zfs stays reachable by name either way. */
static void snapdir_follow(struct zf_serve *srv)
{
	struct zf_tree *t = srv->tree;
	for (size_t m = 0; m < t->nmounts; m++) {
		struct zf_fs *fs = t->mounts[m]->fs;
		struct zfuse_prop_value v;
		if (fs->snapshot || zfuse_prop_get(t->pool, fs->name, "snapdir", false, &v) != 0)
			continue;
		bool visible = strcmp(v.value, "visible") == 0;
		if (visible == fs->snapdir_visible)
			continue;
		fs->snapdir_visible = visible;
		zf_log(ZFUSE_LOG_DEBUG, "%s: snapdir=%s", fs->name, v.value);
		for (size_t i = 0; i < srv->n; i++) {
			const struct zf_junction *j;
			uint64_t root_id;
			if (shown_in(srv->sess[i], fs, &root_id, &j))
				fuse_lowlevel_notify_inval_inode(srv->sess[i]->se, root_id, 0, 0);
		}
	}
}

/* A snapshot appeared in or went from head's .zfs/snapshot. */
static void snap_changed(void *arg, struct zf_fs *head, const char *name, bool added)
{
	struct zf_serve *srv = arg;
	struct zf_target t = { .kind = ZF_NODE_CTL_SNAPDIR, .fs = head };

	zf_log(ZFUSE_LOG_DEBUG, "snapshot %s@%s %s", head->name, name,
	       added ? "appeared" : "went away");
	for (size_t i = 0; i < srv->n; i++) {
		struct sess *s = srv->sess[i];
		uint64_t id = sess_live(s) ? zf_nodes_find(s->ll.nodes, &t) : 0;
		if (!id)
			continue;
		fuse_lowlevel_notify_inval_entry(s->se, id, name, strlen(name));
		fuse_lowlevel_notify_inval_inode(s->se, id, 0, 0);
	}
}

/* mkdir -p of path (absolute) down from the mount point, which exists. */
static int make_dirs(const char *top, const char *path)
{
	char *p = strdup(path);
	int rc = 0;

	if (!p)
		return -ENOMEM;
	for (char *c = p + strlen(top) + 1; rc == 0; c++) {
		if (*c != '/' && *c != '\0')
			continue;
		char was = *c;
		*c = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			rc = -errno;
		*c = was;
		if (!was)
			break;
	}
	free(p);
	return rc;
}

/* Mount the filesystems the tree would show now and lacks. */
static void mount_new(struct zf_serve *srv)
{
	struct zf_mount **added;
	size_t n;
	int rc = zf_tree_grow(srv->tree, &added, &n);

	if (rc < 0)
		zf_log(ZFUSE_LOG_WARN, "cannot look for new datasets: %s", zfuse_strerror(rc));
	for (size_t i = 0; i < n; i++) {
		struct zf_mount *m = added[i];
		char *path;
		if (asprintf(&path, "%s/%s", srv->o->mountpoint, m->rel) < 0)
			continue;
		rc = make_dirs(srv->o->mountpoint, path);
		if (rc == 0)
			rc = zf_serve_add(srv, m);
		if (rc < 0)
			zf_log(ZFUSE_LOG_WARN, "new dataset %s is not mounted at %s until the next "
			       "mount: %s", m->fs->name, path, rc == -ENOTSUP ?
			       "child datasets are shown inside their parent's mount" : strerror(-rc));
		free(path);
	}
	free(added);
}

static void follow_after(void *arg, void *vctx, const struct zf_pool_verb *verb, int argc,
			 char **argv, int status)
{
	struct zf_serve *srv = arg;
	struct follow_ctx *ctx = vctx;

	(void)verb;
	(void)argc;
	(void)argv;
	(void)status;	/* a failed verb may have done part of its work */
	int rc = zf_tree_refresh_snaps(srv->tree, snap_changed, srv);
	if (rc < 0)
		zf_log(ZFUSE_LOG_WARN, "cannot re-read the snapshots of pool %s: %s",
		       zfuse_pool_name(srv->tree->pool), zfuse_strerror(rc));
	mount_new(srv);
	snapdir_follow(srv);
	for (size_t i = 0; ctx && i < ctx->n; i++) {
		inval_rolled(srv, &ctx->v[i]);
		for (size_t k = 0; k < ctx->v[i].n; k++)
			free(ctx->v[i].names[k]);
		free(ctx->v[i].names);
	}
	if (ctx)
		free(ctx->v);
	free(ctx);
}

struct zf_control_hooks zf_follow_hooks(struct zf_serve *srv)
{
	struct zf_control_hooks h = { .before = follow_before, .after = follow_after, .arg = srv };
	return h;
}
