// The synthetic organisation: deterministic per seed, and every vendor payload it writes is
// accepted by our own normalisers with the fields the golden files promise.
#include "teamhealth/generate/generator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "teamhealth/base/time.h"
#include "teamhealth/sources/event_json.h"
#include "teamhealth/sources/source.h"
#include "generated_record.h"

namespace teamhealth::generate {
namespace {

namespace fs = std::filesystem;

Output MustGenerate(const Options& options) {
  auto out = Generate(options);
  EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().message());
  return std::move(out).value();
}

sources::NormalizeResult Normalize(sources::SourceRegistry& registry, const Record& r) {
  sources::NormalizeResult result;
  testing::NormalizeRecord(registry, r, result);
  return result;
}

std::string ReadDir(const fs::path& dir) {
  std::string all;
  std::set<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) files.insert(entry.path());
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    all += path.filename().string() + "\n" + s.str();
  }
  return all;
}

fs::path TempDir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() /
                       ("teamhealth-generate-test-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  return dir;
}

TEST(GenerateTest, SameSeedGivesByteIdenticalFiles) {
  Options options;
  options.seed = 42;
  std::printf("seed=%llu\n", static_cast<unsigned long long>(options.seed));
  const fs::path a = TempDir("a"), b = TempDir("b");
  ASSERT_TRUE(WriteOutput(MustGenerate(options), a.string()).ok());
  ASSERT_TRUE(WriteOutput(MustGenerate(options), b.string()).ok());
  const std::string text = ReadDir(a);
  EXPECT_EQ(text, ReadDir(b));
  for (const char* file : {"jira.jsonl", "github.jsonl", "slack.jsonl", "pagerduty.jsonl",
                           "canonical.jsonl", "directory.toml"}) {
    EXPECT_TRUE(fs::exists(a / file)) << file;
  }
  options.seed = 43;
  const fs::path c = TempDir("c");
  ASSERT_TRUE(WriteOutput(MustGenerate(options), c.string()).ok());
  EXPECT_NE(text, ReadDir(c));
  fs::remove_all(a);
  fs::remove_all(b);
  fs::remove_all(c);
}

TEST(GenerateTest, RecordsAreInTimeOrderWithinTheWindow) {
  Options options;
  const Output out = MustGenerate(options);
  ASSERT_FALSE(out.records.empty());
  const EpochMillis start = options.end - options.days * 86'400'000LL;
  for (size_t i = 0; i < out.records.size(); ++i) {
    EXPECT_GE(out.records[i].at, start);
    EXPECT_LT(out.records[i].at, options.end);
    if (i > 0) {
      EXPECT_LE(out.records[i - 1].at, out.records[i].at);
    }
  }
}

TEST(GenerateTest, RejectsBadOptions) {
  Options options;
  options.teams = 65;
  EXPECT_FALSE(Validate(options).ok());
  options.teams = 64;
  options.people = 128;
  EXPECT_TRUE(Validate(options).ok());
  options = Options{};
  options.people = 3;  // fewer than two per team
  EXPECT_FALSE(Validate(options).ok());
  options = Options{};
  options.days = 0;
  EXPECT_FALSE(Generate(options).ok());
}

// Every record of several seeds and sizes normalises: no rejection, nothing ignored, and the
// events carry the record's time and unique ids.
TEST(GenerateTest, EveryPayloadNormalisesWithoutRejection) {
  auto registry = sources::MakeSourceRegistry();
  for (const uint64_t seed : {1ULL, 7ULL, 2026ULL}) {
    Options options;
    options.seed = seed;
    options.teams = seed == 7 ? 2 : 4;
    options.people = seed == 7 ? 9 : 24;
    std::printf("seed=%llu\n", static_cast<unsigned long long>(seed));
    const Output out = MustGenerate(options);
    std::set<std::string> ids;
    std::map<std::string, int> types;
    for (const Record& r : out.records) {
      const auto result = Normalize(*registry, r);
      ASSERT_FALSE(result.rejection.has_value())
          << r.source << " " << sources::ReasonName(result.rejection->reason) << " "
          << result.rejection->detail << "\n"
          << r.body;
      ASSERT_FALSE(result.ignored) << r.body;
      ASSERT_EQ(result.events.size(), 1u) << r.body;
      const schema::Event& e = result.events[0];
      // GitHub and Slack (event_time) carry whole seconds; the others milliseconds.
      EXPECT_EQ(e.occurred_at_ms() / 1000, r.at / 1000) << r.body;
      EXPECT_TRUE(ids.insert(e.id()).second) << "duplicate id " << e.id();
      ++types[e.type()];
    }
    for (const char* type :
         {"work_item.created", "work_item.status_changed", "work_item.assigned",
          "work_item.priority_changed", "work_item.commented", "pull_request.opened",
          "pull_request.reviewed", "pull_request.merged", "chat.message", "incident.triggered",
          "incident.acknowledged", "incident.escalated", "incident.reassigned", "incident.resolved",
          "oncall.shift"}) {
      EXPECT_GT(types[type], 0) << type << " seed=" << seed;
    }
  }
}

