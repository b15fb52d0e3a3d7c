// The parts of the simulation that docs/design.md section 7.6 asks about: who interrupts the
// engineers (support and sales), time off (and who works through it) and the weekly pulse.
// They draw from later_rng_ only, so the engineers' own history keeps its draws.
#include <array>
#include <string>
#include <vector>

#include "simulation.h"

namespace teamhealth::generate::internal {

// ---- time off --------------------------------------------------------------------------

std::optional<std::pair<EpochMillis, EpochMillis>> Simulation::FreeWeek(int team, int person) {
  const int offset = org_.people[person].utc_offset_min;
  std::vector<std::pair<EpochMillis, EpochMillis>> weeks;
  for (EpochMillis w = week0_; w < end_; w += kWeekMs) {
    const int64_t monday = w / kDayMs;
    const EpochMillis start = Local(offset, monday, 0), end = Local(offset, monday + 5, 0);
    // Not in the first week, so that it is announced (a week ahead) inside the history.
    if (start < start_ + kWeekMs || end > end_) continue;
    // Off call at both levels through the week (a small team's backup is next week's
    // primary): nobody pages a person on leave.
    bool on_call = false;
    for (int level = 1; level <= 2; ++level) {
      on_call = on_call || OnCall(team, level, start) == person ||
                OnCall(team, level, end - 1) == person;
    }
    if (!on_call) weeks.emplace_back(start, end);
  }
  if (weeks.empty()) return std::nullopt;
  return weeks[static_cast<size_t>(later_rng_.Uniform(static_cast<int>(weeks.size())))];
}

// One member of each engineering team (of three or more) takes a week, Monday to Friday in
// their zone, announced a week ahead. On the overloaded team it is someone off the rotation,
// who works through it; on the first healthy team the time off is first booked for two days
// and extended to the week three days before it starts (a second event with the same subject
// id); on the last healthy team a second member books a week and cancels it, and works then.
void Simulation::PlanTimeOff() {
  for (int t = 0; t < org_.engineering_teams; ++t) {
    const Team& team = org_.teams[t];
    const std::vector<int>& m = team.members;
    if (m.size() < 3) continue;
    const int person = m[team.overloaded ? 2 : static_cast<size_t>(2 + t) % m.size()];
    const auto week = FreeWeek(t, person);
    if (!week) continue;
    const auto [start, end] = *week;
    const std::string id = "hr-" + std::to_string(serial_base_ + next_time_off_++);
    const EpochMillis announced = std::max(start_, start - kWeekMs);
    if (t == 1) {
      Emit(payloads_.TimeOff(id, person, start, start + 2 * kDayMs, false, announced));
      Emit(payloads_.TimeOff(id, person, start, end, false,
                             std::max(announced + kHourMs, start - 3 * kDayMs)));
    } else {
      Emit(payloads_.TimeOff(id, person, start, end, false, announced));
    }
    time_off_.push_back({person, start, end, team.overloaded});
  }
  const int last = org_.engineering_teams - 1;
  if (last < 1 || org_.teams[last].members.size() < 3) return;
  const std::vector<int>& m = org_.teams[last].members;
  const int person = m[static_cast<size_t>(3 + last) % m.size()];
  const auto week = FreeWeek(last, person);
  if (!week) return;
  const std::string id = "hr-" + std::to_string(serial_base_ + next_time_off_++);
  const EpochMillis booked = std::max(start_, week->first - 10 * kDayMs);
  Emit(payloads_.TimeOff(id, person, week->first, week->second, false, booked));
  Emit(payloads_.TimeOff(id, person, week->first, week->second, true,
                         std::max(booked + kHourMs, week->first - 2 * kDayMs)));
}

bool Simulation::Away(int person, EpochMillis at) const {
  for (const TimeOff& t : time_off_) {
    if (t.person == person && !t.worked && at >= t.start && at < t.end) return true;
  }
  return false;
}

// ---- support and sales -----------------------------------------------------------------

bool Simulation::AtWork(int person, EpochMillis at) const {
  const EpochMillis local = at + org_.people[person].utc_offset_min * kMinuteMs;
  const double hour = static_cast<double>(local % kDayMs) / kHourMs;
  return !Weekend(local / kDayMs) && hour >= 9 && hour < 17.5;
}

// Each support and sales person asks engineers two to five things per working day, in their
// own business hours (so nothing they send counts against their own evenings).
void Simulation::Requests() {
  const int64_t first = start_ / kDayMs, last = end_ / kDayMs;
  for (int64_t day = first; day <= last; ++day) {
    if (Weekend(day)) continue;
    for (int p = org_.engineers; p < static_cast<int>(org_.people.size()); ++p) {
      for (int n = later_rng_.Between(2, 5); n > 0; --n) {
        const EpochMillis at =
            Local(org_.people[p].utc_offset_min, day, 9 + 8 * later_rng_.Real());
        if (at >= start_ && at < end_) Ask(p, at);
      }
    }
  }
}

// Whom `person` asks at `at`: an engineer at work then (nobody is woken), three times in five on
// the overloaded team (the one everybody needs), whether or not on call; by DM two times in
// three, else by a mention in the engineer's team channel.
void Simulation::Ask(int person, EpochMillis at) {
  std::vector<int> at_work, overloaded;
  for (int e = 0; e < org_.engineers; ++e) {
    if (!AtWork(e, at)) continue;
    at_work.push_back(e);
    if (org_.teams[org_.people[e].team].overloaded) overloaded.push_back(e);
  }
  const std::vector<int>& pool =
      !overloaded.empty() && later_rng_.Chance(0.6) ? overloaded : at_work;
  if (pool.empty()) return;
  const int to = pool[static_cast<size_t>(later_rng_.Uniform(static_cast<int>(pool.size())))];
  if (later_rng_.Chance(0.65)) {
    Emit(payloads_.SlackMessage(DmChannel(person, to), "im", person, {}, {to}, at));
  } else {
    Emit(payloads_.SlackMessage(org_.teams[org_.people[to].team].channel, "channel", person,
                                {to}, {}, at));
  }
}

// ---- the weekly pulse ------------------------------------------------------------------

// Every member of each engineering team answers on Friday afternoon. The scores are drawn
// from the team's mood alone, never from who answers: a strained team's answers average 2.5,
// a content one's 4.
void Simulation::Pulses() {
  static constexpr std::array<int, 6> kStrained = {1, 2, 2, 3, 3, 4};
  static constexpr std::array<int, 5> kContent = {3, 4, 4, 4, 5};
  for (EpochMillis w = week0_; w < end_; w += kWeekMs) {
    const int64_t friday = w / kDayMs + 4;
    for (int t = 0; t < org_.engineering_teams; ++t) {
      const Team& team = org_.teams[t];
      for (size_t k = 0; k < team.members.size(); ++k) {
        const int score = team.overloaded
                              ? kStrained[static_cast<size_t>(later_rng_.Uniform(kStrained.size()))]
                              : kContent[static_cast<size_t>(later_rng_.Uniform(kContent.size()))];
        Emit(payloads_.Pulse(team, score, Local(team.utc_offset_min, friday,
                                                15 + 2 * later_rng_.Real())));
      }
    }
  }
}

}  // namespace teamhealth::generate::internal
