#include "teamhealth/projector/projector.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "full_disk_store.h"
#include "scenario.h"
#include "teamhealth/projections/bytes.h"
#include "teamhealth/projections/event_access.h"
#include "teamhealth/projections/oncall_load.h"
#include "teamhealth/projections/pipeline.h"
#include "teamhealth/projections/registry.h"
#include "temp_dir.h"

namespace teamhealth::projector {
namespace {

const std::string kScenario = std::string(TEAMHEALTH_PROJECTION_TESTS) + "/oncall_load/";
constexpr EpochMillis kNow = 1775001600000;  // 2026-04-01T00:00:00Z

// A test projection that counts nothing and keeps no state; the ones below override what
// they are about.
class Inert : public projections::Projection {
 public:
  Inert(std::string_view name, uint32_t version) : name_(name), version_(version) {}
  std::string_view name() const override { return name_; }
  uint32_t version() const override { return version_; }
  void Apply(const schema::EventView&, const projections::DirectoryView&,
             projections::MetricSink&) override {}
  void ExportGauges(EpochMillis, const projections::DirectoryView&,
                    projections::MetricSink&) const override {}
  std::string Save() const override { return {}; }
  bool Load(std::string_view b) override { return b.empty(); }

 private:
  std::string_view name_;
  uint32_t version_;
};

// A projection whose version the test controls, to check the rebuild on a version bump.
class Versioned final : public Inert {
 public:
  explicit Versioned(uint32_t version) : Inert("versioned", version) {}
  void Apply(const schema::EventView& e, const projections::DirectoryView&,
             projections::MetricSink& sink) override {
    sink.Add("teamhealth_context_switches_total", projections::MakeLabels({{"team", "t"}}), 1,
             e.occurred_at_ms());
  }
};

// A projection whose Save() the test holds: once armed, Save() says it started and waits
// (at most 10 s) for the test to let it finish, and records whether it had to give up.
class HeldSave final : public Inert {
 public:
  struct Gate {
    std::atomic<bool> armed{false};
    std::promise<void> saving, release;
    std::atomic<bool> gave_up{false};
  };
  explicit HeldSave(std::shared_ptr<Gate> gate) : Inert("held_save", 1), gate_(std::move(gate)) {}
  std::string Save() const override {
    if (gate_->armed.exchange(false)) {
      gate_->saving.set_value();
      const auto released = gate_->release.get_future().wait_for(std::chrono::seconds(10));
      gate_->gave_up = released != std::future_status::ready;
    }
    return {};
  }

 private:
  std::shared_ptr<Gate> gate_;
};

class ProjectorTest : public ::testing::Test {
 public:  // ExpectFactsSurviveAFullDisk drives two tests through the fixture
  void SetUp() override {
    Open();
    events_ = testing::LoadEvents(kScenario + "events.jsonl");
  }
  void Open() {
    log_.reset();
    store_.reset();
    store_ = storage::Store::Open({dir_.path(), false, false}).value();
    log_ = eventlog::EventLog::Open(*store_).value();
  }
  void Append(size_t from, size_t to) {
    eventlog::IngestBatch b;
    for (size_t i = from; i < to; ++i) b.events.push_back(events_[i]);
    ASSERT_TRUE(log_->Append(b).ok());
  }
  // The projector over OncallLoad and Versioned, with `settings`.
  Projector::PipelineFactory Factory(uint32_t versioned, projections::Settings settings = {}) {
    return [versioned, settings] {
      std::vector<std::unique_ptr<projections::Projection>> list;
      list.push_back(std::make_unique<projections::OncallLoad>(settings));
      list.push_back(std::make_unique<Versioned>(versioned));
      return std::make_unique<projections::Pipeline>(
          testing::LoadDirectory(kScenario + "config.toml"), settings, std::move(list));
    };
  }
  std::unique_ptr<Projector> Make(uint32_t versioned = 1) {
    auto p = std::make_unique<Projector>(*store_, *log_, Factory(versioned),
                                         loggers_.Get("projector"));
    EXPECT_TRUE(p->Start().ok());
    return p;
  }
  // What one pass over the log gives, through a fresh pipeline.
  projections::Accumulator Reference() {
    std::vector<schema::Event> stored;
    EXPECT_TRUE(log_->ForEach(Sequence(1),
                              [&](Sequence, const schema::Event& e) {
                                stored.push_back(e);
                                return true;
                              })
                    .ok());
    auto pipeline = Factory(1)();
    auto acc = testing::Drive(*pipeline, stored, kNow);
    acc.SuppressSmallTeams(pipeline->TeamSizes(kNow), projections::Settings{}.min_group_size);
    acc.AddZeroTeamSeries(pipeline->TeamSizes(kNow), projections::Settings{}.min_group_size);
    return acc;
  }

