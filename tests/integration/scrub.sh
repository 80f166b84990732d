#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# scrub.sh ZFUSE — `zfuse status`, `scrub` and `clear` on mounted pools
# (through the daemon's control socket) and on images (-d):
#   1. scrubs while a writer creates, overwrites, fsyncs and deletes files
#      (freed space must not be reused under the scrub): no false errors,
#      zdb -bcc clean;
#   2. a RAID-Z1 pool with one child overwritten by random bytes: every file
#      still reads back; the scrub finds the bad columns (parity included)
#      on that child only, writes them again, a second scrub finds none,
#      zdb -bcc finds no checksum error; status --json parses;
#   3. a block destroyed on both sides of a mirror: the read fails with EIO,
#      `status -v` names the file, --json has its path, `clear` forgets it;
#   4. an offline scrub (-d) mends a mirror side; bad usage gives clear
#      errors and exit status.
set -uo pipefail
ZFUSE=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require root fuse zdb
scratch_mount scrub
mkdir -p "$mnt"
fail=0

# json EXPR: evaluate EXPR on the `status --json-int` document on stdin:
# p is its pool, vdevs its vdev tree flattened depth first
json() {
	python3 -c "
import json, sys
d = json.load(sys.stdin)
p = list(d['pools'].values())[0]
def flat(t):
    for v in t.values():
        yield v
        yield from flat(v.get('vdevs', {}))
vdevs = list(flat(p['vdevs']))
print($1)"
}

mount_images() { mount_bg "$ZFUSE" "$work/daemon.log" "$mnt" "$@" || die "mount $*"; }
unmount_images() { "$ZFUSE" unmount "$mnt" && wait "$mount_pid"; mount_pid=; }

# randomize FILE: random bytes over the data area (labels kept)
randomize() {
	python3 - "$1" <<'EOF'
import os, sys
size = os.path.getsize(sys.argv[1])
with open(sys.argv[1], "r+b") as f:
    for off in range(4 << 20, size - (1 << 20), 1 << 20):
        f.seek(off)
        f.write(os.urandom(min(1 << 20, size - (512 << 10) - off)))
EOF
}

# --- 1. scrubs of a pool in use -------------------------------------------
mkdir -p "$work/live"
"$ZFUSE" create -s 128M live mirror "$work/live/a.img" "$work/live/b.img" > /dev/null || die "create live"
mount_images "$work/live/a.img" "$work/live/b.img"
# Two writers: each sync puts new bps in the tree before it writes their
# blocks, and a scrub must never read one in between (txg_enter_synced).
writers=
for k in 1 2; do
python3 - "$mnt" "$k" <<'EOF' &
import os, random, sys, time
root, k = sys.argv[1], sys.argv[2]
rnd = random.Random(7 + int(k))
end = time.time() + 12
i = 0
while time.time() < end:
    p = os.path.join(root, "f%s_%d" % (k, i % 40))
    with open(p, "wb") as f:
        f.write(os.urandom(rnd.randint(1, 200000)))
        if i % 3 == 0:
            f.flush()
            os.fsync(f.fileno())
    if i % 5 == 4:
        try:
            os.unlink(os.path.join(root, "f%s_%d" % (k, rnd.randint(0, 39))))
        except FileNotFoundError:
            pass
    i += 1
EOF
writers="$writers $!"
done
scrubs=0 bad=0
while kill -0 $writers 2>/dev/null; do
	out=$("$ZFUSE" scrub -w live 2>&1) || { bad=1; echo "$out"; }
	case $out in *"with 0 errors"*) ;; *) bad=1; echo "$out" ;; esac
	st=$("$ZFUSE" status --json-int "$mnt") || bad=1
	[ "$(echo "$st" | json 'p["scan_stats"]["errors"]')" = 0 ] || { bad=1; echo "$st"; }
	scrubs=$((scrubs + 1))
