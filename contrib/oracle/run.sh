#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# contrib/oracle/run.sh HOSTDIR [DISK...] — run HOSTDIR/job.sh in the
# OpenZFS oracle guest (the kernel and initrd of ../shared/oracle), as that
# directory's run.sh does, with one virtual CPU unless ZFUSE_ORACLE_SMP says
# otherwise.
#
# Why one CPU: the guest runs under TCG (no KVM here), and the test suite
# runs oracle tests beside each other on a 2-core machine. Two 2-CPU
# guests keep four emulating threads on two cores, and multi-threaded TCG pays for
# every cross-CPU barrier and TLB flush: a pair of import/scrub/manifest
# jobs took 28.9 s with two CPUs each and 16.2 s with one (alone, 15.5 s
# and 16.0 s).
#
# HOSTDIR is shared at /host (9p); the job's output is printed (and left in
# HOSTDIR/job.log); the exit status is the job's, 99 when the guest never
# finished (HOSTDIR/console.log has its console). Environment: OZVM (the
# guest's directory), OZVM_TIMEOUT (seconds, 600), OZVM_MEM (MiB, 2048),
# ZFUSE_ORACLE_SMP (virtual CPUs, 1), ZFUSE_ORACLE_TIMES (a file to which
# each boot appends "HOSTDIR wall user system" seconds: where CI's time goes),
# ZFUSE_ORACLE_TRACE (set: the job runs under bash -x with a timestamp on
# each command, into HOSTDIR/job.trace: where the guest's time goes),
# ZFUSE_ORACLE_CACHE (where the unpacked kernel and initrd are kept;
# ~/.cache/zfuse/oracle; another guest's, not booted for 30 days, are
# removed when a new one is unpacked).
#
# Why unpacked: under TCG the guest's own unpacking is slow. The bzImage's
# xz decompressor ran 4.5 s before the kernel's first line, and the zstd
# initrd is unpacked by the kernel too. So the kernel inside vmlinuz is
# unpacked here once, and booted as an ELF through its PVH entry point
# (the note Xen's PVH boot uses, which QEMU also follows), with the
# initrd as a plain cpio: a guest running `true` took 8.6 s, now 5.3 s.
# A kernel without the note, or tools missing, boot vmlinuz as before.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
VM=${OZVM:-${ZFUSE_SHARED:-$here/../../../shared}/oracle}
[ -f "$VM/vmlinuz" ] && [ -f "$VM/initrd.img" ] || { echo "run.sh: no oracle guest in $VM" >&2; exit 2; }
# boot_images VM: prints the kernel and initrd to boot (unpacked when it can)
boot_images() {
	local vm=$1 key dir tmp
	key=$(cat "$vm/vmlinuz" "$vm/initrd.img" | sha256sum | cut -c1-16)
	dir=${ZFUSE_ORACLE_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/zfuse/oracle}/$key
	if [ ! -f "$dir/vmlinux" ] && mkdir -p "$dir" 2>/dev/null && tmp=$(mktemp -d "$dir/.unpack.XXXXXX"); then
		# Parallel tests may unpack at once: each in its own directory,
		# renamed into place whole.
		if python3 - "$vm/vmlinuz" "$tmp/vmlinux" <<'X' && zstd -dcq "$vm/initrd.img" > "$tmp/initrd.cpio"; then
import lzma, struct, sys
data = open(sys.argv[1], 'rb').read()
at = data.find(b'\xfd7zXZ\x00')
if at < 0:
    sys.exit(1)
elf = lzma.LZMADecompressor(lzma.FORMAT_XZ).decompress(data[at:])
# The PVH entry point: an ELF note named "Xen" of type 18.
pvh = (struct.pack('<III4s', 4, size, 18, b'Xen\0') for size in (4, 8))
if elf[:4] != b'\x7fELF' or not any(note in elf for note in pvh):
    sys.exit(1)
open(sys.argv[2], 'wb').write(elf)
X
			mv "$tmp/initrd.cpio" "$dir/initrd.cpio" && mv "$tmp/vmlinux" "$dir/vmlinux"
			# A new guest: the unpacked guests (100 MB each) not
			# booted for 30 days go.
			find "${dir%/*}" -mindepth 1 -maxdepth 1 -type d -name '????????????????' \
				! -name "$key" -mtime +30 -exec rm -rf {} + 2>/dev/null || true
		fi
		rm -rf "$tmp"
	fi
	if [ -f "$dir/vmlinux" ] && [ -f "$dir/initrd.cpio" ]; then
		touch "$dir" 2>/dev/null || true	# booted now: see the pruning above
		echo "$dir/vmlinux $dir/initrd.cpio"
	else
		echo "$vm/vmlinuz $vm/initrd.img"
	fi
}
read -r kernel initrd < <(boot_images "$VM")
HOSTDIR=$(realpath "${1:?usage: run.sh HOSTDIR [DISK...]}"); shift
rm -f "$HOSTDIR/job.log" "$HOSTDIR/job.rc"
if [ -n "${ZFUSE_ORACLE_TRACE:-}" ]; then
	mv "$HOSTDIR/job.sh" "$HOSTDIR/job.untraced.sh"
	# shellcheck disable=SC2016
	printf '%s\n' '#!/bin/bash' 'exec 9> /host/job.trace; BASH_XTRACEFD=9; PS4='"'"'+ $EPOCHREALTIME '"'"'' \
		'set -x; . /host/job.untraced.sh' > "$HOSTDIR/job.sh"
	chmod +x "$HOSTDIR/job.sh"
	trap 'mv "$HOSTDIR/job.untraced.sh" "$HOSTDIR/job.sh"' EXIT
fi
drives=()
for d in "$@"; do drives+=(-drive "file=$d,format=raw,if=virtio,cache=unsafe"); done
TIMEFORMAT="%R %U %S"
guest_times=$( { time timeout "${OZVM_TIMEOUT:-600}" qemu-system-x86_64 -machine pc,accel="${OZVM_ACCEL:-tcg}" -cpu max \
	-smp "${ZFUSE_ORACLE_SMP:-1}" -m "${OZVM_MEM:-2048}" -nographic -no-reboot \
	-kernel "$kernel" -initrd "$initrd" -append "console=ttyS0 quiet panic=-1 edd=off" \
	-virtfs "local,path=$HOSTDIR,mount_tag=host,security_model=none,id=host" \
	"${drives[@]}" > "$HOSTDIR/console.log" 2>&1 || true; } 2>&1 )
[ -z "${ZFUSE_ORACLE_TIMES:-}" ] || echo "$HOSTDIR $guest_times" >> "$ZFUSE_ORACLE_TIMES"
[ -f "$HOSTDIR/job.log" ] && cat "$HOSTDIR/job.log"
[ -f "$HOSTDIR/job.rc" ] || { echo "guest did not finish; console:"; tail -30 "$HOSTDIR/console.log"; exit 99; }
exit "$(cat "$HOSTDIR/job.rc")"
