/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfs_sa.c — the ZPL attribute table. Registries written by OpenZFS and
 * by zfuse must agree on every length and byteswap class, so there is
 * exactly one copy of it.
 */
#include "zfs_sa.h"

const struct zpl_attr_def zfs_attr_table[ZPL_END] = {
	{ "ZPL_ATIME", 16, 0 },	    { "ZPL_MTIME", 16, 0 },	{ "ZPL_CTIME", 16, 0 },
	{ "ZPL_CRTIME", 16, 0 },    { "ZPL_GEN", 8, 0 },	{ "ZPL_MODE", 8, 0 },
	{ "ZPL_SIZE", 8, 0 },	    { "ZPL_PARENT", 8, 0 },	{ "ZPL_LINKS", 8, 0 },
	{ "ZPL_XATTR", 8, 0 },	    { "ZPL_RDEV", 8, 0 },	{ "ZPL_FLAGS", 8, 0 },
	{ "ZPL_UID", 8, 0 },	    { "ZPL_GID", 8, 0 },	{ "ZPL_PAD", 32, 0 },
	{ "ZPL_ZNODE_ACL", 88, 3 }, { "ZPL_DACL_COUNT", 8, 0 }, { "ZPL_SYMLINK", 0, 3 },
	{ "ZPL_SCANSTAMP", 32, 3 }, { "ZPL_DACL_ACES", 0, 4 },	{ "ZPL_DXATTR", 0, 3 },
	{ "ZPL_PROJID", 8, 0 },
};

const char *sa_zpl_attr_name(enum zpl_attr a)
{
	return a < ZPL_END ? zfs_attr_table[a].name : "?";
}
