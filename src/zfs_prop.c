/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfs_prop.c — one home for OpenZFS 2.3's native dataset properties: the
 * table (names, types, inheritance, defaults, index values, which
 * dataset types have them, column names), in zfs_prop_t order, which is
 * the order `zfs get all` prints; and the text of values: parsing what
 * `zfs set` / `zfs create -o` accept into what the DSL props ZAP stores
 * (object-layer.md §6.5), and formatting numbers the way libzfs prints
 * them (`-p` raw, human sizes as zfs_nicebytes, ratios, dates).
 *
 * Theory: a property's stored form is a uint64 (number and index
 * properties: the index value, e.g. compression's enum zio_compress with
 * the zstd level in the bits above SPA_COMPRESSBITS) or a NUL-terminated
 * string. Everything here is a pure function of the table; which value a
 * dataset has (inherited, default, computed) is dsl_prop.c's business.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "zfs_prop.h"

#define SPA_COMPRESSBITS 7
#define ZSTD 16		/* ZIO_COMPRESS_ZSTD */
#define ZSTD_LVL(l) (((uint64_t)(l) << SPA_COMPRESSBITS) | ZSTD)
#define ZSTD_FAST(i) ZSTD_LVL(102 + (i))	/* ZIO_ZSTD_LEVEL_FAST + i */
#define CKSUM_VERIFY (1ULL << 8)

