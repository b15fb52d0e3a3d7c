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

using schema::EventView;

const EventView::Value* Attr(const EventView& e, std::string_view name);
// "" when absent or not a string.
std::string_view StringAttr(const EventView& e, std::string_view name);
// Empty when absent or not a list.
std::span<const std::string_view> ListAttr(const EventView& e, std::string_view name);
bool BoolAttr(const EventView& e, std::string_view name, bool fallback = false);
// An instant attribute: RFC 3339 string or epoch milliseconds.
std::optional<EpochMillis> TimeAttr(const EventView& e, std::string_view name);

// A work activity (docs/design.md section 7.3): an event with an actor on a subject of kind
// work_item, pull_request or incident. The actor is the person acting.
bool IsWorkActivity(const EventView& e);
// Own activity (section 7.5), the same in every signal that counts activity: a work activity,
// or a chat.message the actor sent (a bot's message is nobody's own activity; an edit is
// activity like the message). Reactions, channel joins, shifts and directory events are not.
bool IsOwnActivity(const EventView& e);

// `parts` joined by `separator` into `scratch`, whose capacity is reused: a key per event for
// a map of subjects without an allocation. The view is valid until `scratch` changes.
std::string_view JoinInto(std::string& scratch, std::initializer_list<std::string_view> parts,
                          char separator);

// Labels sorted by name, as MetricSink expects.
Labels MakeLabels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs);

}  // namespace teamhealth::projections
