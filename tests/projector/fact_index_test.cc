// Metric facts (fact_index.h): a report read from facts gives exactly what a replay of the log
// in event-time order gives — counters, histogram observations and gauges — for windows of any
// alignment, also when events arrive out of order (rollbacks), across restarts, and after a
// change of definitions (rebuild).
#include "teamhealth/projector/fact_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "generated_record.h"
#include "teamhealth/config/config.h"
#include "teamhealth/generate/generator.h"
#include "teamhealth/projections/registry.h"
#include "teamhealth/projections/window.h"
#include "teamhealth/projector/projector.h"
#include "teamhealth/sources/source.h"
#include "temp_dir.h"

namespace teamhealth::projector {
namespace {

constexpr EpochMillis kHour = 3600 * 1000;
constexpr EpochMillis kDay = 24 * kHour;

struct Org {
  config::Config config;
  std::vector<schema::Event> events;  // event-time order
  EpochMillis start = 0, end = 0;
};

Org MakeOrg(uint64_t seed, int days) {
  generate::Options options;
  options.seed = seed;
  options.teams = 3;
  options.people = 18;
  options.days = days;
  auto out = generate::Generate(options);
  EXPECT_TRUE(out.ok());
  Org org;
  org.config = config::ParseConfig(out->directory_toml, "generated directory").value();
  auto registry = sources::MakeSourceRegistry();
  sources::NormalizeResult result;
  for (const auto& r : out->records) {
    testing::NormalizeRecord(*registry, r, result);
    for (auto& e : result.events) org.events.push_back(std::move(e));
  }
  std::stable_sort(org.events.begin(), org.events.end(), [](const auto& a, const auto& b) {
    return a.occurred_at_ms() < b.occurred_at_ms();
  });
  org.end = options.end;
  org.start = options.end - days * kDay;
  return org;
}

class FactIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = storage::Store::Open({dir_.path(), false, false}).value();
    log_ = eventlog::EventLog::Open(*store_).value();
  }
  void Append(std::vector<schema::Event> events) {
    eventlog::IngestBatch b;
    b.events = std::move(events);
    ASSERT_TRUE(log_->Append(b).ok());
  }
  FactBuilder::PipelineFactory Factory(projections::Settings settings) {
    return [this, settings] {
      return std::make_unique<projections::Pipeline>(
          projections::MakeDirectoryView(org_.config.directory), settings);
    };
  }
  std::unique_ptr<FactBuilder> Builder(projections::Settings settings = {},
                                       std::function<EpochMillis()> clock = nullptr) {
    auto b = std::make_unique<FactBuilder>(
        *store_, *log_, Factory(settings), loggers_.Get("facts"),
        FactBuilder::Options{.lag_ms = kHour, .chunk_facts = 700, .clock = std::move(clock)});
    EXPECT_TRUE(b->Start().ok());
    return b;
  }
  std::set<std::string> Teams() {
    std::set<std::string> teams{"unmapped"};
    for (const auto& t : org_.config.directory.teams) teams.insert(t.name);
    return teams;
  }
  // The window as a replay of the whole log gives it.
  projections::WindowSink Replayed(EpochMillis from, EpochMillis to,
                                   projections::Settings settings = {}) {
    auto pipeline = Factory(settings)();
    EXPECT_TRUE(PreloadDirectory(*log_, *pipeline).ok());
    projections::WindowSink sink(from, to);
    EXPECT_TRUE(log_->ForEachByTime(to, [&](Sequence, const schema::Event& e) {
                      pipeline->Apply(e, sink);
                      return true;
                    }).ok());
    pipeline->ExportGauges(to, sink);
    return sink;
  }
  // The window as the facts give it; nullopt when they cannot answer.
  std::optional<projections::WindowSink> FromFacts(EpochMillis from, EpochMillis to,
                                                   projections::Settings settings = {}) {
    auto pipeline = Factory(settings)();
    EXPECT_TRUE(PreloadDirectory(*log_, *pipeline).ok());
    std::string why;
    auto reader = FactReader::Open(*store_, *log_, *pipeline, why);
    EXPECT_TRUE(reader.ok());
    if (!*reader) return std::nullopt;
    projections::WindowSink sink(from, to);
    for (const auto& team : Teams()) EXPECT_TRUE((*reader)->Feed(team, from, to, to, sink).ok());
    // Summed by series first: the same totals to the bit, the same observations in order.
    projections::WindowSink totals(from, to);
    for (const auto& team : Teams()) {
      EXPECT_TRUE((*reader)->FeedTotals(team, from, to, to, totals).ok());
    }
    EXPECT_EQ(totals.counters(), sink.counters());
    EXPECT_EQ(totals.observations(), sink.observations());
    // As replay.h's ReadWindow: the gauges recorded at a midnight, else the state as of `to`.
    bool recorded = true;
    for (const auto& team : Teams()) {
      auto g = (*reader)->Gauges(team, to, sink);
      EXPECT_TRUE(g.ok());
      recorded = recorded && g.ok() && *g;
    }
    // Recorded only at midnights the builder passed; at every one inside the history (the
    // directory's events are stamped 1970: only the last 62 midnights of that gap are).
    const bool passed_midnight = to % kDay == 0 && to <= (*reader)->position();
    if (recorded) {
      EXPECT_TRUE(passed_midnight) << FormatRfc3339(to);
    }
    if (passed_midnight && to >= org_.start) {
      EXPECT_TRUE(recorded) << FormatRfc3339(to);
    }
    if (recorded) {
      ++recorded_gauges_;
      return sink;
    }
    EXPECT_TRUE((*reader)->StateAt(*pipeline, to, sink, nullptr).ok());
    pipeline->ExportGauges(to, sink);
    return sink;
  }
  void ExpectSame(const projections::WindowSink& want, const projections::WindowSink& got,
                  const std::string& what) {
    // Sums of the same increments in another order: equal up to rounding.
    auto same = [&](const auto& a, const auto& b, const char* kind) {
      ASSERT_EQ(a.size(), b.size()) << what << " " << kind;
      for (const auto& [name, series] : a) {
        ASSERT_TRUE(b.contains(name)) << what << " " << name;
        ASSERT_EQ(series.size(), b.at(name).size()) << what << " " << name;
        for (const auto& [labels, v] : series) {
          ASSERT_TRUE(b.at(name).contains(labels)) << what << " " << name;
          EXPECT_NEAR(v, b.at(name).at(labels), 1e-6 * std::max(1.0, std::abs(v)))
              << what << " " << name;
        }
      }
    };
    same(want.counters(), got.counters(), "counters");
    same(want.gauges(), got.gauges(), "gauges");
    auto a = want.observations(), b = got.observations();
    for (auto* m : {&a, &b}) {
      for (auto& [name, series] : *m) {
        for (auto& [labels, values] : series) std::sort(values.begin(), values.end());
      }
    }
    EXPECT_EQ(a, b) << what << " observations";
  }
  void ExpectAllWindows(const std::string& what, projections::Settings settings = {}) {
    const std::vector<std::pair<EpochMillis, EpochMillis>> windows = {
        {org_.start, org_.end + kDay},                          // everything
        {org_.start + 7 * kDay, org_.start + 14 * kDay},        // a week, day-aligned
        {org_.start + 9 * kDay + 5 * kHour + 123, org_.start + 11 * kDay + 17 * kHour + 7},
        {org_.end - 2 * kDay, org_.end - 30 * 60 * 1000},       // across the builder's lag
        {org_.start - 3 * kDay, org_.start + 2 * kDay},         // before the first event
        {org_.start - 100 * kDay, org_.start - 80 * kDay},      // inside the gap since 1970
    };
    const int recorded_before = recorded_gauges_;
    for (const auto& [from, to] : windows) {
      auto got = FromFacts(from, to, settings);
      ASSERT_TRUE(got.has_value()) << what;
      ExpectSame(Replayed(from, to, settings), *got,
                 what + " [" + FormatRfc3339(from) + ", " + FormatRfc3339(to) + ")");
    }
    // Some windows end at a midnight the builder passed (the history ends at one).
    EXPECT_GE(recorded_gauges_ - recorded_before, 1) << what;
  }

