#!/usr/bin/env python3
# SPDX-License-Identifier: CDDL-1.0
"""zdb-agree.py ZFUSE FIXTURE — `zfuse inspect` must agree with OpenZFS's
zdb 2.3.2 on a fixture pool: block counts and sizes (`zdb -b`, incl. "no
leaks"), objects per dataset (`zdb -d`), label fields (`zdb -l`) and the
active uberblock's txg (`zdb -uuu`)."""
import json, os, re, shutil, subprocess, sys

zfuse, fx = sys.argv[1], sys.argv[2]
here = os.path.dirname(os.path.abspath(__file__))
shared = os.environ.get('ZFUSE_SHARED') or os.path.join(here, '..', '..', '..', 'shared')
cache = subprocess.run(['bash', '-c', f'. "{here}/lib.sh"; unpack {fx}'], env=dict(os.environ, ZFUSE_SHARED=shared),
                       capture_output=True, text=True, check=True).stdout.strip()
imgs = sorted(os.path.join(cache, f) for f in os.listdir(cache) if f.endswith('.img'))
if not shutil.which('zdb'):
    print('FAIL: zdb is not installed (contrib/install-deps.sh installs zfsutils-linux)')
    sys.exit(1)
fail = 0

def check(label, ours, theirs):
    global fail
    if ours == theirs:
        print(f'ok: {fx}: {label}: {ours}')
    else:
        print(f'not ok: {fx}: {label}: zfuse {ours} != zdb {theirs}')
        fail = 1

def inspect(*args):
    r = subprocess.run([zfuse, 'inspect', '--json', *imgs, *args], capture_output=True, text=True)
    if not r.stdout.strip():
        raise RuntimeError(f'inspect {args}: {r.stderr}')
    return json.loads(r.stdout)

def zdb(*args):
    return subprocess.run(['zdb', '-e', '-p', cache, *args], capture_output=True, text=True,
                          cwd='/tmp', timeout=600).stdout

pool = inspect('pool')['name']

# zdb -b: block totals and leak check
out = zdb('-b', pool)
v = inspect('verify')
want = {k: int(re.search(rf'bp {k}:\s+(\d+)', out).group(1)) for k in ('count', 'logical', 'physical', 'allocated')}
check('bp count', v['blocks'], want['count'])
check('bp logical', v['lsize'], want['logical'])
check('bp physical', v['psize'], want['physical'])
check('bp allocated', v['asize'], want['allocated'])
check('leaks', v['space_leaked'] == 0 and v['checksum_errors'] == 0, 'No leaks' in out)

# zdb -dd: objects per dataset (the rows it lists; its header's count is
# the root bp's fill, which zfs-fuse did not keep exact)
out = zdb('-dd', pool)
sections = re.split(r'^Dataset ', out, flags=re.M)[1:]
for sec in sections:
    name = sec.split()[0]
    if '$' in name:
        continue
    theirs = {int(l.split()[0]) for l in sec.splitlines() if re.match(r'^\s+\d+\s+\d+\s', l)}
    ours = {r['object'] for r in inspect('objects', name)['objects']}
    extra = ours - theirs
    if extra and name == 'mos':
        # zdb finds objects through the meta-dnode's fill counts; zfs-fuse
        # left them stale, hiding live objects from zdb. An extra object is
        # accepted only when it is provably live: a metaslab's space map.
        live = {m['spacemap'] for v in inspect('pool')['vdev_tree'] for m in v.get('metaslabs', [])}
        proven = extra & live
        if proven:
            print(f'note: {fx}: zdb does not list live space maps {sorted(proven)} of the MOS')
        extra -= proven
    check(f'objects in {name}', (len(ours & theirs), sorted(extra)), (len(theirs), []))

# zdb -l: label fields of every device
for img in imgs:
    out = subprocess.run(['zdb', '-l', img], capture_output=True, text=True).stdout
    ours = subprocess.run([zfuse, 'inspect', '--json', img, 'labels'], capture_output=True, text=True)
    cfg = json.loads(ours.stdout)['devices'][0]['labels'][0]['config']
    for key in ('txg', 'pool_guid', 'guid', 'version'):
        m = re.search(rf'^\s+{key}: (\d+)', out, re.M)
        check(f'{os.path.basename(img)} label {key}', cfg.get(key), int(m.group(1)) if m else None)
    m = re.search(r"^\s+name: '([^']*)'", out, re.M)
    check(f'{os.path.basename(img)} label name', cfg.get('name'), m.group(1) if m else None)

# zdb -uuu: active uberblock
out = zdb('-uuu', pool)
m = re.search(r'txg = (\d+)', out)
check('active txg', inspect('uberblocks')['active_txg'], int(m.group(1)))
sys.exit(fail)
