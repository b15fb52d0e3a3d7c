"""Power loss: the machine loses what was not fsync'd, not just the process.

`test_power_loss`: 100,000 distinct events are produced over the 3 partitions of a fresh topic
at a steady pace while the daemon, run under the power-loss shim, suffers 10 simulated power
cuts at random moments (the daemon lives 0.3-3 s each time, from random.Random(seed); the seed
comes from $POWERLOSS_SEED or the clock and is printed): SIGKILL, then the crash step rewinds
the state directory to what the filesystem had made durable. After each cut, before the
restart, the log must be a consistent prefix: sequences dense from 1, every event intact (equal
to what was produced, at the origin it was produced at), per partition exactly the records
before the stored offset (so the offsets match the log), the counters equal to the log, and at
least everything /metrics had reported before the cut (sync_writes = true acknowledges only
fsync'd batches). At the end every event is in the log exactly once and the stored offsets are
the end offsets: the lost tails were read again from Kafka.

`test_power_loss_drops_unsynced_writes` is the positive control: with sync_writes = false a
cut that drops every unsynced byte must lose events /metrics had shown (the WAL was never
fsync'd); a second daemon on its own state directory is cut keeping a random part of each
file's unsynced tail (writeback that got part of the way), so the WAL is torn at an arbitrary
byte and recovery must drop the torn record. After either cut the log must be a consistent
prefix and the restarted daemon must read the lost tail again from Kafka. (The torn cut alone
cannot prove loss: it once kept 87 % of the WAL, and every event with it, because the WAL's
tail holds the indexes and checkpoints written after the events.)
`test_shim_model` checks the shim and the crash step themselves on a script whose every file
operation is known (no broker).

How the shim works (tests/faults/power_loss_shim.c, preloaded into `teamhealth serve` with
LD_PRELOAD; the crash step is ops/crash/power_loss_fs.py): it intercepts the libc calls RocksDB
makes on files of the state directory (open/openat/creat/fopen, write/pwrite/writev/pwritev,
fsync/fdatasync, ftruncate/fallocate, rename/renameat, unlink, dup, close) and appends to a
journal outside the state directory, one unbuffered O_APPEND write per record so a SIGKILL
cannot lose or tear one: the files present at start with their lengths, each file created,
each fsync/fdatasync of a file with the length it made durable, each fsync of a directory,
each rename and unlink (the replaced or unlinked file is first hard-linked aside), and the old
bytes of any durable region about to be overwritten or truncated away. The crash step then
undoes, newest first, every creation, rename and unlink that no fsync of the directory
followed; removes files the journal never saw; cuts every file to its last fsync'd length and
writes back the durable bytes overwritten since. That is POSIX's promise and no more: data and
directory entries are durable only after an fsync of the file, respectively the directory.

What it cannot simulate: the page cache writing back some unsynced data before the cut (it
always drops all of it, never a random part, and never reorders writes inside a file); torn
sectors or partly written pages (the cut is always at the last fsync'd length); a disk or
controller that acknowledges fsync and loses the data anyway, or corrupts it; filesystem
metadata other than names and lengths (timestamps, modes, preallocation beyond the length);
crash-consistency quirks of a given filesystem (ext4's auto_da_alloc, data=journal); writes it
does not see (mmap, io_uring, stdio's buffered writes are tracked only as lengths at fsync,
directories made with mkdir stay); and a cut in the middle of a system call: the journal
records what the process did up to the SIGKILL, which lands between system calls.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import textwrap
import time
from collections import defaultdict
from pathlib import Path

from conftest import (REPO, SOURCE, PacedProducer, Pseudonyms, canonical_json, inspect,
                      make_event, unique_topic, wait_until, write_config)

sys.path.insert(0, str(REPO / "ops" / "crash"))
from power_loss_fs import CutReport, power_cut, shim_environment  # noqa: E402

TOTAL = 100_000
PARTITIONS = 3
CUTS = 10
PRODUCE_SECONDS = 40.0  # spread over the cuts: each daemon lives 0.3-3 s, then a check
CONTROL_TOTAL = 20_000
_PORT_RE = re.compile(r"Serving HTTP\. address=127\.0\.0\.1:(\d+)")
SHIM = Path(os.environ.get("TEAMHEALTH_POWERLOSS_SHIM",
                           str(REPO / "build" / "tests" / "faults" / "power_loss_shim.so")))


class Workload:
    """Distinct events spread over the partitions: each record gives exactly one event, so a
    partition's events in the log must be exactly its records below the stored offset."""

    def __init__(self, rng: random.Random, total: int, prefix: str):
        self.per_partition: list[list[str]] = [[] for _ in range(PARTITIONS)]
        self.events: dict[str, dict] = {}
        self.origin: dict[str, tuple[int, int]] = {}
        for i in range(total):
            eid = f"{SOURCE}:{prefix}-{i}"
            event = make_event(eid, i)
            p = rng.randrange(PARTITIONS)
            self.origin[eid] = (p, len(self.per_partition[p]))
            self.per_partition[p].append(canonical_json(event))
            self.events[eid] = event


