// Prints normalise throughput on one core, per source: MB/s of vendor JSON and events/s.
// The corpus is every payload of the shared vendor fixtures and of tests/sources/variants that
// normalises without a rejection (with its golden .headers), cycled until --mb megabytes have
// been normalised; canonical uses synthetic records. Each source is measured on all its payloads,
// then (when it has both) on the small (< 2 KiB) and the large ones apart. Rates are per
// CPU-second of the benchmark thread ("per core") and, for reference, per wall second. A
// program, not a test: compare figures from the same run (docs/design.md section 10 asks for
// 1 GB/s per core on large payloads and 1 M events/s per core on small ones).
//   build-release/tests/bench/normalize_bench [--mb 200] [--source slack]... [--class small]
// (--class all|small|large measures only that class: for a profile of one of them).
#include <time.h>

#include <algorithm>
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

// A payload with its headers as the record borrows them.
struct Prepared {
  std::string body;
  std::vector<RecordHeader> headers;
};

// Payloads of 2 KiB and more are "large" (Jira, GitHub and PagerDuty webhooks with their
// embedded objects), the rest "small" (chat messages, alerts, canonical events).
constexpr size_t kLargeBytes = 2048;

// Only the payloads that normalise without a rejection: the benchmark measures the success
// (and ignored) path. Owns the strings the headers point into.
std::vector<Prepared> Normalisable(teamhealth::sources::Source& source,
                                   std::vector<Payload>& corpus) {
  std::vector<Prepared> ok;
  NormalizeResult out;
  for (auto& p : corpus) {
    Prepared prepared{p.body, {}};
    for (const auto& [k, v] : p.headers) prepared.headers.push_back({k, v});
    RawRecord r;
    r.value = prepared.body;
    r.headers = prepared.headers;
    out.Clear();
    source.Normalize(r, out);
    if (!out.rejection) ok.push_back(std::move(prepared));
  }
  return ok;
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Normalises `payloads` round after round until `target_mb` megabytes went through; prints
// rates per CPU-second of this thread (the per-core figure, robust to a busy machine) and per
// wall second.
void Measure(const std::string& name, const char* size_class, teamhealth::sources::Source& source,
             const std::vector<const Prepared*>& payloads, double target_mb) {
  if (payloads.empty()) return;
  size_t corpus_bytes = 0;
  for (const Prepared* p : payloads) corpus_bytes += p->body.size();
  const size_t rounds = std::max<size_t>(1, static_cast<size_t>(target_mb * 1e6 / corpus_bytes));
  NormalizeResult out;
  size_t bytes = 0, events = 0, records = 0;
  const double cpu_start = ThreadCpuSeconds();
  const auto start = std::chrono::steady_clock::now();
  for (size_t round = 0; round < rounds; ++round) {
    for (const Prepared* p : payloads) {
      RawRecord r;
      r.topic = "bench";
      r.value = p->body;
      r.headers = p->headers;
      out.Clear();
      source.Normalize(r, out);
      events += out.events.size();
      bytes += p->body.size();
      ++records;
    }
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = ThreadCpuSeconds() - cpu_start;
  std::printf(
      "%-10s %-5s payloads=%-3zu avg_bytes=%-6zu records=%-8zu cpu_MB_per_s=%-8.1f "
      "cpu_events_per_s=%-9.0f cpu_records_per_s=%-9.0f wall_MB_per_s=%-8.1f cpu_share=%.2f\n",
      name.c_str(), size_class, payloads.size(), corpus_bytes / payloads.size(), records,
      bytes / cpu / 1e6, events / cpu, records / cpu, bytes / wall / 1e6, cpu / wall);
  std::fflush(stdout);
}

std::string only_class;  // --class: empty for every class

void Run(const std::string& name, std::vector<Payload> corpus, double target_mb) {
  auto registry = teamhealth::sources::MakeSourceRegistry();
  auto* source = registry->Find(name);
  const std::vector<Prepared> ok = Normalisable(*source, corpus);
  std::vector<const Prepared*> all, small, large;
  for (const Prepared& p : ok) {
    all.push_back(&p);
    (p.body.size() >= kLargeBytes ? large : small).push_back(&p);
  }
  auto wanted = [](const char* size_class) {
    return only_class.empty() || only_class == size_class;
  };
  if (wanted("all")) Measure(name, "all", *source, all, target_mb);
  if (!small.empty() && !large.empty()) {
    if (wanted("small")) Measure(name, "small", *source, small, target_mb / 2);
    if (wanted("large")) Measure(name, "large", *source, large, target_mb / 2);
  }
}

bool Selected(const std::vector<std::string>& only, const std::string& name) {
  return only.empty() || std::find(only.begin(), only.end(), name) != only.end();
}

}  // namespace

int main(int argc, char** argv) {
  double mb = 200;
  std::vector<std::string> only;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--mb") == 0) mb = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--source") == 0) only.emplace_back(argv[i + 1]);
    if (std::strcmp(argv[i], "--class") == 0) only_class = argv[i + 1];
  }
  if (Selected(only, "canonical")) Run("canonical", CanonicalCorpus(20000), mb / 4);
  for (const char* s : {"jira", "github", "linear", "slack", "pagerduty", "opsgenie"}) {
    if (Selected(only, s)) Run(s, VendorCorpus(s), mb);
  }
  return 0;
}
