#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# run.sh TARGET...|all [--seconds N] [--ci] [--replay] [--build DIR]
#
# Builds the libFuzzer targets (clang, ASan+UBSan, -Dfuzz=true) in DIR
# (default build-fuzz), replays each target's regression inputs
# (tests/fuzz/regress/TARGET/*: every crash ever found), then fuzzes each
# target for N seconds (default 600; --ci: 15) at nice 19, one at a time,
# from its corpus (build-fuzz/corpus/TARGET, seeded from the fixtures on
# first use and kept between runs). New crashes land in
# build-fuzz/artifacts/. Prints one line per target: seconds, executions,
# libFuzzer's cov (edges) and ft (features), corpus size, result.
# --replay: only replay the regression inputs. Exit status 1 if anything
# crashed, leaked or hung.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
all=(nvlist decompress raidz spacemap label uberblock blkptr dnode zap sa dsl image imagerw)
seconds=600 build=$top/build-fuzz targets=() replay_only=false ci=false
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) seconds=$2; shift ;;
	--ci) ci=true; seconds=15 ;;
	--replay) replay_only=true ;;
	--build) build=$2; shift ;;
	all) targets+=("${all[@]}") ;;
	-*) echo "usage: $0 TARGET...|all [--seconds N] [--ci] [--replay] [--build DIR]" >&2; exit 2 ;;
	*) targets+=("$1") ;;
	esac
	shift
done
[ ${#targets[@]} -gt 0 ] || { echo "usage: $0 TARGET...|all [--seconds N] [--ci] [--replay]" >&2; exit 2; }
for t in "${targets[@]}"; do
	[[ " ${all[*]} " == *" $t "* ]] || { echo "unknown target $t (known: ${all[*]})" >&2; exit 2; }
done
if [ ! -d "$build" ]; then
	CC=${CC:-$(command -v clang-14 || command -v clang)} meson setup "$build" "$top" -Dfuzz=true -Db_sanitize=address,undefined \
		-Db_lundef=false >/dev/null
fi
nice -n 19 ninja -C "$build" >/dev/null
fz=$build/tests/fuzz
mkdir -p "$build/artifacts"
# A small quarantine: the image targets allocate block buffers by the
# megabyte, and with the default 256 MiB every one is fresh, faulted-in
# memory (a third of their time).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:quarantine_size_mb=32 UBSAN_OPTIONS=print_stacktrace=1
fail=0
printf '%-11s %6s %10s %6s %7s %8s  %s\n' target seconds execs cov ft corpus result
for t in "${targets[@]}"; do
	reg=$top/tests/fuzz/regress/$t
	log=$build/artifacts/$t.log
	# every regression input runs once (a crash there is a regression)
	if compgen -G "$reg/*" >/dev/null; then
		if ! nice -n 19 "$fz/fuzz_$t" -rss_limit_mb=4096 -timeout=60 "$reg"/* >"$log" 2>&1; then
			echo "$t: a regression input fails again (log: $log)" >&2
			grep -m5 -E 'ERROR|SUMMARY|runtime error|Running:' "$log" >&2 || true
			fail=1
			continue
		fi
	fi
	$replay_only && { printf '%-11s %6s %10s %6s %7s %8s  %s\n' "$t" - "$(ls "$reg" 2>/dev/null | wc -l)" - - - replayed; continue; }
	corpus=$build/corpus/$t
	if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
		mkdir -p "$corpus"
		ZFUSE_FUZZ_SEEDS=$corpus "$fz/fuzz_$t" >/dev/null 2>&1
		[ -d "$reg" ] && cp "$reg"/* "$corpus"/ 2>/dev/null || true
	fi
	rc=0
	nice -n 19 "$fz/fuzz_$t" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 \
		-print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" "$corpus" >"$log" 2>&1 || rc=$?
	last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
	result=ok
	if [ "$rc" -ne 0 ]; then
		result="CRASH (log $log; input $(ls -t "$build/artifacts/$t-"* 2>/dev/null | head -1))"
		fail=1
	fi
	printf '%-11s %6s %10s %6s %7s %8s  %s\n' "$t" "$seconds" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
done
exit $fail
