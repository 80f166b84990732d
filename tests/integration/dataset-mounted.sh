#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# dataset-mounted.sh ZFUSE — zfs-style verbs on a pool a zfuse daemon has
# mounted go through its control socket (/run/zfuse/POOL.sock), and the
# mount follows each change at once, without a remount:
#   - snapshots taken or destroyed by `zfuse snapshot|destroy` appear in and
#     go from .zfs/snapshot (entries the kernel had cached included), and
#     hold what was written before the command;
#   - after `zfuse rollback` cat and ls show the rolled-back files, even
#     those whose pages and entries the kernel had cached;
#   - `zfuse create POOL/child` mounts the child at its mountpoint, `zfuse
#     rename` moves the mount, `zfuse destroy -r` unmounts it, a destroy
#     that fails leaves it mounted;
#   - `zfuse clone` mounts the clone; set and get go through the daemon;
#   - mkdir, rmdir and mv in .zfs/snapshot take, destroy and rename
#     snapshots;
#   - any user may run read-only verbs (list), only root and the mounting
#     user verbs that change the pool (nobody gets "permission denied",
#     and EPERM from mkdir in .zfs/snapshot);
#   - a request that is not one is dropped, the daemon serving on;
#   - verbs run while files are being written through the mount;
#   - a daemon killed leaves a stale socket: the command then opens the
#     images itself, and the next daemon replaces the socket; unmount
#     removes it;
#   - zdb -bcc finds no leak at the end (when zdb is there).
# Runs as root (the permission checks need a second user). Skipped (exit
# 77; a failure in CI, see lib.sh's skip) without FUSE or root.
set -uo pipefail
ZFUSE=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

require root fuse
scratch_mount dataset-mounted
chmod 755 "$work"		# the other user reaches the mount
mkdir -p "$mnt" "$work/pool"
# /run/zfuse is every root daemon's: a pool name no other test uses.
pool=zfctl$$
img=$work/pool/d0.img
sock=/run/zfuse/$pool.sock
log=$work/daemon.log
fail=0
ok() { echo "ok: $*"; }
bad() { echo "not ok: $*"; fail=1; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }

