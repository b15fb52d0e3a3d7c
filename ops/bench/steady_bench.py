#!/usr/bin/env python3
"""Steady-state benchmark: what the daemon costs while events trickle in after a backlog.

    ops/bench/steady_bench.py [--backlog N] [--rate R] [--seconds S]

A daemon runs 24/7 and most of that time events arrive a few at a time. This measures its
CPU (per thread) and the bytes it writes to disk in that state, on a real Kafka broker
(ops/kafka/broker.sh) on loopback, by itself:
  1. produces N canonical events (ingest_bench.py's generator: ~1 KB each) to
     topic `bench` and starts `teamhealth serve` on a fresh state directory;
  2. waits until the log, its indexes and the projections hold all N, then until the daemon
     is idle (the metric facts build behind the projections): under 0.04 CPU-s per 2 s;
  3. produces R events a second for S seconds, each stamped with the current time (as live
     events are), waits until the log holds them, and reads the daemon's CPU per thread and
     its write_bytes (/proc/PID/io: bytes sent to the block device; on a tmpfs TMPDIR they are
     ~0, so wchar, bytes passed to write(), is reported too) over that stretch;
  4. prints one line of figures and one JSON line, stops the daemon and the broker and removes
     the temp dir (kept, with the daemon's log, when something failed).
A benchmark, not a test: it fails only if something does not work. Defaults: N 300000, R 20,
S 330 (a checkpoint of the projections every 5 minutes at most, of the facts every minute,
so a run shorter than 5 minutes can miss one). Environment: TEAMHEALTH_BIN (default
<repo>/build-rel/teamhealth, a Release build), TMPDIR.
"""
import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import ingest_bench as ib  # noqa: E402  (the generator, /proc readers and the scrape)


