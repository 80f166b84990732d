/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * cmd_key.h — loading keys of encrypted datasets for the CLI (cmd_key.c).
 */
#ifndef ZFUSE_FUSE_CMD_KEY_H
#define ZFUSE_FUSE_CMD_KEY_H

#include <stdio.h>
#include "zfuse/zfuse.h"
#include "zfuse/crypt.h"

/* Key material for a new encryption root `ds` from keylocation location
 * (file:///PATH, or prompt: twice on a terminal, else one line of
 * standard input). Errors are printed to err. */
int zf_key_read_new(const char *ds, const char *location, enum zfuse_keyformat fmt, char *buf,
		    size_t cap, size_t *len, FILE *err);

/* Load the key of encryption root `root` from location (NULL: its
 * keylocation property; "prompt": terminal or a line of stdin). Messages
 * go to err. Returns 0 or a ZFUSE_E_* code. */
int zf_key_load_root(zfuse_pool_t *pool, const char *root, const char *location, FILE *err);

/* Before a mount opens its datasets: load the key of every encryption
 * root the mounted dataset dsname shows (its own and those below it),
 * each from keys_file's line for it, else keylocation, else its stored
 * keylocation. A root whose key fails is reported and left locked (its
 * datasets are not mounted). Non-zero only for an unreadable keys file. */
int zf_mount_load_keys(zfuse_pool_t *pool, const char *dsname, const char *keylocation,
		       const char *keys_file);

#endif
