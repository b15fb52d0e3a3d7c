#include "teamhealth/projections/context_switching.h"

#include <algorithm>
#include <optional>

#include "teamhealth/projections/bytes.h"
#include "teamhealth/projections/event_access.h"
#include "teamhealth/projections/prune.h"

namespace teamhealth::projections {
namespace {

// 2: shifts as a ShiftBook. 3: each person's latest project, the admitted sender teams.
constexpr uint64_t kStateFormat = 3;
constexpr int64_t kDayMs = 86'400'000;
// Local days remembered per person. The current day is always kept; older ones only serve
// activities that arrive late (or an import interleaved with live events), so a handful of
// the most recently used days is enough, and eviction by use (not by day number) keeps an
// import of old history from evicting the day it is working through.
constexpr size_t kMaxDaysPerPerson = 4;
// A person idle this long (by event time) is forgotten: their day has long ended in every
// zone and no switch can pair with an activity this old (unless session_gap is longer).
constexpr int64_t kForgetPersonMs = 7 * kDayMs;
// Shifts that ended this long before the current event no longer matter, except to a chat
// message arriving this late.
constexpr int64_t kKeepShiftMs = 7 * kDayMs;

// Stored as its int in ContextSwitching::targets_; kDm sorts first.
using Kind = InterruptionKind;

// Label values that are not team names: a sender outside the directory, and a sender team
// beyond the cap.
const std::string kUnmapped = "unmapped";
const std::string kOther = "other";

// The project of the event's subject, qualified by source (a Jira project PAY and a GitHub
// repository named PAY are two projects); empty when the subject carries none.
std::string_view ProjectKey(const schema::EventView& e, std::string& scratch) {
  if (e.subject().project().empty()) return {};
  return JoinInto(scratch, {e.source(), e.subject().project()}, '\x1f');
}

// Two projects of one source that are both known and differ. An unknown project differs from
// nothing, and neither do projects of two sources: a Jira project and a GitHub repository are
// often the same product (a ticket and its pull request), so we cannot tell.
bool DifferentProjects(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty() || a == b) return false;
  const size_t sa = a.find('\x1f');
  return sa == b.find('\x1f') && a.substr(0, sa) == b.substr(0, sa);
}

bool ShareTeam(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  for (const uint32_t t : a) {
    if (std::find(b.begin(), b.end(), t) != b.end()) return true;
  }
  return false;
}

const Series* TeamSeriesOf(std::string_view name, std::string_view team) {
  return &InternSeries(name, MakeLabels({{"team", team}}));
}

}  // namespace

ContextSwitching::TeamSeries::TeamSeries(std::string_view team)
    : switches(TeamSeriesOf("teamhealth_context_switches_total", team)),
      focus_lost(TeamSeriesOf("teamhealth_focus_lost_seconds_total", team)),
      project_switches(TeamSeriesOf("teamhealth_project_switches_total", team)),
      persondays(TeamSeriesOf("teamhealth_active_persondays_total", team)),
      items_touched(TeamSeriesOf("teamhealth_work_items_touched_total", team)),
      bypass(TeamSeriesOf("teamhealth_oncall_bypass_total", team)),
      team(team) {}

ContextSwitching::TeamSeries& ContextSwitching::SeriesOf(const PersonEntry& entry) {
  TeamSeries*& slot = series_by_team_id_.Slot(entry.team_id);
  if (slot == nullptr) slot = &SeriesOf(entry.team());
  return *slot;
}

ContextSwitching::TeamSeries& ContextSwitching::SeriesOf(std::string_view team) {
  auto it = series_.find(team);
  if (it == series_.end()) it = series_.try_emplace(std::string(team), team).first;
  return it->second;
}

void ContextSwitching::Apply(const schema::EventView& e, const DirectoryView& directory,
                             MetricSink& sink) {
  if (IsWorkActivity(e)) {
    ApplyActivity(e, directory, sink);
  } else if (e.type_code() == schema::EventType::kChatMessage) {
    ApplyMessage(e, directory, sink);
  } else if (auto shift = ShiftOf(e)) {
    // Supersedes what it covers of its slot's earlier shifts; a shift re-reported with the
    // same interval changes nothing.
    shifts_.Apply(*shift);
  }
  if (++applied_ % kPruneEvery == 0) Prune(e.occurred_at_ms());
}

