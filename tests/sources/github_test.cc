// Edge cases of the github normaliser beyond the golden files (tests/sources/golden/github).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "teamhealth/sources/event_json.h"
#include "teamhealth/sources/source.h"

namespace teamhealth::sources {
namespace {

class GithubTest : public ::testing::Test {
 protected:
  explicit GithubTest(SourceOptions options = {}) : registry_(MakeSourceRegistry(options)) {
    source_ = registry_->Find("github");
  }

  NormalizeResult Run(std::string_view body, std::vector<RecordHeader> headers = {}) {
    headers_ = std::move(headers);
    RawRecord record;
    record.topic = "github";
    record.value = body;
    record.headers = headers_;
    record.timestamp_ms = 1700000000000;
    NormalizeResult out;
    source_->Normalize(record, out);
    return out;
  }

  static std::string Json(const schema::Event& e) {
    std::string line;
    AppendEventJson(e, line);
    return line;
  }

  static std::string Attr(const schema::Event& e, std::string_view name) {
    for (const auto& a : e.attrs()) {
      if (a.name() == name) {
        return a.value().has_null_value() ? "null" : a.value().string_value();
      }
    }
    return "<absent>";
  }

  std::unique_ptr<SourceRegistry> registry_;
  Source* source_ = nullptr;
  std::vector<RecordHeader> headers_;
};

constexpr std::string_view kOpened = R"({
  "action": "opened",
  "issue": {"id": 11, "number": 5, "title": "T", "state": "open",
            "created_at": "2024-01-02T03:04:05.678Z", "updated_at": "2024-01-02T03:04:05Z",
            "assignee": {"login": "ann", "type": "User"}, "body": "SECRET-BODY"},
  "repository": {"full_name": "o/r"},
  "sender": {"login": "ann", "type": "User"}
})";

constexpr std::string_view kLabeledBug = R"({"action": "labeled",
  "issue": {"id": 11, "number": 5, "updated_at": "2024-01-02T03:04:05Z"},
  "label": {"name": "bug"}, "repository": {"full_name": "o/r"}, "sender": {"login": "ann"}})";
constexpr std::string_view kLabeledUrgent = R"({"action": "labeled",
  "issue": {"id": 11, "number": 5, "updated_at": "2024-01-02T03:04:05Z"},
  "label": {"name": "urgent"}, "repository": {"full_name": "o/r"}, "sender": {"login": "ann"}})";

TEST_F(GithubTest, OpenedIssueKeepsMillisecondsAndNeverTheBody) {
  const auto out = Run(kOpened);
  ASSERT_EQ(out.events.size(), 1u);
  const std::string json = Json(out.events[0]);
  EXPECT_NE(json.find("\"occurred_at\":\"2024-01-02T03:04:05.678Z\""), std::string::npos);
  EXPECT_EQ(json.find("SECRET-BODY"), std::string::npos);
  EXPECT_EQ(Attr(out.events[0], "assignee"), "github:ann");
  EXPECT_EQ(Attr(out.events[0], "status_category"), "todo");
}

TEST_F(GithubTest, DeliveryHeaderIsTheDedupIdWhateverItsCase) {
  const auto out = Run(kOpened, {{"x-github-delivery", "abc-123"}, {"X-GITHUB-EVENT", "issues"}});
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].id(), "github:abc-123");
}

TEST_F(GithubTest, ADeliveryHeaderThatIsNotUtf8QuarantinesTheRecord) {
  // JSON strings are UTF-8 (simdjson checks), a header need not be; the log stores the id as a
  // protobuf string, which must be, so the record is refused here rather than unreadable later.
  const auto out = Run(kOpened, {{"X-GitHub-Delivery", "abc-\xff"}, {"X-GitHub-Event", "issues"}});
  ASSERT_TRUE(out.rejection.has_value());
  EXPECT_EQ(out.rejection->reason, Reason::kInvalidField);
  EXPECT_NE(out.rejection->detail.find("UTF-8"), std::string::npos) << out.rejection->detail;
  EXPECT_TRUE(out.events.empty());
  // Valid UTF-8 beyond ASCII is kept.
  const auto ok = Run(kOpened, {{"X-GitHub-Delivery", "abc-\xc3\xa9"}, {"X-GitHub-Event", "issues"}});
  ASSERT_EQ(ok.events.size(), 1u);
  EXPECT_EQ(ok.events[0].id(), "github:abc-\xc3\xa9");
}

TEST_F(GithubTest, HashedDedupIdIsStableAndSeparatesTwoLabelsInOneSecond) {
  const auto a = Run(kLabeledBug);
  const auto again = Run(kLabeledBug);
  const auto b = Run(kLabeledUrgent);
  ASSERT_EQ(a.events.size(), 1u);
  ASSERT_EQ(again.events.size(), 1u);
  ASSERT_EQ(b.events.size(), 1u);
  EXPECT_EQ(a.events[0].id(), again.events[0].id());
  EXPECT_NE(a.events[0].id(), b.events[0].id());
  EXPECT_EQ(a.events[0].id().size(), std::string("github:").size() + 32);
}

TEST_F(GithubTest, InferredEventNameMatchesTheHeader) {
  const auto with = Run(kOpened, {{"X-GitHub-Event", "issues"}});
  const auto without = Run(kOpened);
  ASSERT_EQ(with.events.size(), 1u);
  ASSERT_EQ(without.events.size(), 1u);
  EXPECT_EQ(Json(with.events[0]), Json(without.events[0]));
}

