#!/usr/bin/env python3
"""Helpers for ingest_bench.sh (python3 stdlib only). Not meant to be run on its own.

  ingest_bench.py generate FILE N          writes N canonical events, one "key<TAB>json" a line
  ingest_bench.py kcat-verify BROKERS TOPIC N
                                           reads the topic once, counts messages and bytes
  ingest_bench.py kcat-time BROKERS TOPIC N RUNS
                                           times `kcat -C ... -e -q > /dev/null` RUNS times
  ingest_bench.py daemon BIN CONFIG LOGFILE N BROKER_PID
                                           starts the daemon, polls /metrics every 100 ms until
                                           teamhealth_log_last_sequence == N, stops it (SIGTERM)

Every measuring subcommand prints one JSON object on stdout; progress goes to stderr.
"""
import json
import os
import random
import re
import resource
import signal
import subprocess
import sys
import time
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Message generation: canonical events (docs/design.md section 4), ~1 KB each, realistic field values.
# --------------------------------------------------------------------------------------------

WORDS = (
    "checkout payment service returns intermittent 502 errors under load after deploy of the "
    "new connection pool settings migrate billing ledger to partitioned tables add retry with "
    "jitter for webhook delivery flaky integration test in search indexer pipeline on arm "
    "runners dashboard latency panel shows wrong percentile when time range exceeds seven days "
    "upgrade grpc and protobuf to fix memory growth in the gateway sidecar customers in eu "
    "region cannot reset password because email template is missing locale fallback refactor "
    "feature flag evaluation to avoid blocking the request thread on cache misses document "
    "oncall escalation policy for the data platform team and link runbooks investigate "
    "elevated p99 on orders api during nightly batch export remove deprecated v1 endpoints "
    "after the sunset date communicated to partners kafka consumer lag alert fires during "
    "rebalance tune thresholds rotate credentials for the analytics warehouse service account "
    "mobile app crashes on launch for users with large offline caches"
).split()
PROJECTS = ["PAY", "CORE", "SRCH", "MOB", "DATA", "WEB", "INFRA", "SEC", "BILL", "GROW"]
SERVICES = ["checkout-api", "orders-api", "search-indexer", "gateway", "billing-worker",
            "auth-service", "notifications", "data-pipeline", "mobile-backend", "ledger"]
REPOS = ["acme/checkout", "acme/platform", "acme/search", "acme/mobile", "acme/infra",
         "acme/web", "acme/data-pipelines", "acme/billing"]
LABELS = ["backend", "frontend", "customer-impact", "tech-debt", "security", "performance",
          "needs-triage", "regression", "good-first-issue", "observability", "eu-region",
          "q2-okr", "incident-followup", "dependencies", "flaky-test", "api", "database"]
STATUSES = [("To Do", "todo"), ("Backlog", "todo"), ("Selected for Development", "todo"),
            ("In Progress", "in_progress"), ("In Review", "in_progress"),
            ("Blocked", "in_progress"), ("QA", "in_progress"), ("Done", "done"),
            ("Won't Do", "done")]
PRIORITIES = ["Highest", "High", "Medium", "Low", "Lowest"]
ITEM_TYPES = ["Bug", "Story", "Task", "Sub-task", "Epic", "Spike"]
REVIEW_STATES = ["approved", "approved", "changes_requested", "commented", "dismissed"]
CHANNEL_TYPES = ["channel"] * 6 + ["group", "im", "im", "mpim"]
URGENCIES = ["high", "low"]
INC_PRI = ["P1", "P2", "P3", "P4", "P5"]
TEAMS = [f"team-{i:03d}" for i in range(200)]  # Kafka key: partitions keyed by team
SOURCE_OF_FAMILY = {"chat": "slack", "work_item": "jira", "pull_request": "github",
                    "incident": "pagerduty", "oncall": "pagerduty"}

