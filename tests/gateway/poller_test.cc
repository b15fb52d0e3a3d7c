#include "teamhealth/gateway/poller.h"

#include <gtest/gtest.h>

#include <deque>
#include <fstream>
#include <map>
#include <sstream>

#include "teamhealth/gateway/shifts.h"
#include "teamhealth/logging/logging.h"
#include "teamhealth/sources/source.h"

namespace teamhealth::gateway {
namespace {

// 2026-03-02T22:14:05Z
constexpr EpochMillis kNow = 1772489645000;
constexpr EpochMillis kDay = 86400000;
constexpr EpochMillis kMar1 = 1772323200000;   // 2026-03-01T00:00:00Z
constexpr EpochMillis kMar2 = 1772409600000;   // 2026-03-02T00:00:00Z
constexpr EpochMillis kMar16 = 1773619200000;  // 2026-03-16T00:00:00Z

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string PagerDutyFixture() {
  return Read(std::string(TEAMHEALTH_FIXTURES_DIR) + "/pagerduty/rest-api/GET-oncalls.json");
}

std::string OpsgenieFixture() {
  return Read(std::string(TEAMHEALTH_GATEWAY_TESTDATA) + "/opsgenie-timeline.json");
}

// A PagerDuty /oncalls page of the given entries (user, schedule or "" for a direct user
// target, level, start, end; "" = null).
struct Oncall {
  std::string user, schedule;
  int level;
  std::string start, end;
};
std::string PagerDutyPageJson(const std::vector<Oncall>& oncalls, bool more, int offset,
                              int limit) {
  std::string out = R"({"oncalls":[)";
  for (size_t i = 0; i < oncalls.size(); ++i) {
    const auto& o = oncalls[i];
    if (i > 0) out += ",";
    out += R"({"user":{"id":")" + o.user + R"(","type":"user_reference","summary":"U"},)";
    out += o.schedule.empty() ? std::string(R"("schedule":null,)")
                              : R"("schedule":{"id":")" + o.schedule +
                                    R"(","type":"schedule_reference","summary":"Primary"},)";
    out += R"("escalation_policy":{"id":"PEP1","summary":"Engineering"},)";
    out += R"("escalation_level":)" + std::to_string(o.level) + ",";
    out += R"("start":)" + (o.start.empty() ? "null" : "\"" + o.start + "\"") + ",";
    out += R"("end":)" + (o.end.empty() ? "null" : "\"" + o.end + "\"") + "}";
  }
  out += "],\"limit\":" + std::to_string(limit) + ",\"offset\":" + std::to_string(offset) +
         ",\"more\":" + (more ? "true" : "false") + ",\"total\":null}";
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parsing

TEST(ShiftsTest, PagerDutyFixtureParsesIntoItsShift) {
  const Window w = PollWindow(kNow, 14);
  auto page = ParsePagerDutyOncalls(PagerDutyFixture(), w);
  ASSERT_TRUE(page) << page.error().message();
  EXPECT_FALSE(page->more);
  EXPECT_EQ(page->limit, 25);
  ASSERT_EQ(page->shifts.size(), 1u);
  // "start": "2015-03-06T15:28:51-05:00", "end": "2015-03-07T15:28:51-05:00"
  const Shift want{.vendor = "pagerduty",
                   .slot = "pagerduty:PI7DH85",
                   .title = "Daily Engineering Rotation",
                   .level = 2,
                   .person = "pagerduty:PT23IWX",
                   .start = 1425673731000,
                   .end = 1425760131000};
  EXPECT_EQ(page->shifts[0], want);
}

TEST(ShiftsTest, PagerDutyDirectUserTargetsAndPermanentOncalls) {
  const Window w = PollWindow(kNow, 14);
  auto page = ParsePagerDutyOncalls(
      PagerDutyPageJson({{"PU1", "", 1, "", ""},
                         {"PU2", "PS1", 3, "2026-03-02T09:00:00Z", "2026-03-03T09:00:00Z"},
                         {"", "PS1", 1, "2026-03-02T09:00:00Z", "2026-03-03T09:00:00Z"}},
                        true, 0, 3),
      w);
  ASSERT_TRUE(page) << page.error().message();
  EXPECT_TRUE(page->more);
  ASSERT_EQ(page->shifts.size(), 2u);  // the entry without a user is nobody on call
  EXPECT_EQ(page->shifts[0].slot, "pagerduty:PEP1:user:PU1");
  EXPECT_EQ(page->shifts[0].title, "Engineering");
  EXPECT_EQ(page->shifts[0].start, w.since);  // permanent: the window
  EXPECT_EQ(page->shifts[0].end, w.until);
  EXPECT_EQ(page->shifts[1].slot, "pagerduty:PS1");
  EXPECT_EQ(page->shifts[1].level, 3);
  EXPECT_EQ(page->shifts[1].start, 1772442000000);
}

