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
# ZFUSE_ORACLE_SMP (virtual CPUs, 1).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
VM=${OZVM:-${ZFUSE_SHARED:-$here/../../../shared}/oracle}
[ -f "$VM/vmlinuz" ] && [ -f "$VM/initrd.img" ] || { echo "run.sh: no oracle guest in $VM" >&2; exit 2; }
HOSTDIR=$(realpath "${1:?usage: run.sh HOSTDIR [DISK...]}"); shift
rm -f "$HOSTDIR/job.log" "$HOSTDIR/job.rc"
drives=()
for d in "$@"; do drives+=(-drive "file=$d,format=raw,if=virtio,cache=unsafe"); done
timeout "${OZVM_TIMEOUT:-600}" qemu-system-x86_64 -machine pc,accel="${OZVM_ACCEL:-tcg}" -cpu max \
	-smp "${ZFUSE_ORACLE_SMP:-1}" -m "${OZVM_MEM:-2048}" -nographic -no-reboot \
	-kernel "$VM/vmlinuz" -initrd "$VM/initrd.img" -append "console=ttyS0 quiet panic=-1 edd=off" \
	-virtfs "local,path=$HOSTDIR,mount_tag=host,security_model=none,id=host" \
	"${drives[@]}" > "$HOSTDIR/console.log" 2>&1 || true
[ -f "$HOSTDIR/job.log" ] && cat "$HOSTDIR/job.log"
[ -f "$HOSTDIR/job.rc" ] || { echo "guest did not finish; console:"; tail -30 "$HOSTDIR/console.log"; exit 99; }
exit "$(cat "$HOSTDIR/job.rc")"
