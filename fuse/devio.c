/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * devio.c — a filesystem session's device I/O: read requests and write
 * replies exactly as libfuse would, looking at two messages on the way.
 *
 * Theory: the FUSE protocol lets a server take over the dropping of
 * setuid/setgid bits and file capabilities (FUSE_HANDLE_KILLPRIV_V2,
 * kernel 5.11, protocol 7.33). Then the kernel marks inodes without those
 * bits S_NOSEC and stops looking up security.capability before each
 * write(2) — one GETXATTR round trip per write, a third of the requests of
 * a write+fsync loop. libfuse 3.14 predates the flag. So the INIT request
 * is read here (did the kernel offer the flag?), the session's init says
 * whether it wants it, and its INIT reply gets the flag added on the way
 * out; and since libfuse passes on neither a write's FUSE_WRITE_KILL_SUIDGID
 * nor a setattr's FATTR_KILL_SUIDGID, each request's is kept for the thread
 * that reads it — libfuse's worker that reads a request is the one that
 * handles it. The duties the flag hands over are zfuse_ll.c's.
 *
 * The read hook also decides how a worker waits: polling for a moment
 * while requests stream in (spin=), because a worker asleep in read(2)
 * costs each request a wakeup the caller waits for.
 *
 * Requests are read whole with read(2): the filesystem operations have no
 * write_buf, so libfuse never splices them.
 */
#include "devio.h"

#include <linux/fuse.h>
#include <poll.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "zfuse_ll.h"

static __thread bool kills_suidgid;

bool zf_devio_kills_suidgid(void)
{
	return kills_suidgid;
}

bool zf_devio_set_kills_suidgid(bool kills)
{
	bool was = kills_suidgid;
	kills_suidgid = kills;
	return was;
}

/* Spinning is for one caller's stream of requests: after a millisecond
 * without one the daemon is idle and its workers sleep at once; while two
 * other workers or more still handle requests, callers run concurrently
 * and a spinning worker would take a CPU they need, so it sleeps too. One
 * other is allowed: a stream's background requests (a writeback WRITE, a
 * RELEASE) overlap its next one. Measured on 2 CPUs, alternating, 3-4
 * rounds each (creates.py 5000 files; fio 4 jobs of fsync'ed 4 KiB
 * writes): no spinning 3528 files/s, 11704 writes/s; spinning whatever
 * the others do 3896 and 10631; with none beside 3580 and 11666; with one
 * beside 3688 and 12158. One worker spins at a time (daemon-wide), so a
 * burst costs one CPU at most, for spin_ns past its end.
 *
 * What spinning cannot save is the reply's wakeup of a caller whose CPU
 * went idle: in a VM that is an interrupt through the hypervisor, and
 * profiles of an untar put half the daemon's samples there
 * (pvm_irq_enable under the reply's wake_up). Caller and daemon pinned to
 * one CPU (taskset) untar 8192 files in 2.65 s instead of 3.8 s, and
 * create 10000 files 7-12% faster; the daemon cannot place its callers, and
 * pinning its workers alone (3.3 s) would cap readers of many threads to
 * one CPU. Per-CPU request queues (FUSE over io_uring, kernel 6.14; not
 * in libfuse 3.14) are the way to that gain. */
#define ZF_DEVIO_BUSY_NS 1000000
#define ZF_DEVIO_SPIN_BESIDE 1
static atomic_flag spinner = ATOMIC_FLAG_INIT;
static _Atomic int64_t last_request_ns;
static _Atomic int handling;	/* workers between reading a request and their next read */
static __thread bool this_handles;

static int64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

unsigned zf_devio_default_spin_us(void)
{
	return sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? ZF_DEVIO_SPIN_US : 0;
}

/* Return when a request is queued, spin_ns have passed, or the daemon is
 * idle; the read(2) that follows takes the request or sleeps. Another
 * worker asleep in read(2) may be woken for the same request and find
 * nothing: it sleeps again, off the caller's path. */