done
for w in $writers; do wait "$w" || notok "writer during scrubs failed"; done
[ "$(echo "$st" | json 'p["state"], p["writable"], p["txg"] > 4' | tr -d "(),'")" = "ONLINE True True" ] ||
	notok "status --json of a written pool: $st"
[ $bad = 0 ] && [ $scrubs -ge 3 ] && ok "$scrubs scrubs during writes, fsyncs and deletes: no errors" ||
	notok "scrubs during writes ($scrubs runs)"
unmount_images
zdb_bcc "$work/live" live "$work/zdb.out" && ok "after live scrubs: zdb -bcc clean" ||
	{ notok "zdb after live scrubs"; tail "$work/zdb.out"; }

# --- 2. RAID-Z1 with one child destroyed ------------------------------------
mkdir -p "$work/rz"
rz=("$work/rz/r0.img" "$work/rz/r1.img" "$work/rz/r2.img")
"$ZFUSE" create -s 96M rz raidz1 "${rz[@]}" > /dev/null || die "create rz"
mount_images "${rz[@]}"
for i in $(seq 1 12); do head -c $((i * 150000)) /dev/urandom > "$mnt/file$i"; done
mkdir "$mnt/dir" && for i in $(seq 1 300); do echo "$i" > "$mnt/dir/e$i"; done
(cd "$mnt" && find . -type f -exec sha256sum {} + | sort) > "$work/rz.sums"
unmount_images
randomize "${rz[1]}"
mount_images "${rz[@]}"
(cd "$mnt" && find . -type f -exec sha256sum {} + | sort) | cmp -s - "$work/rz.sums" &&
	ok "RAID-Z1 with a random child: every file reads back" || notok "RAID-Z1 reads with a random child"
"$ZFUSE" scrub -w rz > "$work/scrub1.out" 2>&1 || notok "scrub of rz: $(cat "$work/scrub1.out")"
st=$("$ZFUSE" status --json-int rz)
read -r repaired unrec c0 c1 c2 < <(echo "$st" | json '" ".join(str(x) for x in [p["scan_stats"]["repaired"], p["scan_stats"]["unrecoverable"]] + [v["checksum_errors"] for v in vdevs if v["vdev_type"] == "file"])')
if [ "$repaired" -gt 0 ] && [ "$unrec" = 0 ] && [ "$c0" = 0 ] && [ "$c2" = 0 ] && [ "$c1" -gt 0 ]; then
	ok "scrub mended $repaired copies, all on the random child ($c1 checksum errors there, none elsewhere)"
else
	notok "scrub of the random child: repaired=$repaired unrecoverable=$unrec cksum=$c0/$c1/$c2"; cat "$work/scrub1.out"
fi
"$ZFUSE" status rz | grep -q "errors: No known data errors" && ok "status: no data errors" ||
	{ notok "status text"; "$ZFUSE" status rz; }
"$ZFUSE" clear "$mnt" && [ "$("$ZFUSE" status --json-int rz | json 'sum(v["checksum_errors"] for v in vdevs)')" = 0 ] &&
	ok "clear zeroes the device counts" || notok "clear"
"$ZFUSE" scrub -w rz | grep -q "repaired 0 copies .* with 0 errors" && ok "a second scrub finds nothing" ||
	notok "second scrub of rz: $("$ZFUSE" status rz)"
unmount_images
zdb_bcc "$work/rz" rz "$work/zdb.out" && ok "mended RAID-Z1: zdb -bcc clean" ||
	{ notok "zdb after the RAID-Z1 repair"; grep -iE "error|leak" "$work/zdb.out" | head; }

# --- 3. a block with no good copy -------------------------------------------
mkdir -p "$work/mp"
mp=("$work/mp/a.img" "$work/mp/b.img")
"$ZFUSE" create -s 96M -O compression=off mp mirror "${mp[@]}" > /dev/null || die "create mp"
mount_images "${mp[@]}"
mkdir "$mnt/sub" && head -c 300000 /dev/urandom > "$mnt/sub/victim" && echo fine > "$mnt/other"
unmount_images
off=$("$ZFUSE" inspect -vvv "${mp[@]}" object mp /sub/victim 2>/dev/null |
	sed -n 's/.*DVA\[0\]=<0:\([0-9a-f]*\):[0-9a-f]*> \[L0.*/\1/p' | head -1)
[ -n "$off" ] || die "no L0 block of /sub/victim"
for img in "${mp[@]}"; do
	dd if=/dev/urandom of="$img" bs=512 seek=$(( (0x400000 + 0x$off) / 512 )) count=8 conv=notrunc status=none
done
mount_images "${mp[@]}"
if cat "$mnt/sub/victim" > /dev/null 2> "$work/cat.err"; then
	notok "a block destroyed on both mirror sides was read without error"
else
	grep -q "Input/output error" "$work/cat.err" && ok "reading the destroyed block: EIO" ||
		notok "read error: $(cat "$work/cat.err")"
fi
[ "$(cat "$mnt/other")" = fine ] || notok "the other file"
"$ZFUSE" status -v mp > "$work/status.txt"
grep -q "mp:/sub/victim" "$work/status.txt" && ok "status -v names mp:/sub/victim" ||
	{ notok "status -v"; cat "$work/status.txt"; }
[ "$("$ZFUSE" status --json-int mp | json 'p["errors"][0]["path"], p["error_count"]' | tr -d "(),'")" = "/sub/victim 1" ] &&
	ok "status --json lists the path" || notok "status --json errors: $("$ZFUSE" status -j mp)"
"$ZFUSE" scrub -w mp | grep -q "with 1 errors" && ok "scrub: 1 block without a good copy" ||
	notok "scrub of the destroyed block: $("$ZFUSE" status mp)"
"$ZFUSE" clear mp && "$ZFUSE" status mp | grep -q "No known data errors" && ok "clear forgets data errors" ||
	notok "clear of data errors"
# Who may: any user may look, only the owner or root may scrub.
if id nobody > /dev/null 2>&1; then
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$ZFUSE" status mp > /dev/null &&
		ok "another user may run status" || notok "status as nobody"
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$ZFUSE" scrub mp 2> "$work/perm.err" &&
		notok "nobody started a scrub" ||
		{ grep -q "permission denied" "$work/perm.err" && ok "another user may not scrub" ||
			notok "scrub as nobody: $(cat "$work/perm.err")"; }
fi
unmount_images

# --- 4. images, and bad usage ------------------------------------------------
randomize "${mp[1]}"
"$ZFUSE" scrub -w -d "$work/mp" mp > "$work/off.out" 2>&1 && grep -q "with 1 errors" "$work/off.out" &&
	ok "offline scrub (-d): $(head -1 "$work/off.out" | sed 's/ on .*//')" ||
	{ notok "offline scrub"; cat "$work/off.out"; }
"$ZFUSE" scrub -w -d "$work/mp" mp | grep -q "repaired 0 copies" && ok "offline scrub mended the side" ||
	notok "second offline scrub"
"$ZFUSE" status -d "$work/mp" mp | grep -q "^ write: read-only" && ok "offline status: read-only import" ||
	notok "offline status"
"$ZFUSE" status nosuchpool > /dev/null 2>&1; [ $? = 2 ] && ok "status of an unknown pool: usage error" ||
	notok "status of an unknown pool"
"$ZFUSE" scrub -q -d "$work/mp" mp > /dev/null 2> "$work/err"; [ $? = 2 ] && grep -q "invalid option" "$work/err" &&
	ok "scrub -q: invalid option" || notok "scrub -q"
mount_images "${mp[@]}"
"$ZFUSE" scrub -s mp 2> "$work/err"; [ $? = 1 ] && grep -q "there is no active scrub" "$work/err" &&
	ok "scrub -s without a scrub: refused" || notok "scrub -s: $(cat "$work/err")"
unmount_images
exit $fail
