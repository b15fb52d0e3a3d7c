// `teamhealth demo`: the whole product on one laptop. An embedded Kafka-protocol broker
// (librdkafka's mock cluster), a generated organisation fed into it in step with consumption,
// the daemon consuming it, /metrics and /readyz on the usual listener, and a summary table.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <thread>

#include "commands.h"
#include "daemon.h"
#include "directory.h"
#include "signals.h"
#include "report_html.h"
#include "teamhealth/base/url.h"
#include "teamhealth/generate/generator.h"
#include "teamhealth/ingest/ingestor.h"
#include "teamhealth/ingest/producer.h"
#include "teamhealth/storage/store.h"

namespace teamhealth::app {
namespace {

constexpr const char* kDemoUsage =
    "usage: teamhealth demo [--for DURATION] [--state-dir DIR] [--listen HOST:PORT]\n"
    "                       [--seed N] [--teams N] [--people N] [--days N]\n"
    "  Runs the daemon on an embedded broker fed with a generated organisation (N days of\n"
    "  history ending now, default 28; --teams 1-8 engineering teams, default 4, plus support\n"
    "  and sales; --people engineers, at least 2 per team, default 24), serves /metrics,\n"
    "  /healthz and /readyz (--listen, default 127.0.0.1:9810; port 0 picks a free one),\n"
    "  prints each team's headline numbers, and keeps serving until interrupted or until\n"
    "  DURATION (1s to 365d, e.g. 60s, 5m) passes. --state-dir keeps the log (default: a\n"
    "  temporary directory); run again on it, the demo continues that log with the history\n"
    "  generated since its newest event.\n";

constexpr const char* kDefaultListen = "127.0.0.1:9810";

// Text the demo writes into its TOML config between quotes: no quote, backslash or control
// character, which would need escaping.
bool FitsTomlString(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
  });
}

// --listen: HOST:PORT with a port from 0 to 65535, checked before anything starts.
Status CheckListen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || !FitsTomlString(listen)) {
    return Error("--listen " + listen + ": expected HOST:PORT, e.g. 127.0.0.1:9810");
  }
  if (auto port = ParseWholeNumber(listen.substr(colon + 1), 0, 65535); !port) {
    return Error("--listen " + listen + ": the port: " + port.error().message());
  }
  return Status::Ok();
}

// Where a run on a kept state directory starts from.
struct Continuation {
  bool continues = false;  // the log already holds events
  EpochMillis newest = 0;  // its newest event that is not a directory record
  size_t first = 0;        // the first generated record after `newest`: feeding starts there
  std::string suffix;      // of this run's topic names
};

// The embedded broker is new on every run, so its partitions start empty, while a kept log
// stores the offsets its earlier runs reached: resumed there, the ingest would see truncated
// partitions (an error per partition, and records skipped). So this run's topics are named
// so that the log holds no offset for them (webhooks.jira, then webhooks.jira.run2, ...) and
// are read from their beginning; and only the generated records after the log's newest event
// are fed, so the history continues instead of repeating. Renames the records' topics.
// A state directory that does not open read-only (new, empty) starts afresh; a real problem
// with it is reported when the daemon opens it.
Continuation ContinueLog(const std::string& state, std::vector<generate::Record>& records) {
  Continuation c;
  auto store = storage::Store::Open({state, true, false});
  if (!store) return c;
  auto log = eventlog::EventLog::Open(**store);
  if (!log) return c;
  c.continues = (*log)->LastSequence().value() > 0;
  bool any = false;
  auto scanned = (*log)->ForEach(Sequence(1), [&](Sequence, const schema::Event& e) {
    if (e.source() != "directory") {
      c.newest = any ? std::max(c.newest, e.occurred_at_ms()) : e.occurred_at_ms();
      any = true;
    }
    return true;
  });
  if (scanned && any) {
    // Records are in time order.
    c.first = static_cast<size_t>(
        std::upper_bound(records.begin(), records.end(), c.newest,
                         [](EpochMillis t, const generate::Record& r) { return t < r.at; }) -
        records.begin());
  }
  std::set<std::string> stored, names;
  if (auto offsets = (*log)->Offsets()) {
    for (const auto& [tp, _] : *offsets) stored.insert(tp.topic);
  }
  for (const auto& r : records) names.insert(r.topic);
  auto used = [&](const std::string& suffix) {
    return std::any_of(names.begin(), names.end(),
                       [&](const std::string& n) { return stored.contains(n + suffix); });
  };
  for (int run = 2; used(c.suffix); ++run) c.suffix = ".run" + std::to_string(run);
  for (auto& r : records) r.topic += c.suffix;
  return c;
}

