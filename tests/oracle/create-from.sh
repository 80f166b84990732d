#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# create-from.sh ZFUSE — `zfuse create --from DIR` reproduces DIR exactly.
#
# A varied DIR is built on a tmpfs mounted noatime (so reading it never
# moves its atimes, and 5000-byte xattrs fit): every file type, sizes from
# empty to 5 MiB, holes in the middle and at the end, 2000 files in one
# directory, a deep tree, hard links, short and 300-byte symlinks, setuid /
# setgid / sticky modes, foreign owners, nanosecond times, xattrs of the
# user, trusted and security namespaces. Then `zfuse create --from DIR`,
# and:
#   1. zdb -bcc finds no leak and no error;
#   2. a read-only zfuse mount shows DIR's manifest (and atimes);
#   3. the OpenZFS oracle imports it, scrubs it with 0 errors, and its
#      manifest equals zfuse's exactly and DIR's as far as nature allows.
# Inode numbers, st_blocks and the size of directories differ between any
# two filesystems by nature: they are left out of comparisons with DIR
# (but not between zfuse and OpenZFS, which must agree on everything).
# Also: an unreadable file is reported with its path, exit status 1, the
# rest is copied and the pool is consistent; a terminal gets a progress bar.
set -uo pipefail
ZFUSE=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
require qemu zdb root fuse	# root: owners, devices, trusted.* xattrs, mounts
MANIFEST="$SHARED/oracle/manifest.sh"
export LC_ALL=C
work=$(mktemp -d "${TMPDIR:-/tmp}/zfuse-cfrom.XXXXXX")
src="$work/src"; mnt="$work/mnt"; mkdir -p "$src" "$mnt" "$work/pool"
cleanup() {
	mountpoint -q "$mnt" && "$ZFUSE" unmount "$mnt"
	mountpoint -q "$src" && umount "$src"
	rm -rf "$work"
}
trap cleanup EXIT
mount -t tmpfs -o size=96M,noatime tmpfs "$src" || die "cannot mount a tmpfs"
fail=0
ok() { echo "ok: $*"; }
notok() { echo "not ok: $*"; fail=1; }

# Manifest lines comparable across filesystems: without inode and blocks,
# and with "-" for a directory's size.
portable() {
	awk -F'\t' -v OFS='\t' '$2 == "@xattr" { print; next }
		{ if ($2 == "d") $6 = "-"; print $1, $2, $3, $4, $5, $6, $7, $8, $11 }' "$@"
}
# The root itself is not in a manifest: mode, owners, mtime, atime.
rootline() {
	find "$1" -maxdepth 0 -printf '%m\t%U\t%G\t%T@\t%A@\n'
	getfattr -h -d -m - -e hex "$1" 2>/dev/null | grep =
}
atimes() { (cd "$1" && find . -mindepth 1 -printf '%P\t%A@\n' | sort); }

mount_ro() {  # mount_ro IMG...: read-only zfuse mount at $mnt, pid in $pid
	"$ZFUSE" mount -f -o ro "$@" "$mnt" 2> "$work/mount.err" &
	pid=$!
	mounted_ready "$pid" "$mnt"
	mountpoint -q "$mnt" || { cat "$work/mount.err"; return 1; }
}
unmount_ro() { "$ZFUSE" unmount "$mnt"; wait "$pid"; }

