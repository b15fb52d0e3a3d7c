#!/usr/bin/env python3
"""SIGKILL loop: kill `teamhealth serve` at random moments during a 1,000,000-event ingest,
restart it each time, and check at the end that the log holds every event exactly once and that
the stored offsets are the topic's end offsets. Run through ops/crash/kill_loop.sh (see
ops/crash/README.md); not run by CI (tests/integration/test_crash_safety.py is its 10 x 200k
version in CI).

1. starts a broker (ops/kafka/broker.sh) in a temp dir;
2. generates --events canonical events with ops/bench/ingest_bench.py's generator (~1 KB each,
   keyed by team, distinct ids) and starts producing them with `kcat -P -l` to topic `crash`
   (3 partitions) in the background;
3. starts the daemon at once (it waits for the topic), and --kills times: waits a random delay
   (--min-delay..--max-delay s, from random.Random(--seed)), reads teamhealth_log_last_sequence
   from /metrics when it can, SIGKILLs the daemon and starts it again; the restarted daemon must
   open the log at or beyond what /metrics showed (sync_writes = true);
4. waits for the producer, then for the daemon to account for every record, to be ready and
   its projections to catch up; stops it with SIGTERM (exit 0);
5. checks: `inspect counters` (last_sequence, ingested = N, duplicate 0, nothing quarantined),
   `inspect offsets` = the broker's end offsets, and the whole log streamed from
   `inspect events --with-origin`: sequences dense 1..N, every generated id exactly once, no
   other id, no Kafka record twice. Prints the figures; exit status 0 when every check holds.

Every wait has a deadline and the whole run stops after --timeout seconds.
"""
from __future__ import annotations

import argparse
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

