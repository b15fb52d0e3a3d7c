#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "teamhealth/base/hash.h"

namespace teamhealth::projections {

// A hash map keyed by strings that is looked up by std::string_view (the projections read
// events as views, schema::EventView) without building a string per lookup.
using teamhealth::StringHash;
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

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

}  // namespace teamhealth::projections
