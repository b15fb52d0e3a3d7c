// Golden scenario of changed on-call shifts (tests/projections/shift_supersession/): an override
// within the team, a handover to another team's person and a shortened shift, through the three
// projections that read oncall.shift. The arithmetic is in the expected_*.txt files.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "scenario.h"
#include "teamhealth/base/time.h"
#include "teamhealth/projections/burnout.h"
#include "teamhealth/projections/context_switching.h"
#include "teamhealth/projections/event_access.h"
#include "teamhealth/projections/oncall_load.h"
#include "teamhealth/projections/window.h"

namespace teamhealth::projections {
namespace {

const std::string kDir = std::string(TEAMHEALTH_PROJECTION_TESTS) + "/shift_supersession/";
constexpr EpochMillis kDay = 86'400'000;

EpochMillis At(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

const EpochMillis kNow = At("2026-03-20T00:00:00Z");

std::vector<schema::Event> Events() { return testing::LoadEvents(kDir + "events.jsonl"); }

TEST(ShiftSupersessionTest, OncallLoadBooksOnlyTimeTheSlotHasNotBookedForTheTeam) {
  auto directory = testing::LoadDirectory(kDir + "config.toml");
  OncallLoad projection{Settings{}};
  const auto acc = testing::Run(projection, directory, Events(), kNow);
  testing::ExpectMetrics(acc, kDir + "expected_oncall_load.txt");
}

// The handover's time is booked for search at the new shift's start (Tue 13:00), and nothing
// is booked at the starts of the overrides within payments (Mon 13:00, Tue 15:00, Mar 15).
TEST(ShiftSupersessionTest, OncallLoadBooksAtTheNewShiftsStart) {
  auto booked_in = [](EpochMillis from, EpochMillis to) {
    OncallLoad projection{Settings{}};
    auto pipeline =
        testing::BorrowingPipeline(projection, testing::LoadDirectory(kDir + "config.toml"));
    WindowSink window(from, to);
    const auto events = Events();
    for (const auto& e : events) pipeline->Preload(e);
    for (const auto& e : events) pipeline->Apply(e, window);
    return window.counters();
  };
  const std::string name = "teamhealth_oncall_shift_seconds_total";
  const Labels search = MakeLabels({{"team", "search"}});
  const Labels payments = MakeLabels({{"team", "payments"}});
  const EpochMillis tue_13 = At("2026-03-03T13:00:00Z");
  EXPECT_EQ(booked_in(tue_13, tue_13 + 1).at(name).at(search), 14400);
  EXPECT_EQ(booked_in(tue_13, tue_13 + 1).at(name).count(payments), 0u);
  // Everything of payments is booked at Mon 09:00, Tue 09:00 and Mar 09 00:00 (carol's level 1
  // and alice's level 2).
  const auto all = booked_in(At("2026-03-02T09:00:00Z"), At("2026-03-02T09:00:00Z") + 1);
  EXPECT_EQ(all.at(name).at(payments), 43200);
  // Between Mon 09:00 and Tue 09:00 only dave's level-2 hour, at its start: nothing at the
  // Monday override (bob, 13:00) or at alice's re-reported morning (09:00).
  const auto rest = booked_in(At("2026-03-02T09:00:00Z") + 1, At("2026-03-03T09:00:00Z"));
  EXPECT_EQ(rest.at(name).at(payments), 3600);
  const EpochMillis mon_14 = At("2026-03-02T14:00:00Z");
  EXPECT_EQ(booked_in(mon_14, mon_14 + 1).at(name).at(payments), 3600);
  const auto week = booked_in(At("2026-03-09T00:00:00Z"), At("2026-03-09T00:00:00Z") + 1);
  EXPECT_EQ(week.at(name).at(payments), 691200 + 172800);
  const auto after = booked_in(At("2026-03-09T00:00:00Z") + 1, kNow);
  EXPECT_EQ(after.count(name), 0u) << "something booked at the shortening";
}

TEST(ShiftSupersessionTest, BypassSeesWhoIsOnCallAfterSupersession) {
  auto directory = testing::LoadDirectory(kDir + "config.toml");
  ContextSwitching projection{Settings{}};
  const auto acc = testing::Run(projection, directory, Events(), kNow);
  testing::ExpectMetrics(acc, kDir + "expected_context_switching.txt");
}

// Message by message (see expected_context_switching.txt): the bypass count after each DM.
// This pins which DM counts, which the total alone cannot (two mistakes could cancel out).
TEST(ShiftSupersessionTest, BypassMessageByMessage) {
  ContextSwitching projection{Settings{}};
  auto pipeline =
      testing::BorrowingPipeline(projection, testing::LoadDirectory(kDir + "config.toml"));
  const auto events = Events();
  for (const auto& e : events) pipeline->Preload(e);
  Accumulator acc;
  std::vector<std::string> bypassed;  // "<recipient> <time>" of each DM that was a bypass
  double before = 0;
  const std::string name = "teamhealth_oncall_bypass_total";
  for (const auto& e : events) {
    pipeline->Apply(e, acc);
    if (e.type() != "chat.message") continue;
    double now = 0;
    if (auto it = acc.counters().find(name); it != acc.counters().end()) {
      for (const auto& [_, v] : it->second) now += v;
    }
    if (now > before) bypassed.push_back(std::string(ListAttr(e, "recipients")[0]) + " " +
                                         FormatRfc3339(e.occurred_at_ms()));
    before = now;
  }
  EXPECT_EQ(bypassed, (std::vector<std::string>{
                          "slack:UCAROL 2026-03-02T10:00:00.000Z",  // M5
                          "slack:UALICE 2026-03-02T13:30:00.000Z",  // M1
                          "slack:UALICE 2026-03-02T14:00:00.000Z",  // M2
                          "slack:UBOB 2026-03-02T17:00:00.000Z",    // M6
                          "slack:UCAROL 2026-03-02T19:00:00.000Z",  // M4
                          "slack:UBOB 2026-03-03T16:00:00.000Z",    // T2
                          "slack:UCAROL 2026-03-16T10:00:00.000Z",  // W1
                      }));
}

TEST(ShiftSupersessionTest, BurnoutShareUsesThePictureAfterSupersession) {
  auto directory = testing::LoadDirectory(kDir + "config.toml");
  Burnout projection{Settings{}};
  const auto acc = testing::Run(projection, directory, Events(), kNow);
  testing::ExpectMetrics(acc, kDir + "expected_burnout.txt");
  auto share = [&](const char* who) {
    return projection.SignalsOf(who, kNow, directory).oncall_share_28d;
  };
  constexpr double kHourShare = 1.0 / 24 / 28;
  EXPECT_DOUBLE_EQ(share("slack:UCAROL"), 6.0 / 28);            // 8 days, the last 2 to bob
  EXPECT_DOUBLE_EQ(share("slack:UALICE"), (16 + 48) * kHourShare);  // 4 x 4 h + level 2
  EXPECT_DOUBLE_EQ(share("slack:UBOB"), (2 * 24 + 4) * kHourShare);
  EXPECT_DOUBLE_EQ(share("slack:UDAVE"), 3 * kHourShare);  // 1 h level 2 + 2 h level 1
  EXPECT_DOUBLE_EQ(share("slack:USAM"), 2 * kHourShare);
  // 25 days later the window (03-17, 04-14] holds nothing of carol's 03-09..03-15.
  EXPECT_DOUBLE_EQ(projection.SignalsOf("slack:UCAROL", kNow + 25 * kDay, directory)
                       .oncall_share_28d,
                   0);
}

// Every property the projections' own golden scenarios check, on this one too.
TEST(ShiftSupersessionTest, ResumingAnywhereAndReplayingGiveTheSameState) {
  const std::vector<testing::ProjectionFactory> makers = {
      [] { return std::make_unique<OncallLoad>(Settings{}); },
      [] { return std::make_unique<ContextSwitching>(Settings{}); },
      [] { return std::make_unique<Burnout>(Settings{}); }};
  for (const auto& make : makers) {
    testing::ExpectResumingAnywhereMatchesOnePass(make, kDir, kNow);
    testing::ExpectReplayIsDeterministic(make, kDir, kNow);
  }
}

}  // namespace
}  // namespace teamhealth::projections
