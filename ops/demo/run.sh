#!/usr/bin/env bash
# Runs `teamhealth serve` on the embedded mock broker, produces ops/demo/sample-events.jsonl
# into it (10 events, 1 duplicate, 1 malformed record), and serves /metrics until interrupted.
#   ops/demo/run.sh [--for SECONDS] [--state-dir DIR]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin=${TEAMHEALTH_BIN:-$repo/build/teamhealth}
for_seconds=""
state=""
while [ $# -gt 0 ]; do
  case "$1" in
    --for) for_seconds=${2%s}; shift 2 ;;
    --state-dir) state=$2; shift 2 ;;
    *) echo "usage: ops/demo/run.sh [--for SECONDS] [--state-dir DIR]" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d)
[ -n "$state" ] || state=$work/state
sed "s#STATE_DIR#$state#" "$repo/ops/demo/demo.toml" > "$work/demo.toml"
"$bin" serve --config "$work/demo.toml" 2> >(tee "$work/serve.log" >&2) &
pid=$!
cleanup() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 0' INT TERM
for _ in $(seq 1 100); do
  grep -q 'bootstrap=' "$work/serve.log" 2>/dev/null && break
  sleep 0.1
done
bootstrap=$(grep -o 'bootstrap=[^ ]*' "$work/serve.log" | head -1 | cut -d= -f2)
kcat -P -b "$bootstrap" -t teamhealth.canonical -l "$repo/ops/demo/sample-events.jsonl"
for _ in $(seq 1 100); do
  curl -sf http://127.0.0.1:9810/readyz > /dev/null && break
  sleep 0.2
done
sleep 1
echo
echo "teamhealth is running on the embedded broker ($bootstrap)."
echo "  metrics:  curl http://127.0.0.1:9810/metrics"
echo "  ready:    curl http://127.0.0.1:9810/readyz"
echo "  produce:  kcat -P -b $bootstrap -t teamhealth.canonical -l FILE.jsonl"
echo
curl -s http://127.0.0.1:9810/metrics | grep -E '^teamhealth_' || true
echo
if [ -n "$for_seconds" ]; then
  sleep "$for_seconds"
else
  echo "Ctrl-C to stop."
  wait "$pid"
fi
