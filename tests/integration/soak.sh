#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# soak.sh ZFUSE [MINUTES] — issue 13's soak: MINUTES (default 30) of mixed
# concurrent load on one pool through a read-write mount, in cycles of
# ZFUSE_SOAK_CYCLE seconds (default 180). Each cycle runs at once:
#   - concurrent.py: 8 writers and 2 readers against an exact model (files
#     of up to 8 MiB, overwrites, truncates, punches, renames, fsyncs,
#     bursts past the dirty limit), in a directory of its own;
#   - posix-model.py: three users' operations compared with tmpfs;
#   - crash_writer.py: new files, overwrites, renames and deletes with a
#     journal of what each fsync made durable;
#   - a snapshot every 20 s (the three newest kept, older ones destroyed)
#     and one live scrub, which must find 0 errors;
#   - the daemon's RSS, peak RSS, open descriptors and threads, sampled
#     every 5 s.
# Odd cycles end with SIGKILL of the daemon during the load (at the first
# 20 s tick past a seeded random time between 1/4 and 3/4 of the cycle):
# then zdb -bcc is clean, the pool mounts again (its intent log replayed)
# and every file the journal says was fsynced holds its content. Even
# cycles end when the load does: both models agree, the daemon unmounts
# and exits 0, zdb -bcc is clean; after every remount the trees of all
# earlier clean cycles still match their models. The end: zdb -bcc, and
# OpenZFS (the oracle) imports the pool and scrubs it with 0 errors.
# Flat: the last loaded mount's highest RSS is within 25% + 32 MiB of the
# first's, and an idle daemon after a clean cycle holds no more
# descriptors than after the first one (+2). Prints the figures.
# ZFUSE_SOAK_SEED replays the seeds and kill times. Runs as root; not in
# CI (its short form, 2 minutes, is run by hand: soak.sh ZFUSE 2 with
# ZFUSE_SOAK_CYCLE=30).
set -uo pipefail
ZFUSE=$1 MINUTES=${2:-30}
CYCLE=${ZFUSE_SOAK_CYCLE:-180}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require root fuse zdb qemu
scratch_mount soak
tmpfs=$work/tmpfs state=$work/state
mkdir -p "$mnt" "$work/pool" "$tmpfs" "$state"
chmod 755 "$work"
cleanup() {
	[ -n "${sampler:-}" ] && kill "$sampler" 2>/dev/null
	mountpoint -q "$tmpfs" && umount "$tmpfs"
	scratch_mount_cleanup
}
trap cleanup EXIT
fail=0
seed=${ZFUSE_SOAK_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$((seed % 32768))
echo "seed $seed (ZFUSE_SOAK_SEED=$seed replays the seeds and kill times); $MINUTES min in cycles of $CYCLE s"
mount -t tmpfs -o size=2g,mode=755 soak-ref "$tmpfs" || die "tmpfs"
"$ZFUSE" create -s 4G soak "$work/pool/soak.img" > "$work/create.log" 2>&1 ||
	die "zfuse create: $(cat "$work/create.log")"
: > "$work/journal"
: > "$work/samples"

# The bursts of concurrent.py are sized for a 256 MiB dirty limit.
export ZFUSE_DIRTY_DATA_MAX=268435456
mount_pool() {
	mount_bg "$ZFUSE" "$work/daemon.log" "$mnt" -o rw "$work/pool/soak.img" ||
		{ notok "$1: mount: $(tail -5 "$work/daemon.log")"; return 1; }
	(
		while kill -0 "$mount_pid" 2>/dev/null; do
			s=$(awk '/^VmRSS|^VmHWM|^Threads/ { printf "%s ", $2 }' "/proc/$mount_pid/status" 2>/dev/null)
			fds=$(ls "/proc/$mount_pid/fd" 2>/dev/null | wc -l)
			[ -n "$s" ] && echo "$mount_pid $(date +%s) $s$fds" >> "$work/samples"
			sleep 5
		done
	) &
	sampler=$!
}
zdb_clean() {
	if zdb_bcc "$work/pool" soak "$work/zdb.out"; then
		ok "$1: zdb -bcc clean ($(grep -m1 -o "bp count: *[0-9]*" "$work/zdb.out" | tr -s ' '))"
	else
		notok "$1: zdb -bcc"; grep -v "^loading" "$work/zdb.out" | head -20
	fi
}
# rss_of PID: the highest VmRSS (KiB) sampled of that daemon
# (a sample: PID TIME VmHWM VmRSS THREADS FDS)
rss_of() { awk -v p="$1" '$1 == p && $4 > m { m = $4 } END { print m + 0 }' "$work/samples"; }

cycles=$(( (MINUTES * 60 + CYCLE - 1) / CYCLE ))
clean_cycles=() kills=0 snaps=0 scrubs=0 ops=0 first_pid= last_pid= idle_fds=()
mount_pool "start" || exit 1
for c in $(seq 1 "$cycles"); do
	cseed=$((seed + c)) kill_cycle=$((c % 2))
	mkdir -p "$state/c$c" && mkdir -p "$mnt/c$c" "$mnt/cw" && mkdir -m 777 "$mnt/p$c" "$tmpfs/p$c" ||
		{ notok "cycle $c: mkdir on the mount"; break; }
	pid=$mount_pid
	[ -n "$first_pid" ] || first_pid=$pid
	last_pid=$pid
	python3 "$here/concurrent.py" run "$mnt/c$c" "$CYCLE" "$cseed" "$state/c$c" > "$work/conc.$c" 2>&1 &
	conc=$!
	python3 "$here/posix-model.py" run "$mnt/p$c" "$tmpfs/p$c" --seed "$cseed" --secs "$CYCLE" \
		> "$work/posix.$c" 2>&1 &
	posix=$!
	python3 "$here/crash_writer.py" write "$mnt/cw" "$work/journal" "$cseed" 2> "$work/writer.$c" &
	writer=$!
	kill_at=$(( CYCLE / 4 + RANDOM % (CYCLE / 2) ))
	t0=$SECONDS scrubbed=0
	while kill -0 "$conc" 2>/dev/null || kill -0 "$posix" 2>/dev/null; do
		sleep 20
		el=$((SECONDS - t0))
		if [ "$kill_cycle" = 1 ] && [ "$el" -ge "$kill_at" ]; then
			break
		fi
		if "$ZFUSE" snapshot "soak@s$snaps" > "$work/snap.out" 2>&1; then
			snaps=$((snaps + 1))
			[ $snaps -gt 3 ] && { "$ZFUSE" destroy "soak@s$((snaps - 4))" > "$work/snap.out" 2>&1 ||
				notok "cycle $c: destroy soak@s$((snaps - 4)): $(cat "$work/snap.out")"; }
		else
			notok "cycle $c: snapshot soak@s$snaps: $(cat "$work/snap.out")"
		fi
		if [ $scrubbed = 0 ] && [ "$el" -ge $((CYCLE / 3)) ]; then
			scrubbed=1 scrubs=$((scrubs + 1))
			out=$("$ZFUSE" scrub -w soak 2>&1)
			case $out in *"with 0 errors"*) ;; *) notok "cycle $c: live scrub: $out" ;; esac
		fi
	done
	if [ "$kill_cycle" = 1 ]; then
		kill -KILL "$pid"; wait "$pid" 2>/dev/null; mount_pid=
		kills=$((kills + 1))
		for p in $conc $posix; do wait "$p" 2>/dev/null; done
		wait "$writer" || { notok "cycle $c: the journal writer failed"; cat "$work/writer.$c"; }
		"$ZFUSE" unmount "$mnt" 2>/dev/null || umount -l "$mnt"
		zdb_clean "cycle $c: killed after $((SECONDS - t0)) s"
		mount_pool "cycle $c: after the kill" || break
		if out=$(python3 "$here/crash_writer.py" check "$mnt/cw" "$work/journal"); then
			ok "cycle $c: after the kill and replay: $out"
		else
			notok "cycle $c: after the kill: $out"
		fi
		rm -rf "$mnt/c$c" "$mnt/p$c" "$tmpfs/p$c" || notok "cycle $c: removing the killed load's trees"
	else
		wait "$conc" && ok "cycle $c: concurrent load agrees with its model ($(grep -m1 "^operations" "$work/conc.$c" | cut -d'(' -f1))" ||
			{ notok "cycle $c: concurrent load"; tail -15 "$work/conc.$c"; }
		wait "$posix" && ok "cycle $c: posix-model agrees with tmpfs ($(tail -1 "$work/posix.$c"))" ||
			{ notok "cycle $c: posix-model"; tail -15 "$work/posix.$c"; }
		n=$(grep -m1 -o "^operations in [0-9.]* s: [0-9]*" "$work/conc.$c" | awk '{ print $NF }')
		ops=$((ops + ${n:-0}))
		kill -KILL "$writer" 2>/dev/null; wait "$writer" 2>/dev/null
		clean_cycles+=("$c")
		sleep 6	# one more sample of the idle daemon
		idle_fds+=("$(ls "/proc/$pid/fd" | wc -l)")
		"$ZFUSE" unmount "$mnt" || { notok "cycle $c: unmount"; umount -l "$mnt"; }
		wait "$pid"; rc=$?; mount_pid=
		[ $rc = 0 ] || notok "cycle $c: daemon exit status $rc"
		zdb_clean "cycle $c: after a clean unmount"
		mount_pool "cycle $c: remount" || break
		python3 "$here/crash_writer.py" check "$mnt/cw" "$work/journal" > /dev/null ||
			notok "cycle $c: the journal's files after the remount"
	fi
	for k in "${clean_cycles[@]}"; do
		python3 "$here/concurrent.py" check "$mnt/c$k" "$state/c$k" "$((seed + k))" > "$work/check.out" 2>&1 ||
			{ notok "cycle $c: cycle $k's files no longer match their model"; tail -5 "$work/check.out"; }
	done
