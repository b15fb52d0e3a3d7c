#pragma once

// Helpers shared by the config parsers; private to the config module.

#include <toml++/toml.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "teamhealth/config/config.h"

namespace teamhealth::config {

// Checks that `table` has only `allowed` keys; names the first stranger.
Status OnlyKeys(const toml::table& table, std::string_view path,
                std::initializer_list<std::string_view> allowed);
std::string Where(const toml::node& node);
Status ReadString(const toml::table& t, std::string_view path, std::string_view key,
                  std::string& out);
Status ReadBool(const toml::table& t, std::string_view path, std::string_view key, bool& out);
Status ReadInt(const toml::table& t, std::string_view path, std::string_view key, int& out, int min,
               int max);
Status ReadStringArray(const toml::table& t, std::string_view path, std::string_view key,
                       std::vector<std::string>& out);
const toml::table* SubTable(const toml::table& root, std::string_view key, Status& status);

Status ParseDirectory(const toml::table& t, DirectoryConfig& directory);
Status ParseSources(const toml::table& t, SourcesConfig& sources);
Status ParseGateway(const toml::table& t, GatewayConfig& gateway);
Status ParseDefinitions(const toml::table& t, std::string_view section,
                        projections::Settings& settings);
Status ReadDouble(const toml::table& t, std::string_view path, std::string_view key, double& out,
                  double min, double max);

}  // namespace teamhealth::config
