/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * inspect_object.c — object-level reports: the object table of a dataset,
 * one object in full (dnode, bonus, ZAP, block tree), and raw blocks by
 * device address. Datasets are named as in zfs ("pool/fs@snap"), plus
 * "mos" for the meta object set.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "byteorder.h"
#include "dbuf.h"
#include "dmu_types.h"
#include "dnode.h"
#include "dsl_crypt.h"
#include "dsl.h"
#include "inspect_emit.h"
#include "sa.h"
#include "spa.h"
#include "zap.h"
#include "zio_compress.h"
#include "zfuse/inspect.h"
#include "zfs_debug.h"

static FILE *out_of(const struct zfuse_inspect_opts *o)
{
	return o && o->out ? o->out : stdout;
}

/* Open a dataset's objset (or borrow the MOS). *owned says whether to close. */
static int open_objset(spa_t *spa, const char *name, objset_t **os, bool *owned)
{
	*owned = false;
	if (strcmp(name, "mos") == 0) {
		*os = spa->mos;
		return 0;
	}
	struct dsl_dataset_ref ref;
	int rc = dsl_dataset_find(spa, name, &ref);
	if (rc)
		return rc;
	if ((rc = objset_open(spa, &ref.phys.bp, os)) == 0) {
		*owned = true;
		/* With its key loaded an encrypted dataset shows in clear. */
		zio_crypt_key_t *key;
		if (dsl_dir_is_encrypted(spa, ref.dirobj) &&
		    dsl_crypt_key_hold(spa, ref.dirobj, &key) == 0)
			(*os)->key = key;
	}
	return rc;
}

static uint64_t used_bytes(const dnode_t *dn)
{
	return (dn->flags & DNODE_FLAG_USED_BYTES) ? dn->used : dn->used << 9;
}

static void emit_dnode_fields(emitter_t *em, const dnode_t *dn)
{
	em_u64(em, "object", dn->object);
	em_str(em, "type", dmu_ot_name(dn->type));
	em_u64(em, "type_id", dn->type);
	em_u64(em, "levels", dn->nlevels);
	em_u64(em, "indirect_block_size", dn->nlevels > 1 || dn->indblkshift ? 1ULL << dn->indblkshift : 0);
	em_u64(em, "data_block_size", dnode_datablksz(dn));
	em_u64(em, "dnode_size", dn->size);
	em_u64(em, "data_size", dnode_data_size(dn));
	em_u64(em, "used", used_bytes(dn));
	em_u64(em, "max_blkid", dn->maxblkid);
	em_str(em, "bonus_type", dmu_ot_name(dn->bonustype));
	em_u64(em, "bonus_len", dn->bonuslen);
}

static void emit_dnode_row(emitter_t *em, const dnode_t *dn)
{
	em_obj_begin(em, NULL);
	emit_dnode_fields(em, dn);
	em_obj_end(em);
}

/* Walk every allocated dnode of os (object 0 included), calling cb. */
typedef int (*dnode_visit_fn)(void *arg, dnode_t *dn);

static int objset_walk_dnodes(objset_t *os, dnode_visit_fn cb, void *arg, int *damage)
{
	dnode_t *mdn = &os->meta_dnode;
	mdn->object = 0;
	int rc = cb(arg, mdn);
	if (rc)
		return rc;
	uint64_t bs = dnode_datablksz(mdn);
	uint64_t per = bs >> DNODE_SHIFT;
	for (uint64_t blk = 0; blk <= mdn->maxblkid; blk++) {
		blkptr_t bp;
		if (dnode_find_bp(mdn, 0, blk, &bp) != 0) {
			(*damage)++;
			continue;
		}
		if (bp_is_hole(&bp))
			continue;
		arc_buf_t *b;
		if (dbuf_hold(mdn, 0, blk, &b) != 0) {
			(*damage)++;
			continue;
		}
		for (uint64_t i = 0; i < per && rc == 0;) {
			dnode_t dn;
			const uint8_t *raw = (const uint8_t *)b->data + i * DNODE_MIN_SIZE;
			int r = dnode_decode(&dn, raw, b->size - i * DNODE_MIN_SIZE);
			if (r == 0) {
				dn.os = os;
				dn.object = blk * per + i;
				dn.buf = NULL;
				if (dn.object != 0)
					rc = cb(arg, &dn);
				i += dn.extra_slots + 1;
			} else {
				if (r != -ZFUSE_E_NOENT)
					(*damage)++;
				i++;
			}
		}
		dbuf_rele(mdn, b);
		if (rc)
			return rc;
	}
	return 0;
}

