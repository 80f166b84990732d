#!/usr/bin/env python3
# SPDX-License-Identifier: CDDL-1.0
"""zil_writer.py — a workload of fsyncs of every operation type, with a model.

  run MNT JOURNAL SEED     change the tree under MNT, one operation then one
                           fsync at a time, until an error (the daemon was
                           killed) or 100000 steps; the model of the tree is
                           read from MNT at the start
  check MANIFEST JOURNAL [DIR]
                           compare a manifest.sh listing of the tree (of its
                           subtree DIR, for a writer that ran in MNT/DIR
                           beside others) with the last fsynced state of
                           the journal

Journal: for each step a line "P <json>" (the model after the operation and
the paths it touches) before the operation and "D" after its fsync returned.
Everything in the last state followed by "D" must be in the tree; only the
paths of an operation in flight (a "P" without "D") may be either way.
"""
import ctypes
import errno
import hashlib
import json
import os
import random
import stat
import sys

libc = ctypes.CDLL(None, use_errno=True)
FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE = 1, 2
RENAME_EXCHANGE = 2


def fallocate_punch(fd, off, length):
    libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
    if libc.fallocate(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, off, length) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def rename_exchange(a, b):
    libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                               ctypes.c_uint]
    if libc.renameat2(-100, a.encode(), -100, b.encode(), RENAME_EXCHANGE) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


class Model:
    """paths -> node ids; nodes: type f/d/l/p, mode, uid, gid, data or target, xattrs."""

    def __init__(self):
        self.paths = {}
        self.nodes = {}
        self.next = 1

    def load(self, root):
        ids = {}
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if not (dirpath == root and d == ".zfs")]
            for name in dirnames + filenames:
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, root)
                st = os.lstat(full)
                if st.st_ino in ids:
                    self.paths[rel] = ids[st.st_ino]
                    continue
                n = {"mode": stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid, "x": {}}
                if stat.S_ISDIR(st.st_mode):
                    n["t"] = "d"
                elif stat.S_ISLNK(st.st_mode):
                    n["t"], n["target"] = "l", os.readlink(full)
                elif stat.S_ISFIFO(st.st_mode):
                    n["t"] = "p"
                else:
                    n["t"] = "f"
                    with open(full, "rb") as f:
                        n["data"] = f.read()
                if n["t"] != "l":
                    for x in os.listxattr(full):
                        if x.startswith("user."):
                            n["x"][x] = os.getxattr(full, x).hex()
                ids[st.st_ino] = self.next
                self.nodes[self.next] = n
                self.paths[rel] = self.next
                self.next += 1

    def new(self, **kw):
        kw.setdefault("x", {})
        self.nodes[self.next] = kw
        self.next += 1
        return self.next - 1

    def snapshot(self):
        """{path: [type, mode, uid, gid, size, content, nlink]} plus xattr keys."""
        links = {}
        for p, i in self.paths.items():
            links[i] = links.get(i, 0) + 1
        out = {}
        for p, i in self.paths.items():
            n = self.nodes[i]
            t = n["t"]
            if t == "f":
                c, size = hashlib.sha256(n["data"]).hexdigest(), len(n["data"])
            elif t == "l":
                c, size = n["target"], len(n["target"].encode())
            else:
                c, size = "-", None
            out[p] = [t, "%o" % n["mode"], n["uid"], n["gid"], size, c,
                      links[i] if t == "f" else None]
            for k, v in n["x"].items():
                out[p + "@" + k] = ["x", v]
        return out

    def children(self, d):
        pre = d + "/"
        return [p for p in self.paths if p.startswith(pre) and "/" not in p[len(pre):]]

    def subtree(self, d):
        pre = d + "/"
        return [p for p in self.paths if p.startswith(pre)]


