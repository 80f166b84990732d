#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# dataset-quota.sh ZFUSE — issue 9 (c): quota and refquota stop writes with
# EDQUOT where OpenZFS stops them. The same commands run through a zfuse
# mount and inside the OpenZFS VM: the file sizes reached, the refused
# creation and the allowed removal must agree; zdb is clean afterwards, and
# OpenZFS reads zfuse's pool with the same space figures it reports.
set -uo pipefail
ZFUSE=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
require qemu zdb root fuse
work=$(mktemp -d "${TMPDIR:-/tmp}/zfuse-quota.XXXXXX")
mnt="$work/mnt"; mkdir -p "$mnt" "$work/z" "$work/o"
trap 'mountpoint -q "$mnt" && "$ZFUSE" unmount "$mnt"; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
fail=0

# scenario ROOT: what both sides run, ROOT being where pool qp is mounted
scenario() {
	local r=$1
	dd if=/dev/urandom of="$r/q/f" bs=128k count=200 2>/dev/null; echo "q/f $(stat -c %s "$r/q/f")"
	dd if=/dev/urandom of="$r/r/f" bs=128k count=200 2>/dev/null; echo "r/f $(stat -c %s "$r/r/f")"
	dd if=/dev/urandom of="$r/q/s/f" bs=128k count=200 2>/dev/null; echo "q/s/f $(stat -c %s "$r/q/s/f" 2>/dev/null || echo missing)"
	if echo more > "$r/q/g" 2>/dev/null; then echo "create: allowed"; else echo "create: refused"; fi
	rm "$r/q/f" && echo "remove: allowed"
	# The space comes back when the removal is synced (txg timeout 5 s
	# on both sides); until then OpenZFS refuses new files, zfuse waits
	# for a sync first.
	sleep 6
	dd if=/dev/urandom of="$r/q/f2" bs=128k count=20 2>/dev/null; echo "q/f2 $(stat -c %s "$r/q/f2" 2>/dev/null || echo missing)"
}

"$ZFUSE" create -s 256M qp "$work/z/qp.img" > /dev/null || notok "zfuse create"
"$ZFUSE" create -d "$work/z" -o quota=10M qp/q && "$ZFUSE" create -d "$work/z" -o refquota=6M qp/r &&
	"$ZFUSE" create -d "$work/z" qp/q/s || notok "zfuse create datasets"
"$ZFUSE" mount "$work/z/qp.img" "$mnt" || { notok "mount"; exit 1; }
scenario "$mnt" > "$work/zfuse.out"
"$ZFUSE" unmount "$mnt"
zdb_bcc "$work/z" qp "$work/zdb.out" && ok "zdb -bcc clean after the quota scenario" ||
	notok "zdb -bcc after the quota scenario"
"$ZFUSE" list -H -p -t all -o name,used,referenced,usedbydataset -d "$work/z" -r qp > "$work/zfuse.list"

{
	declare -f scenario
	cat <<'X'
truncate -s 256M /tmp/qp.img; zpool create qp /tmp/qp.img
zfs create -o quota=10M qp/q; zfs create -o refquota=6M qp/r; zfs create qp/q/s
scenario /qp > /host/oz.out
zpool export qp
zpool import -o readonly=on -d /host/z qp || exit 1
zfs list -H -p -t all -o name,used,referenced,usedbydataset -r qp > /host/oz.list
zpool export qp
X
} > "$work/o/job.sh"
mkdir -p "$work/o/z" && cp --sparse=always "$work/z/qp.img" "$work/o/z/qp.img"
oracle "$work/o" || exit 1
if diff "$work/zfuse.out" "$work/o/oz.out"; then
	ok "writes stop at the same byte as OpenZFS's, creation refused, removal allowed ($(tr '\n' ';' < "$work/zfuse.out"))"
else
	notok "quota behaviour differs from OpenZFS (< zfuse, > OpenZFS)"
fi
if diff "$work/zfuse.list" "$work/o/oz.list"; then
	ok "OpenZFS reports the space figures zfuse reports for zfuse's pool"
else
	notok "zfs list of zfuse's pool differs from zfuse list (< zfuse, > zfs)"
fi
exit $fail
