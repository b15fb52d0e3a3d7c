#include "teamhealth/gateway/gateway.h"

#include <simdjson.h>

#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <map>
#include <mutex>

#include "teamhealth/base/json_writer.h"
#include "teamhealth/secrets/secrets.h"

namespace teamhealth::gateway {
namespace {

int64_t SystemNowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && StartsWithNoCase(a, b);
}

std::string_view VendorPrefix(Vendor vendor) {
  switch (vendor) {
    case Vendor::kGithub: return "X-GitHub-";
    case Vendor::kJira: return "X-Atlassian-";
    case Vendor::kSlack: return "X-Slack-";
    case Vendor::kPagerduty: return "X-PagerDuty-";
    case Vendor::kLinear: return "Linear-";
    case Vendor::kOpsgenie: return "";  // none of its own; its custom headers hold the token
  }
  return "";
}

// A Slack url_verification body: its challenge. Other bodies (every event): nullopt.
std::optional<std::string> SlackChallenge(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view type, challenge;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS ||
      root["type"].get_string().get(type) != simdjson::SUCCESS || type != "url_verification" ||
      root["challenge"].get_string().get(challenge) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  return std::string(challenge);
}

HookResponse Text(int status, std::string text) {
  return {.status = status, .body = std::move(text) + "\n"};
}

}  // namespace

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kAccepted: return "accepted";
    case Outcome::kChallenge: return "challenge";
    case Outcome::kBadSignature: return "bad_signature";
    case Outcome::kStale: return "stale";
    case Outcome::kTooLarge: return "too_large";
    case Outcome::kUnknownSource: return "unknown_source";
    case Outcome::kMethodNotAllowed: return "method_not_allowed";
    case Outcome::kKafkaUnavailable: return "kafka_unavailable";
  }
  return "unknown";
}

const std::vector<Outcome>& AllOutcomes() {
  static const std::vector<Outcome> all = {Outcome::kAccepted,         Outcome::kChallenge,
                                           Outcome::kBadSignature,     Outcome::kStale,
                                           Outcome::kTooLarge,         Outcome::kUnknownSource,
                                           Outcome::kMethodNotAllowed, Outcome::kKafkaUnavailable};
  return all;
}

Headers RecordHeaders(Vendor vendor, const Headers& request_headers) {
  static constexpr std::array<std::string_view, 5> kSignatures = {
      "X-Slack-Signature", "X-PagerDuty-Signature", "Linear-Signature", "X-Hub-Signature",
      "X-Hub-Signature-256"};
  const std::string_view prefix = VendorPrefix(vendor);
  Headers out;
  for (const auto& [name, value] : request_headers) {
    bool signature = false;
    for (const auto s : kSignatures) signature = signature || EqualsNoCase(name, s);
    const bool vendor_own = !prefix.empty() && StartsWithNoCase(name, prefix);
    const bool common = EqualsNoCase(name, "Content-Type") || EqualsNoCase(name, "User-Agent");
    if ((vendor_own || common) && !signature) out.emplace_back(name, value);
  }
  return out;
}

struct Gateway::Impl {
  struct Source {
    Vendor vendor;
    std::string name;
    std::string topic;
    std::string secret;
    // Refusals are logged at most once per kLogEvery per source; the rest are counted only.
    std::atomic<int64_t> last_refusal_log_ms{0};
    std::atomic<uint64_t> refusals_unlogged{0};
  };
  static constexpr int64_t kLogEveryMillis = 10000;

  std::map<std::string, std::unique_ptr<Source>, std::less<>> sources;
  std::vector<std::string> order;
  ingest::RecordProducer& producer;
  GatewayObserver& observer;
  logging::Logger logger;
  std::function<int64_t()> now_ms;

  Impl(ingest::RecordProducer& p, GatewayObserver& o, logging::Logger l, std::function<int64_t()> n)
      : producer(p), observer(o), logger(std::move(l)), now_ms(std::move(n)) {}

  ~Impl() {
    for (auto& [name, s] : sources) secrets::Wipe(s->secret);
  }

  void LogRefusal(Source& s, Outcome outcome, const std::string& detail) {
    const int64_t now = now_ms();
    int64_t last = s.last_refusal_log_ms.load();
    if (now - last < kLogEveryMillis || !s.last_refusal_log_ms.compare_exchange_strong(last, now)) {
      ++s.refusals_unlogged;
      return;
    }
    logger->warn("Refused a webhook. source={} outcome={} reason=\"{}\" unlogged_since_last={}",
                 s.name, OutcomeName(outcome), detail, s.refusals_unlogged.exchange(0));
  }

