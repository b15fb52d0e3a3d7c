#include "teamhealth/sources/event_json.h"

#include "teamhealth/base/json_writer.h"
#include "teamhealth/base/time.h"

namespace teamhealth::sources {

void AppendEventJson(const schema::Event& event, std::string& out) {
  JsonWriter w(out);
  w.BeginObject();
  w.Key("id").String(event.id());
  w.Key("source").String(event.source());
  w.Key("type").String(event.type());
  w.Key("occurred_at").String(FormatRfc3339(event.occurred_at_ms()));
  w.Key("actor");
  if (event.actor().empty()) {
    w.Null();
  } else {
    w.String(event.actor());
  }
  const auto& s = event.subject();
  w.Key("subject").BeginObject();
  w.Key("kind").String(s.kind());
  w.Key("id").String(s.id());
  if (!s.key().empty()) w.Key("key").String(s.key());
  if (!s.project().empty()) w.Key("project").String(s.project());
  if (!s.service().empty()) w.Key("service").String(s.service());
  if (!s.title().empty()) w.Key("title").String(s.title());
  w.EndObject();
  w.Key("attrs").BeginObject();
  for (const auto& attr : event.attrs()) {
    w.Key(attr.name());
    const auto& v = attr.value();
    switch (v.kind_case()) {
      case schema::Value::kStringValue: w.String(v.string_value()); break;
      case schema::Value::kIntValue: w.Int(v.int_value()); break;
      case schema::Value::kDoubleValue: w.Double(v.double_value()); break;
      case schema::Value::kBoolValue: w.Bool(v.bool_value()); break;
      case schema::Value::kListValue:
        w.BeginArray();
        for (const auto& item : v.list_value().values()) w.String(item);
        w.EndArray();
        break;
      case schema::Value::kNullValue:
      case schema::Value::KIND_NOT_SET: w.Null(); break;
    }
  }
  w.EndObject();
  w.EndObject();
}

}  // namespace teamhealth::sources
