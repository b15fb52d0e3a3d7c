"""Exactly-once ingest of a mixed topic: valid events, duplicates and malformed records.

100,000 records over the 3 partitions of a fresh topic: 98,000 distinct valid events, 1,000
byte-identical repeats of an earlier event (often in another partition), and 1,000 malformed
records of six kinds. After one daemon run the log must hold each distinct event exactly once,
the quarantine exactly the malformed records (by partition and offset, with the right reason),
and the metrics and persisted counters the same numbers.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections import Counter, defaultdict

from conftest import (SOURCE, Pseudonyms, canonical_json, inspect, make_event, make_malformed,
                      unique_topic, wait_until, write_config)

TOTAL = 100_000
N_DUP = TOTAL // 100
N_BAD = TOTAL // 100
PARTITIONS = 3
REASONS = ["invalid_json", "missing_field", "unknown_type", "bad_timestamp", "empty",
           "invalid_field"]


def build_workload(rng: random.Random):
    kinds = ["v"] * (TOTAL - N_DUP - N_BAD) + ["d"] * N_DUP + ["b"] * N_BAD
    rng.shuffle(kinds)
    if kinds[0] != "v":  # a duplicate needs an earlier event to repeat
        j = kinds.index("v")
        kinds[0], kinds[j] = kinds[j], kinds[0]

    per_partition: list[list[str]] = [[] for _ in range(PARTITIONS)]
    events: dict[str, dict] = {}          # id -> produced event
    bodies: list[tuple[str, str]] = []    # (id, body) of the distinct valid events so far
    positions: dict[str, set] = defaultdict(set)  # id -> {(partition, offset)}
    quarantine: dict[tuple[int, int], str] = {}   # (partition, offset) -> reason
    bad_bodies: dict[tuple[int, int], str] = {}
    n_bad = 0
    for i, kind in enumerate(kinds):
        p = rng.randrange(PARTITIONS)
        off = len(per_partition[p])
        if kind == "v":
            eid = f"{SOURCE}:p{p}-{off}-{i}"
            ev = make_event(eid, i)
            body = canonical_json(ev)
            events[eid] = ev
            bodies.append((eid, body))
            positions[eid].add((p, off))
        elif kind == "d":
            eid, body = rng.choice(bodies)
            positions[eid].add((p, off))
        else:
            reason = REASONS[n_bad % len(REASONS)]
            body = make_malformed(reason, n_bad)
            n_bad += 1
            quarantine[(p, off)] = reason
            bad_bodies[(p, off)] = body
        per_partition[p].append(body)
    return per_partition, events, positions, quarantine, bad_bodies


def test_ingest_exactly_once(broker, daemons, tmp_path):
    seed = int(os.environ.get("INGEST_SEED", "20260302"))
    print(f"\ningest workload seed={seed}")
    rng = random.Random(seed)
    per_partition, events, positions, expected_q, bad_bodies = build_workload(rng)
    assert sum(map(len, per_partition)) == TOTAL
    assert len(events) == TOTAL - N_DUP - N_BAD and len(expected_q) == N_BAD

    topic = unique_topic("exactly-once")
    t0 = time.monotonic()
    for p, values in enumerate(per_partition):
        broker.produce(topic, p, values, tmp_path)
    # The quarantine is checked by (partition, offset): make sure the broker holds exactly what
    # was produced, in order, at offsets 0..n-1.
    for p, values in enumerate(per_partition):
        got = broker.consume(topic, p)
        assert [o for o, _ in got] == list(range(len(values))), f"partition {p} offsets"
        assert [v for _, v in got] == values, f"partition {p} content"
    assert broker.end_offsets(topic) == {p: len(v) for p, v in enumerate(per_partition)}
    print(f"produced {TOTAL} records in {time.monotonic() - t0:.1f}s")

    state = tmp_path / "state"
    cfg = write_config(tmp_path / "teamhealth.toml", state_dir=state, brokers=broker.bootstrap,
                       topics=[topic])
    d = daemons.start(cfg)
    d.wait_port()
    t1 = time.monotonic()
    m = d.wait_consumed(TOTAL, timeout=240)
    print(f"daemon consumed {TOTAL} records in {time.monotonic() - t1:.1f}s")

    # --- metrics
    n_events = TOTAL - N_DUP - N_BAD
    # the lazily created counters conftest reads as 0 while untouched are real names
    for name in ("teamhealth_events_ingested_total", "teamhealth_events_duplicate_total"):
        assert m.has(name, source=SOURCE), name
    assert any(m.has("teamhealth_events_quarantined_total", source=SOURCE, reason=r)
               for r in expected_q.values())
    assert m.get("teamhealth_events_ingested_total", source=SOURCE) == n_events
    assert m.get("teamhealth_events_duplicate_total", source=SOURCE) == N_DUP
    want_reasons = Counter(expected_q.values())
    # Every reason's series exists from the first scrape (docs/design.md section 11), the
    # ones nothing was quarantined for at zero.
    got_reasons = m.by_label("teamhealth_events_quarantined_total", "reason", source=SOURCE)
    assert {"invalid_json", "missing_field", "unknown_type"} <= set(got_reasons), got_reasons
    assert {r: v for r, v in got_reasons.items() if v} == \
        {r: float(n) for r, n in want_reasons.items()}
    assert m.get("teamhealth_log_last_sequence") == n_events
    assert m.total("teamhealth_events_ignored_total") == 0
    build = [ls for (n, ls) in m.samples if n == "teamhealth_build_info"]
    assert len(build) == 1 and dict(build[0]).get("version"), build
    assert m.get("teamhealth_build_info", **dict(build[0])) == 1
    lag_key = ("teamhealth_consumer_lag_messages", frozenset({("topic", topic)}))
    wait_until(lambda: d.metrics().samples.get(lag_key) == 0, 30, "consumer lag 0",
               on_timeout=d.log_tail)
    # The time and subject indexes follow the log on a thread of their own (design section 3).
    wait_until(lambda: d.metrics().get("teamhealth_log_indexed_sequence") == n_events, 30,
               "the indexes caught up with the log", on_timeout=d.log_tail)
    d.wait_ready(timeout=30)
    assert d.http_get("/readyz")[0] == 200
    assert d.http_get("/healthz")[0] == 200

    rc = d.terminate(timeout=30)
    assert rc == 0, d.log_tail()
    assert "Stopped cleanly" in d.log()

    # --- the log: every distinct valid event exactly once, byte-for-byte the produced one
    logged = inspect(state, "events", "--with-origin")
    assert [e["seq"] for e in logged] == list(range(1, n_events + 1)), "seq must be dense 1..N"
    ids = [e["event"]["id"] for e in logged]
    dup_in_log = [i for i, c in Counter(ids).items() if c > 1]
    assert not dup_in_log, f"{len(dup_in_log)} ids appended more than once, e.g. {dup_in_log[:5]}"
    missing = set(events) - set(ids)
    extra = set(ids) - set(events)
    assert not missing, f"{len(missing)} events lost, e.g. {sorted(missing)[:5]}"
    assert not extra, f"{len(extra)} unexpected events in the log, e.g. {sorted(extra)[:5]}"
    last_offset = {}
    people = Pseudonyms()
    for e in logged:
        o = e["origin"]
        assert o["topic"] == topic
        eid = e["event"]["id"]
        assert (o["partition"], o["offset"]) in positions[eid], (eid, o)
        assert people.restore(e["event"], events[eid]) == events[eid], \
            f"stored event differs from the produced one: {eid}"
        # within a partition the log follows Kafka order
        assert o["offset"] > last_offset.get(o["partition"], -1), e
        last_offset[o["partition"]] = o["offset"]

    # --- the quarantine: exactly the malformed records, each with its reason
    q = inspect(state, "quarantine")
    assert [r["seq"] for r in q] == list(range(1, N_BAD + 1))
    got_q = {(r["partition"], r["offset"]): r["reason"] for r in q}
    assert len(got_q) == len(q), "a record was quarantined twice"
    wrong = {k: (got_q.get(k), v) for k, v in expected_q.items() if got_q.get(k) != v}
    assert not wrong, (f"{len(wrong)} quarantine entries wrong (got, want), e.g. "
                       f"{[(k, wrong[k], bad_bodies[k]) for k in list(wrong)[:5]]}")
    assert set(got_q) == set(expected_q)
    hash_of_body: dict[str, str] = {}
    body_of_hash: dict[str, str] = {}
    for r in q:
        assert r["topic"] == topic and r["source"] == SOURCE, r
        assert re.fullmatch(r"[0-9a-f]{32}", r["content_hash"]), r
        body = bad_bodies[(r["partition"], r["offset"])]
        assert r["detail"] and body[:20] not in r["detail"] or not body, r  # no payload text
        # equal bodies <-> equal hashes
        assert hash_of_body.setdefault(body, r["content_hash"]) == r["content_hash"], r
        assert body_of_hash.setdefault(r["content_hash"], body) == body, r

    # --- persisted counters and offsets
    counters = inspect(state, "counters")[0]
    assert counters["last_sequence"] == n_events
    assert counters["ingested"] == {SOURCE: n_events}
    assert counters["duplicate"] == {SOURCE: N_DUP}
    assert counters["quarantined"] == {f"{SOURCE}/{r}": n for r, n in want_reasons.items()}
    offsets = {(o["topic"], o["partition"]): o["next_offset"] for o in inspect(state, "offsets")}
    assert offsets == {(topic, p): len(v) for p, v in enumerate(per_partition)}
    print(json.dumps({"events": n_events, "duplicates": N_DUP, "quarantined": dict(want_reasons)}))
