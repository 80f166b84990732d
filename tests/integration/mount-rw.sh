#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# mount-rw.sh ZFUSE — the read-write FUSE mount. On a pool `zfuse create`
# makes: a POSIX workload through the mount (big, sparse and overwritten
# files, many small files, a deep tree, renames with and without flags,
# hard links, symlinks, special files, xattrs small and big, deletes,
# truncates, fallocate modes, copy_file_range, chmod/chown/utimes, setgid
# directories, setuid/setgid bits dropped by writes of other users and by
# chown, a file unlinked while open) is run the same way in a local
# directory, and the two trees must agree (inode numbers, block counts,
# directory sizes and the clock's mtimes aside: times the workload sets
# must be equal, the others within the run). Then: the mount's manifest survives
# unmount and remount exactly; zdb -bcc finds no leak and no error after
# each unmount and after a daemon killed right after fsync (whose data must
# be there); the delete queue keeps only files still open at a crash, and
# the next import frees them; `-o ro` writes nothing; OpenZFS imports and
# scrubs the pool and shows the same tree (when qemu is there); a pool zfuse
# does not write (the legacy fixture: version 28) mounts read-only saying
# why, and `-o rw` then fails. (The crypt fixture served here until zfuse
# wrote encrypted datasets.)
# Runs as root (mknod of devices, chown, drop_caches). Skipped (exit 77; a
# failure in CI, see lib.sh's skip) without zdb, FUSE or root.
set -uo pipefail
ZFUSE=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
MANIFEST=$SHARED/oracle/manifest.sh

require root fuse zdb
{ "$ZFUSE" create 2>&1 || true; } | grep -q "usage: zfuse create" || die "zfuse create is missing or its usage text changed"

