/*
 * submounts.c — child dataset mounts as separate processes (see
 * submounts.h). A process per dataset keeps every session independent:
 * its own node table, its own st_dev, its own lifetime; the parent only
 * spawns, watches the mount table, and stops its children first when it
 * stops.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "submounts.h"

extern char **environ;

struct child {
	char *dataset;
	char *path;
	pid_t pid;
	bool mounted;
};

struct zf_submounts {
	pthread_t thread;
	pthread_mutex_t lock;
	bool stopping;
	struct child *kids;
	size_t nkids;
	char *base_opts;
	char **paths;
	size_t npaths;
	int verbose;
};

/* Unescape mountinfo's octal escapes (\040 for space) in place. */
static void unescape(char *s)
{
	char *d = s;
	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] && s[3]) {
			*d++ = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = 0;
}

static bool is_mounted(const char *path)
{
	char **list;
	if (zf_mounts_below(path, &list) != 0)
		return false;
	bool found = false;
	for (char **p = list; *p; p++) {
		found |= strcmp(*p, path) == 0;
		free(*p);
	}
	free(list);
	return found;
}

static int depth_cmp(const void *a, const void *b)
{
	size_t da = 0, db = 0;
	for (const char *p = *(char *const *)a; *p; p++)
		da += *p == '/';
	for (const char *p = *(char *const *)b; *p; p++)
		db += *p == '/';
	return da < db ? 1 : da > db ? -1 : 0;
}

int zf_mounts_below(const char *mountpoint, char ***out)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return -errno;
	char *line = NULL;
	size_t cap = 0, n = 0, len = strlen(mountpoint);
	char **v = calloc(1, sizeof(*v));
	while (v && getline(&line, &cap, f) > 0) {
		/* id parent maj:min root mountpoint opts [optional...] - fstype src sopts */
		char *fields[6] = { 0 }, *save = NULL, *tok = strtok_r(line, " ", &save);
		int i = 0;
		for (; tok && i < 5; tok = strtok_r(NULL, " ", &save))
			fields[i++] = tok;
		char *fstype = NULL;
		for (; tok; tok = strtok_r(NULL, " ", &save)) {
			if (strcmp(tok, "-") == 0) {
				fstype = strtok_r(NULL, " ", &save);
				break;
			}
		}
		if (i < 5 || !fstype || strcmp(fstype, "fuse.zfuse") != 0)
			continue;
		char *mp = fields[4];
		unescape(mp);
		if (strncmp(mp, mountpoint, len) != 0 || (mp[len] && mp[len] != '/'))
			continue;
		char **nv = realloc(v, (n + 2) * sizeof(*nv));
		if (!nv)
			break;
		v = nv;
		v[n++] = strdup(mp);
		v[n] = NULL;
	}
	free(line);
	fclose(f);
	if (!v)
		return -ENOMEM;
	if (n > 1)
		qsort(v, n, sizeof(*v), depth_cmp);
	*out = v;
	return 0;
}

static bool direct_child(const struct zf_tree *t, const struct zf_junction *j)
{
	if (!j->fs || j == t->top)
		return false;
	const struct zf_junction *p = j->parent;
	while (p && !p->fs)
		p = p->parent;
	return p && p->fs == t->root;
}

static void spawn_one(struct zf_submounts *s, struct child *c)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return;
	self[n] = 0;
	char *opts;
	if (asprintf(&opts, "%s%sdataset=%s", s->base_opts, *s->base_opts ? "," : "", c->dataset) < 0)
		return;
	size_t argc = 0;
	char **argv = calloc(s->npaths + 10, sizeof(*argv));
	if (!argv) {
		free(opts);
		return;
	}
	argv[argc++] = self;
	argv[argc++] = "mount";
	argv[argc++] = "-f";
	for (int v = 0; v < s->verbose && v < 2; v++)
		argv[argc++] = "-v";
	argv[argc++] = "-o";
	argv[argc++] = opts;
	for (size_t i = 0; i < s->npaths; i++)
		argv[argc++] = s->paths[i];
	argv[argc++] = c->path;
	argv[argc] = NULL;
	pid_t pid;
	if (posix_spawn(&pid, self, NULL, NULL, argv, environ) == 0) {
		c->pid = pid;
		/* Wait for the mount to appear (or the child to give up) so
		 * that this dataset's own children find their mount points. */
		for (int i = 0; i < 400; i++) {
			if (is_mounted(c->path)) {
				c->mounted = true;
				break;
			}
			int st;
			if (waitpid(pid, &st, WNOHANG) == pid) {
				c->pid = 0;
				break;
			}
			struct timespec ts = { 0, 25 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	if (!c->mounted)
		zf_log(ZFUSE_LOG_WARN, "dataset %s could not get its own mount at %s; it is shown "
		       "inside its parent's mount (sharing its st_dev)", c->dataset, c->path);
	free(opts);
	free(argv);
}

static void *spawner(void *arg)
{
	struct zf_submounts *s = arg;
	for (size_t i = 0; i < s->nkids; i++) {
		pthread_mutex_lock(&s->lock);
		bool stop = s->stopping;
		pthread_mutex_unlock(&s->lock);
		if (stop)
			break;
		spawn_one(s, &s->kids[i]);
	}
	return NULL;
}

struct zf_submounts *zf_submounts_start(const struct zf_tree *t, const char *mountpoint,
					const char *base_opts, const char *const *paths,
					size_t npaths, int verbose)
{
	struct zf_submounts *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	s->base_opts = strdup(base_opts ? base_opts : "");
	s->paths = calloc(npaths ? npaths : 1, sizeof(char *));
	s->kids = calloc(t->njunctions ? t->njunctions : 1, sizeof(*s->kids));
	s->verbose = verbose;
	for (size_t i = 0; s->paths && i < npaths; i++)
		s->paths[i] = strdup(paths[i]);
	s->npaths = npaths;
	for (size_t i = 0; s->kids && i < t->njunctions; i++) {
		const struct zf_junction *j = t->junctions[i];
		if (!direct_child(t, j))
			continue;
		struct child *c = &s->kids[s->nkids];
		c->dataset = strdup(j->fs->name);
		if (asprintf(&c->path, "%s/%s", mountpoint, j->path) < 0)
			c->path = NULL;
		if (c->dataset && c->path)
			s->nkids++;
	}
	if (s->nkids && pthread_create(&s->thread, NULL, spawner, s) != 0)
		s->nkids = 0;
	return s;
}

void zf_submounts_stop(struct zf_submounts *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_mutex_unlock(&s->lock);
	if (s->nkids)
		pthread_join(s->thread, NULL);
	/* Deepest first: a child stops its own children before unmounting. */
	for (size_t i = s->nkids; i-- > 0;) {
		struct child *c = &s->kids[i];
		if (c->pid > 0) {
			kill(c->pid, SIGTERM);
			int st;
			while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR)
				;
		}
		free(c->dataset);
		free(c->path);
	}
	for (size_t i = 0; i < s->npaths; i++)
		free(s->paths[i]);
	free(s->paths);
	free(s->kids);
	free(s->base_opts);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
