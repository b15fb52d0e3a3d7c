#include "teamhealth/config/config.h"

#include <gtest/gtest.h>

namespace teamhealth::config {
namespace {

TEST(ConfigTest, DefaultsApplyToAnEmptyFile) {
  auto c = ParseConfig("", "test.toml");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->http.listen, "127.0.0.1:9810");
  EXPECT_EQ(c->kafka.brokers, "embedded");
  EXPECT_EQ(c->kafka.batch_max_messages, 5000);
  EXPECT_TRUE(c->storage.sync_writes);
}

TEST(ConfigTest, ParsesEveryKey) {
  auto c = ParseConfig(R"(
[storage]
dir = "/var/lib/teamhealth"
sync_writes = false
[kafka]
brokers = "k1:9092,k2:9092"
client_id = "th-a"
batch_max_messages = 100
batch_max_ms = 50
[[kafka.topics]]
name = "pd"
source = "pagerduty"
[[kafka.topics]]
name = "canon"
source = "canonical"
[kafka.properties]
"security.protocol" = "ssl"
"fetch.max.bytes" = 1048576
[http]
listen = "0.0.0.0:9000"
tls_cert = "/etc/teamhealth/tls.crt"
tls_key = "/etc/teamhealth/tls.key"
viewer_token_file = "/etc/teamhealth/viewer.token"
admin_token_file = "/etc/teamhealth/admin.token"
max_request_bytes = 1048576
max_request_headers = 100
[logging]
level = "debug"
)",
                       "test.toml");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->storage.dir, "/var/lib/teamhealth");
  EXPECT_FALSE(c->storage.sync_writes);
  EXPECT_EQ(c->kafka.brokers, "k1:9092,k2:9092");
  ASSERT_EQ(c->kafka.topics.size(), 2u);
  EXPECT_EQ(c->kafka.topics[0].source, "pagerduty");
  EXPECT_EQ(c->kafka.properties.at("fetch.max.bytes"), "1048576");
  EXPECT_EQ(c->logging.level, "debug");
  EXPECT_EQ(c->http.tls_cert, "/etc/teamhealth/tls.crt");
  EXPECT_EQ(c->http.tls_key, "/etc/teamhealth/tls.key");
  EXPECT_EQ(c->http.viewer_token_file, "/etc/teamhealth/viewer.token");
  EXPECT_EQ(c->http.admin_token_file, "/etc/teamhealth/admin.token");
  EXPECT_EQ(c->http.max_request_bytes, 1048576);
  EXPECT_EQ(c->http.max_request_headers, 100);
}

void ExpectError(const std::string& text, const std::string& needle) {
  auto c = ParseConfig(text, "test.toml");
  ASSERT_FALSE(c.ok()) << text;
  EXPECT_NE(c.error().message().find(needle), std::string::npos)
      << "message: " << c.error().message() << "\nexpected to contain: " << needle;
}

TEST(ConfigTest, UnknownKeysAreErrorsThatNameTheKey) {
  ExpectError("[storage]\ndirr = \"x\"\n", "storage.dirr: unknown key");
  ExpectError("[kafak]\n", "kafak: unknown key");
  ExpectError("[[kafka.topics]]\nname = \"a\"\nsource = \"jira\"\nsrc = \"x\"\n",
              "kafka.topics[0].src: unknown key");
}

