"""Poison and size (issue 10): a flood of bad records of every kind, and records above
`kafka.max_record_bytes`, mixed into valid traffic on a real broker.

The daemon runs with max_record_bytes = 64 KiB. Each of two rounds produces, over 3 partitions
in a shuffled order: 3,000 valid events, 150 repeats of them (each after its original, in the
same partition), 2,100 malformed records (every reason the canonical source gives: empty, not
JSON, binary garbage, a missing field, an unknown type, a bad timestamp, an invalid field), 50
NULL values (tombstones) and 1,000 records of 100 KiB above the maximum (half of them valid
canonical events padded with an attribute, which must not be parsed, half garbage); the first
round also carries one record of 10,000,000 bytes. Then:
* every bad record is in `inspect quarantine` at its partition and offset with its reason, the
  large ones as `too_large` with a detail naming the size and the limit (and nothing of the body);
* every valid event is in the log exactly once, and nothing else is;
* the ingest counters and the stored offsets are exact;
* the daemon's RSS is bounded (see RSS_* below for the bounds and why).
Also: config parsing rejects max_record_bytes outside 1 KiB..256 MiB, naming the key.
"""

from __future__ import annotations

import random
import re
import subprocess
import time
from collections import Counter
from pathlib import Path

from conftest import (KCAT, SOURCE, canonical_json, inspect, make_event, make_malformed,
                      run_teamhealth, unique_topic, write_config)

PARTITIONS = 3
MAX = 64 * 1024
BIG = 100 * 1024
HUGE = 10_000_000
VALID, REPEATS, BIG_RECORDS, TOMBSTONES = 3000, 150, 1000, 50
REASONS = ["empty", "invalid_json", "missing_field", "unknown_type", "bad_timestamp",
           "invalid_field"]
PER_REASON = 300
GARBAGE = 300
MiB = 1024 * 1024
# RSS bounds (VmRSS and VmHWM from /proc/PID/status; the baseline is taken once the daemon has
# ingested a first batch and is idle). The two rounds carry 2,000 records of 100 KiB and one of
# 10 MB above the limit: 215 MB of bodies. None of it may stay in memory once its batch is
# written, so RSS_GROWTH, the growth over both rounds, is far below that: it allows librdkafka's
# pre-fetch queue (queued.max.messages.kbytes, 64 MiB) and fetch buffers, RocksDB's memtables
# for the ~12,000 records written, and memory the allocator keeps after a free. RSS_PEAK bounds
# the high-water mark (VmHWM) above the baseline: the same, plus one fetch in flight and the
# batch holding the 10 MB record. (RSS right after one round against the next is not a useful
# bound: it moves by 15 MiB either way with where the allocator put the last fetch buffers.)
RSS_GROWTH = 96 * MiB
RSS_PEAK = 160 * MiB


