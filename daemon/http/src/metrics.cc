#include "teamhealth/http/metrics.h"

#include "teamhealth/http/exposition.h"
#include "teamhealth/sources/source.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <atomic>
#include <cstdlib>
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

// The team-health metrics, written at scrape time straight from the projections' accumulator
// (ExpositionWriter), so they need no handles: their label sets come from the data.
class ProjectionExport {
 public:
  ProjectionExport(std::function<projections::Accumulator()> snapshot,
                   std::function<uint64_t()> lag, std::vector<std::string> names)
      : snapshot_(std::move(snapshot)), lag_(std::move(lag)), names_(std::move(names)) {}

  void AppendTo(std::string& out) const {
    const projections::Accumulator acc = snapshot_();
    ExpositionWriter writer(out);
    writer.Families(acc);
    constexpr std::string_view kLag = "teamhealth_projection_lag_events";
    writer.Header(kLag, Self(kLag).help, MetricType::kGauge);
    const double behind = static_cast<double>(lag_());
    projections::Labels labels = {{"projection", ""}};
    for (const auto& name : names_) {
      labels[0].second = name;
      writer.Sample(kLag, labels, behind);
    }
  }

 private:
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
      {"teamhealth_log_indexed_sequence", MetricType::kGauge,
       "Last sequence covered by the log's time and subject indexes (built behind the log).",
       {}},
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
  prometheus::Family<prometheus::Gauge>& indexed_sequence_family =
      Build(prometheus::BuildGauge(), "teamhealth_log_indexed_sequence", *registry);
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
  prometheus::Gauge& indexed_sequence = indexed_sequence_family.Add({});
  std::unique_ptr<ProjectionExport> projections;
  // The last scrape's size: the next one reserves it (plus some) once.
  mutable std::atomic<size_t> size_hint{0};

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

void DaemonMetrics::SetIndexedSequence(Sequence indexed) {
  impl_->indexed_sequence.Set(double(indexed.value()));
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
  impl_->projections =
      std::make_unique<ProjectionExport>(std::move(snapshot), std::move(lag), std::move(names));
}

std::string DaemonMetrics::Serialize() const {
  std::string out;
  const size_t hint = impl_->size_hint.load(std::memory_order_relaxed);
  out.reserve(hint + hint / 8);
  // The daemon's own metrics are a few dozen series: prometheus-cpp's serializer is cheap there.
  out += prometheus::TextSerializer().Serialize(impl_->registry->Collect());
  if (impl_->projections) impl_->projections->AppendTo(out);
  impl_->size_hint.store(out.size(), std::memory_order_relaxed);
  return out;
}

}  // namespace teamhealth::http
