#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# promote.sh ZFUSE — issue 9: `zfuse promote` and `zfuse destroy -R`, judged
# by OpenZFS 2.3.2.
#
# A zfuse-made pool (pz): pz/fs with files, @a, @b, more files, @c; clone
# pz/c1 of @b, written, c1@x; clone pz/c2 of c1@x (a clone of a clone),
# written. That state ("pre") is kept. Then:
# (a) zfuse runs the sequence offline: promote c2 (a clone of a clone: c1@x
#     moves to c2, c1 becomes its clone), promote c2 again (now fs@a, fs@b
#     move, fs@c stays), promote c1 (a, b, x move back to c1, and fs's
#     dependency with them), destroy c1@a (a moved snapshot), destroy -R
#     c1@b (fs, a clone of it, goes with it); zdb -bcc finds no leak after
#     each step. OpenZFS imports the result:
#     it scrubs with 0 errors, its zfs list equals zfuse list, and each
#     remaining dataset and snapshot has the same manifest under both.
# (b) OpenZFS runs the same zfs commands on a copy of "pre": its zfs list
#     after each step equals zfuse's after the same step (every figure but
#     the pool root's, which holds the MOS, and `available`).
# Daemon: promote through a mounted pool's control socket; the mounted
#     clone keeps its files and takes new ones; zdb clean.
# Bad input: promote of a non-clone, of a snapshot, a snapshot name
#     conflict, destroy of a snapshot with clones, destroy -r of a
#     filesystem with clones elsewhere: non-zero exit, zfs's words (OpenZFS
#     is asked the same on the same state), images byte for byte unchanged.
set -uo pipefail
ZFUSE=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
require qemu zdb root fuse
scratch_mount promote
fail=0
COLS=name,type,used,available,referenced,usedbysnapshots,usedbychildren,written,origin,compressratio
zl() { "$ZFUSE" list -H -p -t all -o "$COLS" -d "$1" -r pz; }

# ---- the pool, written through a mount --------------------------------------------
P="$work/pre"; mkdir -p "$P" "$mnt"
"$ZFUSE" create -s 128M pz "$P/pz.img" > /dev/null && "$ZFUSE" create -d "$P" pz/fs ||
	{ notok "zfuse create"; exit 1; }
