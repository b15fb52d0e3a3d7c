#!/usr/bin/env bash
# Runs every benchmark of ops/bench and tests/bench once and writes one JSON file of figures
# (docs/design.md section 10; the table and the command behind each row: BENCHMARKS.md).
# A benchmark run, not a test: it fails only if a benchmark does not work. Each benchmark's
# own output is kept next to the JSON file.
#
#   ops/bench/run-all.sh [--out FILE] [--quick] [--only NAME[,NAME...]]
#
# --out: the JSON file (default bench-<UTC time>.json in the current dir); its outputs go to
# FILE's dir as <name>.txt. --quick: small sizes (a few minutes in all: checks that every
# benchmark runs, its figures mean little); default: the sizes the issues' targets name (about
# an hour on a quiet two-core machine). --only: run only these (names as in the JSON:
# normalize, replay, metrics, ingest, steady, import, report, gateway). Environment: BUILD (a
# Release build dir, default <repo>/build-rel, configured and built here if missing), TMPDIR.
# Run it on a quiet machine: every figure is CPU-bound, and the JSON records the load average.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${BUILD:-$repo/build-rel}
out=bench-$(date -u +%Y%m%dT%H%M%SZ).json
quick=0
only=
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=${2:?}; shift 2 ;;
    --quick) quick=1; shift ;;
    --only) only=${2:?}; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
dir=$(cd "$(dirname "$out")" && pwd)
wanted() { [ -z "$only" ] || [[ ",$only," == *",$1,"* ]]; }

if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTEAMHEALTH_WERROR=OFF >&2
fi
ninja -C "$build" teamhealth normalize_bench replay_bench metrics_bench >&2
export TEAMHEALTH_BIN=$build/teamhealth

if [ "$quick" = 1 ]; then
  sizes=(normalize "--mb 20" replay "--events 200000" metrics "--people 100"
         ingest "--messages 20000" steady "--backlog 20000 --rate 20 --seconds 20"
         import "--teams 2 --people 20 --days 30"
         report "--teams 2 --people 20 --days 30" gateway "--seconds 3 --concurrency 2")
else
  sizes=(normalize "--mb 200" replay "--events 5000000" metrics "--people 760"
         ingest "--messages 1000000" steady "--backlog 300000 --rate 20 --seconds 330"
         import "--teams 8 --people 400 --days 365"
         report "--teams 8 --people 400 --days 365" gateway "--seconds 20 --concurrency 8")
fi
declare -A size
for ((i = 0; i < ${#sizes[@]}; i += 2)); do size[${sizes[i]}]=${sizes[i + 1]}; done
declare -A command=(
  [normalize]="$build/tests/bench/normalize_bench ${size[normalize]}"
  [replay]="$build/tests/bench/replay_bench ${size[replay]}"
  [metrics]="$build/tests/bench/metrics_bench ${size[metrics]}"
  [ingest]="$here/ingest_bench.sh ${size[ingest]}"
  [steady]="python3 $here/steady_bench.py ${size[steady]}"
  [import]="$here/import_bench.sh ${size[import]}"
  [report]="$here/report_bench.sh ${size[report]}"
  [gateway]="python3 $here/gateway_bench.py ${size[gateway]}"
)

ran=()
for name in normalize replay metrics ingest steady import report gateway; do
  wanted "$name" || continue
  echo "== $name: ${command[$name]}" >&2
  start=$(date +%s.%N)
  status=0
  # shellcheck disable=SC2086  # the command's words are split on purpose
  ${command[$name]} > "$dir/$name.txt" 2> "$dir/$name.stderr" || status=$?
  end=$(date +%s.%N)
  printf '%s\t%s\t%s\t%s\n' "$name" "$status" "$(python3 -c "print(round($end - $start, 1))")" \
    "${command[$name]}" >> "$dir/.runs.$$"
  ran+=("$name")
  [ "$status" = 0 ] || echo "   $name failed (exit $status): $dir/$name.stderr" >&2
done
[ ${#ran[@]} -gt 0 ] || { echo "no benchmark named in --only $only" >&2; exit 2; }

python3 "$here/figures.py" "$dir/.runs.$$" "$dir" "$quick" > "$out"
rm -f "$dir/.runs.$$"
echo "figures: $out" >&2
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(any(b["exit"] for b in r["benchmarks"].values()))' "$out"
