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

// Reads a string or null (null -> empty); false for any other type.
bool ReadString(od::value v, std::string& out) {
  od::json_type t;
  if (v.type().get(t)) return false;
  if (t == od::json_type::null) {
    out.clear();
    return true;
  }
  std::string_view s;
  if (v.get_string().get(s)) return false;
  out.assign(s);
  return true;
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
  return ReadString(v, out);
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
    if (std::move(field_result).get(field) || field.unescaped_key().get(key)) return false;
    if (key == name && !read(field.value())) return false;
  }
  return true;
}

// A PagerDuty reference object (`{id, type, summary, ...}`) or null.
struct Ref {
  std::string id;
  std::string type;
  std::string summary;
  std::string name;  // V1 objects and V2 priorities may carry `name` instead of `summary`
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
    if (std::move(field_result).get(field) || field.unescaped_key().get(key)) return false;
    std::string* target = key == "id"        ? &out.id
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
// `data.incident`.
struct Incident {
  bool present = false;
  std::string id;
  std::string data_type;         // V3 data.type: "incident" or "incident_note"
  std::string note_incident_id;  // V3 incident_note: data.incident.id
  std::string number;
  std::string title;
  std::string v1_subject;  // V1 trigger_summary_data.subject: V1 has no `title`
  std::string service;
  std::string status;
  std::string urgency;
  std::optional<std::string> priority;
  // Assignees as each generation spells them; the first one present wins (see Assignees()).
  std::optional<std::vector<std::string>> v3_assignees;    // assignees[].id
  std::optional<std::vector<std::string>> v2_assignments;  // assignments[].assignee.id
  std::optional<std::vector<std::string>> v1_assigned_to;  // assigned_to[].object.id
  std::string v1_assigned_to_user;                         // assigned_to_user.id
  std::string last_status_change_by;                       // a user id, else empty

  std::vector<std::string> Assignees() const {
    if (v3_assignees) return *v3_assignees;
    if (v2_assignments) return *v2_assignments;
    if (v1_assigned_to) return *v1_assigned_to;
    if (!v1_assigned_to_user.empty()) return {v1_assigned_to_user};
    return {};
  }
  std::string Title() const { return title.empty() ? v1_subject : title; }
};

// Reads an array of user references, or of wrappers holding one under `inner` (V2
// `assignments[].assignee`, V1 `assigned_to[].object`). Non-user entries are skipped.
bool ReadUserList(od::value v, std::string_view inner, std::vector<std::string>& out) {
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
    if (IsUser(ref)) out.push_back(ref.id);
  }
  return true;
}