static const struct zprop_index checksum_tbl[] = {
	{ "on", 1 }, { "off", 2 }, { "fletcher2", 6 }, { "fletcher4", 7 }, { "sha256", 8 },
	{ "noparity", 10 }, { "sha512", 11 }, { "skein", 12 }, { "edonr", 13 }, { "blake3", 14 },
	{ NULL, 0 },
};
static const struct zprop_index dedup_tbl[] = {
	{ "on", 1 }, { "off", 2 }, { "verify", 1 | CKSUM_VERIFY }, { "sha256", 8 },
	{ "sha256,verify", 8 | CKSUM_VERIFY }, { "sha512", 11 }, { "sha512,verify", 11 | CKSUM_VERIFY },
	{ "skein", 12 }, { "skein,verify", 12 | CKSUM_VERIFY }, { "edonr,verify", 13 | CKSUM_VERIFY },
	{ "blake3", 14 }, { "blake3,verify", 14 | CKSUM_VERIFY }, { NULL, 0 },
};
static const struct zprop_index compress_tbl[] = {
	{ "on", 1 }, { "off", 2 }, { "lzjb", 3 }, { "gzip", 10 }, { "gzip-1", 5 }, { "gzip-2", 6 },
	{ "gzip-3", 7 }, { "gzip-4", 8 }, { "gzip-5", 9 }, { "gzip-6", 10 }, { "gzip-7", 11 },
	{ "gzip-8", 12 }, { "gzip-9", 13 }, { "zle", 14 }, { "lz4", 15 }, { "zstd", ZSTD },
	{ "zstd-fast", ZSTD_FAST(1) },
	{ "zstd-1", ZSTD_LVL(1) }, { "zstd-2", ZSTD_LVL(2) }, { "zstd-3", ZSTD_LVL(3) },
	{ "zstd-4", ZSTD_LVL(4) }, { "zstd-5", ZSTD_LVL(5) }, { "zstd-6", ZSTD_LVL(6) },
	{ "zstd-7", ZSTD_LVL(7) }, { "zstd-8", ZSTD_LVL(8) }, { "zstd-9", ZSTD_LVL(9) },
	{ "zstd-10", ZSTD_LVL(10) }, { "zstd-11", ZSTD_LVL(11) }, { "zstd-12", ZSTD_LVL(12) },
	{ "zstd-13", ZSTD_LVL(13) }, { "zstd-14", ZSTD_LVL(14) }, { "zstd-15", ZSTD_LVL(15) },
	{ "zstd-16", ZSTD_LVL(16) }, { "zstd-17", ZSTD_LVL(17) }, { "zstd-18", ZSTD_LVL(18) },
	{ "zstd-19", ZSTD_LVL(19) },
	{ "zstd-fast-1", ZSTD_FAST(1) }, { "zstd-fast-2", ZSTD_FAST(2) },
	{ "zstd-fast-3", ZSTD_FAST(3) }, { "zstd-fast-4", ZSTD_FAST(4) },
	{ "zstd-fast-5", ZSTD_FAST(5) }, { "zstd-fast-6", ZSTD_FAST(6) },
	{ "zstd-fast-7", ZSTD_FAST(7) }, { "zstd-fast-8", ZSTD_FAST(8) },
	{ "zstd-fast-9", ZSTD_FAST(9) }, { "zstd-fast-10", ZSTD_FAST(10) },
	{ "zstd-fast-20", ZSTD_FAST(11) }, { "zstd-fast-30", ZSTD_FAST(12) },
	{ "zstd-fast-40", ZSTD_FAST(13) }, { "zstd-fast-50", ZSTD_FAST(14) },
	{ "zstd-fast-60", ZSTD_FAST(15) }, { "zstd-fast-70", ZSTD_FAST(16) },
	{ "zstd-fast-80", ZSTD_FAST(17) }, { "zstd-fast-90", ZSTD_FAST(18) },
	{ "zstd-fast-100", ZSTD_FAST(19) }, { "zstd-fast-500", ZSTD_FAST(20) },
	{ "zstd-fast-1000", ZSTD_FAST(21) },
	{ NULL, 0 },
};
static const struct zprop_index crypto_tbl[] = {
	{ "on", 1 }, { "off", 2 }, { "aes-128-ccm", 3 }, { "aes-192-ccm", 4 }, { "aes-256-ccm", 5 },
	{ "aes-128-gcm", 6 }, { "aes-192-gcm", 7 }, { "aes-256-gcm", 8 }, { NULL, 0 },
};
static const struct zprop_index keyformat_tbl[] = {
	{ "none", 0 }, { "raw", 1 }, { "hex", 2 }, { "passphrase", 3 }, { NULL, 0 },
};
static const struct zprop_index snapdir_tbl[] = {
	{ "hidden", 0 }, { "visible", 1 }, { "disabled", 2 }, { NULL, 0 },
};
static const struct zprop_index hidden_visible_tbl[] = {
	{ "hidden", 0 }, { "visible", 1 }, { NULL, 0 },
};
static const struct zprop_index aclmode_tbl[] = {
	{ "discard", 0 }, { "groupmask", 2 }, { "passthrough", 3 }, { "restricted", 4 }, { NULL, 0 },
};
static const struct zprop_index acltype_tbl[] = {
	{ "off", 0 }, { "nfsv4", 2 }, { "posix", 1 }, { "disabled", 0 }, { "noacl", 0 },
	{ "posixacl", 1 }, { NULL, 0 },
};
static const struct zprop_index aclinherit_tbl[] = {
	{ "discard", 0 }, { "noallow", 1 }, { "restricted", 4 }, { "passthrough", 3 },
	{ "secure", 4 }, { "passthrough-x", 5 }, { NULL, 0 },
};
static const struct zprop_index case_tbl[] = {
	{ "sensitive", 0 }, { "insensitive", 1 }, { "mixed", 2 }, { NULL, 0 },
};
static const struct zprop_index copies_tbl[] = {
	{ "1", 1 }, { "2", 2 }, { "3", 3 }, { NULL, 0 },
};
static const struct zprop_index normalize_tbl[] = {
	{ "none", 0 }, { "formD", 0x10 }, { "formKC", 0x60 }, { "formC", 0x50 }, { "formKD", 0x20 },
	{ NULL, 0 },
};
static const struct zprop_index version_tbl[] = {
	{ "1", 1 }, { "2", 2 }, { "3", 3 }, { "4", 4 }, { "5", 5 }, { "current", 5 }, { NULL, 0 },
};
static const struct zprop_index onoff_tbl[] = { { "off", 0 }, { "on", 1 }, { NULL, 0 } };
static const struct zprop_index yesno_tbl[] = { { "no", 0 }, { "yes", 1 }, { NULL, 0 } };
static const struct zprop_index keystatus_tbl[] = {
	{ "none", 0 }, { "unavailable", 1 }, { "available", 2 }, { NULL, 0 },
};
static const struct zprop_index logbias_tbl[] = {
	{ "latency", 0 }, { "throughput", 1 }, { NULL, 0 },
};
static const struct zprop_index canmount_tbl[] = {
	{ "off", 0 }, { "on", 1 }, { "noauto", 2 }, { NULL, 0 },
};
static const struct zprop_index cache_tbl[] = {
	{ "none", 0 }, { "metadata", 1 }, { "all", 2 }, { NULL, 0 },
};
static const struct zprop_index sync_tbl[] = {
	{ "standard", 0 }, { "always", 1 }, { "disabled", 2 }, { NULL, 0 },
};
/* 2.3: "on" is sa (2), dir is 1. */
static const struct zprop_index xattr_tbl[] = {
	{ "off", 0 }, { "on", 2 }, { "sa", 2 }, { "dir", 1 }, { NULL, 0 },
};
static const struct zprop_index dnsize_tbl[] = {
	{ "legacy", 0 }, { "auto", 1 }, { "1k", 1024 }, { "2k", 2048 }, { "4k", 4096 },
	{ "8k", 8192 }, { "16k", 16384 }, { NULL, 0 },
};
static const struct zprop_index redundant_tbl[] = {
	{ "all", 0 }, { "most", 1 }, { "some", 2 }, { "none", 3 }, { NULL, 0 },
};
static const struct zprop_index volmode_tbl[] = {
	{ "default", 0 }, { "full", 1 }, { "geom", 1 }, { "dev", 2 }, { "none", 3 }, { NULL, 0 },
};
static const struct zprop_index direct_tbl[] = {
	{ "disabled", 0 }, { "standard", 1 }, { "always", 2 }, { NULL, 0 },
};

