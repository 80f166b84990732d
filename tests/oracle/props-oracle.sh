#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# props-oracle.sh ZFUSE — `zfuse set/inherit/list/get` judged by OpenZFS.
#
# On copies of the snapshots and layout fixtures and on a pool made by
# `zfuse create`, zfuse sets and inherits properties (native ones that
# need per-dataset features — zstd, blake3, large blocks — on parents with
# children, quota, mountpoint, user properties, one on a snapshot), writes
# files through a FUSE mount of the new pool afterwards (so they follow the
# new compression/copies/recordsize), then:
#   1. zdb -bcc finds no leak and no error, and no feature refcount
#      mismatch;
#   2. the oracle (OpenZFS 2.3.2) imports each pool read-only and its
#      `zfs list -H -p -t all -o name,type,used,available,referenced,
#      usedbysnapshots,usedbychildren,written,origin,compressratio` and
#      `zfs get -H -p all` equal zfuse's byte for byte, as does the human
#      `zfs list` and `zfs get -s local all` with its header, and their
#      JSON forms (-j, --json-int).
set -uo pipefail
ZFUSE=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
require qemu zdb fuse
export LC_ALL=C TZ=UTC
work=$(mktemp -d "${TMPDIR:-/tmp}/zfuse-propsoracle.XXXXXX")
job="$work/job"; mnt="$work/mnt"; mkdir -p "$job" "$mnt"
cleanup() {
	mountpoint -q "$mnt" && "$ZFUSE" unmount "$mnt"
	rm -rf "$work"
}
trap cleanup EXIT
fail=0
run() {  # run COMMAND...: must succeed
	"$@" > "$work/run.out" 2>&1 || notok "$* -> $(tail -3 "$work/run.out")"
}

