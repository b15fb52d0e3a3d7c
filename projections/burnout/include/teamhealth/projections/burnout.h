#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

#include "teamhealth/projections/pages.h"
#include "teamhealth/projections/by_person_id.h"
#include "teamhealth/projections/day_map.h"
#include "teamhealth/projections/projection.h"
#include "teamhealth/projections/string_map.h"
#include "teamhealth/projections/shift_book.h"
#include "teamhealth/projections/time_off_book.h"

namespace teamhealth::projections {

// One person's burnout signal values at an instant `now`, before thresholds are applied.
// Day windows are local days of the person ending with the local day of `now` (today
// included); instant windows are (now - N days, now]. "Own activity" is IsOwnActivity()
// (event_access.h): a work activity or a chat message the person sent.
struct BurnoutSignals {
  int sleep_interruptions_7d = 0;  // interruptions that began in the person's sleep period
  int activities_14d = 0;          // own activities
  int after_hours_14d = 0;         // ... of which in off_hours or sleep
  int weekend_days_28d = 0;        // non-working local days with own activity
  int no_rest_streak = 0;          // consecutive local days with own activity, to today/yesterday
  double oncall_share_28d = 0;     // share of the 28 days covered by the person's shifts
  int64_t wip = 0;                 // in-progress work items assigned to the person now
  int after_hours_days_28d = 0;    // local days with own activity in off_hours or sleep
  int time_off_worked_days_28d = 0;  // local days inside a current time off with work or a page
};

// The eight burnout signals of docs/design.md section 7.5, in export order (label `signal`).
// ExportGauges also exports `signal="any"`: distinct members at risk on at least one.
inline constexpr std::array<std::string_view, 8> kBurnoutSignalNames = {
    "sleep_interruptions_7d", "after_hours_share_14d", "weekend_days_28d",
    "no_rest_streak",         "oncall_share_28d",      "wip_over_limit",
    "always_on_28d",          "time_off_worked_28d"};
using BurnoutRisks = std::array<bool, kBurnoutSignalNames.size()>;

// Burnout signals (docs/design.md section 7.5): per person, over trailing windows ending at the
// `now` of ExportGauges, exported as the number of current team members at risk on each
// signal (`teamhealth_burnout_members_at_risk{signal,team}`, and `signal="any"`) next to
// `teamhealth_team_members{team}`. Gauges only: the signals are states, not increments.
//
// A signal must single out the few people being ground down and never flag a healthy team's
// ordinary month: a ticket in progress every day, a reply on a weekday evening, one week of
// on-call in four. Each signal, what it detects, and why its default threshold (Settings;
// config [metrics]) is where it is:
//
// - sleep_interruptions_7d >= 2: interruptions (PageTracker: pages merged within
//   page_merge_seconds) that began in the person's sleep hours, last 7 days. A broken night
//   costs the next day; adults need 7 h or more of sleep a night (AASM/SRS consensus,
//   Watson et al. 2015, Sleep 38(6)), and the SRE book ("Being On-Call", Google 2016)
//   treats night pages as the costliest on-call load. One bad night in a week is part of
//   on-call; two is a pattern. Counted on the paged person's own sleep hours.
// - after_hours_share_14d >= 0.25 with >= 20 own activities: a quarter of what a person does
//   falls outside working hours, sustained over two weeks. Recovery needs psychological
//   detachment from work in off-job time (Sonnentag & Fritz 2007, J. Occup. Health Psychol.
//   12(3); Sonnentag 2012, Curr. Dir. Psychol. Sci. 21(2)); the minimum keeps a quiet fortnight
//   (3 of 8 activities at night) from deciding anything.
// - weekend_days_28d >= 3: own activity on 3 or more non-working days (the person's own
//   working days, so a Sun-Thu week is respected) in 4 weeks. A stray weekend message is
//   normal; most of a month's weekends touched is not. Weekend recovery predicts the next
//   week's health and performance (Fritz & Sonnentag 2005, J. Occup. Health Psychol. 10(3)).
// - no_rest_streak >= 12: consecutive local days with own activity. The EU Working Time
//   Directive (2003/88/EC, art. 5 and 16) requires 24 h of uninterrupted rest every 7 days,
//   averaged over at most 14: 12 days in a row leaves a fortnight only its two ends to rest.
// - oncall_share_28d > 0.25 (strictly): share of the last 28 days inside the person's
//   oncall.shift intervals of any level (union, so overlapping shifts count once), after
//   supersession: a shift replaces, over its own [start, end), the earlier shifts of its slot
//   (schedule subject id and level; ShiftBook), so time handed over to someone else leaves the
//   person's share. Shifts without a subject id are never superseded. The SRE
//   book ("Being On-Call") caps on-call at 25 % of an engineer's time: one week in four,
//   primary and secondary together, is the maximum, so exactly 7 of 28 days is not at risk and
//   only more is.
// - wip_over_limit > 3: work items now in progress and assigned to the person. Each extra
//   parallel project costs a share of the day to switching (Weinberg 1992, Quality Software
//   Management vol. 1: about 20 % per added project); WIP limits are the Kanban answer
//   (Anderson 2010). Three at once is busy; four is split.
// - always_on_28d >= 12 days: distinct local days of the last 28 with own activity in off
//   hours or sleep. An evening reply once a week is normal (4 days); evenings on most working
//   days (12 of the ~20 in 4 weeks) means work never stops. The availability expectation
//   behind it, "workplace telepressure", predicts poor recovery and burnout (Barber &
//   Santuzzi 2015, J. Occup. Health Psychol. 20(2)). Having work in progress is not always-on:
//   every engineer has a ticket open every day.
// - time_off_worked_28d >= 1 day (fixed, no setting): local days of the last 28 inside one of
//   the person's CURRENT time offs (person.time_off, after supersession: TimeOffBook) with a
//   work activity (IsWorkActivity, the person as actor; a chat message is not work here) or a
//   page to the person (PageTracker, merged pages included). Time off exists to be fully off:
//   one day of it worked is already the pattern the delivery manager asked about ("features
//   were delayed so that someone could take real time off"). The signal reads the latest
//   knowledge: a cancelled time off clears it, a time off recorded after the fact, extended or
//   moved counts the work already applied inside its new [start, end). To do that without
//   keeping every activity, each person keeps, per UTC day, the quarter hours with work or a
//   page (96 bits); a quarter hour counts when it overlaps [start, end), so the signal is exact
//   for time offs that begin and end on a quarter hour (dates, or hh:mm in any real zone), and
//   otherwise may count work up to 15 minutes outside. The day is the person's local day of
//   that quarter hour (zone offsets are whole quarter hours, so it lies in one local day).
//
// Worked time off is also counted (teamhealth_time_off_worked_days_total{team}): once per
// person and local day, at the first work activity or page at an instant t inside one of the
// person's current time offs (start <= t < end), for the person's team at t (TeamAt: the first
// of their teams, as for the other per-event counters). The counter, like every counter, never
// goes down and decides when the event is applied: a later cancellation does not uncount a
// day, and a time off recorded after the work does not count it (the signal above does). The
// order of events therefore matters to the counter (the report's event-time replay and the
// live log order agree when time offs are entered before they are worked through, as an HR
// export does). Whether a day was counted is kept with the day's aggregates, and Prune drops
// those by the time of the event that triggers it, so a late event could find a day already
// counted gone and count it again: work or a page on a local day before the oldest day the
// last Prune kept (pruned_before_) is never counted, whatever time offs say.
//
// These thresholds are defaults chosen from the sources above, not measured norms; the
// generated organisations of tests/calibration check that they leave healthy teams under the
// TeamhealthBurnoutRisk line (25 % of members at risk on any signal) and flag the overloaded
// one. A team lead who knows better sets them in [metrics].
//
// State is bounded, never per event: per person the aggregates of the last ~35 local days
// (own activities, those in off hours or sleep, non-working day) and the sleep interruptions
// of the last 8 days; the on-call picture (ShiftBook) of shifts that end within the last 29
// days; the open (and recently closed) work items with their status category and assignee; the
// page tracker; the current time offs (TimeOffBook) that end within the last 29 days; per person
// and kept local day whether worked time off was counted, and the quarter hours with work or a
// page per UTC day (as far back as local days are kept); the oldest local day the last Prune
// kept. Memory is O(people + open items + time offs, with the tombstones of those pruned in
// about 13 months). People are person keys: the Pipeline resolved every reference
// before this projection sees it. Not thread-safe.
class Burnout final : public Projection {
 public:
  explicit Burnout(const Settings& settings);

