#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "teamhealth/projections/by_person_id.h"
#include "teamhealth/projections/counted_keys.h"
#include "teamhealth/projections/day_map.h"
#include "teamhealth/projections/projection.h"
#include "teamhealth/projections/string_map.h"
#include "teamhealth/projections/shift_book.h"

namespace teamhealth::projections {

// Context switching and interruptions (docs/design.md section 7): context switches, active
// person-days, person-day-subject triples, direct interruptions by period and kind, on-call
// bypasses and the estimated focus time they cost. `teamhealth_wip_items` belongs to the flow
// projection, not to this one.
//
// Definitions (where the design is silent, the decision is written here):
// - A work activity is any event with an actor on a subject of kind work_item, pull_request
//   or incident; its subject is (source, kind, id). Activities of one person are compared in
//   log order with the latest activity seen for them; two on different subjects less than
//   Settings::session_gap_ms apart (absolute difference, so events that arrive slightly out of
//   order still pair up) are one context switch, counted for the person's team at the instant
//   of the later one. An activity older than the person's latest one does not replace it.
// - Person-days and person-day-subject triples use the person's local calendar day
//   (DirectoryView::LocalDay) and count once, at the first activity (in log order) of the day.
// - A direct interruption of p is a chat.message with an actor, not bot, not edited, not by p,
//   that is an im/mpim with p among the recipients (kind dm) or that mentions p (kind
//   mention; a DM recipient who is also mentioned counts once, as dm). Recipients of other
//   channel types are ignored. Team and period are p's at that instant.
// - An on-call bypass is a direct interruption of p while p is not on call, the sender shares
//   none of p's teams (DirectoryView::TeamsAt of both; a sender without a team never does)
//   and another person who is a member of one of p's teams is on call. On call = inside the
//   half-open interval [start, end) of an oncall.shift of that person, of any level, as known
//   when the message is applied (a shift that arrives later does not revise past messages),
//   after supersession: a shift replaces, over its own [start, end), the earlier shifts of
//   its slot (schedule subject id and level; ShiftBook), so after an override the person who
//   took it over is on call there and the one it was taken from is not. Shifts without a
//   subject id are never superseded. A person without a team has no teammates, so is never
//   bypassed.
// - Focus lost = (switches + business-period direct interruptions) x switch_cost_minutes x 60,
//   booked at the instant of each: an ESTIMATE, not a measurement (see ApplyActivity).
// - Who interrupts us (teamhealth_direct_interruptions_by_sender_team_total{team,sender_team}):
//   every direct interruption above counts once more, under p's team (TeamAt of p) and the
//   sender's team at that instant (TeamAt of the sender: the first of several teams;
//   "unmapped" for a sender outside the directory). A team's own members pinging it count
//   under their own team's name. Per `team`, at most Settings::max_sender_teams distinct named
//   sender teams are reported, admitted in the order they are first seen (log order); a
//   sender team first seen after that is full counts as sender_team="other" for good (an
//   admitted team stays admitted, so a sender team's series never changes name). "unmapped"
//   is always reported by name and does not count toward the cap (the config reserves both
//   names, so no directory team can be mixed up with them). Small teams are suppressed by
//   `team` like the other
//   direct-interruption series (in the accumulator, not here).
// - A project switch (teamhealth_project_switches_total{team}) is a context switch whose two
//   subjects belong to different projects, counted at the same instant and team as the
//   switch. The project of an activity's subject is (source, subject.project) as the
//   normaliser filled it: Jira the project key (fields.project.key), GitHub the
//   repository ("owner/name"), Linear the team key, canonical events whatever the
//   producer wrote. PagerDuty and Opsgenie incidents carry no project (only a service), nor do
//   Jira events whose payload has a cut-down issue without fields. A switch to or from a
//   subject without a project is NOT a project switch: we cannot tell. Nor is a switch between
//   two sources: a Jira project and a GitHub repository are often one product (a ticket and
//   its pull request), and nothing in the events says whether they are, so only projects of
//   the same source are compared (Jira PAY -> Jira OPS, repository a -> repository b). Each
//   activity carries its own project, and the latest one's is remembered with its subject;
//   a later activity on the same subject without a project (a Jira worklog carries no issue
//   fields) keeps the project already known.
//
// State, O(people + shifts + teams x max_sender_teams): per person the latest activity (with
// its subject's project) and the subjects touched on the few local days they were most
// recently active; the on-call picture (ShiftBook) of shifts that ended less than 7 days ago
// (both pruned by event time); per team the sender teams admitted under the cap (never
// pruned: forgetting them would let the set of names change). Not thread-safe.
class ContextSwitching final : public Projection {
 public:
  explicit ContextSwitching(const Settings& settings) : settings_(settings) {}

