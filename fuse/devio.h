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
 *
 * And the wait for the next request: a thread back from a reply polls the
 * device for a moment (mount option spin=) before it sleeps in read(2),
 * while requests keep coming. A sleeping worker costs every request two
 * wakeups, the daemon's and the caller's; in a virtual machine each is a
 * hypervisor exit, and a serial stream of small requests (creates, a stat
 * walk, fsync'd writes) spends more time in them than in the filesystem.
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
	int64_t spin_ns;	/* poll this long for a request before sleeping; 0: never */
};

/* spin= when not given: microseconds, where the machine has two CPUs or
 * more (on one, a spinning worker would only take the caller's time). */
#define ZF_DEVIO_SPIN_US 50
unsigned zf_devio_default_spin_us(void);

/*
 * Route the mounted session's device reads and replies through the hooks;
 * its userdata must be the struct zf_ll whose io field dio is. A worker
 * waiting for a request polls for spin_us microseconds before it sleeps,
 * if the daemon had a request in the last millisecond, at most one other
 * worker is handling a request and no other worker is polling. Returns 0,
 * or -1 with the library's message printed.
 */
int zf_devio_attach(struct fuse_session *se, struct zf_devio *dio, unsigned spin_us);

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
