/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfeature_write.h — changing pool feature state (object-layer.md §9):
 * creating the feature ZAPs of a new pool, enabling features, and keeping
 * refcounts (activation) as on-disk formats start or stop being used.
 *
 * Features are named by their short name ("lz4_compress"); the GUID, the
 * ZAP they live in and whether they are MOS features come from OpenZFS
 * 2.3's table. Every call works in the open txg (dmu_tx.h).
 */
#ifndef ZFUSE_ZFEATURE_WRITE_H
#define ZFUSE_ZFEATURE_WRITE_H

#include <stdbool.h>
#include <stdint.h>
#include "dmu_tx.h"
#include "spa_misc.h"

/*
 * The features a pool created by zfuse has enabled, in OpenZFS's table
 * order — exactly those whose write obligations zfuse keeps (see
 * contrib/compatibility.d/zfuse). NULL-terminated.
 */
extern const char *const zfeature_zfuse_default[];


/*
 * Create the MOS features_for_read, features_for_write and
 * feature_descriptions ZAPs and link them from the object directory
 * (spa_feature_create_zap_objects). Sets spa->features_*_obj.
 */
int spa_feature_create_zap_objects(spa_t *spa, dmu_tx_t *tx);

/*
 * Enable a feature (its dependencies first), as OpenZFS's
 * feature_enable_sync: description, refcount 0 (1 for activate-on-enable
 * features), and with enabled_txg enabled its feature_enabled_txg entry.
 * Enabling an enabled feature does nothing.
 * Errors: ZFUSE_E_NOENT (unknown name), ZFUSE_E_UNSUPPORTED (a feature
 * zfuse cannot keep), DMU errors.
 */
int spa_feature_enable(spa_t *spa, const char *name, dmu_tx_t *tx);

/* Refcount +1 / -1 of an enabled feature (activation; MOS features also
 * enter / leave the labels' features_for_read). Errors: ZFUSE_E_NOENT
 * (unknown or not enabled), ZFUSE_E_INVAL (decrement below zero). */
int spa_feature_incr(spa_t *spa, const char *name, dmu_tx_t *tx);
int spa_feature_decr(spa_t *spa, const char *name, dmu_tx_t *tx);

/* Refcount of a feature: 0 enabled, > 0 active. Errors: ZFUSE_E_NOENT
 * (disabled or unknown). */
int spa_feature_refcount(spa_t *spa, const char *name, uint64_t *refcount);
bool spa_feature_is_enabled(spa_t *spa, const char *name);
bool spa_feature_is_active(spa_t *spa, const char *name);

#endif