mount_bg "$ZFUSE" "$work/mount.log" "$mnt" "$P/pz.img" || { notok "mount"; exit 1; }
w() { dd if=/dev/urandom of="$mnt/$1" bs=64k count="$2" status=none; }
{ w fs/f1 8 && w fs/f2 3 && "$ZFUSE" snapshot pz/fs@a && w fs/f3 4 && rm "$mnt/fs/f1" &&
  "$ZFUSE" snapshot pz/fs@b && w fs/f4 3 && rm "$mnt/fs/f2" && "$ZFUSE" snapshot pz/fs@c &&
  w fs/f5 2 && "$ZFUSE" clone pz/fs@b pz/c1 && w c1/g 5 && rm "$mnt/c1/f3" &&
  "$ZFUSE" snapshot pz/c1@x && w c1/g2 2 && "$ZFUSE" clone pz/c1@x pz/c2 && w c2/h 3 &&
  "$ZFUSE" bookmark pz/fs@a pz/fs#ba && "$ZFUSE" bookmark pz/fs@b pz/fs#bb &&
  "$ZFUSE" bookmark pz/fs@c pz/fs#bc && "$ZFUSE" bookmark pz/c1@x pz/c1#bx; } ||
	notok "writing the pool through the mount"
"$ZFUSE" unmount "$mnt"; wait "$mount_pid" 2>/dev/null; mount_pid=
zl "$P" > "$work/pre.list"
zdb_bcc "$P" pz "$work/zdb.pre" && ok "zdb -bcc clean before promote" || notok "zdb -bcc (pre)"

# ---- (a) the sequence, offline ------------------------------------------------------
A="$work/a"; mkdir -p "$A"; cp --sparse=always "$P/pz.img" "$A/"
cat > "$work/ops.txt" <<'X'
promote pz/c2
promote pz/c2
promote pz/c1
destroy pz/c1@a
destroy -R pz/c1@b
X
n=0
while read -r line; do
	n=$((n + 1))
	# shellcheck disable=SC2086
	"$ZFUSE" ${line%% *} -d "$A" ${line#* } || notok "zfuse $line"
	zl "$A" > "$work/a.step$n"
	zdb_bcc "$A" pz "$work/zdb.$n" && ok "zdb -bcc clean after zfuse $line" ||
		notok "zdb -bcc after zfuse $line (see $work/zdb.$n)"
done < "$work/ops.txt"
# bookmarks move with the snapshots; those at a branch point are made anew
# (written#bm reads their "freed before next snapshot")
bms() {  # bms VERB...: what zfs shows of the bookmarks after the sequence
	"$@" get -H -p -o name,property,value createtxg,guid -t bookmark -r pz
	"$@" get -H -p -o name,property,value written#ba,written#bb,written#bx pz/c1
	"$@" get -H -p -o name,property,value written#bx pz/c2
}
zfa() { "$ZFUSE" "$1" -d "$A" "${@:2}"; }
bms zfa > "$work/bm.z" 2>&1
origins() { awk -F'\t' '$1 !~ /@/ && $1 !~ /#/ { printf "%s=%s ", $1, $9 }' "$1"; }
if [ "$(origins "$work/a.step1")" = "pz=- pz/c1=pz/c2@x pz/c2=pz/fs@b pz/fs=- " ] &&
   [ "$(origins "$work/a.step3")" = "pz=- pz/c1=- pz/c2=pz/c1@x pz/fs=pz/c1@b " ]; then
	ok "origins after promoting a clone of a clone, and back: as zfs promote leaves them"
else
	notok "origins: $(origins "$work/a.step1"); $(origins "$work/a.step3")"
fi
# What remains, as zfuse shows it (a copy: a mount writes atimes).
M="$work/m"; mkdir -p "$M"; cp --sparse=always "$A/pz.img" "$M/"
SH="$SHARED/oracle/manifest.sh"
if mount_bg "$ZFUSE" "$work/mount.log" "$mnt" "$M/pz.img"; then
	"$SH" "$mnt/c1" > "$work/z.c1"; "$SH" "$mnt/c1/.zfs/snapshot/x" > "$work/z.c1@x"
	"$SH" "$mnt/c2" > "$work/z.c2"
	"$ZFUSE" unmount "$mnt"; wait "$mount_pid" 2>/dev/null; mount_pid=
else
	notok "mount of the promoted pool"
fi

# ---- the daemon ----------------------------------------------------------------------
D="$work/d"; mkdir -p "$D"; cp --sparse=always "$P/pz.img" "$D/"
if mount_bg "$ZFUSE" "$work/mount.log" "$mnt" "$D/pz.img"; then
	before=$(sha256sum < "$mnt/c1/g")
	if "$ZFUSE" promote pz/c1 && [ "$(sha256sum < "$mnt/c1/g")" = "$before" ] &&
	   echo new > "$mnt/c1/after" && [ "$(cat "$mnt/c1/after")" = new ] &&
	   [ "$(ls "$mnt/c1/.zfs/snapshot" | tr '\n' ' ')" = "a b x " ] &&
	   [ "$(ls "$mnt/fs/.zfs/snapshot" | tr '\n' ' ')" = "c " ] &&
	   [ "$("$ZFUSE" get -H -o value origin pz/fs)" = pz/c1@b ]; then
		ok "promote through the daemon: the mounted clone keeps its files, takes new ones, shows a b x"
	else
		notok "promote through the daemon ($(ls "$mnt/c1/.zfs/snapshot" "$mnt/fs/.zfs/snapshot" | tr '\n' ' '))"
	fi
	# pz/fs, now a clone of c1@b, is mounted: destroy -R unmounts it first
	if [ -e "$mnt/fs/f4" ] && "$ZFUSE" destroy -R pz/c1@b > /dev/null &&
	   ! "$ZFUSE" list pz/fs > /dev/null 2>&1 && [ ! -e "$mnt/fs/f4" ] &&
	   [ "$(ls "$mnt/c1/.zfs/snapshot" | tr '\n' ' ')" = "a x " ]; then
		ok "destroy -R through the daemon: the mounted clone pz/fs is unmounted and destroyed"
	else
		notok "destroy -R pz/c1@b through the daemon"
	fi
	"$ZFUSE" unmount "$mnt"; wait "$mount_pid" 2>/dev/null; mount_pid=
	zdb_bcc "$D" pz "$work/zdb.d" && ok "zdb -bcc clean after the daemon's promote, write, destroy -R" ||
		notok "zdb -bcc after the daemon's promote"
else
	notok "mount for the daemon test"
fi

# ---- bad input, on pre with a conflicting snapshot c1@a --------------------------------
E="$work/e"; mkdir -p "$E"; cp --sparse=always "$P/pz.img" "$E/"
"$ZFUSE" snapshot -d "$E" pz/c1@a || notok "snapshot c1@a"
cp --sparse=always "$E/pz.img" "$work/e.orig"
: > "$work/z.bad"
for bad in "promote pz/c1" "promote pz/fs" "promote pz/fs@a" "destroy pz/fs@b" "destroy -r pz/fs"; do
	# shellcheck disable=SC2086
	if "$ZFUSE" ${bad%% *} -d "$E" ${bad#* } >> "$work/z.bad" 2>&1; then
		notok "zfuse $bad was accepted"
	fi
	echo "rc" >> "$work/z.bad"
done
"$ZFUSE" destroy -d "$E" -R -n -v pz/fs > "$work/z.dry" 2>&1 || notok "destroy -R -n -v"
"$ZFUSE" destroy -d "$E" -R -n -v pz/c1@x >> "$work/z.dry" 2>&1 || notok "destroy -R -n -v (snapshot)"
cmp -s "$E/pz.img" "$work/e.orig" && ok "refused commands and dry runs left the image byte for byte" ||
	notok "a refused command or a dry run changed the image"

# ---- the oracle -------------------------------------------------------------------------
O="$work/o"; mkdir -p "$O/A" "$O/B" "$O/E" "$O/L"
cp --sparse=always "$A/pz.img" "$O/A/"; cp --sparse=always "$P/pz.img" "$O/B/"
cp --sparse=always "$E/pz.img" "$O/E/"; cp "$work/ops.txt" "$SH" "$O/"
cat > "$O/job.sh" <<X
zpool import -o readonly=on -N -d /host/A -f pz || exit 1
zfs list -H -p -t all -o $COLS -r pz > /host/A.list
zpool export pz
zpool import -N -d /host/A -f pz || exit 1
zpool scrub -w pz; zpool status pz | grep -E "errors:"
zfs mount -a
/host/manifest.sh /pz/c1 > /host/o.c1; /host/manifest.sh /pz/c1/.zfs/snapshot/x > /host/o.c1@x
/host/manifest.sh /pz/c2 > /host/o.c2
# OpenZFS's destroy asserts the dir clones entries zfuse moved (a wrong one
# panics the guest)
zfs destroy pz/c2 && zfs destroy pz/c1@x && zfs destroy pz/c1 && echo "A: dependents destroyed"
zpool export pz
zpool import -N -d /host/B -f pz || exit 1
n=0
while read -r v rest; do
	n=\$((n + 1))
	zfs \$v \$rest || echo "zfs FAILED \$v \$rest"
	zfs list -H -p -t all -o $COLS -r pz > /host/b.step\$n
done < /host/ops.txt
$(declare -f bms)
bms zfs > /host/bm.o 2>&1
zpool export pz
zpool import -N -d /host/E -f pz || exit 1
for bad in "promote pz/c1" "promote pz/fs" "promote pz/fs@a" "destroy pz/fs@b" "destroy -r pz/fs"; do
	zfs \$bad >> /host/o.bad 2>&1 && echo "zfs ACCEPTED \$bad"
	echo rc >> /host/o.bad
done
zfs destroy -R -n -v pz/fs > /host/o.dry 2>&1
zfs destroy -R -n -v pz/c1@x >> /host/o.dry 2>&1
zpool export pz
# An OpenZFS clone keeps a livelist: lp/cl's is for zfuse to drop.
truncate -s 128M /tmp/lp.img; zpool create lp /tmp/lp.img
zfs create lp/fs
# (it goes once the clone shares less than 75 % with its origin: little is written)
dd if=/dev/urandom of=/lp/fs/f bs=64k count=30 status=none; zfs snapshot lp/fs@s
dd if=/dev/urandom of=/lp/fs/g bs=64k count=3 status=none; zfs snapshot lp/fs@t
zfs clone lp/fs@s lp/cl; dd if=/dev/urandom of=/lp/cl/h bs=64k count=2 status=none
dd if=/dev/urandom of=/lp/cl/f bs=64k count=1 conv=notrunc status=none; zpool sync lp
rm /lp/cl/h; zfs snapshot lp/cl@u; zpool sync lp
zpool get -H -o value feature@livelist lp > /host/L.before
zpool export lp; cp --sparse=always /tmp/lp.img /host/L/lp.img
zpool import -N -d /tmp lp; zfs promote lp/cl
zfs list -H -p -t all -o $COLS -r lp > /host/L.oz.list
zpool export lp
X
oracle "$O" || exit $fail
grep -q "zfs FAILED" "$O/oracle.out" && notok "OpenZFS refused a step: $(grep 'zfs FAILED' "$O/oracle.out")"
grep -q "zfs ACCEPTED" "$O/oracle.out" && notok "OpenZFS accepted: $(grep 'zfs ACCEPTED' "$O/oracle.out")"
grep -q "No known data errors" "$O/oracle.out" && ok "OpenZFS scrubs zfuse's promoted pool clean" ||
	notok "scrub of zfuse's promoted pool"
grep -q "A: dependents destroyed" "$O/oracle.out" &&
	ok "OpenZFS destroys the promoted clone, its snapshot and the clone of it (dd_clones kept right)" ||
	notok "OpenZFS could not destroy the promoted pool's datasets"
if diff "$work/bm.z" "$O/bm.o" > /dev/null && grep -q 'pz/c1#bb' "$work/bm.z" &&
   grep -q 'written#bb' "$work/bm.z"; then
	ok "bookmarks moved by the promotes as OpenZFS moves them (names, guids, written#bm)"
else
	notok "bookmarks after the promotes (< zfuse, > zfs): $(diff "$work/bm.z" "$O/bm.o" | tr '\n' ';')"
fi
diff "$work/a.step5" "$O/A.list" && ok "zfuse list equals zfs list on zfuse's promoted pool" ||
	notok "zfuse list differs from zfs list (< zfuse, > zfs)"
for m in c1 c1@x c2; do
	if [ -s "$O/o.$m" ] && diff -q "$work/z.$m" "$O/o.$m" > /dev/null; then
		ok "pz/$m: the same manifest under zfuse and OpenZFS"
	else
		notok "pz/$m: manifests differ"; diff "$work/z.$m" "$O/o.$m" | head -5
	fi
done
# Every figure but the root's (its CHILD share is the MOS) and available.
fig() { grep -v -e "^pz	" -e "^pz@" "$1" | cut -f1-3,5-10; }
n=0
while read -r line; do
	n=$((n + 1))
	if diff <(fig "$work/a.step$n") <(fig "$O/b.step$n"); then
		ok "(b) after '$line' zfuse's figures equal OpenZFS's"
	else
		notok "(b) after '$line' zfuse's figures differ from OpenZFS's (< zfuse, > OpenZFS)"
	fi
done < "$work/ops.txt"
diff "$work/z.bad" "$O/o.bad" && ok "refusals in zfs's words: $(grep -c rc "$O/o.bad") commands" ||
	notok "refusal messages differ from zfs's (< zfuse, > zfs)"
diff "$work/z.dry" "$O/o.dry" && ok "destroy -R -n -v lists what zfs lists" ||
	notok "destroy -R -n -v differs from zfs's (< zfuse, > zfs)"

# ---- an OpenZFS-made clone with a livelist ------------------------------------------------
L="$O/L"
[ "$(cat "$O/L.before")" = active ] && ok "the OpenZFS clone has a livelist (feature@livelist active)" ||
	notok "the OpenZFS clone has no livelist: feature@livelist $(cat "$O/L.before")"
"$ZFUSE" promote -d "$L" lp/cl || notok "zfuse promote of an OpenZFS clone with a livelist"
zdb_bcc "$L" lp "$work/zdb.l" && ok "zdb -bcc clean after zfuse promoted the OpenZFS clone" ||
	notok "zdb -bcc after promoting the OpenZFS clone (see $work/zdb.l)"
"$ZFUSE" list -H -p -t all -o "$COLS" -d "$L" -r lp > "$work/L.z.list"
lfig() { grep -v -e "^lp	" "$1" | cut -f1-3,5-10; }
diff <(lfig "$work/L.z.list") <(lfig "$L.oz.list") &&
	ok "the OpenZFS clone promoted by zfuse has the figures OpenZFS's promote gives it" ||
	notok "promote of an OpenZFS clone differs from OpenZFS's own (< zfuse, > OpenZFS)"
mkdir -p "$work/o2"; mv "$L/lp.img" "$work/o2/"
cat > "$work/o2/job.sh" <<X
zpool import -o readonly=on -N -d /host -f lp || exit 1
zfs list -H -p -t all -o $COLS -r lp > /host/oz.list
zpool get -H -o value feature@livelist lp > /host/oz.livelist
zpool export lp
zpool import -N -d /host -f lp || exit 1
zpool scrub -w lp; zpool status lp | grep -E "errors:"
zpool export lp
X
if oracle "$work/o2"; then
	grep -q "No known data errors" "$work/o2/oracle.out" &&
		ok "OpenZFS scrubs the clone zfuse promoted clean" || notok "scrub of lp"
	diff "$work/L.z.list" "$work/o2/oz.list" && ok "zfuse list equals zfs list on lp" ||
		notok "zfuse list differs from zfs list on lp (< zfuse, > zfs)"
	[ "$(cat "$work/o2/oz.livelist")" = enabled ] &&
		ok "the livelist is gone: feature@livelist enabled, no longer active" ||
		notok "feature@livelist is $(cat "$work/o2/oz.livelist") after zfuse's promote"
fi
exit $fail
