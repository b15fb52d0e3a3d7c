#include "teamhealth/eventlog/event_log.h"

#include <gtest/gtest.h>

#include "log_events.h"
#include "teamhealth/storage/store.h"
#include "temp_dir.h"

namespace teamhealth::eventlog {
namespace {

schema::Event MakeEvent(const std::string& id, int64_t at_ms = 1000) {
  return testing::IncidentEvent(id, at_ms);
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

// The log as `serve` opens it: with an identity key (docs/design.md section 6).
IdentityKey TestKey() {
  return IdentityKey::FromBytes("event-log-test-key-0123456789abcdef", "test key").value();
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
    auto log = EventLog::Open(*store_, {.identity_key = TestKey()});
    ASSERT_TRUE(log.ok()) << log.error().message();
    log_ = std::move(*log);
  }

  std::vector<std::string> Ids() { return testing::LogIds(*log_); }

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
  ASSERT_TRUE(log_->ForEach(Sequence(1),
                            [&](Sequence s, const schema::Event&) {
                              seqs.push_back(s.value());
                              return true;
                            })
                  .ok());
  EXPECT_EQ(seqs, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(Ids(), (std::vector<std::string>{"canonical:a", "canonical:b", "canonical:c"}));
}

TEST_F(EventLogTest, IterationIsInAppendOrderBeyondByteBoundaries) {
  // 300 events cross the 255 -> 256 boundary where little-endian keys would sort wrongly.
  IngestBatch b;
  for (int i = 0; i < 300; ++i) b.events.push_back(MakeEvent(std::to_string(i)));
  ASSERT_TRUE(log_->Append(b).ok());
  uint64_t expected = 1;
  ASSERT_TRUE(log_->ForEach(Sequence(1),
                            [&](Sequence s, const schema::Event& e) {
                              EXPECT_EQ(s.value(), expected);
                              EXPECT_EQ(e.id(), "canonical:" + std::to_string(expected - 1));
                              ++expected;
                              return true;
                            })
                  .ok());
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
  EXPECT_EQ(
      r->delta.quarantined[std::make_pair(std::string("canonical"), std::string("invalid_json"))],
      2u);
  std::vector<std::pair<uint64_t, int64_t>> seen;
  ASSERT_TRUE(log_->ForEachQuarantined([&](uint64_t seq, const schema::QuarantineRecord& q) {
                    seen.emplace_back(seq, q.offset());
                    return true;
                  })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::pair<uint64_t, int64_t>>{{1, 3}, {2, 4}, {3, 5}}));
  EXPECT_EQ(log_->LastSequence(), Sequence(0));  // quarantine does not consume sequences
}

TEST_F(EventLogTest, TheSameBadRecordIsQuarantinedOnceAcrossBatchesAndReopens) {
  IngestBatch b;
  b.quarantined = {MakeQuarantine(3, "invalid_json"), MakeQuarantine(3, "invalid_json")};
  auto r = log_->Append(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->quarantine_stored, (std::vector<bool>{true, false}));  // twice in one batch
  Reopen();
  IngestBatch again;
  schema::QuarantineRecord changed = MakeQuarantine(3, "invalid_json");
  changed.set_content_hash("abd");  // the same place with another body: a new record
  again.quarantined = {MakeQuarantine(3, "invalid_json"), changed, MakeQuarantine(4, "empty")};
  r = log_->Append(again);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->quarantine_stored, (std::vector<bool>{false, true, true}));
  EXPECT_EQ(log_->QuarantineCount(), 3u);
  EXPECT_EQ(log_->counters().quarantined.at({"canonical", "invalid_json"}), 2u);
  EXPECT_EQ(log_->counters().duplicate.at("canonical"), 2u);
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

TEST_F(EventLogTest, EventsRoundTripThroughStorageWithPseudonymsForPeople) {
  IngestBatch b;
  auto e = MakeEvent("x", 1772489645120);
  e.set_actor("pagerduty:PX1");
  auto* attr = e.add_attrs();
  attr->set_name("assignees");
  attr->mutable_value()->mutable_list_value()->add_values("pagerduty:PX1");
  attr->mutable_value()->mutable_list_value()->add_values("pagerduty:PX2");
  auto* urgency = e.add_attrs();
  urgency->set_name("urgency");
  urgency->mutable_value()->set_string_value("high");
  b.events = {e};
  ASSERT_TRUE(log_->Append(b).ok());
  auto read = log_->Read(Sequence(1));
  ASSERT_TRUE(read.ok());
  ASSERT_TRUE(read->has_value());
  const schema::Event& got = **read;
  EXPECT_EQ(got.schema_version(), kSchemaVersion);
  EXPECT_EQ(got.id(), e.id());
  EXPECT_EQ(got.occurred_at_ms(), e.occurred_at_ms());
  // People are pseudonyms: the same person gets the same one, another person another.
  EXPECT_TRUE(got.actor().starts_with("p:")) << got.actor();
  const auto& assignees = got.attrs(0).value().list_value().values();
  EXPECT_EQ(assignees[0], got.actor());
  EXPECT_NE(assignees[1], got.actor());
  EXPECT_TRUE(assignees[1].starts_with("p:"));
  // Non-person attributes are untouched.
  EXPECT_EQ(got.attrs(1).value().string_value(), "high");
  // The raw identity is stored nowhere.
  std::string all;
  for (auto column : {storage::Column::kLog, storage::Column::kIdentities, storage::Column::kMeta,
                      storage::Column::kDedup}) {
    auto it = store_->NewIterator(column);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      all.append(it->key());
      all.append(it->value());
    }
  }
  EXPECT_EQ(all.find("PX1"), std::string::npos);
  EXPECT_EQ(all.find("PX2"), std::string::npos);
}

TEST_F(EventLogTest, PseudonymsSurviveReopen) {
  IngestBatch b1;
  auto e1 = MakeEvent("a");
  e1.set_actor("slack:U1");
  b1.events = {e1};
  ASSERT_TRUE(log_->Append(b1).ok());
  const std::string first = (*log_->Read(Sequence(1)))->actor();
  Reopen();
  IngestBatch b2;
  auto e2 = MakeEvent("b");
  e2.set_actor("slack:U1");
  b2.events = {e2};
  ASSERT_TRUE(log_->Append(b2).ok());
  EXPECT_EQ((*log_->Read(Sequence(2)))->actor(), first);
}

DirectoryPerson Alice() {
  return DirectoryPerson{"alice",        {"slack:UALICE", "github:alice"},
                         {"payments"},   "Europe/London",
                         {"Mon", "Tue"}, "09:00-17:00",
                         "22:00-07:00"};
}

TEST_F(EventLogTest, DirectorySyncAppendsUpsertsOnlyWhenSomethingChanged) {
  // Alice's Slack identity was seen before the directory knew her.
  IngestBatch b;
  auto e = MakeEvent("a");
  e.set_actor("slack:UALICE");
  b.events = {e};
  ASSERT_TRUE(log_->Append(b).ok());
  const std::string seen = (*log_->Read(Sequence(1)))->actor();

  auto r1 = log_->SyncDirectory({Alice()}, 5000);
  ASSERT_TRUE(r1.ok()) << r1.error().message();
  EXPECT_EQ(*r1, 1);
  auto up = log_->Read(Sequence(2));
  ASSERT_TRUE(up.ok() && up->has_value());
  EXPECT_EQ((*up)->type(), "directory.person_upserted");
  EXPECT_EQ((*up)->occurred_at_ms(), 5000);
  // Her existing pseudonym is reused, so her history stays linked.
  EXPECT_EQ((*up)->subject().id(), seen);
  std::string json = (*up)->DebugString();
  EXPECT_EQ(json.find("alice"), std::string::npos) << "the handle must not be in the log";

  // Same directory again (a restart): nothing appended.
  Reopen();
  auto r2 = log_->SyncDirectory({Alice()}, 6000);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(*r2, 0);
  EXPECT_EQ(log_->LastSequence(), Sequence(2));

  // Her GitHub identity now maps to the same pseudonym.
  IngestBatch b2;
  auto e2 = MakeEvent("b");
  e2.set_actor("github:alice");
  b2.events = {e2};
  ASSERT_TRUE(log_->Append(b2).ok());
  EXPECT_EQ((*log_->Read(Sequence(3)))->actor(), seen);

  // A team change appends a new revision; leaving the directory appends teams = [].
  auto moved = Alice();
  moved.teams = {"search"};
  ASSERT_EQ(*log_->SyncDirectory({moved}, 7000), 1);
  EXPECT_EQ((*log_->Read(Sequence(4)))->id(), "directory:" + seen + ":2");
  ASSERT_EQ(*log_->SyncDirectory({}, 8000), 1);
  const auto gone = *log_->Read(Sequence(5));
  bool empty_teams = false;
  for (const auto& a : gone->attrs()) {
    if (a.name() == "teams") empty_teams = a.value().list_value().values_size() == 0;
  }
  EXPECT_TRUE(empty_teams);
  EXPECT_EQ(*log_->SyncDirectory({}, 9000), 0);
}

TEST_F(EventLogTest, NamesOfMapsPseudonymsBackToHandlesForPerPersonSeries) {
  IngestBatch b;
  auto e = MakeEvent("a");
  e.set_actor("github:alice");  // seen before the directory: becomes an alias
  b.events = {e};
  ASSERT_TRUE(log_->Append(b).ok());
  const std::string early = (*log_->Read(Sequence(1)))->actor();
  ASSERT_TRUE(log_->SyncDirectory({Alice()}, 1000).ok());
  auto names = log_->NamesOf({Alice()});
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->at(early), "alice");
  EXPECT_EQ(names->size(), 1u);  // both identities now point at her one pseudonym
}

