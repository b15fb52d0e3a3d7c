#include "teamhealth/config/config.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "parse_util.h"
#include "teamhealth/base/host_port.h"

namespace teamhealth::config {
namespace {

bool IsKnownSource(std::string_view s) {
  static const std::set<std::string_view> kSources = {"jira",      "github",   "linear",   "slack",
                                                      "pagerduty", "opsgenie", "canonical"};
  return kSources.contains(s);
}

// librdkafka properties that the ingest path owns: overriding them would break exactly-once
// ingest (offsets live in RocksDB, never in Kafka) or silent-skip protection.
bool IsReservedProperty(std::string_view p) {
  static const std::set<std::string_view> kReserved = {
      "bootstrap.servers",    "metadata.broker.list",     "group.id",
      "enable.auto.commit",   "enable.auto.offset.store", "auto.offset.reset",
      "enable.partition.eof", "isolation.level"};
  return kReserved.contains(p);
}

Status ParseKafka(const toml::table& t, KafkaConfig& k) {
  if (auto s = OnlyKeys(
          t, "kafka",
          {"brokers", "client_id", "topics", "batch_max_messages", "batch_max_ms",
           "write_max_bytes", "write_max_records", "max_record_bytes", "properties"});
      !s) {
    return s;
  }
  if (auto s = ReadString(t, "kafka", "brokers", k.brokers); !s) return s;
  if (k.brokers.empty()) return Error("kafka.brokers: must not be empty");
  if (auto s = ReadString(t, "kafka", "client_id", k.client_id); !s) return s;
  if (auto s = ReadInt(t, "kafka", "batch_max_messages", k.batch_max_messages, 1, 1000000); !s) {
    return s;
  }
  if (auto s = ReadInt(t, "kafka", "batch_max_ms", k.batch_max_ms, 1, 60000); !s) return s;
  if (auto s = ReadInt(t, "kafka", "write_max_bytes", k.write_max_bytes, 64 << 10, 1 << 30); !s) {
    return s;
  }
  if (auto s = ReadInt(t, "kafka", "write_max_records", k.write_max_records, 1, 1000000); !s) {
    return s;
  }
  if (auto s = ReadInt(t, "kafka", "max_record_bytes", k.max_record_bytes, 1024, 256 << 20); !s) {
    return s;
  }
  if (const auto* node = t.get("topics")) {
    const auto* arr = node->as_array();
    if (!arr) return Error("kafka.topics: must be an array of tables ([[kafka.topics]])");
    std::set<std::string> names;
    for (size_t i = 0; i < arr->size(); ++i) {
      const std::string path = "kafka.topics[" + std::to_string(i) + "]";
      const auto* tt = (*arr)[i].as_table();
      if (!tt) return Error(path + ": must be a table with name and source");
      if (auto s = OnlyKeys(*tt, path, {"name", "source"}); !s) return s;
      TopicConfig topic;
      if (auto s = ReadString(*tt, path, "name", topic.name); !s) return s;
      if (auto s = ReadString(*tt, path, "source", topic.source); !s) return s;
      if (topic.name.empty()) return Error(path + ".name: missing");
      if (!IsKnownSource(topic.source)) {
        return Error(path + ".source: unknown source \"" + topic.source +
                     "\" (expected jira, github, linear, slack, pagerduty, opsgenie or "
                     "canonical)");
      }
      if (!names.insert(topic.name).second) {
        return Error(path + ".name: topic \"" + topic.name + "\" is configured twice");
      }
      k.topics.push_back(std::move(topic));
    }
  }
  if (const auto* node = t.get("properties")) {
    const auto* pt = node->as_table();
    if (!pt) return Error("kafka.properties: must be a table");
    for (const auto& [key, value] : *pt) {
      const std::string name(key.str());
      if (IsReservedProperty(name)) {
        return Error("kafka.properties." + name +
                     ": owned by teamhealth (offsets are stored in the event log)");
      }
      if (value.is_string()) {
        k.properties[name] = *value.value<std::string>();
      } else if (value.is_integer()) {
        k.properties[name] = std::to_string(*value.value<int64_t>());
      } else if (value.is_boolean()) {
        k.properties[name] = *value.value<bool>() ? "true" : "false";
      } else {
        return Error("kafka.properties." + name + ": must be a string, integer or boolean");
      }
    }
  }
  return Status::Ok();
}

Status Validate(const Config& c) {
  static const std::set<std::string_view> kLevels = {"trace", "debug", "info", "warn", "error"};
  if (!kLevels.contains(c.logging.level)) {
    return Error("logging.level: must be one of trace, debug, info, warn, error");
  }
  if (auto listen = ParseHostPort(c.http.listen, "http.listen"); !listen) return listen.error();
  if (c.http.tls_cert.empty() != c.http.tls_key.empty()) {
    return Error(c.http.tls_cert.empty() ? "http.tls_key: set http.tls_cert too"
                                         : "http.tls_cert: set http.tls_key too");
  }
  if (c.storage.dir.empty()) return Error("storage.dir: must not be empty");
  if (!c.storage.identity_key_file.empty()) {
    // By path only; start-up checks again with symlinks resolved, and reads the file.
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path key = fs::absolute(c.storage.identity_key_file, ec).lexically_normal();
    fs::path dir = fs::absolute(c.storage.dir, ec).lexically_normal();
    if (!dir.has_filename() && dir.has_parent_path()) dir = dir.parent_path();
    const fs::path rel = key.lexically_relative(dir);
    if (!rel.empty() && *rel.begin() != "..") {
      return Error("storage.identity_key_file: " + c.storage.identity_key_file +
                   " is inside storage.dir; keep the key outside the state directory");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Config> ParseConfig(std::string_view text, std::string_view origin) {
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << origin << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    return Error(msg.str());
  }
  Config c;
  if (auto s = OnlyKeys(
          root, "",
          {"storage", "kafka", "http", "gateway", "logging", "directory", "sources", "metrics",
           "privacy"});
      !s) {
    return s.error();
  }
  Status st;
  if (const auto* t = SubTable(root, "storage", st)) {
    if (auto s = OnlyKeys(*t, "storage", {"dir", "sync_writes", "identity_key_file"}); !s) {
      return s.error();
    }
    if (auto s = ReadString(*t, "storage", "dir", c.storage.dir); !s) return s.error();
    if (t->contains("identity_key_file")) {
      if (auto s = ReadString(*t, "storage", "identity_key_file", c.storage.identity_key_file);
          !s) {
        return s.error();
      }
      if (c.storage.identity_key_file.empty()) {
        return Error("storage.identity_key_file: must not be empty (a path to the key file)");
      }
    }
    if (auto s = ReadBool(*t, "storage", "sync_writes", c.storage.sync_writes); !s) {
      return s.error();
    }
  }
  if (const auto* t = SubTable(root, "kafka", st)) {
    if (auto s = ParseKafka(*t, c.kafka); !s) return s.error();
  }
  if (const auto* t = SubTable(root, "http", st)) {
    if (t->contains("api_token")) {
      return Error(
          "http.api_token: tokens are secrets and come from files: put the token in a file and "
          "set http.viewer_token_file (or http.admin_token_file)");
    }
    if (auto s = OnlyKeys(*t, "http",
                          {"listen", "tls_cert", "tls_key", "viewer_token_file", "admin_token_file",
                           "max_request_bytes", "max_request_headers"});
        !s) {
      return s.error();
    }
    for (auto [key, field] : {std::pair{"listen", &c.http.listen},
                              std::pair{"tls_cert", &c.http.tls_cert},
                              std::pair{"tls_key", &c.http.tls_key},
                              std::pair{"viewer_token_file", &c.http.viewer_token_file},
                              std::pair{"admin_token_file", &c.http.admin_token_file}}) {
      if (auto s = ReadString(*t, "http", key, *field); !s) return s.error();
      if (t->contains(key) && field->empty()) {
        return Error(std::string("http.") + key + ": must not be empty (leave it out instead)");
      }
    }
    if (auto s = ReadInt(*t, "http", "max_request_bytes", c.http.max_request_bytes, 1024,
                         256 << 20);
        !s) {
      return s.error();
    }
    if (auto s = ReadInt(*t, "http", "max_request_headers", c.http.max_request_headers, 8, 1000);
        !s) {
      return s.error();
    }
  }
  if (const auto* t = SubTable(root, "gateway", st)) {
    if (auto s = ParseGateway(*t, c.gateway); !s) return s.error();
  }
  if (const auto* t = SubTable(root, "logging", st)) {
    if (auto s = OnlyKeys(*t, "logging", {"level"}); !s) return s.error();
    if (auto s = ReadString(*t, "logging", "level", c.logging.level); !s) return s.error();
  }
  if (const auto* t = SubTable(root, "directory", st)) {
    if (auto s = ParseDirectory(*t, c.directory); !s) return s.error();
  } else {
    toml::table empty;
    if (auto s = ParseDirectory(empty, c.directory); !s) return s.error();
  }
  if (const auto* t = SubTable(root, "sources", st)) {
    if (auto s = ParseSources(*t, c.sources); !s) return s.error();
  }
  for (const char* section : {"metrics", "privacy"}) {
    if (const auto* t = SubTable(root, section, st)) {
      if (auto s = ParseDefinitions(*t, section, c.definitions); !s) return s.error();
    }
  }
  if (!st) return st.error();
  if (auto s = Validate(c); !s) return s.error();
  return c;
}

Result<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error("cannot read config file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return ParseConfig(text.str(), path);
}

}  // namespace teamhealth::config
