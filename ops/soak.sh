#!/usr/bin/env bash
# Soak test: a bounded run (default 30 minutes) of mixed traffic against a real broker with
# periodic restarts (SIGTERM and SIGKILL) and SIGHUPs, sampling the daemon's RSS and open file
# descriptors every 10 s into a CSV; prints a summary and checks that nothing was lost or
# duplicated. Not run by CI. See ops/crash/README.md.
#
#   ops/soak.sh [--minutes N] [--rate EVENTS_PER_S] [--seed N] [--out DIR] [--keep]
#               [--restart-seconds LO,HI]
#
# Environment: TEAMHEALTH_BIN (default <repo>/build/teamhealth). Needs kcat, python3, Java and
# the broker jars (ops/kafka/broker.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/crash/soak.py" "$@"
