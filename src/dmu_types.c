/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dmu_types.c — the table of legacy DMU object types and the decoding of
 * the self-describing DMU_OTN_* types (object-layer.md §2.1–2.2).
 */
#include <stddef.h>
#include "dmu_types.h"

#define DMU_OT_NEWTYPE 0x80
#define DMU_OT_METADATA 0x40
#define DMU_OT_ENCRYPTED 0x20
#define DMU_OT_BYTESWAP_MASK 0x1f

static const struct {
	const char *name;
	enum dmu_byteswap bswap;
	bool metadata;
	bool encrypted;
} dmu_ot_table[DMU_OT_NUMTYPES] = {
	{ "unallocated", DMU_BSWAP_UINT8, true, false },
	{ "object directory", DMU_BSWAP_ZAP, true, false },
	{ "object array", DMU_BSWAP_UINT64, true, false },
	{ "packed nvlist", DMU_BSWAP_UINT8, true, false },
	{ "packed nvlist size", DMU_BSWAP_UINT64, true, false },
	{ "bpobj", DMU_BSWAP_UINT64, true, false },
	{ "bpobj header", DMU_BSWAP_UINT64, true, false },
	{ "SPA space map header", DMU_BSWAP_UINT64, true, false },
	{ "SPA space map", DMU_BSWAP_UINT64, true, false },
	{ "ZIL intent log", DMU_BSWAP_UINT64, true, true },
	{ "DMU dnode", DMU_BSWAP_DNODE, true, true },
	{ "DMU objset", DMU_BSWAP_OBJSET, true, false },
	{ "DSL directory", DMU_BSWAP_UINT64, true, false },
	{ "DSL directory child map", DMU_BSWAP_ZAP, true, false },
	{ "DSL dataset snap map", DMU_BSWAP_ZAP, true, false },
	{ "DSL props", DMU_BSWAP_ZAP, true, false },
	{ "DSL dataset", DMU_BSWAP_UINT64, true, false },
	{ "ZFS znode", DMU_BSWAP_ZNODE, true, false },
	{ "ZFS V0 ACL", DMU_BSWAP_OLDACL, true, true },
	{ "ZFS plain file", DMU_BSWAP_UINT8, false, true },
	{ "ZFS directory", DMU_BSWAP_ZAP, true, true },
	{ "ZFS master node", DMU_BSWAP_ZAP, true, false },
	{ "ZFS delete queue", DMU_BSWAP_ZAP, true, true },
	{ "zvol object", DMU_BSWAP_UINT8, false, true },
	{ "zvol prop", DMU_BSWAP_ZAP, true, false },
	{ "other uint8[]", DMU_BSWAP_UINT8, false, true },
	{ "other uint64[]", DMU_BSWAP_UINT64, false, true },
	{ "other ZAP", DMU_BSWAP_ZAP, true, false },
	{ "persistent error log", DMU_BSWAP_ZAP, true, false },
	{ "SPA history", DMU_BSWAP_UINT8, true, false },
	{ "SPA history offsets", DMU_BSWAP_UINT64, true, false },
	{ "Pool properties", DMU_BSWAP_ZAP, true, false },
	{ "DSL permissions", DMU_BSWAP_ZAP, true, false },
	{ "ZFS ACL", DMU_BSWAP_ACL, true, true },
	{ "ZFS SYSACL", DMU_BSWAP_UINT8, true, true },
	{ "FUID table", DMU_BSWAP_UINT8, true, true },
	{ "FUID table size", DMU_BSWAP_UINT64, true, false },
	{ "DSL dataset next clones", DMU_BSWAP_ZAP, true, false },
	{ "scan work queue", DMU_BSWAP_ZAP, true, false },
	{ "ZFS user/group/project used", DMU_BSWAP_ZAP, true, true },
	{ "ZFS user/group/project quota", DMU_BSWAP_ZAP, true, true },
	{ "snapshot refcount tags", DMU_BSWAP_ZAP, true, false },
	{ "DDT ZAP algorithm", DMU_BSWAP_ZAP, true, false },
	{ "DDT statistics", DMU_BSWAP_ZAP, true, false },
	{ "System attributes", DMU_BSWAP_UINT8, true, true },
	{ "SA master node", DMU_BSWAP_ZAP, true, true },
	{ "SA attr registration", DMU_BSWAP_ZAP, true, true },
	{ "SA attr layouts", DMU_BSWAP_ZAP, true, true },
	{ "scan translations", DMU_BSWAP_ZAP, true, false },
	{ "deduplicated block", DMU_BSWAP_UINT8, false, true },
	{ "DSL deadlist map", DMU_BSWAP_ZAP, true, false },
	{ "DSL deadlist map hdr", DMU_BSWAP_UINT64, true, false },
	{ "DSL dir clones", DMU_BSWAP_ZAP, true, false },
	{ "bpobj subobj", DMU_BSWAP_UINT64, true, false },
};

bool dmu_ot_is_valid(unsigned type)
{
	if (type & DMU_OT_NEWTYPE)
		return (type & DMU_OT_BYTESWAP_MASK) < DMU_BSWAP_NUMFUNCS && type <= 0xff;
	return type < DMU_OT_NUMTYPES;
}

const char *dmu_ot_name(unsigned type)
{
	static const char *const otn_full[2][2] = {
		{ "object (data)", "encrypted object (data)" },
		{ "object (metadata)", "encrypted object (metadata)" },
	};
	if (!dmu_ot_is_valid(type))
		return "invalid type";
	if (type & DMU_OT_NEWTYPE) {
		unsigned bs = type & DMU_OT_BYTESWAP_MASK;
		if (bs == DMU_BSWAP_ZAP)
			return (type & DMU_OT_METADATA) ? "zap (metadata)" : "zap (data)";
		/* the new types' byteswap classes are uint8..uint64 and zap */
		if (bs <= DMU_BSWAP_ZAP)
			return otn_full[!!(type & DMU_OT_METADATA)][!!(type & DMU_OT_ENCRYPTED)];
		return "new-style object";
	}
	return dmu_ot_table[type].name;
}

bool dmu_ot_is_metadata(unsigned type)
{
	if (type & DMU_OT_NEWTYPE)
		return type & DMU_OT_METADATA;
	return type < DMU_OT_NUMTYPES ? dmu_ot_table[type].metadata : true;
}

bool dmu_ot_is_encrypted(unsigned type)
{
	if (type & DMU_OT_NEWTYPE)
		return type & DMU_OT_ENCRYPTED;
	return type < DMU_OT_NUMTYPES ? dmu_ot_table[type].encrypted : false;
}

enum dmu_byteswap dmu_ot_byteswap(unsigned type)
{
	if (type & DMU_OT_NEWTYPE) {
		unsigned bs = type & DMU_OT_BYTESWAP_MASK;
		return bs < DMU_BSWAP_NUMFUNCS ? (enum dmu_byteswap)bs : DMU_BSWAP_UINT8;
	}
	return type < DMU_OT_NUMTYPES ? dmu_ot_table[type].bswap : DMU_BSWAP_UINT8;
}
