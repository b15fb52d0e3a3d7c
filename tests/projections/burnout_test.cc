// Golden scenario and properties of the burnout projection.
#include "teamhealth/projections/burnout.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "scenario.h"
#include "teamhealth/base/time.h"
#include "teamhealth/projections/event_access.h"
#include "teamhealth/projections/time_off_book.h"

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
  for (const char* type : {"work_item.created", "oncall.shift", "person.time_off"}) {
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
  std::string after_first_prune;
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
    if (i == 10'000) after_first_prune = p.Save();
  }
  EXPECT_LE(p.Save().size(), size_after_60_days + 16);
  // The prune every 10,000 events forgot the person, the closed item and the time off; the
  // first prune (Jul 19, 2025) left the time off's tombstone (subject ONCE-1, no person), the
  // second dropped it: its horizon, Dec 02, 2024 10:00 (recorded after its Dec 02 00:00 end)
  // + 400 d = Jan 06, 2026 10:00, is before that prune's cut, Feb 04, 2026 10:49 - 29 d.
  EXPECT_EQ(after_first_prune.find("slack:UONCE"), std::string::npos);
  EXPECT_NE(after_first_prune.find("ONCE-1"), std::string::npos);
  EXPECT_EQ(p.Save().find("slack:UONCE"), std::string::npos);
  EXPECT_EQ(p.Save().find("ONCE-1"), std::string::npos);
  const auto s = p.SignalsOf("slack:UBUSY", start + 399 * kDay, pipeline->directory());
  EXPECT_EQ(s.activities_14d, 14 * 50);
  EXPECT_GE(s.no_rest_streak, 12);  // capped by what is kept, always over the threshold
}

// ---- Worked time off (tests/projections/time_off/) ------------------------------------------

// The scenario's person.time_off lines go through the canonical source like every scenario
// event, so these tests need it to accept the type and the subject kind time_off.
const std::string kTimeOffDir = std::string(TEAMHEALTH_PROJECTION_TESTS) + "/time_off/";

TEST(BurnoutTimeOffTest, GoldenScenario) {
  auto directory = testing::LoadDirectory(kTimeOffDir + "config.toml");
  Burnout projection{Settings{}};
  const auto events = testing::LoadEvents(kTimeOffDir + "events.jsonl");
  const auto acc = testing::Run(projection, directory, events, kNow);
  testing::ExpectMetrics(acc, kTimeOffDir + "expected.txt");
}

// The day counts behind the golden verdicts (expected.txt has the arithmetic).
TEST(BurnoutTimeOffTest, GoldenScenarioSignalValues) {
  auto directory = testing::LoadDirectory(kTimeOffDir + "config.toml");
  Burnout p{Settings{}};
  testing::Run(p, directory, testing::LoadEvents(kTimeOffDir + "events.jsonl"), kNow);
  auto days = [&](const char* who, EpochMillis now = kNow) {
    return p.SignalsOf(who, now, directory).time_off_worked_days_28d;
  };
  EXPECT_EQ(days("slack:UTOM"), 3);  // local Mar 28, 29, 30 in Berlin, across the DST change
  EXPECT_EQ(days("slack:UANN"), 0);  // cancelled
  EXPECT_EQ(days("slack:UBOB"), 1);  // the extension
  EXPECT_EQ(days("slack:UCAT"), 1);  // the page, not the chat message
  EXPECT_EQ(days("slack:UDAN"), 0);
  EXPECT_EQ(days("slack:UEVE"), 1);  // the newer version, though applied first
  EXPECT_EQ(days("slack:UFAY"), 0);  // handed to gus
  EXPECT_EQ(days("slack:UGUS"), 1);
  EXPECT_EQ(days("slack:UHAL"), 1);  // recorded after the fact: the signal knows
  // The window trails now: on Apr 21 (local days Mar 25..Apr 21) eve's Mar 21 and hal's
  // Mar 15 are gone, tom's Mar 28..30 stay; on Mar 28 12:00Z tom's Mar 29 and 30 are future.
  EXPECT_EQ(days("slack:UEVE", kNow + 20 * kDay), 0);
  EXPECT_EQ(days("slack:UHAL", kNow + 20 * kDay), 0);
  EXPECT_EQ(days("slack:UTOM", kNow + 20 * kDay), 3);
  EXPECT_EQ(days("slack:UTOM", At("2026-03-28T12:00:00Z")), 1);
}

