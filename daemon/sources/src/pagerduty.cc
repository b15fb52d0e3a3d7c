// PagerDuty webhooks -> canonical incident events.
//
// Three envelope generations arrive on the same topic and are told apart by the body:
//   V3 `{event: {id, event_type, occurred_at, agent, data}}`: one event; dedup id `event.id`.
//   V2 `{messages: [{event: "incident.trigger", incident, log_entries, id, created_on}]}` and
//   V1 `{messages: [{type: "incident.trigger", data: {incident}, id, created_on}]}`: one
//   canonical event per message; dedup id `messages[].id`. Each message is a delivery of its
//   own with its own id, so no `#n` suffix: a message redelivered in a different batch must
//   keep its id, which a position suffix would not.
//
// Note contents (V3 `data.content`, V2 log entry `channel`) are never read.
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common.h"
#include "vendors.h"

namespace teamhealth::sources {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view kSource = "pagerduty";

// Why a payload could not be normalised: becomes NormalizeResult::Reject.
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

// Reads a string, an integer (as decimal text) or null (-> empty): incident numbers are
// integers in every envelope, but a string is harmless to accept.
bool ReadStringOrInt(od::value v, std::string& out) {
  od::json_type t;
  if (v.type().get(t)) return false;
  if (t == od::json_type::number) {
    int64_t n;
    if (v.get_int64().get(n)) return false;
    out = std::to_string(n);
    return true;
  }
  std::string_view s;
  if (!ReadString(v, s)) return false;
  out.assign(s);
  return true;
}

bool IsNull(od::value v) {
  od::json_type t;
  return !v.type().get(t) && t == od::json_type::null;
}

// Calls `read` on member `name` of object `v` (null or a missing member: nothing to read).
template <typename Read>
bool ReadMember(od::value v, std::string_view name, Read&& read) {
  if (IsNull(v)) return true;
  od::object obj;
  if (v.get_object().get(obj)) return false;
  for (auto field_result : obj) {
    od::field field;
    std::string_view key;
    if (std::move(field_result).get(field) || ReadKey(field, key)) return false;
    if (key == name && !read(field.value())) return false;
  }
  return true;
}

// A PagerDuty reference object (`{id, type, summary, ...}`) or null.
// Views into the parser's buffer: valid for this record.
struct Ref {
  std::string_view id;
  std::string_view type;
  std::string_view summary;
  std::string_view name;  // V1 objects and V2 priorities may carry `name` instead of `summary`
  bool present = false;
};

bool ReadRef(od::value v, Ref& out) {
  out = Ref{};
  if (IsNull(v)) return true;
  od::object obj;
  if (v.get_object().get(obj)) return false;
  out.present = true;
  for (auto field_result : obj) {
    od::field field;
    std::string_view key;
    if (std::move(field_result).get(field) || ReadKey(field, key)) return false;
    std::string_view* target = key == "id"        ? &out.id
                               : key == "type"    ? &out.type
                               : key == "summary" ? &out.summary
                               : key == "name"    ? &out.name
                                                  : nullptr;
    if (target && !ReadString(field.value(), *target)) return false;
  }
  return true;
}

// Whether a reference names a person (V3/V2 `user_reference`, V1 `user` or no type at all in
// V1 user objects). Service, integration and escalation policy references are not people.
bool IsUser(const Ref& ref) {
  return ref.present && !ref.id.empty() &&
         (ref.type.empty() || ref.type == "user_reference" || ref.type == "user");
}

// The incident fields of every envelope, read in one forward pass whatever their order: V3
// `data` (an incident, or an incident_note with an `incident` reference), V2 `incident`, V1
// `data.incident`. Views into the parser's buffer, valid for this record (no copies: they were
// a tenth of a small PagerDuty record's time).
struct Incident {
  using Ids = std::vector<std::string_view>;
  bool present = false;
  std::string_view id;
  std::string_view data_type;         // V3 data.type: "incident" or "incident_note"
  std::string_view note_incident_id;  // V3 incident_note: data.incident.id
  std::string number;                 // an integer is written as text
  std::string_view title;
  std::string_view v1_subject;  // V1 trigger_summary_data.subject: V1 has no `title`
  std::string_view service;
  std::string_view status;
  std::string_view urgency;
  std::optional<std::string_view> priority;
  // Assignees as each generation spells them; the first one present wins (see Assignees()).
  std::optional<Ids> v3_assignees;        // assignees[].id
  std::optional<Ids> v2_assignments;      // assignments[].assignee.id
  std::optional<Ids> v1_assigned_to;      // assigned_to[].object.id
  std::string_view v1_assigned_to_user;   // assigned_to_user.id
  std::string_view last_status_change_by; // a user id, else empty

