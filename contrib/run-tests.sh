#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# run-tests.sh — installs dependencies, builds, and runs the whole test
# suite: Check unit tests, library-level fixture checks, FUSE mount
# fixture checks; and beside them, niced (see below), the unit and
# library suites again in an AddressSanitizer/UBSan build, and the fuzz
# targets' short form (tests/fuzz/run.sh --ci: every regression input
# replayed, then 15 seconds of fuzzing per target); after the suite, the
# concurrent and crash tests with a ThreadSanitizer build of the daemon
# (tests/integration/tsan.sh).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
t_start=$(date +%s)
"$top/contrib/install-deps.sh" --tests
[ -d "$top/build" ] || meson setup "$top/build" "$top"
ninja -C "$top/build"
# The sanitizer build and its suites run beside the main suite, niced:
# they fill the cores the main suite leaves idle while its timing tests
# run alone. (They are unit and library tests: no mounts, no daemons that
# could meet the main suite's.) nice does not keep them from taking CPU
# from the main suite: the kernel shares CPU between sessions first
# (autogroups), and meson gives each test, theirs too, a session of its
# own; measured, they add ~400 s of CPU to the suite's ~2500. Lower
# weights (an idle cpu cgroup) were rejected: starved for a minute they
# would trip the walkers' and libFuzzer's hang timeouts.
asan() {
	[ -d "$top/build-asan" ] || meson setup "$top/build-asan" "$top" -Db_sanitize=address,undefined \
		-Db_lundef=false -Dbuildtype=debug
	ninja -C "$top/build-asan"
	# abort_on_error: a sanitizer report kills with SIGABRT, which no test
	# can mistake for an ordinary failure exit (or a refused import).
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1 \
		meson test -C "$top/build-asan" --print-errorlogs --num-processes 2 --suite unit --suite library \
			--no-suite walk-more
}
asan_log=$(mktemp "${TMPDIR:-/tmp}/zfuse-asan.XXXXXX")
nice -n 19 bash -c "$(declare -f asan); top='$top'; asan" > "$asan_log" 2>&1 &
asan_pid=$!
# The fuzz targets, likewise beside the main suite, niced
# (libFuzzer's time limit is wall-clock: a busy machine costs executions,
# not time).
fuzz_log=$(mktemp "${TMPDIR:-/tmp}/zfuse-fuzz.XXXXXX")
nice -n 19 "$top/tests/fuzz/run.sh" all --ci > "$fuzz_log" 2>&1 &
fuzz_pid=$!
# The ThreadSanitizer build of the daemon, made beside the main suite at
# nice 19; its tests (timed watchdogs, daemons) run after it.
tsan_log=$(mktemp "${TMPDIR:-/tmp}/zfuse-tsan.XXXXXX")
nice -n 19 bash -c "{ [ -d '$top/build-tsan' ] || meson setup '$top/build-tsan' '$top' -Db_sanitize=thread \
	-Db_lundef=false; } && ninja -C '$top/build-tsan' zfuse" > "$tsan_log" 2>&1 &
tsan_pid=$!
main=0
# Three tests at a time on the 2-core machine: two left the cores idle 9%
# of the time (mounts, VM boots and device flushes wait), and the tests
# that time anything run alone (is_parallel: false).
t_main=$(date +%s)
# Each oracle boot notes its seconds here (contrib/oracle/run.sh).
export ZFUSE_ORACLE_TIMES
ZFUSE_ORACLE_TIMES=$(mktemp "${TMPDIR:-/tmp}/zfuse-oracle-times.XXXXXX")
meson test -C "$top/build" --print-errorlogs --num-processes 3 || main=$?
t_main_end=$(date +%s)
asan_rc=0 fuzz_rc=0 tsan_rc=0
wait "$tsan_pid" || { tail -20 "$tsan_log"; tsan_rc=1; }
[ "$tsan_rc" -ne 0 ] || "$top/tests/integration/tsan.sh" "$top/build-tsan" > "$tsan_log" 2>&1 || tsan_rc=$?
t_tsan_end=$(date +%s)
wait "$asan_pid" || asan_rc=$?
t_asan_end=$(date +%s)
wait "$fuzz_pid" || fuzz_rc=$?
t_end=$(date +%s)
# Where the time went (CI has a limit): setup and build, the main suite,
# and what each later step added after it.
echo "==== times: setup+build $((t_main - t_start)) s, main suite $((t_main_end - t_main)) s," \
	"then ThreadSanitizer $((t_tsan_end - t_main_end)) s, ASan wait $((t_asan_end - t_tsan_end)) s," \
	"fuzz wait $((t_end - t_asan_end)) s; total $((t_end - t_start)) s ===="
awk '{ n++; w += $2; c += $3 + $4 } END { printf "==== oracle: %d boots, %.0f s wall, %.0f s CPU ====\n", n, w, c }' \
	"$ZFUSE_ORACLE_TIMES"
echo "==== ASan/UBSan build (unit and library suites) ===="
cat "$asan_log"
echo "==== fuzz targets (tests/fuzz/run.sh all --ci) ===="
cat "$fuzz_log"
echo "==== ThreadSanitizer (tests/integration/tsan.sh: concurrent, crash) ===="
cat "$tsan_log"
rm -f "$asan_log" "$fuzz_log" "$tsan_log" "$ZFUSE_ORACLE_TIMES"
[ "$main" -eq 0 ] && [ "$asan_rc" -eq 0 ] && [ "$fuzz_rc" -eq 0 ] && [ "$tsan_rc" -eq 0 ]
