#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# crash.sh ZFUSE [ROUNDS] — SIGKILL the daemon at random moments of a
# write-heavy workload (new files, overwrites, renames, deletes; see
# crash_writer.py). Each round checks that the mount is read-write, that the
# writer is alive and has made progress when the daemon is killed, and that
# the writer failed only with the dead connection; after the kill the pool
# must pass zdb -bcc, mount again, hold every file whose fsync returned and
# keep every fsynced delete. Then a small pool is filled until ENOSPC (that
# errno and no other) and must recover by deleting files.
# ZFUSE_CRASH_SEED replays the kill times and workloads of a run.
set -uo pipefail
ZFUSE=$1 ROUNDS=${2:-20}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require zdb root fuse
work=$(mktemp -d "${TMPDIR:-/tmp}/zfuse-crash.XXXXXX")
mnt="$work/mnt"; mkdir -p "$mnt"
pid=
cleanup() {
	mountpoint -q "$mnt" && { "$ZFUSE" unmount "$mnt" || umount -l "$mnt"; }
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
fail=0
writer=$here/crash_writer.py

mount_pool() {  # mount_pool IMG: background daemon, pid in $pid
	mount_bg "$ZFUSE" "$work/daemon.log" "$mnt" "$@"; local rc=$?
	pid=$mount_pid
	return $rc
}

zdb_clean() {  # zdb_clean DIR POOL LABEL
	zdb_bcc "$1" "$2" "$work/zdb.out" && return 0
	echo "not ok: $3: zdb -bcc"; grep -v "^loading" "$work/zdb.out" | head -20
	fail=1
	return 1
}

journal_lines() { wc -l < "$work/journal"; }

seed=${ZFUSE_CRASH_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$((seed % 32768))
echo "seed $seed (ZFUSE_CRASH_SEED=$seed replays the kill times and workloads)"
"$ZFUSE" create -s 384M crashpool "$work/c0.img" > /dev/null || die "cannot create the pool"
: > "$work/journal"
for round in $(seq 1 "$ROUNDS"); do
	mount_pool "$work/c0.img" || { echo "not ok: round $round: mount"; tail "$work/daemon.log"; fail=1; break; }
	if ! awk -v m="$mnt" '$2 == m && $4 ~ /^rw/ { ok = 1 } END { exit !ok }' /proc/mounts ||
	   ! : > "$mnt/.rw-probe" || ! rm "$mnt/.rw-probe"; then
		echo "not ok: round $round: the mount is not read-write"; tail "$work/daemon.log"; fail=1; break
	fi
	before=$(journal_lines)
	python3 "$writer" write "$mnt" "$work/journal" "$((seed + round))" 2> "$work/writer.err" &
	wpid=$!
	delay=$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.2f", 0.3 + rand() * 2.7 }')
	sleep "$delay"
	# Under load the first fsync may take longer than the delay: wait (at
	# most 20 s more) until the writer has fsynced something this round.
	for _ in $(seq 1 100); do
		tail -n +"$((before + 1))" "$work/journal" | grep -q "^put" && break
		kill -0 "$wpid" 2>/dev/null || break
		sleep 0.2
	done
	if ! kill -0 "$wpid" 2>/dev/null; then
		wait "$wpid"; echo "not ok: round $round: the writer stopped before the kill (status $?)"
		cat "$work/writer.err"; fail=1
		kill -KILL "$pid"; wait "$pid" 2>/dev/null; pid=
		"$ZFUSE" unmount "$mnt" 2>/dev/null || umount -l "$mnt"
		break
	fi
	progress=$(( $(journal_lines) - before ))
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null; pid=
	wait "$wpid"; wrc=$?
	if [ $wrc -ne 0 ]; then
		echo "not ok: round $round: the writer failed (status $wrc)"; cat "$work/writer.err"; fail=1
	fi
	# The writer forgives EIO once the mount is gone; the daemon must not
	# have failed any write itself before the kill.
	if grep -q "cached write to object" "$work/daemon.log"; then
		echo "not ok: round $round: the daemon failed a write"; grep "cached write" "$work/daemon.log"; fail=1
	fi
	"$ZFUSE" unmount "$mnt" 2>/dev/null || umount -l "$mnt"
	zdb_clean "$work" crashpool "round $round" || break
	mount_pool "$work/c0.img" || { echo "not ok: round $round: remount"; fail=1; break; }
	if out=$(python3 "$writer" check "$mnt" "$work/journal"); then
		echo "ok: round $round: killed after ${delay}s and $progress journal records, zdb clean, $out"
	else
		echo "not ok: round $round (killed after ${delay}s): $out"; fail=1
	fi
	"$ZFUSE" unmount "$mnt"; wait "$pid"; pid=
	[ "$progress" -gt 0 ] || { echo "not ok: round $round: the writer made no progress"; fail=1; }
done

# ENOSPC: fill a small pool (the error must be ENOSPC, nothing else), then
# deletes must succeed and, once the frees are synced (fsync syncs the txg;
# sync(1) never reaches a FUSE daemon), the space must be usable again.
"$ZFUSE" create -s 96M fullpool "$work/f0.img" > /dev/null || die "cannot create the small pool"
mount_pool "$work/f0.img" || die "cannot mount the small pool"
python3 - "$mnt" <<'EOF' || fail=1
import errno, os, sys
mnt = sys.argv[1]
for i in range(500):
    try:
        with open(os.path.join(mnt, "fill%d" % i), "wb") as f:
            f.write(os.urandom(1 << 20))
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        if e.errno != errno.ENOSPC:
            print("not ok: filling failed with %s, not ENOSPC" % e)
            sys.exit(1)
        if i < 10:
            print("not ok: ENOSPC after only %d MiB" % i)
            sys.exit(1)
        print("ok: pool full after %d MiB (ENOSPC)" % i)
        sys.exit(0)
print("not ok: no ENOSPC after 500 MiB")
sys.exit(1)
EOF
rm -f "$mnt"/fill* && echo "ok: deletes succeed on a full pool" || { echo "not ok: cannot delete on a full pool"; fail=1; }
if python3 - "$mnt" <<'EOF'
import os, sys
mnt = sys.argv[1]
# frees are deferred two txgs: three synced txgs make them allocatable
for i in range(3):
    fd = os.open(os.path.join(mnt, "tick"), os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b"x")
    os.fsync(fd)
    os.close(fd)
with open(os.path.join(mnt, "after"), "wb") as f:
    f.write(os.urandom(4 << 20))
    f.flush()
    os.fsync(f.fileno())
EOF
then echo "ok: space is usable again"; else echo "not ok: no space after deleting"; fail=1; fi
"$ZFUSE" unmount "$mnt"; wait "$pid"; pid=
zdb_clean "$work" fullpool "full pool" && echo "ok: full pool: zdb -bcc clean"
exit $fail
