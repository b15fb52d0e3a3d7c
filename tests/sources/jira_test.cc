// Edge cases of the jira normaliser beyond the golden files (tests/sources/golden/jira).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "teamhealth/sources/event_json.h"
#include "teamhealth/sources/source.h"

namespace teamhealth::sources {
namespace {

class JiraTest : public ::testing::Test {
 protected:
  void SetOptions(SourceOptions options) {
    registry_ = MakeSourceRegistry(options);
    source_ = registry_->Find("jira");
  }

  NormalizeResult Run(std::string_view body, std::vector<RecordHeader> headers = {},
                      int64_t record_ms = 1700000000000) {
    headers_ = std::move(headers);
    NormalizeResult out;
    RawRecord r;
    r.topic = "jira-webhooks";
    r.partition = 2;
    r.offset = 41;
    r.timestamp_ms = record_ms;
    r.value = body;
    r.headers = headers_;
    source_->Normalize(r, out);
    return out;
  }

  static std::string Attr(const schema::Event& e, std::string_view name) {
    for (const auto& a : e.attrs()) {
      if (a.name() != name) continue;
      if (a.value().has_null_value()) return "<null>";
      return a.value().string_value();
    }
    return "<absent>";
  }

  std::unique_ptr<SourceRegistry> registry_ = MakeSourceRegistry();
  Source* source_ = registry_->Find("jira");
  std::vector<RecordHeader> headers_;
};

// An issue_updated moving issue 1 from status `from` to status `to`; the body shows the new
// status with category `to_cat_key`.
std::string Transition(std::string_view from_id, std::string_view from_name, std::string_view to_id,
                       std::string_view to_name, std::string_view to_cat_key,
                       int64_t ts = 1740996845120) {
  return R"({"timestamp":)" + std::to_string(ts) +
         R"(,"webhookEvent":"jira:issue_updated","issue_event_type_name":"issue_generic",)"
         R"("user":{"accountId":"a1"},"issue":{"id":"1","key":"K-1","fields":{"status":)"
         R"({"id":")" +
         std::string(to_id) + R"(","name":")" + std::string(to_name) +
         R"(","statusCategory":{"key":")" + std::string(to_cat_key) +
         R"("}}}},)"
         R"("changelog":{"id":"9","items":[{"field":"status","fieldId":"status","from":")" +
         std::string(from_id) + R"(","fromString":")" + std::string(from_name) + R"(","to":")" +
         std::string(to_id) + R"(","toString":")" + std::string(to_name) + R"("}]}})";
}

TEST_F(JiraTest, LearnsStatusCategoriesAcrossPayloads) {
  // First payload: To Do -> In Progress. "In Progress" (3) is learned as in_progress.
  auto first = Run(Transition("10001", "To Do", "3", "In Progress", "indeterminate"));
  ASSERT_EQ(first.events.size(), 1u);
  EXPECT_EQ(Attr(first.events[0], "from_category"), "<null>");  // never seen
  EXPECT_EQ(Attr(first.events[0], "to_category"), "in_progress");
  // Second payload: In Progress -> Done. The `from` category is now known.
  auto second = Run(Transition("3", "In Progress", "10002", "Done", "done", 1740996900000));
  ASSERT_EQ(second.events.size(), 1u);
  EXPECT_EQ(Attr(second.events[0], "from_category"), "in_progress");
  EXPECT_EQ(Attr(second.events[0], "to_category"), "done");
}

TEST_F(JiraTest, LearnsFromCommentEventsToo) {
  // A comment event's cut-down issue still shows the current status.
  Run(R"({"timestamp":1,"webhookEvent":"comment_created","comment":{"id":"5","author":)"
      R"({"accountId":"a1"}},"issue":{"id":"1","fields":{"status":{"id":"77","name":"QA",)"
      R"("statusCategory":{"key":"indeterminate"}}}}})");
  auto out = Run(Transition("77", "QA", "10002", "Done", "done"));
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(Attr(out.events[0], "from_category"), "in_progress");
}