# (type, weight): roughly what a mid-size engineering org produces.
TYPES = [
    ("chat.message", 30), ("chat.reaction", 8), ("chat.member_joined", 1),
    ("work_item.created", 4), ("work_item.status_changed", 10), ("work_item.assigned", 4),
    ("work_item.priority_changed", 1), ("work_item.commented", 8), ("work_item.updated", 5),
    ("work_item.worklogged", 2), ("work_item.deleted", 0.2),
    ("pull_request.opened", 3), ("pull_request.ready_for_review", 1),
    ("pull_request.review_requested", 3), ("pull_request.reviewed", 5),
    ("pull_request.merged", 2.5), ("pull_request.closed", 0.5), ("pull_request.commented", 6),
    ("incident.triggered", 1), ("incident.acknowledged", 1), ("incident.resolved", 1),
    ("incident.escalated", 0.4), ("incident.reassigned", 0.3), ("incident.annotated", 0.6),
    ("incident.priority_changed", 0.2), ("oncall.shift", 0.5),
]


def _ref(rng, source):
    if source == "slack":
        return "slack:U0" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789")
                                    for _ in range(8))
    if source == "jira":
        return "jira:5b10ac8d82e05b22cc7d%04x%s" % (rng.randrange(65536),
                                                     "".join(rng.choice("0123456789abcdef")
                                                             for _ in range(8)))
    if source == "github":
        return "github:" + rng.choice(["alice", "bob", "carol", "dmitri", "erin", "farah",
                                        "gustavo", "hiro", "ines", "jamal", "kasia", "lars"]) + \
            "-" + rng.choice(["dev", "eng", "acme", "codes", "x"]) + str(rng.randrange(100))
    return "pagerduty:P" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789")
                                   for _ in range(6))


def _title(rng, lo, hi):
    n = rng.randint(lo, hi)
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize()


def _jl(items):
    return "[" + ",".join('"' + x + '"' for x in items) + "]"


def _time(ms):
    t = time.gmtime(ms // 1000)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour,
                                                   t.tm_min, t.tm_sec, ms % 1000)


