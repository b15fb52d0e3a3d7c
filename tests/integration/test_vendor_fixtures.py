"""Every vendor payload through the real daemon, checked against the hand-written goldens.

Each payload of the shared vendor fixtures (except PagerDuty's REST API objects) and of our own
variants (tests/sources/variants) is produced as ONE Kafka record, its body verbatim, with the
`.headers` file beside its golden as Kafka record headers, to one topic per source (partition
0, so production order is consumption order). One daemon run consumes all six topics. What
the goldens (tests/sources/golden/<source>/<path>.jsonl) say must happen, happens:

* a golden with event lines: the log holds those events (ids and types exactly; every other
  field equal to the golden, people compared through their pseudonyms), except events whose
  id an earlier record already appended, which count as duplicates;
* an empty golden: the record is counted as ignored (no event, no quarantine entry);
* `!reject <reason>`: the record is quarantined (by topic, partition and offset) with that
  reason.

The metrics (`teamhealth_events_{ingested,duplicate,ignored,quarantined}_total`, per source and
reason, and `teamhealth_log_last_sequence`) and the persisted counters must say the same.

Bad bodies are interleaved per vendor: not JSON, empty, a JSON array (around a valid payload)
and another vendor's payload. Each is quarantined with a reason, and the valid record right
after it (next offset) is ingested: bad input never blocks the partition. (Another vendor's
body once counted as ignored by the GitHub, Slack and Opsgenie normalisers; now quarantined.)

The golden test (tests/sources/golden_test.cc) normalises each payload with a fresh registry;
the daemon uses one per ingest thread, so its Jira and Linear normalisers know the status
categories (and Linear state names) of every earlier payload on their topic. LEARNED says, by
hand, what they know by then: each entry replaces a null of the golden, and every other field
must match the golden exactly.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import KCAT, DaemonFactory, Pseudonyms, inspect, unique_topic, wait_until

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "payloads"
GOLDEN = REPO / "tests" / "sources" / "golden"
VARIANTS = REPO / "tests" / "sources" / "variants"
SOURCES = ("jira", "github", "linear", "slack", "pagerduty", "opsgenie")
REASONS = {"empty", "invalid_json", "missing_field", "invalid_field", "bad_timestamp",
           "unknown_type", "unsupported_event", "no_source"}
# golden_test.cc passes this as the record timestamp: a golden with this time says "the
# payload has no time at all; the Kafka record timestamp is the event time".
GOLDEN_RECORD_TIME = "2023-11-14T22:13:20.000Z"
# What the daemon's long-lived normalisers have learned when they reach a payload, where the
# fresh normaliser of the golden test knows nothing: (source, golden path, event type) -> attrs
# that are null in the golden. Worked out by hand from the payloads in production order (golden
# path order; the bad bodies in between teach nothing: they are rejected before any learning):
LEARNED = {
    # Jira status 10001 ("To Do") was shown as statusCategory `new` by comment_created, the
    # first Jira payload; jira-issue_updated-status moves an issue out of it.
    ("jira", "jira-issue_updated-status", "work_item.status_changed"): {
        "from_category": "todo"},
    # Status 3 ("In Progress") was shown as `indeterminate` by jira-issue_updated-status; both
    # variants below move an issue out of it. (jira-issue_updated-status-resolved also leaves
    # status 3, but it sorts before jira-issue_updated-status: its from_category stays null, as
    # does variant-server-no-fieldid's, whose status 1 "Open" no payload shows.)
    ("jira", "variant-cloud-status-with-header", "work_item.status_changed"): {
        "from_category": "in_progress"},
    ("jira", "variant-server-transition-with-comment", "work_item.status_changed"): {
        "from_category": "in_progress"},
    # Status 10050 ("In QA") is shown, as `indeterminate`, ONLY by the comment payload
    # variant-learned-from-comment-1-comment_created (no issue payload shows it); the next
    # Jira payload, variant-learned-from-comment-2-transition, moves the issue out of it. So
    # this from_category can only have been learned from a comment event.
    ("jira", "variant-learned-from-comment-2-transition", "work_item.status_changed"): {
        "from_category": "in_progress"},
    # Linear state a19a64b3-... ("Todo", type unstarted) was shown by Issue-create; the
    # update's updatedFrom has only the old stateId.
    ("linear", "variant-issue-update-state", "work_item.status_changed"): {
        "from": "Todo", "from_category": "todo"},
}


# One well-formed payload per vendor, sent (without headers) to the other vendors' topics.
REPRESENTATIVE = {
    "jira": "jira/jira-issue_created.json",
    "github": "github/issues-opened.json",
    "linear": "linear/Issue-create.json",
    "slack": "slack/message-channel.json",
    "pagerduty": "pagerduty/v3/incident.triggered.json",
    "opsgenie": "opsgenie/Create.json",
}


# --------------------------------------------------------------------------------------------
# Payloads and what their goldens expect


@dataclass
class Payload:
    source: str
    rel: str                       # path below golden/<source>, without extension
    path: Path                     # the vendor body
    headers: list[tuple[str, str]]
    events: list[dict]             # golden events (empty: ignored, or rejected)
    reject: str | None             # expected quarantine reason

    @property
    def ignored(self) -> bool:
        return self.reject is None and not self.events


def read_headers(path: Path) -> list[tuple[str, str]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        assert sep, f"{path}: not `Name: value`: {line!r}"
        out.append((name.strip(), value.lstrip(" ")))
    return out


def load_payloads(source: str) -> list[Payload]:
    out = []
    for golden in sorted((GOLDEN / source).rglob("*.jsonl")):
        rel = str(golden.relative_to(GOLDEN / source).with_suffix(""))
        body = FIXTURES / source / f"{rel}.json"
        if not body.exists():
            body = VARIANTS / source / f"{rel}.json"
        assert body.exists(), f"no payload for golden {golden}"
        lines = [ln for ln in golden.read_text().splitlines() if ln.strip()]
        reject = None
        events = []
        if len(lines) == 1 and lines[0].startswith("!reject "):
            reject = lines[0][len("!reject "):].strip()
            assert reject in REASONS, golden
        else:
            events = [json.loads(ln) for ln in lines]
        out.append(Payload(source, rel, body, read_headers(golden.with_suffix(".headers")),
                           events, reject))
    return out


def test_every_payload_has_a_golden():
    """The run below covers every payload: each fixture (except rest-api) and each variant."""
    assert FIXTURES.is_dir(), f"shared fixtures not found at {FIXTURES}"
    missing = []
    for base in (FIXTURES, VARIANTS):
        for p in base.rglob("*.json"):
            rel = p.relative_to(base)
            if "rest-api" in rel.parts:
                continue
            if not (GOLDEN / rel).with_suffix(".jsonl").exists():
                missing.append(str(p))
    assert not missing, f"payloads without a golden: {missing}"


def test_comment_only_status_is_shown_by_no_other_payload():
    """The LEARNED entry of variant-learned-from-comment-2-transition checks learning from
    comment payloads end to end only while no other Jira payload shows its from-status."""
    showing = []
    for p in load_payloads("jira"):
        try:
            body = json.loads(p.path.read_bytes())
        except ValueError:
            continue
        status = (((body.get("issue") or {}).get("fields") or {}).get("status") or {}) \
            if isinstance(body, dict) else {}
        if status.get("id") == "10050":
            showing.append((p.rel, body.get("webhookEvent")))
    assert showing == [("variant-learned-from-comment-1-comment_created", "comment_created")]


# --------------------------------------------------------------------------------------------
# Producing: one record per kcat run (a whole file is one message), headers with -H


def produce_one(bootstrap: str, topic: str, body: bytes, headers: list[tuple[str, str]],
                workdir: Path) -> None:
    cmd = [KCAT, "-P", "-b", bootstrap, "-t", topic, "-p", "0"]
    for name, value in headers:
        cmd += ["-H", f"{name}={value}"]
    path = workdir / f"rec-{uuid.uuid4().hex[:10]}"
    if body:
        path.write_bytes(body)
        cmd.append(str(path))
    else:
        # kcat skips empty files; a keyed line with an empty value is an empty (not NULL) value
        path.write_bytes(b"k\t\n")
        cmd += ["-K", "\t", "-l", str(path)]
    r = subprocess.run(cmd, capture_output=True, timeout=60)
    path.unlink(missing_ok=True)
    assert r.returncode == 0, f"kcat produce failed: {r.stderr[-2000:]!r}"


def record_timestamps(bootstrap: str, topic: str) -> dict[int, int]:
    """offset -> Kafka record timestamp (ms) of partition 0."""
    r = subprocess.run([KCAT, "-C", "-b", bootstrap, "-t", topic, "-p", "0", "-o", "beginning",
                        "-e", "-q", "-f", "%o %T\\n"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return {int(o): int(t) for o, t in (ln.split() for ln in r.stdout.splitlines() if ln.strip())}


def end_offset(bootstrap: str, topic: str) -> int:
    r = subprocess.run([KCAT, "-Q", "-b", bootstrap, "-t", f"{topic}:0:-1"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    m = re.search(r"\[0\] offset (-?\d+)", r.stdout)
    assert m, r.stdout
    return int(m.group(1))


def rfc3339_ms(ms: int) -> str:
    secs, frac = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:03d}Z"


def vendor_config(path: Path, state: Path, bootstrap: str, topics: dict[str, str],
                  level: str = "info", extra: str = "") -> Path:
    lines = ["[storage]", f'dir = "{state}"', "sync_writes = true",
             "[kafka]", f'brokers = "{bootstrap}"', "batch_max_messages = 5000",
             "batch_max_ms = 100"]
    for source, topic in topics.items():
        lines += ["[[kafka.topics]]", f'name = "{topic}"', f'source = "{source}"']
    lines += ["[http]", 'listen = "127.0.0.1:0"', "[logging]", f'level = "{level}"']
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


def accounted(m, sources) -> float:
    return sum(m.total(name, source=s) for s in sources for name in (
        "teamhealth_events_ingested_total", "teamhealth_events_duplicate_total",
        "teamhealth_events_ignored_total", "teamhealth_events_quarantined_total"))


# --------------------------------------------------------------------------------------------
# The run


@dataclass
class Record:
    offset: int
    body: bytes
    headers: list[tuple[str, str]]
    payload: Payload | None = None      # a golden payload
    bad: str | None = None              # kind of bad body: not_json, empty, array, vendor:<v>
    reason: str | None = None           # expected quarantine reason (None: any, for vendor:)
    new_events: list[dict] = field(default_factory=list)  # golden events not yet seen
    dup_events: list[dict] = field(default_factory=list)


@dataclass
class Expected:
    records: dict[str, list[Record]]    # source -> records in production order
    ingested: Counter
    duplicate: Counter
    ignored: Counter


def bad_bodies(source: str) -> list[tuple[str, bytes, str | None]]:
    """(kind, body, reason) of the bad records produced to `source`'s topic."""
    rep = (FIXTURES / REPRESENTATIVE[source]).read_text()
    out = [("not_json", b"this is not JSON {\"at\": all", "invalid_json"),
           ("empty", b"", "empty"),
           ("array", ("[" + rep + "]").encode(), "invalid_json")]
    for other in SOURCES:
        if other != source:
            out.append((f"vendor:{other}", (FIXTURES / REPRESENTATIVE[other]).read_bytes(), None))
    return out


