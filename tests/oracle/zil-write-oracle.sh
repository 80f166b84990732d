#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# zil-write-oracle.sh ZFUSE — OpenZFS replays zfuse's own intent log.
# zil-write.sh makes crashed images (fsyncs of every operation type, then
# SIGKILL of the daemon after a random fsync) and keeps the first two
# with their journals (round 2's three writers side by side, one journal
# each; xattrs in the SA in round 1, in xattr directories in round 2). In one VM job OpenZFS 2.3.2 imports each (claiming
# and replaying zfuse's log), lists the tree, scrubs it and exports it.
# Each tree must hold every fsynced change (zil_writer.py check against the
# journal), each scrub must be clean, and zdb -bcc must be clean on every
# image after OpenZFS's replay. Two more rounds on an encrypted pool
# (aes-256-gcm, sealed log blocks, SA and directory xattrs) are replayed by
# OpenZFS after zfs load-key, checked the same way. zil-indirect.sh runs first (its own
# checks of indirect writes: blocks adopted by their sync, changed ones
# freed, zfuse's replay, logbias=throughput), and the same job imports its
# crashed image (indirect write records naming blocks written at commit):
# the fsynced file's sha256, scrub and zdb -bcc.
set -uo pipefail
ZFUSE=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
require qemu zdb root fuse
work=$(mktemp -d "${TMPDIR:-/tmp}/zfuse-zilw-oracle.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
fail=0
N=2
mkdir -p "$work/o"
ZILW_SAVE=$work/o ZILW_SAVE_N=$N ZFUSE_ZILW_ROUNDS=$N "$here/../integration/zil-write.sh" "$ZFUSE" > "$work/zil-write.out" 2>&1 ||
	{ notok "zil-write.sh could not make the crashed images"; cat "$work/zil-write.out"; exit 1; }
grep "^ok: round\|^seed" "$work/zil-write.out"
# and two from an encrypted pool (aes-256-gcm, a raw key): sealed log
# blocks, SA xattr records in round 1, xattr directories and three writers
# in round 2; OpenZFS replays them once the key is loaded
NC=2
mkdir -p "$work/o/c"
ZFUSE_ZILW_CRYPT=aes-256-gcm ZILW_SAVE=$work/o/c ZILW_SAVE_N=$NC ZFUSE_ZILW_ROUNDS=$NC \
	"$here/../integration/zil-write.sh" "$ZFUSE" > "$work/zil-write-crypt.out" 2>&1 ||
	{ notok "zil-write.sh could not make the encrypted crashed images"; cat "$work/zil-write-crypt.out"; exit 1; }
grep "^ok: round" "$work/zil-write-crypt.out" | sed 's/^ok: /ok: encrypted /'
# and a log of indirect writes (the blocks written at commit, named by 192-byte records)
mkdir -p "$work/o/ind"
ZILIND_SAVE=$work/o/ind "$here/../integration/zil-indirect.sh" "$ZFUSE" > "$work/zil-indirect.out" 2>&1 &&
	[ -s "$work/o/ind/zi.img" ] ||
	{ notok "zil-indirect.sh could not make its crashed image"; cat "$work/zil-indirect.out"; exit 1; }
grep "^ok" "$work/zil-indirect.out"
nind=$("$ZFUSE" inspect "$work/o/ind/zi.img" zil zi | grep -c "form: indirect")
ok "image ind: zfuse's log holds $nind indirect write records"
cp "$SHARED/oracle/manifest.sh" "$work/o/"
for r in $(seq 1 $N); do
	[ -s "$work/o/r$r/zw.img" ] || { notok "round $r left no image"; exit 1; }
	recs=$("$ZFUSE" inspect --json "$work/o/r$r/zw.img" zil zw | python3 -c "import json,sys; print(len(json.load(sys.stdin)['records']))")
	zrecs=$(zdb -e -p "$work/o/r$r" -ivv zw 2>&1 | grep -c "TX_.*len .*seq")
	types=$("$ZFUSE" inspect "$work/o/r$r/zw.img" zil zw | awk '/^ +type: TX_/ { print $2 }' | sort | uniq -c |
		awk '{ printf "%s%s %s", sep, $1, $2; sep = ", " }')
	[ "${recs:-0}" -gt 0 ] && [ "$zrecs" == "$recs" ] &&
		ok "image r$r: zdb decodes the $zrecs records of zfuse's log ($types)" ||
		notok "image r$r: zfuse's log holds ${recs:-?} records, zdb decodes $zrecs"
done
cat > "$work/o/job.sh" <<X
for r in \$(seq 1 $N); do
	echo "== r\$r"
	zdb -e -p /host/r\$r -ivv zw 2>/dev/null | grep -c "TX_.*len .*seq" | sed 's/^/records zdb decodes: /'
	zpool import -d /host/r\$r -f zw || { echo "import r\$r failed"; continue; }
	# an empty tree is a tree: the manifest is written only from a mount
	[ "\$(zfs get -H -o value mounted zw)" = yes ] && /host/manifest.sh /zw > /host/r\$r/oz.tsv
	zpool scrub -w zw
	zpool status -v zw > /host/r\$r/status.txt
	zpool export -f zw
done
for r in \$(seq 1 $NC); do
	echo "== c\$r"
	zpool import -d /host/c/r\$r -f -N zw || { echo "import c\$r failed"; continue; }
	zfs load-key -L file:///host/c/r\$r/zw.key zw && zfs mount zw &&
		/host/manifest.sh /zw > /host/c/r\$r/oz.tsv
	zpool scrub -w zw
	zpool status -v zw > /host/c/r\$r/status.txt
	zpool export -f zw
done
echo "== ind"
zpool import -d /host/ind -f zi && {
	sha256sum /zi/\$(cut -d" " -f1 /host/ind/want) > /host/ind/sha
	zpool scrub -w zi
	zpool status -v zi > /host/ind/status.txt
	zpool export -f zi
}
X
oracle "$work/o" || exit 1
grep -v "^$" "$work/o/oracle.out" | grep "==\|records\|fail" | head -20
# after_replay DIR LABEL POOL: OpenZFS's scrub of the image in DIR, then
# zdb -bcc of it (moved to a directory of its own)
after_replay() {
	local d=$1 l=$2 pool=$3
	grep -q "with 0 errors" "$d/status.txt" 2>/dev/null && grep -q "No known data errors" "$d/status.txt" &&
		ok "$l: scrub after OpenZFS's replay: 0 errors" || { notok "$l: scrub"; cat "$d/status.txt" 2>/dev/null; }
	mkdir -p "$work/z$l" && mv "$d/$pool.img" "$work/z$l/"
	zdb_bcc "$work/z$l" "$pool" "$work/zdb$l.out" && ok "$l: zdb -bcc clean after OpenZFS's replay" ||
		{ notok "$l: zdb -bcc after OpenZFS's replay"; grep -v "^loading" "$work/zdb$l.out" | tail -15; }
}
# journal_images LABEL WHAT DIR...: each writer's journal against OpenZFS's tree
journal_images() {
	local l=$1 what=$2 d r=0
	shift 2
	for d in "$@"; do
		r=$((r + 1))
		for j in "$d"/journal.w*; do
			w=${j##*.}
			if [ -f "$d/oz.tsv" ] && out=$(python3 "$here/../integration/zil_writer.py" check "$d/oz.tsv" "$j" "$w"); then
				ok "$l$r, $w: OpenZFS's replay of zfuse's $what: $out"
			else
				notok "$l$r, $w: OpenZFS's replay of zfuse's $what: ${out:-no tree}"
			fi
		done
		after_replay "$d" "$l$r" zw
	done
}
journal_images r log $(for r in $(seq 1 $N); do echo "$work/o/r$r"; done)
journal_images c "encrypted log" $(for r in $(seq 1 $NC); do echo "$work/o/c/r$r"; done)
d=$work/o/ind
[ "$(cut -d" " -f1 "$d/sha" 2>/dev/null)" == "$(cut -d" " -f2 "$d/want")" ] &&
	ok "ind: OpenZFS's replay of zfuse's indirect records gives the fsynced file" ||
	notok "ind: OpenZFS's replay of zfuse's indirect records: $(cat "$d/sha" 2>/dev/null || echo no import)"
after_replay "$d" ind zi
exit $fail