build_tree() {  # build_tree DIR
	local d=$1 i
	: > "$d/empty"
	printf x > "$d/one-byte"
	head -c 4095 /dev/urandom > "$d/page-minus-one"
	head -c 131073 /dev/urandom > "$d/record-plus-one"
	head -c $((1048576 + 3)) /dev/urandom > "$d/mib-plus-three"
	head -c $((5 << 20)) /dev/urandom > "$d/random-5m"
	head -c 300000 /dev/zero > "$d/zeros"	# data that happens to be zero
	# holes: data, a hole in the middle, data, a hole at the end
	dd if=/dev/urandom of="$d/sparse" bs=64k count=1 status=none
	dd if=/dev/urandom of="$d/sparse" bs=64k count=2 seek=40 conv=notrunc status=none
	truncate -s 7M "$d/sparse"
	truncate -s 64M "$d/all-hole"	# (offsets past 4 GiB: see "a file past 4 GiB")
	mkdir "$d/many"
	for i in $(seq 1 2000); do echo "small file $i" > "$d/many/f$i"; done
	local deep="$d/deep"
	for i in $(seq 1 40); do deep="$deep/l$i"; done
	mkdir -p "$deep" && echo bottom > "$deep/leaf"
	mkdir -p "$d/links/a" "$d/links/b"
	echo "three names" > "$d/links/orig"
	ln "$d/links/orig" "$d/links/a/second"
	ln "$d/links/orig" "$d/links/b/third"
	mkfifo "$d/links/fifo" && ln "$d/links/fifo" "$d/links/fifo-too"
	ln -s orig "$d/links/short"
	ln -s "$(printf 's%.0s' $(seq 1 300))" "$d/links/long300"
	ln -s /nowhere/at/all "$d/links/dangling"
	mkdir "$d/special"
	mkfifo "$d/special/fifo"
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$d/special/socket"
	mknod "$d/special/null-ish" c 1 3
	mknod "$d/special/big-major" c 240 70000
	mknod "$d/special/loop-ish" b 7 0
	echo suid > "$d/special/suid" && chmod 4755 "$d/special/suid"
	echo sgid > "$d/special/sgid-exec" && chmod 2711 "$d/special/sgid-exec"
	echo odd > "$d/special/no-perms" && chmod 000 "$d/special/no-perms"
	mkdir "$d/sticky" && chmod 1777 "$d/sticky" && echo t > "$d/sticky/t"
	mkdir "$d/setgid-dir" && chown 0:4321 "$d/setgid-dir" && chmod 2775 "$d/setgid-dir"
	# entries whose group differs from the setgid directory's, and a
	# subdirectory without S_ISGID: the copy must not inherit
	echo g > "$d/setgid-dir/other-group" && chown 1000:1000 "$d/setgid-dir/other-group"
	mkdir "$d/setgid-dir/plain-sub" && chmod 0750 "$d/setgid-dir/plain-sub"
	chown 1234:5678 "$d/one-byte" "$d/many/f7"
	chown 65534:65534 "$d/sticky/t" "$d/special/socket"
	chown -h 4000:4001 "$d/links/short"
	chown 2000000000:2000000001 "$d/special/fifo"
	chmod 0600 "$d/random-5m"; chmod 0444 "$d/zeros"; chmod 0705 "$d/deep"
	setfattr -n user.small -v hi "$d/one-byte"
	setfattr -n user.big -v "$(head -c 5000 /dev/zero | tr '\0' b)" "$d/random-5m"
	setfattr -n user.empty "$d/empty"
	setfattr -n trusted.tag -v 0x00ff00ff "$d/sparse"
	setfattr -n security.label -v sec "$d/links/orig"
	setfattr -n user.on-dir -v d "$d/many"
	setfattr -n trusted.on-link -v l -h "$d/links/short"
	setfattr -n user.on-fifo -v f "$d/special/fifo"
	setfattr -n user.on-root -v r "$d"
	for i in 1 2 3 4 5 6 7 8; do setfattr -n "user.n$i" -v "$i$i$i" "$d/many/f1"; done
	# times last, innermost first: creating entries moved the directories'
	touch -h -d '1999-12-31 23:59:59.123456789' "$d/links/short"
	touch -d '2001-02-03 04:05:06.000000001' "$d/one-byte"
	touch -m -d '2010-10-10 10:10:10.999999999' "$d/sparse"
	touch -a -d '1980-01-02 03:04:05.5' "$d/sparse"
	touch -d '1970-01-01 00:00:00' "$d/empty"
	touch -d '2038-01-19 03:14:08.25' "$d/zeros"		# past 32-bit time_t
	touch -d '1960-05-06 07:08:09.7' "$d/special/suid"	# before the epoch
	touch -d '2005-05-05 05:05:05.050505050' "$d/deep/l1/l2/l3"
	touch -d '2006-06-06 06:06:06.060606060' "$d/links/a" "$d/links"
	touch -d '2007-07-07 07:07:07.7' "$d/many" "$d/deep"
	touch -d '2008-08-08 08:08:08.8' "$d"
}

build_tree "$src" 2> "$work/build.err" || { cat "$work/build.err"; die "cannot build the source tree"; }
"$MANIFEST" "$src" > "$work/src.tsv"
rootline "$src" > "$work/src.root"
atimes "$src" > "$work/src.atimes"
echo "# source: $(grep -vc $'\t@xattr\t' "$work/src.tsv") entries, $(grep -c $'\t@xattr\t' "$work/src.tsv") xattrs"

# ---- the copy --------------------------------------------------------------
img="$work/pool/d0.img"
start=$(date +%s%N)
"$ZFUSE" create -s 256M --from "$src" fpool "$img" > "$work/create.out" 2> "$work/create.err"
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ $rc -eq 0 ] && [ ! -s "$work/create.out" ]; then
	ok "create --from exits 0 in ${ms} ms: $(cat "$work/create.err")"
else
	notok "create --from (exit $rc)"; head -20 "$work/create.err" "$work/create.out"