TEST_F(JiraTest, ConfigOverridesByIdAndByName) {
  SourceOptions options;
  options.status_categories["jira:10001"] = "in_progress";  // by id, beats the body's "new"
  options.status_categories["jira:Blocked"] = "todo";       // by name
  SetOptions(options);
  auto out = Run(Transition("55", "Blocked", "10001", "Doing", "new"));
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(Attr(out.events[0], "from_category"), "todo");
  EXPECT_EQ(Attr(out.events[0], "to_category"), "in_progress");
}

TEST_F(JiraTest, UnknownStatusCategoryKeyIsNull) {
  auto out = Run(Transition("1", "Open", "2", "Weird", "undefined"));
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(Attr(out.events[0], "to_category"), "<null>");
}

TEST_F(JiraTest, LongIdsSurviveTheBuildersBufferGrowing) {
  // The builder keeps every string in one buffer of 256 bytes to start with; ids, suffixes and
  // person references longer than that make it grow while it copies from itself.
  const std::string delivery(700, 'd');
  const std::string account(300, 'a');
  const std::string body =
      R"({"timestamp":1740996845120,"webhookEvent":"jira:issue_updated","user":)"
      R"({"accountId":")" + account + R"("},"issue":{"id":"1"},"changelog":{"id":"9","items":[)"
      R"({"field":"priority","fieldId":"priority","fromString":"Low","toString":"High"},)"
      R"({"field":"labels","fieldId":"labels","toString":"x"}]}})";
  auto out = Run(body, {{"X-Atlassian-Webhook-Identifier", delivery}});
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_EQ(out.events[0].id(), "jira:" + delivery + "#1");
  EXPECT_EQ(out.events[1].id(), "jira:" + delivery + "#2");
  EXPECT_EQ(out.events.id(1), "jira:" + delivery + "#2");
  EXPECT_EQ(out.events[0].actor(), "jira:" + account);
  EXPECT_EQ(out.events[1].actor(), "jira:" + account);
  EXPECT_EQ(out.events[0].source(), "jira");
}

TEST_F(JiraTest, HeaderGivesTheDedupIdAndSuffixesFollowIt) {
  const std::string body =
      R"({"timestamp":1740996845120,"webhookEvent":"jira:issue_updated","user":)"
      R"({"accountId":"a1"},"issue":{"id":"1"},"changelog":{"id":"9","items":[)"
      R"({"field":"priority","fieldId":"priority","fromString":"Low","toString":"High"},)"
      R"({"field":"labels","fieldId":"labels","toString":"x"}]}})";
  auto out = Run(body, {{"X-ATLASSIAN-WEBHOOK-IDENTIFIER", "abc-123"}});
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_EQ(out.events[0].id(), "jira:abc-123#1");
  EXPECT_EQ(out.events[1].id(), "jira:abc-123#2");
  EXPECT_EQ(out.events[0].origin().offset(), 41);
  // Without the header the id is a stable hash: the same payload twice, the same ids.
  auto a = Run(body);
  auto b = Run(body);
  ASSERT_EQ(a.events.size(), 2u);
  EXPECT_EQ(a.events[0].id(), b.events[0].id());
  EXPECT_NE(a.events[0].id(), "jira:abc-123#1");
  // A different timestamp is a different delivery.
  std::string later = body;
  later.replace(later.find("1740996845120"), 13, "1740996845121");
  EXPECT_NE(Run(later).events[0].id(), a.events[0].id());
}

TEST_F(JiraTest, CommentAndWorklogIdsSeparateEventsAtTheSameMillisecond) {
  auto comment = [&](std::string_view id) {
    return Run(R"({"timestamp":5,"webhookEvent":"comment_created","comment":{"id":")" +
               std::string(id) + R"(","author":{"accountId":"a1"}},"issue":{"id":"1"}})");
  };
  EXPECT_NE(comment("100").events[0].id(), comment("101").events[0].id());
}

