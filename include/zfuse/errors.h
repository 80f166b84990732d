/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfuse/errors.h — error codes of libzfuse.
 *
 * Every call of the library returns 0 (or a non-negative count) on success
 * and a negative ZFUSE_E* code on failure. Codes are finer than errno (a
 * checksum failure and a short device read are different facts for an
 * inspector) but each belongs to exactly one errno class, which is what the
 * FUSE daemon hands to the kernel: zfuse_errno() maps one to the other.
 */
#ifndef ZFUSE_ERRORS_H
#define ZFUSE_ERRORS_H

#ifdef __cplusplus
extern "C" {
#endif

enum zfuse_error {
	ZFUSE_OK = 0,
	ZFUSE_E_BASE = 2048,
	ZFUSE_E_IO,		/* device read/write failed (EIO) */
	ZFUSE_E_CHECKSUM,	/* no copy of a block passed its checksum (EIO) */
	ZFUSE_E_CORRUPT,	/* on-disk structure is malformed (EIO) */
	ZFUSE_E_DECOMPRESS,	/* compressed block did not decode to lsize (EIO) */
	ZFUSE_E_NOMEM,		/* allocation failed (ENOMEM) */
	ZFUSE_E_NOENT,		/* name, object, dataset or device not found (ENOENT) */
	ZFUSE_E_NOTDIR,		/* not a directory (ENOTDIR) */
	ZFUSE_E_ISDIR,		/* is a directory (EISDIR) */
	ZFUSE_E_INVAL,		/* bad argument or option (EINVAL) */
	ZFUSE_E_UNSUPPORTED,	/* pool/dataset needs something zfuse lacks (ENOTSUP) */
	ZFUSE_E_ROFS,		/* write to a read-only pool or snapshot (EROFS) */
	ZFUSE_E_NODATA,		/* no such extended attribute (ENODATA) */
	ZFUSE_E_RANGE,		/* caller's buffer too small (ERANGE) */
	ZFUSE_E_NOTFOUND_POOL,	/* no importable pool on the given devices (ENOENT) */
	ZFUSE_E_MISSING_DEV,	/* too many devices missing to read (ENXIO) */
	ZFUSE_E_ACCESS,		/* encrypted dataset without key (EACCES) */
	ZFUSE_E_NAMETOOLONG,	/* name too long (ENAMETOOLONG) */
	ZFUSE_E_NOSPC,		/* pool full: only slop space is left (ENOSPC) */
	ZFUSE_E_EXIST,		/* name or object already exists (EEXIST) */
	ZFUSE_E_NOTEMPTY,	/* directory not empty (ENOTEMPTY) */
	ZFUSE_E_PERM,		/* operation not permitted (EPERM) */
	/* Reserved, never returned: a zfuse_fs_t is one dataset, so a
	 * rename or link across datasets cannot be asked of the library
	 * (the FUSE daemon answers EXDEV itself). It stays so the codes
	 * after it keep their values (ABI). */
	ZFUSE_E_XDEV,		/* rename or link across datasets (EXDEV) */
	ZFUSE_E_FBIG,		/* file or offset too large (EFBIG) */
	ZFUSE_E_MLINK,		/* too many links (EMLINK) */
	ZFUSE_E_BUSY,		/* pool or dataset in use (EBUSY) */
	ZFUSE_E_DQUOT,		/* a quota or refquota is reached (EDQUOT) */
	ZFUSE_E_KEY,		/* incorrect key: the wrapped master key does not verify (EACCES) */
	ZFUSE_E_AUTH,		/* an encrypted block failed its MAC (EIO) */
	ZFUSE_E_LAST
};

/* errno class of a ZFUSE_E* code (positive errno; 0 for ZFUSE_OK). Accepts
 * either sign. Unknown codes map to EIO. */
int zfuse_errno(int err);

/* Static, human-readable description of a ZFUSE_E* code (either sign). */
const char *zfuse_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
