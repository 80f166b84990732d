/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfs_sa.h — the ZPL's system attributes (OpenZFS's zfs_attr_table): the
 * one table of names, fixed lengths and byteswap classes that reading,
 * writing and creating filesystems all use (object-layer.md §8.3).
 */
#ifndef ZFUSE_ZFS_SA_H
#define ZFUSE_ZFS_SA_H

#include <stdint.h>

/* In zfs_attr_table order: the index is also the number a fresh registry
 * gives each attribute. */
enum zpl_attr {
	ZPL_ATIME, ZPL_MTIME, ZPL_CTIME, ZPL_CRTIME, ZPL_GEN, ZPL_MODE, ZPL_SIZE,
	ZPL_PARENT, ZPL_LINKS, ZPL_XATTR, ZPL_RDEV, ZPL_FLAGS, ZPL_UID, ZPL_GID,
	ZPL_PAD, ZPL_ZNODE_ACL, ZPL_DACL_COUNT, ZPL_SYMLINK, ZPL_SCANSTAMP,
	ZPL_DACL_ACES, ZPL_DXATTR, ZPL_PROJID, ZPL_END
};

struct zpl_attr_def {
	const char *name;
	uint16_t length;	/* 0: variable */
	uint8_t bswap;		/* byteswap class stored in the registry */
};

extern const struct zpl_attr_def zfs_attr_table[ZPL_END];

const char *sa_zpl_attr_name(enum zpl_attr a);

#endif
