#!/usr/bin/env python3
"""Summarises a massif.out of the gateway holding N sessions (bench/profile.sh).

Usage: massif-summary.py MASSIF_OUT N BASELINE_MS STEADY_MS [TOP]

BASELINE_MS: massif time (ms since the gateway started) before the first
session; STEADY_MS: a time while all N sessions run. Prints the heap (and
stacks, when massif measured them) at both, the difference per session, and
which libraries own the difference: each allocation is charged to the first
frame of its stack outside the allocators (libc, GLib, GObject, GStreamer
core), so a GObject instance made by webrtcbin counts for webrtcbin's
plugin, a libnice buffer for libnice."""
import re
import sys

# Frames that only pass an allocation through.
PASS_THROUGH = ("libc.so", "libglib-2.0", "libgobject-2.0", "libgstreamer-1.0", "libgstbase-1.0",
                "ld-linux", "vgpreload_massif", "libstdc++", "libgstapp-1.0", "libgstaudio-1.0",
                "libgstrtp-1.0")
NODE = re.compile(r"^( *)n(\d+): (\d+) (.*)$")


def parse(path):
    snapshots, cur, stack = [], None, []
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("snapshot="):
            cur = {"tree": None}
            snapshots.append(cur)
            stack = []
            continue
        if cur is None:
            continue
        for key in ("time", "mem_heap_B", "mem_heap_extra_B", "mem_stacks_B"):
            if line.startswith(key + "="):
                cur[key] = int(line.split("=", 1)[1])
        m = NODE.match(line)
        if m:
            depth = len(m.group(1))
            node = {"bytes": int(m.group(3)), "desc": m.group(4), "children": []}
            del stack[depth:]
            if stack:
                stack[-1]["children"].append(node)
            else:
                cur["tree"] = node
            stack.append(node)
    return snapshots


def lib_of(desc):
    m = re.search(r"\(in ([^)]+)\)", desc)
    if m:
        return m.group(1).rsplit("/", 1)[-1]
    if "below massif's threshold" in desc:
        return "(small allocations)"
    return "(unknown)"


def func_of(desc):
    m = re.match(r"0x[0-9A-F]+: (\S+)", desc, re.I)
    return m.group(1) if m else desc[:40]


def charge(node, owners, top=False):
    if top:  # the root: "(heap allocation functions) malloc/new/..."
        for c in node["children"]:
            charge(c, owners)
        return
    lib = lib_of(node["desc"])
    passing = any(p in lib for p in PASS_THROUGH)
    if passing and node["children"]:
        below = sum(c["bytes"] for c in node["children"])
        for c in node["children"]:
            charge(c, owners)
        if node["bytes"] > below:  # the part massif did not split further
            key = (lib, func_of(node["desc"]))
            owners[key] = owners.get(key, 0) + node["bytes"] - below
        return
    key = (lib, "" if not passing else func_of(node["desc"]))
    owners[key] = owners.get(key, 0) + node["bytes"]


def nearest_detailed(snapshots, t, before=True):
    cands = [s for s in snapshots if s["tree"] is not None and s["tree"]["children"]
             and ((s["time"] <= t) if before else True)]
    if not cands:
        return None
    return min(cands, key=lambda s: abs(s["time"] - t))


def main():
    path, n, base_ms, steady_ms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    top = int(sys.argv[5]) if len(sys.argv) > 5 else 20
    snaps = parse(path)
    if not snaps:
        print("no snapshots")
        return
    before = [x for x in snaps if x.get("time", 0) <= base_ms]
    b = before[-1] if before else snaps[0]
    s = min(snaps, key=lambda x: abs(x.get("time", 0) - steady_ms))
    heap = lambda x: x.get("mem_heap_B", 0) + x.get("mem_heap_extra_B", 0)
    peak = max(snaps, key=heap)
    print(f"heap (with malloc's overhead) before the sessions ({b['time']} ms): "
          f"{heap(b) / 1048576:.2f} MiB; with {n} sessions ({s['time']} ms): "
          f"{heap(s) / 1048576:.2f} MiB; peak {heap(peak) / 1048576:.2f} MiB at {peak['time']} ms")
    print(f"per session: {(heap(s) - heap(b)) / n / 1024:.0f} KiB of heap "
          f"(malloc's overhead {(s.get('mem_heap_extra_B', 0) - b.get('mem_heap_extra_B', 0)) / n / 1024:.0f} KiB of it)")
    db, ds = nearest_detailed(snaps, base_ms), nearest_detailed(snaps, steady_ms, before=False)
    if not ds:
        print("no detailed snapshot to attribute")
        return
    ob, os_ = {}, {}
    if db and db is not ds:
        charge(db["tree"], ob, top=True)
    charge(ds["tree"], os_, top=True)
    diff = {k: os_.get(k, 0) - ob.get(k, 0) for k in set(os_) | set(ob)}
    total = sum(v for v in diff.values() if v > 0) or 1
    by_lib = {}
    for (lib, _), v in diff.items():
        by_lib[lib] = by_lib.get(lib, 0) + v
    print(f"\nowners of the heap added by the sessions (detailed snapshots at "
          f"{db['time'] if db else '-'} and {ds['time']} ms), KiB per session:\n")
    print("| library | KiB / session | share |")
    print("|---|---|---|")
    for lib, v in sorted(by_lib.items(), key=lambda kv: -kv[1])[:top]:
        if v <= 0:
            continue
        print(f"| {lib} | {v / n / 1024:.1f} | {100 * v / total:.0f} % |")
    # What stayed with an allocator (its caller was below massif's threshold).
    kept = [(k, v) for k, v in diff.items() if k[1] and v > 0]
    if kept:
        print("\ncharged to an allocator (callers below massif's threshold), KiB per session:\n")
        for (lib, fn), v in sorted(kept, key=lambda kv: -kv[1])[:top]:
            print(f"    {v / n / 1024:8.1f}  {lib} {fn}")


if __name__ == "__main__":
    main()