  testing::TempDir dir_;
  logging::Loggers loggers_{"warn"};
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<eventlog::EventLog> log_;
  Org org_;
  int recorded_gauges_ = 0;  // windows whose gauges came from the recorded midnights
};

TEST_F(FactIndexTest, InOrderHistoryGivesTheReplaysNumbers) {
  org_ = MakeOrg(11, 21);
  Append(projections::DirectoryEvents(org_.config.directory));
  for (size_t i = 0; i < org_.events.size(); i += 400) {
    Append({org_.events.begin() + i,
            org_.events.begin() + std::min(org_.events.size(), i + 400)});
  }
  auto builder = Builder();
  ASSERT_TRUE(builder->CatchUp().ok());
  EXPECT_EQ(builder->rollbacks(), 0u);
  // The builder trails the newest event by its lag; the rest is a report's tail replay.
  EXPECT_LT(builder->position(), org_.events.back().occurred_at_ms());
  EXPECT_GT(builder->position(), org_.events.back().occurred_at_ms() - 2 * kHour);
  ExpectAllWindows("in order");

  // What inspect facts prints: the state at the position, per projection, is what a pipeline
  // brought to the position saves.
  auto stats = FactStats(*store_);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->position, builder->position());
  auto pipeline = Factory({})();
  ASSERT_TRUE(PreloadDirectory(*log_, *pipeline).ok());
  std::string why;
  auto reader = FactReader::Open(*store_, *log_, *pipeline, why);
  ASSERT_TRUE(reader.ok() && *reader);
  projections::WindowSink none(0, 0);
  ASSERT_TRUE((*reader)->StateAt(*pipeline, builder->position() + 1, none, nullptr).ok());
  ASSERT_EQ(stats->state_bytes.size(), pipeline->size());
  for (size_t i = 0; i < pipeline->size(); ++i) {
    EXPECT_EQ(stats->state_bytes[i], pipeline->projection(i).Save().size()) << i;
  }
}