// Consecutive periods generated with different seeds go into one log (ops/bench/
// scale_bench.sh): no event id of one is an id of the other, except the weekly shift that
// spans both periods (the same shift, so the same id), and their work items do not share keys.
TEST(GenerateTest, DifferentSeedsOfConsecutivePeriodsHaveDisjointIds) {
  auto registry = sources::MakeSourceRegistry();
  Options first;
  first.days = 10;
  first.end += 3 * 86'400'000LL;  // a Thursday: the week's shift spans both periods
  Options second = first;
  second.seed = 2;
  second.end = first.end + 10 * 86'400'000LL;
  std::map<std::string, std::string> seen;  // id -> type, of the first period
  std::set<std::string> subjects;
  for (const Record& r : MustGenerate(first).records) {
    for (const auto& e : Normalize(*registry, r).events) {
      seen[e.id()] = e.type();
      if (e.subject().kind() == "work_item") subjects.insert(e.subject().id());
    }
  }
  int shared_shifts = 0, jira = 0;
  for (const Record& r : MustGenerate(second).records) {
    for (const auto& e : Normalize(*registry, r).events) {
      jira += e.source() == "jira";
      if (e.subject().kind() == "work_item" && e.source() == "jira") {
        EXPECT_FALSE(subjects.contains(e.subject().id())) << e.subject().id();
      }
      if (!seen.contains(e.id())) continue;
      EXPECT_EQ(e.type(), "oncall.shift") << "id " << e.id() << " in both periods";
      ++shared_shifts;
    }
  }
  EXPECT_GT(jira, 100);
  EXPECT_GT(shared_shifts, 0);  // the week across the boundary: the same shift twice
}

// Shifts of one slot (schedule subject id, level) never overlap: a later one would supersede
// the earlier (docs/design.md section 7.2, "Changed shifts"), and the demo's and the tests'
// numbers assume every generated shift counts whole.
TEST(GenerateTest, ShiftsNeverOverlapWithinASlot) {
  auto registry = sources::MakeSourceRegistry();
  for (const uint64_t seed : {1ULL, 7ULL, 2026ULL}) {
    Options options;
    options.seed = seed;
    options.teams = seed == 7 ? 2 : 8;
    options.people = seed == 7 ? 9 : 80;
    options.days = 60;
    std::printf("seed=%llu\n", static_cast<unsigned long long>(seed));
    std::map<std::string, std::map<EpochMillis, EpochMillis>> slots;  // slot -> start -> end
    size_t shifts = 0;
    for (const Record& r : MustGenerate(options).records) {
      const auto result = Normalize(*registry, r);
      if (result.events.empty() || result.events[0].type() != "oncall.shift") continue;
      const schema::Event& e = result.events[0];
      std::string level;
      EpochMillis start = 0, end = 0;
      for (const auto& a : e.attrs()) {
        if (a.name() == "level") level = std::to_string(a.value().int_value());
        if (a.name() == "start") start = ParseRfc3339(a.value().string_value()).value();
        if (a.name() == "end") end = ParseRfc3339(a.value().string_value()).value();
      }
      ASSERT_FALSE(e.subject().id().empty()) << r.body;
      ASSERT_FALSE(level.empty()) << r.body;
      ASSERT_LT(start, end) << r.body;
      EXPECT_TRUE(slots[e.subject().id() + "/" + level].emplace(start, end).second) << r.body;
      ++shifts;
    }
    ASSERT_GT(shifts, 0u);
    for (const auto& [slot, intervals] : slots) {
      EpochMillis reach = std::numeric_limits<EpochMillis>::min();
      for (const auto& [start, end] : intervals) {
        EXPECT_GE(start, reach) << "overlapping shifts in slot " << slot << " seed=" << seed;
        reach = end;
      }
    }
  }
}