TEST(ConfigTest, BadValuesAreErrorsThatNameTheKey) {
  ExpectError("[[kafka.topics]]\nname = \"a\"\nsource = \"jria\"\n",
              "kafka.topics[0].source: unknown source \"jria\"");
  ExpectError("[kafka]\nbatch_max_messages = 0\n", "kafka.batch_max_messages");
  ExpectError("[kafka]\nbatch_max_ms = \"fast\"\n", "kafka.batch_max_ms: must be an integer");
  ExpectError("[kafka]\nwrite_max_bytes = 1024\n", "kafka.write_max_bytes");
  ExpectError("[kafka]\nwrite_max_records = 0\n", "kafka.write_max_records");
  ExpectError("[http]\nlisten = \"9810\"\n", "http.listen");
  // The port range, checked by check-config rather than found at start.
  ExpectError("[http]\nlisten = \"127.0.0.1:99999\"\n", "from 0 to 65535");
  ExpectError("[http]\nlisten = \"127.0.0.1:0000080\"\n", "from 0 to 65535");
  ExpectError("[http]\nlisten = \"::1:9810\"\n", "an IPv6 host goes in brackets");
  ExpectError("[http]\nlisten = \":9810\"\n", "http.listen");
  // Secrets come from files: an inline token is refused with the key to use instead.
  ExpectError("[http]\napi_token = \"s3cret\"\n", "set http.viewer_token_file");
  ExpectError("[http]\ntls_cert = \"/etc/c.pem\"\n", "http.tls_cert: set http.tls_key too");
  ExpectError("[http]\ntls_key = \"/etc/k.pem\"\n", "http.tls_key: set http.tls_cert too");
  ExpectError("[http]\nadmin_token_file = \"\"\n", "http.admin_token_file: must not be empty");
  ExpectError("[http]\nmax_request_bytes = 100\n", "http.max_request_bytes");
  ExpectError("[http]\nmax_request_headers = 5000\n", "http.max_request_headers");
  // The identity key: a path, and never inside the state directory it protects.
  ExpectError("[storage]\nidentity_key_file = \"\"\n", "storage.identity_key_file: must not be empty");
  ExpectError("[storage]\ndir = \"/var/lib/th\"\nidentity_key_file = \"/var/lib/th/key\"\n",
              "storage.identity_key_file: /var/lib/th/key");
  ExpectError("[storage]\nidentity_key_file = 5\n", "storage.identity_key_file");
  ExpectError("[logging]\nlevel = \"loud\"\n", "logging.level");
  ExpectError("[kafka.properties]\n\"enable.auto.commit\" = true\n",
              "kafka.properties.enable.auto.commit");
  ExpectError(
      "[[kafka.topics]]\nname = \"a\"\nsource = \"jira\"\n"
      "[[kafka.topics]]\nname = \"a\"\nsource = \"slack\"\n",
      "configured twice");
  ExpectError("[storage\n", "test.toml:1");
}

}  // namespace
}  // namespace teamhealth::config

namespace teamhealth::config {
namespace {

constexpr const char* kDirectory = R"(
[directory.defaults]
timezone = "UTC"
working_days = ["Mon", "Tue", "Wed", "Thu", "Fri"]
working_hours = "08:00-18:00"
sleep_hours = "22:00-08:00"

[[directory.teams]]
name = "payments"
timezone = "Europe/London"
working_hours = "09:00-17:30"

[[directory.teams]]
name = "search"

[[directory.people]]
handle = "alice"
team = "payments"
timezone = "America/New_York"
identities = ["slack:U024BE7LH", "pagerduty:PXPGF42", "jira:5b10a2844c20165700ede21g", "github:alice"]

[[directory.people]]
handle = "bob"
teams = ["search", "payments"]
identities = ["github:bob"]

[directory.services]
"pagerduty:PLVTM9H" = "payments"

[directory.projects]
"jira:PAY" = "payments"

[sources.status_categories]
"jira:10001" = "todo"
"jira:In Review" = "in_progress"
)";

TEST(DirectoryConfigTest, ParsesTeamsPeopleAndMaps) {
  auto c = ParseConfig(kDirectory, "dir.toml");
  ASSERT_TRUE(c.ok()) << c.error().message();
  const auto& d = c->directory;
  ASSERT_EQ(d.teams.size(), 2u);
  ASSERT_EQ(d.people.size(), 2u);
  EXPECT_EQ(d.people[0].identities.size(), 4u);
  EXPECT_EQ(d.people[1].teams, (std::vector<std::string>{"search", "payments"}));
  EXPECT_EQ(d.services.at("pagerduty:PLVTM9H"), "payments");
  EXPECT_EQ(d.projects.at("jira:PAY"), "payments");
  EXPECT_EQ(c->sources.status_categories.at("jira:In Review"), "in_progress");
}

TEST(DirectoryConfigTest, EffectiveScheduleInheritsPersonThenFirstTeamThenDefaults) {
  auto c = ParseConfig(kDirectory, "dir.toml");
  ASSERT_TRUE(c.ok());
  const auto& d = c->directory;
  const auto alice = d.EffectiveSchedule(d.people[0]);
  EXPECT_EQ(alice.timezone, "America/New_York");  // her own
  EXPECT_EQ(alice.working_hours, "09:00-17:30");  // payments'
  EXPECT_EQ(alice.sleep_hours, "22:00-08:00");    // defaults
  const auto bob = d.EffectiveSchedule(d.people[1]);
  EXPECT_EQ(bob.timezone, "UTC");  // search has no zone; defaults
  EXPECT_EQ(bob.working_hours, "08:00-18:00");
  EXPECT_EQ(bob.working_days->size(), 5u);
}

TEST(DirectoryConfigTest, DefaultsApplyWithoutADirectorySection) {
  auto c = ParseConfig("", "x.toml");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->directory.defaults.timezone, "UTC");
  EXPECT_EQ(c->directory.defaults.sleep_hours, "22:00-08:00");
}

