#!/usr/bin/env bash
# Installs the Debian 12 packages voxgate needs, skipping those already present.
#   tools/install-deps.sh run     build and run the gateway
#   tools/install-deps.sh runtime only run an installed gateway (no compiler, no headers:
#                                 the container image's last stage, deploy/Dockerfile)
#   tools/install-deps.sh test    also what the test suite needs
#   tools/install-deps.sh bench   also what the benchmark needs
set -euo pipefail

profile=${1:-run}
run_pkgs=(meson ninja-build pkg-config gcc libglib2.0-dev libgstreamer1.0-dev
  libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev gstreamer1.0-plugins-base
  gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-nice gstreamer1.0-tools
  libsoup-3.0-dev libjson-glib-dev libssl-dev libhiredis-dev libpq-dev libsqlite3-dev libnice-dev)
# What the installed binary and plugin load (tests/deploy checks it against
# their shared libraries), and curl for the container's health check.
runtime_pkgs=(gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-nice libgstreamer-plugins-bad1.0-0 libsoup-3.0-0 libjson-glib-1.0-0 libhiredis0.14
  libpq5 libsqlite3-0 libnice10 libssl3 ca-certificates curl)
test_pkgs=(postgresql redis-server prometheus espeak-ng sox curl openssl valgrind python3 chromium
  python3-aiortc opus-tools docker-compose python3-yaml coturn jq
  clang-14 libclang-rt-14-dev) # clang's libFuzzer for tests/fuzz (tools/fuzz.sh)
bench_pkgs=(wrk linux-perf python3-numpy time python3-fastapi python3-uvicorn python3-jwt)

pkgs=("${run_pkgs[@]}")
case "$profile" in
  run) ;;
  runtime) pkgs=("${runtime_pkgs[@]}") ;;
  test) pkgs+=("${test_pkgs[@]}") ;;
  bench) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "usage: $0 run|runtime|test|bench" >&2; exit 2 ;;
esac
# Node.js is needed by the interoperability and browser tests; a machine that
# already has node (from any source) keeps it.
if [ "$profile" != run ] && [ "$profile" != runtime ] && ! command -v node >/dev/null 2>&1; then
  pkgs+=(nodejs npm)
fi

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  [ "${status:0:2}" = "ii" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
