"""A full disk (issue 10, "Faults to survive"): the state directory on a 16 MiB tmpfs that a
filler file fills while the daemon ingests. Ingest pauses with one clear error, /readyz answers
503 with the reason, the process stays up and nothing is written; once the filler is removed the
daemon resumes by itself, turns ready again, and the log holds every produced event exactly
once with dense sequences and offsets at the end of every partition. A restart reopens the log.

Needs root (mount -t tmpfs): without it the test fails, it never skips.
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from conftest import (SOURCE, canonical_json, inspect, make_event, unique_topic, wait_until,
                      write_config)

PARTITIONS = 3
TMPFS_SIZE = "16m"


def events(prefix: str, start: int, count: int) -> tuple[list[str], list[list[str]]]:
    ids: list[str] = []
    per_partition: list[list[str]] = [[] for _ in range(PARTITIONS)]
    for i in range(start, start + count):
        eid = f"{SOURCE}:{prefix}-{i}"
        ids.append(eid)
        per_partition[i % PARTITIONS].append(canonical_json(make_event(eid, i)))
    return ids, per_partition


def produce(broker, topic: str, per_partition: list[list[str]], workdir: Path) -> None:
    for p, values in enumerate(per_partition):
        if values:
            broker.produce(topic, p, values, workdir)


def mount_tmpfs(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(path)],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        pytest.fail(f"cannot mount a {TMPFS_SIZE} tmpfs at {path} (this test needs root, "
                    f"uid={os.getuid()}): {r.stderr.strip()}")


def unmount(path: Path) -> None:
    r = subprocess.run(["umount", str(path)], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:  # still busy (a daemon that did not exit): detach it
        subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30)


def fill(path: Path) -> int:
    """Writes `path` until the filesystem has no byte left; returns the bytes written."""
    written = 0
    with open(path, "wb", buffering=0) as f:
        for chunk in (1 << 20, 64 << 10, 4 << 10, 512, 1):
            block = b"\0" * chunk
            while True:
                try:
                    f.write(block)
                    written += chunk
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
    return written


def free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def test_a_full_disk_pauses_ingest_and_it_resumes_exactly_once(broker, daemons, tmp_path):
    mnt = tmp_path / "small"
    mount_tmpfs(mnt)
    try:
        run(broker, daemons, tmp_path, mnt)
    finally:
        for d in daemons.started:
            if d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait(timeout=30)
        unmount(mnt)


def run(broker, daemons, tmp_path: Path, mnt: Path) -> None:
    t0 = time.monotonic()
    topic = unique_topic("diskfull")
    state = mnt / "state"
    filler = mnt / "filler"
    cfg = write_config(tmp_path / "th.toml", state_dir=state, brokers=broker.bootstrap,
                       topics=[topic], batch_max_messages=200)

    ids_a, a = events("before", 0, 3000)
    produce(broker, topic, a, tmp_path)
    d = daemons.start(cfg)
    d.wait_port()
    d.wait_consumed(3000, timeout=120)
    d.wait_ready(60)

    # Fill the disk while a second batch is being produced and ingested.
    ids_b, b = events("during", 3000, 3000)
    producer = threading.Thread(target=produce, args=(broker, topic, b, tmp_path / "b"))
    producer.start()
    filled = fill(filler)
    producer.join(timeout=120)
    assert not producer.is_alive()
    assert filled > 0 and free_bytes(mnt) == 0, (filled, free_bytes(mnt))
    # Whatever still fitted was written; records produced now cannot be.
    ids_c, c = events("full", 6000, 600)
    produce(broker, topic, c, tmp_path / "c")
    total = len(ids_a) + len(ids_b) + len(ids_c)

    # Paused: /readyz says why, the log says so once, the process stays up.
    def paused():
        status, body = d.http_get("/readyz")
        return (status, body) if status == 503 and "ingest paused" in body else None
    status, body = wait_until(paused, 60, "/readyz 503 with 'ingest paused'",
                              on_timeout=d.log_tail)
    assert "disk full" in body and "No space left on device" in body and str(state) in body, body
    errors = [l for l in d.log().splitlines() if "No space left in the state directory; ingest "
              "paused" in l]
    assert len(errors) == 1, d.log_tail()
    assert " error " in errors[0] and str(state) in errors[0], errors[0]
    consumed_paused = d.metrics().consumed()
    assert consumed_paused < total, "nothing was left to pause: the disk filled too late"
    time.sleep(5)  # a few retries, none of which may succeed or stop the daemon
    assert d.proc.poll() is None, "the daemon exited on a full disk\n" + d.log_tail()
    assert d.http_get("/readyz")[0] == 503
    paused_metrics = d.metrics()
    assert paused_metrics.consumed() == consumed_paused
    assert paused_metrics.get("teamhealth_ingest_disk_full") == 1
    assert d.http_get("/healthz")[0] == 200
    paused_for = time.monotonic()

    # Space is freed: the daemon resumes by itself and ingests everything once.
    filler.unlink()
    d.wait_ready(90)
    m = d.wait_consumed(total, timeout=120)
    print(f"\ndisk full: paused with {int(consumed_paused)} of {total} records consumed, "
          f"ready {time.monotonic() - paused_for:.1f} s after the filler was removed")
    assert m.get("teamhealth_events_ingested_total", source=SOURCE) == total
    assert m.get("teamhealth_events_duplicate_total", source=SOURCE) == 0
    assert m.get("teamhealth_ingest_disk_full") == 0
    assert "ingest resumed" in d.log(), d.log_tail()
    assert d.terminate() == 0, d.log_tail()

    # The log: every produced event exactly once, dense sequences, offsets at the end.
    produced = ids_a + ids_b + ids_c
    logged = inspect(state, "events", "--with-origin")
    counts = Counter(e["event"]["id"] for e in logged)
    lost = sorted(set(produced) - set(counts))
    duplicated = sorted(i for i, n in counts.items() if n > 1)
    print(f"disk full: logged={len(logged)} lost={len(lost)} duplicated={len(duplicated)}")
    assert not lost, f"{len(lost)} events lost, e.g. {lost[:5]}"
    assert not duplicated, f"{len(duplicated)} events duplicated, e.g. {duplicated[:5]}"
    assert set(counts) == set(produced)
    assert [e["seq"] for e in logged] == list(range(1, total + 1))
    counters = inspect(state, "counters")[0]
    assert counters["last_sequence"] == total
    assert counters["ingested"] == {SOURCE: total}
    assert counters["duplicate"] == {}  or counters["duplicate"] == {SOURCE: 0}, counters
    offsets = {(o["topic"], o["partition"]): o["next_offset"] for o in inspect(state, "offsets")}
    ends = broker.end_offsets(topic)
    assert offsets == {(topic, p): ends[p] for p in range(PARTITIONS)}

    # A restart reopens the log where it ended and is ready.
    d2 = daemons.start(cfg)
    d2.wait_port()
    opened = wait_until(lambda: re.search(r"Opened the event log\. dir=\S+ last_sequence=(\d+)",
                                          d2.log()), 30, "the log opened", on_timeout=d2.log_tail)
    assert int(opened.group(1)) == total
    d2.wait_ready(60)
    assert d2.metrics().get("teamhealth_log_last_sequence") == total

    # SIGTERM while paused on a full disk exits cleanly (the final projection checkpoint is
    # skipped), and the next start, with space, ingests what was left.
    fill(filler)
    ids_d, d_records = events("sigterm", total, 300)
    produce(broker, topic, d_records, tmp_path / "d")
    wait_until(lambda: "ingest paused" in d2.http_get("/readyz")[1], 60,
               "ingest paused again", on_timeout=d2.log_tail)
    assert d2.terminate() == 0, d2.log_tail()
    assert "Stopped cleanly" in d2.log(), d2.log_tail()
    filler.unlink()
    d3 = daemons.start(cfg)
    d3.wait_port()
    d3.wait_consumed(total + len(ids_d), timeout=120)
    d3.wait_ready(60)
    assert d3.terminate() == 0, d3.log_tail()
    before = [e["event"]["id"] for e in logged]
    logged = inspect(state, "events", "--with-origin")
    assert [e["event"]["id"] for e in logged[:total]] == before  # the log only grew
    counts = Counter(e["event"]["id"] for e in logged)
    assert set(counts) == set(produced + ids_d) and max(counts.values()) == 1
    assert [e["seq"] for e in logged] == list(range(1, total + len(ids_d) + 1))
    print(f"disk full: test body took {time.monotonic() - t0:.1f} s")
