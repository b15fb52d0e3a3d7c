// The ingest pipeline's writer thread: dedup across batches in flight together, backpressure,
// merging by bytes and records, and what a failed write leaves behind.
#include "teamhealth/ingest/log_writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "full_disk_store.h"
#include "log_events.h"
#include "teamhealth/ingest/ingestor.h"
#include "teamhealth/storage/store.h"
#include "temp_dir.h"

namespace teamhealth::ingest {
namespace {

// A Store over a real one whose writes wait at a gate while it is closed, so that a test can
// hold the writer thread inside a write while it queues more batches. Thread-safe.
class GatedStore final : public testing::ForwardingStore {
 public:
  explicit GatedStore(storage::Store& inner) : ForwardingStore(inner) {}

  void Close() {
    std::lock_guard lock(mu_);
    open_ = false;
  }
  void Open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  // Waits until `n` writes have reached the gate (in total).
  void WaitForWrites(int n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return arrived_ >= n; });
  }

  Status Write(storage::WriteBatch& batch) override {
    {
      std::unique_lock lock(mu_);
      ++arrived_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return open_; });
    }
    return inner_.Write(batch);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  int arrived_ = 0;
};

class CountingObserver final : public IngestObserver {
 public:
  void OnBatch(const eventlog::AppendOutcome& outcome) override {
    ++batches;
    for (const auto& [source, n] : outcome.delta.duplicate) duplicates += n;
  }
  void OnLag(std::string_view, int64_t) override {}
  std::atomic<int> batches{0};
  std::atomic<uint64_t> duplicates{0};
};

// One consumed batch: an event per id, as records offset.. of partition 0.
eventlog::IngestBatch Batch(const std::vector<std::string>& ids, int64_t next_offset) {
  eventlog::IngestBatch b;
  for (const auto& id : ids) b.events.push_back(testing::IncidentEvent(id));
  b.next_offsets[TopicPartition{"t", PartitionId(0)}] = KafkaOffset(next_offset);
  return b;
}

class LogWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = storage::Store::Open({dir_.path(), false, false});
    ASSERT_TRUE(store.ok()) << store.error().message();
    store_ = std::move(*store);
    disk_ = std::make_unique<testing::FullDiskStore>(*store_);
    gate_ = std::make_unique<GatedStore>(*disk_);
    auto log = eventlog::EventLog::Open(*gate_);
    ASSERT_TRUE(log.ok()) << log.error().message();
    log_ = std::move(*log);
  }

  std::unique_ptr<LogWriter> MakeWriter(WriteLimits limits = {}) {
    return std::make_unique<LogWriter>(*log_, observer_, limits, std::function<Status()>());
  }

  std::vector<std::string> Ids() { return testing::LogIds(*log_); }

  KafkaOffset StoredOffset() {
    auto offsets = log_->Offsets();
    EXPECT_TRUE(offsets.ok());
    const auto it = offsets->find(TopicPartition{"t", PartitionId(0)});
    return it == offsets->end() ? KafkaOffset(-1) : it->second;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<testing::FullDiskStore> disk_;  // over store_
  std::unique_ptr<GatedStore> gate_;              // over disk_
  std::unique_ptr<eventlog::EventLog> log_;
  CountingObserver observer_;
};

// The duplicate of an event arrives while its first copy is still being written (and, in the
// merged case, while both wait in the queue): it is written once and counted as a duplicate,
// whether the writer writes the queued batches separately (max_records 2) or as one write.
class InFlightDuplicateTest : public LogWriterTest,
                              public ::testing::WithParamInterface<size_t> {};

TEST_P(InFlightDuplicateTest, ADuplicateOfAnEventNotYetWrittenIsWrittenOnce) {
  auto writer = MakeWriter({.max_records = GetParam()});
  gate_->Close();
  ASSERT_TRUE(writer->Push(Batch({"a", "b"}, 2), 2, 100));
  gate_->WaitForWrites(1);  // "a" is inside its write, not in the log yet
  ASSERT_TRUE(writer->Push(Batch({"c", "a"}, 4), 2, 100));
  ASSERT_TRUE(writer->Push(Batch({"c", "d"}, 6), 2, 100));
  EXPECT_EQ(log_->LastSequence(), Sequence(0));
  gate_->Open();
  writer->Drain();
  EXPECT_FALSE(writer->Failure());
  EXPECT_EQ(Ids(), (std::vector<std::string>{"canonical:a", "canonical:b", "canonical:c",
                                             "canonical:d"}));
  EXPECT_EQ(observer_.duplicates.load(), 2u);
  EXPECT_EQ(log_->counters().duplicate.at("canonical"), 2u);
  EXPECT_EQ(StoredOffset(), KafkaOffset(6));
  EXPECT_EQ(observer_.batches.load(), GetParam() >= 4 ? 2 : 3);
}

INSTANTIATE_TEST_SUITE_P(SeparateOrMerged, InFlightDuplicateTest, ::testing::Values(2, 4));