def _event(rng, n, ms, typ, people):
    """Returns (subject_json, attrs_members, actor) for one event of type `typ`."""
    fam = typ.split(".")[0]
    if fam == "chat":
        ch = "C0" + "%07X" % rng.randrange(1 << 28)
        ct = rng.choice(CHANNEL_TYPES)
        actor = rng.choice(people["slack"])
        subject = '{"kind":"channel","id":"%s","title":"#%s"}' % (
            ch, "-".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3))))
        if typ == "chat.message":
            mentions = rng.sample(people["slack"], rng.randint(0, 4))
            recips = rng.sample(people["slack"], rng.randint(1, 5)) if ct in ("im", "mpim") \
                else []
            attrs = ['"channel_type":"%s"' % ct,
                     '"thread":%s' % rng.choice(["true", "false", "false"]),
                     '"mentions":%s' % _jl(mentions), '"recipients":%s' % _jl(recips),
                     '"bot":%s' % ("true" if rng.random() < 0.05 else "false"),
                     '"edited":%s' % ("true" if rng.random() < 0.08 else "false"),
                     '"ts":"%d.%06d"' % (ms // 1000, rng.randrange(1000000)),
                     '"thread_ts":"%d.%06d"' % (ms // 1000 - rng.randrange(86400),
                                                rng.randrange(1000000))]
        elif typ == "chat.reaction":
            attrs = ['"channel_type":"%s"' % ct,
                     '"reaction":"%s"' % rng.choice(["+1", "eyes", "white_check_mark", "tada",
                                                     "pray", "rocket", "fire"]),
                     '"item_user":"%s"' % rng.choice(people["slack"])]
        else:
            attrs = ['"channel_type":"%s"' % ct, '"inviter":"%s"' % rng.choice(people["slack"])]
        return subject, attrs, actor
    if fam == "work_item":
        proj = rng.choice(PROJECTS)
        num = rng.randrange(1, 20000)
        actor = rng.choice(people["jira"])
        subject = ('{"kind":"work_item","id":"jira:%d","key":"%s-%d","project":"%s",'
                   '"title":"%s"}' % (10000 + num * 7, proj, num, proj, _title(rng, 6, 16)))
        st, cat = rng.choice(STATUSES)
        if typ == "work_item.created":
            attrs = ['"status":"%s"' % st, '"status_category":"%s"' % cat,
                     '"priority":"%s"' % rng.choice(PRIORITIES),
                     '"assignee":%s' % (('"%s"' % rng.choice(people["jira"]))
                                        if rng.random() < 0.6 else "null"),
                     '"item_type":"%s"' % rng.choice(ITEM_TYPES)]
        elif typ == "work_item.status_changed":
            st2, cat2 = rng.choice(STATUSES)
            attrs = ['"from":"%s"' % st, '"to":"%s"' % st2, '"from_category":"%s"' % cat,
                     '"to_category":"%s"' % cat2]
        elif typ == "work_item.assigned":
            attrs = ['"from":%s' % (('"%s"' % rng.choice(people["jira"]))
                                    if rng.random() < 0.5 else "null"),
                     '"to":"%s"' % rng.choice(people["jira"])]
        elif typ == "work_item.priority_changed":
            a, b = rng.sample(PRIORITIES, 2)
            attrs = ['"from":"%s"' % a, '"to":"%s"' % b]
        elif typ == "work_item.worklogged":
            attrs = ['"seconds":%d' % (900 * rng.randint(1, 32))]
        elif typ == "work_item.updated":
            attrs = ['"fields":%s' % _jl(rng.sample(["labels", "sprint", "components",
                                                     "fixVersions", "description", "duedate",
                                                     "customfield_10016", "summary"],
                                                    rng.randint(1, 3)))]
        else:
            attrs = []
        attrs.append('"labels":%s' % _jl(rng.sample(LABELS, rng.randint(0, 4))))
        attrs.append('"sprint":"%s Sprint %d"' % (proj, rng.randint(40, 90)))
        return subject, attrs, actor
    if fam == "pull_request":
        repo = rng.choice(REPOS)
        num = rng.randrange(1, 9000)
        actor = rng.choice(people["github"])
        subject = ('{"kind":"pull_request","id":"github:%s#%d","key":"%s#%d","project":"%s",'
                   '"title":"%s"}' % (repo, num, repo.split("/")[1], num, repo,
                                      _title(rng, 5, 14)))
        attrs = ['"base":"main"', '"head":"%s/%s"' % (actor.split(":")[1],
                                                       "-".join(rng.sample(WORDS, 3))),
                 '"additions":%d' % rng.randrange(1, 2000),
                 '"deletions":%d' % rng.randrange(0, 800),
                 '"changed_files":%d' % rng.randrange(1, 60)]
        if typ == "pull_request.review_requested":
            attrs.append('"reviewer":"%s"' % rng.choice(people["github"]))
        elif typ == "pull_request.reviewed":
            attrs.append('"state":"%s"' % rng.choice(REVIEW_STATES))
        return subject, attrs, actor
    if fam == "incident":
        svc = rng.choice(SERVICES)
        actor = rng.choice(people["pagerduty"]) if rng.random() < 0.7 else None
        subject = ('{"kind":"incident","id":"pagerduty:Q%s","key":"%d","service":"%s",'
                   '"title":"[%s] %s"}' % (
                       "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789")
                               for _ in range(13)),
                       rng.randrange(1000, 99999), svc, rng.choice(["FIRING", "CRITICAL",
                                                                    "WARNING"]),
                       _title(rng, 6, 14)))
        attrs = []
        if typ in ("incident.triggered", "incident.escalated", "incident.reassigned"):
            attrs.append('"assignees":%s' % _jl(rng.sample(people["pagerduty"],
                                                           rng.randint(1, 3))))
        if typ == "incident.triggered":
            attrs += ['"urgency":"%s"' % rng.choice(URGENCIES),
                      '"priority":"%s"' % rng.choice(INC_PRI), '"status":"triggered"']
        if typ == "incident.priority_changed":
            a, b = rng.sample(INC_PRI, 2)
            attrs += ['"from":"%s"' % a, '"to":"%s"' % b]
        attrs += ['"escalation_policy":"P%s"' % "".join(rng.choice("ABCDEFGH0123456789")
                                                        for _ in range(6)),
                  '"incident_number":%d' % rng.randrange(1000, 99999)]
        return subject, attrs, actor
    # oncall.shift
    person = rng.choice(people["pagerduty"])
    sched = "P" + "".join(rng.choice("ABCDEFGH0123456789") for _ in range(6))
    subject = ('{"kind":"schedule","id":"pagerduty:%s","service":"%s","title":"%s primary"}'
               % (sched, rng.choice(SERVICES), rng.choice(SERVICES)))
    start = ms - ms % 3600000
    attrs = ['"person":"%s"' % person, '"level":%d' % rng.randint(1, 3),
             '"start":"%s"' % _time(start), '"end":"%s"' % _time(start + 7 * 86400000)]
    return subject, attrs, None