def run(mnt, journal, seed):
    rnd = random.Random(seed)
    m = Model()
    m.load(mnt)
    j = open(journal, "a")
    tag = "%x" % seed
    count = [0]

    def name(kind):
        count[0] += 1
        return "%s%s-%d" % (kind, tag, count[0])

    def full(p):
        return os.path.join(mnt, p)

    def dirs():
        return [""] + [p for p, i in m.paths.items() if m.nodes[i]["t"] == "d"]

    def files():
        return [p for p, i in m.paths.items() if m.nodes[i]["t"] == "f"]

    def join(d, n):
        return n if d == "" else d + "/" + n

    def fsync_path(p):
        fd = os.open(full(p) if p else mnt, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    for step in range(100000):
        nfiles = len(m.paths)
        ops = ["create", "bigwrite", "overwrite", "append", "truncate", "mkdir", "symlink",
               "link", "rename", "chmod", "chown", "punch", "xattr", "fifo", "exchange",
               "unlink", "unlink", "rmdir", "renamedir"]
        if nfiles > 60:
            ops = ["unlink", "unlink", "rmdir", "overwrite", "rename", "chmod"]
        op = rnd.choice(ops)
        fl, ds = files(), dirs()
        touched = []
        action = None
        if op in ("create", "bigwrite", "fifo", "mkdir", "symlink"):
            d = rnd.choice(ds)
            p = join(d, name(op[0]))
            touched = [p]
            if op == "create":
                data = rnd.randbytes(rnd.randint(0, 9000))
                m.paths[p] = m.new(t="f", mode=0o644, uid=0, gid=0, data=data)

                def action(p=p, data=data):
                    fd = os.open(full(p), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                    os.write(fd, data)
                    os.fsync(fd)
                    os.close(fd)
            elif op == "bigwrite":
                data = rnd.randbytes(rnd.choice([65536, 131072, 300000, 1 << 20]))
                m.paths[p] = m.new(t="f", mode=0o600, uid=0, gid=0, data=data)

                def action(p=p, data=data):
                    fd = os.open(full(p), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
                    os.write(fd, data)
                    os.fsync(fd)
                    os.close(fd)
            elif op == "fifo":
                m.paths[p] = m.new(t="p", mode=0o640, uid=0, gid=0)

                def action(p=p):
                    os.mkfifo(full(p), 0o640)
                    fsync_path(os.path.dirname(p))
            elif op == "mkdir":
                m.paths[p] = m.new(t="d", mode=0o755, uid=0, gid=0)

                def action(p=p):
                    os.mkdir(full(p), 0o755)
                    fsync_path(p)
            else:
                target = rnd.choice(["../x", "nowhere", "a/b/c" * rnd.randint(1, 40)])
                m.paths[p] = m.new(t="l", mode=0o777, uid=0, gid=0, target=target)

                def action(p=p, target=target):
                    os.symlink(target, full(p))
                    fsync_path(os.path.dirname(p))
        elif op in ("overwrite", "append", "truncate", "punch", "chmod", "chown", "xattr") and fl:
            p = rnd.choice(fl)
            n = m.nodes[m.paths[p]]
            touched = [q for q, i in m.paths.items() if i == m.paths[p]]
            old = n["data"]
            if op == "overwrite":
                off = rnd.randint(0, len(old) + 4096)
                data = rnd.randbytes(rnd.choice([1, 100, 4096, 5000, 40000]))
                new = old[:off].ljust(off, b"\0") + data + old[off + len(data):]
                n["data"] = new

                def action(p=p, off=off, data=data):
                    fd = os.open(full(p), os.O_WRONLY)
                    os.pwrite(fd, data, off)
                    os.fsync(fd)
                    os.close(fd)
            elif op == "append":
                data = rnd.randbytes(rnd.randint(1, 20000))
                n["data"] = old + data

                def action(p=p, data=data):
                    fd = os.open(full(p), os.O_WRONLY | os.O_APPEND)
                    os.write(fd, data)
                    os.fdatasync(fd)
                    os.close(fd)
            elif op == "truncate":
                size = rnd.randint(0, len(old) + 70000)
                n["data"] = old[:size].ljust(size, b"\0")

                def action(p=p, size=size):
                    fd = os.open(full(p), os.O_WRONLY)
                    os.ftruncate(fd, size)
                    os.fsync(fd)
                    os.close(fd)
            elif op == "punch":
                if not old:
                    continue
                off = rnd.randint(0, len(old) - 1)
                ln = rnd.randint(1, 200000)
                end = min(len(old), off + ln)
                n["data"] = old[:off] + b"\0" * (end - off) + old[end:]

                def action(p=p, off=off, ln=ln):
                    fd = os.open(full(p), os.O_WRONLY)
                    fallocate_punch(fd, off, ln)
                    os.fsync(fd)
                    os.close(fd)
            elif op == "chmod":
                mode = rnd.choice([0o600, 0o644, 0o755, 0o640, 0o4755])
                n["mode"] = mode

                def action(p=p, mode=mode):
                    os.chmod(full(p), mode)
                    fsync_path(p)
            elif op == "chown":
                uid, gid = rnd.randint(0, 5000), rnd.randint(0, 5000)
                n["uid"], n["gid"] = uid, gid
                n["mode"] &= ~0o6000 if n["mode"] & 0o111 else ~0

                def action(p=p, uid=uid, gid=gid):
                    os.chown(full(p), uid, gid)
                    fsync_path(p)
            else:
                k = "user." + rnd.choice(["a", "b", "c"])
                if k in n["x"] and rnd.random() < 0.4:
                    del n["x"][k]

                    def action(p=p, k=k):
                        os.removexattr(full(p), k)
                        fsync_path(p)
                else:
                    v = rnd.randbytes(rnd.randint(1, 200))
                    n["x"][k] = v.hex()

                    def action(p=p, k=k, v=v):
                        os.setxattr(full(p), k, v)
                        fsync_path(p)
        elif op == "link" and fl:
            src = rnd.choice(fl)
            p = join(rnd.choice(ds), name("h"))
            m.paths[p] = m.paths[src]
            touched = [q for q, i in m.paths.items() if i == m.paths[src]]

            def action(src=src, p=p):
                os.link(full(src), full(p))
                fsync_path(os.path.dirname(p))
        elif op == "rename" and fl:
            src = rnd.choice(fl)
            if rnd.random() < 0.3 and len(fl) > 1:
                dst = rnd.choice([f for f in fl if f != src])
            else:
                dst = join(rnd.choice(ds), name("r"))
            if m.paths.get(dst) == m.paths[src]:
                continue
            touched = [src, dst] + [q for q, i in m.paths.items()
                                    if i in (m.paths[src], m.paths.get(dst))]
            m.paths[dst] = m.paths.pop(src)

            def action(src=src, dst=dst):
                os.rename(full(src), full(dst))
                fsync_path(os.path.dirname(dst))
        elif op == "exchange" and len(fl) > 1:
            a, b = rnd.sample(fl, 2)
            if m.paths[a] == m.paths[b]:
                continue
            touched = [q for q, i in m.paths.items() if i in (m.paths[a], m.paths[b])]
            m.paths[a], m.paths[b] = m.paths[b], m.paths[a]

            def action(a=a, b=b):
                rename_exchange(full(a), full(b))
                fsync_path(os.path.dirname(a))
        elif op == "unlink":
            cand = [p for p, i in m.paths.items() if m.nodes[i]["t"] != "d"]
            if not cand:
                continue
            p = rnd.choice(cand)
            touched = [q for q, i in m.paths.items() if i == m.paths[p]]
            del m.paths[p]

            def action(p=p):
                os.unlink(full(p))
                fsync_path(os.path.dirname(p))
        elif op == "rmdir":
            cand = [p for p in ds if p and not m.children(p)]
            if not cand:
                continue
            p = rnd.choice(cand)
            touched = [p]
            del m.paths[p]

            def action(p=p):
                os.rmdir(full(p))
                fsync_path(os.path.dirname(p))
        elif op == "renamedir":
            cand = [p for p in ds if p]
            if not cand:
                continue
            src = rnd.choice(cand)
            parent = rnd.choice([d for d in ds if d != src and not d.startswith(src + "/")])
            dst = join(parent, name("D"))
            moved = [src] + m.subtree(src)
            touched = moved + [dst + q[len(src):] for q in moved]
            for q in moved:
                m.paths[dst + q[len(src):]] = m.paths.pop(q)

            def action(src=src, dst=dst):
                os.rename(full(src), full(dst))
                fsync_path(dst)
        if action is None:
            continue
        j.write("P " + json.dumps({"step": step, "op": op, "touched": touched,
                                   "state": m.snapshot()}) + "\n")
        j.flush()
        try:
            action()
        except OSError as e:
            if e.errno in (errno.ENOTCONN, errno.EIO, errno.ECONNABORTED, errno.ENOENT):
                return 0    # the daemon is gone
            raise
        j.write("D\n")
        j.flush()
    return 0


def parse_manifest(path):
    out = {}
    with open(path) as f:
        for line in f:
            c = line.rstrip("\n").split("\t")
            if len(c) == 4 and c[1] == "@xattr":
                if c[2].startswith("user."):
                    out[c[0] + "@" + c[2]] = ["x", c[3][2:] if c[3].startswith("0x") else c[3]]
                continue
            if len(c) < 11:
                continue
            p, t, mode, uid, gid, size, _mt, nlink, _ino, _blocks, content = c[:11]
            if t == "f":
                out[p] = [t, mode, int(uid), int(gid), int(size), content, int(nlink)]
            elif t == "l":
                out[p] = [t, mode, int(uid), int(gid), int(size), content, None]
            else:
                out[p] = [t, mode, int(uid), int(gid), None, "-", None]
    return out


def check(manifest, journal, sub=None):
    done = pending = None
    last_p = None
    with open(journal) as f:
        for line in f:
            if line.startswith("P "):
                last_p = json.loads(line[2:])
            elif line.startswith("D") and last_p is not None:
                done, last_p = last_p, None
    pending = last_p
    if done is None:
        print("no fsync returned in the journal")
        return 1
    tree = parse_manifest(manifest)
    if sub:
        pre = sub.rstrip("/") + "/"
        tree = {k[len(pre):]: v for k, v in tree.items() if k.startswith(pre)}
    want = done["state"]
    loose = set(pending["touched"]) if pending else set()
    loose |= {k for k in list(want) + list(tree) if "@" in k and k.split("@")[0] in loose}
    bad = []
    for k in sorted(set(want) | set(tree)):
        if k in loose:
            continue    # the operation in flight may be there, or partly
        w, t = want.get(k), tree.get(k)
        if w != t:
            bad.append("%s: fsynced %s, found %s" % (k, w, t))
    if bad:
        print("%d differences from the state of fsync step %d (%s):" % (len(bad), done["step"],
                                                                        done["op"]))
        for b in bad[:15]:
            print("  " + b)
        return 1
    print("every change up to step %d (%s) present, %d entries%s" %
          (done["step"], done["op"], len(want),
           ", step %d (%s) in flight" % (pending["step"], pending["op"]) if pending else ""))
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "run":
        sys.exit(run(sys.argv[2], sys.argv[3], int(sys.argv[4])))
    sys.exit(check(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None))
