#include "record_lines.h"

#include <simdjson.h>

namespace teamhealth::app {

Result<RecordLine> ParseRecordLine(std::string_view line, sources::Reason* reason) {
  using sources::Reason;
  // Sets the reason of a failure (for a quarantine record) and returns its message.
  auto fail = [reason](Reason why, const char* message) {
    if (reason != nullptr) *reason = why;
    return Error(message);
  };
  // simdjson needs padding past the end of its input.
  const simdjson::padded_string padded(line);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc)) return fail(Reason::kInvalidJson, "not a JSON object");
  simdjson::ondemand::object top;
  if (doc.get_object().get(top)) return fail(Reason::kInvalidJson, "not a JSON object");
  RecordLine out;
  bool has_body = false;
  for (auto field : top) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return fail(Reason::kInvalidJson, "invalid JSON");
    if (key == "headers") {
      simdjson::ondemand::object headers;
      if (field.value().get_object().get(headers)) {
        return fail(Reason::kInvalidField, "headers: expected an object");
      }
      for (auto h : headers) {
        std::string_view name, value;
        if (h.unescaped_key().get(name) || h.value().get_string().get(value)) {
          return fail(Reason::kInvalidField, "headers: expected string values");
        }
        out.headers.emplace_back(std::string(name), std::string(value));
      }
    } else if (key == "body") {
      simdjson::ondemand::value v;
      if (field.value().get(v)) return fail(Reason::kInvalidJson, "body: invalid JSON");
      std::string_view raw;
      simdjson::ondemand::json_type type;
      if (v.type().get(type)) return fail(Reason::kInvalidJson, "body: invalid JSON");
      if (type == simdjson::ondemand::json_type::object) {
        simdjson::ondemand::object o;
        if (v.get_object().get(o) || o.raw_json().get(raw)) {
          return fail(Reason::kInvalidJson, "body: invalid JSON");
        }
      } else if (type == simdjson::ondemand::json_type::array) {
        simdjson::ondemand::array a;
        if (v.get_array().get(a) || a.raw_json().get(raw)) {
          return fail(Reason::kInvalidJson, "body: invalid JSON");
        }
      } else {
        return fail(Reason::kInvalidField, "body: expected a JSON object or array");
      }
      out.body = std::string(raw);
      has_body = true;
    } else {
      if (reason != nullptr) *reason = Reason::kInvalidField;
      return Error("unknown key \"" + std::string(key) + "\" (expected headers, body)");
    }
  }
  if (!has_body) return fail(Reason::kMissingField, "missing body");
  return out;
}

}  // namespace teamhealth::app
