#include "canonical.h"

#include <algorithm>
#include <array>
#include <initializer_list>

#include "teamhealth/base/time.h"

namespace teamhealth::sources {

namespace od = simdjson::ondemand;

namespace {

// Outcome of reading one value: fine, of the wrong type, or not JSON at all.
enum class Outcome { kOk, kWrongType, kBadJson };

// Walks a value we do not interpret so that malformed JSON inside it is still detected: On
// Demand only validates what it visits.
bool ValidJson(od::value v, int depth = 0) {
  if (depth > 64) return false;
  od::json_type t;
  if (v.type().get(t)) return false;
  switch (t) {
    case od::json_type::null: return !v.is_null().error() && v.is_null().value_unsafe();
    case od::json_type::boolean: {
      bool b;
      return !v.get_bool().get(b);
    }
    case od::json_type::string: {
      std::string_view s;
      return !v.get_string().get(s);
    }
    case od::json_type::number: {
      od::number n;
      return !v.get_number().get(n);
    }
    case od::json_type::array: {
      od::array arr;
      if (v.get_array().get(arr)) return false;
      for (auto element : arr) {
        od::value ev;
        if (element.get(ev) || !ValidJson(ev, depth + 1)) return false;
      }
      return true;
    }
    case od::json_type::object: {
      od::object obj;
      if (v.get_object().get(obj)) return false;
      for (auto field : obj) {
        std::string_view key;
        od::value fv;
        if (ReadKey(field, key) || field.value().get(fv) || !ValidJson(fv, depth + 1)) {
          return false;
        }
      }
      return true;
    }
  }
  return false;
}

// Reads a JSON value that must be a string (or null when `nullable`).
Outcome ReadString(od::value v, std::string_view& out, bool nullable) {
  od::json_type t;
  if (v.type().get(t)) return Outcome::kBadJson;
  if (t == od::json_type::null) {
    if (!ValidJson(v)) return Outcome::kBadJson;
    return nullable ? Outcome::kOk : Outcome::kWrongType;
  }
  if (t != od::json_type::string) return ValidJson(v) ? Outcome::kWrongType : Outcome::kBadJson;
  if (v.get_string().get(out)) return Outcome::kBadJson;
  return Outcome::kOk;
}

// `extra` becomes "subject.<name>" for the first member other than kind and id, whatever its
// value (empty if none): the closed subjects of person.time_off and pulse.response refuse it.
Outcome ReadSubject(od::value v, schema::EventView::Subject& subject, std::string& bad_field,
                    std::string& extra) {
  od::object obj;
  bad_field = "subject";
  od::json_type t;
  if (v.type().get(t)) return Outcome::kBadJson;
  if (t != od::json_type::object) return ValidJson(v) ? Outcome::kWrongType : Outcome::kBadJson;
  if (v.get_object().get(obj)) return Outcome::kBadJson;
  for (auto field : obj) {
    std::string_view key;
    od::value fv;
    if (ReadKey(field, key) || field.value().get(fv)) return Outcome::kBadJson;
    if (extra.empty() && key != "kind" && key != "id") extra.assign("subject.").append(key);
    std::string_view* target = nullptr;
    if (key == "kind")
      target = &subject.kind_;
    else if (key == "id")
      target = &subject.id_;
    else if (key == "key")
      target = &subject.key_;
    else if (key == "project")
      target = &subject.project_;
    else if (key == "service")
      target = &subject.service_;
    else if (key == "title")
      target = &subject.title_;
    if (target == nullptr) {
      // Tolerate fields added by newer producers, but only if they are JSON.
      if (!ValidJson(fv)) return Outcome::kBadJson;
      continue;
    }
    bad_field = "subject." + std::string(key);
    if (const Outcome r = ReadString(fv, *target, true); r != Outcome::kOk) return r;
  }
  bad_field.clear();
  return Outcome::kOk;
}

// Sets the value of `out`'s last attribute.
Outcome ReadAttrValue(od::value v, schema::EventView& out) {
  od::json_type t;
  if (v.type().get(t)) return Outcome::kBadJson;
  switch (t) {
    case od::json_type::null:
      if (!ValidJson(v)) return Outcome::kBadJson;
      out.SetNull();
      return Outcome::kOk;
    case od::json_type::boolean: {
      bool b;
      if (v.get_bool().get(b)) return Outcome::kBadJson;
      out.SetBool(b);
      return Outcome::kOk;
    }
    case od::json_type::string: {
      std::string_view s;
      if (v.get_string().get(s)) return Outcome::kBadJson;
      out.SetString(s);
      return Outcome::kOk;
    }
    case od::json_type::number: {
      od::number n;
      if (v.get_number().get(n)) return Outcome::kBadJson;
      if (n.is_double()) {
        out.SetDouble(n.get_double());
      } else if (n.is_int64()) {
        out.SetInt(n.get_int64());
      } else {
        return Outcome::kWrongType;  // beyond int64: not an attribute we can hold exactly
      }
      return Outcome::kOk;
    }
    case od::json_type::array: {
      od::array arr;
      if (v.get_array().get(arr)) return Outcome::kBadJson;
      out.SetList();
      Outcome result = Outcome::kOk;
      for (auto element : arr) {
        od::value ev;
        if (element.get(ev)) return Outcome::kBadJson;
        od::json_type et;
        if (ev.type().get(et)) return Outcome::kBadJson;
        std::string_view s;
        if (et == od::json_type::string) {
          if (ev.get_string().get(s)) return Outcome::kBadJson;
          out.AddListItem(s);
        } else {
          // Lists hold person references and names; keep scanning to tell bad JSON apart.
          if (!ValidJson(ev)) return Outcome::kBadJson;
          result = Outcome::kWrongType;
        }
      }
      return result;
    }
    case od::json_type::object: return ValidJson(v) ? Outcome::kWrongType : Outcome::kBadJson;
  }
  return Outcome::kBadJson;
}

Outcome ReadAttrs(od::value v, schema::EventView& event, std::string& bad_field) {
  bad_field = "attrs";
  od::json_type t;
  if (v.type().get(t)) return Outcome::kBadJson;
  if (t != od::json_type::object) return ValidJson(v) ? Outcome::kWrongType : Outcome::kBadJson;
  od::object obj;
  if (v.get_object().get(obj)) return Outcome::kBadJson;
  for (auto field : obj) {
    std::string_view key;
    od::value fv;
    if (ReadKey(field, key) || field.value().get(fv)) return Outcome::kBadJson;
    event.AddAttr(key);
    if (const Outcome r = ReadAttrValue(fv, event); r != Outcome::kOk) {
      bad_field = "attrs." + std::string(key);
      return r;
    }
  }
  // Sorted by name: deterministic bytes whatever order the producer used.
  event.SortAttrsByName();
  const auto attrs = event.attrs();
  for (size_t i = 1; i < attrs.size(); ++i) {
    if (attrs[i].name() == attrs[i - 1].name()) {
      bad_field = "attrs." + std::string(attrs[i].name()) + " (repeated)";
      return Outcome::kWrongType;
    }
  }
  bad_field.clear();
  return Outcome::kOk;
}

// schema_version: 1 is the only version so far.
Outcome ReadSchemaVersion(od::value v) {
  uint64_t version;
  if (v.get_uint64().get(version)) return ValidJson(v) ? Outcome::kWrongType : Outcome::kBadJson;
  return version == 1 ? Outcome::kOk : Outcome::kWrongType;
}

// The members of a canonical event, in the bit order of CanonicalSource::seen_known_.
enum Member : int { kId, kSource, kType, kOccurredAt, kActor, kSubject, kAttrs, kSchemaVersion };
constexpr std::array<std::string_view, 8> kMembers = {
    "id", "source", "type", "occurred_at", "actor", "subject", "attrs", "schema_version"};

// The member `key` names, or -1 for one we do not know.
int MemberOf(std::string_view key) {
  for (size_t i = 0; i < kMembers.size(); ++i) {
    if (kMembers[i] == key) return static_cast<int>(i);
  }
  return -1;
}

// Reads member `member` (-1: one we do not know) into `event`; `bad` names the field at fault.
Outcome ReadMember(int member, od::value v, schema::EventView& event,
                   std::string_view& occurred_at, std::string& subject_extra, std::string& bad) {
  std::string_view text;
  Outcome r = Outcome::kOk;
  switch (member) {
    case kId:
      r = ReadString(v, text, false);
      event.set_id(text);
      return r;
    case kSource:
      r = ReadString(v, text, false);
      event.set_source(text);
      return r;
    case kType:
      r = ReadString(v, text, false);
      event.set_type(text);
      return r;
    case kOccurredAt: return ReadString(v, occurred_at, false);
    case kActor:
      r = ReadString(v, text, true);
      event.set_actor(text);
      return r;
    case kSubject: return ReadSubject(v, event.mutable_subject(), bad, subject_extra);
    case kAttrs: return ReadAttrs(v, event, bad);
    case kSchemaVersion: return ReadSchemaVersion(v);
  }
  return ValidJson(v) ? Outcome::kOk : Outcome::kBadJson;  // unknown: tolerated if it is JSON
}

// --- The types whose attributes are checked here (design section 4) ---------------------
// Other types tolerate attributes they do not know, for newer producers. These two come only
// from canonical producers (an HR or calendar export, a pulse survey) and are about people, so
// their shape is closed: an attribute we do not know (a time off's reason, a free-text pulse
// comment, a respondent) or a subject member but kind and id (a title, a key) is refused rather
// than kept, and the producer learns it at once.

std::optional<Rejection> InvalidField(std::string detail) {
  return Rejection{Reason::kInvalidField, "field " + std::move(detail)};
}

// Rejects the first attribute not in `allowed`, saying `why`.
std::optional<Rejection> OnlyAttrs(const schema::EventView& e,
                                   std::initializer_list<std::string_view> allowed,
                                   std::string_view why) {
  for (const auto& attr : e.attrs()) {
    if (std::find(allowed.begin(), allowed.end(), attr.name()) == allowed.end()) {
      return InvalidField("attrs." + std::string(attr.name()) + ": " + std::string(why));
    }
  }
  return std::nullopt;
}

// The subjects of these types are closed too: a title, key, project or service (or a member we
// do not know) could hold a raw identity or a reason, and the subject is stored as given, not
// pseudonymised. Any such member is refused whatever its value, even null or "", as an unknown
// attribute is: the shape is the same for the parser and the schema (additionalProperties).
std::optional<Rejection> OnlyKindAndId(const std::string& subject_extra, std::string_view why) {
  if (subject_extra.empty()) return std::nullopt;
  return InvalidField(subject_extra + ": " + std::string(why));
}

// The instant held by string attribute `name`, or nullopt when absent or not RFC 3339.
std::optional<EpochMillis> InstantAttr(const schema::EventView& e, std::string_view name) {
  const auto* value = e.FindAttr(name);
  if (value == nullptr || !value->has_string_value()) return std::nullopt;
  return ParseRfc3339(value->string_value());
}

// person.time_off: who (required), [start, end) as instants, optionally cancelled. The actor,
// if any, is whoever entered it and may be someone else (a manager, an HR system user).
std::optional<Rejection> CheckTimeOff(const schema::EventView& e,
                                      const std::string& subject_extra) {
  if (e.subject().kind() != "time_off") {
    return InvalidField("subject.kind: a person.time_off concerns a time_off");
  }
  if (auto r = OnlyKindAndId(subject_extra, "a time off's subject is only kind and id")) return r;
  if (auto r = OnlyAttrs(e, {"cancelled", "end", "person", "start"},
                         "a time off carries only person, start, end and cancelled")) {
    return r;
  }
  const auto* person = e.FindAttr("person");
  if (person == nullptr || !person->has_string_value() || person->string_value().empty()) {
    return InvalidField("attrs.person: a person reference is required");
  }
  const auto start = InstantAttr(e, "start");
  if (!start) return InvalidField("attrs.start: an RFC 3339 instant is required");
  const auto end = InstantAttr(e, "end");
  if (!end) return InvalidField("attrs.end: an RFC 3339 instant is required");
  if (*end <= *start) return InvalidField("attrs.end: not after attrs.start");
  if (const auto* c = e.FindAttr("cancelled"); c != nullptr && !c->has_bool_value()) {
    return InvalidField("attrs.cancelled: a boolean");
  }
  return std::nullopt;
}

// pulse.response: a team's anonymous score. Nothing in it may lead back to the respondent.
// `"actor": ""` passes: for every type an empty actor is no actor (stored as nothing, printed
// as null), so nothing links the response to anyone; the schema allows null and "" alike.
std::optional<Rejection> CheckPulse(const schema::EventView& e,
                                    const std::string& subject_extra) {
  if (!e.actor().empty()) {
    return InvalidField("actor: a pulse response is never linked to a person");
  }
  if (e.subject().kind() != "team") {
    return InvalidField("subject.kind: a pulse.response concerns a team");
  }
  if (auto r = OnlyKindAndId(subject_extra, "a pulse response's subject is only kind and id")) {
    return r;
  }
  if (auto r = OnlyAttrs(e, {"score"}, "a pulse response carries only score")) return r;
  const auto* score = e.FindAttr("score");
  if (score == nullptr || !score->has_int_value() || score->int_value() < 1 ||
      score->int_value() > 5) {
    return InvalidField("attrs.score: an integer from 1 to 5 is required");
  }
  return std::nullopt;
}

std::optional<Rejection> CheckTypeAttrs(const schema::EventView& e,
                                        const std::string& subject_extra) {
  if (e.type() == "person.time_off") return CheckTimeOff(e, subject_extra);
  if (e.type() == "pulse.response") return CheckPulse(e, subject_extra);
  return std::nullopt;
}

}  // namespace

bool CanonicalSource::FirstSighting(std::string_view key, int member) {
  if (member < 0) return seen_other_.insert(key).second;
  const uint32_t bit = 1u << member;
  if (seen_known_ & bit) return false;
  seen_known_ |= bit;
  return true;
}

void CanonicalSource::Read(Object body, const RawRecord&, NormalizeResult& out) {
  event_.Reset();
  occurred_at_ = {};
  subject_extra_.clear();
  seen_known_ = 0;
  seen_other_.clear();
  std::string bad;
  for (auto field : body) {
    std::string_view key;
    od::value v;
    if (ReadKey(field, key) || field.value().get(v)) {
      return out.Reject(Reason::kInvalidJson, "malformed member");
    }
    // A repeated member would make the event depend on which parser reads it.
    const int member = MemberOf(key);
    if (!FirstSighting(key, member)) {
      return out.Reject(Reason::kInvalidField, "field " + std::string(key) + " (repeated)");
    }
    bad = key;
    const Outcome r = ReadMember(member, v, event_, occurred_at_, subject_extra_, bad);
    if (r == Outcome::kBadJson)
      return out.Reject(Reason::kInvalidJson, "malformed value of " + bad);
    if (r == Outcome::kWrongType) return out.Reject(Reason::kInvalidField, "field " + bad);
  }
}

std::optional<Rejection> CanonicalSource::Check() const {
  const schema::EventView& e = event_;
  auto reject = [](Reason reason, std::string detail) {
    return std::optional<Rejection>(Rejection{reason, std::move(detail)});
  };
  if (e.id().empty()) return reject(Reason::kMissingField, "field id");
  if (e.source().empty()) return reject(Reason::kMissingField, "field source");
  if (e.type().empty()) return reject(Reason::kMissingField, "field type");
  if (!(seen_known_ & (1u << kOccurredAt))) {
    return reject(Reason::kMissingField, "field occurred_at");
  }
  if (!(seen_known_ & (1u << kSubject))) return reject(Reason::kMissingField, "field subject");
  if (!IsKnownSourceName(e.source())) {
    return reject(Reason::kInvalidField, "field source: unknown source");
  }
  // `<source>:` and at least one character.
  if (e.id().size() <= e.source().size() + 1 || !e.id().starts_with(e.source()) ||
      e.id()[e.source().size()] != ':') {
    return reject(Reason::kInvalidField, "field id: must be <source>:<dedup id>");
  }
  if (!IsKnownEventType(e.type())) return reject(Reason::kUnknownType, "field type");
  if (!accept_directory_events_ &&
      (e.source() == "directory" || e.type().starts_with("directory.") ||
       e.subject().kind() == "person")) {
    return reject(Reason::kInvalidField, "field type: directory events come only from the config");
  }
  if (!IsKnownSubjectKind(e.subject().kind())) {
    return reject(Reason::kInvalidField, "field subject.kind");
  }
  if (e.subject().id().empty()) return reject(Reason::kMissingField, "field subject.id");
  return CheckTypeAttrs(e, subject_extra_);
}

void CanonicalSource::Map(const RawRecord& record, NormalizeResult& out) {
  event_.Finish();  // the lists' spans, for the checks
  if (auto rejection = Check()) return out.Reject(rejection->reason, std::move(rejection->detail));
  const auto ms = ParseRfc3339(occurred_at_);
  if (!ms) return out.Reject(Reason::kBadTimestamp, "field occurred_at");
  event_.set_occurred_at_ms(*ms);
  if (!out.events.Append(event_, {record.topic, record.partition, record.offset})) {
    // Every JSON string is UTF-8 (simdjson checks): only the topic or file name can fail.
    return out.Reject(Reason::kInvalidField, "a string that is not UTF-8 (the topic)");
  }
}

}  // namespace teamhealth::sources