  testing::TempDir dir_;
  logging::Loggers loggers_{"warn"};
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<eventlog::EventLog> log_;
  std::vector<schema::Event> events_;
};

TEST_F(ProjectorTest, RestartResumesFromTheCheckpointWithoutCountingTwice) {
  Append(0, 10);
  {
    auto p = Make();
    ASSERT_TRUE(p->CatchUp(3).ok());  // checkpoints every 3 events
    EXPECT_EQ(p->applied(), 10u);
    EXPECT_EQ(p->lag(), 0u);
  }
  Open();  // a restart
  auto p = Make();
  EXPECT_EQ(p->applied(), 10u);  // resumed, not rebuilt
  EXPECT_EQ(p->rebuilt(), std::vector<std::string>{});
  // The rest of the scenario includes a directory event that adds an alias (erin's opsgenie
  // identity): applied while running, it rebuilds everything; the result is one pass.
  Append(10, events_.size());
  ASSERT_TRUE(p->CatchUp().ok());
  const auto want = Reference();
  const auto got = p->Snapshot(kNow);
  EXPECT_EQ(got.counters(), want.counters());
  EXPECT_EQ(got.gauges(), want.gauges());
  EXPECT_EQ(got.Save(), want.Save());
  // Versioned counts every event that reaches it: all but the directory events.
  size_t not_directory = 0;
  for (const auto& e : events_) not_directory += e.type().starts_with("directory.") ? 0 : 1;
  EXPECT_EQ(got.counters().at("teamhealth_context_switches_total").at({{"team", "t"}}),
            static_cast<double>(not_directory));
}

// Checkpoints while running (kProjectorCadence: 2 s, 5 min, a tenth). Catching up, the time
// spent applying is the time since the last checkpoint: one every 2 s, or every ten times the
// last one's duration when that is longer, but at most a minute. Trickling in, applying takes
// little time: one every 5 minutes, not every 2 s. Every 10 s on a full disk, whatever they
// cost.
TEST(CheckpointDueTest, WhenTheWorkSinceIsTenTimesTheLastCheckpointOrFiveMinutesPassed) {
  using std::chrono::milliseconds;
  using std::chrono::minutes;
  using std::chrono::seconds;
  const auto due = [](auto since, auto busy, auto last_cost, bool full = false) {
    return CheckpointDue(kProjectorCadence, since, busy, last_cost, full);
  };
  // Catching up (busy == since).
  EXPECT_FALSE(due(milliseconds(1900), milliseconds(1900), milliseconds(0)));  // < 2 s apart
  EXPECT_TRUE(due(seconds(2), seconds(2), milliseconds(0)));
  EXPECT_TRUE(due(seconds(2), seconds(2), milliseconds(200)));           // 10 x 0.2 s = 2 s
  EXPECT_FALSE(due(milliseconds(3400), milliseconds(3400), milliseconds(350)));  // < 3.5 s
  EXPECT_TRUE(due(milliseconds(3500), milliseconds(3500), milliseconds(350)));
  EXPECT_FALSE(due(seconds(59), seconds(59), seconds(6)));                // < 10 x 6 s
  EXPECT_TRUE(due(seconds(60), seconds(60), seconds(6)));
  // A slow checkpoint (a stalled disk) puts the next off by at most a minute of work.
  EXPECT_FALSE(due(seconds(59), seconds(59), seconds(30)));
  EXPECT_TRUE(due(seconds(60), seconds(60), seconds(30)));                // not 10 x 30 s
  // Trickling in: 20 events a second for a minute is ~2 ms of applying.
  EXPECT_TRUE(due(seconds(2), milliseconds(1), milliseconds(0)));  // none yet: no cost known
  EXPECT_FALSE(due(seconds(60), milliseconds(2), milliseconds(100)));
  EXPECT_FALSE(due(milliseconds(299999), milliseconds(10), milliseconds(100)));
  EXPECT_TRUE(due(minutes(5), milliseconds(10), milliseconds(100)));
  // A busy stretch since a cheap checkpoint: due once the work reaches ten times its cost.
  EXPECT_FALSE(due(seconds(30), milliseconds(999), milliseconds(100)));
  EXPECT_TRUE(due(seconds(30), seconds(1), milliseconds(100)));
  // Full disk: every 10 s.
  EXPECT_FALSE(due(seconds(9), seconds(9), milliseconds(0), true));
  EXPECT_TRUE(due(seconds(10), milliseconds(0), seconds(30), true));
}

// A projection whose Save() takes 50 ms: a state whose checkpoint costs something.
class SlowSave final : public Inert {
 public:
  SlowSave() : Inert("slow_save", 1) {}
  std::string Save() const override {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return {};
  }
};

// The sequence the stored checkpoint holds (its layout: format, then the applied sequence).
uint64_t CheckpointedSequence(storage::Store& store) {
  auto stored = store.Get(storage::Column::kProjections, "state");
  if (!stored || !*stored) return 0;
  projections::ByteReader r(**stored);
  r.Str();
  return r.U64();
}

// Run() weighs the work since the last checkpoint, not the time: events trickling in (one
// every 300 ms, each applied in well under a millisecond) are not checkpointed every 2 s when
// a checkpoint costs 50 ms (due after 0.5 s of applying, or 5 minutes). Only the first one,
// 2 s after the start (no cost known yet), and the final one at the stop are written. Counting
// wall time as work would checkpoint again 2 s after the first.
TEST_F(ProjectorTest, EventsTricklingInAreNotCheckpointedEveryTwoSeconds) {
  // Events of the scenario but its directory ones (a directory event may re-resolve a person
  // and rebuild, which checkpoints).
  std::vector<schema::Event> trickled;
  for (const auto& e : events_) {
    if (!e.type().starts_with("directory.")) trickled.push_back(e);
  }
  ASSERT_GE(trickled.size(), 20u);  // 2 + 8 + 10
  auto append = [&](size_t i) {
    eventlog::IngestBatch b;
    b.events.push_back(trickled[i]);
    ASSERT_TRUE(log_->Append(b).ok());
  };
  append(0);
  append(1);
  auto factory = [] {
    std::vector<std::unique_ptr<projections::Projection>> list;
    list.push_back(std::make_unique<SlowSave>());
    return std::make_unique<projections::Pipeline>(
        testing::LoadDirectory(kScenario + "config.toml"), projections::Settings{},
        std::move(list));
  };
  Projector p(*store_, *log_, factory, loggers_.Get("projector"));
  ASSERT_TRUE(p.Start().ok());
  ASSERT_TRUE(p.CatchUp().ok());
  ASSERT_EQ(CheckpointedSequence(*store_), 2u);
  std::atomic<bool> stop{false};
  Status status;
  std::thread runner([&] { status = p.Run(stop); });
  size_t next = 2;
  // The first checkpoint, ~2 s after the start: events keep coming until it is written (or
  // until 8 have come, then it is waited for).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (CheckpointedSequence(*store_) == 2u && std::chrono::steady_clock::now() < deadline) {
    if (next < 10) append(next++);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  const uint64_t first = CheckpointedSequence(*store_);
  if (first == 2u) {
    stop = true;
    runner.join();
    FAIL() << "no checkpoint while running";
  }
  // No other while ten more come, one every 300 ms (3 s, a few ms of applying in all).
  for (size_t end = next + 10; next < end; ++next) {
    append(next);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  EXPECT_EQ(CheckpointedSequence(*store_), first);
  EXPECT_GT(p.applied(), first);
  stop = true;
  runner.join();
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_EQ(CheckpointedSequence(*store_), next);  // the final checkpoint holds every event
}

// /metrics is not held up by a checkpoint: serialising the state only reads it, so a
// Snapshot() taken while a checkpoint is being serialised returns before the checkpoint ends
// (with one exclusive lock it waited for the whole serialisation, ~0.1-0.3 s at 1,000 people).
TEST_F(ProjectorTest, ASnapshotIsServedWhileACheckpointIsBeingSerialised) {
  Append(0, 10);
  auto gate = std::make_shared<HeldSave::Gate>();
  Projector p(*store_, *log_,
              [gate] {
                std::vector<std::unique_ptr<projections::Projection>> list;
                list.push_back(std::make_unique<projections::OncallLoad>(projections::Settings{}));
                list.push_back(std::make_unique<HeldSave>(gate));
                return std::make_unique<projections::Pipeline>(
                    testing::LoadDirectory(kScenario + "config.toml"), projections::Settings{},
                    std::move(list));
              },
              loggers_.Get("projector"));
  ASSERT_TRUE(p.Start().ok());
  ASSERT_TRUE(p.CatchUp().ok());
  const auto before = p.Snapshot(kNow);

  gate->armed = true;
  Status checkpoint = Status::Ok();
  // In the test, Checkpoint() runs on another thread while this one scrapes; the runner is
  // idle meanwhile (CatchUp returned), as Checkpoint() requires.
  std::thread runner([&] { checkpoint = p.Checkpoint(); });
  const bool saving =
      gate->saving.get_future().wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  // The checkpoint is in the middle of serialising: a scrape gets the same metrics now.
  const auto during = p.Snapshot(kNow);
  gate->release.set_value();
  runner.join();
  ASSERT_TRUE(saving);
  EXPECT_FALSE(gate->gave_up) << "Snapshot() waited for the checkpoint to finish";
  EXPECT_TRUE(checkpoint.ok());
  EXPECT_EQ(during.Save(), before.Save());
  EXPECT_EQ(during.gauges(), before.gauges());
  EXPECT_EQ(p.applied(), 10u);
}

// A checkpoint that fails on a full disk does not stop the projector: it says why it waits,
// keeps applying, writes the checkpoint once space is freed, and a final checkpoint that cannot
// be written is skipped without an error; the next start resumes from the last one written and
// counts nothing twice.
TEST_F(ProjectorTest, ACheckpointOnAFullDiskWaitsForSpaceAndNothingIsCountedTwice) {
  Append(0, 5);
  testing::FullDiskStore disk(*store_);
  {
    Projector p(disk, *log_, Factory(1), loggers_.Get("projector"));
    ASSERT_TRUE(p.Start().ok());
    ASSERT_TRUE(p.CatchUp().ok());  // checkpointed at 5
    disk.full = true;
    std::atomic<bool> stop{false};
    Status status;
    std::thread runner([&] { status = p.Run(stop); });
    Append(5, 10);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while ((p.applied() < 10 || !p.checkpoint_full()) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(p.checkpoint_full().has_value()) << "the checkpoint never failed";
    EXPECT_NE(p.checkpoint_full()->find("No space left"), std::string::npos);
    EXPECT_EQ(p.applied(), 10u);
    disk.full = false;  // space is freed: the pending checkpoint is written
    while (p.checkpoint_full() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_FALSE(p.checkpoint_full().has_value());
    disk.full = true;  // full again, with events the last checkpoint does not hold (and no
                       // directory alias, which would rebuild everything at the restart)
    Append(10, 20);
    while (p.applied() < 20 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const int failed_before_stop = disk.failed_writes.load();
    stop = true;
    runner.join();
    EXPECT_TRUE(status.ok()) << status.error().message();  // the final checkpoint is skipped
    EXPECT_GT(disk.failed_writes.load(), failed_before_stop);
    EXPECT_GT(disk.failed_writes.load(), 0);
  }
  Open();  // a restart, with space
  auto p = Make();
  EXPECT_EQ(p->applied(), 10u);  // the last checkpoint written
  EXPECT_EQ(p->rebuilt(), std::vector<std::string>{});
  ASSERT_TRUE(p->CatchUp().ok());
  EXPECT_EQ(p->applied(), 20u);
  const auto want = Reference();
  const auto got = p->Snapshot(kNow);
  EXPECT_EQ(got.counters(), want.counters());
  EXPECT_EQ(got.Save(), want.Save());
}

// The metric facts' writes fail on a full disk too (their first checkpoint at start, a chunk,
// a checkpoint): that pauses them, never the projector, and once space is freed they start
// again from their stored checkpoint and catch up with the log, holding what a build without
// the fault holds. (A fresh-clone CI run stopped the daemon here: the facts wrote first.)
void ExpectFactsSurviveAFullDisk(ProjectorTest& t, bool full_at_start);

TEST_F(ProjectorTest, MetricFactsOnAFullDiskPauseAndCatchUpOnceSpaceIsFreed) {
  ExpectFactsSurviveAFullDisk(*this, /*full_at_start=*/false);
}

TEST_F(ProjectorTest, MetricFactsThatCannotStartOnAFullDiskDoNotStopTheProjector) {
  ExpectFactsSurviveAFullDisk(*this, /*full_at_start=*/true);
}

void ExpectFactsSurviveAFullDisk(ProjectorTest& t, bool full_at_start) {
  t.Append(0, 5);
  testing::FullDiskStore disk(*t.store_);
  // Where the facts stored on the store stand, read without writing.
  auto stored = [&] { return FactStats(*t.store_).value(); };
  const EpochMillis before = stored().position;
  // What facts built over the same ten events without a fault hold.
  FactIndexStats want;
  {
    testing::TempDir ref_dir;
    auto ref_store = storage::Store::Open({ref_dir.path(), false, false}).value();
    auto ref_log = eventlog::EventLog::Open(*ref_store).value();
    eventlog::IngestBatch b;
    for (size_t i = 0; i < 10; ++i) b.events.push_back(t.events_[i]);
    ASSERT_TRUE(ref_log->Append(b).ok());
    FactBuilder ref(*ref_store, *ref_log, t.Factory(1), t.loggers_.Get("facts"), {.lag_ms = 0});
    ASSERT_TRUE(ref.Start().ok());
    ASSERT_TRUE(ref.CatchUp().ok());
    want = FactStats(*ref_store).value();
  }
  ASSERT_GT(want.position, before);
  ASSERT_GT(want.facts, 0u);
  Projector p(disk, *t.log_, t.Factory(1), t.loggers_.Get("projector"));
  p.EnableFacts({.lag_ms = 0}, nullptr);
  disk.full = full_at_start;  // the facts' start writes (none stored yet): it fails
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(disk.failed_writes.load() > 0, full_at_start);
  disk.full = true;
  std::atomic<bool> stop{false}, finished{false};
  Status status;
  std::thread runner([&] {
    status = p.Run(stop);
    finished = true;
  });
  t.Append(5, 10);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while ((p.applied() < 10 || disk.failed_writes.load() < 2) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(finished.load()) << (status ? "stopped" : status.error().message());
  EXPECT_EQ(stored().position, before);  // nothing written while full
  disk.full = false;
  FactIndexStats got;
  while (std::chrono::steady_clock::now() < deadline) {
    got = stored();
    if (got.position == want.position) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop = true;
  runner.join();
  EXPECT_TRUE(status.ok()) << status.error().message();
  got = stored();
  EXPECT_EQ(got.position, want.position);  // caught up, as far as the build without the fault
  EXPECT_EQ(got.facts, want.facts);        // no fact twice, none missing
  EXPECT_EQ(got.gauge_days, want.gauge_days);
  EXPECT_EQ(got.seen_sequence, want.seen_sequence);
}

TEST_F(ProjectorTest, AVersionBumpRebuildsFromTheStartOfTheLog) {
  Append(0, events_.size());
  {
    auto p = Make(1);
    ASSERT_TRUE(p->CatchUp().ok());
  }
  auto p = Make(2);
  // Only the bumped projection rebuilt (replayed up to where the others are); the others
  // resumed from the checkpoint.
  EXPECT_EQ(p->rebuilt(), std::vector<std::string>{"versioned"});
  EXPECT_EQ(p->applied(), events_.size());
  ASSERT_TRUE(p->CatchUp().ok());
  EXPECT_EQ(p->Snapshot(kNow).counters(), Reference().counters());
}

// A projection added to the build (pulse joined the first four this way) finds no checkpoint
// of its own on an existing state directory: it alone rebuilds from the start of the log, up
// to where the others are, and then counts exactly what one pass counts.
TEST_F(ProjectorTest, AnAddedProjectionRebuildsAloneFromTheStartOfTheLog) {
  Append(0, events_.size());
  {
    // Before: a build with OncallLoad only.
    auto before = [] {
      std::vector<std::unique_ptr<projections::Projection>> list;
      list.push_back(std::make_unique<projections::OncallLoad>(projections::Settings{}));
      return std::make_unique<projections::Pipeline>(
          testing::LoadDirectory(kScenario + "config.toml"), projections::Settings{},
          std::move(list));
    };
    Projector p(*store_, *log_, before, loggers_.Get("projector"));
    ASSERT_TRUE(p.Start().ok());
    ASSERT_TRUE(p.CatchUp().ok());
    ASSERT_EQ(p.applied(), events_.size());
  }
  auto p = Make();  // OncallLoad and the added Versioned
  EXPECT_EQ(p->rebuilt(), std::vector<std::string>{"versioned"});
  EXPECT_EQ(p->applied(), events_.size());
  ASSERT_TRUE(p->CatchUp().ok());
  // Versioned counts every event: short of the whole log if it had started where the
  // checkpoint was.
  EXPECT_EQ(p->Snapshot(kNow).counters(), Reference().counters());
}

// The same with the product's list: a state directory checkpointed by the four projections
// before pulse existed rebuilds only pulse.
TEST_F(ProjectorTest, PulseAddedToAnExistingStateDirectoryRebuildsAlone) {
  Append(0, events_.size());
  auto registry = [](bool with_pulse) {
    return [with_pulse] {
      auto list = projections::MakeProjections(projections::Settings{});
      EXPECT_EQ(list.back()->name(), "pulse");  // added last
      if (!with_pulse) list.pop_back();
      return std::make_unique<projections::Pipeline>(
          testing::LoadDirectory(kScenario + "config.toml"), projections::Settings{},
          std::move(list));
    };
  };
  {
    Projector p(*store_, *log_, registry(false), loggers_.Get("projector"));
    ASSERT_TRUE(p.Start().ok());
    EXPECT_EQ(p.rebuilt().size(), 4u);
    ASSERT_TRUE(p.CatchUp().ok());
  }
  Projector p(*store_, *log_, registry(true), loggers_.Get("projector"));
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(p.rebuilt(), std::vector<std::string>{"pulse"});
  EXPECT_EQ(p.applied(), events_.size());
  ASSERT_TRUE(p.CatchUp().ok());
}

TEST_F(ProjectorTest, ACorruptCheckpointIsAnError) {
  Append(0, 3);
  {
    auto p = Make();
    ASSERT_TRUE(p->CatchUp().ok());
  }
  storage::WriteBatch wb;
  std::string bad;
  bad.push_back(static_cast<char>(200));
  wb.Put(storage::Column::kProjections, "state", bad);
  ASSERT_TRUE(store_->Write(wb).ok());
  Projector p(*store_, *log_, Factory(1), loggers_.Get("projector"));
  EXPECT_FALSE(p.Start().ok());
}

// A definition rebuilds exactly the projections the definitions table says depend on it.
TEST_F(ProjectorTest, ADefinitionChangeRebuildsOnlyTheProjectionsItAffects) {
  Append(0, events_.size());
  auto run = [&](projections::Settings settings) {
    Projector p(*store_, *log_, Factory(1, settings), loggers_.Get("projector"));
    EXPECT_TRUE(p.Start().ok());
    auto rebuilt = p.rebuilt();
    EXPECT_TRUE(p.CatchUp().ok());
    return rebuilt;
  };
  EXPECT_EQ(run({}), (std::vector<std::string>{"oncall_load", "versioned"}));  // first start
  EXPECT_EQ(run({}), std::vector<std::string>{});
  projections::Settings merge;
  merge.page_merge_ms = 30'000;  // oncall_load (and burnout) depend on it
  EXPECT_EQ(run(merge), std::vector<std::string>{"oncall_load"});
  projections::Settings threshold = merge;
  threshold.wip_limit = 7;  // applied at export only: nothing rebuilds
  EXPECT_EQ(run(threshold), std::vector<std::string>{});
  projections::Settings cost = threshold;
  cost.switch_cost_minutes = 10;  // context_switching only, which is not in this pipeline
  EXPECT_EQ(run(cost), std::vector<std::string>{});
}

// A directory event appended while running that makes an identity an alias of a person
// (history recorded before the directory listed it) rebuilds everything, and the numbers then
// equal one pass with the whole directory known.
TEST_F(ProjectorTest, AnAliasLearnedWhileRunningRebuildsEverything) {
  Append(0, events_.size());
  auto p = Make();
  ASSERT_TRUE(p->CatchUp().ok());
  // PBOB turns out to be another identity of PALICE: the log holds their pseudonyms, read
  // from the escalation that pages both (assignees PALICE, PBOB).
  std::vector<std::string> both;
  ASSERT_TRUE(log_->ForEach(Sequence(1), [&](Sequence, const schema::Event& e) {
                    if (e.id() != "pagerduty:e5") return true;
                    const schema::EventView view(e);
                    const auto assignees = projections::ListAttr(view, "assignees");
                    both.assign(assignees.begin(), assignees.end());
                    return true;
                  }).ok());
  ASSERT_EQ(both.size(), 2u);
  schema::Event upsert;
  upsert.set_id("directory:alias-test");
  upsert.set_source("directory");
  upsert.set_type("directory.person_upserted");
  upsert.set_occurred_at_ms(kNow - 1);
  upsert.mutable_subject()->set_kind("person");
  upsert.mutable_subject()->set_id(both[0]);
  auto* aliases = upsert.add_attrs();
  aliases->set_name("aliases");
  aliases->mutable_value()->mutable_list_value()->add_values(both[1]);
  auto* teams = upsert.add_attrs();
  teams->set_name("teams");
  teams->mutable_value()->mutable_list_value()->add_values("payments");
  eventlog::IngestBatch b;
  b.events.push_back(upsert);
  ASSERT_TRUE(log_->Append(b).ok());
  const auto before = p->Snapshot(kNow).counters();
  ASSERT_TRUE(p->CatchUp().ok());
  EXPECT_EQ(p->rebuilt(), (std::vector<std::string>{"oncall_load", "versioned"}));
  const auto after = p->Snapshot(kNow).counters();
  EXPECT_NE(after, before);  // Alice and Bob's pages are now one person's
  EXPECT_EQ(after, Reference().counters());
  // A restart resumes: the stored resolution equals the log's.
  auto again = Make();
  EXPECT_EQ(again->rebuilt(), std::vector<std::string>{});
  EXPECT_EQ(again->Snapshot(kNow).counters(), after);
}

}  // namespace
}  // namespace teamhealth::projector
