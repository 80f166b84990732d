#!/usr/bin/env python3
# SPDX-License-Identifier: CDDL-1.0
"""vol_crash_model.py DATA VOLSIZE OFF1 OFF2 FOFF FLEN — the sha256 of a
volume after `zfuse-vol crash VOL OFF1 OFF2 FOFF FLEN < DATA`: the first
MiB of DATA (what the tool reads), its first half at OFF1, its second half
at OFF2, then [FOFF, FOFF + FLEN) zeroed (the discard)."""
import hashlib
import sys

data_path, size, off1, off2, foff, flen = sys.argv[1], *map(int, sys.argv[2:7])
d = open(data_path, "rb").read()[:1 << 20]
h = len(d) // 2
vol = bytearray(size)
vol[off1:off1 + h] = d[:h]
vol[off2:off2 + len(d) - h] = d[h:]
vol[foff:foff + flen] = bytes(flen)
print(hashlib.sha256(vol).hexdigest())
