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
  testing::ExpectResumingAnywhereMatchesOnePass(
      [] { return std::make_unique<OncallLoad>(Settings{}); }, kDir, kNow);
}

TEST(OncallLoadTest, ReplayingTheScenarioTwiceGivesIdenticalState) {
  testing::ExpectReplayIsDeterministic([] { return std::make_unique<OncallLoad>(Settings{}); },
                                       kDir, kNow);
}

TEST(OncallLoadTest, LoadRejectsCorruptState) {
  OncallLoad p{Settings{}};
  EXPECT_FALSE(p.Load("\xff\xff"));
}

}  // namespace
}  // namespace teamhealth::projections
