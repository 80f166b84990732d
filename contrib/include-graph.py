#!/usr/bin/env python3
# SPDX-License-Identifier: CDDL-1.0
"""Module include graph of src/: which modules depend on which, and the cycles.

A module is a file stem with its .c and .h taken together (spa.c + spa.h
= "spa"), because a .c including its own header is no dependency and a
cycle through a header is as binding as one through a source file.  Only
`#include "..."` lines count; system headers are not modules.

Usage: contrib/include-graph.py [SRC_DIR]     (default: src/ next to contrib/)
Prints the edges "a -> b", then each strongly connected component of more
than one module (an include cycle) with its members, then a summary line.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def modules(src):
    deps = {}
    for name in sorted(os.listdir(src)):
        stem, ext = os.path.splitext(name)
        if ext not in ('.c', '.h'):
            continue
        deps.setdefault(stem, set())
        with open(os.path.join(src, name), encoding='utf-8', errors='replace') as f:
            for line in f:
                m = INCLUDE.match(line)
                if not m:
                    continue
                target = os.path.splitext(os.path.basename(m.group(1)))[0]
                if target != stem and os.path.exists(os.path.join(src, m.group(1))):
                    deps[stem].add(target)
    for targets in list(deps.values()):
        for t in targets:
            deps.setdefault(t, set())
    return deps


def sccs(deps):
    """Tarjan's algorithm, iterative so deep graphs do not hit the recursion limit."""
    index, low, onstack, stack, out = {}, {}, set(), [], []
    counter = 0
    for root in sorted(deps):
        if root in index:
            continue
        work = [(root, iter(sorted(deps[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        onstack.add(root)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    onstack.add(w)
                    work.append((w, iter(sorted(deps[w]))))
                    advanced = True
                    break
                if w in onstack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    onstack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(sorted(comp))
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, '..', 'src')
    deps = modules(src)
    nedges = 0
    print('# edges (module -> module it includes)')
    for a in sorted(deps):
        for b in sorted(deps[a]):
            print(f'{a} -> {b}')
            nedges += 1
    cycles = sorted((c for c in sccs(deps) if len(c) > 1), key=lambda c: (-len(c), c))
    print('# cycles (strongly connected components)')
    for i, c in enumerate(cycles, 1):
        print(f'cycle {i} ({len(c)} modules): {" ".join(c)}')
        # the edges inside the cycle are the ones to cut
        for a in c:
            inner = sorted(b for b in deps[a] if b in c)
            print(f'    {a} -> {" ".join(inner)}')
    files = sum(1 for n in os.listdir(src) if n.endswith(('.c', '.h')))
    incycle = sum(len(c) for c in cycles)
    print(f'# summary: {len(deps)} modules ({files} files), {nedges} edges, '
          f'{len(cycles)} cycles, sizes {[len(c) for c in cycles]}, '
          f'{incycle} modules in cycles')


if __name__ == '__main__':
    main()
