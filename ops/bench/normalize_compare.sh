#!/usr/bin/env bash
# Compares two normalize_bench binaries (say, main's and a branch's) on this machine. For each
# round and each source it runs the old binary then the new one on that source alone, so the
# two runs of a pair see nearly the same load; it prints, per source and payload class, the
# median per-core figures of each binary and the median of the pairs' ratios new/old (the
# figure to trust on a shared machine, where the absolute rates move with the load).
#
#   ops/bench/normalize_compare.sh OLD_BIN NEW_BIN [ROUNDS (default 5)] [normalize_bench args...]
set -euo pipefail
old=$1
new=$2
rounds=${3:-5}
shift $(($# < 3 ? $# : 3))
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for r in $(seq "$rounds"); do
  for s in canonical jira github linear slack pagerduty opsgenie; do
    "$old" --source "$s" "$@" | sed "s/^/old $r /" >> "$out"
    "$new" --source "$s" "$@" | sed "s/^/new $r /" >> "$out"
  done
done
printf "%-16s %10s %10s %12s %12s %8s\n" source/class old_MB/s new_MB/s old_ev/s new_ev/s new/old
awk '
  function field(name,   i, kv) {
    for (i = 5; i <= NF; i++) { split($i, kv, "="); if (kv[1] == name) return kv[2] }
  }
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j] + 0 < a[j - 1] + 0; j--) {
      t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
    }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  {
    k = $3 "/" $4; mb[$1, k] = mb[$1, k] " " field("cpu_MB_per_s")
    ev[$1, k] = ev[$1, k] " " field("cpu_events_per_s"); keys[k] = 1
    if ($1 == "old") old_mb[$2, k] = field("cpu_MB_per_s")
    else ratio[k] = ratio[k] " " field("cpu_MB_per_s") / old_mb[$2, k]
  }
  END {
    for (k in keys) printf "%-16s %10.1f %10.1f %12.0f %12.0f %8.2f\n", k, median(mb["old", k]),
                           median(mb["new", k]), median(ev["old", k]), median(ev["new", k]),
                           median(ratio[k])
  }' "$out" | sort
