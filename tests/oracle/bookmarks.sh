#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# bookmarks.sh ZFUSE — issue 9: bookmarks, judged by OpenZFS.
#
# (1) OpenZFS makes a pool with snapshots and bookmarks of its own (one
#     whose snapshot it then destroyed). Two copies: zfuse runs a sequence
#     of bookmark, snapshot, destroy and rollback verbs on one (-d), OpenZFS
#     the same zfs commands on the other. The bookmarks' recorded figures
#     (flags, referenced, freed-before-next-snapshot: zdb of the bookmarks
#     ZAP), `written#BM`, the bookmark feature refcounts and the space
#     figures of both copies agree; zfuse list/get print what zfs prints on
#     zfuse's copy; it scrubs clean and zdb -bcc finds no leak.
# (2) On a pool made by `zfuse create`, data is written and removed
#     through a zfuse mount after a bookmark (the verbs go through the
#     daemon): the bookmark that followed the kills records what a
#     bookmark made afterwards from the next snapshot's deadlist records,
#     as OpenZFS keeps them; OpenZFS reads the pool with the same figures.
# Bad input: refused in zfs's words, images unchanged.
set -uo pipefail
ZFUSE=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
require qemu zdb root fuse
work=$(mktemp -d "${TMPDIR:-/tmp}/zfuse-bm.XXXXXX")
trap 'mountpoint -q "$work/mnt" && "$ZFUSE" unmount "$work/mnt"; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
fail=0

# bmzap DIR POOL DS: "name flags refd*3 fbn*3" of each bookmark of DS (zdb),
# and "name txg guid" too with ALL=1
bmzap() {
	local obj zap
	obj=$(zdb -e -p "$1" -d "$3" 2>/dev/null | sed -n 's/.*, ID \([0-9]*\),.*/\1/p')
	zap=$(zdb -e -p "$1" -dddd "$2" "$obj" 2>/dev/null | awk '$1=="com.delphix:bookmarks" {print $3}')
	[ -n "$zap" ] || { echo "no bookmarks"; return; }
	zdb -e -p "$1" -dddd "$2" "$zap" 2>/dev/null | awk -v all="${ALL:-0}" \
		'NF == 14 && $2 == "=" { print $1, (all ? $4 " " $3 " " : "") $7, $8, $9, $10, $11, $12, $13 }' |
		LC_ALL=C sort
}
# dlkeys DIR DS: how many keys the head's deadlist has
dlkeys() { zdb -e -p "$1" -dddd "$2" 2>/dev/null | grep -c "^mintxg "; }
# features DIR POOL: the bookmark features' and extensible_dataset's refcounts
features() {
	local o
	for n in features_for_read features_for_write; do
		o=$(zdb -e -p "$1" -dddd "$2" 1 2>/dev/null | awk -v n=$n '$1==n {print $3}')
		zdb -e -p "$1" -dddd "$2" "$o" 2>/dev/null | grep -E 'bookmark|extensible'
	done | LC_ALL=C sort
}