// Focus lost is an ESTIMATE, not a measurement: every context switch and every direct
// interruption in business hours is assumed to cost Settings::switch_cost_minutes of focus
// (docs/design.md section 7; default 15 min), booked at the instant of the switch or interruption.
// Off-hours and sleep interruptions are not counted here: they cost rest, not focus time,
// and the on-call and burnout metrics account for them.
void ContextSwitching::ApplyActivity(const schema::EventView& e, const DirectoryView& directory,
                                     MetricSink& sink) {
  const EpochMillis at = e.occurred_at_ms();
  const std::string_view actor = e.actor();
  // Subjects are the same when source, kind and id all are (a Jira issue 42 is not GitHub
  // issue 42, nor GitHub pull request 42): the subject key the pipeline joined.
  const std::string_view subject = SubjectKey(e, subject_scratch_);
  const std::string_view project = ProjectKey(e, project_scratch_);
  // The actor's directory entry, looked up once; most activities count nothing, so the team's
  // series are looked up only when something is counted.
  const PersonEntry& entry = directory.EntryAt(e, at);
  TeamSeries* series = nullptr;
  auto team = [&]() -> TeamSeries& {
    if (series == nullptr) series = &SeriesOf(entry);
    return *series;
  };

  auto [found, fresh] = people_by_id_.FindOrInsert(people_, e.actor_id(), actor);
  Person& person = *found;
  // The event's own reference, released at the end: by then the person's day holds one.
  const SubjectId sid = subjects_.Acquire(subject);
  if (!fresh && person.last_subject != sid) {
    const int64_t gap = at >= person.last_at ? at - person.last_at : person.last_at - at;
    if (gap < settings_.session_gap_ms) {
      sink.AddSeries(*team().switches, 1, at);
      sink.AddSeries(*team().focus_lost, settings_.switch_cost_minutes * 60, at);
      if (DifferentProjects(person.last_project, project)) {
        sink.AddSeries(*team().project_switches, 1, at);
      }
    }
  }
  if (fresh || at >= person.last_at) {
    // An event on the same subject without a project (a Jira worklog carries no issue fields)
    // says nothing new about its project: the one already known stays.
    if (!project.empty() || person.last_subject != sid) person.last_project = project;
    person.last_at = at;
    if (person.last_subject != sid) {
      subjects_.Retain(sid);
      if (person.last_subject != CountedKeys::kNone) subjects_.Release(person.last_subject);
      person.last_subject = sid;
    }
  }

  const int64_t local_day = entry.Local(at).day;
  auto [day_it, new_day] = person.days.try_emplace(local_day);
  day_it->second.last_use = ++person.uses;
  if (new_day) sink.AddSeries(*team().persondays, 1, at);
  if (day_it->second.subjects.insert(sid)) {
    subjects_.Retain(sid);
    sink.AddSeries(*team().items_touched, 1, at);
  }
  if (person.days.size() > kMaxDaysPerPerson) {
    auto oldest = std::min_element(
        person.days.begin(), person.days.end(),
        [](const auto& a, const auto& b) { return a.second.last_use < b.second.last_use; });
    ReleaseDay(oldest->second);
    person.days.erase(oldest);
  }
  subjects_.Release(sid);
}

void ContextSwitching::ReleaseDay(const Day& day) {
  for (SubjectId id : day.subjects) subjects_.Release(id);
}

void ContextSwitching::ReleasePerson(const Person& person) {
  if (person.last_subject != CountedKeys::kNone) subjects_.Release(person.last_subject);
  for (const auto& [_, day] : person.days) ReleaseDay(day);
}