# raw_request ARGS...: one request over the socket by hand (wire format of
# fuse/control.c); prints the status, or "refused" / "closed"
raw_request() {
	python3 - "$sock" "$@" <<'EOF'
import socket, struct, sys
path, args = sys.argv[1], sys.argv[2:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(path)
except ConnectionRefusedError:
    print("refused"); sys.exit(0)

if args == ["--garbage"]:
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
else:
    req = b"ZFC1" + struct.pack("<I", len(args))
    for a in args:
        b = a.encode(); req += struct.pack("<I", len(b)) + b
    s.sendall(req)
f = s.makefile("rb")
while True:
    try:
        h = f.read(5)
    except ConnectionResetError:
        h = b""
    if len(h) < 5:
        print("closed"); sys.exit(0)
    kind, n = h[0:1], struct.unpack("<I", h[1:])[0]
    d = f.read(n)
    if kind == b"x":
        print(struct.unpack("<I", d)[0]); sys.exit(0)
EOF
}

# snaps: the pool's snapshot names through the verbs, one a line
snaps() { "$ZFUSE" list -H -o name -t snapshot -r "$pool"; }

"$ZFUSE" create -s 256M "$pool" "$img" > /dev/null || die "zfuse create"
mount_bg "$ZFUSE" "$log" "$mnt" "$img" || { cat "$log"; die "mount"; }

# --- the socket ---------------------------------------------------------
check "the daemon listens on $sock" test -S "$sock"
check "/run/zfuse is root's, 0755; the socket 0666" \
	test "$(stat -c '%U %a' /run/zfuse) $(stat -c '%a' "$sock")" = "root 755 666"

# --- snapshots through the socket ---------------------------------------
echo one > "$mnt/f"
exec 3> "$mnt/open"; echo "written, still open" >&3	# cached write, not closed
stat "$mnt/.zfs/snapshot/s1" > /dev/null 2>&1		# a cached miss
if "$ZFUSE" snapshot "$pool@s1"; then
	check "snapshot s1 at once in .zfs/snapshot" test -d "$mnt/.zfs/snapshot/s1"
	check "snapshot s1 holds what was written before" \
		test "$(cat "$mnt/.zfs/snapshot/s1/f")" = one
	check "snapshot s1 holds the open file's cached write" \
		test "$(cat "$mnt/.zfs/snapshot/s1/open" 2>&1)" = "written, still open"
else
	bad "zfuse snapshot $pool@s1"
fi
exec 3>&-
check "zfuse list shows s1 (through the daemon: the images are locked)" \
	grep -qx "$pool@s1" <(snaps)
echo two > "$mnt/f"
"$ZFUSE" snapshot "$pool@s2" || bad "zfuse snapshot $pool@s2"
check "ls .zfs/snapshot: s1 s2" test "$(ls "$mnt/.zfs/snapshot" | tr '\n' ' ')" = "s1 s2 "
cat "$mnt/.zfs/snapshot/s1/f" > /dev/null		# cached entry and node
if "$ZFUSE" destroy "$pool@s1"; then
	check "destroyed s1 is gone from .zfs/snapshot at once" \
		test ! -e "$mnt/.zfs/snapshot/s1"
	check "ls .zfs/snapshot: s2" test "$(ls "$mnt/.zfs/snapshot" | tr '\n' ' ')" = "s2 "
else
	bad "zfuse destroy $pool@s1"
fi

# --- a child filesystem -------------------------------------------------
if "$ZFUSE" create "$pool/child"; then
	check "child mounted at once at its mountpoint" mountpoint -q "$mnt/child"
	check "child has a device of its own" \
		test "$(stat -c %d "$mnt/child")" != "$(stat -c %d "$mnt")"
	echo c > "$mnt/child/x" && "$ZFUSE" snapshot "$pool/child@c1" &&
	check "child's .zfs/snapshot shows c1" test "$(cat "$mnt/child/.zfs/snapshot/c1/x")" = c
	# Not destroyed (it has a snapshot): it stays mounted.
	"$ZFUSE" destroy "$pool/child" 2> /dev/null && bad "destroy of a dataset with snapshots"
	check "child still mounted after a destroy that failed" mountpoint -q "$mnt/child"
	check "and still shows x" test "$(cat "$mnt/child/x" 2>&1)" = c
	if "$ZFUSE" rename "$pool/child" "$pool/moved"; then
		check "renamed child is mounted at its new mountpoint" mountpoint -q "$mnt/moved"
		check "and no more at the old one" bash -c "! mountpoint -q '$mnt/child'"
		check "renamed child shows x" test "$(cat "$mnt/moved/x" 2>&1)" = c
	else
		bad "zfuse rename $pool/child $pool/moved"
	fi
	if "$ZFUSE" set mountpoint="/$pool/there" "$pool/moved"; then
		check "set mountpoint= moves the mount" mountpoint -q "$mnt/there"
		"$ZFUSE" set canmount=off "$pool/moved" || bad "set canmount=off"
		check "set canmount=off unmounts it" bash -c "! mountpoint -q '$mnt/there'"
		"$ZFUSE" set canmount=on "$pool/moved" || bad "set canmount=on"
		check "set canmount=on mounts it again" mountpoint -q "$mnt/there"
	else
		bad "zfuse set mountpoint=/$pool/there $pool/moved"
	fi
	if "$ZFUSE" destroy -r "$pool/moved"; then
		check "destroyed child is unmounted" bash -c "! mountpoint -q '$mnt/there'"
		check "destroyed child is gone" bash -c "! grep -q child <(
			$ZFUSE list -H -o name -t all -r $pool)"
	else
		bad "zfuse destroy -r $pool/child (mounted)"
	fi
else
	bad "zfuse create $pool/child"
fi

# --- a clone, properties ------------------------------------------------
if "$ZFUSE" snapshot "$pool@forclone" && "$ZFUSE" clone "$pool@forclone" "$pool/cl"; then
	check "clone mounted at once" mountpoint -q "$mnt/cl"
	check "clone shows f" test -f "$mnt/cl/f"
else
	bad "zfuse clone $pool@forclone $pool/cl"
fi
"$ZFUSE" set compression=zstd "$pool" || bad "zfuse set compression=zstd $pool"
check "zfuse get shows the value set" \
	test "$("$ZFUSE" get -H -o value compression "$pool")" = zstd

