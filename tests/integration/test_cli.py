"""The command line without a broker: `normalize` and the canonical JSON schema."""

from __future__ import annotations

import functools
import json
import os
import subprocess
from pathlib import Path

import jsonschema
import pytest

from conftest import MissingSeries

REPO = Path(__file__).resolve().parents[2]
BIN = os.environ.get("TEAMHEALTH_BIN", str(REPO / "build" / "teamhealth"))
FIXTURES = REPO / "tests" / "fixtures" / "payloads"
GOLDEN = REPO / "tests" / "sources" / "golden"
VARIANTS = REPO / "tests" / "sources" / "variants"
SCHEMA = json.loads((REPO / "schemas" / "event.schema.json").read_text())


def normalize(source: str, *files, headers=()):
    args = [BIN, "normalize", "--source", source]
    for h in headers:
        args += ["--header", h]
    return subprocess.run(args + [str(f) for f in files], capture_output=True, text=True,
                          timeout=60)


def golden_cases():
    for golden in sorted(GOLDEN.rglob("*.jsonl")):
        rel = golden.relative_to(GOLDEN)
        source = rel.parts[0]
        payload = FIXTURES / rel.with_suffix(".json")
        if not payload.exists():
            payload = VARIANTS / rel.with_suffix(".json")
        headers = []
        hfile = golden.with_suffix(".headers")
        if hfile.exists():
            for line in hfile.read_text().splitlines():
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers.append(f"{name.strip()}={value.strip()}")
        yield pytest.param(source, payload, golden, headers, id=str(rel))


@pytest.mark.parametrize("source,payload,golden,headers", list(golden_cases()))
def test_normalize_prints_the_golden_events_and_they_match_the_schema(source, payload, golden,
                                                                       headers):
    expected = [line for line in golden.read_text().splitlines() if line.strip()]
    r = normalize(source, payload, headers=headers)
    if expected and expected[0].startswith("!reject "):
        assert r.returncode == 1
        assert r.stdout == ""
        reason = expected[0].split(" ", 1)[1]
        # The error names the file and the reason.
        assert str(payload) in r.stderr and reason in r.stderr, r.stderr
        return
    assert r.returncode == 0, r.stderr
    printed = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(printed) == len(expected)
    for got, want in zip(printed, expected):
        jsonschema.validate(got, SCHEMA)
        want = json.loads(want)
        # The event time the CLI falls back to (no Kafka record) is the only allowed difference.
        if want.get("occurred_at") == "2023-11-14T22:13:20.000Z":
            got.pop("occurred_at"), want.pop("occurred_at")
            got["id"] = want["id"] = None  # ids may hash the fallback time
        assert got == want


