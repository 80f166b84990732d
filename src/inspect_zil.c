/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * inspect_zil.c — `inspect zil DATASET`: a dataset's intent log as it is
 * on disk, like `zdb -ivv`: the header, every block of the chain (checked
 * as the claim and replay would read it) and every record decoded, with
 * the limits a claimed header sets (zil.md §3.6).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "byteorder.h"
#include "dsl.h"
#include "inspect_emit.h"
#include "spa.h"
#include "zil.h"
#include "zfuse/inspect.h"
#include "zfs_debug.h"

static uint64_t rd(const uint8_t *lr, uint64_t off) { return le64(lr + off); }

static void em_time(emitter_t *em, const char *key, const uint8_t *p)
{
	char buf[48];
	snprintf(buf, sizeof(buf), "%" PRId64 ".%09" PRIu64, (int64_t)le64(p), le64(p + 8));
	em_str(em, key, buf);
}

static void em_mode(emitter_t *em, const char *key, uint64_t mode)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "0%" PRIo64, mode);
	em_str(em, key, buf);
}

static void em_bp(emitter_t *em, const char *key, const blkptr_t *bp)
{
	char buf[512];
	bp_describe(bp, buf, sizeof(buf));
	em_str(em, key, buf);
}

/* A NUL-terminated string at *off (empty when the record has none). */
static const char *str_at(const uint8_t *lr, uint64_t *off)
{
	uint64_t len = rd(lr, 8);
	if (*off >= len)
		return "";
	const uint8_t *nul = memchr(lr + *off, 0, len - *off);
	if (!nul)
		return "";
	const char *s = (const char *)lr + *off;
	*off = (uint64_t)(nul - lr) + 1;
	return s;
}

static void em_xvattr(emitter_t *em, const uint8_t *x)
{
	em_obj_begin(em, "xvattr");
	em_u64(em, "mask_size", le32(x));
	em_hex(em, "requested", le32(x + 4));
	em_hex(em, "attrs", le64(x + 16));
	em_time(em, "crtime", x + 24);
	if (le32(x + 4) & 0x40000)
		em_u64(em, "projid", le64(x + 40));
	em_obj_end(em);
}

