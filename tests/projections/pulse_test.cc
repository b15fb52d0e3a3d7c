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

// The golden scenario's small team (2 answers) has no pulse series even before suppression: its
// answers wait for a group of 5.
TEST(PulseTest, AnswersShortOfAGroupMakeNoSeries) {
  auto directory = testing::LoadDirectory(kDir + "config.toml");
  Pulse projection{Settings{}};
  const auto acc = testing::Run(projection, directory, ScenarioEvents(), kNow);
  ASSERT_NE(testing::HistogramSeries(acc, "teamhealth_pulse_score", MakeLabels({{"team", "big"}})),
            nullptr);
  testing::ExpectNoSeries(acc, "teamhealth_pulse_score", MakeLabels({{"team", "small"}}));
}

// Records every observation with its instant.
class Observations final : public MetricSink {
 public:
  struct Seen {
    std::string team;
    double score;
    EpochMillis at;
    bool operator==(const Seen&) const = default;
  };
  void Add(std::string_view, const Labels&, double, EpochMillis) override {}
  void Observe(std::string_view name, const Labels& labels, double value,
               EpochMillis at) override {
    EXPECT_EQ(name, "teamhealth_pulse_score");
    ASSERT_EQ(labels.size(), 1u);
    seen.push_back({labels[0].second, value, at});
  }
  void Set(std::string_view, const Labels&, double) override {}
  std::vector<Seen> seen;
};

schema::Event ResponseAt(const std::string& id, const std::string& team, int score,
                         EpochMillis at) {
  schema::Event e = Response(id, team, Int(score));
  e.set_occurred_at_ms(at);
  return e;
}

// A team's answers are observed in groups of privacy.min_group_size (3 here), all at the
// instant of the answer that completed the group; the ones that have not made a group yet are
// not observed at all, and wait across a save and load. Without groups, /metrics would tick
// once per answer, and whoever knew who answered when would read their score.
TEST(PulseTest, AnswersAreCountedInGroupsOfTheMinimumSize) {
  auto directory = testing::LoadDirectory(kDir + "config.toml");
  Pulse scenario{Settings{}};  // run for the directory's people (and their teams)
  testing::Run(scenario, directory, testing::LoadEvents(kDir + "events.jsonl"), kNow);
  Settings settings;
  settings.min_group_size = 3;
  Pulse pulse{settings};
  Observations sink;
  const EpochMillis h = 3'600'000;
  auto apply = [&](Pulse& p, const schema::Event& e) {
    p.Apply(schema::EventView(e), directory, sink);
  };
  apply(pulse, ResponseAt("a1", "big", 5, kMar27 + 1 * h));
  apply(pulse, ResponseAt("b1", "small", 1, kMar27 + 2 * h));
  apply(pulse, ResponseAt("a2", "big", 2, kMar27 + 3 * h));
  EXPECT_TRUE(sink.seen.empty());  // big 2, small 1: no group yet
  apply(pulse, ResponseAt("a3", "big", 2, kMar27 + 4 * h));
  using Seen = Observations::Seen;
  const EpochMillis group_at = kMar27 + 4 * h;
  // By score, all at the third answer's instant: nothing tells which came when.
  EXPECT_EQ(sink.seen, (std::vector<Seen>{
                           {"big", 2, group_at}, {"big", 2, group_at}, {"big", 5, group_at}}));
  sink.seen.clear();
  apply(pulse, ResponseAt("a4", "big", 4, kMar27 + 5 * h));
  apply(pulse, ResponseAt("b2", "small", 3, kMar27 + 6 * h));
  EXPECT_TRUE(sink.seen.empty());

  // Waiting answers survive a checkpoint: a loaded copy completes the same groups.
  Pulse resumed{settings};
  ASSERT_TRUE(resumed.Load(pulse.Save()));
  EXPECT_EQ(resumed.Save(), pulse.Save());
  apply(resumed, ResponseAt("b3", "small", 3, kMar27 + 7 * h));
  EXPECT_EQ(sink.seen, (std::vector<Seen>{{"small", 1, kMar27 + 7 * h},
                                          {"small", 3, kMar27 + 7 * h},
                                          {"small", 3, kMar27 + 7 * h}}));
  // A state saved with groups of 3 holds up to 2 waiting answers per team: groups of 2 cannot
  // load it (a change of min_group_size rebuilds the pulse: its definition tag names it).
  Settings pairs;
  pairs.min_group_size = 2;
  EXPECT_FALSE(Pulse{pairs}.Load(pulse.Save()));  // big waits with 1, small with 2
}

// A response about a team no directory entry names is ignored: the series stay as many as the
// directory's teams, whatever names the responses carry.
TEST(PulseTest, ATeamTheDirectoryDoesNotNameIsIgnored) {
  auto directory = testing::LoadDirectory(kDir + "config.toml");
  Pulse scenario{Settings{}};  // run for the directory's people (and their teams)
  testing::Run(scenario, directory, testing::LoadEvents(kDir + "events.jsonl"), kNow);
  ASSERT_TRUE(directory.HasTeam("big"));
  ASSERT_FALSE(directory.HasTeam("nobody"));
  Settings settings;
  settings.min_group_size = 1;
  Pulse pulse{settings};
  Observations sink;
  for (int i = 0; i < 3; ++i) {
    pulse.Apply(schema::EventView(ResponseAt("n" + std::to_string(i), "nobody", 3, kMar27)),
                directory, sink);
  }
  pulse.Apply(schema::EventView(ResponseAt("b", "big", 4, kMar27)), directory, sink);
  EXPECT_EQ(sink.seen, (std::vector<Observations::Seen>{{"big", 4, kMar27}}));
  Pulse fresh{settings};
  EXPECT_EQ(pulse.Save(), fresh.Save());  // nothing waits for "nobody" either
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
  auto directory = testing::LoadDirectory(kDir + "config.toml");
  Pulse p{Settings{}};
  testing::Run(p, directory, ScenarioEvents(), kNow);
  const std::string good = p.Save();  // small waits with 2 answers
  EXPECT_GT(good.size(), 2u);
  Pulse q{Settings{}};
  EXPECT_FALSE(q.Load(""));
  EXPECT_FALSE(q.Load(good + "x"));
  EXPECT_FALSE(q.Load("\x01"));  // the format before groups
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(q.Load(good.substr(0, n))) << "prefix of " << n << " bytes";
  }
  EXPECT_EQ(q.Save(), Pulse{Settings{}}.Save());  // a failed Load leaves the state as it was
  EXPECT_TRUE(q.Load(good));
  EXPECT_EQ(q.Save(), good);
}

}  // namespace
}  // namespace teamhealth::projections
