#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# zil-oracle.sh ZFUSE — crash images made by OpenZFS itself, replayed by
# zfuse. In the VM a pool gets three sync=always datasets (a:
# logbias=latency; b: logbias=throughput, dnodesize=auto; c: xattr=dir) and
# a sync=always volume, a synced baseline, then a workload of every record
# type Linux writes (creates, mkdir, symlink, hard link, renames within and
# across directories and over a file, unlink, rmdir, truncate down and up,
# O_TRUNC, chmod, chown, utimes, SA xattrs set and removed, xattr
# directories, fifo, device node, 1 MiB (indirect), 4 KiB and 16 KiB
# writes, an overwrite past a truncated end; through a static helper built
# here: hole punch, nodump, project id, rename exchange and whiteout) and
# volume writes, with the txg timeout raised so that nothing syncs; the
# image is copied while the pool is live (a power cut after the last
# fsync). OpenZFS imports one copy (its own replay); zfuse mounts another
# read-write: its tree must be what the writer saw and what OpenZFS's
# replay shows (mtimes of replayed changes aside), znode fields as
# OpenZFS's, zdb -bcc clean; then OpenZFS imports zfuse's result, shows
# the same tree and scrubs it clean, and replays a log zfuse only claimed.
set -uo pipefail
ZFUSE=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
require qemu zdb root fuse
work=$(mktemp -d "${TMPDIR:-/tmp}/zfuse-zil-oracle.XXXXXX")
mnt=$work/mnt
mkdir -p "$mnt" "$work/o1/crash" "$work/o1/oz" "$work/z" "$work/o2/z"
trap 'mountpoint -q "$mnt" && "$ZFUSE" unmount "$mnt"; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
fail=0
cp "$SHARED/oracle/manifest.sh" "$work/o1/" && cp "$SHARED/oracle/manifest.sh" "$work/o2/"
${CC:-cc} -static -O2 -o "$work/o1/zil_ops" "$here/zil_ops.c" || { notok "cannot build the static helper zil_ops"; exit 1; }

cat > "$work/o1/job.sh" <<'X'
set -u
echo 3600 > /sys/module/zfs/parameters/zfs_txg_timeout
truncate -s 512M /tmp/zo.img
zpool create -o ashift=12 -O atime=off -O xattr=sa zo /tmp/zo.img || exit 1
zfs create -o sync=always zo/a
zfs create -o sync=always -o logbias=throughput -o dnodesize=auto zo/b
zfs create -o sync=always -o xattr=dir zo/c
zfs create -V 16M -o sync=always -o volblocksize=16k zo/v
sleep 2
vdev=$(ls /dev/zd* 2>/dev/null | grep -v 'p[0-9]' | head -1)
# The device stays open: its last close (zil_close) waits for a txg sync,
# which would empty every log.
[ -n "$vdev" ] && exec 7<>$vdev && dd if=/dev/urandom of=$vdev bs=64k count=64 conv=fsync 2>/dev/null
for d in a b c; do
	r=/zo/$d
	mkdir -p $r/old/sub $r/old/emptydir
	dd if=/dev/urandom of=$r/old/big bs=128k count=4 2>/dev/null
	echo synced > $r/old/s1; echo synced2 > $r/old/s2; echo gone > $r/old/gone; echo x > $r/old/over
	setfattr -n user.keep -v 1 $r/old/s1
