// PruneDue: how often a projection walks its state to prune it.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "teamhealth/projections/prune.h"

namespace teamhealth::projections {
namespace {

// The events after which PruneDue says yes among the first `events`, for a state of `entries`.
std::vector<uint64_t> Prunes(uint64_t events, size_t entries) {
  std::vector<uint64_t> at;
  for (uint64_t n = 1; n <= events; ++n) {
    if (PruneDue(n, entries)) at.push_back(n);
  }
  return at;
}

TEST(PruneDueTest, ASmallStateIsPrunedEveryTenThousandEvents) {
  const std::vector<uint64_t> every{10'000, 20'000, 30'000, 40'000};
  EXPECT_EQ(Prunes(40'000, 0), every);
  EXPECT_EQ(Prunes(40'000, 19'999), every);  // under 2 x kPruneEvery: spacing 1
  EXPECT_FALSE(PruneDue(0, 0));
}

TEST(PruneDueTest, ALargeStateIsPrunedAboutOnceForEachOfItsEntries) {
  // 20,000-39,999 entries: every 2 x 10,000 events; 80,000-159,999: every 8 x 10,000.
  EXPECT_EQ(Prunes(80'000, 20'000), (std::vector<uint64_t>{20'000, 40'000, 60'000, 80'000}));
  EXPECT_EQ(Prunes(80'000, 39'999), (std::vector<uint64_t>{20'000, 40'000, 60'000, 80'000}));
  EXPECT_EQ(Prunes(240'000, 81'000), (std::vector<uint64_t>{80'000, 160'000, 240'000}));
}

// A state that keeps crossing a boundary is still pruned at the larger spacing: the prunes of
// a spacing of 8 are prunes of a spacing of 4 too.
TEST(PruneDueTest, AStateAroundABoundaryIsNotPutOffBeyondTheLargerSpacing) {
  uint64_t last = 0, longest = 0;
  for (uint64_t n = 1; n <= 1'000'000; ++n) {
    const size_t entries = (n / 7'000) % 2 == 0 ? 79'999 : 80'000;  // spacing 4 or 8
    if (!PruneDue(n, entries)) continue;
    longest = std::max(longest, n - last);
    last = n;
  }
  EXPECT_LE(longest, 80'000u);
  EXPECT_GT(last, 1'000'000u - 80'000u);
}

}  // namespace
}  // namespace teamhealth::projections
