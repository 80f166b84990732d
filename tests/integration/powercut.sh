#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# powercut.sh ZFUSE ZFUSE_WALK — the CI form of tests/crash/powercut.py:
# a recorded workload, then disk states a power cut could leave (flush
# boundaries, at most two thirds of the states, the first and the last
# always; random subsets of an epoch's writes; torn writes), each
# imported read-only and walked against the workload's model, mounted
# read-write and unmounted, and on the flush boundaries and a sample
# checked by zdb -bcc; in every state, each fsync that had returned before
# a write the state holds must have all its writes on disk. Twice: with
# sync points that are txg syncs (no intent log; 30 states), and with the
# intent log (--zil: sync points are log commits with copied and indirect
# write records, replayed by the read-write mount; 24 states).
# ZFUSE_POWERCUT_SEED replays a run's workloads and states;
# ZFUSE_POWERCUT_STATES changes how many of each (--full: 10000, by hand).
set -uo pipefail
ZFUSE=$1 WALK=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require zdb root fuse
seed=${ZFUSE_POWERCUT_SEED:-$((RANDOM * 32768 + RANDOM))}
rc=0
echo "== txg syncs"
python3 "$here/../crash/powercut.py" --states "${ZFUSE_POWERCUT_STATES:-30}" \
	--seed "$seed" --zdb 6 "$ZFUSE" "$WALK" || rc=1
echo "== intent log"
python3 "$here/../crash/powercut.py" --zil --states "${ZFUSE_POWERCUT_STATES:-24}" \
	--seed "$seed" --zdb 6 "$ZFUSE" "$WALK" || rc=1
exit $rc