def plan(source: str) -> list[Record]:
    """The records of one topic: every golden payload in path order; each bad body right
    before a payload that appends a new event (so "the next record is ingested" is checked)."""
    payloads = load_payloads(source)
    bad = bad_bodies(source)
    seen: set[str] = set()
    records: list[Record] = []
    for p in payloads:
        new = [e for e in p.events if e["id"] not in seen]
        if bad and new:
            kind, body, reason = bad.pop(0)
            records.append(Record(len(records), body, [], bad=kind, reason=reason))
        dups = []
        fresh = []
        for e in p.events:
            (dups if e["id"] in seen else fresh).append(e)
            seen.add(e["id"])
        records.append(Record(len(records), p.path.read_bytes(), p.headers, payload=p,
                              reason=p.reject, new_events=fresh, dup_events=dups))
    assert not bad, f"{source}: too few payloads with new events to follow every bad body"
    return records


@pytest.fixture(scope="module")
def run(broker, tmp_path_factory):
    work: Path = tmp_path_factory.mktemp("vendor")
    topics = {s: unique_topic(f"vendor-{s}") for s in SOURCES}
    records = {s: plan(s) for s in SOURCES}
    t0 = time.monotonic()
    for s in SOURCES:
        for rec in records[s]:
            produce_one(broker.bootstrap, topics[s], rec.body, rec.headers, work)
        assert end_offset(broker.bootstrap, topics[s]) == len(records[s]), s
    n_records = sum(map(len, records.values()))
    print(f"\nproduced {n_records} records to 6 topics in {time.monotonic() - t0:.1f}s")

    ingested, duplicate, ignored = Counter(), Counter(), Counter()
    total = 0
    for s in SOURCES:
        for rec in records[s]:
            ingested[s] += len(rec.new_events)
            duplicate[s] += len(rec.dup_events)
            if rec.payload is not None and rec.payload.ignored:
                ignored[s] += 1
            total += len(rec.new_events) + len(rec.dup_events)
            if rec.payload is None or rec.payload.reject or rec.payload.ignored:
                total += 1  # quarantined or ignored, once per record
    expected = Expected(records, ingested, duplicate, ignored)

    state = work / "state"
    cfg = vendor_config(work / "teamhealth.toml", state, broker.bootstrap, topics)
    factory = DaemonFactory(work)
    try:
        d = factory.start(cfg)
        d.wait_port()
        t1 = time.monotonic()

        def done():
            if d.proc.poll() is not None:
                pytest.fail(f"daemon exited with {d.proc.returncode}\n" + d.log_tail())
            m = d.metrics()
            n = accounted(m, SOURCES)
            assert n <= total, f"daemon accounted for {n} outcomes, more than {total}"
            return m if n == total else None

        metrics = wait_until(done, 60, f"{total} outcomes (events, ignored, quarantined)",
                             interval=0.2, on_timeout=d.log_tail)
        print(f"daemon consumed them in {time.monotonic() - t1:.1f}s")
        for s in SOURCES:
            wait_until(lambda s=s: d.metrics().get("teamhealth_consumer_lag_messages",
                                                   topic=topics[s]) == 0,
                       30, f"consumer lag 0 on {s}", on_timeout=d.log_tail)
        d.wait_ready()
        assert d.terminate() == 0, d.log_tail()
        log_text = d.log()
    finally:
        factory.cleanup()

    timestamps = {s: record_timestamps(broker.bootstrap, topics[s]) for s in SOURCES}
    return {
        "topics": topics, "expected": expected, "metrics": metrics, "state": state,
        "events": inspect(state, "events", "--with-origin"),
        "quarantine": inspect(state, "quarantine"),
        "counters": inspect(state, "counters")[0],
        "offsets": inspect(state, "offsets"),
        "timestamps": timestamps, "log": log_text,
    }


