/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * spa.h — what the layers above the DMU (zpl, inspect, verify, pool
 * creation) see of the pool: the in-core pool and its utility calls. The
 * importer itself (spa.c) is public API in zfuse/zfuse.h; layers below
 * the DMU include spa_misc.h, never this, so that they do not depend on
 * the importer. The pool lock and the caches come along because the ZPL
 * drives them per call (lock around each operation, prefetch hints).
 */
#ifndef ZFUSE_SPA_H
#define ZFUSE_SPA_H

#include "arc.h"
#include "dmu_zfetch.h"
#include "spa_impl.h"
#include "spa_lock.h"
#include "spa_misc.h"

#endif