work=$(mktemp -d "${TMPDIR:-/tmp}/zfuse-rw.XXXXXX")
mnt=$work/mnt
pid=
cleanup() {
	if mountpoint -q "$mnt" 2>/dev/null; then
		"$ZFUSE" unmount -l "$mnt" 2>/dev/null || umount -l "$mnt"
	fi
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$mnt" "$work/ref" "$work/pool"
fail=0
ok() { echo "ok: $*"; }
bad() { echo "not ok: $*"; fail=1; }

# mount_pool LOG [-o OPTS] DEVICES...: lib.sh's mount_bg with a fresh LOG
mount_pool() {
	local log=$1; shift
	: > "$log"
	daemon_log=$log
	mount_bg "$ZFUSE" "$log" "$mnt" "$@"; local rc=$?
	pid=$mount_pid
	return $rc
}

# unmount_pool: unmount, which returns once the daemon has written the
# last changes and exited: its write lock on the image is gone
unmount_pool() {
	"$ZFUSE" unmount "$mnt" || { bad "unmount"; return 1; }
	flock -n -x "$work/pool/rw.img" true || {
		bad "zfuse unmount returned while the daemon still held the pool"
		tail -5 "$daemon_log"
	}
	# (the daemon is this shell's child: a zombie until waited for)
	local state
	state=$(awk '/^State:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
	[ -z "$state" ] || [ "$state" = Z ] ||
		bad "zfuse unmount returned before the daemon exited (state $state)"
	wait "$pid"
	local st=$?
	pid=
	[ $st -eq 0 ] || { bad "the daemon exited with status $st"; return 1; }
}

mount_opts() { awk -v m="$mnt" '$2 == m { print $4 }' /proc/mounts; }

# zdb_clean WHAT: zdb -bcc of the pool finds no leak and no error
zdb_clean() {
	local out
	out=$(zdb -e -p "$work/pool" -bcc rwpool 2>&1)
	# (its progress line "verify nothing leaked" is no finding)
	if [ $? -eq 0 ] && grep -q "No leaks" <<<"$out" &&
	   ! grep -v "verify nothing leaked" <<<"$out" | grep -qiE "leaked|error|assert"; then
		ok "zdb -bcc after $1: no leaks, no errors"
	else
		bad "zdb -bcc after $1"; tail -20 <<<"$out"
	fi
}

# Drop the kernel's caches of the mount, so that what it shows next is what
# the library stores (a writeback cache keeps its own mtimes and sizes).
# st_blocks, as OpenZFS's, follows a txg sync (dn_used), and an fsync only
# commits the intent log: wait for the timed sync (5 s) to have run since,
# or a remount shows other block counts than the live mount did.
settle() {
	python3 -c 'import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd); os.close(fd)' "$mnt"
	sync
	sleep 7
	echo 3 > /proc/sys/vm/drop_caches
}

# py SCRIPT ARGS...: the calls the shell has no command for
py() { python3 -c "$@"; }

head -c $((24 << 20)) /dev/urandom > "$work/random.src"
head -c 30000 /dev/urandom | base64 -w0 | head -c 30000 > "$work/bigxattr.src"

# workload DIR: the same changes, step by step, in DIR
workload() (
	set -e
	cd "$1"
	src=$work/random.src
	# Big files, written in one go and in pieces, then overwritten in place.
	cp "$src" big
	dd if="$src" of=pieces bs=128K count=40 status=none
	dd if="$src" of=pieces bs=4096 skip=7 seek=3 count=5 conv=notrunc status=none
	printf 'OVERWRITE' | dd of=big bs=1 seek=123457 conv=notrunc status=none
	# Sparse files: holes before, between and after data.
	truncate -s 300M sparse
	dd if="$src" of=sparse bs=1M count=1 seek=200 conv=notrunc status=none
	printf 'end' >> sparse
	dd if="$src" of=holes bs=64K count=1 seek=100 status=none
	truncate -s 20M holes
	# Appends and O_TRUNC.
	printf 'one\n' >> appended; printf 'two\n' >> appended; printf 'three\n' >> appended
	cp "$src" truncated; echo short > truncated
	# Truncates: shrink into a block, extend, shrink to zero.
	dd if="$src" of=cut bs=1M count=3 status=none
	truncate -s 1000001 cut
	truncate -s 5000000 cut
	dd if="$src" of=emptied bs=64K count=2 status=none
	truncate -s 0 emptied
	# fallocate: plain, keep-size, punch-hole, zero-range.
	fallocate -l 3M falloc
	printf 'x' > falloc_keep; fallocate -n -l 2M falloc_keep
	dd if="$src" of=punched bs=1M count=2 status=none
	fallocate -p -o 131072 -l 524288 punched
	fallocate -p -o 1000 -l 3000 punched
	dd if="$src" of=zeroed bs=1M count=2 status=none
	fallocate -z -o 65536 -l 200000 zeroed
	# copy_file_range, within and across files.
	py 'import os,sys
i=os.open(sys.argv[1],os.O_RDONLY); o=os.open(sys.argv[2],os.O_WRONLY|os.O_CREAT,0o644)
n=0
while n < 3000000:
    r=os.copy_file_range(i,o,3000000-n,n+777,n)
    if r==0: break
    n+=r
os.close(i); os.close(o)' big copied
	# Many small files, some removed again.
	mkdir many
	for i in $(seq 1 600); do echo "small file $i" > many/f$i; done
	for i in $(seq 200 350); do rm many/f$i; done
	# A deep tree, part of it removed.
	p=deep; for i in $(seq 1 48); do p=$p/level$i; done
	mkdir -p "$p"; echo bottom > "$p/leaf"
	rm -r deep/level1/level2/level3/level4/level5/level6/level7/level8/level9/level10/level11/level12/level13/level14/level15/level16/level17/level18/level19/level20/level21/level22/level23/level24/level25/level26/level27/level28/level29/level30/level31/level32/level33/level34/level35/level36/level37/level38/level39/level40
	# Renames: file, across directories, a directory, over a file, over
	# an empty directory, NOREPLACE refused, EXCHANGE.
	mv many/f1 many/renamed1
	mv many/f2 deep/moved2
	mkdir r1 r2; echo in-r1 > r1/x; mv r1 r2/
	echo old > over1; echo new > over2; mv over2 over1
	mkdir emptydir dirsrc; echo d > dirsrc/f; mv -T dirsrc emptydir
	echo a > xa; echo b > xb; mkdir xd; echo dd > xd/in
	py 'import ctypes,os,sys
libc=ctypes.CDLL(None,use_errno=True)
def rn(a,b,fl):
    r=libc.renameat2(-100,a.encode(),-100,b.encode(),fl)
    return 0 if r==0 else ctypes.get_errno()
assert rn("xa","xb",1)==17, "NOREPLACE onto an existing name"
assert rn("xa","xnew",1)==0
assert rn("xnew","xb",2)==0, "EXCHANGE"
assert rn("xb","xd",2)==0, "EXCHANGE a file and a directory"
assert rn("nothere","xd",2)==2'
	# Hard links, in several directories, the first name removed; a
	# rename onto another name of the same file does nothing.
	echo linked > hl1; ln hl1 hl2; ln hl1 many/hl3; ln hl1 deep/hl4; rm hl1
	py 'import os; os.rename("hl2", "many/hl3"); assert os.stat("hl2").st_nlink == 3'
	# Symlinks: relative, absolute dangling, long target, to a directory.
	ln -s big sym_big
	ln -s /nonexistent/target dangling
	ln -s "$(printf 'long/%.0s' $(seq 1 150))end" longsym
	ln -s many symdir
	# Special files.
	mkfifo fifo; mknod chr c 1 3; mknod blk b 7 200
	py 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind("sock"); s.close()'
	# Names: long, odd bytes.
	touch "$(printf 'n%.0s' $(seq 1 255))"
	touch -- 'sp ace' 'ü-ñ' '-dash' '*star?'
	# Modes, owners, times.
	echo m > modes; chmod 4755 modes
	echo o > owned; chown 1234:5678 owned; chmod 2750 owned
	echo t > timed; touch -m -d @1234567890.123456789 timed; touch -a -d @1000000000 timed
	mkdir sgid; chown 0:4321 sgid; chmod 2775 sgid
	# Setuid and setgid bits a change drops (the kernel's rule; zfuse
	# applies it itself under FUSE_HANDLE_KILLPRIV_V2): a write, truncate,
	# fallocate and copy into each by a user without CAP_FSETID (through
	# descriptors root opened), a write by root, chowns by root (one of
	# them chown(-1, -1), for which the kernel sends no flag).
	py 'import os
modes = {"k_write": 0o4777, "k_sgid_x": 0o2777, "k_sgid_nox": 0o2767, "k_trunc": 0o6777,
         "k_falloc": 0o4777, "k_copy": 0o6777, "k_root": 0o6777, "k_others": 0o6777}
fds = {}
for n, m in modes.items():
    with open(n, "w") as f:
        f.write("data\n")
    os.chmod(n, m)
    fds[n] = os.open(n, os.O_WRONLY)
os.write(fds["k_root"], b"root keeps them")
src = os.open("k_root", os.O_RDONLY)
pid = os.fork()
if pid == 0:
    os.setgroups([]); os.setresgid(65534, 65534, 65534); os.setresuid(65534, 65534, 65534)
    for n in ("k_write", "k_sgid_x", "k_sgid_nox"):
        os.write(fds[n], b"x")
    os.ftruncate(fds["k_trunc"], 2)
    os.posix_fallocate(fds["k_falloc"], 0, 8192)
    os.copy_file_range(src, fds["k_copy"], 4, 0, 0)
    try:	# dropping the bits is a mode change: for the owner only
        os.chown("k_others", -1, -1)
        os._exit(3)
    except PermissionError:
        pass
    os._exit(0)
assert os.waitpid(pid, 0)[1] == 0
with open("k_chown_same", "w") as f:
    f.write("c")
os.chmod("k_chown_same", 0o6755)
os.chown("k_chown_same", -1, -1)'
	echo c > k_chown; chmod 6755 k_chown; chown 1234 k_chown
	echo c > k_chown_nox; chmod 2745 k_chown_nox; chown 1234 k_chown_nox
	echo g > sgid/file; mkdir sgid/sub; echo h > sgid/sub/deeper
	# Extended attributes: small, binary, replaced, removed, big (beyond
	# the SA's room), on a directory.
	echo x > attrs
	setfattr -n user.small -v hello attrs
	setfattr -n user.bin -v 0x00ff10 attrs
	setfattr -n user.replace -v first attrs; setfattr -n user.replace -v second attrs
	setfattr -n user.gone -v bye attrs; setfattr -x user.gone attrs
	# ext4 keeps no value this big: only the mount gets it
	[ "$1" = "$work/ref" ] || setfattr -n user.big -v "$(cat "$work/bigxattr.src")" attrs
	setfattr -n user.dir -v on-a-dir many
	setfattr -n trusted.t -v trusted attrs
	# A file unlinked while open: still readable and writable through its
	# descriptor, gone with it.
	py 'import os
fd=os.open("tmpfile",os.O_RDWR|os.O_CREAT,0o600)
os.write(fd,b"x"*100000); os.unlink("tmpfile")
os.pwrite(fd,b"later",50000)
assert os.pread(fd,10,49998)==b"xxlaterxxx"
assert os.fstat(fd).st_nlink==0
os.close(fd)'
	# Deletes: a file, an emptied directory.
	rm xd
	rm r2/r1/x; rmdir r2/r1
	# Times set last on every kind of entry: both trees must show them
	# exactly (the other times are the clock's, checked against the run's
	# window below).
	touch -m -d @1500000000.5 emptydir fifo chr pieces
	touch -h -m -d @1400000000.25 sym_big
	touch -h -m -d @1300000000 dangling
)
# entries whose mtime the workload sets (timed's is set above)
SET_TIMES="timed emptydir fifo chr pieces sym_big dangling"


# ---- the pool ---------------------------------------------------------
if ! "$ZFUSE" create -s 512M rwpool "$work/pool/rw.img" 2>"$work/create.err"; then
	cat "$work/create.err"; die "zfuse create failed"
fi

# ---- mount read-write, run the workload --------------------------------
mount_pool "$work/m1.log" "$work/pool/rw.img" || { cat "$work/m1.log"; die "cannot mount"; }
case ",$(mount_opts)," in
*,rw,*) ok "mounted read-write" ;;
*) bad "mount options are $(mount_opts), not rw" ;;
esac
grep -qi "read-only" "$work/m1.log" && bad "read-only message on a writable pool: $(cat "$work/m1.log")"
# The unmount socket is named after the mount's unique id where the kernel
# has them (6.8): a device number is reused while an old daemon may still
# be writing, and the new one could not take the name.
kver=$(uname -r | awk -F. '{ print $1 * 1000 + $2 }')
if [ "$kver" -ge 6008 ]; then
	# this daemon's sockets (other tests' daemons have such names too)
	names=$(daemon_sockets "$pid" | grep '^@zfuse-mount')
	grep -q "^@zfuse-mount-id-[0-9]*$" <<<"$names" &&
		ok "the daemon's unmount socket is named after the mount's unique id: $(echo $names)" ||
		bad "the daemon has no unmount socket named after the mount's unique id: '$(echo $names)'"
