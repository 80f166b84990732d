/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * cmd.h — the subcommands of the zfuse binary. Each lives in its own
 * cmd_NAME.c and is listed once in main.c's table; main() owns dispatch,
 * `help` and `version`, a command owns its options and its usage text.
 *
 * Exit status convention: 0 success, 1 failure, 2 usage error.
 */
#ifndef ZFUSE_FUSE_CMD_H
#define ZFUSE_FUSE_CMD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define ZF_EXIT_OK 0
#define ZF_EXIT_FAIL 1
#define ZF_EXIT_USAGE 2

struct zf_cmd {
	const char *name;
	const char *summary;	/* one line for `zfuse help` */
	/* argv[0] is the command name. */
	int (*run)(int argc, char **argv);
	void (*usage)(FILE *out);
	/* zfs-style verbs: run through zf_pool_verb_main (pool_verb.h),
	 * run and usage NULL. */
	const struct zf_pool_verb *verb;
};
struct zf_pool_verb;

int cmd_create(int argc, char **argv);
void cmd_create_usage(FILE *out);
int cmd_inspect(int argc, char **argv);
void cmd_inspect_usage(FILE *out);
int cmd_mount(int argc, char **argv);
int cmd_unmount(int argc, char **argv);
void cmd_unmount_usage(FILE *out);
void cmd_mount_usage(FILE *out);
/* `zfuse create` names a dataset (one operand with a '/'), not a pool. */
bool cmd_create_is_dataset(int argc, char **argv);
/* "123", "16M", "2G" (K/M/G/T powers of 1024) into *out; -1 if malformed. */
int zf_parse_size(const char *s, uint64_t *out);
int cmd_create_dataset(int argc, char **argv);
/* mount(8)/umount(8) helpers (cmd_mount_helper.c), chosen by argv[0]. */
int zf_mount_helper(int argc, char **argv);
int zf_umount_helper(int argc, char **argv);

#endif