static void await_request(int fd, int64_t spin_ns)
{
	if (spin_ns <= 0)
		return;
	int64_t now = monotonic_ns();
	if (now - atomic_load_explicit(&last_request_ns, memory_order_relaxed) > ZF_DEVIO_BUSY_NS ||
	    atomic_load_explicit(&handling, memory_order_relaxed) > ZF_DEVIO_SPIN_BESIDE ||
	    atomic_flag_test_and_set_explicit(&spinner, memory_order_acquire))
		return;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	for (int64_t end = now + spin_ns; poll(&p, 1, 0) == 0 && monotonic_ns() < end;)
		;
	atomic_flag_clear_explicit(&spinner, memory_order_release);
}

static ssize_t devio_read(int fd, void *buf, size_t len, void *userdata)
{
	struct zf_ll *ll = userdata;
	if (this_handles) {	/* back from the request this worker read last */
		this_handles = false;
		atomic_fetch_sub_explicit(&handling, 1, memory_order_relaxed);
	}
	await_request(fd, ll->io.spin_ns);
	ssize_t r = read(fd, buf, len);
	if (r < (ssize_t)sizeof(struct fuse_in_header))
		return r;	/* errno, or libfuse's own complaint */
	if (ll->io.spin_ns > 0) {
		atomic_store_explicit(&last_request_ns, monotonic_ns(), memory_order_relaxed);
		this_handles = true;
		atomic_fetch_add_explicit(&handling, 1, memory_order_relaxed);
	}
	const struct fuse_in_header *in = buf;
	size_t arg = (size_t)r - sizeof(*in);
	const char *p = (const char *)buf + sizeof(*in);
	kills_suidgid = false;
	if (in->opcode == FUSE_WRITE && arg >= sizeof(struct fuse_write_in)) {
		struct fuse_write_in w;
		memcpy(&w, p, sizeof(w));
		kills_suidgid = (w.write_flags & FUSE_WRITE_KILL_SUIDGID) != 0;
	} else if (in->opcode == FUSE_SETATTR && arg >= sizeof(struct fuse_setattr_in)) {
		struct fuse_setattr_in a;
		memcpy(&a, p, sizeof(a));
		kills_suidgid = (a.valid & FATTR_KILL_SUIDGID) != 0;
	} else if (in->opcode == FUSE_INIT && arg >= offsetof(struct fuse_init_in, flags) + 4) {
		struct fuse_init_in init = { 0 };
		memcpy(&init, p, arg < sizeof(init) ? arg : sizeof(init));
		ll->io.init_unique = in->unique;
		ll->io.offered_killpriv_v2 = init.major == FUSE_KERNEL_VERSION &&
					     init.minor >= 33 && (init.flags & FUSE_HANDLE_KILLPRIV_V2);
	}
	return r;
}

static ssize_t devio_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	struct zf_ll *ll = userdata;
	struct fuse_out_header out;
	const size_t flags_at = offsetof(struct fuse_init_out, flags);

	/* The INIT reply: header and fuse_init_out, as libfuse's do_init
	 * sends them. Not an error reply (then the session ends anyway). */
	if (ll->io.init_unique && count >= 2 && iov[0].iov_len >= sizeof(out) &&
	    iov[1].iov_len >= flags_at + sizeof(uint32_t)) {
		memcpy(&out, iov[0].iov_base, sizeof(out));
		if (out.unique == ll->io.init_unique && out.error == 0) {
			ll->io.init_unique = 0;
			if (ll->io.offered_killpriv_v2 && ll->io.want_killpriv_v2) {
				uint32_t flags;
				char *at = (char *)iov[1].iov_base + flags_at;
				memcpy(&flags, at, sizeof(flags));
				flags |= FUSE_HANDLE_KILLPRIV_V2;
				memcpy(at, &flags, sizeof(flags));
				ll->io.killpriv_v2 = true;
			}
		}
	}
	return writev(fd, iov, count);
}

int zf_devio_attach(struct fuse_session *se, struct zf_devio *dio, unsigned spin_us)
{
	dio->spin_ns = (int64_t)spin_us * 1000;
	static const struct fuse_custom_io io = {
		.read = devio_read,
		.writev = devio_writev,
	};
	return fuse_session_custom_io(se, &io, fuse_session_fd(se));
}
