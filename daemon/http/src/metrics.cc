#include "teamhealth/http/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <map>
#include <mutex>

namespace teamhealth::http {

struct DaemonMetrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& ingested =
      prometheus::BuildCounter()
          .Name("teamhealth_events_ingested_total")
          .Help("Canonical events appended to the log, by source.")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& duplicate =
      prometheus::BuildCounter()
          .Name("teamhealth_events_duplicate_total")
          .Help("Events not appended because their id was already in the log, by source.")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& quarantined =
      prometheus::BuildCounter()
          .Name("teamhealth_events_quarantined_total")
          .Help("Records quarantined by reference, by source and reason.")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& ignored =
      prometheus::BuildCounter()
          .Name("teamhealth_events_ignored_total")
          .Help("Records that are not events (such as Slack url_verification), by source.")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& lag =
      prometheus::BuildGauge()
          .Name("teamhealth_consumer_lag_messages")
          .Help("Records behind the high watermark, summed over the topic's partitions.")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& last_sequence_family =
      prometheus::BuildGauge()
          .Name("teamhealth_log_last_sequence")
          .Help("Sequence number of the last event in the log.")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& build_info =
      prometheus::BuildGauge()
          .Name("teamhealth_build_info")
          .Help("Always 1; the version label names the build.")
          .Register(*registry);
  prometheus::Gauge& last_sequence = last_sequence_family.Add({});

  // Handles by label value: label sets are bounded (sources, reasons, topics), and lookups
  // happen once per batch, not per event.
  std::mutex mu;
  std::map<std::string, prometheus::Counter*> ingested_by;
  std::map<std::string, prometheus::Counter*> duplicate_by;
  std::map<std::string, prometheus::Counter*> ignored_by;
  std::map<std::pair<std::string, std::string>, prometheus::Counter*> quarantined_by;
  std::map<std::string, prometheus::Gauge*> lag_by;

  static prometheus::Counter& Get(std::map<std::string, prometheus::Counter*>& cache,
                                  prometheus::Family<prometheus::Counter>& family,
                                  const std::string& source) {
    auto& c = cache[source];
    if (!c) c = &family.Add({{"source", source}});
    return *c;
  }

  void AddAll(const eventlog::Counters& d) {
    std::lock_guard lock(mu);
    for (const auto& [s, n] : d.ingested) Get(ingested_by, ingested, s).Increment(double(n));
    for (const auto& [s, n] : d.duplicate) Get(duplicate_by, duplicate, s).Increment(double(n));
    for (const auto& [s, n] : d.ignored) Get(ignored_by, ignored, s).Increment(double(n));
    for (const auto& [key, n] : d.quarantined) {
      auto& c = quarantined_by[key];
      if (!c) c = &quarantined.Add({{"source", key.first}, {"reason", key.second}});
      c->Increment(double(n));
    }
  }
};

DaemonMetrics::DaemonMetrics(std::string_view version) : impl_(std::make_unique<Impl>()) {
  impl_->build_info.Add({{"version", std::string(version)}}).Set(1);
}

DaemonMetrics::~DaemonMetrics() = default;

void DaemonMetrics::Seed(const eventlog::Counters& totals, Sequence last) {
  impl_->AddAll(totals);
  impl_->last_sequence.Set(double(last.value()));
}

void DaemonMetrics::OnBatch(const eventlog::AppendOutcome& outcome) {
  impl_->AddAll(outcome.delta);
  impl_->last_sequence.Set(double(outcome.last.value()));
}

void DaemonMetrics::OnLag(std::string_view topic, int64_t lag) {
  std::lock_guard lock(impl_->mu);
  auto& g = impl_->lag_by[std::string(topic)];
  if (!g) g = &impl_->lag.Add({{"topic", std::string(topic)}});
  g->Set(double(lag));
}

std::string DaemonMetrics::Serialize() const {
  return prometheus::TextSerializer().Serialize(impl_->registry->Collect());
}

}  // namespace teamhealth::http
