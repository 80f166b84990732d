#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# package.sh — the Debian packages as a new user meets them: build them
# from this tree (contrib/build-deb.sh, lintian), install them with apt,
# mount a fixture through the installed mount(8) helper and zfuse, find the
# manual page and the completion, and compile and run a C program against
# the installed libzfuse-dev with pkg-config. The packages are purged again
# at the end (unless they were installed before the test).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require root fuse
command -v dpkg-buildpackage > /dev/null || die "dpkg-buildpackage is missing (install-deps.sh --tests)"
work=$(mktemp -d "${TMPDIR:-/tmp}/zfuse-pkg.XXXXXX")
chmod 755 "$work"
preinstalled=$(dpkg-query -W -f='${Status}' zfuse 2>/dev/null | grep -c "install ok installed")
cleanup() {
	mountpoint -q "$work/mnt" 2>/dev/null && umount -l "$work/mnt"
	[ "$preinstalled" == 0 ] && DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq zfuse libzfuse0 libzfuse-dev > /dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
fail=0
ok() { echo "ok: $*"; }
bad() { echo "not ok: $*"; fail=1; }

"$here/../../contrib/build-deb.sh" "$work/deb" > "$work/build.out" 2>&1 || { cat "$work/build.out"; die "package build failed"; }
ok "built: $(cd "$work/deb" && ls *.deb | grep -v dbgsym | tr '\n' ' ')"
tags=$(sed -n '/^lintian:/,$p' "$work/build.out" | grep -E "^  [EW]: " || true)
[ -z "$tags" ] && ok "lintian: no errors or warnings" || bad "lintian: $tags"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$work"/deb/zfuse_*.deb "$work"/deb/libzfuse0_*.deb \
	"$work"/deb/libzfuse-dev_*.deb > "$work/apt.out" 2>&1 && ok "apt install ./*.deb" ||
	{ cat "$work/apt.out"; die "apt install failed"; }

basic=$(unpack basic)/basic.img
mkdir -p "$work/mnt"
if mount -t zfuse -o ro "$basic" "$work/mnt" 2> "$work/err" && [ "$(readlink -f /sbin/mount.zfuse)" == /usr/bin/zfuse ]; then
	want=$(grep -c . "$SHARED/fixtures/basic/manifest.basic.tsv")
	got=$("$SHARED/oracle/manifest.sh" "$work/mnt" 2>/dev/null | grep -c .)
	[ "$got" == "$want" ] && ok "installed mount.zfuse mounts the basic fixture ($got entries)" ||
		bad "installed mount shows $got of $want entries"
	# as a new user would: the pool's health, as JSON, read by jq
	state=$(/usr/bin/zfuse status --json "$work/mnt" | jq -r '.pools.basic.state')
	[ "$state" == ONLINE ] && ok "installed zfuse status --json | jq: $state" ||
		bad "zfuse status --json of the mount: '$state'"
	umount "$work/mnt" && ok "umount through the installed helper" || bad "umount"
else
	bad "mount -t zfuse with the installed packages: $(cat "$work/err")"
fi
man -w zfuse > /dev/null 2>&1 && man -w mount.zfuse > /dev/null 2>&1 && man -w zfuse-status > /dev/null 2>&1 &&
	ok "man zfuse, man mount.zfuse, man zfuse-status" ||
	bad "manual pages not found"
[ -f /usr/share/bash-completion/completions/zfuse ] && ok "bash completion installed" || bad "no bash completion"

cat > "$work/lsds.c" <<'X'
/* lists the datasets of a pool image with the installed libzfuse */
#include <stdio.h>
#include <zfuse/zfuse.h>
#include <zfuse/errors.h>

static int show(const struct zfuse_dataset_info *i, void *arg)
{
	(void)arg;
	printf("%s\n", i->name);
	return 0;
}

int main(int argc, char **argv)
{
	struct zfuse_import_opts o = { .paths = (const char *const *)argv + 1,
				       .npaths = (size_t)argc - 1 };
	zfuse_pool_t *pool;
	int rc = zfuse_pool_import(&o, &pool);
	if (rc) {
		fprintf(stderr, "import: %s\n", zfuse_strerror(rc));
		return 1;
	}
	rc = zfuse_dataset_iter(pool, show, NULL);
	zfuse_pool_close(pool);
	return rc ? 1 : 0;
}
X
if cc -Wall -Werror -o "$work/lsds" "$work/lsds.c" $(pkg-config --cflags --libs zfuse) 2> "$work/cc.err"; then
	out=$("$work/lsds" "$basic" 2>&1)
	[ "$(echo "$out" | head -1)" == basic ] && ok "a C program built with pkg-config zfuse lists the pool's datasets" ||
		bad "the libzfuse-dev program printed: $out"
else
	bad "cannot compile against libzfuse-dev: $(cat "$work/cc.err")"
fi
exit $fail
