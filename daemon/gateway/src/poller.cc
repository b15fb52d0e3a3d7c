#include "teamhealth/gateway/poller.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "teamhealth/base/url.h"
#include "teamhealth/secrets/secrets.h"

namespace teamhealth::gateway {
namespace {

constexpr int kPageLimit = 100;       // PagerDuty's largest page
constexpr int kMaxPages = 100;        // 10,000 on-calls per poll: a runaway `more` stops here
constexpr int kHttpTimeoutMs = 30000;

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

PollOutcome FailureOutcome(int status) {
  if (status == 0) return PollOutcome::kTransportError;
  if (status == 429) return PollOutcome::kRateLimited;
  if (status >= 500) return PollOutcome::kServerError;
  return PollOutcome::kClientError;
}

}  // namespace

std::string_view PollOutcomeName(PollOutcome outcome) {
  switch (outcome) {
    case PollOutcome::kOk: return "ok";
    case PollOutcome::kRateLimited: return "rate_limited";
    case PollOutcome::kServerError: return "server_error";
    case PollOutcome::kClientError: return "client_error";
    case PollOutcome::kTransportError: return "transport_error";
    case PollOutcome::kBadResponse: return "bad_response";
    case PollOutcome::kKafkaUnavailable: return "kafka_unavailable";
  }
  return "unknown";
}

const std::vector<PollOutcome>& AllPollOutcomes() {
  static const std::vector<PollOutcome> all = {
      PollOutcome::kOk,          PollOutcome::kRateLimited,    PollOutcome::kServerError,
      PollOutcome::kClientError, PollOutcome::kTransportError, PollOutcome::kBadResponse,
      PollOutcome::kKafkaUnavailable};
  return all;
}

struct SchedulePoller::Impl {
  std::vector<ScheduleSetup> schedules;
  std::vector<ProducedShifts> produced;  // one per schedule
  std::string topic;
  std::unique_ptr<HttpGetter> http;
  ingest::RecordProducer& producer;
  PollerObserver& observer;
  logging::Logger log;
  Clock clock;
  Sleeper sleep;
  std::function<double()> jitter;

  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  std::thread thread;
  std::mt19937_64 rng{std::random_device{}()};

  Impl(std::vector<ScheduleSetup> s, std::string t, std::unique_ptr<HttpGetter> h,
       ingest::RecordProducer& p, PollerObserver& o, logging::Logger l, Clock c)
      : schedules(std::move(s)),
        produced(schedules.size()),
        topic(std::move(t)),
        http(std::move(h)),
        producer(p),
        observer(o),
        log(std::move(l)),
        clock(std::move(c)) {}

