#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# zil-replay.sh ZFUSE — intent logs OpenZFS left in a crashed pool (the zil
# fixture): a read-only mount shows the synced txg and writes nothing; a
# read-write mount claims and replays the log and shows what OpenZFS shows
# after its own import (manifest.after-import; mtimes of replayed changes
# are replay times, so mtime is left out), with zdb -bcc clean after the
# unmount and the log destroyed; an import that only claims (an offline
# verb) writes the header OpenZFS writes; damaged logs (a block that does
# not verify, a record of impossible length, a record naming a missing
# directory, a record type from a newer OpenZFS) stop the replay where
# OpenZFS stops it, or leave the dataset read-only with its log kept.
set -uo pipefail
ZFUSE=$1
. "$(dirname "$0")/lib.sh"
require fuse zdb
here=$(cd "$(dirname "$0")" && pwd)
dir=$(unpack zil)
fx=$SHARED/fixtures/zil
MANIFEST=$SHARED/oracle/manifest.sh
scratch_mount zil
mkdir -p "$mnt"
fail=0

# fresh NAME: a private copy of the fixture image, $work/NAME/zil.img
fresh() {
	mkdir -p "$work/$1"
	cp --sparse=always "$dir/zil.img" "$work/$1/zil.img" && chmod u+w "$work/$1/zil.img"
	img=$work/$1/zil.img
}
# up OPTS: mount $img; wait for the child dataset's mount
up() {
	mount_bg "$ZFUSE" "$work/mount.log" "$mnt" -o "$1" "$img" || { tail "$work/mount.log"; return 1; }
	for _ in $(seq 1 100); do
		mountpoint -q "$mnt/fs" && return 0
		sleep 0.1
	done
	return 1
}
down() {
	"$ZFUSE" unmount "$mnt" || notok "unmount"
	wait "$mount_pid"
	mount_pid=
}
nomtime() { awk -F'\t' -v OFS='\t' 'NF >= 7 { $7 = "" } { print }'; }
zil_json() { "$ZFUSE" inspect --json "$img" zil zil/fs; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# ---- read-only: the synced state, nothing written ----
fresh ro
if up ro; then
	if diff <(expected "$fx/manifest.synced.zil%fs.tsv") <("$MANIFEST" "$mnt/fs") > "$work/d"; then
		ok "read-only mount shows the synced txg"
	else
		notok "read-only mount differs from manifest.synced"; cat "$work/d"
	fi
	down
	cmp -s "$img" "$dir/zil.img" && ok "read-only mount wrote nothing" || notok "read-only mount changed the image"
else
	notok "read-only mount"
fi

# ---- read-write: claim, replay, destroy ----
after=$(nomtime < "$fx/manifest.after-import.zil%fs.tsv")
fresh rw
if up rw; then
	if diff <(echo "$after") <("$MANIFEST" "$mnt/fs" | nomtime) > "$work/d"; then
		ok "read-write mount replays the log: manifest.after-import (mtime aside)"
	else
		notok "replayed tree differs from manifest.after-import"; cat "$work/d"
	fi
	echo new > "$mnt/fs/after-replay" && ok "replayed dataset is writable" || notok "write after replay"
	down
	zdb_bcc "$work/rw" zil "$work/zdb" && ok "zdb -bcc clean after replay" || { notok "zdb -bcc after replay"; tail "$work/zdb"; }
	# The replay destroys the log; zil/fs is sync=always, so the write after
	# it starts a new chain of zfuse's own (zilsaxattr active again, as
	# OpenZFS's zil_create does), which a clean unmount leaves without records.
	st=$(zil_json | field "d['header']['state'] + ' %d' % len(d['records'])")
	case $st in
	"no log 0") ok "log destroyed, header zeroed"; sax=0 ;;
	"not claimed 0") ok "log destroyed; the new chain of the write after the replay holds no records"; sax=1 ;;
	*) notok "header after replay: $st $(zil_json | field "d['header']")"; sax=x ;;
	esac
	"$ZFUSE" inspect "$img" pool | grep -A3 'name: zilsaxattr' | grep -q "refcount: $sax" &&
		ok "zilsaxattr refcount $sax" || notok "zilsaxattr refcount is not $sax"
	if up ro; then
		diff <(echo "$after") <("$MANIFEST" "$mnt/fs" | nomtime | grep -v after-replay) > "$work/d" &&
			ok "replayed tree persists" || { notok "replayed tree after remount"; cat "$work/d"; }
		down
	fi
else
	notok "read-write mount"; tail "$work/mount.log"
fi

