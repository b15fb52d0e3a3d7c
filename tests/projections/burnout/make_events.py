#!/usr/bin/env python3
"""Lays out events.jsonl of the burnout golden scenario (see expected.txt for the people and
the hand-worked values). It only writes events, in time order; it computes no metric.

Run from this folder: python3 make_events.py > events.jsonl
"""
import json

events = []
counter = [0]


def ev(source, type_, at, subject, attrs, actor=None):
    counter[0] += 1
    events.append({
        "id": f"{source}:b{counter[0]}", "source": source, "type": type_,
        "occurred_at": at + ".000Z" if len(at) == 19 else at, "actor": actor,
        "subject": subject, "attrs": attrs})


def ts(day, hm, sec=0):
    """'2026-MM-DD' + 'HH:MM' -> RFC 3339 without milliseconds."""
    return f"{day}T{hm}:{sec:02d}"


WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri"]
ALL_DAYS = WEEKDAYS + ["Sat", "Sun"]


def person(name, teams, tz="UTC", days=WEEKDAYS, at="2026-01-01T00:00:00", aliases=(),
           actor=None):
    ev("directory", "directory.person_upserted", at, {"kind": "person", "id": f"slack:U{name}"},
       {"teams": list(teams), "timezone": tz, "working_days": list(days),
        "working_hours": "08:00-18:00", "sleep_hours": "22:00-08:00",
        "aliases": list(aliases)}, actor)


def activity(who, at, item="C-1"):
    ev("jira", "work_item.commented", at,
       {"kind": "work_item", "id": item, "key": item, "project": "OPS"}, {}, who)


def message(who, at, bot=False):
    ev("slack", "chat.message", at, {"kind": "channel", "id": "C1"},
       {"bot": bot, "channel_type": "channel", "edited": False, "mentions": [],
        "recipients": [], "thread": False}, who)


def reaction(who, at):
    ev("slack", "chat.reaction", at, {"kind": "channel", "id": "C1"}, {}, who)


def page(who, incident, at):
    ev("pagerduty", "incident.triggered", at,
       {"kind": "incident", "id": incident, "service": "SVC"},
       {"assignees": [who], "urgency": "high", "priority": None, "status": "triggered"})


def shift(who, start, end, level=1):
    # Each person on their own schedule: shifts of one slot (schedule, level) supersede each
    # other (docs/design.md section 7.2), and oli's and ola's shares are independent here.
    ev("canonical", "oncall.shift", start, {"kind": "schedule", "id": "SCHED-" + who[7:]},
       {"person": who, "level": level, "start": start + ".000Z", "end": end + ".000Z"})


def item(type_, at, key, attrs):
    ev("jira", f"work_item.{type_}", at,
       {"kind": "work_item", "id": key, "key": key, "project": "OPS"}, attrs)


def created(at, key, category, assignee):
    status = {"todo": "To Do", "in_progress": "In Progress", "done": "Done"}[category]
    item("created", at, key, {"status": status, "status_category": category,
                              "priority": "Medium", "assignee": assignee,
                              "item_type": "task"})


def moved(at, key, from_cat, to_cat, to_name=None):
    names = {"todo": "To Do", "in_progress": "In Progress", "done": "Done", None: "In Review"}
    item("status_changed", at, key, {"from": names[from_cat], "to": to_name or names[to_cat],
                                     "from_category": from_cat, "to_category": to_cat})


def assigned(at, key, frm, to):
    item("assigned", at, key, {"from": frm, "to": to})


# Directory.
person("SAM", ["alpha", "beta"])
person("SUE", ["alpha"])
person("AVA", ["alpha"])
person("ABE", ["alpha"])
person("ANN", ["alpha"])
person("WES", ["alpha"])
person("WYN", ["alpha"], tz="Asia/Tokyo")
person("NIA", ["beta"], days=ALL_DAYS)
person("NED", ["beta"], tz="America/Los_Angeles", days=ALL_DAYS)
for n in ["OLI", "OLA", "WIL", "WIZ", "AMY", "OWL"]:
    person(n, ["beta"])
person("ALI", ["beta"], tz="America/New_York")
person("LEX", ["gamma"])
person("ANN", ["alpha"], at="2026-03-27T09:00:00", actor="slack:UANN")
person("AVA", ["alpha"], at="2026-03-31T00:00:00", aliases=["github:ava-gh"])
person("LEX", ["beta"], at="2026-03-31T00:00:00")

# Sleep interruptions.
page("slack:USAM", "I1", "2026-03-20T03:00:00")
page("slack:USAM", "I2", "2026-03-30T03:00:00")
page("slack:USAM", "I3", "2026-03-31T02:00:00")
page("slack:USAM", "I4", "2026-03-31T10:00:00")
page("slack:USUE", "I5", "2026-03-25T03:00:00")
page("slack:USUE", "I6", "2026-03-31T23:00:00")
page("slack:USUE", "I7", "2026-03-31T23:00:30")
page("slack:ULEX", "I8", "2026-03-28T03:00:00")
page("slack:ULEX", "I9", "2026-03-29T03:00:00")
page("pagerduty:PSTRANGER", "I10", "2026-03-30T03:00:00")
page("pagerduty:PSTRANGER", "I11", "2026-03-31T03:00:00")

# After-hours share.
for m in range(15):
    activity("slack:UAVA", ts("2026-03-30", f"10:{m:02d}"))
for m in range(4):
    activity("github:ava-gh", ts("2026-03-30", f"19:{m:02d}"))
