#include "teamhealth/http/gateway_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <cstdlib>
#include <map>
#include <mutex>

namespace teamhealth::http {
namespace {

using projections::MetricType;

const projections::MetricSpec& Spec(std::string_view name) {
  for (const auto& spec : GatewayMetricSpecs()) {
    if (spec.name == name) return spec;
  }
  std::abort();  // a name missing from GatewayMetricSpecs() is a programming error
}

template <typename Builder>
auto& Build(Builder builder, std::string_view name, prometheus::Registry& registry) {
  const auto& spec = Spec(name);
  return builder.Name(std::string(spec.name)).Help(std::string(spec.help)).Register(registry);
}

}  // namespace

const std::vector<projections::MetricSpec>& GatewayMetricSpecs() {
  // From a loopback round trip (~1 ms) to the longest delivery timeout.
  static const std::vector<projections::MetricSpec> specs = {
      {"teamhealth_gateway_requests_total",
       MetricType::kCounter,
       "Webhook requests to /hooks/<source>, by source and outcome (accepted, challenge, "
       "bad_signature, stale, too_large, unknown_source, method_not_allowed, "
       "kafka_unavailable).",
       {}},
      {"teamhealth_gateway_request_duration_seconds",
       MetricType::kHistogram,
       "Time from a webhook request's arrival to its answer (with Kafka's acknowledgement), by "
       "source.",
       {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}},
      {"teamhealth_gateway_schedule_polls_total",
       MetricType::kCounter,
       "On-call schedule polls, by vendor and outcome (ok, rate_limited, server_error, "
       "client_error, transport_error, bad_response, kafka_unavailable).",
       {}},
      {"teamhealth_gateway_schedule_retries_total",
       MetricType::kCounter,
       "On-call schedule requests retried after a 429, a 5xx or no answer, by vendor.",
       {}},
      {"teamhealth_gateway_shifts_produced_total",
       MetricType::kCounter,
       "New oncall.shift events the schedule poller produced (acknowledged by Kafka), by "
       "vendor.",
       {}},
      {"teamhealth_gateway_schedule_last_success_timestamp_seconds",
       MetricType::kGauge,
       "Unix time of the last schedule poll that ended ok, by vendor (0: none yet).",
       {}},
      {"teamhealth_gateway_build_info",
       MetricType::kGauge,
       "Always 1; the version label names the gateway's build.",
       {}},
  };
  return specs;
}

struct GatewayMetrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& requests =
      Build(prometheus::BuildCounter(), "teamhealth_gateway_requests_total", *registry);
  prometheus::Family<prometheus::Histogram>& duration =
      Build(prometheus::BuildHistogram(), "teamhealth_gateway_request_duration_seconds", *registry);
  prometheus::Family<prometheus::Gauge>& build_info =
      Build(prometheus::BuildGauge(), "teamhealth_gateway_build_info", *registry);
  prometheus::Family<prometheus::Counter>& polls =
      Build(prometheus::BuildCounter(), "teamhealth_gateway_schedule_polls_total", *registry);
  prometheus::Family<prometheus::Counter>& retries =
      Build(prometheus::BuildCounter(), "teamhealth_gateway_schedule_retries_total", *registry);
  prometheus::Family<prometheus::Counter>& shifts =
      Build(prometheus::BuildCounter(), "teamhealth_gateway_shifts_produced_total", *registry);
  prometheus::Family<prometheus::Gauge>& last_success = Build(
      prometheus::BuildGauge(), "teamhealth_gateway_schedule_last_success_timestamp_seconds",
      *registry);

  // The poller's handles, by vendor (bounded: pagerduty, opsgenie), created up front.
  struct VendorHandles {
    std::map<gateway::PollOutcome, prometheus::Counter*> polls;
    prometheus::Counter* retries = nullptr;
    prometheus::Counter* shifts = nullptr;
    prometheus::Gauge* last_success = nullptr;
  };
  std::map<std::string, VendorHandles, std::less<>> vendors;

