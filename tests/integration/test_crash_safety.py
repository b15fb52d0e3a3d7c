"""Crash safety: SIGKILL the daemon at random moments while it consumes a topic that is being
produced to, restart it each time, and check that nothing is lost or duplicated.

200,000 records (198,000 distinct events and 2,000 repeats of an earlier id, often in another
partition) are produced over the 3 partitions of a fresh topic at a steady pace by three
long-lived kcat producers, while the daemon is killed 10 times (kill moments drawn from
random.Random(seed); the seed comes from $CRASH_SEED or the clock and is printed). At the end
every distinct event is in the log exactly once, sequences are dense, per-partition order
holds, the persisted counters and stored offsets are exact, and progress that /metrics had
reported before a kill was still there after the restart (sync_writes=true).
"""

from __future__ import annotations

import os
import random
import re
import time
from collections import Counter, defaultdict

from conftest import (SOURCE, PacedProducer, canonical_json, inspect, make_event,
                      unique_topic, wait_until, write_config)

TOTAL = 200_000
N_DUP = TOTAL // 100
PARTITIONS = 3
KILLS = 10
PRODUCE_SECONDS = 20.0  # production is spread over about this long

_OPENED_RE = re.compile(r"Opened the event log\. dir=\S+ last_sequence=(\d+)")


def build_workload(rng: random.Random):
    kinds = ["v"] * (TOTAL - N_DUP) + ["d"] * N_DUP
    rng.shuffle(kinds)
    if kinds[0] != "v":
        j = kinds.index("v")
        kinds[0], kinds[j] = kinds[j], kinds[0]
    per_partition: list[list[str]] = [[] for _ in range(PARTITIONS)]
    ids: list[str] = []
    bodies: list[tuple[str, str]] = []
    positions: dict[str, set] = defaultdict(set)
    for i, kind in enumerate(kinds):
        p = rng.randrange(PARTITIONS)
        off = len(per_partition[p])
        if kind == "v":
            eid = f"{SOURCE}:crash-{i}"
            body = canonical_json(make_event(eid, i))
            ids.append(eid)
            bodies.append((eid, body))
        else:
            eid, body = rng.choice(bodies)
        positions[eid].add((p, off))
        per_partition[p].append(body)
    return per_partition, ids, positions


