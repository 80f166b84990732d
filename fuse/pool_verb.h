/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * pool_verb.h — the zfs-style verbs of the zfuse binary (snapshot, destroy,
 * rollback, clone, list, get, set, inherit, and create of a dataset).
 *
 * A verb is written once, against an imported pool, and runs wherever that
 * pool is:
 *   - not mounted: the command imports the images (`-d DIR|IMAGE`, as
 *     `zpool import -d`), runs the verb, syncs and closes the pool;
 *   - mounted by a zfuse daemon: the command sends its argv over that
 *     pool's control socket, the daemon runs the same verb on its pool and
 *     sends out/err and the exit status back, then makes its mounts follow.
 * pool_verb.c owns both paths; each cmd_*.c owns its verbs' options,
 * usage and output.
 */
#ifndef ZFUSE_FUSE_POOL_VERB_H
#define ZFUSE_FUSE_POOL_VERB_H

#include <stdbool.h>
#include <stdio.h>
#include "zfuse/zfuse.h"

#define ZF_POOL_OPERAND_LAST (-2)

struct zf_pool_verb {
	const char *name;
	const char *summary;	/* one line for `zfuse help` */
	bool changes;		/* needs the pool read-write */
	/* getopt(3) option string of the verb, used to find its operands. */
	const char *optstring;
	/* Which operand names a dataset of the pool addressed (0: the
	 * first; ZF_POOL_OPERAND_LAST: the last, as `set P=V... DS`); -1:
	 * none needed. A verb may be given fewer operands (`list` with none):
	 * then no daemon is asked and -d must name the images. */
	int pool_operand;
	/* argv[0] is the verb; pool-locating options (-d) are already taken
	 * out. Output goes to out, messages to err. Returns ZF_EXIT_*. */
	int (*run)(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err);
	void (*usage)(FILE *out);
};

/* The `zfuse VERB ...` entry point for every verb above. */
int zf_pool_verb_main(const struct zf_pool_verb *verb, int argc, char **argv);

/* The verbs (cmd_dataset.c, cmd_prop.c). */
extern const struct zf_pool_verb zf_verb_snapshot, zf_verb_bookmark, zf_verb_destroy, zf_verb_rollback,
	zf_verb_clone, zf_verb_rename, zf_verb_hold, zf_verb_release, zf_verb_holds, zf_verb_create_dataset, zf_verb_list, zf_verb_get, zf_verb_set,
	zf_verb_inherit, zf_verb_promote, zf_verb_load_key, zf_verb_unload_key,
	zf_verb_change_key;
/* cmd_userspace.c */
extern const struct zf_pool_verb zf_verb_userspace, zf_verb_groupspace, zf_verb_projectspace;
/* cmd_status.c */
extern const struct zf_pool_verb zf_verb_status, zf_verb_scrub, zf_verb_clear;

/* The filesystems and volumes `destroy -R target` would destroy besides
 * target (cmd_dataset.c): its descendants and clones, wherever they are.
 * *names (and each name) is the caller's to free. */
int zf_destroy_heads(zfuse_pool_t *pool, const char *target, char ***names, size_t *n);

#endif
