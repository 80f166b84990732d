#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# fsync-bench.sh [--quick] [ZFUSE] — issue 10's benchmark: synchronous
# writes on zfuse with its intent log, zfuse without it (ZFUSE_ZIL=0: every
# fsync waits for a txg sync, the behaviour before the log) and zfs-fuse 0.7
# (Debian's package, unpacked, see zfs-fuse.sh; it has a ZIL), in one run,
# over one tmpfs (as compare.sh) or over $BENCH_DISK (a directory on a real
# disk, where flushes cost what they cost). Workloads: fio 4 KiB random
# writes with an fsync after each write, 1 job and 4 jobs; fio 128 KiB
# sequential writes with an fsync after each (indirect log writes: the
# blocks are written once, at the fsync); "mixed": the 4 KiB random
# writes with fsync of 1 job beside a job streaming 1 MiB writes into
# another file that nobody fsyncs (an fsync must not wait for the other
# file's data: OpenZFS commits only the fsync'ed file's writes); a SQLite insert
# loop (python3 sqlite3, journal_mode=DELETE, synchronous=FULL, one
# transaction per insert). Prints writes/s (inserts/s), p50/p99 fsync
# latency (fio's), the ratios log/no-log and zfuse/zfs-fuse and the issue's
# targets (>= 10x the txg-sync rate, >= 2x zfs-fuse's).
# --quick: 5 s per workload (default 15 s). FIO_SIZE: each fio job's file
# (default 32M). Needs root, FUSE, fio, python3.
set -euo pipefail
bench_dir=$(dirname "$(readlink -f "$0")")
. "$bench_dir/lib.sh"
bench_start 16 "$@"
bench_no_zfsfuse_running
RUNTIME=15
$quick && RUNTIME=5
work=${BENCH_DIR:-/tmp/zfuse-fbench}
mkdir -p "$work"
cd "$work"
. "$bench_dir/zfs-fuse.sh"	# fio, zfs-fuse in ./zfs-fuse, start_zfsfuse
zfpid=
if [ -n "${BENCH_DISK:-}" ]; then
	T=$BENCH_DISK; mkdir -p "$T"; own_tmpfs=false
else
	T=$work/t; mkdir -p "$T"; own_tmpfs=true
	mountpoint -q "$T" || mount -t tmpfs -o size=4g,mode=755 zfuse-fbench "$T"
fi
MNT=$work/mnt ZFMNT=$work/zfmnt
mkdir -p "$MNT" "$ZFMNT"
zfuse_on=false
cleanup() {
	set +e
	$zfuse_on && "$ZFUSE" unmount "$MNT"
	if [ -n "$zfpid" ]; then
		"$ZF/zpool" export -f fbench 2>/dev/null
		kill "$zfpid" 2>/dev/null; wait "$zfpid" 2>/dev/null
		rm -f /var/lib/zfs/zpool.cache
	fi
	rm -f "$T/zu.img" "$T/zf.img"
	cd /
	$own_tmpfs && mountpoint -q "$T" && umount "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fs_up() {
	case $1 in
	zfuse|zfuse-nolog)
		rm -f "$T/zu.img"; truncate -s 2G "$T/zu.img"
		"$ZFUSE" create -O compression=off fbench "$T/zu.img" >/dev/null
		# in the foreground, its messages kept in $work/$1.log
		if [ "$1" == zfuse ]; then
			"$ZFUSE" mount -f "$T/zu.img" "$MNT" 2> "$work/$1.log" &
		else
			ZFUSE_ZIL=0 "$ZFUSE" mount -f "$T/zu.img" "$MNT" 2> "$work/$1.log" &
		fi
		daemon=$!
		for _ in $(seq 100); do mountpoint -q "$MNT" && break; sleep 0.1; done
		zfuse_on=true; ROOT=$MNT ;;
	zfs-fuse)
		rm -f "$T/zf.img" /var/lib/zfs/zpool.cache; truncate -s 2G "$T/zf.img"
		start_zfsfuse
		daemon=$zfpid
		"$ZF/zpool" create -o version=23 -O compression=off -m "$ZFMNT" fbench "$T/zf.img" >&2
		ROOT=$ZFMNT ;;
	esac
}
fs_down() {
	case $1 in
	zfuse|zfuse-nolog) "$ZFUSE" unmount "$MNT" || umount -l "$MNT"; zfuse_on=false; rm -f "$T/zu.img" ;;
	zfs-fuse) sleep 1; "$ZF/zpool" destroy -f fbench 2>/dev/null || "$ZF/zpool" export -f fbench ||
			umount -l "$ZFMNT" || true
		kill "$zfpid" 2>/dev/null || true; wait "$zfpid" 2>/dev/null || true; zfpid=
		rm -f "$T/zf.img" /var/lib/zfs/zpool.cache ;;
	esac
}

