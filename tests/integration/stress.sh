#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# stress.sh ZFUSE [SECONDS] — the hangs of issue 8 as regression tests, on a
# fresh pool `zfuse create` makes: `ls -l` loops against writers, renamers
# and unlinkers on one directory for SECONDS (default 30); the
# copy_file_range matrix and fsx-like sequences; a mixed load of creators,
# O_DIRECT writers, truncaters, renamers and readers. stress.py's watchdog
# fails a run whose call takes over 10 s and aborts the FUSE connection, so
# a hang fails the test instead of hanging the suite. After each unmount
# zdb -bcc must find no leak and no error.
# ZFUSE_STRESS_MODES picks modes, ZFUSE_STRESS_SEED replays a run.
# Runs as root (FUSE). Skipped (exit 77; a failure in CI) without FUSE,
# root or zdb.
set -uo pipefail
ZFUSE=$1 SECONDS_RACE=${2:-30}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require root fuse zdb
scratch_mount stress
mkdir -p "$mnt" "$work/pool"
fail=0
seed=${ZFUSE_STRESS_SEED:-$((RANDOM * 32768 + RANDOM))}
echo "seed $seed (ZFUSE_STRESS_SEED=$seed reproduces the workloads)"

"$ZFUSE" create -s 1G stress "$work/pool/stress.img" > "$work/create.log" 2>&1 ||
	die "zfuse create: $(cat "$work/create.log")"
for mode in ${ZFUSE_STRESS_MODES:-readdir copy mixed}; do
	mount_bg "$ZFUSE" "$work/daemon.log" "$mnt" -o rw "$work/pool/stress.img" ||
		die "$mode: mount failed: $(tail -5 "$work/daemon.log")"
	if python3 "$here/stress.py" "$mode" "$mnt" "$SECONDS_RACE" "$seed"; then
		echo "ok: $mode"
	else
		echo "not ok: $mode"; fail=1
		tail -20 "$work/daemon.log"
		# a daemon that hung may never answer again: no sync, no zdb
		kill -9 "$mount_pid" 2>/dev/null; wait "$mount_pid" 2>/dev/null
		umount -l "$mnt" 2>/dev/null
		mount_pid=
		continue
	fi
	if ! "$ZFUSE" unmount "$mnt"; then
		echo "not ok: $mode: unmount"; fail=1
		umount -l "$mnt"
	fi
	wait "$mount_pid"; rc=$?
	mount_pid=
	[ $rc -eq 0 ] || { echo "not ok: $mode: daemon exit status $rc"; fail=1; }
	if zdb_bcc "$work/pool" stress "$work/zdb.out"; then
		echo "ok: $mode: zdb -bcc clean"
	else
		echo "not ok: $mode: zdb -bcc"; grep -v "^loading" "$work/zdb.out" | head -20; fail=1
	fi
done
[ $fail -eq 0 ] && echo "stress: all ok"
exit $fail
