#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# dataset-sequences.sh ZFUSE — issue 9's sequences, judged by OpenZFS.
#
# (b) The oracle makes a pool with a chain of snapshots, a recursive
#     snapshot, a child and a clone. Two copies of it: zfuse changes one
#     with its verbs (-d, the pool not mounted), OpenZFS the other with the
#     same zfs commands. Then OpenZFS imports both (read-only first):
#       - zfs list -p of both copies agree on every space figure, except
#         the pool root (its CHILD share holds $MOS, written differently),
#         `available` (pool free space, $MOS again) and filesystems created
#         empty (OpenZFS numbers their objects from 32, a per-CPU
#         allocation chunk: one more dnode block);
#       - zfuse list/get on zfuse's copy print what zfs list/get print for it;
#       - zfuse's copy scrubs with 0 errors, its rolled-back head equals its
#         snapshot, and zdb -bcc finds no leak.
# (a) The same verbs on a pool made by `zfuse create`, judged the same way.
# Bad input: each refusal leaves the images byte for byte as they were.
set -uo pipefail
ZFUSE=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
require qemu zdb
work=$(mktemp -d "${TMPDIR:-/tmp}/zfuse-dsq.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail=0
COLS=name,type,used,available,referenced,usedbysnapshots,usedbychildren,usedbydataset,written,origin,compressratio,logicalreferenced

# ---- (b): an OpenZFS-made pool -------------------------------------------------
mkdir -p "$work/make"
cat > "$work/make/job.sh" <<'X'
set -e
truncate -s 128M /tmp/op.img
zpool create -o ashift=12 op /tmp/op.img
zfs create op/a
zfs create op/a/k
for i in 1 2 3; do dd if=/dev/urandom of=/op/a/f$i bs=64k count=$((i*3)) status=none; done
zfs snapshot op/a@s1
dd if=/dev/urandom of=/op/a/f4 bs=64k count=5 status=none; rm /op/a/f1
zfs snapshot op/a@s2
dd if=/dev/urandom of=/op/a/f2 bs=64k count=2 seek=1 conv=notrunc status=none
mkdir /op/a/d; echo x > /op/a/d/y
zfs snapshot -r op/a@s3
rm /op/a/f3; dd if=/dev/urandom of=/op/a/f5 bs=64k count=4 status=none
zfs snapshot op/a@s4
dd if=/dev/urandom of=/op/a/f6 bs=64k count=3 status=none
zfs clone op/a@s2 op/c
dd if=/dev/urandom of=/op/c/g bs=64k count=2 status=none
zfs set compression=zstd op/c
zfs snapshot op@top
zpool export op
cp --sparse=always /tmp/op.img /host/op.img
X
oracle "$work/make" || exit 1
mkdir -p "$work/cmp/A" "$work/cmp/B"
cp --sparse=always "$work/make/op.img" "$work/cmp/A/op.img"
cp --sparse=always "$work/make/op.img" "$work/cmp/B/op.img"

# The sequence, in zfs's words; each line is run by both.
cat > "$work/cmp/ops.txt" <<'X'
destroy op/a@s3
destroy op/a@s1
snapshot op/a@n1
destroy op/a@s4
destroy op/a/k@s3
destroy op/a/k
create op/z
snapshot op/z@x op/a@n2
destroy op/z@x
set compression=gzip-7 op/a
set com.example:tag=v1 op/a
rollback -r op/a@s2
snapshot -r op@r1
destroy -r op/z
clone -o compression=lz4 op/a@r1 op/k2
clone op/c@r1 op/a/cc
snapshot op/k2@k op/a/cc@k
destroy op/a/cc@k
rename op/a/cc op/k2/moved
rename -r op@r1 op@r2
rename op/k2@k op/k2@k2
X
A="$work/cmp/A"
while read -r line; do
	# shellcheck disable=SC2086
	"$ZFUSE" ${line%% *} -d "$A" ${line#* } || notok "zfuse ${line}"
done < "$work/cmp/ops.txt"
zdb_bcc "$A" op "$work/cmp/zdb.out" && ok "zdb -bcc after zfuse's sequence" || notok "zdb -bcc after zfuse's sequence"
"$ZFUSE" list -H -p -t all -o "$COLS" -d "$A" -r op > "$work/cmp/zfuse.list" ||
	notok "zfuse list"
"$ZFUSE" get -H -p -s local all -d "$A" -r op > "$work/cmp/zfuse.local" 2>&1 ||
	notok "zfuse get"
cp "$SHARED/oracle/manifest.sh" "$work/cmp/"
cat > "$work/cmp/job.sh" <<X
zpool import -N -d /host/B -f op || exit 1
while read -r v rest; do
	[ "\$v" = create ] && v="create -u"
	zfs \$v \$rest || echo "zfs FAILED \$v \$rest"
	# zfs clone mounts the clone, and a later mount below it would make
	# a mountpoint directory in it: a write zfuse's copy does not have.
	zfs unmount -a 2>/dev/null
done < /host/ops.txt
zpool sync op
zfs list -H -p -t all -o $COLS -r op > /host/B.list
zpool export op
zpool import -o readonly=on -N -d /host/A -f op || exit 1
zfs list -H -p -t all -o $COLS -r op > /host/A.list
zfs get -H -p -s local all -r op > /host/A.local
zpool export op
zpool import -N -d /host/A -f op || exit 1
zpool scrub -w op; zpool status op | grep -E "errors:"
zfs mount op/a
/host/manifest.sh /op/a > /host/A.head
/host/manifest.sh /op/a/.zfs/snapshot/s2 > /host/A.s2
zpool export op
X
oracle "$work/cmp" || exit 1
grep -q "zfs FAILED" "$work/cmp/oracle.out" && notok "OpenZFS refused a step: $(grep 'zfs FAILED' "$work/cmp/oracle.out")"
grep -q "No known data errors" "$work/cmp/oracle.out" && ok "OpenZFS scrubs zfuse's copy clean" ||
	notok "scrub of zfuse's copy"
# Space figures of both copies; not the root (its \$MOS share) nor op/z's,
# and not `available` (the pool's free space counts the MOS too).
cut_figures() { grep -v -e "^op	" -e "^op@" -e "^op/z" "$1" | cut -f1-3,5-9,11,12; }
if diff <(cut_figures "$work/cmp/A.list") <(cut_figures "$work/cmp/B.list"); then
	ok "space figures after zfuse's sequence equal OpenZFS's after the same zfs commands"
else
	notok "space figures differ from OpenZFS's (< zfuse's copy, > OpenZFS's)"
fi
if diff "$work/cmp/zfuse.list" "$work/cmp/A.list"; then
	ok "zfuse list -Hp -t all equals zfs list on zfuse's copy"
else
	notok "zfuse list differs from zfs list (< zfuse, > zfs)"
fi
if diff "$work/cmp/zfuse.local" "$work/cmp/A.local"; then
	ok "zfuse get -s local all equals zfs get on zfuse's copy"
else
	notok "zfuse get differs from zfs get (< zfuse, > zfs)"
fi
if [ -s "$work/cmp/A.head" ] && diff -q "$work/cmp/A.head" "$work/cmp/A.s2" >/dev/null; then
	ok "after rollback -r op/a@s2, OpenZFS shows op/a as its snapshot s2"
else
	notok "rolled-back op/a differs from op/a@s2"
fi

# ---- (a): a zfuse-made pool ----------------------------------------------------
Z="$work/zp"; mkdir -p "$Z"
"$ZFUSE" create -s 128M zp "$Z/zp.img" > /dev/null || notok "zfuse create"
for cmd in "create zp/a" "create -p zp/a/b/c" "set compression=zstd-3 zp/a" \
	   "snapshot -r zp@s1" "create -o recordsize=16K zp/d" "snapshot zp/d@1 zp/a@2" \
	   "destroy zp/a@s1" "set quota=50M zp/d" "rollback zp/a@2" "destroy -r zp/a/b" \
	   "clone zp/d@1 zp/e" "create -o casesensitivity=insensitive -o atime=off zp/ci" \
	   "inherit compression zp/a" "set com.example:k=v zp/e" "snapshot zp/d@h" \
	   "hold keep zp/d@h"; do
	# shellcheck disable=SC2086
	"$ZFUSE" ${cmd%% *} -d "$Z" ${cmd#* } || notok "zfuse $cmd"
done
zdb_bcc "$Z" zp "$Z/zdb.out" && ok "zdb -bcc: zfuse-made pool after the verbs" || notok "zdb -bcc (a)"
"$ZFUSE" list -H -p -t all -o "$COLS" -d "$Z" -r zp > "$Z/zfuse.list"
"$ZFUSE" get -H -p -s local all -d "$Z" -r zp > "$Z/zfuse.local"
cat > "$Z/job.sh" <<X
zpool import -o readonly=on -N -d /host -f zp || exit 1
zfs list -H -p -t all -o $COLS -r zp > /host/oz.list
zfs get -H -p -s local all -r zp > /host/oz.local
zpool export zp
zpool import -N -d /host -f zp || exit 1
zpool scrub -w zp; zpool status zp | grep -E "errors:"
zfs holds -H zp/d@h | cut -f1,2 > /host/oz.holds
zfs destroy zp/d@h 2>/dev/null && echo "held snapshot destroyed"
zfs release keep zp/d@h && zfs destroy zp/d@h && echo "released and destroyed"
zpool export zp
X
if oracle "$Z"; then
	grep -q "No known data errors" "$Z/oracle.out" && ok "OpenZFS scrubs the zfuse-made pool clean" ||
		notok "scrub (a)"
	diff "$Z/zfuse.list" "$Z/oz.list" && ok "(a) zfuse list equals zfs list" || notok "(a) zfuse list differs (< zfuse, > zfs)"
	diff "$Z/zfuse.local" "$Z/oz.local" && ok "(a) zfuse get equals zfs get" || notok "(a) zfuse get differs"
	if [ "$(cat "$Z/oz.holds")" = "$(printf 'zp/d@h\tkeep')" ] &&
	   ! grep -q "held snapshot destroyed" "$Z/oracle.out" &&
	   grep -q "released and destroyed" "$Z/oracle.out"; then
		ok "OpenZFS sees zfuse's hold, refuses to destroy the held snapshot, releases it"
	else
		notok "holds: OpenZFS shows '$(cat "$Z/oz.holds")'"
	fi
fi

# ---- bad input: refused, images unchanged --------------------------------------
sum() { sha256sum "$Z/zp.img" | cut -d' ' -f1; }
before=$(sum)
for bad in "snapshot zp/d@1" "snapshot zp/d@1@2" "snapshot zp/nope@x" "snapshot zp/d@bad*name" \
	   "create zp/d" "create zp/no/parent" "destroy zp" "destroy zp/nope" "rollback zp/d@nope" \
	   "snapshot zp/d@$(printf 'x%.0s' $(seq 1 300))" "set nosuchprop=1 zp/d" \
	   "set compression=nope zp/d" "set used=5 zp/d"; do
	# shellcheck disable=SC2086
	if out=$("$ZFUSE" ${bad%% *} -d "$Z" ${bad#* } 2>&1); then
		notok "zfuse $bad was accepted"
	elif [ -z "$out" ]; then
		notok "zfuse $bad failed without a message"
	fi
done
[ "$(sum)" = "$before" ] && ok "13 refused commands left the image byte for byte as it was" ||
	notok "a refused command changed the image"
exit $fail
