/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dmu_objset.c — the pool's shared in-core object sets and how their
 * blocks are written. A dataset has exactly one objset_t while anything
 * holds it, because its dirty overlay is the truth until the next sync;
 * two private copies would each miss the other's changes.
 */
#include <stdlib.h>
#include <string.h>
#include "byteorder.h"
#include "dmu_byteswap.h"
#include "dbuf.h"
#include "dmu_objset.h"
#include "zfs_quota.h"
#include "dmu_tx.h"
#include "dmu_types.h"
#include "dsl.h"
#include "dsl_quota.h"
#include "spa_impl.h"
#include "zfeature.h"
#include "zio_compress.h"
#include "zfuse/errors.h"

#define ZIO_CHECKSUM_ON 1
#define ZIO_COMPRESS_LEVEL_SHIFT 7
#define ZIO_COMPRESS_ALG_MASK 0x7f
#define META_DNODE_BLKSZ (16ULL << 10)
#define META_DNODE_INDBLKSHIFT 17

int spa_objset_hold(spa_t *spa, uint64_t dsobj, objset_t **out)
{
	for (objset_t *os = spa->objsets; os; os = os->next) {
		if (os->dsobj == dsobj) {
			os->refcount++;
			*out = os;
			return 0;
		}
	}
	dsl_dataset_phys_t ds;
	int rc = dsl_dataset_read(spa, dsobj, &ds);
	if (rc)
		return rc;
	objset_t *os;
	if ((rc = objset_open(spa, &ds.bp, &os)) != 0)
		return rc;
	os->dsobj = dsobj;
	os->refcount = 1;
	dmu_objset_refresh_props(spa, os);
	os->next = spa->objsets;
	spa->objsets = os;
	*out = os;
	return 0;
}

void spa_objset_rele(spa_t *spa, objset_t *os)
{
	if (!os || --os->refcount > 0)
		return;
	if (dmu_objset_is_dirty(os) && spa->writable)
		return;		/* kept until synced; txg.c drops it then */
	objset_t **pp = &spa->objsets;
	while (*pp && *pp != os)
		pp = &(*pp)->next;
	if (*pp)
		*pp = os->next;
	dbuf_overlay_clear(os);
	objset_close(os);
}

void dmu_objset_new_id_accounting(objset_t *os)
{
	if (os->type != DMU_OST_ZFS || os->spa->version < 15)
		return;
	if (zfeature_is_enabled(os->spa, "org.zfsonlinux:userobj_accounting"))
		os->flags |= OBJSET_FLAG_USEROBJACCOUNTING_COMPLETE;
	if (zfeature_is_enabled(os->spa, "org.zfsonlinux:project_quota"))
		os->flags |= OBJSET_FLAG_PROJECTQUOTA_COMPLETE;
	put_le64(os->phys + 712, os->flags);
}

int objset_create_mem(spa_t *spa, uint64_t type, uint64_t dsobj, dmu_tx_t *tx, objset_t **out)
{
	(void)tx;
	objset_t *os = calloc(1, sizeof(*os));
	if (!os)
		return -ZFUSE_E_NOMEM;
	os->spa = spa;
	os->phys_size = OBJSET_PHYS_SIZE;
	uint8_t *m = os->phys;
	m[0] = DMU_OT_DNODE;
	m[1] = META_DNODE_INDBLKSHIFT;
	/* Dataset meta-dnodes start with the levels to address 2^48 objects. */
	unsigned levels = 1;
	if (type != DMU_OST_META) {
		unsigned epbs = META_DNODE_INDBLKSHIFT - 7;
		/* 3 top pointers << (epbs * (levels - 1)) blocks of 32 dnodes */
		while (levels < DN_MAX_LEVELS && (uint64_t)epbs * (levels - 1) + 6 < 48)
			levels++;
	}
	m[2] = (uint8_t)levels;
	m[3] = DN_MAX_NBLKPTR;
	m[7] = DNODE_FLAG_USED_BYTES;
	m[8] = (uint8_t)((META_DNODE_BLKSZ >> 9) & 0xff);
	m[9] = (uint8_t)((META_DNODE_BLKSZ >> 9) >> 8);
	put_le64(os->phys + 704, type);
	os->type = type;
	/* dmu_objset_create_impl: a filesystem's user/group accounting is
	 * complete from its birth (userquota_sync keeps it), or OpenZFS
	 * recounts it on its first mount. */
	if (type == DMU_OST_ZFS && spa->version >= 15) {
		os->flags = OBJSET_FLAG_USERACCOUNTING_COMPLETE;
		put_le64(os->phys + 712, os->flags);
	}
	int rc = dnode_decode(&os->meta_dnode, os->phys, DNODE_MIN_SIZE);
	os->meta_dnode.os = os;
	if (rc) {
		free(os);
		return rc;
	}
	os->dsobj = dsobj;
	os->refcount = 1;
	os->copies = 1;
	if (type != DMU_OST_META) {
		os->next = spa->objsets;
		spa->objsets = os;
	}
	*out = os;
	return 0;
}

/* ---- write policy -------------------------------------------------------- */

static bool metadata_capable(unsigned checksum)
{
	switch (checksum) {
	case ZIO_CHECKSUM_FLETCHER_4:
	case ZIO_CHECKSUM_SHA256:
	case ZIO_CHECKSUM_SHA512:
	case ZIO_CHECKSUM_SKEIN:
	case ZIO_CHECKSUM_EDONR:
	case ZIO_CHECKSUM_BLAKE3:
		return true;
	default:
		return false;
	}
}

