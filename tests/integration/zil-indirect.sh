#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# zil-indirect.sh ZFUSE — indirect intent-log writes (WR_INDIRECT, zil.md §8.6).
# A big write's fsync writes the file's blocks once, at commit time, and
# its log records name them; the txg sync then puts those very blocks in
# the tree. Checked here, on a pool with lz4 compression and half of the
# data compressible (ZILIND_COMP="off lz4" adds a pool without compression;
# zil-write's random big writes are stored uncompressed):
#  1. adopted: 1 MiB written and fsynced; the log holds indirect records
#     (192 bytes, a bp of the file's type, birth = the record's txg) and
#     after the unmount the file's level-0 bps are exactly those bps;
#  2. changed after the commit: a block fsynced indirect, then rewritten
#     by a small copied write and fsynced, then by an unlogged write: the
#     sync must not adopt the stale copy (the content after a remount is
#     the last one) and frees it (zdb -bcc finds no leak);
#  3. crash: 1 MiB written and fsynced, then SIGKILL: the crashed image is
#     clean for zdb, the next read-write mount replays the records (reading
#     the named blocks) and shows the fsynced content; zdb -bcc again;
#  4. logbias=throughput: a 4 KiB write is logged indirect too.
# ZILIND_SAVE=DIR keeps the crashed lz4 image of 3. (zi.img, and 'FILE
# SHA256' of the fsynced file in DIR/want) for zil-write-oracle.
set -uo pipefail
ZFUSE=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require zdb root fuse
scratch_mount zilind
mkdir -p "$mnt"
fail=0