done
[ -n "$mount_pid" ] && { "$ZFUSE" unmount "$mnt"; wait "$mount_pid" || notok "the last unmount"; }
kill "$sampler" 2>/dev/null; sampler=
zdb_clean "the end"

# Flat memory and descriptors.
r1=$(rss_of "$first_pid") rn=$(rss_of "$last_pid")
hwm=$(awk '$3 > m { m = $3 } END { print m + 0 }' "$work/samples")
echo "RSS (MiB): first mount's highest $((r1 / 1024)), last loaded mount's highest $((rn / 1024)), peak of all $((hwm / 1024)) (dirty limit 256, cache_size default)"
echo "idle descriptors after each clean cycle: ${idle_fds[*]:-none}"
[ "$rn" -le $((r1 * 5 / 4 + 32768)) ] && ok "RSS flat" || notok "RSS grew: $((r1 / 1024)) -> $((rn / 1024)) MiB"
for f in "${idle_fds[@]}"; do
	[ "$f" -le $((idle_fds[0] + 2)) ] || notok "descriptors grew: ${idle_fds[*]}"
done

# OpenZFS judges the pool.
job=$work/oracle
mkdir -p "$job"
mv "$work/pool/soak.img" "$job/"
cat > "$job/job.sh" <<'EOF'
#!/bin/bash
zpool import -d /host -f soak || exit 1
zpool scrub -w soak
zpool status -v soak
zfs list -t snapshot -H -o name soak
zpool export -f soak
EOF
if oracle "$job"; then
	if grep -q "scrub repaired 0B.*with 0 errors" "$job/oracle.out" && grep -q "No known data errors" "$job/oracle.out"; then
		ok "OpenZFS imports the pool and scrubs it: 0 errors"
	else
		notok "OpenZFS's scrub"; head -30 "$job/oracle.out"
	fi
fi
echo "soak: $cycles cycles ($kills killed, ${#clean_cycles[@]} clean), $ops concurrent operations in the clean ones," \
	"$snaps snapshots, $scrubs live scrubs, seed $seed"
[ $fail = 0 ] && echo "soak: all ok" || echo "soak: FAILED"
exit $fail