def _by_origin(run) -> dict[tuple[str, int], list[dict]]:
    source_of = {t: s for s, t in run["topics"].items()}
    out: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for e in run["events"]:
        o = e["origin"]
        assert o["topic"] in source_of, o
        assert o["partition"] == 0, o
        out[(source_of[o["topic"]], o["offset"])].append(e["event"])
    return out


def _quarantine_by_origin(run) -> dict[tuple[str, int], dict]:
    source_of = {t: s for s, t in run["topics"].items()}
    out = {}
    for q in run["quarantine"]:
        key = (source_of[q["topic"]], q["offset"])
        assert key not in out, f"record quarantined twice: {q}"
        assert q["partition"] == 0, q
        out[key] = q
    return out


# --------------------------------------------------------------------------------------------
# Checks


@pytest.mark.parametrize("source", SOURCES)
def test_metrics_match_goldens(run, source):
    exp: Expected = run["expected"]
    m = run["metrics"]
    want_q = Counter()
    got_q = _quarantine_by_origin(run)
    for rec in exp.records[source]:
        if rec.reason is not None:
            want_q[rec.reason] += 1
        elif rec.bad is not None:  # another vendor's body: whatever reason it got
            q = got_q.get((source, rec.offset))
            if q is not None:
                want_q[q["reason"]] += 1
    assert m.get("teamhealth_events_ingested_total", source=source) == exp.ingested[source]
    assert m.get("teamhealth_events_duplicate_total", source=source) == exp.duplicate[source]
    assert m.get("teamhealth_events_ignored_total", source=source) == exp.ignored[source] + sum(
        1 for r in exp.records[source]
        if r.bad and r.bad.startswith("vendor:") and (source, r.offset) not in got_q)
    # Every reason's series exists from the first scrape (zero where nothing was quarantined).
    got = m.by_label("teamhealth_events_quarantined_total", "reason", source=source)
    assert "invalid_json" in got and "no_source" in got, got
    assert {r: v for r, v in got.items() if v} == {r: float(n) for r, n in want_q.items()}
    # the persisted counters say the same
    c = run["counters"]
    assert c["ingested"].get(source, 0) == exp.ingested[source]
    assert c["duplicate"].get(source, 0) == exp.duplicate[source]
    assert {k.split("/", 1)[1]: v for k, v in c["quarantined"].items()
            if k.split("/", 1)[0] == source} == dict(want_q)


