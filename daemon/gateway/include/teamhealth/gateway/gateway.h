#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "teamhealth/base/result.h"
#include "teamhealth/config/config.h"
#include "teamhealth/gateway/verify.h"
#include "teamhealth/ingest/producer.h"
#include "teamhealth/logging/logging.h"

namespace teamhealth::gateway {

// What became of one request to /hooks/<source>: the `outcome` label of
// teamhealth_gateway_requests_total.
enum class Outcome {
  kAccepted,          // 200: Kafka acknowledged the body
  kChallenge,         // 200: Slack url_verification answered, nothing produced
  kBadSignature,      // 401: signature missing, malformed or not matching
  kStale,             // 401: signed, but outside the vendor's timestamp window (a replay)
  kTooLarge,          // 413: longer than gateway.max_body_bytes (or than Kafka accepts)
  kUnknownSource,     // 404: not a configured source (label source="unknown")
  kMethodNotAllowed,  // 405: not a POST
  kKafkaUnavailable,  // 503: not acknowledged within gateway.delivery_timeout_ms
};
std::string_view OutcomeName(Outcome outcome);
const std::vector<Outcome>& AllOutcomes();

// Told about every request, from HTTP worker threads (must be thread-safe): the metrics.
class GatewayObserver {
 public:
  virtual ~GatewayObserver() = default;
  virtual void OnRequest(std::string_view source, Outcome outcome, double seconds) = 0;
};

struct HookRequest {
  std::string method;
  std::string source;  // the path segment after /hooks/
  Headers headers;
  std::string_view body;
  bool too_large = false;  // the listener did not read a body over the limit
};

struct HookResponse {
  int status = 200;
  std::string body;  // text/plain, except a Slack challenge
  std::string content_type = "text/plain";
  Headers headers;  // Allow, Retry-After
};

// A configured source with its secret loaded.
struct SourceSetup {
  Vendor vendor;
  std::string topic;
  std::string secret;
};

// The webhook gateway's request handling: look up the source, check method, size and
// signature, answer Slack's challenge, produce the verbatim body with the vendor's headers and
// answer 2xx only once Kafka acknowledged it. Borrows the producer and observer (they must
// outlive it). Thread-safe: Handle is called from every HTTP worker thread at once. Never logs a
// body, a secret or a signature.
class Gateway {
 public:
  // Reads every source's secret file (errors name gateway.sources.<name>.secret_file).
  static Result<std::unique_ptr<Gateway>> Create(const config::GatewayConfig& config,
                                                 ingest::RecordProducer& producer,
                                                 GatewayObserver& observer, logging::Logger logger);
  // `now_ms`: the clock for the timestamp windows (Unix milliseconds).
  Gateway(std::vector<SourceSetup> sources, ingest::RecordProducer& producer,
          GatewayObserver& observer, logging::Logger logger, std::function<int64_t()> now_ms);
  ~Gateway();

  HookResponse Handle(const HookRequest& request);
  // The configured source names, in config order.
  std::vector<std::string> SourceNames() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The vendor headers that travel with a body as Kafka record headers: the vendor's own
// (X-GitHub-*, X-Atlassian-*, X-Slack-*, X-PagerDuty-*, Linear-*) except signatures, plus
// Content-Type and User-Agent. Never Authorization, cookies or the Opsgenie token.
Headers RecordHeaders(Vendor vendor, const Headers& request_headers);

// Reads every source's secret file as `gateway` would, for `check-config`.
Status CheckSecrets(const config::GatewayConfig& config);

}  // namespace teamhealth::gateway