TEST(BurnoutTimeOffTest, ResumingFromSavedStateAfterAnyEventGivesTheSameMetrics) {
  testing::ExpectResumingAnywhereMatchesOnePass(
      [] { return std::make_unique<Burnout>(Settings{}); }, kTimeOffDir, kNow);
}

TEST(BurnoutTimeOffTest, ReplayingTheScenarioTwiceGivesIdenticalState) {
  testing::ExpectReplayIsDeterministic([] { return std::make_unique<Burnout>(Settings{}); },
                                       kTimeOffDir, kNow);
}

TEST(BurnoutTimeOffTest, LoadRejectsCorruptState) {
  auto directory = testing::LoadDirectory(kTimeOffDir + "config.toml");
  Burnout applied{Settings{}};
  testing::Run(applied, directory, testing::LoadEvents(kTimeOffDir + "events.jsonl"), kNow);
  const std::string good = applied.Save();
  Burnout p{Settings{}};
  ASSERT_TRUE(p.Load(good));
  EXPECT_EQ(p.Save(), good);
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(p.Load(good.substr(0, n))) << "truncated to " << n;
  }
  EXPECT_FALSE(p.Load(good + "x"));
  EXPECT_EQ(p.Save(), good);
  EXPECT_EQ(p.SignalsOf("slack:UTOM", kNow, directory).time_off_worked_days_28d, 3);
}

// A person.time_off version of `subject` (HR-1) for `person` (slack:UA).
schema::Event TimeOffEvent(const std::string& id, EpochMillis at, EpochMillis start,
                           EpochMillis end, bool cancelled = false,
                           const std::string& subject = "HR-1",
                           const std::string& person = "slack:UA") {
  schema::Event e;
  e.set_id(id);
  e.set_source("canonical");
  e.set_type("person.time_off");
  e.set_occurred_at_ms(at);
  e.mutable_subject()->set_kind("time_off");
  e.mutable_subject()->set_id(subject);
  auto add = [&](const char* name) {
    auto* a = e.add_attrs();
    a->set_name(name);
    return a->mutable_value();
  };
  add("cancelled")->set_bool_value(cancelled);
  add("end")->set_int_value(end);
  add("person")->set_string_value(person);
  add("start")->set_int_value(start);
  return e;
}

// The latest occurred_at wins (ties: the greater event id), in every order of application; a
// winner with end <= start or cancelled removes the time off.
TEST(TimeOffBookTest, TheLatestVersionWinsWhateverTheOrder) {
  const EpochMillis d = At("2026-03-10T00:00:00Z");
  std::vector<schema::Event> versions = {
      TimeOffEvent("canonical:a", d, d + 1 * kDay, d + 3 * kDay),
      TimeOffEvent("canonical:c", d + 5, d + 2 * kDay, d + 4 * kDay),  // the winner
      TimeOffEvent("canonical:b", d + 5, d + 6 * kDay, d + 7 * kDay),  // same instant, id b < c
      TimeOffEvent("canonical:0", d + 1, d, d + 9 * kDay, true),
  };
  std::vector<size_t> order = {0, 1, 2, 3};
  std::string first;
  do {
    TimeOffBook book;
    for (size_t i : order) {
      auto v = TimeOffOf(versions[i]);
      ASSERT_TRUE(v.has_value());
      book.Apply(v->first, v->second);
    }
    EXPECT_EQ(book.Of("slack:UA"),
              (TimeOffBook::Intervals{{d + 2 * kDay, d + 4 * kDay}}));
    if (first.empty()) first = book.Save();
    EXPECT_EQ(book.Save(), first);
  } while (std::next_permutation(order.begin(), order.end()));

  TimeOffBook book;
  for (const auto& e : versions) book.Apply(TimeOffOf(e)->first, TimeOffOf(e)->second);
  EXPECT_TRUE(book.Covers("slack:UA", d + 2 * kDay));
  EXPECT_FALSE(book.Covers("slack:UA", d + 4 * kDay));  // end excluded
  EXPECT_FALSE(book.Covers("slack:UB", d + 3 * kDay));
  // A later version with end <= start means the time off no longer exists; so does cancelled.
  auto empty = TimeOffOf(TimeOffEvent("canonical:z", d + 9, d + 4 * kDay, d + 4 * kDay));
  book.Apply(empty->first, empty->second);
  EXPECT_TRUE(book.Of("slack:UA").empty());
  auto back = TimeOffOf(TimeOffEvent("canonical:z2", d + 10, d, d + kDay));
  book.Apply(back->first, back->second);
  EXPECT_EQ(book.Of("slack:UA"), (TimeOffBook::Intervals{{d, d + kDay}}));
  auto cancelled = TimeOffOf(TimeOffEvent("canonical:z3", d + 11, d, d + kDay, true));
  book.Apply(cancelled->first, cancelled->second);
  EXPECT_FALSE(book.Covers("slack:UA", d));
  // Pruned once it ended: the versions are forgotten, but the winner's tombstone still makes
  // an older version lose; it goes 400 days after the winner's end (d + kDay).
  book.Prune(d + kDay);
  book.Apply(TimeOffOf(versions[0])->first, TimeOffOf(versions[0])->second);
  EXPECT_TRUE(book.Of("slack:UA").empty());
  EXPECT_NE(book.Save(), TimeOffBook{}.Save());
  book.Prune(d + kDay + TimeOffBook::kTombstoneMs);
  EXPECT_EQ(book.Save(), TimeOffBook{}.Save());
}