# snapdir follows at once: .zfs listed in the root (and counted as a link)
# with visible, not with hidden; reachable by name either way
links=$(stat -c %h "$mnt")
"$ZFUSE" set snapdir=visible "$pool" || bad "zfuse set snapdir=visible $pool"
check "snapdir=visible: ls -a lists .zfs without a remount" grep -qx .zfs <(ls -a "$mnt")
check "snapdir=visible: the root counts .zfs as a link" test "$(stat -c %h "$mnt")" = $((links + 1))
"$ZFUSE" set snapdir=hidden "$pool" || bad "zfuse set snapdir=hidden $pool"
check "snapdir=hidden: ls -a no longer lists .zfs" bash -c "! ls -a '$mnt' | grep -qx .zfs"
check "snapdir=hidden: .zfs/snapshot still reachable" test -d "$mnt/.zfs/snapshot"

# --- .zfs/snapshot by mkdir and rmdir ------------------------------------
echo m > "$mnt/m"
if mkdir "$mnt/.zfs/snapshot/m1"; then
	check "mkdir .zfs/snapshot/m1 took $pool@m1" grep -qx "$pool@m1" <(snaps)
	if rmdir "$mnt/.zfs/snapshot/m1"; then
		check "rmdir .zfs/snapshot/m1 destroyed it" bash -c "! grep -qx '$pool@m1' <(
			$ZFUSE list -H -o name -t snapshot -r $pool)"
	else
		bad "rmdir .zfs/snapshot/m1"
	fi
else
	bad "mkdir .zfs/snapshot/m1"
fi
# mv renames, also a snapshot the daemon has open; `zfuse rename` shows too.
if mkdir "$mnt/.zfs/snapshot/n1" && cat "$mnt/.zfs/snapshot/n1/m" > /dev/null &&
   mv "$mnt/.zfs/snapshot/n1" "$mnt/.zfs/snapshot/n2"; then
	check "mv in .zfs/snapshot renamed n1 to n2" grep -qx "$pool@n2" <(snaps)
	check "n2 shows m" test "$(cat "$mnt/.zfs/snapshot/n2/m" 2>&1)" = m
	"$ZFUSE" rename "$pool@n2" "$pool@n3" || bad "zfuse rename $pool@n2 $pool@n3"
	check "zfuse rename: n3 in .zfs/snapshot, n2 gone" \
		test -d "$mnt/.zfs/snapshot/n3" -a ! -e "$mnt/.zfs/snapshot/n2"
	"$ZFUSE" destroy "$pool@n3" || bad "zfuse destroy $pool@n3 (renamed while open)"
else
	bad "mkdir and mv in .zfs/snapshot"
fi
out=$(as_nobody mv "$mnt/.zfs/snapshot/s2" "$mnt/.zfs/snapshot/evil" 2>&1)
check "nobody's mv in .zfs/snapshot: EPERM" grep -q "Operation not permitted" <<<"$out"
# Browsed, its files stay in the kernel's cache: rmdir says busy (as OpenZFS
# of a busy snapshot); `zfuse destroy` drops the cache first.
if mkdir "$mnt/.zfs/snapshot/m2"; then
	check "m2 holds m" test "$(cat "$mnt/.zfs/snapshot/m2/m")" = m
	out=$(rmdir "$mnt/.zfs/snapshot/m2" 2>&1)
	check "rmdir of browsed m2: EBUSY" grep -q "busy" <<<"$out"
	"$ZFUSE" destroy "$pool@m2" || bad "zfuse destroy $pool@m2 after browsing it"
	check "m2 is gone" test ! -e "$mnt/.zfs/snapshot/m2"
else
	bad "mkdir .zfs/snapshot/m2"
fi

# --- permissions ----------------------------------------------------------
out=$(as_nobody "$ZFUSE" list -H -o name -t snapshot -r "$pool" 2>&1); st=$?
check "nobody may list (status $st)" test $st -eq 0
check "nobody's list shows s2" grep -qx "$pool@s2" <<<"$out"
out=$(as_nobody "$ZFUSE" snapshot "$pool@evil" 2>&1); st=$?
check "nobody may not snapshot: status 1 (got $st)" test $st -eq 1
check "nobody is told: permission denied" grep -q "permission denied" <<<"$out"
check "no snapshot evil" bash -c "! grep -q evil <($ZFUSE list -H -o name -t snapshot -r $pool)"
out=$(as_nobody mkdir "$mnt/.zfs/snapshot/evil" 2>&1); st=$?
check "nobody's mkdir in .zfs/snapshot: EPERM" \
	test $st -ne 0 -a -n "$(grep "Operation not permitted" <<<"$out")"

