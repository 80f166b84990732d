#!/usr/bin/env python3
# SPDX-License-Identifier: CDDL-1.0
"""concurrent.py — the workload and the judge of concurrent.sh.

  concurrent.py run MOUNT SECONDS SEED STATE   the concurrent load, then a
                                               full check; models to STATE
  concurrent.py check MOUNT STATE SEED         the full check again (after
                                               a remount)

`run` starts WRITERS worker processes, each owning MOUNT/tNN, and READERS
reader processes, all at once, for SECONDS. A writer picks random
operations from its own seeded generator (seed SEED-i, so a run's
per-worker operation sequences are replayed by the same SEED): create,
overwrite of a random range (1 byte .. 1 MiB, unaligned), append
(O_APPEND), truncate (shrink and grow), punch hole (PUNCH_HOLE|KEEP_SIZE),
rename within the directory (onto new and onto existing names), unlink,
fsync / fdatasync / directory fsync (the daemon's fsync waits for a txg
sync: sync(2) never reaches a FUSE daemon), read-back compared with the
model (through the page cache or O_DIRECT), readdir (with each entry's
lstat size) compared with the model, and bursts of 128-272 MiB (one at a
time) that push the daemon's dirty data over half its limit, where it kicks
the sync thread early (no other writer's fsync runs meanwhile: each would
sync the open txg first; those count as sync-held), then are cut to a few
MiB. Its model of the directory is exact: every result must match at
the moment it is read. Readers read other workers' files and only require
that calls do not fail (ENOENT of a racing rename/unlink aside) and sizes
are plausible. Writers keep some descriptors open across operations.

Any error of a call, short write or mismatch fails the run with the seed,
worker, operation number, operation, path and errno, and the worker's last
operations. The watchdog fails the run when one call has been in flight
for over HANG_S seconds, names it, and aborts the FUSE connection (exit
status 3: the daemon is stuck).
"""
import collections, ctypes, errno, mmap, multiprocessing as mp, os, pickle, random
import signal, struct, sys, time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stress import Slots, fallocate, fuse_abort, FALLOC_KEEP_SIZE, FALLOC_PUNCH  # noqa: E402

HANG_S = 30.0
WRITERS, READERS = 8, 2
MAX_FILE = 8 << 20          # a writer's files stay below this ...
BUDGET = 24 << 20           # ... and its directory below this
MAX_FILES = 12
BURST_MIN, BURST_MAX, BURST_KEEP = 128 << 20, 272 << 20, 4 << 20
CHUNK = 1 << 20

OPS = ["create", "overwrite", "append", "truncate", "punch", "rename", "unlink",
       "fsync", "fdatasync", "fsyncdir", "read", "read-direct", "readdir", "burst",
       "burst-skipped", "sync-held", "reader-read", "reader-stat", "reader-gone"]
WEIGHTS = {"create": 8, "overwrite": 25, "append": 10, "truncate": 8, "punch": 8,
           "rename": 6, "unlink": 4, "fsync": 3, "fdatasync": 2, "fsyncdir": 1,
           "read": 9, "read-direct": 4, "readdir": 5, "burst": 0.05}
OPX = {o: k for k, o in enumerate(OPS)}


class Fail(Exception):
    pass


def loguniform(rnd, hi):
    """1 .. hi, small sizes as likely as big ones."""
    return max(1, min(hi, int(2 ** rnd.uniform(0, hi.bit_length() - 1))))


def burst_chunk(block, k):
    return struct.pack("<Q", k) + block[8:]


def burst_bytes(block, n):
    out = bytearray()
    k = 0
    while len(out) < n:
        out += burst_chunk(block, k)
        k += 1
    return out[:n]


def first_diff(a, b):
    n = min(len(a), len(b))
    lo, hi = 0, n
    if a[:n] == b[:n]:
        return n
    while hi - lo > 1:     # a[:lo] equal, a[:hi] differs
        mid = (lo + hi) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid
    return lo


def read_all(fd, direct_buf=None):
    """Read a file to its end from offset 0 (O_DIRECT: into an aligned buffer)."""
    out = bytearray()
    while True:
        if direct_buf is not None:
            n = os.preadv(fd, [direct_buf], len(out))
            chunk = direct_buf[:n]
        else:
            chunk = os.pread(fd, CHUNK, len(out))
            n = len(chunk)
        if n == 0:
            return bytes(out)
        out += chunk


