#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# zil-write.sh ZFUSE [ROUNDS] — zfuse's own intent log after kill -9.
# Each round mounts the pool read-write, runs zil_writer.py in w1 (one operation
# of every kind — creates, big and small writes, overwrites, appends,
# truncates, hole punches, mkdir, rmdir, symlinks, hard links, renames of
# files and directories, rename exchange, chmod, chown, fifos, xattrs —
# then an fsync, with a model of the tree; every third round three writers
# in w1, w2 and w3 at once, whose fsyncs commit together), kills the daemon with SIGKILL
# at a random moment after an fsync returned, checks that the log holds
# records, runs zdb -bcc on the crashed image, mounts it read-write again
# (zfuse claims and replays its log) and compares the tree with the last
# fsynced state (zdb -bcc of the replayed image every fourth round). fsync must not have waited for txg syncs: the writer
# times its fsyncs and the pool's txg count must stay far below them.
# ZFUSE_ZILW_ROUNDS overrides ROUNDS (default 20); ZFUSE_ZILW_SEED replays
# a run; ZILW_SAVE=DIR keeps the crashed images of the first
# ZILW_SAVE_N rounds (default 3) with their journals (and the raw key of
# an encrypted pool, zw.key) for the oracle test.
# ZFUSE_ZILW_CRYPT=SUITE makes the pool's root dataset encrypted (a raw
# key in a file): its log blocks are sealed and replayed with the key.
set -uo pipefail
ZFUSE=$1 ROUNDS=${ZFUSE_ZILW_ROUNDS:-${2:-20}}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require zdb root fuse
scratch_mount zilw
mkdir -p "$mnt"
fail=0
writer=$here/zil_writer.py
manifest=${SHARED:-/work/shared}/oracle/manifest.sh
seed=${ZFUSE_ZILW_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$((seed % 32768))
echo "seed $seed (ZFUSE_ZILW_SEED=$seed replays the kill times and workloads)"
img=$work/zw.img
crypt=()
if [ -n "${ZFUSE_ZILW_CRYPT:-}" ]; then
	head -c 32 /dev/urandom > "$work/zw.key"
	crypt=(-O "encryption=$ZFUSE_ZILW_CRYPT" -O keyformat=raw -O "keylocation=file://$work/zw.key")
fi
"$ZFUSE" create -s 512M -O compression=lz4 "${crypt[@]}" zw "$img" > /dev/null || die "cannot create the pool"
txgs() { "$ZFUSE" inspect "$img" uberblocks 2>/dev/null | awk '/^active_txg:/ { print $2 }'; }
killed=0 total_done=0
for round in $(seq 1 "$ROUNDS"); do
	# xattrs in the SA (TX_SETSAXATTR, zilsaxattr) in odd rounds, in xattr
	# directories (TX_MKXATTR, create, write, truncate, remove) in even
	# ones; a value set in one place drops its copy in the other
	"$ZFUSE" set -d "$img" xattr=$([ $((round % 2)) -eq 0 ] && echo dir || echo sa) zw ||
		notok "round $round: zfuse set xattr"
	mount_bg "$ZFUSE" "$work/daemon.log" "$mnt" -o rw "$img" ||
		{ notok "round $round: mount"; tail "$work/daemon.log"; break; }
	# Every third round three writers run side by side, each in its own
	# directory (w1, w2, w3) with its own journal: their fsyncs commit
	# together (group commit); the other rounds run one writer in w1.
	nw=1 label=
	[ $((round % 3)) -eq 2 ] && nw=3 label=" (3 writers)"
	rm -f "$work"/journal.*
	for w in $(seq 1 $nw); do mkdir -p "$mnt/w$w"; done
	python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd)' "$mnt" ||
		notok "round $round: fsync of the root"
	txg0=$(txgs)
	wpids=()
	for w in $(seq 1 $nw); do
		: > "$work/journal.w$w"
		python3 "$writer" run "$mnt/w$w" "$work/journal.w$w" "$((seed + round * 8 + w))" 2> "$work/writer$w.err" &
		wpids+=($!)
	done
	wpid=${wpids[0]}
	delay=$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.2f", 0.2 + rand() * 2.3 }')
	sleep "$delay"
	# Kill only after an fsync returned in this round, and after a few
	# (the first fsync of a mount starts the log chain with a txg sync, so
	# its changes are in the tree, not in the log).
	for _ in $(seq 1 150); do
		least=$(for j in "$work"/journal.w*; do grep -c "^D" "$j"; done | sort -n | head -1)
		[ "$least" -ge 4 ] && break
		kill -0 "$wpid" 2>/dev/null || break
		sleep 0.1
	done
	if ! kill -0 "$wpid" 2>/dev/null; then
		wait "$wpid"; notok "round $round: the writer stopped before the kill (status $?)"
		cat "$work/writer1.err"
		kill -KILL "$mount_pid"; wait "$mount_pid" 2>/dev/null; mount_pid=
		umount -l "$mnt"
		break
	fi
	kill -KILL "$mount_pid"; wait "$mount_pid" 2>/dev/null; mount_pid=
	for w in $(seq 1 $nw); do
		wait "${wpids[$((w - 1))]}"; wrc=$?
		[ $wrc -eq 0 ] || { notok "round $round: writer $w failed (status $wrc)"; tail -5 "$work/writer$w.err"; }
	done
	umount -l "$mnt" 2>/dev/null
	ndone=$(cat "$work"/journal.w* | grep -c "^D")
	total_done=$((total_done + ndone))
	killed=$((killed + 1))
	recs=$("$ZFUSE" inspect --json "$img" zil zw 2>/dev/null |
		python3 -c "import json,sys; print(len(json.load(sys.stdin)['records']))" 2>/dev/null)
	if [ -n "${ZILW_SAVE:-}" ] && [ "$round" -le "${ZILW_SAVE_N:-3}" ]; then
		mkdir -p "$ZILW_SAVE/r$round"
		cp --sparse=always "$img" "$ZILW_SAVE/r$round/zw.img"
		cp "$work"/journal.w* "$ZILW_SAVE/r$round/"
		[ -f "$work/zw.key" ] && cp "$work/zw.key" "$ZILW_SAVE/r$round/"
	fi
	zdb_bcc "$work" zw "$work/zdb.out" || { notok "round $round: zdb -bcc of the crashed image"; grep -v "^loading" "$work/zdb.out" | tail -15; }
	mount_bg "$ZFUSE" "$work/daemon.log" "$mnt" -o rw "$img" ||
		{ notok "round $round: remount"; tail "$work/daemon.log"; break; }
	"$manifest" "$mnt" > "$work/tree.tsv"
	"$ZFUSE" unmount "$mnt"; wait "$mount_pid"; mount_pid=
	txg1=$(txgs)
	for w in $(seq 1 $nw); do
		if out=$(python3 "$writer" check "$work/tree.tsv" "$work/journal.w$w" "w$w"); then
			ok "round $round$label, w$w: killed after ${delay}s, $ndone fsyncs, ${recs:-?} log records, $((txg1 - txg0)) txgs: $out"
		else
			notok "round $round, w$w (killed after ${delay}s, $ndone fsyncs, ${recs:-?} log records): $out"
		fi
	done
	# Every fsync must have returned without a txg sync (the few txgs are
	# the timer's and the chain's start).
	if [ "$ndone" -ge 30 ] && [ $((txg1 - txg0)) -gt $((ndone / 3 + 6)) ]; then
		notok "round $round: $((txg1 - txg0)) txgs for $ndone fsyncs: fsync waits for txg syncs"
	fi
	# The next round's crashed image holds this replay too: zdb of the
	# replayed image itself every fourth round and after the last.
	if [ $((round % 4)) -eq 0 ] || [ "$round" -eq "$ROUNDS" ]; then
		zdb_bcc "$work" zw "$work/zdb.out" || { notok "round $round: zdb -bcc after the replay"; grep -v "^loading" "$work/zdb.out" | tail -15; }
	fi
done
[ "$killed" -ge "$ROUNDS" ] && ok "$killed kill points, $total_done fsyncs" || notok "only $killed of $ROUNDS kill points"
grep -i "intent log" "$work/daemon.log" | grep -vi "claimed the intent log\|replayed" | head -5
exit $fail
