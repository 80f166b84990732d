/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zil.c — intent log chains: the header, reading and checking log blocks,
 * the record walk, and the claim of a read-write import.
 *
 * Log blocks carry their own checksum (zilog2: a zil_chain_t at the
 * start, fletcher4 over the used part; zilog on old pools: the same
 * trailer at the end, fletcher2 over the whole block), computed with the
 * bp's verifier in the checksum slot; the chain's last bp is the
 * pre-allocated, usually unwritten, next block, which therefore does not
 * verify. Blocks allocated in txgs that never synced are free in the
 * space maps until the claim allocates them in the import's first txg.
 * Encrypted datasets' blocks keep their MAC in checksum words 2-3 (the
 * Fletcher sum folded into 0-1): chain, claim and destroy need no key,
 * only the records' bodies do (zil_parse_key, for the replay).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arc.h"
#include "byteorder.h"
#include "dmu_tx.h"
#include "dsl.h"
#include "metaslab.h"
#include "spa_impl.h"
#include "spa_misc.h"
#include "vdev.h"
#include "zil.h"
#include "zio_crypt.h"
#include "zio_write.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

#define ZIL_CHAIN_SIZE 184
#define ZIL_CHAIN_NEXT 8
#define ZIL_CHAIN_NUSED 136
#define ZIL_CHAIN_MAGIC 144
#define ZIL_CHAIN_CKSUM 152
#define ZEC_MAGIC 0x0210da7ab10c7a11ULL
#define ZIL_MAX_HOPS (1 << 22)

static const char *const txtype_names[TX_MAX_TYPE] = {
	"TX_COMMIT", "TX_CREATE", "TX_MKDIR", "TX_MKXATTR", "TX_SYMLINK", "TX_REMOVE", "TX_RMDIR",
	"TX_LINK", "TX_RENAME", "TX_WRITE", "TX_TRUNCATE", "TX_SETATTR", "TX_ACL_V0", "TX_ACL",
	"TX_CREATE_ACL", "TX_CREATE_ATTR", "TX_CREATE_ACL_ATTR", "TX_MKDIR_ACL", "TX_MKDIR_ATTR",
	"TX_MKDIR_ACL_ATTR", "TX_WRITE2", "TX_SETSAXATTR", "TX_RENAME_EXCHANGE",
	"TX_RENAME_WHITEOUT", "TX_CLONE_RANGE",
};

const char *zil_txtype_name(uint64_t txtype)
{
	txtype &= ~TX_CI;
	return txtype < TX_MAX_TYPE ? txtype_names[txtype] : "TX_?";
}

bool zil_txtype_ooo(uint64_t txtype)
{
	switch (txtype & ~TX_CI) {
	case TX_WRITE: case TX_TRUNCATE: case TX_SETATTR: case TX_ACL_V0: case TX_ACL:
	case TX_WRITE2: case TX_SETSAXATTR: case TX_CLONE_RANGE:
		return true;
	default:
		return false;
	}
}

/* ---- the header ----------------------------------------------------------- */

void zil_header_get(const objset_t *os, zil_header_t *zh)
{
	const uint8_t *p = os->phys + ZIL_HEADER_OFFSET;
	zh->claim_txg = le64(p);
	zh->replay_seq = le64(p + 8);
	bp_load(&zh->log, p + 16);
	zh->claim_blk_seq = le64(p + 144);
	zh->flags = le64(p + 152);
	zh->claim_lr_seq = le64(p + 160);
}

void zil_header_put(objset_t *os, const zil_header_t *zh)
{
	uint8_t *p = os->phys + ZIL_HEADER_OFFSET;
	memset(p, 0, ZIL_HEADER_SIZE);
	put_le64(p, zh->claim_txg);
	put_le64(p + 8, zh->replay_seq);
	bp_store(p + 16, &zh->log);
	put_le64(p + 144, zh->claim_blk_seq);
	put_le64(p + 152, zh->flags);
	put_le64(p + 160, zh->claim_lr_seq);
	os->header_dirty = true;
}

void zil_header_log_bp(const objset_t *os, blkptr_t *bp)
{
	bp_load(bp, os->phys + ZIL_HEADER_OFFSET + 16);
}

/* ---- log blocks ------------------------------------------------------------ */

