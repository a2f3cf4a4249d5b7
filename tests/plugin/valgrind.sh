#!/usr/bin/env bash
# tests/plugin/valgrind.sh BUILD_DIR [TEST...]: runs the plugin tests once
# under valgrind memcheck (slow: not part of `meson test`). Timing assertions
# may fail under valgrind; what matters here are the memcheck findings.
set -uo pipefail
build=$(cd "${1:-build}" && pwd); shift || true
src=$(cd "$(dirname "$0")/../.." && pwd)
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(test-realtime-server test-vgagent test-echoagent test-openairealtime)
export GST_PLUGIN_PATH="$build/plugins" GST_REGISTRY="$build/valgrind-gst-registry.bin"
# libproxy throws C++ exceptions on a GIO thread that confuse memcheck.
export G_SLICE=always-malloc G_DEBUG=gc-friendly GIO_USE_PROXY_RESOLVER=dummy
gst-inspect-1.0 voxgate >/dev/null # registry outside valgrind
for t in "${tests[@]}"; do
  echo "== valgrind $t" >&2
  valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \
    --errors-for-leak-kinds=definite --num-callers=30 \
    --suppressions=/usr/share/glib-2.0/valgrind/glib.supp \
    --suppressions="$src/tests/plugin/valgrind.supp" \
    "$build/tests/plugin/$t" 2>&1 | grep -E "^(ok|not ok|Bail)|ERROR SUMMARY|definitely lost|Invalid|uninitialised|by 0x|at 0x" | head -150
done