TEST(DirectoryConfigTest, BadDirectoryEntriesNameTheKey) {
  const std::string team = "[[directory.teams]]\nname = \"payments\"\n";
  ExpectError(team + "[[directory.people]]\nhandle = \"a\"\nteam = \"paymnets\"\n",
              "directory.people[0].team: unknown team \"paymnets\"");
  ExpectError(team + "[[directory.people]]\nhandle = \"a\"\ntimezone = \"Mars/Olympus\"\n",
              "directory.people[0].timezone: unknown time zone");
  ExpectError("[directory.defaults]\nworking_hours = \"8-18\"\n",
              "directory.defaults.working_hours");
  ExpectError("[directory.defaults]\nworking_days = [\"Monday\"]\n",
              "directory.defaults.working_days");
  ExpectError(team + "[[directory.people]]\nhandle = \"a\"\nidentities = [\"U123\"]\n",
              "directory.people[0].identities: \"U123\"");
  ExpectError(team + "[[directory.people]]\nhandle = \"a\"\nidentities = [\"slack:U1\"]\n" +
                  "[[directory.people]]\nhandle = \"b\"\nidentities = [\"slack:U1\"]\n",
              "belongs to two people");
  ExpectError(team + "[[directory.people]]\nhandle = \"a\"\n[[directory.people]]\nhandle = \"a\"\n",
              "directory.people[1].handle");
  ExpectError(team + "[directory.services]\n\"pagerduty:P1\" = \"nobody\"\n",
              "directory.services.\"pagerduty:P1\": unknown team");
  ExpectError(team + "[directory.projects]\n\"PAY\" = \"payments\"\n", "directory.projects");
  ExpectError(team + "[[directory.people]]\nhandle = \"a\"\nshoe_size = 9\n",
              "directory.people[0].shoe_size: unknown key");
  ExpectError("[sources.status_categories]\n\"jira:1\" = \"doing\"\n", "sources.status_categories");
  ExpectError("[[directory.teams]]\nname = \"unmapped\"\n", "reserved");
  ExpectError("[[directory.teams]]\nname = \"other\"\n", "\"other\" is reserved");
}

}  // namespace
}  // namespace teamhealth::config

namespace teamhealth::config {
namespace {

constexpr const char* kGateway = R"(
[gateway]
listen = "0.0.0.0:9811"
tls_cert = "/etc/teamhealth/gw.crt"
tls_key = "/etc/teamhealth/gw.key"
viewer_token_file = "/etc/teamhealth/viewer.token"
max_body_bytes = 2097152
delivery_timeout_ms = 5000
shifts_topic = "canon"
[gateway.sources.github]
topic = "webhooks.github"
secret_file = "/etc/teamhealth/github.secret"
[gateway.sources.slack]
topic = "webhooks.slack"
secret_file = "/etc/teamhealth/slack.secret"
[[gateway.schedules]]
vendor = "pagerduty"
token_file = "/etc/teamhealth/pagerduty.token"
schedule_ids = ["PSCHED1"]
escalation_policy_ids = ["PEP1"]
poll_interval_seconds = 60
window_days = 7
)";

TEST(GatewayConfigTest, ParsesEveryKey) {
  auto c = ParseConfig(kGateway, "test.toml");
  ASSERT_TRUE(c.ok()) << c.error().message();
  const GatewayConfig& g = c->gateway;
  EXPECT_TRUE(g.present);
  EXPECT_EQ(g.listen, "0.0.0.0:9811");
  EXPECT_EQ(g.tls_cert, "/etc/teamhealth/gw.crt");
  EXPECT_EQ(g.viewer_token_file, "/etc/teamhealth/viewer.token");
  EXPECT_EQ(g.max_body_bytes, 2097152);
  EXPECT_EQ(g.delivery_timeout_ms, 5000);
  EXPECT_EQ(g.shifts_topic, "canon");
  ASSERT_EQ(g.sources.size(), 2u);
  EXPECT_EQ(g.sources[0].name, "github");
  EXPECT_EQ(g.sources[0].topic, "webhooks.github");
  EXPECT_EQ(g.sources[1].secret_file, "/etc/teamhealth/slack.secret");
  ASSERT_EQ(g.schedules.size(), 1u);
  EXPECT_EQ(g.schedules[0].api_url, "https://api.pagerduty.com");
  EXPECT_EQ(g.schedules[0].schedule_ids, std::vector<std::string>{"PSCHED1"});
  EXPECT_EQ(g.schedules[0].poll_interval_seconds, 60);
}

TEST(GatewayConfigTest, DefaultsAndAbsence) {
  auto none = ParseConfig("", "test.toml");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->gateway.present);
  auto c = ParseConfig(
      "[gateway.sources.jira]\ntopic = \"j\"\nsecret_file = \"/s\"\n", "test.toml");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_TRUE(c->gateway.present);
  EXPECT_EQ(c->gateway.listen, "127.0.0.1:9811");
  EXPECT_EQ(c->gateway.max_body_bytes, 1024 * 1024);
  EXPECT_EQ(c->gateway.delivery_timeout_ms, 10000);
  EXPECT_EQ(c->gateway.shifts_topic, "teamhealth.canonical");
}

