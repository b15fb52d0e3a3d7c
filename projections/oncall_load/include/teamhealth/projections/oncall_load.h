#pragma once

#include <array>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "teamhealth/projections/expiry_index.h"
#include "teamhealth/projections/pages.h"
#include "teamhealth/projections/projection.h"
#include "teamhealth/projections/shift_book.h"
#include "teamhealth/projections/string_map.h"

namespace teamhealth::projections {

// On-call load (docs/design.md section 7): interruptions by period, sleep-disrupted nights, incidents,
// time to ack and resolve, unacknowledged incidents, escalations, reassignments, shift time
// and open incidents.
//
// Shift time (teamhealth_oncall_shift_seconds_total{team}) is booked at each shift's start for
// the person's team at that instant. A shift of a slot (schedule subject id and level, see
// ShiftBook) supersedes the part of the slot's earlier shifts it covers; it books only the
// seconds of its [start, end) the slot has not booked for that same team before (ShiftLedger):
// an override within the team books nothing more, a handover to another team books the new
// team's seconds, and a shortened shift leaves the earlier booking, because a counter never
// goes down. Shifts without a subject id book their whole length, as they always did.
//
// State: open (and recently resolved) incidents, one pager record per person and the slots'
// bookings of the last 29 days, so memory is O(people + open items + slots).
class OncallLoad final : public Projection {
 public:
  explicit OncallLoad(const Settings& settings)
      : settings_(settings), pages_(settings.page_merge_ms) {}

  std::string_view name() const override { return "oncall_load"; }
  // 2: shifts supersede earlier shifts of their slot (a shift ledger in the state). 3: incidents
  // keyed by the pipeline's subject key (EventView::subject_key).
  uint32_t version() const override { return 3; }
  void Apply(const schema::EventView& e, const DirectoryView& directory, MetricSink& sink) override;
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

  // The team-labelled series one team's events increment, resolved together (InternSeries) at
  // the team's first event so that each increment goes by id (issue 13). Person-labelled
  // series (privacy.person_metrics) stay on the string calls: one per person and period.
  struct TeamSeries {
    const Series* shift_seconds = nullptr;
    const Series* escalations = nullptr;
    const Series* reassignments = nullptr;
    const Series* time_to_ack = nullptr;
    const Series* time_to_resolve = nullptr;
    const Series* unacknowledged = nullptr;
    const Series* sleep_disrupted_nights = nullptr;
    std::array<const Series*, 3> interruptions{};  // by Period
    StringMap<const Series*> incidents;            // by urgency, resolved on first use
  };

  TeamSeries& SeriesOf(std::string_view team);
  void ApplyIncident(const schema::EventView& e, const DirectoryView& directory, MetricSink& sink);
  void ApplyShift(const Shift& shift, const DirectoryView& directory, MetricSink& sink);
  void Interruption(const std::string& person, EpochMillis at, const DirectoryView& directory,
                    MetricSink& sink);
  void Prune(EpochMillis now);

  Settings settings_;
  PageTracker pages_;
  ShiftLedger ledger_;
  // Hashed: looked up at every incident event (Save writes them in key order).
  StringMap<Incident> incidents_;
  // Every incident that is not open, noted at its last_at, so that Prune visits only those
  // that may expire (an incident closes, or changes last_at while closed, only at an event).
  ExpiryIndex closed_;
  // Per person: the local night already counted as sleep-disrupted.
  std::map<std::string, int64_t> last_night_;
  uint64_t applied_ = 0;
  // A cache, not state: Save, Load and version() ignore it (a Series never changes).
  StringMap<TeamSeries> series_;
  std::string key_;  // a subject key when the pipeline stamped none (SubjectKey), not state
};

}  // namespace teamhealth::projections