TEST(TimeOffBookTest, LoadRejectsCorruptBytes) {
  TimeOffBook book;
  const EpochMillis d = At("2026-03-10T00:00:00Z");
  auto v = TimeOffOf(TimeOffEvent("canonical:a", d, d, d + kDay));
  book.Apply(v->first, v->second);
  // HR-2 ended before the cut: it leaves a tombstone next to HR-1's version.
  auto gone = TimeOffOf(TimeOffEvent("canonical:b", d - 3 * kDay, d - 3 * kDay, d - 2 * kDay,
                                     false, "HR-2"));
  book.Apply(gone->first, gone->second);
  book.Prune(d);
  const std::string good = book.Save();
  TimeOffBook other;
  ASSERT_TRUE(other.Load(good));
  EXPECT_EQ(other.Save(), good);
  for (size_t n = 0; n < good.size(); ++n) EXPECT_FALSE(other.Load(good.substr(0, n))) << n;
  EXPECT_FALSE(other.Load(good + "x"));
  EXPECT_EQ(other.Save(), good);
  EXPECT_TRUE(other.Covers("slack:UA", d));
  // The loaded tombstone still beats an older version of HR-2.
  auto older = TimeOffOf(TimeOffEvent("canonical:0", d - 4 * kDay, d, d + 9 * kDay, false,
                                      "HR-2"));
  other.Apply(older->first, older->second);
  EXPECT_EQ(other.Save(), good);
}

// v1 (recorded Jan 10) says Feb 01 - Jun 01; v2 (recorded Jan 20) shortens it to Feb 01 - 03.
// In event-time order v2 wins and v1 never matters. Live, v2 may be pruned (cut Feb 09: it
// ended Feb 03) before v1 arrives from a late import; v2's tombstone (Jan 20, canonical:v2)
// makes v1 lose, so April is not off in either order and both books are the same bytes.
// Without the tombstone v1 came back: off until Jun 01.
TEST(TimeOffBookTest, APrunedWinnerStillBeatsOlderVersions) {
  const EpochMillis feb1 = At("2026-02-01T00:00:00Z");
  auto v1 = TimeOffOf(
      TimeOffEvent("canonical:v1", At("2026-01-10T00:00:00Z"), feb1, At("2026-06-01T00:00:00Z")));
  auto v2 = TimeOffOf(TimeOffEvent("canonical:v2", At("2026-01-20T00:00:00Z"), feb1,
                                   feb1 + 2 * kDay));
  const EpochMillis cut = At("2026-02-09T00:00:00Z");
  TimeOffBook ordered;
  ordered.Apply(v1->first, v1->second);
  ordered.Apply(v2->first, v2->second);
  ordered.Prune(cut);
  TimeOffBook live;
  live.Apply(v2->first, v2->second);
  live.Prune(cut);
  live.Apply(v1->first, v1->second);
  const EpochMillis april = At("2026-04-15T10:00:00Z");
  EXPECT_FALSE(ordered.Covers("slack:UA", april));
  EXPECT_FALSE(live.Covers("slack:UA", april)) << "v1 came back after v2 was pruned";
  EXPECT_EQ(live.Save(), ordered.Save());

  // A later version replaces the tombstone like any winner.
  TimeOffBook moved = live;
  auto v3 = TimeOffOf(TimeOffEvent("canonical:v3", At("2026-03-01T00:00:00Z"),
                                   At("2026-03-02T00:00:00Z"), At("2026-03-05T00:00:00Z")));
  moved.Apply(v3->first, v3->second);
  EXPECT_EQ(moved.Of("slack:UA"), (TimeOffBook::Intervals{{v3->second.start, v3->second.end}}));

  // The tombstone lasts until 400 days after the later of v2's end (Feb 03) and its
  // occurred_at (Jan 20): a cut one millisecond before keeps it, a cut at it forgets it (the
  // documented limit: v1 applied after that would come back).
  const EpochMillis until = feb1 + 2 * kDay + TimeOffBook::kTombstoneMs;
  const std::string with_tombstone = live.Save();
  live.Prune(until - 1);
  EXPECT_EQ(live.Save(), with_tombstone);
  live.Prune(until);
  EXPECT_EQ(live.Save(), TimeOffBook{}.Save());
}