else
	echo "skip: kernel $(uname -r) has no unique mount ids (6.8): unmount socket name not checked"
fi
# A second writer would destroy the pool: while it is mounted read-write,
# another mount of the same image is read-only and names the reason, and
# one that insists on rw fails.
mkdir -p "$work/mnt2"
if timeout 60 "$ZFUSE" mount -f -o rw "$work/pool/rw.img" "$work/mnt2" 2>"$work/second.log"; then
	bad "a second read-write mount of a mounted pool succeeded"
else
	grep -q "being written by another process" "$work/second.log" &&
		ok "a second read-write mount is refused: $(tail -1 "$work/second.log")" ||
		bad "a second read-write mount failed without the reason: $(cat "$work/second.log")"
fi
mountpoint -q "$work/mnt2" && umount -l "$work/mnt2"
# Not as an if condition: that would switch set -e off inside.
workload "$work/ref" 2>"$work/ref.err"
[ $? -eq 0 ] && ok "workload on the local disk" ||
	bad "workload on the local disk: $(tail -3 "$work/ref.err")"
t_start=$(date +%s)
workload "$mnt" 2>"$work/mnt.err"
[ $? -eq 0 ] && ok "workload through the mount" ||
	bad "workload through the mount: $(tail -5 "$work/mnt.err")"
