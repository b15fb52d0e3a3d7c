#include "teamhealth/http/metrics.h"

#include "teamhealth/sources/source.h"

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <cstdlib>
#include <limits>
#include <map>
#include <mutex>

namespace teamhealth::http {

namespace {

using projections::MetricType;

const projections::MetricSpec& Self(std::string_view name) {
  for (const auto& spec : SelfMetricSpecs()) {
    if (spec.name == name) return spec;
  }
  std::abort();  // a name missing from SelfMetricSpecs() is a programming error
}

template <typename Builder>
auto& Build(Builder builder, std::string_view name, prometheus::Registry& registry) {
  const auto& spec = Self(name);
  return builder.Name(std::string(spec.name)).Help(std::string(spec.help)).Register(registry);
}

// Converts the projections' accumulator into Prometheus families at scrape time, so the
// team-health metrics need no handles: their label sets come from the data.
class ProjectionCollectable final : public prometheus::Collectable {
 public:
  ProjectionCollectable(std::function<projections::Accumulator()> snapshot,
                        std::function<uint64_t()> lag, std::vector<std::string> names)
      : snapshot_(std::move(snapshot)), lag_(std::move(lag)), names_(std::move(names)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    const projections::Accumulator acc = snapshot_();
    std::vector<prometheus::MetricFamily> out;
    for (const auto& spec : projections::AllSpecs()) {
      prometheus::MetricFamily family;
      family.name = std::string(spec.name);
      family.help = std::string(spec.help);
      switch (spec.type) {
        case projections::MetricType::kCounter:
          family.type = prometheus::MetricType::Counter;
          if (auto it = acc.counters().find(family.name); it != acc.counters().end()) {
            for (const auto& [labels, v] : it->second) {
              auto& m = family.metric.emplace_back(Metric(labels));
              m.counter.value = v;
            }
          }
          break;
        case projections::MetricType::kGauge:
          family.type = prometheus::MetricType::Gauge;
          if (auto it = acc.gauges().find(family.name); it != acc.gauges().end()) {
            for (const auto& [labels, v] : it->second) {
              auto& m = family.metric.emplace_back(Metric(labels));
              m.gauge.value = v;
            }
          }
          break;
        case projections::MetricType::kHistogram:
          family.type = prometheus::MetricType::Histogram;
          if (auto it = acc.histograms().find(family.name); it != acc.histograms().end()) {
            for (const auto& [labels, h] : it->second) {
              auto& m = family.metric.emplace_back(Metric(labels));
              m.histogram.sample_count = h.count;
              m.histogram.sample_sum = h.sum;
              uint64_t cumulative = 0;
              for (size_t i = 0; i < h.bucket_counts.size(); ++i) {
                cumulative += h.bucket_counts[i];
                prometheus::ClientMetric::Bucket b;
                b.cumulative_count = cumulative;
                b.upper_bound = i < spec.buckets.size() ? spec.buckets[i]
                                                        : std::numeric_limits<double>::infinity();
                m.histogram.bucket.push_back(b);
              }
            }
          }
          break;
      }
      out.push_back(std::move(family));
    }
    prometheus::MetricFamily lag;
    lag.name = "teamhealth_projection_lag_events";
    lag.help = std::string(Self(lag.name).help);
    lag.type = prometheus::MetricType::Gauge;
    const double behind = static_cast<double>(lag_());
    for (const auto& name : names_) {
      auto& m = lag.metric.emplace_back(Metric({{"projection", name}}));
      m.gauge.value = behind;
    }
    out.push_back(std::move(lag));
    return out;
  }

 private:
  static prometheus::ClientMetric Metric(const projections::Labels& labels) {
    prometheus::ClientMetric m;
    for (const auto& [k, v] : labels) m.label.push_back({k, v});
    return m;
  }