// Queued batches are merged into one write up to the byte limit (never splitting one), and the
// write stores the next offset of the last of them.
TEST_F(LogWriterTest, MergesQueuedBatchesUpToTheByteLimit) {
  auto writer = MakeWriter({.max_bytes = 6000});
  gate_->Close();
  ASSERT_TRUE(writer->Push(Batch({"0"}, 1), 1, 3000));
  gate_->WaitForWrites(1);
  for (int i = 1; i <= 4; ++i) {
    ASSERT_TRUE(writer->Push(Batch({std::to_string(i)}, i + 1), 1, 3000));
  }
  gate_->Open();
  writer->Drain();
  // 0 | 1 2 | 3 4
  EXPECT_EQ(observer_.batches.load(), 3);
  EXPECT_EQ(writer->writes(), 3u);
  EXPECT_EQ(Ids().size(), 5u);
  EXPECT_EQ(StoredOffset(), KafkaOffset(5));
  EXPECT_EQ(writer->TakeCommitted().at(TopicPartition{"t", PartitionId(0)}), KafkaOffset(5));
  EXPECT_TRUE(writer->TakeCommitted().empty()) << "taken twice";
}

// Push blocks while the queue holds queue_max_bytes, and returns once the writer makes room:
// the consuming thread cannot run ahead of the disk by more than that.
TEST_F(LogWriterTest, PushBlocksWhileTheQueueIsFull) {
  auto writer = MakeWriter({.queue_max_bytes = 20000});
  gate_->Close();
  ASSERT_TRUE(writer->Push(Batch({"0"}, 1), 1, 9000));  // taken: the writer waits at the gate
  gate_->WaitForWrites(1);
  ASSERT_TRUE(writer->Push(Batch({"1"}, 2), 1, 9000));  // queued: 10 KB counted
  std::atomic<bool> returned{false};
  std::thread pusher([&] {
    EXPECT_TRUE(writer->Push(Batch({"2"}, 3), 1, 9000));  // would make 20 KB + overhead
    returned = true;
  });
  // A negative check needs some time: the push must still be waiting after it.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(returned.load()) << "Push did not wait for room in the queue";
  gate_->Open();
  pusher.join();
  EXPECT_TRUE(returned.load());
  writer->Drain();
  EXPECT_EQ(Ids().size(), 3u);
  EXPECT_EQ(StoredOffset(), KafkaOffset(3));
}

// A failed write writes nothing, drops what was queued behind it (the consumer reads those
// records again from the stored offsets) and refuses pushes until Resume; no offset of the
// failed or dropped batches is reported as committed.
TEST_F(LogWriterTest, AFailedWriteDropsTheQueueAndRefusesPushesUntilResume) {
  auto writer = MakeWriter();
  ASSERT_TRUE(writer->Push(Batch({"a"}, 1), 1, 10));
  writer->Drain();
  EXPECT_EQ(writer->TakeCommitted().size(), 1u);

  gate_->Close();
  disk_->full = true;
  ASSERT_TRUE(writer->Push(Batch({"b"}, 2), 1, 10));
  gate_->WaitForWrites(2);
  ASSERT_TRUE(writer->Push(Batch({"c"}, 3), 1, 10));  // queued behind the failing write
  gate_->Open();
  writer->Drain();
  ASSERT_TRUE(writer->Failure());
  EXPECT_TRUE(writer->Failure()->no_space());
  EXPECT_FALSE(writer->Push(Batch({"d"}, 4), 1, 10)) << "a push after the failure was taken";
  EXPECT_TRUE(writer->TakeCommitted().empty());
  EXPECT_TRUE(writer->Idle());
  EXPECT_EQ(writer->writes(), 1u);
  EXPECT_EQ(StoredOffset(), KafkaOffset(1));

  disk_->full = false;
  writer->Resume();
  ASSERT_TRUE(writer->Push(Batch({"b", "c"}, 3), 2, 20));  // read again
  writer->Drain();
  EXPECT_FALSE(writer->Failure());
  EXPECT_EQ(Ids(), (std::vector<std::string>{"canonical:a", "canonical:b", "canonical:c"}));
  EXPECT_EQ(log_->counters().duplicate.count("canonical"), 0u);
  EXPECT_EQ(StoredOffset(), KafkaOffset(3));
}

// Stop writes what is queued before the thread ends (SIGTERM loses no consumed batch), and
// between_writes runs on the writer thread after writes and while idle.
TEST_F(LogWriterTest, StopWritesWhatIsQueuedAndBetweenWritesRuns) {
  std::atomic<int> between{0};
  auto writer = std::make_unique<LogWriter>(*log_, observer_, WriteLimits{.max_records = 1},
                                            [&] {
                                              ++between;
                                              return Status::Ok();
                                            });
  gate_->Close();
  ASSERT_TRUE(writer->Push(Batch({"a"}, 1), 1, 10));
  gate_->WaitForWrites(1);
  ASSERT_TRUE(writer->Push(Batch({"b"}, 2), 1, 10));
  ASSERT_TRUE(writer->Push(Batch({"c"}, 3), 1, 10));
  std::thread stopper([&] { writer->Stop(); });
  gate_->Open();
  stopper.join();
  EXPECT_EQ(Ids().size(), 3u);
  EXPECT_EQ(StoredOffset(), KafkaOffset(3));
  EXPECT_GE(between.load(), 3);
}

// A failing between_writes (the log's other writer) stops writing like a failed write.
TEST_F(LogWriterTest, AFailingBetweenWritesStopsWriting) {
  LogWriter writer(*log_, observer_, {}, [] { return Status(Error("directory broken")); });
  ASSERT_TRUE(writer.Push(Batch({"a"}, 1), 1, 10));
  writer.Drain();
  ASSERT_TRUE(writer.Failure());
  EXPECT_EQ(writer.Failure()->message(), "directory broken");
  EXPECT_FALSE(writer.Push(Batch({"b"}, 2), 1, 10));
}

}  // namespace
}  // namespace teamhealth::ingest
