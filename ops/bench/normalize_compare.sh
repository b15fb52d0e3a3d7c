#!/usr/bin/env bash
# Compares two normalize_bench binaries (say, main's and a branch's) on this machine: runs them
# alternately ROUNDS times (default 3) so that both see the same load, and prints, per source
# and payload class, the best per-core figures of each and the ratio new/old.
#
#   ops/bench/normalize_compare.sh OLD_BIN NEW_BIN [ROUNDS] [normalize_bench args...]
set -euo pipefail
old=$1
new=$2
rounds=${3:-3}
shift $(( $# < 3 ? $# : 3 ))
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for r in $(seq "$rounds"); do
  "$old" "$@" > "$out/old.$r"
  "$new" "$@" > "$out/new.$r"
done
best() {  # best cpu_MB_per_s and cpu_events_per_s per "source class"
  cat "$out"/"$1".* | awk '{
    k = $1 " " $2; mb = ev = 0
    for (i = 3; i <= NF; i++) {
      split($i, kv, "=")
      if (kv[1] == "cpu_MB_per_s") mb = kv[2]
      if (kv[1] == "cpu_events_per_s") ev = kv[2]
    }
    if (mb > best_mb[k]) best_mb[k] = mb
    if (ev > best_ev[k]) best_ev[k] = ev
  } END { for (k in best_mb) print k, best_mb[k], best_ev[k] }' | sort
}
join -j1 <(best old | awk '{print $1 "/" $2, $3, $4}') <(best new | awk '{print $1 "/" $2, $3, $4}') |
  awk 'BEGIN { printf "%-16s %10s %10s %6s %12s %12s %6s\n", "source/class", "old_MB/s",
                      "new_MB/s", "x", "old_ev/s", "new_ev/s", "x" }
       { printf "%-16s %10.1f %10.1f %6.2f %12.0f %12.0f %6.2f\n", $1, $2, $4, $4 / $2, $3, $5,
                $5 / $3 }'
