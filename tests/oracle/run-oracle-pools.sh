#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# run-oracle-pools.sh ZFUSE WALK — pools made now by the real OpenZFS 2.3.2
# (../shared/oracle), not fixtures: RAID-Z2 of 6 (ashift 9, gzip-5, sha512,
# 32K records), a child with zstd-7/blake3/2K dnodes, a snapshot, a 3-way
# mirror (ashift 13, lzjb, skein, xattr=dir), a 2-disk stripe with copies=2
# (zle, edon-r, 1M records), RAID-Z3 of 7, and a whole-disk pool (GPT). zfuse must show each dataset
# exactly as OpenZFS did (library walk and FUSE mount) and verify every pool
# clean. The VM job is cached in the build directory.
set -uo pipefail
ZFUSE=$1 WALK=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
out=${ZFUSE_TEST_CACHE:-/tmp}/oracle-pools
if [ ! -f "$out/images/rzw-0.img" ]; then
	command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is not installed"
	rm -rf "$out"; mkdir -p "$out"
	cp "$here/job.sh" "$out/job.sh"; cp "$SHARED/oracle/manifest.sh" "$out/"
	chmod +x "$out/job.sh"
	truncate -s 160M "$out/gpt-disk.raw"
	# GPT with one ZFS partition (the type OpenZFS uses) starting at 1 MiB
	printf 'label: gpt\nstart=2048, type=6A898CC3-1DD2-11B2-99A6-080020736631\n' |
		sfdisk -q "$out/gpt-disk.raw" || die "cannot partition the GPT disk image"
	OZVM_TIMEOUT=900 "$ORACLE_RUN" "$out" "$out/gpt-disk.raw" > "$out/run.out" 2>&1 || { tail -20 "$out/run.out"; die "oracle job failed"; }
fi
fail=0
imgs_of() { if [ "$1" == gpt ]; then echo "$out/gpt-disk.raw"; else ls "$out"/images/"$1"-*.img; fi; }
for m in "$out"/manifest.*.tsv; do
	ds=$(manifest_dataset "$m"); pool=${ds%%[/@]*}
	mapfile -t imgs < <(imgs_of "$pool")
	skip=()
	if [[ "$ds" != *@* ]]; then mapfile -t skip < <("$WALK" --children "$ds" "${imgs[@]}"); fi
	want=$(filter_skipped "${skip[@]}" < "$m")
	got=$("$WALK" "$ds" "${imgs[@]}" | filter_skipped "${skip[@]}")
	if [ "$want" == "$got" ]; then echo "ok: walk $ds ($(wc -l <<<"$want") lines)"
	else echo "not ok: walk $ds"; diff <(echo "$want") <(echo "$got") | head -10; fail=1; fi
done
# Through FUSE: each pool's root mount, children in their own mounts.
mnt=$(mktemp -d)
for pool in rzw mir str rz3 gpt; do
	"$ZFUSE" mount -f -o ro $(imgs_of "$pool") "$mnt" 2>"$mnt.err" &
	pid=$!
	mounted_ready "$pid" "$mnt"	# child datasets mounted too
	if "$SHARED/oracle/manifest.sh" "$mnt" | diff -q - "$out/manifest.$pool.tsv" >/dev/null; then
		echo "ok: mount $pool"
	else
		echo "not ok: mount $pool"; "$SHARED/oracle/manifest.sh" "$mnt" | diff - "$out/manifest.$pool.tsv" | head; fail=1
	fi
	"$ZFUSE" unmount "$mnt" || fail=1
	wait "$pid" || fail=1
done
rmdir "$mnt"; rm -f "$mnt.err"
for pool in rzw mir str rz3 gpt; do
	if "$ZFUSE" inspect $(imgs_of "$pool") verify > "$out/verify.$pool" 2>&1; then
		echo "ok: verify $pool: $(grep -E '^(blocks|space_leaked):' "$out/verify.$pool" | tr '\n' ' ')"
	else echo "not ok: verify $pool"; head -20 "$out/verify.$pool"; fail=1; fi
done
# Devices found by scanning a directory, the pool chosen by name.
if "$ZFUSE" inspect --pool rz3 "$out/images" verify > "$out/verify.dir" 2>&1; then
	echo "ok: pool rz3 imported from the images directory, verify clean"
else
	echo "not ok: import from a directory"; head "$out/verify.dir"; fail=1
fi
if "$ZFUSE" inspect "$out/images" pool > /dev/null 2> "$out/several.err"; then
	echo "not ok: several pools in a directory imported without a choice"; fail=1
elif grep -q "several pools" "$out/several.err"; then
	echo "ok: several pools in a directory: $(head -1 "$out/several.err")"
else
	echo "not ok: several pools: unclear error: $(cat "$out/several.err")"; fail=1
fi
exit $fail
