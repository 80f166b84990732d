#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# userquota.sh ZFUSE — issue 9: the space limits that are not quota and
# refquota. On a zfuse-made pool:
#   - userquota@/groupquota@: files of uid 1000 and of group 1001, written
#     through a FUSE mount by their owners 1 MiB at a time (synced between
#     writes), stop with EDQUOT where OpenZFS stops the same sequence (one
#     record of tolerance); an owner over quota cannot create a file; an
#     other user is not limited;
#   - reservation: a child's reservation is charged to its parent whole
#     until used (CHILD_RSRV), and gives the child more available space;
#   - filesystem_limit/snapshot_limit: setting them activates
#     filesystem_limits and initialises the counts; later creations and
#     snapshots keep them as OpenZFS does (root may pass a limit, as in
#     zfs; another user may not);
#   - bad values fail with zfs's words and leave the image unchanged.
# OpenZFS then imports zfuse's pool: scrub clean, its `zfs get`/`zfs list`
# figures are zfuse's, it enforces zfuse's quota ZAPs, and its own
# accounting of a reservation change agrees with what zfuse stored.
set -uo pipefail
ZFUSE=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
require qemu zdb root fuse
work=$(mktemp -d "${TMPDIR:-/tmp}/zfuse-uquota.XXXXXX")
mnt="$work/mnt"; mkdir -p "$mnt" "$work/z" "$work/o/z"
trap 'mountpoint -q "$mnt" && "$ZFUSE" unmount "$mnt"; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
fail=0
img="$work/z/up.img"
Z() { "$ZFUSE" "$1" -d "$img" "${@:2}"; }

# as UID GID CMD...: run as that user (a static helper: the oracle's
# busybox setpriv cannot change ids)
as() { "$RUNAS" "$@"; }
RUNAS="$work/o/runas"
cat > "$work/runas.c" <<'C'
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	if (setgroups(0, NULL) || setgid((gid_t)atoi(argv[2])) || setuid((uid_t)atoi(argv[1])))
		return perror("runas"), 126;
	execvp(argv[3], argv + 3);
	perror(argv[3]);
	return 127;
}
C
cc -static -O2 -o "$RUNAS" "$work/runas.c" || skip "cannot build a static helper (cc -static)"

# writes ROOT SYNC: what both sides run, ROOT being where pool up is
# mounted, SYNC what makes a txg sync after each write
writes() {
	local r=$1 sync=$2 d o i
	mkdir "$r/u/a" "$r/u/g" "$r/u/o"
	chown 1000:1000 "$r/u/a"; chown 2000:1001 "$r/u/g"; chown 1002:1002 "$r/u/o"
	for d in a g; do
		o=$(stat -c '%u %g' "$r/u/$d")
		as $o touch "$r/u/$d/f"
		for i in $(seq 0 15); do
			as $o dd if=/dev/urandom of="$r/u/$d/f" bs=1M count=1 seek="$i" \
				conv=notrunc,fsync 2>/dev/null || break
			$sync
		done
		echo "u/$d/f $(stat -c %s "$r/u/$d/f")"
	done
	if as 1000 1000 touch "$r/u/a/new" 2>/dev/null; then echo "create as 1000: allowed"
	else echo "create as 1000: refused"; fi
	as 1002 1002 dd if=/dev/urandom of="$r/u/o/f" bs=1M count=8 conv=fsync 2>/dev/null
	echo "u/o/f $(stat -c %s "$r/u/o/f")"
	dd if=/dev/urandom of="$r/r/c/f" bs=1M count=2 conv=fsync 2>/dev/null
	dd if=/dev/urandom of="$r/r/f" bs=1M count=1 conv=fsync 2>/dev/null
	$sync
}

