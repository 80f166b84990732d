#!/usr/bin/env python3
# SPDX-License-Identifier: CDDL-1.0
"""powercut.py — crash consistency under power cuts.

A scripted workload runs on a zfuse mount whose device writes are recorded
(ZFUSE_WRITE_LOG, format in src/vdev_write_log.h). From the pool image as it
was before the mount and that log, the harness rebuilds disk states a power
cut could leave, and checks each one.

The crash model. A flush (fdatasync of the image) is a barrier: everything
recorded before it is on disk. Writes between two flushes (an epoch) may
reach the disk in any subset; the one in flight may be torn at a 512-byte
boundary. A state is therefore: every write of epochs < K, a subset of the
writes of epoch K, and optionally a 512-byte-aligned prefix of one more
write of epoch K. Writes are applied in log order (the image is a file: a
later write to the same bytes replaces an earlier one in the page cache, so
the earlier one cannot land after it).

The oracle is exact. Timed txg syncs are turned off (ZFUSE_TXG_TIMEOUT), the
intent log too (ZFUSE_ZIL=0: an fsync is then a txg sync), and
every workload step closes its files (the kernel's writeback cache hands
their pages to the daemon at close), so a txg is written only at the
workload's sync points (fsync of the root directory). At sync point i the
harness notes the log's length and the expected tree M_i. A state whose
complete part reaches sync point i (and not i+1) must import and show
exactly M_i or M_(i+1): files fsynced before the cut read back byte for
byte, and nothing that was never written, nor anything deleted before the
sync, appears.

Each state: imported read-only and walked (zfuse-walk: every file read and
hashed), compared with the model; mounted read-write and unmounted (must
succeed, and leave the same tree); zdb -bcc (no leaks, no errors) on the
flush-boundary states and a sample of the others (zdb takes seconds).

With --zil the intent log is on and the sync points are its commits (an
fsync of each file changed since the last one and of the root directory,
since an fsync commits every name-space change but only its own file's
data writes, as OpenZFS's): small writes
copied into log blocks, big ones written in place and named by indirect
records. The read-only import then shows some earlier sync point's tree
(the last synced txg); the read-write mount claims and replays the log,
after which the tree must be the last sync point's whose commit the state
holds whole (or the next one's); a commit partly on disk replays a prefix
of its records, so there only the paths no operation since touched are
held to that sync point's tree.

usage:
  powercut.py [--states N | --full] [--zil] [--seed S] [--jobs J] [--zdb N]
              [--workdir DIR] [--keep] ZFUSE ZFUSE_WALK
  powercut.py replay WORKDIR SPEC OUT.img     rebuild one state
  powercut.py check WORKDIR SPEC ZFUSE ZFUSE_WALK   rebuild and check one

A SPEC names a state: "e=K" (epochs < K whole), "e=K;w=I,J,..." (and
writes I, J of epoch K, numbered from 0 within the epoch), ";t=I:N" (and the
first N*512 bytes of write I of epoch K).
"""
import argparse
import concurrent.futures
import hashlib
import json
import os
import random
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time

POOL = "pcpool"
LOG_MAGIC = b"ZFUSEWL1"
WLOG_OPEN, WLOG_DEVICE, WLOG_WRITE, WLOG_FLUSH = 1, 2, 3, 4
WLOG_F_UBERBLOCK = 2
SECTOR = 512


# ---- the write log ---------------------------------------------------------

