#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "teamhealth/base/time.h"

namespace teamhealth::projections {

// The keys of a state's entries by an instant (their last activity), oldest first, so that a
// prune visits only the entries that may expire instead of walking every entry it holds:
// walking a month of incidents every kPruneEvery events was a quarter of a 5 M-event replay
// (issue 13). Derived state, never saved: rebuilt by the owner's Load.
//
// The owner notes an entry whenever it becomes prunable or its instant changes while it is
// prunable (not at every event: then the index holds about one note per entry); an earlier note
// of the same key is then stale. An entry prunable since its last note still has that note: a
// note is only dropped by Expire, which then erases the entry. Expire(cut, ...) hands every note
// below `cut` to the owner, who erases the entry only if it is still prunable and its instant
// is still the note's. So the prune forgets exactly the prunable entries with instant < cut,
// as the walk did, provided that every prunable entry has a note at its current instant.
class ExpiryIndex final {
 public:
  void Note(EpochMillis at, std::string_view key) {
    heap_.emplace_back(at, std::string(key));
    std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
  }

  // After an event on `key`: notes it if it is prunable now (`is`, at instant `at`) and was not
  // before the event (`was`, at `was_at`), or its instant moved. An entry new with the event was
  // not prunable before.
  void Update(std::string_view key, bool was, EpochMillis was_at, bool is, EpochMillis at) {
    if (is && (!was || at != was_at)) Note(at, key);
  }

  // Calls expire(key, at) for every note with at < cut, oldest first, and forgets those notes.
  template <typename F>
  void Expire(EpochMillis cut, F&& expire) {
    while (!heap_.empty() && heap_.front().first < cut) {
      std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
      const auto& [at, key] = heap_.back();
      expire(std::string_view(key), at);
      heap_.pop_back();
    }
  }

  void Clear() { heap_.clear(); }

 private:
  std::vector<std::pair<EpochMillis, std::string>> heap_;  // a min-heap by instant
};

}  // namespace teamhealth::projections
