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
	seq 1 200000 > $m/numbers.txt
	head -c 3000000 /dev/urandom > $m/random.bin
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
exit $fail