def check_prefix(state: Path, topic: str, work: Workload, people: Pseudonyms) -> int:
    """Asserts that the log in `state` is a consistent prefix of what was produced and returns
    how many events it holds."""
    logged = inspect(state, "events", "--with-origin")
    seqs = [e["seq"] for e in logged]
    assert seqs == list(range(1, len(logged) + 1)), "sequences are not dense from 1"
    seen: dict[int, list[int]] = defaultdict(list)
    for e in logged:
        eid = e["event"]["id"]
        assert eid in work.events, f"seq {e['seq']}: unexpected event {eid}"
        o = e["origin"]
        assert o["topic"] == topic and (o["partition"], o["offset"]) == work.origin[eid], \
            f"seq {e['seq']}: {eid} at {o}, produced at {work.origin[eid]}"
        assert people.restore(e["event"], work.events[eid]) == work.events[eid], \
            f"seq {e['seq']}: {eid} differs from what was produced (a torn event?)"
        seen[o["partition"]].append(o["offset"])
    for p, offsets in seen.items():  # in log order, each partition exactly 0, 1, 2, ...
        assert offsets == list(range(len(offsets))), f"partition {p} is not a prefix"
    stored = {o["partition"]: o["next_offset"] for o in inspect(state, "offsets")
              if o["topic"] == topic}
    assert stored == {p: len(v) for p, v in seen.items()}, \
        f"stored offsets {stored} do not match the log's {[len(v) for v in seen.values()]}"
    counters = inspect(state, "counters")[0]
    assert counters["last_sequence"] == len(logged)
    assert counters["ingested"].get(SOURCE, 0) == len(logged)
    assert not counters["duplicate"] and not counters["quarantined"]
    return len(logged)


def shim_env(state: Path, journal: Path) -> dict[str, str]:
    assert SHIM.exists(), f"no power-loss shim at {SHIM} (set TEAMHEALTH_POWERLOSS_SHIM)"
    return shim_environment(SHIM, state, journal)


def last_sequence_shown(d) -> int | None:
    """teamhealth_log_last_sequence on /metrics, or None before the daemon serves HTTP."""
    m = _PORT_RE.search(d.log())
    if not m:
        return None
    d.port = int(m.group(1))
    try:
        return int(d.metrics().get("teamhealth_log_last_sequence"))
    except Exception:  # noqa: BLE001 - best effort (e.g. not answering yet)
        return None


def cut(d, state: Path, journal: Path) -> CutReport:
    rc = d.kill()
    assert rc == -9, f"daemon exited {rc} before the SIGKILL\n" + d.log_tail()
    return power_cut(state, journal)


def finish(d, state: Path, topic: str, work: Workload, people: Pseudonyms, broker) -> None:
    """Waits for every record, stops the daemon and checks the log holds each event once."""
    total = len(work.events)
    assert broker.end_offsets(topic) == {p: len(v) for p, v in enumerate(work.per_partition)}
    d.wait_port()
    d.wait_consumed(total, timeout=240)
    d.wait_ready(timeout=60)
    assert d.terminate(timeout=60) == 0, d.log_tail()
    assert check_prefix(state, topic, work, people) == total  # so: 0 lost, 0 duplicated
    offsets = {o["partition"]: o["next_offset"] for o in inspect(state, "offsets")}
    assert offsets == {p: len(v) for p, v in enumerate(work.per_partition)}


