#include "teamhealth/base/url.h"

#include <gtest/gtest.h>

namespace teamhealth {
namespace {

TEST(PercentEncodeTest, KeepsUnreservedAndEncodesEveryOtherByte) {
  EXPECT_EQ(PercentEncode("Az09-._~"), "Az09-._~");
  EXPECT_EQ(PercentEncode("pay<ments>"), "pay%3Cments%3E");
  EXPECT_EQ(PercentEncode("a b/c?d=e&f"), "a%20b%2Fc%3Fd%3De%26f");
  EXPECT_EQ(PercentEncode("2026-03-01T00:00:00+01:00"), "2026-03-01T00%3A00%3A00%2B01%3A00");
  EXPECT_EQ(PercentEncode("\xc3\xa9"), "%C3%A9");  // UTF-8 bytes one by one
  EXPECT_EQ(PercentEncode(std::string_view("\0", 1)), "%00");
  EXPECT_EQ(PercentEncode(""), "");
}

}  // namespace
}  // namespace teamhealth
