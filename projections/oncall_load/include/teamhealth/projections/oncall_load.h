#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "teamhealth/projections/projection.h"

namespace teamhealth::projections {

// On-call load (DESIGN section 7): interruptions by period, sleep-disrupted nights, incidents,
// time to ack and resolve, unacknowledged incidents, escalations, reassignments, shift time
// and open incidents. State: open (and recently resolved) incidents and one pager record per
// person, so memory is O(people + open items).
class OncallLoad final : public Projection {
 public:
  explicit OncallLoad(const Settings& settings) : settings_(settings) {}

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
    std::set<std::string> assignees;
  };
  struct Pager {
    EpochMillis last_page_at = -1;
    int64_t last_night = INT64_MIN;  // local night already counted as sleep-disrupted
  };

  void ApplyIncident(const schema::Event& e, const DirectoryView& directory, MetricSink& sink);
  void Assign(Incident& inc, const std::vector<std::string>& assignees, EpochMillis at,
              const DirectoryView& directory, MetricSink& sink);
  void Page(const std::string& person, EpochMillis at, const DirectoryView& directory,
            MetricSink& sink);
  void Prune(EpochMillis now);

  Settings settings_;
  std::map<std::string, Incident> incidents_;
  std::map<std::string, Pager> pagers_;
  uint64_t applied_ = 0;
};

}  // namespace teamhealth::projections