#define FS ZPROP_T_FS
#define SNAP ZPROP_T_SNAP
#define VOL ZPROP_T_VOL
#define BM ZPROP_T_BOOKMARK
#define DS ZPROP_T_DATASET

#define IDX(id, nm, def, at, ty, tbl, col) \
	[id] = { nm, ZPROP_INDEX, at, ty, def, NULL, tbl, col, ZPROP_FMT_RAW, false, false }
#define NUM(id, nm, def, at, ty, col, fmt, flex) \
	[id] = { nm, ZPROP_NUMBER, at, ty, def, NULL, NULL, col, fmt, false, flex }
#define STR(id, nm, def, at, ty, col) \
	[id] = { nm, ZPROP_STRING, at, ty, 0, def, NULL, col, ZPROP_FMT_RAW, false, true }
#define HID(id, nm, type, at, ty, col) \
	[id] = { nm, type, at, ty, 0, NULL, NULL, col, ZPROP_FMT_RAW, true, true }

#define RO ZPROP_READONLY
#define INH ZPROP_INHERIT
#define DEF ZPROP_DEFAULT
#define ONCE ZPROP_ONETIME
#define ONCED ZPROP_ONETIME_DEFAULT

static const zprop_desc_t table[ZFS_NUM_PROPS] = {
	STR(ZFS_PROP_TYPE, "type", NULL, RO, DS | BM, "TYPE"),
	NUM(ZFS_PROP_CREATION, "creation", 0, RO, DS | BM, "CREATION", ZPROP_FMT_DATE, true),
	NUM(ZFS_PROP_USED, "used", 0, RO, DS, "USED", ZPROP_FMT_BYTES, false),
	NUM(ZFS_PROP_AVAILABLE, "available", 0, RO, FS | VOL, "AVAIL", ZPROP_FMT_BYTES, false),
	NUM(ZFS_PROP_REFERENCED, "referenced", 0, RO, DS | BM, "REFER", ZPROP_FMT_BYTES, false),
	NUM(ZFS_PROP_COMPRESSRATIO, "compressratio", 0, RO, DS | BM, "RATIO", ZPROP_FMT_RATIO,
	    false),
	IDX(ZFS_PROP_MOUNTED, "mounted", 0, RO, FS, yesno_tbl, "MOUNTED"),
	STR(ZFS_PROP_ORIGIN, "origin", NULL, RO, FS | VOL, "ORIGIN"),
	NUM(ZFS_PROP_QUOTA, "quota", 0, DEF, FS, "QUOTA", ZPROP_FMT_NONE0, false),
	NUM(ZFS_PROP_RESERVATION, "reservation", 0, DEF, FS | VOL, "RESERV", ZPROP_FMT_NONE0, false),
	NUM(ZFS_PROP_VOLSIZE, "volsize", 0, DEF, SNAP | VOL, "VOLSIZE", ZPROP_FMT_SIZE, false),
	NUM(ZFS_PROP_VOLBLOCKSIZE, "volblocksize", 16384, ONCE, VOL, "VOLBLOCK", ZPROP_FMT_SIZE,
	    false),
	NUM(ZFS_PROP_RECORDSIZE, "recordsize", 131072, INH, FS, "RECSIZE", ZPROP_FMT_SIZE, false),
	STR(ZFS_PROP_MOUNTPOINT, "mountpoint", "/", INH, FS, "MOUNTPOINT"),
	STR(ZFS_PROP_SHARENFS, "sharenfs", "off", INH, FS, "SHARENFS"),
	IDX(ZFS_PROP_CHECKSUM, "checksum", 1, INH, FS | VOL, checksum_tbl, "CHECKSUM"),
	IDX(ZFS_PROP_COMPRESSION, "compression", 1, INH, FS | VOL, compress_tbl, "COMPRESS"),
	IDX(ZFS_PROP_ATIME, "atime", 1, INH, FS, onoff_tbl, "ATIME"),
	IDX(ZFS_PROP_DEVICES, "devices", 1, INH, FS | SNAP, onoff_tbl, "DEVICES"),
	IDX(ZFS_PROP_EXEC, "exec", 1, INH, FS | SNAP, onoff_tbl, "EXEC"),
	IDX(ZFS_PROP_SETUID, "setuid", 1, INH, FS | SNAP, onoff_tbl, "SETUID"),
	IDX(ZFS_PROP_READONLY, "readonly", 0, INH, FS | VOL, onoff_tbl, "RDONLY"),
	IDX(ZFS_PROP_ZONED, "zoned", 0, INH, FS, onoff_tbl, "ZONED"),
	IDX(ZFS_PROP_SNAPDIR, "snapdir", 0, INH, FS, snapdir_tbl, "SNAPDIR"),
	IDX(ZFS_PROP_ACLMODE, "aclmode", 0, INH, FS, aclmode_tbl, "ACLMODE"),
	IDX(ZFS_PROP_ACLINHERIT, "aclinherit", 4, INH, FS, aclinherit_tbl, "ACLINHERIT"),
	NUM(ZFS_PROP_CREATETXG, "createtxg", 0, RO, DS | BM, "CREATETXG", ZPROP_FMT_RAW, true),
	HID(ZFS_PROP_NAME, "name", ZPROP_STRING, RO, DS | BM, "NAME"),
	IDX(ZFS_PROP_CANMOUNT, "canmount", 1, DEF, FS, canmount_tbl, "CANMOUNT"),
	HID(ZFS_PROP_ISCSIOPTIONS, "iscsioptions", ZPROP_STRING, INH, VOL, "ISCSIOPTIONS"),
	IDX(ZFS_PROP_XATTR, "xattr", 2, INH, FS | SNAP, xattr_tbl, "XATTR"),
	HID(ZFS_PROP_NUMCLONES, "numclones", ZPROP_NUMBER, RO, SNAP, "NUMCLONES"),
	IDX(ZFS_PROP_COPIES, "copies", 1, INH, FS | VOL, copies_tbl, "COPIES"),
	IDX(ZFS_PROP_VERSION, "version", 0, DEF, FS | SNAP, version_tbl, "VERSION"),
	IDX(ZFS_PROP_UTF8ONLY, "utf8only", 0, ONCE, FS | SNAP, onoff_tbl, "UTF8ONLY"),
	IDX(ZFS_PROP_NORMALIZE, "normalization", 0, ONCE, FS | SNAP, normalize_tbl,
	    "NORMALIZATION"),
	IDX(ZFS_PROP_CASE, "casesensitivity", 0, ONCE, FS | SNAP, case_tbl, "CASE"),
	IDX(ZFS_PROP_VSCAN, "vscan", 0, INH, FS, onoff_tbl, "VSCAN"),
	IDX(ZFS_PROP_NBMAND, "nbmand", 0, INH, FS | SNAP, onoff_tbl, "NBMAND"),
	STR(ZFS_PROP_SHARESMB, "sharesmb", "off", INH, FS, "SHARESMB"),
	NUM(ZFS_PROP_REFQUOTA, "refquota", 0, DEF, FS, "REFQUOTA", ZPROP_FMT_NONE0, false),
	NUM(ZFS_PROP_REFRESERVATION, "refreservation", 0, DEF, FS | VOL, "REFRESERV",
	    ZPROP_FMT_NONE0, false),
	NUM(ZFS_PROP_GUID, "guid", 0, RO, DS | BM, "GUID", ZPROP_FMT_RAW, true),
	IDX(ZFS_PROP_PRIMARYCACHE, "primarycache", 2, INH, DS, cache_tbl, "PRIMARYCACHE"),
	IDX(ZFS_PROP_SECONDARYCACHE, "secondarycache", 2, INH, DS, cache_tbl, "SECONDARYCACHE"),
	NUM(ZFS_PROP_USEDSNAP, "usedbysnapshots", 0, RO, FS | VOL, "USEDSNAP", ZPROP_FMT_BYTES, false),
	NUM(ZFS_PROP_USEDDS, "usedbydataset", 0, RO, FS | VOL, "USEDDS", ZPROP_FMT_BYTES, false),
	NUM(ZFS_PROP_USEDCHILD, "usedbychildren", 0, RO, FS | VOL, "USEDCHILD", ZPROP_FMT_BYTES,
	    false),
	NUM(ZFS_PROP_USEDREFRESERV, "usedbyrefreservation", 0, RO, FS | VOL, "USEDREFRESERV",
	    ZPROP_FMT_BYTES, false),
	HID(ZFS_PROP_USERACCOUNTING, "useraccounting", ZPROP_NUMBER, RO, DS, "USERACCOUNTING"),
	HID(ZFS_PROP_STMF_SHAREINFO, "stmf_sbd_lu", ZPROP_STRING, INH, VOL, "STMF_SBD_LU"),
	IDX(ZFS_PROP_DEFER_DESTROY, "defer_destroy", 0, RO, SNAP, onoff_tbl, "DEFER_DESTROY"),
	NUM(ZFS_PROP_USERREFS, "userrefs", 0, RO, SNAP, "USERREFS", ZPROP_FMT_RAW, false),
	IDX(ZFS_PROP_LOGBIAS, "logbias", 0, INH, FS | VOL, logbias_tbl, "LOGBIAS"),
	HID(ZFS_PROP_UNIQUE, "unique", ZPROP_NUMBER, RO, DS, "UNIQUE"),
	NUM(ZFS_PROP_OBJSETID, "objsetid", 0, RO, DS, "OBJSETID", ZPROP_FMT_RAW, true),
	IDX(ZFS_PROP_DEDUP, "dedup", 2, INH, FS | VOL, dedup_tbl, "DEDUP"),
	STR(ZFS_PROP_MLSLABEL, "mlslabel", "none", INH, DS, "MLSLABEL"),
	IDX(ZFS_PROP_SYNC, "sync", 0, INH, FS | VOL, sync_tbl, "SYNC"),
	IDX(ZFS_PROP_DNODESIZE, "dnodesize", 0, INH, FS, dnsize_tbl, "DNSIZE"),
	NUM(ZFS_PROP_REFRATIO, "refcompressratio", 0, RO, DS, "REFRATIO", ZPROP_FMT_RATIO, false),
	NUM(ZFS_PROP_WRITTEN, "written", 0, RO, DS, "WRITTEN", ZPROP_FMT_SIZE, false),
	STR(ZFS_PROP_CLONES, "clones", NULL, RO, SNAP, "CLONES"),
	NUM(ZFS_PROP_LOGICALUSED, "logicalused", 0, RO, FS | VOL, "LUSED", ZPROP_FMT_SIZE, false),
	NUM(ZFS_PROP_LOGICALREFERENCED, "logicalreferenced", 0, RO, DS | BM, "LREFER",
	    ZPROP_FMT_SIZE, false),
	HID(ZFS_PROP_INCONSISTENT, "inconsistent", ZPROP_NUMBER, RO, DS, "INCONSISTENT"),
	IDX(ZFS_PROP_VOLMODE, "volmode", 0, INH, FS | VOL, volmode_tbl, "VOLMODE"),
	NUM(ZFS_PROP_FILESYSTEM_LIMIT, "filesystem_limit", UINT64_MAX, DEF, FS, "FSLIMIT",
	    ZPROP_FMT_LIMIT, false),
	NUM(ZFS_PROP_SNAPSHOT_LIMIT, "snapshot_limit", UINT64_MAX, DEF, FS | VOL, "SSLIMIT",
	    ZPROP_FMT_LIMIT, false),
	NUM(ZFS_PROP_FILESYSTEM_COUNT, "filesystem_count", UINT64_MAX, RO, FS, "FSCOUNT",
	    ZPROP_FMT_LIMIT, false),
	NUM(ZFS_PROP_SNAPSHOT_COUNT, "snapshot_count", UINT64_MAX, RO, FS | VOL, "SSCOUNT",
	    ZPROP_FMT_LIMIT, false),
	IDX(ZFS_PROP_SNAPDEV, "snapdev", 0, INH, FS | VOL, hidden_visible_tbl, "SNAPDEV"),
	IDX(ZFS_PROP_ACLTYPE, "acltype", 0, INH, FS | SNAP, acltype_tbl, "ACLTYPE"),
	STR(ZFS_PROP_SELINUX_CONTEXT, "context", "none", DEF, DS, "CONTEXT"),
	STR(ZFS_PROP_SELINUX_FSCONTEXT, "fscontext", "none", DEF, DS, "FSCONTEXT"),
	STR(ZFS_PROP_SELINUX_DEFCONTEXT, "defcontext", "none", DEF, DS, "DEFCONTEXT"),
	STR(ZFS_PROP_SELINUX_ROOTCONTEXT, "rootcontext", "none", DEF, DS, "ROOTCONTEXT"),
	IDX(ZFS_PROP_RELATIME, "relatime", 1, INH, FS, onoff_tbl, "RELATIME"),
	IDX(ZFS_PROP_REDUNDANT_METADATA, "redundant_metadata", 0, INH, FS | VOL, redundant_tbl,
	    "REDUND_MD"),
	IDX(ZFS_PROP_OVERLAY, "overlay", 1, INH, FS, onoff_tbl, "OVERLAY"),
	HID(ZFS_PROP_PREV_SNAP, "prevsnap", ZPROP_STRING, RO, FS | VOL, "PREVSNAP"),
	STR(ZFS_PROP_RECEIVE_RESUME_TOKEN, "receive_resume_token", NULL, RO, FS | VOL,
	    "RESUMETOK"),
	IDX(ZFS_PROP_ENCRYPTION, "encryption", 2, ONCE, DS, crypto_tbl, "ENCRYPTION"),
	STR(ZFS_PROP_KEYLOCATION, "keylocation", "none", DEF, FS | VOL, "KEYLOCATION"),
	IDX(ZFS_PROP_KEYFORMAT, "keyformat", 0, ONCED, FS | VOL, keyformat_tbl, "KEYFORMAT"),
	HID(ZFS_PROP_PBKDF2_SALT, "pbkdf2salt", ZPROP_NUMBER, ONCED, FS | VOL, "PBKDF2SALT"),
	NUM(ZFS_PROP_PBKDF2_ITERS, "pbkdf2iters", 0, ONCED, FS | VOL, "PBKDF2ITERS", ZPROP_FMT_RAW,
	    true),
	STR(ZFS_PROP_ENCRYPTION_ROOT, "encryptionroot", NULL, RO, DS, "ENCROOT"),
	HID(ZFS_PROP_KEY_GUID, "keyguid", ZPROP_NUMBER, RO, DS, "KEYGUID"),
	IDX(ZFS_PROP_KEYSTATUS, "keystatus", 0, RO, DS, keystatus_tbl, "KEYSTATUS"),
	HID(ZFS_PROP_REMAPTXG, "remaptxg", ZPROP_NUMBER, RO, DS, "REMAPTXG"),
	NUM(ZFS_PROP_SPECIAL_SMALL_BLOCKS, "special_small_blocks", 0, INH, FS,
	    "SPECIAL_SMALL_BLOCKS", ZPROP_FMT_SIZE, false),
	HID(ZFS_PROP_IVSET_GUID, "ivsetguid", ZPROP_NUMBER, RO, DS | BM, "IVSETGUID"),
	HID(ZFS_PROP_REDACTED, "redacted", ZPROP_NUMBER, RO, DS, "REDACTED"),
	STR(ZFS_PROP_REDACT_SNAPS, "redact_snaps", NULL, RO, DS | BM, "RSNAPS"),
	NUM(ZFS_PROP_SNAPSHOTS_CHANGED, "snapshots_changed", 0, RO, FS | VOL, "SNAPSHOTS_CHANGED",
	    ZPROP_FMT_DATE, true),
	IDX(ZFS_PROP_PREFETCH, "prefetch", 2, INH, DS, cache_tbl, "PREFETCH"),
	IDX(ZFS_PROP_VOLTHREADING, "volthreading", 1, DEF, VOL, onoff_tbl, "zvol threading"),
	IDX(ZFS_PROP_DIRECT, "direct", 1, INH, FS, direct_tbl, "DIRECT"),
	IDX(ZFS_PROP_LONGNAME, "longname", 0, INH, FS, onoff_tbl, "LONGNAME"),
};