  std::string_view name() const override { return "burnout"; }
  // 1 was the placeholder that counted nothing; 3: people are person keys (no alias state)
  // and the `any` signal; 4: own activity (IsOwnActivity) and always_on_28d as days with
  // off-hours activity (no WIP days in the state); 5: shifts supersede earlier shifts of their
  // slot (a ShiftBook in the state, which now starts with a format number); 6: time off
  // (person.time_off: the counter of worked days and the signal time_off_worked_28d); 7: a
  // pruned time off leaves a tombstone (older versions cannot come back) and a day before the
  // last prune's horizon is never counted as worked time off (it may have been already); 8:
  // items and incidents keyed by the pipeline's subject key (EventView::subject_key).
  uint32_t version() const override { return 8; }
  void Apply(const schema::EventView& e, const DirectoryView& directory, MetricSink& sink) override;
  void ExportGauges(EpochMillis now, const DirectoryView& directory,
                    MetricSink& sink) const override;
  std::string Save() const override;
  bool Load(std::string_view bytes) override;

  // Signal values of `person` (a directory pseudonym) at `now`; for tests and explanations.
  BurnoutSignals SignalsOf(std::string_view person, EpochMillis now,
                           const DirectoryView& directory) const;
  // Which signals (in kBurnoutSignalNames order) are past their Settings threshold.
  BurnoutRisks AtRisk(const BurnoutSignals& s) const;

