"""The listener for non-loopback use (docs/design.md sections 6 and 11): TLS from PEM files,
viewer and admin bearer tokens read from files, request size and header limits, and a query API
that answers a request it cannot serve with 400 naming the parameter.

The certificates are made by the `openssl` command line (Debian `openssl`) for 127.0.0.1, and
the client verifies them: a listener that served plain HTTP, or another certificate, fails."""
from __future__ import annotations

import http.client
import json
import socket
import ssl
import subprocess
from pathlib import Path

import pytest

from conftest import (Daemon, parse_metrics, run_teamhealth, unique_topic, wait_until,
                      write_config)

REPO = Path(__file__).resolve().parents[2]
# The hand-worked on-call scenario (tests/projections/oncall_load): alice, named in the
# directory, has per-person series when privacy.person_metrics is on.
SCENARIO = REPO / "tests" / "projections" / "oncall_load"
PEOPLE = """
[privacy]
person_metrics = true
min_group_size = 1
[[directory.people]]
handle = "alice"
team = "payments"
timezone = "Europe/London"
identities = ["pagerduty:PALICE"]
"""
REPORT = "/api/v1/report?team=payments&from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z"
# A daemon without a directory knows only the team "unmapped" (payments would be a 404).
UNMAPPED = "/api/v1/report?team=unmapped&from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z"
VIEWER = "viewer-" + "v" * 24
ADMIN = "admin-" + "a" * 24


