"""`teamhealth demo` on the embedded default: every section 7 metric family is non-zero for some
team, /readyz turns ready, nothing is quarantined, and it stops by itself. Run again on a kept
state directory, it continues that log: the table again, no error-level line, and no event
after the time the demo started (the generated history ends now, never in the future)."""

from __future__ import annotations

import datetime
import re
import subprocess
import time

from conftest import TEAMHEALTH_BIN, inspect, parse_metrics

FAMILIES = [
    "teamhealth_oncall_interruptions_total", "teamhealth_oncall_sleep_disrupted_nights_total",
    "teamhealth_oncall_incidents_total", "teamhealth_oncall_time_to_ack_seconds_count",
    "teamhealth_oncall_time_to_resolve_seconds_count", "teamhealth_oncall_unacknowledged_total",
    "teamhealth_oncall_escalations_total", "teamhealth_oncall_reassignments_total",
    "teamhealth_oncall_shift_seconds_total", "teamhealth_oncall_open_incidents",
    "teamhealth_context_switches_total", "teamhealth_active_persondays_total",
    "teamhealth_work_items_touched_total", "teamhealth_wip_items",
    "teamhealth_direct_interruptions_total", "teamhealth_oncall_bypass_total",
    "teamhealth_focus_lost_seconds_total", "teamhealth_cycle_time_seconds_count",
    "teamhealth_lead_time_seconds_count", "teamhealth_work_items_completed_total",
    "teamhealth_work_items_reopened_total", "teamhealth_reassignments_total",
    "teamhealth_priority_changes_total", "teamhealth_pr_pickup_seconds_count",
    "teamhealth_pr_review_seconds_count", "teamhealth_burnout_members_at_risk",
    "teamhealth_team_members",
    # Design 7.6: who interrupts us, split attention, worked time off, team mood.
    "teamhealth_direct_interruptions_by_sender_team_total", "teamhealth_project_switches_total",
    "teamhealth_time_off_worked_days_total", "teamhealth_pulse_score_count",
]

# The generated organisation: four engineering teams, then support and sales (who only chat).
TEAMS = ("payments", "search", "platform", "mobile", "support", "sales")


def get(url: str) -> tuple[int, str]:
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""


def test_demo_shows_every_metric_family_and_stops_by_itself(tmp_path):
    out = tmp_path / "demo.out"
    with open(out, "w") as f:
        proc = subprocess.Popen([str(TEAMHEALTH_BIN), "demo", "--for", "60s", "--listen",
                                 "127.0.0.1:0"], stdout=f, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 120
        port = None
        while time.time() < deadline and "Serving for" not in out.read_text():
            assert proc.poll() is None, out.read_text()
            time.sleep(0.2)
        text = out.read_text()
        assert "Serving for" in text, text
        port = re.search(r"metrics\s+http://127\.0\.0\.1:(\d+)/metrics", text).group(1)
        assert get(f"http://127.0.0.1:{port}/readyz")[0] == 200
        samples = parse_metrics(get(f"http://127.0.0.1:{port}/metrics")[1])
        by_family: dict[str, float] = {}
        for (name, labels), v in samples.items():
            by_family[name] = max(by_family.get(name, 0), v)
        missing = [f for f in FAMILIES if by_family.get(f, 0) <= 0]
        assert not missing, f"families zero for every team: {missing}"
        assert sum(v for (n, _), v in samples.items()
                   if n == "teamhealth_events_quarantined_total") == 0
        # At least one team crosses every burnout threshold.
        signals = {dict(l).get("signal") for (n, l), v in samples.items()
                   if n == "teamhealth_burnout_members_at_risk" and v > 0}
        assert signals >= {"sleep_interruptions_7d", "after_hours_share_14d", "weekend_days_28d",
                           "no_rest_streak", "oncall_share_28d", "wip_over_limit",
                           "always_on_28d", "time_off_worked_28d"}, signals
        # The summary table names each team: the four engineering teams, support and sales.
        for team in TEAMS:
            assert re.search(rf"^{team}\s+\d", text, re.M), text
        assert proc.wait(timeout=90) == 0, out.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()


# A log line at error level or above: "<time> error <logger>: ..." (spdlog, stderr).
ERROR_LINE = re.compile(r"^\S+ (error|critical) ", re.M)


def epoch_ms(rfc3339: str) -> int:
    t = datetime.datetime.fromisoformat(rfc3339.replace("Z", "+00:00"))
    return round(t.timestamp() * 1000)


def run_demo(state) -> subprocess.CompletedProcess:
    return subprocess.run([str(TEAMHEALTH_BIN), "demo", "--for", "5s", "--state-dir", str(state),
                           "--listen", "127.0.0.1:0"], capture_output=True, text=True,
                          timeout=240)


def test_demo_continues_a_kept_state_directory(tmp_path):
    state = tmp_path / "state"
    started_ms = time.time() * 1000
    first = run_demo(state)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "the kept log" not in first.stdout, first.stdout
    for _ in range(2):  # twice: the renamed topics of the second run are kept too
        again = run_demo(state)
        out = again.stdout + again.stderr
        assert again.returncode == 0, out
        assert not ERROR_LINE.search(out), out
        assert "Stored offset" not in out, out
        assert "continues        the kept log" in again.stdout, again.stdout
        for team in TEAMS:
            assert re.search(rf"^{team}\s+\d", again.stdout, re.M), again.stdout
        assert "Serving for" in again.stdout, again.stdout
    finished_ms = time.time() * 1000
    events = inspect(state, "events")
    generated = [e for e in events if e["source"] != "directory"]
    assert len(generated) > 1000, len(generated)
    # The generated history ends when the first run started (to the minute), not in the future;
    # the directory is recorded as of each run's start.
    late = [e for e in generated if epoch_ms(e["occurred_at"]) > started_ms]
    assert not late, late[:3]
    assert all(epoch_ms(e["occurred_at"]) <= finished_ms for e in events)
    # Nothing was fed twice: every generated event id is in the log once.
    ids = [e["id"] for e in generated]
    assert len(ids) == len(set(ids))
