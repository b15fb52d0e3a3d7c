"""`teamhealth import` without a broker (docs/design.md section 8, "Import").

The offline path: a generated organisation (`generate --out`) is imported and `report --log`
over the state directory must equal `report --events` over the same records normalised to
canonical JSON lines (`normalize --records`). test_pipeline_paths.py shows, with a real broker,
that `report --events` over those lines equals `report --log` over what Kafka ingest appended,
so an import that matches the lines matches the broker path without starting a broker here.
Also: importing again appends nothing; a bad line is reported as FILE:LINE and the rest is
imported; canonical lines and a raw payload file; exit codes; the daemon's lock.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import (REPO, identity_key_file, inspect, make_event, run_teamhealth,
                      write_config)

END = "2026-03-02T00:00:00Z"
WINDOWS = [("2026-02-23T00:00:00Z", END),             # the whole history (7 days)
           ("2026-02-24T06:00:00Z", "2026-02-27T18:00:00Z"),
           ("1970-01-01T00:00:00Z", "2100-01-01T00:00:00Z")]
PAYLOADS = REPO / "tests" / "fixtures" / "payloads"
SUMMARY = re.compile(r"^import: files=(\d+) records=(\d+) appended=(\d+) duplicates=(\d+) "
                     r"quarantined=(\d+) ignored=(\d+) seconds=[\d.]+ events_per_s=\d+$", re.M)


def config(tmp: Path, directory: str = "", name: str = "th.toml") -> Path:
    """A config for the offline path: storage and the directory, no Kafka."""
    state = tmp / "state"
    text = "\n".join(["[storage]", f'dir = "{state}"',
                      f'identity_key_file = "{identity_key_file(state)}"'])
    path = tmp / name
    path.write_text(text + "\n" + directory)
    return path


def run_import(cfg: Path, *args: str):
    """Runs import; returns the process and its summary as a dict (None if there is none)."""
    r = run_teamhealth("import", "--config", str(cfg), *args, timeout=300)
    m = SUMMARY.search(r.stderr)
    keys = ("files", "records", "appended", "duplicates", "quarantined", "ignored")
    return r, dict(zip(keys, map(int, m.groups()))) if m else None


def report(cfg: Path, team: str, window: tuple[str, str], *source: str,
           read_from: str | None = None) -> dict:
    """The JSON report; `read_from`, if given, is what --verbose must say it read ("metric
    facts" or "replay (...)")."""
    verbose = ("--verbose",) if read_from else ()
    r = run_teamhealth("report", "--config", str(cfg), *source, "--team", team, "--from",
                       window[0], "--to", window[1], "--format", "json", *verbose, timeout=300)
    assert r.returncode == 0, r.stderr
    if read_from:
        assert f"teamhealth report: read from {read_from}" in r.stderr, r.stderr
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def org(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("org")
    r = run_teamhealth("generate", "--seed", "21", "--teams", "3", "--people", "12", "--days",
                       "7", "--end", END, "--out", str(out), timeout=300)
    assert r.returncode == 0, r.stderr
    return out


def records_by_source(org: Path) -> dict[str, int]:
    return {p.stem: len(p.read_text().splitlines()) for p in org.glob("*.jsonl")}


def canonical_lines(org: Path, dest: Path) -> Path:
    """The generated records normalised as ingest normalises them, as canonical JSON lines."""
    with open(dest, "w") as out:
        for source in sorted(records_by_source(org)):
            r = run_teamhealth("normalize", "--source", source, "--records",
                               str(org / f"{source}.jsonl"), timeout=300)
            assert r.returncode == 0, r.stderr
            out.write(r.stdout)
    return dest


def test_generated_org_imports_and_reports_as_the_canonical_lines(org, tmp_path):
    directory = (org / "directory.toml").read_text()
    cfg = config(tmp_path, directory)
    files = sorted(str(p) for p in org.glob("*.jsonl"))
    records = records_by_source(org)
    r, summary = run_import(cfg, "--source", "auto", *files)
    assert r.returncode == 0, r.stderr
    assert "metric facts built up to" in r.stderr, r.stderr
    total = sum(records.values())
    # One event per generated record (test_generate shows the same through the broker).
    assert summary == {"files": len(files), "records": total, "appended": total,
                       "duplicates": 0, "quarantined": 0, "ignored": 0}, r.stderr
    counters = inspect(tmp_path / "state", "counters")[0]
    assert {s: counters["ingested"].get(s) for s in records} == records, counters

    events = canonical_lines(org, tmp_path / "events.jsonl")
    checked = 0
    for team in re.findall(r'^name = "([^"]+)"', directory, flags=re.M):
        for window in WINDOWS:
            # The log's report reads the facts import built; the lines' report replays them.
            from_log = report(cfg, team, window, "--log", str(tmp_path / "state"),
                              read_from="facts")
            from_lines = report(cfg, team, window, "--events", str(events),
                                read_from="replay (event files)")
            assert from_log == from_lines, (team, window)
            # What-if replays the log, through the same pipeline: the same numbers here.
            if window == WINDOWS[0]:
                replayed = report(cfg, team, window, "--log", str(tmp_path / "state"),
                                  "--set", "session_gap_minutes=30",
                                  read_from="replay (what-if definitions)")
                assert replayed["metrics"]["teamhealth_oncall_incidents_total"] == \
                    from_log["metrics"]["teamhealth_oncall_incidents_total"], (team, window)
            checked += sum(len(v) for v in from_log["metrics"].values())
    assert checked > 50  # the reports are not empty

    # Idempotent: the same files again append nothing; every event is a duplicate.
    r, again = run_import(cfg, "--source", "auto", *files)
    assert r.returncode == 0, r.stderr
    assert again == {**summary, "appended": 0, "duplicates": total}, r.stderr
    after = inspect(tmp_path / "state", "counters")[0]
    assert after["last_sequence"] == counters["last_sequence"]
    assert {s: after["duplicate"].get(s) for s in records} == records, after


def test_a_bad_line_is_reported_with_file_and_line_and_the_rest_imported(org, tmp_path):
    lines = (org / "pagerduty.jsonl").read_text().splitlines()
    assert len(lines) > 6
    lines[2] = "not json {"                                       # line 3: not a record
    lines[4] = json.dumps({"headers": {}, "body": {"event": {"id": "x"}}})  # line 5: bad payload
    bad = tmp_path / "pagerduty.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    cfg = config(tmp_path, (org / "directory.toml").read_text())
    r, summary = run_import(cfg, "--source", "pagerduty", str(bad))
    assert r.returncode == 1, r.stderr
    assert f"{bad}:3: invalid_json: record line: " in r.stderr, r.stderr
    assert re.search(rf"^{re.escape(str(bad))}:5: [a-z_]+: ", r.stderr, re.M), r.stderr
    assert summary == {"files": 1, "records": len(lines), "appended": len(lines) - 2,
                       "duplicates": 0, "quarantined": 2, "ignored": 0}, r.stderr
    # Quarantined by reference: the file and line stand for topic and offset; never the body.
    quarantined = inspect(tmp_path / "state", "quarantine")
    assert [(q["topic"], q["partition"], q["offset"]) for q in quarantined] == \
        [(f"import:{bad}", -1, 3), (f"import:{bad}", -1, 5)], quarantined
    assert "not json" not in json.dumps(quarantined)
    # The rest went in, each event knowing its line.
    origins = [e["origin"] for e in inspect(tmp_path / "state", "events", "--with-origin")
               if e["event"]["source"] == "pagerduty"]
    assert sorted(o["offset"] for o in origins) == [n for n in range(1, len(lines) + 1)
                                                    if n not in (3, 5)]
    assert {(o["topic"], o["partition"]) for o in origins} == {(f"import:{bad}", -1)}

    # Again: the bad lines are reported as already quarantined, stored once, and exit 0.
    r, again = run_import(cfg, "--source", "pagerduty", str(bad))
    assert r.returncode == 0, r.stderr
    assert f"{bad}:3: invalid_json: record line: " in r.stderr, r.stderr
    assert r.stderr.count("(already quarantined)") == 2, r.stderr
    assert again == {**summary, "appended": 0, "duplicates": len(lines), "quarantined": 0}, \
        r.stderr
    assert len(inspect(tmp_path / "state", "quarantine")) == 2
    # A changed bad line at the same place is a new record: quarantined.
    lines[2] = "still not json {"
    bad.write_text("\n".join(lines) + "\n")
    r, third = run_import(cfg, "--source", "pagerduty", str(bad))
    assert r.returncode == 1 and third["quarantined"] == 1, r.stderr
    assert len(inspect(tmp_path / "state", "quarantine")) == 3


def test_canonical_lines_and_a_raw_payload_file(tmp_path):
    cfg = config(tmp_path)
    canonical = tmp_path / "history.jsonl"
    produced = [make_event(f"canonical:imp-{i}", i) for i in range(5)]
    canonical.write_text("".join(json.dumps(e) + "\n\n" for e in produced))  # blank lines too
    r, summary = run_import(cfg, "--source", "canonical", str(canonical))
    assert r.returncode == 0, r.stderr
    assert summary["records"] == 5 and summary["appended"] == 5, r.stderr

    payload = PAYLOADS / "pagerduty" / "v3" / "incident.triggered.json"
    expected = run_teamhealth("normalize", "--source", "pagerduty", str(payload))
    assert expected.returncode == 0, expected.stderr
    want = [json.loads(line)["id"] for line in expected.stdout.splitlines()]
    r, summary = run_import(cfg, "--source", "pagerduty", str(payload))
    assert r.returncode == 0, r.stderr
    assert summary["records"] == 1 and summary["appended"] == len(want) >= 1, r.stderr

    stored = inspect(tmp_path / "state", "events", "--with-origin")
    ids = [e["event"]["id"] for e in stored if e["event"]["source"] != "directory"]
    assert ids == [e["id"] for e in produced] + want
    offsets = [(e["origin"]["topic"], e["origin"]["offset"]) for e in stored
               if e["event"]["source"] != "directory"]
    assert offsets == [(f"import:{canonical}", n) for n in (1, 3, 5, 7, 9)] + \
        [(f"import:{payload}", 0)] * len(want)
    # People are pseudonyms in the log, as after Kafka ingest.
    actors = {e["event"].get("actor") for e in stored if e["event"].get("actor")}
    assert actors and all(re.fullmatch(r"p:[0-9a-f]{16}", a) for a in actors), actors

    r, summary = run_import(cfg, "--source", "canonical", str(canonical))
    assert r.returncode == 0 and summary["appended"] == 0 and summary["duplicates"] == 5


def test_a_file_name_that_is_not_utf8_imports_with_an_escaped_origin(tmp_path):
    # A record's topic (its origin) is stored as a protobuf string, which must be UTF-8; a file
    # name need not be. Its bytes from 0x80 are written %XX, the same on every import.
    cfg = config(tmp_path)
    # Python names such a file through the surrogateescape of its bytes.
    path = tmp_path / b"caf\xe9-history.jsonl".decode("utf-8", "surrogateescape")
    path.write_text("".join(json.dumps(make_event(f"canonical:lat-{i}", i)) + "\n"
                            for i in range(3)))
    r, summary = run_import(cfg, "--source", "canonical", str(path))
    assert r.returncode == 0, r.stderr
    assert summary["appended"] == 3 and summary["quarantined"] == 0, r.stderr
    stored = inspect(tmp_path / "state", "events", "--with-origin")
    topics = {e["origin"]["topic"] for e in stored if e["event"]["source"] != "directory"}
    assert topics == {f"import:{tmp_path}/caf%E9-history.jsonl"}, topics
    r, summary = run_import(cfg, "--source", "canonical", str(path))
    assert r.returncode == 0 and summary["appended"] == 0 and summary["duplicates"] == 3


def test_a_payload_of_no_interest_is_ignored_and_a_forced_input_kind_is_obeyed(tmp_path):
    cfg = config(tmp_path)
    ignored = PAYLOADS / "pagerduty" / "v3" / "service.updated.json"
    r, summary = run_import(cfg, "--source", "pagerduty", str(ignored))
    assert r.returncode == 0 and summary["ignored"] == 1 and summary["appended"] == 0, r.stderr
    # A pretty-printed payload read as lines: each line is a (bad) record of its own.
    payload = PAYLOADS / "pagerduty" / "v3" / "incident.triggered.json"
    r, summary = run_import(cfg, "--source", "pagerduty", "--input", "lines", str(payload))
    assert r.returncode == 1, r.stderr
    assert f"{payload}:1: invalid_json: " in r.stderr, r.stderr
    assert summary["quarantined"] == summary["records"] > 1 and summary["appended"] == 0


def test_usage_errors_exit_2_before_anything_is_opened(tmp_path):
    cfg = config(tmp_path)
    payload = PAYLOADS / "pagerduty" / "v3" / "incident.triggered.json"
    for args, named in [
        (["--source", "pagerduty", str(tmp_path / "missing.json")], "missing.json"),
        (["--source", "auto", str(payload)], "incident.triggered.json"),
        (["--source", "pagerduty", "--input", "xml", str(payload)], "--input xml"),
        (["--source", "pagerduty", "--frobnicate", str(payload)], "--frobnicate"),
    ]:
        r, _ = run_import(cfg, *args)
        assert r.returncode == 2, (args, r.stderr)
        assert named in r.stderr and "usage: teamhealth import" in r.stderr, (args, r.stderr)
    assert not (tmp_path / "state").exists()
    r = run_teamhealth("import", "--help")
    assert r.returncode == 0 and "usage: teamhealth import" in r.stdout


def test_identity_key_required_and_a_running_daemon_refuses_import(tmp_path, daemons):
    payload = PAYLOADS / "pagerduty" / "v3" / "incident.triggered.json"
    no_key = tmp_path / "nokey.toml"
    no_key.write_text(f'[storage]\ndir = "{tmp_path / "state"}"\n')
    r, summary = run_import(no_key, "--source", "pagerduty", str(payload))
    assert r.returncode == 1 and "identity_key_file" in r.stderr and summary is None, r.stderr

    # A daemon (with no broker to reach) holds the state directory's lock.
    cfg = write_config(tmp_path / "serve.toml", state_dir=tmp_path / "state",
                       brokers="127.0.0.1:9", topics=["unreachable"])
    d = daemons.start(cfg)
    d.wait_port()
    r, summary = run_import(cfg, "--source", "pagerduty", str(payload))
    assert r.returncode == 1, r.stderr
    assert f"the state directory {tmp_path / 'state'} is in use" in r.stderr, r.stderr
    assert summary is None
    assert d.terminate() == 0
    r, summary = run_import(cfg, "--source", "pagerduty", str(payload))
    assert r.returncode == 0 and summary["appended"] >= 1, r.stderr
