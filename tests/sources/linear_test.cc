// Edge cases of the linear normaliser beyond the golden files (tests/sources/golden/linear).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "teamhealth/sources/event_json.h"
#include "teamhealth/sources/source.h"

namespace teamhealth::sources {
namespace {

class LinearTest : public ::testing::Test {
 protected:
  void SetOptions(SourceOptions options) {
    registry_ = MakeSourceRegistry(options);
    source_ = registry_->Find("linear");
  }

  NormalizeResult Run(std::string_view body, int64_t record_ms = 1700000000000) {
    NormalizeResult out;
    RawRecord r;
    r.topic = "linear-webhooks";
    r.partition = 0;
    r.offset = 9;
    r.timestamp_ms = record_ms;
    r.value = body;
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
  Source* source_ = registry_->Find("linear");
};

// An Issue payload whose current state is (state_id, name, type).
std::string IssueBody(std::string_view action, std::string_view state_id,
                      std::string_view state_name, std::string_view state_type,
                      std::string_view updated_from = "",
                      std::string_view updated_at = "2024-06-03T08:00:00.250Z") {
  std::string body = R"({"action":")" + std::string(action) +
                     R"(","type":"Issue","webhookTimestamp":1717401600400,"data":{"id":"i1",)"
                     R"("identifier":"ENG-1","title":"T","createdAt":"2024-06-01T00:00:00Z",)"
                     R"("updatedAt":")" +
                     std::string(updated_at) + R"(","stateId":")" + std::string(state_id) +
                     R"(","state":{"id":")" + std::string(state_id) + R"(","name":")" +
                     std::string(state_name) + R"(","type":")" + std::string(state_type) +
                     R"("},"team":{"key":"ENG"}})";
  if (!updated_from.empty()) body += R"(,"updatedFrom":)" + std::string(updated_from);
  return body + "}";
}

TEST_F(LinearTest, LearnsStateNamesAndCategoriesForTheFromSide) {
  // The create shows state s-todo ("Todo", unstarted).
  auto created = Run(IssueBody("create", "s-todo", "Todo", "unstarted"));
  ASSERT_EQ(created.events.size(), 1u);
  EXPECT_EQ(Attr(created.events[0], "status_category"), "todo");
  // The update only says the old stateId was s-todo: its name and category were learned.
  auto moved = Run(IssueBody("update", "s-doing", "Doing", "started", R"({"stateId":"s-todo"})"));
  ASSERT_EQ(moved.events.size(), 1u);
  const auto& e = moved.events[0];
  EXPECT_EQ(e.type(), "work_item.status_changed");
  EXPECT_EQ(Attr(e, "from"), "Todo");
  EXPECT_EQ(Attr(e, "from_category"), "todo");
  EXPECT_EQ(Attr(e, "to"), "Doing");
  EXPECT_EQ(Attr(e, "to_category"), "in_progress");
  // A state never seen: null name and category.
  auto unknown = Run(IssueBody("update", "s-done", "Done", "completed",
                               R"({"stateId":"s-never-seen"})", "2024-06-03T09:00:00.000Z"));
  ASSERT_EQ(unknown.events.size(), 1u);
  EXPECT_EQ(Attr(unknown.events[0], "from"), "<null>");
  EXPECT_EQ(Attr(unknown.events[0], "from_category"), "<null>");
  EXPECT_EQ(Attr(unknown.events[0], "to_category"), "done");
}

TEST_F(LinearTest, StateTypesMapToCategories) {
  const std::vector<std::pair<std::string_view, std::string_view>> cases = {
      {"triage", "todo"},         {"backlog", "todo"},   {"unstarted", "todo"},
      {"started", "in_progress"}, {"completed", "done"}, {"canceled", "done"},
      {"mystery", "<null>"}};
  for (const auto& [type, category] : cases) {
    auto out = Run(IssueBody("create", std::string("s-") + std::string(type), "S", type));
    ASSERT_EQ(out.events.size(), 1u) << type;
    EXPECT_EQ(Attr(out.events[0], "status_category"), category) << type;
  }
}

