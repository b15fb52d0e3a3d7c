#include "teamhealth/gateway/shifts.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>

#include "teamhealth/base/hash.h"
#include "teamhealth/base/json_writer.h"

namespace teamhealth::gateway {
namespace {

constexpr EpochMillis kDayMs = 86400000;
// Times an event can carry (RFC 3339 with a four-digit year, not before the epoch): a shift
// outside them is a vendor's placeholder, not a shift.
constexpr EpochMillis kMaxTime = 253402300799999;  // 9999-12-31T23:59:59.999Z

bool Plausible(EpochMillis start, EpochMillis end) {
  return start >= 0 && end <= kMaxTime && start < end;
}

using Found = simdjson::simdjson_result<simdjson::dom::element>;

// A string, or "" when absent (an error on the way), null or not a string.
std::string_view Str(Found v) {
  std::string_view out;
  if (v.get_string().get(out) == simdjson::SUCCESS) return out;
  return {};
}

// A time member: nothing when absent or null, an error when present but not RFC 3339.
Result<std::optional<EpochMillis>> Time(simdjson::dom::element obj, std::string_view key,
                                        std::string_view where) {
  simdjson::dom::element v;
  if (obj[key].get(v) != simdjson::SUCCESS || v.is_null()) return std::optional<EpochMillis>();
  std::string_view text;
  if (v.get_string().get(text) != simdjson::SUCCESS) {
    return Error(std::string(where) + "." + std::string(key) + ": not a string");
  }
  auto ms = ParseRfc3339(text);
  if (!ms) return Error(std::string(where) + "." + std::string(key) + ": not an RFC 3339 time");
  return std::optional<EpochMillis>(*ms);
}

// Milliseconds since the epoch of an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), RFC 9110's
// preferred HTTP date; nothing for anything else.
std::optional<EpochMillis> ParseHttpDate(std::string_view text) {
  const std::string s(text);
  std::tm tm{};
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return static_cast<EpochMillis>(timegm(&tm)) * 1000;
}

}  // namespace

Window PollWindow(EpochMillis now, int window_days) {
  const EpochMillis today = now - ((now % kDayMs) + kDayMs) % kDayMs;
  const EpochMillis since = today - kDayMs;
  // PagerDuty refuses a range over 3 months: 90 days at most, from yesterday.
  const EpochMillis until = today + static_cast<EpochMillis>(std::min(window_days, 89)) * kDayMs;
  return {.since = since, .until = until};
}

std::string ShiftEventId(const Shift& s) {
  // Fields joined with a separator none of them can hold unescaped ('\n').
  std::string key = s.vendor + "\n" + s.slot + "\n" + std::to_string(s.level) + "\n" + s.person +
                    "\n" + std::to_string(s.start) + "\n" + std::to_string(s.end);
  return "canonical:shift-" + ContentHash(key);
}

std::string ShiftEventJson(const Shift& s, EpochMillis observed_at) {
  std::string body;
  JsonWriter w(body);
  w.BeginObject();
  w.Key("id").String(ShiftEventId(s));
  w.Key("source").String("canonical").Key("type").String("oncall.shift");
  w.Key("occurred_at").String(FormatRfc3339(observed_at)).Key("actor").Null();
  w.Key("subject").BeginObject().Key("kind").String("schedule").Key("id").String(s.slot);
  if (!s.title.empty()) w.Key("title").String(s.title);
  w.EndObject();
  w.Key("attrs").BeginObject();
  w.Key("person").String(s.person).Key("level").Int(s.level);
  w.Key("start").String(FormatRfc3339(s.start)).Key("end").String(FormatRfc3339(s.end));
  w.EndObject().EndObject();
  return body;
}

Result<PagerDutyPage> ParsePagerDutyOncalls(std::string_view body, const Window& window) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  const simdjson::padded_string padded(body);
  if (parser.parse(padded).get(root) != simdjson::SUCCESS || !root.is_object()) {
    return Error("pagerduty /oncalls: the answer is not a JSON object");
  }
  simdjson::dom::array oncalls;
  if (root["oncalls"].get_array().get(oncalls) != simdjson::SUCCESS) {
    return Error("pagerduty /oncalls: no \"oncalls\" array");
  }
  PagerDutyPage page;
  bool more = false;
  if (root["more"].get_bool().get(more) == simdjson::SUCCESS) page.more = more;
  int64_t n = 0;
  if (root["offset"].get_int64().get(n) == simdjson::SUCCESS) page.offset = n;
  if (root["limit"].get_int64().get(n) == simdjson::SUCCESS) page.limit = n;
  size_t i = 0;
  for (simdjson::dom::element oncall : oncalls) {
    const std::string where = "pagerduty /oncalls: oncalls[" + std::to_string(i++) + "]";
    if (!oncall.is_object()) return Error(where + ": not an object");
    const std::string_view user_id = Str(oncall["user"]["id"]);
    if (user_id.empty()) continue;  // nobody on call (an empty slot of a schedule)
    Shift shift{.vendor = "pagerduty", .person = "pagerduty:" + std::string(user_id)};
    int64_t level = 1;
    if (oncall["escalation_level"].get_int64().get(level) != simdjson::SUCCESS || level < 1) {
      level = 1;
    }
    shift.level = static_cast<int>(std::min<int64_t>(level, 1000));
    const std::string_view schedule_id = Str(oncall["schedule"]["id"]);
    if (!schedule_id.empty()) {
      shift.slot = "pagerduty:" + std::string(schedule_id);
      shift.title = std::string(Str(oncall["schedule"]["summary"]));
    } else {
      const std::string_view policy_id = Str(oncall["escalation_policy"]["id"]);
      shift.slot = "pagerduty:" + std::string(policy_id) + ":user:" + std::string(user_id);
      shift.title = std::string(Str(oncall["escalation_policy"]["summary"]));
    }
    auto start = Time(oncall, "start", where);
    if (!start) return start.error();
    auto end = Time(oncall, "end", where);
    if (!end) return end.error();
    shift.start = start->value_or(window.since);
    shift.end = end->value_or(window.until);
    if (!Plausible(shift.start, shift.end)) continue;  // empty: nothing on call
    page.shifts.push_back(std::move(shift));
  }
  return page;
}

