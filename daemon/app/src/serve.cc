#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "commands.h"
#include "daemon.h"
#include "signals.h"
#include "teamhealth/config/config.h"
#include "teamhealth/http/server.h"
#include "teamhealth/ingest/ingestor.h"
#include "teamhealth/logging/logging.h"

namespace teamhealth::app {

namespace {

constexpr const char* kCheckConfigUsage =
    "usage: teamhealth check-config FILE   (or --config FILE)\n"
    "  Validates a config file and names the first bad key (exit 1); prints \"FILE: ok\".\n";

constexpr const char* kServeUsage =
    "usage: teamhealth serve --config FILE\n"
    "  Consumes the configured Kafka topics into the event log and serves /metrics, /healthz,\n"
    "  /readyz and /api/v1/report until SIGTERM or SIGINT; SIGHUP reloads the directory.\n";

}  // namespace

int Serve(const Args& args);

int CheckConfig(const Args& args) {
  if (args.positional.empty() == !args.Has("config")) {  // neither, or both
    return UsageError(args,
                      args.Has("config") ? "give FILE or --config FILE, not both" : "missing FILE");
  }
  const std::string path = args.positional.empty() ? args.Get("config") : args.positional[0];
  auto config = config::LoadConfigFile(path);
  if (!config) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), config.error().message().c_str());
    return 1;
  }
  // What would fail at start: the listener's token and TLS files, the librdkafka properties
  // (checked without connecting).
  if (auto s = http::CheckListener(http::ListenerOptions::From(config->http)); !s) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), s.error().message().c_str());
    return 1;
  }
  if (auto s = CheckGatewayConfig(*config); !s) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), s.error().message().c_str());
    return 1;
  }
  if (config->kafka.brokers != "embedded") {
    if (auto s = ingest::CheckKafkaConfig(config->kafka); !s) {
      std::fprintf(stderr, "%s: kafka.properties: %s\n", path.c_str(), s.error().message().c_str());
      return 1;
    }
  }
  if (config->gateway.present) {
    std::printf("%s: ok (%zu topics, gateway: %zu sources, %zu schedules)\n", path.c_str(),
                config->kafka.topics.size(), config->gateway.sources.size(),
                config->gateway.schedules.size());
  } else {
    std::printf("%s: ok (%zu topics)\n", path.c_str(), config->kafka.topics.size());
  }
  return 0;
}

Command CheckConfigCommand() {
  return {.name = "check-config",
          .usage = kCheckConfigUsage,
          .spec = {.options = {"config"}, .positional = "FILE", .max_positional = 1},
          .run = CheckConfig};
}

Command ServeCommand() {
  return {.name = "serve",
          .usage = kServeUsage,
          .spec = {.options = {"config"}, .required = {"config"}},
          .run = Serve};
}

int Serve(const Args& args) {
  auto loaded = config::LoadConfigFile(args.Get("config"));
  if (!loaded) {
    std::fprintf(stderr, "%s: %s\n", args.Get("config").c_str(), loaded.error().message().c_str());
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

  auto daemon = Daemon::Start(std::move(config), args.Get("config"), loggers);
  if (!daemon) {
    log->error("Cannot start. error=\"{}\"", daemon.error().message());
    return 1;
  }
  std::atomic<bool> stop{false};
  std::atomic<bool> reload{false};
  Status status;
  {
    SignalWatcher watcher(stop, reload, log);
    status = (*daemon)->Run(stop, reload);
  }
  if (!status) {
    log->error("Stopped on an error. error=\"{}\"", status.error().message());
    return 1;
  }
  return 0;
}

}  // namespace teamhealth::app