# bad: the settings zfs refuses (the dataset last)
bad_sets=(
	"userquota@1000=-1 up/u" "userquota@nosuchuser_zq=1M up/u" "userquota@1000=1M up/u@s"
	"userused@1000=1M up/u" "userquota@12x=1M up/u" "userquota@1000=abc up/u"
	"projectquota@5=1M up/u" "reservation=-1 up/r" "reservation=10G up/r"
	"reservation=1M up/u@s" "snapshot_limit=-1 up/l" "filesystem_limit=1 up/u@s"
)
uprops=userquota@1000,userused@1000,groupquota@1001,groupused@1001,userquota@1002,userused@1002,userquota@1003,userobjquota@1000,userobjused@1000
lprops=filesystem_count,snapshot_count,filesystem_limit,snapshot_limit

# ---- zfuse -----------------------------------------------------------------
"$ZFUSE" create -s 256M up "$img" > /dev/null || notok "zfuse create"
for d in up/u up/r up/r/c up/l up/l/a; do Z create "$d" || notok "create $d"; done
Z snapshot up/u@s || notok "snapshot up/u@s"
cp --sparse=always "$img" "$work/before.img"
: > "$work/zfuse.bad"
for b in "${bad_sets[@]}"; do
	# shellcheck disable=SC2086
	if Z set $b 2> "$work/err"; then echo "accepted: $b" >> "$work/zfuse.bad"
	else head -1 "$work/err" >> "$work/zfuse.bad"; fi
done
if cmp -s "$img" "$work/before.img"; then ok "refused settings leave the image unchanged"
else notok "a refused setting changed the image"; fi
Z set userquota@1000=5M groupquota@1001=3M userquota@1003=1M userobjquota@1000=100 up/u &&
	Z set userquota@1003=none up/u && Z set reservation=20M up/r/c &&
	Z set filesystem_limit=1 snapshot_limit=1 up/l || notok "zfuse set limits"
Z get -H -p -o name,property,value,source $lprops -r up/l > "$work/zfuse.counts0"
# past the limits as root (allowed), then as an other user (refused)
Z create up/l/b && Z snapshot up/l@s1 && Z snapshot up/l@s2 up/l/a@s1 || notok "root past the limits"
cp --sparse=always "$img" "$work/nobody.img"; chown 65534 "$work/nobody.img"; chmod 755 "$work"
if as 65534 65534 "$ZFUSE" create -d "$work/nobody.img" up/l/c 2> "$work/err"; then
	notok "filesystem_limit did not stop an other user"
elif grep -q "cannot create 'up/l/c': out of space" "$work/err"; then
	ok "filesystem_limit stops an other user ($(head -1 "$work/err"))"
else notok "filesystem_limit refusal: $(cat "$work/err")"; fi
if as 65534 65534 "$ZFUSE" snapshot -d "$work/nobody.img" up/l@s3 2> "$work/err"; then
	notok "snapshot_limit did not stop an other user"
elif grep -q "cannot create snapshot 'up/l@s3': out of space" "$work/err"; then
	ok "snapshot_limit stops an other user ($(head -1 "$work/err"))"
else notok "snapshot_limit refusal: $(cat "$work/err")"; fi
Z destroy up/l@s2 || notok "destroy up/l@s2"

"$ZFUSE" mount "$img" "$mnt" || { notok "mount"; exit 1; }
writes "$mnt" : > "$work/zfuse.out"
"$ZFUSE" unmount "$mnt"
# a reserved dataset moves to another parent, another is made and destroyed
Z rename up/r/c up/l/c && Z create -o reservation=5M up/r/d && Z destroy up/r/d ||
	notok "rename / destroy of reserved datasets"
