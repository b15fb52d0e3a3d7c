// Edge cases of the opsgenie normaliser beyond the golden files (tests/sources/golden/opsgenie).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "teamhealth/sources/event_json.h"
#include "teamhealth/sources/source.h"

namespace teamhealth::sources {
namespace {

class OpsgenieTest : public ::testing::Test {
 protected:
  NormalizeResult Run(std::string_view body, int64_t record_ms = 1700000000000,
                      int64_t offset = 1) {
    NormalizeResult out;
    RawRecord r;
    r.topic = "og";
    r.offset = offset;
    r.timestamp_ms = record_ms;
    r.value = body;
    source_->Normalize(r, out);
    return out;
  }

  // The one event of `body`; fails the test otherwise.
  schema::Event One(std::string_view body) {
    auto out = Run(body);
    EXPECT_FALSE(out.rejection.has_value())
        << body << ": " << (out.rejection ? out.rejection->detail : "");
    EXPECT_EQ(out.events.size(), 1u) << body;
    return out.events.empty() ? schema::Event{} : out.events[0];
  }

  static std::string Json(const schema::Event& e) {
    std::string s;
    AppendEventJson(e, s);
    return s;
  }

  static std::string AttrJson(const schema::Event& e) {
    const std::string s = Json(e);
    return s.substr(s.find("\"attrs\""));
  }

