#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# names-lookup.sh ZFUSE — lookups follow each directory's name rules, as
# OpenZFS's do: in a normalization=formD filesystem a name matches in
# either Unicode form; in a casesensitivity=insensitive one in any case;
# elsewhere only the exact bytes match.
set -uo pipefail
ZFUSE=$1
. "$(dirname "$0")/lib.sh"
dir=$(unpack names)
mnt=$(mktemp -d)
"$ZFUSE" mount -f -o ro "$dir"/*.img "$mnt" 2> "$mnt.log" &
pid=$!
for _ in $(seq 1 100); do mountpoint -q "$mnt/nocase" && break; sleep 0.1; done
fail=0
check() {  # check EXPECT(0|1) PATH LABEL
	if stat "$2" >/dev/null 2>&1; then got=0; else got=1; fi
	if [ "$got" == "$1" ]; then echo "ok: $3"; else echo "not ok: $3"; fail=1; fi
}
check 0 "$mnt/formd/caf$(printf '\xc3\xa9')" "formD: composed name as stored"
check 0 "$mnt/formd/cafe$(printf '\xcc\x81')" "formD: decomposed spelling finds it"
check 0 "$mnt/nocase/mixedcase.txt" "insensitive: lower case finds MixedCase.TXT"
check 0 "$mnt/nocase/SUBDIR" "insensitive: upper case finds SubDir"
check 0 "$mnt/xattr-sa/file" "sensitive: exact name matches"
check 1 "$mnt/xattr-sa/FILE" "sensitive: other case does not match"
check 1 "$mnt/nocase/nosuchfile" "insensitive: absent names stay absent"
"$ZFUSE" unmount "$mnt" || fail=1
wait "$pid" || fail=1
rmdir "$mnt"; rm -f "$mnt.log"
exit $fail
