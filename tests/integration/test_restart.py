"""Restarts and configuration errors.

* A clean stop (SIGTERM) and restart resumes at the offsets stored in the log: nothing is
  re-read (no duplicates), nothing skipped, counters continue from their persisted values.
* A daemon started before its topic exists waits for it, is not ready meanwhile, and ingests
  once the topic appears.
* An unknown config key makes `check-config` exit 1 naming the key, and `serve` fail fast
  with the same message before touching the state directory.
"""

from __future__ import annotations

import re
import time

import pytest

from conftest import (SOURCE, canonical_json, inspect, make_event, run_teamhealth, unique_topic,
                      wait_until, write_config)

N = 6_000
M = 4_500
PARTITIONS = 3


def _batch(prefix: str, start: int, count: int) -> list[list[str]]:
    per_partition: list[list[str]] = [[] for _ in range(PARTITIONS)]
    for i in range(start, start + count):
        per_partition[(i * 7) % PARTITIONS].append(
            canonical_json(make_event(f"{SOURCE}:{prefix}-{i}", i)))
    return per_partition


def _assigned(log: str, topic: str) -> dict[int, str]:
    return {int(p): off for p, off in re.findall(
        rf"Assigned partition\. topic={re.escape(topic)} partition=(\d+) offset=(\S+)", log)}


def test_restart_resumes_at_stored_offsets(broker, daemons, tmp_path):
    topic = unique_topic("restart")
    state = tmp_path / "state"
    cfg = write_config(tmp_path / "teamhealth.toml", state_dir=state, brokers=broker.bootstrap,
                       topics=[topic])

    first = _batch("r", 0, N)
    for p, values in enumerate(first):
        broker.produce(topic, p, values, tmp_path)

    d1 = daemons.start(cfg)
    d1.wait_port()
    d1.wait_consumed(N, timeout=120)
    d1.wait_ready()
    assert d1.terminate() == 0, d1.log_tail()
    assert _assigned(d1.log(), topic) == {p: "beginning" for p in range(PARTITIONS)}
    stored = {o["partition"]: o["next_offset"] for o in inspect(state, "offsets")}
    assert stored == {p: len(v) for p, v in enumerate(first)}

    d2 = daemons.start(cfg)
    d2.wait_port()
    # The counters are seeded from the log before anything new is consumed.
    m = d2.metrics()
    assert m.get("teamhealth_events_ingested_total", source=SOURCE) == N
    assert m.get("teamhealth_log_last_sequence") == N
    d2.wait_ready()
    assert _assigned(d2.log(), topic) == {p: str(n) for p, n in stored.items()}, d2.log_tail()

    second = _batch("r", N, M)
    for p, values in enumerate(second):
        broker.produce(topic, p, values, tmp_path)
    m = d2.wait_consumed(N + M, timeout=120)
    assert m.get("teamhealth_events_ingested_total", source=SOURCE) == N + M
    assert m.get("teamhealth_events_duplicate_total", source=SOURCE) == 0
    assert m.total("teamhealth_events_quarantined_total") == 0
    assert m.get("teamhealth_log_last_sequence") == N + M
    wait_until(lambda: d2.metrics().get("teamhealth_consumer_lag_messages", topic=topic) == 0,
               30, "consumer lag 0", on_timeout=d2.log_tail)
    assert d2.terminate() == 0, d2.log_tail()

    logged = inspect(state, "events", "--with-origin")
    assert [e["seq"] for e in logged] == list(range(1, N + M + 1))
    want = {f"{SOURCE}:r-{i}" for i in range(N + M)}
    got = [e["event"]["id"] for e in logged]
    assert len(got) == len(set(got)) == N + M
    assert set(got) == want
    # the first run's events come first, in the same seqs as before the restart
    assert {int(i.split("-")[1]) for i in got[:N]} == set(range(N))

    ends = broker.end_offsets(topic)
    assert ends == {p: len(first[p]) + len(second[p]) for p in range(PARTITIONS)}
    offsets = {(o["topic"], o["partition"]): o["next_offset"] for o in inspect(state, "offsets")}
    assert offsets == {(topic, p): n for p, n in ends.items()}
    counters = inspect(state, "counters")[0]
    assert counters["ingested"] == {SOURCE: N + M}
    assert counters["duplicate"] == {}
    assert counters["last_sequence"] == N + M


def test_waits_for_missing_topic_and_is_not_ready_meanwhile(broker, daemons, tmp_path):
    topic = unique_topic("late-topic")
    state = tmp_path / "state"
    cfg = write_config(tmp_path / "teamhealth.toml", state_dir=state, brokers=broker.bootstrap,
                       topics=[topic])
    d = daemons.start(cfg)
    d.wait_port()
    wait_until(lambda: "Waiting for topic" in d.log(), 30, "the daemon to wait for the topic",
               on_timeout=d.log_tail)
    assert d.http_get("/healthz")[0] == 200
    assert d.http_get("/readyz")[0] == 503
    assert d.proc.poll() is None

    values = _batch("late", 0, 900)
    for p, vs in enumerate(values):
        broker.produce(topic, p, vs, tmp_path)
    d.wait_consumed(900, timeout=90)
    d.wait_ready()
    assert d.terminate() == 0, d.log_tail()
    assert len(inspect(state, "events")) == 900