def test_power_loss(broker, daemons, tmp_path):
    seed = int(os.environ.get("POWERLOSS_SEED") or time.time_ns() % 1_000_000_007)
    print(f"\npower-loss seed={seed} (rerun with POWERLOSS_SEED={seed})")
    rng = random.Random(seed)
    work = Workload(rng, TOTAL, "pl")
    topic = unique_topic("powerloss")
    state = tmp_path / "state"
    journal = tmp_path / "powerloss.journal"
    cfg = write_config(tmp_path / "teamhealth.toml", state_dir=state, brokers=broker.bootstrap,
                       topics=[topic])
    env = shim_env(state, journal)
    people = Pseudonyms()
    producer = PacedProducer(broker.bootstrap, topic, work.per_partition, tmp_path,
                             seconds=PRODUCE_SECONDS)
    cuts = []  # (delay, records produced, last_sequence shown, events after the cut, report)
    try:
        producer.start()
        for k in range(CUTS):
            d = daemons.start(cfg, env=env)
            delay = rng.uniform(0.3, 3.0)
            end = time.monotonic() + delay
            while time.monotonic() < end:
                assert d.proc.poll() is None, (f"daemon exited {d.proc.returncode} before cut "
                                               f"{k + 1}\n" + d.log_tail())
                time.sleep(min(0.05, max(0.0, end - time.monotonic())))
            shown = last_sequence_shown(d)
            produced = producer.produced
            report = cut(d, state, journal)
            events = check_prefix(state, topic, work, people)
            if shown is not None:
                assert events >= shown, (f"cut {k + 1}: /metrics showed last_sequence={shown}, "
                                         f"the log after the power cut holds {events} events")
            cuts.append((round(delay, 2), produced, shown, events, report))
            print(f"cut {k + 1:>2}: after {delay:.2f} s, {produced} produced, /metrics "
                  f"{shown}, log {events}; {report.summary()}; "
                  f"by file: {sorted(report.dropped_by_file.items())}")
        producer.join(timeout=PRODUCE_SECONDS * 6 + 60)
        assert not producer.is_alive(), "the producer did not finish"
        assert producer.error is None, f"producer failed: {producer.error!r}"
    finally:
        producer.stop()

    d = daemons.start(cfg, env=env)
    finish(d, state, topic, work, people, broker)
    dropped = sum(c[4].bytes_dropped for c in cuts)
    mid = sum(1 for c in cuts if c[3] < TOTAL)
    print(f"power-loss summary: seed={seed} cuts={len(cuts)} (before the log was complete: "
          f"{mid}) events={TOTAL} lost=0 duplicated=0 bytes dropped={dropped}")
    assert len(cuts) == CUTS
    # The cuts must have hit a daemon that had work left, with the shim journaling it. They
    # need not drop bytes: with sync_writes every batch is fsync'd and RocksDB's info log no
    # longer lives in the state directory, so a cut often finds nothing unsynced (the positive
    # control below shows a cut that does drop what was not synced).
    assert mid >= 3, f"only {mid} cuts happened before the log was complete"
    assert all(c[4].records > 0 for c in cuts), "a cut found an empty journal: no shim?"


