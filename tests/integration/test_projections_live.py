"""Team-health metrics through the real daemon and a real broker.

The on-call golden scenario (tests/projections/oncall_load/, values worked out by hand in its
expected.txt) is produced as PagerDuty V3 and Opsgenie webhook bodies, the on-call shift as a
canonical event, and every shared PagerDuty fixture beside them; every scenario record is then
produced a second time (duplicates, which must change nothing), and a third time after the
daemon has stored the originals (duplicates in a later batch, which only the stored log can
recognise: the Opsgenie ones across a restart). The daemon's /metrics must
show exactly the hand-worked values, histogram buckets included, for the scenario's teams and
for team `unmapped` (the scenario's and the fixtures' pages, worked out below), pass `promtool
check metrics`, and agree with `teamhealth report` over the same log.
"""

from __future__ import annotations

import json
import re
import subprocess
from datetime import datetime
from pathlib import Path

from conftest import Daemon, promtool_lint_problems, run_teamhealth, unique_topic, wait_until

REPO = Path(__file__).resolve().parents[2]
SCENARIO = REPO / "tests" / "projections" / "oncall_load"
FIXTURES = REPO / "tests" / "fixtures" / "payloads"
# Opsgenie names people by their e-mail login: the scenario's `opsgenie:erin` is produced as
# the login below (the person reference it becomes, here and in the directory).
OPSGENIE_LOGIN = {"opsgenie:erin": "erin@example.com"}
PEOPLE = {"alice": ("payments", "Europe/London", ["pagerduty:PALICE"]),
          "bob": ("payments", "UTC", ["pagerduty:PBOB"]),
          "carol": ("search", "America/New_York", ["pagerduty:PCAROL"]),
          # the directory lists erin's Opsgenie identity only from Mar 20 in the scenario; the
          # pipeline preloads the directory, so from the start is the same
          "erin": ("payments", "UTC", ["pagerduty:PERIN", "slack:UERIN",
                                       "opsgenie:" + OPSGENIE_LOGIN["opsgenie:erin"]])}

# The PagerDuty fixtures produced before the scenario, in this (log) order. Their people are
# unknown to the directory: team "unmapped", UTC, default hours (sleep 22:00-08:00, work
# Mon-Fri 08:00-18:00). Their pages, worked out by hand (a page newly lists a person among an
# incident's assignees; the first page of a person is always an interruption):
#   v1/incident.escalate   PRORDTY 2016-02-22T21:28:45Z Mon [PGLPTJ3]: first page, off_hours
#   v1/incident.trigger    PRORDTY 2016-02-22T21:02:55Z Mon [P553OPV]: newly listed (the
#                          escalation came first in the log): first page, off_hours
#   v2/incident.trigger    PRORDTY 2017-09-26T15:14:36Z [P553OPV]: the same incident id, and
#                          P553OPV is already listed: no page
#   v3/incident.escalated  Q3B15VLMF3ASBD 2026-04-01T02:08:04.642Z Wed [PXRUEF2]: first page,
#                          sleep; PXRUEF2's night of Mar 31: a sleep-disrupted night
#   v3/incident.reassigned PIQUG8X 2021-06-04T10:17:54.838Z Fri [PI9DT01]: first page, business
#   v3/incident.triggered  PFQZPSY 2021-06-04T13:35:29.781Z Fri [PJ0LVEB]: first page, business
#   the others (acknowledge, unacknowledge, resolve, annotated, priority_updated,
#   service.updated) page nobody.
FIXTURE_FILES = [
    "v1/incident.escalate.json", "v1/incident.trigger.json", "v1/incident.unacknowledge.json",
    "v2/incident.acknowledge.json", "v2/incident.resolve.json", "v2/incident.trigger.json",
    "v3/incident.acknowledged.json", "v3/incident.annotated.json",
    "v3/incident.escalated.json", "v3/incident.priority_updated.json",
    "v3/incident.reassigned.json", "v3/incident.resolved.json", "v3/incident.triggered.json",
    "v3/service.updated.json"]
# Every series of team "unmapped" the test checks: the scenario's (expected.txt: dave, Q2,
# business) plus the fixtures' above.
UNMAPPED = {
    ("teamhealth_oncall_interruptions_total", frozenset({("period", "business")})): 1 + 2,
    ("teamhealth_oncall_interruptions_total", frozenset({("period", "off_hours")})): 0 + 2,
    ("teamhealth_oncall_interruptions_total", frozenset({("period", "sleep")})): 0 + 1,
    ("teamhealth_oncall_sleep_disrupted_nights_total", frozenset()): 0 + 1,
}

