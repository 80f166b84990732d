#!/usr/bin/env python3
# SPDX-License-Identifier: CDDL-1.0
"""corrupt.py IMAGE ACTION [ARGS] — damage a copy of a pool image in a
chosen place, for the bad-input tests. Prints what it changed.

Actions:
  labels-all         zero the config nvlist of all four labels
  label0             flip bytes in the config nvlist of label 0 only
  nvlist-garbage     overwrite label configs with garbage that keeps valid
                     checksums (exercises the nvlist decoder, not the checksum)
  newest-ub          corrupt every copy of the newest uberblock
  mos-dva0           corrupt the MOS objset block at DVA[0] of the active uberblock
  mos-all            corrupt every copy of the active MOS objset block
  dva VDEVOFF...     corrupt the blocks at these DVA byte offsets (hex)
  random N SEED      flip a byte in N random 4 KiB blocks of the allocatable area
"""
import hashlib, os, random, struct, sys

LABEL = 256 * 1024
ZEC_MAGIC = 0x0210da7ab10c7a11

def psize(f):
    return os.path.getsize(f) & ~(LABEL - 1)

def label_off(ps, l):
    return l * LABEL if l < 2 else ps - 4 * LABEL + l * LABEL

def rw(path):
    return open(path, 'r+b')

def uberblocks(path, ashift=12):
    ps = psize(path)
    shift = min(max(ashift, 10), 13)
    out = []
    with open(path, 'rb') as f:
        for l in range(4):
            for s in range((128 * 1024) >> shift):
                off = label_off(ps, l) + 0x20000 + (s << shift)
                f.seek(off)
                w = struct.unpack('<27Q', f.read(216))
                if w[0] == 0xbab10c:
                    out.append((w[2], off, w))
    return out

def fill_label_checksum(f, off, size):
    f.seek(off)
    buf = bytearray(f.read(size))
    buf[size - 40:size - 32] = struct.pack('<Q', ZEC_MAGIC)
    buf[size - 32:size] = struct.pack('<4Q', off, 0, 0, 0)
    d = hashlib.sha256(bytes(buf)).digest()
    words = struct.unpack('>4Q', d)
    buf[size - 32:size] = struct.pack('<4Q', *words)
    f.seek(off)
    f.write(buf)

def main():
    img, action = sys.argv[1], sys.argv[2]
    ps = psize(img)
    with rw(img) as f:
        if action == 'labels-all':
            for l in range(4):
                f.seek(label_off(ps, l) + 0x4000)
                f.write(b'\0' * (112 * 1024))
            print('zeroed 4 label configs')
        elif action == 'label0':
            f.seek(0x4000 + 100)
            f.write(b'\xff' * 64)
            print('damaged label 0 config')
        elif action == 'nvlist-garbage':
            rnd = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
            for l in range(4):
                off = label_off(ps, l) + 0x4000
                f.seek(off)
                buf = bytearray(f.read(112 * 1024))
                for _ in range(40):
                    i = rnd.randrange(4, 2048)
                    buf[i] = rnd.randrange(256)
                f.seek(off)
                f.write(buf)
                fill_label_checksum(f, off, 112 * 1024)
            print('garbled 4 label configs (valid checksums)')
        elif action == 'newest-ub':
            ubs = uberblocks(img)
            top = max(u[0] for u in ubs)
            n = 0
            for txg, off, _ in ubs:
                if txg == top:
                    f.seek(off + 40)
                    f.write(b'\xa5' * 16)
                    n += 1
            print(f'corrupted {n} copies of uberblock txg {top}')
        elif action == 'mos-dva0':
            ubs = uberblocks(img)
            txg, off, w = max(ubs)
            dva_w1 = w[5 + 1]
            offset = (dva_w1 & ((1 << 63) - 1)) << 9
            f.seek(4 * 1024 * 1024 + offset + 8)
            f.write(b'\x5a' * 32)
            print(f'corrupted MOS objset copy 0 at {offset:#x} (txg {txg})')
        elif action == 'mos-all':
            txg, off, w = max(uberblocks(img))
            for d in range(3):
                offset = (w[5 + 2 * d + 1] & ((1 << 63) - 1)) << 9
                if w[5 + 2 * d] & 0xffffff:
                    f.seek(4 * 1024 * 1024 + offset + 8)
                    f.write(b'\x5a' * 32)
            print(f'corrupted every copy of the MOS objset of txg {txg}')
        elif action == 'dva':
            for a in sys.argv[3:]:
                f.seek(4 * 1024 * 1024 + int(a, 16) + 16)
                f.write(b'\xa5' * 64)
            print(f'corrupted blocks at {sys.argv[3:]}')
        elif action == 'random':
            n, seed = int(sys.argv[3]), int(sys.argv[4])
            rnd = random.Random(seed)
            start, end = 4 * 1024 * 1024, ps - 512 * 1024
            for _ in range(n):
                off = start + rnd.randrange((end - start) // 4096) * 4096 + rnd.randrange(4096)
                f.seek(off)
                b = f.read(1)
                f.seek(off)
                f.write(bytes([b[0] ^ (1 << rnd.randrange(8))]))
            print(f'flipped {n} random bits (seed {seed})')
        else:
            sys.exit(f'unknown action {action}')

main()