  std::span<const std::string_view> Assignees() const {
    if (v3_assignees) return *v3_assignees;
    if (v2_assignments) return *v2_assignments;
    if (v1_assigned_to) return *v1_assigned_to;
    if (!v1_assigned_to_user.empty()) return {&v1_assigned_to_user, 1};
    return {};
  }
  std::string_view Title() const { return title.empty() ? v1_subject : title; }
};

// Reads an array of user references, or of wrappers holding one under `inner` (V2
// `assignments[].assignee`, V1 `assigned_to[].object`). Non-user entries are skipped.
bool ReadUserList(od::value v, std::string_view inner, Incident::Ids& out) {
  out.clear();
  if (IsNull(v)) return true;
  od::array arr;
  if (v.get_array().get(arr)) return false;
  for (auto element_result : arr) {
    od::value element;
    if (std::move(element_result).get(element)) return false;
    Ref ref;
    if (inner.empty()) {
      if (!ReadRef(element, ref)) return false;
    } else if (!ReadMember(element, inner, [&](od::value x) { return ReadRef(x, ref); })) {
      return false;
    }
    if (IsUser(ref)) out.emplace_back(ref.id);
  }
  return true;
}

// The incident fields ReadIncident reads. An incident object has ~30 members and most are
// skipped: a key is told by its length first, not by a chain of ~16 comparisons (issue 13).
enum class IncidentKey : uint8_t {
  kOther, kId, kType, kNumber, kTitle, kStatus, kUrgency, kService, kIncident, kPriority,
  kAssignees, kAssignments, kAssignedTo, kAssignedToUser, kLastStatusChangeBy,
  kTriggerSummaryData,
};

IncidentKey IncidentKeyOf(std::string_view k) {
  using K = IncidentKey;
  switch (k.size()) {
    case 2: return k == "id" ? K::kId : K::kOther;
    case 4: return k == "type" ? K::kType : K::kOther;
    case 5: return k == "title" ? K::kTitle : K::kOther;
    case 6: return k == "number" ? K::kNumber : k == "status" ? K::kStatus : K::kOther;
    case 7: return k == "urgency" ? K::kUrgency : k == "service" ? K::kService : K::kOther;
    case 8: return k == "incident" ? K::kIncident : k == "priority" ? K::kPriority : K::kOther;
    case 9: return k == "assignees" ? K::kAssignees : K::kOther;
    case 11:
      return k == "assignments"   ? K::kAssignments
             : k == "assigned_to" ? K::kAssignedTo
                                  : K::kOther;
    case 15: return k == "incident_number" ? K::kNumber : K::kOther;
    case 16: return k == "assigned_to_user" ? K::kAssignedToUser : K::kOther;
    case 20: return k == "trigger_summary_data" ? K::kTriggerSummaryData : K::kOther;
    case 21: return k == "last_status_change_by" ? K::kLastStatusChangeBy : K::kOther;
    default: return K::kOther;
  }
}

// Fills `inc` from an incident (or incident_note) object. `where` prefixes field names in
// rejection details.
bool ReadIncident(od::value v, std::string_view where, Incident& inc, Failure& fail) {
  using K = IncidentKey;
  od::object obj;
  if (v.get_object().get(obj)) {
    fail = {Reason::kInvalidField, "field " + std::string(where) + ": not an object"};
    return false;
  }
  inc.present = true;
  for (auto field_result : obj) {
    od::field field;
    std::string_view key;
    if (std::move(field_result).get(field) || ReadKey(field, key)) {
      fail = {Reason::kInvalidJson, "bad key in " + std::string(where)};
      return false;
    }
    const IncidentKey which = IncidentKeyOf(key);
    if (which == K::kOther) continue;
    od::value value = field.value();
    bool ok = true;
    Ref ref;
    switch (which) {
      case K::kOther: break;
      case K::kId: ok = ReadString(value, inc.id); break;
      case K::kType: ok = ReadString(value, inc.data_type); break;
      case K::kNumber: ok = ReadStringOrInt(value, inc.number); break;
      case K::kTitle: ok = ReadString(value, inc.title); break;
      case K::kStatus: ok = ReadString(value, inc.status); break;
      case K::kUrgency: ok = ReadString(value, inc.urgency); break;
      case K::kService:
        ok = ReadRef(value, ref);
        inc.service = ref.id;
        break;
      case K::kIncident:  // V3 incident_note: the incident it annotates
        ok = ReadRef(value, ref);
        inc.note_incident_id = ref.id;
        break;
      case K::kPriority:
        ok = ReadRef(value, ref);
        if (ref.present) {
          inc.priority = !ref.summary.empty() ? ref.summary : ref.name;
          if (inc.priority->empty()) inc.priority.reset();
        }
        break;
      case K::kAssignees: ok = ReadUserList(value, "", inc.v3_assignees.emplace()); break;
      case K::kAssignments:
        ok = ReadUserList(value, "assignee", inc.v2_assignments.emplace());
        break;
      case K::kAssignedTo: ok = ReadUserList(value, "object", inc.v1_assigned_to.emplace()); break;
      case K::kAssignedToUser:
        ok = ReadRef(value, ref);
        if (IsUser(ref)) inc.v1_assigned_to_user = ref.id;
        break;
      case K::kLastStatusChangeBy:
        ok = ReadRef(value, ref);
        if (IsUser(ref)) inc.last_status_change_by = ref.id;
        break;
      case K::kTriggerSummaryData:
        ok = ReadMember(value, "subject",
                        [&](od::value sv) { return ReadString(sv, inc.v1_subject); });
        break;
    }
    if (!ok) {
      fail = {Reason::kInvalidField, "field " + std::string(where) + "." + std::string(key)};
      return false;
    }
  }
  return true;
}

// Canonical type of a V3 event_type; nullopt when it is not ours to map (see Classify).
std::optional<std::string_view> MapV3Type(std::string_view t) {
  if (t == "incident.triggered") return "incident.triggered";
  if (t == "incident.acknowledged") return "incident.acknowledged";
  if (t == "incident.unacknowledged") return "incident.unacknowledged";
  if (t == "incident.resolved") return "incident.resolved";
  if (t == "incident.reopened") return "incident.reopened";
  if (t == "incident.annotated") return "incident.annotated";
  if (t == "incident.escalated") return "incident.escalated";
  if (t == "incident.reassigned") return "incident.reassigned";
  if (t == "incident.delegated") return "incident.delegated";
  if (t == "incident.priority_updated") return "incident.priority_changed";
  return std::nullopt;
}

// V3 incident events that carry nothing for team health, or nothing a canonical type can
// hold: responders, status updates, conference bridges, service/type/title/urgency/custom
// field changes, roles, tasks, automation actions and workflows.
bool IsIgnoredV3IncidentType(std::string_view t) {
  static constexpr std::string_view kIgnored[] = {
      "incident.responder.added",
      "incident.responder.replied",
      "incident.status_update_published",
      "incident.conference_bridge.updated",
      "incident.service_updated",
      "incident.incident_type.changed",
      "incident.custom_field_values.updated",
      "incident.title_updated",
      "incident.urgency_updated",
      "incident.role.assigned",
  };
  for (auto i : kIgnored) {
    if (t == i) return true;
  }
  return t.starts_with("incident.task.") || t.starts_with("incident.action_invocation.") ||
         t.starts_with("incident.workflow.");
}

// V2/V1 message types (`incident.trigger` ...) -> canonical type.
std::optional<std::string_view> MapLegacyType(std::string_view t) {
  if (t == "incident.trigger") return "incident.triggered";
  if (t == "incident.acknowledge") return "incident.acknowledged";
  if (t == "incident.unacknowledge") return "incident.unacknowledged";
  if (t == "incident.resolve") return "incident.resolved";
  if (t == "incident.assign") return "incident.reassigned";
  if (t == "incident.escalate") return "incident.escalated";
  if (t == "incident.delegate") return "incident.delegated";
  if (t == "incident.annotate") return "incident.annotated";
  return std::nullopt;
}

// What to do with a vendor event name that has no canonical type: non-incident resources
// (service.*, pagey.ping) and the listed incident events are ignored; any other incident.*
// event is new to this build and may matter (a state change), so it is quarantined where an
// operator sees it counted, rather than dropped silently.
enum class Unmapped { kIgnore, kUnsupported };
Unmapped Classify(std::string_view t, bool v3) {
  if (!t.starts_with("incident.")) return Unmapped::kIgnore;
  if (v3 && IsIgnoredV3IncidentType(t)) return Unmapped::kIgnore;
  if (!v3 && t == "incident.custom") return Unmapped::kIgnore;  // custom incident actions
  return Unmapped::kUnsupported;
}

// Whether a canonical type is a status change: only then does V1/V2 `last_status_change_by`
// name who did it.
bool IsStatusChange(std::string_view type) {
  return type == "incident.triggered" || type == "incident.acknowledged" ||
         type == "incident.unacknowledged" || type == "incident.resolved";
}

// Adds subject and the type's attributes (docs/design.md section 4) to `b`.
void Fill(EventBuilder& b, std::string_view type, std::string_view subject_id,
          const Incident& inc) {
  b.Subject("incident", subject_id);
  if (!inc.number.empty()) b.SubjectKey(inc.number);
  if (!inc.service.empty()) b.SubjectService(inc.service);
  if (const std::string_view title = inc.Title(); !title.empty()) b.SubjectTitle(title);
  if (type == "incident.triggered") {
    b.AttrPersons("assignees", inc.Assignees());
    b.AttrOpt("urgency", inc.urgency.empty() ? std::nullopt : std::optional(inc.urgency));
    b.AttrOpt("priority", inc.priority);
    b.AttrOpt("status", inc.status.empty() ? std::nullopt : std::optional(inc.status));
  } else if (type == "incident.escalated" || type == "incident.reassigned" ||
             type == "incident.delegated") {
    b.AttrPersons("assignees", inc.Assignees());
  } else if (type == "incident.priority_changed") {
    // The payload holds the new priority only; the old one is not known here.
    b.AttrNull("from");
    b.AttrOpt("to", inc.priority);
  }
}

// A V3 `event` object, as read.
struct V3Event {
  std::string_view id, event_type, occurred_at;
  Ref agent;
  Incident inc;
  // Data of events we do not map is not read (its shape varies by event type); when the type
  // comes after the data, a data read failure counts only if the type turns out mapped.
  std::optional<Failure> data_failure;
};

std::optional<Failure> ReadV3Event(od::value v, V3Event& e) {
  od::object event;
  if (v.get_object().get(event))
    return Failure{Reason::kInvalidField, "field event: not an object"};
  for (auto field_result : event) {
    od::field field;
    std::string_view key;
    if (std::move(field_result).get(field) || ReadKey(field, key)) {
      return Failure{Reason::kInvalidJson, "bad key in event"};
    }
    od::value value = field.value();
    bool ok = true;
    if (key == "id") {
      ok = ReadString(value, e.id);
    } else if (key == "event_type") {
      ok = ReadString(value, e.event_type);
    } else if (key == "occurred_at") {
      ok = ReadString(value, e.occurred_at);
    } else if (key == "agent") {
      ok = ReadRef(value, e.agent);
    } else if (key == "data") {
      if (IsNull(value) || (!e.event_type.empty() && !MapV3Type(e.event_type))) continue;
      Failure fail;
      if (!ReadIncident(value, "event.data", e.inc, fail)) e.data_failure = std::move(fail);
    }
    if (!ok) return Failure{Reason::kInvalidField, "field event." + std::string(key)};
  }
  return std::nullopt;
}

std::optional<Failure> MapV3Event(V3Event& e, const RawRecord& record, NormalizeResult& out) {
  if (e.event_type.empty()) return Failure{Reason::kMissingField, "field event.event_type"};
  const auto type = MapV3Type(e.event_type);
  if (!type) {
    if (Classify(e.event_type, /*v3=*/true) == Unmapped::kIgnore) return std::nullopt;
    return Failure{Reason::kUnsupportedEvent, "field event.event_type: unmapped incident event"};
  }
  if (e.id.empty()) return Failure{Reason::kMissingField, "field event.id"};
  if (e.data_failure) return std::move(e.data_failure);
  if (!e.inc.present) return Failure{Reason::kMissingField, "field event.data"};
  // An incident_note's own id is the note's; the incident is the reference beside it.
  const bool note = e.inc.data_type == "incident_note" || *type == "incident.annotated";
  const std::string_view subject_id = note ? e.inc.note_incident_id : e.inc.id;
  if (subject_id.empty()) {
    return Failure{Reason::kMissingField,
                   note ? "field event.data.incident.id" : "field event.data.id"};
  }
  EpochMillis at = record.timestamp_ms;
  if (!e.occurred_at.empty()) {
    const auto ms = ParseRfc3339(e.occurred_at);
    if (!ms) return Failure{Reason::kBadTimestamp, "field event.occurred_at"};
    at = *ms;
  }
  EventBuilder b(kSource, e.id, *type);
  b.At(at).Actor(IsUser(e.agent) ? e.agent.id : "");
  Fill(b, *type, subject_id, e.inc);
  b.Build(record, out);
  return std::nullopt;
}

// V2 `log_entries`: the first entry's agent and created_at (its channel, which may hold a
// note's text, is skipped unread).
bool ReadFirstLogEntry(od::value v, Ref& agent, std::string_view& created_at) {
  if (IsNull(v)) return true;
  od::array entries;
  if (v.get_array().get(entries)) return false;
  bool first = true;
  for (auto entry_result : entries) {
    od::value entry;
    if (std::move(entry_result).get(entry)) return false;
    if (!first) continue;  // later entries are skipped by the iterator
    first = false;
    od::object obj;
    if (entry.get_object().get(obj)) return false;
    for (auto field_result : obj) {
      od::field field;
      std::string_view key;
      if (std::move(field_result).get(field) || ReadKey(field, key)) return false;
      if (key == "agent" && !ReadRef(field.value(), agent)) return false;
      if (key == "created_at" && !ReadString(field.value(), created_at)) return false;
    }
  }
  return true;
}

// A V2 or V1 message, as read.
struct LegacyMessage {
  std::string_view id, event_name, created_on, log_created_at;
  Ref log_agent;
  Incident inc;
  std::optional<Failure> incident_failure;  // as in V3Event: counts only for mapped messages
};

std::optional<Failure> ReadLegacyMessage(od::value v, LegacyMessage& m) {
  od::object msg;
  if (v.get_object().get(msg)) {
    return Failure{Reason::kInvalidField, "field messages[]: not an object"};
  }
  auto read_incident = [&m](od::value iv, std::string_view where) {
    Failure fail;
    if (!ReadIncident(iv, where, m.inc, fail)) m.incident_failure = std::move(fail);
    return true;
  };
  for (auto field_result : msg) {
    od::field field;
    std::string_view key;
    if (std::move(field_result).get(field) || ReadKey(field, key)) {
      return Failure{Reason::kInvalidJson, "bad key in messages[]"};
    }
    od::value value = field.value();
    bool ok = true;
    if (key == "id") {
      ok = ReadString(value, m.id);
    } else if (key == "event" || key == "type") {  // V2 `event`, V1 `type`
      ok = ReadString(value, m.event_name);
    } else if (key == "created_on") {
      ok = ReadString(value, m.created_on);
    } else if (key == "incident") {  // V2
      read_incident(value, "messages[].incident");
    } else if (key == "data") {  // V1: {incident}
      ok = ReadMember(value, "incident",
                      [&](od::value iv) { return read_incident(iv, "messages[].data.incident"); });
    } else if (key == "log_entries") {
      ok = ReadFirstLogEntry(value, m.log_agent, m.log_created_at);
    }
    if (!ok) return Failure{Reason::kInvalidField, "field messages[]." + std::string(key)};
  }
  return std::nullopt;
}

std::optional<Failure> MapLegacyMessage(LegacyMessage& m, const RawRecord& record,
                                        NormalizeResult& out) {
  if (m.event_name.empty()) return Failure{Reason::kMissingField, "field messages[].event"};
  const auto type = MapLegacyType(m.event_name);
  if (!type) {
    if (Classify(m.event_name, /*v3=*/false) == Unmapped::kIgnore) return std::nullopt;
    return Failure{Reason::kUnsupportedEvent, "field messages[].event: unmapped incident event"};
  }
  if (m.id.empty()) return Failure{Reason::kMissingField, "field messages[].id"};
  if (m.incident_failure) return std::move(m.incident_failure);
  if (!m.inc.present) return Failure{Reason::kMissingField, "field messages[].incident"};
  if (m.inc.id.empty()) return Failure{Reason::kMissingField, "field messages[].incident.id"};
  EpochMillis at = record.timestamp_ms;
  const std::string_view time_text = !m.created_on.empty() ? m.created_on : m.log_created_at;
  if (!time_text.empty()) {
    const auto ms = ParseRfc3339(time_text);
    if (!ms) {
      return Failure{Reason::kBadTimestamp, !m.created_on.empty()
                                                ? "field messages[].created_on"
                                                : "field log_entries[0].created_at"};
    }
    at = *ms;
  }
  // Who: the first log entry's agent when it is a user (V2); else, for status changes, the
  // incident's last_status_change_by when it is a user (V1 has no log entries).
  std::string_view actor;
  if (IsUser(m.log_agent)) {
    actor = m.log_agent.id;
  } else if (!m.log_agent.present && IsStatusChange(*type)) {
    actor = m.inc.last_status_change_by;
  }
  EventBuilder b(kSource, m.id, *type);
  b.At(at).Actor(actor);
  Fill(b, *type, m.inc.id, m.inc);
  b.Build(record, out);
  return std::nullopt;
}

class PagerDutySource final : public JsonSource {
 public:
  std::string_view name() const override { return kSource; }

