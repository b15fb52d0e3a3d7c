#!/usr/bin/env bash
# Instructions per event of a rebuild, counted by callgrind: deterministic, so two builds compare
# on a host whose speed moves between runs (issue 13). Runs replay_bench over a small log with
# collection on inside Projector::Run only (the rebuild, its checkpoints included), then prints
# the instructions per event of the rebuild and of its main parts. How many checkpoints a run
# takes depends on time (the runner weighs the time spent applying against the last
# checkpoint's), which callgrind distorts: compare builds on the last line, the rebuild without
# its checkpoints.
#   ops/bench/replay_callgrind.sh [--bin build-rel/tests/bench/replay_bench] [--events 200000]
set -euo pipefail
bin=build-rel/tests/bench/replay_bench
events=200000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bin) bin="$2"; shift 2 ;;
    --events) events="$2"; shift 2 ;;
    *) echo "usage: $0 [--bin PATH] [--events N]" >&2; exit 2 ;;
  esac
done
[[ -x "$bin" ]] || { echo "no replay_bench at $bin (build it: ninja -C build-rel replay_bench)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
  --toggle-collect='teamhealth::projector::Projector::Run*' \
  "$bin" --events "$events" --dir "$work/log" > "$work/bench.log" 2>&1
callgrind_annotate --inclusive=yes "$work/cg.out" 2>/dev/null |
  grep -E 'Projector::Run\(|Pipeline::Apply\(teamhealth::schema::EventView&, std::span|eventlog::DecodeView\(|CompactReader::Next\(|RocksIterator::Next|Projector::Checkpoint\(\)|ContextSwitching::Apply\(|Burnout::Apply\(|Flow::Apply\(|OncallLoad::Apply\(' |
  awk -v n="$events" '{c=$1; gsub(",", "", c); name=substr($0, index($0, "???:") + 4);
                        gsub(/\(anonymous namespace\)::/, "", name); sub(/\(.*/, "", name); printf "%7d instructions per event  %s\n", c / n, name
                        if (name ~ /Projector::Run$/) run = c; if (name ~ /Projector::Checkpoint$/) cp = c}
                       END {printf "%7d instructions per event  Projector::Run without its checkpoints\n", (run - cp) / n}'
