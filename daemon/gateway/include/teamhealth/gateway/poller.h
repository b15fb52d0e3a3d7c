#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "teamhealth/base/result.h"
#include "teamhealth/config/config.h"
#include "teamhealth/gateway/shifts.h"
#include "teamhealth/gateway/verify.h"
#include "teamhealth/ingest/producer.h"
#include "teamhealth/logging/logging.h"

namespace teamhealth::gateway {

// One answer to an HTTP GET. `status` 0: no answer at all (DNS, connect, TLS, timeout), with
// `error` saying why.
struct HttpAnswer {
  int status = 0;
  std::string body;
  std::string retry_after;  // the Retry-After header, if any
  std::string error;
};

// Makes HTTP GET requests for the poller. Called from the poller's thread only.
class HttpGetter {
 public:
  virtual ~HttpGetter() = default;
  virtual HttpAnswer Get(const std::string& url, const Headers& headers) = 0;
};

// libcurl (src/curl_getter.cc): TLS verified against the system's CAs, no redirects, http and
// https only, `timeout_ms` for the whole request. One connection kept alive between requests.
Result<std::unique_ptr<HttpGetter>> MakeCurlGetter(int timeout_ms);

// What became of one poll of one `[[gateway.schedules]]` entry: the `outcome` label of
// teamhealth_gateway_schedule_polls_total.
enum class PollOutcome {
  kOk,                // every page read, every new shift acknowledged by Kafka
  kRateLimited,       // 429 after the retries (or a Retry-After beyond RetryPolicy::kMaxWaitMs)
  kServerError,       // 5xx after the retries
  kClientError,       // another 4xx (a bad token 401, an unknown id 404): not retried
  kTransportError,    // no answer after the retries
  kBadResponse,       // an answer that is not the vendor's shape
  kKafkaUnavailable,  // a shift not acknowledged (it is produced again by the next poll)
};
std::string_view PollOutcomeName(PollOutcome outcome);
const std::vector<PollOutcome>& AllPollOutcomes();

// Told about every poll, from the poller's thread: the metrics.
class PollerObserver {
 public:
  virtual ~PollerObserver() = default;
  virtual void OnPoll(std::string_view vendor, PollOutcome outcome) = 0;
  // A request retried after a 429, a 5xx or no answer.
  virtual void OnRetry(std::string_view vendor) = 0;
  virtual void OnShiftsProduced(std::string_view vendor, int count) = 0;
  // A poll ended kOk at `unix_ms`.
  virtual void OnPollSucceeded(std::string_view vendor, EpochMillis unix_ms) = 0;
};

// A `[[gateway.schedules]]` entry with its token read.
struct ScheduleSetup {
  config::GatewayScheduleConfig config;
  std::string token;
};

// The on-call schedule poller of `teamhealth gateway` (docs/design.md section 12). Every
// `poll_interval_seconds` it asks each configured vendor who is on call over PollWindow, turns
// the answer into shifts (shifts.h) and produces each shift not produced before as a canonical
// oncall.shift to `shifts_topic` (keyed by the slot, acks=all), waiting for Kafka's
// acknowledgement. 429 and 5xx are retried per RetryDelayMs. Borrows the producer and observer
// (they must outlive it); owns the HTTP getter and its thread. Never logs a token.
// Thread-safety: Start and Stop from the owner's thread; PollOnce only while the thread is not
// running (tests). Stop interrupts a wait at once, a request in flight after its timeout.
class SchedulePoller {
 public:
  // Milliseconds since the epoch.
  using Clock = std::function<EpochMillis()>;
  // Waits `ms`; false when the poller is stopping (the wait was cut short).
  using Sleeper = std::function<bool(int64_t ms)>;

  // Reads every token file (errors name gateway.schedules[i].token_file) and makes the libcurl
  // getter.
  static Result<std::unique_ptr<SchedulePoller>> Create(const config::GatewayConfig& config,
                                                        ingest::RecordProducer& producer,
                                                        PollerObserver& observer,
                                                        logging::Logger logger);
  // `sleep` null: waits on the poller's own stop signal. `jitter` returns values in [0, 1).
  SchedulePoller(std::vector<ScheduleSetup> schedules, std::string shifts_topic,
                 std::unique_ptr<HttpGetter> http, ingest::RecordProducer& producer,
                 PollerObserver& observer, logging::Logger logger, Clock clock,
                 Sleeper sleep = nullptr, std::function<double()> jitter = nullptr);
  ~SchedulePoller();  // stops the thread

  // Polls schedule `index` once, now: every page, with retries. The thread calls this; tests
  // call it directly.
  PollOutcome PollOnce(size_t index);
  // Starts the thread: every schedule at once, then each at its interval, until Stop.
  void Start();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads every schedule's token file as `gateway` would, for `check-config`.
Status CheckScheduleTokens(const config::GatewayConfig& config);

}  // namespace teamhealth::gateway
