#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "event_view.h"
#include "teamhealth/base/time.h"
#include "teamhealth/projections/metrics.h"

// Small readers of canonical event attributes shared by the projections. They read a
// schema::EventView (docs/design.md section 10): a view decoded straight from the stored
// record, or of a schema::Event (schema::ViewOf). What they return views the event's bytes.
namespace teamhealth::projections {

using schema::AttrName;
using schema::EventView;

// The readers take an attribute's name as a schema::AttrName (one indexed load: what the
// projections pass, issue 13) or as a string (a scan of the attributes, for any other name).
template <typename Name>
const EventView::Value* Attr(const EventView& e, Name name) {
  return e.FindAttr(name);
}
// "" when absent or not a string.
template <typename Name>
std::string_view StringAttr(const EventView& e, Name name) {
  const auto* v = e.FindAttr(name);
  return v ? v->string_value() : std::string_view();
}
// Empty when absent or not a list.
template <typename Name>
std::span<const std::string_view> ListAttr(const EventView& e, Name name) {
  const auto* v = e.FindAttr(name);
  return v && v->has_list_value() ? v->list_value().values()
                                  : std::span<const std::string_view>();
}
template <typename Name>
bool BoolAttr(const EventView& e, Name name, bool fallback = false) {
  const auto* v = e.FindAttr(name);
  return v && v->has_bool_value() ? v->bool_value() : fallback;
}
// An instant attribute: RFC 3339 string or epoch milliseconds.
template <typename Name>
std::optional<EpochMillis> TimeAttr(const EventView& e, Name name) {
  const auto* v = e.FindAttr(name);
  if (!v) return std::nullopt;
  if (v->has_int_value()) return v->int_value();
  if (v->has_string_value()) return ParseRfc3339(v->string_value());
  return std::nullopt;
}

// A work activity (docs/design.md section 7.3): an event with an actor on a subject of kind
// work_item, pull_request or incident. The actor is the person acting.
bool IsWorkActivity(const EventView& e);
// Own activity (section 7.5), the same in every signal that counts activity: a work activity,
// or a chat.message the actor sent (a bot's message is nobody's own activity; an edit is
// activity like the message). Reactions, channel joins, shifts and directory events are not.
bool IsOwnActivity(const EventView& e);

// The key projections hold a subject's state by (EventView::subject_key: source, subject kind
// and subject id joined by '\x1f'): the one the pipeline stamped on the event, else joined into
// `scratch` (a view applied to a projection directly, as unit tests do).
std::string_view SubjectKey(const EventView& e, std::string& scratch);

// `parts` joined by `separator` into `scratch`, whose capacity is reused: a key per event for
// a map of subjects without an allocation. The view is valid until `scratch` changes.
std::string_view JoinInto(std::string& scratch, std::initializer_list<std::string_view> parts,
                          char separator);

// Labels sorted by name, as MetricSink expects.
Labels MakeLabels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs);

}  // namespace teamhealth::projections
