#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# props-fixture.sh ZFUSE FIXTURE — `zfuse list` and `zfuse get` on a
# fixture's images (read-only, through the pool verbs) against what
# OpenZFS 2.3.2 printed for them:
#   - zfuse list -H -p -t all -r -o name,type,used,referenced,
#     logicalreferenced,compressratio,compression,checksum,recordsize,
#     copies,mountpoint,origin  ==  datasets.tsv
#   - zfuse get -H -p -r -t all -s local all  ==  local-props.tsv
# A fixture whose datasets.tsv was taken while the pool was still live
# (its root's `used` includes MOS changes of a txg that never reached the
# images, or snapshots' `used` from before later writes) is compared with
# the correction in errata/datasets.FIXTURE.tsv.patch, each made from the
# OpenZFS oracle's read-only import of the very images (errata/README.md).
# history and zil come without datasets.tsv: errata/datasets.FIXTURE.tsv
# holds the oracle's listing instead. bigendian's datasets.tsv has the
# columns name, type, used, referenced, mountpoint (the latter under the
# oracle's altroot /mnt/oz): the first four are compared.
set -uo pipefail
ZFUSE=$1 FX=$2
. "$(dirname "$0")/lib.sh"
errata="$(dirname "$0")/errata"
dir=$(unpack "$FX")
fxdir="$SHARED/fixtures/$FX"
cols=name,type,used,referenced,logicalreferenced,compressratio,compression,checksum,recordsize,copies,mountpoint,origin
work=$(mktemp -d "${TMPDIR:-/tmp}/zfuse-props.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail=0

if [ "$FX" == bigendian ]; then
	cut -f1-4 "$fxdir/datasets.tsv" > "$work/want"
	"$ZFUSE" list -H -p -t all -r -o name,type,used,referenced -d "$dir" > "$work/got" 2> "$work/err" ||
		{ echo "not ok: $FX: zfuse list failed: $(cat "$work/err")"; exit 1; }
	if cmp -s "$work/want" "$work/got"; then
		echo "ok: $FX zfuse list: $(wc -l < "$work/got") lines equal OpenZFS's"
	else
		echo "not ok: $FX zfuse list differs from OpenZFS's:"; diff "$work/want" "$work/got"; exit 1
	fi
	exit 0
fi

pool=$("$ZFUSE" list -H -o name -d "$dir" | head -1)
[ -n "$pool" ] || die "$FX: zfuse list finds no dataset"

# Expected listing: the fixture's, corrected by its erratum if any.
if [ -e "$fxdir/datasets.tsv" ]; then
	cp "$fxdir/datasets.tsv" "$work/want"
	if [ -e "$errata/datasets.$FX.tsv.patch" ]; then
		patch -s "$work/want" "$errata/datasets.$FX.tsv.patch" || die "$FX: erratum does not apply"
	fi
else
	[ -e "$errata/datasets.$FX.tsv" ] || die "$FX: no datasets.tsv and no erratum"
	cp "$errata/datasets.$FX.tsv" "$work/want"
fi
# compare WHAT EXPECTED: zfuse's output in $work/got against OpenZFS's
compare() {
	if cmp -s "$2" "$work/got"; then
		echo "ok: $FX zfuse $1: $(wc -l < "$work/got") lines equal OpenZFS's"
	else
		echo "not ok: $FX zfuse $1 differs from OpenZFS's (< OpenZFS, > zfuse):"
		diff "$2" "$work/got" | head -20
		fail=1
	fi
}
"$ZFUSE" list -H -p -t all -r -o "$cols" -d "$dir" "$pool" > "$work/got" 2> "$work/err" ||
	{ echo "not ok: $FX: zfuse list failed: $(cat "$work/err")"; fail=1; }
compare list "$work/want"

# Local properties.
want="$fxdir/local-props.tsv"
[ -e "$want" ] || want="$errata/local-props.$FX.tsv"
[ -e "$want" ] || want=/dev/null
"$ZFUSE" get -H -p -r -t all -s local all -d "$dir" "$pool" > "$work/got" 2> "$work/err" ||
	{ echo "not ok: $FX: zfuse get failed: $(cat "$work/err")"; fail=1; }
compare "get -s local" "$want"

# Every dataset answers `get all` in both forms, and the images are unchanged.
if ! "$ZFUSE" get -r -t all all -d "$dir" "$pool" > "$work/all" 2> "$work/err" ||
	[ -s "$work/err" ]; then
	echo "not ok: $FX zfuse get all: $(head -3 "$work/err")"; fail=1
else
	echo "ok: $FX zfuse get all: $(wc -l < "$work/all") lines"
fi
exit $fail
