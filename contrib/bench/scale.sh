#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# scale.sh [--quick] [--entries N] [--write-gib N] [ZFUSE] — zfuse at scale,
# timing each step and sampling the daemon's RSS:
#  - one directory of N entries (default 1,000,000): create (+fsync), stat
#    each by name, readdir, remove (+fsync); cold cache (remount, drop_caches)
#    before stat and readdir;
#  - a 100 GiB sparse file: made by writing 4 KiB at its end (+fsync), a
#    read of 256 MiB of hole from a cold cache, truncate to 0 (+fsync);
#  - a 16 TiB pool on four sparse 4 TiB image files: create, mount (target:
#    under a second), write 16 MiB (+fsync), unmount;
#  - N GiB (default 10) written sequentially through a mount (fio, 1 MiB,
#    final fsync) while the daemon's RSS is sampled.
# Prints one table: time, rate and the daemon's peak RSS (VmHWM, and the
# peak of 0.2 s samples for the big write), with the default cache_size
# from `zfuse help mount`. The pools of the first three live in a tmpfs
# ($BENCH_DIR/t); the big write's image is on $BENCH_DIR itself (default
# /tmp/zfuse-scale, needs N+1 GiB of disk) so as not to take N GiB of RAM.
# --quick: 20000 entries, 1 GiB written. Needs root, FUSE, python3, fio.
set -euo pipefail
entries='' write_gib='' quick=false
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=true; shift ;;
	--entries) entries=$2; shift 2 ;;
	--write-gib) write_gib=$2; shift 2 ;;
	-h|--help) sed -n '3,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) break ;;
	esac
