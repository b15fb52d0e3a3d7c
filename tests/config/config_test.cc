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
  ExpectError("[logging]\nlevel = \"loud\"\n", "logging.level");
  ExpectError("[kafka.properties]\n\"enable.auto.commit\" = true\n",
              "kafka.properties.enable.auto.commit");
  ExpectError("[[kafka.topics]]\nname = \"a\"\nsource = \"jira\"\n"
              "[[kafka.topics]]\nname = \"a\"\nsource = \"slack\"\n",
              "configured twice");
  ExpectError("[storage\n", "test.toml:1");
}

}  // namespace
}  // namespace teamhealth::config
