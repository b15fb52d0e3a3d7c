"""Shared pieces of ops/crash/kill_loop.py and ops/crash/soak.py (python3 stdlib only): a broker
from ops/kafka/broker.sh, `teamhealth serve` as a child process, /metrics and /proc readings, and
the end-of-run check of a state directory against what was produced.

Everything here waits with a deadline; nothing waits for ever.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BROKER_SH = REPO / "ops" / "kafka" / "broker.sh"
BIN = Path(os.environ.get("TEAMHEALTH_BIN", str(REPO / "build" / "teamhealth")))
KCAT = "kcat"
# Records up to the test broker's message.max.bytes (ops/kafka/broker.sh).
KCAT_BIG = ["-X", "message.max.bytes=16777216"]
OUTCOMES = ("teamhealth_events_ingested_total", "teamhealth_events_duplicate_total",
            "teamhealth_events_quarantined_total", "teamhealth_events_ignored_total")
_PORT_RE = re.compile(r"Serving HTTP\. address=127\.0\.0\.1:(\d+)")
OPENED_RE = re.compile(r"Opened the event log\. dir=\S+ last_sequence=(\d+)")
_ID_RE = re.compile(rb'"id":"((?:[^"\\]|\\.)*)"')
_SEQ_RE = re.compile(rb'^\{"seq":(\d+),"origin":\{"topic":"((?:[^"\\]|\\.)*)","partition":(\d+),'
                     rb'"offset":(\d+)\}')


def say(tag: str, msg: str) -> None:
    print(f"[{tag}] {msg}", file=sys.stderr, flush=True)


class Deadline:
    def __init__(self, seconds: float, what: str):
        self.end = time.monotonic() + seconds
        self.what = what

    def left(self) -> float:
        return self.end - time.monotonic()

    def check(self) -> None:
        if self.left() <= 0:
            raise TimeoutError(f"gave up: {self.what} took too long")


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    end = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except (OSError, ValueError):
            value = None
        if value:
            return value
        if time.monotonic() >= end:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# --------------------------------------------------------------------------------------------
# Broker


class Broker:
    def __init__(self, directory: Path):
        self.dir = directory
        self.bootstrap = ""

    def start(self) -> str:
        # broker.sh draws a random cluster id; one starting with "-" makes the format step fail
        # (seen once in 64): a second attempt on a fresh directory draws another.
        for attempt in range(3):
            r = subprocess.run(["bash", str(BROKER_SH), "start", str(self.dir)],
                               capture_output=True, text=True, timeout=300)
            if r.returncode == 0:
                self.bootstrap = (self.dir / "bootstrap").read_text().strip()
                return self.bootstrap
            subprocess.run(["bash", str(BROKER_SH), "stop", str(self.dir)], timeout=120)
            self.dir = self.dir.with_name(self.dir.name + f"-retry{attempt + 1}")
        raise RuntimeError(f"broker.sh start failed: {r.stdout}{r.stderr}")

    def stop(self) -> None:
        subprocess.run(["bash", str(BROKER_SH), "stop", str(self.dir)], capture_output=True,
                       timeout=120)

    def pid(self) -> int | None:
        try:
            return int((self.dir / "pid").read_text())
        except (OSError, ValueError):
            return None

    def end_offsets(self, topic: str, partitions: int = 3) -> dict[int, int]:
        cmd = [KCAT, "-Q", "-b", self.bootstrap]
        for p in range(partitions):
            cmd += ["-t", f"{topic}:{p}:-1"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"kcat -Q {topic}: {r.stderr[-500:]}")
        out = {}
        for m in re.finditer(r"^(\S+) \[(\d+)\] offset (-?\d+)$", r.stdout, re.M):
            out[int(m.group(2))] = int(m.group(3))
        return out


# --------------------------------------------------------------------------------------------
# The daemon


def write_config(path: Path, state: Path, brokers: str, topics: dict[str, str],
                 extra: str = "") -> Path:
    """A config with its identity key beside the state directory (created once)."""
    key = state.with_name(state.name + ".identity.key")
    if not key.exists():
        key.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(32))
    lines = ["[storage]", f'dir = "{state}"', "sync_writes = true",
             f'identity_key_file = "{key}"', "[kafka]", f'brokers = "{brokers}"']
    for name, source in topics.items():
        lines += ["[[kafka.topics]]", f'name = "{name}"', f'source = "{source}"']
    lines += ["[http]", 'listen = "127.0.0.1:0"', "[logging]", 'level = "info"']
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


class Daemon:
    """One `teamhealth serve` process; its stderr goes to `log_path` (appended)."""

    def __init__(self, config: Path, log_path: Path, env: dict[str, str] | None = None):
        """`env` adds to (or overrides) this process's environment."""
        self.log_path = log_path
        self.offset = log_path.stat().st_size if log_path.exists() else 0
        with open(log_path, "ab") as err:
            self.proc = subprocess.Popen([str(BIN), "serve", "--config", str(config)],
                                         stdout=subprocess.DEVNULL, stderr=err,
                                         stdin=subprocess.DEVNULL,
                                         env={**os.environ, **env} if env else None)
        self.port: int | None = None
        self.started = time.monotonic()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        with open(self.log_path, "rb") as f:
            f.seek(self.offset)
            return f.read().decode(errors="replace")

    def find_port(self) -> int | None:
        if self.port is None:
            m = _PORT_RE.search(self.log())
            self.port = int(m.group(1)) if m else None
        return self.port

    def wait_port(self, timeout: float = 60) -> int:
        def found():
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited {self.proc.returncode}:\n{self.tail()}")
            return self.find_port()
        return wait_for(found, timeout, "the daemon's HTTP port")

    def tail(self, n: int = 30) -> str:
        return "\n".join(self.log().splitlines()[-n:])

    def get(self, path: str, timeout: float = 5) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}",
                                        timeout=timeout) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def metrics(self) -> dict[tuple[str, frozenset], float]:
        status, body = self.get("/metrics")
        if status != 200:
            raise RuntimeError(f"/metrics answered {status}")
        return parse_metrics(body)

    def opened_at(self) -> int | None:
        m = OPENED_RE.search(self.log())
        return int(m.group(1)) if m else None

    def kill(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        return self.proc.wait(timeout=60)

    def terminate(self, timeout: float = 120) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise RuntimeError(f"daemon did not stop within {timeout} s of SIGTERM")


def parse_metrics(text: str) -> dict[tuple[str, frozenset], float]:
    out = {}
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if line and not line.startswith("#"):
            m = line_re.match(line)
            if m:
                out[(m.group(1), frozenset(label_re.findall(m.group(2) or "")))] = \
                    float(m.group(3))
    return out


def total(metrics: dict, name: str, **match) -> float:
    want = set(match.items())
    return sum(v for (n, ls), v in metrics.items() if n == name and want <= set(ls))


def records_accounted(metrics: dict) -> int:
    """Records the daemon has durably dealt with, every source (directory events excluded)."""
    return int(sum(total(metrics, n) for n in OUTCOMES)
               - total(metrics, "teamhealth_events_ingested_total", source="directory"))


def proc_sample(pid: int) -> dict | None:
    """VmRSS and VmHWM (KiB), threads and open file descriptors of a live process."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None
    fields = dict(re.findall(r"^(VmRSS|VmHWM|Threads):\s+(\d+)", status, re.M))
    return {"rss_kib": int(fields.get("VmRSS", 0)), "hwm_kib": int(fields.get("VmHWM", 0)),
            "threads": int(fields.get("Threads", 0)), "fds": fds}


# --------------------------------------------------------------------------------------------
# The end-of-run check


def inspect_json(state: Path, what: str) -> list[dict]:
    r = subprocess.run([str(BIN), "inspect", what, "--state-dir", str(state)],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"inspect {what}: {r.stderr}")
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def scan_log(state: Path) -> dict:
    """Streams `inspect events --with-origin` (the whole log, without building it in memory as
    JSON): sequences, event ids and origins. Returns the ids with their counts, whether the
    sequences are dense from 1, events per topic, per topic the events whose origin (topic,
    partition, offset) an earlier event had (only a record that yields several events may), and
    per (topic, partition) the number of events and the highest origin offset."""
    ids: Counter = Counter()
    origins: set = set()
    origin_twice: Counter = Counter()  # by topic: one record that gave several events
    expected_seq = 1
    dense = True
    by_topic: Counter = Counter()
    partitions: dict[tuple[str, int], list[int]] = {}  # (topic, partition) -> [events, max]
    proc = subprocess.Popen([str(BIN), "inspect", "events", "--with-origin", "--state-dir",
                             str(state)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for line in proc.stdout:
        m = _SEQ_RE.match(line)
        if not m:
            raise RuntimeError(f"unexpected inspect line: {line[:200]!r}")
        seq = int(m.group(1))
        dense = dense and seq == expected_seq
        expected_seq = seq + 1
        # The event's own id: the first "id" after the origin object.
        ev = _ID_RE.search(line, m.end())
        ids[ev.group(1).decode()] += 1
        topic = m.group(2).decode()
        if topic:  # directory events have no Kafka origin
            origin = (topic, int(m.group(3)), int(m.group(4)))
            if origin in origins:
                origin_twice[topic] += 1
            origins.add(origin)
            by_topic[topic] += 1
            seen = partitions.setdefault(origin[:2], [0, -1])
            seen[0] += 1
            seen[1] = max(seen[1], origin[2])
    err = proc.stderr.read().decode()
    if proc.wait(timeout=600) != 0:
        raise RuntimeError(f"inspect events failed: {err}")
    return {"ids": ids, "events": expected_seq - 1, "dense": dense,
            "origin_twice": origin_twice, "by_topic": dict(by_topic),
            "partitions": {k: tuple(v) for k, v in partitions.items()}}


_ID = re.compile(rb'^[^\t]*\t\{"id":"([^"]+)"')


def generate_messages(work: Path, events: int, seed: int) -> tuple[Path, set[str]]:
    """`events` canonical events from ops/bench/ingest_bench.py's generator as kcat key<TAB>value
    lines in work/messages.tsv (its report in work/generate.json), and their distinct ids."""
    sys.path.insert(0, str(REPO / "ops" / "bench"))
    import ingest_bench  # noqa: E402  (the canonical event generator)
    messages = work / "messages.tsv"
    with open(work / "generate.json", "w") as out:
        saved, sys.stdout = sys.stdout, out
        try:
            ingest_bench.generate(str(messages), events, seed=seed)
        finally:
            sys.stdout = saved
    ids = set()
    with open(messages, "rb") as f:
        for line in f:
            ids.add(_ID.match(line).group(1).decode())
    if len(ids) != events:
        raise RuntimeError(f"the generator gave {len(ids)} distinct ids for {events}")
    return messages, ids