const zprop_desc_t *zfs_prop_desc(zfs_prop_t p)
{
	return (unsigned)p < ZFS_NUM_PROPS ? &table[p] : NULL;
}

int zfs_prop_lookup(const char *name)
{
	for (int i = 0; i < ZFS_NUM_PROPS; i++)
		if (strcmp(table[i].name, name) == 0)
			return i;
	for (int i = 0; i < ZFS_NUM_PROPS; i++)
		if (strcasecmp(table[i].colname, name) == 0)
			return i;
	return -1;
}

const char *const zfs_userquota_prop_prefixes[ZFS_NUM_USERQUOTA_PROPS] = {
	"userused@", "userquota@", "groupused@", "groupquota@", "userobjused@", "userobjquota@",
	"groupobjused@", "groupobjquota@", "projectused@", "projectquota@", "projectobjused@",
	"projectobjquota@",
};

int zfs_prop_userquota(const char *name)
{
	for (int t = 0; t < ZFS_NUM_USERQUOTA_PROPS; t++)
		if (strncmp(name, zfs_userquota_prop_prefixes[t],
			    strlen(zfs_userquota_prop_prefixes[t])) == 0)
			return t;
	return -1;
}

bool zfs_prop_user(const char *name)
{
	bool sep = false;
	for (const char *c = name; *c; c++) {
		if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '-' ||
		      *c == '_' || *c == '.' || *c == ':'))
			return false;
		if (*c == ':')
			sep = true;
	}
	return sep && strlen(name) < 256;
}