  // Waits on the stop signal; false when stopping.
  bool Wait(int64_t ms) {
    std::unique_lock lock(mu);
    return !cv.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(ms, 0)),
                        [this] { return stopping; });
  }

  // One GET with retries. `outcome` is set when it fails for good.
  std::optional<std::string> Fetch(const ScheduleSetup& s, const std::string& url,
                                   const Headers& headers, PollOutcome& outcome) {
    const std::string& vendor = s.config.vendor;
    for (int attempt = 0;; ++attempt) {
      HttpAnswer a = http->Get(url, headers);
      if (a.status >= 200 && a.status < 300) return std::move(a.body);
      const auto delay = RetryDelayMs(a.status, a.retry_after, attempt, jitter(), clock());
      if (!delay) {
        outcome = FailureOutcome(a.status);
        // The URL carries ids and times, never the token (that travels in a header).
        log->warn(
            "Schedule poll failed. vendor={} url=\"{}\" status={} retry_after=\"{}\" "
            "attempts={} error=\"{}\"",
            vendor, url, a.status, a.retry_after, attempt + 1, a.error);
        return std::nullopt;
      }
      observer.OnRetry(vendor);
      log->info("Retrying a schedule request. vendor={} status={} retry_after=\"{}\" wait_ms={}",
                vendor, a.status, a.retry_after, *delay);
      if (!sleep(*delay)) {
        outcome = FailureOutcome(a.status);
        return std::nullopt;
      }
    }
  }

  // Appends every on-call of PagerDuty schedule entry `s` over `window` to `out`; false (with
  // `outcome`) on a failure.
  bool PagerDutyShifts(const ScheduleSetup& s, const Window& window, PollOutcome& outcome,
                       std::vector<Shift>& out) {
    const std::string base = TrimSlash(s.config.api_url);
    const Headers headers = {{"Authorization", "Token token=" + s.token},
                             {"Accept", "application/vnd.pagerduty+json;version=2"}};
    // Schedules and escalation policies are asked for separately: PagerDuty ANDs its filters,
    // and the config lists what to follow, any of them.
    for (const auto* ids : {&s.config.schedule_ids, &s.config.escalation_policy_ids}) {
      if (ids->empty()) continue;
      const char* param =
          ids == &s.config.schedule_ids ? "schedule_ids%5B%5D=" : "escalation_policy_ids%5B%5D=";
      std::string query;
      for (const auto& id : *ids) query += std::string(param) + PercentEncode(id) + "&";
      query += "since=" + PercentEncode(FormatRfc3339(window.since)) +
               "&until=" + PercentEncode(FormatRfc3339(window.until)) + "&time_zone=UTC" +
               "&limit=" + std::to_string(kPageLimit);
      int64_t offset = 0;
      for (int page = 0;; ++page) {
        if (page == kMaxPages) {
          log->warn("PagerDuty keeps saying more; stopped paging. pages={}", page);
          break;
        }
        const std::string url = base + "/oncalls?" + query + "&offset=" + std::to_string(offset);
        auto body = Fetch(s, url, headers, outcome);
        if (!body) return false;
        auto parsed = ParsePagerDutyOncalls(*body, window);
        if (!parsed) {
          outcome = PollOutcome::kBadResponse;
          log->warn("Schedule answer not understood. vendor=pagerduty error=\"{}\"",
                    parsed.error().message());
          return false;
        }
        for (auto& shift : parsed->shifts) out.push_back(std::move(shift));
        if (!parsed->more) break;
        // The next page starts after this one (the server's offset and limit when given).
        const int64_t limit = parsed->limit > 0 ? parsed->limit : kPageLimit;
        offset = std::max(offset, parsed->offset) + limit;
      }
    }
    return true;
  }

  // Appends the final timeline of every schedule of Opsgenie entry `s` over `window` to `out`;
  // false (with `outcome`) on a failure.
  bool OpsgenieShifts(const ScheduleSetup& s, const Window& window, PollOutcome& outcome,
                      std::vector<Shift>& out) {
    const std::string base = TrimSlash(s.config.api_url);
    const Headers headers = {{"Authorization", "GenieKey " + s.token}};
    const int64_t days = (window.until - window.since) / 86400000;
    for (const auto& id : s.config.schedule_ids) {
      const std::string url = base + "/v2/schedules/" + PercentEncode(id) +
                              "/timeline?identifierType=id&date=" +
                              PercentEncode(FormatRfc3339(window.since)) +
                              "&interval=" + std::to_string(days) + "&intervalUnit=days";
      auto body = Fetch(s, url, headers, outcome);
      if (!body) return false;
      auto parsed = ParseOpsgenieTimeline(*body, id);
      if (!parsed) {
        outcome = PollOutcome::kBadResponse;
        log->warn("Schedule answer not understood. vendor=opsgenie error=\"{}\"",
                  parsed.error().message());
        return false;
      }
      for (auto& shift : *parsed) out.push_back(std::move(shift));
    }
    return true;
  }

  // Every shift of schedule `s` over `window`, or nothing (with `outcome`) on a failure.
  std::optional<std::vector<Shift>> Shifts(const ScheduleSetup& s, const Window& window,
                                           PollOutcome& outcome) {
    std::vector<Shift> all;
    const bool ok = s.config.vendor == "pagerduty" ? PagerDutyShifts(s, window, outcome, all)
                                                   : OpsgenieShifts(s, window, outcome, all);
    if (!ok) return std::nullopt;
    return all;
  }

  PollOutcome Poll(size_t index) {
    const ScheduleSetup& s = schedules[index];
    ProducedShifts& memory = produced[index];
    const EpochMillis now = clock();
    const Window window = PollWindow(now, s.config.window_days);
    PollOutcome outcome = PollOutcome::kOk;
    auto shifts = Shifts(s, window, outcome);
    int fresh = 0;
    if (shifts) {
      // In time order, so a reader of the topic sees a slot's shifts as they follow each other.
      std::stable_sort(shifts->begin(), shifts->end(),
                       [](const Shift& a, const Shift& b) { return a.start < b.start; });
      for (const Shift& shift : *shifts) {
        if (memory.Known(shift, window)) continue;
        const ingest::Delivery d =
            producer.ProduceAndWait(topic, shift.slot, {{"Content-Type", "application/json"}},
                                    ShiftEventJson(shift, now));
        if (d.outcome != ingest::Delivery::Outcome::kAcknowledged) {
          outcome = PollOutcome::kKafkaUnavailable;
          log->warn("Kafka did not acknowledge a shift; the next poll produces it again. "
                    "vendor={} topic={} reason=\"{}\"",
                    s.config.vendor, topic, d.reason);
          break;
        }
        memory.Remember(shift);
        ++fresh;
      }
      memory.Forget(window.since - 86400000);
    }
    if (fresh > 0) observer.OnShiftsProduced(s.config.vendor, fresh);
    observer.OnPoll(s.config.vendor, outcome);
    if (outcome == PollOutcome::kOk) {
      observer.OnPollSucceeded(s.config.vendor, clock());
      log->info("Polled a schedule. vendor={} schedule={} shifts={} new={} since={} until={}",
                s.config.vendor, index, shifts->size(), fresh, FormatRfc3339(window.since),
                FormatRfc3339(window.until));
    }
    return outcome;
  }

  void Run() {
    std::vector<EpochMillis> due(schedules.size(), 0);
    while (true) {
      const EpochMillis now = clock();
      size_t next = 0;
      for (size_t i = 1; i < due.size(); ++i) {
        if (due[i] < due[next]) next = i;
      }
      if (due[next] > now && !Wait(due[next] - now)) return;
      {
        std::lock_guard lock(mu);
        if (stopping) return;
      }
      Poll(next);
      due[next] = clock() + schedules[next].config.poll_interval_seconds * int64_t{1000};
    }
  }
};

