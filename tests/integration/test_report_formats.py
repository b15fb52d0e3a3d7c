"""`report` formats (CSV per RFC 4180 with a column per label, humanised table durations, JSON
raw), every-team reports, unknown teams, several --events files, and the team list
(`teams --log`, /api/v1/teams) over a log a real daemon wrote.

Numbers come from the on-call golden scenario, worked out by hand in
tests/projections/oncall_load/expected.txt; the arithmetic is repeated beside each assertion.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

from conftest import (REPO, TEAMHEALTH_BIN, run_teamhealth, unique_topic, wait_until,
                      write_config)

SCENARIO = REPO / "tests" / "projections" / "oncall_load"
CONFIG = SCENARIO / "config.toml"
EVENTS = SCENARIO / "events.jsonl"
MONTH = ["--from", "2026-03-01T00:00:00Z", "--to", "2026-04-01T00:00:00Z"]


def report(*args: str, config: Path = CONFIG, events=(EVENTS,)) -> str:
    r = run_teamhealth("report", "--config", str(config), "--events", *map(str, events), *args,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def csv_rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = rows[0]
    assert all(len(r) == len(header) for r in rows), rows
    return header, [dict(zip(header, r)) for r in rows[1:]]


# The number columns after the label columns (score_1..score_5 follow only with a pulse row).
NUMBERS = ("metric", "value", "count", "sum", "mean", "p50", "p80", "p95")


def find(rows: list[dict[str, str]], metric: str, **labels: str) -> dict[str, str]:
    """The one row of `metric` whose label cells are exactly `labels` (others empty)."""
    label_columns = [c for c in rows[0] if c not in NUMBERS and not c.startswith("score_")] \
        if rows else []
    hits = [r for r in rows if r["metric"] == metric and
            all(r[c] == labels.get(c, "") for c in label_columns)]
    assert len(hits) == 1, (metric, labels, [r for r in rows if r["metric"] == metric])
    return hits[0]


def test_csv_has_one_column_per_label_and_quotes_per_rfc_4180(tmp_path):
    # alice's handle holds a comma and quotes; per-person series on, so the per-person
    # interruptions series has two labels (period, person).
    cfg = tmp_path / "people.toml"
    cfg.write_text(CONFIG.read_text() + """
[privacy]
person_metrics = true
[[directory.people]]
handle = 'al,"ice"'
team = "payments"
timezone = "Europe/London"
identities = ["pagerduty:PALICE"]
""")
    raw = subprocess.run([str(TEAMHEALTH_BIN), "report", "--config", str(cfg), "--events",
                          str(EVENTS), "--team", "payments", "--format", "csv", *MONTH],
                         capture_output=True, timeout=60)
    assert raw.returncode == 0, raw.stderr
    # RFC 4180 line ends: CRLF, and no bare LF (no label value here holds a line break).
    assert raw.stdout.endswith(b"\r\n") and b"\n" not in raw.stdout.replace(b"\r\n", b"")
    out = raw.stdout.decode()
    header, rows = csv_rows(out)
    assert out.split("\r\n", 1)[0] == ",".join(header)  # no column name needed quoting
    # metric, every label name used by a payments row in sorted order, then the numbers.
    # payments rows carry `period` (interruptions), `urgency` (incidents), `person`
    # (per-person series); no `team` column in a one-team report.
    labels = header[1:-7]
    assert header[0] == "metric" and header[-7:] == ["value", "count", "sum", "mean", "p50", "p80",
                                                     "p95"]
    assert labels == sorted(labels) and {"period", "person", "urgency"} <= set(labels)
    assert "team" not in labels
    # The field is quoted with its quotes doubled on the wire ...
    assert '"al,""ice"""' in out
    # ... and reads back as the handle. alice's interruptions (expected.txt): Q1 02:14 and
    # 02:16 (GMT, sleep) and Q7 22:30 BST (sleep) = 3; Q5 08:30 BST business = 1; Q6 21:30 GMT
    # off_hours = 1.
    person = "teamhealth_person_oncall_interruptions_total"
    assert find(rows, person, period="sleep", person='al,"ice"')["value"] == "3"
    assert find(rows, person, period="business", person='al,"ice"')["value"] == "1"
    assert find(rows, person, period="off_hours", person='al,"ice"')["value"] == "1"
    # Team series: sleep 5 (alice 3 + bob 1 + erin's merged O1/Q8 1), business 1 (Q5),
    # off_hours 1 (Q6); nights 4 (alice Mar 1, bob Mar 1, erin Mar 10, alice Mar 30);
    # incidents high 6 (Q1 Q5 Q6 Q7 O1 Q8); shift 7 x 86400 = 604800.
    team = "teamhealth_oncall_interruptions_total"
    sleep = find(rows, team, period="sleep")
    assert [sleep[k] for k in ("value", "count", "sum", "mean", "p50", "p80", "p95")] == \
        ["5", "", "", "", "", "", ""]
    assert find(rows, team, period="business")["value"] == "1"
    assert find(rows, team, period="off_hours")["value"] == "1"
    assert find(rows, "teamhealth_oncall_sleep_disrupted_nights_total")["value"] == "4"
    assert find(rows, "teamhealth_oncall_incidents_total", urgency="high")["value"] == "6"
    assert find(rows, "teamhealth_oncall_shift_seconds_total")["value"] == "604800"
    # Histograms: no value; ack Q1 360 + O1 300 = 660, mean 660 / 2 = 330, nearest-rank p50 =
    # 300 (1st of 2), p80 = p95 = 360; resolve Q1 2760 + Q5 1800 + O1 1800 + Q8 1800 = 8160,
    # mean 8160 / 4 = 2040, p50 = 1800 (2nd of 4), p80 = p95 = 2760 (4th of 4).
    tta = find(rows, "teamhealth_oncall_time_to_ack_seconds")
    assert [tta[k] for k in ("value", "count", "sum", "mean", "p50", "p80", "p95")] == \
        ["", "2", "660", "330", "300", "360", "360"]
    ttr = find(rows, "teamhealth_oncall_time_to_resolve_seconds")
    assert [ttr[k] for k in ("value", "count", "sum", "mean", "p50", "p80", "p95")] == \
        ["", "4", "8160", "2040", "1800", "2760", "2760"]


