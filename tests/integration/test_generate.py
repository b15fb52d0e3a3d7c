"""`teamhealth generate`: deterministic files, and straight into a real broker, where the daemon
takes every record in with nothing quarantined or ignored."""

from __future__ import annotations

import subprocess
from collections import defaultdict
from pathlib import Path


from conftest import TEAMHEALTH_BIN, inspect, wait_until


def generate(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(TEAMHEALTH_BIN), "generate", "--days", "7", *args],
                          capture_output=True, text=True, timeout=120)


def test_same_seed_same_bytes(tmp_path):
    for d in ("a", "b", "c"):
        seed = "3" if d != "c" else "4"
        assert generate("--seed", seed, "--out", str(tmp_path / d)).returncode == 0
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert "directory.toml" in files and "pagerduty.jsonl" in files
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert any((tmp_path / "a" / n).read_bytes() != (tmp_path / "c" / n).read_bytes()
               for n in files)


def test_generated_organisation_through_the_real_broker(broker, daemons, tmp_path):
    r = generate("--seed", "5", "--out", str(tmp_path / "org"), "--brokers", broker.bootstrap)
    assert r.returncode == 0, r.stderr
    # records per source: one line of <source>.jsonl is one Kafka record
    records = {p.stem: len(p.read_text().splitlines())
               for p in (tmp_path / "org").glob("*.jsonl")}
    topics = {"webhooks.jira": "jira", "webhooks.github": "github", "webhooks.slack": "slack",
              "webhooks.pagerduty": "pagerduty", "teamhealth.canonical": "canonical"}
    assert set(records) == set(topics.values()) and all(records.values()), records
    lines = ["[storage]", f'dir = "{tmp_path / "state"}"', "[kafka]",
             f'brokers = "{broker.bootstrap}"']
    for name, source in topics.items():
        lines += ["[[kafka.topics]]", f'name = "{name}"', f'source = "{source}"']
    lines += ["[http]", 'listen = "127.0.0.1:0"']
    cfg = tmp_path / "th.toml"
    cfg.write_text("\n".join(lines) + "\n" + (tmp_path / "org" / "directory.toml").read_text())
    d = daemons.start(cfg)
    d.wait_port()

    # Outcomes per source, each of which the daemon counts once per record (ingested counts
    # events: one per generated record, which the exact ingested check below confirms).
    m = d.wait_records(records, 120)
    for s, n in records.items():
        assert m.get("teamhealth_events_ingested_total", source=s) == n, s
    assert m.total("teamhealth_events_quarantined_total") == 0
    assert m.total("teamhealth_events_ignored_total") == 0
    assert m.total("teamhealth_events_duplicate_total") == 0
    for topic in topics:
        wait_until(lambda t=topic: d.metrics().get("teamhealth_consumer_lag_messages",
                                                   topic=t) == 0,
                   30, f"consumer lag 0 on {topic}", on_timeout=d.log_tail)
    assert d.terminate() == 0
    # The stored offsets, record positions rather than events: every record of every topic,
    # exactly up to the broker's end of each partition.
    stored = defaultdict(dict)
    for o in inspect(tmp_path / "state", "offsets"):
        stored[o["topic"]][o["partition"]] = o["next_offset"]
    assert set(stored) == set(topics), stored
    for topic, source in topics.items():
        assert sum(stored[topic].values()) == records[source], (topic, stored[topic])
        assert stored[topic] == broker.end_offsets(topic, stored[topic]), topic
