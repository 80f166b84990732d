#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# write-roundtrip.sh ZFUSE — pools written by zfuse, judged by OpenZFS.
#
# For each vdev layout (single, stripe of 2, mirror, raidz1 and raidz3 (raidz2's parity is raidz3's first two columns)) with a mix
# of properties, `zfuse create` makes a pool, a POSIX workload runs through
# a read-write mount, and the pool is unmounted. Then:
#   0. the mount shows the tree the same workload leaves on the local disk
#      (the expected tree; times the workload sets included);
#   1. zfuse mounts it again and shows the same manifest;
#   2. zdb -bcc finds no leak and no checksum error;
#   3. the OpenZFS oracle imports it, scrubs it (0 errors) and lists the
#      same manifest, statfs, zfs list used/referenced and zfs userspace; then writes into it (new files, a delete, a
#      snapshot) and exports it;
#   4. zfuse reads the oracle's result exactly, and zdb -bcc is clean again.
set -uo pipefail
ZFUSE=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
require qemu zdb root fuse
MANIFEST="$SHARED/oracle/manifest.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/zfuse-wrt.XXXXXX")
mnt="$work/mnt"; mkdir -p "$mnt"
trap 'mountpoint -q "$mnt" && "$ZFUSE" unmount "$mnt"; rm -rf "$work"' EXIT
fail=0
ok() { echo "ok: $*"; }
notok() { echo "not ok: $*"; fail=1; }

# name|vdev spec (@N = N image files)|create options|environment of the
# read-write mount (wgang forces gang blocks for every block of 16K or more)
configs=(
	"wsingle|@1|-O compression=off -O checksum=fletcher4 -O recordsize=4K"
	"wstripe|@2|-O compression=lz4 -O checksum=sha256 -O recordsize=128K"
	"wmirror|mirror @2|-O compression=zstd -O checksum=blake3 -O recordsize=1M"
	"wraidz1|raidz1 @3|-O compression=zstd-9 -O checksum=sha512 -O copies=2 -O dnodesize=auto -O xattr=sa"
	"wraidz3|raidz3 @5|-o ashift=9 -O compression=lz4 -O checksum=skein -O xattr=dir"
	"wgang|raidz1 @3|-O copies=2 -O compression=gzip|ZFUSE_FORCE_GANGING=16384"
)

# The workload's bytes, made once: the local reference run and every pool
# get the same ones.
head -c $((3 << 20)) /dev/urandom > "$work/big.src"
head -c 131072 /dev/urandom > "$work/sparse.src"
head -c 100000 /dev/urandom > "$work/overwrite.src"

# workload DIR: every kind of change the issue lists; the first failing
# step fails it (a subshell with set -e)
workload() (
	set -e
	d=$1
	cp "$work/big.src" "$d/big.bin"
	dd if="$work/sparse.src" of="$d/sparse.bin" bs=64k count=2 seek=300 status=none
	truncate -s 12M "$d/holes.bin"
	seq 1 60000 > "$d/numbers.txt"
	mkdir -p "$d/many"
	for i in $(seq 1 400); do echo "file $i" > "$d/many/f$i"; done
	deep="$d/deep"
	for i in $(seq 1 25); do deep="$deep/level$i"; done
	mkdir -p "$deep" && echo bottom > "$deep/leaf.txt"
	mkdir -p "$d/dir/sub"
	echo one > "$d/dir/a"; echo two > "$d/dir/b"; echo three > "$d/dir/sub/c"
	mv "$d/dir/a" "$d/dir/a-renamed"
	mv "$d/dir/b" "$d/dir/a-renamed"	# over an existing target
	mv "$d/dir/sub" "$d/moved-sub"
	ln "$d/numbers.txt" "$d/dir/hardlink"
	ln -s ../numbers.txt "$d/dir/symlink"
	ln -s "$(printf 'y%.0s' $(seq 1 400))" "$d/dir/longlink"
	mkfifo "$d/fifo"; mknod "$d/chardev" c 1 7
	setfattr -n user.small -v hello "$d/numbers.txt"
	# the local disk (ext4) keeps no value this big: only the pools get it
	[ "$d" = "$work/ref" ] || setfattr -n user.big -v "$(head -c 6000 /dev/zero | tr '\0' z)" "$d/dir/a-renamed"
	setfattr -n user.gone -v x "$d/fifo" && setfattr -x user.gone "$d/fifo"
	for i in $(seq 1 400 3); do rm "$d/many/f$i"; done
	dd if=/dev/zero of="$d/big.bin" bs=4k count=10 seek=100 conv=notrunc status=none
	dd if="$work/overwrite.src" of="$d/numbers.txt" bs=4k seek=3 conv=notrunc status=none
	truncate -s 1000000 "$d/big.bin"
	truncate -s 3M "$d/sparse.bin"
	chmod 4750 "$d/dir/a-renamed"; chown 1234:5678 "$d/moved-sub/c"
	rm -r "$d/many/f2" "$d/dir/hardlink"
	# times set last, on a directory, a file and a symlink
	touch -d '2001-02-03 04:05:06.123456789' "$d/deep"
	touch -m -d @1234567890.5 "$d/holes.bin"
	touch -h -m -d @1111111111 "$d/dir/symlink"
)
# entries whose mtime the workload sets: equal everywhere
SET_TIMES="deep holes.bin dir/symlink"