bool zfs_prop_written(const char *name)
{
	return (strncmp(name, "written@", 8) == 0 || strncmp(name, "written#", 8) == 0) &&
	       name[8] && strlen(name) < 256;
}

bool zfs_prop_index_value(zfs_prop_t p, const char *name, uint64_t *value)
{
	const struct zprop_index *t = table[p].table;
	for (; t && t->name; t++)
		if (strcmp(t->name, name) == 0) {
			*value = t->value;
			return true;
		}
	return false;
}

const char *zfs_prop_index_name(zfs_prop_t p, uint64_t value)
{
	const struct zprop_index *t = table[p].table;
	for (; t && t->name; t++)
		if (t->value == value)
			return t->name;
	return NULL;
}

bool zfs_parse_size(const char *v, uint64_t *out)
{
	char *end;
	errno = 0;
	if (!isdigit((unsigned char)v[0]) && v[0] != '.')
		return false;
	double d = strtod(v, &end);
	if (errno || end == v)
		return false;
	static const char units[] = "BKMGTPEZ";
	int shift = 0;
	if (*end) {
		const char *u = strchr(units, toupper((unsigned char)*end));
		if (!u)
			return false;
		shift = (int)(u - units) * 10;
		end++;
		/* "K", "KB", "KiB" (not after B itself) */
		if (shift && (strcasecmp(end, "b") == 0 || strcasecmp(end, "ib") == 0))
			end += strlen(end);
		if (*end)
			return false;
	}
	if (shift == 0 && strchr(v, '.'))
		return false;	/* a fraction of a byte */
	double r = ldexp(d, shift);
	if (r >= 18446744073709551616.0)
		return false;
	*out = (uint64_t)r;
	return true;
}

