#!/usr/bin/env bash
# Sets everything up (ops/setup.sh) and runs `teamhealth demo`: the daemon on an embedded
# Kafka-protocol broker fed with a generated organisation, serving
# http://127.0.0.1:9810/metrics until Ctrl-C. Arguments go to `teamhealth demo`
# (e.g. --for 60s, --state-dir DIR, --listen 127.0.0.1:0, --seed N).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
ops/setup.sh
exec build/teamhealth demo "$@"
