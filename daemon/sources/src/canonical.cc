#include "canonical.h"

#include <algorithm>
#include <set>

#include "teamhealth/base/time.h"

namespace teamhealth::sources {

namespace od = simdjson::ondemand;

namespace {

// Outcome of reading one value: fine, of the wrong type, or not JSON at all.
enum class Read { kOk, kWrongType, kBadJson };

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
Read ReadString(od::value v, std::string& out, bool nullable) {
  od::json_type t;
  if (v.type().get(t)) return Read::kBadJson;
  if (t == od::json_type::null) {
    if (!ValidJson(v)) return Read::kBadJson;
    return nullable ? Read::kOk : Read::kWrongType;
  }
  if (t != od::json_type::string) return ValidJson(v) ? Read::kWrongType : Read::kBadJson;
  std::string_view s;
  if (v.get_string().get(s)) return Read::kBadJson;
  out.assign(s);
  return Read::kOk;
}

Read ReadSubject(od::value v, schema::Subject& subject, std::string& bad_field) {
  od::object obj;
  bad_field = "subject";
  od::json_type t;
  if (v.type().get(t)) return Read::kBadJson;
  if (t != od::json_type::object) return ValidJson(v) ? Read::kWrongType : Read::kBadJson;
  if (v.get_object().get(obj)) return Read::kBadJson;
  for (auto field : obj) {
    std::string_view key;
    od::value fv;
    if (field.unescaped_key().get(key) || field.value().get(fv)) return Read::kBadJson;
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
      if (!ValidJson(fv)) return Read::kBadJson;
      continue;
    }
    bad_field = "subject." + std::string(key);
    if (const Read r = ReadString(fv, *target, true); r != Read::kOk) return r;
  }
  bad_field.clear();
  return Read::kOk;
}

Read ReadAttrValue(od::value v, schema::Value& out) {
  od::json_type t;
  if (v.type().get(t)) return Read::kBadJson;
  switch (t) {
    case od::json_type::null:
      if (!ValidJson(v)) return Read::kBadJson;
      out.set_null_value(true);
      return Read::kOk;
    case od::json_type::boolean: {
      bool b;
      if (v.get_bool().get(b)) return Read::kBadJson;
      out.set_bool_value(b);
      return Read::kOk;
    }
    case od::json_type::string: {
      std::string_view s;
      if (v.get_string().get(s)) return Read::kBadJson;
      out.set_string_value(std::string(s));
      return Read::kOk;
    }
    case od::json_type::number: {
      od::number n;
      if (v.get_number().get(n)) return Read::kBadJson;
      if (n.is_double()) {
        out.set_double_value(n.get_double());
      } else if (n.is_int64()) {
        out.set_int_value(n.get_int64());
      } else {
        return Read::kWrongType;  // beyond int64: not an attribute we can hold exactly
      }
      return Read::kOk;
    }
    case od::json_type::array: {
      od::array arr;
      if (v.get_array().get(arr)) return Read::kBadJson;
      auto* list = out.mutable_list_value();
      Read result = Read::kOk;
      for (auto element : arr) {
        od::value ev;
        if (element.get(ev)) return Read::kBadJson;
        od::json_type et;
        if (ev.type().get(et)) return Read::kBadJson;
        std::string_view s;
        if (et == od::json_type::string) {
          if (ev.get_string().get(s)) return Read::kBadJson;
          list->add_values(std::string(s));
        } else {
          // Lists hold person references and names; keep scanning to tell bad JSON apart.
          if (!ValidJson(ev)) return Read::kBadJson;
          result = Read::kWrongType;
        }
      }
      return result;
    }
    case od::json_type::object: return ValidJson(v) ? Read::kWrongType : Read::kBadJson;
  }
  return Read::kBadJson;
}

Read ReadAttrs(od::value v, schema::Event& event, std::string& bad_field) {
  bad_field = "attrs";
  od::json_type t;
  if (v.type().get(t)) return Read::kBadJson;
  if (t != od::json_type::object) return ValidJson(v) ? Read::kWrongType : Read::kBadJson;
  od::object obj;
  if (v.get_object().get(obj)) return Read::kBadJson;
  for (auto field : obj) {
    std::string_view key;
    od::value fv;
    if (field.unescaped_key().get(key) || field.value().get(fv)) return Read::kBadJson;
    auto* attr = event.add_attrs();
    attr->set_name(std::string(key));
    if (const Read r = ReadAttrValue(fv, *attr->mutable_value()); r != Read::kOk) {
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
      return Read::kWrongType;
    }
  }
  bad_field.clear();
  return Read::kOk;
}

}  // namespace

