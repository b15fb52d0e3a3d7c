#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace teamhealth {

// XXH3-128 of `data` as 32 lowercase hex digits. Used for content hashes of quarantined
// records and for dedup ids derived from stable payload fields; not a security boundary.
std::string ContentHash(std::string_view data);

// XXH3-64 of `data`: the hash of the string-keyed hash maps (person keys, teams, series). On
// the short keys they hold it costs about half of std::hash's (callgrind, replay_bench).
uint64_t Hash64(std::string_view data);

// The hasher of an unordered container keyed by std::string and searched with a
// std::string_view (no string built per lookup): with std::equal_to<>.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return Hash64(s); }
};

}  // namespace teamhealth
