#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "event.pb.h"
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
std::optional<std::pair<std::string, TimeOffVersion>> TimeOffOf(const schema::Event& e);

// Every person's current time offs, after supersession: per subject id (the source's id of
// the time off) the version with the latest occurred_at wins, ties going to the greater event
// id. The winner does not depend on the order versions are applied in (reports replay in
// event time, the live metrics in log order; both end with the same book). A winner that does
// not Exist() (cancelled, or end <= start) removes the time off; moving, extending or handing
// it to another person is a later version with the same subject id.
//
// Bounded: Prune forgets versions whose time off ended (max(start, end)) at or before the cut.
// An older version of a pruned subject applied afterwards is then taken as current; only time
// offs that ended before the cut, which no window reads, can come back that way.
// Owns its state; not thread-safe.
class TimeOffBook final {
 public:
  using Intervals = std::vector<std::pair<EpochMillis, EpochMillis>>;

  // Records a version; it becomes current unless the subject has a later one.
  void Apply(const std::string& subject, TimeOffVersion version);

  // Whether `at` is inside one of the person's current time offs (start <= at < end).
  bool Covers(std::string_view person, EpochMillis at) const;
  // The person's current time offs [start, end), ordered by start (they may overlap).
  Intervals Of(std::string_view person) const;

  void Prune(EpochMillis cut);

  // Canonical bytes (equal books give equal bytes whatever the order of Apply).
  std::string Save() const;
  // Rejects anything Save() could not have written; on failure the book is left untouched.
  bool Load(std::string_view bytes);

 private:
  void Index(const std::string& subject, const TimeOffVersion& v, bool add);

  std::map<std::string, TimeOffVersion> by_subject_;
  // Derived (rebuilt by Load): the subjects whose current version Exists(), per person.
  std::map<std::string, std::set<std::string>, std::less<>> subjects_of_;
};

}  // namespace teamhealth::projections