 private:
  // Normalises the envelope while reading it: the events of `event` or of each of `messages`.
  void Read(Object body, const RawRecord& record, NormalizeResult& out) override {
    enveloped_ = false;
    Failure fail;
    for (auto field_result : body) {
      od::field field;
      std::string_view key;
      if (std::move(field_result).get(field) || ReadKey(field, key)) {
        return out.Reject(Reason::kInvalidJson, "bad key");
      }
      if (key != "event" && key != "messages") continue;
      if (enveloped_) return out.Reject(Reason::kInvalidField, "both event and messages");
      enveloped_ = true;
      const bool ok = key == "event" ? NormalizeV3(field.value(), record, out, fail)
                                     : NormalizeMessages(field.value(), record, out, fail);
      if (!ok) return out.Reject(fail.reason, std::move(fail.detail));
    }
  }

  void Map(const RawRecord&, NormalizeResult& out) override {
    // A bare `event.data` object (an incident or a note without its envelope) is not a
    // webhook body: no event id, type or time to go by.
    if (!enveloped_) return out.Reject(Reason::kMissingField, "field event");
    if (out.events.empty()) out.ignored = true;
  }

  // V3: `{event: {...}}`.
  static bool NormalizeV3(od::value v, const RawRecord& record, NormalizeResult& out,
                          Failure& fail) {
    V3Event event;
    auto failure = ReadV3Event(v, event);
    if (!failure) failure = MapV3Event(event, record, out);
    if (failure) fail = std::move(*failure);
    return !failure;
  }