  std::unique_ptr<SourceRegistry> registry_ = MakeSourceRegistry();
  Source* source_ = registry_->Find("opsgenie");
};

// A body of `action` whose alert has the given extra members.
std::string Body(std::string_view action, std::string_view alert_extra = "",
                 std::string_view updated_at = "1420452224764002246") {
  std::string alert = R"({"alertId":"A1","tinyId":"23","message":"disk full",)"
                      R"("username":"fili@example.com","createdAt":1420452191104)";
  if (!updated_at.empty()) alert += R"(,"updatedAt":)" + std::string(updated_at);
  if (!alert_extra.empty()) alert += "," + std::string(alert_extra);
  alert += "}";
  return R"({"action":")" + std::string(action) + R"(","alert":)" + alert +
         R"(,"source":{"name":"","type":"web"},"integrationId":"I1","integrationName":"Team A"})";
}

TEST_F(OpsgenieTest, UpdatedAtIsReadAsAnIntegerToTheLastDigit) {
  // As a double these two are the same number; as integers they are two updates.
  const auto a = One(Body("Acknowledge", "", "1420452224764002246"));
  const auto b = One(Body("Acknowledge", "", "1420452224764002247"));
  EXPECT_NE(a.id(), b.id());
  EXPECT_EQ(a.occurred_at_ms(), 1420452224764);
  EXPECT_EQ(b.occurred_at_ms(), 1420452224764);
  // The same digits as a string are the same update.
  const auto c = One(Body("Acknowledge", "", "\"1420452224764002246\""));
  EXPECT_EQ(c.id(), a.id());
  // A bridge that went through a double still gives the millisecond.
  const auto d = One(Body("Acknowledge", "", "1.420452224764002e18"));
  EXPECT_EQ(d.occurred_at_ms(), 1420452224764);
  // Other units by digit count: seconds, milliseconds, microseconds.
  EXPECT_EQ(One(Body("Close", "", "1420452224")).occurred_at_ms(), 1420452224000);
  EXPECT_EQ(One(Body("Close", "", "1420452224764")).occurred_at_ms(), 1420452224764);
  EXPECT_EQ(One(Body("Close", "", "1420452224764002")).occurred_at_ms(), 1420452224764);
}

TEST_F(OpsgenieTest, DedupIdSurvivesReplayAndDiffersByAction) {
  const std::string body = Body("Close");
  const auto a = Run(body, 1700000000000, 1);
  const auto b = Run(body, 1800000000000, 2);
  ASSERT_EQ(a.events.size(), 1u);
  ASSERT_EQ(b.events.size(), 1u);
  EXPECT_EQ(a.events[0].id(), b.events[0].id());
  EXPECT_EQ(a.events[0].occurred_at_ms(), b.events[0].occurred_at_ms());
  EXPECT_NE(One(Body("Acknowledge")).id(), a.events[0].id());

  // Without any time in the payload the record time is used, but never hashed.
  const std::string timeless = R"({"action":"Escalate","alert":{"alertId":"A1"},)"
                               R"("escalationId":"E1","escalationTime":0,"repeatCount":0})";
  const auto c = Run(timeless, 1700000000000);
  const auto d = Run(timeless, 1800000000000);
  ASSERT_EQ(c.events.size(), 1u);
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(c.events[0].id(), d.events[0].id());
  EXPECT_EQ(c.events[0].occurred_at_ms(), 1700000000000);
  EXPECT_EQ(d.events[0].occurred_at_ms(), 1800000000000);
}

TEST_F(OpsgenieTest, CreateSentAgainForAnotherTeamIsTheSameTrigger) {
  const auto first = One(Body("Create", "", "1420452191104000001"));
  const auto rerouted = One(Body("Create", "", "1420452491104000001"));
  EXPECT_EQ(first.id(), rerouted.id());
  EXPECT_EQ(first.occurred_at_ms(), 1420452191104);  // createdAt
  EXPECT_EQ(rerouted.occurred_at_ms(), 1420452191104);
}

TEST_F(OpsgenieTest, EscalationTimeCountsOnlyWhenItIsAnInstant) {
  auto escalate = [](std::string_view time) {
    return R"({"action":"Escalate","alert":{"alertId":"A1"},"escalationId":"E1",)"
           R"("escalationNotify":{"name":"bo@example.com","entity":"user"},"escalationTime":)" +
           std::string(time) + "}";
  };
  EXPECT_EQ(One(escalate("0")).occurred_at_ms(), 1700000000000);
  EXPECT_EQ(One(escalate("5")).occurred_at_ms(), 1700000000000);
  EXPECT_EQ(One(escalate("1420452500")).occurred_at_ms(), 1420452500000);
  EXPECT_EQ(One(escalate("1420452500123")).occurred_at_ms(), 1420452500123);
  const auto e = One(escalate("0"));
  EXPECT_EQ(e.actor(), "");
  EXPECT_EQ(AttrJson(e), R"("attrs":{"assignees":["opsgenie:bo@example.com"]}})");
}

TEST_F(OpsgenieTest, ActorIsAUsernameOrNull) {
  for (const char* name : {"System", "", "Alert API", "Webhook", "@", "x@"}) {
    std::string body = Body("Acknowledge");
    body.replace(body.find("fili@example.com"), 16, name);
    EXPECT_EQ(One(body).actor(), "") << name;
  }
  EXPECT_EQ(One(Body("Acknowledge")).actor(), "opsgenie:fili@example.com");
}

TEST_F(OpsgenieTest, PriorityKeepsTheLevelAndUrgencyFollowsIt) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("priority":1)", R"("priority":"P1","status":"open","urgency":"high")"},
      {R"("priority":"P2")", R"("priority":"P2","status":"open","urgency":"high")"},
      {R"("priority":3)", R"("priority":"P3","status":"open","urgency":"low")"},
      {R"("priority":"P5")", R"("priority":"P5","status":"open","urgency":"low")"},
      {R"("priority":"critical")", R"("priority":"critical","status":"open","urgency":null)"},
      {R"("priority":null)", R"("priority":null,"status":"open","urgency":null)"},
      {R"("status":"closed")", R"("priority":null,"status":"closed","urgency":null)"},
  };
  for (const auto& [extra, attrs] : cases) {
    const auto e = One(Body("Create", extra));
    EXPECT_EQ(AttrJson(e), R"("attrs":{"assignees":[],)" + attrs + "}}") << extra;
  }
  const auto changed = One(Body("UpdatePriority", R"("priority":"P1")"));
  EXPECT_EQ(changed.type(), "incident.priority_changed");
  EXPECT_EQ(AttrJson(changed), R"("attrs":{"from":null,"to":"P1"}})");
}

TEST_F(OpsgenieTest, AssigneesOnCreateComeFromOwnerThenRespondersThenRecipients) {
  const std::string responders =
      R"("responders":[{"type":"team","name":"ops"},{"type":"user","name":"ana@example.com"},)"
      R"({"type":"user","username":"cy@example.com","id":"u3"}])";
  EXPECT_NE(AttrJson(One(Body("Create", R"("owner":"bo@example.com",)" + responders)))
                .find(R"("assignees":["opsgenie:bo@example.com"])"),
            std::string::npos);
  EXPECT_NE(AttrJson(One(Body("Create", responders)))
                .find(R"("assignees":["opsgenie:ana@example.com","opsgenie:cy@example.com"])"),
            std::string::npos);
  EXPECT_NE(AttrJson(One(Body("Create", R"("recipients":["ops_team","dee@example.com"])")))
                .find(R"("assignees":["opsgenie:dee@example.com"])"),
            std::string::npos);
  // TakeOwnership: whoever took it, even when the payload's owner is stale or missing.
  EXPECT_EQ(AttrJson(One(Body("TakeOwnership", R"("owner":"old@example.com")"))),
            R"("attrs":{"assignees":["opsgenie:fili@example.com"]}})");
  EXPECT_EQ(AttrJson(One(Body("AssignOwnership"))), R"("attrs":{"assignees":[]}})");
}

