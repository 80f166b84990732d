#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# concurrent.sh ZFUSE [SECONDS] — writers, fsyncs, readers and pool syncs at
# once on a read-write mount of a pool `zfuse create` makes: 8 writer
# processes, each in its own directory, run random seeded operations
# (create, unaligned overwrites of 1 byte .. 1 MiB, appends, truncates,
# hole punches, renames, unlinks, fsync/fdatasync, read-backs, readdirs,
# bursts past the dirty-data limit) against an exact model, and 2 readers
# read their files, for SECONDS (ZFUSE_CONCURRENT_SECS, default 60); see
# concurrent.py. Asserts: no call fails or takes over 30 s (the watchdog
# aborts the connection), every read-back and readdir matches the model at
# that moment, every file matches it (size, contents through the page cache
# and O_DIRECT) at the end and again after unmount and remount, the daemon
# exits 0, and zdb -bcc finds no leak and no error after each unmount.
# ZFUSE_CONCURRENT_SEED replays a run's per-worker operation sequences.
# Runs as root (FUSE). Skipped (exit 77; a failure in CI) without FUSE,
# root or zdb.
set -euo pipefail
ZFUSE=$1
SECS=${2:-${ZFUSE_CONCURRENT_SECS:-60}}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require root fuse zdb
scratch_mount concurrent
mkdir -p "$mnt" "$work/pool" "$work/state"
fail=0
seed=${ZFUSE_CONCURRENT_SEED:-$((RANDOM * 32768 + RANDOM))}
echo "seed $seed (ZFUSE_CONCURRENT_SEED=$seed replays the workers' operations)"

"$ZFUSE" create -s 1G concpool "$work/pool/conc.img" > "$work/create.log" 2>&1 ||
	die "zfuse create: $(cat "$work/create.log")"

# The bursts are sized for a 256 MiB dirty limit (the default grows with
# the machine's memory): pin it so they pass the limit everywhere.
mount_pool() {  # mount_pool STAGE
	ZFUSE_DIRTY_DATA_MAX=${ZFUSE_DIRTY_DATA_MAX:-268435456} mount_bg "$ZFUSE" "$work/daemon.log" "$mnt" -o rw "$work/pool/conc.img" ||
		die "$1: mount failed: $(tail -5 "$work/daemon.log")"
}

# unmount_pool STAGE: unmount, the daemon must exit 0, then zdb -bcc
unmount_pool() {
	local rc=0
	"$ZFUSE" unmount "$mnt" || { echo "not ok: $1: unmount"; fail=1; umount -l "$mnt"; }
	wait "$mount_pid" || rc=$?
	mount_pid=
	[ $rc -eq 0 ] || { echo "not ok: $1: daemon exit status $rc"; tail -20 "$work/daemon.log"; fail=1; }
	if zdb_bcc "$work/pool" concpool "$work/zdb.out"; then
		echo "ok: $1: zdb -bcc: no leaks, no errors ($(grep -m1 -o "bp count: *[0-9]*" "$work/zdb.out" | tr -s ' '))"
	else
		echo "not ok: $1: zdb -bcc"; grep -v "^loading" "$work/zdb.out" | head -30; fail=1
	fi
}

mount_pool "load"
rc=0
python3 "$here/concurrent.py" run "$mnt" "$SECS" "$seed" "$work/state" || rc=$?
if [ $rc -eq 3 ]; then
	# a daemon that hung may never answer again: no unmount sync, no zdb
	echo "not ok: the mount hung (seed $seed)"
	tail -20 "$work/daemon.log"
	kill -9 "$mount_pid" 2>/dev/null; wait "$mount_pid" 2>/dev/null || true
	mount_pid=
	umount -l "$mnt" 2>/dev/null || true
	exit 1
fi
if [ $rc -ne 0 ]; then
	echo "not ok: the concurrent load (seed $seed)"; tail -20 "$work/daemon.log"; fail=1
else
	echo "ok: the concurrent load and the check against the model"
fi
unmount_pool "after the load"
if [ $rc -eq 0 ]; then
	mount_pool "remount"
	if python3 "$here/concurrent.py" check "$mnt" "$work/state" "$seed"; then
		echo "ok: after a remount every file matches the model"
	else
		echo "not ok: after a remount (seed $seed)"; fail=1
	fi
	unmount_pool "after the remount"
fi
[ $fail -eq 0 ] && echo "concurrent: all ok (seed $seed)"
exit $fail
