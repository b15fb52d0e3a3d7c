#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "event_view.h"
#include "teamhealth/projections/string_map.h"

namespace teamhealth::projections {

// A projection's state of people (a StringMap by person key) reached by the id the pipeline
// stamped on an event's actor (schema::EventView::actor_id, DirectoryView::Intern): a vector
// index instead of hashing and comparing the key at every event (issue 13). An entry of a
// StringMap stays put until it is erased, so a remembered pointer holds until then: Clear()
// after erasing entries (a prune) and after replacing the map (Load). Ids are those of the one
// pipeline that applies the projection; an event without one (kNoPersonId) is looked up by
// key. A cache, not state: a copy starts empty (its pointers would be into the other map).
template <typename V>
class ByPersonId {
 public:
  ByPersonId() = default;
  ByPersonId(const ByPersonId&) {}
  ByPersonId& operator=(const ByPersonId&) {
    slots_.clear();
    return *this;
  }

  // The entry of `key` (whose id is `id`), inserted if absent; true if inserted.
  std::pair<V*, bool> FindOrInsert(StringMap<V>& map, schema::PersonId id, std::string_view key) {
    if (id < slots_.size() && slots_[id] != nullptr) return {slots_[id], false};
    auto [it, fresh] = projections::FindOrInsert(map, key);
    if (id != schema::kNoPersonId) {
      if (id >= slots_.size()) slots_.resize(id + 1, nullptr);
      slots_[id] = &it->second;
    }
    return {&it->second, fresh};
  }
  void Clear() { slots_.clear(); }

 private:
  std::vector<V*> slots_;
};

// A projection's state of teams reached by DirectoryView::TeamId (PersonEntry::team_id): slots
// of pointers into a map of its own whose entries stay put (a StringMap), filled on first use.
// A cache, not state, like ByPersonId: Clear() after the map loses entries or is replaced (Load),
// and a copy starts empty. Ids are those of the DirectoryView of the one pipeline that applies
// the projection (every pipeline makes its own projections).
template <typename V>
class ByTeamId {
 public:
  ByTeamId() = default;
  ByTeamId(const ByTeamId&) {}
  ByTeamId& operator=(const ByTeamId&) {
    slots_.clear();
    return *this;
  }

  // The slot of team id `id`: nullptr until set.
  V*& Slot(uint32_t id) {
    if (id >= slots_.size()) slots_.resize(id + 1, nullptr);
    return slots_[id];
  }
  void Clear() { slots_.clear(); }

 private:
  std::vector<V*> slots_;
};

}  // namespace teamhealth::projections