TEST_F(JiraTest, UsesTheRecordTimeOnlyWithoutAnyTimeInThePayload) {
  auto out = Run(R"({"webhookEvent":"jira:issue_deleted","issue":{"id":"1"}})", {}, 1234567890123);
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].occurred_at_ms(), 1234567890123);
  // An issue time with a colon-less offset is preferred to the record time.
  out = Run(R"({"webhookEvent":"jira:issue_deleted","issue":{"id":"1","fields":)"
            R"({"updated":"2019-02-15T22:48:33.120+0530"}}})");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].occurred_at_ms(), 1550251113120);
}

TEST_F(JiraTest, RejectsBadTimes) {
  for (std::string_view body :
       {R"({"timestamp":-5,"webhookEvent":"jira:issue_deleted","issue":{"id":"1"}})",
        R"({"timestamp":1.5e3,"webhookEvent":"jira:issue_deleted","issue":{"id":"1"}})",
        R"({"webhookEvent":"jira:issue_deleted","issue":{"id":"1","fields":)"
        R"({"updated":"15/02/2019"}}})"}) {
    auto out = Run(body);
    ASSERT_TRUE(out.rejection.has_value()) << body;
    EXPECT_EQ(out.rejection->reason, Reason::kBadTimestamp) << body;
  }
}

TEST_F(JiraTest, RejectionsNameTheFieldAndNeverQuoteThePayload) {
  struct Case {
    std::string_view body;
    Reason reason;
    std::string_view detail;
  };
  for (const Case& c : std::vector<Case>{
           {"", Reason::kEmpty, "empty"},
           {"secret-text", Reason::kInvalidJson, "JSON"},
           {R"("secret-text")", Reason::kInvalidJson, "object"},
           {R"({"webhookEvent":"jira:issue_created"} secret-text)", Reason::kInvalidJson, ""},
           {R"({"webhookEvent":42})", Reason::kInvalidField, "webhookEvent"},
           {R"({"timestamp":1})", Reason::kMissingField, "webhookEvent"},
           {R"({"timestamp":1,"webhookEvent":"jira:issue_created"})", Reason::kMissingField,
            "issue"},
           {R"({"timestamp":1,"webhookEvent":"comment_created","issue":{"id":"1"}})",
            Reason::kMissingField, "comment"},
           {R"({"timestamp":1,"webhookEvent":"worklog_created"})", Reason::kMissingField,
            "worklog"},
           {R"({"timestamp":1,"webhookEvent":"secret-text"})", Reason::kUnsupportedEvent,
            "webhookEvent"},
       }) {
    auto out = Run(c.body);
    ASSERT_TRUE(out.rejection.has_value()) << c.body;
    EXPECT_EQ(out.rejection->reason, c.reason) << c.body;
    EXPECT_NE(out.rejection->detail.find(c.detail), std::string::npos) << out.rejection->detail;
    EXPECT_EQ(out.rejection->detail.find("secret"), std::string::npos) << c.body;
  }
}

TEST_F(JiraTest, NeverCopiesTextIntoEvents) {
  const std::string body =
      R"({"timestamp":1,"webhookEvent":"jira:issue_updated","issue_event_type_name":)"
      R"("issue_commented","user":{"name":"u"},"issue":{"id":"1","fields":{"summary":"T"}},)"
      R"("changelog":{"id":"2","items":[{"field":"description","fieldtype":"jira",)"
      R"("fieldId":"description","fromString":"SECRET-A","toString":"SECRET-B"},)"
      R"({"fieldId":"environment","field":"environment","toString":"SECRET-C"}]},)"
      R"("comment":{"id":"3","body":"SECRET-D","author":{"name":"u"}}})";
  auto out = Run(body);
  ASSERT_EQ(out.events.size(), 2u);
  for (const auto& e : out.events) {
    std::string json;
    AppendEventJson(e, json);
    EXPECT_EQ(json.find("SECRET"), std::string::npos) << json;
  }
  EXPECT_EQ(out.events[0].type(), "work_item.updated");
  EXPECT_EQ(out.events[1].type(), "work_item.commented");
}