void CanonicalSource::DoNormalize(const RawRecord& record, NormalizeResult& out) {
  if (record.value.empty()) return out.Reject(Reason::kEmpty, "empty record value");
  const std::string_view body = buffer_.Assign(record.value);
  od::document doc;
  if (parser_.iterate(body.data(), body.size(), buffer_.capacity()).get(doc)) {
    return out.Reject(Reason::kInvalidJson, "not JSON");
  }
  od::object obj;
  if (doc.get_object().get(obj)) return out.Reject(Reason::kInvalidJson, "not a JSON object");

  schema::Event event;
  std::string occurred_at, bad;
  std::set<std::string_view> seen;
  for (auto field : obj) {
    std::string_view key;
    od::value v;
    if (field.unescaped_key().get(key) || field.value().get(v)) {
      return out.Reject(Reason::kInvalidJson, "malformed member");
    }
    // A repeated member would make the event depend on which parser reads it.
    if (!seen.insert(key).second) {
      return out.Reject(Reason::kInvalidField, "field " + std::string(key) + " (repeated)");
    }
    Read r = Read::kOk;
    bad = key;
    if (key == "id") {
      r = ReadString(v, *event.mutable_id(), false);
    } else if (key == "source") {
      r = ReadString(v, *event.mutable_source(), false);
    } else if (key == "type") {
      r = ReadString(v, *event.mutable_type(), false);
    } else if (key == "occurred_at") {
      r = ReadString(v, occurred_at, false);
    } else if (key == "actor") {
      r = ReadString(v, *event.mutable_actor(), true);
    } else if (key == "subject") {
      r = ReadSubject(v, *event.mutable_subject(), bad);
    } else if (key == "attrs") {
      r = ReadAttrs(v, event, bad);
    } else if (key == "schema_version") {
      uint64_t version;
      if (v.get_uint64().get(version)) {
        r = ValidJson(v) ? Read::kWrongType : Read::kBadJson;
      } else if (version == 0 || version > 1) {
        r = Read::kWrongType;
      }
    } else if (!ValidJson(v)) {  // unknown member: tolerated if it is JSON
      r = Read::kBadJson;
    }
    if (r == Read::kBadJson) return out.Reject(Reason::kInvalidJson, "malformed value of " + bad);
    if (r == Read::kWrongType) return out.Reject(Reason::kInvalidField, "field " + bad);
  }
  // Trailing content after the object makes the whole record invalid.
  const char* rest = nullptr;
  if (doc.current_location().get(rest) == simdjson::SUCCESS) {
    return out.Reject(Reason::kInvalidJson, "trailing content after the object");
  }

  if (event.id().empty()) return out.Reject(Reason::kMissingField, "field id");
  if (event.source().empty()) return out.Reject(Reason::kMissingField, "field source");
  if (event.type().empty()) return out.Reject(Reason::kMissingField, "field type");
  if (!seen.contains("occurred_at")) return out.Reject(Reason::kMissingField, "field occurred_at");
  if (!seen.contains("subject")) return out.Reject(Reason::kMissingField, "field subject");
  if (!IsKnownSourceName(event.source())) {
    return out.Reject(Reason::kInvalidField, "field source: unknown source");
  }
  if (!event.id().starts_with(event.source() + ":") ||
      event.id().size() == event.source().size() + 1) {
    return out.Reject(Reason::kInvalidField, "field id: must be <source>:<dedup id>");
  }
  if (!IsKnownEventType(event.type())) return out.Reject(Reason::kUnknownType, "field type");
  if (!accept_directory_events_ &&
      (event.source() == "directory" || event.type().starts_with("directory.") ||
       event.subject().kind() == "person")) {
    return out.Reject(Reason::kInvalidField,
                      "field type: directory events come only from the config");
  }
  if (!IsKnownSubjectKind(event.subject().kind())) {
    return out.Reject(Reason::kInvalidField, "field subject.kind");
  }
  if (event.subject().id().empty()) return out.Reject(Reason::kMissingField, "field subject.id");
  const auto ms = ParseRfc3339(occurred_at);
  if (!ms) return out.Reject(Reason::kBadTimestamp, "field occurred_at");
  event.set_occurred_at_ms(*ms);
  auto* origin = event.mutable_origin();
  origin->set_topic(std::string(record.topic));
  origin->set_partition(record.partition);
  origin->set_offset(record.offset);
  out.events.push_back(std::move(event));
}

}  // namespace teamhealth::sources
