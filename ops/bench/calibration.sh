#!/usr/bin/env bash
# Burnout calibration sweep (docs/design.md section 7.5): runs tests/calibration over many seeds
# of each generated organisation (the test command plays only a few) and prints how often a
# healthy team crosses the TeamhealthBurnoutRisk line (>= 25 % of members at risk on any
# signal) or one signal flags more than a tenth of a healthy team, and how often the
# overloaded team is not over the line. Not run by CI; its figures go in the issue notes.
#
#   ops/bench/calibration.sh [SEEDS]     # SEEDS: "A-B", default 1-30
#
# Environment: BUILD (default <repo>/build, with tests/calibration_test built).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${BUILD:-$repo/build}
seeds=${1:-1-30}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
TEAMHEALTH_CALIBRATION_SEEDS=$seeds "$build/tests/calibration_test" >"$out" 2>&1 || true
python3 - "$out" "$seeds" <<'PY'
import re, sys, collections
lines = open(sys.argv[1]).read().splitlines()
# Per organisation shape: organisations, healthy and overloaded team-days, healthy team-days
# over the line, healthy team-days with one signal over a tenth, overloaded team-days under.
stats = collections.defaultdict(lambda: collections.Counter())
signals = collections.Counter()
shape = None
for i, line in enumerate(lines):
    m = re.match(r"seed=\d+ teams=(\d+) people=(\d+) days=(\d+): (\d+) days evaluated", line)
    if m:
        teams, days = int(m.group(1)), int(m.group(4))
        shape = f"{teams} teams, {m.group(2)} people, {m.group(3)} days"
        stats[shape]["organisations"] += 1
        stats[shape]["healthy team-days"] += (teams - 1) * days
        stats[shape]["overloaded team-days"] += days
    elif line.startswith("Expected: (share) < (0.25)"):
        stats[shape]["healthy team-days over 25 %"] += 1
    elif line.startswith("Expected: (share) > (0.25)"):
        stats[shape]["overloaded team-days not over 25 %"] += 1
    elif line.startswith("Expected: (r.at_risk"):
        stats[shape]["healthy team-days with a signal over a tenth"] += 1
        signals[lines[i + 1].split(" in ")[0]] += 1
print(f"seeds {sys.argv[2]}")
for shape, c in stats.items():
    print(f"  {shape}: " + ", ".join(f"{k} {v}" for k, v in c.items()))
print(f"  signals over a tenth of a healthy team: {dict(signals)}")
PY
