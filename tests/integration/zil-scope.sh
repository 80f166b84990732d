#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# zil-scope.sh ZFUSE — what an fsync commits (zil.md §8.2, OpenZFS's
# zil_commit(zilog, foid)): every name-space change of the dataset, the
# fsync'ed file's own writes, the writes of a file a rename moved, and not
# other files' data writes, which wait for their own fsync or their txg.
# Timed txg syncs are off (ZFUSE_TXG_TIMEOUT), the daemon is killed after
# the last fsync; then the crashed log's records are listed (zfuse inspect
# zil), zdb -bcc checks the image, and the next read-write mount replays
# the log: every file exists, the fsync'ed ones and the renamed one with
# their data, the others empty, as OpenZFS's replay shows them.
set -uo pipefail
ZFUSE=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require zdb root fuse
scratch_mount zilscope
mkdir -p "$mnt"
fail=0
mkdir -p "$work/pool"
img=$work/pool/zs.img
"$ZFUSE" create -s 512M zs "$img" > /dev/null || die "create"
head -c 20000 /dev/urandom > "$work/a"
head -c 5000 /dev/urandom > "$work/b"
head -c 7000 /dev/urandom > "$work/c"
head -c 1048576 /dev/urandom > "$work/e"
head -c 9000 /dev/urandom > "$work/f"
export ZFUSE_TXG_TIMEOUT=100000
mount_bg "$ZFUSE" "$work/daemon.log" "$mnt" -o rw "$img" || die "mount: $(cat "$work/daemon.log")"
python3 - "$mnt" "$work" <<'EOF' || notok "the workload failed"
import os, sys
mnt, work = sys.argv[1], sys.argv[2]
def put(name, src, sync):
    fd = os.open(os.path.join(mnt, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, open(os.path.join(work, src), "rb").read())
    if sync:
        os.fsync(fd)
    os.close(fd)
def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
# The first commit starts the log chain, which costs a txg sync (zil.md
# §8.3): what came before it is in the tree, so it comes first.
os.mkdir(os.path.join(mnt, "warm"))
fsync_dir(mnt)
os.mkdir(os.path.join(mnt, "d"))
put("d/a", "a", False)          # never fsync'ed
put("d/b", "b", True)           # its own fsync
put("d/c", "c", False)
fsync_dir(os.path.join(mnt, "d"))   # commits the creates, not a's or c's data
put("e", "e", False)            # big (indirect if logged): never fsync'ed
put("d/f", "f", False)
os.rename(os.path.join(mnt, "d/f"), os.path.join(mnt, "d/g"))
put("d/h", "c", False)          # written, chmod'ed, removed: its queued
os.chmod(os.path.join(mnt, "d/h"), 0o600)   # write and setattr go with it
os.unlink(os.path.join(mnt, "d/h"))
# A file without a name (open, unlinked): its writes, truncations and
# chmod are not logged, even when its own fsync commits the log; no name
# can reach it again (OpenZFS logs nothing of an unlinked znode).
fd = os.open(os.path.join(mnt, "d/k"), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
os.unlink(os.path.join(mnt, "d/k"))
os.write(fd, b"k" * 3000)
os.fsync(fd)
os.ftruncate(fd, 100)
os.fchmod(fd, 0o600)
os.fsync(fd)
os.close(fd)
fsync_dir(os.path.join(mnt, "d"))   # the rename takes f's data with it
EOF
kill -9 "$mount_pid"; wait "$mount_pid" 2>/dev/null; mount_pid=
umount -l "$mnt" 2>/dev/null

# The log: creates of every file (k's too), writes of b and of f (renamed
# g) only.
recs=$("$ZFUSE" inspect --json "$img" zil zs 2>"$work/inspect.err" | python3 -c '
import json, sys
r = json.load(sys.stdin)["records"]
print(" ".join(x["type"] for x in r))
print(sum(x.get("length", 0) for x in r if x["type"] == "TX_WRITE"))
k = [x["foid"] for x in r if x["type"] == "TX_CREATE" and x.get("name") == "k"]
print(" ".join(x["type"] for x in r if x["type"] in ("TX_WRITE", "TX_TRUNCATE", "TX_SETATTR")
               and x.get("foid") in k) or "none" if k else "no create of k")')
types=$(sed -n 1p <<<"$recs") wbytes=$(sed -n 2p <<<"$recs") krecs=$(sed -n 3p <<<"$recs")
ncreate=$(grep -o "TX_CREATE\b" <<<"$types" | wc -l)
nwrite=$(grep -o "TX_WRITE\b" <<<"$types" | wc -l)
[ "$ncreate" -eq 7 ] && ok "the log holds the 7 creates" ||
	notok "creates in the log: $ncreate of 7 ($types; $(cat "$work/inspect.err"))"
[ "$krecs" = none ] && ok "no write, truncation or setattr of the nameless k in the log" ||
	notok "records of k in the log: $krecs ($types)"
[ "$wbytes" = 14000 ] && ok "the log's writes are b's and the renamed f's, 14000 bytes ($nwrite records)" ||
	notok "the log's writes hold $wbytes bytes, not 14000 (b 5000 + f 9000): $types"
grep -q "TX_RENAME" <<<"$types" && grep -q "TX_REMOVE" <<<"$types" &&
	ok "the log holds the rename and the remove" || notok "no rename or remove in the log: $types"

zdb_bcc "$work/pool" zs "$work/zdb.out" && ok "zdb -bcc: the crashed image is clean" ||
	{ notok "zdb -bcc of the crashed image"; tail -15 "$work/zdb.out"; }

mount_bg "$ZFUSE" "$work/daemon2.log" "$mnt" -o rw "$img" || die "remount: $(cat "$work/daemon2.log")"
same() { cmp -s "$mnt/$1" "$work/$2"; }
empty() { [ -f "$mnt/$1" ] && [ ! -s "$mnt/$1" ]; }
same d/b b && ok "replayed: b (fsync'ed) has its data" || notok "b after replay"
same d/g f && [ ! -e "$mnt/d/f" ] && ok "replayed: g (renamed from f) has f's data" || notok "g after replay"
[ ! -e "$mnt/d/h" ] && ok "replayed: h (written, chmod'ed, removed) is gone" || notok "h after replay"
empty d/a && empty d/c && empty e && ok "replayed: a, c and e exist, empty (their data was never fsync'ed)" ||
	notok "a, c, e after replay: $(ls -l "$mnt/d/a" "$mnt/d/c" "$mnt/e" 2>&1 | tr '\n' ' ')"
"$ZFUSE" unmount "$mnt" && wait "$mount_pid" || notok "unmount after replay"
mount_pid=
zdb_bcc "$work/pool" zs "$work/zdb.out" && ok "zdb -bcc after the replay" ||
	{ notok "zdb -bcc after the replay"; tail -15 "$work/zdb.out"; }
exit $fail
