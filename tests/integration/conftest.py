"""Integration fixtures: the real teamhealth daemon against a real Kafka broker.

* `broker` (session): a single-node KRaft broker started with ops/kafka/broker.sh in a
  temporary directory, always stopped at the end of the session.
* `daemons` (function): starts `teamhealth serve` as a subprocess (stderr to a file per run),
  finds its HTTP port from the log, scrapes /metrics, and kills whatever is still running at
  teardown.
* helpers: write a config, produce with kcat (all at once, or paced over some seconds with
  `PacedProducer`), read partition end offsets, run `inspect`.
  Every config `serve` gets names an identity key: `<state dir>.identity.key`, 32 random
  bytes beside the state directory (write_config writes it; `daemons.start` adds it to a
  config written by hand).

The binary comes from $TEAMHEALTH_BIN (default: <repo>/build/teamhealth). Python stdlib and
pytest only; no fixed ports, no fixed sleeps used for synchronisation (every wait polls with
a deadline). Other knobs: $CRASH_SEED (test_crash_safety; printed on every run, defaults to
the clock) and $INGEST_SEED (test_ingest_exactly_once's workload; fixed by default).

    TEAMHEALTH_BIN=/tmp/build-it/teamhealth python3 -m pytest -x -q tests/integration
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import tomllib
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import pytest

REPO = Path(__file__).resolve().parents[2]
BROKER_SH = REPO / "ops" / "kafka" / "broker.sh"
TEAMHEALTH_BIN = Path(os.environ.get("TEAMHEALTH_BIN", str(REPO / "build" / "teamhealth")))
KCAT = shutil.which("kcat") or "/usr/bin/kcat"
SOURCE = "canonical"


# --------------------------------------------------------------------------------------------
# Generic helpers


def wait_until(predicate: Callable[[], object], timeout: float, what: str,
               interval: float = 0.1, on_timeout: Callable[[], str] | None = None):
    """Polls `predicate` until it returns a truthy value (which is returned) or fails the
    test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while True:
        try:
            value = predicate()
            if value:
                return value
            last_exc = None
        except AssertionError:
            raise
        except Exception as exc:  # noqa: BLE001 - transient (connection refused, ...)
            last_exc = exc
        if time.monotonic() >= deadline:
            extra = on_timeout() if on_timeout else ""
            msg = f"timed out after {timeout:.0f}s waiting for {what}"
            if last_exc is not None:
                msg += f" (last error: {last_exc!r})"
            pytest.fail(msg + ("\n" + extra if extra else ""))
        time.sleep(interval)


def unique_topic(prefix: str) -> str:
    return f"it-{prefix}-{uuid.uuid4().hex[:10]}"


