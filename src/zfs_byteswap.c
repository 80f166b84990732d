/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfs_byteswap.c — byte order of the ZPL's own structures written by a
 * machine of the other order: the znode_phys_t bonus of pools before
 * system attributes (with the ACL it embeds), and ACL objects in the old
 * (ace_t) and FUID (zfs_ace_t) layouts. ACE lengths depend on fields that
 * are only readable after swapping, so each entry is swapped before its
 * length is decided; nothing is touched beyond the buffer.
 */
#include "byteorder.h"
#include "dmu_byteswap.h"
#include "zfs_acl.h"

#define ACE_OWNER 0x1000
#define ACE_GROUP 0x2000
#define ACE_EVERYONE 0x4000
#define ACE_IDENTIFIER_GROUP 0x0040
#define ACE_TYPE_FLAGS (ACE_OWNER | ACE_GROUP | ACE_EVERYONE | ACE_IDENTIFIER_GROUP)
#define ACE_ACCESS_ALLOWED_OBJECT_ACE_TYPE 5
#define ACE_SYSTEM_ALARM_OBJECT_ACE_TYPE 8
#define ZFS_ACL_VERSION_FUID 1

/* ace_t: who u32, access mask u32, flags u16, type u16. */
#define ACE_T_SIZE 12
#define ACE_OBJECT_T_SIZE (ACE_T_SIZE + 32)
/* zfs_ace_hdr_t: type u16, flags u16, access mask u32; zfs_ace_t adds a
 * u64 fuid; zfs_object_ace_t two 16-byte GUIDs after that. */
#define ZFS_ACE_HDR_SIZE 8
#define ZFS_ACE_SIZE 16
#define ZFS_OBJECT_ACE_SIZE 48

/* znode_phys_t: 22 uint64s (times, attributes, padding), then the ACL
 * header (external object u64, size u32, version u16, count u16) and
 * 72 bytes of embedded ACEs. */
#define ZP_ACL 176
#define ZP_ACE_DATA 192
#define ZP_ACE_SPACE 72
#define ZNODE_PHYS_SIZE 264

static void oldace_byteswap(uint8_t *p, size_t cnt)
{
	for (size_t i = 0; i < cnt; i++, p += ACE_T_SIZE) {
		bswap32_at(p);
		bswap32_at(p + 4);
		bswap16_at(p + 8);
		bswap16_at(p + 10);
	}
}

/* A run of ACEs in either layout, as zfs_ace_byteswap walks it. */
static void ace_byteswap(uint8_t *p, size_t size, bool zfs_layout)
{
	uint8_t *end = p + size;
	while (p < end) {
		unsigned type, entry_type;
		size_t entry;
		if (zfs_layout) {
			if (p + ZFS_ACE_HDR_SIZE > end)
				break;
			bswap32_at(p + 4);
			bswap16_at(p + 2);
			bswap16_at(p);
			type = le16(p);
			entry_type = le16(p + 2) & ACE_TYPE_FLAGS;
		} else {
			if (p + ACE_T_SIZE > end)
				break;
			oldace_byteswap(p, 1);
			type = le16(p + 10);
			entry_type = le16(p + 8) & ACE_TYPE_FLAGS;
		}
		if (entry_type == ACE_OWNER || entry_type == ACE_EVERYONE ||
		    entry_type == (ACE_IDENTIFIER_GROUP | ACE_GROUP)) {
			entry = zfs_layout ? ZFS_ACE_HDR_SIZE : ACE_T_SIZE;
		} else {
			if (zfs_layout) {
				if (p + ZFS_ACE_SIZE > end)
					break;
				bswap64_at(p + 8);
			}
			bool object = type >= ACE_ACCESS_ALLOWED_OBJECT_ACE_TYPE &&
				      type <= ACE_SYSTEM_ALARM_OBJECT_ACE_TYPE;
			entry = zfs_layout ? (object ? ZFS_OBJECT_ACE_SIZE : ZFS_ACE_SIZE)
					   : (object ? ACE_OBJECT_T_SIZE : ACE_T_SIZE);
		}
		p += entry;
	}
}

void zfs_oldacl_byteswap(void *buf, size_t size)
{
	oldace_byteswap(buf, size / ACE_T_SIZE);
}

void zfs_acl_byteswap(void *buf, size_t size)
{
	ace_byteswap(buf, size, true);
}

void zfs_znode_byteswap(void *buf, size_t size)
{
	uint8_t *zp = buf;
	if (size < ZNODE_PHYS_SIZE)
		return;
	byteswap_uint64_array(zp, ZP_ACL + 8);
	bswap32_at(zp + ZP_ACL + 8);
	bswap16_at(zp + ZP_ACL + 12);
	bswap16_at(zp + ZP_ACL + 14);
	if (le16(zp + ZP_ACL + 12) == ZFS_ACL_VERSION_FUID)
		zfs_acl_byteswap(zp + ZP_ACE_DATA, ZP_ACE_SPACE);
	else
		oldace_byteswap(zp + ZP_ACE_DATA, ZP_ACE_SPACE / ACE_T_SIZE);
}