static void emit_record(emitter_t *em, const uint8_t *lr)
{
	uint64_t t = rd(lr, 0) & ~TX_CI, len = rd(lr, 8), off;
	em_obj_begin(em, NULL);
	em_u64(em, "seq", rd(lr, 24));
	em_u64(em, "txg", rd(lr, 16));
	em_str(em, "type", zil_txtype_name(t));
	if (rd(lr, 0) & TX_CI)
		em_bool(em, "case_insensitive", true);
	em_u64(em, "reclen", len);
	switch (t) {
	case TX_CREATE: case TX_MKDIR: case TX_MKXATTR: case TX_SYMLINK:
	case TX_CREATE_ATTR: case TX_MKDIR_ATTR: case TX_CREATE_ACL: case TX_CREATE_ACL_ATTR:
	case TX_MKDIR_ACL: case TX_MKDIR_ACL_ATTR: {
		if (len < 104)
			break;
		bool acl = t == TX_CREATE_ACL || t == TX_CREATE_ACL_ATTR || t == TX_MKDIR_ACL ||
			   t == TX_MKDIR_ACL_ATTR;
		bool attr = t == TX_CREATE_ATTR || t == TX_MKDIR_ATTR || t == TX_CREATE_ACL_ATTR ||
			    t == TX_MKDIR_ACL_ATTR;
		em_u64(em, "doid", rd(lr, 32));
		em_u64(em, "foid", rd(lr, 40) & LR_FOID_OBJ_MASK);
		em_u64(em, "dnode_slots", (rd(lr, 40) >> 56) + 1);
		em_mode(em, "mode", rd(lr, 48));
		em_u64(em, "uid", rd(lr, 56));
		em_u64(em, "gid", rd(lr, 64));
		em_u64(em, "gen", rd(lr, 72));
		em_time(em, "crtime", lr + 80);
		em_hex(em, "rdev", rd(lr, 96));
		off = acl ? 144 : 104;
		if (acl && len >= 144) {
			em_u64(em, "aclcnt", rd(lr, 104));
			em_u64(em, "acl_bytes", rd(lr, 128));
		}
		if (attr && len >= off + 72) {
			em_xvattr(em, lr + off);
			off += 72;
		}
		if (acl && len >= 144)
			off += ((rd(lr, 128) + 7) & ~7ULL) + 8 * rd(lr, 120);
		em_str(em, "name", str_at(lr, &off));
		if (t == TX_SYMLINK)
			em_str(em, "target", str_at(lr, &off));
		break;
	}
	case TX_REMOVE: case TX_RMDIR:
		if (len < 40)
			break;
		off = 40;
		em_u64(em, "doid", rd(lr, 32));
		em_str(em, "name", str_at(lr, &off));
		break;
	case TX_LINK:
		if (len < 48)
			break;
		off = 48;
		em_u64(em, "doid", rd(lr, 32));
		em_u64(em, "link_obj", rd(lr, 40));
		em_str(em, "name", str_at(lr, &off));
		break;
	case TX_RENAME: case TX_RENAME_EXCHANGE: case TX_RENAME_WHITEOUT:
		if (len < 48)
			break;
		em_u64(em, "sdoid", rd(lr, 32));
		em_u64(em, "tdoid", rd(lr, 40));
		off = 48;
		if (t == TX_RENAME_WHITEOUT && len >= 112) {
			em_u64(em, "wfoid", rd(lr, 48) & LR_FOID_OBJ_MASK);
			em_mode(em, "wmode", rd(lr, 56));
			em_u64(em, "wuid", rd(lr, 64));
			em_u64(em, "wgid", rd(lr, 72));
			em_u64(em, "wgen", rd(lr, 80));
			off = 112;
		}
		em_str(em, "sname", str_at(lr, &off));
		em_str(em, "tname", str_at(lr, &off));
		break;
	case TX_WRITE: case TX_WRITE2: {
		if (len < 192)
			break;
		em_u64(em, "foid", rd(lr, 32));
		em_u64(em, "offset", rd(lr, 40));
		em_u64(em, "length", rd(lr, 48));
		em_str(em, "form", t == TX_WRITE2 ? "size" : len == 192 ? "indirect" : "copied");
		if (len == 192) {
			blkptr_t bp;
			bp_load(&bp, lr + 64);
			em_bp(em, "blkptr", &bp);
		}
		break;
	}
	case TX_TRUNCATE:
		if (len < 56)
			break;
		em_u64(em, "foid", rd(lr, 32));
		em_u64(em, "offset", rd(lr, 40));
		em_u64(em, "length", rd(lr, 48));
		break;
	case TX_SETATTR:
		if (len < 112)
			break;
		em_u64(em, "foid", rd(lr, 32));
		em_hex(em, "mask", rd(lr, 40));
		em_mode(em, "mode", rd(lr, 48));
		em_u64(em, "uid", rd(lr, 56));
		em_u64(em, "gid", rd(lr, 64));
		em_u64(em, "size", rd(lr, 72));
		em_time(em, "atime", lr + 80);
		em_time(em, "mtime", lr + 96);
		if ((rd(lr, 40) & 0x80000000ULL) && len >= 112 + 72)
			em_xvattr(em, lr + 112);
		break;
	case TX_SETSAXATTR: {
		if (len < 48)
			break;
		em_u64(em, "foid", rd(lr, 32));
		em_u64(em, "size", rd(lr, 40));
		off = 48;
		em_str(em, "name", str_at(lr, &off));
		uint64_t n = rd(lr, 40);
		if (n && off + n <= len) {
			char hex[2 * 64 + 3] = "0x";
			for (uint64_t i = 0; i < n && i < 64; i++)
				snprintf(hex + 2 + 2 * i, 3, "%02x", lr[off + i]);
			em_str(em, "value", hex);
		}
		break;
	}
	case TX_CLONE_RANGE:
		if (len < 72)
			break;
		em_u64(em, "foid", rd(lr, 32));
		em_u64(em, "offset", rd(lr, 40));
		em_u64(em, "length", rd(lr, 48));
		em_u64(em, "blksz", rd(lr, 56));
		em_u64(em, "nbps", rd(lr, 64));
		break;
	case TX_ACL_V0: case TX_ACL:
		if (len < 48)
			break;
		em_u64(em, "foid", rd(lr, 32));
		em_u64(em, "aclcnt", rd(lr, 40));
		break;
	default:
		break;
	}
	em_obj_end(em);
}

