"""The on-call schedule poller of `teamhealth gateway` against a local PagerDuty.

A loopback HTTP server started by the test plays PagerDuty's `GET /oncalls`: its answers are the
REST fixture (tests/fixtures/payloads/pagerduty/rest-api/GET-oncalls.json) with the one on-call
entry turned into three shifts of today and the next days, served one per page (`more`,
`offset`), and its very first answer is a 429 with `Retry-After: 2`. The gateway (schedules
only, poll_interval_seconds = 10, the least it takes) produces oncall.shift events to a topic of
the real broker:

* the three shifts arrive once each, and stay once after further polls;
* the 429 was waited out (the retry came >= 2 s later) and counted;
* an override (a fourth person takes the second half of the first shift) adds exactly the two
  shifts that changed, same subject and level;
* the daemon reading the topic as a `canonical` source stores every record as one oncall.shift
  event, nothing quarantined, and its on-call numbers move: on-call hours per team (the
  override handing time to another team) and, for a DM to someone off call while a teammate
  is on call, the bypass;
* the token is sent as PagerDuty wants it and never logged.

A 401 is a client_error, not retried. An Opsgenie timeline served the same way becomes the
rotation's shifts (GenieKey, a stint split at "now" merged, a team period left out).
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import signal
import threading
import time
import urllib.parse
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from conftest import REPO, DaemonFactory, inspect, unique_topic, wait_until
from test_gateway import GatewayProc, end_total, run_gateway, stored_offsets
from test_vendor_fixtures import vendor_config

FIXTURE = REPO / "tests/fixtures/payloads/pagerduty/rest-api/GET-oncalls.json"
# The people behind the shifts, for the daemon (groups of one are shown: min_group_size = 1).
DIRECTORY = """
[privacy]
min_group_size = 1
[[directory.teams]]
name = "payments"
[[directory.teams]]
name = "search"
[[directory.people]]
handle = "alice"
team = "payments"
identities = ["pagerduty:PT23IWX"]
[[directory.people]]
handle = "bob"
team = "payments"
identities = ["pagerduty:PU2", "slack:UBOB00001"]
[[directory.people]]
handle = "carol"
team = "search"
identities = ["pagerduty:PU9"]
[[directory.people]]
handle = "dave"
team = "search"
identities = ["pagerduty:PU3"]
"""
SCHEDULE = "PI7DH85"  # the fixture's schedule, escalation level 2


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def ms_iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class FakePagerDuty:
    """PagerDuty's /oncalls on loopback: one on-call per page, the first request answered 429."""

    def __init__(self):
        self.template = json.loads(FIXTURE.read_text())["oncalls"][0]
        self.requests: list[dict] = []  # {"t", "path", "query", "headers", "status"}
        self.lock = threading.Lock()
        self.oncalls: list[dict] = []
        self.rate_limit_next = 1  # how many coming requests get a 429
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                fake.handle(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def set_shifts(self, shifts: list[tuple[str, datetime, datetime]]) -> None:
        """(user id, start, end) of the schedule, in an on-call entry shaped like the fixture's."""
        entries = []
        for user, start, end in shifts:
            e = copy.deepcopy(self.template)
            e["user"]["id"] = user
            e["user"]["self"] = f"https://api.pagerduty.com/users/{user}"
            e["start"], e["end"] = iso(start), iso(end)
            entries.append(e)
        with self.lock:
            self.oncalls = entries

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        parsed = urllib.parse.urlparse(h.path)
        query = urllib.parse.parse_qs(parsed.query)
        with self.lock:
            rec = {"t": time.monotonic(), "path": parsed.path, "query": query,
                   "headers": dict(h.headers.items())}
            self.requests.append(rec)
            if self.rate_limit_next > 0:
                self.rate_limit_next -= 1
                rec["status"] = 429
                body = b'{"error":{"message":"Rate Limit Exceeded","code":2020}}'
                h.send_response(429)
                h.send_header("Retry-After", "2")
                h.send_header("Content-Type", "application/json")
                h.send_header("Content-Length", str(len(body)))
                h.end_headers()
                h.wfile.write(body)
                return
            offset = int(query.get("offset", ["0"])[0])
            page = self.oncalls[offset:offset + 1]
            doc = {"oncalls": page, "limit": 1, "offset": offset,
                   "more": offset + 1 < len(self.oncalls), "total": None}
            rec["status"] = 200
        body = json.dumps(doc).encode()
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_poller_gateway(work: Path, bootstrap: str, api_url: str, token: str,
                         topic: str) -> GatewayProc:
    token_file = work / "pagerduty.token"
    token_file.write_text(token + "\n")
    os.chmod(token_file, 0o600)
    cfg = work / "gateway.toml"
    cfg.write_text("\n".join([
        "[kafka]", f'brokers = "{bootstrap}"',
        "[gateway]", 'listen = "127.0.0.1:0"', f'shifts_topic = "{topic}"',
        "[[gateway.schedules]]", 'vendor = "pagerduty"', f'api_url = "{api_url}"',
        f'token_file = "{token_file}"', f'schedule_ids = ["{SCHEDULE}"]',
        "poll_interval_seconds = 10", "window_days = 7",
        "[logging]", 'level = "info"']) + "\n")
    return run_gateway(cfg)


def on_topic(broker, topic: str) -> int:
    """Records on the topic; 0 before the gateway's first produce created it, and while the
    new topic's partitions have no leader yet."""
    try:
        return end_total(broker, topic)
    except AssertionError as e:
        if "kcat -Q failed" in str(e):
            return 0
        raise


def topic_events(broker, topic: str) -> list[dict]:
    out = []
    for p in (0, 1, 2):
        out += [json.loads(v) for _, v in broker.consume(topic, p)]
    return out


def test_poller_produces_each_shift_once_backs_off_on_429_and_follows_an_override(broker,
                                                                                  tmp_path):
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    nine = today + timedelta(hours=9)
    day = timedelta(days=1)
    shifts = [("PT23IWX", nine, nine + day), ("PU2", nine + day, nine + 2 * day),
              ("PU3", nine + 2 * day, nine + 3 * day)]
    pd = FakePagerDuty()
    pd.set_shifts(shifts)
    topic = unique_topic("poller-shifts")
    token = "u+" + secrets.token_hex(10)
    gw = start_poller_gateway(tmp_path, broker.bootstrap, pd.url, token, topic)
    factory = DaemonFactory(tmp_path)
    try:
        # The first poll: a 429, then three pages.
        wait_until(lambda: on_topic(broker, topic) >= 3, 60, "three shifts on the topic",
                   on_timeout=gw.log_tail)
        first = pd.requests[0]
        assert first["status"] == 429
        retry = pd.requests[1]
        assert retry["t"] - first["t"] >= 2.0, "the retry did not wait for Retry-After"
        assert retry["t"] - first["t"] < 10.0
        assert first["path"] == "/oncalls"
        q = first["query"]
        assert q["schedule_ids[]"] == [SCHEDULE]
        assert q["since"] == [ms_iso(today - day)] and q["until"] == [ms_iso(today + 7 * day)]
        assert first["headers"]["Authorization"] == f"Token token={token}"
        assert first["headers"]["Accept"] == "application/vnd.pagerduty+json;version=2"
        assert [r["query"]["offset"] for r in pd.requests[1:4]] == [["0"], ["1"], ["2"]]

        # Two more polls (10 s apart) add nothing. A poll is counted once it is over (its
        # shifts acknowledged), so the count is the synchronisation.
        def ok_polls() -> float:
            return gw.metrics().get("teamhealth_gateway_schedule_polls_total",
                                    vendor="pagerduty", outcome="ok")

        wait_until(lambda: ok_polls() >= 3, 40, "two more polls", interval=0.5,
                   on_timeout=gw.log_tail)
        assert end_total(broker, topic) == 3

        m = gw.metrics()
        assert m.get("teamhealth_gateway_schedule_retries_total", vendor="pagerduty") == 1
        assert m.get("teamhealth_gateway_schedule_polls_total", vendor="pagerduty",
                     outcome="ok") >= 3
        assert m.get("teamhealth_gateway_schedule_polls_total", vendor="pagerduty",
                     outcome="rate_limited") == 0
        assert m.get("teamhealth_gateway_shifts_produced_total", vendor="pagerduty") == 3
        last = m.get("teamhealth_gateway_schedule_last_success_timestamp_seconds",
                     vendor="pagerduty")
        assert abs(last - time.time()) < 60, last

        # An override: PU9 takes the second half of PT23IWX's shift.
        # (A poll may be under way: two more make sure one read the new answer whole, and one
        # more after it added nothing.)
        polls = ok_polls()
        pd.set_shifts([("PT23IWX", nine, nine + timedelta(hours=12)),
                       ("PU9", nine + timedelta(hours=12), nine + day), *shifts[1:]])
        wait_until(lambda: on_topic(broker, topic) >= 5, 40, "the override's shifts",
                   on_timeout=gw.log_tail)
        wait_until(lambda: ok_polls() >= polls + 3, 60, "polls after the override",
                   interval=0.5, on_timeout=gw.log_tail)
        assert end_total(broker, topic) == 5
        assert gw.stop() == 0
        assert token not in gw.log()
        assert "Retrying a schedule request. vendor=pagerduty status=429" in gw.log()

        events = topic_events(broker, topic)
        assert len({e["id"] for e in events}) == 5
        got = sorted((e["attrs"]["person"], e["attrs"]["start"], e["attrs"]["end"])
                     for e in events)
        want = sorted([(f"pagerduty:{u}", ms_iso(s), ms_iso(e)) for u, s, e in shifts] + [
            ("pagerduty:PT23IWX", ms_iso(nine), ms_iso(nine + timedelta(hours=12))),
            ("pagerduty:PU9", ms_iso(nine + timedelta(hours=12)), ms_iso(nine + day))])
        assert got == want
        for e in events:
            assert e["type"] == "oncall.shift" and e["source"] == "canonical"
            assert e["id"].startswith("canonical:shift-")
            assert e["actor"] is None
            # one slot: the override supersedes over its interval (same subject id and level)
            assert e["subject"] == {"kind": "schedule", "id": f"pagerduty:{SCHEDULE}",
                                    "title": "Daily Engineering Rotation"}
            assert e["attrs"]["level"] == 2
            seen = datetime.fromisoformat(e["occurred_at"].replace("Z", "+00:00"))
            assert abs((seen - datetime.now(timezone.utc)).total_seconds()) < 300

        # The daemon stores them as canonical events, each once, and its on-call numbers move.
        state = tmp_path / "state"
        cfg = vendor_config(tmp_path / "daemon.toml", state, broker.bootstrap,
                            {"canonical": topic}, extra=DIRECTORY)
        d = factory.start(cfg)
        d.wait_port()
        end = end_total(broker, topic)
        wait_until(lambda: stored_offsets(state) == {topic: end}, 60, "every record read",
                   on_timeout=d.log_tail)
        stored = [x.get("event", x) for x in inspect(state, "events")]
        stored = [e for e in stored if e["source"] != "directory"]  # the people, recorded
        assert sorted(e["id"] for e in stored) == sorted(e["id"] for e in events)
        assert all(e["type"] == "oncall.shift" for e in stored)
        counters = inspect(state, "counters")[0]
        assert counters["ingested"]["canonical"] == 5, counters
        assert not counters["quarantined"] and not counters["duplicate"], counters
        # On-call hours, booked at each shift's start for the person's team (design 7.2): alice
        # (PT23IWX) and bob (PU2) of payments 24 h each = 172800 s; dave (PU3) of search 24 h.
        # The override hands 12 h of alice's shift to carol (PU9) of search: payments keeps its
        # booking (a counter never goes down), search books the 12 h it did not have:
        # 86400 + 43200 = 129600 s. alice's shortened shift books nothing new.
        shift_s = "teamhealth_oncall_shift_seconds_total"
        wait_until(lambda: d.metrics().get(shift_s, team="search") == 129600, 60,
                   "the shifts applied", on_timeout=d.log_tail)
        assert d.metrics().get(shift_s, team="payments") == 172800
        # The bypass: an outsider DMs bob at 10:00 today, while alice (payments) is on call
        # and bob is not: one bypass for payments.
        dm = {"id": "canonical:dm-bob-1", "source": "canonical", "type": "chat.message",
              "occurred_at": ms_iso(nine + timedelta(hours=1)), "actor": "slack:UOUTSIDER1",
              "subject": {"kind": "channel", "id": "DBOB1"},
              "attrs": {"channel_type": "im", "recipients": ["slack:UBOB00001"],
                        "mentions": [], "thread": False, "bot": False, "edited": False}}
        broker.produce(topic, 0, [json.dumps(dm)], tmp_path / "produce")
        wait_until(lambda: d.metrics().get("teamhealth_oncall_bypass_total",
                                           team="payments") == 1, 60, "the bypass counted",
                   on_timeout=d.log_tail)
        assert d.terminate() == 0
    finally:
        if gw.proc.poll() is None:
            gw.proc.send_signal(signal.SIGTERM)
            gw.proc.wait(timeout=60)
        factory.cleanup()
        pd.stop()


def test_a_bad_token_is_a_client_error_not_retried(broker, tmp_path):
    """401 from the vendor: counted as client_error, logged without the token, not retried."""
    class Deny(BaseHTTPRequestHandler):
        hits = 0

        def do_GET(self):  # noqa: N802
            Deny.hits += 1
            body = b'{"error":{"message":"Unauthorized","code":2006}}'
            self.send_response(401)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Deny)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    token = "bad-" + secrets.token_hex(10)
    gw = start_poller_gateway(tmp_path, broker.bootstrap,
                              f"http://127.0.0.1:{server.server_address[1]}", token,
                              unique_topic("poller-denied"))
    try:
        wait_until(lambda: gw.metrics().get("teamhealth_gateway_schedule_polls_total",
                                            vendor="pagerduty", outcome="client_error") >= 1,
                   30, "a client_error poll", on_timeout=gw.log_tail)
        assert Deny.hits == 1
        m = gw.metrics()
        assert m.get("teamhealth_gateway_schedule_retries_total", vendor="pagerduty") == 0
        assert m.get("teamhealth_gateway_schedule_last_success_timestamp_seconds",
                     vendor="pagerduty") == 0
        assert "Schedule poll failed. vendor=pagerduty" in gw.log()
        assert "status=401" in gw.log()
    finally:
        assert gw.stop() == 0
        server.shutdown()
        server.server_close()
    assert token not in gw.log()