int zil_read_block_recs(spa_t *spa, const blkptr_t *bp, uint8_t **bufp, bool *valid,
			blkptr_t *next, uint64_t *rec_off, uint64_t *rec_end)
{
	*valid = false;
	*bufp = NULL;
	*rec_off = *rec_end = 0;
	memset(next, 0, sizeof(*next));
	uint64_t psize = bp_get_psize(bp);
	vdev_t *top = spa_lookup_top(spa, dva_vdev(&bp->blk_dva[0]));
	if (!top || psize > SPA_MAXBLOCKSIZE || bp_is_embedded(bp))
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	uint8_t *buf = malloc(psize);
	if (!buf)
		return -ZFUSE_E_NOMEM;
	int rc = vdev_read(top, dva_offset(&bp->blk_dva[0]), buf, psize, NULL, NULL);
	if (rc) {
		free(buf);
		return rc;
	}
	*bufp = buf;
	if (psize < ZIL_CHAIN_SIZE)
		return 0;
	uint64_t chain = 0, len = 0, nused = 0, roff = 0, rend = 0;
	unsigned fn;
	unsigned alg = bp_get_checksum(bp);
	if (alg == ZIO_CHECKSUM_ZILOG2) {
		nused = le64(buf + ZIL_CHAIN_NUSED);
		len = (nused + 4095) & ~4095ULL;
		if (nused < ZIL_CHAIN_SIZE || len > psize)
			return 0;
		fn = ZIO_CHECKSUM_FLETCHER_4;
		roff = ZIL_CHAIN_SIZE;
		rend = nused;
	} else if (alg == ZIO_CHECKSUM_ZILOG) {
		chain = psize - ZIL_CHAIN_SIZE;
		len = psize;
		nused = le64(buf + chain + ZIL_CHAIN_NUSED);
		if (nused > psize - ZIL_CHAIN_SIZE)
			return 0;
		fn = ZIO_CHECKSUM_FLETCHER_2;
		rend = nused;
	} else {
		return 0;
	}
	/* A log of the other byte order fails here too (refused, zil.md §7.8). */
	if (le64(buf + chain + ZIL_CHAIN_MAGIC) != ZEC_MAGIC)
		return 0;
	zio_cksum_t stored, calc;
	uint8_t *slot = buf + chain + ZIL_CHAIN_CKSUM;
	memcpy(&stored, slot, sizeof(stored));
	memcpy(slot, &bp->blk_cksum, sizeof(stored));
	zio_checksum_compute(fn, buf, len, NULL, &calc);
	memcpy(slot, &stored, sizeof(stored));
	if (bp_uses_crypt(bp)) {
		/* an encrypted block's MAC holds words 2-3, folded into 0-1
		 * (zio_checksum_handle_crypt: Fletcher is no secure hash) */
		calc.zc_word[0] ^= calc.zc_word[2];
		calc.zc_word[1] ^= calc.zc_word[3];
		calc.zc_word[2] = stored.zc_word[2];
		calc.zc_word[3] = stored.zc_word[3];
	}
	if (memcmp(&stored, &calc, sizeof(stored)) != 0)
		return 0;
	bp_load(next, buf + chain + ZIL_CHAIN_NEXT);
	const uint64_t *w = bp->blk_cksum.zc_word, *nw = next->blk_cksum.zc_word;
	if (nw[0] != w[0] || nw[1] != w[1] || nw[2] != w[2] || nw[3] != w[3] + 1)
		return 0;
	*valid = true;
	*rec_off = roff;
	*rec_end = rend;
	return 0;
}

int zil_read_block(spa_t *spa, const blkptr_t *bp, uint8_t **buf, bool *valid, blkptr_t *next)
{
	uint64_t a, b;
	return zil_read_block_recs(spa, bp, buf, valid, next, &a, &b);
}

/* ---- the record walk (zil_parse) ------------------------------------------------ */

int zil_parse(spa_t *spa, const zil_header_t *zh, int (*blk)(void *arg, const blkptr_t *bp),
	      int (*rec)(void *arg, const uint8_t *lr), void *arg, struct zil_parse_end *end)
{
	return zil_parse_key(spa, zh, NULL, blk, rec, arg, end);
}

