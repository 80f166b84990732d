/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * log.c — the daemon's single message sink (see log.h). It owns the level
 * filter, set before any thread starts, and the switch from stderr to
 * syslog, made when the daemon detaches while its FUSE threads already
 * serve (hence atomic).
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <syslog.h>
#include "zfuse/zfuse.h"
#include "log.h"

static int max_level = ZFUSE_LOG_WARN;
static atomic_bool to_syslog;

void zf_log_set_level(int level)
{
	max_level = level;
}

int zf_log_level(void)
{
	return max_level;
}

void zf_log_use_syslog(void)
{
	openlog("zfuse", LOG_PID, LOG_DAEMON);
	atomic_store(&to_syslog, true);
}

static void emit(int level, const char *msg)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *const tag[] = { "error: ", "warning: ", "", "debug: " };

	if (level < ZFUSE_LOG_ERROR)
		level = ZFUSE_LOG_ERROR;
	if (level > ZFUSE_LOG_DEBUG)
		level = ZFUSE_LOG_DEBUG;
	if (level > max_level)
		return;
	if (atomic_load(&to_syslog))
		syslog(prio[level], "%s", msg);
	else
		/* One fprintf per message: stdio locks the stream, so lines
		 * from concurrent FUSE threads do not interleave. */
		fprintf(stderr, "zfuse: %s%s\n", tag[level], msg);
}

void zf_log(int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (level > max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(level, msg);
}

/* A verb's thread: the library's errors and warnings go to its caller. */
static _Thread_local FILE *capture;
static _Thread_local unsigned captured_errors;

void zf_log_capture(FILE *err)
{
	capture = err;
}

unsigned zf_log_errors(void)
{
	return captured_errors;
}

void zf_log_backend(void *arg, int level, const char *msg)
{
	(void)arg;
	if (capture && level <= ZFUSE_LOG_WARN) {
		if (level <= ZFUSE_LOG_ERROR)
			captured_errors++;
		fprintf(capture, "%s%s\n", level <= ZFUSE_LOG_ERROR ? "" : "warning: ",
			msg ? msg : "(null)");
		return;
	}
	emit(level, msg ? msg : "(null)");
}