def generate(path, n, seed=20260302):
    rng = random.Random(seed)
    people = {src: [_ref(rng, src) for _ in range(400)]
              for src in ("slack", "jira", "github", "pagerduty")}
    names, weights = zip(*TYPES)
    # Weighted type choice, precomputed in chunks (random.choices is much faster in bulk).
    t0 = time.monotonic()
    base_ms = 1767225600000  # 2026-01-01T00:00:00Z
    total = 0
    with open(path, "w", buffering=1 << 22) as out:
        done = 0
        while done < n:
            chunk = min(100000, n - done)
            types = rng.choices(names, weights, k=chunk)
            lines = []
            for i in range(chunk):
                k = done + i
                ms = base_ms + k * 7776 + rng.randrange(7776)  # one quarter over 1M events
                typ = types[i]
                subject, attrs, actor = _event(rng, k, ms, typ, people)
                team = rng.choice(TEAMS)
                attrs.append('"team":"%s"' % team)
                head = ('{"id":"canonical:%s-%010d-%08x","source":"canonical","type":"%s",'
                        '"occurred_at":"%s","actor":%s,"subject":%s,"attrs":{' % (
                            typ.split(".")[0], k, rng.getrandbits(32), typ, _time(ms),
                            ('"%s"' % actor) if actor else "null", subject))
                body = head + ",".join(attrs)
                # Pad to a realistic ~1 KB (900..1150 bytes) with what a bridge and a vendor
                # add: delivery metadata and the people watching the item (person refs; attrs
                # are flat: strings, numbers, bools, null or lists of strings).
                target = rng.randint(900, 1150)
                body += (',"delivery_id":"%032x","received_at":"%s","bridge":'
                         '"webhook-bridge/2.4.1"' % (rng.getrandbits(128), _time(ms + 150)))
                extra = target - len(body) - 2
                if extra > 30:
                    pool = people[SOURCE_OF_FAMILY[typ.split(".")[0]]]
                    watchers = []
                    used = len(',"watchers":[]')
                    start = rng.randrange(len(pool))  # a run of distinct people
                    for j in range(start, start + 60):
                        w = pool[j % len(pool)]
                        if used + len(w) + 3 > extra:
                            break
                        watchers.append(w)
                        used += len(w) + 3
                    body += ',"watchers":%s' % _jl(watchers)
                line = body + "}}"
                total += len(line)
                lines.append(team + "\t" + line + "\n")
            out.write("".join(lines))
            done += chunk
            log(f"generated {done}/{n} messages ({time.monotonic() - t0:.1f}s)")
    print(json.dumps({"messages": n, "value_bytes": total,
                      "seconds": round(time.monotonic() - t0, 2)}))


# --------------------------------------------------------------------------------------------
# /proc helpers
# --------------------------------------------------------------------------------------------

