#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# crypt-oracle.sh ZFUSE WALK — issue 11: encrypted datasets made by OpenZFS
# 2.3.2 (the oracle) in the suites and key formats the public fixture lacks
# (aes-128-gcm hex, aes-128-ccm raw, aes-192-gcm passphrase, aes-192-ccm
# hex, aes-256-gcm raw), with an inherited-key child, a snapshot and a
# clone, xattr=sa (one big enough for a spill block) and xattr=dir, large
# dnodes, large and compressed files, a 3000-entry directory (fat ZAP) and
# symlinks (short and long). The job writes manifest.sh of every dataset;
# zfuse must reproduce each exactly through the library (zfuse-walk --key)
# and through one FUSE mount of the whole pool (-o keys=FILE), and refuse a
# wrong hex key and a raw key of the wrong length.
#
# The same job judges zfuse's writing (issue 11 part 3): a pool zfuse
# creates with an encrypted root (aes-256-gcm, passphrase) and children in
# the five other suites (hex, raw and passphrase roots, inherited keys), a
# snapshot and a clone, filled through a FUSE mount; and a copy of the
# public crypt fixture written read-write by zfuse. OpenZFS imports both,
# `zfs load-key` takes the same keys (and refuses a wrong one), scrub finds
# 0 errors, its manifests equal what zfuse showed; then it writes more
# (files, a child dataset, a snapshot), which zfuse reads exactly. Host
# zdb -bcc is clean before and after. Bad input on the create side (keys
# too short, encryption=off below an encrypted parent, too few pbkdf2
# iterations, a bad keylocation, a wrong passphrase) is refused clearly.
# change-key turns one root's passphrase into a hex key before OpenZFS
# loads it; through the running daemon, `change-key -i` makes a hex root
# (with a child) inherit zcrypt's key and `change-key -o keyformat=raw`
# makes an inheriting dataset (with a child) a root of its own, both
# written to after; change-key -l -o pbkdf2iters= on zcrypt. OpenZFS loads
# the keys as changed (and refuses the inherited root's old key), reports
# the encryption roots, key formats, keylocations and pbkdf2iters zfs
# change-key leaves, and shows the same files. Encrypted volumes (one
# inheriting zcrypt's key, one an aes-128-ccm hex root) made and written by
# zfuse: OpenZFS's devices hold the same bytes; it writes into one and
# zfuse reads that back.
#
# Encrypted intent logs: zfuse fsyncs creates, writes, renames, a symlink,
# a mkdir, a chmod and a truncate in an aes-256-gcm root and an
# aes-128-ccm child, then is killed (-9); zfuse replays a copy itself, and
# OpenZFS imports the crashed image, loads the key and shows the fsync'ed
# tree (its replay), scrub 0 errors. The other way: OpenZFS, its txg
# timeout raised, writes sync=always into aes-256-gcm and aes-192-ccm
# datasets and its image is copied live (a power cut); zfuse mounts that
# read-write with the keys, replays OpenZFS's encrypted log and shows the
# tree OpenZFS's writer saw, and replays the log of an encrypted volume
# written there with sync=always when the volume opens (the sha256 OpenZFS
# read); zdb -bcc clean after.
set -uo pipefail
ZFUSE=$1 WALK=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
require qemu fuse
export LC_ALL=C TZ=UTC
work=$(mktemp -d "${TMPDIR:-/tmp}/zfuse-cryptoracle.XXXXXX")
job="$work/job"; mnt="$work/mnt"; mkdir -p "$job" "$mnt"
# ZFUSE_CRYPT_JOB=DIR: reuse a finished job (its image, keys and
# manifests) instead of asking the oracle again; ZFUSE_KEEP=1 keeps $work.
reuse=${ZFUSE_CRYPT_JOB:-}
mount_pid=
cleanup() {
	mountpoint -q "$mnt" && "$ZFUSE" unmount "$mnt"
	[ -n "$mount_pid" ] && wait "$mount_pid" 2>/dev/null
	if [ -n "${ZFUSE_KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail=0
cp "$SHARED/oracle/manifest.sh" "$job/"
openssl rand -hex 32 | tr -d '\n' > "$job/hex.key"
openssl rand -hex 32 | tr -d '\n' > "$job/hex2.key"
head -c 32 /dev/urandom > "$job/raw.key"
head -c 32 /dev/urandom > "$job/raw2.key"
echo "oracle crypt passphrase" > "$job/pass.key"

# dataset name -> suite, keyformat, key file
datasets="g128 c128 g192 c192 g256"
declare -A suite=([g128]=aes-128-gcm [c128]=aes-128-ccm [g192]=aes-192-gcm [c192]=aes-192-ccm [g256]=aes-256-gcm)
declare -A fmt=([g128]=hex [c128]=raw [g192]=passphrase [c192]=hex [g256]=raw)
declare -A key=([g128]=hex.key [c128]=raw.key [g192]=pass.key [c192]=hex2.key [g256]=raw2.key)


# ---- zfuse writes: its own encrypted pool and the public fixture ---------
zk="$job/zk"; zi="$job/zimg"; fim="$job/fimg"
M="$SHARED/oracle/manifest.sh"
zsets="c128 c192 c256 g128 g192 g192/kid g192clone ik ik/kid nr nr/kid"
zmore="c128 c192 c256 g128 g192 g192/kid g192clone"	# OpenZFS writes more into these
zroots="c128 c192 c256 g192"
zextra=	# keys file lines of roots made by change-key
declare -A zsuite=([c128]=aes-128-ccm [c192]=aes-192-ccm [c256]=aes-256-ccm [g128]=aes-128-gcm [g192]=aes-192-gcm)
declare -A zfmt=([c128]=hex [c192]=raw [c256]=passphrase [g192]=hex)
declare -A zkey=([c128]=hex1 [c192]=raw1 [c256]=pass2 [g192]=hex2)
fill() {  # fill DIR TAG: what every dataset gets
	local m=$1
	echo "hello from $2" > "$m/hello.txt"
	seq 1 30000 > "$m/numbers.txt"
	head -c 400000 /dev/urandom > "$m/random.bin"	# an indirect block at 128K records
	dd if=/dev/zero of="$m/sparse.bin" bs=1 count=1 seek=3000000 2>/dev/null
	ln -s hello.txt "$m/short-link"
	ln -s "$(printf 'long/%.0s' $(seq 1 60))target" "$m/long-link"
	mkdir -p "$m/sub/deeper" && echo deep > "$m/sub/deeper/file"
	setfattr -n user.small -v tiny "$m/hello.txt"
	setfattr -n user.big -v "$(head -c 3000 /dev/zero | tr '\0' b)" "$m/numbers.txt"
	mkdir "$m/many" && for i in $(seq 1 60); do echo "$i" > "$m/many/f$i"; done
}
zkeys() {
	{ echo "zcrypt file://$zk/pass1"; for d in $zroots; do echo "zcrypt/$d file://$zk/${zkey[$d]}"; done
	  echo "zcrypt/hvol file://$zk/hex5"; [ -z "$zextra" ] || echo "$zextra"; } > "$zk/keys"
}
# lst DIR: names, types, modes, sizes, link targets and contents (replay
# sets times of its own: manifests would differ in mtimes of directories)
lst() {
	(cd "$1" && find . -path ./.zfs -prune -o -printf '%p %y %m %s %l\n' | sort &&
	 find . -path ./.zfs -prune -o -type f -print0 | sort -z | xargs -0 -r sha256sum)
}
cmp_l() {  # cmp_l LABEL WANT GOT
	cat "$2" > "$work/lwant"; cat "$3" > "$work/lgot"
	if [ -s "$work/lwant" ] && cmp -s "$work/lwant" "$work/lgot"; then
		ok "$1 ($(wc -l < "$work/lwant") lines)"
	else
		notok "$1"; diff "$work/lwant" "$work/lgot" | head -8
	fi
}
# fsync_ops DIR: each change fsync'ed (the first fsync starts the log chain
# with a txg sync; the rest must come from the log)
fsync_ops() {
	python3 - "$1" <<'PY'
import os, sys
d = sys.argv[1]
def fs(p):
    fd = os.open(p, os.O_RDONLY); os.fsync(fd); os.close(fd)
with open(d + "/warm", "w") as f: f.write("warm"); f.flush(); os.fsync(f.fileno())
for n, size in (("small", 3000), ("mid", 70000), ("big", 300000)):
    with open(d + "/" + n, "wb") as f:
        f.write(os.urandom(size)); f.flush(); os.fsync(f.fileno())
os.mkdir(d + "/dir"); fs(d)
os.rename(d + "/small", d + "/dir/moved"); fs(d + "/dir"); fs(d)
os.symlink("dir/moved", d + "/link"); fs(d)
os.chmod(d + "/mid", 0o600); fs(d + "/mid")
os.truncate(d + "/big", 100000); fs(d + "/big")
with open(d + "/dir/last", "w") as f: f.write("last\n"); f.flush(); os.fsync(f.fileno())
PY
}
small() {  # small DIR TAG: a lighter fill (the VM's manifests cost)
	echo "hello from $2" > "$1/hello.txt"
	head -c 200000 /dev/urandom > "$1/random.bin"
	mkdir "$1/sub" && seq 1 2000 > "$1/sub/seq.txt"
	setfattr -n user.small -v tiny "$1/hello.txt"
}
zfuse_side() {
	mkdir -p "$zk" "$zi" "$fim"
	echo "zfuse root passphrase" > "$zk/pass1"
	echo "zfuse ccm passphrase" > "$zk/pass2"
	echo "not the passphrase" > "$zk/wrongpass"
	openssl rand -hex 32 | tr -d '\n' > "$zk/hex1"
	openssl rand -hex 32 | tr -d '\n' > "$zk/hex2"
	head -c 32 /dev/urandom > "$zk/raw1"
	head -c 32 /dev/urandom > "$zk/raw2"
	openssl rand -hex 32 | tr -d '\n' > "$zk/hex4"
	openssl rand -hex 32 | tr -d '\n' > "$zk/hex5"
	head -c 31 /dev/urandom > "$zk/raw31"
	printf '0123456789\n' > "$zk/shorthex"
	printf 'short\n' > "$zk/shortpass"
	echo zfuse-fixture-passphrase > "$zk/fxpass"
	local zimg="$zi/zcrypt.img" D="-d $zi/zcrypt.img" out
	# bad input first: nothing may be left behind
	out=$("$ZFUSE" create -s 128M -O encryption=on -O keyformat=raw -O "keylocation=file://$zk/raw31" \
		zbad "$zi/zbad.img" 2>&1) && notok "create: a 31-byte raw key accepted"
	grep -q "Raw key too short" <<<"$out" && [ ! -e "$zi/zbad.img" ] &&
		ok "create: short raw key refused: $(head -1 <<<"$out")" || notok "create: short raw key: $out"
	"$ZFUSE" create -s 128M -O encryption=aes-256-gcm -O keyformat=passphrase -O pbkdf2iters=100000 \
		-O "keylocation=file://$zk/pass1" zcrypt "$zimg" || { notok "create an encrypted pool"; return 1; }
	for d in $zroots; do
		local extra=; [ "${zfmt[$d]}" == passphrase ] && extra="-o pbkdf2iters=100000"
		"$ZFUSE" create $D -o "encryption=${zsuite[$d]}" -o "keyformat=${zfmt[$d]}" $extra \
			-o "keylocation=file://$zk/${zkey[$d]}" "zcrypt/$d" || notok "create zcrypt/$d"
	done
	# a suite of its own with the root's wrapping key (loaded from its keylocation)
	"$ZFUSE" create $D -o encryption=aes-128-gcm zcrypt/g128 || notok "create zcrypt/g128"
	"$ZFUSE" create $D zcrypt/g192/kid || notok "create zcrypt/g192/kid (inherits)"
	# change-key's subjects: a hex root with a child, an inheriting child with one
	"$ZFUSE" create $D -o encryption=on -o keyformat=hex -o "keylocation=file://$zk/hex4" zcrypt/ik &&
	"$ZFUSE" create $D zcrypt/ik/kid && "$ZFUSE" create $D zcrypt/nr && "$ZFUSE" create $D zcrypt/nr/kid ||
		notok "create zcrypt/ik, zcrypt/nr and their children"
	# encrypted volumes: one inherits zcrypt's key, one is a root of its own
	"$ZFUSE" create $D -V 8M zcrypt/vol && ok "create -V below an encrypted root" ||
		notok "create -V zcrypt/vol"
	"$ZFUSE" create $D -V 4M -b 8K -o encryption=aes-128-ccm -o keyformat=hex \
		-o "keylocation=file://$zk/hex5" zcrypt/hvol && ok "create -V -o keyformat=hex (a new root)" ||
		notok "create -V zcrypt/hvol"
	out=$("$ZFUSE" change-key $D -i zcrypt/ik/kid 2>&1) && notok "change-key -i of a non-root accepted"
	grep -q "only be performed on encryption roots" <<<"$out" && ok "change-key -i of a non-root: $out" ||
		notok "change-key -i non-root: $out"
	out=$("$ZFUSE" change-key $D -i zcrypt 2>&1) && notok "change-key -i of the pool's root accepted"
	grep -q "Root dataset cannot inherit key" <<<"$out" && ok "change-key -i of the pool's root: $out" ||
		notok "change-key -i zcrypt: $out"
	out=$("$ZFUSE" change-key $D zcrypt/nr 2>&1) && notok "change-key of a non-root without keyformat accepted"
	grep -q "Keyformat required" <<<"$out" && ok "change-key of a non-root needs keyformat: $out" ||
		notok "change-key nr: $out"
	out=$("$ZFUSE" create $D -o encryption=off zcrypt/c128/plain 2>&1) &&
		notok "encryption=off below an encrypted parent accepted"
	grep -q "Dataset must be encrypted" <<<"$out" && ok "encryption=off below encrypted: $out" ||
		notok "encryption=off: $out"
	out=$("$ZFUSE" create $D -o encryption=on -o keyformat=hex -o "keylocation=file://$zk/shorthex" \
		zcrypt/bad 2>&1) && notok "short hex key accepted"
	grep -q "Hex key too short" <<<"$out" && ok "create: short hex key: $(head -1 <<<"$out")" ||
		notok "create: short hex key: $out"
	out=$("$ZFUSE" create $D -o encryption=on -o keyformat=passphrase \
		-o "keylocation=file://$zk/shortpass" zcrypt/bad 2>&1) && notok "short passphrase accepted"
	grep -q "Passphrase too short" <<<"$out" && ok "create: short passphrase: $(head -1 <<<"$out")" ||
		notok "create: short passphrase: $out"
	out=$("$ZFUSE" create $D -o encryption=on -o keyformat=passphrase -o pbkdf2iters=1000 \
		-o "keylocation=file://$zk/pass2" zcrypt/bad 2>&1) && notok "pbkdf2iters=1000 accepted"
	grep -q "Minimum pbkdf2 iterations" <<<"$out" && ok "create: few iterations: $out" ||
		notok "create: pbkdf2iters: $out"
	out=$("$ZFUSE" create $D -o encryption=on -o keyformat=hex -o keylocation=https://example.com/k \
		zcrypt/bad 2>&1) && notok "keylocation https accepted"
	grep -qi "keylocation" <<<"$out" && ok "create: bad keylocation: $(head -1 <<<"$out")" ||
		notok "create: bad keylocation: $out"
	out=$("$ZFUSE" load-key $D -L "file://$zk/wrongpass" zcrypt 2>&1) && notok "load-key: wrong passphrase accepted"
	grep -q "Incorrect key" <<<"$out" && ok "load-key of zfuse's root, wrong passphrase: $out" ||
		notok "load-key wrong: $out"
	"$ZFUSE" list $D -H -o name -r zcrypt | grep -q bad && notok "a refused create left a dataset"

	zkeys
	if mount_bg "$ZFUSE" "$work/zmount.log" "$mnt" -o "keys=$zk/keys" "$zimg" </dev/null; then
		sleep 1
		fill "$mnt" zcrypt
		for d in c128 c192 c256 g128 g192 g192/kid; do fill "$mnt/$d" "$d"; done
		for d in ik ik/kid nr nr/kid; do small "$mnt/$d" "$d"; done
		# key changes through the daemon, the datasets mounted and written after
		"$ZFUSE" change-key -i zcrypt/ik && ok "change-key -i zcrypt/ik (mounted)" ||
			notok "change-key -i zcrypt/ik"
		"$ZFUSE" change-key -o keyformat=raw -o "keylocation=file://$zk/raw2" zcrypt/nr &&
			ok "change-key: zcrypt/nr becomes a raw root (mounted)" || notok "change-key zcrypt/nr"
		"$ZFUSE" change-key -l -o pbkdf2iters=123456 zcrypt && ok "change-key -l -o pbkdf2iters zcrypt" ||
			notok "change-key -o pbkdf2iters zcrypt"
		echo "after inherit" > "$mnt/ik/after.txt"; echo "after new root" > "$mnt/nr/kid/after.txt"
		rm "$mnt/ik/kid/random.bin"
		"$ZFUSE" list -H -o name,encryptionroot,keyformat,keylocation -r zcrypt > "$work/zlist"
		grep -qx "zcrypt/ik/kid	zcrypt	passphrase	none" "$work/zlist" &&
		grep -qx "zcrypt/ik	zcrypt	passphrase	none" "$work/zlist" &&
		grep -qx "zcrypt/nr	zcrypt/nr	raw	file://$zk/raw2" "$work/zlist" &&
		grep -qx "zcrypt/nr/kid	zcrypt/nr	raw	none" "$work/zlist" &&
			ok "zfuse list: the roots change-key made" || { notok "zfuse list after change-key"; cat "$work/zlist"; }
		"$ZFUSE" snapshot zcrypt/c128@s1 || notok "snapshot zcrypt/c128@s1"
		echo changed >> "$mnt/c128/hello.txt"; rm "$mnt/c128/numbers.txt"
		"$ZFUSE" snapshot zcrypt/g192@s0 || notok "snapshot zcrypt/g192@s0"
		"$ZFUSE" clone zcrypt/g192@s0 zcrypt/g192clone || notok "clone zcrypt/g192clone"
		sleep 1
		echo "written in the clone" > "$mnt/g192clone/clone.txt"
		"$ZFUSE" unmount "$mnt" || notok "unmount zcrypt"
		wait "$mount_pid"; mount_pid=
	else
		notok "mount zcrypt read-write: $(cat "$work/zmount.log")"
	fi
	# the volumes, written through -o volumes
	head -c 3000000 /dev/urandom > "$zk/vd1"; head -c 1000000 /dev/urandom > "$zk/vd2"
	truncate -s 8M "$zk/vol.model"; truncate -s 4M "$zk/hvol.model"
	dd if="$zk/vd1" of="$zk/vol.model" bs=1M seek=$((1048576 + 3)) oflag=seek_bytes conv=notrunc status=none
	dd if="$zk/vd2" of="$zk/hvol.model" bs=4k seek=3 conv=notrunc status=none
	zkeys
	if mount_bg "$ZFUSE" "$work/vmount.log" "$mnt" -o "volumes,keys=$zk/keys" "$zimg" </dev/null; then
		sleep 1
		dd if="$zk/vd1" of="$mnt/vol" bs=1M seek=$((1048576 + 3)) oflag=seek_bytes conv=notrunc,fsync status=none
		dd if="$zk/vd2" of="$mnt/hvol" bs=4k seek=3 conv=notrunc,fsync status=none
		cmp -s "$mnt/vol" "$zk/vol.model" && cmp -s "$mnt/hvol" "$zk/hvol.model" &&
			ok "encrypted volumes written and read back through -o volumes" || notok "volumes read back"
		"$ZFUSE" unmount "$mnt" || notok "unmount volumes"
		wait "$mount_pid"; mount_pid=
	else
		notok "mount -o volumes zcrypt: $(cat "$work/vmount.log")"
	fi
	sha256sum < "$zk/vol.model" | cut -d' ' -f1 > "$job/z.vol.sum"
	sha256sum < "$zk/hvol.model" | cut -d' ' -f1 > "$job/z.hvol.sum"
	# an encrypted intent log written by zfuse, then kill -9
	mkdir -p "$job/zlog"
	head -c 32 /dev/urandom > "$zk/rawl"
	"$ZFUSE" create -s 512M -O encryption=aes-256-gcm -O keyformat=raw -O "keylocation=file://$zk/rawl" \
		zl "$job/zlog/zl.img" > /dev/null && "$ZFUSE" create -d "$job/zlog/zl.img" -o encryption=aes-128-ccm zl/ccm ||
		notok "create the pool zl"
	if mount_bg "$ZFUSE" "$work/lmount.log" "$mnt" -o rw "$job/zlog/zl.img" </dev/null; then
		fsync_ops "$mnt" && fsync_ops "$mnt/ccm" || notok "fsync workload on zl"
		{ lst "$mnt"; } > "$job/zl.want"
		kill -KILL "$mount_pid"; wait "$mount_pid" 2>/dev/null; mount_pid=
		umount -l "$mnt"
		recs=$("$ZFUSE" inspect "$job/zlog/zl.img" zil zl 2>/dev/null | awk '/^  records:/ { print $2 }')
		recs2=$("$ZFUSE" inspect "$job/zlog/zl.img" zil zl/ccm 2>/dev/null | awk '/^  records:/ { print $2 }')
		[ "${recs:-0}" -gt 5 ] && [ "${recs2:-0}" -gt 5 ] &&
			ok "zfuse left encrypted intent logs after kill -9 ($recs and $recs2 records)" ||
			notok "no encrypted log records after kill -9 ($recs, $recs2)"
		zdb -e -p "$job/zlog" -ivv zl > "$work/zdb.ivv" 2>&1
		grep -q "(encrypted)" "$work/zdb.ivv" && ok "zdb walks zfuse's encrypted log chains" ||
			notok "zdb does not see encrypted log records: $(tail -3 "$work/zdb.ivv")"
		mkdir -p "$work/zlcopy"; cp --sparse=always "$job/zlog/zl.img" "$work/zlcopy/"
		if mount_bg "$ZFUSE" "$work/lmount.log" "$mnt" -o rw "$work/zlcopy/zl.img" </dev/null; then
			cmp_l "zfuse replays its own encrypted logs" "$job/zl.want" <(lst "$mnt")
			"$ZFUSE" unmount "$mnt"; wait "$mount_pid"; mount_pid=
			zdb_bcc "$work/zlcopy" zl "$work/zdb.zl" && ok "zdb -bcc after zfuse's replay" ||
				{ notok "zdb -bcc zl replayed"; tail -8 "$work/zdb.zl"; }
		else
			notok "mount zl after the kill: $(tail -3 "$work/lmount.log")"
		fi
	else
		notok "mount zl: $(cat "$work/lmount.log")"
	fi
	# the crypt fixture, written read-write
	cp --sparse=always "$(unpack crypt)/crypt.img" "$fim/crypt.img"
	if mount_bg "$ZFUSE" "$work/fmount.log" "$mnt" -o "keylocation=file://$zk/fxpass" "$fim/crypt.img" </dev/null; then
		sleep 1
		for d in secret ccm; do
			mountpoint -q "$mnt/$d" || notok "fixture: crypt/$d not mounted"
			echo "zfuse wrote this in $d" > "$mnt/$d/zfuse.txt"
			head -c 700000 /dev/urandom > "$mnt/$d/zfuse.bin"
			mkdir "$mnt/$d/zdir" && cp "$mnt/$d/hello.txt" "$mnt/$d/zdir/"
			rm -f "$mnt/$d/numbers.txt"
			setfattr -n user.z -v zz "$mnt/$d/zfuse.txt"
		done
		grep -q "read-only" "$work/fmount.log" && notok "fixture: mounted read-only: $(cat "$work/fmount.log")"
		"$ZFUSE" unmount "$mnt" || notok "unmount fixture"
		wait "$mount_pid"; mount_pid=
	else
		notok "mount the crypt fixture read-write: $(cat "$work/fmount.log")"
	fi
	# change-key: passphrase to hex; the old key is refused after
	openssl rand -hex 32 | tr -d '\n' > "$zk/hex3"
	"$ZFUSE" change-key $D -o keyformat=hex -o "keylocation=file://$zk/hex3" zcrypt/c256 &&
		ok "change-key zcrypt/c256 (passphrase to hex)" || notok "change-key zcrypt/c256"
	out=$("$ZFUSE" load-key $D -L "file://$zk/pass2" zcrypt/c256 2>&1) &&
		notok "the old key still opens zcrypt/c256 after change-key"
	"$ZFUSE" load-key $D -L "file://$zk/hex3" zcrypt/c256 || notok "the new key of zcrypt/c256 refused"
	zkey[c256]=hex3
	zextra="zcrypt/nr file://$zk/raw2"
	zkeys
	zdb_bcc "$zi" zcrypt "$work/zdb.z" && ok "zdb -bcc: zfuse's encrypted pool clean" ||
		{ notok "zdb -bcc zcrypt"; tail -15 "$work/zdb.z"; }
	zdb_bcc "$fim" crypt "$work/zdb.f" && ok "zdb -bcc: the fixture after zfuse's writes clean" ||
		{ notok "zdb -bcc crypt (written)"; tail -15 "$work/zdb.f"; }
	# what zfuse shows, for OpenZFS to match
	if mount_bg "$ZFUSE" "$work/zmount.log" "$mnt" -o "ro,keys=$zk/keys" "$zimg" </dev/null; then
		sleep 1
		"$M" "$mnt" > "$job/z.zcrypt.tsv"
		for d in $zsets; do "$M" "$mnt/$d" > "$job/z.${d//\//%}.tsv"; done
		"$M" "$mnt/c128/.zfs/snapshot/s1" > "$job/z.c128@s1.tsv"
		"$ZFUSE" unmount "$mnt"; wait "$mount_pid"; mount_pid=
	fi
	if mount_bg "$ZFUSE" "$work/fmount.log" "$mnt" -o "ro,keylocation=file://$zk/fxpass" "$fim/crypt.img" </dev/null; then
		sleep 1
		for d in secret ccm; do "$M" "$mnt/$d" > "$job/f.$d.tsv"; done
		"$ZFUSE" unmount "$mnt"; wait "$mount_pid"; mount_pid=
	fi
	"$ZFUSE" inspect --keys "$zk/keys" "$zimg" verify > "$work/zverify" 2>&1
	grep -q 'mac_errors: 0' "$work/zverify" && grep -q 'mac_unchecked: 0' "$work/zverify" &&
		ok "inspect verify: every MAC zfuse wrote checks" || notok "verify zcrypt: $(grep mac "$work/zverify")"
}
[ -n "$reuse" ] || zfuse_side

{
	echo '#!/bin/bash'
	echo "set -u"
	echo 'truncate -s 256M /tmp/ocrypt.img'
	echo 'zpool create -O mountpoint=/ocrypt ocrypt /tmp/ocrypt.img || exit 1'
	for d in $datasets; do
		echo "zfs create -o encryption=${suite[$d]} -o keyformat=${fmt[$d]} -o keylocation=file:///host/${key[$d]} ocrypt/$d || exit 1"
	done
	cat <<'EOF'
zfs set xattr=sa dnodesize=auto ocrypt/g128
zfs set xattr=dir compression=gzip ocrypt/c128
zfs set recordsize=16K ocrypt/c192
zfs create -o mountpoint=/ochild ocrypt/g128/child
for d in g128 c128 g192 c192 g256; do
	m=/ocrypt/$d
	echo "hello from $d" > $m/hello.txt
	seq 1 100000 > $m/numbers.txt
	head -c 1000000 /dev/urandom > $m/random.bin
	dd if=/dev/zero of=$m/sparse.bin bs=1 count=1 seek=5000000 2>/dev/null
	ln -s hello.txt $m/short-link
	ln -s "$(printf 'long/%.0s' $(seq 1 60))target" $m/long-link
	mkdir -p $m/sub/deeper && echo deep > $m/sub/deeper/file
	setfattr -n user.small -v tiny $m/hello.txt
	setfattr -n user.mid -v "$(head -c 200 /dev/zero | tr '\0' m)" $m/sub
	setfattr -n user.big -v "$(head -c 3000 /dev/zero | tr '\0' b)" $m/numbers.txt
	chown 1000:1000 $m/sub/deeper/file; chmod 600 $m/sub/deeper/file
done
mkdir /ocrypt/g128/many
for i in $(seq 1 3000); do echo $i > /ocrypt/g128/many/f$i; done
echo child > /ochild/in-child.txt
seq 1 1000 > /ochild/seq.txt
zfs snapshot ocrypt/g128@s1
echo changed >> /ocrypt/g128/hello.txt
rm /ocrypt/g128/numbers.txt
zfs snapshot ocrypt/c128@s0
zfs clone -o mountpoint=/oclone ocrypt/c128@s0 ocrypt/c128clone || exit 1
echo "written in the clone" > /oclone/clone.txt
sync
for d in g128 c128 g192 c192 g256; do /host/manifest.sh /ocrypt/$d > /host/m.$d.tsv; done
/host/manifest.sh /ocrypt/g128/.zfs/snapshot/s1 > /host/m.g128@s1.tsv
/host/manifest.sh /ochild > /host/m.g128%child.tsv
/host/manifest.sh /oclone > /host/m.c128clone.tsv
zfs get -H -o name,value encryption,keyformat,encryptionroot -t filesystem,snapshot -r ocrypt > /host/props.txt
zpool export ocrypt || zpool export -f ocrypt
cp --sparse=always /tmp/ocrypt.img /host/ocrypt.img
echo DONE
EOF
	cat <<'EOF'
# ---- zfuse's writing, judged by OpenZFS ----
zsets="c128 c192 c256 g128 g192 g192/kid g192clone ik ik/kid nr nr/kid"
zmore="c128 c192 c256 g128 g192 g192/kid g192clone"
zpool import -d /host/zimg -f -N zcrypt || echo ZIMPORT-FAIL
zfs load-key -L file:///host/zk/wrongpass zcrypt 2>&1 && echo WRONGKEY-ACCEPTED
zfs load-key -L file:///host/zk/pass1 zcrypt && echo LK-OK zcrypt
zfs load-key -L file:///host/zk/hex1 zcrypt/c128 && echo LK-OK c128
zfs load-key -L file:///host/zk/raw1 zcrypt/c192 && echo LK-OK c192
zfs load-key -L file:///host/zk/pass2 zcrypt/c256 2>&1 && echo OLDKEY-ACCEPTED
zfs load-key -L file:///host/zk/hex3 zcrypt/c256 && echo LK-OK c256
zfs load-key -L file:///host/zk/hex2 zcrypt/g192 && echo LK-OK g192
zfs load-key -L file:///host/zk/hex4 zcrypt/ik 2>&1 && echo INHERITED-ROOT-LOADS
zfs load-key -L file:///host/zk/raw2 zcrypt/nr && echo LK-OK nr
zfs load-key -L file:///host/zk/hex5 zcrypt/hvol && echo LK-OK hvol
zfs mount -a
zpool scrub -w zcrypt; zpool status -v zcrypt > /host/zstatus.txt
zfs get -H -o name,property,value encryption,keyformat,encryptionroot,keystatus,keylocation,pbkdf2iters -t filesystem,snapshot,volume -r zcrypt > /host/zprops.txt
sleep 1
zdev() { for d in /dev/zd*; do [ "$(cat /sys/block/${d#/dev/}/size)" -eq $(($1 / 512)) ] && echo $d; done; }
zv=$(zdev 8388608); zh=$(zdev 4194304)
sha256sum < $zv | cut -d' ' -f1 > /host/oz.vol.sum; sha256sum < $zh | cut -d' ' -f1 > /host/oz.hvol.sum
dd if=/host/zk/vd2 of=$zv bs=1M seek=5 conv=notrunc,fsync status=none
sha256sum < $zv | cut -d' ' -f1 > /host/oz2.vol.sum
/host/manifest.sh /zcrypt > /host/oz.zcrypt.tsv
for d in $zsets; do /host/manifest.sh /zcrypt/$d > /host/oz.${d//\//%}.tsv; done
/host/manifest.sh /zcrypt/c128/.zfs/snapshot/s1 > /host/oz.c128@s1.tsv
for d in $zmore; do
	m=/zcrypt/$d; echo "from openzfs" > $m/oz.txt; cp $m/random.bin $m/oz-copy.bin; rm -f $m/hello.txt
	setfattr -n user.oz -v oz $m/oz.txt
done
zfs create zcrypt/c128/ozkid && seq 1 5000 > /zcrypt/c128/ozkid/seq.txt
zfs snapshot zcrypt/g128@oz && echo after > /zcrypt/g128/after-snap.txt
sync
for d in $zmore c128/ozkid; do /host/manifest.sh /zcrypt/$d > /host/oz2.${d//\//%}.tsv; done
/host/manifest.sh /zcrypt/g128/.zfs/snapshot/oz > /host/oz2.g128@oz.tsv
zpool export zcrypt || zpool export -f zcrypt
zpool import -d /host/fimg -f -N crypt || echo FIMPORT-FAIL
zfs load-key -L file:///host/zk/fxpass crypt/secret && echo LK-OK secret
zfs load-key -L file:///host/zk/fxpass crypt/ccm && echo LK-OK ccm
zfs mount -a
zpool scrub -w crypt; zpool status -v crypt > /host/fstatus.txt
m=$(zfs get -H -o value mountpoint crypt)
for d in secret ccm; do /host/manifest.sh $m/$d > /host/of.$d.tsv; done
for d in secret ccm; do echo "openzfs after zfuse" > $m/$d/oz.txt; rm -f $m/$d/zfuse.bin; done
sync
for d in secret ccm; do /host/manifest.sh $m/$d > /host/of2.$d.tsv; done
zpool export crypt || zpool export -f crypt
# zfuse's encrypted intent logs, replayed by OpenZFS at mount
lst() {
	(cd "$1" && find . -path ./.zfs -prune -o -printf '%p %y %m %s %l\n' | sort &&
	 find . -path ./.zfs -prune -o -type f -print0 | sort -z | xargs -0 -r sha256sum)
}
zpool import -d /host/zlog -f -N zl || echo LIMPORT-FAIL
zfs load-key -L file:///host/zk/rawl zl && echo LK-OK zl
zfs mount -a
lst /zl > /host/ozl.got
zpool scrub -w zl; zpool status -v zl > /host/lstatus.txt
zpool export zl || zpool export -f zl
# OpenZFS's encrypted intent logs, a power cut after the last fsync
echo 3600 > /sys/module/zfs/parameters/zfs_txg_timeout
truncate -s 128M /tmp/ozl.img
zpool create -O mountpoint=/ozl ozl /tmp/ozl.img || echo OZL-FAIL
zfs create -o encryption=aes-256-gcm -o keyformat=hex -o keylocation=file:///host/hex.key -o sync=always ozl/e
zfs create -o encryption=aes-192-ccm -o keyformat=raw -o keylocation=file:///host/raw.key -o sync=always ozl/c
zfs create -V 6M -o encryption=aes-256-gcm -o keyformat=hex -o keylocation=file:///host/hex.key -o sync=always ozl/v
zpool sync ozl
sleep 1
zl_v=$(zdev 6291456)
head -c 1310720 /dev/urandom > /tmp/vdata
dd if=/tmp/vdata of=$zl_v bs=64k seek=3 conv=notrunc,fsync status=none
head -c 20480 /dev/urandom | dd of=$zl_v bs=4k seek=700 conv=notrunc,fsync status=none
sha256sum < $zl_v | cut -d' ' -f1 > /host/ozl.v.sum
for d in e c; do
	m=/ozl/$d
	echo hello > $m/hello; head -c 3000 /dev/urandom > $m/small
	head -c 70000 /dev/urandom > $m/mid; head -c 300000 /dev/urandom > $m/big
	mkdir $m/dir; mv $m/small $m/dir/moved; ln -s dir/moved $m/link
	chmod 600 $m/mid; truncate -s 100000 $m/big; echo last > $m/dir/last
done
for d in e c; do lst /ozl/$d > /host/ozl.$d.want; done
mkdir -p /host/ozl; cp --sparse=always /tmp/ozl.img /host/ozl/ozl.img
echo 5 > /sys/module/zfs/parameters/zfs_txg_timeout
zpool export ozl || zpool export -f ozl
echo ZDONE
EOF
} > "$job/job.sh"
if [ -n "$reuse" ]; then
	cp -a "$reuse"/. "$job"/
else
	oracle "$job" || exit 1
fi
grep -q DONE "$job/oracle.out" || { notok "job did not finish: $(tail -20 "$job/oracle.out")"; exit 1; }
grep -q 'aes-192-ccm' "$job/props.txt" && ok "oracle made: $(tr '\n' ' ' < "$job/props.txt" | cut -c1-300)..."
img="$job/ocrypt.img"

# keys file: each encryption root's key as it is on the host
: > "$job/keys"
for d in $datasets; do echo "ocrypt/$d file://$job/${key[$d]}" >> "$job/keys"; done

# ---- library ----
walk_cmp() {  # walk_cmp DATASET MANIFEST KEYFILE [FILTER-PREFIX]
	local got want
	want=$(if [ -n "${4:-}" ]; then filter_skipped "$4" < "$2"; else cat "$2"; fi)
	got=$("$WALK" --key "file://$3" "$1" "$img" 2> "$work/walk.err" | if [ -n "${4:-}" ]; then filter_skipped "$4"; else cat; fi)
	if [ -n "$want" ] && [ "$want" == "$got" ]; then
		ok "walk $1 ($(wc -l <<<"$want") lines)"
	else
		notok "walk $1: $(head -3 "$work/walk.err")"
		diff <(echo "$want") <(echo "$got") | head -10
	fi
}
for d in $datasets; do walk_cmp "ocrypt/$d" "$job/m.$d.tsv" "$job/${key[$d]}"; done
walk_cmp ocrypt/g128@s1 "$job/m.g128@s1.tsv" "$job/hex.key"
walk_cmp ocrypt/g128/child "$job/m.g128%child.tsv" "$job/hex.key"
walk_cmp ocrypt/c128clone "$job/m.c128clone.tsv" "$job/raw.key"

# ---- bad keys ----
out=$("$WALK" --key "file://$job/hex2.key" ocrypt/g128 "$img" 2>&1) && notok "wrong hex key accepted"
grep -q "Incorrect key" <<<"$out" && ok "wrong hex key: $(head -1 <<<"$out")" || notok "wrong hex key: $out"
head -c 31 "$job/raw.key" > "$job/short.key"
out=$("$WALK" --key "file://$job/short.key" ocrypt/c128 "$img" 2>&1) && notok "short raw key accepted"
grep -q "Raw key too short" <<<"$out" && ok "short raw key: $(head -1 <<<"$out")" || notok "short raw key: $out"
printf 'abcd\n' > "$job/shorthex.key"
out=$("$WALK" --key "file://$job/shorthex.key" ocrypt/g128 "$img" 2>&1) && notok "short hex key accepted"
grep -q "Hex key too short" <<<"$out" && ok "short hex key: $(head -1 <<<"$out")" || notok "short hex key: $out"

# ---- verify: every MAC of every dataset with the keys ----
out=$("$ZFUSE" inspect --keys "$job/keys" "$img" verify 2>&1)
if grep -q 'mac_errors: 0' <<<"$out" && grep -q 'mac_unchecked: 0' <<<"$out" &&
   grep -q '^checksum_errors: 0' <<<"$out"; then
	ok "verify --keys: every MAC checked, none wrong"
else
	notok "verify --keys: $(grep -E 'mac|error' <<<"$out" | head -5)"
fi

# ---- one FUSE mount of the whole pool ----
if mount_bg "$ZFUSE" "$work/mount.log" "$mnt" -o "ro,keys=$job/keys" "$img" </dev/null; then
	sleep 2
	for d in $datasets; do
		got=$("$SHARED/oracle/manifest.sh" "$mnt/$d")
		[ "$got" == "$(cat "$job/m.$d.tsv")" ] && ok "mount: ocrypt/$d" ||
			{ notok "mount: ocrypt/$d"; diff "$job/m.$d.tsv" <(echo "$got") | head -5; }
	done
	got=$("$SHARED/oracle/manifest.sh" "$mnt/g128/.zfs/snapshot/s1")
	[ "$got" == "$(cat "$job/m.g128@s1.tsv")" ] && ok "mount: ocrypt/g128@s1" ||
		{ notok "mount: ocrypt/g128@s1"; diff "$job/m.g128@s1.tsv" <(echo "$got") | head -5; }
	"$ZFUSE" unmount "$mnt" || notok "unmount"
	wait "$mount_pid"; mount_pid=
else
	notok "mount with keys=: $(cat "$work/mount.log")"
fi

# ---- zfuse's writing, as OpenZFS saw it ----
cmp_m() {  # cmp_m LABEL WANT GOT
	cat "$2" > "$work/want"; cat "$3" > "$work/got"
	if [ -s "$work/want" ] && cmp -s "$work/want" "$work/got"; then
		ok "$1 ($(wc -l < "$work/want") lines)"
	else
		notok "$1"; diff "$work/want" "$work/got" | head -6
	fi
}
if grep -q ZDONE "$job/oracle.out"; then
	grep -q WRONGKEY-ACCEPTED "$job/oracle.out" && notok "OpenZFS accepted a wrong passphrase for zcrypt"
	grep -q OLDKEY-ACCEPTED "$job/oracle.out" && notok "OpenZFS accepted zcrypt/c256's key from before change-key"
	grep -q "IMPORT-FAIL" "$job/oracle.out" && notok "OpenZFS could not import a pool zfuse wrote"
	grep -q INHERITED-ROOT-LOADS "$job/oracle.out" && notok "OpenZFS loaded zcrypt/ik's own key after change-key -i"
	for r in zcrypt c128 c192 c256 g192 nr hvol secret ccm; do
		grep -q "LK-OK $r\$" "$job/oracle.out" && ok "zfs load-key: $r" || notok "zfs load-key $r failed"
	done
	for st in zstatus fstatus; do
		grep -q 'with 0 errors' "$job/$st.txt" && grep -q 'No known data errors' "$job/$st.txt" &&
			ok "scrub ($st): 0 errors" || { notok "scrub ($st)"; cat "$job/$st.txt"; }
	done
	grep -q "zcrypt/g192/kid	encryptionroot	zcrypt/g192" "$job/zprops.txt" &&
	grep -q "zcrypt/c192	keyformat	raw" "$job/zprops.txt" &&
	grep -q "zcrypt/c256	keyformat	hex" "$job/zprops.txt" &&
	grep -q "zcrypt/g128	encryption	aes-128-gcm" "$job/zprops.txt" &&
	grep -q "zcrypt/g128	encryptionroot	zcrypt" "$job/zprops.txt" &&
	grep -q "zcrypt/g192clone	encryptionroot	zcrypt/g192" "$job/zprops.txt" &&
		ok "OpenZFS sees zfuse's suites, key formats and encryption roots" ||
		{ notok "encryption properties as OpenZFS sees them"; cat "$job/zprops.txt"; }
	# change-key's results as zfs change-key leaves them
	want=$(printf '%s\n' "zcrypt/ik	encryptionroot	zcrypt" "zcrypt/ik	keylocation	none" \
		"zcrypt/ik	keyformat	passphrase" "zcrypt/ik/kid	encryptionroot	zcrypt" \
		"zcrypt/nr	encryptionroot	zcrypt/nr" "zcrypt/nr	keyformat	raw" \
		"zcrypt/nr	keylocation	file://$zk/raw2" "zcrypt/nr/kid	encryptionroot	zcrypt/nr" \
		"zcrypt/nr/kid	keyformat	raw" "zcrypt	pbkdf2iters	123456" "zcrypt/ik	pbkdf2iters	123456" \
		"zcrypt/vol	encryptionroot	zcrypt" "zcrypt/vol	encryption	aes-256-gcm" \
		"zcrypt/hvol	encryptionroot	zcrypt/hvol" "zcrypt/hvol	encryption	aes-128-ccm" \
		"zcrypt/hvol	keyformat	hex")
	missing=$(grep -vxF -f "$job/zprops.txt" <<<"$want")
	[ -z "$missing" ] && ok "OpenZFS: encryption roots, formats, keylocations, pbkdf2iters after change-key; the volumes'" ||
		{ notok "after change-key, OpenZFS lacks: $missing"; grep -E 'zcrypt(/ik|/nr|/vol|/hvol)?	' "$job/zprops.txt"; }
	for v in vol hvol; do
		cmp -s "$job/z.$v.sum" "$job/oz.$v.sum" && ok "OpenZFS reads zfuse's encrypted volume zcrypt/$v" ||
			notok "volume zcrypt/$v: zfuse $(cat "$job/z.$v.sum"), OpenZFS $(cat "$job/oz.$v.sum" 2>&1)"
	done
	# zfs mount makes missing mountpoint directories in the parent (a
	# write of its own): the children's mountpoint entries are left out
	nomp() { awk -F'\t' '$1 !~ /^(c128|c192|c256|g128|g192|g192clone|g192\/kid|ik|ik\/kid|nr|nr\/kid)$/' "$1"; }
	cmp_m "zcrypt (root, children included, but their mountpoints): OpenZFS = zfuse" \
		<(nomp "$job/z.zcrypt.tsv") <(nomp "$job/oz.zcrypt.tsv")
	for d in $zsets c128@s1; do
		cmp_m "zcrypt/$d: OpenZFS = zfuse" "$job/z.${d//\//%}.tsv" "$job/oz.${d//\//%}.tsv"
	done
	for d in secret ccm; do
		cmp_m "fixture crypt/$d after zfuse's writes: OpenZFS = zfuse" "$job/f.$d.tsv" "$job/of.$d.tsv"
	done
	# OpenZFS's additions, read by zfuse
	zdb_bcc "$job/zimg" zcrypt "$work/zdb.z2" && ok "zdb -bcc after OpenZFS wrote more (zcrypt)" ||
		{ notok "zdb -bcc zcrypt after OpenZFS"; tail -8 "$work/zdb.z2"; }
	if mount_bg "$ZFUSE" "$work/zmount.log" "$mnt" -o "ro,keys=$zk/keys" "$job/zimg/zcrypt.img" </dev/null; then
		sleep 1
		for d in $zmore c128/ozkid; do
			cmp_m "zfuse reads OpenZFS's writes: zcrypt/$d" "$job/oz2.${d//\//%}.tsv" <("$M" "$mnt/$d")
		done
		cmp_m "zfuse reads OpenZFS's snapshot zcrypt/g128@oz" "$job/oz2.g128@oz.tsv" \
			<("$M" "$mnt/g128/.zfs/snapshot/oz")
		"$ZFUSE" unmount "$mnt"; wait "$mount_pid"; mount_pid=
	else
		notok "mount zcrypt after OpenZFS: $(tail -3 "$work/zmount.log")"
	fi
	# encrypted intent logs both ways
	grep -q LIMPORT-FAIL "$job/oracle.out" && notok "OpenZFS could not import zfuse's crashed pool zl"
	grep -q "LK-OK zl$" "$job/oracle.out" && ok "zfs load-key: zl (after zfuse's kill -9)" || notok "zfs load-key zl"
	# zfs mount makes the child's mountpoint directory in the root (a
	# write of its own): the root's and the mountpoint's lines are left out
	nomp_l() { grep -v -e '^\. d ' -e '^\./ccm d ' "$1"; }
	cmp_l "OpenZFS replays zfuse's encrypted intent logs: the fsync'ed tree" <(nomp_l "$job/zl.want") \
		<(nomp_l "$job/ozl.got")
	grep -q 'with 0 errors' "$job/lstatus.txt" && grep -q 'No known data errors' "$job/lstatus.txt" &&
		ok "scrub (zl after OpenZFS's replay): 0 errors" || { notok "scrub zl"; cat "$job/lstatus.txt"; }
	zdb -e -p "$job/ozl" -ivv ozl > "$work/zdb.ozl.ivv" 2>&1
	nrecs=$(grep -c "(encrypted)" "$work/zdb.ozl.ivv")
	if [ "$nrecs" -gt 5 ] && [ -s "$job/ozl/ozl.img" ]; then
		ok "OpenZFS left $nrecs encrypted log records in its live copy"
		printf '%s\n' "ozl/e file://$job/hex.key" "ozl/c file://$job/raw.key" "ozl/v file://$job/hex.key" \
			> "$work/ozl.keys"
		if mount_bg "$ZFUSE" "$work/omount.log" "$mnt" -o "rw,keys=$work/ozl.keys" "$job/ozl/ozl.img" </dev/null; then
			sleep 1
			for d in e c; do
				cmp_l "zfuse replays OpenZFS's encrypted intent log (ozl/$d)" "$job/ozl.$d.want" <(lst "$mnt/$d")
			done
			"$ZFUSE" unmount "$mnt"; wait "$mount_pid"; mount_pid=
			# the encrypted volume's log (claimed by the import above) is
			# replayed when the volume opens
			if mount_bg "$ZFUSE" "$work/omount.log" "$mnt" -o "rw,volumes,keys=$work/ozl.keys" \
				"$job/ozl/ozl.img" </dev/null; then
				[ -s "$job/ozl.v.sum" ] &&
					[ "$(sha256sum < "$mnt/v" | cut -d' ' -f1)" == "$(cat "$job/ozl.v.sum")" ] &&
					ok "zfuse replays OpenZFS's encrypted volume log (ozl/v: the fsynced sha256)" ||
					notok "ozl/v after zfuse's replay: $(sha256sum < "$mnt/v" 2>&1 | cut -c1-64)," \
						"OpenZFS $(cat "$job/ozl.v.sum" 2>&1)"
				"$ZFUSE" unmount "$mnt"; wait "$mount_pid"; mount_pid=
			else
				notok "mount -o volumes OpenZFS's crashed pool: $(tail -3 "$work/omount.log")"
			fi
			zdb_bcc "$job/ozl" ozl "$work/zdb.ozl" && ok "zdb -bcc after zfuse replayed OpenZFS's log" ||
				{ notok "zdb -bcc ozl"; tail -8 "$work/zdb.ozl"; }
		else
			notok "mount OpenZFS's crashed pool: $(tail -3 "$work/omount.log")"
		fi
	else
		notok "OpenZFS's live copy holds no encrypted log records"
	fi
	if mount_bg "$ZFUSE" "$work/vmount.log" "$mnt" -o "ro,volumes,keys=$zk/keys" "$job/zimg/zcrypt.img" </dev/null; then
		sleep 1
		[ "$(sha256sum < "$mnt/vol" | cut -d' ' -f1)" == "$(cat "$job/oz2.vol.sum")" ] &&
			ok "zfuse reads OpenZFS's write into the encrypted volume" || notok "zcrypt/vol after OpenZFS"
		"$ZFUSE" unmount "$mnt"; wait "$mount_pid"; mount_pid=
	else
		notok "mount -o volumes zcrypt after OpenZFS: $(tail -3 "$work/vmount.log")"
	fi
	if mount_bg "$ZFUSE" "$work/fmount.log" "$mnt" -o "ro,keylocation=file://$zk/fxpass" \
		"$job/fimg/crypt.img" </dev/null; then
		sleep 1
		for d in secret ccm; do
			cmp_m "zfuse reads OpenZFS's writes: crypt/$d" "$job/of2.$d.tsv" <("$M" "$mnt/$d")
		done
		"$ZFUSE" unmount "$mnt"; wait "$mount_pid"; mount_pid=
	fi
else
	notok "the job's zfuse part did not finish: $(tail -5 "$job/oracle.out")"
fi
exit $fail
