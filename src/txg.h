/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * txg.h — transaction groups: when the open txg is synced (timer, dirty
 * data limit, explicit waits), the sync itself (txg_sync_now) and the switch
 * that makes an imported pool writable.
 */
#ifndef ZFUSE_TXG_H
#define ZFUSE_TXG_H

#include <stdbool.h>
#include <stdint.h>

struct spa;

/* The dirty-data limit when ZFUSE_DIRTY_DATA_MAX does not set one:
 * OpenZFS's zfs_dirty_data_max (10% of the memory, at most 4 GiB), but
 * never below 256 MiB. */
uint64_t txg_dirty_max_default(void);

/*
 * Make an imported pool writable: check features, reopen devices
 * read-write, load the metaslabs and the trusted config, start the sync
 * thread. On refusal the pool stays read-only and spa->readonly_reason
 * says why (the error is ZFUSE_E_ROFS then).
 */
int txg_enable_writes(struct spa *spa);

/* Final sync and stop of the sync thread (pool close, unmount). */
int txg_shutdown(struct spa *spa);

/*
 * Make everything changed before the call durable: waits for a running
 * sync, then syncs the open txg unless that sync already covered it, and
 * returns when the uberblock is on every device (fsync, unmount, sync(2),
 * pool creation). Errors: ZFUSE_E_IO (the txg could not be written: the
 * pool goes read-only, the previous uberblock stays the valid one).
 */
int txg_sync_now(struct spa *spa);

/*
 * Take the pool lock for reading at a moment no sync is between its
 * phases, so every block the in-memory tree points to is on disk (a sync
 * puts new bps in the tree before phase 4 writes their blocks). For walks
 * that read blocks from the devices by bp while the pool is in use (the
 * scrub); release with spa_exit. Waits for a running sync.
 */
void txg_enter_synced(struct spa *spa);

/* Writers call this before taking the pool lock: delays them as dirty
 * data (open + syncing) nears the limit and waits for the running sync
 * at the limit, so memory stays bounded. */
void txg_throttle(struct spa *spa);
/* After a tx: start a sync early when the open txg holds 20% of the limit
 * or ZFUSE_TXG_SYNC_BYTES, whichever is less. */
void txg_kick(struct spa *spa);
/*
 * How long the sync thread waits after a sync that took sync_ns before it
 * starts another early one: as long as that sync took (at most a second),
 * when at least half of the synced bytes were read-modify-write blocks,
 * else 0. Each small write dirties a whole record, so a sync costs the
 * records a txg touched, not the bytes written: back to back syncs of a
 * rewritten working set (4 KiB random writes) spend a CPU writing the
 * same records again with a few writes each, where a txg left open as
 * long as its predecessor synced gathers twice the writes per record. A
 * stream of whole blocks gains nothing from waiting and is not held. The
 * wait ends early when dirty data reaches the throttle's zone (60%).
 */
uint64_t txg_rewrite_pause_ns(uint64_t sync_ns, uint64_t synced_bytes, uint64_t rewrite_bytes);
/* Record the dirty bytes for txg_throttle/txg_kick, which run without the
 * pool lock; called with it held (dmu_tx_commit, the end of a sync). */
void txg_note_dirty(struct spa *spa);


/*
 * Write a dataset objset that a DSL task created inside the sync (a new
 * filesystem or volume): its blocks, the dataset's bp and accounting, in
 * the txg being synced (tx). Exclusive pool lock, phase 3 only.
 */
struct objset;
struct dmu_tx;
int txg_sync_new_objset(struct spa *spa, struct objset *os, struct dmu_tx *tx);

/* Dirty bytes waiting in the open txg (pool lock held). */
uint64_t txg_dirty_bytes(const struct spa *spa);

#endif