TEST(GatewayConfigTest, ErrorsNameTheKey) {
  const std::string src = "[gateway.sources.github]\ntopic = \"t\"\nsecret_file = \"/s\"\n";
  ExpectError("[gateway]\nlisten = \"127.0.0.1:9811\"\n", "gateway.sources: no source");
  ExpectError("[gateway]\nport = 1\n" + src, "gateway.port: unknown key");
  ExpectError("[gateway]\nlisten = \"nowhere\"\n" + src, "gateway.listen");
  ExpectError("[gateway]\nlisten = \"127.0.0.1:70000\"\n" + src, "gateway.listen");
  ExpectError("[gateway]\nmax_body_bytes = 10\n" + src, "gateway.max_body_bytes");
  ExpectError("[gateway]\nmax_body_bytes = 1073741824\n" + src, "gateway.max_body_bytes");
  ExpectError("[gateway]\ndelivery_timeout_ms = 0\n" + src, "gateway.delivery_timeout_ms");
  ExpectError("[gateway]\ntls_cert = \"/c\"\n" + src, "gateway.tls_cert: set gateway.tls_key");
  ExpectError("[gateway.sources.gitlab]\ntopic = \"t\"\nsecret_file = \"/s\"\n",
              "gateway.sources.gitlab: unknown source");
  ExpectError("[gateway.sources.canonical]\ntopic = \"t\"\nsecret_file = \"/s\"\n",
              "gateway.sources.canonical: unknown source");
  ExpectError("[gateway.sources.github]\ntopic = \"\"\nsecret_file = \"/s\"\n",
              "gateway.sources.github.topic");
  ExpectError("[gateway.sources.github]\nsecret_file = \"/s\"\n", "gateway.sources.github.topic");
  ExpectError("[gateway.sources.github]\ntopic = \"t\"\n", "gateway.sources.github.secret_file");
  ExpectError("[gateway.sources.github]\ntopic = \"t\"\nsecret_file = \"/s\"\nsecret = \"x\"\n",
              "gateway.sources.github.secret: unknown key");
  ExpectError("[gateway]\nsources = 3\n", "gateway.sources");
  ExpectError("[[gateway.schedules]]\nvendor = \"victorops\"\n", "gateway.schedules[0].vendor");
  ExpectError("[[gateway.schedules]]\nvendor = \"pagerduty\"\ntoken_file = \"/t\"\n",
              "gateway.schedules[0].schedule_ids");
  ExpectError("[[gateway.schedules]]\nvendor = \"pagerduty\"\nschedule_ids = [\"P\"]\n",
              "gateway.schedules[0].token_file");
  ExpectError(
      "[[gateway.schedules]]\nvendor = \"pagerduty\"\ntoken_file = \"/t\"\nschedule_ids = "
      "[\"P\"]\npoll_interval_seconds = 1\n",
      "gateway.schedules[0].poll_interval_seconds");
  ExpectError(
      "[[gateway.schedules]]\nvendor = \"pagerduty\"\napi_url = \"ftp://x\"\ntoken_file = "
      "\"/t\"\nschedule_ids = [\"P\"]\n",
      "gateway.schedules[0].api_url");
}

}  // namespace
}  // namespace teamhealth::config
