#!/bin/bash
# install-deps.sh — installs what zfuse needs to build and test on Debian 12.
set -euo pipefail
pkgs=(gcc meson ninja-build pkg-config libfuse3-dev fuse3 libzstd-dev liblz4-dev zlib1g-dev
      libssl-dev libunistring-dev check zstd attr findutils coreutils util-linux patch python3)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
