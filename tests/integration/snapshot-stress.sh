#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# snapshot-stress.sh TOOL SECONDS — snapshot-stress.c's run, then zdb -bcc
# of the pool it leaves (every snapshot's blocks accounted, no leak).
set -uo pipefail
TOOL=$1
SECS=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require zdb
work=$(mktemp -d "${TMPDIR:-/tmp}/zfuse-sst.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$TOOL" "$work/ss.img" "$SECS" || die "a snapshot is not a point in time (see above)"
zdb_bcc "$work" ss "$work/zdb.out" || { tail -20 "$work/zdb.out"; die "zdb -bcc"; }
echo "ok: zdb -bcc clean"
