// Small readers over toml++ nodes that name the key in their errors.
#include "parse_util.h"

#include <tuple>

namespace teamhealth::config {

// Checks that `table` has only `allowed` keys; names the first stranger.
Status OnlyKeys(const toml::table& table, std::string_view path,
                std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, node] : table) {
    bool ok = false;
    for (auto a : allowed) ok = ok || key.str() == a;
    if (!ok) {
      return Error(std::string(path.empty() ? "" : std::string(path) + ".") +
                   std::string(key.str()) + ": unknown key");
    }
  }
  return Status::Ok();
}

std::string Where(const toml::node& node) {
  const auto& src = node.source();
  return " (line " + std::to_string(src.begin.line) + ")";
}

Status ReadString(const toml::table& t, std::string_view path, std::string_view key,
                  std::string& out) {
  const auto* node = t.get(key);
  if (!node) return Status::Ok();
  const auto v = node->value<std::string>();
  if (!v || !node->is_string()) {
    return Error(std::string(path) + "." + std::string(key) + ": must be a string" + Where(*node));
  }
  out = *v;
  return Status::Ok();
}

Status ReadBool(const toml::table& t, std::string_view path, std::string_view key, bool& out) {
  const auto* node = t.get(key);
  if (!node) return Status::Ok();
  if (!node->is_boolean()) {
    return Error(std::string(path) + "." + std::string(key) + ": must be true or false" +
                 Where(*node));
  }
  out = *node->value<bool>();
  return Status::Ok();
}

Status ReadInt(const toml::table& t, std::string_view path, std::string_view key, int& out, int min,
               int max) {
  const auto* node = t.get(key);
  if (!node) return Status::Ok();
  if (!node->is_integer()) {
    return Error(std::string(path) + "." + std::string(key) + ": must be an integer" +
                 Where(*node));
  }
  const int64_t v = *node->value<int64_t>();
  if (v < min || v > max) {
    return Error(std::string(path) + "." + std::string(key) + ": must be between " +
                 std::to_string(min) + " and " + std::to_string(max) + Where(*node));
  }
  out = static_cast<int>(v);
  return Status::Ok();
}

const toml::table* SubTable(const toml::table& root, std::string_view key, Status& status) {
  const auto* node = root.get(key);
  if (!node) return nullptr;
  if (!node->is_table()) status = Error(std::string(key) + ": must be a table" + Where(*node));
  return node->as_table();
}

Status ReadStringArray(const toml::table& t, std::string_view path, std::string_view key,
                       std::vector<std::string>& out) {
  const auto* node = t.get(key);
  if (!node) return Status::Ok();
  const auto* arr = node->as_array();
  if (!arr) {
    return Error(std::string(path) + "." + std::string(key) + ": must be an array of strings" +
                 Where(*node));
  }
  for (const auto& item : *arr) {
    const auto v = item.value<std::string>();
    if (!v || !item.is_string()) {
      return Error(std::string(path) + "." + std::string(key) + ": must be an array of strings" +
                   Where(*node));
    }
    out.push_back(*v);
  }
  return Status::Ok();
}

Status ReadDouble(const toml::table& t, std::string_view path, std::string_view key, double& out,
                  double min, double max) {
  const auto* node = t.get(key);
  if (!node) return Status::Ok();
  if (!node->is_number()) {
    return Error(std::string(path) + "." + std::string(key) + ": must be a number" + Where(*node));
  }
  const double v =
      node->is_integer() ? static_cast<double>(*node->value<int64_t>()) : *node->value<double>();
  if (!(v >= min && v <= max)) {
    return Error(std::string(path) + "." + std::string(key) + ": must be between " +
                 std::to_string(min) + " and " + std::to_string(max) + Where(*node));
  }
  out = v;
  return Status::Ok();
}

Status ParseMetrics(const toml::table& t, MetricsConfig& m) {
  if (auto s = OnlyKeys(t, "metrics",
                        {"session_gap_minutes", "switch_cost_minutes", "page_merge_seconds",
                         "sleep_interruptions_7d", "after_hours_share_14d",
                         "after_hours_min_activities", "weekend_days_28d", "no_rest_streak_days",
                         "oncall_share_28d", "wip_limit", "always_on_share_28d"});
      !s) {
    return s;
  }
  const std::string p = "metrics";
  for (auto [key, field, lo, hi] :
       {std::tuple{"session_gap_minutes", &m.session_gap_minutes, 1, 10080},
        std::tuple{"page_merge_seconds", &m.page_merge_seconds, 0, 3600},
        std::tuple{"sleep_interruptions_7d", &m.sleep_interruptions_7d, 1, 1000},
        std::tuple{"after_hours_min_activities", &m.after_hours_min_activities, 0, 100000},
        std::tuple{"weekend_days_28d", &m.weekend_days_28d, 1, 28},
        std::tuple{"no_rest_streak_days", &m.no_rest_streak_days, 1, 365},
        std::tuple{"wip_limit", &m.wip_limit, 0, 1000}}) {
    if (auto s = ReadInt(t, p, key, *field, lo, hi); !s) return s;
  }
  for (auto [key, field, lo, hi] :
       {std::tuple{"switch_cost_minutes", &m.switch_cost_minutes, 0.0, 1440.0},
        std::tuple{"after_hours_share_14d", &m.after_hours_share_14d, 0.0, 1.0},
        std::tuple{"oncall_share_28d", &m.oncall_share_28d, 0.0, 1.0},
        std::tuple{"always_on_share_28d", &m.always_on_share_28d, 0.0, 1.0}}) {
    if (auto s = ReadDouble(t, p, key, *field, lo, hi); !s) return s;
  }
  return Status::Ok();
}

}  // namespace teamhealth::config
