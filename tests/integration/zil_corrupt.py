#!/usr/bin/env python3
# SPDX-License-Identifier: CDDL-1.0
"""zil_corrupt.py IMAGE INSPECT_JSON MODE SEQ — damage the intent log of a
single-device pool image for the replay tests. INSPECT_JSON is
`zfuse inspect --json IMAGE zil DATASET` of the undamaged image. The log
block holding record SEQ is changed:
  flip    a byte of the record, checksum left stale: the block no longer
          verifies, so the chain ends before it
  reclen  the record's length made impossible (checksum recomputed)
  doid    the record's directory (offset 32) made an object that does not
          exist (checksum recomputed)
  type    the record's type made 30, unknown to OpenZFS 2.3 (checksum
          recomputed)
Prints the sequence number of the block it changed and of that block's
first record."""
import json
import re
import struct
import sys

LABEL_START = 4 << 20


def fletcher4(data):
    a = b = c = d = 0
    m = (1 << 64) - 1
    for (w,) in struct.iter_unpack('<I', data):
        a = (a + w) & m
        b = (b + a) & m
        c = (c + b) & m
        d = (d + c) & m
    return a, b, c, d


def main():
    img, js, mode, seq = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    doc = json.load(open(js))
    with open(img, 'r+b') as f:
        for blk in doc['blocks']:
            m = re.search(r'DVA\[0\]=<0:([0-9a-f]+):([0-9a-f]+)>', blk['blkptr'])
            ck = re.search(r'cksum=([0-9a-f]+):([0-9a-f]+):([0-9a-f]+):([0-9a-f]+)', blk['blkptr'])
            if not m or not ck or blk['state'] != 'written':
                continue
            off, size = int(m.group(1), 16), int(m.group(2), 16)
            verifier = [int(x, 16) for x in ck.groups()]
            f.seek(LABEL_START + off)
            b = bytearray(f.read(size))
            nused = struct.unpack_from('<Q', b, 136)[0]
            p = 184
            first = struct.unpack_from('<Q', b, p + 24)[0] if nused > p else 0
            while p + 32 <= nused:
                txtype, reclen, _txg, rseq = struct.unpack_from('<4Q', b, p)
                if rseq == seq:
                    break
                p += reclen
            else:
                continue
            if mode == 'flip':
                b[p + 32] ^= 0xff
            else:
                if mode == 'reclen':
                    struct.pack_into('<Q', b, p + 8, 1 << 40)
                elif mode == 'doid':
                    struct.pack_into('<Q', b, p + 32, 999999)
                elif mode == 'type':
                    struct.pack_into('<Q', b, p, 30)
                n = (nused + 4095) & ~4095
                struct.pack_into('<4Q', b, 152, *verifier)
                struct.pack_into('<4Q', b, 152, *fletcher4(bytes(b[:n])))
            f.seek(LABEL_START + off)
            f.write(b)
            print(verifier[3], first)
            return 0
    print('record %d not found' % seq, file=sys.stderr)
    return 1


if __name__ == '__main__':
    sys.exit(main())
