/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfs_prop.h — the table of OpenZFS 2.3's native dataset properties and
 * the text forms of their values (what `zfs get/set/list` accept and
 * print). Pure: no pool access; dsl_prop.c computes values from the pool,
 * spa_create.c parses `create -O` with it.
 */
#ifndef ZFUSE_ZFS_PROP_H
#define ZFUSE_ZFS_PROP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Dataset types a property applies to (OpenZFS's ZFS_TYPE_* bits). */
#define ZPROP_T_FS 0x1
#define ZPROP_T_SNAP 0x2
#define ZPROP_T_VOL 0x4
#define ZPROP_T_BOOKMARK 0x10
#define ZPROP_T_DATASET (ZPROP_T_FS | ZPROP_T_SNAP | ZPROP_T_VOL)

enum zprop_type { ZPROP_NUMBER, ZPROP_STRING, ZPROP_INDEX };

enum zprop_attr {
	ZPROP_DEFAULT,		/* settable, not inherited */
	ZPROP_READONLY,		/* computed */
	ZPROP_INHERIT,		/* settable, inherited from ancestors */
	ZPROP_ONETIME,		/* set at creation only */
	ZPROP_ONETIME_DEFAULT,	/* set at creation only, with a default */
};

/* How a number prints in human form. */
enum zprop_numfmt {
	ZPROP_FMT_BYTES,	/* 5.16M, 0B (zfs_nicebytes: used, refer, avail, usedby*) */
	ZPROP_FMT_SIZE,		/* 5.16M, 512, 0 (zfs_nicenum: other numbers) */
	ZPROP_FMT_RAW,		/* plain decimal: guid, createtxg, counts */
	ZPROP_FMT_RATIO,	/* 1.55x (-p: 1.55) */
	ZPROP_FMT_DATE,		/* "Sun Nov 22 12:47 2026" (-p: seconds) */
	ZPROP_FMT_NONE0,	/* size, 0 is "none": quotas, reservations */
	ZPROP_FMT_LIMIT,	/* count, UINT64_MAX is "none": limits and counts */
};

struct zprop_index {
	const char *name;
	uint64_t value;
};

/* Property ids in OpenZFS's zfs_prop_t order, which `zfs get all` follows. */
typedef enum {
	ZFS_PROP_TYPE, ZFS_PROP_CREATION, ZFS_PROP_USED, ZFS_PROP_AVAILABLE,
	ZFS_PROP_REFERENCED, ZFS_PROP_COMPRESSRATIO, ZFS_PROP_MOUNTED, ZFS_PROP_ORIGIN,
	ZFS_PROP_QUOTA, ZFS_PROP_RESERVATION, ZFS_PROP_VOLSIZE, ZFS_PROP_VOLBLOCKSIZE,
	ZFS_PROP_RECORDSIZE, ZFS_PROP_MOUNTPOINT, ZFS_PROP_SHARENFS, ZFS_PROP_CHECKSUM,
	ZFS_PROP_COMPRESSION, ZFS_PROP_ATIME, ZFS_PROP_DEVICES, ZFS_PROP_EXEC,
	ZFS_PROP_SETUID, ZFS_PROP_READONLY, ZFS_PROP_ZONED, ZFS_PROP_SNAPDIR,
	ZFS_PROP_ACLMODE, ZFS_PROP_ACLINHERIT, ZFS_PROP_CREATETXG, ZFS_PROP_NAME,
	ZFS_PROP_CANMOUNT, ZFS_PROP_ISCSIOPTIONS, ZFS_PROP_XATTR, ZFS_PROP_NUMCLONES,
	ZFS_PROP_COPIES, ZFS_PROP_VERSION, ZFS_PROP_UTF8ONLY, ZFS_PROP_NORMALIZE,
	ZFS_PROP_CASE, ZFS_PROP_VSCAN, ZFS_PROP_NBMAND, ZFS_PROP_SHARESMB,
	ZFS_PROP_REFQUOTA, ZFS_PROP_REFRESERVATION, ZFS_PROP_GUID, ZFS_PROP_PRIMARYCACHE,
	ZFS_PROP_SECONDARYCACHE, ZFS_PROP_USEDSNAP, ZFS_PROP_USEDDS, ZFS_PROP_USEDCHILD,
	ZFS_PROP_USEDREFRESERV, ZFS_PROP_USERACCOUNTING, ZFS_PROP_STMF_SHAREINFO,
	ZFS_PROP_DEFER_DESTROY, ZFS_PROP_USERREFS, ZFS_PROP_LOGBIAS, ZFS_PROP_UNIQUE,
	ZFS_PROP_OBJSETID, ZFS_PROP_DEDUP, ZFS_PROP_MLSLABEL, ZFS_PROP_SYNC,
	ZFS_PROP_DNODESIZE, ZFS_PROP_REFRATIO, ZFS_PROP_WRITTEN, ZFS_PROP_CLONES,
	ZFS_PROP_LOGICALUSED, ZFS_PROP_LOGICALREFERENCED, ZFS_PROP_INCONSISTENT,
	ZFS_PROP_VOLMODE, ZFS_PROP_FILESYSTEM_LIMIT, ZFS_PROP_SNAPSHOT_LIMIT,
	ZFS_PROP_FILESYSTEM_COUNT, ZFS_PROP_SNAPSHOT_COUNT, ZFS_PROP_SNAPDEV,
	ZFS_PROP_ACLTYPE, ZFS_PROP_SELINUX_CONTEXT, ZFS_PROP_SELINUX_FSCONTEXT,
	ZFS_PROP_SELINUX_DEFCONTEXT, ZFS_PROP_SELINUX_ROOTCONTEXT, ZFS_PROP_RELATIME,
	ZFS_PROP_REDUNDANT_METADATA, ZFS_PROP_OVERLAY, ZFS_PROP_PREV_SNAP,
	ZFS_PROP_RECEIVE_RESUME_TOKEN, ZFS_PROP_ENCRYPTION, ZFS_PROP_KEYLOCATION,
	ZFS_PROP_KEYFORMAT, ZFS_PROP_PBKDF2_SALT, ZFS_PROP_PBKDF2_ITERS,
	ZFS_PROP_ENCRYPTION_ROOT, ZFS_PROP_KEY_GUID, ZFS_PROP_KEYSTATUS, ZFS_PROP_REMAPTXG,
	ZFS_PROP_SPECIAL_SMALL_BLOCKS, ZFS_PROP_IVSET_GUID, ZFS_PROP_REDACTED,
	ZFS_PROP_REDACT_SNAPS, ZFS_PROP_SNAPSHOTS_CHANGED, ZFS_PROP_PREFETCH,
	ZFS_PROP_VOLTHREADING, ZFS_PROP_DIRECT, ZFS_PROP_LONGNAME,
	ZFS_NUM_PROPS
} zfs_prop_t;

