#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# corrupt-fixture.sh WALK — bad input: damaged copies of fixture images must
# give a clear import error or EIO on the damaged files, never a crash or a
# hang, and redundancy (other labels, older uberblocks, ditto copies, the
# other mirror side, RAID-Z parity) must hide damage it can repair.
set -uo pipefail
WALK=$1
. "$(dirname "$0")/lib.sh"
CORRUPT="$(dirname "$0")/corrupt.py"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0

basic=$(unpack basic)/basic.img
want=$(cat "$SHARED/fixtures/basic/manifest.basic.tsv")

# fresh ACTION [ARGS]: a damaged copy of basic in $work/p.img; the test
# stops if corrupt.py failed or left the image unchanged
fresh() {
	cp --sparse=always "$basic" "$work/p.img"
	python3 "$CORRUPT" "$work/p.img" "$@" > "$work/corrupt.out" ||
		die "corrupt.py $* failed: $(cat "$work/corrupt.out")"
	cmp -s "$basic" "$work/p.img" && die "corrupt.py $* changed nothing"
	return 0
}

# sanitizer_report: the walker's stderr holds an ASan/UBSan/LSan report
sanitizer_report() { grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$work/err"; }

# clean_outcome LABEL RC: the walk either finished (the tree intact, or
# exit 1 with the damaged blocks reported on stderr) or refused the pool
# with a clear message (exit 1, "import: ..." or "open ...") — nothing else, and no sanitizer report
clean_outcome() {
	local label=$1 rc=$2 first
	first=$(head -1 "$work/err")
	if sanitizer_report; then
		echo "not ok: $label: sanitizer report"; head -20 "$work/err"; fail=1
	elif [ "$rc" -eq 0 ] && [ "$(cat "$work/out")" == "$want" ]; then
		echo "ok: $label: tree intact"
	elif [ "$rc" -le 1 ] && [ -s "$work/out" ] && grep -q "checksum mismatch\|damaged\|corrupt" "$work/err"; then
		# the walker exits 1 when files could not be read, naming them
		echo "ok: $label: walked, $(grep -c . "$work/err") damage reports: $first"
	elif [ "$rc" -eq 1 ] && grep -q "^import: \|^open " "$work/err"; then
		echo "ok: $label: refused clearly: $(grep -m1 "^import: \|^open " "$work/err") ($first)"
	else
		echo "not ok: $label: exit $rc: $first"; fail=1
	fi
}

# run_walk ARGS...: exit status of the walker; a signal (>= 128) is a crash
run_walk() {
	timeout 120 "$WALK" "$@" > "$work/out" 2> "$work/err"
	local rc=$?
	if [ $rc -ge 124 ]; then
		echo "not ok: walker crashed or hung (status $rc) on: $*"; fail=1
	fi
	return $rc
}

expect_same() {  # LABEL: the walk must equal the manifest
	if run_walk basic "$work/p.img" && [ "$(cat "$work/out")" == "$want" ]; then
		echo "ok: $1: tree intact"
	else
		echo "not ok: $1: $(head -3 "$work/err")"; fail=1
	fi
}

fresh labels-all
run_walk basic "$work/p.img"
if [ $? -eq 1 ] && grep -q "no valid ZFS label" "$work/err"; then echo "ok: all labels gone: clear error"
else echo "not ok: all labels gone: $(cat "$work/err")"; fail=1; fi

fresh label0;          expect_same "label 0 damaged"
fresh newest-ub;       expect_same "newest uberblock damaged (older one used)"
fresh mos-dva0;        expect_same "MOS block copy 0 damaged (ditto copy used)"

for seed in 1 2 3; do
	fresh nvlist-garbage "$seed"
	run_walk basic "$work/p.img"
	clean_outcome "garbled label nvlists (seed $seed)" $?
done

# Mirror and RAID-Z: wreck one whole device; reads reconstruct.
for fx in mirror raidz1 raidz2 raidz3; do
	d=$(unpack "$fx")
	mapfile -t imgs < <(images "$d")
	for i in "${!imgs[@]}"; do cp --sparse=always "${imgs[$i]}" "$work/d$i.img"; done
	python3 "$CORRUPT" "$work/d0.img" random 3000 7 > /dev/null
	ds=$(manifest_dataset "$(ls "$SHARED/fixtures/$fx"/manifest.*.tsv | head -1)")
	copies=()
	for i in "${!imgs[@]}"; do copies+=("$work/d$i.img"); done
	if run_walk "$ds" "${copies[@]}" && diff -q <(cat "$work/out") "$(ls "$SHARED/fixtures/$fx"/manifest.*.tsv | head -1)" >/dev/null; then
		echo "ok: $fx with 3000 bit flips on one device: tree intact"
	else
		echo "not ok: $fx with one damaged device: $(head -3 "$work/err")"; fail=1
	fi
	# A missing device is a degraded read.
	if run_walk "$ds" "${copies[@]:1}" && diff -q <(cat "$work/out") "$(ls "$SHARED/fixtures/$fx"/manifest.*.tsv | head -1)" >/dev/null; then
		echo "ok: $fx with device 0 missing: tree intact"
	else
		echo "not ok: $fx with device 0 missing: $(head -3 "$work/err")"; fail=1
	fi
	rm -f "$work"/d*.img
done

# Random damage on a single-device pool: no crash, damage reported as EIO.
for seed in 11 12 13 14 15; do
	fresh random 400 "$seed"
	run_walk basic "$work/p.img"
	clean_outcome "400 random bit flips (seed $seed)" $?
done
exit $fail