// A work activity of `actor` at `at` (on work item Q-1).
schema::Event WorkEvent(const std::string& actor, const std::string& id, EpochMillis at) {
  schema::Event e;
  e.set_id("jira:" + id);
  e.set_source("jira");
  e.set_type("work_item.commented");
  e.set_occurred_at_ms(at);
  e.set_actor(actor);
  e.mutable_subject()->set_kind("work_item");
  e.mutable_subject()->set_id("Q-1");
  return e;
}

// Applies 10,000 work events of slack:UB at `at`: enough to make Burnout prune (every 10,000
// applied events, by the time of the event that triggers it).
void PruneAt(Pipeline& pipeline, Accumulator& acc, EpochMillis at) {
  for (int i = 0; i < 10'000; ++i) {
    pipeline.Apply(WorkEvent("slack:UB", "filler" + std::to_string(i), at), acc);
  }
}

// The time off scenario of APrunedWinnerStillBeatsOlderVersions through the projection, in
// log order, with a restart from saved state between the prune and the late import: v2 (Feb
// 01 - 03) is pruned by events of Mar 10 (cut Feb 09), then v1 (Feb 01 - Jun 01, recorded
// earlier) arrives. a's work on Apr 15 is not in a time off, so neither the counter nor the
// signal sees it, as in event-time order; b's, inside b's own Apr 14 - 16, is the positive
// control. Counter 1 (b), signals a 0, b 1; without the tombstone: counter 2, a 1.
TEST(BurnoutTimeOffTest, APrunedShorteningIsNotUndoneByALateOlderVersion) {
  const DirectoryView directory({}, {}, WorkPattern{});
  Burnout before{Settings{}};
  auto pipeline = testing::BorrowingPipeline(before, directory);
  Accumulator acc;
  const EpochMillis feb1 = At("2026-02-01T00:00:00Z");
  pipeline->Apply(TimeOffEvent("canonical:v2", At("2026-01-20T00:00:00Z"), feb1, feb1 + 2 * kDay),
                  acc);
  PruneAt(*pipeline, acc, At("2026-03-10T10:00:00Z"));

  // Restart: the tombstone and the prune horizon are state; corrupt state is still rejected.
  const std::string saved = before.Save();
  Burnout p{Settings{}};
  ASSERT_TRUE(p.Load(saved));
  EXPECT_EQ(p.Save(), saved);
  for (size_t n = 0; n < saved.size(); ++n) EXPECT_FALSE(p.Load(saved.substr(0, n))) << n;
  EXPECT_FALSE(p.Load(saved + "x"));
  EXPECT_EQ(p.Save(), saved);
  pipeline = testing::BorrowingPipeline(p, directory);

  pipeline->Apply(
      TimeOffEvent("canonical:v1", At("2026-01-10T00:00:00Z"), feb1, At("2026-06-01T00:00:00Z")),
      acc);
  pipeline->Apply(WorkEvent("slack:UA", "a", At("2026-04-15T10:00:00Z")), acc);
  pipeline->Apply(TimeOffEvent("canonical:b", At("2026-04-01T00:00:00Z"),
                               At("2026-04-14T00:00:00Z"), At("2026-04-16T00:00:00Z"), false,
                               "HR-2", "slack:UB"),
                  acc);
  pipeline->Apply(WorkEvent("slack:UB", "b", At("2026-04-15T10:00:00Z")), acc);
  EXPECT_EQ(testing::CounterValue(acc, "teamhealth_time_off_worked_days_total",
                                  MakeLabels({{"team", "unmapped"}})),
            1);
  const EpochMillis now = At("2026-04-16T12:00:00Z");
  EXPECT_EQ(p.SignalsOf("slack:UA", now, pipeline->directory()).time_off_worked_days_28d, 0);
  EXPECT_EQ(p.SignalsOf("slack:UB", now, pipeline->directory()).time_off_worked_days_28d, 1);
}

