#include "canonical.h"

#include <algorithm>
#include <set>

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
        if (field.unescaped_key().get(key) || field.value().get(fv) || !ValidJson(fv, depth + 1)) {
          return false;
        }
      }
      return true;
    }
  }
  return false;
}

// Reads a JSON value that must be a string (or null when `nullable`).
Outcome ReadString(od::value v, std::string& out, bool nullable) {
  od::json_type t;
  if (v.type().get(t)) return Outcome::kBadJson;
  if (t == od::json_type::null) {
    if (!ValidJson(v)) return Outcome::kBadJson;
    return nullable ? Outcome::kOk : Outcome::kWrongType;
  }
  if (t != od::json_type::string) return ValidJson(v) ? Outcome::kWrongType : Outcome::kBadJson;
  std::string_view s;
  if (v.get_string().get(s)) return Outcome::kBadJson;
  out.assign(s);
  return Outcome::kOk;
}

Outcome ReadSubject(od::value v, schema::Subject& subject, std::string& bad_field) {
  od::object obj;
  bad_field = "subject";
  od::json_type t;
  if (v.type().get(t)) return Outcome::kBadJson;
  if (t != od::json_type::object) return ValidJson(v) ? Outcome::kWrongType : Outcome::kBadJson;
  if (v.get_object().get(obj)) return Outcome::kBadJson;
  for (auto field : obj) {
    std::string_view key;
    od::value fv;
    if (field.unescaped_key().get(key) || field.value().get(fv)) return Outcome::kBadJson;
    std::string* target = nullptr;
    if (key == "kind")
      target = subject.mutable_kind();
    else if (key == "id")
      target = subject.mutable_id();
    else if (key == "key")
      target = subject.mutable_key();
    else if (key == "project")
      target = subject.mutable_project();
    else if (key == "service")
      target = subject.mutable_service();
    else if (key == "title")
      target = subject.mutable_title();
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

Outcome ReadAttrValue(od::value v, schema::Value& out) {
  od::json_type t;
  if (v.type().get(t)) return Outcome::kBadJson;
  switch (t) {
    case od::json_type::null:
      if (!ValidJson(v)) return Outcome::kBadJson;
      out.set_null_value(true);
      return Outcome::kOk;
    case od::json_type::boolean: {
      bool b;
      if (v.get_bool().get(b)) return Outcome::kBadJson;
      out.set_bool_value(b);
      return Outcome::kOk;
    }
    case od::json_type::string: {
      std::string_view s;
      if (v.get_string().get(s)) return Outcome::kBadJson;
      out.set_string_value(std::string(s));
      return Outcome::kOk;
    }
    case od::json_type::number: {
      od::number n;
      if (v.get_number().get(n)) return Outcome::kBadJson;
      if (n.is_double()) {
        out.set_double_value(n.get_double());
      } else if (n.is_int64()) {
        out.set_int_value(n.get_int64());
      } else {
        return Outcome::kWrongType;  // beyond int64: not an attribute we can hold exactly
      }
      return Outcome::kOk;
    }
    case od::json_type::array: {
      od::array arr;
      if (v.get_array().get(arr)) return Outcome::kBadJson;
      auto* list = out.mutable_list_value();
      Outcome result = Outcome::kOk;
      for (auto element : arr) {
        od::value ev;
        if (element.get(ev)) return Outcome::kBadJson;
        od::json_type et;
        if (ev.type().get(et)) return Outcome::kBadJson;
        std::string_view s;
        if (et == od::json_type::string) {
          if (ev.get_string().get(s)) return Outcome::kBadJson;
          list->add_values(std::string(s));
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

Outcome ReadAttrs(od::value v, schema::Event& event, std::string& bad_field) {
  bad_field = "attrs";
  od::json_type t;
  if (v.type().get(t)) return Outcome::kBadJson;
  if (t != od::json_type::object) return ValidJson(v) ? Outcome::kWrongType : Outcome::kBadJson;
  od::object obj;
  if (v.get_object().get(obj)) return Outcome::kBadJson;
  for (auto field : obj) {
    std::string_view key;
    od::value fv;
    if (field.unescaped_key().get(key) || field.value().get(fv)) return Outcome::kBadJson;
    auto* attr = event.add_attrs();
    attr->set_name(std::string(key));
    if (const Outcome r = ReadAttrValue(fv, *attr->mutable_value()); r != Outcome::kOk) {
      bad_field = "attrs." + std::string(key);
      return r;
    }
  }
  // Sorted by name: deterministic bytes whatever order the producer used.
  auto* attrs = event.mutable_attrs();
  std::sort(attrs->begin(), attrs->end(),
            [](const schema::Attr& a, const schema::Attr& b) { return a.name() < b.name(); });
  for (int i = 1; i < attrs->size(); ++i) {
    if ((*attrs)[i].name() == (*attrs)[i - 1].name()) {
      bad_field = "attrs." + (*attrs)[i].name() + " (repeated)";
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

}  // namespace

void CanonicalSource::Read(Object body, const RawRecord&, NormalizeResult& out) {
  event_.Clear();
  occurred_at_.clear();
  seen_.clear();
  std::string bad;
  for (auto field : body) {
    std::string_view key;
    od::value v;
    if (field.unescaped_key().get(key) || field.value().get(v)) {
      return out.Reject(Reason::kInvalidJson, "malformed member");
    }
    // A repeated member would make the event depend on which parser reads it.
    if (!seen_.insert(key).second) {
      return out.Reject(Reason::kInvalidField, "field " + std::string(key) + " (repeated)");
    }
    Outcome r = Outcome::kOk;
    bad = key;
    if (key == "id") {
      r = ReadString(v, *event_.mutable_id(), false);
    } else if (key == "source") {
      r = ReadString(v, *event_.mutable_source(), false);
    } else if (key == "type") {
      r = ReadString(v, *event_.mutable_type(), false);
    } else if (key == "occurred_at") {
      r = ReadString(v, occurred_at_, false);
    } else if (key == "actor") {
      r = ReadString(v, *event_.mutable_actor(), true);
    } else if (key == "subject") {
      r = ReadSubject(v, *event_.mutable_subject(), bad);
    } else if (key == "attrs") {
      r = ReadAttrs(v, event_, bad);
    } else if (key == "schema_version") {
      r = ReadSchemaVersion(v);
    } else if (!ValidJson(v)) {  // unknown member: tolerated if it is JSON
      r = Outcome::kBadJson;
    }
    if (r == Outcome::kBadJson)
      return out.Reject(Reason::kInvalidJson, "malformed value of " + bad);
    if (r == Outcome::kWrongType) return out.Reject(Reason::kInvalidField, "field " + bad);
  }
}

std::optional<Rejection> CanonicalSource::Check() const {
  const schema::Event& e = event_;
  auto reject = [](Reason reason, std::string detail) {
    return std::optional<Rejection>(Rejection{reason, std::move(detail)});
  };
  if (e.id().empty()) return reject(Reason::kMissingField, "field id");
  if (e.source().empty()) return reject(Reason::kMissingField, "field source");
  if (e.type().empty()) return reject(Reason::kMissingField, "field type");
  if (!seen_.contains("occurred_at")) return reject(Reason::kMissingField, "field occurred_at");
  if (!seen_.contains("subject")) return reject(Reason::kMissingField, "field subject");
  if (!IsKnownSourceName(e.source())) {
    return reject(Reason::kInvalidField, "field source: unknown source");
  }
  if (!e.id().starts_with(e.source() + ":") || e.id().size() == e.source().size() + 1) {
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
  return std::nullopt;
}

void CanonicalSource::Map(const RawRecord& record, NormalizeResult& out) {
  if (auto rejection = Check()) return out.Reject(rejection->reason, std::move(rejection->detail));
  const auto ms = ParseRfc3339(occurred_at_);
  if (!ms) return out.Reject(Reason::kBadTimestamp, "field occurred_at");
  event_.set_occurred_at_ms(*ms);
  auto* origin = event_.mutable_origin();
  origin->set_topic(std::string(record.topic));
  origin->set_partition(record.partition);
  origin->set_offset(record.offset);
  out.events.push_back(std::move(event_));
}

}  // namespace teamhealth::sources
