#!/usr/bin/env python3
"""Soak: the daemon under mixed traffic on a real broker for a bounded time, restarted now and
then (SIGTERM and SIGKILL) and sent SIGHUPs, its memory and file descriptors sampled every
10 s; at the end nothing is lost or duplicated. Run through ops/soak.sh (see ops/crash/README.md).

Traffic, for --minutes:
* soak.canonical.load (3 partitions): --rate canonical events a second from
  ops/bench/ingest_bench.py's generator (~1 KB each, a realistic mix of types), fed to one
  long-lived `kcat -P` per partition; 2 % are repeats of an earlier record (duplicates, often in
  another partition), 1 % malformed (empty, not JSON, binary garbage, a missing field, an unknown
  type, a bad timestamp), and every 5 minutes one 11 MiB record (above the default
  kafka.max_record_bytes: too_large).
* the vendor topics (soak.webhooks.jira, github, slack, pagerduty, soak.teamhealth.canonical):
  every 20-40 s `teamhealth generate --days 7 --brokers` produces an organisation's webhooks with
  their headers: a new seed 4 times in 5, else a seed already sent (all duplicates).
Meanwhile: SIGHUP every 45-75 s (every other one adds a person to the directory), a restart
every 90-240 s (SIGTERM, which must exit 0, or SIGKILL, alternately), and every 10 s a sample of
the daemon's VmRSS, VmHWM, threads and open descriptors (/proc/PID/status, /proc/PID/fd) with
its log sequence into soak.csv. Then the producers stop, the daemon drains and stops, and the
state directory is checked against everything produced.

Exit status 0 when every check holds. It stops by itself: the run, the drain (10 min at most)
and every subprocess have deadlines.
"""
from __future__ import annotations

import argparse
import csv
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (  # noqa: E402
    BIN, KCAT, KCAT_BIG, REPO, Broker, Daemon, Deadline, inspect_json, proc_sample,
    records_accounted, say, scan_log, total, wait_for, write_config)

sys.path.insert(0, str(REPO / "ops" / "bench"))
import ingest_bench  # noqa: E402  (the canonical event generator)

PREFIX = "soak."
LOAD = PREFIX + "canonical.load"
VENDOR = {PREFIX + "webhooks.jira": "jira", PREFIX + "webhooks.github": "github",
          PREFIX + "webhooks.slack": "slack", PREFIX + "webhooks.pagerduty": "pagerduty",
          PREFIX + "teamhealth.canonical": "canonical"}
TOPICS = {LOAD: "canonical", **VENDOR}
PARTITIONS = 3
TICK = 0.5
SAMPLE_EVERY = 10.0
END = "2026-03-02T00:00:00Z"
_ID = re.compile(r'^\{"id":"([^"]+)"', re.M)  # an event's own id: its first key


def malformed(rng: random.Random, n: int) -> tuple[str, bytes]:
    """A bad record body and the reason it must be quarantined with."""
    kinds = [
        ("empty", b""),
        ("invalid_json", b'{"id":"canonical:broken-%d" "source":"canonical"}' % n),
        ("invalid_json", bytes(rng.choice([b for b in range(1, 256) if b not in (9, 10)])
                               for _ in range(rng.randint(1, 300)))),  # binary garbage
        ("missing_field", b'{"id":"canonical:nofield-%d","source":"canonical","occurred_at":'
                          b'"2026-03-02T22:14:05.120Z","actor":null,"subject":{"kind":"channel",'
                          b'"id":"C1"},"attrs":{}}' % n),
        ("unknown_type", b'{"id":"canonical:unknown-%d","source":"canonical","type":'
                         b'"incident.exploded","occurred_at":"2026-03-02T22:14:05.120Z",'
                         b'"actor":null,"subject":{"kind":"incident","id":"Q1"},"attrs":{}}' % n),
        ("bad_timestamp", b'{"id":"canonical:badtime-%d","source":"canonical","type":'
                          b'"incident.triggered","occurred_at":"yesterday","actor":null,'
                          b'"subject":{"kind":"incident","id":"Q1"},"attrs":{}}' % n),
    ]
    return kinds[n % len(kinds)]