# --- robustness -----------------------------------------------------------
check "a request that is not one is dropped" test "$(raw_request --garbage)" = closed
check "an unknown verb: status 2" test "$(raw_request no-such-verb 2>/dev/null)" = 2
# Verbs while writers write through the mount.
( for i in $(seq 1 200); do echo "$i" > "$mnt/w$((i % 7))"; done ) & writer=$!
for i in 1 2 3 4 5; do
	timeout 60 "$ZFUSE" snapshot "$pool@busy$i" || bad "snapshot busy$i during writes"
done
wait $writer || bad "the writer failed during snapshots"
check "5 snapshots taken during writes are listed" \
	test "$(ls "$mnt/.zfs/snapshot" | grep -c busy)" -eq 5
check "the daemon still serves" test "$(raw_request list -H -o name "$pool" 2>/dev/null)" = 0

# --- rollback -----------------------------------------------------------
echo keep > "$mnt/old"; mkdir "$mnt/dir"; echo in > "$mnt/dir/file"
echo before > "$mnt/f"
"$ZFUSE" snapshot "$pool@r1" || bad "zfuse snapshot $pool@r1"
echo after > "$mnt/f"; echo new > "$mnt/new"; rm "$mnt/old"
echo changed > "$mnt/dir/file"; mkdir "$mnt/dir/sub"
cat "$mnt/f" "$mnt/new" "$mnt/dir/file" > /dev/null	# pages and entries cached
ls -R "$mnt" > /dev/null
if "$ZFUSE" rollback "$pool@r1"; then
	check "rollback: f shows its old contents" test "$(cat "$mnt/f" 2>&1)" = before
	check "rollback: dir/file too" test "$(cat "$mnt/dir/file" 2>&1)" = in
	check "rollback: new is gone" test ! -e "$mnt/new"
	check "rollback: dir/sub is gone" test ! -e "$mnt/dir/sub"
	check "rollback: old is back" test "$(cat "$mnt/old" 2>&1)" = keep
	check "rollback: ls shows the old tree" \
		test "$(ls "$mnt" | grep -v '^w' | tr '\n' ' ')" = "child cl dir f m moved old open there "
	echo more > "$mnt/f" && check "rollback: the mount takes writes" \
		test "$(cat "$mnt/f")" = more
else
	bad "zfuse rollback $pool@r1"
fi

# --- a daemon that died ---------------------------------------------------
kill -9 "$mount_pid"; wait "$mount_pid" 2>/dev/null; mount_pid=
umount -l "$mnt/child" 2>/dev/null; umount -l "$mnt"
check "a killed daemon leaves its socket" test -S "$sock"
check "the stale socket refuses" test "$(raw_request list)" = refused
check "with no daemon the command opens the images itself" \
	grep -qx "$pool@s2" <("$ZFUSE" list -d "$work/pool" -H -o name -t snapshot -r "$pool")
: > "$log"
mount_bg "$ZFUSE" "$log" "$mnt" -v "$img" || { cat "$log"; die "mount again"; }
check "the next daemon replaced the stale socket" grep -q "removed the stale control socket" "$log"
check "verbs reach the new daemon" grep -qx "$pool@s2" <(snaps)
"$ZFUSE" unmount "$mnt" || bad "unmount"
wait "$mount_pid"; mount_pid=
check "unmount removed the socket and its lock file" \
	test ! -e "$sock" -a ! -e "/run/zfuse/$pool.lock"

if ! command -v zdb > /dev/null; then
	skip_stage "zdb is not installed" || fail=1
elif zdb_bcc "$work/pool" "$pool" "$work/zdb.out"; then
	ok "zdb -bcc: no leaks, no errors"
else
	bad "zdb -bcc"; tail -20 "$work/zdb.out"
fi
[ $fail -eq 0 ] || { echo "--- daemon log"; cat "$log"; exit 1; }
echo "PASS"
