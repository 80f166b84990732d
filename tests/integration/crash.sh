#!/bin/bash
# crash.sh ZFUSE [ROUNDS] — SIGKILL the daemon at random moments of a
# write-heavy workload. After every kill the pool must pass zdb -bcc, mount
# again, and hold every file whose fsync returned before the kill.
# Then a small pool is filled to ENOSPC and must recover by deleting files.
set -uo pipefail
ZFUSE=$1 ROUNDS=${2:-20}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
command -v zdb >/dev/null || die "zdb is not installed"
[ "$(id -u)" == 0 ] || die "needs root for FUSE mounts"
work=$(mktemp -d "${TMPDIR:-/tmp}/zfuse-crash.XXXXXX")
mnt="$work/mnt"; mkdir -p "$mnt"
cleanup() { mountpoint -q "$mnt" && { "$ZFUSE" unmount "$mnt" || umount -l "$mnt"; }; rm -rf "$work"; }
trap cleanup EXIT
fail=0

mount_pool() {  # mount_pool IMG... : background daemon, pid in $pid
	"$ZFUSE" mount -f "$@" "$mnt" 2>> "$work/daemon.log" &
	pid=$!
	for _ in $(seq 1 100); do mountpoint -q "$mnt" && return 0; sleep 0.1; done
	return 1
}

zdb_clean() {  # zdb_clean DIR POOL LABEL
	if zdb -e -p "$1" -bcc "$2" > "$work/zdb.out" 2>&1 && grep -q "No leaks" "$work/zdb.out" &&
	   ! grep -qi "error" "$work/zdb.out"; then
		return 0
	fi
	echo "not ok: $3: zdb -bcc"; grep -v "^loading" "$work/zdb.out" | head -20
	fail=1
	return 1
}

# The writer: files of random sizes, overwrites, renames and deletes; each
# file whose fsync (file and directory) returned goes into the journal
# outside the pool, with its hash.
cat > "$work/writer.py" <<'EOF'
import hashlib, os, random, sys
root, journal = sys.argv[1], sys.argv[2]
rnd = random.Random(int(sys.argv[3]))
j = open(journal, "a")
os.makedirs(os.path.join(root, "w"), exist_ok=True)
n = 0
while True:
    n += 1
    name = "w/%s-%d" % (sys.argv[3], n)
    data = os.urandom(rnd.choice([100, 5000, 70000, 300000, 2000000]))
    p = os.path.join(root, name)
    with open(p, "wb") as f:
        f.write(data)
        if rnd.random() < 0.5:
            f.flush(); os.fsync(f.fileno())
            dfd = os.open(os.path.dirname(p), os.O_RDONLY); os.fsync(dfd); os.close(dfd)
            j.write("%s %s\n" % (name, hashlib.sha256(data).hexdigest())); j.flush()
    if rnd.random() < 0.2 and n > 3:
        victim = os.path.join(root, "w/%s-%d" % (sys.argv[3], rnd.randint(1, n - 1)))
        try:
            os.rename(victim, victim + ".tmp"); os.rename(victim + ".tmp", victim)
        except FileNotFoundError:
            pass
EOF

"$ZFUSE" create -s 384M crashpool "$work/c0.img" > /dev/null || die "cannot create the pool"
: > "$work/journal"
for round in $(seq 1 "$ROUNDS"); do
	mount_pool "$work/c0.img" || { echo "not ok: round $round: mount"; tail "$work/daemon.log"; fail=1; break; }
	python3 "$work/writer.py" "$mnt" "$work/journal" "$round" 2>/dev/null &
	wpid=$!
	sleep "$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.2f", 0.3 + rand() * 2.7 }')"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	kill "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null
	"$ZFUSE" unmount "$mnt" 2>/dev/null || umount -l "$mnt"
	zdb_clean "$work" crashpool "round $round" || break
	mount_pool "$work/c0.img" || { echo "not ok: round $round: remount"; fail=1; break; }
	missing=0
	while read -r name sum; do
		got=$(sha256sum < "$mnt/$name" 2>/dev/null | cut -d' ' -f1)
		[ "$got" == "$sum" ] || { echo "lost after fsync: $name"; missing=$((missing + 1)); }
	done < "$work/journal"
	"$ZFUSE" unmount "$mnt"; wait "$pid"
	if [ "$missing" == 0 ]; then
		echo "ok: round $round: killed, zdb clean, $(wc -l < "$work/journal") fsynced files intact"
	else
		echo "not ok: round $round: $missing fsynced files lost"; fail=1
	fi
done

# ENOSPC: fill a small pool, then deletes must succeed and free space.
"$ZFUSE" create -s 96M fullpool "$work/f0.img" > /dev/null || die "cannot create the small pool"
mount_pool "$work/f0.img" || die "cannot mount the small pool"
i=0
while head -c 1048576 /dev/urandom > "$mnt/fill$i" 2>/dev/null && [ $i -lt 500 ]; do i=$((i + 1)); done
sync -f "$mnt" 2>/dev/null
if [ $i -lt 500 ] && [ $i -gt 10 ]; then echo "ok: pool full after $i MiB (ENOSPC)"; else echo "not ok: no ENOSPC after $i MiB"; fail=1; fi
rm -f "$mnt"/fill* && echo "ok: deletes succeed on a full pool" || { echo "not ok: cannot delete on a full pool"; fail=1; }
sync -f "$mnt"
sleep 1
if head -c 4194304 /dev/urandom > "$mnt/after" && sync -f "$mnt"; then echo "ok: space is usable again"; else echo "not ok: no space after deleting"; fail=1; fi
"$ZFUSE" unmount "$mnt"; wait "$pid"
zdb_clean "$work" fullpool "full pool" && echo "ok: full pool: zdb -bcc clean"
exit $fail