int zil_parse_key(spa_t *spa, const zil_header_t *zh, struct zio_crypt_key *key,
		  int (*blk)(void *arg, const blkptr_t *bp), int (*rec)(void *arg, const uint8_t *lr),
		  void *arg, struct zil_parse_end *end)
{
	memset(end, 0, sizeof(*end));
	bool claimed = zh->claim_txg != 0;
	uint64_t claim_blk_seq = claimed ? zh->claim_blk_seq : UINT64_MAX;
	uint64_t claim_lr_seq = claimed && (zh->flags & ZIL_CLAIM_LR_SEQ_VALID) ? zh->claim_lr_seq
										    : UINT64_MAX;
	blkptr_t bp = zh->log;
	int rc = 0;
	for (int hops = 0; hops < ZIL_MAX_HOPS && !bp_is_hole(&bp); hops++) {
		uint64_t blk_seq = bp.blk_cksum.zc_word[ZIL_ZC_SEQ];
		if (blk_seq > claim_blk_seq)
			break;
		if (blk && (rc = blk(arg, &bp)) != 0)
			break;
		end->blk_seq = blk_seq;
		end->blk_count++;
		if (end->lr_seq == claim_lr_seq && end->blk_seq == claim_blk_seq)
			break;
		uint8_t *buf;
		bool valid;
		blkptr_t next;
		uint64_t off, stop;
		if (zil_read_block_recs(spa, &bp, &buf, &valid, &next, &off, &stop) != 0 || !valid) {
			free(buf);
			break;	/* the end of the chain, as a failed read is for OpenZFS */
		}
		if (key && bp_uses_crypt(&bp)) {
			/* decrypted, or (MAC mismatch) the end of the chain too */
			uint64_t psize = bp_get_psize(&bp);
			uint8_t *plain = malloc(psize);
			if (!plain || zio_crypt_zil_open(key, &bp, buf, plain, psize) != 0) {
				free(plain);
				free(buf);
				break;
			}
			free(buf);
			buf = plain;
		}
		bool done = false;
		for (uint64_t reclen; off < stop && !done; off += reclen) {
			const uint8_t *lr = buf + off;
			if (stop - off < LR_SIZE) {
				rc = SET_ERROR(-ZFUSE_E_CORRUPT);
				break;
			}
			if (le64(lr + 24) > claim_lr_seq) {
				done = true;	/* past what the claim took */
				break;
			}
			reclen = le64(lr + 8);
			if (reclen < LR_SIZE || reclen > stop - off) {
				rc = SET_ERROR(-ZFUSE_E_CORRUPT);
				break;
			}
			if (rec && (rc = rec(arg, lr)) != 0)
				break;
			end->lr_seq = le64(lr + 24);
			end->lr_count++;
		}
		free(buf);
		if (rc || done)
			break;
		bp = next;
	}
	end->error = rc;
	return rc;
}

bool zil_has_records(spa_t *spa, const objset_t *os)
{
	zil_header_t zh;
	zil_header_get(os, &zh);
	if (bp_is_hole(&zh.log))
		return false;
	if (zh.claim_txg)
		return (zh.flags & ZIL_REPLAY_NEEDED) != 0;
	uint8_t *buf;
	bool valid;
	blkptr_t next;
	if (zil_read_block(spa, &zh.log, &buf, &valid, &next) != 0)
		return true;	/* unreadable: assume records rather than lose them */
	free(buf);
	return valid;
}

/* ---- the claim (zil_claim) ---------------------------------------------------------- */

struct claim_ctx {
	spa_t *spa;
	uint64_t first_txg, max_birth;
	const char *dataset;
	dva_t *done;	/* DVAs claimed in this walk (zil_bp_tree_add) */
	size_t ndone, capdone;
	bool clone;	/* dry run: a TX_CLONE_RANGE record was seen */
};

static bool claimed_before(struct claim_ctx *c, const dva_t *dva)
{
	for (size_t i = 0; i < c->ndone; i++)
		if (c->done[i].dva_word[0] == dva->dva_word[0] && c->done[i].dva_word[1] == dva->dva_word[1])
			return true;
	if (c->ndone == c->capdone) {
		size_t nc = c->capdone ? c->capdone * 2 : 64;
		dva_t *n = realloc(c->done, nc * sizeof(*n));
		if (!n)
			return false;
		c->done = n;
		c->capdone = nc;
	}
	c->done[c->ndone++] = *dva;
	return false;
}

/* zil_claim_log_block: a block of a txg that never synced is allocated now. */
static int claim_block(void *arg, const blkptr_t *bp)
{
	struct claim_ctx *c = arg;
	if (bp_is_hole(bp) || bp_is_embedded(bp) || bp->blk_birth < c->first_txg)
		return 0;
	if (claimed_before(c, &bp->blk_dva[0]))
		return 0;
	for (int d = 0; d < bp_count_dvas_max(bp); d++) {
		if (!dva_is_valid(&bp->blk_dva[d]))
			continue;
		int rc = metaslab_claim_dva(c->spa, &bp->blk_dva[d], c->first_txg);
		if (rc) {
			spa_log(c->spa, ZFUSE_LOG_WARN, "intent log of %s: block <%llu:%llx> cannot be "
				"claimed (%s); the log ends before it", c->dataset,
				(unsigned long long)dva_vdev(&bp->blk_dva[d]),
				(unsigned long long)dva_offset(&bp->blk_dva[d]), zfuse_strerror(rc));
			return rc;
		}
	}
	if (bp->blk_birth > c->max_birth)
		c->max_birth = bp->blk_birth;
	return 0;
}