def vm(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in bytes."""
    status = Path(f"/proc/{pid}/status").read_text()
    return {k: int(v) * 1024 for k, v in re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.M)}


def produce(bootstrap: str, topic: str, partition: int, values: list[bytes | None],
            workdir: Path) -> None:
    """Produces bytes in order to one partition (kcat -K: empty values are empty messages);
    None values are produced as NULL values (tombstones), after the others."""
    path = workdir / f"produce-{topic}-{partition}.bin"
    for null in (False, True):
        chosen = [v for v in values if (v is None) == null]
        if not chosen:
            continue
        with open(path, "wb") as f:
            for n, v in enumerate(chosen):
                assert v is None or (b"\t" not in v and b"\n" not in v)
                f.write(b"k%d\t%s\n" % (n, b"" if v is None else v))
        cmd = [KCAT, "-P", "-b", bootstrap, "-t", topic, "-p", str(partition), "-K", "\t",
               "-X", "enable.idempotence=true", "-X", "linger.ms=20",
               "-X", "message.max.bytes=16777216", "-l", str(path)]
        if null:
            cmd.insert(1, "-Z")
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, f"kcat produce failed: {r.stderr[-2000:]}"
    path.unlink(missing_ok=True)


_NO_DELIMITERS = bytes.maketrans(b"\x00\t\n", b"\x01\x0b\x0c")


def garbage(rng: random.Random, n: int) -> bytes:
    """Random bytes, never a tab or newline (kcat's delimiters) nor NUL."""
    return rng.randbytes(n).translate(_NO_DELIMITERS)


def padded_event(event_id: str, i: int, size: int) -> bytes:
    """A valid canonical event of exactly `size` bytes (padded in an attribute)."""
    ev = make_event(event_id, i)
    ev["attrs"]["pad"] = ""
    body = canonical_json(ev)
    ev["attrs"]["pad"] = "x" * (size - len(body))
    out = canonical_json(ev).encode()
    assert len(out) == size
    return out


class Round:
    """One flood: per partition, the values in order and what each must become."""

    def __init__(self, rng: random.Random, name: str, huge: bool):
        records: list[tuple[bytes | None, tuple]] = []
        self.valid_ids: list[str] = []
        for i in range(VALID):
            eid = f"{SOURCE}:{name}-{i}"
            self.valid_ids.append(eid)
            records.append((canonical_json(make_event(eid, i)).encode(), ("event", eid)))
        for reason in REASONS:
            for i in range(PER_REASON):
                body = make_malformed(reason, i).encode()
                records.append((body, ("quarantine", reason)))
        for i in range(GARBAGE):
            records.append((garbage(rng, rng.randint(1, 2000)), ("quarantine", "invalid_json")))
        for i in range(BIG_RECORDS):
            body = padded_event(f"{SOURCE}:{name}-big-{i}", i, BIG) if i % 2 else \
                garbage(rng, BIG)
            records.append((body, ("quarantine", "too_large", BIG)))
        if huge:
            records.append((padded_event(f"{SOURCE}:{name}-huge", 1, HUGE),
                            ("quarantine", "too_large", HUGE)))
        rng.shuffle(records)
        self.per_partition: list[list[tuple[bytes | None, tuple]]] = [[] for _ in range(3)]
        for body, outcome in records:
            self.per_partition[rng.randrange(PARTITIONS)].append((body, outcome))
        # Repeats: after their original, in the same partition.
        for _ in range(REPEATS):
            p = rng.randrange(PARTITIONS)
            part = self.per_partition[p]
            originals = [j for j, (_, o) in enumerate(part) if o[0] == "event"]
            j = rng.choice(originals)
            k = rng.randint(j + 1, len(part))
            part.insert(k, (part[j][0], ("duplicate", part[j][1][1])))
        for _ in range(TOMBSTONES):  # NULL values go last (produced with kcat -Z)
            self.per_partition[rng.randrange(PARTITIONS)].append((None, ("quarantine", "empty")))

    def count(self, kind: str) -> int:
        return sum(1 for part in self.per_partition for _, o in part if o[0] == kind)

    def records(self) -> int:
        return sum(map(len, self.per_partition))


def test_config_bounds_max_record_bytes(tmp_path):
    base = write_config(tmp_path / "ok.toml", state_dir=tmp_path / "s", brokers="embedded",
                        topics=["t"]).read_text()
    for value, ok in [("1024", True), ("10485760", True), ("268435456", True), ("1023", False),
                      ("268435457", False), ("0", False), ('"10MiB"', False)]:
        cfg = tmp_path / "c.toml"
        cfg.write_text(base.replace("[kafka]\n", f"[kafka]\nmax_record_bytes = {value}\n"))
        r = run_teamhealth("check-config", str(cfg))
        assert (r.returncode == 0) == ok, (value, r.stdout, r.stderr)
        if not ok:
            assert "kafka.max_record_bytes" in r.stderr + r.stdout, r.stderr
            if value != '"10MiB"':
                assert "between 1024 and 268435456" in r.stderr + r.stdout, r.stderr


def test_poison_and_oversize_records_are_quarantined_and_memory_stays_bounded(
        broker, daemons, tmp_path):
    rng = random.Random(20261130)
    topic = unique_topic("poison")
    # A warm-up, so that the baseline is an ingesting daemon, not a fresh process.
    warm = [canonical_json(make_event(f"{SOURCE}:warm-{i}", i)).encode() for i in range(300)]
    for p in range(PARTITIONS):
        produce(broker.bootstrap, topic, p, warm[p::PARTITIONS], tmp_path)
    cfg = write_config(tmp_path / "th.toml", state_dir=tmp_path / "state",
                       brokers=broker.bootstrap, topics=[topic])
    cfg.write_text(cfg.read_text().replace("[kafka]\n", f"[kafka]\nmax_record_bytes = {MAX}\n"))
    d = daemons.start(cfg)
    d.wait_port()
    d.wait_consumed(len(warm), timeout=60)
    d.wait_ready(60)
    baseline = vm(d.pid)

    rounds = [Round(rng, "r1", huge=True), Round(rng, "r2", huge=False)]
    offsets = [0] * PARTITIONS
    for p in range(PARTITIONS):
        offsets[p] = len(warm[p::PARTITIONS])
    expected: dict[tuple[int, int], tuple] = {}
    after = []
    consumed = len(warm)
    timings = []
    for rnd in rounds:
        t0 = time.monotonic()
        for p, part in enumerate(rnd.per_partition):
            # Non-NULL values first, then the NULLs, as produce() sends them.
            ordered = [x for x in part if x[0] is not None] + [x for x in part if x[0] is None]
            for body, outcome in ordered:
                expected[(p, offsets[p])] = outcome
                offsets[p] += 1
            produce(broker.bootstrap, topic, p, [b for b, _ in ordered], tmp_path)
        consumed += rnd.records()
        t1 = time.monotonic()
        d.wait_consumed(consumed, timeout=120)
        after.append(vm(d.pid))
        timings.append((round(t1 - t0, 1), round(time.monotonic() - t1, 1)))
    assert broker.end_offsets(topic) == dict(enumerate(offsets))

    # Every bad record quarantined at its place with its reason; the large ones never parsed.
    quarantined = {(q["partition"], q["offset"]): q for q in inspect(tmp_path / "state",
                                                                      "quarantine")}
    want_q = {k: o for k, o in expected.items() if o[0] == "quarantine"}
    assert set(quarantined) == set(want_q), (
        f"{len(set(want_q) - set(quarantined))} bad records not quarantined, "
        f"{len(set(quarantined) - set(want_q))} quarantined that should not be")
    wrong = [(k, quarantined[k]["reason"], o[1]) for k, o in want_q.items()
             if quarantined[k]["reason"] != o[1]]
    assert not wrong, f"{len(wrong)} with the wrong reason, e.g. {wrong[:5]}"
    for k, o in want_q.items():
        q = quarantined[k]
        assert q["topic"] == topic and q["source"] == SOURCE, q
        if o[1] == "too_large":
            assert q["detail"] == (f"record value of {o[2]} bytes is above "
                                   f"kafka.max_record_bytes={MAX}"), q
        assert "xxxxxxxx" not in q["detail"], q  # never the body (padding of the large ones)

    # Every valid event exactly once, nothing else.
    logged = Counter(e["id"] for e in inspect(tmp_path / "state", "events"))
    valid = [f"{SOURCE}:warm-{i}" for i in range(len(warm))] + \
        [i for r in rounds for i in r.valid_ids]
    assert logged == Counter(valid), "the log is not exactly the valid events, once each"

    by_reason = Counter(o[1] for o in want_q.values())
    m = d.metrics()
    for reason, n in by_reason.items():
        assert m.get("teamhealth_events_quarantined_total", source=SOURCE, reason=reason) == n
    assert m.get("teamhealth_events_duplicate_total", source=SOURCE) == REPEATS * len(rounds)
    counters = inspect(tmp_path / "state", "counters")[0]
    assert counters["ingested"] == {SOURCE: len(valid)}
    assert counters["duplicate"] == {SOURCE: REPEATS * len(rounds)}
    assert counters["quarantined"] == {f"{SOURCE}/{r}": n for r, n in by_reason.items()}
    stored = {o["partition"]: o["next_offset"] for o in inspect(tmp_path / "state", "offsets")}
    assert stored == dict(enumerate(offsets))
    assert d.http_get("/readyz")[0] == 200

    # Memory.
    growth = after[1]["VmRSS"] - baseline["VmRSS"]
    peak = after[1]["VmHWM"] - baseline["VmRSS"]
    print(f"\npoison: {len(want_q)} quarantined {dict(by_reason)}, {len(valid)} events; "
          f"RSS baseline {baseline['VmRSS'] / MiB:.1f} MiB, after round 1 "
          f"{after[0]['VmRSS'] / MiB:.1f}, after round 2 {after[1]['VmRSS'] / MiB:.1f} "
          f"(+{growth / MiB:.1f}), peak {after[1]['VmHWM'] / MiB:.1f} (+{peak / MiB:.1f}); "
          f"seconds to produce and to consume each round {timings}")
    assert growth <= RSS_GROWTH, f"RSS grew by {growth / MiB:.1f} MiB over the two rounds"
    assert peak <= RSS_PEAK, f"peak RSS {peak / MiB:.1f} MiB above the baseline"
    assert d.terminate() == 0