zdb_bcc "$work/z" up "$work/zdb.out" && ok "zdb -bcc clean" || notok "zdb -bcc: $(tail -5 "$work/zdb.out")"
Z get -H -p -o name,property,value,source $uprops up/u > "$work/zfuse.get"
userspaces() {  # userspaces VERB...: zfs userspace's forms, run by VERB
	"$@" userspace -n up/u; "$@" groupspace -n -p up/u
	"$@" userspace -H -p -n -t all -s used up/u; "$@" userspace -n -o name,quota,used -S quota up/u
	"$@" groupspace -n -o type,name,objused up/u@s; "$@" projectspace up/u
	"$@" userspace -n up/l/c; echo "status $?"
}
userspaces Z > "$work/zfuse.us" 2>&1
Z get -H -p -o name,property,value,source $lprops -r up/l > "$work/zfuse.counts"
Z list -H -p -t all -o name,used,available,referenced,reservation,usedbychildren -r up > "$work/zfuse.list"
# rsrv_ok LIST: every filesystem below the root is charged its children's
# max(used, reservation) (CHILD + CHILD_RSRV), and up/l/c (20M reserved)
# has the unused part available beyond its parent's
rsrv_ok() {
	awk -F'\t' '$1 !~ /@/ { uc[$1] = $6; n = split($1, p, "/")
			if (n > 2) kids[substr($1, 1, length($1) - length(p[n]) - 1)] += $2 > $5 ? $2 : $5 }
		$1 == "up/l/c" { c = $2; a = $3 } $1 == "up/l" { pa = $3 }
		END { for (d in uc) if (d ~ /\// && uc[d] != kids[d] + 0) bad = 1
		      exit bad || c >= 20971520 || a - pa != 20971520 - c }' "$1"
}
rsrv_ok "$work/zfuse.list" && ok "parents charged with their children's unused reservations (CHILD_RSRV) after a rename and a destroy; the reserved child has it available" ||
	notok "reservation accounting: $(tr '\n' ';' < "$work/zfuse.list")"

# reservation against other datasets' writes: rs/a reserves all of a small
# pool but 24 MiB; writes into rs/b stop there with ENOSPC as OpenZFS's
# do (within a record), and zfuse lets rs/a write into its reservation
# (dsl_dir_tempreserve_impl's rule; OpenZFS 2.3.2 refuses that write here
# after 512 KiB: its worst-case estimate of a transaction, 24 times the
# bytes held, is not absorbed by the reservation on so small a pool)
rsrv_fill() {
	dd if=/dev/urandom of="$1/b/f" bs=1M count=200 conv=fsync 2>/dev/null
	echo "b/f $(stat -c %s "$1/b/f")"
	if dd if=/dev/urandom of="$1/a/f" bs=1M count=8 conv=fsync 2>/dev/null; then
		echo "a: written"; else echo "a: refused"; fi
}
mkdir -p "$work/rs"
rsimg="$work/rs/rs.img"
"$ZFUSE" create -s 128M rs "$rsimg" > /dev/null || notok "zfuse create rs"
Zr() { "$ZFUSE" "$1" -d "$rsimg" "${@:2}"; }
Zr create rs/a && Zr create rs/b && avail=$(Zr get -Hp -o value available rs) &&
	Zr set reservation=$((avail - (24 << 20))) rs/a || notok "reservation set-up"
"$ZFUSE" mount "$rsimg" "$mnt" || { notok "mount rs"; exit 1; }
rsrv_fill "$mnt" > "$work/zfuse.rs"
"$ZFUSE" unmount "$mnt"
zdb_bcc "$work/rs" rs "$work/zdb.rs" || notok "zdb -bcc rs: $(tail -5 "$work/zdb.rs")"