  // V2/V1: `{messages: [...]}`. A malformed or unsupported message rejects the whole record
  // (it is quarantined by reference and can be replayed whole once fixed).
  static bool NormalizeMessages(od::value v, const RawRecord& record, NormalizeResult& out,
                                Failure& fail) {
    od::array messages;
    if (v.get_array().get(messages)) {
      fail = {Reason::kInvalidField, "field messages: not an array"};
      return false;
    }
    for (auto message_result : messages) {
      od::value message;
      if (std::move(message_result).get(message) || !NormalizeMessage(message, record, out, fail)) {
        if (fail.detail.empty()) fail = {Reason::kInvalidJson, "bad element in messages"};
        return false;
      }
    }
    return true;
  }

  static bool NormalizeMessage(od::value v, const RawRecord& record, NormalizeResult& out,
                               Failure& fail) {
    LegacyMessage message;
    auto failure = ReadLegacyMessage(v, message);
    if (!failure) failure = MapLegacyMessage(message, record, out);
    if (failure) fail = std::move(*failure);
    return !failure;
  }

  bool enveloped_ = false;  // the body has `event` or `messages`
};

}  // namespace

std::unique_ptr<Source> MakePagerDutySource(const SourceOptions&) {
  return std::make_unique<PagerDutySource>();
}

}  // namespace teamhealth::sources