t_end=$(($(date +%s) + 1))

# Things the local run does not show.
[ "$(getfattr --only-values -n user.big "$mnt/attrs" 2>/dev/null)" = "$(cat "$work/bigxattr.src")" ] &&
	ok "a 30000-byte xattr" || bad "the 30000-byte xattr"
# Many small xattrs (stress-ng's xattr stressor): the SA list is an SA
# attribute, at most 64 KiB packed; past that the values go to the xattr
# directory (zpl_xattr_set on EFBIG), and every one reads back and goes.
py 'import os, sys
p = sys.argv[1] + "/manyx"
open(p, "w").close()
for i in range(2000):
    os.setxattr(p, "user.var_%d" % i, b"value-%d" % i, os.XATTR_CREATE)
names = os.listxattr(p)
assert len(names) == 2000, len(names)
assert all(os.getxattr(p, n) == b"value-" + n[9:].encode() for n in names)
for n in names[:1500]:
    os.removexattr(p, n)
assert len(os.listxattr(p)) == 500
os.unlink(p)' "$mnt" 2> "$work/manyx.err" && ok "2000 xattrs of one file: past the SA's 64 KiB in the xattr directory" ||
	bad "2000 xattrs of one file: $(tail -2 "$work/manyx.err")"
[ "$(stat -c %g "$mnt/sgid/file")" = 4321 ] && [ "$(stat -c %a "$mnt/sgid/sub")" = 2755 ] &&
	ok "setgid directory: group and setgid inherited" || bad "setgid directory inheritance"