typedef struct zprop_desc {
	const char *name;
	enum zprop_type type;
	enum zprop_attr attr;
	unsigned types;			/* ZPROP_T_* it applies to */
	uint64_t numdefault;
	const char *strdefault;		/* string properties; NULL: none */
	const struct zprop_index *table;	/* index properties */
	const char *colname;		/* `zfs list` header; also an alias */
	enum zprop_numfmt fmt;		/* number properties */
	bool hidden;			/* not listed by `get all` */
	bool flex;			/* value width varies (column widths) */
} zprop_desc_t;

const zprop_desc_t *zfs_prop_desc(zfs_prop_t p);

/* A native property by name or by its column name ("compress",
 * "recsize", "refer", any case for the column name); -1 if none. Hidden
 * properties are found too. */
int zfs_prop_lookup(const char *name);

/* A user property: "module:name" as zfs allows it. */
bool zfs_prop_user(const char *name);
/* "written@SNAP" or "written#BOOKMARK" (zfs_prop_written). */
bool zfs_prop_written(const char *name);

/*
 * The {user,group,project}{used,quota,objused,objquota}@ID properties
 * (zfs_userquota_prop_t order): they live in the filesystem's objset, not
 * in the DSL (zfs_quota.c). zfs_prop_userquota gives the type of a name
 * with one of the prefixes, -1 otherwise (any ID text: zfs decodes it
 * later).
 */
enum zfs_userquota_prop {
	ZFS_PROP_USERUSED, ZFS_PROP_USERQUOTA, ZFS_PROP_GROUPUSED, ZFS_PROP_GROUPQUOTA,
	ZFS_PROP_USEROBJUSED, ZFS_PROP_USEROBJQUOTA, ZFS_PROP_GROUPOBJUSED,
	ZFS_PROP_GROUPOBJQUOTA, ZFS_PROP_PROJECTUSED, ZFS_PROP_PROJECTQUOTA,
	ZFS_PROP_PROJECTOBJUSED, ZFS_PROP_PROJECTOBJQUOTA, ZFS_NUM_USERQUOTA_PROPS
};
extern const char *const zfs_userquota_prop_prefixes[ZFS_NUM_USERQUOTA_PROPS];
int zfs_prop_userquota(const char *name);
/* A limit (settable), not a used figure. */
static inline bool zfs_userquota_is_limit(int t) { return t % 2 == 1; }
/* Counts objects, not bytes. */
static inline bool zfs_userquota_is_obj(int t)
{
	return (t >= ZFS_PROP_USEROBJUSED && t <= ZFS_PROP_GROUPOBJQUOTA) ||
	       t >= ZFS_PROP_PROJECTOBJUSED;
}

/* Index value <-> name (the first name of a value). */
bool zfs_prop_index_value(zfs_prop_t p, const char *name, uint64_t *value);
const char *zfs_prop_index_name(zfs_prop_t p, uint64_t value);

/*
 * Parse a value given to `zfs set` / `create -O` for property p into the
 * form stored in the DSL props ZAP (a number or a string). Checks the
 * value as zfs_prop_set/zfs_valid_proplist do; on error writes a
 * message into err. Returns false when invalid.
 */
bool zfs_prop_parse(zfs_prop_t p, const char *value, uint64_t *num, const char **str,
		    char *err, size_t errcap);

/* The pool feature value v of p needs, active on the dataset that uses it
 * (zstd_compress, large_blocks, sha512/skein/edonr/blake3, large_dnode), or
 * NULL. */
const char *zfs_prop_feature(zfs_prop_t p, uint64_t v);

/* "128K", "1.5M", "131072": a size as zfs accepts it (zfs_nicestrtonum). */
bool zfs_parse_size(const char *v, uint64_t *out);

/* zfs_nicebytes (5.16M, 104K, 0B) and zfs_nicenum (the same without "B"). */
void zfs_nicebytes(uint64_t n, char *buf, size_t cap);
void zfs_nicenum(uint64_t n, char *buf, size_t cap);

/* The text of number value v of p as `zfs get` prints it. */
void zfs_prop_format_number(zfs_prop_t p, uint64_t v, bool parsable, char *buf, size_t cap);

/* Width `zfs get`/`list` reserve for p's values when not parsable
 * (zprop_width); *fixed false when it follows the values instead. */
size_t zfs_prop_width(zfs_prop_t p, bool *fixed);

/* Numbers right-aligned in `zfs list` columns. */
bool zfs_prop_align_right(zfs_prop_t p);

#endif
