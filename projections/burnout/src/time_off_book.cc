// Time offs after supersession (see include/teamhealth/projections/time_off_book.h).
#include "teamhealth/projections/time_off_book.h"

#include <algorithm>
#include <tuple>

#include "teamhealth/projections/bytes.h"
#include "teamhealth/projections/event_access.h"

namespace teamhealth::projections {
namespace {

// Whether `a` is a later version than `b` (occurred_at, then event id).
bool Later(const TimeOffVersion& a, const TimeOffVersion& b) {
  return std::tie(a.occurred_at, a.event_id) > std::tie(b.occurred_at, b.event_id);
}

}  // namespace

std::optional<std::pair<std::string, TimeOffVersion>> TimeOffOf(const EventView& e) {
  if (e.type_code() != schema::EventType::kPersonTimeOff || e.subject().id().empty()) {
    return std::nullopt;
  }
  TimeOffVersion v;
  v.occurred_at = e.occurred_at_ms();
  v.event_id = e.id();
  v.person = StringAttr(e, AttrName::kPerson);
  const auto start = TimeAttr(e, AttrName::kStart);
  const auto end = TimeAttr(e, AttrName::kEnd);
  if (start && end) {
    v.start = *start;
    v.end = *end;
  }
  v.cancelled = BoolAttr(e, AttrName::kCancelled);
  return std::make_pair(std::string(e.subject().id()), std::move(v));
}

void TimeOffBook::Apply(const std::string& subject, TimeOffVersion version) {
  if (auto t = tombstones_.find(subject); t != tombstones_.end()) {
    // The subject's winner was pruned: only a later version can take its place.
    if (std::tie(version.occurred_at, version.event_id) <=
        std::tie(t->second.occurred_at, t->second.event_id)) {
      return;
    }
    tombstones_.erase(t);
  }
  auto it = by_subject_.find(subject);
  if (it != by_subject_.end()) {
    if (!Later(version, it->second)) return;  // an older version arriving late
    Index(subject, it->second, false);
    it->second = std::move(version);
  } else {
    it = by_subject_.emplace(subject, std::move(version)).first;
  }
  Index(subject, it->second, true);
}

void TimeOffBook::Index(const std::string& subject, const TimeOffVersion& v, bool add) {
  if (!v.Exists()) return;
  if (add) {
    subjects_of_[v.person].insert(subject);
    return;
  }
  auto it = subjects_of_.find(v.person);
  if (it == subjects_of_.end()) return;
  it->second.erase(subject);
  if (it->second.empty()) subjects_of_.erase(it);
}

bool TimeOffBook::Covers(std::string_view person, EpochMillis at) const {
  auto it = subjects_of_.find(person);
  if (it == subjects_of_.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(), [&](const std::string& subject) {
    const TimeOffVersion& v = by_subject_.at(subject);
    return v.start <= at && at < v.end;
  });
}

TimeOffBook::Intervals TimeOffBook::Of(std::string_view person) const {
  Intervals out;
  auto it = subjects_of_.find(person);
  if (it == subjects_of_.end()) return out;
  for (const auto& subject : it->second) {
    const TimeOffVersion& v = by_subject_.at(subject);
    out.emplace_back(v.start, v.end);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void TimeOffBook::Prune(EpochMillis cut) {
  for (auto it = by_subject_.begin(); it != by_subject_.end();) {
    if (std::max(it->second.start, it->second.end) > cut) {
      ++it;
      continue;
    }
    Index(it->first, it->second, false);
    const TimeOffVersion& v = it->second;
    tombstones_[it->first] = Tombstone{
        v.occurred_at, v.event_id, std::max({v.start, v.end, v.occurred_at}) + kTombstoneMs};
    it = by_subject_.erase(it);
  }
  std::erase_if(tombstones_, [&](const auto& kv) { return kv.second.until <= cut; });
}

std::string TimeOffBook::Save() const {
  std::string out;
  ByteWriter w(out);
  w.U64(by_subject_.size());
  for (const auto& [subject, v] : by_subject_) {
    w.Str(subject);
    w.I64(v.occurred_at);
    w.Str(v.event_id);
    w.Str(v.person);
    w.I64(v.start);
    w.I64(v.end);
    w.U64(v.cancelled ? 1 : 0);
  }
  w.U64(tombstones_.size());
  for (const auto& [subject, t] : tombstones_) {
    w.Str(subject);
    w.I64(t.occurred_at);
    w.Str(t.event_id);
    w.I64(t.until);
  }
  return out;
}

bool TimeOffBook::Load(std::string_view bytes) {
  ByteReader r(bytes);
  TimeOffBook book;
  for (uint64_t n = r.U64(); r.ok() && n > 0; --n) {
    std::string subject = r.Str();
    TimeOffVersion v;
    v.occurred_at = r.I64();
    v.event_id = r.Str();
    v.person = r.Str();
    v.start = r.I64();
    v.end = r.I64();
    const uint64_t cancelled = r.U64();
    if (!r.ok() || cancelled > 1 || subject.empty()) return false;
    v.cancelled = cancelled == 1;
    if (book.by_subject_.count(subject) > 0) return false;  // Save writes each subject once
    book.Apply(subject, std::move(v));
  }
  for (uint64_t n = r.U64(); r.ok() && n > 0; --n) {
    std::string subject = r.Str();
    Tombstone t;
    t.occurred_at = r.I64();
    t.event_id = r.Str();
    t.until = r.I64();
    if (!r.ok() || subject.empty() || book.by_subject_.count(subject) > 0) return false;
    if (!book.tombstones_.emplace(std::move(subject), std::move(t)).second) return false;
  }
  if (!r.ok() || !r.done()) return false;
  *this = std::move(book);
  return true;
}

}  // namespace teamhealth::projections