TEST_F(EventLogTest, AnIdentityAddedToAnUnchangedPersonIsMappedAtOnce) {
  ASSERT_TRUE(log_->SyncDirectory({Alice()}, 1000).ok());
  auto more = Alice();
  more.identities.push_back("pagerduty:PALICE");  // nothing else changed
  auto r = log_->SyncDirectory({more}, 2000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0);  // no new upsert: teams, zone and hours are the same
  Reopen();          // and the mapping was written, not just cached
  IngestBatch b;
  auto e1 = MakeEvent("a");
  e1.set_actor("slack:UALICE");
  auto e2 = MakeEvent("b");
  e2.set_actor("pagerduty:PALICE");
  b.events = {e1, e2};
  ASSERT_TRUE(log_->Append(b).ok());
  const auto last = log_->LastSequence().value();
  EXPECT_EQ((*log_->Read(Sequence(last)))->actor(), (*log_->Read(Sequence(last - 1)))->actor());
}

TEST_F(EventLogTest, EraseUnlinksThePseudonymButKeepsTheEvents) {
  ASSERT_TRUE(log_->SyncDirectory({Alice()}, 1000).ok());
  IngestBatch b;
  auto e = MakeEvent("a");
  e.set_actor("slack:UALICE");
  b.events = {e};
  ASSERT_TRUE(log_->Append(b).ok());
  const std::string pseudonym = (*log_->Read(Sequence(2)))->actor();

  auto erased = log_->Erase("alice", Alice().identities, 2000);
  ASSERT_TRUE(erased.ok()) << erased.error().message();
  EXPECT_TRUE(*erased);
  const auto last = *log_->Read(log_->LastSequence());
  EXPECT_EQ(last->type(), "directory.person_erased");
  EXPECT_EQ(last->subject().id(), pseudonym);
  // Past events keep the pseudonym...
  EXPECT_EQ((*log_->Read(Sequence(2)))->actor(), pseudonym);
  // ...but nothing maps her identities to it any more: a new event gets a new pseudonym.
  IngestBatch b2;
  auto e2 = MakeEvent("b");
  e2.set_actor("slack:UALICE");
  b2.events = {e2};
  ASSERT_TRUE(log_->Append(b2).ok());
  EXPECT_NE((*log_->Read(log_->LastSequence()))->actor(), pseudonym);
  auto it = store_->NewIterator(storage::Column::kIdentities);
  for (it->SeekToFirst(); it->Valid(); it->Next()) EXPECT_NE(it->value(), pseudonym);
  // Erasing an unknown handle says so.
  auto again = log_->Erase("alice", {}, 3000);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
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