def canonical_json(obj: dict, ascii_only: bool = True) -> str:
    """One-line JSON without tabs or newlines (kcat's line and key delimiters)."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=ascii_only)
    assert "\t" not in text and "\n" not in text
    return text


_TYPES = [
    ("incident.triggered", "incident"),
    ("incident.acknowledged", "incident"),
    ("work_item.created", "work_item"),
    ("work_item.status_changed", "work_item"),
    ("pull_request.opened", "pull_request"),
    ("pull_request.reviewed", "pull_request"),
    ("chat.message", "channel"),
    ("oncall.shift", "schedule"),
]


def make_event(event_id: str, i: int) -> dict:
    """A valid canonical event, already in the shape `inspect events` renders (occurred_at
    with milliseconds and Z, every subject field non-empty), so that the stored event can be
    compared with what was produced."""
    etype, kind = _TYPES[i % len(_TYPES)]
    ms = 1772489645120 + i * 1237  # 2026-03-02T22:14:05.120Z + i * 1.237 s
    secs, frac = divmod(ms, 1000)
    occurred = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:03d}Z"
    attrs: dict = {"n": i, "urgency": "high" if i % 2 else "low"}
    if i % 3 == 0:
        attrs["assignees"] = [f"pagerduty:P{i % 97}", f"pagerduty:P{(i + 1) % 97}"]
    if i % 5 == 0:
        attrs["bot"] = bool(i % 10)
    if i % 7 == 0:
        attrs["priority"] = None
    return {
        "id": event_id,
        "source": SOURCE,
        "type": etype,
        "occurred_at": occurred,
        "actor": None if i % 11 == 0 else f"pagerduty:PX{i % 13}",
        "subject": {"kind": kind, "id": f"Q{i % 1009}"},
        "attrs": attrs,
    }


# Malformed records: (expected quarantine reason, body). Each avoids tabs and newlines.
def make_malformed(reason: str, i: int) -> str:
    base = make_event(f"canonical:bad-{i}", i)
    if reason == "empty":
        return ""
    if reason == "invalid_json":
        variants = [
            f"not json at all {i}",
            canonical_json(base)[:-7],  # truncated
            '{"id":"canonical:bad-%d" "source":"canonical"}' % i,  # no comma
            f"[{i}, 2, 3]",  # JSON, but not an object
            canonical_json(base) + " trailing",
        ]
        return variants[i % len(variants)]
    if reason == "missing_field":
        missing = ["id", "source", "type", "occurred_at", "subject"][i % 5]
        del base[missing]
        return canonical_json(base)
    if reason == "unknown_type":
        base["type"] = ["incident.exploded", "work_item.teleported", "chat", "Incident.Triggered"][i % 4]
        return canonical_json(base)
    if reason == "bad_timestamp":
        base["occurred_at"] = [
            "yesterday",
            "2026-03-02 22:14",
            "2026-13-02T22:14:05.120Z",
            "2026-02-30T10:00:00.000Z",
            "2026-03-02T22:14:05.120",  # no zone
            "1772489645120",
            "2026-03-02T25:14:05.120Z",
        ][i % 7]
        return canonical_json(base)
    if reason == "invalid_field":
        variant = i % 4
        if variant == 0:
            base["subject"]["kind"] = "robot"
        elif variant == 1:
            base["id"] = f"jira:bad-{i}"  # id must be <source>:<dedup id>
        elif variant == 2:
            base["occurred_at"] = 1772489645120  # not a string
        else:
            base["source"] = "myspace"
        return canonical_json(base)
    raise ValueError(reason)


# --------------------------------------------------------------------------------------------
# Kafka


@dataclass
class Broker:
    bootstrap: str
    dir: Path

    def produce(self, topic: str, partition: int, values: Sequence[str], workdir: Path,
                timeout: float = 120, empty_as_null: bool = False,
                extra_args: Sequence[str] = ()) -> None:
        """Produces `values` in order to one partition: one message per value, each keyed
        (kcat -K) so that empty values are sent as empty messages instead of being skipped
        (or as NULL values, tombstones, with `empty_as_null`). Idempotent producer: no
        reordering, no duplicates from retries."""
        workdir.mkdir(parents=True, exist_ok=True)
        path = workdir / f"produce-{topic}-{partition}-{uuid.uuid4().hex[:8]}.txt"
        with open(path, "w", encoding="utf-8") as f:
            for n, v in enumerate(values):
                assert "\t" not in v and "\n" not in v
                f.write(f"k{n}\t{v}\n")
        cmd = [KCAT, "-P", "-b", self.bootstrap, "-t", topic, "-p", str(partition), "-K", "\t",
               "-X", "enable.idempotence=true", "-X", "linger.ms=20", "-l", str(path)]
        if empty_as_null:
            cmd.insert(1, "-Z")
        cmd[1:1] = list(extra_args)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        path.unlink(missing_ok=True)
        assert r.returncode == 0, f"kcat produce failed ({r.returncode}): {r.stderr[-2000:]}"

    def end_offsets(self, topic: str, partitions: Iterable[int] = (0, 1, 2)) -> dict[int, int]:
        """High watermarks (next offset to be written) per partition, from the broker."""
        cmd = [KCAT, "-Q", "-b", self.bootstrap]
        for p in partitions:
            cmd += ["-t", f"{topic}:{p}:-1"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, f"kcat -Q failed: {r.stderr[-2000:]}"
        out = {}
        for m in re.finditer(r"^(\S+) \[(\d+)\] offset (-?\d+)$", r.stdout, re.M):
            assert m.group(1) == topic
            out[int(m.group(2))] = int(m.group(3))
        assert set(out) == set(partitions), r.stdout
        return out

    def consume(self, topic: str, partition: int, timeout: float = 120) -> list[tuple[int, str]]:
        """Every (offset, value) of a partition, read back from the broker."""
        cmd = [KCAT, "-C", "-b", self.bootstrap, "-t", topic, "-p", str(partition),
               "-o", "beginning", "-e", "-q", "-f", "%o\\t%s\\n"]
        r = subprocess.run(cmd, capture_output=True, timeout=timeout)
        assert r.returncode == 0, f"kcat consume failed: {r.stderr[-2000:]!r}"
        out = []
        for line in r.stdout.decode().split("\n")[:-1]:
            off, _, value = line.partition("\t")
            out.append((int(off), value))
        return out


class PacedProducer(threading.Thread):
    """One long-lived `kcat -P` per partition fed through a pipe at a steady pace, so that the
    daemon consumes (and is killed) while records are still arriving."""

    def __init__(self, bootstrap: str, topic: str, per_partition: list[list[str]], workdir: Path,
                 seconds: float, slice_seconds: float = 0.1):
        super().__init__(daemon=True)
        self.bootstrap, self.topic, self.per_partition = bootstrap, topic, per_partition
        self.workdir = workdir
        self.seconds, self.slice_seconds = seconds, slice_seconds
        self.produced = 0  # lines handed to kcat so far
        self.error: BaseException | None = None
        self.procs: list[subprocess.Popen] = []

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc

    def _run(self) -> None:
        for p in range(len(self.per_partition)):
            err = open(self.workdir / f"kcat-{p}.stderr", "wb")
            self.procs.append(subprocess.Popen(
                [KCAT, "-P", "-b", self.bootstrap, "-t", self.topic, "-p", str(p), "-K", "\t",
                 "-X", "enable.idempotence=true", "-X", "linger.ms=5"],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err))
            err.close()
        slices = max(1, int(self.seconds / self.slice_seconds))
        cursors = [0] * len(self.per_partition)
        start = time.monotonic()
        for s in range(1, slices + 1):
            for p, values in enumerate(self.per_partition):
                end = len(values) * s // slices
                chunk = "".join(f"k{n}\t{values[n]}\n" for n in range(cursors[p], end))
                self.procs[p].stdin.write(chunk.encode())
                self.procs[p].stdin.flush()
                self.produced += end - cursors[p]
                cursors[p] = end
            # pace against the wall clock, not against the daemon
            delay = start + s * self.slice_seconds - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        for proc in self.procs:
            proc.stdin.close()
        for p, proc in enumerate(self.procs):
            rc = proc.wait(timeout=120)
            if rc != 0:
                raise RuntimeError(f"kcat producer for partition {p} exited {rc}: "
                                   + (self.workdir / f"kcat-{p}.stderr").read_text()[-2000:])

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)


@pytest.fixture(scope="session")
def broker(tmp_path_factory) -> Broker:
    assert BROKER_SH.exists(), BROKER_SH
    d = tmp_path_factory.mktemp("kafka")
    try:
        r = subprocess.run(["bash", str(BROKER_SH), "start", str(d)], capture_output=True,
                           text=True, timeout=300)
        if r.returncode != 0:
            pytest.fail(f"broker.sh start failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
        bootstrap = (d / "bootstrap").read_text().strip()
        assert re.fullmatch(r"127\.0\.0\.1:\d+", bootstrap), bootstrap
        yield Broker(bootstrap, d)
    finally:
        subprocess.run(["bash", str(BROKER_SH), "stop", str(d)], capture_output=True, timeout=120)


# --------------------------------------------------------------------------------------------
# The daemon


def identity_key_file(state_dir: Path) -> Path:
    """The identity key of a state directory (docs/design.md section 6): 32 random bytes in
    `<state_dir>.identity.key`, beside the state directory and never inside it, created on first
    use and kept after, so every config written for one state directory names the same key."""
    state_dir = Path(os.path.abspath(state_dir))
    key = state_dir.with_name(state_dir.name + ".identity.key")
    if not key.exists():
        key.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(32))
    return key


def add_identity_key(config: Path) -> None:
    """Gives a config written by hand (without write_config) the identity key `serve` requires,
    in its [storage] table, unless it names one already or is not valid TOML (a test of a bad
    config)."""
    text = config.read_text()
    try:
        storage = tomllib.loads(text).get("storage", {})
    except tomllib.TOMLDecodeError:
        return
    if not isinstance(storage, dict) or "identity_key_file" in storage:
        return
    line = f'identity_key_file = "{identity_key_file(Path(storage.get("dir", "teamhealth-state")))}"'
    if re.search(r"^\[storage\][ \t]*$", text, re.M):
        text = re.sub(r"^\[storage\][ \t]*$", lambda m: m.group(0) + "\n" + line, text, count=1,
                      flags=re.M)
    else:
        text = "[storage]\n" + line + "\n" + text
    config.write_text(text)


def write_config(path: Path, *, state_dir: Path, brokers: str, topics: Sequence[str],
                 extra: str = "", batch_max_messages: int = 5000, batch_max_ms: int = 100,
                 level: str = "info", write_max_bytes: int = 0) -> Path:
    lines = [
        "[storage]",
        f'dir = "{state_dir}"',
        "sync_writes = true",
        f'identity_key_file = "{identity_key_file(state_dir)}"',
        "[kafka]",
        f'brokers = "{brokers}"',
        f"batch_max_messages = {batch_max_messages}",
        f"batch_max_ms = {batch_max_ms}",
    ]
    if write_max_bytes:  # also bounds the writer's queue (twice this)
        lines.append(f"write_max_bytes = {write_max_bytes}")
    for t in topics:
        lines += ["[[kafka.topics]]", f'name = "{t}"', f'source = "{SOURCE}"']
    lines += ["[http]", 'listen = "127.0.0.1:0"', "[logging]", f'level = "{level}"']
    text = "\n".join(lines) + "\n" + extra
    path.write_text(text)
    return path


_PORT_RE = re.compile(r"Serving HTTPS?\. address=\S+:(\d+)")


# Contract names (docs/design.md section 7) whose word "days" counts person-days, not a duration:
# promtool's unit lint reads any "_days_" as time and asks for seconds.
PERSON_DAY_COUNTERS = ("teamhealth_active_persondays_total",
                       "teamhealth_time_off_worked_days_total")


def promtool_lint_problems(exposition: str) -> list[str]:
    """What `promtool check metrics` finds in an exposition, less the unit lint on the
    person-day counters; an exit status other than 0 or 3 (3 = lint findings) is a problem too."""
    lint = subprocess.run(["promtool", "check", "metrics"], input=exposition, capture_output=True,
                          text=True, timeout=60)
    found = [l for l in (lint.stdout + lint.stderr).splitlines() if l.strip()]
    problems = [l for l in found
                if not any(l.startswith(f'{name} use base unit "seconds" instead of "days"')
                           for name in PERSON_DAY_COUNTERS)]
    if lint.returncode not in (0, 3):
        problems.append(f"promtool exited {lint.returncode}")
    return problems


def parse_metrics(text: str) -> dict[tuple[str, frozenset], float]:
    """Prometheus text format -> {(name, frozenset(labels)): value}."""
    out: dict[tuple[str, frozenset], float] = {}
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$')
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = line_re.match(line)
        assert m, f"unparseable metrics line: {line!r}"
        labels = frozenset(label_re.findall(m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


class MissingSeries(LookupError):
    """/metrics has no such series: a misnamed metric or label, or a series the daemon has not
    created. Never read as 0 (and not an AssertionError, so `wait_until` keeps polling for a
    series that is yet to appear), so an `== 0` check cannot pass on a name the daemon does not
    export."""


# The daemon's counters that exist before their first increment only in principle:
# prometheus-cpp creates a label set's series on its first increment (daemon/http metrics.cc),
# so an untouched one is absent from /metrics and its value is 0. Only these read as 0 when
# absent, and only with exactly their label names and a label value the daemon can produce;
# anything else absent raises MissingSeries. So that a stale name here cannot read as 0 for
# ever, test_ingest_exactly_once (ingested, duplicate, quarantined) and test_privacy (ignored)
# check with Metrics.has that the daemon exports each name once it is touched.
LABEL_VALUES = {
    "source": {"jira", "github", "linear", "slack", "pagerduty", "opsgenie", "canonical",
               "directory"},
    "reason": {"empty", "invalid_json", "missing_field", "invalid_field", "bad_timestamp",
               "unknown_type", "unsupported_event", "no_source"},
}
LAZY_COUNTERS = {
    "teamhealth_events_ingested_total": ("source",),
    "teamhealth_events_duplicate_total": ("source",),
    "teamhealth_events_ignored_total": ("source",),
    "teamhealth_events_quarantined_total": ("source", "reason"),
}


def _untouched_counter(name: str, labels: dict[str, str], exact: bool) -> bool:
    """True if (name, labels) is a lazily created daemon counter with valid labels (all of its
    label names when `exact`, a subset otherwise); raises MissingSeries when the name is one of
    them but a label is misnamed or has a value the daemon never produces."""
    if name not in LAZY_COUNTERS:
        return False
    names = set(LAZY_COUNTERS[name])
    if (set(labels) != names) if exact else not set(labels) <= names:
        raise MissingSeries(f"{name} has labels {sorted(names)}, not {sorted(labels)}")
    for k, v in labels.items():
        if v not in LABEL_VALUES[k]:
            raise MissingSeries(f"{name}: {k}={v!r} is not a value the daemon produces")
    return True


@dataclass
class Metrics:
    samples: dict[tuple[str, frozenset], float]

    def has(self, name: str, **labels) -> bool:
        return (name, frozenset(labels.items())) in self.samples

    def get(self, name: str, **labels) -> float:
        """The sample with exactly these labels. Absent: 0 for an untouched lazily created
        counter (LAZY_COUNTERS, labels checked), MissingSeries for anything else."""
        key = (name, frozenset(labels.items()))
        if key in self.samples:
            return self.samples[key]
        if _untouched_counter(name, labels, exact=True):
            return 0.0
        raise MissingSeries(f"no series {name}{labels} in /metrics"
                            + ("" if self.families() & {name} else
                               f" (and no series named {name} at all)"))

    def families(self) -> set[str]:
        return {n for n, _ in self.samples}

    def _matching(self, name: str, match: dict[str, str]) -> list[tuple[frozenset, float]]:
        want = set(match.items())
        found = [(ls, v) for (n, ls), v in self.samples.items() if n == name and want <= set(ls)]
        if not found and not _untouched_counter(name, match, exact=False):
            raise MissingSeries(f"no series {name} with {match} in /metrics")
        return found

    def total(self, name: str, **match) -> float:
        """Sum over every label set that includes `match`; MissingSeries if none does (except
        an untouched lazily created counter, which sums to 0)."""
        return sum(v for _, v in self._matching(name, match))

    def by_label(self, name: str, label: str, **match) -> dict[str, float]:
        out: dict[str, float] = {}
        for ls, v in self._matching(name, match):
            out[dict(ls)[label]] = out.get(dict(ls)[label], 0.0) + v
        return out

    def consumed(self) -> float:
        """Records the daemon has durably dealt with: appended, duplicate or quarantined."""
        return (self.total("teamhealth_events_ingested_total", source=SOURCE)
                + self.total("teamhealth_events_duplicate_total", source=SOURCE)
                + self.total("teamhealth_events_quarantined_total", source=SOURCE))


@dataclass
class Daemon:
    config: Path
    stderr_path: Path
    proc: subprocess.Popen
    port: int | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, n: int = 40) -> str:
        return f"--- {self.stderr_path} (last {n} lines) ---\n" + "\n".join(self.log().splitlines()[-n:])

    def wait_port(self, timeout: float = 30) -> int:
        def find():
            m = _PORT_RE.search(self.log())
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                pytest.fail(f"daemon exited with {self.proc.returncode} before serving HTTP\n"
                            + self.log_tail())
            return None
        self.port = wait_until(find, timeout, "the daemon's HTTP port", on_timeout=self.log_tail)
        return self.port

    def http_get(self, path: str, timeout: float = 5) -> tuple[int, str]:
        assert self.port is not None, "wait_port() first"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=timeout) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def metrics(self) -> Metrics:
        status, body = self.http_get("/metrics")
        assert status == 200, (status, body)
        return Metrics(parse_metrics(body))

    def wait_consumed(self, total: int, timeout: float) -> Metrics:
        """Polls /metrics until ingested + duplicate + quarantined reaches `total`."""
        def check():
            if self.proc.poll() is not None:
                pytest.fail(f"daemon exited with {self.proc.returncode}\n" + self.log_tail())
            m = self.metrics()
            done = m.consumed()
            assert done <= total, f"daemon accounted for {done} records, more than {total}"
            return m if done == total else None
        return wait_until(check, timeout, f"{total} records consumed", interval=0.2,
                          on_timeout=self.log_tail)

    def wait_records(self, records: dict[str, int], timeout: float) -> Metrics:
        """Polls /metrics until the outcomes (ingested, duplicate, quarantined, ignored) of each
        source equal `records[source]` exactly (one outcome per record when each record yields
        one event); more outcomes than records fails at once, so `>=` can never stop early."""
        outcomes = ("teamhealth_events_ingested_total", "teamhealth_events_duplicate_total",
                    "teamhealth_events_quarantined_total", "teamhealth_events_ignored_total")
        got: dict[str, float] = {}

        def check():
            if self.proc.poll() is not None:
                pytest.fail(f"daemon exited with {self.proc.returncode}\n" + self.log_tail())
            m = self.metrics()
            got.update({s: sum(m.total(n, source=s) for n in outcomes) for s in records})
            assert all(got[s] <= records[s] for s in records), \
                f"more outcomes than records: {got}, records {records}"
            return m if got == records else None
        return wait_until(check, timeout, f"{sum(records.values())} records consumed",
                          interval=0.2,
                          on_timeout=lambda: f"records {records}, outcomes {got}\n"
                          + self.log_tail())

    def wait_ready(self, timeout: float = 30) -> None:
        wait_until(lambda: self.http_get("/readyz")[0] == 200, timeout, "/readyz == 200",
                   on_timeout=self.log_tail)

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM; returns the exit code (fails the test if it does not exit in time)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            pytest.fail(f"daemon did not exit within {timeout}s of SIGTERM\n" + self.log_tail())

    def kill(self) -> int:
        """SIGKILL: a crash."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        return self.proc.wait(timeout=30)


