#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "event.pb.h"
#include "teamhealth/base/time.h"
#include "teamhealth/projections/directory_view.h"
#include "teamhealth/projections/metrics.h"

namespace teamhealth::projections {

// Definitions that config may change (DESIGN section 7 defaults).
struct Settings {
  int64_t session_gap_ms = 2 * 3600 * 1000;
  double switch_cost_minutes = 15;
  int64_t page_merge_ms = 60 * 1000;
  // Burnout thresholds.
  int sleep_interruptions_7d = 2;
  double after_hours_share_14d = 0.25;
  int after_hours_min_activities = 20;
  int weekend_days_28d = 3;
  int no_rest_streak_days = 12;
  double oncall_share_28d = 0.25;
  int wip_limit = 3;
  double always_on_share_28d = 0.9;
  // Privacy.
  bool person_metrics = false;
  int min_group_size = 5;
};

// A deterministic read model over the event log (DESIGN section 7). Apply() sees every event
// in log order, reads time only from events, and does no I/O; what it counts goes to the sink
// as increments stamped with their instant. The runtime persists Save()d state with its
// checkpoint in one write; a version bump makes the runtime rebuild from the start of the log.
// Not thread-safe.
class Projection {
 public:
  virtual ~Projection() = default;
  virtual std::string_view name() const = 0;
  virtual uint32_t version() const = 0;
  virtual void Apply(const schema::Event& e, const DirectoryView& directory, MetricSink& sink) = 0;
  // Gauges as of `now`: trailing windows end at `now`.
  virtual void ExportGauges(EpochMillis now, const DirectoryView& directory,
                            MetricSink& sink) const = 0;
  virtual std::string Save() const = 0;
  virtual bool Load(std::string_view bytes) = 0;
};

}  // namespace teamhealth::projections
