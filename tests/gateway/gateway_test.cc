#include "teamhealth/gateway/gateway.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "teamhealth/gateway/verify.h"
#include "teamhealth/logging/logging.h"
#include "teamhealth/secrets/secrets.h"

namespace teamhealth::gateway {
namespace {

using Verdict = Verification::Verdict;

// 2026-03-02T22:14:05Z
constexpr int64_t kNow = 1772489645000;
constexpr std::string_view kSecret = "0123456789abcdef0123456789abcdef";
constexpr std::string_view kOther = "fedcba9876543210fedcba9876543210";

std::string ReadFixture(const std::string& rel) {
  std::ifstream in(std::string(TEAMHEALTH_FIXTURES_DIR) + "/" + rel, std::ios::binary);
  EXPECT_TRUE(in) << rel;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Headers Signed(Vendor v, std::string_view body, int64_t at = kNow,
               std::string_view secret = kSecret) {
  return SignatureHeaders(v, secret, body, at);
}

// ---------------------------------------------------------------------------------------------
// Signatures, vendor by vendor

TEST(VerifyTest, GithubPublishedTestVector) {
  // docs.github.com, "Validating webhook deliveries": secret "It's a Secret to Everybody",
  // payload "Hello, World!".
  const Headers h = {{"X-Hub-Signature-256",
                      "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"}};
  EXPECT_TRUE(Verify(Vendor::kGithub, "It's a Secret to Everybody", h, "Hello, World!", kNow).ok());
  EXPECT_EQ(Signed(Vendor::kGithub, "Hello, World!", kNow, "It's a Secret to Everybody"), h);
  // Header names are case-insensitive (HTTP/2 sends them in lower case); hex may be upper case.
  const Headers upper = {
      {"x-hub-signature-256",
       "sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17"}};
  EXPECT_TRUE(
      Verify(Vendor::kGithub, "It's a Secret to Everybody", upper, "Hello, World!", kNow).ok());
}

// Every vendor: a fixture body signed with the test secret verifies; the same body with one
// byte changed, a different secret, or without the signature header does not.
class EveryVendorTest : public testing::TestWithParam<std::pair<Vendor, std::string>> {};

TEST_P(EveryVendorTest, ValidTamperedWrongSecretMissingHeader) {
  const auto& [vendor, fixture] = GetParam();
  std::string body = ReadFixture(fixture);
  if (vendor == Vendor::kLinear) {
    // Linear's freshness is checked from the signed body: give the fixture a current time.
    const auto at = body.find("\"webhookTimestamp\"");
    ASSERT_NE(at, std::string::npos);
    const auto end = body.find_first_of(",}", at);
    body.replace(at, end - at, "\"webhookTimestamp\": " + std::to_string(kNow - 2000));
  }
  const Headers h = Signed(vendor, body);
  EXPECT_TRUE(Verify(vendor, kSecret, h, body, kNow).ok())
      << Verify(vendor, kSecret, h, body, kNow).detail;

  std::string tampered = body;
  tampered[tampered.size() / 2] ^= 0x01;
  const auto t = Verify(vendor, kSecret, h, tampered, kNow);
  if (vendor == Vendor::kOpsgenie) {
    EXPECT_TRUE(t.ok());  // a shared token does not sign the body: what TLS is for
  } else {
    EXPECT_EQ(t.verdict, Verdict::kMismatch) << t.detail;
  }

  const auto wrong = Verify(vendor, kOther, h, body, kNow);
  EXPECT_EQ(wrong.verdict, Verdict::kMismatch) << wrong.detail;

  // Without its signature header (Slack: also without the timestamp header).
  for (const auto& [name, value] : h) {
    Headers without;
    for (const auto& kv : h) {
      if (kv.first != name) without.push_back(kv);
    }
    const auto m = Verify(vendor, kSecret, without, body, kNow);
    EXPECT_EQ(m.verdict, Verdict::kMissing) << name;
    EXPECT_NE(m.detail.find(name), std::string::npos) << m.detail;
  }
  // Nothing at all.
  EXPECT_EQ(Verify(vendor, kSecret, {}, body, kNow).verdict, Verdict::kMissing);
}

INSTANTIATE_TEST_SUITE_P(
    Vendors, EveryVendorTest,
    testing::Values(std::pair{Vendor::kGithub, std::string("github/issues-opened.json")},
                    std::pair{Vendor::kJira, std::string("jira/jira-issue_created.json")},
                    std::pair{Vendor::kSlack, std::string("slack/message-channel.json")},
                    std::pair{Vendor::kPagerduty,
                              std::string("pagerduty/v3/incident.triggered.json")},
                    std::pair{Vendor::kLinear, std::string("linear/Issue-create.json")},
                    std::pair{Vendor::kOpsgenie, std::string("opsgenie/Create.json")}),
    [](const auto& info) { return std::string(VendorName(info.param.first)); });

TEST(VerifyTest, SlackTimestampWindowIsFiveMinutesBothWays) {
  const std::string body = ReadFixture("slack/message-channel.json");
  for (const int64_t skew_s : {-300, -1, 0, 1, 300}) {
    EXPECT_TRUE(Verify(Vendor::kSlack, kSecret, Signed(Vendor::kSlack, body, kNow + skew_s * 1000),
                       body, kNow)
                    .ok())
        << skew_s;
  }
  for (const int64_t skew_s : {-301, 301, -86400}) {
    const auto v = Verify(Vendor::kSlack, kSecret,
                          Signed(Vendor::kSlack, body, kNow + skew_s * 1000), body, kNow);
    EXPECT_EQ(v.verdict, Verdict::kStale) << skew_s;
  }
}

TEST(VerifyTest, SlackSignatureCoversTheTimestamp) {
  // A captured request replayed with a fresh timestamp header fails the signature.
  const std::string body = ReadFixture("slack/message-channel.json");
  Headers h = Signed(Vendor::kSlack, body, kNow - 3600 * 1000);
  for (auto& [name, value] : h) {
    if (name == "X-Slack-Request-Timestamp") value = std::to_string(kNow / 1000);
  }
  EXPECT_EQ(Verify(Vendor::kSlack, kSecret, h, body, kNow).verdict, Verdict::kMismatch);
  h = {{"X-Slack-Request-Timestamp", "yesterday"}, {"X-Slack-Signature", "v0=00"}};
  EXPECT_EQ(Verify(Vendor::kSlack, kSecret, h, body, kNow).verdict, Verdict::kMalformed);
}

TEST(VerifyTest, LinearWebhookTimestampWithinSixtySeconds) {
  auto body_at = [](int64_t ms) {
    return R"({"action":"create","type":"Issue","data":{"id":"x"},"webhookTimestamp":)" +
           std::to_string(ms) + "}";
  };
  for (const int64_t skew : {-60000, -1000, 0, 59999}) {
    const std::string body = body_at(kNow + skew);
    EXPECT_TRUE(Verify(Vendor::kLinear, kSecret, Signed(Vendor::kLinear, body), body, kNow).ok())
        << skew;
  }
  for (const int64_t skew : {-60001, 61000, -3600000}) {
    const std::string body = body_at(kNow + skew);
    EXPECT_EQ(Verify(Vendor::kLinear, kSecret, Signed(Vendor::kLinear, body), body, kNow).verdict,
              Verdict::kStale)
        << skew;
  }
  // Signed, but no timestamp to check: refused.
  const std::string none = R"({"action":"create","type":"Issue"})";
  EXPECT_EQ(Verify(Vendor::kLinear, kSecret, Signed(Vendor::kLinear, none), none, kNow).verdict,
            Verdict::kMalformed);
}

TEST(VerifyTest, PagerdutyAcceptsAnyOfSeveralV1Signatures) {
  const std::string body = ReadFixture("pagerduty/v3/incident.triggered.json");
  const std::string old_sig = Signed(Vendor::kPagerduty, body, kNow, kOther)[0].second;
  const std::string new_sig = Signed(Vendor::kPagerduty, body, kNow, kSecret)[0].second;
  // During rotation PagerDuty signs with both secrets: either order, with or without spaces.
  for (const std::string& header :
       {old_sig + "," + new_sig, new_sig + ", " + old_sig, "v2=abc," + new_sig}) {
    EXPECT_TRUE(
        Verify(Vendor::kPagerduty, kSecret, {{"X-PagerDuty-Signature", header}}, body, kNow).ok())
        << header;
  }
  const std::string third =
      Signed(Vendor::kPagerduty, body, kNow, "another-secret-000000")[0].second;
  EXPECT_EQ(Verify(Vendor::kPagerduty, kSecret, {{"X-PagerDuty-Signature", old_sig + "," + third}},
                   body, kNow)
                .verdict,
            Verdict::kMismatch);
  EXPECT_EQ(
      Verify(Vendor::kPagerduty, kSecret, {{"X-PagerDuty-Signature", "v1=nothex"}}, body, kNow)
          .verdict,
      Verdict::kMalformed);
}

TEST(VerifyTest, GithubAndJiraNeedTheSha256Prefix) {
  const std::string body = "{}";
  const std::string hex = secrets::Hex(secrets::HmacSha256(kSecret, body));
  EXPECT_EQ(Verify(Vendor::kGithub, kSecret, {{"X-Hub-Signature-256", hex}}, body, kNow).verdict,
            Verdict::kMalformed);
  EXPECT_EQ(
      Verify(Vendor::kJira, kSecret, {{"X-Hub-Signature", "sha1=" + hex}}, body, kNow).verdict,
      Verdict::kMalformed);
  // Jira's header is X-Hub-Signature, not GitHub's -256 one.
  EXPECT_EQ(Verify(Vendor::kJira, kSecret, {{"X-Hub-Signature-256", "sha256=" + hex}}, body, kNow)
                .verdict,
            Verdict::kMissing);
  EXPECT_TRUE(
      Verify(Vendor::kJira, kSecret, {{"X-Hub-Signature", "sha256=" + hex}}, body, kNow).ok());
}

TEST(VerifyTest, DetailsNeverQuoteSecretsOrSignatures) {
  const std::string body = "{\"secret-looking\":1}";
  const Headers h = {{"X-Hub-Signature-256", "sha256=" + std::string(64, 'a')}};
  const auto v = Verify(Vendor::kGithub, kSecret, h, body, kNow);
  EXPECT_EQ(v.detail.find(std::string(64, 'a')), std::string::npos);
  EXPECT_EQ(v.detail.find(kSecret), std::string::npos);
  EXPECT_EQ(v.detail.find("secret-looking"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// The request handling, with a producer that records what it was given

class FakeProducer final : public ingest::RecordProducer {
 public:
  struct Record {
    std::string topic, key;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string value;
  };
  Status Produce(const std::string&, const std::string&,
                 const std::vector<std::pair<std::string, std::string>>&,
                 const std::string&) override {
    return Error("not used");
  }
  Status Flush(int) override { return Status::Ok(); }
  ingest::Delivery ProduceAndWait(const std::string& topic, const std::string& key,
                                  const std::vector<std::pair<std::string, std::string>>& headers,
                                  const std::string& value) override {
    std::lock_guard lock(mu);
    if (answer.outcome == ingest::Delivery::Outcome::kAcknowledged) {
      records.push_back({topic, key, headers, value});
    }
    return answer;
  }
  Status CheckReachable(int) override { return Status::Ok(); }

  std::mutex mu;
  ingest::Delivery answer{ingest::Delivery::Outcome::kAcknowledged, ""};
  std::vector<Record> records;
};

class CountingObserver final : public GatewayObserver {
 public:
  void OnRequest(std::string_view source, Outcome outcome, double seconds) override {
    std::lock_guard lock(mu);
    EXPECT_GE(seconds, 0);
    ++counts[std::string(source) + "/" + std::string(OutcomeName(outcome))];
  }
  std::mutex mu;
  std::map<std::string, int> counts;
};

class GatewayTest : public testing::Test {
 protected:
  GatewayTest()
      : loggers_("error"),
        gateway_({{Vendor::kGithub, "webhooks.github", std::string(kSecret)},
                  {Vendor::kSlack, "webhooks.slack", std::string(kSecret)},
                  {Vendor::kLinear, "webhooks.linear", std::string(kSecret)},
                  {Vendor::kOpsgenie, "webhooks.opsgenie", std::string(kSecret)}},
                 producer_, observer_, loggers_.Get("gateway"), [] { return kNow; }) {}

  HookResponse Post(const std::string& source, const Headers& headers, std::string_view body) {
    return gateway_.Handle({.method = "POST", .source = source, .headers = headers, .body = body});
  }

  logging::Loggers loggers_;
  FakeProducer producer_;
  CountingObserver observer_;
  Gateway gateway_;
};

TEST_F(GatewayTest, AcceptedBodyIsProducedVerbatimWithTheVendorHeaders) {
  const std::string body = ReadFixture("github/issues-opened.json");
  Headers h = Signed(Vendor::kGithub, body);
  h.insert(h.end(), {{"X-GitHub-Event", "issues"},
                     {"x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
                     {"Content-Type", "application/json"},
                     {"User-Agent", "GitHub-Hookshot/044aadd"},
                     {"Authorization", "Bearer do-not-forward"},
                     {"Cookie", "session=do-not-forward"},
                     {"X-Forwarded-For", "203.0.113.9"}});
  const auto r = Post("github", h, body);
  EXPECT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(producer_.records.size(), 1u);
  const auto& rec = producer_.records[0];
  EXPECT_EQ(rec.topic, "webhooks.github");
  EXPECT_EQ(rec.value, body);  // byte for byte
  const Headers want = {{"X-GitHub-Event", "issues"},
                        {"x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
                        {"Content-Type", "application/json"},
                        {"User-Agent", "GitHub-Hookshot/044aadd"}};
  EXPECT_EQ(rec.headers, want);  // no signature, no Authorization, no cookie, no proxy header
  EXPECT_EQ(observer_.counts["github/accepted"], 1);
}

TEST_F(GatewayTest, BadSignatureIs401AndNothingIsProduced) {
  const std::string body = ReadFixture("github/issues-opened.json");
  const Headers h = Signed(Vendor::kGithub, body, kNow, kOther);
  EXPECT_EQ(Post("github", h, body).status, 401);
  EXPECT_EQ(Post("github", {}, body).status, 401);
  std::string tampered = body;
  tampered.back() = ' ';
  EXPECT_EQ(Post("github", Signed(Vendor::kGithub, body), tampered).status, 401);
  EXPECT_TRUE(producer_.records.empty());
  EXPECT_EQ(observer_.counts["github/bad_signature"], 3);
}

TEST_F(GatewayTest, StaleSlackAndLinearAre401Stale) {
  const std::string body = ReadFixture("slack/message-channel.json");
  EXPECT_EQ(Post("slack", Signed(Vendor::kSlack, body, kNow - 600 * 1000), body).status, 401);
  const std::string linear = R"({"action":"create","type":"Issue","webhookTimestamp":)" +
                             std::to_string(kNow - 120000) + "}";
  EXPECT_EQ(Post("linear", Signed(Vendor::kLinear, linear), linear).status, 401);
  EXPECT_TRUE(producer_.records.empty());
  EXPECT_EQ(observer_.counts["slack/stale"], 1);
  EXPECT_EQ(observer_.counts["linear/stale"], 1);
}

TEST_F(GatewayTest, SlackUrlVerificationIsAnsweredAfterTheSignatureAndNotProduced) {
  const std::string body = ReadFixture("slack/url_verification.json");
  EXPECT_EQ(Post("slack", {}, body).status, 401);  // unsigned: no challenge for strangers
  const auto r = Post("slack", Signed(Vendor::kSlack, body), body);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_NE(r.body.find("\"challenge\":\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("valid_challenge_token"), std::string::npos) << r.body;
  EXPECT_TRUE(producer_.records.empty());
  EXPECT_EQ(observer_.counts["slack/challenge"], 1);
}

TEST_F(GatewayTest, UnknownSourceMethodAndSize) {
  EXPECT_EQ(Post("gitlab", {}, "{}").status, 404);
  EXPECT_EQ(Post("pagerduty", {}, "{}").status, 404);  // a vendor, but not configured
  EXPECT_EQ(observer_.counts["unknown/unknown_source"], 2);
  const auto get = gateway_.Handle({.method = "GET", .source = "github"});
  EXPECT_EQ(get.status, 405);
  ASSERT_EQ(get.headers.size(), 1u);
  EXPECT_EQ(get.headers[0], (std::pair<std::string, std::string>{"Allow", "POST"}));
  const auto big = gateway_.Handle({.method = "POST", .source = "github", .too_large = true});
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(observer_.counts["github/method_not_allowed"], 1);
  EXPECT_EQ(observer_.counts["github/too_large"], 1);
  EXPECT_TRUE(producer_.records.empty());
}

TEST_F(GatewayTest, KafkaNotAcknowledgingIs503AndTooLargeForKafkaIs413) {
  const std::string body = ReadFixture("opsgenie/Create.json");
  const Headers h = Signed(Vendor::kOpsgenie, body);
  producer_.answer = {ingest::Delivery::Outcome::kUnavailable, "Local: Message timed out"};
  const auto r = Post("opsgenie", h, body);
  EXPECT_EQ(r.status, 503);
  ASSERT_FALSE(r.headers.empty());
  EXPECT_EQ(r.headers[0].first, "Retry-After");
  producer_.answer = {ingest::Delivery::Outcome::kTooLarge, "Broker: Message size too large"};
  EXPECT_EQ(Post("opsgenie", h, body).status, 413);
  producer_.answer = {ingest::Delivery::Outcome::kAcknowledged, ""};
  EXPECT_EQ(Post("opsgenie", h, body).status, 200);
  EXPECT_EQ(observer_.counts["opsgenie/kafka_unavailable"], 1);
  EXPECT_EQ(observer_.counts["opsgenie/too_large"], 1);
  EXPECT_EQ(observer_.counts["opsgenie/accepted"], 1);
  // The token header is a secret: it never travels to Kafka.
  ASSERT_EQ(producer_.records.size(), 1u);
  for (const auto& [name, value] : producer_.records[0].headers) {
    EXPECT_NE(value, kSecret) << name;
  }
}

TEST(RecordHeadersTest, OnlyTheVendorsOwnHeadersTravel) {
  const Headers in = {{"X-Atlassian-Webhook-Identifier", "abc"},
                      {"X-Hub-Signature", "sha256=00"},
                      {"X-GitHub-Event", "issues"},
                      {"Linear-Delivery", "d1"},
                      {"Linear-Signature", "00"},
                      {"X-PagerDuty-Signature", "v1=00"},
                      {"X-PagerDuty-Webhook-Subscription-Id", "PXYZ"},
                      {"X-Teamhealth-Token", "secret"},
                      {"content-type", "application/json"}};
  EXPECT_EQ(RecordHeaders(Vendor::kJira, in), (Headers{{"X-Atlassian-Webhook-Identifier", "abc"},
                                                       {"content-type", "application/json"}}));
  EXPECT_EQ(RecordHeaders(Vendor::kLinear, in),
            (Headers{{"Linear-Delivery", "d1"}, {"content-type", "application/json"}}));
  EXPECT_EQ(RecordHeaders(Vendor::kPagerduty, in),
            (Headers{{"X-PagerDuty-Webhook-Subscription-Id", "PXYZ"},
                     {"content-type", "application/json"}}));
  EXPECT_EQ(RecordHeaders(Vendor::kOpsgenie, in), (Headers{{"content-type", "application/json"}}));
}

TEST(GatewayCreateTest, SecretFilesAreReadAndNamedInErrors) {
  const std::string dir = testing::TempDir();
  const std::string good = dir + "/gw-good.secret", shortf = dir + "/gw-short.secret";
  std::ofstream(good) << kSecret << "\n";
  std::ofstream(shortf) << "short\n";
  config::GatewayConfig c;
  c.sources = {{"github", "webhooks.github", good}};
  EXPECT_TRUE(CheckSecrets(c).ok());
  c.sources.push_back({"slack", "webhooks.slack", shortf});
  auto s = CheckSecrets(c);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("gateway.sources.slack.secret_file"), std::string::npos)
      << s.error().message();
  c.sources[1].secret_file = dir + "/gw-missing.secret";
  s = CheckSecrets(c);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("gw-missing.secret"), std::string::npos);
  FakeProducer producer;
  CountingObserver observer;
  logging::Loggers loggers("error");
  EXPECT_FALSE(Gateway::Create(c, producer, observer, loggers.Get("g")).ok());
  c.sources.pop_back();
  auto g = Gateway::Create(c, producer, observer, loggers.Get("g"));
  ASSERT_TRUE(g.ok()) << g.error().message();
  EXPECT_EQ((*g)->SourceNames(), std::vector<std::string>{"github"});
}

}  // namespace
}  // namespace teamhealth::gateway
