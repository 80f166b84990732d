#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# build-deb.sh [OUTDIR] — build the Debian packages (zfuse, libzfuse0,
# libzfuse-dev) from a copy of this tree with dpkg-buildpackage -us -uc -b,
# put the .deb files in OUTDIR (default: ./deb) and run lintian on them.
# Needs debhelper, dpkg-dev, fakeroot and the build dependencies of
# debian/control (contrib/install-deps.sh --tests installs them).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$top/deb}" && cd "${1:-$top/deb}" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/zfuse-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/zfuse"
tar -C "$top" --exclude=./.git --exclude='./build*' --exclude=./deb --exclude='*.img' -cf - . |
	tar -C "$work/zfuse" -xf -
(cd "$work/zfuse" && dpkg-buildpackage -us -uc -b > "$work/build.log" 2>&1) ||
	{ tail -40 "$work/build.log"; echo "build-deb: dpkg-buildpackage failed" >&2; exit 1; }
cp "$work"/*.deb "$out/"
ls -1 "$out"/*.deb
if command -v lintian > /dev/null; then
	echo "lintian:"
	lintian --tag-display-limit 0 "$work"/*.changes 2>&1 | sed 's/^/  /' || true
fi
