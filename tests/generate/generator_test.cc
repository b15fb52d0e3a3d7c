// The synthetic organisation: deterministic per seed, and every vendor payload it writes is
// accepted by our own normalisers with the fields the golden files promise.
#include "teamhealth/generate/generator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
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
          "oncall.shift", "person.time_off", "pulse.response"}) {
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

// ---- docs/design.md section 7.6: who asks, split attention, time off, pulse -----------------

// The default organisation's events, normalised, with who is who from its directory.
struct Org76 {
  std::vector<schema::Event> events;       // in time order
  std::map<std::string, std::string> team_of;  // person reference -> team
  std::map<std::string, std::string> handle_of;  // person reference -> handle
  std::map<std::string, int> members;      // team -> members
  std::vector<std::string> teams;          // directory order
};

std::string Attr(const schema::Event& e, std::string_view name) {
  for (const auto& a : e.attrs()) {
    if (a.name() == name) return a.value().string_value();
  }
  return "";
}

const schema::Value* AttrValue(const schema::Event& e, std::string_view name) {
  for (const auto& a : e.attrs()) {
    if (a.name() == name) return &a.value();
  }
  return nullptr;
}

// Reads the generated directory.toml: each person's handle, first team and identities (one
// line each, as DirectoryToml writes them).
Org76 Play(const Options& options) {
  Org76 org;
  const Output out = MustGenerate(options);
  std::istringstream toml(out.directory_toml);
  std::string line, handle, team;
  const auto quoted = [](const std::string& l) {
    const auto a = l.find('"');
    return l.substr(a + 1, l.find('"', a + 1) - a - 1);
  };
  bool in_teams = false;
  while (std::getline(toml, line)) {
    if (line == "[[directory.teams]]") in_teams = true;
    if (line == "[[directory.people]]") in_teams = false;
    if (line.starts_with("name = ") && in_teams) org.teams.push_back(quoted(line));
    if (line.starts_with("handle = ")) handle = quoted(line);
    if (line.starts_with("team = ")) team = quoted(line), ++org.members[team];
    if (line.starts_with("identities = [")) {
      for (size_t at = line.find('"'); at != std::string::npos; at = line.find('"', at)) {
        const size_t close = line.find('"', at + 1);
        const std::string ref = line.substr(at + 1, close - at - 1);
        org.team_of[ref] = team;
        org.handle_of[ref] = handle;
        at = close + 1;
      }
    }
  }
  auto registry = sources::MakeSourceRegistry();
  for (const Record& r : out.records) {
    for (auto& e : Normalize(*registry, r).events) org.events.push_back(std::move(e));
  }
  std::stable_sort(org.events.begin(), org.events.end(), [](const auto& a, const auto& b) {
    return a.occurred_at_ms() < b.occurred_at_ms();
  });
  return org;
}

bool IsWork(const schema::Event& e) {
  const std::string& kind = e.subject().kind();
  return !e.actor().empty() &&
         (kind == "work_item" || kind == "pull_request" || kind == "incident");
}

TEST(GenerateTest, SupportAndSalesAreDirectoryTeamsThatOnlyChat) {
  const Org76 org = Play(Options{});
  EXPECT_EQ(org.teams, (std::vector<std::string>{"payments", "search", "platform", "mobile",
                                                 "support", "sales"}));
  EXPECT_EQ(org.members.at("support"), 5);
  EXPECT_EQ(org.members.at("sales"), 5);
  for (const auto& [ref, team] : org.team_of) {
    if (team == "support" || team == "sales") {
      EXPECT_TRUE(ref.starts_with("slack:")) << ref;  // they only chat
    }
  }
  for (const auto& e : org.events) {
    const auto it = org.team_of.find(e.actor());
    if (it == org.team_of.end() || (it->second != "support" && it->second != "sales")) continue;
    EXPECT_EQ(e.type(), "chat.message") << e.id();
  }
}

// They DM and mention engineers in business hours (theirs and the engineer's), the overloaded
// team most; some of those go to a member who is not on call while a teammate is (bypass).
TEST(GenerateTest, SupportAndSalesAskEngineersInBusinessHours) {
  const Org76 org = Play(Options{});
  // On call: person reference -> [start, end) of their shifts.
  std::map<std::string, std::vector<std::pair<EpochMillis, EpochMillis>>> shifts;
  for (const auto& e : org.events) {
    if (e.type() != "oncall.shift") continue;
    shifts[Attr(e, "person")].emplace_back(ParseRfc3339(Attr(e, "start")).value(),
                                           ParseRfc3339(Attr(e, "end")).value());
  }
  const auto on_call = [&](const std::string& handle, EpochMillis at) {
    for (const auto& [ref, intervals] : shifts) {
      if (org.handle_of.at(ref) != handle) continue;
      for (const auto& [s, e] : intervals) {
        if (at >= s && at < e) return true;
      }
    }
    return false;
  };
  std::map<std::string, int> asked;  // engineering team -> DMs and mentions from support/sales
  int dms = 0, mentions = 0, bypass = 0, to_on_call = 0;
  for (const auto& e : org.events) {
    if (e.type() != "chat.message") continue;
    const auto sender = org.team_of.find(e.actor());
    if (sender == org.team_of.end() || (sender->second != "support" && sender->second != "sales")) {
      continue;
    }
    // Their business hours: New York (UTC-5 in February) for support, London (UTC) for sales.
    const int offset_h = sender->second == "support" ? -5 : 0;
    const int64_t local = e.occurred_at_ms() + offset_h * 3'600'000LL;
    const double hour = static_cast<double>(local % 86'400'000) / 3'600'000;
    EXPECT_TRUE(hour >= 9 && hour < 17) << e.id();
    const bool dm = AttrValue(e, "channel_type")->string_value() == "im";
    const auto& people = AttrValue(e, dm ? "recipients" : "mentions")->list_value();
    ASSERT_EQ(people.values_size(), 1) << e.id();
    const std::string& to = people.values(0);
    const std::string& team = org.team_of.at(to);
    EXPECT_NE(team, "support");
    EXPECT_NE(team, "sales");
    ++asked[team];
    (dm ? dms : mentions) += 1;
    const std::string handle = org.handle_of.at(to);
    if (on_call(handle, e.occurred_at_ms())) {
      ++to_on_call;
    } else if (team == "payments") {
      ++bypass;  // payments always has someone on call (its two people share the rotation)
    }
  }
  std::printf("asked: payments=%d search=%d platform=%d mobile=%d; dms=%d mentions=%d "
              "bypass=%d to_on_call=%d\n", asked["payments"], asked["search"], asked["platform"],
              asked["mobile"], dms, mentions, bypass, to_on_call);
  EXPECT_GT(dms, mentions);
  EXPECT_GT(mentions, 0);
  EXPECT_GT(bypass, 0);
  EXPECT_GT(to_on_call, 0);
  for (const char* healthy : {"search", "platform", "mobile"}) {
    EXPECT_GT(asked["payments"], asked[healthy]) << healthy;
  }
}

// Some engineers alternate between items of their team's two projects (Jira PAY and PAYOPS,
// GitHub acme/payments-service and acme/payments-tools) within a day, more on the overloaded
// team; the others mostly stay in the main project.
TEST(GenerateTest, TwoProjectEngineersSwitchProjectsWithinADay) {
  const Org76 org = Play(Options{});
  // (handle, UTC day) -> side-project flags of its work activities, in time order.
  std::map<std::pair<std::string, int64_t>, std::vector<bool>> days;
  std::map<std::string, int> side, all;  // handle -> work activities on the side project, all
  for (const auto& e : org.events) {
    if (!IsWork(e) || e.subject().kind() == "incident") continue;
    const std::string& project = e.subject().project();
    const bool on_side = project.ends_with("OPS") || project.ends_with("-tools");
    const std::string handle = org.handle_of.at(e.actor());
    days[{handle, e.occurred_at_ms() / 86'400'000}].push_back(on_side);
    side[handle] += on_side;
    ++all[handle];
  }
  // Per team: people who went back and forth between the projects (a switch on 5+ days).
  std::map<std::string, int> split, single;
  for (const auto& [handle, n] : all) {
    int switching_days = 0;
    for (const auto& [key, flags] : days) {
      if (key.first != handle) continue;
      int switches = 0;
      for (size_t i = 1; i < flags.size(); ++i) switches += flags[i] != flags[i - 1];
      switching_days += switches > 0;
    }
    std::string team;
    for (const auto& [ref, h] : org.handle_of) {
      if (h == handle) team = org.team_of.at(ref);
    }
    const double share = static_cast<double>(side[handle]) / n;
    std::printf("%-8s %-8s side %3d/%3d, switching days %d\n", team.c_str(), handle.c_str(),
                side[handle], n, switching_days);
    // Reviews and comments on the side project's items, by teammates, are the others' share.
    if (switching_days >= 5 && share >= 0.15) {
      ++split[team];
    } else {
      EXPECT_LT(share, 0.15) << handle << " of " << team << " mostly stays in one project";
      ++single[team];
    }
  }
  EXPECT_GE(split["payments"], 3);
  for (const char* healthy : {"search", "platform", "mobile"}) {
    EXPECT_GE(split[healthy], 1) << healthy;
    EXPECT_LT(split[healthy], split["payments"]) << healthy;
    EXPECT_GE(single[healthy], 4) << healthy;
  }
}

// Time off: a week for one member of each team; the latest event of a subject id is what holds.
// On the overloaded team its taker works through it; the healthy takers do no work and get no
// page in theirs; one is extended by a second event, one cancelled.
TEST(GenerateTest, TimeOffIsExtendedCancelledAndWorkedThroughOnce) {
  const Org76 org = Play(Options{});
  std::map<std::string, std::vector<const schema::Event*>> by_subject;
  for (const auto& e : org.events) {
    if (e.type() != "person.time_off") continue;
    EXPECT_EQ(e.subject().kind(), "time_off");
    EXPECT_TRUE(e.actor().empty());
    by_subject[e.subject().id()].push_back(&e);
  }
  int extended = 0, cancelled = 0, worked = 0, rested = 0;
  for (const auto& [id, versions] : by_subject) {
    const schema::Event& latest = *versions.back();  // events are in time order
    const std::string person = Attr(latest, "person");
    const std::string handle = org.handle_of.at(person), team = org.team_of.at(person);
    const EpochMillis start = ParseRfc3339(Attr(latest, "start")).value();
    const EpochMillis end = ParseRfc3339(Attr(latest, "end")).value();
    if (versions.size() == 2) {
      const schema::Event& first = *versions.front();
      EXPECT_LT(first.occurred_at_ms(), latest.occurred_at_ms());
      EXPECT_EQ(Attr(first, "person"), person);
      if (AttrValue(latest, "cancelled") != nullptr) {
        EXPECT_TRUE(AttrValue(latest, "cancelled")->bool_value());
        ++cancelled;
        continue;
      }
      EXPECT_LT(ParseRfc3339(Attr(first, "end")).value(), end) << id << " is extended";
      ++extended;
    } else {
      ASSERT_EQ(versions.size(), 1u) << id;
    }
    EXPECT_LE(end - start, 5 * 86'400'000LL);
    int work = 0;
    for (const auto& e : org.events) {
      if (e.occurred_at_ms() < start || e.occurred_at_ms() >= end) continue;
      bool involved = IsWork(e) && org.handle_of.at(e.actor()) == handle;
      if (e.type() == "incident.triggered" || e.type() == "incident.escalated" ||
          e.type() == "incident.reassigned") {
        for (const auto& a : AttrValue(e, "assignees")->list_value().values()) {
          involved = involved || org.handle_of.at(a) == handle;
        }
      }
      work += involved;
    }
    if (team == "payments") {
      EXPECT_GT(work, 10) << handle << " works through their time off";
      ++worked;
    } else {
      EXPECT_EQ(work, 0) << handle << " of " << team << " rests in their time off " << id;
      ++rested;
    }
  }
  EXPECT_EQ(extended, 1);
  EXPECT_EQ(cancelled, 1);
  EXPECT_EQ(worked, 1);
  EXPECT_EQ(rested, 3);
}

// One anonymous answer per member of each engineering team each week: no actor, no attribute
// but the score (1..5); the overloaded team's mean is about 2.5, the others' about 4.
TEST(GenerateTest, PulseIsAnonymousWeeklyAndLowerOnTheOverloadedTeam) {
  const Org76 org = Play(Options{});
  std::map<std::string, std::pair<int, int>> sum_count;  // team -> (sum, answers)
  for (const auto& e : org.events) {
    if (e.type() != "pulse.response") continue;
    EXPECT_TRUE(e.actor().empty());
    EXPECT_EQ(e.subject().kind(), "team");
    ASSERT_EQ(e.attrs_size(), 1);
    ASSERT_EQ(e.attrs(0).name(), "score");
    const int64_t score = e.attrs(0).value().int_value();
    EXPECT_GE(score, 1);
    EXPECT_LE(score, 5);
    auto& [sum, n] = sum_count[e.subject().id()];
    sum += static_cast<int>(score);
    ++n;
  }
  ASSERT_EQ(sum_count.size(), 4u);  // support and sales are not asked
  for (const auto& [team, sc] : sum_count) {
    const double mean = static_cast<double>(sc.first) / sc.second;
    std::printf("pulse %-8s mean %.2f over %d answers\n", team.c_str(), mean, sc.second);
    EXPECT_EQ(sc.second, 4 * org.members.at(team)) << team;  // four Fridays in the window
    if (team == "payments") {
      EXPECT_NEAR(mean, 2.5, 0.5);
    } else {
      EXPECT_NEAR(mean, 4.0, 0.4) << team;
    }
  }
}

}  // namespace
}  // namespace teamhealth::generate
