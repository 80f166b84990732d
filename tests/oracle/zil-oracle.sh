#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# zil-oracle.sh ZFUSE — crash images made by OpenZFS itself, replayed by
# zfuse. In the VM a pool gets two sync=always datasets (a: logbias=latency,
# b: logbias=throughput with dnodesize=auto), a synced baseline, then a
# workload of every record type Linux writes (creates, mkdir, symlink, hard
# link, renames within and across directories and over a file, unlink,
# rmdir, truncate down and up, chmod, chown, utimes, SA xattr set and
# removal, fifo, device node, 1 MiB writes (indirect), 4 KiB and 16 KiB
# writes, an overwrite past a truncated end, O_TRUNC; through a static
# helper built here: hole punch, nodump, project id, rename exchange and
# whiteout), and a third dataset c with xattr=dir (xattr directories and
# files in the log), with the
# txg timeout raised so that nothing syncs; the image is copied while the
# pool is live (a power cut after the last fsync). OpenZFS imports one copy
# (its own replay); zfuse mounts another read-write: its tree must be what
# the writer saw and what OpenZFS's replay shows (mtimes of replayed
# changes aside), zdb -bcc clean; then OpenZFS imports zfuse's result,
# shows the same tree and scrubs it without errors.
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
truncate -s 512M /tmp/zp.img
zpool create -o ashift=12 -O atime=off -O xattr=sa zp /tmp/zp.img || exit 1
zfs create -o sync=always zp/a
zfs create -o sync=always -o logbias=throughput -o dnodesize=auto zp/b
zfs create -o sync=always -o xattr=dir zp/c
for d in a b c; do
	r=/zp/$d
	mkdir -p $r/old/sub $r/old/emptydir
	dd if=/dev/urandom of=$r/old/big bs=128k count=4 2>/dev/null
	echo synced > $r/old/s1; echo synced2 > $r/old/s2; echo gone > $r/old/gone; echo x > $r/old/over
	setfattr -n user.keep -v 1 $r/old/s1
done
zpool sync zp
sleep 1
tail -2 /proc/spl/kstat/zfs/zp/txgs
for d in a b c; do
	r=/zp/$d
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
/host/manifest.sh /zp > /host/writer.tsv
tail -2 /proc/spl/kstat/zfs/zp/txgs
cp --sparse=always /tmp/zp.img /host/crash/zp.img
cp --sparse=always /tmp/zp.img /host/oz/zp.img
zpool export -f zp
zpool import -d /host/oz -f zp || exit 1
/host/manifest.sh /zp > /host/oz-after.tsv
zpool export -f zp
X
oracle "$work/o1" || exit 1
grep -v "^$" "$work/o1/oracle.out" | tail -8
img=$work/z/zp.img
cp --sparse=always "$work/o1/crash/zp.img" "$img"
for ds in a b c; do
	"$ZFUSE" inspect "$img" zil zp/$ds > "$work/zil-$ds.txt"

	n=$("$ZFUSE" inspect --json "$img" zil zp/$ds | python3 -c "import json,sys; print(len(json.load(sys.stdin)['records']))")
	[ "${n:-0}" -gt 40 ] && ok "crash image: zp/$ds's log holds $n records" || notok "crash image: zp/$ds's log holds ${n:-no} records"
done
grep -q "form: indirect" "$work/zil-b.txt" && ok "zp/b logged indirect writes" || notok "zp/b has no indirect writes"
grep -q "dnode_slots: 2" "$work/zil-b.txt" && ok "zp/b logged 2-slot creates" || notok "zp/b has no 2-slot creates"
types=$(sed -n 's/^ *type: //p' "$work"/zil-?.txt | sort -u | tr '\n' ' ')
echo "record types in the crash image: $types"
for t in TX_CREATE TX_MKDIR TX_MKXATTR TX_SYMLINK TX_REMOVE TX_RMDIR TX_LINK TX_RENAME TX_WRITE \
	 TX_TRUNCATE TX_SETATTR TX_SETSAXATTR TX_RENAME_EXCHANGE TX_RENAME_WHITEOUT; do
	case " $types " in *" $t "*) ;; *) notok "the crash image has no $t record" ;; esac
done

nomtime() { awk -F'\t' -v OFS='\t' 'NF >= 7 { $7 = "" } { print }'; }
noblocks() { awk -F'\t' -v OFS='\t' 'NF >= 10 { $7 = ""; $10 = "" } { print }'; }
if mount_bg "$ZFUSE" "$work/mount.log" "$mnt" -o rw "$img"; then
	for _ in $(seq 1 100); do mountpoint -q "$mnt/c" && break; sleep 0.1; done
	"$SHARED/oracle/manifest.sh" "$mnt" > "$work/zfuse.tsv"
	"$ZFUSE" unmount "$mnt"; wait "$mount_pid"; mount_pid=
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
			echo "zp/$ds$p $("$ZFUSE" inspect "$1" object "zp/$ds" "$p" |
				grep -E '^ *(ZPL_(FLAGS|PROJID|GEN|CRTIME|MODE|UID|GID|RDEV|LINKS|SIZE|XATTR)|dnode_size|object):' |
				tr -s ' ' | tr '\n' ' ')"
		done
	done
}
attrs "$img" > "$work/attrs.zfuse"
attrs "$work/o1/oz/zp.img" > "$work/attrs.oz"
diff "$work/attrs.oz" "$work/attrs.zfuse" > "$work/d4" &&
	ok "znode fields of replayed objects (flags, projid, gen, crtime, dnode size, rdev) as OpenZFS's replay" ||
	{ notok "znode fields differ from OpenZFS's replay (< OpenZFS, > zfuse)"; cat "$work/d4"; }
zdb_bcc "$work/z" zp "$work/zdb.out" && ok "zdb -bcc clean after zfuse's replay" || { notok "zdb -bcc after replay"; tail -20 "$work/zdb.out"; }

cp --sparse=always "$img" "$work/o2/z/zp.img"
# A claim by zfuse that OpenZFS then replays: an offline verb imports the
# crash image read-write (claiming every log) and mounts nothing.
mkdir -p "$work/o2/c"
cp --sparse=always "$work/o1/crash/zp.img" "$work/o2/c/zp.img"
if "$ZFUSE" set -d "$work/o2/c/zp.img" user:zfuse:claimed=1 zp; then
	for ds in a b c; do
		st=$("$ZFUSE" inspect --json "$work/o2/c/zp.img" zil zp/$ds | python3 -c "import json,sys; print(json.load(sys.stdin)['header']['state'])")
		[ "$st" == "claimed, replay needed" ] && ok "zfuse claimed zp/$ds's log" || notok "zp/$ds after zfuse's claim: $st"
	done
	zdb_bcc "$work/o2/c" zp "$work/zdb-c.out" && ok "zdb -bcc clean on zfuse's claimed image" || { notok "zdb -bcc claimed"; tail -20 "$work/zdb-c.out"; }
else
	notok "offline verb on the crash image"
fi
cat > "$work/o2/job.sh" <<'X'
zpool import -d /host/z -f zp || exit 1
/host/manifest.sh /zp > /host/oz.tsv
zpool scrub -w zp
zpool status -v zp > /host/status.txt
for d in a b c; do zdb -ivv zp/$d | grep -c "TX_" ; done
zpool export -f zp
zpool import -d /host/c -f zp || exit 1
/host/manifest.sh /zp > /host/oz-claimed.tsv
zpool scrub -w zp
zpool status -v zp > /host/status-claimed.txt
zpool export -f zp
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
