#!/usr/bin/env python3
# SPDX-License-Identifier: CDDL-1.0
"""crash_writer.py — the workload and the judge of crash.sh.

  crash_writer.py write MOUNT JOURNAL SEED   run until the daemon dies
  crash_writer.py check MOUNT JOURNAL        judge the pool after a kill

The writer makes new files of random sizes (some never fsynced), overwrites
files in place, renames files onto new names and deletes them. The journal
lives outside the pool and says what must hold after a kill:
  begin NAME      NAME is about to change: its content is unknown until
                  the next record about it
  put NAME SHA    file and directory fsync returned: NAME has this content
  del NAME        unlink and directory fsync returned: NAME is gone
Errors other than the dead connection after the kill are printed and the
writer exits 1, so a writer that died early cannot pass as a killed one.
"""
import errno, hashlib, os, random, sys, traceback


def write(root, journal, seed):
    rnd = random.Random(seed)
    j = open(journal, "a")
    d = os.path.join(root, "w")

    def rec(*words):
        j.write(" ".join(words) + "\n")
        j.flush()
        os.fsync(j.fileno())

    def fsync_dir():
        fd = os.open(d, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)

    def put(name, data, mode):
        with open(os.path.join(d, name), mode) as f:
            f.write(data)
            f.truncate()
            f.flush()
            os.fsync(f.fileno())
        fsync_dir()
        rec("put", name, hashlib.sha256(data).hexdigest())

    os.makedirs(d, exist_ok=True)
    last = current(journal)
    live = sorted(name for name, w in last.items() if w[0] == "put")
    # what an earlier round left in an unknown state goes first, so that
    # the pool (and the journal's promises) stay bounded over many rounds
    for name in sorted(name for name, w in last.items() if w[0] == "begin"):
        if os.path.lexists(os.path.join(d, name)):
            os.unlink(os.path.join(d, name))
            fsync_dir()
        rec("del", name)
    n = 0
    while True:
        n += 1
        r = rnd.random()
        data = os.urandom(rnd.choice([100, 5000, 70000, 300000, 2000000]))
        if len(live) > 40:
            r = 0.9   # delete: keep the live set (and the pool's use) bounded
        if r < 0.5 or len(live) < 3:
            name = "%d-%d" % (seed, n)
            rec("begin", name)
            if rnd.random() < 0.7:
                put(name, data, "wb")
                live.append(name)
            else:
                with open(os.path.join(d, name), "wb") as f:  # never fsynced
                    f.write(data)
        elif r < 0.7:
            name = rnd.choice(live)
            rec("begin", name)
            put(name, data, "r+b")
        elif r < 0.85:
            a, b = rnd.choice(live), "%d-%d" % (seed, n)
            rec("begin", a)
            rec("begin", b)
            os.rename(os.path.join(d, a), os.path.join(d, b))
            fsync_dir()
            with open(os.path.join(d, b), "rb") as f:
                rec("put", b, hashlib.sha256(f.read()).hexdigest())
            rec("del", a)
            live.remove(a)
            live.append(b)
        else:
            name = rnd.choice(live)
            rec("begin", name)
            os.unlink(os.path.join(d, name))
            fsync_dir()
            rec("del", name)
            live.remove(name)


def current(journal):
    last = {}
    for line in open(journal):
        w = line.split()
        if w:
            last[w[1]] = w
    return last


def check(root, journal):
    d = os.path.join(root, "w")
    bad = kept = gone = 0
    for name, w in sorted(current(journal).items()):
        p = os.path.join(d, name)
        if w[0] == "put":
            kept += 1
            try:
                with open(p, "rb") as f:
                    got = hashlib.sha256(f.read()).hexdigest()
            except OSError as e:
                got = str(e)
            if got != w[2]:
                print("lost after fsync: %s (%s)" % (name, got))
                bad += 1
        elif w[0] == "del":
            gone += 1
            if os.path.lexists(p):
                print("deleted with fsync, but back: %s" % name)
                bad += 1
    print("%d fsynced files intact, %d fsynced deletes hold" % (kept - bad, gone))
    return 1 if bad else 0


def mount_is_dead(root):
    try:
        os.statvfs(root)
    except OSError as e:
        return e.errno in (errno.ENOTCONN, errno.ECONNABORTED)
    return False


def main():
    mode, root, journal = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "check":
        sys.exit(check(root, journal))
    try:
        write(root, journal, int(sys.argv[4]))
    except OSError as e:
        # the kill: the connection is gone (ENOTCONN) and the mount with it
        if e.errno in (errno.ENOTCONN, errno.ECONNABORTED):
            sys.exit(0)
        # A write the kernel cached but could not hand over before the kill
        # (the aborted connection fails its writeback) surfaces as EIO at the
        # next close or fsync. It is the kill's only if the mount is gone by
        # now; EIO from a live daemon is a real failure.
        if e.errno == errno.EIO and mount_is_dead(root):
            sys.exit(0)
        traceback.print_exc()
        sys.exit(1)
    except Exception:
        traceback.print_exc()
        sys.exit(1)


if __name__ == "__main__":
    main()
