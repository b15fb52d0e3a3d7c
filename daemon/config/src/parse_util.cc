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

// [metrics] and [privacy]: the keys, kinds and ranges come from the definitions table.
Status ParseDefinitions(const toml::table& t, std::string_view section,
                        projections::Settings& settings) {
  for (const auto& [key, node] : t) {
    const auto* d = projections::FindDefinition(key.str());
    const std::string where = std::string(section) + "." + std::string(key.str());
    if (d == nullptr || d->section != section) return Error(where + ": unknown key");
    double value = 0;
    if (d->kind == projections::Definition::Kind::kBoolean) {
      if (!node.is_boolean()) return Error(where + ": must be true or false" + Where(node));
      value = *node.value<bool>() ? 1 : 0;
    } else if (d->kind == projections::Definition::Kind::kInteger) {
      if (!node.is_integer()) return Error(where + ": must be an integer" + Where(node));
      value = static_cast<double>(*node.value<int64_t>());
    } else {
      if (!node.is_number()) return Error(where + ": must be a number" + Where(node));
      value = *node.value<double>();
    }
    if (auto s = projections::SetDefinition(settings, *d, value); !s) {
      return Error(std::string(section) + "." + s.error().message() + Where(node));
    }
  }
  return Status::Ok();
}

}  // namespace teamhealth::config
