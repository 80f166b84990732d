#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# volume-fuse.sh ZFUSE — volumes made by `zfuse create -V` and written
# through `zfuse mount -o dataset=POOL/VOL` (a regular file): dd at
# unaligned offsets, writes past the end refused, mkfs.ext4 and e2fsck on
# the file, losetup + mount of it (root), `-o volumes`, `-o ro`, a
# snapshot's file, volsize shrink and growth; every step judged by zfuse inspect cat against a model and by
# zdb -bcc.
set -uo pipefail
ZFUSE=$1
. "$(dirname "$0")/lib.sh"
require fuse zdb
scratch_mount volume
fail=0
img=$work/vp.img
M=$((1 << 20))
mkdir -p "$mnt"
"$ZFUSE" create -s 128M vp "$img" > /dev/null || die "zfuse create vp"
"$ZFUSE" create -d "$img" -V 32M vp/vol || die "zfuse create -V"
"$ZFUSE" create -d "$img" -s -b 8K -V 8M vp/svol || die "zfuse create -s -b -V"
"$ZFUSE" create -d "$img" vp/fs && "$ZFUSE" create -d "$img" -V 4M vp/fs/inner ||
	die "a volume below a filesystem"
"$ZFUSE" create -d "$img" -V 4M vp/vol/x 2>/dev/null && notok "a dataset below a volume was made"

# the model: what the volume must hold
python3 -c 'import os, sys; open(sys.argv[1], "wb").write(os.urandom(5 << 20))' "$work/d1"
truncate -s 32M "$work/model"
dd if="$work/d1" of="$work/model" bs=1M seek=$((M + 3)) oflag=seek_bytes conv=notrunc status=none

"$ZFUSE" mount -o dataset=vp/vol "$img" "$mnt" || die "mount -o dataset=vp/vol"
[ "$(stat -c '%F %s' "$mnt/vol")" == "regular file $((32 * M))" ] &&
	ok "the volume is a 32 MiB regular file" || notok "stat: $(stat -c '%F %s' "$mnt/vol")"
dd if="$work/d1" of="$mnt/vol" bs=1M seek=$((M + 3)) oflag=seek_bytes conv=notrunc,fsync status=none &&
	ok "dd wrote 5 MiB at an unaligned offset" || notok "dd into the volume"
cmp -s "$mnt/vol" "$work/model" && ok "the file reads back as written" || notok "read back differs"
dd if=/dev/zero of="$mnt/vol" bs=4k seek=$((8 * 1024)) count=1 conv=notrunc status=none 2>/dev/null &&
	notok "a write past the end succeeded" || ok "a write past the end is refused"
truncate -s 16M "$mnt/vol" 2>/dev/null && notok "truncate changed a volume" || ok "truncate is refused"
if command -v mkfs.ext4 >/dev/null && command -v e2fsck >/dev/null; then
	mkfs.ext4 -q -F "$mnt/vol" && e2fsck -fn "$mnt/vol" > "$work/fsck" 2>&1 &&
		ok "mkfs.ext4 and e2fsck -fn on the volume" || { cat "$work/fsck"; notok "mkfs/e2fsck"; }
	cp "$mnt/vol" "$work/model"
	if [ "$(id -u)" -eq 0 ] && lo=$(losetup -f --show "$mnt/vol" 2>/dev/null); then
		mkdir -p "$work/ext"
		if mount "$lo" "$work/ext"; then
			cp "$work/d1" "$work/ext/d1" && sync && umount "$work/ext" &&
				ok "losetup + mount of the volume, a file written in it" ||
				notok "writing through the loop device"
		else
			notok "mount of $lo"
		fi
		losetup -d "$lo"
		cp "$mnt/vol" "$work/model"
	else
		skip_stage "losetup (needs root and a loop device)" || fail=1
	fi
else
	skip_stage "mkfs.ext4/e2fsck not installed" || fail=1
fi
"$ZFUSE" unmount "$mnt" || notok "unmount"
"$ZFUSE" inspect "$img" cat vp/vol > "$work/got" && cmp -s "$work/got" "$work/model" &&
	ok "after unmount the pool holds what was written" || notok "contents after unmount"
zdb_bcc "$work" vp "$work/zdb.out" && ok "zdb -bcc: no leaks" || { tail "$work/zdb.out"; notok "zdb -bcc"; }

"$ZFUSE" mount -o volumes "$img" "$mnt" || die "mount -o volumes"
got=$(cd "$mnt" && find . -printf '%p %s %y\n' | LC_ALL=C sort | tr '\n' ';')
want=". 0 d;./fs 0 d;./fs/inner $((4 * M)) f;./svol $((8 * M)) f;./vol $((32 * M)) f;"
[ "$got" == "$want" ] && ok "-o volumes shows every volume at its path" || notok "-o volumes: $got"
"$ZFUSE" unmount "$mnt"
"$ZFUSE" mount -o ro,dataset=vp/svol "$img" "$mnt" || die "mount -o ro"
echo x 2>/dev/null > "$mnt/svol" && notok "a read-only mount took a write" || ok "-o ro refuses writes"
"$ZFUSE" unmount "$mnt"

# a snapshot of a volume: a read-only file holding the snapshot's bytes
"$ZFUSE" snapshot -d "$img" vp/vol@s1 || notok "snapshot vp/vol@s1"
"$ZFUSE" mount -o dataset=vp/vol@s1 "$img" "$mnt" || die "mount -o dataset=vp/vol@s1"
cmp -s "$mnt/vol@s1" "$work/model" && ok "the snapshot's file holds the volume as it was" ||
	notok "vol@s1 contents"
echo x 2>/dev/null > "$mnt/vol@s1" && notok "a snapshot took a write" || ok "a snapshot is read-only"
"$ZFUSE" unmount "$mnt"
"$ZFUSE" destroy -d "$img" vp/vol@s1 || notok "destroy vp/vol@s1"

# volsize: shrinking frees the end; the content before it stays
"$ZFUSE" set -d "$img" volsize=16M vp/vol || notok "set volsize=16M"
"$ZFUSE" inspect "$img" cat vp/vol > "$work/got"
head -c $((16 * M)) "$work/model" | cmp -s - "$work/got" && [ "$(stat -c %s "$work/got")" -eq $((16 * M)) ] &&
	ok "volsize=16M: the first 16 MiB are kept" || notok "after the shrink"
"$ZFUSE" set -d "$img" volsize=24M vp/vol || notok "set volsize=24M"
"$ZFUSE" inspect "$img" cat vp/vol > "$work/got"
{ head -c $((16 * M)) "$work/model"; head -c $((8 * M)) /dev/zero; } | cmp -s - "$work/got" &&
	ok "volsize=24M: the grown part reads as zeros" || notok "after the growth"
"$ZFUSE" set -d "$img" volsize=1000000 vp/vol 2>/dev/null && notok "volsize not a multiple of 16K taken"
zdb_bcc "$work" vp "$work/zdb.out" && ok "zdb -bcc after volsize changes" ||
	{ tail "$work/zdb.out"; notok "zdb -bcc after volsize changes"; }
exit $fail
