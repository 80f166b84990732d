#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# run-tests.sh — installs dependencies, builds, and runs the whole test
# suite: Check unit tests, library-level fixture checks, FUSE mount
# fixture checks; then the unit and library suites again in an
# AddressSanitizer/UBSan build.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/contrib/install-deps.sh" --tests
[ -d "$top/build" ] || meson setup "$top/build" "$top"
ninja -C "$top/build"
meson test -C "$top/build" --print-errorlogs --num-processes 2
[ -d "$top/build-asan" ] || meson setup "$top/build-asan" "$top" -Db_sanitize=address,undefined \
	-Db_lundef=false -Dbuildtype=debug
ninja -C "$top/build-asan"
# abort_on_error: a sanitizer report kills with SIGABRT, which no test can
# mistake for an ordinary failure exit (or a refused import).
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1 \
	meson test -C "$top/build-asan" --print-errorlogs --num-processes 2 --suite unit --suite library
