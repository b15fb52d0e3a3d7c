#!/usr/bin/env bash
# Ingest benchmark: the daemon's durable ingest rate against the raw consume rate of
# librdkafka (`kcat -C` to /dev/null), over the same topic and the same messages, on a real
# Kafka broker (docs/design.md section 10: the goal is daemon/kcat >= 0.8). A benchmark, not a test:
# it prints figures and fails only if something does not work.
#
#   ops/bench/ingest_bench.sh [--messages N] [--batch-max-messages N] [--batch-max-ms MS]
#                             [--kcat-runs N] [--keep]
#
#   --messages N            messages to produce and consume (default 1000000, ~1 KB each)
#   --batch-max-messages N  the daemon's kafka.batch_max_messages (default 5000)
#   --batch-max-ms MS       the daemon's kafka.batch_max_ms (default 100)
#   --kcat-runs N           timed kcat runs, the best one counts (default 2)
#   --keep                  keep the temp dir (broker data, messages, daemon state and log)
#
# Environment: INGEST_BENCH_PERF=<file> profiles the daemon with `perf record -g` into <file>
# (that run's figures are disturbed by it); TEAMHEALTH_BIN (default <repo>/build/teamhealth; build a Release binary for
# figures that mean something), KAFKA_HEAP (passed to ops/kafka/broker.sh), TMPDIR (where the
# temp dir goes; it needs ~4 GB free for 1M messages).
#
# What it does, by itself:
#   1. starts a broker in a temp dir (ops/kafka/broker.sh);
#   2. generates N canonical events (docs/design.md section 4; a mix of chat, work item, pull request,
#      incident and on-call types, 860..1150 bytes, ~1011 bytes on average) into a file and
#      produces them with `kcat -P -l`, keyed by team, to topic `bench` (3 partitions); then
#      `sync`, so that the broker's dirty pages are not written back during the measurements;
#   3. reads the topic once untimed to check that exactly N messages are there (count, bytes,
#      per partition), then times `kcat -C -b B -t bench -o beginning -e -q > /dev/null`
#      --kcat-runs times and keeps the best;
#   4. starts `teamhealth serve` on a fresh state dir and times from process start until
#      teamhealth_log_last_sequence == N (polling /metrics every 100 ms), also reporting the
#      time from the first event, CPU use of the daemon (per thread) and of the broker; stops
#      the daemon with SIGTERM and checks that it stopped cleanly;
#   5. stops the broker, removes the temp dir and prints messages, bytes, both rates and their
#      ratio. MB is 10^6 bytes of record values (what both consumers receive).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=${TEAMHEALTH_BIN:-$repo/build/teamhealth}
messages=1000000
batch_max_messages=5000
batch_max_ms=100
kcat_runs=2
keep=0
topic=bench

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --messages) messages=${2:?}; shift 2 ;;
    --batch-max-messages) batch_max_messages=${2:?}; shift 2 ;;
    --batch-max-ms) batch_max_ms=${2:?}; shift 2 ;;
    --kcat-runs) kcat_runs=${2:?}; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