class WriteLog:
    """The records of one recorded import: writes grouped into epochs."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            data = f.read()
        if data[:8] != LOG_MAGIC:
            raise SystemExit("%s: not a zfuse write log" % path)
        version, hsize = struct.unpack_from("<II", data, 8)
        if version != 1 or hsize != 48:
            raise SystemExit("%s: unknown log version %d" % (path, version))
        self.records = []   # (type, flags, epoch, dev, offset, length, payload offset, end)
        self.devices = {}
        pos, opens = 16, 0
        while pos + 48 <= len(data):
            t, fl, _seq, ep, dev, _r, off, ln = struct.unpack_from("<IIQQIIQQ", data, pos)
            pay = pos + 48
            end = pay + ln
            if end > len(data):
                break   # a record cut short: the daemon died while appending
            if t == WLOG_OPEN:
                opens += 1
                if opens > 1:
                    raise SystemExit("%s: more than one recorded import" % path)
            elif t == WLOG_DEVICE:
                self.devices[dev] = data[pay:end].decode()
            self.records.append((t, fl, ep, dev, off, ln, pay, end))
            pos = end
        if len(self.devices) != 1:
            raise SystemExit("%s: the harness handles one device, the log has %d"
                             % (path, len(self.devices)))
        # epochs[k]: record indices of the writes between flush k-1 and flush k
        self.epochs = [[]]
        for i, r in enumerate(self.records):
            if r[0] == WLOG_WRITE:
                self.epochs[-1].append(i)
            elif r[0] == WLOG_FLUSH:
                self.epochs.append([])
        if not self.epochs[-1] and len(self.epochs) > 1:
            self.epochs.pop()   # the log ends with a flush
        self.tail_unflushed = bool(self.records) and self.records[-1][0] != WLOG_FLUSH

    def records_before(self, log_size):
        """Number of records wholly inside the first log_size bytes."""
        return sum(1 for r in self.records if r[7] <= log_size)

    def payload(self, f, rec, nbytes=None):
        f.seek(rec[6])
        return f.read(rec[5] if nbytes is None else nbytes)


def parse_spec(spec):
    k, subset, torn = None, [], None
    for part in spec.split(";"):
        key, _, val = part.partition("=")
        if key == "e":
            k = int(val)
        elif key == "w":
            subset = [int(x) for x in val.split(",") if x]
        elif key == "t":
            i, n = val.split(":")
            torn = (int(i), int(n))
        else:
            raise SystemExit("bad state spec %r" % spec)
    if k is None:
        raise SystemExit("bad state spec %r" % spec)
    return k, sorted(subset), torn


def make_spec(k, subset=(), torn=None):
    s = "e=%d" % k
    if subset:
        s += ";w=" + ",".join(str(i) for i in sorted(subset))
    if torn:
        s += ";t=%d:%d" % torn
    return s


def state_writes(log, spec):
    """[(record index, bytes to apply or None for all)] in log order, and
    the number of leading records the state holds completely."""
    k, subset, torn = parse_spec(spec)
    if k > len(log.epochs):
        raise SystemExit("spec %s: the log has %d epochs" % (spec, len(log.epochs)))
    out = [(i, None) for e in log.epochs[:k] for i in e]
    epoch = log.epochs[k] if k < len(log.epochs) else []
    part = {j: None for j in subset}
    if torn:
        part[torn[0]] = torn[1] * SECTOR
    for j in sorted(part):
        if j >= len(epoch):
            raise SystemExit("spec %s: epoch %d has %d writes" % (spec, k, len(epoch)))
        out.append((epoch[j], part[j]))
    # complete prefix: up to the first write of epoch k that is not whole
    missing = [epoch[j] for j in range(len(epoch)) if j not in subset]
    complete = min(missing) if missing else (
        log.epochs[k + 1][0] if k + 1 < len(log.epochs) else len(log.records))
    return out, complete


def replay(base, log, spec, out):
    subprocess.run(["cp", "--sparse=always", base, out], check=True)
    writes, complete = state_writes(log, spec)
    with open(log.path, "rb") as lf, open(out, "r+b") as img:
        for idx, nbytes in writes:
            rec = log.records[idx]
            img.seek(rec[4])
            img.write(log.payload(lf, rec, nbytes))
    return complete


# ---- the workload and its model ----------------------------------------------

class Model:
    """Expected tree: path -> node; nodes shared by hard links."""

    def __init__(self):
        self.paths = {}

    def snapshot(self):
        out = {}
        for p, n in self.paths.items():
            if n["t"] == "f":
                out[p] = ("f", hashlib.sha256(n["data"]).hexdigest())
            elif n["t"] == "l":
                out[p] = ("l", n["target"])
            else:
                out[p] = ("d", "-")
        return out


def workload(mnt, rng, steps, sync_point, op_done=None):
    """A seeded mix of creates, overwrites, appends, truncations, renames,
    deletes, links and directories; sync_point() after every few steps
    (op_done(), if given, after each). Every step opens and closes its
    files (see the module comment)."""
    m = Model()
    seq = [0]

    def fresh(prefix):
        seq[0] += 1
        return "%s%d" % (prefix, seq[0])

    def content(n):
        if rng.random() < 0.4:   # compressible
            unit = rng.randbytes(rng.randint(1, 64))
            return (unit * (n // len(unit) + 1))[:n]
        return rng.randbytes(n)

    def size():
        return rng.choice([0, 1, 100, 511, 512, 4096, 5000, 65536, 131072, 131073,
                           rng.randint(1, 400000)])

    def dirs():
        return [""] + sorted(p for p, n in m.paths.items() if n["t"] == "d")

    def files():
        return sorted(p for p, n in m.paths.items() if n["t"] == "f")

    def join(d, name):
        return d + "/" + name if d else name

    def writefile(path, data, flags=os.O_WRONLY | os.O_CREAT | os.O_TRUNC, off=None):
        fd = os.open(os.path.join(mnt, path), flags, 0o644)
        try:
            if off is not None:
                os.lseek(fd, off, os.SEEK_SET)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)

    def op_create():
        p = join(rng.choice(dirs()), fresh("f"))
        data = content(size())
        writefile(p, data)
        m.paths[p] = {"t": "f", "data": data}

    def op_overwrite():
        fs = files()
        if not fs:
            return op_create()
        p = rng.choice(fs)
        n = m.paths[p]
        off = rng.randint(0, len(n["data"]))
        data = content(rng.choice([1, 512, 4096, 20000, 131072]))
        writefile(p, data, os.O_WRONLY, off)
        old = n["data"]
        n["data"] = old[:off] + data + old[off + len(data):]

    def op_append():
        fs = files()
        if not fs:
            return op_create()
        p = rng.choice(fs)
        data = content(rng.choice([1, 3000, 70000]))
        writefile(p, data, os.O_WRONLY | os.O_APPEND)
        m.paths[p]["data"] += data

    def op_truncate():
        fs = files()
        if not fs:
            return op_create()
        p = rng.choice(fs)
        n = m.paths[p]
        length = rng.randint(0, len(n["data"]) + 10000)
        os.truncate(os.path.join(mnt, p), length)
        n["data"] = n["data"][:length] + bytes(max(0, length - len(n["data"])))

    def op_rewrite():   # O_TRUNC and new contents
        fs = files()
        if not fs:
            return op_create()
        p = rng.choice(fs)
        data = content(size())
        writefile(p, data)
        m.paths[p]["data"] = data

    def op_rename():
        candidates = [p for p, n in m.paths.items() if n["t"] != "d"]
        if not candidates:
            return op_create()
        src = rng.choice(sorted(candidates))
        if rng.random() < 0.4 and len(candidates) > 1:
            dst = rng.choice(sorted(c for c in candidates if c != src))   # replace
        else:
            dst = join(rng.choice(dirs()), fresh("r"))
        os.rename(os.path.join(mnt, src), os.path.join(mnt, dst))
        # POSIX: renaming a name onto another hard link of the same file
        # does nothing (both names stay).
        if m.paths.get(dst) is not m.paths[src]:
            m.paths[dst] = m.paths.pop(src)

    def op_unlink():
        candidates = sorted(p for p, n in m.paths.items() if n["t"] != "d")
        if not candidates:
            return op_create()
        p = rng.choice(candidates)
        os.unlink(os.path.join(mnt, p))
        del m.paths[p]

    def op_mkdir():
        p = join(rng.choice(dirs()), fresh("d"))
        os.mkdir(os.path.join(mnt, p))
        m.paths[p] = {"t": "d"}

    def op_rmdir():
        empty = [d for d in dirs()[1:] if not any(q.startswith(d + "/") for q in m.paths)]
        if not empty:
            return op_mkdir()
        p = rng.choice(empty)
        os.rmdir(os.path.join(mnt, p))
        del m.paths[p]

    def op_symlink():
        p = join(rng.choice(dirs()), fresh("s"))
        target = "target-%d" % rng.randint(0, 10 ** 6)
        os.symlink(target, os.path.join(mnt, p))
        m.paths[p] = {"t": "l", "target": target}

    def op_link():
        fs = files()
        if not fs:
            return op_create()
        src = rng.choice(fs)
        dst = join(rng.choice(dirs()), fresh("h"))
        os.link(os.path.join(mnt, src), os.path.join(mnt, dst))
        m.paths[dst] = m.paths[src]

    ops = [(op_create, 5), (op_overwrite, 4), (op_append, 2), (op_truncate, 1),
           (op_rewrite, 2), (op_rename, 3), (op_unlink, 2), (op_mkdir, 1),
           (op_rmdir, 1), (op_symlink, 1), (op_link, 1)]
    funcs = [f for f, w in ops for _ in range(w)]
    done = 0
    while done < steps:
        for _ in range(rng.randint(1, 4)):
            rng.choice(funcs)()
            done += 1
            if op_done:
                op_done(m.snapshot())
        sync_point(m.snapshot())


def fsync_path(path, flags=os.O_NOFOLLOW):
    fd = os.open(path, os.O_RDONLY | flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_sync_point(mnt, paths):
    """A sync point: fsync each regular file among PATHS (relative to mnt,
    the ones changed since the last sync point), then the root directory.
    An fsync commits every name-space change but only its own file's
    writes (zil.md §8.2), so every changed file is fsync'ed once."""
    for p in sorted(paths):
        full = os.path.join(mnt, p)
        try:
            if stat.S_ISREG(os.lstat(full).st_mode):
                fsync_path(full)
        except FileNotFoundError:
            pass        # changed, then removed before the sync point
    fsync_root(mnt)