records() {	# records IMG: "form reclen blkptr" of each TX_WRITE record
	"$ZFUSE" inspect --json "$1" zil zi 2>/dev/null | python3 -c '
import json, sys
for r in json.load(sys.stdin)["records"]:
    if r["type"] == "TX_WRITE":
        print(r.get("form"), r["reclen"], r["offset"], r["length"], r.get("blkptr", "-").split(" [")[0])'
}
l0_bps() {	# l0_bps IMG PATH: the DVA part of each level-0 bp of the file
	"$ZFUSE" inspect -vv "$1" object zi "$2" 2>/dev/null |
		awk '/bp: DVA.*\[L0/ { sub(/^ *bp: /, ""); sub(/ \[.*/, ""); print }'
}
mount_rw() { mount_bg "$ZFUSE" "$work/daemon.log" "$mnt" -o rw "$img"; }
unmount() { "$ZFUSE" unmount "$mnt" && wait "$mount_pid"; mount_pid=; }
kill_daemon() {
	kill -9 "$mount_pid"; wait "$mount_pid" 2>/dev/null; mount_pid=
	umount -l "$mnt" 2>/dev/null
}
# data N: N bytes, every other 4 KiB zeros (half compressible)
data() { python3 -c '
import os, sys
n = int(sys.argv[1]); b = bytearray()
while len(b) < n: b += os.urandom(4096) + bytes(4096)
sys.stdout.buffer.write(bytes(b[:n]))' "$1"; }
fsync_write() {	# fsync_write FILE OFF SRC [nofsync]: pwrite SRC's bytes at OFF, fsync
	python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)
os.pwrite(fd, open(sys.argv[3], "rb").read(), int(sys.argv[2]))
if len(sys.argv) < 5: os.fsync(fd)
os.close(fd)' "$@"; }
expect() {	# expect FILE OFF SRC...: the model (SRCs written at their offsets, in order)
	python3 -c '
import sys
out = bytearray()
for i in range(1, len(sys.argv), 2):
    off, d = int(sys.argv[i]), open(sys.argv[i + 1], "rb").read()
    if len(out) < off + len(d): out += bytes(off + len(d) - len(out))
    out[off:off + len(d)] = d
sys.stdout.buffer.write(bytes(out))' "$@" | sha256sum | cut -d" " -f1; }

for comp in ${ZILIND_COMP:-lz4}; do
	dir=$work/$comp img=$work/$comp/zi.img
	mkdir -p "$dir"
	"$ZFUSE" create -s 1G -O compression=$comp zi "$img" > /dev/null || die "create ($comp)"
	data 1048576 > "$work/big"
	data 20000 > "$work/small"
	data 131072 > "$work/late"
	echo x > "$work/x"

	# 1. adopted
	mount_rw || die "mount ($comp)"
	fsync_write "$mnt/chain" 0 "$work/x"	# the first fsync starts the chain (a txg sync)
	fsync_write "$mnt/a" 0 "$work/big"
	recs=$(records "$img")
	nind=$(grep -c '^indirect 192 ' <<< "$recs")
	logged=$(awk '$1 == "indirect" { print $5 }' <<< "$recs" | sort)
	# 2. changed after the commit: block 1 of b logged indirect, then a
	# copied write into it, then an unlogged one (same txg, no sync between)
	fsync_write "$mnt/b" 0 "$work/big"
	fsync_write "$mnt/b" 140000 "$work/small"
	fsync_write "$mnt/b" 131072 "$work/late" nofsync
	unmount || notok "$comp: unmount"
	if [ "$nind" -ge 8 ]; then
		ok "$comp: 1 MiB fsync logged as $nind indirect records"
	else
		notok "$comp: 1 MiB fsync logged $nind indirect records (8 expected): $recs"
	fi
	tree=$(l0_bps "$img" /a | sort)
	if [ -n "$tree" ] && [ "$tree" == "$(head -8 <<< "$logged" | sort)" ]; then
		ok "$comp: the sync adopted the logged blocks (the file's 8 level-0 bps are the records')"
	else
		notok "$comp: the file's level-0 bps are not the logged ones: tree [$tree] logged [$logged]"
	fi
	zdb_bcc "$dir" zi "$work/zdb.out" && ok "$comp: zdb -bcc clean after adopted and dropped blocks" ||
		{ notok "$comp: zdb -bcc"; tail -20 "$work/zdb.out"; }
	mount_rw || die "remount ($comp)"
	want=$(expect 0 "$work/big" 140000 "$work/small" 131072 "$work/late")
	[ "$(sha256sum < "$mnt/b" | cut -d" " -f1)" == "$want" ] &&
		ok "$comp: a block changed after its indirect commit holds the last write" ||
		notok "$comp: b holds stale data (the sync adopted a changed block)"
	[ "$(sha256sum < "$mnt/a" | cut -d" " -f1)" == "$(expect 0 "$work/big")" ] ||
		notok "$comp: a differs after the remount"

	# 3. crash after an indirect fsync (the chain of this mount first). A
	# timed txg sync between the fsync and the kill takes the records with
	# it: then once more (the mount replays what is left), another file.
	for try in 1 2 3; do
		[ "$try" -gt 1 ] && { mount_rw || die "remount for try $try ($comp)"; }
		f=c$try
		fsync_write "$mnt/chain" 0 "$work/x"
		fsync_write "$mnt/$f" 0 "$work/big"
		fsync_write "$mnt/$f" 300000 "$work/small"
		kill_daemon
		recs=$(records "$img"); nind=$(grep -c "^indirect 192 " <<< "$recs")
		[ "$nind" -ge 8 ] && break
	done
	[ "$nind" -ge 8 ] && ok "$comp: crashed image's log holds $nind indirect records" ||
		notok "$comp: crashed image's log holds $nind indirect records (3 tries): $recs"
	if [ -n "${ZILIND_SAVE:-}" ] && [ "$comp" == lz4 ]; then
		# for zil-write-oracle: OpenZFS replays this log
		cp --sparse=always "$img" "$ZILIND_SAVE/zi.img"
		echo "$f $(expect 0 "$work/big" 300000 "$work/small")" > "$ZILIND_SAVE/want"
	fi
	zdb_bcc "$dir" zi "$work/zdb.out" && ok "$comp: zdb -bcc clean on the crashed image" ||
		{ notok "$comp: zdb -bcc of the crashed image"; tail -20 "$work/zdb.out"; }
	mount_rw || die "mount after the crash ($comp)"
	[ "$(sha256sum < "$mnt/$f" | cut -d" " -f1)" == "$(expect 0 "$work/big" 300000 "$work/small")" ] &&
		ok "$comp: replay of the indirect records gives the fsynced content" ||
		notok "$comp: c differs after the replay"
	unmount || notok "$comp: unmount after the replay"
	zdb_bcc "$dir" zi "$work/zdb.out" && ok "$comp: zdb -bcc clean after the replay" ||
		{ notok "$comp: zdb -bcc after the replay"; tail -20 "$work/zdb.out"; }
done

# 4. logbias=throughput logs even a small write indirect
"$ZFUSE" set -d "$img" logbias=throughput zi || notok "zfuse set logbias"
mount_rw || die "mount (throughput)"
head -c 4096 /dev/urandom > "$work/4k"
fsync_write "$mnt/chain2" 0 "$work/x"
fsync_write "$mnt/d" 0 "$work/4k"
form=$(records "$img" | awk '$4 == 4096 { print $1; exit }')
kill_daemon
[ "$form" == indirect ] && ok "logbias=throughput: a 4 KiB write is logged indirect" ||
	notok "logbias=throughput: a 4 KiB write is logged '${form:-not at all}'"
mount_rw || die "mount after the throughput crash"
cmp -s "$mnt/d" "$work/4k" && ok "logbias=throughput: replayed" || notok "logbias=throughput: d differs"
unmount
exit $fail