fi
grep -q '^zfuse create: copied [0-9]* files, .* from ' "$work/create.err" && [ "$(wc -l < "$work/create.err")" -eq 1 ] &&
	! grep -q $'\r' "$work/create.err" ||
	notok "without a terminal, stderr is one plain summary line"

# ---- 1. zdb --------------------------------------------------------------------
if zdb -e -p "$work/pool" -bcc fpool > "$work/zdb" 2>&1 &&
   grep -q "No leaks" "$work/zdb" && ! grep -qi "error" "$work/zdb"; then
	ok "zdb -bcc clean"
else
	notok "zdb -bcc"; grep -v "^loading" "$work/zdb" | head -20
fi

# ---- 2. zfuse reads the tree back ------------------------------------------
if mount_ro "$img"; then
	"$MANIFEST" "$mnt" > "$work/zfuse.tsv"
	rootline "$mnt" > "$work/zfuse.root"
	atimes "$mnt" > "$work/zfuse.atimes"
	unmount_ro
	if diff <(portable "$work/src.tsv") <(portable "$work/zfuse.tsv") > "$work/zfuse.diff"; then
		ok "zfuse mount shows DIR's manifest ($(wc -l < "$work/src.tsv") lines)"
	else
		notok "zfuse mount differs from DIR"; head -20 "$work/zfuse.diff"
	fi
	diff "$work/src.root" "$work/zfuse.root" && ok "root directory: mode, owners, mtime, atime" ||
		notok "root directory differs"
	diff "$work/src.atimes" "$work/zfuse.atimes" > "$work/atimes.diff" && ok "atimes equal" ||
		{ notok "atimes differ"; head "$work/atimes.diff"; }
	# holes stay holes: 7 MiB sparse with 192 KiB of data, 64 MiB of nothing
	blocks_of() { awk -F'\t' -v p="$1" '$1 == p { print $10 }' "$work/zfuse.tsv"; }
	if [ "$(blocks_of sparse)" -lt 2048 ] && [ "$(blocks_of all-hole)" -le 1 ]; then
		ok "holes stay holes (sparse: $(blocks_of sparse) blocks, all-hole: $(blocks_of all-hole))"
	else
		notok "holes were written: sparse $(blocks_of sparse), all-hole $(blocks_of all-hole) blocks"
	fi
else
	notok "zfuse mount -o ro"
fi

# ---- 3. the oracle ---------------------------------------------------------
mkdir -p "$work/job"
mv "$img" "$work/job/"
cp "$MANIFEST" "$work/job/manifest.sh"
cat > "$work/job/job.sh" <<'EOF'
#!/bin/bash
if zpool import -d /host -f fpool; then
  zpool scrub -w fpool
  zpool status -v fpool > /host/status
  /host/manifest.sh /fpool > /host/oracle.tsv
  { find /fpool -maxdepth 0 -printf '%m\t%U\t%G\t%T@\n'
    getfattr -h -d -m - -e hex /fpool 2>/dev/null | grep =; } > /host/oracle.root
  zpool export -f fpool || zpool export -f fpool
else
  echo "import failed" > /host/status
fi
EOF
chmod +x "$work/job/job.sh"
OZVM_TIMEOUT=900 "$ORACLE_RUN" "$work/job" > "$work/oracle.out" 2>&1 ||
	{ tail -30 "$work/oracle.out"; notok "oracle job"; }
if grep -q "scrub repaired 0B" "$work/job/status" 2>/dev/null &&
   grep -q "with 0 errors" "$work/job/status" && grep -q "No known data errors" "$work/job/status"; then
	ok "OpenZFS imports it and scrubs 0 errors"
else
	notok "OpenZFS import/scrub"; head -20 "$work/job/status" 2>/dev/null
fi
if [ -s "$work/job/oracle.tsv" ] && diff <(portable "$work/src.tsv") <(portable "$work/job/oracle.tsv") > "$work/oracle.diff"; then
	ok "OpenZFS's manifest of the pool equals DIR's"
else
	notok "OpenZFS's manifest differs from DIR"; head -20 "$work/oracle.diff"
fi
if [ -s "$work/job/oracle.tsv" ] && diff -q "$work/zfuse.tsv" "$work/job/oracle.tsv" >/dev/null 2>&1; then
	ok "OpenZFS and zfuse agree on every column (inodes, blocks, sizes)"
else
	notok "OpenZFS's manifest differs from zfuse's"; diff "$work/zfuse.tsv" "$work/job/oracle.tsv" | head
fi
awk -F'\t' -v OFS='\t' 'NR == 1 { print $1, $2, $3, $4; next } { print }' "$work/src.root" |
	diff -q - "$work/job/oracle.root" >/dev/null 2>&1 &&
	ok "OpenZFS: root directory attributes" || notok "OpenZFS: root directory differs"