def test_log_sequence_and_totals(run):
    exp: Expected = run["expected"]
    m = run["metrics"]
    n = sum(exp.ingested.values())
    assert m.get("teamhealth_log_last_sequence") == n
    assert [e["seq"] for e in run["events"]] == list(range(1, n + 1))
    assert run["counters"]["last_sequence"] == n
    ids = [e["event"]["id"] for e in run["events"]]
    assert len(ids) == len(set(ids)), "an id appended twice"
    # the stored offsets: every record of partition 0 consumed
    stored = {o["topic"]: o["next_offset"] for o in run["offsets"] if o["partition"] == 0}
    assert stored == {run["topics"][s]: len(exp.records[s]) for s in SOURCES}
    # only the six vendor sources wrote events (no directory configured)
    assert {e["event"]["source"] for e in run["events"]} <= set(SOURCES)


@pytest.mark.parametrize("source", SOURCES)
def test_log_matches_goldens(run, source):
    exp: Expected = run["expected"]
    logged = _by_origin(run)
    quarantined = _quarantine_by_origin(run)
    stamps = run["timestamps"][source]
    people = Pseudonyms()
    want_ids_types, got_ids_types = set(), set()
    for rec in exp.records[source]:
        got = logged.get((source, rec.offset), [])
        got_ids_types |= {(e["id"], e["type"]) for e in got}
        where = f"{source} offset {rec.offset} ({rec.payload.rel if rec.payload else rec.bad})"
        if rec.payload is None or rec.payload.reject or rec.payload.ignored:
            assert not got, f"{where}: expected no event, got {got}"
            if rec.payload is not None and rec.payload.ignored:
                assert (source, rec.offset) not in quarantined, f"{where}: ignored, not quarantined"
            continue
        want_ids_types |= {(e["id"], e["type"]) for e in rec.new_events}
        assert [e["id"] for e in got] == [e["id"] for e in rec.new_events], where
        assert (source, rec.offset) not in quarantined, where
        for stored, want in zip(got, rec.new_events):
            want = json.loads(json.dumps(want))
            if want["occurred_at"] == GOLDEN_RECORD_TIME:
                want["occurred_at"] = rfc3339_ms(stamps[rec.offset])
            restored = people.restore(stored, want)
            for attr, value in LEARNED.get((source, rec.payload.rel, want["type"]), {}).items():
                assert want["attrs"].get(attr, "absent") is None, \
                    f"{where}: LEARNED {attr} is not null in the golden"
                want["attrs"][attr] = value
            for key in sorted(set(want) | set(restored)):
                assert restored.get(key) == want.get(key), \
                    f"{where} {want['id']}: field {key}: log {restored.get(key)!r}, " \
                    f"golden {want.get(key)!r}"
    assert got_ids_types == want_ids_types
    # every LEARNED entry names an event of this source's goldens
    golden_keys = {(source, r.payload.rel, e["type"]) for r in exp.records[source] if r.payload
                   for e in r.new_events}
    stale = {k for k in LEARNED if k[0] == source} - golden_keys
    assert not stale, f"LEARNED entries without a golden event: {sorted(stale)}"
    # every golden id of the source is in the log (the duplicates too, from their first record)
    all_golden = {(e["id"], e["type"]) for r in exp.records[source] if r.payload
                  for e in r.payload.events}
    assert all_golden == want_ids_types


