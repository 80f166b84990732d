/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfs_debug.h — where an error came from. Every site that detects a
 * malformed structure, a checksum failure or a device error returns
 * SET_ERROR(-ZFUSE_E_...): the value is unchanged, and while error tracing
 * is on the file, line and function of the check are reported through the
 * debug log, so `zfuse mount -d` (or -vv) and `zfuse inspect -vvv` can name the
 * check that rejected a block. Tracing costs one relaxed load when off.
 */
#ifndef ZFUSE_ZFS_DEBUG_H
#define ZFUSE_ZFS_DEBUG_H

#include "zfuse/zfuse.h"

#define SET_ERROR(err) zfs_set_error((err), __FILE__, __LINE__, __func__)

extern _Atomic int zfs_error_tracing;
void zfs_error_report(int err, const char *file, int line, const char *func);

/* Returns err; reports its origin when tracing is on. Inline, so the
 * compiler still sees which value a function returns. */
static inline int zfs_set_error(int err, const char *file, int line, const char *func)
{
	if (__builtin_expect(zfs_error_tracing, 0))
		zfs_error_report(err, file, line, func);
	return err;
}

/* Turn tracing on (fn non-NULL: messages go to fn at ZFUSE_LOG_DEBUG) or
 * off. Process-wide: a pool opened with log_level ZFUSE_LOG_DEBUG turns it
 * on with its log callback. */
void zfs_debug_trace(zfuse_log_fn fn, void *arg);

#endif
