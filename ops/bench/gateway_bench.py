#!/usr/bin/env python3
"""Gateway load benchmark: signed GitHub webhooks POSTed to `teamhealth gateway` on loopback,
each answered only once Kafka acknowledged it (idempotent producer, acks=all), on a real
single-node broker. Prints requests/s and latency percentiles. A benchmark, not a test: bounded
in time, not run by CI.

    ops/bench/gateway_bench.py [--seconds 20] [--concurrency 8] [--payload FILE]

Environment: TEAMHEALTH_BIN (default <repo>/build/teamhealth), KAFKA_HEAP (ops/kafka/broker.sh).

What it does: starts a broker in a temp dir (ops/kafka/broker.sh); writes a gateway config with
one source (github, topic `bench.github`, a random secret); starts `teamhealth gateway`; warms
up (one request, which also creates the topic); then `--concurrency` client threads, each on its
own keep-alive connection, POST the payload (default tests/fixtures/payloads/github/
issues-opened.json) with X-GitHub-Event, a unique X-GitHub-Delivery and a valid
X-Hub-Signature-256 for `--seconds`, timing each request; checks that every answer was 200 and
that the topic holds exactly as many records as were accepted; stops the gateway and the broker.
The clients are Python threads on the same machine: on two cores they take CPU from the gateway
and the broker, so the figure is a floor for what the gateway sustains.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BROKER_SH = REPO / "ops" / "kafka" / "broker.sh"
BIN = Path(os.environ.get("TEAMHEALTH_BIN", str(REPO / "build" / "teamhealth")))
KCAT = shutil.which("kcat") or "/usr/bin/kcat"


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, max(0, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[i]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--payload", type=Path,
                    default=REPO / "tests/fixtures/payloads/github/issues-opened.json")
    args = ap.parse_args()
    if not 1 <= args.seconds <= 600 or not 1 <= args.concurrency <= 256:
        ap.error("--seconds 1..600, --concurrency 1..256")
    body = args.payload.read_bytes()
    work = Path(tempfile.mkdtemp(prefix="gateway-bench-"))
    bdir = work / "kafka"
    gateway = None
    try:
        print("== starting a broker", file=sys.stderr)
        subprocess.run(["bash", str(BROKER_SH), "start", str(bdir)], check=True,
                       stdout=subprocess.DEVNULL, timeout=300)
        bootstrap = (bdir / "bootstrap").read_text().strip()
        secret = secrets.token_hex(32)
        (work / "github.secret").write_text(secret + "\n")
        cfg = work / "gateway.toml"
        cfg.write_text(f'[kafka]\nbrokers = "{bootstrap}"\n[logging]\nlevel = "warn"\n'
                       f'[gateway]\nlisten = "127.0.0.1:0"\n'
                       f'[gateway.sources.github]\ntopic = "bench.github"\n'
                       f'secret_file = "{work / "github.secret"}"\n')
        err = open(work / "gateway.stderr", "wb")
        gateway = subprocess.Popen([str(BIN), "gateway", "--config", str(cfg)],
                                   stdout=subprocess.DEVNULL, stderr=err)
        # The port: the gateway logs "Serving HTTP. address=...:PORT" at info; at warn it does
        # not, so ask the kernel which port the process listens on.
        port = None
        deadline = time.monotonic() + 30
        while port is None and time.monotonic() < deadline:
            out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
            for line in out.splitlines():
                if f"pid={gateway.pid}," in line:
                    port = int(re.search(r"127\.0\.0\.1:(\d+)", line).group(1))
            time.sleep(0.1)
        if port is None:
            raise SystemExit("gateway did not listen: " + (work / "gateway.stderr").read_text())
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()

        def connect() -> http.client.HTTPConnection:
            # http.client writes headers and body in two sends: without TCP_NODELAY, Nagle and
            # the server's delayed ACK add ~40 ms to every request, a cost of this client.
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return conn

        def post(conn: http.client.HTTPConnection, delivery: str) -> int:
            conn.request("POST", "/hooks/github", body=body, headers={
                "Content-Type": "application/json", "X-GitHub-Event": "issues",
                "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": signature})
            r = conn.getresponse()
            r.read()
            return r.status

        warm = connect()
        deadline = time.monotonic() + 30
        while post(warm, "warm-up") != 200:
            if time.monotonic() > deadline:
                raise SystemExit("warm-up request never accepted")
            time.sleep(0.5)
        warm.close()

        latencies: list[list[float]] = [[] for _ in range(args.concurrency)]
        failures: list[int] = [0] * args.concurrency
        stop_at = time.monotonic() + args.seconds

        def client(n: int) -> None:
            conn = connect()
            i = 0
            while time.monotonic() < stop_at:
                t0 = time.perf_counter()
                status = post(conn, f"bench-{n}-{i}")
                latencies[n].append(time.perf_counter() - t0)
                if status != 200:
                    failures[n] += 1
                i += 1
            conn.close()

        print(f"== {args.concurrency} clients for {args.seconds:g} s", file=sys.stderr)
        t_start = time.monotonic()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t_start
        all_lat = sorted(x for per in latencies for x in per)
        accepted = len(all_lat) - sum(failures)
        # Every accepted request is one record (plus the warm-up).
        q = subprocess.run([KCAT, "-Q", "-b", bootstrap, "-t", "bench.github:0:-1",
                            "-t", "bench.github:1:-1", "-t", "bench.github:2:-1"],
                           capture_output=True, text=True, timeout=60).stdout
        stored = sum(int(m) for m in re.findall(r"offset (\d+)", q))
        print(f"payload_bytes={len(body)} concurrency={args.concurrency} seconds={elapsed:.1f}")
        print(f"requests={len(all_lat)} accepted={accepted} failed={sum(failures)} "
              f"records_in_kafka={stored - 1}")
        print(f"requests_per_second={len(all_lat) / elapsed:.0f}")
        print("latency_ms p50={:.2f} p90={:.2f} p99={:.2f} max={:.2f}".format(
            *(1000 * percentile(all_lat, p) for p in (50, 90, 99)), 1000 * all_lat[-1]))
        return 0 if sum(failures) == 0 and stored - 1 == accepted else 1
    finally:
        if gateway is not None and gateway.poll() is None:
            gateway.send_signal(signal.SIGTERM)
            gateway.wait(timeout=30)
        subprocess.run(["bash", str(BROKER_SH), "stop", str(bdir)], capture_output=True,
                       timeout=120)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