static void nicenum(uint64_t num, const char *const *u, char *buf, size_t cap)
{
	uint64_t n = num;
	int idx = 0;
	while (n >= 1024 && idx < 6) {
		n /= 1024;
		idx++;
	}
	if (idx == 0 || num % (1ULL << (10 * idx)) == 0) {
		snprintf(buf, cap, "%llu%s", (unsigned long long)n, u[idx]);
		return;
	}
	for (int prec = 2; prec >= 0; prec--) {
		double val = (double)num / (double)(1ULL << (10 * idx));
		if (snprintf(buf, cap, "%.*f%s", prec, val, u[idx]) <= 5)
			break;
	}
}

void zfs_nicebytes(uint64_t num, char *buf, size_t cap)
{
	static const char *const u[] = { "B", "K", "M", "G", "T", "P", "E" };
	nicenum(num, u, buf, cap);
}

void zfs_nicenum(uint64_t num, char *buf, size_t cap)
{
	static const char *const u[] = { "", "K", "M", "G", "T", "P", "E" };
	nicenum(num, u, buf, cap);
}

void zfs_prop_format_number(zfs_prop_t p, uint64_t v, bool parsable, char *buf, size_t cap)
{
	const zprop_desc_t *d = &table[p];
	switch (d->fmt) {
	case ZPROP_FMT_RATIO:
		snprintf(buf, cap, "%llu.%02llu%s", (unsigned long long)(v / 100),
			 (unsigned long long)(v % 100), parsable ? "" : "x");
		return;
	case ZPROP_FMT_DATE:
		if (parsable) {
			snprintf(buf, cap, "%llu", (unsigned long long)v);
		} else {
			time_t t = (time_t)v;
			struct tm tm;
			localtime_r(&t, &tm);
			strftime(buf, cap, p == ZFS_PROP_SNAPSHOTS_CHANGED ? "%a %b %e %k:%M:%S %Y" :
				 "%a %b %e %k:%M %Y", &tm);
		}
		return;
	case ZPROP_FMT_LIMIT:
		if (v == UINT64_MAX)
			snprintf(buf, cap, "none");
		else
			snprintf(buf, cap, "%llu", (unsigned long long)v);
		return;
	case ZPROP_FMT_NONE0:
		if (!parsable && v == 0) {
			snprintf(buf, cap, "none");
			return;
		}
		break;
	case ZPROP_FMT_RAW:
		snprintf(buf, cap, "%llu", (unsigned long long)v);
		return;
	case ZPROP_FMT_SIZE:
	case ZPROP_FMT_BYTES:
		break;
	}
	if (parsable)
		snprintf(buf, cap, "%llu", (unsigned long long)v);
	else if (d->fmt == ZPROP_FMT_BYTES)
		zfs_nicebytes(v, buf, cap);
	else
		zfs_nicenum(v, buf, cap);
}

