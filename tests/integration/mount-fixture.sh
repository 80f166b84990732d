#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# mount-fixture.sh ZFUSE FIXTURE — the FUSE-level check: mount the fixture's
# pool with `zfuse mount`, run the oracle's manifest.sh on every dataset and
# snapshot (children at their mount paths, snapshots under .zfs/snapshot),
# and compare with the fixture's manifests line for line. Encrypted
# datasets must refuse to mount with a clear error.
set -uo pipefail
ZFUSE=$1 FX=$2
. "$(dirname "$0")/lib.sh"
dir=$(unpack "$FX")
mapfile -t imgs < <(images "$dir")
MANIFEST="$SHARED/oracle/manifest.sh"
[ -x "$MANIFEST" ] || die "no $MANIFEST"
mnt=$(mktemp -d)
pid=
cleanup() {
	if mountpoint -q "$mnt"; then "$ZFUSE" unmount -l "$mnt" 2>/dev/null || umount -l "$mnt"; fi
	[ -n "$pid" ] && wait "$pid" 2>/dev/null
	rmdir "$mnt" 2>/dev/null
}
trap cleanup EXIT

# mount_pool [OPTS]: mount in the foreground in the background; wait for it.
# Fixture images are shared between tests: always read-only (ro) here.
mount_pool() {
	# stdin: keys of encrypted roots are read from it when it is no terminal
	"$ZFUSE" mount -f ${1:+-o "$1"} "${imgs[@]}" "$mnt" 2> "$mnt.log" </dev/null &
	pid=$!
	for _ in $(seq 1 200); do
		if mountpoint -q "$mnt"; then
			# child datasets mount themselves next: wait until the
			# number of zfuse mounts below $mnt stops changing
			local last=-1 same=0 n
			while [ $same -lt 8 ]; do
				n=$(awk -v m="$mnt" '$5 == m || index($5, m "/") == 1' /proc/self/mountinfo | grep -c fuse.zfuse)
				if [ "$n" == "$last" ]; then same=$((same + 1)); else same=0; last=$n; fi
				sleep 0.1
			done
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$mnt.log" >&2
	return 1
}
unmount_pool() {
	"$ZFUSE" unmount "$mnt" || die "unmount failed"
	wait "$pid" || die "zfuse exited with status $? after unmount"
	pid=
}

pool=$(manifest_dataset "$(ls "$SHARED/fixtures/$FX"/manifest.*.tsv | head -1)")
pool=${pool%%/*}
pool=${pool%%@*}
fail=0 n=0

compare() {  # compare MANIFEST-FILE DIR LABEL SKIP...
	local m=$1 d=$2 label=$3
	shift 3
	local want got
	want=$(expected "$m" | filter_skipped "$@")
	got=$("$MANIFEST" "$d" | filter_skipped "$@")
	if [ "$want" == "$got" ]; then
		echo "ok: $FX $label ($(wc -l <<<"$want") lines)"
	else
		echo "not ok: $FX $label"
		diff <(echo "$want") <(echo "$got") | head -20
		fail=1
	fi
	n=$((n + 1))
}

# Datasets of the pool's newest txg through one mount of the root dataset.
if ls "$SHARED/fixtures/$FX"/manifest.txg-* >/dev/null 2>&1; then
	for m in "$SHARED/fixtures/$FX"/manifest.txg-*.tsv; do
		txg=${m##*/manifest.txg-}
		txg=${txg%%.*}
		ds=$(manifest_dataset "$m")
		mount_pool "txg=$txg" || die "cannot mount $FX at txg $txg"
		compare "$m" "$mnt/${ds#"$pool"/}" "$ds at txg $txg"
		unmount_pool
	done
else
	mount_pool "ro" || die "cannot mount $FX"
	for m in "$SHARED/fixtures/$FX"/manifest.*.tsv; do
		case "${m##*/}" in manifest.after-import.*|manifest.replayed.*) continue ;; esac
		ds=$(manifest_dataset "$m")
		grep -qx "${ds%@*}" "$SHARED/fixtures/$FX/skip-datasets" 2>/dev/null && continue
		fs=${ds%@*} rel=
		[ "$fs" != "$pool" ] && rel=${fs#"$pool"/}
		path="$mnt${rel:+/$rel}"
		[[ "$ds" == *@* ]] && path="$path/.zfs/snapshot/${ds#*@}"
		mapfile -t skip < <(skip_prefixes "$FX" "$ds")
		compare "$m" "$path" "$ds" "${skip[@]}"
	done
	# Concurrency: several walks at once (the daemon is multithreaded)
	# must each see exactly the same tree.
	if [ "$FX" == basic ]; then
		walkers=()
		for i in 1 2 3 4; do "$MANIFEST" "$mnt" > "$mnt.par$i" & walkers+=($!); done
		wait "${walkers[@]}"
		same=1
		for i in 1 2 3 4; do diff -q "$mnt.par$i" <(expected "$SHARED/fixtures/basic/manifest.basic.tsv") >/dev/null || same=0; done
		rm -f "$mnt".par*
		if [ $same == 1 ]; then echo "ok: $FX: 4 concurrent walks identical"; else echo "not ok: concurrent walks differ"; fail=1; fi
	fi
	unmount_pool
fi

# Encrypted datasets: a clear error, no mount.
if [ -f "$SHARED/fixtures/$FX/skip-datasets" ]; then
	while read -r ds; do
		[ -n "$ds" ] || continue
		if mount_pool "ro,dataset=$ds"; then
			echo "not ok: encrypted $ds mounted"
			fail=1
			unmount_pool
		elif grep -q encrypted "$mnt.log"; then
			echo "ok: $ds refused: $(grep encrypted "$mnt.log" | head -1)"
		else
			echo "not ok: $ds: unclear error: $(cat "$mnt.log")"
			fail=1
		fi
		pid=
		n=$((n + 1))
	done < "$SHARED/fixtures/$FX/skip-datasets"
fi
rm -f "$mnt.log"
[ $n -gt 0 ] || die "no manifest checked for $FX"
exit $fail