for v in "$messages" "$batch_max_messages" "$batch_max_ms" "$kcat_runs"; do
  [[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "not a positive number: $v" >&2; exit 2; }
done
[ -x "$bin" ] || { echo "no teamhealth binary at $bin (set TEAMHEALTH_BIN)" >&2; exit 2; }
command -v kcat > /dev/null || { echo "kcat is not installed" >&2; exit 2; }

py="$here/ingest_bench.py"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ingest-bench.XXXXXX")
cleanup() {
  "$repo/ops/kafka/broker.sh" stop "$tmp/broker" || true
  if [ "$keep" = 1 ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
say() { echo "[bench] $*" >&2; }

say "binary: $bin"
say "temp dir: $tmp"
bootstrap=$("$repo/ops/kafka/broker.sh" start "$tmp/broker")
broker_pid=$(cat "$tmp/broker/pid")
say "broker: $bootstrap (pid $broker_pid)"

say "generating $messages messages"
python3 "$py" generate "$tmp/messages.tsv" "$messages" > "$tmp/generate.json"

say "producing to topic $topic"
t0=$(date +%s.%N)
kcat -P -b "$bootstrap" -t "$topic" -K $'\t' -l \
  -X linger.ms=20 -X batch.num.messages=10000 -X queue.buffering.max.kbytes=1048576 \
  "$tmp/messages.tsv"
t1=$(date +%s.%N)
say "produced in $(python3 -c "print(round($t1 - $t0, 1))") s; syncing"
rm -f "$tmp/messages.tsv"
sync

say "verifying the topic holds $messages messages (untimed read)"
python3 "$py" kcat-verify "$bootstrap" "$topic" "$messages" > "$tmp/verify.json"
python3 - "$tmp/verify.json" "$messages" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
print(f"[bench] topic: {v['messages']} messages, {v['value_bytes']} value bytes, "
      f"per partition {v['partitions']}", file=sys.stderr)
if not v["ok"]:
    sys.exit(f"expected {sys.argv[2]} messages in the topic, kcat read {v['messages']} "
             f"(rc {v['rc']})")
PY

say "timing kcat -C (best of $kcat_runs)"
python3 "$py" kcat-time "$bootstrap" "$topic" "$messages" "$kcat_runs" "$broker_pid" \
  > "$tmp/kcat.json"

mkdir -p "$tmp/state"
head -c 32 /dev/urandom > "$tmp/identity.key"  # serve requires a key outside the state dir
cat > "$tmp/teamhealth.toml" <<TOML
[storage]
dir = "$tmp/state"
identity_key_file = "$tmp/identity.key"
[kafka]
brokers = "$bootstrap"
batch_max_messages = $batch_max_messages
batch_max_ms = $batch_max_ms
[[kafka.topics]]
name = "$topic"
source = "canonical"
[http]
listen = "127.0.0.1:0"
TOML
say "timing the daemon (batch_max_messages=$batch_max_messages batch_max_ms=$batch_max_ms)"
python3 "$py" daemon "$bin" "$tmp/teamhealth.toml" "$tmp/daemon.log" "$messages" "$broker_pid" \
  > "$tmp/daemon.json"
state_bytes=$(du -sb "$tmp/state" | cut -f1)

python3 - "$tmp" "$messages" "$state_bytes" "$batch_max_messages" "$batch_max_ms" <<'PY'
import json, sys
tmp, n, state_bytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
verify = json.load(open(f"{tmp}/verify.json"))
kcat = json.load(open(f"{tmp}/kcat.json"))
d = json.load(open(f"{tmp}/daemon.json"))
nbytes = verify["value_bytes"]
k_s = kcat["best"]["seconds"]
d_s = d["seconds"]
k_rate, d_rate = n / k_s, n / d_s
ok = d["last_sequence"] == n and d["ingested_canonical"] == n and d["stopped_cleanly"]

def mb(s):
    return nbytes / s / 1e6

print()
print(f"messages                 {n}")
print(f"bytes (record values)    {nbytes}  ({nbytes / n:.0f} B/message)")
print(f"kcat -C > /dev/null      {k_s:8.3f} s  {k_rate:10.0f} msgs/s  {mb(k_s):7.1f} MB/s"
      f"   (best of {len(kcat['runs'])}: "
      + ", ".join(f"{r['seconds']:.3f}" for r in kcat["runs"]) + " s)")
print(f"  CPU (best run)         kcat {kcat['best']['kcat_cpu_pct']}%, "
      f"broker {kcat['best']['broker_cpu_pct']}%, "
      f"other processes {kcat['best']['other_cpu_pct']}%")
print(f"daemon durable ingest    {d_s:8.3f} s  {d_rate:10.0f} msgs/s  {mb(d_s):7.1f} MB/s"
      f"   (process start to last_sequence == {n})")
if d["seconds_first_event_to_done"]:
    f = d["seconds_first_event_to_done"]
    print(f"  from the first event   {f:8.3f} s  {n / f:10.0f} msgs/s  {mb(f):7.1f} MB/s"
          f"   (first event seen at {d['seconds_to_first_event']:.3f} s)")
if d["steady"]:
    s = d["steady"]
    print(f"  steady (10%..90%)                 {s['msgs_per_s']:10d} msgs/s"
          f"   daemon CPU {s['daemon_cpu_pct']}%, broker CPU {s['broker_cpu_pct']}%")
print(f"  CPU (whole run)        daemon {d['daemon_cpu_pct']}% ({d['daemon_cpu_s']} s), "
      f"broker {d['broker_cpu_pct']}%, this poller {d['poller_cpu_pct']}%, "
      f"other processes {d['other_cpu_pct']}%")
print("  daemon threads (CPU s) " + ", ".join(f"{k} {v}" for k, v in
                                             d["daemon_threads_cpu_s"].items()))
if d["seconds_to_caught_up"]:
    c = d["seconds_to_caught_up"]
    print(f"  indexes + projections  caught up at {c:.3f} s ({n / c:.0f} msgs/s); daemon CPU by "
          f"then {d['daemon_cpu_s_caught_up']} s ({1e6 * d['daemon_cpu_s_caught_up'] / n:.1f} "
          "us/message): " + ", ".join(f"{k} {v}" for k, v in
                                     d["daemon_threads_cpu_s_caught_up"].items()))
else:
    print("  indexes + projections  did not catch up within 600 s of the last event")
print(f"  state dir              {state_bytes / 1e6:.1f} MB; daemon wrote "
      f"{(d['daemon_write_bytes'] or 0) / 1e6:.1f} MB; /readyz {d['readyz']}; "
      f"stopped cleanly: {d['stopped_cleanly']}")
print(f"  config                 batch_max_messages={sys.argv[4]} batch_max_ms={sys.argv[5]}")
busy = max(kcat["best"]["other_cpu_pct"], d["other_cpu_pct"])
if busy > 20:
    print(f"WARNING: other processes used up to {busy}% CPU (of 200% on 2 cores) during the "
          "measurements; the figures are disturbed: run again on a quiet machine")
fe = d["seconds_first_event_to_done"]
print(f"ratio daemon/kcat        {d_rate / k_rate:.3f}   (goal >= 0.8"
      + (f"; from the first event: {(n / fe) / k_rate:.3f})" if fe else ")"))
with open(f"{tmp}/summary.json", "w") as out:
    json.dump({"messages": n, "value_bytes": nbytes, "kcat": kcat, "daemon": d,
               "ratio": d_rate / k_rate, "state_bytes": state_bytes}, out, indent=1)
if not ok:
    sys.exit(f"daemon run is not valid: last_sequence={d['last_sequence']} "
             f"ingested={d['ingested_canonical']} stopped_cleanly={d['stopped_cleanly']}")
PY