def fsync_root(mnt):
    fsync_path(mnt, os.O_DIRECTORY)


# ---- mounting and checking ---------------------------------------------------

class Daemon:
    def __init__(self, zfuse, img, mnt, opts, env=None, errlog=None):
        self.zfuse, self.mnt = zfuse, mnt
        self.err = open(errlog or os.devnull, "ab")
        self.p = subprocess.Popen([zfuse, "mount", "-f", "-o", opts, img, mnt],
                                  stdout=subprocess.DEVNULL, stderr=self.err,
                                  env=env)
        deadline = time.time() + 30
        while not os.path.ismount(mnt):
            if self.p.poll() is not None:
                self.err.close()
                raise RuntimeError("mount failed (status %d)" % self.p.returncode)
            if time.time() > deadline:
                self.stop(force=True)
                raise RuntimeError("mount timed out")
            time.sleep(0.01)

    def stop(self, force=False):
        """Unmount; the daemon's exit status (0: the last txg was written)."""
        if os.path.ismount(self.mnt):
            r = subprocess.run([self.zfuse, "unmount", self.mnt], capture_output=True)
            if r.returncode != 0 or force:
                subprocess.run(["umount", "-l", self.mnt], capture_output=True)
        try:
            rc = self.p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
            rc = rc if rc else -9
        self.err.close()
        return rc