TEST_F(OpsgenieTest, NeverCopiesNotesOrDescriptions) {
  const auto e = One(Body("AddNote", R"("note":"SECRET-NOTE","description":"SECRET-DESC")"));
  EXPECT_EQ(e.type(), "incident.annotated");
  EXPECT_EQ(Json(e).find("SECRET"), std::string::npos) << Json(e);
}

TEST_F(OpsgenieTest, IgnoredActionsAreNotCheckedFurther) {
  for (const char* action :
       {"AddTags", "RemoveTags", "AddDetails", "AddRecipient", "AddTeam", "AddResponder", "Delete",
        "Snooze", "SnoozeEnded", "CustomAction", "UpdateMessage", "UpdateDescription",
        "EscalateNext", "NewActionFromTheFuture"}) {
    const auto out = Run(R"({"action":")" + std::string(action) + R"(","alert":"odd"})");
    EXPECT_TRUE(out.ignored) << action;
    EXPECT_FALSE(out.rejection.has_value()) << action;
  }
}

TEST_F(OpsgenieTest, RejectsPreciselyWithoutQuotingThePayload) {
  struct Case {
    std::string body;
    Reason reason;
    std::string detail;
  };
  const std::vector<Case> cases = {
      {Body("Close", "", "\"SECRET\""), Reason::kBadTimestamp, "field alert.updatedAt"},
      {Body("Close", "", "-5"), Reason::kBadTimestamp, "field alert.updatedAt"},
      {Body("Close", R"("tinyId":["SECRET"])"), Reason::kInvalidField, "field alert.tinyId"},
      {R"({"action":"Close","alert":"SECRET"})", Reason::kInvalidField,
       "field alert: not an object"},
      {R"({"action":"Close"})", Reason::kMissingField, "field alert"},
      {R"({"alert":{"alertId":"A1"}})", Reason::kMissingField, "field action"},
      {R"({"action":"Close","alert":{"message":"SECRET"}})", Reason::kMissingField,
       "field alert.alertId"},
      {R"({"action":7,"alert":{"alertId":"A1"}})", Reason::kInvalidField, "field action"},
  };
  for (const auto& c : cases) {
    const auto out = Run(c.body);
    ASSERT_TRUE(out.rejection.has_value()) << c.body;
    EXPECT_EQ(ReasonName(out.rejection->reason), ReasonName(c.reason)) << c.body;
    EXPECT_EQ(out.rejection->detail, c.detail) << c.body;
    EXPECT_TRUE(out.events.empty());
  }
}

TEST_F(OpsgenieTest, MalformedJsonAnywhereIsInvalidJson) {
  for (const std::string& body :
       {Body("Close", R"("message":"\uZZZZ")"), Body("Close") + "{}", std::string("[1]"),
        std::string(R"({"action":"Close","alert":{)"), std::string("17")}) {
    const auto out = Run(body);
    ASSERT_TRUE(out.rejection.has_value()) << body;
    EXPECT_EQ(out.rejection->reason, Reason::kInvalidJson) << body;
  }
  EXPECT_EQ(Run("").rejection->reason, Reason::kEmpty);
}

// Every prefix of real payloads: a rejection or whole events, never a crash or a half event.
TEST_F(OpsgenieTest, EveryTruncationIsRejectedCleanly) {
  for (const char* name : {"Create.json", "Escalate.json", "AddNote.json"}) {
    std::ifstream in(std::string(TEAMHEALTH_FIXTURES_DIR) + "/opsgenie/" + name);
    std::stringstream text;
    text << in.rdbuf();
    const std::string body = text.str();
    ASSERT_FALSE(body.empty()) << name;
    for (size_t n = 0; n < body.size(); ++n) {
      const auto out = Run(std::string_view(body).substr(0, n));
      if (out.rejection) {
        EXPECT_TRUE(out.events.empty()) << name << " at " << n;
      } else {
        // Only a cut in trailing whitespace leaves a whole document.
        EXPECT_EQ(body.find_first_not_of(" \n\r\t", n), std::string::npos) << name << " at " << n;
      }
    }
  }
}

}  // namespace
}  // namespace teamhealth::sources
