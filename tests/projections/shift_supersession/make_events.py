#!/usr/bin/env python3
"""Lays out events.jsonl of the shift supersession golden scenario (the hand-worked values are
in expected_*.txt). It only writes events, in time order; it computes no metric.

Run from this folder: python3 make_events.py > events.jsonl
"""
import json

events = []
counter = [0]


def ev(source, type_, at, subject, attrs, actor=None):
    counter[0] += 1
    events.append({
        "id": f"{source}:v{counter[0]}", "source": source, "type": type_,
        "occurred_at": at + ".000Z", "actor": actor, "subject": subject, "attrs": attrs})


def person(name, teams):
    ev("directory", "directory.person_upserted", "2026-01-01T00:00:00",
       {"kind": "person", "id": f"slack:U{name}"},
       {"teams": list(teams), "timezone": "UTC",
        "working_days": ["Mon", "Tue", "Wed", "Thu", "Fri"], "working_hours": "08:00-18:00",
        "sleep_hours": "22:00-08:00", "aliases": []})


def shift(published, who, schedule, start, end, level=1):
    """A shift as a schedule poller reports it: `published` is when it was (re)polled."""
    ev("canonical", "oncall.shift", published, {"kind": "schedule", "id": schedule},
       {"person": f"slack:U{who}", "level": level, "start": start + ".000Z",
        "end": end + ".000Z"})


def dm(at, to):
    """zed (not in the directory: shares no team) sends `to` a direct message."""
    ev("slack", "chat.message", at, {"kind": "channel", "id": "D" + to},
       {"bot": False, "channel_type": "im", "edited": False, "mentions": [],
        "recipients": [f"slack:U{to}"], "thread": False}, "slack:UZED")


person("ALICE", ["payments"])
person("BOB", ["payments"])
person("CAROL", ["payments"])
person("DAVE", ["payments"])
person("SAM", ["search"])

# 1. Override within the team, Mon 2026-03-02 (slot PAYSCHED level 1).
shift("2026-03-01T12:00:00", "ALICE", "PAYSCHED", "2026-03-02T09:00:00", "2026-03-02T21:00:00")
shift("2026-03-01T18:00:00", "BOB", "PAYSCHED", "2026-03-02T13:00:00", "2026-03-02T17:00:00")
# The poller reports alice's remaining morning again (a new id): nothing changes.
shift("2026-03-01T20:00:00", "ALICE", "PAYSCHED", "2026-03-02T09:00:00", "2026-03-02T13:00:00")
# dave is the secondary for an hour (level 2: a slot of its own), so at M3 someone besides bob
# is on call and only bob being on call himself keeps M3 from being a bypass.
shift("2026-03-01T21:00:00", "DAVE", "PAYSCHED", "2026-03-02T14:00:00", "2026-03-02T15:00:00",
      level=2)
dm("2026-03-02T10:00:00", "CAROL")   # M5
dm("2026-03-02T13:30:00", "ALICE")   # M1
dm("2026-03-02T14:00:00", "ALICE")   # M2
dm("2026-03-02T14:30:00", "BOB")     # M3
dm("2026-03-02T17:00:00", "BOB")     # M6
dm("2026-03-02T19:00:00", "CAROL")   # M4

# 2. Handover to another team's person, Tue 2026-03-03 (same slot), then part of it back.
shift("2026-03-02T12:00:00", "ALICE", "PAYSCHED", "2026-03-03T09:00:00", "2026-03-03T21:00:00")
shift("2026-03-02T18:00:00", "SAM", "PAYSCHED", "2026-03-03T13:00:00", "2026-03-03T17:00:00")
shift("2026-03-02T20:00:00", "DAVE", "PAYSCHED", "2026-03-03T15:00:00", "2026-03-03T17:00:00")
dm("2026-03-03T14:00:00", "CAROL")   # T1
dm("2026-03-03T16:00:00", "BOB")     # T2

# 3. A shortened shift: carol's eight days (slot PAYWEEK level 1), the last two handed to bob.
shift("2026-03-08T12:00:00", "CAROL", "PAYWEEK", "2026-03-09T00:00:00", "2026-03-17T00:00:00")
# alice is the secondary for two days: level 2 is a slot of its own, it supersedes nothing.
shift("2026-03-08T14:00:00", "ALICE", "PAYWEEK", "2026-03-09T00:00:00", "2026-03-11T00:00:00",
      level=2)
shift("2026-03-12T12:00:00", "BOB", "PAYWEEK", "2026-03-15T00:00:00", "2026-03-17T00:00:00")
dm("2026-03-16T10:00:00", "CAROL")   # W1

# Log order = time order (stable, so same-instant events keep the order written above).
events.sort(key=lambda e: e["occurred_at"])
for e in events:
    print(json.dumps(e, separators=(",", ":")))
