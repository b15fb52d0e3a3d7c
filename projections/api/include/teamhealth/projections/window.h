#pragma once

#include <map>
#include <string>
#include <vector>

#include "teamhealth/projections/metrics.h"

namespace teamhealth::projections {

// A MetricSink for a retrospective report over [from, to): keeps only the increments and
// observations stamped inside the window (counters are the increase inside it; histograms keep
// the observed values for exact percentiles) and the gauges set at `to`. Not thread-safe.
class WindowSink final : public MetricSink {
 public:
  WindowSink(EpochMillis from, EpochMillis to) : from_(from), to_(to) {}

  void Add(std::string_view name, const Labels& labels, double delta, EpochMillis at) override {
    if (at >= from_ && at < to_) counters_[std::string(name)][labels] += delta;
  }
  void Observe(std::string_view name, const Labels& labels, double value, EpochMillis at) override {
    if (at >= from_ && at < to_) observations_[std::string(name)][labels].push_back(value);
  }
  void Set(std::string_view name, const Labels& labels, double value) override {
    gauges_[std::string(name)][labels] = value;
  }
  // By id: the same window test, then the series' remembered place instead of a name copy and
  // two map walks (a report replays the whole log through this sink).
  void AddSeries(const Series& series, double delta, EpochMillis at) override {
    if (at < from_ || at >= to_) return;
    double* v = counter_slots_.Find(series);
    if (!v) {
      v = &counters_[series.name][series.labels];
      counter_slots_.Remember(series, v);
    }
    *v += delta;
  }
  void ObserveSeries(const Series& series, double value, EpochMillis at) override {
    if (at < from_ || at >= to_) return;
    std::vector<double>* values = observation_slots_.Find(series);
    if (!values) {
      values = &observations_[series.name][series.labels];
      observation_slots_.Remember(series, values);
    }
    values->push_back(value);
  }

  // As Accumulator::NamePeople: pseudonyms or identities of per-person series -> handles.
  void NamePeople(const std::map<std::string, std::string>& names);
  // Privacy beyond the small-team rule (docs/design.md section 6): drops the counters whose
  // sender team is small (IsSmallSenderTeam), as /metrics does, and a team pulse with fewer
  // answers in the window than `min_group_size` (its scores would be those few people's).
  void WithholdSmallGroups(const std::map<std::string, int>& team_sizes,
                                int min_group_size);

  EpochMillis from() const { return from_; }
  EpochMillis to() const { return to_; }
  const std::map<std::string, std::map<Labels, double>>& counters() const { return counters_; }
  const std::map<std::string, std::map<Labels, double>>& gauges() const { return gauges_; }
  const std::map<std::string, std::map<Labels, std::vector<double>>>& observations() const {
    return observations_;
  }

 private:
  EpochMillis from_, to_;
  std::map<std::string, std::map<Labels, double>> counters_;
  std::map<std::string, std::map<Labels, double>> gauges_;
  std::map<std::string, std::map<Labels, std::vector<double>>> observations_;
  // Where each series lives, by Series::id; cleared wherever a series is erased or relabelled.
  SeriesSlots<double*> counter_slots_;
  SeriesSlots<std::vector<double>*> observation_slots_;
};

// Nearest-rank percentile (0 < p <= 100) of `values` (sorted in place); 0 for none.
double Percentile(std::vector<double>& values, double p);

}  // namespace teamhealth::projections