Result<std::vector<Shift>> ParseOpsgenieTimeline(std::string_view body,
                                                 std::string_view schedule_id) {
  simdjson::dom::parser parser;
  simdjson::dom::element root, data;
  const simdjson::padded_string padded(body);
  if (parser.parse(padded).get(root) != simdjson::SUCCESS || !root.is_object()) {
    return Error("opsgenie timeline: the answer is not a JSON object");
  }
  if (root["data"].get(data) != simdjson::SUCCESS || !data.is_object()) {
    return Error("opsgenie timeline: no \"data\" object");
  }
  const std::string title(Str(data["_parent"]["name"]));
  simdjson::dom::element final_timeline;
  simdjson::dom::array rotations;
  if (data["finalTimeline"].get(final_timeline) != simdjson::SUCCESS ||
      final_timeline.is_null()) {
    return std::vector<Shift>{};  // nothing scheduled in the interval
  }
  if (final_timeline["rotations"].get_array().get(rotations) != simdjson::SUCCESS) {
    return Error("opsgenie timeline: data.finalTimeline has no \"rotations\" array");
  }
  std::vector<Shift> out;
  size_t r = 0;
  for (simdjson::dom::element rotation : rotations) {
    const std::string rwhere = "opsgenie timeline: rotations[" + std::to_string(r++) + "]";
    if (!rotation.is_object()) return Error(rwhere + ": not an object");
    const std::string_view rotation_id = Str(rotation["id"]);
    std::string slot = "opsgenie:" + std::string(schedule_id);
    if (!rotation_id.empty()) slot += ":" + std::string(rotation_id);
    simdjson::dom::array periods;
    if (rotation["periods"].get_array().get(periods) != simdjson::SUCCESS) continue;
    std::vector<Shift> shifts;
    size_t p = 0;
    for (simdjson::dom::element period : periods) {
      const std::string where = rwhere + ".periods[" + std::to_string(p++) + "]";
      if (!period.is_object()) return Error(where + ": not an object");
      const std::string_view type = Str(period["recipient"]["type"]);
      const std::string_view name = Str(period["recipient"]["name"]);
      // Teams, escalations and "none" are not a person on call.
      if (type != "user" || name.empty()) continue;
      auto start = Time(period, "startDate", where);
      if (!start) return start.error();
      auto end = Time(period, "endDate", where);
      if (!end) return end.error();
      if (!*start || !*end) return Error(where + ": startDate and endDate are required");
      if (!Plausible(**start, **end)) continue;
      shifts.push_back({.vendor = "opsgenie",
                        .slot = slot,
                        .title = title,
                        .level = 1,
                        .person = "opsgenie:" + std::string(name),
                        .start = **start,
                        .end = **end});
    }
    std::sort(shifts.begin(), shifts.end(),
              [](const Shift& a, const Shift& b) { return a.start < b.start; });
    for (auto& s : shifts) {
      if (!out.empty() && out.back().slot == s.slot && out.back().person == s.person &&
          out.back().end == s.start) {
        out.back().end = s.end;  // one stint split in two periods
      } else {
        out.push_back(std::move(s));
      }
    }
  }
  return out;
}

std::optional<int64_t> RetryDelayMs(int status, std::string_view retry_after, int attempt,
                                    double jitter, EpochMillis now) {
  const bool retryable = status == 0 || status == 429 || (status >= 500 && status <= 599);
  if (!retryable || attempt < 0 || attempt >= RetryPolicy::kMaxRetries) return std::nullopt;
  if (status == 429 && !retry_after.empty()) {
    std::optional<int64_t> wait;
    if (std::all_of(retry_after.begin(), retry_after.end(),
                    [](unsigned char c) { return std::isdigit(c) != 0; }) &&
        retry_after.size() <= 9) {
      wait = std::stoll(std::string(retry_after)) * 1000;
    } else if (auto at = ParseHttpDate(retry_after)) {
      wait = std::max<int64_t>(0, *at - now);
    }
    if (wait) {
      if (*wait > RetryPolicy::kMaxWaitMs) return std::nullopt;
      return *wait;
    }
  }
  const int64_t full =
      std::min(RetryPolicy::kMaxMs, RetryPolicy::kBaseMs << std::min(attempt, 20));
  const double j = std::clamp(jitter, 0.0, 1.0);
  return static_cast<int64_t>(std::llround(static_cast<double>(full) * (0.5 + 0.5 * j)));
}

bool ProducedShifts::Known(const Shift& shift, const Window& window) const {
  if (by_id_.contains(ShiftEventId(shift))) return true;
  if (shift.start > window.since) return false;
  return std::any_of(by_id_.begin(), by_id_.end(), [&](const auto& entry) {
    const Shift& p = entry.second;
    return p.slot == shift.slot && p.level == shift.level && p.person == shift.person &&
           p.end == shift.end && p.start < shift.start;
  });
}

void ProducedShifts::Remember(const Shift& shift) { by_id_[ShiftEventId(shift)] = shift; }

void ProducedShifts::Forget(EpochMillis before) {
  std::erase_if(by_id_, [before](const auto& entry) { return entry.second.end < before; });
}

}  // namespace teamhealth::gateway
