"""`teamhealth gateway` against the real broker and the real daemon.

* Every vendor payload of the goldens (the shared fixtures and our variants, as
  test_vendor_fixtures plays them) is sent two ways: straight to Kafka with kcat (one record,
  its golden headers as record headers), and POSTed to the gateway with the same headers and a
  valid signature. Two daemons, one per way, read them; their logs must hold the same canonical
  events (people compared through their pseudonyms, which differ per state directory) and the
  same ingest counters. Linear bodies get a current `webhookTimestamp` on both ways (the gateway
  refuses Linear bodies older than 60 s); the few bodies the gateway must refuse although signed
  (a Linear body without a numeric webhookTimestamp) answer 401 and are left out of both.
  Slack's url_verification is answered with its challenge and produced nowhere.
* A bad signature, a stale Slack timestamp, a missing header: 401, and nothing reaches Kafka;
  /metrics counts each outcome per source.
* A broker of its own, stopped: the gateway answers 503 (and /readyz 503); started again on the
  same port, the vendor's retry answers 200, and the daemon's log holds the event exactly once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from test_http_security import make_cert
from conftest import (BROKER_SH, TEAMHEALTH_BIN, Broker, DaemonFactory, Metrics, inspect,
                      parse_metrics, unique_topic, wait_until)
from test_vendor_fixtures import SOURCES, GOLDEN_RECORD_TIME, load_payloads, produce_one, \
    vendor_config

_PORT_RE = re.compile(r"Serving HTTPS?\. address=\S+:(\d+)")


# --------------------------------------------------------------------------------------------
# Signing as each vendor does (daemon/gateway/README.md)


def sign(source: str, secret: str, body: bytes, now: float | None = None) -> list[tuple[str, str]]:
    now = time.time() if now is None else now

    def hexmac(data: bytes) -> str:
        return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()

    if source == "github":
        return [("X-Hub-Signature-256", "sha256=" + hexmac(body))]
    if source == "jira":
        return [("X-Hub-Signature", "sha256=" + hexmac(body))]
    if source == "slack":
        ts = str(int(now))
        return [("X-Slack-Request-Timestamp", ts),
                ("X-Slack-Signature", "v0=" + hexmac(b"v0:" + ts.encode() + b":" + body))]
    if source == "pagerduty":
        return [("X-PagerDuty-Signature", "v1=" + hexmac(body))]
    if source == "linear":
        return [("Linear-Signature", hexmac(body))]
    if source == "opsgenie":
        return [("X-Teamhealth-Token", secret)]
    raise ValueError(source)


def fresh_linear(body: bytes) -> bytes | None:
    """The body with a current webhookTimestamp (same bytes otherwise), or None when it has no
    top-level numeric one (the gateway refuses such a body)."""
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("webhookTimestamp"), int):
        return None
    now = str(int(time.time() * 1000)).encode()
    return re.sub(rb'("webhookTimestamp"\s*:\s*)\d+', lambda m: m.group(1) + now, body, count=1)


# --------------------------------------------------------------------------------------------
# The gateway process


@dataclass
class GatewayProc:
    proc: subprocess.Popen
    stderr_path: Path
    port: int | None = None

    def log(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def log_tail(self, n: int = 40) -> str:
        return "--- gateway log ---\n" + "\n".join(self.log().splitlines()[-n:])

    def wait_port(self) -> int:
        def find():
            m = _PORT_RE.search(self.log())
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                pytest.fail(f"gateway exited with {self.proc.returncode}\n" + self.log_tail())
            return None
        self.port = wait_until(find, 30, "the gateway's port", on_timeout=self.log_tail)
        return self.port

    def request(self, method: str, path: str, body: bytes = b"",
                headers: list[tuple[str, str]] = (), timeout: float = 30) -> tuple[int, str]:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=body or None,
                                     method=method)
        for name, value in headers:
            req.add_header(name, value)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def post(self, source: str, body: bytes, headers: list[tuple[str, str]]) -> tuple[int, str]:
        """As the vendors send them: JSON (cpp-httplib caps form-encoded bodies at 8 KiB)."""
        if not any(name.lower() == "content-type" for name, _ in headers):
            headers = [*headers, ("Content-Type", "application/json")]
        return self.request("POST", f"/hooks/{source}", body, headers)

    def metrics(self) -> Metrics:
        status, text = self.request("GET", "/metrics")
        assert status == 200, (status, text)
        return Metrics(parse_metrics(text))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)


def start_gateway(workdir: Path, bootstrap: str, topics: dict[str, str],
                  secrets_by_source: dict[str, str], timeout_ms: int = 10000,
                  gateway_keys: tuple[str, ...] = ()) -> GatewayProc:
    lines = ["[kafka]", f'brokers = "{bootstrap}"', "[gateway]", 'listen = "127.0.0.1:0"',
             f"delivery_timeout_ms = {timeout_ms}", *gateway_keys]
    for source, topic in topics.items():
        secret_file = workdir / f"{source}.secret"
        secret_file.write_text(secrets_by_source[source] + "\n")
        os.chmod(secret_file, 0o600)
        lines += [f"[gateway.sources.{source}]", f'topic = "{topic}"',
                  f'secret_file = "{secret_file}"']
    cfg = workdir / "gateway.toml"
    cfg.write_text("\n".join(lines) + "\n")
    return run_gateway(cfg)


def run_gateway(cfg: Path) -> GatewayProc:
    """`teamhealth gateway` with the config file `cfg` (checked first), once it listens; its
    stderr goes to gateway.stderr beside the config."""
    r = subprocess.run([str(TEAMHEALTH_BIN), "check-config", str(cfg)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    err = cfg.parent / "gateway.stderr"
    with open(err, "wb") as e:
        proc = subprocess.Popen([str(TEAMHEALTH_BIN), "gateway", "--config", str(cfg)],
                                stdout=subprocess.DEVNULL, stderr=e, stdin=subprocess.DEVNULL)
    g = GatewayProc(proc, err)
    g.wait_port()
    return g


def end_total(broker: Broker, topic: str) -> int:
    return sum(broker.end_offsets(topic).values())


def stored_offsets(state: Path) -> dict[str, int]:
    """topic -> records the daemon has durably read (its stored next offsets, summed)."""
    out: dict[str, int] = {}
    for o in inspect(state, "offsets"):
        out[o["topic"]] = out.get(o["topic"], 0) + o["next_offset"]
    return out


def normalized(events: list[dict], names: dict[str, str]) -> dict[str, dict]:
    """id -> event, each pseudonym replaced by a label given in order of first use over the
    events sorted by id (the same people get the same labels on both ways)."""
    out = {}
    for e in sorted((x.get("event", x) for x in events), key=lambda ev: ev["id"]):
        text = json.dumps(e, sort_keys=True)
        for p in re.findall(r"p:[0-9a-f]{16}", text):
            names.setdefault(p, f"person-{len(names)}")
        out[e["id"]] = json.loads(re.sub(r"p:[0-9a-f]{16}", lambda m: names[m.group(0)], text))
    return out


# --------------------------------------------------------------------------------------------
# Every payload both ways


@pytest.fixture(scope="module")
def both_ways(broker, tmp_path_factory):
    work: Path = tmp_path_factory.mktemp("gateway")
    direct = {s: unique_topic(f"gwd-{s}") for s in SOURCES}
    via = {s: unique_topic(f"gwg-{s}") for s in SOURCES}
    keys = {s: secrets.token_hex(16) for s in SOURCES}
    gw = start_gateway(work, broker.bootstrap, via, keys)
    sent = {s: [] for s in SOURCES}     # payload rel paths both ways
    refused = {s: [] for s in SOURCES}  # signed, refused by the gateway (401)
    challenge = None
    record_time_ids = set()
    try:
        for s in SOURCES:
            for p in load_payloads(s):
                body = p.path.read_bytes()
                if s == "linear":
                    fresh = fresh_linear(body)
                    if fresh is None:
                        status, text = gw.post(s, body, p.headers + sign(s, keys[s], body))
                        assert status == 401, (p.rel, status, text)
                        refused[s].append(p.rel)
                        continue
                    body = fresh
                status, text = gw.post(s, body, p.headers + sign(s, keys[s], body))
                if s == "slack" and b'"url_verification"' in body:
                    assert status == 200, (p.rel, status, text)
                    challenge = json.loads(text)
                    continue
                assert status == 200, (s, p.rel, status, text, gw.log_tail())
                produce_one(broker.bootstrap, direct[s], body, p.headers, work)
                sent[s].append(p.rel)
                record_time_ids |= {e["id"] for e in p.events
                                    if e["occurred_at"] == GOLDEN_RECORD_TIME}
        metrics = gw.metrics()
    finally:
        gw_rc = gw.stop()
    assert gw_rc == 0, gw.log_tail()
    for s in SOURCES:
        assert end_total(broker, via[s]) == len(sent[s]), s
    # One daemon per way.
    results = {}
    factory = DaemonFactory(work)
    try:
        for way, topics in (("direct", direct), ("gateway", via)):
            state = work / f"state-{way}"
            cfg = vendor_config(work / f"{way}.toml", state, broker.bootstrap, topics)
            d = factory.start(cfg)
            d.wait_port()
            ends = {t: end_total(broker, t) for t in topics.values()}
            wait_until(lambda: stored_offsets(state) == ends, 90, f"{way}: every record read",
                       on_timeout=d.log_tail)
            d.wait_ready(60)
            assert d.terminate() == 0, d.log_tail()
            results[way] = {"events": inspect(state, "events"),
                            "counters": inspect(state, "counters")[0]}
    finally:
        factory.cleanup()
    return {"results": results, "sent": sent, "refused": refused, "challenge": challenge,
            "metrics": metrics, "record_time_ids": record_time_ids, "log": gw.log()}


def test_every_payload_is_accepted_and_the_challenge_answered(both_ways):
    assert all(both_ways["sent"][s] for s in SOURCES), both_ways["sent"]
    assert both_ways["challenge"] == {"challenge": "valid_challenge_token"}
    # Only Linear bodies without a timestamp are refused although signed.
    assert all(not v for s, v in both_ways["refused"].items() if s != "linear")
    m = both_ways["metrics"]
    for s in SOURCES:
        assert m.get("teamhealth_gateway_requests_total", source=s, outcome="accepted") == \
            len(both_ways["sent"][s]), s
    assert m.get("teamhealth_gateway_requests_total", source="slack", outcome="challenge") == 1
    assert m.get("teamhealth_gateway_request_duration_seconds_count", source="github") >= \
        len(both_ways["sent"]["github"])


def test_the_daemon_stores_the_same_events_either_way(both_ways):
    names_direct, names_gateway = {}, {}
    direct = normalized(both_ways["results"]["direct"]["events"], names_direct)
    via = normalized(both_ways["results"]["gateway"]["events"], names_gateway)
    assert direct, "no events at all"
    assert set(direct) == set(via), (sorted(set(direct) ^ set(via)))[:10]
    for event_id, want in direct.items():
        got = via[event_id]
        if event_id in both_ways["record_time_ids"]:
            # the payload has no time: the Kafka record timestamp is the event time
            want, got = dict(want), dict(got)
            want.pop("occurred_at"), got.pop("occurred_at")
        assert got == want, event_id
    cd, cg = (both_ways["results"][w]["counters"] for w in ("direct", "gateway"))
    for key in ("ingested", "duplicate", "quarantined", "ignored"):
        assert cd.get(key) == cg.get(key), (key, cd.get(key), cg.get(key))


def test_gateway_never_logs_bodies_or_secrets(both_ways):
    log = both_ways["log"]
    # values from the bodies (the challenge, an issue title, a message, a Jira summary)
    for text in ("valid_challenge_token", "Spelling error in the README file", "dgsfklsdgf",
                 "Unit test summary", '"action"'):
        assert text not in log, text


# --------------------------------------------------------------------------------------------
# Refusals


def test_bad_signatures_are_401_and_produce_nothing(broker, tmp_path):
    topics = {s: unique_topic(f"gwbad-{s}") for s in SOURCES}
    keys = {s: secrets.token_hex(16) for s in SOURCES}
    gw = start_gateway(tmp_path, broker.bootstrap, topics, keys)
    try:
        body = b'{"action":"opened","issue":{"id":1}}'
        ok_headers = sign("github", keys["github"], body)
        assert gw.post("github", body, ok_headers)[0] == 200  # the topic exists now
        before = {s: end_total(broker, topics["github"]) for s in ["github"]}
        wrong = sign("github", "not-the-secret-00000", body)
        assert gw.post("github", body, wrong)[0] == 401
        assert gw.post("github", body + b" ", ok_headers)[0] == 401  # tampered
        assert gw.post("github", body, [])[0] == 401  # missing header
        slack = b'{"type":"event_callback","event_id":"Ev1"}'
        stale = sign("slack", keys["slack"], slack, now=time.time() - 600)
        status, text = gw.post("slack", slack, stale)
        assert status == 401 and "stale" in text
        assert gw.post("opsgenie", b"{}", [("X-Teamhealth-Token", "guess-guess-guess-1")])[0] == 401
        assert gw.request("GET", "/hooks/github")[0] == 405
        assert gw.post("gitlab", body, ok_headers)[0] == 404
        big = b"x" * (1024 * 1024 + 1)
        try:  # the listener refuses it without reading it: the answer may race the upload
            status = gw.post("github", big, sign("github", keys["github"], big))[0]
            assert status == 413, status
        except (ConnectionError, urllib.error.URLError):
            pass
        assert end_total(broker, topics["github"]) == before["github"]
        m = gw.metrics()
        assert m.get("teamhealth_gateway_requests_total", source="github",
                     outcome="bad_signature") == 3
        assert m.get("teamhealth_gateway_requests_total", source="slack", outcome="stale") == 1
        assert m.get("teamhealth_gateway_requests_total", source="opsgenie",
                     outcome="bad_signature") == 1
        assert m.get("teamhealth_gateway_requests_total", source="github",
                     outcome="too_large") == 1
        assert m.get("teamhealth_gateway_requests_total", source="unknown",
                     outcome="unknown_source") == 1
        # declared at zero from the first scrape
        assert m.get("teamhealth_gateway_requests_total", source="jira",
                     outcome="kafka_unavailable") == 0
        # Prometheus's own linter has nothing to say about the exposition.
        exposition = gw.request("GET", "/metrics")[1]
        r = subprocess.run(["promtool", "check", "metrics"], input=exposition,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and r.stdout + r.stderr == "", r.stdout + r.stderr
        assert gw.request("GET", "/healthz")[0] == 200
        assert gw.request("GET", "/readyz")[0] == 200
        log = gw.log()
        for k in keys.values():
            assert k not in log
        assert "Refused a webhook" in log
    finally:
        assert gw.stop() == 0


def test_https_listener(broker, tmp_path):
    """Vendors post over the internet: the gateway serves HTTPS with [gateway] tls_cert/tls_key
    (the http module's listener), the same answers."""
    cert, key = make_cert(tmp_path, "gw")
    topic = unique_topic("gwtls-github")
    secret = secrets.token_hex(16)
    gw = start_gateway(tmp_path, broker.bootstrap, {"github": topic}, {"github": secret},
                       gateway_keys=(f'tls_cert = "{cert}"', f'tls_key = "{key}"'))
    try:
        assert "Serving HTTPS." in gw.log()
        body = b'{"action":"opened"}'
        req = urllib.request.Request(f"https://127.0.0.1:{gw.port}/hooks/github", data=body,
                                     method="POST")
        for name, value in [("Content-Type", "application/json"),
                            *sign("github", secret, body)]:
            req.add_header(name, value)
        context = ssl.create_default_context(cafile=str(cert))
        with urllib.request.urlopen(req, timeout=30, context=context) as r:
            assert r.status == 200
        assert end_total(broker, topic) == 1
        with pytest.raises((urllib.error.URLError, ConnectionError)):  # no plain HTTP
            urllib.request.urlopen(f"http://127.0.0.1:{gw.port}/healthz", timeout=10)
    finally:
        assert gw.stop() == 0


# --------------------------------------------------------------------------------------------
# Broker outage


def test_broker_outage_is_503_and_the_retry_lands_once(tmp_path):
    bdir = tmp_path / "kafka"
    r = subprocess.run(["bash", str(BROKER_SH), "start", str(bdir)], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    bootstrap = (bdir / "bootstrap").read_text().strip()
    topic = unique_topic("gwout-github")
    key = secrets.token_hex(16)
    gw = None
    factory = DaemonFactory(tmp_path)
    try:
        gw = start_gateway(tmp_path, bootstrap, {"github": topic}, {"github": key},
                           timeout_ms=3000)
        fixture = Path(__file__).resolve().parents[2] / "tests/fixtures/payloads/github"
        first = (fixture / "issues-opened.json").read_bytes()
        retried = (fixture / "issues-closed.json").read_bytes()

        def headers(body, delivery):
            return [("X-GitHub-Event", "issues"), ("X-GitHub-Delivery", delivery),
                    ("Content-Type", "application/json")] + sign("github", key, body)

        assert gw.post("github", first, headers(first, "d-first"))[0] == 200
        subprocess.run(["bash", str(BROKER_SH), "stop", str(bdir)], check=True, timeout=120)
        t0 = time.monotonic()
        status, text = gw.post("github", retried, headers(retried, "d-retried"))
        assert status == 503, (status, text)
        assert time.monotonic() - t0 < 15, "the 503 took longer than the delivery timeout"
        status, text = gw.request("GET", "/readyz")
        assert status == 503 and "Kafka unreachable" in text, (status, text)

        r = subprocess.run(["bash", str(BROKER_SH), "start", str(bdir)], capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 0, r.stderr

        # The vendor retries (GitHub: by hand or the API; the others on their own) until 2xx.
        def retry():
            return gw.post("github", retried, headers(retried, "d-retried"))[0] == 200
        wait_until(retry, 90, "the retry to be accepted", interval=1, on_timeout=gw.log_tail)
        m = gw.metrics()
        assert m.get("teamhealth_gateway_requests_total", source="github",
                     outcome="kafka_unavailable") >= 1

        cfg = vendor_config(tmp_path / "th.toml", tmp_path / "state", bootstrap,
                            {"github": topic})
        d = factory.start(cfg)
        d.wait_port()
        end = end_total(Broker(bootstrap, bdir), topic)
        wait_until(lambda: stored_offsets(tmp_path / "state") == {topic: end}, 60,
                   "every record read", on_timeout=d.log_tail)
        ids = [e["id"] for e in inspect(tmp_path / "state", "events")]
        # Each body's events are in the log exactly once (a body Kafka stored twice, if any,
        # counts as a duplicate): as many as its golden has.
        golden = {p.rel: len(p.events) for p in load_payloads("github")}
        assert sum(1 for i in ids if "d-first" in i) == golden["issues-opened"], ids
        assert sum(1 for i in ids if "d-retried" in i) == golden["issues-closed"], ids
        assert len(ids) == golden["issues-opened"] + golden["issues-closed"], ids
        assert d.terminate() == 0
    finally:
        if gw is not None:
            gw.stop()
        factory.cleanup()
        subprocess.run(["bash", str(BROKER_SH), "stop", str(bdir)], capture_output=True,
                       timeout=120)


# --------------------------------------------------------------------------------------------
# Config errors: exit 2 naming the key, before anything starts


@pytest.mark.parametrize("extra,named", [
    ('[gateway.sources.github]\ntopic = "t"\nsecret_file = "{missing}"\n',
     "gateway.sources.github.secret_file"),
    ('[gateway.sources.github]\ntopic = "t"\nsecret_file = "{short}"\n',
     "gateway.sources.github.secret_file"),
    ('[gateway.sources.gitlab]\ntopic = "t"\nsecret_file = "{good}"\n', "gateway.sources.gitlab"),
    ('[gateway]\nmax_body_bytes = 5\n[gateway.sources.github]\ntopic = "t"\n'
     'secret_file = "{good}"\n', "gateway.max_body_bytes"),
    ('[gateway.sources.github]\ntopic = "t"\nsecret_file = "{good}"\n[[gateway.schedules]]\n'
     'vendor = "pagerduty"\ntoken_file = "{short}"\nschedule_ids = ["P1"]\n',
     "gateway.schedules[0].token_file"),
    ('[[gateway.schedules]]\nvendor = "opsgenie"\ntoken_file = "{good}"\n'
     'escalation_policy_ids = ["P1"]\n', "gateway.schedules[0].escalation_policy_ids"),
    ('[storage]\ndir = "x"\n', "[gateway]"),
])
def test_config_errors_exit_2_naming_the_key(tmp_path, extra, named):
    good, short = tmp_path / "good.secret", tmp_path / "short.secret"
    good.write_text(secrets.token_hex(16) + "\n")
    short.write_text("tiny\n")
    cfg = tmp_path / "gw.toml"
    cfg.write_text('[kafka]\nbrokers = "127.0.0.1:9"\n' + extra.format(
        missing=tmp_path / "missing.secret", short=short, good=good))
    r = subprocess.run([str(TEAMHEALTH_BIN), "gateway", "--config", str(cfg)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert named in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
