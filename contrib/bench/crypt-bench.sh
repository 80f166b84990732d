#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# crypt-bench.sh [--quick] [ZFUSE] — issue 11's benchmark: what native
# encryption costs. In one run, one pool (image in a tmpfs, compression off)
# with two filesystems side by side, `plain` (encryption off) and `enc`
# (aes-256-gcm, or $SUITE), the same workloads: sequential write of one
# file (1 MiB writes, final fsync) and sequential read of it from a cold
# cache (remount + drop_caches). Each is run $ROUNDS times alternating the
# datasets; the best of each is kept. Prints MB/s for both, the ratio and the
# cost of encryption (target: under 30%). --quick: 256 MiB instead of 1 GiB.
# Needs root and FUSE; work files in $BENCH_DIR (default
# /tmp/zfuse-cryptbench), the pool in a tmpfs mounted at $BENCH_DIR/t.
set -euo pipefail
bench_dir=$(dirname "$(readlink -f "$0")")
. "$bench_dir/lib.sh"
bench_start 13 "$@"
MB=$($quick && echo 256 || echo 1024)
ROUNDS=${ROUNDS:-3}
SUITE=${SUITE:-aes-256-gcm}
work=${BENCH_DIR:-/tmp/zfuse-cryptbench}
mkdir -p "$work/t" "$work/mnt"
mountpoint -q "$work/t" || mount -t tmpfs -o size=$((MB * 4 + 1024))M tmpfs "$work/t"
mnt=$work/mnt
cleanup() {
	mountpoint -q "$mnt" && "$ZFUSE" unmount "$mnt"
	umount "$work/t" 2>/dev/null || true
}
trap cleanup EXIT
head -c 32 /dev/urandom > "$work/t/raw.key"
head -c $((MB << 20)) /dev/urandom > "$work/t/src"	# incompressible, made once
rm -f "$work/t/pool.img"
"$ZFUSE" create -s $((MB * 3 + 512))M -O compression=off bench "$work/t/pool.img"
"$ZFUSE" create -d "$work/t/pool.img" bench/plain
"$ZFUSE" create -d "$work/t/pool.img" -o "encryption=$SUITE" -o keyformat=raw \
	-o "keylocation=file://$work/t/raw.key" bench/enc

mnt_up() { "$ZFUSE" mount "$work/t/pool.img" "$mnt" </dev/null; sleep 0.5; }
mnt_down() { "$ZFUSE" unmount "$mnt"; sync; echo 3 > /proc/sys/vm/drop_caches; }
now() { date +%s.%N; }
rate() { echo "$MB $1 $2" | awk '{ printf "%.0f", $1 / ($3 - $2) }'; }

declare -A wbest=([plain]=0 [enc]=0) rbest=([plain]=0 [enc]=0)
for r in $(seq 1 "$ROUNDS"); do
	for ds in plain enc; do
		mnt_up
		rm -f "$mnt/$ds/f"
		t0=$(now); dd if="$work/t/src" of="$mnt/$ds/f" bs=1M conv=fsync status=none; t1=$(now)
		w=$(rate "$t0" "$t1")
		mnt_down
		mnt_up
		t0=$(now); dd if="$mnt/$ds/f" of=/dev/null bs=1M status=none; t1=$(now)
		rd=$(rate "$t0" "$t1")
		mnt_down
		[ "$w" -gt "${wbest[$ds]}" ] && wbest[$ds]=$w
		[ "$rd" -gt "${rbest[$ds]}" ] && rbest[$ds]=$rd
		echo "round $r $ds: write $w MB/s, read $rd MB/s" >&2
	done
done
mnt_up
for ds in plain enc; do cmp -s "$work/t/src" "$mnt/$ds/f" || { echo "$ds: the data read back differ" >&2; exit 1; }; done
mnt_down
echo "sequential, $MB MiB, best of $ROUNDS, $SUITE vs encryption off (compression off both):"
printf '%-8s %12s %12s %8s %8s\n' workload "plain MB/s" "enc MB/s" ratio cost
for wl in write read; do
	if [ $wl == write ]; then p=${wbest[plain]} e=${wbest[enc]}; else p=${rbest[plain]} e=${rbest[enc]}; fi
	awk -v wl=$wl -v p="$p" -v e="$e" 'BEGIN {
		r = p ? e / p : 0; c = (1 - r) * 100
		printf "%-8s %12d %12d %8.2f %7.0f%% %s\n", wl, p, e, r, c, c < 30 ? "(target <30%: met)" : "(target <30%: NOT met)" }'
done
