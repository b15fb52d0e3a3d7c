"""Dashboards, rules and backfill against a real Prometheus (docs/design.md sections 7 and 8).

A generated organisation (three weeks ending now, one team overloaded) goes through a real
broker into `teamhealth serve`. `teamhealth backfill` writes its history as OpenMetrics, which
`promtool tsdb create-blocks-from openmetrics` loads into a fresh Prometheus data directory;
then Prometheus (the Debian package) starts with the repository's recording and alert rules
and scrapes the daemon. Over Prometheus's HTTP API:

* every panel query of every dashboard in dashboards/, with `team` set, returns data;
* a week's `increase()` of interruptions, context switches and completed items equals
  `teamhealth report` for the same team and week (the week lies in the backfilled history);
* the overloaded team's TeamhealthBurnoutRisk and TeamhealthSleepDisruption fire, no healthy
  team's BurnoutRisk does, and SleepDisruption fires exactly for the teams that /metrics shows
  with a member at risk on sleep_interruptions_7d.

`test_a_teams_first_increment_reaches_increase`: a directory team's counter is on /metrics at 0
before anything happened to the team, Prometheus scrapes it, then the team's first priority
change makes `increase()` over the range at least 1 (a series born at 1 would show none).

The alert rules are used as written except their `for:` durations (1 d, 1 h, ...), which are
set to 0s in the test's copy: Prometheus starts `for` timers only from its own evaluations, so
a 1-day `for` cannot elapse in a bounded test. `promtool test rules` (ops/prometheus/tests)
proves the `for` durations themselves.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import (REPO, TEAMHEALTH_BIN, add_identity_key, parse_metrics,
                      promtool_lint_problems, run_teamhealth, unique_topic, wait_until,
                      write_config)

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
TOPICS = {"webhooks.jira": "jira", "webhooks.github": "github", "webhooks.slack": "slack",
          "webhooks.pagerduty": "pagerduty", "teamhealth.canonical": "canonical"}
PREFIX = "prom."
DASHBOARD_UIDS = {"teamhealth-overview", "teamhealth-oncall", "teamhealth-interruptions",
                  "teamhealth-flow", "teamhealth-daemon"}
OVERLOADED = "payments"  # team 0 of the generator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rfc3339(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class Prometheus:
    def __init__(self, workdir: Path, data: Path, target: str):
        self.port = free_port()
        rules = workdir / "rules"
        rules.mkdir()
        shutil.copy(REPO / "ops/prometheus/rules/recording.yml", rules / "recording.yml")
        alerts = (REPO / "ops/prometheus/alerts.yml").read_text()
        fors = re.findall(r"^(\s+)for:\s*\S+\s*$", alerts, flags=re.M)
        assert fors, "alerts.yml has no `for:` durations to shorten"
        (rules / "alerts.yml").write_text(
            re.sub(r"^(\s+)for:\s*\S+\s*$", r"\1for: 0s", alerts, flags=re.M))
        config = workdir / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            f"rule_files:\n  - {rules / 'recording.yml'}\n  - {rules / 'alerts.yml'}\n"
            "scrape_configs:\n  - job_name: teamhealth\n"
            f"    static_configs:\n      - targets: ['{target}']\n")
        self.log = open(workdir / "prometheus.log", "wb")
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={data}",
             f"--web.listen-address=127.0.0.1:{self.port}",
             "--storage.tsdb.retention.time=3650d"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.logpath = workdir / "prometheus.log"
        wait_until(self.ready, 60, "Prometheus ready", on_timeout=self.tail)

    def tail(self) -> str:
        return self.logpath.read_text(errors="replace")[-3000:]

    def ready(self) -> bool:
        assert self.proc.poll() is None, self.tail()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def api(self, path: str, **params) -> dict:
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=30) as r:
            body = json.loads(r.read())
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict]:
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        data = self.api("query", **params)
        return data["result"] if data["resultType"] in ("vector", "matrix") else [data["result"]]

    def firing(self) -> set[tuple[str, str]]:
        return {(a["labels"]["alertname"], a["labels"].get("team", ""))
                for a in self.api("alerts")["alerts"] if a["state"] == "firing"}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def panel_exprs(dashboard: dict) -> list[tuple[str, str]]:
    """(panel title, expr) of every target of every panel, rows' nested panels included."""
    out = []

    def walk(panels):
        for p in panels or []:
            walk(p.get("panels"))
            for t in p.get("targets") or []:
                if t.get("expr"):
                    out.append((p.get("title", "?"), t["expr"]))
    walk(dashboard.get("panels"))
    return out


