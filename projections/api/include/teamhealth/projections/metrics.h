#pragma once

#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "teamhealth/base/time.h"

namespace teamhealth::projections {

// Label pairs of one series, sorted by name. Never holds a person unless
// privacy.person_metrics allows it.
using Labels = std::vector<std::pair<std::string, std::string>>;

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
  // A gauge's value (only from Projection::ExportGauges).
  virtual void Set(std::string_view name, const Labels& labels, double value) = 0;
  // Whether the sink keeps `team`'s gauges: an export may skip computing the others (a
  // report of one team need not evaluate every person of a large organisation).
  virtual bool WantsTeam(std::string_view /*team*/) const { return true; }
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
