// Edge cases of the slack normaliser beyond the golden files (tests/sources/golden/slack).
#include <gtest/gtest.h>

#include <cstdio>
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

// Member names are read in place, 8 bytes at a time, unless they hold an escape. Every length
// of name around the word boundaries, and an escape at each position of a name that crosses
// one, must read as the plain spelling does.
TEST_F(SlackTest, MemberNamesReadAlikeWhateverTheirLengthOrEscapes) {
  const std::string inner = R"("user": "U1", "channel_type": "im", "text": "<@U3>")";
  const std::string auths = R"("authed_users": ["U2"],)";
  const auto plain = Run(Message(inner, auths));
  ASSERT_EQ(plain.events.size(), 1u);
  ASSERT_EQ(List(plain.events[0], "recipients"), std::vector<std::string>{"slack:U2"});
  // Unknown members whose names end at every offset of a word, some holding escapes.
  std::string noise;
  for (int n = 1; n <= 24; ++n) {
    noise += "\"" + std::string(static_cast<size_t>(n), 'x') + "\": 1, ";
    noise += "\"" + std::string(static_cast<size_t>(n), 'y') + "\\\"q\": 2, ";
  }
  const auto noisy = Run(Message(noise + inner, noise + auths));
  ASSERT_EQ(noisy.events.size(), 1u);
  EXPECT_EQ(Json(noisy.events[0]), Json(plain.events[0]));
  // "channel_type" (12 bytes) with one letter escaped, at each position.
  const std::string name = "channel_type";
  for (size_t i = 0; i < name.size(); ++i) {
    char escape[8];
    std::snprintf(escape, sizeof escape, "\\u%04x", name[i]);
    std::string spelled = inner;
    spelled.replace(spelled.find(name), name.size(),
                    name.substr(0, i) + escape + name.substr(i + 1));
    const auto out = Run(Message(spelled, auths));
    ASSERT_EQ(out.events.size(), 1u) << spelled;
    EXPECT_EQ(Json(out.events[0]), Json(plain.events[0])) << spelled;
  }
  // A name holding an escaped quote is not the name before it.
  const auto quoted = Run(Message(R"("user": "U1", "channel_type\"": "im")", auths));
  ASSERT_EQ(quoted.events.size(), 1u);
  EXPECT_TRUE(List(quoted.events[0], "recipients").empty());
}

// Blocks that cannot hold a mention are skipped unread; a mention element is found however its
// member name is spelled, and only in blocks that hold one.
TEST_F(SlackTest, BlockMentionsWhateverTheSpelling) {
  const auto block = [](std::string_view user_id_member) {
    return std::string(R"("user": "U1", "blocks": [{"type": "rich_text", "elements": [)"
                       R"({"type": "rich_text_section", "elements": [{"type": "user", )") +
           std::string(user_id_member) + R"(: "U2"}, {"type": "text", "text": "hi\n"}]}]}])";
  };
  for (const std::string_view spelled :
       {R"("user_id")", R"("\u0075ser_id")", R"("user\u005fid")", R"("user_i\u0064")"}) {
    const auto out = Run(Message(block(spelled)));
    ASSERT_EQ(out.events.size(), 1u) << spelled;
    EXPECT_EQ(List(out.events[0], "mentions"), std::vector<std::string>{"slack:U2"}) << spelled;
  }
  // Blocks that cannot hold a mention are skipped unread, as every value a source does not read
  // (common.h, the preamble): a malformed one no longer quarantines the message. Blocks that
  // may hold one are walked, and a malformed one is invalid_json as before.
  const auto skipped = Run(Message(R"("user": "U1", "blocks": [{"type": "text" "text": "a"}, 1 2])"));
  ASSERT_EQ(skipped.events.size(), 1u);
  EXPECT_TRUE(List(skipped.events[0], "mentions").empty());
  const auto walked = Run(Message(R"("user": "U1", "blocks": [{"type": "user" "user_id": "U2"}])"));
  ASSERT_TRUE(walked.rejection.has_value());
  EXPECT_EQ(walked.rejection->reason, Reason::kInvalidJson);
  // "user_id" outside a user element, or a user element without it, mentions nobody.
  for (const std::string_view body :
       {R"("user": "U1", "blocks": [{"type": "text", "user_id": "U2", "text": "a\tb"}])",
        R"("user": "U1", "blocks": [{"type": "user", "text": "user_id"}])",
        R"("user": "U1", "blocks": [{"type": "rich_text", "elements": []}])",
        R"("user": "U1", "blocks": [])"}) {
    const auto out = Run(Message(body));
    ASSERT_EQ(out.events.size(), 1u) << body;
    EXPECT_TRUE(List(out.events[0], "mentions").empty()) << body;
  }
}

// The builder checks an all-ASCII event in one pass, but the record's topic still on its own.
TEST_F(SlackTest, ATopicThatIsNotUtf8IsQuarantinedEvenForAnAsciiEvent) {
  const std::string body = Message(R"("user": "U1")");
  RawRecord record;
  record.value = body;
  for (const std::string_view topic : {"sl\xff" "ck", "sl\xc3\xa9" "ck"}) {
    record.topic = topic;
    NormalizeResult out;
    source_->Normalize(record, out);
    if (topic == "sl\xff" "ck") {
      ASSERT_TRUE(out.rejection.has_value());
      EXPECT_EQ(out.rejection->reason, Reason::kInvalidField);
      EXPECT_TRUE(out.events.empty());
    } else {
      ASSERT_FALSE(out.rejection.has_value());
      EXPECT_EQ(out.events.size(), 1u);
    }
  }
  // A non-ASCII (valid) string in the event takes the check per string, and passes.
  const auto accented = Run(Message(R"("user": "U\u00e9")"));
  ASSERT_EQ(accented.events.size(), 1u);
  EXPECT_EQ(accented.events[0].actor(), "slack:U\xc3\xa9");
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
