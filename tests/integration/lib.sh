# SPDX-License-Identifier: CDDL-1.0
# Shared helpers of the integration tests (sourced).
# Fixture images are unpacked once into $ZFUSE_TEST_CACHE (sparse).

SHARED=${ZFUSE_SHARED:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../shared" 2>/dev/null && pwd)}
# The oracle guest, started by our runner (one virtual CPU: contrib/oracle/run.sh).
ORACLE_RUN=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../contrib/oracle" && pwd)/run.sh
CACHE=${ZFUSE_TEST_CACHE:-${TMPDIR:-/tmp}/zfuse-test-cache}

die() { echo "FAIL: $*" >&2; exit 1; }

# unpack FIXTURE: prints the directory holding its images
unpack() {
	local fx=$1 dir="$CACHE/$1"
	mkdir -p "$dir"
	(
		flock 9
		for z in "$SHARED/fixtures/$fx"/*.img.zst; do
			local img="$dir/$(basename "${z%.zst}")"
			[ -s "$img" ] || zstd -q -d --sparse -f "$z" -o "$img" || exit 1
		done
	) 9>"$dir/.lock" || die "cannot unpack fixture $fx"
	echo "$dir"
}

# images DIR: the image files of an unpacked fixture, in name order
images() { ls "$1"/*.img | LC_ALL=C sort; }

# dataset name from a manifest file name: manifest[.txg-N|.synced|...].POOL%a%b.tsv
manifest_dataset() {
	local b=${1##*/}
	b=${b#manifest.}
	b=${b%.tsv}
	case "$b" in
	txg-*.*|synced.*|after-import.*|replayed.*) b=${b#*.} ;;
	esac
	echo "${b//%//}"
}

# skip_prefixes FIXTURE DATASET: relative paths (under DATASET's mount)
# of encrypted datasets, whose contents cannot be shown without keys
skip_prefixes() {
	local fx=$1 ds=$2 f="$SHARED/fixtures/$1/skip-datasets"
	[ -f "$f" ] || return 0
	while read -r s; do
		[ -n "$s" ] || continue
		case "$s" in "$ds"/*) echo "${s#"$ds"/}" ;; esac
	done < "$f"
}

# filter_skipped PREFIX...: drop manifest lines at or below those paths
filter_skipped() {
	if [ $# -eq 0 ]; then cat; return; fi
	awk -F'\t' -v list="$*" 'BEGIN { n = split(list, p, " ") }
		{ for (i = 1; i <= n; i++) if ($1 == p[i] || index($1, p[i] "/") == 1) next; print }'
}

# expected MANIFEST-FILE: the manifest, with its erratum applied if one
# exists (see errata/README.md)
expected() {
	local patch="$(dirname "${BASH_SOURCE[0]}")/errata/${1##*/}.patch"
	if [ -f "$patch" ]; then
		local t; t=$(mktemp)
		cp "$1" "$t" && patch -s "$t" < "$patch" && cat "$t"
		rm -f "$t"
	else
		cat "$1"
	fi
}

# daemon_sockets PID: the names (or paths) of the unix sockets process PID
# holds, one per line
daemon_sockets() {
	local inodes
	inodes=$(find "/proc/$1/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -dc '0-9\n')
	[ -n "$inodes" ] || return 0
	awk -v want=" $(echo $inodes) " 'index(want, " " $7 " ") && NF >= 8 { print $8 }' /proc/net/unix
}

# daemon_ready PID: wait (5 s at most) for a daemon whose top mount is up
# to finish starting: it mounts the child datasets after the top (a write
# into MNT/CHILD before then meets the parent's read-only stub directory),
# then opens the pool's control socket (.../zfuse/POOL.sock), then is ready.
# `zfuse mount` without -f returns only then; with -f nothing is printed.
daemon_ready() {
	local pid=$1
	for _ in $(seq 1 100); do
		daemon_sockets "$pid" | grep -q '/zfuse/[^/]*\.sock$' && return 0
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
}

# mounted_ready PID MNT: wait (10 s at most) for MNT to be a mount point,
# then for daemon PID to be ready (daemon_ready); always status 0: the
# caller checks the mount
mounted_ready() {
	for _ in $(seq 1 100); do mountpoint -q "$2" && break; sleep 0.1; done
	if mountpoint -q "$2"; then daemon_ready "$1"; fi
	return 0
}

# mount_bg ZFUSE LOG MNT ARGS...: start `zfuse mount -f ARGS MNT` in the
# background (daemon pid in $mount_pid, its stderr appended to LOG);
# returns 0 once MNT is a mount point, 1 if the daemon died (it is reaped
# and mount_pid emptied) or 15 s passed; with the daemon ready (daemon_ready)
mount_bg() {
	local zf=$1 log=$2 mnt=$3; shift 3
	"$zf" mount -f "$@" "$mnt" 2>> "$log" &
	mount_pid=$!
	for _ in $(seq 1 150); do
		mountpoint -q "$mnt" && { daemon_ready "$mount_pid"; return 0; }
		if ! kill -0 "$mount_pid" 2>/dev/null; then
			wait "$mount_pid"
			mount_pid=
			return 1
		fi
		sleep 0.1
	done
	return 1
}

# portable_manifest MANIFEST [XATTR]: the manifest fields every filesystem
# must agree on, to compare a mount with the same workload run on the
# local disk: not inode numbers, block counts, directory sizes or the
# clock's mtimes (mtimes kept for the paths in $SET_TIMES, which the
# workload sets); XATTR's lines dropped (a value the local disk cannot hold)
portable_manifest() {
	awk -F'\t' -v OFS='\t' -v set="${SET_TIMES:-}" -v skip="${2:-}" '
		BEGIN { split(set, a, " "); for (i in a) timed[a[i]] = 1 }
		$2 == "@xattr" { if ($3 != skip) print; next }
		{ size = ($2 == "d") ? "-" : $6; mtime = ($1 in timed) ? $7 : "-"
		  print $1, $2, $3, $4, $5, size, mtime, $8, $11 }' "$1"
}

# zdb_bcc DIR POOL OUT: zdb -bcc of an exported pool image directory;
# 0 when it ran, found no leak and reported no error (its output in OUT)
zdb_bcc() {
	zdb -e -p "$1" -bcc "$2" > "$3" 2>&1 && grep -q "No leaks" "$3" && ! grep -qi "error" "$3"
}

# Skips may not pass for success where everything must run: in CI (CI set,
# as .ci/run has it) or with ZFUSE_NO_SKIPS=1 a missing prerequisite fails.
strict_run() { [ -n "${CI:-}" ] || [ "${ZFUSE_NO_SKIPS:-0}" == 1 ]; }

# skip REASON: end the test as skipped (exit 77), or as failed in strict runs
skip() {
	if strict_run; then echo "FAIL: $* (a skip is a failure in CI)"; exit 1; fi
	echo "SKIP: $*"; exit 77
}

# skip_stage REASON: a stage of a test cannot run; returns 1 in strict runs
# (the caller counts it as a failure), 0 after saying so otherwise
skip_stage() {
	if strict_run; then echo "not ok: $* (a skipped stage is a failure in CI)"; return 1; fi
	echo "skip: $*"
}

# oracle_missing: prints why the OpenZFS oracle cannot run (and succeeds),
# or fails when it can: qemu and the guest's kernel must be there.
oracle_missing() {
	if ! command -v qemu-system-x86_64 >/dev/null; then echo "qemu-system-x86_64 is not installed"
	elif [ ! -f "$SHARED/oracle/vmlinuz" ]; then echo "no oracle guest in $SHARED/oracle"
	else return 1
	fi
}

# require WHAT...: root, fuse, zdb, qemu must each be there; a missing one
# skips the test (which is a failure in CI, see skip)
require() {
	local w
	for w; do
		case $w in
		root) [ "$(id -u)" -eq 0 ] || skip "needs root" ;;
		fuse) [ -e /dev/fuse ] || skip "no /dev/fuse" ;;
		zdb) command -v zdb >/dev/null || skip "zdb is not installed" ;;
		qemu) ! why=$(oracle_missing) || skip "$why" ;;
		*) die "require: unknown prerequisite $w" ;;
		esac
	done
}

