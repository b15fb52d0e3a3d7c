#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "event_view.h"
#include "teamhealth/base/time.h"

namespace teamhealth::projections {

// One version of a time off: what one person.time_off event says (docs/design.md sections 4
// and 7.6). `person` is a person key (the Pipeline resolved the reference).
struct TimeOffVersion {
  EpochMillis occurred_at = 0;  // orders the versions of one time off ...
  std::string event_id;         // ... and breaks ties (the greater id wins)
  std::string person;
  EpochMillis start = 0;
  EpochMillis end = 0;
  bool cancelled = false;

  // Whether this version, when it wins, means the person is off over [start, end): not
  // cancelled, with a person and end > start. Otherwise the time off no longer exists.
  bool Exists() const { return !cancelled && !person.empty() && end > start; }
};

// The subject id and version of a person.time_off event; nullopt for another type or a time
// off without a subject id (nothing could ever change or cancel it, so it is ignored). A
// version without a readable start or end is kept with start = end = 0: it supersedes like a
// cancellation.
std::optional<std::pair<std::string, TimeOffVersion>> TimeOffOf(const schema::EventView& e);

// Every person's current time offs, after supersession: per subject id (the source's id of
// the time off) the version with the latest occurred_at wins, ties going to the greater event
// id. The winner does not depend on the order versions are applied in (reports replay in
// event time, the live metrics in log order; both end with the same book). A winner that does
// not Exist() (cancelled, or end <= start) removes the time off; moving, extending or handing
// it to another person is a later version with the same subject id.
//
// Bounded: Prune forgets versions whose time off ended (max(start, end)) at or before the cut.
// The pruned winner leaves a tombstone (subject id -> its occurred_at and event id, no person
// and no dates) so that an older version of that subject applied afterwards (a late import
// of HR history) still loses: without it, a winner that shortened a time off could be pruned
// and the older, longer version come back as current, over days the event-time order says
// were worked, not off. A later version replaces the tombstone like any winner. Tombstones
// are forgotten once the cut reaches kTombstoneMs (400 days) after the later of the pruned
// winner's end and its occurred_at, so the book holds O(time offs recorded in about 13
// months). The limit: an older version applied more than 400 days after that can come back as
// current, which matters only if it still reaches past the cut (a time off that an edit had
// shortened by more than a year).
// Owns its state; not thread-safe.
class TimeOffBook final {
 public:
  using Intervals = std::vector<std::pair<EpochMillis, EpochMillis>>;

  // Records a version; it becomes current unless the subject has a later one (or had one,
  // now a tombstone).
  void Apply(const std::string& subject, TimeOffVersion version);

  // Whether `at` is inside one of the person's current time offs (start <= at < end).
  bool Covers(std::string_view person, EpochMillis at) const;
  // The person's current time offs [start, end), ordered by start (they may overlap).
  Intervals Of(std::string_view person) const;

  // Forgets the versions that ended at or before `cut` (leaving tombstones) and the
  // tombstones whose horizon is at or before `cut`.
  void Prune(EpochMillis cut);

  // How long a pruned winner's tombstone is kept (see the class comment).
  static constexpr EpochMillis kTombstoneMs = 400 * EpochMillis{86'400'000};

  // Canonical bytes (equal books give equal bytes whatever the order of Apply).
  std::string Save() const;
  // Rejects anything Save() could not have written; on failure the book is left untouched.
  bool Load(std::string_view bytes);

 private:
  void Index(const std::string& subject, const TimeOffVersion& v, bool add);

  // What is left of a pruned winner: enough to make older versions lose.
  struct Tombstone {
    EpochMillis occurred_at = 0;
    std::string event_id;
    EpochMillis until = 0;  // forgotten by a Prune with cut >= until
  };

  std::map<std::string, TimeOffVersion> by_subject_;
  // Subjects whose winner was pruned; never a subject of by_subject_ as well.
  std::map<std::string, Tombstone> tombstones_;
  // Derived (rebuilt by Load): the subjects whose current version Exists(), per person.
  std::map<std::string, std::set<std::string>, std::less<>> subjects_of_;
};

}  // namespace teamhealth::projections
