#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "event_view.h"
#include "teamhealth/base/time.h"

namespace teamhealth::projections {

// What one oncall.shift event says (docs/design.md sections 4 and 7.2): `person` is on call
// over [start, end) in `slot`. The slot is the schedule's subject id and the shift's `level`
// ("<subject id>\x1f<level>"); a shift whose subject id is empty has no slot ("").
struct Shift {
  std::string slot;
  std::string person;
  EpochMillis start = 0;
  EpochMillis end = 0;
};

// The shift of an oncall.shift event, or nullopt for another type or a shift that puts nobody
// on call (no person, a missing or unreadable start or end, end <= start). Such a shift is
// ignored everywhere: it supersedes nothing either (a gap cannot be expressed).
std::optional<Shift> ShiftOf(const schema::EventView& e);

// Shift intervals [start, end) of one person, ordered by start. Intervals of different slots
// may overlap (primary and secondary, two schedules).
using ShiftIntervals = std::multiset<std::pair<EpochMillis, EpochMillis>>;

// The on-call picture after supersession (docs/design.md section 7.2, "Changed shifts"): who
// is on call when, per slot. Applying a shift of a slot replaces, over the shift's own
// [start, end), every piece of that slot applied before it; the parts of earlier shifts outside
// [start, end) stay. So with slot S level 1: A 09-21, then B 13-17 gives A 09-13, B 13-17,
// A 17-21; A 09-13 applied after that (another event id) changes nothing. Within a slot pieces
// never overlap; adjacent pieces of one person are merged. Shifts without a slot are kept as
// they come (an identical interval of the same person once), as before supersession existed.
// A removed shift with no replacement (a gap) cannot be expressed: an old piece only ever goes
// when a later shift of its slot covers it.
//
// "Before" is the order shifts are applied in, i.e. the order the pipeline applies events
// (event time, then log sequence, for reports; arrival order for the live metrics).
//
// Used by context_switching (who is on call at t), burnout (oncall_share_28d) and, for the
// slot's team bookings, oncall_load through ShiftLedger. Owns its state; not thread-safe.
class ShiftBook final {
 public:
  void Apply(const Shift& shift);

  // Whether `person` is on call at `at` (inside a piece's [start, end)).
  bool OnCall(std::string_view person, EpochMillis at) const;
  // Whether `at` is inside one of `intervals` (for a walk over holders()).
  static bool Covers(const ShiftIntervals& intervals, EpochMillis at);
  // The person's pieces in every slot (and shifts without a slot); empty for nobody.
  const ShiftIntervals& IntervalsOf(std::string_view person) const;
  // Everyone holding a piece, with their intervals (ordered by person).
  const std::map<std::string, ShiftIntervals, std::less<>>& holders() const { return by_person_; }
  bool empty() const { return by_person_.empty(); }

  // Forgets every piece that ended at or before `cut` (bounded memory). A later shift over
  // that time then has nothing left to supersede.
  void Prune(EpochMillis cut);

  // Canonical bytes (equal pictures built in equal order give equal bytes).
  std::string Save() const;
  // Rejects anything Save() could not have written; on failure the book is left untouched.
  bool Load(std::string_view bytes);

 private:
  struct Piece {
    EpochMillis end = 0;
    std::string person;
  };
  using Pieces = std::map<EpochMillis, Piece>;  // start -> piece, disjoint

  void Insert(Pieces& pieces, EpochMillis start, Piece piece);
  Pieces::iterator Erase(Pieces& pieces, Pieces::iterator it);
  void Index(const std::string& person, EpochMillis start, EpochMillis end);
  void Unindex(const std::string& person, EpochMillis start, EpochMillis end);
  void RebuildIndex();

  std::map<std::string, Pieces> slots_;
  std::set<std::tuple<std::string, EpochMillis, EpochMillis>> unslotted_;  // person, start, end
  // Derived from slots_ and unslotted_ (rebuilt by Load).
  std::map<std::string, ShiftIntervals, std::less<>> by_person_;
};

// The on-call seconds already booked per slot and team, so that
// teamhealth_oncall_shift_seconds_total books a superseding shift only for the part of its
// [start, end) that the slot has not booked for the same team before (docs/design.md section
// 7.2). The counter never goes down: a shift handed to another team books the new team's time
// and leaves the old team's; a shortened shift leaves the earlier booking. Shifts without a slot
// book their whole length and leave nothing here. Owns its state; not thread-safe.
class ShiftLedger final {
 public:
  // Milliseconds of [shift.start, shift.end) not yet booked for `team` in the shift's slot;
  // they are booked by this call.
  EpochMillis Book(const Shift& shift, const std::string& team);
  // Forgets bookings that ended at or before `cut`: a shift over that time books again.
  void Prune(EpochMillis cut);
  bool empty() const { return booked_.empty(); }

  std::string Save() const;
  bool Load(std::string_view bytes);

 private:
  using Intervals = std::map<EpochMillis, EpochMillis>;  // start -> end, disjoint, not adjacent
  std::map<std::string, std::map<std::string, Intervals>> booked_;  // slot -> team -> booked
};

}  // namespace teamhealth::projections