  std::string_view name() const override { return "context_switching"; }
  // 2: the first real definitions (version 1 was a placeholder that counted nothing, so a
  // checkpoint written by it must not be resumed). 3: shifts supersede earlier shifts of their
  // slot (the state holds a ShiftBook). 4: sender teams and project switches (the state holds
  // the admitted sender teams and each person's latest project).
  uint32_t version() const override { return 4; }
  void Apply(const schema::EventView& e, const DirectoryView& directory, MetricSink& sink) override;
  // No gauges: every metric of this projection is a counter.
  void ExportGauges(EpochMillis now, const DirectoryView& directory,
                    MetricSink& sink) const override;
  std::string Save() const override;
  bool Load(std::string_view bytes) override;
  // The subject keys the state refers to (each held once, however many references): what a
  // Load of Save() would hold too, unless a reference was lost or leaked.
  size_t subject_keys() const { return subjects_.size(); }

 private:
  // Subjects are held as ids of subjects_ (each id below is one reference to its key).
  using SubjectId = CountedKeys::Id;
  // Ids of the subjects a person touched on one local day, sorted: a handful a day, searched
  // in a cache line or two (a hash set allocated and grew its table as each day filled).
  class SubjectSet {
   public:
    // Whether `id` was not there yet.
    bool insert(SubjectId id) {
      auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
      if (it != ids_.end() && *it == id) return false;
      ids_.insert(it, id);
      return true;
    }
    size_t size() const { return ids_.size(); }
    auto begin() const { return ids_.begin(); }
    auto end() const { return ids_.end(); }

   private:
    std::vector<SubjectId> ids_;
  };
  // Subjects a person touched on one local day; `last_use` orders days for eviction.
  struct Day {
    uint64_t last_use = 0;
    SubjectSet subjects;  // saved as keys, sorted
  };
  struct Person {
    EpochMillis last_at = 0;                    // time of the latest activity
    SubjectId last_subject = CountedKeys::kNone;  // its subject
    std::string last_project;  // its subject's project key; empty when it has none
    uint64_t uses = 0;         // activities seen, a clock for Day::last_use
    DayMap<Day> days;          // at most kMaxDaysPerPerson
  };
  // Drops the references of a day, or of a person about to be forgotten.
  void ReleaseDay(const Day& day);
  void ReleasePerson(const Person& person);
  void ApplyActivity(const schema::EventView& e, const DirectoryView& directory, MetricSink& sink);
  void ApplyMessage(const schema::EventView& e, const DirectoryView& directory, MetricSink& sink);
  // `sender` and `entry` are the directory entries of the sender and of `person` at `at`.
  bool IsBypass(const PersonEntry& sender, std::string_view person, const PersonEntry& entry,
                EpochMillis at, const DirectoryView& directory) const;
  // The sender_team label for a direct interruption of a member of `team`: the sender's team,
  // admitted under the cap if there is room, else "other".
  const std::string& SenderTeamLabel(const std::string& team, const std::string& sender_team);
  void Prune(EpochMillis now);

  // The series one team's increments go to, resolved once (InternSeries) and kept: an
  // increment then builds no labels (issue 13). A cache, not state: never saved.
  struct TeamSeries {
    explicit TeamSeries(std::string_view team);
    const Series* switches;
    const Series* focus_lost;
    const Series* project_switches;
    const Series* persondays;
    const Series* items_touched;
    const Series* bypass;
    const Series* direct[2][3] = {};  // [Kind][Period], resolved at first use
    // By the sender's team id (PersonEntry::team_id), the series of its sender_team label
    // (the team, "unmapped", or "other" past the cap), resolved at first use.
    IdSlots<const Series> by_sender_team_id;
    std::string team;
  };
  TeamSeries& SeriesOf(std::string_view team);
  // The same for the team of `entry`, by its team id (series_by_team_id_).
  TeamSeries& SeriesOf(const PersonEntry& entry);
  // The by-sender-team series for a direct interruption of a member of `series.team` by
  // `sender`.
  const Series& SenderTeamSeries(TeamSeries& series, const PersonEntry& sender);

  Settings settings_;
  // The subject keys people_ refers to (issue 13: sets of ids, not of strings).
  CountedKeys subjects_;
  // Hashed: looked up at every activity (Save writes them in name order).
  StringMap<Person> people_;
  ByPersonId<Person> people_by_id_;  // people_ by the actor's id: a cache, not state
  ShiftBook shifts_;
  // Per team, the named sender teams admitted under Settings::max_sender_teams.
  std::map<std::string, std::set<std::string>> sender_teams_;
  uint64_t applied_ = 0;
  StringMap<TeamSeries> series_;  // by team
  ByTeamId<TeamSeries> series_by_team_id_;  // series_ by DirectoryView::TeamId: a cache
  // An activity's keys when the pipeline stamped none (SubjectKey), its project key (ProjectKey).
  std::string subject_scratch_, project_scratch_;
  std::vector<std::pair<std::string_view, int>> targets_;  // a message's (ApplyMessage)
};

}  // namespace teamhealth::projections
