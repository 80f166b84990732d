/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zil.h — the intent log of an object set (zil.md, object-layer.md §11):
 * the header in the objset block, following and validating log blocks,
 * the record walk OpenZFS's zil_parse does (zil.c), the claim at a
 * read-write import (zil_claim.c) and the replay at the first writable
 * open of a filesystem (zil_replay.c).
 */
#ifndef ZFUSE_ZIL_H
#define ZFUSE_ZIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "blkptr.h"
#include "dnode.h"

struct spa;
struct dmu_tx;

#define ZIL_HEADER_OFFSET 512
#define ZIL_HEADER_SIZE 192
#define ZIL_REPLAY_NEEDED 0x1ULL
#define ZIL_CLAIM_LR_SEQ_VALID 0x2ULL

#define ZIL_ZC_GUID_0 0
#define ZIL_ZC_GUID_1 1
#define ZIL_ZC_OBJSET 2
#define ZIL_ZC_SEQ 3

/* Record types (zil.md §4.3); TX_CI is bit 63 of lrc_txtype. */
enum {
	TX_COMMIT, TX_CREATE, TX_MKDIR, TX_MKXATTR, TX_SYMLINK, TX_REMOVE, TX_RMDIR, TX_LINK,
	TX_RENAME, TX_WRITE, TX_TRUNCATE, TX_SETATTR, TX_ACL_V0, TX_ACL, TX_CREATE_ACL,
	TX_CREATE_ATTR, TX_CREATE_ACL_ATTR, TX_MKDIR_ACL, TX_MKDIR_ATTR, TX_MKDIR_ACL_ATTR,
	TX_WRITE2, TX_SETSAXATTR, TX_RENAME_EXCHANGE, TX_RENAME_WHITEOUT, TX_CLONE_RANGE,
	TX_MAX_TYPE
};
#define TX_CI (1ULL << 63)
#define LR_SIZE 32
#define LR_WRITE_SIZE 192
#define LR_FOID_OBJ_MASK ((1ULL << 48) - 1)

/* Record names for messages and inspect ("TX_CREATE"); "TX_?" beyond. */
const char *zil_txtype_name(uint64_t txtype);
/* Whether records of type may be logged out of order (TX_OOO: their
 * lr_foid at offset 32 may name an object that no longer exists). */
bool zil_txtype_ooo(uint64_t txtype);

typedef struct zil_header {
	uint64_t claim_txg, replay_seq;
	blkptr_t log;
	uint64_t claim_blk_seq, flags, claim_lr_seq;
} zil_header_t;

void zil_header_get(const objset_t *os, zil_header_t *zh);
/* Store zh in os's objset block of the open txg (pool lock exclusive)
 * and have the next sync write that block. */
void zil_header_put(objset_t *os, const zil_header_t *zh);

/* The first log block bp of os (its ZIL header's zh_log). */
void zil_header_log_bp(const objset_t *os, blkptr_t *bp);

/*
 * Read the log block bp (psize bytes into a new *buf, freed by the caller)
 * and check it as zil_read_log_block does: magic, embedded checksum with
 * the bp's verifier, the next block's verifier and zc_nused. *valid when
 * it belongs to the chain; then *next is the next block's bp and the
 * records are buf[*rec_off .. *rec_end). Errors: read errors,
 * ZFUSE_E_NOMEM.
 */
int zil_read_block_recs(struct spa *spa, const blkptr_t *bp, uint8_t **buf, bool *valid,
			blkptr_t *next, uint64_t *rec_off, uint64_t *rec_end);
int zil_read_block(struct spa *spa, const blkptr_t *bp, uint8_t **buf, bool *valid, blkptr_t *next);

/*
 * The walk of zil_parse (zil.md §3.6): from zh->log, with the claim
 * limits when zh is claimed. blk is called for every visited block
 * (before it is read, so also for the never-written one that ends the
 * chain), rec for every record; a non-zero return stops the walk and is
 * kept in end->error. A record of impossible length stops it with
 * ZFUSE_E_CORRUPT. The walk's own result is what end says; the function
 * returns end->error.
 */
struct zil_parse_end {
	uint64_t blk_seq, lr_seq;	/* last visited block, last accepted record */
	uint64_t blk_count, lr_count;
	int error;
};
int zil_parse(struct spa *spa, const zil_header_t *zh,
	      int (*blk)(void *arg, const blkptr_t *bp), int (*rec)(void *arg, const uint8_t *lr),
	      void *arg, struct zil_parse_end *end);
/* The same, records of encrypted log blocks decrypted with key (a block
 * that does not open ends the chain, as a failed read does). Without a key
 * (zil_parse) an encrypted block's lr_t headers and TX_WRITE bps are
 * clear, the rest of its records ciphertext. */
struct zio_crypt_key;
int zil_parse_key(struct spa *spa, const zil_header_t *zh, struct zio_crypt_key *key,
		  int (*blk)(void *arg, const blkptr_t *bp), int (*rec)(void *arg, const uint8_t *lr),
		  void *arg, struct zil_parse_end *end);

/* Whether os has an intent log whose records still wait for replay. */
bool zil_has_records(struct spa *spa, const objset_t *os);

/*
 * The claim of a read-write import (zil.md §6), in the pool's first txg
 * F (spa->open_txg, before anything else is allocated): every head
 * dataset's unclaimed log is walked, its blocks and indirect write blocks
 * born in F or later allocated in F, its header marked claimed; the sync
 * of F writes it, and txgs after F skip the numbers of the claimed births
 * (spa->claim_max_txg). Blocks of logs claimed earlier are kept out of
 * allocation. A log that cannot be claimed (block clone records: no BRT)
 * makes the pool unwritable: -ZFUSE_E_ROFS, why says which dataset.
 */
int zil_claim_all(struct spa *spa, char *why, size_t cap);

/*
 * The replay of zfs_vfsops' zfsvfs_setup (zil.md §7): at the first
 * writable open of a filesystem, after the delete queue drained. A claimed
 * log with records is replayed through the ZPL write calls with the
 * logged object numbers, then destroyed; a claimed empty log is reset
 * keeping its first block. Returns 0 when the dataset may be written,
 * or an error (-ZFUSE_E_ROFS with why set) when it must stay read-only.
 */
/* zil_destroy_sync for a dataset going away (destroy, rollback): free the
 * log of the objset at os_bp in txg (its blocks; a claimed log's indirect
 * write blocks too). */
int zil_free_log(struct spa *spa, const blkptr_t *os_bp, uint64_t txg);

struct zfuse_fs;
int zil_replay(struct zfuse_fs *fs, char *why, size_t cap);
/* The same for a volume (zvol_replay_vector: writes and truncates), at
 * its first writable open; os is the held objset. */
int zil_replay_volume(struct spa *spa, objset_t *os, uint64_t dsobj, const char *name, char *why,
		      size_t cap);

#endif
