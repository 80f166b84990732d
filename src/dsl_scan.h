/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dsl_scan.h — the background scrub of a pool in use (zfuse/status.h has
 * the public calls).
 */
#ifndef ZFUSE_DSL_SCAN_H
#define ZFUSE_DSL_SCAN_H

#include "spa_impl.h"
#include "zfuse/status.h"

/* The scrub's figures now (all zero before the first one). */
void dsl_scan_status(spa_t *spa, struct zfuse_scan_status *out);
/* Stop a running scrub and free its state; pool close, before the sync
 * thread stops. */
void dsl_scan_fini(spa_t *spa);

#endif
