#include "teamhealth/projector/projector.h"

#include <gtest/gtest.h>

#include "scenario.h"
#include "teamhealth/projections/event_access.h"
#include "teamhealth/projections/oncall_load.h"
#include "teamhealth/projections/registry.h"
#include "temp_dir.h"

namespace teamhealth::projector {
namespace {

const std::string kScenario = std::string(TEAMHEALTH_PROJECTION_TESTS) + "/oncall_load/";
constexpr EpochMillis kNow = 1775001600000;  // 2026-04-01T00:00:00Z

// A projection whose version the test controls, to check the rebuild on a version bump.
class Versioned final : public projections::Projection {
 public:
  explicit Versioned(uint32_t version) : version_(version) {}
  std::string_view name() const override { return "versioned"; }
  uint32_t version() const override { return version_; }
  void Apply(const schema::Event& e, const projections::DirectoryView&,
             projections::MetricSink& sink) override {
    sink.Add("teamhealth_context_switches_total", projections::MakeLabels({{"team", "t"}}), 1,
             e.occurred_at_ms());
  }
  void ExportGauges(EpochMillis, const projections::DirectoryView&,
                    projections::MetricSink&) const override {}
  std::string Save() const override { return {}; }
  bool Load(std::string_view b) override { return b.empty(); }

 private:
  uint32_t version_;
};

class ProjectorTest : public ::testing::Test {
 protected:
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
  std::unique_ptr<Projector> Make(uint32_t versioned = 1) {
    std::vector<std::unique_ptr<projections::Projection>> list;
    list.push_back(std::make_unique<projections::OncallLoad>(projections::Settings{}));
    list.push_back(std::make_unique<Versioned>(versioned));
    auto p = std::make_unique<Projector>(
        *store_, *log_, testing::LoadDirectory(kScenario + "config.toml"), std::move(list),
        projections::Settings{}, loggers_.Get("projector"));
    EXPECT_TRUE(p->Start().ok());
    return p;
  }
  // What one pass over the log gives, computed directly.
  projections::Accumulator Reference() {
    std::vector<schema::Event> stored;
    EXPECT_TRUE(log_->ForEach(Sequence(1),
                              [&](Sequence, const schema::Event& e) {
                                stored.push_back(e);
                                return true;
                              })
                    .ok());
    auto directory = testing::LoadDirectory(kScenario + "config.toml");
    projections::OncallLoad oncall{projections::Settings{}};
    Versioned versioned(1);
    projections::Accumulator acc;
    for (const auto& e : stored) {
      directory.Apply(e);
      oncall.Apply(e, directory, acc);
      versioned.Apply(e, directory, acc);
    }
    oncall.ExportGauges(kNow, directory, acc);
    std::map<std::string, int> sizes;
    for (const auto& t : directory.Teams()) sizes[t] = directory.Members(t, kNow).size();
    acc.SuppressSmallTeams(sizes, projections::Settings{}.min_group_size);
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
  Append(10, events_.size());
  auto p = Make();
  EXPECT_EQ(p->applied(), 10u);  // resumed, not rebuilt
  ASSERT_TRUE(p->CatchUp().ok());
  const auto want = Reference();
  const auto got = p->Snapshot(kNow);
  EXPECT_EQ(got.counters(), want.counters());
  EXPECT_EQ(got.gauges(), want.gauges());
  EXPECT_EQ(got.Save(), want.Save());
  EXPECT_EQ(got.counters().at("teamhealth_context_switches_total").begin()->second,
            static_cast<double>(events_.size()));
}

TEST_F(ProjectorTest, AVersionBumpRebuildsFromTheStartOfTheLog) {
  Append(0, events_.size());
  {
    auto p = Make(1);
    ASSERT_TRUE(p->CatchUp().ok());
  }
  auto p = Make(2);
  EXPECT_EQ(p->applied(), 0u);  // discarded the old state
  ASSERT_TRUE(p->CatchUp().ok());
  EXPECT_EQ(p->Snapshot(kNow).counters(), Reference().counters());
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
  std::vector<std::unique_ptr<projections::Projection>> list;
  list.push_back(std::make_unique<projections::OncallLoad>(projections::Settings{}));
  list.push_back(std::make_unique<Versioned>(1));
  Projector p(*store_, *log_, testing::LoadDirectory(kScenario + "config.toml"), std::move(list),
              projections::Settings{}, loggers_.Get("projector"));
  EXPECT_FALSE(p.Start().ok());
}

}  // namespace
}  // namespace teamhealth::projector