@dataclass
class DaemonFactory:
    workdir: Path
    started: list[Daemon] = field(default_factory=list)

    def start(self, config: Path, extra_args: Sequence[str] = (),
              env: dict[str, str] | None = None) -> Daemon:
        """Starts `teamhealth serve`; `env` adds to (or overrides) this process's environment."""
        assert TEAMHEALTH_BIN.exists(), f"no daemon binary at {TEAMHEALTH_BIN} (set TEAMHEALTH_BIN)"
        add_identity_key(config)
        n = len(self.started) + 1
        stderr_path = self.workdir / f"daemon-{n}.stderr"
        with open(stderr_path, "wb") as err, open(self.workdir / f"daemon-{n}.stdout", "wb") as out:
            proc = subprocess.Popen([str(TEAMHEALTH_BIN), "serve", "--config", str(config),
                                     *extra_args], stdout=out, stderr=err,
                                    stdin=subprocess.DEVNULL,
                                    env={**os.environ, **env} if env else None)
        d = Daemon(config, stderr_path, proc)
        self.started.append(d)
        return d

    def cleanup(self) -> None:
        for d in self.started:
            if d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait(timeout=30)


@pytest.fixture
def daemons(tmp_path) -> DaemonFactory:
    f = DaemonFactory(tmp_path)
    try:
        yield f
    finally:
        f.cleanup()


