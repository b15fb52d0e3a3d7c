#include "canonical.h"

#include <algorithm>

#include "teamhealth/base/time.h"

namespace teamhealth::sources {

namespace od = simdjson::ondemand;

namespace {

// Reads a JSON value that must be a string (or null when `nullable`).
bool ReadString(od::value v, std::string& out, bool nullable, bool& is_null) {
  is_null = false;
  od::json_type t;
  if (v.type().get(t)) return false;
  if (t == od::json_type::null) {
    is_null = true;
    return nullable;
  }
  std::string_view s;
  if (v.get_string().get(s)) return false;
  out.assign(s);
  return true;
}

bool ReadSubject(od::value v, schema::Subject& subject, std::string& bad_field) {
  od::object obj;
  if (v.get_object().get(obj)) {
    bad_field = "subject";
    return false;
  }
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) {
      bad_field = "subject";
      return false;
    }
    std::string* target = nullptr;
    if (key == "kind") target = subject.mutable_kind();
    else if (key == "id") target = subject.mutable_id();
    else if (key == "key") target = subject.mutable_key();
    else if (key == "project") target = subject.mutable_project();
    else if (key == "service") target = subject.mutable_service();
    else if (key == "title") target = subject.mutable_title();
    else continue;  // tolerate fields added by newer producers
    bool is_null = false;
    if (!ReadString(field.value(), *target, true, is_null)) {
      bad_field = "subject." + std::string(key);
      return false;
    }
  }
  return true;
}

bool ReadAttrValue(od::value v, schema::Value& out) {
  od::json_type t;
  if (v.type().get(t)) return false;
  switch (t) {
    case od::json_type::null: out.set_null_value(true); return true;
    case od::json_type::boolean: {
      bool b;
      if (v.get_bool().get(b)) return false;
      out.set_bool_value(b);
      return true;
    }
    case od::json_type::string: {
      std::string_view s;
      if (v.get_string().get(s)) return false;
      out.set_string_value(std::string(s));
      return true;
    }
    case od::json_type::number: {
      od::number_type nt;
      if (v.get_number_type().get(nt)) return false;
      if (nt == od::number_type::floating_point_number) {
        double d;
        if (v.get_double().get(d)) return false;
        out.set_double_value(d);
      } else {
        int64_t i;
        if (v.get_int64().get(i)) return false;
        out.set_int_value(i);
      }
      return true;
    }
    case od::json_type::array: {
      od::array arr;
      if (v.get_array().get(arr)) return false;
      auto* list = out.mutable_list_value();
      for (auto element : arr) {
        std::string_view s;
        if (element.get_string().get(s)) return false;  // lists hold person refs / names
        list->add_values(std::string(s));
      }
      return true;
    }
    case od::json_type::object: return false;
  }
  return false;
}

bool ReadAttrs(od::value v, schema::Event& event, std::string& bad_field) {
  od::object obj;
  if (v.get_object().get(obj)) {
    bad_field = "attrs";
    return false;
  }
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) {
      bad_field = "attrs";
      return false;
    }
    auto* attr = event.add_attrs();
    attr->set_name(std::string(key));
    if (!ReadAttrValue(field.value(), *attr->mutable_value())) {
      bad_field = "attrs." + std::string(key);
      return false;
    }
  }
  // Sorted by name: deterministic bytes whatever order the producer used.
  auto* attrs = event.mutable_attrs();
  std::sort(attrs->begin(), attrs->end(),
            [](const schema::Attr& a, const schema::Attr& b) { return a.name() < b.name(); });
  for (int i = 1; i < attrs->size(); ++i) {
    if ((*attrs)[i].name() == (*attrs)[i - 1].name()) {
      bad_field = "attrs." + (*attrs)[i].name() + " (repeated)";
      return false;
    }
  }
  return true;
}

}  // namespace

void CanonicalSource::Normalize(const RawRecord& record, NormalizeResult& out) {
  if (record.value.empty()) return out.Reject(Reason::kEmpty, "empty record value");
  const std::string_view body = buffer_.Assign(record.value);
  od::document doc;
  if (parser_.iterate(body.data(), body.size(), buffer_.capacity()).get(doc)) {
    return out.Reject(Reason::kInvalidJson, "not JSON");
  }
  od::object obj;
  if (doc.get_object().get(obj)) return out.Reject(Reason::kInvalidJson, "not a JSON object");

  schema::Event event;
  bool have_time = false, have_subject = false, is_null = false;
  std::string occurred_at, bad;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return out.Reject(Reason::kInvalidJson, "bad key");
    od::value v;
    if (field.value().get(v)) return out.Reject(Reason::kInvalidJson, "bad value");
    if (key == "id") {
      if (!ReadString(v, *event.mutable_id(), false, is_null)) bad = "id";
    } else if (key == "source") {
      if (!ReadString(v, *event.mutable_source(), false, is_null)) bad = "source";
    } else if (key == "type") {
      if (!ReadString(v, *event.mutable_type(), false, is_null)) bad = "type";
    } else if (key == "occurred_at") {
      if (!ReadString(v, occurred_at, false, is_null)) bad = "occurred_at";
      have_time = true;
    } else if (key == "actor") {
      if (!ReadString(v, *event.mutable_actor(), true, is_null)) bad = "actor";
    } else if (key == "subject") {
      ReadSubject(v, *event.mutable_subject(), bad);
      have_subject = true;
    } else if (key == "attrs") {
      ReadAttrs(v, event, bad);
    } else if (key == "schema_version") {
      uint64_t version;
      if (v.get_uint64().get(version) || version == 0 || version > 1) bad = "schema_version";
    }
    if (!bad.empty()) return out.Reject(Reason::kInvalidField, "field " + bad);
  }
  // Trailing garbage after the object makes the whole record invalid.
  const char* rest = nullptr;
  if (doc.current_location().get(rest) == simdjson::SUCCESS) {
    return out.Reject(Reason::kInvalidJson, "trailing content after the object");
  }

  if (event.id().empty()) return out.Reject(Reason::kMissingField, "field id");
  if (event.source().empty()) return out.Reject(Reason::kMissingField, "field source");
  if (event.type().empty()) return out.Reject(Reason::kMissingField, "field type");
  if (!have_time) return out.Reject(Reason::kMissingField, "field occurred_at");
  if (!have_subject) return out.Reject(Reason::kMissingField, "field subject");
  if (!IsKnownSourceName(event.source())) {
    return out.Reject(Reason::kInvalidField, "field source: unknown source");
  }
  if (!event.id().starts_with(event.source() + ":") || event.id().size() == event.source().size() + 1) {
    return out.Reject(Reason::kInvalidField, "field id: must be <source>:<dedup id>");
  }
  if (!IsKnownEventType(event.type())) return out.Reject(Reason::kUnknownType, "field type");
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
