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

  // Handles by label values; every label set is created up front (bounded: configured sources
  // and "unknown", times the outcomes), so requests only look up.
  std::map<std::pair<std::string, gateway::Outcome>, prometheus::Counter*, std::less<>> counters;
  std::map<std::string, prometheus::Histogram*, std::less<>> histograms;
  std::mutex mu;  // guards the maps' lookups (prometheus-cpp's handles are thread-safe)
};

GatewayMetrics::GatewayMetrics(std::string_view version, const std::vector<std::string>& sources)
    : impl_(std::make_unique<Impl>()) {
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

std::string GatewayMetrics::Serialize() const {
  return prometheus::TextSerializer().Serialize(impl_->registry->Collect());
}

}  // namespace teamhealth::http
