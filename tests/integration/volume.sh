#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# volume.sh ZFUSE — a zvol's contents: the layout fixture's 16 MiB volume
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
