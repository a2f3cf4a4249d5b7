# TAP for the shell tests: source it, report each case with ok / not_ok
# (not_ok's optional second argument is shown as a diagnostic), and end with
# tap_done, whose status is the script's.
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
  n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"
  [ -n "${2:-}" ] && sed 's/^/# /' <<<"$2"
  return 0
}
tap_done() { echo "1..$n"; [ "$failed" -eq 0 ]; }