TEST_F(JiraTest, ResolvesChangelogUsernamesToAccountIdsShownInThePayload) {
  // The reporter object maps username "bob" to an accountId; "carol" is unknown.
  auto out =
      Run(R"({"timestamp":1,"webhookEvent":"jira:issue_updated","user":{"accountId":"a1",)"
          R"("name":"alice"},"issue":{"id":"1","fields":{"reporter":{"accountId":"b2",)"
          R"("name":"bob","key":"bob"}}},"changelog":{"id":"2","items":[{"field":"assignee",)"
          R"("fieldId":"assignee","from":"bob","to":"carol"}]}})");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(Attr(out.events[0], "from"), "jira:b2");
  EXPECT_EQ(Attr(out.events[0], "to"), "jira:carol");
  // A null tmpToAccountId falls back to `to`.
  out = Run(R"({"timestamp":1,"webhookEvent":"jira:issue_updated","issue":{"id":"1"},)"
            R"("changelog":{"id":"2","items":[{"field":"assignee","fieldId":"assignee",)"
            R"("from":null,"to":"x9","tmpFromAccountId":null,"tmpToAccountId":null}]}})");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(Attr(out.events[0], "from"), "<null>");
  EXPECT_EQ(Attr(out.events[0], "to"), "jira:x9");
  EXPECT_EQ(out.events[0].actor(), "");  // no user: unknown
}

TEST_F(JiraTest, FieldNamesAreStableAcrossCloudAndServer) {
  auto fields = [&](std::string_view items) {
    auto out = Run(R"({"timestamp":1,"webhookEvent":"jira:issue_updated","issue":{"id":"1"},)"
                   R"("changelog":{"id":"2","items":[)" +
                   std::string(items) + "]}}");
    std::vector<std::string> names;
    if (out.events.size() != 1) return names;
    for (const auto& a : out.events[0].attrs()) {
      if (a.name() != "fields") continue;
      for (const auto& v : a.value().list_value().values()) names.push_back(v);
    }
    return names;
  };
  // Cloud: fieldId wins over the display name; Sprint is `sprint` whatever its id.
  EXPECT_EQ(fields(R"({"field":"Fix Version","fieldId":"fixVersions"},)"
                   R"({"field":"Sprint","fieldId":"customfield_10020"},)"
                   R"({"field":"Story Points","fieldId":"customfield_10016"})"),
            (std::vector<std::string>{"fixVersions", "sprint", "customfield_10016"}));
  // Server: display names through the alias table, case-insensitively; repeats once.
  EXPECT_EQ(
      fields(R"({"field":"Fix Version"},{"field":"Resolution"},{"field":"Labels"},)"
             R"({"field":"sprint"},{"field":"Component/s"},{"field":"Fix Version"})"),
      (std::vector<std::string>{"fixVersions", "resolution", "labels", "sprint", "components"}));
}

TEST_F(JiraTest, EmptyChangelogIssueAssignedUsesTheCurrentAssignee) {
  auto out = Run(R"({"timestamp":1,"webhookEvent":"jira:issue_updated",)"
                 R"("issue_event_type_name":"issue_assigned","issue":{"id":"1","fields":)"
                 R"({"assignee":{"name":"srv.user","key":"JIRAUSER100"}}},)"
                 R"("changelog":{"id":"2","items":[]}})");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].type(), "work_item.assigned");
  EXPECT_EQ(Attr(out.events[0], "from"), "<null>");
  EXPECT_EQ(Attr(out.events[0], "to"), "jira:srv.user");  // Server: username, not key
}

