#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# read-bench.sh [ZFUSE] — the read path against its peer, zfs-fuse (Debian's
# package, unpacked, not installed), on the same pool image in the same run:
# zfs-fuse makes a version-23 pool and fills it (a 512 MiB incompressible
# file, 20000 small files in 200 directories); then each of them mounts it
# cold and we measure sequential read, 4 KiB random read (fio), and a
# metadata walk (stat of every file, tar of the small files). Prints each
# figure and the ratio zfuse / zfs-fuse (>1 means zfuse is faster).
# Needs root (zfs-fuse's daemon and dropping the page cache).
set -euo pipefail
bench_dir=$(dirname "$(readlink -f "$0")")
ZFUSE=$(realpath "${1:-$(dirname "$0")/../../build/zfuse}")
work=${BENCH_DIR:-/tmp/zfuse-bench}
mkdir -p "$work"
cd "$work"
. "$bench_dir/zfs-fuse.sh"

if [ ! -s pool/bench.img ]; then
	mkdir -p pool
	truncate -s 2G pool/bench.img
	start_zfsfuse
	"$ZF/zpool" create -o version=23 -O compression=off bench "$work/pool/bench.img"
	head -c 512M /dev/urandom > /bench/big.bin
	for d in $(seq 1 200); do
		mkdir "/bench/d$d"
		for f in $(seq 1 100); do echo "file $d $f" > "/bench/d$d/f$f"; done
	done
	"$ZF/zpool" export bench
	stop_zfsfuse
fi

measure() {  # measure ROOT LABEL -> prints "seq rand walk tar" (MB/s, IOPS, s, s)
	local root=$1
	drop
	local seq rand walk tar
	seq=$(fio --name=seq --filename="$root/big.bin" --rw=read --bs=1M --readonly \
		--output-format=terse --terse-version=3 | awk -F';' '{printf "%.1f", $7/1024}')
	drop
	rand=$(fio --name=rand --filename="$root/big.bin" --rw=randread --bs=4k --readonly \
		--time_based --runtime=15 --numjobs=4 --group_reporting \
		--output-format=terse --terse-version=3 | awk -F';' '{print $8}')
	drop
	walk=$( { /usr/bin/time -f %e find "$root" -type f -exec stat -c %s {} + > /dev/null; } 2>&1 )
	drop
	tar=$( { /usr/bin/time -f %e tar cf /dev/null -C "$root" $(cd "$root" && ls -d d*) ; } 2>&1 )
	echo "$seq $rand $walk $tar"
}

mnt=$work/mnt
mkdir -p "$mnt"
start_zfsfuse
"$ZF/zpool" import -d "$work/pool" bench
read -r zs zr zw zt < <(measure /bench)
"$ZF/zpool" export bench
stop_zfsfuse

"$ZFUSE" mount "$work/pool/bench.img" "$mnt"
read -r us ur uw ut < <(measure "$mnt")
"$ZFUSE" unmount "$mnt"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
printf '%-28s %12s %12s %8s\n' "workload" "zfs-fuse" "zfuse" "ratio"
printf '%-28s %12s %12s %8s\n' "sequential read (MiB/s)" "$zs" "$us" "$(ratio "$us" "$zs")"
printf '%-28s %12s %12s %8s\n' "random 4K read (IOPS)" "$zr" "$ur" "$(ratio "$ur" "$zr")"
printf '%-28s %12s %12s %8s\n' "stat 20000 files (s)" "$zw" "$uw" "$(ratio "$zw" "$uw")"
printf '%-28s %12s %12s %8s\n' "tar 20000 small files (s)" "$zt" "$ut" "$(ratio "$zt" "$ut")"
