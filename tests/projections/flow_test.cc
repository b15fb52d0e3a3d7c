// Golden scenario and properties of the flow projection.
#include "teamhealth/projections/flow.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <utility>

#include "scenario.h"
#include "teamhealth/projections/bytes.h"
#include "teamhealth/projections/event_access.h"

namespace teamhealth::projections {
namespace {

const std::string kDir = std::string(TEAMHEALTH_PROJECTION_TESTS) + "/flow/";
constexpr EpochMillis kNow = 1775001600000;  // 2026-04-01T00:00:00Z
constexpr EpochMillis kDay = 86'400'000;
constexpr EpochMillis kT0 = 1772442000000;  // 2026-03-02T09:00:00Z

TEST(FlowTest, GoldenScenario) {
  auto directory = testing::LoadDirectory(kDir + "config.toml");
  Flow projection{Settings{}};
  const auto events = testing::LoadEvents(kDir + "events.jsonl");
  ASSERT_FALSE(events.empty());
  const auto acc = testing::Run(projection, directory, events, kNow);
  testing::ExpectMetrics(acc, kDir + "expected.txt");
}

// Stopping after any event and resuming from saved state gives the same result as one pass.
TEST(FlowTest, ResumingFromSavedStateAfterAnyEventGivesTheSameMetrics) {
  testing::ExpectResumingAnywhereMatchesOnePass([] { return std::make_unique<Flow>(Settings{}); },
                                                kDir, kNow);
}

// The log never holds duplicate ids; replaying the same log from scratch must give identical
// state and metrics (determinism).
TEST(FlowTest, ReplayingTheSameLogFromScratchGivesIdenticalState) {
  testing::ExpectReplayIsDeterministic([] { return std::make_unique<Flow>(Settings{}); }, kDir,
                                       kNow);
}

TEST(FlowTest, LoadRejectsCorruptState) {
  Flow p{Settings{}};
  EXPECT_FALSE(p.Load("\xff\xff"));
  EXPECT_FALSE(p.Load(""));
  // Every truncation of a real state is rejected, and so is trailing garbage.
  const auto events = testing::LoadEvents(kDir + "events.jsonl");
  auto directory = testing::LoadDirectory(kDir + "config.toml");
  Flow full{Settings{}};
  testing::Run(full, directory, events, kNow);
  const std::string saved = full.Save();
  for (size_t n = 0; n < saved.size(); ++n) {
    Flow q{Settings{}};
    EXPECT_FALSE(q.Load(saved.substr(0, n))) << "truncated to " << n;
  }
  Flow q{Settings{}};
  EXPECT_FALSE(q.Load(saved + "x"));
  // An unknown format version is rejected.
  std::string other = saved;
  other[0] = 2;
  EXPECT_FALSE(q.Load(other));
  // A failed Load leaves the previous state untouched.
  EXPECT_TRUE(q.Load(saved));
  EXPECT_FALSE(q.Load("\x01"));
  EXPECT_EQ(q.Save(), saved);
}

// --- Focused unit tests on hand-built events. ---

schema::Event MakeEvent(const std::string& source, const std::string& type, EpochMillis at,
                        const std::string& actor, const std::string& kind, const std::string& id,
                        const std::string& project,
                        std::initializer_list<std::pair<std::string, std::string>> attrs) {
  static int n = 0;
  schema::Event e;
  e.set_id(source + ":u" + std::to_string(++n));
  e.set_source(source);
  e.set_type(type);
  e.set_occurred_at_ms(at);
  e.set_actor(actor);
  e.mutable_subject()->set_kind(kind);
  e.mutable_subject()->set_id(id);
  e.mutable_subject()->set_project(project);
  for (const auto& [name, value] : attrs) {
    auto* a = e.add_attrs();
    a->set_name(name);
    if (value.empty()) {
      a->mutable_value()->set_null_value(true);
    } else {
      a->mutable_value()->set_string_value(value);
    }
  }
  return e;
}

schema::Event Status(EpochMillis at, const std::string& id, const std::string& from,
                     const std::string& to) {
  return MakeEvent("jira", "work_item.status_changed", at, "", "work_item", id, "OPS",
                   {{"from", from}, {"from_category", from}, {"to", to}, {"to_category", to}});
}

schema::Event Created(EpochMillis at, const std::string& id, const std::string& category,
                      const std::string& assignee) {
  return MakeEvent("jira", "work_item.created", at, "", "work_item", id, "OPS",
                   {{"assignee", assignee},
                    {"item_type", "task"},
                    {"priority", ""},
                    {"status", category},
                    {"status_category", category}});
}

DirectoryView EmptyDirectory() { return DirectoryView({}, {}, WorkPattern{}); }

// A missing series fails the test (it is neither 0 nor "no histogram"): see
// testing::CounterValue and testing::HistogramSeries. Where a test means that a series must
// not exist, it says so with testing::ExpectNoSeries.
double Count(const Accumulator& acc, const std::string& name, const Labels& labels) {
  return testing::CounterValue(acc, name, labels);
}

const HistogramData* Histogram(const Accumulator& acc, const std::string& name,
                               const Labels& labels) {
  return testing::HistogramSeries(acc, name, labels);
}

const Labels kUnmappedTask = MakeLabels({{"team", "unmapped"}, {"item_type", "task"}});
const Labels kUnmapped = MakeLabels({{"team", "unmapped"}});

// A done item pruned after 90 idle days is still counted as reopened (from_category), and its
// second entry into done does not observe a second lead or cycle time.
TEST(FlowTest, PrunedDoneItemIsForgottenButItsReopenStillCounts) {
  auto directory = EmptyDirectory();
  Flow flow{Settings{}};
  Accumulator acc;
  flow.Apply(Created(kT0, "1", "in_progress", "jira:UX"), directory, acc);
  flow.Apply(Status(kT0 + 3600'000, "1", "in_progress", "done"), directory, acc);
  const size_t with_item = flow.Save().size();
  flow.Prune(kT0 + 3600'000 + 90 * kDay);  // exactly 90 days idle: kept
  EXPECT_EQ(flow.Save().size(), with_item);
  flow.Prune(kT0 + 3600'000 + 90 * kDay + 1);  // more than 90 days: forgotten
  EXPECT_LT(flow.Save().size(), with_item);
  flow.Apply(Status(kT0 + 100 * kDay, "1", "done", "in_progress"), directory, acc);
  flow.Apply(Status(kT0 + 101 * kDay, "1", "in_progress", "done"), directory, acc);
  EXPECT_EQ(Count(acc, "teamhealth_work_items_reopened_total", kUnmapped), 1);
  // "unknown": the pruned item's type went with it.
  EXPECT_EQ(Count(acc, "teamhealth_work_items_completed_total",
                  MakeLabels({{"team", "unmapped"}, {"item_type", "unknown"}})),
            1);
  EXPECT_EQ(Count(acc, "teamhealth_work_items_completed_total", kUnmappedTask), 1);
  const auto* cycle = Histogram(acc, "teamhealth_cycle_time_seconds", kUnmappedTask);
  ASSERT_NE(cycle, nullptr);
  EXPECT_EQ(cycle->count, 1u);
  EXPECT_EQ(cycle->sum, 3600);
  // The positive control above reads the same name, so this absence is not a misspelling.
  testing::ExpectNoSeries(acc, "teamhealth_cycle_time_seconds",
                          MakeLabels({{"team", "unmapped"}, {"item_type", "unknown"}}));
}

// Apply() prunes by itself every 10,000 events, by event time: done and deleted items go,
// open ones stay.
TEST(FlowTest, ApplyPrunesFinishedItemsButKeepsOpenOnes) {
  auto directory = EmptyDirectory();
  const EpochMillis later = kT0 + 200 * kDay;
  const auto filler =
      MakeEvent("slack", "chat.message", later, "slack:U1", "channel", "C1", "", {});
  Flow flow{Settings{}};
  Accumulator acc;
  flow.Apply(Created(kT0, "done", "todo", ""), directory, acc);
  flow.Apply(Status(kT0, "done", "todo", "done"), directory, acc);
  flow.Apply(Created(kT0, "open", "in_progress", "jira:UX"), directory, acc);
  flow.Apply(Created(kT0, "gone", "in_progress", "jira:UX"), directory, acc);
  flow.Apply(MakeEvent("jira", "work_item.deleted", kT0, "", "work_item", "gone", "OPS", {}),
             directory, acc);
  for (int i = 5; i < 10'000; ++i) flow.Apply(filler, directory, acc);
  // The same state as a projection that only ever saw the open item.
  Flow only_open{Settings{}};
  only_open.Apply(Created(kT0, "open", "in_progress", "jira:UX"), directory, acc);
  for (int i = 1; i < 10'000; ++i) only_open.Apply(filler, directory, acc);
  EXPECT_EQ(flow.Save(), only_open.Save());
  Accumulator gauges;
  flow.ExportGauges(later, directory, gauges);
  EXPECT_EQ(gauges.gauges().at("teamhealth_wip_items").at(kUnmapped), 1);
}

TEST(FlowTest, ItemsCreatedBeforeTheLogHaveNoLeadOrCycleTime) {
  auto directory = EmptyDirectory();
  Flow flow{Settings{}};
  Accumulator acc;
  flow.Apply(Status(kT0, "9", "todo", "in_progress"), directory, acc);
  flow.Apply(Status(kT0 + 3600'000, "9", "in_progress", "done"), directory, acc);
  EXPECT_TRUE(acc.histograms().empty());
  EXPECT_EQ(Count(acc, "teamhealth_work_items_completed_total",
                  MakeLabels({{"team", "unmapped"}, {"item_type", "unknown"}})),
            1);
}

// Created with a null category, then a transition out of in_progress: the in-progress time is
// unknown, so no cycle time, but the lead time is known. Item 6, created in progress, is the
// control: its cycle time (3600 s) is the only one observed.
TEST(FlowTest, InProgressSinceAnUnseenInstantHasNoCycleTime) {
  auto directory = EmptyDirectory();
  Flow flow{Settings{}};
  Accumulator acc;
  flow.Apply(Created(kT0, "5", "", "jira:UX"), directory, acc);
  flow.Apply(Status(kT0 + 7200'000, "5", "in_progress", "done"), directory, acc);
  flow.Apply(Created(kT0, "6", "in_progress", "jira:UX"), directory, acc);
  flow.Apply(Status(kT0 + 3600'000, "6", "in_progress", "done"), directory, acc);
  const auto* cycle = Histogram(acc, "teamhealth_cycle_time_seconds", kUnmappedTask);
  ASSERT_NE(cycle, nullptr);
  EXPECT_EQ(cycle->count, 1u);  // item 6 only
  EXPECT_EQ(cycle->sum, 3600);
  const auto* lead = Histogram(acc, "teamhealth_lead_time_seconds", kUnmappedTask);
  ASSERT_NE(lead, nullptr);
  EXPECT_EQ(lead->count, 2u);
  EXPECT_EQ(lead->sum, 7200 + 3600);
}

// Comments on items the projection does not track do not make it track them.
TEST(FlowTest, CommentsOnUnknownItemsKeepNoState) {
  auto directory = EmptyDirectory();
  Flow flow{Settings{}};
  Accumulator acc;
  flow.Apply(MakeEvent("jira", "work_item.commented", kT0, "jira:UX", "work_item", "77", "OPS", {}),
             directory, acc);
  flow.Apply(MakeEvent("jira", "work_item.priority_changed", kT0, "jira:UX", "work_item", "78",
                       "OPS", {{"from", "Low"}, {"to", "High"}}),
             directory, acc);
  flow.Apply(MakeEvent("github", "pull_request.reviewed", kT0, "github:x", "pull_request", "1", "r",
                       {{"state", "approved"}}),
             directory, acc);
  // Same state as a projection that saw nothing (apart from the applied-event count).
  Flow three{Settings{}};
  for (int i = 0; i < 3; ++i) {
    three.Apply(MakeEvent("slack", "chat.message", kT0, "", "channel", "C", "", {}), directory,
                acc);
  }
  EXPECT_EQ(flow.Save(), three.Save());
  EXPECT_EQ(Count(acc, "teamhealth_priority_changes_total", kUnmapped), 1);
}

// A review on a draft before ready_for_review picks the PR up (measured from opening); a later
// ready_for_review changes nothing. Durations never go negative under clock skew.
TEST(FlowTest, PickupBeforeReadyIsMeasuredFromOpeningAndNeverNegative) {
  auto directory = EmptyDirectory();
  Flow flow{Settings{}};
  Accumulator acc;
  auto pr = [](const std::string& type, EpochMillis at, const std::string& actor,
               const std::string& id) {
    return MakeEvent("github", type, at, actor, "pull_request", id, "r", {{"state", "approved"}});
  };
  flow.Apply(pr("pull_request.opened", kT0, "github:a", "1"), directory, acc);
  flow.Apply(pr("pull_request.reviewed", kT0 + 600'000, "github:b", "1"), directory, acc);
  flow.Apply(pr("pull_request.ready_for_review", kT0 + 900'000, "github:a", "1"), directory, acc);
  flow.Apply(pr("pull_request.opened", kT0, "github:a", "2"), directory, acc);
  flow.Apply(pr("pull_request.reviewed", kT0 - 60'000, "github:b", "2"), directory, acc);
  flow.Apply(pr("pull_request.merged", kT0 - 120'000, "github:a", "2"), directory, acc);
  const auto* pickup = Histogram(acc, "teamhealth_pr_pickup_seconds", kUnmapped);
  ASSERT_NE(pickup, nullptr);
  EXPECT_EQ(pickup->count, 2u);
  EXPECT_EQ(pickup->sum, 600);
  const auto* review = Histogram(acc, "teamhealth_pr_review_seconds", kUnmapped);
  ASSERT_NE(review, nullptr);
  EXPECT_EQ(review->count, 1u);
  EXPECT_EQ(review->sum, 0);
}

// A closed PR is kept (GitHub can reopen and merge it) and forgotten after 90 idle days.
TEST(FlowTest, ClosedPullRequestIsKeptForAWhile) {
  auto directory = EmptyDirectory();
  Flow flow{Settings{}};
  Accumulator acc;
  auto pr = [](const std::string& type, EpochMillis at, const std::string& actor) {
    return MakeEvent("github", type, at, actor, "pull_request", "7", "r", {{"state", "approved"}});
  };
  flow.Apply(pr("pull_request.opened", kT0, "github:a"), directory, acc);
  flow.Apply(pr("pull_request.reviewed", kT0 + 1000, "github:b"), directory, acc);
  flow.Apply(pr("pull_request.closed", kT0 + 2000, "github:a"), directory, acc);
  flow.Prune(kT0 + 2000 + 90 * kDay);
  flow.Apply(pr("pull_request.merged", kT0 + 3000, "github:a"), directory, acc);
  const auto* review = Histogram(acc, "teamhealth_pr_review_seconds", kUnmapped);
  ASSERT_NE(review, nullptr);
  EXPECT_EQ(review->sum, 2);
}

// Key ("item " or "pr " + key) -> (prunable, last_at), read back from the saved state:
// prunable is done, deleted or unknown without a creation for an item, closed for a PR.
std::map<std::string, std::pair<bool, EpochMillis>> HeldForPrune(const Flow& flow) {
  std::map<std::string, std::pair<bool, EpochMillis>> held;
  const std::string bytes = flow.Save();
  ByteReader r(bytes);
  r.U64();  // format
  r.U64();  // applied
  for (uint64_t n = r.U64(); r.ok() && n > 0; --n) {
    const std::string key = r.Str();
    r.Str();  // project
    r.Str();  // item_type
    r.Str();  // assignee
    const uint64_t category = r.U64();
    const EpochMillis created_at = r.I64();
    r.I64();  // in_progress_since
    r.I64();  // in_progress_ms
    const bool deleted = (r.U64() & 8) != 0;
    const bool finished = deleted || category == 3 || (category == 0 && created_at < 0);
    held["item " + key] = {finished, r.I64()};
  }
  for (uint64_t n = r.U64(); r.ok() && n > 0; --n) {
    const std::string key = r.Str();
    r.Str();  // project
    r.Str();  // author
    r.I64();  // ready_at
    r.I64();  // first_review_at
    const bool closed = r.U64() == 1;
    held["pr " + key] = {closed, r.I64()};
  }
  EXPECT_TRUE(r.ok() && r.done());
  return held;
}

// Prune forgets exactly the finished items and closed pull requests whose last event is more
// than 90 days before `now`, and nothing else, whatever the order events came in: random
// events on 2,000 items and 1,000 pull requests over ~2 years, out of order by up to 100 days
// (a quarter of them in the same millisecond as the one before, on the same subject). Each
// prune is checked against the state saved just before it; a state loaded from its own save
// prunes the same.
TEST(FlowTest, PruneForgetsExactlyTheFinishedItemsAndClosedPullRequestsInactive90Days) {
  const DirectoryView directory = EmptyDirectory();
  const char* kCategories[] = {"todo", "in_progress", "done", ""};
  const char* kPrTypes[] = {"pull_request.opened", "pull_request.opened",
                            "pull_request.reviewed", "pull_request.closed",
                            "pull_request.closed", "pull_request.merged",
                            "pull_request.ready_for_review"};
  std::mt19937_64 rng(5);
  auto category = [&] { return std::string(kCategories[rng() % 4]); };
  Flow flow{Settings{}};
  Accumulator acc;
  EpochMillis now = kT0;
  EpochMillis at = now;
  std::string id = "0";
  int prunes = 0;
  size_t forgotten = 0, kept_prunable = 0;
  for (int i = 1; i <= 100'000; ++i) {
    now += static_cast<EpochMillis>(rng() % (20 * 60'000));
    if (rng() % 4 != 0) {
      at = now - static_cast<EpochMillis>(rng() % (100 * kDay));
      id = std::to_string(rng() % 2000);
    }
    schema::Event e;
    switch (rng() % 9) {
      case 0: e = Created(at, "I" + id, category(), "jira:a"); break;
      case 1:
      case 2: e = Status(at, "I" + id, category(), category()); break;
      case 3:
        e = MakeEvent("jira", "work_item.assigned", at, "", "work_item", "I" + id, "OPS",
                      {{"from", "jira:a"}, {"to", "jira:b"}});
        break;
      case 4:
        e = MakeEvent("jira", "work_item.deleted", at, "", "work_item", "I" + id, "OPS", {});
        break;
      case 5:  // keeps no state for an unknown item, but moves a known one's last_at
        e = MakeEvent("jira", "work_item.priority_changed", at, "", "work_item", "I" + id, "OPS",
                      {{"from", "P2"}, {"to", "P1"}});
        break;
      default:
        e = MakeEvent("github", kPrTypes[rng() % 7], at, "github:r" + std::to_string(rng() % 3),
                      "pull_request", "P" + std::to_string(std::stoi(id) % 1000), "r",
                      {{"state", "approved"}});
    }
    flow.Apply(e, directory, acc);
    if (i % 2'500 != 0) continue;
    auto expected = HeldForPrune(flow);
    const size_t before = expected.size();
    std::erase_if(expected, [&](const auto& kv) {
      return kv.second.first && now - kv.second.second > 90 * kDay;
    });
    forgotten += before - expected.size();
    for (const auto& [key, v] : expected) kept_prunable += v.first ? 1 : 0;
    flow.Prune(now);
    ASSERT_EQ(HeldForPrune(flow), expected) << "after the prune at event " << i;
    prunes += 1;
    if (i % 25'000 == 0) {  // as at a restart: a fresh projection from the saved state
      Flow loaded{Settings{}};
      ASSERT_TRUE(loaded.Load(flow.Save()));
      flow = std::move(loaded);
    }
  }
  EXPECT_EQ(prunes, 40);
  EXPECT_GT(forgotten, 1000u);      // prunes forgot items and pull requests...
  EXPECT_GT(kept_prunable, 1000u);  // ...and kept finished ones not yet inactive long enough
}

}  // namespace
}  // namespace teamhealth::projections
