#!/usr/bin/env bash
# The gateway's packages depend on each other only as gateway/meson.build
# says: each file includes headers of its own package and of the packages it
# may depend on, never of one above it. TAP output.
set -uo pipefail
src=${VOXGATE_SOURCE_DIR:?}
. "$src/tests/harness/tap.sh"
cd "$src"

# package: the packages its files may include (besides its own)
declare -A allowed=(
  [gateway/core]=""
  [gateway/store]="gateway/core"
  [gateway/rooms]="gateway/core"
  [gateway/subscribers]="gateway/core gateway/store"
  [gateway/workarounds]=""
  [plugins]=""
)
for pkg in gateway/core gateway/store gateway/rooms gateway/subscribers gateway/workarounds plugins; do
  bad=""
  while IFS= read -r line; do
    file=${line%%:*}
    inc=$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"$line")
    dir=$(dirname "$inc")
    case "$inc" in gateway/* | api/* | plugins/*) ;; *) continue ;; esac
    [ "$dir" = "$pkg" ] && continue
    ok_dep=0
    for dep in ${allowed[$pkg]}; do [ "$dir" = "$dep" ] && ok_dep=1; done
    [ $ok_dep = 1 ] || bad+="$file includes $inc"$'\n'
  done < <(grep -rn --include='*.c' --include='*.h' '#include "' "$pkg")
  if [ -z "$bad" ]; then ok "$pkg includes only ${allowed[$pkg]:-itself}"
  else not_ok "$pkg includes only ${allowed[$pkg]:-itself}" "$bad"; fi
done

# The composition root is the only gateway file outside the packages.
loose=$(find gateway -maxdepth 1 -name '*.[ch]' ! -name main.c)
if [ -z "$loose" ]; then ok "gateway/ holds main.c and the packages only"
else not_ok "gateway/ holds main.c and the packages only" "$loose"; fi
tap_done