class Writer:
    def __init__(self, idx, slots, stop, counts, d, seed, until, sem, bursting):
        self.i, self.s, self.stop, self.counts = idx, slots, stop, counts
        self.d, self.seed, self.until, self.sem = d, seed, until, sem
        self.bursting = bursting
        self.rnd = random.Random("%d-%d" % (seed, idx))
        self.m = {}           # name -> bytearray: the directory's exact content
        self.fds = {}         # name -> descriptor kept open across operations
        self.n = 0            # operation number
        self.hist = collections.deque(maxlen=15)
        self.fresh = 0
        self.dbuf = mmap.mmap(-1, CHUNK)

    # -- helpers ---------------------------------------------------------------
    def path(self, name):
        return os.path.join(self.d, name)

    def call(self, what, name, fn, *args):
        """One system call under the watchdog; any error fails the run."""
        desc = "%s %s" % (what, self.path(name) if name is not None else self.d)
        try:
            return self.s.call(self.i, "w%d #%d %s" % (self.i, self.n, desc), fn, *args)
        except OSError as e:
            raise Fail("%s: errno %d %s (%s)" % (desc, e.errno, errno.errorcode.get(e.errno, "?"),
                                                 e.strerror))

    def new_name(self):
        self.fresh += 1
        style = self.rnd.randrange(10)
        if style == 0:
            return "name with spaces %d" % self.fresh
        if style == 1:
            return "\u00fcnic\u00f8de-\u65e5\u672c-%d" % self.fresh
        if style == 2:
            return "L" * 200 + "-%d" % self.fresh
        return "f%d" % self.fresh

    def total(self):
        return sum(len(b) for b in self.m.values())

    def fd(self, name):
        """A read-write descriptor of NAME: kept open (half the time) or new."""
        if name in self.fds:
            return self.fds[name]
        fd = self.call("open O_RDWR", name, os.open, self.path(name), os.O_RDWR)
        if self.rnd.random() < 0.5:
            self.fds[name] = fd
        return fd

    def done(self, name, fd):
        if self.fds.get(name) != fd:
            self.call("close", name, os.close, fd)

    def drop_fd(self, name):
        fd = self.fds.pop(name, None)
        if fd is not None:
            self.call("close", name, os.close, fd)

    def expect(self, name, got, what):
        want = self.m[name]
        if got != want:
            k = first_diff(got, want)
            raise Fail("%s %s: %d bytes read, the model has %d; first difference at offset %d"
                       " (got %r, expected %r)" % (what, self.path(name), len(got), len(want), k,
                                                   bytes(got[k:k + 8]), bytes(want[k:k + 8])))

    def model_write(self, name, off, data):
        b = self.m[name]
        if off > len(b):
            b.extend(bytes(off - len(b)))
        b[off:off + len(data)] = data

    def pwrite(self, name, fd, data, off, what="pwrite"):
        n = self.call("%s off %d len %d" % (what, off, len(data)), name, os.pwrite, fd, data, off)
        if n != len(data):
            raise Fail("%s %s: short write, %d of %d bytes at %d"
                       % (what, self.path(name), n, len(data), off))
        self.model_write(name, off, data)

    # -- operations ----------------------------------------------------------------
    def op_create(self):
        if len(self.m) >= MAX_FILES:
            return self.op_unlink()
        name = self.new_name()
        ln = self.rnd.choice([0, 1, loguniform(self.rnd, 256 << 10)])
        if self.total() + ln > BUDGET:
            ln = 0
        data = self.rnd.randbytes(ln)
        excl = self.rnd.random() < 0.5
        flags = os.O_RDWR | os.O_CREAT | (os.O_EXCL if excl else os.O_TRUNC)
        fd = self.call("create%s" % (" O_EXCL" if excl else ""), name, os.open, self.path(name),
                       flags, 0o644)
        self.m[name] = bytearray()
        if ln:
            self.pwrite(name, fd, data, 0, "write")
        if self.rnd.random() < 0.5:
            self.fds[name] = fd
        else:
            self.call("close", name, os.close, fd)
        return "create"

    def pick(self):
        return self.rnd.choice(sorted(self.m)) if self.m else None

    def op_overwrite(self):
        name = self.pick()
        if name is None:
            return self.op_create()
        size = len(self.m[name])
        ln = loguniform(self.rnd, 1 << 20)
        off = self.rnd.randrange(0, min(size + 65536, MAX_FILE - ln) + 1)
        grow = max(0, off + ln - size)
        data = self.rnd.randbytes(ln)
        if grow and self.total() + grow > BUDGET:
            if size == 0:
                return self.op_truncate()
            ln = min(ln, size)
            off = self.rnd.randrange(0, size - ln + 1)
            data = data[:ln]
        fd = self.fd(name)
        self.pwrite(name, fd, data, off)
        self.done(name, fd)
        return "overwrite"

    def op_append(self):
        name = self.pick()
        if name is None:
            return self.op_create()
        ln = loguniform(self.rnd, 256 << 10)
        data = self.rnd.randbytes(ln)
        if self.total() + ln > BUDGET or len(self.m[name]) + ln > MAX_FILE:
            return self.op_truncate()
        fd = self.call("open O_APPEND", name, os.open, self.path(name), os.O_WRONLY | os.O_APPEND)
        n = self.call("append len %d" % ln, name, os.write, fd, data)
        if n != ln:
            raise Fail("append %s: short write, %d of %d" % (self.path(name), n, ln))
        self.m[name] += data
        self.call("close", name, os.close, fd)
        return "append"

    def op_truncate(self):
        name = self.pick()
        if name is None:
            return self.op_create()
        size = len(self.m[name])
        if self.rnd.random() < 0.5 or self.total() >= BUDGET:
            new = self.rnd.randrange(0, size + 1)
        else:
            new = min(MAX_FILE, size + loguniform(self.rnd, 2 << 20),
                      size + BUDGET - self.total())
        if self.rnd.random() < 0.5:
            fd = self.fd(name)
            self.call("ftruncate %d (size %d)" % (new, size), name, os.ftruncate, fd, new)
            self.done(name, fd)
        else:
            self.call("truncate %d (size %d)" % (new, size), name, os.truncate,
                      self.path(name), new)
        b = self.m[name]
        del b[new:]
        b.extend(bytes(new - len(b)))
        return "truncate"

    def op_punch(self):
        name = self.pick()
        if name is None:
            return self.op_create()
        size = len(self.m[name])
        off = self.rnd.randrange(0, size + 8192)
        ln = loguniform(self.rnd, 2 << 20)
        fd = self.fd(name)
        self.call("punch hole off %d len %d (size %d)" % (off, ln, size), name, fallocate,
                  fd, FALLOC_PUNCH | FALLOC_KEEP_SIZE, off, ln)
        end = min(off + ln, size)
        if off < end:
            self.m[name][off:end] = bytes(end - off)
        self.done(name, fd)
        return "punch"

    def op_rename(self):
        a = self.pick()
        if a is None:
            return self.op_create()
        b = self.new_name() if self.rnd.random() < 0.5 else self.pick()
        self.call("rename to %r" % b, a, os.rename, self.path(a), self.path(b))
        if a != b:
            self.drop_fd(b)              # the replaced file (its last descriptor)
            self.m[b] = self.m.pop(a)
            if a in self.fds:
                self.fds[b] = self.fds.pop(a)
        return "rename"

    def op_unlink(self):
        name = self.pick()
        if name is None:
            return self.op_create()
        self.call("unlink", name, os.unlink, self.path(name))
        del self.m[name]
        self.drop_fd(name)               # closed after the unlink: an orphan for a moment
        return "unlink"

    def op_fsync(self, kind):
        # While a burst runs, syncs wait (each would sync the open txg, and
        # the burst's dirty data would never reach the daemon's limits).
        held = self.bursting.value
        if kind == "fsyncdir" or not self.m:
            fd = self.call("open dir", None, os.open, self.d, os.O_RDONLY | os.O_DIRECTORY)
            if not held:
                self.call("fsync dir", None, os.fsync, fd)
            self.call("close dir", None, os.close, fd)
            return "sync-held" if held else "fsyncdir"
        name = self.pick()
        fd = self.fd(name)
        size = len(self.m[name])
        if size and self.rnd.random() < 0.5:      # a write, then its sync
            ln = min(size, loguniform(self.rnd, 1 << 20))
            off = self.rnd.randrange(0, size - ln + 1)
            self.pwrite(name, fd, self.rnd.randbytes(ln), off)
        if not held:
            self.call(kind, name, os.fsync if kind == "fsync" else os.fdatasync, fd)
        self.done(name, fd)
        return "sync-held" if held else kind

    def op_read(self, direct):
        name = self.pick()
        if name is None:
            return self.op_create()
        if direct:
            fd = self.call("open O_DIRECT", name, os.open, self.path(name),
                           os.O_RDONLY | os.O_DIRECT)
            got = self.call("read O_DIRECT", name, read_all, fd, memoryview(self.dbuf))
            self.call("close", name, os.close, fd)
        else:
            fd = self.fd(name)
            got = self.call("read", name, read_all, fd)
            st = self.call("fstat", name, os.fstat, fd)
            if st.st_size != len(self.m[name]):
                raise Fail("fstat %s: size %d, the model has %d"
                           % (self.path(name), st.st_size, len(self.m[name])))
            self.done(name, fd)
        self.expect(name, got, "read-back%s" % (" O_DIRECT" if direct else ""))
        return "read-direct" if direct else "read"

    def op_readdir(self):
        got = {}
        def ls():
            with os.scandir(self.d) as it:
                for e in it:
                    got[e.name] = e.stat(follow_symlinks=False).st_size
        self.call("readdir+lstat", None, ls)
        want = {name: len(b) for name, b in self.m.items()}
        if got != want:
            raise Fail("readdir %s: differs from the model: extra %s, missing %s, sizes %s"
                       % (self.d, sorted(set(got) - set(want)), sorted(set(want) - set(got)),
                          {k: (got[k], want[k]) for k in got if k in want and got[k] != want[k]}))
        return "readdir"

    def op_burst(self):
        # parameters first, so that a skipped burst leaves the sequence alone
        size = self.rnd.randrange(BURST_MIN, BURST_MAX + 1)
        keep = self.rnd.randrange(0, BURST_KEEP)
        bseed = self.rnd.getrandbits(64)
        sync = self.rnd.random() < 0.5
        if len(self.m) >= MAX_FILES + 2 or not self.sem.acquire(block=False):
            return "burst-skipped"
        try:
            if self.total() + keep > BUDGET:
                keep = 0
            block = random.Random(bseed).randbytes(CHUNK)
            self.fresh += 1
            name = "burst-%d" % self.fresh
            fd = self.call("create", name, os.open, self.path(name),
                           os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            self.m[name] = bytearray()
            self.bursting.value = 1
            for k in range((size + CHUNK - 1) // CHUNK):
                data = burst_chunk(block, k)[:size - k * CHUNK]
                n = self.call("burst write %d of %d MiB" % (k, size >> 20), name,
                              os.pwrite, fd, data, k * CHUNK)
                if n != len(data):
                    raise Fail("burst %s: short write %d of %d" % (self.path(name), n, len(data)))
            if sync:
                self.call("fsync after a burst of %d bytes" % size, name, os.fsync, fd)
            self.bursting.value = 0
            for k in sorted(self.rnd.sample(range(size // CHUNK), 3)):
                got = self.call("burst read-back chunk %d" % k, name, os.pread, fd, CHUNK,
                                k * CHUNK)
                if got != burst_chunk(block, k):
                    raise Fail("burst %s: chunk %d of %d reads back wrong (first difference"
                               " at %d)" % (self.path(name), k, size,
                                            k * CHUNK + first_diff(got, burst_chunk(block, k))))
            self.call("ftruncate the burst to %d" % keep, name, os.ftruncate, fd, keep)
            self.m[name] = burst_bytes(block, keep)
            self.call("close", name, os.close, fd)
        finally:
            self.bursting.value = 0
            self.sem.release()
        return "burst"

    def step(self):
        op = self.rnd.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
        self.hist.append(op)
        if op in ("fsync", "fdatasync", "fsyncdir"):
            return self.op_fsync(op)
        if op in ("read", "read-direct"):
            return self.op_read(op == "read-direct")
        return getattr(self, "op_" + op)()

    def run(self):
        while time.time() < self.until and not self.stop.value:
            self.n += 1
            done = self.step()
            self.hist[-1] = "#%d %s" % (self.n, done)
            self.counts[self.i * len(OPS) + OPX[done]] += 1
        for name in list(self.fds):
            self.drop_fd(name)


def w_writer(i, slots, stop, counts, d, seed, until, sem, bursting, state):
    w = Writer(i, slots, stop, counts, d, seed, until, sem, bursting)
    try:
        w.run()
        # the last word is the final listing; then the model goes to STATE
        w.op_readdir()
    except Fail as e:
        if stop.value:      # the run already failed (an aborted connection fails all)
            print("  then worker %d op #%d: %s" % (i, w.n, e), flush=True)
        else:
            stop.value = 1
            print("FAIL: seed %d worker %d op #%d: %s\n  last operations of worker %d: %s"
                  % (seed, i, w.n, e, i, ", ".join(w.hist)), flush=True)
        sys.exit(1)
    with open(os.path.join(state, "model-%02d.pickle" % i), "wb") as f:
        pickle.dump({name: bytes(b) for name, b in w.m.items()}, f)


def w_reader(i, slots, stop, counts, dirs, seed, until):
    """Reads other workers' files: no call may fail (but for ENOENT of a
    racing rename or unlink), sizes must be plausible."""
    rnd = random.Random("%d-reader-%d" % (seed, i))
    n = 0
    def c(what, fn, *args):
        return slots.call(i, "reader %d #%d %s" % (i, n, what), fn, *args)
    try:
        while time.time() < until and not stop.value:
            n += 1
            d = rnd.choice(dirs)
            names = c("listdir " + d, os.listdir, d)
            if not names:
                continue
            name = rnd.choice(names)
            p = os.path.join(d, name)
            bound = BURST_MAX if name.startswith("burst-") else MAX_FILE
            op = "reader-stat" if rnd.random() < 0.3 else "reader-read"
            try:    # the name may be gone by now (a racing rename or unlink)
                if op == "reader-stat":
                    st = c("lstat " + p, os.lstat, p)
                else:
                    fd = c("open " + p, os.open, p, os.O_RDONLY)
            except FileNotFoundError:
                op, st = "reader-gone", None
            if op == "reader-read":
                try:
                    st = c("fstat " + p, os.fstat, fd)
                    got = 0
                    while got < 16 << 20:
                        k = len(c("read %s at %d" % (p, got), os.pread, fd, CHUNK, got))
                        if k == 0:
                            break
                        got += k
                    if got > bound:
                        raise Fail("reader: %s gave %d bytes, more than any file of its"
                                   " kind holds (%d)" % (p, got, bound))
                finally:
                    c("close " + p, os.close, fd)
            if st is not None and not 0 <= st.st_size <= bound:
                raise Fail("reader: %s has size %d, beyond %d" % (p, st.st_size, bound))
            counts[i * len(OPS) + OPX[op]] += 1
    except (OSError, Fail) as e:
        if isinstance(e, OSError):
            e = "%s: errno %d %s (%s)" % (slots.what[i].value.decode(errors="replace"), e.errno,
                                          errno.errorcode.get(e.errno, "?"), e.strerror)
        if stop.value:
            print("  then reader %d op #%d: %s" % (i, n, e), flush=True)
        else:
            stop.value = 1
            print("FAIL: seed %d reader %d op #%d: %s" % (seed, i, n, e), flush=True)
        sys.exit(1)


def w_check(i, slots, stop, counts, d, state, seed):
    """The directory against its saved model: listing, sizes, contents
    through the page cache and O_DIRECT."""
    with open(os.path.join(state, "model-%02d.pickle" % i), "rb") as f:
        m = pickle.load(f)
    buf = mmap.mmap(-1, CHUNK)
    def c(what, fn, *args):
        try:
            return slots.call(i, "check %s" % what, fn, *args)
        except OSError as e:
            raise Fail("check %s: errno %d %s (%s)" % (what, e.errno,
                                                       errno.errorcode.get(e.errno, "?"),
                                                       e.strerror))
    try:
        names = set(c("listdir " + d, os.listdir, d))
        if names != set(m):
            raise Fail("listing of %s: extra %s, missing %s"
                       % (d, sorted(names - set(m)), sorted(set(m) - names)))
        for name in sorted(m):
            p, want = os.path.join(d, name), m[name]
            st = c("lstat " + p, os.lstat, p)
            if st.st_size != len(want):
                raise Fail("%s: size %d, the model has %d" % (p, st.st_size, len(want)))
            for direct in (False, True):
                fd = c("open " + p, os.open, p, os.O_RDONLY | (os.O_DIRECT if direct else 0))
                got = c("read " + p, read_all, fd, memoryview(buf) if direct else None)
                c("close " + p, os.close, fd)
                if got != want:
                    k = first_diff(got, want)
                    raise Fail("%s%s: %d bytes read, the model has %d; first difference at"
                               " offset %d (got %r, expected %r)"
                               % (p, " (O_DIRECT)" if direct else "", len(got), len(want), k,
                                  got[k:k + 8], want[k:k + 8]))
        counts[i] = len(m)
        counts[WRITERS + i] = sum(len(b) for b in m.values())
    except Fail as e:
        print("FAIL: seed %s worker %d: %s" % (seed, i, e), flush=True)
        sys.exit(1)


def run_phase(mount, workers, cap, stop):
    """Run fn(i, slots, stop, ...) processes under the watchdog. Returns 0,
    1 (a worker failed) or 3 (a call hung; the FUSE connection is aborted)."""
    dev = os.stat(mount).st_dev
    slots = Slots(len(workers))
    procs = []
    for i, (fn, args) in enumerate(workers):
        p = mp.Process(target=fn, args=(i, slots, stop) + tuple(args), daemon=True)
        p.start()
        procs.append(p)
    deadline = time.monotonic() + cap
    while any(p.is_alive() for p in procs):
        time.sleep(0.2)
        now = time.monotonic()
        # read each start once: a call may end (start 0) between two reads
        start = [slots.start[i] for i in range(len(workers))]
        stuck = [i for i, st in enumerate(start) if st and now - st > HANG_S]
        if stuck or now > deadline:
            stop.value = 1
            for i in stuck:
                print("FAIL: %s in flight for %.1f s: the mount hangs"
                      % (slots.what[i].value.decode(errors="replace"), now - start[i]))
            if not stuck:
                print("FAIL: workers still running after %d s" % cap)
            for i, st in enumerate(start):
                if st and i not in stuck:
                    print("  also in flight: %s (%.1f s)" % (slots.what[i].value.decode(
                        errors="replace"), now - st))
            print("aborted the FUSE connection:", fuse_abort(dev), flush=True)
            for p in procs:
                p.kill()
            return 3
    return 1 if any(p.exitcode != 0 for p in procs) else 0


def dirs_of(mount):
    return [os.path.join(mount, "t%02d" % i) for i in range(WRITERS)]


def check(mount, state, seed):
    counts = mp.Array(ctypes.c_long, 2 * WRITERS, lock=False)
    stop = mp.Value(ctypes.c_int, 0, lock=False)
    t0 = time.monotonic()
    rc = run_phase(mount, [(w_check, (counts, d, state, seed)) for d in dirs_of(mount)], 1200,
                   stop)
    if rc == 0:
        print("check: %d files, %d bytes in %d directories match the model (page cache and"
              " O_DIRECT), %.1f s" % (sum(counts[:WRITERS]), sum(counts[WRITERS:]), WRITERS,
                                      time.monotonic() - t0), flush=True)
    return rc


def run(mount, seconds, seed, state):
    print("concurrent: %d writers, %d readers on %s for %d s, seed %d"
          % (WRITERS, READERS, mount, seconds, seed), flush=True)
    dirs = dirs_of(mount)
    for d in dirs:
        os.mkdir(d)         # new: the models start empty
    nw = WRITERS + READERS
    counts = mp.Array(ctypes.c_long, nw * len(OPS), lock=False)
    stop = mp.Value(ctypes.c_int, 0, lock=False)
    sem = mp.Semaphore(1)
    bursting = mp.Value(ctypes.c_int, 0, lock=False)
    t0 = time.time()
    until = t0 + seconds
    ws = [(w_writer, (counts, d, seed, until, sem, bursting, state)) for d in dirs]
    ws += [(w_reader, (counts, dirs, seed, until)) for _ in range(READERS)]
    rc = run_phase(mount, ws, seconds + 600, stop)
    el = time.time() - t0
    tot = [sum(counts[w * len(OPS) + k] for w in range(nw)) for k in range(len(OPS))]
    print("operations in %.1f s: %d (%s)" % (el, sum(tot), ", ".join(
        "%s %d" % (o, n) for o, n in zip(OPS, tot) if n)), flush=True)
    if rc:
        return rc
    return check(mount, state, seed)


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "run":
        rc = run(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif len(sys.argv) == 5 and sys.argv[1] == "check":
        rc = check(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(__doc__)
    sys.exit(rc)


if __name__ == "__main__":
    mp.set_start_method("fork")
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    main()
