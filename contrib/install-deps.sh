#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# install-deps.sh [--tests] [--bench] — installs what zfuse needs to build
# and run on Debian 12 (bookworm): build tools and libraries, Check, zstd.
# With --tests also what the test suite compares against: getfattr,
# python3, QEMU (the OpenZFS oracle) and OpenZFS's zdb, from
# bookworm-backports' contrib; and clang with libFuzzer for the fuzz
# targets (tests/fuzz). With --bench also what contrib/bench/ uses
# (fio, python3, the libraries of zfs-fuse, which the benchmarks unpack
# themselves); CI does not need it.
set -euo pipefail
tests=false bench=false
for a in "$@"; do
	case $a in
	--tests) tests=true ;;
	--bench) bench=true ;;
	*) echo "usage: $0 [--tests] [--bench]" >&2; exit 2 ;;
	esac
done
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
pkgs=(gcc meson ninja-build pkg-config libfuse3-dev fuse3 libzstd-dev liblz4-dev zlib1g-dev
      libssl-dev libunistring-dev check zstd findutils coreutils util-linux)
$tests && pkgs+=(attr patch python3 fdisk qemu-system-x86 bash-completion
	debhelper dpkg-dev fakeroot lintian man-db pkgconf jq clang-14 libclang-rt-14-dev)
$bench && pkgs+=(fio python3 libfuse2 libaio1 libtirpc3)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if $tests && ! command -v zdb >/dev/null; then
	src=/etc/apt/sources.list.d/zfuse-backports-contrib.sources
	if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
		$SUDO tee "$src" >/dev/null <<'X'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
X
	fi
	$SUDO apt-get update -qq
	# --no-install-recommends keeps apt from building zfs-dkms.
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t bookworm-backports \
		--no-install-recommends zfsutils-linux
fi