static int row_cb(void *arg, dnode_t *dn)
{
	emit_dnode_row(arg, dn);
	return 0;
}

int zfuse_inspect_objects(zfuse_pool_t *pool, const char *dataset, const struct zfuse_inspect_opts *o)
{
	spa_t *spa = (spa_t *)pool;
	objset_t *os;
	bool owned;
	int rc = open_objset(spa, dataset, &os, &owned);
	if (rc)
		return rc;
	emitter_t em;
	em_init(&em, out_of(o), o && o->json);
	em_obj_begin(&em, NULL);
	em_str(&em, "dataset", dataset);
	em_u64(&em, "objset_type", os->type);
	em_arr_begin(&em, "objects");
	int damage = 0;
	rc = objset_walk_dnodes(os, row_cb, &em, &damage);
	em_arr_end(&em);
	em_u64(&em, "damaged_dnode_blocks", (uint64_t)damage);
	em_obj_end(&em);
	em_finish(&em);
	if (owned)
		objset_close(os);
	return rc ? rc : damage ? SET_ERROR(-ZFUSE_E_CORRUPT) : 0;
}

/* ---- one object ---- */

static void emit_sa_attr(void *arg, const char *name, unsigned num, const uint8_t *val, uint32_t len)
{
	emitter_t *em = arg;
	(void)num;
	if (len == 8) {
		em_u64(em, name, le64(val));
	} else if (len == 16 && strstr(name, "TIME")) {
		char buf[64];
		snprintf(buf, sizeof(buf), "%" PRId64 ".%09" PRIu64, (int64_t)le64(val), le64(val + 8));
		em_str(em, name, buf);
	} else if (!strcmp(name, "ZPL_SYMLINK")) {
		char *s = malloc((size_t)len + 1);
		if (s) {
			memcpy(s, val, len);
			s[len] = 0;
			em_str(em, name, s);
			free(s);
		}
	} else if (!strcmp(name, "ZPL_DXATTR")) {
		nvlist_t *nvl;
		if (nvlist_unpack(val, len, &nvl) == 0) {
			em_nvlist(em, name, nvl);
			nvlist_free(nvl);
		} else {
			em_str(em, name, "(undecodable nvlist)");
		}
	} else {
		char *hex = malloc((size_t)len * 2 + 1);
		if (hex) {
			for (uint32_t i = 0; i < len; i++)
				sprintf(hex + 2 * i, "%02x", val[i]);
			hex[2 * len] = 0;
			em_str(em, name, hex);
			free(hex);
		}
	}
}

static void emit_u64_fields(emitter_t *em, const uint8_t *b, uint64_t len, const char *const *names,
			    size_t n)
{
	for (size_t i = 0; i < n && (i + 1) * 8 <= len; i++)
		if (names[i])
			em_u64(em, names[i], le64(b + 8 * i));
}

static const char *const znode_names[] = {
	"atime_sec", "atime_nsec", "mtime_sec", "mtime_nsec", "ctime_sec", "ctime_nsec",
	"crtime_sec", "crtime_nsec", "gen", "mode", "size", "parent", "links", "xattr",
	"rdev", "flags", "uid", "gid",
};
static const char *const dsl_dir_names[] = {
	"creation_time", "head_dataset_obj", "parent_obj", "origin_obj", "child_dir_zapobj",
	"used_bytes", "compressed_bytes", "uncompressed_bytes", "quota", "reserved",
	"props_zapobj", "deleg_zapobj", "flags", "used_head", "used_snap", "used_child",
	"used_child_reserved", "used_refreservation", "clones",
};
static const char *const dsl_ds_names[] = {
	"dir_obj", "prev_snap_obj", "prev_snap_txg", "next_snap_obj", "snapnames_zapobj",
	"num_children", "creation_time", "creation_txg", "deadlist_obj", "referenced_bytes",
	"compressed_bytes", "uncompressed_bytes", "unique_bytes", "fsid_guid", "guid", "flags",
};