void ContextSwitching::ApplyMessage(const schema::EventView& e, const DirectoryView& directory,
                                    MetricSink& sink) {
  // Bots and system messages interrupt nobody here; an edit re-sends an earlier message.
  if (e.actor().empty() || BoolAttr(e, AttrName::kBot) || BoolAttr(e, AttrName::kEdited)) return;
  const EpochMillis at = e.occurred_at_ms();
  const std::string_view sender = e.actor();

  // Ordered by person so that increments come out in a deterministic order; a DM recipient
  // who is also mentioned counts once, as dm (kDm sorts first and unique keeps it). Pointers
  // into the event: no copy of the lists per message.
  auto& targets = targets_;  // reused: no allocation per message
  targets.clear();
  auto add = [&](AttrName list, Kind kind) {
    for (std::string_view p : ListAttr(e, list)) targets.emplace_back(p, static_cast<int>(kind));
  };
  const std::string_view channel_type = StringAttr(e, AttrName::kChannelType);
  if (channel_type == "im" || channel_type == "mpim") add(AttrName::kRecipients, Kind::kDm);
  add(AttrName::kMentions, Kind::kMention);
  std::sort(targets.begin(), targets.end());
  targets.erase(std::unique(targets.begin(), targets.end(),
                            [](const auto& a, const auto& b) { return a.first == b.first; }),
                targets.end());

  const PersonEntry* sender_entry = nullptr;  // looked up at the first interruption, if any
  for (const auto& [person, kind_code] : targets) {
    const Kind kind = static_cast<Kind>(kind_code);
    if (person.empty() || person == sender) continue;
    const PersonEntry& entry = directory.EntryAt(person, at);  // once per target
    const std::string& team = entry.team();
    const Period period = ClassifyPeriod(entry, at);
    TeamSeries& series = SeriesOf(entry);
    const Series*& direct = series.direct[static_cast<int>(kind)][static_cast<int>(period)];
    if (direct == nullptr) {
      direct = &InternSeries("teamhealth_direct_interruptions_total",
                             MakeLabels({{"kind", InterruptionKindName(kind)},
                                         {"period", PeriodName(period)},
                                         {"team", team}}));
    }
    sink.AddSeries(*direct, 1, at);
    if (sender_entry == nullptr) sender_entry = &directory.EntryAt(e, at);  // by the actor's id
    sink.AddSeries(SenderTeamSeries(series, *sender_entry), 1, at);
    if (settings_.person_metrics) {
      // Opt-in per-person series (privacy.person_metrics): who keeps getting pinged directly.
      // By name: a cache per person would grow with the organisation.
      sink.Add("teamhealth_person_direct_interruptions_total",
               MakeLabels({{"kind", InterruptionKindName(kind)},
                           {"period", PeriodName(period)},
                           {"person", person},
                           {"team", team}}),
               1, at);
    }
    if (period == Period::kBusiness) {
      sink.AddSeries(*series.focus_lost, settings_.switch_cost_minutes * 60, at);
    }
    if (IsBypass(*sender_entry, person, entry, at, directory)) {
      sink.AddSeries(*series.bypass, 1, at);
    }
  }
  targets.clear();  // views into this event: none kept past it
}

bool ContextSwitching::IsBypass(const PersonEntry& sender, std::string_view person,
                                const PersonEntry& entry, EpochMillis at,
                                const DirectoryView& directory) const {
  // An entry's teams are empty for people outside the directory: they have no teammates, and
  // as senders they share no team with anybody.
  const auto& teams = entry.team_ids;
  if (teams.empty()) return false;
  if (ShareTeam(sender.team_ids, teams)) return false;
  if (shifts_.OnCall(person, at)) return false;
  // Walk the people with shifts (a few per team) rather than the team's members (the whole
  // directory would be scanned): only those on call at `at` need a directory lookup.
  for (const auto& [holder, intervals] : shifts_.holders()) {
    if (holder == person || !ShiftBook::Covers(intervals, at)) continue;
    if (ShareTeam(directory.EntryAt(holder, at).team_ids, teams)) return true;
  }
  return false;
}

// The by-sender-team series is kept per sender team id: the label never changes for a team
// (an admitted team stays admitted, one refused once the cap is full is refused for good, and
// "unmapped" is always itself), so it is asked once per pair of teams that messaged (8 bytes
// each).
const Series& ContextSwitching::SenderTeamSeries(TeamSeries& series, const PersonEntry& sender) {
  const Series*& slot = series.by_sender_team_id.Slot(sender.team_id);
  if (slot == nullptr) {
    const std::string& label = SenderTeamLabel(series.team, sender.team());
    slot = &InternSeries("teamhealth_direct_interruptions_by_sender_team_total",
                         MakeLabels({{"sender_team", label}, {"team", series.team}}));
  }
  return *slot;
}

const std::string& ContextSwitching::SenderTeamLabel(const std::string& team,
                                                    const std::string& sender_team) {
  if (sender_team == kUnmapped) return kUnmapped;  // always by name, outside the cap
  auto& admitted = sender_teams_[team];
  if (admitted.contains(sender_team)) return sender_team;
  if (admitted.size() >= static_cast<size_t>(settings_.max_sender_teams)) return kOther;
  admitted.insert(sender_team);
  return sender_team;
}

