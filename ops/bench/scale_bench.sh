#!/usr/bin/env bash
# Scale benchmark (issue 11, docs/design.md sections 8 and 10): builds an event log of tens of
# millions of events with no broker, then times reports on it with ops/bench/report_bench.sh.
# A benchmark, not a test: it prints figures, and takes an hour or more at the default size.
#
#   ops/bench/scale_bench.sh [--teams T] [--people P] [--chunk-days D] [--chunks K]
#                            [--end RFC3339] [--work DIR] [--resume]
#
#   --teams T        teams (default 16)
#   --people P       people (default 10000, generate's maximum)
#   --chunk-days D   days generated at a time (default 30; memory of `generate` grows with it:
#                    about 5.5 GB for 30 days of 10,000 people)
#   --chunks K       chunks (default 31: 930 days, about 41 M events at the defaults)
#   --end TIME       end of the history (default 2026-11-30T00:00:00Z)
#   --work DIR       where the state and the chunks go (default a new dir under TMPDIR); an
#                    existing DIR with a finished build is only measured again
#   --resume         go on with an unfinished build in --work DIR from the chunk after the
#                    last one imports.log records
#
# `teamhealth generate` holds a whole organisation in memory, so the history is generated in
# chunks: the same organisation (its directory depends on teams and people only), chunk k with
# seed k covering the k-th period, each imported into the same state dir and deleted; while
# one chunk is imported, the next is generated. Chunks are imported with --no-facts; the last
# import builds the metric facts of the whole log at once (timed apart). Event ids of different chunks do not collide (they carry times or seeded
# random ids); import's duplicates count says so. The figures: generate and import rates,
# facts build time, the state dir's size per event, then report_bench.sh's report and API
# timings (without the replay comparison, which would take most of an hour per report).
#
# Environment: TEAMHEALTH_BIN (default <repo>/build-rel/teamhealth), TMPDIR, SCALE_API_NOW (set:
# report_bench.sh --api-now).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=${TEAMHEALTH_BIN:-$repo/build-rel/teamhealth}
teams=16
people=10000
chunk_days=30
chunks=31
end=2026-11-30T00:00:00Z
work=
resume=0

while [ $# -gt 0 ]; do
  case "$1" in
    --teams) teams=${2:?}; shift 2 ;;
    --people) people=${2:?}; shift 2 ;;
    --chunk-days) chunk_days=${2:?}; shift 2 ;;
    --chunks) chunks=${2:?}; shift 2 ;;
    --end) end=${2:?}; shift 2 ;;
    --work) work=${2:?}; shift 2 ;;
    --resume) resume=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[ -x "$bin" ] || { echo "no teamhealth binary at $bin (set TEAMHEALTH_BIN)" >&2; exit 2; }
[ -n "$work" ] || work=$(mktemp -d "${TMPDIR:-/tmp}/scale-bench.XXXXXX")
mkdir -p "$work"
echo "work dir: $work (kept)" >&2

now() { date +%s.%N; }
chunk_end() {  # K -> the end of chunk K (1-based), RFC 3339
  date -u -d "$end - $(((chunks - $1) * chunk_days)) days" +%FT%TZ
}
generate() {  # K
  mkdir -p "$work/chunk$1"
  /usr/bin/time -f "%e %M" -o "$work/chunk$1/gen.time" "$bin" generate --seed "$1" \
    --teams "$teams" --people "$people" --days "$chunk_days" --end "$(chunk_end "$1")" \
    --out "$work/chunk$1/org" > "$work/chunk$1/gen.out"
}

if [ ! -f "$work/built" ]; then
  first=1
  if [ "$resume" = 1 ] && [ -s "$work/imports.log" ]; then
    first=$(($(tail -1 "$work/imports.log" | cut -d' ' -f2) + 1))
    rm -rf "$work/chunk$first"
  else
    rm -rf "$work/state" "$work"/chunk* "$work/imports.log"
    head -c 32 /dev/urandom > "$work/identity.key"
  fi
  echo "chunk $first/$chunks: generating" >&2
  generate "$first"
  if [ "$first" = 1 ]; then
    mkdir -p "$work/org"
    cp "$work/chunk1/org/directory.toml" "$work/org/directory.toml"
    {
      printf '[storage]\ndir = "%s"\nidentity_key_file = "%s"\nsync_writes = true\n' \
        "$work/state" "$work/identity.key"
      printf '[logging]\nlevel = "warn"\n'
      cat "$work/org/directory.toml"
    } > "$work/th.toml"
  fi
  t0=$(now)
  for k in $(seq "$first" "$chunks"); do
    next=
    if [ "$k" -lt "$chunks" ]; then
      generate $((k + 1)) & next=$!
    fi
    # The same organisation in every chunk (only the header comment names the seed).
    if ! diff -q <(grep -v '^#' "$work/org/directory.toml") \
        <(grep -v '^#' "$work/chunk$k/org/directory.toml") > /dev/null; then
      echo "chunk $k has another directory" >&2; exit 1
    fi
    records=$(cat "$work/chunk$k"/org/*.jsonl | wc -l)
    echo "chunk $k/$chunks: importing $records records (ending $(chunk_end "$k"))" >&2
    facts=--no-facts
    [ "$k" -lt "$chunks" ] || facts=
    "$bin" import --config "$work/th.toml" --source auto $facts "$work/chunk$k"/org/*.jsonl \
      2> "$work/chunk$k/import.stderr" || { cat "$work/chunk$k/import.stderr" >&2; exit 1; }
    {
      printf 'chunk %s gen %s ' "$k" "$(cat "$work/chunk$k/gen.time")"
      grep -h '^import: files=' "$work/chunk$k/import.stderr" | tr '\n' ' '
      sed -n 's/.*metric facts built up to .* in \([0-9.]*\) s.*/facts_s=\1/p' \
        "$work/chunk$k/import.stderr"
      echo
    } | tee -a "$work/imports.log" >&2
    rm -rf "$work/chunk$k/org"
    [ -z "$next" ] || wait "$next"
  done
  t1=$(now)
  # A resumed build's wall clock counts from the resumption.
  echo "$t0 $t1" > "$work/built"
fi

python3 - "$work/imports.log" "$work/built" <<'PY'
import re, sys
rows = [l for l in open(sys.argv[1]) if l.startswith("chunk ")]
t0, t1 = map(float, open(sys.argv[2]).read().split())
gen_s = sum(float(l.split()[3]) for l in rows)
gen_kb = max(int(l.split()[4]) for l in rows)
def total(key):
    found = (re.search(rf"\b{key}=([\d.]+)", l) for l in rows)
    return sum(float(m.group(1)) for m in found if m)
events, dups, quar = total("appended"), total("duplicates"), total("quarantined")
imp_s, facts_s = total("seconds"), total("facts_s")
print(f"chunks                {len(rows)}")
print(f"events appended       {events:.0f} (duplicates {dups:.0f}, quarantined {quar:.0f})")
print(f"generate              {gen_s:.0f} s in all, peak {gen_kb / 1024:.0f} MiB per chunk")
print(f"import                {imp_s:.0f} s in all, {events / imp_s:.0f} events/s")
print(f"metric facts build    {facts_s:.0f} s (the whole log, with the last chunk), "
      f"{events / facts_s:.0f} events/s")
print(f"wall clock            {t1 - t0:.0f} s (generation overlapped with import)")
PY
echo "state dir: $(du -sb "$work/state" | cut -f1) bytes" >&2

TEAMHEALTH_BIN=$bin "$here/report_bench.sh" --work "$work" --no-replay ${SCALE_API_NOW:+--api-now}
