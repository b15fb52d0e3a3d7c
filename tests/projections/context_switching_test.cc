// Golden scenario and properties of the context_switching projection.
#include "teamhealth/projections/context_switching.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "scenario.h"
#include "teamhealth/projections/event_access.h"

namespace teamhealth::projections {
namespace {

const std::string kDir = std::string(TEAMHEALTH_PROJECTION_TESTS) + "/context_switching/";
// Sender teams under a cap of 2 ([privacy] max_sender_teams in its config.toml) and project
// switches.
const std::string kSenderDir = std::string(TEAMHEALTH_PROJECTION_TESTS) + "/sender_teams/";
constexpr EpochMillis kNow = 1775001600000;  // 2026-04-01T00:00:00Z
constexpr EpochMillis kMinute = 60'000;
constexpr EpochMillis kDay = 86'400'000;

EpochMillis At(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }

schema::Event Activity(const std::string& actor, const std::string& subject_id, EpochMillis at,
                       const std::string& kind = "work_item") {
  schema::Event e;
  e.set_id("jira:" + actor + ":" + subject_id + ":" + std::to_string(at));
  e.set_source("jira");
  e.set_type(kind == "work_item" ? "work_item.commented" : kind + ".commented");
  e.set_occurred_at_ms(at);
  e.set_actor(actor);
  e.mutable_subject()->set_kind(kind);
  e.mutable_subject()->set_id(subject_id);
  return e;
}

// A shift on the person's own schedule, so that shifts of different people never supersede
// each other here (tests/projections/shift_supersession_test.cc is about that).
schema::Event Shift(const std::string& person, EpochMillis start, EpochMillis end) {
  schema::Event e;
  e.set_id("canonical:shift:" + person + ":" + std::to_string(start));
  e.set_source("canonical");
  e.set_type("oncall.shift");
  e.set_occurred_at_ms(start);
  e.mutable_subject()->set_kind("schedule");
  e.mutable_subject()->set_id("S-" + person);
  auto* a = e.add_attrs();
  a->set_name("end");
  a->mutable_value()->set_int_value(end);
  a = e.add_attrs();
  a->set_name("person");
  a->mutable_value()->set_string_value(person);
  a = e.add_attrs();
  a->set_name("start");
  a->mutable_value()->set_int_value(start);
  return e;
}

DirectoryView EmptyDirectory() { return DirectoryView({}, {}, WorkPattern{}); }

// A missing series fails the test (it is not zero): see testing::CounterValue.
double Counter(const Accumulator& acc, const std::string& name, const Labels& labels) {
  return testing::CounterValue(acc, name, labels);
}

Accumulator RunEvents(ContextSwitching& p, const std::vector<schema::Event>& events) {
  auto directory = EmptyDirectory();
  return testing::Run(p, directory, events, kNow);
}

TEST(ContextSwitchingTest, GoldenScenario) {
  auto directory = testing::LoadDirectory(kDir + "config.toml");
  ContextSwitching projection{Settings{}};
  const auto events = testing::LoadEvents(kDir + "events.jsonl");
  const auto acc = testing::Run(projection, directory, events, kNow);
  testing::ExpectMetrics(acc, kDir + "expected.txt");
}

// Same scenario with switch_cost_minutes = 10: focus lost is (switches + business direct
// interruptions) x 600 s; the counts (see expected.txt) are 20 payments, 6 search, 1 unmapped.
TEST(ContextSwitchingTest, FocusLostUsesTheConfiguredSwitchCost) {
  auto directory = testing::LoadDirectory(kDir + "config.toml");
  Settings settings;
  settings.switch_cost_minutes = 10;
  ContextSwitching projection{settings};
  const auto acc =
      testing::Run(projection, directory, testing::LoadEvents(kDir + "events.jsonl"), kNow);
  const std::string name = "teamhealth_focus_lost_seconds_total";
  EXPECT_DOUBLE_EQ(Counter(acc, name, MakeLabels({{"team", "payments"}})), 20 * 600);
  EXPECT_DOUBLE_EQ(Counter(acc, name, MakeLabels({{"team", "search"}})), 6 * 600);
  EXPECT_DOUBLE_EQ(Counter(acc, name, MakeLabels({{"team", "unmapped"}})), 1 * 600);
  EXPECT_DOUBLE_EQ(
      Counter(acc, "teamhealth_context_switches_total", MakeLabels({{"team", "payments"}})), 6);
}

// Stopping after any event and resuming from saved state gives the same result as one pass.
TEST(ContextSwitchingTest, ResumingFromSavedStateAfterAnyEventGivesTheSameMetrics) {
  testing::ExpectResumingAnywhereMatchesOnePass(
      [] { return std::make_unique<ContextSwitching>(Settings{}); }, kDir, kNow);
}

// The log never holds duplicate ids; replaying it from scratch must give identical state.
TEST(ContextSwitchingTest, ReplayingTheLogFromScratchGivesIdenticalState) {
  testing::ExpectReplayIsDeterministic(
      [] { return std::make_unique<ContextSwitching>(Settings{}); }, kDir, kNow);
}

// The state after the whole scenario in `dir`, run with `settings`.
std::string StateAfter(const std::string& dir, const Settings& settings) {
  auto directory = testing::LoadDirectory(dir + "config.toml");
  ContextSwitching p{settings};
  testing::Run(p, directory, testing::LoadEvents(dir + "events.jsonl"), kNow);
  return p.Save();
}

void ExpectLoadRejectsCorruptState(const std::string& dir, const Settings& settings) {
  const std::string good = StateAfter(dir, settings);
  ContextSwitching q{settings};
  EXPECT_FALSE(q.Load("\xff\xff"));
  EXPECT_FALSE(q.Load(""));
  EXPECT_FALSE(q.Load(good + "x"));  // trailing bytes
  std::string wrong_format = good;
  wrong_format[0] = 9;
  EXPECT_FALSE(q.Load(wrong_format));
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(q.Load(good.substr(0, n))) << "prefix of " << n << " bytes";
  }
  // A failed Load leaves the state as it was.
  const std::string fresh = ContextSwitching{settings}.Save();
  EXPECT_EQ(q.Save(), fresh);
  ASSERT_TRUE(q.Load(good));
  EXPECT_FALSE(q.Load(good.substr(0, good.size() / 2)));
  EXPECT_EQ(q.Save(), good);
}

TEST(ContextSwitchingTest, LoadRejectsCorruptState) {
  ExpectLoadRejectsCorruptState(kDir, Settings{});
}

// The same over a state that holds projects and admitted sender teams (its tail).
TEST(ContextSwitchingTest, LoadRejectsCorruptStateWithSenderTeams) {
  ExpectLoadRejectsCorruptState(kSenderDir, testing::LoadSettings(kSenderDir + "config.toml"));
}

// Admitted sender teams are never more than the cap: a state holding two for payments is not
// one that a projection capped at one could have written.
TEST(ContextSwitchingTest, LoadRejectsMoreSenderTeamsThanTheCap) {
  const Settings two = testing::LoadSettings(kSenderDir + "config.toml");
  ASSERT_EQ(two.max_sender_teams, 2);
  const std::string state = StateAfter(kSenderDir, two);
  Settings one = two;
  one.max_sender_teams = 1;
  ContextSwitching capped_at_one{one};
  EXPECT_FALSE(capped_at_one.Load(state));
  ContextSwitching capped_at_two{two};
  EXPECT_TRUE(capped_at_two.Load(state));
}

TEST(ContextSwitchingTest, SenderTeamsGoldenScenario) {
  const Settings settings = testing::LoadSettings(kSenderDir + "config.toml");
  ASSERT_EQ(settings.max_sender_teams, 2);
  auto directory = testing::LoadDirectory(kSenderDir + "config.toml");
  ContextSwitching projection{settings};
  const auto events = testing::LoadEvents(kSenderDir + "events.jsonl");
  const auto acc = testing::Run(projection, directory, events, kNow);
  testing::ExpectMetrics(acc, kSenderDir + "expected.txt");
}

// The cap is the setting: with the default (20) the sender teams that were "other" under a
// cap of 2 are reported by name (see sender_teams/expected.txt).
TEST(ContextSwitchingTest, SenderTeamCapComesFromSettings) {
  auto directory = testing::LoadDirectory(kSenderDir + "config.toml");
  ContextSwitching projection{Settings{}};
  const auto acc = testing::Run(
      projection, directory, testing::LoadEvents(kSenderDir + "events.jsonl"), kNow);
  const std::string name = "teamhealth_direct_interruptions_by_sender_team_total";
  auto from = [](const char* sender_team) {
    return MakeLabels({{"sender_team", sender_team}, {"team", "payments"}});
  };
  EXPECT_EQ(Counter(acc, name, from("support")), 2);   // M1, M8
  EXPECT_EQ(Counter(acc, name, from("search")), 1);    // M3
  EXPECT_EQ(Counter(acc, name, from("sales")), 3);     // M4, M11 x2
  EXPECT_EQ(Counter(acc, name, from("soc")), 2);       // M9 x2
  EXPECT_EQ(Counter(acc, name, from("payments")), 1);  // M12
  EXPECT_EQ(Counter(acc, name, from("unmapped")), 2);  // M2, M10
  testing::ExpectNoSeries(acc, name, from("other"));
}

TEST(ContextSwitchingTest, SenderTeamsResumingFromSavedStateAfterAnyEventGivesTheSameMetrics) {
  const Settings settings = testing::LoadSettings(kSenderDir + "config.toml");
  testing::ExpectResumingAnywhereMatchesOnePass(
      [settings] { return std::make_unique<ContextSwitching>(settings); }, kSenderDir, kNow);
}

TEST(ContextSwitchingTest, SenderTeamsReplayingTheLogFromScratchGivesIdenticalState) {
  const Settings settings = testing::LoadSettings(kSenderDir + "config.toml");
  testing::ExpectReplayIsDeterministic(
      [settings] { return std::make_unique<ContextSwitching>(settings); }, kSenderDir, kNow);
}

// The sender-teams log, split after M3 (payments has then admitted support and search).
struct SenderLog {
  std::vector<schema::Event> events, first, rest;
};
SenderLog LoadSenderLog() {
  SenderLog log;
  log.events = testing::LoadEvents(kSenderDir + "events.jsonl");
  const auto m3 = std::find_if(log.events.begin(), log.events.end(),
                               [](const schema::Event& e) { return e.id() == "slack:m3"; });
  EXPECT_NE(m3, log.events.end());
  log.first.assign(log.events.begin(), std::next(m3));
  log.rest.assign(std::next(m3), log.events.end());
  return log;
}

// `part` of the log applied to `p` through a pipeline that preloaded the whole directory
// history.
Accumulator RunSenderPart(ContextSwitching& p, const SenderLog& log,
                          const std::vector<schema::Event>& part) {
  auto pipeline = testing::BorrowingPipeline(p, testing::LoadDirectory(kSenderDir + "config.toml"));
  for (const auto& e : log.events) pipeline->Preload(e);
  Accumulator acc;
  for (const auto& e : part) pipeline->Apply(e, acc);
  return acc;
}

// The by-sender-team series of payments from `sender_team`.
Labels FromSenderTeam(const char* sender_team) {
  return MakeLabels({{"sender_team", sender_team}, {"team", "payments"}});
}

// The admitted sender teams are state: saved once payments has admitted support and search
// (after M3), a restarted projection still counts sales (M4) as "other". Without that state
// the rest of the log alone would admit sales, so this fails if the set is not saved.
TEST(ContextSwitchingTest, SenderTeamCapIsKeptAcrossSaveAndLoad) {
  const Settings settings = testing::LoadSettings(kSenderDir + "config.toml");
  const SenderLog log = LoadSenderLog();
  ContextSwitching before{settings};
  RunSenderPart(before, log, log.first);
  ContextSwitching resumed{settings};
  ASSERT_TRUE(resumed.Load(before.Save()));
  const auto after_restart = RunSenderPart(resumed, log, log.rest);
  ContextSwitching without_state{settings};
  const auto rest_alone = RunSenderPart(without_state, log, log.rest);

  const std::string name = "teamhealth_direct_interruptions_by_sender_team_total";
  const auto from = FromSenderTeam;
  // After the restart: M4, M9 x2, M11 x2, M12 are other; M8 support.
  EXPECT_EQ(Counter(after_restart, name, from("other")), 6);
  EXPECT_EQ(Counter(after_restart, name, from("support")), 1);
  testing::ExpectNoSeries(after_restart, name, from("sales"));
  // Alone, the rest admits sales (M4) and support (M8) and has soc and payments as other.
  EXPECT_EQ(Counter(rest_alone, name, from("sales")), 3);
  EXPECT_EQ(Counter(rest_alone, name, from("other")), 3);
}

// The projection remembers, per pair of teams, the label a sender team was given (a cache,
// not state). Loading another state into the same object must forget it: after the whole log
// has counted sales (M4) as "other" for payments, loading a fresh state and applying the rest
// again admits sales, exactly as a new object does (the test above: 3 sales, 3 other).
TEST(ContextSwitchingTest, LoadingAStateForgetsTheSenderTeamLabelsGivenBefore) {
  const Settings settings = testing::LoadSettings(kSenderDir + "config.toml");
  const SenderLog log = LoadSenderLog();
  ContextSwitching p{settings};
  const auto whole = RunSenderPart(p, log, log.events);
  const std::string name = "teamhealth_direct_interruptions_by_sender_team_total";
  const auto from = FromSenderTeam;
  testing::ExpectNoSeries(whole, name, from("sales"));  // sales came third: other
  ASSERT_TRUE(p.Load(ContextSwitching{settings}.Save()));
  const auto again = RunSenderPart(p, log, log.rest);
  EXPECT_EQ(Counter(again, name, from("sales")), 3);  // M4, M11 x2
  EXPECT_EQ(Counter(again, name, from("other")), 3);  // M9 x2, M12
}

// p's two activities are 45 min apart: a switch with the default gap, none with a 30 min gap.
// q's are 20 min apart, a switch with either, so the shorter gap's count is 1, not 0: a
// zero could not tell "no switch" from a switch counted under another metric name.
TEST(ContextSwitchingTest, SessionGapComesFromSettings) {
  const EpochMillis t = At("2026-03-02T09:00:00.000Z");
  const std::vector<schema::Event> events = {
      Activity("p", "1", t), Activity("q", "3", t + kMinute),
      Activity("q", "4", t + 21 * kMinute), Activity("p", "2", t + 45 * kMinute)};
  const Labels unmapped = MakeLabels({{"team", "unmapped"}});
  ContextSwitching by_default{Settings{}};
  EXPECT_EQ(Counter(RunEvents(by_default, events), "teamhealth_context_switches_total", unmapped),
            2);  // p and q
  Settings short_gap;
  short_gap.session_gap_ms = 30 * kMinute;
  ContextSwitching shorter{short_gap};
  EXPECT_EQ(Counter(RunEvents(shorter, events), "teamhealth_context_switches_total", unmapped),
            1);  // q only
}

// An activity that arrives late is compared with the latest one and does not replace it.
TEST(ContextSwitchingTest, LateActivityPairsWithTheLatestAndDoesNotReplaceIt) {
  const EpochMillis t = At("2026-03-02T10:00:00.000Z");
  const std::vector<schema::Event> events = {
      Activity("p", "X", t),
      Activity("p", "Y", t - kMinute),      // late, other subject, 1 min apart: a switch
      Activity("p", "X", t + 30 * kMinute)  // the latest is still X: no switch
  };
  ContextSwitching p{Settings{}};
  const auto acc = RunEvents(p, events);
  const Labels unmapped = MakeLabels({{"team", "unmapped"}});
  EXPECT_EQ(Counter(acc, "teamhealth_context_switches_total", unmapped), 1);
  EXPECT_EQ(Counter(acc, "teamhealth_work_items_touched_total", unmapped), 2);
  EXPECT_EQ(Counter(acc, "teamhealth_active_persondays_total", unmapped), 1);
}

// Importing old history while live events keep arriving must not count a day twice: days are
// evicted by use, not by day number.
TEST(ContextSwitchingTest, InterleavedImportCountsEachPersonDayOnce) {
  const EpochMillis live = At("2026-03-02T10:00:00.000Z");
  const EpochMillis old = live - 100 * kDay;
  std::vector<schema::Event> events;
  for (int i = 0; i < 3; ++i) {
    for (int d = 0; d < 3; ++d) {
      events.push_back(Activity("p", "OLD", old + d * kDay + i * kMinute));
      events.push_back(Activity("p", "LIVE", live + i * kMinute));
    }
  }
  ContextSwitching p{Settings{}};
  const auto acc = RunEvents(p, events);
  const Labels unmapped = MakeLabels({{"team", "unmapped"}});
  EXPECT_EQ(Counter(acc, "teamhealth_active_persondays_total", unmapped), 4);
  EXPECT_EQ(Counter(acc, "teamhealth_work_items_touched_total", unmapped), 4);
}

// State is O(people active recently + recent shifts), not O(events): people idle for a week
// and shifts that ended a week ago are pruned (every 10,000 events).
TEST(ContextSwitchingTest, PrunesIdlePeopleAndOldShifts) {
  const EpochMillis t = At("2026-03-02T10:00:00.000Z");
  std::vector<schema::Event> events;
  for (int i = 0; i < 5000; ++i) {
    events.push_back(Activity("person" + std::to_string(i), "X", t));
    events.push_back(Shift("person" + std::to_string(i), t, t + kDay));
  }
  ContextSwitching p{Settings{}};
  auto pipeline = testing::BorrowingPipeline(p, EmptyDirectory());
  Accumulator acc;
  for (const auto& e : events) pipeline->Apply(e, acc);
  const size_t busy = p.Save().size();
  for (int i = 0; i < 10000; ++i) {
    pipeline->Apply(Activity("late", std::to_string(i % 3), t + 30 * kDay + i), acc);
  }
  const size_t after = p.Save().size();
  EXPECT_GT(busy, 100'000u);
  EXPECT_LT(after, 200u);
  EXPECT_EQ(p.subject_keys(), 3u);  // "late"'s subjects 0, 1 and 2: X went with the people

  // A pruned person active again starts afresh (their state is reached by id: the cache of
  // people by id must not keep the pruned entry): a new person-day, two subjects, and a switch
  // between them only (the activity 30 days before is long gone).
  const Labels unmapped = MakeLabels({{"team", "unmapped"}});
  const double days = Counter(acc, "teamhealth_active_persondays_total", unmapped);
  const double switches = Counter(acc, "teamhealth_context_switches_total", unmapped);
  pipeline->Apply(Activity("person0", "Y", t + 31 * kDay), acc);
  pipeline->Apply(Activity("person0", "Z", t + 31 * kDay + kMinute), acc);
  EXPECT_EQ(Counter(acc, "teamhealth_active_persondays_total", unmapped), days + 1);
  EXPECT_EQ(Counter(acc, "teamhealth_context_switches_total", unmapped), switches + 1);
}

// Subjects are held by reference count (CountedKeys): whatever the order of activities, late
// ones, evicted days and forgotten people, the state holds exactly the subject keys a Load of
// its Save holds, and saving, loading and going on gives what one pass gives.
TEST(ContextSwitchingTest, SubjectKeysAreHeldExactlyWhileTheStateRefersToThem) {
  std::mt19937_64 rng(7);
  const EpochMillis t0 = At("2026-03-02T00:00:00.000Z");
  std::vector<schema::Event> events;
  EpochMillis at = t0;
  for (int i = 0; i < 30'000; ++i) {
    at += static_cast<EpochMillis>(rng() % (2 * 60'000));  // ~21 days in all: people are pruned
    const bool late = rng() % 10 == 0;                     // up to 3 days late
    const EpochMillis when = late ? at - static_cast<EpochMillis>(rng() % (3 * kDay)) : at;
    // The first 20 people work all along; the others only in the first third.
    const int person = i < 10'000 ? static_cast<int>(rng() % 60) : static_cast<int>(rng() % 20);
    // Subjects come and go: 20 in each stretch of 1,000 activities (~17 hours).
    const uint64_t subject = rng() % 20 + 20 * static_cast<uint64_t>(i / 1000);
    events.push_back(Activity("p" + std::to_string(person), std::to_string(subject), when,
                              rng() % 4 == 0 ? "pull_request" : "work_item"));
  }
  ContextSwitching one_pass{Settings{}};
  auto pipeline = testing::BorrowingPipeline(one_pass, EmptyDirectory());
  Accumulator acc;
  for (size_t i = 0; i < events.size(); ++i) {
    pipeline->Apply(events[i], acc);
    if (i % 997 != 0) continue;
    const std::string saved = one_pass.Save();
    ContextSwitching loaded{Settings{}};
    ASSERT_TRUE(loaded.Load(saved)) << "after event " << i;
    ASSERT_EQ(loaded.subject_keys(), one_pass.subject_keys()) << "after event " << i;
    ASSERT_EQ(loaded.Save(), saved) << "after event " << i;
  }
  // Held: those of the 20 people's last 4 days (and some late ones), not all 1,200 subjects.
  EXPECT_LE(one_pass.subject_keys(), 400u);
  EXPECT_GT(one_pass.subject_keys(), 0u);

  // Resumed from a save in the middle, the rest gives the same state as one pass.
  ContextSwitching first{Settings{}}, resumed{Settings{}};
  auto p1 = testing::BorrowingPipeline(first, EmptyDirectory());
  auto p2 = testing::BorrowingPipeline(resumed, EmptyDirectory());
  Accumulator a1, a2;
  for (size_t i = 0; i < events.size() / 2; ++i) p1->Apply(events[i], a1);
  ASSERT_TRUE(resumed.Load(first.Save()));
  for (size_t i = events.size() / 2; i < events.size(); ++i) p2->Apply(events[i], a2);
  EXPECT_EQ(resumed.Save(), one_pass.Save());
  EXPECT_EQ(resumed.subject_keys(), one_pass.subject_keys());
}

// A Jira worklog or comment whose payload carries no issue fields has no project. On the
// subject already known it changes nothing: PAY-1 (PAY), its worklog (no project), then OPS-2
// (OPS) 2 min later is 1 switch, and it is across projects of one source: 1 project switch, as
// without the worklog. (Before, the worklog erased PAY and the switch counted as none.)
TEST(ContextSwitchingTest, AnEventWithoutProjectOnTheSameSubjectKeepsItsProject) {
  auto act = [](const std::string& id, const std::string& subject, const std::string& project,
                EpochMillis at) {
    schema::Event e;
    e.set_id("jira:" + id);
    e.set_source("jira");
    e.set_type(project.empty() ? "work_item.worklogged" : "work_item.commented");
    e.set_occurred_at_ms(at);
    e.set_actor("slack:UA");
    e.mutable_subject()->set_kind("work_item");
    e.mutable_subject()->set_id(subject);
    if (!project.empty()) e.mutable_subject()->set_project(project);
    return e;
  };
  const EpochMillis t = At("2026-03-30T10:00:00.000Z");
  const std::vector<schema::Event> events = {act("a", "1", "PAY", t),
                                             act("b", "1", "", t + kMinute),
                                             act("c", "2", "OPS", t + 2 * kMinute)};
  DirectoryView directory({}, {}, WorkPattern{});
  ContextSwitching projection{Settings{}};
  const auto acc = testing::Run(projection, directory, events, t + kDay);
  const auto team = MakeLabels({{"team", "unmapped"}});
  EXPECT_EQ(testing::CounterValue(acc, "teamhealth_context_switches_total", team), 1);
  EXPECT_EQ(testing::CounterValue(acc, "teamhealth_project_switches_total", team), 1);
}

}  // namespace
}  // namespace teamhealth::projections
