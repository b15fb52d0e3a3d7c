// Edge cases of the slack normaliser beyond the golden files (tests/sources/golden/slack).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "teamhealth/sources/event_json.h"
#include "teamhealth/sources/source.h"

namespace teamhealth::sources {
namespace {

class SlackTest : public ::testing::Test {
 protected:
  SlackTest() : registry_(MakeSourceRegistry()), source_(registry_->Find("slack")) {}

  NormalizeResult Run(std::string_view body) {
    RawRecord record;
    record.topic = "slack";
    record.value = body;
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

  static std::vector<std::string> List(const schema::Event& e, std::string_view name) {
    for (const auto& a : e.attrs()) {
      if (a.name() == name) {
        return {a.value().list_value().values().begin(), a.value().list_value().values().end()};
      }
    }
    return {"<absent>"};
  }

  // A channel message whose event fields are `inner` (JSON members, no braces).
  static std::string Message(std::string_view inner, std::string_view envelope_extra = "") {
    std::string body = R"({"type": "event_callback", "event_id": "Ev1", "event_time": 1712000000,)";
    body += envelope_extra;
    body += R"("event": {"type": "message", "channel": "C1", "ts": "1712000000.000100",)";
    body += inner;
    body += "}}";
    return body;
  }

  std::unique_ptr<SourceRegistry> registry_;
  Source* source_;
};

TEST_F(SlackTest, MessageAndAppMentionOfOneMessageShareTheDedupId) {
  const auto message = Run(Message(R"("user": "U1", "text": "<@UAPP> hi")"));
  const auto mention = Run(R"({"type": "event_callback", "event_id": "Ev2", "event": {
      "type": "app_mention", "user": "U1", "text": "<@UAPP> hi", "channel": "C1",
      "ts": "1712000000.000100", "event_ts": "1712000000.000100"}})");
  ASSERT_EQ(message.events.size(), 1u);
  ASSERT_EQ(mention.events.size(), 1u);
  EXPECT_EQ(message.events[0].id(), "slack:msg:C1:1712000000.000100");
  EXPECT_EQ(message.events[0].id(), mention.events[0].id());
}

TEST_F(SlackTest, NeverCopiesTheText) {
  const auto out = Run(Message(R"("user": "U1", "text": "SECRET <@U2> words",
      "blocks": [{"type": "rich_text", "elements": [{"type": "rich_text_section",
      "elements": [{"type": "text", "text": "SECRET"}, {"type": "user", "user_id": "U2"}]}]}])"));
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(Json(out.events[0]).find("SECRET"), std::string::npos);
  EXPECT_EQ(List(out.events[0], "mentions"), std::vector<std::string>{"slack:U2"});
}

TEST_F(SlackTest, MentionMarkupVariants) {
  // Labels, enterprise (W) ids and JSON-escaped brackets count; channels, broadcasts, user
  // groups and broken markup do not.
  const auto out =
      Run(Message(R"("user": "U1", "text": "<@U2|bob> <@W3> \u003c@U4\u003e <#C9|ops> <!here> )"
                  R"(<!subteam^S1> <@> <@u5> <@U6 <@U7>")"));
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(List(out.events[0], "mentions"),
            (std::vector<std::string>{"slack:U2", "slack:W3", "slack:U4", "slack:U7"}));
}

TEST_F(SlackTest, EventTsWithoutADotIsMicroseconds) {
  const auto out = Run(Message(R"("user": "U1", "event_ts": "1515449522000016")"));
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].occurred_at_ms(), 1515449522000);
}

TEST_F(SlackTest, TimeFallsBackToTsThenEventTimeThenTheRecord) {
  auto out = Run(Message(R"("user": "U1")"));  // ts only
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].occurred_at_ms(), 1712000000000);
  out = Run(R"({"type": "event_callback", "event_id": "Ev3", "event_time": 1712000001,
      "event": {"type": "member_joined_channel", "user": "U1", "channel": "C1"}})");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].occurred_at_ms(), 1712000001000);
  out = Run(R"({"type": "event_callback", "event_id": "Ev4",
      "event": {"type": "member_joined_channel", "user": "U1", "channel": "C1"}})");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].occurred_at_ms(), 1700000000000);
}

