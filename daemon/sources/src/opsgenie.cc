// Opsgenie webhook (outgoing integration) -> canonical incident events.
//
// Body: flat `{action, alert, source, integrationId, integrationName, ...}`; `Escalate` has
// its own shape (`escalationId`, `escalationName`, `escalationNotify`, `escalationTime`,
// `repeatCount`, and an `alert` holding only `alertId`). One body is one event; there is no
// delivery id, so the dedup id is a hash of action, alert id and the action's time
// (docs/design.md section 4).
//
// Times: `alert.createdAt` is epoch ms, `updatedAt` a 19-digit nanosecond-style integer that a
// double cannot hold, so numbers are read as integers and converted by digit count.
//
// `alert.note` (AddNote) and `alert.description` are never read.
#include <array>
#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common.h"
#include "vendors.h"

namespace teamhealth::sources {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view kSource = "opsgenie";

// Epoch values below this are not instants: `escalationTime` in the captures is 0 (it reads
// as the escalation rule's delay, not a time), and 10^9 s is September 2001, long before any
// Opsgenie alert.
constexpr int64_t kMinPlausibleEpoch = 1'000'000'000;

struct Failure {
  Reason reason = Reason::kInvalidField;
  std::string detail;
};

// Reads a string or null (null -> empty); false for any other type. The view is valid until
// the next record.
bool ReadString(od::value v, std::string_view& out) {
  od::json_type t;
  if (v.type().get(t)) return false;
  if (t == od::json_type::null) {
    out = {};
    return true;
  }
  return v.get_string().get(out) == simdjson::SUCCESS;
}

bool ReadString(od::value v, std::string& out) {
  std::string_view s;
  if (!ReadString(v, s)) return false;
  out.assign(s);
  return true;
}

// An epoch number of unknown unit: an integer (read exactly, never through a double), a string
// of digits, or null. Floating-point numbers (a bridge that re-serialised through a double)
// are accepted at the precision they still have, which is well under a millisecond.
struct EpochField {
  bool present = false;  // a non-null value was there
  bool valid = false;
  int64_t value = 0;
  std::string text;  // decimal text of `value`, for dedup ids

  void Clear() {  // keeps the capacity of `text` across records
    present = valid = false;
    value = 0;
    text.clear();
  }
};

bool ParseDigits(std::string_view s, int64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out >= 0;
}

void ReadEpoch(od::value v, EpochField& out) {
  out.Clear();
  od::json_type t;
  if (v.type().get(t) || t == od::json_type::null) return;
  out.present = true;
  int64_t n = 0;
  if (t == od::json_type::number) {
    uint64_t u;
    double d;
    if (!v.get_uint64().get(u)) {
      if (u > static_cast<uint64_t>(INT64_MAX)) return;
      n = static_cast<int64_t>(u);
    } else if (!v.get_double().get(d)) {
      if (!(d >= 0 && d < 9.2e18)) return;
      n = static_cast<int64_t>(d);
    } else {
      return;
    }
  } else if (t == od::json_type::string) {
    std::string_view s;
    if (v.get_string().get(s) || !ParseDigits(s, n)) return;
  } else {
    return;
  }
  out.valid = true;
  out.value = n;
  char digits[20];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out.text.assign(digits, end);
}

// A usable instant: a valid epoch at or after kMinPlausibleEpoch.
bool Usable(const EpochField& f) { return f.valid && f.value >= kMinPlausibleEpoch; }

struct Alert {
  bool present = false;
  std::string id;
  std::string tiny_id;
  std::string message;
  std::string username;
  std::string owner;
  std::string status;
  std::optional<std::string> priority;  // "P1".."P5" as Opsgenie shows it
  EpochField created_at;
  EpochField updated_at;
  std::vector<std::string> responder_users;  // responders[] of type user
  std::vector<std::string> recipient_users;  // recipients[] that are usernames

  // Empties every member, keeping the strings' capacity: a record allocates only where a
  // value outgrows the last one.
  void Clear() {
    present = false;
    for (std::string* s : {&id, &tiny_id, &message, &username, &owner, &status}) s->clear();
    priority.reset();
    created_at.Clear();
    updated_at.Clear();
    responder_users.clear();
    recipient_users.clear();
  }
};

struct Payload {
  std::string action;
  std::string integration_id;
  std::string integration_name;
  Alert alert;
  bool has_alert = false;  // an "alert" member of any shape
  // Escalate only.
  std::string escalation_id;
  std::string notify_name;
  std::string notify_id;
  bool notify_is_user = false;
  EpochField escalation_time;
  std::string repeat_count;
  std::optional<Failure> field_failure;  // the first field of the wrong type, if any

