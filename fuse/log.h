/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * log.h — where the daemon's messages go. Everything the daemon or the
 * library has to say passes through zf_log(): to stderr while a terminal
 * may be watching, to syslog once the daemon has detached from it.
 */
#ifndef ZFUSE_FUSE_LOG_H
#define ZFUSE_FUSE_LOG_H

#include <stdbool.h>

/* Levels are the library's (enum zfuse_log_level): ERROR < WARN < INFO < DEBUG. */
void zf_log_set_level(int max_level);
int zf_log_level(void);
/* After daemonizing stderr is /dev/null; messages must go to syslog. */
void zf_log_use_syslog(void);
void zf_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* While a verb runs on this thread (pool_verb.c, the control socket), the
 * library's errors and warnings go to its caller's stream err instead,
 * as zfs prints them; NULL ends that. zf_log_errors counts the errors so
 * sent on this thread, so a verb prints its own message only for an
 * error the library did not explain. */
#include <stdio.h>
void zf_log_capture(FILE *err);
unsigned zf_log_errors(void);
/* A zfuse_log_fn, for struct zfuse_import_opts. */
void zf_log_backend(void *arg, int level, const char *msg);

#endif
