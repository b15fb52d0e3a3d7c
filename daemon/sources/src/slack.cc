// Slack Events API -> canonical events.
//
// Mapping (inner event -> type; dedup id; time = event_ts, else ts, else event_time):
//   message (no subtype, thread_broadcast, file_share, bot_message, me_message)
//                          -> chat.message (edited false)          msg:<channel>:<ts>
//   message/message_changed with a real edit (`message.edited`)
//                          -> chat.message (edited true; actor, mentions, thread and bot from
//                             the nested message)                  msg:<channel>:<ts>
//   app_mention            -> chat.message                         msg:<channel>:<ts>
//   reaction_added         -> chat.reaction (subject item.channel) event_id
//   member_joined_channel  -> chat.member_joined                   event_id
//   url_verification, other envelopes, other event types and message subtypes -> ignored.
// Actor: event.user (for a bot post that has one, the bot's user id, with attr bot = true;
// null when there is none). Envelopes of all three generations are read: `authed_users`,
// `authorizations[]`, and `authorizations` with `event_context`/`context_team_id`.
// Message text is read only transiently, to find `<@U…>` mentions; it is never copied.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common.h"
#include "vendors.h"

namespace teamhealth::sources {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view kSource = "slack";
// Rich text nests sections in lists in quotes; anything deeper is not a message layout.
constexpr int kMaxBlockDepth = 16;

// Views point into the parser's string buffer: valid until the next parse.
struct Message {
  std::string_view user, ts, thread_ts, subtype;
  bool bot = false;     // bot_id or bot_profile present
  bool edited = false;  // carries `edited` (a person changed the text)
  std::vector<std::string_view> text_mentions, block_mentions;

  void Clear() {  // keeps the vectors' capacity across records
    user = ts = thread_ts = subtype = {};
    bot = edited = false;
    text_mentions.clear();
    block_mentions.clear();
  }
};

struct Event {
  bool present = false;
  std::string_view type, channel, channel_type, event_ts, item_channel, item_ts, reaction;
  Message message;  // the event's own message fields
  Message nested;   // message_changed: the message after the change
  bool has_nested = false;
};

struct Envelope {
  std::string_view type, event_id;
  bool has_event_time = false;
  int64_t event_time = 0;
  Event event;
  std::vector<std::string_view> visible_to;  // authed_users, authorizations[] (people only)

