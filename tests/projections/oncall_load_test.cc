#include "teamhealth/projections/oncall_load.h"

#include <gtest/gtest.h>

#include "scenario.h"

namespace teamhealth::projections {
namespace {

const std::string kDir = std::string(TEAMHEALTH_PROJECTION_TESTS) + "/oncall_load/";
constexpr EpochMillis kNow = 1775001600000;  // 2026-04-01T00:00:00Z

TEST(OncallLoadTest, GoldenScenario) {
  auto directory = testing::LoadDirectory(kDir + "config.toml");
  OncallLoad projection{Settings{}};
  const auto events = testing::LoadEvents(kDir + "events.jsonl");
  const auto acc = testing::Run(projection, directory, events, kNow);
  testing::ExpectMetrics(acc, kDir + "expected.txt");
}

// Stopping after any event and resuming from saved state gives the same result as one pass.
TEST(OncallLoadTest, ResumingFromSavedStateAfterAnyEventGivesTheSameMetrics) {
  const auto events = testing::LoadEvents(kDir + "events.jsonl");
  auto reference_dir = testing::LoadDirectory(kDir + "config.toml");
  OncallLoad reference{Settings{}};
  const auto want = testing::Run(reference, reference_dir, events, kNow);
  for (size_t cut = 0; cut <= events.size(); ++cut) {
    auto directory = testing::LoadDirectory(kDir + "config.toml");
    OncallLoad first{Settings{}};
    Accumulator acc;
    for (size_t i = 0; i < cut; ++i) {
      directory.Apply(events[i]);
      first.Apply(events[i], directory, acc);
    }
    OncallLoad resumed{Settings{}};
    ASSERT_TRUE(resumed.Load(first.Save()));
    auto directory2 = testing::LoadDirectory(kDir + "config.toml");
    ASSERT_TRUE(directory2.Load(directory.Save()));
    Accumulator acc2;
    ASSERT_TRUE(acc2.Load(acc.Save()));
    for (size_t i = cut; i < events.size(); ++i) {
      directory2.Apply(events[i]);
      resumed.Apply(events[i], directory2, acc2);
    }
    resumed.ExportGauges(kNow, directory2, acc2);
    EXPECT_EQ(acc2.counters(), want.counters()) << "cut after " << cut;
    EXPECT_EQ(acc2.gauges(), want.gauges()) << "cut after " << cut;
    EXPECT_EQ(acc2.Save(), want.Save()) << "cut after " << cut;
  }
}

TEST(OncallLoadTest, LoadRejectsCorruptState) {
  OncallLoad p{Settings{}};
  EXPECT_FALSE(p.Load("\xff\xff"));
}

}  // namespace
}  // namespace teamhealth::projections
