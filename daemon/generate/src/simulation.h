#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "model.h"
#include "payloads.h"

namespace teamhealth::generate::internal {

// Plays the organisation's history: weekly on-call rotations, incidents (night pages,
// escalations, reassignments, unacknowledged ones), and each person's working slots, in
// which they move tickets, open, review and merge pull requests, comment and chat.
//
// Team 0 is overloaded on purpose: two people share its rotation (both always on call), it
// is paged every night, works evenings and weekends without a day off, and keeps 5-6 items
// in progress each, so every burnout signal of docs/design.md section 7.5 fires for it. The
// others are healthy: office hours with an occasional evening reply, a WIP of about two, and
// at most one week in four on call (see OnCall).
//
// Around them (simulation_people.cc, docs/design.md section 7.6): support and sales ask
// engineers things in business hours, by DM and by mention, the overloaded team most; some
// engineers work on two projects at once; some take a week off (one on the overloaded team
// works through it, one time off is extended later, one cancelled); and every engineering
// team answers a weekly pulse, the overloaded one lower.
//
// Borrows `org`; single use: construct, call Run() once. Not thread-safe.
class Simulation final {
 public:
  Simulation(const Options& options, const Org& org);
  // The records, sorted by time (stable: ties keep generation order).
  std::vector<Record> Run();

 private:
  struct Slot {
    EpochMillis at;
    int person;
  };
  // A time off in force at the end of the history: its person stays away unless `worked`.
  struct TimeOff {
    int person;
    EpochMillis start, end;
    bool worked;
  };

  void Shifts();
  void Incidents();
  // leave_open: acknowledged but still open at the end (the open-incidents gauge).
  void RunIncident(int team, EpochMillis at, bool night, bool leave_open = false);
  std::vector<Slot> WorkSlots();
  void Bots();

  // simulation_people.cc
  void PlanTimeOff();
  // A week, Monday to Friday in `person`'s zone, of the history (not its first week) during
  // which `team` keeps them off call; nullopt if none.
  std::optional<std::pair<EpochMillis, EpochMillis>> FreeWeek(int team, int person);
  // Whether `person` is on a time off they do not work through at `at`.
  bool Away(int person, EpochMillis at) const;
  // Whether `at` is inside `person`'s working hours (the generator's 09:00-17:30, weekdays).
  bool AtWork(int person, EpochMillis at) const;
  void Requests();
  void Ask(int person, EpochMillis at);
  void Pulses();

  void Act(int person, EpochMillis at);

  // Ticket and pull-request moves; each returns false when there was nothing to do.
  bool Progress(int person, EpochMillis at);
  void CreateTicket(int person, EpochMillis at);
  bool StartTicket(int person, EpochMillis at);
  int NextToStart(int person) const;  // index into tickets_, or -1
  bool OpenPr(int person, EpochMillis at);
  bool ReviewPr(int person, EpochMillis at);
  bool MergePr(int person, EpochMillis at, int min_wip);
  bool Comment(int person, EpochMillis at);
  bool ChangePriority(int person, EpochMillis at);
  bool Reassign(int person, EpochMillis at);
  bool Reopen(int person, EpochMillis at);
  void GitHubIssue(int person, EpochMillis at);
  void ChannelMessage(int person, EpochMillis at);
  void DirectMessage(int person, EpochMillis at);

  void SetStatus(Ticket& t, int to, int actor, EpochMillis at);
  int Wip(int person) const;
  int Teammate(int person);
  bool HasSecondary(int team) const;
  // Who is on call at `level` (1 primary, 2 secondary or the backup a small team escalates to).
  int OnCall(int team, int level, EpochMillis at) const;
  EpochMillis Local(int offset_min, int64_t day, double hour) const;
  void Emit(Record r);

  const Options& options_;
  const Org& org_;
  Rng rng_;
  // What was added later (time off, support and sales, two projects, pulses) draws from its
  // own stream, so that the history the first stream makes stays what it was.
  Rng later_rng_;
  // Where this seed's serial ids start (tickets, keys, PR and issue numbers, webhook ids):
  // seeds 1-1000 get disjoint ranges (a billion ids each; per team a million keys and
  // numbers), so histories generated with different seeds can go into one log
  // (ops/bench/scale_bench.sh); seed 1 starts where it always did.
  const int64_t serial_base_;
  Payloads payloads_;
  EpochMillis start_, end_, week0_;
  std::vector<Record> records_;
  std::vector<Ticket> tickets_;
  std::vector<PullRequest> prs_;
  // Per team: indexes of open tickets, of done tickets (recent), of open PRs, of open GitHub
  // issues (as tickets outside tickets_), and counters for keys and numbers.
  std::vector<std::vector<int>> open_, done_, open_prs_;
  std::vector<std::vector<Ticket>> gh_issues_;
  std::vector<int> next_key_, next_number_;
  int next_incident_ = 1;
  std::vector<TimeOff> time_off_;
  int next_time_off_ = 1;
};

}  // namespace teamhealth::generate::internal
