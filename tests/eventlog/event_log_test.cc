#include "teamhealth/eventlog/event_log.h"

#include <gtest/gtest.h>

#include "teamhealth/storage/store.h"
#include "temp_dir.h"

namespace teamhealth::eventlog {
namespace {

schema::Event MakeEvent(const std::string& id, int64_t at_ms = 1000) {
  schema::Event e;
  e.set_id("canonical:" + id);
  e.set_source("canonical");
  e.set_type("incident.triggered");
  e.set_occurred_at_ms(at_ms);
  e.mutable_subject()->set_kind("incident");
  e.mutable_subject()->set_id("Q-" + id);
  return e;
}

schema::QuarantineRecord MakeQuarantine(int64_t offset, const std::string& reason) {
  schema::QuarantineRecord q;
  q.set_topic("t");
  q.set_partition(0);
  q.set_offset(offset);
  q.set_source("canonical");
  q.set_reason(reason);
  q.set_content_hash("abc");
  return q;
}

class EventLogTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    log_.reset();
    store_.reset();
    auto store = storage::Store::Open({dir_.path(), false, true});
    ASSERT_TRUE(store.ok()) << store.error().message();
    store_ = std::move(*store);
    auto log = EventLog::Open(*store_);
    ASSERT_TRUE(log.ok()) << log.error().message();
    log_ = std::move(*log);
  }

  std::vector<std::string> Ids() {
    std::vector<std::string> ids;
    EXPECT_TRUE(log_->ForEach(Sequence(1), [&](Sequence, const schema::Event& e) {
      ids.push_back(e.id());
      return true;
    }).ok());
    return ids;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<EventLog> log_;
};

TEST_F(EventLogTest, AppendAssignsDenseSequences) {
  IngestBatch b1;
  b1.events = {MakeEvent("a"), MakeEvent("b")};
  auto r1 = log_->Append(b1);
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1->first, Sequence(1));
  EXPECT_EQ(r1->last, Sequence(2));
  IngestBatch b2;
  b2.events = {MakeEvent("c")};
  auto r2 = log_->Append(b2);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->first, Sequence(3));
  EXPECT_EQ(log_->LastSequence(), Sequence(3));
  std::vector<uint64_t> seqs;
  ASSERT_TRUE(log_->ForEach(Sequence(1), [&](Sequence s, const schema::Event&) {
    seqs.push_back(s.value());
    return true;
  }).ok());
  EXPECT_EQ(seqs, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(Ids(), (std::vector<std::string>{"canonical:a", "canonical:b", "canonical:c"}));
}

TEST_F(EventLogTest, IterationIsInAppendOrderBeyondByteBoundaries) {
  // 300 events cross the 255 -> 256 boundary where little-endian keys would sort wrongly.
  IngestBatch b;
  for (int i = 0; i < 300; ++i) b.events.push_back(MakeEvent(std::to_string(i)));
  ASSERT_TRUE(log_->Append(b).ok());
  uint64_t expected = 1;
  ASSERT_TRUE(log_->ForEach(Sequence(1), [&](Sequence s, const schema::Event& e) {
    EXPECT_EQ(s.value(), expected);
    EXPECT_EQ(e.id(), "canonical:" + std::to_string(expected - 1));
    ++expected;
    return true;
  }).ok());
  EXPECT_EQ(expected, 301u);
}

TEST_F(EventLogTest, DuplicatesAcrossAndWithinBatchesAreDroppedAndCounted) {
  IngestBatch b1;
  b1.events = {MakeEvent("a"), MakeEvent("a"), MakeEvent("b")};
  auto r1 = log_->Append(b1);
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1->delta.ingested["canonical"], 2u);
  EXPECT_EQ(r1->delta.duplicate["canonical"], 1u);
  IngestBatch b2;
  b2.events = {MakeEvent("b"), MakeEvent("c")};
  auto r2 = log_->Append(b2);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->delta.ingested["canonical"], 1u);
  EXPECT_EQ(r2->delta.duplicate["canonical"], 1u);
  EXPECT_EQ(Ids(), (std::vector<std::string>{"canonical:a", "canonical:b", "canonical:c"}));
  auto seq = log_->LookupDedup("canonical:c");
  ASSERT_TRUE(seq.ok());
  ASSERT_TRUE(seq->has_value());
  EXPECT_EQ(**seq, Sequence(3));
  auto missing = log_->LookupDedup("canonical:zzz");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_F(EventLogTest, OffsetsAreStoredWithTheEventsOfTheirBatch) {
  IngestBatch b;
  b.events = {MakeEvent("a")};
  b.next_offsets[{"t", PartitionId(0)}] = KafkaOffset(11);
  b.next_offsets[{"t", PartitionId(2)}] = KafkaOffset(7);
  ASSERT_TRUE(log_->Append(b).ok());
  auto offsets = log_->Offsets();
  ASSERT_TRUE(offsets.ok());
  ASSERT_EQ(offsets->size(), 2u);
  EXPECT_EQ((*offsets)[(TopicPartition{"t", PartitionId(0)})], KafkaOffset(11));
  EXPECT_EQ((*offsets)[(TopicPartition{"t", PartitionId(2)})], KafkaOffset(7));
  // A batch of only duplicates still moves the offsets on.
  IngestBatch dup;
  dup.events = {MakeEvent("a")};
  dup.next_offsets[{"t", PartitionId(0)}] = KafkaOffset(12);
  ASSERT_TRUE(log_->Append(dup).ok());
  EXPECT_EQ(log_->Offsets()->at(TopicPartition{"t", PartitionId(0)}), KafkaOffset(12));
  EXPECT_EQ(log_->LastSequence(), Sequence(1));
}

