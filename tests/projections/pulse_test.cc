// Golden scenario and properties of the team pulse projection.
#include "teamhealth/projections/pulse.h"

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "scenario.h"
#include "teamhealth/projections/event_access.h"

namespace teamhealth::projections {
namespace {

// The scenario's pulse.response lines go through the canonical source like every scenario
// event, so these tests need it to accept the type and the subject kind team.
const std::string kDir = std::string(TEAMHEALTH_PROJECTION_TESTS) + "/pulse/";
constexpr EpochMillis kNow = 1775044800000;  // 2026-04-01T12:00:00Z
constexpr EpochMillis kMar27 = 1774569600000;  // 2026-03-27T00:00:00Z

// A pulse.response for `team` with `score` set by `set_score` (absent when null).
schema::Event Response(const std::string& id, const std::string& team,
                       const std::function<void(schema::Value&)>& set_score,
                       const std::string& actor = "") {
  schema::Event e;
  e.set_id("canonical:" + id);
  e.set_source("canonical");
  e.set_type("pulse.response");
  e.set_occurred_at_ms(kMar27 + 15 * 3'600'000);
  if (!actor.empty()) e.set_actor(actor);
  e.mutable_subject()->set_kind("team");
  e.mutable_subject()->set_id(team);
  if (set_score) {
    auto* a = e.add_attrs();
    a->set_name("score");
    set_score(*a->mutable_value());
  }
  return e;
}
auto Int(int64_t v) {
  return [v](schema::Value& value) { value.set_int_value(v); };
}

// The scenario's events and the three responses the canonical source would reject (see
// expected.txt), which the projection must ignore too.
std::vector<schema::Event> ScenarioEvents() {
  auto events = testing::LoadEvents(kDir + "events.jsonl");
  events.push_back(Response("with-actor", "big", Int(1), "slack:UBEA"));
  events.push_back(Response("six", "big", Int(6)));
  events.push_back(
      Response("fraction", "small", [](schema::Value& v) { v.set_double_value(3.5); }));
  return events;
}

TEST(PulseTest, GoldenScenario) {
  auto directory = testing::LoadDirectory(kDir + "config.toml");
  Pulse projection{Settings{}};
  const auto acc = testing::Run(projection, directory, ScenarioEvents(), kNow);
  testing::ExpectMetrics(acc, kDir + "expected.txt");
}

// At export, the accumulator withholds the pulse of a team below privacy.min_group_size (small,
// 2 members) and keeps the others (big, 5 members).
TEST(PulseTest, SmallTeamsAreWithheldAtExport) {
  auto directory = testing::LoadDirectory(kDir + "config.toml");
  Pulse projection{Settings{}};
  auto acc = testing::Run(projection, directory, ScenarioEvents(), kNow);
  acc.SuppressSmallTeams(directory.MemberCounts(kNow), Settings{}.min_group_size);
  const auto* big = testing::HistogramSeries(acc, "teamhealth_pulse_score",
                                             MakeLabels({{"team", "big"}}));
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(big->count, 5u);
  testing::ExpectNoSeries(acc, "teamhealth_pulse_score", MakeLabels({{"team", "small"}}));
}

TEST(PulseTest, OnlyIntegerScoresOneToFiveFromNobodyAboutATeamCount) {
  EXPECT_EQ(PulseScoreOf(Response("a", "big", Int(1))), 1);
  EXPECT_EQ(PulseScoreOf(Response("b", "big", Int(5))), 5);
  EXPECT_EQ(PulseScoreOf(Response("c", "big", Int(0))), std::nullopt);
  EXPECT_EQ(PulseScoreOf(Response("d", "big", Int(6))), std::nullopt);
  EXPECT_EQ(PulseScoreOf(Response("e", "big", Int(3), "slack:UBEA")), std::nullopt);
  EXPECT_EQ(PulseScoreOf(Response("f", "", Int(3))), std::nullopt);
  EXPECT_EQ(PulseScoreOf(Response("g", "big", nullptr)), std::nullopt);
  EXPECT_EQ(PulseScoreOf(Response("h", "big", [](schema::Value& v) { v.set_string_value("3"); })),
            std::nullopt);
  EXPECT_EQ(PulseScoreOf(Response("i", "big", [](schema::Value& v) { v.set_double_value(4); })),
            std::nullopt);
  schema::Event other = Response("j", "big", Int(3));
  other.set_type("chat.message");
  EXPECT_EQ(PulseScoreOf(other), std::nullopt);
}

TEST(PulseTest, ResumingFromSavedStateAfterAnyEventGivesTheSameMetrics) {
  testing::ExpectResumingAnywhereMatchesOnePass(
      [] { return std::make_unique<Pulse>(Settings{}); }, kDir, kNow);
}

TEST(PulseTest, ReplayingTheScenarioTwiceGivesIdenticalState) {
  testing::ExpectReplayIsDeterministic([] { return std::make_unique<Pulse>(Settings{}); }, kDir,
                                       kNow);
}

TEST(PulseTest, LoadAcceptsOnlyItsOwnFormat) {
  Pulse p{Settings{}};
  const std::string good = p.Save();
  EXPECT_TRUE(p.Load(good));
  EXPECT_FALSE(p.Load(""));
  EXPECT_FALSE(p.Load(good + "x"));
  EXPECT_FALSE(p.Load("\x02"));  // another format
}

}  // namespace
}  // namespace teamhealth::projections
