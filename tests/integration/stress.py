#!/usr/bin/env python3
# SPDX-License-Identifier: CDDL-1.0
"""stress.py MODE MOUNT [SECONDS] [SEED] — concurrent workloads on a
read-write zfuse mount, under a watchdog.

Every worker process marks the start of each filesystem call in a shared
slot; the watchdog fails the run when one call has been in flight for more
than HANG_S seconds, names it, and aborts the FUSE connection so that no
process stays stuck in D state (the suite itself never hangs).

Modes:
  readdir   `ls -l` loops (readdir + lstat of every entry) on one directory
            against creators/writers, renamers, unlinkers and mkdir/rmdir,
            for SECONDS (issue 8, hang 1: a readdirplus took the pool lock
            twice and deadlocked behind a queued writer).
  copy      copy_file_range(2) matrix (same and different files, overlap,
            ranges past EOF, dirty pages of the writeback cache, lengths
            0 .. 2^62) and random fsx-like sequences checked against a model
            (issue 8, hang 2: a stale size ended copies at 0 bytes, and
            callers that loop until done spun for ever).
  mixed     creators, O_DIRECT writers, truncaters, renamers and
            readdir+stat readers, 6 processes, each a few thousand
            operations, contents checked at the end.
"""
import ctypes, errno, mmap, multiprocessing as mp, os, random, signal, sys, time

HANG_S = 10.0
libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
FALLOC_KEEP_SIZE, FALLOC_PUNCH, FALLOC_ZERO = 0x1, 0x2, 0x10


class Slots:
    """Per-worker start time of the call in flight (0: none) and its name."""
    def __init__(self, n):
        self.start = mp.Array(ctypes.c_double, n, lock=False)
        self.what = [mp.Array(ctypes.c_char, 160, lock=False) for _ in range(n)]
        self.ops = mp.Array(ctypes.c_long, n, lock=False)

    def call(self, i, what, fn, *args):
        self.what[i].value = what.encode()[:159]
        self.start[i] = time.monotonic()
        try:
            return fn(*args)
        finally:
            self.start[i] = 0.0
            self.ops[i] += 1


def fallocate(fd, mode, off, ln):
    if libc.fallocate(fd, mode, off, ln) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def fuse_abort(mount_dev):
    conns = "/sys/fs/fuse/connections"
    if not os.listdir(conns):
        os.system("mount -t fusectl fusectl %s" % conns)
    path = "%s/%d/abort" % (conns, os.minor(mount_dev))
    try:
        with open(path, "w") as f:
            f.write("1")
        return path
    except OSError as e:
        return "cannot abort %s: %s" % (path, e)


def run_workers(mount, workers, seconds_cap):
    """Run worker(i, slots, ...) processes under the watchdog; returns the
    number of failed workers (a hang counts as all)."""
    dev = os.stat(mount).st_dev
    slots = Slots(len(workers))
    procs = []
    for i, (fn, args) in enumerate(workers):
        p = mp.Process(target=fn, args=(i, slots) + tuple(args), daemon=True)
        p.start()
        procs.append(p)
    deadline = time.monotonic() + seconds_cap
    while any(p.is_alive() for p in procs):
        time.sleep(0.2)
        now = time.monotonic()
        for i in range(len(workers)):
            st = slots.start[i]
            if st and now - st > HANG_S:
                print("FAIL: worker %d: %s in flight for %.1f s: the mount hangs"
                      % (i, slots.what[i].value.decode(errors="replace"), now - st))
                print("aborted the FUSE connection:", fuse_abort(dev))
                for p in procs:
                    p.kill()
                return len(workers)
        if now > deadline:
            print("FAIL: workers still running after %d s" % seconds_cap)
            print("aborted the FUSE connection:", fuse_abort(dev))
            for p in procs:
                p.kill()
            return len(workers)
    bad = sum(1 for p in procs if p.exitcode != 0)
    print("%d workers, %d operations, %d failed" % (len(procs), sum(slots.ops), bad))
    return bad


# ---- readdir against writers ------------------------------------------------

NAMES = ["f%03d" % i for i in range(150)]


def tolerate(fn, *args):
    try:
        return fn(*args)
    except (FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError):
        return None
    except OSError as e:
        if e.errno in (errno.ENOTEMPTY, errno.EISDIR, errno.ENOTDIR):
            return None
        raise


def ls_l(d):
    n = 0
    with os.scandir(d) as it:
        for e in it:
            tolerate(os.lstat, e.path)
            n += 1
    return n


def w_lister(i, s, d, until):
    while time.time() < until:
        s.call(i, "ls -l %s" % d, ls_l, d)


