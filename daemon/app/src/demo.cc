// `teamhealth demo`: the whole product on one laptop. An embedded Kafka-protocol broker
// (librdkafka's mock cluster), a generated organisation fed into it in step with consumption,
// the daemon consuming it, /metrics and /readyz on the usual listener, and a summary table.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <thread>

#include "commands.h"
#include "daemon.h"
#include "directory.h"
#include "signals.h"
#include "teamhealth/generate/generator.h"
#include "teamhealth/ingest/ingestor.h"
#include "teamhealth/ingest/producer.h"

namespace teamhealth::app {
namespace {

constexpr const char* kDemoUsage =
    "usage: teamhealth demo [--for DURATION] [--state-dir DIR] [--listen HOST:PORT]\n"
    "                       [--seed N] [--teams N] [--people N] [--days N]\n"
    "  Runs the daemon on an embedded broker fed with a generated organisation (history\n"
    "  ending now), serves /metrics, /healthz and /readyz, prints each team's headline\n"
    "  numbers, and keeps serving until interrupted or until DURATION (e.g. 60s, 5m) passes.\n";

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

// Each team's headline numbers, from the live metrics.
void PrintSummary(const projections::Accumulator& acc, const std::vector<std::string>& teams) {
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
  for (const auto& team : teams) {
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
}

// Produces the generated records in time order, never more than `window` records ahead of
// what the log has taken in: the embedded broker keeps only 5 MiB per partition.
// Each generated record normalises to exactly one event (tests/generate), so the log has
// taken everything in once it grew by the number of records.
Status Feed(const generate::Output& org, const std::string& bootstrap, Daemon& daemon,
            const std::atomic<bool>& stop, uint64_t base) {
  auto producer = ingest::RecordProducer::Create(bootstrap);
  if (!producer) return producer.error();
  constexpr uint64_t kWindow = 1500;
  uint64_t produced = 0;
  for (const auto& r : org.records) {
    if (stop.load()) return Status::Ok();
    // One key per topic: one partition, so each vendor's records stay in time order.
    if (auto s = (*producer)->Produce(r.topic, r.source, r.headers, r.body); !s) return s;
    if (++produced % 250 == 0) {
      if (auto s = (*producer)->Flush(10000); !s) return s;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (!stop.load() && daemon.log().LastSequence().value() - base + kWindow < produced &&
             std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  }
  return (*producer)->Flush(10000);
}

}  // namespace

int Demo(const Args& args) {
  if (args.Has("help")) {
    std::fputs(kDemoUsage, stdout);
    return 0;
  }
  const int64_t for_seconds =
      args.Has("for") ? ParseDurationSeconds(args.Get("for")).value_or(-1) : 0;
  if (for_seconds < 0) {
    std::fprintf(stderr, "teamhealth demo: --for %s: expected e.g. 60s, 5m\n%s",
                 args.Get("for").c_str(), kDemoUsage);
    return 2;
  }
  generate::Options options;
  try {
    options.seed = std::stoull(args.Get("seed", "1"));
    options.teams = std::stoi(args.Get("teams", "4"));
    options.people = std::stoi(args.Get("people", "24"));
    options.days = std::stoi(args.Get("days", "28"));
  } catch (const std::exception&) {
    std::fprintf(stderr, "teamhealth demo: --seed, --teams, --people, --days take numbers\n");
    return 2;
  }
  // History ending at the start of the next UTC day, so trailing windows "ending now" see it.
  options.end = (NowMillis() / 86'400'000 + 1) * 86'400'000;
  if (auto s = generate::Validate(options); !s) {
    std::fprintf(stderr, "teamhealth demo: %s\n", s.error().message().c_str());
    return 2;
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
  std::map<std::string, std::string> topics;  // topic -> source
  for (const auto& r : org->records) topics[r.topic] = r.source;
  std::string toml = "[storage]\ndir = \"" + state + "\"\nsync_writes = false\n" +
                     "[kafka]\nbrokers = \"embedded\"\nbatch_max_ms = 50\n";
  for (const auto& [topic, source] : topics) {
    toml += "[[kafka.topics]]\nname = \"" + topic + "\"\nsource = \"" + source + "\"\n";
  }
  toml += "[http]\nlisten = \"" + args.Get("listen", "127.0.0.1:9810") + "\"\n" +
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
      "teamhealth demo: %zu records of a %d-person organisation (%d teams, %d days)\n"
      "  embedded broker  %s\n  state            %s%s\n"
      "  config           %s (for report and backfill)\n"
      "  metrics          http://127.0.0.1:%d/metrics\n"
      "  ready            http://127.0.0.1:%d/readyz\n",
      org->records.size(), options.people, options.teams, options.days,
      config->kafka.brokers.c_str(), state.c_str(), temporary ? " (temporary)" : "",
      config_path.c_str(), (*daemon)->http_port(), (*daemon)->http_port());
  std::fflush(stdout);

  std::atomic<bool> stop{false};
  std::atomic<bool> reload{false};
  Status status, fed;
  {
    SignalWatcher watcher(stop, reload, log);
    std::thread feeder([&] {
      const uint64_t base = (*daemon)->log().LastSequence().value();
      fed = Feed(*org, config->kafka.brokers, **daemon, stop, base);
      // Wait for ingest and the projections to take everything in, then show the numbers.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
      while (!stop.load() && std::chrono::steady_clock::now() < deadline &&
             ((*daemon)->log().LastSequence().value() - base < org->records.size() ||
              !(*daemon)->ready() || (*daemon)->projector().lag() > 0)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (!stop.load()) {
        PrintSummary((*daemon)->projector().Snapshot(NowMillis()), teams);
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

}  // namespace teamhealth::app
