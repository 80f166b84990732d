/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * spa_errlog.h — the pool's log of blocks that could not be read, kept in
 * memory from import (OpenZFS keeps it in the MOS; zfuse, which never
 * writes that object, starts empty at each import).
 */
#ifndef ZFUSE_SPA_ERRLOG_H
#define ZFUSE_SPA_ERRLOG_H

#include <stdbool.h>
#include <stdint.h>
#include "spa_impl.h"

/* A block of dataset dsobj (0: the MOS) failed with err. Any lock state;
 * entries repeat only as a count. */
void spa_errlog_add(spa_t *spa, uint64_t dsobj, uint64_t object, int level, uint64_t blkid, int err);
/* The same, found by a scrub, which knows the dataset by name. */
void spa_errlog_add_named(spa_t *spa, const char *dataset, uint64_t object, int level,
			  uint64_t blkid, int err);
uint64_t spa_errlog_count(spa_t *spa);
void spa_errlog_fini(spa_t *spa);

#endif