// A worked day of time off counts once, even when Prune dropped it before a late event of
// the same day. a is off Mar 01 - 31 and works Mar 10 (counted: 1). Events of Apr 20 prune:
// local days before Apr 20 - 36 = Mar 15 go (35 kept, a day of slack), Mar 10 and with it
// a's "counted" mark; the time off stays (ends Mar 31, after the cut Apr 20 - 29 d = Mar 22).
// After a restart from saved state, a late event of Mar 10 must not count Mar 10 again
// (without the horizon: 2), while Mar 20, after the horizon and never counted, still does: 2.
TEST(BurnoutTimeOffTest, AWorkedDayIsCountedOnceEvenAfterPruneDroppedIt) {
  const DirectoryView directory({}, {}, WorkPattern{});
  Burnout before{Settings{}};
  auto pipeline = testing::BorrowingPipeline(before, directory);
  Accumulator acc;
  const auto team = MakeLabels({{"team", "unmapped"}});
  pipeline->Apply(TimeOffEvent("canonical:off", At("2026-02-20T00:00:00Z"),
                               At("2026-03-01T00:00:00Z"), At("2026-03-31T00:00:00Z")),
                  acc);
  pipeline->Apply(WorkEvent("slack:UA", "w1", At("2026-03-10T10:00:00Z")), acc);
  EXPECT_EQ(testing::CounterValue(acc, "teamhealth_time_off_worked_days_total", team), 1);
  PruneAt(*pipeline, acc, At("2026-04-20T10:00:00Z"));

  Burnout p{Settings{}};
  ASSERT_TRUE(p.Load(before.Save()));
  pipeline = testing::BorrowingPipeline(p, directory);
  pipeline->Apply(WorkEvent("slack:UA", "w2", At("2026-03-10T11:00:00Z")), acc);
  EXPECT_EQ(testing::CounterValue(acc, "teamhealth_time_off_worked_days_total", team), 1)
      << "Mar 10 counted twice";
  pipeline->Apply(WorkEvent("slack:UA", "w3", At("2026-03-20T10:00:00Z")), acc);
  EXPECT_EQ(testing::CounterValue(acc, "teamhealth_time_off_worked_days_total", team), 2);
}

// The counter decides at the exact instant (start <= t < end); the signal at the quarter hour
// (header: exact for time offs on quarter-hour bounds). Work at 10:01 before a time off that
// begins at 10:07 is not counted, yet the signal, which kept only "10:00-10:15 worked", counts
// it; work at 09:59 is outside for both.
TEST(BurnoutTimeOffTest, OffQuarterBoundsAreExactForTheCounterAndRoundedForTheSignal) {
  Burnout p{Settings{}};
  auto pipeline = testing::BorrowingPipeline(p, testing::LoadDirectory(kDir + "config.toml"));
  Accumulator acc;
  const EpochMillis day = At("2026-03-30T00:00:00Z");
  auto work = [&](const std::string& id, EpochMillis at) {
    schema::Event e;
    e.set_id("jira:" + id);
    e.set_source("jira");
    e.set_type("work_item.commented");
    e.set_occurred_at_ms(at);
    e.set_actor("slack:UA");
    e.mutable_subject()->set_kind("work_item");
    e.mutable_subject()->set_id("Q-1");
    pipeline->Apply(e, acc);
  };
  work("a", day + 9 * 3'600'000 + 59 * 60'000);  // 09:59, a quarter hour before: never
  work("b", day + 10 * 3'600'000 + 60'000);       // 10:01, before 10:07
  schema::Event off = TimeOffEvent("canonical:q", day, day + 10 * 3'600'000 + 7 * 60'000,
                                   day + 2 * kDay);
  pipeline->Apply(off, acc);
  work("c", day + 10 * 3'600'000 + 2 * 60'000);  // 10:02, still before 10:07
  testing::ExpectNoSeries(acc, "teamhealth_time_off_worked_days_total",
                          MakeLabels({{"team", "unmapped"}}));
  EXPECT_EQ(p.SignalsOf("slack:UA", kNow, pipeline->directory()).time_off_worked_days_28d, 1);
  work("d", day + kDay);  // Mar 31 00:00, inside
  EXPECT_EQ(testing::CounterValue(acc, "teamhealth_time_off_worked_days_total",
                                  MakeLabels({{"team", "unmapped"}})),
            1);
  EXPECT_EQ(p.SignalsOf("slack:UA", kNow, pipeline->directory()).time_off_worked_days_28d, 2);
}

}  // namespace
}  // namespace teamhealth::projections