  // Empties every member as Alert::Clear() does.
  void Clear() {
    for (std::string* s : {&action, &integration_id, &integration_name, &escalation_id,
                           &notify_name, &notify_id, &repeat_count}) {
      s->clear();
    }
    alert.Clear();
    has_alert = notify_is_user = false;
    escalation_time.Clear();
    field_failure.reset();
  }
};

// Opsgenie usernames are the users' e-mail logins. Actions by Opsgenie itself or by an
// integration carry "System", the integration's name or similar instead: not people.
bool IsUsername(std::string_view name) {
  const auto at = name.find('@');
  return at != std::string_view::npos && at > 0 && at + 1 < name.size();
}

// Priority: Opsgenie shows "P1".."P5"; old payloads send the bare number.
bool ReadPriority(od::value v, std::optional<std::string>& out) {
  out.reset();
  od::json_type t;
  if (v.type().get(t)) return false;
  if (t == od::json_type::null) return true;
  if (t == od::json_type::number) {
    int64_t n;
    if (v.get_int64().get(n)) return false;
    out = "P" + std::to_string(n);
    return true;
  }
  std::string s;
  if (!ReadString(v, s)) return false;
  if (!s.empty()) out = std::move(s);
  return true;
}

// P1/P2 page someone at once (PagerDuty's "high"); P3-P5 do not ("low").
std::optional<std::string> UrgencyOf(const std::optional<std::string>& priority) {
  if (!priority) return std::nullopt;
  if (*priority == "P1" || *priority == "P2") return "high";
  if (*priority == "P3" || *priority == "P4" || *priority == "P5") return "low";
  return std::nullopt;
}

// responders[]: `{type: user|team|escalation|schedule, id, name|username}`; users only.
bool ReadResponders(od::value v, std::vector<std::string>& out) {
  od::json_type t;
  if (v.type().get(t)) return false;
  if (t == od::json_type::null) return true;
  od::array arr;
  if (v.get_array().get(arr)) return false;
  for (auto element_result : arr) {
    od::object obj;
    if (element_result.get_object().get(obj)) return false;
    std::string_view type, name, username;
    for (auto field_result : obj) {
      od::field field;
      std::string_view key;
      if (std::move(field_result).get(field) || ReadKey(field, key)) return false;
      if (key == "type" && !ReadString(field.value(), type)) return false;
      if (key == "name" && !ReadString(field.value(), name)) return false;
      if (key == "username" && !ReadString(field.value(), username)) return false;
    }
    const std::string_view who = !username.empty() ? username : name;
    if (type == "user" && IsUsername(who)) out.emplace_back(who);
  }
  return true;
}

// recipients[]: names of users, teams, groups, schedules...; only usernames name a person.
bool ReadRecipients(od::value v, std::vector<std::string>& out) {
  od::json_type t;
  if (v.type().get(t)) return false;
  if (t == od::json_type::null) return true;
  od::array arr;
  if (v.get_array().get(arr)) return false;
  for (auto element_result : arr) {
    od::value element;
    std::string_view name;
    if (std::move(element_result).get(element) || !ReadString(element, name)) return false;
    if (IsUsername(name)) out.emplace_back(name);
  }
  return true;
}

bool ReadAlert(od::value v, Alert& alert, Failure& fail) {
  od::object obj;
  if (v.get_object().get(obj)) {
    fail = {Reason::kInvalidField, "field alert: not an object"};
    return false;
  }
  alert.present = true;
  for (auto field_result : obj) {
    od::field field;
    std::string_view key;
    if (std::move(field_result).get(field) || ReadKey(field, key)) {
      fail = {Reason::kInvalidJson, "bad key in alert"};
      return false;
    }
    od::value value = field.value();
    bool ok = true;
    std::string* text = key == "alertId"    ? &alert.id
                        : key == "tinyId"   ? &alert.tiny_id
                        : key == "message"  ? &alert.message
                        : key == "username" ? &alert.username
                        : key == "owner"    ? &alert.owner
                        : key == "status"   ? &alert.status
                                            : nullptr;
    if (text) {
      ok = ReadString(value, *text);
    } else if (key == "priority") {
      ok = ReadPriority(value, alert.priority);
    } else if (key == "createdAt") {
      ReadEpoch(value, alert.created_at);  // checked where the time is chosen
    } else if (key == "updatedAt") {
      ReadEpoch(value, alert.updated_at);
    } else if (key == "responders") {
      ok = ReadResponders(value, alert.responder_users);
    } else if (key == "recipients") {
      ok = ReadRecipients(value, alert.recipient_users);
    }
    if (!ok) {
      fail = {Reason::kInvalidField, "field alert." + std::string(key)};
      return false;
    }
  }
  return true;
}

// escalationNotify: `{name, id, type, entity: user|team|schedule|...}`.
bool ReadNotify(od::value v, Payload& p) {
  od::json_type t;
  if (v.type().get(t)) return false;
  if (t == od::json_type::null) return true;
  od::object obj;
  if (v.get_object().get(obj)) return false;
  std::string_view entity;
  for (auto field_result : obj) {
    od::field field;
    std::string_view key;
    if (std::move(field_result).get(field) || ReadKey(field, key)) return false;
    if (key == "name" && !ReadString(field.value(), p.notify_name)) return false;
    if (key == "id" && !ReadString(field.value(), p.notify_id)) return false;
    if (key == "entity" && !ReadString(field.value(), entity)) return false;
  }
  p.notify_is_user = entity == "user" && IsUsername(p.notify_name);
  return true;
}

// Opsgenie action -> canonical type; nothing for actions that carry nothing for team health
// (tags, details, recipients, teams, responders, snooze, custom actions, message and
// description updates, Delete, and any action this build does not know).
std::optional<std::string_view> MapAction(std::string_view action) {
  if (action == "Create") return "incident.triggered";
  if (action == "Acknowledge") return "incident.acknowledged";
  if (action == "UnAcknowledge") return "incident.unacknowledged";
  if (action == "Close") return "incident.resolved";
  if (action == "Escalate") return "incident.escalated";
  if (action == "AssignOwnership" || action == "TakeOwnership") return "incident.reassigned";
  if (action == "AddNote") return "incident.annotated";
  if (action == "UpdatePriority") return "incident.priority_changed";
  return std::nullopt;
}

class OpsgenieSource final : public JsonSource {
 public:
  std::string_view name() const override { return kSource; }

