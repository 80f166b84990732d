# SPDX-License-Identifier: CDDL-1.0
# zfs-fuse.sh — sourced by the benchmarks: fetches the peer, zfs-fuse 0.7
# from Debian, unpacked into the current directory (its package conflicts
# with zfsutils-linux, so it is not installed), plus fio; defines
# start_zfsfuse/stop_zfsfuse, drop (cold caches) and $ZF (its sbin).
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libfuse2 libaio1 libtirpc3 fio python3 >/dev/null
if [ ! -x zfs-fuse/sbin/zfs-fuse ]; then
	apt-get download zfs-fuse >/dev/null 2>&1
	dpkg -x zfs-fuse_*.deb zfs-fuse
fi
ZF=$PWD/zfs-fuse/sbin
mkdir -p /var/run/zfs /var/lock/zfs
start_zfsfuse() {
	"$ZF/zfs-fuse" --no-daemon >zfs-fuse.log 2>&1 &
	zfpid=$!
	for _ in $(seq 1 100); do "$ZF/zpool" list >/dev/null 2>&1 && return 0; sleep 0.2; done
	echo "zfs-fuse did not start: $(cat zfs-fuse.log)" >&2
	return 1
}
stop_zfsfuse() { kill "$zfpid"; wait "$zfpid" 2>/dev/null || true; }
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }
