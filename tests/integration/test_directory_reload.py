"""The directory is history: recorded at start, again on SIGHUP when it changed, never twice."""

from __future__ import annotations

import signal
from pathlib import Path

from conftest import inspect, unique_topic, wait_until, write_config

DIRECTORY = """
[[directory.teams]]
name = "payments"
[[directory.teams]]
name = "search"
[[directory.people]]
handle = "alice"
team = "{team}"
timezone = "Europe/London"
identities = ["slack:UALICE1", "github:alice-gh"]
"""


def upserts(state: Path) -> list[dict]:
    return [e for e in inspect(state, "events") if e["type"] == "directory.person_upserted"]


def test_sighup_records_directory_changes_and_restarts_record_nothing_new(broker, daemons,
                                                                          tmp_path):
    state = tmp_path / "state"
    cfg = write_config(tmp_path / "th.toml", state_dir=state, brokers=broker.bootstrap,
                       topics=[unique_topic("dir")], extra=DIRECTORY.format(team="payments"))
    d = daemons.start(cfg)
    d.wait_port()
    wait_until(lambda: "Directory recorded" in d.log(), 30, "directory recorded at start")
    assert d.terminate() == 0
    first = upserts(state)
    assert len(first) == 1
    assert first[0]["attrs"]["teams"] == ["payments"]
    pseudonym = first[0]["subject"]["id"]
    assert pseudonym.startswith("p:") and "alice" not in str(first[0])

    # A restart with the same directory appends nothing.
    d = daemons.start(cfg)
    d.wait_port()
    wait_until(lambda: "Directory recorded" in d.log(), 30, "directory checked at start")
    # Alice moves to search: SIGHUP records it after the batch in flight.
    cfg.write_text(cfg.read_text().replace('team = "payments"', 'team = "search"'))
    d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: d.log().count("Directory recorded") >= 2, 30, "directory reloaded")
    # The reload's event counts on /metrics at once (1 at start of this run: none changed).
    wait_until(lambda: d.metrics().get("teamhealth_events_ingested_total",
                                       source="directory") == 2, 10, "directory counter")
    # A broken config on SIGHUP is refused; the daemon keeps running.
    good = cfg.read_text()
    cfg.write_text(good + "\n[directory.bogus]\n")
    d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "Reload failed" in d.log(), 30, "bad reload refused")
    assert d.http_get("/healthz")[0] == 200
    assert d.terminate() == 0
    after = upserts(state)
    assert len(after) == 2
    assert after[1]["subject"]["id"] == pseudonym  # same person, new revision
    assert after[1]["attrs"]["teams"] == ["search"]
    assert after[1]["occurred_at"] > after[0]["occurred_at"]
