#!/usr/bin/env python3
"""Turns the outputs of run-all.sh's benchmarks into one JSON document on stdout.

    figures.py RUNS DIR QUICK

RUNS: tab-separated lines name, exit status, seconds, command (written by run-all.sh). DIR
holds each benchmark's stdout as <name>.txt. Each benchmark gets {"command", "exit",
"seconds", "figures", "output"}: figures are the numbers its output names (parsed here, one
parser per benchmark), output its stdout lines, so a figure this file does not know yet is
still in the file.
"""
import json
import os
import platform
import re
import sys
import time

NUMBER = r"([0-9][0-9.e+]*)"


def grab(text, pattern, *names):
    m = re.search(pattern, text, re.M)
    if not m:
        return {}
    return {n: float(v) for n, v in zip(names, m.groups())}


def normalize(text):
    """Per source and payload size (all, small, large): figures per CPU-second of the thread."""
    out = {}
    for m in re.finditer(r"^(\S+)\s+(all|small|large)\s+payloads=(\d+)\s+avg_bytes=(\d+)\s.*?"
                         r"cpu_MB_per_s=" + NUMBER + r"\s+cpu_events_per_s=" + NUMBER +
                         r"\s+cpu_records_per_s=" + NUMBER + r"\s+wall_MB_per_s=" + NUMBER,
                         text, re.M):
        out[f"{m.group(1)}_{m.group(2)}"] = {
            "avg_bytes": int(m.group(4)), "cpu_mb_per_s": float(m.group(5)),
            "cpu_events_per_s": float(m.group(6)), "cpu_records_per_s": float(m.group(7)),
            "wall_mb_per_s": float(m.group(8))}
    return out


def replay(text):
    f = grab(text, r"^replay: (\d+) events.* in " + NUMBER + r" s wall, " + NUMBER +
             r" s CPU: " + NUMBER + r" events/s wall, " + NUMBER + r" events/s per CPU",
             "events", "wall_s", "cpu_s", "events_per_s", "events_per_cpu_s")
    f |= grab(text, r"^memory: RSS " + NUMBER + r" MB before.*, " + NUMBER + r" MB after",
              "rss_before_mb", "rss_after_mb")
    f |= grab(text, r"^apply only .*: " + NUMBER + r" events/s", "apply_only_events_per_s")
    return f


def metrics(text):
    f = grab(text, r"^series (\d+), (\d+) bytes", "series", "bytes")
    return f | grab(text, r"^scrape ms: min " + NUMBER + r"\s+p50 " + NUMBER + r"\s+max " + NUMBER,
                    "scrape_ms_min", "scrape_ms_p50", "scrape_ms_max")


def ingest(text):
    f = grab(text, r"^messages\s+(\d+)", "messages")
    f |= grab(text, r"^kcat -C.*?\s" + NUMBER + r" s\s+" + NUMBER + r" msgs/s", "kcat_s",
              "kcat_msgs_per_s")
    f |= grab(text, r"^daemon durable ingest\s+" + NUMBER + r" s\s+" + NUMBER + r" msgs/s",
              "daemon_s", "daemon_msgs_per_s")
    return f | grab(text, r"^ratio daemon/kcat\s+" + NUMBER, "ratio")


def import_(text):
    f = grab(text, r"^events appended\s+(\d+)", "events")
    f |= grab(text, r"^events/s\s+" + NUMBER + r" \(summary\)\s+" + NUMBER, "events_per_s",
              "events_per_s_wall")
    return f | grab(text, r"^bytes on disk\s+" + NUMBER + r" MB, " + NUMBER + r" bytes/event",
                    "disk_mb", "bytes_per_event")


def report(text):
    f = {}
    for m in re.finditer(r"^(\d+) d\s+(\S+)\s+" + NUMBER + r"\s+" + NUMBER, text, re.M):
        f.setdefault(f"{m.group(2)}_{m.group(1)}d_s", float(m.group(3)))
        f.setdefault(f"{m.group(2)}_{m.group(1)}d_peak_mib", float(m.group(4)))
    for m in re.finditer(r"^(\d+) d\s+" + NUMBER + r"\s+" + NUMBER + r"\s*$", text, re.M):
        f[f"api_{m.group(1)}d_s"] = float(m.group(2))
    f |= grab(text, r"^events in the log\s+(\d+)", "events")
    return f | grab(text, r"^fact index .*= " + NUMBER + r" bytes/event", "fact_bytes_per_event")


def gateway(text):
    f = grab(text, r"^requests_per_second=" + NUMBER, "requests_per_s")
    return f | grab(text, r"^latency_ms p50=" + NUMBER + r" p90=" + NUMBER + r" p99=" + NUMBER,
                    "p50_ms", "p90_ms", "p99_ms")


def steady(text):
    """steady_bench.py ends with one JSON line of its figures."""
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {}


PARSERS = {"normalize": normalize, "replay": replay, "metrics": metrics, "ingest": ingest,
           "import": import_, "report": report, "gateway": gateway, "steady": steady}


def main():
    runs, folder, quick = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
    benchmarks = {}
    for line in open(runs):
        name, status, seconds, command = line.rstrip("\n").split("\t", 3)
        path = os.path.join(folder, name + ".txt")
        text = open(path).read() if os.path.exists(path) else ""
        benchmarks[name] = {"command": command, "exit": int(status), "seconds": float(seconds),
                            "figures": PARSERS[name](text), "output": text.splitlines()}
    json.dump({"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "quick": quick,
               "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg(),
                           "system": platform.platform()},
               "benchmarks": benchmarks}, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
