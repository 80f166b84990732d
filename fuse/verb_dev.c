/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * verb_dev.c — TEMPORARY: two verbs to develop the control socket against
 * until cmd_dataset.c's are merged (then this file goes).
 */
#include <stdio.h>
#include <string.h>
#include "cmd.h"
#include "pool_verb.h"
#include "zfuse/dataset.h"

static int dev_list_cb(const struct zfuse_dataset_info *info, void *arg)
{
	fprintf(arg, "%s\n", info->name);
	return 0;
}

static int dev_list(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err)
{
	(void)argc;
	(void)argv;
	int rc = zfuse_dataset_iter(pool, dev_list_cb, out);
	if (rc < 0)
		fprintf(err, "zfuse: %s\n", zfuse_strerror(rc));
	return rc < 0 ? ZF_EXIT_FAIL : ZF_EXIT_OK;
}

static int dev_snapshot(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err)
{
	(void)out;
	if (argc != 2)
		return ZF_EXIT_USAGE;
	const char *names[] = { argv[1] };
	int rc = zfuse_snapshot(pool, names, 1);
	if (rc < 0)
		fprintf(err, "zfuse: cannot snapshot %s: %s\n", argv[1], zfuse_strerror(rc));
	return rc < 0 ? ZF_EXIT_FAIL : ZF_EXIT_OK;
}

static int dev_create(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err)
{
	(void)out;
	if (argc != 2)
		return ZF_EXIT_USAGE;
	int rc = zfuse_dataset_create(pool, argv[1], 0, NULL, 0);
	if (rc < 0)
		fprintf(err, "zfuse: cannot create %s: %s\n", argv[1], zfuse_strerror(rc));
	return rc < 0 ? ZF_EXIT_FAIL : ZF_EXIT_OK;
}

static int dev_destroy(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err)
{
	(void)out;
	if (argc != 2)
		return ZF_EXIT_USAGE;
	int rc = strchr(argv[1], '@') ? zfuse_snapshot_destroy(pool, argv[1]) :
		 zfuse_dataset_destroy(pool, argv[1]);
	if (rc < 0)
		fprintf(err, "zfuse: cannot destroy %s: %s\n", argv[1], zfuse_strerror(rc));
	return rc < 0 ? ZF_EXIT_FAIL : ZF_EXIT_OK;
}

static int dev_rollback(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err)
{
	(void)out;
	if (argc != 2)
		return ZF_EXIT_USAGE;
	int rc = zfuse_rollback(pool, argv[1]);
	if (rc < 0)
		fprintf(err, "zfuse: cannot roll back to %s: %s\n", argv[1], zfuse_strerror(rc));
	return rc < 0 ? ZF_EXIT_FAIL : ZF_EXIT_OK;
}

const struct zf_pool_verb zf_verb_dev_destroy = {
	.name = "destroy", .changes = true, .optstring = "", .run = dev_destroy,
};
const struct zf_pool_verb zf_verb_dev_rollback = {
	.name = "rollback", .changes = true, .optstring = "rRf", .run = dev_rollback,
};
const struct zf_pool_verb zf_verb_dev_create = {
	.name = "dev-create", .changes = true, .optstring = "", .run = dev_create,
};
const struct zf_pool_verb zf_verb_dev_list = {
	.name = "dev-list", .optstring = "", .pool_operand = -1, .run = dev_list,
};
const struct zf_pool_verb zf_verb_dev_snapshot = {
	.name = "dev-snapshot", .changes = true, .optstring = "", .run = dev_snapshot,
};