# Incidents on service PAY (-> payments), paging bob, whose times to resolve (no ack) are the
# durations to humanise:
# Z1 0 s, Z2 45 s, Z3 12 min 30 s = 750 s, Z4 from May 1 03:00 to May 9 01:00 = 7 d 22 h =
# 7 x 86400 + 22 x 3600 = 684000 s.
DURATIONS = [("Z1", "2026-05-01T00:00:00.000Z", "2026-05-01T00:00:00.000Z"),
             ("Z2", "2026-05-01T01:00:00.000Z", "2026-05-01T01:00:45.000Z"),
             ("Z3", "2026-05-01T02:00:00.000Z", "2026-05-01T02:12:30.000Z"),
             ("Z4", "2026-05-01T03:00:00.000Z", "2026-05-09T01:00:00.000Z")]


def durations_file(tmp_path: Path) -> Path:
    lines = []
    for n, (incident, start, end) in enumerate(DURATIONS):
        subject = {"kind": "incident", "id": incident, "service": "PAY"}
        lines.append({"id": f"pagerduty:z{n}t", "source": "pagerduty",
                      "type": "incident.triggered", "occurred_at": start, "actor": None,
                      "subject": subject, "attrs": {"assignees": ["pagerduty:PBOB"], "urgency": "high",
                                                    "priority": None, "status": "triggered"}})
        lines.append({"id": f"pagerduty:z{n}r", "source": "pagerduty",
                      "type": "incident.resolved", "occurred_at": end, "actor": None,
                      "subject": subject, "attrs": {}})
    f = tmp_path / "durations.jsonl"
    f.write_text("".join(json.dumps(l) + "\n" for l in lines))
    return f


def ttr_line(table: str) -> str:
    (line,) = [l for l in table.splitlines()
               if l.strip().startswith("teamhealth_oncall_time_to_resolve_seconds")]
    return line.strip()


