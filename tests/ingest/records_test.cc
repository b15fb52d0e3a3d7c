// The per-record step shared by Kafka ingest and `teamhealth import` (ingest/records.h).
#include "teamhealth/ingest/records.h"

#include <gtest/gtest.h>

#include <string>

#include "teamhealth/base/hash.h"

namespace teamhealth::ingest {
namespace {

constexpr const char* kEvent =
    R"({"id":"canonical:r-1","source":"canonical","type":"incident.acknowledged",)"
    R"("occurred_at":"2026-03-02T10:00:00.000Z","actor":null,)"
    R"("subject":{"kind":"incident","id":"Q1"},"attrs":{}})";

sources::RawRecord Record(std::string_view value) {
  return {.topic = "import:/tmp/history.jsonl", .partition = -1, .offset = 7,
          .timestamp_ms = 1772445600000, .value = value};
}

class AddRecordTest : public ::testing::Test {
 protected:
  std::unique_ptr<sources::SourceRegistry> registry_ = sources::MakeSourceRegistry();
  sources::NormalizeResult scratch_;
  eventlog::IngestBatch batch_;
};

TEST_F(AddRecordTest, AddsTheEventsWithTheRecordsOrigin) {
  EXPECT_EQ(AddRecord(Record(kEvent), registry_->Find("canonical"), 1 << 20, scratch_, batch_),
            RecordOutcome::kEvents);
  ASSERT_EQ(batch_.events.size(), 1u);
  EXPECT_EQ(batch_.events[0].id(), "canonical:r-1");
  EXPECT_EQ(batch_.events[0].origin().topic(), "import:/tmp/history.jsonl");
  EXPECT_EQ(batch_.events[0].origin().partition(), -1);
  EXPECT_EQ(batch_.events[0].origin().offset(), 7);
  EXPECT_TRUE(batch_.quarantined.empty());
}

TEST_F(AddRecordTest, QuarantinesByReferenceNeverTheBody) {
  const std::string body = R"({"secret text that must not be kept")";
  EXPECT_EQ(AddRecord(Record(body), registry_->Find("canonical"), 1 << 20, scratch_, batch_),
            RecordOutcome::kQuarantined);
  ASSERT_EQ(batch_.quarantined.size(), 1u);
  const auto& q = batch_.quarantined[0];
  EXPECT_EQ(q.topic(), "import:/tmp/history.jsonl");
  EXPECT_EQ(q.partition(), -1);
  EXPECT_EQ(q.offset(), 7);
  EXPECT_EQ(q.source(), "canonical");
  EXPECT_EQ(q.reason(), "invalid_json");
  EXPECT_EQ(q.content_hash(), ContentHash(body));
  EXPECT_EQ(q.kafka_timestamp_ms(), 1772445600000);
  EXPECT_EQ(q.SerializeAsString().find("secret"), std::string::npos);
  EXPECT_TRUE(batch_.events.empty());
}

TEST_F(AddRecordTest, ARecordAboveTheLimitIsQuarantinedUnparsed) {
  EXPECT_EQ(AddRecord(Record(kEvent), registry_->Find("canonical"), 16, scratch_, batch_),
            RecordOutcome::kQuarantined);
  ASSERT_EQ(batch_.quarantined.size(), 1u);
  EXPECT_EQ(batch_.quarantined[0].reason(), "too_large");
  EXPECT_TRUE(batch_.events.empty());
}

TEST_F(AddRecordTest, NoSourceIsQuarantinedAndAPayloadOfNoInterestIgnored) {
  EXPECT_EQ(AddRecord(Record(kEvent), nullptr, 1 << 20, scratch_, batch_),
            RecordOutcome::kQuarantined);
  EXPECT_EQ(batch_.quarantined.back().reason(), "no_source");
  EXPECT_EQ(batch_.quarantined.back().source(), "unknown");
  const std::string challenge = R"({"type":"url_verification","challenge":"c","token":"t"})";
  EXPECT_EQ(AddRecord(Record(challenge), registry_->Find("slack"), 1 << 20, scratch_, batch_),
            RecordOutcome::kIgnored);
  EXPECT_EQ(batch_.ignored_by_source["slack"], 1u);
  EXPECT_TRUE(batch_.events.empty());
}

}  // namespace
}  // namespace teamhealth::ingest
