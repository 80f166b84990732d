/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfs_debug.h — where an error came from. Every site that detects a
 * malformed structure, a checksum failure or a device error returns
 * SET_ERROR(-ZFUSE_E_...): the value is unchanged, and while error tracing
 * is on the file, line and function of the check are reported through the
 * debug log, so `zfuse mount -d` (or -vv) and `zfuse inspect -vvv` can name the
 * check that rejected a block. Tracing costs one relaxed load when off.
 *
 * And assertions at the invariants the engine relies on, OpenZFS's two
 * families with its names: VERIFY* always checks (cheap checks whose
 * failure means the next write would corrupt a pool: better to stop the
 * daemon, leaving the last synced txg intact, than to write a broken
 * tree); ASSERT* checks in debug and sanitizer builds (NDEBUG unset, the
 * default build too) and compiles to nothing in release builds. The
 * 3-operand forms print both values. A failure names the expression, the
 * values and the call site on stderr and aborts, so that a test, a
 * sanitizer or a core file sees it. Lock discipline has its own checks
 * (SPA_ASSERT_* in spa_lock.h). Bad input never reaches an assertion: it
 * is an error return (SET_ERROR) at the check that met it.
 */
#ifndef ZFUSE_ZFS_DEBUG_H
#define ZFUSE_ZFS_DEBUG_H

#include <stdint.h>
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

/* Print the failed check and abort (never returns). */
__attribute__((noreturn, cold)) void zfs_panic_assert(const char *expr, const char *values,
							 const char *file, int line, const char *func);
__attribute__((noreturn, cold)) void zfs_panic_assert3(const char *expr, uint64_t left,
							  uint64_t right, const char *file, int line,
							  const char *func);

#define VERIFY(cond)                                                                       \
	((void)(__builtin_expect(!!(cond), 1) ? 0                                          \
					      : (zfs_panic_assert(#cond, NULL, __FILE__,   \
								  __LINE__, __func__),     \
						 0)))
/* VERIFY3U(a, op, b): unsigned 64-bit comparison, both values printed */
#define VERIFY3U(a, op, b)                                                                 \
	do {                                                                               \
		uint64_t verify3_l = (uint64_t)(a), verify3_r = (uint64_t)(b);             \
		if (__builtin_expect(!(verify3_l op verify3_r), 0))                        \
			zfs_panic_assert3(#a " " #op " " #b, verify3_l, verify3_r, __FILE__, \
					  __LINE__, __func__);                             \
	} while (0)
#define VERIFY0(a) VERIFY3U(a, ==, 0)
/* IS_P2(x): x is a power of two */
#define IS_P2(x) ((x) != 0 && ((x) & ((x) - 1)) == 0)

#ifdef NDEBUG
#define ASSERT(cond) ((void)sizeof(!(cond)))
#define ASSERT3U(a, op, b) ((void)sizeof((uint64_t)(a) op (uint64_t)(b)))
#define ASSERT0(a) ((void)sizeof(a))
#else
#define ASSERT(cond) VERIFY(cond)
#define ASSERT3U(a, op, b) VERIFY3U(a, op, b)
#define ASSERT0(a) VERIFY0(a)
#endif

#endif
