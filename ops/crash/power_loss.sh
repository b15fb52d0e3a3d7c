#!/usr/bin/env bash
# Simulated power cuts x 50 during an ingest on a real broker: after each, the log must be a
# consistent prefix whose offsets match it; at the end every event is in the log exactly once.
# Not run by CI. See ops/crash/README.md and tests/integration/test_power_loss.py (the shim).
#
#   ops/crash/power_loss.sh [--events N] [--cuts K] [--min-delay S] [--max-delay S] [--seed N]
#                           [--timeout S] [--keep]
#
# Environment: TEAMHEALTH_BIN (default <repo>/build/teamhealth), TEAMHEALTH_POWERLOSS_SHIM
# (default <repo>/build/tests/faults/power_loss_shim.so), TMPDIR. Needs kcat, python3, Java and
# the broker jars (ops/kafka/broker.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/power_loss.py" "$@"
