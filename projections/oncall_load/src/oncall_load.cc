#include "teamhealth/projections/oncall_load.h"

#include "teamhealth/projections/bytes.h"
#include "teamhealth/projections/event_access.h"
#include "teamhealth/projections/prune.h"

namespace teamhealth::projections {
namespace {

constexpr EpochMillis kKeepResolvedMs = 30LL * 86'400'000;  // reopen window kept in state
// A slot's bookings are kept this long after they end, so a schedule change up to 29 days late
// (the longest window any projection keeps shifts for) does not book the same time twice.
constexpr EpochMillis kKeepBookedMs = 29LL * 86'400'000;
constexpr uint64_t kStateFormat = 2;  // 2: the shift ledger

// The local night an instant belongs to: the day the sleep window started.
int64_t NightOf(const PersonEntry& entry, EpochMillis at) {
  const WorkPattern& p = entry.pattern;
  const LocalTime local = entry.Local(at);
  const bool wraps = p.sleep_start_min > p.sleep_end_min;
  return wraps && local.minute < p.sleep_end_min ? local.day - 1 : local.day;
}

}  // namespace

void OncallLoad::Apply(const schema::EventView& e, const DirectoryView& directory, MetricSink& sink) {
  if (e.type_family() == schema::TypeFamily::kIncident) {
    ApplyIncident(e, directory, sink);
    for (const auto& page : pages_.Apply(e)) {
      if (page.starts_interruption) Interruption(page.person, e.occurred_at_ms(), directory, sink);
    }
  } else if (auto shift = ShiftOf(e)) {
    ApplyShift(*shift, directory, sink);
  }
  if (++applied_ % kPruneEvery == 0) Prune(e.occurred_at_ms());
}

OncallLoad::TeamSeries& OncallLoad::SeriesOf(std::string_view team) {
  auto [it, fresh] = FindOrInsert(series_, team);
  TeamSeries& s = it->second;
  if (!fresh) return s;
  const Labels labels = MakeLabels({{"team", team}});
  s.shift_seconds = &InternSeries("teamhealth_oncall_shift_seconds_total", labels);
  s.escalations = &InternSeries("teamhealth_oncall_escalations_total", labels);
  s.reassignments = &InternSeries("teamhealth_oncall_reassignments_total", labels);
  s.time_to_ack = &InternSeries("teamhealth_oncall_time_to_ack_seconds", labels);
  s.time_to_resolve = &InternSeries("teamhealth_oncall_time_to_resolve_seconds", labels);
  s.unacknowledged = &InternSeries("teamhealth_oncall_unacknowledged_total", labels);
  s.sleep_disrupted_nights =
      &InternSeries("teamhealth_oncall_sleep_disrupted_nights_total", labels);
  for (Period p : {Period::kBusiness, Period::kOffHours, Period::kSleep}) {
    s.interruptions[static_cast<size_t>(p)] =
        &InternSeries("teamhealth_oncall_interruptions_total",
                      MakeLabels({{"period", PeriodName(p)}, {"team", team}}));
  }
  return s;
}

// Shift time, booked at the shift's start for the person's team then. A shift that supersedes
// part of its slot (ShiftLedger) books only what the slot has not booked for that team yet;
// nothing booked is ever taken back (the counter is monotonic).
void OncallLoad::ApplyShift(const Shift& shift, const DirectoryView& directory,
                            MetricSink& sink) {
  const std::string team = directory.TeamAt(shift.person, shift.start);
  const EpochMillis fresh = ledger_.Book(shift, team);
  if (fresh > 0) {
    sink.AddSeries(*SeriesOf(team).shift_seconds, static_cast<double>(fresh) / 1000.0,
                   shift.start);
  }
}

void OncallLoad::ApplyIncident(const schema::EventView& e, const DirectoryView& directory,
                               MetricSink& sink) {
  const EpochMillis at = e.occurred_at_ms();
  const std::string_view key = SubjectKey(e, key_);
  const std::string_view type = e.type();
  auto [it, created] = FindOrInsert(incidents_, key);
  Incident& inc = it->second;
  const bool was_closed = !created && !inc.open;
  const EpochMillis was_at = inc.last_at;
  if (created) {
    // Team of an incident: the service's team if mapped, else the first assignee's team.
    const auto assignees = ListAttr(e, AttrName::kAssignees);
    if (const std::string* t = directory.ServiceTeam(e.source(), e.subject().service())) {
      inc.team = *t;
    } else if (!assignees.empty()) {
      inc.team = directory.TeamAt(assignees.front(), at);
    } else {
      inc.team = "unmapped";
    }
    inc.open = true;
  }
  inc.last_at = at;
  TeamSeries& team = SeriesOf(inc.team);

  if (type == "incident.triggered") {
    if (inc.triggered_at < 0) {
      inc.triggered_at = at;
      inc.open = true;
      std::string_view urgency = StringAttr(e, AttrName::kUrgency);
      if (urgency.empty()) urgency = "unknown";
      auto [by_urgency, fresh] = FindOrInsert(team.incidents, urgency);
      if (fresh) {
        by_urgency->second = &InternSeries("teamhealth_oncall_incidents_total",
                                           MakeLabels({{"team", inc.team}, {"urgency", urgency}}));
      }
      sink.AddSeries(*by_urgency->second, 1, at);
    }
  } else if (type == "incident.escalated" || type == "incident.reassigned" ||
             type == "incident.delegated") {
    if (type == "incident.escalated") sink.AddSeries(*team.escalations, 1, at);
    if (type == "incident.reassigned") sink.AddSeries(*team.reassignments, 1, at);
  } else if (type == "incident.acknowledged") {
    if (!inc.acked) {
      inc.acked = true;
      if (inc.triggered_at >= 0) {
        sink.ObserveSeries(*team.time_to_ack, static_cast<double>(at - inc.triggered_at) / 1000.0,
                           at);
      }
    }
  } else if (type == "incident.resolved") {
    if (!inc.resolved_once) {
      inc.resolved_once = true;
      if (inc.triggered_at >= 0) {
        sink.ObserveSeries(*team.time_to_resolve,
                           static_cast<double>(at - inc.triggered_at) / 1000.0, at);
      }
      if (!inc.acked) sink.AddSeries(*team.unacknowledged, 1, at);
    }
    inc.open = false;
  } else if (type == "incident.reopened") {
    inc.open = true;
  }
  closed_.Update(it->first, was_closed, was_at, !inc.open, inc.last_at);
}

void OncallLoad::Interruption(const std::string& person, EpochMillis at,
                              const DirectoryView& directory, MetricSink& sink) {
  const PersonEntry& entry = directory.EntryAt(person, at);
  const Period period = ClassifyPeriod(entry, at);
  const std::string& team = entry.team();
  TeamSeries& series = SeriesOf(team);
  sink.AddSeries(*series.interruptions[static_cast<size_t>(period)], 1, at);
  if (settings_.person_metrics) {  // opt-in per-person series (privacy.person_metrics)
    sink.Add("teamhealth_person_oncall_interruptions_total",
             MakeLabels({{"period", PeriodName(period)}, {"person", person}, {"team", team}}), 1,
             at);
  }
  if (period != Period::kSleep) return;
  const int64_t night = NightOf(entry, at);
  auto [it, first] = last_night_.try_emplace(person, night);
  if (first || it->second != night) {
    it->second = night;
    sink.AddSeries(*series.sleep_disrupted_nights, 1, at);
  }
}

void OncallLoad::Prune(EpochMillis now) {
  pages_.Prune(now);
  ledger_.Prune(now - kKeepBookedMs);
  // Exactly the closed incidents with now - last_at > kKeepResolvedMs: each has a note at its
  // last_at; notes of incidents reopened or active since are stale.
  closed_.Expire(now - kKeepResolvedMs, [&](std::string_view key, EpochMillis at) {
    auto it = incidents_.find(key);
    if (it != incidents_.end() && !it->second.open && it->second.last_at == at) {
      incidents_.erase(it);
    }
  });
}

void OncallLoad::ExportGauges(EpochMillis, const DirectoryView& directory, MetricSink& sink) const {
  std::map<std::string, int> open;
  for (const auto& team : directory.Teams()) open[team] = 0;
  for (const auto& [_, inc] : incidents_) {
    if (inc.open) open[inc.team] += 1;
  }
  for (const auto& [team, n] : open) {
    sink.Set("teamhealth_oncall_open_incidents", MakeLabels({{"team", team}}), n);
  }
}

std::string OncallLoad::Save() const {
  std::string out;
  ByteWriter w(out);
  w.U64(kStateFormat);
  w.U64(applied_);
  w.U64(incidents_.size());
  for (const auto* entry : SortedByKey(incidents_)) {
    const auto& [key, inc] = *entry;
    w.Str(key);
    w.Str(inc.team);
    w.I64(inc.triggered_at);
    w.I64(inc.last_at);
    w.U64((inc.acked ? 1 : 0) | (inc.resolved_once ? 2 : 0) | (inc.open ? 4 : 0));
  }
  w.U64(last_night_.size());
  for (const auto& [person, night] : last_night_) {
    w.Str(person);
    w.I64(night);
  }
  w.Str(pages_.Save());
  w.Str(ledger_.Save());
  return out;
}

bool OncallLoad::Load(std::string_view bytes) {
  ByteReader r(bytes);
  if (r.U64() != kStateFormat || !r.ok()) return false;
  const uint64_t applied = r.U64();
  decltype(incidents_) incidents;
  std::map<std::string, int64_t> last_night;
  for (uint64_t n = r.U64(); r.ok() && n > 0; --n) {
    Incident& inc = incidents[r.Str()];
    inc.team = r.Str();
    inc.triggered_at = r.I64();
    inc.last_at = r.I64();
    const uint64_t flags = r.U64();
    inc.acked = flags & 1;
    inc.resolved_once = flags & 2;
    inc.open = flags & 4;
  }
  for (uint64_t n = r.U64(); r.ok() && n > 0; --n) {
    std::string person = r.Str();
    last_night[person] = r.I64();
  }
  PageTracker pages(settings_.page_merge_ms);
  ShiftLedger ledger;
  if (!r.ok() || !pages.Load(r.Str()) || !r.ok() || !ledger.Load(r.Str()) || !r.ok() ||
      !r.done()) {
    return false;
  }
  applied_ = applied;
  incidents_ = std::move(incidents);
  last_night_ = std::move(last_night);
  pages_ = std::move(pages);
  ledger_ = std::move(ledger);
  closed_.Clear();
  for (const auto& [key, inc] : incidents_) {
    if (!inc.open) closed_.Note(inc.last_at, key);
  }
  return true;
}

}  // namespace teamhealth::projections
