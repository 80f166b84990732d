#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# write-bench.sh [ZFUSE] — the write path against its peer, zfs-fuse
# (Debian's package, unpacked, not installed), in the same run on the same
# machine: each makes its own pool on a 3 GiB image file (compression off on
# both, so the work is the same), then fio measures sequential write
# (1 MiB, fsync at the end), random 4 KiB write (fsync at the end),
# sequential and random read of what was written (cold cache), and a
# many-small-files workload (create 20000 files of 1 KiB in 200
# directories and sync, stat them all, delete them all and sync).
# Prints each figure and the ratio zfuse / zfs-fuse (>1: zfuse is faster).
# Needs root (zfs-fuse's daemon, FUSE mounts, dropping the page cache).
set -euo pipefail
bench_dir=$(dirname "$(readlink -f "$0")")
ZFUSE=$(realpath "${1:-$(dirname "$0")/../../build/zfuse}")
work=${BENCH_DIR:-/tmp/zfuse-wbench}
mkdir -p "$work"
cd "$work"
. "$bench_dir/zfs-fuse.sh"
secs() { local t0=$1; awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }

fio_mb() {  # fio_mb ARGS... -> MiB/s of the job's main direction
	fio --output-format=terse --terse-version=3 "$@" |
		awk -F';' '{ r = $7; w = $48; printf "%.1f", (w > 0 ? w : r) / 1024 }'
}
fio_iops() {
	fio --output-format=terse --terse-version=3 "$@" |
		awk -F';' '{ r = $8; w = $49; print (w > 0 ? w : r) }'
}

measure() {  # measure ROOT -> "seqw randw seqr randr create stat delete"
	local root=$1 sw rw sr rr c s d t0
	sw=$(fio_mb --name=seqw --filename="$root/seq.bin" --rw=write --bs=1M --size=1G --end_fsync=1)
	rw=$(fio_iops --name=randw --filename="$root/rand.bin" --rw=randwrite --bs=4k --size=256M \
		--time_based --runtime=20 --end_fsync=1)
	drop
	sr=$(fio_mb --name=seqr --filename="$root/seq.bin" --rw=read --bs=1M --readonly)
	drop
	rr=$(fio_iops --name=randr --filename="$root/rand.bin" --rw=randread --bs=4k --readonly \
		--time_based --runtime=15 --numjobs=4 --group_reporting)
	t0=$(date +%s.%N)
	python3 - "$root/small" <<'EOF'
import os, sys
root = sys.argv[1]
data = b"x" * 1024
for d in range(200):
    p = os.path.join(root, "d%d" % d)
    os.makedirs(p)
    for f in range(100):
        with open(os.path.join(p, "f%d" % f), "wb") as fh:
            fh.write(data)
fd = os.open(root, os.O_RDONLY); os.fsync(fd); os.close(fd)
EOF
	sync
	c=$(secs "$t0")
	drop
	t0=$(date +%s.%N); find "$root/small" -type f -exec stat -c %s {} + > /dev/null; s=$(secs "$t0")
	t0=$(date +%s.%N); rm -rf "$root/small"; sync; d=$(secs "$t0")
	echo "$sw $rw $sr $rr $c $s $d"
}

rm -f zf.img zu.img
truncate -s 3G zf.img zu.img
rm -f /var/lib/zfs/zpool.cache	# zfs-fuse would re-import an old bench pool
start_zfsfuse
"$ZF/zpool" create -o version=23 -O compression=off wbench "$work/zf.img"
read -r zsw zrw zsr zrr zc zs zd < <(measure /wbench)
sleep 2
"$ZF/zpool" destroy -f wbench 2>/dev/null || "$ZF/zpool" export -f wbench || true
stop_zfsfuse

mnt=$work/mnt
mkdir -p "$mnt"
"$ZFUSE" create -O compression=off wbenchu "$work/zu.img" >/dev/null
"$ZFUSE" mount "$work/zu.img" "$mnt"
read -r usw urw usr urr uc us ud < <(measure "$mnt")
"$ZFUSE" unmount "$mnt"
rm -f zf.img zu.img

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
printf '%-34s %12s %12s %8s\n' "workload" "zfs-fuse" "zfuse" "ratio"
printf '%-34s %12s %12s %8s\n' "sequential write 1M (MiB/s)" "$zsw" "$usw" "$(ratio "$usw" "$zsw")"
printf '%-34s %12s %12s %8s\n' "random write 4K (IOPS)" "$zrw" "$urw" "$(ratio "$urw" "$zrw")"
printf '%-34s %12s %12s %8s\n' "sequential read 1M (MiB/s)" "$zsr" "$usr" "$(ratio "$usr" "$zsr")"
printf '%-34s %12s %12s %8s\n' "random read 4K (IOPS)" "$zrr" "$urr" "$(ratio "$urr" "$zrr")"
printf '%-34s %12s %12s %8s\n' "create 20000 files + sync (s)" "$zc" "$uc" "$(ratio "$zc" "$uc")"
printf '%-34s %12s %12s %8s\n' "stat 20000 files (s)" "$zs" "$us" "$(ratio "$zs" "$us")"
printf '%-34s %12s %12s %8s\n' "delete 20000 files + sync (s)" "$zd" "$ud" "$(ratio "$zd" "$ud")"