static void emit_bonus(emitter_t *em, objset_t *os, dnode_t *dn, sa_table_t *sa)
{
	uint64_t len;
	const uint8_t *b = dnode_bonus(dn, &len);
	em_obj_begin(em, "bonus");
	em_str(em, "type", dmu_ot_name(dn->bonustype));
	switch (dn->bonustype) {
	case DMU_OT_SA:
		if (sa) {
			int r = sa_foreach(sa, dn, emit_sa_attr, em);
			if (r)
				em_str(em, "error", zfuse_strerror(r));
		}
		break;
	case DMU_OT_ZNODE:
		emit_u64_fields(em, b, len, znode_names, sizeof(znode_names) / sizeof(znode_names[0]));
		break;
	case DMU_OT_DSL_DIR:
		emit_u64_fields(em, b, len, dsl_dir_names, sizeof(dsl_dir_names) / sizeof(dsl_dir_names[0]));
		break;
	case DMU_OT_DSL_DATASET:
		emit_u64_fields(em, b, len, dsl_ds_names, sizeof(dsl_ds_names) / sizeof(dsl_ds_names[0]));
		if (len >= 256) {
			blkptr_t bp;
			char desc[512];
			bp_load(&bp, b + 128);
			bp_describe(&bp, desc, sizeof(desc));
			em_str(em, "bp", desc);
		}
		break;
	case DMU_OT_PACKED_NVLIST_SIZE:
	case DMU_OT_SPACE_MAP_HEADER:
	case DMU_OT_BPOBJ_HDR:
	case 51:	/* DEADLIST_HDR */
		for (uint64_t i = 0; i + 8 <= len && i < 64; i += 8) {
			char k[16];
			snprintf(k, sizeof(k), "word%" PRIu64, i / 8);
			em_u64(em, k, le64(b + i));
		}
		break;
	default:
		break;
	}
	(void)os;
	em_obj_end(em);
}

static int emit_zap_entry(void *arg, const zap_entry_t *ze)
{
	emitter_t *em = arg;
	em_obj_begin(em, NULL);
	em_str(em, "name", ze->name);
	em_u64(em, "intlen", ze->value_intlen);
	em_u64(em, "count", ze->value_numints);
	if (ze->value_intlen == 1 && ze->value_numints > 1 && ze->value_numints < 4096 &&
	    ze->value[ze->value_numints - 1] == 0 && memchr(ze->value, 0, ze->value_numints) ==
	    ze->value + ze->value_numints - 1) {
		em_str(em, "string", (const char *)ze->value);
	} else {
		em_arr_begin(em, "value");
		for (uint64_t i = 0; i < ze->value_numints && i < 64; i++) {
			uint64_t v = 0;
			memcpy(&v, ze->value + i * ze->value_intlen, ze->value_intlen);
			em_u64(em, NULL, v);
		}
		em_arr_end(em);
	}
	em_obj_end(em);
	return 0;
}

static int emit_tree(emitter_t *em, dnode_t *dn, int level, uint64_t blkid, const blkptr_t *bp,
		     int verbosity, int *damage)
{
	char desc[512];
	bp_describe(bp, desc, sizeof(desc));
	em_obj_begin(em, NULL);
	em_u64(em, "level", (uint64_t)level);
	em_u64(em, "blkid", blkid);
	em_str(em, "bp", desc);
	if (level > 0 && !bp_is_hole(bp) && (verbosity > 1 || level > 1)) {
		arc_buf_t *b;
		int r = arc_read_key(dn->os->spa, bp, dn->os->key, &b);
		if (r) {
			em_str(em, "error", zfuse_strerror(r));
			(*damage)++;
		} else {
			unsigned epbs = dn->indblkshift - 7;
			em_arr_begin(em, "children");
			for (uint64_t i = 0; i < (1ULL << epbs) && (i + 1) * 128 <= b->size; i++) {
				blkptr_t c;
				bp_load(&c, (uint8_t *)b->data + i * 128);
				if (bp_is_hole(&c) && c.blk_birth == 0)
					continue;
				if (level - 1 == 0 && verbosity < 2)
					continue;
				emit_tree(em, dn, level - 1, (blkid << epbs) + i, &c, verbosity, damage);
			}
			em_arr_end(em);
			arc_release(dn->os->spa, b);
		}
	}
	em_obj_end(em);
	return 0;
}

