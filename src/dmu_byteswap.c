/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dmu_byteswap.c — the one dispatch table from byteswap class to the
 * function that knows the structure (OpenZFS's dmu_ot_byteswap[]), and
 * the rule for which class a block gets. A block is swapped exactly once:
 * arc.c calls this on the buffer it has just read and verified, before
 * anyone else sees it; writing is always in host order, so swapped
 * blocks never travel back to disk as they were.
 */
#include "dmu_byteswap.h"
#include "blkptr.h"
#include "dnode.h"
#include "zap.h"
#include "zfs_acl.h"

typedef void (*byteswap_fn)(void *buf, size_t size);

static void byteswap_uint8_array(void *buf, size_t size)
{
	(void)buf;
	(void)size;
}

static void byteswap_uint16_fn(void *buf, size_t size) { byteswap_uint16_array(buf, size); }
static void byteswap_uint32_fn(void *buf, size_t size) { byteswap_uint32_array(buf, size); }
static void byteswap_uint64_fn(void *buf, size_t size) { byteswap_uint64_array(buf, size); }

static const byteswap_fn dmu_ot_byteswap_fns[DMU_BSWAP_NUMFUNCS] = {
	[DMU_BSWAP_UINT8] = byteswap_uint8_array,
	[DMU_BSWAP_UINT16] = byteswap_uint16_fn,
	[DMU_BSWAP_UINT32] = byteswap_uint32_fn,
	[DMU_BSWAP_UINT64] = byteswap_uint64_fn,
	[DMU_BSWAP_ZAP] = zap_byteswap,
	[DMU_BSWAP_DNODE] = dnode_buf_byteswap,
	[DMU_BSWAP_OBJSET] = dmu_objset_byteswap,
	[DMU_BSWAP_ZNODE] = zfs_znode_byteswap,
	[DMU_BSWAP_OLDACL] = zfs_oldacl_byteswap,
	[DMU_BSWAP_ACL] = zfs_acl_byteswap,
};

void dmu_ot_byteswap_block(enum dmu_byteswap bs, void *buf, size_t size)
{
	if ((unsigned)bs < DMU_BSWAP_NUMFUNCS)
		dmu_ot_byteswap_fns[bs](buf, size);
}

enum dmu_byteswap dmu_bp_byteswap_class(const blkptr_t *bp)
{
	if (bp_get_level(bp) > 0)
		return DMU_BSWAP_UINT64;	/* block pointers */
	return dmu_ot_byteswap(bp_get_type(bp));
}

bool bp_should_byteswap(const blkptr_t *bp)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return !bp_is_little_endian(bp);
#else
	return bp_is_little_endian(bp);
#endif
}
