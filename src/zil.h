/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zil.h — the intent log chain of an object set (object-layer.md §11),
 * read side: following and validating log blocks. A dataset whose log
 * holds records must be replayed before anything else writes to it.
 */
#ifndef ZFUSE_ZIL_H
#define ZFUSE_ZIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "blkptr.h"
#include "dnode.h"

struct spa;

/* The first log block bp of os (its ZIL header's zh_log). */
void zil_header_log_bp(const objset_t *os, blkptr_t *bp);

/*
 * Read the log block bp (psize bytes into a new *buf, freed by the caller)
 * and check it: *valid when its embedded chain checksum verifies (it was
 * written, as opposed to the pre-allocated next block), *next the next
 * block's bp. Errors: read errors, ZFUSE_E_NOMEM.
 */
int zil_read_block(struct spa *spa, const blkptr_t *bp, uint8_t **buf, bool *valid, blkptr_t *next);

/* Whether os has an intent log with at least one written block. */
bool zil_has_records(struct spa *spa, const objset_t *os);

/*
 * Intent log blocks are allocated space whatever the space maps say: take
 * every head dataset's log chain out of the allocator for this session.
 * A log with records that OpenZFS never claimed (the pool was not
 * exported cleanly) makes the pool unwritable: -ZFUSE_E_ROFS, why says
 * which dataset.
 */
int zil_reserve_chains(struct spa *spa, char *why, size_t cap);

#endif