done
zpool sync zo
sleep 1
# Empty txgs write no uberblock: the log's blocks are then born several
# txgs after the one the claim is made in (zil.md §6.5).
zpool sync zo; zpool sync zo; zpool sync zo
tail -2 /proc/spl/kstat/zfs/zo/txgs
for d in a b c; do
	r=/zo/$d
	echo in-log > $r/new1
	mkdir $r/nd; mkdir $r/nd/deep
	echo hello > $r/nd/deep/f
	ln -s ../new1 $r/nd/link
	ln $r/new1 $r/nd/hard
	mv $r/old/s2 $r/nd/s2moved
	mv -f $r/old/s1 $r/old/over
	rm $r/old/gone
	rmdir $r/old/emptydir
	truncate -s 100 $r/old/big
	dd if=/dev/urandom of=$r/old/big bs=4k count=1 seek=16 conv=notrunc 2>/dev/null
	truncate -s 300000 $r/nd/deep/f
	chmod 0600 $r/new1
	chown 1000:2000 $r/nd/hard
	touch -d '2001-02-03 04:05:06' $r/nd/s2moved
	setfattr -n user.new -v logged $r/new1
	setfattr -x user.keep $r/old/over
	mkfifo $r/fifo
	mknod $r/null c 1 3
	dd if=/dev/urandom of=$r/large bs=128k count=8 2>/dev/null
	dd if=/dev/urandom of=$r/small bs=4k count=1 2>/dev/null
	dd if=/dev/urandom of=$r/mid bs=16k count=1 2>/dev/null
	printf 'tiny' > $r/tiny
	/host/zil_ops punch $r/large 4096 8192
	/host/zil_ops nodump $r/small
	/host/zil_ops projid $r/mid 77
	/host/zil_ops exchange $r/nd/hard $r/nd/s2moved
	echo w > $r/wo1; /host/zil_ops whiteout $r/wo1 $r/wo1.new
	: > $r/old/over
	setfattr -n user.second -v "$(head -c 300 /dev/zero | tr '\0' x)" $r/tiny
	echo t > $r/tmpf; rm $r/tmpf
	mkdir $r/tmpd; rmdir $r/tmpd
	mv $r/nd/deep $r/deep2
done
if [ -n "$vdev" ]; then
	dd if=/dev/urandom of=$vdev bs=4k count=3 seek=5 oflag=sync conv=notrunc 2>/dev/null
	dd if=/dev/urandom of=$vdev bs=64k count=4 seek=20 oflag=sync conv=notrunc 2>/dev/null
	# (no discard: dmu_free_long_range waits for txgs, which would
	# sync every log away)
	sha256sum < $vdev | cut -d' ' -f1 > /host/vol-writer.sha
fi
/host/manifest.sh /zo > /host/writer.tsv
tail -2 /proc/spl/kstat/zfs/zo/txgs
cp --sparse=always /tmp/zo.img /host/crash/zo.img
cp --sparse=always /tmp/zo.img /host/oz/zo.img
exec 7<&-
zpool export -f zo
zpool import -d /host/oz -f zo || exit 1
/host/manifest.sh /zo > /host/oz-after.tsv
sleep 2
vdev=$(ls /dev/zd* 2>/dev/null | grep -v 'p[0-9]' | head -1)
[ -n "$vdev" ] && sha256sum < $vdev | cut -d' ' -f1 > /host/vol-oz.sha
zpool export -f zo
X
oracle "$work/o1" || exit 1
grep -v "^$" "$work/o1/oracle.out" | tail -8
img=$work/z/zo.img
cp --sparse=always "$work/o1/crash/zo.img" "$img"
for ds in a b c; do
	"$ZFUSE" inspect "$img" zil zo/$ds > "$work/zil-$ds.txt"

	n=$("$ZFUSE" inspect --json "$img" zil zo/$ds | python3 -c "import json,sys; print(len(json.load(sys.stdin)['records']))")
	[ "${n:-0}" -gt 40 ] && ok "crash image: zo/$ds's log holds $n records" || notok "crash image: zo/$ds's log holds ${n:-no} records"
done
grep -q "form: indirect" "$work/zil-b.txt" && ok "zo/b logged indirect writes" || notok "zo/b has no indirect writes"
grep -q "dnode_slots: 2" "$work/zil-b.txt" && ok "zo/b logged 2-slot creates" || notok "zo/b has no 2-slot creates"
types=$(sed -n 's/^ *type: //p' "$work"/zil-?.txt | sort -u | tr '\n' ' ')
echo "record types in the crash image: $types"
for t in TX_CREATE TX_MKDIR TX_MKXATTR TX_SYMLINK TX_REMOVE TX_RMDIR TX_LINK TX_RENAME TX_WRITE \
	 TX_TRUNCATE TX_SETATTR TX_SETSAXATTR TX_RENAME_EXCHANGE TX_RENAME_WHITEOUT; do
	case " $types " in *" $t "*) ;; *) notok "the crash image has no $t record" ;; esac