# ---- claim only (an offline verb imports read-write, mounts nothing) ----
fresh claim
if "$ZFUSE" set -d "$img" user:zfuse:claim=1 zil; then
	h=$(zil_json | field "'%d %d %d %d %d' % tuple(d['header'][k] for k in ('claim_txg','claim_blk_seq','claim_lr_seq','flags','replay_seq'))")
	[ "$h" == "17 53 48 3 0" ] && ok "claimed header as OpenZFS writes it (17 53 48 0x3)" || notok "claimed header: $h"
	zdb_bcc "$work/claim" zil "$work/zdb" && ok "zdb -bcc clean on the claimed image" || { notok "zdb -bcc claimed"; tail "$work/zdb"; }
	"$ZFUSE" inspect "$img" verify > "$work/verify" 2>&1 && grep -q "space_leaked: 0" "$work/verify" &&
		ok "zfuse verify counts the claimed log as allocated" || { notok "zfuse verify on the claimed image"; tail "$work/verify"; }
	if up rw; then
		diff <(echo "$after") <("$MANIFEST" "$mnt/fs" | nomtime) > "$work/d" &&
			ok "claimed log replays at the next mount" || { notok "replay of a claimed log"; cat "$work/d"; }
		down
		zdb_bcc "$work/claim" zil "$work/zdb" && ok "zdb -bcc clean after replaying a claimed log" || notok "zdb -bcc (claimed, replayed)"
	fi
else
	notok "offline set on the crash image"
fi

# ---- destroying a dataset whose log is claimed frees the log ----
fresh destroy
if "$ZFUSE" destroy -d "$img" zil/fs; then
	zdb_bcc "$work/destroy" zil "$work/zdb" && ok "destroy of a dataset with a claimed log: zdb -bcc clean" ||
		{ notok "destroy with a claimed log leaks"; grep -i leak "$work/zdb" | tail -3; }
	"$ZFUSE" inspect "$img" pool | grep -A3 'name: zilsaxattr' | grep -q 'refcount: 0' &&
		ok "destroy: zilsaxattr no longer counted" || notok "destroy: zilsaxattr still counted"
else
	notok "offline destroy of zil/fs"
fi

# ---- damage ----
good_json=$work/good.json
img=$dir/zil.img zil_json > "$good_json"
# expected_big BEFORE: big.bin's size when records before BEFORE are replayed
expected_big() {
	python3 - "$good_json" "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); lim = int(sys.argv[2])
print(max([r['offset'] + r['length'] for r in d['records'] if r['type'] == 'TX_WRITE' and r['foid'] == 7 and r['seq'] < lim] or [0]))
PY
}
# damaged MODE SEQ LABEL: mount a copy damaged at record SEQ read-write
damaged() {
	fresh "$1-$2"
	read -r bseq first < <("$here/zil_corrupt.py" "$img" "$good_json" "$1" "$2") || { notok "$3: cannot damage"; return 1; }
	up rw || { notok "$3: mount"; return 1; }
}
after_damage() {  # LABEL: unmount, zdb, dataset readable read-only again
	down
	zdb_bcc "$(dirname "$img")" zil "$work/zdb" && ok "$1: zdb -bcc clean" || { notok "$1: zdb -bcc"; tail "$work/zdb"; }
	up ro && { [ "$(cat "$mnt/fs/logged.txt")" == "in-log" ] && ok "$1: mounts again" || notok "$1: remount content"; down; }
}

if damaged flip 30 "block in the middle that does not verify"; then
	want=$(expected_big "$first")
	got=$(stat -c %s "$mnt/fs/newdir/big.bin" 2>/dev/null)
	[ "$got" == "$want" ] && ok "bad block $bseq: chain ends before it (big.bin $got bytes)" ||
		notok "bad block $bseq: big.bin is $got bytes, want $want"
	[ "$(cat "$mnt/fs/logged.txt")" == "in-log" ] && ok "bad block: earlier records replayed" || notok "bad block: logged.txt"
	after_damage "bad block"
fi
if damaged reclen 30 "impossible record length"; then
	want=$(expected_big 30)
	got=$(stat -c %s "$mnt/fs/newdir/big.bin" 2>/dev/null)
	[ "$got" == "$want" ] && ok "impossible length: records before it replayed (big.bin $got bytes)" ||
		notok "impossible length: big.bin is $got bytes, want $want"
	after_damage "impossible length"
fi
if damaged doid 11 "create in a missing directory"; then
	[ -d "$mnt/fs/newdir" ] && [ ! -e "$mnt/fs/newdir/big.bin" ] && [ -L "$mnt/fs/newlink" ] &&
		ok "missing directory: replay stops at that record, as OpenZFS" || notok "missing directory: tree $(ls -R "$mnt/fs")"
	after_damage "missing directory"
fi
if damaged type 9 "record type from a newer OpenZFS"; then
	diff <(expected "$fx/manifest.synced.zil%fs.tsv") <("$MANIFEST" "$mnt/fs") > "$work/d" &&
		ok "unknown record type: dataset shows the synced txg" || { notok "unknown record type: tree"; cat "$work/d"; }
	touch "$mnt/fs/x" 2>/dev/null && notok "unknown record type: dataset writable" || ok "unknown record type: dataset read-only"
	grep -q "cannot be replayed by zfuse: record 9" "$work/mount.log" && ok "unknown record type: clear message" ||
		notok "unknown record type: no message"
	down
	[ "$(zil_json | field "d['header']['state']")" == "claimed, replay needed" ] && ok "unknown record type: log kept" ||
		notok "unknown record type: log not kept"
	zdb_bcc "$(dirname "$img")" zil "$work/zdb" && ok "unknown record type: zdb -bcc clean" || notok "unknown record type: zdb -bcc"
fi
exit $fail