py 'import os,sys
try:
    os.rename(sys.argv[1]+"/big", sys.argv[1]+"/.zfs/big"); sys.exit(1)
except OSError as e:
    sys.exit(0 if e.errno in (18, 30) else 1)' "$mnt" && ok "rename into .zfs refused" ||
	bad "rename into .zfs"
py 'import os,sys; st=os.statvfs(sys.argv[1]); sys.exit(1 if st.f_flag & os.ST_RDONLY else 0)' "$mnt" &&
	ok "statfs: not read-only" || bad "statfs says read-only"

settle
"$MANIFEST" "$mnt" > "$work/live.tsv" || bad "manifest of the mount"
"$MANIFEST" "$work/ref" > "$work/ref.tsv" || bad "manifest of the local run"
if diff <(portable_manifest "$work/ref.tsv" user.big) <(portable_manifest "$work/live.tsv" user.big) > "$work/ref.diff"; then
	ok "the mount agrees with the local run ($(wc -l < "$work/live.tsv") lines)"
else
	bad "the mount differs from the local run"; head -30 "$work/ref.diff"
fi
# every time the workload did not set is the clock's during the run
late=$(awk -F'\t' -v set="$SET_TIMES" -v t0="$t_start" -v t1="$t_end" '
	BEGIN { split(set, a, " "); for (i in a) timed[a[i]] = 1 }
	$2 != "@xattr" && !($1 in timed) && ($7 + 0 < t0 || $7 + 0 > t1) { print $1, $7 }' "$work/live.tsv")
[ -z "$late" ] && ok "mtimes: set ones exact, the others within the run ($t_start..$t_end)" ||
	bad "mtimes outside the run ($t_start..$t_end): $(head -5 <<<"$late")"
unmount_pool && zdb_clean "the workload"

# ---- one security.capability lookup per file, not one per write ---------
# zfuse takes the dropping of setuid/setgid over (FUSE_HANDLE_KILLPRIV_V2,
# negotiated by fuse/devio.c), so the kernel marks a file S_NOSEC after its
# first write instead of asking before each write(2). Counted in the
# request log of a -d mount: 100 writes, each fsynced (written back).
mount_pool "$work/debug.log" -d "$work/pool/rw.img" || { cat "$work/debug.log"; die "cannot mount with -d"; }
py 'import os, sys
fd = os.open(sys.argv[1] + "/capcount", os.O_WRONLY | os.O_CREAT, 0o644)
for i in range(100):
    os.pwrite(fd, b"%d" % i, i * 4096); os.fsync(fd)
os.close(fd); os.unlink(sys.argv[1] + "/capcount")' "$mnt" || bad "the write loop of the -d mount"
unmount_pool
lookups=$(grep -c "opcode: GETXATTR" "$work/debug.log" || true)
writes=$(grep -c "opcode: WRITE" "$work/debug.log" || true)
[ "$writes" -ge 100 ] && [ "$lookups" -le 2 ] &&
	ok "100 written-back writes, $lookups xattr lookups (one per file, not per write)" ||
	bad "$writes writes cost $lookups xattr lookups (FUSE_HANDLE_KILLPRIV_V2 not in effect?)"

# ---- remount: the same tree -------------------------------------------
mount_pool "$work/m2.log" "$work/pool/rw.img" || { cat "$work/m2.log"; die "cannot remount"; }
"$MANIFEST" "$mnt" > "$work/remounted.tsv"
if diff "$work/live.tsv" "$work/remounted.tsv" > "$work/remount.diff"; then
	ok "manifest unchanged by unmount and remount"
else
	bad "manifest changed by unmount and remount"; head -30 "$work/remount.diff"
fi

# ---- more changes on the reimported pool, then fsync and a crash -------
(
	set -e
	cd "$mnt"
	rm -r many deep
	mv big big.moved
	cat "$work/random.src" >> big.moved
	for i in $(seq 1 50); do echo "again $i" > "new$i"; done
) 2>"$work/more.err" && ok "changes after the remount" || bad "changes after the remount: $(cat "$work/more.err")"
# An unlinked file closed before the crash is freed when the kernel forgets
# it; one still open stays in the delete queue until the next import.
py 'import os,sys,time
os.chdir(sys.argv[1])
fd=os.open("gone",os.O_RDWR|os.O_CREAT,0o644); os.write(fd,b"g"*70000); os.unlink("gone"); os.close(fd)
held=os.open("held",os.O_RDWR|os.O_CREAT,0o644); os.write(held,b"h"*70000); os.unlink("held")
time.sleep(0.5)
fd=os.open("durable",os.O_WRONLY|os.O_CREAT,0o644)
os.write(fd,b"synced before the crash\n"); os.fsync(fd); os.close(fd)
os.kill(int(sys.argv[2]), 9)' "$mnt" "$pid" || bad "fsync and crash"
wait "$pid" 2>/dev/null; pid=
"$ZFUSE" unmount "$mnt" 2>/dev/null || umount -l "$mnt"
zdb_clean "a crash after fsync"
# delete_queue_entries: entries of the root filesystem's delete queue
delete_queue_entries() {
	zdb -e -p "$work/pool" -dddd rwpool 2>/dev/null |
		awk '/ZFS delete queue/ { q = 1 } q && /entries/ { print $(NF - 1); exit }'
}
n=$(delete_queue_entries)
[ "$n" = 1 ] && ok "delete queue after the crash: the file still open only" ||
	bad "delete queue after the crash has ${n:-no} entries, not 1"
mount_pool "$work/m3.log" "$work/pool/rw.img" || { cat "$work/m3.log"; die "cannot mount after the crash"; }
[ "$(cat "$mnt/durable" 2>/dev/null)" = "synced before the crash" ] &&
	ok "fsync'd data survives the crash" || bad "fsync'd data lost in the crash"
settle
"$MANIFEST" "$mnt" > "$work/after-crash.tsv"
unmount_pool && zdb_clean "the remount after the crash"
n=$(delete_queue_entries)
[ "$n" = 0 ] && ok "delete queue drained by the remount" ||
	bad "delete queue after the remount has ${n:-no} entries"

# ---- -o ro writes nothing ---------------------------------------------
sum_before=$(sha256sum < "$work/pool/rw.img")
mount_pool "$work/ro.log" -o ro "$work/pool/rw.img" || { cat "$work/ro.log"; die "cannot mount -o ro"; }
case ",$(mount_opts)," in
*,ro,*) ok "-o ro mounts read-only" ;;
*) bad "-o ro: mount options are $(mount_opts)" ;;
esac
touch "$mnt/nope" 2>/dev/null && bad "-o ro: a file was created"
"$MANIFEST" "$mnt" > "$work/ro.tsv"
diff -q "$work/after-crash.tsv" "$work/ro.tsv" >/dev/null && ok "-o ro shows the same tree" ||
	bad "-o ro shows another tree"
