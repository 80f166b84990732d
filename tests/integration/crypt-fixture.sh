#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# crypt-fixture.sh ZFUSE WALK — issue 11 on the crypt fixture (aes-256-gcm
# crypt/secret, aes-256-ccm crypt/ccm, keyformat=passphrase,
# keylocation=prompt):
#   - the library (zfuse-walk --key) shows both datasets exactly as OpenZFS;
#   - a wrong or malformed passphrase is refused with a clear error;
#   - `zfuse mount` with -o keylocation=, with -o keys=FILE (one root's key
#     wrong: that root stays unmounted, the rest mounts) and with the keys
#     on standard input, one line per root, shows the root manifest (children
#     included) and each dataset's exactly; load-key offline validates;
#   - `inspect verify` checks every MAC with the key and says what it could
#     not check without;
#   - a flipped bit in a file block's ciphertext (a copy of the image) is an
#     I/O error for that file, its plaintext never shown, the rest readable.
# MAC-level tampering of every kind is test_crypt's (unit).
set -uo pipefail
ZFUSE=$1 WALK=$2
. "$(dirname "$0")/lib.sh"
FX="$SHARED/fixtures/crypt"
MANIFEST="$SHARED/oracle/manifest.sh"
dir=$(unpack crypt)
img="$dir/crypt.img"
tmp=$(mktemp -d)
mnt="$tmp/mnt"
mkdir -p "$mnt"
mount_pid=
fail=0
cleanup() {
	if mountpoint -q "$mnt"; then "$ZFUSE" unmount -l "$mnt" 2>/dev/null || umount -l "$mnt"; fi
	[ -n "$mount_pid" ] && wait "$mount_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
printf 'zfuse-fixture-passphrase\n' > "$tmp/pass"
printf 'not-the-passphrase\n' > "$tmp/bad"
printf 'short\n' > "$tmp/short"

same() {  # same LABEL WANT-FILE GOT-TEXT
	if [ "$(cat "$2")" == "$3" ]; then ok "$1"; else notok "$1"; diff "$2" <(echo "$3") | head -10; fi
}

# ---- library ----
for ds in secret ccm; do
	got=$("$WALK" --key "file://$tmp/pass" "crypt/$ds" "$img" 2>&1)
	same "walk crypt/$ds" "$FX/manifest.crypt%$ds.tsv" "$got"
done
out=$("$WALK" --key "file://$tmp/bad" crypt/secret "$img" 2>&1) && notok "wrong passphrase accepted"
grep -q "Incorrect key provided for 'crypt/secret'" <<<"$out" && ok "wrong passphrase: $(head -1 <<<"$out")" ||
	notok "wrong passphrase: unclear error: $out"
grep -q 'hello' <<<"$out" && notok "wrong passphrase: plaintext shown"
out=$("$WALK" --key "file://$tmp/short" crypt/secret "$img" 2>&1) && notok "short passphrase accepted"
grep -q "Passphrase too short" <<<"$out" && ok "short passphrase: $(head -1 <<<"$out")" ||
	notok "short passphrase: unclear error: $out"

# ---- load-key offline: a check of the key ----
"$ZFUSE" load-key -d "$img" -L "file://$tmp/pass" crypt/secret && ok "load-key (right key)" ||
	notok "load-key refused the right key"
out=$("$ZFUSE" load-key -d "$img" -L "file://$tmp/bad" crypt/ccm 2>&1) && notok "load-key accepted a wrong key"
grep -q "Incorrect key" <<<"$out" && ok "load-key wrong key: $out" || notok "load-key: unclear: $out"
out=$(printf 'zfuse-fixture-passphrase\nzfuse-fixture-passphrase\n' |
	"$ZFUSE" load-key -d "$img" -r crypt 2>&1) && grep -q '2 / 2 key(s) successfully loaded' <<<"$out" &&
	ok "load-key -r from stdin: $out" || notok "load-key -r: $out"

# ---- verify: MACs with the keys, ciphertext checksums without ----
out=$("$ZFUSE" inspect "$img" verify 2>&1)
grep -q 'mac_unchecked: [1-9]' <<<"$out" && grep -q 'mac_note:' <<<"$out" &&
	ok "verify without keys says which MACs it could not check" || notok "verify without keys: $out"
if out=$("$ZFUSE" inspect --key "file://$tmp/pass" "$img" verify 2>&1) &&
   grep -q 'mac_unchecked: 0' <<<"$out" && grep -q 'mac_errors: 0' <<<"$out"; then
	ok "verify with keys: every MAC checked, none wrong"
else
	notok "verify with keys: $out"
fi

# ---- mounts ----
check_mount() {  # check_mount LABEL: the root and both datasets through FUSE
	local got
	got=$("$MANIFEST" "$mnt")
	same "$1: crypt (root, children included)" "$FX/manifest.crypt.tsv" "$got"
	for ds in secret ccm; do
		got=$("$MANIFEST" "$mnt/$ds")
		same "$1: crypt/$ds" "$FX/manifest.crypt%$ds.tsv" "$got"
	done
}
unmount() {
	"$ZFUSE" unmount "$mnt" || notok "unmount failed"
	wait "$mount_pid" || notok "zfuse exited with $? after unmount"
	mount_pid=
}
settle() {  # wait until the children's mounts appear
	for _ in $(seq 1 50); do
		[ "$(awk -v m="$mnt" 'index($5, m "/") == 1' /proc/self/mountinfo | wc -l)" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

if mount_bg "$ZFUSE" "$tmp/log" "$mnt" -o "ro,keylocation=file://$tmp/pass" "$img" </dev/null && settle 2; then
	check_mount "keylocation="
	grep -q 'read-only\|mounted read-only' "$tmp/log" || true
	unmount
else
	notok "mount with keylocation= failed: $(cat "$tmp/log")"
fi

: > "$tmp/log"
printf '# roots and their keys\ncrypt/secret file://%s\ncrypt/ccm file://%s\n' "$tmp/pass" "$tmp/bad" > "$tmp/keys"
if mount_bg "$ZFUSE" "$tmp/log" "$mnt" -o "ro,keys=$tmp/keys" "$img" </dev/null && settle 1; then
	sleep 0.5
	got=$("$MANIFEST" "$mnt/secret")
	same "keys=FILE: crypt/secret" "$FX/manifest.crypt%secret.tsv" "$got"
	if mountpoint -q "$mnt/ccm"; then notok "keys=FILE: crypt/ccm mounted with a wrong key"; else ok "keys=FILE: crypt/ccm (wrong key) not mounted"; fi
	ls "$mnt/ccm" 2>/dev/null | grep -q hello && notok "keys=FILE: crypt/ccm contents shown"
	grep -q "Incorrect key provided for 'crypt/ccm'" "$tmp/log" && ok "keys=FILE: clear error: $(grep -m1 'Incorrect key' "$tmp/log")" ||
		notok "keys=FILE: no clear error: $(cat "$tmp/log")"
	unmount
else
	notok "mount with keys= failed: $(cat "$tmp/log")"
fi

: > "$tmp/log"
# keylocation=prompt, stdin not a terminal: one line per root, in name order
printf 'zfuse-fixture-passphrase\nzfuse-fixture-passphrase\n' > "$tmp/lines"
# (the daemonizing mount: a background job's stdin would be /dev/null)
if "$ZFUSE" mount -o ro "$img" "$mnt" < "$tmp/lines" 2>> "$tmp/log" && settle 2; then
	check_mount "keys on stdin"
	"$ZFUSE" unmount "$mnt" || notok "unmount failed"
else
	notok "mount with keys on stdin failed: $(cat "$tmp/log")"
fi

# ---- a flipped bit in a file block's ciphertext ----
cp --sparse=always "$img" "$tmp/bad.img"
# random.bin's first block in crypt/secret: DVA[0]=<0:OFFSET:...>
dva=$("$ZFUSE" inspect --key "file://$tmp/pass" "$tmp/bad.img" object crypt/secret /random.bin -vv |
	awk '/level: 0/ { l0 = 1 } l0 && /bp: DVA\[0\]/ { print; exit }')
off=$(sed -n 's/.*DVA\[0\]=<0:\([0-9a-f]*\):.*/\1/p' <<<"$dva")
grep -q 'salt=' <<<"$dva" || notok "inspect shows no salt/iv for an encrypted bp: $dva"
if [ -z "$off" ]; then
	notok "cannot find random.bin's block: $dva"
else
	pos=$(( 0x400000 + 0x$off + 1000 ))
	python3 - "$tmp/bad.img" "$pos" <<'EOF'
import sys
with open(sys.argv[1], 'r+b') as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0x08]))
EOF
	: > "$tmp/log"
	if mount_bg "$ZFUSE" "$tmp/log" "$mnt" -o "ro,keylocation=file://$tmp/pass" "$tmp/bad.img" </dev/null && settle 2; then
		if cat "$mnt/secret/random.bin" > "$tmp/out" 2>"$tmp/err"; then
			notok "tampered random.bin read without error"
		else
			grep -q 'Input/output error' "$tmp/err" && ok "tampered block: $(cat "$tmp/err")" ||
				notok "tampered block: unexpected error $(cat "$tmp/err")"
		fi
		[ "$(stat -c %s "$tmp/out")" -lt 131072 ] && ok "no bytes of the tampered block returned" ||
			notok "bytes of the tampered block returned"
		got=$(sha256sum < "$mnt/secret/hello.txt" | cut -d' ' -f1)
		[ "$got" == 853ff93762a06ddbf722c4ebe9ddd66d8f63ddaea97f521c3ecc20da7c976020 ] &&
			ok "other files of the dataset still read" || notok "hello.txt after tampering: $got"
		unmount
	else
		notok "mount of the tampered copy failed: $(cat "$tmp/log")"
	fi
fi
exit $fail
