#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "teamhealth/projections/metrics.h"
#include "teamhealth/projections/string_map.h"

namespace teamhealth::projections {

// How each section 7 metric is exported: type, help and histogram buckets.
enum class MetricType { kCounter, kGauge, kHistogram };
struct MetricSpec {
  std::string_view name;
  MetricType type;
  std::string_view help;
  std::vector<double> buckets;  // histogram upper bounds (seconds), without +Inf
  std::vector<std::string_view> labels;  // its label names, as docs/design.md section 7 lists
};
// Every team-health metric of docs/design.md section 7, by name; nullptr if unknown.
const MetricSpec* FindSpec(std::string_view name);
const std::vector<MetricSpec>& AllSpecs();

// The unit of a metric's values, from its name (Prometheus naming: the base unit is the suffix,
// before `_total`): `..._seconds` and `..._seconds_total` are seconds (a histogram's sum and
// percentiles too, not its count); everything else is a plain number.
enum class MetricUnit { kNone, kSeconds };
MetricUnit UnitOf(std::string_view name);

struct HistogramData {
  std::vector<uint64_t> bucket_counts;  // per bucket (not cumulative), plus one for +Inf
  double sum = 0;
  uint64_t count = 0;
};

// Privacy (docs/design.md section 6): whether a series of `name` is held back for a team
// smaller than privacy.min_group_size (burnout and direct-interruption series).
bool IsSmallTeamSensitive(std::string_view name);
// Privacy (docs/design.md 7.6): whether a series names, in its `sender_team` label, a directory
// team smaller than `min_group_size` (`team_sizes` as Pipeline::TeamSizes gives them; `unmapped`
// and `other` are no directory team). Such a series would tell how often one or two people
// pinged a team, so it is withheld like a small team's series.
bool IsSmallSenderTeam(const Labels& labels, const std::map<std::string, int>& team_sizes,
                       int min_group_size);

// A MetricSink that accumulates every increment: the live metrics. Gauges are set per export.
// Its counters and histograms are part of the projection state (Save/Load), so they are
// cumulative over the whole log and survive restarts. Not thread-safe.
class Accumulator final : public MetricSink {
 public:
  void Add(std::string_view name, const Labels& labels, double delta, EpochMillis at) override;
  void Observe(std::string_view name, const Labels& labels, double value, EpochMillis at) override;
  void Set(std::string_view name, const Labels& labels, double value) override;
  // By id: one bounds check and one load once this accumulator has seen the series (the first
  // call for it takes the string path above and remembers where the series lives).
  void AddSeries(const Series& series, double delta, EpochMillis at) override;
  void ObserveSeries(const Series& series, double value, EpochMillis at) override;

  void ClearGauges() { gauges_.clear(); }
  // Adds another accumulator's counters and histograms and takes its gauges (the live metrics
  // of several projections, each accumulated on its own so that one can rebuild alone).
  void MergeFrom(const Accumulator& other);
  const std::map<std::string, std::map<Labels, double>>& counters() const { return counters_; }
  const std::map<std::string, std::map<Labels, double>>& gauges() const { return gauges_; }
  const std::map<std::string, std::map<Labels, HistogramData>>& histograms() const {
    return histograms_;
  }

  std::string Save() const;
  bool Load(std::string_view bytes);

  // Privacy (docs/design.md section 6): removes the burnout and direct-interruption series of teams
  // with fewer than `min_group_size` members (`team_sizes`; teams absent there count as
  // empty) and sets teamhealth_privacy_suppressed_series to how many were removed.
  void SuppressSmallTeams(const std::map<std::string, int>& team_sizes, int min_group_size);
  // Prometheus takes a counter's first sample as its baseline, so `increase()` misses the
  // increment that makes a series appear (a team's first bypass would never reach the weekly
  // rule). This adds, at 0, every counter and histogram series of each team in `team_sizes`
  // that is not there yet, for the families whose other labels take a known set of values
  // (`period`, `kind`); families with open labels (`urgency`, `item_type`, `sender_team`) get
  // none. A small team gets no zero series of a family withheld for it (section 6), and these
  // are not counted as suppressed. Call it after SuppressSmallTeams.
  void AddZeroTeamSeries(const std::map<std::string, int>& team_sizes, int min_group_size);
  // Per-person series (teamhealth_person_*) carry pseudonyms; this replaces them by the
  // directory handles in `names` (pseudonym -> handle) and drops people it does not name.
  void NamePeople(const std::map<std::string, std::string>& names);

 private:
  std::map<std::string, std::map<Labels, double>> counters_;
  std::map<std::string, std::map<Labels, double>> gauges_;
  std::map<std::string, std::map<Labels, HistogramData>> histograms_;
  // Where each counter and histogram series lives, by its name and labels serialised
  // (SeriesKey): an increment finds its series with one hash lookup and one comparison
  // instead of two walks down ordered maps comparing label vectors (a profile of a replay
  // found a quarter of its apply time there). The pointers are into the maps' nodes, which
  // never move; the index is emptied wherever a series may be erased or a map replaced, and a
  // copied or moved accumulator starts with an empty one.
  struct SeriesIndex {
    std::unordered_map<std::string, void*, StringHash, std::equal_to<>> where;
    SeriesIndex() = default;
    SeriesIndex(const SeriesIndex&) {}
    // A moved-from accumulator's maps are gone: its index must not point into them either.
    SeriesIndex(SeriesIndex&& other) noexcept { other.where.clear(); }
    SeriesIndex& operator=(const SeriesIndex&) {
      where.clear();
      return *this;
    }
    SeriesIndex& operator=(SeriesIndex&& other) noexcept {
      where.clear();
      other.where.clear();
      return *this;
    }
  };
  // The same series by Series::id, for AddSeries and ObserveSeries; a histogram also keeps its
  // buckets (FindSpec walks every spec comparing names). Cleared with the index above.
  struct HistogramSlot {
    HistogramData* data = nullptr;
    const std::vector<double>* bounds = nullptr;
  };
  void ForgetSeriesIndex() {
    counter_index_.where.clear();
    histogram_index_.where.clear();
    counter_slots_.Clear();
    histogram_slots_.Clear();
  }
  double& CounterOf(std::string_view name, const Labels& labels);
  HistogramData& HistogramOf(std::string_view name, const Labels& labels);
  SeriesIndex counter_index_, histogram_index_;
  SeriesSlots<double*> counter_slots_;
  SeriesSlots<HistogramSlot> histogram_slots_;
  std::string key_;   // the current increment's SeriesKey (reused: no allocation per call)
  std::string name_;  // the current metric name, for the same reason
};

}  // namespace teamhealth::projections
