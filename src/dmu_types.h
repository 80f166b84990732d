/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dmu_types.h — DMU object types (object-layer.md §2) and the questions
 * the rest of the backend asks of them: name, byteswap class, metadata,
 * encrypted.
 */
#ifndef ZFUSE_DMU_TYPES_H
#define ZFUSE_DMU_TYPES_H

#include <stdbool.h>
#include <stdint.h>

enum dmu_object_type {
	DMU_OT_NONE = 0,
	DMU_OT_OBJECT_DIRECTORY = 1,
	DMU_OT_OBJECT_ARRAY = 2,
	DMU_OT_PACKED_NVLIST = 3,
	DMU_OT_PACKED_NVLIST_SIZE = 4,
	DMU_OT_BPOBJ = 5,
	DMU_OT_BPOBJ_HDR = 6,
	DMU_OT_SPACE_MAP_HEADER = 7,
	DMU_OT_SPACE_MAP = 8,
	DMU_OT_INTENT_LOG = 9,
	DMU_OT_DNODE = 10,
	DMU_OT_OBJSET = 11,
	DMU_OT_DSL_DIR = 12,
	DMU_OT_DSL_DIR_CHILD_MAP = 13,
	DMU_OT_DSL_DS_SNAP_MAP = 14,
	DMU_OT_DSL_PROPS = 15,
	DMU_OT_DSL_DATASET = 16,
	DMU_OT_ZNODE = 17,
	DMU_OT_OLDACL = 18,
	DMU_OT_PLAIN_FILE_CONTENTS = 19,
	DMU_OT_DIRECTORY_CONTENTS = 20,
	DMU_OT_MASTER_NODE = 21,
	DMU_OT_UNLINKED_SET = 22,
	DMU_OT_ZVOL = 23,
	DMU_OT_ZVOL_PROP = 24,
	DMU_OT_SA = 44,
	DMU_OT_SA_MASTER_NODE = 45,
	DMU_OT_SA_ATTR_REGISTRATION = 46,
	DMU_OT_SA_ATTR_LAYOUTS = 47,
	DMU_OT_DEADLIST = 50,
	DMU_OT_DEADLIST_HDR = 51,
	DMU_OT_NUMTYPES = 54,
	DMU_OTN_ZAP_METADATA = 0xC4,
};

enum dmu_byteswap {
	DMU_BSWAP_UINT8, DMU_BSWAP_UINT16, DMU_BSWAP_UINT32, DMU_BSWAP_UINT64,
	DMU_BSWAP_ZAP, DMU_BSWAP_DNODE, DMU_BSWAP_OBJSET, DMU_BSWAP_ZNODE,
	DMU_BSWAP_OLDACL, DMU_BSWAP_ACL, DMU_BSWAP_NUMFUNCS
};

/* Name as zdb prints it ("DMU dnode", "ZFS plain file", ...). */
const char *dmu_ot_name(unsigned type);
bool dmu_ot_is_valid(unsigned type);
bool dmu_ot_is_metadata(unsigned type);
bool dmu_ot_is_encrypted(unsigned type);
enum dmu_byteswap dmu_ot_byteswap(unsigned type);
/* Objects whose data blocks are ZAPs. */
static inline bool dmu_ot_is_zap(unsigned type) { return dmu_ot_byteswap(type) == DMU_BSWAP_ZAP; }

#endif