TEST_F(JiraTest, IgnoresValidEventsThatCarryNoWork) {
  for (std::string_view event :
       {"comment_deleted", "worklog_updated", "jira:worklog_updated", "worklog_deleted",
        "sprint_closed", "board_created", "project_updated", "jira:version_released",
        "user_created", "issuelink_created"}) {
    auto out = Run(R"({"timestamp":1,"webhookEvent":")" + std::string(event) + R"("})");
    EXPECT_FALSE(out.rejection.has_value()) << event;
    EXPECT_TRUE(out.ignored) << event;
    EXPECT_TRUE(out.events.empty()) << event;
  }
}

// docs/design.md section 4: a changed worklog is ignored, so its time is counted once, by the
// worklog_created that logged it.
TEST_F(JiraTest, ChangedWorklogIsIgnoredNotCountedAgain) {
  auto out = Run(R"({"timestamp":1550286700000,"webhookEvent":"worklog_updated","worklog":)"
                 R"({"id":"7","issueId":"10014","author":{"accountId":"a1"},)"
                 R"("timeSpentSeconds":7200,"updated":"2019-02-15T19:11:40.000-0800"}})");
  EXPECT_FALSE(out.rejection.has_value());
  EXPECT_TRUE(out.ignored);
  EXPECT_TRUE(out.events.empty());
}

// An administrator's edit of someone else's comment: the editor (updateAuthor) is the actor.
TEST_F(JiraTest, CommentEditIsAnActivityOfTheEditor) {
  auto out = Run(R"({"timestamp":1550286700000,"webhookEvent":"comment_updated",)"
                 R"("comment":{"id":"10019","author":{"accountId":"author-1"},)"
                 R"("updateAuthor":{"accountId":"admin-2"}},"issue":{"id":"10040"}})");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].type(), "work_item.commented");
  EXPECT_EQ(out.events[0].actor(), "jira:admin-2");
  ASSERT_EQ(out.events[0].attrs_size(), 1);
  EXPECT_TRUE(out.events[0].attrs(0).value().bool_value());  // edited: true
  // Without updateAuthor, the author; an app editor (Automation) is no person.
  out = Run(R"({"timestamp":1,"webhookEvent":"comment_updated","comment":{"id":"1",)"
            R"("author":{"accountId":"author-1"}},"issue":{"id":"1"}})");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].actor(), "jira:author-1");
  out = Run(R"({"timestamp":1,"webhookEvent":"comment_updated","comment":{"id":"1",)"
            R"("author":{"accountId":"author-1"},)"
            R"("updateAuthor":{"accountId":"bot-1","accountType":"app"}},"issue":{"id":"1"}})");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].actor(), "");
  // An edit needs its comment, like a new comment.
  out = Run(R"({"timestamp":1,"webhookEvent":"comment_updated","issue":{"id":"1"}})");
  ASSERT_TRUE(out.rejection.has_value());
  EXPECT_EQ(out.rejection->reason, Reason::kMissingField);
}

// Server's issue_updated for a deleted comment carries it at top level: no event.
TEST_F(JiraTest, ServerCommentDeletionIsIgnored) {
  auto out = Run(R"({"timestamp":1,"webhookEvent":"jira:issue_updated",)"
                 R"("issue_event_type_name":"issue_comment_deleted","user":{"name":"alice"},)"
                 R"("issue":{"id":"1"},"comment":{"id":"2","author":{"name":"alice"}}})");
  EXPECT_FALSE(out.rejection.has_value());
  EXPECT_TRUE(out.ignored);
}

TEST_F(JiraTest, WorklogWithoutSecondsHasNullSeconds) {
  auto out = Run(R"({"timestamp":1,"webhookEvent":"worklog_created","worklog":{"id":"1",)"
                 R"("issueId":10014,"author":{"accountId":"a1"}}})");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].subject().id(), "10014");  // numeric ids accepted
  EXPECT_EQ(Attr(out.events[0], "seconds"), "<null>");
}

TEST_F(JiraTest, AcceptsNumericIssueAndChangelogIds) {
  auto out = Run(R"({"timestamp":1,"webhookEvent":"jira:issue_deleted","issue":{"id":10040}})");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].subject().id(), "10040");
}

}  // namespace
}  // namespace teamhealth::sources
