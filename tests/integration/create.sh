#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# create.sh ZFUSE WALK — `zfuse create` makes pools that OpenZFS accepts.
# For each layout (one file, stripe, mirror, RAID-Z1/2/3, stripe of
# mirrors, ashift 12, root filesystem properties): zdb -bcc finds no leak
# and no checksum error, zdb -dddd lists the objects zpool create makes,
# zfuse imports the pool (verify clean) and sees an empty root, and the
# FUSE mount shows an empty directory. Wrong uses are refused. Then the
# OpenZFS oracle imports every pool, scrubs it, writes a file and exports
# it, and zfuse reads that file back (skipped when qemu is missing or
# ZFUSE_SKIP_ORACLE=1).
set -uo pipefail
ZFUSE=$1 WALK=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
command -v zdb >/dev/null || die "zdb is not installed"
work=$(mktemp -d "${TMPDIR:-/tmp}/zfuse-create.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail=0
ok() { echo "ok: $*"; }
bad() { echo "not ok: $*"; fail=1; }

# mk NAME "VDEV words with @N for file N" [zfuse create options...]
mk() {
	local name=$1 spec=$2; shift 2
	mkdir -p "$work/$name"
	local words=() w
	for w in $spec; do
		case $w in @*) words+=("$work/$name/d${w#@}.img") ;; *) words+=("$w") ;; esac
	done
	if "$ZFUSE" create -s 96M "$@" "$name" "${words[@]}" 2>"$work/$name.err"; then
		ok "create $name ($spec)"
	else
		bad "create $name ($spec): $(cat "$work/$name.err")"; return 1
	fi
}

