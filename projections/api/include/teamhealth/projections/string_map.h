#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "teamhealth/base/hash.h"

namespace teamhealth::projections {

// A hash map keyed by strings that is looked up by std::string_view (the projections read
// events as views, schema::EventView) without building a string per lookup.
using teamhealth::StringHash;
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// The entry of `key`, inserted (value-initialised) if absent: a string is built only then.
template <typename V>
std::pair<typename StringMap<V>::iterator, bool> FindOrInsert(StringMap<V>& map,
                                                              std::string_view key) {
  if (auto it = map.find(key); it != map.end()) return {it, false};
  return map.try_emplace(std::string(key));
}

}  // namespace teamhealth::projections
