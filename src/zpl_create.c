/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zpl_create.c — the ZPL content of a brand-new filesystem: what OpenZFS
 * 2.3.2's zfs_create_fs writes into an empty object set (object-layer.md
 * §8.1, §8.3, §8.11, §8.13).
 *
 * Theory: the objects are made in zfs_create_fs's order, so the numbers
 * match a filesystem made by OpenZFS (master node 1 claimed, then the
 * allocator's 32 SA master, 33 delete queue, 34 root directory, 35 SA
 * registry, 36 SA layouts). The SA registry and the one layout appear when
 * the root directory's attributes are first written (through sa.c, as
 * for any object), as sa_build_layouts does: every ZPL attribute is
 * registered at once, in attribute order.
 * Master keys go in zfs_create_fs's order: the creation properties, then
 * VERSION, SA_ATTRS, DELETE_QUEUE, ROOT. Linux OpenZFS makes no SHARES
 * directory and no FUID table.
 */
#include <string.h>
#include <time.h>
#include "byteorder.h"
#include "dmu_types.h"
#include "sa.h"
#include "zap.h"
#include "zfs_acl.h"
#include "zpl_create.h"
#include "zpl_write.h"
#include "zfuse/errors.h"

#define U8_TEXTPREP_TOUPPER_FLAG 0x02

/* zfs_mknode's attributes of the root directory (a directory without a
 * project id), stored through the SA writer like those of every other
 * object: being the first store, it registers every ZPL attribute and
 * stores layout 2. */
static int root_attrs(objset_t *os, uint64_t sa_master, uint64_t root,
		      const struct zpl_create_props *pr, dmu_tx_t *tx)
{
	sa_table_t *t;
	int rc = sa_table_load(os, sa_master, &t);
	if (rc)
		return rc;
	uint64_t mode = 040000 | (pr->root_mode & 07777);
	uint8_t aces[48];
	unsigned nace = zpl_trivial_acl(mode, true, aces);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	const int64_t now[2] = { ts.tv_sec, ts.tv_nsec };
	/* Unlike zpl_write.c's mknode, NO_EXECS_DENIED does not follow the
	 * mode here: this is what zfuse always wrote for a new root. */
	const uint64_t flags = ZFS_ARCHIVE | ZFS_AV_MODIFIED | ZFS_NO_EXECS_DENIED |
			       ZFS_ACL_AUTO_INHERIT | ZFS_ACL_TRIVIAL;
	sa_attrs_t l;
	sa_attrs_init(&l);
	if ((rc = sa_attrs_set_u64(t, &l, ZPL_MODE, mode)) ||
	    (rc = sa_attrs_set_u64(t, &l, ZPL_SIZE, 2)) ||	/* "." and ".." */
	    (rc = sa_attrs_set_u64(t, &l, ZPL_GEN, tx->txg)) ||
	    (rc = sa_attrs_set_u64(t, &l, ZPL_UID, pr->root_uid)) ||
	    (rc = sa_attrs_set_u64(t, &l, ZPL_GID, pr->root_gid)) ||
	    (rc = sa_attrs_set_u64(t, &l, ZPL_PARENT, root)) ||	/* its own parent */
	    (rc = sa_attrs_set_u64(t, &l, ZPL_FLAGS, flags)) ||
	    (rc = sa_attrs_set_time(t, &l, ZPL_ATIME, now)) ||
	    (rc = sa_attrs_set_time(t, &l, ZPL_MTIME, now)) ||
	    (rc = sa_attrs_set_time(t, &l, ZPL_CTIME, now)) ||
	    (rc = sa_attrs_set_time(t, &l, ZPL_CRTIME, now)) ||
	    (rc = sa_attrs_set_u64(t, &l, ZPL_LINKS, 2)) ||
	    (rc = sa_attrs_set_u64(t, &l, ZPL_DACL_COUNT, nace)) ||
	    (rc = sa_attrs_set(t, &l, ZPL_DACL_ACES, aces, nace * 8)))
		goto out;
	rc = sa_attrs_store(t, os, root, &l, tx);
out:
	sa_attrs_free(&l);
	sa_table_free(t);
	return rc;
}

int zpl_create_fs(objset_t *os, const struct zpl_create_props *props, dmu_tx_t *tx)
{
	struct zpl_create_props p = *props;
	if (p.normalization) {
		if (p.utf8only == 0)
			return -ZFUSE_E_INVAL;	/* normalizing needs valid UTF-8 names */
		p.utf8only = 1;
	}
	if (p.casesensitivity > ZFS_CASE_MIXED || p.utf8only > 1)
		return -ZFUSE_E_INVAL;
	const uint64_t master = 1;
	int rc = zap_create_claim(os, master, DMU_OT_MASTER_NODE, DMU_OT_NONE, 0, tx);
	if (rc == 0)
		rc = zap_update_uint64(os, master, "normalization", p.normalization, tx);
	if (rc == 0)
		rc = zap_update_uint64(os, master, "utf8only", p.utf8only, tx);
	if (rc == 0)
		rc = zap_update_uint64(os, master, "casesensitivity", p.casesensitivity, tx);
	if (rc == 0)
		rc = zap_update_uint64(os, master, "VERSION", ZPL_VERSION_SA, tx);
	uint64_t sa_master, dq, root;
	if (rc == 0)
		rc = zap_create(os, DMU_OT_SA_MASTER_NODE, DMU_OT_NONE, 0, tx, &sa_master);
	if (rc == 0)
		rc = zap_add_uint64(os, master, "SA_ATTRS", sa_master, tx);
	if (rc == 0)
		rc = zap_create(os, DMU_OT_UNLINKED_SET, DMU_OT_NONE, 0, tx, &dq);
	if (rc == 0)
		rc = zap_add_uint64(os, master, "DELETE_QUEUE", dq, tx);
	/* Case-insensitive and mixed filesystems match names upper-cased. */
	uint64_t dirnorm = p.normalization |
			   (p.casesensitivity != ZFS_CASE_SENSITIVE ? U8_TEXTPREP_TOUPPER_FLAG : 0);
	/* The bonus starts as large as a 512-byte dnode allows, then holds
	 * exactly the SA data (DN_BONUS_SIZE(512) = 320). */
	if (rc == 0)
		rc = zap_create_norm(os, dirnorm, DMU_OT_DIRECTORY_CONTENTS, DMU_OT_SA, 320, 0, tx,
				     &root);
	if (rc == 0)
		rc = root_attrs(os, sa_master, root, &p, tx);
	if (rc == 0)
		rc = zap_add_uint64(os, master, "ROOT", root, tx);
	return rc;
}
