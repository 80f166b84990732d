#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# mount-helper.sh ZFUSE — zfuse through mount(8), umount(8) and fstab: the
# helpers (links to the binary, put in /sbin for the test when absent)
# mount a fixture from an fstab line with defaults,ro,nofail and x-systemd
# options, a mirror given as IMAGE,IMAGE, and a pool `zfuse create` made,
# read-write, with `mount -t zfuse`; `umount` unmounts and waits for the
# daemon's final sync (what was written is there at the next mount and zdb
# finds the pool clean); `mount -a` skips noauto lines.
set -uo pipefail
ZFUSE=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require root fuse zdb
work=$(mktemp -d "${TMPDIR:-/tmp}/zfuse-helper.XXXXXX")
links=()
cleanup() {
	for m in "$work"/m*; do mountpoint -q "$m" 2>/dev/null && umount -l "$m"; done
	for l in "${links[@]}"; do rm -f "$l"; done
	rm -rf "$work"
}
trap cleanup EXIT
for h in mount.zfuse mount.fuse.zfuse umount.fuse.zfuse; do
	if [ ! -e "/sbin/$h" ]; then
		ln -s "$ZFUSE" "/sbin/$h" && links+=("/sbin/$h")
	fi
done
fail=0
ok() { echo "ok: $*"; }
bad() { echo "not ok: $*"; fail=1; }
mkdir -p "$work/m1" "$work/m2" "$work/m3"

basic=$(unpack basic)/basic.img
cp --sparse=always "$basic" "$work/basic.img"
mir=$(unpack mirror)
mapfile -t mimgs < <(images "$mir")
cat > "$work/fstab" <<X
# zfuse test fstab
$work/basic.img $work/m1 zfuse defaults,ro,nofail,x-systemd.automount,x-systemd.device-timeout=5 0 0
$(IFS=,; echo "${mimgs[*]}") $work/m2 zfuse ro,noauto 0 0
X

mount -T "$work/fstab" "$work/m1" 2> "$work/err" || bad "mount -T fstab: $(cat "$work/err")"
if mountpoint -q "$work/m1" && awk -v m="$work/m1" '$2 == m && $3 == "fuse.zfuse" && $4 ~ /^ro/ { f = 1 } END { exit !f }' /proc/mounts; then
	ok "fstab line with defaults,ro,nofail,x-systemd.*: mounted read-only as fuse.zfuse"
else
	bad "fstab line: not mounted read-only"
fi
want=$(grep -c . "$SHARED/fixtures/basic/manifest.basic.tsv")
got=$("$SHARED/oracle/manifest.sh" "$work/m1" 2>/dev/null | grep -c .)
[ "$got" == "$want" ] && ok "fstab mount shows the fixture's $want entries" || bad "fstab mount shows $got of $want entries"
umount "$work/m1" 2> "$work/err" && ! mountpoint -q "$work/m1" && ok "umount" || bad "umount: $(cat "$work/err")"

mount -a -T "$work/fstab" -t zfuse 2> "$work/err"
mountpoint -q "$work/m2" && bad "mount -a mounted a noauto line" || ok "mount -a skips noauto"
mountpoint -q "$work/m1" && ok "mount -a mounts the auto line" || bad "mount -a did not mount the auto line: $(cat "$work/err")"
umount "$work/m1"
mount -T "$work/fstab" "$work/m2" 2> "$work/err" || bad "mount of IMAGE,IMAGE: $(cat "$work/err")"
mds=$(manifest_dataset "$(ls "$SHARED/fixtures/mirror"/manifest.*.tsv | head -1)")
if mountpoint -q "$work/m2" && [ "$("$SHARED/oracle/manifest.sh" "$work/m2" 2>/dev/null | grep -c .)" == \
	"$(grep -c . "$(ls "$SHARED/fixtures/mirror"/manifest.*.tsv | head -1)")" ]; then
	ok "a mirror given as IMAGE,IMAGE mounts whole ($mds)"
else
	bad "a mirror given as IMAGE,IMAGE"
fi
umount "$work/m2"

mkdir -p "$work/pool"
"$ZFUSE" create -s 256M helperpool "$work/pool/h.img" > /dev/null || die "zfuse create failed"
mount -t zfuse "$work/pool/h.img" "$work/m3" -o rw 2> "$work/err" || bad "mount -t zfuse -o rw: $(cat "$work/err")"
head -c 30000000 /dev/urandom > "$work/data"
cp "$work/data" "$work/m3/data" || bad "write through mount -t zfuse"
umount "$work/m3" || bad "umount of the read-write mount"
# umount waited for the daemon: the pool is closed and clean right away
if zdb_bcc "$work/pool" helperpool "$work/zdb.out"; then ok "zdb -bcc clean right after umount"
else bad "zdb -bcc after umount"; grep -v "^loading" "$work/zdb.out" | head; fi
mount -t zfuse "$work/pool/h.img" "$work/m3" -o ro || bad "remount"
cmp -s "$work/data" "$work/m3/data" && ok "data written before umount is there" || bad "data lost at umount"
umount "$work/m3"
exit $fail
