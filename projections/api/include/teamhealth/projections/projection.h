#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "event_view.h"
#include "teamhealth/base/time.h"
#include "teamhealth/projections/definitions.h"
#include "teamhealth/projections/directory_view.h"
#include "teamhealth/projections/metrics.h"

namespace teamhealth::projections {


// A deterministic read model over the event log (docs/design.md section 7). Apply() sees every event
// in log order, reads time only from events, and does no I/O; what it counts goes to the sink
// as increments stamped with their instant. The runtime persists Save()d state with its
// checkpoint in one write; a version bump makes the runtime rebuild from the start of the log.
// Not thread-safe, except that the const members only read: the projector runs Save() (a
// checkpoint) and ExportGauges() (a scrape) on one projection at the same time, so they must
// change nothing (no lazily filled cache). The one exception, the directory's zone caches
// that ExportGauges() may update, is covered by the projector letting one scrape run at a time.
class Projection {
 public:
  virtual ~Projection() = default;
  virtual std::string_view name() const = 0;
  virtual uint32_t version() const = 0;
  // `e` views a stored record or a message (schema::EventView), its person references already
  // resolved by the Pipeline; it is valid only during the call.
  virtual void Apply(const schema::EventView& e, const DirectoryView& directory,
                     MetricSink& sink) = 0;
  // Gauges as of `now`: trailing windows end at `now`.
  virtual void ExportGauges(EpochMillis now, const DirectoryView& directory,
                            MetricSink& sink) const = 0;
  virtual std::string Save() const = 0;
  virtual bool Load(std::string_view bytes) = 0;
};

}  // namespace teamhealth::projections