# Histogram bucket bounds, seconds (docs/design.md: ack 30 s ... 4 h, resolve 5 min ... 7 d; the
# steps between as the projection defines them). expected.txt lists the non-empty buckets, not
# cumulative; /metrics must show every bucket, cumulative (`le` inclusive), +Inf = count.
BUCKETS = {
    "teamhealth_oncall_time_to_ack_seconds": (30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
                                              14400),
    "teamhealth_oncall_time_to_resolve_seconds": (300, 900, 1800, 3600, 7200, 14400, 28800,
                                                  86400, 259200, 604800),
}


def buckets(m, name: str, **labels) -> dict[float, float]:
    """The cumulative bucket counts {le: count} of one histogram series in /metrics."""
    want = set(labels.items())
    out = {}
    for (n, ls), v in m.samples.items():
        if n == name + "_bucket" and set(ls) - {("le", dict(ls)["le"])} == want:
            out[float(dict(ls)["le"])] = v
    return out


def expected_buckets(expected: dict) -> dict[tuple[str, frozenset], dict[float, float]]:
    """From expected.txt's per-bucket counts: every histogram series' cumulative buckets."""
    out = {}
    for (name, labels), count in expected.items():
        if not name.endswith("_count") or name[:-len("_count")] not in BUCKETS:
            continue
        base = name[:-len("_count")]
        per_bucket = {float(dict(ls)["le"]): v for (n, ls), v in expected.items()
                      if n == base + "_bucket" and ls - {("le", dict(ls)["le"])} == labels}
        assert set(per_bucket) <= set(map(float, BUCKETS[base])), (base, labels, per_bucket)
        assert sum(per_bucket.values()) == count, f"expected.txt: {base}{dict(labels)} buckets"
        cumulative = {float(le): float(sum(v for b, v in per_bucket.items() if b <= le))
                      for le in BUCKETS[base]}
        cumulative[float("inf")] = count
        out[(base, labels)] = cumulative
    return out


def pagerduty_v3(e: dict) -> str:
    """One canonical incident event of the scenario as the PagerDuty V3 webhook body."""
    user = lambda ref: {"id": ref.split(":", 1)[1], "type": "user_reference",
                        "summary": "someone", "self": "", "html_url": ""}
    data = {"id": e["subject"]["id"], "type": "incident", "number": int(e["subject"]["id"][1:]),
            "title": "Scenario incident", "status": e["type"].split(".")[1],
            "service": {"id": e["subject"]["service"], "type": "service_reference",
                        "summary": "svc"},
            "assignees": [user(a) for a in e["attrs"].get("assignees", [])],
            "urgency": e["attrs"].get("urgency", "high"), "priority": None}
    return json.dumps({"event": {
        "id": "EV" + e["id"].split(":", 1)[1], "event_type": e["type"],
        "resource_type": "incident", "occurred_at": e["occurred_at"],
        "agent": user(e["actor"]) if e.get("actor") else None, "client": None, "data": data}})


def expected_series() -> dict[tuple[str, frozenset], float]:
    out = {}
    for line in (SCENARIO / "expected.txt").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        key, value = line.rsplit(" ", 1)
        name, _, labels = key.partition("{")
        pairs = frozenset(re.findall(r'(\w+)="([^"]*)"', labels))
        out[(name, pairs)] = float(value)
    return out


def opsgenie(e: dict, created: dict[str, int]) -> str:
    """One canonical incident event of the scenario as the Opsgenie webhook body (Create,
    Acknowledge, Close). `created` keeps each alert's creation time for the later actions."""
    ms = int(datetime.fromisoformat(e["occurred_at"].replace("Z", "+00:00")).timestamp() * 1000)
    action = {"incident.triggered": "Create", "incident.acknowledged": "Acknowledge",
              "incident.resolved": "Close"}[e["type"]]
    alert_id = e["subject"]["id"]
    created.setdefault(alert_id, ms)
    login = lambda ref: OPSGENIE_LOGIN[ref] if ref else "System"
    alert = {"alertId": alert_id, "message": "Scenario alert", "tinyId": alert_id[1:],
             "createdAt": created[alert_id], "updatedAt": ms * 1_000_000,
             "username": login(e.get("actor"))}
    if action == "Create":
        (owner,) = e["attrs"]["assignees"]
        alert.update(owner=login(owner), priority=e["attrs"]["priority"])
    return json.dumps({"action": action, "alert": alert, "source": {"name": "web", "type": "API"},
                       "integrationName": "Scenario", "integrationType": "Webhook"})