done
$quick && : "${entries:=20000}" "${write_gib:=1}"
: "${entries:=1000000}" "${write_gib:=10}"
bench_dir=$(dirname "$(readlink -f "$0")")
ZFUSE=$(realpath "${1:-$bench_dir/../../build/zfuse}")
[ -x "$ZFUSE" ] || { echo "no zfuse at $ZFUSE (build it first)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "needs root" >&2; exit 1; }
command -v fio >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fio >/dev/null

work=${BENCH_DIR:-/tmp/zfuse-scale}
mkdir -p "$work"
cd "$work"
T=$work/t
mkdir -p "$T"
mountpoint -q "$T" || mount -t tmpfs -o size=16g,mode=755 zfuse-scale "$T"
MNT=$T/mnt
mkdir -p "$MNT"
zpid='' sampler=''

cleanup() {
	set +e
	[ -n "$sampler" ] && kill "$sampler" 2>/dev/null
	if [ -n "$zpid" ]; then "$ZFUSE" unmount "$MNT"; wait "$zpid" 2>/dev/null; fi
	mountpoint -q "$MNT" && umount -l "$MNT"
	rm -f "$work/rss.img" "$work/rss.samples"
	cd /
	mountpoint -q "$T" && umount "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
div() { awk -v a="$1" -v b="$2" -v f="${3:-%.0f}" 'BEGIN { if (b > 0) printf f, a / b; else printf "n/a" }'; }
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }
fsync_path() { python3 -c 'import os, sys
for p in sys.argv[1:]:
    fd = os.open(p, os.O_RDONLY); os.fsync(fd); os.close(fd)' "$@"; }

# zmount IMAGE... : the daemon in the foreground, in the background here,
# so that $zpid is the daemon itself. zumount reads its VmHWM into $hwm.
zmount() {
	"$ZFUSE" mount -f "$@" "$MNT" & zpid=$!
	for _ in $(seq 1 200); do
		mountpoint -q "$MNT" && return 0
		kill -0 "$zpid" 2>/dev/null || break
		sleep 0.05
	done
	echo "zfuse mount $* did not come up" >&2; return 1
}
hwm=0
zumount() {
	local h
	h=$(awk '/^VmHWM:/ { print $2 }' "/proc/$zpid/status")
	hwm=$(( h > hwm ? h : hwm ))
	"$ZFUSE" unmount "$MNT"
	wait "$zpid" || true
	zpid=
}
mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

rows=()
row() { rows+=("$(printf '%-34s %10s %12s %10s' "$@")"); }	# what, seconds, rate, RSS MiB

# 1. A directory of $entries entries.
rm -f "$T/dir.img"
"$ZFUSE" create -s 16G scdir "$T/dir.img" >/dev/null
zmount "$T/dir.img"
t0=$(now)
python3 - "$MNT/big" "$entries" <<'EOF'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
os.mkdir(d)
for i in range(n):
    os.close(os.open("%s/entry-%07d" % (d, i), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
fd = os.open(d, os.O_RDONLY); os.fsync(fd); os.close(fd)
EOF
s=$(since "$t0"); zumount
row "dir: create $entries (+fsync)" "$s" "$(div "$entries" "$s")/s" "$(mib $hwm)"
hwm=0; drop; zmount "$T/dir.img"
t0=$(now)
python3 - "$MNT/big" "$entries" <<'EOF'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    os.stat("%s/entry-%07d" % (d, i))
EOF
s=$(since "$t0"); zumount
row "dir: stat each by name (cold)" "$s" "$(div "$entries" "$s")/s" "$(mib $hwm)"
hwm=0; drop; zmount "$T/dir.img"
t0=$(now)
n=$(python3 -c 'import os, sys; print(sum(1 for _ in os.scandir(sys.argv[1])))' "$MNT/big")
s=$(since "$t0")
[ "$n" -eq "$entries" ] || echo "readdir found $n entries, not $entries" >&2
row "dir: readdir (cold)" "$s" "$(div "$n" "$s")/s" "$(mib "$(awk '/^VmHWM:/ { print $2 }' "/proc/$zpid/status")")"
t0=$(now)
python3 - "$MNT/big" "$entries" <<'EOF'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    os.unlink("%s/entry-%07d" % (d, i))
fd = os.open(d, os.O_RDONLY); os.fsync(fd); os.close(fd)
EOF
s=$(since "$t0"); zumount
row "dir: remove each (+fsync)" "$s" "$(div "$entries" "$s")/s" "$(mib $hwm)"
rm -f "$T/dir.img"

# 2. A 100 GiB sparse file.
hwm=0
"$ZFUSE" create -s 2G scsparse "$T/sparse.img" >/dev/null
zmount "$T/sparse.img"
t0=$(now)
python3 - "$MNT/sparse" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
os.pwrite(fd, b"\x5a" * 4096, (100 << 30) - 4096)
os.fsync(fd); os.close(fd)
EOF
s=$(since "$t0")
st=$(stat -c '%b' "$MNT/sparse")
zumount
row "sparse 100G: write at end (+fsync)" "$s" "${st} blocks" "$(mib $hwm)"
hwm=0; drop; zmount "$T/sparse.img"
t0=$(now)
dd if="$MNT/sparse" bs=1M skip=51200 count=256 status=none | cmp -s - <(head -c 256M /dev/zero) ||
	echo "the hole did not read as zeros" >&2
s=$(since "$t0")
row "sparse 100G: read 256M of hole" "$s" "$(div 256 "$s")MiB/s" ""
t0=$(now)
truncate -s 0 "$MNT/sparse"; fsync_path "$MNT/sparse"
s=$(since "$t0"); zumount
row "sparse 100G: truncate to 0 (+fsync)" "$s" "" "$(mib $hwm)"
rm -f "$T/sparse.img"

# 3. A 16 TiB pool on sparse image files.
hwm=0
imgs=("$T/p16-a.img" "$T/p16-b.img" "$T/p16-c.img" "$T/p16-d.img")
rm -f "${imgs[@]}"
t0=$(now)
"$ZFUSE" create -s 4T sc16t "${imgs[@]}" >/dev/null
s=$(since "$t0")
row "16T pool: create (4 x 4T sparse)" "$s" "" ""
t0=$(now)
zmount "${imgs[@]}"
s=$(since "$t0")
size=$(df -h --output=size "$MNT" | tail -1 | tr -d ' ')
row "16T pool: mount (df: $size)" "$s" "$(awk -v s="$s" 'BEGIN { print (s < 1 ? "<1s met" : "<1s NOT met") }')" ""
t0=$(now)
head -c 16M /dev/urandom > "$MNT/little"; fsync_path "$MNT/little"
s=$(since "$t0")
row "16T pool: write 16M (+fsync)" "$s" "" ""
t0=$(now)
zumount
s=$(since "$t0")
row "16T pool: unmount" "$s" "" "$(mib $hwm)"
tmpused=$(du -sm "$T" | cut -f1)
rm -f "${imgs[@]}"

# 4. $write_gib GiB sequential through a mount, RSS sampled.
hwm=0
rm -f "$work/rss.img"
"$ZFUSE" create -s "$((write_gib + 2))G" -O compression=off scrss "$work/rss.img" >/dev/null
zmount "$work/rss.img"
( while :; do awk '/^VmRSS:/ { print $2 }' "/proc/$zpid/status" 2>/dev/null || exit 0; sleep 0.2; done ) \
	> "$work/rss.samples" & sampler=$!
t0=$(now)
fio --name=big --filename="$MNT/big.bin" --rw=write --bs=1M --size="${write_gib}G" --end_fsync=1 \
	--output-format=terse >/dev/null
s=$(since "$t0")
kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true; sampler=''
peak=$(sort -n "$work/rss.samples" | tail -1)
if ! kill -0 "$zpid" 2>/dev/null; then
	rc=0; wait "$zpid" || rc=$?; zpid=''
	echo "the zfuse daemon ended during the write (exit status $rc)" >&2
	exit 1
fi
zumount
row "write ${write_gib}G seq (+fsync)" "$s" "$(div $((write_gib * 1024)) "$s")MiB/s" "$(mib $hwm)"
row "  peak of RSS samples (0.2 s)" "" "" "$(mib "${peak:-0}")"
rm -f "$work/rss.img" "$work/rss.samples"

# The dirty-data limit as the daemon computes it (txg_dirty_max_default:
# 10% of the memory, at most 4 GiB, at least 256 MiB) unless the
# environment sets one; the daemon's memory bound is cache_size + it.
if [ -n "${ZFUSE_DIRTY_DATA_MAX:-}" ]; then
	dirty_b=$ZFUSE_DIRTY_DATA_MAX dirty_how="ZFUSE_DIRTY_DATA_MAX"
else
	dirty_b=$(awk '/^MemTotal:/ { b = $2 * 1024 / 10; if (b > 4 * 2^30) b = 4 * 2^30;
		if (b < 256 * 2^20) b = 256 * 2^20; printf "%d", b }' /proc/meminfo)
	dirty_how="10% of the memory, at most 4 GiB"
fi
dirty="$((dirty_b >> 20))M ($dirty_how)"
# The block cache's default as the daemon computes it (arc_default_size:
# a sixteenth of the memory, within 256 MiB..4 GiB).
cache_b=$(awk '/^MemTotal:/ { b = $2 * 1024 / 16; if (b > 4 * 2^30) b = 4 * 2^30;
	if (b < 256 * 2^20) b = 256 * 2^20; printf "%d", b }' /proc/meminfo)
cache="$((cache_b >> 20))M (a sixteenth of the memory, 256M..4G)"
bound=$(((cache_b + dirty_b) >> 20))
peak_mib=$(( $(mib "${hwm:-0}") > $(mib "${peak:-0}") ? $(mib "${hwm:-0}") : $(mib "${peak:-0}") ))
echo
echo "scale.sh ($($quick && echo quick || echo full): $entries entries, $write_gib GiB written; zfuse $("$ZFUSE" version | head -1);" \
	"tmpfs peak for the 16T pool's images: ${tmpused} MiB)"
printf '%-34s %10s %12s %10s\n' "step" "seconds" "rate" "RSS MiB"
printf '%s\n' "${rows[@]}"
echo "daemon cache_size default: $cache; dirty data limit: $dirty;" \
	"bound cache_size + dirty limit: $bound MiB; the big write's peak RSS: $peak_mib MiB" \
	"($([ "$peak_mib" -le "$bound" ] && echo within || echo OVER) the bound)"