def test_table_humanises_durations_and_json_keeps_seconds(tmp_path):
    events = (durations_file(tmp_path),)
    may = ["--from", "2026-05-01T00:00:00Z", "--to", "2026-06-01T00:00:00Z"]
    # All four: sorted 0, 45, 750, 684000; nearest rank p50 = 2nd = 45 s, p80 = p95 = 4th =
    # 684000 s; sum 684795 s = 7d 22h 13m 15s, shown as its two largest units; mean
    # 684795 / 4 = 171198.75 s, rounded 171199 s = 1d 23h 33m 19s -> "1d 23h".
    table = report("--team", "payments", *may, events=events)
    assert ttr_line(table) == ("teamhealth_oncall_time_to_resolve_seconds{} count=4 sum=7d 22h "
                               "mean=1d 23h p50=45s p80=7d 22h p95=7d 22h")
    rep = json.loads(report("--team", "payments", "--format", "json", *may, events=events))
    (ttr,) = rep["metrics"]["teamhealth_oncall_time_to_resolve_seconds"]
    assert (ttr["count"], ttr["sum"], ttr["mean"], ttr["p50"], ttr["p80"], ttr["p95"]) == \
        (4, 684795, 171198.75, 45, 684000, 684000)
    assert "distribution" not in ttr  # only the pulse has one
    # Z1 alone (resolved when triggered): 0s. Z3 alone: 750 s = 12m 30s.
    z1 = report("--team", "payments", "--from", "2026-05-01T00:00:00Z", "--to",
                "2026-05-01T00:30:00Z", events=events)
    assert ttr_line(z1) == "teamhealth_oncall_time_to_resolve_seconds{} count=1 sum=0s mean=0s " \
                           "p50=0s p80=0s p95=0s"
    z3 = report("--team", "payments", "--from", "2026-05-01T02:00:00Z", "--to",
                "2026-05-01T02:30:00Z", events=events)
    assert ttr_line(z3) == "teamhealth_oncall_time_to_resolve_seconds{} count=1 sum=12m 30s " \
                           "mean=12m 30s p50=12m 30s p80=12m 30s p95=12m 30s"
    # Counters in seconds too (the shift: 604800 s = 7d); counts are not durations.
    month = report("--team", "payments", *MONTH)
    assert "  teamhealth_oncall_shift_seconds_total{} 7d\n" in month
    assert '  teamhealth_oncall_incidents_total{urgency="high"} 6\n' in month
    # resolve: 8160 s = 2h 16m, mean 2040 s = 34m, 1800 s = 30m, 2760 s = 46m.
    assert "teamhealth_oncall_time_to_resolve_seconds{} count=4 sum=2h 16m mean=34m p50=30m " \
           "p80=46m p95=46m\n" in month


def test_every_team_when_team_is_omitted():
    one = json.loads(report("--team", "payments", "--format", "json", *MONTH))
    every = json.loads(report("--format", "json", *MONTH))
    # The directory's teams (payments, search), the config's service map (PAY -> payments),
    # and `unmapped`; each element is the one-team report.
    assert [t["team"] for t in every] == ["payments", "search", "unmapped"]
    assert every[0] == one
    search = {tuple(s["labels"].items()): s for s in every[1]["metrics"][
        "teamhealth_oncall_incidents_total"]}
    assert search[(("urgency", "low"),)]["value"] == 3  # Q2 Q3 Q4
    unmapped = every[2]["metrics"]["teamhealth_oncall_interruptions_total"]
    assert unmapped == [{"labels": {"period": "business"}, "value": 1}]  # dave, Q2
    # CSV: `team` is a label column; table: one section per team.
    header, rows = csv_rows(report("--format", "csv", *MONTH))
    assert "team" in header[1:-7]
    assert find(rows, "teamhealth_oncall_incidents_total", team="search",
                urgency="low")["value"] == "3"
    assert find(rows, "teamhealth_oncall_incidents_total", team="payments",
                urgency="high")["value"] == "6"
    table = report(*MONTH)
    assert [l for l in table.splitlines() if l.startswith("teamhealth report: team")] == [
        f"teamhealth report: team {t}, 2026-03-01T00:00:00.000Z to 2026-04-01T00:00:00.000Z"
        for t in ("payments", "search", "unmapped")]


def test_unknown_team_exits_2_naming_the_known_teams():
    r = run_teamhealth("report", "--config", str(CONFIG), "--events", str(EVENTS), "--team",
                       "paymnets", *MONTH, timeout=60)
    assert r.returncode == 2, r.stderr
    assert r.stdout == ""
    assert "unknown team paymnets (known teams: payments, search, unmapped)" in r.stderr