def test_power_loss_drops_unsynced_writes(broker, daemons, tmp_path):
    """The positive control: without fsync per batch, a power cut loses acknowledged events.

    Two daemons on two state directories consume the same topic and are cut. The first cut
    drops every unsynced byte, so it must lose events /metrics had shown. The second keeps a
    random part of each file's unsynced tail, so the WAL is torn at an arbitrary byte (even
    inside a record) and recovery must keep a consistent prefix. Whether that second cut also
    loses events depends on where it tears: the WAL's tail holds the indexes and checkpoints
    written after the events as well, so it cannot be the proof of loss."""
    work = Workload(random.Random(7), CONTROL_TOTAL, "plc")
    topic = unique_topic("powerloss-control")
    for p, values in enumerate(work.per_partition):
        broker.produce(topic, p, values, tmp_path)
    for name, torn_tails in (("whole", None), ("torn", random.Random(11))):
        people = Pseudonyms()  # pseudonyms are drawn at random per state directory
        state = tmp_path / f"state-{name}"
        journal = tmp_path / f"powerloss-{name}.journal"
        cfg = write_config(tmp_path / f"teamhealth-{name}.toml", state_dir=state,
                           brokers=broker.bootstrap, topics=[topic])
        cfg.write_text(cfg.read_text().replace("sync_writes = true", "sync_writes = false"))

        d = daemons.start(cfg, env=shim_env(state, journal))
        d.wait_port()
        d.wait_consumed(CONTROL_TOTAL, timeout=120)
        shown = last_sequence_shown(d)
        assert shown == CONTROL_TOTAL
        rc = d.kill()
        assert rc == -9, f"daemon exited {rc} before the SIGKILL\n" + d.log_tail()
        report = power_cut(state, journal, torn_tails=torn_tails)
        events = check_prefix(state, topic, work, people)
        print(f"\ncontrol ({name} cut): /metrics showed {shown}, the log after the cut holds "
              f"{events}; {report.summary()}; by file: {sorted(report.dropped_by_file.items())}")
        if torn_tails is None:
            assert events < shown, "the power cut lost nothing although no batch was fsync'd"
        else:
            assert report.bytes_kept_unsynced > 0, "the torn cut kept no unsynced bytes"
        assert any(name.endswith(".log") and n > 0 for name, n in report.dropped_by_file.items()), \
            "no bytes dropped from a WAL file"

        # The lost tail is read again from Kafka: exactly once in the end.
        d = daemons.start(cfg, env=shim_env(state, journal))
        finish(d, state, topic, work, people, broker)


# The shim's model on a script whose every file operation is known: what survives the cut.
_MODEL_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    d = sys.argv[1]
    def sync_dir():
        fd = os.open(d, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    a = os.open(d + "/synced-tail", os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(a, b"x" * 100)
    os.fsync(a)
    os.write(a, b"y" * 50)                    # unsynced tail: cut
    b = os.open(d + "/old", os.O_WRONLY)
    os.pwrite(b, b"NEW", 0)                   # overwrites durable bytes without fsync: restored
    sync_dir()                                # synced-tail's name is durable from here
    c = os.open(d + "/never-dir-synced", os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(c, b"z" * 10)
    os.fsync(c)                               # data synced, name not: removed
    t = os.open(d + "/CURRENT.tmp", os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(t, b"two")
    os.fsync(t)
    os.rename(d + "/CURRENT.tmp", d + "/CURRENT")   # replaces CURRENT; no dir fsync: undone
    os.unlink(d + "/doomed")                  # no dir fsync: the file comes back
    os.kill(os.getpid(), signal.SIGKILL)
""")


def test_shim_model(tmp_path):
    """The shim and the crash step keep exactly what POSIX promises after fsync, no more: an
    unsynced tail is cut, overwritten durable bytes come back, a name without a directory fsync
    is gone, an unsynced rename and unlink are undone. Needs no broker."""
    assert SHIM.exists(), f"no power-loss shim at {SHIM} (set TEAMHEALTH_POWERLOSS_SHIM)"
    state = tmp_path / "state"
    state.mkdir()
    (state / "old").write_bytes(b"durable-old")
    (state / "CURRENT").write_bytes(b"one")
    (state / "doomed").write_bytes(b"still here")
    journal = tmp_path / "powerloss.journal"
    # sys.executable, not a `python3` wrapper script: one process, preloaded once.
    r = subprocess.run([sys.executable, "-c", _MODEL_SCRIPT, str(state)],
                       env={**os.environ, **shim_environment(SHIM, state, journal)},
                       capture_output=True, timeout=60)
    assert r.returncode == -9, r.stderr.decode()
    assert (state / "synced-tail").stat().st_size == 150  # before the cut, all is there
    report = power_cut(state, journal)
    print(f"\nmodel: {report.summary()}")
    assert sorted(p.name for p in state.iterdir()) == ["CURRENT", "doomed", "old", "synced-tail"]
    assert (state / "synced-tail").read_bytes() == b"x" * 100
    assert (state / "old").read_bytes() == b"durable-old"
    assert (state / "CURRENT").read_bytes() == b"one"
    assert (state / "doomed").read_bytes() == b"still here"
    assert report.renames_undone == 1 and report.unlinks_undone == 1
    assert report.bytes_restored == 3 and report.files_removed == 2  # never-dir-synced, .tmp
    assert not journal.exists(), "the crash step starts the next journal afresh"