# The expected tree: the same workload on the local disk.
mkdir -p "$work/ref"
workload "$work/ref" 2> "$work/ref.err" && ok "the workload on the local disk" ||
	{ notok "the workload on the local disk"; cat "$work/ref.err"; }
"$MANIFEST" "$work/ref" > "$work/ref.tsv"

imgs=()
images_of() { ls "$work/$1"/*.img | LC_ALL=C sort; }

for c in "${configs[@]}"; do
	IFS='|' read -r name spec opts envs <<<"$c"
	mkdir -p "$work/$name"
	n=${spec##*@}
	files=(); for i in $(seq 0 $((n - 1))); do files+=("$work/$name/d$i.img"); done
	vdevs=${spec%@*}
	# shellcheck disable=SC2086
	if ! "$ZFUSE" create -s 160M $opts "$name" $vdevs "${files[@]}" > "$work/$name.create" 2>&1; then
		notok "create $name"; cat "$work/$name.create"; continue
	fi
	# shellcheck disable=SC2086
	env $envs "$ZFUSE" mount -f "${files[@]}" "$mnt" 2> "$work/$name.mount.err" &
	pid=$!
	mounted_ready "$pid" "$mnt"
	if ! touch "$mnt/.probe" 2>/dev/null; then
		notok "mount $name read-write"; cat "$work/$name.mount.err"; "$ZFUSE" unmount "$mnt"; wait $pid; continue
	fi
	rm "$mnt/.probe"
	workload "$mnt" 2> "$work/$name.workload.err" || { notok "workload $name"; cat "$work/$name.workload.err"; }
	[ "$(getfattr --only-values -n user.big "$mnt/dir/a-renamed" 2>/dev/null | tr -d z | wc -c)" = 0 ] &&
		[ "$(getfattr --only-values -n user.big "$mnt/dir/a-renamed" 2>/dev/null | wc -c)" = 6000 ] &&
		ok "$name: the 6000-byte xattr" || notok "$name: the 6000-byte xattr"
	# st_blocks counts synced space only (as in OpenZFS): sync the pool
	# (fsync of a directory waits for the txg) and let cached attributes
	# (1 s on read-write mounts) expire.
	python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd)' "$mnt"
	sleep 1.5
	"$MANIFEST" "$mnt" > "$work/$name.zfuse.tsv"
	if diff <(portable_manifest "$work/ref.tsv" user.big) <(portable_manifest "$work/$name.zfuse.tsv" user.big) > "$work/$name.ref.diff"; then
		ok "$name: the mount shows the local run's tree"
	else
		notok "$name: the mount differs from the local run"; head -20 "$work/$name.ref.diff"
	fi
	"$ZFUSE" unmount "$mnt" || notok "unmount $name"
	wait $pid || notok "daemon of $name exited with an error"
	"$ZFUSE" mount -f -o ro "${files[@]}" "$mnt" 2>/dev/null &
	pid=$!
	mounted_ready "$pid" "$mnt"
	df -B1 --output=size,used,avail "$mnt" | tail -1 | awk '{ print $1, $2, $3 }' > "$work/$name.zfuse.df"
	if "$MANIFEST" "$mnt" | diff -q - "$work/$name.zfuse.tsv" >/dev/null; then
		ok "$name: remount shows the written tree ($(wc -l < "$work/$name.zfuse.tsv") lines)"
	else
		notok "$name: remount differs"; "$MANIFEST" "$mnt" | diff "$work/$name.zfuse.tsv" - | head
	fi
	"$ZFUSE" unmount "$mnt"; wait $pid
	"$ZFUSE" list -Hp -o used,referenced -d "$work/$name" "$name" > "$work/$name.zfuse.zfslist" 2>&1
	"$ZFUSE" userspace -Hpn -o type,name,used -d "$work/$name" "$name" > "$work/$name.zfuse.userspace" 2>&1
	if zdb -e -p "$work/$name" -bcc "$name" > "$work/$name.zdb" 2>&1 &&
	   grep -q "No leaks" "$work/$name.zdb" && ! grep -qi "error" "$work/$name.zdb"; then
		ok "$name: zdb -bcc clean"
	else
		notok "$name: zdb -bcc"; grep -v "^loading" "$work/$name.zdb" | head -20
	fi
done

# One oracle job for all pools: import, scrub, manifest, write, export.
cp "$MANIFEST" "$work/manifest.sh"
{
	echo '#!/bin/bash'
	for c in "${configs[@]}"; do
		name=${c%%|*}
		cat <<EOF
# statfs as OpenZFS computes it, before anything changes the pool
if zpool import -o readonly=on -d /host/$name -f $name; then
  df -B1 --output=size,used,avail /$name | tail -1 | awk '{ print \$1, \$2, \$3 }' > /host/$name.oracle.df
  zfs list -Hp -o used,referenced $name > /host/$name.zfslist
  zfs userspace -Hpn -o type,name,used $name > /host/$name.userspace
  zpool export $name
fi
if zpool import -d /host/$name -f $name; then
  zpool scrub -w $name
  zpool status -v $name > /host/$name.status
  /host/manifest.sh /$name > /host/$name.oracle.tsv
  echo "written by OpenZFS" > /$name/oracle-new.txt
  head -c 300000 /dev/urandom > /$name/oracle-random.bin
  rm -f /$name/numbers.txt
  zfs snapshot $name@oracle
  echo after-snapshot > /$name/oracle-after-snap.txt
  zpool sync $name
  /host/manifest.sh /$name > /host/$name.oracle-after.tsv
  zpool export -f $name || zpool export -f $name
else
  echo "import of $name failed" > /host/$name.status
fi
EOF
	done
} > "$work/job.sh"
chmod +x "$work/job.sh"
OZVM_TIMEOUT=1200 "$ORACLE_RUN" "$work" > "$work/oracle.out" 2>&1 || { tail -30 "$work/oracle.out"; notok "oracle job"; }

for c in "${configs[@]}"; do
	IFS="|" read -r name spec opts envs <<<"$c"
	[ -f "$work/$name.zfuse.tsv" ] || continue
	if grep -q "scrub repaired 0B" "$work/$name.status" 2>/dev/null &&
	   grep -q "with 0 errors" "$work/$name.status" && grep -q "No known data errors" "$work/$name.status"; then
		ok "$name: OpenZFS imports it and scrubs 0 errors"
	else
		notok "$name: OpenZFS import/scrub"; cat "$work/$name.status" 2>/dev/null | head -20
	fi
	# Available space must be equal; size and used (whole recordsize blocks
	# of referenced + available bytes) may differ by one block, from the
	# sub-block remainder of the available bytes (see the closing note).
	read -r zs zu za < "$work/$name.zfuse.df"
	read -r os ou oa < "$work/$name.oracle.df" 2>/dev/null || os=
	rs=$(awk -v r="${opts##*recordsize=}" 'BEGIN { n = r + 0; u = substr(r, length(n "") + 1, 1);
		if (u == "K") n *= 1024; else if (u == "M") n *= 1048576; else n = 131072; print n }')
	if [ -n "$os" ] && [ "$za" == "$oa" ] && [ $(( zs > os ? zs - os : os - zs )) -le "$rs" ]; then
		ok "$name: statfs matches OpenZFS's (available $za bytes; size $zs vs $os)"
	else
		notok "$name: statfs differs: zfuse $zs $zu $za, OpenZFS ${os:-?} ${ou:-} ${oa:-}"
	fi
	for f in zfslist userspace; do
		if [ -s "$work/$name.$f" ] && cmp -s "$work/$name.zfuse.$f" "$work/$name.$f"; then
			ok "$name: zfuse's $f figures are OpenZFS's ($(tr '\n\t' '  ' < "$work/$name.$f"))"
		else
			notok "$name: $f: zfuse $(tr '\n\t' '  ' < "$work/$name.zfuse.$f"), OpenZFS $(tr '\n\t' '  ' < "$work/$name.$f" 2>/dev/null)"
		fi
	done
	if diff -q "$work/$name.zfuse.tsv" "$work/$name.oracle.tsv" >/dev/null 2>&1; then
		ok "$name: OpenZFS shows the tree zfuse wrote"
	else
		notok "$name: OpenZFS's manifest differs"; diff "$work/$name.zfuse.tsv" "$work/$name.oracle.tsv" | head
	fi
	mapfile -t files < <(images_of "$name")
	"$ZFUSE" mount -f -o ro "${files[@]}" "$mnt" 2>/dev/null &
	pid=$!
	mounted_ready "$pid" "$mnt"
	if "$MANIFEST" "$mnt" | diff -q - "$work/$name.oracle-after.tsv" >/dev/null 2>&1; then
		ok "$name: zfuse reads what OpenZFS wrote into it"
	else
		notok "$name: zfuse differs from OpenZFS after its writes"
		"$MANIFEST" "$mnt" | diff "$work/$name.oracle-after.tsv" - | head
	fi
	"$ZFUSE" unmount "$mnt"; wait $pid
	if zdb -e -p "$work/$name" -bcc "$name" > "$work/$name.zdb2" 2>&1 && grep -q "No leaks" "$work/$name.zdb2"; then
		ok "$name: zdb -bcc clean after OpenZFS's writes"
	else
		notok "$name: zdb -bcc after OpenZFS's writes"; grep -v "^loading" "$work/$name.zdb2" | head
	fi
done
exit $fail
