"""Command-line hygiene of every subcommand, without a broker.

For each subcommand, a table of bad argument vectors — not a number, negative, too large,
trailing junk, an unknown option, a missing or empty value, a value given to a flag, an option
given twice, a stray positional argument, a bad time, a bad duration, a bad listen address —
each of which must exit 2 with a message on stderr that names the bad argument, print nothing
on stdout, and never abort (no uncaught exception, no core). Every argument vector fails in
argument parsing, before anything reads a file, opens a state directory or connects: the paths
in it need not exist. `--help` on every subcommand prints its usage on stdout and exits 0.
"""

from __future__ import annotations

import pytest

from conftest import REPO, run_teamhealth

CONFIG = "/nonexistent/teamhealth.toml"
STATE = "/nonexistent/state"
FROM, TO = "2026-03-01T00:00:00Z", "2026-03-08T00:00:00Z"
SCENARIO = REPO / "tests" / "projections" / "oncall_load"
PAYLOAD = REPO / "tests" / "fixtures" / "payloads" / "pagerduty" / "v3" / "incident.triggered.json"

REPORT = ["report", "--config", CONFIG, "--events", "e.jsonl", "--team", "payments"]
REPORT_WINDOW = ["--from", FROM, "--to", TO]
# `report --set` values are checked against the definitions table of a loaded config.
REPORT_REAL = ["report", "--config", str(SCENARIO / "config.toml"), "--events",
               str(SCENARIO / "events.jsonl"), "--team", "payments", *REPORT_WINDOW]
BACKFILL = ["backfill", "--config", CONFIG, "--log", STATE]
INSPECT = ["inspect", "events", "--state-dir", STATE]
ERASE = ["erase", "--config", CONFIG]
GENERATE = ["generate", "--out", "/nonexistent/out"]
IMPORT = ["import", "--config", CONFIG]

# (argument vector, text stderr must contain: the bad argument)
EXPLAIN = ["explain", "--config", str(SCENARIO / "config.toml"), "--events",
           str(SCENARIO / "events.jsonl"), "--team", "payments"]
EXPLAIN_WINDOW = ["--from", "2026-03-01T00:00:00Z", "--to", "2026-04-01T00:00:00Z"]
METRIC = "teamhealth_oncall_interruptions_total"