TOPIC = "crash"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--min-delay", type=float, default=0.1)
    ap.add_argument("--max-delay", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--timeout", type=float, default=3600, help="the whole run, seconds")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else time.time_ns() % 1_000_000_007
    rng = random.Random(seed)
    if not BIN.exists():
        sys.exit(f"no teamhealth binary at {BIN} (set TEAMHEALTH_BIN)")
    deadline = Deadline(args.timeout, "the kill loop")
    work = Path(tempfile.mkdtemp(prefix="teamhealth-kill-loop."))
    say("kill-loop", f"seed={seed} events={args.events} kills={args.kills} binary={BIN}")
    say("kill-loop", f"temp dir {work} (rerun with --seed {seed})")
    broker = Broker(work / "broker")
    producer = d = None
    try:
        broker.start()
        say("kill-loop", f"broker {broker.bootstrap}")
        messages, ids = generate_messages(work, args.events, seed)

        state = work / "state"
        cfg = write_config(work / "teamhealth.toml", state, broker.bootstrap,
                           {TOPIC: "canonical"})
        t0 = time.monotonic()
        producer = subprocess.Popen(
            [KCAT, "-P", "-b", broker.bootstrap, "-t", TOPIC, "-K", "\t", "-l",
             "-X", "enable.idempotence=true", "-X", "linger.ms=20",
             "-X", "batch.num.messages=10000", "-X", "queue.buffering.max.kbytes=1048576",
             str(messages)], stdout=subprocess.DEVNULL, stderr=open(work / "kcat.err", "wb"))
        daemon_log = work / "daemon.log"
        d = Daemon(cfg, daemon_log)
        kills = []
        for k in range(1, args.kills + 1):
            deadline.check()
            delay = rng.uniform(args.min_delay, args.max_delay)
            end = time.monotonic() + delay
            while time.monotonic() < end:
                if d.proc.poll() is not None:
                    raise RuntimeError(f"daemon exited {d.proc.returncode} before kill {k}:\n"
                                       + d.tail())
                time.sleep(min(0.02, max(0.0, end - time.monotonic())))
            seen = None
            if d.find_port():
                try:
                    seen = int(total(d.metrics(), "teamhealth_log_last_sequence"))
                except (OSError, RuntimeError, ValueError):
                    seen = None
            producing = producer.poll() is None
            rc = d.kill()
            if rc != -9:
                raise RuntimeError(f"daemon exited {rc} before the SIGKILL:\n{d.tail()}")
            at = time.monotonic() - t0
            d = Daemon(cfg, daemon_log)
            opened = wait_for(lambda: d.opened_at() is not None or d.proc.poll() is not None,
                              60, "the restarted daemon to open its log") and d.opened_at()
            if opened is None:
                raise RuntimeError(f"the restarted daemon exited {d.proc.returncode}:\n"
                                   + d.tail())
            if seen is not None and opened < seen:
                raise RuntimeError(f"kill {k}: /metrics showed last_sequence={seen}, the "
                                   f"restarted daemon opened the log at {opened}")
            kills.append({"k": k, "at": at, "delay": delay, "seen": seen, "opened": opened,
                          "producing": producing})
            say("kill-loop", f"kill {k:>2} at {at:6.1f} s (after {delay:.2f} s): /metrics "
                f"last_sequence {'-' if seen is None else seen}, reopened at {opened} "
                f"({100 * opened / args.events:5.1f} %)"
                + (", producer still running" if producing else ""))
        say("kill-loop", "kills done; waiting for the producer and the daemon")
        if producer.wait(timeout=max(1, deadline.left())) != 0:
            raise RuntimeError("kcat -P failed: " + (work / "kcat.err").read_text()[-2000:])
        ends = broker.end_offsets(TOPIC)
        if sum(ends.values()) != args.events:
            raise RuntimeError(f"the topic holds {sum(ends.values())} records, not {args.events}")
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
        ingest_done = time.monotonic() - t0
        rc = d.terminate(timeout=120)

        say("kill-loop", "checking the log")
        counters = inspect_json(state, "counters")[0]
        offsets = {o["partition"]: o["next_offset"] for o in inspect_json(state, "offsets")
                   if o["topic"] == TOPIC}
        quarantine = inspect_json(state, "quarantine")
        scan = scan_log(state)
        logged = {i: c for i, c in scan["ids"].items() if not i.startswith("directory:")}
        lost = ids - set(logged)
        duplicated = [i for i, c in logged.items() if c > 1]
        unexpected = set(logged) - ids
        checks = [
            ("SIGTERM at the end exits 0", rc == 0),
            (f"{args.kills} kills", len(kills) == args.kills),
            ("no event lost", not lost),
            ("no event duplicated", not duplicated),
            ("no unexpected event", not unexpected),
            ("sequences dense from 1", scan["dense"]),
            (f"the log holds {args.events} events",
             scan["by_topic"].get(TOPIC, 0) == args.events),
            ("no Kafka record appended twice", not scan["origin_twice"]),
            ("counters: ingested = N, duplicate 0, nothing quarantined",
             counters["ingested"].get("canonical") == args.events
             and not counters["duplicate"] and not counters["quarantined"] and not quarantine),
            ("last_sequence = events in the log", counters["last_sequence"] == scan["events"]),
            ("stored offsets = end offsets",
             {p: o for p, o in offsets.items()} == {p: o for p, o in ends.items() if o > 0}),
        ]
        total_s = time.monotonic() - t0
        mid = sum(1 for k in kills if k["opened"] < args.events)
        print()
        print(f"kill loop: seed {seed}, binary {BIN}")
        print(f"events produced       {args.events} ({sum(ends.values())} records in "
              f"{TOPIC}, end offsets {ends})")
        print(f"kills                 {len(kills)} (SIGKILL; {mid} before the log was complete, "
              f"{sum(1 for k in kills if k['producing'])} while still producing, "
              f"{sum(1 for k in kills if k['seen'] is None)} before /metrics answered)")
        print(f"events in the log     {scan['events'] - counters['ingested'].get('directory', 0)}"
              f" (+{counters['ingested'].get('directory', 0)} directory)")
        print(f"events lost           {len(lost)}")
        print(f"events duplicated     {len(duplicated)}")
        print(f"unexpected events     {len(unexpected)}")
        print(f"total time            {total_s:.1f} s (ingest and projections done at "
              f"{ingest_done:.1f} s, from the first start)")
        print("progress at each kill (seconds since the start, delay, last_sequence on /metrics "
              "before the kill, last_sequence the restart opened):")
        for k in kills:
            print(f"  {k['k']:>2}  {k['at']:7.1f} s  {k['delay']:.2f} s  "
                  f"{'-' if k['seen'] is None else k['seen']:>8}  {k['opened']:>8}")
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
            say("kill-loop", f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
