#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# old-pools.sh ZFUSE WALK — issue 16: pools of the oldest versions made now
# by the real OpenZFS 2.3.2 in one VM job (old-pools-job.sh: versions 1, 2,
# 3, 6, 10, 15, 17; single disks, a 3-disk stripe, mirrors, RAID-Z1/2/3, a
# hot spare, a degraded mirror, a mirror with one side overwritten,
# the big-endian fixture continued on x86 so that its blocks are of both
# byte orders) and read back by zfuse:
# every dataset and snapshot identical to OpenZFS's read-only import
# (library walk and FUSE mount), `zfuse inspect verify` clean, zdb's block
# counts equal to zfuse's; a pool rewritten to version 999 is refused with
# the reason, as OpenZFS refuses it; the stripe read from labels without
# vdev_children, as its contemporaries wrote them. The VM job is cached in the build
# directory.
set -uo pipefail
ZFUSE=$1 WALK=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
out=${ZFUSE_TEST_CACHE:-/tmp}/old-pools
if [ ! -f "$out/images/mixed-0.img" ]; then
	command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is not installed"
	rm -rf "$out"; mkdir -p "$out"
	cp "$here/old-pools-job.sh" "$out/job.sh"; cp "$SHARED/oracle/manifest.sh" "$out/"
	mkdir -p "$out/be"
	zstd -q -d --sparse "$SHARED/fixtures/bigendian/v1-pool.img.zst" -o "$out/be/v1-pool.img" ||
		die "cannot unpack the bigendian fixture"
	oracle "$out" || exit 1
