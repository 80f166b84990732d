/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * devio.h — a filesystem session's device I/O (libfuse's custom-io hooks),
 * for the protocol features libfuse 3.14 cannot negotiate or pass on.
 *
 * Today that is FUSE_HANDLE_KILLPRIV_V2: the server drops setuid/setgid
 * bits and file capabilities itself on write, truncate and chown, and in
 * return the kernel stops asking for security.capability (a GETXATTR round
 * trip) before every write(2). libfuse 3.14 (Debian bookworm's) neither
 * offers the flag in its INIT reply nor hands the requests' "drop them now"
 * flags to the handlers; these hooks do both.
 */
#ifndef ZFUSE_FUSE_DEVIO_H
#define ZFUSE_FUSE_DEVIO_H

#include <stdbool.h>
#include <stdint.h>

struct fuse_session;

struct zf_devio {
	bool want_killpriv_v2;	/* the session's init asks for it (zf_init) */
	bool offered_killpriv_v2;	/* the kernel's INIT request offers it */
	/* Negotiated: the kernel leaves the killing to zfuse (zfuse_ll.c). */
	bool killpriv_v2;
	uint64_t init_unique;	/* the INIT request, to know its reply */
};

/*
 * Route the mounted session's device reads and replies through the hooks;
 * its userdata must be a struct zf_ll (whose io field they use). Returns 0,
 * or -1 with the library's message printed.
 */
int zf_devio_attach(struct fuse_session *se);

/*
 * Whether the request this thread is handling tells the server to drop
 * setuid/setgid: a FUSE_WRITE with FUSE_WRITE_KILL_SUIDGID (the writer lacks
 * CAP_FSETID) or a FUSE_SETATTR with FATTR_KILL_SUIDGID (a truncate by such
 * a caller, or any chown).
 */
bool zf_devio_kills_suidgid(void);
/* Set it for a request handled on another thread than the one that read
 * it (a parked one, zfuse_ll.c); returns the value it replaces. */
bool zf_devio_set_kills_suidgid(bool kills);

#endif