@pytest.mark.parametrize("source", SOURCES)
def test_rejected_goldens_are_quarantined(run, source):
    exp: Expected = run["expected"]
    q = _quarantine_by_origin(run)
    for rec in exp.records[source]:
        if rec.payload is None or rec.payload.reject is None:
            continue
        got = q.get((source, rec.offset))
        assert got is not None, f"{source}/{rec.payload.rel}: not quarantined"
        assert got["reason"] == rec.payload.reject, (rec.payload.rel, got)
        assert got["source"] == source and got["topic"] == run["topics"][source]
    # nothing else of the goldens' payloads is in the quarantine
    expected_offsets = {r.offset for r in exp.records[source] if r.reason or r.bad}
    got_offsets = {off for (s, off) in q if s == source}
    assert got_offsets <= expected_offsets, sorted(got_offsets - expected_offsets)


def _bad_cases():
    cases = []
    for s in SOURCES:
        for kind, _, _ in bad_bodies(s):
            cases.append(pytest.param(s, kind, id=f"{s}-{kind.replace(':', '-')}"))
    return cases


@pytest.mark.parametrize("source,kind", _bad_cases())
def test_bad_body_is_quarantined_and_does_not_block(run, source, kind):
    exp: Expected = run["expected"]
    recs = exp.records[source]
    rec = next(r for r in recs if r.bad == kind)
    nxt = recs[rec.offset + 1]
    logged = _by_origin(run)
    # the next record (a valid payload with new events) was ingested whatever happened here
    assert nxt.payload is not None and nxt.new_events
    assert [e["id"] for e in logged.get((source, nxt.offset), [])] == \
        [e["id"] for e in nxt.new_events]
    assert not logged.get((source, rec.offset)), f"{kind} body appended events"
    q = _quarantine_by_origin(run).get((source, rec.offset))
    assert q is not None, f"{source}: {kind} body not quarantined (counted as ignored)"
    assert q["reason"] in REASONS and q["source"] == source
    if rec.reason is not None:
        assert q["reason"] == rec.reason, q
    assert q["content_hash"] and "detail" in q


def test_daemon_log_has_no_errors(run):
    bad = [ln for ln in run["log"].splitlines() if re.match(r"\S+ (error|critical) ", ln)]
    assert not bad, "\n".join(bad[:20])