 private:
  // Aggregates of one local day of one person.
  struct Day {
    uint32_t activities = 0;   // own activities
    uint32_t after_hours = 0;  // own activities in off_hours or sleep
    bool non_working = false;  // not a working day in the person's pattern
    bool time_off_counted = false;  // counted in teamhealth_time_off_worked_days_total
  };
  // Quarter hours of one UTC day with work activity or a page: bit i of the 96 is
  // [day + 15 min * i, + 15 min), bits 0-63 in [0], 64-95 in [1].
  using QuarterHours = std::array<uint64_t, 2>;
  // About 35 days per person, looked up at every activity: sorted vectors (DayMap), whose
  // newest day is at hand. An insert or erase moves entries: no pointer into them is kept
  // across one.
  struct Person {
    DayMap<Day> days;                              // local day -> aggregates
    std::vector<EpochMillis> sleep_interruptions;  // sorted
    DayMap<QuarterHours> worked;                   // UTC day -> quarter hours worked or paged
  };
  struct Item {
    std::string category;  // todo, in_progress, done, or "" while unknown
    std::string assignee;  // person key; "" = unassigned
    EpochMillis last_at = 0;
  };

  int64_t WipOf(const std::string& person) const;
  double OncallShare(const std::string& person, EpochMillis now) const;
  void ApplyActivity(const schema::EventView& e, const DirectoryView& directory);
  void ApplyPages(const schema::EventView& e, const DirectoryView& directory, MetricSink& sink);
  // `id` is the person's PersonId, or kNoPersonId (then found by key).
  void ApplyWorkOrPage(std::string_view person, PersonId id, EpochMillis at,
                       const DirectoryView& directory, MetricSink& sink);
  int TimeOffWorkedDays(const std::string& person, const Person& p, EpochMillis now,
                        const DirectoryView& directory) const;
  void ApplyWorkItem(const schema::EventView& e);
  void MoveWip(std::string_view person, int64_t delta);
  Day* DayOf(Person& p, int64_t day);
  void Trim(Person& p) const;
  void Prune(EpochMillis now);
  void RebuildDerived();

  Settings settings_;
  int64_t keep_days_;  // local days of aggregates kept per person
  PageTracker pages_;
  // Hashed: looked up at every activity (Save writes them in name order).
  StringMap<Person> people_;
  ByPersonId<Person> people_by_id_;  // people_ by the actor's id: a cache, not state
  ShiftBook shifts_;                    // the on-call picture, every person
  TimeOffBook time_offs_;               // current time offs, every person
  // Hashed: looked up at every work item event (Save writes them in key order).
  StringMap<Item> items_;  // "<source>:<subject kind>:<subject id>"
  // Derived (rebuilt by Load): in-progress items per assignee.
  // Hashed, not ordered: only looked up (an ordered map's string comparisons were ~1 % of a
  // rebuild, issue 13).
  absl::flat_hash_map<std::string, int64_t, StringHash, std::equal_to<>> wip_of_;
  uint64_t applied_ = 0;
  // Local days before this one may have been dropped by Prune, with their time_off_counted:
  // they are never counted again (the horizon of the latest Prune; only grows).
  int64_t pruned_before_ = std::numeric_limits<int64_t>::min();
  // teamhealth_time_off_worked_days_total{team} by team, resolved once (InternSeries) so that
  // a count goes by id (issue 13). A cache, not state: Save, Load and version() ignore it.
  StringMap<const Series*> worked_days_of_team_;
  std::string key_;  // a subject key when the pipeline stamped none (SubjectKey), not state
};

}  // namespace teamhealth::projections
