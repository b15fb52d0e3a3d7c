"""Single records at the edges of the canonical format, all consumed by one daemon run.

Each case is one Kafka record with the outcome it must have: appended to the log (and how it
must read back) or quarantined (and why). The last cases reproduced daemon bugs found while
writing this suite; they stay as regression tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import (SOURCE, Pseudonyms, DaemonFactory, canonical_json, inspect, make_event, unique_topic,
                      write_config)



def _ev(n: int, **changes) -> dict:
    e = make_event(f"{SOURCE}:edge-{n}", n)
    for k, v in changes.items():
        if v is _DROP:
            del e[k]
        else:
            e[k] = v
    return e


_DROP = object()


def _with_raw(ev: dict, raw_tail: str, inside_subject: bool = False) -> str:
    """The event's JSON with `raw_tail` (verbatim text, possibly not JSON) spliced in as an
    extra member of the top-level object or of `subject`."""
    text = canonical_json(ev)
    if inside_subject:
        marker = '"subject":{'
        i = text.index(marker) + len(marker)
        return text[:i] + raw_tail + "," + text[i:]
    return text[:-1] + "," + raw_tail + "}"


@dataclass
class Case:
    name: str
    body: str | None  # None: a NULL value (tombstone)
    reason: str | None = None  # quarantine reason; None means the event must be appended
    logged: dict | None = None  # how the appended event must read back (default: as produced)


def _cases() -> list[Case]:
    cases = []
    ev = _ev(1, occurred_at="2026-03-02T23:14:05.120456+01:00")
    cases.append(Case("utc_offset_and_microseconds", canonical_json(ev),
                      logged={**ev, "occurred_at": "2026-03-02T22:14:05.120Z"}))
    ev = _ev(2, occurred_at="2026-03-02T22:14:05Z")
    cases.append(Case("no_fraction", canonical_json(ev),
                      logged={**ev, "occurred_at": "2026-03-02T22:14:05.000Z"}))
    ev = _ev(3)
    ev["subject"] = {"kind": "pull_request", "id": "42", "key": "ACME-1", "project": "acme",
                     "service": "svc", "title": 'tab\\t "quoted" \\ back\\slash \u00fcnic\u00f8de \u2713'}
    ev["attrs"] = {"bot": False, "mentions": ["slack:U1", "slack:U\u00e9"], "count": -7,
                   "note": None, "ratio": 0.5}
    cases.append(Case("strings_and_attr_kinds", canonical_json(ev, ascii_only=False)))
    ev = _ev(4)
    cases.append(Case("unknown_members_are_tolerated",
                      _with_raw(ev, '"future":{"deep":[1,2.5,{"x":null}],"y":true}'),
                      logged=ev))
    ev = _ev(5, actor=_DROP)
    cases.append(Case("actor_absent_means_null", canonical_json(ev), logged={**ev, "actor": None}))

    cases.append(Case("tombstone", None, "empty"))
    cases.append(Case("whitespace_only", "   ", "invalid_json"))
    cases.append(Case("json_null", "null", "invalid_json"))
    cases.append(Case("json_array", canonical_json([_ev(6)]), "invalid_json"))
    cases.append(Case("missing_comma", '{"id":"canonical:edge-7" "source":"canonical"}',
                      "invalid_json"))
    cases.append(Case("empty_object", "{}", "missing_field"))
    cases.append(Case("empty_dedup_id", canonical_json(_ev(8, id=f"{SOURCE}:")), "invalid_field"))
    ev = _ev(9)
    del ev["subject"]["id"]
    cases.append(Case("subject_without_id", canonical_json(ev), "missing_field"))
    cases.append(Case("type_null", canonical_json(_ev(10, type=None)), "invalid_field"))
    cases.append(Case("nested_attr_object",
                      canonical_json(_ev(11, attrs={"o": {"a": 1}})), "invalid_field"))
    cases.append(Case("repeated_attr", _with_raw(_ev(12, attrs=_DROP), '"attrs":{"a":1,"a":2}'),
                      "invalid_field"))
    cases.append(Case("newer_schema_version", _with_raw(_ev(13), '"schema_version":2'),
                      "invalid_field"))
    cases.append(Case("number_as_time", canonical_json(_ev(14, occurred_at=1772489645120)),
                      "invalid_field"))

    # --- once daemon bugs, fixed: keep them as regressions
    cases.append(Case("bad_literal_in_unknown_member", _with_raw(_ev(20), '"extra":tru'),
                      "invalid_json"))
    cases.append(Case("bad_array_in_unknown_subject_member",
                      _with_raw(_ev(21), '"zzz":[1,}', inside_subject=True), "invalid_json"))
    cases.append(Case("leading_zero_number_in_unknown_member", _with_raw(_ev(22), '"extra":01'),
                      "invalid_json"))
    cases.append(Case("unquoted_string_value", '{"id":canonical:edge-23}', "invalid_json"))
    cases.append(Case("repeated_id_member",
                      _with_raw(_ev(24), f'"id":"{SOURCE}:edge-24-other"'), "invalid_field"))
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def edge_run(broker, tmp_path_factory):
    """Produces every case (in order, one partition) and runs the daemon over them once.
    Returns {case name: ("logged", event) | ("quarantined", quarantine record)}."""
    work: Path = tmp_path_factory.mktemp("edge")
    topic = unique_topic("edge")
    # NULL values need kcat -Z, which would turn every empty value into NULL: tombstones go to
    # partition 1, everything else to partition 0.
    where: dict[tuple[int, int], str] = {}
    by_partition: dict[int, list[Case]] = {0: [], 1: []}
    for c in CASES:
        p = 1 if c.body is None else 0
        where[(p, len(by_partition[p]))] = c.name
        by_partition[p].append(c)
    broker.produce(topic, 0, [c.body for c in by_partition[0]], work)
    broker.produce(topic, 1, ["" for _ in by_partition[1]], work, empty_as_null=True)

    state = work / "state"
    cfg = write_config(work / "teamhealth.toml", state_dir=state, brokers=broker.bootstrap,
                       topics=[topic])
    factory = DaemonFactory(work)
    try:
        d = factory.start(cfg)
        d.wait_port()
        d.wait_consumed(len(CASES), timeout=60)
        assert d.terminate() == 0, d.log_tail()
    finally:
        factory.cleanup()

    outcome = {}
    for e in inspect(state, "events", "--with-origin"):
        name = where[(e["origin"]["partition"], e["origin"]["offset"])]
        assert name not in outcome
        outcome[name] = ("logged", e["event"])
    for q in inspect(state, "quarantine"):
        name = where[(q["partition"], q["offset"])]
        assert name not in outcome
        outcome[name] = ("quarantined", q)
    assert set(outcome) == {c.name for c in CASES}, "every record is appended or quarantined"
    return outcome


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=c.name,
) for c in CASES])
def test_record(case: Case, edge_run):
    kind, what = edge_run[case.name]
    if case.reason is None:
        assert kind == "logged", f"quarantined instead of appended: {what}"
        want = case.logged if case.logged is not None else json.loads(case.body)
        assert Pseudonyms().restore(what, want) == want
    else:
        assert kind == "quarantined", f"appended instead of quarantined ({case.reason}): {what}"
        assert what["reason"] == case.reason, what
        assert what["source"] == SOURCE
