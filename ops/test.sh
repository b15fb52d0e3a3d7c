#!/usr/bin/env bash
# Sets everything up (ops/setup.sh) and runs the whole test suite: unit tests, integration
# tests against a real Kafka broker, then every fuzz target briefly (30 s each; ops/fuzz.sh
# runs them longer). This is what CI runs (.ci/run). Arguments go to ctest.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
ops/setup.sh
(cd build && ctest --output-on-failure --timeout 2400 "$@")
ops/fuzz.sh "${FUZZ_SECONDS:-30}"