def substitute(expr: str, team: str) -> str:
    """Grafana's variables as a dashboard would expand them for one team."""
    expr = expr.replace("${team}", team).replace("$team", team)
    # $__range: a week, so that the "time range" panels (who pings us, the team pulse, worked
    # time off) see the generated organisation's weekly pulse responses.
    for var, value in (("$__rate_interval", "5m"), ("$__interval", "1m"), ("$__range", "7d")):
        expr = expr.replace("${" + var[1:] + "}", value).replace(var, value)
    assert "$" not in expr, f"unexpanded variable in {expr}"
    return expr


def counter_total(report: dict, name: str) -> float:
    return sum(s["value"] for s in report["metrics"].get(name, []))


def test_dashboards_rules_and_backfill_against_a_real_prometheus(broker, daemons, tmp_path):
    assert Path(PROMETHEUS).exists() and Path(PROMTOOL).exists(), \
        "prometheus and promtool are installed by ops/setup.sh"
    now = dt.datetime.now(dt.timezone.utc)
    # The history ends now (to the minute): the last 7 days hold this week's shift starts, as
    # they would for a live organisation.
    end = now.replace(second=0, microsecond=0)
    start = end - dt.timedelta(days=21)
    org = tmp_path / "org"
    r = subprocess.run([str(TEAMHEALTH_BIN), "generate", "--seed", "1", "--teams", "4",
                        "--people", "40", "--days", "21", "--end", rfc3339(end), "--out",
                        str(org), "--brokers", broker.bootstrap, "--topic-prefix", PREFIX],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    records = {p.stem: len(p.read_text().splitlines()) for p in org.glob("*.jsonl")}
    # A record that cannot be parsed, one already ingested and a Slack url_verification: the
    # daemon dashboard's quarantine, duplicate and ignored panels get a series (these counters
    # appear only after their first record).
    first_slack = json.loads((org / "slack.jsonl").read_text().splitlines()[0])["body"]
    broker.produce(PREFIX + "webhooks.slack", 0,
                   ["{not json", json.dumps(first_slack, separators=(",", ":")),
                    '{"token":"t","challenge":"c","type":"url_verification"}'], tmp_path)
    records["slack"] += 3

    directory = (org / "directory.toml").read_text()
    state = tmp_path / "state"
    lines = ["[storage]", f'dir = "{state}"', "[kafka]", f'brokers = "{broker.bootstrap}"']
    for name, source in TOPICS.items():
        lines += ["[[kafka.topics]]", f'name = "{PREFIX}{name}"', f'source = "{source}"']
    lines += ["[http]", 'listen = "127.0.0.1:0"']
    cfg = tmp_path / "teamhealth.toml"
    cfg.write_text("\n".join(lines) + "\n" + directory)
    add_identity_key(cfg)
    teams = re.findall(r'^name = "([^"]+)"', directory, flags=re.M)
    # The four engineering teams asked for, then the generator's support and sales teams.
    assert teams[0] == OVERLOADED and teams[4:] == ["support", "sales"] and len(teams) == 6

    d = daemons.start(cfg)
    port = d.wait_port()
    d.wait_records(records, 180)
    d.wait_ready(120)
    exposition = d.http_get("/metrics")[1]
    live = parse_metrics(exposition)
    # Prometheus's own linter has nothing to say about the exposition beyond the unit lint on
    # the person-day counters.
    problems = promtool_lint_problems(exposition)
    assert not problems, problems
    # `teamhealth metrics` (the catalogue the lint checks queries against) lists every family
    # the daemon exports.
    catalogue = dict(line.split() for line in run_teamhealth("metrics").stdout.splitlines())
    exported = {re.sub(r"_(bucket|count|sum)$", "", n) if re.sub(r"_(bucket|count|sum)$", "", n)
                in catalogue else n for (n, _) in live}
    assert exported <= set(catalogue), exported - set(catalogue)

    # Backfill every hour of the history, before Prometheus's first scrape.
    to = end
    om = tmp_path / "history.om"
    r = run_teamhealth("backfill", "--config", str(cfg), "--log", str(state), "--from",
                       rfc3339(start), "--to", rfc3339(to), "--step", "1h", "--out", str(om),
                       timeout=300)
    assert r.returncode == 0, r.stderr
    text = om.read_text()
    assert text.endswith("# EOF\n")
    data = tmp_path / "prometheus-data"
    data.mkdir()
    # 30-day blocks: the default 2 h blocks make promtool ~70x slower on three weeks.
    r = subprocess.run([PROMTOOL, "tsdb", "create-blocks-from", "openmetrics",
                        "--max-block-duration=720h", str(om), str(data)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr

    prom = Prometheus(tmp_path, data, f"127.0.0.1:{port}")
    try:
        # Live scrapes and rule evaluations: wait until the recording rules have values for
        # the overloaded team and the alerts had a few evaluations.
        wait_until(lambda: prom.query(f'team:teamhealth_burnout_at_risk:share{{team="{OVERLOADED}"}}'),
                   60, "recording rules evaluated", on_timeout=prom.tail)
        # A few live scrapes, so that rate() over the daemon's own counters has samples.
        wait_until(lambda: prom.query('count_over_time(up{job="teamhealth"}[1m]) >= 5'), 60,
                   "five scrapes", on_timeout=prom.tail)

        # 1. A week inside the backfilled history: Prometheus's increase() equals the report.
        week_to = end - dt.timedelta(days=7)
        week_from = week_to - dt.timedelta(days=7)
        r = run_teamhealth("report", "--config", str(cfg), "--log", str(state), "--team",
                           OVERLOADED, "--from", rfc3339(week_from), "--to", rfc3339(week_to),
                           "--format", "json")
        assert r.returncode == 0, r.stderr
        rep = json.loads(r.stdout)
        for metric in ("teamhealth_oncall_interruptions_total", "teamhealth_context_switches_total",
                       "teamhealth_work_items_completed_total"):
            result = prom.query(f'sum(increase({metric}{{team="{OVERLOADED}"}}[7d]))',
                                at=week_to.timestamp())
            assert result, f"no data for {metric} in the backfilled week"
            got = float(result[0]["value"][1])
            want = counter_total(rep, metric)
            assert want > 0, metric
            assert abs(got - want) < 1e-6, (metric, got, want)

        # 2. Every panel of every dashboard returns data for the overloaded team.
        files = sorted((REPO / "dashboards").glob("*.json"))
        dashboards = {json.loads(f.read_text())["uid"]: json.loads(f.read_text()) for f in files}
        assert set(dashboards) == DASHBOARD_UIDS, sorted(dashboards)
        empty = []
        checked = 0
        for uid, dash in sorted(dashboards.items()):
            for title, expr in panel_exprs(dash):
                checked += 1
                if not prom.query(substitute(expr, OVERLOADED)):
                    empty.append(f"{uid} / {title}: {expr}")
        assert checked >= 30, checked
        assert empty == [], "panels without data:\n" + "\n".join(empty)

        # 3. Alerts: burnout for the overloaded team only; sleep disruption exactly where a
        # member is at risk on sleep_interruptions_7d.
        sleepy = {dict(l)["team"] for (n, l), v in live.items()
                  if n == "teamhealth_burnout_members_at_risk"
                  and dict(l).get("signal") == "sleep_interruptions_7d" and v > 0}
        assert OVERLOADED in sleepy and len(sleepy) < len(teams), sleepy

        def alerts_settled():
            f = prom.firing()
            return f if {("TeamhealthBurnoutRisk", OVERLOADED),
                         ("TeamhealthSleepDisruption", OVERLOADED)} <= f else None
        firing = wait_until(alerts_settled, 60, "the overloaded team's alerts firing",
                            on_timeout=lambda: f"{prom.firing()}\n{prom.tail()}")
        assert {t for a, t in firing if a == "TeamhealthBurnoutRisk"} == {OVERLOADED}, firing
        assert {t for a, t in firing if a == "TeamhealthSleepDisruption"} == sleepy, firing
    finally:
        prom.stop()
    assert d.terminate() == 0


def test_backfill_rejects_bad_options_with_exit_2(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[storage]\ndir = "{tmp_path / "state"}"\n')
    base = ["backfill", "--config", str(cfg), "--log", str(tmp_path / "state")]
    for args, message in [
            (["--from", "2026-03-01T00:00:00Z", "--to", "2026-03-02T00:00:00Z"], "missing --step"),
            (["--from", "yesterday", "--to", "2026-03-02T00:00:00Z", "--step", "1h"],
             "--from yesterday"),
            (["--from", "2026-03-02T00:00:00Z", "--to", "2026-03-01T00:00:00Z", "--step", "1h"],
             "--to must be after --from"),
            (["--from", "2026-03-01T00:00:00Z", "--to", "2026-03-02T00:00:00Z", "--step", "0s"],
             "--step 0s"),
            (["--from", "2026-03-01T00:00:00Z", "--to", "2026-03-02T00:00:00Z", "--step", "1x"],
             "--step 1x"),
            (["--from", "2016-03-01T00:00:00Z", "--to", "2026-03-02T00:00:00Z", "--step", "1m"],
             "more than 100000 steps"),
            (["--from", "2026-03-01T00:00:00Z", "--to", "2026-03-02T00:00:00Z", "--step", "1h",
              "--stpe", "1h"], "unknown option --stpe")]:
        r = run_teamhealth(*base, *args)
        assert r.returncode == 2, (args, r.stderr)
        assert message in r.stderr, (args, r.stderr)


def test_a_teams_first_increment_reaches_increase(broker, daemons, tmp_path):
    """Prometheus takes a series' first sample as its baseline: a counter that appeared with
    its first increment (at 1) showed no increase(). /metrics exports a directory team's
    counters at 0 before their first increment (docs/design.md 7.1), so a real Prometheus
    scraping the daemon sees the team's first priority change in increase()."""
    topic = unique_topic("first-increment")
    # The topic exists before the daemon starts (a record it quarantines creates it).
    broker.produce(topic, 0, ["{not json"], tmp_path)
    cfg = write_config(tmp_path / "teamhealth.toml", state_dir=tmp_path / "state",
                       brokers=broker.bootstrap, topics=[topic], batch_max_ms=50,
                       extra="\n".join([
                           "[[directory.teams]]", 'name = "payments"',
                           "[[directory.people]]", 'handle = "alice"', 'team = "payments"',
                           'timezone = "UTC"', 'identities = ["jira:alice"]',
                           "[directory.projects]", '"jira:PAY" = "payments"']) + "\n")
    d = daemons.start(cfg)
    port = d.wait_port()
    series = 'teamhealth_priority_changes_total{team="payments"}'
    assert d.metrics().get("teamhealth_priority_changes_total", team="payments") == 0

    (tmp_path / "prom").mkdir()
    prom = Prometheus(tmp_path / "prom", tmp_path / "prom-data", f"127.0.0.1:{port}")
    try:
        def scraped(value: float):
            def check():
                got = prom.query(series)
                return got and float(got[0]["value"][1]) == value
            return check
        wait_until(scraped(0), 60, "Prometheus scraped the team's counter at 0",
                   on_timeout=prom.tail)
        time.sleep(2.5)  # a few more samples at 0

        now = dt.datetime.now(dt.timezone.utc)
        event = {"id": "jira:first-priority-change", "source": "jira",
                 "type": "work_item.priority_changed",
                 "occurred_at": now.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "actor": "jira:alice",
                 "subject": {"kind": "work_item", "id": "PAY-1", "project": "PAY"},
                 "attrs": {"from": "High", "to": "Low"}}
        broker.produce(topic, 0, [json.dumps(event, separators=(",", ":"))], tmp_path)
        wait_until(lambda: d.metrics().get("teamhealth_priority_changes_total",
                                           team="payments") == 1,
                   60, "the daemon counted the priority change", on_timeout=d.log_tail)
        wait_until(scraped(1), 60, "Prometheus scraped the team's counter at 1",
                   on_timeout=prom.tail)
        got = prom.query(f"increase({series}[5m])")
        assert got, f"increase() returned nothing for {series}"
        # One increment, extrapolated a little towards the range's ends; without the zero
        # samples before it, Prometheus would have had no baseline and shown 0 (or nothing).
        assert float(got[0]["value"][1]) >= 1.0, got
    finally:
        prom.stop()