unmount_pool
[ "$(sha256sum < "$work/pool/rw.img")" = "$sum_before" ] && ok "-o ro left the image untouched" ||
	bad "-o ro changed the image"

# ---- the oracle: OpenZFS imports and scrubs the pool zfuse wrote and
# shows the same tree (skipped without qemu or with ZFUSE_SKIP_ORACLE=1)
if [ "${ZFUSE_SKIP_ORACLE:-0}" == 1 ] || why=$(oracle_missing); then
	skip_stage "oracle (${why:-ZFUSE_SKIP_ORACLE=1})" || fail=1
else
	job=$work/oracle
	mkdir -p "$job/pool"
	cp --sparse=always "$work/pool/rw.img" "$job/pool/"
	cp "$MANIFEST" "$job/manifest.sh"
	cat > "$job/job.sh" <<'EOF'
#!/bin/bash
zpool import -f -d /host/pool rwpool || { echo IMPORT-FAILED; exit 1; }
zpool scrub -w rwpool
zpool status -v rwpool | grep -E "errors:|scan:"
/host/manifest.sh "$(zfs get -H -o value mountpoint rwpool)" > /host/oracle.tsv
zpool export rwpool || zpool export -f rwpool
EOF
	chmod +x "$job/job.sh"
	if "$ORACLE_RUN" "$job" >"$job/run.out" 2>&1; then ok "OpenZFS imports the pool"
	else bad "oracle job failed"; tail -20 "$job/run.out"; fi
	grep -q "errors: No known data errors" "$job/job.log" && ok "OpenZFS scrub: no errors" ||
		bad "OpenZFS scrub: $(grep -E "errors:|scan:" "$job/job.log")"
	if diff "$work/after-crash.tsv" "$job/oracle.tsv" > "$job/oracle.diff"; then
		ok "OpenZFS shows the tree zfuse showed ($(wc -l < "$job/oracle.tsv") lines)"
	else
		bad "OpenZFS shows another tree"; head -20 "$job/oracle.diff"
	fi