 private:
  void Read(Object body, const RawRecord&, NormalizeResult& out) override {
    p_.Clear();
    Failure fail;
    if (!ReadPayload(body, p_, fail)) return out.Reject(fail.reason, std::move(fail.detail));
  }

  void Map(const RawRecord& record, NormalizeResult& out) override {
    const Payload& p = p_;
    if (p.action.empty()) return out.Reject(Reason::kMissingField, "field action");
    const auto type = MapAction(p.action);
    // An Opsgenie alert webhook always carries its alert: without one this is not an Opsgenie
    // body at all (a topic fed by another vendor), which must be quarantined, not ignored.
    if (!p.has_alert) return out.Reject(Reason::kMissingField, "field alert");
    if (!type) {
      out.ignored = true;
      return;
    }
    // Fields of actions we do not map do not matter, however odd their shape.
    if (p.field_failure) return out.Reject(p.field_failure->reason, p.field_failure->detail);
    if (p.alert.id.empty()) return out.Reject(Reason::kMissingField, "field alert.alertId");

    const EpochField* when = nullptr;
    if (!ActionTime(*type, when, out)) return;
    const EpochMillis at = when ? EpochAnyUnitToMillis(when->value) : record.timestamp_ms;
    const Alert& a = p.alert;
    const std::string actor = IsUsername(a.username) ? a.username : "";
    EventBuilder b(kSource, DedupId(*type, when), *type);
    b.At(at).Actor(actor).Subject("incident", a.id);
    if (!a.tiny_id.empty()) b.SubjectKey(a.tiny_id);
    // Service: the integration the webhook came through. It is on every action (alert.teams
    // is not: Acknowledge, Close and Escalate lack it) and Opsgenie integrations belong to a
    // team, so the directory maps `integration name -> team`.
    const std::string& service =
        !p.integration_name.empty() ? p.integration_name : p.integration_id;
    if (!service.empty()) b.SubjectService(service);
    if (!a.message.empty()) b.SubjectTitle(a.message);
    AddAttrs(*type, actor, b);
    b.Build(record, out);
  }

  // The action's time. Create: the alert's creation (a later Create for the same alert, sent
  // when it is routed to another team, then dedups against the first). Escalate: the
  // escalation's time when it is one. Others: the update time. Then whatever is left; none
  // usable leaves `when` null. False (with `out` rejected) for a time that is not a number.
  bool ActionTime(std::string_view type, const EpochField*& when, NormalizeResult& out) const {
    const Alert& a = p_.alert;
    using Candidate = std::pair<const EpochField*, std::string_view>;
    const Candidate created{&a.created_at, "alert.createdAt"};
    const Candidate updated{&a.updated_at, "alert.updatedAt"};
    const Candidate escalation{&p_.escalation_time, "escalationTime"};
    std::array<Candidate, 3> order{updated, created};
    size_t count = 2;
    if (type == "incident.triggered") {
      order = {created, updated};
    } else if (type == "incident.escalated") {
      order = {escalation, updated, created};
      count = 3;
    }
    for (const auto& [field, field_name] : std::span(order.data(), count)) {
      // A value that is there but not a number is a broken payload, not a missing time.
      if (field->present && !field->valid) {
        out.Reject(Reason::kBadTimestamp, "field " + std::string(field_name));
        return false;
      }
      if (!when && Usable(*field)) when = field;
    }
    return true;
  }

