#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# powercut.sh ZFUSE ZFUSE_WALK — the CI form of tests/crash/powercut.py:
# a recorded workload, then a few hundred disk states a power cut could
# leave (every flush boundary, random subsets of an epoch's writes, torn
# writes), each imported read-only and walked against the workload's model,
# mounted read-write and unmounted, and on the flush boundaries and a sample
# checked by zdb -bcc. ZFUSE_POWERCUT_SEED replays a run's workload and
# states; ZFUSE_POWERCUT_STATES changes how many (--full: 10000, by hand).
set -uo pipefail
ZFUSE=$1 WALK=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require zdb root fuse
seed=${ZFUSE_POWERCUT_SEED:-$((RANDOM * 32768 + RANDOM))}
exec python3 "$here/../crash/powercut.py" --states "${ZFUSE_POWERCUT_STATES:-200}" \
	--seed "$seed" --zdb 10 "$ZFUSE" "$WALK"
