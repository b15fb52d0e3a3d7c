#include "teamhealth/base/time.h"

#include <gtest/gtest.h>

namespace teamhealth {
namespace {

TEST(TimeTest, ParsesUtcWithMillis) {
  // 2026-03-02 is day 20514 since the epoch: 20514*86400 = 1772409600 s.
  // 22:14:05.120 = 80045.120 s later.
  EXPECT_EQ(ParseRfc3339("2026-03-02T22:14:05.120Z"), 1772489645120);
}

TEST(TimeTest, ParsesOffsetsWithAndWithoutColon) {
  // 23:14:05.120+01:00 is 22:14:05.120Z.
  EXPECT_EQ(ParseRfc3339("2026-03-02T23:14:05.120+01:00"), 1772489645120);
  EXPECT_EQ(ParseRfc3339("2026-03-02T23:14:05.120+0100"), 1772489645120);
  EXPECT_EQ(ParseRfc3339("2026-03-02T17:14:05.120-0500"), 1772489645120);
}

TEST(TimeTest, TruncatesLongFractionsAndPadsShortOnes) {
  EXPECT_EQ(ParseRfc3339("2026-03-02T22:14:05.120999Z"), 1772489645120);
  EXPECT_EQ(ParseRfc3339("2026-03-02T22:14:05.1Z"), 1772489645100);
  EXPECT_EQ(ParseRfc3339("2026-03-02T22:14:05Z"), 1772489645000);
}

TEST(TimeTest, RejectsMalformed) {
  for (const char* bad :
       {"", "2026-03-02", "2026-03-02T22:14:05", "2026-13-02T22:14:05Z", "2026-02-30T22:14:05Z",
        "2026-03-02T25:14:05Z", "yesterday", "2026-03-02T22:14:05.Z", "2026-03-02T22:14:05Zjunk"}) {
    EXPECT_FALSE(ParseRfc3339(bad).has_value()) << bad;
  }
}

TEST(TimeTest, FormatsUtcWithMillis) {
  EXPECT_EQ(FormatRfc3339(1772489645120), "2026-03-02T22:14:05.120Z");
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(-1), "1969-12-31T23:59:59.999Z");
}

TEST(TimeTest, RoundTrips) {
  for (int64_t ms : {int64_t{0}, int64_t{951782400000} /* 2000-02-29 */, int64_t{1772489645120},
                     int64_t{4102444799999}}) {
    EXPECT_EQ(ParseRfc3339(FormatRfc3339(ms)), ms);
  }
}

}  // namespace
}  // namespace teamhealth

namespace teamhealth {
namespace {

TEST(TimeTest, ParsesDurations) {
  EXPECT_EQ(ParseDurationSeconds("90"), 90);
  EXPECT_EQ(ParseDurationSeconds("90s"), 90);
  EXPECT_EQ(ParseDurationSeconds("5m"), 300);
  EXPECT_EQ(ParseDurationSeconds("1h"), 3600);
  EXPECT_EQ(ParseDurationSeconds("7d"), 7 * 86400);
  EXPECT_EQ(ParseDurationSeconds("0m"), 0);
  for (const char* bad : {"", "m", "-5m", "5w", "1.5h", "5 m", "h5", "9999999999999s"}) {
    EXPECT_FALSE(ParseDurationSeconds(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace teamhealth
