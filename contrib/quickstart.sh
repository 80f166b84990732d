#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# quickstart.sh [MOUNTPOINT] — from a fresh Debian 12 clone to a mounted
# pool: installs dependencies, builds zfuse, unpacks the `basic` fixture
# pool (made by OpenZFS 2.3.2) and mounts it read-only at MOUNTPOINT
# (default /tmp/zfuse-basic). Unmount with: zfuse unmount MOUNTPOINT
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
mnt=${1:-/tmp/zfuse-basic}
"$top/contrib/install-deps.sh"
[ -d "$top/build" ] || meson setup "$top/build" "$top"
ninja -C "$top/build"
shared=${ZFUSE_SHARED:-$top/../shared}
img=${TMPDIR:-/tmp}/zfuse-basic.img
[ -s "$img" ] || zstd -q -d --sparse -f "$shared/fixtures/basic/basic.img.zst" -o "$img"
mkdir -p "$mnt"
mountpoint -q "$mnt" && fusermount3 -u "$mnt"
"$top/build/zfuse" mount "$img" "$mnt"
echo "pool 'basic' mounted read-only at $mnt:"
ls -la "$mnt" | head -20
df -h "$mnt"