TEST_F(LinearTest, ConfigOverridesByStateIdAndName) {
  SourceOptions options;
  options.status_categories["linear:s-review"] = "in_progress";
  options.status_categories["linear:Parked"] = "todo";
  SetOptions(options);
  auto out = Run(IssueBody("create", "s-review", "In Review", "completed"));
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(Attr(out.events[0], "status_category"), "in_progress");
  out = Run(IssueBody("create", "s-parked", "Parked", "started"));
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(Attr(out.events[0], "status_category"), "todo");
}

TEST_F(LinearTest, PriorityNamesComeFromTheNumber) {
  auto out = Run(R"({"action":"update","type":"Issue","data":{"id":"i1","priority":3.0,)"
                 R"("priorityLabel":"Normal","updatedAt":"2024-06-03T08:00:00.250Z"},)"
                 R"("updatedFrom":{"priority":4,"priorityLabel":"Low"}})");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].type(), "work_item.priority_changed");
  EXPECT_EQ(Attr(out.events[0], "from"), "Low");
  EXPECT_EQ(Attr(out.events[0], "to"), "Medium");
}

TEST_F(LinearTest, AssignmentFromSomeoneToNobody) {
  auto out = Run(R"({"action":"update","type":"Issue","data":{"id":"i1","assigneeId":null,)"
                 R"("updatedAt":"2024-06-03T08:00:00.250Z"},"updatedFrom":{"assigneeId":"u1"}})");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(Attr(out.events[0], "from"), "linear:u1");
  EXPECT_EQ(Attr(out.events[0], "to"), "<null>");
  EXPECT_EQ(out.events[0].actor(), "");  // no actor in the envelope: unknown
}

TEST_F(LinearTest, DedupIdDependsOnActionObjectAndUpdateTime) {
  const std::string a = IssueBody("update", "s1", "S", "started", R"({"title":"x"})");
  EXPECT_EQ(Run(a).events[0].id(), Run(a).events[0].id());
  const std::string later =
      IssueBody("update", "s1", "S", "started", R"({"title":"x"})", "2024-06-03T08:00:01.000Z");
  EXPECT_NE(Run(later).events[0].id(), Run(a).events[0].id());
  const std::string removed = IssueBody("remove", "s1", "S", "started");
  EXPECT_NE(Run(removed).events[0].id(), Run(a).events[0].id());
}

TEST_F(LinearTest, TimeSources) {
  // create: data.createdAt.
  auto out = Run(IssueBody("create", "s1", "S", "started"));
  EXPECT_EQ(out.events[0].occurred_at_ms(), 1717200000000);
  // remove: the delivery time, not the last edit.
  out = Run(IssueBody("remove", "s1", "S", "started"));
  EXPECT_EQ(out.events[0].occurred_at_ms(), 1717401600400);
  // Nothing at all: the record time.
  out = Run(R"({"action":"remove","type":"Issue","data":{"id":"i1"}})", 1234);
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].occurred_at_ms(), 1234);
  // A bad webhookTimestamp is a bad timestamp.
  out = Run(R"({"action":"remove","type":"Issue","webhookTimestamp":"soon","data":{"id":"i1"}})");
  ASSERT_TRUE(out.rejection.has_value());
  EXPECT_EQ(out.rejection->reason, Reason::kBadTimestamp);
}

TEST_F(LinearTest, NeverCopiesTextIntoEvents) {
  const std::vector<std::string> bodies = {
      R"({"action":"create","type":"Comment","data":{"id":"c1","body":"SECRET-1",)"
      R"("issueId":"i1","userId":"u1","createdAt":"2024-06-03T08:00:00Z",)"
      R"("updatedAt":"2024-06-03T08:00:00Z"}})",
      R"({"action":"update","type":"Issue","data":{"id":"i1","description":"SECRET-2",)"
      R"("descriptionData":"{\"SECRET-3\":1}","updatedAt":"2024-06-03T08:00:00Z"},)"
      R"("updatedFrom":{"description":"SECRET-4","descriptionData":"SECRET-5"}})"};
  for (const auto& body : bodies) {
    auto out = Run(body);
    ASSERT_EQ(out.events.size(), 1u) << body;
    std::string json;
    AppendEventJson(out.events[0], json);
    EXPECT_EQ(json.find("SECRET"), std::string::npos) << json;
  }
}