def run_teamhealth(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(TEAMHEALTH_BIN), *args], capture_output=True, text=True,
                          timeout=timeout)


def inspect(state_dir: Path, what: str, *args: str) -> list[dict]:
    """`teamhealth inspect WHAT --state-dir DIR ...` as a list of JSON objects."""
    r = run_teamhealth("inspect", what, "--state-dir", str(state_dir), *args)
    assert r.returncode == 0, f"inspect {what} failed ({r.returncode}): {r.stderr}"
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


# --- people are pseudonyms in the log (DESIGN section 6) ---------------------------------

_PSEUDONYM = re.compile(r"^p:[0-9a-f]{16}$")
_PERSON_ATTRS = {  # mirrors schemas/person_fields.cc
    "assignees": lambda t: t.startswith("incident."),
    "mentions": lambda t: t == "chat.message",
    "recipients": lambda t: t == "chat.message",
    "assignee": lambda t: t == "work_item.created",
    "from": lambda t: t == "work_item.assigned",
    "to": lambda t: t == "work_item.assigned",
    "reviewer": lambda t: t == "pull_request.review_requested",
    "person": lambda t: t == "oncall.shift",
}


class Pseudonyms:
    """Checks that the log holds a consistent pseudonym wherever the producer wrote a person.

    `restore(stored, produced)` asserts each person value in `stored` is a pseudonym, that one
    person always gets the same pseudonym and two people never share one, and returns `stored`
    with the produced identities put back, for a plain comparison."""

    def __init__(self):
        self.of_person: dict[str, str] = {}
        self.person_of: dict[str, str] = {}

    def _check(self, pseudonym, person):
        if person is None:
            assert pseudonym is None, f"null person stored as {pseudonym}"
            return None
        assert isinstance(pseudonym, str) and _PSEUDONYM.match(pseudonym), \
            f"{person} stored as {pseudonym!r}, not a pseudonym"
        assert self.of_person.setdefault(person, pseudonym) == pseudonym, \
            f"{person} has two pseudonyms"
        assert self.person_of.setdefault(pseudonym, person) == person, \
            f"{pseudonym} is shared by two people"
        return person

    def restore(self, stored: dict, produced: dict) -> dict:
        out = json.loads(json.dumps(stored))
        out["actor"] = self._check(stored.get("actor"), produced.get("actor"))
        for name, applies in _PERSON_ATTRS.items():
            if not applies(produced.get("type", "")) or name not in produced.get("attrs", {}):
                continue
            want = produced["attrs"][name]
            got = stored.get("attrs", {}).get(name)
            if isinstance(want, list):
                assert isinstance(got, list) and len(got) == len(want), (name, got, want)
                out["attrs"][name] = [self._check(g, w) for g, w in zip(got, want)]
            else:
                out["attrs"][name] = self._check(got, want)
        return out