BAD: dict[str, list[tuple[list[str], str]]] = {
    "serve": [
        (["serve"], "--config"),
        (["serve", "--config"], "--config"),
        (["serve", "--config="], "--config"),
        (["serve", "--config", CONFIG, "--port", "9810"], "--port"),
        (["serve", "--config", CONFIG, "stray"], "stray"),
        (["serve", "--config", CONFIG, "--config", CONFIG], "--config"),
        (["serve", "-c", CONFIG], "-c"),
        (["serve", "--config", "--listen"], "--config"),
    ],
    "check-config": [
        (["check-config"], "FILE"),
        (["check-config", CONFIG, "second.toml"], "second.toml"),
        (["check-config", CONFIG, "--config", CONFIG], "--config"),
        (["check-config", "--strict", CONFIG], "--strict"),
        (["check-config", "--config"], "--config"),
    ],
    "inspect": [
        ([*INSPECT, "--limit", "abc"], "--limit abc"),
        ([*INSPECT, "--limit", "-1"], "--limit -1"),
        ([*INSPECT, "--limit", "99999999999999999999999"], "--limit 99999999999999999999999"),
        ([*INSPECT, "--limit", "18446744073709551615"], "--limit 18446744073709551615"),
        ([*INSPECT, "--limit", "10x"], "--limit 10x"),
        ([*INSPECT, "--limit", "+5"], "--limit +5"),
        ([*INSPECT, "--limit", " 5"], "--limit  5"),
        ([*INSPECT, "--limit="], "--limit"),
        ([*INSPECT, "--limit"], "--limit"),
        ([*INSPECT, "--from", "abc"], "--from abc"),
        ([*INSPECT, "--from", "1.5"], "--from 1.5"),
        ([*INSPECT, "--from", "-3"], "--from -3"),
        ([*INSPECT, "--type", "x"], "--type"),
        ([*INSPECT, "--with-origin=yes"], "--with-origin"),
        ([*INSPECT, "--limit", "1", "--limit", "2"], "--limit"),
        ([*INSPECT, "extra"], "extra"),
        (["inspect", "events", "--state-dir"], "--state-dir"),
        (["inspect", "events", "--state-dir", "--limit", "5"], "--state-dir"),
        (["inspect", "events"], "--state-dir"),
        (["inspect", "--state-dir", STATE], "WHAT"),
        (["inspect", "bogus", "--state-dir", STATE], "bogus"),
        (["inspect", "offsets", "--state-dir", STATE, "--limit", "5"], "--limit"),
        (["inspect", "quarantine", "--state-dir", STATE, "--with-origin"], "--with-origin"),
        (["inspect", "counters", "--state-dir", STATE, "--from", "2"], "--from"),
    ],
    "normalize": [
        (["normalize", "--source", "jira"], "FILE"),
        (["normalize", str(PAYLOAD)], "--source"),
        (["normalize", "--source", "nosuchsource", str(PAYLOAD)], "nosuchsource"),
        (["normalize", "--source", "jira", "--header", "novalue", str(PAYLOAD)], "novalue"),
        (["normalize", "--source", "jira", "--header", "=v", str(PAYLOAD)], "=v"),
        (["normalize", "--source", "jira", str(PAYLOAD), "--header"], "--header"),
        (["normalize", "--source", "jira", "--recrods", str(PAYLOAD)], "--recrods"),
        (["normalize", "--source", "jira", "--records=yes", str(PAYLOAD)], "--records"),
        (["normalize", "--source", "jira", "--source", "slack", str(PAYLOAD)], "--source"),
        (["normalize", "--source", "jira", "-x", str(PAYLOAD)], "-x"),
    ],
    "report": [
        ([*REPORT, "--from", FROM], "--to"),
        ([*REPORT, *REPORT_WINDOW, "--team"], "--team"),
        (["report", "--log", STATE, "--events", "e.jsonl", *REPORT_WINDOW], "--log"),
        (["report", "--config", CONFIG, "--events", "a.jsonl", "", *REPORT_WINDOW], "--events"),
        (["report", "--config", CONFIG, "--events", "--team", "t", *REPORT_WINDOW], "--events"),
        (["report", "--events", "e.jsonl", "--team", "t", *REPORT_WINDOW], "--config"),
        ([*REPORT, "--from", "yesterday", "--to", TO], "--from yesterday"),
        ([*REPORT, "--from", FROM, "--to", "2026-02-30T00:00:00Z"], "--to 2026-02-30T00:00:00Z"),
        ([*REPORT, "--from", TO, "--to", FROM], "--to"),
        ([*REPORT, *REPORT_WINDOW, "--format", "xml"], "--format xml"),
        ([*REPORT, *REPORT_WINDOW, "--log", STATE], "--log"),
        (["report", "--config", CONFIG, "--team", "t", *REPORT_WINDOW], "--events"),
        ([*REPORT, *REPORT_WINDOW, "--set", "novalue"], "--set novalue"),
        ([*REPORT, *REPORT_WINDOW, "--set"], "--set"),
        ([*REPORT, *REPORT_WINDOW, "--bogus", "1"], "--bogus"),
        ([*REPORT, *REPORT_WINDOW, "stray"], "stray"),
        ([*REPORT, *REPORT_WINDOW, "--team", "other"], "--team"),
        ([*REPORT_REAL, "--set", "switch_cost_minutes=abc"], "switch_cost_minutes=abc"),
        ([*REPORT_REAL, "--set", "switch_cost_minutes=-5"], "switch_cost_minutes"),
        ([*REPORT_REAL, "--set", "nosuchdefinition=1"], "nosuchdefinition"),
        ([*REPORT_REAL, "--set", "sleep=late"], "sleep=late"),
    ],
    "backfill": [
        ([*BACKFILL, *REPORT_WINDOW, "--step", "5x"], "--step 5x"),
        ([*BACKFILL, *REPORT_WINDOW, "--step", "0s"], "--step 0s"),
        ([*BACKFILL, *REPORT_WINDOW, "--step", "-1h"], "--step -1h"),
        ([*BACKFILL, *REPORT_WINDOW, "--step", "99999999999d"], "--step 99999999999d"),
        ([*BACKFILL, *REPORT_WINDOW, "--step", "1h", "--step", "2h"], "--step"),
        ([*BACKFILL, "--from", "yesterday", "--to", TO, "--step", "1h"], "--from yesterday"),
        ([*BACKFILL, "--from", TO, "--to", FROM, "--step", "1h"], "--to"),
        ([*BACKFILL, "--from", "2016-03-01T00:00:00Z", "--to", TO, "--step", "1m"], "--step"),
        (["backfill", "--config", CONFIG, *REPORT_WINDOW, "--step", "1h"], "--log"),
        ([*BACKFILL, *REPORT_WINDOW, "--step", "1h", "--out"], "--out"),
        ([*BACKFILL, *REPORT_WINDOW, "--step", "1h", "--stpe", "1h"], "--stpe"),
        ([*BACKFILL, *REPORT_WINDOW, "--step", "1h", "stray"], "stray"),
    ],
    "teams": [
        (["teams"], "--log"),
        (["teams", "--log"], "--log"),
        (["teams", "--log="], "--log"),
        (["teams", "--log", STATE, "--log", STATE], "--log"),
        (["teams", "--log", STATE, "--format", "csv"], "--format csv"),
        (["teams", "--log", STATE, "--format", "xml"], "--format xml"),
        (["teams", "--log", STATE, "--team", "payments"], "--team"),
        (["teams", "--log", STATE, "--config"], "--config"),
        (["teams", "--log", STATE, "stray"], "stray"),
        (["teams", "--state-dir", STATE], "--state-dir"),
    ],
    "gateway": [
        (["gateway"], "--config"),
        (["gateway", "--config"], "--config"),
        (["gateway", "--config="], "--config"),
        (["gateway", "--config", CONFIG, "--listen", "127.0.0.1:1"], "--listen"),
        (["gateway", "--config", CONFIG, "stray"], "stray"),
        (["gateway", "--config", CONFIG, "--config", CONFIG], "--config"),
        # a config that cannot be read is a usage error of the gateway too, naming the file
        (["gateway", "--config", CONFIG], CONFIG),
    ],
    "metrics": [
        (["metrics", "stray"], "stray"),
        (["metrics", "--all"], "--all"),
    ],
    "erase": [
        (ERASE, "HANDLE"),
        (["erase", "alice"], "--config"),
        ([*ERASE, "alice", "bob"], "bob"),
        ([*ERASE, "--force", "alice"], "--force"),
        (["erase", "alice", "--config"], "--config"),
    ],
    "generate": [
        ([*GENERATE, "--seed", "abc"], "--seed abc"),
        ([*GENERATE, "--seed", "-1"], "--seed -1"),
        ([*GENERATE, "--seed", "99999999999999999999999"], "--seed 99999999999999999999999"),
        ([*GENERATE, "--teams", "0"], "--teams"),
        ([*GENERATE, "--teams", "99"], "--teams"),
        ([*GENERATE, "--teams", "-4"], "--teams -4"),
        ([*GENERATE, "--people", "-5"], "--people -5"),
        ([*GENERATE, "--people", "3", "--teams", "2"], "--people"),
        ([*GENERATE, "--days", "4000"], "--days"),
        ([*GENERATE, "--days", "1e3"], "--days 1e3"),
        ([*GENERATE, "--days", "99999999999"], "--days 99999999999"),
        ([*GENERATE, "--end", "tomorrow"], "--end tomorrow"),
        ([*GENERATE, "--end", "1969-12-20T00:00:00Z"], "--end"),
        (["generate", "--out"], "--out"),
        (["generate", "--out="], "--out"),
        ([*GENERATE, "--bogus", "1"], "--bogus"),
        ([*GENERATE, "stray"], "stray"),
        (["generate", "--seed", "1"], "--out"),
        ([*GENERATE, "--seed", "1", "--seed", "2"], "--seed"),
    ],
    "demo": [
        (["demo", "--for", "0s"], "--for 0s"),
        (["demo", "--for", "5x"], "--for 5x"),
        (["demo", "--for", "-5s"], "--for -5s"),
        (["demo", "--for", "400d"], "--for 400d"),
        (["demo", "--for"], "--for"),
        (["demo", "--seed", "abc"], "--seed abc"),
        (["demo", "--seed", "-1"], "--seed -1"),
        (["demo", "--seed", "18446744073709551616"], "--seed 18446744073709551616"),
        (["demo", "--teams", "0"], "--teams 0"),
        (["demo", "--teams", "9"], "--teams 9"),
        (["demo", "--teams", "4.5"], "--teams 4.5"),
        (["demo", "--people", "1"], "--people 1"),
        (["demo", "--people", "abc"], "--people abc"),
        (["demo", "--people", "3", "--teams", "2"], "--people"),
        (["demo", "--days", "0"], "--days 0"),
        (["demo", "--days", "4000"], "--days 4000"),
        (["demo", "--days", "99999999999999999999"], "--days 99999999999999999999"),
        (["demo", "--listen", "nope"], "--listen nope"),
        (["demo", "--listen", "127.0.0.1:99999"], "--listen 127.0.0.1:99999"),
        (["demo", "--listen", "127.0.0.1:abc"], "--listen 127.0.0.1:abc"),
        (["demo", "--listen", ":80"], "--listen :80"),
        (["demo", "--state-dir", '/tmp/a"b'], "--state-dir"),
        (["demo", "--bogus"], "--bogus"),
        (["demo", "stray"], "stray"),
        (["demo", "--for", "5s", "--for", "6s"], "--for"),
    ],
    "version": [
        (["version", "stray"], "stray"),
        (["version", "--short"], "--short"),
    ],
    "import": [
        (["import"], "FILE"),
        (["import", "--config", CONFIG, str(PAYLOAD)], "--source"),
        (["import", "--source", "pagerduty", str(PAYLOAD)], "--config"),
        ([*IMPORT, "--source", "nosuchsource", str(PAYLOAD)], "nosuchsource"),
        ([*IMPORT, "--source", "directory", str(PAYLOAD)], "--source directory"),
        ([*IMPORT, "--source", "auto", str(PAYLOAD)], str(PAYLOAD)),
        ([*IMPORT, "--source", "jira", "/nonexistent/jira.jsonl"], "/nonexistent/jira.jsonl"),
        ([*IMPORT, "--source", "jira", str(REPO / "tests")], "not a regular file"),
        ([*IMPORT, "--source", "jira", "--input", "csv", str(PAYLOAD)], "--input csv"),
        ([*IMPORT, "--source", "jira", "--progress=yes", str(PAYLOAD)], "--progress"),
        ([*IMPORT, "--source", "jira", "--source", "slack", str(PAYLOAD)], "--source"),
        ([*IMPORT, "--source", "jira", "--bogus", str(PAYLOAD)], "--bogus"),
        ([*IMPORT, "--source"], "--source"),
    ],
    "explain": [
        (["explain"], "METRIC"),
        ([*EXPLAIN, "--from", "yesterday", "--to", "2026-04-01T00:00:00Z", METRIC], "--from yesterday"),
        ([*EXPLAIN, "--from", "2026-04-01T00:00:00Z", "--to", "2026-03-01T00:00:00Z", METRIC], "--to"),
        ([*EXPLAIN, *EXPLAIN_WINDOW, "--label", "period", METRIC], "--label period"),
        ([*EXPLAIN, *EXPLAIN_WINDOW, "--format", "csv", METRIC], "format csv"),
        ([*EXPLAIN, *EXPLAIN_WINDOW, "teamhealth_wip_items"], "teamhealth_wip_items"),
        ([*EXPLAIN, *EXPLAIN_WINDOW, "--bogus", "1", METRIC], "--bogus"),
        ([*EXPLAIN, *EXPLAIN_WINDOW, METRIC, "extra"], "extra"),
        ([*EXPLAIN, *EXPLAIN_WINDOW, "--log", "/nonexistent", METRIC], "not both"),
        ([*EXPLAIN[:-2], "--team", "nobody", *EXPLAIN_WINDOW, METRIC], "unknown team nobody"),
    ],
    "(none)": [
        (["bogus"], "bogus"),
        ([], "Usage"),
    ],
}

