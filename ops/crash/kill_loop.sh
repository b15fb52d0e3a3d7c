#!/usr/bin/env bash
# SIGKILL x 50 during a 1,000,000-event ingest on a real broker, then checks that the log holds
# every event exactly once and the stored offsets equal the end offsets. Not run by CI. See
# ops/crash/README.md.
#
#   ops/crash/kill_loop.sh [--events N] [--kills K] [--min-delay S] [--max-delay S] [--seed N]
#                          [--timeout S] [--keep]
#
# Environment: TEAMHEALTH_BIN (default <repo>/build/teamhealth), TMPDIR (the temp dir needs
# ~4 GB for 1M events). Needs kcat, python3, Java and the broker jars (ops/kafka/broker.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/kill_loop.py" "$@"