def test_several_events_files_equal_one(tmp_path):
    lines = EVENTS.read_text().splitlines(keepends=True)
    third = len(lines) // 3
    parts = [lines[:third], lines[third:2 * third], lines[2 * third:]]
    files = []
    for i, part in enumerate(parts):
        f = tmp_path / f"part{i}.jsonl"
        # A line repeated in the next file is the same event (deduplicated by id).
        f.write_text("".join(part + (parts[i + 1][:1] if i + 1 < len(parts) else [])))
        files.append(str(f))
    whole = report("--format", "json", *MONTH)
    listed = report("--format", "json", *MONTH, events=files)
    assert json.loads(listed) == json.loads(whole)
    r = run_teamhealth("report", "--config", str(CONFIG), "--events", files[0], "--events",
                       files[1], "--events", files[2], "--format", "json", *MONTH, timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == json.loads(whole)
    # Two files are not one: the third part holds events of the month.
    partial = report("--format", "json", *MONTH, events=files[:2])
    assert json.loads(partial) != json.loads(whole)


DIRECTORY = """
[[directory.teams]]
name = "payments"
[[directory.teams]]
name = "platform"
[[directory.teams]]
name = "search"
""" + "".join(f"""
[[directory.people]]
handle = "{handle}"
team = "{team}"
identities = ["slack:U{handle.upper()}"]
""" for handle, team in [("alice", "payments"), ("bob", "payments"), ("erin", "payments"),
                         ("carol", "search"), ("p1", "platform"), ("p2", "platform"),
                         ("p3", "platform"), ("p4", "platform"), ("p5", "platform")])


def test_teams_of_a_log_a_daemon_wrote(broker, daemons, tmp_path):
    state = tmp_path / "state"
    cfg = write_config(tmp_path / "th.toml", state_dir=state, brokers=broker.bootstrap,
                       topics=[unique_topic("teams")], extra=DIRECTORY)
    d = daemons.start(cfg)
    d.wait_port()
    wait_until(lambda: "Directory recorded" in d.log(), 30, "directory recorded at start")
    # Members: payments 3, platform 5, search 1; min_group_size 5 (default): payments and
    # search suppressed, platform not.
    want = [{"team": "payments", "members": 3, "suppressed": True},
            {"team": "platform", "members": 5, "suppressed": False},
            {"team": "search", "members": 1, "suppressed": True}]
    status, body = d.http_get("/api/v1/teams")
    assert status == 200, body
    api = json.loads(body)
    assert api["teams"] == want and api["min_group_size"] == 5
    assert d.http_get("/api/v1/teams?team=payments")[0] == 400
    status, body = d.http_get("/api/v1/report?team=nosuch&from=2026-01-01T00:00:00Z"
                              "&to=2026-02-01T00:00:00Z")
    assert status == 404, body
    assert json.loads(body)["error"] == ("unknown team nosuch (known teams: payments, "
                                         "platform, search, unmapped)")
    status, _ = d.http_get("/api/v1/report?team=platform&from=2026-01-01T00:00:00Z"
                           "&to=2026-02-01T00:00:00Z")
    assert status == 200
    assert d.terminate() == 0

    # The same list from the state directory, without a config.
    r = run_teamhealth("teams", "--log", str(state))
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("TEAM      MEMBERS  SUPPRESSED\n"
                        "payments  3        yes\n"
                        "platform  5        no\n"
                        "search    1        yes\n")
    r = run_teamhealth("teams", "--log", str(state), "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["teams"] == want
    # With a config: its min_group_size.
    small = tmp_path / "small.toml"
    small.write_text(cfg.read_text() + "\n[privacy]\nmin_group_size = 3\n")
    r = run_teamhealth("teams", "--log", str(state), "--config", str(small), "--format", "json")
    assert r.returncode == 0, r.stderr
    assert [t["suppressed"] for t in json.loads(r.stdout)["teams"]] == [False, False, True]

    # `report --log` without --config: the log's directory; every team without --team.
    r = run_teamhealth("report", "--log", str(state), "--from", "2026-01-01T00:00:00Z", "--to",
                       "2100-01-01T00:00:00Z", "--format", "json")
    assert r.returncode == 0, r.stderr
    every = json.loads(r.stdout)
    assert [t["team"] for t in every] == ["payments", "platform", "search", "unmapped"]
    # Small-group suppression as the list says (default min_group_size 5).
    assert ["teamhealth_burnout_members_at_risk" in t["suppressed"] for t in every] == [
        True, False, True, True]
    r = run_teamhealth("report", "--log", str(state), "--team", "nosuch", "--from",
                       "2026-01-01T00:00:00Z", "--to", "2026-02-01T00:00:00Z")
    assert r.returncode == 2
    assert "known teams: payments, platform, search, unmapped" in r.stderr
