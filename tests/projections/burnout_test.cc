// Golden scenario and properties of the burnout projection.
#include "teamhealth/projections/burnout.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "scenario.h"
#include "teamhealth/base/time.h"
#include "teamhealth/projections/event_access.h"

namespace teamhealth::projections {
namespace {

const std::string kDir = std::string(TEAMHEALTH_PROJECTION_TESTS) + "/burnout/";
constexpr EpochMillis kNow = 1775044800000;  // 2026-04-01T12:00:00Z, a Wednesday
constexpr EpochMillis kDay = 86'400'000;

EpochMillis At(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

// Applies the golden scenario and returns the projection and directory it leaves.
struct Applied {
  DirectoryView directory;
  Burnout projection;
};
Applied ApplyScenario(const Settings& settings = Settings{}) {
  Applied a{testing::LoadDirectory(kDir + "config.toml"), Burnout{settings}};
  testing::Run(a.projection, a.directory, testing::LoadEvents(kDir + "events.jsonl"), kNow);
  return a;
}

// A missing series fails the test (it is not zero): see testing::GaugeValue.
double AtRiskGauge(const Accumulator& acc, const std::string& team, const std::string& signal) {
  return testing::GaugeValue(acc, "teamhealth_burnout_members_at_risk",
                             MakeLabels({{"signal", signal}, {"team", team}}));
}

TEST(BurnoutTest, GoldenScenario) {
  auto directory = testing::LoadDirectory(kDir + "config.toml");
  Burnout projection{Settings{}};
  const auto events = testing::LoadEvents(kDir + "events.jsonl");
  const auto acc = testing::Run(projection, directory, events, kNow);
  testing::ExpectMetrics(acc, kDir + "expected.txt");
}

// The raw values behind the golden scenario's verdicts (see expected.txt for the arithmetic).
TEST(BurnoutTest, GoldenScenarioSignalValues) {
  const auto a = ApplyScenario();
  auto s = [&](const char* who) { return a.projection.SignalsOf(who, kNow, a.directory); };
  EXPECT_EQ(s("slack:USAM").sleep_interruptions_7d, 2);
  EXPECT_EQ(s("slack:USUE").sleep_interruptions_7d, 1);
  EXPECT_EQ(s("slack:ULEX").sleep_interruptions_7d, 2);
  EXPECT_EQ(s("slack:UAVA").activities_14d, 20);
  EXPECT_EQ(s("slack:UAVA").after_hours_14d, 5);
  EXPECT_EQ(s("slack:UAVA").no_rest_streak, 2);
  EXPECT_EQ(s("slack:UABE").activities_14d, 20);
  EXPECT_EQ(s("slack:UABE").after_hours_14d, 4);
  EXPECT_EQ(s("slack:UABE").no_rest_streak, 1);
  EXPECT_EQ(s("slack:UANN").activities_14d, 19);
  EXPECT_EQ(s("slack:UANN").after_hours_14d, 6);
  EXPECT_EQ(s("slack:UWES").weekend_days_28d, 3);
  EXPECT_EQ(s("slack:UWYN").weekend_days_28d, 2);
  EXPECT_EQ(s("slack:UNIA").no_rest_streak, 12);
  EXPECT_EQ(s("slack:UNIA").weekend_days_28d, 0);  // works Mon-Sun
  EXPECT_EQ(s("slack:UNED").no_rest_streak, 11);
  EXPECT_DOUBLE_EQ(s("slack:UOLI").oncall_share_28d, 7.0 / 28);  // not at risk: not > 0.25
  EXPECT_DOUBLE_EQ(s("slack:UOLA").oncall_share_28d, 8.0 / 28);
  EXPECT_EQ(s("slack:UWIL").wip, 4);
  EXPECT_EQ(s("slack:UWIZ").wip, 3);
  EXPECT_EQ(s("slack:UAMY").wip, 1);  // in progress every day, yet not always on
  EXPECT_EQ(s("slack:UAMY").after_hours_days_28d, 4);
  EXPECT_EQ(s("slack:UALI").after_hours_days_28d, 12);
  EXPECT_EQ(s("slack:UALI").activities_14d, 6);
  EXPECT_EQ(s("slack:UOWL").after_hours_days_28d, 11);
  EXPECT_EQ(s("slack:UOWL").activities_14d, 3);
  // The alias was merged into ava: nothing is left under it.
  EXPECT_EQ(s("github:ava-gh").activities_14d, 0);
}

// Stopping after any event and resuming from saved state gives the same result as one pass.
TEST(BurnoutTest, ResumingFromSavedStateAfterAnyEventGivesTheSameMetrics) {
  testing::ExpectResumingAnywhereMatchesOnePass(
      [] { return std::make_unique<Burnout>(Settings{}); }, kDir, kNow);
}

// The log never holds duplicates; replaying the same log from scratch is deterministic.
TEST(BurnoutTest, ReplayingTheScenarioTwiceGivesIdenticalState) {
  testing::ExpectReplayIsDeterministic([] { return std::make_unique<Burnout>(Settings{}); }, kDir,
                                       kNow);
}

TEST(BurnoutTest, LoadRejectsCorruptState) {
  Burnout p{Settings{}};
  EXPECT_FALSE(p.Load("\xff\xff"));
  const auto a = ApplyScenario();
  const std::string good = a.projection.Save();
  ASSERT_TRUE(p.Load(good));
  // Every truncation and a trailing byte are rejected, and a failed Load keeps the old state.
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(p.Load(good.substr(0, n))) << "truncated to " << n;
  }
  EXPECT_FALSE(p.Load(good + "x"));
  EXPECT_EQ(p.Save(), good);
}

TEST(BurnoutTest, ThresholdsComeFromSettings) {
  Settings s;
  s.sleep_interruptions_7d = 1;       // sue (1) joins sam
  s.wip_limit = 2;                    // wiz (3) joins wil
  s.no_rest_streak_days = 11;         // ned (11) joins nia
  s.oncall_share_28d = 0.24;          // oli (7/28 = 0.25 > 0.24) joins ola
  s.always_on_days_28d = 11;          // owl (11 days) joins ali
  s.after_hours_min_activities = 19;  // ann (6/19) joins ava
  auto a = ApplyScenario(s);
  Accumulator acc;
  a.projection.ExportGauges(kNow, a.directory, acc);
  EXPECT_EQ(AtRiskGauge(acc, "alpha", "sleep_interruptions_7d"), 2);
  EXPECT_EQ(AtRiskGauge(acc, "beta", "wip_over_limit"), 2);
  EXPECT_EQ(AtRiskGauge(acc, "beta", "no_rest_streak"), 2);
  EXPECT_EQ(AtRiskGauge(acc, "beta", "oncall_share_28d"), 2);
  EXPECT_EQ(AtRiskGauge(acc, "beta", "always_on_28d"), 2);
  EXPECT_EQ(AtRiskGauge(acc, "alpha", "after_hours_share_14d"), 2);
}

// Windows trail `now`: a week later sam's and lex's interruptions are older than 7 days, and a
// gauge export before the events' days sees only what happened by then.
TEST(BurnoutTest, WindowsEndAtNow) {
  const auto a = ApplyScenario();
  Accumulator later;
  a.projection.ExportGauges(kNow + 7 * kDay, a.directory, later);
  EXPECT_EQ(AtRiskGauge(later, "alpha", "sleep_interruptions_7d"), 0);
  EXPECT_EQ(AtRiskGauge(later, "beta", "sleep_interruptions_7d"), 0);
  // nia's streak ended on Mar 31: by Apr 08 it is over.
  EXPECT_EQ(AtRiskGauge(later, "beta", "no_rest_streak"), 0);
  // ali's evenings Mar 09..11 fall out of local Mar 12..Apr 08: 9 days left.
  EXPECT_EQ(AtRiskGauge(later, "beta", "always_on_28d"), 0);
  EXPECT_EQ(
      a.projection.SignalsOf("slack:UALI", kNow + 7 * kDay, a.directory).after_hours_days_28d, 9);
  // oli's shift Mar 31 12:00 - Apr 03 12:00 counts in full once now is past its end.
  EXPECT_DOUBLE_EQ(a.projection.SignalsOf("slack:UOLI", At("2026-04-03T12:00:00Z"), a.directory)
                       .oncall_share_28d,
                   (1.0 + 3 + 3) / 28);  // Mar 10-11 (1 d), Mar 20-23 (3 d), Mar 31-Apr 03 (3 d)
}

// A streak may include today; with no activity yet today it is the one ending yesterday, and
// a missing yesterday ends it.
TEST(BurnoutTest, StreakEndsTodayOrYesterday) {
  const auto a = ApplyScenario();
  auto streak = [&](const char* who, const char* now) {
    return a.projection.SignalsOf(who, At(now), a.directory).no_rest_streak;
  };
  EXPECT_EQ(streak("slack:UNIA", "2026-03-31T23:00:00Z"), 12);  // includes today Mar 31
  EXPECT_EQ(streak("slack:UNIA", "2026-04-01T23:59:00Z"), 12);  // ends yesterday
  EXPECT_EQ(streak("slack:UNIA", "2026-04-02T00:00:00Z"), 0);   // yesterday (Apr 01) empty
  EXPECT_EQ(streak("slack:UNIA", "2026-03-25T12:00:00Z"), 6);   // Mar 20..25
}

// Pruning keeps the state bounded: a person active every day for a year keeps ~35 days.
TEST(BurnoutTest, StateStaysBounded) {
  Burnout p{Settings{}};
  auto pipeline = testing::BorrowingPipeline(p, testing::LoadDirectory(kDir + "config.toml"));
  Accumulator acc;
  const EpochMillis start = At("2025-01-01T10:00:00Z");
  // Somebody active once, with a shift and a closed item, a month before the busy year.
  for (const char* type : {"work_item.created", "oncall.shift"}) {
    schema::Event e;
    e.set_id(std::string("once:") + type);
    e.set_source("jira");
    e.set_type(type);
    e.set_occurred_at_ms(start - 30 * kDay);
    e.set_actor("slack:UONCE");
    e.mutable_subject()->set_kind("work_item");
    e.mutable_subject()->set_id("ONCE-1");
    auto add = [&](const char* name, const std::string& value) {
      auto* a = e.add_attrs();
      a->set_name(name);
      a->mutable_value()->set_string_value(value);
    };
    add("person", "slack:UONCE");
    add("start", "2024-12-01T00:00:00Z");
    add("end", "2024-12-02T00:00:00Z");
    add("status_category", "done");
    add("assignee", "slack:UONCE");
    pipeline->Apply(e, acc);
  }
  ASSERT_NE(p.Save().find("ONCE-1"), std::string::npos);
  size_t size_after_60_days = 0;
  for (int i = 0; i < 20'000; ++i) {
    const EpochMillis at = start + (i / 50) * kDay + (i % 50) * 60'000;
    schema::Event e;
    e.set_id("jira:bounded" + std::to_string(i));
    e.set_source("jira");
    e.set_type("work_item.commented");
    e.set_occurred_at_ms(at);
    e.set_actor("slack:UBUSY");
    e.mutable_subject()->set_kind("work_item");
    e.mutable_subject()->set_id("B-" + std::to_string(i % 7));
    pipeline->Apply(e, acc);
    if (i == 60 * 50) size_after_60_days = p.Save().size();
  }
  EXPECT_LE(p.Save().size(), size_after_60_days + 16);
  // The prune every 10,000 events forgot the person and the closed item.
  EXPECT_EQ(p.Save().find("slack:UONCE"), std::string::npos);
  EXPECT_EQ(p.Save().find("ONCE-1"), std::string::npos);
  const auto s = p.SignalsOf("slack:UBUSY", start + 399 * kDay, pipeline->directory());
  EXPECT_EQ(s.activities_14d, 14 * 50);
  EXPECT_GE(s.no_rest_streak, 12);  // capped by what is kept, always over the threshold
}

}  // namespace
}  // namespace teamhealth::projections
