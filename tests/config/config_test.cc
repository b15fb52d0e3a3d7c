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
}

}  // namespace
}  // namespace teamhealth::config
