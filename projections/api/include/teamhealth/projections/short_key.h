#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>

namespace teamhealth::projections {

// A string of at most 23 bytes held in three words (its length in the last byte), as the key of
// a flat hash table looked up at every event by short keys, as pseudonyms are ("p:" and 16 hex
// digits): the table compares three words in its own slot, where a std::string key of more than
// 15 bytes sends it through a pointer to the bytes (a cache miss) into memcmp (issue 13).
class ShortKey {
 public:
  static constexpr size_t kMaxSize = 23;

  // `s` as a short key; nullopt if it is longer than kMaxSize.
  static std::optional<ShortKey> Of(std::string_view s) {
    if (s.size() > kMaxSize) return std::nullopt;
    ShortKey k;
    char bytes[sizeof k.words_] = {};
    std::memcpy(bytes, s.data(), s.size());
    bytes[kMaxSize] = static_cast<char>(s.size());
    std::memcpy(k.words_, bytes, sizeof bytes);
    return k;
  }

  friend bool operator==(const ShortKey& a, const ShortKey& b) {
    return a.words_[0] == b.words_[0] && a.words_[1] == b.words_[1] && a.words_[2] == b.words_[2];
  }
  template <typename H>
  friend H AbslHashValue(H h, const ShortKey& k) {
    return H::combine(std::move(h), k.words_[0], k.words_[1], k.words_[2]);
  }

 private:
  uint64_t words_[3] = {};
};

}  // namespace teamhealth::projections
