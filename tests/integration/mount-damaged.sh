#!/bin/bash
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
for seed in 21 22 23 24 dnodes; do
	cp --sparse=always "$src" "$work/p.img"
	if [ "$seed" == dnodes ]; then
		python3 "$(dirname "$0")/corrupt.py" "$work/p.img" dva $dnode_blocks > /dev/null
	else
		python3 "$(dirname "$0")/corrupt.py" "$work/p.img" random 600 "$seed" > /dev/null
	fi
	"$ZFUSE" mount -f -o ro "$work/p.img" "$mnt" 2> "$work/log" &
	pid=$!
	for _ in $(seq 1 100); do mountpoint -q "$mnt" && break; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
	if ! mountpoint -q "$mnt"; then
		# a damaged MOS may refuse the import: that must be a clear error
		if wait $pid; then echo "not ok: seed $seed: no mount, exit 0"; fail=1
		else echo "ok: seed $seed: import refused: $(tail -1 "$work/log")"; fi
		continue
	fi
	errors=$(timeout 300 "$SHARED/oracle/manifest.sh" "$mnt" 2>&1 >/dev/null | grep -c . )
	if kill -0 $pid 2>/dev/null && mountpoint -q "$mnt" && ls "$mnt" >/dev/null 2>&1; then
		echo "ok: seed $seed: daemon alive after a full walk ($errors error lines)"
	else
		echo "not ok: seed $seed: daemon died"; fail=1
	fi
	"$ZFUSE" unmount "$mnt" || fail=1
	wait $pid || { echo "not ok: seed $seed: daemon exit status $?"; fail=1; }
done
exit $fail