TEST_F(FactIndexTest, LateEventsRollBackAndStillGiveTheReplaysNumbers) {
  org_ = MakeOrg(12, 21);
  Append(projections::DirectoryEvents(org_.config.directory));
  // Every 17th event arrives 3 batches late and every 29th one batch late (a batch is about a
  // day and a half of this history: beyond the builder's lag), and the builder steps between
  // batches, so it has applied later events when the late ones arrive.
  constexpr size_t kBatch = 200, kLate = 3;
  std::vector<std::vector<schema::Event>> batches((org_.events.size() + kBatch - 1) / kBatch +
                                                  kLate);
  for (size_t i = 0; i < org_.events.size(); ++i) {
    batches[i / kBatch + (i % 17 == 0 ? kLate : i % 29 == 0 ? 1 : 0)].push_back(org_.events[i]);
  }
  auto builder = Builder();
  for (auto& batch : batches) {
    Append(std::move(batch));
    auto n = builder->Step(250);  // partial steps too
    ASSERT_TRUE(n.ok());
  }
  ASSERT_TRUE(builder->CatchUp().ok());
  EXPECT_GT(builder->rollbacks(), 5u);
  std::printf("%zu events, %llu rollbacks\n", org_.events.size(),
              static_cast<unsigned long long>(builder->rollbacks()));
  ExpectAllWindows("late events");

  // A restart resumes from the checkpoint: nothing rebuilt, the same numbers.
  const EpochMillis position = builder->position();
  builder.reset();
  builder = Builder();
  EXPECT_EQ(builder->position(), position);
  ASSERT_TRUE(builder->CatchUp().ok());
  ExpectAllWindows("after restart");
}