// The golden events of DESIGN section 4 on the first payload of each kind of the default
// organisation (Options{}: seed 1, fixed end, so these never change unless the generator
// does): each normalised event is compared whole, every field, with its golden JSON, and the
// fields the record itself determines are checked against the record.
TEST(GenerateTest, GoldenEventsOnSamplePayloads) {
  const std::map<std::string, std::string> golden = {
      {"work_item.created",
       R"({"id":"jira:100000","source":"jira","type":"work_item.created",)"
       R"("occurred_at":"2026-02-02T00:04:12.966Z","actor":"jira:5f6c07630b2c18435261cb2e",)"
       R"("subject":{"kind":"work_item","id":"10000","key":"PLAT-1","project":"PLAT",)"
       R"("title":"Handle expired tokens gracefully"},)"
       R"("attrs":{"assignee":"jira:5f6c07630b2c18435261cb2e","item_type":"Task",)"
       R"("priority":"Low","status":"To Do","status_category":"todo"}})"},
      {"pull_request.opened",
       R"({"id":"github:a1208f6b21dbe8b7cc9966b6c7268231","source":"github",)"
       R"("type":"pull_request.opened","occurred_at":"2026-02-02T03:44:46.000Z",)"
       R"("actor":"github:sami-acme","subject":{"kind":"pull_request",)"
       R"("id":"acme/platform-service#1","key":"#1","project":"acme/platform-service",)"
       R"("title":"PLAT-1: Handle expired tokens gracefully"},"attrs":{}})"},
      {"incident.triggered",
       R"({"id":"pagerduty:5XOTSU37ESMJCWTU9MGKN3LJPZ","source":"pagerduty",)"
       R"("type":"incident.triggered","occurred_at":"2026-02-02T01:51:15.098Z","actor":null,)"
       R"("subject":{"kind":"incident","id":"Q1MFAHN3X7X7KA","key":"10","service":"PSVC102",)"
       R"("title":"Checkout latency above SLO"},"attrs":{"assignees":["pagerduty:PPR7N2F"],)"
       R"("priority":null,"status":"triggered","urgency":"high"}})"},
      {"oncall.shift",
       R"({"id":"canonical:shift-PSCH100-1769990400000-L1","source":"canonical",)"
       R"("type":"oncall.shift","occurred_at":"2026-02-02T00:00:00.000Z","actor":null,)"
       R"("subject":{"kind":"schedule","id":"PSCH100","title":"payments primary"},)"
       R"("attrs":{"end":"2026-02-09T00:00:00.000Z","level":1,"person":"pagerduty:PI8FPWF",)"
       R"("start":"2026-02-02T00:00:00.000Z"}})"},
      {"chat.message",
       R"({"id":"slack:msg:C0PLATTEAM:1769994047.199080","source":"slack","type":"chat.message",)"
       R"("occurred_at":"2026-02-02T01:00:47.199Z","actor":"slack:U024FXK3URA",)"
       R"("subject":{"kind":"channel","id":"C0PLATTEAM"},"attrs":{"bot":false,)"
       R"("channel_type":"channel","edited":false,"mentions":[],"recipients":[],"thread":false}})"},
  };
  auto registry = sources::MakeSourceRegistry();
  const Output out = MustGenerate(Options{});
  std::set<std::string> checked;
  for (const Record& r : out.records) {
    const auto result = Normalize(*registry, r);
    ASSERT_EQ(result.events.size(), 1u);
    const schema::Event& e = result.events[0];
    if (checked.contains(e.type()) || !golden.contains(e.type())) continue;
    if (e.type() == "work_item.created" && r.source != "jira") continue;  // GitHub issues too
    checked.insert(e.type());
    std::string json;
    sources::AppendEventJson(e, json);
    EXPECT_EQ(json, golden.at(e.type())) << r.body;
    // What the record determines, whole: the dedup id from the delivery header, the time.
    if (r.source == "jira") {
      EXPECT_EQ(e.id(), "jira:" + r.headers.at(0).second);
    } else if (r.source == "github") {
      EXPECT_EQ(e.id(), "github:" + r.headers.at(1).second);
    }
    // GitHub carries whole seconds; the others milliseconds.
    EXPECT_EQ(e.occurred_at_ms(), r.source == "github" ? r.at / 1000 * 1000 : r.at);
  }
  EXPECT_EQ(checked.size(), golden.size());
}

// DMs name their recipient, and mentions survive; bots are flagged.
TEST(GenerateTest, ChatCarriesRecipientsMentionsAndBots) {
  auto registry = sources::MakeSourceRegistry();
  const Output out = MustGenerate(Options{});
  int dms = 0, mentions = 0, bots = 0;
  for (const Record& r : out.records) {
    if (r.source != "slack") continue;
    const auto result = Normalize(*registry, r);
    std::string json;
    sources::AppendEventJson(result.events.at(0), json);
    dms += json.find("\"channel_type\":\"im\"") != std::string::npos &&
           json.find("\"recipients\":[\"slack:U") != std::string::npos;
    mentions += json.find("\"mentions\":[\"slack:U") != std::string::npos;
    bots += json.find("\"bot\":true") != std::string::npos;
  }
  EXPECT_GT(dms, 0);
  EXPECT_GT(mentions, 0);
  EXPECT_GT(bots, 0);
}

}  // namespace
}  // namespace teamhealth::generate
