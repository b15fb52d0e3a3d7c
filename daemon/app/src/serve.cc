#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "commands.h"
#include "directory.h"
#include "teamhealth/config/config.h"
#include "teamhealth/eventlog/event_log.h"
#include "teamhealth/http/metrics.h"
#include "teamhealth/http/server.h"
#include "teamhealth/ingest/ingestor.h"
#include "teamhealth/logging/logging.h"
#include "teamhealth/projections/registry.h"
#include "teamhealth/projector/projector.h"
#include "teamhealth/sources/source.h"
#include "teamhealth/storage/store.h"

namespace teamhealth::app {
namespace {

// Waits for SIGTERM/SIGINT on a dedicated thread (the signals are blocked everywhere else)
// and raises the stop flag; the ingest loop finishes its batch in flight and returns.
class SignalWatcher final {
 public:
  SignalWatcher(std::atomic<bool>& stop, std::atomic<bool>& reload, logging::Logger logger)
      : stop_(stop), reload_(reload) {
    thread_ = std::thread([this, logger] {
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, SIGTERM);
      sigaddset(&set, SIGINT);
      sigaddset(&set, SIGHUP);
      sigaddset(&set, SIGUSR1);
      for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) continue;
        if (sig == SIGUSR1) return;  // our own wake-up at shutdown
        if (sig == SIGHUP) {
          logger->info("SIGHUP received; reloading the directory after the batch in flight");
          reload_.store(true);
          continue;
        }
        logger->info("Stopping after the batch in flight. signal={}", strsignal(sig));
        stop_.store(true);
      }
    });
  }
  ~SignalWatcher() {
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
  }

 private:
  std::atomic<bool>& stop_;
  std::atomic<bool>& reload_;
  std::thread thread_;
};

void BlockSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

// Records the config's directory in the log; logs what changed.
Status SyncDirectory(eventlog::EventLog& log, const config::DirectoryConfig& directory,
                     const logging::Logger& logger) {
  auto changed = log.SyncDirectory(DirectoryPeople(directory), NowMillis());
  if (!changed) return changed.error();
  logger->info("Directory recorded. people={} teams={} changed={}", directory.people.size(),
               directory.teams.size(), *changed);
  return Status::Ok();
}

}  // namespace

int CheckConfig(const Args& args) {
  const std::string path = args.positional.empty() ? args.Get("config") : args.positional[0];
  if (path.empty()) {
    std::fputs("usage: teamhealth check-config FILE\n", stderr);
    return 2;
  }
  auto config = config::LoadConfigFile(path);
  if (!config) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), config.error().message().c_str());
    return 1;
  }
  std::printf("%s: ok (%zu topics)\n", path.c_str(), config->kafka.topics.size());
  return 0;
}

