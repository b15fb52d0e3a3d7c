#include "daemon.h"

#include <pthread.h>
#include <sys/resource.h>
#include <cerrno>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "commands.h"
#include "directory.h"
#include "state.h"
#include "report_html.h"
#include "teams.h"
#include "teamhealth/base/json_writer.h"
#include "teamhealth/eventlog/indexer.h"
#include "teamhealth/projections/registry.h"

namespace teamhealth::app {

Status RecordDirectory(eventlog::EventLog& log, const config::DirectoryConfig& directory,
                       const logging::Logger& logger) {
  auto changed = log.SyncDirectory(DirectoryPeople(directory), NowMillis());
  if (!changed) return changed.error();
  logger->info("Directory recorded. people={} teams={} changed={}", directory.people.size(),
               directory.teams.size(), *changed);
  return Status::Ok();
}

Result<std::unique_ptr<Daemon>> Daemon::Start(config::Config config, std::string config_path,
                                              const logging::Loggers& loggers) {
  std::unique_ptr<Daemon> d(
      new Daemon(std::move(config), std::move(config_path), loggers.Get("app")));
  if (auto s = d->Build(loggers); !s) return s.error();
  return d;
}

Daemon::~Daemon() = default;

Status Daemon::Build(const logging::Loggers& loggers) {
  // The same opening as `import` (state.h): identity key, lock, keying once, the directory.
  auto opened = OpenWritableLog(config_, loggers);
  if (!opened) return opened.error();
  store_ = std::move(opened->store);
  log_ = std::move(opened->log);

  const projections::Settings settings = projections::MakeSettings(config_);
  projector_ = std::make_unique<projector::Projector>(
      *store_, *log_,
      [this] {
        return std::make_unique<projections::Pipeline>(
            projections::MakeDirectoryView(config_.directory),
            projections::MakeSettings(config_));
      },
      loggers.Get("projector"));
  if (settings.person_metrics) {
    auto people = log_->NamesOf(DirectoryPeople(config_.directory));
    if (!people) return Error("cannot name people: " + people.error().message());
    projector_->SetPeopleNames(std::move(*people));
    logger_->warn("privacy.person_metrics is on: per-person series are exported");
  }
  // Metric facts are built once ingest has caught up: a backlog arrives out of event-time order.
  // The clock lets a quiet night cross its midnight: the retro page's default window ends there.
  projector_->EnableFacts({.clock = NowMillis},
                          [this] { return ingestor_ != nullptr && ingestor_->Ready(); });
  if (auto s = projector_->Start(); !s) {
    return Error("cannot start the projections: " + s.error().message());
  }
  const std::vector<std::string> names = projector_->names();

  metrics_ = std::make_unique<http::DaemonMetrics>(TEAMHEALTH_VERSION);
  metrics_->Seed(log_->counters(), log_->LastSequence());
  metrics_->SetIndexedSequence(log_->IndexedSequence());
  {
    std::vector<std::string> sources, topics;
    for (const auto& t : config_.kafka.topics) {
      sources.push_back(t.source);
      topics.push_back(t.name);
    }
    metrics_->Declare(sources, topics);
  }
  metrics_->AttachProjections([this] { return projector_->Snapshot(NowMillis()); },
                              [this] { return projector_->lag(); }, names);
  registry_ = sources::MakeSourceRegistry({config_.sources.status_categories});
  auto ingestor =
      ingest::Ingestor::Create(config_.kafka, *log_, *registry_, *metrics_, loggers.Get("ingest"));
  if (!ingestor) return Error("cannot start ingest: " + ingestor.error().message());
  ingestor_ = std::move(*ingestor);
  auto server =
      http::Server::Start(http::ListenerOptions::From(config_.http),
                          http::Handlers{.metrics = [this] { return metrics_->Serialize(); },
                                         .ready = [this] { return readiness(); },
                                         .api =
                                             [this](const std::string& endpoint,
                                                    const std::map<std::string, std::string>& query,
                                                    http::Role role) {
                                               return Api(endpoint, query, role);
                                             },
                                         .page =
                                             [this](const std::string& path,
                                                    const std::map<std::string, std::string>& query,
                                                    http::Role role) {
                                               return Page(path, query, role);
                                             },
                                         .metrics_role = config_.definitions.person_metrics
                                                             ? http::Role::kAdmin
                                                             : http::Role::kViewer},
                          loggers.Get("http"));
  if (!server) return Error("cannot start the HTTP listener: " + server.error().message());
  server_ = std::move(*server);
  return Status::Ok();
}

namespace {

// The config sections, other than the directory, that differ between `a` and `b`: SIGHUP
// reloads only the directory, so these wait for a restart. Compared field by field; a field
// added to a section must be added here.
std::vector<std::string> SectionsNeedingRestart(const config::Config& a, const config::Config& b) {
  std::vector<std::string> out;
  auto topics = [](const config::KafkaConfig& k) {
    std::vector<std::pair<std::string, std::string>> t;
    for (const auto& x : k.topics) t.emplace_back(x.name, x.source);
    return t;
  };
  if (a.storage.dir != b.storage.dir || a.storage.sync_writes != b.storage.sync_writes ||
      a.storage.identity_key_file != b.storage.identity_key_file) {
    out.push_back("storage");
  }
  if (a.kafka.brokers != b.kafka.brokers || a.kafka.client_id != b.kafka.client_id ||
      topics(a.kafka) != topics(b.kafka) || a.kafka.batch_max_messages != b.kafka.batch_max_messages ||
      a.kafka.batch_max_ms != b.kafka.batch_max_ms ||
      a.kafka.write_max_bytes != b.kafka.write_max_bytes ||
      a.kafka.write_max_records != b.kafka.write_max_records ||
      a.kafka.max_record_bytes != b.kafka.max_record_bytes ||
      a.kafka.properties != b.kafka.properties) {
    out.push_back("kafka");
  }
  if (a.http.listen != b.http.listen || a.http.tls_cert != b.http.tls_cert ||
      a.http.tls_key != b.http.tls_key || a.http.viewer_token_file != b.http.viewer_token_file ||
      a.http.admin_token_file != b.http.admin_token_file ||
      a.http.max_request_bytes != b.http.max_request_bytes ||
      a.http.max_request_headers != b.http.max_request_headers) {
    out.push_back("http");
  }
  if (a.logging.level != b.logging.level) out.push_back("logging");
  if (a.sources.status_categories != b.sources.status_categories) out.push_back("sources");
  for (const auto& d : projections::Definitions()) {
    if (d.get(a.definitions) != d.get(b.definitions)) {
      out.push_back(std::string(d.section) + "." + std::string(d.name));
    }
  }
  return out;
}


}  // namespace

// docs/design.md section 8. The listener has checked the bearer token (`role`).
http::ApiResponse Daemon::Api(const std::string& endpoint,
                              const std::map<std::string, std::string>& query, http::Role role) {
  if (endpoint == "teams") {
    if (!query.empty()) {
      return http::JsonError(400,
                             "unknown query parameter " + query.begin()->first + " (none taken)");
    }
    const EpochMillis now = NowMillis();
    auto teams = ListTeams(*log_, config_, now);
    if (!teams) return http::JsonError(500, teams.error().message());
    return {200, "application/json", TeamsJson(*teams, config_, now), {}};
  }
  if (endpoint != "report" && endpoint != "explain") {
    return http::JsonError(404, "unknown endpoint " + endpoint + " (report, explain, teams)");
  }
  if (reports_running_.fetch_add(1) >= kMaxConcurrentReports) {
    reports_running_.fetch_sub(1);
    auto busy = http::JsonError(429, std::to_string(kMaxConcurrentReports) +
                                   " reports are being computed; retry later");
    busy.headers.emplace_back("Retry-After", "5");
    return busy;
  }
  const bool admin = role == http::Role::kAdmin;
  const auto people = admin ? projector_->PeopleNames() : std::map<std::string, std::string>();
  if (endpoint == "explain") {
    auto explained = ExplainFromQuery(query, config_, *log_, admin, people);
    reports_running_.fetch_sub(1);
    return explained;
  }
  auto report = ReportFromQuery(query, config_, *log_, admin, people);
  reports_running_.fetch_sub(1);
  if (!report) {
    return http::JsonError(report.error().not_found() ? 404 : 400, report.error().message());
  }
  auto format = query.find("format");
  const std::string type = format == query.end() || format->second == "json" ? "application/json"
                           : format->second == "csv"                         ? "text/csv"
                                                                             : "text/plain";
  return {200, type, *report};
}

http::ApiResponse Daemon::Page(const std::string& path,
                               const std::map<std::string, std::string>& query, http::Role) {
  constexpr const char* kHtml = "text/html; charset=utf-8";
  const EpochMillis now = NowMillis();
  if (path == "/") {
    if (!query.empty()) {
      return {400, kHtml, RenderErrorPage(400, "unknown query parameter " + query.begin()->first)};
    }
    auto teams = ListTeams(*log_, config_, now);
    if (!teams) return {500, kHtml, RenderErrorPage(500, teams.error().message())};
    return {200, kHtml, RenderTeamList(*teams, now)};
  }
  const std::string team = path.substr(std::string_view("/teams/").size());
  if (reports_running_.fetch_add(1) >= kMaxConcurrentReports) {
    reports_running_.fetch_sub(1);
    http::ApiResponse busy{429, kHtml,
                           RenderErrorPage(429, "reports are being computed; retry later")};
    busy.headers.emplace_back("Retry-After", "5");
    return busy;
  }
  auto page = RetroPageFromQuery(team, query, config_, *log_, now);
  reports_running_.fetch_sub(1);
  if (!page) {
    const int status = page.error().not_found() ? 404 : 400;
    return {status, kHtml, RenderErrorPage(status, page.error().message())};
  }
  return {200, kHtml, *page};
}

http::ReadyState Daemon::readiness() const {
  const ingest::Readiness ingest = ingestor_->State();
  if (!ingest.ready) return {false, ingest.reason};
  if (auto full = projector_->checkpoint_full()) {
    return {false, "disk full: " + *full + "; projection checkpoints paused"};
  }
  if (!projector_->caught_up()) {
    return {false, "projections catching up with the log (" + std::to_string(projector_->lag()) +
                       " events behind)"};
  }
  return {true, ingest.reason};
}

// SIGHUP: re-read the config and record directory changes. Other sections need a restart.
Status Daemon::Reload() {
  if (config_path_.empty()) return Status::Ok();
  auto fresh = config::LoadConfigFile(config_path_);
  if (!fresh) {
    logger_->error("Reload failed; keeping the directory as it was. error=\"{}\"",
                   fresh.error().message());
    return Status::Ok();
  }
  // Only the directory is reloaded: say which other sections changed and wait for a restart.
  std::vector<std::string> changed = SectionsNeedingRestart(config_, *fresh);
  for (const auto& section : changed) {
    logger_->warn("Config section changed; it takes effect at the next restart. section={}",
                  section);
  }
  const uint64_t before = log_->LastSequence().value();
  if (auto s = RecordDirectory(*log_, fresh->directory, logger_); !s) return s;
  if (config_.definitions.person_metrics) {
    // New identities get their handles too (this thread is the log's writer: NamesOf may
    // read its identities cache).
    auto people = log_->NamesOf(DirectoryPeople(fresh->directory));
    if (people) projector_->SetPeopleNames(std::move(*people));
  }
  // The new directory events count like ingested ones on /metrics.
  const uint64_t after = log_->LastSequence().value();
  if (after > before) {
    eventlog::AppendOutcome outcome;
    outcome.first = Sequence(before + 1);
    outcome.last = Sequence(after);
    outcome.delta.ingested["directory"] = after - before;
    metrics_->OnBatch(outcome);
  }
  return Status::Ok();
}

Status Daemon::Run(std::atomic<bool>& stop, std::atomic<bool>& reload) {
  using Clock = std::chrono::steady_clock;
  // A reload that cannot record the directory because the disk is full is retried every 10 s
  // (the directory is recorded in one atomic write, or not at all), rather than stopping.
  bool reload_pending = false;
  bool reload_failed = false;
  Clock::time_point reload_retry_at;
  auto between_batches = [&]() -> Status {
    if (reload.exchange(false)) reload_pending = true;
    if (!reload_pending || Clock::now() < reload_retry_at) return Status::Ok();
    const Status s = Reload();
    if (s || !s.error().no_space()) {
      if (reload_failed) logger_->info("Reload done after the disk was full.");
      reload_pending = reload_failed = false;
      return s;
    }
    if (!reload_failed) {
      logger_->error("Cannot record the reloaded directory: no space left in the state "
                     "directory; retrying every 10 s. error=\"{}\"",
                     s.error().message());
    }
    reload_failed = true;
    reload_retry_at = Clock::now() + std::chrono::seconds(10);
    return Status::Ok();
  };
  // The threads that follow the log (indexes, projections) run at a lower priority than the
  // ingest threads (nice +kFollowerNice, per thread on Linux): when the CPUs are busy, a
  // backlog is made durable first and what derives from it trails (docs/design.md section 10);
  // on an idle machine it changes nothing. The lag is visible (teamhealth_projection_lag_events,
  // teamhealth_log_indexed_sequence) and /readyz waits for the projections.
  constexpr int kFollowerNice = 10;
  auto follower_thread = [this](const char* name) {
    pthread_setname_np(pthread_self(), name);  // per-thread CPU in top/perf
    if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kFollowerNice) != 0) {
      logger_->warn("Cannot lower the priority of the {} thread; it competes with ingest "
                    "for the CPU. errno={}", name, errno);
    }
  };
  // The time and subject indexes follow the log on a thread of their own (off the ingest hot
  // path, docs/design.md section 10); readers merge in what they have not indexed yet.
  eventlog::Indexer indexer(*log_, [this](Sequence s) { metrics_->SetIndexedSequence(s); });
  Status indexer_status;
  std::atomic<bool> stop_indexer{false};
  std::thread indexer_thread([&] {
    follower_thread("indexer");
    indexer_status = indexer.Run(stop_indexer);
    if (!indexer_status) stop.store(true);  // no silent half-daemon
  });
  Status projector_status;
  std::atomic<bool> stop_projector{false};
  std::thread projector_thread([&] {
    follower_thread("projector");
    projector_status = projector_->Run(stop_projector);
    if (!projector_status) stop.store(true);  // no silent half-daemon
  });
  const Status status = ingestor_->Run(stop, between_batches);
  stop_projector.store(true);
  projector_thread.join();
  stop_indexer.store(true);
  indexer.Wake();
  indexer_thread.join();
  if (!projector_status) return Error("projections failed: " + projector_status.error().message());
  if (!indexer_status) return Error("indexing failed: " + indexer_status.error().message());
  if (!status) return Error("ingest failed: " + status.error().message());
  // A clean stop leaves the indexes complete: read-only tools then read no unindexed tail,
  // and a build from before the indexer (which reads the index alone) misses nothing. (The
  // compact column may stay behind: replays read the rest from the log.)
  if (auto indexed = log_->IndexAll(50000, /*with_column=*/false); !indexed) {
    logger_->warn("The indexes were not brought up to the log's end at shutdown; the next start "
                  "does it. error=\"{}\"", indexed.error().message());
  }
  logger_->info("Stopped cleanly. last_sequence={}", log_->LastSequence().value());
  return Status::Ok();
}

}  // namespace teamhealth::app