# scratch_mount NAME: a fresh work directory $work with a mount point $mnt
# for a test that mounts "$ZFUSE" there and records the daemon in
# $mount_pid; at exit the mount is undone, the daemon killed, $work removed.
scratch_mount() {
	work=$(mktemp -d "${TMPDIR:-/tmp}/zfuse-$1.XXXXXX")
	mnt=$work/mnt
	mount_pid=
	trap scratch_mount_cleanup EXIT
}
scratch_mount_cleanup() {
	if mountpoint -q "$mnt" 2>/dev/null; then
		"$ZFUSE" unmount "$mnt" 2>/dev/null || umount -l "$mnt"
	fi
	[ -n "$mount_pid" ] && kill "$mount_pid" 2>/dev/null
	rm -rf "$work"
}

# Results, a line each; notok marks the run failed (the caller exits $fail).
ok() { echo "ok: $*"; }
notok() { echo "not ok: $*"; fail=1; }

# oracle DIR: run DIR/job.sh in the OpenZFS VM; its output is DIR/oracle.out.
oracle() {
	chmod +x "$1/job.sh"
	OZVM_TIMEOUT=900 "$ORACLE_RUN" "$1" > "$1/oracle.out" 2>&1 ||
		{ tail -30 "$1/oracle.out"; notok "oracle job in $1"; return 1; }
}