def walk(walker, img):
    """The tree zfuse-walk reads from img, or raise with its errors."""
    r = subprocess.run([walker, POOL, img], capture_output=True, text=True, timeout=120)
    if r.returncode != 0 or r.stderr.strip():
        raise RuntimeError("read-only walk failed (status %d): %s"
                           % (r.returncode, r.stderr.strip()[:500]))
    tree = {}
    for line in r.stdout.splitlines():
        f = line.split("\t")
        if len(f) < 3 or f[1] == "@xattr":
            continue
        tree[f[0]] = (f[1], f[-1])
    return tree


def describe_difference(tree, expected):
    out = []
    for p in sorted(set(tree) | set(expected)):
        a, b = tree.get(p), expected.get(p)
        if a != b:
            out.append("%s: found %s, expected %s" % (p, a, b))
    return "; ".join(out[:6]) + (" ..." if len(out) > 6 else "")


def zdb_check(statedir):
    r = subprocess.run(["zdb", "-e", "-p", statedir, "-bcc", POOL], capture_output=True,
                       text=True, timeout=600)
    out = r.stdout + r.stderr
    if r.returncode != 0 or "No leaks" not in out or "error" in out.lower():
        lines = [x for x in out.splitlines() if x.strip() and not x.startswith("loading")]
        raise RuntimeError("zdb -bcc (status %d): %s" % (r.returncode, " | ".join(lines[-12:])))


