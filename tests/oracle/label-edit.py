#!/usr/bin/env python3
# SPDX-License-Identifier: CDDL-1.0
"""label-edit.py IMAGE version N [ASHIFT] | IMAGE hide NAME — edit the
labels of a little-endian pool image the way older or odder pools have
them, with every SHA-256 trailer (verifier: the region's offset)
recomputed:
  version N    the version in every label's config and every uberblock
               (a pool OpenZFS does not support, as its zfs-pool-v999 is);
  hide NAME    the config pair NAME renamed (last letter changed) so that
               readers do not find it, as in labels written before NAME
               existed (vdev_children: pool versions before about 11)."""
import hashlib, os, struct, sys

img, op, arg = sys.argv[1], sys.argv[2], sys.argv[3]
version = int(arg) if op == 'version' else None
ashift = int(sys.argv[4]) if len(sys.argv) > 4 else 9
L, PHYS_OFF, PHYS_SIZE, RING_OFF, RING_SIZE = 256 << 10, 16 << 10, 112 << 10, 128 << 10, 128 << 10
ZEC_MAGIC, UB_MAGIC = 0x0210da7ab10c7a11, 0x00bab10c

def reseal(buf, off):
    """Recompute the zio_eck_t trailer of region buf that lives at device offset off."""
    b = bytearray(buf)
    assert struct.unpack_from('<Q', b, len(b) - 40)[0] == ZEC_MAGIC
    struct.pack_into('<4Q', b, len(b) - 32, off, 0, 0, 0)
    d = hashlib.sha256(b).digest()
    words = [int.from_bytes(d[i:i + 8], 'big') for i in range(0, 32, 8)]
    struct.pack_into('<4Q', b, len(b) - 32, *words)
    return bytes(b)

size = os.path.getsize(img)
with open(img, 'r+b') as f:
    for l in range(4):
        base = l * L if l < 2 else size - (4 - l) * L
        f.seek(base + PHYS_OFF)
        phys = bytearray(f.read(PHYS_SIZE))
        if op == 'hide':
            name = arg.encode()
            key = struct.pack('>I', len(name)) + name
            i = phys.find(key)
            assert i >= 0, 'no %s pair in label %d' % (arg, l)
            phys[i + len(key) - 1] ^= 0x20
        else:
            key = struct.pack('>I', 7) + b'version\0' + struct.pack('>II', 8, 1)
            i = phys.find(key)
            assert i >= 0, 'no version pair in label %d' % l
            struct.pack_into('>Q', phys, i + len(key), version)
        f.seek(base + PHYS_OFF)
        f.write(reseal(phys, base + PHYS_OFF))
        if op == 'hide':
            continue
        slot = 1 << max(ashift, 10)
        for s in range(RING_SIZE // slot):
            off = base + RING_OFF + s * slot
            f.seek(off)
            ub = bytearray(f.read(slot))
            if struct.unpack_from('<Q', ub, 0)[0] != UB_MAGIC:
                continue
            struct.pack_into('<Q', ub, 8, version)
            f.seek(off)
            f.write(reseal(ub, off))
