"""The HTML retro page (docs/design.md section 8): `report --format html` for the hand-worked
on-call scenario (tests/projections/oncall_load, arithmetic in expected.txt), checked as text
(headline numbers, self-contained, every chart has marks, scalable SVGs) and rendered by headless
Chromium (Debian `chromium`): screenshots at 1280 and 800 px that are not blank and do not
overflow, and a PDF. Then the daemon's / and /teams/<team> behind the API's bearer tokens.

Chromium missing is a failure, not a skip: ops/setup.sh installs it.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

from conftest import REPO, run_teamhealth, unique_topic, write_config
from test_http_security import Client, VIEWER, http_section, start, token_file, with_http

SCENARIO = REPO / "tests" / "projections" / "oncall_load"
CONFIG = SCENARIO / "config.toml"
EVENTS = SCENARIO / "events.jsonl"
MONTH = ["--from", "2026-03-01T00:00:00Z", "--to", "2026-04-01T00:00:00Z"]
# The previous window of the same length (31 days): [2026-01-29, 2026-03-01).
PREVIOUS = ["--from", "2026-01-29T00:00:00Z", "--to", "2026-03-01T00:00:00Z"]


def html_page(tmp_path: Path) -> tuple[str, Path]:
    r = run_teamhealth("report", "--config", str(CONFIG), "--events", str(EVENTS), "--team",
                       "payments", *MONTH, "--format", "html", timeout=60)
    assert r.returncode == 0, r.stderr
    path = tmp_path / "payments.html"
    path.write_text(r.stdout)
    return r.stdout, path


def headline(page: str) -> dict[str, tuple[str, str]]:
    rows = re.findall(r'<tr data-metric="([a-z_0-9]+)">.*?<td class="n now">(.*?)</td>'
                      r'<td class="n prev">(.*?)</td>', page)
    return {k: (now, prev) for k, now, prev in rows}


def json_report(*window: str) -> dict:
    r = run_teamhealth("report", "--config", str(CONFIG), "--events", str(EVENTS), "--team",
                       "payments", *window, "--format", "json", timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def total(report: dict, metric: str, **labels: str) -> float:
    return sum(s["value"] for s in report["metrics"].get(metric, [])
               if all(s["labels"].get(k) == v for k, v in labels.items()))


def fmt(v: float) -> str:
    return f"{v:.10g}"


def test_headline_numbers_are_the_reports(tmp_path):
    page, _ = html_page(tmp_path)
    h = headline(page)
    # Pages: sleep 5 (Q1 alice 02:14, Q1 bob 02:14:30, Q1 alice again 02:16:10, Q7 alice, O1
    # erin; Q8 merged into O1) + business 1 (Q5) + off_hours 1 (Q6) = 7. Before March 1 there
    # are only directory events (Jan 1), so the previous window counts 0.
    assert h["pages"] == ("7", "0")
    assert h["sleep_pages"] == ("5", "0")
    # Nights: alice Mar 1, bob Mar 1, erin Mar 10, alice Mar 30 = 4.
    assert h["nights"] == ("4", "0")
    # Incidents of payments: Q1 Q5 Q6 Q7 O1 Q8 = 6; unacknowledged Q5, Q8 = 2.
    assert h["incidents"] == ("6", "0")
    assert h["unacked"] == ("2", "0")
    # Time to ack: O1 300 s, Q1 360 s; nearest-rank median = the 1st of 2 = 300 s = "5m".
    # The previous window has no observation: a dash.
    assert h["ack_p50"] == ("5m", "&#8212;")
    # payments has 3 members (alice, bob, erin) < privacy.min_group_size 5 (the default):
    # burnout and direct interruptions are withheld, as the report withholds them.
    assert h["pings"] == ("withheld", "withheld")
    assert h["at_risk"] == ("withheld", "withheld")
    assert "fewer than privacy.min_group_size (5)" in page
    # The rest are exactly the report's numbers for both windows.
    now, prev = json_report(*MONTH), json_report(*PREVIOUS)
    assert "teamhealth_direct_interruptions_total" in now["suppressed"]
    for key, metric in [("switches", "teamhealth_context_switches_total"),
                        ("completed", "teamhealth_work_items_completed_total"),
                        ("pages", "teamhealth_oncall_interruptions_total")]:
        assert h[key] == (fmt(total(now, metric)), fmt(total(prev, metric))), key
    # Day and hour charts: payments has no team zone; two of its three members are in UTC.
    assert "Days and hours in UTC (the zone of 2 of its 3 members)" in page


def test_page_is_self_contained_and_escaped(tmp_path):
    page, _ = html_page(tmp_path)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower()
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', page, re.I)
    assert "url(" not in page
    assert "<link" not in page and "<img" not in page
    # Every chart scales with the page: a viewBox and width 100 %.
    svgs = re.findall(r"<svg[^>]*>", page)
    assert svgs
    for svg in svgs:
        assert 'width="100%"' in svg and "viewBox=" in svg, svg


def test_every_chart_has_marks(tmp_path):
    page, _ = html_page(tmp_path)
    charts = re.findall(r'<svg data-chart="([a-z]+)"(.*?)</svg>', page, re.S)
    names = [name for name, _ in charts]
    # This scenario has pages, acks and no work items: interruptions per day, the heat map and
    # the time-to-ack histogram are drawn; cycle time says there is no data.
    for want in ("interruptions", "heatmap", "ack"):
        assert want in names, names
    for name, body in charts:
        marks = len(re.findall(r'<(rect|path|circle)\b[^>]*class="mark"', body))
        assert marks > 0, name
    # The heat map: 7 pages by local hour (UTC): Q1 alice/bob 02:14 and alice 02:16 on
    # 2026-03-02, a Monday (the night that began on Sunday Mar 1) -> Mon 02h, the cell shows 3.
    heat = dict(charts)["heatmap"]
    assert re.search(r"<title>Mon 2:00&#8211;3:00: 3 pages</title>", heat), heat[:2000]
    # Time to ack: 300 s in (120, 300], 360 s in (300, 600] -> two bars of 1.
    assert len(re.findall(r'class="mark"', dict(charts)["ack"])) == 2
    assert "No finished work items in this window." in page


def read_png(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and rows of RGB(A) bytes of an 8-bit PNG (stdlib only)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and colour in (2, 6), (depth, colour)
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, [bytes(r[i:i + 3]) for r in rows for i in range(0, stride, bpp)]


def chromium(*args: str) -> None:
    exe = shutil.which("chromium")
    assert exe, "chromium is not installed (ops/setup.sh installs the Debian package)"
    r = subprocess.run([exe, "--headless", "--disable-gpu", "--no-sandbox",
                        "--hide-scrollbars", *args], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]


def test_renders_in_chromium(tmp_path):
    _, page = html_page(tmp_path)
    for width in (1280, 800):
        png = tmp_path / f"retro-{width}.png"
        chromium(f"--screenshot={png}", f"--window-size={width},2000", page.as_uri())
        w, h, pixels = read_png(png)
        assert (w, h) == (width, 2000)
        white = b"\xff\xff\xff"
        colours = set(pixels)
        # Not blank: text and charts give many colours and a fair share of non-white pixels.
        assert len(colours) > 50, len(colours)
        share = sum(p != white for p in pixels) / len(pixels)
        assert share > 0.03, share
        # Nothing overflows: the right-most 8 px columns are background (white) on every row.
        for y in range(h):
            row = pixels[y * w:(y + 1) * w]
            assert all(p == white for p in row[w - 8:]), f"width {width}: row {y} overflows"
    pdf = tmp_path / "retro.pdf"
    chromium(f"--print-to-pdf={pdf}", "--no-pdf-header-footer", page.as_uri())
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 1024


# --- issue 14: who pings us, project switches, worked time off, the team pulse ---------------
# A team "core" of 5 (privacy.min_group_size 5: nothing withheld), a "support" team of 5 listed
# as a team of its own so that its pings show up by name, and a one-person "soc" team, whose
# pings are withheld (a sender team smaller than min_group_size would name its member). Times
# UTC (the default zone), working hours 08:00-18:00 Mon-Fri.
ISSUE14_CONFIG = "".join(f"""
[[directory.teams]]
name = "{t}"
""" for t in ("core", "support", "soc")) + "".join(f"""
[[directory.people]]
handle = "{h}"
team = "{t}"
identities = ["slack:U{h.upper()}"]
""" for h, t in [("ann", "core"), ("ben", "core"), ("cat", "core"), ("dan", "core"),
                 ("eve", "core"), ("sam", "support"), ("sue", "support"), ("sid", "support"),
                 ("sol", "support"), ("sky", "support"), ("oli", "soc")])


def issue14_events() -> list[dict]:
    events = []

    def add(n, type_, at, actor, subject, attrs=None):
        events.append({"id": f"canonical:i14-{n}", "source": "canonical", "type": type_,
                       "occurred_at": at, "actor": actor, "subject": subject,
                       "attrs": attrs or {}})

    def dm(n, at, sender, to):
        add(n, "chat.message", at, sender, {"kind": "channel", "id": f"D{n}"},
            {"bot": False, "channel_type": "im", "edited": False, "mentions": [],
             "recipients": [to], "thread": False})
    # Who pings us: sam (support) DMs ann three times and ben once on Tue 2026-03-03 in
    # business hours; slack:UOUTSIDER (not in the directory) DMs cat once: support 4,
    # unmapped 1.
    for i, (hour, to) in enumerate([("09", "slack:UANN"), ("10", "slack:UANN"),
                                    ("11", "slack:UANN"), ("12", "slack:UBEN")]):
        dm(f"dm{i}", f"2026-03-03T{hour}:00:00.000Z", "slack:USAM", to)
    dm("dm9", "2026-03-03T13:00:00.000Z", "slack:UOUTSIDER", "slack:UCAT")
    # oli (soc, one person) DMs dan: withheld from the sender chart, still a direct
    # interruption of core.
    dm("dm8", "2026-03-03T14:00:00.000Z", "slack:UOLI", "slack:UDAN")
    # Project switches: dan comments on PAY-1 (Jira project PAY) at 09:00, then reviews a pull
    # request of acme/api at 09:30: one context switch, across projects. eve comments on PAY-1
    # and PAY-2 (both PAY) 30 minutes apart: one context switch, not across projects.
    add("w1", "work_item.commented", "2026-03-04T09:00:00.000Z", "slack:UDAN",
        {"kind": "work_item", "id": "PAY-1", "key": "PAY-1", "project": "PAY"})
    add("w2", "pull_request.reviewed", "2026-03-04T09:30:00.000Z", "slack:UDAN",
        {"kind": "pull_request", "id": "900", "key": "#9", "project": "acme/api"},
        {"state": "commented"})
    add("w3", "work_item.commented", "2026-03-04T09:00:00.000Z", "slack:UEVE",
        {"kind": "work_item", "id": "PAY-1", "key": "PAY-1", "project": "PAY"})
    add("w4", "work_item.commented", "2026-03-04T09:30:00.000Z", "slack:UEVE",
        {"kind": "work_item", "id": "PAY-2", "key": "PAY-2", "project": "PAY"})
    # Time off: cat is off [2026-03-10, 2026-03-13) (3 days) and comments on PAY-3 on Mar 11:
    # one person-day worked during time off; cat is at risk on time_off_worked_28d at the end
    # of March (Mar 11 is within the 28 days before Apr 1).
    add("t1", "person.time_off", "2026-03-01T00:00:00.000Z", None,
        {"kind": "time_off", "id": "HR-1"},
        {"person": "slack:UCAT", "start": "2026-03-10T00:00:00.000Z",
         "end": "2026-03-13T00:00:00.000Z"})
    add("w5", "work_item.commented", "2026-03-11T11:00:00.000Z", "slack:UCAT",
        {"kind": "work_item", "id": "PAY-3", "key": "PAY-3", "project": "PAY"})
    # Pulse: five answers for core (a window with fewer than min_group_size answers shows no
    # pulse), 4, 2, 5, 3, 3: count 5, sum 17, mean 3.4.
    for i, score in enumerate([4, 2, 5, 3, 3]):
        add(f"p{i}", "pulse.response", f"2026-03-06T1{i}:00:00.000Z", None,
            {"kind": "team", "id": "core"}, {"score": score})
    return events


def issue14_page(tmp_path: Path, fmt: str = "html") -> str:
    cfg = tmp_path / "core.toml"
    cfg.write_text(ISSUE14_CONFIG)
    events = tmp_path / "core.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in issue14_events()))
    r = run_teamhealth("report", "--config", str(cfg), "--events", str(events), "--team", "core",
                       *MONTH, "--format", fmt, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_who_pings_us_switches_time_off_and_pulse(tmp_path):
    """Needs the issue-14 projections (sender team, project switches, time off, pulse)."""
    page = issue14_page(tmp_path)
    h = headline(page)
    assert h["switches"][0] == "2"  # dan PAY-1 -> acme/api, eve PAY-1 -> PAY-2
    assert h["project_switches"][0] == "1"  # dan's only
    assert h["time_off_worked"][0] == "1"  # cat, Mar 11
    assert h["pulse_mean"][0] == "3.4"  # (4 + 2 + 5 + 3 + 3) / 5
    charts = dict(re.findall(r'<svg data-chart="([a-z]+)"(.*?)</svg>', page, re.S))
    senders = re.findall(r"<title>([a-z]+): ([0-9]+) direct interruptions</title>",
                         charts["senders"])
    assert senders == [("support", "4"), ("unmapped", "1")]
    assert "<tr><td>time_off_worked_28d</td><td class=\"n\">1 of 5</td></tr>" in page
    assert "<strong>3.4</strong> mean of 5 responses" in page
    # The JSON report has the same numbers, and the pulse's distribution.
    rep = json.loads(issue14_page(tmp_path, "json"))
    (pulse,) = rep["metrics"]["teamhealth_pulse_score"]
    assert (pulse["count"], pulse["sum"]) == (5, 17)
    assert pulse["distribution"] == {"1": 0, "2": 1, "3": 2, "4": 1, "5": 1}
    by_sender = {s["labels"]["sender_team"]: s["value"] for s in
                 rep["metrics"]["teamhealth_direct_interruptions_by_sender_team_total"]}
    assert by_sender == {"support": 4, "unmapped": 1}


def test_issue14_page_renders_in_chromium(tmp_path):
    """Needs the issue-14 projections: the page with every new section filled."""
    page = tmp_path / "core.html"
    page.write_text(issue14_page(tmp_path))
    for width in (1280, 800):
        png = tmp_path / f"core-{width}.png"
        chromium(f"--screenshot={png}", f"--window-size={width},3000", page.as_uri())
        w, h, pixels = read_png(png)
        white = b"\xff\xff\xff"
        for y in range(h):
            row = pixels[y * w:(y + 1) * w]
            assert all(p == white for p in row[w - 8:]), f"width {width}: row {y} overflows"


def test_daemon_serves_pages_behind_tokens(broker, daemons, tmp_path):
    viewer = token_file(tmp_path, "viewer.token", VIEWER)
    cfg = with_http(write_config(tmp_path / "th.toml", state_dir=tmp_path / "state",
                                 brokers=broker.bootstrap, topics=[unique_topic("retro")]),
                    http_section(viewer_token_file=viewer),
                    '\n[[directory.teams]]\nname = "pay<ments>"\n')
    d = start(daemons, cfg)
    c = Client(d.port)
    status, headers, body = c.request("/", VIEWER)
    assert status == 200 and headers["content-type"].startswith("text/html")
    # The team list escapes names and links each page (name percent-encoded in the path).
    assert "pay&lt;ments&gt;" in body and 'href="/teams/pay%3Cments%3E"' in body
    assert c.status("/", None) == 401
    assert c.status("/teams/pay%3Cments%3E", None) == 401
    status, _, body = c.request("/teams/pay%3Cments%3E", VIEWER)
    assert status == 200, body
    assert "Team health retro: pay&lt;ments&gt;" in body and "<script" not in body
    status, _, body = c.request("/teams/nosuchteam", VIEWER)
    assert status == 404 and "unknown team nosuchteam" in body
    assert c.status("/teams/pay%3Cments%3E?from=yesterday", VIEWER) == 400
    assert c.status("/teams/pay%3Cments%3E?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z",
                    VIEWER) == 400