int zfuse_inspect_object(zfuse_pool_t *pool, const char *dataset, const char *what,
			 const struct zfuse_inspect_opts *o)
{
	spa_t *spa = (spa_t *)pool;
	uint64_t obj = 0;
	int rc;
	if (what[0] == '/') {
		zfuse_fs_t *fs;
		if ((rc = zfuse_fs_open(pool, dataset, &fs)) != 0)
			return rc;
		obj = zfuse_fs_root(fs);
		char *copy = strdup(what), *save = NULL;
		for (char *c = strtok_r(copy, "/", &save); c && rc == 0; c = strtok_r(NULL, "/", &save))
			rc = zfuse_lookup(fs, obj, c, &obj);
		free(copy);
		zfuse_fs_close(fs);
		if (rc)
			return rc;
	} else {
		char *end;
		obj = strtoull(what, &end, 0);
		if (*end)
			return -ZFUSE_E_INVAL;
	}
	objset_t *os;
	bool owned;
	if ((rc = open_objset(spa, dataset, &os, &owned)) != 0)
		return rc;
	dnode_t dn;
	if (obj == 0) {
		dn = os->meta_dnode;
		dn.object = 0;
		rc = 0;
	} else {
		rc = dnode_hold(os, obj, &dn);
	}
	if (rc) {
		if (owned)
			objset_close(os);
		return rc;
	}
	sa_table_t *sa = NULL;
	if (dn.bonustype == DMU_OT_SA) {
		dnode_t mn;
		uint64_t sa_obj = 0;
		if (dnode_hold(os, 1, &mn) == 0) {
			zap_lookup_uint64(&mn, "SA_ATTRS", &sa_obj);
			dnode_rele(&mn);
		}
		if (sa_obj)
			sa_table_load(os, sa_obj, &sa);
	}
	int verbosity = o ? o->verbosity : 0;
	int damage = 0;
	emitter_t em;
	em_init(&em, out_of(o), o && o->json);
	em_obj_begin(&em, NULL);
	em_str(&em, "dataset", dataset);
	em_obj_begin(&em, "dnode");
	emit_dnode_fields(&em, &dn);
	em_u64(&em, "flags", dn.flags);
	em_u64(&em, "nblkptr", dn.nblkptr);
	em_u64(&em, "checksum", dn.checksum);
	em_u64(&em, "compress", dn.compress);
	em_obj_end(&em);
	emit_bonus(&em, os, &dn, sa);
	if (dmu_ot_is_zap(dn.type)) {
		zap_info_t zi;
		em_obj_begin(&em, "zap");
		if (zap_get_info(&dn, &zi) == 0) {
			em_str(&em, "kind", zi.micro ? "micro" : "fat");
			em_hex(&em, "salt", zi.salt);
			em_u64(&em, "normflags", zi.normflags);
			if (!zi.micro) {
				em_u64(&em, "leafs", zi.num_leafs);
				em_u64(&em, "entries", zi.num_entries);
				em_u64(&em, "ptrtbl_shift", zi.zt_shift);
			}
			em_arr_begin(&em, "entries");
			int r = zap_iterate(&dn, 0, 0, emit_zap_entry, &em);
			em_arr_end(&em);
			if (r) {
				em_str(&em, "error", zfuse_strerror(r));
				damage++;
			}
		} else {
			em_str(&em, "error", "unreadable ZAP header");
			damage++;
		}
		em_obj_end(&em);
	}
	em_arr_begin(&em, "blocks");
	for (int i = 0; i < dn.nblkptr; i++) {
		blkptr_t bp;
		dnode_blkptr(&dn, i, &bp);
		if (bp_is_hole(&bp) && bp.blk_birth == 0)
			continue;
		emit_tree(&em, &dn, dn.nlevels - 1, (uint64_t)i, &bp, verbosity, &damage);
	}
	blkptr_t spill;
	if (dnode_spill_bp(&dn, &spill) == 0) {
		char desc[512];
		bp_describe(&spill, desc, sizeof(desc));
		em_obj_begin(&em, NULL);
		em_str(&em, "spill", desc);
		em_obj_end(&em);
	}
	em_arr_end(&em);
	em_obj_end(&em);
	em_finish(&em);
	sa_table_free(sa);
	if (obj != 0)
		dnode_rele(&dn);
	if (owned)
		objset_close(os);
	return damage ? SET_ERROR(-ZFUSE_E_CORRUPT) : 0;
}