CASES = [pytest.param(argv, named, id=f"{command}: {' '.join(argv[1:]) or argv[:1]}")
         for command, cases in BAD.items() for argv, named in cases]


def assert_no_abort(r) -> None:
    out = r.stdout + r.stderr
    for sign in ("terminate called", "Aborted", "core dumped", "what():"):
        assert sign not in out, out
    assert r.returncode >= 0, f"killed by signal {-r.returncode}: {out}"


@pytest.mark.parametrize("argv,named", CASES)
def test_bad_arguments_exit_2_naming_the_argument(argv, named):
    r = run_teamhealth(*argv, timeout=60)
    assert_no_abort(r)
    assert r.returncode == 2, (argv, r.returncode, r.stdout, r.stderr)
    assert named in r.stderr, (argv, r.stderr)
    assert r.stdout == "", (argv, r.stdout)


SUBCOMMANDS = ["serve", "check-config", "inspect", "normalize", "report", "teams", "backfill",
               "metrics", "gateway",
               "erase", "generate", "demo", "version", "import", "explain"]


@pytest.mark.parametrize("command", SUBCOMMANDS)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_prints_usage_and_exits_0(command, flag):
    r = run_teamhealth(command, flag, timeout=60)
    assert_no_abort(r)
    assert r.returncode == 0, (command, r.stderr)
    assert "usage" in r.stdout.lower(), r.stdout
    assert r.stderr == ""


