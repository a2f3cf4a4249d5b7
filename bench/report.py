#!/usr/bin/env python3
"""Renders bench/results.json as the markdown report docs/BENCHMARKS.md."""
import json
import sys

def rows(obj, prefix=""):
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from rows(value, name + ".")
        else:
            yield name, value

r = json.load(open(sys.argv[1]))
print("# voxgate benchmarks\n")
print(f"Machine: {r['cores']} cores, {r['cpu']}. Commit `{r['commit']}`, run {r['date']}.")
print("Produced by `make bench` (bench/run.sh); numbers are this machine's, re-run to compare.\n")
for section, values in r["sections"].items():
    print(f"## {section}\n")
    print("| figure | value |\n|---|---|")
    for name, value in rows(values):
        print(f"| {name} | {value} |")
    print()
