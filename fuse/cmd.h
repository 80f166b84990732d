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
};

int cmd_create(int argc, char **argv);
void cmd_create_usage(FILE *out);
int cmd_inspect(int argc, char **argv);
void cmd_inspect_usage(FILE *out);
int cmd_mount(int argc, char **argv);
int cmd_unmount(int argc, char **argv);
void cmd_unmount_usage(FILE *out);
void cmd_mount_usage(FILE *out);
/* zfs-style verbs on a pool (cmd_prop.c, through pool_verb.c). */
int cmd_list(int argc, char **argv);
void cmd_list_usage(FILE *out);
int cmd_get(int argc, char **argv);
void cmd_get_usage(FILE *out);
int cmd_set(int argc, char **argv);
void cmd_set_usage(FILE *out);
int cmd_inherit(int argc, char **argv);
void cmd_inherit_usage(FILE *out);
/* (cmd_dataset.c) */
int cmd_snapshot(int argc, char **argv);
void cmd_snapshot_usage(FILE *out);
int cmd_destroy(int argc, char **argv);
void cmd_destroy_usage(FILE *out);
int cmd_rollback(int argc, char **argv);
int cmd_clone(int argc, char **argv);
int cmd_rename(int argc, char **argv);
int cmd_hold(int argc, char **argv);
int cmd_release(int argc, char **argv);
int cmd_holds(int argc, char **argv);
void cmd_hold_usage(FILE *out);
void cmd_rename_usage(FILE *out);
void cmd_clone_usage(FILE *out);
void cmd_rollback_usage(FILE *out);
/* `zfuse create` names a dataset (one operand with a '/'), not a pool. */
bool cmd_create_is_dataset(int argc, char **argv);
/* "123", "16M", "2G" (K/M/G/T powers of 1024) into *out; -1 if malformed. */
int zf_parse_size(const char *s, uint64_t *out);
int cmd_create_dataset(int argc, char **argv);
/* mount(8)/umount(8) helpers (cmd_mount_helper.c), chosen by argv[0]. */
int zf_mount_helper(int argc, char **argv);
int zf_umount_helper(int argc, char **argv);

#endif