size_t zfs_prop_width(zfs_prop_t p, bool *fixed)
{
	const zprop_desc_t *d = &table[p];
	size_t w = strlen(d->colname);
	*fixed = true;
	switch (d->type) {
	case ZPROP_NUMBER:
		if (w < 5)
			w = 5;
		if (d->flex)
			*fixed = false;
		break;
	case ZPROP_INDEX:
		for (const struct zprop_index *t = d->table; t->name; t++)
			if (strlen(t->name) > w)
				w = strlen(t->name);
		break;
	case ZPROP_STRING:
		*fixed = false;
		break;
	}
	return w;
}

bool zfs_prop_align_right(zfs_prop_t p)
{
	return table[p].type == ZPROP_NUMBER && table[p].fmt != ZPROP_FMT_DATE;
}

const char *zfs_prop_feature(zfs_prop_t p, uint64_t v)
{
	if (p == ZFS_PROP_COMPRESSION && (v & ((1 << SPA_COMPRESSBITS) - 1)) == ZSTD)
		return "zstd_compress";
	if (p == ZFS_PROP_RECORDSIZE && v > (128ULL << 10))
		return "large_blocks";
	if (p == ZFS_PROP_CHECKSUM)
		return v == 11 ? "sha512" : v == 12 ? "skein" : v == 13 ? "edonr" :
		       v == 14 ? "blake3" : NULL;
	if (p == ZFS_PROP_DNODESIZE && v != 0)
		return "large_dnode";
	return NULL;
}

