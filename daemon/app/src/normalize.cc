#include <cstdio>
#include <span>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "record_lines.h"
#include "teamhealth/sources/event_json.h"
#include "teamhealth/sources/source.h"

namespace teamhealth::app {
namespace {

constexpr const char* kNormalizeUsage =
    "usage: teamhealth normalize --source S [--header NAME=VALUE ...] [--records] FILE...\n"
    "  Prints the canonical events of each vendor payload file as JSON lines. S is one of\n"
    "  jira, github, linear, slack, pagerduty, opsgenie, canonical. --header passes a vendor\n"
    "  HTTP header (e.g. X-GitHub-Event=issues) as a Kafka record header would.\n"
    "  --records: each FILE holds one record per line, {\"headers\":{...},\"body\":...}\n"
    "  (what `teamhealth generate --out` writes), each normalised with its own headers.\n";

int Normalize(const Args& args) {
  const std::string source_name = args.Get("source");
  const std::vector<std::string>& files = args.positional;
  const bool records = args.Has("records");
  std::vector<std::pair<std::string, std::string>> header_storage;
  for (const auto& h : args.All("header")) {
    const auto eq = h.find('=');
    if (eq == std::string::npos || eq == 0) {
      return UsageError(args, "--header " + h + ": expected NAME=VALUE");
    }
    header_storage.emplace_back(h.substr(0, eq), h.substr(eq + 1));
  }
  auto registry = sources::MakeSourceRegistry();
  sources::Source* source = registry->Find(source_name);
  if (source == nullptr) {
    return UsageError(args, "--source " + source_name +
                                ": unknown source (jira, github, linear, slack, pagerduty, "
                                "opsgenie or canonical)");
  }
  std::vector<sources::RecordHeader> headers;
  for (const auto& [name, value] : header_storage) headers.push_back({name, value});

  int status = 0;
  sources::NormalizeResult result;
  std::string line;
  // Normalises one record and prints its events; false (after a message) when rejected.
  auto one = [&](const std::string& where, std::string_view value,
                 std::span<const sources::RecordHeader> record_headers, int64_t offset) {
    sources::RawRecord record;
    record.topic = where;
    record.offset = offset;
    record.value = value;
    record.headers = record_headers;
    result.Clear();
    source->Normalize(record, result);
    if (result.rejection) {
      std::fprintf(stderr, "%s: %s: %s\n", where.c_str(),
                   std::string(sources::ReasonName(result.rejection->reason)).c_str(),
                   result.rejection->detail.c_str());
      return false;
    }
    for (const auto& e : result.events) {
      line.clear();
      sources::AppendEventJson(e, line);
      line.push_back('\n');
      std::fwrite(line.data(), 1, line.size(), stdout);
    }
    return true;
  };
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string& file = files[i];
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "%s: cannot read file\n", file.c_str());
      status = 1;
      continue;
    }
    if (!records) {
      std::ostringstream body;
      body << in.rdbuf();
      if (!one(file, body.str(), headers, static_cast<int64_t>(i))) status = 1;
      continue;
    }
    int64_t line_no = 0;
    for (std::string text; std::getline(in, text);) {
      ++line_no;
      if (text.empty()) continue;
      const std::string where = file + ":" + std::to_string(line_no);
      auto parsed = ParseRecordLine(text);
      if (!parsed) {
        std::fprintf(stderr, "%s: %s\n", where.c_str(), parsed.error().message().c_str());
        status = 1;
        continue;
      }
      std::vector<sources::RecordHeader> record_headers = headers;
      for (const auto& [name, value] : parsed->headers) record_headers.push_back({name, value});
      if (!one(where, parsed->body, record_headers, line_no)) status = 1;
    }
  }
  return status;
}

}  // namespace

Command NormalizeCommand() {
  return {.name = "normalize",
          .usage = kNormalizeUsage,
          .spec = {.options = {"source"},
                   .repeated = {"header"},
                   .flags = {"records"},
                   .required = {"source"},
                   .positional = "FILE",
                   .min_positional = 1,
                   .max_positional = std::numeric_limits<size_t>::max()},
          .run = Normalize};
}

}  // namespace teamhealth::app