def test_opsgenie_timeline_becomes_shifts(broker, tmp_path):
    """Opsgenie: GET /v2/schedules/{id}/timeline with GenieKey; each rotation's user periods
    (a stint split at "now" merged back) become shifts of that rotation's slot."""
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    nine = today + timedelta(hours=9)
    day = timedelta(days=1)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    periods = [  # (start, end, type, recipient type, name)
        (nine - day, now, "historical", "user", "ana@example.com"),
        (now, nine + day, "default", "user", "ana@example.com"),
        (nine + day, nine + 2 * day, "override", "user", "bo@example.com"),
        (nine + 2 * day, nine + 3 * day, "default", "team", "ops_team"),
    ]
    doc = {"data": {"_parent": {"id": "S1", "name": "Payments", "enabled": True},
                    "startDate": iso(today - day), "endDate": iso(today + 7 * day),
                    "finalTimeline": {"rotations": [{
                        "id": "R1", "name": "Primary", "order": 1.0,
                        "periods": [{"startDate": iso(s), "endDate": iso(e), "type": t,
                                     "recipient": {"id": n, "type": rt, "name": n}}
                                    for s, e, t, rt, n in periods]}]}},
           "took": 0.1, "requestId": "r1"}
    seen: list[tuple[str, dict, dict]] = []

    class Timeline(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            parsed = urllib.parse.urlparse(self.path)
            seen.append((parsed.path, urllib.parse.parse_qs(parsed.query),
                         dict(self.headers.items())))
            body = json.dumps(doc).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Timeline)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    token = "og-" + secrets.token_hex(10)
    topic = unique_topic("poller-opsgenie")
    token_file = tmp_path / "opsgenie.token"
    token_file.write_text(token + "\n")
    cfg = tmp_path / "gateway.toml"
    cfg.write_text("\n".join([
        "[kafka]", f'brokers = "{broker.bootstrap}"',
        "[gateway]", 'listen = "127.0.0.1:0"', f'shifts_topic = "{topic}"',
        "[[gateway.schedules]]", 'vendor = "opsgenie"',
        f'api_url = "http://127.0.0.1:{server.server_address[1]}"',
        f'token_file = "{token_file}"', 'schedule_ids = ["S1"]', "window_days = 7"]) + "\n")
    gw = run_gateway(cfg)
    try:
        wait_until(lambda: on_topic(broker, topic) >= 2, 60, "the Opsgenie shifts",
                   on_timeout=gw.log_tail)
        wait_until(lambda: gw.metrics().get("teamhealth_gateway_schedule_polls_total",
                                            vendor="opsgenie", outcome="ok") >= 1,
                   30, "the poll counted", on_timeout=gw.log_tail)
        assert end_total(broker, topic) == 2
        path, query, headers = seen[0]
        assert path == "/v2/schedules/S1/timeline"
        assert query == {"identifierType": ["id"], "date": [ms_iso(today - day)],
                         "interval": ["8"], "intervalUnit": ["days"]}
        assert headers["Authorization"] == f"GenieKey {token}"
    finally:
        assert gw.stop() == 0
        server.shutdown()
        server.server_close()
    assert token not in gw.log()
    events = sorted(topic_events(broker, topic), key=lambda e: e["attrs"]["start"])
    assert [(e["attrs"]["person"], e["attrs"]["start"], e["attrs"]["end"]) for e in events] == [
        ("opsgenie:ana@example.com", ms_iso(nine - day), ms_iso(nine + day)),
        ("opsgenie:bo@example.com", ms_iso(nine + day), ms_iso(nine + 2 * day))]
    for e in events:
        assert e["subject"] == {"kind": "schedule", "id": "opsgenie:S1:R1", "title": "Payments"}
        assert e["attrs"]["level"] == 1