// Records of this run's topics the log has taken in (ingested, ignored, duplicate or
// quarantined): the sum of their stored next offsets, as the log holds no offset for them
// from before this run. Safe beside the ingest thread (a read of the log).
uint64_t Consumed(eventlog::EventLog& log, const std::set<std::string>& topics) {
  uint64_t n = 0;
  if (auto offsets = log.Offsets()) {
    for (const auto& [tp, next] : *offsets) {
      if (topics.contains(tp.topic)) n += static_cast<uint64_t>(next.value());
    }
  }
  return n;
}

double Sum(const std::map<projections::Labels, double>* series, const std::string& team,
           const std::string& label = "", const std::string& value = "") {
  double total = 0;
  if (!series) return 0;
  for (const auto& [labels, v] : *series) {
    bool team_ok = false, label_ok = label.empty();
    for (const auto& [k, val] : labels) {
      team_ok = team_ok || (k == "team" && val == team);
      label_ok = label_ok || (k == label && val == value);
    }
    if (team_ok && label_ok) total += v;
  }
  return total;
}

// Each team's headline numbers, from the live metrics; returns the busiest team (most pages,
// the first by name on a tie; empty without teams).
std::string PrintSummary(const projections::Accumulator& acc,
                         const std::vector<std::string>& teams) {
  auto counters = [&](const char* name) {
    auto it = acc.counters().find(name);
    return it == acc.counters().end() ? nullptr : &it->second;
  };
  auto gauges = [&](const char* name) {
    auto it = acc.gauges().find(name);
    return it == acc.gauges().end() ? nullptr : &it->second;
  };
  std::printf("\n%-12s %7s %9s %9s %7s %9s %9s %8s %8s\n", "team", "members", "incidents", "pages",
              "night", "switches", "direct", "done", "at-risk");
  std::printf("%-12s %7s %9s %9s %7s %9s %9s %8s %8s\n", "", "", "", "", "pages", "", "pings",
              "items", "members");
  std::string busiest;
  double most = -1;
  for (const auto& team : teams) {
    const double pages = Sum(counters("teamhealth_oncall_interruptions_total"), team);
    if (pages > most) busiest = team, most = pages;
    std::printf("%-12s %7.0f %9.0f %9.0f %7.0f %9.0f %9.0f %8.0f %8.0f\n", team.c_str(),
                Sum(gauges("teamhealth_team_members"), team),
                Sum(counters("teamhealth_oncall_incidents_total"), team),
                Sum(counters("teamhealth_oncall_interruptions_total"), team),
                Sum(counters("teamhealth_oncall_interruptions_total"), team, "period", "sleep"),
                Sum(counters("teamhealth_context_switches_total"), team),
                Sum(counters("teamhealth_direct_interruptions_total"), team),
                Sum(counters("teamhealth_work_items_completed_total"), team),
                // Distinct members at risk on at least one signal, not a sum over signals.
                Sum(gauges("teamhealth_burnout_members_at_risk"), team, "signal", "any"));
  }
  std::printf("\n");
  return busiest;
}