fi
pools=$(ls "$out"/images/*.img | sed 's|.*/||; s|-[0-9]*\.img$||' | sort -u)
fail=0
imgs_of() { ls "$out"/images/"$1"-*.img; }

# Library: every dataset and snapshot on its own.
for m in "$out"/manifest.*.tsv; do
	ds=$(manifest_dataset "$m"); pool=${ds%%[/@]*}
	mapfile -t imgs < <(imgs_of "$pool")
	skip=()
	if [[ "$ds" != *@* ]]; then mapfile -t skip < <("$WALK" --children "$ds" "${imgs[@]}"); fi
	want=$(filter_skipped "${skip[@]}" < "$m")
	got=$("$WALK" "$ds" "${imgs[@]}" 2>&1 | filter_skipped "${skip[@]}")
	if [ "$want" == "$got" ]; then echo "ok: walk $ds ($(wc -l <<<"$want") lines)"
	else echo "not ok: walk $ds"; diff <(echo "$want") <(echo "$got") | head -10; fail=1; fi
done

# FUSE: each pool's root mount with its children in their own mounts.
mnt=$(mktemp -d)
for pool in $pools; do
	"$ZFUSE" mount -f -o ro $(imgs_of "$pool") "$mnt" 2>"$mnt.err" &
	pid=$!
	mounted_ready "$pid" "$mnt"	# child datasets mounted too
	if "$SHARED/oracle/manifest.sh" "$mnt" | diff -q - "$out/manifest.$pool.tsv" >/dev/null; then
		echo "ok: mount $pool"
	else
		echo "not ok: mount $pool"; cat "$mnt.err"
		"$SHARED/oracle/manifest.sh" "$mnt" | diff - "$out/manifest.$pool.tsv" | head; fail=1
	fi
	"$ZFUSE" unmount "$mnt" || fail=1
	wait "$pid" || fail=1
done
rmdir "$mnt"; rm -f "$mnt.err"

# verify, and zdb's block totals (zdb reads the exported images in place).
for pool in $pools; do
	"$ZFUSE" inspect $(imgs_of "$pool") verify > "$out/verify.$pool" 2>&1
	rc=$?
	ours=$(awk '$1 == "blocks:" { print $2 }' "$out/verify.$pool")
	# dm15's first side is noise: every block is repaired from the second.
	dev_errors=$(awk '$1 == "checksum_errors:" && prev ~ /path:/ { print $2 } { prev = $0 }' "$out/verify.$pool" | tr '\n' ' ')
	if [ "$pool" == dm15 ]; then
		if grep -q '^unrecoverable: 0$' "$out/verify.$pool" && [[ "$dev_errors" =~ ^[1-9][0-9]*\ 0\ $ ]]; then
			echo "ok: verify dm15: the overwritten side alone has checksum errors ($dev_errors), all repairable"
		else
			echo "not ok: verify dm15: device errors '$dev_errors'"; head -30 "$out/verify.$pool"; fail=1
		fi
	elif [ $rc -eq 0 ]; then
		echo "ok: verify $pool: $ours blocks, $(grep -E '^(checksum_errors|space_leaked):' "$out/verify.$pool" | tr '\n' ' ')"
	else
		echo "not ok: verify $pool"; head -30 "$out/verify.$pool"; fail=1; continue
	fi
	if command -v zdb >/dev/null; then
		theirs=$(zdb -e -p "$out/images" -b "$pool" 2>/dev/null | awk '/bp count:/ { print $3 }')
		if [ "$ours" == "$theirs" ]; then echo "ok: zdb $pool: $theirs blocks"
		else echo "not ok: zdb $pool: zdb counts ${theirs:-nothing}, zfuse $ours"; fail=1; fi
	fi
done

# A version no release ever had: refused with the reason, by both.
v999=$(mktemp -d)
cp --sparse=always "$out/images/one1-0.img" "$v999/v999.img"
python3 "$here/label-edit.py" "$v999/v999.img" version 999 || die "cannot make the version-999 pool"
if "$ZFUSE" list -d "$v999/v999.img" > "$v999/out" 2>&1; then
	echo "not ok: a version-999 pool was imported"; fail=1
elif grep -q "unsupported ZFS version (999" "$v999/out"; then
	echo "ok: version 999 refused: $(head -1 "$v999/out")"
else
	echo "not ok: version 999: unclear error: $(cat "$v999/out")"; fail=1
fi
if command -v zdb >/dev/null && zdb -e -p "$v999" -b one1 >/dev/null 2>&1; then
	echo "not ok: zdb imports the version-999 pool: the test pool is not what it claims"; fail=1
fi
rm -rf "$v999"

# The version-1 stripe as pools of that age have it: labels that do not
# say how many top-level vdevs there are (each names only its own).
old=$(mktemp -d)
for f in $(imgs_of st1); do
	cp --sparse=always "$f" "$old/"
	python3 "$here/label-edit.py" "$old/${f##*/}" hide vdev_children || die "cannot edit $f"
done
got=$("$WALK" st1 "$old"/*.img 2>&1)
if [ "$got" == "$(cat "$out/manifest.st1.tsv")" ]; then
	echo "ok: st1 without vdev_children in its labels"
else
	echo "not ok: st1 without vdev_children"; diff <(echo "$got") "$out/manifest.st1.tsv" | head; fail=1
fi
rm -rf "$old"

# The degraded mirror with its first side's labels gone as well (a broken
# device, as OpenZFS's zfs-broken-mirror test pool has): one good side of
# three, the second stale.
old=$(mktemp -d)
cp --sparse=always $(imgs_of mi2) "$old/"
size=$(stat -c %s "$old/mi2-0.img")
for off in 0 262144 $((size - 524288)) $((size - 262144)); do
	dd if=/dev/zero of="$old/mi2-0.img" bs=64k count=4 seek=$((off / 65536)) conv=notrunc status=none
done
got=$("$WALK" mi2 "$old"/*.img 2>&1)
if [ "$got" == "$(cat "$out/manifest.mi2.tsv")" ]; then
	echo "ok: mi2 with one side's labels wiped and one side stale"
else
	echo "not ok: mi2 broken"; diff <(echo "$got") "$out/manifest.mi2.tsv" | head; fail=1
fi
rm -rf "$old"
exit $fail