def write_config(path: Path, state: Path, brokers: str, topics: dict[str, str]) -> Path:
    lines = ["[storage]", f'dir = "{state}"', "[kafka]", f'brokers = "{brokers}"',
             "batch_max_ms = 50"]
    for name, source in topics.items():
        lines += ["[[kafka.topics]]", f'name = "{name}"', f'source = "{source}"']
    lines += ["[http]", 'listen = "127.0.0.1:0"',
              "[[directory.teams]]", 'name = "payments"',
              "[[directory.teams]]", 'name = "search"']
    for handle, (team, tz, identities) in PEOPLE.items():
        lines += ["[[directory.people]]", f'handle = "{handle}"', f'team = "{team}"',
                  f'timezone = "{tz}"', f"identities = {json.dumps(identities)}"]
    lines += ["[directory.services]", '"pagerduty:PAY" = "payments"']
    path.write_text("\n".join(lines) + "\n")
    return path


def produce(broker, topic: str, values: list[str], workdir: Path) -> None:
    f = workdir / f"{topic}.txt"
    f.write_text("".join(v.replace("\n", " ") + "\n" for v in values))
    subprocess.run(["kcat", "-P", "-b", broker.bootstrap, "-t", topic, "-p", "0", "-l", str(f)],
                   check=True, timeout=60)