# fio JSON -> "iops p50_us p99_us" (write iops summed over jobs, fsync latency)
fio_sync() {
	local jobs=$1 bs=${2:-4k} rw=${3:-randwrite}
	if $hung || ! bounded $((RUNTIME + 120)) "$daemon" fio --output-format=json --randseed=1234 \
		--name=fsync --directory="$ROOT" --rw="$rw" --bs="$bs" --size="${FIO_SIZE:-32M}" --fsync=1 \
		--numjobs="$jobs" --group_reporting --time_based --runtime="$RUNTIME" --ioengine=psync \
		--output="$work/fio.json"; then
		hung=true
		echo "hung hung hung"
		return
	fi
	python3 -c '
import json, sys
j = json.load(sys.stdin)["jobs"][0]
p = j["sync"]["lat_ns"].get("percentile", {})
print("%.0f %.0f %.0f" % (j["write"]["iops"], p.get("50.000000", 0) / 1000, p.get("99.000000", 0) / 1000))' < "$work/fio.json"
}

# The fsync'ing job of fio_sync 1 beside a streaming writer (no fsync):
# "iops p50_us p99_us" of the fsync'ing job
fio_mixed() {
	if $hung || ! bounded $((RUNTIME + 120)) "$daemon" fio --output-format=json --randseed=1234 \
		--directory="$ROOT" --time_based --runtime="$RUNTIME" --ioengine=psync \
		--name=stream --rw=write --bs=1M --size=1G \
		--name=fsync --rw=randwrite --bs=4k --size="${FIO_SIZE:-32M}" --fsync=1 \
		--output="$work/fio.json"; then
		hung=true
		echo "hung hung hung"
		return
	fi
	python3 -c '
import json, sys
j = [j for j in json.load(sys.stdin)["jobs"] if j["jobname"] == "fsync"][0]
p = j["sync"]["lat_ns"].get("percentile", {})
print("%.0f %.0f %.0f" % (j["write"]["iops"], p.get("50.000000", 0) / 1000, p.get("99.000000", 0) / 1000))' < "$work/fio.json"
}

sqlite_loop() {
	$hung && { echo hung; return; }
	if bounded $((RUNTIME + 120)) "$daemon" python3 - "$ROOT/bench.db" "$RUNTIME" > "$work/sqlite.out" <<'EOF'
import os, sqlite3, sys, time
db, runtime = sys.argv[1], float(sys.argv[2])
c = sqlite3.connect(db, isolation_level=None)
c.execute("PRAGMA journal_mode=DELETE")
c.execute("PRAGMA synchronous=FULL")
c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)")
n, t0 = 0, time.time()
while time.time() - t0 < runtime:
    c.execute("BEGIN")
    c.execute("INSERT INTO t (v) VALUES (?)", (os.urandom(100),))
    c.execute("COMMIT")
    n += 1
print("%.0f" % (n / (time.time() - t0)))
EOF
	then cat "$work/sqlite.out"; else echo hung; fi
}

