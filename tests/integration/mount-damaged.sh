#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# mount-damaged.sh ZFUSE — the daemon on damaged images: with random
# damage in its metadata and data, a full walk of the mount (stat,
# readdir, read, readlink, xattrs) gets EIO where blocks are bad, and the
# daemon keeps serving, then unmounts and exits cleanly.
set -uo pipefail
ZFUSE=$1
. "$(dirname "$0")/lib.sh"
src=$(unpack basic)/basic.img
work=$(mktemp -d)
mnt="$work/mnt"
mkdir "$mnt"
trap 'mountpoint -q "$mnt" && umount -l "$mnt"; rm -rf "$work"' EXIT
fail=0
# Every copy of some dnode blocks of the filesystem: many objects unreadable.
dnode_blocks=$("$ZFUSE" inspect --json "$src" object basic 0 -vv 2>/dev/null | python3 -c '
import json, re, sys
def walk(b):
    yield b
    for c in b.get("children", []):
        yield from walk(c)
blocks = [b for top in json.load(sys.stdin)["blocks"] for b in walk(top) if b["level"] == 0]
for b in blocks[3:60:6]:
    print(" ".join(re.findall(r"DVA\[\d\]=<0:([0-9a-f]+):", b["bp"])))')
[ "$(echo $dnode_blocks | wc -w)" -ge 5 ] || die "found no dnode blocks to damage: '$dnode_blocks'"
for seed in 21 22 23 24 dnodes; do
	cp --sparse=always "$src" "$work/p.img"
	if [ "$seed" == dnodes ]; then
		python3 "$(dirname "$0")/corrupt.py" "$work/p.img" dva $dnode_blocks > "$work/corrupt.out"
	else
		python3 "$(dirname "$0")/corrupt.py" "$work/p.img" random 600 "$seed" > "$work/corrupt.out"
	fi || die "corrupt.py failed: $(cat "$work/corrupt.out")"
	cmp -s "$src" "$work/p.img" && die "seed $seed: corrupt.py changed nothing"
	"$ZFUSE" mount -f -o ro "$work/p.img" "$mnt" 2> "$work/log" &
	pid=$!
	for _ in $(seq 1 100); do mountpoint -q "$mnt" && break; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
	if ! mountpoint -q "$mnt"; then
		# a damaged MOS may refuse the import: that must be a clear error
		# (exit status 1, a message), never a crash
		wait $pid; rc=$?
		if [ $rc -eq 1 ] && [ -s "$work/log" ] &&
		   ! grep -qE "AddressSanitizer|runtime error:" "$work/log"; then
			echo "ok: seed $seed: import refused: $(tail -1 "$work/log")"
		else
			echo "not ok: seed $seed: no mount, daemon exit status $rc: $(tail -3 "$work/log")"; fail=1
		fi
		continue
	fi
	timeout 300 "$SHARED/oracle/manifest.sh" "$mnt" 2> "$work/walk.err" > /dev/null
	errors=$(grep -c . "$work/walk.err")
	eio=$(grep -c "Input/output error" "$work/walk.err")
	# every dnode block of some objects is gone: those must answer EIO
	if [ "$seed" == dnodes ] && [ "$eio" -eq 0 ]; then
		echo "not ok: seed $seed: no EIO for objects whose dnode blocks are destroyed"; fail=1
	fi
	if kill -0 $pid 2>/dev/null && mountpoint -q "$mnt" && ls "$mnt" >/dev/null 2>&1; then
		echo "ok: seed $seed: daemon alive after a full walk ($errors error lines, $eio EIO)"
	else
		echo "not ok: seed $seed: daemon died"; fail=1
	fi
	"$ZFUSE" unmount "$mnt" || fail=1
	wait $pid || { echo "not ok: seed $seed: daemon exit status $?"; fail=1; }
done
exit $fail