def wait_for(pred, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.2)
    sys.exit(f"timed out after {timeout_s}s waiting for {what}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backlog", type=int, default=300000)
    ap.add_argument("--rate", type=int, default=20, help="events per second")
    ap.add_argument("--seconds", type=int, default=330)
    a = ap.parse_args()
    if a.backlog < 1 or a.rate < 1 or a.seconds < 1:
        sys.exit("--backlog, --rate and --seconds must be positive")
    binary = os.environ.get("TEAMHEALTH_BIN", f"{REPO}/build-rel/teamhealth")
    if not os.access(binary, os.X_OK):
        sys.exit(f"no teamhealth binary at {binary} (set TEAMHEALTH_BIN)")
    tmp = tempfile.mkdtemp(prefix="steady-bench.", dir=os.environ.get("TMPDIR", "/tmp"))
    broker_sh = f"{REPO}/ops/kafka/broker.sh"
    proc = producer = None
    ok = False
    try:
        bootstrap = subprocess.check_output([broker_sh, "start", f"{tmp}/broker"],
                                            text=True).strip()
        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
            ib.generate(f"{tmp}/messages.tsv", a.backlog + a.rate * a.seconds)
        with open(f"{tmp}/messages.tsv") as f:
            lines = f.readlines()
        with open(f"{tmp}/backlog.tsv", "w") as f:
            f.writelines(lines[:a.backlog])
        subprocess.check_call(["kcat", "-P", "-b", bootstrap, "-t", "bench", "-K", "\t", "-l",
                               "-X", "linger.ms=20", f"{tmp}/backlog.tsv"])
        os.makedirs(f"{tmp}/state")
        with open(f"{tmp}/identity.key", "wb") as f:
            f.write(os.urandom(32))
        with open(f"{tmp}/teamhealth.toml", "w") as f:
            f.write(f'[storage]\ndir = "{tmp}/state"\nidentity_key_file = "{tmp}/identity.key"\n'
                    f'[kafka]\nbrokers = "{bootstrap}"\n[[kafka.topics]]\nname = "bench"\n'
                    'source = "canonical"\n[http]\nlisten = "127.0.0.1:0"\n')
        log = open(f"{tmp}/daemon.log", "w")
        proc = subprocess.Popen([binary, "serve", "--config", f"{tmp}/teamhealth.toml"],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        port = []

        def serving():
            if proc.poll() is not None:
                sys.exit(f"the daemon exited with {proc.returncode}; see {tmp}/daemon.log")
            with open(f"{tmp}/daemon.log") as f:
                m = re.search(r"Serving HTTP\. address=[\d.]+:(\d+)", f.read())
            if m:
                port.append(int(m.group(1)))
            return bool(port)

        wait_for(serving, 60, "the daemon's HTTP listener")

        def caught_up():
            last, _, text = ib.scrape(port[0])
            return last >= a.backlog and ib.follower_positions_caught_up(text, a.backlog)

        wait_for(caught_up, 1800, f"the daemon to hold {a.backlog} events")
        prev = sum(ib.thread_cpu(proc.pid).values())
        for _ in range(900):
            time.sleep(2)
            cur = sum(ib.thread_cpu(proc.pid).values())
            if cur - prev < 0.04:
                break
            prev = cur
        else:
            sys.exit("the daemon did not become idle within 30 minutes")

        io0, cpu0, t0 = ib.proc_io(proc.pid), ib.thread_cpu(proc.pid), time.monotonic()
        producer = subprocess.Popen(["kcat", "-P", "-b", bootstrap, "-t", "bench", "-K", "\t",
                                     "-X", "linger.ms=5"], stdin=subprocess.PIPE, text=True)
        for s in range(a.seconds):
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
            chunk = lines[a.backlog + s * a.rate:a.backlog + (s + 1) * a.rate]
            producer.stdin.writelines(
                re.sub(r'"occurred_at":"[^"]*"', f'"occurred_at":"{stamp}"', ln) for ln in chunk)
            producer.stdin.flush()
            time.sleep(max(0.0, t0 + s + 1 - time.monotonic()))
        producer.stdin.close()
        if producer.wait(timeout=60) != 0:
            sys.exit("kcat -P failed")
        total = a.backlog + a.rate * a.seconds
        wait_for(lambda: ib.scrape(port[0])[0] >= total, 60, f"the log to hold {total} events")
        time.sleep(1)  # the indexer and the projector follow
        elapsed = time.monotonic() - t0
        io1, cpu1 = ib.proc_io(proc.pid), ib.thread_cpu(proc.pid)
        last, _, _ = ib.scrape(port[0])
        if last != total:
            sys.exit(f"the log holds {last} events, expected {total}")
        written = io1.get("write_bytes", 0) - io0.get("write_bytes", 0)
        passed = io1.get("wchar", 0) - io0.get("wchar", 0)
        threads = {k: round(cpu1[k] - cpu0.get(k, 0.0), 2) for k in cpu1
                   if cpu1[k] - cpu0.get(k, 0.0) >= 0.005}
        cpu = sum(threads.values())
        result = {"backlog": a.backlog, "rate": a.rate, "seconds": round(elapsed, 1),
                  "written_mb_per_min": round(written / 1e6 / elapsed * 60, 1),
                  "wchar_mb_per_min": round(passed / 1e6 / elapsed * 60, 1),
                  "cpu_share_of_a_core": round(cpu / elapsed, 4), "threads_cpu_s": threads}
        print(f"steady state, {a.rate} events/s for {elapsed:.0f} s after {a.backlog}: daemon "
              f"wrote {written / 1e6:.1f} MB ({result['written_mb_per_min']} MB/min; wchar "
              f"{result['wchar_mb_per_min']} MB/min), used "
              f"{cpu:.2f} CPU-s ({100 * cpu / elapsed:.1f}% of a core); threads (CPU s) "
              + ", ".join(f"{k} {v}" for k, v in sorted(threads.items(), key=lambda kv: -kv[1])))
        print(json.dumps(result))
        if written == 0:
            print("WARNING: no bytes reached a block device: is TMPDIR a tmpfs? (wchar counts "
                  "what the daemon passed to write())", file=sys.stderr)
        ok = True
    finally:
        for p in (producer, proc):
            if p is not None and p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        subprocess.call([broker_sh, "stop", f"{tmp}/broker"], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp} (the daemon's log: {tmp}/daemon.log)", file=sys.stderr)


if __name__ == "__main__":
    main()