static unsigned on_compress(spa_t *spa)
{
	if (spa->version >= SPA_VERSION_FEATURES && zfeature_is_active(spa, "org.illumos:lz4_compress"))
		return ZIO_COMPRESS_LZ4;
	return ZIO_COMPRESS_LZJB;
}

void dmu_objset_policy(spa_t *spa, const objset_t *os, struct os_write_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->meta_compress = on_compress(spa);
	pol->meta_checksum = ZIO_CHECKSUM_FLETCHER_4;
	pol->embed = zfeature_is_enabled(spa, "com.delphix:embedded_data");
	pol->hole_birth = zfeature_is_active(spa, "com.delphix:hole_birth");
	pol->copies = 1;
	pol->data_compress = pol->meta_compress;
	pol->data_checksum = ZIO_CHECKSUM_FLETCHER_4;
	if (os == spa->mos || os->dsobj == 0) {
		pol->is_mos = true;
		return;
	}
	dsl_dataset_phys_t ds;
	if (dsl_dataset_read(spa, os->dsobj, &ds) != 0)
		return;
	if (dsl_dir_is_encrypted(spa, ds.dir_obj)) {
		pol->encrypted = true;
		pol->key = os->key;
	}
	uint64_t v;
	if (dsl_prop_get_uint64(spa, ds.dir_obj, "compression", true, &v, NULL) == 0) {
		unsigned alg = (unsigned)(v & ZIO_COMPRESS_ALG_MASK);
		pol->data_complevel = (int)(v >> ZIO_COMPRESS_LEVEL_SHIFT);
		if (alg == ZIO_COMPRESS_ON || alg == ZIO_COMPRESS_INHERIT)
			alg = pol->meta_compress;
		pol->data_compress = alg;
	}
	if (dsl_prop_get_uint64(spa, ds.dir_obj, "checksum", true, &v, NULL) == 0 &&
	    v != ZIO_CHECKSUM_ON && v != 0)
		pol->data_checksum = (unsigned)v;
	if (metadata_capable(pol->data_checksum))
		pol->meta_checksum = pol->data_checksum;
	if (dsl_prop_get_uint64(spa, ds.dir_obj, "copies", true, &v, NULL) == 0 && v >= 1 && v <= 3)
		pol->copies = (int)v;
}

void dmu_objset_refresh_props(spa_t *spa, objset_t *os)
{
	struct os_write_policy pol;
	dmu_objset_policy(spa, os, &pol);
	os->copies = (unsigned)pol.copies;
	dsl_dataset_phys_t ds;
	uint64_t rs = 128 << 10;
	if (dsl_dataset_read(spa, os->dsobj, &ds) == 0)
		dsl_prop_get_uint64(spa, ds.dir_obj, "recordsize", true, &rs, NULL);
	if (rs < 512 || rs > SPA_MAXBLOCKSIZE)
		rs = 128 << 10;
	os->recordsize = rs;
	uint64_t v = 0;
	os->dnodesize = 512;
	if (dsl_prop_get_uint64(spa, ds.dir_obj, "dnodesize", true, &v, NULL) == 0) {
		if (v == 1)
			os->dnodesize = 1024;	/* auto */
		else if (v >= 1024 && v <= 16384 && !(v & (v - 1)))
			os->dnodesize = (unsigned)v;
	}
	if (os->dnodesize > 512 && !zfeature_is_enabled(spa, "org.zfsonlinux:large_dnode"))
		os->dnodesize = 512;
	os->xattr = 2;	/* sa: the 2.3 default */
	if (dsl_prop_get_uint64(spa, ds.dir_obj, "xattr", true, &v, NULL) == 0 && v <= 2)
		os->xattr = (int)v;
	os->sync_prop = 0;	/* standard */
	if (dsl_prop_get_uint64(spa, ds.dir_obj, "sync", true, &v, NULL) == 0 && v <= 2)
		os->sync_prop = (int)v;
	os->logbias = 0;	/* latency */
	if (dsl_prop_get_uint64(spa, ds.dir_obj, "logbias", true, &v, NULL) == 0 && v <= 1)
		os->logbias = (int)v;
	os->has_quota = dsl_dataset_has_quota(spa, os->dsobj);
	os->has_idquota = zfs_objset_has_idquota(os);
}

bool dmu_objset_is_dirty(const objset_t *os)
{
	return os->header_dirty || (os->overlay && os->overlay->nobjects > 0);
}

/* ---- byte order -------------------------------------------------------- */

/* objset_phys_t of the other byte order: the meta-dnode, the ZIL header
 * (all uint64s and a block pointer), type and flags; the accounting
 * dnodes when the block is long enough to hold them. MACs are bytes. */
void dmu_objset_byteswap(void *buf, size_t size)
{
	uint8_t *p = buf;
	if (size < 1024)
		return;
	dnode_byteswap(p, DNODE_MIN_SIZE);
	byteswap_uint64_array(p + 512, 192 + 16);	/* zil header, os_type, os_flags */
	if (size >= 2048) {
		dnode_byteswap(p + 1024, DNODE_MIN_SIZE);
		dnode_byteswap(p + 1536, DNODE_MIN_SIZE);
		if (size >= 4096)
			dnode_byteswap(p + 2048, DNODE_MIN_SIZE);
	}
}