def test_scenario_as_vendor_payloads_gives_the_hand_worked_metrics(broker, daemons, tmp_path):
    events = [json.loads(l) for l in (SCENARIO / "events.jsonl").read_text().splitlines()]
    incidents = [pagerduty_v3(e) for e in events
                 if e["type"].startswith("incident.") and e["source"] == "pagerduty"]
    created: dict[str, int] = {}
    alerts = [opsgenie(e, created) for e in events
              if e["type"].startswith("incident.") and e["source"] == "opsgenie"]
    shifts = [json.dumps(e) for e in events if e["type"] == "oncall.shift"]
    # every scenario event is produced (directory events come from the config)
    assert len(incidents) + len(alerts) + len(shifts) == sum(
        e["source"] != "directory" for e in events)
    fixtures = sorted(p for p in (FIXTURES / "pagerduty").rglob("*.json")
                      if "rest-api" not in str(p) and "data-only" not in str(p))
    assert [str(p.relative_to(FIXTURES / "pagerduty")) for p in fixtures] == FIXTURE_FILES, \
        "the PagerDuty fixtures changed: work their pages out again (FIXTURE_FILES, UNMAPPED)"
    pd_topic, og_topic = unique_topic("pd"), unique_topic("og")
    canon_topic = unique_topic("canon")
    # Fixtures first (their incidents are unmapped), then the scenario, then the scenario
    # again: every record of the second pass is a duplicate (same event id), dropped at ingest.
    # These second copies follow their originals on the same topic and are mostly consumed in
    # the same batch; the third pass below comes after the originals are in the log.
    produce(broker, pd_topic, [p.read_text() for p in fixtures] + incidents + incidents,
            tmp_path)
    produce(broker, og_topic, alerts + alerts, tmp_path)
    produce(broker, canon_topic, shifts + shifts, tmp_path)
    state = tmp_path / "state"

    def run(topics: dict[str, str], name: str) -> Daemon:
        """Starts the daemon on `topics` and waits until every record is in the log (consumer
        lag 0: the topics were complete before it started), then until every event of the now
        final log is applied (projection lag 0)."""
        d = daemons.start(write_config(tmp_path / name, state, broker.bootstrap, topics))
        d.wait_port()
        d.wait_ready(timeout=60)
        for topic in topics:
            wait_until(lambda t=topic: d.metrics().get("teamhealth_consumer_lag_messages",
                                                       topic=t) == 0,
                       60, f"consumer lag 0 on {topic}", on_timeout=d.log_tail)
        wait_until(lambda: d.metrics().get("teamhealth_projection_lag_events",
                                           projection="oncall_load") == 0,
                   60, "projections caught up", on_timeout=d.log_tail)
        return d

    # Two topics are consumed in no fixed order relative to each other, and the live
    # projections apply the log in its order: erin's Opsgenie alert O1 (ack 23:05, close
    # 23:30) must come before her PagerDuty incident Q8 (resolved 23:30:30), as in time, or
    # her context switches depend on the race (Q8 first: O1's two activities each pair with
    # it, 2 switches; time order: 1, what `report` counts). So the Opsgenie topic is consumed
    # alone first, then the others after a restart (which the checkpoints must survive).
    d: Daemon = run({og_topic: "opsgenie"}, "th-1.toml")
    assert d.terminate() == 0, d.log_tail()
    # Third pass, duplicates in a LATER batch than their stored originals: the Opsgenie alerts
    # once more while no daemon runs (the restarted daemon below consumes only these, so only
    # the stored log can tell they are duplicates) ...
    produce(broker, og_topic, alerts, tmp_path)
    d = run({pd_topic: "pagerduty", og_topic: "opsgenie", canon_topic: "canonical"}, "th.toml")
    # ... and the PagerDuty incidents and the shifts once more while it runs, after it has
    # stored their originals (consumer and projection lag 0 in run()).
    produce(broker, pd_topic, incidents, tmp_path)
    produce(broker, canon_topic, shifts, tmp_path)
    ingested = {"pagerduty": len(FIXTURE_FILES) - 1 + len(incidents),  # service.updated is
                "opsgenie": len(alerts), "canonical": len(shifts)}      # not an event
    duplicates = {"pagerduty": 2 * len(incidents), "opsgenie": 2 * len(alerts),
                  "canonical": 2 * len(shifts)}

    def third_pass_accounted() -> bool:
        m = d.metrics()
        done = True
        for s in ingested:
            n = (m.get("teamhealth_events_ingested_total", source=s)
                 + m.get("teamhealth_events_duplicate_total", source=s))
            assert n <= ingested[s] + duplicates[s], (s, n)
            done = done and n == ingested[s] + duplicates[s]
        return done

    wait_until(third_pass_accounted, 60, "every record of the third pass counted",
               on_timeout=d.log_tail)
    wait_until(lambda: d.metrics().get("teamhealth_projection_lag_events",
                                       projection="oncall_load") == 0,
               60, "projections caught up after the third pass", on_timeout=d.log_tail)
    cfg = d.config
    text = d.http_get("/metrics")[1]
    m = d.metrics()
    assert {s: m.get("teamhealth_events_duplicate_total", source=s) for s in duplicates} == \
        duplicates
    assert {s: m.get("teamhealth_events_ingested_total", source=s) for s in ingested} == ingested
    expected = expected_series()
    for (name, labels), want in expected.items():
        if ("team", "unmapped") in labels:  # with the fixtures' pages: checked below
            assert (name, labels - {("team", "unmapped")}) in UNMAPPED, (name, labels)
            continue
        if name.endswith("_bucket"):  # not cumulative in expected.txt: checked below
            continue
        got = m.get(name, **dict(labels))
        assert got == want, f"{name}{dict(labels)}: /metrics {got}, hand-worked {want}"
    for (name, labels), want in UNMAPPED.items():
        got = m.get(name, team="unmapped", **dict(labels))
        assert got == want, f"{name}{dict(labels)} unmapped: /metrics {got}, hand-worked {want}"
    # ... and no other unmapped series of these metrics (another period, say)
    for (n, ls) in m.samples:
        if ("team", "unmapped") in ls and n in {k[0] for k in UNMAPPED}:
            assert (n, ls - {("team", "unmapped")}) in UNMAPPED, (n, ls)
    # histograms: every bucket, not only count and sum
    histograms = expected_buckets(expected)
    assert len(histograms) == 3, histograms  # ack payments, resolve payments and search
    for (name, labels), want in histograms.items():
        assert buckets(m, name, **dict(labels)) == want, (name, labels)

    # promtool's linter has nothing to say beyond the unit lint on the person-day counters.
    assert not promtool_lint_problems(text), promtool_lint_problems(text)

    # The query API serves the same report while the daemon runs.
    status, body = d.http_get("/api/v1/report?team=payments&from=2000-01-01T00:00:00Z"
                              "&to=2100-01-01T00:00:00Z")
    assert status == 200, body
    api_report = json.loads(body)
    assert api_report["team"] == "payments"
    status, body = d.http_get("/api/v1/report?team=payments&from=yesterday&to=today")
    assert status == 400 and "from" in json.loads(body)["error"]
    assert d.http_get("/api/v1/nothing")[0] == 404

    assert d.terminate() == 0
    # The report over the same log, for all time, agrees with the live counters. (Only for the
    # scenario's teams: the report replays in event-time order, the live projections in log
    # order, and the fixtures' years-apart pages arrive out of time order, which may merge
    # pages differently for the unmapped team.)
    for team in ("payments", "search"):
        r = run_teamhealth("report", "--config", str(cfg), "--log", str(state), "--team", team,
                           "--from", "2000-01-01T00:00:00Z", "--to", "2100-01-01T00:00:00Z",
                           "--format", "json")
        assert r.returncode == 0, r.stderr
        rep = json.loads(r.stdout)
        if team == "payments":
            assert api_report == rep  # the API and the command line agree
        for name, series in rep["metrics"].items():
            for s in series:
                labels = {**s["labels"], "team": team}
                if "value" in s:
                    if name in ("teamhealth_wip_items", "teamhealth_team_members"):
                        continue  # gauges at a different instant
                    assert m.get(name, **labels) == s["value"], (name, labels)
                else:
                    assert m.get(name + "_count", **labels) == s["count"], (name, labels)
                    assert abs(m.get(name + "_sum", **labels) - s["sum"]) < 1e-6, (name, labels)
