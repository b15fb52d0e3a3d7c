#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "teamhealth/projections/pages.h"
#include "teamhealth/projections/projection.h"

namespace teamhealth::projections {

// One person's burnout signal values at an instant `now`, before thresholds are applied.
// Day windows are local days of the person ending with the local day of `now` (today
// included); instant windows are (now - N days, now].
struct BurnoutSignals {
  int sleep_interruptions_7d = 0;  // interruptions that began in the person's sleep period
  int activities_14d = 0;          // events the person acted in (not directory.*)
  int after_hours_14d = 0;         // ... of which in off_hours or sleep
  int weekend_days_28d = 0;        // non-working local days with at least one activity
  int no_rest_streak = 0;          // consecutive active local days ending today or yesterday
  double oncall_share_28d = 0;     // share of the 28 days covered by the person's shifts
  int64_t wip = 0;                 // in-progress work items assigned to the person now
  int wip_days_28d = 0;            // local days with WIP > 0 at some point
};

// The seven burnout signals of docs/design.md section 7, in export order (label `signal`).
// ExportGauges also exports `signal="any"`: distinct members at risk on at least one.
inline constexpr std::array<std::string_view, 7> kBurnoutSignalNames = {
    "sleep_interruptions_7d", "after_hours_share_14d", "weekend_days_28d", "no_rest_streak",
    "oncall_share_28d",       "wip_over_limit",        "always_on_28d"};

// Burnout signals (docs/design.md section 7): per person, over trailing windows ending at the `now` of
// ExportGauges, exported as the number of current team members at risk for each signal
// (`teamhealth_burnout_members_at_risk{signal,team}`) next to `teamhealth_team_members{team}`.
// Emits gauges only (no counters): the signals are states, not increments.
//
// State is bounded, never per event: per person the aggregates of the last ~35 local days
// (activities, after-hours activities, non-working day, had WIP), the sleep interruptions of
// the last 8 days, the on-call shifts that end within the last 29 days and where their WIP
// span began; the open (and recently closed) work items with their status category and
// assignee; the page tracker. Memory is O(people + open items). People are person keys: the
// Pipeline resolved every reference before this projection sees it. Not thread-safe.
class Burnout final : public Projection {
 public:
  explicit Burnout(const Settings& settings);

  std::string_view name() const override { return "burnout"; }
  // 1 was the placeholder that counted nothing; 3: people are person keys (no alias state)
  // and the `any` signal.
  uint32_t version() const override { return 3; }
  void Apply(const schema::Event& e, const DirectoryView& directory, MetricSink& sink) override;
  void ExportGauges(EpochMillis now, const DirectoryView& directory,
                    MetricSink& sink) const override;
  std::string Save() const override;
  bool Load(std::string_view bytes) override;

  // Signal values of `person` (a directory pseudonym) at `now`; for tests and explanations.
  BurnoutSignals SignalsOf(std::string_view person, EpochMillis now,
                           const DirectoryView& directory) const;
  // Which signals (in kBurnoutSignalNames order) are at or over their Settings threshold.
  std::array<bool, 7> AtRisk(const BurnoutSignals& s) const;

 private:
  // Aggregates of one local day of one person.
  struct Day {
    uint32_t activities = 0;
    uint32_t after_hours = 0;  // activities in off_hours or sleep
    bool non_working = false;  // not a working day in the person's pattern
    bool had_wip = false;      // WIP > 0 at some point of a WIP span that has ended
  };
  struct Person {
    std::map<int64_t, Day> days;                           // local day -> aggregates
    std::vector<EpochMillis> sleep_interruptions;          // sorted
    std::set<std::pair<EpochMillis, EpochMillis>> shifts;  // [start, end)
    int64_t wip_since_day = 0;  // local day WIP last rose above 0 (0 while WIP is 0)
  };
  struct Item {
    std::string category;  // todo, in_progress, done, or "" while unknown
    std::string assignee;  // person key; "" = unassigned
    EpochMillis last_at = 0;
  };

  int64_t WipOf(const std::string& person) const;
  void ApplyActivity(const schema::Event& e, const DirectoryView& directory);
  void ApplyPages(const schema::Event& e, const DirectoryView& directory);
  void ApplyShift(const schema::Event& e);
  void ApplyWorkItem(const schema::Event& e, const DirectoryView& directory);
  void MoveWip(const std::string& person, int64_t delta, EpochMillis at,
               const DirectoryView& directory);
  void WipTransition(const std::string& person, int64_t before, int64_t after, EpochMillis at,
                     const DirectoryView& directory);
  void MarkWipDays(Person& p, int64_t from_day, int64_t to_day);
  Day* DayOf(Person& p, int64_t day);
  void Trim(Person& p) const;
  void Prune(EpochMillis now);
  void RebuildDerived();

  Settings settings_;
  int64_t keep_days_;  // local days of aggregates kept per person
  PageTracker pages_;
  std::map<std::string, Person, std::less<>> people_;
  std::map<std::string, Item> items_;  // "<source>:<subject kind>:<subject id>"
  // Derived (rebuilt by Load): in-progress items per assignee.
  std::map<std::string, int64_t, std::less<>> wip_of_;
  uint64_t applied_ = 0;
};

}  // namespace teamhealth::projections
