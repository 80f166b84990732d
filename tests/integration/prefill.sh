#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# prefill.sh ZFUSE — a small read brings its whole record into the page
# cache (fincore counts the pages; none but the read one with noprefill),
# and the stores never show stale data: random readers run beside a writer
# that rewrites the file through fresh handles and truncates it by path,
# and afterwards the cached file holds exactly the last version, before
# and after the page cache is dropped.
set -uo pipefail
ZFUSE=$1
. "$(dirname "$0")/lib.sh"
command -v fincore >/dev/null || { echo "fincore (util-linux) is missing"; exit 1; }
work=$(mktemp -d)
mnt="$work/mnt"
mkdir "$mnt"
img="$work/pool.img"
truncate -s 1G "$img"
"$ZFUSE" create -O compression=lz4 pf "$img" >/dev/null || { echo "not ok: create"; exit 1; }
fail=0
ok() { echo "ok: $1"; }
notok() { echo "not ok: $1"; fail=1; }

mount_it() {	# mount_it [OPTIONS]
	"$ZFUSE" mount "$@" "$img" "$mnt" || { notok "mount $*"; exit 1; }
}
umount_it() { "$ZFUSE" unmount "$mnt" || notok "unmount"; }
drop() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }

# resident PATH -> pages of PATH in the page cache
resident() { fincore -n -o PAGES "$1" | tr -d ' '; }
# one 4 KiB read at OFFSET, no readahead
read_one() {
	python3 - "$1" "$2" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
assert len(os.pread(fd, 4096, int(sys.argv[2]))) == 4096
os.close(fd)
EOF
}

mount_it
head -c 4M /dev/urandom > "$mnt/f"
umount_it
drop

# The record of a 4 KiB read: 128 KiB, 32 pages.
mount_it
read_one "$mnt/f" $((5 * 131072 + 8192))
sleep 0.2
n=$(resident "$mnt/f")
[ "$n" = 32 ] && ok "a 4 KiB read brought its 128 KiB record (32 pages)" ||
	notok "a 4 KiB read left $n pages in the page cache, not 32"
read_one "$mnt/f" $((4 * 1024 * 1024 - 4096))
sleep 0.2
n=$(resident "$mnt/f")
[ "$n" = 64 ] && ok "the last record too (64 pages)" || notok "$n pages after the last record, not 64"
umount_it
drop
mount_it -o noprefill
read_one "$mnt/f" $((5 * 131072 + 8192))
n=$(resident "$mnt/f")
[ "$n" = 1 ] && ok "noprefill: only the page read" || notok "noprefill: $n pages, not 1"
umount_it

# Readers and a writer.
mount_it
python3 - "$mnt/f" <<'EOF'
import os, random, struct, sys, time, multiprocessing as mp
path = sys.argv[1]
PAGES = 512			# 2 MiB: 16 records
def page(v, i):
    return struct.pack("<QQ", v, i) * 256
def reader(seed, stop):
    rng = random.Random(seed)
    while not stop.is_set():
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
        for k in range(200):
            # Drop the clean pages now and then: reads that miss are
            # what makes stores, while the writer dirties pages.
            if k % 20 == 0:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.pread(fd, 4096, rng.randrange(PAGES) * 4096)
        os.close(fd)
def write_all(v):
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    for i in range(PAGES):
        os.pwrite(fd, page(v, i), i * 4096)
    os.close(fd)
write_all(0)
stop = mp.Event()
readers = [mp.Process(target=reader, args=(s, stop), daemon=True) for s in range(4)]
for r in readers:
    r.start()
rng = random.Random(7)
deadline = time.time() + 8
v = 0
while time.time() < deadline:
    v += 1
    if v % 5 == 0:
        os.truncate(path, rng.randrange(PAGES) * 4096)	# by path: no handle
    if v % 7 == 0:
        os.truncate(path, 0)
    write_all(v)
# A truncate by path must not be undone by a store that read the longer
# file: each time the file reads back at its new length.
short = 0
for t in range(300):
    v += 1
    write_all(v)
    os.truncate(path, PAGES * 2048)
    time.sleep(0.001)
    with open(path, "rb") as f:
        got = f.read()
    if len(got) != PAGES * 2048 or got != b"".join(page(v, i) for i in range(PAGES // 2)):
        short += 1
write_all(v)
stop.set()
for r in readers:
    r.join()
if short:
    print("%d of 300 truncates by path read back wrong" % short)
    sys.exit(1)
fd = os.open(path, os.O_RDONLY)
data = os.pread(fd, PAGES * 4096 + 4096, 0)
os.close(fd)
bad = [i for i in range(PAGES) if data[i * 4096:(i + 1) * 4096] != page(v, i)]
if len(data) != PAGES * 4096 or bad:
    print("cached file after %d versions: %d bytes, %d pages not of the last version (first %s)"
          % (v, len(data), len(bad), bad[:5]))
    sys.exit(1)
print("%d versions written beside 4 readers" % v)
EOF
[ $? = 0 ] && ok "the page cache holds the last version" || notok "stale pages in the page cache"
umount_it
drop
mount_it
python3 - "$mnt/f" <<'EOF' && ok "so does the pool" || notok "the pool differs from the last version"
import os, struct, sys
data = open(sys.argv[1], "rb").read()
v = struct.unpack("<Q", data[:8])[0]
sys.exit(0 if data == b"".join(struct.pack("<QQ", v, i) * 256 for i in range(512)) else 1)
EOF
umount_it
rm -rf "$work"
exit $fail
