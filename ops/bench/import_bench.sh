#!/usr/bin/env bash
# Import benchmark: the rate of `teamhealth import` (events/s) on a large generated
# organisation, and the bytes on disk per event. No broker. A benchmark, not a test: it prints
# figures and fails only if something does not work.
#
#   ops/bench/import_bench.sh [--teams T] [--people P] [--days D] [--seed N] [--keep]
#
#   --teams T    teams of the generated organisation (default 8; generate allows 1-64)
#   --people P   people (default 400)
#   --days D     days of history (default 365)
#   --seed N     generator seed (default 1)
#   --keep       keep the temp dir (generated files, state dir, config, import's stderr)
#
# Environment: TEAMHEALTH_BIN (default <repo>/build-rel/teamhealth: build it with
# `cmake -S . -B build-rel -G Ninja -DCMAKE_BUILD_TYPE=Release && ninja -C build-rel teamhealth`),
# TMPDIR (where the temp dir goes; the default organisation needs ~2 GB).
#
# What it does: `teamhealth generate --out` into a temp dir (timed apart, not counted);
# writes a config with the generated directory, a fresh state dir, an identity key and
# sync_writes on (fsync per batch, as in production); runs `teamhealth import --source auto`
# on every generated file, timed; checks that nothing was quarantined and that every record
# became events; prints records, events appended, input bytes, seconds, events/s (from
# import's summary and from the wall clock around the process, which includes opening the
# store and recording the directory), and the state dir's size right after the import (WAL
# and SST files, before any further compaction) per event.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=${TEAMHEALTH_BIN:-$repo/build-rel/teamhealth}
teams=8
people=400
days=365
seed=1
keep=0

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --teams) teams=${2:?}; shift 2 ;;
    --people) people=${2:?}; shift 2 ;;
    --days) days=${2:?}; shift 2 ;;
    --seed) seed=${2:?}; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
[ -x "$bin" ] || { echo "no teamhealth binary at $bin (set TEAMHEALTH_BIN)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/import-bench.XXXXXX")
cleanup() { if [ "$keep" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi; }
trap cleanup EXIT

now() { date +%s.%N; }

echo "generating: --teams $teams --people $people --days $days --seed $seed" >&2
t0=$(now)
"$bin" generate --seed "$seed" --teams "$teams" --people "$people" --days "$days" \
  --out "$work/org" >&2
t1=$(now)
records=$(cat "$work"/org/*.jsonl | wc -l)
input_bytes=$(cat "$work"/org/*.jsonl | wc -c)

head -c 32 /dev/urandom > "$work/identity.key"
{
  printf '[storage]\ndir = "%s"\nidentity_key_file = "%s"\nsync_writes = true\n' \
    "$work/state" "$work/identity.key"
  printf '[logging]\nlevel = "warn"\n'
  cat "$work/org/directory.toml"
} > "$work/th.toml"

echo "importing $records records ($input_bytes bytes)" >&2
t2=$(now)
status=0
"$bin" import --config "$work/th.toml" --source auto "$work"/org/*.jsonl 2> "$work/import.stderr" \
  || status=$?
t3=$(now)
summary=$(grep '^import: files=' "$work/import.stderr" || true)
if [ "$status" != 0 ] || [ -z "$summary" ]; then
  echo "import failed (exit $status):" >&2
  tail -20 "$work/import.stderr" >&2
  exit 1
fi
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$summary"; }
appended=$(field appended)
quarantined=$(field quarantined)
[ "$quarantined" = 0 ] || { echo "quarantined $quarantined records" >&2; exit 1; }
[ "$(field records)" = "$records" ] || { echo "import read $(field records) of $records" >&2; exit 1; }
disk=$(du -sb "$work/state" | cut -f1)

python3 - "$records" "$appended" "$input_bytes" "$(field seconds)" "$t0" "$t1" "$t2" "$t3" \
  "$disk" <<'PY'
import sys
records, events, input_bytes = map(int, sys.argv[1:4])
seconds = float(sys.argv[4])
g0, g1, t0, t1 = map(float, sys.argv[5:9])
disk = int(sys.argv[9])
wall = t1 - t0
print(f"records          {records}")
print(f"events appended  {events}")
print(f"input            {input_bytes / 1e6:.1f} MB ({input_bytes / records:.0f} bytes/record)")
print(f"generate         {g1 - g0:.1f} s (not counted)")
print(f"import seconds   {seconds:.1f} (summary)  {wall:.1f} (wall, with open and directory)")
print(f"events/s         {events / seconds:.0f} (summary)  {events / wall:.0f} (wall)")
print(f"bytes on disk    {disk / 1e6:.1f} MB, {disk / events:.0f} bytes/event "
      f"(state dir right after the import)")
PY
