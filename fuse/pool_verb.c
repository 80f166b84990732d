/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * pool_verb.c — where a zfs-style verb runs (pool_verb.h): on the daemon
 * that has the pool mounted, through its control socket, or else on the
 * pool's images opened here.
 *
 * Theory: the pool is named by the verb's dataset operand (the part
 * before the first '/', '@' or '#'), found by running getopt with the
 * verb's option string over a copy of argv. Image locations are this
 * command's own option, `-d DIR|IMAGE` (repeatable, as `zpool import -d`;
 * also `--dir`), taken out of argv before the verb parses it. As `zfs
 * list -d DEPTH` uses -d too, a -d whose argument is a plain number is
 * left to the verb. A verb that changes the pool needs it read-write:
 * when the import cannot give that (a daemon holds the images' write
 * lock, a feature zfuse does not write) the command says why and fails.
 */
#include <ctype.h>
#include <limits.h>
#include <sys/stat.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"
#include "control.h"
#include "log.h"
#include "mtab.h"
#include "pool_verb.h"
#include "zfuse/status.h"

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Move -d/--dir image arguments of argv into paths; argv keeps the rest. */
static int take_dirs(int *argc, char **argv, const char **paths, size_t *npaths)
{
	int out = 1;
	bool done = false;
	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		if (!done && strcmp(a, "--") == 0) {
			done = true;
		} else if (!done && (strcmp(a, "-d") == 0 || strcmp(a, "--dir") == 0) &&
			   i + 1 < *argc && (a[1] == '-' || !all_digits(argv[i + 1]))) {
			val = argv[++i];
		} else if (!done && strncmp(a, "--dir=", 6) == 0) {
			val = a + 6;
		} else if (!done && strncmp(a, "-d", 2) == 0 && a[2] && !all_digits(a + 2)) {
			val = a + 2;
		}
		if (val)
			paths[(*npaths)++] = val;
		else
			argv[out++] = argv[i];
	}
	argv[out] = NULL;
	*argc = out;
	return 0;
}

/* The pool named by the verb's dataset operand, or NULL. */
static char *pool_of(const struct zf_pool_verb *verb, int argc, char **argv)
{
	if (verb->pool_operand == -1)
		return NULL;
	char **copy = calloc((size_t)argc + 1, sizeof(*copy));
	if (!copy)
		return NULL;
	memcpy(copy, argv, (size_t)argc * sizeof(*copy));
	char optstring[128];
	snprintf(optstring, sizeof(optstring), ":%s", verb->optstring);
	opterr = 0;
	optind = 0;
	while (getopt(argc, copy, optstring) != -1)
		;
	int nops = argc - optind;
	int idx = verb->pool_operand == ZF_POOL_OPERAND_LAST ? nops - 1 : verb->pool_operand;
	char *pool = NULL;
	/* A short name ("#mark" of `bookmark`) leaves the pool to another. */
	for (int i = 0; idx >= 0 && idx < nops && strchr("@#", copy[optind + idx][0]) &&
			copy[optind + idx][0] && i < nops; i++)
		idx = i;
	if (idx >= 0 && idx < nops) {
		char *op = copy[optind + idx];
		char *ds = NULL, real[PATH_MAX];
		/* A zfuse mount point stands for the dataset it shows; the
		 * verb sees the name. (A relative dataset name that is also a
		 * directory here is that dataset's mount point, or no zfuse
		 * mount at all.) */
		struct stat sb;
		if (stat(op, &sb) == 0 && S_ISDIR(sb.st_mode) && realpath(op, real) &&
		    zf_mount_dataset(real, &ds) == 0) {
			for (int i = 0; i < argc; i++)
				if (argv[i] == op)
					argv[i] = ds;	/* lives as long as the command */
			op = ds;
		}
		pool = strdup(op);
		if (pool)
			pool[strcspn(pool, "/@#")] = 0;
		if (pool && !*pool) {
			free(pool);
			pool = NULL;
		}
	}
	free(copy);
	optind = 0;
	opterr = 1;
	return pool;
}

int zf_pool_verb_main(const struct zf_pool_verb *verb, int argc, char **argv)
{
	const char **paths = calloc((size_t)argc + 1, sizeof(*paths));
	if (!paths)
		return ZF_EXIT_FAIL;
	size_t npaths = 0;
	take_dirs(&argc, argv, paths, &npaths);
	/* zfs's long options for JSON, as the short ones the verbs parse. */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--json") == 0)
			argv[i] = "-j";
		else if (strcmp(argv[i], "--json-int") == 0)
			argv[i] = "-J";
	}
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			verb->usage(stdout);
			free(paths);
			return ZF_EXIT_OK;
		}
	char *poolname = pool_of(verb, argc, argv);
	if (poolname) {
		int rc = zf_control_call(poolname, argc, argv);
		if (rc >= 0) {
			free(poolname);
			free(paths);
			return rc;
		}
	}
	if (!npaths) {
		if (poolname)
			fprintf(stderr, "zfuse %s: pool '%s' is not mounted by a zfuse daemon; give its "
				"images with -d DIR|IMAGE\n", verb->name, poolname);
		else
			fprintf(stderr, "zfuse %s: no pool named; give its images with -d DIR|IMAGE\n",
				verb->name);
		verb->usage(stderr);
		free(poolname);
		free(paths);
		return ZF_EXIT_USAGE;
	}
	struct zfuse_import_opts io = { 0 };
	io.paths = paths;
	io.npaths = npaths;
	io.pool_name = poolname;
	io.readwrite = verb->changes;
	io.log = zf_log_backend;
	io.log_level = zf_log_level();
	zfuse_pool_t *pool;
	int rc = zfuse_pool_import(&io, &pool);
	if (rc) {
		fprintf(stderr, "zfuse %s: cannot import %s: %s\n", verb->name,
			poolname ? poolname : "the pool", zfuse_strerror(rc));
		free(poolname);
		free(paths);
		return ZF_EXIT_FAIL;
	}
	int status;
	if (verb->changes && !zfuse_pool_writable(pool)) {
		const char *why = zfuse_pool_readonly_reason(pool);
		fprintf(stderr, "zfuse %s: pool '%s' cannot be written: %s\n", verb->name,
			zfuse_pool_name(pool), why ? why : "it was imported read-only");
		status = ZF_EXIT_FAIL;
	} else {
		optind = 0;
		zf_log_capture(stderr);
		status = verb->run(pool, argc, argv, stdout, stderr);
		zf_log_capture(NULL);
		if (verb->changes && (rc = zfuse_pool_sync(pool)) != 0) {
			fprintf(stderr, "zfuse %s: sync of pool '%s' failed: %s\n", verb->name,
				zfuse_pool_name(pool), zfuse_strerror(rc));
			status = ZF_EXIT_FAIL;
		}
	}
	fflush(stdout);
	zfuse_scrub_wait(pool);	/* a scrub the verb started ends before the images close */
	zfuse_pool_close(pool);
	free(poolname);
	free(paths);
	return status;
}