def test_sigterm_mid_backlog_then_resume(broker, daemons, tmp_path):
    """SIGTERM while a backlog is being consumed in small batches: exit 0 with a consistent
    log (events == counters == stored offsets), and a restart finishes the rest."""
    topic = unique_topic("sigterm")
    state = tmp_path / "state"
    # Small writes, so that the writer's queue (twice write_max_bytes, all of it written at a
    # SIGTERM) holds a few hundred events: with the default, a consumer ahead of the writer
    # could queue most of the backlog before the signal, and the stop would write it all.
    cfg = write_config(tmp_path / "teamhealth.toml", state_dir=state, brokers=broker.bootstrap,
                       topics=[topic], batch_max_messages=200, write_max_bytes=64 << 10)
    total = 60_000
    values = _batch("t", 0, total)
    for p, vs in enumerate(values):
        broker.produce(topic, p, vs, tmp_path)

    d1 = daemons.start(cfg)
    d1.wait_port()
    # The last scrape before the signal: ingest has started and not finished.
    m = wait_until(lambda: (lambda m: m if m.consumed() > 0 else None)(d1.metrics()), 60,
                   "ingest to start", interval=0.02, on_timeout=d1.log_tail)
    at_signal = m.consumed()
    assert 0 < at_signal < total, f"not mid-backlog when signalled: {at_signal} of {total}"
    assert d1.terminate() == 0, d1.log_tail()
    assert "Stopped cleanly" in d1.log()
    logged = inspect(state, "events", "--with-origin")
    stored = {o["partition"]: o["next_offset"] for o in inspect(state, "offsets")}
    counters = inspect(state, "counters")[0]
    print(f"\nSIGTERM after {at_signal} of {total} events; {len(logged)} logged at the stop")
    # Mid-backlog at the stop too: the signal cut ingest short (else the restart below would
    # prove nothing), and nothing reported before the signal was lost.
    assert at_signal <= len(logged) < total, (at_signal, len(logged), total)
    # Consistent prefix: every partition's events are exactly offsets 0..stored-1.
    for p in range(PARTITIONS):
        offs = [e["origin"]["offset"] for e in logged if e["origin"]["partition"] == p]
        assert offs == list(range(stored.get(p, 0))), f"partition {p}"
    assert counters["ingested"].get(SOURCE, 0) == len(logged) == counters["last_sequence"]

    d2 = daemons.start(cfg)
    d2.wait_port()
    m = d2.wait_consumed(total, timeout=120)
    assert m.get("teamhealth_events_duplicate_total", source=SOURCE) == 0
    assert d2.terminate() == 0, d2.log_tail()
    logged = inspect(state, "events")
    assert len(logged) == total and len({e["id"] for e in logged}) == total


def test_transactional_producer_lag_reaches_zero(broker, daemons, tmp_path):
    topic = unique_topic("txn")
    state = tmp_path / "state"
    cfg = write_config(tmp_path / "teamhealth.toml", state_dir=state, brokers=broker.bootstrap,
                       topics=[topic])
    values = _batch("x", 0, 30)
    for p, vs in enumerate(values):
        broker.produce(topic, p, vs, tmp_path,
                       extra_args=["-X", f"transactional.id={topic}-{p}"])
    d = daemons.start(cfg)
    d.wait_port()
    d.wait_consumed(30, timeout=60)
    d.wait_ready()
    try:
        wait_until(lambda: d.metrics().get("teamhealth_consumer_lag_messages", topic=topic) == 0,
                   5, "consumer lag 0", on_timeout=lambda: str(d.metrics().samples))
    finally:
        assert d.terminate() == 0
    ends = broker.end_offsets(topic)
    offsets = {o["partition"]: o["next_offset"] for o in inspect(state, "offsets")}
    assert offsets == ends


# (where the stray key goes, its name as the error must spell it)
_UNKNOWN_KEYS = {
    "kafka": ("[kafka]\n", "[kafka]\nbatch_max_msgs = 10\n", "kafka.batch_max_msgs"),
    "storage": ("[storage]\n", "[storage]\ncompression = \"zstd\"\n", "storage.compression"),
    "topic": ('source = "canonical"\n', 'source = "canonical"\npartitions = 3\n',
              "kafka.topics[0].partitions"),
    "top-level": ("[http]\n", "[metrics]\nport = 9\n[http]\n", "metrics"),
    "http": ("[http]\n", "[http]\nlisten_addr = \"127.0.0.1:0\"\n", "http.listen_addr"),
}


def test_check_config_accepts_valid_config(tmp_path):
    cfg = write_config(tmp_path / "ok.toml", state_dir=tmp_path / "state",
                       brokers="127.0.0.1:1", topics=["t"])
    r = run_teamhealth("check-config", str(cfg), timeout=30)
    assert r.returncode == 0, r.stderr
    assert "ok" in r.stdout
    assert not (tmp_path / "state").exists()


@pytest.mark.parametrize("case", sorted(_UNKNOWN_KEYS))
def test_unknown_config_key_is_rejected(case, daemons, tmp_path):
    anchor, replacement, key = _UNKNOWN_KEYS[case]
    state = tmp_path / "state"
    cfg = write_config(tmp_path / "bad.toml", state_dir=state, brokers="127.0.0.1:1",
                       topics=["t"])
    text = cfg.read_text()
    assert text.count(anchor) == 1
    cfg.write_text(text.replace(anchor, replacement))

    r = run_teamhealth("check-config", str(cfg), timeout=30)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert key in r.stderr and "unknown key" in r.stderr, r.stderr

    t0 = time.monotonic()
    d = daemons.start(cfg)
    try:
        rc = d.proc.wait(timeout=15)
    except Exception:  # noqa: BLE001
        pytest.fail("serve did not fail fast on an unknown config key\n" + d.log_tail())
    elapsed = time.monotonic() - t0
    assert rc == 1, d.log_tail()
    assert key in d.log() and "unknown key" in d.log(), d.log_tail()
    assert "Serving HTTP" not in d.log()
    assert not state.exists(), "serve touched the state directory before validating its config"
    assert elapsed < 10