TEST_F(GithubTest, HeaderWinsOverInference) {
  // The same body announced as an event we do not consume is ignored, not guessed at.
  const auto out = Run(kOpened, {{"X-GitHub-Event", "issue_dependencies"}});
  EXPECT_TRUE(out.ignored);
  EXPECT_TRUE(out.events.empty());
  EXPECT_FALSE(out.rejection.has_value());
}

TEST_F(GithubTest, PayloadWithoutAnyTimeFallsBackToTheRecordTime) {
  const auto out = Run(R"({"action": "labeled", "issue": {"id": 1, "number": 2},
      "label": {"name": "x"}, "repository": {"full_name": "o/r"}, "sender": {"login": "a"}})");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].occurred_at_ms(), 1700000000000);
}

TEST_F(GithubTest, ClosedWithoutClosedAtUsesUpdatedAt) {
  const auto out = Run(R"({"action": "closed", "issue": {"id": 1, "number": 2, "state": "closed",
      "closed_at": null, "updated_at": "2024-05-06T07:08:09Z"},
      "repository": {"full_name": "o/r"}, "sender": {"login": "a"}})");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_NE(Json(out.events[0]).find("2024-05-06T07:08:09.000Z"), std::string::npos);
}

TEST_F(GithubTest, OpenedWithoutCreatedAtUsesUpdatedAtBeforeTheRecordTime) {
  const auto out = Run(R"({"action": "opened", "issue": {"id": 1, "number": 2,
      "updated_at": "2024-05-06T07:08:09Z"}, "repository": {"full_name": "o/r"},
      "sender": {"login": "a"}})");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].occurred_at_ms(), 1714979289000);
}

TEST_F(GithubTest, MergedWithoutMergedAtUsesClosedAt) {
  const auto out = Run(R"({"action": "closed", "pull_request": {"id": 1, "number": 2,
      "merged": true, "merged_at": null, "closed_at": "2024-05-06T07:08:09Z",
      "updated_at": "2024-05-06T07:09:00Z"}, "repository": {"full_name": "o/r"},
      "sender": {"login": "a"}})");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].type(), "pull_request.merged");
  EXPECT_NE(Json(out.events[0]).find("2024-05-06T07:08:09.000Z"), std::string::npos);
}

TEST_F(GithubTest, RejectsEmptyAndNonJsonBodies) {
  auto out = Run("");
  ASSERT_TRUE(out.rejection.has_value());
  EXPECT_EQ(out.rejection->reason, Reason::kEmpty);
  out = Run("not json at all");
  ASSERT_TRUE(out.rejection.has_value());
  EXPECT_EQ(out.rejection->reason, Reason::kInvalidJson);
  out = Run(std::string(kOpened) + " {}");
  ASSERT_TRUE(out.rejection.has_value());
  EXPECT_EQ(out.rejection->reason, Reason::kInvalidJson);
}

TEST_F(GithubTest, RejectionDetailNamesTheFieldNotItsValue) {
  const auto out = Run(R"({"action": "opened", "issue": {"id": 1, "number": 2,
      "created_at": "sometime SECRET"}, "repository": {"full_name": "o/r"}})");
  ASSERT_TRUE(out.rejection.has_value());
  EXPECT_EQ(out.rejection->reason, Reason::kBadTimestamp);
  EXPECT_NE(out.rejection->detail.find("issue.created_at"), std::string::npos);
  EXPECT_EQ(out.rejection->detail.find("SECRET"), std::string::npos);
}

TEST_F(GithubTest, ReusesItsBuffersAcrossRecordsOfDifferentSizes) {
  std::string big(kOpened);
  big.insert(big.size() - 1, R"(, "padding": ")" + std::string(100000, 'x') + "\"");
  ASSERT_EQ(Run(big).events.size(), 1u);
  const auto small = Run(kLabeledBug);
  ASSERT_EQ(small.events.size(), 1u);
  EXPECT_EQ(small.events[0].type(), "work_item.updated");
  EXPECT_EQ(Run(kOpened).events.size(), 1u);
}

class GithubOverrideTest : public GithubTest {
 protected:
  GithubOverrideTest() : GithubTest(Options()) {}
  static SourceOptions Options() {
    SourceOptions o;
    o.status_categories["github:open"] = "in_progress";
    return o;
  }
};

TEST_F(GithubOverrideTest, ConfigOverridesTheStatusCategory) {
  auto out = Run(kOpened);
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(Attr(out.events[0], "status_category"), "in_progress");
  out = Run(R"({"action": "closed", "issue": {"id": 1, "number": 2,
      "closed_at": "2024-05-06T07:08:09Z"}, "repository": {"full_name": "o/r"},
      "sender": {"login": "a"}})");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(Attr(out.events[0], "from_category"), "in_progress");
  EXPECT_EQ(Attr(out.events[0], "to_category"), "done");
}

// docs/design.md section 4 makes an edit an activity; a deletion is none.
TEST_F(GithubTest, CommentDeletionIsIgnored) {
  const auto out = Run(R"({"action": "deleted", "issue": {"id": 1, "number": 2},
      "comment": {"id": 3, "created_at": "2024-03-02T10:15:30Z"},
      "repository": {"full_name": "acme/pay"}, "sender": {"login": "bob"}})",
                       {{"X-GitHub-Event", "issue_comment"}});
  EXPECT_FALSE(out.rejection.has_value());
  EXPECT_TRUE(out.ignored);
}

}  // namespace
}  // namespace teamhealth::sources
