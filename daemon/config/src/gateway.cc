// [gateway]: the webhook listener's own section (docs/design.md section 12).
#include <set>

#include "parse_util.h"
#include "teamhealth/base/host_port.h"

namespace teamhealth::config {
namespace {

bool IsWebhookSource(std::string_view s) {
  static const std::set<std::string_view> kSources = {"github", "slack",  "pagerduty",
                                                      "jira",   "linear", "opsgenie"};
  return kSources.contains(s);
}

// A string key that, when present, must not be empty.
Status ReadNonEmpty(const toml::table& t, const std::string& path, std::string_view key,
                    std::string& out) {
  if (auto s = ReadString(t, path, key, out); !s) return s;
  if (t.contains(key) && out.empty()) {
    return Error(path + "." + std::string(key) + ": must not be empty (leave it out instead)");
  }
  return Status::Ok();
}

Status ParseGatewaySources(const toml::node& node, GatewayConfig& g) {
  const auto* sources = node.as_table();
  if (!sources) {
    return Error("gateway.sources: must be a table of sources ([gateway.sources.github])" +
                 Where(node));
  }
  for (const auto& [key, value] : *sources) {
    const std::string name(key.str());
    const std::string path = "gateway.sources." + name;
    if (!IsWebhookSource(name)) {
      return Error(path +
                   ": unknown source (expected github, slack, pagerduty, jira, linear or "
                   "opsgenie)");
    }
    const auto* t = value.as_table();
    if (!t) return Error(path + ": must be a table with topic and secret_file" + Where(value));
    if (auto s = OnlyKeys(*t, path, {"topic", "secret_file"}); !s) return s;
    GatewaySourceConfig source{.name = name};
    if (auto s = ReadString(*t, path, "topic", source.topic); !s) return s;
    if (auto s = ReadString(*t, path, "secret_file", source.secret_file); !s) return s;
    if (source.topic.empty()) return Error(path + ".topic: missing (the Kafka topic)");
    if (source.secret_file.empty()) {
      return Error(path + ".secret_file: missing (the file holding the " +
                   (name == "opsgenie" ? "shared header token" : "signing secret") + ")");
    }
    g.sources.push_back(std::move(source));
  }
  return Status::Ok();
}

Status ParseSchedules(const toml::node& node, GatewayConfig& g) {
  const auto* arr = node.as_array();
  if (!arr) return Error("gateway.schedules: must be an array of tables ([[gateway.schedules]])");
  for (size_t i = 0; i < arr->size(); ++i) {
    const std::string path = "gateway.schedules[" + std::to_string(i) + "]";
    const auto* t = (*arr)[i].as_table();
    if (!t) return Error(path + ": must be a table");
    if (auto s = OnlyKeys(*t, path,
                          {"vendor", "api_url", "token_file", "schedule_ids",
                           "escalation_policy_ids", "poll_interval_seconds", "window_days"});
        !s) {
      return s;
    }
    GatewayScheduleConfig c;
    if (auto s = ReadString(*t, path, "vendor", c.vendor); !s) return s;
    if (c.vendor != "pagerduty" && c.vendor != "opsgenie") {
      return Error(path + ".vendor: must be \"pagerduty\" or \"opsgenie\"");
    }
    c.api_url = c.vendor == "pagerduty" ? "https://api.pagerduty.com" : "https://api.opsgenie.com";
    if (auto s = ReadNonEmpty(*t, path, "api_url", c.api_url); !s) return s;
    if (!c.api_url.starts_with("http://") && !c.api_url.starts_with("https://")) {
      return Error(path + ".api_url: must start with https:// (or http:// for a local test)");
    }
    if (auto s = ReadString(*t, path, "token_file", c.token_file); !s) return s;
    if (c.token_file.empty()) return Error(path + ".token_file: missing (the API token's file)");
    if (auto s = ReadStringArray(*t, path, "schedule_ids", c.schedule_ids); !s) return s;
    if (auto s = ReadStringArray(*t, path, "escalation_policy_ids", c.escalation_policy_ids); !s) {
      return s;
    }
    if (c.vendor == "opsgenie" && !c.escalation_policy_ids.empty()) {
      return Error(path + ".escalation_policy_ids: PagerDuty only; Opsgenie polls schedule_ids");
    }
    if (c.schedule_ids.empty() && c.escalation_policy_ids.empty()) {
      return Error(path + ".schedule_ids: give at least one schedule (or escalation policy) id");
    }
    for (const auto* ids : {&c.schedule_ids, &c.escalation_policy_ids}) {
      for (const auto& id : *ids) {
        if (id.empty()) return Error(path + ": an empty id");
      }
    }
    if (auto s = ReadInt(*t, path, "poll_interval_seconds", c.poll_interval_seconds, 10, 86400);
        !s) {
      return s;
    }
    if (auto s = ReadInt(*t, path, "window_days", c.window_days, 1, 90); !s) return s;
    g.schedules.push_back(std::move(c));
  }
  return Status::Ok();
}

}  // namespace

Status ParseGateway(const toml::table& t, GatewayConfig& g) {
  g.present = true;
  if (auto s = OnlyKeys(t, "gateway",
                        {"listen", "tls_cert", "tls_key", "viewer_token_file", "max_body_bytes",
                         "delivery_timeout_ms", "sources", "shifts_topic", "schedules"});
      !s) {
    return s;
  }
  for (auto [key, field] :
       {std::pair{"listen", &g.listen}, std::pair{"tls_cert", &g.tls_cert},
        std::pair{"tls_key", &g.tls_key}, std::pair{"viewer_token_file", &g.viewer_token_file},
        std::pair{"shifts_topic", &g.shifts_topic}}) {
    if (auto s = ReadNonEmpty(t, "gateway", key, *field); !s) return s;
  }
  if (auto listen = ParseHostPort(g.listen, "gateway.listen"); !listen) return listen.error();
  if (g.tls_cert.empty() != g.tls_key.empty()) {
    return Error(g.tls_cert.empty() ? "gateway.tls_key: set gateway.tls_cert too"
                                    : "gateway.tls_cert: set gateway.tls_key too");
  }
  if (auto s = ReadInt(t, "gateway", "max_body_bytes", g.max_body_bytes, 1024, 32 << 20); !s) {
    return s;
  }
  if (auto s = ReadInt(t, "gateway", "delivery_timeout_ms", g.delivery_timeout_ms, 1000, 300000);
      !s) {
    return s;
  }
  if (const auto* node = t.get("sources")) {
    if (auto s = ParseGatewaySources(*node, g); !s) return s;
  }
  if (const auto* node = t.get("schedules")) {
    if (auto s = ParseSchedules(*node, g); !s) return s;
  }
  if (g.sources.empty() && g.schedules.empty()) {
    return Error(
        "gateway.sources: no source configured ([gateway.sources.github] with topic "
        "and secret_file), and no [[gateway.schedules]]");
  }
  return Status::Ok();
}

}  // namespace teamhealth::config