class LoadProducer:
    """The canonical load: one `kcat -P` per partition, fed every TICK from a generated file."""

    def __init__(self, bootstrap: str, lines_path: Path, rate: int, rng: random.Random,
                 workdir: Path):
        self.rng = rng
        self.rate = rate
        self.lines = open(lines_path, "rb")
        self.procs = []
        for p in range(PARTITIONS):
            err = open(workdir / f"kcat-load-{p}.stderr", "wb")
            self.procs.append(subprocess.Popen(
                [KCAT, "-P", "-b", bootstrap, "-t", LOAD, "-p", str(p), "-K", "\t",
                 "-X", "enable.idempotence=true", "-X", "linger.ms=5", *KCAT_BIG],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err))
        self.valid_ids: set[str] = set()
        self.sent_valid: list[bytes] = []  # bodies, for repeats
        self.records = 0
        self.duplicates = 0
        self.bad: Counter = Counter()
        self.carry = 0.0
        self.last_big = time.monotonic()

    def tick(self) -> None:
        self.carry += self.rate * TICK
        n, self.carry = int(self.carry), self.carry - int(self.carry)
        chunks: list[list[bytes]] = [[] for _ in range(PARTITIONS)]
        for _ in range(n):
            r = self.rng.random()
            p = self.rng.randrange(PARTITIONS)
            if r < 0.01:
                reason, body = malformed(self.rng, sum(self.bad.values()))
                self.bad[reason] += 1
            elif r < 0.03 and self.sent_valid:
                body = self.rng.choice(self.sent_valid[-20000:])
                self.duplicates += 1
            else:
                line = self.lines.readline()
                if not line:
                    raise RuntimeError("the generated load ran out; raise the file size")
                body = line.rstrip(b"\n").split(b"\t", 1)[1]
                self.valid_ids.add(_ID.match(body.decode()).group(1))
                self.sent_valid.append(body)
            chunks[p].append(b"k\t" + body + b"\n")
        if time.monotonic() - self.last_big >= 300:
            self.last_big = time.monotonic()
            chunks[self.rng.randrange(PARTITIONS)].append(
                b'k\t{"pad":"' + b"x" * (11 << 20) + b'"}\n')
            self.bad["too_large"] += 1
        for p, chunk in enumerate(chunks):
            if chunk:
                self.procs[p].stdin.write(b"".join(chunk))
                self.procs[p].stdin.flush()
                self.records += len(chunk)

    def close(self) -> None:
        for proc in self.procs:
            proc.stdin.close()
        for p, proc in enumerate(self.procs):
            if proc.wait(timeout=300) != 0:
                raise RuntimeError(f"kcat for partition {p} exited {proc.returncode}")


