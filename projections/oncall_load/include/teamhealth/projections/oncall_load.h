#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "teamhealth/projections/pages.h"
#include "teamhealth/projections/projection.h"

namespace teamhealth::projections {

// On-call load (docs/design.md section 7): interruptions by period, sleep-disrupted nights, incidents,
// time to ack and resolve, unacknowledged incidents, escalations, reassignments, shift time
// and open incidents. State: open (and recently resolved) incidents and one pager record per
// person, so memory is O(people + open items).
class OncallLoad final : public Projection {
 public:
  explicit OncallLoad(const Settings& settings)
      : settings_(settings), pages_(settings.page_merge_ms) {}

  std::string_view name() const override { return "oncall_load"; }
  uint32_t version() const override { return 1; }
  void Apply(const schema::Event& e, const DirectoryView& directory, MetricSink& sink) override;
  void ExportGauges(EpochMillis now, const DirectoryView& directory,
                    MetricSink& sink) const override;
  std::string Save() const override;
  bool Load(std::string_view bytes) override;

 private:
  struct Incident {
    std::string team;
    EpochMillis triggered_at = -1;  // -1: the trigger was never seen
    EpochMillis last_at = 0;
    bool acked = false;
    bool resolved_once = false;
    bool open = false;
  };

  void ApplyIncident(const schema::Event& e, const DirectoryView& directory, MetricSink& sink);
  void Interruption(const std::string& person, EpochMillis at, const DirectoryView& directory,
                    MetricSink& sink);
  void Prune(EpochMillis now);

  Settings settings_;
  PageTracker pages_;
  std::map<std::string, Incident> incidents_;
  // Per person: the local night already counted as sleep-disrupted.
  std::map<std::string, int64_t> last_night_;
  uint64_t applied_ = 0;
};

}  // namespace teamhealth::projections
