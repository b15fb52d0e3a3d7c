#pragma once

#include <string>
#include <string_view>

#include "event.pb.h"

namespace teamhealth::schema {

// The one definition of where people appear in a canonical event (docs/design.md section 4):
// the actor, and the attributes named here. The event log replaces these by pseudonyms at
// ingest; the projection pipeline resolves them to person keys. Both go through
// ForEachPersonRef, so a new person-valued attribute is added here and nowhere else.

// Whether attribute `name` of an event of `type` holds person references (a string or a list
// of them).
bool IsPersonAttr(std::string_view type, std::string_view name);

// Calls `fn(std::string&)` for every non-empty person reference of `e`: the actor, then the
// person attributes in attribute order (list items in list order). `fn` may rewrite the
// reference in place.
template <typename Fn>
void ForEachPersonRef(Event& e, Fn&& fn) {
  if (!e.actor().empty()) fn(*e.mutable_actor());
  for (auto& attr : *e.mutable_attrs()) {
    if (!IsPersonAttr(e.type(), attr.name())) continue;
    auto* v = attr.mutable_value();
    if (v->has_string_value()) {
      if (!v->string_value().empty()) fn(*v->mutable_string_value());
    } else if (v->has_list_value()) {
      for (auto& item : *v->mutable_list_value()->mutable_values()) {
        if (!item.empty()) fn(item);
      }
    }
  }
}

// The read-only walk: `fn(const std::string&)` for the same references, in the same order.
template <typename Fn>
void ForEachPersonRef(const Event& e, Fn&& fn) {
  if (!e.actor().empty()) fn(e.actor());
  for (const auto& attr : e.attrs()) {
    if (!IsPersonAttr(e.type(), attr.name())) continue;
    const auto& v = attr.value();
    if (v.has_string_value()) {
      if (!v.string_value().empty()) fn(v.string_value());
    } else if (v.has_list_value()) {
      for (const auto& item : v.list_value().values()) {
        if (!item.empty()) fn(item);
      }
    }
  }
}

}  // namespace teamhealth::schema
