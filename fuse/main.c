/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * main.c — the zfuse binary's entry point: picks the subcommand and owns
 * the commands that need no pool (help, version). Adding a command means
 * one cmd_NAME.c and one line in the table below.
 */
#include <stdio.h>
#include <string.h>
#include "cmd.h"
#include "json.h"
#include "pool_verb.h"
#include "zfuse_ll.h"	/* for the libfuse version */

static int cmd_help(int argc, char **argv);
static void cmd_help_usage(FILE *out);
static int cmd_version(int argc, char **argv);
static void cmd_version_usage(FILE *out);

static const struct zf_cmd commands[] = {
	{ "mount", "mount a pool image through FUSE (read-write when it can be written)", cmd_mount, cmd_mount_usage, NULL },
	{ "unmount", "unmount a zfuse mount and its child datasets' mounts", cmd_unmount,
	  cmd_unmount_usage, NULL },
	{ "umount", "the same as unmount", cmd_unmount, cmd_unmount_usage, NULL },
	{ "create", "create a pool on image files (as zpool create), or a filesystem in one "
	  "(as zfs create)", cmd_create, cmd_create_usage, NULL },
	{ "inspect", "look inside pool images (labels, objects, blocks, verify)", cmd_inspect,
	  cmd_inspect_usage, NULL },
	{ .name = "list", .verb = &zf_verb_list },
	{ .name = "get", .verb = &zf_verb_get },
	{ .name = "set", .verb = &zf_verb_set },
	{ .name = "inherit", .verb = &zf_verb_inherit },
	{ .name = "userspace", .verb = &zf_verb_userspace },
	{ .name = "groupspace", .verb = &zf_verb_groupspace },
	{ .name = "projectspace", .verb = &zf_verb_projectspace },
	{ .name = "snapshot", .verb = &zf_verb_snapshot },
	{ .name = "bookmark", .verb = &zf_verb_bookmark },
	{ .name = "destroy", .verb = &zf_verb_destroy },
	{ .name = "rollback", .verb = &zf_verb_rollback },
	{ .name = "clone", .verb = &zf_verb_clone },
	{ .name = "rename", .verb = &zf_verb_rename },
	{ .name = "promote", .verb = &zf_verb_promote },
	{ .name = "hold", .verb = &zf_verb_hold },
	{ .name = "release", .verb = &zf_verb_release },
	{ .name = "holds", .verb = &zf_verb_holds },
	{ .name = "load-key", .verb = &zf_verb_load_key },
	{ .name = "unload-key", .verb = &zf_verb_unload_key },
	{ .name = "change-key", .verb = &zf_verb_change_key },
	{ .name = "status", .verb = &zf_verb_status },
	{ .name = "scrub", .verb = &zf_verb_scrub },
	{ .name = "clear", .verb = &zf_verb_clear },
	{ "version", "print the versions of zfuse and libfuse, and what it supports", cmd_version, cmd_version_usage, NULL },
	{ "help", "show help for a command", cmd_help, cmd_help_usage, NULL },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct zf_cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: zfuse COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-9s %s\n", commands[i].name,
			commands[i].verb ? commands[i].verb->summary : commands[i].summary);
	fprintf(out, "\nRun 'zfuse help COMMAND' for a command's options.\n");
}

static void cmd_help_usage(FILE *out)
{
	fprintf(out, "usage: zfuse help [COMMAND]\n");
}

static int cmd_help(int argc, char **argv)
{
	if (argc < 2) {
		usage(stdout);
		return ZF_EXIT_OK;
	}
	if (argc > 2) {
		fprintf(stderr, "zfuse: help takes at most one command\n");
		cmd_help_usage(stderr);
		return ZF_EXIT_USAGE;
	}
	const struct zf_cmd *c = find_cmd(argv[1]);
	if (!c) {
		fprintf(stderr, "zfuse: unknown command '%s'\n", argv[1]);
		usage(stderr);
		return ZF_EXIT_USAGE;
	}
	if (c->verb)
		c->verb->usage(stdout);
	else
		c->usage(stdout);
	return ZF_EXIT_OK;
}