# ---- OpenZFS ---------------------------------------------------------------
cp --sparse=always "$img" "$work/o/z/up.img"
{
	declare -f as writes userspaces rsrv_fill
	declare -p bad_sets
	cat <<X
uprops=$uprops; lprops=$lprops; RUNAS=/host/runas
X
	cat <<'X'
truncate -s 128M /tmp/rs.img; zpool create rs /tmp/rs.img; zfs create rs/a; zfs create rs/b
avail=$(zfs get -Hp -o value available rs); zfs set reservation=$((avail - (24 << 20))) rs/a
rsrv_fill /rs > /host/oz.rs; zpool export rs
# OpenZFS's own pool, the same sequence
truncate -s 256M /tmp/up.img; zpool create up /tmp/up.img
for d in up/u up/r up/r/c up/l up/l/a; do zfs create $d; done
zfs snapshot up/u@s
zfs set userquota@1000=5M groupquota@1001=3M userquota@1003=1M userobjquota@1000=100 up/u
zfs set userquota@1003=none up/u; zfs set reservation=20M up/r/c
zfs set filesystem_limit=1 snapshot_limit=1 up/l
zfs get -H -p -o name,property,value,source $lprops -r up/l > /host/oz.counts0
zfs create up/l/b && zfs snapshot up/l@s1 && zfs snapshot up/l@s2 up/l/a@s1 && zfs destroy up/l@s2
writes /up "zpool sync up" > /host/oz.out
zfs rename up/r/c up/l/c && zfs create -o reservation=5M up/r/d && zfs destroy up/r/d
zfs get -H -p -o name,property,value,source $lprops -r up/l > /host/oz.counts
zfs list -H -p -t all -o name,used,available,referenced,reservation,usedbychildren -r up > /host/oz.own.list
userspaces zfs > /host/oz.own.us 2>&1
zpool export up
mkdir -p /host/own && cp --sparse=always /tmp/up.img /host/own/up.img
# zfuse's pool, as zfuse left it (mounting writes to it; the quota
# ioctls hang on a read-only import: an upgrade task that cannot sync)
zpool import -o readonly=on -N -d /host/z up || exit 1
zfs list -H -p -t all -o name,used,available,referenced,reservation,usedbychildren -r up > /host/oz.list
zpool export up
zpool import -d /host/z up || exit 1
zfs get -H -p -o name,property,value,source $uprops up/u > /host/oz.get
userspaces zfs > /host/oz.us 2>&1
zpool scrub -w up; zpool status up | grep -E "errors:|scan:" > /host/oz.scrub
: > /host/oz.bad
for b in "${bad_sets[@]}"; do
	zfs set $b 2>> /host/oz.bad && echo "accepted: $b" >> /host/oz.bad
done
# OpenZFS enforces zfuse's limits
if dd if=/dev/zero of=/up/u/a/f bs=1M count=1 seek=20 conv=notrunc 2>/dev/null; then
	echo "write over quota: allowed"; else echo "write over quota: refused"; fi > /host/oz.enforce
zfs set reservation=none up/l/c
zfs list -H -p -o name,used,usedbychildren,usedbydataset,usedbysnapshots,usedbyrefreservation -r up > /host/oz.after
zpool export up
X
} > "$work/o/job.sh"
oracle "$work/o" || exit 1

# same stop bytes (one record of tolerance), same refusals
if paste -d' ' "$work/zfuse.out" "$work/o/oz.out" | awk '
	NF == 4 && $1 == $3 { d = $2 - $4; if (d < 0) d = -d; if (d > 1048576) bad = 1; next }
	{ if ($0 !~ /^create as 1000: (allowed|refused) create as 1000: (allowed|refused)$/ ||
	      $4 != $8) bad = 1 }
	END { exit bad }'; then
	ok "writes stop where OpenZFS's stop, within a record ($(tr '\n' ';' < "$work/zfuse.out"))"
else
	notok "quota behaviour differs from OpenZFS: zfuse $(tr '\n' ';' < "$work/zfuse.out") OpenZFS $(tr '\n' ';' < "$work/o/oz.out")"
fi
diff "$work/zfuse.counts0" "$work/o/oz.counts0" > /dev/null &&
	ok "counts initialised as OpenZFS does ($(awk '$2 ~ /count/ { printf "%s %s=%s;", $1, $2, $3 }' "$work/zfuse.counts0"))" ||
	notok "initial counts differ: $(diff "$work/zfuse.counts0" "$work/o/oz.counts0" | tr '\n' ';')"
diff "$work/zfuse.counts" "$work/o/oz.counts" > /dev/null &&
	ok "counts after creations, snapshots and a destroy are OpenZFS's" ||
	notok "counts differ: $(diff "$work/zfuse.counts" "$work/o/oz.counts" | tr '\n' ';')"
