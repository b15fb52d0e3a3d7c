"""Failures are visible (docs/design.md section 11): Kafka down, a missing topic, a port in use,
quarantined records, config changes that need a restart, and counters that exist from the
first scrape. Against the real broker; the outage test runs a broker of its own, stops it for
longer than the 30 s grace and starts it again on the same port and data.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from conftest import (BROKER_SH, SOURCE, canonical_json, make_event, parse_metrics,
                      run_teamhealth, unique_topic, wait_until, write_config)

PARTITIONS = 3


def batch(prefix: str, start: int, count: int) -> list[list[str]]:
    per_partition: list[list[str]] = [[] for _ in range(PARTITIONS)]
    for i in range(start, start + count):
        per_partition[i % PARTITIONS].append(
            canonical_json(make_event(f"{SOURCE}:{prefix}-{i}", i)))
    return per_partition


def produce(broker, topic: str, values: list[list[str]], workdir: Path) -> None:
    for p, vs in enumerate(values):
        if vs:
            broker.produce(topic, p, vs, workdir)


def gauge(d, name: str, **labels) -> float:
    return d.metrics().get(name, **labels)


def test_a_missing_topic_is_reported_and_never_blocks_the_others(broker, daemons, tmp_path):
    real, typo = unique_topic("present"), unique_topic("typo")
    produce(broker, real, batch("present", 0, 300), tmp_path)
    cfg = write_config(tmp_path / "th.toml", state_dir=tmp_path / "state",
                       brokers=broker.bootstrap, topics=[real, typo])
    d = daemons.start(cfg)
    d.wait_port()
    # Counters exist from the first scrape, at zero, for every source and reason.
    m = d.metrics()
    assert m.get("teamhealth_events_quarantined_total", source=SOURCE, reason="invalid_json") == 0
    assert m.get("teamhealth_events_duplicate_total", source=SOURCE) == 0
    assert m.get("teamhealth_events_ignored_total", source=SOURCE) == 0
    assert m.has("teamhealth_ingest_last_batch_timestamp_seconds")

    d.wait_consumed(300, timeout=90)
    d.wait_ready(60)
    status, body = d.http_get("/readyz")
    assert status == 200 and typo in body and "topics not found" in body, body
    assert gauge(d, "teamhealth_topic_missing", topic=typo) == 1
    assert gauge(d, "teamhealth_topic_missing", topic=real) == 0
    assert gauge(d, "teamhealth_kafka_up") == 1
    assert "Waiting for topic" in d.log()

    # The topic appears: found within the 5 s poll, ingested, no longer missing.
    produce(broker, typo, batch("typo", 0, 60), tmp_path)
    d.wait_consumed(360, timeout=60)
    wait_until(lambda: gauge(d, "teamhealth_topic_missing", topic=typo) == 0, 30,
               "the topic found", on_timeout=d.log_tail)
    assert d.http_get("/readyz") == (200, "ready\n")
    assert "Topic found" in d.log()
    assert d.terminate() == 0


def test_quarantined_records_are_logged_without_their_body(broker, daemons, tmp_path):
    topic = unique_topic("poison")
    secret = "SECRET-BODY-TEXT-0042"
    broker.produce(topic, 0, ['{"not valid json ' + secret, canonical_json(
        make_event(f"{SOURCE}:ok-1", 1))], tmp_path)
    cfg = write_config(tmp_path / "th.toml", state_dir=tmp_path / "state",
                       brokers=broker.bootstrap, topics=[topic])
    d = daemons.start(cfg)
    d.wait_port()
    d.wait_consumed(2, timeout=60)
    log = d.log()
    line = next(l for l in log.splitlines() if "Quarantined record" in l)
    assert f"topic={topic}" in line and "partition=0" in line and "offset=0" in line, line
    assert "reason=invalid_json" in line and " warning " in line, line
    assert secret not in log
    assert d.metrics().get("teamhealth_events_quarantined_total", source=SOURCE,
                           reason="invalid_json") == 1
    assert d.terminate() == 0


def test_a_port_in_use_is_a_start_up_error(broker, daemons, tmp_path):
    topic = unique_topic("port")
    first = daemons.start(write_config(tmp_path / "a.toml", state_dir=tmp_path / "a",
                                       brokers=broker.bootstrap, topics=[topic]))
    port = first.wait_port()
    cfg = write_config(tmp_path / "b.toml", state_dir=tmp_path / "b", brokers=broker.bootstrap,
                       topics=[topic])
    cfg.write_text(cfg.read_text().replace('listen = "127.0.0.1:0"',
                                           f'listen = "127.0.0.1:{port}"'))
    second = daemons.start(cfg)
    assert second.proc.wait(timeout=60) != 0
    assert f"127.0.0.1:{port}" in second.log() and "cannot bind" in second.log(), second.log()
    assert first.proc.poll() is None
    assert first.terminate() == 0


def test_sighup_names_the_sections_that_need_a_restart(broker, daemons, tmp_path):
    topic = unique_topic("hup")
    cfg = write_config(tmp_path / "th.toml", state_dir=tmp_path / "state",
                       brokers=broker.bootstrap, topics=[topic])
    d = daemons.start(cfg)
    d.wait_port()
    text = cfg.read_text()
    assert 'level = "info"' in text and "[metrics]" not in text, text
    assert "max_record_bytes" not in text and "[http]" in text, text
    cfg.write_text(text.replace('level = "info"', 'level = "debug"')
                   .replace("[kafka]\n", "[kafka]\nmax_record_bytes = 4096\n")
                   .replace("[http]\n", "[http]\nmax_request_headers = 32\n") +
                   '\n[metrics]\nwip_limit = 5\n')
    d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "section=metrics.wip_limit" in d.log(), 30, "the restart warning",
               on_timeout=d.log_tail)
    for section in ("logging", "kafka", "http"):
        assert f"takes effect at the next restart. section={section}\n" in d.log(), section
    assert d.terminate() == 0


def test_kafka_down_is_visible_and_recovery_loses_nothing(daemons, tmp_path):
    """A broker of its own: stopped for 45 s (longer than the 30 s grace) while the daemon is
    ready, then started again on the same port and data."""
    bdir = tmp_path / "kafka"
    r = subprocess.run(["bash", str(BROKER_SH), "start", str(bdir)], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    bootstrap = (bdir / "bootstrap").read_text().strip()

    class OwnBroker:  # the conftest Broker's produce, against this broker
        def produce(self, topic, partition, values, workdir):
            from conftest import Broker
            Broker(bootstrap, bdir).produce(topic, partition, values, workdir)

    own = OwnBroker()
    try:
        topic = unique_topic("outage")
        produce(own, topic, batch("before", 0, 300), tmp_path)
        cfg = write_config(tmp_path / "th.toml", state_dir=tmp_path / "state", brokers=bootstrap,
                           topics=[topic])
        d = daemons.start(cfg)
        d.wait_port()
        d.wait_consumed(300, timeout=90)
        d.wait_ready(60)
        assert gauge(d, "teamhealth_kafka_up") == 1

        stopping = time.monotonic()  # the outage cannot begin before this
        subprocess.run(["bash", str(BROKER_SH), "stop", str(bdir)], check=True, timeout=120)
        # Within the grace period Kafka still counts as up (a reconnect is not an outage)...
        time.sleep(10)
        assert gauge(d, "teamhealth_kafka_up") == 1
        assert d.http_get("/readyz")[0] == 200
        # ... after it, down: the gauge, /readyz with the reason, and the log say so.
        wait_until(lambda: gauge(d, "teamhealth_kafka_up") == 0, 60, "kafka_up == 0",
                   on_timeout=d.log_tail)
        assert time.monotonic() - stopping >= 30
        status, body = d.http_get("/readyz")
        assert status == 503 and "Kafka unreachable" in body, (status, body)
        assert "Kafka is down" in d.log()
        assert d.proc.poll() is None

        r = subprocess.run(["bash", str(BROKER_SH), "start", str(bdir)], capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        assert (bdir / "bootstrap").read_text().strip() == bootstrap
        wait_until(lambda: gauge(d, "teamhealth_kafka_up") == 1, 90, "kafka_up == 1 again",
                   on_timeout=d.log_tail)
        wait_until(lambda: d.http_get("/readyz")[0] == 200, 30, "ready again",
                   on_timeout=d.log_tail)
        produce(own, topic, batch("after", 300, 300), tmp_path)
        m = d.wait_consumed(600, timeout=90)
        assert m.total("teamhealth_events_ingested_total", source=SOURCE) == 600
        assert m.total("teamhealth_events_duplicate_total", source=SOURCE) == 0
        assert d.terminate() == 0
    finally:
        subprocess.run(["bash", str(BROKER_SH), "stop", str(bdir)], capture_output=True,
                       timeout=120)


def test_check_config_finds_what_would_fail_at_start(tmp_path):
    """An unknown or invalid librdkafka property and a port out of range are found by
    check-config (without connecting), not at start."""
    cfg = write_config(tmp_path / "th.toml", state_dir=tmp_path / "state", brokers="127.0.0.1:1",
                       topics=["t"])
    good = cfg.read_text()
    r = run_teamhealth("check-config", str(cfg))
    assert r.returncode == 0, r.stderr
    for text, message in [
            (good + '[kafka.properties]\n"fetch.wait.max.msx" = "5"\n', "fetch.wait.max.msx"),
            (good + '[kafka.properties]\n"fetch.wait.max.ms" = "-5"\n', "fetch.wait.max.ms"),
            (good.replace('listen = "127.0.0.1:0"', 'listen = "127.0.0.1:99999"'),
             "from 0 to 65535")]:
        cfg.write_text(text)
        r = run_teamhealth("check-config", str(cfg))
        assert r.returncode != 0 and message in r.stderr, (text, r.stderr)