TEST_F(EventLogTest, QuarantineRecordsAreKeptByReferenceAndCounted) {
  IngestBatch b;
  b.quarantined = {MakeQuarantine(3, "invalid_json"), MakeQuarantine(4, "missing_field"),
                   MakeQuarantine(5, "invalid_json")};
  auto r = log_->Append(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->delta.quarantined[std::make_pair(std::string("canonical"),
                                                std::string("invalid_json"))],
            2u);
  std::vector<std::pair<uint64_t, int64_t>> seen;
  ASSERT_TRUE(log_->ForEachQuarantined([&](uint64_t seq, const schema::QuarantineRecord& q) {
    seen.emplace_back(seq, q.offset());
    return true;
  }).ok());
  EXPECT_EQ(seen, (std::vector<std::pair<uint64_t, int64_t>>{{1, 3}, {2, 4}, {3, 5}}));
  EXPECT_EQ(log_->LastSequence(), Sequence(0));  // quarantine does not consume sequences
}

TEST_F(EventLogTest, ReopenKeepsSequencesCountersOffsetsAndDedup) {
  IngestBatch b;
  b.events = {MakeEvent("a"), MakeEvent("b"), MakeEvent("a")};
  b.quarantined = {MakeQuarantine(9, "bad_timestamp")};
  b.ignored_by_source["canonical"] = 2;
  b.next_offsets[{"t", PartitionId(1)}] = KafkaOffset(42);
  ASSERT_TRUE(log_->Append(b).ok());
  Reopen();
  EXPECT_EQ(log_->LastSequence(), Sequence(2));
  EXPECT_EQ(log_->QuarantineCount(), 1u);
  const auto& c = log_->counters();
  EXPECT_EQ(c.ingested.at("canonical"), 2u);
  EXPECT_EQ(c.duplicate.at("canonical"), 1u);
  EXPECT_EQ(c.ignored.at("canonical"), 2u);
  EXPECT_EQ(c.quarantined.at({"canonical", "bad_timestamp"}), 1u);
  EXPECT_EQ(log_->Offsets()->at(TopicPartition{"t", PartitionId(1)}), KafkaOffset(42));
  // Dedup survives the reopen, and sequences continue densely.
  IngestBatch again;
  again.events = {MakeEvent("b"), MakeEvent("c")};
  auto r = log_->Append(again);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first, Sequence(3));
  EXPECT_EQ(log_->counters().ingested.at("canonical"), 3u);
  EXPECT_EQ(log_->counters().duplicate.at("canonical"), 2u);
  auto e = log_->Read(Sequence(3));
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e->has_value());
  EXPECT_EQ((*e)->id(), "canonical:c");
}

TEST_F(EventLogTest, EventsRoundTripThroughStorage) {
  IngestBatch b;
  auto e = MakeEvent("x", 1772489645120);
  e.set_actor("pagerduty:PX1");
  auto* attr = e.add_attrs();
  attr->set_name("assignees");
  attr->mutable_value()->mutable_list_value()->add_values("pagerduty:PX1");
  b.events = {e};
  ASSERT_TRUE(log_->Append(b).ok());
  auto read = log_->Read(Sequence(1));
  ASSERT_TRUE(read.ok());
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ((*read)->schema_version(), kSchemaVersion);
  e.set_schema_version(kSchemaVersion);
  EXPECT_EQ((*read)->SerializeAsString(), e.SerializeAsString());
}

TEST_F(EventLogTest, DecodeRejectsRecordsFromANewerSchema) {
  schema::Event e = MakeEvent("future");
  e.set_schema_version(kSchemaVersion + 1);
  schema::Event out;
  EXPECT_FALSE(Decode(e.SerializeAsString(), out).ok());
  EXPECT_FALSE(Decode("\xff\xff\xff", out).ok());
}

}  // namespace
}  // namespace teamhealth::eventlog
