#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "teamhealth/base/hash.h"

namespace teamhealth::projections {

// A hash map keyed by strings that is looked up by std::string_view (the projections read
// events as views, schema::EventView) without building a string per lookup. Abseil's node map:
// its entries stay where they are (keys and values are referred to while the map grows), and
// a probe reads a flat array of control bytes instead of following a bucket's chain. Its order
// is arbitrary and differs between runs: state is saved sorted (SortedByKey, bytes.h), and
// nothing counted may depend on the order of a walk. erase(it) returns nothing: erase(it++).
using teamhealth::StringHash;
template <typename V>
using StringMap = absl::node_hash_map<std::string, V, StringHash, std::equal_to<>>;

// A set of strings looked up by view in one probe of a flat table (Abseil's), where a
// std::set compares the key with a string out of cache at each level of its tree. Its order is
// arbitrary: state is saved from Sorted(set) (bytes.h).
using StringSet = absl::flat_hash_set<std::string, StringHash, std::equal_to<>>;

// The entry of `key`, inserted (value-initialised) if absent: a string is built only then.
template <typename V>
std::pair<typename StringMap<V>::iterator, bool> FindOrInsert(StringMap<V>& map,
                                                              std::string_view key) {
  if (auto it = map.find(key); it != map.end()) return {it, false};
  return map.try_emplace(std::string(key));
}

// Erases the entries of `map` (a StringMap, or any map whose erase(it) returns nothing) for
// which `pred(entry)` holds; how many it erased.
template <typename Map, typename Pred>
size_t EraseIf(Map& map, Pred pred) {
  size_t erased = 0;
  for (auto it = map.begin(); it != map.end();) {
    if (pred(*it)) {
      map.erase(it++);
      ++erased;
    } else {
      ++it;
    }
  }
  return erased;
}

}  // namespace teamhealth::projections