done

if [ -s "$work/o1/vol-writer.sha" ]; then
	"$ZFUSE" inspect "$img" zil zo/v > "$work/zil-v.txt"
	grep -q "type: TX_WRITE" "$work/zil-v.txt" && ok "zo/v's log holds writes" || notok "zo/v's log holds no writes"
fi
nomtime() { awk -F'\t' -v OFS='\t' 'NF >= 7 { $7 = "" } { print }'; }
noblocks() { awk -F'\t' -v OFS='\t' 'NF >= 10 { $7 = ""; $10 = "" } { print }'; }
if mount_bg "$ZFUSE" "$work/mount.log" "$mnt" -o rw "$img"; then
	for _ in $(seq 1 100); do mountpoint -q "$mnt/c" && break; sleep 0.1; done
	"$SHARED/oracle/manifest.sh" "$mnt" > "$work/zfuse.tsv"
	"$ZFUSE" unmount "$mnt"; wait "$mount_pid"; mount_pid=
	if [ -s "$work/o1/vol-writer.sha" ] && mount_bg "$ZFUSE" "$work/mount.log" "$mnt" -o rw,volumes "$img"; then
		vf=$(find "$mnt" -name v -type f | head -1)
		sha=$([ -n "$vf" ] && sha256sum < "$vf" | cut -d' ' -f1)
		"$ZFUSE" unmount "$mnt"; wait "$mount_pid"; mount_pid=
		[ "$sha" == "$(cat "$work/o1/vol-writer.sha")" ] && ok "zfuse's replay of zo/v: the writer's contents" ||
			notok "zo/v after zfuse's replay: ${sha:-unreadable}"
		[ "$(cat "$work/o1/vol-oz.sha" 2>/dev/null)" == "$(cat "$work/o1/vol-writer.sha")" ] &&
			ok "OpenZFS's replay of zo/v agrees" || notok "OpenZFS's own replay of zo/v differs from the writer"
	elif [ ! -s "$work/o1/vol-writer.sha" ]; then
		skip_stage "the VM made no zvol device node" || notok "zvol stage"
	fi
	grep -i "replay\|claim" "$work/mount.log"
	diff <(noblocks < "$work/o1/writer.tsv") <(noblocks < "$work/zfuse.tsv") > "$work/d1" &&
		ok "zfuse's replay shows what the writer saw (mtime, st_blocks aside)" ||
		{ notok "zfuse's replay differs from the writer's view (< writer, > zfuse)"; cat "$work/d1"; }
	diff <(nomtime < "$work/o1/oz-after.tsv") <(nomtime < "$work/zfuse.tsv") > "$work/d2" &&
		ok "zfuse's replay shows what OpenZFS's replay shows (mtime aside)" ||
		{ notok "zfuse's replay differs from OpenZFS's (< OpenZFS, > zfuse)"; cat "$work/d2"; }
else
	notok "zfuse mount of the crash image"; tail "$work/mount.log"
fi
# What manifests do not show: flags (nodump), project id, generation,
# creation time, dnode size, device number, against OpenZFS's own replay.
attrs() {  # attrs IMAGE: the znode fields of the replayed objects
	for ds in a b c; do
		for p in /new1 /small /mid /large /tiny /null /fifo /wo1 /wo1.new /nd /nd/link /nd/hard \
			 /nd/s2moved /deep2 /deep2/f /old/big /old/over; do
			echo "zo/$ds$p $("$ZFUSE" inspect "$1" object "zo/$ds" "$p" |
				grep -E '^ *(ZPL_(FLAGS|PROJID|GEN|CRTIME|MODE|UID|GID|RDEV|LINKS|SIZE|XATTR)|dnode_size|object):' |
				tr -s ' ' | tr '\n' ' ')"
		done
	done
}
attrs "$img" > "$work/attrs.zfuse"
attrs "$work/o1/oz/zo.img" > "$work/attrs.oz"
diff "$work/attrs.oz" "$work/attrs.zfuse" > "$work/d4" &&
	ok "znode fields of replayed objects (flags, projid, gen, crtime, dnode size, rdev) as OpenZFS's replay" ||
	{ notok "znode fields differ from OpenZFS's replay (< OpenZFS, > zfuse)"; cat "$work/d4"; }
