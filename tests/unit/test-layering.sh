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
  [gateway/cache]="gateway/core"
  [gateway/cluster]="gateway/core gateway/cache"
  [gateway/store]="gateway/core"
  [gateway/rooms]="gateway/core"
  [gateway/subscribers]="gateway/core gateway/store"
  [gateway/tutor]="gateway/core gateway/store"
  [gateway/tutor-rooms]="gateway/core gateway/store gateway/rooms gateway/tutor"
  [gateway/egress]="gateway/core gateway/store gateway/rooms"
  [gateway/workarounds]=""
  [plugins]=""
  [common]=""
)
for pkg in gateway/core gateway/cache gateway/cluster gateway/store gateway/rooms gateway/subscribers gateway/tutor gateway/tutor-rooms gateway/egress gateway/workarounds plugins common; do
  bad=""
  while IFS= read -r line; do
    file=${line%%:*}
    inc=$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"$line")
    dir=$(dirname "$inc")
    # common/ (GLib and json-glib only) is open to every package.
    case "$inc" in gateway/* | api/* | plugins/* | common/*) ;; *) continue ;; esac
    [ "$dir" = common ] && [ "$pkg" != common ] && continue
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

# Inside gateway/rooms a join reads top-down (registry -> room -> participant
# -> graph): no module includes, through other headers, a header of a module
# that includes its own. A module is a .c file with its same-named header;
# rooms.h, the package's interface, includes none of the package.
rooms=gateway/rooms
declare -A uses=()
for f in "$rooms"/*.[ch]; do
  mod=$(basename "${f%.*}")
  while IFS= read -r inc; do
    [ "${inc%.h}" = "$mod" ] || uses[$mod]+=" ${inc%.h}"
  done < <(sed -nE 's|^#include "gateway/rooms/([^"]+)".*|\1|p' "$f")
done
declare -A state=() # 1: on the current path, 2: done
path=()
cycle=""
visit() {
  local mod=$1 dep
  state[$mod]=1
  path+=("$mod")
  for dep in ${uses[$mod]:-}; do
    [ -n "$cycle" ] && return
    case ${state[$dep]:-0} in
      1) # the path from dep's first visit back to dep
        local i from=0
        for i in "${!path[@]}"; do [ "${path[$i]}" = "$dep" ] && from=$i; done
        cycle="$(printf '%s -> ' "${path[@]:$from}")$dep" ;;
      0) visit "$dep" ;;
    esac
  done
  state[$mod]=2
  unset 'path[${#path[@]}-1]'
}
for mod in "${!uses[@]}"; do
  [ -z "$cycle" ] && [ "${state[$mod]:-0}" = 0 ] && visit "$mod"
done
if [ -z "$cycle" ]; then ok "no include cycle among the modules of $rooms"
else not_ok "no include cycle among the modules of $rooms" "$cycle"; fi

# A header there declares one file's functions (or is the package's
# interface): no private header shared by files that then call each other.
orphans=""
for h in "$rooms"/*.h; do
  [ "$h" = "$rooms/rooms.h" ] || [ -f "${h%.h}.c" ] || orphans+="$h has no ${h%.h}.c"$'\n'
done
if [ -z "$orphans" ]; then ok "each header of $rooms but rooms.h belongs to its .c"
else not_ok "each header of $rooms but rooms.h belongs to its .c" "${orphans%$'\n'}"; fi
tap_done