void ContextSwitching::Prune(EpochMillis now) {
  const int64_t forget = std::max(kForgetPersonMs, settings_.session_gap_ms);
  const size_t forgotten = EraseIf(people_, [&](const auto& entry) {
    if (now - entry.second.last_at <= forget) return false;
    ReleasePerson(entry.second);
    return true;
  });
  if (forgotten > 0) people_by_id_.Clear();  // only then may a slot point at nothing
  shifts_.Prune(now - kKeepShiftMs);
}

void ContextSwitching::ExportGauges(EpochMillis, const DirectoryView&, MetricSink&) const {}

std::string ContextSwitching::Save() const {
  std::string out;
  ByteWriter w(out);
  w.U64(kStateFormat);
  w.U64(applied_);
  w.U64(people_.size());
  for (const auto* entry : SortedByKey(people_)) {
    const auto& [name, p] = *entry;
    w.Str(name);
    w.I64(p.last_at);
    w.Str(subjects_.Key(p.last_subject));
    w.Str(p.last_project);
    w.U64(p.uses);
    w.U64(p.days.size());
    for (const auto& [day, d] : p.days) {
      w.I64(day);
      w.U64(d.last_use);
      w.U64(d.subjects.size());
      std::vector<std::string_view> keys;
      keys.reserve(d.subjects.size());
      for (SubjectId id : d.subjects) keys.push_back(subjects_.Key(id));
      std::sort(keys.begin(), keys.end());
      for (std::string_view s : keys) w.Str(s);
    }
  }
  w.Str(shifts_.Save());
  w.U64(sender_teams_.size());
  for (const auto& [team, admitted] : sender_teams_) {
    w.Str(team);
    w.U64(admitted.size());
    for (const auto& sender_team : admitted) w.Str(sender_team);
  }
  return out;
}

// Rejects anything Save() could not have written; on failure the state is left untouched.
bool ContextSwitching::Load(std::string_view bytes) {
  ByteReader r(bytes);
  if (r.U64() != kStateFormat || !r.ok()) return false;
  const uint64_t applied = r.U64();
  decltype(people_) people;
  CountedKeys subjects;
  ShiftBook shifts;
  bool valid = true;
  for (uint64_t n = r.U64(); valid && r.ok() && n > 0; --n) {
    auto [it, fresh] = people.try_emplace(r.Str());
    Person& p = it->second;
    p.last_at = r.I64();
    const std::string last_subject = r.Str();
    // Saved by a person's first activity: never empty (a subject key has two separators).
    if (!last_subject.empty()) p.last_subject = subjects.Acquire(last_subject);
    p.last_project = r.Str();
    p.uses = r.U64();
    const uint64_t days = r.U64();
    valid = fresh && !it->first.empty() && !last_subject.empty() && days <= kMaxDaysPerPerson;
    for (uint64_t m = days; valid && r.ok() && m > 0; --m) {
      auto [day, new_day] = p.days.try_emplace(r.I64());
      day->second.last_use = r.U64();
      const uint64_t count = r.U64();
      for (uint64_t k = count; r.ok() && k > 0; --k) {
        const std::string key = r.Str();
        const SubjectId id = subjects.Acquire(key);
        if (!day->second.subjects.insert(id)) subjects.Release(id);  // a duplicate
      }
      valid = new_day && day->second.last_use <= p.uses && count > 0 &&
              day->second.subjects.size() == count;
    }
  }
  valid = valid && r.ok() && shifts.Load(r.Str());
  std::map<std::string, std::set<std::string>> sender_teams;
  for (uint64_t n = valid ? r.U64() : 0; valid && r.ok() && n > 0; --n) {
    auto [it, fresh] = sender_teams.try_emplace(r.Str());
    const uint64_t count = r.U64();
    // A team is only ever entered with its first admitted sender team, never past the cap.
    valid = fresh && count > 0 && count <= static_cast<uint64_t>(settings_.max_sender_teams);
    for (uint64_t m = count; valid && r.ok() && m > 0; --m) {
      const std::string sender_team = r.Str();
      // "unmapped" is never admitted; "other" is reserved in configs now, but a log recorded
      // before may hold a directory team of that name.
      valid = !sender_team.empty() && sender_team != kUnmapped &&
              it->second.insert(sender_team).second;
    }
  }
  if (!valid || !r.ok() || !r.done()) return false;
  applied_ = applied;
  series_.clear();  // its sender team labels were given under the state being replaced
  series_by_team_id_.Clear();
  people_ = std::move(people);
  subjects_ = std::move(subjects);
  people_by_id_.Clear();
  shifts_ = std::move(shifts);
  sender_teams_ = std::move(sender_teams);
  return true;
}

}  // namespace teamhealth::projections
