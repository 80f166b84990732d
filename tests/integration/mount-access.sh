#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# mount-access.sh ZFUSE — a pool root mounts is usable by every user, as a
# kernel filesystem is: other users read what the modes let them read, are
# refused what they do not (the kernel checks, default_permissions), and
# write where the modes allow; with `-o private` FUSE's default holds and
# every other user is refused. Runs as root; the other user is uid 65534.
set -uo pipefail
ZFUSE=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require root fuse
work=$(mktemp -d "${TMPDIR:-/tmp}/zfuse-access.XXXXXX")
chmod 755 "$work"
mnt=$work/mnt
mount_pid=
cleanup() {
	mountpoint -q "$mnt" && { "$ZFUSE" unmount "$mnt" || umount -l "$mnt"; }
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$mnt"
fail=0
as_nobody() { setpriv --reuid 65534 --regid 65534 --clear-groups "$@"; }
ok() { echo "ok: $*"; }
# refused CMD...: the command, run as the other user, fails with EACCES
refused() { local out; out=$(as_nobody "$@" 2>&1) && return 1; [[ $out == *"Permission denied"* ]]; }
bad() { echo "not ok: $*"; fail=1; }

"$ZFUSE" create -s 128M access "$work/a.img" > /dev/null || die "zfuse create failed"
mount_bg "$ZFUSE" "$work/daemon.log" "$mnt" "$work/a.img" || die "mount failed: $(cat "$work/daemon.log")"
echo public > "$mnt/public"; chmod 644 "$mnt/public"
echo secret > "$mnt/secret"; chmod 600 "$mnt/secret"
mkdir "$mnt/theirs"; chown 65534:65534 "$mnt/theirs"
grep -q "allow_other" <(awk -v m="$mnt" '$2 == m' /proc/mounts) && ok "root's mount has allow_other" ||
	bad "root's mount lacks allow_other"
[ "$(as_nobody cat "$mnt/public" 2>&1)" == public ] && ok "another user reads a 644 file" ||
	bad "another user cannot read a 644 file"
refused cat "$mnt/secret" && ok "a 600 file is refused to another user" ||
	bad "a 600 file is readable by another user"
refused touch "$mnt/nope" && ok "the root-owned 755 root refuses another user's create" ||
	bad "another user created a file in a 755 root directory"
if as_nobody sh -c "echo mine > '$mnt/theirs/f'" && [ "$(stat -c %u "$mnt/theirs/f")" == 65534 ]; then
	ok "another user writes in its own directory, owning the file"
else
	bad "another user cannot write in its own directory"
fi
"$ZFUSE" unmount "$mnt"; wait "$mount_pid"

mount_bg "$ZFUSE" "$work/daemon.log" "$mnt" -o private "$work/a.img" || die "private mount failed"
refused ls "$mnt" && ok "-o private refuses every other user" ||
	bad "-o private lets another user in"
[ "$(cat "$mnt/theirs/f")" == mine ] && ok "root still reads in a private mount" || bad "root cannot read its private mount"
"$ZFUSE" unmount "$mnt"; wait "$mount_pid"
exit $fail
