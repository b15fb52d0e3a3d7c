#!/usr/bin/env python3
"""Power-loss loop: simulated power cuts at random moments during an ingest, each followed by a
check that the log is a consistent prefix, and at the end a check that every event is in the log
exactly once. Run through ops/crash/power_loss.sh (see ops/crash/README.md); not run by CI
(tests/integration/test_power_loss.py is its 10-cut version, and explains the shim).

1. starts a broker (ops/kafka/broker.sh) in a temp dir;
2. generates --events canonical events with ops/bench/ingest_bench.py's generator (~1 KB each,
   keyed by team, distinct ids) and starts producing them with `kcat -P -l` to topic `crash`
   (3 partitions) in the background;
3. --cuts times: starts the daemon with the power-loss shim preloaded, waits a random delay
   (--min-delay..--max-delay s, from random.Random(--seed)), reads teamhealth_log_last_sequence
   from /metrics when it can, SIGKILLs the daemon and runs the crash step
   (ops/crash/power_loss_fs.py), which rewinds the state dir to its last durable state; then
   checks the log: sequences dense from 1, every event a generated one and only once, per
   partition exactly the records below the stored offset, counters equal to the log, and at
   least what /metrics showed before the cut (sync_writes = true);
4. starts the daemon once more, waits for it to account for every record, be ready and have
   its projections caught up, stops it with SIGTERM (exit 0) and checks the whole log: every
   generated id exactly once, stored offsets = end offsets. Prints the figures; exit status 0
   when every check holds.

Every wait has a deadline and the whole run stops after --timeout seconds.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (BIN, KCAT, REPO, Broker, Daemon, Deadline, inspect_json,  # noqa: E402
                     generate_messages, records_accounted, say, scan_log, total,
                     wait_for, write_config)
from power_loss_fs import power_cut, shim_environment  # noqa: E402

TOPIC = "crash"
SHIM = Path(os.environ.get("TEAMHEALTH_POWERLOSS_SHIM",
                           str(REPO / "build" / "tests" / "faults" / "power_loss_shim.so")))


def check_prefix(state: Path, ids: set[str]) -> tuple[int, list[str]]:
    """The log after a cut: returns the number of events and what is wrong with it."""
    scan = scan_log(state)
    logged = {i: c for i, c in scan["ids"].items() if not i.startswith("directory:")}
    counters = inspect_json(state, "counters")[0]
    stored = {o["partition"]: o["next_offset"] for o in inspect_json(state, "offsets")
              if o["topic"] == TOPIC}
    parts = {p: n for (t, p), n in scan["partitions"].items() if t == TOPIC}
    problems = []
    if not scan["dense"]:
        problems.append("sequences not dense from 1")
    if any(c > 1 for c in logged.values()) or scan["origin_twice"]:
        problems.append("an event or a Kafka record twice")
    if set(logged) - ids:
        problems.append(f"unexpected events: {sorted(set(logged) - ids)[:3]}")
    for p, (n, highest) in parts.items():
        if n != highest + 1:
            problems.append(f"partition {p}: {n} events up to offset {highest} (a gap)")
    if stored != {p: n for p, (n, _) in parts.items()}:
        problems.append(f"stored offsets {stored} do not match the log {parts}")
    if counters["last_sequence"] != scan["events"]:
        problems.append(f"last_sequence {counters['last_sequence']} != {scan['events']} events")
    if counters["ingested"].get("canonical", 0) != len(logged):
        problems.append("ingested counter != events in the log")
    return len(logged), problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=500_000)
    ap.add_argument("--cuts", type=int, default=50)
    ap.add_argument("--min-delay", type=float, default=0.3)
    ap.add_argument("--max-delay", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--timeout", type=float, default=3600, help="the whole run, seconds")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else time.time_ns() % 1_000_000_007
    rng = random.Random(seed)
    if not BIN.exists():
        sys.exit(f"no teamhealth binary at {BIN} (set TEAMHEALTH_BIN)")
    if not SHIM.exists():
        sys.exit(f"no power-loss shim at {SHIM} (set TEAMHEALTH_POWERLOSS_SHIM)")
    deadline = Deadline(args.timeout, "the power-loss loop")
    work = Path(tempfile.mkdtemp(prefix="teamhealth-power-loss."))
    say("power-loss", f"seed={seed} events={args.events} cuts={args.cuts} binary={BIN} "
        f"shim={SHIM}")
    say("power-loss", f"temp dir {work} (rerun with --seed {seed})")
    broker = Broker(work / "broker")
    producer = d = None
    try:
        broker.start()
        say("power-loss", f"broker {broker.bootstrap}")
        messages, ids = generate_messages(work, args.events, seed)

        state = work / "state"
        journal = work / "powerloss.journal"
        env = shim_environment(SHIM, state, journal)
        cfg = write_config(work / "teamhealth.toml", state, broker.bootstrap,
                           {TOPIC: "canonical"})
        t0 = time.monotonic()
        producer = subprocess.Popen(
            [KCAT, "-P", "-b", broker.bootstrap, "-t", TOPIC, "-K", "\t", "-l",
             "-X", "enable.idempotence=true", "-X", "linger.ms=20",
             "-X", "batch.num.messages=10000", "-X", "queue.buffering.max.kbytes=1048576",
             str(messages)], stdout=subprocess.DEVNULL, stderr=open(work / "kcat.err", "wb"))
        daemon_log = work / "daemon.log"
        cuts = []
        failures = []
        for k in range(1, args.cuts + 1):
            deadline.check()
            d = Daemon(cfg, daemon_log, env=env)
            delay = rng.uniform(args.min_delay, args.max_delay)
            end = time.monotonic() + delay
            while time.monotonic() < end:
                if d.proc.poll() is not None:
                    raise RuntimeError(f"daemon exited {d.proc.returncode} before cut {k}:\n"
                                       + d.tail())
                time.sleep(min(0.02, max(0.0, end - time.monotonic())))
            shown = None
            if d.find_port():
                try:
                    shown = int(total(d.metrics(), "teamhealth_log_last_sequence"))
                except (OSError, RuntimeError, ValueError):
                    shown = None
            producing = producer.poll() is None
            rc = d.kill()
            if rc != -9:
                raise RuntimeError(f"daemon exited {rc} before the SIGKILL:\n{d.tail()}")
            report = power_cut(state, journal)
            events, problems = check_prefix(state, ids)
            if shown is not None and events < shown:
                problems.append(f"/metrics showed {shown}, the log holds {events} after the cut")
            failures += [f"cut {k}: {p}" for p in problems]
            at = time.monotonic() - t0
            cuts.append({"k": k, "at": at, "delay": delay, "shown": shown, "events": events,
                         "producing": producing, "report": report})
            wal = sum(n for name, n in report.dropped_by_file.items() if name.endswith(".log"))
            say("power-loss", f"cut {k:>2} at {at:6.1f} s (after {delay:.2f} s): /metrics "
                f"{'-' if shown is None else shown}, log {events} "
                f"({100 * events / args.events:5.1f} %), dropped {report.bytes_dropped} B "
                f"(WAL {wal} B), {report.renames_undone} renames and "
                f"{report.unlinks_undone} unlinks undone"
                + ("" if not problems else f"; FAILED: {problems}"))
            if problems:
                break  # keep the state dir as the cut left it (with --keep)
        if failures:
            print("\n".join(["power loss: the log is not a consistent prefix:"] + failures))
            return 1

        say("power-loss", "cuts done; waiting for the producer and the daemon")
        if producer.wait(timeout=max(1, deadline.left())) != 0:
            raise RuntimeError("kcat -P failed: " + (work / "kcat.err").read_text()[-2000:])
        ends = broker.end_offsets(TOPIC)
        d = Daemon(cfg, daemon_log)
        d.wait_port(timeout=120)

        def done():
            if d.proc.poll() is not None:
                raise RuntimeError(f"daemon exited {d.proc.returncode}:\n{d.tail()}")
            m = d.metrics()
            lags = [v for (n, _), v in m.items() if n == "teamhealth_projection_lag_events"]
            return (records_accounted(m) == args.events and lags and all(v == 0 for v in lags)
                    and d.get("/readyz")[0] == 200)
        wait_for(done, min(1200, max(1, deadline.left())), "every record consumed and projected",
                 interval=0.5)
        rc = d.terminate(timeout=120)
        total_s = time.monotonic() - t0

        say("power-loss", "checking the log")
        events, problems = check_prefix(state, ids)
        scan = scan_log(state)
        logged = {i: c for i, c in scan["ids"].items() if not i.startswith("directory:")}
        lost = ids - set(logged)
        duplicated = [i for i, c in logged.items() if c > 1]
        offsets = {o["partition"]: o["next_offset"] for o in inspect_json(state, "offsets")
                   if o["topic"] == TOPIC}
        checks = [
            ("SIGTERM at the end exits 0", rc == 0),
            (f"{args.cuts} power cuts", len(cuts) == args.cuts),
            ("after each cut the log was a consistent prefix", not failures),
            ("the final log is a consistent prefix", not problems),
            ("no event lost", not lost),
            ("no event duplicated", not duplicated),
            ("stored offsets = end offsets",
             offsets == {p: o for p, o in ends.items() if o > 0}),
        ]
        dropped = [c["report"].bytes_dropped for c in cuts]
        wal = [sum(n for name, n in c["report"].dropped_by_file.items() if name.endswith(".log"))
               for c in cuts]
        mid = sum(1 for c in cuts if c["events"] < args.events)
        print()
        print(f"power-loss loop: seed {seed}, binary {BIN}, shim {SHIM}")
        print(f"events produced       {args.events} (end offsets {ends})")
        print(f"power cuts            {len(cuts)} ({mid} before the log was complete, "
              f"{sum(1 for c in cuts if c['producing'])} while still producing, "
              f"{sum(1 for c in cuts if c['shown'] is None)} before /metrics answered)")
        print(f"events in the log     {len(logged)}")
        print(f"events lost           {len(lost)}")
        print(f"events duplicated     {len(duplicated)}")
        print(f"bytes dropped per cut min {min(dropped)}, median "
              f"{sorted(dropped)[len(dropped) // 2]}, max {max(dropped)}, total {sum(dropped)}; "
              f"from WAL files: {sum(1 for w in wal if w)} cuts, total {sum(wal)}")
        print(f"names undone          {sum(c['report'].renames_undone for c in cuts)} renames, "
              f"{sum(c['report'].unlinks_undone for c in cuts)} unlinks, "
              f"{sum(c['report'].files_removed for c in cuts)} unsynced new files removed")
        print(f"total time            {total_s:.1f} s")
        print("each cut (seconds since the start, delay, last_sequence on /metrics before the "
              "cut, events in the log after it, bytes dropped (of which WAL)):")
        for c, w in zip(cuts, wal):
            print(f"  {c['k']:>2}  {c['at']:7.1f} s  {c['delay']:.2f} s  "
                  f"{'-' if c['shown'] is None else c['shown']:>8}  {c['events']:>8}  "
                  f"{c['report'].bytes_dropped:>10} ({w})")
        for what, ok in checks:
            print(f"  {'ok  ' if ok else 'FAIL'} {what}")
        return 0 if all(ok for _, ok in checks) else 1
    finally:
        if d is not None and d.proc.poll() is None:
            d.kill()
        if producer is not None and producer.poll() is None:
            producer.kill()
        broker.stop()
        if args.keep:
            say("power-loss", f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