TEST_F(FactIndexTest, WithAClockAQuietNightStillCrossesItsMidnight) {
  org_ = MakeOrg(14, 12);
  Append(projections::DirectoryEvents(org_.config.directory));
  Append(org_.events);
  const EpochMillis last = org_.events.back().occurred_at_ms();
  // The clock: 2 days and 30 minutes after the last midnight before the last event. Without
  // it the builder stops an hour (its lag) before the last event; with it, it crosses both
  // midnights after that event (the horizon is the clock less the lag: 1 day 23 h 30 m after
  // that midnight, so not the third) and stands at the second.
  const EpochMillis day0 = last - last % kDay;
  EpochMillis now = day0 + 2 * kDay + 30 * 60 * 1000;
  {
    auto without = Builder();
    ASSERT_TRUE(without->CatchUp().ok());
    EXPECT_LT(without->position(), last);
  }
  auto builder = Builder({}, [&] { return now; });
  ASSERT_TRUE(builder->CatchUp().ok());
  EXPECT_EQ(builder->position(), day0 + kDay);
  now += kHour;  // the horizon passes the second midnight
  ASSERT_TRUE(builder->Step(1000000).ok());
  EXPECT_EQ(builder->position(), day0 + 2 * kDay);
  // The crossing's own write is the checkpoint (no other one came after it): a crash now
  // restarts at that midnight, so an event older than it is late.
  builder.reset();
  builder = Builder({}, [&] { return now; });
  EXPECT_EQ(builder->position(), day0 + 2 * kDay);
  // Windows ending at those midnights read recorded gauges (FromFacts checks it) and give the
  // replay's numbers.
  const int recorded = recorded_gauges_;
  for (const EpochMillis to : {day0 + kDay, day0 + 2 * kDay}) {
    auto got = FromFacts(to - 7 * kDay, to);
    ASSERT_TRUE(got.has_value());
    ExpectSame(Replayed(to - 7 * kDay, to), *got, "quiet night to " + FormatRfc3339(to));
  }
  EXPECT_EQ(recorded_gauges_ - recorded, 2);

  // An event stamped before the crossed midnights arrives: facts step aside until the builder
  // has rolled back and applied it, then give the replay's numbers with it.
  schema::Event late = org_.events.back();
  late.set_id(late.id() + "-late");
  late.set_occurred_at_ms(day0 + kDay + 5 * kHour);
  Append({late});
  EXPECT_FALSE(FromFacts(day0, day0 + 2 * kDay).has_value());
  const uint64_t rollbacks = builder->rollbacks();
  ASSERT_TRUE(builder->CatchUp().ok());
  EXPECT_EQ(builder->rollbacks(), rollbacks + 1);
  EXPECT_EQ(builder->position(), day0 + 2 * kDay);
  for (const EpochMillis to : {day0 + kDay, day0 + 2 * kDay}) {
    auto got = FromFacts(to - 7 * kDay, to);
    ASSERT_TRUE(got.has_value());
    ExpectSame(Replayed(to - 7 * kDay, to), *got, "after the late event to " + FormatRfc3339(to));
  }
  // A restart keeps the position the clock gave.
  builder.reset();
  builder = Builder({}, [&] { return now; });
  EXPECT_EQ(builder->position(), day0 + 2 * kDay);
  ExpectAllWindows("quiet night");
}

TEST_F(FactIndexTest, FactsAnswerOnlyForTheirDefinitions) {
  org_ = MakeOrg(13, 10);
  Append(projections::DirectoryEvents(org_.config.directory));
  Append(org_.events);
  auto builder = Builder();
  ASSERT_TRUE(builder->CatchUp().ok());
  projections::Settings other;
  other.switch_cost_minutes = 9;
  EXPECT_FALSE(FromFacts(org_.start, org_.end, other).has_value());
  // A late event the builder has not folded in yet: facts step aside until it has.
  schema::Event late = org_.events[org_.events.size() / 2];
  late.set_id(late.id() + "-late");
  Append({late});
  EXPECT_FALSE(FromFacts(org_.start, org_.end).has_value());
  ASSERT_TRUE(builder->CatchUp().ok());
  EXPECT_TRUE(FromFacts(org_.start, org_.end).has_value());
  // Other definitions: the builder starts again and then answers for them.
  builder.reset();
  builder = Builder(other);
  ASSERT_TRUE(builder->CatchUp().ok());
  EXPECT_FALSE(FromFacts(org_.start, org_.end).has_value());
  ExpectAllWindows("other definitions", other);
}

}  // namespace
}  // namespace teamhealth::projector