declare -A R
for fs in zfuse zfuse-nolog zfs-fuse; do
	echo "== $fs" >&2
	fs_up "$fs"
	# A file system that hangs (bounded, lib.sh) reads "hung" from then on.
	hung=false
	read -r R[$fs,f1] R[$fs,p50_1] R[$fs,p99_1] < <(fio_sync 1)
	[ "${R[$fs,f1]}" != hung ] || hung=true
	rm -f "$ROOT"/fsync.* || true
	read -r R[$fs,f4] R[$fs,p50_4] R[$fs,p99_4] < <(fio_sync 4)
	[ "${R[$fs,f4]}" != hung ] || hung=true
	rm -f "$ROOT"/fsync.* || true
	read -r iops R[$fs,p50_b] R[$fs,p99_b] < <(fio_sync 1 128k write)
	if [ "$iops" == hung ]; then hung=true; R[$fs,big]=hung; else R[$fs,big]=$((iops / 8)); fi	# MiB/s
	rm -f "$ROOT"/fsync.* || true
	read -r R[$fs,mix] R[$fs,p50_m] R[$fs,p99_m] < <(fio_mixed)
	[ "${R[$fs,mix]}" != hung ] || hung=true
	rm -f "$ROOT"/fsync.* "$ROOT"/stream.* || true
	R[$fs,sql]=$(sqlite_loop)
	fs_down "$fs"
done

echo
echo "storage: $([ -n "${BENCH_DISK:-}" ] && echo "$BENCH_DISK" || echo tmpfs), ${RUNTIME}s per workload"
printf "%-28s %12s %12s %12s %10s %10s\n" workload zfuse zfuse-nolog zfs-fuse "log/nolog" "zfuse/zf"
for w in f1 f4 big mix sql; do
	case $w in f1) name="fio 4K randwrite+fsync 1j/s" ;; f4) name="fio 4K randwrite+fsync 4j/s" ;;
		big) name="fio 128K write+fsync MiB/s" ;; mix) name="mixed 4K+fsync, stream/s" ;;
		sql) name="sqlite inserts/s" ;; esac
	printf "%-28s %12s %12s %12s %10s %10s\n" "$name" "${R[zfuse,$w]}" "${R[zfuse-nolog,$w]}" \
		"${R[zfs-fuse,$w]}" "$(div "${R[zfuse,$w]}" "${R[zfuse-nolog,$w]}")x" \
		"$(div "${R[zfuse,$w]}" "${R[zfs-fuse,$w]}")x"
done
for j in 1 4 b m; do
	l=${j}j; [ "$j" == b ] && l=128K; [ "$j" == m ] && l=mixed
	printf "%-28s %12s %12s %12s\n" "fsync p50 us, $l" "${R[zfuse,p50_$j]}" "${R[zfuse-nolog,p50_$j]}" "${R[zfs-fuse,p50_$j]}"
	printf "%-28s %12s %12s %12s\n" "fsync p99 us, $l" "${R[zfuse,p99_$j]}" "${R[zfuse-nolog,p99_$j]}" "${R[zfs-fuse,p99_$j]}"
done
met() { awk -v a="$1" -v b="$2" -v k="$3" 'BEGIN { print (b > 0 && a >= k * b) ? "met" : "NOT met" }'; }
echo "target fio 1j >= 10x no-log: $(met "${R[zfuse,f1]}" "${R[zfuse-nolog,f1]}" 10); >= 2x zfs-fuse: $(met "${R[zfuse,f1]}" "${R[zfs-fuse,f1]}" 2)"
echo "target fio 4j >= 10x no-log: $(met "${R[zfuse,f4]}" "${R[zfuse-nolog,f4]}" 10); >= 2x zfs-fuse: $(met "${R[zfuse,f4]}" "${R[zfs-fuse,f4]}" 2)"