def test_crash_safety(broker, daemons, tmp_path):
    seed = int(os.environ.get("CRASH_SEED") or time.time_ns() % 1_000_000_007)
    print(f"\ncrash-safety seed={seed} (rerun with CRASH_SEED={seed})")
    rng = random.Random(seed)
    per_partition, ids, positions = build_workload(rng)
    assert sum(map(len, per_partition)) == TOTAL and len(ids) == TOTAL - N_DUP

    topic = unique_topic("crash")
    state = tmp_path / "state"
    cfg = write_config(tmp_path / "teamhealth.toml", state_dir=state, brokers=broker.bootstrap,
                       topics=[topic])

    producer = PacedProducer(broker.bootstrap, topic, per_partition, tmp_path,
                              seconds=PRODUCE_SECONDS)
    kills = []  # (delay, produced at kill, last_sequence seen on /metrics before the kill)
    try:
        # The first daemon starts before the topic exists and waits for it.
        d = daemons.start(cfg)
        producer.start()
        for k in range(KILLS):
            delay = rng.uniform(0.3, 3.0)
            t_start = time.monotonic()
            # A random moment in the daemon's life: during start-up, catch-up or steady ingest.
            seen = None
            while time.monotonic() - t_start < delay:
                assert d.proc.poll() is None, (f"daemon exited {d.proc.returncode} before kill "
                                               f"{k + 1}\n" + d.log_tail())
                time.sleep(min(0.05, max(0.0, delay - (time.monotonic() - t_start))))
            m = re.search(r"Serving HTTP\. address=127\.0\.0\.1:(\d+)", d.log())
            if m:
                d.port = int(m.group(1))
                try:
                    seen = int(d.metrics().get("teamhealth_log_last_sequence"))
                except Exception:  # noqa: BLE001 - best effort, the kill matters more
                    seen = None
            produced = producer.produced
            rc = d.kill()
            assert rc == -9, f"daemon exited {rc} before the SIGKILL\n" + d.log_tail()
            kills.append((round(delay, 2), produced, seen))
            d = daemons.start(cfg)
            opened = wait_until(lambda: _OPENED_RE.search(d.log()) or d.proc.poll() is not None,
                                30, "the restarted daemon to open its log",
                                on_timeout=d.log_tail)
            assert d.proc.poll() is None, d.log_tail()
            if seen is not None:
                # Everything /metrics reported was fsynced before it was reported.
                assert int(opened.group(1)) >= seen, (
                    f"kill {k + 1}: /metrics showed last_sequence={seen} before SIGKILL, the "
                    f"restarted daemon opened the log at {opened.group(1)}")
        producer.join(timeout=PRODUCE_SECONDS * 6 + 60)
        assert not producer.is_alive(), "the producer did not finish"
        assert producer.error is None, f"producer failed: {producer.error!r}"
    finally:
        producer.stop()

    assert broker.end_offsets(topic) == {p: len(v) for p, v in enumerate(per_partition)}
    d.wait_port()
    m = d.wait_consumed(TOTAL, timeout=240)
    d.wait_ready(timeout=30)
    rc = d.terminate(timeout=30)
    assert rc == 0, d.log_tail()

    n_unique = TOTAL - N_DUP
    assert m.get("teamhealth_events_ingested_total", source=SOURCE) == n_unique
    assert m.get("teamhealth_events_duplicate_total", source=SOURCE) == N_DUP
    assert m.total("teamhealth_events_quarantined_total") == 0

    logged = inspect(state, "events", "--with-origin")
    seqs = [e["seq"] for e in logged]
    logged_ids = [e["event"]["id"] for e in logged]
    counts = Counter(logged_ids)
    duplicated = sorted(i for i, c in counts.items() if c > 1)
    lost = sorted(set(ids) - set(counts))
    unexpected = sorted(set(counts) - set(ids))
    mid_stream = sum(1 for _, produced, _ in kills if produced < TOTAL)
    print(f"crash-safety summary: seed={seed} kills={len(kills)} (mid-production={mid_stream}) "
          f"produced={TOTAL} distinct={n_unique} duplicates_produced={N_DUP} "
          f"logged={len(logged)} lost={len(lost)} duplicated={len(duplicated)} "
          f"unexpected={len(unexpected)}")
    print("kills (delay s, records produced at kill, last_sequence on /metrics):", kills)
    assert len(kills) == KILLS
    assert not lost, f"seed={seed}: {len(lost)} events lost, e.g. {lost[:5]}"
    assert not duplicated, f"seed={seed}: {len(duplicated)} events duplicated, e.g. {duplicated[:5]}"
    assert not unexpected, f"seed={seed}: unexpected ids {unexpected[:5]}"
    assert seqs == list(range(1, n_unique + 1)), f"seed={seed}: seq is not dense 1..{n_unique}"

    # Per-partition order: within a partition, origin offsets strictly increase with seq.
    last = {}
    for e in logged:
        o = e["origin"]
        assert o["topic"] == topic
        assert (o["partition"], o["offset"]) in positions[e["event"]["id"]], e
        assert o["offset"] > last.get(o["partition"], -1), (
            f"seed={seed}: partition {o['partition']} out of order at seq {e['seq']}")
        last[o["partition"]] = o["offset"]

    counters = inspect(state, "counters")[0]
    assert counters["last_sequence"] == n_unique
    assert counters["ingested"] == {SOURCE: n_unique}
    assert counters["duplicate"] == {SOURCE: N_DUP}
    assert counters["quarantined"] == {}
    assert inspect(state, "quarantine") == []
    offsets = {(o["topic"], o["partition"]): o["next_offset"] for o in inspect(state, "offsets")}
    assert offsets == {(topic, p): len(v) for p, v in enumerate(per_partition)}
    # The kills must have hit a daemon that was consuming a topic still being written to.
    assert mid_stream >= 3, f"only {mid_stream} kills happened while producing: {kills}"