TEST_F(LinearTest, ActorFromTheEnvelopeWhenPresent) {
  auto out = Run(R"({"action":"create","type":"Comment","actor":{"id":"u9","type":"user"},)"
                 R"("data":{"id":"c1","issueId":"i1","userId":"u1",)"
                 R"("createdAt":"2024-06-03T08:00:00Z"}})");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].actor(), "linear:u9");
  out = Run(R"({"action":"create","type":"Comment","actor":{"id":"app1","type":"Integration"},)"
            R"("data":{"id":"c1","issueId":"i1","userId":"u1",)"
            R"("createdAt":"2024-06-03T08:00:00Z"}})");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].actor(), "");
}

TEST_F(LinearTest, Rejections) {
  struct Case {
    std::string_view body;
    Reason reason;
  };
  for (const Case& c : std::vector<Case>{
           {"", Reason::kEmpty},
           {"[1]", Reason::kInvalidJson},
           {R"({"action":"create","type":"Issue"} x)", Reason::kInvalidJson},
           {R"({"action":1,"type":"Issue"})", Reason::kInvalidField},
           {R"({"action":"create","type":"Issue","data":"x"})", Reason::kInvalidField},
           {R"({"action":"create","type":"Issue"})", Reason::kMissingField},
           {R"({"action":"create","type":"Comment","data":{"id":"c1"}})", Reason::kMissingField},
           {R"({"action":"create","type":"Issue","data":{"id":"i1","createdAt":"x"}})",
            Reason::kBadTimestamp},
       }) {
    auto out = Run(c.body);
    ASSERT_TRUE(out.rejection.has_value()) << c.body;
    EXPECT_EQ(out.rejection->reason, c.reason) << c.body;
  }
}

TEST_F(LinearTest, IgnoresOtherTypesAndCommentDeletions) {
  for (std::string_view body :
       {R"({"action":"create","type":"Reaction","data":{"id":"r1"}})",
        R"({"action":"update","type":"Cycle","data":{"id":"y1"}})",
        R"({"action":"remove","type":"Comment","data":{"id":"c1","issueId":"i1"}})",
        // an update that leaves the text alone is no edit
        R"({"action":"update","type":"Comment","data":{"id":"c1","issueId":"i1",)"
        R"("updatedAt":"2024-06-03T08:00:00Z"},"updatedFrom":{"reactionData":[]}})"}) {
    auto out = Run(body);
    EXPECT_FALSE(out.rejection.has_value()) << body;
    EXPECT_TRUE(out.ignored) << body;
  }
}

// docs/design.md section 4: an edited comment is an activity on its item.
TEST_F(LinearTest, CommentTextEditIsAnEditedComment) {
  auto out = Run(R"({"action":"update","type":"Comment","actor":{"id":"u9","type":"user"},)"
                 R"("data":{"id":"c1","issueId":"i1","userId":"u1",)"
                 R"("updatedAt":"2024-06-03T08:00:00.250Z"},"updatedFrom":{"body":"old"}})");
  ASSERT_EQ(out.events.size(), 1u);
  const auto& e = out.events[0];
  EXPECT_EQ(e.type(), "work_item.commented");
  EXPECT_EQ(e.actor(), "linear:u9");  // the envelope's actor first
  EXPECT_EQ(e.subject().id(), "i1");
  EXPECT_EQ(e.occurred_at_ms(), 1717401600250);
  ASSERT_EQ(e.attrs_size(), 1);
  EXPECT_EQ(e.attrs(0).name(), "edited");
  EXPECT_TRUE(e.attrs(0).value().bool_value());
  // Without updatedFrom nothing tells an edit from another change.
  out = Run(R"({"action":"update","type":"Comment","data":{"id":"c1","issueId":"i1"}})");
  ASSERT_TRUE(out.rejection.has_value());
  EXPECT_EQ(out.rejection->reason, Reason::kMissingField);
}

}  // namespace
}  // namespace teamhealth::sources