static void cmd_version_usage(FILE *out)
{
	fprintf(out, "usage: zfuse version [-j|--json]\n"
		     "  -j: one JSON document, with the pool versions and every feature zfuse\n"
		     "  reads and writes.\n");
}

static int print_feature(void *arg, const struct zfuse_feature_support *f)
{
	zf_json_t *j = arg;
	zj_obj_begin(j, NULL);
	zj_str(j, "name", f->name);
	zj_str(j, "guid", f->guid);
	zj_bool(j, "read", f->reads);
	zj_bool(j, "write", f->writes);
	zj_bool(j, "read_only_compatible", f->readonly_compat);
	zj_obj_end(j);
	return 0;
}

static int cmd_version(int argc, char **argv)
{
	bool json = argc == 2 && (strcmp(argv[1], "-j") == 0 || strcmp(argv[1], "--json") == 0);
	if (argc > 1 && !json) {
		fprintf(stderr, "zfuse: version takes no arguments but -j\n");
		cmd_version_usage(stderr);
		return ZF_EXIT_USAGE;
	}
	if (!json) {
		printf("zfuse %s\n", ZFUSE_VERSION_STRING);
		printf("libfuse %s (FUSE API %d.%d)\n", fuse_pkgversion(),
		       FUSE_USE_VERSION / 100, FUSE_USE_VERSION % 100);
		return ZF_EXIT_OK;
	}
	char api[16];
	snprintf(api, sizeof(api), "%d.%d", FUSE_USE_VERSION / 100, FUSE_USE_VERSION % 100);
	zf_json_t j;
	zj_begin_output(&j, stdout, "zfuse version");
	zj_str(&j, "zfuse", ZFUSE_VERSION_STRING);
	zj_str(&j, "libfuse", fuse_pkgversion());
	zj_str(&j, "fuse_api", api);
	zj_obj_begin(&j, "pool_versions");
	zj_u64(&j, "read_min", 1);
	zj_u64(&j, "read_max", ZFUSE_SPA_VERSION_LEGACY_MAX);
	zj_u64(&j, "features", ZFUSE_SPA_VERSION_FEATURES);
	zj_u64(&j, "created", ZFUSE_SPA_VERSION_FEATURES);
	zj_obj_end(&j);
	zj_arr_begin(&j, "features");
	zfuse_feature_support_iter(print_feature, &j);
	zj_arr_end(&j);
	zj_obj_end(&j);
	zj_finish(&j);
	return ZF_EXIT_OK;
}

int main(int argc, char **argv)
{
	const char *self = argv[0] ? strrchr(argv[0], '/') : NULL;
	self = self ? self + 1 : argv[0] ? argv[0] : "";
	if (strcmp(self, "mount.zfuse") == 0 || strcmp(self, "mount.fuse.zfuse") == 0)
		return zf_mount_helper(argc, argv);
	if (strcmp(self, "umount.zfuse") == 0 || strcmp(self, "umount.fuse.zfuse") == 0)
		return zf_umount_helper(argc, argv);
	if (argc < 2) {
		fprintf(stderr, "zfuse: no command given\n");
		usage(stderr);
		return ZF_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
		return cmd_help(argc - 1, argv + 1);
	if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0)
		return cmd_version(1, argv + 1);
	const struct zf_cmd *c = find_cmd(name);
	if (!c) {
		if (name[0] == '-')
			fprintf(stderr, "zfuse: unknown option '%s'\n", name);
		else
			fprintf(stderr, "zfuse: unknown command '%s'\n", name);
		usage(stderr);
		return ZF_EXIT_USAGE;
	}
	if (c->verb)
		return zf_pool_verb_main(c->verb, argc - 1, argv + 1);
	return c->run(argc - 1, argv + 1);
}
