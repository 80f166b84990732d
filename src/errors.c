/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * errors.c — the table that gives every ZFUSE_E* code its errno class and
 * its message. One table, so that the two can never disagree.
 */
#include <errno.h>
#include <stdlib.h>
#include "zfuse/errors.h"

static const struct {
	int err_no;
	const char *msg;
} error_table[ZFUSE_E_LAST - ZFUSE_E_BASE] = {
	[ZFUSE_E_IO - ZFUSE_E_BASE] = { EIO, "device I/O error" },
	[ZFUSE_E_CHECKSUM - ZFUSE_E_BASE] = { EIO, "checksum mismatch on every copy of a block" },
	[ZFUSE_E_CORRUPT - ZFUSE_E_BASE] = { EIO, "corrupt on-disk structure" },
	[ZFUSE_E_DECOMPRESS - ZFUSE_E_BASE] = { EIO, "block failed to decompress" },
	[ZFUSE_E_NOMEM - ZFUSE_E_BASE] = { ENOMEM, "out of memory" },
	[ZFUSE_E_NOENT - ZFUSE_E_BASE] = { ENOENT, "not found" },
	[ZFUSE_E_NOTDIR - ZFUSE_E_BASE] = { ENOTDIR, "not a directory" },
	[ZFUSE_E_ISDIR - ZFUSE_E_BASE] = { EISDIR, "is a directory" },
	[ZFUSE_E_INVAL - ZFUSE_E_BASE] = { EINVAL, "invalid argument" },
	[ZFUSE_E_UNSUPPORTED - ZFUSE_E_BASE] = { ENOTSUP, "unsupported by zfuse" },
	[ZFUSE_E_ROFS - ZFUSE_E_BASE] = { EROFS, "read-only" },
	[ZFUSE_E_NODATA - ZFUSE_E_BASE] = { ENODATA, "no such attribute" },
	[ZFUSE_E_RANGE - ZFUSE_E_BASE] = { ERANGE, "buffer too small" },
	[ZFUSE_E_NOTFOUND_POOL - ZFUSE_E_BASE] = { ENOENT, "no importable pool found" },
	[ZFUSE_E_MISSING_DEV - ZFUSE_E_BASE] = { ENXIO, "too many devices missing" },
	[ZFUSE_E_ACCESS - ZFUSE_E_BASE] = { EACCES, "encryption key not loaded" },
	[ZFUSE_E_NAMETOOLONG - ZFUSE_E_BASE] = { ENAMETOOLONG, "name too long" },
	[ZFUSE_E_NOSPC - ZFUSE_E_BASE] = { ENOSPC, "no space left in the pool" },
	[ZFUSE_E_EXIST - ZFUSE_E_BASE] = { EEXIST, "already exists" },
	[ZFUSE_E_NOTEMPTY - ZFUSE_E_BASE] = { ENOTEMPTY, "directory not empty" },
	[ZFUSE_E_PERM - ZFUSE_E_BASE] = { EPERM, "operation not permitted" },
	[ZFUSE_E_XDEV - ZFUSE_E_BASE] = { EXDEV, "crosses datasets" },
	[ZFUSE_E_FBIG - ZFUSE_E_BASE] = { EFBIG, "file too large" },
	[ZFUSE_E_MLINK - ZFUSE_E_BASE] = { EMLINK, "too many links" },
	[ZFUSE_E_BUSY - ZFUSE_E_BASE] = { EBUSY, "busy" },
	[ZFUSE_E_DQUOT - ZFUSE_E_BASE] = { EDQUOT, "disk quota exceeded" },
	[ZFUSE_E_KEY - ZFUSE_E_BASE] = { EACCES, "incorrect key provided" },
	[ZFUSE_E_AUTH - ZFUSE_E_BASE] = { EIO, "block failed authentication (MAC mismatch)" },
};

static int error_index(int err)
{
	err = abs(err);
	if (err <= ZFUSE_E_BASE || err >= ZFUSE_E_LAST)
		return -1;
	return err - ZFUSE_E_BASE;
}

int zfuse_errno(int err)
{
	if (err == 0)
		return 0;
	int i = error_index(err);
	return i < 0 ? EIO : error_table[i].err_no;
}

const char *zfuse_strerror(int err)
{
	if (err == 0)
		return "success";
	int i = error_index(err);
	return i < 0 ? "unknown error" : error_table[i].msg;
}
