#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# volume-roundtrip.sh ZFUSE ZFUSE_VOL — volumes (zvols) zfuse makes and
# writes, judged by OpenZFS 2.3.2 and zdb.
#
# (a)/(b) One pool made by `zfuse create`, two copies. On A zfuse runs a
#     sequence of zfs commands with its verbs (create -V, -s, -b, -o;
#     set volsize grow and shrink; snapshots, rollback, destroy of a
#     snapshot and of a volume; refreservation set on a filesystem and a
#     sparse volume) and writes data through libzfuse (zfuse-vol:
#     zfuse_volume_write, unaligned offsets); on B OpenZFS runs the same
#     commands and dd writes the same bytes to /dev/zd*. Likewise on a
#     RAID-Z1 pool (R), where the refreservation of create -V is scaled for
#     parity, with -b and copies=2. Then:
#       - zdb -bcc finds no leak in A;
#       - OpenZFS imports A: every volume's content (sha256 of its device)
#         is the model's, scrub finds 0 errors;
#       - zfs list -p of the volumes (used, referenced, volsize,
#         volblocksize, refreservation, usedby*) on A equals B's: exactly
#         for volsize, volblocksize, refreservation; within 32K for the
#         space figures, which OpenZFS itself does not repeat exactly (its
#         indirect blocks hold birth txgs that depend on timing, and so
#         compress differently: two runs of B differed by 8K); zfuse list on
#         A prints exactly what zfs list prints for A;
#       - zfs get -s local all on A equals B's, and zfuse get's;
#       - the same list for R and its OpenZFS twin.
# (c) The layout fixture's 16 MiB volume (made by OpenZFS, refreservation
#     18 MiB) is written by zfuse at an unaligned offset: zdb -bcc is
#     clean, OpenZFS reads the new content, scrubs with 0 errors, and its
#     space figures equal zfuse list's.
set -uo pipefail
ZFUSE=$1
ZVOL=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
require qemu zdb
work=$(mktemp -d "${TMPDIR:-/tmp}/zfuse-vol.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail=0
M=$((1 << 20))
COLS=name,type,used,referenced,volsize,volblocksize,refreservation,usedbyrefreservation,usedbysnapshots,usedbydataset

# ---- data and the model ------------------------------------------------------
mkdir -p "$work/B" "$work/A" "$work/data"
python3 - "$work/data" <<'X'
import hashlib, random, sys
d = sys.argv[1]
rnd = random.Random(9)
def blob(name, n):
    b = bytes(rnd.getrandbits(8) for _ in range(n))
    open(f"{d}/{name}", "wb").write(b)
    return b
M = 1 << 20
d1, d2, d3, d4, d5 = blob("d1", 3*M), blob("d2", M), blob("d3", M//2), blob("d4", 4*M), blob("d5", 2*M)
vol = bytearray(16*M); vol[12345:12345+len(d1)] = d1; vol[2*M+7:2*M+7+len(d5)] = d5
svol = bytearray(8*M); svol[5*M:6*M] = d2; svol[M+100:M+100+len(d3)] = d3; svol = svol[:4*M]
v2 = bytearray(8*M); v2[:4*M] = d4
with open(f"{d}/model", "w") as f:
    for n, b in (("vol", vol), ("svol", svol), ("v2", v2)):
        f.write(f"{n} {len(b)} {hashlib.sha256(b).hexdigest()}\n")
X
"$ZFUSE" create -s 128M -o ashift=12 zv "$work/A/zv.img" > /dev/null || die "zfuse create zv"
cp --sparse=always "$work/A/zv.img" "$work/B/zv.img"
cp "$work/data"/d? "$work/data/model" "$work/B/"
mkdir -p "$work/R" "$work/B/R"
"$ZFUSE" create -s 64M -o ashift=12 rz raidz1 "$work/R/r0.img" "$work/R/r1.img" "$work/R/r2.img" > /dev/null ||
	die "zfuse create rz"
cp --sparse=always "$work/R"/r?.img "$work/B/R/"

# ---- A: zfuse ------------------------------------------------------------------
Z() { "$ZFUSE" "$1" -d "$work/A/zv.img" "${@:2}"; }
W() { "$ZVOL" "$work/A/zv.img" write "$1" "$2" < "$work/data/$3"; }
Z create -V 16M zv/vol &&
Z create -s -b 8K -V 8M zv/svol &&
Z create -o compression=off -V 4M zv/v2 &&
Z create -V 6M zv/v3 && Z create zv/fs &&
W zv/vol 12345 d1 && W zv/svol $((5 * M)) d2 && W zv/svol $((M + 100)) d3 && W zv/v2 0 d4 &&
Z set volsize=8M zv/v2 &&
Z set volsize=4M zv/svol &&
Z snapshot zv/vol@s &&
W zv/vol $((2 * M + 7)) d5 &&
Z snapshot zv/vol@s2 &&
W zv/vol $((9 * M)) d3 &&
Z rollback zv/vol@s2 &&
Z destroy zv/vol@s2 &&
Z destroy zv/v3 &&
Z set refreservation=3M zv/fs &&
Z set refreservation=2M zv/svol || notok "zfuse's sequence on A failed"
R() { "$ZFUSE" "$1" -d "$work/R" "${@:2}"; }
R create -V 10M rz/a && R create -b 4K -o copies=2 -V 6M rz/b && R create -b 128K -V 8M rz/c &&
R set volsize=12M rz/a || notok "zfuse's sequence on R failed"
"$ZFUSE" list -Hp -o $COLS -r -d "$work/A/zv.img" zv > "$work/A/zfuse-list" 2>&1
"$ZFUSE" get -Hp -s local all -d "$work/A/zv.img" zv zv/vol zv/svol zv/v2 zv/fs > "$work/A/zfuse-get" 2>&1
"$ZFUSE" get -Hp volsize,volblocksize,refreservation,usedbyrefreservation -d "$work/A/zv.img" \
	zv/vol zv/svol > "$work/A/zfuse-get2" 2>&1
"$ZFUSE" list -Hp -o $COLS -r -d "$work/R" rz > "$work/R/zfuse-list" 2>&1
while read -r name size sum; do
	got=$("$ZVOL" "$work/A/zv.img" read zv/$name | sha256sum | cut -d' ' -f1)
	[ "$got" == "$sum" ] && ok "zfuse reads back zv/$name" || notok "zfuse reads zv/$name: $got, model $sum"
done < "$work/data/model"
zdb_bcc "$work/A" zv "$work/A/zdb.out" && ok "zdb -bcc: A has no leaks" ||
	{ tail -20 "$work/A/zdb.out"; notok "zdb -bcc of A"; }

# ---- B: the same in OpenZFS ------------------------------------------------------
cat > "$work/B/job.sh" <<'X'
set -e
M=$((1 << 20))
cd /host
zpool import -d /host -f zv
zfs create -V 16M zv/vol
zfs create -s -b 8K -V 8M zv/svol
zfs create -o compression=off -V 4M zv/v2
zfs create -V 6M zv/v3
zfs create zv/fs
sleep 1
dev() {  # dev BYTES: the one zd device of that size (sizes differ here)
	for d in /dev/zd*; do
		[ "$(cat /sys/block/${d#/dev/}/size)" -eq $(($1 / 512)) ] && echo $d
	done
	true
}
W() { dd if=/host/$3 of=$1 bs=1M seek=$2 oflag=seek_bytes conv=notrunc,fsync status=none; }
vol=$(dev $((16 * M))); svol=$(dev $((8 * M))); v2=$(dev $((4 * M)))
W $vol 12345 d1; W $svol $((5 * M)) d2; W $svol $((M + 100)) d3; W $v2 0 d4
zfs set volsize=8M zv/v2
zfs set volsize=4M zv/svol
zfs snapshot zv/vol@s
W $vol $((2 * M + 7)) d5
zfs snapshot zv/vol@s2
W $vol $((9 * M)) d3
sync
zfs rollback zv/vol@s2
zfs destroy zv/vol@s2
zfs destroy zv/v3
zfs set refreservation=3M zv/fs
zfs set refreservation=2M zv/svol
sync
zpool export zv
zpool import -o readonly=on -d /host zv
sleep 2
zfs list -Hp -o COLS -r zv > /host/oz-list
zfs get -Hp -s local all zv zv/vol zv/svol zv/v2 zv/fs > /host/oz-get
zpool export zv
zpool import -d /host/R -f rz
zfs create -V 10M rz/a
zfs create -b 4K -o copies=2 -V 6M rz/b
zfs create -b 128K -V 8M rz/c
zfs set volsize=12M rz/a
zpool export rz
zpool import -o readonly=on -d /host/R rz
zfs list -Hp -o COLS -r rz > /host/oz-rlist
zpool export rz
X
sed -i "s/COLS/$COLS/" "$work/B/job.sh"
oracle "$work/B" || cat "$work/B/oracle.out"

# ---- (c) the layout fixture's volume -----------------------------------------------
lay=$(unpack layout)
mkdir -p "$work/L"
cp --sparse=always "$lay"/*.img "$work/L/"
limg=$(ls "$work/L"/*.img)
"$ZVOL" "$limg" read layout/vol > "$work/L/before" || notok "zfuse reads layout/vol"
python3 - "$work/L/before" "$work/data/d3" "$work/L/want" <<'X'
import hashlib, sys
b = bytearray(open(sys.argv[1], "rb").read()); d = open(sys.argv[2], "rb").read()
off = (1 << 20) + 4097
b[off:off + len(d)] = d
open(sys.argv[3], "w").write(hashlib.sha256(b).hexdigest() + "\n")
X
"$ZVOL" "$limg" write layout/vol $(((1 << 20) + 4097)) < "$work/data/d3" || notok "zfuse writes layout/vol"
"$ZFUSE" list -Hp -o $COLS -d "$limg" layout/vol > "$work/L/zfuse-list" 2>&1
zdb_bcc "$work/L" layout "$work/L/zdb.out" && ok "zdb -bcc: the written layout pool has no leaks" ||
	{ tail -20 "$work/L/zdb.out"; notok "zdb -bcc of layout"; }

# ---- (d) a volume's intent log, zfuse's, after a crash ------------------------------------
# Two fsyncs, the second's writes and discard only in the log (see
# zfuse-vol crash); OpenZFS replays it when it makes the volume's device.
mkdir -p "$work/J/C"
"$ZFUSE" create -s 1G vc "$work/J/C/c.img" > /dev/null && "$ZVOL" "$work/J/C/c.img" create vc/v $((12 * M)) &&
	"$ZVOL" "$work/J/C/c.img" crash vc/v 4097 $((6 * M)) $((6 * M + 100000)) 300000 < "$work/data/d4" ||
	notok "zfuse-vol crash"
"$here/../integration/vol_crash_model.py" "$work/data/d4" $((12 * M)) 4097 $((6 * M)) $((6 * M + 100000)) 300000 \
	> "$work/C-want"
# (the listing is read whole first: grep -q would close the pipe early, and
# with pipefail the writer's SIGPIPE failed the check when the log was long)
zil_listing=$("$ZFUSE" inspect "$work/J/C/c.img" zil vc/v)
grep -q "type: TX_WRITE" <<< "$zil_listing" ||
	notok "the crashed volume has no log records"

# ---- OpenZFS judges A, the layout pool and the crashed volume -------------------------------
mkdir -p "$work/J/A" "$work/J/L" "$work/J/R"
mv "$work/A/zv.img" "$work/J/A/"
mv "$limg" "$work/J/L/"
mv "$work/R"/r?.img "$work/J/R/"
cat > "$work/J/job.sh" <<'X'
M=$((1 << 20))
dev() { for d in /dev/zd*; do [ "$(cat /sys/block/${d#/dev/}/size)" -eq $(($1 / 512)) ] && echo $d; done; }
zpool import -o readonly=on -d /host/R rz && zfs list -Hp -o COLS -r rz > /host/R-list
zpool export rz
zpool import -o readonly=on -d /host/A zv || exit 1
sleep 2
zfs list -Hp -o COLS -r zv > /host/A-list
zfs get -Hp -s local all zv zv/vol zv/svol zv/v2 zv/fs > /host/A-get
zfs get -Hp volsize,volblocksize,refreservation,usedbyrefreservation zv/vol zv/svol > /host/A-get2
for v in vol:$((16 * M)) svol:$((4 * M)) v2:$((8 * M)); do
	echo "${v%%:*} $(sha256sum < $(dev ${v#*:}) | cut -d' ' -f1)"
done > /host/A-sums
zpool export zv
zpool import -d /host/A zv && zpool scrub -w zv && zpool status zv > /host/A-status
zpool export -f zv
zpool import -o readonly=on -d /host/L layout || exit 1
sleep 2
zfs list -Hp -o COLS layout/vol > /host/L-list
sha256sum < $(dev $((16 * M))) | cut -d' ' -f1 > /host/L-sum
zpool export layout
zpool import -d /host/L layout && zpool scrub -w layout && zpool status layout > /host/L-status
zpool export -f layout
zpool import -d /host/C vc || exit 1
sleep 2
sha256sum < $(dev $((12 * M))) | cut -d' ' -f1 > /host/C-sum
zpool scrub -w vc && zpool status vc > /host/C-status
zpool export vc
X
sed -i "s/COLS/$COLS/g" "$work/J/job.sh"
oracle "$work/J"

J=$work/J
while read -r name size sum; do
	got=$(awk -v n="$name" '$1 == n { print $2 }' "$J/A-sums" 2>/dev/null)
	[ "$got" == "$sum" ] && ok "OpenZFS reads zv/$name as written (sha256 $sum)" ||
		notok "OpenZFS reads zv/$name: '$got', model $sum"
done < "$work/data/model"
grep -q "errors: No known data errors" "$J/A-status" 2>/dev/null &&
	grep -q "scan: scrub repaired 0B .* with 0 errors" "$J/A-status" &&
	ok "scrub of A: 0 errors" || { cat "$J/A-status"; notok "scrub of A"; }
echo "zfs list -p ($COLS) of A:"; cat "$J/A-list"
# The volumes in full; of the filesystem its refreservation (an empty
# filesystem OpenZFS makes has its objects from 32: one dnode block more);
# not the pool root (its CHILD share holds $MOS, written differently).
cmp_rows() { awk -F'\t' '$2 == "volume" || $1 == "zv/fs" { if ($2 != "volume") $0 = $1 " " $7; print }' "$1"; }
# near A B: the rows agree, space columns within 32K
near() {
	paste -d'\n' <(cmp_rows "$1") <(cmp_rows "$2") | awk -F'\t' '
		NR % 2 { split($0, a, "\t"); next }
		{ n = split($0, b, "\t")
		  for (i = 1; i <= n; i++) {
			d = a[i] - b[i]; if (d < 0) d = -d
			if (i ~ /^(3|4|8|9|10)$/ ? d > 32768 : a[i] != b[i]) { print "differ: " $1 " column " i ": " a[i] " vs " b[i]; bad = 1 }
		  } }
		END { exit bad }'
}
if near "$work/B/oz-list" "$J/A-list" > "$work/list.diff" &&
   [ "$(cmp_rows "$work/B/oz-list" | cut -f1)" == "$(cmp_rows "$J/A-list" | cut -f1)" ]; then
	ok "zfs list of A's datasets equals OpenZFS's own (B)"
else
	cat "$work/list.diff"; notok "zfs list: A (>) differs from B (<)"
fi
if diff <(sed 's/^zv\t/zv /' "$work/B/oz-get") <(sed 's/^zv\t/zv /' "$J/A-get") > "$work/get.diff"; then
	ok "zfs get -s local all of A equals B's"
else
	cat "$work/get.diff"; notok "zfs get -s local: A (>) differs from B (<)"
fi
diff "$work/A/zfuse-list" "$J/A-list" > /dev/null && ok "zfuse list of A equals zfs list" ||
	{ diff "$work/A/zfuse-list" "$J/A-list"; notok "zfuse list (<) vs zfs list (>) of A"; }
diff "$work/A/zfuse-get" "$J/A-get" > /dev/null && ok "zfuse get -s local all of A equals zfs get" ||
	{ diff "$work/A/zfuse-get" "$J/A-get"; notok "zfuse get (<) vs zfs get (>) of A"; }
diff "$work/A/zfuse-get2" "$J/A-get2" > /dev/null &&
	ok "zfuse get volsize,volblocksize,refreservation,usedbyrefreservation equals zfs get (sources too)" ||
	{ diff "$work/A/zfuse-get2" "$J/A-get2"; notok "zfuse get (<) vs zfs get (>) of the volume properties"; }
echo "zfs list -p of R:"; cat "$J/R-list"
near "$work/B/oz-rlist" "$J/R-list" > /dev/null && ok "RAID-Z1: zfs list of R equals OpenZFS's own" ||
	{ diff <(cmp_rows "$work/B/oz-rlist") <(cmp_rows "$J/R-list"); notok "RAID-Z1: zfs list of R (>) differs from OpenZFS's (<)"; }
diff "$work/R/zfuse-list" "$J/R-list" > /dev/null && ok "zfuse list of R equals zfs list" ||
	{ diff "$work/R/zfuse-list" "$J/R-list"; notok "zfuse list (<) vs zfs list (>) of R"; }
[ "$(cat "$J/L-sum" 2>/dev/null)" == "$(cat "$work/L/want")" ] &&
	ok "OpenZFS reads layout/vol with zfuse's write" ||
	notok "layout/vol: OpenZFS sha256 $(cat "$J/L-sum" 2>/dev/null), want $(cat "$work/L/want")"
grep -q "scrub repaired 0B .* with 0 errors" "$J/L-status" 2>/dev/null &&
	ok "scrub of layout: 0 errors" || { cat "$J/L-status"; notok "scrub of layout"; }
[ "$(cat "$J/C-sum" 2>/dev/null)" == "$(cat "$work/C-want")" ] &&
	ok "OpenZFS replays zfuse's volume log: every fsync'ed write and discard is there" ||
	notok "crashed volume: OpenZFS sha256 $(cat "$J/C-sum" 2>/dev/null), want $(cat "$work/C-want")"
grep -q "scrub repaired 0B .* with 0 errors" "$J/C-status" 2>/dev/null &&
	ok "scrub after OpenZFS's replay of the volume log: 0 errors" || { cat "$J/C-status"; notok "scrub of vc"; }
diff "$work/L/zfuse-list" "$J/L-list" > /dev/null && ok "zfuse list of layout/vol equals zfs list: $(cat "$J/L-list")" ||
	{ diff "$work/L/zfuse-list" "$J/L-list"; notok "zfuse list (<) vs zfs list (>) of layout/vol"; }
exit $fail