  // Handles by label values; every label set is created up front (bounded: configured sources
  // and "unknown", times the outcomes), so requests only look up.
  std::map<std::pair<std::string, gateway::Outcome>, prometheus::Counter*, std::less<>> counters;
  std::map<std::string, prometheus::Histogram*, std::less<>> histograms;
  std::mutex mu;  // guards the maps' lookups (prometheus-cpp's handles are thread-safe)
};

GatewayMetrics::GatewayMetrics(std::string_view version, const std::vector<std::string>& sources,
                               const std::vector<std::string>& schedule_vendors)
    : impl_(std::make_unique<Impl>()) {
  for (const auto& vendor : schedule_vendors) {
    if (impl_->vendors.contains(vendor)) continue;
    Impl::VendorHandles& h = impl_->vendors[vendor];
    for (const auto outcome : gateway::AllPollOutcomes()) {
      h.polls[outcome] = &impl_->polls.Add(
          {{"vendor", vendor}, {"outcome", std::string(gateway::PollOutcomeName(outcome))}});
    }
    h.retries = &impl_->retries.Add({{"vendor", vendor}});
    h.shifts = &impl_->shifts.Add({{"vendor", vendor}});
    h.last_success = &impl_->last_success.Add({{"vendor", vendor}});
  }
  impl_->build_info.Add({{"version", std::string(version)}}).Set(1);
  const auto& buckets = Spec("teamhealth_gateway_request_duration_seconds").buckets;
  for (const auto& source : sources) {
    for (const auto outcome : gateway::AllOutcomes()) {
      if (outcome == gateway::Outcome::kUnknownSource) continue;
      impl_->counters[{source, outcome}] = &impl_->requests.Add(
          {{"source", source}, {"outcome", std::string(gateway::OutcomeName(outcome))}});
    }
    impl_->histograms[source] = &impl_->duration.Add(
        {{"source", source}}, prometheus::Histogram::BucketBoundaries(buckets));
  }
  impl_->counters[{"unknown", gateway::Outcome::kUnknownSource}] = &impl_->requests.Add(
      {{"source", "unknown"},
       {"outcome", std::string(gateway::OutcomeName(gateway::Outcome::kUnknownSource))}});
  impl_->histograms["unknown"] = &impl_->duration.Add(
      {{"source", "unknown"}}, prometheus::Histogram::BucketBoundaries(buckets));
}

GatewayMetrics::~GatewayMetrics() = default;

void GatewayMetrics::OnRequest(std::string_view source, gateway::Outcome outcome, double seconds) {
  prometheus::Counter* counter = nullptr;
  prometheus::Histogram* histogram = nullptr;
  {
    std::lock_guard lock(impl_->mu);
    if (auto it = impl_->counters.find(std::pair{std::string(source), outcome});
        it != impl_->counters.end()) {
      counter = it->second;
    }
    if (auto it = impl_->histograms.find(source); it != impl_->histograms.end()) {
      histogram = it->second;
    }
  }
  if (counter != nullptr) counter->Increment();
  if (histogram != nullptr) histogram->Observe(seconds);
}

// The vendor map is only read after construction: no lock needed.
void GatewayMetrics::OnPoll(std::string_view vendor, gateway::PollOutcome outcome) {
  if (auto it = impl_->vendors.find(vendor); it != impl_->vendors.end()) {
    it->second.polls.at(outcome)->Increment();
  }
}

void GatewayMetrics::OnRetry(std::string_view vendor) {
  if (auto it = impl_->vendors.find(vendor); it != impl_->vendors.end()) {
    it->second.retries->Increment();
  }
}

void GatewayMetrics::OnShiftsProduced(std::string_view vendor, int count) {
  if (auto it = impl_->vendors.find(vendor); it != impl_->vendors.end()) {
    it->second.shifts->Increment(count);
  }
}

void GatewayMetrics::OnPollSucceeded(std::string_view vendor, EpochMillis unix_ms) {
  if (auto it = impl_->vendors.find(vendor); it != impl_->vendors.end()) {
    it->second.last_success->Set(static_cast<double>(unix_ms) / 1000.0);
  }
}

std::string GatewayMetrics::Serialize() const {
  return prometheus::TextSerializer().Serialize(impl_->registry->Collect());
}

}  // namespace teamhealth::http
