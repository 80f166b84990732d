#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# Runs inside the OpenZFS oracle VM (issue 16): pools of the oldest
# versions (1-17) in the layouts recovery users bring — single disks, a
# 3-disk stripe, mirrors, RAID-Z1/2/3, a hot spare, a degraded
# mirror with a stale side, a mirror with one side overwritten — filled,
# exported, then imported read-only (one side of the damaged mirror
# destroyed first) for the manifests zfuse must reproduce.
set -eu
fill() {  # fill DIR N: a small varied tree; N files in one directory
	local d=$1 n=$2
	mkdir -p "$d/sub/deeper" "$d/empty" "$d/many"
	seq 1 5000 > "$d/numbers.txt"
	head -c 70000 /dev/urandom > "$d/random.bin"
	dd if=/dev/urandom of="$d/sparse.bin" bs=4k count=2 seek=300 2>/dev/null
	printf 'hello\n' > "$d/sub/hello.txt"
	ln "$d/sub/hello.txt" "$d/sub/deeper/hardlink.txt"
	ln -s ../numbers.txt "$d/sub/link"
	ln -s "$(printf 'y%.0s' $(seq 1 200))" "$d/sub/longlink"
	mkfifo "$d/fifo"
	mknod "$d/chardev" c 1 7
	for i in $(seq 1 "$n"); do echo "$i" > "$d/many/f$i"; done
	# a name beyond a micro ZAP entry's 50 bytes: the directory goes fat
	echo long > "$d/many/$(printf 'n%.0s' $(seq 1 100))"
	setfattr -n user.small -v hi "$d/sub/hello.txt"
	setfattr -n user.bin -v 0x00ff10 "$d/random.bin"
	chmod 4751 "$d/random.bin"; chown 1234:5678 "$d/numbers.txt"
	touch -d '1999-12-31 23:59:59.123456789' "$d/sub/hello.txt"
}
cd /tmp
mkpool() {  # mkpool NAME VERSION NDISKS "VDEVSPEC with @ for the disks" -O opts...
	local name=$1 ver=$2 n=$3 spec=$4; shift 4
	local disks=()
	for i in $(seq 0 $((n - 1))); do truncate -s 64M "/tmp/$name-$i.img"; disks+=("/tmp/$name-$i.img"); done
	zpool create -f -o version="$ver" "$@" "$name" ${spec/@/${disks[*]}}
}
mkpool one1 1 1 "@"
mkpool st1 1 3 "@" -O compression=on
mkpool rz1 1 3 "raidz1 @"
mkpool mi2 2 3 "mirror @" -O checksum=fletcher2
mkpool rz3 3 4 "raidz2 @" -O checksum=sha256
mkpool rz6 6 3 "raidz1 @" -O compression=gzip
mkpool hs10 10 3 "mirror /tmp/hs10-0.img /tmp/hs10-1.img spare /tmp/hs10-2.img"
mkpool dm15 15 2 "mirror @"
mkpool one15 15 1 "@" -O compression=lzjb -O checksum=fletcher2
mkpool rz17 17 5 "raidz3 @"
pools="one1 st1 rz1 mi2 rz3 rz6 hs10 dm15 one15 rz17"
zfs create one1/fs
zfs create -o checksum=sha256 one15/fs
for p in $pools; do fill "/$p" 20; done
fill /one1/fs 300
fill /one15/fs 5
# A side taken offline before more writes: the pool is degraded, that
# side stale. (A spare cannot be put in for a file vdev by hand: zpool
# refuses it as "reserved as a hot spare", -f or not.)
zpool offline mi2 /tmp/mi2-1.img
seq 1 3000 > /mi2/numbers.txt; echo late > /mi2/sub/late.txt
zfs snapshot -r one15@s1
rm -f /one15/numbers.txt; echo changed > /one15/sub/hello.txt
# The big-endian fixture (SPARC, version 1) taken over by this x86 host,
# upgraded to version 2 and written: blocks it did not rewrite stay
# big-endian, the new ones (and the uberblock) are little-endian, as in a
# pool that moved between machines.
if [ -f /host/be/v1-pool.img ]; then
	cp --sparse=always /host/be/v1-pool.img /tmp/mixed-0.img
	zpool import -d /tmp -f v1-pool mixed
	zpool upgrade -V 2 mixed
	mkdir /mixed/new; echo new > /mixed/new/x; ln -s ../file.5 /mixed/new/link
	rm /mixed/file.1; echo changed > /mixed/file.2; chmod 600 /mixed/file.3
	pools="$pools mixed"
fi
zpool sync
for p in $pools; do zpool get -H -o value version "$p" | sed "s/^/$p version /"; done
for p in $pools; do zpool export -f "$p"; done
# The first side of the damaged mirror loses everything between its
# labels: every read must fall back to the second.
dd if=/dev/urandom of=/tmp/dm15-0.img bs=1M seek=1 count=62 conv=notrunc 2>/dev/null
for p in $pools; do
	zpool import -o readonly=on -d /tmp "$p"
	for ds in $(zfs list -H -o name -r -t filesystem,snapshot "$p"); do
		case $ds in *@*) dir="/${ds%@*}/.zfs/snapshot/${ds#*@}";; *) dir="/$ds";; esac
		/host/manifest.sh "$dir" > "/host/manifest.${ds//\//%}.tsv"
	done
	zpool status "$p" > "/host/status.$p.txt"
	zpool export -f "$p"
done
mkdir -p /host/images
for f in /tmp/*.img; do cp --sparse=always "$f" /host/images/; done
echo done