def w_creator(i, s, d, until, seed):
    rnd = random.Random(seed)
    while time.time() < until:
        p = os.path.join(d, rnd.choice(NAMES))
        def create():
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                os.write(fd, os.urandom(rnd.choice([0, 100, 5000, 70000])))
                if rnd.random() < 0.1:
                    os.fsync(fd)
            finally:
                os.close(fd)
        s.call(i, "create+write " + p, tolerate, create)


def w_renamer(i, s, d, until, seed):
    rnd = random.Random(seed)
    while time.time() < until:
        a, b = (os.path.join(d, rnd.choice(NAMES)) for _ in range(2))
        s.call(i, "rename %s %s" % (a, b), tolerate, os.rename, a, b)


def w_unlinker(i, s, d, until, seed):
    rnd = random.Random(seed)
    while time.time() < until:
        p = os.path.join(d, rnd.choice(NAMES))
        if rnd.random() < 0.1:
            s.call(i, "mkdir " + p, tolerate, os.mkdir, p)
            s.call(i, "rmdir " + p, tolerate, os.rmdir, p)
        else:
            s.call(i, "unlink " + p, tolerate, os.unlink, p)


def mode_readdir(mount, seconds, seed):
    d = os.path.join(mount, "race")
    os.makedirs(d, exist_ok=True)
    until = time.time() + seconds
    ws = [(w_lister, (d, until)) for _ in range(3)]
    ws += [(w_creator, (d, until, seed + k)) for k in range(2)]
    ws += [(w_renamer, (d, until, seed + 10)), (w_unlinker, (d, until, seed + 11))]
    bad = run_workers(mount, ws, seconds + 120)
    if bad == 0:
        # the directory must still list and every entry stat
        n = ls_l(d)
        print("final listing: %d entries" % n)
    return bad


# ---- copy_file_range -----------------------------------------------------------

class Model:
    """A file's expected bytes."""
    def __init__(self):
        self.b = bytearray()

    def write(self, off, data):
        if off > len(self.b):
            self.b.extend(bytes(off - len(self.b)))
        self.b[off:off + len(data)] = data


def check_file(fd, model, what):
    size = os.fstat(fd).st_size
    data = os.pread(fd, len(model.b) + 4096, 0)
    if size != len(model.b) or data != bytes(model.b):
        i = next((k for k in range(min(len(data), len(model.b))) if data[k] != model.b[k]),
                 min(len(data), len(model.b)))
        raise AssertionError("%s: size %d (expected %d), first difference at %d"
                             % (what, size, len(model.b), i))


def cfr(fd_in, off_in, fd_out, off_out, ln):
    return os.copy_file_range(fd_in, fd_out, ln, off_in, off_out)


