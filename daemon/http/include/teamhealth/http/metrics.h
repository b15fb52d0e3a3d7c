#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "teamhealth/eventlog/event_log.h"
#include "teamhealth/ingest/ingestor.h"
#include "teamhealth/projections/accumulator.h"

namespace teamhealth::http {

// The daemon's own metrics (docs/design.md section 7, "The daemon itself", and section 11):
// name, type and help of each, the one list the exposition below and `teamhealth metrics`
// read.
const std::vector<projections::MetricSpec>& SelfMetricSpecs();

// The daemon's own metrics (docs/design.md section 7, "The daemon itself"), kept in a prometheus-cpp
// registry that only this module sees. Counters are seeded from the counts persisted in the
// log, so they are cumulative over the whole log and survive restarts.
// Thread-safe: observer calls from the ingest thread, Serialize() from HTTP threads.
class DaemonMetrics final : public ingest::IngestObserver {
 public:
  explicit DaemonMetrics(std::string_view version);
  ~DaemonMetrics() override;

  void Seed(const eventlog::Counters& totals, Sequence last);
  // Every counter family exists from the first scrape: the ingest counters of each of
  // `sources` (quarantined: with every reason) and the lag and missing gauges of each of
  // `topics`, at zero until something happens.
  void Declare(const std::vector<std::string>& sources, const std::vector<std::string>& topics);
  void OnBatch(const eventlog::AppendOutcome& outcome) override;
  void OnLag(std::string_view topic, int64_t lag) override;
  void OnKafkaUp(bool up) override;
  void OnDiskFull(bool full) override;
  void OnTopicMissing(std::string_view topic, bool missing) override;
  // The log's index checkpoint (EventLog::IndexedSequence), from the indexer's thread.
  void SetIndexedSequence(Sequence indexed);

  // Exports the team-health metrics: at every scrape `snapshot()` gives the projections'
  // metrics as of now (privacy already applied) and `lag()` how many events they trail the
  // log by. Call once, before serving.
  void AttachProjections(std::function<projections::Accumulator()> snapshot,
                         std::function<uint64_t()> lag, std::vector<std::string> names);

  // Prometheus text exposition format 0.0.4.
  std::string Serialize() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace teamhealth::http
