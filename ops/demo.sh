#!/usr/bin/env bash
# Sets everything up (ops/setup.sh) and runs the daemon on the embedded broker with sample
# events, serving http://127.0.0.1:9810/metrics until interrupted.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
ops/setup.sh
exec ops/demo/run.sh "$@"
