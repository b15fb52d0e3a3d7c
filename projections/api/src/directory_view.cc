#include "teamhealth/projections/directory_view.h"

#include <date/tz.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <limits>
#include <map>

#include "teamhealth/projections/bytes.h"
#include "teamhealth/projections/event_access.h"

namespace teamhealth::projections {
namespace {

constexpr std::string_view kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

// The zone named `name`, UTC when unknown. The tz database is immutable once loaded, so a
// zone is located once per name and thread (no lock), and never goes away.
const date::time_zone* LocateZone(std::string_view name) {
  thread_local std::map<std::string, const date::time_zone*, std::less<>> zones;
  auto it = zones.find(name);
  if (it == zones.end()) {
    const date::time_zone* zone = nullptr;
    try {
      zone = date::locate_zone(name);
    } catch (const std::exception&) {
      zone = date::locate_zone("UTC");
    }
    it = zones.emplace(std::string(name), zone).first;
  }
  return it->second;
}

bool InRange(int minute, int start, int end) {
  return start <= end ? (minute >= start && minute < end) : (minute >= start || minute < end);
}

void SavePattern(ByteWriter& w, const WorkPattern& p) {
  w.Str(p.timezone);
  w.U64(p.working_days);
  w.U64(static_cast<uint64_t>(p.work_start_min));
  w.U64(static_cast<uint64_t>(p.work_end_min));
  w.U64(static_cast<uint64_t>(p.sleep_start_min));
  w.U64(static_cast<uint64_t>(p.sleep_end_min));
}

WorkPattern LoadPattern(ByteReader& r) {
  WorkPattern p;
  p.timezone = r.Str();
  p.working_days = static_cast<uint8_t>(r.U64());
  p.work_start_min = static_cast<int>(r.U64());
  p.work_end_min = static_cast<int>(r.U64());
  p.sleep_start_min = static_cast<int>(r.U64());
  p.sleep_end_min = static_cast<int>(r.U64());
  return p;
}

}  // namespace

std::string_view PeriodName(Period p) {
  switch (p) {
    case Period::kBusiness: return "business";
    case Period::kOffHours: return "off_hours";
    case Period::kSleep: return "sleep";
  }
  return "business";
}

bool ParseHourRange(std::string_view t, int& start, int& end) {
  if (t.size() != 11 || t[2] != ':' || t[5] != '-' || t[8] != ':') return false;
  auto num = [&](size_t i) { return (t[i] - '0') * 10 + (t[i + 1] - '0'); };
  for (size_t i : {0, 1, 3, 4, 6, 7, 9, 10}) {
    if (t[i] < '0' || t[i] > '9') return false;
  }
  start = num(0) * 60 + num(3);
  end = num(6) * 60 + num(9);
  return start <= 24 * 60 && end <= 24 * 60;
}

ZoneClock::ZoneClock(std::string_view timezone) : zone_(LocateZone(timezone)) {}

LocalTime ZoneClock::Local(EpochMillis at) const {
  using namespace std::chrono;
  if (at < begin_ || at >= end_) {
    const auto info = zone_->get_info(sys_time<milliseconds>{milliseconds{at}});
    auto ms = [](auto t) { return duration_cast<milliseconds>(t.time_since_epoch()).count(); };
    begin_ = info.begin == sys_seconds::min() ? std::numeric_limits<EpochMillis>::min()
                                              : ms(info.begin);
    end_ = info.end == sys_seconds::max() ? std::numeric_limits<EpochMillis>::max()
                                          : ms(info.end);
    offset_ms_ = duration_cast<milliseconds>(info.offset).count();
  }
  const int64_t local_ms = at + offset_ms_;
  int64_t day = local_ms / 86'400'000;
  int64_t rem = local_ms % 86'400'000;
  if (rem < 0) {
    rem += 86'400'000;
    day -= 1;
  }
  // 1970-01-01 was a Thursday (weekday 3 when Monday is 0).
  const int weekday = static_cast<int>(((day % 7) + 7 + 3) % 7);
  return LocalTime{day, static_cast<int>(rem / 60'000), weekday};
}

LocalTime ToLocal(std::string_view timezone, EpochMillis at) {
  // A clock per zone name and thread; the last name asked for is remembered apart, as
  // consecutive calls mostly name the same zone (the map's nodes never move).
  thread_local std::map<std::string, ZoneClock, std::less<>> clocks;
  thread_local std::string last_name;
  thread_local const ZoneClock* last = nullptr;
  if (last == nullptr || last_name != timezone) {
    auto it = clocks.find(timezone);
    if (it == clocks.end()) it = clocks.emplace(std::string(timezone), ZoneClock(timezone)).first;
    last_name.assign(timezone);
    last = &it->second;
  }
  return last->Local(at);
}

Period ClassifyPeriod(const WorkPattern& p, const LocalTime& local) {
  if (InRange(local.minute, p.sleep_start_min, p.sleep_end_min)) return Period::kSleep;
  const bool working_day = (p.working_days >> local.weekday) & 1;
  if (working_day && InRange(local.minute, p.work_start_min, p.work_end_min)) {
    return Period::kBusiness;
  }
  return Period::kOffHours;
}

Period ClassifyPeriod(const PersonEntry& entry, EpochMillis at) {
  return ClassifyPeriod(entry.pattern, entry.Local(at));
}

const std::string& PersonEntry::team() const {
  static const std::string kUnmapped = "unmapped";
  return teams.empty() ? kUnmapped : teams.front();
}

DirectoryView::DirectoryView(std::map<std::string, std::string> services,
                             std::map<std::string, std::string> projects, WorkPattern defaults)
{
  // "source:name" -> team, split at the first ':' (sources hold none).
  auto split = [](const std::map<std::string, std::string>& in,
                  StringMap<StringMap<std::string>>& out) {
    for (const auto& [key, team] : in) {
      const size_t colon = key.find(':');
      if (colon == std::string::npos) continue;  // matched no lookup before either
      out[key.substr(0, colon)][key.substr(colon + 1)] = team;
    }
  };
  split(services, services_);
  split(projects, projects_);
  stranger_.pattern = std::move(defaults);
  stranger_.clock = ZoneClock(stranger_.pattern.timezone);
  stranger_.team_id = TeamId(stranger_.team());  // "unmapped": 0
}

uint32_t DirectoryView::TeamId(std::string_view team) {
  auto [it, fresh] = FindOrInsert(team_ids_, team);
  if (fresh) it->second = static_cast<uint32_t>(team_ids_.size() - 1);
  return it->second;
}

void DirectoryView::SetTeamIds(PersonEntry& entry) {
  entry.team_id = TeamId(entry.team());
  entry.team_ids.clear();
  for (const auto& team : entry.teams) entry.team_ids.push_back(TeamId(team));
}

void DirectoryView::Apply(const schema::EventView& e) {
  if (e.type() == "directory.person_erased") return;  // the pseudonym keeps its history
  if (e.type() != "directory.person_upserted") return;
  PersonEntry entry;
  entry.since = e.occurred_at_ms();
  for (std::string_view team : ListAttr(e, AttrName::kTeams)) entry.teams.emplace_back(team);
  entry.pattern = stranger_.pattern;
  if (auto tz = StringAttr(e, AttrName::kTimezone); !tz.empty()) entry.pattern.timezone = tz;
  if (const auto* v = Attr(e, AttrName::kWorkingDays); v && v->has_list_value()) {
    entry.pattern.working_days = 0;
    for (const auto& d : v->list_value().values()) {
      for (int i = 0; i < 7; ++i) {
        if (kDays[i] == d) entry.pattern.working_days |= static_cast<uint8_t>(1 << i);
      }
    }
  }
  int a = 0, b = 0;
  if (ParseHourRange(StringAttr(e, AttrName::kWorkingHours), a, b)) {
    entry.pattern.work_start_min = a;
    entry.pattern.work_end_min = b;
  }
  if (ParseHourRange(StringAttr(e, AttrName::kSleepHours), a, b)) {
    entry.pattern.sleep_start_min = a;
    entry.pattern.sleep_end_min = b;
  }
  if (sleep_override_) {
    entry.pattern.sleep_start_min = sleep_override_->first;
    entry.pattern.sleep_end_min = sleep_override_->second;
  }
  if (working_override_) {
    entry.pattern.work_start_min = working_override_->first;
    entry.pattern.work_end_min = working_override_->second;
  }
  entry.clock = ZoneClock(entry.pattern.timezone);
  SetTeamIds(entry);
  auto& history = history_[Intern(e.subject().id())];
  // Entries stay ordered by time even if the log delivers them out of order.
  auto pos = std::upper_bound(history.begin(), history.end(), entry.since,
                              [](EpochMillis t, const PersonEntry& p) { return t < p.since; });
  history.insert(pos, std::move(entry));
}

void DirectoryView::OverrideHours(std::optional<std::pair<int, int>> sleep,
                                  std::optional<std::pair<int, int>> working) {
  sleep_override_ = sleep;
  working_override_ = working;
  if (sleep) {
    stranger_.pattern.sleep_start_min = sleep->first;
    stranger_.pattern.sleep_end_min = sleep->second;
  }
  if (working) {
    stranger_.pattern.work_start_min = working->first;
    stranger_.pattern.work_end_min = working->second;
  }
}

namespace {

// The entry of a non-empty `history` in force at `at`.
const PersonEntry& EntryIn(const std::vector<PersonEntry>& history, EpochMillis at) {
  auto pos = std::upper_bound(history.begin(), history.end(), at,
                              [](EpochMillis t, const PersonEntry& p) { return t < p.since; });
  // Before the first entry the person was already who the first entry says (the directory
  // is recorded when the daemon starts, usually after the history it describes).
  return pos == history.begin() ? history.front() : *(pos - 1);
}

}  // namespace

PersonId DirectoryView::Intern(std::string_view key) {
  const std::optional<ShortKey> short_key = ShortKey::Of(key);
  if (short_key) {
    if (auto it = short_ids_.find(*short_key); it != short_ids_.end()) return it->second;
  }
  auto [it, fresh] = FindOrInsert(ids_, key);
  if (fresh && history_.size() >= schema::kNoPersonId) {  // out of ids: found by key
    ids_.erase(it);
    return schema::kNoPersonId;
  }
  if (fresh) {
    it->second = static_cast<PersonId>(history_.size());
    history_.emplace_back();
  }
  if (short_key) short_ids_.emplace(*short_key, it->second);
  return it->second;
}

const PersonEntry& DirectoryView::EntryAt(std::string_view pseudonym, EpochMillis at) const {
  if (const std::optional<ShortKey> short_key = ShortKey::Of(pseudonym)) {
    auto it = short_ids_.find(*short_key);
    return it == short_ids_.end() ? stranger_ : EntryAt(it->second, at);
  }
  auto it = ids_.find(pseudonym);
  return it == ids_.end() ? stranger_ : EntryAt(it->second, at);
}

const PersonEntry& DirectoryView::EntryAt(PersonId id, EpochMillis at) const {
  if (id >= history_.size() || history_[id].empty()) return stranger_;
  return EntryIn(history_[id], at);
}

const PersonEntry& DirectoryView::EntryAt(const schema::EventView& e, EpochMillis at) const {
  return e.actor_id() != schema::kNoPersonId ? EntryAt(e.actor_id(), at) : EntryAt(e.actor(), at);
}
const std::string& DirectoryView::TeamAt(std::string_view pseudonym, EpochMillis at) const {
  return EntryAt(pseudonym, at).team();
}

std::vector<std::string> DirectoryView::TeamsAt(std::string_view pseudonym, EpochMillis at) const {
  const auto& e = EntryAt(pseudonym, at);
  return e.teams.empty() ? std::vector<std::string>{"unmapped"} : e.teams;
}

Period DirectoryView::PeriodAt(std::string_view pseudonym, EpochMillis at) const {
  return ClassifyPeriod(EntryAt(pseudonym, at), at);
}

int64_t DirectoryView::LocalDay(std::string_view pseudonym, EpochMillis at) const {
  return EntryAt(pseudonym, at).Local(at).day;
}

bool DirectoryView::IsWorkingDay(std::string_view pseudonym, EpochMillis at) const {
  const auto& e = EntryAt(pseudonym, at);
  return (e.pattern.working_days >> e.Local(at).weekday) & 1;
}

namespace {

const std::string* TeamOf(const StringMap<StringMap<std::string>>& teams, std::string_view source,
                          std::string_view name) {
  auto by_source = teams.find(source);
  if (by_source == teams.end()) return nullptr;
  auto it = by_source->second.find(name);
  return it == by_source->second.end() ? nullptr : &it->second;
}

}  // namespace

const std::string* DirectoryView::ServiceTeam(std::string_view source,
                                              std::string_view service) const {
  return TeamOf(services_, source, service);
}

const std::string* DirectoryView::ProjectTeam(std::string_view source,
                                              std::string_view project) const {
  return TeamOf(projects_, source, project);
}

std::vector<std::string> DirectoryView::Members(std::string_view team, EpochMillis at) const {
  std::vector<std::string> out;
  for (const auto& [pseudonym, id] : ids_) {
    const auto& history = history_[id];
    if (history.empty()) continue;
    const auto& teams = EntryIn(history, at).teams;  // no second lookup of the person
    if (std::find(teams.begin(), teams.end(), team) != teams.end()) out.push_back(pseudonym);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::map<std::string, int> DirectoryView::MemberCounts(EpochMillis at) const {
  std::map<std::string, int> out;
  for (const auto& history : history_) {
    if (history.empty()) continue;
    for (const auto& team : EntryIn(history, at).teams) ++out[team];
  }
  return out;
}

std::vector<std::string> DirectoryView::Teams() const {
  std::vector<std::string> out;
  for (const auto& history : history_) {
    for (const auto& entry : history) {
      for (const auto& t : entry.teams) {
        if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string DirectoryView::Save() const {
  std::string out;
  ByteWriter w(out);
  std::vector<const std::pair<const std::string, PersonId>*> people;  // strangers left out
  for (const auto* person : SortedByKey(ids_)) {
    if (!history_[person->second].empty()) people.push_back(person);
  }
  w.U64(people.size());
  for (const auto* person : people) {
    const auto& history = history_[person->second];
    w.Str(person->first);
    w.U64(history.size());
    for (const auto& e : history) {
      w.I64(e.since);
      w.U64(e.teams.size());
      for (const auto& t : e.teams) w.Str(t);
      SavePattern(w, e.pattern);
    }
  }
  return out;
}

bool DirectoryView::Load(std::string_view bytes) {
  ByteReader r(bytes);
  std::vector<std::pair<std::string, std::vector<PersonEntry>>> people;
  for (uint64_t n = r.U64(); r.ok() && n > 0; --n) {
    auto& history = people.emplace_back(r.Str(), std::vector<PersonEntry>{}).second;
    for (uint64_t m = r.U64(); r.ok() && m > 0; --m) {
      PersonEntry e;
      e.since = r.I64();
      for (uint64_t k = r.U64(); r.ok() && k > 0; --k) e.teams.push_back(r.Str());
      e.pattern = LoadPattern(r);
      e.clock = ZoneClock(e.pattern.timezone);
      history.push_back(std::move(e));
    }
  }
  if (!r.ok() || !r.done()) return false;
  // Ids stay those already given (a projection may remember them), only the histories change.
  for (auto& history : history_) history.clear();
  for (auto& [key, history] : people) {
    // Team ids too stay those already given; only valid bytes give new ones.
    for (auto& e : history) SetTeamIds(e);
    auto& mine = history_[Intern(key)];  // Save writes a key once; a repeat appends
    std::move(history.begin(), history.end(), std::back_inserter(mine));
  }
  return true;
}

}  // namespace teamhealth::projections
