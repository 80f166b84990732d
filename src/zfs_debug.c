/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfs_debug.c — error-origin tracing and failed assertions (see
 * zfs_debug.h). The sink is process-wide because the checks that raise
 * corruption (decompressors, nvlist and ZAP decoders) know nothing of the
 * pool they read for. A failed assertion writes to stderr with one
 * write(2) (no stdio: it may fire with stdio's locks held) and aborts.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "zfs_debug.h"
#include "zfuse/errors.h"

static _Atomic(zfuse_log_fn) trace_fn;
static void *_Atomic trace_arg;
_Atomic int zfs_error_tracing;

void zfs_debug_trace(zfuse_log_fn fn, void *arg)
{
	atomic_store(&trace_arg, arg);
	atomic_store(&trace_fn, fn);
	atomic_store(&zfs_error_tracing, fn != NULL);
}

void zfs_error_report(int err, const char *file, int line, const char *func)
{
	zfuse_log_fn fn = atomic_load(&trace_fn);
	if (fn) {
		const char *base = strrchr(file, '/');
		char msg[256];
		snprintf(msg, sizeof(msg), "error %s raised at %s:%d (%s)", zfuse_strerror(err),
			 base ? base + 1 : file, line, func);
		fn(atomic_load(&trace_arg), ZFUSE_LOG_DEBUG, msg);
	}
}

void zfs_panic_assert(const char *expr, const char *values, const char *file, int line,
		      const char *func)
{
	char msg[512];
	const char *base = strrchr(file, '/');
	int n = snprintf(msg, sizeof(msg), "zfuse: assertion failed: %s%s%s at %s:%d (%s)\n", expr,
			 values ? " " : "", values ? values : "", base ? base + 1 : file, line, func);
	if (n > 0)
		(void)!write(STDERR_FILENO, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
	abort();
}

void zfs_panic_assert3(const char *expr, uint64_t left, uint64_t right, const char *file, int line,
		       const char *func)
{
	char values[96];
	snprintf(values, sizeof(values), "(0x%" PRIx64 " vs 0x%" PRIx64 ")", left, right);
	zfs_panic_assert(expr, values, file, line, func);
}
