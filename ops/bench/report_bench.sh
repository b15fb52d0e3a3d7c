#!/usr/bin/env bash
# Report benchmark (docs/design.md sections 8 and 10): how long `teamhealth report --log` takes
# for one team's week, quarter and year, read from the metric facts and, for comparison,
# replayed from the start of the log (a what-if `--set` with the default value forces the
# replay), with the report process's peak memory; the same over the query API of a running
# daemon; and the fact index's size per event. A benchmark, not a test: it prints figures.
#
#   ops/bench/report_bench.sh [--teams T] [--people P] [--days D] [--seed N] [--keep]
#   ops/bench/report_bench.sh --work DIR [--no-replay] [--api-now]
#
# Builds the log with ops/bench/import_bench.sh (generate --out, then import, which also
# builds the facts), so the import figures come first; or measures a log built before: --work
# names a dir holding th.toml, state/ and org/directory.toml (as import_bench.sh --keep and
# scale_bench.sh leave them), which is kept. --no-replay skips the replayed reports (at tens of
# millions of events each would take most of an hour). --api-now times the API as soon as the
# daemon answers, while its live projections still replay the log on the other core, instead
# of waiting up to 3 hours for them (the reports read facts either way). Environment: TEAMHEALTH_BIN (default
# <repo>/build-rel/teamhealth), TMPDIR.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=${TEAMHEALTH_BIN:-$repo/build-rel/teamhealth}
keep=0
replay=1
api_now=0
work=
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) keep=1; shift ;;
    --no-replay) replay=0; shift ;;
    --api-now) api_now=1; shift ;;
    --work) work=${2:?}; keep=1; shift 2 ;;
    --teams|--people|--days|--seed) args+=("$1" "${2:?}"); shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
export TEAMHEALTH_BIN=$bin

if [ -z "$work" ]; then
  # import_bench keeps its temp dir (generated files, state, config) and names it on stderr.
  "$here/import_bench.sh" "${args[@]}" --keep 2> >(tee "${TMPDIR:-/tmp}/report-bench.$$.log" >&2)
  work=$(sed -n 's/^kept //p' "${TMPDIR:-/tmp}/report-bench.$$.log" | tail -1)
  rm -f "${TMPDIR:-/tmp}/report-bench.$$.log"
fi
[ -d "$work" ] || { echo "import_bench kept no work dir" >&2; exit 1; }
cleanup() {
  [ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
  if [ "$keep" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

"$bin" inspect facts --state-dir "$work/state" > "$work/facts.json"
"$bin" inspect counters --state-dir "$work/state" > "$work/counters.json"
team=$(sed -n 's/^name = "\([^"]*\)"/\1/p' "$work/org/directory.toml" | sed -n 2p)
end=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["position"][:10])' \
  "$work/facts.json")

# One report: wall seconds and peak RSS (KiB), and what --verbose says it read.
report() {  # FROM TO [ARGS...]
  local from=$1 to=$2; shift 2
  /usr/bin/time -f "%e %M" -o "$work/time" "$bin" report --config "$work/th.toml" \
    --log "$work/state" --team "$team" --from "$from" --to "$to" --format json --verbose "$@" \
    > "$work/report.json" 2> "$work/report.stderr"
  printf '%s %s %s\n' "$(cat "$work/time")" "$(md5sum < "$work/report.json" | cut -c1-8)" \
    "$(sed -n 's/^teamhealth report: read from //p' "$work/report.stderr")"
}
windows=()
for days in 7 91 365; do
  windows+=("$(date -u -d "$end - $days days" +%FT00:00:00Z) ${end}T00:00:00Z $days")
done

echo
echo "team $team; windows end $end"
printf '%-8s %-10s %10s %10s  %s\n' window read seconds "peak MiB" "(same JSON?)"
for w in "${windows[@]}"; do
  set -- $w
  read -r s_f m_f sum_f how_f <<<"$(report "$1" "$2")"
  printf '%-8s %-10s %10s %10.0f\n' "$3 d" "${how_f%% *}" "$s_f" "$((m_f / 1024))"
  # Twice more from the facts: the first run may read a cold page cache.
  for _ in 1 2; do
    read -r s_f m_f sum_f how_f <<<"$(report "$1" "$2")"
    printf '%-8s %-10s %10s %10.0f\n' "$3 d" "${how_f%% *}" "$s_f" "$((m_f / 1024))"
  done
  [ "$replay" = 1 ] || continue
  read -r s_r m_r sum_r how_r <<<"$(report "$1" "$2" --set switch_cost_minutes=15)"
  printf '%-8s %-10s %10s %10.0f  %s\n' "$3 d" "${how_r%% *}" "$s_r" "$((m_r / 1024))" \
    "$([ "$sum_f" = "$sum_r" ] && echo same || echo DIFFERENT)"
done

# The API: a daemon on the same state (Kafka unreachable: it serves what is stored).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
{
  printf '[kafka]\nbrokers = "127.0.0.1:9"\n[[kafka.topics]]\nname = "none"\nsource = "canonical"\n'
  printf '[http]\nlisten = "127.0.0.1:%s"\n' "$port"
  cat "$work/th.toml"
} > "$work/serve.toml"
"$bin" serve --config "$work/serve.toml" 2> "$work/serve.stderr" &
daemon=$!
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$port/healthz" > /dev/null 2>&1 && break
  sleep 0.1
done
# Wait until its live projections have caught up with the log (they compete for the CPU): at
# tens of millions of events that is a replay of the whole log, so up to 3 hours.
t_serve=$(date +%s)
caught_up() {  # every projection's lag is 0
  curl -s "http://127.0.0.1:$port/metrics" > "$work/metrics.txt" || return 1
  awk '/^teamhealth_projection_lag_events\{/ { n++; if ($2 != 0) busy = 1 }
       END { exit !(n > 0 && !busy) }' "$work/metrics.txt"
}
if [ "$api_now" = 1 ]; then
  echo
  echo "API timed at once: the daemon's live projections are replaying the log meanwhile"
else
  for _ in $(seq 1 10800); do
    caught_up && break
    sleep 1
  done
  echo
  echo "daemon's live projections caught up in $(( $(date +%s) - t_serve )) s"
fi
echo
printf '%-8s %10s %10s\n' window "API s" "(2nd)"
for w in "${windows[@]}"; do
  set -- $w
  url="http://127.0.0.1:$port/api/v1/report?team=$team&from=$1&to=$2&format=json"
  t1=$(curl -s -o /dev/null -w '%{time_total}' "$url")
  t2=$(curl -s -o /dev/null -w '%{time_total}' "$url")
  printf '%-8s %10s %10s\n' "$3 d" "$t1" "$t2"
done

python3 - "$work/facts.json" "$work/counters.json" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))
events = json.load(open(sys.argv[2]))["last_sequence"]
print()
print(f"events in the log     {events}")
print(f"facts                 {f['facts']} ({f['facts'] / events:.2f} per event)")
print(f"fact index            {f['fact_bytes'] / 1e6:.1f} MB facts + {f['chunk_bytes'] / 1e6:.1f} MB "
      f"chunk lists = {(f['fact_bytes'] + f['chunk_bytes']) / events:.1f} bytes/event "
      f"(uncompressed key+value)")
print(f"gauges                {f['gauge_days']} midnights, {f['gauge_blobs']} team-days, "
      f"{f['gauge_bytes'] / 1e6:.1f} MB")
print(f"snapshots             {f['snapshots']}, {f['snapshot_bytes'] / 1e6:.1f} MB; checkpoint "
      f"{f['checkpoint_bytes'] / 1e6:.1f} MB")
PY