  // Action, alert id and the action's time as integer text. Escalate adds what tells one
  // escalation step from the next, since its time is usually not an instant. The record's own
  // timestamp is never hashed: a replay must map to the same id.
  std::string DedupId(std::string_view type, const EpochField* when) const {
    const std::string_view time_text = when ? std::string_view(when->text) : "";
    const Payload& p = p_;
    if (type == "incident.escalated") {
      return StableHash({p.action, p.alert.id, p.escalation_id, p.notify_id, p.escalation_time.text,
                         p.repeat_count, time_text});
    }
    return StableHash({p.action, p.alert.id, time_text});
  }

  // The attributes of docs/design.md section 4 for `type`.
  void AddAttrs(std::string_view type, const std::string& actor, EventBuilder& b) const {
    const Payload& p = p_;
    const Alert& a = p.alert;
    auto persons = [](const std::string& name) {
      return IsUsername(name) ? std::vector{name} : std::vector<std::string>{};
    };
    if (type == "incident.triggered") {
      std::vector<std::string> assignees;
      if (IsUsername(a.owner)) {
        assignees.push_back(a.owner);
      } else if (!a.responder_users.empty()) {
        assignees = a.responder_users;
      } else {
        assignees = a.recipient_users;
      }
      b.AttrPersons("assignees", assignees);
      b.AttrOpt("priority", a.priority);
      b.AttrOpt("urgency", UrgencyOf(a.priority));
      // A created alert is open; Opsgenie's own status word when the payload has it.
      b.Attr("status", a.status.empty() ? "open" : a.status);
    } else if (type == "incident.escalated") {
      b.AttrPersons("assignees",
                    p.notify_is_user ? std::vector{p.notify_name} : std::vector<std::string>{});
    } else if (type == "incident.reassigned") {
      // AssignOwnership names the new owner; TakeOwnership's new owner is whoever took it.
      b.AttrPersons("assignees",
                    persons(p.action == "TakeOwnership" && !actor.empty() ? actor : a.owner));
    } else if (type == "incident.priority_changed") {
      // The payload holds the new priority only.
      b.AttrNull("from");
      b.AttrOpt("to", a.priority);
    }
  }

  // Reads the body's fields. A structural error stops it (false); a field of the wrong type is
  // kept in p.field_failure and reading goes on, since the action may turn out ignored.
  static bool ReadPayload(od::object obj, Payload& p, Failure& fail) {
    for (auto field_result : obj) {
      od::field field;
      std::string_view key;
      if (std::move(field_result).get(field) || ReadKey(field, key)) {
        fail = {Reason::kInvalidJson, "bad key"};
        return false;
      }
      od::value value = field.value();
      bool ok = true;
      if (key == "action") {
        // Without a readable action nothing can be decided: a hard failure.
        if (!ReadString(value, p.action)) {
          fail = {Reason::kInvalidField, "field action"};
          return false;
        }
      } else if (key == "alert") {
        p.has_alert = true;
        Failure alert_fail;
        if (!ReadAlert(value, p.alert, alert_fail) && !p.field_failure) {
          p.field_failure = std::move(alert_fail);
        }
      } else if (key == "integrationId") {
        ok = ReadString(value, p.integration_id);
      } else if (key == "integrationName") {
        ok = ReadString(value, p.integration_name);
      } else if (key == "escalationId") {
        ok = ReadString(value, p.escalation_id);
      } else if (key == "escalationNotify") {
        ok = ReadNotify(value, p);
      } else if (key == "escalationTime") {
        ReadEpoch(value, p.escalation_time);
      } else if (key == "repeatCount") {
        EpochField count;  // a small integer: same reader, text kept for the dedup id
        ReadEpoch(value, count);
        ok = !count.present || count.valid;
        p.repeat_count = count.text;
      }
      if (!ok && !p.field_failure) {
        p.field_failure = Failure{Reason::kInvalidField, "field " + std::string(key)};
      }
    }
    return true;
  }

  Payload p_;
};

}  // namespace

std::unique_ptr<Source> MakeOpsgenieSource(const SourceOptions&) {
  return std::make_unique<OpsgenieSource>();
}

}  // namespace teamhealth::sources
