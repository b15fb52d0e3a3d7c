#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>

namespace teamhealth::projections {

// A string of at most 8 * kWords - 1 bytes held in kWords words (its length in the last byte),
// as the key of a flat hash table looked up at every event by short keys: the table compares a
// few words in its own slot, where a std::string key of more than 15 bytes sends it through a
// pointer to the bytes (a cache miss) into memcmp (issue 13).
template <size_t kWords>
class InlineKey {
 public:
  static constexpr size_t kMaxSize = 8 * kWords - 1;

  // `s` as an inline key; nullopt if it is longer than kMaxSize.
  static std::optional<InlineKey> Of(std::string_view s) {
    if (s.size() > kMaxSize) return std::nullopt;
    InlineKey k;
    char bytes[sizeof k.words_] = {};
    std::memcpy(bytes, s.data(), s.size());
    bytes[kMaxSize] = static_cast<char>(s.size());
    std::memcpy(k.words_, bytes, sizeof bytes);
    return k;
  }

  friend bool operator==(const InlineKey& a, const InlineKey& b) {
    for (size_t i = 0; i < kWords; ++i) {
      if (a.words_[i] != b.words_[i]) return false;
    }
    return true;
  }
  template <typename H>
  friend H AbslHashValue(H h, const InlineKey& k) {
    // Word by word: a multiply and a mix each, where the contiguous form hashes bytes.
    for (const uint64_t w : k.words_) h = H::combine(std::move(h), w);
    return h;
  }

 private:
  uint64_t words_[kWords] = {};
};

// Person keys: pseudonyms are "p:" and 16 hex digits.
using ShortKey = InlineKey<3>;
// Subject keys: source, subject kind and id joined ("jira\x1fwork_item\x1fPAY-1234").
using SubjectInlineKey = InlineKey<6>;

}  // namespace teamhealth::projections
