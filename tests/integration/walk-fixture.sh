#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# walk-fixture.sh WALK FIXTURE — library-level check: for every manifest of
# the fixture, zfuse-walk (libzfuse without FUSE) must print it exactly.
# Snapshot manifests and child datasets are walked one dataset at a time,
# so a manifest of a dataset with children is compared on its own entries.
#
# walk-fixture.sh WALK FIXTURE DIR [PATH...] — the same on a written copy of
# the fixture's images in DIR (write-fixtures.sh): the fixture's entries
# must all be there unchanged, the paths given (relative to the pool's root
# dataset: what the writer added or removed there) aside.
set -uo pipefail
WALK=$1 FX=$2 copy=${3:-}
changed=("${@:4}")
. "$(dirname "$0")/lib.sh"
if [ -n "$copy" ]; then dir=$copy; else dir=$(unpack "$FX"); fi
mapfile -t imgs < <(images "$dir")
fail=0 n=0
# drop_mtime [1]: with 1, the mtime field of entry lines becomes "-"
drop_mtime() {
	if [ -z "${1:-}" ]; then cat; return; fi
	awk -F'\t' -v OFS='\t' '$2 != "@xattr" { $7 = "-" } { print }'
}
for m in "$SHARED/fixtures/$FX"/manifest.*.tsv; do
	ds=$(manifest_dataset "$m")
	extra=() nomtime=
	if [ -z "$copy" ]; then
		case "${m##*/}" in
		manifest.after-import.*|manifest.replayed.*) continue ;;  # need log replay (write path)
		manifest.txg-*) txg=${m##*/manifest.txg-}; extra=(--txg "${txg%%.*}") ;;
		esac
	else
		# A written pool: its log replayed (the replay's mtimes are the
		# replay's clock) and its history moved on from the last step.
		case "${m##*/}" in
		manifest.synced.*|manifest.replayed.*) continue ;;
		manifest.after-import.*) nomtime=1 ;;
		manifest.txg-*)
			last=$(for f in "$SHARED/fixtures/$FX"/manifest.txg-*."${m##*/manifest.txg-*.}"; do
				t=${f##*/manifest.txg-}; echo "${t%%.*} $f"; done | sort -n | tail -1 | cut -d' ' -f2-)
			[ "$m" == "$last" ] || continue ;;
		esac
	fi
	if grep -qx "$ds" "$SHARED/fixtures/$FX/skip-datasets" 2>/dev/null; then
		out=$("$WALK" "${extra[@]}" "$ds" "${imgs[@]}" 2>&1) && { echo "not ok: $ds (encrypted) opened"; fail=1; }
		grep -q encrypted <<<"$out" || { echo "not ok: $ds: no clear error: $out"; fail=1; }
		n=$((n + 1))
		continue
	fi
	# The walker shows one dataset: drop lines that belong to child datasets.
	children=$("$WALK" --children "$ds" "${imgs[@]}") || { echo "not ok: $ds: cannot list children"; fail=1; continue; }
	mapfile -t skip < <(echo "$children"; skip_prefixes "$FX" "$ds")
	[[ $ds == */* || $ds == *@* ]] || skip+=("${changed[@]}")
	want=$(expected "$m" | filter_skipped "${skip[@]}" | drop_mtime $nomtime)
	got=$("$WALK" "${extra[@]}" "$ds" "${imgs[@]}" | filter_skipped "${skip[@]}" | drop_mtime $nomtime)
	if [ "$want" == "$got" ]; then
		echo "ok: $FX $ds ($(wc -l <<<"$want") lines)"
	else
		echo "not ok: $FX $ds"
		diff <(echo "$want") <(echo "$got") | head -20
		fail=1
	fi
	n=$((n + 1))
done
[ $n -gt 0 ] || die "no manifest checked for $FX"
exit $fail