zdb_bcc "$work/z" zo "$work/zdb.out" && ok "zdb -bcc clean after zfuse's replay" || { notok "zdb -bcc after replay"; tail -20 "$work/zdb.out"; }

cp --sparse=always "$img" "$work/o2/z/zo.img"
# A claim by zfuse that OpenZFS then replays: an offline verb imports the
# crash image read-write (claiming every log) and mounts nothing.
mkdir -p "$work/o2/c"
cp --sparse=always "$work/o1/crash/zo.img" "$work/o2/c/zo.img"
if "$ZFUSE" set -d "$work/o2/c/zo.img" user:zfuse:claimed=1 zo; then
	for ds in a b c; do
		st=$("$ZFUSE" inspect --json "$work/o2/c/zo.img" zil zo/$ds | python3 -c "import json,sys; print(json.load(sys.stdin)['header']['state'])")
		[ "$st" == "claimed, replay needed" ] && ok "zfuse claimed zo/$ds's log" || notok "zo/$ds after zfuse's claim: $st"
	done
	births=$("$ZFUSE" inspect --json "$work/o2/c/zo.img" zil zo/a | python3 -c "
import json, re, sys
d = json.load(sys.stdin)
b = [int(re.search(r'birth=(\d+)L', x['blkptr']).group(1)) for x in d['blocks']]
print(d['header']['claim_txg'], max(b))")
	read -r ctxg maxb <<< "$births"
	if [ "${maxb:-0}" -gt "${ctxg:-0}" ]; then
		ok "log blocks born after the claim txg ($maxb > $ctxg): the txgs after the claim skip their numbers"
	else
		echo "note: the log's blocks were born in the claim txg or before ($births)"
	fi
	zdb_bcc "$work/o2/c" zo "$work/zdb-c.out" && ok "zdb -bcc clean on zfuse's claimed image" || { notok "zdb -bcc claimed"; tail -20 "$work/zdb-c.out"; }
else
	notok "offline verb on the crash image"
fi
cat > "$work/o2/job.sh" <<'X'
zpool import -d /host/z -f zo || exit 1
/host/manifest.sh /zo > /host/oz.tsv
zpool scrub -w zo
zpool status -v zo > /host/status.txt
for d in a b c; do zdb -ivv zo/$d | grep -c "TX_" ; done
zpool export -f zo
zpool import -d /host/c -f zo || exit 1
/host/manifest.sh /zo > /host/oz-claimed.tsv
zpool scrub -w zo
zpool status -v zo > /host/status-claimed.txt
zpool export -f zo
X
oracle "$work/o2" || exit 1
diff "$work/zfuse.tsv" "$work/o2/oz.tsv" > "$work/d3" && ok "OpenZFS reads zfuse's result as zfuse shows it" ||
	{ notok "OpenZFS shows another tree (< zfuse, > OpenZFS)"; cat "$work/d3"; }
grep -q "with 0 errors" "$work/o2/status.txt" && grep -q "No known data errors" "$work/o2/status.txt" &&
	ok "scrub of zfuse's result: 0 errors" || { notok "scrub"; cat "$work/o2/status.txt"; }
diff <(nomtime < "$work/o1/oz-after.tsv") <(nomtime < "$work/o2/oz-claimed.tsv") > "$work/d5" &&
	ok "OpenZFS replays zfuse's claim as it replays its own (mtime aside)" ||
	{ notok "OpenZFS's replay of zfuse's claim differs (< own claim, > zfuse's)"; cat "$work/d5"; }
grep -q "with 0 errors" "$work/o2/status-claimed.txt" && ok "scrub after OpenZFS replayed zfuse's claim: 0 errors" ||
	{ notok "scrub of the claimed image"; cat "$work/o2/status-claimed.txt"; }
exit $fail