// Fills `inc` from an incident (or incident_note) object. `where` prefixes field names in
// rejection details.
bool ReadIncident(od::value v, std::string_view where, Incident& inc, Failure& fail) {
  od::object obj;
  if (v.get_object().get(obj)) {
    fail = {Reason::kInvalidField, "field " + std::string(where) + ": not an object"};
    return false;
  }
  inc.present = true;
  for (auto field_result : obj) {
    od::field field;
    std::string_view key;
    if (std::move(field_result).get(field) || field.unescaped_key().get(key)) {
      fail = {Reason::kInvalidJson, "bad key in " + std::string(where)};
      return false;
    }
    od::value value = field.value();
    bool ok = true;
    Ref ref;
    if (key == "id") {
      ok = ReadString(value, inc.id);
    } else if (key == "type") {
      ok = ReadString(value, inc.data_type);
    } else if (key == "number" || key == "incident_number") {
      ok = ReadStringOrInt(value, inc.number);
    } else if (key == "title") {
      ok = ReadString(value, inc.title);
    } else if (key == "status") {
      ok = ReadString(value, inc.status);
    } else if (key == "urgency") {
      ok = ReadString(value, inc.urgency);
    } else if (key == "service") {
      ok = ReadRef(value, ref);
      inc.service = ref.id;
    } else if (key == "incident") {  // V3 incident_note: the incident it annotates
      ok = ReadRef(value, ref);
      inc.note_incident_id = ref.id;
    } else if (key == "priority") {
      ok = ReadRef(value, ref);
      if (ref.present) {
        inc.priority = !ref.summary.empty() ? ref.summary : ref.name;
        if (inc.priority->empty()) inc.priority.reset();
      }
    } else if (key == "assignees") {
      ok = ReadUserList(value, "", inc.v3_assignees.emplace());
    } else if (key == "assignments") {
      ok = ReadUserList(value, "assignee", inc.v2_assignments.emplace());
    } else if (key == "assigned_to") {
      ok = ReadUserList(value, "object", inc.v1_assigned_to.emplace());
    } else if (key == "assigned_to_user") {
      ok = ReadRef(value, ref);
      if (IsUser(ref)) inc.v1_assigned_to_user = ref.id;
    } else if (key == "last_status_change_by") {
      ok = ReadRef(value, ref);
      if (IsUser(ref)) inc.last_status_change_by = ref.id;
    } else if (key == "trigger_summary_data") {
      ok = ReadMember(value, "subject",
                      [&](od::value sv) { return ReadString(sv, inc.v1_subject); });
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

// Adds subject and the type's attributes (DESIGN section 4) to `b`.
void Fill(EventBuilder& b, std::string_view type, const std::string& subject_id,
          const Incident& inc) {
  b.Subject("incident", subject_id);
  if (!inc.number.empty()) b.SubjectKey(inc.number);
  if (!inc.service.empty()) b.SubjectService(inc.service);
  if (const std::string title = inc.Title(); !title.empty()) b.SubjectTitle(title);
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
      if (std::move(field_result).get(field) || field.unescaped_key().get(key)) {
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
  bool NormalizeV3(od::value v, const RawRecord& record, NormalizeResult& out, Failure& fail) {
    od::object event;
    if (v.get_object().get(event)) {
      fail = {Reason::kInvalidField, "field event: not an object"};
      return false;
    }
    std::string id, event_type, occurred_at;
    bool have_time = false, data_ok = true;
    Ref agent;
    Incident inc;
    Failure data_fail;
    for (auto field_result : event) {
      od::field field;
      std::string_view key;
      if (std::move(field_result).get(field) || field.unescaped_key().get(key)) {
        fail = {Reason::kInvalidJson, "bad key in event"};
        return false;
      }
      od::value value = field.value();
      bool ok = true;
      if (key == "id") {
        ok = ReadString(value, id);
      } else if (key == "event_type") {
        ok = ReadString(value, event_type);
      } else if (key == "occurred_at") {
        ok = ReadString(value, occurred_at);
        have_time = true;
      } else if (key == "agent") {
        ok = ReadRef(value, agent);
      } else if (key == "data") {
        // Data of events we do not map is not read (its shape varies by event type); when
        // the type comes later, a data read failure counts only if the type turns out mapped.
        if (IsNull(value) || (!event_type.empty() && !MapV3Type(event_type))) continue;
        data_ok = ReadIncident(value, "event.data", inc, data_fail);
      }
      if (!ok) {
        fail = {Reason::kInvalidField, "field event." + std::string(key)};
        return false;
      }
    }
    if (event_type.empty()) {
      fail = {Reason::kMissingField, "field event.event_type"};
      return false;
    }
    const auto type = MapV3Type(event_type);
    if (!type) {
      if (Classify(event_type, /*v3=*/true) == Unmapped::kIgnore) return true;
      fail = {Reason::kUnsupportedEvent, "field event.event_type: unmapped incident event"};
      return false;
    }
    if (id.empty()) {
      fail = {Reason::kMissingField, "field event.id"};
      return false;
    }
    if (!data_ok) {
      fail = std::move(data_fail);
      return false;
    }
    if (!inc.present) {
      fail = {Reason::kMissingField, "field event.data"};
      return false;
    }
    // An incident_note's own id is the note's; the incident is the reference beside it.
    const bool note = inc.data_type == "incident_note" || *type == "incident.annotated";
    const std::string& subject_id = note ? inc.note_incident_id : inc.id;
    if (subject_id.empty()) {
      fail = {Reason::kMissingField, note ? "field event.data.incident.id" : "field event.data.id"};
      return false;
    }
    EpochMillis at = record.timestamp_ms;
    if (have_time && !occurred_at.empty()) {
      const auto ms = ParseRfc3339(occurred_at);
      if (!ms) {
        fail = {Reason::kBadTimestamp, "field event.occurred_at"};
        return false;
      }
      at = *ms;
    }
    EventBuilder b(kSource, id, *type);
    b.At(at).Actor(IsUser(agent) ? agent.id : "");
    Fill(b, *type, subject_id, inc);
    out.events.push_back(b.Build(record));
    return true;
  }

  // V2/V1: `{messages: [...]}`. A malformed or unsupported message rejects the whole record
  // (it is quarantined by reference and can be replayed whole once fixed).
  bool NormalizeMessages(od::value v, const RawRecord& record, NormalizeResult& out,
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

  bool NormalizeMessage(od::value v, const RawRecord& record, NormalizeResult& out, Failure& fail) {
    od::object msg;
    if (v.get_object().get(msg)) {
      fail = {Reason::kInvalidField, "field messages[]: not an object"};
      return false;
    }
    std::string id, event_name, created_on, log_created_at;
    Ref log_agent;
    Incident inc;
    bool incident_ok = true;  // as in NormalizeV3: a failure counts only for mapped messages
    Failure incident_fail;
    for (auto field_result : msg) {
      od::field field;
      std::string_view key;
      if (std::move(field_result).get(field) || field.unescaped_key().get(key)) {
        fail = {Reason::kInvalidJson, "bad key in messages[]"};
        return false;
      }
      od::value value = field.value();
      bool ok = true;
      if (key == "id") {
        ok = ReadString(value, id);
      } else if (key == "event" || key == "type") {  // V2 `event`, V1 `type`
        ok = ReadString(value, event_name);
      } else if (key == "created_on") {
        ok = ReadString(value, created_on);
      } else if (key == "incident") {  // V2
        incident_ok = ReadIncident(value, "messages[].incident", inc, incident_fail);
      } else if (key == "data") {  // V1: {incident}
        ok = ReadMember(value, "incident", [&](od::value iv) {
          incident_ok = ReadIncident(iv, "messages[].data.incident", inc, incident_fail);
          return true;
        });
      } else if (key == "log_entries") {
        ok = ReadFirstLogEntry(value, log_agent, log_created_at);
      }
      if (!ok) {
        fail = {Reason::kInvalidField, "field messages[]." + std::string(key)};
        return false;
      }
    }
    if (event_name.empty()) {
      fail = {Reason::kMissingField, "field messages[].event"};
      return false;
    }
    const auto type = MapLegacyType(event_name);
    if (!type) {
      if (Classify(event_name, /*v3=*/false) == Unmapped::kIgnore) return true;
      fail = {Reason::kUnsupportedEvent, "field messages[].event: unmapped incident event"};
      return false;
    }
    if (id.empty()) {
      fail = {Reason::kMissingField, "field messages[].id"};
      return false;
    }
    if (!incident_ok) {
      fail = std::move(incident_fail);
      return false;
    }
    if (!inc.present) {
      fail = {Reason::kMissingField, "field messages[].incident"};
      return false;
    }
    if (inc.id.empty()) {
      fail = {Reason::kMissingField, "field messages[].incident.id"};
      return false;
    }
    EpochMillis at = record.timestamp_ms;
    const std::string& time_text = !created_on.empty() ? created_on : log_created_at;
    if (!time_text.empty()) {
      const auto ms = ParseRfc3339(time_text);
      if (!ms) {
        fail = {Reason::kBadTimestamp, !created_on.empty() ? "field messages[].created_on"
                                                           : "field log_entries[0].created_at"};
        return false;
      }
      at = *ms;
    }
    // Who: the first log entry's agent when it is a user (V2); else, for status changes, the
    // incident's last_status_change_by when it is a user (V1 has no log entries).
    std::string actor;
    if (IsUser(log_agent)) {
      actor = log_agent.id;
    } else if (!log_agent.present && IsStatusChange(*type)) {
      actor = inc.last_status_change_by;
    }
    EventBuilder b(kSource, id, *type);
    b.At(at).Actor(actor);
    Fill(b, *type, inc.id, inc);
    out.events.push_back(b.Build(record));
    return true;
  }

  // V2 `log_entries`: the first entry's agent and created_at (its channel, which may hold a
  // note's text, is skipped unread).
  static bool ReadFirstLogEntry(od::value v, Ref& agent, std::string& created_at) {
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
        if (std::move(field_result).get(field) || field.unescaped_key().get(key)) return false;
        if (key == "agent" && !ReadRef(field.value(), agent)) return false;
        if (key == "created_at" && !ReadString(field.value(), created_at)) return false;
      }
    }
    return true;
  }

  bool enveloped_ = false;  // the body has `event` or `messages`
};

}  // namespace

std::unique_ptr<Source> MakePagerDutySource(const SourceOptions&) {
  return std::make_unique<PagerDutySource>();
}

}  // namespace teamhealth::sources
