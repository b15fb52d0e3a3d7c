"""`teamhealth explain` (docs/design.md section 8): the facts behind a report's number, each
with the event that caused it, and a total equal to the report's number.

The hand-worked golden scenarios of tests/projections are the input: one case checks the facts
of one number against the arithmetic in tests/projections/oncall_load/expected.txt, and one
checks, for every counter and histogram series of every scenario, that explain's total equals
the report's value."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import TEAMHEALTH_BIN

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "tests" / "projections"
MARCH = ("--from", "2026-03-01T00:00:00Z", "--to", "2026-04-01T00:00:00Z")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(TEAMHEALTH_BIN), *args], capture_output=True, text=True,
                          timeout=120)


def explain(scenario: str, team: str, metric: str, *extra: str, window=MARCH) -> dict:
    d = SCENARIOS / scenario
    r = run("explain", "--config", str(d / "config.toml"), "--events", str(d / "events.jsonl"),
            "--team", team, *window, "--format", "json", *extra, metric)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def report(scenario: str, team: str | None, window=MARCH):
    """One team's report, or (team None) every team's: a list of them."""
    d = SCENARIOS / scenario
    r = run("report", "--config", str(d / "config.toml"), "--events", str(d / "events.jsonl"),
            *(["--team", team] if team else []), *window, "--format", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_the_sleep_interruptions_of_payments_are_the_five_hand_worked_pages():
    # expected.txt: alice 02:14:00 (trigger of Q1), bob 02:14:30 (escalation), alice again
    # 02:16:10 (reassign, 130 s after her last page), erin O1 2026-03-10T23:00 (her Q8 page 30 s
    # later is merged: no fact), alice Q7 2026-03-30T21:30Z (BST 22:30). 5 facts of 1 = 5.
    got = explain("oncall_load", "payments", "teamhealth_oncall_interruptions_total",
                  "--label", "period=sleep")
    assert got["total"] == 5 and got["type"] == "counter"
    assert [(f["at"], f["event"]["type"], f["event"]["subject"]) for f in got["facts"]] == [
        ("2026-03-02T02:14:00.000Z", "incident.triggered", "incident:Q1"),
        ("2026-03-02T02:14:30.000Z", "incident.escalated", "incident:Q1"),
        ("2026-03-02T02:16:10.000Z", "incident.reassigned", "incident:Q1"),
        ("2026-03-10T23:00:00.000Z", "incident.triggered", "incident:O1"),
        ("2026-03-30T21:30:00.000Z", "incident.triggered", "incident:Q7"),
    ]
    assert all(f["value"] == 1 and f["labels"] == {"period": "sleep"} for f in got["facts"])
    # A narrower window keeps only its facts: [Mar 10, Mar 31) holds O1 alone, so 1.
    narrow = explain("oncall_load", "payments", "teamhealth_oncall_interruptions_total",
                     "--label", "period=sleep",
                     window=("--from", "2026-03-10T00:00:00Z", "--to", "2026-03-30T00:00:00Z"))
    assert narrow["total"] == 1 and narrow["facts"][0]["event"]["subject"] == "incident:O1"


def test_histogram_facts_are_the_observations():
    # Time to ack of payments (expected.txt): Q1 acked 02:20:00, triggered 02:14:00 -> 360 s;
    # O1 acked 23:05:00, triggered 23:00:00 -> 300 s. Count 2, sum 660.
    got = explain("oncall_load", "payments", "teamhealth_oncall_time_to_ack_seconds")
    assert got["type"] == "histogram" and got["count"] == 2 and got["sum"] == 660
    assert sorted(f["value"] for f in got["facts"]) == [300, 360]
    assert {f["event"]["type"] for f in got["facts"]} == {"incident.acknowledged"}


def gauges() -> set[str]:
    r = run("metrics")
    assert r.returncode == 0, r.stderr
    return {line.split()[0] for line in r.stdout.splitlines() if line.split()[1] == "gauge"}


def series_of(rep: dict):
    for name, series in rep["metrics"].items():
        for s in series:
            yield name, s


@pytest.mark.parametrize("scenario", ["oncall_load", "context_switching", "flow", "burnout"])
def test_every_number_of_a_report_is_the_total_of_its_facts(scenario):
    skip = gauges()  # computed at `to`, no facts
    checked = 0
    for rep in report(scenario, None):
        team = rep["team"]
        for name, s in series_of(rep):
            if name in skip:
                continue
            labels = [a for k, v in sorted(s["labels"].items()) for a in ("--label", f"{k}={v}")]
            got = explain(scenario, team, name, *labels)
            # Facts of series with more labels than asked are included too: keep exact matches.
            exact = [f for f in got["facts"] if f["labels"] == s["labels"]]
            if "value" in s:
                assert sum(f["value"] for f in exact) == pytest.approx(s["value"]), (name, s)
            else:
                assert len(exact) == s["count"], (name, s)
                assert sum(f["value"] for f in exact) == pytest.approx(s["sum"]), (name, s)
            checked += 1
    assert checked >= 3, f"only {checked} series in {scenario}: the check proves little"


def test_explain_errors_name_the_bad_argument(tmp_path):
    d = SCENARIOS / "oncall_load"
    base = ["explain", "--config", str(d / "config.toml"), "--events", str(d / "events.jsonl"),
            "--team", "payments", *MARCH]
    for extra, words in [
        (["teamhealth_wip_items"], "a gauge"),
        (["teamhealth_nonsense_total"], "not a team-health metric"),
        (["--label", "period", "teamhealth_oncall_interruptions_total"], "expected NAME=VALUE"),
        (["--label", "team=x", "teamhealth_oncall_interruptions_total"], "other than team"),
        (["--format", "csv", "teamhealth_oncall_interruptions_total"], "format csv"),
        ([], "METRIC"),
    ]:
        r = run(*base, *extra)
        assert r.returncode == 2 and words in r.stderr, (extra, r.returncode, r.stderr)
    # A small team's sensitive metric is refused, as the report hides it (min_group_size 5).
    r = run(*base[:5], "--team", "search", *MARCH, "teamhealth_direct_interruptions_total")
    assert r.returncode == 1 and "suppressed" in r.stderr, r.stderr