# ---- (1): an OpenZFS-made pool ---------------------------------------------------
mkdir -p "$work/make"
cat > "$work/make/job.sh" <<'X'
set -e
truncate -s 128M /tmp/op.img
zpool create -o ashift=12 op /tmp/op.img
zfs create op/a; zfs create op/b
for i in 1 2 3; do dd if=/dev/urandom of=/op/a/f$i bs=64k count=$((i*3)) status=none; done
zfs snapshot op/a@s1
zfs bookmark op/a@s1 op/a#o1
dd if=/dev/urandom of=/op/a/f4 bs=64k count=5 status=none; rm /op/a/f1
zfs snapshot op/a@s2
zfs bookmark op/a@s2 op/a#o2
dd if=/dev/urandom of=/op/a/f2 bs=64k count=2 seek=1 conv=notrunc status=none
zfs snapshot op/a@s2b
zfs bookmark op/a@s2b op/a#o2b
rm /op/a/f4
zfs destroy op/a@s2b
zfs snapshot op/a@s3
dd if=/dev/urandom of=/op/a/f5 bs=64k count=4 status=none; rm /op/a/f3
zfs snapshot op/b@x
zfs clone op/a@s1 op/c
zpool export op
cp --sparse=always /tmp/op.img /host/op.img
X
oracle "$work/make" || exit 1
A="$work/cmp/A"; B="$work/cmp/B"
mkdir -p "$A" "$B"
cp --sparse=always "$work/make/op.img" "$A/op.img"
cp --sparse=always "$work/make/op.img" "$B/op.img"
cat > "$work/cmp/ops.txt" <<'X'
bookmark op/a@s3 op/a#z3
bookmark op/a#o1 op/a#z1copy
bookmark op/a@s1 op/c#fromorigin
snapshot op/a@s4
destroy op/a@s3
bookmark op/a@s1 op/a#z1
destroy op/a#o2
destroy op/a@s2
snapshot op/a@s5
destroy op/a@s4
bookmark op/a@s5 op/a#z5
snapshot op/a@s6
bookmark op/a@s6 op/a#z6
destroy op/a@s6
rollback -r op/a@s5
destroy op/a#z1copy
snapshot op/a@s7
snapshot op/a@s8
bookmark op/a@s8 op/a#z8
bookmark op/a#z8 op/a#z8b
destroy op/a@s8
snapshot op/a@s9
destroy op/a#z8
bookmark op/a@s9 op/a#z9
snapshot op/a@s10
destroy op/a@s9
destroy op/a#z9
create op/d
snapshot op/d@x
bookmark op/d@x op/d#y
bookmark op/d#y op/d#y2
destroy -r op/d
X
while read -r line; do
	# shellcheck disable=SC2086
	"$ZFUSE" ${line%% *} -d "$A" ${line#* } || notok "zfuse ${line}"
done < "$work/cmp/ops.txt"
zdb_bcc "$A" op "$work/cmp/zdb.out" && ok "zdb -bcc after zfuse's bookmark sequence" ||
	notok "zdb -bcc after zfuse's bookmark sequence (see $work/cmp/zdb.out)"
zdb -e -p "$A" -d op > "$work/cmp/zdb-d.out" 2>&1
grep -q "Verified bookmark_written feature refcount of [1-9]" "$work/cmp/zdb-d.out" &&
	! grep -qi "mismatch\|error" "$work/cmp/zdb-d.out" &&
	ok "zdb verifies the bookmark_written refcount: $(grep -o "bookmark_written feature refcount of [0-9]*" "$work/cmp/zdb-d.out")" ||
	notok "zdb's feature refcount check (see $work/cmp/zdb-d.out)"
COLS=name,type,used,referenced,written,createtxg,guid
"$ZFUSE" list -H -p -t all -o $COLS -d "$A" -r op > "$work/cmp/zfuse.list" || notok "zfuse list"
"$ZFUSE" get -H -p all -d "$A" op/a#z5 op/a#z1 op/a#o2b op/c#fromorigin | LC_ALL=C sort > "$work/cmp/zfuse.get" ||
	notok "zfuse get"
bmzap "$A" op op/a > "$work/cmp/A.bm"
features "$A" op > "$work/cmp/A.feat"
dlkeys "$A" op/a > "$work/cmp/A.dl"
WRITTEN="written#o1,written#o2b,written#z1,written#z3,written#z5,written#z8b,written@s1,written@s5"
"$ZFUSE" list -H -p -o name,$WRITTEN -d "$A" op/a > "$work/cmp/zfuse.written" || notok "zfuse list written#"
cat > "$work/cmp/job.sh" <<X
zpool import -N -d /host/B -f op || exit 1
while read -r v rest; do
	[ "\$v" = create ] && v="create -u"
	zfs \$v \$rest || echo "zfs FAILED \$v \$rest"
done < /host/ops.txt
zpool export op
zpool import -o readonly=on -N -d /host/A -f op || exit 1
zfs list -H -p -t all -o $COLS -r op > /host/A.list
zfs get -H -p all op/a#z5 op/a#z1 op/a#o2b op/c#fromorigin | LC_ALL=C sort > /host/A.get
zfs list -H -p -o name,$WRITTEN op/a > /host/A.written
zpool export op
zpool import -o readonly=on -N -d /host/B -f op || exit 1
zfs list -H -p -t all -o $COLS -r op > /host/B.list
zfs list -H -p -o name,$WRITTEN op/a > /host/B.written
zpool export op
zpool import -N -d /host/A -f op || exit 1
zpool scrub -w op; zpool status op | grep -E "errors:"
zfs destroy op/a#z5 && zfs destroy op/a@s5 && echo "OpenZFS changed zfuse's bookmarks"
zpool export op
zpool import -o readonly=on -N -d /host/Z -f kp || exit 1
zfs list -H -p -t all -o $COLS -r kp > /host/Z.list
zfs list -H -p -o name,written#early,written#late kp/a > /host/Z.written
zpool export kp
zpool import -N -d /host/Z -f kp || exit 1
zpool scrub -w kp; zpool status kp | grep -E "errors:"
zpool export kp
X

# ---- (2): a zfuse-made pool, blocks killed through a mount ------------------------
Z="$work/cmp/Z"; mnt="$work/mnt"; mkdir -p "$Z" "$mnt"
"$ZFUSE" create -s 128M kp "$Z/kp.img" > /dev/null && "$ZFUSE" create -d "$Z" kp/a ||
	notok "zfuse create"
if "$ZFUSE" mount "$Z/kp.img" "$mnt"; then
	dd if=/dev/urandom of="$mnt/a/f1" bs=64k count=8 status=none
	dd if=/dev/urandom of="$mnt/a/f2" bs=64k count=4 status=none
	"$ZFUSE" snapshot kp/a@s1 && "$ZFUSE" bookmark kp/a@s1 '#early' || notok "bookmark via the daemon"
	rm "$mnt/a/f1"
	dd if=/dev/urandom of="$mnt/a/f2" bs=64k count=1 conv=notrunc status=none
	sync
	"$ZFUSE" snapshot kp/a@s2 && "$ZFUSE" bookmark kp/a@s1 kp/a#late || notok "bookmark via the daemon"
	dd if=/dev/urandom of="$mnt/a/f3" bs=64k count=2 status=none
	"$ZFUSE" unmount "$mnt"
else
	notok "mount"
fi
zdb_bcc "$Z" kp "$Z/zdb.out" && ok "zdb -bcc: blocks killed after a bookmark" || notok "zdb -bcc (2)"
ALL=1 bmzap "$Z" kp kp/a > "$Z/bm"
if [ "$(wc -l < "$Z/bm")" = 2 ] && [ "$(cut -d' ' -f2- "$Z/bm" | sort -u | wc -l)" = 1 ] &&
   ! grep -q " 0 0 0$" "$Z/bm"; then
	ok "a bookmark kept through block kills equals one made from the next snapshot: $(head -1 "$Z/bm")"
else
	notok "bookmarks early/late differ: $(cat "$Z/bm")"
fi
"$ZFUSE" list -H -p -t all -o $COLS -d "$Z" -r kp > "$Z/zfuse.list"

# ---- bad input: refused in zfs's words, images unchanged ---------------------------
sum() { sha256sum "$A/op.img" | cut -d' ' -f1; }
before=$(sum)
while IFS='|' read -r cmd words; do
	# shellcheck disable=SC2086
	if out=$("$ZFUSE" ${cmd%% *} -d "$A" ${cmd#* } 2>&1); then
		notok "zfuse $cmd was accepted"
	elif ! grep -qF -- "$words" <<< "$out"; then
		notok "zfuse $cmd: '$out' lacks zfs's '$words'"
	fi
done <<'X'
bookmark op/a@nosuch op/a#x|cannot open 'op/a@nosuch': dataset does not exist
bookmark op/a#nosuch op/a#x|cannot open 'op/a#nosuch': no such pool or dataset
bookmark op/a@s5 op/a#z5|cannot create bookmark 'op/a#z5': bookmark exists
bookmark op/a@s5 op/b#x|cannot create bookmark 'op/b#x': source is not an ancestor of the new bookmark's dataset
bookmark op/b@x op/c#x|cannot create bookmark 'op/c#x': source is not an ancestor of the new bookmark's dataset
bookmark op/a@s5 op/a#b!d|cannot create bookmark 'op/a#b!d': invalid argument
bookmark op/a@s5 op/a@x|invalid bookmark name 'op/a@x': must contain a '#'
bookmark op/a op/a#q|invalid source name 'op/a': must contain a '@' or '#'
bookmark op/a@s5 op/zz#y|cannot create bookmark 'op/zz#y': dataset does not exist
bookmark @s5 #y|either source or bookmark must be specified as full dataset paths
destroy op/a#nosuch|bookmark 'op/a#nosuch' does not exist.
destroy op/zz#nosuch|bookmark 'op/zz#nosuch' does not exist.
destroy -r op/a#z5|recursive is not supported with bookmark
rollback op/a@s5|more recent snapshots or bookmarks exist
X
[ "$(sum)" = "$before" ] && ok "14 refused commands left the image byte for byte as it was" ||
	notok "a refused command changed the image"

# ---- the oracle ---------------------------------------------------------------------
oracle "$work/cmp" || exit 1
C="$work/cmp"
grep -q "zfs FAILED" "$C/oracle.out" && notok "OpenZFS refused a step: $(grep 'zfs FAILED' "$C/oracle.out")"
[ "$(grep -c "No known data errors" "$C/oracle.out")" = 2 ] &&
	ok "OpenZFS scrubs both zfuse-written pools clean" || notok "scrub: $(grep errors: "$C/oracle.out")"
grep -q "OpenZFS changed zfuse's bookmarks" "$C/oracle.out" &&
	ok "OpenZFS destroys a bookmark and a snapshot zfuse made" || notok "OpenZFS on zfuse's bookmarks"
bmzap "$B" op op/a > "$C/B.bm"
features "$B" op > "$C/B.feat"
dlkeys "$B" op/a > "$C/B.dl"
diff "$C/A.bm" "$C/B.bm" && ok "bookmark flags, referenced and freed-before-next figures equal OpenZFS's ($(wc -l < "$C/A.bm") bookmarks)" ||
	notok "bookmark figures differ (< zfuse's copy, > OpenZFS's)"
diff "$C/A.dl" "$C/B.dl" && ok "op/a's deadlist has OpenZFS's $(cat "$C/B.dl") keys (bookmarks' kept, added, dropped)" ||
	notok "op/a's deadlist keys: zfuse $(cat "$C/A.dl"), OpenZFS $(cat "$C/B.dl")"
diff "$C/A.feat" "$C/B.feat" && ok "bookmark feature refcounts equal OpenZFS's: $(tr -s '\t\n' '  ' < "$C/A.feat")" ||
	notok "feature refcounts differ (< zfuse's copy, > OpenZFS's)"
diff "$C/A.written" "$C/B.written" && ok "written#bookmark equals OpenZFS's: $(cat "$C/A.written")" ||
	notok "written#bookmark differs (< zfuse's copy, > OpenZFS's)"
diff "$C/zfuse.written" "$C/A.written" && ok "zfuse list -o written#BM,written@SNAP equals zfs list" ||
	notok "zfuse's written#/written@ differ from zfs's (< zfuse, > zfs)"
# New snapshots and bookmarks get other txgs and guids on the two sides.
cut_figures() { grep -v -e "^op	" "$1" | cut -f1-5; }
diff <(cut_figures "$C/A.list") <(cut_figures "$C/B.list") &&
	ok "space figures after zfuse's sequence equal OpenZFS's after the same zfs commands" ||
	notok "space figures differ (< zfuse's copy, > OpenZFS's)"
diff "$C/zfuse.list" "$C/A.list" && ok "zfuse list -t all equals zfs list on zfuse's copy" ||
	notok "zfuse list differs from zfs list (< zfuse, > zfs)"
diff "$C/zfuse.get" "$C/A.get" && ok "zfuse get all of bookmarks equals zfs get" ||
	notok "zfuse get differs from zfs get (< zfuse, > zfs)"
diff "$Z/zfuse.list" "$C/Z.list" && ok "(2) zfuse list equals zfs list" || notok "(2) zfuse list differs"
read -r _ e l < "$C/Z.written"
[ -n "${e:-}" ] && [ "$e" = "$l" ] && ok "(2) OpenZFS: written#early = written#late = $e" ||
	notok "(2) written#early/late: $(cat "$C/Z.written")"
exit $fail
