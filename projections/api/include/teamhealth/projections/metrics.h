#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "teamhealth/base/time.h"

namespace teamhealth::projections {

// The `kind` label of a direct interruption (docs/design.md 7.3). Its values are written here
// once: for context switching, which counts them, and for the export's zero series.
enum class InterruptionKind { kDm, kMention };
inline std::string_view InterruptionKindName(InterruptionKind kind) {
  return kind == InterruptionKind::kDm ? "dm" : "mention";
}

// Label pairs of one series, sorted by name. Never holds a person unless
// privacy.person_metrics allows it.
using Labels = std::vector<std::pair<std::string, std::string>>;

// One series, a metric name and its labels, given a dense id (from 0) by InternSeries. A
// projection resolves the series it increments once and keeps the `const Series*`, and a sink
// that keeps its series in maps remembers where each id lives (SeriesSlots), so an increment by
// id builds no label strings and hashes no key (issue 13: the string API cost a MakeLabels, a
// serialised key and a hash per increment). Immutable once interned.
struct Series {
  uint32_t id;
  std::string name;
  Labels labels;  // sorted by name, as MetricSink expects
};

// The series of (`name`, `labels`), interned on first use in a process-wide append-only table:
// the same name and labels always give the same Series, whose address stays valid until the
// process ends. `labels` must already be sorted (MakeLabels): they are not sorted here, and
// the same pairs in another order would be another series. Thread-safe (the live projector and
// the API's report threads intern at once).
// A lookup that hits takes a shared lock, builds the key and hashes it: cheap, but meant for
// resolving a series once, not per event.
//
// A table for the whole process, against the house rule of no global state, because an id
// must mean the same series to every sink one projection feeds (its Accumulator, a report's
// WindowSink, a fan-out behind them), and a projection's cached `const Series*` must stay valid
// whichever of them it is later applied to; the table only grows, its entries never change,
// and it is as large as the number of distinct series (label values are bounded).
const Series& InternSeries(std::string_view name, const Labels& labels);

// Where projections report what they count. Projections emit *increments* stamped with the
// instant they belong to, so one implementation of each definition serves both the live
// metrics (which accumulate everything) and a retrospective report (which keeps only the
// increments inside its window). Gauges are computed on demand at a given instant.
class MetricSink {
 public:
  virtual ~MetricSink() = default;
  // A counter grows by `delta` at instant `at`.
  virtual void Add(std::string_view name, const Labels& labels, double delta, EpochMillis at) = 0;
  // A histogram observes `value` at instant `at`.
  virtual void Observe(std::string_view name, const Labels& labels, double value,
                       EpochMillis at) = 0;
  // The same, for a series resolved once through InternSeries. By default these forward to
  // the string calls above, so a sink that only implements those receives exactly what it
  // would have; a sink with a faster path by id (Accumulator) overrides them. Named apart from
  // Add and Observe, not overloads of them: an overload would be hidden in every sink that
  // overrides only the string call (-Woverloaded-virtual, in -Wall for clang and GCC 13, is an
  // error with -Werror), and each such sink would need `using MetricSink::Add;`.
  virtual void AddSeries(const Series& series, double delta, EpochMillis at) {
    Add(series.name, series.labels, delta, at);
  }
  virtual void ObserveSeries(const Series& series, double value, EpochMillis at) {
    Observe(series.name, series.labels, value, at);
  }
  // A gauge's value (only from Projection::ExportGauges).
  virtual void Set(std::string_view name, const Labels& labels, double value) = 0;
  // Whether the sink keeps `team`'s gauges: an export may skip computing the others (a
  // report of one team need not evaluate every person of a large organisation).
  virtual bool WantsTeam(std::string_view /*team*/) const { return true; }
};

// For sinks: where each Series::id lives in the sink's own maps (a `T` such as `double*`, or a
// small struct of pointers; `T{}` means not known). The pointers are into map nodes, which never
// move, so the memo stays right until a series is erased, relabelled or its map replaced: the
// sink calls Clear() wherever that may happen. A copied or moved sink must not point into
// another's maps, so a copy starts empty and a move empties both. Not thread-safe.
template <typename T>
class SeriesSlots {
 public:
  SeriesSlots() = default;
  SeriesSlots(const SeriesSlots&) {}
  SeriesSlots(SeriesSlots&& other) noexcept { other.Clear(); }
  SeriesSlots& operator=(const SeriesSlots&) {
    Clear();
    return *this;
  }
  SeriesSlots& operator=(SeriesSlots&& other) noexcept {
    Clear();
    other.Clear();
    return *this;
  }

  T Find(const Series& series) const {
    return series.id < slots_.size() ? slots_[series.id] : T{};
  }
  void Remember(const Series& series, T where) {
    if (series.id >= slots_.size()) slots_.resize(series.id + 1);
    slots_[series.id] = where;
  }
  // Keeps the capacity: the same series are usually remembered again straight away.
  void Clear() { slots_.clear(); }

 private:
  std::vector<T> slots_;
};

// Replaces the person label of per-person series (teamhealth_person_*) through `names`
// (pseudonym or identity -> directory handle) and drops series of people it does not name.
// `families` maps metric name -> (labels -> value) for any value type.
template <typename Families>
void NamePersonSeries(Families& families, const std::map<std::string, std::string>& names) {
  for (auto& [name, series] : families) {
    if (!name.starts_with("teamhealth_person_")) continue;
    // Each series' node moves into the renamed map: no label or value is copied.
    std::remove_reference_t<decltype(series)> renamed;
    while (!series.empty()) {
      auto node = series.extract(series.begin());
      bool known = false;
      for (auto& [k, v] : node.key()) {
        if (k != "person") continue;
        auto it = names.find(v);
        known = it != names.end();
        if (known) v = it->second;
      }
      if (!known) continue;
      // Two pseudonyms of one handle: the later series (in label order) wins, as it always has.
      auto placed = renamed.insert(std::move(node));
      if (!placed.inserted) placed.position->second = std::move(placed.node.mapped());
    }
    series = std::move(renamed);
  }
}

}  // namespace teamhealth::projections
