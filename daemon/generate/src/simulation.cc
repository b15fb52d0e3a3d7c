#include "simulation.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>
#include <utility>

namespace teamhealth::generate::internal {
namespace {

constexpr std::array<std::string_view, 12> kSummaries = {"Retry failed webhook deliveries",
                                                         "Speed up the nightly export",
                                                         "Fix flaky login test",
                                                         "Add rate limiting to the public API",
                                                         "Upgrade the database driver",
                                                         "Paginate the audit log",
                                                         "Handle expired tokens gracefully",
                                                         "Reduce p99 latency of checkout",
                                                         "Clean up feature flags",
                                                         "Alert on queue backlog",
                                                         "Document the on-call runbook",
                                                         "Migrate cron jobs to the scheduler"};
constexpr std::array<std::string_view, 3> kItemTypes = {"Story", "Bug", "Task"};
constexpr std::array<std::string_view, 6> kIncidents = {
    "High error rate on API",     "Disk almost full on db-primary", "Queue consumer lag",
    "Checkout latency above SLO", "Certificate expires soon",       "5xx spike at the edge"};

// 1970-01-05 was a Monday: weeks start on Mondays, 00:00 UTC.
constexpr int64_t kFirstMonday = 4 * kDayMs;

std::string StatusId(int status) {
  static constexpr std::array<std::string_view, 4> kIds = {"10000", "3", "10100", "10001"};
  return std::string(kIds[status]);
}
std::string StatusName(int status) {
  static constexpr std::array<std::string_view, 4> kNames = {"To Do", "In Progress", "In Review",
                                                             "Done"};
  return std::string(kNames[status]);
}
std::string PriorityName(int priority) {
  static constexpr std::array<std::string_view, 5> kNames = {"Highest", "High", "Medium", "Low",
                                                             "Lowest"};
  return std::string(kNames[priority]);
}

void Erase(std::vector<int>& v, int value) { std::erase(v, value); }

}  // namespace

Simulation::Simulation(const Options& options, const Org& org)
    : options_(options),
      org_(org),
      rng_(options.seed),
      later_rng_(options.seed ^ 0x1a7e5eed00000000ULL),
      serial_base_(static_cast<int64_t>((options.seed - 1) % 1000) * 1'000'000'000),
      payloads_(org, rng_, serial_base_),
      start_(options.end - options.days * kDayMs),
      end_(options.end),
      week0_(start_ - ((start_ - kFirstMonday) % kWeekMs + kWeekMs) % kWeekMs),
      open_(org.teams.size()),
      done_(org.teams.size()),
      open_prs_(org.teams.size()),
      gh_issues_(org.teams.size()),
      // Per team, a thousandth of the organisation's range (an int).
      next_key_(org.teams.size(), static_cast<int>(1 + serial_base_ / 1000)),
      next_number_(org.teams.size(), static_cast<int>(1 + serial_base_ / 1000)) {}

std::vector<Record> Simulation::Run() {
  PlanTimeOff();
  Shifts();
  Incidents();
  Bots();
  std::vector<Slot> slots = WorkSlots();
  std::erase_if(slots, [this](const Slot& s) { return Away(s.person, s.at); });
  for (const Slot& s : slots) Act(s.person, s.at);
  // After the engineers' history, so that its draws from rng_ are those they always were.
  Requests();
  Pulses();
  std::stable_sort(records_.begin(), records_.end(),
                   [](const Record& a, const Record& b) { return a.at < b.at; });
  return std::move(records_);
}

void Simulation::Emit(Record r) {
  // Follow-ups scheduled past the end are left out, as if the history was cut there.
  if (r.at >= start_ && r.at < end_) records_.push_back(std::move(r));
}

EpochMillis Simulation::Local(int offset_min, int64_t day, double hour) const {
  return day * kDayMs + static_cast<int64_t>(hour * kHourMs) - offset_min * kMinuteMs;
}

// Weekly rotations. The overloaded team rotates primary and secondary between its first two
// people, so both are always on call. A healthy team keeps everyone at or under the SRE book's
// 25 % of time on call ("Being On-Call": eight engineers for a weekly primary and secondary):
// with eight or more members the secondary is the member half the rotation away (two weeks in
// every n >= 8, never within the same four); a smaller team has a primary rotation only and
// escalates to the backup, next week's primary, who holds no shift.
bool Simulation::HasSecondary(int team) const {
  return org_.teams[team].overloaded || org_.teams[team].members.size() >= 8;
}

int Simulation::OnCall(int team, int level, EpochMillis at) const {
  const std::vector<int>& m = org_.teams[team].members;
  const int64_t week = (at - week0_) / kWeekMs;
  if (org_.teams[team].overloaded) return m[static_cast<size_t>((week + level - 1) % 2)];
  const int64_t n = static_cast<int64_t>(m.size());
  const int64_t offset = level == 1 ? 0 : HasSecondary(team) ? n / 2 : 1;
  return m[static_cast<size_t>((week + offset) % n)];
}

int Simulation::Teammate(int person) {
  const std::vector<int>& m = org_.teams[org_.people[person].team].members;
  const int other = m[static_cast<size_t>(rng_.Uniform(static_cast<int>(m.size()) - 1))];
  return other == person ? m.back() : other;
}

int Simulation::Wip(int person) const {
  int n = 0;
  for (int i : open_[org_.people[person].team]) {
    const Ticket& t = tickets_[i];
    n += t.assignee == person && (t.status == kInProgress || t.status == kInReview);
  }
  return n;
}

// ---- on call ---------------------------------------------------------------------------

void Simulation::Shifts() {
  for (EpochMillis w = week0_; w < end_; w += kWeekMs) {
    for (int t = 0; t < org_.engineering_teams; ++t) {
      for (int level = 1; level <= (HasSecondary(t) ? 2 : 1); ++level) {
        Emit(payloads_.Shift(org_.teams[t], OnCall(t, level, w), level, w, w + kWeekMs,
                             std::max(w, start_)));
      }
    }
  }
}

void Simulation::Incidents() {
  const int64_t first = start_ / kDayMs - 1, last = end_ / kDayMs;
  for (int64_t day = first; day <= last; ++day) {
    for (int team_index = 0; team_index < org_.engineering_teams; ++team_index) {
      const Team& team = org_.teams[team_index];
      if (team.overloaded) {
        // A page every night, so the person on call has no unbroken night.
        RunIncident(team_index, Local(team.utc_offset_min, day, 1.0 + 3.5 * rng_.Real()), true);
        for (int n = rng_.Between(1, 3); n > 0; --n) {
          RunIncident(team_index, Local(team.utc_offset_min, day, 8 + 14 * rng_.Real()), false);
        }
      } else {
        // Most outages follow a change ("roughly 70 %", SRE book ch. 1), and a healthy team
        // changes production in working hours on working days; the rest come at any hour.
        const int changes = Weekend(day) ? 0 : (rng_.Chance(0.45) ? 1 : 0) +
                                                   (rng_.Chance(0.15) ? 1 : 0);
        for (int i = 0; i < changes; ++i) {
          RunIncident(team_index, Local(team.utc_offset_min, day, 9 + 9 * rng_.Real()), false);
        }
        if (rng_.Chance(0.25)) {
          const double hour = 24 * rng_.Real();
          RunIncident(team_index, Local(team.utc_offset_min, day, hour), hour < 7 || hour >= 23);
        }
      }
    }
  }
  // Still being worked on when the history ends.
  RunIncident(0, end_ - 30 * kMinuteMs, false, true);
}

void Simulation::RunIncident(int team, EpochMillis at, bool night, bool leave_open) {
  const bool overloaded = org_.teams[team].overloaded;
  Incident inc;
  inc.team = team;
  inc.number = next_incident_++;
  inc.id = "Q" + rng_.Id(13, false);
  inc.key = rng_.Id(32, true);
  inc.title = std::string(kIncidents[static_cast<size_t>(rng_.Uniform(kIncidents.size()))]);
  inc.urgency = night || rng_.Chance(0.6) ? "high" : "low";
  inc.priority = rng_.Chance(0.3) ? -1 : rng_.Between(0, 2);
  inc.created = at;
  const int primary = OnCall(team, 1, at), secondary = OnCall(team, 2, at);
  inc.assignees = {primary};
  Emit(payloads_.PagerDuty(inc, at, "incident.triggered", kNobody));

  EpochMillis t = at;
  int holder = primary;
  if (!leave_open && rng_.Chance(overloaded ? 0.15 : 0.08)) {
    // Never acknowledged: the monitor recovers and the incident auto-resolves.
    inc.status = "resolved";
    Emit(payloads_.PagerDuty(inc, t + rng_.Between(10, 60) * kMinuteMs, "incident.resolved",
                             kNobody));
    return;
  }
  if (rng_.Chance(overloaded ? 0.25 : 0.12)) {
    // Not acknowledged in time: the policy escalates to the secondary.
    t += rng_.Between(5, 15) * kMinuteMs;
    inc.assignees = {secondary};
    holder = secondary;
    Emit(payloads_.PagerDuty(inc, t, "incident.escalated", kNobody));
  }
  t += rng_.Between(1, 12) * kMinuteMs;
  inc.status = "acknowledged";
  Emit(payloads_.PagerDuty(inc, t, "incident.acknowledged", holder));
  if (leave_open) return;
  if (rng_.Chance(0.12)) {
    // Handed to someone who knows the system better.
    t += rng_.Between(5, 30) * kMinuteMs;
    int to = Teammate(holder);
    if (Away(to, t)) to = holder;  // nobody hands an incident to someone on time off
    inc.assignees = {to};
    inc.status = "triggered";
    Emit(payloads_.PagerDuty(inc, t, "incident.reassigned", holder));
    holder = to;
    t += rng_.Between(2, 10) * kMinuteMs;
    inc.status = "acknowledged";
    Emit(payloads_.PagerDuty(inc, t, "incident.acknowledged", holder));
  }
  t += rng_.Between(night ? 15 : 20, night ? 90 : 180) * kMinuteMs;
  inc.status = "resolved";
  Emit(payloads_.PagerDuty(inc, t, "incident.resolved", holder));
}

// ---- the working day -------------------------------------------------------------------

std::vector<Simulation::Slot> Simulation::WorkSlots() {
  std::vector<Slot> slots;
  const int64_t first = start_ / kDayMs - 1, last = end_ / kDayMs;
  // Evenings each healthy person worked this week (weeks start on Mondays).
  std::vector<int> evenings(org_.people.size(), 0);
  for (int64_t day = first; day <= last; ++day) {
    if (Weekday(day) == 1) std::fill(evenings.begin(), evenings.end(), 0);
    for (size_t p = 0; p < static_cast<size_t>(org_.engineers); ++p) {
      const Person& person = org_.people[p];
      const Team& team = org_.teams[person.team];
      const bool weekend = Weekend(day);
      const bool hero = team.overloaded && (p == static_cast<size_t>(team.members[0]) ||
                                            p == static_cast<size_t>(team.members[1]));
      double active = weekend ? 0.03 : 0.92;
      if (team.overloaded) active = weekend ? (hero ? 1.0 : 0.6) : 1.0;
      if (!rng_.Chance(active)) continue;
      int n = team.overloaded ? (weekend ? rng_.Between(3, 6) : rng_.Between(8, 12))
                              : rng_.Between(4, 8);
      // A healthy person answers something in the evening about once a week, a habit rather
      // than a coin per message: on about one working day in five, at most twice a week, the
      // day's last slot is in the evening.
      const bool evening = !team.overloaded && !weekend && evenings[p] < 2 && rng_.Chance(0.22);
      evenings[p] += evening ? 1 : 0;
      for (; n > 0; --n) {
        double hour;
        if (team.overloaded) {
          hour = rng_.Chance(0.6) ? 8.5 + 9.5 * rng_.Real() : 18 + 5 * rng_.Real();
        } else {
          hour = evening && n == 1 ? 18.5 + 2.5 * rng_.Real() : 9 + 8.5 * rng_.Real();
        }
        const EpochMillis at = Local(person.utc_offset_min, day, hour);
        if (at >= start_ && at < end_) slots.push_back({at, static_cast<int>(p)});
      }
    }
  }
  std::stable_sort(slots.begin(), slots.end(), [](const Slot& a, const Slot& b) {
    return a.at != b.at ? a.at < b.at : a.person < b.person;
  });
  return slots;
}

void Simulation::Bots() {
  // A deploy bot posts in every team channel each working morning, mentioning who is on
  // call: a bot mention must not count as an interruption.
  const int64_t first = start_ / kDayMs, last = end_ / kDayMs;
  for (int64_t day = first; day <= last; ++day) {
    if (Weekend(day)) continue;
    for (int t = 0; t < org_.engineering_teams; ++t) {
      const Team& team = org_.teams[t];
      const EpochMillis at = Local(team.utc_offset_min, day, 10.5 + rng_.Real());
      if (at < start_ || at >= end_) continue;
      Emit(payloads_.SlackMessage(team.channel, "channel", kNobody,
                                  {OnCall(t, 1, at)}, {}, at));
    }
  }
}

void Simulation::Act(int person, EpochMillis at) {
  const int r = rng_.Uniform(100);
  if (r < 14) return ChannelMessage(person, at);
  if (r < 22) return DirectMessage(person, at);
  if (r < 27 && Comment(person, at)) return;
  if (r < 31) return CreateTicket(person, at);
  if (r < 34 && ChangePriority(person, at)) return;
  if (r < 37 && Reassign(person, at)) return;
  if (r < 39 && Reopen(person, at)) return;
  if (r < 42) return GitHubIssue(person, at);
  if (!Progress(person, at)) CreateTicket(person, at);
}

bool Simulation::Progress(int person, EpochMillis at) {
  if (org_.teams[org_.people[person].team].overloaded) {
    // Starts more than it finishes: WIP climbs to five or six and stays there.
    if (Wip(person) < 6 && StartTicket(person, at)) return true;
    if (rng_.Chance(0.5) && OpenPr(person, at)) return true;
    if (ReviewPr(person, at)) return true;
    return MergePr(person, at, 5);
  }
  // Finishes own work before reviewing others' (so a reopened or handed-over item gets its
  // pull request), and starts something new only below two items in progress.
  return MergePr(person, at, 0) || OpenPr(person, at) || ReviewPr(person, at) ||
         (Wip(person) < 2 && StartTicket(person, at));
}

void Simulation::CreateTicket(int person, EpochMillis at) {
  const int team = org_.people[person].team;
  Ticket t;
  t.team = team;
  t.id = std::to_string(10000 + serial_base_ + static_cast<int64_t>(tickets_.size()));
  // Someone on two projects files items in both (a second stream: see later_rng_).
  t.project = org_.people[person].two_projects && later_rng_.Chance(0.5) ? kSideProject
                                                                          : kMainProject;
  t.key = org_.teams[team].JiraKey(t.project) + "-" + std::to_string(next_key_[team]++);
  t.summary = std::string(kSummaries[static_cast<size_t>(rng_.Uniform(kSummaries.size()))]);
  t.type = std::string(kItemTypes[static_cast<size_t>(rng_.Uniform(kItemTypes.size()))]);
  t.priority = rng_.Between(1, 3);
  const int who = rng_.Uniform(10);
  t.assignee = who < 7 ? person : who < 9 ? Teammate(person) : -1;
  if (t.project == kSideProject) t.assignee = person;  // only they work on it
  t.reporter = person;
  t.created = at;
  open_[team].push_back(static_cast<int>(tickets_.size()));
  Emit(payloads_.JiraCreated(t, at, person));
  tickets_.push_back(std::move(t));
}

void Simulation::SetStatus(Ticket& t, int to, int actor, EpochMillis at) {
  ChangeItem item{"status", StatusId(t.status), StatusName(t.status), StatusId(to), StatusName(to)};
  t.status = to;
  Emit(payloads_.JiraUpdated(t, at, actor, "issue_generic", {item}));
}

// Someone on two projects starts the next item in the project they have less in progress in,
// so that their days alternate between the two (else in the other); everyone else stays in
// the main project.
int Simulation::NextToStart(int person) const {
  const int team = org_.people[person].team;
  std::array<int, 2> wip = {0, 0};
  for (int i : open_[team]) {
    const Ticket& t = tickets_[i];
    wip[t.project] += t.assignee == person && (t.status == kInProgress || t.status == kInReview);
  }
  const bool two = org_.people[person].two_projects;
  const int first = two && wip[kSideProject] < wip[kMainProject] ? kSideProject : kMainProject;
  for (const int project : {first, two ? 1 - first : first}) {
    for (int i : open_[team]) {
      const Ticket& t = tickets_[i];
      if (t.project == project && t.status == kTodo &&
          (t.assignee == person || t.assignee == -1)) {
        return i;
      }
    }
  }
  return -1;
}

bool Simulation::StartTicket(int person, EpochMillis at) {
  if (const int i = NextToStart(person); i >= 0) {
    Ticket& t = tickets_[i];
    if (t.assignee == -1) {
      ChangeItem item{"assignee", "", "", org_.people[person].jira, org_.people[person].display};
      item.from_null = true;
      t.assignee = person;
      Emit(payloads_.JiraUpdated(t, at, person, "issue_assigned", {item}));
      at += kMinuteMs;
    }
    SetStatus(t, kInProgress, person, at);
    return true;
  }
  return false;
}

bool Simulation::OpenPr(int person, EpochMillis at) {
  const int team = org_.people[person].team;
  for (int i : open_[team]) {
    Ticket& t = tickets_[i];
    if (t.assignee != person || t.status != kInProgress || t.pr >= 0) continue;
    PullRequest pr;
    pr.id = 700000000 + serial_base_ + static_cast<int64_t>(prs_.size());
    pr.number = next_number_[team]++;
    pr.team = team;
    pr.project = t.project;
    pr.author = person;
    pr.ticket = i;
    pr.title = t.key + ": " + t.summary;
    pr.branch = t.key;
    pr.created = at;
    t.pr = static_cast<int>(prs_.size());
    open_prs_[team].push_back(t.pr);
    Emit(payloads_.GitHubPr(pr, at, "opened", person));
    SetStatus(t, kInReview, person, at + 2 * kMinuteMs);
    if (rng_.Chance(0.15)) {
      // Authors sometimes leave a review comment on their own PR; pickup time must not
      // count it.
      Emit(payloads_.GitHubReview(pr, at + rng_.Between(5, 30) * kMinuteMs, person, "commented"));
    }
    prs_.push_back(std::move(pr));
    return true;
  }
  return false;
}

bool Simulation::ReviewPr(int person, EpochMillis at) {
  for (int i : open_prs_[org_.people[person].team]) {
    PullRequest& pr = prs_[i];
    if (pr.author == person || std::ranges::count(pr.reviewers, person) > 0) continue;
    const int r = rng_.Uniform(10);
    const std::string_view state = r < 7 ? "approved" : r < 9 ? "changes_requested" : "commented";
    pr.approved = pr.approved || state == "approved";
    pr.reviewers.push_back(person);
    Emit(payloads_.GitHubReview(pr, at, person, state));
    return true;
  }
  return false;
}

bool Simulation::MergePr(int person, EpochMillis at, int min_wip) {
  if (Wip(person) < min_wip) return false;
  const int team = org_.people[person].team;
  for (int i : open_prs_[team]) {
    PullRequest& pr = prs_[i];
    if (pr.author != person || !pr.approved) continue;
    pr.open = false;
    Emit(payloads_.GitHubPr(pr, at, "closed", person));
    Erase(open_prs_[team], i);
    Ticket& t = tickets_[pr.ticket];
    if (t.status != kDone) {
      SetStatus(t, kDone, person, at + 3 * kMinuteMs);
      Erase(open_[team], pr.ticket);
      done_[team].push_back(pr.ticket);
      if (done_[team].size() > 30) done_[team].erase(done_[team].begin());
    }
    return true;
  }
  return false;
}

bool Simulation::Comment(int person, EpochMillis at) {
  const std::vector<int>& open = open_[org_.people[person].team];
  if (open.empty()) return false;
  const Ticket& t = tickets_[open[static_cast<size_t>(rng_.Uniform(open.size()))]];
  Emit(payloads_.JiraComment(t, at, person));
  return true;
}

bool Simulation::ChangePriority(int person, EpochMillis at) {
  const std::vector<int>& open = open_[org_.people[person].team];
  if (open.empty()) return false;
  Ticket& t = tickets_[open[static_cast<size_t>(rng_.Uniform(open.size()))]];
  const int to = t.priority == 0 ? 1 : t.priority - 1;  // escalations raise priority
  ChangeItem item{"priority", std::to_string(t.priority + 1), PriorityName(t.priority),
                  std::to_string(to + 1), PriorityName(to)};
  t.priority = to;
  // Some changes come from an automation rule: an app, so a null actor.
  Emit(payloads_.JiraUpdated(t, at, rng_.Chance(0.2) ? kAutomation : person, "issue_updated",
                             {item}));
  return true;
}

bool Simulation::Reassign(int person, EpochMillis at) {
  for (int i : open_[org_.people[person].team]) {
    Ticket& t = tickets_[i];
    // Side-project items stay with the one who works on that project.
    if (t.assignee != person || t.pr >= 0 || t.project == kSideProject) continue;
    const int to = Teammate(person);
    ChangeItem item{"assignee", org_.people[person].jira, org_.people[person].display,
                    org_.people[to].jira, org_.people[to].display};
    t.assignee = to;
    Emit(payloads_.JiraUpdated(t, at, person, "issue_assigned", {item}));
    return true;
  }
  return false;
}

bool Simulation::Reopen(int person, EpochMillis at) {
  const int team = org_.people[person].team;
  if (done_[team].empty()) return false;
  const int i = done_[team][static_cast<size_t>(rng_.Uniform(done_[team].size()))];
  Ticket& t = tickets_[i];
  Erase(done_[team], i);
  t.pr = -1;  // needs another pull request
  SetStatus(t, kInProgress, person, at);
  open_[team].push_back(i);
  return true;
}

void Simulation::GitHubIssue(int person, EpochMillis at) {
  const int team = org_.people[person].team;
  std::vector<Ticket>& issues = gh_issues_[team];
  if (!issues.empty() && rng_.Chance(0.5)) {
    Emit(payloads_.GitHubIssue(issues.front(), std::stoi(issues.front().id), at, "closed", person));
    issues.erase(issues.begin());
    return;
  }
  Ticket t;
  t.team = team;
  t.id = std::to_string(next_number_[team]++);  // issues and PRs share numbers, as on GitHub
  t.project = org_.people[person].two_projects && later_rng_.Chance(0.5) ? kSideProject
                                                                          : kMainProject;
  t.summary = std::string(kSummaries[static_cast<size_t>(rng_.Uniform(kSummaries.size()))]);
  t.reporter = person;
  t.assignee = rng_.Chance(0.5) ? person : -1;
  t.created = at;
  Emit(payloads_.GitHubIssue(t, std::stoi(t.id), at, "opened", person));
  issues.push_back(std::move(t));
}

// ---- chat ------------------------------------------------------------------------------

void Simulation::ChannelMessage(int person, EpochMillis at) {
  int team = org_.people[person].team;
  const int teams = org_.engineering_teams;
  std::vector<int> mentions;
  if (teams > 1 && rng_.Chance(0.2)) {
    // Asking another team in its channel, naming one of them: an interruption from outside.
    team = (team + 1 + rng_.Uniform(teams - 1)) % teams;
    const std::vector<int>& m = org_.teams[team].members;
    mentions.push_back(m[static_cast<size_t>(rng_.Uniform(m.size()))]);
  } else if (rng_.Chance(0.5)) {
    mentions.push_back(Teammate(person));
  }
  Emit(payloads_.SlackMessage(org_.teams[team].channel, "channel", person, mentions, {}, at));
}

void Simulation::DirectMessage(int person, EpochMillis at) {
  int to = Teammate(person);
  if (org_.engineering_teams > 1 && rng_.Chance(0.45)) {
    to = rng_.Uniform(org_.engineers);
    if (org_.people[to].team == org_.people[person].team) to = Teammate(person);
  }
  Emit(payloads_.SlackMessage(DmChannel(person, to), "im", person, {}, {to}, at));
}

}  // namespace teamhealth::generate::internal
