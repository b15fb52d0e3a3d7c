#include "teamhealth/projections/event_access.h"

#include <algorithm>

namespace teamhealth::projections {

const schema::Value* Attr(const schema::Event& e, std::string_view name) {
  for (const auto& a : e.attrs()) {
    if (a.name() == name) return &a.value();
  }
  return nullptr;
}

std::string StringAttr(const schema::Event& e, std::string_view name) {
  const auto* v = Attr(e, name);
  return v && v->has_string_value() ? v->string_value() : std::string();
}

std::vector<std::string> ListAttr(const schema::Event& e, std::string_view name) {
  std::vector<std::string> out;
  if (const auto* v = Attr(e, name); v && v->has_list_value()) {
    out.assign(v->list_value().values().begin(), v->list_value().values().end());
  }
  return out;
}

bool IsWorkActivity(const schema::Event& e) {
  if (e.actor().empty()) return false;
  const std::string& kind = e.subject().kind();
  return kind == "work_item" || kind == "pull_request" || kind == "incident";
}

bool IsOwnActivity(const schema::Event& e) {
  if (IsWorkActivity(e)) return true;
  return !e.actor().empty() && e.type() == "chat.message" && !BoolAttr(e, "bot");
}

bool BoolAttr(const schema::Event& e, std::string_view name, bool fallback) {
  const auto* v = Attr(e, name);
  return v && v->has_bool_value() ? v->bool_value() : fallback;
}

std::optional<EpochMillis> TimeAttr(const schema::Event& e, std::string_view name) {
  const auto* v = Attr(e, name);
  if (!v) return std::nullopt;
  if (v->has_int_value()) return v->int_value();
  if (v->has_string_value()) return ParseRfc3339(v->string_value());
  return std::nullopt;
}

Labels MakeLabels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs) {
  Labels labels;
  labels.reserve(pairs.size());
  for (const auto& [k, v] : pairs) labels.emplace_back(std::string(k), std::string(v));
  // Callers mostly write them in order already: sorting is then only a check.
  if (!std::is_sorted(labels.begin(), labels.end())) std::sort(labels.begin(), labels.end());
  return labels;
}

}  // namespace teamhealth::projections