  std::function<projections::Accumulator()> snapshot_;
  std::function<uint64_t()> lag_;
  std::vector<std::string> names_;
};

}  // namespace

const std::vector<projections::MetricSpec>& SelfMetricSpecs() {
  static const std::vector<projections::MetricSpec> specs = {
      {"teamhealth_events_ingested_total", MetricType::kCounter,
       "Canonical events appended to the log, by source.", {}},
      {"teamhealth_events_duplicate_total", MetricType::kCounter,
       "Events not appended because their id was already in the log, by source.", {}},
      {"teamhealth_events_quarantined_total", MetricType::kCounter,
       "Records quarantined by reference, by source and reason.", {}},
      {"teamhealth_events_ignored_total", MetricType::kCounter,
       "Records that are not events (such as Slack url_verification), by source.", {}},
      {"teamhealth_consumer_lag_messages", MetricType::kGauge,
       "Records behind the high watermark, summed over the topic's partitions.", {}},
      {"teamhealth_log_last_sequence", MetricType::kGauge,
       "Sequence number of the last event in the log.", {}},
      {"teamhealth_build_info", MetricType::kGauge,
       "Always 1; the version label names the build.", {}},
      {"teamhealth_projection_lag_events", MetricType::kGauge,
       "Events appended to the log that the projection has not applied yet.", {}},
      {"teamhealth_kafka_up", MetricType::kGauge,
       "1 while Kafka is reachable and every assigned partition fetching; 0 after 30 s of not.",
       {}},
      {"teamhealth_ingest_last_batch_timestamp_seconds", MetricType::kGauge,
       "Unix time of the last batch written durably to the log (process start until the first).",
       {}},
      {"teamhealth_topic_missing", MetricType::kGauge,
       "1 while a configured topic does not exist on the brokers (polled every 5 s), else 0.",
       {}},
      {"teamhealth_ingest_disk_full", MetricType::kGauge,
       "1 while ingest is paused because the state directory's filesystem is full, else 0.",
       {}},
  };
  return specs;
}

struct DaemonMetrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& ingested =
      Build(prometheus::BuildCounter(), "teamhealth_events_ingested_total", *registry);
  prometheus::Family<prometheus::Counter>& duplicate =
      Build(prometheus::BuildCounter(), "teamhealth_events_duplicate_total", *registry);
  prometheus::Family<prometheus::Counter>& quarantined =
      Build(prometheus::BuildCounter(), "teamhealth_events_quarantined_total", *registry);
  prometheus::Family<prometheus::Counter>& ignored =
      Build(prometheus::BuildCounter(), "teamhealth_events_ignored_total", *registry);
  prometheus::Family<prometheus::Gauge>& lag =
      Build(prometheus::BuildGauge(), "teamhealth_consumer_lag_messages", *registry);
  prometheus::Family<prometheus::Gauge>& last_sequence_family =
      Build(prometheus::BuildGauge(), "teamhealth_log_last_sequence", *registry);
  prometheus::Family<prometheus::Gauge>& build_info =
      Build(prometheus::BuildGauge(), "teamhealth_build_info", *registry);
  prometheus::Family<prometheus::Gauge>& kafka_up_family =
      Build(prometheus::BuildGauge(), "teamhealth_kafka_up", *registry);
  prometheus::Family<prometheus::Gauge>& last_batch_family =
      Build(prometheus::BuildGauge(), "teamhealth_ingest_last_batch_timestamp_seconds", *registry);
  prometheus::Family<prometheus::Gauge>& topic_missing =
      Build(prometheus::BuildGauge(), "teamhealth_topic_missing", *registry);
  prometheus::Family<prometheus::Gauge>& disk_full_family =
      Build(prometheus::BuildGauge(), "teamhealth_ingest_disk_full", *registry);
  prometheus::Gauge& kafka_up = kafka_up_family.Add({});
  prometheus::Gauge& disk_full = disk_full_family.Add({});
  prometheus::Gauge& last_batch = last_batch_family.Add({});
  prometheus::Gauge& last_sequence = last_sequence_family.Add({});
  std::shared_ptr<ProjectionCollectable> projections;

  // Handles by label value: label sets are bounded (sources, reasons, topics), and lookups
  // happen once per batch, not per event.
  std::mutex mu;
  std::map<std::string, prometheus::Counter*> ingested_by;
  std::map<std::string, prometheus::Counter*> duplicate_by;
  std::map<std::string, prometheus::Counter*> ignored_by;
  std::map<std::pair<std::string, std::string>, prometheus::Counter*> quarantined_by;
  std::map<std::string, prometheus::Gauge*> lag_by;
  std::map<std::string, prometheus::Gauge*> missing_by;

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
  impl_->last_batch.SetToCurrentTime();
}

void DaemonMetrics::Declare(const std::vector<std::string>& sources,
                            const std::vector<std::string>& topics) {
  std::lock_guard lock(impl_->mu);
  for (const auto& s : sources) {
    Impl::Get(impl_->ingested_by, impl_->ingested, s);
    Impl::Get(impl_->duplicate_by, impl_->duplicate, s);
    Impl::Get(impl_->ignored_by, impl_->ignored, s);
    for (const auto reason : sources::AllReasons()) {
      auto& c = impl_->quarantined_by[{s, std::string(sources::ReasonName(reason))}];
      if (!c) {
        c = &impl_->quarantined.Add(
            {{"source", s}, {"reason", std::string(sources::ReasonName(reason))}});
      }
    }
  }
  for (const auto& t : topics) {
    auto& g = impl_->lag_by[t];
    if (!g) g = &impl_->lag.Add({{"topic", t}});
    auto& m = impl_->missing_by[t];
    if (!m) m = &impl_->topic_missing.Add({{"topic", t}});
  }
}

DaemonMetrics::~DaemonMetrics() = default;

void DaemonMetrics::Seed(const eventlog::Counters& totals, Sequence last) {
  impl_->AddAll(totals);
  impl_->last_sequence.Set(double(last.value()));
}

void DaemonMetrics::OnBatch(const eventlog::AppendOutcome& outcome) {
  impl_->AddAll(outcome.delta);
  impl_->last_sequence.Set(double(outcome.last.value()));
  impl_->last_batch.SetToCurrentTime();
}

void DaemonMetrics::OnKafkaUp(bool up) { impl_->kafka_up.Set(up ? 1 : 0); }

void DaemonMetrics::OnDiskFull(bool full) { impl_->disk_full.Set(full ? 1 : 0); }

void DaemonMetrics::OnTopicMissing(std::string_view topic, bool missing) {
  std::lock_guard lock(impl_->mu);
  auto& g = impl_->missing_by[std::string(topic)];
  if (!g) g = &impl_->topic_missing.Add({{"topic", std::string(topic)}});
  g->Set(missing ? 1 : 0);
}

void DaemonMetrics::OnLag(std::string_view topic, int64_t lag) {
  std::lock_guard lock(impl_->mu);
  auto& g = impl_->lag_by[std::string(topic)];
  if (!g) g = &impl_->lag.Add({{"topic", std::string(topic)}});
  g->Set(double(lag));
}

void DaemonMetrics::AttachProjections(std::function<projections::Accumulator()> snapshot,
                                      std::function<uint64_t()> lag,
                                      std::vector<std::string> names) {
  impl_->projections = std::make_shared<ProjectionCollectable>(std::move(snapshot), std::move(lag),
                                                               std::move(names));
}

std::string DaemonMetrics::Serialize() const {
  auto families = impl_->registry->Collect();
  if (impl_->projections) {
    auto more = impl_->projections->Collect();
    families.insert(families.end(), std::make_move_iterator(more.begin()),
                    std::make_move_iterator(more.end()));
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace teamhealth::http
