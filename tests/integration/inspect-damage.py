#!/usr/bin/env python3
# SPDX-License-Identifier: CDDL-1.0
"""inspect-damage.py ZFUSE — damaged copies of fixture pools: the inspector
must report the damage where it is and recover the rest.
  * newest uberblock destroyed: uberblocks shows it invalid, the pool opens
    at the txg before, verify is clean there;
  * one copy of a MOS block: verify reports exactly one bad copy, in the MOS,
    repaired from the ditto copy;
  * both copies of a directory's ZAP: verify names the directory's path as
    unrecoverable; extract still copies every other file intact;
  * every copy of the newest MOS root: import fails, --rewind opens the
    previous txg and verify is clean there;
  * one RAID-Z1 device with scattered damage: every block still verifies,
    repairs are counted and attributed to that device only."""
import hashlib, json, os, re, shutil, subprocess, sys, tempfile

zfuse = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
shared = os.environ.get('ZFUSE_SHARED') or os.path.join(here, '..', '..', '..', 'shared')
fail = 0

def unpack(fx):
    return subprocess.run(['bash', '-c', f'. "{here}/lib.sh"; unpack {fx}'],
                          env=dict(os.environ, ZFUSE_SHARED=shared), capture_output=True, text=True,
                          check=True).stdout.strip()

def ok(cond, what):
    global fail
    print(('ok: ' if cond else 'not ok: ') + what)
    if not cond:
        fail = 1

def inspect(imgs, *args):
    r = subprocess.run([zfuse, 'inspect', '--json', *imgs, *args], capture_output=True, text=True,
                       timeout=300)
    try:
        doc = json.loads(r.stdout) if r.stdout.strip() else None
    except json.JSONDecodeError:
        doc = None
    return r.returncode, doc, r.stderr

def corrupt(img, *args):
    subprocess.run([sys.executable, os.path.join(here, 'corrupt.py'), img, *args], check=True,
                   capture_output=True)

work = tempfile.mkdtemp()
try:
    basic = os.path.join(unpack('basic'), 'basic.img')
    def fresh():
        p = os.path.join(work, 'basic.img')
        subprocess.run(['cp', '--sparse=always', basic, p], check=True)
        return [p]

    # 1. newest uberblock
    imgs = fresh()
    rc, pool, _ = inspect(imgs, 'pool')
    newest = pool['txg']
    corrupt(imgs[0], 'newest-ub')
    rc, ubs, _ = inspect(imgs, 'uberblocks')
    bad = [u for d in ubs['devices'] for u in d['uberblocks'] if not u['checksum_valid']]
    ok(len(bad) == 4, f'newest uberblock: 4 damaged slots reported ({len(bad)})')
    ok(ubs['active_txg'] < newest, f'newest uberblock: opens at txg {ubs["active_txg"]} < {newest}')
    rc, v, _ = inspect(imgs, 'verify')
    ok(rc == 0 and v['space_leaked'] == 0, 'newest uberblock: verify clean at the older txg')

    # 2. one copy of a MOS block
    imgs = fresh()
    corrupt(imgs[0], 'mos-dva0')
    rc, v, _ = inspect(imgs, 'verify')
    ok(rc == 1 and v['checksum_errors'] == 1 and v['unrecoverable'] == 0,
       f'MOS copy: one bad copy, none lost (errors {v["checksum_errors"]}, lost {v["unrecoverable"]})')
    ok(len(v['damage']) == 1 and v['damage'][0]['dataset'] == 'mos', 'MOS copy: damage located in the MOS')

    # 3. both copies of a directory's ZAP
    imgs = fresh()
    rc, obj, _ = inspect(imgs, 'object', 'basic', '/many', '-v')
    offs = re.findall(r'DVA\[\d\]=<0:([0-9a-f]+):', obj['blocks'][0]['bp'])
    corrupt(imgs[0], 'dva', *offs)
    rc, v, _ = inspect(imgs, 'verify')
    lost = [d for d in v['damage'] if d['unrecoverable']]
    ok(rc == 1 and len(lost) == 1 and lost[0].get('path') == '/many',
       f'directory ZAP: reported as {[(d["dataset"], d["object"], d.get("path")) for d in lost]}')
    dest = os.path.join(work, 'out')
    r = subprocess.run([zfuse, 'inspect', *imgs, 'extract', 'basic', '/', dest], capture_output=True, text=True)
    ok(r.returncode == 1 and 'many' in r.stderr, 'directory ZAP: extract reports the lost directory')
    manifest = open(os.path.join(shared, 'fixtures/basic/manifest.basic.tsv')).read().splitlines()
    files = [l.split('\t') for l in manifest if l.split('\t')[1:2] == ['f'] and not l.startswith('many/')]
    good = sum(1 for f in files if os.path.exists(os.path.join(dest, f[0])) and
               hashlib.sha256(open(os.path.join(dest, f[0]), 'rb').read()).hexdigest() == f[10])
    ok(good == len(files), f'directory ZAP: extract recovered {good}/{len(files)} other files intact')
    shutil.rmtree(dest, ignore_errors=True)

    # 4. every copy of the newest MOS root: rewind
    imgs = fresh()
    corrupt(imgs[0], 'mos-all')
    rc, _, err = inspect(imgs, 'pool')
    ok(rc == 1 and 'rewind' in err, 'MOS root lost: import refused with a hint')
    rc, v, err = inspect(imgs, '--rewind', 'verify')
    ok(rc == 0 and v['txg'] < newest, f'MOS root lost: --rewind opens txg {v and v["txg"]}, verify clean')

    # 5. one RAID-Z1 device damaged
    d = unpack('raidz1')
    rz = []
    for n in sorted(os.listdir(d)):
        if n.endswith('.img'):
            p = os.path.join(work, n)
            subprocess.run(['cp', '--sparse=always', os.path.join(d, n), p], check=True)
            rz.append(p)
    corrupt(rz[1], 'random', '2000', '5')
    rc, v, _ = inspect(rz, 'verify')
    errs = {os.path.basename(x['path']): x['checksum_errors'] for x in v['devices']}
    ok(v['unrecoverable'] == 0 and v['checksum_errors'] == 0 and v['repaired'] > 0,
       f'raidz1 device damage: {v["repaired"]} copies repaired, none lost')
    ok(errs[os.path.basename(rz[1])] > 0 and all(n == 0 for k, n in errs.items() if k != os.path.basename(rz[1])),
       f'raidz1 device damage attributed to the damaged device only: {errs}')
finally:
    shutil.rmtree(work, ignore_errors=True)
sys.exit(fail)