# ---- errors: unreadable entries --------------------------------------------
# As an unprivileged user, root's mode-000 file and directory cannot be read.
e="$work/err"; mkdir -p "$e/src/closed-dir" "$e/pool"
echo fine > "$e/src/readable"; echo secret > "$e/src/unreadable"; echo in > "$e/src/closed-dir/x"
echo also > "$e/src/z-after"
chmod 000 "$e/src/unreadable" "$e/src/closed-dir"
chmod 755 "$work" "$e" "$e/src"; chown 65534:65534 "$e/pool"
setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$ZFUSE" create -s 128M --from "$e/src" epool "$e/pool/d0.img" > /dev/null 2> "$e/create.err"
rc=$?
if [ $rc -eq 1 ] && grep -q "$e/src/unreadable: cannot open: Permission denied" "$e/create.err" &&
   grep -q "$e/src/closed-dir: cannot open directory: Permission denied" "$e/create.err" &&
   grep -q "; 2 errors$" "$e/create.err"; then
	ok "unreadable entries are reported with their paths; exit 1"
else
	notok "unreadable entries (exit $rc)"; cat "$e/create.err"
fi
if zdb -e -p "$e/pool" -bcc epool > "$e/zdb" 2>&1 && grep -q "No leaks" "$e/zdb" && ! grep -qi "error" "$e/zdb"; then
	ok "after errors: zdb -bcc clean"
else
	notok "after errors: zdb -bcc"; grep -v "^loading" "$e/zdb" | head
fi
if mount_ro "$e/pool/d0.img"; then
	got=$(cd "$mnt" && ls | tr '\n' ' ')
	unmount_ro
	[ "$got" == "readable z-after " ] && ok "after errors: the rest was copied ($got)" ||
		notok "after errors: pool holds '$got'"
else
	notok "after errors: mount"
fi

# ---- a file past 4 GiB -------------------------------------------------------
# Apart from the tree the oracle reads: its manifest would hash every byte of
# the holes, a minute of the emulated CPU for each few GiB.
b="$work/big"; mkdir -p "$b/src"
head -c 8192 /dev/urandom > "$work/big.data"
dd if="$work/big.data" of="$b/src/past-4g" bs=4096 count=1 status=none
dd if="$work/big.data" of="$b/src/past-4g" bs=8192 oflag=seek_bytes seek=$(((4 << 30) + (1 << 20) - 100)) \
	conv=notrunc status=none
truncate -s $(((5 << 30) + 3)) "$b/src/past-4g"
big_at() {  # big_at FILE: the 4 KiB at 0 and the 8 KiB across the record past 4 GiB
	dd if="$1" bs=4096 count=1 status=none
	dd if="$1" bs=8192 count=1 iflag=skip_bytes skip=$(((4 << 30) + (1 << 20) - 100)) status=none
}
if "$ZFUSE" create -s 64M --from "$b/src" bpool "$b/d0.img" > /dev/null 2> "$b/create.err" && mount_ro "$b/d0.img"; then
	size=$(stat -c %s "$mnt/past-4g"); blocks=$(stat -c %b "$mnt/past-4g")
	if [ "$size" -eq $(((5 << 30) + 3)) ] && [ "$blocks" -lt 4096 ] &&
	   cmp -s <(big_at "$b/src/past-4g") <(big_at "$mnt/past-4g"); then
		ok "a file past 4 GiB: size, data at both ends, holes stay holes ($blocks blocks)"
	else
		notok "a file past 4 GiB: size $size, $blocks blocks, or its data differ"
	fi
	unmount_ro
	zdb -e -p "$b" -bcc bpool > "$b/zdb" 2>&1 && grep -q "No leaks" "$b/zdb" && ! grep -qi "error" "$b/zdb" ||
		{ notok "a file past 4 GiB: zdb -bcc"; grep -v "^loading" "$b/zdb" | head; }
else
	notok "a file past 4 GiB: create or mount"; cat "$b/create.err"
fi

# ---- a terminal gets a progress bar -----------------------------------------
t="$work/tty"; mkdir -p "$t/src/d"; for i in $(seq 1 50); do echo $i > "$t/src/d/$i"; done
script -qec "$ZFUSE create -s 64M --from $t/src tpool $t/d0.img" /dev/null > "$t/out" 2>&1
if grep -q $'\r' "$t/out" && grep -q "100%" "$t/out" && grep -q "51 / 51 files" "$t/out"; then
	ok "progress bar on a terminal"
else
	notok "progress bar"; cat -A "$t/out" | head -5
fi
exit $fail