class VendorProducer:
    """`teamhealth generate --brokers` bursts in a thread, one at a time."""

    def __init__(self, bootstrap: str, workdir: Path, rng: random.Random):
        self.bootstrap, self.workdir, self.rng = bootstrap, workdir, rng
        self.seeds_sent: list[int] = []
        self.ids: set[str] = set()
        self.records = 0
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def run_seed(self, seed: int) -> None:
        out = self.workdir / f"org-{seed}-{len(self.seeds_sent)}"
        r = subprocess.run([str(BIN), "generate", "--seed", str(seed), "--days", "7", "--end",
                            END, "--out", str(out), "--brokers", self.bootstrap,
                            "--topic-prefix", PREFIX], capture_output=True, text=True,
                           timeout=300)
        if r.returncode != 0:
            raise RuntimeError(f"generate --seed {seed}: {r.stderr}")
        for f in out.glob("*.jsonl"):
            self.records += sum(1 for _ in open(f, "rb"))
            if seed not in self.seeds_sent:
                n = subprocess.run([str(BIN), "normalize", "--source", f.stem, "--records",
                                    str(f)], capture_output=True, text=True, timeout=300)
                if n.returncode != 0:
                    raise RuntimeError(f"normalize {f}: {n.stderr}")
                self.ids.update(_ID.findall(n.stdout))
        self.seeds_sent.append(seed)
        if seed != 1:
            shutil.rmtree(out, ignore_errors=True)

    def burst(self) -> None:
        if self.thread and self.thread.is_alive():
            return
        fresh = not self.seeds_sent or self.rng.random() < 0.8
        seed = (max(self.seeds_sent) + 1 if self.seeds_sent else 1) if fresh \
            else self.rng.choice(self.seeds_sent)

        def go():
            try:
                self.run_seed(seed)
            except BaseException as exc:  # noqa: BLE001 - reported at the end
                self.error = exc
        self.thread = threading.Thread(target=go, daemon=True)
        self.thread.start()

    def join(self) -> None:
        if self.thread:
            self.thread.join(timeout=300)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--rate", type=int, default=200, help="canonical events a second")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None, help="where soak.csv and logs go")
    ap.add_argument("--keep", action="store_true", help="keep broker data and state")
    ap.add_argument("--restart-seconds", default="90,240",
                    help="a restart every LO..HI seconds (default 90,240)")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else time.time_ns() % 1_000_000_007
    rng = random.Random(seed)
    if not BIN.exists():
        sys.exit(f"no teamhealth binary at {BIN} (set TEAMHEALTH_BIN)")
    work = Path(tempfile.mkdtemp(prefix="teamhealth-soak."))
    out = args.out or work
    out.mkdir(parents=True, exist_ok=True)
    say("soak", f"seed={seed} minutes={args.minutes} rate={args.rate}/s binary={BIN}")
    say("soak", f"work dir {work}; CSV and daemon log in {out}")
    t0 = time.monotonic()
    hard = Deadline(args.minutes * 60 + 1800, "the soak")
    broker = Broker(work / "broker")
    broker.start()
    say("soak", f"broker {broker.bootstrap}")
    load_n = int(args.rate * args.minutes * 60 * 1.0) + 1000
    say("soak", f"generating {load_n} canonical events")
    lines = work / "load.tsv"
    with open(work / "generate.log", "w") as log:
        saved = sys.stdout
        sys.stdout = log
        try:
            ingest_bench.generate(str(lines), load_n, seed=seed)
        finally:
            sys.stdout = saved
    vendor = VendorProducer(broker.bootstrap, work, rng)
    vendor.run_seed(1)  # the first organisation's directory is the config's
    directory = (work / "org-1-0" / "directory.toml").read_text()
    first_team = re.search(r'^name = "([^"]+)"', directory, re.M).group(1)
    state = work / "state"
    cfg = work / "teamhealth.toml"
    extra_people: list[str] = []

    def write_cfg():
        people = "".join(f'\n[[directory.people]]\nhandle = "{h}"\nteam = "{first_team}"\n'
                         f'identities = ["slack:U{h.upper().replace("-", "")}"]\n'
                         for h in extra_people)
        write_config(cfg, state, broker.bootstrap, TOPICS, directory + people)

    write_cfg()
    daemon_log = out / "daemon.log"
    csv_file = open(out / "soak.csv", "w", newline="")
    writer = csv.writer(csv_file)
    writer.writerow(["elapsed_s", "run", "pid", "rss_kib", "hwm_kib", "threads", "fds",
                     "last_sequence", "records_produced"])
    runs: list[dict] = []
    load = LoadProducer(broker.bootstrap, lines, args.rate, rng, work)
    checks: list[tuple[str, bool]] = []

    def start_run(why: str) -> Daemon:
        d = Daemon(cfg, daemon_log)
        runs.append({"run": len(runs) + 1, "pid": d.pid, "start": time.monotonic() - t0,
                     "why": why, "samples": [], "end": None, "ended": "running"})
        return d

    def sample(d: Daemon) -> None:
        s = proc_sample(d.pid)
        if s is None:
            return
        seq = ""
        if d.find_port():
            try:
                seq = int(total(d.metrics(), "teamhealth_log_last_sequence"))
            except (OSError, RuntimeError, ValueError):
                seq = ""
        elapsed = round(time.monotonic() - t0, 1)
        runs[-1]["samples"].append(s)
        writer.writerow([elapsed, runs[-1]["run"], d.pid, s["rss_kib"], s["hwm_kib"],
                         s["threads"], s["fds"], seq, load.records + vendor.records])
        csv_file.flush()

    d = start_run("first start")
    d.wait_port()
    duration = args.minutes * 60
    traffic_start = time.monotonic()  # --minutes counts from here, after the set-up
    next_sample = next_tick = time.monotonic()
    next_hup = time.monotonic() + rng.uniform(45, 75)
    restart_lo, restart_hi = (float(x) for x in args.restart_seconds.split(","))
    next_restart = time.monotonic() + rng.uniform(restart_lo, restart_hi)
    next_vendor = time.monotonic() + rng.uniform(20, 40)
    kill_next = rng.random() < 0.5
    hups = 0
    try:
        while time.monotonic() - traffic_start < duration:
            hard.check()
            now = time.monotonic()
            if now >= next_tick:
                load.tick()
                next_tick += TICK
            if now >= next_sample:
                sample(d)
                next_sample += SAMPLE_EVERY
            if now >= next_vendor:
                vendor.burst()
                next_vendor = now + rng.uniform(20, 40)
            # Not while the process may not have installed its handler yet (start-up).
            if now >= next_hup and now - d.started > 5:
                hups += 1
                if hups % 2 == 0:
                    extra_people.append(f"soak-{hups}")
                    write_cfg()
                d.proc.send_signal(signal.SIGHUP)
                next_hup = now + rng.uniform(45, 75)
            if d.proc.poll() is not None:
                raise RuntimeError(f"daemon exited {d.proc.returncode} on its own:\n{d.tail()}")
            if now >= next_restart:
                sample(d)
                if kill_next:
                    rc = d.kill()
                    runs[-1]["ended"] = "SIGKILL"
                    checks.append((f"run {runs[-1]['run']} killed (rc -9)", rc == -9))
                else:
                    rc = d.terminate(timeout=120)
                    runs[-1]["ended"] = f"SIGTERM rc={rc}"
                    checks.append((f"run {runs[-1]['run']} SIGTERM exits 0", rc == 0))
                runs[-1]["end"] = time.monotonic() - t0
                say("soak", f"{runs[-1]['ended']} at {runs[-1]['end']:.0f} s; restarting")
                d = start_run("restart after " + runs[-1]["ended"])
                d.wait_port()
                kill_next = not kill_next
                next_restart = time.monotonic() + rng.uniform(restart_lo, restart_hi)
            time.sleep(max(0.0, min(next_tick, next_sample) - time.monotonic()))
        say("soak", "traffic done; stopping the producers")
        load.close()
        vendor.join()
        if vendor.error:
            raise vendor.error
        produced = {t: sum(broker.end_offsets(t).values()) for t in TOPICS}
        expected_records = sum(produced.values())
        say("soak", f"draining: {expected_records} records in the topics")

        def drained():
            sample_due = time.monotonic() >= drained.next
            if sample_due:
                sample(d)
                drained.next = time.monotonic() + SAMPLE_EVERY
            m = d.metrics()
            lags = [v for (n, _), v in m.items() if n == "teamhealth_projection_lag_events"]
            return (records_accounted(m) == expected_records and lags
                    and all(v == 0 for v in lags) and d.get("/readyz")[0] == 200)
        drained.next = time.monotonic()
        wait_for(drained, 600, "the daemon to consume every record", interval=1)
        sample(d)
        rc = d.terminate(timeout=120)
        runs[-1]["ended"] = f"SIGTERM rc={rc} (end)"
        runs[-1]["end"] = time.monotonic() - t0
        checks.append(("final SIGTERM exits 0", rc == 0))
        elapsed = time.monotonic() - t0
    finally:
        csv_file.close()
        if d.proc.poll() is None:
            d.kill()
        for proc in load.procs:
            if proc.poll() is None:
                proc.kill()

    # ---- the checks
    say("soak", "checking the log")
    scan = scan_log(state)
    logged = {i: c for i, c in scan["ids"].items() if not i.startswith("directory:")}
    expected_ids = load.valid_ids | vendor.ids
    lost = expected_ids - set(logged)
    unexpected = set(logged) - expected_ids
    duplicated = [i for i, c in logged.items() if c > 1]
    counters = inspect_json(state, "counters")[0]
    outcomes = sum(sum(counters[k].values()) for k in ("ingested", "duplicate", "ignored",
                                                        "quarantined")) \
        - counters["ingested"].get("directory", 0)
    quarantine = inspect_json(state, "quarantine")
    load_reasons = Counter(q["reason"] for q in quarantine if q["topic"] == LOAD)
    offsets = {(o["topic"], o["partition"]): o["next_offset"] for o in inspect_json(state,
                                                                                   "offsets")}
    ends = {(t, p): o for t in TOPICS for p, o in broker.end_offsets(t).items() if o > 0}
    checks += [
        ("no event lost", not lost),
        ("no event duplicated", not duplicated),
        ("no unexpected event", not unexpected),
        ("sequences dense from 1", scan["dense"]),
        ("last_sequence = events in the log", counters["last_sequence"] == scan["events"]),
        ("every record has exactly one outcome", outcomes == expected_records),
        ("load topic: one event per distinct valid record",
         scan["by_topic"].get(LOAD, 0) == len(load.valid_ids)
         and not scan["origin_twice"].get(LOAD)),
        ("load topic: every bad record quarantined with its reason", load_reasons == load.bad),
        ("vendor topics: nothing quarantined",
         all(q["topic"] == LOAD for q in quarantine)),
        ("stored offsets = end offsets", {k: v for k, v in offsets.items() if k in ends} == ends
         and all(offsets.get(k) == v for k, v in ends.items())),
    ]

    # ---- the report
    print()
    setup = traffic_start - t0
    print(f"soak: {args.minutes:g} min of traffic, seed {seed}, {elapsed / 60:.1f} min in all "
          f"(set-up {setup:.0f} s, drain {elapsed - duration - setup:.0f} s); binary {BIN}")
    print(f"records produced      {expected_records}: load {load.records} ({len(load.valid_ids)} "
          f"distinct valid, {load.duplicates} repeats, {sum(load.bad.values())} bad: "
          f"{dict(load.bad)}), vendor {vendor.records} from {len(vendor.seeds_sent)} generate "
          f"runs ({len(set(vendor.seeds_sent))} distinct seeds)")
    print(f"events in the log     {scan['events']} (directory "
          f"{counters['ingested'].get('directory', 0)}); ingested {counters['ingested']}")
    print(f"duplicates counted    {counters['duplicate']}; quarantined {counters['quarantined']}; "
          f"ignored {counters['ignored']}")
    print(f"lost                  {len(lost)}" + (f" e.g. {sorted(lost)[:3]}" if lost else ""))
    print(f"duplicated            {len(duplicated)}")
    print(f"SIGHUPs               {hups} ({len(extra_people)} adding a person)")
    print(f"daemon runs           {len(runs)} "
          f"({sum(1 for r in runs if r['ended'] == 'SIGKILL')} ended by SIGKILL, "
          f"{sum(1 for r in runs if r['ended'].startswith('SIGTERM'))} by SIGTERM)")
    print("run  from-to (s)   ended by              samples  RSS MiB min/max/last   "
          "HWM MiB  fds min/max/last  threads max")
    for r in runs:
        s = r["samples"]
        if not s:
            continue
        rss = [x["rss_kib"] / 1024 for x in s]
        fds = [x["fds"] for x in s]
        print(f"{r['run']:>3}  {r['start']:5.0f}-{(r['end'] or 0):5.0f}   {r['ended']:<20}  "
              f"{len(s):>7}  {min(rss):6.1f}/{max(rss):6.1f}/{rss[-1]:6.1f}   "
              f"{s[-1]['hwm_kib'] / 1024:7.1f}  {min(fds):>4}/{max(fds):>4}/{fds[-1]:>4}"
              f"       {max(x['threads'] for x in s):>4}")
    all_s = [x for r in runs for x in r["samples"]]
    if all_s:
        print(f"all runs              RSS {min(x['rss_kib'] for x in all_s) / 1024:.1f}.."
              f"{max(x['rss_kib'] for x in all_s) / 1024:.1f} MiB, fds "
              f"{min(x['fds'] for x in all_s)}..{max(x['fds'] for x in all_s)}, "
              f"{len(all_s)} samples in {out / 'soak.csv'}")
    for what, ok in checks:
        print(f"  {'ok  ' if ok else 'FAIL'} {what}")
    broker.stop()
    if not args.keep:
        shutil.rmtree(work / "broker", ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)
        lines.unlink(missing_ok=True)
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