  HookResponse Handle(const HookRequest& r, std::string_view& source_label, Outcome& outcome) {
    const auto it = sources.find(r.source);
    if (it == sources.end()) {
      outcome = Outcome::kUnknownSource;
      return Text(404, "no webhook source here");
    }
    Source& s = *it->second;
    source_label = s.name;
    if (r.method != "POST") {
      outcome = Outcome::kMethodNotAllowed;
      HookResponse res = Text(405, "webhooks are POSTed");
      res.headers.emplace_back("Allow", "POST");
      return res;
    }
    if (r.too_large) {
      outcome = Outcome::kTooLarge;
      // cpp-httplib caps form-encoded bodies at 8 KiB whatever the limit (a compile-time
      // constant of the library): say so, since the fix is at the vendor.
      const auto type = FindHeader(r.headers, "Content-Type");
      if (type && StartsWithNoCase(*type, "application/x-www-form-urlencoded")) {
        LogRefusal(s, outcome, "form-encoded body over 8 KiB");
        return Text(413,
                    "form-encoded bodies are limited to 8 KiB: configure the webhook to "
                    "send application/json");
      }
      LogRefusal(s, outcome, "body over gateway.max_body_bytes");
      return Text(413, "body larger than gateway.max_body_bytes");
    }
    const Verification v = Verify(s.vendor, s.secret, r.headers, r.body, now_ms());
    if (!v.ok()) {
      outcome =
          v.verdict == Verification::Verdict::kStale ? Outcome::kStale : Outcome::kBadSignature;
      LogRefusal(s, outcome, v.detail);
      return Text(401, v.verdict == Verification::Verdict::kStale ? "stale timestamp"
                                                                  : "bad or missing signature");
    }
    if (s.vendor == Vendor::kSlack) {
      if (auto challenge = SlackChallenge(r.body)) {
        outcome = Outcome::kChallenge;
        logger->info("Answered Slack's url_verification challenge. source={}", s.name);
        std::string body;
        JsonWriter(body).BeginObject().Key("challenge").String(*challenge).EndObject();
        return {.status = 200, .body = body, .content_type = "application/json"};
      }
    }
    return Produce(s, r, outcome);
  }

  // The verified body onto Kafka, answered by its delivery report.
  HookResponse Produce(Source& s, const HookRequest& r, Outcome& outcome) {
    // One key per source: one partition, so the daemon reads a vendor's bodies in the order
    // they arrived (its normalisers learn status categories in that order).
    const ingest::Delivery d = producer.ProduceAndWait(
        s.topic, s.name, RecordHeaders(s.vendor, r.headers), std::string(r.body));
    switch (d.outcome) {
      case ingest::Delivery::Outcome::kAcknowledged:
        outcome = Outcome::kAccepted;
        return Text(200, "ok");
      case ingest::Delivery::Outcome::kTooLarge:
        outcome = Outcome::kTooLarge;
        LogRefusal(s, outcome, "Kafka refused the record as too large: " + d.reason);
        return Text(413, "body larger than Kafka accepts");
      case ingest::Delivery::Outcome::kUnavailable: break;
    }
    outcome = Outcome::kKafkaUnavailable;
    LogRefusal(s, outcome, "Kafka did not acknowledge (503, the vendor retries): " + d.reason);
    HookResponse res = Text(503, "Kafka did not acknowledge the body; retry later");
    res.headers.emplace_back("Retry-After", "10");
    return res;
  }
};

Gateway::Gateway(std::vector<SourceSetup> sources, ingest::RecordProducer& producer,
                 GatewayObserver& observer, logging::Logger logger, std::function<int64_t()> now_ms)
    : impl_(std::make_unique<Impl>(producer, observer, std::move(logger),
                                   now_ms ? std::move(now_ms) : SystemNowMillis)) {
  for (auto& setup : sources) {
    auto s = std::make_unique<Impl::Source>();
    s->vendor = setup.vendor;
    s->name = std::string(VendorName(setup.vendor));
    s->topic = std::move(setup.topic);
    s->secret = std::move(setup.secret);
    secrets::Wipe(setup.secret);
    impl_->order.push_back(s->name);
    impl_->sources[s->name] = std::move(s);
  }
}

Gateway::~Gateway() = default;

Result<std::unique_ptr<Gateway>> Gateway::Create(const config::GatewayConfig& config,
                                                 ingest::RecordProducer& producer,
                                                 GatewayObserver& observer,
                                                 logging::Logger logger) {
  std::vector<SourceSetup> sources;
  for (const auto& c : config.sources) {
    const auto vendor = VendorFromName(c.name);
    if (!vendor) return Error("gateway.sources." + c.name + ": unknown source");
    auto secret = secrets::ReadToken(c.secret_file,
                                     "gateway.sources." + c.name + ".secret_file " + c.secret_file);
    if (!secret) {
      for (auto& s : sources) secrets::Wipe(s.secret);
      return secret.error();
    }
    sources.push_back({*vendor, c.topic, std::move(*secret)});
  }
  return std::make_unique<Gateway>(std::move(sources), producer, observer, std::move(logger),
                                   nullptr);
}

HookResponse Gateway::Handle(const HookRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  std::string_view source = "unknown";
  Outcome outcome = Outcome::kUnknownSource;
  HookResponse response = impl_->Handle(request, source, outcome);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  impl_->observer.OnRequest(source, outcome, seconds);
  return response;
}

std::vector<std::string> Gateway::SourceNames() const { return impl_->order; }

Status CheckSecrets(const config::GatewayConfig& config) {
  for (const auto& c : config.sources) {
    auto secret = secrets::ReadToken(c.secret_file,
                                     "gateway.sources." + c.name + ".secret_file " + c.secret_file);
    if (!secret) return secret.error();
    secrets::Wipe(*secret);
  }
  return Status::Ok();
}

}  // namespace teamhealth::gateway