class Checker:
    def __init__(self, work, zfuse, walker, log, rec):
        self.work, self.zfuse, self.walker, self.log = work, zfuse, walker, log
        self.base = os.path.join(work, "base.img")
        self.models = rec["models"]             # models[i+1]: tree at sync point i
        self.zil = rec.get("zil", False)
        # touched[i]: paths some operation between models[i] and [i+1] changed
        self.touched = [set(t) for t in rec.get("touched", [])]
        self.sync_sizes = rec["sync_log_sizes"]
        self.sync_records = [log.records_before(s) for s in self.sync_sizes]
        self.local = threading.local()
        self.slots = iter(range(10 ** 6))
        self.slot_lock = threading.Lock()

    def slot(self):
        if not hasattr(self.local, "dir"):
            with self.slot_lock:
                n = next(self.slots)
            d = os.path.join(self.work, "state%d" % n)
            os.makedirs(os.path.join(d, "img"), exist_ok=True)
            os.makedirs(os.path.join(d, "mnt"), exist_ok=True)
            self.local.dir = d
        return self.local.dir

    def synced_point(self, complete):
        """The last sync point whose records a state holding the first
        `complete` records whole has (index into models; 0: none)."""
        i = 0   # models[0]: before the workload
        for j, n in enumerate(self.sync_records):
            if n <= complete:
                i = j + 1
        return i

    def candidates(self, complete):
        """Trees a state holding the first `complete` records whole may show."""
        i = self.synced_point(complete)
        return self.models[i:i + 2]

    def check(self, spec, run_zdb):
        d = self.slot()
        img = os.path.join(d, "img", "pcpool.img")
        complete = replay(self.base, self.log, spec, img)
        self.check_acknowledged(spec, complete)
        if self.zil:
            return self.check_zil(spec, d, img, complete, run_zdb)
        cands = self.candidates(complete)
        tree = walk(self.walker, img)
        if tree not in cands:
            raise RuntimeError("read-only import shows a tree no sync point had: "
                               + describe_difference(tree, cands[-1] if len(cands) < 2 or
                                                     len(tree) != len(cands[0]) else cands[0]))
        dm = Daemon(self.zfuse, img, os.path.join(d, "mnt"), "rw",
                    errlog=os.path.join(d, "daemon.log"))
        if not any(line.split()[1] == os.path.join(d, "mnt") and line.split()[3].startswith("rw")
                   for line in open("/proc/mounts")):
            dm.stop(force=True)
            raise RuntimeError("the read-write mount is not read-write")
        rc = dm.stop()
        if rc != 0:
            raise RuntimeError("read-write mount: the daemon exited with status %d" % rc)
        after = walk(self.walker, img)
        if after != tree:
            raise RuntimeError("the tree changed across a read-write import: "
                               + describe_difference(after, tree))
        if run_zdb:
            zdb_check(os.path.dirname(img))

    def check_acknowledged(self, spec, complete):
        """A write on disk that was issued after a sync point's fsync had
        returned means the power went after that return: everything the
        sync point wrote must be on disk then (an fsync may return only
        after a flush that covers its writes)."""
        writes, _ = state_writes(self.log, spec)
        last_end = max((self.log.records[i][7] for i, _ in writes), default=0)
        for j, size in enumerate(self.sync_sizes):
            if size < last_end and self.sync_records[j] > complete:
                raise RuntimeError("sync point %d's fsync had returned before a write this state "
                                   "holds was issued, but not all of its own writes are on disk "
                                   "(record %d is not): it returned before they were flushed"
                                   % (j, complete))

    def check_zil(self, spec, d, img, complete, run_zdb):
        """With the intent log: the read-only import shows a synced txg
        (some sync point's tree, none past the state); the read-write mount
        replays the log, after which every change committed by the last
        sync point the state holds whole is there. A commit partly on disk
        replays a prefix of its records: then every path that no operation
        after that sync point touched must be exactly as it was there."""
        i = self.synced_point(complete)
        tree = walk(self.walker, img)
        if tree not in self.models[:i + 2]:
            raise RuntimeError("read-only import shows a tree no sync point up to %d had: %s"
                               % (i, describe_difference(tree, self.models[i])))
        dm = Daemon(self.zfuse, img, os.path.join(d, "mnt"), "rw",
                    errlog=os.path.join(d, "daemon.log"))
        rc = dm.stop()
        if rc != 0:
            raise RuntimeError("read-write mount (replay): the daemon exited with status %d" % rc)
        after = walk(self.walker, img)
        if after not in self.models[i:i + 2]:
            k, subset, torn = parse_spec(spec)
            # Between two sync points' ends lie the commits of the later
            # one's fsyncs (one per changed file): whole, yet a prefix.
            prefix = i < len(self.sync_records) and complete > (self.sync_records[i - 1] if i else 0)
            if not subset and not torn and not prefix:
                raise RuntimeError("after replay at a flush boundary the tree is not sync "
                                   "point %d's (or the next): %s"
                                   % (i, describe_difference(after, self.models[i])))
            touched = self.touched[i] if i < len(self.touched) else set()
            m = self.models[i]
            lost = {p: (after.get(p), m.get(p)) for p in set(after) | set(m)
                    if p not in touched and after.get(p) != m.get(p)}
            if lost:
                raise RuntimeError("after replay, paths untouched since sync point %d differ: %s"
                                   % (i, "; ".join("%s: found %s, expected %s" % (p, a, b)
                                                   for p, (a, b) in sorted(lost.items())[:6])))
        if run_zdb:
            zdb_check(os.path.dirname(img))


