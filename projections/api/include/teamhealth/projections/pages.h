#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "event_view.h"
#include "teamhealth/base/time.h"
#include "teamhealth/projections/expiry_index.h"
#include "teamhealth/projections/string_map.h"

namespace teamhealth::projections {

// The one definition of a page and an interruption (docs/design.md section 7): a page to person p is
// an incident.triggered, .escalated, .reassigned or .delegated that newly lists p among the
// assignees; pages to p less than `merge_ms` after p's previous page merge into one
// interruption (chained: each page extends it). Shared by every projection that counts pages.
// State: current assignees of recently active incidents and the last page per person.
// Not thread-safe.
class PageTracker final {
 public:
  struct Page {
    std::string person;
    bool starts_interruption;  // false: merged into the interruption already under way
  };

  explicit PageTracker(int64_t merge_ms) : merge_ms_(merge_ms) {}

  // The pages an event makes, in assignee order; none for other events.
  std::vector<Page> Apply(const schema::EventView& e);
  // Forgets incidents inactive for 30 days before `now` (bounded memory).
  void Prune(EpochMillis now);

  std::string Save() const;
  bool Load(std::string_view bytes);

 private:
  struct Incident {
    std::set<std::string, std::less<>> assignees;
    EpochMillis last_at = 0;
  };
  int64_t merge_ms_;
  // Hashed: looked up at every incident event (Save writes them in key order).
  StringMap<Incident> incidents_;
  std::string key_;  // a subject key when the pipeline stamped none (SubjectKey), not state
  StringMap<EpochMillis> last_page_;
  // Every incident by its last page (ExpiryIndex), so that Prune visits only those that
  // expire.
  ExpiryIndex expiry_;
};

}  // namespace teamhealth::projections
