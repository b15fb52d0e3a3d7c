#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "event_view.h"
#include "teamhealth/projections/string_map.h"

namespace teamhealth::projections {

// Pointers into a projection's map of its own (a StringMap, whose entries stay put until
// erased), indexed by a dense id the pipeline's DirectoryView gave: a vector index instead of
// hashing and comparing a key at every event (issue 13). A cache, not state: Clear() after the
// map loses entries (a prune) or is replaced (Load), and a copy starts empty (its pointers would
// be into the other map). Ids are those of the one pipeline that applies the projection (every
// pipeline makes its own projections).
template <typename V>
class IdSlots {
 public:
  IdSlots() = default;
  IdSlots(const IdSlots&) {}
  IdSlots& operator=(const IdSlots&) {
    slots_.clear();
    return *this;
  }

  // The slot of id `id`: nullptr until set.
  V*& Slot(uint32_t id) {
    if (id >= slots_.size()) slots_.resize(id + 1, nullptr);
    return slots_[id];
  }
  void Clear() { slots_.clear(); }

 private:
  std::vector<V*> slots_;
};

// A projection's state of people (a StringMap by person key) reached by the id the pipeline
// stamped on an event's actor (schema::EventView::actor_id, DirectoryView::Intern); an event
// without one (kNoPersonId) is looked up by key.
template <typename V>
class ByPersonId : public IdSlots<V> {
 public:
  // The entry of `key` (whose id is `id`), inserted if absent; true if inserted.
  std::pair<V*, bool> FindOrInsert(StringMap<V>& map, schema::PersonId id, std::string_view key) {
    if (id == schema::kNoPersonId) {
      auto [it, fresh] = projections::FindOrInsert(map, key);
      return {&it->second, fresh};
    }
    V*& slot = this->Slot(id);
    if (slot != nullptr) return {slot, false};
    auto [it, fresh] = projections::FindOrInsert(map, key);
    slot = &it->second;
    return {slot, fresh};
  }
};

// A projection's state of teams reached by DirectoryView::TeamId (PersonEntry::team_id), filled
// on first use.
template <typename V>
using ByTeamId = IdSlots<V>;

}  // namespace teamhealth::projections