TEST(ShiftsTest, PagerDutyRejectsWhatIsNotItsShape) {
  const Window w = PollWindow(kNow, 14);
  EXPECT_FALSE(ParsePagerDutyOncalls("not json", w));
  EXPECT_FALSE(ParsePagerDutyOncalls(R"({"error":{"code":2001}})", w));
  EXPECT_FALSE(ParsePagerDutyOncalls(
      PagerDutyPageJson({{"PU2", "PS1", 1, "yesterday", "2026-03-03T09:00:00Z"}}, false, 0, 1),
      w));
}

TEST(ShiftsTest, OpsgenieTimelineParsesUsersPerRotationAndMergesSplitStints) {
  auto shifts = ParseOpsgenieTimeline(OpsgenieFixture(), "S1");
  ASSERT_TRUE(shifts) << shifts.error().message();
  ASSERT_EQ(shifts->size(), 3u);
  const std::string first = "opsgenie:S1:a47alp93-0541-4aa4-b3e5-6e7db9a5d6a0";
  // user1's two periods (historical up to "now", then default) are one shift
  EXPECT_EQ((*shifts)[0], (Shift{.vendor = "opsgenie",
                                 .slot = first,
                                 .title = "ScheduleName",
                                 .level = 1,
                                 .person = "opsgenie:user1@opsgenie.com",
                                 .start = kMar1,
                                 .end = 1772528400000}));
  EXPECT_EQ((*shifts)[1].person, "opsgenie:user2@opsgenie.com");  // the override
  EXPECT_EQ((*shifts)[1].slot, first);
  EXPECT_EQ((*shifts)[1].start, 1772528400000);
  EXPECT_EQ((*shifts)[1].end, 1772614800000);
  // the second rotation is its own slot; its team period is nobody in particular
  EXPECT_EQ((*shifts)[2].slot, "opsgenie:S1:2dalp17a-fd32-4bc4-b7d2-5c2b7dd7cba4");
  EXPECT_EQ((*shifts)[2].start, 1773446400000);
  EXPECT_FALSE(ParseOpsgenieTimeline(R"({"message":"Could not authenticate"})", "S1"));
}

TEST(ShiftsTest, EventJsonIsAcceptedByTheCanonicalSource) {
  const Shift s{.vendor = "pagerduty",
                .slot = "pagerduty:PI7DH85",
                .title = "Daily Engineering Rotation",
                .level = 2,
                .person = "pagerduty:PT23IWX",
                .start = 1425673731000,
                .end = 1425760131000};
  const std::string json = ShiftEventJson(s, kNow);
  auto registry = sources::MakeSourceRegistry();
  sources::Source* canonical = registry->Find("canonical");
  ASSERT_NE(canonical, nullptr);
  sources::RawRecord r;
  r.topic = "teamhealth.canonical";
  r.value = json;
  sources::NormalizeResult out;
  canonical->Normalize(r, out);
  ASSERT_FALSE(out.rejection.has_value()) << out.rejection->detail << "\n" << json;
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].id(), ShiftEventId(s));
  EXPECT_EQ(out.events[0].type(), "oncall.shift");
  EXPECT_EQ(out.events[0].subject().kind(), "schedule");
  EXPECT_EQ(out.events[0].subject().id(), "pagerduty:PI7DH85");
  EXPECT_NE(json.find(R"("occurred_at":"2026-03-02T22:14:05.000Z","actor":null)"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("attrs":{"person":"pagerduty:PT23IWX","level":2,)"
                      R"("start":"2015-03-06T20:28:51.000Z","end":"2015-03-07T20:28:51.000Z"})"),
            std::string::npos)
      << json;
}