TEST_F(SlackTest, RecipientsDoNotDependOnEnvelopeFieldOrder) {
  const std::string auths =
      R"("authorizations": [{"user_id": "U2", "is_bot": false}, {"user_id": "U1"}],)";
  const auto before = Run(Message(R"("user": "U1", "channel_type": "im")", auths));
  std::string after = Message(R"("user": "U1", "channel_type": "im")");
  after.insert(after.size() - 1, "," + auths.substr(0, auths.size() - 1));
  const auto late = Run(after);
  ASSERT_EQ(before.events.size(), 1u);
  ASSERT_EQ(late.events.size(), 1u);
  EXPECT_EQ(List(before.events[0], "recipients"), std::vector<std::string>{"slack:U2"});
  EXPECT_EQ(Json(before.events[0]), Json(late.events[0]));
}

TEST_F(SlackTest, ChannelMessagesHaveNoRecipients) {
  const auto out = Run(
      Message(R"("user": "U1", "channel_type": "channel")", R"("authed_users": ["U2", "U3"],)"));
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_TRUE(List(out.events[0], "recipients").empty());
}

TEST_F(SlackTest, UrlVerificationIsIgnoredNotQuarantined) {
  const auto out = Run(R"({"token": "t", "challenge": "c", "type": "url_verification"})");
  EXPECT_TRUE(out.ignored);
  EXPECT_FALSE(out.rejection.has_value());
  EXPECT_TRUE(out.events.empty());
}

TEST_F(SlackTest, RetriedOldEnvelopeReactionKeepsItsHashedId) {
  const std::string body = R"({"type": "event_callback", "authed_users": ["U9"], "event": {
      "type": "reaction_added", "user": "U1", "reaction": "eyes",
      "item": {"type": "message", "channel": "C1", "ts": "1.000001"},
      "event_ts": "1712000000.000300"}})";
  const auto a = Run(body);
  const auto b = Run(body);
  ASSERT_EQ(a.events.size(), 1u);
  ASSERT_EQ(b.events.size(), 1u);
  EXPECT_EQ(a.events[0].id(), b.events[0].id());
  EXPECT_EQ(a.events[0].subject().id(), "C1");
}

TEST_F(SlackTest, RejectionsNameTheField) {
  auto out = Run("");
  ASSERT_TRUE(out.rejection.has_value());
  EXPECT_EQ(out.rejection->reason, Reason::kEmpty);
  out = Run(Message(R"("user": "U1", "event_ts": "soon SECRET")"));
  ASSERT_TRUE(out.rejection.has_value());
  EXPECT_EQ(out.rejection->reason, Reason::kBadTimestamp);
  EXPECT_NE(out.rejection->detail.find("event.event_ts"), std::string::npos);
  EXPECT_EQ(out.rejection->detail.find("SECRET"), std::string::npos);
  out = Run(Message(R"("user": 42)"));
  ASSERT_TRUE(out.rejection.has_value());
  EXPECT_EQ(out.rejection->reason, Reason::kInvalidField);
  EXPECT_EQ(out.rejection->detail, "field event.user");
}

TEST_F(SlackTest, NothingLeaksFromOneRecordIntoTheNext) {
  const auto first = Run(Message(R"("user": "U1", "text": "<@U2>", "thread_ts": "1.000001",
      "bot_id": "B1", "channel_type": "im")",
                                 R"("authed_users": ["U3"],)"));
  ASSERT_EQ(first.events.size(), 1u);
  const auto out = Run(Message(R"("user": "U4", "channel_type": "im")"));
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(Json(out.events[0]),
            R"({"id":"slack:msg:C1:1712000000.000100","source":"slack","type":"chat.message",)"
            R"("occurred_at":"2024-04-01T19:33:20.000Z","actor":"slack:U4",)"
            R"("subject":{"kind":"channel","id":"C1"},"attrs":{"bot":false,)"
            R"("channel_type":"im","edited":false,"mentions":[],"recipients":[],)"
            R"("thread":false}})");
}

TEST_F(SlackTest, EditWithoutEditedMarkerIsIgnored) {
  const auto out = Run(Message(R"("subtype": "message_changed", "message": {"user": "U1",
      "ts": "1.000001", "attachments": [{"id": 1}]})"));
  EXPECT_TRUE(out.ignored);
  EXPECT_TRUE(out.events.empty());
}

}  // namespace
}  // namespace teamhealth::sources
