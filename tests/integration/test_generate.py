"""`teamhealth generate`: deterministic files, and straight into a real broker, where the daemon
takes every record in with nothing quarantined or ignored."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import TEAMHEALTH_BIN, wait_until


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
    records = sum(len(p.read_text().splitlines()) for p in (tmp_path / "org").glob("*.jsonl"))
    topics = {"webhooks.jira": "jira", "webhooks.github": "github", "webhooks.slack": "slack",
              "webhooks.pagerduty": "pagerduty", "teamhealth.canonical": "canonical"}
    lines = ["[storage]", f'dir = "{tmp_path / "state"}"', "[kafka]",
             f'brokers = "{broker.bootstrap}"']
    for name, source in topics.items():
        lines += ["[[kafka.topics]]", f'name = "{name}"', f'source = "{source}"']
    lines += ["[http]", 'listen = "127.0.0.1:0"']
    cfg = tmp_path / "th.toml"
    cfg.write_text("\n".join(lines) + "\n" + (tmp_path / "org" / "directory.toml").read_text())
    d = daemons.start(cfg)
    d.wait_port()

    def consumed():
        m = d.metrics()
        return (m.total("teamhealth_events_ingested_total") -
                m.get("teamhealth_events_ingested_total", source="directory") +
                m.total("teamhealth_events_duplicate_total") +
                m.total("teamhealth_events_quarantined_total") +
                m.total("teamhealth_events_ignored_total")) >= records
    wait_until(consumed, 120, f"{records} generated records consumed")
    m = d.metrics()
    assert m.total("teamhealth_events_quarantined_total") == 0
    assert m.total("teamhealth_events_ignored_total") == 0
    assert m.total("teamhealth_events_duplicate_total") == 0
    assert d.terminate() == 0