// ---------------------------------------------------------------------------------------------
// Windows and dedup ids

TEST(ShiftsTest, WindowIsTheSameAllDayAndMovesAtUtcMidnight) {
  const Window w = PollWindow(kNow, 14);
  EXPECT_EQ(w.since, kMar1);
  EXPECT_EQ(w.until, kMar16);
  const Window morning = PollWindow(kMar2, 14);
  const Window night = PollWindow(kMar2 + kDay - 1, 14);
  EXPECT_EQ(morning.since, w.since);
  EXPECT_EQ(night.until, w.until);
  const Window next = PollWindow(kMar2 + kDay, 14);
  EXPECT_EQ(next.since, w.since + kDay);
  EXPECT_EQ(next.until, w.until + kDay);
  EXPECT_EQ(PollWindow(kNow, 1).until, kMar2 + kDay);
  // window_days may be 90; PagerDuty takes 90 days at most, yesterday included.
  const Window longest = PollWindow(kNow, 90);
  EXPECT_EQ(longest.until - longest.since, 90 * kDay);
}

TEST(ShiftsTest, DedupIdIsStableAndChangesWithAnyFieldOfTheShift) {
  const Shift s{.vendor = "pagerduty",
                .slot = "pagerduty:PS1",
                .title = "Primary",
                .level = 1,
                .person = "pagerduty:PU1",
                .start = kMar2,
                .end = kMar2 + kDay};
  const std::string id = ShiftEventId(s);
  EXPECT_EQ(id.rfind("canonical:shift-", 0), 0u) << id;
  EXPECT_EQ(id, ShiftEventId(Shift(s)));
  Shift retitled = s;
  retitled.title = "Renamed";  // not part of the identity
  EXPECT_EQ(ShiftEventId(retitled), id);
  std::vector<Shift> changed(6, s);
  changed[0].vendor = "opsgenie";
  changed[1].slot = "pagerduty:PS2";
  changed[2].level = 2;
  changed[3].person = "pagerduty:PU2";
  changed[4].start += 1;
  changed[5].end -= 1;
  for (const auto& c : changed) EXPECT_NE(ShiftEventId(c), id);
}

TEST(ShiftsTest, ProducedShiftsKnowRepeatsAndTheStartClippedRemainder) {
  const Shift s{.vendor = "pagerduty",
                .slot = "pagerduty:PS1",
                .level = 1,
                .person = "pagerduty:PU1",
                .start = kMar1 + 9 * 3600000,
                .end = kMar1 + 5 * kDay};
  ProducedShifts produced;
  const Window w = PollWindow(kNow, 14);
  EXPECT_FALSE(produced.Known(s, w));
  produced.Remember(s);
  EXPECT_TRUE(produced.Known(s, w));
  // Two days on, a vendor that clips to the range answers the same shift from `since`.
  const Window later = PollWindow(kNow + 2 * kDay, 14);
  Shift clipped = s;
  clipped.start = later.since;
  EXPECT_TRUE(produced.Known(clipped, later));
  // Cut short by an override: new.
  Shift shortened = s;
  shortened.end -= kDay;
  EXPECT_FALSE(produced.Known(shortened, w));
  // Someone else from the same instant: new.
  Shift other = clipped;
  other.person = "pagerduty:PU2";
  EXPECT_FALSE(produced.Known(other, later));
  produced.Forget(s.end + 1);
  EXPECT_EQ(produced.size(), 0u);
}

// ---------------------------------------------------------------------------------------------
// Retries

TEST(RetryTest, RateLimitWaitsForRetryAfter) {
  EXPECT_EQ(RetryDelayMs(429, "7", 0, 0.5, kNow), 7000);
  EXPECT_EQ(RetryDelayMs(429, "0", 3, 0.5, kNow), 0);
  // An HTTP date: 2026-03-02T22:14:35Z is 30 s after kNow.
  EXPECT_EQ(RetryDelayMs(429, "Mon, 02 Mar 2026 22:14:35 GMT", 0, 0.5, kNow), 30000);
  // Without a usable Retry-After: the backoff.
  EXPECT_EQ(RetryDelayMs(429, "", 0, 1.0, kNow), 1000);
  EXPECT_EQ(RetryDelayMs(429, "soon", 1, 1.0, kNow), 2000);
  // Longer than we wait within one poll: give up until the next.
  EXPECT_FALSE(RetryDelayMs(429, "3600", 0, 0.5, kNow));
  EXPECT_FALSE(RetryDelayMs(429, "7", RetryPolicy::kMaxRetries, 0.5, kNow));
}

