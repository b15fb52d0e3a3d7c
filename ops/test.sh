#!/usr/bin/env bash
# Sets everything up (ops/setup.sh) and runs the whole test suite: unit tests, then the
# integration tests against a real Kafka broker. This is what CI runs (.ci/run).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
ops/setup.sh
cd build
ctest --output-on-failure --timeout 2400 "$@"
