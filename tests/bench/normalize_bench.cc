// Prints normalise throughput on one core, per source: MB/s of vendor JSON and events/s.
// The corpus is every payload of the shared vendor fixtures and of tests/sources/variants that
// normalises without a rejection (with its golden .headers), cycled until --mb megabytes have
// been normalised; canonical uses synthetic records. A program, not a test: compare figures
// from the same run (docs/design.md section 10 asks for 1 GB/s per core).
//   build-release/tests/bench/normalize_bench [--mb 200]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "teamhealth/sources/source.h"

namespace {

namespace fs = std::filesystem;
using teamhealth::sources::NormalizeResult;
using teamhealth::sources::RawRecord;
using teamhealth::sources::RecordHeader;

struct Payload {
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<Payload> VendorCorpus(const std::string& source) {
  std::vector<Payload> out;
  for (const fs::path& dir :
       {fs::path(TEAMHEALTH_FIXTURES_DIR) / source, fs::path(TEAMHEALTH_VARIANTS_DIR) / source}) {
    if (!fs::exists(dir)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (entry.path().extension() != ".json") continue;
      Payload p{ReadFile(entry.path()), {}};
      fs::path rel = fs::relative(entry.path(), dir);
      fs::path headers = fs::path(TEAMHEALTH_GOLDEN_DIR) / source / rel;
      headers.replace_extension(".headers");
      std::istringstream lines(fs::exists(headers) ? ReadFile(headers) : "");
      for (std::string line; std::getline(lines, line);) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        p.headers.emplace_back(line.substr(0, colon), value);
      }
      out.push_back(std::move(p));
    }
  }
  return out;
}

std::vector<Payload> CanonicalCorpus(int n) {
  std::vector<Payload> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(
        {R"({"id":"canonical:bench-)" + std::to_string(i) +
             R"(","source":"canonical","type":"chat.message","occurred_at":"2026-03-02T22:14:)" +
             std::to_string(10 + i % 50) + R"(.120Z","actor":"slack:U0)" + std::to_string(i % 977) +
             R"(","subject":{"kind":"channel","id":"C0)" + std::to_string(i % 131) +
             R"(","title":"payments-incident-war-room"},"attrs":{"channel_type":"channel",)"
             R"("thread":true,"mentions":["slack:U024BE7LH","slack:U0G9QF9C6"],)"
             R"("recipients":[],"bot":false,"edited":false}})",
         {}});
  }
  return out;
}

void Run(const std::string& name, std::vector<Payload> corpus, double target_mb) {
  auto registry = teamhealth::sources::MakeSourceRegistry();
  auto* source = registry->Find(name);
  NormalizeResult out;
  // Keep only payloads that normalise: the benchmark measures the success path.
  std::vector<Payload> ok;
  for (auto& p : corpus) {
    std::vector<RecordHeader> headers;
    for (const auto& [k, v] : p.headers) headers.push_back({k, v});
    RawRecord r;
    r.value = p.body;
    r.headers = headers;
    out.Clear();
    source->Normalize(r, out);
    if (!out.rejection) ok.push_back(std::move(p));
  }
  if (ok.empty()) return;
  std::vector<std::vector<RecordHeader>> headers(ok.size());
  size_t corpus_bytes = 0;
  for (size_t i = 0; i < ok.size(); ++i) {
    for (const auto& [k, v] : ok[i].headers) headers[i].push_back({k, v});
    corpus_bytes += ok[i].body.size();
  }
  const size_t rounds = std::max<size_t>(1, static_cast<size_t>(target_mb * 1e6 / corpus_bytes));
  size_t bytes = 0, events = 0, records = 0;
  const auto start = std::chrono::steady_clock::now();
  for (size_t round = 0; round < rounds; ++round) {
    for (size_t i = 0; i < ok.size(); ++i) {
      RawRecord r;
      r.topic = "bench";
      r.value = ok[i].body;
      r.headers = headers[i];
      out.Clear();
      source->Normalize(r, out);
      events += out.events.size();
      bytes += ok[i].body.size();
      ++records;
    }
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "%-10s payloads=%-3zu avg_bytes=%-6zu records=%-8zu MB_per_s=%-8.1f "
      "records_per_s=%-9.0f events_per_s=%.0f\n",
      name.c_str(), ok.size(), corpus_bytes / ok.size(), records, bytes / s / 1e6, records / s,
      events / s);
}

}  // namespace

int main(int argc, char** argv) {
  double mb = 200;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--mb") == 0) mb = std::atof(argv[i + 1]);
  }
  Run("canonical", CanonicalCorpus(20000), mb / 4);
  for (const char* s : {"jira", "github", "linear", "slack", "pagerduty", "opsgenie"}) {
    Run(s, VendorCorpus(s), mb);
  }
  return 0;
}
