# SPDX-License-Identifier: CDDL-1.0
# lib.sh — what the benchmarks of this folder share (sourced, not run).
#
# bench_start HELP_LAST "$@": --quick sets quick=true; -h/--help prints the
# script's header comment (lines 3..HELP_LAST) and exits; the first operand
# (default: the build's) is the zfuse binary, set as ZFUSE; root is needed.
bench_start() {
	local help_last=$1
	shift
	quick=false
	while [ $# -gt 0 ]; do
		case $1 in
		--quick) quick=true; shift ;;
		-h|--help) sed -n "3,${help_last}p" "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
		*) break ;;
		esac
	done
	ZFUSE=$(realpath "${1:-$bench_dir/../../build/zfuse}")
	[ -x "$ZFUSE" ] || { echo "no zfuse at $ZFUSE (build it first)" >&2; exit 1; }
	[ "$(id -u)" -eq 0 ] || { echo "needs root" >&2; exit 1; }
}

# Refuse to start beside another benchmark's zfs-fuse daemon.
bench_no_zfsfuse_running() {
	if pgrep -x zfs-fuse >/dev/null; then
		echo "a zfs-fuse daemon is already running (another benchmark?): wait for it" >&2
		exit 1
	fi
}

# div A B [FORMAT]: A / B (printf FORMAT, default %.1f), "n/a" when B is 0.
div() { awk -v a="$1" -v b="$2" -v f="${3:-%.1f}" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf f, a / b; else printf "n/a" }'; }

# bounded SECS DAEMON CMD...: run CMD; if it has not ended after SECS
# seconds, the file system under it is taken as hung: its daemon (pid
# DAEMON) is killed, since a process blocked in a FUSE request cannot be
# killed itself, and CMD's status is what it got then. Says so on stderr.
bounded() {
	local secs=$1 daemon=$2
	shift 2
	"$@" 0<&0 &	# (an asynchronous command's stdin is /dev/null otherwise)
	local cmd=$!
	(
		for _ in $(seq "$secs"); do kill -0 "$cmd" 2>/dev/null || exit 0; sleep 1; done
		echo "bench: $1 still runs after ${secs} s: the file system hangs; killing its daemon ($daemon)" >&2
		kill -9 "$daemon" 2>/dev/null
	) &
	local dog=$!
	local rc=0
	wait "$cmd" || rc=$?
	kill "$dog" 2>/dev/null; wait "$dog" 2>/dev/null || true
	return $rc
}