grep -q "errors: No known data errors" "$work/o/oz.scrub" && grep -q "with 0 errors" "$work/o/oz.scrub" &&
	ok "OpenZFS scrubs zfuse's pool clean" || notok "scrub: $(cat "$work/o/oz.scrub")"
diff "$work/zfuse.get" "$work/o/oz.get" > /dev/null && ok "zfs get $uprops agrees with zfuse get" ||
	notok "zfs get differs: $(diff "$work/zfuse.get" "$work/o/oz.get" | tr '\n' ';')"
Zown() { "$ZFUSE" "$1" -d "$work/o/own/up.img" "${@:2}"; }
userspaces Zown > "$work/zfuse.own.us" 2>&1
if diff "$work/zfuse.own.us" "$work/o/oz.own.us" > /dev/null &&
   grep -q 'POSIX User  1000 .* 100$' "$work/zfuse.own.us" && grep -q '^Project' "$work/zfuse.own.us"; then
	ok "on OpenZFS's pool (object accounting, projects) zfuse's userspace forms print what zfs's do"
else
	notok "userspace of OpenZFS's pool differs (< zfuse, > zfs): $(diff "$work/zfuse.own.us" "$work/o/oz.own.us" | tr '\n' ';')"
fi
if paste -d' ' "$work/zfuse.rs" "$work/o/oz.rs" | awk '
	NR == 1 { d = $2 - $4; if (d < 0) d = -d; if (d > 2097152 || $2 > 30 * 1048576) bad = 1 }
	NR == 2 && $1 $2 != "a:written" { bad = 1 } END { exit bad || NR != 2 }'; then
	ok "a reservation stops writes into another dataset where OpenZFS stops them ($(tr '\n' ';' < "$work/zfuse.rs"))"
else
	notok "reservation: zfuse $(tr '\n' ';' < "$work/zfuse.rs") OpenZFS $(tr '\n' ';' < "$work/o/oz.rs")"
fi
if diff "$work/zfuse.us" "$work/o/oz.us" > /dev/null && grep -q 'POSIX User.*1000' "$work/zfuse.us"; then
	ok "zfs userspace/groupspace/projectspace print what zfuse's do ($(wc -l < "$work/zfuse.us") lines)"
else
	notok "userspace differs (< zfuse, > zfs): $(diff "$work/zfuse.us" "$work/o/oz.us" | tr '\n' ';')"
fi
diff "$work/zfuse.list" "$work/o/oz.list" > /dev/null && ok "zfs list (used, available, referenced, reservation) agrees with zfuse list" ||
	notok "zfs list differs: $(diff "$work/zfuse.list" "$work/o/oz.list" | tr '\n' ';')"
diff "$work/zfuse.bad" "$work/o/oz.bad" > /dev/null && ok "refusals in zfs's words" ||
	notok "refusals differ (< zfuse, > zfs): $(diff "$work/zfuse.bad" "$work/o/oz.bad" | tr '\n' ';')"
rsrv_ok "$work/o/oz.own.list" && ok "OpenZFS charges its own pool's reservation the same way" ||
	notok "OpenZFS's own pool: $(grep 'up/r' "$work/o/oz.own.list" | tr '\n' ';')"
grep -q refused "$work/o/oz.enforce" && ok "OpenZFS enforces the userquota zfuse set" ||
	notok "OpenZFS: $(cat "$work/o/oz.enforce")"
awk -F'\t' '{ if ($2 != $3 + $4 + $5 + $6) bad = 1; n = split($1, p, "/")
		uc[$1] = $3; if (n > 2) kids[substr($1, 1, length($1) - length(p[n]) - 1)] += $2 }
	END { for (d in uc) if (d ~ /\// && uc[d] != kids[d] + 0) bad = 1; exit bad }' "$work/o/oz.after" &&
	ok "OpenZFS's release of the reservation leaves consistent figures" ||
	notok "after reservation=none: $(tr '\n' ';' < "$work/o/oz.after")"
exit $fail
