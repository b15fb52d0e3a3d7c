"""`teamhealth demo` on the embedded default: every section 7 metric family is non-zero for some
team, /readyz turns ready, nothing is quarantined, and it stops by itself."""

from __future__ import annotations

import re
import subprocess
import time

from conftest import TEAMHEALTH_BIN, parse_metrics

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
]


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
                           "always_on_28d"}, signals
        # The summary table names each team.
        for team in ("payments", "search", "platform", "mobile"):
            assert re.search(rf"^{team}\s+\d", text, re.M), text
        assert proc.wait(timeout=90) == 0, out.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
