/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dsl_quota.h — quota and refquota checks before a change (dsl_quota.c).
 */
#ifndef ZFUSE_DSL_QUOTA_H
#define ZFUSE_DSL_QUOTA_H

#include <stdbool.h>
#include <stdint.h>
#include "dnode.h"

struct spa;

/* Whether the dataset or a dir above it has a quota or it a refquota, or
 * any dir of the pool a reservation (pool lock held). */
bool dsl_dataset_has_quota(struct spa *spa, uint64_t dsobj);

/*
 * Before a change that may take space in os (no pool lock held): waits
 * for syncs while in-flight changes may cross a limit; ZFUSE_E_DQUOT when
 * the space on disk has reached one, ZFUSE_E_NOSPC when the pool's root
 * (its used bytes counting every unused reservation) has reached the
 * unreserved space. Free for a dataset without limits.
 */
int dsl_quota_check(struct spa *spa, objset_t *os);

#endif
