#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) into build-fuzz/ and runs each one for
# SECONDS (default 30), seeded with the vendor fixtures and our variants. Fails on any crash,
# leak, hang (a single input over 10 s) or invariant violation; the reproducer is left in
# build-fuzz/artifacts/.
#
#   ops/fuzz.sh            30 s per target (what CI runs)
#   ops/fuzz.sh 3600       an hour per target
#   ops/fuzz.sh 600 slack  only the slack target
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
seconds=${1:-30}
only=${2:-}
fixtures="$repo/tests/fixtures/payloads"

CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTEAMHEALTH_FUZZ=ON -DTEAMHEALTH_WERROR=OFF > /dev/null
targets=(canonical jira github linear slack pagerduty opsgenie schedules index_fields decode_view compact)
[ -n "$only" ] && targets=("$only")
ninja -C build-fuzz $(printf 'fuzz_%s ' "${targets[@]}")

mkdir -p build-fuzz/artifacts
status=0
for t in "${targets[@]}"; do
  corpus=build-fuzz/corpus/$t
  mkdir -p "$corpus"
  # Seeds: the payloads of this source, each prefixed with the header-selector byte.
  seed_dirs=("$fixtures/$t" "tests/sources/variants/$t")
  [ "$t" = canonical ] && seed_dirs=("tests/fuzz/seeds")
  if [ "$t" = index_fields ] || [ "$t" = decode_view ] || [ "$t" = compact ]; then
    # The event log's record readers (index fields, DecodeView): stored records, written as protobuf text and encoded
    # with protoc (the schema's own compiler), so the seeds stay readable.
    for f in tests/fuzz/seeds/index_fields/*.txtpb; do
      grep -v '^#' "$f" | protoc --encode=teamhealth.schema.Event -I schemas schemas/event.proto \
        > "$corpus/seed-$(basename "$f" .txtpb)"
    done
    seed_dirs=()
  fi
  if [ "$t" = schedules ]; then
    # The first byte picks the parser: 0 PagerDuty /oncalls, 1 the Opsgenie timeline.
    { printf '\x00'; cat "$fixtures/pagerduty/rest-api/GET-oncalls.json"; } > "$corpus/seed-pagerduty"
    { printf '\x01'; cat tests/gateway/testdata/opsgenie-timeline.json; } > "$corpus/seed-opsgenie"
    seed_dirs=()
  fi
  for d in "${seed_dirs[@]}"; do
    [ -d "$d" ] || continue
    find "$d" -type f \( -name '*.json' -o -name '*.jsonl' \) | while read -r f; do
      if [ "${f##*.}" = jsonl ]; then
        n=0
        while IFS= read -r line; do
          n=$((n + 1)); { printf '\x07'; printf '%s' "$line"; } > "$corpus/seed-$(basename "$f")-$n"
        done < "$f"
      else
        for b in 0 5; do
          { printf "\\x0$b"; cat "$f"; } > "$corpus/seed-$b-$(echo "$f" | tr '/' '_')"
        done
      fi
    done
  done
  echo "== fuzz_$t for ${seconds}s ($(ls "$corpus" | wc -l) inputs in corpus)"
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      "build-fuzz/tests/fuzz/fuzz_$t" "$corpus" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="build-fuzz/artifacts/$t-" > "build-fuzz/fuzz_$t.log" 2>&1; then
    echo "fuzz_$t FAILED; see build-fuzz/fuzz_$t.log and build-fuzz/artifacts/"
    tail -40 "build-fuzz/fuzz_$t.log"
    status=1
  else
    grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "build-fuzz/fuzz_$t.log" | tr '\n' ' '
    echo
  fi
done
exit $status
