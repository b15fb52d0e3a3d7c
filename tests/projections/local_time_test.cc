// ToLocal: an instant's local day, minute and weekday in an IANA zone. Its offset is cached per
// zone between transitions, so these walk across DST changes and back in time.
#include <gtest/gtest.h>

#include "teamhealth/projections/directory_view.h"

namespace teamhealth::projections {
namespace {

constexpr EpochMillis kHour = 3'600'000;

TEST(LocalTimeTest, OffsetsFollowDaylightSavingBothWaysAndOutOfOrder) {
  // Europe/London: BST (UTC+1) ended 2025-10-26 01:00 UTC; began 2025-03-30 01:00 UTC.
  const EpochMillis autumn = 1761440400000;  // 2025-10-26T01:00:00Z
  const EpochMillis spring = 1743296400000;  // 2025-03-30T01:00:00Z
  // 00:30 UTC before the autumn change: 01:30 BST; 01:30 UTC after it: 01:30 GMT.
  EXPECT_EQ(ToLocal("Europe/London", autumn - kHour / 2).minute, 90);
  EXPECT_EQ(ToLocal("Europe/London", autumn + kHour / 2).minute, 90);
  // Back to spring (an earlier period than the cached one): 00:30 UTC is 00:30 GMT, 01:30 UTC
  // is 02:30 BST.
  EXPECT_EQ(ToLocal("Europe/London", spring - kHour / 2).minute, 30);
  EXPECT_EQ(ToLocal("Europe/London", spring + kHour / 2).minute, 150);
  // Again after autumn, and the instant of the change itself (GMT from then on).
  EXPECT_EQ(ToLocal("Europe/London", autumn).minute, 60);
  EXPECT_EQ(ToLocal("Europe/London", autumn - 1).minute, 119);
  // Another zone keeps its own period: 2025-10-26T01:00Z is 10:00 in Tokyo (UTC+9), a Sunday.
  const LocalTime tokyo = ToLocal("Asia/Tokyo", autumn);
  EXPECT_EQ(tokyo.minute, 600);
  EXPECT_EQ(tokyo.weekday, 6);
  EXPECT_EQ(tokyo.day, 20387);  // days since 1970-01-01 of 2025-10-26
  // Unknown zones are UTC.
  EXPECT_EQ(ToLocal("Nowhere/Atlantis", autumn).minute, 60);
  // Before 1970 the day is negative and the minute still within the day.
  const LocalTime old = ToLocal("America/New_York", -kHour);  // 1969-12-31T18:00 EST
  EXPECT_EQ(old.day, -1);
  EXPECT_EQ(old.minute, 18 * 60);
}

// A ZoneClock (each directory entry holds one) caches its own last period: the same walk as
// above through one clock, and a second clock of another zone is not disturbed by it.
TEST(LocalTimeTest, AZoneClockFollowsDaylightSavingBothWays) {
  const EpochMillis autumn = 1761440400000;  // 2025-10-26T01:00:00Z, BST -> GMT
  const EpochMillis spring = 1743296400000;  // 2025-03-30T01:00:00Z, GMT -> BST
  const ZoneClock london("Europe/London");
  const ZoneClock tokyo("Asia/Tokyo");
  EXPECT_EQ(london.Local(autumn - kHour / 2).minute, 90);  // 01:30 BST
  EXPECT_EQ(tokyo.Local(autumn).minute, 600);              // 10:00 JST
  EXPECT_EQ(london.Local(autumn + kHour / 2).minute, 90);  // 01:30 GMT
  EXPECT_EQ(london.Local(spring - kHour / 2).minute, 30);  // 00:30 GMT
  EXPECT_EQ(london.Local(spring + kHour / 2).minute, 150);  // 02:30 BST
  EXPECT_EQ(london.Local(autumn - 1).minute, 119);         // 01:59 BST
  EXPECT_EQ(tokyo.Local(spring).minute, 600);              // 10:00 JST
  EXPECT_EQ(ZoneClock("Nowhere/Atlantis").Local(autumn).minute, 60);  // unknown: UTC
  EXPECT_EQ(ZoneClock().Local(autumn).minute, 60);                    // default: UTC
}

}  // namespace
}  // namespace teamhealth::projections
