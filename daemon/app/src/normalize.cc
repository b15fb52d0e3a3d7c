#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "teamhealth/sources/event_json.h"
#include "teamhealth/sources/source.h"

namespace teamhealth::app {
namespace {

constexpr const char* kNormalizeUsage =
    "usage: teamhealth normalize --source S [--header NAME=VALUE ...] FILE...\n"
    "  Prints the canonical events of each vendor payload file as JSON lines. S is one of\n"
    "  jira, github, linear, slack, pagerduty, opsgenie, canonical. --header passes a vendor\n"
    "  HTTP header (e.g. X-GitHub-Event=issues) as a Kafka record header would.\n";

}  // namespace

int Normalize(int argc, char** argv) {
  std::string source_name;
  std::vector<std::pair<std::string, std::string>> header_storage;
  std::vector<std::string> files;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kNormalizeUsage, stdout);
      return 0;
    }
    if ((a == "--source" || a == "--header") && i + 1 >= argc) {
      std::fprintf(stderr, "teamhealth normalize: %s needs a value\n", a.c_str());
      return 2;
    }
    if (a == "--source") {
      source_name = argv[++i];
    } else if (a.starts_with("--source=")) {
      source_name = a.substr(9);
    } else if (a == "--header" || a.starts_with("--header=")) {
      const std::string h = a == "--header" ? argv[++i] : a.substr(9);
      const auto eq = h.find('=');
      if (eq == std::string::npos || eq == 0) {
        std::fprintf(stderr, "teamhealth normalize: --header %s: expected NAME=VALUE\n", h.c_str());
        return 2;
      }
      header_storage.emplace_back(h.substr(0, eq), h.substr(eq + 1));
    } else if (a.starts_with("--")) {
      std::fprintf(stderr, "teamhealth normalize: unknown option %s\n%s", a.c_str(),
                   kNormalizeUsage);
      return 2;
    } else {
      files.push_back(a);
    }
  }
  if (source_name.empty() || files.empty()) {
    std::fputs(kNormalizeUsage, stderr);
    return 2;
  }
  auto registry = sources::MakeSourceRegistry();
  sources::Source* source = registry->Find(source_name);
  if (source == nullptr) {
    std::fprintf(stderr, "teamhealth normalize: unknown source \"%s\"\n", source_name.c_str());
    return 2;
  }
  std::vector<sources::RecordHeader> headers;
  for (const auto& [name, value] : header_storage) headers.push_back({name, value});

  int status = 0;
  sources::NormalizeResult result;
  std::string line;
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string& file = files[i];
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "%s: cannot read file\n", file.c_str());
      status = 1;
      continue;
    }
    std::ostringstream body;
    body << in.rdbuf();
    const std::string value = body.str();
    sources::RawRecord record;
    record.topic = file;
    record.offset = static_cast<int64_t>(i);
    record.value = value;
    record.headers = headers;
    result.Clear();
    source->Normalize(record, result);
    if (result.rejection) {
      std::fprintf(stderr, "%s: %s: %s\n", file.c_str(),
                   std::string(sources::ReasonName(result.rejection->reason)).c_str(),
                   result.rejection->detail.c_str());
      status = 1;
      continue;
    }
    for (const auto& e : result.events) {
      line.clear();
      sources::AppendEventJson(e, line);
      line.push_back('\n');
      std::fwrite(line.data(), 1, line.size(), stdout);
    }
  }
  return status;
}

}  // namespace teamhealth::app