TEST(RetryTest, ServerErrorsBackOffExponentiallyJitteredAndBounded) {
  for (int attempt = 0; attempt < RetryPolicy::kMaxRetries; ++attempt) {
    const int64_t full = std::min<int64_t>(1000LL << attempt, RetryPolicy::kMaxMs);
    EXPECT_EQ(RetryDelayMs(503, "", attempt, 1.0, kNow), full) << attempt;
    EXPECT_EQ(RetryDelayMs(500, "", attempt, 0.0, kNow), full / 2) << attempt;
    EXPECT_EQ(RetryDelayMs(0, "", attempt, 0.5, kNow), full * 3 / 4) << attempt;
  }
  EXPECT_FALSE(RetryDelayMs(503, "", RetryPolicy::kMaxRetries, 0.5, kNow));
  // A 5xx's Retry-After is not a rate limit: the backoff applies.
  EXPECT_EQ(RetryDelayMs(503, "120", 0, 1.0, kNow), 1000);
  for (int status : {400, 401, 403, 404, 302}) {
    EXPECT_FALSE(RetryDelayMs(status, "1", 0, 0.5, kNow)) << status;
  }
}

// ---------------------------------------------------------------------------------------------
// The poll, with a scripted HTTP server and a recording producer

class ScriptedHttp final : public HttpGetter {
 public:
  HttpAnswer Get(const std::string& url, const Headers& headers) override {
    requests.push_back({url, headers});
    if (answers.empty()) return {.status = 0, .error = "no answer scripted"};
    HttpAnswer a = answers.front();
    answers.pop_front();
    return a;
  }
  struct Request {
    std::string url;
    Headers headers;
  };
  std::deque<HttpAnswer> answers;
  std::vector<Request> requests;
};

class RecordingProducer final : public ingest::RecordProducer {
 public:
  Status Produce(const std::string&, const std::string&,
                 const std::vector<std::pair<std::string, std::string>>&,
                 const std::string&) override {
    return Error("not used");
  }
  Status Flush(int) override { return Status::Ok(); }
  ingest::Delivery ProduceAndWait(const std::string& topic, const std::string& key,
                                  const std::vector<std::pair<std::string, std::string>>&,
                                  const std::string& value) override {
    if (answer.outcome == ingest::Delivery::Outcome::kAcknowledged) {
      records.push_back({topic, key, value});
    }
    return answer;
  }
  Status CheckReachable(int) override { return Status::Ok(); }
  struct Record {
    std::string topic, key, value;
  };
  ingest::Delivery answer{ingest::Delivery::Outcome::kAcknowledged, ""};
  std::vector<Record> records;
};

class CountingPollObserver final : public PollerObserver {
 public:
  void OnPoll(std::string_view vendor, PollOutcome outcome) override {
    ++polls[std::string(vendor) + "/" + std::string(PollOutcomeName(outcome))];
  }
  void OnRetry(std::string_view) override { ++retries; }
  void OnShiftsProduced(std::string_view, int count) override { produced += count; }
  void OnPollSucceeded(std::string_view, EpochMillis unix_ms) override { last_success = unix_ms; }
  std::map<std::string, int> polls;
  int retries = 0;
  int produced = 0;
  EpochMillis last_success = 0;
};

class PollerTest : public testing::Test {
 protected:
  void Make(config::GatewayScheduleConfig c) {
    auto http = std::make_unique<ScriptedHttp>();
    http_ = http.get();
    poller_ = std::make_unique<SchedulePoller>(
        std::vector<ScheduleSetup>{{std::move(c), "tok-0123456789abcdef"}}, "teamhealth.canonical",
        std::move(http), producer_, observer_, loggers_.Get("poller"), [this] { return now_; },
        [this](int64_t ms) {
          waits_.push_back(ms);
          now_ += ms;
          return true;
        },
        [] { return 0.5; });
  }
  static config::GatewayScheduleConfig PagerDuty() {
    return {.vendor = "pagerduty",
            .api_url = "http://127.0.0.1:1/",
            .token_file = "unused",
            .schedule_ids = {"PS1"}};
  }
  static HttpAnswer Ok(std::string body) { return {.status = 200, .body = std::move(body)}; }

