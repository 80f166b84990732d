#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# stress-ng.sh ZFUSE [SECONDS] — Debian's stress-ng as the data-integrity
# exerciser a new user would run: every stressor of its 'filesystem' class
# (files, directories, renames, links, xattrs, locks, fallocate and hole
# punching, copy_file_range, sync_file_range, timestamps, many descriptors
# ...), one after the other for SECONDS each (default 4) with --verify, on a
# fresh zfuse read-write mount and on tmpfs; both must complete
# successfully, and zdb -bcc must be clean after the unmount. Stressors
# that need what neither a FUSE file system nor tmpfs offers (bind mounts,
# binderfs, procfs, fs-verity, fanotify, ioprio) are left out. By hand
# (about 6 minutes at the default; not in CI): apt-get install stress-ng.
set -uo pipefail
ZFUSE=$1 SECS=${2:-4}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require zdb root fuse
command -v stress-ng > /dev/null || skip "stress-ng is not installed (apt-get install stress-ng)"
scratch_mount stressng
mkdir -p "$mnt" "$work/tmpfs"
fail=0
exclude=bind-mount,binderfs,procfs,verity,fanotify,ioprio
run() {	# run DIR LOG
	stress-ng --class filesystem --seq 1 --timeout "${SECS}s" --verify --temp-path "$1" \
		--exclude "$exclude" --metrics-brief > "$2" 2>&1
}
mount -t tmpfs -o size=4g zfuse-stressng "$work/tmpfs" || die "tmpfs"
run "$work/tmpfs" "$work/tmpfs.log" && ok "stress-ng filesystem class on tmpfs" ||
	{ notok "stress-ng on tmpfs"; grep -E "fail|error" "$work/tmpfs.log" | head; }
umount "$work/tmpfs"
"$ZFUSE" create -s 4G sng "$work/sng.img" > /dev/null || die "zfuse create"
mount_bg "$ZFUSE" "$work/daemon.log" "$mnt" -o rw "$work/sng.img" || die "mount"
if run "$mnt" "$work/zfuse.log"; then
	ok "stress-ng filesystem class on zfuse ($(grep -c "metrc: .*[0-9] *$" "$work/zfuse.log") stressor lines)"
else
	notok "stress-ng on zfuse"; grep -E "fail|error" "$work/zfuse.log" | head
fi
"$ZFUSE" unmount "$mnt" && wait "$mount_pid"; mount_pid=
zdb_bcc "$work" sng "$work/zdb.out" && ok "zdb -bcc clean after stress-ng" ||
	{ notok "zdb -bcc after stress-ng"; tail -15 "$work/zdb.out"; }
exit $fail