struct izil {
	spa_t *spa;
	emitter_t *em;
};

static int block_cb(void *arg, const blkptr_t *bp)
{
	struct izil *z = arg;
	emitter_t *em = z->em;
	em_obj_begin(em, NULL);
	em_u64(em, "seq", bp->blk_cksum.zc_word[ZIL_ZC_SEQ]);
	em_bp(em, "blkptr", bp);
	uint8_t *buf = NULL;
	bool valid = false;
	blkptr_t next;
	uint64_t ro, re;
	int rc = zil_read_block_recs(z->spa, bp, &buf, &valid, &next, &ro, &re);
	free(buf);
	em_str(em, "state", rc ? "unreadable" : valid ? "written" : "does not verify (end of chain)");
	if (valid)
		em_u64(em, "record_bytes", re - ro);
	em_obj_end(em);
	return 0;
}

static int record_cb(void *arg, const uint8_t *lr)
{
	emit_record(((struct izil *)arg)->em, lr);
	return 0;
}

int zfuse_inspect_zil(zfuse_pool_t *pool, const char *dataset, const struct zfuse_inspect_opts *o)
{
	spa_t *spa = (spa_t *)pool;
	struct dsl_dataset_ref ref;
	int rc = dsl_dataset_find(spa, dataset, &ref);
	if (rc)
		return rc;
	objset_t *os;
	if ((rc = objset_open(spa, &ref.phys.bp, &os)) != 0)
		return rc;
	zil_header_t zh;
	zil_header_get(os, &zh);
	objset_close(os);
	emitter_t em;
	em_init(&em, o && o->out ? o->out : stdout, o && o->json);
	em_obj_begin(&em, NULL);
	em_str(&em, "dataset", dataset);
	em_obj_begin(&em, "header");
	em_u64(&em, "claim_txg", zh.claim_txg);
	em_u64(&em, "replay_seq", zh.replay_seq);
	em_bp(&em, "log", &zh.log);
	em_u64(&em, "claim_blk_seq", zh.claim_blk_seq);
	em_hex(&em, "flags", zh.flags);
	em_u64(&em, "claim_lr_seq", zh.claim_lr_seq);
	em_str(&em, "state", bp_is_hole(&zh.log) ? "no log" :
	       !zh.claim_txg ? "not claimed" :
	       zh.flags & ZIL_REPLAY_NEEDED ? "claimed, replay needed" : "claimed, nothing to replay");
	em_obj_end(&em);
	struct izil z = { spa, &em };
	struct zil_parse_end end = { 0 };
	em_arr_begin(&em, "blocks");
	if (!strchr(dataset, '@'))
		zil_parse(spa, &zh, block_cb, NULL, &z, &end);
	em_arr_end(&em);
	em_arr_begin(&em, "records");
	if (!strchr(dataset, '@'))
		rc = zil_parse(spa, &zh, NULL, record_cb, &z, &end);
	em_arr_end(&em);
	em_obj_begin(&em, "end");
	em_u64(&em, "blocks", end.blk_count);
	em_u64(&em, "last_block_seq", end.blk_seq);
	em_u64(&em, "records", end.lr_count);
	em_u64(&em, "last_record_seq", end.lr_seq);
	em_str(&em, "error", rc ? zfuse_strerror(rc) : "none");
	em_obj_end(&em);
	em_obj_end(&em);
	em_finish(&em);
	return rc;
}