  logging::Loggers loggers_{"error"};
  RecordingProducer producer_;
  CountingPollObserver observer_;
  ScriptedHttp* http_ = nullptr;
  std::unique_ptr<SchedulePoller> poller_;
  EpochMillis now_ = kNow;
  std::vector<int64_t> waits_;
};

TEST_F(PollerTest, PagerDutyPagesAreFollowedWithOffsetAndTheTokenInAHeader) {
  Make(PagerDuty());
  http_->answers = {
      Ok(PagerDutyPageJson({{"PU1", "PS1", 1, "2026-03-01T09:00:00Z", "2026-03-02T09:00:00Z"},
                            {"PU2", "PS1", 1, "2026-03-02T09:00:00Z", "2026-03-03T09:00:00Z"}},
                           true, 0, 2)),
      Ok(PagerDutyPageJson({{"PU3", "PS1", 1, "2026-03-03T09:00:00Z", "2026-03-04T09:00:00Z"}},
                           false, 2, 2))};
  EXPECT_EQ(poller_->PollOnce(0), PollOutcome::kOk);
  ASSERT_EQ(http_->requests.size(), 2u);
  const std::string& first = http_->requests[0].url;
  EXPECT_EQ(first.rfind("http://127.0.0.1:1/oncalls?schedule_ids%5B%5D=PS1&", 0), 0u) << first;
  EXPECT_NE(first.find("since=2026-03-01T00%3A00%3A00.000Z"), std::string::npos) << first;
  EXPECT_NE(first.find("until=2026-03-16T00%3A00%3A00.000Z"), std::string::npos) << first;
  EXPECT_NE(first.find("&offset=0"), std::string::npos) << first;
  EXPECT_NE(http_->requests[1].url.find("&offset=2"), std::string::npos);
  EXPECT_EQ(http_->requests[0].headers,
            (Headers{{"Authorization", "Token token=tok-0123456789abcdef"},
                     {"Accept", "application/vnd.pagerduty+json;version=2"}}));
  ASSERT_EQ(producer_.records.size(), 3u);
  for (const auto& r : producer_.records) {
    EXPECT_EQ(r.topic, "teamhealth.canonical");
    EXPECT_EQ(r.key, "pagerduty:PS1");
  }
  EXPECT_NE(producer_.records[2].value.find("pagerduty:PU3"), std::string::npos);
  EXPECT_EQ(observer_.produced, 3);
  EXPECT_EQ(observer_.polls["pagerduty/ok"], 1);
  EXPECT_EQ(observer_.last_success, kNow);
}

TEST_F(PollerTest, RepeatedPollsAddNothingAndAnOverrideAddsOnlyTheChange) {
  Make(PagerDuty());
  const Oncall a{"PU1", "PS1", 1, "2026-03-02T09:00:00Z", "2026-03-03T09:00:00Z"};
  const Oncall b{"PU2", "PS1", 1, "2026-03-03T09:00:00Z", "2026-03-04T09:00:00Z"};
  const std::string page = PagerDutyPageJson({a, b}, false, 0, 100);
  http_->answers = {Ok(page), Ok(page)};
  EXPECT_EQ(poller_->PollOnce(0), PollOutcome::kOk);
  now_ += 60000;
  EXPECT_EQ(poller_->PollOnce(0), PollOutcome::kOk);
  EXPECT_EQ(producer_.records.size(), 2u);
  // PU3 takes the first half of PU1's shift: PagerDuty now answers three on-calls.
  http_->answers = {Ok(PagerDutyPageJson(
      {{"PU3", "PS1", 1, "2026-03-02T09:00:00Z", "2026-03-02T21:00:00Z"},
       {"PU1", "PS1", 1, "2026-03-02T21:00:00Z", "2026-03-03T09:00:00Z"}, b},
      false, 0, 100))};
  now_ += 60000;
  EXPECT_EQ(poller_->PollOnce(0), PollOutcome::kOk);
  ASSERT_EQ(producer_.records.size(), 4u);
  EXPECT_NE(producer_.records[2].value.find("pagerduty:PU3"), std::string::npos);
  EXPECT_NE(producer_.records[3].value.find(R"("start":"2026-03-02T21:00:00.000Z")"),
            std::string::npos);
  // occurred_at is the poll that first saw the shift
  EXPECT_NE(producer_.records[2].value.find(R"("occurred_at":"2026-03-02T22:16:05.000Z")"),
            std::string::npos)
      << producer_.records[2].value;
}

