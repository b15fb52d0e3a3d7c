#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "teamhealth/base/result.h"
#include "teamhealth/config/config.h"
#include "teamhealth/eventlog/event_log.h"
#include "teamhealth/http/metrics.h"
#include "teamhealth/http/server.h"
#include "teamhealth/ingest/ingestor.h"
#include "teamhealth/logging/logging.h"
#include "teamhealth/projector/projector.h"
#include "teamhealth/sources/source.h"
#include "teamhealth/storage/store.h"

namespace teamhealth::app {

// The composition root of a running daemon: store -> event log -> projector -> metrics ->
// ingestor -> HTTP listener, one tree of unique_ptrs. Start() builds and records the
// directory; Run() consumes until `stop`. Used by `serve` and `demo`.
// Run() on one thread; the accessors from any.
class Daemon final {
 public:
  // `config_path` is re-read when `reload` is raised (SIGHUP); empty: nothing to re-read.
  static Result<std::unique_ptr<Daemon>> Start(config::Config config, std::string config_path,
                                               const logging::Loggers& loggers);
  ~Daemon();

  // Consumes until `stop` is set, the projections following in their own thread; returns an
  // error if ingest or the projections failed.
  Status Run(std::atomic<bool>& stop, std::atomic<bool>& reload);

  int http_port() const { return server_->port(); }
  projector::Projector& projector() { return *projector_; }
  eventlog::EventLog& log() { return *log_; }
  // Ready: ingest ready (see ingest::Ingestor::State) and the projections caught up with the
  // log once; otherwise the reason.
  http::ReadyState readiness() const;
  bool ready() const { return readiness().ready; }

 private:
  Daemon(config::Config config, std::string config_path, logging::Logger logger)
      : config_(std::move(config)), config_path_(std::move(config_path)), logger_(logger) {}
  Status Build(const logging::Loggers& loggers);
  Status Reload();
  http::ApiResponse Api(const std::string& endpoint,
                        const std::map<std::string, std::string>& query, http::Role role);
  // GET / (the teams) and GET /teams/<team> (its retro page): HTML for a viewer.
  http::ApiResponse Page(const std::string& path,
                         const std::map<std::string, std::string>& query, http::Role role);

  config::Config config_;
  std::string config_path_;
  logging::Logger logger_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<eventlog::EventLog> log_;
  std::unique_ptr<projector::Projector> projector_;
  std::unique_ptr<http::DaemonMetrics> metrics_;
  std::unique_ptr<sources::SourceRegistry> registry_;
  std::unique_ptr<ingest::Ingestor> ingestor_;
  std::unique_ptr<http::Server> server_;
  // Reports computed at once by the API: each replays the log, so more would only queue for the
  // two cores and hold memory; the rest get 429 with Retry-After.
  static constexpr int kMaxConcurrentReports = 2;
  std::atomic<int> reports_running_{0};
};

// Records the config's directory in the log; logs what changed.
Status RecordDirectory(eventlog::EventLog& log, const config::DirectoryConfig& directory,
                       const logging::Logger& logger);

}  // namespace teamhealth::app
