#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# volume.sh ZFUSE [ZFUSE_VOL] — a zvol's contents: the layout fixture's 16 MiB volume
# holds a pattern file written at offset 0 (vol.sha256), zeros after it.
set -uo pipefail
ZFUSE=$1
. "$(dirname "$0")/lib.sh"
dir=$(unpack layout)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$ZFUSE" inspect "$dir"/*.img cat layout/vol > "$out" || die "cat of the volume failed"
size=$(stat -c %s "$out")
[ "$size" -eq $((16 << 20)) ] || die "volume size $size, expected 16 MiB"
want=$(cut -d' ' -f1 "$SHARED/fixtures/layout/vol.sha256")
got=$(python3 -c '
import hashlib, sys
d = open(sys.argv[1], "rb").read()
print(hashlib.sha256(d[:len(d.rstrip(b"\0"))]).hexdigest())' "$out")
[ "$got" == "$want" ] || die "volume contents: sha256 $got, expected $want"
echo "ok: layout/vol: 16 MiB, pattern sha256 $want"
"$ZFUSE" inspect "$dir"/*.img cat layout/nonexistent 2>/dev/null && die "a missing volume was read"
echo "ok: missing volume refused"

# ---- writing, through the library (zfuse-vol) --------------------------------
ZVOL=${2:-}
[ -n "$ZVOL" ] || exit 0
work=$(mktemp -d "${TMPDIR:-/tmp}/zfuse-volume.XXXXXX")
trap 'rm -f "$out"; rm -rf "$work"' EXIT
img=$work/v.img
M=$((1 << 20))
"$ZFUSE" create -s 128M vt "$img" > /dev/null || die "zfuse create vt"
"$ZVOL" "$img" create vt/v $((16 * M)) || die "zfuse_volume_create"
"$ZVOL" "$img" create vt/s $((8 * M)) sparse volblocksize=4096 || die "zfuse_volume_create sparse"
[ "$("$ZVOL" "$img" info vt/s)" == "$((8 * M)) 4096 1" ] || die "info vt/s: $("$ZVOL" "$img" info vt/s)"
python3 -c 'import os, sys; open(sys.argv[1], "wb").write(os.urandom(3 << 20))' "$work/d"
truncate -s 16M "$work/model"
# check_acct NAME WHEN: used = dataset + snapshots + refreservation's
# share; the share is at most the refreservation and, with no snapshots
# (unique bytes = usedbydataset), max(refreservation - unique, 0), as
# OpenZFS keeps them
check_acct() {
	local nsnap
	nsnap=$("$ZFUSE" list -H -t snapshot -o name -d "$img" 2>/dev/null | grep -c "^$1@")
	"$ZFUSE" list -Hp -o used,usedbydataset,usedbysnapshots,usedbyrefreservation,refreservation \
		-d "$img" "$1" | {
		read -r used ds snap rr res
		want=$((res > ds ? res - ds : 0))
		[ "$used" -eq $((ds + snap + rr)) ] && [ "$rr" -le "$res" ] &&
			{ [ "$nsnap" -gt 0 ] || [ "$rr" -eq "$want" ]; } ||
			die "$1 ($2): used $used dataset $ds snapshots $snap refreservation share $rr (want $want without snapshots), refreservation $res"
	} && echo "ok: $1 accounting after $2"
}
check_acct vt/v "create"
w() {  # w OFFSET: the data at OFFSET, in the volume and the model
	"$ZVOL" "$img" write vt/v "$1" < "$work/d" || die "write at $1"
	dd if="$work/d" of="$work/model" bs=1M seek="$1" oflag=seek_bytes conv=notrunc status=none
}
w 4097
"$ZVOL" "$img" read vt/v | cmp -s - "$work/model" && echo "ok: unaligned write read back" ||
	die "read back after the write"
check_acct vt/v "a write"
"$ZFUSE" snapshot -d "$img" vt/v@a && check_acct vt/v "a snapshot"
w $((M + 5)) && check_acct vt/v "an overwrite after the snapshot"
cp "$work/model" "$work/model-b"
"$ZFUSE" snapshot -d "$img" vt/v@b && w $((10 * M)) && check_acct vt/v "another"
"$ZFUSE" rollback -d "$img" vt/v@b && cp "$work/model-b" "$work/model" && check_acct vt/v "a rollback"
"$ZVOL" "$img" read vt/v | cmp -s - "$work/model" && echo "ok: rollback restores the snapshot" ||
	die "contents after the rollback"
"$ZFUSE" destroy -d "$img" vt/v@a && check_acct vt/v "destroying the older snapshot"
"$ZFUSE" destroy -d "$img" vt/v@b && check_acct vt/v "destroying the newest snapshot"
"$ZVOL" "$img" free vt/v $((M + 5)) $((2 * M)) || die "free"
dd if=/dev/zero of="$work/model" bs=1M seek=$((M + 5)) count=2 oflag=seek_bytes conv=notrunc status=none
"$ZVOL" "$img" read vt/v | cmp -s - "$work/model" && echo "ok: a discarded range reads as zeros" ||
	die "contents after the discard"
check_acct vt/v "a discard"
# volsize: the refreservation follows while it is the old size's
res0=$("$ZFUSE" get -Hp -o value refreservation -d "$img" vt/v)
"$ZVOL" "$img" set vt/v volsize=$((32 * M)) || die "volsize 32M"
res1=$("$ZFUSE" get -Hp -o value refreservation -d "$img" vt/v)
[ "$res1" -gt "$res0" ] && echo "ok: refreservation follows volsize ($res0 -> $res1)" ||
	die "refreservation after growing: $res0 -> $res1"
check_acct vt/v "growing"
"$ZVOL" "$img" set vt/v volsize=$((2 * M)) || die "volsize 2M"
"$ZVOL" "$img" read vt/v | cmp -s - <(head -c $((2 * M)) "$work/model") && echo "ok: shrinking keeps the start" ||
	die "contents after shrinking"
check_acct vt/v "shrinking"
"$ZVOL" "$img" set vt/s volsize=$((12 * M)) && [ "$("$ZFUSE" get -Hp -o value refreservation -d "$img" vt/s)" == 0 ] &&
	echo "ok: a sparse volume stays sparse" || die "sparse volume after volsize"
"$ZVOL" "$img" write vt/s $((12 * M - 10)) < "$work/d" 2>/dev/null && die "a write past the end was taken"
"$ZFUSE" set -d "$img" refreservation=5M vt/s && check_acct vt/s "setting a refreservation"
"$ZFUSE" set -d "$img" refreservation=none vt/s && check_acct vt/s "removing it"
"$ZFUSE" destroy -d "$img" vt/v && "$ZFUSE" destroy -d "$img" vt/s || die "destroy"
[ "$("$ZFUSE" get -Hp -o value usedbychildren -d "$img" vt)" -lt $((M / 2)) ] &&
	echo "ok: destroying the volumes gives their space back" || die "space after destroy"
if command -v zdb > /dev/null; then
	zdb_bcc "$work" vt "$work/zdb.out" && echo "ok: zdb -bcc: no leaks" || { tail "$work/zdb.out"; die "zdb -bcc"; }
else
	skip_stage "zdb -bcc of the written volumes: no zdb" || die "no zdb"
fi

# ---- the volume's intent log: fsync without a txg sync, replay after a crash ------------
# zfuse-vol crash: half the data, fsync (the chain starts with a txg sync),
# the other half and a discard over part of it, fsync, exit unclosed. The
# pool is 1 GiB: on a tiny one the log keeps out of the slop space and
# fsync syncs the txg instead.
crash_img=$work/c.img
"$ZFUSE" create -s 1G vc "$crash_img" > /dev/null || die "zfuse create vc"
"$ZVOL" "$crash_img" create vc/v $((12 * M)) || die "create vc/v"
"$ZVOL" "$crash_img" crash vc/v 4097 $((6 * M)) $((6 * M + 100000)) 300000 < "$work/d" ||
	die "zfuse-vol crash"
want=$("$(dirname "$0")/vol_crash_model.py" "$work/d" $((12 * M)) 4097 $((6 * M)) $((6 * M + 100000)) 300000)
recs=$("$ZFUSE" inspect "$crash_img" zil vc/v | awk '/^ +type: TX_/ { print $2 }' | sort | uniq -c | tr -s ' ' | tr '\n' ',')
case $recs in
*TX_TRUNCATE*TX_WRITE*) echo "ok: the crashed volume's log holds its writes and discard ($recs)" ;;
*) die "the crashed volume's log: '$recs', want TX_WRITE and TX_TRUNCATE records" ;;
esac
got=$("$ZVOL" "$crash_img" read vc/v | sha256sum | cut -d' ' -f1)
[ "$got" == "$want" ] && echo "ok: replayed by zfuse at open: every fsync'ed write and discard is there" ||
	die "after zfuse's replay: sha256 $got, want $want"
zil_listing=$("$ZFUSE" inspect "$crash_img" zil vc/v)	# whole: see volume-roundtrip.sh
grep -q "state: no log" <<< "$zil_listing" && echo "ok: the replayed log is destroyed" ||
	die "the log is still there after the replay"
if command -v zdb > /dev/null; then
	mkdir -p "$work/cz" && mv "$crash_img" "$work/cz/"
	zdb_bcc "$work/cz" vc "$work/zdb-c.out" && echo "ok: zdb -bcc after the replay: no leaks" ||
		{ tail "$work/zdb-c.out"; die "zdb -bcc after the volume replay"; }
else
	skip_stage "zdb -bcc after the volume replay: no zdb" || die "no zdb"
fi