for fx in snapshots layout; do
	cp --sparse=always "$(unpack "$fx")"/*.img "$job/" || die "cannot copy $fx"
done
chmod u+w "$job"/*.img
pools="props snapshots layout"
"$ZFUSE" create -s 256M props "$job/props.img" > /dev/null || die "zfuse create failed"

# Properties, set on the images (no daemon: the verbs import them).
s() { run "$ZFUSE" set -d "$job/$1.img" "${@:2}"; }
s props compression=zstd-5 copies=2 atime=off recordsize=64K checksum=blake3 \
	com.example:owner=zfuse quota=200M mountpoint=/srv/props props
s props xattr=dir props
run "$ZFUSE" inherit -d "$job/props.img" xattr props
s snapshots compression=gzip-3 com.example:x=1 snapshots/fs
s snapshots recordsize=8K compression=zstd-fast-10 snapshots/a
s snapshots com.example:snap=yes snapshots/fs@s1
run "$ZFUSE" inherit -d "$job/snapshots.img" compression snapshots/a
s layout compression=zstd-19 checksum=sha512 recordsize=1M layout
s layout quota=none mountpoint=/srv/layout layout/rs-8K
run "$ZFUSE" inherit -d "$job/layout.img" compression layout/rs-512
# Refusals leave the pool alone.
for bad in recordsize=3K used=1 nosuchprop=1 casesensitivity=mixed dedup=on checksum=nope; do
	if "$ZFUSE" set -d "$job/props.img" "$bad" props > /dev/null 2>&1; then
		notok "set $bad was accepted"
	fi
done

# Files written after the change follow it.
"$ZFUSE" mount -f -o rw "$job/props.img" "$mnt" 2> "$work/mount.err" &
pid=$!
mounted_ready "$pid" "$mnt"
if mountpoint -q "$mnt"; then
	seq 1 300000 > "$mnt/numbers.txt"
	head -c 3000000 /dev/urandom > "$mnt/random.bin"
	mkdir "$mnt/d" && setfattr -n user.a -v b "$mnt/d" 2>/dev/null
	"$ZFUSE" unmount "$mnt"
	wait "$pid"
else
	notok "mount: $(cat "$work/mount.err")"
fi
# zdb: no leak, no error, feature refcounts right.
for p in $pools; do
	if zdb_bcc "$job" "$p" "$work/zdb.$p"; then
		ok "zdb -bcc $p: no leaks, no errors"
	else
		notok "zdb -bcc $p: $(grep -iE 'leak|error' "$work/zdb.$p" | head -5)"
	fi
	if zdb -e -p "$job" "$p" 2>&1 | grep -i "refcount mismatch" > "$work/feat.$p"; then
		notok "zdb $p feature refcounts: $(cat "$work/feat.$p")"
	else
		ok "zdb $p: feature refcounts match their datasets"
	fi
done

# zfuse's answers, then OpenZFS's on the same images.
cols=name,type,used,available,referenced,usedbysnapshots,usedbychildren,written,origin,compressratio
for p in $pools; do
	img=(-d "$job/$p.img")
	"$ZFUSE" list -H -p -t all -r -o "$cols" "${img[@]}" "$p" > "$work/zf.listp.$p"
	"$ZFUSE" list -r -t all "${img[@]}" "$p" > "$work/zf.list.$p"
	"$ZFUSE" get -H -p -r -t all all "${img[@]}" "$p" > "$work/zf.getp.$p"
	"$ZFUSE" get -r -t all -s local all "${img[@]}" "$p" > "$work/zf.getl.$p"
done
# More verb forms, run by both sides on the same images (pool by name).
cat > "$job/cmds.txt" <<'CMDS'
list -S used -o name,used,refer -r snapshots
list -s refer -s name -o name,refer -r -t all snapshots
list -s compression -o name,compression,checksum -r layout
list -o space -r snapshots
list -o all -r -t all props
list -d 1 -t all snapshots
list -t snapshot snapshots/fs
list snapshots/fs@s1 snapshots/fs#b3
list -p -o name,creation,guid,written,clones,com.example:x -t all -r snapshots
get -d 1 -o name,value compression snapshots
get recordsize,origin,clones,mountpoint,com.example:snap snapshots/fs@s2 snapshots/fs@s1 snapshots/clone
get -s local,default -o property,value,source all layout/vol
get -H guid,createtxg,creation,referenced snapshots/fs#b3
get -p used,available,volsize,volblocksize layout/vol
get -s inherited -r all layout
list -o name,volsize,volblocksize,refreservation,usedbyrefreservation -t volume -r layout
list -j -r -t all snapshots
list -j --json-int -o name,used,compression,origin,createtxg -r -t all snapshots
get -j -s local,inherited compression,recordsize,com.example:x -r snapshots
get -j all snapshots/fs@s1
get -j --json-int -p used,available,volsize layout/vol
CMDS
i=0
while read -r line; do
	i=$((i + 1))
	# shellcheck disable=SC2086
	"$ZFUSE" $line -d "$job" > "$work/zf.cmd.$i" 2>&1
done < "$job/cmds.txt"
ncmds=$i
cat > "$job/job.sh" <<EOF
#!/bin/bash
export TZ=UTC
for p in $pools; do
	zpool import -d /host -o readonly=on -N -f \$p || { echo "import \$p failed"; exit 1; }
	zfs list -H -p -t all -r -o $cols \$p > /host/oz.listp.\$p
	zfs list -r -t all \$p > /host/oz.list.\$p
	zfs get -H -p -r -t all all \$p > /host/oz.getp.\$p
	zfs get -r -t all -s local all \$p > /host/oz.getl.\$p
done
i=0
while read -r line; do i=\$((i + 1)); zfs \$line > /host/oz.cmd.\$i 2>&1; done < /host/cmds.txt
for p in $pools; do zpool export -f \$p; done
EOF
chmod +x "$job/job.sh"
if OZVM_TIMEOUT=900 "$ORACLE_RUN" "$job" > "$work/oracle.out" 2>&1; then
	for p in $pools; do
		for k in listp list getp getl; do
			if cmp -s "$job/oz.$k.$p" "$work/zf.$k.$p"; then
				ok "$p: zfuse $k equals OpenZFS's ($(wc -l < "$work/zf.$k.$p") lines)"
			else
				notok "$p: zfuse $k differs from OpenZFS's (< OpenZFS, > zfuse):"
				diff "$job/oz.$k.$p" "$work/zf.$k.$p" | head -20
			fi
		done
	done
	for ((i = 1; i <= ncmds; i++)); do
		line=$(sed -n "${i}p" "$job/cmds.txt")
		if cmp -s "$job/oz.cmd.$i" "$work/zf.cmd.$i"; then
			ok "zfuse $line: equals zfs's"
		else
			notok "zfuse $line: differs from zfs's (< OpenZFS, > zfuse):"
			diff "$job/oz.cmd.$i" "$work/zf.cmd.$i" | head -10
		fi
	done
else
	notok "oracle job: $(tail -20 "$work/oracle.out")"
fi
exit $fail
