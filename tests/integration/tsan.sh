#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# tsan.sh BUILD-DIR — the read-write engine under ThreadSanitizer (issue
# 13): the concurrent test (8 writers with fsyncs, 2 readers, syncs, for
# ZFUSE_TSAN_SECS, default 14) and the crash test (SIGKILL of the daemon
# mid-write, ZFUSE_TSAN_ROUNDS, default 1, and a pool filled to ENOSPC),
# run with the zfuse of BUILD-DIR, a build made with
#   meson setup BUILD-DIR -Db_sanitize=thread -Db_lundef=false && ninja -C BUILD-DIR zfuse
# Every report (a data race, a lock-order inversion, a misused mutex) of
# any process fails the run and is printed; a report also makes the daemon
# exit with status 66, which the tests count as a failure of their own.
set -uo pipefail
build=$(cd "${1:?usage: tsan.sh BUILD-DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ -x "$build/zfuse" ] || die "no zfuse in $build"
# (not `nm | grep -q`: grep's early exit is a SIGPIPE failure under pipefail)
case "$(ldd "$build/zfuse" 2>/dev/null)" in
*libtsan*) ;;
*) die "$build is not a ThreadSanitizer build (meson setup -Db_sanitize=thread)" ;;
esac
reports=$(mktemp -d "${TMPDIR:-/tmp}/zfuse-tsan.XXXXXX")
trap 'rm -rf "$reports"' EXIT
export TSAN_OPTIONS="log_path=$reports/report halt_on_error=0 second_deadlock_stack=1"
export LD_LIBRARY_PATH=$build${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fail=0
ZFUSE_CONCURRENT_SECS=${ZFUSE_TSAN_SECS:-14} "$here/concurrent.sh" "$build/zfuse" &&
	ok "concurrent under ThreadSanitizer" || notok "concurrent under ThreadSanitizer"
"$here/crash.sh" "$build/zfuse" "${ZFUSE_TSAN_ROUNDS:-1}" &&
	ok "crash under ThreadSanitizer" || notok "crash under ThreadSanitizer"
n=$(cat "$reports"/report.* 2>/dev/null | grep -c "WARNING: ThreadSanitizer")
if [ "$n" -eq 0 ]; then
	ok "no ThreadSanitizer report"
else
	notok "$n ThreadSanitizer reports"; cat "$reports"/report.*
fi
exit $fail
