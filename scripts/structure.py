#!/usr/bin/env python3
"""scripts/structure.py BUILD_DIR [--graph] — the shape of the tree, read off the build.

Who calls whom is read from the object files the build made (`nm`: a file's
undefined symbols resolved against every other file's defined ones, so a
call through a macro or an inline wrapper counts, a call through a function
pointer does not); who includes whom from the `#include "..."` lines. Only
the program's own sources count (common/ cache/ protocols/ fs/ migrate/
mount-helpers/ lib/), never tests/.

It reports, and exits 1 if it finds any of:
  - file circles: files whose functions call each other, directly or round a
    loop (strongly connected components of the file call graph);
  - folder circles: sibling folders (fs/ops, fs/io, protocols/s3 ...) whose
    files call each other's, round a loop;
  - arrows back up: a call or an include from a lower layer to a higher one.
    The layers, top first: mount-helpers/ -> migrate/ -> fs/ -> cache/ ->
    protocols/ -> common/; lib/ (libunifs, the client library) stands apart
    and may use only itself and the wire header it shares with fs/direct/.

--graph prints the folder-level arrows (how many calls each) for the
architecture note's picture.
"""
import collections
import os
import re
import subprocess
import sys

LAYERS = ["mount-helpers", "migrate", "fs", "cache", "protocols", "common"]
OWN = set(LAYERS) | {"lib"}
# lib/ is the client library: the one header it shares with the daemon's
# direct-path server is the wire format, which the server includes.
SHARED_WIRE = {"lib/direct_wire.h"}


def top(path):
    return path.split("/", 1)[0]


def folder(path):
    return os.path.dirname(path)


def rank(path):
    t = top(path)
    return LAYERS.index(t) if t in LAYERS else None


def objects(build, root):
    """Map each own source file to one of its object files under BUILD (an
    object whose source is gone, left by an earlier layout, is skipped)."""
    found = {}
    for d, _, files in os.walk(build):
        if ".dir" not in d:
            continue
        for f in files:
            if not f.endswith(".c.o"):
                continue
            p = os.path.join(d, f)
            src = p.split(".dir/", 1)[1][: -len(".o")]
            if top(src) in OWN and os.path.exists(os.path.join(root, src)):
                found.setdefault(src, p)
    return found


def symbols(obj):
    out = subprocess.run(["nm", "-P", obj], check=True, capture_output=True, text=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind == "U":
            undefined.add(name)
        elif kind in "TDBRGSV":  # global text, data, bss, read-only
            defined.add(name)
    return defined, undefined


def call_graph(objs):
    defs, undefs = {}, {}
    owner = {}
    for src, obj in sorted(objs.items()):
        d, u = symbols(obj)
        defs[src], undefs[src] = d, u
        for s in d:
            owner.setdefault(s, src)
    edges = collections.defaultdict(lambda: collections.Counter())
    for src, u in undefs.items():
        for s in u:
            dst = owner.get(s)
            if dst and dst != src:
                edges[src][dst] += 1
    return edges


def include_graph(root, files):
    edges = collections.defaultdict(set)
    pat = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
    for t in OWN:
        for d, _, names in os.walk(os.path.join(root, t)):
            for n in names:
                if not n.endswith((".c", ".h")):
                    continue
                p = os.path.relpath(os.path.join(d, n), root)
                text = open(os.path.join(root, p), encoding="utf-8", errors="replace").read()
                for inc in pat.findall(text):
                    cand = [inc, os.path.normpath(os.path.join(folder(p), inc))]
                    for c in cand:
                        if os.path.exists(os.path.join(root, c)) and top(c) in OWN:
                            edges[p].add(c)
                            break
    return edges


def sccs(nodes, succ):
    """Tarjan's strongly connected components with more than one member."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        work = [(v, iter(sorted(succ.get(v, ()))))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        while work:
            node, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(succ.get(w, ())))))
                    advanced = True
                    break
                if w in on:
                    low[node] = min(low[node], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def upward(a, b):
    """True when an arrow a -> b runs against the layers."""
    if a in SHARED_WIRE or b in SHARED_WIRE:
        return False
    ta, tb = top(a), top(b)
    if ta == "lib" or tb == "lib":
        return ta != tb
    ra, rb = rank(a), rank(b)
    return ra is not None and rb is not None and rb < ra


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        sys.exit("usage: scripts/structure.py BUILD_DIR [--graph]")
    build = args[0]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    objs = objects(build, root)
    if not objs:
        sys.exit(f"structure.py: no object files of the program under {build} (build it first)")
    calls = call_graph(objs)
    incs = include_graph(root, objs)
    problems = 0

    for comp in sccs(set(objs), calls):
        problems += 1
        print("file circle: " + " <-> ".join(comp))
        for a in comp:
            for b in sorted(calls[a]):
                if b in comp:
                    print(f"    {a} -> {b} ({calls[a][b]} symbols)")

    # A parent folder may hold both what sits above its subfolders (the
    # protocols registry) and what they share below them (protocols/http
    # helpers), so arrows between a folder and its own ancestors are left out.
    fcalls = collections.defaultdict(collections.Counter)
    for a, outs in calls.items():
        for b, n in outs.items():
            fa, fb = folder(a), folder(b)
            if fa != fb and not (fa + "/").startswith(fb + "/") and not (fb + "/").startswith(fa + "/"):
                fcalls[fa][fb] += n
    for comp in sccs(set(fcalls) | {d for o in fcalls.values() for d in o}, fcalls):
        problems += 1
        print("folder circle: " + " <-> ".join(comp))
        for a, outs in sorted(calls.items()):
            for b in sorted(outs):
                if folder(a) in comp and folder(b) in comp and folder(a) != folder(b):
                    print(f"    {a} -> {b}")

    for a, outs in sorted(calls.items()):
        for b in sorted(outs):
            if upward(a, b):
                problems += 1
                print(f"call back up: {a} -> {b}")
    for a, outs in sorted(incs.items()):
        for b in sorted(outs):
            if upward(a, b):
                problems += 1
                print(f"include back up: {a} -> {b}")

    if "--graph" in sys.argv:
        for a in sorted(fcalls):
            for b, n in sorted(fcalls[a].items()):
                print(f"  {a} -> {b}  ({n})")
    narrows = sum(len(v) for v in calls.values())
    print(f"structure: {len(objs)} files, {narrows} file arrows, {problems} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
