/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * metaslab_class.h — the allocator's space totals, the narrow interface
 * through which pool-wide accounting (spa_misc.c: slop; statfs; pool
 * creation) reads the allocator. Kept apart from metaslab.h so that
 * accounting code can sit below the DMU: this header names no module
 * above spa_impl.h. Implemented in metaslab.c.
 */
#ifndef ZFUSE_METASLAB_CLASS_H
#define ZFUSE_METASLAB_CLASS_H

#include <stdint.h>
#include "spa_impl.h"

/* Normal-class totals (no log vdevs, no embedded-log metaslab), in raw
 * allocated bytes: metaslab space, allocated per the space maps, and the
 * space freed but still deferred. */
uint64_t metaslab_class_space(spa_t *spa);
uint64_t metaslab_class_alloc(spa_t *spa);
uint64_t metaslab_class_deferred(spa_t *spa);
/* Deflated metaslab space of the normal class (spa_deflate pools; raw
 * otherwise), as spa_get_dspace uses it. */
uint64_t metaslab_class_dspace(spa_t *spa);
/* Deflated space of the embedded-log metaslabs, which hold space back
 * themselves and so cover part of the slop. */
uint64_t metaslab_class_embedded_log_dspace(spa_t *spa);

#endif
