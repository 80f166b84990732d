/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfs_debug.c — error-origin tracing (see zfs_debug.h). The sink is
 * process-wide because the checks that raise corruption (decompressors,
 * nvlist and ZAP decoders) know nothing of the pool they read for.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
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