fi

# ---- a pool zfuse cannot write (a legacy version) --------------------------
fx=$(unpack legacy)
mkdir -p "$work/legacy"
cp --sparse=always "$fx"/*.img "$work/legacy/"
chmod u+w "$work/legacy"/*.img
if mount_pool "$work/legacy.log" "$work/legacy"/*.img; then
	case ",$(mount_opts)," in *,ro,*) ok "unwritable pool mounted read-only" ;;
	*) bad "unwritable pool: mount options are $(mount_opts)" ;; esac
	grep -q "read-only: pools older than version 5000" "$work/legacy.log" &&
		ok "the reason is given: $(grep -m1 "read-only" "$work/legacy.log")" ||
		bad "no reason given: $(cat "$work/legacy.log")"
	unmount_pool
else
	bad "cannot mount the legacy fixture: $(cat "$work/legacy.log")"
fi
# (a timeout: should it mount after all, it would serve in the foreground)
if timeout 60 "$ZFUSE" mount -f -o rw "$work/legacy"/*.img "$mnt" 2>"$work/legacy-rw.log"; then
	bad "-o rw on an unwritable pool mounted"
else
	grep -q "cannot mount pool legacy read-write: pools older than version 5000" "$work/legacy-rw.log" &&
		ok "-o rw on an unwritable pool fails" || bad "-o rw: $(cat "$work/legacy-rw.log")"
fi
mountpoint -q "$mnt" && "$ZFUSE" unmount "$mnt"

exit $fail