/* ---- raw blocks ---- */

static void hexdump(FILE *f, const uint8_t *p, uint64_t n)
{
	for (uint64_t off = 0; off < n; off += 16) {
		fprintf(f, "%06" PRIx64 ": ", off);
		for (uint64_t i = 0; i < 16; i++) {
			if (off + i < n)
				fprintf(f, "%02x", p[off + i]);
			else
				fputs("  ", f);
			if (i & 1)
				fputc(' ', f);
		}
		fputc(' ', f);
		for (uint64_t i = 0; i < 16 && off + i < n; i++)
			fputc(p[off + i] >= 32 && p[off + i] < 127 ? p[off + i] : '.', f);
		fputc('\n', f);
	}
}

int zfuse_inspect_block(zfuse_pool_t *pool, const char *spec, const struct zfuse_inspect_opts *o)
{
	spa_t *spa = (spa_t *)pool;
	char *copy = strdup(spec);
	if (!copy)
		return -ZFUSE_E_NOMEM;
	char *save = NULL;
	char *f_vdev = strtok_r(copy, ":", &save);
	char *f_off = strtok_r(NULL, ":", &save);
	char *f_size = strtok_r(NULL, ":", &save);
	char *f_flags = strtok_r(NULL, ":", &save);
	int rc = -ZFUSE_E_INVAL;
	if (!f_vdev || !f_off || !f_size)
		goto out;
	uint64_t vdev = strtoull(f_vdev, NULL, 16);
	uint64_t off = strtoull(f_off, NULL, 16);
	char *slash = strchr(f_size, '/');
	uint64_t psize = strtoull(f_size, NULL, 16);
	uint64_t lsize = slash ? strtoull(slash + 1, NULL, 16) : psize;
	bool raw = f_flags && strchr(f_flags, 'r');
	bool decomp = f_flags && strchr(f_flags, 'd');
	vdev_t *top = spa_lookup_top(spa, vdev);
	if (!top || psize == 0 || psize > SPA_MAXBLOCKSIZE || lsize > SPA_MAXBLOCKSIZE)
		goto out;
	uint8_t *buf = malloc(psize), *lbuf = NULL;
	if (!buf) {
		rc = -ZFUSE_E_NOMEM;
		goto out;
	}
	rc = vdev_read(top, off, buf, psize, NULL, NULL);
	FILE *f = out_of(o);
	const char *alg_used = NULL;
	if (rc == 0 && decomp) {
		lbuf = malloc(lsize);
		for (unsigned alg = ZIO_COMPRESS_LZJB; lbuf && alg < ZIO_COMPRESS_FUNCTIONS; alg++) {
			if (alg == ZIO_COMPRESS_EMPTY)
				continue;
			if (zio_decompress(alg, buf, psize, lbuf, lsize) == 0) {
				alg_used = zio_compress_name(alg);
				break;
			}
		}
		if (!alg_used)
			rc = SET_ERROR(-ZFUSE_E_DECOMPRESS);
	}
	if (rc == 0) {
		const uint8_t *data = alg_used ? lbuf : buf;
		uint64_t n = alg_used ? lsize : psize;
		if (raw) {
			fwrite(data, 1, n, f);
		} else {
			fprintf(f, "Found vdev %" PRIu64 ", offset 0x%" PRIx64 ", size 0x%" PRIx64, vdev, off, psize);
			if (alg_used)
				fprintf(f, ", decompressed with %s to 0x%" PRIx64, alg_used, lsize);
			fputc('\n', f);
			hexdump(f, data, n);
		}
	}
	free(buf);
	free(lbuf);
out:
	free(copy);
	return rc;
}