TEST_F(PollerTest, RateLimitIsRetriedAfterRetryAfterAndCounted) {
  Make(PagerDuty());
  const std::string page = PagerDutyFixture();
  http_->answers = {{.status = 429, .retry_after = "3"}, {.status = 502}, Ok(page)};
  EXPECT_EQ(poller_->PollOnce(0), PollOutcome::kOk);
  EXPECT_EQ(waits_, (std::vector<int64_t>{3000, 1500}));  // Retry-After; then 2 s * 0.75
  EXPECT_EQ(observer_.retries, 2);
  EXPECT_EQ(producer_.records.size(), 1u);
}

TEST_F(PollerTest, ClientErrorsAreNotRetriedAndServerErrorsGiveUpAfterTheLastRetry) {
  Make(PagerDuty());
  http_->answers = {{.status = 401, .body = R"({"error":"bad token"})"}};
  EXPECT_EQ(poller_->PollOnce(0), PollOutcome::kClientError);
  EXPECT_EQ(http_->requests.size(), 1u);
  for (int i = 0; i <= RetryPolicy::kMaxRetries; ++i) http_->answers.push_back({.status = 503});
  EXPECT_EQ(poller_->PollOnce(0), PollOutcome::kServerError);
  EXPECT_EQ(http_->requests.size(), 2u + RetryPolicy::kMaxRetries);
  http_->answers = {Ok("<html>maintenance</html>")};
  EXPECT_EQ(poller_->PollOnce(0), PollOutcome::kBadResponse);
  EXPECT_EQ(observer_.polls["pagerduty/client_error"], 1);
  EXPECT_EQ(observer_.polls["pagerduty/server_error"], 1);
  EXPECT_EQ(observer_.polls["pagerduty/bad_response"], 1);
  EXPECT_EQ(observer_.last_success, 0);
  EXPECT_TRUE(producer_.records.empty());
}

TEST_F(PollerTest, AShiftKafkaDidNotAcknowledgeIsProducedByTheNextPoll) {
  Make(PagerDuty());
  const std::string page = PagerDutyFixture();
  http_->answers = {Ok(page), Ok(page)};
  producer_.answer = {ingest::Delivery::Outcome::kUnavailable, "timed out"};
  EXPECT_EQ(poller_->PollOnce(0), PollOutcome::kKafkaUnavailable);
  producer_.answer = {ingest::Delivery::Outcome::kAcknowledged, ""};
  EXPECT_EQ(poller_->PollOnce(0), PollOutcome::kOk);
  EXPECT_EQ(producer_.records.size(), 1u);
}

TEST_F(PollerTest, OpsgenieAsksForTheTimelineOfEachScheduleWithGenieKey) {
  Make({.vendor = "opsgenie",
        .api_url = "https://api.eu.opsgenie.com",
        .token_file = "unused",
        .schedule_ids = {"S1"},
        .window_days = 14});
  http_->answers = {Ok(OpsgenieFixture()), Ok(OpsgenieFixture())};
  EXPECT_EQ(poller_->PollOnce(0), PollOutcome::kOk);
  ASSERT_EQ(http_->requests.size(), 1u);
  EXPECT_EQ(http_->requests[0].url,
            "https://api.eu.opsgenie.com/v2/schedules/S1/timeline?identifierType=id&date="
            "2026-03-01T00%3A00%3A00.000Z&interval=15&intervalUnit=days");
  EXPECT_EQ(http_->requests[0].headers,
            (Headers{{"Authorization", "GenieKey tok-0123456789abcdef"}}));
  EXPECT_EQ(producer_.records.size(), 3u);
  EXPECT_EQ(poller_->PollOnce(0), PollOutcome::kOk);
  EXPECT_EQ(producer_.records.size(), 3u);
}

}  // namespace
}  // namespace teamhealth::gateway
