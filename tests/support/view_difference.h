// The first field in which two event views differ ("" when none): every field of the view,
// the decoded codes (type, family, subject kind) included. One comparison for the tests and
// fuzz targets that hold one decoder against another (DecodeView against protobuf, the
// compact column's records against DecodeView).
#pragma once

#include <bit>
#include <cstdint>
#include <string>

#include "event_view.h"

namespace teamhealth::testing {

inline std::string ValueDifference(const std::string& at, const schema::EventView::Value& a,
                                   const schema::EventView::Value& b) {
  if (a.kind() != b.kind()) return at + ".kind";
  if (a.string_value() != b.string_value()) return at + ".string_value";
  if (a.int_value() != b.int_value()) return at + ".int_value";
  if (std::bit_cast<uint64_t>(a.double_value()) != std::bit_cast<uint64_t>(b.double_value())) {
    return at + ".double_value";
  }
  if (a.bool_value() != b.bool_value()) return at + ".bool_value";
  const auto x = a.list_value().values(), y = b.list_value().values();
  if (x.size() != y.size()) return at + ".list.size";
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] != y[i]) return at + ".list[" + std::to_string(i) + "]";
  }
  return "";
}

inline std::string ViewDifference(const schema::EventView& a, const schema::EventView& b) {
  if (a.schema_version() != b.schema_version()) return "schema_version";
  if (a.id() != b.id()) return "id";
  if (a.source() != b.source()) return "source";
  if (a.type() != b.type()) return "type";
  if (a.type_code() != b.type_code()) return "type_code";
  if (a.type_family() != b.type_family()) return "type_family";
  if (a.subject_kind() != b.subject_kind()) return "subject_kind";
  if (a.occurred_at_ms() != b.occurred_at_ms()) return "occurred_at_ms";
  if (a.actor() != b.actor()) return "actor";
  const auto &s = a.subject(), &t = b.subject();
  if (s.kind() != t.kind()) return "subject.kind";
  if (s.id() != t.id()) return "subject.id";
  if (s.key() != t.key()) return "subject.key";
  if (s.project() != t.project()) return "subject.project";
  if (s.service() != t.service()) return "subject.service";
  if (s.title() != t.title()) return "subject.title";
  if (a.attrs().size() != b.attrs().size()) return "attrs.size";
  for (size_t i = 0; i < a.attrs().size(); ++i) {
    const std::string at = "attrs[" + std::to_string(i) + "]";
    if (a.attrs()[i].name() != b.attrs()[i].name()) return at + ".name";
    if (auto d = ValueDifference(at, a.attrs()[i].value(), b.attrs()[i].value()); !d.empty()) {
      return d;
    }
  }
  // Each known name is found by its code as by its name, in either view (a view read from the
  // compact column knows its codes; any other numbers its names when first asked).
  for (size_t c = 1; c < schema::kAttrNameCount; ++c) {
    const auto code = static_cast<schema::AttrName>(c);
    for (const schema::EventView* v : {&a, &b}) {
      if (v->FindAttr(code) != v->FindAttr(schema::NameOf(code))) {
        return "FindAttr(" + std::string(schema::NameOf(code)) + ") by code";
      }
    }
  }
  return "";
}

}  // namespace teamhealth::testing
