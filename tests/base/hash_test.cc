#include "teamhealth/base/hash.h"

#include <gtest/gtest.h>

namespace teamhealth {
namespace {

// Content hashes are stored (quarantine records) and end up in dedup ids: their text must never
// change. The values are those of the snprintf formatting the hex encoder replaced; the first
// is XXH3-128 of the empty input as xxHash publishes it.
TEST(HashTest, ContentHashIsXxh3128AsLowercaseHex) {
  EXPECT_EQ(ContentHash(""), "99aa06d3014798d86001c324468d497f");
  EXPECT_EQ(ContentHash("teamhealth"), "7f0304e0ec101d1d152952af5977e3cc");
  EXPECT_EQ(ContentHash("1:a2:bc"), "a53e1eaf0f0ad33aebb4c8a56e875744");
}

}  // namespace
}  // namespace teamhealth