def proc_cpu(pid):
    """user+system CPU seconds of a process (all threads), or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def thread_cpu(pid):
    """{thread name: CPU seconds}, threads of the same name added up."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                s = f.read()
        except OSError:
            continue
        name = s[s.index("(") + 1:s.rindex(")")]
        fields = s.rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK
        name = re.sub(r"\d+$", "#", name)  # rdk:broker1, rdk:broker2 -> rdk:broker#
        out[name] = out.get(name, 0.0) + cpu
    return out


def system_busy():
    """CPU seconds the whole machine spent in processes (user, nice, system; all cores), from
    /proc/stat. Interrupt and softirq time (loopback networking) and steal are left out."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2]) / CLK_TCK


def proc_io(pid):
    try:
        with open(f"/proc/{pid}/io") as f:
            return {k: int(v) for k, v in (line.split(": ") for line in f)}
    except OSError:
        return {}


def ctxt_switches(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if "ctxt_switches" in line:
                    k, v = line.split(":")
                    out[k.strip()] = int(v)
    except OSError:
        pass
    return out


# --------------------------------------------------------------------------------------------
# kcat
# --------------------------------------------------------------------------------------------

def kcat_verify(brokers, topic, n):
    """One untimed read that prints partition and size of every message: the count check."""
    cmd = ["kcat", "-C", "-b", brokers, "-t", topic, "-o", "beginning", "-e", "-q",
           "-f", "%p %S\n"]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    count, nbytes, per_part = 0, 0, {}
    for line in p.stdout:
        part, size = line.split()
        count += 1
        nbytes += int(size)
        per_part[int(part)] = per_part.get(int(part), 0) + 1
    rc = p.wait()
    print(json.dumps({"messages": count, "value_bytes": nbytes, "rc": rc,
                      "partitions": {str(k): v for k, v in sorted(per_part.items())},
                      "seconds": round(time.monotonic() - t0, 3), "ok": rc == 0 and count == n}))


def kcat_time(brokers, topic, n, runs, broker_pid):
    cmd = ["kcat", "-C", "-b", brokers, "-t", topic, "-o", "beginning", "-e", "-q"]
    results = []
    for r in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        b0 = proc_cpu(broker_pid)
        s0 = system_busy()
        t0 = time.monotonic()
        rc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL).returncode
        wall = time.monotonic() - t0
        b1 = proc_cpu(broker_pid)
        s1 = system_busy()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_user = after.ru_utime - before.ru_utime
        cpu_sys = after.ru_stime - before.ru_stime
        others = (s1 - s0) - (cpu_user + cpu_sys) - ((b1 or 0) - (b0 or 0))
        res = {"run": r + 1, "rc": rc, "seconds": round(wall, 3),
               "kcat_cpu_user_s": round(cpu_user, 2), "kcat_cpu_sys_s": round(cpu_sys, 2),
               "kcat_cpu_pct": round(100 * (cpu_user + cpu_sys) / wall, 1),
               "broker_cpu_pct": round(100 * (b1 - b0) / wall, 1)
               if b0 is not None and b1 is not None else None,
               "other_cpu_pct": round(100 * max(0.0, others) / wall, 1)}
        log("kcat run %d: %.3f s (kcat CPU %s%%, broker CPU %s%%, other processes %s%%), "
            "rc=%d" % (r + 1, wall, res["kcat_cpu_pct"], res["broker_cpu_pct"],
                       res["other_cpu_pct"], rc))
        if rc != 0:
            sys.exit(f"kcat exited with {rc}")
        results.append(res)
    print(json.dumps({"runs": results, "best": min(results, key=lambda x: x["seconds"])}))


# --------------------------------------------------------------------------------------------
# daemon
# --------------------------------------------------------------------------------------------

def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
        text = r.read().decode()
    last = ingested = None
    for line in text.splitlines():
        if line.startswith("teamhealth_log_last_sequence"):
            last = int(float(line.split()[-1]))
        elif line.startswith("teamhealth_events_ingested_total") and 'source="canonical"' in line:
            ingested = int(float(line.split()[-1]))
    return last, ingested, text


def follower_positions_caught_up(text, n):
    """Whether the indexes reached sequence n and no projection lags the log."""
    indexed = None
    lags = []
    for line in text.splitlines():
        if line.startswith("teamhealth_log_indexed_sequence"):
            indexed = int(float(line.split()[-1]))
        elif line.startswith("teamhealth_projection_lag_events"):
            lags.append(float(line.split()[-1]))
    return indexed is not None and indexed >= n and bool(lags) and max(lags) == 0


def daemon(binary, config, logfile, n, broker_pid, timeout_s=3600):
    errlog = open(logfile, "w")
    broker_cpu0 = proc_cpu(broker_pid)
    sys0 = system_busy()
    bench0 = resource.getrusage(resource.RUSAGE_SELF)
    t_start = time.monotonic()
    proc = subprocess.Popen([binary, "serve", "--config", config], stdin=subprocess.DEVNULL,
                            stdout=errlog, stderr=errlog)
    # INGEST_BENCH_PERF=<file>: profile the daemon (perf record -g) from the first event to the
    # last; the profiler's own cost disturbs that run's figures. It attaches once the first
    # event is in, when the daemon's threads exist: `perf record -p` follows only the threads
    # there at attach (attached at exec, it saw the main thread and RocksDB's, never the writer,
    # the indexer or the projector).
    perf = None
    port = None
    t_http = t_first = t_done = None
    samples = []  # (t, seq, daemon_cpu, broker_cpu)
    last = 0
    try:
        while True:
            now = time.monotonic()
            if proc.poll() is not None:
                sys.exit(f"daemon exited early with {proc.returncode}; see {logfile}")
            if now - t_start > timeout_s:
                sys.exit(f"daemon did not reach sequence {n} within {timeout_s}s "
                         f"(at {last}); see {logfile}")
            if port is None:
                with open(logfile) as f:
                    m = re.search(r"Serving HTTP\. address=[\d.]+:(\d+)", f.read())
                if m:
                    port = int(m.group(1))
                    t_http = now
            if port is not None:
                try:
                    last, ingested, _ = scrape(port)
                except OSError:
                    last = last
                else:
                    samples.append((now - t_start, last or 0, proc_cpu(proc.pid),
                                    proc_cpu(broker_pid)))
                    if last and t_first is None:
                        t_first = now
                        if os.environ.get("INGEST_BENCH_PERF"):
                            perf = subprocess.Popen(
                                ["perf", "record", "-g", "-q", "-o",
                                 os.environ["INGEST_BENCH_PERF"], "-p", str(proc.pid)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
                    if last is not None and last >= n:
                        t_done = now
                        break
            time.sleep(max(0.0, 0.1 - (time.monotonic() - now)))
        wall = t_done - t_start
        if perf is not None:
            perf.send_signal(signal.SIGINT)
            perf.wait()
        daemon_cpu = proc_cpu(proc.pid)
        broker_cpu1 = proc_cpu(broker_pid)
        sys1 = system_busy()
        bench1 = resource.getrusage(resource.RUSAGE_SELF)
        poller_cpu = (bench1.ru_utime + bench1.ru_stime) - (bench0.ru_utime + bench0.ru_stime)
        others = (sys1 - sys0) - (daemon_cpu or 0) - ((broker_cpu1 or 0) - (broker_cpu0 or 0)) \
            - poller_cpu
        threads = thread_cpu(proc.pid)
        io = proc_io(proc.pid)
        ctx = ctxt_switches(proc.pid)
        _, ingested, text = scrape(port)
        # What follows the log (indexes, projections; a lower priority than ingest) may trail
        # it: the time until both have caught up, and the daemon's CPU by then, count too.
        t_caught_up = None
        caught_deadline = time.monotonic() + 600
        while time.monotonic() < caught_deadline:
            try:
                _, _, now_text = scrape(port)
            except OSError:  # a slow scrape: ask again
                continue
            if follower_positions_caught_up(now_text, n):
                t_caught_up = time.monotonic()
                break
            time.sleep(0.1)
        caught_up_cpu = proc_cpu(proc.pid)
        caught_up_threads = thread_cpu(proc.pid)
        lag = sum(float(line.split()[-1]) for line in text.splitlines()
                  if line.startswith("teamhealth_consumer_lag_messages"))
        quarantined = sum(float(line.split()[-1]) for line in text.splitlines()
                          if line.startswith("teamhealth_events_quarantined_total"))
        # Ready once caught up: give /readyz up to 5 s after the last event.
        ready = None
        t_ready_deadline = time.monotonic() + 5
        while time.monotonic() < t_ready_deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                    ready = r.status
            except urllib.error.HTTPError as e:
                ready = e.code
            except OSError:
                ready = None
            if ready == 200:
                break
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        errlog.close()
    with open(logfile) as f:
        clean = "Stopped cleanly" in f.read()
    # Steady-state rate: over the middle of the run (10%..90% of the sequence), so neither
    # start-up nor the tail's partially filled batches count.
    steady = None
    lo = next((s for s in samples if s[1] >= 0.1 * n), None)
    hi = next((s for s in samples if s[1] >= 0.9 * n), None)
    if lo and hi and hi[0] > lo[0]:
        steady = {"msgs_per_s": round((hi[1] - lo[1]) / (hi[0] - lo[0])),
                  "daemon_cpu_pct": round(100 * (hi[2] - lo[2]) / (hi[0] - lo[0]), 1)
                  if hi[2] is not None and lo[2] is not None else None,
                  "broker_cpu_pct": round(100 * (hi[3] - lo[3]) / (hi[0] - lo[0]), 1)
                  if hi[3] is not None and lo[3] is not None else None}
    print(json.dumps({
        "seconds": round(wall, 3),
        "seconds_to_http": round(t_http - t_start, 3) if t_http else None,
        "seconds_to_first_event": round(t_first - t_start, 3) if t_first else None,
        "seconds_first_event_to_done": round(t_done - t_first, 3) if t_first else None,
        "last_sequence": last, "ingested_canonical": ingested, "quarantined": quarantined,
        "lag_at_done": lag, "readyz": ready, "exit_code": proc.returncode,
        "stopped_cleanly": clean,
        "daemon_cpu_s": round(daemon_cpu, 2) if daemon_cpu is not None else None,
        "daemon_cpu_pct": round(100 * daemon_cpu / wall, 1) if daemon_cpu is not None else None,
        "broker_cpu_pct": round(100 * (broker_cpu1 - broker_cpu0) / wall, 1)
        if broker_cpu0 is not None and broker_cpu1 is not None else None,
        "poller_cpu_pct": round(100 * poller_cpu / wall, 1),
        "other_cpu_pct": round(100 * max(0.0, others) / wall, 1),
        "daemon_threads_cpu_s": {k: round(v, 2) for k, v in
                                 sorted(threads.items(), key=lambda kv: -kv[1]) if v >= 0.01},
        "daemon_write_bytes": io.get("write_bytes"),
        "daemon_ctxt_switches": ctx,
        "steady": steady,
        "seconds_to_caught_up": round(t_caught_up - t_start, 3) if t_caught_up else None,
        "daemon_cpu_s_caught_up": round(caught_up_cpu, 2) if caught_up_cpu is not None else None,
        "daemon_threads_cpu_s_caught_up": {k: round(v, 2) for k, v in
                                           sorted(caught_up_threads.items(),
                                                  key=lambda kv: -kv[1]) if v >= 0.01},
    }))


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "generate":
        generate(args[0], int(args[1]))
    elif cmd == "kcat-verify":
        kcat_verify(args[0], args[1], int(args[2]))
    elif cmd == "kcat-time":
        kcat_time(args[0], args[1], int(args[2]), int(args[3]), int(args[4]))
    elif cmd == "daemon":
        daemon(args[0], args[1], args[2], int(args[3]), int(args[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