static bool fail(char *err, size_t cap, const char *fmt, const char *a, const char *b)
{
	snprintf(err, cap, fmt, a, b);
	return false;
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

bool zfs_prop_parse(zfs_prop_t p, const char *value, uint64_t *num, const char **str, char *err,
		    size_t errcap)
{
	const zprop_desc_t *d = &table[p];
	*str = NULL;
	*num = 0;
	switch (d->type) {
	case ZPROP_INDEX:
		if (!zfs_prop_index_value(p, value, num))
			return fail(err, errcap, "bad value '%s' for property '%s'", value, d->name);
		return true;
	case ZPROP_STRING:
		if (strlen(value) >= 1024)
			return fail(err, errcap, "value '%.40s...' for property '%s' is too long",
				    value, d->name);
		if (p == ZFS_PROP_MOUNTPOINT && strcmp(value, "none") != 0 &&
		    strcmp(value, "legacy") != 0 && value[0] != '/')
			return fail(err, errcap, "bad mountpoint '%s' for property '%s': must be an "
				    "absolute path, 'none', or 'legacy'", value, d->name);
		*str = value;
		return true;
	case ZPROP_NUMBER:
		break;
	}
	if (strcmp(value, "none") == 0 && (d->fmt == ZPROP_FMT_NONE0 || d->fmt == ZPROP_FMT_LIMIT)) {
		*num = d->fmt == ZPROP_FMT_LIMIT ? UINT64_MAX : 0;
		return true;
	}
	/* zfs_nicestrtonum's words (zfs 2.3.2: "bad numeric value '-1'") */
	if (!zfs_parse_size(value, num))
		return fail(err, errcap, "bad numeric value '%s'%s", value, "");
	if (p == ZFS_PROP_RECORDSIZE && (!is_pow2(*num) || *num < 512 || *num > (16ULL << 20)))
		return fail(err, errcap, "bad value '%s' for property '%s': must be a power of 2 "
			    "from 512B to 16M", value, d->name);
	if (p == ZFS_PROP_SPECIAL_SMALL_BLOCKS && *num &&
	    (!is_pow2(*num) || *num < 512 || *num > (16ULL << 20)))
		return fail(err, errcap, "bad value '%s' for property '%s': must be zero or a "
			    "power of 2 from 512B to 16M", value, d->name);
	if (p == ZFS_PROP_VOLBLOCKSIZE && (!is_pow2(*num) || *num < 512 || *num > (16ULL << 20)))
		return fail(err, errcap, "bad value '%s' for property '%s': must be a power of 2 "
			    "from 512B to 16M", value, d->name);
	return true;
}
