/*
 * zpl_create.c — the ZPL content of a brand-new filesystem: what OpenZFS
 * 2.3.2's zfs_create_fs writes into an empty object set (object-layer.md
 * §8.1, §8.3, §8.11, §8.13).
 *
 * Theory: the objects are made in zfs_create_fs's order, so the numbers
 * match a filesystem made by OpenZFS (master node 1 claimed, then the
 * allocator's 32 SA master, 33 delete queue, 34 root directory, 35 SA
 * registry, 36 SA layouts). The SA registry and the one layout appear when
 * the root directory's attributes are first written, as sa_build_layouts
 * does: every ZPL attribute is registered at once, in attribute order.
 * Master keys go in zfs_create_fs's order: the creation properties, then
 * VERSION, SA_ATTRS, DELETE_QUEUE, ROOT. Linux OpenZFS makes no SHARES
 * directory and no FUID table.
 */
#include <string.h>
#include <time.h>
#include "byteorder.h"
#include "dmu_types.h"
#include "zap.h"
#include "zpl_create.h"
#include "zfuse/errors.h"

/* The ZPL attribute table (zfs_attr_table): name, length (0 = variable),
 * byteswap class; the attribute number is the index. */
static const struct {
	const char *name;
	uint16_t length;
	uint8_t bswap;
} zpl_attrs[] = {
	{ "ZPL_ATIME", 16, 0 },	 { "ZPL_MTIME", 16, 0 },     { "ZPL_CTIME", 16, 0 },
	{ "ZPL_CRTIME", 16, 0 }, { "ZPL_GEN", 8, 0 },	     { "ZPL_MODE", 8, 0 },
	{ "ZPL_SIZE", 8, 0 },	 { "ZPL_PARENT", 8, 0 },     { "ZPL_LINKS", 8, 0 },
	{ "ZPL_XATTR", 8, 0 },	 { "ZPL_RDEV", 8, 0 },	     { "ZPL_FLAGS", 8, 0 },
	{ "ZPL_UID", 8, 0 },	 { "ZPL_GID", 8, 0 },	     { "ZPL_PAD", 32, 0 },
	{ "ZPL_ZNODE_ACL", 88, 3 }, { "ZPL_DACL_COUNT", 8, 0 }, { "ZPL_SYMLINK", 0, 3 },
	{ "ZPL_SCANSTAMP", 32, 3 }, { "ZPL_DACL_ACES", 0, 4 }, { "ZPL_DXATTR", 0, 3 },
	{ "ZPL_PROJID", 8, 0 },
};

enum {
	ZPL_ATIME, ZPL_MTIME, ZPL_CTIME, ZPL_CRTIME, ZPL_GEN, ZPL_MODE, ZPL_SIZE, ZPL_PARENT,
	ZPL_LINKS, ZPL_XATTR, ZPL_RDEV, ZPL_FLAGS, ZPL_UID, ZPL_GID, ZPL_PAD, ZPL_ZNODE_ACL,
	ZPL_DACL_COUNT, ZPL_SYMLINK, ZPL_SCANSTAMP, ZPL_DACL_ACES, ZPL_DXATTR, ZPL_PROJID,
};

/* zfs_mknode's order for a directory without a project id. */
static const uint16_t dir_layout[] = {
	ZPL_MODE, ZPL_SIZE, ZPL_GEN, ZPL_UID, ZPL_GID, ZPL_PARENT, ZPL_FLAGS, ZPL_ATIME,
	ZPL_MTIME, ZPL_CTIME, ZPL_CRTIME, ZPL_LINKS, ZPL_DACL_COUNT, ZPL_DACL_ACES,
};
#define DIR_LAYOUT_NUM 2	/* the first layout a filesystem stores */

#define SA_MAGIC 0x2F505A
#define U8_TEXTPREP_TOUPPER_FLAG 0x02

/* znode flags of a new root directory: ZFS_ARCHIVE | ZFS_AV_MODIFIED, and
 * the ACL state bits (trivial, auto-inherit, no deny entries for exec). */
#define ZFS_ARCHIVE 0x0000000800000000ULL
#define ZFS_AV_MODIFIED 0x0000040000000000ULL
#define ZFS_ACL_TRIVIAL 0x4
#define ZFS_ACL_AUTO_INHERIT 0x40
#define ZFS_NO_EXECS_DENIED 0x100

/* ACE types, entry flags and access bits (object-layer.md §8.13) */
#define ACE_ALLOW 0
#define ACE_DENY 1
#define ACE_OWNER 0x1000
#define ACE_GROUP 0x2040
#define ACE_EVERYONE 0x4000
#define ACE_READ_DATA 0x1
#define ACE_WRITE_DATA 0x2
#define ACE_APPEND_DATA 0x4
#define ACE_EXECUTE 0x20
#define ACE_DELETE_CHILD 0x40
#define ACE_OWNER_BASE 0x1E0198
#define ACE_OTHER_BASE 0x120088

struct ace {
	uint16_t type, flags;
	uint32_t mask;
};

static uint32_t rwx_mask(unsigned bits, bool isdir)
{
	uint32_t m = 0;
	if (bits & 4)
		m |= ACE_READ_DATA;
	if (bits & 2)
		m |= ACE_WRITE_DATA | ACE_APPEND_DATA | (isdir ? ACE_DELETE_CHILD : 0);
	if (bits & 1)
		m |= ACE_EXECUTE;
	return m;
}

