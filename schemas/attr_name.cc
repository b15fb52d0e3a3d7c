#include "attr_name.h"

#include <cstring>

namespace teamhealth::schema {
namespace {

constexpr size_t kLongestName = 16;
constexpr size_t kPerLength = 6;

// The codes of each name length, so that a name is compared with the few of its length only.
struct ByLength {
  std::array<std::array<AttrName, kPerLength>, kLongestName + 1> codes{};
  std::array<uint8_t, kLongestName + 1> count{};
};

constexpr ByLength MakeByLength() {
  ByLength t;
  for (size_t c = 1; c < kAttrNameCount; ++c) {
    const size_t n = kAttrNames[c].size();
    t.codes[n][t.count[n]++] = static_cast<AttrName>(c);
  }
  return t;
}

constexpr ByLength kByLength = MakeByLength();

// Every name fits the table: no two names alike, none longer than it holds, at most 4 per length.
constexpr bool NamesFit() {
  std::array<uint8_t, kLongestName + 1> count{};
  for (size_t c = 1; c < kAttrNameCount; ++c) {
    const size_t n = kAttrNames[c].size();
    if (n == 0 || n > kLongestName || ++count[n] > kPerLength) return false;
    for (size_t d = 1; d < c; ++d) {
      if (kAttrNames[d] == kAttrNames[c]) return false;
    }
  }
  return true;
}
static_assert(NamesFit(), "attribute names: unique, 1 to 16 characters, few of each length");

}  // namespace

AttrName AttrNameOf(std::string_view name) {
  if (name.size() > kLongestName) return AttrName::kUnknown;
  const auto& codes = kByLength.codes[name.size()];
  for (uint8_t i = 0; i < kByLength.count[name.size()]; ++i) {
    if (std::memcmp(NameOf(codes[i]).data(), name.data(), name.size()) == 0) return codes[i];
  }
  return AttrName::kUnknown;
}

}  // namespace teamhealth::schema