SchedulePoller::SchedulePoller(std::vector<ScheduleSetup> schedules, std::string shifts_topic,
                               std::unique_ptr<HttpGetter> http, ingest::RecordProducer& producer,
                               PollerObserver& observer, logging::Logger logger, Clock clock,
                               Sleeper sleep, std::function<double()> jitter)
    : impl_(std::make_unique<Impl>(std::move(schedules), std::move(shifts_topic), std::move(http),
                                   producer, observer, std::move(logger), std::move(clock))) {
  Impl* impl = impl_.get();
  impl->sleep = sleep ? std::move(sleep) : Sleeper([impl](int64_t ms) { return impl->Wait(ms); });
  impl->jitter = jitter ? std::move(jitter) : std::function<double()>([impl] {
    return std::uniform_real_distribution<double>(0.0, 1.0)(impl->rng);
  });
}

SchedulePoller::~SchedulePoller() {
  Stop();
  for (auto& s : impl_->schedules) secrets::Wipe(s.token);
}

PollOutcome SchedulePoller::PollOnce(size_t index) { return impl_->Poll(index); }

void SchedulePoller::Start() {
  if (impl_->schedules.empty() || impl_->thread.joinable()) return;
  impl_->thread = std::thread([this] { impl_->Run(); });
}

void SchedulePoller::Stop() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

namespace {

Result<std::vector<ScheduleSetup>> ReadTokens(const config::GatewayConfig& config) {
  std::vector<ScheduleSetup> out;
  for (size_t i = 0; i < config.schedules.size(); ++i) {
    const auto& c = config.schedules[i];
    auto token = secrets::ReadToken(
        c.token_file, "gateway.schedules[" + std::to_string(i) + "].token_file " + c.token_file);
    if (!token) {
      for (auto& s : out) secrets::Wipe(s.token);
      return token.error();
    }
    out.push_back({c, std::move(*token)});
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<SchedulePoller>> SchedulePoller::Create(
    const config::GatewayConfig& config, ingest::RecordProducer& producer,
    PollerObserver& observer, logging::Logger logger) {
  auto schedules = ReadTokens(config);
  if (!schedules) return schedules.error();
  auto http = MakeCurlGetter(kHttpTimeoutMs);
  if (!http) {
    for (auto& s : *schedules) secrets::Wipe(s.token);
    return http.error();
  }
  return std::make_unique<SchedulePoller>(
      std::move(*schedules), config.shifts_topic, std::move(*http), producer, observer,
      std::move(logger), [] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
      });
}

Status CheckScheduleTokens(const config::GatewayConfig& config) {
  auto schedules = ReadTokens(config);
  if (!schedules) return schedules.error();
  for (auto& s : *schedules) secrets::Wipe(s.token);
  return Status::Ok();
}

}  // namespace teamhealth::gateway