activity("github:ava-gh", ts("2026-03-31", "19:00"))
for m in range(2):
    activity("slack:UABE", ts("2026-03-18", f"19:{m:02d}"))
for m in range(16):
    activity("slack:UABE", ts("2026-03-31", f"10:{m:02d}"))
for m in range(4):
    activity("slack:UABE", ts("2026-03-31", f"20:{m:02d}"))
for m in range(13):
    activity("slack:UANN", ts("2026-03-26", f"10:{m:02d}"))
for m in range(6):
    activity("slack:UANN", ts("2026-03-26", f"19:{m:02d}"))

# Weekend days.
for d in ["2026-03-07", "2026-03-15", "2026-03-28"]:
    activity("slack:UWES", ts(d, "10:00"))
for at in ["2026-03-01T01:00:00", "2026-03-21T01:00:00", "2026-03-21T02:00:00",
           "2026-03-22T20:00:00", "2026-03-27T20:00:00", "2026-03-29T20:00:00"]:
    activity("slack:UWYN", at)

# No-rest streak.
activity("slack:UNIA", "2026-03-18T10:00:00")
for d in range(20, 32):
    activity("slack:UNIA", f"2026-03-{d:02d}T10:00:00")
activity("slack:UNED", "2026-03-21T03:00:00")
for d in range(22, 32):
    activity("slack:UNED", f"2026-03-{d:02d}T17:00:00")
activity("slack:UNED", "2026-04-01T11:00:00")

# On-call share.
shift("slack:UOLI", "2026-03-03T12:00:00", "2026-03-06T12:00:00")
shift("slack:UOLI", "2026-03-10T00:00:00", "2026-03-11T00:00:00")
shift("slack:UOLI", "2026-03-20T00:00:00", "2026-03-23T00:00:00")
shift("slack:UOLI", "2026-03-21T00:00:00", "2026-03-22T00:00:00", level=2)
shift("slack:UOLI", "2026-03-31T12:00:00", "2026-04-03T12:00:00")
shift("slack:UOLA", "2026-02-20T00:00:00", "2026-03-01T00:00:00")
shift("slack:UOLA", "2026-03-10T00:00:00", "2026-03-18T00:00:00")
shift("slack:UOLA", "2026-03-12T00:00:00", "2026-03-13T00:00:00", level=2)

# WIP over limit.
WIL, WIZ = "slack:UWIL", "slack:UWIZ"
for i in range(1, 6):
    created(f"2026-03-30T09:0{i}:00", f"W{i}", "in_progress", WIL)
created("2026-03-30T09:10:00", "W6", "in_progress", WIL)
assigned("2026-03-30T09:11:00", "W6", WIL, None)
created("2026-03-30T09:12:00", "W7", "in_progress", WIL)
item("deleted", "2026-03-30T09:13:00", "W7", {})
moved("2026-03-31T09:00:00", "W5", "in_progress", "done")
moved("2026-03-31T09:30:00", "W4", "in_progress", None)
created("2026-03-31T09:00:00", "W8", "in_progress", WIZ)
created("2026-03-31T09:01:00", "W9", "todo", WIZ)
moved("2026-03-31T09:02:00", "W9", "todo", "in_progress")
created("2026-03-31T09:03:00", "W10", "in_progress", None)
assigned("2026-03-31T09:04:00", "W10", None, WIZ)
created("2026-03-31T09:05:00", "W11", "todo", WIZ)
created("2026-03-31T09:06:00", "W12", "in_progress", WIZ)
moved("2026-03-31T09:07:00", "W12", "in_progress", None)
moved("2026-03-31T09:08:00", "W12", None, "done")

# Always on.
# amy: a ticket in progress every day of the window and an evening reply every Tuesday.
created("2026-03-01T10:00:00", "A1", "in_progress", "slack:UAMY")
for d in ["2026-03-10", "2026-03-17", "2026-03-24", "2026-03-31"]:
    message("slack:UAMY", ts(d, "19:30"))
reaction("slack:UAMY", "2026-03-11T21:00:00")
# ali (America/New_York: EST = UTC-5 until Mar 08, EDT = UTC-4 after): evenings on 12 local
# days, the first with two activities; one before the window by local day (inside by UTC),
# one in working hours, one reaction.
message("slack:UALI", "2026-03-05T02:00:00")  # Wed Mar 04 21:00 EST
for d in [10, 11, 12, 13, 17, 18, 19, 20, 24, 25, 26, 27]:  # 20:00 EDT on Mar d-1
    message("slack:UALI", f"2026-03-{d:02d}T00:00:00")
activity("slack:UALI", "2026-03-10T03:30:00")  # Mon Mar 09 23:30 EDT, sleep, same day
reaction("slack:UALI", "2026-03-28T01:00:00")  # Fri Mar 27 21:00 EDT
activity("slack:UALI", "2026-03-30T21:00:00")  # Mon Mar 30 17:00 EDT, working hours
# owl (UTC): evenings on 11 days; a bot message and a reaction on two more evenings.
for d in [9, 10, 11, 12, 13, 16, 17, 18, 19, 20, 23]:
    activity("slack:UOWL", f"2026-03-{d:02d}T19:00:00")
message("slack:UOWL", "2026-03-24T19:00:00", bot=True)
reaction("slack:UOWL", "2026-03-25T19:00:00")

# Log order = time order (stable, so same-instant events keep the order written above).
events.sort(key=lambda e: e["occurred_at"])
for e in events:
    print(json.dumps(e, separators=(",", ":")))