def test_normalize_goes_on_after_a_bad_file_and_exits_1(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    good = FIXTURES / "pagerduty" / "v3" / "incident.triggered.json"
    r = normalize("pagerduty", bad, good)
    assert r.returncode == 1
    assert f"{bad}: invalid_json" in r.stderr
    assert len(r.stdout.splitlines()) == 1
    assert json.loads(r.stdout)["type"] == "incident.triggered"


TIME_OFF = {"id": "canonical:to-1", "source": "canonical", "type": "person.time_off",
            "occurred_at": "2026-02-20T09:00:00.000Z", "actor": None,
            "subject": {"kind": "time_off", "id": "hr-4711"},
            "attrs": {"end": "2026-03-07T00:00:00Z", "person": "slack:U123",
                      "start": "2026-03-02T00:00:00Z"}}
PULSE = {"id": "canonical:pulse-1", "source": "canonical", "type": "pulse.response",
         "occurred_at": "2026-03-06T16:00:00.000Z", "actor": None,
         "subject": {"kind": "team", "id": "payments"}, "attrs": {"score": 4}}


def test_time_off_and_pulse_round_trip_and_match_the_schema(tmp_path):
    cancelled = {**TIME_OFF, "id": "canonical:to-2",
                 "attrs": {**TIME_OFF["attrs"], "cancelled": True}}
    for event in (TIME_OFF, cancelled, PULSE):
        f = tmp_path / "event.json"
        f.write_text(json.dumps(event))
        r = normalize("canonical", f)
        assert r.returncode == 0, r.stderr
        printed = json.loads(r.stdout)
        jsonschema.validate(printed, SCHEMA)
        assert printed == event  # normalize prints the person reference, as given


def assert_refused_by_both(tmp_path, event: dict, field: str) -> None:
    """The schema refuses `event`, and `normalize` quarantines it as invalid_field naming
    `field`: the two agree on every refused shape."""
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(event, SCHEMA)
    f = tmp_path / "event.json"
    f.write_text(json.dumps(event))
    r = normalize("canonical", f)
    assert r.returncode == 1 and r.stdout == ""
    assert "invalid_field" in r.stderr and f"field {field}" in r.stderr, r.stderr


@pytest.mark.parametrize("change,field", [
    ({"actor": "slack:U123"}, "actor"),
    ({"attrs": {"score": 6}}, "attrs.score"),
    ({"attrs": {"score": 3.5}}, "attrs.score"),
    ({"attrs": {"score": 4, "respondent": "slack:U123"}}, "attrs.respondent"),
    ({"subject": {"kind": "channel", "id": "payments"}}, "subject.kind"),
    # The subject is stored as given (not pseudonymised): only kind and id, whatever the value.
    ({"subject": {"kind": "team", "id": "payments", "key": "slack:UKIM"}}, "subject.key"),
    ({"subject": {"kind": "team", "id": "payments",
                  "title": "answer of Kim Lee: my lead ignores me"}}, "subject.title"),
    ({"subject": {"kind": "team", "id": "payments", "project": "PAY"}}, "subject.project"),
    ({"subject": {"kind": "team", "id": "payments", "service": "PSVC"}}, "subject.service"),
    ({"subject": {"kind": "team", "id": "payments", "title": ""}}, "subject.title"),
    ({"subject": {"kind": "team", "id": "payments", "key": None}}, "subject.key"),
    ({"subject": {"kind": "team", "id": "payments", "respondent": "kim"}}, "subject.respondent"),
])
def test_pulse_linked_to_a_person_is_refused_by_normalize_and_the_schema(tmp_path, change, field):
    event = {**PULSE, **change}
    assert_refused_by_both(tmp_path, event, field)


def test_pulse_with_an_empty_actor_is_no_actor_for_normalize_and_the_schema(tmp_path):
    # For every type "" is no actor (stored as nothing, printed as null), so the schema allows it.
    event = {**PULSE, "actor": ""}
    jsonschema.validate(event, SCHEMA)
    f = tmp_path / "event.json"
    f.write_text(json.dumps(event))
    r = normalize("canonical", f)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == PULSE


@pytest.mark.parametrize("subject,field", [
    ({"kind": "time_off", "id": "hr-4711", "title": "sick leave: chemotherapy"}, "subject.title"),
    ({"kind": "time_off", "id": "hr-4711", "key": "slack:U123"}, "subject.key"),
    ({"kind": "time_off", "id": "hr-4711", "project": "oncology"}, "subject.project"),
    ({"kind": "time_off", "id": "hr-4711", "service": "PSVC"}, "subject.service"),
    ({"kind": "time_off", "id": "hr-4711", "title": None}, "subject.title"),
    ({"kind": "time_off", "id": "hr-4711", "reason": "sick"}, "subject.reason"),
])
def test_time_off_subject_is_only_kind_and_id_for_normalize_and_the_schema(tmp_path, subject,
                                                                          field):
    event = {**TIME_OFF, "subject": subject}
    assert_refused_by_both(tmp_path, event, field)


@pytest.mark.parametrize("attrs,field", [
    ({"start": "2026-03-02T00:00:00Z", "end": "2026-03-07T00:00:00Z"}, "attrs.person"),
    ({"person": "slack:U1", "end": "2026-03-07T00:00:00Z"}, "attrs.start"),
    ({"person": "slack:U1", "start": "2026-03-02T00:00:00Z"}, "attrs.end"),
    ({"person": "slack:U1", "start": "2026-03-02T00:00:00Z", "end": "2026-03-07T00:00:00Z",
      "reason": "sick"}, "attrs.reason"),
])
def test_time_off_without_person_or_interval_is_refused_by_normalize_and_the_schema(
        tmp_path, attrs, field):
    event = {**TIME_OFF, "attrs": attrs}
    assert_refused_by_both(tmp_path, event, field)


def test_slack_url_verification_prints_nothing():
    r = normalize("slack", FIXTURES / "slack" / "url_verification.json")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "" and r.stderr == ""


def test_github_event_header_is_used_and_inferred_when_missing():
    payload = FIXTURES / "github" / "pull_request-opened.json"
    with_header = normalize("github", payload, headers=["X-GitHub-Event=pull_request",
                                                        "X-GitHub-Delivery=d-1"])
    without = normalize("github", payload)
    assert with_header.returncode == 0 and without.returncode == 0
    a, b = json.loads(with_header.stdout), json.loads(without.stdout)
    assert a["type"] == b["type"] == "pull_request.opened"
    assert a["id"] == "github:d-1" and b["id"] != a["id"]


def test_normalize_usage_errors():
    assert normalize("nosuchsource", FIXTURES / "jira" / "comment_created.json").returncode == 2
    r = subprocess.run([BIN, "normalize", "--source", "jira"], capture_output=True, text=True)
    assert r.returncode == 2 and "usage" in r.stderr


def test_help_lists_every_subcommand():
    r = subprocess.run([BIN, "--help"], capture_output=True, text=True)
    assert r.returncode == 0
    for cmd in ["serve", "demo", "report", "normalize", "import", "backfill", "erase",
                "check-config", "inspect", "explain", "generate"]:
        assert f"\n  {cmd}" in r.stdout, cmd


# --- report ---------------------------------------------------------------------------------

SCENARIO = REPO / "tests" / "projections" / "oncall_load"


def report(*args):
    r = subprocess.run([BIN, "report", "--config", str(SCENARIO / "config.toml"), "--events",
                        str(SCENARIO / "events.jsonl"), "--team", "payments", "--format", "json",
                        *args], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def value(rep, name, **labels):
    """The value (a histogram: its count, sum and quantiles) of the series with exactly these
    labels. MissingSeries when the report has no metric of that name or no such series: never
    0, so a misspelt name or label cannot pass for a zero."""
    if name not in rep["metrics"]:
        raise MissingSeries(f"the report has no metric {name}")
    for series in rep["metrics"][name]:
        if series["labels"] == labels:
            return series.get("value", series)
    raise MissingSeries(f"the report has no series {name}{labels}: "
                        f"{[s['labels'] for s in rep['metrics'][name]]}")


ALL_MONTH = ("--from", "2026-03-01T00:00:00Z", "--to", "2026-04-01T00:00:00Z")


@functools.cache
def all_month_json() -> str:
    return json.dumps(report(*ALL_MONTH))


def is_zero(rep, name, **labels) -> bool:
    """True if the series is 0 in `rep`, or absent (a report has no series for what did not
    happen in its window). So that absence cannot hide a misspelt name or label, the same
    series must exist, non-zero, in the report over the whole month (expected.txt)."""
    reference = value(json.loads(all_month_json()), name, **labels)
    assert (reference["count"] if isinstance(reference, dict) else reference) > 0, \
        f"{name}{labels} is 0 over the whole month too: no reference for its spelling"
    try:
        got = value(rep, name, **labels)
    except MissingSeries:
        if name not in rep["metrics"]:
            raise
        return True
    return (got["count"] if isinstance(got, dict) else got) == 0


def test_report_over_everything_matches_the_golden_scenario():
    rep = report(*ALL_MONTH)
    assert rep["team"] == "payments"
    assert rep["from"] == "2026-03-01T00:00:00.000Z" and rep["to"] == "2026-04-01T00:00:00.000Z"
    # Values worked out by hand in tests/projections/oncall_load/expected.txt (with erin).
    assert value(rep, "teamhealth_oncall_interruptions_total", period="sleep") == 5
    assert value(rep, "teamhealth_oncall_interruptions_total", period="business") == 1
    assert value(rep, "teamhealth_oncall_interruptions_total", period="off_hours") == 1
    assert value(rep, "teamhealth_oncall_sleep_disrupted_nights_total") == 4
    assert value(rep, "teamhealth_oncall_incidents_total", urgency="high") == 6
    tta = value(rep, "teamhealth_oncall_time_to_ack_seconds")
    # Q1 360, O1 300: nearest-rank p50 = 300, p80 = p95 = 360.
    assert (tta["count"], tta["sum"], tta["p50"], tta["p80"], tta["p95"]) == (2, 660, 300,
                                                                               360, 360)
    ttr = value(rep, "teamhealth_oncall_time_to_resolve_seconds")
    # Q1 2760, Q5 1800, O1 1800, Q8 1800: nearest-rank p50 = 1800 (2nd of 4), p80 = p95 =
    # 2760 (4th of 4).
    assert (ttr["count"], ttr["sum"], ttr["p50"], ttr["p80"], ttr["p95"]) == (4, 8160, 1800,
                                                                               2760, 2760)
    assert value(rep, "teamhealth_oncall_unacknowledged_total") == 2
    assert value(rep, "teamhealth_oncall_open_incidents") == 2
    assert value(rep, "teamhealth_oncall_shift_seconds_total") == 604800
    # Three members: burnout and direct-interruption metrics are suppressed (min_group_size 5).
    assert "teamhealth_burnout_members_at_risk" not in rep["metrics"]
    assert "teamhealth_burnout_members_at_risk" in rep["suppressed"]


def test_report_counts_only_what_happened_inside_the_window():
    # [Mar 2 14:00, Mar 28 00:00): for payments, Q6 (Mar 27 21:30Z, London 21:30 Fri =
    # off_hours) and erin's O1 and Q8 (Mar 10 23:00Z and 23:00:30, UTC sleep: one merged
    # interruption, one night) are triggered; O1 is acked after 300 s, O1 and Q8 resolved after
    # 1800 s each, Q8 without ack. Q1's pages, escalation, reassignments and resolve are
    # before, the shift starts before, Q5/Q7 are after. Gauges are as of Mar 28: Q6 is open,
    # Q1, O1 and Q8 resolved -> 1.
    rep = report("--from", "2026-03-02T14:00:00Z", "--to", "2026-03-28T00:00:00Z")
    assert value(rep, "teamhealth_oncall_interruptions_total", period="off_hours") == 1
    assert value(rep, "teamhealth_oncall_interruptions_total", period="sleep") == 1
    assert is_zero(rep, "teamhealth_oncall_interruptions_total", period="business")
    assert value(rep, "teamhealth_oncall_sleep_disrupted_nights_total") == 1
    assert value(rep, "teamhealth_oncall_incidents_total", urgency="high") == 3
    tta = value(rep, "teamhealth_oncall_time_to_ack_seconds")
    assert (tta["count"], tta["sum"]) == (1, 300)
    ttr = value(rep, "teamhealth_oncall_time_to_resolve_seconds")
    assert (ttr["count"], ttr["sum"]) == (2, 3600)
    assert value(rep, "teamhealth_oncall_unacknowledged_total") == 1
    assert is_zero(rep, "teamhealth_oncall_escalations_total")
    assert is_zero(rep, "teamhealth_oncall_reassignments_total")
    assert is_zero(rep, "teamhealth_oncall_shift_seconds_total")
    assert value(rep, "teamhealth_oncall_open_incidents") == 1


def test_report_what_if_changes_definitions_without_a_daemon():
    # Sleep 03:00-07:00: Q1's pages at 02:14-02:16 local (alice GMT, bob UTC), Q7 at 22:30 BST
    # and erin's O1 at 23:00 UTC (Tuesday) are no longer sleep but off_hours (weeknights); with
    # Q6: 3 + 1 + 1 + 1 = 6 off_hours. Q5 stays business.
    rep = report(*ALL_MONTH, "--set", "sleep=03:00-07:00")
    assert is_zero(rep, "teamhealth_oncall_interruptions_total", period="sleep")
    assert value(rep, "teamhealth_oncall_interruptions_total", period="off_hours") == 6
    assert value(rep, "teamhealth_oncall_interruptions_total", period="business") == 1
    assert is_zero(rep, "teamhealth_oncall_sleep_disrupted_nights_total")


def test_report_formats_and_errors(tmp_path):
    base = [BIN, "report", "--config", str(SCENARIO / "config.toml"), "--events",
            str(SCENARIO / "events.jsonl"), "--team", "payments", "--from",
            "2026-03-01T00:00:00Z", "--to", "2026-04-01T00:00:00Z"]
    csv = subprocess.run(base + ["--format", "csv"], capture_output=True, text=True)
    assert csv.returncode == 0
    # One column per label (test_report_formats.py reads it back with the csv module).
    header = csv.stdout.splitlines()[0].split(",")
    assert header[0] == "metric" and "labels" not in header
    assert header[-7:] == ["value", "count", "sum", "mean", "p50", "p80", "p95"]
    table = subprocess.run(base, capture_output=True, text=True)
    assert "teamhealth_oncall_incidents_total{urgency=\"high\"} 6" in table.stdout
    bad = subprocess.run(base + ["--set", "sleep=late"], capture_output=True, text=True)
    assert bad.returncode == 2 and "sleep=late" in bad.stderr
    backwards = subprocess.run(base[:-4] + ["--from", "2026-04-01T00:00:00Z", "--to",
                                            "2026-03-01T00:00:00Z"], capture_output=True,
                               text=True)
    assert backwards.returncode == 2


def test_per_person_series_only_when_the_config_asks_for_them(tmp_path):
    cfg = tmp_path / "people.toml"
    cfg.write_text((SCENARIO / "config.toml").read_text() + """
[privacy]
person_metrics = true
[[directory.people]]
handle = "alice"
team = "payments"
timezone = "Europe/London"
identities = ["pagerduty:PALICE"]
""")
    args = ["--events", str(SCENARIO / "events.jsonl"), "--team", "payments", "--format",
            "json", "--from", "2026-03-01T00:00:00Z", "--to", "2026-04-01T00:00:00Z"]
    on = subprocess.run([BIN, "report", "--config", str(cfg), *args], capture_output=True,
                        text=True, timeout=60)
    assert on.returncode == 0, on.stderr
    rep = json.loads(on.stdout)
    # alice's interruptions (expected.txt): Q1 02:14 and 02:16 and Q7 in sleep, Q5 business,
    # Q6 off_hours. bob is not named by the directory: his series are not shown.
    series = {(s["labels"]["person"], s["labels"]["period"]): s["value"]
              for s in rep["metrics"]["teamhealth_person_oncall_interruptions_total"]}
    assert series == {("alice", "sleep"): 3, ("alice", "business"): 1, ("alice", "off_hours"): 1}
    off = report(*ALL_MONTH)
    assert off["metrics"]["teamhealth_person_oncall_interruptions_total"] == []
