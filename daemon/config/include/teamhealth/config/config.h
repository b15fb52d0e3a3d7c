#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "teamhealth/base/result.h"
#include "teamhealth/projections/definitions.h"

namespace teamhealth::config {

// Every key is documented with its default in ops/teamhealth.example.toml.

struct TopicConfig {
  std::string name;    // Kafka topic
  std::string source;  // jira github linear slack pagerduty opsgenie canonical
};

struct KafkaConfig {
  // Bootstrap servers, "host:port,host:port". "embedded" starts librdkafka's in-process mock
  // cluster (demo and local trials only: it keeps 5 MiB per partition).
  std::string brokers = "embedded";
  std::string client_id = "teamhealth";
  std::vector<TopicConfig> topics;
  int batch_max_messages = 5000;  // records per consumed batch
  int batch_max_ms = 100;         // longest wait to fill a batch, milliseconds
  // One durable write (one atomic RocksDB batch, one fsync, on the writer thread) merges the
  // consumed batches waiting for it while they cover at most this many bytes of record values
  // (64 KiB..1 GiB) and this many records (1..1000000); a consumed batch above either is
  // split. Up to twice `write_max_bytes` more wait in memory (backpressure).
  int write_max_bytes = 8 << 20;
  int write_max_records = 50000;
  // Largest record value ingested, bytes (1 KiB..256 MiB); a larger one is quarantined
  // (too_large) unparsed. The consumer's fetch limits are sized from it.
  int max_record_bytes = 10 * 1024 * 1024;
  // Extra librdkafka consumer properties (security.protocol, sasl.*, ssl.*, fetch sizes).
  // Properties that would break exactly-once ingest are rejected (see config.cc).
  std::map<std::string, std::string> properties;
};

struct StorageConfig {
  std::string dir = "./teamhealth-state";  // RocksDB directory
  bool sync_writes = true;                 // fsync every batch; false only for throwaway demos
  // File whose bytes key the hashes of the identities column (docs/design.md section 6); at
  // least 16 bytes, outside `dir`. Empty: not set, which `serve` and `erase` refuse.
  std::string identity_key_file;
};

struct HttpConfig {
  std::string listen = "127.0.0.1:9810";  // host:port; port 0 picks a free port
  // TLS: PEM certificate (chain) and private key files; both or neither. Without them the
  // listener speaks plain HTTP.
  std::string tls_cert;
  std::string tls_key;
  // Bearer tokens, each read from its own file (docs/design.md section 6). A viewer token reads
  // team-level results; an admin token also per-person ones. Without any token the API and
  // /metrics answer only on a loopback listener.
  std::string viewer_token_file;
  std::string admin_token_file;
  // Largest request body accepted (413 above) and most request headers (431 above).
  int max_request_bytes = 64 * 1024;
  int max_request_headers = 64;
};

// One webhook source of the gateway, `[gateway.sources.<name>]` (docs/design.md section 12).
struct GatewaySourceConfig {
  std::string name;         // github slack pagerduty jira linear opsgenie
  std::string topic;        // Kafka topic the verified bodies are produced to
  std::string secret_file;  // signing secret; Opsgenie: the shared header token
};

// One on-call schedule the gateway polls, `[[gateway.schedules]]`.
struct GatewayScheduleConfig {
  std::string vendor;      // pagerduty | opsgenie
  std::string api_url;     // base URL: https://api.pagerduty.com, https://api.opsgenie.com
  std::string token_file;  // API token (read-only is enough)
  std::vector<std::string> schedule_ids;
  std::vector<std::string> escalation_policy_ids;  // PagerDuty only
  int poll_interval_seconds = 300;  // 10..86400
  int window_days = 14;             // how far ahead (and back, 1 day) each poll looks, 1..90
};

// `teamhealth gateway`: the webhook listener (and schedule poller) in front of Kafka. The Kafka
// brokers and properties come from [kafka].
struct GatewayConfig {
  bool present = false;  // the config has a [gateway] table
  std::string listen = "127.0.0.1:9811";  // host:port; port 0 picks a free port
  std::string tls_cert, tls_key;          // PEM; both or neither
  std::string viewer_token_file;          // bearer token for /metrics off loopback
  int max_body_bytes = 1024 * 1024;       // larger bodies answer 413 (1 KiB..32 MiB)
  // Longest wait for Kafka's acknowledgement of one body (librdkafka message.timeout.ms); 503
  // after it (1000..300000 ms).
  int delivery_timeout_ms = 10000;
  std::vector<GatewaySourceConfig> sources;
  std::string shifts_topic = "teamhealth.canonical";  // where the poller's oncall.shift go
  std::vector<GatewayScheduleConfig> schedules;
};

struct LoggingConfig {
  std::string level = "info";  // trace debug info warn error
};

// Working pattern overrides; unset fields inherit (person -> team -> defaults).
struct Schedule {
  std::optional<std::string> timezone;                   // IANA name, e.g. "Europe/London"
  std::optional<std::vector<std::string>> working_days;  // "Mon".."Sun"
  std::optional<std::string> working_hours;              // "HH:MM-HH:MM", local time
  std::optional<std::string> sleep_hours;                // "HH:MM-HH:MM", may wrap midnight
};

struct TeamConfig {
  std::string name;
  Schedule schedule;
};

struct PersonConfig {
  std::string handle;              // unique, never written to the event log
  std::vector<std::string> teams;  // `team = "x"` or `teams = ["x", "y"]`
  Schedule schedule;
  std::vector<std::string> identities;  // "<source>:<native id>"
};

// The people directory (docs/design.md section 5). Defaults are always fully set after parsing.
struct DirectoryConfig {
  Schedule defaults;
  std::vector<TeamConfig> teams;
  std::vector<PersonConfig> people;
  std::map<std::string, std::string> services;  // "<source>:<service id>" -> team
  std::map<std::string, std::string> projects;  // "<source>:<project>" -> team

  // The effective schedule of a person: person, then first team, then defaults.
  Schedule EffectiveSchedule(const PersonConfig& person) const;
};

struct SourcesConfig {
  // "<source>:<status id or name>" -> todo | in_progress | done.
  std::map<std::string, std::string> status_categories;
};

struct Config {
  StorageConfig storage;
  KafkaConfig kafka;
  HttpConfig http;
  GatewayConfig gateway;
  LoggingConfig logging;
  DirectoryConfig directory;
  SourcesConfig sources;
  // [metrics] and [privacy]: every key, its range and meaning are in the definitions table
  // (teamhealth/projections/definitions.h), which parsing reads.
  projections::Settings definitions;
};

// Parses and validates a TOML document. Unknown keys and bad values are errors whose message
// names the key (`kafka.topics[1].source: unknown source "jria"`).
Result<Config> ParseConfig(std::string_view toml_text, std::string_view origin);
Result<Config> LoadConfigFile(const std::string& path);

}  // namespace teamhealth::config
