#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "event.pb.h"
#include "teamhealth/base/time.h"
#include "teamhealth/projections/metrics.h"

// Small readers of canonical event attributes shared by the projections.
namespace teamhealth::projections {

const schema::Value* Attr(const schema::Event& e, std::string_view name);
std::string StringAttr(const schema::Event& e, std::string_view name);
std::vector<std::string> ListAttr(const schema::Event& e, std::string_view name);
bool BoolAttr(const schema::Event& e, std::string_view name, bool fallback = false);
// An instant attribute: RFC 3339 string or epoch milliseconds.
std::optional<EpochMillis> TimeAttr(const schema::Event& e, std::string_view name);

// A work activity (docs/design.md section 7.3): an event with an actor on a subject of kind
// work_item, pull_request or incident. The actor is the person acting.
bool IsWorkActivity(const schema::Event& e);
// Own activity (section 7.5), the same in every signal that counts activity: a work activity,
// or a chat.message the actor sent (a bot's message is nobody's own activity; an edit is
// activity like the message). Reactions, channel joins, shifts and directory events are not.
bool IsOwnActivity(const schema::Event& e);

// Labels sorted by name, as MetricSink expects.
Labels MakeLabels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs);

}  // namespace teamhealth::projections
