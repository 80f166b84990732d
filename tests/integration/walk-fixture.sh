#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# walk-fixture.sh WALK FIXTURE — library-level check: for every manifest of
# the fixture, zfuse-walk (libzfuse without FUSE) must print it exactly.
# Snapshot manifests and child datasets are walked one dataset at a time,
# so a manifest of a dataset with children is compared on its own entries.
set -uo pipefail
WALK=$1 FX=$2
. "$(dirname "$0")/lib.sh"
dir=$(unpack "$FX")
mapfile -t imgs < <(images "$dir")
fail=0 n=0
for m in "$SHARED/fixtures/$FX"/manifest.*.tsv; do
	ds=$(manifest_dataset "$m")
	case "${m##*/}" in
	manifest.after-import.*|manifest.replayed.*) continue ;;  # need log replay (write path)
	esac
	extra=()
	case "${m##*/}" in manifest.txg-*) txg=${m##*/manifest.txg-}; extra=(--txg "${txg%%.*}") ;; esac
	if grep -qx "$ds" "$SHARED/fixtures/$FX/skip-datasets" 2>/dev/null; then
		out=$("$WALK" "${extra[@]}" "$ds" "${imgs[@]}" 2>&1) && { echo "not ok: $ds (encrypted) opened"; fail=1; }
		grep -q encrypted <<<"$out" || { echo "not ok: $ds: no clear error: $out"; fail=1; }
		n=$((n + 1))
		continue
	fi
	# The walker shows one dataset: drop lines that belong to child datasets.
	children=$("$WALK" --children "$ds" "${imgs[@]}") || { echo "not ok: $ds: cannot list children"; fail=1; continue; }
	mapfile -t skip < <(echo "$children"; skip_prefixes "$FX" "$ds")
	want=$(expected "$m" | filter_skipped "${skip[@]}")
	got=$("$WALK" "${extra[@]}" "$ds" "${imgs[@]}" | filter_skipped "${skip[@]}")
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