@pytest.mark.parametrize("command", ["inspect", "demo", "generate", "report"])
def test_help_wins_over_bad_arguments(command):
    r = run_teamhealth(command, "--limit", "abc", "--help", timeout=60)
    assert r.returncode == 0 and "usage" in r.stdout.lower(), r.stderr


def test_the_list_of_commands_covers_every_subcommand():
    listed = run_teamhealth("--help").stdout
    for command in SUBCOMMANDS:
        assert f"\n  {command}" in listed, command
        assert command in BAD, f"no bad arguments tried for {command}"


# Valid forms that must keep working: --name=value, `--` before positional arguments.
GOOD = [
    ["metrics"],
    ["version"],
    ["--version"],
    ["check-config", str(SCENARIO / "config.toml")],
    ["check-config", f"--config={SCENARIO / 'config.toml'}"],
    ["normalize", "--source=pagerduty", "--", str(PAYLOAD)],
    [*REPORT_REAL[:-4], f"--from={FROM}", f"--to={TO}", "--format", "csv",
     "--set", "switch_cost_minutes=10"],
]


@pytest.mark.parametrize("argv", GOOD, ids=lambda a: " ".join(a[:2]))
def test_valid_forms_still_work(argv):
    r = run_teamhealth(*argv, timeout=60)
    assert r.returncode == 0, (argv, r.stderr)
    assert r.stdout
