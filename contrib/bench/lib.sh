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
div() { awk -v a="$1" -v b="$2" -v f="${3:-%.1f}" 'BEGIN { if (b > 0) printf f, a / b; else printf "n/a" }'; }