def make_cert(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, valid for two days, and its key."""
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key), "-out", str(cert),
                        "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return cert, key


def make_expired_cert(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate valid on 2020-01-01 only (`openssl req` cannot back-date one;
    `openssl ca` can, with a minimal CA config)."""
    ca = directory / "expired-ca"
    ca.mkdir()
    (ca / "index.txt").write_text("")
    (ca / "serial").write_text("01\n")
    (ca / "ca.conf").write_text("[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\n"
                                "new_certs_dir = .\nserial = serial\ndefault_md = sha256\n"
                                "policy = p\n[p]\ncommonName = supplied\n")
    for cmd in (["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-nodes", "-keyout", "key.pem", "-out", "req.csr", "-subj", "/CN=127.0.0.1"],
                ["openssl", "ca", "-batch", "-config", "ca.conf", "-selfsign", "-keyfile",
                 "key.pem", "-in", "req.csr", "-out", "cert.pem", "-startdate", "20200101000000Z",
                 "-enddate", "20200102000000Z"]):
        r = subprocess.run(cmd, cwd=ca, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
    return ca / "cert.pem", ca / "key.pem"


def token_file(directory: Path, name: str, token: str) -> Path:
    path = directory / name
    path.write_text(token + "\n")  # as `echo "$TOKEN" > FILE` writes it
    path.chmod(0o600)
    return path


def http_section(listen: str = "127.0.0.1:0", **keys: str | int) -> str:
    lines = [f'listen = "{listen}"']
    for k, v in keys.items():
        lines.append(f'{k} = "{v}"' if isinstance(v, (str, Path)) else f"{k} = {v}")
    return "\n".join(lines)


def with_http(cfg: Path, section: str, extra: str = "") -> Path:
    cfg.write_text(cfg.read_text().replace('listen = "127.0.0.1:0"', section) + extra)
    return cfg


class Client:
    """One request per connection, with or without TLS (verifying the test's CA)."""

    def __init__(self, port: int, ca: Path | None = None, host: str = "127.0.0.1"):
        self.port, self.host = port, host
        self.context = ssl.create_default_context(cafile=str(ca)) if ca else None

    def request(self, path: str, token: str | None = None, method: str = "GET",
                headers: dict | None = None, body: bytes | None = None) -> tuple[int, dict, str]:
        if self.context:
            conn = http.client.HTTPSConnection(self.host, self.port, context=self.context,
                                               timeout=30)
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode()
        finally:
            conn.close()

    def status(self, path: str, token: str | None = None) -> int:
        return self.request(path, token)[0]


def start(daemons, cfg: Path) -> Daemon:
    d = daemons.start(cfg)
    d.wait_port()
    return d


def test_tls_listener_with_viewer_and_admin_tokens(broker, daemons, tmp_path):
    cert, key = make_cert(tmp_path, "server")
    viewer = token_file(tmp_path, "viewer.token", VIEWER)
    admin = token_file(tmp_path, "admin.token", ADMIN)
    topic = unique_topic("tls")
    cfg = with_http(write_config(tmp_path / "th.toml", state_dir=tmp_path / "state",
                                 brokers=broker.bootstrap, topics=[topic]),
                    http_section(tls_cert=cert, tls_key=key, viewer_token_file=viewer,
                                 admin_token_file=admin),
                    "\n" + (SCENARIO / "config.toml").read_text() + PEOPLE)
    # Its directory events come from the config here (from Kafka they are quarantined).
    events = [line for line in (SCENARIO / "events.jsonl").read_text().splitlines()
              if '"type":"directory.' not in line.replace(" ", "")]
    broker.produce(topic, 0, events, tmp_path)
    d = start(daemons, cfg)
    assert "Serving HTTPS." in d.log() and "tokens=required" in d.log()
    c = Client(d.port, ca=cert)
    # Probes need no token; TLS is verified against the test's certificate.
    assert c.request("/healthz")[:1] == (200,)
    wait_until(lambda: c.status("/readyz") == 200, 60, "ready", on_timeout=d.log_tail)
    # Plain HTTP to the TLS port gets no HTTP answer.
    with pytest.raises((http.client.HTTPException, ConnectionError, OSError)):
        Client(d.port).request("/healthz")
    # Unverified certificate: a client trusting another CA refuses the handshake.
    other, _ = make_cert(tmp_path, "other")
    with pytest.raises(ssl.SSLCertVerificationError):
        Client(d.port, ca=other).request("/healthz")

    # /metrics carries per-person series (person_metrics): the admin token only.
    status, headers, _ = c.request("/metrics")
    assert status == 401 and headers["www-authenticate"].startswith("Bearer")
    assert c.status("/metrics", "wrong-" + "x" * 30) == 401
    assert c.status("/metrics", VIEWER) == 403
    status, _, body = c.request("/metrics", ADMIN)
    assert status == 200 and "teamhealth_events_ingested_total" in body
    # A token in another scheme is not a token.
    assert c.request("/metrics", headers={"Authorization": f"Basic {ADMIN}"})[0] == 401

    def ingested():
        m = parse_metrics(c.request("/metrics", ADMIN)[2])
        lags = [v for (n, _), v in m.items() if n == "teamhealth_projection_lag_events"]
        # Counted by the events' own sources (pagerduty, opsgenie, ...), not the topic's.
        done = sum(v for (n, ls), v in m.items() if n == "teamhealth_events_ingested_total"
                   and ("source", "directory") not in ls)
        return lags and not any(lags) and done == len(events)
    wait_until(ingested, 120, "the scenario ingested and projected", on_timeout=d.log_tail)

    # The report: viewers see team-level series only; the admin also per-person ones.
    assert c.status(REPORT) == 401
    sv, _, viewer_body = c.request(REPORT, VIEWER)
    sa, _, admin_body = c.request(REPORT, ADMIN)
    assert (sv, sa) == (200, 200), (viewer_body, admin_body)

    def person_series(body: str) -> int:
        return sum(1 for series in json.loads(body)["metrics"].values()
                   for s in series if "person" in s["labels"])

    def team_series(body: str) -> dict:
        return {name: [s for s in series if "person" not in s["labels"]]
                for name, series in json.loads(body)["metrics"].items()}
    assert person_series(admin_body) > 0, "no per-person series: the viewer check proves nothing"
    assert person_series(viewer_body) == 0
    assert team_series(viewer_body) == team_series(admin_body)

    # Explain: a viewer gets a team metric's facts, whose total is the report's number; a
    # per-person metric needs the admin token, which also sees handles.
    window = "team=payments&from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z"
    explain = f"/api/v1/explain?{window}&metric=teamhealth_oncall_interruptions_total" \
              "&label.period=sleep"
    assert c.status(explain) == 401
    status, _, body = c.request(explain, VIEWER)
    assert status == 200, body
    sleep = [x["value"] for x in json.loads(admin_body)["metrics"]
             ["teamhealth_oncall_interruptions_total"] if x["labels"] == {"period": "sleep"}]
    # Only alice is in this config's directory: her pages Q1 02:14 and 02:16:10 and Q7 are
    # payments' sleep interruptions (bob and erin are unmapped here), so 3.
    assert json.loads(body)["total"] == sleep[0] == 3
    person = f"/api/v1/explain?{window}&metric=teamhealth_person_oncall_interruptions_total"
    assert c.status(person, VIEWER) == 403
    status, _, body = c.request(person, ADMIN)
    assert status == 200, body
    assert {f["labels"]["person"] for f in json.loads(body)["facts"]} == {"alice"}
    assert c.status(f"/api/v1/explain?{window}&metric=teamhealth_wip_items", VIEWER) == 400
    assert d.terminate() == 0


def test_non_loopback_listener_without_tokens_is_closed(broker, daemons, tmp_path):
    cfg = with_http(write_config(tmp_path / "th.toml", state_dir=tmp_path / "state",
                                 brokers=broker.bootstrap, topics=[unique_topic("open")]),
                    http_section("0.0.0.0:0"))
    d = start(daemons, cfg)
    assert "Not on loopback and no token file set" in d.log()
    c = Client(d.port)
    assert c.status("/healthz") == 200
    status, _, body = c.request("/metrics")
    assert status == 403 and "viewer_token_file" in body
    assert c.status(REPORT) == 403
    assert d.terminate() == 0


def test_request_limits_and_query_api_errors(broker, daemons, tmp_path):
    viewer = token_file(tmp_path, "viewer.token", VIEWER)
    cfg = with_http(write_config(tmp_path / "th.toml", state_dir=tmp_path / "state",
                                 brokers=broker.bootstrap, topics=[unique_topic("limits")]),
                    http_section(viewer_token_file=viewer, max_request_bytes=2048,
                                 max_request_headers=20))
    d = start(daemons, cfg)
    c = Client(d.port)
    assert c.status(UNMAPPED, VIEWER) == 200
    # Headers: 19 + Host + Authorization... over 20 is refused with 431.
    many = {f"X-Filler-{i}": "x" for i in range(30)}
    assert c.request(UNMAPPED, VIEWER, headers=many)[0] == 431
    assert c.request(UNMAPPED, VIEWER, headers={f"X-Filler-{i}": "x" for i in range(10)})[0] == 200
    # A body over max_request_bytes: 413, read no further (a GET's body is never read). A small
    # one reaches routing, which has no POST route: 404.
    assert c.request(UNMAPPED, VIEWER, method="POST", body=b"x" * 4096,
                     headers={"Content-Type": "text/plain"})[0] == 413
    assert c.request(UNMAPPED, VIEWER, method="POST", body=b"x" * 100,
                     headers={"Content-Type": "text/plain"})[0] == 404
    # A request line longer than cpp-httplib's 8 KiB limit: 414.
    assert c.status(UNMAPPED + "&x=" + "y" * 10000, VIEWER) == 414

    def error(query: str) -> tuple[int, str]:
        status, _, body = c.request("/api/v1/report?" + query, VIEWER)
        return status, json.loads(body)["error"] if status != 200 else body
    window = "from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z"
    for query, status, words in [
        (f"team=payments&{window}&colour=blue", 400, "unknown query parameter colour"),
        (f"team=payments&team=search&{window}", 400, "team given more than once"),
        (f"team=payments&from=1969-12-31T00:00:00Z&to=2026-01-01T00:00:00Z", 400,
         "from: before 1970"),
        (f"team=payments&from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", 400,
         "to: must be after from"),
        (f"team=payments&from=yesterday&to=2026-01-01T00:00:00Z", 400, "from: expected RFC 3339"),
        (f"team=payments&{window}&format=xml", 400, "format"),
        (window, 400, "team is required"),
        # The widest window the API accepts is served, not a crash.
        ("team=unmapped&from=1970-01-01T00:00:00Z&to=9999-12-31T23:59:59Z", 200, "unmapped"),
        (f"team=nobody&{window}", 404, "unknown team nobody (known teams: unmapped)"),
    ]:
        got, text = error(query)
        assert got == status and words in text, (query, got, text)
    assert c.request("/api/v1/nothing", VIEWER)[0] == 404
    assert d.proc.poll() is None
    assert d.terminate() == 0


def test_check_config_names_bad_listener_files(tmp_path):
    cert, key = make_cert(tmp_path, "good")
    _, other_key = make_cert(tmp_path, "other")
    expired_cert, expired_key = make_expired_cert(tmp_path)
    short = token_file(tmp_path, "short.token", "abc")
    spaced = token_file(tmp_path, "spaced.token", "two words and more than sixteen")
    good = token_file(tmp_path, "good.token", VIEWER)

    def check(section: str) -> tuple[int, str]:
        cfg = tmp_path / "c.toml"
        cfg.write_text(f'[storage]\ndir = "{tmp_path}/state"\n[http]\n{section}\n')
        r = run_teamhealth("check-config", str(cfg))
        return r.returncode, r.stderr
    assert check(http_section(tls_cert=cert, tls_key=key, viewer_token_file=good))[0] == 0
    for section, words in [
        ('api_token = "s3cret"', "http.api_token: tokens are secrets and come from files"),
        (http_section(viewer_token_file=tmp_path / "missing.token"),
         f"http.viewer_token_file {tmp_path}/missing.token: cannot read it"),
        (http_section(admin_token_file=short), "fewer than 16"),
        (http_section(viewer_token_file=spaced), "printable ASCII without spaces"),
        (http_section(tls_cert=cert), "http.tls_cert: set http.tls_key too"),
        (http_section(tls_cert=cert, tls_key=other_key), "does not match the certificate"),
        (http_section(tls_cert=good, tls_key=key), "not a PEM certificate"),
        (http_section(tls_cert=expired_cert, tls_key=expired_key), "has expired"),
        (http_section(max_request_bytes=10), "http.max_request_bytes"),
        (http_section(listen="[::1:80"), "http.listen"),
    ]:
        code, err = check(section)
        assert code != 0 and words in err, (section, code, err)
        assert VIEWER not in err and "abc" not in err.split(":")[-1]


def test_tokens_never_reach_the_log(broker, daemons, tmp_path):
    viewer = token_file(tmp_path, "viewer.token", VIEWER)
    cfg = with_http(write_config(tmp_path / "th.toml", state_dir=tmp_path / "state",
                                 brokers=broker.bootstrap, topics=[unique_topic("quiet")],
                                 level="trace"),
                    http_section(viewer_token_file=viewer))
    d = start(daemons, cfg)
    c = Client(d.port)
    assert c.status(UNMAPPED, VIEWER) == 200
    assert c.status(UNMAPPED, "not-the-token-but-long-enough") == 401
    assert d.terminate() == 0
    assert VIEWER not in d.log() and "not-the-token" not in d.log()
