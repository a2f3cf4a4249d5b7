#!/usr/bin/env python3
"""Counts test cases in meson's testlog.json and prints 'N passed, N failed'.

A TAP test contributes one count per 'ok'/'not ok' line; a test that printed
no TAP lines (or crashed before any) counts as one, passed or failed by its
meson result. A skipped TAP case counts as skipped, never as passed.

Several logs (the suite's, then the sanitizer run's: tools/run-tests.sh) are
added up into the one line; LABEL=PATH names a log's failures "LABEL:test"."""
import json
import re
import sys

TAP = re.compile(r"^(not ok|ok)\b(.*)$")

def main(args):
    passed = failed = skipped = 0
    failures = []
    logs = []
    for arg in args:
        label, sep, path = arg.partition("=")
        if not sep:
            label, path = "", arg
        try:
            logs.append((label, open(path, encoding="utf-8", errors="replace").read().splitlines()))
        except OSError as e:
            print(f"cannot read {path}: {e}")
            print("0 passed, 1 failed")
            return 1
    for label, line in ((l, line) for l, lines in logs for line in lines):
        if not line.strip():
            continue
        t = json.loads(line)
        if label:
            t["name"] = label + ":" + t.get("name", "?")
        result = t.get("result", "")
        out = t.get("stdout") or ""
        cases = [TAP.match(l.strip()) for l in out.splitlines()]
        cases = [c for c in cases if c]
        ok_result = result in ("OK", "EXPECTEDFAIL")
        if result == "SKIP" and not cases:
            skipped += 1
            continue
        if not cases:
            if ok_result:
                passed += 1
            else:
                failed += 1
                failures.append(t.get("name", "?"))
            continue
        for c in cases:
            rest = c.group(2)
            if "# SKIP" in rest.upper():
                skipped += 1
            elif c.group(1) == "ok":
                passed += 1
            else:
                failed += 1
                failures.append(f"{t.get('name','?')}:{rest.strip()}")
        if not ok_result and all(c.group(1) == "ok" for c in cases):
            # crashed or exited non-zero after its last reported case
            failed += 1
            failures.append(f"{t.get('name','?')} ({result})")
    for f in failures:
        print(f"FAILED: {f}")
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 1 if failed or passed == 0 else 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