def copy_matrix(i, s, d):
    """Fixed cases; each states the expected result."""
    a_path, b_path = os.path.join(d, "cm-a"), os.path.join(d, "cm-b")
    a = os.open(a_path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    b = os.open(b_path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    ma, mb = Model(), Model()
    data = os.urandom(300000)
    os.pwrite(a, data, 0); ma.write(0, data)
    os.fsync(a)
    cases = 0
    for ln in (0, 1, 511, 4096, 65537, 1 << 20, 1 << 31, 1 << 62):
        for off_in in (0, 4095, 299999, 300000, 400000):
            for off_out in (0, 1, 123457, 2 << 20):
                got = s.call(i, "copy a@%d -> b@%d len %d" % (off_in, off_out, ln),
                             cfr, a, off_in, b, off_out, ln)
                want = max(0, min(ln, len(ma.b) - off_in))
                if got != want:
                    raise AssertionError("copy a@%d -> b@%d len %d returned %d, expected %d"
                                         % (off_in, off_out, ln, got, want))
                if got:
                    mb.write(off_out, ma.b[off_in:off_in + got])
                check_file(b, mb, "b after copy a@%d->@%d len %d" % (off_in, off_out, ln))
                cases += 1
    # same file, disjoint ranges, forwards and backwards, and past EOF
    for off_in, off_out, ln in ((0, 300000, 1000), (1000, 0, 500), (5000, 1 << 21, 70000),
                                (250000, 100, 60000)):
        got = s.call(i, "copy a@%d -> a@%d len %d" % (off_in, off_out, ln),
                     cfr, a, off_in, a, off_out, ln)
        want = max(0, min(ln, len(ma.b) - off_in))
        if got != want:
            raise AssertionError("same-file copy returned %d, expected %d" % (got, want))
        ma.write(off_out, bytes(ma.b[off_in:off_in + got]))
        check_file(a, ma, "a after same-file copy @%d->@%d" % (off_in, off_out))
        cases += 1
    # overlapping ranges of one file: the kernel refuses them (EINVAL)
    try:
        s.call(i, "overlapping copy", cfr, a, 0, a, 100, 1000)
        raise AssertionError("overlapping same-file copy succeeded")
    except OSError as e:
        if e.errno != errno.EINVAL:
            raise
    cases += 1
    # dirty pages: writes still in the kernel's writeback cache, never fsynced
    for k in range(20):
        off = random.Random(k).randrange(0, 1 << 22)
        chunk = os.urandom(10000 + k)
        os.pwrite(a, chunk, off); ma.write(off, chunk)
        src = random.Random(k + 100).randrange(0, len(ma.b))
        dst = random.Random(k + 200).randrange(0, 1 << 22)
        ln = 100000
        got = s.call(i, "copy dirty a@%d -> b@%d" % (src, dst), cfr, a, src, b, dst, ln)
        want = min(ln, len(ma.b) - src)
        if got != want:
            raise AssertionError("copy of dirty data returned %d, expected %d (size %d)"
                                 % (got, want, len(ma.b)))
        mb.write(dst, ma.b[src:src + got])
        check_file(b, mb, "b after dirty copy %d" % k)
        cases += 1
    # a dirty write far past EOF makes the kernel's size run ahead of the
    # daemon's; a copy from the gap between must copy zeros, not stop at 0
    e = os.open(os.path.join(d, "cm-e"), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    me = Model()
    os.pwrite(e, b"x" * 5000, 0); me.write(0, b"x" * 5000)
    os.fsync(e)
    os.pwrite(e, b"y" * 100, 3 << 20); me.write(3 << 20, b"y" * 100)
    got = s.call(i, "copy from the gap before a dirty extension", cfr, e, 1 << 20, b, 0, 70000)
    if got != 70000:
        raise AssertionError("copy from the gap before a dirty extension returned %d of 70000" % got)
    mb.write(0, bytes(70000))
    check_file(b, mb, "b after the gap copy")
    check_file(e, me, "e after the gap copy")
    os.close(e)
    cases += 1
    # the sequence that hung: zero-range fallocate, a small copy past EOF
    # that extends the file, then further copies
    c = os.open(os.path.join(d, "cm-c"), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    mc = Model()
    chunk = os.urandom(200000)
    os.pwrite(c, chunk, 0); mc.write(0, chunk)
    s.call(i, "fallocate zero-range", fallocate, c, FALLOC_ZERO, 150000, 300000)
    mc.write(150000, bytes(300000))
    got = s.call(i, "copy past EOF", cfr, c, 1000, c, 800000, 3000)
    if got != 3000:
        raise AssertionError("copy past EOF returned %d" % got)
    mc.write(800000, mc.b[1000:4000])
    for k in range(50):
        rnd = random.Random(k)
        src = rnd.randrange(0, len(mc.b)); ln = rnd.randrange(1, 200000)
        dst = rnd.randrange(0, 1 << 23)
        if src < dst + ln and dst < src + ln:
            continue
        got = s.call(i, "further copy %d" % k, cfr, c, src, c, dst, ln)
        want = min(ln, len(mc.b) - src)
        if got != want:
            raise AssertionError("further copy %d returned %d, expected %d" % (k, got, want))
        mc.write(dst, bytes(mc.b[src:src + got]))
    check_file(c, mc, "c after the fsx sequence")
    cases += 1
    for fd in (a, b, c):
        os.close(fd)
    print("copy matrix: %d cases" % cases)


def fsx(i, s, path, seed, nops, maxlen):
    """Random writes, mmap writes, truncates, zero/punch fallocates and
    same-file copies, with every result compared to the model."""
    rnd = random.Random(seed)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    m = Model()
    for k in range(nops):
        op = rnd.choice(["write", "write", "mapwrite", "trunc", "zero", "punch", "copy", "copy"])
        size = len(m.b)
        off = rnd.randrange(0, maxlen)
        ln = min(rnd.randrange(1, 1 << 17), maxlen - off)
        tag = "fsx seed %d op %d %s off %d len %d size %d" % (seed, k, op, off, ln, size)
        if op == "write":
            data = rnd.randbytes(ln)
            s.call(i, tag, os.pwrite, fd, data, off)
            m.write(off, data)
        elif op == "mapwrite" and size:
            off %= size; ln = min(ln, size - off)
            data = rnd.randbytes(ln)
            def mapwrite():
                with mmap.mmap(fd, size) as mm:
                    mm[off:off + ln] = data
            s.call(i, tag, mapwrite)
            m.write(off, data)
        elif op == "trunc":
            s.call(i, tag, os.ftruncate, fd, off)
            del m.b[off:]
            m.write(len(m.b), bytes(off - len(m.b)))
        elif op == "zero":
            keep = rnd.random() < 0.5
            s.call(i, tag, fallocate, fd, FALLOC_ZERO | (FALLOC_KEEP_SIZE if keep else 0), off, ln)
            end = min(off + ln, size) if keep else off + ln
            if off < end:
                m.write(off, bytes(end - off))
        elif op == "punch" and size:
            off %= size
            s.call(i, tag, fallocate, fd, FALLOC_PUNCH | FALLOC_KEEP_SIZE, off, ln)
            end = min(off + ln, size)
            m.write(off, bytes(end - off))
        elif op == "copy" and size:
            src = rnd.randrange(0, size); ln = min(ln, size - src)
            dst = rnd.randrange(0, maxlen - ln)
            if src < dst + ln and dst < src + ln:
                continue
            got = s.call(i, tag + " copy %d->%d" % (src, dst), cfr, fd, src, fd, dst, ln)
            if got != ln:
                raise AssertionError("%s: copied %d of %d" % (tag, got, ln))
            m.write(dst, bytes(m.b[src:src + got]))
        else:
            continue
        check_file(fd, m, tag)
    os.close(fd)


def w_copy(i, s, d, seed):
    try:
        copy_matrix(i, s, d)
        for k in range(3):
            fsx(i, s, os.path.join(d, "fsx-%d" % k), seed + k, 700, 8 << 20)
        print("fsx: 3 x 700 operations match the model")
    except AssertionError as e:
        print("FAIL:", e)
        sys.exit(1)


def mode_copy(mount, seconds, seed):
    d = os.path.join(mount, "copy")
    os.makedirs(d, exist_ok=True)
    return run_workers(mount, [(w_copy, (d, seed))], max(seconds, 900))


# ---- mixed load as a new user would run it -------------------------------------

def w_mixed(i, s, d, role, nops, seed):
    rnd = random.Random(seed)
    names = ["m%02d" % k for k in range(40)]
    align = mmap.mmap(-1, 1 << 20)
    for k in range(nops):
        p = os.path.join(d, rnd.choice(names))
        if role == "create":
            def create():
                with open(p, "wb") as f:
                    f.write(os.urandom(rnd.choice([0, 1, 4096, 40000, 300000])))
            s.call(i, "create " + p, tolerate, create)
        elif role == "direct":
            def direct():
                fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_DIRECT, 0o644)
                try:
                    n = 4096 * rnd.randrange(1, 64)
                    align[:n] = os.urandom(n)
                    os.pwritev(fd, [memoryview(align)[:n]], 4096 * rnd.randrange(0, 256))
                    os.preadv(fd, [memoryview(align)[:4096]], 0)
                finally:
                    os.close(fd)
            s.call(i, "O_DIRECT write " + p, tolerate, direct)
        elif role == "truncate":
            s.call(i, "truncate " + p, tolerate, os.truncate, p, rnd.randrange(0, 1 << 20))
        elif role == "rename":
            q = os.path.join(d, rnd.choice(names))
            s.call(i, "rename %s %s" % (p, q), tolerate, os.rename, p, q)
        elif role == "read":
            s.call(i, "ls -l " + d, ls_l, d)
            def readall():
                with open(p, "rb") as f:
                    while f.read(1 << 20):
                        pass
            s.call(i, "read " + p, tolerate, readall)
        elif role == "unlink":
            s.call(i, "unlink " + p, tolerate, os.unlink, p)


def mode_mixed(mount, seconds, seed):
    d = os.path.join(mount, "mixed")
    os.makedirs(d, exist_ok=True)
    roles = [("create", 3000), ("direct", 1500), ("truncate", 3000), ("rename", 3000),
             ("read", 1500), ("unlink", 1500)]
    ws = [(w_mixed, (d, r, n, seed + k)) for k, (r, n) in enumerate(roles)]
    bad = run_workers(mount, ws, max(seconds, 1200))
    if bad == 0:
        # every file left must read back whole and match its size
        for e in os.scandir(d):
            with open(e.path, "rb") as f:
                n = len(f.read())
            if n != e.stat().st_size:
                print("FAIL: %s reads %d bytes, stat says %d" % (e.path, n, e.stat().st_size))
                bad += 1
    return bad


def main():
    mode, mount = sys.argv[1], sys.argv[2]
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else int(time.time()) % 100000
    print("stress %s on %s, %d s, seed %d" % (mode, mount, seconds, seed))
    sys.stdout.flush()
    fn = {"readdir": mode_readdir, "copy": mode_copy, "mixed": mode_mixed}[mode]
    bad = fn(mount, seconds, seed)
    print("%s: %s" % (mode, "ok" if bad == 0 else "FAILED"))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    mp.set_start_method("fork")
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    main()