# check NAME EXPECTED-ZDB-OBJECT-TYPES...: zdb and zfuse agree the pool is sound
check() {
	local name=$1; shift
	local dir="$work/$name" out
	out=$(zdb -e -p "$dir" -bcc "$name" 2>&1)
	if [ $? -eq 0 ] && grep -q "No leaks" <<<"$out" && ! grep -qiE "error|leaked space|!=" <<<"$out"; then
		ok "zdb -bcc $name: no leaks"
	else
		bad "zdb -bcc $name"; echo "$out" | tail -15
	fi
	out=$(zdb -e -p "$dir" -dddd "$name" 2>&1)
	local t missing=()
	for t in "object directory" "DSL directory" "DSL dataset" "DSL props" "DSL directory child map" \
		"DSL dataset snap map" "DSL deadlist map" "DSL dataset next clones" "DSL dir clones" \
		"bpobj" "packed nvlist" "SPA space map" "object array" \
		"ZFS master node" "SA master node" "ZFS delete queue" "ZFS directory" \
		"SA attr registration" "SA attr layouts" "$@"; do
		grep -qF "  $t" <<<"$out" || missing+=("$t")
	done
	if [ ${#missing[@]} -eq 0 ]; then ok "zdb -dddd $name lists every expected object type"
	else bad "zdb -dddd $name lacks: ${missing[*]}"; fi
	# The label's pool state: exported, so imports need no -f.
	if zdb -l "$(ls "$dir"/*.img | head -1)" 2>&1 | grep -q "state: 1"; then ok "labels of $name say exported"
	else bad "labels of $name: state is not exported"; fi
	if zdb -e -p "$dir" -h "$name" 2>&1 | grep -q "zfuse create .*$name"; then ok "history of $name records the creation"
	else bad "history of $name"; fi
	if "$ZFUSE" inspect "$dir" verify >"$work/$name.verify" 2>&1; then ok "zfuse verify $name"
	else bad "zfuse verify $name"; head "$work/$name.verify"; fi
	local walk
	walk=$("$WALK" "$name" "$dir"/*.img 2>&1)
	if [ $? -eq 0 ] && [ "$(wc -l <<<"$walk")" -eq 1 ]; then ok "walk $name: empty root"
	else bad "walk $name"; echo "$walk" | head -5; fi
}

mk single "@0" && check single
mk stripe "@0 @1" && check stripe
mk mir "mirror @0 @1" && check mir
mk rz1 "raidz @0 @1 @2" && check rz1
mk rz2 "raidz2 @0 @1 @2 @3" && check rz2
mk rz3 "raidz3 @0 @1 @2 @3 @4" && check rz3
mk mirrors "mirror @0 @1 mirror @2 @3" && check mirrors
mk ash12 "@0" -o ashift=12 && check ash12 "Pool properties"
mk props "@0" -O compression=zstd -O checksum=sha512 -O recordsize=1M -O atime=off \
	-O mountpoint=/mnt/props -O normalization=formD -O casesensitivity=insensitive -O xattr=sa &&
	check props
if zdb -e -p "$work/props" -dddd props 2>/dev/null | grep -A14 "ZFS master node" | grep -q "normalization = 16"; then
	ok "normalization in the master node"
else bad "normalization missing from the master node"; fi

# Features: exactly the zfuse set, nothing zfuse cannot keep.
feats=$(zdb -e -p "$work/single" -dddd single 2>/dev/null | grep -oE '^\s+[a-z]+\.[a-z]+:[a-z0-9_]+ = [0-9]+' |
	awk '{print $1}' | sort -u)
for f in com.delphix:log_spacemap org.zfsonlinux:userobj_accounting org.zfsonlinux:project_quota \
	com.delphix:async_destroy com.klarasystems:vdev_zaps_v2 com.fudosecurity:block_cloning; do
	if grep -qx "$f" <<<"$feats"; then bad "feature $f is enabled"; fi
done
for f in org.illumos:lz4_compress com.delphix:hole_birth com.delphix:embedded_data com.delphix:spacemap_v2; do
	grep -qx "$f" <<<"$feats" || bad "feature $f is not enabled"
done
ok "feature set checked"

# Refusals.
expect_fail() {  # expect_fail WHAT COMMAND...
	local what=$1; shift
	if "$@" >/dev/null 2>&1; then bad "$what was accepted"; else ok "$what refused"; fi
}
expect_fail "reusing a pool's device without -f" "$ZFUSE" create again "$work/single/d0.img"
expect_fail "raidz2 with two devices" "$ZFUSE" create -s 96M x raidz2 "$work/x0" "$work/x1"
expect_fail "a bad pool name" "$ZFUSE" create -s 96M 1bad "$work/x2"
expect_fail "a feature zfuse cannot keep" "$ZFUSE" create -s 96M -o feature@log_spacemap=enabled x "$work/x3"
expect_fail "a log vdev" "$ZFUSE" create -s 96M x "$work/x4" log "$work/x5"
expect_fail "a missing file without -s" "$ZFUSE" create x "$work/x6"
expect_fail "a too small device" "$ZFUSE" create -s 32M x "$work/x7"
expect_fail "a device named twice" "$ZFUSE" create -s 96M x mirror "$work/x8" "$work/x8"
ls "$work"/x* >/dev/null 2>&1 && bad "refused creations left files behind"
if "$ZFUSE" create -f -s 96M again "$work/single/d0.img" >/dev/null 2>&1 &&
	zdb -e -p "$work/single" -bcc again >/dev/null 2>&1; then ok "-f reuses a device"
else bad "-f did not reuse the device"; fi
rm -rf "$work/single"; mk single "@0"	# remake it for the oracle

# FUSE: the root filesystem mounts and is empty.
mnt="$work/mnt"; mkdir -p "$mnt"
"$ZFUSE" mount -f "$work"/mir/*.img "$mnt" 2>"$work/mount.err" &
pid=$!
mounted_ready "$pid" "$mnt"
if mountpoint -q "$mnt" && [ -z "$(ls -A "$mnt")" ] && [ "$(stat -c %a "$mnt")" == 755 ]; then
	ok "mount mir: empty root, mode 755"
else bad "mount mir: $(cat "$work/mount.err")"; fi
"$ZFUSE" unmount "$mnt" >/dev/null 2>&1 || fusermount3 -u "$mnt" 2>/dev/null
wait "$pid"

# zfuse writes the pools it creates: files through a read-write mount,
# then zdb still finds every block accounted for.
mk wrt "raidz @0 @1 @2" -O compression=lz4 && {
	"$ZFUSE" mount -f -o rw "$work/wrt" "$mnt" 2>"$work/mount-rw.err" &
	pid=$!
	mounted_ready "$pid" "$mnt"
	if mountpoint -q "$mnt" && mkdir "$mnt/dir" && seq 1 100000 > "$mnt/dir/nums" &&
		ln -s nums "$mnt/dir/link"; then ok "zfuse writes into wrt"
	else bad "zfuse cannot write into wrt: $(cat "$work/mount-rw.err")"; fi
	"$ZFUSE" unmount "$mnt" >/dev/null 2>&1 || fusermount3 -u "$mnt" 2>/dev/null
	wait "$pid"
	out=$(zdb -e -p "$work/wrt" -bcc wrt 2>&1)
	if grep -q "No leaks" <<<"$out" && ! grep -qiE "error|leaked space|!=" <<<"$out"; then
		ok "zdb -bcc wrt after zfuse wrote: no leaks"
	else bad "zdb -bcc wrt after zfuse wrote"; echo "$out" | tail -10; fi
	want=$(seq 1 100000 | sha256sum | cut -d' ' -f1)
	if "$WALK" wrt "$work/wrt"/*.img | grep -q "^dir/nums	.*$want"; then ok "zfuse reads back what it wrote"
	else bad "zfuse read back of wrt"; fi
}

# The oracle: real OpenZFS imports, scrubs and writes every pool.
pools="single stripe mir rz1 rz2 rz3 mirrors ash12 props wrt"
if [ "${ZFUSE_SKIP_ORACLE:-0}" == 1 ] || why=$(oracle_missing); then
	skip_stage "oracle (${why:-ZFUSE_SKIP_ORACLE=1})" || fail=1
else
	job="$work/oracle"; mkdir -p "$job"
	for p in $pools; do mkdir -p "$job/$p"; cp --sparse=always "$work/$p"/*.img "$job/$p/"; done
	cat > "$job/job.sh" <<EOF
#!/bin/bash
rc=0
for p in $pools; do
	zpool import -d /host/\$p \$p || { echo "IMPORT-FAILED \$p"; rc=1; continue; }
	zpool scrub -w \$p
	zpool history \$p | grep -q "zfuse create" && echo "\$p: history ok"
	zpool status -v \$p | grep -E "errors:|scan:" | sed "s/^/\$p: /"
	zfs set mountpoint=/mnt/\$p \$p 2>/dev/null
	zfs mount \$p 2>/dev/null
	echo hello-\$p > /mnt/\$p/hello.txt
	zpool export \$p || zpool export -f \$p
done
exit \$rc
EOF
	chmod +x "$job/job.sh"
	if "$ORACLE_RUN" "$job" >"$job/run.out" 2>&1; then ok "oracle imported every pool"
	else bad "oracle job failed"; tail -20 "$job/run.out"; fi
	for p in $pools; do
		if grep -q "^$p: errors: No known data errors" "$job/job.log"; then ok "oracle scrub $p clean"
		else bad "oracle scrub $p"; grep "^$p:" "$job/job.log"; fi
		if grep -q "^$p: history ok" "$job/job.log"; then ok "zpool history $p shows the creation"
		else bad "zpool history $p"; fi
		if "$WALK" "$p" "$job/$p"/*.img 2>/dev/null | grep -q "hello.txt"; then
			ok "zfuse reads the file OpenZFS wrote into $p"
		else bad "zfuse cannot see OpenZFS's file in $p"; fi
	done
fi
exit $fail
