#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# mount-spin.sh ZFUSE — the FUSE workers' polling for the next request
# (mount option spin=, devio.c): bad values are refused with a message;
# with a long window, two writers' create-write-close-stat loops get every
# byte back and unmount cleanly while workers poll; and the polling stops
# when the requests do: an idle daemon uses no CPU time (a worker that
# kept polling would burn a CPU-second per second). Runs as root.
set -uo pipefail
ZFUSE=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require root fuse
scratch_mount spin
mkdir -p "$mnt"
fail=0

"$ZFUSE" create -s 256M spin "$work/s.img" > /dev/null || die "zfuse create failed"
for v in abc 10001 -1; do
	out=$("$ZFUSE" mount -f -o "spin=$v" "$work/s.img" "$mnt" 2>&1) && notok "spin=$v accepted" ||
		{ [[ $out == *"invalid spin '$v'"* ]] && ok "spin=$v refused: ${out%%$'\n'*}" ||
			notok "spin=$v: unexpected message: $out"; }
	mountpoint -q "$mnt" && { notok "spin=$v mounted"; "$ZFUSE" unmount "$mnt"; }
done

# cpu_ticks PID: the daemon's user + system time, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

mount_bg "$ZFUSE" "$work/daemon.log" "$mnt" -o spin=2000 "$work/s.img" ||
	die "mount -o spin=2000 failed: $(cat "$work/daemon.log")"
loop='
import os, sys
d = sys.argv[1]; os.mkdir(d)
for i in range(1500):
    p = os.path.join(d, "f%d" % i)
    data = (b"%d:" % i) * (1 + i % 300)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, data); os.close(fd)
    try:
        os.stat(os.path.join(d, "missing%d" % i)); sys.exit("missing%d exists" % i)
    except FileNotFoundError:
        pass
    if os.stat(p).st_size != len(data):
        sys.exit("%s: size %d, wrote %d" % (p, os.stat(p).st_size, len(data)))
for i in range(1500):
    with open(os.path.join(d, "f%d" % i), "rb") as f:
        if f.read() != (b"%d:" % i) * (1 + i % 300):
            sys.exit("f%d: content differs" % i)
'
python3 -c "$loop" "$mnt/a" & pa=$!
python3 -c "$loop" "$mnt/b" & pb=$!
wait $pa && wait $pb && ok "two create-write-stat loops under spin=2000: every file's size and bytes" ||
	notok "create-write-stat loops under spin=2000"

# Idle: the window and the millisecond of "busy" have long passed after 1 s.
sleep 1
t0=$(cpu_ticks "$mount_pid")
sleep 3
t1=$(cpu_ticks "$mount_pid")
hz=$(getconf CLK_TCK)
# 3 s of a polling worker would be 3*hz ticks; allow a fifth of one second
# for the timed txg sync of what the loops wrote.
[ $((t1 - t0)) -le $((hz / 5)) ] && ok "idle daemon: $((t1 - t0)) ticks of CPU in 3 s (hz $hz)" ||
	notok "idle daemon used $((t1 - t0)) ticks of CPU in 3 s (hz $hz): a worker keeps polling?"

"$ZFUSE" unmount "$mnt" || notok "unmount"
wait "$mount_pid"; rc=$?; mount_pid=
[ $rc -eq 0 ] && ok "daemon exited 0" || notok "daemon exit status $rc: $(tail -5 "$work/daemon.log")"
exit $fail