# ---- recording ---------------------------------------------------------------

def record(work, zfuse, seed, steps, zil=False):
    base = os.path.join(work, "base.img")
    # The log keeps clear of the slop space (zil_log.c): on 256 MiB every
    # commit would be a txg sync.
    r = subprocess.run([zfuse, "create", "-s", "1G" if zil else "256M", POOL, base],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("zfuse create failed: " + r.stderr)
    recdir = os.path.join(work, "rec")
    os.makedirs(os.path.join(recdir, "mnt"), exist_ok=True)
    img = os.path.join(recdir, "pcpool.img")
    subprocess.run(["cp", "--sparse=always", base, img], check=True)
    log = os.path.join(work, "write.log")
    # Without --zil the sync points are txgs (the read-only walk shows
    # synced txgs, not intent logs): no log. With it they are commits of
    # the intent log (fsyncs of every changed file and the root), which the
    # read-write mount replays.
    env = dict(os.environ, ZFUSE_WRITE_LOG=log, ZFUSE_TXG_TIMEOUT="1000000",
               ZFUSE_ZIL="1" if zil else "0")
    mnt = os.path.join(recdir, "mnt")
    dm = Daemon(zfuse, img, mnt, "rw", env=env, errlog=os.path.join(work, "record-daemon.log"))
    models, sizes, touched, cur = [Model().snapshot()], [], [], set()

    def changed(a, b):
        return {p for p in set(a) | set(b) if a.get(p) != b.get(p)}

    def op_done(snapshot):
        cur.update(changed(models[-1], snapshot))

    def sync_point(snapshot):
        now_touched = sorted(cur | changed(models[-1], snapshot))
        if zil:
            fsync_sync_point(mnt, now_touched)
        else:
            fsync_root(mnt)     # a txg sync: everything at once
        sizes.append(os.path.getsize(log))
        touched.append(now_touched)
        cur.clear()
        models.append(snapshot)

    try:
        workload(mnt, random.Random(seed), steps, sync_point, op_done)
    finally:
        rc = dm.stop()
    if rc != 0:
        raise SystemExit("recording: the daemon exited with status %d" % rc)
    rec = {"seed": seed, "models": models, "sync_log_sizes": sizes, "touched": touched,
           "zil": zil}
    with open(os.path.join(work, "record.json"), "w") as f:
        json.dump(rec, f)
    return rec


def load_record(work):
    with open(os.path.join(work, "record.json")) as f:
        rec = json.load(f)
    rec["models"] = [{p: tuple(v) for p, v in m.items()} for m in rec["models"]]
    return rec


# ---- choosing states ---------------------------------------------------------

def choose_states(log, n, rng):
    """Flush boundaries first, then random in-epoch states (subsets, torn
    writes) until n distinct ones. Boundaries take at most two thirds of
    n (the first and the last always, the others drawn), so that a log
    of many commits leaves room for the states between them."""
    ks = list(range(len(log.epochs) + 1))
    cap = max(2, 2 * n // 3)
    if len(ks) > cap:
        ks = sorted({ks[0], ks[-1]} | set(rng.sample(ks[1:-1], cap - 2)))
    specs = [make_spec(k) for k in ks]
    boundary = set(specs)
    seen = set(specs)
    writable = [k for k, e in enumerate(log.epochs) if e]
    weights = [len(log.epochs[k]) ** 0.5 for k in writable]
    attempts = 0
    while len(specs) < n and writable and attempts < 50 * n:
        attempts += 1
        k = rng.choices(writable, weights)[0]
        nw = len(log.epochs[k])
        p = rng.choice([0.1, 0.5, 0.9, rng.random()])
        subset = [j for j in range(nw) if rng.random() < p]
        torn = None
        if rng.random() < 0.4:
            out = [j for j in range(nw) if j not in subset]
            if out:
                j = rng.choice(out)
                sectors = log.records[log.epochs[k][j]][5] // SECTOR
                if sectors > 1:
                    torn = (j, rng.randint(1, sectors - 1))
        if len(subset) == nw and not torn:
            continue   # that is the next boundary
        s = make_spec(k, subset, torn)
        if s not in seen:
            seen.add(s)
            specs.append(s)
    return specs, boundary


# ---- main ----------------------------------------------------------------------

def recipe(work, log, spec):
    k, subset, torn = parse_spec(spec)
    e = log.epochs[k] if k < len(log.epochs) else []
    parts = ["base image %s/base.img" % work,
             "every write record of epochs 0..%d of %s/write.log (records 0..%d)"
             % (k - 1, work, (log.epochs[k][0] - 1) if k < len(log.epochs) and e else
                len(log.records) - 1)]
    if subset:
        parts.append("of epoch %d the write records %s" % (k, ",".join(str(e[j]) for j in subset)))
    if torn:
        parts.append("the first %d bytes of write record %d" % (torn[1] * SECTOR, e[torn[0]]))
    return "; ".join(parts)


def main_run(a):
    a.zfuse, a.walk = os.path.abspath(a.zfuse), os.path.abspath(a.walk)
    if not a.workdir:
        work = tempfile.mkdtemp(prefix="zfuse-powercut.")
    else:
        work = a.workdir
        os.makedirs(work, exist_ok=True)
    seed = a.seed if a.seed is not None else random.randrange(1 << 31)
    nstates = max(a.states, 10000) if a.full else a.states
    print("seed %d (--seed %d replays the workload and the choice of states); work in %s"
          % (seed, seed, work), flush=True)
    t0 = time.time()
    rec = record(work, a.zfuse, seed, a.steps, a.zil)
    log = WriteLog(os.path.join(work, "write.log"))
    nwrites = sum(len(e) for e in log.epochs)
    ubs = sum(1 for r in log.records if r[0] == WLOG_WRITE and r[1] & WLOG_F_UBERBLOCK)
    print(("intent log: sync points are log commits, states replayed at the read-write "
           "mount\n" if a.zil else "") +
          "recorded %d sync points, %d writes (%d uberblock) in %d epochs, %.1f MiB log, %.1fs"
          % (len(rec["sync_log_sizes"]), nwrites, ubs, len(log.epochs),
             os.path.getsize(log.path) / 2 ** 20, time.time() - t0), flush=True)
    rng = random.Random(seed)
    specs, boundary = choose_states(log, nstates, rng)
    # zdb on every flush boundary chosen and on a sample of the rest
    others = [s for s in specs if s not in boundary]
    zdb_set = set(boundary) if a.zdb_boundaries else set()
    zdb_set |= set(rng.sample(others, min(a.zdb, len(others))))
    checker = Checker(work, a.zfuse, a.walk, log, rec)
    failures, done, zdbs = [], 0, 0
    lock = threading.Lock()
    t1 = time.time()

    def one(spec):
        try:
            checker.check(spec, spec in zdb_set)
            return spec, None
        except Exception as e:   # noqa: BLE001 (every failure is reported)
            return spec, str(e)

    with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
        for spec, err in ex.map(one, specs):
            with lock:
                done += 1
                zdbs += spec in zdb_set
                if err:
                    failures.append((spec, err))
                    print("FAIL state %s: %s" % (spec, err), flush=True)
                if done % 100 == 0:
                    print("... %d states, %d failures, %.0fs" % (done, len(failures),
                                                                 time.time() - t1), flush=True)
    el = time.time() - t1
    print("%d states checked (%d at flush boundaries, %d in-epoch/torn; zdb -bcc on %d) "
          "in %.0fs, %d failures" % (done, len(boundary), done - len(boundary), zdbs, el,
                                    len(failures)))
    me = os.path.abspath(__file__)
    for spec, err in failures[:10]:
        print("\nstate %s: %s\n  recipe: %s\n  reproduce: %s replay %s '%s' /tmp/state/pcpool.img"
              "\n  check:     %s check %s '%s' %s %s"
              % (spec, err, recipe(work, log, spec), me, work, spec, me, work, spec,
                 a.zfuse, a.walk))
    if failures:
        print("\nwork directory kept: %s" % work)
        return 1
    if not a.keep and not a.workdir:
        shutil.rmtree(work, ignore_errors=True)
    else:
        for d in os.listdir(work):
            if d.startswith("state"):
                shutil.rmtree(os.path.join(work, d), ignore_errors=True)
    return 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "replay":
        if len(sys.argv) != 5:
            raise SystemExit("usage: powercut.py replay WORKDIR SPEC OUT.img")
        work, spec, out = sys.argv[2:]
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        replay(os.path.join(work, "base.img"), WriteLog(os.path.join(work, "write.log")),
               spec, out)
        print("state %s written to %s (zfuse-walk %s %s; zdb -e -p %s -bcc %s)"
              % (spec, out, POOL, out, os.path.dirname(os.path.abspath(out)), POOL))
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "check":
        if len(sys.argv) != 6:
            raise SystemExit("usage: powercut.py check WORKDIR SPEC ZFUSE ZFUSE_WALK")
        work, spec, zfuse, walker = sys.argv[2:]
        log = WriteLog(os.path.join(work, "write.log"))
        c = Checker(work, zfuse, walker, log, load_record(work))
        c.check(spec, True)
        print("state %s: ok (read-only walk, read-write mount, zdb -bcc)" % spec)
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("zfuse")
    ap.add_argument("walk", help="build/tests/zfuse-walk")
    ap.add_argument("--states", type=int, default=300)
    ap.add_argument("--full", action="store_true", help="at least 10000 states")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--steps", type=int, default=40, help="workload steps")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--zdb", type=int, default=10, help="in-epoch states also checked by zdb")
    ap.add_argument("--no-zdb-boundaries", dest="zdb_boundaries", action="store_false",
                    help="do not run zdb on every flush-boundary state")
    ap.add_argument("--zil", action="store_true",
                    help="with the intent log: sync points are log commits, replayed")
    ap.add_argument("--workdir")
    ap.add_argument("--keep", action="store_true")
    return main_run(ap.parse_args())


if __name__ == "__main__":
    sys.exit(main())
