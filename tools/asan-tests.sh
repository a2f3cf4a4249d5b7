#!/usr/bin/env bash
# The C tests of the suites unit, plugin, rooms, store and cache under
# AddressSanitizer + LeakSanitizer + UndefinedBehaviorSanitizer
# (docs/RELIABILITY.md, "Sanitizers"); `make test` runs it after the suite.
#   tools/asan-tests.sh [DIR]   configure DIR (default build-asan) if needed, build, run
#   ASAN_ALL=1 tools/asan-tests.sh   also the real-time media tests (an idle machine)
# A leak, an ASan report or any UBSan report fails the test that caused it.
# The only suppressions are tools/lsan.supp's (process-lifetime allocations of
# GLib and GStreamer, each documented there). Test programs only: the shell
# and Python tests of those suites drive other programs (gst-launch, Python,
# a browser) that cannot load instrumented code, and run in the main build.
# meson's testlog is DIR/meson-logs/testlog.json (tools/summarize-tests.py).
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
dir=$(realpath -m "${1:-build-asan}")
suites=(unit plugin rooms store cache)

if [ ! -f "$dir/build.ninja" ]; then
  log=$(mktemp)
  meson setup "$dir" "$src" -Db_sanitize=address,undefined -Db_lundef=false >"$log" 2>&1 || {
    cat "$log" >&2
    rm -f "$log"
    exit 1
  }
  rm -f "$log"
fi
ninja -C "$dir" >/dev/null || ninja -C "$dir" || exit 1

# Left out unless ASAN_ALL=1: tests whose assertions are real-time bounds on
# live media (audio gaps, a tone's frequency, a recording's length, a state
# reached within seconds through webrtcbin and the Realtime server). Under the
# sanitizers' slowdown on 2 shared cores they failed on those bounds, with no
# sanitizer report (docs/RELIABILITY.md, "Sanitizers"); they run in the main
# build. The rest of those suites' programs run here. rooms-shared-ice (70
# webrtcbin pairs connecting within a deadline) and room-graph (a fatal
# GStreamer warning from its test sources' timing) failed the same way in
# the first CI run that had them.
realtime=(plugin-recording rooms-media rooms-whip rooms-media-stats rooms-rules rooms-tutor rooms-ice-network
  rooms-recording rooms-tutor-greet rooms-tutor-tools rooms-shared-ice room-graph)
[ "${ASAN_ALL:-0}" = 1 ] && realtime=()

# The C test programs of those suites: meson's own list, without scripts;
# and the registries they use (GST_REGISTRY, GST_PLUGIN_PATH of each).
sel=$(mktemp)
meson introspect "$dir" --tests | python3 -c '
import json, os, sys
suites, skip = sys.argv[1].split(), set(sys.argv[2].split())
want = {"voxgate:" + s for s in suites}
regs = set()
for t in json.load(sys.stdin):
    exe = t["cmd"][0]
    if t["name"] in skip or not want & set(t["suite"]):
        continue
    if not exe.endswith((".sh", ".py")) and os.path.isfile(exe):
        with open(exe, "rb") as f:
            if f.read(4) == b"\x7fELF":
                print("test\t" + t["name"])
                env = t.get("env") or {}
                if env.get("GST_REGISTRY"):
                    regs.add((env["GST_REGISTRY"], env.get("GST_PLUGIN_PATH", "")))
for reg, path in sorted(regs):
    print("registry\t%s\t%s" % (reg, path))
' "${suites[*]}" "${realtime[*]}" >"$sel"
mapfile -t names < <(awk -F '\t' '$1 == "test" { print $2 }' "$sel")
[ ${#names[@]} -gt 0 ] || { echo "asan-tests: no test found in $dir" >&2; exit 1; }

# The GStreamer registry, built once before the tests, in a process with the
# ASan runtime preloaded (gst-plugin-scanner has none, and would blacklist the
# instrumented plugin) and leak checks off: scanning loads every plugin on the
# machine, whose load-time allocations are not the tests' (about 30 KiB from
# libgstinter, OpenNI2 drivers, fontconfig...). The tests then load only the
# plugins they use.
asan_rt=$(gcc -print-file-name=libasan.so)
while IFS=$'\t' read -r kind reg path; do
  [ "$kind" = registry ] || continue
  LD_PRELOAD=$asan_rt ASAN_OPTIONS=detect_leaks=0 GST_REGISTRY_FORK=no GST_REGISTRY="$reg" \
    GST_PLUGIN_PATH="$path" gst-inspect-1.0 >/dev/null \
    || { echo "asan-tests: the registry scan of $reg failed" >&2; exit 1; }
done <"$sel"
rm -f "$sel"

# fast_unwind_on_malloc=0: full stacks through GLib and GStreamer (built
# without frame pointers), which the suppressions match on.
# GST_REGISTRY_FORK=no: the registry scan loads the instrumented plugin in the
# test process, not in gst-plugin-scanner, which has no ASan runtime.
# G_SLICE=always-malloc: GLib's slice allocator would hide leaked slices.
ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0:halt_on_error=1:abort_on_error=0:print_summary=1 \
  LSAN_OPTIONS=suppressions=$src/tools/lsan.supp:print_suppressions=0 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:print_summary=1 \
  GST_REGISTRY_FORK=no G_SLICE=always-malloc \
  meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 2 --timeout-multiplier 2 \
  "${names[@]}"
