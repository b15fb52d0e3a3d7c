// The burnout projection (see include/teamhealth/projections/burnout.h).
#include "teamhealth/projections/burnout.h"

#include <algorithm>
#include <set>

#include "teamhealth/projections/bytes.h"
#include "teamhealth/projections/event_access.h"
#include "teamhealth/projections/prune.h"

namespace teamhealth::projections {
namespace {

constexpr EpochMillis kDayMs = 86'400'000;
constexpr int64_t kSleepWindowDays = 7;
constexpr int64_t kAfterHoursWindowDays = 14;
constexpr int64_t kLongWindowDays = 28;  // weekend days, on-call share, always on
// Sleep interruptions and shifts are kept one day longer than their window so that events
// arriving a little out of order never drop an instant a window ending later still needs.
constexpr EpochMillis kKeepSleepMs = (kSleepWindowDays + 1) * kDayMs;
constexpr EpochMillis kKeepShiftMs = (kLongWindowDays + 1) * kDayMs;
// Closed work items are kept this long after their last change so that a reopen still knows
// the assignee (the same horizon as resolved incidents in oncall_load).
constexpr EpochMillis kKeepClosedItemMs = 30 * kDayMs;
// 5: the state begins with it; shifts as a ShiftBook. 6: time offs, the worked quarter hours
// and a flags field per day (bit 0 non-working, bit 1 worked time off counted). 7: the prune
// horizon of worked time off after the applied count; time off tombstones.
constexpr uint64_t kStateFormat = 7;
constexpr uint64_t kNonWorking = 1;
constexpr uint64_t kTimeOffCounted = 2;
constexpr EpochMillis kQuarterMs = 15 * 60'000;
constexpr int kQuartersPerDay = 96;

// Days since the epoch of a UTC instant (floor, also before 1970).
int64_t UtcDay(EpochMillis at) { return at >= 0 ? at / kDayMs : (at - kDayMs + 1) / kDayMs; }

bool IsOpenCategory(const std::string& c) { return c == "todo" || c == "in_progress"; }

}  // namespace

Burnout::Burnout(const Settings& settings)
    : settings_(settings),
      // 28-day windows plus a week of slack; more if the streak threshold needs it (the streak
      // can only be counted as far back as days are kept).
      keep_days_(std::max<int64_t>(kLongWindowDays + 7, settings.no_rest_streak_days + 2)),
      pages_(settings.page_merge_ms) {}

// In-progress work items assigned to the person (a person key: the pipeline resolved it).
int64_t Burnout::WipOf(const std::string& person) const {
  auto it = wip_of_.find(person);
  return it == wip_of_.end() ? 0 : it->second;
}

void Burnout::Apply(const schema::EventView& e, const DirectoryView& directory, MetricSink& sink) {
  const schema::TypeFamily family = e.type_family();
  if (family != schema::TypeFamily::kDirectory) {
    // IsOwnActivity, with IsWorkActivity asked once.
    const bool work = IsWorkActivity(e);
    if (work || IsOwnActivity(e)) ApplyActivity(e, directory);
    if (work) ApplyWorkOrPage(e.actor(), e.actor_id(), e.occurred_at_ms(), directory, sink);
    if (family == schema::TypeFamily::kIncident) ApplyPages(e, directory, sink);
    if (auto shift = ShiftOf(e)) shifts_.Apply(*shift);  // supersedes within its slot
    if (auto time_off = TimeOffOf(e)) time_offs_.Apply(time_off->first, time_off->second);
    if (family == schema::TypeFamily::kWorkItem) ApplyWorkItem(e);
  }
  if (++applied_ % kPruneEvery == 0) Prune(e.occurred_at_ms());
}

// An own activity (IsOwnActivity), on the local day and in the period of the person at that
// instant.
void Burnout::ApplyActivity(const schema::EventView& e, const DirectoryView& directory) {
  const std::string_view person = e.actor();
  const EpochMillis at = e.occurred_at_ms();
  // One directory lookup per activity: this runs for most events of the log.
  const PersonEntry& entry = directory.EntryAt(e, at);
  const WorkPattern& pattern = entry.pattern;
  const LocalTime local = entry.Local(at);
  Day* d = DayOf(*people_by_id_.FindOrInsert(people_, e.actor_id(), person).first, local.day);
  if (d == nullptr) return;
  d->activities += 1;
  if (ClassifyPeriod(pattern, local) != Period::kBusiness) d->after_hours += 1;
  if (!((pattern.working_days >> local.weekday) & 1)) d->non_working = true;
}

void Burnout::ApplyPages(const schema::EventView& e, const DirectoryView& directory,
                         MetricSink& sink) {
  const EpochMillis at = e.occurred_at_ms();
  for (const auto& page : pages_.Apply(e)) {
    // Every page, merged ones too.
    ApplyWorkOrPage(page.person, schema::kNoPersonId, at, directory, sink);
    // The interruption's period is that of its first page (PageTracker merges the rest).
    if (!page.starts_interruption || directory.PeriodAt(page.person, at) != Period::kSleep) {
      continue;
    }
    Person& p = FindOrInsert(people_, page.person).first->second;
    auto& v = p.sleep_interruptions;
    v.insert(std::upper_bound(v.begin(), v.end(), at), at);
    Trim(p);
  }
}

// Current status category and assignee per item, from created / status_changed / assigned /
// deleted. Items first seen mid-life are tracked from what their events say; a status with an
// unknown (null) category keeps the previous category (In Progress -> In Review stays in
// progress).
void Burnout::ApplyWorkItem(const schema::EventView& e) {
  using schema::EventType;
  const bool created = e.type_code() == EventType::kWorkItemCreated;
  const bool moved = e.type_code() == EventType::kWorkItemStatusChanged;
  const bool assigned = e.type_code() == EventType::kWorkItemAssigned;
  const bool deleted = e.type_code() == EventType::kOther && e.type() == "work_item.deleted";
  if (!created && !moved && !assigned && !deleted) return;
  const EpochMillis at = e.occurred_at_ms();
  const std::string_view key = SubjectKey(e, key_);
  auto it = items_.find(key);
  if (it == items_.end()) {
    if (deleted) return;
    it = items_.try_emplace(std::string(key)).first;
  }
  Item& item = it->second;
  // The item after the event, as views (of the item or of the event) until it is written back:
  // no copy of the item per event.
  std::string_view category = item.category;
  std::string_view assignee = item.assignee;
  if (created) {
    if (auto c = StringAttr(e, AttrName::kStatusCategory); !c.empty()) category = c;
    assignee = StringAttr(e, AttrName::kAssignee);
  } else if (moved) {
    if (auto c = StringAttr(e, AttrName::kToCategory); !c.empty()) category = c;
  } else if (assigned) {
    assignee = StringAttr(e, AttrName::kTo);
  }
  const bool was = item.category == "in_progress" && !item.assignee.empty();
  const bool is = !deleted && category == "in_progress" && !assignee.empty();
  const bool same_ref = item.assignee == assignee;
  if (was && (!is || !same_ref)) MoveWip(item.assignee, -1);
  if (is && (!was || !same_ref)) MoveWip(assignee, +1);
  if (deleted) {
    items_.erase(it);
    return;
  }
  // A field the event left alone still views the item itself: nothing to copy back.
  if (category.data() != item.category.data()) item.category = category;
  if (assignee.data() != item.assignee.data()) item.assignee = assignee;
  item.last_at = at;
}

// A work activity of, or a page to, `person` at `at`: marks its quarter hour (for
// time_off_worked_28d, whatever time offs are known later) and counts the person's local day
// as worked time off the first time it falls inside a time off known now.
void Burnout::ApplyWorkOrPage(std::string_view person, PersonId id, EpochMillis at,
                              const DirectoryView& directory, MetricSink& sink) {
  Person& p = *people_by_id_.FindOrInsert(people_, id, person).first;
  const int64_t utc_day = UtcDay(at);
  if (p.worked.empty() || utc_day >= p.worked.rbegin()->first - keep_days_) {
    const auto quarter = static_cast<int>((at - utc_day * kDayMs) / kQuarterMs);
    auto [worked, fresh] = p.worked.try_emplace(utc_day);
    worked->second[quarter / 64] |= uint64_t{1} << (quarter % 64);
    if (fresh) Trim(p);  // a day already there left nothing new to trim
  }
  if (!time_offs_.Covers(person, at)) return;
  const int64_t local_day = directory.LocalDay(person, at);
  if (local_day < pruned_before_) return;  // pruned: it may have been counted already
  Day* d = DayOf(p, local_day);
  if (d == nullptr || d->time_off_counted) return;
  d->time_off_counted = true;
  const std::string& team = directory.TeamAt(person, at);
  auto [series, fresh] = FindOrInsert(worked_days_of_team_, team);
  if (fresh) {
    series->second =
        &InternSeries("teamhealth_time_off_worked_days_total", MakeLabels({{"team", team}}));
  }
  sink.AddSeries(*series->second, 1, at);
}

void Burnout::MoveWip(std::string_view person, int64_t delta) {
  auto it = wip_of_.find(person);
  if (it == wip_of_.end()) it = wip_of_.emplace(std::string(person), 0).first;
  it->second += delta;
  if (it->second <= 0) wip_of_.erase(it);
}

// The aggregates of `day`, or nullptr when the day is older than what is kept (relative to
// the person's newest day, so a late import of old history cannot grow the state).
Burnout::Day* Burnout::DayOf(Person& p, int64_t day) {
  if (!p.days.empty() && day < p.days.rbegin()->first - keep_days_) return nullptr;
  auto [d, fresh] = p.days.try_emplace(day);
  if (!fresh) return &d->second;  // a day already there left nothing new to trim
  Trim(p);  // keeps `day` (within keep_days_ of the newest) but may move it in its node
  return &p.days.find(day)->second;
}

// Drops what no window ending at or after the person's newest data can need.
void Burnout::Trim(Person& p) const {
  if (!p.days.empty()) {
    const int64_t oldest = p.days.rbegin()->first - keep_days_;
    p.days.erase(p.days.begin(), p.days.lower_bound(oldest));
  }
  if (!p.worked.empty()) {
    const int64_t oldest = p.worked.rbegin()->first - keep_days_;
    p.worked.erase(p.worked.begin(), p.worked.lower_bound(oldest));
  }
  auto& v = p.sleep_interruptions;
  if (!v.empty()) {
    const EpochMillis cut = v.back() - kKeepSleepMs;
    v.erase(v.begin(), std::upper_bound(v.begin(), v.end(), cut));
  }
}

// Every kPruneEvery events, by the event time: forget shifts and time offs that ended 29 days
// ago, people with nothing left in any window and closed items nobody touched for a month.
void Burnout::Prune(EpochMillis now) {
  pages_.Prune(now);
  shifts_.Prune(now - kKeepShiftMs);
  time_offs_.Prune(now - kKeepShiftMs);
  const int64_t oldest_day = now / kDayMs - keep_days_ - 1;  // a day of slack for time zones
  pruned_before_ = std::max(pruned_before_, oldest_day);
  const size_t forgotten = EraseIf(people_, [&](auto& entry) {
    Person& p = entry.second;
    p.days.erase(p.days.begin(), p.days.lower_bound(oldest_day));
    p.worked.erase(p.worked.begin(), p.worked.lower_bound(oldest_day));
    auto& v = p.sleep_interruptions;
    v.erase(v.begin(), std::upper_bound(v.begin(), v.end(), now - kKeepSleepMs));
    const bool empty = p.days.empty() && v.empty() && p.worked.empty();
    return empty && WipOf(entry.first) == 0;
  });
  // Only a forgotten person's slot points at nothing: refilling every slot by key after each
  // prune was a tenth of the people lookups of a replay.
  if (forgotten > 0) people_by_id_.Clear();
  EraseIf(items_, [&](const auto& kv) {
    return !IsOpenCategory(kv.second.category) && now - kv.second.last_at > kKeepClosedItemMs;
  });
}

BurnoutSignals Burnout::SignalsOf(std::string_view name, EpochMillis now,
                                  const DirectoryView& directory) const {
  BurnoutSignals s;
  const std::string person(name);
  s.wip = WipOf(person);
  s.oncall_share_28d = OncallShare(person, now);
  auto found = people_.find(person);
  if (found == people_.end()) return s;
  const Person& p = found->second;
  const int64_t today = directory.LocalDay(person, now);

  const auto& v = p.sleep_interruptions;
  s.sleep_interruptions_7d =
      static_cast<int>(std::upper_bound(v.begin(), v.end(), now) -
                       std::upper_bound(v.begin(), v.end(), now - kSleepWindowDays * kDayMs));

  auto day_at = [&](int64_t d) -> const Day* {
    auto it = p.days.find(d);
    return it == p.days.end() ? nullptr : &it->second;
  };
  // The recorded days of the 28-day window, walked once (not looked up day by day).
  for (auto it = p.days.lower_bound(today - kLongWindowDays + 1);
       it != p.days.end() && it->first <= today; ++it) {
    const auto& [d, day] = *it;
    if (d > today - kAfterHoursWindowDays) {
      s.activities_14d += static_cast<int>(day.activities);
      s.after_hours_14d += static_cast<int>(day.after_hours);
    }
    if (day.activities > 0 && day.non_working) ++s.weekend_days_28d;
    if (day.after_hours > 0) ++s.after_hours_days_28d;
  }
  s.time_off_worked_days_28d = TimeOffWorkedDays(person, p, now, directory);

  // Today does not break a streak before it is over: with no activity yet today, the streak
  // is the one that ended yesterday.
  auto active = [&](int64_t d) {
    const Day* day = day_at(d);
    return day != nullptr && day->activities > 0;
  };
  int64_t d = active(today) ? today : today - 1;
  while (active(d)) {
    ++s.no_rest_streak;
    --d;
  }

  return s;
}

// Distinct local days of the 28 ending today with a worked quarter hour (at or before `now`)
// that overlaps one of the person's current time offs.
int Burnout::TimeOffWorkedDays(const std::string& person, const Person& p, EpochMillis now,
                               const DirectoryView& directory) const {
  const int64_t today = directory.LocalDay(person, now);
  // 29 instant days reach back past the first local day of the window in any zone.
  const EpochMillis horizon = now - (kLongWindowDays + 1) * kDayMs;
  std::set<int64_t> days;
  for (const auto& [start, end] : time_offs_.Of(person)) {
    const EpochMillis lo = std::max(start, horizon);
    const EpochMillis hi = std::min(end, now + 1);  // exclusive
    if (hi <= lo) continue;
    for (auto it = p.worked.lower_bound(UtcDay(lo));
         it != p.worked.end() && it->first * kDayMs < hi; ++it) {
      for (int q = 0; q < kQuartersPerDay; ++q) {
        if (!((it->second[q / 64] >> (q % 64)) & 1)) continue;
        const EpochMillis from = it->first * kDayMs + q * kQuarterMs;
        if (from >= hi || from + kQuarterMs <= lo) continue;
        const int64_t day = directory.LocalDay(person, std::max(from, start));
        if (day > today - kLongWindowDays && day <= today) days.insert(day);
      }
    }
  }
  return static_cast<int>(days.size());
}

// Union of the person's shifts after supersession (ShiftBook; sorted by start, overlapping
// across levels and schedules) clipped to (now - 28 d, now], as a share of 28 days.
double Burnout::OncallShare(const std::string& person, EpochMillis now) const {
  const EpochMillis lo = now - kLongWindowDays * kDayMs;
  EpochMillis covered = 0;
  EpochMillis reach = lo;  // covered up to here
  for (const auto& [start, end] : shifts_.IntervalsOf(person)) {
    const EpochMillis a = std::max(start, reach);
    const EpochMillis b = std::min(end, now);
    if (b > a) {
      covered += b - a;
      reach = b;
    }
  }
  return static_cast<double>(covered) / static_cast<double>(kLongWindowDays * kDayMs);
}

BurnoutRisks Burnout::AtRisk(const BurnoutSignals& s) const {
  const double after_share =
      s.activities_14d > 0 ? static_cast<double>(s.after_hours_14d) / s.activities_14d : 0;
  return {
      s.sleep_interruptions_7d >= settings_.sleep_interruptions_7d,
      s.activities_14d >= settings_.after_hours_min_activities &&
          after_share >= settings_.after_hours_share_14d,
      s.weekend_days_28d >= settings_.weekend_days_28d,
      s.no_rest_streak >= settings_.no_rest_streak_days,
      s.oncall_share_28d > settings_.oncall_share_28d,  // strictly: 25 % is the SRE maximum
      s.wip > settings_.wip_limit,
      s.after_hours_days_28d >= settings_.always_on_days_28d,
      s.time_off_worked_days_28d >= 1,  // design 7.5: one worked day of time off; no setting
  };
}

void Burnout::ExportGauges(EpochMillis now, const DirectoryView& directory,
                           MetricSink& sink) const {
  // People in several teams are evaluated once and counted in each.
  std::map<std::string, BurnoutRisks> risk_of;
  for (const auto& team : directory.Teams()) {
    if (!sink.WantsTeam(team)) continue;
    const auto members = directory.Members(team, now);
    std::array<int, kBurnoutSignalNames.size()> at_risk{};
    int any = 0;  // distinct members at risk on at least one signal
    for (const auto& m : members) {
      auto [it, fresh] = risk_of.try_emplace(m);
      if (fresh) it->second = AtRisk(SignalsOf(m, now, directory));
      bool risky = false;
      for (size_t i = 0; i < at_risk.size(); ++i) {
        at_risk[i] += it->second[i] ? 1 : 0;
        risky = risky || it->second[i];
      }
      any += risky ? 1 : 0;
    }
    sink.Set("teamhealth_team_members", MakeLabels({{"team", team}}),
             static_cast<double>(members.size()));
    for (size_t i = 0; i < at_risk.size(); ++i) {
      sink.Set("teamhealth_burnout_members_at_risk",
               MakeLabels({{"signal", kBurnoutSignalNames[i]}, {"team", team}}), at_risk[i]);
    }
    sink.Set("teamhealth_burnout_members_at_risk", MakeLabels({{"signal", "any"}, {"team", team}}),
             any);
    if (!settings_.person_metrics) continue;
    // Opt-in per-person series (privacy.person_metrics): 1 for each signal a member is over.
    for (const auto& m : members) {
      const auto& risks = risk_of.at(m);
      for (size_t i = 0; i < risks.size(); ++i) {
        sink.Set("teamhealth_person_burnout_at_risk",
                 MakeLabels({{"person", m}, {"signal", kBurnoutSignalNames[i]}, {"team", team}}),
                 risks[i] ? 1 : 0);
      }
    }
  }
}

void Burnout::RebuildDerived() {
  wip_of_.clear();
  for (const auto& [_, item] : items_) {
    if (item.category == "in_progress" && !item.assignee.empty()) wip_of_[item.assignee]++;
  }
}

std::string Burnout::Save() const {
  std::string out;
  ByteWriter w(out);
  w.U64(kStateFormat);
  w.U64(applied_);
  w.I64(pruned_before_);
  w.Str(pages_.Save());
  w.U64(people_.size());
  for (const auto* entry : SortedByKey(people_)) {
    const auto& [name, p] = *entry;
    w.Str(name);
    w.U64(p.days.size());
    for (const auto& [day, d] : p.days) {
      w.I64(day);
      w.U64(d.activities);
      w.U64(d.after_hours);
      w.U64((d.non_working ? kNonWorking : 0) | (d.time_off_counted ? kTimeOffCounted : 0));
    }
    w.U64(p.sleep_interruptions.size());
    for (EpochMillis t : p.sleep_interruptions) w.I64(t);
    w.U64(p.worked.size());
    for (const auto& [day, quarters] : p.worked) {
      w.I64(day);
      w.U64(quarters[0]);
      w.U64(quarters[1]);
    }
  }
  w.Str(shifts_.Save());
  w.Str(time_offs_.Save());
  w.U64(items_.size());
  for (const auto* entry : SortedByKey(items_)) {
    const auto& [key, item] = *entry;
    w.Str(key);
    w.Str(item.category);
    w.Str(item.assignee);
    w.I64(item.last_at);
  }
  return out;
}

bool Burnout::Load(std::string_view bytes) {
  ByteReader r(bytes);
  if (r.U64() != kStateFormat || !r.ok()) return false;
  const uint64_t applied = r.U64();
  const int64_t pruned_before = r.I64();
  PageTracker pages(settings_.page_merge_ms);
  if (!r.ok() || !pages.Load(r.Str()) || !r.ok()) return false;
  decltype(people_) people;
  for (uint64_t n = r.U64(); r.ok() && n > 0; --n) {
    Person& p = people[r.Str()];
    for (uint64_t m = r.U64(); r.ok() && m > 0; --m) {
      const int64_t day = r.I64();
      Day& d = p.days[day];
      d.activities = static_cast<uint32_t>(r.U64());
      d.after_hours = static_cast<uint32_t>(r.U64());
      const uint64_t flags = r.U64();
      if (flags > (kNonWorking | kTimeOffCounted)) return false;
      d.non_working = (flags & kNonWorking) != 0;
      d.time_off_counted = (flags & kTimeOffCounted) != 0;
    }
    for (uint64_t m = r.U64(); r.ok() && m > 0; --m) p.sleep_interruptions.push_back(r.I64());
    if (!std::is_sorted(p.sleep_interruptions.begin(), p.sleep_interruptions.end())) {
      return false;
    }
    for (uint64_t m = r.U64(); r.ok() && m > 0; --m) {
      const int64_t day = r.I64();
      QuarterHours& q = p.worked[day];
      q[0] = r.U64();
      q[1] = r.U64();
      if (q[1] >> (kQuartersPerDay - 64) != 0) return false;  // only 96 quarter hours a day
    }
  }
  ShiftBook shifts;
  if (!r.ok() || !shifts.Load(r.Str()) || !r.ok()) return false;
  TimeOffBook time_offs;
  if (!time_offs.Load(r.Str()) || !r.ok()) return false;
  decltype(items_) items;
  for (uint64_t n = r.U64(); r.ok() && n > 0; --n) {
    Item& item = items[r.Str()];
    item.category = r.Str();
    item.assignee = r.Str();
    item.last_at = r.I64();
  }
  if (!r.ok() || !r.done()) return false;
  applied_ = applied;
  pruned_before_ = pruned_before;
  pages_ = std::move(pages);
  people_ = std::move(people);
  people_by_id_.Clear();
  shifts_ = std::move(shifts);
  time_offs_ = std::move(time_offs);
  items_ = std::move(items);
  RebuildDerived();
  return true;
}

}  // namespace teamhealth::projections
