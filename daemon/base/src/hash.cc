#include "teamhealth/base/hash.h"

#include <xxhash.h>

#include <cstdint>

namespace teamhealth {

std::string ContentHash(std::string_view data) {
  const XXH128_hash_t h = XXH3_128bits(data.data(), data.size());
  // Hex by hand: snprintf cost more than the hash itself on short dedup fields.
  constexpr char kDigits[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[15 - i] = kDigits[(h.high64 >> (4 * i)) & 0xf];
    out[31 - i] = kDigits[(h.low64 >> (4 * i)) & 0xf];
  }
  return out;
}

uint64_t Hash64(std::string_view data) { return XXH3_64bits(data.data(), data.size()); }

}  // namespace teamhealth
