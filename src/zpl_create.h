/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zpl_create.h — turning a new, empty object set into an empty ZPL
 * filesystem, as OpenZFS's zfs_create_fs does (object-layer.md §8).
 */
#ifndef ZFUSE_ZPL_CREATE_H
#define ZFUSE_ZPL_CREATE_H

#include <stdint.h>
#include "dmu_tx.h"

#define ZPL_VERSION_SA 5
#define ZFS_CASE_SENSITIVE 0
#define ZFS_CASE_INSENSITIVE 1
#define ZFS_CASE_MIXED 2

/* The creation-time ZPL properties kept in the master node. */
struct zpl_create_props {
	uint64_t normalization;	/* 0 or U8_TEXTPREP_NF* (0x10 formD, 0x50 formC, ...) */
	uint64_t utf8only;	/* forced to 1 when normalization is set */
	uint64_t casesensitivity;	/* ZFS_CASE_* */
	uint32_t root_uid, root_gid;	/* owner of the root directory */
	uint64_t root_mode;	/* permission bits of the root directory (0755) */
};

/*
 * Create the master node (object 1) with the ZPL properties and VERSION 5,
 * the SA master node with its registry and layouts, the delete queue and
 * the root directory (SA bonus, trivial ACL). os must be a new ZPL objset
 * with no objects. Errors: ZFUSE_E_INVAL (utf8only 0 with normalization,
 * bad values), DMU/ZAP errors.
 */
int zpl_create_fs(objset_t *os, const struct zpl_create_props *props, dmu_tx_t *tx);

#endif
