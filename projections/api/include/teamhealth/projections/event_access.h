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

// Labels sorted by name, as MetricSink expects.
Labels MakeLabels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs);

}  // namespace teamhealth::projections