/* The trivial (mode-equivalent) ACL of zfs_acl_chmod; returns the count. */
static unsigned trivial_acl(uint64_t mode, bool isdir, struct ace out[6])
{
	uint32_t u = rwx_mask((mode >> 6) & 7, isdir), g = rwx_mask((mode >> 3) & 7, isdir),
		 o = rwx_mask(mode & 7, isdir);
	unsigned n = 0;
	uint32_t allow0 = u & ~g & o, deny1 = ~u & (g | o), deny2 = ~g & o;
	if (allow0)
		out[n++] = (struct ace){ ACE_ALLOW, ACE_OWNER, allow0 };
	if (deny1)
		out[n++] = (struct ace){ ACE_DENY, ACE_OWNER, deny1 };
	if (deny2)
		out[n++] = (struct ace){ ACE_DENY, ACE_GROUP, deny2 };
	out[n++] = (struct ace){ ACE_ALLOW, ACE_OWNER, ACE_OWNER_BASE | u };
	out[n++] = (struct ace){ ACE_ALLOW, ACE_GROUP, ACE_OTHER_BASE | g };
	out[n++] = (struct ace){ ACE_ALLOW, ACE_EVERYONE, ACE_OTHER_BASE | o };
	return n;
}

static uint8_t *put_u64(uint8_t *p, uint64_t v)
{
	put_le64(p, v);
	return p + 8;
}

/* The SA bonus of the root directory in layout 2. */
static size_t root_bonus(uint8_t *b, size_t cap, const struct zpl_create_props *pr, uint64_t obj,
			 uint64_t txg)
{
	struct ace aces[6];
	uint64_t mode = 040000 | (pr->root_mode & 07777);
	unsigned nace = trivial_acl(mode, true, aces);
	size_t acl_len = 8 * nace;
	size_t need = 8 + 7 * 8 + 4 * 16 + 8 + 8 + acl_len;
	if (need > cap)
		return 0;
	memset(b, 0, need);
	/* one variable-length attribute (the ACEs): an 8-byte header */
	b[0] = SA_MAGIC & 0xff;
	b[1] = (SA_MAGIC >> 8) & 0xff;
	b[2] = (SA_MAGIC >> 16) & 0xff;
	uint16_t info = DIR_LAYOUT_NUM | (1 << 10);
	b[4] = info & 0xff;
	b[5] = info >> 8;
	b[6] = acl_len & 0xff;
	b[7] = acl_len >> 8;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	uint8_t *p = b + 8;
	p = put_u64(p, mode);
	p = put_u64(p, 2);	/* size: "." and ".." */
	p = put_u64(p, txg);	/* gen */
	p = put_u64(p, pr->root_uid);
	p = put_u64(p, pr->root_gid);
	p = put_u64(p, obj);	/* the root is its own parent */
	p = put_u64(p, ZFS_ARCHIVE | ZFS_AV_MODIFIED | ZFS_NO_EXECS_DENIED | ZFS_ACL_AUTO_INHERIT |
			       ZFS_ACL_TRIVIAL);
	for (int t = 0; t < 4; t++) {	/* atime, mtime, ctime, crtime */
		p = put_u64(p, (uint64_t)now.tv_sec);
		p = put_u64(p, (uint64_t)now.tv_nsec);
	}
	p = put_u64(p, 2);	/* links */
	p = put_u64(p, nace);
	for (unsigned i = 0; i < nace; i++) {
		p[0] = aces[i].type & 0xff;
		p[1] = aces[i].type >> 8;
		p[2] = aces[i].flags & 0xff;
		p[3] = aces[i].flags >> 8;
		p[4] = aces[i].mask & 0xff;
		p[5] = (aces[i].mask >> 8) & 0xff;
		p[6] = (aces[i].mask >> 16) & 0xff;
		p[7] = aces[i].mask >> 24;
		p += 8;
	}
	return need;
}

/* sa_attr_register_sync + sa_add_layout_entry for the first object. */
static int sa_setup_tables(objset_t *os, uint64_t sa_master, dmu_tx_t *tx)
{
	uint64_t reg, layouts;
	int rc = zap_create(os, DMU_OT_SA_ATTR_REGISTRATION, DMU_OT_NONE, 0, tx, &reg);
	if (rc == 0)
		rc = zap_add_uint64(os, sa_master, "REGISTRY", reg, tx);
	for (size_t i = 0; rc == 0 && i < sizeof(zpl_attrs) / sizeof(zpl_attrs[0]); i++) {
		uint64_t v = ((uint64_t)zpl_attrs[i].length << 24) |
			     ((uint64_t)zpl_attrs[i].bswap << 16) | i;
		rc = zap_update_uint64(os, reg, zpl_attrs[i].name, v, tx);
	}
	if (rc == 0)
		rc = zap_create(os, DMU_OT_SA_ATTR_LAYOUTS, DMU_OT_NONE, 0, tx, &layouts);
	if (rc == 0)
		rc = zap_add_uint64(os, sa_master, "LAYOUTS", layouts, tx);
	if (rc == 0) {
		char key[8];
		snprintf(key, sizeof(key), "%d", DIR_LAYOUT_NUM);
		rc = zap_update(os, layouts, key, 2, sizeof(dir_layout) / sizeof(dir_layout[0]),
				dir_layout, tx);
	}
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
		rc = sa_setup_tables(os, sa_master, tx);
	uint8_t bonus[320];
	size_t blen = 0;
	if (rc == 0) {
		blen = root_bonus(bonus, sizeof(bonus), &p, root, tx->txg);
		rc = blen ? dmu_bonus_write(os, root, bonus, blen, tx) : -ZFUSE_E_INVAL;
	}
	if (rc == 0)
		rc = zap_add_uint64(os, master, "ROOT", root, tx);
	return rc;
}
