// Golden tests: every vendor payload normalises to the canonical events written by hand in
// tests/sources/golden/<source>/<name>.jsonl.
//
// For golden/<source>/<path>.jsonl the payload is <fixtures>/<source>/<path>.json (the shared
// vendor fixtures) or, for variations we wrote ourselves, variants/<source>/<path>.json.
// Optional golden/<source>/<path>.headers holds `Name: value` lines passed as record headers.
// The expected file holds one canonical JSON line per event; an empty file means "not an
// event" (ignored); a single line `!reject <reason>` means the record must be quarantined
// with that reason. Each event line must be written exactly as `teamhealth normalize` renders
// it (so an unknown key cannot hide); zero cases, or a missing directory, fail.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "teamhealth/sources/event_json.h"
#include "teamhealth/sources/source.h"

namespace teamhealth::sources {
namespace {

namespace fs = std::filesystem;

const fs::path kGoldenDir = TEAMHEALTH_GOLDEN_DIR;
const fs::path kVariantsDir = TEAMHEALTH_VARIANTS_DIR;
const fs::path kFixturesDir = TEAMHEALTH_FIXTURES_DIR;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

struct Case {
  std::string source;
  fs::path relative;  // <path> without extension, relative to golden/<source>
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.source << "/" << c.relative.string(); }

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  if (!fs::exists(kGoldenDir)) return cases;
  for (const auto& entry : fs::recursive_directory_iterator(kGoldenDir)) {
    if (entry.path().extension() != ".jsonl") continue;
    const fs::path rel = fs::relative(entry.path(), kGoldenDir);
    auto it = rel.begin();
    Case c{it->string(), {}};
    fs::path rest;
    for (++it; it != rel.end(); ++it) rest /= *it;
    c.relative = rest.replace_extension();
    cases.push_back(c);
  }
  std::sort(cases.begin(), cases.end(), [](const Case& a, const Case& b) {
    return a.source + a.relative.string() < b.source + b.relative.string();
  });
  return cases;
}

class GoldenTest : public ::testing::TestWithParam<Case> {};

TEST_P(GoldenTest, NormalisesToTheHandWrittenEvents) {
  const Case& c = GetParam();
  fs::path payload = kFixturesDir / c.source / c.relative;
  payload += ".json";
  if (!fs::exists(payload)) {
    payload = kVariantsDir / c.source / c.relative;
    payload += ".json";
  }
  ASSERT_TRUE(fs::exists(payload))
      << "no payload for golden " << c.source << "/" << c.relative.string();
  const fs::path golden = kGoldenDir / c.source / (c.relative.string() + ".jsonl");
  const fs::path headers_file = kGoldenDir / c.source / (c.relative.string() + ".headers");

  std::vector<std::string> header_lines;
  std::vector<RecordHeader> headers;
  if (fs::exists(headers_file)) header_lines = Lines(ReadFile(headers_file));
  for (const auto& l : header_lines) {
    const auto colon = l.find(':');
    ASSERT_NE(colon, std::string::npos) << headers_file;
    std::string_view value(l);
    value.remove_prefix(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    headers.push_back({std::string_view(l).substr(0, colon), value});
  }

  auto registry = MakeSourceRegistry();
  Source* source = registry->Find(c.source);
  ASSERT_NE(source, nullptr) << c.source;
  const std::string body = ReadFile(payload);
  RawRecord record;
  record.topic = c.source;
  record.value = body;
  record.headers = headers;
  record.timestamp_ms = 1700000000000;  // used only where the payload has no time at all
  NormalizeResult out;
  source->Normalize(record, out);

  const auto expected = Lines(ReadFile(golden));
  if (expected.size() == 1 && expected[0].starts_with("!reject ")) {
    ASSERT_TRUE(out.rejection.has_value()) << "expected a rejection for " << payload;
    EXPECT_EQ(ReasonName(out.rejection->reason), expected[0].substr(8));
    return;
  }
  ASSERT_FALSE(out.rejection.has_value())
      << payload << ": " << ReasonName(out.rejection->reason) << ": " << out.rejection->detail;
  std::vector<std::string> actual;
  for (size_t i = 0; i < out.events.size(); ++i) {
    const auto& e = out.events[i];
    // The builder's encoding is the one protobuf writes for the same event.
    EXPECT_EQ(out.events.bytes(i), e.SerializeAsString()) << payload << " event " << i + 1;
    EXPECT_EQ(out.events.id(i), e.id());
    EXPECT_EQ(out.events.occurred_at_ms(i), e.occurred_at_ms());
    std::string line;
    AppendEventJson(e, line);
    actual.push_back(line);
  }
  ASSERT_EQ(actual.size(), expected.size()) << payload;
  for (size_t i = 0; i < actual.size(); ++i) {
    // Each golden line must be an event in exactly its canonical rendering: the canonical
    // source tolerates members it does not know, so a misspelled or unknown key ("atrs",
    // "note") would otherwise vanish from the expectation unnoticed.
    RawRecord exp_record;
    exp_record.value = expected[i];
    NormalizeResult exp_out;
    registry->Find("canonical")->Normalize(exp_record, exp_out);
    ASSERT_FALSE(exp_out.rejection.has_value())
        << golden << " line " << i + 1
        << " is not valid canonical JSON: " << exp_out.rejection->detail;
    std::string exp_line;
    AppendEventJson(exp_out.events[0], exp_line);
    ASSERT_EQ(expected[i], exp_line)
        << golden << " line " << i + 1
        << " is not in canonical form (an unknown or misspelled key, a member out of order, "
           "or spacing); the canonical rendering is the second line";
    EXPECT_EQ(actual[i], exp_line) << payload << " event " << i + 1;
  }
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  std::string name = info.param.source + "_" + info.param.relative.string();
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

// No GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST: zero cases must fail (see also
// GoldenCoverageTest.EverySourceHasGoldenCases).
INSTANTIATE_TEST_SUITE_P(Fixtures, GoldenTest, ::testing::ValuesIn(AllCases()), CaseName);

// The harness above passes vacuously if it finds no cases; this fails instead: the golden
// directory exists and holds cases for every vendor source.
TEST(GoldenCoverageTest, EverySourceHasGoldenCases) {
  ASSERT_TRUE(fs::is_directory(kGoldenDir)) << "golden directory missing: " << kGoldenDir;
  const auto cases = AllCases();
  for (std::string_view source : {"jira", "github", "linear", "slack", "pagerduty", "opsgenie"}) {
    const auto n = std::count_if(cases.begin(), cases.end(),
                                 [&](const Case& c) { return c.source == source; });
    EXPECT_GT(n, 0) << "no golden cases for " << source << " in " << kGoldenDir;
  }
}

// Nothing in the golden directory is silently skipped: every file is a .jsonl golden or the
// .headers of one.
TEST(GoldenCoverageTest, EveryGoldenDirectoryFileIsUsed) {
  ASSERT_TRUE(fs::is_directory(kGoldenDir)) << kGoldenDir;
  std::vector<std::string> stray;
  for (const auto& entry : fs::recursive_directory_iterator(kGoldenDir)) {
    if (!entry.is_regular_file()) continue;
    const fs::path& p = entry.path();
    fs::path sibling = p;
    sibling.replace_extension(".jsonl");
    const bool used =
        p.extension() == ".jsonl" || (p.extension() == ".headers" && fs::exists(sibling));
    if (!used) stray.push_back(fs::relative(p, kGoldenDir).string());
  }
  std::sort(stray.begin(), stray.end());
  std::string list;
  for (const auto& f : stray) list += "  " + f + "\n";
  EXPECT_TRUE(stray.empty()) << "files the golden harness would ignore:\n" << list;
}

// Every shared vendor fixture, except the REST API objects, has a golden file.
TEST(GoldenCoverageTest, EveryFixtureHasAGoldenFile) {
  ASSERT_TRUE(fs::exists(kFixturesDir)) << kFixturesDir;
  std::vector<std::string> missing;
  for (const auto& entry : fs::recursive_directory_iterator(kFixturesDir)) {
    if (entry.path().extension() != ".json") continue;
    const fs::path rel = fs::relative(entry.path(), kFixturesDir);
    if (rel.string().find("rest-api") != std::string::npos) continue;
    fs::path golden = kGoldenDir / rel;
    golden.replace_extension(".jsonl");
    if (!fs::exists(golden)) missing.push_back(rel.string());
  }
  std::sort(missing.begin(), missing.end());
  std::string list;
  for (const auto& m : missing) list += "  " + m + "\n";
  EXPECT_TRUE(missing.empty()) << missing.size() << " fixtures without golden files:\n" << list;
}

// docs/design.md section 4: an edited comment is an activity on its item, a delivery of its own.
// Each pair is the creation and an edit of the same comment: both are comment events on the same
// subject, only the edit is marked `edited: true`, and their dedup ids differ (the same id
// would make the log drop the edit as a duplicate).
TEST(GoldenCoverageTest, CommentEditsAreEventsWithTheirOwnDedupIds) {
  const std::pair<std::string_view, std::string_view> pairs[] = {
      {"github/issue_comment-created", "github/issue_comment-edited"},
      {"github/pull_request_review_comment-no-header",
       "github/pull_request_review_comment-edited-no-header"},
      {"jira/comment_created", "jira/variant-comment_updated"},
      {"linear/variant-comment-create", "linear/variant-comment-update"},
  };
  auto registry = MakeSourceRegistry();
  auto event_of = [&](std::string_view golden) {
    const auto lines = Lines(ReadFile(kGoldenDir / (std::string(golden) + ".jsonl")));
    EXPECT_EQ(lines.size(), 1u) << golden;
    RawRecord record;
    if (!lines.empty()) record.value = lines[0];
    NormalizeResult out;
    registry->Find("canonical")->Normalize(record, out);
    EXPECT_EQ(out.events.size(), 1u) << golden;
    return out.events.empty() ? schema::Event() : out.events[0];
  };
  auto edited = [](const schema::Event& e) -> std::string {
    for (const auto& a : e.attrs()) {
      if (a.name() == "edited") return a.value().bool_value() ? "true" : "false";
    }
    return "absent";
  };
  for (const auto& [created_golden, edited_golden] : pairs) {
    const schema::Event created = event_of(created_golden);
    const schema::Event edit = event_of(edited_golden);
    EXPECT_NE(created.id(), edit.id()) << edited_golden;
    EXPECT_EQ(created.type(), edit.type()) << edited_golden;
    EXPECT_TRUE(created.type().ends_with(".commented")) << created_golden;
    EXPECT_EQ(created.subject().id(), edit.subject().id()) << edited_golden;
    EXPECT_EQ(edited(created), "absent") << created_golden;
    EXPECT_EQ(edited(edit), "true") << edited_golden;
  }
}

// ---------------------------------------------------------------------------------------------
// One preamble (common.h, JsonSource): the same malformed body gets the same quarantine reason
// from every source, whatever the source would make of a well-formed body of that shape.

constexpr std::string_view kEverySource[] = {"canonical", "jira",      "github",  "linear",
                                             "slack",     "pagerduty", "opsgenie"};

struct Malformed {
  std::string name;
  std::string body;
  std::string_view reason;
};

void PrintTo(const Malformed& m, std::ostream* os) { *os << m.name; }

std::string Nested(int depth, std::string_view innermost) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += R"({"x":)";
  s += innermost;
  for (int i = 0; i < depth; ++i) s += "}";
  return s;
}

std::vector<Malformed> MalformedBodies() {
  std::vector<Malformed> rows = {
      {"empty", "", "empty"},
      {"whitespace", " \n\t\r ", "invalid_json"},
      {"not_json", "this is not JSON {\"at\": all", "invalid_json"},
      {"truncated_object", R"({"action": "create", "type": "Issue")", "invalid_json"},
      {"truncated_in_string", R"({"action": "cre)", "invalid_json"},
      {"truncated_in_nested", R"({"event": {"type": "message", "channel": "C1"}, "messages": [)",
       "invalid_json"},
      {"array", "[]", "invalid_json"},
      {"array_of_object", R"([{"action": "create"}])", "invalid_json"},
      {"string", R"("x")", "invalid_json"},
      {"number", "42", "invalid_json"},
      {"null", "null", "invalid_json"},
      {"true", "true", "invalid_json"},
      {"trailing_word", R"({"action": "create"} x)", "invalid_json"},
      {"trailing_brace", R"({"action": "create"}})", "invalid_json"},
      {"trailing_object", R"({"action": "create"}{"action": "create"})", "invalid_json"},
      {"trailing_nul", std::string(R"({"action": "create"})") + '\0', "invalid_json"},
      {"invalid_utf8", "{\"action\": \"cr\xff\xfe\"}", "invalid_json"},
      {"raw_control_char_in_string", "{\"action\": \"cr\neate\"}", "invalid_json"},
      {"unquoted_key", "{action: 1}", "invalid_json"},
      {"missing_colon", R"({"action" "create"})", "invalid_json"},
      {"trailing_comma", R"({"action": "create",})", "invalid_json"},
      // Broken only inside a value that no source reads: On Demand skips it unvalidated, so
      // only the preamble's recheck finds it.
      {"bad_literal_in_unknown_member", R"({"zz": tru})", "invalid_json"},
      {"bad_escape_in_unknown_member", R"({"zz": "\q"})", "invalid_json"},
      {"bad_number_in_unknown_member", R"({"zz": 012})", "invalid_json"},
      {"mismatched_brackets_in_unknown_member", R"({"zz": [1, 2}, "yy": 3])", "invalid_json"},
      // Linear maps this to an event in the year 1011, which the time check rejects: the
      // recheck must still see that the body is not JSON (found by the fuzzers).
      {"event_time_out_of_range_and_broken",
       R"({"action": "create", "type": "Issue", "data": {"id": "i1", )"
       R"("createdAt": "1011-04-11T09:59:47.094Z"}, "zz": tru})",
       "invalid_json"},
      {"deeply_broken", Nested(200, "nul"), "invalid_json"},
      {"deeply_broken_in_read_member",
       R"({"action": "create", "type": "Issue", "data": )" + Nested(50, "[1,,2]") + "}",
       "invalid_json"},
      // Beyond what the parser represents (nesting over 1024, integers over 64 bits): not JSON
      // to any source.
      {"nesting_beyond_the_limit",
       R"({"zz": )" + std::string(2000, '[') + std::string(2000, ']') + "}", "invalid_json"},
  };
  // A well-formed payload of each vendor, broken: cut short, followed by garbage, wrapped in an
  // array. Each source reads its own vendor's shape deeply before the break.
  for (const char* fixture : {"jira/jira-issue_created.json", "github/issues-opened.json",
                              "linear/Issue-create.json", "slack/message-channel.json",
                              "pagerduty/v3/incident.triggered.json", "opsgenie/Create.json"}) {
    const std::string body = ReadFile(kFixturesDir / fixture);
    std::string name = fixture;
    for (char& ch : name) {
      if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    }
    if (body.size() < 100) {  // a row that cannot pass: the fixture went missing
      rows.push_back({name + "_is_missing", "", "a readable fixture"});
      continue;
    }
    // The last cut drops only the closing brace.
    for (size_t cut : {body.size() / 4, body.size() / 2, body.size() * 3 / 4, body.rfind('}')}) {
      rows.push_back(
          {name + "_cut_at_" + std::to_string(cut), body.substr(0, cut), "invalid_json"});
    }
    rows.push_back({name + "_then_garbage", body + " ]", "invalid_json"});
    rows.push_back({name + "_twice", body + body, "invalid_json"});
    rows.push_back({name + "_in_an_array", "[" + body + "]", "invalid_json"});
  }
  return rows;
}

class MalformedBodyTest : public ::testing::TestWithParam<Malformed> {};

// Every source, with and without the vendor headers that steer GitHub and Jira.
TEST_P(MalformedBodyTest, EverySourceGivesTheSameReason) {
  const Malformed& m = GetParam();
  const RecordHeader vendor_headers[] = {{"X-GitHub-Event", "issues"},
                                         {"X-GitHub-Delivery", "d-1"},
                                         {"X-Atlassian-Webhook-Identifier", "w-1"}};
  auto registry = MakeSourceRegistry();
  for (const bool with_headers : {false, true}) {
    for (std::string_view name : kEverySource) {
      Source* source = registry->Find(name);
      ASSERT_NE(source, nullptr) << name;
      RawRecord record;
      record.topic = name;
      record.value = m.body;
      record.timestamp_ms = 1700000000000;
      if (with_headers) record.headers = vendor_headers;
      NormalizeResult out;
      source->Normalize(record, out);
      const std::string where = std::string(name) + (with_headers ? " (with vendor headers)" : "");
      ASSERT_TRUE(out.rejection.has_value())
          << where << ": " << (out.ignored ? "ignored" : "events") << ", not quarantined";
      EXPECT_EQ(ReasonName(out.rejection->reason), m.reason)
          << where << ": " << out.rejection->detail;
      EXPECT_TRUE(out.events.empty()) << where;
      EXPECT_FALSE(out.ignored) << where;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Bodies, MalformedBodyTest, ::testing::ValuesIn(MalformedBodies()),
                         [](const ::testing::TestParamInfo<Malformed>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace teamhealth::sources
