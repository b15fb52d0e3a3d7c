// Shifts, their supersession per slot and the slot's bookings (see shift_book.h).
#include "teamhealth/projections/shift_book.h"

#include <algorithm>
#include <vector>

#include "teamhealth/projections/bytes.h"
#include "teamhealth/projections/event_access.h"

namespace teamhealth::projections {
namespace {

const ShiftIntervals kNoIntervals;

// The level as text: canonical producers write a number (the generator, PagerDuty's
// escalation level) or a string; both spell the same slot. Absent is a level of its own ("").
std::string LevelOf(const EventView& e) {
  const EventView::Value* v = Attr(e, AttrName::kLevel);
  if (v == nullptr) return "";
  if (v->has_int_value()) return std::to_string(v->int_value());
  if (v->has_string_value()) return std::string(v->string_value());
  return "";
}

}  // namespace

std::optional<Shift> ShiftOf(const EventView& e) {
  if (e.type_code() != schema::EventType::kOncallShift) return std::nullopt;
  Shift s;
  s.person = StringAttr(e, AttrName::kPerson);
  const auto start = TimeAttr(e, AttrName::kStart);
  const auto end = TimeAttr(e, AttrName::kEnd);
  if (s.person.empty() || !start || !end || *end <= *start) return std::nullopt;
  s.start = *start;
  s.end = *end;
  // The separator cannot occur in a schedule id or a level.
  if (!e.subject().id().empty()) {
    s.slot.append(e.subject().id()).push_back('\x1f');
    s.slot.append(LevelOf(e));
  }
  return s;
}

// ---- ShiftBook ---------------------------------------------------------------------------

void ShiftBook::Apply(const Shift& shift) {
  if (shift.slot.empty()) {
    if (unslotted_.emplace(shift.person, shift.start, shift.end).second) {
      Index(shift.person, shift.start, shift.end);
    }
    return;
  }
  Pieces& pieces = slots_[shift.slot];
  // The pieces overlapping [start, end): possibly one starting before `start`, then those
  // starting before `end`. Each is removed; its parts outside [start, end) go back.
  auto it = pieces.lower_bound(shift.start);
  if (it != pieces.begin() && std::prev(it)->second.end > shift.start) --it;
  std::vector<std::pair<EpochMillis, Piece>> remainders;
  while (it != pieces.end() && it->first < shift.end) {
    const EpochMillis start = it->first;
    const Piece& old = it->second;
    if (start < shift.start) remainders.emplace_back(start, Piece{shift.start, old.person});
    if (old.end > shift.end) remainders.emplace_back(shift.end, Piece{old.end, old.person});
    it = Erase(pieces, it);
  }
  for (auto& [start, piece] : remainders) Insert(pieces, start, std::move(piece));

  // Merge with the neighbours of the same person, so a re-reported shift leaves the picture
  // (and the saved bytes) as they were.
  EpochMillis start = shift.start;
  EpochMillis end = shift.end;
  auto next = pieces.find(shift.end);
  if (next != pieces.end() && next->second.person == shift.person) {
    end = next->second.end;
    Erase(pieces, next);
  }
  auto after = pieces.lower_bound(shift.start);
  if (after != pieces.begin()) {
    auto prev = std::prev(after);
    if (prev->second.end == shift.start && prev->second.person == shift.person) {
      start = prev->first;
      Erase(pieces, prev);
    }
  }
  Insert(pieces, start, Piece{end, shift.person});
}

void ShiftBook::Insert(Pieces& pieces, EpochMillis start, Piece piece) {
  Index(piece.person, start, piece.end);
  pieces.emplace(start, std::move(piece));
}

ShiftBook::Pieces::iterator ShiftBook::Erase(Pieces& pieces, Pieces::iterator it) {
  Unindex(it->second.person, it->first, it->second.end);
  return pieces.erase(it);
}

void ShiftBook::Index(const std::string& person, EpochMillis start, EpochMillis end) {
  by_person_[person].emplace(start, end);
}

void ShiftBook::Unindex(const std::string& person, EpochMillis start, EpochMillis end) {
  auto p = by_person_.find(person);
  if (p == by_person_.end()) return;
  auto interval = p->second.find({start, end});
  if (interval != p->second.end()) p->second.erase(interval);
  if (p->second.empty()) by_person_.erase(p);
}

void ShiftBook::RebuildIndex() {
  by_person_.clear();
  for (const auto& [_, pieces] : slots_) {
    for (const auto& [start, piece] : pieces) Index(piece.person, start, piece.end);
  }
  for (const auto& [person, start, end] : unslotted_) Index(person, start, end);
}

bool ShiftBook::OnCall(std::string_view person, EpochMillis at) const {
  return Covers(IntervalsOf(person), at);
}

bool ShiftBook::Covers(const ShiftIntervals& intervals, EpochMillis at) {
  for (const auto& [start, end] : intervals) {
    if (start > at) break;  // ordered by start
    if (at < end) return true;
  }
  return false;
}

const ShiftIntervals& ShiftBook::IntervalsOf(std::string_view person) const {
  auto it = by_person_.find(person);
  return it == by_person_.end() ? kNoIntervals : it->second;
}

void ShiftBook::Prune(EpochMillis cut) {
  for (auto s = slots_.begin(); s != slots_.end();) {
    Pieces& pieces = s->second;
    // Pieces of a slot are disjoint, so ordered by start they are ordered by end too.
    auto it = pieces.begin();
    while (it != pieces.end() && it->second.end <= cut) it = Erase(pieces, it);
    s = pieces.empty() ? slots_.erase(s) : std::next(s);
  }
  for (auto it = unslotted_.begin(); it != unslotted_.end();) {
    const auto& [person, start, end] = *it;
    if (end <= cut) {
      Unindex(person, start, end);
      it = unslotted_.erase(it);
    } else {
      ++it;
    }
  }
}

std::string ShiftBook::Save() const {
  std::string out;
  ByteWriter w(out);
  w.U64(slots_.size());
  for (const auto& [slot, pieces] : slots_) {
    w.Str(slot);
    w.U64(pieces.size());
    for (const auto& [start, piece] : pieces) {
      w.I64(start);
      w.I64(piece.end);
      w.Str(piece.person);
    }
  }
  w.U64(unslotted_.size());
  for (const auto& [person, start, end] : unslotted_) {
    w.Str(person);
    w.I64(start);
    w.I64(end);
  }
  return out;
}

bool ShiftBook::Load(std::string_view bytes) {
  ByteReader r(bytes);
  decltype(slots_) slots;
  decltype(unslotted_) unslotted;
  bool valid = true;
  for (uint64_t n = r.U64(); valid && r.ok() && n > 0; --n) {
    auto [s, fresh] = slots.try_emplace(r.Str());
    const uint64_t count = r.U64();
    valid = fresh && !s->first.empty() && count > 0;
    EpochMillis reach = 0;  // end of the previous piece: pieces must not overlap
    for (uint64_t m = count; valid && r.ok() && m > 0; --m) {
      const EpochMillis start = r.I64();
      Piece piece;
      piece.end = r.I64();
      piece.person = r.Str();
      valid = piece.end > start && !piece.person.empty() &&
              (s->second.empty() || start >= reach) &&
              s->second.emplace(start, std::move(piece)).second;
      reach = s->second.empty() ? reach : s->second.rbegin()->second.end;
    }
  }
  for (uint64_t n = r.U64(); valid && r.ok() && n > 0; --n) {
    std::string person = r.Str();
    const EpochMillis start = r.I64();
    const EpochMillis end = r.I64();
    valid = !person.empty() && end > start && unslotted.emplace(person, start, end).second;
  }
  if (!valid || !r.ok() || !r.done()) return false;
  slots_ = std::move(slots);
  unslotted_ = std::move(unslotted);
  RebuildIndex();
  return true;
}

// ---- ShiftLedger -------------------------------------------------------------------------

EpochMillis ShiftLedger::Book(const Shift& shift, const std::string& team) {
  if (shift.slot.empty()) return shift.end - shift.start;
  Intervals& booked = booked_[shift.slot][team];
  EpochMillis fresh = shift.end - shift.start;
  EpochMillis start = shift.start;
  EpochMillis end = shift.end;
  // Every booked interval that overlaps or touches [start, end) is folded into one; the time
  // they already cover is not booked again.
  auto it = booked.upper_bound(shift.start);
  if (it != booked.begin() && std::prev(it)->second >= shift.start) --it;
  while (it != booked.end() && it->first <= shift.end) {
    const EpochMillis overlap =
        std::min(shift.end, it->second) - std::max(shift.start, it->first);
    if (overlap > 0) fresh -= overlap;
    start = std::min(start, it->first);
    end = std::max(end, it->second);
    it = booked.erase(it);
  }
  booked.emplace(start, end);
  return fresh;
}

void ShiftLedger::Prune(EpochMillis cut) {
  for (auto s = booked_.begin(); s != booked_.end();) {
    auto& teams = s->second;
    for (auto t = teams.begin(); t != teams.end();) {
      Intervals& booked = t->second;
      auto it = booked.begin();
      while (it != booked.end() && it->second <= cut) it = booked.erase(it);
      t = booked.empty() ? teams.erase(t) : std::next(t);
    }
    s = teams.empty() ? booked_.erase(s) : std::next(s);
  }
}

std::string ShiftLedger::Save() const {
  std::string out;
  ByteWriter w(out);
  w.U64(booked_.size());
  for (const auto& [slot, teams] : booked_) {
    w.Str(slot);
    w.U64(teams.size());
    for (const auto& [team, booked] : teams) {
      w.Str(team);
      w.U64(booked.size());
      for (const auto& [start, end] : booked) {
        w.I64(start);
        w.I64(end);
      }
    }
  }
  return out;
}

bool ShiftLedger::Load(std::string_view bytes) {
  ByteReader r(bytes);
  decltype(booked_) booked;
  bool valid = true;
  for (uint64_t n = r.U64(); valid && r.ok() && n > 0; --n) {
    auto [s, fresh_slot] = booked.try_emplace(r.Str());
    const uint64_t teams = r.U64();
    valid = fresh_slot && !s->first.empty() && teams > 0;
    for (uint64_t m = teams; valid && r.ok() && m > 0; --m) {
      auto [t, fresh_team] = s->second.try_emplace(r.Str());
      const uint64_t count = r.U64();
      valid = fresh_team && count > 0;
      for (uint64_t k = count; valid && r.ok() && k > 0; --k) {
        const EpochMillis start = r.I64();
        const EpochMillis end = r.I64();
        // Disjoint and not touching: Book() folds touching intervals into one.
        valid = end > start && (t->second.empty() || start > t->second.rbegin()->second) &&
                t->second.emplace(start, end).second;
      }
    }
  }
  if (!valid || !r.ok() || !r.done()) return false;
  booked_ = std::move(booked);
  return true;
}

}  // namespace teamhealth::projections
