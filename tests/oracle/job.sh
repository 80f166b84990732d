#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# Runs inside the OpenZFS oracle VM: makes pools that the fixtures do not
# cover (other RAID-Z widths, ashifts, recordsizes, codecs and checksums),
# fills them, records manifests, exports them to /host.
set -eu
fill() {  # fill DIR: a small but varied tree
	local d=$1
	mkdir -p "$d/sub/deeper" "$d/empty"
	seq 1 40000 > "$d/numbers.txt"
	head -c 700000 /dev/urandom > "$d/random.bin"
	head -c 300000 /dev/zero > "$d/zeros.bin"
	dd if=/dev/urandom of="$d/sparse.bin" bs=4k count=3 seek=5000 2>/dev/null
	printf 'hello\n' > "$d/sub/hello.txt"
	ln "$d/sub/hello.txt" "$d/sub/deeper/hardlink.txt"
	ln -s ../numbers.txt "$d/sub/link"
	ln -s "$(printf 'x%.0s' $(seq 1 300))" "$d/sub/longlink"
	mkfifo "$d/fifo"
	mknod "$d/chardev" c 1 7
	for i in $(seq 1 300); do echo "$i" > "$d/sub/deeper/f$i"; done
	setfattr -n user.small -v hi "$d/sub/hello.txt"
	setfattr -n user.big -v "$(head -c 5000 /dev/zero | tr '\0' y)" "$d/numbers.txt"
	chmod 4751 "$d/random.bin"; chown 1234:5678 "$d/zeros.bin"
	touch -d '1999-12-31 23:59:59.123456789' "$d/sub/hello.txt"
}
cd /tmp
mkpool() {  # mkpool NAME NDISKS SIZE_MB "VDEVSPEC-with-@" zpool-opts... -- zfs-opts...
	local name=$1 n=$2 size=$3 spec=$4; shift 4
	local disks=()
	for i in $(seq 0 $((n - 1))); do truncate -s "${size}M" "/tmp/$name-$i.img"; disks+=("/tmp/$name-$i.img"); done
	local popts=() fopts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do popts+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	fopts=("$@")
	zpool create -f "${popts[@]}" "${fopts[@]}" "$name" ${spec/@/${disks[*]}}
}
mkpool rzw 6 96 "raidz2 @" -o ashift=9 -- -O recordsize=32k -O compression=gzip-5 -O checksum=sha512
zfs create -o compression=zstd-7 -o checksum=blake3 -o dnodesize=2k rzw/child
mkpool mir 3 96 "mirror @" -o ashift=13 -- -O compression=lzjb -O checksum=skein -O recordsize=8k -O xattr=dir
mkpool str 2 96 "@" -o ashift=12 -- -O copies=2 -O compression=zle -O checksum=edonr -O recordsize=1M
mkpool rz3 7 96 "raidz3 @" -o ashift=12 -- -O compression=lz4 -O recordsize=64k
# A disk image with a GPT (made on the host): the pool lives in partition 1.
zpool create -f -O compression=gzip-2 -O checksum=sha256 gpt /dev/vda1
for p in rzw rzw/child mir str rz3 gpt; do fill "/$p"; done
zfs snapshot -r rzw@snap
rm -f /rzw/numbers.txt; echo changed > /rzw/sub/hello.txt
zpool sync
for p in rzw rzw/child rzw@snap mir str rz3 gpt; do
	case $p in *@*) dir="/${p%@*}/.zfs/snapshot/${p#*@}";; *) dir="/$p";; esac
	/host/manifest.sh "$dir" > "/host/manifest.${p//\//%}.tsv"
done
for p in rzw mir str rz3 gpt; do zpool export "$p"; done
mkdir -p /host/images && cp --sparse=always /tmp/*.img /host/images/
echo done
