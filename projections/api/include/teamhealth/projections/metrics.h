#pragma once

#include <string>
#include <string_view>
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
};

}  // namespace teamhealth::projections
