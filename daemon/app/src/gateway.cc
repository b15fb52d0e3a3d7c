// `teamhealth gateway --config FILE`: the webhook gateway (docs/design.md section 12).
#include "teamhealth/gateway/gateway.h"
#include "teamhealth/gateway/poller.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "commands.h"
#include "signals.h"
#include "teamhealth/config/config.h"
#include "teamhealth/http/gateway_metrics.h"
#include "teamhealth/http/server.h"
#include "teamhealth/ingest/producer.h"
#include "teamhealth/logging/logging.h"

namespace teamhealth::app {
namespace {

constexpr const char* kGatewayUsage =
    "usage: teamhealth gateway --config FILE\n"
    "  Receives vendor webhooks on POST /hooks/<source> (github, slack, pagerduty, jira, linear,\n"
    "  opsgenie), checks each vendor's signature over the raw body, and produces the verbatim\n"
    "  body with the vendor's headers to the source's Kafka topic ([gateway] and [kafka] of\n"
    "  FILE); answers 200 only once Kafka acknowledged it, 503 otherwise. Polls the on-call\n"
    "  schedules of [[gateway.schedules]] (PagerDuty, Opsgenie) and produces each shift as a\n"
    "  canonical oncall.shift to gateway.shifts_topic. Serves /metrics, /healthz and /readyz\n"
    "  on the same listener, until SIGTERM or SIGINT.\n"
    "  Exit status 2: a bad argument or config; 1: a failure at start (port in use, Kafka).\n";

constexpr const char* kHookPrefix = "/hooks/";

}  // namespace

http::ListenerOptions GatewayListenerOptions(const config::GatewayConfig& g) {
  return {.section = "gateway",
          .listen = g.listen,
          .tls_cert = g.tls_cert,
          .tls_key = g.tls_key,
          .viewer_token_file = g.viewer_token_file,
          .admin_token_file = "",
          .max_request_bytes = static_cast<size_t>(g.max_body_bytes),
          .max_request_headers = 100};
}

Status CheckGatewayConfig(const config::Config& config) {
  if (!config.gateway.present) return Status::Ok();
  if (config.gateway.sources.empty() && config.gateway.schedules.empty()) {
    return Error(
        "gateway.sources: no source configured ([gateway.sources.github] with topic "
        "and secret_file), and no [[gateway.schedules]]");
  }
  if (auto s = http::CheckListener(GatewayListenerOptions(config.gateway)); !s) return s;
  if (auto s = gateway::CheckSecrets(config.gateway); !s) return s;
  if (auto s = gateway::CheckScheduleTokens(config.gateway); !s) return s;
  if (config.kafka.brokers == "embedded") {
    return Error(
        "kafka.brokers: the gateway needs a real Kafka (\"embedded\" lives inside one "
        "process)");
  }
  return Status::Ok();
}

int Gateway(const Args& args) {
  const std::string path = args.Get("config");
  auto loaded = config::LoadConfigFile(path);
  if (!loaded) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), loaded.error().message().c_str());
    return 2;
  }
  const config::Config config = std::move(*loaded);
  if (!config.gateway.present) {
    std::fprintf(stderr, "%s: gateway: no [gateway] section\n", path.c_str());
    return 2;
  }
  if (auto s = CheckGatewayConfig(config); !s) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), s.error().message().c_str());
    return 2;
  }
  BlockSignals();  // before any thread starts: only the watcher receives them
  const logging::Loggers loggers(config.logging.level);
  const auto log = loggers.Get("gateway");

  auto producer = ingest::RecordProducer::Create(
      ingest::ProducerOptions{.bootstrap_servers = config.kafka.brokers,
                              .properties = config.kafka.properties,
                              .acknowledged = true,
                              .delivery_timeout_ms = config.gateway.delivery_timeout_ms,
                              .max_value_bytes = config.gateway.max_body_bytes,
                              .linger_ms = 1,
                              .logger = loggers.Get("kafka")});
  if (!producer) {
    log->error("Cannot start. error=\"{}\"", producer.error().message());
    return 1;
  }
  std::vector<std::string> names, vendors;
  for (const auto& s : config.gateway.sources) names.push_back(s.name);
  for (const auto& s : config.gateway.schedules) vendors.push_back(s.vendor);
  http::GatewayMetrics metrics(TEAMHEALTH_VERSION, names, vendors);
  auto gateway = gateway::Gateway::Create(config.gateway, **producer, metrics, log);
  if (!gateway) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), gateway.error().message().c_str());
    return 2;
  }
  auto poller =
      gateway::SchedulePoller::Create(config.gateway, **producer, metrics, loggers.Get("poller"));
  if (!poller) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), poller.error().message().c_str());
    return 2;
  }
  http::Handlers handlers;
  handlers.metrics = [&metrics] { return metrics.Serialize(); };
  handlers.ready = [&producer]() -> http::ReadyState {
    if (auto s = (*producer)->CheckReachable(2000); !s) {
      return {false, "Kafka unreachable: " + s.error().message()};
    }
    return {true, ""};
  };
  handlers.raw_prefix = kHookPrefix;
  handlers.raw = [&gateway](const http::RawRequest& raw) {
    gateway::HookRequest request{.method = raw.method,
                                 .source = raw.path.substr(std::string_view(kHookPrefix).size()),
                                 .headers = raw.headers,
                                 .body = raw.body,
                                 .too_large = raw.too_large};
    gateway::HookResponse r = (*gateway)->Handle(request);
    return http::ApiResponse{r.status, r.content_type, std::move(r.body), std::move(r.headers)};
  };
  auto server = http::Server::Start(GatewayListenerOptions(config.gateway), std::move(handlers),
                                    loggers.Get("http"));
  if (!server) {
    log->error("Cannot start. error=\"{}\"", server.error().message());
    return 1;
  }
  std::string topics;
  for (const auto& s : config.gateway.sources) {
    topics += (topics.empty() ? "" : ",") + s.name + "->" + s.topic;
  }
  log->info("Gateway started. sources={} schedules={} shifts_topic={} brokers={} "
            "delivery_timeout_ms={}",
            topics, config.gateway.schedules.size(), config.gateway.shifts_topic,
            config.kafka.brokers, config.gateway.delivery_timeout_ms);
  (*poller)->Start();
  std::atomic<bool> stop{false}, reload{false};
  {
    SignalWatcher watcher(stop, reload, log);
    while (!stop.load()) {
      if (reload.exchange(false)) {
        log->warn(
            "SIGHUP: the gateway reads its config at start only; restart it to apply "
            "changes");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  (*poller)->Stop();  // a poll in flight ends at its next wait, or after its request
  server->reset();    // no request in flight once the listener is gone
  log->info("Gateway stopped.");
  return 0;
}

Command GatewayCommand() {
  return {.name = "gateway",
          .usage = kGatewayUsage,
          .spec = {.options = {"config"}, .required = {"config"}},
          .run = Gateway};
}

}  // namespace teamhealth::app