/* zil_claim_write: an indirect write's data block is claimed once its
 * contents verify (else it was never acknowledged: the log ends). */
static int claim_record(void *arg, const uint8_t *lr)
{
	struct claim_ctx *c = arg;
	uint64_t type = le64(lr) & ~TX_CI;
	if (type == TX_CLONE_RANGE) {
		c->clone = true;
		return SET_ERROR(-ZFUSE_E_UNSUPPORTED);
	}
	if (type != TX_WRITE || le64(lr + 8) != LR_WRITE_SIZE)
		return 0;
	blkptr_t bp;
	bp_load(&bp, lr + 64);
	if (bp_is_hole(&bp) || bp_is_embedded(&bp) || bp.blk_birth < c->first_txg)
		return 0;
	arc_buf_t *b;
	int rc = arc_read(c->spa, &bp, &b);
	if (rc)
		return rc;
	arc_release(c->spa, b);
	return claim_block(c, &bp);
}

static int clone_check(void *arg, const uint8_t *lr)
{
	struct claim_ctx *c = arg;
	if ((le64(lr) & ~TX_CI) == TX_CLONE_RANGE) {
		c->clone = true;
		return 1;
	}
	return 0;
}

struct claim_all {
	spa_t *spa;
	bool dry;
	char bad[256];
	int error;
};

static int claim_dataset(const struct zfuse_dataset_info *info, void *arg)
{
	struct claim_all *a = arg;
	spa_t *spa = a->spa;
	if (info->dsobj == 0 || strchr(info->name, '@') || strchr(info->name, '#'))
		return 0;	/* only heads have live intent logs */
	dsl_dataset_phys_t ds;
	if (dsl_dataset_read(spa, info->dsobj, &ds) != 0 || bp_is_hole(&ds.bp) ||
	    (ds.flags & DS_FLAG_INCONSISTENT))
		return 0;
	objset_t *os;
	int rc = a->dry ? objset_open(spa, &ds.bp, &os) : spa_objset_hold(spa, info->dsobj, &os);
	if (rc)
		return 0;
	zil_header_t zh;
	zil_header_get(os, &zh);
	struct claim_ctx c = { .spa = spa, .first_txg = spa->open_txg, .dataset = info->name };
	c.max_birth = c.first_txg;
	struct zil_parse_end end;
	if (zh.claim_txg == 0 && !bp_is_hole(&zh.log)) {
		if (a->dry) {
			zil_parse(spa, &zh, NULL, clone_check, &c, &end);
			if (c.clone && !a->bad[0])
				snprintf(a->bad, sizeof(a->bad), "the intent log of %s holds block clone "
					 "records, which zfuse cannot claim (no block reference table); "
					 "let OpenZFS import the pool once", info->name);
		} else {
			zil_parse(spa, &zh, claim_block, claim_record, &c, &end);
			zh.claim_txg = c.first_txg;
			zh.claim_blk_seq = end.blk_seq;
			zh.claim_lr_seq = end.lr_seq;
			if (end.lr_count || end.blk_count > 1)
				zh.flags |= ZIL_REPLAY_NEEDED;
			zh.flags |= ZIL_CLAIM_LR_SEQ_VALID;
			zil_header_put(os, &zh);
			if (c.max_birth > spa->claim_max_txg)
				spa->claim_max_txg = c.max_birth;
			spa_log(spa, ZFUSE_LOG_INFO, "claimed the intent log of %s: %llu blocks, "
				"%llu records%s", info->name, (unsigned long long)end.blk_count,
				(unsigned long long)end.lr_count,
				zh.flags & ZIL_REPLAY_NEEDED ? ", replayed at the first writable mount" : "");
		}
	}
	free(c.done);
	if (a->dry)
		objset_close(os);
	else
		spa_objset_rele(spa, os);
	return 0;
}

int zil_claim_all(spa_t *spa, char *why, size_t cap)
{
	struct claim_all a = { .spa = spa, .dry = true };
	int rc = dsl_dataset_walk(spa, claim_dataset, &a);
	if (rc)
		return rc;
	if (a.bad[0]) {
		snprintf(why, cap, "%s", a.bad);
		return -ZFUSE_E_ROFS;
	}
	a.dry = false;
	return dsl_dataset_walk(spa, claim_dataset, &a);
}