int Serve(const Args& args) {
  if (args.Has("help") || !args.Has("config")) {
    std::fputs("usage: teamhealth serve --config FILE\n", args.Has("help") ? stdout : stderr);
    return args.Has("help") ? 0 : 2;
  }
  auto loaded = config::LoadConfigFile(args.Get("config"));
  if (!loaded) {
    std::fprintf(stderr, "%s: %s\n", args.Get("config").c_str(),
                 loaded.error().message().c_str());
    return 1;
  }
  config::Config config = std::move(*loaded);
  // Before any thread starts, so that only the watcher receives the signals.
  BlockSignals();
  const logging::Loggers loggers(config.logging.level);
  const auto log = loggers.Get("app");

  std::unique_ptr<ingest::EmbeddedBroker> embedded;
  if (config.kafka.brokers == "embedded") {
    std::vector<std::string> topics;
    for (const auto& t : config.kafka.topics) topics.push_back(t.name);
    auto broker = ingest::EmbeddedBroker::Start(topics, 3);
    if (!broker) {
      log->error("Cannot start the embedded broker. error=\"{}\"", broker.error().message());
      return 1;
    }
    embedded = std::move(*broker);
    config.kafka.brokers = embedded->bootstrap_servers();
    log->warn("Using the embedded mock broker (demo only, 5 MiB per partition). bootstrap={}",
              config.kafka.brokers);
  }

  auto store = storage::Store::Open({config.storage.dir, false, config.storage.sync_writes});
  if (!store) {
    log->error("Cannot open the state directory. error=\"{}\"", store.error().message());
    return 1;
  }
  auto event_log = eventlog::EventLog::Open(**store);
  if (!event_log) {
    log->error("Cannot open the event log. error=\"{}\"", event_log.error().message());
    return 1;
  }
  log->info("Opened the event log. dir={} last_sequence={}", config.storage.dir,
            (*event_log)->LastSequence().value());

  if (auto s = SyncDirectory(**event_log, config.directory, log); !s) {
    log->error("Cannot record the directory. error=\"{}\"", s.error().message());
    return 1;
  }

  const projections::Settings settings = projections::MakeSettings(config);
  auto projection_list = projections::MakeProjections(settings);
  std::vector<std::string> projection_names;
  for (const auto& p : projection_list) projection_names.emplace_back(p->name());
  projector::Projector projector(**store, **event_log,
                                 projections::MakeDirectoryView(config.directory),
                                 std::move(projection_list), settings, loggers.Get("projector"));
  if (settings.person_metrics) {
    auto names = (*event_log)->NamesOf(DirectoryPeople(config.directory));
    if (!names) {
      log->error("Cannot name people. error=\"{}\"", names.error().message());
      return 1;
    }
    projector.SetPeopleNames(std::move(*names));
    log->warn("privacy.person_metrics is on: per-person series are exported");
  }
  if (auto s = projector.Start(); !s) {
    log->error("Cannot start the projections. error=\"{}\"", s.error().message());
    return 1;
  }

  http::DaemonMetrics metrics(TEAMHEALTH_VERSION);
  metrics.Seed((*event_log)->counters(), (*event_log)->LastSequence());
  metrics.AttachProjections([&projector] { return projector.Snapshot(NowMillis()); },
                            [&projector] { return projector.lag(); }, projection_names);
  auto registry = sources::MakeSourceRegistry({config.sources.status_categories});
  auto ingestor = ingest::Ingestor::Create(config.kafka, **event_log, *registry, metrics,
                                           loggers.Get("ingest"));
  if (!ingestor) {
    log->error("Cannot start ingest. error=\"{}\"", ingestor.error().message());
    return 1;
  }
  auto* ing = ingestor->get();
  auto server = http::Server::Start(
      config.http.listen,
      http::Handlers{.metrics = [&metrics] { return metrics.Serialize(); },
                     .ready = [ing, &projector] { return ing->Ready() && projector.caught_up(); }},
      loggers.Get("http"));
  if (!server) {
    log->error("Cannot start the HTTP listener. error=\"{}\"", server.error().message());
    return 1;
  }

  std::atomic<bool> stop{false};
  std::atomic<bool> reload{false};
  const std::string config_path = args.Get("config");
  // SIGHUP: re-read the config and record directory changes. Other sections need a restart.
  auto between_batches = [&]() -> Status {
    if (!reload.exchange(false)) return Status::Ok();
    auto fresh = config::LoadConfigFile(config_path);
    if (!fresh) {
      log->error("Reload failed; keeping the directory as it was. error=\"{}\"",
                 fresh.error().message());
      return Status::Ok();
    }
    return SyncDirectory(**event_log, fresh->directory, log);
  };
  Status status;
  Status projector_status;
  {
    SignalWatcher watcher(stop, reload, log);
    std::atomic<bool> stop_projector{false};
    std::thread projector_thread([&] {
      projector_status = projector.Run(stop_projector);
      if (!projector_status) stop.store(true);  // no silent half-daemon
    });
    status = (*ingestor)->Run(stop, between_batches);
    stop_projector.store(true);
    projector_thread.join();
  }
  if (!projector_status) {
    log->error("Projections failed. error=\"{}\"", projector_status.error().message());
    return 1;
  }
  if (!status) {
    log->error("Ingest failed. error=\"{}\"", status.error().message());
    return 1;
  }
  log->info("Stopped cleanly. last_sequence={}", (*event_log)->LastSequence().value());
  return 0;
}

}  // namespace teamhealth::app
