#!/usr/bin/env python3
"""Lays out events.jsonl of the worked-time-off golden scenario (see expected.txt for the people
and the hand-worked values). It only writes events, in the order given (NOT sorted: eve's two
versions are written newest first, to apply them out of order); it computes no metric.

Run from this folder: python3 make_events.py > events.jsonl
"""
import json

events = []
counter = [0]


def ev(source, type_, at, subject, attrs, actor=None):
    counter[0] += 1
    events.append({
        "id": f"{source}:t{counter[0]:02d}", "source": source, "type": type_,
        "occurred_at": at + ".000Z", "actor": actor, "subject": subject, "attrs": attrs})


def person(name, teams, tz="UTC"):
    ev("directory", "directory.person_upserted", "2026-01-01T00:00:00",
       {"kind": "person", "id": f"slack:U{name}"},
       {"teams": list(teams), "timezone": tz,
        "working_days": ["Mon", "Tue", "Wed", "Thu", "Fri"], "working_hours": "08:00-18:00",
        "sleep_hours": "22:00-08:00", "aliases": []})


def time_off(subject, at, who, start, end, cancelled=None):
    attrs = {"person": f"slack:U{who}", "start": start + "Z", "end": end + "Z"}
    if cancelled is not None:
        attrs["cancelled"] = cancelled
    ev("canonical", "person.time_off", at, {"kind": "time_off", "id": subject}, attrs)


def activity(who, at, item="T-1"):
    ev("jira", "work_item.commented", at,
       {"kind": "work_item", "id": item, "key": item, "project": "OPS"}, {}, f"slack:U{who}")


def message(who, at):
    ev("slack", "chat.message", at, {"kind": "channel", "id": "C1"},
       {"bot": False, "channel_type": "channel", "edited": False, "mentions": [],
        "recipients": [], "thread": False}, f"slack:U{who}")


def page(who, incident, at):
    ev("pagerduty", "incident.triggered", at,
       {"kind": "incident", "id": incident, "service": "SVC"},
       {"assignees": [f"slack:U{who}"], "urgency": "high", "priority": None,
        "status": "triggered"})


for name in ["TOM"]:
    person(name, ["core"], tz="Europe/Berlin")
for name in ["ANN", "BOB", "CAT", "DAN"]:
    person(name, ["core"])
for name in ["EVE", "FAY", "GUS", "HAL"]:
    person(name, ["ops"])

# eve: the newer version first, then the older one (out of order), then her work.
time_off("HR-EVE", "2026-03-12T09:00:00", "EVE", "2026-03-20T00:00:00", "2026-03-22T00:00:00")
time_off("HR-EVE", "2026-03-05T09:00:00", "EVE", "2026-03-09T00:00:00", "2026-03-14T00:00:00")
activity("EVE", "2026-03-13T10:00:00")
activity("EVE", "2026-03-21T10:00:00")

# ann: a time off, worked, cancelled, worked again.
time_off("HR-ANN", "2026-03-10T09:00:00", "ANN", "2026-03-16T00:00:00", "2026-03-21T00:00:00")
activity("ANN", "2026-03-17T10:00:00")
activity("DAN", "2026-03-17T10:30:00")  # someone else, with no time off
time_off("HR-ANN", "2026-03-18T09:00:00", "ANN", "2026-03-16T00:00:00", "2026-03-21T00:00:00",
         cancelled=True)
activity("ANN", "2026-03-19T10:00:00")

# hal: work, then a time off over it recorded after the fact.
activity("HAL", "2026-03-15T10:00:00")
time_off("HR-HAL", "2026-03-16T09:00:00", "HAL", "2026-03-14T00:00:00", "2026-03-16T00:00:00")

# bob: a time off extended while he is off; he works in the extension.
time_off("HR-BOB", "2026-03-01T09:00:00", "BOB", "2026-03-23T00:00:00", "2026-03-25T00:00:00")
activity("BOB", "2026-03-22T10:00:00")
time_off("HR-BOB", "2026-03-24T09:00:00", "BOB", "2026-03-23T00:00:00", "2026-03-27T00:00:00")
activity("BOB", "2026-03-26T10:00:00")

# fay's time off handed to gus (same subject, later version, another person).
time_off("HR-SWAP", "2026-03-20T09:00:00", "FAY", "2026-03-24T00:00:00", "2026-03-26T00:00:00")
time_off("HR-SWAP", "2026-03-23T12:00:00", "GUS", "2026-03-24T00:00:00", "2026-03-26T00:00:00")
activity("FAY", "2026-03-24T10:00:00")
activity("GUS", "2026-03-25T10:00:00")

# tom (Europe/Berlin): Fri Mar 27 00:00 CET (Mar 26 23:00Z) to Wed Apr 01 00:00 CEST
# (Mar 31 22:00Z), across the DST change of Sun Mar 29 (01:00Z).
time_off("HR-TOM", "2026-03-20T09:00:00", "TOM", "2026-03-26T23:00:00", "2026-03-31T22:00:00")
activity("TOM", "2026-03-26T22:30:00")
activity("TOM", "2026-03-28T10:00:00")
activity("TOM", "2026-03-28T23:30:00")
activity("TOM", "2026-03-29T10:00:00")
activity("TOM", "2026-03-29T22:30:00")
activity("TOM", "2026-03-31T22:30:00")

# cat: a chat message and a page during her time off; dan paged too.
time_off("HR-CAT", "2026-03-25T09:00:00", "CAT", "2026-03-30T00:00:00", "2026-04-03T00:00:00")
message("CAT", "2026-03-30T10:00:00")
page("CAT", "P1", "2026-03-31T03:00:00")
page("DAN", "P2", "2026-03-31T04:00:00")

for e in events:
    print(json.dumps(e, separators=(",", ":")))