  void Clear() {
    type = event_id = {};
    has_event_time = false;
    event_time = 0;
    Event& e = event;
    e.present = e.has_nested = false;
    e.type = e.channel = e.channel_type = e.event_ts = e.item_channel = e.item_ts = {};
    e.reaction = {};
    e.message.Clear();
    e.nested.Clear();
    visible_to.clear();
  }
};

struct Failure {
  Reason reason;
  std::string field;
};

bool IsIdChar(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// Appends the user ids of `<@U123>` and `<@U123|name>` in message markup.
void ScanMentions(std::string_view text, std::vector<std::string_view>& out) {
  for (size_t pos = text.find("<@"); pos != std::string_view::npos; pos = text.find("<@", pos)) {
    pos += 2;
    size_t end = pos;
    while (end < text.size() && IsIdChar(text[end])) ++end;
    if (end > pos && end < text.size() && (text[end] == '>' || text[end] == '|')) {
      out.push_back(text.substr(pos, end - pos));
    }
    pos = end;
  }
}

// Rich text blocks: elements of type `user` (a mention) nest inside `elements` arrays. Values
// of unexpected types are skipped, not rejected: a block layout we do not know is no reason
// to lose the message.
bool WalkBlocks(od::value v, int depth, std::vector<std::string_view>& out) {
  if (depth > kMaxBlockDepth) return true;
  od::json_type t;
  if (v.type().get(t)) return false;
  if (t == od::json_type::array) {
    od::array arr;
    if (v.get_array().get(arr)) return false;
    if (depth == 0) {
      // Most messages mention nobody: skip the walk when the blocks' JSON cannot hold a mention,
      // which needs a `user_id` member, spelled so or with a \u escape. Skipped blocks are not
      // validated, as no value a source skips is (common.h, the preamble).
      std::string_view raw;
      bool ignored = false;
      if (arr.raw_json().get(raw)) return false;
      if (raw.find("user_id") == std::string_view::npos &&
          raw.find("\\u") == std::string_view::npos) {
        return true;
      }
      if (arr.reset().get(ignored)) return false;
    }
    for (auto element : arr) {
      od::value ev;
      if (std::move(element).get(ev) || !WalkBlocks(ev, depth + 1, out)) return false;
    }
    return true;
  }
  if (t != od::json_type::object) return true;
  od::object obj;
  if (v.get_object().get(obj)) return false;
  std::string_view type, user_id;
  for (auto field : obj) {
    std::string_view key;
    od::value fv;
    if (ReadKey(field, key) || field.value().get(fv)) return false;
    if (key == "type") {
      if (fv.get_string().get(type)) type = {};
    } else if (key == "user_id") {
      if (fv.get_string().get(user_id)) user_id = {};
    } else if (key == "elements") {
      if (!WalkBlocks(fv, depth + 1, out)) return false;
    }
  }
  if (type == "user" && !user_id.empty()) out.push_back(user_id);
  return true;
}

bool ReadString(od::value v, std::string_view& out) {
  bool is_null = false;
  if (v.is_null().get(is_null)) return false;
  return is_null || v.get_string().get(out) == simdjson::SUCCESS;
}

bool IsPresent(od::value v) {
  bool is_null = true;
  return v.is_null().get(is_null) == simdjson::SUCCESS && !is_null;
}

// Reads the fields a message object and an event share. `handled` is false for other keys.
std::optional<Failure> ReadMessageField(std::string_view key, od::value v, Message& m,
                                        bool& handled) {
  handled = true;
  bool ok = true;
  if (key == "user")
    ok = ReadString(v, m.user);
  else if (key == "ts")
    ok = ReadString(v, m.ts);
  else if (key == "thread_ts")
    ok = ReadString(v, m.thread_ts);
  else if (key == "subtype")
    ok = ReadString(v, m.subtype);
  else if (key == "bot_id" || key == "bot_profile")
    m.bot = m.bot || IsPresent(v);
  else if (key == "edited")
    m.edited = IsPresent(v);
  else if (key == "text") {
    std::string_view text;  // transient: only the mentioned ids survive
    ok = ReadString(v, text);
    ScanMentions(text, m.text_mentions);
  } else if (key == "blocks") {
    if (!WalkBlocks(v, 0, m.block_mentions)) return Failure{Reason::kInvalidJson, "blocks"};
  } else {
    handled = false;
  }
  if (!ok) return Failure{Reason::kInvalidField, std::string(key)};
  return std::nullopt;
}

std::optional<Failure> ReadNested(od::value v, Message& m) {
  od::object obj;
  if (v.get_object().get(obj)) return Failure{Reason::kInvalidField, "event.message"};
  for (auto field : obj) {
    std::string_view key;
    od::value fv;
    if (ReadKey(field, key) || field.value().get(fv)) {
      return Failure{Reason::kInvalidJson, "event.message"};
    }
    bool handled = false;
    if (auto f = ReadMessageField(key, fv, m, handled)) {
      f->field = "event.message." + f->field;
      return f;
    }
  }
  return std::nullopt;
}

// reaction_added.item: {type, channel, ts} for messages; files have no channel.
bool ReadItem(od::value v, Event& e) {
  od::object obj;
  if (v.get_object().get(obj)) return false;
  for (auto field : obj) {
    std::string_view key;
    od::value fv;
    if (ReadKey(field, key) || field.value().get(fv)) return false;
    if (key == "channel" && !ReadString(fv, e.item_channel)) return false;
    if (key == "ts" && !ReadString(fv, e.item_ts)) return false;
  }
  return true;
}

std::optional<Failure> ReadEvent(od::value v, Event& e) {
  od::object obj;
  if (v.get_object().get(obj)) return Failure{Reason::kInvalidField, "event"};
  e.present = true;
  for (auto field : obj) {
    std::string_view key;
    od::value fv;
    if (ReadKey(field, key) || field.value().get(fv)) {
      return Failure{Reason::kInvalidJson, "event"};
    }
    bool handled = false;
    if (auto f = ReadMessageField(key, fv, e.message, handled)) {
      f->field = "event." + f->field;
      return f;
    }
    if (handled) continue;
    bool ok = true;
    if (key == "type")
      ok = ReadString(fv, e.type);
    else if (key == "channel")
      ok = ReadString(fv, e.channel);
    else if (key == "channel_type")
      ok = ReadString(fv, e.channel_type);
    else if (key == "event_ts")
      ok = ReadString(fv, e.event_ts);
    else if (key == "reaction")
      ok = ReadString(fv, e.reaction);
    else if (key == "item")
      ok = ReadItem(fv, e);
    else if (key == "message") {
      e.has_nested = IsPresent(fv);
      if (e.has_nested) {
        if (auto f = ReadNested(fv, e.nested)) return f;
      }
    }
    if (!ok) return Failure{Reason::kInvalidField, "event." + std::string(key)};
  }
  return std::nullopt;
}

// Who the event is visible to. Old envelopes list `authed_users` (ids); current ones
// `authorizations[]` ({user_id, is_bot, ...}). An authorization that is a bot (the app's own
// bot user, to which people write DMs) is not a person, so it is never a recipient.
bool ReadAuthorizations(od::value v, std::vector<std::string_view>& out) {
  od::array arr;
  if (v.get_array().get(arr)) return false;
  for (auto element : arr) {
    od::object obj;
    if (std::move(element).get_object().get(obj)) return false;
    std::string_view user_id;
    bool is_bot = false;
    for (auto field : obj) {
      std::string_view key;
      od::value fv;
      if (ReadKey(field, key) || field.value().get(fv)) return false;
      if (key == "user_id" && !ReadString(fv, user_id)) return false;
      if (key == "is_bot" && IsPresent(fv) && fv.get_bool().get(is_bot)) return false;
    }
    if (!user_id.empty() && !is_bot) out.push_back(user_id);
  }
  return true;
}

bool ReadAuthedUsers(od::value v, std::vector<std::string_view>& out) {
  od::array arr;
  if (v.get_array().get(arr)) return false;
  for (auto element : arr) {
    std::string_view id;
    if (std::move(element).get_string().get(id)) return false;
    out.push_back(id);
  }
  return true;
}

std::optional<Failure> ReadEnvelope(od::object obj, Envelope& env) {
  for (auto field : obj) {
    std::string_view key;
    od::value v;
    if (ReadKey(field, key) || field.value().get(v)) {
      return Failure{Reason::kInvalidJson, "top-level field"};
    }
    bool ok = true;
    if (key == "type") {
      ok = ReadString(v, env.type);
    } else if (key == "event_id") {
      ok = ReadString(v, env.event_id);
    } else if (key == "event_time") {
      env.has_event_time = IsPresent(v);
      ok = !env.has_event_time || v.get_int64().get(env.event_time) == simdjson::SUCCESS;
    } else if (key == "event") {
      if (auto f = ReadEvent(v, env.event)) return f;
    } else if (key == "authorizations") {
      ok = ReadAuthorizations(v, env.visible_to);
    } else if (key == "authed_users") {
      ok = ReadAuthedUsers(v, env.visible_to);
    }
    if (!ok) return Failure{Reason::kInvalidField, std::string(key)};
  }
  return std::nullopt;
}

// member_joined_channel writes channel types as letters (C public, G private or group).
std::optional<std::string> ChannelType(std::string_view t) {
  if (t == "C") return "channel";
  if (t == "G") return "group";
  if (t == "D") return "im";
  if (t == "channel" || t == "group" || t == "im" || t == "mpim") return std::string(t);
  if (t == "app_home") return "im";  // the Messages tab of an app: a DM with its bot
  return std::nullopt;
}

void AppendUnique(std::vector<std::string_view>& out, std::string_view id) {
  for (const auto existing : out) {
    if (existing == id) return;
  }
  out.push_back(id);
}

class SlackSource final : public JsonSource {
 public:
  std::string_view name() const override { return kSource; }

 private:
  void Read(Object body, const RawRecord& record, NormalizeResult& out) override;
  void Map(const RawRecord& record, NormalizeResult& out) override;
  // The event's time: event_ts, else ts, else the envelope's event_time, else the record's.
  bool Time(const RawRecord& record, EpochMillis& at, NormalizeResult& out) const;
  void ChatMessage(const RawRecord& record, NormalizeResult& out);
  // Fill mentions_ and recipients_ (views into the body) for ChatMessage.
  void Mentions(const Message& m);
  void Recipients(const Message& m, const std::optional<std::string>& channel_type);
  void Other(const RawRecord& record, NormalizeResult& out);

  Envelope env_;
  // Per record, kept for their capacity.
  std::vector<std::string_view> mentions_, recipients_;
};

bool SlackSource::Time(const RawRecord& record, EpochMillis& at, NormalizeResult& out) const {
  const Event& e = env_.event;
  if (!e.event_ts.empty() || !e.message.ts.empty()) {
    const bool use_event_ts = !e.event_ts.empty();
    const auto ms = ParseEpochSecondsString(use_event_ts ? e.event_ts : e.message.ts);
    if (!ms) {
      out.Reject(Reason::kBadTimestamp, use_event_ts ? "field event.event_ts" : "field event.ts");
      return false;
    }
    at = *ms;
  } else if (env_.has_event_time) {
    at = EpochAnyUnitToMillis(env_.event_time);  // documented as seconds
  } else {
    at = record.timestamp_ms;
  }
  return true;
}

void SlackSource::Read(Object body, const RawRecord&, NormalizeResult& out) {
  env_.Clear();
  if (auto f = ReadEnvelope(body, env_)) return out.Reject(f->reason, "field " + f->field);
}

void SlackSource::Map(const RawRecord& record, NormalizeResult& out) {
  if (env_.type.empty()) return out.Reject(Reason::kMissingField, "field type");
  // url_verification is the endpoint handshake and app_rate_limited a notice to the app:
  // neither is an event of the workspace.
  if (env_.type == "url_verification" || env_.type == "app_rate_limited") {
    out.ignored = true;
    return;
  }
  // Any other envelope type is not a Slack Events API body (a topic fed by another vendor?).
  if (env_.type != "event_callback") {
    return out.Reject(Reason::kUnsupportedEvent, "field type: not an Events API envelope");
  }
  const Event& e = env_.event;
  if (!e.present) return out.Reject(Reason::kMissingField, "field event");
  if (e.type.empty()) return out.Reject(Reason::kMissingField, "field event.type");
  if (e.type == "message" || e.type == "app_mention") return ChatMessage(record, out);
  return Other(record, out);
}

// Who a message mentions, from its text and from its rich-text blocks, each once.
void SlackSource::Mentions(const Message& m) {
  mentions_.clear();
  for (auto id : m.text_mentions) AppendUnique(mentions_, id);
  for (auto id : m.block_mentions) AppendUnique(mentions_, id);
}

// For channels everybody in them may read the message: recipients names only the people a DM
// or group DM is addressed to, as far as the envelope shows them.
void SlackSource::Recipients(const Message& m, const std::optional<std::string>& channel_type) {
  recipients_.clear();
  if (channel_type == "im" || channel_type == "mpim") {
    for (auto id : env_.visible_to) {
      if (id != m.user) AppendUnique(recipients_, id);
    }
  }
}

void SlackSource::ChatMessage(const RawRecord& record, NormalizeResult& out) {
  const Event& e = env_.event;
  const std::string_view subtype = e.message.subtype;
  bool edited = false;
  if (subtype == "message_changed") {
    if (!e.has_nested) return out.Reject(Reason::kMissingField, "field event.message");
    // Slack also sends message_changed when it unfurls a link or updates a thread parent's
    // reply metadata; only a change that carries `edited` was made by a person.
    if (!e.nested.edited) {
      out.ignored = true;
      return;
    }
    edited = true;
  } else if (!subtype.empty() && subtype != "thread_broadcast" && subtype != "file_share" &&
             subtype != "bot_message" && subtype != "me_message") {
    // message_deleted, message_replied, channel_topic, ... and channel_join/channel_leave:
    // joins are counted from member_joined_channel, the canonical join event, so that a join
    // is not counted twice.
    out.ignored = true;
    return;
  }
  const Message& m = edited ? e.nested : e.message;
  if (e.channel.empty()) return out.Reject(Reason::kMissingField, "field event.channel");
  if (e.message.ts.empty()) return out.Reject(Reason::kMissingField, "field event.ts");
  EpochMillis at = 0;
  if (!Time(record, at, out)) return;

  // Slack delivers a message that mentions the app twice, as `message` and as `app_mention`,
  // with different event_ids; an app installed twice also receives it twice. The channel and
  // the message ts identify the message itself, so every copy shares one dedup id. An edit is
  // its own event: its outer ts (the edit's) differs from the message's.
  std::string dedup;
  dedup.reserve(5 + e.channel.size() + e.message.ts.size());
  dedup.append("msg:").append(e.channel).append(":").append(e.message.ts);

  // app_mention carries no channel_type; DMs are the only D channels.
  std::optional<std::string> channel_type =
      e.channel_type.empty()
          ? std::optional<std::string>(e.channel.starts_with('D') ? "im" : "channel")
          : ChannelType(e.channel_type);

  const bool bot = m.bot || m.subtype == "bot_message" || subtype == "bot_message";
  const bool thread = !m.thread_ts.empty() && m.thread_ts != m.ts;

  Mentions(m);
  Recipients(m, channel_type);
  EventBuilder b(kSource, dedup, "chat.message");
  b.At(at).Actor(m.user).Subject("channel", e.channel);
  // In name order, so that Build() finds them sorted.
  b.AttrBool("bot", bot).AttrOpt("channel_type", channel_type).AttrBool("edited", edited);
  b.AttrPersons("mentions", mentions_).AttrPersons("recipients", recipients_);
  b.AttrBool("thread", thread);
  b.Build(record, out);
}

void SlackSource::Other(const RawRecord& record, NormalizeResult& out) {
  const Event& e = env_.event;
  const bool reaction = e.type == "reaction_added";
  if (!reaction && e.type != "member_joined_channel") {
    out.ignored = true;  // reaction_removed, channel_created, user_change, ...
    return;
  }
  const std::string_view channel = reaction ? e.item_channel : e.channel;
  if (channel.empty()) {
    // A reaction to a file (old payloads) is about no channel.
    if (reaction) {
      out.ignored = true;
      return;
    }
    return out.Reject(Reason::kMissingField, "field event.channel");
  }
  EpochMillis at = 0;
  if (!Time(record, at, out)) return;
  // Old envelopes (authed_users generation) have no event_id: hash what identifies the
  // action. A retry of the same delivery repeats all of these fields.
  const std::string dedup =
      !env_.event_id.empty()
          ? std::string(env_.event_id)
          : StableHash({e.type, e.message.user, channel, e.item_ts, e.reaction, e.event_ts});
  EventBuilder b(kSource, dedup, reaction ? "chat.reaction" : "chat.member_joined");
  b.At(at).Actor(e.message.user).Subject("channel", channel);
  if (!reaction) b.AttrOpt("channel_type", ChannelType(e.channel_type));
  b.Build(record, out);
}

}  // namespace

std::unique_ptr<Source> MakeSlackSource(const SourceOptions&) {
  return std::make_unique<SlackSource>();
}

}  // namespace teamhealth::sources