// Produces the generated records from `first` on in time order, never more than `window`
// records ahead of what the log has taken in: the embedded broker keeps only 5 MiB per
// partition.
Status Feed(const generate::Output& org, size_t first, const std::string& bootstrap, Daemon& daemon,
            const std::set<std::string>& topics, const std::atomic<bool>& stop) {
  auto producer = ingest::RecordProducer::Create(bootstrap);
  if (!producer) return producer.error();
  constexpr uint64_t kWindow = 1500;
  uint64_t produced = 0;
  for (size_t i = first; i < org.records.size(); ++i) {
    const generate::Record& r = org.records[i];
    if (stop.load()) return Status::Ok();
    // One key per topic: one partition, so each vendor's records stay in time order.
    if (auto s = (*producer)->Produce(r.topic, r.source, r.headers, r.body); !s) return s;
    if (++produced % 250 == 0) {
      if (auto s = (*producer)->Flush(10000); !s) return s;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (!stop.load() && Consumed(daemon.log(), topics) + kWindow < produced &&
             std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  }
  return (*producer)->Flush(10000);
}

}  // namespace

int Demo(const Args& args) {
  // Not given: serve until interrupted. At most a year keeps the deadline far from overflow.
  const auto for_arg = DurationOption(args, "for", 1, 365LL * 86400, 0);
  if (!for_arg) return UsageError(args, for_arg.error().message());
  const int64_t for_seconds = *for_arg;
  generate::Options options;
  const auto seed = NumberOption(args, "seed", 0, std::numeric_limits<uint64_t>::max(), 1);
  const auto team_count = NumberOption(args, "teams", 1, 8, 4);
  const auto people = NumberOption(args, "people", 2, 10000, 24);
  const auto days = NumberOption(args, "days", 1, 3650, 28);
  for (const auto* n : {&seed, &team_count, &people, &days}) {
    if (!*n) return UsageError(args, n->error().message());
  }
  options.seed = *seed;
  options.teams = static_cast<int>(*team_count);
  options.people = static_cast<int>(*people);
  options.days = static_cast<int>(*days);
  if (auto s = CheckListen(args.Get("listen", kDefaultListen)); !s) {
    return UsageError(args, s.error().message());
  }
  if (!FitsTomlString(args.Get("state-dir"))) {
    return UsageError(args, "--state-dir " + args.Get("state-dir") +
                                ": no quotes, backslashes or control characters, please");
  }
  // History ending now, to the minute: never in the future, and trailing windows "ending
  // now" see all of it.
  options.end = NowMillis() / 60'000 * 60'000;
  if (auto s = generate::Validate(options); !s) {
    return UsageError(args, s.error().message());
  }
  auto org = generate::Generate(options);
  if (!org) {
    std::fprintf(stderr, "teamhealth demo: %s\n", org.error().message().c_str());
    return 1;
  }

  std::string state = args.Get("state-dir");
  const bool temporary = state.empty();
  if (temporary) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "teamhealth-demo-XXXXXX").string();
    state = mkdtemp(tmpl.data());
  }
  // A random identity key beside the state directory, never inside it (docs/design.md
  // section 6); a kept state directory keeps its key across runs.
  std::error_code key_ec;
  auto key_base = std::filesystem::absolute(state, key_ec).lexically_normal();
  if (!key_base.has_filename()) key_base = key_base.parent_path();
  const std::string key_file = key_base.string() + ".identity.key";
  if (auto s = eventlog::IdentityKey::CreateFileIfMissing(key_file); !s) {
    std::fprintf(stderr, "teamhealth demo: %s\n", s.error().message().c_str());
    return 1;
  }
  // A kept state directory: continue its log (renames this run's topics if it must).
  const Continuation continuation = ContinueLog(state, org->records);
  std::map<std::string, std::string> topics;  // topic -> source
  for (const auto& r : org->records) topics[r.topic] = r.source;
  std::string toml = "[storage]\ndir = \"" + state + "\"\nsync_writes = false\n" +
                     "identity_key_file = \"" + key_file + "\"\n" +
                     "[kafka]\nbrokers = \"embedded\"\nbatch_max_ms = 50\n";
  for (const auto& [topic, source] : topics) {
    toml += "[[kafka.topics]]\nname = \"" + topic + "\"\nsource = \"" + source + "\"\n";
  }
  toml += "[http]\nlisten = \"" + args.Get("listen", kDefaultListen) + "\"\n" +
          "[logging]\nlevel = \"warn\"\n" + org->directory_toml;
  auto config = config::ParseConfig(toml, "demo");
  if (!config) {
    std::fprintf(stderr, "teamhealth demo: %s\n", config.error().message().c_str());
    return 1;
  }
  // The same config beside the log, for `report` and `backfill` over the demo's state (they
  // need its directory and definitions; they never touch Kafka).
  const std::string config_path = (std::filesystem::path(state) / "demo.toml").string();
  std::error_code ec;
  std::filesystem::create_directories(state, ec);
  if (std::FILE* f = std::fopen(config_path.c_str(), "w")) {
    std::fwrite(toml.data(), 1, toml.size(), f);
    std::fclose(f);
  } else {
    std::fprintf(stderr, "teamhealth demo: cannot write %s\n", config_path.c_str());
    return 1;
  }

  BlockSignals();
  const logging::Loggers loggers(config->logging.level);
  const auto log = loggers.Get("demo");
  std::vector<std::string> topic_names;
  for (const auto& [topic, _] : topics) topic_names.push_back(topic);
  auto broker = ingest::EmbeddedBroker::Start(topic_names, 3);
  if (!broker) {
    log->error("Cannot start the embedded broker. error=\"{}\"", broker.error().message());
    return 1;
  }
  config->kafka.brokers = (*broker)->bootstrap_servers();
  auto daemon = Daemon::Start(*config, "", loggers);
  if (!daemon) {
    log->error("Cannot start. error=\"{}\"", daemon.error().message());
    return 1;
  }
  std::vector<std::string> teams;
  for (const auto& t : config->directory.teams) teams.push_back(t.name);

  std::printf(
      "teamhealth demo: %zu records of a %zu-person organisation (%d engineering teams, support\n"
      "                 and sales; %d days)\n"
      "  embedded broker  %s\n  state            %s%s\n"
      "  config           %s (for report and backfill)\n"
      "  metrics          http://127.0.0.1:%d/metrics\n"
      "  ready            http://127.0.0.1:%d/readyz\n",
      org->records.size(), config->directory.people.size(), options.teams, options.days,
      config->kafka.brokers.c_str(), state.c_str(), temporary ? " (temporary)" : "",
      config_path.c_str(), (*daemon)->http_port(), (*daemon)->http_port());
  if (continuation.continues) {
    const std::string renamed =
        continuation.suffix.empty() ? "" : " (*" + continuation.suffix + ")";
    std::printf(
        "  continues        the kept log, newest event %s\n"
        "                   the embedded broker is new: this run's topics%s start empty\n"
        "                   feeding the %zu generated records after that event\n",
        continuation.newest > 0 ? FormatRfc3339(continuation.newest).c_str() : "none",
        renamed.c_str(), org->records.size() - continuation.first);
  }
  std::fflush(stdout);

  std::atomic<bool> stop{false};
  std::atomic<bool> reload{false};
  Status status, fed;
  {
    SignalWatcher watcher(stop, reload, log);
    std::thread feeder([&] {
      const std::set<std::string> run_topics(topic_names.begin(), topic_names.end());
      fed = Feed(*org, continuation.first, config->kafka.brokers, **daemon, run_topics, stop);
      // Wait for ingest and the projections to take everything in, then show the numbers.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
      while (!stop.load() && std::chrono::steady_clock::now() < deadline &&
             (Consumed((*daemon)->log(), run_topics) < org->records.size() - continuation.first ||
              !(*daemon)->ready() || (*daemon)->projector().lag() > 0)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (!stop.load()) {
        const std::string busiest =
            PrintSummary((*daemon)->projector().Snapshot(NowMillis()), teams);
        if (!busiest.empty()) {
          std::printf("Retro page of the busiest team (last 14 days): http://127.0.0.1:%d/teams/%s\n"
                      "All teams: http://127.0.0.1:%d/\n",
                      (*daemon)->http_port(), PercentEncode(busiest).c_str(), (*daemon)->http_port());
        }
        std::printf(for_seconds > 0 ? "Serving for %llds more; Ctrl-C stops.\n"
                                    : "Serving until Ctrl-C.%.0lld\n",
                    static_cast<long long>(for_seconds));
        std::fflush(stdout);
      }
      if (for_seconds > 0) {
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(for_seconds);
        while (!stop.load() && std::chrono::steady_clock::now() < end) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        stop.store(true);
      }
    });
    status = (*daemon)->Run(stop, reload);
    stop.store(true);
    feeder.join();
  }
  daemon->reset();
  if (temporary) std::filesystem::remove_all(state);
  if (temporary) std::filesystem::remove(key_file, key_ec);
  if (!fed) {
    log->error("Feeding the embedded broker failed. error=\"{}\"", fed.error().message());
    return 1;
  }
  if (!status) {
    log->error("Stopped on an error. error=\"{}\"", status.error().message());
    return 1;
  }
  return 0;
}

Command DemoCommand() {
  return {.name = "demo",
          .usage = kDemoUsage,
          .spec = {.options = {"for", "state-dir", "listen", "seed", "teams", "people", "days"}},
          .run = Demo};
}

}  // namespace teamhealth::app
